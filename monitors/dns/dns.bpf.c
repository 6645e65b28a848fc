// SPDX-License-Identifier: GPL-2.0
/*
 * dns: the bytes every process exchanges with a DNS server. Two sets of programs, one loaded:
 * the system-call tracepoints below (every kernel with BTF), and at the end of this file the
 * socket layer (fentry/fexit, where the kernel has BPF trampolines), which emits the same
 * records while running only for inet sockets' sends and receives.
 *
 * Why system calls: they run in the calling process (exact pid, uid, comm, even for
 * connected sockets), they exist on every kernel with BTF (no kprobe, fentry or cgroup
 * needed), and the payload is the process's own buffer, so UDP datagrams and TCP streams
 * arrive whole and in order, whichever path the packet later takes.
 *
 * A socket is watched once it talks to a configured port:
 *   - connect() to a DNS port marks (process, fd) with the server and transport;
 *   - sendto()/sendmsg()/sendmmsg() to a DNS port marks an unconnected socket;
 *   - connect() to an encrypted-DNS port (853) emits one DNS_REC_TLS record, no mark.
 * write/writev/sendto/sendmsg/sendmmsg and read/readv/recvfrom/recvmsg/recvmmsg on a
 * watched fd park their arguments per thread at entry; the exit copies the first
 * DNS_CAPTURE bytes actually moved (per message for the mmsg calls). A mark remembers its
 * struct file, so a recycled fd number is never mistaken for the socket; close() drops the
 * mark. Both maps are LRU: processes that die without closing cannot fill them.
 *
 * These programs run on every read, write, close and connect of every process, so the common
 * case (nothing of this process or thread is watched) must not touch a hash map. Two arrays of
 * counters gate the lookups: marks per process (slot tgid % GATE_SLOTS) and parked calls per
 * thread (slot tid % GATE_SLOTS). A zero slot means "certainly nothing here": one load, no
 * lookup. Counts only ever err high (a mark the LRU evicts, or a call whose exit never ran,
 * leaves its count behind), which costs that slot's processes a lookup, never an event.
 *
 * Records that are not queries (received bytes, closes) are counted in aux_lost when the
 * ring is full, so bw_lost counts exactly the lost query records.
 */
#include "bpfwatch.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "dns.h"

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define MSG_PEEK 2

#define PORT_DNS 1
#define PORT_TLS 2

#define MAX_IOV 4
#define MAX_MMSG 8

char LICENSE[] SEC("license") = "GPL";

/* Set by the daemon before load: per port, 0 (not watched), PORT_DNS or PORT_TLS. */
const volatile __u8 port_kind[65536] = {};

/* The user-space ABI (64-bit): these layouts are fixed, not kernel-internal. */
struct u_iovec {
	__u64 base;
	__u64 len;
};

struct u_msghdr {
	__u64 name;
	__u32 namelen;
	__u32 pad0;
	__u64 iov;
	__u64 iovlen;
	__u64 control;
	__u64 controllen;
	__u32 flags;
	__u32 pad1;
};

struct u_mmsghdr {
	struct u_msghdr hdr;
	__u32 len;
	__u32 pad;
};

struct u_sockaddr {
	__u16 family;
	__be16 port;
	__u8 v4[4];       /* sockaddr_in.sin_addr; sockaddr_in6.sin6_flowinfo */
	__u8 v6[16];      /* sockaddr_in6.sin6_addr */
	__u32 scope;
};

struct dns_peer {
	__u8 addr[16];
	__u16 family;
	__u16 port;
};

struct sock_key {
	__u32 tgid;
	__u32 fd;
};

struct dns_sock {
	__u64 conn;
	__u64 file;         /* struct file *: tells a recycled fd number from this socket */
	__u64 sent;         /* TCP stream offsets, per direction */
	__u64 rcvd;
	struct dns_peer peer; /* connected: the server; unconnected: zero */
	__u8 transport;
	__u8 connected;
	__u16 pad;
};

struct dns_call {
	__u64 ts;           /* entry: a query is sent when its call starts, not when it returns */
	__u64 buf;          /* buffer, iovec array, msghdr or mmsghdr array */
	__u64 count;        /* length, iovec count or message count */
	__u64 addr;         /* recvfrom: where the kernel writes the source address */
	__u32 addrcap;
	__u32 fd;
	__u8 sys;           /* enum dns_syscall */
	__u8 has_dest;
	__u16 pad;
	struct dns_peer dest; /* sendto/sendmsg: the destination named in the call */
};

/* An event plus DNS_CAPTURE bytes of slack, so copies at a bounded offset verify. */
struct dns_scratch {
	struct dns_event e;
	__u8 slack[DNS_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sock_key);
	__type(value, struct dns_sock);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);             /* thread id inside a call on a watched fd */
	__type(value, struct dns_call);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} scratch SEC(".maps");

