package io.bpfwatch.monitor.tcp;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The tcp monitor with its real BPF programs, fed by real connections from a child process. */
@RequiresBpf
class TcpMonitorTest {

    @Test
    void connectionsAreLoggedWithProcessAddressesAndAlerts(@TempDir Path dir) throws Exception {
        try (ServerSocket harmless = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, "  tcp: {}\n"))) {
            assertThat(d.state("tcp")).isEqualTo(MonitorState.RUNNING);
            int port = harmless.getLocalPort();
            Prom before = d.metrics();

            Process p = Connector.run("connect", "127.0.0.1:4444", "[::1]:31337", "127.0.0.1:" + port);
            List<JsonNode> lines = d.awaitEvents("tcp", p.pid(), 3, Duration.ofSeconds(10));
            assertThat(lines).hasSize(3);

            JsonNode v4 = lines.get(0);
            assertThat(v4.get("monitor").asText()).isEqualTo("tcp");
            assertThat(v4.get("event").asText()).isEqualTo("connect");
            assertThat(v4.get("comm").asText()).isEqualTo("java");
            assertThat(v4.get("uid").asLong()).isZero();
            assertThat(v4.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
            assertThat(v4.get("family").asText()).isEqualTo("ipv4");
            assertThat(v4.get("saddr").asText()).isEqualTo("127.0.0.1");
            assertThat(v4.get("daddr").asText()).isEqualTo("127.0.0.1");
            assertThat(v4.get("dport").asInt()).isEqualTo(4444);
            assertThat(v4.get("sport").asInt()).isBetween(1, 65535);
            assertThat(v4.get("alert").asBoolean()).isTrue();
            assertThat(v4.get("rules")).extracting(JsonNode::asText).containsExactly("port:4444");

            JsonNode v6 = lines.get(1);
            assertThat(v6.get("family").asText()).isEqualTo("ipv6");
            assertThat(v6.get("saddr").asText()).isEqualTo("::1");
            assertThat(v6.get("daddr").asText()).isEqualTo("::1");
            assertThat(v6.get("dport").asInt()).isEqualTo(31337);
            assertThat(v6.get("sport").asInt()).isBetween(1, 65535);
            assertThat(v6.get("alert").asBoolean()).isTrue();
            assertThat(v6.get("rules")).extracting(JsonNode::asText).containsExactly("port:31337");

            JsonNode ok = lines.get(2);
            assertThat(ok.get("dport").asInt()).isEqualTo(port);
            assertThat(ok.get("alert").asBoolean()).isFalse();
            assertThat(ok.get("rules")).isEmpty();

            Prom after = d.metrics();
            assertThat(after.get("bpfwatch_tcp_alerts_total{rule=\"port:4444\"}") - before.get("bpfwatch_tcp_alerts_total{rule=\"port:4444\"}")).isEqualTo(1);
            assertThat(after.get("bpfwatch_tcp_alerts_total{rule=\"port:31337\"}") - before.get("bpfwatch_tcp_alerts_total{rule=\"port:31337\"}")).isEqualTo(1);
            assertEventsTotalEqualsLogLines(d);
        }
    }

    /**
     * Every event counted is in the log and nothing else is: with a fresh registry and log,
     * bpfwatch_events_total equals the file's lines and the per-family connection counters.
     * Other processes may connect meanwhile, so compare at a moment the counter stood still.
     */
    static void assertEventsTotalEqualsLogLines(TestDaemon d) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            double before = d.metrics().get("bpfwatch_events_total{monitor=\"tcp\"}");
            d.drain("tcp");
            int lines = d.lines("tcp").size();
            Prom m = d.metrics();
            if (m.get("bpfwatch_events_total{monitor=\"tcp\"}") != before) continue;
            assertThat(lines).isEqualTo((int) before);
            assertThat(m.sum("bpfwatch_tcp_connections_total")).isEqualTo(before);
            assertThat(m.sum("bpfwatch_events_lost_total", "monitor=\"tcp\"")).isZero();
            return;
        }
        throw new AssertionError("connections never stopped long enough to compare counters with the log");
    }

    @Test
    void networkRulesAndIgnoreNetworksApply(@TempDir Path dir) throws Exception {
        String monitors = "  tcp:\n    alert:\n      ports: [4444]\n      networks: [127.0.0.0/8]\n      ignore-networks: [127.0.0.2/32]\n";
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitors))) {
            Process p = Connector.run("connect", "127.0.0.1:4444", "127.0.0.2:4444", "127.0.0.1:1");
            List<JsonNode> lines = d.awaitEvents("tcp", p.pid(), 3, Duration.ofSeconds(10));
            assertThat(lines.get(0).get("rules")).extracting(JsonNode::asText).containsExactly("port:4444", "network:127.0.0.0/8");
            assertThat(lines.get(1).get("alert").asBoolean()).as("ignored network").isFalse();
            assertThat(lines.get(2).get("rules")).extracting(JsonNode::asText).containsExactly("network:127.0.0.0/8");
            assertThat(Files.exists(dir.resolve("logs/tcp.log"))).isTrue();
        }
    }
}
