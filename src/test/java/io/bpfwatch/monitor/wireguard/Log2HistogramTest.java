package io.bpfwatch.monitor.wireguard;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The kernel's log2 slots, read as Prometheus buckets and as interval quantiles. */
class Log2HistogramTest {
    /** Adds samples the way wireguard.bpf.c does. */
    static Log2Histogram of(long... samples) {
        long[] slots = new long[Log2Histogram.SLOTS];
        long sum = 0, max = 0;
        for (long ns : samples) {
            slots[Log2Histogram.slotOf(ns)]++;
            sum += ns;
            max = Math.max(max, ns);
        }
        return new Log2Histogram(slots, samples.length, sum, max);
    }

    @Test
    void aSlotsUpperBoundIsInclusiveLikeAPrometheusLe() {
        assertThat(Log2Histogram.slotOf(0)).isZero();
        assertThat(Log2Histogram.slotOf(1)).isZero();
        assertThat(Log2Histogram.slotOf(2)).isEqualTo(1);
        assertThat(Log2Histogram.slotOf(3)).isEqualTo(2);
        assertThat(Log2Histogram.slotOf(4)).isEqualTo(2);
        assertThat(Log2Histogram.slotOf(5)).isEqualTo(3);
        for (int i = 1; i < Log2Histogram.SLOTS - 1; i++) {
            long bound = 1L << i;
            assertThat(Log2Histogram.slotOf(bound)).as("2^%d ns", i).isEqualTo(i);
            assertThat(Log2Histogram.slotOf(bound + 1)).as("2^%d+1 ns", i).isEqualTo(i + 1);
            assertThat(Log2Histogram.upperBoundNanos(i)).isEqualTo((double) bound);
        }
        // above 2^30 ns everything shares the last slot, which has no finite bound
        assertThat(Log2Histogram.slotOf((1L << 30) + 1)).isEqualTo(31);
        assertThat(Log2Histogram.slotOf(Long.MAX_VALUE)).isEqualTo(31);
        assertThat(Log2Histogram.upperBoundNanos(31)).isInfinite();
    }

    @Test
    void cumulativeCountsAreWhatEachLeBucketHolds() {
        Log2Histogram h = of(300, 512, 513, 1000, 5000, 2_000_000_000L);
        assertThat(h.cumulative(8)).as("<= 256 ns").isZero();
        assertThat(h.cumulative(9)).as("<= 512 ns").isEqualTo(2);
        assertThat(h.cumulative(10)).as("<= 1024 ns").isEqualTo(4);
        assertThat(h.cumulative(13)).as("<= 8192 ns").isEqualTo(5);
        assertThat(h.cumulative(30)).as("<= 2^30 ns").isEqualTo(5);
        assertThat(h.cumulative(31)).isEqualTo(6).isEqualTo(h.count());
    }

    @Test
    void quantilesInterpolateInsideTheirSlotAndNeverExceedTheMax() {
        // 100 samples in (512, 1024] ns: the median is halfway through that slot
        long[] slots = new long[Log2Histogram.SLOTS];
        slots[10] = 100;
        Log2Histogram h = new Log2Histogram(slots, 100, 70_000, 1024);
        assertThat(h.quantileNanos(0.5)).isCloseTo(768.0, within(1e-9));
        assertThat(h.quantileNanos(0.99)).isCloseTo(512 + 512 * 0.99, within(1e-9));
        // with the exact max known, the estimate stays below it
        long[] same = new long[100];
        java.util.Arrays.fill(same, 700);
        assertThat(of(same).quantileNanos(0.99)).isEqualTo(700.0);

        Log2Histogram mixed = of(100, 100, 100, 100, 100, 100, 100, 100, 100, 50_000);
        assertThat(mixed.quantileNanos(0.5)).isBetween(64.0, 128.0);
        assertThat(mixed.quantileNanos(0.99)).isBetween(32768.0, 50_000.0);
        assertThat(Log2Histogram.EMPTY.quantileNanos(0.5)).isNaN();
        // the open last slot is bounded by the max
        assertThat(of(3_000_000_000L).quantileNanos(0.5)).isBetween((double) (1L << 30), 3e9);
    }

    @Test
    void aMaxTheSlotsContradictIsRaisedToWhatTheyProve() {
        // a sample of ~900 us fell between the read and the interval's move: in the slots, not in the max
        long[] slots = new long[Log2Histogram.SLOTS];
        slots[Log2Histogram.slotOf(100_000)] = 90;
        slots[Log2Histogram.slotOf(900_000)] = 10;
        Log2Histogram h = new Log2Histogram(slots, 100, 18_000_000, 238_201);
        assertThat(h.maxNanos()).as("what the kernel kept").isEqualTo(238_201);
        assertThat(h.intervalMaxNanos()).isEqualTo((1L << 19) + 1); // 900 us is in (2^19, 2^20] ns
        assertThat(h.quantileNanos(0.5)).isLessThanOrEqualTo(h.quantileNanos(0.99));
        assertThat(h.quantileNanos(0.99)).isLessThanOrEqualTo(h.intervalMaxNanos());
        // an unknown max (0) likewise
        assertThat(new Log2Histogram(slots, 100, 18_000_000, 0).intervalMaxNanos()).isEqualTo((1L << 19) + 1);
        // a max the slots agree with is kept as it is
        assertThat(new Log2Histogram(slots, 100, 18_000_000, 900_000).intervalMaxNanos()).isEqualTo(900_000);
        assertThat(Log2Histogram.EMPTY.intervalMaxNanos()).isZero();
    }

    @Test
    void anIntervalIsTheDifferenceOfTwoReadsAndARecreatedEntryStartsOver() {
        Log2Histogram before = of(300, 700);
        Log2Histogram after = before.plus(of(700, 5000));
        Log2Histogram d = after.since(before);
        assertThat(d.count()).isEqualTo(2);
        assertThat(d.sumNanos()).isEqualTo(5700);
        assertThat(d.cumulative(10)).isEqualTo(1);
        assertThat(d.cumulative(13)).isEqualTo(2);
        assertThat(after.since(null)).isEqualTo(after);
        Log2Histogram recreated = of(900);
        assertThat(recreated.since(after)).isEqualTo(recreated);
    }
}