/* Counters are decremented by adding -1: clang 14 has no 32-bit atomic subtract for BPF. */
#define GATE_SLOTS 4096

/* Per process slot: marks added (socks) minus marks deleted. See the header comment. */
__u32 marks_in[GATE_SLOTS] = {};
/* Per thread slot: calls parked (inflight) minus calls taken. */
__u32 parked_in[GATE_SLOTS] = {};

static __always_inline bool may_have_marks(__u32 tgid)
{
	return marks_in[tgid & (GATE_SLOTS - 1)] != 0;
}

/* Deletes this process's mark of fd if it has one, keeping the gate's count. */
static __always_inline void unmark(struct sock_key *k)
{
	if (bpf_map_delete_elem(&socks, k) == 0)
		__sync_fetch_and_add(&marks_in[k->tgid & (GATE_SLOTS - 1)], -1);
}

/* Records other than queries that the ring could not take (responses, closes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} aux_lost SEC(".maps");

static __always_inline void count_aux_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&aux_lost, &zero);
	if (n)
		*n += 1;
}

static __always_inline int kind_of(__u32 port)
{
	/* older verifiers (6.1) lose a value's bounds across the byte swap of ntohs: mask again */
	barrier_var(port);
	return port_kind[port & 0xffff];
}

/*
 * The struct file behind fd in the current process, or 0. The task's fields are plain loads
 * through its BTF pointer; only the fd array's slot takes a helper call.
 */
static __always_inline __u64 fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	__u64 f = 0;

	if (!fdt || fd < 0)
		return 0;
	if ((unsigned int)fd >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

/*
 * Reads a sockaddr of len bytes into p, from user memory (the call's own argument) or kernel
 * memory (the kernel's copy of it, in the socket-layer programs); false unless AF_INET or
 * AF_INET6. `kernel` is a constant at every call: the compiler keeps one branch.
 */
static __always_inline bool read_sockaddr(struct dns_peer *p, __u64 addr, __u64 len, bool kernel)
{
	struct u_sockaddr sa = {};

	if (!addr || len < 8)
		return false;
	if (len > sizeof(sa))
		len = sizeof(sa);
	if ((kernel ? bpf_probe_read_kernel : bpf_probe_read_user)(&sa, len, (void *)addr))
		return false;
	p->family = sa.family;
	p->port = bpf_ntohs(sa.port);
	if (sa.family == AF_INET) {
		__builtin_memset(p->addr, 0, sizeof(p->addr));
		__builtin_memcpy(p->addr, sa.v4, 4);
		return true;
	}
	if (sa.family == AF_INET6 && len >= 24) {
		__builtin_memcpy(p->addr, sa.v6, 16);
		return true;
	}
	return false;
}

static __always_inline bool read_peer(struct dns_peer *p, __u64 uaddr, __u64 len)
{
	return read_sockaddr(p, uaddr, len, false);
}

/* The watched socket behind fd, or NULL; forgets a mark whose fd now names another file. */
static __always_inline struct dns_sock *watched(__u32 tgid, int fd)
{
	struct sock_key k = { .tgid = tgid, .fd = fd };
	struct dns_sock *s;

	if (!may_have_marks(tgid))
		return NULL;
	s = bpf_map_lookup_elem(&socks, &k);
	if (!s)
		return NULL;
	if (fd_file(fd) != s->file) {
		unmark(&k);
		return NULL;
	}
	return s;
}

/* Starts watching fd (a UDP or TCP socket); peer is the connected server or NULL. */
static __always_inline bool watch(__u32 tgid, int fd, const struct dns_peer *peer)
{
	struct sock_key k = { .tgid = tgid, .fd = fd };
	struct dns_sock v = {};
	__u64 f = fd_file(fd);
	struct socket *sock;
	short type;

	if (!f)
		return false;
	sock = BPF_CORE_READ((struct file *)f, private_data);
	/* Only a socket's private_data points back at its file. */
	if (!sock || (__u64)BPF_CORE_READ(sock, file) != f)
		return false;
	type = BPF_CORE_READ(sock, type);
	if (type == SOCK_DGRAM)
		v.transport = DNS_TRANSPORT_UDP;
	else if (type == SOCK_STREAM)
		v.transport = DNS_TRANSPORT_TCP;
	else
		return false;
	v.conn = (bpf_ktime_get_ns() << 8) | (bpf_get_smp_processor_id() & 0xff);
	v.file = f;
	if (peer) {
		v.peer = *peer;
		v.connected = 1;
	}
	/* counted before it is visible, so no reader of the gate can miss it (a replaced mark
	 * counts twice: errs high) */
	__sync_fetch_and_add(&marks_in[tgid & (GATE_SLOTS - 1)], 1);
	if (bpf_map_update_elem(&socks, &k, &v, BPF_ANY) == 0)
		return true;
	__sync_fetch_and_add(&marks_in[tgid & (GATE_SLOTS - 1)], -1);
	return false;
}

/*
 * Parks the call in this thread's element of inflight: written in place when the thread has
 * one (its previous call left it behind, marked taken), inserted otherwise. An LRU update
 * always allocates a new element and frees the old one; writing in place does neither.
 */
static __always_inline void park(struct dns_call *c)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 *gate = &parked_in[tid & (GATE_SLOTS - 1)];
	struct dns_call *slot = bpf_map_lookup_elem(&inflight, &tid);

	c->ts = bpf_ktime_get_ns();
	if (slot) {
		/* a call still parked there (its exit never ran) is replaced, already counted */
		if (!slot->sys)
			__sync_fetch_and_add(gate, 1);
		__builtin_memcpy(slot, c, sizeof(*c));
	} else {
		__sync_fetch_and_add(gate, 1);
		if (bpf_map_update_elem(&inflight, &tid, c, BPF_ANY) != 0)
			__sync_fetch_and_add(gate, -1);
	}
}

