// SPDX-License-Identifier: Apache-2.0
/*
 * The benchmark's traced process: makes N system calls of one kind as fast as it can (or at a
 * given rate) on T threads and prints how long each took on average.
 *
 *   workload MODE COUNT [THREADS [RATE [ARG]]]
 *
 * MODE (what each operation is):
 *   tcp4, tcp6        connect() to a loopback listener, then close(): one tcp event each
 *   dns-sendto        sendto() of a DNS query (A example.com, a fresh id each) to 127.0.0.2:53, then
 *                     recvfrom() of the answer from a responder thread: one answered dns event
 *   dns-connected     connect() once, then send() and recv() (as glibc does): one dns event
 *   udp-other         sendto() of the query to 127.0.0.2:9 (not a DNS port): filtered out in the kernel
 *   zfs-ioctl         ioctl(ZFS_IOC_SNAPSHOT) on ARG, the zfs monitor's stand-in device: one zfs event
 *   ioctl-other       ioctl(TCGETS) on ARG: hits the same tracepoint, filtered out in the kernel
 *   write-other       write() of 64 bytes to ARG (/dev/null): the dns monitor's system-call
 *                     tracepoints see every write; its socket-layer hooks never run for it
 * RATE 0 means as fast as possible; otherwise the total operations per second, paced per thread.
 * Output (one line): mode=... ops=... threads=... seconds=... ns_per_op=... wall_ns_per_op=...
 * rate=... errors=...; ns_per_op is the calling threads' CPU time per operation (what a probe
 * adds to the traced process shows there, not blurred by waiting for the peer).
 * Errors that are the expected answer (ENOTTY from the stand-in, ECONNREFUSED is not) are not
 * counted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *mode;
static long per_thread;
static double rate_per_thread;
static const char *arg;
static struct sockaddr_storage listener;
static socklen_t listener_len;
static long errors[64];
static uint64_t cpu_ns[64];

static const unsigned char query_template[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void open_listener(int family)
{
	int s = socket(family, SOCK_STREAM, 0);
	if (s < 0) die("socket");
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&listener, 0, sizeof(listener));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&listener;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		listener_len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&listener;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		listener_len = sizeof(*a);
	}
	if (bind(s, (struct sockaddr *)&listener, listener_len) < 0) die("bind");
	if (listen(s, 4096) < 0) die("listen");
	if (getsockname(s, (struct sockaddr *)&listener, &listener_len) < 0) die("getsockname");
	/* Connections complete in the kernel's backlog; a thread accepts and closes them. */
	pthread_t t;
	int *fd = malloc(sizeof(int));
	*fd = s;
	extern void *acceptor(void *);
	if (pthread_create(&t, NULL, acceptor, fd)) die("pthread_create");
}

void *acceptor(void *p)
{
	int s = *(int *)p;
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0) close(c);
	}
	return NULL;
}

static void udp_addr(struct sockaddr_in *a, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(0x7f000002); /* 127.0.0.2: port 53 there is rarely taken */
}

/*
 * A DNS server that answers every query at once: NOERROR with one A record (192.0.2.34, TTL
 * 60) for the question's name, as a real answer carries (the daemon keeps answers' addresses
 * to name connections: a reply without records would skip that work).
 */
static void *responder(void *p)
{
	static const unsigned char a_record[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 34};
	int s = *(int *)p;
	unsigned char buf[512 + sizeof(a_record)];
	struct sockaddr_storage from;
	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, 512, 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		buf[2] |= 0x80; /* QR */
		buf[3] |= 0x80; /* RA, rcode 0 */
		buf[6] = 0;     /* ANCOUNT 1 */
		buf[7] = 1;
		memcpy(buf + n, a_record, sizeof(a_record));
		sendto(s, buf, n + sizeof(a_record), 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void start_responder(void)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) die("socket");
	udp_addr(&a, 53);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind 127.0.0.2:53 (is a DNS server listening on all addresses?)");
	int *fd = malloc(sizeof(int));
	*fd = s;
	pthread_t t;
	if (pthread_create(&t, NULL, responder, fd)) die("pthread_create");
}

