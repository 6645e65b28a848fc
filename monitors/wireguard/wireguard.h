/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The wireguard monitor's kernel/daemon interface, shared by wireguard.bpf.c and
 * io.bpfwatch.monitor.wireguard (WireguardDecoder, PeerTable; WireguardLayoutTest checks the
 * offsets stated there against this file's BTF in the compiled object).
 */
#ifndef BPFWATCH_WIREGUARD_H
#define BPFWATCH_WIREGUARD_H

#include "bpfwatch.h"

#define WG_KEY_LEN 32
#define WG_IFNAME_LEN 16

/*
 * Latency slots: slot 0 holds 0..1 ns, slot i (1..WG_SLOTS-2) holds (2^(i-1), 2^i] ns, so a
 * slot's upper bound 2^i ns is exactly a Prometheus `le` bound. The last slot holds everything
 * above 2^(WG_SLOTS-2) ns (~1.07 s).
 */
#define WG_SLOTS 32

/* Ring buffer records (bw_header.type). */
#define WG_EVENT_HANDSHAKE_INITIATED 1
#define WG_EVENT_HANDSHAKE_COMPLETED 2

/* wg_handshake_event.role */
#define WG_ROLE_UNKNOWN 0
#define WG_ROLE_INITIATOR 1
#define WG_ROLE_RESPONDER 2

/* Where a peer is, as the kernel knew it at that moment. */
struct wg_endpoint {
	__u8 addr[16];          /* IPv4 in the first 4 bytes */
	__u16 family;           /* AF_INET, AF_INET6, or 0 (no endpoint yet) */
	__u16 port;             /* host byte order */
};

/* A handshake step, logged as it happens. */
struct wg_handshake_event {
	struct bw_header h;     /* ts_ns; pid/comm of whatever ran it (a kworker, a softirq's victim) */
	__u8 peer[WG_KEY_LEN];  /* the peer's public key */
	char ifname[WG_IFNAME_LEN];
	struct wg_endpoint endpoint;
	__u32 attempts;         /* initiated: retry number (0 = first); completed: retries it took */
	__u32 role;             /* completed: WG_ROLE_* of this side */
};

/* Stats key: one WireGuard device (by address) and one of its peers. */
struct wg_peer_key {
	__u64 device;           /* struct wg_device * */
	__u8 peer[WG_KEY_LEN];  /* public key; zero in the wg_other map */
	__u64 reserved;         /* zero */
};

/* Log2 latency histogram of one operation, one CPU's share. */
struct wg_hist {
	__u64 slots[WG_SLOTS];
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;           /* largest sample of interval max_seq */
	__u64 max_seq;          /* the wg_seq value max_ns belongs to */
};

/* Per peer, per CPU (BPF_MAP_TYPE_PERCPU_HASH values); the daemon sums the CPUs at scrape time. */
struct wg_peer_stats {
	struct wg_hist encrypt;
	struct wg_hist decrypt;
	__u64 sent_bytes;       /* UDP payload sent to the peer: data, keepalives, handshakes */
	__u64 sent_packets;
	__u64 received_bytes;   /* UDP payload authenticated from the peer */
	__u64 received_packets;
	__u64 seen_ns;          /* when this CPU's copy of ifname and endpoint was refreshed */
	char ifname[WG_IFNAME_LEN];
	struct wg_endpoint endpoint;
	__u32 reserved;
};

#endif /* BPFWATCH_WIREGUARD_H */
