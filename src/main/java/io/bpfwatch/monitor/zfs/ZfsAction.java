package io.bpfwatch.monitor.zfs;

/**
 * The audited ZFS ioctls (include/sys/fs/zfs.h, zfs_ioc_t: ('Z' << 8) + index, stable since
 * OpenZFS 0.6.5) and the action each is logged as. monitors/zfs/zfs.bpf.c filters on the
 * same numbers.
 */
public enum ZfsAction {
    /** ZFS_IOC_DESTROY: one dataset or snapshot by name (libzfs's `zfs destroy pool/fs`, lzc_destroy). */
    DESTROY(0x5a18, "destroy"),
    /** ZFS_IOC_ROLLBACK: zc_name is the file system; nvlist {"target": snapshot} when named. */
    ROLLBACK(0x5a19, "rollback"),
    /** ZFS_IOC_RENAME: zc_name to zc_value; zc_cookie bit 0 = recursive (snapshots). */
    RENAME(0x5a1a, "rename"),
    /** ZFS_IOC_PROMOTE: zc_name is the clone being promoted. */
    PROMOTE(0x5a22, "promote"),
    /** ZFS_IOC_SNAPSHOT: nvlist {"snaps": {name: boolean}, "props": {...}}; zc_name is the pool. */
    SNAPSHOT(0x5a23, "snapshot"),
    /** ZFS_IOC_HOLD: nvlist {"holds": {snapshot: tag}, "cleanup_fd": int32}. */
    HOLD(0x5a30, "hold"),
    /** ZFS_IOC_RELEASE: nvlist {snapshot: {tag: boolean}}. */
    RELEASE(0x5a31, "release"),
    /** ZFS_IOC_DESTROY_SNAPS: nvlist {"snaps": {name: boolean}, "defer"?}; what `zfs destroy fs@snap` sends. */
    DESTROY_SNAPS(0x5a3b, "destroy"),
    /** ZFS_IOC_CLONE: zc_name is the new file system; nvlist {"origin": snapshot, "props": {...}}. */
    CLONE(0x5a42, "clone");

    private static final ZfsAction[] ALL = values();

    public final int cmd;
    /** The event's "action" field and metric label. */
    public final String action;

    ZfsAction(int cmd, String action) {
        this.cmd = cmd;
        this.action = action;
    }

    /** The action for an ioctl command number, or null if it is not audited. */
    public static ZfsAction of(int cmd) {
        for (ZfsAction a : ALL) if (a.cmd == cmd) return a;
        return null;
    }

    /** Distinct action names, for registering metrics up front. */
    public static java.util.List<String> actions() {
        return java.util.Arrays.stream(values()).map(a -> a.action).distinct().toList();
    }
}
