/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_doctor.c — `corral doctor` on this real host, as
 * root: it exits 0 (corral runs here), its test jail of /bin/true starts,
 * `--json` is an array of {check, verdict, detail, fix} that parses.  The
 * policy names a uid range of this test process's own (test_host_uid), so
 * the probe's jail never shares a uid with another test's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"

struct run {
	int exit_code;
	char *out; /* stdout */
};

static char policy_path[256];

static int setup_policy(void **state)
{
	(void)state;
	snprintf(policy_path, sizeof(policy_path), "/tmp/corral-doctor-test-%ld.conf", (long)getpid());
	FILE *f = fopen(policy_path, "w");
	if (!f)
		return -1;
	fprintf(f, "[supervisor]\nuid_range = %u-%u\nmax_running = 4\n", test_host_uid(),
		test_host_uid() + 9);
	return fclose(f);
}

static int remove_policy(void **state)
{
	(void)state;
	unlink(policy_path);
	return 0;
}

/* build/corral doctor --policy POLICY [extra]: stdout and exit code. */
static void run_doctor(const char *extra, struct run *run)
{
	char cmd[1024];
	size_t len = 0, cap = 0;
	char buf[4096];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s doctor --policy %s %s", test_build_path("corral"), policy_path, extra);
	p = popen(cmd, "r");
	assert_non_null(p);
	run->out = NULL;
	for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			run->out = realloc(run->out, cap);
			assert_non_null(run->out);
		}
		memcpy(run->out + len, buf, n);
		len += n;
	}
	if (!run->out)
		run->out = calloc(1, 1);
	run->out[len] = '\0';
	int status = pclose(p);
	assert_true(WIFEXITED(status));
	run->exit_code = WEXITSTATUS(status);
}

static void test_doctor_exits_0_and_its_jail_starts(void **state)
{
	struct run run;

	(void)state;
	require_root();
	run_doctor("", &run);
	fputs(run.out, stdout);
	assert_int_equal(run.exit_code, 0);
	assert_non_null(strstr(run.out, "\nok    jail: a test jail of /bin/true"));
	assert_non_null(strstr(run.out, "corral can run on this host"));
	assert_null(strstr(run.out, "\nfail "));
	free(run.out);
}

static void test_doctor_json_parses_and_reports_the_jail_ok(void **state)
{
	struct run run;
	json_error_t error;
	json_t *array, *item;
	size_t i;
	const char *jail_verdict = NULL;

	(void)state;
	require_root();
	run_doctor("--json", &run);
	assert_int_equal(run.exit_code, 0);
	array = json_loads(run.out, 0, &error);
	if (!array)
		fail_msg("corral doctor --json is not JSON (%s): %s", error.text, run.out);
	assert_true(json_is_array(array));
	assert_true(json_array_size(array) > 10);
	json_array_foreach (array, i, item) {
		const char *check = json_string_value(json_object_get(item, "check"));
		const char *verdict = json_string_value(json_object_get(item, "verdict"));
		json_t *fix = json_object_get(item, "fix");

		assert_non_null(check);
		assert_non_null(verdict);
		assert_non_null(json_string_value(json_object_get(item, "detail")));
		assert_true(fix && (json_is_string(fix) || json_is_null(fix)));
		assert_string_not_equal(verdict, "fail");
		if (strcmp(check, "jail") == 0)
			jail_verdict = verdict;
	}
	assert_non_null(jail_verdict);
	assert_string_equal(jail_verdict, "ok");
	json_decref(array);
	free(run.out);
}

static void test_doctor_bad_usage_exits_2(void **state)
{
	struct run run;

	(void)state;
	run_doctor("--no-such-option 2>/dev/null", &run);
	assert_int_equal(run.exit_code, 2);
	free(run.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor_exits_0_and_its_jail_starts),
		cmocka_unit_test(test_doctor_json_parses_and_reports_the_jail_ok),
		cmocka_unit_test(test_doctor_bad_usage_exits_2),
	};

	return cmocka_run_group_tests(tests, setup_policy, remove_policy);
}
