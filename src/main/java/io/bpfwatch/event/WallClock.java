package io.bpfwatch.event;

import java.time.Instant;

/**
 * Turns the kernel's CLOCK_MONOTONIC timestamps (bpf_ktime_get_ns) into wall-clock time.
 * On Linux System.nanoTime() reads the same clock, so the offset is one subtraction; it is
 * re-sampled so NTP steps reach the logs within a second. The timestamps themselves say when
 * a second has passed: converting one reads no clock (events arrive within milliseconds of
 * their timestamp, so they stand in for "now").
 */
public final class WallClock {
    private static volatile long offset = sample();
    private static volatile long sampledAt = System.nanoTime();

    private WallClock() {}

    private static long sample() {
        long before = System.nanoTime();
        Instant now = Instant.now();
        long after = System.nanoTime();
        long wall = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        return wall - (before + (after - before) / 2);
    }

    /** Epoch nanoseconds for a monotonic timestamp. */
    public static long toEpochNanos(long monotonicNanos) {
        if (monotonicNanos - sampledAt > 1_000_000_000L) {
            sampledAt = System.nanoTime();
            offset = sample();
        }
        return monotonicNanos + offset;
    }
}