static __always_inline int enter_watched(int fd, __u8 sys, __u64 buf, __u64 count)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct dns_call c = {};

	if (!watched(tgid, fd))
		return 0;
	c.fd = fd;
	c.sys = sys;
	c.buf = buf;
	c.count = count;
	park(&c);
	return 0;
}

/* A send that names its destination: watch the socket if that is a DNS server. */
static __always_inline int enter_send_to(int fd, __u8 sys, __u64 buf, __u64 count, __u64 uaddr, __u64 alen)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct dns_call c = {};

	if (!uaddr)
		return enter_watched(fd, sys, buf, count);
	if (!read_peer(&c.dest, uaddr, alen) || kind_of(c.dest.port) != PORT_DNS)
		return 0;
	if (!watched(tgid, fd) && !watch(tgid, fd, NULL))
		return 0;
	c.has_dest = 1;
	c.fd = fd;
	c.sys = sys;
	c.buf = buf;
	c.count = count;
	park(&c);
	return 0;
}

/*
 * The parked call of this thread if it is `sys`; marks it taken (sys 0), the element stays.
 * The gate is per thread slot, not one global "is anything parked?" word as in zfs.bpf.c: a
 * DNS call stays parked for a network round trip, so that word would be non-zero whenever
 * DNS is in use and every exit in the system would read a cache line the parking CPUs keep
 * writing (measured: +130 ns per receive exit under the DNS benchmark). Spread over 4096
 * slots (256 cache lines), an exit reads a line only the threads of its slots write.
 */
static __always_inline bool take_call(__u8 sys, struct dns_call *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 *gate = &parked_in[tid & (GATE_SLOTS - 1)];
	struct dns_call *c;

	if (!*gate)
		return false;
	c = bpf_map_lookup_elem(&inflight, &tid);
	if (!c || !c->sys)
		return false;
	__builtin_memcpy(out, c, sizeof(*out));
	c->sys = 0;
	__sync_fetch_and_add(gate, -1);
	return out->sys == sys;
}

static __always_inline struct dns_event *new_event(__u32 type, struct dns_sock *s, __u8 sys, __u64 sent)
{
	__u32 zero = 0;
	struct dns_scratch *sc = bpf_map_lookup_elem(&scratch, &zero);

	if (!sc)
		return NULL;
	struct dns_event *e = &sc->e;
	bw_fill_header(&e->h, type);
	/* on loopback the server can answer before the send returns: time a query from its start */
	if (sent)
		e->h.ts_ns = sent;
	e->conn = s ? s->conn : 0;
	e->stream_off = 0;
	e->len = 0;
	e->cap = 0;
	e->transport = s ? s->transport : 0;
	e->syscall = sys;
	e->pad = 0;
	if (s) {
		__builtin_memcpy(e->addr, s->peer.addr, 16);
		e->family = s->peer.family;
		e->port = s->peer.port;
	} else {
		__builtin_memset(e->addr, 0, 16);
		e->family = 0;
		e->port = 0;
	}
	return e;
}

static __always_inline void set_peer(struct dns_event *e, const struct dns_peer *p)
{
	__builtin_memcpy(e->addr, p->addr, 16);
	e->family = p->family;
	e->port = p->port;
}