static void *run(void *p)
{
	long id = (long)p;
	long n = per_thread;
	uint64_t start = now_ns();
	double gap = rate_per_thread > 0 ? 1e9 / rate_per_thread : 0;
	int fd = -1;
	struct sockaddr_in dst;
	unsigned char zc[16384], query[sizeof(query_template)], answer[512];
	memcpy(query, query_template, sizeof(query));
	memset(zc, 0, sizeof(zc));
	snprintf((char *)zc, 256, "bench");

	if (!strcmp(mode, "dns-sendto") || !strcmp(mode, "udp-other") || !strcmp(mode, "dns-connected")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0) die("socket");
		struct timeval tv = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		udp_addr(&dst, !strcmp(mode, "udp-other") ? 9 : 53);
		if (!strcmp(mode, "dns-connected") && connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) die("connect");
	} else if (!strcmp(mode, "zfs-ioctl") || !strcmp(mode, "ioctl-other")) {
		fd = open(arg, O_RDONLY);
		if (fd < 0) die(arg);
	} else if (!strcmp(mode, "write-other")) {
		fd = open(arg, O_WRONLY);
		if (fd < 0) die(arg);
	}

	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (long i = 0; i < n; i++) {
		if (gap > 0) {
			/* Sleep when ahead (timer slack makes that bursts of ~50 us), never spin: the
			 * producer must not take the CPU the consumer is measured on. */
			uint64_t due = start + (uint64_t)(i * gap);
			uint64_t t = now_ns();
			if (t < due) {
				struct timespec ts = {(time_t)((due - t) / 1000000000ull), (long)((due - t) % 1000000000ull)};
				nanosleep(&ts, NULL);
			}
		}
		/* a fresh DNS id per query, as resolvers do */
		query[0] = (unsigned char)(i >> 8);
		query[1] = (unsigned char)i;
		if (mode[0] == 't') {
			int s = socket(listener.ss_family, SOCK_STREAM, 0);
			if (s < 0 || connect(s, (struct sockaddr *)&listener, listener_len) < 0) errors[id]++;
			if (s >= 0) close(s);
		} else if (!strcmp(mode, "dns-connected")) {
			if (send(fd, query, sizeof(query), 0) < 0 || recv(fd, answer, sizeof(answer), 0) < 12) errors[id]++;
		} else if (!strcmp(mode, "dns-sendto")) {
			if (sendto(fd, query, sizeof(query), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0
			    || recvfrom(fd, answer, sizeof(answer), 0, NULL, NULL) < 12)
				errors[id]++;
		} else if (mode[0] == 'u') {
			if (sendto(fd, query, sizeof(query), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) errors[id]++;
		} else if (mode[0] == 'w') {
			if (write(fd, zc, 64) != 64) errors[id]++;
		} else if (!strcmp(mode, "zfs-ioctl")) {
			if (ioctl(fd, 0x5a23, zc) == 0 || errno != ENOTTY) errors[id]++;
		} else {
			struct termios t;
			if (ioctl(fd, TCGETS, &t) == 0 || errno != ENOTTY) errors[id]++;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	cpu_ns[id] = (c1.tv_sec - c0.tv_sec) * 1000000000ull + (c1.tv_nsec - c0.tv_nsec);
	if (fd >= 0) close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE COUNT [THREADS [RATE [ARG]]]\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	long count = atol(argv[2]);
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	double rate = argc > 4 ? atof(argv[4]) : 0;
	arg = argc > 5 ? argv[5] : "/dev/null";
	if (threads < 1 || threads > 64) threads = 1;
	per_thread = count / threads;
	rate_per_thread = rate / threads;
	if (!strcmp(mode, "tcp4")) open_listener(AF_INET);
	else if (!strcmp(mode, "tcp6")) open_listener(AF_INET6);
	else if (!strcmp(mode, "dns-sendto") || !strcmp(mode, "dns-connected")) start_responder();
	else if (strcmp(mode, "udp-other") && strcmp(mode, "write-other")
		 && strcmp(mode, "zfs-ioctl") && strcmp(mode, "ioctl-other")) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	pthread_t t[64];
	uint64_t start = now_ns();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, run, (void *)i)) die("pthread_create");
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	uint64_t took = now_ns() - start;
	long ops = per_thread * threads, errs = 0;
	uint64_t cpu = 0;
	for (int i = 0; i < threads; i++) {
		errs += errors[i];
		cpu += cpu_ns[i];
	}
	double secs = took / 1e9;
	/* ns_per_op: CPU time of the calling threads per operation (system calls and the BPF
	 * programs they run, not the wait for the peer thread); wall_ns_per_op: wall time x threads */
	printf("mode=%s ops=%ld threads=%d seconds=%.3f ns_per_op=%.1f wall_ns_per_op=%.1f rate=%.0f errors=%ld\n", mode, ops,
	       threads, secs, cpu / (double)ops, took * (double)threads / ops, ops / secs, errs);
	return errs ? 1 : 0;
}
