/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_budget_attack.c — a hostile tenant against the
 * monthly CPU budget and max_concurrent of a real corrald (root): many
 * short multi-threaded burners, tasks that end between two CPU checks,
 * kill -9 of corrald in the middle, a task crossing a month boundary,
 * cancel races (a reservation must come back), submits at the limits'
 * edges, --no-queue, and operators' adjustments at their extremes.
 *
 * Every test checks the two invariants the accounting promises:
 *   - the CPU charged to the tenant (usage's cpu_used_us, summed over the
 *     months the tasks ran in) is exactly the sum of the tasks' cgroup CPU
 *     (each task's cpu_us);
 *   - the budget is overrun by at most what the running tasks burn between
 *     two CPU checks (poll_interval x their CPUs; the tests allow twice
 *     that, for a loaded machine).
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

/* Its own host uids, so other integration tests running at the same time
 * on this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200800-4200863\n" \
	"max_running = 8\n"
#define POLICY_ACCESS "[access]\noperators = root\n"
#define POLL_US 100000LL
#define SEC_US 1000000LL
#define HOUR_US 3600000000LL
#define BURN1 "\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]"
#define BURN2 "\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done & while :; do :; done\"]"

static struct corrald daemon_;

static void start_at(const char *policy, double offset)
{
	int r = corrald_start(&daemon_, SUPERVISOR_KEYS, policy, offset);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static void start(const char *policy)
{
	start_at(policy, 0);
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

static const char *month_of(time_t when, char out[8])
{
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(out, 8, "%Y-%m", &tm);
	return out;
}

/* The month corrald sees now (its clock is shifted by the offset). */
static const char *daemon_month_now(char out[8])
{
	return month_of(time(NULL) + (time_t)daemon_.clock_offset_s, out);
}

/* The response to a request (a new reference; must answer). */
static json_t *call(const char *line)
{
	json_t *r = corrald_call(&daemon_, "%s", line);

	if (!r)
		fail_msg("no answer to %s\n%s", line, corrald_log_tail(&daemon_));
	return r;
}

/* The error code of a request's answer ("" when ok). */
static const char *error_of(json_t *r)
{
	const char *code = corrald_error_code(r);

	return code ? code : "";
}

/* Sum of cpu_us of user's tasks (all of them, every state), and how many
 * are still queued / running. */
static long long tasks_cpu(const char *user, size_t *queued, size_t *running)
{
	json_t *list = corrald_list(&daemon_, user), *t;
	long long sum = 0;
	size_t i;

	assert_non_null(list);
	if (queued)
		*queued = 0;
	if (running)
		*running = 0;
	json_array_foreach (list, i, t) {
		if (task_int(t, "cpu_us") > 0)
			sum += task_int(t, "cpu_us");
		if (queued && strcmp(task_str(t, "state"), "queued") == 0)
			(*queued)++;
		if (running && strcmp(task_str(t, "state"), "running") == 0)
			(*running)++;
	}
	json_decref(list);
	return sum;
}

/* Cancel every queued task of user (cleanup at the end of a test). */
static void cancel_queued(const char *user)
{
	json_t *list = corrald_list(&daemon_, user), *t;
	size_t i;

	assert_non_null(list);
	json_array_foreach (list, i, t) {
		if (strcmp(task_str(t, "state"), "queued") == 0)
			json_decref(
				corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", task_int(t, "id")));
	}
	json_decref(list);
}

/* Wait until none of user's tasks is running (ms at most); the most seen
 * running at once meanwhile. */
static size_t wait_none_running(const char *user, unsigned ms)
{
	size_t most = 0, running = 0;

	for (unsigned waited = 0; waited < ms; waited += 50) {
		tasks_cpu(user, NULL, &running);
		if (running > most)
			most = running;
		if (running == 0)
			return most;
		test_sleep_ms(50);
	}
	fail_msg("%s still has %zu running tasks after %u ms\n%s", user, running, ms,
		 corrald_log_tail(&daemon_));
	return most;
}

/* ---- overrun with many multi-threaded burners ----------------------------- */

/* 16 two-thread burners, each asking 1 s of CPU, max_concurrent 4, a
 * 3.6 s budget: at most 3 start (3 x 1 s reserved, 0.6 s left is less than
 * the 1 s a start needs), the rest wait; the overrun is within 4 tasks x 2
 * CPUs x a poll interval, and what is charged is exactly the tasks' CPU. */
static void test_many_two_cpu_burners_overrun_at_most_the_bound(void **state)
{
	int64_t ids[16];
	long long used, cpu, budget = HOUR_US / 1000;
	size_t queued, most;
	char month[8];

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan tiny]\nmax_concurrent = 4\ncpus = 2\nmax_task_seconds = 30s\n"
			    "monthly_cpu_hours = 0.001\n[user mallory]\nplan = tiny\n");
	for (int i = 0; i < 16; i++)
		ids[i] = submit("\"user\":\"mallory\",\"cpu_limit_ms\":1000," BURN2);
	test_sleep_ms(500);
	most = wait_none_running("mallory", 30000);
	assert_true(most <= 4);
	cpu = tasks_cpu("mallory", &queued, NULL);
	used = corrald_usage_used(&daemon_, "mallory", daemon_month_now(month));
	fprintf(stderr,
		"16 burners x 2 CPUs: %lld us charged, %lld us of tasks, budget %lld, %zu left queued\n",
		used, cpu, budget, queued);
	assert_int_equal(used, cpu);
	assert_true(used <= budget + 2 * (4 * 2 * POLL_US));
	/* what is left (less than the 1 s a start needs) starts nothing */
	assert_true(queued >= 12);
	{
		json_t *t = corrald_status(&daemon_, ids[15]);

		assert_string_equal(task_str(t, "state"), "queued");
		assert_string_equal(task_str(t, "pending_reason"), "budget_exhausted");
		json_decref(t);
	}
	cancel_queued("mallory");
}

