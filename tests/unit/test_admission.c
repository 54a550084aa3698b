/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_admission.c — the budget rule of one start
 * (supervisor/admission.c): a task reserves what it can burn, never the
 * month; an unbounded task takes an even share of what is left among the
 * free slots; "used up" and "held by running tasks" are told apart; 0 is a
 * suspended tenant.  Pure: numbers in, numbers out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "supervisor/sched/admission.h"

#define SEC 1000000ULL
#define HOUR (3600ULL * SEC)
#define NONE ADMISSION_UNLIMITED
#define MIN_CPU (1 * SEC)

static struct admission_tenant tenant(uint64_t budget, uint64_t used, uint64_t reserved, uint32_t running,
				      uint32_t slots)
{
	return (struct admission_tenant){ budget, used, reserved, running, slots };
}

static void test_wall_bound_is_wall_plus_grace_times_cpus(void **state)
{
	(void)state;
	assert_int_equal(admission_wall_cpu_bound(600 * SEC, 2 * SEC, 1000), 602 * SEC);
	assert_int_equal(admission_wall_cpu_bound(60 * SEC, 0, 500), 30 * SEC);
	assert_int_equal(admission_wall_cpu_bound(10 * SEC, 0, 2500), 25 * SEC);
	assert_int_equal(admission_wall_cpu_bound(0, 2 * SEC, 1000), 0); /* no wall limit */
	assert_int_equal(admission_wall_cpu_bound(60 * SEC, 0, 0), 0);   /* no quota */
	assert_true(admission_wall_cpu_bound(UINT64_MAX - 5, 10, 512000) >= UINT64_MAX / 2);
}

static void test_budget_us_from_policy_ms(void **state)
{
	(void)state;
	assert_true(admission_budget_us(UINT64_MAX) == NONE);
	assert_int_equal(admission_budget_us(0), 0);
	assert_int_equal(admission_budget_us(3600), 3600000); /* 0.001 h */
}

static void test_adjusted_budget_adds_grants_and_takes_back_to_zero(void **state)
{
	(void)state;
	assert_int_equal(admission_budget_adjusted(10 * HOUR, HOUR), 11 * HOUR);
	assert_int_equal(admission_budget_adjusted(10 * HOUR, -(int64_t)HOUR), 9 * HOUR);
	assert_int_equal(admission_budget_adjusted(10 * HOUR, -11 * (int64_t)HOUR), 0);
	assert_int_equal(admission_budget_adjusted(10 * HOUR, INT64_MIN), 0);
	assert_int_equal(admission_budget_adjusted(0, 6 * (int64_t)SEC), 6 * SEC); /* suspended + grant */
	assert_true(admission_budget_adjusted(NONE, -(int64_t)HOUR) == NONE);      /* unlimited stays */
	assert_true(admission_budget_adjusted(NONE, (int64_t)HOUR) == NONE);
	assert_true(admission_budget_adjusted(NONE - 1, INT64_MAX) == NONE - 1); /* saturates */
}

static void test_unlimited_budget_passes_the_limit_through(void **state)
{
	struct admission_tenant t = tenant(NONE, 1000 * HOUR, 0, 3, 4);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit), ADMISSION_START);
	assert_true(limit == NONE);
	assert_int_equal(admission_cpu_limit(&t, 5 * SEC, 0, MIN_CPU, &limit), ADMISSION_START);
	assert_int_equal(limit, 5 * SEC);
}

static void test_task_reserves_what_it_can_burn_not_the_month(void **state)
{
	struct admission_tenant t = tenant(10 * HOUR, 0, 0, 0, 4);
	uint64_t limit;

	(void)state;
	/* defaults: 10 min wall + 2 s grace at 1 CPU, no CPU-time limit */
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit), ADMISSION_START);
	assert_int_equal(limit, 602 * SEC);
	/* a CPU-time limit below the wall bound wins */
	assert_int_equal(admission_cpu_limit(&t, 30 * SEC, 602 * SEC, MIN_CPU, &limit), ADMISSION_START);
	assert_int_equal(limit, 30 * SEC);
}

static void test_reservation_is_never_more_than_the_budget_left(void **state)
{
	struct admission_tenant t = tenant(100 * SEC, 30 * SEC, 50 * SEC, 1, 4);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit), ADMISSION_START);
	assert_int_equal(limit, 20 * SEC);
}

static void test_used_up_is_exhausted(void **state)
{
	struct admission_tenant t = tenant(10 * HOUR, 10 * HOUR, 0, 0, 4);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit),
			 ADMISSION_BUDGET_EXHAUSTED);
	/* less than min_cpu left is used up too, unless the task asks for less */
	t = tenant(100 * SEC, 99 * SEC + 500000, 0, 0, 4);
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit),
			 ADMISSION_BUDGET_EXHAUSTED);
	assert_int_equal(admission_cpu_limit(&t, 200000, 602 * SEC, MIN_CPU, &limit), ADMISSION_START);
	assert_int_equal(limit, 200000);
}

static void test_held_by_running_tasks_is_reserved(void **state)
{
	struct admission_tenant t = tenant(10 * HOUR, 0, 10 * HOUR, 4, 8);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, NONE, 602 * SEC, MIN_CPU, &limit),
			 ADMISSION_BUDGET_RESERVED);
	assert_string_equal(admission_verdict_name(ADMISSION_BUDGET_RESERVED), "budget_reserved");
	assert_string_equal(admission_verdict_name(ADMISSION_BUDGET_EXHAUSTED), "budget_exhausted");
}

static void test_zero_budget_is_a_suspended_tenant(void **state)
{
	struct admission_tenant t = tenant(0, 0, 0, 0, 4);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, 1000, 602 * SEC, MIN_CPU, &limit),
			 ADMISSION_BUDGET_EXHAUSTED);
	assert_int_equal(admission_cpu_limit(&t, NONE, 0, MIN_CPU, &limit), ADMISSION_BUDGET_EXHAUSTED);
}

