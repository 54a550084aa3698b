/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_migrate.c — `corral store migrate`'s copy
 * (supervisor/store/store_migrate.h): a SQLite store with tasks in every
 * state, retries, charges across months, adjustments, events and text that
 * needs escaping moves into an empty PostgreSQL store with the same ids and
 * values, later ids continue after them; a target with data, a missing
 * source and the wrong kinds of store are refused and nothing is written.
 * PostgreSQL is a real server this program starts (tests/lib/pg.h); without
 * it the tests skip loudly (fail under CORRAL_MUST_WORK=1).
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
#include "supervisor/store/store_migrate.h"
#include "supervisor/store/store_callback.h"
#include "supervisor/store/store_tenant.h"
#include "supervisor/store/store_token.h"
#include "tests/lib/pg.h"

static struct pg_server *pg;

struct fixture {
	char dir[64], sqlite[128], db[32], uri[192];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[512];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/corral-test-migrate-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sqlite, sizeof(f->sqlite), "%s/corral.db", f->dir);
	if (pg_server_create_db(pg, f->db, sizeof(f->db), f->uri, sizeof(f->uri), why, sizeof(why)) < 0)
		fail_msg("create a database: %s", why);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	pg_server_drop_db(pg, f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static struct store *open_store(const char *uri)
{
	struct store *s = NULL;
	struct error err = { 0 };

	if (store_open(uri, NULL, &s, &err) < 0)
		fail_msg("open %s: %s", uri, err.message);
	return s;
}

static int64_t submit(struct store *s, const char *user, const char *argv_json, int64_t at)
{
	struct store_task t = {
		.user = (char *)user,
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = (char *)argv_json,
		.env_json = "{\"A\": \"tab\\there\\nnewline \\\\ back\"}",
		.cwd = "/work",
		.wall_limit_ms = 60000,
		.submitted_at_us = at,
		.cpu_millis = 250 * at, /* --cpus */
	};
	struct error err = { 0 };
	int64_t id;

	if (store_submit(s, &t, &id, &err) < 0)
		fail_msg("submit: %s", err.message);
	return id;
}

static void run(struct store *s, int64_t id, int attempts)
{
	struct store_start st = { .started_at_us = 100,
				  .deadline_us = 9000,
				  .cpu_reserved_us = 500,
				  .host_uid = 700000001,
				  .cgroup = "task-x",
				  .attempts = attempts };
	struct error err = { 0 };

	if (store_mark_running(s, id, &st, &err) < 0)
		fail_msg("mark running: %s", err.message);
}

/* A small store: every state, a retry, charges in two months, adjustments. */
static void fill(const char *uri)
{
	struct store *s = open_store(uri);
	struct error err = { 0 };
	struct store_result done = {
		.state = STORE_SUCCEEDED,
		.reason = STORE_REASON_EXIT_CODE,
		.message = "exited 0\twith a tab\nand a line",
		.usage = { .exit_code = 0,
			   .signal = -1,
			   .cpu_user_us = 70,
			   .cpu_system_us = 30,
			   .memory_peak_bytes = 1 << 20,
			   .stdout_bytes = 12,
			   .stdout_truncated = true },
		.ended_at_us = 5000,
		.cpu_total_us = 100,
		.month = "2031-02",
	};
	struct store_requeue rq = { .reason = "host fault",
				    .at_us = 200,
				    .not_before_us = 1200,
				    .cpu_total_us = 5,
				    .month = "2031-01" };
	struct store_adjustment adj = { .user = "alice",
					.month = "2031-02",
					.delta_us = -7,
					.by = "root",
					.by_uid = 0,
					.at_us = 42,
					.reason = "take back \\ back" };
	int64_t a = submit(s, "alice", "[\"/bin/echo\", \"a\\tb\", \"\\\\N\"]", 1);
	int64_t b = submit(s, "bob", "[\"sleep\", \"9\"]", 2);
	int64_t c = submit(s, "alice", "[\"x\"]", 3);
	int64_t q = submit(s, "bob", "[\"queued\"]", 4);

	(void)q;
	run(s, a, 1);
	assert_int_equal(store_charge(s, a, 0, 40, "2031-01", 150, &err), 0);
	assert_int_equal(store_finish(s, a, &done, &err), 0);
	run(s, b, 1);
	assert_int_equal(store_requeue(s, b, &rq, &err), 0);
	run(s, b, 2);
	assert_int_equal(store_request_cancel(s, b, 300, &err), 0);
	assert_int_equal(store_cancel_queued(s, c, 400, &err), 0);
	assert_int_equal(store_usage_adjust(s, &adj, NULL, &err), 0);
	{
		struct store_token t = { .name = "ci", .tenant = "alice", .created_at_us = 10 };
		int64_t id;

		memset(t.hash, 'a', STORE_TOKEN_HASH_HEX);
		assert_int_equal(store_token_create(s, &t, &id, &err), 0);
		assert_int_equal(store_token_idempotency_put(s, "alice", "order-1", a, 11, &err), 0);
	}
	{
		struct store_tenant_change tc = { .name = "alice", .plan = "pro", .by = "root", .at_us = 12 };

		assert_int_equal(store_tenant_set(s, &tc, &err), 0);
		assert_int_equal(store_callback_add(s, a, "http://h/x", &err), 0);
	}
	store_close(s);
}

static void expect_same_task(const struct store_task *x, const struct store_task *y)
{
	assert_int_equal(x->id, y->id);
	assert_string_equal(x->user, y->user);
	assert_string_equal(x->argv_json, y->argv_json);
	assert_string_equal(x->env_json, y->env_json);
	assert_int_equal(x->state, y->state);
	assert_int_equal(x->reason, y->reason);
	if (x->message || y->message)
		assert_string_equal(x->message, y->message);
	assert_int_equal(x->usage.exit_code, y->usage.exit_code);
	assert_int_equal(x->usage.signal, y->usage.signal);
	assert_int_equal(x->usage.cpu_user_us, y->usage.cpu_user_us);
	assert_int_equal(x->usage.memory_peak_bytes, y->usage.memory_peak_bytes);
	assert_int_equal(x->usage.stdout_truncated, y->usage.stdout_truncated);
	assert_int_equal(x->submitted_at_us, y->submitted_at_us);
	assert_int_equal(x->started_at_us, y->started_at_us);
	assert_int_equal(x->ended_at_us, y->ended_at_us);
	assert_int_equal(x->deadline_us, y->deadline_us);
	assert_int_equal(x->cpu_charged_us, y->cpu_charged_us);
	assert_int_equal(x->attempts, y->attempts);
	assert_int_equal(x->host_uid, y->host_uid);
	assert_int_equal(x->cancel_requested, y->cancel_requested);
	assert_int_equal(x->cpu_prior_us, y->cpu_prior_us);
	assert_int_equal(x->not_before_us, y->not_before_us);
	if (x->last_attempt_error || y->last_attempt_error)
		assert_string_equal(x->last_attempt_error, y->last_attempt_error);
	assert_true(x->cpu_millis > 0);
	assert_int_equal(x->cpu_millis, y->cpu_millis);
}

static void test_migrate_copies_everything_with_its_ids(void **state)
{
	struct fixture *f = *state;
	struct store_migrate_counts counts;
	struct store_task_list xs, ys;
	struct store_filter all = { .state = -1 };
	struct store *x, *y;
	struct error err = { 0 };
	int64_t cpu_x, cpu_y, next;

	fill(f->sqlite);
	assert_int_equal(store_migrate(f->sqlite, f->uri, &counts, &err), 0);
	assert_int_equal(counts.tasks, 4);
	assert_int_equal(counts.adjustments, 1);
	assert_true(counts.events >= 8);
	assert_int_equal(counts.cpu_us, 105); /* a: 40 in January + 60 at its end; b: 5 */
	x = open_store(f->sqlite);
	y = open_store(f->uri);
	assert_int_equal(store_list_tasks(x, &all, &xs, &err), 0);
	assert_int_equal(store_list_tasks(y, &all, &ys, &err), 0);
	assert_int_equal(xs.count, ys.count);
	for (size_t i = 0; i < xs.count; i++) {
		struct store_event_list ex, ey;
		struct store_task tx, ty;

		/* whole rows (a list's rows carry a cut argv and no env) */
		assert_int_equal(xs.tasks[i].id, ys.tasks[i].id);
		assert_int_equal(store_get_task(x, xs.tasks[i].id, &tx, &err), 0);
		assert_int_equal(store_get_task(y, ys.tasks[i].id, &ty, &err), 0);
		expect_same_task(&tx, &ty);
		store_task_clear(&tx);
		store_task_clear(&ty);
		assert_int_equal(store_list_events(x, xs.tasks[i].id, &ex, &err), 0);
		assert_int_equal(store_list_events(y, ys.tasks[i].id, &ey, &err), 0);
		assert_int_equal(ex.count, ey.count);
		for (size_t e = 0; e < ex.count; e++) {
			assert_int_equal(ex.items[e].id, ey.items[e].id);
			assert_string_equal(ex.items[e].kind, ey.items[e].kind);
			assert_int_equal(ex.items[e].at_us, ey.items[e].at_us);
		}
		store_event_list_free(&ex);
		store_event_list_free(&ey);
	}
	store_task_list_free(&xs);
	store_task_list_free(&ys);
	for (int m = 1; m <= 2; m++) {
		char month[32];

		snprintf(month, sizeof(month), "2031-%02d", m);
		assert_int_equal(store_usage_get(x, "alice", month, &cpu_x, &err), 0);
		assert_int_equal(store_usage_get(y, "alice", month, &cpu_y, &err), 0);
		assert_int_equal(cpu_x, cpu_y);
		assert_int_equal(store_usage_adjust_sum(y, "alice", month, &cpu_y, &err), 0);
		assert_int_equal(cpu_y, m == 2 ? -7 : 0);
	}
	/* tokens and idempotency keys came along */
	{
		struct store_token t = { .name = "new", .tenant = "bob", .created_at_us = 20 };
		char hash[STORE_TOKEN_HASH_HEX + 1];
		int64_t id;

		memset(hash, 'a', STORE_TOKEN_HASH_HEX);
		hash[STORE_TOKEN_HASH_HEX] = '\0';
		assert_int_equal(store_token_use(y, hash, 30, &t, &err), 0);
		assert_string_equal(t.tenant, "alice");
		assert_int_equal(t.id, 1);
		store_token_clear(&t);
		t = (struct store_token){ .name = "new", .tenant = "bob", .created_at_us = 20 };
		memset(t.hash, 'b', STORE_TOKEN_HASH_HEX);
		assert_int_equal(store_token_create(y, &t, &id, &err), 0);
		assert_int_equal(id, 2);
		assert_int_equal(store_token_idempotency_get(y, "alice", "order-1", &id, &err), 0);
		assert_int_equal(id, 1);
	}
	/* tenant records, their audit and callbacks came along */
	{
		struct store_tenant_list tl;
		struct store_tenant_audit_list al;
		struct store_callback cb;
		struct store_tenant_change tc = { .name = "alice", .plan = "free", .by = "root", .at_us = 40 };

		assert_int_equal(store_tenant_list(y, &tl, &err), 0);
		assert_int_equal(tl.count, 1);
		assert_string_equal(tl.items[0].plan, "pro");
		store_tenant_list_free(&tl);
		assert_int_equal(store_tenant_set(y, &tc, &err), 0);
		assert_int_equal(store_tenant_audit(y, "alice", &al, &err), 0);
		assert_int_equal(al.count, 2);
		assert_int_equal(al.items[1].id, 2); /* after the copied id */
		store_tenant_audit_list_free(&al);
		assert_int_equal(store_callback_get(y, 1, &cb, &err), 0);
		assert_string_equal(cb.url, "http://h/x");
		store_callback_clear(&cb);
	}
	/* ids go on after the copied ones */
	next = submit(y, "carol", "[\"after\"]", 10);
	assert_int_equal(next, 5);
	store_close(x);
	store_close(y);
}

static void test_migrate_refuses_a_target_with_data_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_migrate_counts counts;
	struct store_task_list ys;
	struct store_filter all = { .state = -1 };
	struct error err = { 0 };
	struct store *y;

	fill(f->sqlite);
	y = open_store(f->uri);
	submit(y, "zed", "[\"already\"]", 1);
	store_close(y);
	assert_int_equal(store_migrate(f->sqlite, f->uri, &counts, &err), -ENOTEMPTY);
	assert_non_null(strstr(err.message, "empty database"));
	y = open_store(f->uri);
	assert_int_equal(store_list_tasks(y, &all, &ys, &err), 0);
	assert_int_equal(ys.count, 1);
	store_task_list_free(&ys);
	store_close(y);
}

