// SPDX-License-Identifier: GPL-2.0
/* Test-only: a program the verifier must reject (unchecked map value pointer). */
#include "bpfwatch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int rejected_prog(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	*v += 1; /* no NULL check: "invalid mem access 'map_value_or_null'" */
	return 0;
}
