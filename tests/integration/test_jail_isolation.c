/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_jail_isolation.c — what a jail must not share with
 * the host or with other jails (issue 16): the kernel's per-user counters,
 * the host's dirty pages and disk, syscalls newer than the seccomp profile,
 * pid 1's forwarding of host signals, the host's data in /proc and the
 * host's secrets in /etc.  Each
 * of these was an attack that worked; the probe is
 * tests/integration/probes/isolation.c, copied to /t/isolation.
 *
 * ISOLATION_FILTER="*fallocate*" runs the matching tests only.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define sh test_sh /* tests/lib/test.h */

static void install_probe(void)
{
	sh("cp '%s' '%s/isolation' && chmod 0755 '%s/isolation'", test_build_path("tests/probes/isolation"),
	   test_jail_dir(), test_jail_dir());
}

/* The line of out that starts with prefix, without its newline ("" if none). */
static const char *line_of(const char *out, const char *prefix)
{
	static char line[512];
	size_t len = strlen(prefix);

	line[0] = '\0';
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, len) == 0) {
			snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
	}
	return line;
}

/* ---- kernel counters kept per user ------------------------------------- */

struct host_checks {
	char timer[128], inotify[128], mq[128];
};

/* What a host process of root's gets now: timer_create, inotify_init1,
 * mq_open ("ok" or the error). */
static void check_host_root(struct host_checks *c)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
	char name[64];
	timer_t t;
	mqd_t q;
	int fd;

	if (timer_create(CLOCK_MONOTONIC, &sev, &t) == 0) {
		snprintf(c->timer, sizeof(c->timer), "ok");
		timer_delete(t);
	} else {
		snprintf(c->timer, sizeof(c->timer), "%s", strerror(errno));
	}
	fd = inotify_init1(IN_CLOEXEC);
	if (fd >= 0) {
		snprintf(c->inotify, sizeof(c->inotify), "ok");
		close(fd);
	} else {
		snprintf(c->inotify, sizeof(c->inotify), "%s", strerror(errno));
	}
	snprintf(name, sizeof(name), "/corral-isolation-test-%d", (int)getpid());
	q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
	if (q != (mqd_t)-1) {
		snprintf(c->mq, sizeof(c->mq), "ok");
		mq_close(q);
		mq_unlink(name);
	} else {
		snprintf(c->mq, sizeof(c->mq), "%s", strerror(errno));
	}
}

/* One jail takes every pending-signal slot (POSIX timers), inotify instance
 * and message-queue byte it can and holds them.  These counters are per
 * user, and were charged to host root (the owner of every jail's user
 * namespace): root's timer_create (even coreutils `timeout`), inotify_init
 * and mq_open then failed on the whole host, and in every other jail.  Now
 * the jail's user namespace belongs to its own host uid. */
static void test_exhausting_kernel_counters_spares_host_root_and_other_jails(void **state)
{
	char *const hog_argv[] = { "/t/isolation", "exhaust", "20000", NULL };
	char *const use_argv[] = { "/t/isolation", "use", NULL };
	char hog_out[4096] = "", other_out[600], other_err[600];
	struct jail_spec hog, other;
	struct host_checks host;
	struct jail_result res;
	struct jail_error err;
	struct test_run run;
	struct jail *j = NULL;
	uint64_t deadline;

	(void)state;
	require_root();
	install_probe();
	test_spec(&hog, hog_argv);
	assert_int_equal(jail_spawn(&hog, &j, &err), 0);
	deadline = test_mono_ms() + 20000;
	while (!strstr(hog_out, "HOLDING") && test_mono_ms() < deadline) {
		test_sleep_ms(50);
		test_read_text(hog.stdout_path, hog_out, sizeof(hog_out));
	}
	check_host_root(&host);

	/* another tenant's jail, with its own host uid, while the hog holds */
	test_spec(&other, use_argv);
	other.host_uid = other.host_gid = test_host_uid() + 100000;
	snprintf(other_out, sizeof(other_out), "%s/stdout-other", test_jail_dir());
	snprintf(other_err, sizeof(other_err), "%s/stderr-other", test_jail_dir());
	other.stdout_path = other_out;
	other.stderr_path = other_err;
	test_run_spec(&other, &run);

	jail_kill(j, JAIL_KILLED);
	jail_wait(j, &res, &err);
	jail_free(j);

	fprintf(stderr, "hog:\n%shost root: timer_create %s, inotify_init %s, mq_open %s\nother jail:\n%s",
		hog_out, host.timer, host.inotify, host.mq, run.out);
	assert_non_null(strstr(hog_out, "HOLDING"));
	assert_string_equal(host.timer, "ok");
	assert_string_equal(host.inotify, "ok");
	assert_string_equal(host.mq, "ok");
	assert_string_equal(line_of(run.out, "timer_create:"), "timer_create: ok");
	assert_string_equal(line_of(run.out, "inotify_init:"), "inotify_init: ok");
	assert_string_equal(line_of(run.out, "mq_open:"), "mq_open: ok");
}

