// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: a kprobe, kretprobe, fentry and fexit program on tcp_v4_connect, each counting
 * the connects target_pid makes to target_port, so a test can tell that every kind of
 * function hook the binding attaches really fires (and reads the function's arguments and
 * return value), and stops firing once detached. hits[kind] counts; see enum hit.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The registers PT_REGS_PARM2 and PT_REGS_RC read; CO-RE relocates them to the real layout. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di, si, ax;
} __attribute__((preserve_access_index));
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
} __attribute__((preserve_access_index));
#endif
#define __VMLINUX_H__ /* tells bpf_tracing.h to use the kernel's register names */
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_pid = 0;
const volatile __u16 target_port = 0; /* host byte order */

enum hit { HIT_KPROBE, HIT_KRETPROBE, HIT_FENTRY, HIT_FEXIT, HIT_KINDS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIT_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* Threads inside a matching tcp_v4_connect, between its kprobe and its kretprobe. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pending SEC(".maps");

static __always_inline void count(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &kind);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* tcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len): sin_port is at 2. */
static __always_inline bool ours(const void *uaddr)
{
	__be16 port = 0;

	if ((bpf_get_current_pid_tgid() >> 32) != target_pid)
		return false;
	bpf_probe_read_kernel(&port, sizeof(port), uaddr + 2);
	return bpf_ntohs(port) == target_port;
}

SEC("kprobe/tcp_v4_connect")
int attach_kprobe(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	if (!ours((void *)PT_REGS_PARM2(ctx)))
		return 0;
	count(HIT_KPROBE);
	bpf_map_update_elem(&pending, &tid, &one, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int attach_kretprobe(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&pending, &tid))
		return 0;
	bpf_map_delete_elem(&pending, &tid);
	if (PT_REGS_RC(ctx) == 0)
		count(HIT_KRETPROBE);
	return 0;
}

SEC("fentry/tcp_v4_connect")
int BPF_PROG(attach_fentry, void *sk, void *uaddr)
{
	if (ours(uaddr))
		count(HIT_FENTRY);
	return 0;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(attach_fexit, void *sk, void *uaddr, int addr_len, int ret)
{
	if (ours(uaddr) && ret == 0)
		count(HIT_FEXIT);
	return 0;
}
