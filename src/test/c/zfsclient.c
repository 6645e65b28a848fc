// SPDX-License-Identifier: GPL-2.0
/*
 * zfsclient: the real OpenZFS userland (libzfs_core, libnvpair) as a test driver.
 *
 *   zfsclient OP [ARGS] [; OP [ARGS]]...   issue ZFS operations, print "OP errno-name" per op
 *   zfsclient pack DIR                     write golden packed nvlists (fnvlist_pack) to DIR
 *
 * Operations go through libzfs_core, which opens /dev/zfs itself, except the raw-* ones,
 * which build a zfs_cmd_t by hand the way libzfs's legacy calls do. Without a ZFS kernel
 * module (a regular file standing in for /dev/zfs) every ioctl fails with ENOTTY.
 * Prototypes are declared here because Debian ships OpenZFS's headers only with the much
 * larger libzfslinux-dev; they are those of OpenZFS 2.1 (libzfs_core.so.3, libnvpair.so.3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct nvlist nvlist_t;
typedef enum { B_FALSE = 0, B_TRUE = 1 } boolean_t;
typedef unsigned int uint_t;
typedef long long hrtime_t;

nvlist_t *fnvlist_alloc(void);
void fnvlist_free(nvlist_t *);
char *fnvlist_pack(nvlist_t *, size_t *);
void fnvlist_pack_free(char *, size_t);
void fnvlist_add_boolean(nvlist_t *, const char *);
void fnvlist_add_boolean_value(nvlist_t *, const char *, boolean_t);
void fnvlist_add_byte(nvlist_t *, const char *, unsigned char);
void fnvlist_add_int8(nvlist_t *, const char *, int8_t);
void fnvlist_add_uint8(nvlist_t *, const char *, uint8_t);
void fnvlist_add_int16(nvlist_t *, const char *, int16_t);
void fnvlist_add_uint16(nvlist_t *, const char *, uint16_t);
void fnvlist_add_int32(nvlist_t *, const char *, int32_t);
void fnvlist_add_uint32(nvlist_t *, const char *, uint32_t);
void fnvlist_add_int64(nvlist_t *, const char *, int64_t);
void fnvlist_add_uint64(nvlist_t *, const char *, uint64_t);
void fnvlist_add_string(nvlist_t *, const char *, const char *);
void fnvlist_add_nvlist(nvlist_t *, const char *, nvlist_t *);
void fnvlist_add_boolean_array(nvlist_t *, const char *, boolean_t *, uint_t);
void fnvlist_add_byte_array(nvlist_t *, const char *, unsigned char *, uint_t);
void fnvlist_add_int16_array(nvlist_t *, const char *, int16_t *, uint_t);
void fnvlist_add_uint32_array(nvlist_t *, const char *, uint32_t *, uint_t);
void fnvlist_add_int64_array(nvlist_t *, const char *, int64_t *, uint_t);
void fnvlist_add_uint64_array(nvlist_t *, const char *, uint64_t *, uint_t);
void fnvlist_add_string_array(nvlist_t *, const char *, char *const *, uint_t);
void fnvlist_add_nvlist_array(nvlist_t *, const char *, nvlist_t **, uint_t);
int nvlist_add_hrtime(nvlist_t *, const char *, hrtime_t);
int nvlist_add_double(nvlist_t *, const char *, double);

int libzfs_core_init(void);
void libzfs_core_fini(void);
int lzc_snapshot(nvlist_t *, nvlist_t *, nvlist_t **);
int lzc_destroy_snaps(nvlist_t *, boolean_t, nvlist_t **);
int lzc_rollback(const char *, char *, int);
int lzc_rollback_to(const char *, const char *);
int lzc_clone(const char *, const char *, nvlist_t *);
int lzc_promote(const char *, char *, int);
int lzc_hold(nvlist_t *, int, nvlist_t **);
int lzc_release(nvlist_t *, nvlist_t **);
int lzc_rename(const char *, const char *);
int lzc_destroy(const char *);
boolean_t lzc_exists(const char *);

/* zfs_cmd_t of OpenZFS 2.1 (include/sys/zfs_ioctl.h) up to zc_cookie; the rest stays zero. */
struct zfs_cmd_head {
	char zc_name[4096];
	uint64_t zc_nvlist_src;
	uint64_t zc_nvlist_src_size;
	uint64_t zc_nvlist_dst;
	uint64_t zc_nvlist_dst_size;
	int32_t zc_nvlist_dst_filled;
	int32_t zc_pad2;
	uint64_t zc_history;
	char zc_value[8192];
	char zc_string[256];
	uint64_t zc_guid;
	uint64_t zc_nvlist_conf;
	uint64_t zc_nvlist_conf_size;
	uint64_t zc_cookie;
};
_Static_assert(__builtin_offsetof(struct zfs_cmd_head, zc_nvlist_src) == 4096, "zc_nvlist_src");
_Static_assert(__builtin_offsetof(struct zfs_cmd_head, zc_nvlist_src_size) == 4104, "zc_nvlist_src_size");
_Static_assert(__builtin_offsetof(struct zfs_cmd_head, zc_value) == 4144, "zc_value");
_Static_assert(__builtin_offsetof(struct zfs_cmd_head, zc_cookie) == 12616, "zc_cookie");

