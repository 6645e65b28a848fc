package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.testkit.Skip;
import io.bpfwatch.cli.Commands;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wireguard monitor on a machine without the wireguard module (this development machine's
 * kernel has none): unavailable with the reason, in /monitors, probe and the state metric, while
 * the other monitors run. With the module, WireguardTunnelCheck covers it in the test VM.
 */
@RequiresBpf
class WireguardMonitorTest {
    @Test
    void withoutTheModuleItIsUnavailableAndTheOthersKeepWorking(@TempDir Path dir) throws Exception {
        Skip.unless(!Kernel.system().moduleLoaded("wireguard"),
                "the wireguard module is loaded here; WireguardTunnelCheck (make test-vm) covers that case");
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, "  tcp: {}\n  wireguard: { interval: 1s }\n"),
                     io.bpfwatch.monitor.MonitorCatalog.builtin(), io.bpfwatch.supervise.Backoff.DEFAULT, Duration.ofMillis(300))) {
            assertThat(d.state("wireguard")).isEqualTo(MonitorState.UNAVAILABLE);
            assertThat(d.status("wireguard").lastError())
                    .isEqualTo("the wireguard module is not loaded (attached within seconds of `modprobe wireguard`)");
            assertThat(d.daemon.ready()).as("unavailable counts as settled").isTrue();

            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_monitor_state{monitor=\"wireguard\",state=\"unavailable\"}")).isEqualTo(1);
            assertThat(m.get("bpfwatch_monitor_up{monitor=\"wireguard\"}")).isZero();
            assertThat(m.text()).doesNotContain("bpfwatch_wireguard_encrypt_seconds");

            Process p = Connector.run("connect", "127.0.0.1:" + server.getLocalPort());
            p.waitFor();
            TestDaemon.await("the tcp monitor still logging", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_events_total{monitor=\"tcp\"}") >= 1);
            assertThat(d.state("tcp")).isEqualTo(MonitorState.RUNNING);
            // two re-probes later: still unavailable, never a failure
            for (int i = 0; i < 2; i++) {
                java.time.Instant next = d.status("wireguard").nextAttempt();
                assertThat(next).as("the next probe is scheduled").isNotNull();
                TestDaemon.await("a re-probe", Duration.ofSeconds(10), () -> !next.equals(d.status("wireguard").nextAttempt()));
            }
            assertThat(d.state("wireguard")).isEqualTo(MonitorState.UNAVAILABLE);
            assertThat(d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"wireguard\"}")).isZero();
        }

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Commands.probe(MonitorCatalog.builtin(), dir.resolve("absent.yaml"), false, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("wireguard  unavailable: the wireguard module is not loaded (attached within seconds of `modprobe wireguard`)");
    }
}
