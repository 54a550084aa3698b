/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_status.c — a real corrald (root): what
 * status and list say while a task runs (issue 17): the figures so far
 * from its cgroup and output files ("live"), the effective limits and
 * where each comes from ("limits"), the pending reason of a queued task
 * in a list, and list's time range.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_BASE                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200000-4200063\n" \
	"max_running = 4\n"
#define POLICY_BASE                                                                              \
	"[access]\noperators = root\n"                                                           \
	"[plan pro]\nmax_concurrent = 1\nmax_queued = 100\nmax_task_seconds = 1m\nmemory = 1G\n" \
	"[default]\nplan = pro\n"

static struct corrald daemon_;

static void start(void)
{
	int r = corrald_start(&daemon_, SUPERVISOR_BASE, POLICY_BASE, 0);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static json_t *member(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

static void test_status_of_running_task_shows_figures_so_far_and_limit_sources(void **state)
{
	json_t *t = NULL, *live;
	int64_t id;
	uint64_t deadline;

	(void)state;
	require_root();
	start();
	/* 1001 bytes at once, then it runs on */
	id = corrald_submit(&daemon_,
			    "\"user\":\"alice\",\"timeout_ms\":1500,\"argv\":[\"/bin/sh\",\"-c\","
			    "\"head -c 1001 /dev/zero; exec sleep 3\"]");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&daemon_, id, "running", 5000));
	deadline = test_mono_ms() + 1000;
	for (;;) {
		json_decref(t);
		t = corrald_status(&daemon_, id);
		assert_non_null(t);
		live = json_object_get(t, "live");
		if (json_integer_value(json_object_get(live, "stdout_bytes")) == 1001 ||
		    test_mono_ms() > deadline)
			break;
		test_sleep_ms(50);
	}
	if (!json_is_object(live))
		fail_msg("a running task's status has no \"live\": %s", json_dumps(t, 0));
	assert_int_equal(json_integer_value(json_object_get(live, "stdout_bytes")), 1001);
	assert_int_equal(json_integer_value(json_object_get(live, "stderr_bytes")), 0);
	assert_true(json_integer_value(json_object_get(live, "elapsed_us")) > 0);
	assert_true(json_integer_value(json_object_get(live, "elapsed_us")) < 1500000);
	assert_true(json_integer_value(json_object_get(live, "memory_bytes")) > 0);
	assert_true(json_integer_value(json_object_get(live, "memory_peak_bytes")) >=
		    json_integer_value(json_object_get(live, "memory_bytes")));
	assert_true(json_is_integer(json_object_get(live, "cpu_us")));
	/* limits: the wall-clock one the task asked for, memory the plan's,
	 * unlimited CPU is null (never 0) */
	assert_string_equal(json_string_value(member(t, "limits", "plan")), "pro");
	assert_int_equal(json_integer_value(member(t, "limits", "wall_us")), 1500000);
	assert_string_equal(json_string_value(member(t, "limits", "wall_from")), "task");
	assert_int_equal(json_integer_value(member(t, "limits", "memory_bytes")), 1LL << 30);
	assert_string_equal(json_string_value(member(t, "limits", "memory_from")), "plan");
	assert_true(json_is_null(member(t, "limits", "cpu_us")));
	assert_string_equal(json_string_value(member(t, "limits", "cpu_from")), "none");
	json_decref(t);

	/* ended: the stored figures, no "live" */
	t = corrald_must_wait(&daemon_, id, 5000);
	assert_string_equal(task_str(t, "reason"), "timeout");
	assert_string_equal(task_str(t, "message"), "Timeout: exceeded the 1.5 s wall-clock limit");
	json_decref(t);
	t = corrald_status(&daemon_, id);
	assert_null(json_object_get(t, "live"));
	assert_int_equal(task_int(t, "stdout_bytes"), 1001);
	assert_true(json_is_object(json_object_get(t, "limits")));
	json_decref(t);
}

