package io.bpfwatch.monitor.zfs;

import io.bpfwatch.monitor.MonitorSettings;

import java.nio.file.Path;

/** monitors.zfs: which file is the ZFS control device (a stand-in file in tests). */
public record ZfsSettings(Path device) implements MonitorSettings {
    public static final Path DEFAULT_DEVICE = Path.of("/dev/zfs");
    public static final ZfsSettings DEFAULT = new ZfsSettings(DEFAULT_DEVICE);
}
