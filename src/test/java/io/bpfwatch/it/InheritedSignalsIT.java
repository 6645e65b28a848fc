package io.bpfwatch.it;

import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.bpfwatch.it.DaemonIT.awaitMetric;
import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.config;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.get;
import static io.bpfwatch.it.DaemonIT.launcher;
import static io.bpfwatch.it.DaemonIT.signal;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ignored signals are inherited across exec: `nohup` ignores HUP, a script's background job
 * has INT ignored. The daemon started so still reloads on HUP and stops on TERM (its
 * interface); INT stays ignored, as its starter asked.
 */
@RequiresBpf
class InheritedSignalsIT {
    private Process daemon;

    @AfterEach
    void kill() {
        if (daemon != null) daemon.destroyForcibly();
    }

    @Test
    void aDaemonStartedWithSignalsIgnoredStillReloadsOnHupAndStopsOnTerm(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = config(dir, port, "  tcp: {}\n");
        Path output = dir.resolve("daemon.out");
        daemon = new ProcessBuilder("sh", "-c", "trap '' HUP INT TERM; exec \"$0\" \"$@\"", launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        awaitReady(port, daemon, output);
        String status = Files.readString(Path.of("/proc/" + daemon.pid() + "/status"));
        assertThat(status).as("the JVM's own view: INT still ignored").containsPattern("SigIgn:\\s+[0-9a-f]*[2367abef]\\n");
        assertThat(Files.readString(output)).contains("SIGHUP was ignored by whoever started the daemon", "SIGTERM was ignored",
                "SIGINT is ignored");

        signal(daemon, "HUP");
        awaitMetric(port, "bpfwatch_config_reloads_total{result=\"success\"}", 1);
        signal(daemon, "INT");
        signal(daemon, "HUP"); // handled after the INT was, or would have been
        awaitMetric(port, "bpfwatch_config_reloads_total{result=\"success\"}", 2);
        assertThat(daemon.isAlive()).isTrue();
        assertThat(Files.readString(output)).doesNotContain("stopping:");
        assertThat(new Prom(get(port, "/metrics").body()).get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1);

        signal(daemon, "TERM");
        assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).as("stopped within 5 s of SIGTERM").isTrue();
        assertThat(daemon.exitValue()).isZero();
    }
}
