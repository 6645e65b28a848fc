package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.FakeBpftrace;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Output no real script can produce, from a stand-in for bpftrace (src/test/resources/bpftrace/
 * fake-bpftrace.py, run as the monitor's bpftrace): a 1 MiB line, lines that are not JSON, bytes
 * that are not UTF-8, a flood, a map with 200 000 keys. Memory stays bounded, every line is an
 * event or a counted loss, the tcp monitor beside it goes on.
 */
@RequiresBpf
class HostileBpftraceOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String monitor(Path dir, String mode, String extra) throws Exception {
        Path script = dir.resolve("any.bt");
        Files.writeString(script, "BEGIN { }\n");
        return "  hostile:\n    kind: bpftrace\n    bpftrace: " + FakeBpftrace.install(dir) + "\n    script: " + script + "\n    args: [" + mode + ", "
                + dir.resolve("count") + "]\n" + extra;
    }

    static double lost(Prom m, String stage) {
        return m.get("bpfwatch_events_lost_total{monitor=\"hostile\",stage=\"" + stage + "\"}");
    }

    @Test
    void aHugeLineGarbageAndBadBytesAreCountedAndTheGoodLinesArrive(@TempDir Path dir) throws Exception {
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(dir, "huge", "")))) {
            assertThat(d.state("hostile")).isEqualTo(MonitorState.RUNNING);
            await("two events", Duration.ofSeconds(10), () -> d.metrics().get("bpfwatch_events_total{monitor=\"hostile\"}") == 2);
            d.drain("hostile");
            List<String> lines = d.lines("hostile");
            assertThat(lines).hasSize(2);
            JsonNode bad = JSON.readTree(lines.get(0));
            assertThat(bad.get("text").asText()).isEqualTo("café \ufffd n=1");
            assertThat(bad.get("n").asInt()).isEqualTo(1);
            assertThat(JSON.readTree(lines.get(1)).get("text").asText()).isEqualTo("good n=2");
            assertThat(lost(d.metrics(), "decode")).as("the 1 MiB line and the one that is not JSON").isEqualTo(2);
            assertThat(d.state("hostile")).isEqualTo(MonitorState.RUNNING);
        }
    }

    @Test
    void aFloodIsEitherWrittenOrCountedAndTheOtherMonitorsGoOn(@TempDir Path dir) throws Exception {
        // one file for the whole flood (a million lines would rotate the default 100 MiB log)
        String yaml = "logs:\n  dir: " + dir.resolve("logs") + "\n  rotate: external\nmonitors:\n  tcp: {}\n" + monitor(dir, "flood", "");
        try (TestDaemon d = new TestDaemon(dir, yaml)) {
            Path count = dir.resolve("count");
            await("the flood's end", Duration.ofSeconds(30), () -> Files.exists(count) && !readCount(count).isEmpty());
            long printed = Long.parseLong(readCount(count));
            await("every line read", Duration.ofSeconds(60), () -> {
                Prom m = d.metrics();
                return m.get("bpfwatch_events_total{monitor=\"hostile\"}") + lost(m, "queue") == printed;
            });
            d.drain("hostile");
            Prom m = d.metrics();
            long lines;
            try (var s = Files.lines(d.logs.resolve("hostile.log"))) {
                lines = s.count();
            }
            System.out.printf("flood: %d lines printed in 3 s, %.0f events, %.0f lost in the queue%n", printed,
                    m.get("bpfwatch_events_total{monitor=\"hostile\"}"), lost(m, "queue"));
            assertThat(printed).isGreaterThan(100_000);
            assertThat((double) lines).isEqualTo(m.get("bpfwatch_events_total{monitor=\"hostile\"}") - lost(m, "write"));

            // the tcp monitor beside it still sees connections
            Process p = Connector.run("connect", "127.0.0.1:1");
            assertThat(d.awaitEvents("tcp", p.pid(), 1, Duration.ofSeconds(10))).hasSize(1);
        }
    }

    @Test
    void aMapWithTooManyKeysExportsTheCapAndCountsTheRest(@TempDir Path dir) throws Exception {
        String extra = "    max-line: 16MiB\n    metrics: { max-keys: 1000 }\n";
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(dir, "keys", extra)))) {
            await("the line after the map", Duration.ofSeconds(20), () -> d.metrics().get("bpfwatch_events_total{monitor=\"hostile\"}") == 1);
            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_custom_keys_dropped_total{monitor=\"hostile\"}")).isEqualTo(199_000);
            assertThat(m.text().lines().filter(l -> l.startsWith("bpfwatch_custom_hostile_many{")).count()).isEqualTo(1000);
        }
    }

    private static String readCount(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (Exception e) {
            return "";
        }
    }
}
