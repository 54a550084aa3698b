/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_policy.c — the cluster's policy generations in a
 * store (supervisor/store/store_policy.h), once per backend: an empty
 * store has generation 0 and no latest; each push is the latest + 1 with
 * its text, SHA-256, pusher and the database's time; a push that expects
 * a generation stores nothing once another came first (the first node's
 * push of its file); bad arguments store nothing; generations survive a
 * reopen.
 *
 * SQLite on a real file in a temp dir; PostgreSQL on a real server
 * (tests/lib/pg.h), a fresh database per test; without PostgreSQL
 * binaries that group skips loudly (fails under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_policy.h"
#include "tests/lib/store_fixture.h"

static struct pg_server *pg;

static int64_t push(struct store_fixture *f, const char *text, const char *by, int64_t expected)
{
	struct store_policy p;
	struct error err = { 0 };

	if (store_policy_push(f->store, text, by, expected, &p, &err) != 0)
		fail_msg("store_policy_push: %s", err.message);
	assert_true(p.pushed_at_us > 0);
	return p.generation;
}

static void test_empty_store_has_no_generation(void **state)
{
	struct store_fixture *f = *state;
	struct store_policy p;
	struct error err = { 0 };
	int64_t g = -1;

	assert_int_equal(store_policy_generation(f->store, &g, &err), 0);
	assert_int_equal(g, 0);
	assert_int_equal(store_policy_latest(f->store, &p, &err), -ENOENT);
}

static void test_each_push_is_the_next_generation(void **state)
{
	struct store_fixture *f = *state;
	const char *second = "[plan p]\nmax_concurrent = 2\n";
	struct store_policy p;
	struct error err = { 0 };
	char sha[65];
	int64_t g = 0;

	assert_int_equal(push(f, "[plan p]\nmax_concurrent = 1\n", "node it-1", -1), 1);
	assert_int_equal(push(f, second, "root", -1), 2);
	assert_int_equal(store_policy_generation(f->store, &g, &err), 0);
	assert_int_equal(g, 2);
	assert_int_equal(store_policy_latest(f->store, &p, &err), 0);
	assert_int_equal(p.generation, 2);
	assert_string_equal(p.text, second);
	assert_string_equal(p.pushed_by, "root");
	assert_true(p.pushed_at_us > 0);
	store_policy_sha256(second, strlen(second), sha);
	assert_string_equal(p.sha256, sha);
	assert_int_equal(strlen(sha), 64);
	store_policy_clear(&p);
	/* the same text again is a new generation all the same */
	assert_int_equal(push(f, second, "root", -1), 3);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(store_open(f->uri, NULL, &f->store, &err), 0);
	assert_int_equal(store_policy_latest(f->store, &p, &err), 0);
	assert_int_equal(p.generation, 3);
	assert_string_equal(p.text, second);
	store_policy_clear(&p);
}

static void test_a_push_expecting_a_generation_loses_to_an_earlier_one(void **state)
{
	struct store_fixture *f = *state;
	struct store_policy p;
	struct error err = { 0 };
	int64_t g = 0;

	/* two first nodes: the one that comes second stores nothing */
	assert_int_equal(push(f, "[default]\nplan = a\n", "node a", 0), 1);
	assert_int_equal(store_policy_push(f->store, "[default]\nplan = b\n", "node b", 0, &p, &err),
			 -ESTALE);
	assert_non_null(strstr(err.message, "another push came first"));
	assert_int_equal(store_policy_generation(f->store, &g, &err), 0);
	assert_int_equal(g, 1);
	assert_int_equal(push(f, "[default]\nplan = c\n", "root", 1), 2);
	assert_int_equal(store_policy_latest(f->store, &p, &err), 0);
	assert_string_equal(p.text, "[default]\nplan = c\n");
	store_policy_clear(&p);
}

static void test_bad_pushes_store_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct store_policy p;
	struct error err = { 0 };
	char *big = malloc(STORE_POLICY_TEXT_MAX + 2);
	int64_t g = -1;

	assert_non_null(big);
	memset(big, '#', STORE_POLICY_TEXT_MAX + 1);
	big[STORE_POLICY_TEXT_MAX + 1] = '\0';
	assert_int_equal(store_policy_push(f->store, "", "root", -1, &p, &err), -EINVAL);
	assert_int_equal(store_policy_push(f->store, NULL, "root", -1, &p, &err), -EINVAL);
	assert_int_equal(store_policy_push(f->store, big, "root", -1, &p, &err), -EINVAL);
	assert_int_equal(store_policy_push(f->store, "[default]\n", "", -1, &p, &err), -EINVAL);
	assert_int_equal(store_policy_push(f->store, "[default]\n", "ro\not", -1, &p, &err), -EINVAL);
	free(big);
	assert_int_equal(store_policy_generation(f->store, &g, &err), 0);
	assert_int_equal(g, 0);
}

/* Each node's generation and its last failure, replaced by the next record. */
static void test_nodes_record_the_generation_they_run(void **state)
{
	struct store_fixture *f = *state;
	struct store_policy_node_list l;
	struct error err = { 0 };
	char *long_error = malloc(STORE_POLICY_ERROR_MAX + 100);

	assert_non_null(long_error);
	memset(long_error, 'e', STORE_POLICY_ERROR_MAX + 99);
	long_error[STORE_POLICY_ERROR_MAX - 1] = '\xc3'; /* an é across the cut */
	long_error[STORE_POLICY_ERROR_MAX] = '\xa9';
	long_error[STORE_POLICY_ERROR_MAX + 99] = '\0';
	assert_int_equal(store_policy_nodes(f->store, &l, &err), 0);
	assert_int_equal(l.count, 0);
	store_policy_node_list_free(&l);
	assert_int_equal(store_policy_node_set(f->store, "n-b", 1, 0, NULL, &err), 0);
	assert_int_equal(store_policy_node_set(f->store, "n-a", 1, 0, NULL, &err), 0);
	assert_int_equal(store_policy_node_set(f->store, "n-a", 1, 2, long_error, &err), 0);
	assert_int_equal(store_policy_node_set(f->store, "", 1, 0, NULL, &err), -EINVAL);
	assert_int_equal(store_policy_nodes(f->store, &l, &err), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].node, "n-a");
	assert_int_equal(l.items[0].applied, 1);
	assert_int_equal(l.items[0].failed, 2);
	assert_int_equal(strlen(l.items[0].error), STORE_POLICY_ERROR_MAX - 1);
	assert_true(l.items[0].at_us > 0);
	assert_string_equal(l.items[1].node, "n-b");
	assert_null(l.items[1].error);
	store_policy_node_list_free(&l);
	free(long_error);
}

int main(void)
{
	int failed = 0;
	pg = store_fixture_pg("the PostgreSQL policy generation tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_empty_store_has_no_generation),
			T(test_each_push_is_the_next_generation),
			T(test_a_push_expecting_a_generation_loses_to_an_earlier_one),
			T(test_bad_pushes_store_nothing),
			T(test_nodes_record_the_generation_they_run),
#undef T
		};

		if (postgres && !pg)
			continue;
		failed += cmocka_run_group_tests_name(postgres ? "policy generations on postgresql"
							       : "policy generations on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
