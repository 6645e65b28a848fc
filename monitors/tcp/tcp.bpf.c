// SPDX-License-Identifier: GPL-2.0
/*
 * tcp: one event per outgoing TCP connect attempt, IPv4 and IPv6.
 *
 * sock:inet_sock_set_state CLOSE->SYN_SENT runs in the connecting process, so it is where
 * pid, uid and comm are taken. But tcp_v{4,6}_connect() set SYN_SENT *before* they pick
 * the source port, so at that moment sport is usually 0. The attempt is therefore parked
 * in "pending" (keyed by socket) and emitted, with its SYN_SENT timestamp, by whichever
 * comes first:
 *   - syscalls:sys_exit_connect in the same thread (non-blocking connect: immediately),
 *   - the socket leaving SYN_SENT (SYN-ACK, RST, close),
 *   - tcp:tcp_retransmit_skb, the first SYN retransmission (~1 s) of an unanswered attempt.
 * Deleting the pending entry is the claim, so an attempt is emitted exactly once.
 * Every socket leaves SYN_SENT eventually, so "pending" cannot fill with stale entries;
 * if it is full anyway, the attempt is counted as lost in the kernel.
 */
#include "bpfwatch.bpf.h"
#include "tcp.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);              /* struct sock * */
	__type(value, struct tcp_event);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);              /* thread id inside connect() */
	__type(value, __u64);            /* struct sock * */
} connecting SEC(".maps");

static __always_inline void emit_pending(__u64 sk, __u16 sport, __u16 trigger)
{
	struct tcp_event *p = bpf_map_lookup_elem(&pending, &sk);
	struct tcp_event copy;

	if (!p)
		return;
	__builtin_memcpy(&copy, p, sizeof(copy));
	if (bpf_map_delete_elem(&pending, &sk) != 0)
		return; /* another CPU claimed it */

	struct tcp_event *e = bw_reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memcpy(e, &copy, sizeof(*e));
	if (sport)
		e->sport = sport;
	e->trigger = trigger;
	bw_submit(e, sizeof(*e));
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	int oldstate = ctx->oldstate;
	int newstate = ctx->newstate;
	__u64 sk = (__u64)ctx->skaddr;

	if (oldstate == TCP_SYN_SENT) {
		emit_pending(sk, ctx->sport, TCP_TRIGGER_STATE_CHANGE);
		return 0;
	}
	if (newstate != TCP_SYN_SENT || oldstate != TCP_CLOSE)
		return 0;

	struct tcp_event ev = {};
	bw_fill_header(&ev.h, TCP_EVENT_CONNECT);
	ev.family = ctx->family;
	ev.sport = ctx->sport;
	ev.dport = ctx->dport;
	if (ev.family == AF_INET) {
		/* The context cannot be read at a computed offset; copy through the helper. */
		bpf_core_read(ev.saddr, 4, &ctx->saddr);
		bpf_core_read(ev.daddr, 4, &ctx->daddr);
	} else if (ev.family == AF_INET6) {
		bpf_core_read(ev.saddr, 16, &ctx->saddr_v6);
		bpf_core_read(ev.daddr, 16, &ctx->daddr_v6);
	} else {
		return 0;
	}

	if (ev.sport) {
		struct tcp_event *e = bw_reserve(sizeof(*e));
		if (!e)
			return 0;
		ev.trigger = TCP_TRIGGER_SYN_SENT;
		__builtin_memcpy(e, &ev, sizeof(*e));
		bw_submit(e, sizeof(*e));
		return 0;
	}

	if (bpf_map_update_elem(&pending, &sk, &ev, BPF_ANY) != 0) {
		bw_count_lost();
		return 0;
	}
	__u32 tid = ev.h.tid;
	bpf_map_update_elem(&connecting, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tcp_connect_return(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *skp = bpf_map_lookup_elem(&connecting, &tid);

	if (!skp)
		return 0;
	__u64 sk = *skp;
	bpf_map_delete_elem(&connecting, &tid);

	struct sock *s = (struct sock *)sk;
	emit_pending(sk, BPF_CORE_READ(s, __sk_common.skc_num), TCP_TRIGGER_CONNECT_RETURN);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit(void *ctx)
{
	__u64 sk = 0;

	/* Both layouts are read through the helper: clang folds the two branches into one
	 * computed context offset, which the verifier rejects for direct loads. */
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb))
		bpf_core_read(&sk, sizeof(sk), &((struct trace_event_raw_tcp_retransmit_skb *)ctx)->skaddr);
	else
		bpf_core_read(&sk, sizeof(sk), &((struct trace_event_raw_tcp_event_sk_skb *)ctx)->skaddr);
	if (!sk)
		return 0;

	struct sock *s = (struct sock *)sk;
	emit_pending(sk, BPF_CORE_READ(s, __sk_common.skc_num), TCP_TRIGGER_RETRANSMIT);
	return 0;
}