/* Larger than sizeof (zfs_cmd_t) in any release, so the kernel's copyin stays inside it. */
union zfs_cmd {
	struct zfs_cmd_head c;
	char whole[16384];
};

#define ZFS_DEV "/dev/zfs"

static const char *errname(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOTTY: return "ENOTTY";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case ENXIO: return "ENXIO";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	default: return "other";
	}
}

static void report(const char *op, int err)
{
	printf("%s %s\n", op, errname(err));
	fflush(stdout);
}

static nvlist_t *bool_set(char **names, int n)
{
	nvlist_t *l = fnvlist_alloc();
	for (int i = 0; i < n; i++)
		fnvlist_add_boolean(l, names[i]);
	return l;
}

/* A legacy ioctl with a hand-built zfs_cmd_t on PATH (default /dev/zfs). */
static int raw_ioctl(const char *path, unsigned long cmd, const char *name, const char *value,
		     uint64_t cookie, nvlist_t *src)
{
	union zfs_cmd *zc = calloc(1, sizeof(*zc));
	size_t size = 0;
	char *packed = NULL;
	int fd, err = 0;

	if (!zc)
		return ENOMEM;
	strncpy(zc->c.zc_name, name, sizeof(zc->c.zc_name) - 1);
	if (value)
		strncpy(zc->c.zc_value, value, sizeof(zc->c.zc_value) - 1);
	zc->c.zc_cookie = cookie;
	if (src) {
		packed = fnvlist_pack(src, &size);
		zc->c.zc_nvlist_src = (uint64_t)(uintptr_t)packed;
		zc->c.zc_nvlist_src_size = size;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
	} else {
		if (ioctl(fd, cmd, zc) != 0)
			err = errno;
		close(fd);
	}
	if (packed)
		fnvlist_pack_free(packed, size);
	free(zc);
	return err;
}

static const unsigned long AUDITED[] = {
	0x5a18, 0x5a19, 0x5a1a, 0x5a22, 0x5a23, 0x5a30, 0x5a31, 0x5a3b, 0x5a42,
};

static int initialized;

/* libzfs_core opens /dev/zfs once; raw-* operations open their own files and do not need it. */
static int lzc(void)
{
	if (!initialized) {
		int err = libzfs_core_init();
		if (err != 0) {
			fprintf(stderr, "zfsclient: libzfs_core_init: %s\n", strerror(err));
			exit(1);
		}
		initialized = 1;
	}
	return 0;
}