/* 40 tasks that burn a little and exit before the next CPU check (most of
 * their CPU is charged only by their end): every microsecond is charged. */
static void test_tasks_ending_between_checks_are_charged_exactly(void **state)
{
	long long used, cpu;
	size_t queued;
	char month[8];

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan p]\nmax_concurrent = 4\ncpus = 2\nmax_task_seconds = 30s\n"
			    "monthly_cpu_hours = 0.01\n[user mallory]\nplan = p\n");
	for (int i = 0; i < 40; i++)
		submit("\"user\":\"mallory\",\"cpu_limit_ms\":1000,\"argv\":[\"/bin/sh\",\"-c\","
		       "\"i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done & i=0; while [ $i -lt 3000 ]; do "
		       "i=$((i+1)); done; wait\"]");
	for (unsigned waited = 0; waited < 60000; waited += 100) {
		size_t running;

		tasks_cpu("mallory", &queued, &running);
		if (!queued && !running)
			break;
		test_sleep_ms(100);
	}
	cpu = tasks_cpu("mallory", &queued, NULL);
	assert_int_equal(queued, 0);
	used = corrald_usage_used(&daemon_, "mallory", daemon_month_now(month));
	fprintf(stderr, "40 short tasks: %lld us charged, %lld us of tasks\n", used, cpu);
	assert_true(cpu > 0);
	assert_int_equal(used, cpu);
}

/* ---- kill -9 of corrald in the middle ------------------------------------- */

/* Burners run, corrald dies (kill -9), stays down ~1 s, comes back and
 * adopts them: the cursor charges nothing twice and nothing is lost; the
 * budget is overrun by at most the bound plus what the host's CPUs could
 * burn while nobody watched. */
