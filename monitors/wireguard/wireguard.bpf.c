// SPDX-License-Identifier: GPL-2.0
/*
 * wireguard: per-peer encryption and decryption latency, transfer, and handshakes, from the
 * functions of WireGuard itself (drivers/net/wireguard):
 *
 *   encrypt_packet(skb, keypair)          one data packet encrypted; peer = keypair->entry.peer
 *   decrypt_packet(skb, ...)              one data packet decrypted; the second argument was
 *                                         the receiving key on older kernels and is the keypair
 *                                         now, so the peer comes from PACKET_CB(skb)->keypair
 *   wg_socket_send_skb_to_peer(peer, skb) every message sent to a peer (what `wg show` counts)
 *   wg_noise_handshake_consume_{initiation,response}  handshake messages authenticated
 *   wg_timers_handshake_initiated(peer)   an initiation was sent (retries included)
 *   wg_timers_handshake_complete(peer)    a handshake completed
 *   peer_remove_after_dead(peer)          a peer went away (optional: drops its statistics)
 *
 * Each is attached twice over: fentry/fexit programs (the cheap ones) and kprobe/kretprobe
 * programs for kernels without fentry; the daemon loads one set. Latency is the time from
 * entry to return of the function, for calls that succeeded, kept as log2 histograms per peer
 * in a per-CPU hash the daemon reads at scrape time. Worker functions are not used: they batch
 * packets of several peers.
 *
 * Peers are keyed by (device, public key). The wg_peers map holds max_entries peers (the
 * daemon's max-peers); when it is full, a new peer's samples go to its device's entry in
 * wg_other (exported as peer="other"), and only if that is full too are they dropped and
 * counted in wg_dropped.
 */
#include "bpfwatch.bpf.h"

/* The registers PT_REGS_PARM1/2 and PT_REGS_RC read; CO-RE relocates them to the real layout. */
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
#include <bpf/bpf_endian.h>
#include "wireguard.h"

#define AF_INET 2
#define AF_INET6 10
#define EEXIST 17
/* Sizes of WireGuard's handshake messages (fixed by the protocol). */
#define WG_INITIATION_LEN 148
#define WG_RESPONSE_LEN 92
/* How often a CPU's copy of a peer's interface name and endpoint is refreshed. */
#define WG_REFRESH_NS 1000000000ULL

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);        /* max-peers, set by the daemon */
	__type(key, struct wg_peer_key);
	__type(value, struct wg_peer_stats);
} wg_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);         /* devices whose peers overflowed wg_peers */
	__type(key, struct wg_peer_key);
	__type(value, struct wg_peer_stats);
} wg_other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wg_dropped SEC(".maps");

/* The daemon's interval number; wg_hist.max_ns restarts when it changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wg_seq SEC(".maps");

/* A call between entry and return, per thread and function. */
struct wg_call {
	__u64 ts;
	__u64 ptr;   /* kprobes only: the argument the return needs */
	__u64 len;
};

enum { CALL_ENCRYPT = 1, CALL_DECRYPT = 2, CALL_SEND = 3 };

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);              /* thread id << 8 | CALL_* */
	__type(value, struct wg_call);
} wg_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);              /* thread id inside peer_remove_after_dead */
	__type(value, struct wg_peer_key);
} wg_removing SEC(".maps");

/* Keeps the record's type in the object's BTF, where WireguardLayoutTest checks the daemon's offsets. */
struct wg_handshake_event *wg_handshake_event_type __attribute__((unused));

/* Initial value of a new stats entry (too big for the stack). */
struct wg_peer_stats wg_zero = {};

static __always_inline __u64 call_key(__u32 fn)
{
	return ((__u64)(__u32)bpf_get_current_pid_tgid() << 8) | fn;
}

static __always_inline void call_begin(__u32 fn, __u64 ptr, __u64 len)
{
	__u64 key = call_key(fn);
	struct wg_call c = { .ts = bpf_ktime_get_ns(), .ptr = ptr, .len = len };

	bpf_map_update_elem(&wg_calls, &key, &c, BPF_ANY);
}

