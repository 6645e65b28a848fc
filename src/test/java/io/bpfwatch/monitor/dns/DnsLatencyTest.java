package io.bpfwatch.monitor.dns;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class DnsLatencyTest {
    private static final long MS = 1_000_000L;

    @Test
    void answersFallInTheBucketsTheirLatencyIsAtMostAndTheTextIsAPrometheusHistogram() throws Exception {
        DnsLatency h = new DnsLatency();
        h.record(300_000);        // 0.3 ms
        h.record(MS);             // exactly 1 ms: le="0.001" includes it
        h.record(MS + 1);         // just over: le="0.002"
        h.record(30 * MS);        // le="0.05"
        h.record(10_000 * MS);    // exactly 10 s
        h.record(60_000 * MS);    // over every bound: only +Inf
        h.record(-5);             // a clock that went backwards counts as 0
        assertThat(h.count()).isEqualTo(7);
        CollectorRegistry r = new CollectorRegistry();
        h.register(r);
        StringWriter w = new StringWriter();
        TextFormat.write004(w, r.metricFamilySamples());
        assertThat(w.toString()).contains(
                "# TYPE bpfwatch_dns_latency_seconds histogram\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"0.001\",} 3.0\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"0.002\",} 4.0\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"0.025\",} 4.0\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"0.05\",} 5.0\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"10.0\",} 6.0\n",
                "bpfwatch_dns_latency_seconds_bucket{le=\"+Inf\",} 7.0\n",
                "bpfwatch_dns_latency_seconds_count 7.0\n",
                "bpfwatch_dns_latency_seconds_sum 70.032300001\n");
    }
}
