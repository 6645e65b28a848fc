// SPDX-License-Identifier: GPL-2.0
/*
 * bench only (make bench-hooks): CPU time per system call with no hook, then with each pair
 * of programs in hookcost.bpf.o attached, for three calls: a filtered-out ioctl (TCGETS on
 * /dev/null: the hooked call), getppid() and read(fd, buf, 0) (calls nobody hooks). Rounds
 * alternate between the configurations and the minimum per configuration is kept, so drift
 * of a shared machine hits them alike. Prints ns per call and the difference to no hook.
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CALLS 300000
#define ROUNDS 7

static double thread_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void measure(int fd, double best[3])
{
	struct termios tt;
	char b[1];
	double t0 = thread_ns();
	for (int i = 0; i < CALLS; i++)
		ioctl(fd, TCGETS, &tt);
	double t1 = thread_ns();
	for (int i = 0; i < CALLS; i++)
		syscall(SYS_getppid);
	double t2 = thread_ns();
	for (int i = 0; i < CALLS; i++)
		if (read(fd, b, 0) < 0)
			break;
	double t3 = thread_ns();
	double r[3] = {(t1 - t0) / CALLS, (t2 - t1) / CALLS, (t3 - t2) / CALLS};
	for (int k = 0; k < 3; k++)
		if (r[k] < best[k])
			best[k] = r[k];
}

int main(int argc, char **argv)
{
	const char *obj = argc > 1 ? argv[1] : "hookcost.bpf.o";
	const char *names[] = {"no hook", "tracepoint syscalls:sys_{enter,exit}_ioctl", "tp_btf sys_enter/sys_exit",
			       "raw_tp sys_enter/sys_exit"};
	const char *progs[][2] = {{NULL, NULL}, {"tp_enter", "tp_exit"}, {"btf_enter", "btf_exit"}, {"raw_enter", "raw_exit"}};
	double best[4][3];
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0) {
		perror("/dev/null");
		return 1;
	}
	for (int c = 0; c < 4; c++)
		for (int k = 0; k < 3; k++)
			best[c][k] = 1e18;
	libbpf_set_print(NULL);
	for (int round = 0; round < ROUNDS; round++) {
		for (int c = 0; c < 4; c++) {
			struct bpf_object *o = NULL;
			struct bpf_link *l1 = NULL, *l2 = NULL;

			if (progs[c][0]) {
				struct bpf_program *p;

				o = bpf_object__open_file(obj, NULL);
				if (!o) {
					fprintf(stderr, "cannot open %s\n", obj);
					return 1;
				}
				bpf_object__for_each_program(p, o)
					bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), progs[c][0]) ||
								     !strcmp(bpf_program__name(p), progs[c][1]));
				if (bpf_object__load(o)) {
					fprintf(stderr, "%s: load failed\n", names[c]);
					return 1;
				}
				l1 = bpf_program__attach(bpf_object__find_program_by_name(o, progs[c][0]));
				l2 = bpf_program__attach(bpf_object__find_program_by_name(o, progs[c][1]));
				if (!l1 || !l2) {
					fprintf(stderr, "%s: attach failed\n", names[c]);
					return 1;
				}
			}
			measure(fd, best[c]);
			bpf_link__destroy(l1);
			bpf_link__destroy(l2);
			bpf_object__close(o);
		}
	}
	printf("%-44s %22s %22s %22s\n", "hook (min of rounds, ns per call)", "ioctl TCGETS (hooked)", "getppid", "read 0 bytes");
	for (int c = 0; c < 4; c++) {
		printf("%-44s", names[c]);
		for (int k = 0; k < 3; k++) {
			if (c == 0)
				printf(" %22.0f", best[c][k]);
			else
				printf(" %14.0f (%+5.0f)", best[c][k], best[c][k] - best[0][k]);
		}
		printf("\n");
	}
	return 0;
}
