package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.Backoff;
import io.bpfwatch.supervise.MonitorStatus;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresBpftrace;
import io.bpfwatch.testkit.TestDaemon;
import io.bpfwatch.testkit.TestMonitors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bpftrace kind with the real bpftrace: the script's probes fire on this JVM's getpgid calls
 * (TestMonitors.echo), its printf lines become events, its printed maps metrics.
 */
@RequiresBpf
@RequiresBpftrace
class BpftraceMonitorTest {
    /** getpgid(2^30 + len) calls of this JVM: an event each, a count and a histogram of len. */
    static final String SCRIPT = """
            tracepoint:syscalls:sys_enter_getpgid /pid == $1 && args->pid >= 0x40000000/ {
              @calls[comm] = count();
              @len = hist(args->pid - 0x40000000);
              printf("echo pid=%d comm=%s len=%d\\n", pid, comm, args->pid - 0x40000000);
            }
            interval:ms:200 { print(@calls); print(@len); }
            """;

    static String monitor(Path script, String extra) {
        return "  echo-bt:\n    kind: bpftrace\n    script: " + script + "\n    args: [" + LibC.getpid() + "]\n" + extra;
    }

    static Path script(Path dir, String text) throws Exception {
        Path s = dir.resolve("echo.bt");
        Files.writeString(s, text);
        return s;
    }

    /** The bpftrace processes this JVM started that still run. */
    static List<ProcessHandle> bpftraces() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("bpftrace")).orElse(false)).toList();
    }

    @Test
    void printfLinesAreEventsAndPrintedMapsAreMetrics(@TempDir Path dir) throws Exception {
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(script(dir, SCRIPT), "    event: echo\n")))) {
            assertThat(d.state("echo-bt")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.status("echo-bt").kind()).isEqualTo("bpftrace");
            assertThat(d.status("echo-bt").attachPoints()).containsExactly("tracepoint:syscalls:sys_enter_getpgid", "interval:ms:200");
            for (int len : new int[] {3, 100, 2000}) TestMonitors.echo(len);

            List<JsonNode> lines = d.awaitEvents("echo-bt", LibC.getpid(), 3, Duration.ofSeconds(10));
            assertThat(lines).extracting(l -> l.get("len").asInt()).containsExactly(3, 100, 2000);
            JsonNode first = lines.get(0);
            assertThat(first.get("monitor").asText()).isEqualTo("echo-bt");
            assertThat(first.get("event").asText()).isEqualTo("echo");
            String comm = Files.readString(Path.of("/proc/thread-self/comm")).trim(); // what bpftrace's comm reads
            assertThat(first.get("comm").asText()).isEqualTo(comm);
            assertThat(first.get("text").asText()).isEqualTo("echo pid=" + LibC.getpid() + " comm=" + comm + " len=3");
            assertThat(first.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");

            await("the maps printed", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_custom_echo_bt_len_count") == 3);
            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_custom_echo_bt_calls{key=\"" + comm + "\"}")).isEqualTo(3);
            assertThat(m.get("bpfwatch_custom_echo_bt_len_bucket{le=\"3.0\"}")).isEqualTo(1);
            assertThat(m.get("bpfwatch_events_total{monitor=\"echo-bt\"}")).isEqualTo(3);
            assertThat(m.get("bpfwatch_monitor_up{monitor=\"echo-bt\"}")).isEqualTo(1);
        }
        assertThat(bpftraces()).as("stopped with the daemon").isEmpty();
    }

    @Test
    void aScriptThatFailsWhenItRunsBacksOffWithBpftracesError(@TempDir Path dir) throws Exception {
        // passes the dry run (only a warning: the function is not traceable), fails to attach
        String failing = "kprobe:bpfwatch_no_such_function { @x = count(); }\n";
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(script(dir, failing), "")),
                MonitorCatalog.builtin(), new Backoff(Duration.ofMillis(500), Duration.ofSeconds(2)), Duration.ofSeconds(5))) {
            await("backoff", Duration.ofSeconds(30), () -> d.state("echo-bt") == MonitorState.BACKOFF);
            MonitorStatus st = d.status("echo-bt");
            assertThat(st.lastError()).startsWith("bpftrace exited with status").contains("bpfwatch_no_such_function");
            if (st.state() == MonitorState.BACKOFF) assertThat(st.nextAttempt()).as("waits before the next attempt").isAfter(st.since());
            await("retried", Duration.ofSeconds(30), () -> d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"echo-bt\"}") >= 2);
            assertThat(d.daemon.status()).as("never running: it fails before its probes are attached")
                    .filteredOn(s -> s.name().equals("echo-bt")).extracting(s -> s.state()).doesNotContain(MonitorState.RUNNING);
        }
        assertThat(bpftraces()).isEmpty();
    }

    @Test
    void aReloadRunsTheChangedScriptAndStopsTheOldOne(@TempDir Path dir) throws Exception {
        Path script = script(dir, SCRIPT);
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(script, "")))) {
            List<ProcessHandle> first = bpftraces();
            assertThat(first).hasSize(1);
            TestMonitors.echo(1);
            d.awaitEvents("echo-bt", LibC.getpid(), 1, Duration.ofSeconds(10));

            Files.writeString(script, SCRIPT.replace("printf(\"echo ", "printf(\"v2 "));
            Instant before = d.status("echo-bt").since();
            assertThat(d.daemon.reload()).isTrue();
            assertThat(d.status("echo-bt").since()).as("restarted: the file changed, its path did not").isAfter(before);
            assertThat(first.get(0).isAlive()).as("the old bpftrace is gone").isFalse();
            TestMonitors.echo(2);
            List<JsonNode> lines = d.awaitEvents("echo-bt", LibC.getpid(), 2, Duration.ofSeconds(10));
            assertThat(lines.get(1).get("text").asText()).startsWith("v2 ");
            assertThat(lines.get(1).get("event").asText()).isEqualTo("printf");

            // removed from the config: stopped, and its series leave /metrics
            d.writeConfig(TestDaemon.yaml(dir, "  tcp: {}\n"));
            assertThat(d.daemon.reload()).isTrue();
            assertThat(d.daemon.status()).extracting(s -> s.name()).doesNotContain("echo-bt");
            assertThat(d.metrics().text()).doesNotContain("echo_bt").doesNotContain("monitor=\"echo-bt\"");
            assertThat(bpftraces()).isEmpty();
        }
    }

    @Test
    void jsonPrintedByTheScriptBecomesTheEventsFields(@TempDir Path dir) throws Exception {
        String json = "tracepoint:syscalls:sys_enter_getpgid /pid == $1 && args->pid >= 0x40000000/ {"
                + " printf(\"{\\\"event\\\": \\\"getpgid\\\", \\\"len\\\": %d, \\\"who\\\": \\\"%s\\\"}\\n\", args->pid - 0x40000000, comm); }\n";
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitor(script(dir, json), "")))) {
            TestMonitors.echo(7);
            await("a line", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("echo-bt");
                    return !d.lines("echo-bt").isEmpty();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            JsonNode l = new com.fasterxml.jackson.databind.ObjectMapper().readTree(d.lines("echo-bt").get(0));
            assertThat(l.get("event").asText()).isEqualTo("getpgid");
            assertThat(l.get("len").asInt()).isEqualTo(7);
            assertThat(l.get("who").asText()).isEqualTo(Files.readString(Path.of("/proc/thread-self/comm")).trim());
            assertThat(l.has("text")).isFalse();
            assertThat(l.has("pid")).as("the script did not print it").isFalse();
        }
    }
}
