/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_stall.c — a stalled supervisor cannot
 * extend a task (issue 16): the jail enforces its wall-clock deadline and
 * its CPU limit itself (corral-init), so while corrald is stopped (SIGSTOP,
 * the way a flood once stalled its loop for 35-40 s) a task limited to 2 s
 * of wall time still ends ~2 s after its start, and one limited to 1 s of
 * CPU burns ~1 s; corrald records timeout / cpu_limit and the real end once
 * it runs again.  The same for corral-run, which has its own wait loop.
 * Real corrald and corral-run, as root.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

#define KILL_GRACE_MS 200
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201200-4201207\n" \
	"max_running = 4\n"
#define POLICY                                                                           \
	"[access]\noperators = root\n[plan free]\nmax_concurrent = 4\nmax_queued = 10\n" \
	"max_task_seconds = 1m\nmax_cpu_seconds = 1m\n[default]\nplan = free\n"
/* how long the supervisor is stopped: far beyond every limit below */
#define STALL_MS 6000
/* what the bounds allow beyond limit + grace + the jail's margin (250 ms):
 * a loaded 2-core CI machine, never the stall */
#define SLACK_MS 700

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* Start corrald, submit a task (fields), stop corrald for STALL_MS once it
 * runs, wait for its end: the TASK. */
static json_t *run_through_a_stall(const char *fields)
{
	int64_t id;
	json_t *t;

	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	id = corrald_submit(&daemon_, fields);
	assert_true(id > 0);
	t = corrald_wait_state(&daemon_, id, "running", 10000);
	assert_non_null(t);
	json_decref(t);
	assert_int_equal(corrald_signal(&daemon_, SIGSTOP), 0);
	test_sleep_ms(STALL_MS);
	assert_int_equal(corrald_signal(&daemon_, SIGCONT), 0);
	return corrald_must_wait(&daemon_, id, 20000);
}

static void test_stalled_corrald_cannot_extend_a_tasks_wall_clock_limit(void **state)
{
	long long ran_ms;
	json_t *t;

	(void)state;
	require_root();
	t = run_through_a_stall("\"timeout_ms\":2000,\"argv\":[\"/bin/sleep\",\"60\"]");
	ran_ms = (task_int(t, "ended_at_us") - task_int(t, "started_at_us")) / 1000;
	fprintf(stderr, "# wall-limited task: %s/%s after %lld ms (limit 2000 ms, corrald stopped %d ms)\n",
		task_str(t, "state"), task_str(t, "reason"), ran_ms, STALL_MS);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "timeout");
	assert_true(ran_ms >= 2000);
	if (ran_ms > 2000 + KILL_GRACE_MS + 250 + SLACK_MS)
		fail_msg("a 2 s task ended %lld ms after its start while corrald was stopped", ran_ms);
	json_decref(t);
}

static void test_stalled_corrald_cannot_extend_a_tasks_cpu_limit(void **state)
{
	long long cpu_ms, ran_ms;
	json_t *t;

	(void)state;
	require_root();
	/* two burning processes: the limit is the jail's, not one process's */
	t = run_through_a_stall("\"cpu_limit_ms\":1000,\"argv\":[\"/bin/sh\",\"-c\","
				"\"while :; do :; done & while :; do :; done\"]");
	cpu_ms = task_int(t, "cpu_us") / 1000;
	ran_ms = (task_int(t, "ended_at_us") - task_int(t, "started_at_us")) / 1000;
	fprintf(stderr, "# CPU-limited task: %s/%s, %lld ms of CPU in %lld ms (limit 1000 ms)\n",
		task_str(t, "state"), task_str(t, "reason"), cpu_ms, ran_ms);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "cpu_limit");
	if (cpu_ms > 1000 + 250)
		fail_msg("a task limited to 1 s of CPU was charged %lld ms while corrald was stopped",
			 cpu_ms);
	assert_true(ran_ms < STALL_MS);
	json_decref(t);
}

/* corral-run --json with these arguments, stopped for STALL_MS right after
 * its start; its JSON result (on its stderr) in out. */
static void run_stopped_corral_run(const char *const *args, char *out, size_t size)
{
	char *argv[16];
	int pipefd[2], st;
	size_t n = 0, len = 0;
	pid_t pid;

	argv[n++] = (char *)test_build_path("corral-run");
	argv[n++] = "--json";
	argv[n++] = "--quiet";
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	test_sleep_ms(300); /* the jail is up: corral-run sits in jail_wait */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	test_sleep_ms(STALL_MS);
	assert_int_equal(kill(pid, SIGCONT), 0);
	for (ssize_t r; len + 1 < size && (r = read(pipefd[0], out + len, size - 1 - len)) > 0;)
		len += (size_t)r;
	out[len] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static long long json_field(const char *json, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(json, pattern);
	return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

static void test_stopped_corral_run_cannot_extend_its_jails_limits(void **state)
{
	static const char *const wall[] = { "--wall-time", "2s", "--", "/bin/sleep", "60", NULL };
	static const char *const hostile[] = {
		"--wall-time",
		"2s",
		"--",
		"/bin/sh",
		"-c",
		"trap '' TERM HUP INT; kill -STOP 1; kill -TERM 1; kill -KILL 1; kill -ALRM 1; "
		"while :; do sleep 1; done",
		NULL
	};
	static const char *const cpu[] = {
		"--time", "1s", "--", "/bin/sh", "-c", "while :; do :; done", NULL
	};
	char out[2048];
	long long us;

	(void)state;
	require_root();
	run_stopped_corral_run(wall, out, sizeof(out));
	us = json_field(out, "wall_us");
	fprintf(stderr, "# corral-run --wall-time 2s, stopped %d ms: %s\n", STALL_MS, out);
	assert_non_null(strstr(out, "\"status\":\"timeout\""));
	if (us < 2000000 || us > (2000 + 250 + SLACK_MS) * 1000ll)
		fail_msg("corral-run's 2 s jail ran %lld us", us);

	/* the command tries to stop, kill and outlast init's timer */
	run_stopped_corral_run(hostile, out, sizeof(out));
	us = json_field(out, "wall_us");
	fprintf(stderr, "# corral-run --wall-time 2s, a task against pid 1, stopped %d ms: %s\n", STALL_MS,
		out);
	assert_non_null(strstr(out, "\"status\":\"timeout\""));
	if (us < 2000000 || us > (2000 + 250 + SLACK_MS) * 1000ll)
		fail_msg("corral-run's 2 s jail, its task against pid 1, ran %lld us", us);

	run_stopped_corral_run(cpu, out, sizeof(out));
	us = json_field(out, "cpu_usage_us");
	fprintf(stderr, "# corral-run --time 1s, stopped %d ms: %s\n", STALL_MS, out);
	assert_non_null(strstr(out, "\"status\":\"cpu_limit\""));
	if (us < 1000000 || us > 1250000)
		fail_msg("corral-run's jail limited to 1 s of CPU burned %lld us", us);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stalled_corrald_cannot_extend_a_tasks_wall_clock_limit,
					  teardown),
		cmocka_unit_test_teardown(test_stalled_corrald_cannot_extend_a_tasks_cpu_limit, teardown),
		cmocka_unit_test(test_stopped_corral_run_cannot_extend_its_jails_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
