// SPDX-License-Identifier: GPL-2.0
/*
 * zfs: an audit trail of snapshot operations, from the ioctl syscall tracepoints.
 *
 * Every ZFS administrative operation is an ioctl on the control device (/dev/zfs), with a
 * zfs_cmd_t whose command numbers have been stable since OpenZFS 0.6.5. Hooking the syscall,
 * not ZFS's functions, works on every kernel with or without the ZFS module's BTF or kprobes,
 * sees `zfs destroy fs@snap` (ZFS_IOC_DESTROY_SNAPS), and gives the result and the duration.
 *
 * Filtering happens here, cheapest test first: the command number (one compare on every
 * ioctl in the system), then whether the fd is the configured control device. The device is
 * identified through the zfs_devices map, which the daemon fills from stat() of the configured
 * path and refreshes while running, so a module loaded later (or reloaded with another minor)
 * is audited without a restart:
 *   - a character device matches by its device number (i_rdev), so every node of it counts:
 *     /dev/zfs in a container's own /dev, a bind mount, a mknod'd copy;
 *   - anything else (a test's stand-in file) matches by filesystem and inode.
 *
 * At entry the names and the first bytes of the packed nvlist are copied (what ZFS copies in
 * is what the caller passed then) back to back into the thread's in-flight record; at exit it
 * leaves as one record with the return value and duration. Only the bytes copied go to the
 * ring buffer, so records are as small as the operation (a snapshot: ~150 bytes, not the
 * 8.7 KiB the record can hold; fixed-size name fields would make every record at least 600).
 *
 * The in-flight record is a thread's own element of an LRU hash, filled in place: created on
 * the thread's first audited ioctl (one copy of the empty record), reused by its next ones and
 * marked done at exit (h.ts_ns = 0) instead of deleted; threads that are gone age out of the
 * LRU. (Inserting and deleting an element per operation would copy the whole 8.7 KiB record
 * into a newly allocated element at every entry: measured ~1.35 us of BPF time per operation
 * instead of ~0.7.) The daemon reads the elements still in flight when it stops.
 * Task storage would be cheaper still but cannot be listed from user space.
 */
#include "bpfwatch.bpf.h"
#include "zfs.h"

char LICENSE[] SEC("license") = "GPL";

/* include/sys/fs/zfs.h, zfs_ioc_t: ZFS_IOC_FIRST ('Z' << 8) + index, stable since 0.6.5. */
#define ZFS_IOC_DESTROY       0x5a18
#define ZFS_IOC_ROLLBACK      0x5a19
#define ZFS_IOC_RENAME        0x5a1a
#define ZFS_IOC_PROMOTE       0x5a22
#define ZFS_IOC_SNAPSHOT      0x5a23
#define ZFS_IOC_HOLD          0x5a30
#define ZFS_IOC_RELEASE       0x5a31
#define ZFS_IOC_DESTROY_SNAPS 0x5a3b
#define ZFS_IOC_CLONE         0x5a42

/* include/sys/zfs_ioctl.h, zfs_cmd_t (same on every 64-bit Linux ABI: all members are fixed-size). */
#define ZC_NAME             0
#define ZC_NVLIST_SRC       4096
#define ZC_NVLIST_SRC_SIZE  4104
#define ZC_VALUE            4144
#define ZC_COOKIE           12616

#define S_IFMT  0170000
#define S_IFCHR 0020000

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct zfs_dev_key);
	__type(value, __u32);
} zfs_devices SEC(".maps");

/*
 * Per thread id, its last operation; h.ts_ns != 0 while in flight. An in-flight element is
 * evicted only if this many other threads start operations before it returns.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct zfs_event);
} inflight SEC(".maps");

/* All zeroes: the value a thread's element is created from. Too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zfs_event);
} empty SEC(".maps");

/*
 * How many elements of inflight are in flight. Every ioctl in the system runs the exit
 * program; while no audited operation is under way (almost always) it returns on this one
 * load instead of a hash lookup. An element evicted in flight leaves it too high: then the
 * exit merely looks up, as it would without it.
 */
__u64 inflight_ops = 0;

/* This thread's element of inflight, created if missing. */
static __always_inline struct zfs_event *thread_record(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct zfs_event *e = bpf_map_lookup_elem(&inflight, &tid);
	struct zfs_event *blank;

	if (e)
		return e;
	blank = bpf_map_lookup_elem(&empty, &zero);
	if (!blank || bpf_map_update_elem(&inflight, &tid, blank, BPF_NOEXIST) != 0)
		return NULL;
	return bpf_map_lookup_elem(&inflight, &tid);
}

static __always_inline bool audited(__u32 cmd)
{
	switch (cmd) {
	case ZFS_IOC_DESTROY:
	case ZFS_IOC_ROLLBACK:
	case ZFS_IOC_RENAME:
	case ZFS_IOC_PROMOTE:
	case ZFS_IOC_SNAPSHOT:
	case ZFS_IOC_HOLD:
	case ZFS_IOC_RELEASE:
	case ZFS_IOC_DESTROY_SNAPS:
	case ZFS_IOC_CLONE:
		return true;
	default:
		return false;
	}
}