/* The matching entry's record, removed from the map; false if there was none. */
static __always_inline bool call_end(__u32 fn, struct wg_call *out)
{
	__u64 key = call_key(fn);
	struct wg_call *c = bpf_map_lookup_elem(&wg_calls, &key);

	if (!c)
		return false;
	*out = *c;
	bpf_map_delete_elem(&wg_calls, &key);
	return true;
}

/* ceil(log2(ns)), so slot i holds (2^(i-1), 2^i] ns; the last slot takes everything above. */
static __always_inline __u32 slot_of(__u64 ns)
{
	__u64 v;
	__u32 r = 0, s;

	if (ns <= 1)
		return 0;
	v = ns - 1;
	s = (v > 0xffffffffULL) << 5; v >>= s; r |= s;
	s = (v > 0xffff) << 4; v >>= s; r |= s;
	s = (v > 0xff) << 3; v >>= s; r |= s;
	s = (v > 0xf) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	r += 1;
	return r < WG_SLOTS - 1 ? r : WG_SLOTS - 1;
}

static __always_inline __u64 current_seq(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&wg_seq, &zero);

	return seq ? *seq : 0;
}

static __always_inline void hist_add(struct wg_hist *h, __u64 ns)
{
	__u64 slot = slot_of(ns);
	__u64 seq = current_seq();

	/* The bound is known to the compiler, not to the verifier: keep the check. */
	barrier_var(slot);
	if (slot < WG_SLOTS)
		h->slots[slot] += 1;
	h->count += 1;
	h->sum_ns += ns;
	if (h->max_seq != seq) {
		h->max_seq = seq;
		h->max_ns = ns;
	} else if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

static __always_inline void read_endpoint(struct wg_peer *peer, struct wg_endpoint *e)
{
	__u16 family = BPF_CORE_READ(peer, endpoint.addr4.sin_family);

	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->family = family;
	e->port = 0;
	if (family == AF_INET) {
		e->port = bpf_ntohs(BPF_CORE_READ(peer, endpoint.addr4.sin_port));
		bpf_core_read(e->addr, 4, &peer->endpoint.addr4.sin_addr);
	} else if (family == AF_INET6) {
		e->port = bpf_ntohs(BPF_CORE_READ(peer, endpoint.addr6.sin6_port));
		bpf_core_read(e->addr, 16, &peer->endpoint.addr6.sin6_addr);
	}
}

static __always_inline int peer_key(struct wg_peer *peer, struct wg_peer_key *k)
{
	k->device = (__u64)BPF_CORE_READ(peer, device);
	k->reserved = 0;
	return bpf_core_read(k->peer, WG_KEY_LEN, &peer->handshake.remote_static);
}

static __always_inline void count_dropped(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&wg_dropped, &zero);

	if (n)
		*n += 1;
}

/* This CPU's stats of the peer (or of its device's overflow entry); NULL if neither fits. */
static __always_inline struct wg_peer_stats *stats_of(struct wg_peer *peer, __u64 now)
{
	struct wg_peer_key k;
	struct wg_peer_stats *s;

	if (peer_key(peer, &k))
		return NULL;
	s = bpf_map_lookup_elem(&wg_peers, &k);
	if (!s) {
		int err = bpf_map_update_elem(&wg_peers, &k, &wg_zero, BPF_NOEXIST);

		if (err == 0 || err == -EEXIST)
			s = bpf_map_lookup_elem(&wg_peers, &k);
	}
	if (!s) {
		__builtin_memset(k.peer, 0, sizeof(k.peer));
		s = bpf_map_lookup_elem(&wg_other, &k);
		if (!s) {
			bpf_map_update_elem(&wg_other, &k, &wg_zero, BPF_NOEXIST);
			s = bpf_map_lookup_elem(&wg_other, &k);
		}
		if (!s) {
			count_dropped();
			return NULL;
		}
	}
	if (now - s->seen_ns > WG_REFRESH_NS) {
		struct net_device *dev = BPF_CORE_READ(peer, device, dev);

		s->seen_ns = now;
		bpf_core_read_str(s->ifname, sizeof(s->ifname), &dev->name);
		read_endpoint(peer, &s->endpoint);
	}
	return s;
}