/* Copies min(n, DNS_CAPTURE) bytes of a user buffer into e->data; returns the count. */
static __always_inline __u32 copy_buf(struct dns_event *e, __u64 ubuf, __u64 n)
{
	barrier_var(n);
	if (n > DNS_CAPTURE)
		n = DNS_CAPTURE;
	if (bpf_probe_read_user(e->data, n, (void *)ubuf))
		return 0;
	return n;
}

/*
 * Copies the first min(total, DNS_CAPTURE) bytes spread over an iovec array, skipping `skip`
 * bytes of its first segment. The array is in user memory (the system call's argument) or in
 * kernel memory (the kernel's copy, as iov_iter holds it); the bytes are always the caller's.
 */
static __always_inline __u32 gather_from(struct dns_event *e, __u64 iov, __u64 iovcnt, __u64 skip, __u64 total, bool kernel)
{
	__u64 off = 0;

	for (int i = 0; i < MAX_IOV; i++) {
		struct u_iovec v;
		__u64 n;

		if (i >= iovcnt || off >= total || off >= DNS_CAPTURE)
			break;
		if ((kernel ? bpf_probe_read_kernel : bpf_probe_read_user)(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
			break;
		if (i == 0 && skip) {
			if (skip > v.len)
				break;
			v.base += skip;
			v.len -= skip;
		}
		n = v.len;
		if (n > total - off)
			n = total - off;
		if (n > DNS_CAPTURE - off)
			n = DNS_CAPTURE - off;
		/* keep clang from folding the clamps: the verifier must see each bound */
		barrier_var(n);
		if (n > DNS_CAPTURE)
			n = DNS_CAPTURE;
		barrier_var(off);
		off &= DNS_CAPTURE - 1;
		/* off < DNS_CAPTURE and n <= DNS_CAPTURE: within the event plus its slack */
		if (bpf_probe_read_user(e->data + off, n, (void *)v.base))
			break;
		off += n;
	}
	return off;
}

static __always_inline __u32 gather(struct dns_event *e, __u64 uiov, __u64 iovcnt, __u64 total)
{
	return gather_from(e, uiov, iovcnt, 0, total, false);
}

static __always_inline void emit(struct dns_event *e, bool aux)
{
	__u64 size = __builtin_offsetof(struct dns_event, data) + e->cap;

	if (size > sizeof(*e))
		size = sizeof(*e);
	if (!bw_output(e, size)) {
		if (aux)
			count_aux_lost();
		else
			bw_count_lost();
	}
}

/* A connect to an encrypted-DNS port: one record, server and process, no payload. */
static __always_inline void emit_tls(const struct dns_peer *p)
{
	struct dns_event *e = new_event(DNS_REC_TLS, NULL, DNS_SYS_CONNECT, 0);

	if (!e)
		return;
	set_peer(e, p);
	e->transport = DNS_TRANSPORT_TLS;
	emit(e, false);
}

static __always_inline void stream(struct dns_event *e, struct dns_sock *s, __u32 type, __u64 n)
{
	if (s->transport == DNS_TRANSPORT_TCP)
		e->stream_off = __sync_fetch_and_add(type == DNS_REC_SEND ? &s->sent : &s->rcvd, n);
}

/* Exit of a call that moved one buffer (write, read, sendto, recvfrom) or an iovec array. */
static __always_inline int exit_simple(long ret, __u8 sys, __u32 type, bool vector)
{
	struct dns_call c;
	struct dns_event *e;
	struct dns_sock *s;
	struct dns_peer from = {};
	bool named = false;

	if (!take_call(sys, &c) || ret <= 0)
		return 0;
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = c.fd };
	s = bpf_map_lookup_elem(&socks, &k);
	if (!s)
		return 0;
	if (c.addr && read_peer(&from, c.addr, c.addrcap)) {
		/* an unconnected socket also hears from others: keep what comes from DNS ports */
		if (!s->connected && kind_of(from.port) != PORT_DNS)
			return 0;
		named = true;
	}
	e = new_event(type, s, sys, type == DNS_REC_SEND ? c.ts : 0);
	if (!e)
		return 0;
	if (c.has_dest)
		set_peer(e, &c.dest);
	else if (named)
		set_peer(e, &from);
	e->len = ret;
	if (vector)
		e->cap = gather(e, c.buf, c.count, ret);
	else
		e->cap = copy_buf(e, c.buf, (__u64)ret < c.count ? (__u64)ret : c.count);
	stream(e, s, type, ret);
	emit(e, type != DNS_REC_SEND);
	return 0;
}

/* Exit of sendmsg/recvmsg: one message described by a user msghdr. */
static __always_inline int exit_msg(long ret, __u8 sys, __u32 type)
{
	struct dns_call c;
	struct u_msghdr m;
	struct dns_event *e;
	struct dns_sock *s;
	struct dns_peer from = {};

	if (!take_call(sys, &c) || ret <= 0)
		return 0;
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = c.fd };
	s = bpf_map_lookup_elem(&socks, &k);
	if (!s)
		return 0;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)c.buf))
		return 0;
	bool named = false;
	if (type == DNS_REC_RECV && m.name && read_peer(&from, m.name, m.namelen)) {
		if (!s->connected && kind_of(from.port) != PORT_DNS)
			return 0;
		named = true;
	}
	e = new_event(type, s, sys, type == DNS_REC_SEND ? c.ts : 0);
	if (!e)
		return 0;
	if (c.has_dest)
		set_peer(e, &c.dest);
	else if (named)
		set_peer(e, &from);
	e->len = ret;
	e->cap = gather(e, m.iov, m.iovlen, ret);
	stream(e, s, type, ret);
	emit(e, type != DNS_REC_SEND);
	return 0;
}

