// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: one counter per hook kind the binding can attach on this kind of kernel
 * (raw_tp, tp_btf, uprobe, uretprobe), each counting calls made by the target process.
 */
#include "bpfwatch.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

enum { HIT_RAW_TP, HIT_TP_BTF, HIT_UPROBE, HIT_URETPROBE };

static __always_inline void hit(__u32 which)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_pid)
		return;
	__u64 *n = bpf_map_lookup_elem(&hits, &which);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("raw_tp/sys_enter")
int hooks_raw_tp(void *ctx)
{
	hit(HIT_RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(hooks_tp_btf, struct pt_regs *regs, long id)
{
	hit(HIT_TP_BTF);
	return 0;
}

SEC("uprobe")
int hooks_uprobe(void *ctx)
{
	hit(HIT_UPROBE);
	return 0;
}

SEC("uretprobe")
int hooks_uretprobe(void *ctx)
{
	hit(HIT_URETPROBE);
	return 0;
}
