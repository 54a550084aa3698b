/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/policy_helpers.h — shared by the test_policy*.c binaries:
 * load a policy from a string, assert an error at a line, temp dirs.
 */
#ifndef CORRAL_TESTS_POLICY_HELPERS_H
#define CORRAL_TESTS_POLICY_HELPERS_H

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy.h"

/* Load text as "t.conf"; fail the test (printing the errors) unless it loads. */
static inline struct policy *load_ok(const char *text)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	int r = policy_load_buffer("t.conf", text, strlen(text), POLICY_LOAD_NO_INCLUDE, &p, &errors);

	for (size_t i = 0; i < errors.count; i++) {
		char line[1024];

		policy_error_format(&errors.items[i], line, sizeof(line));
		print_error("unexpected: %s\n", line);
	}
	assert_int_equal(r, 0);
	assert_non_null(p);
	assert_int_equal(errors.count, 0);
	policy_errors_free(&errors);
	return p;
}

/* Load text expecting failure; errors is filled. */
static inline void load_bad(const char *text, struct policy_errors *errors)
{
	struct policy *p = (struct policy *)1;
	int r = policy_load_buffer("t.conf", text, strlen(text), POLICY_LOAD_NO_INCLUDE, &p, errors);

	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_true(errors->count > 0);
}

/* The formatted error that starts with prefix ("t.conf:3: key 'x':") and
 * contains needle, or fail listing them all. */
static inline void assert_error_in(const struct policy_errors *errors, const char *prefix, const char *needle)
{
	char line[1024];

	for (size_t i = 0; i < errors->count; i++) {
		policy_error_format(&errors->items[i], line, sizeof(line));
		if (strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, needle))
			return;
	}
	for (size_t i = 0; i < errors->count; i++) {
		policy_error_format(&errors->items[i], line, sizeof(line));
		print_error("  have: %s\n", line);
	}
	fail_msg("no error starting '%s' containing '%s'", prefix, needle);
}

/* Load text; expect exactly one error, starting with prefix, containing needle. */
static inline void expect_one_error(const char *text, const char *prefix, const char *needle)
{
	struct policy_errors errors = { 0 };

	load_bad(text, &errors);
	assert_error_in(&errors, prefix, needle);
	if (errors.count != 1) {
		for (size_t i = 0; i < errors.count; i++) {
			char line[1024];

			policy_error_format(&errors.items[i], line, sizeof(line));
			print_error("  have: %s\n", line);
		}
	}
	assert_int_equal(errors.count, 1);
	policy_errors_free(&errors);
}

/* mkdtemp under TMPDIR; the caller removes it with remove_tree(). */
static inline char *make_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	assert_true(asprintf(&dir, "%s/corral-policy-XXXXXX", tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static inline int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void remove_tree(char *dir)
{
	assert_int_equal(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

#endif
