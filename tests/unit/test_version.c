/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_version.c — corrald, corral and corral-run built from
 * one tree print one version (issue 17): `NAME --version` is "NAME X" with
 * the same X as version_string(), which ping answers with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/common/version.h"
#include "tests/lib/test.h"

/* The first line `program --version` prints. */
static void version_of(const char *program, char *line, size_t size)
{
	char cmd[4200];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' --version 2>&1", test_build_path(program));
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(line, (int)size, p))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void test_the_three_programs_print_one_version(void **state)
{
	static const char *const programs[] = { "corrald", "corral", "corral-run" };
	char line[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		version_of(programs[i], line, sizeof(line));
		snprintf(want, sizeof(want), "%s %s", programs[i], version_string());
		assert_string_equal(line, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_three_programs_print_one_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
