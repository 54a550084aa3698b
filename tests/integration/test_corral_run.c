/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corral_run.c — corral-run's outputs as a program
 * (root; issue 17): the JSON result never shares stdout with the command
 * (stderr, or --json-fd), stdout_bytes counts what went to an inherited
 * pipe, a reader that goes away still ends the writer with SIGPIPE, a
 * child the OOM killer took shows while the command exits 0, and --env
 * adds to the default environment (--clear-env: alone); the jail's /etc,
 * a bind of a set prepared once (runner/host_etc_dir.c), shows the
 * generated files and the host's files as they are, read-only.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/test.h"

struct run {
	int code;
	char out[16384], err[16384], fd3[4096];
};

/* corral-run ARGS... (NULL-terminated): stdout through a pipe, stderr and
 * fd 3 to temp files. */
static void corral_run(struct run *run, const char *const *args)
{
	char *argv[32];
	size_t n = 0;

	argv[n++] = (char *)test_build_path("corral-run");
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	run->code = test_run_capture(argv, run->out, sizeof(run->out), run->err, sizeof(run->err), run->fd3,
				     sizeof(run->fd3));
}

/* The JSON result: the last line of text that is a JSON object. */
static json_t *result_in(const char *text)
{
	const char *line = strrchr(text, '{');

	while (line && line > text && line[-1] != '\n')
		line = memrchr(text, '{', (size_t)(line - text));
	return line ? json_loads(line, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

/* corral_run as root, which must exit 0 with exactly out on stdout. */
static void run_ok(struct run *run, const char *const *args, const char *out)
{
	require_root();
	corral_run(run, args);
	assert_int_equal(run->code, 0);
	assert_string_equal(run->out, out);
}

static void test_json_goes_to_stderr_and_stdout_bytes_counts_an_inherited_pipe(void **state)
{
	static const char *const args[] = {
		"--json", "--", "/bin/sh", "-c", "echo hello; echo oops >&2", NULL
	};
	struct run run;
	json_t *r;

	(void)state;
	run_ok(&run, args, "hello\n"); /* the command's alone */
	r = result_in(run.err);
	if (!r)
		fail_msg("no JSON result on stderr: %s", run.err);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "ok");
	assert_int_equal(json_integer_value(json_object_get(r, "stdout_bytes")), 6);
	assert_int_equal(json_integer_value(json_object_get(r, "stderr_bytes")), 5);
	json_decref(r);
}

static void test_json_fd_writes_the_result_there(void **state)
{
	static const char *const args[] = { "--json-fd", "3", "--", "/bin/echo", "hi", NULL };
	struct run run;
	json_t *r;

	(void)state;
	run_ok(&run, args, "hi\n");
	r = json_loads(run.fd3, 0, NULL);
	if (!r)
		fail_msg("fd 3 holds no JSON result: '%s'", run.fd3);
	assert_int_equal(json_integer_value(json_object_get(r, "stdout_bytes")), 3);
	json_decref(r);
	assert_non_null(strstr(run.err, "corral-run: ok exit=0")); /* the summary stays */
}

/* Through init's copy, a reader that stops still ends the writer. */
static void test_a_writer_whose_reader_left_still_gets_sigpipe(void **state)
{
	char cmd[512];
	uint64_t t0 = test_mono_ms();
	int st;

	(void)state;
	require_root();
	snprintf(cmd, sizeof(cmd), "%s --wall-time 20s -- /usr/bin/yes 2>/dev/null | head -c 4 >/dev/null",
		 test_build_path("corral-run"));
	st = system(cmd);
	assert_true(WIFEXITED(st));
	if (test_mono_ms() - t0 > 10000)
		fail_msg("yes | head took %llu ms: the writer did not see its reader go",
			 (unsigned long long)(test_mono_ms() - t0));
}

/* A child killed by the OOM killer while the command goes on and exits 0. */
static void test_oom_killed_child_shows_while_the_command_exits_0(void **state)
{
	static const char *const args[] = { "--json",
					    "--memory",
					    "64M",
					    "--",
					    "/bin/sh",
					    "-c",
					    "/bin/sh -c 'x=$(yes | head -c 150000000)'; echo survived",
					    NULL };
	struct run run;
	json_t *r;

	(void)state;
	run_ok(&run, args, "survived\n");
	fprintf(stderr, "# %s", run.err);
	r = result_in(run.err);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "ok");
	assert_true(json_is_true(json_object_get(r, "oom_killed")));
	assert_true(json_integer_value(json_object_get(r, "oom_kills")) >= 1);
	json_decref(r);
}

