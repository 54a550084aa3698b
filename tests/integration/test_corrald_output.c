/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_output.c — what a task's owner sees of its
 * output and end, against a real corrald (root; issue 17): `corral submit
 * --wait` writes the task's stdout and stderr as they come and exits with
 * the shared exit-code table's code; a wait that cannot end says why (the
 * budget; `corral wait` too) and --wait-timeout gives up; a child the OOM killer took shows in
 * the task record (oom_killed, oom_kills) though the task exited 0; --env
 * adds to the default environment, --clear-env replaces it; cancel takes
 * several ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

/* Its own host uids, so other corrald tests running at the same time on
 * this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201400-4201463\n" \
	"max_running = 4\n"
#define POLICY                                                                       \
	"[access]\noperators = root\n"                                               \
	"[plan free]\nmax_concurrent = 2\nmax_queued = 100\nmax_task_seconds = 1m\n" \
	"[plan broke]\nmonthly_cpu_hours = 0\n"                                      \
	"[user alice]\nplan = free\n[user bob]\nplan = broke\n[default]\nplan = free\n"

static struct corrald daemon_;

static void start_with(const char *supervisor_keys)
{
	int r = corrald_start(&daemon_, supervisor_keys, POLICY, 0);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static void start(void)
{
	start_with(SUPERVISOR_KEYS);
}

/* `corral submit --wait --user USER -- CMD...` in the background, its
 * stdout to out_fd (-1: /dev/null), its stderr to /dev/null. */
static pid_t spawn_submit_wait(const char *user, const char *const *cmd, int out_fd)
{
	char *argv[32];
	size_t n = 0;
	pid_t pid;

	argv[n++] = (char *)test_build_path("corral");
	argv[n++] = "submit";
	argv[n++] = "--socket";
	argv[n++] = daemon_.socket;
	argv[n++] = "--wait";
	argv[n++] = "--user";
	argv[n++] = (char *)user;
	argv[n++] = "--";
	for (; *cmd && n < 31; cmd++)
		argv[n++] = (char *)*cmd;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

struct cli_run {
	int code;
	char out[8192], err[8192];
};

/* `corral --socket S ARGS...` (args NULL-terminated) with stdout and
 * stderr apart. */
static void run_corral(struct cli_run *run, const char *const *args)
{
	char *argv[32];
	size_t n = 0;

	argv[n++] = (char *)test_build_path("corral");
	argv[n++] = (char *)args[0];
	argv[n++] = "--socket";
	argv[n++] = daemon_.socket;
	for (args++; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	run->code = test_run_capture(argv, run->out, sizeof(run->out), run->err, sizeof(run->err), NULL, 0);
	fprintf(stderr, "# corral %s: exit %d\n# stdout: %s\n# stderr: %s\n", argv[1], run->code, run->out,
		run->err);
}

static void test_submit_wait_streams_both_outputs_and_exits_with_the_tasks_code(void **state)
{
	static const char *const args[] = { "submit", "--wait",
					    "--user", "alice",
					    "--",     "/bin/sh",
					    "-c",     "echo one; echo warn >&2; sleep 0.3; echo two; exit 3",
					    NULL };
	struct cli_run run;

	(void)state;
	require_root();
	start();
	run_corral(&run, args);
	assert_int_equal(run.code, 3);
	assert_string_equal(run.out, "one\ntwo\n"); /* the task's stdout alone */
	assert_non_null(strstr(run.err, "warn\n"));
	assert_non_null(strstr(run.err, "corral: submitted task "));
	assert_non_null(strstr(run.err, "failed (exit code 3)"));
}

static void test_submit_wait_exits_with_the_shared_code_for_a_timeout(void **state)
{
	static const char *const args[] = { "submit", "--wait", "--user",     "alice", "--timeout",
					    "300ms",  "--",     "/bin/sleep", "10",    NULL };
	static const char *const quiet[] = { "submit", "--wait",    "--quiet", "--user", "alice",
					     "--",     "/bin/echo", "hi",      NULL };
	struct cli_run run;

	(void)state;
	require_root();
	start();
	run_corral(&run, args);
	assert_int_equal(run.code, 124);
	assert_non_null(strstr(run.err, "(timeout)"));
	/* --quiet: the old output, id and result on stdout, not the task's */
	run_corral(&run, quiet);
	assert_int_equal(run.code, 0);
	assert_null(strstr(run.out, "hi\n"));
	assert_non_null(strstr(run.out, "succeeded"));
}

static void test_a_wait_that_cannot_end_says_why_and_gives_up(void **state)
{
	static const char *const args[] = { "submit", "--wait", "--user",    "bob", "--wait-timeout",
					    "2500ms", "--",     "/bin/true", NULL };
	struct cli_run run;

	(void)state;
	require_root();
	start();
	run_corral(&run, args);
	assert_int_equal(run.code, 75);
	assert_non_null(strstr(run.err, "is queued, budget_exhausted: bob"));
	assert_non_null(strstr(run.err, "has not ended after 2.500 s"));
}

/* A queued task followed by submit --wait and cancelled: the follow ends
 * at once with the cancelled code. */
static void test_cancel_ends_a_follow_of_a_queued_task_with_119(void **state)
{
	static const char *const cmd[] = { "/bin/true", NULL };
	json_t *t = NULL, *r;
	uint64_t t0;
	pid_t pid;
	int st;

	(void)state;
	require_root();
	start();
	pid = spawn_submit_wait("bob", cmd, -1);
	/* a fresh corrald: the task is 1 */
	for (t0 = test_mono_ms(); !t && test_mono_ms() - t0 < 5000; test_sleep_ms(20))
		t = corrald_status(&daemon_, 1);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(300); /* its follow requests are parked */
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":1}");
	assert_null(corrald_error_code(r));
	json_decref(r);
	t0 = test_mono_ms();
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 119);
	if (test_mono_ms() - t0 > 3000)
		fail_msg("the follow ended %llu ms after the cancel",
			 (unsigned long long)(test_mono_ms() - t0));
}