static __always_inline void crypto_done(__u32 fn, struct noise_keypair *keypair, struct wg_call *c)
{
	__u64 now = bpf_ktime_get_ns();
	struct wg_peer *peer;
	struct wg_peer_stats *s;

	if (!keypair)
		return;
	peer = BPF_CORE_READ(keypair, entry.peer);
	if (!peer)
		return;
	s = stats_of(peer, now);
	if (!s)
		return;
	if (fn == CALL_ENCRYPT) {
		hist_add(&s->encrypt, now - c->ts);
	} else {
		hist_add(&s->decrypt, now - c->ts);
		s->received_bytes += c->len;
		s->received_packets += 1;
	}
}

static __always_inline struct noise_keypair *cb_keypair(struct sk_buff *skb)
{
	struct packet_cb *cb = (struct packet_cb *)__builtin_preserve_access_index(&skb->cb);

	return BPF_CORE_READ(cb, keypair);
}

static __always_inline void sent(struct wg_peer *peer, int ret, struct wg_call *c)
{
	struct wg_peer_stats *s;

	if (ret != 0 || !peer)
		return;
	s = stats_of(peer, bpf_ktime_get_ns());
	if (!s)
		return;
	s->sent_bytes += c->len;
	s->sent_packets += 1;
}

static __always_inline void handshake_received(struct wg_peer *peer, __u64 len)
{
	struct wg_peer_stats *s;

	if (!peer)
		return;
	s = stats_of(peer, bpf_ktime_get_ns());
	if (!s)
		return;
	s->received_bytes += len;
	s->received_packets += 1;
}

static __always_inline void handshake_event(struct wg_peer *peer, __u32 type)
{
	struct wg_handshake_event *e;
	struct net_device *dev;

	if (!peer)
		return;
	e = bw_reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	bw_fill_header(&e->h, type);
	bpf_core_read(e->peer, WG_KEY_LEN, &peer->handshake.remote_static);
	dev = BPF_CORE_READ(peer, device, dev);
	bpf_core_read_str(e->ifname, sizeof(e->ifname), &dev->name);
	read_endpoint(peer, &e->endpoint);
	e->attempts = BPF_CORE_READ(peer, timer_handshake_attempts);
	e->role = WG_ROLE_UNKNOWN;
	if (type == WG_EVENT_HANDSHAKE_COMPLETED) {
		struct noise_keypair *kp = BPF_CORE_READ(peer, keypairs.current_keypair);

		if (kp)
			e->role = BPF_CORE_READ(kp, i_am_the_initiator) ? WG_ROLE_INITIATOR : WG_ROLE_RESPONDER;
	}
	bw_submit(e, sizeof(*e));
}

static __always_inline void removing(struct wg_peer *peer)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wg_peer_key k;

	if (peer_key(peer, &k) == 0)
		bpf_map_update_elem(&wg_removing, &tid, &k, BPF_ANY);
}

/* After the function flushed the peer's queues: no packet in flight can recreate the entry. */
static __always_inline void removed(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wg_peer_key *k = bpf_map_lookup_elem(&wg_removing, &tid);

	if (!k)
		return;
	bpf_map_delete_elem(&wg_peers, k);
	bpf_map_delete_elem(&wg_removing, &tid);
}

/* ---- fentry/fexit (BTF trampolines; targets resolved in the module's BTF at load) ----
 * A bool return value is in the low byte of the return register only: compare that byte. */

SEC("fentry/encrypt_packet")
int BPF_PROG(wg_encrypt_entry)
{
	call_begin(CALL_ENCRYPT, 0, 0);
	return 0;
}

SEC("fexit/encrypt_packet")
int BPF_PROG(wg_encrypt_exit, struct sk_buff *skb, struct noise_keypair *keypair, __u64 ret)
{
	struct wg_call c;

	if (call_end(CALL_ENCRYPT, &c) && (__u8)ret)
		crypto_done(CALL_ENCRYPT, keypair, &c);
	return 0;
}

SEC("fentry/decrypt_packet")
int BPF_PROG(wg_decrypt_entry, struct sk_buff *skb)
{
	call_begin(CALL_DECRYPT, 0, BPF_CORE_READ(skb, len));
	return 0;
}

SEC("fexit/decrypt_packet")
int BPF_PROG(wg_decrypt_exit, struct sk_buff *skb, void *key, __u64 ret)
{
	struct wg_call c;

	if (call_end(CALL_DECRYPT, &c) && (__u8)ret)
		crypto_done(CALL_DECRYPT, cb_keypair(skb), &c);
	return 0;
}

