package io.bpfwatch.monitor.zfs;

import io.bpfwatch.libbpf.Errno;

/**
 * Names an ioctl's return value: "ok", the errno name ("ENOENT", "EBUSY"), or the name of
 * one of OpenZFS's own error codes (zfs_errno_t, from 1024 on, e.g. "ZFS_ERR_WRONG_PARENT").
 */
public final class ZfsResult {
    public static final String OK = "ok";
    /** The operation was in progress when the monitor stopped: its outcome was not seen. */
    public static final String UNKNOWN = "unknown";
    /** Metric label for numbers without a name, so labels stay bounded. */
    public static final String OTHER = "other";

    /** include/sys/fs/zfs.h, zfs_errno_t, in order from ZFS_ERR_CHECKPOINT_EXISTS = 1024. */
    private static final String[] ZFS_ERRORS = {
        "ZFS_ERR_CHECKPOINT_EXISTS", "ZFS_ERR_DISCARDING_CHECKPOINT", "ZFS_ERR_NO_CHECKPOINT",
        "ZFS_ERR_DEVRM_IN_PROGRESS", "ZFS_ERR_VDEV_TOO_BIG", "ZFS_ERR_IOC_CMD_UNAVAIL",
        "ZFS_ERR_IOC_ARG_UNAVAIL", "ZFS_ERR_IOC_ARG_REQUIRED", "ZFS_ERR_IOC_ARG_BADTYPE",
        "ZFS_ERR_WRONG_PARENT", "ZFS_ERR_FROM_IVSET_GUID_MISSING", "ZFS_ERR_FROM_IVSET_GUID_MISMATCH",
        "ZFS_ERR_SPILL_BLOCK_FLAG_MISSING", "ZFS_ERR_UNKNOWN_SEND_STREAM_FEATURE",
        "ZFS_ERR_EXPORT_IN_PROGRESS", "ZFS_ERR_BOOKMARK_SOURCE_NOT_ANCESTOR", "ZFS_ERR_STREAM_TRUNCATED",
        "ZFS_ERR_STREAM_LARGE_BLOCK_MISMATCH", "ZFS_ERR_RESILVER_IN_PROGRESS",
        "ZFS_ERR_REBUILD_IN_PROGRESS", "ZFS_ERR_BADPROP", "ZFS_ERR_VDEV_NOTSUP",
        "ZFS_ERR_NOT_USER_NAMESPACE", "ZFS_ERR_RESUME_EXISTS", "ZFS_ERR_CRYPTO_NOTSUP",
        "ZFS_ERR_RAIDZ_EXPAND_IN_PROGRESS", "ZFS_ERR_ASHIFT_MISMATCH", "ZFS_ERR_STREAM_LARGE_MICROZAP",
        "ZFS_ERR_TOO_MANY_SITOUTS", "ZFS_ERR_NO_USER_NS_SUPPORT",
    };
    private static final int ZFS_ERR_FIRST = 1024;

    private ZfsResult() {}

    /** The result of a syscall that returned {@code ret} (0 or -errno). */
    public static String of(long ret) {
        if (ret >= 0) return OK;
        if (ret < -4095) return "errno " + ret; // not an error return; never seen from the kernel
        int e = (int) -ret;
        if (e >= ZFS_ERR_FIRST && e < ZFS_ERR_FIRST + ZFS_ERRORS.length) return ZFS_ERRORS[e - ZFS_ERR_FIRST];
        return Errno.name(e);
    }

    /** {@code result} as a metric label: names as they are, bare numbers as "other". */
    public static String label(String result) {
        return result.startsWith("errno ") ? OTHER : result;
    }
}
