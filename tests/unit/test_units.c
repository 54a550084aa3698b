/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_units.c — the one grammar for durations, sizes and CPU
 * counts (policy/units.c), shared by the policy files and the CLIs, and
 * monthly_cpu_hours read with it: fractional hours, a few CPU seconds, 0
 * (a suspended tenant) and unlimited.
 */
#include "tests/unit/policy_helpers.h"
#include "policy/policy.h"

#define SEC 1000000ULL
#define HOUR (3600ULL * SEC)

static uint64_t duration(const char *text, uint64_t bare_unit_us)
{
	uint64_t us = 0;

	if (policy_parse_duration_us(text, bare_unit_us, &us) != 0)
		fail_msg("'%s' did not parse as a duration", text);
	return us;
}

static int duration_error(const char *text)
{
	uint64_t us;

	return policy_parse_duration_us(text, SEC, &us);
}

static void test_durations_with_units_and_decimals(void **state)
{
	(void)state;
	assert_int_equal(duration("1.5s", SEC), 1500000);
	assert_int_equal(duration("500ms", SEC), 500000);
	assert_int_equal(duration("1h30m", SEC), 90 * 60 * SEC);
	assert_int_equal(duration("2d", SEC), 2 * 86400 * SEC);
	assert_int_equal(duration("10min", SEC), 600 * SEC);
	assert_int_equal(duration("3sec", SEC), 3 * SEC);
	assert_int_equal(duration("0.5h", SEC), HOUR / 2);
	assert_int_equal(duration("1m30.5s", SEC), 90500000);
	assert_int_equal(duration("0.25ms", SEC), 250);
	assert_int_equal(duration("0.0004ms", SEC), 0); /* rounds to the nearest µs */
	assert_int_equal(duration("0.0005ms", SEC), 1);
}

static void test_bare_number_takes_the_callers_unit(void **state)
{
	(void)state;
	assert_int_equal(duration("90", SEC), 90 * SEC);
	assert_int_equal(duration("1.5", SEC), 1500000);
	assert_int_equal(duration("0.05", HOUR), 180 * SEC);
	assert_int_equal(duration("0.001", HOUR), 3600000);
	assert_int_equal(duration("500.5", HOUR), 500 * HOUR + HOUR / 2);
	assert_int_equal(duration("0", HOUR), 0);
}

static void test_malformed_durations_are_refused(void **state)
{
	(void)state;
	assert_int_equal(duration_error(""), -EINVAL);
	assert_int_equal(duration_error("-1s"), -EINVAL);
	assert_int_equal(duration_error("s"), -EINVAL);
	assert_int_equal(duration_error("1x"), -EINVAL);
	assert_int_equal(duration_error("1h30"), -EINVAL); /* a bare number only alone */
	assert_int_equal(duration_error("1.s"), -EINVAL);
	assert_int_equal(duration_error(".5s"), -EINVAL);
	assert_int_equal(duration_error("1e3s"), -EINVAL);
	assert_int_equal(duration_error("1 s"), -EINVAL);
	assert_int_equal(duration_error("0.0000000001s"), -EINVAL); /* more than 9 decimals */
	assert_int_equal(duration_error("99999999999999999999s"), -ERANGE);
	assert_int_equal(duration_error("999999999999d"), -ERANGE);
}

static void test_sizes_with_binary_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(policy_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(policy_parse_size("64K", &v), 0);
	assert_int_equal(v, 64 * 1024);
	assert_int_equal(policy_parse_size("512MiB", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(policy_parse_size("2GB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(policy_parse_size("1.5G", &v), 0);
	assert_int_equal(v, 3ULL << 29);
	assert_int_equal(policy_parse_size("1t", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(policy_parse_size("2P", &v), 0);
	assert_int_equal(v, 2ULL << 50);
	assert_int_equal(policy_parse_size("100b", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(policy_parse_size("1.5", &v), -EINVAL); /* a fraction of a byte */
	assert_int_equal(policy_parse_size("5X", &v), -EINVAL);
	assert_int_equal(policy_parse_size("-5", &v), -EINVAL);
	assert_int_equal(policy_parse_size("", &v), -EINVAL);
	assert_int_equal(policy_parse_size("1GiBs", &v), -EINVAL);
	assert_int_equal(policy_parse_size("99999999P", &v), -ERANGE);
}

static void test_cpus(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(policy_parse_cpus("2.25", &v), 0);
	assert_int_equal(v, 2250);
	assert_int_equal(policy_parse_cpus("0.5", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(policy_parse_cpus("0.0005", &v), -EINVAL);
	assert_int_equal(policy_parse_cpus("1,5", &v), -EINVAL);
}

/* The command line and the policy read the same text the same way. */
static void test_cli_and_policy_share_the_grammar(void **state)
{
	static const char *const texts[] = { "1.5s", "20m30s", "500ms", "1h", "90", "0.5h", "0.25m" };
	struct policy_limits l;
	uint64_t ms, bytes;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char conf[128];
		struct policy *p;

		assert_int_equal(policy_parse_duration_ms(texts[i], &ms), 0);
		snprintf(conf, sizeof(conf), "[supervisor]\ndrain_timeout = %s\n", texts[i]);
		p = load_ok(conf);
		assert_int_equal(policy_supervisor(p)->drain_timeout_ms, ms);
		policy_free(p);
	}
	assert_int_equal(policy_parse_size("1.5G", &bytes), 0);
	{
		struct policy *p = load_ok("[plan x]\nmemory = 1.5G\n");

		assert_int_equal(policy_plan_limits(p, "x", &l), 0);
		assert_int_equal(l.memory_bytes, bytes);
		policy_free(p);
	}
}

static uint64_t budget_of(const char *value)
{
	char conf[128];
	struct policy_limits l;
	struct policy *p;

	snprintf(conf, sizeof(conf), "[plan x]\nmonthly_cpu_hours = %s\n", value);
	p = load_ok(conf);
	assert_int_equal(policy_plan_limits(p, "x", &l), 0);
	policy_free(p);
	return l.monthly_cpu_ms;
}

static void test_monthly_cpu_hours_are_hours_fractions_included(void **state)
{
	(void)state;
	assert_int_equal(budget_of("0.5"), 1800 * 1000);
	assert_int_equal(budget_of("0.05"), 180 * 1000);
	assert_int_equal(budget_of("500.5"), 1801800ULL * 1000);
	assert_int_equal(budget_of("0.001"), 3600);    /* 3.6 CPU seconds */
	assert_int_equal(budget_of("10s"), 10 * 1000); /* a unit says what it is */
	assert_int_equal(budget_of("90m"), 5400 * 1000);
}

static void test_monthly_cpu_hours_zero_suspends_and_unlimited_is_distinct(void **state)
{
	(void)state;
	assert_int_equal(budget_of("0"), 0);
	assert_true(budget_of("unlimited") == POLICY_UNLIMITED);
	assert_true(budget_of("1000000h") == 1000000ULL * 3600 * 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_with_units_and_decimals),
		cmocka_unit_test(test_bare_number_takes_the_callers_unit),
		cmocka_unit_test(test_malformed_durations_are_refused),
		cmocka_unit_test(test_sizes_with_binary_units),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_cli_and_policy_share_the_grammar),
		cmocka_unit_test(test_monthly_cpu_hours_are_hours_fractions_included),
		cmocka_unit_test(test_monthly_cpu_hours_zero_suspends_and_unlimited_is_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