/* ---- seccomp ------------------------------------------------------------ */

/* sync() and syncfs() flushed the whole host's dirty pages whenever a task
 * liked; now they return 0 without reaching the kernel, which shows in
 * syncfs(-1): the kernel would say EBADF. */
static void test_sync_and_syncfs_do_nothing_in_a_jail(void **state)
{
	char *const argv[] = { "/t/isolation", "sync", NULL };
	struct jail_spec spec;
	struct test_run run;

	(void)state;
	require_root();
	install_probe();
	test_spec(&spec, argv);
	test_run_ok(&spec, &run);
	assert_string_equal(line_of(run.out, "sync:"), "sync: returned");
	assert_string_equal(line_of(run.out, "syncfs(-1):"), "syncfs(-1): 0");

	spec.seccomp = JAIL_SECCOMP_STRICT;
	test_run_ok(&spec, &run);
	assert_string_equal(line_of(run.out, "syncfs(-1):"), "syncfs(-1): 0");
}

/* The default profile is a deny-list: a syscall newer than the installed
 * libseccomp could not be named, so it was allowed (statmount 457,
 * listmount 458, mseal 462, the *xattrat calls 463-466, open_tree_attr 467,
 * file_setattr 469, ...).  Every number above the last one the profile
 * was written for (456, futex_requeue) is ENOSYS now; the known ones still
 * reach the kernel. */
static void test_syscalls_newer_than_the_profile_are_enosys(void **state)
{
	char *const argv[] = { "/t/isolation", "syscalls", "457", "458",  "462", "463", "465",
			       "467",          "469",      "500", "1000", "456", "39",  NULL };
	static const char *const newer[] = { "457", "458", "462", "463", "465", "467", "469", "500", "1000" };
	struct jail_spec spec;
	struct test_run run;
	char prefix[32], want[96];

	(void)state;
	require_root();
	install_probe();
	test_spec(&spec, argv);
	test_run_ok(&spec, &run);
	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		snprintf(prefix, sizeof(prefix), "sys %s:", newer[i]);
		snprintf(want, sizeof(want), "sys %s: %s", newer[i], strerror(ENOSYS));
		assert_string_equal(line_of(run.out, prefix), want);
	}
	/* futex_requeue with no futexes: the kernel's own error, not ENOSYS */
	assert_string_not_equal(line_of(run.out, "sys 456:"), "");
	assert_null(strstr(line_of(run.out, "sys 456:"), strerror(ENOSYS)));
	assert_string_equal(line_of(run.out, "sys 39:"), "sys 39: returned"); /* getpid */
}

/* ---- corral-init's signal forwarding ----------------------------------- */

/* init forwarded every signal whose sender pid it saw as 0 (the host), and a
 * task can queue pid 1 a signal with any si_pid (si_code SI_QUEUE): the
 * forged signal went to the whole jail as if the runner had sent it. */
static void test_forged_host_signal_is_not_forwarded_by_init(void **state)
{
	char sig[8];
	char *const argv[] = { "/t/isolation", "forge", sig, NULL };
	struct jail_spec spec;
	struct test_run run;

	(void)state;
	require_root();
	install_probe();
	snprintf(sig, sizeof(sig), "%d", SIGUSR1);
	test_spec(&spec, argv);
	test_run_ok(&spec, &run);
	assert_string_equal(line_of(run.out, "rt_sigqueueinfo:"), "rt_sigqueueinfo: sent");
	assert_string_equal(line_of(run.out, "forwarded:"), "forwarded: no");
}

