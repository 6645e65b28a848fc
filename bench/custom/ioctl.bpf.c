// SPDX-License-Identifier: GPL-2.0
/*
 * bench/bpftrace/zfs.bt as a user's CO-RE object for bpfwatch's libbpf kind: ZFS snapshot
 * ioctls with the process and the pool name, one ring buffer record each (default wakeups, as
 * a user would write it; none of bpfwatch's own batching).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct ioctl_event {
	__u32 pid;
	__u32 uid;
	char comm[16];
	__u32 cmd;
	char name[64];
};

const struct ioctl_event *unused_ioctl_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} ioctls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_ioctl")
int zfs_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = ctx->args[1];
	if (cmd != 0x5a23 && cmd != 0x5a3b && cmd != 0x5a18 && cmd != 0x5a19 && cmd != 0x5a1a)
		return 0;
	struct ioctl_event *e = bpf_ringbuf_reserve(&ioctls, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->cmd = cmd;
	bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)ctx->args[2]);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
