/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_retry.c — a task whose command never
 * started runs again instead of failing (issue 10 part 4), against a real
 * corrald (root): a start the host fails goes back to the queue and runs,
 * up to max_attempts; a start the task's own spec fails is not retried.
 *
 * The host fault is made deterministic: a regular file where corrald
 * creates the task's directory (tasks/<id>) makes the jail's output files
 * impossible to open, a host step; removing it lets the retry run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_KEYS "kill_grace = 200ms\nuid_range = 4200064-4200127\npoll_interval = 50ms\n"
#define POLICY_WITH(extra)                                                                 \
	"[access]\noperators = root\n"                                                     \
	"[plan free]\nmax_concurrent = 1\nmax_queued = 100\nmax_task_seconds = 1m\n" extra \
	"[default]\nplan = free\n"

static struct corrald daemon_;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void start(const char *policy)
{
	int r = corrald_start(&daemon_, SUPERVISOR_KEYS, policy, 0);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	if (daemon_.pid > 0) {
		int r = corrald_stop(&daemon_);

		if (r != 0)
			fprintf(stderr, "teardown: corrald exited with %d; log:\n%s\n", r,
				corrald_log_tail(&daemon_));
	}
	corrald_cleanup(&daemon_);
	return 0;
}

/* The path corrald will use as the directory of task id. */
static void task_dir(int64_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/tasks/%lld", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir,
		 (long long)id);
}

/* Block the directory of the next task with a regular file; its id. */
static int64_t block_next_task_dir(char *path, size_t size)
{
	int64_t probe = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"true\"]");
	json_t *done;
	int fd;

	assert_true(probe > 0);
	done = corrald_wait(&daemon_, probe, 20000);
	assert_non_null(done);
	assert_string_equal(task_str(done, "state"), "succeeded");
	json_decref(done);
	task_dir(probe + 1, path, size);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	return probe + 1;
}

/* Poll the task until its last_attempt_error is set (it was requeued). */
static json_t *wait_requeued(int64_t id, unsigned timeout_ms)
{
	for (unsigned waited = 0; waited < timeout_ms; waited += 20) {
		json_t *t = corrald_status(&daemon_, id);

		if (t && json_is_string(json_object_get(t, "last_attempt_error")))
			return t;
		json_decref(t);
		sleep_ms(20);
	}
	fail_msg("task %lld was not requeued in %u ms\n%s", (long long)id, timeout_ms,
		 corrald_log_tail(&daemon_));
	return NULL;
}

static void test_start_the_host_failed_is_requeued_and_runs(void **state)
{
	char path[256];
	json_t *t;
	char *out;
	size_t len = 0;
	int64_t id;

	(void)state;
	require_root();
	start(POLICY_WITH(""));
	id = block_next_task_dir(path, sizeof(path));
	assert_int_equal(corrald_submit(&daemon_,
					"\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\",\"echo ran\"]"),
			 id);
	t = wait_requeued(id, 5000);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_int_equal(task_int(t, "attempts"), 1);
	assert_int_equal(task_int(t, "started_at_us"), 0);
	assert_non_null(strstr(task_str(t, "last_attempt_error"), "before its command started"));
	json_decref(t);
	assert_int_equal(unlink(path), 0);

	t = corrald_wait(&daemon_, id, 20000);
	assert_non_null(t);
	if (strcmp(task_str(t, "state"), "succeeded") != 0)
		fail_msg("task %lld is %s (%s)\n%s", (long long)id, task_str(t, "state"),
			 task_str(t, "message"), corrald_log_tail(&daemon_));
	assert_int_equal(task_int(t, "attempts"), 2);
	assert_non_null(strstr(task_str(t, "last_attempt_error"), "attempt 1 of 3"));
	json_decref(t);
	out = corrald_logs(&daemon_, id, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "ran\n");
	free(out);
}

static void test_host_failure_gives_up_after_max_attempts(void **state)
{
	char path[256];
	json_t *t;
	int64_t id;

	(void)state;
	require_root();
	start(POLICY_WITH("max_attempts = 2\n"));
	id = block_next_task_dir(path, sizeof(path));
	assert_int_equal(corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"true\"]"), id);
	t = corrald_wait(&daemon_, id, 20000);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "spawn_error");
	assert_int_equal(task_int(t, "attempts"), 2);
	assert_non_null(strstr(task_str(t, "last_attempt_error"), "attempt 1 of 2"));
	json_decref(t);
	unlink(path);
}

static void test_start_the_task_failed_is_not_retried(void **state)
{
	json_t *t;
	int64_t id;

	(void)state;
	require_root();
	start(POLICY_WITH(""));
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/no/such/program\"]");
	assert_true(id > 0);
	t = corrald_wait(&daemon_, id, 20000);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "spawn_error");
	assert_non_null(strstr(task_str(t, "message"), "execve"));
	assert_int_equal(task_int(t, "attempts"), 1);
	assert_true(json_is_null(json_object_get(t, "last_attempt_error")));
	json_decref(t);
}

/* a requeued task keeps its stdin for the attempt that runs */
static void test_requeued_task_keeps_its_stdin(void **state)
{
	char path[256];
	json_t *t;
	char *out;
	size_t len = 0;
	int64_t id;

	(void)state;
	require_root();
	start(POLICY_WITH(""));
	id = block_next_task_dir(path, sizeof(path));
	assert_int_equal(corrald_submit(&daemon_,
					"\"user\":\"alice\",\"argv\":[\"cat\"],\"stdin\":\"hello\\n\""),
			 id);
	json_decref(wait_requeued(id, 5000));
	assert_int_equal(unlink(path), 0);
	t = corrald_wait(&daemon_, id, 20000);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	out = corrald_logs(&daemon_, id, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "hello\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_start_the_host_failed_is_requeued_and_runs, teardown),
		cmocka_unit_test_teardown(test_host_failure_gives_up_after_max_attempts, teardown),
		cmocka_unit_test_teardown(test_start_the_task_failed_is_not_retried, teardown),
		cmocka_unit_test_teardown(test_requeued_task_keeps_its_stdin, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
