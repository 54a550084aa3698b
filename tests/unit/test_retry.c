/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_retry.c — the pure retry rules (supervisor/sched/retry.h):
 * host vs task start failures, the requeue decision, the backoff.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "supervisor/sched/retry.h"

static void test_host_steps_are_the_hosts(void **state)
{
	static const char *const host[] = { "cgroup_create",  "cgroup_attach", "cgroup_mkdir",    "clone3",
					    "user namespace", "mount",         "pivot_root",      "netlink",
					    "corral-init",    "setup",         "spawn",           "open",
					    "bind",           "clone",         "exec corral-init" };

	(void)state;
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		assert_true(retry_spawn_failure_is_host(host[i], EPERM));
	assert_true(retry_spawn_failure_is_host(NULL, 0));
}

static void test_task_steps_are_the_tasks_unless_the_host_ran_out(void **state)
{
	(void)state;
	assert_false(retry_spawn_failure_is_host("execve", ENOENT));
	assert_false(retry_spawn_failure_is_host("execve", EACCES));
	assert_false(retry_spawn_failure_is_host("chdir", ENOENT));
	assert_false(retry_spawn_failure_is_host("spec", EINVAL));
	assert_false(retry_spawn_failure_is_host("policy", ENOENT));
	assert_false(retry_spawn_failure_is_host("seccomp_compile", EINVAL));
	assert_true(retry_spawn_failure_is_host("execve", ENOMEM));
	assert_true(retry_spawn_failure_is_host("execve", EAGAIN));
	assert_true(retry_spawn_failure_is_host("chdir", EIO));
}

static void test_never_started_host_fault_is_requeued_up_to_max_attempts(void **state)
{
	struct retry_case c = { .host_fault = true, .attempts = 1, .max_attempts = 3 };

	(void)state;
	assert_true(retry_should_requeue(&c));
	c.attempts = 2;
	assert_true(retry_should_requeue(&c));
	c.attempts = 3;
	assert_false(retry_should_requeue(&c));
	c.attempts = 1;
	c.max_attempts = 1;
	assert_false(retry_should_requeue(&c));
	c.max_attempts = 0; /* read as 1 */
	assert_false(retry_should_requeue(&c));
}

static void test_task_fault_and_cancel_are_never_requeued(void **state)
{
	struct retry_case c = { .host_fault = false, .attempts = 1, .max_attempts = 3 };

	(void)state;
	assert_false(retry_should_requeue(&c));
	c.host_fault = true;
	c.cancel_requested = true;
	assert_false(retry_should_requeue(&c));
}

static void test_started_task_is_requeued_only_with_retry_lost(void **state)
{
	struct retry_case c = {
		.command_started = true, .host_fault = true, .attempts = 1, .max_attempts = 3
	};

	(void)state;
	assert_false(retry_should_requeue(&c));
	c.retry_lost = true;
	assert_true(retry_should_requeue(&c));
	c.attempts = 3;
	assert_false(retry_should_requeue(&c));
}

static void test_store_fault_is_requeued_whatever_the_attempts_unless_cancelled(void **state)
{
	struct retry_case c = { .store_fault = true, .host_fault = true, .attempts = 1, .max_attempts = 1 };

	(void)state;
	assert_true(retry_should_requeue(&c));
	c.attempts = 7;
	assert_true(retry_should_requeue(&c));
	c.cancel_requested = true;
	assert_false(retry_should_requeue(&c));
	c.cancel_requested = false;
	c.command_started = true; /* the store failed after the command ran: the plan decides */
	assert_false(retry_should_requeue(&c));
	c.retry_lost = true;
	c.attempts = 1;
	c.max_attempts = 2;
	assert_true(retry_should_requeue(&c));
}

/* A store that keeps failing a start (its attempt given back each time) is
 * retried ever more slowly, not every second for ever. */
static void test_store_fault_backoff_grows_with_the_store_faults(void **state)
{
	struct retry_case c = { .store_fault = true, .attempts = 1 };

	(void)state;
	assert_int_equal(retry_case_backoff_us(&c), 1000000u);
	c.store_faults = 4;
	assert_int_equal(retry_case_backoff_us(&c), 5000000u);
	c.store_faults = UINT32_MAX;
	assert_int_equal(retry_case_backoff_us(&c), RETRY_BACKOFF_MAX_US);
	/* not a store fault: the attempts alone */
	c.store_fault = false;
	c.attempts = 2;
	assert_int_equal(retry_case_backoff_us(&c), 2000000u);
	c.store_fault = true;
	c.command_started = true;
	assert_int_equal(retry_case_backoff_us(&c), 2000000u);
}

static void test_backoff_grows_with_attempts_and_is_capped(void **state)
{
	(void)state;
	assert_int_equal(retry_backoff_us(0), 1000000);
	assert_int_equal(retry_backoff_us(1), 1000000);
	assert_int_equal(retry_backoff_us(2), 2000000);
	assert_int_equal(retry_backoff_us(1000), RETRY_BACKOFF_MAX_US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_steps_are_the_hosts),
		cmocka_unit_test(test_task_steps_are_the_tasks_unless_the_host_ran_out),
		cmocka_unit_test(test_never_started_host_fault_is_requeued_up_to_max_attempts),
		cmocka_unit_test(test_task_fault_and_cancel_are_never_requeued),
		cmocka_unit_test(test_started_task_is_requeued_only_with_retry_lost),
		cmocka_unit_test(test_store_fault_is_requeued_whatever_the_attempts_unless_cancelled),
		cmocka_unit_test(test_store_fault_backoff_grows_with_the_store_faults),
		cmocka_unit_test(test_backoff_grows_with_attempts_and_is_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
