/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_policy_cli.c — `corral policy check` and `corral policy
 * show`: exit codes and what they print.
 */
#include "supervisor/corral/policy_cmd.h"
#include "tests/unit/policy_helpers.h"

struct capture {
	FILE *out, *err;
	char *out_text, *err_text;
	size_t out_len, err_len;
};

static void capture_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->out = open_memstream(&c->out_text, &c->out_len);
	c->err = open_memstream(&c->err_text, &c->err_len);
	assert_non_null(c->out);
	assert_non_null(c->err);
}

static void capture_close(struct capture *c)
{
	fclose(c->out);
	fclose(c->err);
}

static void capture_free(struct capture *c)
{
	free(c->out_text);
	free(c->err_text);
}

static char *policy_file(const char *text, char **dir)
{
	char *path;

	*dir = make_temp_dir();
	write_file(*dir, "policy.conf", text);
	assert_true(asprintf(&path, "%s/policy.conf", *dir) > 0);
	return path;
}

static void test_check_good_policy_prints_summary(void **state)
{
	struct capture c;

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_check("contrib/policy/corral.conf", false, c.out, c.err), 0);
	capture_close(&c);
	assert_non_null(strstr(c.out_text, "contrib/policy/corral.conf: OK\n"));
	assert_non_null(strstr(c.out_text, "plans:    3 (free, operator, pro)"));
	assert_non_null(strstr(c.out_text, "default:  free"));
	assert_string_equal(c.err_text, "");
	capture_free(&c);
}

static void test_check_and_show_json_are_one_object_with_null_for_unlimited(void **state)
{
	struct capture c;
	char *dir, *path = policy_file("[plan x]\nmemory = 1000T\n", &dir);
	json_t *o;

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_check("contrib/policy/corral.conf", true, c.out, c.err), 0);
	capture_close(&c);
	o = json_loads(c.out_text, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_string_equal(json_string_value(json_object_get(o, "default_plan")), "free");
	assert_int_equal(json_array_size(json_object_get(o, "plans")), 3);
	json_decref(o);
	capture_free(&c);

	/* errors: on stdout as one object too, exit 1 */
	capture_open(&c);
	assert_int_equal(policy_cmd_check(path, true, c.out, c.err), 1);
	capture_close(&c);
	o = json_loads(c.out_text, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_int_equal(json_integer_value(
				 json_object_get(json_array_get(json_object_get(o, "errors"), 0), "line")),
			 2);
	json_decref(o);
	capture_free(&c);

	capture_open(&c);
	assert_int_equal(policy_cmd_show("contrib/policy/corral.conf", CLI_SHOW_SUPERVISOR, NULL, true, c.out,
					 c.err),
			 0);
	capture_close(&c);
	o = json_loads(c.out_text, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, "memory_reserve_bytes"))); /* unlimited */
	json_decref(o);
	capture_free(&c);
	free(path);
	remove_tree(dir);
}

static void test_check_bad_policy_prints_every_error_and_fails(void **state)
{
	struct capture c;
	char *dir, *path = policy_file("[plan x]\nmemory = 1000T\ncpus = lots\n", &dir);
	char expect[8192];

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_check(path, false, c.out, c.err), 1);
	capture_close(&c);
	assert_string_equal(c.out_text, "");
	snprintf(expect, sizeof(expect), "%s:2: key 'memory': '1000T' is out of range", path);
	assert_non_null(strstr(c.err_text, expect));
	snprintf(expect, sizeof(expect), "%s:3: key 'cpus': 'lots' is not a CPU count", path);
	assert_non_null(strstr(c.err_text, expect));
	snprintf(expect, sizeof(expect), "%s: 2 errors; the policy was not loaded\n", path);
	assert_non_null(strstr(c.err_text, expect));
	capture_free(&c);
	free(path);
	remove_tree(dir);
}

static void test_show_user_prints_effective_limits(void **state)
{
	struct capture c;
	char *dir,
		*path = policy_file("[plan pro]\nmemory = 2G\nmonthly_cpu_hours = 100\n"
				    "[user alice]\nplan = pro\ncpus = 0.5\n",
				    &dir);

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_show(path, CLI_SHOW_USER, "alice", false, c.out, c.err), 0);
	capture_close(&c);
	assert_non_null(strstr(c.out_text, "# tenant alice: its [user] section, plan pro\n"));
	assert_non_null(strstr(c.out_text, "memory            = 2G\n"));
	assert_non_null(strstr(c.out_text, "cpus              = 0.5\n"));
	assert_non_null(strstr(c.out_text, "monthly_cpu_hours = 100h\n"));
	assert_non_null(strstr(c.out_text, "max_cpu_seconds   = unlimited\n"));
	assert_non_null(strstr(c.out_text, "max_task_seconds  = 10m\n"));
	capture_free(&c);
	free(path);
	remove_tree(dir);
}

static void test_show_unknown_user_without_default_fails(void **state)
{
	struct capture c;
	char *dir, *path = policy_file("[plan pro]\n", &dir);

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_show(path, CLI_SHOW_USER, "bob", false, c.out, c.err), 1);
	capture_close(&c);
	assert_non_null(strstr(c.err_text,
			       "tenant 'bob' has no [user bob] section and there is "
			       "no [default]"));
	capture_free(&c);
	free(path);
	remove_tree(dir);
}

static void test_show_profile_and_supervisor(void **state)
{
	struct capture c;

	(void)state;
	capture_open(&c);
	assert_int_equal(policy_cmd_show("contrib/policy/corral.conf", CLI_SHOW_PROFILE, "strict", false,
					 c.out, c.err),
			 0);
	assert_int_equal(policy_cmd_show("contrib/policy/corral.conf", CLI_SHOW_SUPERVISOR, NULL, false,
					 c.out, c.err),
			 0);
	capture_close(&c);
	assert_non_null(strstr(c.out_text, "seccomp       = strict\n"));
	assert_non_null(strstr(c.out_text, "seccomp_deny  = clone3\n"));
	assert_non_null(strstr(c.out_text, "socket         = /run/corral/corrald.sock\n"));
	capture_free(&c);
}

static void test_usage_errors_exit_2(void **state)
{
	char *none[] = { "policy", NULL };
	char *bad[] = { "policy", "frob", NULL };
	char *two[] = { "policy", "show", "--user", "a", "--plan", "b", NULL };
	FILE *saved = stderr;

	(void)state;
	stderr = fopen("/dev/null", "w");
	assert_non_null(stderr);
	assert_int_equal(policy_cmd_main(1, none), 2);
	assert_int_equal(policy_cmd_main(2, bad), 2);
	assert_int_equal(policy_cmd_main(6, two), 2);
	fclose(stderr);
	stderr = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good_policy_prints_summary),
		cmocka_unit_test(test_check_bad_policy_prints_every_error_and_fails),
		cmocka_unit_test(test_show_user_prints_effective_limits),
		cmocka_unit_test(test_show_unknown_user_without_default_fails),
		cmocka_unit_test(test_show_profile_and_supervisor),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_check_and_show_json_are_one_object_with_null_for_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
