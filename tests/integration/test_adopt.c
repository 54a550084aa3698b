/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_adopt.c — a restarted supervisor adopts a jail that
 * outlived the process that spawned it (root).  The "crash" is simulated in
 * each test: a forked child spawns the jail (die_with_parent off), reports
 * its cgroup on a pipe and _exit()s without waiting; the test then adopts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define SH(script) ((char *const[]){ "/bin/sh", "-c", script, NULL })
#define TEST_CGROUP_PARENT "corral-test"

/* A jail whose spawner is gone. */
struct orphan {
	char name[64];       /* cgroup leaf name */
	char path[PATH_MAX]; /* unified cgroup directory, as the spawner saw it */
	char status[256];    /* status file */
};

/* Spawn spec from a forked child that exits without waiting for the jail
 * (a supervisor crash); the child is reaped here, the jail lives on. */
static void spawn_orphan(struct jail_spec *spec, struct orphan *o)
{
	static unsigned seq;
	char msg[PATH_MAX + 128];
	int pipefd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t child;

	memset(o, 0, sizeof(*o));
	/* jail-<our pid>-: the prefix test_count_cgroups() counts as ours */
	snprintf(o->name, sizeof(o->name), "jail-%d-adopt%u", (int)getpid(), ++seq);
	snprintf(o->status, sizeof(o->status), "%s/status-%s", test_jail_dir(), o->name);
	spec->cgroup_parent = TEST_CGROUP_PARENT;
	spec->cgroup_name = o->name;
	spec->status_path = o->status;
	spec->die_with_parent = false;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct jail_error err;
		struct jail *j = NULL;
		int len_out;

		close(pipefd[0]);
		if (jail_spawn(spec, &j, &err) == 0)
			len_out = snprintf(msg, sizeof(msg), "%s\n%s", o->name, jail_cgroup_path(j));
		else
			len_out = snprintf(msg, sizeof(msg), "!%s", err.message);
		if (write(pipefd[1], msg, (size_t)len_out) != len_out)
			_exit(2);
		_exit(0); /* no jail_wait, no jail_free: the "supervisor" crashed */
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], msg + len, sizeof(msg) - 1 - len)) > 0)
		len += (size_t)n;
	msg[len] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (msg[0] == '!')
		fail_msg("spawn in the crashing child: %s", msg + 1);
	assert_true(strncmp(msg, o->name, strlen(o->name)) == 0 && msg[strlen(o->name)] == '\n');
	snprintf(o->path, sizeof(o->path), "%s", msg + strlen(o->name) + 1);
}

static struct jail *adopt(const struct orphan *o)
{
	struct jail_error err;
	struct jail *j = NULL;
	int r = jail_adopt(TEST_CGROUP_PARENT, o->name, o->status, &j, &err);

	if (r < 0)
		fail_msg("jail_adopt %s: %s", o->name, err.message);
	assert_non_null(j);
	return j;
}

/* Wait until the adopted jail's pidfd is readable (it ended); bounded. */
static void wait_pidfd(struct jail *j, int timeout_ms)
{
	struct pollfd pfd = { .fd = jail_pidfd(j), .events = POLLIN };

	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
}

static void finish(struct jail *j, struct jail_result *res)
{
	struct jail_error err;

	if (jail_finish(j, res, &err) < 0)
		fail_msg("jail_finish: %s", err.message);
	jail_free(j);
}

