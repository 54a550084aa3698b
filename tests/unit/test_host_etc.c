/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_host_etc.c — which host /etc paths every jail gets
 * (runner/host_etc.c), scanned from a fake root in a temp dir; the set kept
 * in a file from one corral-run to the next (runner/host_etc_cache.c: taken
 * while fresh, scanned again once /etc or a directory it gives changed or a
 * minute passed, never trusted when another user could have written it or
 * when it names a path no scan could give); and the limit hints added to
 * the command's environment (runner/task_env.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/host_etc.h"
#include "runner/internal.h"
#include "tests/lib/test.h"

static char root[64], cache[96];
static const time_t now = 1800000000;

static void make_dir(const char *rel, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_file(const char *rel, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_link(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A host: Java's /etc/java-17 (matched by java-*), OpenSSL's certs and
 * private dirs, PHP's dir with one file only root may read, shadow and
 * ssh, an /etc/alternatives link to another /etc file, an /etc entry no
 * rule names (a symlink from /usr into it does not make it given). */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/corral-host-etc-XXXXXX");
	assert_non_null(mkdtemp(root));
	make_dir("usr", 0755);
	make_dir("usr/lib", 0755);
	make_link("/etc/unlisted/conf", "usr/lib/unlisted-link");
	make_dir("etc", 0755);
	make_dir("etc/java-17", 0755);
	make_dir("etc/java-17/security", 0755);
	make_file("etc/java-17/security/java.security", 0644);
	make_file("etc/java-17/jvm.cfg", 0644);
	make_dir("etc/ssl", 0755);
	make_dir("etc/ssl/certs", 0755);
	make_file("etc/ssl/certs/ca.pem", 0644);
	make_file("etc/ssl/openssl.cnf", 0644);
	make_dir("etc/ssl/private", 0700);
	make_file("etc/shadow", 0640);
	make_dir("etc/ssh", 0755);
	make_file("etc/ssh/ssh_host_rsa_key.pub", 0644);
	make_dir("etc/php", 0755);
	make_file("etc/php/php.ini", 0644);
	make_file("etc/php/secret.ini", 0600);
	make_dir("etc/perl", 0755);
	make_file("etc/perl/sitecustomize.pl", 0644);
	make_dir("etc/alternatives", 0755);
	make_link("/etc/java-alt-target", "etc/alternatives/java");
	make_file("etc/java-alt-target", 0644);
	make_dir("etc/unlisted", 0755);
	make_file("etc/unlisted/conf", 0644);
	make_file("etc/passwd", 0644);
	make_file("etc/machine-id", 0444);
	make_file("etc/services", 0644);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_remove_tree(root);
	return 0;
}

static bool has(const struct host_etc *he, const char *path)
{
	for (size_t i = 0; i < he->n; i++)
		if (strcmp(he->paths[i], path) == 0)
			return true;
	return false;
}

static void test_runtime_data_gives_its_top_level_entry(void **state)
{
	struct host_etc *he;

	(void)state;
	assert_int_equal(host_etc_scan(root, &he, NULL), 0);
	assert_true(has(he, "java-17"));
	assert_false(has(he, "java-17/jvm.cfg")); /* covered by java-17 */
	assert_true(has(he, "perl"));
	assert_true(has(he, "services"));
	assert_true(has(he, "alternatives"));
	assert_true(has(he, "java-alt-target")); /* through /etc/alternatives/java */
	assert_false(has(he, "unlisted"));       /* no rule names it */
	host_etc_free(he);
}

static void test_an_unsafe_parent_gives_only_the_safe_subtree(void **state)
{
	struct host_etc *he;

	(void)state;
	assert_int_equal(host_etc_scan(root, &he, NULL), 0);
	assert_true(has(he, "ssl/certs"));
	assert_true(has(he, "ssl/openssl.cnf"));
	assert_false(has(he, "ssl"));
	assert_false(has(he, "ssl/private"));
	/* php/ holds a file only root may read: nothing of it */
	assert_false(has(he, "php"));
	assert_false(has(he, "php/php.ini"));
	host_etc_free(he);
}

static void test_secrets_and_generated_files_are_never_given(void **state)
{
	struct host_etc *he;

	(void)state;
	assert_int_equal(host_etc_scan(root, &he, NULL), 0);
	for (size_t i = 0; i < he->n; i++) {
		assert_false(strncmp(he->paths[i], "shadow", 6) == 0);
		assert_false(strncmp(he->paths[i], "ssh", 3) == 0);
		assert_false(strcmp(he->paths[i], "machine-id") == 0);
		assert_false(strcmp(he->paths[i], "passwd") == 0);
	}
	host_etc_free(he);
}

static void test_a_root_without_etc_gives_nothing(void **state)
{
	struct host_etc *he;
	char empty[64];

	(void)state;
	snprintf(empty, sizeof(empty), "/tmp/corral-host-etc-empty-XXXXXX");
	assert_non_null(mkdtemp(empty));
	assert_int_equal(host_etc_scan(empty, &he, NULL), 0);
	assert_int_equal(he->n, 0);
	host_etc_free(he);
	rmdir(empty);
}

/* The cache tests: a file stored from a scan of the fake root. */
static void store_cache(void)
{
	struct host_etc *he;

	snprintf(cache, sizeof(cache), "%s/host-etc.cache", root);
	assert_int_equal(host_etc_scan(root, &he, NULL), 0);
	assert_int_equal(host_etc_cache_store(cache, root, now, he), 0);
	host_etc_free(he);
}

static void test_a_fresh_file_gives_the_scanned_set(void **state)
{
	struct host_etc *scanned, *loaded;

	(void)state;
	store_cache();
	assert_int_equal(host_etc_scan(root, &scanned, NULL), 0);
	assert_int_equal(host_etc_cache_load(cache, root, now + 5, &loaded), 0);
	assert_int_equal(loaded->n, scanned->n);
	for (size_t i = 0; i < scanned->n; i++)
		assert_string_equal(loaded->paths[i], scanned->paths[i]);
	assert_true(has(loaded, "java-17"));
	assert_true(has(loaded, "ssl/certs"));
	assert_true(has(loaded, "services"));
	host_etc_free(scanned);
	host_etc_free(loaded);
}

static void test_a_minute_old_or_future_file_is_stale(void **state)
{
	struct host_etc *he;

	(void)state;
	store_cache();
	assert_int_equal(host_etc_cache_load(cache, root, now + HOST_ETC_CACHE_MAX_AGE_S, &he), -ESTALE);
	assert_int_equal(host_etc_cache_load(cache, root, now - 1, &he), -ESTALE);
	assert_null(he);
}

/* A new top-level entry (a package's /etc/java-21), one in a given
 * directory, one in the directory holding a nested given path, a mode
 * changed on a given directory: each makes the file stale. */
static void expect_stale_after(const char *rel, bool dir, const char *chmod_rel)
{
	struct host_etc *he;

	assert_int_equal(host_etc_cache_load(cache, root, now, &he), 0);
	host_etc_free(he);
	if (rel && dir)
		make_dir(rel, 0755);
	else if (rel)
		make_file(rel, 0644);
	if (chmod_rel) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", root, chmod_rel);
		assert_int_equal(chmod(path, 0750), 0);
	}
	assert_int_equal(host_etc_cache_load(cache, root, now, &he), -ESTALE);
	/* a rescan's file is fresh again */
	assert_int_equal(host_etc_scan(root, &he, NULL), 0);
	assert_int_equal(host_etc_cache_store(cache, root, now, he), 0);
	host_etc_free(he);
	assert_int_equal(host_etc_cache_load(cache, root, now, &he), 0);
	host_etc_free(he);
}

static void test_a_change_in_etc_or_a_given_directory_makes_it_stale(void **state)
{
	char certs[256];

	(void)state;
	store_cache();
	expect_stale_after("etc/java-21", true, NULL);
	expect_stale_after("etc/java-17/extra", true, NULL);
	expect_stale_after("etc/ssl/cert.pem", false, NULL);
	expect_stale_after(NULL, false, "etc/ssl/certs");
	snprintf(certs, sizeof(certs), "%s/etc/ssl/certs", root);
	assert_int_equal(chmod(certs, 0755), 0);
}

static void write_cache_text(const char *text, mode_t mode)
{
	FILE *f = fopen(cache, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(cache, mode), 0);
}

/* A file another user could have written, or one naming what no scan
 * gives (a denied path, an absolute one, one with ".."), is not taken. */
static void test_an_untrusted_or_forged_file_is_not_taken(void **state)
{
	char good[4096], text[4200];
	struct host_etc *he;
	FILE *f;
	size_t n;

	(void)state;
	store_cache();
	f = fopen(cache, "r");
	assert_non_null(f);
	n = fread(good, 1, sizeof(good) - 1, f);
	fclose(f);
	good[n] = '\0';

	write_cache_text(good, 0666);
	assert_int_equal(host_etc_cache_load(cache, root, now, &he), -ESTALE);
	write_cache_text(good, 0600);
	assert_int_equal(host_etc_cache_load(cache, root, now, &he), 0);
	host_etc_free(he);

	static const char *const forged[] = { "path shadow\n",          "path ssh/ssh_host_rsa_key\n",
					      "path /etc/shadow\n",     "path ../root/.ssh\n",
					      "path java-17/../../x\n", "junk\n" };
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", good, forged[i]);
		write_cache_text(text, 0600);
		assert_int_equal(host_etc_cache_load(cache, root, now, &he), -ESTALE);
	}
	unlink(cache);
	assert_int_equal(host_etc_cache_load(cache, root, now, &he), -ESTALE);
}