static void test_kill9_in_the_middle_charges_every_microsecond_once(void **state)
{
	int64_t ids[6];
	long long used, cpu, budget = 2 * HOUR_US / 1000; /* 7.2 s */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t queued;
	char month[8];
	double down;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan tiny]\nmax_concurrent = 3\ncpus = 2\nmax_task_seconds = 30s\n"
			    "monthly_cpu_hours = 0.002\n[user mallory]\nplan = tiny\n");
	for (int i = 0; i < 6; i++)
		ids[i] = submit("\"user\":\"mallory\",\"cpu_limit_ms\":2000," BURN2);
	json_decref(corrald_wait_state(&daemon_, ids[0], "running", 5000));
	test_sleep_ms(700);
	down = test_mono_s();
	corrald_kill9(&daemon_);
	test_sleep_ms(1000);
	if (corrald_spawn(&daemon_, daemon_.clock_offset_s) < 0)
		fail_msg("corrald did not come back\n%s", corrald_log_tail(&daemon_));
	down = test_mono_s() - down;
	wait_none_running("mallory", 40000);
	cpu = tasks_cpu("mallory", &queued, NULL);
	used = corrald_usage_used(&daemon_, "mallory", daemon_month_now(month));
	fprintf(stderr, "kill -9 for %.1f s: %lld us charged, %lld us of tasks, budget %lld, %zu queued\n",
		down, used, cpu, budget, queued);
	assert_int_equal(used, cpu);
	assert_true(used <=
		    budget + 2 * (3 * 2 * POLL_US) + (long long)(down * (ncpu > 0 ? ncpu : 1) * SEC_US));
	cancel_queued("mallory");
}

/* ---- a month boundary ----------------------------------------------------- */

/* A burner starts 2 s before midnight UTC on the last day of a month and
 * runs into the next: what it burned is charged to the two months, the sum
 * exactly its CPU, and neither month's budget is overrun. */
static void test_task_across_a_month_boundary_is_charged_once(void **state)
{
	int64_t id;
	json_t *t;
	long long jan, feb, cpu, budget = HOUR_US / 1000;

	(void)state;
	require_root();
	start_at(POLICY_ACCESS "[plan tiny]\nmax_concurrent = 2\nmax_task_seconds = 30s\n"
			       "monthly_cpu_hours = 0.001\n[user mallory]\nplan = tiny\n",
		 test_offset_to(2031, 1, 31, 23, 59, 58));
	id = submit("\"user\":\"mallory\",\"cpu_limit_ms\":3000," BURN1);
	t = must_wait(id, 30000);
	cpu = task_int(t, "cpu_us");
	json_decref(t);
	jan = corrald_usage_used(&daemon_, "mallory", "2031-01");
	feb = corrald_usage_used(&daemon_, "mallory", "2031-02");
	if (jan < 0)
		jan = 0;
	if (feb < 0)
		feb = 0;
	fprintf(stderr, "across midnight: %lld us in 2031-01 + %lld us in 2031-02 = %lld us of the task\n",
		jan, feb, cpu);
	assert_int_equal(jan + feb, cpu);
	assert_true(jan <= budget + 2 * POLL_US);
	/* February is fresh: another task starts and its CPU goes there */
	id = submit("\"user\":\"mallory\",\"cpu_limit_ms\":1000," BURN1);
	t = must_wait(id, 20000);
	assert_int_equal(corrald_usage_used(&daemon_, "mallory", "2031-02"), feb + task_int(t, "cpu_us"));
	assert_true(feb + task_int(t, "cpu_us") <= budget + 2 * POLL_US);
	json_decref(t);
}

/* ---- cancel races: reservations come back --------------------------------- */

/* 12 burners (8 s of CPU each) cancelled at once, a few ms apart, some
 * while their jails are still being set up: everything they burned is
 * charged, and the 4 x 8 s they reserved all come back — a task asking 30 s
 * of a 36 s budget then starts (a reservation leaked would hold it as
 * budget_reserved for ever). */