static void test_list_shows_pending_reason_limits_and_filters_by_submit_time(void **state)
{
	json_t *r, *tasks, *e;
	int64_t running, queued;
	size_t i;
	bool seen_queued = false, seen_running = false;
	long long now_us = (long long)time(NULL) * 1000000;

	(void)state;
	require_root();
	start();
	running = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/sleep\",\"1\"]");
	queued = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/true\"]");
	assert_true(running > 0 && queued > 0);
	json_decref(corrald_wait_state(&daemon_, running, "running", 5000));
	r = corrald_call(&daemon_, "{\"op\":\"list\",\"user\":\"alice\",\"since_us\":%lld}",
			 now_us - 60000000);
	assert_non_null(r);
	tasks = json_object_get(r, "tasks");
	json_array_foreach (tasks, i, e) {
		if (json_integer_value(json_object_get(e, "id")) == queued) {
			seen_queued = true;
			assert_string_equal(task_str(e, "pending_reason"), "concurrency_limit");
		}
		if (json_integer_value(json_object_get(e, "id")) == running) {
			seen_running = true;
			assert_true(json_is_object(json_object_get(e, "live")));
			assert_int_equal(json_integer_value(member(e, "limits", "wall_us")), 60000000);
			assert_string_equal(json_string_value(member(e, "limits", "wall_from")), "plan");
		}
	}
	assert_true(seen_queued && seen_running);
	json_decref(r);
	/* nothing was submitted an hour from now, nor before 2001 */
	r = corrald_call(&daemon_, "{\"op\":\"list\",\"since_us\":%lld}", now_us + 3600000000LL);
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 0);
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"list\",\"until_us\":%lld}", 1000000000000000LL);
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 0);
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"list\",\"until_us\":%lld}", now_us + 3600000000LL);
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 2);
	json_decref(r);
	json_decref(corrald_must_wait(&daemon_, queued, 5000));
}

static void expect_refusal(const char *request, const char *code, const char *message)
{
	json_t *r = corrald_call(&daemon_, "%s", request);

	assert_non_null(r);
	if (!corrald_error_code(r) || strcmp(corrald_error_code(r), code) != 0 ||
	    !strstr(corrald_error_message(r), message))
		fail_msg("%s: got %s: %s, wanted %s: ...%s...", request,
			 corrald_error_code(r) ? corrald_error_code(r) : "ok", corrald_error_message(r), code,
			 message);
	json_decref(r);
}

/* limits in human units; a no_queue refusal names the real reason */
static void test_refusals_say_limits_in_human_units_and_the_real_reason(void **state)
{
	int64_t id;

	(void)state;
	require_root();
	{
		int r = corrald_start(&daemon_, SUPERVISOR_BASE,
				      POLICY_BASE "[plan off]\nmax_concurrent = 1\nmonthly_cpu_hours = 0\n"
						  "[user sus]\nplan = off\n",
				      0);

		if (r < 0)
			fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
	}
	expect_refusal("{\"op\":\"submit\",\"user\":\"alice\",\"memory_bytes\":2147483648,"
		       "\"argv\":[\"/bin/true\"]}",
		       "limit_exceeded", "memory 2 GiB is above plan pro's limit of 1 GiB");
	expect_refusal("{\"op\":\"submit\",\"user\":\"alice\",\"timeout_ms\":61500,"
		       "\"argv\":[\"/bin/true\"]}",
		       "limit_exceeded", "timeout 1 min 2 s is above plan pro's limit of 1 min");
	/* sus's one queued task waits for a budget it does not have: a
	 * no_queue submit says so, not "0/1 tasks running" */
	id = corrald_submit(&daemon_, "\"user\":\"sus\",\"argv\":[\"/bin/true\"]");
	assert_true(id > 0);
	expect_refusal("{\"op\":\"submit\",\"user\":\"sus\",\"no_queue\":true,\"argv\":[\"/bin/true\"]}",
		       "budget_exhausted", "sus: suspended");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_status_of_running_task_shows_figures_so_far_and_limit_sources,
					  teardown),
		cmocka_unit_test_teardown(test_list_shows_pending_reason_limits_and_filters_by_submit_time,
					  teardown),
		cmocka_unit_test_teardown(test_refusals_say_limits_in_human_units_and_the_real_reason,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