/* With corrald's default 1 s poll interval, a follower still sees a line
 * soon after the task wrote it, not at the next poll. */
static void test_submit_wait_shows_output_soon_with_a_1s_poll_interval(void **state)
{
	static const char *const cmd[] = { "/bin/sh", "-c", "sleep 0.3; echo a; sleep 30", NULL };
	char line[64];
	int out[2];
	uint64_t t0, waited;
	json_t *t;
	ssize_t n;
	pid_t pid;

	(void)state;
	require_root();
	start_with("kill_grace = 200ms\npoll_interval = 1s\ndrain_timeout = 0\n"
		   "uid_range = 4201400-4201463\nmax_running = 4\n");
	assert_int_equal(pipe(out), 0);
	pid = spawn_submit_wait("alice", cmd, out[1]);
	close(out[1]);
	t0 = test_mono_ms();
	n = read(out[0], line, sizeof(line) - 1);
	waited = test_mono_ms() - t0;
	close(out[0]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(n, 2);
	t = corrald_status(&daemon_, 1);
	fprintf(stderr,
		"# 'a' written ~300 ms after its start (%lld ms after its submit), shown %llu ms after "
		"corral started (poll_interval 1s)\n",
		(task_int(t, "started_at_us") - task_int(t, "submitted_at_us")) / 1000,
		(unsigned long long)waited);
	json_decref(t);
	if (waited > 850)
		fail_msg("the line came %llu ms after the start: a whole poll interval late",
			 (unsigned long long)waited);
}

/* A task that writes all the time still times the wait out. */
static void test_wait_timeout_ends_the_follow_of_a_chatty_task(void **state)
{
	static const char *const args[] = {
		"submit", "--wait", "--user",  "alice", "--wait-timeout",
		"1s",     "--",     "/bin/sh", "-c",    "while :; do echo x; sleep 0.05; done",
		NULL
	};
	struct cli_run run;
	uint64_t t0;

	(void)state;
	require_root();
	start();
	t0 = test_mono_ms();
	run_corral(&run, args);
	assert_int_equal(run.code, 75);
	assert_non_null(strstr(run.out, "x\n"));
	if (test_mono_ms() - t0 > 5000)
		fail_msg("a 1 s wait timeout took %llu ms", (unsigned long long)(test_mono_ms() - t0));
}

static void test_corral_wait_says_why_too(void **state)
{
	char id[24];
	const char *args[] = { "wait", id, "--timeout", "2500ms", NULL };
	struct cli_run run;

	(void)state;
	require_root();
	start();
	snprintf(id, sizeof(id), "%lld",
		 (long long)corrald_submit(&daemon_, "\"user\":\"bob\",\"argv\":[\"/bin/true\"]"));
	run_corral(&run, args);
	assert_int_equal(run.code, 75);
	assert_non_null(strstr(run.err, "is queued, budget_exhausted: bob"));
	assert_non_null(strstr(run.err, "wait_timeout"));
}

/* A child killed by the OOM killer while the task's main process goes on
 * and exits 0: the record says so. */
static void test_oom_killed_child_shows_though_the_task_exits_0(void **state)
{
	int64_t id;
	json_t *t;

	(void)state;
	require_root();
	start();
	id = corrald_submit(&daemon_,
			    "\"user\":\"alice\",\"memory_bytes\":67108864,"
			    "\"argv\":[\"/bin/sh\",\"-c\","
			    "\"/bin/sh -c 'x=$(yes | head -c 150000000)'; echo survived\"]");
	assert_true(id > 0);
	t = corrald_must_wait(&daemon_, id, 30000);
	fprintf(stderr, "# task %lld: %s %s oom_killed=%d oom_kills=%lld\n", (long long)id,
		task_str(t, "state"), task_str(t, "reason"), json_is_true(json_object_get(t, "oom_killed")),
		task_int(t, "oom_kills"));
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_true(json_is_true(json_object_get(t, "oom_killed")));
	assert_true(task_int(t, "oom_kills") >= 1);
	json_decref(t);
	/* and a task without one says so too */
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/true\"]");
	t = corrald_must_wait(&daemon_, id, 10000);
	assert_false(json_is_true(json_object_get(t, "oom_killed")));
	assert_int_equal(task_int(t, "oom_kills"), 0);
	json_decref(t);
}

