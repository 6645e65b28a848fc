package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.testkit.Prom;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Printed maps (recorded from bpftrace 0.17) as the series a scrape shows. */
class BpftraceMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Meters meters = new Meters(registry);
    private final BpftraceMetrics metrics = new BpftraceMetrics("opens", meters);

    private void printed(String type, String data) throws Exception {
        Map<String, JsonNode> maps = new LinkedHashMap<>();
        JSON.readTree(data).fields().forEachRemaining(e -> maps.put(e.getKey(), e.getValue()));
        metrics.update(type, maps);
    }

    @Test
    void countsAndSumsAreGaugesByKey() throws Exception {
        metrics.configure("bpfwatch_custom_opens_", 1000);
        printed("map", "{\"@calls\": {\"bash\": 3, \"cat\": 1}, \"@total\": 4, \"@names\": {\"1\": \"bash\"}}");
        String text = registry.scrape();
        assertThat(text).contains("# TYPE bpfwatch_custom_opens_calls gauge\n", "bpfwatch_custom_opens_calls{key=\"bash\",} 3.0",
                "bpfwatch_custom_opens_calls{key=\"cat\",} 1.0", "bpfwatch_custom_opens_total 4.0");
        assertThat(text).as("a map of strings is not a metric").doesNotContain("opens_names");
        printed("map", "{\"@calls\": {\"bash\": 5}}");
        assertThat(registry.scrape()).contains("bpfwatch_custom_opens_calls{key=\"bash\",} 5.0").doesNotContain("key=\"cat\"");
    }

    @Test
    void histogramsHaveTheScriptsBucketsCumulative() throws Exception {
        metrics.configure("p_", 1000);
        printed("hist", "{\"@lat\": [{\"min\": 2, \"max\": 3, \"count\": 1}, {\"min\": 4, \"max\": 7, \"count\": 0},"
                + " {\"min\": 64, \"max\": 127, \"count\": 1}, {\"min\": 1024, \"max\": 2047, \"count\": 2}]}");
        Prom p = new Prom(registry.scrape());
        assertThat(registry.scrape()).contains("# TYPE p_lat histogram\n");
        assertThat(p.get("p_lat_bucket{le=\"3.0\"}")).isEqualTo(1);
        assertThat(p.get("p_lat_bucket{le=\"127.0\"}")).isEqualTo(2);
        assertThat(p.get("p_lat_bucket{le=\"2047.0\"}")).isEqualTo(4);
        assertThat(p.get("p_lat_bucket{le=\"+Inf\"}")).isEqualTo(4);
        assertThat(p.get("p_lat_count")).isEqualTo(4);
        printed("hist", "{\"@bykey\": {\"1\": [{\"min\": 8, \"max\": 15, \"count\": 1}], \"2\": [{\"min\": 512, \"max\": 1023, \"count\": 3}]}}");
        assertThat(new Prom(registry.scrape()).get("p_bykey_count{key=\"2\"}")).isEqualTo(3);
    }

    @Test
    void statsAreSummariesAndAveragesGauges() throws Exception {
        metrics.configure("p_", 1000);
        printed("stats", "{\"@s\": {\"count\": 2, \"average\": 20, \"total\": 40}, \"@avg\": 4}");
        Prom p = new Prom(registry.scrape());
        assertThat(registry.scrape()).contains("# TYPE p_s summary\n", "# TYPE p_avg gauge\n");
        assertThat(p.get("p_s_count")).isEqualTo(2);
        assertThat(p.get("p_s_sum")).isEqualTo(40);
        assertThat(p.get("p_avg")).isEqualTo(4);
    }

    @Test
    void keysPastTheCapAreCountedNotExported() throws Exception {
        metrics.configure("p_", 2);
        printed("map", "{\"@m\": {\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}}");
        Prom p = new Prom(registry.scrape());
        assertThat(registry.scrape()).doesNotContain("key=\"c\"");
        assertThat(p.get("bpfwatch_custom_keys_dropped_total{monitor=\"opens\"}")).isEqualTo(2);
    }

    @Test
    void aRemovedMonitorLeavesNoSeries() throws Exception {
        metrics.configure("p_", 10);
        printed("map", "{\"@m\": 1}");
        assertThat(registry.scrape()).contains("p_m 1.0");
        meters.close();
        assertThat(registry.scrape()).doesNotContain("p_m").doesNotContain("keys_dropped");
    }

    @Test
    void mapNamesBecomeMetricNames() {
        assertThat(BpftraceMetrics.metricName("@syscalls")).isEqualTo("syscalls");
        assertThat(BpftraceMetrics.metricName("@")).isEqualTo("map");
        assertThat(BpftraceMetrics.metricName("@a-b.c")).isEqualTo("a_b_c");
    }
}
