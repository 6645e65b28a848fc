package io.bpfwatch.monitor.zfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresBpftrace;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The examples under monitors/examples/: each config snippet loads (bpftrace checks its script)
 * and probes, and the zfs-snapshots script audits the real OpenZFS client's snapshot ioctl.
 */
@RequiresBpf
@RequiresBpftrace
class ExamplesTest {
    static final Path EXAMPLES = Path.of("monitors/examples");

    /** A snippet with its script where the repository has it, under a monitors: of its own. */
    static String snippet(Path yaml, Path logs) throws Exception {
        return "logs:\n  dir: " + logs + "\n"
                + Files.readString(yaml).replace("/etc/bpfwatch/scripts/", EXAMPLES.toAbsolutePath() + "/");
    }

    @TestFactory
    Stream<DynamicTest> everyExampleLoadsAndProbes(@TempDir Path dir) throws Exception {
        List<Path> snippets;
        try (Stream<Path> s = Files.list(EXAMPLES)) {
            snippets = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(snippets).extracting(p -> p.getFileName().toString())
                .contains("dnswatch.yaml", "zfs-snapshots.yaml", "wireguard-latency.yaml", "opens.yaml");
        return snippets.stream().map(yaml -> DynamicTest.dynamicTest(yaml.getFileName().toString(), () -> {
            DaemonConfig c = new ConfigLoader(MonitorCatalog.builtin()).parse(yaml.toString(), snippet(yaml, dir));
            assertThat(c.monitors()).hasSize(1);
            MonitorConfig m = c.monitors().values().iterator().next();
            Availability a = MonitorCatalog.builtin().get(m.kind()).orElseThrow().probeParsed(Kernel.system(), m.settings());
            // wireguard-latency's kprobes only warn in the dry run: it fails when it attaches here
            assertThat(a).as(a.toString()).isInstanceOf(Availability.Supported.class);
        }));
    }

    @Test
    void theZfsSnapshotsScriptAuditsTheRealClient(@TempDir Path dir) throws Exception {
        Path dev = dir.resolve("zfs-standin");
        Files.createFile(dev);
        try (TestDaemon d = new TestDaemon(dir, snippet(EXAMPLES.resolve("zfs-snapshots.yaml"), dir.resolve("logs")))) {
            assertThat(d.state("zfs-snapshots")).isEqualTo(MonitorState.RUNNING);
            Process p = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"snapshot", "tank/home@monday"}));
            assertThat(ZfsClient.finish(p)).containsExactly("snapshot ENOTTY");
            JsonNode e = d.awaitEvents("zfs-snapshots", p.pid(), 1, Duration.ofSeconds(10)).get(0);
            assertThat(e.get("event").asText()).isEqualTo("zfs");
            assertThat(e.get("action").asText()).isEqualTo("snapshot");
            assertThat(e.get("comm").asText()).isEqualTo("zfsclient");
            assertThat(e.get("name").asText()).isEqualTo("tank");
            assertThat(e.get("ret").asLong()).isEqualTo(-25); // ENOTTY from the stand-in
        }
    }
}
