/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_adjust.c — operators adjust a tenant's month
 * (issue 10 part 5, `corral usage adjust`) against a real corrald (root): a
 * tenant at its budget gets nothing started until an operator grants CPU
 * time, --set-left leaves exactly what was asked, only operators may
 * adjust, a tenant without a plan is unknown_user, the charged usage never
 * moves, and the adjustment rows show in `usage` (API and `corral usage`).
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
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200600-4200663\n" \
	"max_running = 8\n"
#define POLICY_ACCESS "[access]\noperators = root\n"
#define HOUR_US 3600000000LL

static struct corrald daemon_;

static void start(const char *policy)
{
	int r = corrald_start(&daemon_, SUPERVISOR_KEYS, policy, 0);

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

/* An ok response to a usage_adjust request with these fields. */
static json_t *adjust(const char *fields)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"usage_adjust\",%s}", fields);

	assert_non_null(r);
	if (corrald_error_code(r))
		fail_msg("usage_adjust {%s}: %s: %s", fields, corrald_error_code(r),
			 corrald_error_message(r));
	return r;
}

/* user's USAGE object this month (a new reference). */
static json_t *usage_of(const char *user)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"usage\",\"user\":\"%s\"}", user), *u;

	assert_non_null(r);
	assert_null(corrald_error_code(r));
	u = json_array_get(json_object_get(r, "usage"), 0);
	assert_non_null(u);
	json_incref(u);
	json_decref(r);
	return u;
}

static void test_grant_lets_a_tenant_at_its_budget_start_a_waiting_task(void **state)
{
	int64_t id;
	json_t *t, *r, *u;
	long long used_before;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan off]\nmax_concurrent = 2\nmonthly_cpu_hours = 0\n"
			    "[user erin]\nplan = off\n");
	id = submit("\"user\":\"erin\",\"argv\":[\"/bin/true\"]");
	sleep_ms(400);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "budget_exhausted");
	json_decref(t);
	used_before = task_int(u = usage_of("erin"), "cpu_used_us");
	json_decref(u);

	r = adjust("\"user\":\"erin\",\"delta_us\":10000000,\"reason\":\"trial #7\"");
	assert_int_equal(task_int(json_object_get(r, "adjustment"), "delta_us"), 10000000);
	assert_string_equal(task_str(json_object_get(r, "adjustment"), "by"), "root");
	assert_int_equal(task_int(json_object_get(r, "usage"), "cpu_budget_us"), 10000000);
	json_decref(r);

	t = must_wait(id, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	u = usage_of("erin");
	/* charged CPU is what the task used, nothing of the grant */
	assert_true(task_int(u, "cpu_used_us") >= used_before);
	assert_true(task_int(u, "cpu_used_us") < 1000000);
	assert_int_equal(task_int(u, "cpu_adjust_us"), 10000000);
	assert_int_equal(task_int(u, "cpu_budget_us"), 10000000);
	assert_int_equal(task_int(u, "cpu_left_us"), 10000000 - task_int(u, "cpu_used_us"));
	json_decref(u);

	/* taken back: nothing starts again */
	json_decref(adjust("\"user\":\"erin\",\"delta_us\":-10000000,\"reason\":\"trial over\""));
	id = submit("\"user\":\"erin\",\"argv\":[\"/bin/true\"]");
	sleep_ms(400);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "budget_exhausted");
	json_decref(t);
}

static void test_set_left_leaves_exactly_that_and_charges_nothing(void **state)
{
	json_t *t, *r, *u;
	long long used;
	int64_t id;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan pro]\nmax_concurrent = 2\nmonthly_cpu_hours = 1\n"
			    "[user alice]\nplan = pro\n");
	t = must_wait(
		submit("\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\",\"i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\"]"),
		10000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	used = task_int(u = usage_of("alice"), "cpu_used_us");
	json_decref(u);
	assert_true(used > 0);

	/* "set a user to 0.1 hours remaining" */
	r = adjust("\"user\":\"alice\",\"set_left_us\":360000000,\"reason\":\"set to 0.1 h\"");
	assert_int_equal(task_int(json_object_get(r, "adjustment"), "delta_us"),
			 used + 360000000LL - HOUR_US);
	json_decref(r);
	u = usage_of("alice");
	assert_int_equal(task_int(u, "cpu_left_us"), 360000000);
	assert_int_equal(task_int(u, "cpu_used_us"), used); /* never rewritten */
	assert_int_equal(task_int(u, "cpu_budget_us"), used + 360000000LL);
	json_decref(u);
	r = usage_of("alice");
	assert_int_equal(corrald_usage_used(&daemon_, "alice", task_str(r, "month")), used);
	json_decref(r);

	/* left 0: a new task waits for the budget */
	json_decref(adjust("\"user\":\"alice\",\"set_left_us\":0,\"reason\":\"stop for now\""));
	u = usage_of("alice");
	assert_int_equal(task_int(u, "cpu_left_us"), 0);
	assert_int_equal(json_array_size(json_object_get(u, "adjustments")), 2);
	json_decref(u);
	id = submit("\"user\":\"alice\",\"argv\":[\"/bin/true\"]");
	sleep_ms(400);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "budget_exhausted");
	json_decref(t);
}

