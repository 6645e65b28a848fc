/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The zfs monitor's event, shared by zfs.bpf.c and io.bpfwatch.monitor.zfs.ZfsRecord. */
#ifndef BPFWATCH_ZFS_H
#define BPFWATCH_ZFS_H

#include "bpfwatch.h"

#define ZFS_EVENT_IOCTL 1

/* ZFS_MAX_DATASET_NAME_LEN: ZFS refuses longer names, so nothing longer names a real dataset. */
#define ZFS_NAME_LEN 256
/* How much of the packed nvlist is kept: ~100 snapshot names of a batch destroy. */
#define ZFS_NVL_MAX 8192

/* What the kernel side could not copy completely (zfs_event.flags). */
#define ZFS_F_NAME_TRUNCATED  1  /* zc_name did not fit ZFS_NAME_LEN */
#define ZFS_F_VALUE_TRUNCATED 2  /* zc_value did not fit ZFS_NAME_LEN */
#define ZFS_F_CMD_FAULT       4  /* the zfs_cmd_t could not be read */
#define ZFS_F_NVL_FAULT       8  /* the nvlist could not be read (whole or in part) */

/* Keys of the zfs_devices map: what identifies the configured control device. */
#define ZFS_DEV_CHAR 1  /* a character device: dev = i_rdev, ino = 0 (any node of that device) */
#define ZFS_DEV_FILE 2  /* anything else (a test's stand-in file): dev = i_sb->s_dev, ino = i_ino */

struct zfs_dev_key {
	__u32 dev;      /* kernel dev_t: major << 20 | minor */
	__u32 kind;     /* ZFS_DEV_* */
	__u64 ino;
};

/*
 * One audited ioctl. Emitted at syscall exit with everything read at entry (what ZFS copies in
 * is what the caller passed then). data holds, back to back, zc_name (name_len bytes, its NUL
 * included), zc_value (value_len bytes, rename only) and the first nvl_len bytes of the packed
 * nvlist; the record ends there, so a typical operation sends ~100 bytes, not 8.7 KiB.
 */
struct zfs_event {
	struct bw_header h;      /* ts_ns: ioctl entry; pid, uid, comm of the caller */
	__u64 duration_ns;       /* entry to exit */
	__s64 ret;               /* the syscall's return: 0 or -errno */
	__u64 nvl_size;          /* zc_nvlist_src_size as the caller gave it */
	__u64 cookie;            /* zc_cookie (rename: 1 recursive, 2 nounmount) */
	__u32 cmd;               /* ZFS_IOC_* */
	__u32 ppid;              /* the caller's parent (thread group id) */
	__u32 flags;             /* ZFS_F_* */
	__u32 nvl_len;           /* bytes of the packed nvlist in data */
	__u16 name_len;          /* bytes of zc_name in data, NUL included (at most ZFS_NAME_LEN) */
	__u16 value_len;         /* bytes of zc_value in data after the name, NUL included; 0 if not read */
	__u32 pad;
	__u8 data[2 * ZFS_NAME_LEN + ZFS_NVL_MAX];
};

#endif /* BPFWATCH_ZFS_H */