static void test_cancelled_tasks_return_their_reservations(void **state)
{
	int64_t ids[12], big;
	long long used, cpu;
	json_t *t;
	char month[8];

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan p]\nmax_concurrent = 4\nmax_task_seconds = 30s\n"
			    "monthly_cpu_hours = 0.01\n[user mallory]\nplan = p\n");
	for (int i = 0; i < 12; i++)
		ids[i] = submit("\"user\":\"mallory\",\"cpu_limit_ms\":8000," BURN1);
	for (int i = 0; i < 12; i++) {
		json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)ids[i]));
		test_sleep_ms((unsigned)(i % 4) * 7);
	}
	for (int i = 0; i < 12; i++) {
		t = must_wait(ids[i], 20000);
		assert_string_equal(task_str(t, "state"), "cancelled");
		json_decref(t);
	}
	wait_none_running("mallory", 10000);
	cpu = tasks_cpu("mallory", NULL, NULL);
	used = corrald_usage_used(&daemon_, "mallory", daemon_month_now(month));
	assert_true(used < 6 * SEC_US);
	assert_int_equal(used, cpu);
	big = submit("\"user\":\"mallory\",\"cpu_limit_ms\":30000,\"argv\":[\"/bin/true\"]");
	t = must_wait(big, 10000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

/* ---- submits at the edges -------------------------------------------------- */

static void test_limits_at_their_edges_are_refused_or_enforced(void **state)
{
	static const struct {
		const char *fields, *code;
	} refused[] = {
		{ "\"cpu_limit_ms\":0", "bad_request" },
		{ "\"cpu_limit_ms\":-1", "bad_request" },
		{ "\"cpu_limit_ms\":1.5", "bad_request" },
		{ "\"cpu_limit_ms\":1e999", "bad_request" },
		{ "\"cpu_limit_ms\":\"1h\"", "bad_request" },
		{ "\"cpu_limit_ms\":2305843009213693952", "bad_request" }, /* x 1000 wraps to 0 */
		{ "\"cpu_limit_ms\":18446744073709551615", "bad_request" },
		{ "\"cpu_limit_ms\":20001", "limit_exceeded" }, /* the plan's 20 s */
		{ "\"timeout_ms\":0", "bad_request" },
		{ "\"timeout_ms\":-5", "bad_request" },
		{ "\"timeout_ms\":30001", "limit_exceeded" }, /* the plan's 30 s */
		{ "\"timeout_ms\":9223372036854775807", "bad_request" },
	};
	json_t *r, *t;
	int64_t id;
	char month[8];

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan p]\nmax_concurrent = 2\nmax_task_seconds = 30s\nmax_cpu_seconds = 20s\n"
			    "monthly_cpu_hours = 0.01\n[user mallory]\nplan = p\n");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char line[512];

		snprintf(line, sizeof(line),
			 "{\"op\":\"submit\",\"user\":\"mallory\",%s,\"argv\":[\"/bin/true\"]}",
			 refused[i].fields);
		r = call(line);
		if (strcmp(error_of(r), refused[i].code) != 0)
			fail_msg("%s: got '%s' (%s), wanted %s", refused[i].fields, error_of(r),
				 corrald_error_message(r) ? corrald_error_message(r) : "ok", refused[i].code);
		json_decref(r);
	}
	/* 1 ms of CPU: killed at its limit, charged what it burned (a CPU
	 * check's worth at most), and charged exactly */
	id = submit("\"user\":\"mallory\",\"cpu_limit_ms\":1," BURN1);
	t = must_wait(id, 10000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "cpu_limit");
	assert_true(task_int(t, "cpu_us") <= 2 * POLL_US);
	assert_int_equal(corrald_usage_used(&daemon_, "mallory", daemon_month_now(month)),
			 task_int(t, "cpu_us"));
	json_decref(t);
	/* 1 ms of wall-clock time */
	id = submit("\"user\":\"mallory\",\"timeout_ms\":1," BURN1);
	t = must_wait(id, 10000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "timeout");
	json_decref(t);
	assert_int_equal(corrald_usage_used(&daemon_, "mallory", daemon_month_now(month)),
			 tasks_cpu("mallory", NULL, NULL));
}

/* ---- --no-queue ----------------------------------------------------------- */

