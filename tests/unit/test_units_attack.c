/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_units_attack.c — hostile strings against the one
 * duration/size parser (policy/units.c) and the keys read with it, and the
 * budget rule of a start (supervisor/sched/admission.c) at the edges of its
 * integers: nothing overflows into a small number, nothing non-zero
 * becomes 0 (a suspended tenant) or "unlimited", and reservations never add
 * up to more than what was left.
 */
#include "tests/unit/policy_helpers.h"
#include "policy/policy.h"
#include "supervisor/sched/admission.h"

#define SEC 1000000ULL
#define HOUR (3600ULL * SEC)

static int duration_r(const char *text, uint64_t bare, uint64_t *us)
{
	*us = 12345;
	return policy_parse_duration_us(text, bare, us);
}

static void test_hostile_durations_are_refused(void **state)
{
	static const char *const bad[] = {
		"",          "-1",         "-1s",    "+1s",    "1e999",         "1e3s",
		"1E3",       "1h-30m",     "1h+30m", "1h 30m", " 1s",           "1s ",
		"1 s",       "1.s",        ".5s",    "1..5s",  "1.5.5s",        "1S",
		"1H",        "1Ms",        "nan",    "inf",    "infinity",      "0x10s",
		"1s\n",      "1hh",        "1mins",  "1h30",   "1,5s",          "1_000s",
		"\xd9\xa3s", "1\xc2\xa0s", "s",      "h1",     "0.0000000001h", "1.0000000000s",
		"1s-",       "--1",        "1/2h",   "1us",    "1ns",           "1w",
		"1y",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t us;
		int r = duration_r(bad[i], SEC, &us);

		if (r != -EINVAL)
			fail_msg("'%s': %d (%llu us), wanted -EINVAL", bad[i], r, (unsigned long long)us);
		assert_int_equal(us, 12345); /* untouched */
	}
}

static void test_huge_durations_overflow_to_an_error_not_a_small_number(void **state)
{
	static const char *const huge[] = {
		"18446744073709551616",
		"18446744073709551615",
		"99999999999999999999999999999999s",
		"5124095577h",
		"213503983d",
		"18446744073709552ms",
		"5124095000h5124095000h", /* each fits, the sum does not */
		"18446744073709551615ms1ms",
		"0000000000000000000000000000000000000000000000018446744073709551616s",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		uint64_t us;
		int r = duration_r(huge[i], SEC, &us);

		if (r != -ERANGE)
			fail_msg("'%s': %d (%llu us), wanted -ERANGE", huge[i], r, (unsigned long long)us);
	}
}

static void test_long_but_valid_strings_parse_exactly(void **state)
{
	uint64_t us;
	char many[4096];
	size_t n = 0;

	(void)state;
	/* leading zeros are only zeros */
	assert_int_equal(duration_r("0000000000000000000000000000001s", SEC, &us), 0);
	assert_int_equal(us, SEC);
	/* 9 decimals is the most, and a ninth-decimal hour is 3.6 us, rounded */
	assert_int_equal(duration_r("0.000000001h", SEC, &us), 0);
	assert_int_equal(us, 4);
	assert_int_equal(duration_r("0.999999999s", SEC, &us), 0);
	assert_int_equal(us, SEC);
	/* the largest one */
	assert_int_equal(duration_r("18446744073709551615ms", 1, &us), -ERANGE);
	assert_int_equal(duration_r("18446744073709551ms", SEC, &us), 0);
	assert_int_equal(us, 18446744073709551000ULL);
	/* many parts add up */
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "1s");
	assert_int_equal(duration_r(many, SEC, &us), 0);
	assert_int_equal(us, 500 * SEC);
}

/* The policy keys read with the grammar: a tiny positive value is never
 * silently 0 (for monthly_cpu_hours: a suspended tenant; for the others:
 * "unlimited"), and junk or a sign is refused. */
static bool loads(const char *key, const char *value)
{
	char conf[256];
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	int r;

	snprintf(conf, sizeof(conf), "[plan x]\n%s = %s\n", key, value);
	r = policy_load_buffer("t.conf", conf, strlen(conf), POLICY_LOAD_NO_INCLUDE, &p, &errors);
	policy_errors_free(&errors);
	policy_free(p);
	return r == 0;
}

static void test_policy_keys_refuse_values_that_would_round_to_zero_or_wrap(void **state)
{
	static const char *const bad_hours[] = {
		"-1",          "-0",      "1e999",       "0.0000001", "0.000000001", "1h-30m",
		"5124095577h", "1000001", "1000000h1ms", "nan",       "0x1",         "",
	};
	static const char *const bad_seconds[] = {
		"0", "0.5", "0.4s", "999ms", "-1", "1e2", "30d1s", "18446744073709551616",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_hours) / sizeof(bad_hours[0]); i++)
		if (loads("monthly_cpu_hours", bad_hours[i]))
			fail_msg("monthly_cpu_hours = '%s' was accepted", bad_hours[i]);
	for (size_t i = 0; i < sizeof(bad_seconds) / sizeof(bad_seconds[0]); i++) {
		if (loads("max_cpu_seconds", bad_seconds[i]))
			fail_msg("max_cpu_seconds = '%s' was accepted", bad_seconds[i]);
		if (loads("max_task_seconds", bad_seconds[i]))
			fail_msg("max_task_seconds = '%s' was accepted", bad_seconds[i]);
	}
	assert_true(loads("monthly_cpu_hours", "0.00001"));   /* 36 ms: whole ms */
	assert_false(loads("monthly_cpu_hours", "0.000001")); /* 3.6 ms: not */
	assert_true(loads("max_cpu_seconds", "1000ms"));
}

