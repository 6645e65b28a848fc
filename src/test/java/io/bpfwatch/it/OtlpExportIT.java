package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.OtlpReceiver;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresBpftrace;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.bpfwatch.it.DaemonIT.awaitLine;
import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.get;
import static io.bpfwatch.it.DaemonIT.launcher;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * export.otlp against a real OTLP receiver (the official protos over grpc-java and over HTTP)
 * and the packaged daemon: real connects arrive as log records with the file line's fields and
 * body, the metrics arrive beside /metrics; a collector that goes away and comes back gets every
 * event it missed, in order; one that stays away loses exactly what is counted; a reload moves
 * the export to another collector while the file goes on.
 */
@RequiresBpf
class OtlpExportIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> started = new ArrayList<>();
    private final List<OtlpReceiver> receivers = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        for (OtlpReceiver r : receivers) r.close();
    }

    private OtlpReceiver receiver(OtlpReceiver.Protocol protocol) throws Exception {
        OtlpReceiver r = new OtlpReceiver(protocol, freePort());
        receivers.add(r);
        return r;
    }

    private Process daemon(Path dir, int port, String monitors, String export) throws Exception {
        return daemon(dir, port, monitors, export, "");
    }

    /** {@code javaOpts}: BPFWATCH_JAVA_OPTS for this daemon (after the launcher's own flags). */
    private Process daemon(Path dir, int port, String monitors, String export, String javaOpts) throws Exception {
        Path config = DaemonIT.config(dir, port, monitors);
        Files.writeString(config, Files.readString(config) + export);
        Path output = dir.resolve("daemon.out");
        ProcessBuilder pb = new ProcessBuilder(launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        if (!javaOpts.isEmpty()) pb.environment().put("BPFWATCH_JAVA_OPTS", javaOpts);
        Process p = pb.start();
        started.add(p);
        awaitReady(port, p, output);
        return p;
    }

    private static List<String> linesOf(Path log, long pid) throws Exception {
        return Files.readAllLines(log).stream().filter(l -> l.contains("\"pid\":" + pid + ",")).toList();
    }

    private static List<OtlpReceiver.Log> recordsOf(OtlpReceiver r, long pid) {
        return r.logs().stream().filter(l -> Long.valueOf(pid).equals(l.attributes().get("pid"))).toList();
    }

    private static double metric(int port, String series) throws Exception {
        return new Prom(get(port, "/metrics").body()).get(series);
    }

    private static void awaitMetricAtLeast(int port, String series, double min) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (metric(port, series) < min) {
            assertThat(System.nanoTime()).as("%s reaches %s", series, min).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    void connectsArriveAsLogRecordsWithTheFileLinesFieldsAndMetricsBesideThem(@TempDir Path dir) throws Exception {
        OtlpReceiver collector = receiver(OtlpReceiver.Protocol.HTTP).start();
        int port = freePort();
        daemon(dir, port, "  tcp: { alert: { ports: [4444] } }\n", "export:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n"
                + "    headers: { Authorization: \"Bearer s3cret\" }\n    metrics-interval: 1s\n"
                + "    resource: { deployment.environment: test }\n");
        Process daemon = started.get(0);
        Process c = Connector.run("connect", "127.0.0.1:4444", "127.0.0.1:5555");
        Path log = dir.resolve("logs/tcp.log");
        awaitLine(log, "\"pid\":" + c.pid() + ",");
        assertThat(collector.await(r -> recordsOf(r, c.pid()).size() >= 2, 30)).as("two records of pid %s: %s", c.pid(), collector.logs()).isTrue();

        // the audit trail first: export's threads (sender, HTTP client, metrics) yield the CPU to the reader and the writer
        // OkHttp names the HTTP client's thread after the request while a call runs ("OkHttp http://..."),
        // so a sample taken during a call may not show the thread under its own name: sample until it does
        Map<String, Integer> nice = threadNiceValues(daemon.pid());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!nice.containsKey("bpfwatch-otlp-i") && System.nanoTime() < until) {
            assertNiceValues(nice);
            Thread.sleep(20);
            nice = threadNiceValues(daemon.pid());
        }
        assertThat(nice).as("threads: %s", nice).containsKeys("bpfwatch-otlp-l", "bpfwatch-otlp-i", "bpfwatch-otlp-m", "bpfwatch-tcp-re");
        assertNiceValues(nice);
        awaitLine(log, "\"dport\":5555");

        List<OtlpReceiver.Log> records = recordsOf(collector, c.pid());
        List<String> lines = linesOf(log, c.pid());
        assertThat(records).hasSize(2);
        assertThat(records.stream().map(OtlpReceiver.Log::body).toList()).as("bodies are the file's lines").isEqualTo(lines);
        for (OtlpReceiver.Log r : records) {
            JsonNode line = JSON.readTree(r.body());
            Map<String, Object> a = r.attributes();
            assertThat(a).containsEntry("event", "connect").containsEntry("comm", line.path("comm").asText())
                    .containsEntry("daddr", "127.0.0.1").containsEntry("dport", line.path("dport").asLong())
                    .containsEntry("sport", line.path("sport").asLong()).containsEntry("family", "ipv4")
                    .containsEntry("alert", line.path("alert").asBoolean());
            assertThat(r.record().getEventName()).isEqualTo("bpfwatch.tcp.connect");
            assertThat(r.resource()).containsEntry("service.name", "bpfwatch").containsEntry("bpfwatch.monitor", "tcp")
                    .containsEntry("deployment.environment", "test").containsKey("host.name").containsKey("service.version");
            assertThat(r.record().getTimeUnixNano()).isPositive();
            if (line.path("alert").asBoolean()) {
                assertThat(r.record().getSeverityText()).isEqualTo("WARN");
                assertThat(a.get("rules")).isEqualTo(List.of("port:4444"));
            } else {
                assertThat(r.record().getSeverityText()).isEqualTo("INFO");
            }
        }
        assertThat(collector.headers()).containsEntry("authorization", "Bearer s3cret");

        // metrics: the same series as /metrics, counters as monotonic sums
        assertThat(collector.await(r -> eventsTotal(r, "tcp") >= 2, 30)).as("bpfwatch_events for tcp arrives").isTrue();
        Metric events = r(collector, "bpfwatch_events");
        assertThat(events.getSum().getIsMonotonic()).isTrue();
        assertThat(events.getSum().getAggregationTemporality().getNumber()).isEqualTo(2); // cumulative
        assertThat(collector.metrics().stream().map(m -> m.metric().getName())).contains("bpfwatch_monitor_up", "bpfwatch_events_lost");
        assertThat(metric(port, "bpfwatch_otlp_up")).isEqualTo(1.0);
        assertThat(metric(port, "bpfwatch_otlp_exports_total{signal=\"logs\",result=\"ok\"}")).isPositive();
        assertThat(metric(port, "bpfwatch_otlp_exports_total{signal=\"metrics\",result=\"ok\"}")).isPositive();
        assertThat(metric(port, "bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"export\"}")).isZero();
    }

    private static void assertNiceValues(Map<String, Integer> nice) {
        nice.forEach((name, n) -> assertThat(n).as("nice of %s in %s", name, nice)
                .isEqualTo(name.startsWith("bpfwatch-otlp-") || name.startsWith("OkHttp http") ? 10 : 0));
    }

    /** Each thread's nice value by its name (as the kernel has it: 15 characters), for bpfwatch's own threads and its HTTP client's while they send. */
    private static Map<String, Integer> threadNiceValues(long pid) throws Exception {
        Map<String, Integer> out = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                String name = Files.readString(t.resolve("comm")).strip();
                if (!name.startsWith("bpfwatch-") && !name.startsWith("OkHttp http")) continue;
                String stat = Files.readString(t.resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                out.put(name, Integer.parseInt(f[16])); // field 19 of stat: nice (fields after comm start at 3)
            }
        }
        return out;
    }

    private static Metric r(OtlpReceiver r, String name) {
        List<OtlpReceiver.ReceivedMetric> ms = r.metrics();
        for (int i = ms.size() - 1; i >= 0; i--) if (ms.get(i).metric().getName().equals(name)) return ms.get(i).metric();
        throw new AssertionError("no metric " + name);
    }

    private static double eventsTotal(OtlpReceiver r, String monitor) {
        double best = 0;
        for (OtlpReceiver.ReceivedMetric m : r.metrics()) {
            if (!m.metric().getName().equals("bpfwatch_events")) continue;
            for (NumberDataPoint p : m.metric().getSum().getDataPointsList()) {
                boolean ours = p.getAttributesList().stream().anyMatch(kv -> kv.getKey().equals("monitor") && kv.getValue().getStringValue().equals(monitor));
                if (ours) best = Math.max(best, p.getAsDouble());
            }
        }
        return best;
    }

    @Test
    void aCollectorThatGoesAwayAndComesBackGetsEveryEventItMissedInOrder(@TempDir Path dir) throws Exception {
        OtlpReceiver collector = receiver(OtlpReceiver.Protocol.GRPC).start();
        int port = freePort();
        // The monitor sees every connect on the machine: a burst beside this test (a benchmark's
        // 2 x 60k connects) once filled the default 64 Ki queue while the collector was away.
        // 256 Ki holds twice that burst; the heap is raised to hold 256 Ki waiting events (the
        // shipped 128 MiB would lower the queue to ~124 Ki).
        int queue = 1 << 18;
        daemon(dir, port, "  tcp: {}\n", "export:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n    protocol: grpc\n    metrics: false\n"
                + "    queue-size: " + queue + "\n", "-Xmx320m");
        assertThat(Files.readString(dir.resolve("daemon.out"))).as("the queue as configured").doesNotContain("queue-size " + queue + " is more than");
        Process first = Connector.run("connect", "127.0.0.1:4444");
        assertThat(collector.await(r -> recordsOf(r, first.pid()).size() == 1, 30)).as("the collector is reached").isTrue();

        double eventsBefore = metric(port, "bpfwatch_events_total{monitor=\"tcp\"}");
        collector.stop();
        Process during = Connector.run("connect", "127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003", "127.0.0.1:5004", "127.0.0.1:5005");
        Path log = dir.resolve("logs/tcp.log");
        awaitLine(log, "\"pid\":" + during.pid() + ",");
        awaitMetricAtLeast(port, "bpfwatch_otlp_exports_total{signal=\"logs\",result=\"failed\"}", 1);
        assertThat(metric(port, "bpfwatch_otlp_up")).isZero();
        awaitLine(log, "\"dport\":5005");

        collector.start();
        assertThat(collector.await(r -> recordsOf(r, during.pid()).size() >= 5, 60))
                .as("the missed events arrive once the collector is back: %s", recordsOf(collector, during.pid())).isTrue();
        List<Object> ports = recordsOf(collector, during.pid()).stream().map(l -> l.attributes().get("dport")).toList();
        assertThat(ports).isEqualTo(List.of(5001L, 5002L, 5003L, 5004L, 5005L));
        assertThat(recordsOf(collector, during.pid()).stream().map(OtlpReceiver.Log::body).toList()).isEqualTo(linesOf(log, during.pid()));
        // Nothing lost unless more connects than the queue holds came meanwhile. Lost first, then
        // the events: the count read second covers every loss counted.
        double lost = metric(port, "bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"export\"}");
        double events = metric(port, "bpfwatch_events_total{monitor=\"tcp\"}") - eventsBefore;
        assertThat(lost).as("lost{stage=export} with %s connects while the collector was away or catching up", events)
                .isLessThanOrEqualTo(Math.max(0, events - queue));
        awaitMetricAtLeast(port, "bpfwatch_otlp_up", 1);
    }

    @Test
    @ExtendWith(RequiresBpftrace.Check.class)
    void aCollectorThatStaysAwayLosesOnlyWhatIsCountedAndTheFileHasEverything(@TempDir Path dir) throws Exception {
        // a monitor whose events are exactly 40 timer ticks: nothing else on the host adds to them
        OtlpReceiver collector = receiver(OtlpReceiver.Protocol.HTTP);
        int port = freePort();
        daemon(dir, port, "  tcp: { enabled: false }\n  ticks:\n    kind: bpftrace\n    program: |\n"
                        + "      interval:ms:10 /@n < 40/ { @n = @n + 1; printf(\"tick\\n\"); }\n",
                "export:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n    metrics: false\n    queue-size: 8\n    batch-size: 4\n");
        Path log = dir.resolve("logs/ticks.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(log) || Files.readAllLines(log).size() < 40) {
            assertThat(System.nanoTime()).as("40 ticks in the file").isLessThan(deadline);
            Thread.sleep(50);
        }
        awaitMetricAtLeast(port, "bpfwatch_events_lost_total{monitor=\"ticks\",stage=\"export\"}", 40 - 8 - 4);
        double lost = metric(port, "bpfwatch_events_lost_total{monitor=\"ticks\",stage=\"export\"}");
        assertThat(lost).as("the queue holds 8 and the batch being retried 4").isBetween(40.0 - 8 - 4, 40.0 - 8);

        collector.start();
        assertThat(collector.await(r -> r.logs().size() + lost >= 40, 60)).as("what was kept arrives: %s", collector.logs().size()).isTrue();
        assertThat(collector.logs().size() + lost).as("received + counted = caused").isEqualTo(40);
        assertThat(Files.readAllLines(log)).hasSize(40);
        assertThat(metric(port, "bpfwatch_events_total{monitor=\"ticks\"}")).isEqualTo(40);
        List<String> bodies = collector.logs().stream().map(OtlpReceiver.Log::body).toList();
        assertThat(Files.readAllLines(log)).containsAll(bodies);
    }

    private static void selfSigned(Path cert, Path key) throws Exception {
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        assertThat(openssl.waitFor()).isZero();
    }

    @Test
    void mutualTlsToACollectorThatAsksForTheDaemonsCertificate(@TempDir Path dir) throws Exception {
        Path serverCert = dir.resolve("server.pem"), serverKey = dir.resolve("server.key");
        Path clientCert = dir.resolve("client.pem"), clientKey = dir.resolve("client.key");
        selfSigned(serverCert, serverKey);
        selfSigned(clientCert, clientKey);
        OtlpReceiver collector = receiver(OtlpReceiver.Protocol.GRPC).tls(serverCert, serverKey, clientCert).start();
        assertThat(collector.endpoint()).startsWith("https://");
        int port = freePort();
        daemon(dir, port, "  tcp: {}\n", "export:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n    protocol: grpc\n    compression: gzip\n"
                + "    tls: { ca: " + serverCert + ", cert: " + clientCert + ", key: " + clientKey + " }\n    metrics-interval: 1s\n");
        Process c = Connector.run("connect", "127.0.0.1:4444");
        assertThat(collector.await(r -> recordsOf(r, c.pid()).size() == 1, 30)).as("the event arrives over TLS").isTrue();
        assertThat(collector.await(r -> eventsTotal(r, "tcp") >= 1, 30)).as("and the metrics").isTrue();
    }

    @Test
    void aReloadMovesTheExportToAnotherCollectorWithoutAGapInTheFile(@TempDir Path dir) throws Exception {
        OtlpReceiver one = receiver(OtlpReceiver.Protocol.HTTP).start();
        OtlpReceiver two = receiver(OtlpReceiver.Protocol.GRPC).start();
        int port = freePort();
        Process daemon = daemon(dir, port, "  tcp: {}\n", "export:\n  otlp:\n    endpoint: " + one.endpoint() + "\n    metrics: false\n");
        Process a = Connector.run("connect", "127.0.0.1:4444");
        assertThat(one.await(r -> recordsOf(r, a.pid()).size() == 1, 30)).isTrue();

        Path config = dir.resolve("bpfwatch.yaml");
        Files.writeString(config, Files.readString(config).replace("endpoint: " + one.endpoint(), "endpoint: " + two.endpoint() + "\n    protocol: grpc"));
        DaemonIT.signal(daemon, "HUP");
        DaemonIT.awaitMetric(port, "bpfwatch_config_reloads_total{result=\"success\"}", 1);
        Process b = Connector.run("connect", "127.0.0.1:4445");
        assertThat(two.await(r -> recordsOf(r, b.pid()).size() == 1, 30)).as("the new collector gets the new events").isTrue();
        assertThat(recordsOf(one, b.pid())).as("the old one does not").isEmpty();
        assertThat(recordsOf(two, a.pid())).isEmpty();
        Path log = dir.resolve("logs/tcp.log");
        assertThat(linesOf(log, a.pid())).hasSize(1);
        assertThat(linesOf(log, b.pid())).hasSize(1);
        assertThat(metric(port, "bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"export\"}")).isZero();
    }
}