/* Exit of sendmmsg/recvmmsg: ret messages, each with its own length and maybe address. */
static __always_inline int exit_mmsg(long ret, __u8 sys, __u32 type)
{
	struct dns_call c;
	struct dns_sock *s;

	if (!take_call(sys, &c) || ret <= 0)
		return 0;
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = c.fd };
	s = bpf_map_lookup_elem(&socks, &k);
	if (!s)
		return 0;
	for (int i = 0; i < MAX_MMSG; i++) {
		struct u_mmsghdr m;
		struct dns_peer from = {};
		struct dns_event *e;
		bool named = false;

		if (i >= ret || i >= c.count)
			break;
		if (bpf_probe_read_user(&m, sizeof(m), (void *)(c.buf + i * sizeof(m))))
			break;
		if (m.hdr.name && read_peer(&from, m.hdr.name, m.hdr.namelen)) {
			if (kind_of(from.port) != PORT_DNS && (type == DNS_REC_SEND || !s->connected))
				continue;
			named = true;
		} else if (!s->connected) {
			continue;
		}
		e = new_event(type, s, sys, type == DNS_REC_SEND ? c.ts : 0);
		if (!e)
			break;
		if (named)
			set_peer(e, &from);
		e->len = m.len;
		e->cap = gather(e, m.hdr.iov, m.hdr.iovlen, m.len);
		stream(e, s, type, m.len);
		emit(e, type != DNS_REC_SEND);
	}
	return 0;
}

/* ---- connect and close: what is watched ---- */

SEC("tracepoint/syscalls/sys_enter_connect")
int dns_connect(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 uaddr = ctx->args[1];
	__u64 alen = ctx->args[2];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sock_key k = { .tgid = tgid, .fd = fd };
	struct dns_peer p = {};
	int kind;

	if (!read_peer(&p, uaddr, alen)) {
		/* AF_UNSPEC dissolves a UDP association; anything else is not ours */
		if (may_have_marks(tgid))
			unmark(&k);
		return 0;
	}
	kind = kind_of(p.port);
	if (kind == PORT_DNS) {
		watch(tgid, fd, &p);
		return 0;
	}
	if (may_have_marks(tgid))
		unmark(&k);
	if (kind == PORT_TLS)
		emit_tls(&p);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int dns_close(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct dns_sock *s;

	if (!may_have_marks(k.tgid))
		return 0;
	s = bpf_map_lookup_elem(&socks, &k);
	if (!s)
		return 0;
	if (s->transport == DNS_TRANSPORT_TCP) {
		struct dns_event *e = new_event(DNS_REC_CLOSE, s, DNS_SYS_CLOSE, 0);
		if (e)
			emit(e, true);
	}
	unmark(&k);
	return 0;
}

/* ---- sends ---- */

SEC("tracepoint/syscalls/sys_enter_write")
int dns_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return enter_watched(ctx->args[0], DNS_SYS_WRITE, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_write")
int dns_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_WRITE, DNS_REC_SEND, false);
}

SEC("tracepoint/syscalls/sys_enter_writev")
int dns_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return enter_watched(ctx->args[0], DNS_SYS_WRITEV, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int dns_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_WRITEV, DNS_REC_SEND, true);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int dns_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return enter_send_to(ctx->args[0], DNS_SYS_SENDTO, ctx->args[1], ctx->args[2], ctx->args[4], ctx->args[5]);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int dns_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_SENDTO, DNS_REC_SEND, false);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int dns_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct u_msghdr m;
	__u64 umsg = ctx->args[1];

	if (bpf_probe_read_user(&m, sizeof(m), (void *)umsg))
		return 0;
	return enter_send_to(ctx->args[0], DNS_SYS_SENDMSG, umsg, 0, m.name, m.namelen);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int dns_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_msg(ctx->ret, DNS_SYS_SENDMSG, DNS_REC_SEND);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int dns_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct u_msghdr m;
	__u64 umsg = ctx->args[1];

	/* the first message's destination decides whether an unconnected socket is watched */
	if (bpf_probe_read_user(&m, sizeof(m), (void *)umsg))
		return 0;
	int ret = enter_send_to(ctx->args[0], DNS_SYS_SENDMMSG, umsg, ctx->args[2], m.name, m.namelen);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dns_call *c = bpf_map_lookup_elem(&inflight, &tid);
	if (c && c->sys == DNS_SYS_SENDMMSG)
		c->has_dest = 0; /* each message names its own */
	return ret;
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int dns_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_mmsg(ctx->ret, DNS_SYS_SENDMMSG, DNS_REC_SEND);
}

