package io.bpfwatch.monitor.wireguard;

import java.util.Arrays;

/**
 * A latency histogram as the kernel side keeps it (monitors/wireguard/wireguard.h): slot 0
 * holds 0..1 ns, slot i holds (2^(i-1), 2^i] ns, and the last slot everything above
 * 2^(SLOTS-2) ns. The upper bound of slot i, 2^i ns, is inclusive, exactly like a Prometheus
 * bucket's {@code le}, so the cumulative count up to slot i is the bucket {@code le=2^i ns}.
 * {@code maxNanos} is the largest sample of the interval being summarized (0 if unknown).
 */
public final class Log2Histogram {
    public static final int SLOTS = 32;
    public static final Log2Histogram EMPTY = new Log2Histogram(new long[SLOTS], 0, 0, 0);

    private final long[] slots;
    private final long count;
    private final long sumNanos;
    private final long maxNanos;

    public Log2Histogram(long[] slots, long count, long sumNanos, long maxNanos) {
        if (slots.length != SLOTS) throw new IllegalArgumentException(slots.length + " slots, not " + SLOTS);
        this.slots = slots.clone();
        this.count = count;
        this.sumNanos = sumNanos;
        this.maxNanos = maxNanos;
    }

    /** The slot a sample of {@code ns} falls in, as the kernel computes it: ceil(log2(ns)), capped. */
    public static int slotOf(long ns) {
        if (ns <= 1) return 0;
        int s = 64 - Long.numberOfLeadingZeros(ns - 1);
        return Math.min(s, SLOTS - 1);
    }

    /** The inclusive upper bound of a slot in nanoseconds; the last slot has none. */
    public static double upperBoundNanos(int slot) {
        return slot >= SLOTS - 1 ? Double.POSITIVE_INFINITY : Math.scalb(1.0, slot);
    }

    public long slot(int i) {
        return slots[i];
    }

    public long count() {
        return count;
    }

    public long sumNanos() {
        return sumNanos;
    }

    public long maxNanos() {
        return maxNanos;
    }

    /**
     * The largest sample of an interval's histogram ({@link #since}): the kernel's max, never
     * below what the slots prove (a sample in slot i was more than 2^(i-1) ns). The kernel keeps
     * its max per interval number, which the daemon moves on right after it reads the table; a
     * sample that falls between the read and the move is in the next interval's slots but not in
     * its max, and a slow machine widens that gap. Exact whenever the kernel's max covers the
     * slots; 0 without samples.
     */
    public long intervalMaxNanos() {
        for (int i = SLOTS - 1; i > 0; i--) {
            if (slots[i] > 0) return Math.max(maxNanos, (1L << (i - 1)) + 1);
        }
        return maxNanos;
    }

    /** Samples of at most 2^slot ns. */
    public long cumulative(int slot) {
        long n = 0;
        for (int i = 0; i <= slot && i < SLOTS; i++) n += slots[i];
        return n;
    }

    /** Both together (CPUs of one peer, or peers under one label set); the larger max. */
    public Log2Histogram plus(Log2Histogram o) {
        long[] s = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) s[i] = slots[i] + o.slots[i];
        return new Log2Histogram(s, count + o.count, sumNanos + o.sumNanos, Math.max(maxNanos, o.maxNanos));
    }

    /**
     * What was added since {@code earlier}, keeping this one's max (the interval's). A count that
     * went down means the kernel's entry was recreated (peer removed and added again): then
     * everything here is new.
     */
    public Log2Histogram since(Log2Histogram earlier) {
        if (earlier == null || count < earlier.count) return this;
        long[] s = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            if (slots[i] < earlier.slots[i]) return this;
            s[i] = slots[i] - earlier.slots[i];
        }
        return new Log2Histogram(s, count - earlier.count, sumNanos - earlier.sumNanos, maxNanos);
    }

    /**
     * The q-quantile of an interval's histogram in nanoseconds, interpolated linearly inside its
     * slot as Prometheus's histogram_quantile() does with the exported buckets, and never above
     * {@link #intervalMaxNanos}. NaN without samples.
     */
    public double quantileNanos(double q) {
        if (count <= 0) return Double.NaN;
        long maxNanos = intervalMaxNanos();
        double rank = Math.max(0, Math.min(1, q)) * count;
        long below = 0;
        for (int i = 0; i < SLOTS; i++) {
            long in = slots[i];
            if (in > 0 && below + in >= rank) {
                double lower = i == 0 ? 0 : Math.scalb(1.0, i - 1);
                double upper = i == SLOTS - 1 ? Math.max(lower, maxNanos) : Math.scalb(1.0, i);
                double v = lower + (upper - lower) * ((rank - below) / in);
                return maxNanos > 0 && maxNanos >= lower ? Math.min(v, maxNanos) : v;
            }
            below += in;
        }
        return maxNanos > 0 ? maxNanos : Double.NaN; // slots and count disagree: a torn read
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Log2Histogram h && count == h.count && sumNanos == h.sumNanos && maxNanos == h.maxNanos
                && Arrays.equals(slots, h.slots);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(slots) * 31 + Long.hashCode(count);
    }

    @Override
    public String toString() {
        return "Log2Histogram{count=" + count + ", sum=" + sumNanos + "ns, max=" + maxNanos + "ns, slots=" + Arrays.toString(slots) + "}";
    }
}
