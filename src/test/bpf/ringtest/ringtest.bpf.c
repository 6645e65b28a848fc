// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: one ring record per getpgid(arg) call of the target process, so a test decides
 * how many records of which size the kernel produces. Record: bw_header, u64 seq, u32 len,
 * then len bytes of (seq + i) & 0xff; len = arg & 0x3ff.
 */
#include "bpfwatch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

#define MAX_PAYLOAD 1024

struct ring_record {
	struct bw_header h;
	__u64 seq;
	__u32 len;
	__u8 payload[MAX_PAYLOAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ring_record);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpgid")
int ringtest_getpgid(struct trace_event_raw_sys_enter *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&seq, &zero);
	struct ring_record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !r)
		return 0;
	__u64 n = __sync_fetch_and_add(s, 1);
	__u32 len = ctx->args[0] & 0x3ff;

	bw_fill_header(&r->h, 1);
	r->seq = n;
	r->len = len;
	for (__u32 i = 0; i < MAX_PAYLOAD; i++) {
		if (i >= len)
			break;
		r->payload[i] = (n + i) & 0xff;
	}
	/* variable-size records exercise the reader's alignment and wrap-around */
	__u64 size = (sizeof(struct ring_record) - MAX_PAYLOAD + len) & 0x7ff;
	if (size < sizeof(struct ring_record) - MAX_PAYLOAD)
		return 0;
	if (!bw_output(r, size))
		bw_count_lost();
	return 0;
}
