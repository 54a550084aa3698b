/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_policy_includes.c — errors about files and includes:
 * missing or unreadable files, globs matching nothing, include loops,
 * sections defined in two files, errors naming the included file.
 */
#include <sys/stat.h>

#include "tests/unit/policy_helpers.h"

static void test_missing_file(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char line[512];

	(void)state;
	assert_int_equal(policy_load("/nonexistent/corral/policy.conf", &p, &errors), -EINVAL);
	assert_null(p);
	assert_int_equal(errors.count, 1);
	policy_error_format(&errors.items[0], line, sizeof(line));
	assert_string_equal(line,
			    "/nonexistent/corral/policy.conf: cannot open: No such file or "
			    "directory");
	policy_errors_free(&errors);
}

static void test_directory_is_not_a_policy_file(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();

	(void)state;
	assert_int_equal(policy_load(dir, &p, &errors), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.items[0].message, "is not a regular file"));
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_unreadable_included_file(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();
	char path[4096], prefix[4200];

	(void)state;
	if (geteuid() == 0) { /* root reads mode 000 files: use a directory instead */
		snprintf(path, sizeof(path), "%s/sub.conf", dir);
		assert_int_equal(mkdir(path, 0755), 0);
	} else {
		write_file(dir, "sub.conf", "[plan x]\n");
		snprintf(path, sizeof(path), "%s/sub.conf", dir);
		assert_int_equal(chmod(path, 0), 0);
	}
	write_file(dir, "main.conf", "# main\ninclude = sub.conf\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:2: key 'include': %s/sub.conf: ", path, dir);
	assert_error_in(&errors, prefix,
			geteuid() == 0 ? "is not a regular file" : "cannot open: Permission denied");
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_include_matching_nothing(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();
	char path[4096], prefix[4200];

	(void)state;
	write_file(dir, "main.conf", "include = policy.d/*.conf\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), -EINVAL);
	assert_int_equal(errors.count, 1);
	snprintf(prefix, sizeof(prefix), "%s:1: key 'include': '%s/policy.d/*.conf'", path, dir);
	assert_error_in(&errors, prefix, "matches no file");
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_include_loop(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();
	char path[4096], prefix[4200];

	(void)state;
	write_file(dir, "a.conf", "include = b.conf\n[plan a]\n");
	write_file(dir, "b.conf", "include = a.conf\n[plan b]\n");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s/b.conf:1: key 'include': ", dir);
	assert_error_in(&errors, prefix, "include loop or duplicate include");
	assert_int_equal(errors.count, 1);
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_include_inside_a_section(void **state)
{
	(void)state;
	expect_one_error("[plan x]\ninclude = other.conf\n",
			 "t.conf:2: key 'include':", "must come before the first [section]");
}

static void test_duplicate_section_across_files(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();
	char path[4096], prefix[4200], where[4200];

	(void)state;
	write_file(dir, "extra.conf", "[plan free]\n");
	write_file(dir, "main.conf", "include = extra.conf\n\n[plan free]\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:3: ", path);
	snprintf(where, sizeof(where), "already defined at %s/extra.conf:1", dir);
	assert_error_in(&errors, prefix, where);
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_errors_in_included_file_name_that_file(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char *dir = make_temp_dir();
	char path[4096], prefix[4200];

	(void)state;
	write_file(dir, "extra.conf", "[plan x]\n\nmemory = 1000T\n");
	write_file(dir, "main.conf", "include = extra.conf\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s/extra.conf:3: key 'memory': ", dir);
	assert_error_in(&errors, prefix, "out of range");
	policy_errors_free(&errors);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory_is_not_a_policy_file),
		cmocka_unit_test(test_unreadable_included_file),
		cmocka_unit_test(test_include_matching_nothing),
		cmocka_unit_test(test_include_loop),
		cmocka_unit_test(test_include_inside_a_section),
		cmocka_unit_test(test_duplicate_section_across_files),
		cmocka_unit_test(test_errors_in_included_file_name_that_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
