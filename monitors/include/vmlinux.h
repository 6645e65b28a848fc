/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel types bpfwatch's BPF programs use, and only those.
 *
 * Why not a bpftool-generated vmlinux.h: that file describes one build machine's kernel
 * (130k lines), changes whenever the build machine's kernel changes, and hides which kernel
 * fields we depend on. Here every struct carries preserve_access_index, so clang records
 * each field access as a CO-RE relocation and libbpf fixes offsets against the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) at load time. A field listed here only has to
 * exist in the running kernel under the same name; its offset and the struct's other
 * members do not matter. Keep this list short and add fields as monitors need them.
 */
#ifndef BPFWATCH_VMLINUX_H
#define BPFWATCH_VMLINUX_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef long long loff_t;
typedef unsigned long size_t;

/* UAPI constants (stable ABI, values from include/uapi/linux/bpf.h). */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_LOCK = 4,
};
enum {
	BPF_F_NO_PREALLOC = 1,
	BPF_F_MMAPABLE = 1024,
};
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

/* Forward declarations the helper prototypes in bpf_helper_defs.h refer to. */
struct bpf_map;
struct pt_regs;
struct sk_buff;
struct __sk_buff;
struct xdp_md;
struct bpf_sock;
struct bpf_sock_addr;
struct bpf_sock_ops;
struct bpf_sock_tuple;
struct bpf_tcp_sock;
struct bpf_perf_event_value;
struct bpf_spin_lock;
struct bpf_sysctl;
struct bpf_pidns_info;
struct bpf_redir_neigh;
struct bpf_dynptr;
struct bpf_fib_lookup;
struct bpf_timer;
struct bpf_perf_event_data;
struct btf_ptr;
struct linux_binprm;
struct path;
struct file;
struct inode;
struct socket;
struct seq_file;
struct tcp6_sock;
struct tcp_sock;
struct tcp_timewait_sock;
struct tcp_request_sock;
struct udp6_sock;
struct unix_sock;
struct mptcp_sock;
struct task_struct;
struct cgroup;
struct sk_reuseport_md;
struct bpf_iter_num;
struct sk_msg_md;
struct user_namespace;

/* ---- process identity ---- */
struct task_struct {
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct files_struct *files;
	char comm[16];
	__u64 start_boottime;
	struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

/* ---- namespaces: task -> nsproxy -> net -> ns_common.inum (the netns inode) ---- */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct net *net_ns;
} __attribute__((preserve_access_index));

/* ---- open files: fd -> struct file -> inode (zfs: is it the control device?) or socket (dns) ---- */
typedef unsigned short umode_t;
typedef __u32 dev_t;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct super_block {
	dev_t s_dev;
} __attribute__((preserve_access_index));

struct inode {
	umode_t i_mode;
	struct super_block *i_sb;
	unsigned long i_ino;
	dev_t i_rdev;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
	void *private_data;
} __attribute__((preserve_access_index));

/* ---- sockets ---- */
struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be16 u6_addr16[8];
		__be32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
	union {
		struct {
			__be32 skc_daddr;
			__be32 skc_rcv_saddr;
		};
	};
	union {
		struct {
			__be16 skc_dport;
			__u16 skc_num;
		};
	};
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct socket {
	short type;
	struct file *file;
	struct sock *sk;
} __attribute__((preserve_access_index));

/* ---- socket-layer messages (dns on fentry): msghdr -> iov_iter -> the caller's buffers ---- */
struct iovec {
	void *iov_base;
	size_t iov_len;
} __attribute__((preserve_access_index));

/*
 * Values differ between kernels (6.1: ITER_IOVEC 0 ... ITER_UBUF 6; 6.5+: ITER_UBUF 0,
 * ITER_IOVEC 1): read them with bpf_core_enum_value, never as written here.
 */
enum iter_type {
	ITER_IOVEC = 0,
	ITER_KVEC = 1,
	ITER_UBUF = 6,
};

/*
 * ubuf shares a union with the segment array (iov, named __iov since 6.4): one field serves
 * both. count sits in a nested anonymous struct since 6.7; CO-RE finds it by name.
 */
struct iov_iter {
	__u8 iter_type;
	size_t iov_offset;
	size_t count;
	void *ubuf;
	unsigned long nr_segs;
} __attribute__((preserve_access_index));

struct msghdr {
	void *msg_name;
	int msg_namelen;
	struct iov_iter msg_iter;
} __attribute__((preserve_access_index));

/* ---- tracepoint contexts (classic tracepoints; layouts come from the running kernel's BTF) ---- */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
} __attribute__((preserve_access_index));

/* sched:sched_process_exec */
struct trace_event_raw_sched_process_exec {
	struct trace_entry ent;
	__u32 __data_loc_filename;
	int pid;
	int old_pid;
	char __data[0];
} __attribute__((preserve_access_index));

/* sock:inet_sock_set_state (4.16+) */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
} __attribute__((preserve_access_index));

/* tcp:tcp_retransmit_skb: the context struct was renamed in 6.x; only skaddr is read. */
struct trace_event_raw_tcp_retransmit_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_event_sk_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

/* ---- WireGuard (drivers/net/wireguard). Its types live only in the module's BTF
 * (/sys/kernel/btf/wireguard, present while the module is loaded); libbpf resolves these
 * against it. Every access starts from a WireGuard struct (wg_peer, noise_keypair, packet_cb),
 * so the generic names below (endpoint, sockaddr_in) never have to be found on their own. ---- */
struct in_addr {
	__be32 s_addr;
} __attribute__((preserve_access_index));

struct sockaddr_in {
	unsigned short sin_family;
	__be16 sin_port;
	struct in_addr sin_addr;
} __attribute__((preserve_access_index));

struct sockaddr_in6 {
	unsigned short sin6_family;
	__be16 sin6_port;
	__be32 sin6_flowinfo;
	struct in6_addr sin6_addr;
} __attribute__((preserve_access_index));

struct sk_buff {
	char cb[48];
	unsigned int len;
} __attribute__((preserve_access_index));

struct net_device {
	char name[16];
} __attribute__((preserve_access_index));

struct wg_device {
	struct net_device *dev;
} __attribute__((preserve_access_index));

/* The union's first member is `struct sockaddr addr` in 6.1 and `struct sockaddr_inet addr` in
 * recent kernels; addr4 and addr6 are the same in both, so only they are read. */
struct endpoint {
	union {
		struct sockaddr_in addr4;
		struct sockaddr_in6 addr6;
	};
} __attribute__((preserve_access_index));

struct noise_handshake {
	__u8 remote_static[32];
} __attribute__((preserve_access_index));

struct noise_keypair;

struct noise_keypairs {
	struct noise_keypair *current_keypair;
} __attribute__((preserve_access_index));

struct wg_peer {
	struct wg_device *device;
	struct noise_keypairs keypairs;
	struct endpoint endpoint;
	struct noise_handshake handshake;
	unsigned int timer_handshake_attempts;
} __attribute__((preserve_access_index));

struct index_hashtable_entry {
	struct wg_peer *peer;
} __attribute__((preserve_access_index));

struct noise_keypair {
	struct index_hashtable_entry entry;
	bool i_am_the_initiator;
} __attribute__((preserve_access_index));

/* What WireGuard keeps in skb->cb (PACKET_CB()). */
struct packet_cb {
	struct noise_keypair *keypair;
} __attribute__((preserve_access_index));

#endif /* BPFWATCH_VMLINUX_H */
