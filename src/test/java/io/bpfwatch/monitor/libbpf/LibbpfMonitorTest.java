package io.bpfwatch.monitor.libbpf;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.config.ConfigError;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import io.bpfwatch.testkit.TestMonitors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The libbpf kind with a real object (src/test/bpf/custom/custom.bpf.c, built by the test build
 * as a user would: clang -g -O2 -target bpf), loaded, attached by its sections, fed by this
 * JVM's getpgid calls (TestMonitors.echo).
 */
@RequiresBpf
class LibbpfMonitorTest {
    static final String OBJECT = BpfObjectsForTest.path("custom");

    static String monitor(String events, String extra) {
        return "  custom:\n    kind: libbpf\n    object: " + OBJECT + "\n    constants: { target_pid: " + LibC.getpid() + " }\n"
                + events + extra;
    }

    static final String EVENTS = """
                events:
                  - ring: calls
                    struct: call
                    name: getpgid
                    time: ts
                    fields: { daddr: ipv4, addr6: ipv6, ret: errno, flags: hex }
            """;
    static final String METRICS = """
                metrics:
                  - map: counts
                    type: counter
                    labels: { comm: string, uid: number }
                  - map: lens
                    name: custom_len
                    type: histogram
                    bucket: slot
            """;

    /** This thread's name as the kernel has it (what bpf_get_current_comm reads). */
    static String comm() throws Exception {
        return Files.readString(Path.of("/proc/thread-self/comm")).trim();
    }

