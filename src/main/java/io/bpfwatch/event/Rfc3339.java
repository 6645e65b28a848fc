package io.bpfwatch.event;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Formats epoch nanoseconds as RFC 3339 UTC with nine fraction digits
 * ("2026-11-24T23:06:47.123456789Z") into a reused char buffer. The date-time part is
 * cached per second, so most calls only write the fraction.
 */
public final class Rfc3339 {
    public static final int LENGTH = 30;
    private final char[] buf = new char[LENGTH];
    private long cachedSecond = Long.MIN_VALUE;

    /** Fills and returns the internal buffer (valid until the next call). */
    public char[] format(long epochNanos) {
        long second = Math.floorDiv(epochNanos, 1_000_000_000L);
        int nano = (int) Math.floorMod(epochNanos, 1_000_000_000L);
        if (second != cachedSecond) {
            LocalDateTime t = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
            put4(0, t.getYear());
            buf[4] = '-';
            put2(5, t.getMonthValue());
            buf[7] = '-';
            put2(8, t.getDayOfMonth());
            buf[10] = 'T';
            put2(11, t.getHour());
            buf[13] = ':';
            put2(14, t.getMinute());
            buf[16] = ':';
            put2(17, t.getSecond());
            buf[19] = '.';
            buf[29] = 'Z';
            cachedSecond = second;
        }
        for (int i = 28; i >= 20; i--) {
            buf[i] = (char) ('0' + nano % 10);
            nano /= 10;
        }
        return buf;
    }

    public String toString(long epochNanos) {
        return new String(format(epochNanos));
    }

    private void put2(int at, int v) {
        buf[at] = (char) ('0' + v / 10);
        buf[at + 1] = (char) ('0' + v % 10);
    }

    private void put4(int at, int v) {
        put2(at, v / 100);
        put2(at + 2, v % 100);
    }
}