static void test_env_adds_to_the_defaults_and_clear_env_replaces_them(void **state)
{
	static const char *const add[] = { "--quiet",   "--env", "FOO=bar",      "--env",
					   "HOME=/tmp", "--",    "/usr/bin/env", NULL };
	static const char *const clear[] = { "--quiet", "--clear-env",  "--env", "FOO=bar",
					     "--",      "/usr/bin/env", NULL };
	struct run run;

	(void)state;
	require_root();
	corral_run(&run, add);
	assert_int_equal(run.code, 0);
	assert_non_null(strstr(run.out, "FOO=bar\n"));
	assert_non_null(strstr(run.out, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(run.out, "HOME=/tmp\n"));
	assert_null(strstr(run.out, "HOME=/work"));
	corral_run(&run, clear);
	assert_int_equal(run.code, 0);
	assert_non_null(strstr(run.out, "FOO=bar\n"));
	assert_null(strstr(run.out, "PATH="));
}

/* The host's cksum of its ld.so.cache and nsswitch.conf, as the jail names them. */
static void host_cksum(char *out, size_t len)
{
	FILE *p = popen("cd / && cksum etc/ld.so.cache etc/nsswitch.conf", "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void test_etc_from_a_prepared_set_shows_the_host_files_read_only(void **state)
{
	static const char *const args[] = {
		"--quiet",
		"--hostname",
		"etcbox",
		"--",
		"/bin/sh",
		"-c",
		"cat /etc/hostname; grep -c sandbox /etc/passwd; cd / && cksum etc/ld.so.cache etc/nsswitch.conf; "
		"ls /etc/ssl/certs | grep -c .; touch /etc/x /etc/passwd 2>&1; "
		"grep ' /etc ' /proc/self/mountinfo | grep -c /etc/",
		NULL
	};
	char cksum[512], want[1024];
	struct run run;

	(void)state;
	require_root();
	host_cksum(cksum, sizeof(cksum));
	for (int i = 0; i < 2; i++) { /* the second takes the set the first made */
		corral_run(&run, args);
		assert_int_equal(run.code, 0);
		snprintf(want, sizeof(want), "etcbox\n1\n%s", cksum);
		assert_memory_equal(run.out, want, strlen(want));
		assert_non_null(strstr(run.out, "touch: cannot touch '/etc/x': Read-only file system"));
		/* not the jail's file (the set's, root's on the host): EACCES before EROFS */
		assert_non_null(strstr(run.out, "touch: cannot touch '/etc/passwd': Permission denied"));
		/* /etc is the set's bind: its root is the set's host path */
		assert_true(strlen(run.out) > 3);
		assert_string_equal(run.out + strlen(run.out) - 3, "\n1\n");
	}
}

/* A private umask (027, 077: common for root on hardened hosts) once made
 * the set 0750/0700 and its files 0640/0600, root's: the jail's uid could
 * not open it ("bind /etc/alternatives on /etc/alternatives: Permission
 * denied"), so every run failed.  The jail starts and reads its /etc. */
static void test_a_private_umask_still_gives_a_readable_etc(void **state)
{
	static const char *const args[] = {
		"--quiet",
		"--hostname",
		"umaskbox",
		"--",
		"/bin/sh",
		"-c",
		"cat /etc/hostname; grep -c sandbox /etc/passwd; test -r /etc/nsswitch.conf && echo readable",
		NULL
	};
	static const mode_t masks[] = { 027, 077 };
	struct run run;

	(void)state;
	require_root();
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);

		for (int n = 0; n < 2; n++) { /* the second would take a set the first made */
			corral_run(&run, args);
			if (run.code != 0)
				fail_msg("umask %03o: corral-run exited %d: %s", (unsigned)masks[i], run.code,
					 run.err);
			assert_string_equal(run.out, "umaskbox\n1\nreadable\n");
		}
		umask(old);
	}
}

/* corral-run --quiet -- /bin/cat /etc/hostname under umask mask, stdout
 * and stderr to /dev/null: its exit code (-1: it did not exit). */
static int quiet_run_under(mode_t mask)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		umask(mask);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execl(test_build_path("corral-run"), "corral-run", "--quiet", "--", "/bin/cat",
		      "/etc/hostname", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* On a host where /var/cache/corral-run did not exist yet, one run under
 * umask 077 made it 0700 and every later run, whatever its umask, failed
 * ("bind source /var/cache/corral-run/etc/...: the jail's host uid must be
 * able to reach it"), until someone changed its mode.  Played in a mount
 * namespace of its own over an empty /var/cache. */
static void test_a_first_run_under_umask_077_does_not_break_later_runs(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	require_root();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("none", "/var/cache", "tmpfs", 0, "mode=0755") < 0)
			_exit(100);
		if (quiet_run_under(077) != 0)
			_exit(101);
		_exit(quiet_run_under(022) == 0 && quiet_run_under(022) == 0 ? 0 : 102);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_goes_to_stderr_and_stdout_bytes_counts_an_inherited_pipe),
		cmocka_unit_test(test_json_fd_writes_the_result_there),
		cmocka_unit_test(test_a_writer_whose_reader_left_still_gets_sigpipe),
		cmocka_unit_test(test_oom_killed_child_shows_while_the_command_exits_0),
		cmocka_unit_test(test_env_adds_to_the_defaults_and_clear_env_replaces_them),
		cmocka_unit_test(test_etc_from_a_prepared_set_shows_the_host_files_read_only),
		cmocka_unit_test(test_a_private_umask_still_gives_a_readable_etc),
		cmocka_unit_test(test_a_first_run_under_umask_077_does_not_break_later_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
