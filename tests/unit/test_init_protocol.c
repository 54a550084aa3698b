/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_init_protocol.c — the record the runner hands corral-init
 * (runner/init_protocol.c): what is encoded comes back decoded, and every
 * malformed record (cut short anywhere, bad magic or version, counts larger
 * than the record, unterminated strings, trailing bytes, bad setup fields:
 * fds, mount kinds) is refused, never read past its end.  The leash (its fd in the record, lease_lost in the
 * status file init writes) reaches the result as lease_lost.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/init_protocol.h"
#include "runner/jail.h"

static char *argv_[] = { "/bin/sh", "-c", "echo hi", NULL };
static char *env_[] = { "PATH=/bin", "A=", NULL };
static struct sock_filter insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	BPF_STMT(BPF_RET | BPF_K, 0x7fff0000),
};

static struct init_mount mounts_[] = {
	{ .kind = JAIL_MOUNT_BIND_RO, .source = "/srv/data", .target = "/data" },
	{ .kind = JAIL_MOUNT_TMPFS, .size_bytes = 1u << 20, .target = "/scratch" },
};
static char *etc_[] = { "alternatives", "ssl/certs" };

static struct init_config sample(void)
{
	struct init_config cfg = {
		.argv = argv_,
		.env = env_,
		.cwd = "/work",
		.seccomp_name = "default",
		.filter = { .len = 2, .filter = insns },
		.rlimit_nofile = 256,
		.rlimit_fsize = 1u << 30,
		.rlimit_stack = 8u << 20,
		.output_limit = 4096,
		.stdin_fd = 5,
		.stdout_fd = 6,
		.stderr_fd = 7,
		.status_fd = -1,
		.wall_deadline_us = 123456789,
		.kill_grace_us = 200000,
		.cpu_limit_us = 1500000,
		.cpu_rate_millis = 4000,
		.cpu_stat_fd = 9,
		.leash_fd = 11,
		.setup = {
			.hostname = "box",
			.work_dir = "/srv/w",
			.tmp_bytes = 1u << 24,
			.work_bytes = 1u << 25,
			.uid = 1000,
			.gid = 1001,
			.die_with_parent = true,
			.netns = INIT_NETNS_MADE,
			.sync_fd = 12,
			.mounts = mounts_,
			.n_mounts = 2,
			.etc_paths = etc_,
			.n_etc = 2,
			.etc_dir = "/var/cache/corral-run/etc/0123456789abcdef",
		},
	};

	return cfg;
}

static void encode(const struct init_config *cfg, void **buf, size_t *len)
{
	assert_int_equal(init_record_encode(cfg, buf, len), 0);
	assert_non_null(*buf);
	assert_true(*len > 0);
}

static int decode_copy(const void *buf, size_t len, struct init_config *out, void **copy)
{
	const char *why;

	/* exactly len bytes, so ASan sees any read past the end */
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, buf, len);
	return init_record_decode(*copy, len, out, &why);
}

static void test_record_round_trips(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	encode(&cfg, &buf, &len);
	assert_int_equal(decode_copy(buf, len, &got, &copy), 0);
	assert_string_equal(got.argv[0], "/bin/sh");
	assert_string_equal(got.argv[2], "echo hi");
	assert_null(got.argv[3]);
	assert_string_equal(got.env[0], "PATH=/bin");
	assert_string_equal(got.env[1], "A=");
	assert_null(got.env[2]);
	assert_string_equal(got.cwd, "/work");
	assert_string_equal(got.seccomp_name, "default");
	assert_int_equal(got.filter.len, 2);
	assert_memory_equal(got.filter.filter, insns, sizeof(insns));
	assert_int_equal(got.rlimit_nofile, 256);
	assert_int_equal(got.output_limit, 4096);
	assert_int_equal(got.stdin_fd, 5);
	assert_int_equal(got.stderr_fd, 7);
	assert_int_equal(got.status_fd, -1);
	assert_int_equal(got.wall_deadline_us, 123456789);
	assert_int_equal(got.kill_grace_us, 200000);
	assert_int_equal(got.cpu_limit_us, 1500000);
	assert_int_equal(got.cpu_rate_millis, 4000);
	assert_int_equal(got.cpu_stat_fd, 9);
	assert_int_equal(got.leash_fd, 11);
	/* what corral-init builds the jail from */
	assert_string_equal(got.setup.hostname, "box");
	assert_string_equal(got.setup.work_dir, "/srv/w");
	assert_int_equal(got.setup.tmp_bytes, 1u << 24);
	assert_int_equal(got.setup.work_bytes, 1u << 25);
	assert_int_equal(got.setup.uid, 1000);
	assert_int_equal(got.setup.gid, 1001);
	assert_true(got.setup.die_with_parent);
	assert_int_equal(got.setup.netns, INIT_NETNS_MADE);
	assert_int_equal(got.setup.sync_fd, 12);
	assert_string_equal(got.setup.etc_dir, "/var/cache/corral-run/etc/0123456789abcdef");
	assert_int_equal(got.setup.n_mounts, 2);
	assert_int_equal(got.setup.mounts[0].kind, JAIL_MOUNT_BIND_RO);
	assert_string_equal(got.setup.mounts[0].source, "/srv/data");
	assert_string_equal(got.setup.mounts[0].target, "/data");
	assert_int_equal(got.setup.mounts[1].kind, JAIL_MOUNT_TMPFS);
	assert_null(got.setup.mounts[1].source);
	assert_int_equal(got.setup.mounts[1].size_bytes, 1u << 20);
	assert_string_equal(got.setup.mounts[1].target, "/scratch");
	assert_int_equal(got.setup.n_etc, 2);
	assert_string_equal(got.setup.etc_paths[0], "alternatives");
	assert_string_equal(got.setup.etc_paths[1], "ssl/certs");
	assert_null(got.setup.etc_paths[2]);
	init_config_free(&got);
	free(copy);
	free(buf);
}

