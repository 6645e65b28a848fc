package io.bpfwatch.config;

import java.nio.file.Path;

/** Where event logs go and who rotates them. */
public record LogsConfig(Path dir, Rotation rotation) {
    public static final Path DEFAULT_DIR = Path.of("/var/log/bpfwatch");

    /**
     * Rotation by the daemon (size, keep, compress), or {@code external}: logrotate renames the
     * files and sends SIGHUP, and the daemon reopens them.
     */
    public record Rotation(boolean external, long maxSize, int keep, boolean compress) {
        public static final Rotation DEFAULT = new Rotation(false, 100L << 20, 10, true);
        public static final Rotation EXTERNAL = new Rotation(true, 0, 0, false);
    }

    public static final LogsConfig DEFAULT = new LogsConfig(DEFAULT_DIR, Rotation.DEFAULT);
}
