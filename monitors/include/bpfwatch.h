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
	/* Context: filled as bw_context asks, zero otherwise. */
	__u64 cgroup_id; /* BW_CTX_CGROUP: cgroup v2 id (its directory's inode in cgroupfs) */
	__u64 start_ns;  /* BW_CTX_PROCESS: the process's start, ns since boot (start_boottime):
			  * with pid it names one process across pid reuse */
	__u32 ppid;      /* BW_CTX_PARENT: the parent process */
	__u32 netns;     /* BW_CTX_NETNS: network namespace inode */
	char pcomm[BW_COMM_LEN]; /* BW_CTX_PARENT: the parent's command name */
};

/* bw_context bits: which context the header carries (set by the daemon between open and load). */
#define BW_CTX_PARENT 1
#define BW_CTX_CGROUP 2
#define BW_CTX_PROCESS 4
#define BW_CTX_NETNS 8

/* The exe of processes that called execve while the object was loaded (BW_CTX_PROCESS). */
#define BW_EXE_LEN 256
struct bw_exe {
	__u64 start_ns;  /* the process's start_boottime, to tell a reused pid */
	char path[BW_EXE_LEN]; /* the path execve was given (the kernel's bprm filename) */
};

/* The path of a cgroup v2 made while the object was loaded, by id (BW_CTX_CGROUP). */
#define BW_CGROUP_LEN 256
struct bw_cgroup {
	char path[BW_CGROUP_LEN]; /* from the hierarchy's root: "/machine.slice/m.scope/payload/system.slice/x.service" */
	__u32 depth; /* how many of its last components lie below bw_cgroup_root: the path the daemon sees */
};

#endif /* BPFWATCH_H */
