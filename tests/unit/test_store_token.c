/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_token.c — API tokens and idempotency keys of a store
 * (supervisor/store/store_token.h), once per backend: a token is found by
 * its hash and its last use recorded (at most once a minute), revoked and expired tokens are not
 * found, the list shows every token without the token itself, an
 * idempotency key maps (tenant, key) to one task and a second put keeps
 * the first.
 *
 * SQLite on a real file in a temp dir; PostgreSQL on a real server this
 * program starts (tests/lib/pg.h), a fresh database per test; without
 * PostgreSQL binaries that group skips loudly (fails under
 * CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_token.h"
#include "tests/lib/store_fixture.h"

static struct pg_server *pg;

static const char hash_a[] = "a3f1c0de00000000000000000000000000000000000000000000000000000001";
static const char hash_b[] = "b3f1c0de00000000000000000000000000000000000000000000000000000002";

static int64_t create(struct store_fixture *f, const char *hash, const char *tenant, bool op, int64_t expires)
{
	struct store_token t = { .name = "ci",
				 .tenant = (char *)tenant,
				 .operator_ = op,
				 .created_at_us = 1000,
				 .expires_at_us = expires };
	struct error err = { 0 };
	int64_t id = 0;

	snprintf(t.hash, sizeof(t.hash), "%s", hash);
	if (store_token_create(f->store, &t, &id, &err) != 0)
		fail_msg("store_token_create: %s", err.message);
	assert_true(id > 0);
	return id;
}

static void test_token_is_found_by_hash_and_its_use_recorded(void **state)
{
	struct store_fixture *f = *state;
	struct store_token t, again;
	struct error err = { 0 };
	int64_t id = create(f, hash_a, "alice", false, 0);

	assert_int_equal(store_token_use(f->store, hash_a, 5000, &t, &err), 0);
	assert_int_equal(t.id, id);
	assert_string_equal(t.tenant, "alice");
	assert_string_equal(t.name, "ci");
	assert_false(t.operator_);
	assert_int_equal(t.last_used_at_us, 5000);
	assert_int_equal(t.created_at_us, 1000);
	assert_string_equal(t.hash, hash_a);
	store_token_clear(&t);
	/* a use within a minute of the recorded one writes nothing */
	assert_int_equal(store_token_use(f->store, hash_a, 5000 + STORE_TOKEN_TOUCH_US, &t, &err), 0);
	assert_int_equal(t.last_used_at_us, 5000);
	store_token_clear(&t);
	assert_int_equal(store_token_use(f->store, hash_a, 5001 + STORE_TOKEN_TOUCH_US, &t, &err), 0);
	assert_int_equal(t.last_used_at_us, 5001 + STORE_TOKEN_TOUCH_US);
	store_token_clear(&t);
	assert_int_equal(store_token_use(f->store, hash_a, 6000 + STORE_TOKEN_TOUCH_US, &t, &err), 0);
	assert_int_equal(t.last_used_at_us, 5001 + STORE_TOKEN_TOUCH_US);
	store_token_clear(&t);
	assert_int_equal(store_token_use(f->store, hash_b, 5000, &again, &err), -ENOENT);
	assert_int_equal(store_token_use(f->store, "not-hex", 5000, &again, &err), -ENOENT);
}

static void test_revoked_and_expired_tokens_are_not_found(void **state)
{
	struct store_fixture *f = *state;
	struct store_token t;
	struct error err = { 0 };
	int64_t id = create(f, hash_a, "alice", false, 0);

	create(f, hash_b, "ops", true, 2000);
	assert_int_equal(store_token_use(f->store, hash_b, 1999, &t, &err), 0);
	assert_true(t.operator_);
	store_token_clear(&t);
	assert_int_equal(store_token_use(f->store, hash_b, 2000, &t, &err), -ENOENT);
	assert_int_equal(store_token_revoke(f->store, id, 3000, &err), 0);
	assert_int_equal(store_token_use(f->store, hash_a, 4000, &t, &err), -ENOENT);
	assert_int_equal(store_token_revoke(f->store, id, 3000, &err), -ENOENT);
	assert_int_equal(store_token_revoke(f->store, 999, 3000, &err), -ENOENT);
}

static void test_list_shows_every_token(void **state)
{
	struct store_fixture *f = *state;
	struct store_token_list list;
	struct error err = { 0 };
	int64_t a = create(f, hash_a, "alice", false, 0);
	int64_t b = create(f, hash_b, "ops", true, 9000);

	assert_int_equal(store_token_revoke(f->store, a, 3000, &err), 0);
	assert_int_equal(store_token_list(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.items[0].id, a);
	assert_int_equal(list.items[0].revoked_at_us, 3000);
	assert_int_equal(list.items[0].last_used_at_us, 0);
	assert_int_equal(list.items[1].id, b);
	assert_true(list.items[1].operator_);
	assert_int_equal(list.items[1].expires_at_us, 9000);
	assert_int_equal(list.items[1].revoked_at_us, 0);
	store_token_list_free(&list);
}

static void test_bad_tokens_are_refused(void **state)
{
	struct store_fixture *f = *state;
	struct store_token t = { .name = "ci", .tenant = "alice", .hash = "short" };
	struct error err = { 0 };
	int64_t id;

	assert_int_equal(store_token_create(f->store, &t, &id, &err), -EINVAL);
	snprintf(t.hash, sizeof(t.hash), "%s", hash_a);
	t.tenant = "";
	assert_int_equal(store_token_create(f->store, &t, &id, &err), -EINVAL);
	t.tenant = "alice";
	t.name = "a\nb";
	assert_int_equal(store_token_create(f->store, &t, &id, &err), -EINVAL);
}

static void test_idempotency_key_maps_to_the_first_task(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	int64_t task = 0;

	assert_int_equal(store_token_idempotency_get(f->store, "alice", "k1", &task, &err), -ENOENT);
	assert_int_equal(store_token_idempotency_put(f->store, "alice", "k1", 42, 10, &err), 0);
	assert_int_equal(store_token_idempotency_put(f->store, "alice", "k1", 43, 11, &err), -EEXIST);
	assert_int_equal(store_token_idempotency_get(f->store, "alice", "k1", &task, &err), 0);
	assert_int_equal(task, 42);
	/* another tenant's key of the same text is its own */
	assert_int_equal(store_token_idempotency_get(f->store, "bob", "k1", &task, &err), -ENOENT);
	assert_int_equal(store_token_idempotency_put(f->store, "bob", "k1", 44, 12, &err), 0);
	assert_int_equal(store_token_idempotency_get(f->store, "bob", "k1", &task, &err), 0);
	assert_int_equal(task, 44);
	assert_int_equal(store_token_idempotency_put(f->store, "bob", "", 44, 12, &err), -EINVAL);
}

int main(void)
{
	int failed = 0;
	pg = store_fixture_pg("the PostgreSQL token tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_token_is_found_by_hash_and_its_use_recorded),
			T(test_revoked_and_expired_tokens_are_not_found),
			T(test_list_shows_every_token),
			T(test_bad_tokens_are_refused),
			T(test_idempotency_key_maps_to_the_first_task),
#undef T
		};

		if (postgres && !pg)
			continue;
		failed += cmocka_run_group_tests_name(postgres ? "tokens on postgresql" : "tokens on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
