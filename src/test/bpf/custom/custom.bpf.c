// SPDX-License-Identifier: GPL-2.0
/*
 * A user's CO-RE object as the libbpf kind's tests load it: written the way libbpf-tools are,
 * with none of bpfwatch's conventions (its own ring buffer name, no bw_lost, default wakeups).
 * One record per getpgid(2^30 + len) call of the target process, with members of every shape
 * the generic decoder reads; a hash map of calls by uid and comm; a log2 histogram of len.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

enum call_kind { KIND_SMALL = 1, KIND_LARGE = 2 };

struct pair {
	__u16 a;
	__u16 b;
};

struct call {
	__u64 ts;
	__u32 pid;
	__u32 uid;
	char comm[16];
	__u32 daddr;            /* an IPv4 address in network order */
	__u8 addr6[16];
	struct pair pair;
	__u32 vals[3];
	__s32 ret;
	enum call_kind kind;
	__u32 flags;
	__u32 small: 4, large: 12;
};

/* a struct the records are not: configured as theirs, every record is refused (too short) */
struct big {
	char pad[200];
};

/* clang puts a struct in the object's BTF only if something global refers to it */
const struct call *unused_call __attribute__((unused));
const struct big *unused_big __attribute__((unused));

struct count_key {
	__u32 uid;
	char comm[16];
};

struct hist_key {
	__u32 slot;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct count_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct hist_key);
	__type(value, __u64);
} lens SEC(".maps");

const volatile __u32 target_pid = 0;

static __always_inline __u32 log2u(__u32 v)
{
	__u32 r = 0;
	while (v > 1 && r < 31) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int on_getpgid(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	long arg = ctx->args[0];
	if (pid != target_pid || arg < (1L << 30))
		return 0;
	__u32 len = arg - (1L << 30);
	__u32 uid = (__u32)bpf_get_current_uid_gid();

	struct call *c = bpf_ringbuf_reserve(&calls, sizeof(*c), 0);
	if (!c)
		return 0;
	__builtin_memset(c, 0, sizeof(*c));
	c->ts = bpf_ktime_get_ns();
	c->pid = pid;
	c->uid = uid;
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	c->daddr = bpf_htonl(0xc0000201); /* 192.0.2.1 */
	c->addr6[0] = 0x20;
	c->addr6[1] = 0x01;
	c->addr6[2] = 0x0d;
	c->addr6[3] = 0xb8;
	c->addr6[15] = 1;
	c->pair.a = len;
	c->pair.b = len * 2;
	c->vals[0] = 1;
	c->vals[1] = 2;
	c->vals[2] = 3;
	c->ret = -2; /* ENOENT */
	c->kind = len < 100 ? KIND_SMALL : KIND_LARGE;
	c->flags = 0x8000;
	c->small = len & 0xf;
	c->large = len & 0xfff;
	bpf_ringbuf_submit(c, 0);

	struct count_key k = {.uid = uid};
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &k, &one, BPF_NOEXIST);

	struct hist_key h = {.slot = log2u(len)};
	n = bpf_map_lookup_elem(&lens, &h);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&lens, &h, &one, BPF_NOEXIST);
	return 0;
}