/* ... while what the host sends (jail_signal) is still forwarded. */
static void test_host_signal_is_still_forwarded_by_init(void **state)
{
	char *const argv[] = { "/bin/sleep", "30", NULL };
	struct jail_spec spec;
	struct jail_result res;
	struct jail_error err;
	struct jail *j = NULL;

	(void)state;
	require_root();
	test_spec(&spec, argv);
	assert_int_equal(jail_spawn(&spec, &j, &err), 0);
	assert_int_equal(jail_signal(j, SIGTERM), 0);
	assert_int_equal(jail_wait(j, &res, &err), 0);
	jail_free(j);
	assert_string_equal(jail_status_name(res.status), "signaled");
	assert_int_equal(res.signal, SIGTERM);
}

/* ---- disk ----------------------------------------------------------------- */

static uint64_t allocated_bytes(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_blocks * 512;
}

/* fallocate(FALLOC_FL_KEEP_SIZE) is not bound by RLIMIT_FSIZE: with fsize
 * 1 MiB and no output limit, the task reserved any amount of host disk
 * through its stdout, which was the host file itself. */
static void test_fallocate_through_stdout_reserves_no_host_disk(void **state)
{
	char *const argv[] = { "/t/isolation", "fallocate", "-", "64", NULL };
	struct jail_spec spec;
	struct test_run run;

	(void)state;
	require_root();
	install_probe();
	test_spec(&spec, argv);
	spec.rlimit_fsize = 1 << 20;
	spec.output_limit = 0;
	test_run_spec(&spec, &run);
	fprintf(stderr, "stdout: %s\nallocated on the host: %llu bytes\n", run.out,
		(unsigned long long)allocated_bytes(spec.stdout_path));
	assert_true(allocated_bytes(spec.stdout_path) < (1u << 20));
}

/* ... and in a work dir bound from the host. */
static void test_fallocate_in_work_dir_reserves_no_host_disk(void **state)
{
	char *const argv[] = { "/t/isolation", "fallocate", "/work/big", "64", NULL };
	char work[600], big[700];
	struct jail_spec spec;
	struct test_run run;

	(void)state;
	require_root();
	install_probe();
	test_spec(&spec, argv);
	snprintf(work, sizeof(work), "%s/work-fallocate", test_jail_dir());
	sh("rm -rf '%s' && mkdir '%s' && chown %u:%u '%s'", work, work, (unsigned)spec.host_uid,
	   (unsigned)spec.host_gid, work);
	snprintf(big, sizeof(big), "%s/big", work);
	spec.work_dir = work;
	spec.rlimit_fsize = 1 << 20;
	test_run_spec(&spec, &run);
	fprintf(stderr, "stdout: %s\nallocated on the host: %llu bytes\n", run.out,
		(unsigned long long)allocated_bytes(big));
	assert_non_null(strstr(run.out, "fallocate: failed"));
	assert_true(allocated_bytes(big) < (1u << 20));

	spec.seccomp = JAIL_SECCOMP_STRICT;
	test_run_spec(&spec, &run);
	assert_non_null(strstr(run.out, "fallocate: failed"));
	assert_true(allocated_bytes(big) < (1u << 20));
}

/* Output that goes to a host file passes through init, capped at fsize
 * when no output limit is set: the file never holds more. */
static void test_uncapped_stdout_file_stops_at_fsize(void **state)
{
	char *const argv[] = { "/bin/sh", "-c", "head -c 3000000 /dev/zero", NULL };
	struct jail_spec spec;
	struct test_run run;
	struct stat st;

	(void)state;
	require_root();
	test_spec(&spec, argv);
	spec.rlimit_fsize = 1 << 20;
	spec.output_limit = 0;
	test_run_spec(&spec, &run);
	assert_int_equal(stat(spec.stdout_path, &st), 0);
	assert_true(st.st_size <= (1 << 20));
	assert_true(run.result.stdout_truncated);
}

/* ---- /proc ---------------------------------------------------------------- */