static void assert_cgroup_gone(const struct orphan *o)
{
	assert_int_equal(access(o->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* "populated 0" in the orphan's cgroup.events, within timeout_ms. */
static void wait_cgroup_empty(const struct orphan *o, int timeout_ms)
{
	char path[PATH_MAX + 32], text[256];

	snprintf(path, sizeof(path), "%s/cgroup.events", o->path);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		test_read_text(path, text, sizeof(text));
		if (strstr(text, "populated 0"))
			return;
		struct timespec pause = { 0, 10 * 1000000 };
		nanosleep(&pause, NULL);
	}
	fail_msg("cgroup %s still populated after %d ms", o->path, timeout_ms);
}

static void test_adopted_jail_reports_exit_code_output_and_cpu(void **state)
{
	struct jail_spec spec;
	struct jail_result res;
	struct jail_error err;
	struct orphan o;
	struct jail *j;
	char out[256];

	require_root();
	test_spec(&spec, SH("sleep 1; echo done; exit 7"));
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	assert_true(jail_pid(j) > 0);
	assert_string_equal(jail_cgroup_path(j), o.path);
	assert_true(jail_events_fd(j) >= 0);
	assert_int_equal(jail_wait(j, &res, &err), 0);
	jail_free(j);
	assert_string_equal(jail_status_name(res.status), "exit_nonzero");
	assert_int_equal(res.exit_code, 7);
	assert_int_equal(res.signal, 0);
	assert_true(res.cpu_usage_us > 0);
	/* from init's start (10 ms ticks) to the end seen here */
	assert_true(res.wall_us >= 900000 && res.wall_us < 20000000);
	test_read_text(spec.stdout_path, out, sizeof(out));
	assert_string_equal(out, "done\n");
	assert_cgroup_gone(&o);
}

static void test_adopted_jail_killed_at_timeout_reports_timeout(void **state)
{
	struct jail_spec spec;
	struct jail_result res;
	struct jail_cpu cpu;
	struct orphan o;
	struct jail *j;

	require_root();
	test_spec(&spec, SH("sleep 30"));
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	assert_int_equal(jail_cpu_usage(j, &cpu), 0);
	assert_int_equal(jail_kill(j, JAIL_TIMEOUT), 0);
	wait_pidfd(j, 5000);
	finish(j, &res);
	assert_string_equal(jail_status_name(res.status), "timeout");
	assert_int_equal(res.exit_code, -1);
	assert_cgroup_gone(&o);
}

static void test_jail_that_ended_unwatched_is_read_from_its_status_file(void **state)
{
	struct jail_spec spec;
	struct jail_result res, from_file;
	struct jail_error err;
	struct orphan o;
	struct jail *j = NULL;
	struct pollfd pfd;
	int r;

	require_root();
	test_spec(&spec, SH("echo bye; exit 3"));
	spawn_orphan(&spec, &o);
	wait_cgroup_empty(&o, 10000);

	r = jail_adopt(TEST_CGROUP_PARENT, o.name, o.status, &j, &err);
	if (r < 0)
		fail_msg("jail_adopt %s: %s", o.name, err.message);
	/* an "ended" handle: pidfd readable at once, nobody to signal */
	assert_int_equal(jail_pid(j), -1);
	pfd = (struct pollfd){ .fd = jail_pidfd(j), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(jail_signal(j, SIGTERM), -ESRCH);
	finish(j, &res);
	assert_string_equal(jail_status_name(res.status), "exit_nonzero");
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.wall_us, 0);
	assert_cgroup_gone(&o);

	/* and once the cgroup is gone: -ENOENT, the caller reads the file */
	assert_int_equal(jail_adopt(TEST_CGROUP_PARENT, o.name, o.status, &j, &err), -ENOENT);
	assert_int_equal(jail_read_status_file(o.status, &from_file), 0);
	assert_string_equal(jail_status_name(from_file.status), "exit_nonzero");
	assert_int_equal(from_file.exit_code, 3);
	assert_int_equal(from_file.signal, 0);
}

static void test_signal_to_adopted_jail_ends_it_with_that_signal(void **state)
{
	char *const argv[] = { "sleep", "30", NULL };
	struct jail_spec spec;
	struct jail_result res;
	struct orphan o;
	struct jail *j;

	require_root();
	test_spec(&spec, argv);
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	assert_int_equal(jail_signal(j, SIGTERM), 0);
	wait_pidfd(j, 5000);
	finish(j, &res);
	assert_string_equal(jail_status_name(res.status), "signaled");
	assert_int_equal(res.signal, SIGTERM);
	assert_int_equal(res.exit_code, -1);
	assert_cgroup_gone(&o);
}

static void test_adopting_a_missing_cgroup_is_enoent(void **state)
{
	struct jail_error err;
	struct jail *j = NULL;

	require_root();
	memset(&err, 0, sizeof(err));
	assert_int_equal(jail_adopt(TEST_CGROUP_PARENT, "no-such-jail", NULL, &j, &err), -ENOENT);
	assert_null(j);
	assert_int_equal(err.err, ENOENT);
	assert_string_equal(err.step, "adopt");
	assert_non_null(strstr(err.message, "no-such-jail"));
	assert_non_null(strstr(err.message, "is gone"));
}

static void test_output_cap_is_still_enforced_after_adoption(void **state)
{
	struct jail_spec spec;
	struct jail_result res;
	struct orphan o;
	struct jail *j;

	require_root();
	test_spec(&spec, SH("sleep 0.5; while :; do echo 0123456789abcdef; done"));
	spec.output_limit = 1000;
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	wait_pidfd(j, 10000);
	finish(j, &res);
	assert_string_equal(jail_status_name(res.status), "output_limit");
	assert_true(res.stdout_truncated);
	assert_true(res.stdout_bytes > 1000);
	assert_int_equal(file_size(spec.stdout_path), 1000);
	assert_cgroup_gone(&o);
}

static void test_finish_of_a_still_running_adopted_jail_is_ebusy(void **state)
{
	struct jail_spec spec;
	struct jail_result res;
	struct jail_error err;
	struct orphan o;
	struct jail *j;

	require_root();
	test_spec(&spec, SH("sleep 30"));
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	/* bounded wait, then nothing touched: the jail still runs */
	assert_int_equal(jail_finish(j, &res, &err), -EBUSY);
	assert_non_null(strstr(err.message, "still runs"));
	assert_int_equal(access(o.path, F_OK), 0);
	assert_int_equal(jail_kill(j, JAIL_KILLED), 0);
	wait_pidfd(j, 5000);
	finish(j, &res);
	assert_string_equal(jail_status_name(res.status), "killed");
	assert_cgroup_gone(&o);
}

static void test_freeing_an_adopted_jail_kills_and_removes_it(void **state)
{
	struct jail_spec spec;
	struct orphan o;
	struct jail *j;

	require_root();
	test_spec(&spec, SH("sleep 30"));
	spawn_orphan(&spec, &o);
	j = adopt(&o);
	jail_free(j);
	assert_cgroup_gone(&o);
}

static void test_status_file_reader_tells_missing_empty_and_malformed(void **state)
{
	char path[256];
	struct jail_result res;
	FILE *f;

	snprintf(path, sizeof(path), "%s/status-reader", test_jail_dir());
	unlink(path);
	assert_int_equal(jail_read_status_file(path, &res), -ENOENT);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), -ENODATA);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("exit_code=seven\nsignal=0\n", f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), -EPROTO);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("exit_code=-1\nsignal=9\noutput_limit=1\nstdout_bytes=5000\nstderr_bytes=2\n"
	      "stdout_truncated=1\nstderr_truncated=0\n",
	      f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), 0);
	assert_string_equal(jail_status_name(res.status), "output_limit");
	assert_int_equal(res.signal, 9);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.stdout_bytes, 5000);
	assert_true(res.stdout_truncated);
	assert_false(res.stderr_truncated);
	unlink(path);
}