/* ---- receives ---- */

SEC("tracepoint/syscalls/sys_enter_read")
int dns_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return enter_watched(ctx->args[0], DNS_SYS_READ, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_read")
int dns_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_READ, DNS_REC_RECV, false);
}

SEC("tracepoint/syscalls/sys_enter_readv")
int dns_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return enter_watched(ctx->args[0], DNS_SYS_READV, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_readv")
int dns_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_READV, DNS_REC_RECV, true);
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int dns_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 uaddr = ctx->args[4], ulen = ctx->args[5];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct dns_call c = {};

	/* a peek is read again later: count the bytes once */
	if ((ctx->args[3] & MSG_PEEK) || !watched(tgid, fd))
		return 0;
	c.fd = fd;
	c.sys = DNS_SYS_RECVFROM;
	c.buf = ctx->args[1];
	c.count = ctx->args[2];
	if (uaddr && ulen && bpf_probe_read_user(&c.addrcap, sizeof(c.addrcap), (void *)ulen) == 0)
		c.addr = uaddr;
	park(&c);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int dns_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return exit_simple(ctx->ret, DNS_SYS_RECVFROM, DNS_REC_RECV, false);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int dns_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & MSG_PEEK)
		return 0;
	return enter_watched(ctx->args[0], DNS_SYS_RECVMSG, ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int dns_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_msg(ctx->ret, DNS_SYS_RECVMSG, DNS_REC_RECV);
}

SEC("tracepoint/syscalls/sys_enter_recvmmsg")
int dns_enter_recvmmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[3] & MSG_PEEK)
		return 0;
	return enter_watched(ctx->args[0], DNS_SYS_RECVMMSG, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int dns_exit_recvmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return exit_mmsg(ctx->ret, DNS_SYS_RECVMMSG, DNS_REC_RECV);
}

/*
 * ---- The socket layer: fentry/fexit, where the kernel has BPF trampolines ----
 *
 * The same records from one level down: inet_sendmsg/inet_recvmsg (and inet6_*) are where
 * every send and receive call of a TCP or UDP socket meets, the mmsg calls' later messages
 * included. Only inet sockets' sends and receives run these programs, not every read, write
 * and close of every process as the system-call tracepoints do; the destination is in the
 * socket (connected) or in the kernel's copy of the call's address, so a filtered send reads
 * no user memory. A socket is known by its struct sock while it lives: sk_socks holds its
 * identity and TCP stream offsets from its first DNS message until inet_release. Connects are
 * seen for one thing only: a connect to an encrypted-DNS port is a record of its own.
 */
#define MSG_ERRQUEUE 0x2000

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);             /* struct sock * */
	__type(value, struct dns_sock);
} sk_socks SEC(".maps");

/* The socket of sock as a number (a key; the verifier allows no arithmetic on the pointer). */
static __always_inline __u64 sk_key(struct socket *sock)
{
	return (__u64)BPF_CORE_READ(sock, sk);
}

/* The gate slot of a socket (marks_in counts sk_socks entries here, as it counts socks above). */
static __always_inline __u32 sk_slot(__u64 sk)
{
	return ((sk >> 8) ^ (sk >> 20)) & (GATE_SLOTS - 1);
}

/* Reads a kernel sockaddr (the kernel's copy of the call's address); false unless inet. */
static __always_inline bool read_kpeer(struct dns_peer *p, __u64 kaddr, __u64 len)
{
	return read_sockaddr(p, kaddr, len, true);
}

/* The peer of a connected socket; false when it has none (dport 0) or is not inet. */
static __always_inline bool sk_peer(struct sock *sk, struct dns_peer *p)
{
	__be16 dport = sk->__sk_common.skc_dport;
	__u16 family;

	if (!dport)
		return false;
	family = sk->__sk_common.skc_family;
	p->family = family;
	p->port = bpf_ntohs(dport);
	if (family == AF_INET) {
		__be32 a = sk->__sk_common.skc_daddr;
		__builtin_memset(p->addr, 0, sizeof(p->addr));
		__builtin_memcpy(p->addr, &a, 4);
		return true;
	}
	if (family == AF_INET6)
		return bpf_probe_read_kernel(p->addr, 16, &sk->__sk_common.skc_v6_daddr) == 0;
	return false;
}