static void test_only_paths_a_scan_could_give_are_allowed(void **state)
{
	(void)state;
	assert_true(host_etc_path_allowed("java-17"));
	assert_true(host_etc_path_allowed("ssl/certs"));
	assert_false(host_etc_path_allowed(""));
	assert_false(host_etc_path_allowed("/etc/services"));
	assert_false(host_etc_path_allowed("ssl/../shadow"));
	assert_false(host_etc_path_allowed("./services"));
	assert_false(host_etc_path_allowed("ssl//certs"));
	assert_false(host_etc_path_allowed("ssl/certs/"));
	assert_false(host_etc_path_allowed("ssl/private"));
	assert_false(host_etc_path_allowed("passwd"));
}

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static void test_limits_become_runtime_hints(void **state)
{
	struct jail_spec spec;
	char **env;

	(void)state;
	jail_spec_init(&spec);
	spec.memory_bytes = 256ull << 20;
	spec.cpu_millis = 500;
	assert_int_equal(task_env_build(&spec, &env), 0);
	assert_string_equal(env_get(env, "PATH"), "/usr/local/bin:/usr/bin:/bin");
	assert_string_equal(env_get(env, "JAVA_TOOL_OPTIONS"),
			    "-XX:MaxRAM=268435456 -XX:ActiveProcessorCount=1");
	assert_string_equal(env_get(env, "GOMEMLIMIT"), "230MiB");
	assert_string_equal(env_get(env, "GOMAXPROCS"), "1");
	assert_string_equal(env_get(env, "NODE_OPTIONS"), "--max-old-space-size=128");
	assert_string_equal(env_get(env, "OMP_NUM_THREADS"), "1");
	task_env_free(env);
}

