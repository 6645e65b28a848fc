/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The dns monitor's record, shared by dns.bpf.c and io.bpfwatch.monitor.dns.DnsDecoder. */
#ifndef BPFWATCH_DNS_H
#define BPFWATCH_DNS_H

#include "bpfwatch.h"

/* Bytes of each message or stream chunk copied out: a query's header and question always fit
 * (12 + 255 + 4), and a response's header, question and usually its answers. */
#define DNS_CAPTURE 512

/* bw_header.type */
#define DNS_REC_SEND 1    /* bytes a process sent to a DNS server: a datagram or a TCP chunk */
#define DNS_REC_RECV 2    /* bytes a process received from a DNS server */
#define DNS_REC_TLS 3     /* connect() to an encrypted-DNS port: no payload */
#define DNS_REC_CLOSE 4   /* a TCP DNS socket was closed: its stream state can go */

#define DNS_TRANSPORT_UDP 1
#define DNS_TRANSPORT_TCP 2
#define DNS_TRANSPORT_TLS 3

/* Which system call moved the bytes (diagnostics, tests). */
enum dns_syscall {
	DNS_SYS_WRITE = 1,
	DNS_SYS_WRITEV = 2,
	DNS_SYS_SENDTO = 3,
	DNS_SYS_SENDMSG = 4,
	DNS_SYS_SENDMMSG = 5,
	DNS_SYS_READ = 6,
	DNS_SYS_READV = 7,
	DNS_SYS_RECVFROM = 8,
	DNS_SYS_RECVMSG = 9,
	DNS_SYS_RECVMMSG = 10,
	DNS_SYS_CONNECT = 11,
	DNS_SYS_CLOSE = 12,
	/* the socket layer (fentry on inet_sendmsg/inet_recvmsg and their IPv6 twins): which of
	 * the calls above moved the bytes is not known there */
	DNS_SYS_SOCK_SEND = 13,
	DNS_SYS_SOCK_RECV = 14,
};

struct dns_event {
	struct bw_header h;
	__u64 conn;       /* the socket's identity while it is watched (not an address) */
	__u64 stream_off; /* TCP: offset of this chunk within its direction of the stream */
	__u32 len;        /* bytes the call moved for this message or chunk */
	__u16 cap;        /* bytes of it in data[] */
	__u8 transport;   /* DNS_TRANSPORT_* */
	__u8 syscall;     /* enum dns_syscall */
	__u16 family;     /* of addr: AF_INET (2), AF_INET6 (10), or 0 if unknown */
	__u16 port;       /* the server's port, host byte order */
	__u32 pad;
	__u8 addr[16];    /* the server; IPv4 in the first 4 bytes */
	__u8 data[DNS_CAPTURE];
};

#endif /* BPFWATCH_DNS_H */