/*
 * Where the call's bytes are, before the call moves the iterator: one user buffer (count 0)
 * or an array of segments in kernel memory (the kernel's copy of the caller's iovecs), with
 * the offset into the first. Kernel-internal buffers (kvec, pages) are not a process's DNS.
 */
static __always_inline bool snapshot(struct msghdr *msg, struct dns_call *c)
{
	struct iov_iter *it = &msg->msg_iter;
	/* plain loads through the BTF pointer; ubuf through a helper: its union also holds struct
	 * pointers, which the verifier would type as such */
	__u8 type = it->iter_type;

	c->buf = (__u64)BPF_CORE_READ(it, ubuf);
	c->addr = it->iov_offset;
	if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) && type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		c->count = 0;
		return c->buf != 0;
	}
	if (type == bpf_core_enum_value(enum iter_type, ITER_IOVEC)) {
		c->count = it->nr_segs;
		return c->count != 0 && c->buf != 0;
	}
	return false;
}

/* Copies the first min(total, DNS_CAPTURE) bytes of what snapshot() saw. */
static __always_inline __u32 copy_iter(struct dns_event *e, struct dns_call *c, __u64 total)
{
	if (!c->count)
		return copy_buf(e, c->buf + c->addr, total);
	return gather_from(e, c->buf, c->count, c->addr, total, true);
}

static __always_inline struct dns_sock *sk_watched(__u64 sk)
{
	if (!marks_in[sk_slot(sk)])
		return NULL;
	return bpf_map_lookup_elem(&sk_socks, &sk);
}

/* The socket's entry, made at its first DNS message. */
static __always_inline struct dns_sock *sk_watch(__u64 sk, short type, bool connected)
{
	struct dns_sock *s = sk_watched(sk), v = {};
	__u32 *gate = &marks_in[sk_slot(sk)];

	if (s)
		return s;
	v.conn = (bpf_ktime_get_ns() << 8) | (bpf_get_smp_processor_id() & 0xff);
	v.transport = type == SOCK_STREAM ? DNS_TRANSPORT_TCP : DNS_TRANSPORT_UDP;
	v.connected = connected;
	__sync_fetch_and_add(gate, 1);
	if (bpf_map_update_elem(&sk_socks, &sk, &v, BPF_NOEXIST) != 0)
		__sync_fetch_and_add(gate, -1);
	return bpf_map_lookup_elem(&sk_socks, &sk);
}

/* Entry of a send: parks it when it goes to a DNS port (the bytes are read at its exit). */
static __always_inline int sock_send(struct socket *sock, struct msghdr *msg)
{
	struct dns_call c = {};
	short type = sock->type;
	struct sock *sk = sock->sk;
	__u64 name;

	if ((type != SOCK_DGRAM && type != SOCK_STREAM) || !sk)
		return 0;
	name = type == SOCK_DGRAM ? (__u64)msg->msg_name : 0;
	if (name) {
		if (!read_kpeer(&c.dest, name, msg->msg_namelen))
			return 0;
	} else if (!sk_peer(sk, &c.dest)) {
		return 0;
	}
	if (kind_of(c.dest.port) != PORT_DNS || !snapshot(msg, &c))
		return 0;
	c.sys = DNS_SYS_SOCK_SEND;
	c.has_dest = name != 0;
	park(&c);
	return 0;
}

static __always_inline int sock_sent(struct socket *sock, long ret)
{
	struct dns_call c;
	struct dns_event *e;
	struct dns_sock *s;

	if (!take_call(DNS_SYS_SOCK_SEND, &c) || ret <= 0)
		return 0;
	s = sk_watch(sk_key(sock), sock->type, !c.has_dest);
	if (!s)
		return 0;
	e = new_event(DNS_REC_SEND, s, DNS_SYS_SOCK_SEND, c.ts);
	if (!e)
		return 0;
	set_peer(e, &c.dest);
	e->len = ret;
	e->cap = copy_iter(e, &c, ret);
	stream(e, s, DNS_REC_SEND, ret);
	emit(e, false);
	return 0;
}

/*
 * Entry of a receive: parked when the socket is connected to a DNS port, or is an
 * unconnected UDP socket that has sent to one (its answers' source is checked at the exit).
 */