static void test_the_callers_variable_replaces_a_hint(void **state)
{
	char *const given[] = { "PATH=/bin", "JAVA_TOOL_OPTIONS=", "GOMAXPROCS=4", NULL };
	struct jail_spec spec;
	char **env;

	(void)state;
	jail_spec_init(&spec);
	spec.env = given;
	spec.cpu_millis = 2500;
	assert_int_equal(task_env_build(&spec, &env), 0);
	assert_string_equal(env_get(env, "JAVA_TOOL_OPTIONS"), "");
	assert_string_equal(env_get(env, "GOMAXPROCS"), "4");
	assert_string_equal(env_get(env, "OMP_NUM_THREADS"), "3");
	assert_null(env_get(env, "HOME")); /* the caller's env replaces the default */
	task_env_free(env);
}

static void test_no_limits_no_hints(void **state)
{
	struct jail_spec spec;
	char **env;

	(void)state;
	jail_spec_init(&spec);
	spec.memory_bytes = 0;
	assert_int_equal(task_env_build(&spec, &env), 0);
	assert_null(env_get(env, "JAVA_TOOL_OPTIONS"));
	assert_null(env_get(env, "GOMEMLIMIT"));
	assert_null(env_get(env, "GOMAXPROCS"));
	assert_non_null(env_get(env, "HOME"));
	task_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_data_gives_its_top_level_entry),
		cmocka_unit_test(test_an_unsafe_parent_gives_only_the_safe_subtree),
		cmocka_unit_test(test_secrets_and_generated_files_are_never_given),
		cmocka_unit_test(test_a_root_without_etc_gives_nothing),
		cmocka_unit_test(test_limits_become_runtime_hints),
		cmocka_unit_test(test_the_callers_variable_replaces_a_hint),
		cmocka_unit_test(test_no_limits_no_hints),
		cmocka_unit_test(test_a_fresh_file_gives_the_scanned_set),
		cmocka_unit_test(test_a_minute_old_or_future_file_is_stale),
		cmocka_unit_test(test_a_change_in_etc_or_a_given_directory_makes_it_stale),
		cmocka_unit_test(test_an_untrusted_or_forged_file_is_not_taken),
		cmocka_unit_test(test_only_paths_a_scan_could_give_are_allowed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
