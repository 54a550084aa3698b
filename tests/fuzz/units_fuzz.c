/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/units_fuzz.c — libFuzzer target for the one grammar of
 * durations, sizes and CPU counts (policy/units.c) that policy files and
 * every command-line flag (--time 1h30m, --memory 512M, --cpus 0.5) go
 * through.  Any bytes: a value or a clean error, never a crash; and what
 * is accepted formats back to text that parses to the same value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], line[64];
	uint64_t v, again;
	uint32_t millis;

	/* The parsers take C strings: flags and policy values are at most a
	 * line; cut at the first NUL like a C caller would. */
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';

	(void)policy_parse_duration_us(text, 1000000u, &v);
	(void)policy_parse_duration_us(text, 3600000000u, &v);
	(void)policy_parse_duration_us(text, 1u, &v);
	if (policy_parse_size(text, &v) == 0) {
		policy_format_size(v, line, sizeof(line));
		if (policy_parse_size(line, &again) != 0 || again != v)
			abort();
	}
	(void)policy_parse_cpus(text, &v);
	if (policy_parse_cpu_millis(text, &millis) == 0) {
		policy_format_cpus(millis, line, sizeof(line));
		if (policy_parse_cpus(line, &again) != 0 || again != millis)
			abort();
	}
	if (policy_parse_duration_ms(text, &v) == 0) {
		policy_format_duration_ms(v, line, sizeof(line));
		if (policy_parse_duration_ms(line, &again) != 0 || again != v)
			abort();
	}
	(void)policy_parse_uint(text, UINT64_MAX, &v);
	(void)policy_parse_uint(text, 65535, &v);
	return 0;
}