static void test_only_operators_may_adjust_and_nothing_is_stored(void **state)
{
	const char *lines[2];
	json_t *out[2], *u;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan pro]\nmax_concurrent = 2\nmonthly_cpu_hours = 1\n"
			    "[default]\nplan = pro\n");
	lines[0] = "{\"op\":\"usage_adjust\",\"user\":\"alice\",\"delta_us\":3600000000,\"reason\":\"me\"}";
	lines[1] = "{\"op\":\"usage_adjust\",\"user\":\"" CORRALD_TEST_OTHER_TENANT "\","
		   "\"delta_us\":3600000000,\"reason\":\"myself\"}";
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 2,
					  out),
			 0);
	for (int i = 0; i < 2; i++) {
		assert_non_null(out[i]);
		assert_string_equal(corrald_error_code(out[i]), "forbidden");
		assert_non_null(strstr(corrald_error_message(out[i]), "only operators"));
		json_decref(out[i]);
	}
	u = usage_of(CORRALD_TEST_OTHER_TENANT);
	assert_int_equal(task_int(u, "cpu_adjust_us"), 0);
	assert_int_equal(task_int(u, "cpu_budget_us"), HOUR_US);
	assert_int_equal(json_array_size(json_object_get(u, "adjustments")), 0);
	json_decref(u);
}

static void test_tenant_without_a_plan_is_unknown_user_and_bad_values_are_refused(void **state)
{
	json_t *r;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan pro]\nmax_concurrent = 2\nmonthly_cpu_hours = 1\n"
			    "[user alice]\nplan = pro\n[plan all]\n[user root]\nplan = all\n");
	r = corrald_call(&daemon_,
			 "{\"op\":\"usage_adjust\",\"user\":\"nobody\",\"delta_us\":5,\"reason\":\"x\"}");
	assert_string_equal(corrald_error_code(r), "unknown_user");
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"usage_adjust\",\"user\":\"alice\",\"delta_us\":5}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	json_decref(r);
	r = corrald_call(&daemon_,
			 "{\"op\":\"usage_adjust\",\"user\":\"alice\",\"delta_us\":3600000000000001,"
			 "\"reason\":\"absurd\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	json_decref(r);
	/* an unlimited budget has no "left" to set */
	r = corrald_call(&daemon_,
			 "{\"op\":\"usage_adjust\",\"user\":\"root\",\"set_left_us\":5,\"reason\":\"x\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	assert_non_null(strstr(corrald_error_message(r), "unlimited"));
	json_decref(r);
}

/* `corral usage adjust` and `corral usage` as an operator types them. */
static void test_the_adjustment_shows_in_corral_usage(void **state)
{
	char cmd[512], out[4096] = "";
	json_t *u, *row;
	size_t n;
	FILE *p;

	(void)state;
	require_root();
	start(POLICY_ACCESS "[plan pro]\nmax_concurrent = 2\nmonthly_cpu_hours = 1\n"
			    "[user alice]\nplan = pro\n");
	snprintf(cmd, sizeof(cmd),
		 "%s --socket %s usage adjust alice --add 1h --reason 'refund #123' 2>&1 && "
		 "%s --socket %s usage --user alice 2>&1",
		 test_build_path("corral"), daemon_.socket, test_build_path("corral"), daemon_.socket);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, "alice"));
	assert_non_null(strstr(out, "+1.00h (refund #123)"));
	assert_non_null(strstr(out, "ADJUSTED"));
	assert_non_null(strstr(out, "2.00h")); /* the budget: 1 h + 1 h */

	u = usage_of("alice");
	assert_int_equal(task_int(u, "cpu_adjust_us"), HOUR_US);
	assert_int_equal(task_int(u, "cpu_used_us"), 0);
	assert_int_equal(json_array_size(json_object_get(u, "adjustments")), 1);
	row = json_array_get(json_object_get(u, "adjustments"), 0);
	assert_int_equal(task_int(row, "delta_us"), HOUR_US);
	assert_string_equal(task_str(row, "reason"), "refund #123");
	assert_string_equal(task_str(row, "by"), "root");
	assert_int_equal(task_int(row, "by_uid"), 0);
	assert_true(task_int(row, "at_us") > 0);
	json_decref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_grant_lets_a_tenant_at_its_budget_start_a_waiting_task,
					  teardown),
		cmocka_unit_test_teardown(test_set_left_leaves_exactly_that_and_charges_nothing, teardown),
		cmocka_unit_test_teardown(test_only_operators_may_adjust_and_nothing_is_stored, teardown),
		cmocka_unit_test_teardown(
			test_tenant_without_a_plan_is_unknown_user_and_bad_values_are_refused, teardown),
		cmocka_unit_test_teardown(test_the_adjustment_shows_in_corral_usage, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