/* No work dir, no mounts, no host /etc paths: none come back. */
static void test_minimal_setup_round_trips(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	cfg.setup = (struct init_setup){ .hostname = "corral", .sync_fd = 3 };
	encode(&cfg, &buf, &len);
	assert_int_equal(decode_copy(buf, len, &got, &copy), 0);
	assert_string_equal(got.setup.hostname, "corral");
	assert_null(got.setup.work_dir);
	assert_int_equal(got.setup.n_mounts, 0);
	assert_null(got.setup.mounts);
	assert_int_equal(got.setup.n_etc, 0);
	assert_null(got.setup.etc_paths[0]);
	assert_null(got.setup.etc_dir);
	init_config_free(&got);
	free(copy);
	free(buf);
}

/* init must be able to enforce a CPU limit it is given: refused without the
 * cpu.stat fd or the rate to schedule its looks */
static int decode_cpu_limit(uint64_t limit_us, int32_t fd, uint32_t rate_millis)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;
	int r;

	cfg.cpu_limit_us = limit_us;
	cfg.cpu_stat_fd = fd;
	cfg.cpu_rate_millis = rate_millis;
	encode(&cfg, &buf, &len);
	r = decode_copy(buf, len, &got, &copy);
	if (r == 0)
		init_config_free(&got);
	free(copy);
	free(buf);
	return r;
}

static void test_cpu_limit_without_its_fd_or_rate_is_refused(void **state)
{
	(void)state;
	assert_int_equal(decode_cpu_limit(1000000, -1, 4000), -EPROTO);
	assert_int_equal(decode_cpu_limit(1000000, 9, 0), -EPROTO);
	assert_int_equal(decode_cpu_limit(0, -1, 0), 0);
	assert_int_equal(decode_cpu_limit(1000000, 9, 4000), 0);
}

static void test_default_environment_and_no_filter_round_trip(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	cfg.env = NULL;
	cfg.filter.len = 0;
	cfg.filter.filter = NULL;
	encode(&cfg, &buf, &len);
	assert_int_equal(decode_copy(buf, len, &got, &copy), 0);
	assert_null(got.env);
	assert_int_equal(got.filter.len, 0);
	assert_null(got.filter.filter);
	init_config_free(&got);
	free(copy);
	free(buf);
}

static void test_every_truncation_is_refused(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	encode(&cfg, &buf, &len);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(decode_copy(buf, cut, &got, &copy), -EPROTO);
		assert_null(got.argv);
		free(copy);
	}
	free(buf);
}

static void test_trailing_bytes_are_refused(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy, *longer;
	size_t len;
	uint32_t size;

	(void)state;
	encode(&cfg, &buf, &len);
	longer = calloc(1, len + 8);
	memcpy(longer, buf, len);
	size = (uint32_t)(len + 8);
	memcpy((char *)longer + 12, &size, sizeof(size)); /* head.size agrees */
	assert_int_equal(decode_copy(longer, len + 8, &got, &copy), -EPROTO);
	free(copy);
	free(longer);
	free(buf);
}

/* Flip one field of the head (at its offset) and expect a refusal. */
static void expect_refused_with(size_t offset, const void *value, size_t n)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	encode(&cfg, &buf, &len);
	memcpy((char *)buf + offset, value, n);
	assert_int_equal(decode_copy(buf, len, &got, &copy), -EPROTO);
	free(copy);
	free(buf);
}

static void test_bad_magic_version_and_counts_are_refused(void **state)
{
	uint64_t magic = 0x1234;
	uint32_t version = INIT_RECORD_VERSION + 1, zero = 0, huge = 0xfffffff0u;
	int32_t bad_fd = -7;

	(void)state;
	expect_refused_with(0, &magic, sizeof(magic));
	expect_refused_with(8, &version, sizeof(version));
	expect_refused_with(12, &zero, sizeof(zero));      /* size */
	expect_refused_with(72, &bad_fd, sizeof(bad_fd));  /* stdin_fd */
	expect_refused_with(84, &bad_fd, sizeof(bad_fd));  /* status_fd (-1 only) */
	expect_refused_with(88, &bad_fd, sizeof(bad_fd));  /* cpu_stat_fd (-1 only) */
	expect_refused_with(96, &zero, sizeof(zero));      /* argc 0 */
	expect_refused_with(96, &huge, sizeof(huge));      /* argc */
	expect_refused_with(100, &huge, sizeof(huge));     /* envc */
	expect_refused_with(104, &huge, sizeof(huge));     /* filter_len */
	expect_refused_with(108, &bad_fd, sizeof(bad_fd)); /* leash_fd (-1 only) */
}