/* Runs one operation starting at argv[0]; returns how many arguments it used, or -1. */
static int run(int argc, char **argv)
{
	const char *op = argv[0];
	int n = 1;
	while (n < argc && strcmp(argv[n], ";") != 0)
		n++;
	int nargs = n - 1;
	char **a = argv + 1;
	char buf[256];
	int err;

	if (strncmp(op, "raw-", 4) != 0)
		lzc();
	if (!strcmp(op, "snapshot") && nargs >= 1) {
		nvlist_t *snaps = bool_set(a, nargs);
		nvlist_t *errs = NULL;
		err = lzc_snapshot(snaps, NULL, &errs);
		fnvlist_free(snaps);
	} else if (!strcmp(op, "destroy-snaps") && nargs >= 1) {
		nvlist_t *snaps = bool_set(a, nargs);
		nvlist_t *errs = NULL;
		err = lzc_destroy_snaps(snaps, B_FALSE, &errs);
		fnvlist_free(snaps);
	} else if (!strcmp(op, "rollback") && nargs == 1) {
		err = lzc_rollback(a[0], buf, sizeof(buf));
	} else if (!strcmp(op, "rollback-to") && nargs == 2) {
		err = lzc_rollback_to(a[0], a[1]);
	} else if (!strcmp(op, "clone") && nargs == 2) {
		err = lzc_clone(a[0], a[1], NULL);
	} else if (!strcmp(op, "promote") && nargs == 1) {
		err = lzc_promote(a[0], buf, sizeof(buf));
	} else if (!strcmp(op, "hold") && nargs == 2) {
		nvlist_t *holds = fnvlist_alloc();
		nvlist_t *errs = NULL;
		fnvlist_add_string(holds, a[0], a[1]);
		err = lzc_hold(holds, -1, &errs);
		fnvlist_free(holds);
	} else if (!strcmp(op, "release") && nargs == 2) {
		nvlist_t *holds = fnvlist_alloc(), *tags = fnvlist_alloc();
		nvlist_t *errs = NULL;
		fnvlist_add_boolean(tags, a[1]);
		fnvlist_add_nvlist(holds, a[0], tags);
		err = lzc_release(holds, &errs);
		fnvlist_free(tags);
		fnvlist_free(holds);
	} else if (!strcmp(op, "rename") && nargs == 2) {
		err = lzc_rename(a[0], a[1]);
	} else if (!strcmp(op, "destroy") && nargs == 1) {
		err = lzc_destroy(a[0]);
	} else if (!strcmp(op, "exists") && nargs == 1) {
		err = lzc_exists(a[0]) ? 0 : errno;
	} else if (!strcmp(op, "raw-destroy") && nargs == 1) {
		err = raw_ioctl(ZFS_DEV, 0x5a18, a[0], NULL, 0, NULL);
	} else if (!strcmp(op, "raw-rename") && nargs == 3) {
		err = raw_ioctl(ZFS_DEV, 0x5a1a, a[0], a[1], strtoull(a[2], NULL, 0), NULL);
	} else if (!strcmp(op, "raw-all") && nargs == 1) {
		/* every audited command number on PATH, each with a snapshot name and an nvlist */
		char *snap = "tank/fs@raw";
		nvlist_t *snaps = bool_set(&snap, 1), *args = fnvlist_alloc();
		fnvlist_add_nvlist(args, "snaps", snaps);
		err = 0;
		for (unsigned i = 0; i < sizeof(AUDITED) / sizeof(AUDITED[0]); i++) {
			int e = raw_ioctl(a[0], AUDITED[i], snap, "tank/fs@raw2", 0, args);
			if (e != ENOTTY)
				err = e ? e : EINVAL;
		}
		if (err == 0)
			err = ENOTTY;
		fnvlist_free(args);
		fnvlist_free(snaps);
	} else {
		fprintf(stderr, "zfsclient: bad operation '%s' with %d arguments\n", op, nargs);
		return -1;
	}
	report(op, err);
	return n;
}

