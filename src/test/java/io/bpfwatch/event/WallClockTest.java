package io.bpfwatch.event;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class WallClockTest {
    private static long wallNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    @Test
    void aMonotonicTimestampBecomesTheWallClockTimeItWasTaken() {
        long epoch = WallClock.toEpochNanos(System.nanoTime());
        assertThat(epoch).isCloseTo(wallNanos(), within(50_000_000L));
    }

    @Test
    void differencesBetweenTimestampsAreKeptAcrossResampling() {
        long t0 = System.nanoTime();
        long a = WallClock.toEpochNanos(t0);
        // a timestamp two seconds on makes the converter resample its offset; the offset of two
        // reads of the same clock pair differs only by how long sampling took
        long b = WallClock.toEpochNanos(t0 + 2_000_000_000L);
        assertThat(b - a).isCloseTo(2_000_000_000L, within(5_000_000L));
        assertThat(WallClock.toEpochNanos(t0)).isCloseTo(a, within(5_000_000L));
    }
}
