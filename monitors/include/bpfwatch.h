/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Layout shared by every monitor's event: the BPF side fills it, the Java side
 * (io.bpfwatch.event.EventHeader) reads it at the offsets stated there, and a test checks
 * those offsets against this struct's BTF in the compiled objects.
 */
#ifndef BPFWATCH_H
#define BPFWATCH_H

#define BW_COMM_LEN 16

struct bw_header {
	__u64 ts_ns;     /* CLOCK_MONOTONIC, bpf_ktime_get_ns() */
	__u32 pid;       /* process (thread group) id */
	__u32 tid;       /* thread id */
	__u32 uid;
	__u32 type;      /* monitor-specific event type */
	char comm[BW_COMM_LEN]; /* the process's command name (thread group leader) */
};

#endif /* BPFWATCH_H */
