/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_jail.c — real jails (root): what the command sees,
 * limits, timeouts, output caps, result mapping, setup errors, cleanup.
 * The escape attempts live in test_escape.c.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define SH(script) ((char *const[]){ "/bin/sh", "-c", script, NULL })

static void test_command_sees_its_init_as_pid_1(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("cat /proc/1/comm; echo pid=$$"));
	test_run_ok(&spec, &run);
	assert_non_null(strstr(run.out, "corral-init\n"));
	assert_non_null(strstr(run.out, "pid=2\n"));
}

static void test_command_runs_as_non_root_uid(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("id -u; id -g; /t/probe ids"));
	test_run_ok(&spec, &run);
	assert_true(strncmp(run.out, "1000\n1000\n", 10) == 0);
	assert_non_null(strstr(run.out, "nnp=1"));
	assert_non_null(strstr(run.out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(run.out, "CapBnd:\t0000000000000000"));
	assert_non_null(strstr(run.out, "Seccomp:\t2"));
}

static void test_no_host_processes_are_visible(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("ls -d /proc/[0-9]* | wc -l"));
	test_run_ok(&spec, &run);
	/* init, sh, ls, wc at most */
	assert_true(atoi(run.out) >= 2 && atoi(run.out) <= 4);
}

static void test_network_has_only_lo(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; /t/probe net"));
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_int_equal(run.result.exit_code, 0);
	assert_true(strncmp(run.out, "lo\n", 3) == 0);
	assert_non_null(strstr(run.out, "socket+connect 1.1.1.1:53: blocked"));
	assert_non_null(strstr(run.out, "loopback 127.0.0.1: up"));
}

static void test_hostname_is_set(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("hostname; cat /etc/hostname"));
	spec.hostname = "box42";
	test_run_ok(&spec, &run);
	assert_string_equal(run.out, "box42\nbox42\n");
}

static void test_usr_is_read_only(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(
		&spec,
		SH("touch /usr/x 2>&1; touch /etc/x 2>&1; touch /x 2>&1; touch /tmp/x /work/x && echo writable"));
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "/usr/x': Read-only file system"));
	assert_non_null(strstr(run.out, "/etc/x': Read-only file system"));
	assert_non_null(strstr(run.out, "'/x': Read-only file system"));
	assert_non_null(strstr(run.out, "writable"));
}

static void test_tmp_size_is_capped(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("dd if=/dev/zero of=/tmp/big bs=1M count=32 2>&1; echo rc=$?"));
	spec.tmp_bytes = 8 << 20;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "No space left on device"));
	assert_null(strstr(run.out, "rc=0"));
}

static void test_memory_bomb_ends_as_oom(void **state)
{
	char *const argv[] = { "/t/probe", "memhog", "1024", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, argv);
	spec.memory_bytes = 64 << 20;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "oom");
	assert_true(run.result.oom_killed);
	assert_int_equal(run.result.signal, SIGKILL);
	assert_true(run.result.memory_peak_bytes > (32u << 20));
	assert_true(run.result.memory_peak_bytes <= (64u << 20) + (1u << 20));
}

static void test_fork_bomb_is_stopped_by_pids_limit(void **state)
{
	char *const argv[] = { "/t/probe", "forks", "1000", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, argv);
	spec.pids_max = 32;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	/* probe exits 0 when fork failed with EAGAIN before 1000 */
	assert_int_equal(run.result.exit_code, 0);
	assert_non_null(strstr(run.out, "Resource temporarily unavailable"));
}

static void test_busy_loop_is_killed_at_wall_timeout(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("while :; do :; done"));
	spec.wall_time_ms = 1000;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "timeout");
	assert_true(run.result.wall_us >= 1000000);
	assert_true(run.result.wall_us < 2000000);
	assert_int_equal(test_count_cgroups(), 0);
}

static void test_busy_loop_is_killed_at_cpu_limit(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("while :; do :; done"));
	spec.cpu_time_ms = 500;
	spec.wall_time_ms = 20000;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "cpu_limit");
	assert_true(run.result.cpu_usage_us >= 500000);
	assert_true(run.result.cpu_usage_us < 800000);
	assert_int_equal(test_count_cgroups(), 0);
}

/* Is there a process whose argv is exactly {argv0, arg1} in one of this
 * test's jail cgroups (where a jail's grandchildren stay, setsid or not)? */
static bool jail_has_process(const char *argv0, const char *arg1)
{
	char expect[128];
	size_t len = (size_t)snprintf(expect, sizeof(expect), "%s%c%s", argv0, 0, arg1) + 1;

	return test_jail_has_process(expect, len);
}

static void test_daemonized_grandchildren_are_killed(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("(setsid sleep 987654 </dev/null >/dev/null 2>&1 &); sleep 0.2; echo started"));
	test_run_ok(&spec, &run);
	assert_string_equal(run.out, "started\n");
	assert_false(jail_has_process("sleep", "987654"));
	assert_int_equal(test_count_cgroups(), 0);
}

