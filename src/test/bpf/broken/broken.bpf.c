// SPDX-License-Identifier: GPL-2.0
/* Test-only: loads fine, but its tracepoint does not exist, so every attach fails. */
#include "bpfwatch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/bpfwatch_test/does_not_exist")
int broken_probe(void *ctx)
{
	struct bw_header *h = bw_reserve(sizeof(*h));
	if (h) {
		bw_fill_header(h, 1);
		bw_submit(h, sizeof(*h));
	}
	return 0;
}