static int write_packed(const char *dir, const char *name, nvlist_t *l)
{
	char path[4096];
	size_t size = 0;
	char *packed = fnvlist_pack(l, &size);
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(packed, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	fnvlist_pack_free(packed, size);
	fnvlist_free(l);
	return 0;
}

/* Golden packed nvlists: what libzfs_core sends, and every data type once. */
static int pack(const char *dir)
{
	int bad = 0;

	nvlist_t *snaps = fnvlist_alloc(), *props = fnvlist_alloc(), *l = fnvlist_alloc();
	fnvlist_add_boolean(snaps, "tank/home@monday");
	fnvlist_add_boolean(snaps, "tank/home/alice@monday");
	fnvlist_add_string(props, "user:reason", "nightly");
	fnvlist_add_nvlist(l, "snaps", snaps);
	fnvlist_add_nvlist(l, "props", props);
	bad |= write_packed(dir, "snapshot", l);

	l = fnvlist_alloc();
	fnvlist_add_nvlist(l, "snaps", snaps);
	fnvlist_add_boolean(l, "defer");
	bad |= write_packed(dir, "destroy-snaps", l);
	fnvlist_free(snaps);
	fnvlist_free(props);

	nvlist_t *holds = fnvlist_alloc();
	l = fnvlist_alloc();
	fnvlist_add_string(holds, "tank@keep", "backup-job");
	fnvlist_add_nvlist(l, "holds", holds);
	fnvlist_add_int32(l, "cleanup_fd", -1);
	bad |= write_packed(dir, "hold", l);
	fnvlist_free(holds);

	nvlist_t *tags = fnvlist_alloc();
	l = fnvlist_alloc();
	fnvlist_add_boolean(tags, "backup-job");
	fnvlist_add_nvlist(l, "tank@keep", tags);
	bad |= write_packed(dir, "release", l);
	fnvlist_free(tags);

	l = fnvlist_alloc();
	fnvlist_add_string(l, "target", "tank/db@before-upgrade");
	bad |= write_packed(dir, "rollback-to", l);

	bad |= write_packed(dir, "empty", fnvlist_alloc());

	/* hostile-looking but valid names: quotes, a newline, an escape, UTF-8 */
	l = fnvlist_alloc();
	snaps = fnvlist_alloc();
	fnvlist_add_boolean(snaps, "tank@\"},\"forged\":\"x");
	fnvlist_add_boolean(snaps, "tank@line\nbreak\x1b[31m");
	fnvlist_add_boolean(snaps, "tank@caf\xc3\xa9-\xe2\x9c\x93");
	fnvlist_add_nvlist(l, "snaps", snaps);
	bad |= write_packed(dir, "odd-names", l);
	fnvlist_free(snaps);

	/* every data type, in enum order */
	l = fnvlist_alloc();
	boolean_t bools[] = {B_TRUE, B_FALSE, B_TRUE};
	unsigned char bytes[] = {1, 2, 0xff};
	int16_t i16s[] = {-2, 7};
	uint32_t u32s[] = {0xfffffffe};
	int64_t i64s[] = {-9000000000LL, 1, 0};
	uint64_t u64s[] = {18446744073709551615ULL};
	char *strs[] = {"one", "", "three"};
	nvlist_t *inner = fnvlist_alloc(), *e1 = fnvlist_alloc(), *e2 = fnvlist_alloc();
	nvlist_t *elems[] = {e1, e2};
	fnvlist_add_boolean(l, "boolean");
	fnvlist_add_byte(l, "byte", 0xab);
	fnvlist_add_int16(l, "int16", -12345);
	fnvlist_add_uint16(l, "uint16", 54321);
	fnvlist_add_int32(l, "int32", -7);
	fnvlist_add_uint32(l, "uint32", 4000000000U);
	fnvlist_add_int64(l, "int64", -1);
	fnvlist_add_uint64(l, "uint64", 0x8000000000000001ULL);
	fnvlist_add_string(l, "string", "tank/fs@s");
	fnvlist_add_byte_array(l, "byte_array", bytes, 3);
	fnvlist_add_int16_array(l, "int16_array", i16s, 2);
	fnvlist_add_uint32_array(l, "uint32_array", u32s, 1);
	fnvlist_add_int64_array(l, "int64_array", i64s, 3);
	fnvlist_add_uint64_array(l, "uint64_array", u64s, 1);
	fnvlist_add_string_array(l, "string_array", strs, 3);
	nvlist_add_hrtime(l, "hrtime", 123456789LL);
	fnvlist_add_string(inner, "k", "v");
	fnvlist_add_nvlist(l, "nvlist", inner);
	fnvlist_add_uint64(e1, "a", 1);
	fnvlist_add_boolean(e2, "b");
	fnvlist_add_nvlist_array(l, "nvlist_array", elems, 2);
	fnvlist_add_boolean_value(l, "boolean_value", B_TRUE);
	fnvlist_add_int8(l, "int8", -128);
	fnvlist_add_uint8(l, "uint8", 200);
	fnvlist_add_boolean_array(l, "boolean_array", bools, 3);
	nvlist_add_double(l, "double", 2.5);
	fnvlist_add_string_array(l, "empty_array", strs, 0);
	bad |= write_packed(dir, "all-types", l);
	fnvlist_free(inner);
	fnvlist_free(e1);
	fnvlist_free(e2);

	/* nesting as deep as libnvpair packs it (its limit is 100 in userland) */
	nvlist_t *deep = fnvlist_alloc();
	fnvlist_add_boolean(deep, "tank@bottom");
	for (int i = 0; i < 30; i++) {
		nvlist_t *outer = fnvlist_alloc();
		fnvlist_add_nvlist(outer, "n", deep);
		fnvlist_free(deep);
		deep = outer;
	}
	bad |= write_packed(dir, "deep-30", deep);

	/* a batch destroy larger than the kernel side keeps */
	l = fnvlist_alloc();
	snaps = fnvlist_alloc();
	for (int i = 0; i < 400; i++) {
		char name[64];
		snprintf(name, sizeof(name), "tank/vm/disk%03d@daily-2024-01-01", i);
		fnvlist_add_boolean(snaps, name);
	}
	fnvlist_add_nvlist(l, "snaps", snaps);
	bad |= write_packed(dir, "many-snaps", l);
	fnvlist_free(snaps);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "pack"))
		return pack(argv[2]);
	if (argc < 2) {
		fprintf(stderr, "usage: zfsclient OP [ARGS] [; OP [ARGS]]... | zfsclient pack DIR\n");
		return 2;
	}
	for (int i = 1; i < argc;) {
		int used = run(argc - i, argv + i);
		if (used < 0)
			return 2;
		i += used + 1; /* the ";" */
	}
	if (initialized)
		libzfs_core_fini();
	return 0;
}