/* exec=1 alone: the command may have run, no end yet; exec_error: it never ran */
static void test_status_file_reader_tells_whether_the_command_started(void **state)
{
	char path[256];
	struct jail_result res;
	FILE *f;

	snprintf(path, sizeof(path), "%s/status-started", test_jail_dir());
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), -ENODATA);
	assert_false(res.command_started);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("exec=1\n", f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), -ENODATA);
	assert_true(res.command_started);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("exec=1\nexec_error=2\n", f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), -ENODATA);
	assert_false(res.command_started);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("exec=1\nexit_code=3\nsignal=0\n", f);
	fclose(f);
	assert_int_equal(jail_read_status_file(path, &res), 0);
	assert_true(res.command_started);
	assert_int_equal(res.exit_code, 3);
	unlink(path);
}

/* corral-init writes the mark before the command and the failure after a
 * failed exec; the spawned jail's result says whether the command ran */
static void test_init_marks_the_command_start_in_the_status_file(void **state)
{
	struct jail_spec spec;
	struct jail_result res;
	struct jail_error err;
	struct jail *j = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/status-mark-%d", test_jail_dir(), (int)getpid());
	test_spec(&spec, SH("exit 4"));
	spec.status_path = path;
	assert_int_equal(jail_spawn(&spec, &j, &err), 0);
	assert_int_equal(jail_wait(j, &res, &err), 0);
	jail_free(j);
	assert_true(res.command_started);
	assert_int_equal(jail_read_status_file(path, &res), 0);
	assert_true(res.command_started);
	assert_int_equal(res.exit_code, 4);

	test_spec(&spec, (char *const[]){ "/no/such/program", NULL });
	spec.status_path = path;
	assert_true(jail_spawn(&spec, &j, &err) < 0);
	assert_string_equal(err.step, "execve");
	assert_int_equal(jail_read_status_file(path, &res), -ENODATA);
	assert_false(res.command_started);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_adopted_jail_reports_exit_code_output_and_cpu,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_adopted_jail_killed_at_timeout_reports_timeout,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_jail_that_ended_unwatched_is_read_from_its_status_file,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_signal_to_adopted_jail_ends_it_with_that_signal,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_adopting_a_missing_cgroup_is_enoent, test_jail_teardown),
		cmocka_unit_test_teardown(test_output_cap_is_still_enforced_after_adoption,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_finish_of_a_still_running_adopted_jail_is_ebusy,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_freeing_an_adopted_jail_kills_and_removes_it,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_status_file_reader_tells_missing_empty_and_malformed,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_status_file_reader_tells_whether_the_command_started,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_init_marks_the_command_start_in_the_status_file,
					  test_jail_teardown),
	};

	return cmocka_run_group_tests_name("adopt", tests, NULL, test_jail_group_teardown);
}