/* "start now or fail" never starts what the queue would hold back: at
 * max_concurrent, with the budget held by running tasks, with it used up,
 * or suspended; and a no_queue task never makes a tenant run more than
 * max_concurrent. */
static void test_no_queue_refuses_what_the_queue_would_hold(void **state)
{
	int64_t a, b, ids[3];
	json_t *r;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan p]\nmax_concurrent = 3\nmax_task_seconds = 30s\n"
			    "monthly_cpu_hours = 0.01\n[plan off]\nmonthly_cpu_hours = 0\n"
			    "[user mallory]\nplan = p\n[user sus]\nplan = off\n");
	/* 3 x 5.2 s reserved of 36 s: a fourth would fit the budget, not the plan */
	for (int i = 0; i < 3; i++)
		ids[i] = submit("\"user\":\"mallory\",\"timeout_ms\":5000,\"argv\":[\"/bin/sleep\",\"3\"]");
	for (int i = 0; i < 3; i++)
		json_decref(corrald_wait_state(&daemon_, ids[i], "running", 5000));
	r = call("{\"op\":\"submit\",\"user\":\"mallory\",\"no_queue\":true,\"argv\":[\"/bin/true\"]}");
	assert_string_equal(error_of(r), "concurrency_limit");
	json_decref(r);
	for (int i = 0; i < 3; i++)
		json_decref(must_wait(ids[i], 10000));

	/* the budget held: two tasks reserve 2 x 17.6 s of 36 s, a third fits
	 * the plan but not the 0.8 s left (a start needs 1 s) */
	a = submit("\"user\":\"mallory\",\"cpu_limit_ms\":17600,\"argv\":[\"/bin/sleep\",\"3\"]");
	b = submit("\"user\":\"mallory\",\"cpu_limit_ms\":17600,\"argv\":[\"/bin/sleep\",\"3\"]");
	json_decref(corrald_wait_state(&daemon_, b, "running", 5000));
	json_decref(corrald_wait_state(&daemon_, a, "running", 5000));
	r = call("{\"op\":\"submit\",\"user\":\"mallory\",\"no_queue\":true,\"cpu_limit_ms\":3000,"
		 "\"argv\":[\"/bin/true\"]}");
	assert_string_equal(error_of(r), "budget_reserved");
	json_decref(r);
	json_decref(must_wait(a, 10000));
	json_decref(must_wait(b, 10000));

	r = call("{\"op\":\"submit\",\"user\":\"sus\",\"no_queue\":true,\"argv\":[\"/bin/true\"]}");
	assert_string_equal(error_of(r), "budget_exhausted");
	json_decref(r);
}

/* ---- operators' adjustments at their extremes ----------------------------- */

/* Adjustments are capped at 10^6 hours each, but nothing capped their sum:
 * a few thousand of them took the month's SUM(delta_us) past int64, and
 * from then on the store could not add them up — `usage` failed and the
 * scheduler kept a stale mirror of the tenant's month.  The month's total
 * must stay summable: an adjustment that would take it past 10^6 hours
 * either way is refused, and usage keeps working. */