/*
 * Is the current task's fd open on the configured ZFS control device? The task's own fields are
 * plain loads through its BTF pointer (no helper call each); the file and inode are read with
 * bpf_probe_read_kernel, as kernels before 6.2 cannot type a pointer read from the fd array.
 */
static __always_inline bool on_zfs_device(__u64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;
	struct inode *inode;
	struct zfs_dev_key key = {};

	if (!fdt || fd >= fdt->max_fds)
		return false;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]) != 0 || !f)
		return false;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return false;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFCHR) {
		key.kind = ZFS_DEV_CHAR;
		key.dev = BPF_CORE_READ(inode, i_rdev);
	} else {
		key.kind = ZFS_DEV_FILE;
		key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(inode, i_ino);
	}
	return bpf_map_lookup_elem(&zfs_devices, &key) != NULL;
}

/*
 * Copies a NUL-terminated name of at most ZFS_NAME_LEN - 1 bytes to dst and flags a longer one.
 * Returns the bytes stored, the NUL included (1 to ZFS_NAME_LEN; an unreadable name is "").
 */
static __always_inline __u32 copy_name(char *dst, const char *src, __u32 *flags, __u32 truncated)
{
	long n = bpf_probe_read_user_str(dst, ZFS_NAME_LEN, src);
	char next = 0;

	if (n <= 0) {
		dst[0] = 0;
		*flags |= ZFS_F_CMD_FAULT;
		return 1;
	}
	if (n == ZFS_NAME_LEN && bpf_probe_read_user(&next, 1, src + ZFS_NAME_LEN - 1) == 0 && next)
		*flags |= truncated;
	barrier_var(n);
	if (n > ZFS_NAME_LEN)
		n = ZFS_NAME_LEN;
	return n;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int zfs_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = (__u32)ctx->args[1]; /* the kernel's ioctl takes an unsigned int */
	struct {
		__u64 src;  /* zc_nvlist_src */
		__u64 size; /* zc_nvlist_src_size, right after it */
	} nvl = {};
	const char *zc;
	__u32 off;
	struct zfs_event *e;

	if (!audited(cmd))
		return 0;
	if (!on_zfs_device((__u32)ctx->args[0]))
		return 0;
	zc = (const char *)ctx->args[2];

	e = thread_record();
	if (!e) {
		bw_count_lost();
		return 0;
	}
	if (!e->h.ts_ns) /* not a leftover still marked in flight */
		__sync_fetch_and_add(&inflight_ops, 1);
	bw_fill_header(&e->h, ZFS_EVENT_IOCTL);
	e->ppid = bpf_get_current_task_btf()->real_parent->tgid;
	e->cmd = cmd;
	e->duration_ns = 0;
	e->ret = 0;
	e->flags = 0;
	e->cookie = 0;
	e->nvl_len = 0;
	e->value_len = 0;

	off = copy_name((char *)e->data, zc + ZC_NAME, &e->flags, ZFS_F_NAME_TRUNCATED);
	e->name_len = off;
	if (cmd == ZFS_IOC_RENAME) {
		__u32 n = copy_name((char *)e->data + off, zc + ZC_VALUE, &e->flags, ZFS_F_VALUE_TRUNCATED);

		e->value_len = n;
		off += n;
		if (bpf_probe_read_user(&e->cookie, sizeof(e->cookie), zc + ZC_COOKIE) != 0)
			e->flags |= ZFS_F_CMD_FAULT;
	}

	if (bpf_probe_read_user(&nvl, sizeof(nvl), zc + ZC_NVLIST_SRC) != 0)
		e->flags |= ZFS_F_CMD_FAULT;
	e->nvl_size = nvl.size;
	if (nvl.src && nvl.size) {
		__u32 len = nvl.size < ZFS_NVL_MAX ? nvl.size : ZFS_NVL_MAX;

		/* the names take at most 2 * ZFS_NAME_LEN: the nvlist always fits behind them */
		barrier_var(off);
		if (off > 2 * ZFS_NAME_LEN)
			off = 2 * ZFS_NAME_LEN;
		if (bpf_probe_read_user(e->data + off, len, (const void *)nvl.src) == 0) {
			e->nvl_len = len;
		} else {
			/* A page of it is not resident (no faults here): keep what the first page holds. */
			__u32 first = 4096 - (nvl.src & 4095);

			e->flags |= ZFS_F_NVL_FAULT;
			if (first < len && bpf_probe_read_user(e->data + off, first, (const void *)nvl.src) == 0)
				e->nvl_len = first;
		}
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int zfs_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid;
	struct zfs_event *e;

	if (!inflight_ops)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e || !e->h.ts_ns)
		return 0;
	e->ret = ctx->ret;
	e->duration_ns = bpf_ktime_get_ns() - e->h.ts_ns;

	__u64 size = __builtin_offsetof(struct zfs_event, data) + e->name_len + e->value_len + e->nvl_len;
	barrier_var(size);
	if (size > sizeof(*e))
		size = sizeof(*e);
	/* Variable length, so bw_reserve/bw_submit do not fit; same batched wakeups. */
	if (!bw_output(e, size))
		bw_count_lost();
	e->h.ts_ns = 0;
	__sync_fetch_and_sub(&inflight_ops, 1);
	return 0;
}
