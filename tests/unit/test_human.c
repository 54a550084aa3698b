/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_human.c — supervisor/common/human: durations and sizes
 * in the unit that fits (issue 17: a 1.5 s limit says 1.5 s, a 5 min
 * budget is not "0.08 h", 2 GiB is not 2147483648 bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "supervisor/common/human.h"

static void test_durations_under_a_minute_are_exact_seconds(void **state)
{
	char buf[48];

	(void)state;
	assert_string_equal(human_duration(0, buf, sizeof(buf)), "0 s");
	assert_string_equal(human_duration(1500000, buf, sizeof(buf)), "1.5 s");
	assert_string_equal(human_duration(250000, buf, sizeof(buf)), "0.25 s");
	assert_string_equal(human_duration(1234, buf, sizeof(buf)), "0.001 s");
	assert_string_equal(human_duration(59000000, buf, sizeof(buf)), "59 s");
}

static void test_longer_durations_take_two_units(void **state)
{
	char buf[48];

	(void)state;
	assert_string_equal(human_duration(60000000, buf, sizeof(buf)), "1 min");
	assert_string_equal(human_duration(125000000, buf, sizeof(buf)), "2 min 5 s");
	assert_string_equal(human_duration(3720000000ULL, buf, sizeof(buf)), "1 h 2 min");
	assert_string_equal(human_duration(3600000000ULL, buf, sizeof(buf)), "1 h");
	assert_string_equal(human_duration((86400ULL * 3 + 3600 * 4) * 1000000, buf, sizeof(buf)), "3 d 4 h");
}

static void test_sizes_in_powers_of_1024(void **state)
{
	char buf[48];

	(void)state;
	assert_string_equal(human_size(100, buf, sizeof(buf)), "100 bytes");
	assert_string_equal(human_size(512 * 1024, buf, sizeof(buf)), "512 KiB");
	assert_string_equal(human_size(256ULL << 20, buf, sizeof(buf)), "256 MiB");
	assert_string_equal(human_size(3ULL << 29, buf, sizeof(buf)), "1.5 GiB");
	assert_string_equal(human_size(2ULL << 30, buf, sizeof(buf)), "2 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_under_a_minute_are_exact_seconds),
		cmocka_unit_test(test_longer_durations_take_two_units),
		cmocka_unit_test(test_sizes_in_powers_of_1024),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
