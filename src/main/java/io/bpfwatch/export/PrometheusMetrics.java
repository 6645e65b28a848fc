package io.bpfwatch.export;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableDoublePointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableGaugeData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableMetricData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSumData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What /metrics shows, as OTLP metrics: the same registry read the same way a scrape reads it,
 * so both carry the same series (Micrometer's meters and the collectors computed at scrape time,
 * the wireguard histograms and custom monitors' maps among them). Counters become cumulative
 * monotonic sums named without {@code _total} (a Prometheus exporter downstream adds it back),
 * histograms explicit-bucket histograms with the same bounds, summaries summaries, the rest
 * gauges. Labels become attributes.
 */
final class PrometheusMetrics {
    private PrometheusMetrics() {}

    static List<MetricData> convert(Enumeration<MetricFamilySamples> families, Resource resource, InstrumentationScopeInfo scope,
                                    long startNanos, long nowNanos) {
        List<MetricData> out = new ArrayList<>();
        for (MetricFamilySamples f : Collections.list(families)) {
            MetricData m = family(f, resource, scope, startNanos, nowNanos);
            if (m != null) out.add(m);
        }
        return out;
    }

    private static String unit(String name) {
        if (name.endsWith("_seconds")) return "s";
        if (name.endsWith("_bytes")) return "By";
        return "";
    }

    static MetricData family(MetricFamilySamples f, Resource resource, InstrumentationScopeInfo scope, long start, long now) {
        String help = f.help == null ? "" : f.help;
        switch (f.type) {
            case COUNTER: {
                List<DoublePointData> points = new ArrayList<>();
                for (Sample s : f.samples) {
                    if (s.name.endsWith("_created")) continue;
                    points.add(ImmutableDoublePointData.create(start, now, attributes(s, null), s.value));
                }
                return points.isEmpty() ? null : ImmutableMetricData.createDoubleSum(resource, scope, f.name, help, unit(f.name),
                        ImmutableSumData.create(true, AggregationTemporality.CUMULATIVE, points));
            }
            case HISTOGRAM:
                return histogram(f, resource, scope, start, now, help);
            case SUMMARY: {
                Map<Attributes, double[]> countSum = new LinkedHashMap<>();
                Map<Attributes, List<ValueAtQuantile>> quantiles = new LinkedHashMap<>();
                for (Sample s : f.samples) {
                    Attributes key = attributes(s, "quantile");
                    if (s.name.equals(f.name + "_count")) countSum.computeIfAbsent(key, k -> new double[2])[0] = s.value;
                    else if (s.name.equals(f.name + "_sum")) countSum.computeIfAbsent(key, k -> new double[2])[1] = s.value;
                    else if (s.name.equals(f.name)) {
                        String q = label(s, "quantile");
                        if (q != null) quantiles.computeIfAbsent(key, k -> new ArrayList<>())
                                .add(ImmutableValueAtQuantile.create(Double.parseDouble(q), s.value));
                    }
                }
                List<SummaryPointData> points = new ArrayList<>();
                for (Map.Entry<Attributes, double[]> e : countSum.entrySet()) {
                    points.add(ImmutableSummaryPointData.create(start, now, e.getKey(), (long) e.getValue()[0], e.getValue()[1],
                            quantiles.getOrDefault(e.getKey(), List.of())));
                }
                return points.isEmpty() ? null : ImmutableMetricData.createDoubleSummary(resource, scope, f.name, help, unit(f.name),
                        ImmutableSummaryData.create(points));
            }
            default: {
                // gauges, info, state sets, untyped: the value as it is now
                List<DoublePointData> points = new ArrayList<>();
                for (Sample s : f.samples) {
                    if (s.name.endsWith("_created")) continue;
                    points.add(ImmutableDoublePointData.create(start, now, attributes(s, null), s.value));
                }
                String name = f.type == Collector.Type.INFO && !f.name.endsWith("_info") ? f.name + "_info" : f.name;
                return points.isEmpty() ? null : ImmutableMetricData.createDoubleGauge(resource, scope, name, help, unit(f.name),
                        ImmutableGaugeData.create(points));
            }
        }
    }

    private static MetricData histogram(MetricFamilySamples f, Resource resource, InstrumentationScopeInfo scope, long start, long now, String help) {
        Map<Attributes, TreeMap<Double, Double>> buckets = new LinkedHashMap<>();
        Map<Attributes, double[]> countSum = new LinkedHashMap<>();
        for (Sample s : f.samples) {
            Attributes key = attributes(s, "le");
            if (s.name.equals(f.name + "_bucket")) {
                String le = label(s, "le");
                if (le == null) continue;
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                buckets.computeIfAbsent(key, k -> new TreeMap<>()).put(bound, s.value);
            } else if (s.name.equals(f.name + "_count")) {
                countSum.computeIfAbsent(key, k -> new double[2])[0] = s.value;
            } else if (s.name.equals(f.name + "_sum")) {
                countSum.computeIfAbsent(key, k -> new double[2])[1] = s.value;
            }
        }
        List<HistogramPointData> points = new ArrayList<>();
        for (Map.Entry<Attributes, TreeMap<Double, Double>> e : buckets.entrySet()) {
            // Prometheus buckets are cumulative (le); OTLP's count what falls in each
            List<Double> bounds = new ArrayList<>();
            List<Long> counts = new ArrayList<>();
            double below = 0;
            for (Map.Entry<Double, Double> b : e.getValue().entrySet()) {
                if (!Double.isInfinite(b.getKey())) bounds.add(b.getKey());
                counts.add((long) Math.max(0, b.getValue() - below));
                below = Math.max(below, b.getValue());
            }
            double[] cs = countSum.getOrDefault(e.getKey(), new double[] {below, 0});
            if (!e.getValue().containsKey(Double.POSITIVE_INFINITY)) counts.add((long) Math.max(0, cs[0] - below));
            points.add(ImmutableHistogramPointData.create(start, now, e.getKey(), cs[1], false, 0, false, 0, bounds, counts));
        }
        return points.isEmpty() ? null : ImmutableMetricData.createDoubleHistogram(resource, scope, f.name, help, unit(f.name),
                ImmutableHistogramData.create(AggregationTemporality.CUMULATIVE, points));
    }

    private static String label(Sample s, String name) {
        int i = s.labelNames.indexOf(name);
        return i < 0 ? null : s.labelValues.get(i);
    }

    private static Attributes attributes(Sample s, String except) {
        if (s.labelNames.isEmpty()) return Attributes.empty();
        AttributesBuilder b = Attributes.builder();
        for (int i = 0; i < s.labelNames.size(); i++) {
            if (s.labelNames.get(i).equals(except)) continue;
            b.put(s.labelNames.get(i), s.labelValues.get(i));
        }
        return b.build();
    }
}
