/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_tenant.c — tenant records and result webhooks'
 * delivery state of a store (supervisor/store/store_tenant.h,
 * store_callback.h), once per backend: a set replaces the record and
 * appends an audit row in the same transaction, a delete of no record
 * audits nothing, the list is by name; a callback is due only once its
 * task ended and its time came, a claim is taken once, a retry and a
 * settle keep what they were told, retention removes a task's callback.
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
#include "supervisor/store/store_callback.h"
#include "supervisor/store/store_tenant.h"
#include "tests/lib/store_fixture.h"

static struct pg_server *pg;

static void set(struct store_fixture *f, const char *name, const char *plan, uint32_t max, int64_t at)
{
	struct store_tenant_change c = {
		.name = name, .plan = plan, .max_concurrent = max, .by = "root", .by_uid = 0, .at_us = at
	};
	struct error err = { 0 };

	if (store_tenant_set(f->store, &c, &err) != 0)
		fail_msg("store_tenant_set: %s", err.message);
}

static void test_set_replaces_and_audits(void **state)
{
	struct store_fixture *f = *state;
	struct store_tenant_list list;
	struct store_tenant_audit_list audit;
	struct store_tenant_change del = { .name = "alice", .by = "ops", .by_uid = 42, .at_us = 300 };
	struct error err = { 0 };

	set(f, "bob", "free", 0, 50);
	set(f, "alice", "pro", 8, 100);
	set(f, "alice", "free", 0, 200);
	assert_int_equal(store_tenant_list(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[0].name, "alice");
	assert_string_equal(list.items[0].plan, "free");
	assert_int_equal(list.items[0].max_concurrent, 0);
	assert_int_equal(list.items[0].updated_at_us, 200);
	assert_string_equal(list.items[0].updated_by, "root");
	store_tenant_list_free(&list);
	assert_int_equal(store_tenant_delete(f->store, &del, &err), 0);
	assert_int_equal(store_tenant_delete(f->store, &del, &err), -ENOENT);
	assert_int_equal(store_tenant_audit(f->store, "alice", &audit, &err), 0);
	assert_int_equal(audit.count, 3);
	assert_string_equal(audit.items[0].action, "set");
	assert_string_equal(audit.items[0].plan, "pro");
	assert_int_equal(audit.items[0].max_concurrent, 8);
	assert_string_equal(audit.items[1].plan, "free");
	assert_string_equal(audit.items[2].action, "delete");
	assert_string_equal(audit.items[2].plan, "");
	assert_string_equal(audit.items[2].by, "ops");
	assert_int_equal(audit.items[2].by_uid, 42);
	assert_int_equal(audit.items[2].at_us, 300);
	assert_true(audit.items[0].id < audit.items[1].id && audit.items[1].id < audit.items[2].id);
	store_tenant_audit_list_free(&audit);
	assert_int_equal(store_tenant_list(f->store, &list, &err), 0);
	assert_int_equal(list.count, 1);
	store_tenant_list_free(&list);
}

static void test_bad_changes_are_refused(void **state)
{
	struct store_fixture *f = *state;
	struct store_tenant_change c = { .name = "", .plan = "pro", .by = "root" };
	struct error err = { 0 };

	assert_int_equal(store_tenant_set(f->store, &c, &err), -EINVAL);
	c.name = "a\nb";
	assert_int_equal(store_tenant_set(f->store, &c, &err), -EINVAL);
	c.name = "alice";
	c.plan = "";
	assert_int_equal(store_tenant_set(f->store, &c, &err), -EINVAL);
	c.plan = "pro";
	c.by = NULL;
	assert_int_equal(store_tenant_set(f->store, &c, &err), -EINVAL);
}

static int64_t submit(struct store_fixture *f)
{
	struct store_task t = { .user = "alice",
				.profile = "default",
				.argv_json = "[\"/bin/true\"]",
				.env_json = "{}",
				.submitted_at_us = 1000 };
	struct error err = { 0 };
	int64_t id = 0;

	if (store_submit(f->store, &t, &id, &err) != 0)
		fail_msg("submit: %s", err.message);
	return id;
}

static size_t due(struct store_fixture *f, int64_t now)
{
	struct store_callback_list list;
	struct error err = { 0 };
	size_t n;

	assert_int_equal(store_callback_due(f->store, now, 10, &list, &err), 0);
	n = list.count;
	store_callback_list_free(&list);
	return n;
}

static void test_callback_is_due_after_the_end_and_claimed_once(void **state)
{
	struct store_fixture *f = *state;
	struct store_callback cb;
	struct error err = { 0 };
	int64_t id = submit(f), other = submit(f);

	assert_int_equal(store_callback_add(f->store, id, "http://h/x", &err), 0);
	assert_int_equal(store_callback_add(f->store, other, "http://h/y", &err), 0);
	assert_int_equal(due(f, 5000), 0); /* not ended */
	assert_int_equal(store_cancel_queued(f->store, id, 2000, &err), 0);
	assert_int_equal(due(f, 5000), 1);
	assert_int_equal(store_callback_claim(f->store, id, 5000, 9000, &err), 0);
	assert_int_equal(store_callback_claim(f->store, id, 5000, 9000, &err), -ESTALE);
	assert_int_equal(due(f, 5000), 0);
	assert_int_equal(due(f, 9000), 1); /* the lease ended: due again */
	assert_int_equal(store_callback_retry(f->store, id, 20000, "HTTP 500", &err), 0);
	assert_int_equal(due(f, 19999), 0);
	assert_int_equal(store_callback_get(f->store, id, &cb, &err), 0);
	assert_string_equal(cb.url, "http://h/x");
	assert_string_equal(cb.state, "pending");
	assert_int_equal(cb.attempts, 1);
	assert_int_equal(cb.next_at_us, 20000);
	assert_string_equal(cb.last_error, "HTTP 500");
	store_callback_clear(&cb);
	assert_int_equal(store_callback_claim(f->store, id, 20000, 30000, &err), 0);
	assert_int_equal(store_callback_settle(f->store, id, true, 21000, "", &err), 0);
	assert_int_equal(due(f, 99999), 0);
	assert_int_equal(store_callback_get(f->store, id, &cb, &err), 0);
	assert_string_equal(cb.state, "delivered");
	assert_int_equal(cb.attempts, 2);
	assert_int_equal(cb.delivered_at_us, 21000);
	store_callback_clear(&cb);
	assert_int_equal(store_callback_get(f->store, 999, &cb, &err), -ENOENT);
	assert_int_equal(store_callback_add(f->store, id, "", &err), -EINVAL);
	/* retention removes the task and its callback */
	{
		struct store_purged_list purged;

		assert_int_equal(store_purge_ended(f->store, "alice", 1000000, 10, &purged, &err), 0);
		assert_int_equal(purged.count, 1);
		store_purged_list_free(&purged);
		assert_int_equal(store_callback_get(f->store, id, &cb, &err), -ENOENT);
		assert_int_equal(store_callback_get(f->store, other, &cb, &err), 0);
		store_callback_clear(&cb);
	}
}

int main(void)
{
	int failed = 0;
	pg = store_fixture_pg("the PostgreSQL tenant and callback tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_set_replaces_and_audits),
			T(test_bad_changes_are_refused),
			T(test_callback_is_due_after_the_end_and_claimed_once),
#undef T
		};

		if (postgres && !pg)
			continue;
		failed += cmocka_run_group_tests_name(postgres ? "tenants on postgresql"
							       : "tenants on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
