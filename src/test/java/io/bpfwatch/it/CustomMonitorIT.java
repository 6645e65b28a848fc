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

/** A bpftrace monitor in the packaged daemon: its child never outlives the daemon, however it dies. */
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