static void test_env_adds_to_the_default_environment_and_clear_env_replaces_it(void **state)
{
	int64_t id;
	json_t *t;
	char *out;
	size_t len;

	(void)state;
	require_root();
	start();
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"env\":[\"FOO=bar\"],\"argv\":[\"/usr/bin/env\"]");
	t = corrald_must_wait(&daemon_, id, 10000);
	json_decref(t);
	out = corrald_logs(&daemon_, id, "stdout", &len);
	assert_non_null(out);
	assert_non_null(strstr(out, "FOO=bar\n"));
	assert_non_null(strstr(out, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(out, "HOME=/work\n"));
	free(out);

	id = corrald_submit(&daemon_,
			    "\"user\":\"alice\",\"env\":[\"FOO=bar\"],\"clear_env\":true,"
			    "\"argv\":[\"/usr/bin/env\"]");
	t = corrald_must_wait(&daemon_, id, 10000);
	json_decref(t);
	out = corrald_logs(&daemon_, id, "stdout", &len);
	assert_non_null(out);
	assert_non_null(strstr(out, "FOO=bar\n"));
	assert_null(strstr(out, "PATH="));
	assert_null(strstr(out, "HOME="));
	free(out);
}

static void test_cancel_takes_several_ids(void **state)
{
	int64_t ids[3];
	char a[24], b[24], c[24];
	const char *args[] = { "cancel", a, b, c, NULL };
	struct cli_run run;

	(void)state;
	require_root();
	start();
	/* bob has no budget: his tasks stay queued */
	for (int i = 0; i < 3; i++)
		ids[i] = corrald_submit(&daemon_, "\"user\":\"bob\",\"argv\":[\"/bin/true\"]");
	snprintf(a, sizeof(a), "%lld", (long long)ids[0]);
	snprintf(b, sizeof(b), "%lld", (long long)ids[1]);
	snprintf(c, sizeof(c), "%lld", (long long)ids[2]);
	run_corral(&run, args);
	assert_int_equal(run.code, 0);
	for (int i = 0; i < 3; i++) {
		json_t *t = corrald_status(&daemon_, ids[i]);

		assert_string_equal(task_str(t, "state"), "cancelled");
		json_decref(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_submit_wait_streams_both_outputs_and_exits_with_the_tasks_code,
					  teardown),
		cmocka_unit_test_teardown(test_submit_wait_exits_with_the_shared_code_for_a_timeout,
					  teardown),
		cmocka_unit_test_teardown(test_a_wait_that_cannot_end_says_why_and_gives_up, teardown),
		cmocka_unit_test_teardown(test_corral_wait_says_why_too, teardown),
		cmocka_unit_test_teardown(test_wait_timeout_ends_the_follow_of_a_chatty_task, teardown),
		cmocka_unit_test_teardown(test_submit_wait_shows_output_soon_with_a_1s_poll_interval,
					  teardown),
		cmocka_unit_test_teardown(test_cancel_ends_a_follow_of_a_queued_task_with_119, teardown),
		cmocka_unit_test_teardown(test_oom_killed_child_shows_though_the_task_exits_0, teardown),
		cmocka_unit_test_teardown(test_env_adds_to_the_default_environment_and_clear_env_replaces_it,
					  teardown),
		cmocka_unit_test_teardown(test_cancel_takes_several_ids, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