static void test_output_cap_truncates_and_stops_the_task(void **state)
{
	struct jail_spec spec;
	struct test_run run;
	struct stat st;

	require_root();
	test_spec(&spec, SH("yes corral"));
	spec.output_limit = 1000;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "output_limit");
	assert_true(run.result.stdout_truncated);
	assert_false(run.result.stderr_truncated);
	assert_true(run.result.stdout_bytes > 1000);
	assert_int_equal(stat(spec.stdout_path, &st), 0);
	assert_int_equal(st.st_size, 1000);
}

static void test_output_under_cap_is_complete(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("echo out; echo err >&2"));
	spec.output_limit = 1000;
	test_run_ok(&spec, &run);
	assert_string_equal(run.out, "out\n");
	assert_string_equal(run.err, "err\n");
	assert_int_equal(run.result.stdout_bytes, 4);
	assert_int_equal(run.result.stderr_bytes, 4);
}

static void test_exit_code_is_mapped(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("exit 3"));
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "exit_nonzero");
	assert_int_equal(run.result.exit_code, 3);
	assert_int_equal(run.result.signal, 0);
}

static void test_signal_is_mapped(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("kill -SEGV $$"));
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "signaled");
	assert_int_equal(run.result.signal, SIGSEGV);
	assert_int_equal(run.result.exit_code, -1);
}

static void test_missing_command_reports_execve_step(void **state)
{
	char *const argv[] = { "no-such-command-corral", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, argv);
	assert_int_equal(test_run_spec(&spec, &run), -ENOENT);
	assert_string_equal(run.error.step, "execve");
	assert_non_null(strstr(run.error.message, "no-such-command-corral"));
	assert_non_null(strstr(run.error.message, "No such file or directory"));
}

static void test_missing_cwd_reports_chdir_step(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("true"));
	spec.cwd = "/nowhere";
	assert_int_equal(test_run_spec(&spec, &run), -ENOENT);
	assert_string_equal(run.error.step, "chdir");
	assert_non_null(strstr(run.error.message, "/nowhere"));
}

static void test_stdin_comes_from_file(void **state)
{
	char path[256];
	struct jail_spec spec;
	struct test_run run;
	FILE *f;

	require_root();
	snprintf(path, sizeof(path), "%s/input", test_jail_dir());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hello from stdin\n", f);
	fclose(f);
	test_spec(&spec, SH("cat"));
	spec.stdin_path = path;
	test_run_ok(&spec, &run);
	assert_string_equal(run.out, "hello from stdin\n");
}

static void test_rw_bind_is_writable_and_ro_bind_is_not(void **state)
{
	char rw[256], check[300];
	struct jail_mount mounts[2];
	struct jail_spec spec;
	struct test_run run;
	struct stat st;

	require_root();
	snprintf(rw, sizeof(rw), "%s/rw", test_jail_dir());
	mkdir(rw, 0777);
	chmod(rw, 0777);
	test_spec(&spec, SH("echo data > /data/file && echo ok; touch /t/nope 2>&1"));
	mounts[0] = spec.mounts[0];
	mounts[1] = (struct jail_mount){ .kind = JAIL_MOUNT_BIND_RW, .source = rw, .target = "/data" };
	spec.mounts = mounts;
	spec.n_mounts = 2;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "ok\n"));
	assert_non_null(strstr(run.out, "Read-only file system"));
	snprintf(check, sizeof(check), "%s/file", rw);
	assert_int_equal(stat(check, &st), 0);
	assert_int_equal(st.st_uid, spec.host_uid);
}

static void test_status_file_records_the_end(void **state)
{
	char path[256], text[512] = "";
	struct jail_spec spec;
	struct test_run run;
	FILE *f;

	require_root();
	snprintf(path, sizeof(path), "%s/status", test_jail_dir());
	test_spec(&spec, SH("exit 7"));
	spec.status_path = path;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "exit_code=7\n"));
	assert_non_null(strstr(text, "signal=0\n"));
}

static void test_cgroup_namespace_hides_host_paths(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("grep '^0::' /proc/self/cgroup"));
	test_run_ok(&spec, &run);
	assert_string_equal(run.out, "0::/\n");
}

static void test_cpu_time_and_wall_time_are_reported(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"));
	test_run_ok(&spec, &run);
	assert_true(run.result.cpu_usage_us > 10000);
	assert_true(run.result.cpu_user_us > 0);
	assert_true(run.result.wall_us >= run.result.cpu_usage_us / 2);
}

static void test_environment_is_only_what_the_spec_gives(void **state)
{
	char *const env[] = { "PATH=/usr/bin:/bin", "FOO=bar", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("env | sort"));
	spec.env = env;
	test_run_ok(&spec, &run);
	assert_non_null(strstr(run.out, "FOO=bar\n"));
	assert_null(strstr(run.out, "HOME="));
}

