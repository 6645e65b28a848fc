package io.bpfwatch.export;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import io.prometheus.client.Summary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry /metrics shows, read as OTLP metrics: every kind of family, its labels and values. */
class PrometheusMetricsTest {
    private final CollectorRegistry registry = new CollectorRegistry();

    private Map<String, MetricData> convert() {
        return PrometheusMetrics.convert(registry.metricFamilySamples(), Resource.empty(), OtlpExport.SCOPE, 1, 2).stream()
                .collect(Collectors.toMap(MetricData::getName, Function.identity()));
    }

    @Test
    void countersAreCumulativeMonotonicSumsWithTheirLabels() {
        Counter c = Counter.build("bpfwatch_events_total", "Events").labelNames("monitor").register(registry);
        c.labels("tcp").inc(5);
        c.labels("dns").inc(2);
        MetricData m = convert().get("bpfwatch_events");
        assertThat(m.getType()).isEqualTo(MetricDataType.DOUBLE_SUM);
        assertThat(m.getDoubleSumData().isMonotonic()).isTrue();
        assertThat(m.getDescription()).isEqualTo("Events");
        assertThat(m.getDoubleSumData().getPoints()).hasSize(2).allSatisfy(p -> {
            assertThat(p.getStartEpochNanos()).isEqualTo(1);
            assertThat(p.getEpochNanos()).isEqualTo(2);
        });
        Map<String, Double> byMonitor = m.getDoubleSumData().getPoints().stream()
                .collect(Collectors.toMap(p -> p.getAttributes().get(AttributeKey.stringKey("monitor")), p -> p.getValue()));
        assertThat(byMonitor).isEqualTo(Map.of("tcp", 5.0, "dns", 2.0));
    }

    @Test
    void gaugesKeepTheirValueAndSecondsGetAUnit() {
        Gauge.build("bpfwatch_monitor_up", "Up").labelNames("monitor").register(registry).labels("tcp").set(1);
        Gauge.build("bpfwatch_stop_seconds", "Time").register(registry).set(0.25);
        Map<String, MetricData> ms = convert();
        assertThat(ms.get("bpfwatch_monitor_up").getType()).isEqualTo(MetricDataType.DOUBLE_GAUGE);
        assertThat(ms.get("bpfwatch_monitor_up").getDoubleGaugeData().getPoints()).singleElement()
                .satisfies(p -> assertThat(p.getValue()).isEqualTo(1.0));
        assertThat(ms.get("bpfwatch_stop_seconds").getUnit()).isEqualTo("s");
    }

    @Test
    void histogramBucketsBecomePerBucketCountsWithTheSameBounds() {
        Histogram h = Histogram.build("bpfwatch_wireguard_encrypt_seconds", "Latency").labelNames("peer")
                .buckets(0.001, 0.01, 0.1).register(registry);
        h.labels("a").observe(0.0005);
        h.labels("a").observe(0.005);
        h.labels("a").observe(0.005);
        h.labels("a").observe(5);
        MetricData m = convert().get("bpfwatch_wireguard_encrypt_seconds");
        assertThat(m.getType()).isEqualTo(MetricDataType.HISTOGRAM);
        HistogramPointData p = m.getHistogramData().getPoints().iterator().next();
        assertThat(p.getAttributes()).isEqualTo(Attributes.of(AttributeKey.stringKey("peer"), "a"));
        assertThat(p.getBoundaries()).containsExactly(0.001, 0.01, 0.1);
        assertThat(p.getCounts()).containsExactly(1L, 2L, 0L, 1L);
        assertThat(p.getCount()).isEqualTo(4);
        assertThat(p.getSum()).isCloseTo(5.0105, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void summariesKeepCountSumAndQuantiles() {
        Summary s = Summary.build("bpfwatch_reload_seconds", "Reloads").quantile(0.5, 0.01).register(registry);
        s.observe(1);
        s.observe(3);
        MetricData m = convert().get("bpfwatch_reload_seconds");
        assertThat(m.getType()).isEqualTo(MetricDataType.SUMMARY);
        SummaryPointData p = m.getSummaryData().getPoints().iterator().next();
        assertThat(p.getCount()).isEqualTo(2);
        assertThat(p.getSum()).isEqualTo(4.0);
        assertThat(p.getValues()).singleElement().satisfies(q -> assertThat(q.getQuantile()).isEqualTo(0.5));
    }

    @Test
    void anEmptyRegistryGivesNothing() {
        assertThat(PrometheusMetrics.convert(registry.metricFamilySamples(), Resource.empty(), OtlpExport.SCOPE, 1, 2)).isEqualTo(List.of());
    }
}
