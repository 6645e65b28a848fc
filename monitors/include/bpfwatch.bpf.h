/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every bpfwatch monitor shares on the kernel side:
 *  - the "events" ring buffer the daemon reads without libbpf (pure Java over mmap),
 *  - "bw_lost", a per-CPU count of records the ring could not take (read at scrape time),
 *  - batched wakeups: records are submitted with BPF_RB_NO_WAKEUP and force a wakeup only when
 *    the queued bytes cross a multiple of bw_wakeup_bytes; the reader drains on an epoll timeout
 *    too, so nothing strands. Waking the reader per record costs the traced process ~3 us;
 *    batching brings it to ~0.5 us. Only the record that crosses a multiple wakes the reader, so
 *    a reader that lags behind a burst is not woken again for every record.
 *  - "bw_reader", one word the daemon's reader sets (through a shared mapping) before it sleeps
 *    long because nothing came: the first record after it clears the word and wakes the reader.
 *    An idle reader then wakes once a second (its periodic work) instead of every 50 ms, and a
 *    lone event after a quiet spell is delivered at once rather than at the next timeout.
 */
#ifndef BPFWATCH_BPF_H
#define BPFWATCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bpfwatch.h"

#ifndef BW_RINGBUF_BYTES
#define BW_RINGBUF_BYTES (8 * 1024 * 1024)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bw_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bw_reader SEC(".maps");

/* Set by the daemon between open and load. */
const volatile __u64 bw_wakeup_bytes = 256 * 1024;
/* BW_CTX_* bits: the context the daemon asked for (bpfwatch.h). */
const volatile __u32 bw_context = 0;

/*
 * The path each process was exec'd from, by pid, for the daemon to name its events' exe (read
 * once per process, then cached there). An LRU map, not deleted at exit: a short-lived
 * process's events are often read after it has gone.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct bw_exe);
} bw_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_exe);
} bw_exe_scratch SEC(".maps");

/* Attached only when the daemon wants exe (BW_CTX_PROCESS): one map update per execve. */
SEC("tracepoint/sched/sched_process_exec")
int bw_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 zero = 0;
	struct bw_exe *x = bpf_map_lookup_elem(&bw_exe_scratch, &zero);
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	unsigned int loc = ctx->__data_loc_filename & 0xffff;

	if (!x)
		return 0;
	x->start_ns = t->group_leader->start_boottime;
	if (bpf_probe_read_kernel_str(x->path, sizeof(x->path), (char *)ctx + loc) < 0)
		return 0;
	bpf_map_update_elem(&bw_exe, &pid, x, BPF_ANY);
	return 0;
}

/*
 * Every cgroup v2 made while the object is loaded, by id: a short job's cgroup (systemd-run,
 * a cron job's scope) is often gone by the time its events are read, and with it the
 * directory the daemon would find its path in. LRU: ids are never reused, old ones go first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2048);
	__type(key, __u64);
	__type(value, struct bw_cgroup);
} bw_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_cgroup);
} bw_cgroup_scratch SEC(".maps");

/*
 * The id of the cgroup the daemon's cgroup2 mount shows as "/": 1, the hierarchy's root, unless
 * the daemon runs in a cgroup namespace (a container) or is shown a subtree. Set at load.
 */
const volatile __u64 bw_cgroup_root = 1;
/* How far up from a new cgroup its way to bw_cgroup_root is looked for. */
#define BW_CGROUP_DEPTH 32

