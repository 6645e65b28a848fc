package io.bpfwatch.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.Daemon;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.Backoff;
import io.bpfwatch.supervise.MonitorStatus;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The daemon core in the test JVM with real BPF: a config file in a temp dir, logs beside
 * it, its own Prometheus registry. For tests of supervision, reloads and monitors that need
 * hooks into the running process; the packaged daemon is tested black-box by *IT classes.
 */
public final class TestDaemon implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    public final Path dir;
    public final Path config;
    public final Path logs;
    public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    public final Daemon daemon;
    private final MonitorCatalog catalog;

    public TestDaemon(Path dir, String yaml, MonitorCatalog catalog, Backoff backoff, Duration reprobe) throws Exception {
        this.dir = dir;
        this.catalog = catalog;
        this.logs = dir.resolve("logs");
        this.config = dir.resolve("bpfwatch.yaml");
        writeConfig(yaml);
        DaemonConfig c = new ConfigLoader(catalog).load(config);
        daemon = new Daemon(config, null, c, catalog, registry, backoff, reprobe);
        daemon.start();
    }

    public TestDaemon(Path dir, String yaml) throws Exception {
        this(dir, yaml, MonitorCatalog.builtin(), Backoff.DEFAULT, Duration.ofSeconds(5));
    }

    /** A config with logs under this daemon's dir and the given monitors section (YAML, indented 2). */
    public static String yaml(Path dir, String monitors) {
        return "logs:\n  dir: " + dir.resolve("logs") + "\nmonitors:\n" + monitors;
    }

    public void writeConfig(String yaml) throws IOException {
        Files.writeString(config, yaml, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r-----"));
    }

    public Prom metrics() {
        return new Prom(registry.scrape());
    }

    public MonitorStatus status(String monitor) {
        return daemon.status().stream().filter(s -> s.name().equals(monitor)).findFirst().orElseThrow();
    }

    public MonitorState state(String monitor) {
        return status(monitor).state();
    }

    /** Waits until every event accepted so far is written (or counted as lost), as /monitors shows it. */
    public void drain(String monitor) throws InterruptedException {
        await(monitor + "'s log to drain", Duration.ofSeconds(10), () -> status(monitor).logPending() == 0);
    }

    /** The monitor's events from process {@code pid}, once what it accepted so far is written. */
    public List<JsonNode> events(String monitor, long pid) throws IOException, InterruptedException {
        drain(monitor);
        List<JsonNode> out = new ArrayList<>();
        for (String l : lines(monitor)) {
            JsonNode n = JSON.readTree(l);
            if (n.get("pid").asLong() == pid) out.add(n);
        }
        return out;
    }

    /** Waits for at least {@code n} events of the monitor from process {@code pid}, and returns them all. */
    public List<JsonNode> awaitEvents(String monitor, long pid, int n, Duration timeout) throws IOException, InterruptedException {
        await(n + " " + monitor + " events from pid " + pid, timeout, () -> {
            try {
                return events(monitor, pid).size() >= n;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        });
        return events(monitor, pid);
    }

    /** Lines of the monitor's current log file. */
    public List<String> lines(String monitor) throws IOException {
        Path p = logs.resolve(monitor + ".log");
        if (!Files.exists(p)) return new ArrayList<>();
        return Files.readAllLines(p, StandardCharsets.UTF_8);
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        daemon.close();
        registry.close();
    }
}
