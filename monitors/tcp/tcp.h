/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tcp monitor's event, shared by tcp.bpf.c and io.bpfwatch.monitor.tcp.TcpDecoder. */
#ifndef BPFWATCH_TCP_H
#define BPFWATCH_TCP_H

#include "bpfwatch.h"

#define TCP_EVENT_CONNECT 1

/* What made the record leave the kernel (diagnostics; the event time is always the attempt start). */
enum tcp_trigger {
	TCP_TRIGGER_SYN_SENT = 0,  /* source port already bound: emitted at once */
	TCP_TRIGGER_CONNECT_RETURN = 1, /* connect() returned (non-blocking: right away) */
	TCP_TRIGGER_STATE_CHANGE = 2,   /* SYN-ACK, RST or close ended SYN_SENT */
	TCP_TRIGGER_RETRANSMIT = 3,     /* first SYN retransmission (~1 s): an unanswered attempt */
};

struct tcp_event {
	struct bw_header h;
	__u16 family;   /* AF_INET (2) or AF_INET6 (10) */
	__u16 sport;    /* host byte order; 0 only if the kernel never assigned one */
	__u16 dport;    /* host byte order */
	__u16 trigger;  /* enum tcp_trigger */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

#endif /* BPFWATCH_TCP_H */