/* Just the members read here, relocated against the running kernel's BTF (CO-RE). */
struct kernfs_node___bw {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup_root___bw {
	int hierarchy_id;
} __attribute__((preserve_access_index));

struct cgroup___bw;

struct cgroup_subsys_state___bw {
	struct cgroup___bw *cgroup;
	struct cgroup_subsys_state___bw *parent;
} __attribute__((preserve_access_index));

struct cgroup___bw {
	struct cgroup_subsys_state___bw self;
	struct kernfs_node___bw *kn;
	struct cgroup_root___bw *root;
} __attribute__((preserve_access_index));

/*
 * Attached only when the daemon wants cgroups (BW_CTX_CGROUP): one map update per mkdir. The
 * hook's arguments are the new cgroup and its path from the hierarchy's root; the daemon sees
 * the part of it below bw_cgroup_root, so the walk up to that cgroup counts how many of the
 * path's components that is. A cgroup outside the daemon's view is not recorded.
 */
SEC("tp_btf/cgroup_mkdir")
int bw_cgroup_mkdir(__u64 *ctx)
{
	struct cgroup___bw *cgrp = (void *)ctx[0];
	const char *path = (const char *)ctx[1];
	struct cgroup_subsys_state___bw *css;
	__u32 zero = 0, depth;
	struct bw_cgroup *x = bpf_map_lookup_elem(&bw_cgroup_scratch, &zero);
	__u64 id;
	long n;

	/* cgroup v1 hierarchies have ids from 1; their cgroups are not what events carry */
	if (!x || BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	css = BPF_CORE_READ(cgrp, self.parent);
	for (depth = 1; depth <= BW_CGROUP_DEPTH && css; depth++) {
		if (BPF_CORE_READ(css, cgroup, kn, id) == bw_cgroup_root)
			break;
		css = BPF_CORE_READ(css, parent);
	}
	if (!css || depth > BW_CGROUP_DEPTH)
		return 0;
	x->depth = depth;
	id = BPF_CORE_READ(cgrp, kn, id);
	n = bpf_probe_read_kernel_str(x->path, sizeof(x->path), path);
	/* a path that filled the buffer may have been cut: the daemon walks cgroupfs for it */
	if (n <= 1 || n >= (long)sizeof(x->path))
		return 0;
	bpf_map_update_elem(&bw_cgroups, &id, x, BPF_ANY);
	return 0;
}

static __always_inline void bw_count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&bw_lost, &zero);
	if (n)
		*n += 1;
}

/* Reserve a record or count it as lost in the kernel. */
static __always_inline void *bw_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e)
		bw_count_lost();
	return e;
}

/*
 * The wakeup flag for a record of `size` bytes, given the bytes queued before it: force a
 * wakeup if the reader said it sleeps, or if this record makes the queue cross a multiple of
 * bw_wakeup_bytes. Concurrent producers may both see a crossing (two wakeups) or neither (the
 * next multiple or the reader's timeout drains it): harmless either way.
 */
static __always_inline __u64 bw_wakeup_flag(__u64 before, __u64 size)
{
	__u64 step = bw_wakeup_bytes;
	__u32 zero = 0;
	__u32 *idle = bpf_map_lookup_elem(&bw_reader, &zero);

	/* Read-mostly: written only by the record that finds the reader asleep. */
	if (idle && *idle) {
		*idle = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (step == 0)
		return BPF_RB_FORCE_WAKEUP;
	return before / step != (before + size) / step ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Submit a record from bw_reserve (already counted in the queued bytes). */
static __always_inline void bw_submit(void *e, __u64 size)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	/* the reservation's 8-byte header is queued too */
	size += 8;
	bpf_ringbuf_submit(e, bw_wakeup_flag(queued > size ? queued - size : 0, size));
}

/* Copy a record of `size` bytes into the ring (bpf_ringbuf_output), or count it lost. */
static __always_inline bool bw_output(void *data, __u64 size)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return bpf_ringbuf_output(&events, data, size, bw_wakeup_flag(queued, size + 8)) == 0;
}

/*
 * Fill the common header from the current task. comm is the process's (its main thread's)
 * name: in the main thread that is the current task's own, one helper call; other threads
 * copy it from group_leader (a plain load through the task's BTF pointer, then one copy).
 */
static __always_inline void bw_fill_header(struct bw_header *h, __u32 type)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 want = bw_context;

	h->ts_ns = bpf_ktime_get_ns();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->type = type;
	if (h->pid == h->tid) {
		bpf_get_current_comm(&h->comm, sizeof(h->comm));
	} else {
		struct task_struct *leader = bpf_get_current_task_btf()->group_leader;

		bpf_probe_read_kernel_str(&h->comm, sizeof(h->comm), leader->comm);
	}
	if (!want)
		return;
	/* Plain loads through the task's BTF pointers; a missing link (an exiting task) reads 0. */
	struct task_struct *task = bpf_get_current_task_btf();
	if (want & BW_CTX_CGROUP)
		h->cgroup_id = bpf_get_current_cgroup_id();
	if (want & BW_CTX_PROCESS)
		h->start_ns = task->group_leader->start_boottime;
	if (want & BW_CTX_NETNS)
		h->netns = task->nsproxy->net_ns->ns.inum;
	if (want & BW_CTX_PARENT) {
		struct task_struct *parent = task->real_parent->group_leader;

		h->ppid = parent->tgid;
		bpf_probe_read_kernel(&h->pcomm, sizeof(h->pcomm), parent->comm);
	}
}

#endif /* BPFWATCH_BPF_H */