static void test_bad_setup_fields_are_refused(void **state)
{
	uint32_t seven = 7, two = 2, huge = 0xfffffff0u;
	int32_t minus_one = -1;

	(void)state;
	expect_refused_with(144, &minus_one, sizeof(minus_one)); /* sync_fd */
	expect_refused_with(148, &two, sizeof(two));             /* has_etc_dir > 1 */
	expect_refused_with(152, &huge, sizeof(huge));           /* n_mounts */
	expect_refused_with(156, &huge, sizeof(huge));           /* n_etc */
	expect_refused_with(160, &seven, sizeof(seven));         /* netns: 0, 1 or 2 */
	expect_refused_with(164, &two, sizeof(two));             /* reserved: 0 */
	/* the first mount, after the head (168) and the 2-instruction filter */
	expect_refused_with(168 + 16 + 8, &seven, sizeof(seven)); /* its kind */
	expect_refused_with(168 + 16 + 12, &two, sizeof(two));    /* its has_source */
}

/* The encoder refuses what it cannot say. */
static void test_encode_refuses_bad_setup(void **state)
{
	struct init_config cfg = sample();
	struct init_mount bad = { .kind = 9, .target = "/x" }, no_target = { .kind = JAIL_MOUNT_TMPFS };
	void *buf;
	size_t len;

	(void)state;
	cfg.setup.mounts = &bad;
	cfg.setup.n_mounts = 1;
	assert_int_equal(init_record_encode(&cfg, &buf, &len), -EINVAL);
	cfg.setup.mounts = &no_target;
	assert_int_equal(init_record_encode(&cfg, &buf, &len), -EINVAL);
}

/* A record without a leash says -1, and comes back as none. */
static void test_no_leash_round_trips(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	cfg.leash_fd = -1;
	encode(&cfg, &buf, &len);
	assert_int_equal(decode_copy(buf, len, &got, &copy), 0);
	assert_int_equal(got.leash_fd, -1);
	init_config_free(&got);
	free(copy);
	free(buf);
}

static void read_status_text(const char *text, struct jail_result *res)
{
	char path[] = "/tmp/test_init_protocol-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(jail_read_status_file(path, res), 0);
	unlink(path);
}

/* The status file of a jail its leash killed (written while nobody
 * watched): lease_lost, not a bare SIGKILL; an init that predates the
 * line reads as before. */
static void test_status_file_says_the_leash_killed_it(void **state)
{
	struct jail_result res;

	(void)state;
	read_status_text("exec=1\nexit_code=-1\nsignal=9\noutput_limit=0\nstdout_bytes=0\n"
			 "stderr_bytes=0\nstdout_truncated=0\nstderr_truncated=0\ntimeout=0\n"
			 "cpu_limit=0\nlease_lost=1\nend_mono_us=5\n",
			 &res);
	assert_int_equal(res.status, JAIL_LEASE_LOST);
	assert_string_equal(jail_status_name(res.status), "lease_lost");
	assert_int_equal(res.signal, 9);
	assert_true(res.command_started);
	read_status_text("exec=1\nexit_code=-1\nsignal=9\ntimeout=0\ncpu_limit=0\n", &res);
	assert_int_equal(res.status, JAIL_SIGNALED);
}

static void test_unterminated_last_string_is_refused(void **state)
{
	struct init_config cfg = sample(), got;
	void *buf, *copy;
	size_t len;

	(void)state;
	encode(&cfg, &buf, &len);
	((char *)buf)[len - 1] = 'x'; /* the seccomp name's NUL */
	assert_int_equal(decode_copy(buf, len, &got, &copy), -EPROTO);
	free(copy);
	free(buf);
}

static void test_encode_refuses_an_empty_command(void **state)
{
	struct init_config cfg = sample();
	char *none[] = { NULL };
	void *buf;
	size_t len;

	(void)state;
	cfg.argv = none;
	assert_int_equal(init_record_encode(&cfg, &buf, &len), -EINVAL);
	assert_null(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trips),
		cmocka_unit_test(test_minimal_setup_round_trips),
		cmocka_unit_test(test_bad_setup_fields_are_refused),
		cmocka_unit_test(test_encode_refuses_bad_setup),
		cmocka_unit_test(test_default_environment_and_no_filter_round_trip),
		cmocka_unit_test(test_cpu_limit_without_its_fd_or_rate_is_refused),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_trailing_bytes_are_refused),
		cmocka_unit_test(test_bad_magic_version_and_counts_are_refused),
		cmocka_unit_test(test_unterminated_last_string_is_refused),
		cmocka_unit_test(test_encode_refuses_an_empty_command),
		cmocka_unit_test(test_no_leash_round_trips),
		cmocka_unit_test(test_status_file_says_the_leash_killed_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
