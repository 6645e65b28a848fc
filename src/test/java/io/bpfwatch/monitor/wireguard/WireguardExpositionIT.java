package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.testkit.Skip;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.testkit.Cmd;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wireguard histograms through Prometheus's own promtool: the exposition passes `promtool
 * check metrics`, and PromQL's histogram_quantile() over the scraped buckets lands where the
 * kernel's samples are (`promtool test rules` evaluates it on the series exactly as scraped).
 */
class WireguardExpositionIT {
    private static final String KEY = WireguardCollectorTest.KEY_A;

    static Path promtool() {
        Path p = Path.of(System.getProperty("bpfwatch.promtool", "target/test-cache/promtool/promtool")).toAbsolutePath();
        if (Files.isExecutable(p)) return p;
        String why = "no promtool at " + p + " (`make test` unpacks it from Debian's prometheus package)";
        throw Skip.because(why);
    }

    private static String scrape(WireguardCollector.Snapshot snap) {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WireguardCollector.register(new Meters(r)).attach(() -> snap);
        return r.scrape();
    }

    @Test
    void promtoolCheckMetricsAcceptsTheExposition() {
        String text = scrape(WireguardCollectorTest.sample());
        assertThat(text).contains("_bucket{");
        Cmd.Result r = Cmd.run(Duration.ofSeconds(30), null, text.getBytes(StandardCharsets.UTF_8),
                List.of(promtool().toString(), "check", "metrics"));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out() + r.err()).as("lint findings").isBlank();
    }

    @Test
    void histogramQuantileOverTheScrapedBucketsFindsTheSamples(@TempDir Path dir) throws Exception {
        // 100 encryptions of 700 ns: all in (512 ns, 1024 ns]; 100 decryptions, 98 of 3 us and 2 of 40 us
        long[] enc = new long[100];
        java.util.Arrays.fill(enc, 700);
        long[] dec = new long[100];
        java.util.Arrays.fill(dec, 3000);
        dec[10] = 40_000;
        dec[20] = 40_000;
        String text = scrape(new WireguardCollector.Snapshot(List.of(WireguardCollectorTest.peer("wg0", KEY,
                Log2HistogramTest.of(enc), Log2HistogramTest.of(dec))), 0));

        StringBuilder series = new StringBuilder();
        for (String line : text.split("\n")) {
            if (!line.contains("_seconds_bucket{")) continue;
            int sp = line.lastIndexOf(' ');
            String name = line.substring(0, sp).replace(",}", "}");
            String v = line.substring(sp + 1);
            series.append("      - series: '").append(name).append("'\n        values: '").append(v).append(' ').append(v).append("'\n");
        }
        // PromQL interpolates linearly inside the bucket holding the rank: lower + (upper - lower) * (rank / in bucket)
        double encMedian = 512e-9 + (1024e-9 - 512e-9) * (50.0 / 100.0);
        double decP99 = 32768e-9 + (65536e-9 - 32768e-9) * ((99.0 - 98.0) / 2.0);
        String labels = "'{interface=\"wg0\",peer=\"" + KEY + "\"}'";
        String test = "evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n" + series
                + "    promql_expr_test:\n"
                + "      - expr: histogram_quantile(0.5, bpfwatch_wireguard_encrypt_seconds_bucket)\n        eval_time: 1m\n"
                + "        exp_samples:\n          - labels: " + labels + "\n            value: " + encMedian + "\n"
                + "      - expr: histogram_quantile(0.99, bpfwatch_wireguard_decrypt_seconds_bucket)\n        eval_time: 1m\n"
                + "        exp_samples:\n          - labels: " + labels + "\n            value: " + decP99 + "\n";
        Files.writeString(dir.resolve("quantiles.test.yml"), test);
        Cmd.Result r = Cmd.run(Duration.ofSeconds(30), dir, null, List.of(promtool().toString(), "test", "rules", "quantiles.test.yml"));
        assertThat(r.exit()).as(test + "\n" + r.out() + r.err()).isZero();
        assertThat(r.out()).contains("SUCCESS");
    }
}