SEC("fentry/wg_socket_send_skb_to_peer")
int BPF_PROG(wg_send_entry, struct wg_peer *peer, struct sk_buff *skb)
{
	call_begin(CALL_SEND, 0, BPF_CORE_READ(skb, len));
	return 0;
}

/* skb belongs to the network stack by now: only its length from entry is used. */
SEC("fexit/wg_socket_send_skb_to_peer")
int BPF_PROG(wg_send_exit, struct wg_peer *peer, struct sk_buff *skb, __u64 ds, __u64 ret)
{
	struct wg_call c;

	if (call_end(CALL_SEND, &c))
		sent(peer, (int)ret, &c);
	return 0;
}

SEC("fexit/wg_noise_handshake_consume_initiation")
int BPF_PROG(wg_initiation_exit, void *src, void *wg, struct wg_peer *peer)
{
	handshake_received(peer, WG_INITIATION_LEN);
	return 0;
}

SEC("fexit/wg_noise_handshake_consume_response")
int BPF_PROG(wg_response_exit, void *src, void *wg, struct wg_peer *peer)
{
	handshake_received(peer, WG_RESPONSE_LEN);
	return 0;
}

SEC("fentry/wg_timers_handshake_initiated")
int BPF_PROG(wg_initiated, struct wg_peer *peer)
{
	handshake_event(peer, WG_EVENT_HANDSHAKE_INITIATED);
	return 0;
}

/* At entry: the attempt count is still there (the function resets it). */
SEC("fentry/wg_timers_handshake_complete")
int BPF_PROG(wg_completed, struct wg_peer *peer)
{
	handshake_event(peer, WG_EVENT_HANDSHAKE_COMPLETED);
	return 0;
}

SEC("fentry/peer_remove_after_dead")
int BPF_PROG(wg_remove_entry, struct wg_peer *peer)
{
	removing(peer);
	return 0;
}

SEC("fexit/peer_remove_after_dead")
int BPF_PROG(wg_remove_exit)
{
	removed();
	return 0;
}

/* ---- kprobe/kretprobe: the same, where fentry is unavailable. The daemon names the function
 * ("wireguard:encrypt_packet" for the module) when it attaches. ---- */

SEC("kprobe")
int BPF_KPROBE(wg_encrypt_entry_kp, struct sk_buff *skb, struct noise_keypair *keypair)
{
	call_begin(CALL_ENCRYPT, (__u64)keypair, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_encrypt_exit_kp, long ret)
{
	struct wg_call c;

	if (call_end(CALL_ENCRYPT, &c) && (__u8)ret)
		crypto_done(CALL_ENCRYPT, (struct noise_keypair *)c.ptr, &c);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(wg_decrypt_entry_kp, struct sk_buff *skb)
{
	call_begin(CALL_DECRYPT, (__u64)skb, BPF_CORE_READ(skb, len));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_decrypt_exit_kp, long ret)
{
	struct wg_call c;

	if (call_end(CALL_DECRYPT, &c) && (__u8)ret)
		crypto_done(CALL_DECRYPT, cb_keypair((struct sk_buff *)c.ptr), &c);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(wg_send_entry_kp, struct wg_peer *peer, struct sk_buff *skb)
{
	call_begin(CALL_SEND, (__u64)peer, BPF_CORE_READ(skb, len));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_send_exit_kp, long ret)
{
	struct wg_call c;

	if (call_end(CALL_SEND, &c))
		sent((struct wg_peer *)c.ptr, (int)ret, &c);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_initiation_exit_kp, struct wg_peer *peer)
{
	handshake_received(peer, WG_INITIATION_LEN);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_response_exit_kp, struct wg_peer *peer)
{
	handshake_received(peer, WG_RESPONSE_LEN);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(wg_initiated_kp, struct wg_peer *peer)
{
	handshake_event(peer, WG_EVENT_HANDSHAKE_INITIATED);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(wg_completed_kp, struct wg_peer *peer)
{
	handshake_event(peer, WG_EVENT_HANDSHAKE_COMPLETED);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(wg_remove_entry_kp, struct wg_peer *peer)
{
	removing(peer);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(wg_remove_exit_kp)
{
	removed();
	return 0;
}
