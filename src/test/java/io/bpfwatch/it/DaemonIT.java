package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged daemon, black-box: target/bpfwatch as an admin runs it, driven by signals and
 * HTTP, read through its log files and /metrics.
 */
@RequiresBpf
class DaemonIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Process> started = new ArrayList<>();

    static String launcher() {
        String l = System.getProperty("bpfwatch.launcher", "target/bpfwatch");
        assertThat(Path.of(l)).as("the launcher is built by `mvn package`").isExecutable();
        return l;
    }

    record Result(int exit, String out, String err) {
    }

    static Result cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out, err);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Path config(Path dir, int port, String monitors) throws IOException {
        Path c = dir.resolve("bpfwatch.yaml");
        Files.writeString(c, "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + dir.resolve("logs") + "\nmonitors:\n" + monitors);
        Files.setPosixFilePermissions(c, PosixFilePermissions.fromString("rw-r-----"));
        return c;
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    Process start(Path config, Path output) throws Exception {
        Process p = new ProcessBuilder(launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        started.add(p);
        return p;
    }

    static void awaitReady(int port, Process p, Path output) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new AssertionError("daemon exited " + p.exitValue() + ":\n" + Files.readString(output));
            try {
                if (get(port, "/health/ready").statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("daemon not ready after 30 s:\n" + Files.readString(output));
    }

    static void signal(Process p, String sig) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start().waitFor()).isZero();
    }

    @AfterEach
    void killLeftovers() {
        for (Process p : started) p.destroyForcibly();
    }

    @Test
    void aListenAddressInUseStopsTheStartBeforeAnyMonitor(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Path config = config(dir, taken.getLocalPort(), "  tcp: {}\n");
            Path out = dir.resolve("daemon.out");
            Process p = start(config, out);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits").isTrue();
            assertThat(p.exitValue()).isEqualTo(1);
            assertThat(Files.readString(out)).contains("not starting: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
            // the monitors never started: their writers would have made the log
            assertThat(dir.resolve("logs/tcp.log")).doesNotExist();
        }
    }

    @Test
    void versionProbeAndCheckAnswerWithoutADaemon(@TempDir Path dir) throws Exception {
        Result v = cli("version");
        assertThat(v.exit()).isZero();
        assertThat(v.out()).containsPattern("bpfwatch \\S+\\nlibbpf v?1\\.\\d+\\nkernel \\S+");

        Result p = cli("probe");
        assertThat(p.exit()).isZero();
        assertThat(p.out()).contains("tcp        supported: tracepoint/sock/inet_sock_set_state");

        Path good = config(dir, 9476, "  tcp: {}\n");
        Result ok = cli("check", "--config", good.toString());
        assertThat(ok.exit()).isZero();
        assertThat(ok.out()).startsWith(good + ": OK");

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "monitors:\n  tcp:\n    alert: { ports: [0] }\n");
        Result no = cli("check", "--config", bad.toString());
        assertThat(no.exit()).isEqualTo(1);
        assertThat(no.err()).isEqualTo(bad + ":3:22: monitors.tcp.alert.ports: port 0 is out of range (1-65535)\n");

        Result usage = cli("frobnicate");
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("unknown command 'frobnicate'").contains("usage: bpfwatch");
    }

    @Test
    void anInvalidConfigKeepsTheDaemonFromStarting(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "monitors:\n  tcp: { alert: { networks: [10.0.0.1/8] } }\n");
        Result r = cli("run", "--config", bad.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(bad + ":2:30: monitors.tcp.alert.networks: '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?");
    }

    @Test
    void theDaemonServesLogsMetricsReloadsAndStopsCleanly(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = config(dir, port, "  tcp: {}\n");
        Path output = dir.resolve("daemon.out");
        Process daemon = start(config, output);
        awaitReady(port, daemon, output);
        // a clean start says nothing an admin must look into (Micrometer's warning about a meter
        // registered before the registry's filters once did)
        assertThat(Files.readAllLines(output)).filteredOn(l -> l.matches("^\\S+ \\S+ (WARN|ERROR) .*")).isEmpty();

        // check, probe and version run beside the live daemon (no port clash, no BPF loaded)
        assertThat(cli("check", "--config", config.toString()).exit()).isZero();
        assertThat(cli("probe").exit()).isZero();

        JsonNode monitors = JSON.readTree(get(port, "/monitors").body());
        JsonNode tcp = null;
        for (JsonNode m : monitors.get("monitors")) {
            if (m.get("name").asText().equals("tcp")) tcp = m;
            else assertThat(m.get("state").asText()).as("not configured: " + m.get("name")).isEqualTo("disabled");
        }
        assertThat(tcp).isNotNull();
        assertThat(tcp.get("state").asText()).isEqualTo("running");
        assertThat(tcp.get("attach_points")).extracting(JsonNode::asText).contains("tracepoint/sock/inet_sock_set_state");
        assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);

        Process c = Connector.run("connect", "127.0.0.1:4444");
        Path log = dir.resolve("logs/tcp.log");
        awaitLine(log, "\"pid\":" + c.pid() + ",");
        String line = Files.readAllLines(log).stream().filter(l -> l.contains("\"pid\":" + c.pid() + ",")).findFirst().orElseThrow();
        assertThat(JSON.readTree(line).get("rules")).extracting(JsonNode::asText).containsExactly("port:4444");

        String scrape = get(port, "/metrics").body();
        Prom metrics = new Prom(scrape);
        assertThat(metrics.get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1);
        // the JVM's meters, read from the collectors at the scrape: nothing listens to GC notifications (JvmMeters)
        assertThat(scrape).contains("jvm_gc_collections_total{gc=\"Copy\"}", "jvm_gc_collection_seconds_total{gc=\"Copy\"}",
                "jvm_memory_used_bytes{", "jvm_threads_live_threads ").doesNotContain("jvm_gc_pause", "jvm_gc_overhead");
        assertThat(metrics.get("bpfwatch_events_total{monitor=\"tcp\"}")).isGreaterThanOrEqualTo(1);
        assertThat(metrics.get("bpfwatch_tcp_alerts_total{rule=\"port:4444\"}")).isGreaterThanOrEqualTo(1);
        assertThat(metrics.has("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"kernel\"}")).isTrue();

        // a valid reload applies (port 4444 no longer alerts), an invalid one is refused
        Files.writeString(config, Files.readString(config).replace("  tcp: {}", "  tcp: { alert: { ports: [5555] } }"));
        signal(daemon, "HUP");
        awaitMetric(port, "bpfwatch_config_reloads_total{result=\"success\"}", 1);
        Process c2 = Connector.run("connect", "127.0.0.1:4444");
        awaitLine(log, "\"pid\":" + c2.pid() + ",");
        String line2 = Files.readAllLines(log).stream().filter(l -> l.contains("\"pid\":" + c2.pid() + ",")).findFirst().orElseThrow();
        assertThat(JSON.readTree(line2).get("alert").asBoolean()).isFalse();

        Files.writeString(config, "monitors:\n  tcp: [oops\n");
        signal(daemon, "HUP");
        awaitMetric(port, "bpfwatch_config_reloads_total{result=\"failure\"}", 1);
        assertThat(new Prom(get(port, "/metrics").body()).get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1);
        assertThat(Files.readString(output)).contains("reload refused, the running config stays");

        // SIGTERM: detach, flush, exit 0 within 5 s
        long t0 = System.nanoTime();
        signal(daemon, "TERM");
        assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).as("stopped within 5 s").isTrue();
        System.out.printf("SIGTERM to exit: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(daemon.exitValue()).isZero();
        assertThat(Files.readString(output)).contains("stopping: detaching probes and flushing logs");
        for (String l : Files.readAllLines(log)) JSON.readTree(l); // every line whole
    }

    static void awaitLine(Path log, String needle) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(needle)) return;
            Thread.sleep(20);
        }
        throw new AssertionError(log + " has no line with " + needle);
    }

    static void awaitMetric(int port, String series, double value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double last = -1;
        while (System.nanoTime() < deadline) {
            last = new Prom(get(port, "/metrics").body()).get(series);
            if (last == value) return;
            Thread.sleep(50);
        }
        throw new AssertionError(series + " is " + last + ", expected " + value);
    }
}