static __always_inline int sock_recv(struct socket *sock, struct msghdr *msg, int flags)
{
	struct dns_call c = {};
	short type = sock->type;
	struct sock *sk = sock->sk;

	if ((flags & (MSG_PEEK | MSG_ERRQUEUE)) || (type != SOCK_DGRAM && type != SOCK_STREAM) || !sk)
		return 0;
	if (sk_peer(sk, &c.dest)) {
		if (kind_of(c.dest.port) != PORT_DNS)
			return 0;
		c.has_dest = 1;
	} else if (type != SOCK_DGRAM || !sk_watched(sk_key(sock))) {
		return 0;
	}
	if (!snapshot(msg, &c))
		return 0;
	c.sys = DNS_SYS_SOCK_RECV;
	park(&c);
	return 0;
}

static __always_inline int sock_rcvd(struct socket *sock, struct msghdr *msg, long ret)
{
	struct dns_call c;
	struct dns_event *e;
	struct dns_sock *s;
	bool named = false;

	if (!take_call(DNS_SYS_SOCK_RECV, &c) || ret <= 0)
		return 0;
	if (!c.has_dest) {
		/* an unconnected socket also hears from others: keep what comes from DNS ports */
		__u64 name = (__u64)msg->msg_name;
		if (name && read_kpeer(&c.dest, name, msg->msg_namelen)) {
			if (kind_of(c.dest.port) != PORT_DNS)
				return 0;
			named = true;
		}
	}
	s = sk_watch(sk_key(sock), sock->type, c.has_dest);
	if (!s)
		return 0;
	e = new_event(DNS_REC_RECV, s, DNS_SYS_SOCK_RECV, 0);
	if (!e)
		return 0;
	if (c.has_dest || named)
		set_peer(e, &c.dest);
	e->len = ret;
	e->cap = copy_iter(e, &c, ret);
	stream(e, s, DNS_REC_RECV, ret);
	emit(e, true);
	return 0;
}

SEC("fentry/inet_sendmsg")
int BPF_PROG(dns_send4, struct socket *sock, struct msghdr *msg, size_t size)
{
	return sock_send(sock, msg);
}

SEC("fexit/inet_sendmsg")
int BPF_PROG(dns_sent4, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	return sock_sent(sock, ret);
}

SEC("fentry/inet6_sendmsg")
int BPF_PROG(dns_send6, struct socket *sock, struct msghdr *msg, size_t size)
{
	return sock_send(sock, msg);
}

SEC("fexit/inet6_sendmsg")
int BPF_PROG(dns_sent6, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	return sock_sent(sock, ret);
}

SEC("fentry/inet_recvmsg")
int BPF_PROG(dns_recv4, struct socket *sock, struct msghdr *msg, size_t size, int flags)
{
	return sock_recv(sock, msg, flags);
}

SEC("fexit/inet_recvmsg")
int BPF_PROG(dns_rcvd4, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret)
{
	return sock_rcvd(sock, msg, ret);
}

SEC("fentry/inet6_recvmsg")
int BPF_PROG(dns_recv6, struct socket *sock, struct msghdr *msg, size_t size, int flags)
{
	return sock_recv(sock, msg, flags);
}

SEC("fexit/inet6_recvmsg")
int BPF_PROG(dns_rcvd6, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret)
{
	return sock_rcvd(sock, msg, ret);
}

/* A connect to an encrypted-DNS port (the address is the kernel's copy): TLS over TCP, QUIC over UDP. */
static __always_inline int sock_connect(__u64 kaddr, int addr_len)
{
	struct dns_peer p = {};

	if (read_kpeer(&p, kaddr, addr_len) && kind_of(p.port) == PORT_TLS)
		emit_tls(&p);
	return 0;
}

SEC("fentry/inet_stream_connect")
int BPF_PROG(dns_connect_sk, struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	return sock_connect((__u64)uaddr, addr_len);
}

SEC("fentry/inet_dgram_connect")
int BPF_PROG(dns_connect_dgram, struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	return sock_connect((__u64)uaddr, addr_len);
}

/* The last close of an inet socket (both families): its entry goes, a TCP stream's state too. */
SEC("fentry/inet_release")
int BPF_PROG(dns_release, struct socket *sock)
{
	__u64 sk = sk_key(sock);
	struct dns_sock *s;

	if (!sk)
		return 0;
	s = sk_watched(sk);
	if (!s)
		return 0;
	if (s->transport == DNS_TRANSPORT_TCP) {
		struct dns_event *e = new_event(DNS_REC_CLOSE, s, DNS_SYS_CLOSE, 0);
		if (e)
			emit(e, true);
	}
	if (bpf_map_delete_elem(&sk_socks, &sk) == 0)
		__sync_fetch_and_add(&marks_in[sk_slot(sk)], -1);
	return 0;
}
