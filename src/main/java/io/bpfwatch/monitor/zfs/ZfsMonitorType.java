package io.bpfwatch.monitor.zfs;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * zfs: snapshot operations (create, destroy, rename, rollback, clone, promote, hold,
 * release) from the ioctl syscall tracepoints, filtered in the kernel on ZFS's command
 * numbers and the control device. Needs no ZFS BTF, no kprobes, not even the ZFS module:
 * without /dev/zfs the monitor runs and starts auditing when the device appears.
 */
public final class ZfsMonitorType implements MonitorType {
    static final List<String> TRACEPOINTS = List.of("syscalls/sys_enter_ioctl", "syscalls/sys_exit_ioctl");

    @Override
    public String name() {
        return "zfs";
    }

    /**
     * Records are as long as the names and nvlist they carry (~100-300 bytes, up to 8.7 KiB for
     * a batch destroy): 4 MiB holds ~15 000-40 000 operations, enough for an ioctl storm.
     */
    @Override
    public int defaultRingBuffer() {
        return 4 << 20;
    }

    @Override
    public String description() {
        return "ZFS snapshot operations (create, destroy, rename, rollback, clone, promote, hold, release) with names, process and result";
    }

    @Override
    public MonitorSettings parse(Section s) {
        Optional<Node> n = s.take("device");
        if (n.isEmpty()) return ZfsSettings.DEFAULT;
        String what = s.path() + ".device";
        if (!(n.get() instanceof ScalarNode scalar)) {
            s.problems().at(n.get(), what + " must be a path like /dev/zfs, not " + Section.describe(n.get()));
            return ZfsSettings.DEFAULT;
        }
        String v = scalar.getValue();
        if (!v.startsWith("/")) {
            s.problems().at(n.get(), what + " must be an absolute path like /dev/zfs, not '" + v + "'");
            return ZfsSettings.DEFAULT;
        }
        try {
            return new ZfsSettings(Path.of(v)); // as written: ".." next to a symlink means what the kernel says
        } catch (InvalidPathException e) {
            s.problems().at(n.get(), what + " is not a usable path: " + e.getReason());
            return ZfsSettings.DEFAULT;
        }
    }

    @Override
    public Availability probe(Kernel kernel, MonitorSettings settings) {
        Optional<String> missing = kernel.missingTracepoints(TRACEPOINTS);
        if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        Path device = settings instanceof ZfsSettings z ? z.device() : ZfsSettings.DEFAULT_DEVICE;
        String state = ZfsDevice.of(device).map(d -> device + " (" + d + ")")
                .orElse(device + " (absent: audited from when it appears)");
        List<String> points = TRACEPOINTS.stream().map(t -> "tracepoint/" + t).toList();
        return new Availability.Supported("ioctl tracepoints, ZFS commands on " + state, points);
    }

    @Override
    public BpfMonitor create(MonitorConfig config, MonitorContext context) {
        return new ZfsMonitor(config, context);
    }
}