/* Host mounts a jail could leak: its setup mounts its root on /tmp and
 * builds it there (in its own mount namespace), so a propagation leak shows
 * as /tmp or /tmp/NAME on the host.  Other work's mounts (temp dirs named
 * NAME-XXXXXX, elsewhere) are not counted: the machine is shared. */
static int count_jail_like_host_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], point[4096];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		if (strcmp(point, "/tmp") == 0 ||
		    (strncmp(point, "/tmp/", 5) == 0 && !strchr(point + 5, '-') && !strchr(point + 5, '/')))
			n++;
	}
	fclose(f);
	return n;
}

static void test_nothing_is_left_after_100_runs(void **state)
{
	char *const argv[] = { "/bin/true", NULL };
	struct jail_spec spec;
	struct test_run run;
	int mounts_before;

	require_root();
	mounts_before = count_jail_like_host_mounts();
	test_spec(&spec, argv);
	spec.memory_bytes = 64 << 20;
	spec.pids_max = 16;
	spec.cpu_millis = 500;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(test_run_spec(&spec, &run), 0);
		assert_int_equal(run.result.status, JAIL_OK);
	}
	/* no cgroup left, so no process of a jail left either */
	assert_int_equal(test_count_cgroups(), 0);
	assert_int_equal(count_jail_like_host_mounts(), mounts_before);
}

static void test_invalid_spec_is_refused_before_anything_is_created(void **state)
{
	struct jail_spec spec;
	struct jail_error err;
	struct jail *j = NULL;

	require_root();
	test_spec(&spec, SH("true"));
	spec.host_uid = 0;
	assert_int_equal(jail_spawn(&spec, &j, &err), -EINVAL);
	assert_null(j);
	assert_non_null(strstr(err.message, "unprivileged"));
	test_spec(&spec, SH("true"));
	spec.mounts = &(
		struct jail_mount){ .kind = JAIL_MOUNT_BIND_RO, .source = "/no/such/dir", .target = "/x" };
	assert_int_equal(jail_spawn(&spec, &j, &err), -ENOENT);
	assert_non_null(strstr(err.message, "/no/such/dir"));
	assert_int_equal(test_count_cgroups(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_command_sees_its_init_as_pid_1, test_jail_teardown),
		cmocka_unit_test_teardown(test_command_runs_as_non_root_uid, test_jail_teardown),
		cmocka_unit_test_teardown(test_no_host_processes_are_visible, test_jail_teardown),
		cmocka_unit_test_teardown(test_network_has_only_lo, test_jail_teardown),
		cmocka_unit_test_teardown(test_hostname_is_set, test_jail_teardown),
		cmocka_unit_test_teardown(test_usr_is_read_only, test_jail_teardown),
		cmocka_unit_test_teardown(test_tmp_size_is_capped, test_jail_teardown),
		cmocka_unit_test_teardown(test_memory_bomb_ends_as_oom, test_jail_teardown),
		cmocka_unit_test_teardown(test_fork_bomb_is_stopped_by_pids_limit, test_jail_teardown),
		cmocka_unit_test_teardown(test_busy_loop_is_killed_at_wall_timeout, test_jail_teardown),
		cmocka_unit_test_teardown(test_busy_loop_is_killed_at_cpu_limit, test_jail_teardown),
		cmocka_unit_test_teardown(test_daemonized_grandchildren_are_killed, test_jail_teardown),
		cmocka_unit_test_teardown(test_output_cap_truncates_and_stops_the_task, test_jail_teardown),
		cmocka_unit_test_teardown(test_output_under_cap_is_complete, test_jail_teardown),
		cmocka_unit_test_teardown(test_exit_code_is_mapped, test_jail_teardown),
		cmocka_unit_test_teardown(test_signal_is_mapped, test_jail_teardown),
		cmocka_unit_test_teardown(test_missing_command_reports_execve_step, test_jail_teardown),
		cmocka_unit_test_teardown(test_missing_cwd_reports_chdir_step, test_jail_teardown),
		cmocka_unit_test_teardown(test_stdin_comes_from_file, test_jail_teardown),
		cmocka_unit_test_teardown(test_rw_bind_is_writable_and_ro_bind_is_not, test_jail_teardown),
		cmocka_unit_test_teardown(test_status_file_records_the_end, test_jail_teardown),
		cmocka_unit_test_teardown(test_cgroup_namespace_hides_host_paths, test_jail_teardown),
		cmocka_unit_test_teardown(test_cpu_time_and_wall_time_are_reported, test_jail_teardown),
		cmocka_unit_test_teardown(test_environment_is_only_what_the_spec_gives, test_jail_teardown),
		cmocka_unit_test_teardown(test_invalid_spec_is_refused_before_anything_is_created,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_nothing_is_left_after_100_runs, test_jail_teardown),
	};

	return cmocka_run_group_tests_name("jail", tests, NULL, test_jail_group_teardown);
}