    @Test
    void recordsAreDecodedFromTheObjectsBtfAndMapsAreMetrics(@TempDir Path dir) throws Exception {
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(EVENTS, METRICS)))) {
            assertThat(d.state("custom")).as(String.valueOf(d.status("custom").lastError())).isEqualTo(MonitorState.RUNNING);
            assertThat(d.status("custom").kind()).isEqualTo("libbpf");
            assertThat(d.status("custom").attachPoints()).containsExactly("tracepoint/syscalls/sys_enter_getpgid");
            for (int len : new int[] {3, 100, 2000}) TestMonitors.echo(len);

            List<JsonNode> lines = d.awaitEvents("custom", LibC.getpid(), 3, Duration.ofSeconds(10));
            JsonNode first = lines.get(0);
            assertThat(first.get("monitor").asText()).isEqualTo("custom");
            assertThat(first.get("event").asText()).isEqualTo("getpgid");
            assertThat(first.get("comm").asText()).isEqualTo(comm());
            assertThat(first.get("uid").asLong()).isZero();
            assertThat(first.has("ts")).as("the time member is the event's time").isFalse();
            assertThat(first.get("daddr").asText()).isEqualTo("192.0.2.1");
            assertThat(first.get("addr6").asText()).isEqualTo("2001:db8::1");
            assertThat(first.get("pair").toString()).isEqualTo("{\"a\":3,\"b\":6}");
            assertThat(first.get("vals").toString()).isEqualTo("[1,2,3]");
            assertThat(first.get("ret").asText()).isEqualTo("ENOENT");
            assertThat(first.get("kind").asText()).isEqualTo("KIND_SMALL");
            assertThat(first.get("flags").asText()).isEqualTo("0x8000");
            assertThat(first.get("small").asInt()).isEqualTo(3);
            assertThat(first.get("large").asInt()).isEqualTo(3);
            assertThat(lines.get(2).get("kind").asText()).isEqualTo("KIND_LARGE");
            assertThat(lines.get(2).get("large").asInt()).isEqualTo(2000);
            assertThat(lines.get(2).get("small").asInt()).isEqualTo(2000 & 0xf);

            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_custom_custom_counts_total{comm=\"" + comm() + "\",uid=\"0\"}")).isEqualTo(3);
            assertThat(m.get("custom_len_bucket{le=\"4.0\"}")).isEqualTo(1);      // 3: slot 1, below 2^2
            assertThat(m.get("custom_len_bucket{le=\"128.0\"}")).isEqualTo(2);    // 100: slot 6
            assertThat(m.get("custom_len_bucket{le=\"2048.0\"}")).isEqualTo(3);   // 2000: slot 10
            assertThat(m.get("custom_len_bucket{le=\"+Inf\"}")).isEqualTo(3);
            assertThat(m.get("custom_len_count")).isEqualTo(3);
            assertThat(m.get("bpfwatch_events_total{monitor=\"custom\"}")).isEqualTo(3);
        }
    }

    @Test
    void recordsThatDoNotMatchTheirStructAreCountedAndTheMonitorGoesOn(@TempDir Path dir) throws Exception {
        String wrong = EVENTS.replace("struct: call", "struct: big").replace("time: ts", "").replace(
                "fields: { daddr: ipv4, addr6: ipv6, ret: errno, flags: hex }", "");
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(wrong, METRICS)))) {
            for (int i = 0; i < 3; i++) TestMonitors.echo(i);
            await("three refused records", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_events_lost_total{monitor=\"custom\",stage=\"decode\"}") == 3);
            assertThat(d.state("custom")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.metrics().get("bpfwatch_events_total{monitor=\"custom\"}")).isZero();
            assertThat(d.metrics().get("custom_len_count")).as("the maps are still read").isEqualTo(3);
        }
    }

    @Test
    void keysPastMaxKeysAreCountedNotExported(@TempDir Path dir) throws Exception {
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor("", METRICS + "    max-keys: 1\n")))) {
            TestMonitors.echo(1);
            Thread other = new Thread(() -> TestMonitors.echo(2), "bpfwatch-other");
            other.start();
            other.join();
            await("both keys in the map", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_custom_keys_dropped_total{monitor=\"custom\"}") >= 1);
            assertThat(d.metrics().text().lines().filter(l -> l.startsWith("bpfwatch_custom_custom_counts_total{")).count()).isEqualTo(1);
        }
    }

    private static List<String> errors(String monitors) {
        try {
            new ConfigLoader(MonitorCatalog.builtin()).parse("bpfwatch.yaml", "monitors:\n" + monitors);
        } catch (ConfigException e) {
            return e.errors().stream().map(ConfigError::toString).toList();
        }
        throw new AssertionError("accepted");
    }

    @Test
    void everyNameTheConfigGivesIsCheckedAgainstTheObject() {
        String bad = "  custom:\n    kind: libbpf\n    object: " + OBJECT + "\n    constants: { target_pids: 1 }\n"
                + "    events:\n      - ring: callz\n        struct: cal\n"
                + "      - ring: calls\n        struct: call\n        time: comm\n        fields: { daddr: ipv6, nope: hex }\n"
                + "    metrics:\n      - map: countz\n      - map: counts\n        labels: { pid: number }\n"
                + "      - map: lens\n        type: histogram\n";
        assertThat(errors(bad)).containsExactly(
                "bpfwatch.yaml:5:18: monitors.custom.constants.target_pids: " + OBJECT + " has no const volatile target_pids (it has: target_pid)",
                "bpfwatch.yaml:7:9: monitors.custom.events[0].ring: " + OBJECT + " has no map callz (its maps: calls, counts, lens)",
                "bpfwatch.yaml:8:9: monitors.custom.events[0].struct: " + OBJECT + "'s BTF has no struct cal (clang keeps a struct in BTF"
                        + " only when something global uses it: add `const struct cal *unused __attribute__((unused));`)",
                "bpfwatch.yaml:9:9: monitors.custom.events[1].fields.daddr: ipv6 needs 16 bytes (u8[16]), not 4",
                "bpfwatch.yaml:9:9: monitors.custom.events[1].fields.nope: struct call has no member nope",
                "bpfwatch.yaml:11:9: monitors.custom.events[1].time: struct call has no 8-byte integer member comm",
                "bpfwatch.yaml:14:9: monitors.custom.metrics[0].map: " + OBJECT + " has no map countz (its maps: calls, counts, lens)",
                "bpfwatch.yaml:15:9: monitors.custom.metrics[1]: labels.pid: the key of map counts has no member pid",
                "bpfwatch.yaml:17:9: monitors.custom.metrics[2]: a histogram needs bucket: the key member that holds the bucket's index");
        assertThat(errors("  custom:\n    kind: libbpf\n    object: /nonexistent.bpf.o\n")).containsExactly(
                "bpfwatch.yaml:4:13: monitors.custom.object: /nonexistent.bpf.o does not exist");
    }
}
