/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_api_files.c — the rules of task files both corrald and
 * the client apply (supervisor/api/api_files.c): which names an input or
 * an artifact may have, how an artifact glob matches, which permission
 * bits are kept; and that a plan's max_input / max_artifact are read.
 */
#include "tests/unit/policy_helpers.h"

#include "supervisor/api/api.h"

static void expect_bad(const char *name, const char *part)
{
	char why[512] = "";

	if (api_files_check_name(name, why, sizeof(why)) == 0)
		fail_msg("'%s' was accepted", name);
	if (part && !strstr(why, part))
		fail_msg("'%s': '%s' does not say '%s'", name, why, part);
}

static void test_names_relative_below_work_are_accepted(void **state)
{
	char why[512];

	(void)state;
	assert_int_equal(api_files_check_name("a", why, sizeof(why)), 0);
	assert_int_equal(api_files_check_name("src/main.c", why, sizeof(why)), 0);
	assert_int_equal(api_files_check_name(".hidden/..x/x..", why, sizeof(why)), 0);
	assert_int_equal(api_files_check_name("with space/ünïcode", why, sizeof(why)), 0);
}

static void test_escaping_empty_and_odd_names_are_refused(void **state)
{
	(void)state;
	expect_bad("", "empty");
	expect_bad(NULL, "empty");
	expect_bad("/etc/passwd", "absolute");
	expect_bad("..", "'..'");
	expect_bad("../x", "'..'");
	expect_bad("a/../../x", "'..'");
	expect_bad("a/..", "'..'");
	expect_bad("./a", "'.'");
	expect_bad("a//b", "empty");
	expect_bad("a/", "ends with");
	expect_bad("a\nb", "control");
	expect_bad("a\x7f", "control");
}

static void test_name_sizes_are_capped(void **state)
{
	char name[API_FILES_PATH_MAX + 2], why[512];

	(void)state;
	memset(name, 'a', API_FILES_NAME_MAX);
	name[API_FILES_NAME_MAX] = '\0';
	assert_int_equal(api_files_check_name(name, why, sizeof(why)), 0);
	name[API_FILES_NAME_MAX] = 'a';
	name[API_FILES_NAME_MAX + 1] = '\0';
	expect_bad(name, "component");
	/* 4096 bytes of short components fit; one more does not */
	for (size_t i = 0; i < API_FILES_PATH_MAX; i++)
		name[i] = i % 2 ? '/' : 'a';
	name[API_FILES_PATH_MAX - 1] = 'a';
	name[API_FILES_PATH_MAX] = '\0';
	assert_int_equal(api_files_check_name(name, why, sizeof(why)), 0);
	name[API_FILES_PATH_MAX] = 'a';
	name[API_FILES_PATH_MAX + 1] = '\0';
	expect_bad(name, "bytes long");
}

static void test_globs_match_paths_relative_to_work(void **state)
{
	char *globs[] = { "*.txt", "out/*", "report.json" };

	(void)state;
	assert_true(api_files_match(globs, 3, "a.txt"));
	assert_true(api_files_match(globs, 3, "deep/er/a.txt")); /* * matches / too */
	assert_true(api_files_match(globs, 3, "out/model.bin"));
	assert_true(api_files_match(globs, 3, "out/sub/x"));
	assert_true(api_files_match(globs, 3, "report.json"));
	assert_false(api_files_match(globs, 3, "sub/report.json"));
	assert_false(api_files_match(globs, 3, "a.txt.bak"));
	assert_false(api_files_match(globs, 0, "a.txt"));
	assert_false(api_files_match(globs + 1, 1, "outside"));
}

static void test_modes_keep_only_plain_permissions(void **state)
{
	(void)state;
	assert_int_equal(api_files_mode(04755, false), 0755);
	assert_int_equal(api_files_mode(0700, false), 0755);
	assert_int_equal(api_files_mode(0600, false), 0644);
	assert_int_equal(api_files_mode(02666, false), 0644);
	assert_int_equal(api_files_mode(0, true), 0755);
}

static void test_plan_file_caps_default_and_are_read(void **state)
{
	struct policy *p = load_ok("[plan big]\nmax_input = 1G\nmax_artifact = 2M\n[plan small]\n"
				   "[default]\nplan = small\n[user carol]\nplan = big\n");
	struct policy_limits lim;

	(void)state;
	assert_int_equal(policy_limits_for(p, "alice", &lim), 0);
	assert_int_equal(lim.max_input_bytes, 64ull << 20);
	assert_int_equal(lim.max_artifact_bytes, 64ull << 20);
	assert_int_equal(policy_limits_for(p, "carol", &lim), 0);
	assert_int_equal(lim.max_input_bytes, 1ull << 30);
	assert_int_equal(lim.max_artifact_bytes, 2ull << 20);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_relative_below_work_are_accepted),
		cmocka_unit_test(test_escaping_empty_and_odd_names_are_refused),
		cmocka_unit_test(test_name_sizes_are_capped),
		cmocka_unit_test(test_globs_match_paths_relative_to_work),
		cmocka_unit_test(test_modes_keep_only_plain_permissions),
		cmocka_unit_test(test_plan_file_caps_default_and_are_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