static void test_adjustments_cannot_overflow_the_months_sum(void **state)
{
	json_t *r;
	int refused = 0, n;
	char line[256];

	(void)state;
	require_root();
	start(POLICY_ACCESS
	      "[plan p]\nmax_concurrent = 2\nmonthly_cpu_hours = 1\n[user mallory]\nplan = p\n");
	snprintf(line, sizeof(line),
		 "{\"op\":\"usage_adjust\",\"user\":\"mallory\",\"delta_us\":%lld,\"reason\":\"x\"}",
		 1000000LL * 3600 * 1000000);
	for (n = 0; n < 2600 && !refused; n++) {
		r = call(line);
		if (corrald_error_code(r)) {
			if (strcmp(error_of(r), "bad_request") != 0)
				fail_msg("adjustment %d: %s: %s", n + 1, error_of(r),
					 corrald_error_message(r));
			refused = 1;
		}
		json_decref(r);
	}
	fprintf(stderr, "%d grants of 10^6 h before one was refused\n", n);
	assert_true(refused);
	r = call("{\"op\":\"usage\",\"user\":\"mallory\"}");
	if (corrald_error_code(r))
		fail_msg("usage after many grants: %s: %s", error_of(r), corrald_error_message(r));
	json_decref(r);
	/* and a task still starts with the budget granted */
	json_decref(must_wait(submit("\"user\":\"mallory\",\"argv\":[\"/bin/true\"]"), 10000));

	/* taking back: the same */
	snprintf(line, sizeof(line),
		 "{\"op\":\"usage_adjust\",\"user\":\"mallory\",\"delta_us\":%lld,\"reason\":\"x\"}",
		 -1000000LL * 3600 * 1000000);
	refused = 0;
	for (n = 0; n < 5200 && !refused; n++) {
		r = call(line);
		if (corrald_error_code(r)) {
			if (strcmp(error_of(r), "bad_request") != 0)
				fail_msg("adjustment %d: %s: %s", n + 1, error_of(r),
					 corrald_error_message(r));
			refused = 1;
		}
		json_decref(r);
	}
	assert_true(refused);
	r = call("{\"op\":\"usage\",\"user\":\"mallory\"}");
	if (corrald_error_code(r))
		fail_msg("usage after many take-backs: %s: %s", error_of(r), corrald_error_message(r));
	json_decref(r);
	/* set_left works from any sum */
	r = call("{\"op\":\"usage_adjust\",\"user\":\"mallory\",\"set_left_us\":5000000,\"reason\":\"x\"}");
	assert_string_equal(error_of(r), "");
	assert_int_equal(task_int(json_object_get(r, "usage"), "cpu_budget_us") -
				 task_int(json_object_get(r, "usage"), "cpu_used_us"),
			 5000000);
	json_decref(r);
}

/* A tenant (not an operator) can neither adjust nor act for another tenant
 * (its CPU would be charged to someone else). */
static void test_a_tenant_cannot_adjust_or_charge_another(void **state)
{
	const char *lines[] = {
		"{\"op\":\"usage_adjust\",\"user\":\"" CORRALD_TEST_OTHER_TENANT "\",\"delta_us\":3600000000,"
		"\"reason\":\"mine\"}",
		"{\"op\":\"usage_adjust\",\"user\":\"" CORRALD_TEST_OTHER_TENANT
		"\",\"set_left_us\":3600000000,"
		"\"reason\":\"mine\"}",
		"{\"op\":\"submit\",\"user\":\"victim\",\"argv\":[\"/bin/true\"]}",
		"{\"op\":\"submit\",\"user\":\"victim\",\"no_queue\":true,\"argv\":[\"/bin/true\"]}",
	};
	json_t *out[4] = { NULL };

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan p]\nmax_concurrent = 2\nmonthly_cpu_hours = 0\n[default]\nplan = p\n"
			    "[user victim]\nplan = p\n");
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 4,
					  out),
			 0);
	for (int i = 0; i < 4; i++) {
		assert_non_null(out[i]);
		assert_string_equal(error_of(out[i]), "forbidden");
		json_decref(out[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_many_two_cpu_burners_overrun_at_most_the_bound, teardown),
		cmocka_unit_test_teardown(test_tasks_ending_between_checks_are_charged_exactly, teardown),
		cmocka_unit_test_teardown(test_kill9_in_the_middle_charges_every_microsecond_once, teardown),
		cmocka_unit_test_teardown(test_task_across_a_month_boundary_is_charged_once, teardown),
		cmocka_unit_test_teardown(test_cancelled_tasks_return_their_reservations, teardown),
		cmocka_unit_test_teardown(test_limits_at_their_edges_are_refused_or_enforced, teardown),
		cmocka_unit_test_teardown(test_no_queue_refuses_what_the_queue_would_hold, teardown),
		cmocka_unit_test_teardown(test_adjustments_cannot_overflow_the_months_sum, teardown),
		cmocka_unit_test_teardown(test_a_tenant_cannot_adjust_or_charge_another, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
