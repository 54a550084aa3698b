/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_budget.c — monthly CPU budgets against a
 * real corrald (root): a budget never costs a tenant its concurrency (a
 * task reserves what it can burn, not the month), queue positions of a
 * tenant with a budget count down, budgets of a few CPU seconds
 * (monthly_cpu_hours = 0.001), 0 suspends a tenant, a budget held by running
 * tasks is "budget_reserved" and not "budget_exhausted", and a plan with no
 * bound at all (no wall-clock limit, no CPU limit) splits what is left
 * between its slots instead of running one task at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

/* Its own host uids, so a test_corrald running at the same time on this
 * machine never hands out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200400-4200463\n" \
	"max_running = 8\n"
#define POLICY_BASE "[access]\noperators = root\n[plan free]\nmax_concurrent = 1\n[default]\nplan = free\n"
#define POLL_US 100000LL
#define BUDGET_0_001_H_US 3600000LL /* monthly_cpu_hours = 0.001 */

static struct corrald daemon_;

static void start(const char *extra_policy)
{
	char body[4096];
	int r;

	snprintf(body, sizeof(body), "%s%s", POLICY_BASE, extra_policy);
	r = corrald_start(&daemon_, SUPERVISOR_KEYS, body, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static int64_t submit(const char *fields)
{
	int64_t id = corrald_submit(&daemon_, fields);

	if (id <= 0)
		fail_msg("submit {%s} refused\n%s", fields, corrald_log_tail(&daemon_));
	return id;
}

static json_t *must_wait(int64_t id, unsigned timeout_ms)
{
	json_t *t = corrald_wait(&daemon_, id, timeout_ms);

	if (!t)
		fail_msg("task %lld did not end within %u ms\n%s", (long long)id, timeout_ms,
			 corrald_log_tail(&daemon_));
	return t;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Tasks of user in state right now. */
static size_t count_in_state(const char *user, const char *state)
{
	json_t *list = corrald_list(&daemon_, user), *t;
	size_t i, n = 0;

	assert_non_null(list);
	json_array_foreach (list, i, t)
		if (strcmp(task_str(t, "state"), state) == 0)
			n++;
	json_decref(list);
	return n;
}

/* The most tasks of user seen running at once while polling for ms. */
static size_t most_running_within(const char *user, unsigned ms, size_t enough)
{
	size_t most = 0;

	for (unsigned waited = 0; waited < ms; waited += 20) {
		size_t n = count_in_state(user, "running");

		if (n > most)
			most = n;
		if (most >= enough)
			break;
		sleep_ms(20);
	}
	return most;
}

static const char *this_month(char out[8])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 8, "%Y-%m", &tm);
	return out;
}

/* ---- 1. a budget does not cost concurrency ------------------------------ */

static void test_budget_tenant_runs_max_concurrent_tasks_at_once(void **state)
{
	int64_t ids[6];
	json_t *q, *e;
	size_t i;

	(void)state;
	require_root();
	start("[plan pro]\nmax_concurrent = 4\nmonthly_cpu_hours = 10\n[user carol]\nplan = pro\n");
	for (i = 0; i < 6; i++)
		ids[i] = submit("\"user\":\"carol\",\"argv\":[\"/bin/sleep\",\"2\"]");
	assert_int_equal(most_running_within("carol", 1500, 4), 4);

	/* the two others wait for a slot of the plan, not for the budget */
	q = corrald_call(&daemon_, "{\"op\":\"queue\",\"user\":\"carol\"}");
	assert_non_null(q);
	assert_int_equal(json_array_size(json_object_get(q, "queue")), 2);
	json_array_foreach (json_object_get(q, "queue"), i, e) {
		assert_int_equal(task_int(e, "id"), ids[4 + i]);
		assert_int_equal(task_int(e, "position"), (long long)i + 1);
		assert_string_equal(task_str(e, "pending_reason"), "concurrency_limit");
	}
	json_decref(q);
	for (i = 0; i < 6; i++) {
		json_t *t = must_wait(ids[i], 15000);

		assert_string_equal(task_str(t, "state"), "succeeded");
		json_decref(t);
	}
}

/* ---- 2. positions of a tenant with a budget ------------------------------ */

static void test_budget_tenant_positions_count_down_as_tasks_finish(void **state)
{
	int64_t ids[4];
	json_t *t;

	(void)state;
	require_root();
	start("[plan pro]\nmax_concurrent = 1\nmonthly_cpu_hours = 10\n[user carol]\nplan = pro\n");
	for (int i = 0; i < 4; i++)
		ids[i] = submit("\"user\":\"carol\",\"argv\":[\"/bin/sleep\",\"0.5\"]");
	json_decref(corrald_wait_state(&daemon_, ids[0], "running", 3000));
	for (int i = 1; i < 4; i++) {
		t = corrald_status(&daemon_, ids[i]);
		assert_non_null(t);
		assert_string_equal(task_str(t, "state"), "queued");
		assert_int_equal(task_int(t, "position"), i);
		assert_string_equal(task_str(t, "pending_reason"), "concurrency_limit");
		json_decref(t);
	}
	json_decref(must_wait(ids[0], 5000));
	json_decref(corrald_wait_state(&daemon_, ids[1], "running", 3000));
	for (int i = 2; i < 4; i++) {
		t = corrald_status(&daemon_, ids[i]);
		assert_string_equal(task_str(t, "state"), "queued");
		assert_int_equal(task_int(t, "position"), i - 1);
		json_decref(t);
	}
	for (int i = 1; i < 4; i++)
		json_decref(must_wait(ids[i], 10000));
}

/* ---- 3. small budgets, and 0 --------------------------------------------- */

static void test_budget_of_a_thousandth_of_an_hour_stops_a_burner(void **state)
{
	int64_t burner, next;
	json_t *t, *q;
	long long used;
	char month[8];

	(void)state;
	require_root();
	start("[plan tiny]\nmax_concurrent = 2\nmax_task_seconds = 1m\nmonthly_cpu_hours = 0.001\n"
	      "[user dave]\nplan = tiny\n");
	burner = submit("\"user\":\"dave\",\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]");
	t = must_wait(burner, 20000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "budget");
	/* it got the whole budget, overrun at most a poll interval at 1 CPU */
	assert_true(task_int(t, "cpu_us") >= BUDGET_0_001_H_US - 200000);
	assert_true(task_int(t, "cpu_us") <= BUDGET_0_001_H_US + 2 * POLL_US);
	fprintf(stderr, "burner: %lld µs of a %lld µs budget\n", task_int(t, "cpu_us"), BUDGET_0_001_H_US);
	used = corrald_usage_used(&daemon_, "dave", this_month(month));
	assert_int_equal(used, task_int(t, "cpu_us"));
	json_decref(t);

	/* less than a second left: used up, no position */
	next = submit("\"user\":\"dave\",\"argv\":[\"/bin/true\"]");
	sleep_ms(300);
	q = corrald_status(&daemon_, next);
	assert_string_equal(task_str(q, "state"), "queued");
	assert_string_equal(task_str(q, "pending_reason"), "budget_exhausted");
	assert_int_equal(task_int(q, "position"), 0);
	json_decref(q);
}

static void test_zero_budget_suspends_a_tenant_until_the_policy_changes(void **state)
{
	int64_t id, other;
	json_t *t, *r;

	(void)state;
	require_root();
	start("[plan pro]\nmax_concurrent = 4\nmonthly_cpu_hours = 0\n[user erin]\nplan = pro\n");
	/* a submit is accepted and waits, with the reason */
	id = submit("\"user\":\"erin\",\"argv\":[\"/bin/true\"]");
	other = submit("\"user\":\"frank\",\"argv\":[\"/bin/true\"]");
	t = must_wait(other, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "budget_exhausted");
	assert_non_null(strstr(task_str(t, "pending_message"), "suspended"));
	assert_int_equal(task_int(t, "position"), 0);
	json_decref(t);
	/* "start now or fail" fails with the budget as the reason */
	r = corrald_call(&daemon_,
			 "{\"op\":\"submit\",\"user\":\"erin\",\"no_queue\":true,\"argv\":[\"/bin/true\"]}");
	assert_string_equal(corrald_error_code(r), "budget_exhausted");
	assert_non_null(strstr(corrald_error_message(r), "suspended"));
	json_decref(r);

	/* the operator gives erin a budget: the waiting task runs */
	assert_int_equal(corrald_write_policy(&daemon_, SUPERVISOR_KEYS,
					      POLICY_BASE
					      "[plan pro]\nmax_concurrent = 4\nmonthly_cpu_hours = 0.5\n"
					      "[user erin]\nplan = pro\n"),
			 0);
	r = corrald_call(&daemon_, "{\"op\":\"policy_reload\"}");
	assert_null(corrald_error_code(r));
	json_decref(r);
	t = must_wait(id, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

/* ---- 1. the truth about a reserved budget --------------------------------- */

static void test_budget_held_by_running_tasks_is_reserved_not_exhausted(void **state)
{
	int64_t ids[3];
	json_t *t;

	(void)state;
	require_root();
	/* 36 s of budget; a 17.55 s task at 1 CPU reserves (17.55 + 0.2 grace)
	 * s: two fit, and the 0.5 s left is below the 1 s a start needs, so the
	 * third waits for their reservations (the sleeps are long enough that a
	 * loaded machine still sees the first two running) */
	start("[plan tiny]\nmax_concurrent = 4\nmonthly_cpu_hours = 0.01\n[user dave]\nplan = tiny\n");
	for (int i = 0; i < 3; i++)
		ids[i] = submit("\"user\":\"dave\",\"timeout_ms\":17550,\"argv\":[\"/bin/sleep\",\"4\"]");
	json_decref(corrald_wait_state(&daemon_, ids[1], "running", 3000));
	t = corrald_status(&daemon_, ids[2]);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "budget_reserved");
	assert_non_null(strstr(task_str(t, "pending_message"), "reserved by 2 running tasks"));
	assert_int_equal(task_int(t, "position"), 1);
	json_decref(t);
	/* sleeping costs next to nothing: the reservations come back */
	for (int i = 0; i < 3; i++) {
		t = must_wait(ids[i], 20000);
		assert_string_equal(task_str(t, "state"), "succeeded");
		json_decref(t);
	}
}

/* ---- 1. a plan with no bound at all --------------------------------------- */

static void test_unbounded_plan_splits_the_budget_between_its_slots(void **state)
{
	int64_t ids[2];
	json_t *t[2];
	long long total = 0;
	char month[8];

	(void)state;
	require_root();
	start("[plan open]\nmax_concurrent = 2\nmax_task_seconds = unlimited\nmonthly_cpu_hours = 0.001\n"
	      "[user gina]\nplan = open\n");
	for (int i = 0; i < 2; i++)
		ids[i] = submit("\"user\":\"gina\",\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]");
	assert_int_equal(most_running_within("gina", 1500, 2), 2);
	for (int i = 0; i < 2; i++) {
		t[i] = must_wait(ids[i], 20000);
		assert_string_equal(task_str(t[i], "state"), "failed");
		assert_string_equal(task_str(t[i], "reason"), "budget");
		/* each got half of the 3.6 s */
		assert_true(task_int(t[i], "cpu_us") >= BUDGET_0_001_H_US / 2 - 200000);
		total += task_int(t[i], "cpu_us");
	}
	fprintf(stderr, "two unbounded burners: %lld + %lld µs of a %lld µs budget\n",
		task_int(t[0], "cpu_us"), task_int(t[1], "cpu_us"), BUDGET_0_001_H_US);
	assert_true(total <= BUDGET_0_001_H_US + 2 * 2 * POLL_US);
	assert_int_equal(corrald_usage_used(&daemon_, "gina", this_month(month)), total);
	json_decref(t[0]);
	json_decref(t[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_budget_tenant_runs_max_concurrent_tasks_at_once, teardown),
		cmocka_unit_test_teardown(test_budget_tenant_positions_count_down_as_tasks_finish, teardown),
		cmocka_unit_test_teardown(test_budget_of_a_thousandth_of_an_hour_stops_a_burner, teardown),
		cmocka_unit_test_teardown(test_zero_budget_suspends_a_tenant_until_the_policy_changes,
					  teardown),
		cmocka_unit_test_teardown(test_budget_held_by_running_tasks_is_reserved_not_exhausted,
					  teardown),
		cmocka_unit_test_teardown(test_unbounded_plan_splits_the_budget_between_its_slots, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