static void test_zero_cpu_limit_is_no_cpu(void **state)
{
	struct admission_tenant t = tenant(10 * HOUR, 0, 0, 0, 4);
	uint64_t limit;

	(void)state;
	assert_int_equal(admission_cpu_limit(&t, 0, 602 * SEC, MIN_CPU, &limit), ADMISSION_NO_CPU);
}

/* Start tasks with no bound one after another, as corrald would. */
static size_t start_unbounded(struct admission_tenant *t, uint64_t *limits, size_t max)
{
	size_t n = 0;

	while (n < max && admission_cpu_limit(t, NONE, 0, MIN_CPU, &limits[n]) == ADMISSION_START) {
		t->reserved += limits[n++];
		t->running++;
	}
	return n;
}

static void test_unbounded_tasks_split_what_is_left_between_free_slots(void **state)
{
	struct admission_tenant t = tenant(100 * SEC, 0, 0, 0, 4);
	uint64_t limits[8];

	(void)state;
	/* not one task holding the month: four at once, 25 s each */
	assert_int_equal(start_unbounded(&t, limits, 8), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(limits[i], 25 * SEC);
	assert_int_equal(t.reserved, 100 * SEC);
	/* one ends having used 5 s: the next gets all that came back */
	t.reserved -= 25 * SEC;
	t.used += 5 * SEC;
	t.running--;
	assert_int_equal(start_unbounded(&t, limits, 8), 1);
	assert_int_equal(limits[0], 20 * SEC);
	assert_int_equal(t.used + t.reserved, 100 * SEC);
}

static void test_unbounded_share_is_at_least_min_cpu_while_it_lasts(void **state)
{
	struct admission_tenant t = tenant(3 * SEC, 0, 0, 0, 4);
	uint64_t limits[8];

	(void)state;
	assert_int_equal(start_unbounded(&t, limits, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(limits[i], 1 * SEC);
	uint64_t limit;
	assert_int_equal(admission_cpu_limit(&t, NONE, 0, MIN_CPU, &limit), ADMISSION_BUDGET_RESERVED);
}

static void test_reservations_never_add_up_to_more_than_the_budget(void **state)
{
	(void)state;
	for (uint32_t slots = 1; slots <= 9; slots++) {
		for (uint64_t budget = 1; budget < 50 * SEC; budget = budget * 3 + 7) {
			for (int bounded = 0; bounded < 2; bounded++) {
				struct admission_tenant t = tenant(budget, budget / 7, 0, 0, slots);
				uint64_t limit;
				uint32_t n = 0;

				while (n < 64 &&
				       admission_cpu_limit(&t, NONE, bounded ? 3 * SEC : 0, MIN_CPU,
							   &limit) == ADMISSION_START) {
					assert_true(limit > 0);
					t.reserved += limit;
					t.running++;
					n++;
				}
				assert_true(t.used + t.reserved <= budget);
			}
		}
	}
}

static void test_budget_messages(void **state)
{
	char buf[200];

	(void)state;
	admission_format_budget(buf, sizeof(buf), "erin", "pro", "2026-12", 0, 0, 0, 0);
	assert_string_equal(buf, "erin: suspended, no CPU time this month (monthly_cpu_hours = 0, plan pro)");
	admission_format_budget(buf, sizeof(buf), "carol", "pro", "2026-12", 10 * HOUR, 0, 2408 * SEC, 4);
	assert_string_equal(buf,
			    "carol: 0.0 of 10.0 CPU hours used in 2026-12, 0.7 reserved by 4 running tasks "
			    "(plan pro)");
	admission_format_budget(buf, sizeof(buf), "dave", "tiny", "2026-12", 3600000, 3600000, 0, 0);
	assert_string_equal(buf, "dave: 3.6 of 3.6 CPU seconds used in 2026-12 (plan tiny)");
	admission_format_budget(buf, sizeof(buf), "dave", "tiny", "2026-12", 3600000, 0, 3400000, 1);
	assert_string_equal(buf,
			    "dave: 0.0 of 3.6 CPU seconds used in 2026-12, 3.4 reserved by 1 running task "
			    "(plan tiny)");
	/* under an hour: minutes, not "0.075 of 0.083 CPU hours" */
	admission_format_budget(buf, sizeof(buf), "bob", "short", "2026-12", 300 * SEC, 270 * SEC, 0, 0);
	assert_string_equal(buf, "bob: 4.5 of 5.0 CPU minutes used in 2026-12 (plan short)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_bound_is_wall_plus_grace_times_cpus),
		cmocka_unit_test(test_budget_us_from_policy_ms),
		cmocka_unit_test(test_adjusted_budget_adds_grants_and_takes_back_to_zero),
		cmocka_unit_test(test_unlimited_budget_passes_the_limit_through),
		cmocka_unit_test(test_task_reserves_what_it_can_burn_not_the_month),
		cmocka_unit_test(test_reservation_is_never_more_than_the_budget_left),
		cmocka_unit_test(test_used_up_is_exhausted),
		cmocka_unit_test(test_held_by_running_tasks_is_reserved),
		cmocka_unit_test(test_zero_budget_is_a_suspended_tenant),
		cmocka_unit_test(test_zero_cpu_limit_is_no_cpu),
		cmocka_unit_test(test_unbounded_tasks_split_what_is_left_between_free_slots),
		cmocka_unit_test(test_unbounded_share_is_at_least_min_cpu_while_it_lasts),
		cmocka_unit_test(test_reservations_never_add_up_to_more_than_the_budget),
		cmocka_unit_test(test_budget_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
