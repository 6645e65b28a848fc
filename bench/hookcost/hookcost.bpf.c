// SPDX-License-Identifier: GPL-2.0
/*
 * bench only (make bench-hooks): the same work attached three ways, to measure what each kind
 * of system-call hook costs every call. Each pair records an ioctl(ZFS_IOC_SNAPSHOT) at entry
 * and looks it up at exit, as the zfs monitor does; every other call is filtered out.
 *   tp_*   perf-event tracepoints syscalls:sys_{enter,exit}_ioctl (what bpfwatch uses)
 *   btf_*  BTF tracepoints on raw_syscalls sys_enter/sys_exit, dispatching on the number
 *   raw_*  raw tracepoints on the same, reading the registers through a helper
 * Built against the running kernel's BTF (bpftool btf dump), x86-64 only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define NR_IOCTL 16
#define ZFS_IOC_SNAPSHOT 0x5a23

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} inflight SEC(".maps");

static __always_inline void enter(__u32 cmd)
{
	if (cmd == ZFS_IOC_SNAPSHOT) {
		__u64 id = bpf_get_current_pid_tgid();
		bpf_map_update_elem(&inflight, &id, &id, BPF_ANY);
	}
}

static __always_inline void leave(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (bpf_map_lookup_elem(&inflight, &id))
		bpf_map_delete_elem(&inflight, &id);
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int tp_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter((__u32)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp_exit(struct trace_event_raw_sys_exit *ctx)
{
	leave();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id)
{
	if (id == NR_IOCTL)
		enter((__u32)regs->si);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret)
{
	if (regs->orig_ax == NR_IOCTL)
		leave();
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	__u64 si = 0;

	if (ctx->args[1] != NR_IOCTL)
		return 0;
	bpf_probe_read_kernel(&si, sizeof(si), &regs->si);
	enter((__u32)si);
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	__u64 nr = 0;

	bpf_probe_read_kernel(&nr, sizeof(nr), &regs->orig_ax);
	if (nr == NR_IOCTL)
		leave();
	return 0;
}
