package io.bpfwatch.monitor.zfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * How the kernel side recognises the ZFS control device: the key of the zfs_devices map
 * (struct zfs_dev_key in monitors/zfs/zfs.h). A character device is identified by its device
 * number, so every node of it matches (a container's own /dev/zfs, a bind mount); anything
 * else, like a test's stand-in file, by its filesystem and inode.
 */
public record ZfsDevice(int kind, int dev, long ino) {
    public static final int CHAR = 1, FILE = 2;
    public static final int KEY_SIZE = 16;
    private static final int S_IFMT = 0170000, S_IFCHR = 0020000;

    /** What {@code path} (symlinks followed) is now, or empty if it does not exist or cannot be read. */
    public static Optional<ZfsDevice> of(Path path) {
        // Asked every second while the device is missing (no ZFS module): File.exists answers
        // without the exception readAttributes throws then, which cost ~0.6 ms a second idle.
        if (!path.toFile().exists()) return Optional.empty();
        Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:mode,rdev,dev,ino");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
        int mode = (Integer) a.get("mode");
        if ((mode & S_IFMT) == S_IFCHR) return Optional.of(new ZfsDevice(CHAR, kernelDev((Long) a.get("rdev")), 0));
        return Optional.of(new ZfsDevice(FILE, kernelDev((Long) a.get("dev")), (Long) a.get("ino")));
    }

    /** stat()'s dev_t (glibc's encoding) as the kernel's internal one: major << 20 | minor. */
    static int kernelDev(long dev) {
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        return (int) ((major << 20) | (minor & 0xfffff));
    }

    public int major() {
        return dev >>> 20;
    }

    public int minor() {
        return dev & 0xfffff;
    }

    /** The map key's bytes in native order: {u32 dev, u32 kind, u64 ino}. */
    void writeKey(com.sun.jna.Pointer p) {
        p.setInt(0, dev);
        p.setInt(4, kind);
        p.setLong(8, ino);
    }

    @Override
    public String toString() {
        return kind == CHAR ? "character device " + major() + ":" + minor()
                : "file " + ino + " on device " + major() + ":" + minor();
    }
}
