package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.config.ConfigError;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresBpftrace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How the config loader (and so `bpfwatch check` and every reload) checks a bpftrace monitor:
 * bpftrace's own dry run, each error at its line and column.
 */
@RequiresBpf
@RequiresBpftrace
class BpftraceConfigTest {
    private final ConfigLoader loader = new ConfigLoader(MonitorCatalog.builtin());

    private List<String> errors(String yaml) {
        try {
            loader.parse("bpfwatch.yaml", yaml);
        } catch (ConfigException e) {
            return e.errors().stream().map(ConfigError::toString).toList();
        }
        throw new AssertionError("accepted:\n" + yaml);
    }

    @Test
    void anErrorInAnInlineProgramIsReportedAtItsLineInTheConfig() {
        String yaml = """
                monitors:
                  opens:
                    kind: bpftrace
                    program: |
                      BEGIN { printf("starting\\n"); }
                      tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @x = nope; }
                """;
        assertThat(errors(yaml)).containsExactly("bpfwatch.yaml:6:70: monitors.opens.program: Unknown identifier: 'nope'");
    }

    @Test
    void anErrorInAScriptFileNamesTheFileAndItsLine(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("broken.bt");
        Files.writeString(script, "BEGIN {\n  printf(\"x\\n\")\n");
        assertThat(errors("monitors:\n  broken:\n    kind: bpftrace\n    script: " + script + "\n"))
                .singleElement().asString().startsWith("bpfwatch.yaml:4:13: monitors.broken.script: " + script + ":3:1: syntax error");
    }

    @Test
    void theSectionItselfIsChecked(@TempDir Path dir) {
        assertThat(errors("monitors:\n  a:\n    kind: bpftrace\n")).containsExactly(
                "bpfwatch.yaml:3:5: monitors.a needs script: FILE or program: TEXT");
        assertThat(errors("monitors:\n  a:\n    kind: bpftrace\n    script: " + dir.resolve("missing.bt") + "\n")).containsExactly(
                "bpfwatch.yaml:4:13: monitors.a.script: " + dir.resolve("missing.bt") + " does not exist");
        assertThat(errors("monitors:\n  a:\n    kind: bpftrace\n    script: /etc/passwd\n    program: 'BEGIN {}'\n")).containsExactly(
                "bpfwatch.yaml:5:5: monitors.a: give script or program, not both");
        assertThat(errors("monitors:\n  a:\n    kind: bpftrce\n    program: 'BEGIN {}'\n")).containsExactly(
                "bpfwatch.yaml:3:11: monitors.a.kind must be bpftrace or libbpf, not 'bpftrce'");
        assertThat(errors("monitors:\n  Opens:\n    kind: bpftrace\n    program: 'BEGIN {}'\n")).singleElement().asString()
                .startsWith("bpfwatch.yaml:2:3: monitors.Opens: a monitor's name must be lower case");
        assertThat(errors("monitors:\n  tcp:\n    kind: bpftrace\n")).containsExactly(
                "bpfwatch.yaml:3:5: monitors.tcp is the built-in tcp monitor; a custom monitor needs a name of its own");
        assertThat(errors("monitors:\n  opens: {}\n")).containsExactly(
                "bpfwatch.yaml:2:3: monitors.opens is not a built-in monitor (dns, tcp, zfs, wireguard); a custom monitor needs kind: bpftrace or kind: libbpf");
        assertThat(errors("monitors:\n  a:\n    kind: bpftrace\n    program: 'BEGIN {}'\n    metrics: { prefix: 'a-b', max-keys: 0 }\n"))
                .hasSize(2);
        assertThat(errors("monitors:\n  a:\n    kind: bpftrace\n    program: 'BEGIN {}'\n    perf-buffer: 3MiB\n")).containsExactly(
                "bpfwatch.yaml:5:18: monitors.a.perf-buffer must be a power of two (e.g. 2MiB, 8MiB)");
    }

    @Test
    void aProbeTheKernelLacksIsNotAConfigErrorTheMonitorIsUnavailable() throws Exception {
        DaemonConfig c = loader.parse("bpfwatch.yaml",
                "monitors:\n  zfsev:\n    kind: bpftrace\n    program: 'tracepoint:zfs:zfs_no_such_event { @ = count(); }'\n");
        BpftraceSettings s = (BpftraceSettings) c.monitors().get("zfsev").settings();
        Availability a = new BpftraceMonitorType().probe(Kernel.system(), s);
        assertThat(a).isInstanceOfSatisfying(Availability.Unsupported.class,
                u -> assertThat(u.reason()).contains("tracepoint not found: zfs:zfs_no_such_event"));
    }

    @Test
    void withoutBpftraceTheMonitorIsUnavailableAndSaysWhy() throws Exception {
        DaemonConfig c = loader.parse("bpfwatch.yaml",
                "monitors:\n  a:\n    kind: bpftrace\n    bpftrace: /nonexistent/bpftrace\n    program: 'BEGIN { }'\n");
        Availability a = new BpftraceMonitorType().probe(Kernel.system(), (BpftraceSettings) c.monitors().get("a").settings());
        assertThat(a).isEqualTo(new Availability.Unsupported("/nonexistent/bpftrace is not an executable"));
    }
}