static void test_migrate_refuses_missing_source_and_wrong_kinds(void **state)
{
	struct fixture *f = *state;
	struct store_migrate_counts counts;
	struct error err = { 0 };
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/nope.db", f->dir);
	assert_int_equal(store_migrate(missing, f->uri, &counts, &err), -ENOENT);
	assert_int_equal(access(missing, F_OK), -1); /* not created */
	assert_int_equal(store_migrate(f->uri, f->uri, &counts, &err), -EINVAL);
	/* a SQLite --to is refused before anything is created */
	snprintf(missing, sizeof(missing), "%s/stray.db", f->dir);
	fill(f->sqlite);
	assert_int_equal(store_migrate(f->sqlite, missing, &counts, &err), -EINVAL);
	assert_int_equal(access(missing, F_OK), -1);
	assert_int_equal(store_migrate(f->sqlite, f->sqlite, &counts, &err), -EINVAL);
}

/* One writer at a time: a store a corrald holds (opened exclusive) is
 * refused on either side, and nothing is copied. */
static void test_migrate_refuses_stores_in_use(void **state)
{
	struct fixture *f = *state;
	const struct store_options exclusive = { .exclusive = true };
	struct store_migrate_counts counts;
	struct store *held = NULL;
	struct error err = { 0 };

	fill(f->sqlite);
	assert_int_equal(store_open(f->sqlite, &exclusive, &held, &err), 0);
	assert_int_equal(store_migrate(f->sqlite, f->uri, &counts, &err), -EBUSY);
	assert_non_null(strstr(err.message, "in use by another corrald"));
	store_close(held);
	assert_int_equal(store_open(f->uri, &exclusive, &held, &err), 0);
	assert_int_equal(store_migrate(f->sqlite, f->uri, &counts, &err), -EBUSY);
	store_close(held);
	/* free again: it copies */
	assert_int_equal(store_migrate(f->sqlite, f->uri, &counts, &err), 0);
	assert_int_equal(counts.tasks, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_copies_everything_with_its_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_refuses_a_target_with_data_and_writes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_refuses_missing_source_and_wrong_kinds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_refuses_stores_in_use, setup, teardown),
	};
	char why[512] = "";

	pg = pg_shared_server(why, sizeof(why));
	if (!pg) {
		const char *must = getenv("CORRAL_MUST_WORK");

		if (must && strcmp(must, "1") == 0) {
			fprintf(stderr, "FAIL: CORRAL_MUST_WORK=1 but the migrate tests would skip: %s\n",
				why);
			return 1;
		}
		fprintf(stderr, "SKIP: the store migrate tests: %s\n", why);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