/* The command-line forms: anything that rounds to 0 ms is 0, which every
 * CLI refuses for a timeout or a CPU limit; never a wrapped value. */
static void test_cli_forms_round_and_never_wrap(void **state)
{
	uint64_t ms;
	uint32_t millis;

	(void)state;
	assert_int_equal(policy_parse_duration_ms("0.4ms", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(policy_parse_duration_ms("0.5ms", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(policy_parse_duration_ms("18446744073709551s", &ms), -ERANGE);
	assert_int_equal(policy_parse_cpu_millis("0.0001", &millis), -EINVAL);
	assert_int_equal(policy_parse_cpu_millis("0", &millis), -ERANGE);
	assert_int_equal(policy_parse_cpu_millis("4000001", &millis), -ERANGE);
	assert_int_equal(policy_parse_cpu_millis("4294967.296", &millis), -ERANGE); /* 2^32 millis */
}

/* ---- admission at the edges --------------------------------------------- */

static void test_adjusted_budget_saturates_and_never_wraps(void **state)
{
	(void)state;
	assert_true(admission_budget_adjusted(ADMISSION_UNLIMITED - 1, INT64_MAX) == ADMISSION_UNLIMITED - 1);
	assert_true(admission_budget_adjusted(ADMISSION_UNLIMITED - 2, 5) == ADMISSION_UNLIMITED - 1);
	assert_true(admission_budget_adjusted(5, INT64_MIN) == 0);
	assert_true(admission_budget_adjusted(0, INT64_MIN) == 0);
	assert_true(admission_budget_adjusted(0, 1) == 1);
	assert_true(admission_budget_adjusted(ADMISSION_UNLIMITED, INT64_MIN) == ADMISSION_UNLIMITED);
	assert_true(admission_budget_us(ADMISSION_UNLIMITED - 1) == ADMISSION_UNLIMITED - 1);
	assert_true(admission_budget_us(UINT64_MAX / 1000 + 1) == ADMISSION_UNLIMITED - 1);
}

static void test_used_plus_reserved_overflowing_starts_nothing(void **state)
{
	struct admission_tenant t = { .budget = ADMISSION_UNLIMITED - 1,
				      .used = ADMISSION_UNLIMITED - 10,
				      .reserved = 100,
				      .running = 1,
				      .slots = 4 };
	uint64_t limit = 0;

	(void)state;
	assert_int_not_equal(admission_cpu_limit(&t, SEC, 0, SEC, &limit), ADMISSION_START);
	t.used = 0;
	t.reserved = ADMISSION_UNLIMITED - 1;
	assert_int_equal(admission_cpu_limit(&t, SEC, 0, SEC, &limit), ADMISSION_BUDGET_RESERVED);
	/* a wall bound that saturates reserves what is left, not more */
	t.reserved = 0;
	t.budget = 10 * SEC;
	assert_int_equal(admission_cpu_limit(&t, ADMISSION_UNLIMITED,
					     admission_wall_cpu_bound(UINT64_MAX - 1, UINT64_MAX - 1, 512000),
					     SEC, &limit),
			 ADMISSION_START);
	assert_true(limit == 10 * SEC);
}

/* Unbounded tasks started one after another until nothing starts: their
 * limits never add up to more than what was left, whatever the slots and
 * the budget (including budgets just above a multiple of min_cpu). */
static void test_unbounded_shares_never_add_up_past_what_was_left(void **state)
{
	static const uint64_t budgets[] = {
		1, SEC - 1, SEC, SEC + 1, 3 * SEC + 7, 8 * SEC - 1, 3600 * SEC + 13, ADMISSION_UNLIMITED - 1
	};
	static const uint32_t slots[] = { 1, 2, 3, 7, 8, 4096, UINT32_MAX };

	(void)state;
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		for (size_t s = 0; s < sizeof(slots) / sizeof(slots[0]); s++) {
			struct admission_tenant t = { .budget = budgets[b],
						      .used = 0,
						      .reserved = 0,
						      .running = 0,
						      .slots = slots[s] };
			uint64_t limit, sum = 0;

			for (uint32_t i = 0; i < 64 && t.running < slots[s]; i++) {
				if (admission_cpu_limit(&t, ADMISSION_UNLIMITED, 0, SEC, &limit) !=
				    ADMISSION_START)
					break;
				assert_true(limit > 0);
				sum += limit;
				t.reserved += limit;
				t.running++;
			}
			if (sum > budgets[b])
				fail_msg("budget %llu, %u slots: %u tasks reserved %llu",
					 (unsigned long long)budgets[b], slots[s], t.running,
					 (unsigned long long)sum);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_durations_are_refused),
		cmocka_unit_test(test_huge_durations_overflow_to_an_error_not_a_small_number),
		cmocka_unit_test(test_long_but_valid_strings_parse_exactly),
		cmocka_unit_test(test_policy_keys_refuse_values_that_would_round_to_zero_or_wrap),
		cmocka_unit_test(test_cli_forms_round_and_never_wrap),
		cmocka_unit_test(test_adjusted_budget_saturates_and_never_wraps),
		cmocka_unit_test(test_used_plus_reserved_overflowing_starts_nothing),
		cmocka_unit_test(test_unbounded_shares_never_add_up_past_what_was_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
