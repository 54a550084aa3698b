/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_exit_code.c — corral-run and the corral client exit with
 * the same code for the same end reason: both map through the one table of
 * common/exit_code.c, and both man pages and the README list every row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/jail.h"
#include "supervisor/common/exit_code.h"
#include "supervisor/corral-run/run_args.h"
#include "supervisor/corral/commands.h"
#include "supervisor/store/task_state.h"

/* The client's exit code for a failed task that ended for reason. */
static int client_code(const char *reason)
{
	char text[160];
	json_t *task;
	int code;

	snprintf(text, sizeof(text), "{\"state\": \"failed\", \"reason\": \"%s\", \"exit_code\": null}",
		 reason);
	task = json_loads(text, 0, NULL);
	assert_non_null(task);
	code = format_task_exit_code(task);
	json_decref(task);
	return code;
}

static void test_every_jail_status_exits_as_the_client_does_for_its_reason(void **state)
{
	static const enum jail_status ended_by_limit[] = { JAIL_TIMEOUT, JAIL_CPU_LIMIT, JAIL_OOM,
							   JAIL_OUTPUT_LIMIT, JAIL_SPAWN_ERROR };

	for (size_t i = 0; i < sizeof(ended_by_limit) / sizeof(ended_by_limit[0]); i++) {
		struct jail_result r = { .status = ended_by_limit[i], .exit_code = -1 };
		const char *reason = jail_status_name(r.status);

		assert_true(exit_code_of_reason(reason) >= 118);
		assert_int_equal(run_args_exit_code(&r), exit_code_of_reason(reason));
		assert_int_equal(client_code(reason), run_args_exit_code(&r));
	}
}

static void test_every_stored_reason_with_a_row_maps_through_the_table(void **state)
{
	for (int reason = STORE_REASON_TIMEOUT; reason <= STORE_REASON_SHUTDOWN; reason++) {
		const char *name = task_state_reason_name((enum store_task_reason)reason);

		assert_non_null(name);
		assert_true(exit_code_of_reason(name) >= 118);
		assert_int_equal(client_code(name), exit_code_of_reason(name));
	}
}

static void test_table_codes_are_distinct_but_for_shutdown(void **state)
{
	const char *ra, *rb;
	int ca, cb;

	for (unsigned a = 0; exit_code_row(a, &ra, &ca); a++)
		for (unsigned b = a + 1; exit_code_row(b, &rb, &cb); b++)
			if (ca == cb)
				assert_true(strcmp(ra, "shutdown") == 0 || strcmp(rb, "shutdown") == 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Every code of the table is in both man pages and the README. */
static void test_both_man_pages_and_the_readme_list_every_code(void **state)
{
	static const char *const docs[] = { "contrib/man/corral.1", "contrib/man/corral-run.1", "README.md" };
	const char *reason;
	int code;

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		char *text = slurp(docs[d]);

		if (!text)
			skip(); /* run from the source tree (tests/run.sh does) */
		for (unsigned i = 0; exit_code_row(i, &reason, &code); i++) {
			char needle[64];

			snprintf(needle, sizeof(needle), "%d", code);
			if (!strstr(text, needle))
				fail_msg("%s does not mention exit code %d (%s)", docs[d], code, reason);
		}
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_jail_status_exits_as_the_client_does_for_its_reason),
		cmocka_unit_test(test_every_stored_reason_with_a_row_maps_through_the_table),
		cmocka_unit_test(test_table_codes_are_distinct_but_for_shutdown),
		cmocka_unit_test(test_both_man_pages_and_the_readme_list_every_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
