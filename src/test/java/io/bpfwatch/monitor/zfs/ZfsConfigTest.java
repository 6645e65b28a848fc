package io.bpfwatch.monitor.zfs;

import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** monitors.zfs in the config file, the shipped default, and what probe says. */
class ZfsConfigTest {
    private final ConfigLoader loader = new ConfigLoader(MonitorCatalog.builtin());

    static Path resource(String name) throws Exception {
        return Path.of(ZfsConfigTest.class.getResource("/configs/" + name).toURI());
    }

    @Test
    void deviceIsReadAsAnAbsolutePath() throws Exception {
        DaemonConfig c = loader.load(resource("good/zfs.yaml"));
        MonitorConfig zfs = c.monitors().get("zfs");
        assertThat(zfs.enabled()).isTrue();
        assertThat(zfs.ringBufferBytes()).isEqualTo(1 << 20);
        assertThat(zfs.settings()).isEqualTo(new ZfsSettings(Path.of("/run/zfs-standin/zfs")));
    }

    @Test
    void theDefaultDeviceIsDevZfs() throws Exception {
        DaemonConfig c = loader.parse("test.yaml", "monitors:\n  zfs: {}\n");
        assertThat(c.monitors().get("zfs").settings()).isEqualTo(ZfsSettings.DEFAULT);
        assertThat(ZfsSettings.DEFAULT.device()).isEqualTo(Path.of("/dev/zfs"));
    }

    @Test
    void theShippedConfigEnablesZfsOnDevZfs() throws Exception {
        DaemonConfig c = loader.load(Path.of("packaging/bpfwatch.yaml"));
        MonitorConfig zfs = c.monitors().get("zfs");
        assertThat(zfs).isNotNull();
        assertThat(zfs.enabled()).isTrue();
        assertThat(zfs.settings()).isEqualTo(new ZfsSettings(Path.of("/dev/zfs")));
    }

    /** On a kernel with syscall tracepoints the monitor is runnable, device or not; probe says which. */
    @Test
    void probeNeedsOnlyTheIoctlTracepoints() {
        Kernel k = Kernel.system();
        if (k.missingTracepoints(List.of("syscalls/sys_enter_ioctl", "syscalls/sys_exit_ioctl")).isPresent()) {
            assertThat(new ZfsMonitorType().probe(k, ZfsSettings.DEFAULT)).isInstanceOf(Availability.Unsupported.class);
            return;
        }
        Availability absent = new ZfsMonitorType().probe(k, new ZfsSettings(Path.of("/nonexistent/zfs")));
        assertThat(absent).isInstanceOfSatisfying(Availability.Supported.class, s -> {
            assertThat(s.strategy()).contains("/nonexistent/zfs (absent: audited from when it appears)");
            assertThat(s.attachPoints()).containsExactly("tracepoint/syscalls/sys_enter_ioctl", "tracepoint/syscalls/sys_exit_ioctl");
        });
        Availability present = new ZfsMonitorType().probe(k, new ZfsSettings(Path.of("/dev/null")));
        assertThat(present).isInstanceOfSatisfying(Availability.Supported.class,
                s -> assertThat(s.strategy()).contains("/dev/null (character device 1:3)"));
        assertThat(new ZfsMonitorType().probe(k, ZfsSettings.DEFAULT)).isInstanceOf(Availability.Supported.class);
    }
}