/* /proc showed the host's timers and tasks (timer_list, sched_debug), its
 * keys, its pressure (PSI), its boot id and how many cgroups exist (other
 * jails); these are masked: empty files, empty directories. */
static void test_proc_masks_what_containers_mask(void **state)
{
	static const char *const masked[] = {
		"/proc/kcore",         "/proc/keys",        "/proc/key-users",
		"/proc/timer_list",    "/proc/sched_debug", "/proc/timer_stats",
		"/proc/latency_stats", "/proc/cgroups",     "/proc/sys/kernel/random/boot_id",
		"/proc/pressure",      "/proc/acpi",        "/proc/scsi",
		"/proc/asound",
	};
	char *argv[32] = { "/t/isolation", "read" };
	char boot_id[64];
	struct jail_spec spec;
	struct test_run run;
	size_t n = 2;

	(void)state;
	require_root();
	install_probe();
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		argv[n++] = (char *)masked[i];
	argv[n] = NULL;
	test_spec(&spec, argv);
	test_run_ok(&spec, &run);
	fprintf(stderr, "%s", run.out);
	test_read_text("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	boot_id[strcspn(boot_id, "\n")] = '\0';
	assert_true(strlen(boot_id) > 30);
	assert_null(strstr(run.out, boot_id));
	assert_null(strstr(run.out, "content"));
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		char prefix[96];
		const char *line;

		snprintf(prefix, sizeof(prefix), "%s:", masked[i]);
		line = line_of(run.out, prefix);
		if (strstr(line, "No such file"))
			continue; /* not on this kernel */
		if (!strstr(line, ": 0 bytes") && !strstr(line, ": 0 entries"))
			fail_msg("%s is not masked: %s", masked[i], line);
	}
}

/* The jail's /etc holds what the host's /usr needs (runner/host_etc.c),
 * never the host's secrets: no shadow files, ssh keys, machine-id, sudoers,
 * ssl/private, and nothing a local non-root user could not read. */
static void test_etc_holds_no_host_secrets(void **state)
{
	static char *argv[] = {
		"/bin/sh",
		"-c",
		"for f in /etc/shadow /etc/gshadow /etc/shadow- /etc/ssh /etc/ssh/ssh_host_rsa_key "
		"/etc/ssh/ssh_host_ed25519_key /etc/machine-id /etc/sudoers /etc/ssl/private "
		"/etc/corral; do if [ -e $f ]; then echo present $f; fi; done; "
		"find /etc ! -type l ! -perm -o+r | sed 's/^/unreadable /'; "
		"ls /etc/passwd /etc/ld.so.cache >/dev/null && echo checked",
		NULL,
	};
	struct jail_spec spec;
	struct test_run run;
	struct stat st;

	(void)state;
	require_root();
	assert_int_equal(stat("/etc/shadow", &st), 0); /* the host has one to hide */
	test_spec(&spec, argv);
	test_run_ok(&spec, &run);
	fprintf(stderr, "%s%s", run.out, run.err);
	assert_non_null(strstr(run.out, "checked"));
	assert_null(strstr(run.out, "present"));
	assert_null(strstr(run.out, "unreadable"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exhausting_kernel_counters_spares_host_root_and_other_jails,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_sync_and_syncfs_do_nothing_in_a_jail, test_jail_teardown),
		cmocka_unit_test_teardown(test_syscalls_newer_than_the_profile_are_enosys,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_forged_host_signal_is_not_forwarded_by_init,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_host_signal_is_still_forwarded_by_init, test_jail_teardown),
		cmocka_unit_test_teardown(test_fallocate_through_stdout_reserves_no_host_disk,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_fallocate_in_work_dir_reserves_no_host_disk,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_uncapped_stdout_file_stops_at_fsize, test_jail_teardown),
		cmocka_unit_test_teardown(test_proc_masks_what_containers_mask, test_jail_teardown),
		cmocka_unit_test_teardown(test_etc_holds_no_host_secrets, test_jail_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("ISOLATION_FILTER"))
		cmocka_set_test_filter(getenv("ISOLATION_FILTER"));
	return cmocka_run_group_tests(tests, NULL, test_jail_group_teardown);
}
