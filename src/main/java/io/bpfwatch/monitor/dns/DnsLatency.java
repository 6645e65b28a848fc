package io.bpfwatch.monitor.dns;

import io.prometheus.client.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code bpfwatch_dns_latency_seconds}: query sent to response received, a Prometheus histogram
 * with buckets from 1 ms to 10 s. Counted by the reader thread (one thread at a time, like
 * {@link io.bpfwatch.monitor.OwnedCounter}) with plain adds and opaque stores, and read at scrape
 * time: a Micrometer timer read the clock twice per answer to rotate the windows of its max and
 * its histogram, on the reader's hot path, and atomic adds cost two locked instructions more.
 */
final class DnsLatency extends Collector implements Collector.Describable {
    static final String NAME = "bpfwatch_dns_latency_seconds";
    private static final String HELP = "Time from a DNS query being sent to its response being received";
    private static final long MS = 1_000_000L;
    /** Upper bounds (inclusive), nanoseconds. */
    static final long[] BOUNDS = {MS, 2 * MS, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS,
            1000 * MS, 2500 * MS, 5000 * MS, 10000 * MS};
    private static final List<String> LE = new ArrayList<>();

    static {
        for (long b : BOUNDS) LE.add(Collector.doubleToGoString(b / 1e9));
        LE.add("+Inf");
    }

    // per bucket, not cumulative (the last: above every bound); then the sum of nanoseconds
    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS.length + 2);
    private static final int SUM = BOUNDS.length + 1;

    void record(long nanos) {
        long n = Math.max(0, nanos);
        int i = 0;
        while (i < BOUNDS.length && n > BOUNDS[i]) i++;
        counts.setOpaque(i, counts.getPlain(i) + 1);
        counts.setOpaque(SUM, counts.getPlain(SUM) + n);
    }

    /** Answers counted so far. */
    long count() {
        long c = 0;
        for (int i = 0; i <= BOUNDS.length; i++) c += counts.getOpaque(i);
        return c;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples.Sample> samples = new ArrayList<>(BOUNDS.length + 3);
        long cumulative = 0;
        for (int i = 0; i <= BOUNDS.length; i++) {
            cumulative += counts.getOpaque(i);
            samples.add(new MetricFamilySamples.Sample(NAME + "_bucket", List.of("le"), List.of(LE.get(i)), cumulative));
        }
        // the buckets read, not a count of its own: a scrape racing an answer stays consistent
        samples.add(new MetricFamilySamples.Sample(NAME + "_count", List.of(), List.of(), cumulative));
        samples.add(new MetricFamilySamples.Sample(NAME + "_sum", List.of(), List.of(), counts.getOpaque(SUM) / 1e9));
        return List.of(new MetricFamilySamples(NAME, Type.HISTOGRAM, HELP, samples));
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return List.of(new MetricFamilySamples(NAME, Type.HISTOGRAM, HELP, List.of()));
    }
}
