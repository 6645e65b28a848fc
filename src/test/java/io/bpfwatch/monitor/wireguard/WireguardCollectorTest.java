package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.monitor.Meters;
import io.bpfwatch.testkit.Prom;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel's histograms as Prometheus text: one collector under Micrometer's Prometheus
 * registry (found behind a composite registry too, as Quarkus sets it up), real histogram
 * families with cumulative le buckets, +Inf equal to _count, _sum in seconds, labels escaped.
 */
class WireguardCollectorTest {
    static final String KEY_A = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    static final String KEY_B = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

    static PeerStats peer(String iface, String peer, Log2Histogram enc, Log2Histogram dec) {
        return new PeerStats(iface, peer, "192.0.2.2:51820", enc, dec, 12_345, 17, 6_789, 13);
    }

    static WireguardCollector.Snapshot sample() {
        return new WireguardCollector.Snapshot(List.of(
                peer("wg0", KEY_A, Log2HistogramTest.of(100, 300, 700, 700, 5000, 3_000_000_000L), Log2HistogramTest.of(900)),
                peer("wg\"x\\1", KEY_B, Log2Histogram.EMPTY, Log2HistogramTest.of(600, 70_000_000)),
                peer("wg0", PeerStats.OTHER, Log2HistogramTest.of(2000), Log2Histogram.EMPTY)), 3);
    }

    @Test
    void histogramsAreRealPrometheusHistograms() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CompositeMeterRegistry composite = new CompositeMeterRegistry();
        composite.add(prometheus);
        Meters meters = new Meters(composite);
        WireguardCollector c = WireguardCollector.register(meters);
        assertThat(c).as("found the Prometheus registry beneath the composite").isNotNull();
        WireguardCollector.Source source = WireguardCollectorTest::sample;
        c.attach(source);
        String text = prometheus.scrape();

        assertThat(text).contains("# TYPE bpfwatch_wireguard_encrypt_seconds histogram\n",
                "# TYPE bpfwatch_wireguard_decrypt_seconds histogram\n",
                "# TYPE bpfwatch_wireguard_transfer_bytes_total counter\n",
                "# TYPE bpfwatch_wireguard_packets_total counter\n",
                "# TYPE bpfwatch_wireguard_peers gauge\n");
        Prom m = new Prom(text);
        String a = "interface=\"wg0\",peer=\"" + KEY_A + "\"";
        List<Double> les = new ArrayList<>();
        List<Double> counts = new ArrayList<>();
        Matcher bucket = Pattern.compile("bpfwatch_wireguard_encrypt_seconds_bucket\\{interface=\"wg0\",peer=\"" + Pattern.quote(KEY_A)
                + "\",le=\"([^\"]+)\",?} (\\S+)").matcher(text);
        while (bucket.find()) {
            les.add(bucket.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bucket.group(1)));
            counts.add(Double.parseDouble(bucket.group(2)));
        }
        assertThat(les).hasSize(WireguardCollector.LAST_BUCKET - WireguardCollector.FIRST_BUCKET + 2);
        assertThat(les.get(0)).isEqualTo(256e-9);
        assertThat(les.get(les.size() - 2)).isEqualTo(Math.scalb(1.0, 26) / 1e9);
        assertThat(les).isSorted().last().isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(counts).isSorted();
        assertThat(counts.get(0)).as("<= 256 ns").isEqualTo(1);
        assertThat(counts.get(2)).as("<= 1024 ns").isEqualTo(4);
        assertThat(counts.get(counts.size() - 2)).as("<= 67 ms").isEqualTo(5);
        assertThat(counts.get(counts.size() - 1)).as("+Inf").isEqualTo(6);
        assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_count{" + a + "}")).isEqualTo(6);
        assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_sum{" + a + "}")).isEqualTo((100 + 300 + 700 + 700 + 5000 + 3_000_000_000L) / 1e9);
        assertThat(m.get("bpfwatch_wireguard_transfer_bytes_total{" + a + ",direction=\"sent\"}")).isEqualTo(12_345);
        assertThat(m.get("bpfwatch_wireguard_packets_total{" + a + ",direction=\"received\"}")).isEqualTo(13);
        assertThat(m.get("bpfwatch_wireguard_decrypt_seconds_count{interface=\"wg0\",peer=\"other\"}")).isZero();
        assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_count{interface=\"wg0\",peer=\"other\"}")).isEqualTo(1);
        assertThat(m.get("bpfwatch_wireguard_peers")).as("other is not a peer").isEqualTo(2);
        assertThat(m.get("bpfwatch_wireguard_dropped_samples_total")).isEqualTo(3);
        // an interface name is not trusted text: quotes and backslashes are escaped
        assertThat(text).contains("bpfwatch_wireguard_decrypt_seconds_count{interface=\"wg\\\"x\\\\1\",peer=\"" + KEY_B + "\",} 2.0");

        c.detach(source);
        assertThat(prometheus.scrape()).doesNotContain("bpfwatch_wireguard");
    }

    @Test
    void aScrapeThatCannotReadTheMapsShowsNoWireguardSeriesAndTheRestStays() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        prometheus.counter("bpfwatch.other").increment();
        WireguardCollector c = WireguardCollector.register(new Meters(prometheus));
        c.attach(() -> {
            throw new IllegalStateException("map closed");
        });
        String text = prometheus.scrape();
        assertThat(text).doesNotContain("bpfwatch_wireguard").contains("bpfwatch_other_total 1.0");
    }
}
