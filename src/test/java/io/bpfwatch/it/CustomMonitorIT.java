package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresBpftrace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bpftrace monitor in the packaged daemon: its child never outlives the daemon, however it
 * dies; its long lines cannot take the daemon's heap while the disk does not take them.
 */
@RequiresBpf
@RequiresBpftrace
class CustomMonitorIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : started) p.destroyForcibly();
    }

    private static final String TICKS = "  ticks:\n    kind: bpftrace\n    program: |\n"
            + "      interval:ms:100 { @n = count(); printf(\"tick n=%d\\n\", 1); print(@n); }\n";

    private static Optional<ProcessHandle> bpftraceOf(Process daemon) {
        return daemon.descendants().filter(p -> p.info().command().map(c -> c.endsWith("bpftrace")).orElse(false)).findFirst();
    }

    @Test
    void killingTheDaemonWithSigkillTakesItsBpftraceAlong(@TempDir Path dir) throws Exception {
        int port = DaemonIT.freePort();
        Path out = dir.resolve("daemon.out");
        Process daemon = new ProcessBuilder(DaemonIT.launcher(), "run", "--config", DaemonIT.config(dir, port, TICKS).toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        started.add(daemon);
        DaemonIT.awaitReady(port, daemon, out);
        JsonNode monitors = JSON.readTree(DaemonIT.get(port, "/monitors").body());
        JsonNode ticks = null;
        for (JsonNode m : monitors.get("monitors")) if (m.get("name").asText().equals("ticks")) ticks = m;
        assertThat(ticks).as("/monitors lists the custom monitor").isNotNull();
        assertThat(ticks.get("kind").asText()).isEqualTo("bpftrace");
        assertThat(ticks.get("state").asText()).isEqualTo("running");
        assertThat(ticks.get("attach_points").toString()).contains("interval:ms:100");

        ProcessHandle bpftrace = bpftraceOf(daemon).orElseThrow(() -> new AssertionError("no bpftrace under the daemon"));
        Path log = dir.resolve("logs/ticks.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(log) || Files.size(log) == 0) {
            assertThat(System.nanoTime()).as("a tick in ticks.log within 10 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        assertThat(JSON.readTree(Files.readAllLines(log).get(0)).get("n").asInt()).isEqualTo(1);
        // the printed map, from the collector on the registry /metrics serves
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!DaemonIT.get(port, "/metrics").body().contains("bpfwatch_custom_ticks_n ")) {
            assertThat(System.nanoTime()).as("bpfwatch_custom_ticks_n on /metrics within 10 s").isLessThan(deadline);
            Thread.sleep(50);
        }

        DaemonIT.signal(daemon, "KILL");
        assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(bpftrace.onExit().get(5, TimeUnit.SECONDS).isAlive()).as("bpftrace died with the daemon").isFalse();
    }

    @Test
    void longLinesThatCannotBeWrittenWaitOnlyAsFarAsTheHeapAllowsAndTheRestIsCounted(@TempDir Path dir) throws Exception {
        // 2000 lines of 256 KiB (the stand-in's "big" mode) while the log folder cannot be made:
        // the queue alone (65536 events) would hold them all, 1 GB of strings in a 128 MiB heap
        Path blocked = dir.resolve("logs");
        Files.writeString(blocked, "a file where the folder should be");
        Path script = dir.resolve("any.bt");
        Files.writeString(script, "BEGIN { }\n");
        Path count = dir.resolve("count");
        int port = DaemonIT.freePort();
        Path config = dir.resolve("bpfwatch.yaml");
        Files.writeString(config, "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + blocked + "\nmonitors:\n"
                + "  hostile:\n    kind: bpftrace\n    bpftrace: " + io.bpfwatch.testkit.FakeBpftrace.install(dir)
                + "\n    script: " + script + "\n    args: [big, " + count + "]\n    max-line: 1MiB\n");
        Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Path out = dir.resolve("daemon.out");
        Process daemon = new ProcessBuilder(DaemonIT.launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        started.add(daemon);
        DaemonIT.awaitReady(port, daemon, out);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        double lostQueue;
        long waiting;
        while (true) {
            assertThat(daemon.isAlive()).as(Files.readString(out)).isTrue();
            lostQueue = new io.bpfwatch.testkit.Prom(DaemonIT.get(port, "/metrics").body())
                    .get("bpfwatch_events_lost_total{monitor=\"hostile\",stage=\"queue\"}");
            waiting = -1;
            for (JsonNode m : JSON.readTree(DaemonIT.get(port, "/monitors").body()).get("monitors")) {
                if (m.get("name").asText().equals("hostile")) waiting = m.get("log_pending").asLong();
            }
            if (Files.exists(count) && lostQueue + waiting == 2000) break;
            assertThat(System.nanoTime()).as("every line waiting or counted within 120 s: %s lost, %s waiting", lostQueue, waiting)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
        // half the 128 MiB heap, ~512 KiB per waiting line (its text and what was parsed from it)
        assertThat(waiting).isBetween(100L, 128L);
        assertThat(DaemonIT.get(port, "/health/live").statusCode()).isEqualTo(200);
        assertThat(Files.readString(out)).contains("hostile: events dropped (counted in lost{stage=\"queue\"})")
                .contains("the most this daemon's heap allows").doesNotContain("OutOfMemoryError");
    }

    @Test
    void checkAndProbeSeeTheCustomMonitor(@TempDir Path dir) throws Exception {
        Path config = DaemonIT.config(dir, DaemonIT.freePort(), TICKS);
        DaemonIT.Result check = DaemonIT.cli("check", "--config", config.toString());
        assertThat(check.exit()).as(check.err()).isZero();
        assertThat(check.out()).contains("ticks");
        DaemonIT.Result probe = DaemonIT.cli("probe", "--config", config.toString());
        assertThat(probe.out()).containsPattern("ticks +supported: bpftrace .*1 probe: interval:ms:100 \\(kind bpftrace\\)");

        Files.writeString(config, Files.readString(config).replace("count();", "count() }"));
        DaemonIT.Result bad = DaemonIT.cli("check", "--config", config.toString());
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains(config + ":9:").contains("monitors.ticks.program: ").contains("syntax error");
    }
}
