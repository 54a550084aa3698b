/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store.c — the durable store (supervisor/store/store.h), once
 * per backend, plus the seam itself (store URIs, task_state's table of moves).
 *
 * Every behaviour of store.h is a test that takes a fresh store of its
 * backend from cmocka's state (tests/lib/store_fixture.h: its prestate is
 * the PostgreSQL server, or NULL for SQLite).
 * SQLite runs on a real file in a fresh temp directory per test,
 * synchronous=FULL as in production (no test here asks for
 * synchronous=OFF), opened through its store URI (sqlite:PATH).
 * PostgreSQL runs on a real server this program starts (tests/lib/pg.h:
 * initdb + pg_ctl as nobody in a temp dir, Unix socket only), a fresh
 * database per test; without PostgreSQL binaries its groups skip loudly,
 * and fail under CORRAL_MUST_WORK=1.  Tests of each backend's own handling
 * (SQLite's files; PostgreSQL's schema, server errors, lost connections)
 * are groups of their own.  Times come from a fake clock: plain numbers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_cluster.h"
#include "supervisor/store/store_files.h"
#include "supervisor/store/store_node.h"
#include "tests/lib/store_fixture.h"

/* The PostgreSQL server of this run (NULL: none could start). */
static struct pg_server *pg;

static void reopen(struct store_fixture *f, const struct store_options *opts)
{
	struct error err = { 0 };

	store_close(f->store);
	f->store = NULL;
	if (store_open(f->uri, opts, &f->store, &err) != 0)
		fail_msg("reopen: %s", err.message);
}

/* A node that joins a database just migrated to version 4. */
static const struct store_node upgraded_node = {
	.name = "n1",
	.incarnation = "i1",
	.version = "test",
	.offline_after_us = 1000000,
	.slots = 1,
};

static struct store_task sample(const char *user, int64_t at)
{
	return (struct store_task){
		.user = (char *)user,
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = "[\"/bin/echo\", \"hi; DROP TABLE tasks; --\"]",
		.env_json = "{\"LANG\": \"C\"}",
		.cwd = "/work",
		.wall_limit_ms = 60000,
		.cpu_limit_us = 30000000,
		.memory_limit_bytes = 256 << 20,
		.submitted_at_us = at,
	};
}

static int64_t submit(struct store_fixture *f, const char *user, int64_t at)
{
	struct store_task t = sample(user, at);
	struct error err = { 0 };
	int64_t id = 0;

	if (store_submit(f->store, &t, &id, &err) != 0)
		fail_msg("submit: %s", err.message);
	assert_true(id > 0);
	return id;
}

static void start(struct store_fixture *f, int64_t id, int64_t at)
{
	struct store_start st = { .started_at_us = at,
				  .deadline_us = at + 60000000,
				  .cpu_reserved_us = 30000000,
				  .host_uid = 60001,
				  .cgroup = "tasks/x",
				  .attempts = 1 };
	struct error err = { 0 };

	if (store_mark_running(f->store, id, &st, &err) != 0)
		fail_msg("mark running: %s", err.message);
}

static struct store_result result(int64_t cpu_total, const char *month)
{
	return (struct store_result){
		.state = STORE_SUCCEEDED,
		.reason = STORE_REASON_EXIT_CODE,
		.message = "exited 0",
		.usage = { .exit_code = 0,
			   .signal = -1,
			   .cpu_user_us = cpu_total * 3 / 4,
			   .cpu_system_us = cpu_total / 4,
			   .memory_peak_bytes = 1 << 20,
			   .stdout_bytes = 3,
			   .stderr_bytes = 0,
			   .stdout_truncated = true },
		.ended_at_us = 9000,
		.cpu_total_us = cpu_total,
		.month = month,
	};
}

static int64_t usage(struct store_fixture *f, const char *user, const char *month)
{
	struct error err = { 0 };
	int64_t cpu = -1;

	if (store_usage_get(f->store, user, month, &cpu, &err) != 0)
		fail_msg("usage: %s", err.message);
	return cpu;
}

static void test_open_creates_schema_owner_only_and_reopens(void **state)
{
	struct store_fixture *f = *state;
	struct stat st;

	assert_int_equal(store_schema_version(f->store), 17);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	reopen(f, NULL);
	assert_int_equal(store_schema_version(f->store), 17);
}

static void test_submitted_task_survives_reopen(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;
	struct store_event_list events;
	int64_t id = submit(f, "alice", 1000);

	reopen(f, NULL);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_string_equal(t.user, "alice");
	assert_string_equal(t.argv_json, "[\"/bin/echo\", \"hi; DROP TABLE tasks; --\"]");
	assert_string_equal(t.env_json, "{\"LANG\": \"C\"}");
	assert_string_equal(t.cwd, "/work");
	assert_null(t.stdin_path);
	assert_int_equal(t.state, STORE_QUEUED);
	assert_int_equal(t.reason, STORE_REASON_NONE);
	assert_int_equal(t.memory_limit_bytes, 256 << 20);
	assert_int_equal(t.submitted_at_us, 1000);
	assert_int_equal(t.usage.exit_code, -1);
	assert_int_equal(t.host_uid, -1);
	assert_int_equal(t.cpu_charged_us, 0);
	store_task_clear(&t);

	assert_int_equal(store_list_events(f->store, id, &events, &err), 0);
	assert_int_equal(events.count, 1);
	assert_string_equal(events.items[0].kind, "submitted");
	store_event_list_free(&events);
}

static void test_unknown_task_is_enoent(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;

	assert_int_equal(store_get_task(f->store, 42, &t, &err), -ENOENT);
	assert_non_null(strstr(err.message, "task 42"));
	assert_int_equal(store_cancel_queued(f->store, 42, 1, &err), -ENOENT);
}

static void test_bad_json_is_rejected_before_storing(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t = sample("alice", 1);
	struct store_task_list list;
	int64_t id;

	t.argv_json = "[\"unterminated";
	assert_int_equal(store_submit(f->store, &t, &id, &err), -EINVAL);
	assert_non_null(strstr(err.message, "argv"));
	t.argv_json = "[]";
	assert_int_equal(store_submit(f->store, &t, &id, &err), -EINVAL);
	t.argv_json = "[\"/bin/true\"]";
	t.env_json = "{\"A\": 1}";
	assert_int_equal(store_submit(f->store, &t, &id, &err), -EINVAL);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 0);
	store_task_list_free(&list);
}

/* --cpus: what a task asked for is kept (get, list, the queue); 0 = none;
 * out of range is refused */
static void test_cpu_millis_round_trip(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t = sample("alice", 1), got;
	struct store_task_list list;
	int64_t with, without;

	t.cpu_millis = 1500;
	assert_int_equal(store_submit(f->store, &t, &with, &err), 0);
	without = submit(f, "alice", 2);
	assert_int_equal(store_get_task(f->store, with, &got, &err), 0);
	assert_int_equal(got.cpu_millis, 1500);
	store_task_clear(&got);
	assert_int_equal(store_get_task(f->store, without, &got, &err), 0);
	assert_int_equal(got.cpu_millis, 0);
	store_task_clear(&got);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[0].cpu_millis, 1500);
	store_task_list_free(&list);
	t.cpu_millis = -1;
	assert_int_equal(store_submit(f->store, &t, &with, &err), -EINVAL);
	t.cpu_millis = STORE_MAX_CPU_MILLIS + 1;
	assert_int_equal(store_submit(f->store, &t, &with, &err), -EINVAL);
	assert_non_null(strstr(err.message, "thousandths of a CPU"));
}

static void test_queued_tasks_load_in_submit_order(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task_list list;
	int64_t a = submit(f, "zed", 10), b = submit(f, "alice", 5), c = submit(f, "bob", 20);

	assert_true(a < b && b < c);
	start(f, b, 30);
	reopen(f, NULL);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[0].id, a);
	assert_int_equal(list.tasks[1].id, c);
	store_task_list_free(&list);

	assert_int_equal(store_load_running(f->store, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.tasks[0].id, b);
	assert_int_equal(list.tasks[0].deadline_us, 30 + 60000000);
	assert_int_equal(list.tasks[0].host_uid, 60001);
	assert_string_equal(list.tasks[0].cgroup, "tasks/x");
	assert_int_equal(list.tasks[0].attempts, 1);
	store_task_list_free(&list);
}

static void test_mark_running_only_from_queued(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_start st = { .started_at_us = 5, .host_uid = -1, .attempts = 2 };
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_mark_running(f->store, id, &st, &err), -ESTALE);
	assert_non_null(strstr(err.message, "running, not queued"));
	assert_int_equal(store_mark_running(f->store, id + 100, &st, &err), -ENOENT);
}

static void test_charge_same_cursor_twice_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;
	int64_t id = submit(f, "alice", 1);

	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-03", 50, &err), -ESTALE);
	assert_non_null(strstr(err.message, "queued, not running"));
	start(f, id, 2);
	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-03", 50, &err), 0);
	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-03", 51, &err), -ESTALE);
	assert_non_null(strstr(err.message, "already charged"));
	assert_int_equal(usage(f, "alice", "2026-03"), 100);
	assert_int_equal(store_charge(f->store, id, 100, 250, "2026-03", 60, &err), 0);
	assert_int_equal(store_charge(f->store, id, 250, 200, "2026-03", 61, &err), -EINVAL);
	assert_int_equal(store_charge(f->store, id, 250, 300, "2026-13", 61, &err), -EINVAL);
	assert_int_equal(usage(f, "alice", "2026-03"), 250);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(t.cpu_charged_us, 250);
	assert_int_equal(t.charged_at_us, 60);
	store_task_clear(&t);
}

static void test_charge_splits_at_month_boundary(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_result res = result(350, "2026-02");
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-01", 3, &err), 0);
	assert_int_equal(store_charge(f->store, id, 100, 300, "2026-02", 4, &err), 0);
	assert_int_equal(store_finish(f->store, id, &res, &err), 0);
	assert_int_equal(usage(f, "alice", "2026-01"), 100);
	assert_int_equal(usage(f, "alice", "2026-02"), 250);
}

static void test_finish_charges_remainder_once(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_result res = result(400, "2026-03");
	struct store_task t;
	struct store_event_list events;
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-03", 3, &err), 0);
	assert_int_equal(store_finish(f->store, id, &res, &err), 0);
	assert_int_equal(usage(f, "alice", "2026-03"), 400);

	res.state = STORE_FAILED;
	res.cpu_total_us = 900;
	assert_int_equal(store_finish(f->store, id, &res, &err), -ESTALE);
	assert_non_null(strstr(err.message, "already ended"));
	assert_int_equal(store_charge(f->store, id, 400, 500, "2026-03", 4, &err), -ESTALE);
	reopen(f, NULL);
	assert_int_equal(usage(f, "alice", "2026-03"), 400);

	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(t.state, STORE_SUCCEEDED);
	assert_int_equal(t.reason, STORE_REASON_EXIT_CODE);
	assert_string_equal(t.message, "exited 0");
	assert_int_equal(t.usage.exit_code, 0);
	assert_int_equal(t.usage.signal, -1);
	assert_int_equal(t.cpu_charged_us, 400);
	assert_int_equal(t.usage.cpu_user_us, 300);
	assert_int_equal(t.ended_at_us, 9000);
	assert_true(t.usage.stdout_truncated);
	assert_false(t.usage.stderr_truncated);
	store_task_clear(&t);

	assert_int_equal(store_list_events(f->store, id, &events, &err), 0);
	assert_int_equal(events.count, 3);
	assert_string_equal(events.items[1].kind, "running");
	assert_string_equal(events.items[2].kind, "finished");
	store_event_list_free(&events);
}

/* running -> queued: the start undone, the order kept, the attempt's CPU
 * charged once and carried as cpu_prior_us, why it ended kept */
static void test_requeue_puts_running_task_back_in_submit_order(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_requeue rq = { .reason = "Setup failed at step 'cgroup_create': No space left on device",
				    .at_us = 5,
				    .not_before_us = 1000005,
				    .cpu_total_us = 300,
				    .month = "2026-03" };
	struct store_task_list queued;
	struct store_event_list events;
	struct store_task t;
	struct store_start again = { .started_at_us = 7,
				     .cpu_reserved_us = 10,
				     .host_uid = 60002,
				     .cgroup = "tasks/y",
				     .attempts = 2 };
	struct store_result res = result(350, "2026-03");
	int64_t first = submit(f, "alice", 1), second = submit(f, "alice", 2);

	start(f, first, 3);
	assert_int_equal(store_charge(f->store, first, 0, 100, "2026-03", 4, &err), 0);
	assert_int_equal(store_requeue(f->store, first, &rq, &err), 0);
	assert_int_equal(usage(f, "alice", "2026-03"), 300);
	reopen(f, NULL);

	assert_int_equal(store_get_task(f->store, first, &t, &err), 0);
	assert_int_equal(t.state, STORE_QUEUED);
	assert_int_equal(t.attempts, 1);
	assert_int_equal(t.started_at_us, 0);
	assert_int_equal(t.deadline_us, 0);
	assert_int_equal(t.host_uid, -1);
	assert_null(t.cgroup);
	assert_int_equal(t.cpu_reserved_us, 0);
	assert_int_equal(t.cpu_charged_us, 300);
	assert_int_equal(t.cpu_prior_us, 300);
	assert_int_equal(t.not_before_us, 1000005);
	assert_string_equal(t.last_attempt_error, rq.reason);
	store_task_clear(&t);

	/* still ahead of the task submitted after it */
	assert_int_equal(store_load_queued(f->store, &queued, &err), 0);
	assert_int_equal(queued.count, 2);
	assert_int_equal(queued.tasks[0].id, first);
	assert_int_equal(queued.tasks[1].id, second);
	store_task_list_free(&queued);

	/* the next attempt charges from the carried cursor; the end charges the rest once */
	assert_int_equal(store_mark_running(f->store, first, &again, &err), 0);
	assert_int_equal(store_charge(f->store, first, 300, 320, "2026-03", 8, &err), 0);
	assert_int_equal(store_finish(f->store, first, &res, &err), 0);
	assert_int_equal(usage(f, "alice", "2026-03"), 350);
	assert_int_equal(store_get_task(f->store, first, &t, &err), 0);
	assert_int_equal(t.attempts, 2);
	assert_int_equal(t.cpu_charged_us, 350);
	assert_string_equal(t.last_attempt_error, rq.reason);
	store_task_clear(&t);

	assert_int_equal(store_list_events(f->store, first, &events, &err), 0);
	assert_int_equal(events.count, 5);
	assert_string_equal(events.items[2].kind, "requeued");
	assert_non_null(strstr(events.items[2].detail, "cgroup_create"));
	assert_string_equal(events.items[3].kind, "running");
	store_event_list_free(&events);
}

static void test_requeue_only_from_running(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_requeue rq = { .reason = "lost", .at_us = 5, .month = "2026-03" };
	struct store_result res = result(10, "2026-03");
	struct store_task t;
	int64_t id = submit(f, "alice", 1);

	assert_int_equal(store_requeue(f->store, id, &rq, &err), -ESTALE);
	assert_non_null(strstr(err.message, "queued"));
	assert_int_equal(store_requeue(f->store, id + 100, &rq, &err), -ENOENT);
	start(f, id, 2);
	assert_int_equal(store_finish(f->store, id, &res, &err), 0);
	assert_int_equal(store_requeue(f->store, id, &rq, &err), -ESTALE);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(t.state, STORE_SUCCEEDED);
	assert_null(t.last_attempt_error);
	store_task_clear(&t);
	rq.reason = NULL;
	assert_int_equal(store_requeue(f->store, id, &rq, &err), -EINVAL);
	rq.reason = "x";
	rq.month = "2026-13";
	assert_int_equal(store_requeue(f->store, id, &rq, &err), -EINVAL);
	assert_int_equal(usage(f, "alice", "2026-03"), 10);
}

/* A start the store failed under (a lost connection while its inputs were
 * read) is not an attempt: its requeue gives the attempt back. */
static void test_requeue_not_an_attempt_gives_the_attempt_back(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_requeue rq = { .reason = "Setup failed at step 'store'",
				    .at_us = 5,
				    .month = "2026-03",
				    .not_an_attempt = true };
	struct store_task t;
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_requeue(f->store, id, &rq, &err), 0);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(t.state, STORE_QUEUED);
	assert_int_equal(t.attempts, 0);
	assert_string_equal(t.last_attempt_error, rq.reason);
	store_task_clear(&t);
	/* an ordinary requeue keeps the count */
	start(f, id, 3);
	rq.not_an_attempt = false;
	assert_int_equal(store_requeue(f->store, id, &rq, &err), 0);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(t.attempts, 1);
	store_task_clear(&t);
}

/* A message with a multi-byte name cut in half (a jail's setup error about
 * a tenant's argv[0]) is kept as UTF-8, with U+FFFD for the bad byte: on
 * PostgreSQL the end is recorded instead of refused forever. */
static void test_invalid_utf8_text_is_stored_cleaned(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct store_requeue rq = { .reason = "lost \xc3", .at_us = 3, .cpu_total_us = 0, .month = "2026-04" };
	struct error err = { 0 };
	struct store_task t;
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_requeue(f->store, id, &rq, &err), 0);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_string_equal(t.last_attempt_error, "lost \xef\xbf\xbd");
	store_task_clear(&t);
	start(f, id, 4);
	r.message = "execute '/\xc3\xa9\xc3': No such file \xff\xfe";
	assert_int_equal(store_finish(f->store, id, &r, &err), 0);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_string_equal(t.message,
			    "execute '/\xc3\xa9\xef\xbf\xbd': No such file \xef\xbf\xbd\xef\xbf\xbd");
	store_task_clear(&t);
	assert_int_equal(store_event_append(f->store, id, 5, "note", "x\x80y", &err), 0);
}

static void test_finish_from_queued_charges_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_result res = result(0, "2026-03");
	int64_t id = submit(f, "alice", 1);

	res.state = STORE_FAILED;
	res.reason = STORE_REASON_SPAWN_ERROR;
	assert_int_equal(store_finish(f->store, id, &res, &err), 0);
	assert_int_equal(usage(f, "alice", "2026-03"), 0);
	res.state = STORE_RUNNING;
	assert_int_equal(store_finish(f->store, id, &res, &err), -EINVAL);
}

static void test_cancel_queued_and_request_cancel_running(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;
	int64_t queued = submit(f, "alice", 1), running = submit(f, "alice", 2);

	start(f, running, 3);
	assert_int_equal(store_cancel_queued(f->store, queued, 4, &err), 0);
	assert_int_equal(store_cancel_queued(f->store, queued, 5, &err), -ESTALE);
	assert_int_equal(store_cancel_queued(f->store, running, 5, &err), -ESTALE);
	assert_int_equal(store_request_cancel(f->store, queued, 5, &err), -ESTALE);
	assert_int_equal(store_request_cancel(f->store, running, 6, &err), 0);
	assert_int_equal(store_request_cancel(f->store, running, 7, &err), 0);

	assert_int_equal(store_get_task(f->store, queued, &t, &err), 0);
	assert_int_equal(t.state, STORE_CANCELLED);
	assert_int_equal(t.reason, STORE_REASON_CANCELLED);
	assert_int_equal(t.ended_at_us, 4);
	store_task_clear(&t);
	assert_int_equal(store_get_task(f->store, running, &t, &err), 0);
	assert_int_equal(t.state, STORE_RUNNING);
	assert_true(t.cancel_requested);
	store_task_clear(&t);
}

static void test_list_filters_by_user_state_and_limit(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task_list list;
	struct store_filter filter = { .user = "alice", .state = -1 };
	int64_t a1 = submit(f, "alice", 1), b1 = submit(f, "bob", 2), a2 = submit(f, "alice", 3);
	int64_t a3 = submit(f, "alice", 4);

	start(f, a2, 5);
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 3);
	assert_int_equal(list.tasks[0].id, a3); /* newest first */
	assert_int_equal(list.tasks[2].id, a1);
	store_task_list_free(&list);

	filter.state = STORE_QUEUED;
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	store_task_list_free(&list);

	filter = (struct store_filter){ .state = STORE_RUNNING };
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.tasks[0].id, a2);
	store_task_list_free(&list);

	filter = (struct store_filter){ .state = -1, .limit = 2 };
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[1].id, a2);
	store_task_list_free(&list);

	filter = (struct store_filter){ .user = "bob' OR '1'='1", .state = -1 };
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 0);
	store_task_list_free(&list);

	assert_int_equal(store_list_tasks(f->store, NULL, &list, &err), 0);
	assert_int_equal(list.count, 4);
	assert_int_equal(list.tasks[2].id, b1);
	store_task_list_free(&list);
}

/* corral list --since/--until: submitted in [since, until) */
static void test_list_filters_by_submit_time(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task_list list;
	int64_t a1 = submit(f, "alice", 100), b1 = submit(f, "bob", 200), a2 = submit(f, "alice", 300);
	struct store_filter filter = { .state = -1, .since_us = 200 };

	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[0].id, a2);
	assert_int_equal(list.tasks[1].id, b1);
	store_task_list_free(&list);
	filter = (struct store_filter){ .state = -1, .until_us = 300 };
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[0].id, b1);
	assert_int_equal(list.tasks[1].id, a1);
	store_task_list_free(&list);
	filter = (struct store_filter){
		.user = "alice", .state = STORE_QUEUED, .since_us = 150, .until_us = 301
	};
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.tasks[0].id, a2);
	store_task_list_free(&list);
}

static void test_list_pages_with_before_id(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task_list list;
	int64_t a1 = submit(f, "alice", 1), b1 = submit(f, "bob", 2), a2 = submit(f, "alice", 3);
	struct store_filter filter = { .state = -1, .limit = 2 };

	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[1].id, b1);
	store_task_list_free(&list);
	filter.before_id = b1; /* the next page */
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.tasks[0].id, a1);
	store_task_list_free(&list);
	filter = (struct store_filter){ .user = "alice", .state = STORE_QUEUED, .before_id = a2 };
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.tasks[0].id, a1);
	store_task_list_free(&list);
}

static void test_usage_per_month_and_queue_counts(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_usage_list u;
	int64_t a = submit(f, "alice", 1), b = submit(f, "bob", 2), count = -1;

	submit(f, "alice", 3);
	start(f, a, 4);
	start(f, b, 4);
	assert_int_equal(store_charge(f->store, a, 0, 70, "2026-04", 5, &err), 0);
	assert_int_equal(store_charge(f->store, b, 0, 30, "2026-04", 5, &err), 0);
	assert_int_equal(store_charge(f->store, b, 30, 45, "2026-05", 6, &err), 0);

	assert_int_equal(store_usage_month(f->store, "2026-04", &u, &err), 0);
	assert_int_equal(u.count, 2);
	assert_string_equal(u.items[0].user, "alice");
	assert_int_equal(u.items[0].cpu_us, 70);
	assert_string_equal(u.items[1].user, "bob");
	assert_int_equal(u.items[1].cpu_us, 30);
	store_usage_list_free(&u);
	assert_int_equal(usage(f, "bob", "2026-05"), 15);
	assert_int_equal(usage(f, "carol", "2026-05"), 0);

	assert_int_equal(store_count_queued(f->store, "alice", &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_queued(f->store, "bob", &count, &err), 0);
	assert_int_equal(count, 0);
}

static struct store_adjustment adjustment(const char *user, const char *month, int64_t delta,
					  const char *reason)
{
	return (struct store_adjustment){ .user = (char *)user,
					  .month = (char *)month,
					  .delta_us = delta,
					  .by = "root",
					  .by_uid = 0,
					  .at_us = 1234,
					  .reason = (char *)reason };
}

static int64_t adjust_sum(struct store_fixture *f, const char *user, const char *month)
{
	struct error err = { 0 };
	int64_t sum = -1;

	if (store_usage_adjust_sum(f->store, user, month, &sum, &err) != 0)
		fail_msg("adjust sum: %s", err.message);
	return sum;
}

/* Adjustments are rows of their own: the charged usage never moves. */
static void test_usage_adjustments_are_rows_and_leave_usage_alone(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_adjustment a = adjustment("alice", "2026-04", 3600000000, "refund #123");
	struct store_adjustment_list list;
	int64_t t = submit(f, "alice", 1), id1 = 0, id2 = 0;

	start(f, t, 2);
	assert_int_equal(store_charge(f->store, t, 0, 500, "2026-04", 3, &err), 0);
	assert_int_equal(store_usage_adjust(f->store, &a, &id1, &err), 0);
	a = adjustment("alice", "2026-04", -1800000000, "took back half");
	a.by = "ops";
	a.by_uid = 1001;
	assert_int_equal(store_usage_adjust(f->store, &a, &id2, &err), 0);
	assert_true(id2 > id1 && id1 > 0);
	a = adjustment("bob", "2026-04", 7, "trial");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);
	a = adjustment("alice", "2026-05", 9, "next month");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);

	assert_int_equal(usage(f, "alice", "2026-04"), 500);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 1800000000);
	assert_int_equal(adjust_sum(f, "alice", "2026-05"), 9);
	assert_int_equal(adjust_sum(f, "carol", "2026-04"), 0);

	reopen(f, NULL);
	assert_int_equal(store_usage_adjustments(f->store, "alice", "2026-04", &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.items[0].id, id1);
	assert_string_equal(list.items[0].user, "alice");
	assert_string_equal(list.items[0].month, "2026-04");
	assert_int_equal(list.items[0].delta_us, 3600000000);
	assert_string_equal(list.items[0].by, "root");
	assert_int_equal(list.items[0].by_uid, 0);
	assert_int_equal(list.items[0].at_us, 1234);
	assert_string_equal(list.items[0].reason, "refund #123");
	assert_int_equal(list.items[1].delta_us, -1800000000);
	assert_string_equal(list.items[1].by, "ops");
	assert_int_equal(list.items[1].by_uid, 1001);
	store_adjustment_list_free(&list);

	assert_int_equal(store_usage_adjustments(f->store, NULL, "2026-04", &list, &err), 0);
	assert_int_equal(list.count, 3);
	assert_string_equal(list.items[0].user, "alice");
	assert_string_equal(list.items[2].user, "bob");
	store_adjustment_list_free(&list);
	assert_int_equal(usage(f, "alice", "2026-04"), 500);
}

static void test_usage_adjust_refuses_bad_values_and_stores_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	char long_reason[STORE_ADJUST_MAX_REASON + 2];
	struct store_adjustment a;

	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	a = adjustment("alice", "2026-04", 0, "nothing");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("alice", "2026-04", 5, "");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.message, "reason"));
	a = adjustment("alice", "2026-04", 5, NULL);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("alice", "2026-04", 5, long_reason);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	long_reason[STORE_ADJUST_MAX_REASON] = '\0'; /* exactly the most */
	a = adjustment("alice", "2026-04", 5, long_reason);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);
	a = adjustment("alice", "2026-13", 5, "bad month");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("", "2026-04", 5, "no user");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("alice", "2026-04", STORE_ADJUST_MAX_US + 1, "absurd");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("alice", "2026-04", -STORE_ADJUST_MAX_US - 1, "absurd");
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	a = adjustment("alice", "2026-04", 5, "no author");
	a.by = "";
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), -EINVAL);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 5);
}

/* An adjustment inside a batch is durable only with the batch. */
static void test_usage_adjust_joins_an_open_batch(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_adjustment a = adjustment("alice", "2026-04", 42, "grant");

	assert_int_equal(store_batch_begin(f->store, &err), 0);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 42);
	store_batch_abort(f->store);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 0);
}

/* Moves task_state_can_move() refuses are -ESTALE and change nothing. */
static void test_illegal_transition_is_estale_and_changes_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_result res = result(500, "2026-03");
	struct store_start st = { .started_at_us = 5, .host_uid = -1, .attempts = 1 };
	struct store_event_list events;
	struct store_task t;
	int64_t queued = submit(f, "alice", 1), done = submit(f, "alice", 2);

	/* queued -> succeeded: a task that never ran cannot succeed */
	assert_int_equal(store_finish(f->store, queued, &res, &err), -ESTALE);
	assert_non_null(strstr(err.message, "queued -> succeeded is not allowed"));
	assert_int_equal(store_get_task(f->store, queued, &t, &err), 0);
	assert_int_equal(t.state, STORE_QUEUED);
	assert_int_equal(t.reason, STORE_REASON_NONE);
	assert_int_equal(t.cpu_charged_us, 0);
	store_task_clear(&t);
	assert_int_equal(usage(f, "alice", "2026-03"), 0);
	assert_int_equal(store_list_events(f->store, queued, &events, &err), 0);
	assert_int_equal(events.count, 1);
	store_event_list_free(&events);

	/* out of a terminal state: nothing moves */
	start(f, done, 3);
	assert_int_equal(store_finish(f->store, done, &res, &err), 0);
	assert_int_equal(store_mark_running(f->store, done, &st, &err), -ESTALE);
	assert_int_equal(store_cancel_queued(f->store, done, 6, &err), -ESTALE);
	assert_int_equal(store_request_cancel(f->store, done, 6, &err), -ESTALE);
	res.state = STORE_CANCELLED;
	res.reason = STORE_REASON_CANCELLED;
	assert_int_equal(store_finish(f->store, done, &res, &err), -ESTALE);
	assert_int_equal(store_get_task(f->store, done, &t, &err), 0);
	assert_int_equal(t.state, STORE_SUCCEEDED);
	assert_int_equal(t.cpu_charged_us, 500);
	store_task_clear(&t);
	assert_int_equal(usage(f, "alice", "2026-03"), 500);
}

static void test_batch_is_one_transaction(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task_list list;
	struct store_start st = { .started_at_us = 1, .host_uid = -1 };

	assert_int_equal(store_batch_begin(f->store, &err), 0);
	assert_int_equal(store_batch_begin(f->store, &err), -EALREADY);
	submit(f, "alice", 1);
	/* A refused operation inside the batch is undone alone. */
	assert_int_equal(store_mark_running(f->store, 999, &st, &err), -ENOENT);
	submit(f, "bob", 2);
	assert_int_equal(store_batch_commit(f->store, &err), 0);

	assert_int_equal(store_batch_begin(f->store, &err), 0);
	submit(f, "carol", 3);
	store_batch_abort(f->store);

	reopen(f, NULL);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.tasks[0].user, "alice");
	assert_string_equal(list.tasks[1].user, "bob");
	store_task_list_free(&list);
}

static void test_newer_schema_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store *other = NULL;
	sqlite3 *db;

	store_close(f->store);
	f->store = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, NULL, &other, &err), -EPROTONOSUPPORT);
	assert_null(other);
	assert_non_null(strstr(err.message, "schema version 99"));
	assert_non_null(strstr(err.message, "refusing"));
}

/* A version 1 database (before adjustments) is brought up to date. */
/* A database of version 1 (no adjustments, no retry columns, no nodes, no
 * stored bytes) is brought up to the newest schema: migrations 2
 * (adjustments), 3 (retries), 4 (nodes) and 5 (storage). */
static void test_version_1_database_gains_adjustments_and_retries(void **state)
{
	struct store_fixture *f = *state;
	struct store_adjustment a = adjustment("alice", "2026-04", 5, "after upgrade");
	struct error err = { 0 };
	int64_t t = submit(f, "alice", 1);
	sqlite3 *db;

	store_close(f->store);
	f->store = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"DROP TRIGGER tasks_live_insert; DROP TRIGGER tasks_live_update; DROP TRIGGER tasks_live_delete;"
			"DROP TABLE live_delta; DROP TABLE live_users; DROP TABLE live_nodes;"
			"DROP TABLE nodes; DROP TABLE leader; DROP TABLE api_tokens; DROP TABLE idempotency_keys;"
			"DROP TABLE task_output; DROP INDEX tasks_lease; ALTER TABLE tasks DROP COLUMN node_name;"
			"ALTER TABLE tasks DROP COLUMN lease_owner; ALTER TABLE tasks DROP COLUMN lease_until_us;"
			"ALTER TABLE tasks DROP COLUMN assigned_capped;"
			"ALTER TABLE tasks DROP COLUMN assigned_memory_bytes;"
			"DROP TABLE tenants; DROP TABLE tenant_audit; DROP TABLE callbacks; DROP TABLE policy_generations; DROP TABLE policy_nodes;"
			"DROP TABLE task_files; DROP TABLE task_file_chunks; DROP TABLE uploads; DROP TABLE upload_chunks; DROP TABLE sched_fair;"
			"DROP TABLE usage_adjustments;"
			"ALTER TABLE tasks DROP COLUMN cpu_prior_us;"
			"ALTER TABLE tasks DROP COLUMN last_attempt_error;"
			"ALTER TABLE tasks DROP COLUMN not_before_us;"
			"DROP INDEX tasks_user_ended;"
			"ALTER TABLE tasks DROP COLUMN stored_bytes;"
			"ALTER TABLE tasks DROP COLUMN gpus;"
			"ALTER TABLE tasks DROP COLUMN gpu_memory_bytes;"
			"ALTER TABLE tasks DROP COLUMN labels;"
			"ALTER TABLE tasks DROP COLUMN oom_kills;"
			"ALTER TABLE tasks DROP COLUMN cpu_millis;"
			"DELETE FROM schema_version WHERE version >= 2",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	reopen(f, NULL);
	assert_int_equal(store_schema_version(f->store), 17);
	assert_int_equal(store_node_join(f->store, &upgraded_node, NULL, &err), 0);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 5);
	assert_int_equal(submit(f, "alice", 2), t + 1);
}

/* ---- storage: stored bytes, pages, retention (issue 16) -------------------- */

/* A task holds its argv and env as stored and its stdin, then its outputs
 * too; the per-tenant sums are what corrald's quota counters start from. */
static void test_stored_bytes_count_inputs_then_outputs_per_tenant(void **state)
{
	struct store_fixture *f = *state;
	struct store_task t = sample("alice", 1);
	struct store_result r = result(10, "2026-04");
	struct store_storage_list list;
	struct error err = { 0 };
	int64_t a, b, c, input;

	t.stdin_bytes = 1000;
	input = (int64_t)(strlen(t.argv_json) + strlen(t.env_json)) + 1000;
	assert_int_equal(store_input_bytes(&t), input);
	assert_int_equal(store_submit(f->store, &t, &a, &err), 0);
	assert_int_equal(store_fixture_stored_bytes(f, a), input);
	b = submit(f, "alice", 2);
	c = submit(f, "bob", 3);
	start(f, a, 5);
	r.output_bytes = 4096;
	assert_int_equal(store_finish(f->store, a, &r, &err), 0);
	assert_int_equal(store_fixture_stored_bytes(f, a), input + 4096);
	assert_int_equal(store_storage_by_user(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[0].user, "alice");
	assert_int_equal(list.items[0].bytes, input + 4096 + store_fixture_stored_bytes(f, b));
	assert_string_equal(list.items[1].user, "bob");
	assert_int_equal(list.items[1].bytes, store_fixture_stored_bytes(f, c));
	store_storage_list_free(&list);
}

/* A page: newest first below a cursor, with argv cut to a bounded prefix
 * (an old row may hold megabytes) and no env. */
static void test_list_pages_by_cursor_and_cuts_huge_argv(void **state)
{
	struct store_fixture *f = *state;
	struct store_task t = sample("alice", 1);
	struct store_filter filter = { .state = -1, .limit = 2 };
	struct store_task_list list;
	struct error err = { 0 };
	size_t huge = 3u << 20;
	char *argv = malloc(huge + 16);
	int64_t ids[5];

	assert_non_null(argv);
	strcpy(argv, "[\"");
	memset(argv + 2, 'x', huge);
	strcpy(argv + 2 + huge, "\"]");
	t.argv_json = argv;
	assert_int_equal(store_submit(f->store, &t, &ids[0], &err), 0);
	for (int i = 1; i < 5; i++)
		ids[i] = submit(f, "alice", 2 + i);
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.tasks[0].id, ids[4]);
	assert_int_equal(list.tasks[1].id, ids[3]);
	store_task_list_free(&list);
	filter.before_id = ids[3];
	filter.limit = 10;
	assert_int_equal(store_list_tasks(f->store, &filter, &list, &err), 0);
	assert_int_equal(list.count, 3);
	assert_int_equal(list.tasks[0].id, ids[2]);
	assert_int_equal(list.tasks[2].id, ids[0]);
	assert_true(strlen(list.tasks[2].argv_json) <= STORE_LIST_ARGV_CHARS);
	assert_true(strncmp(list.tasks[2].argv_json, "[\"xxx", 5) == 0);
	assert_null(list.tasks[2].env_json);
	store_task_list_free(&list);
	free(argv);
}

/* Retention removes a tenant's tasks that ended before the cutoff, oldest
 * end first, at most limit, with their events; never a queued or running
 * task, never another tenant's. */
static void test_purge_removes_only_old_ended_tasks_of_the_tenant(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct store_purged_list gone;
	struct store_event_list events;
	struct store_task t;
	struct error err = { 0 };
	int64_t old1 = submit(f, "alice", 1), old2 = submit(f, "alice", 2), young = submit(f, "alice", 3);
	int64_t queued = submit(f, "alice", 4), running = submit(f, "alice", 5), bob = submit(f, "bob", 6);

	start(f, old1, 10);
	start(f, old2, 10);
	start(f, young, 10);
	start(f, running, 10);
	start(f, bob, 10);
	r.ended_at_us = 200;
	assert_int_equal(store_finish(f->store, old2, &r, &err), 0);
	r.ended_at_us = 100;
	assert_int_equal(store_finish(f->store, old1, &r, &err), 0);
	assert_int_equal(store_finish(f->store, bob, &r, &err), 0);
	r.ended_at_us = 5000;
	assert_int_equal(store_finish(f->store, young, &r, &err), 0);

	assert_int_equal(store_purge_ended(f->store, "alice", 1000, 1, &gone, &err), 0);
	assert_int_equal(gone.count, 1);
	assert_int_equal(gone.items[0].id, old1); /* the oldest end first */
	assert_true(gone.items[0].stored_bytes > 0);
	store_purged_list_free(&gone);
	assert_int_equal(store_get_task(f->store, old1, &t, &err), -ENOENT);
	assert_int_equal(store_list_events(f->store, old1, &events, &err), 0);
	assert_int_equal(events.count, 0);
	store_event_list_free(&events);

	assert_int_equal(store_purge_ended(f->store, "alice", 1000, 100, &gone, &err), 0);
	assert_int_equal(gone.count, 1);
	assert_int_equal(gone.items[0].id, old2);
	store_purged_list_free(&gone);
	assert_int_equal(store_purge_ended(f->store, "alice", 1000000, 100, &gone, &err), 0);
	assert_int_equal(gone.count, 1);
	assert_int_equal(gone.items[0].id, young);
	store_purged_list_free(&gone);
	assert_int_equal(store_purge_ended(f->store, "alice", INT64_MAX, 100, &gone, &err), 0);
	assert_int_equal(gone.count, 0);
	store_purged_list_free(&gone);
	assert_true(store_fixture_stored_bytes(f, queued) > 0);
	assert_true(store_fixture_stored_bytes(f, running) > 0);
	assert_true(store_fixture_stored_bytes(f, bob) > 0);
}

/* A task's files: metadata and chunks round-trip, each chunk counts in the
 * task's stored_bytes, kinds are apart, and retention removes them. */
static void test_task_files_round_trip_count_and_go_with_retention(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct store_file_list list;
	struct store_purged_list gone;
	struct store_file in = { .name = "dir/a.bin", .mode = 0755, .size = 6, .sha256 = "ab" };
	struct error err = { 0 };
	int64_t id = submit(f, "alice", 1);
	int64_t before = store_fixture_stored_bytes(f, id);
	char *chunk = NULL;

	assert_int_equal(store_files_put(f->store, id, STORE_FILE_INPUT, &in, &err), 0);
	assert_int_equal(store_files_put_chunk(f->store, id, STORE_FILE_INPUT, "dir/a.bin", 0, "YWJj", 3,
					       &err),
			 0);
	assert_int_equal(store_files_put_chunk(f->store, id, STORE_FILE_INPUT, "dir/a.bin", 1, "ZGVm", 3,
					       &err),
			 0);
	assert_int_equal(store_fixture_stored_bytes(f, id), before + 6);
	in.name = "*.txt";
	in.size = 0;
	assert_int_equal(store_files_put(f->store, id, STORE_FILE_PATTERN, &in, &err), 0);
	assert_int_equal(store_files_list(f->store, id, STORE_FILE_INPUT, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.items[0].name, "dir/a.bin");
	assert_int_equal(list.items[0].mode, 0755);
	assert_int_equal(list.items[0].size, 6);
	assert_string_equal(list.items[0].sha256, "ab");
	assert_false(list.items[0].truncated);
	store_files_list_free(&list);
	assert_int_equal(store_files_list(f->store, id, STORE_FILE_ARTIFACT, &list, &err), 0);
	assert_int_equal(list.count, 0);
	store_files_list_free(&list);
	assert_int_equal(store_files_get_chunk(f->store, id, STORE_FILE_INPUT, "dir/a.bin", 1, &chunk, &err),
			 0);
	assert_string_equal(chunk, "ZGVm");
	free(chunk);
	assert_int_equal(store_files_get_chunk(f->store, id, STORE_FILE_INPUT, "dir/a.bin", 2, &chunk, &err),
			 -ENOENT);
	assert_null(chunk);

	start(f, id, 10);
	r.ended_at_us = 100;
	assert_int_equal(store_finish(f->store, id, &r, &err), 0);
	assert_int_equal(store_purge_ended(f->store, "alice", 1000, 10, &gone, &err), 0);
	assert_int_equal(gone.count, 1);
	store_purged_list_free(&gone);
	assert_int_equal(store_files_list(f->store, id, STORE_FILE_INPUT, &list, &err), 0);
	assert_int_equal(list.count, 0);
	store_files_list_free(&list);
	assert_int_equal(store_files_get_chunk(f->store, id, STORE_FILE_INPUT, "dir/a.bin", 0, &chunk, &err),
			 -ENOENT);
}

/* Artifact retention: the artifacts of old ended tasks go and their bytes
 * come off stored_bytes; inputs, young tasks and other tenants stay. */
static void test_expired_artifacts_go_and_free_their_bytes(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct store_file art = { .name = "out.txt", .mode = 0644, .size = 3, .sha256 = "ab" };
	struct store_file_list list;
	struct error err = { 0 };
	int64_t old = submit(f, "alice", 1), young = submit(f, "alice", 2), bytes, before;
	size_t tasks;

	for (int i = 0; i < 2; i++) {
		int64_t id = i ? young : old;

		assert_int_equal(store_files_put(f->store, id, STORE_FILE_INPUT, &art, &err), 0);
		assert_int_equal(store_files_put_chunk(f->store, id, STORE_FILE_INPUT, "out.txt", 0, "YWJj",
						       3, &err),
				 0);
		assert_int_equal(store_files_put(f->store, id, STORE_FILE_ARTIFACT, &art, &err), 0);
		assert_int_equal(store_files_put_chunk(f->store, id, STORE_FILE_ARTIFACT, "out.txt", 0,
						       "YWJj", 3, &err),
				 0);
		start(f, id, 10);
		r.ended_at_us = i ? 5000 : 100;
		assert_int_equal(store_finish(f->store, id, &r, &err), 0);
	}
	before = store_fixture_stored_bytes(f, old);
	assert_int_equal(store_files_expire_artifacts(f->store, "bob", 1000, 10, &bytes, &tasks, &err), 0);
	assert_int_equal(tasks, 0);
	assert_int_equal(store_files_expire_artifacts(f->store, "alice", 1000, 10, &bytes, &tasks, &err), 0);
	assert_int_equal(tasks, 1);
	assert_int_equal(bytes, 3);
	assert_int_equal(store_fixture_stored_bytes(f, old), before - 3);
	assert_int_equal(store_files_list(f->store, old, STORE_FILE_ARTIFACT, &list, &err), 0);
	assert_int_equal(list.count, 0);
	store_files_list_free(&list);
	assert_int_equal(store_files_list(f->store, old, STORE_FILE_INPUT, &list, &err), 0);
	assert_int_equal(list.count, 1);
	store_files_list_free(&list);
	assert_int_equal(store_files_list(f->store, young, STORE_FILE_ARTIFACT, &list, &err), 0);
	assert_int_equal(list.count, 1);
	store_files_list_free(&list);
	/* again: nothing left to remove */
	assert_int_equal(store_files_expire_artifacts(f->store, "alice", 1000, 10, &bytes, &tasks, &err), 0);
	assert_int_equal(tasks, 0);
}

/* A version-3 database (before nodes and storage) gets stored_bytes from its rows:
 * argv and env as stored plus what the outputs counted. */
static void expect_migrated_stored_bytes(struct store_fixture *f, int64_t id)
{
	struct store_task t = sample("alice", 1);

	assert_int_equal(store_schema_version(f->store), 17);
	assert_int_equal(store_fixture_stored_bytes(f, id),
			 (int64_t)(strlen(t.argv_json) + strlen(t.env_json)) + 3);
}

static void test_version_3_database_gains_stored_bytes(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct error err = { 0 };
	int64_t id = submit(f, "alice", 1);
	sqlite3 *db;

	start(f, id, 2);
	assert_int_equal(store_finish(f->store, id, &r, &err), 0);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"DROP TRIGGER tasks_live_insert; DROP TRIGGER tasks_live_update; DROP TRIGGER tasks_live_delete;"
			"DROP TABLE live_delta; DROP TABLE live_users; DROP TABLE live_nodes;"
			"DROP TABLE nodes; DROP TABLE leader; DROP TABLE api_tokens; DROP TABLE idempotency_keys;"
			"DROP TABLE task_output; DROP INDEX tasks_lease; ALTER TABLE tasks DROP COLUMN node_name;"
			"ALTER TABLE tasks DROP COLUMN lease_owner; ALTER TABLE tasks DROP COLUMN lease_until_us;"
			"ALTER TABLE tasks DROP COLUMN assigned_capped;"
			"ALTER TABLE tasks DROP COLUMN assigned_memory_bytes;"
			"DROP TABLE tenants; DROP TABLE tenant_audit; DROP TABLE callbacks; DROP TABLE policy_generations; DROP TABLE policy_nodes;"
			"DROP TABLE task_files; DROP TABLE task_file_chunks; DROP TABLE uploads; DROP TABLE upload_chunks; DROP TABLE sched_fair;"
			"DROP INDEX tasks_user_ended;"
			"ALTER TABLE tasks DROP COLUMN stored_bytes;"
			"ALTER TABLE tasks DROP COLUMN gpus;"
			"ALTER TABLE tasks DROP COLUMN gpu_memory_bytes;"
			"ALTER TABLE tasks DROP COLUMN labels;"
			"ALTER TABLE tasks DROP COLUMN oom_kills;"
			"ALTER TABLE tasks DROP COLUMN cpu_millis;"
			"DELETE FROM schema_version WHERE version >= 4",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	reopen(f, NULL);
	expect_migrated_stored_bytes(f, id);
}

static void test_foreign_or_garbage_file_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store *other = NULL;
	char path[160];
	FILE *fp;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/foreign.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* owner-only, as corrald requires: what is refused here is the content */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(store_open(path, NULL, &other, &err), -ENOTSUP);
	assert_non_null(strstr(err.message, "not a corrald database"));
	unlink(path);

	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 100; i++)
		fputs("this is not an SQLite database at all. ", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(store_open(path, NULL, &other, &err), -EUCLEAN);
	assert_non_null(strstr(err.message, path));
	unlink(path);
}

static void test_bad_path_is_a_clear_error(void **state)
{
	struct error err = { 0 };
	struct store *other = NULL;

	(void)state;
	assert_int_equal(store_open("/nonexistent-corral-dir/x.db", NULL, &other, &err), -ENOENT);
	assert_null(other);
	assert_non_null(strstr(err.message, "/nonexistent-corral-dir/x.db"));
	assert_non_null(strstr(err.message, "No such file or directory"));
	assert_int_equal(store_open("", NULL, &other, &err), -EINVAL);
}

/* Fill a size-capped database (PRAGMA max_page_count) until a submit fails. */
static void fill_until_full(struct store_fixture *f, int64_t *acked, int *failure, struct error *err)
{
	static char env[2048];
	struct store_task t = sample("alice", 1);

	memset(env, 0, sizeof(env));
	strcpy(env, "{\"PAD\": \"");
	memset(env + strlen(env), 'x', 1500);
	strcat(env, "\"}");
	t.env_json = env;
	*acked = 0;
	*failure = 0;
	for (int i = 0; i < 1000 && *failure == 0; i++) {
		int64_t id;

		*failure = store_submit(f->store, &t, &id, err);
		if (*failure == 0)
			(*acked)++;
	}
}

static void test_full_database_is_enospc_and_keeps_acknowledged_tasks(void **state)
{
	struct store_fixture *f = *state;
	struct store_options capped = {
		.max_size_bytes = (96 + 16 + 12 + 24 + 16 + 16 + 24 + 8 + 20) * 1024
	} /* schemas 5, 8, 9, 11, 12, 13+14, 15, 16 added 4, 3, 6, 4, 4, 6, 2, 5 pages */;
	struct error err = { 0 };
	struct store_task_list list;
	int64_t acked;
	int failure;

	reopen(f, &capped);
	fill_until_full(f, &acked, &failure, &err);
	assert_int_equal(failure, -ENOSPC);
	assert_true(acked > 5);
	assert_non_null(strstr(err.message, "submit task for alice"));
	assert_non_null(strstr(err.message, "full"));

	/* Still usable for reads while full; then every acknowledged task is there. */
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal((int64_t)list.count, acked);
	store_task_list_free(&list);
	reopen(f, NULL);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal((int64_t)list.count, acked);
	assert_int_equal(list.tasks[list.count - 1].id, acked);
	store_task_list_free(&list);
	submit(f, "bob", 2); /* with room again, writing works */
}

static void test_full_database_inside_batch_loses_nothing_acknowledged(void **state)
{
	struct store_fixture *f = *state;
	struct store_options capped = {
		.max_size_bytes = (96 + 16 + 12 + 24 + 16 + 16 + 24 + 8 + 20) * 1024
	} /* schemas 5, 8, 9, 11, 12, 13+14, 15, 16 added 4, 3, 6, 4, 4, 6, 2, 5 pages */;
	struct error err = { 0 };
	struct store_task_list list;
	int64_t before = 0, in_batch;
	int failure, r;

	reopen(f, &capped);
	for (int i = 0; i < 3; i++)
		before += submit(f, "alice", 1) > 0;
	assert_int_equal(store_batch_begin(f->store, &err), 0);
	fill_until_full(f, &in_batch, &failure, &err);
	assert_int_equal(failure, -ENOSPC);
	r = store_batch_commit(f->store, &err);
	/* Either the batch survived the failed statement and commits, or it was
	 * dropped whole and the commit says so; never anything in between. */
	assert_true(r == 0 || r == -ENOSPC);
	reopen(f, NULL);
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal((int64_t)list.count, before + (r == 0 ? in_batch : 0));
	store_task_list_free(&list);
}

/* ---- the seam: store URIs --------------------------------------------------- */

static void expect_uri(const char *uri, const char *backend, const char *location)
{
	const char *b = NULL, *l = NULL;
	struct error err = { 0 };

	if (store_uri_parse(uri, &b, &l, &err) != 0)
		fail_msg("%s: %s", uri, err.message);
	assert_string_equal(b, backend);
	assert_string_equal(l, location);
}

static void expect_uri_refused(const char *uri, int r, const char *message_part)
{
	const char *b = NULL, *l = NULL;
	struct store *store = (struct store *)1;
	struct error err = { 0 };

	assert_int_equal(store_uri_parse(uri, &b, &l, &err), r);
	assert_non_null(strstr(err.message, message_part));
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_open(uri, NULL, &store, &err), r);
	assert_null(store);
	assert_non_null(strstr(err.message, message_part));
}

static void test_uri_plain_path_is_sqlite(void **state)
{
	(void)state;
	expect_uri("/var/lib/corral/corrald.db", "sqlite", "/var/lib/corral/corrald.db");
	expect_uri("corrald.db", "sqlite", "corrald.db");
	expect_uri("./a:b.db", "sqlite", "./a:b.db");
	expect_uri("/srv/postgresql://x", "sqlite", "/srv/postgresql://x");
}

static void test_uri_sqlite_scheme_takes_a_path(void **state)
{
	(void)state;
	expect_uri("sqlite:/var/lib/corral/corrald.db", "sqlite", "/var/lib/corral/corrald.db");
	expect_uri("sqlite:corrald.db", "sqlite", "corrald.db");
	expect_uri("sqlite:///var/lib/corral/corrald.db", "sqlite", "/var/lib/corral/corrald.db");
	expect_uri("SQLite:x.db", "sqlite", "x.db");
}

/* Nothing listens there: a clear -ECONNREFUSED, never the password. */
static void test_uri_postgresql_unreachable_is_econnrefused_without_password(void **state)
{
	struct store *store = NULL;
	struct error err = { 0 };
	const char *uris[] = { "postgresql://corral:s3cret@%2Fnonexistent-corral-pg/corral",
			       "postgres://corral:s3cret@%2Fnonexistent-corral-pg/corral",
			       "postgresql:///corral?host=/nonexistent-corral-pg&password=s3cret" };

	(void)state;
	expect_uri(uris[0], "postgresql", uris[0]);
	expect_uri(uris[1], "postgresql", uris[1]);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_open(uris[i], NULL, &store, &err), -ECONNREFUSED);
		assert_null(store);
		assert_non_null(strstr(err.message, "connect to PostgreSQL"));
		assert_non_null(strstr(err.message, "nonexistent-corral-pg"));
		assert_null(strstr(err.message, "s3cret"));
	}
	assert_int_equal(store_open("postgresql://corral:s3cret@[bad/x", NULL, &store, &err), -EINVAL);
	assert_null(strstr(err.message, "s3cret"));
}

static void test_uri_garbage_is_refused(void **state)
{
	const char *b, *l;
	struct error err = { 0 };

	(void)state;
	expect_uri_refused("", -EINVAL, "empty store URI");
	expect_uri_refused("sqlite:", -EINVAL, "no database path");
	expect_uri_refused("sqlite://host/x.db", -EINVAL, "not a host");
	expect_uri_refused("mysql://corral:s3cret@db/corral", -EPROTONOSUPPORT, "'mysql'");
	expect_uri_refused("a:b.db", -EPROTONOSUPPORT, "unknown store URI scheme 'a'");
	assert_int_equal(store_uri_parse(NULL, &b, &l, &err), -EINVAL);
	assert_null(strstr(err.message, "s3cret"));
}

/* ---- the seam: task_state -------------------------------------------------- */

static void test_task_state_allows_exactly_its_moves(void **state)
{
	static const bool allowed[5][5] = {
		[STORE_QUEUED] = { [STORE_RUNNING] = true, [STORE_CANCELLED] = true, [STORE_FAILED] = true },
		[STORE_RUNNING] = { [STORE_SUCCEEDED] = true,
				    [STORE_FAILED] = true,
				    [STORE_CANCELLED] = true,
				    [STORE_QUEUED] = true },
	};

	(void)state;
	for (int from = STORE_QUEUED; from <= STORE_CANCELLED; from++)
		for (int to = STORE_QUEUED; to <= STORE_CANCELLED; to++)
			if (task_state_can_move(from, to) != allowed[from][to])
				fail_msg("%s -> %s: expected %s", task_state_name(from), task_state_name(to),
					 allowed[from][to] ? "allowed" : "refused");
}

static void test_task_state_refuses_moves_out_of_the_end_and_unknown_states(void **state)
{
	(void)state;
	assert_false(task_state_can_move(STORE_QUEUED, STORE_SUCCEEDED));
	assert_false(task_state_can_move(STORE_QUEUED, STORE_QUEUED));
	assert_false(task_state_can_move(STORE_RUNNING, STORE_RUNNING));
	assert_false(task_state_can_move(STORE_SUCCEEDED, STORE_RUNNING));
	assert_false(task_state_can_move(STORE_FAILED, STORE_QUEUED));
	assert_false(task_state_can_move(STORE_CANCELLED, STORE_SUCCEEDED));
	assert_false(task_state_can_move((enum store_task_state)99, STORE_RUNNING));
	assert_false(task_state_can_move(STORE_QUEUED, (enum store_task_state) - 1));
	assert_true(task_state_is_terminal(STORE_SUCCEEDED));
	assert_true(task_state_is_terminal(STORE_CANCELLED));
	assert_false(task_state_is_terminal(STORE_RUNNING));
}

static void test_task_state_names_round_trip(void **state)
{
	enum store_task_state st;
	enum store_task_reason rs;

	(void)state;
	for (int i = STORE_QUEUED; i <= STORE_CANCELLED; i++) {
		assert_int_equal(task_state_parse(task_state_name(i), &st), 0);
		assert_int_equal(st, i);
	}
	for (int i = STORE_REASON_EXIT_CODE; i <= STORE_REASON_SHUTDOWN; i++) {
		assert_int_equal(task_state_reason_parse(task_state_reason_name(i), &rs), 0);
		assert_int_equal(rs, i);
	}
	assert_string_equal(task_state_name(STORE_RUNNING), "running");
	assert_string_equal(task_state_reason_name(STORE_REASON_OOM), "oom");
	assert_null(task_state_name((enum store_task_state)42));
	assert_int_equal(task_state_parse("paused", &st), -EINVAL);
	assert_int_equal(task_state_reason_parse(NULL, &rs), -EINVAL);
}

/* ---- SQLite only: the database file ------------------------------------------- */

static void test_sqlite_path_and_uri_open_the_same_database(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;
	int64_t id = submit(f, "alice", 1);

	store_close(f->store);
	f->store = NULL;
	if (store_open(f->path, NULL, &f->store, &err) != 0)
		fail_msg("open %s: %s", f->path, err.message);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_string_equal(t.user, "alice");
	store_task_clear(&t);
}

/* ---- PostgreSQL only: the schema, server errors, the connection ------------- */

static void pg_sql(struct store_fixture *f, const char *sql)
{
	char why[512];

	if (pg_server_exec(pg, f->db, sql, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}

static void test_pg_open_creates_schema_corral_and_reopens(void **state)
{
	struct store_fixture *f = *state;

	assert_int_equal(store_schema_version(f->store), 17);
	pg_sql(f,
	       "DO $$BEGIN IF (SELECT COUNT(*) FROM corral.schema_version) <> 17 OR "
	       "NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'corral' "
	       "AND table_name = 'tasks' AND column_name = 'id' AND is_identity = 'YES' "
	       "AND data_type = 'bigint') THEN RAISE EXCEPTION 'schema'; END IF; END$$");
	reopen(f, NULL);
	assert_int_equal(store_schema_version(f->store), 17);
}

static void test_pg_newer_schema_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store *other = NULL;

	pg_sql(f, "INSERT INTO corral.schema_version VALUES (99, 0)");
	assert_int_equal(store_open(f->uri, NULL, &other, &err), -EPROTONOSUPPORT);
	assert_null(other);
	assert_non_null(strstr(err.message, "schema version 99"));
	assert_non_null(strstr(err.message, "refusing"));
}

static void test_pg_foreign_schema_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store *other = NULL;

	store_close(f->store);
	f->store = NULL;
	pg_sql(f, "DROP SCHEMA corral CASCADE; CREATE SCHEMA corral; CREATE TABLE corral.t (x int)");
	assert_int_equal(store_open(f->uri, NULL, &other, &err), -ENOTSUP);
	assert_non_null(strstr(err.message, "not a corrald database"));
}

/* A version 1 database (before adjustments) is brought up to date. */
/* As on SQLite: a version-1 database gets migrations 2 (adjustments),
 * 3 (retries) and 4 (storage). */
static void test_pg_version_1_database_gains_adjustments_and_retries(void **state)
{
	struct store_fixture *f = *state;
	struct store_adjustment a = adjustment("alice", "2026-04", 5, "after upgrade");
	struct error err = { 0 };
	int64_t t = submit(f, "alice", 1);

	store_close(f->store);
	f->store = NULL;
	pg_sql(f,
	       "DROP TRIGGER tasks_live_insert ON corral.tasks; DROP TRIGGER tasks_live_update ON corral.tasks; "
	       "DROP TRIGGER tasks_live_delete ON corral.tasks; DROP FUNCTION corral.corral_live_delta(); "
	       "DROP TABLE corral.live_delta; DROP TABLE corral.live_users; DROP TABLE corral.live_nodes; "
	       "DROP TABLE corral.nodes; DROP TABLE corral.leader; DROP FUNCTION corral.corral_now_us(); "
	       "DROP TABLE corral.api_tokens; DROP TABLE corral.idempotency_keys; "
	       "DROP TABLE corral.task_output; "
	       "ALTER TABLE corral.tasks DROP COLUMN node_name, DROP COLUMN lease_owner, "
	       "DROP COLUMN lease_until_us, DROP COLUMN assigned_capped, DROP COLUMN assigned_memory_bytes; "
	       "DROP TABLE corral.tenants; DROP TABLE corral.tenant_audit; DROP TABLE corral.callbacks; "
	       "DROP TABLE corral.policy_generations; DROP TABLE corral.policy_nodes; "
	       "DROP TABLE corral.task_files; DROP TABLE corral.task_file_chunks; DROP TABLE corral.uploads; DROP TABLE corral.upload_chunks; DROP TABLE corral.sched_fair; "
	       "DROP TABLE corral.usage_adjustments; ALTER TABLE corral.tasks DROP COLUMN cpu_prior_us, "
	       "DROP COLUMN last_attempt_error, DROP COLUMN not_before_us, DROP COLUMN stored_bytes, "
	       "DROP COLUMN gpus, DROP COLUMN gpu_memory_bytes, DROP COLUMN labels, DROP COLUMN oom_kills, "
	       "DROP COLUMN cpu_millis; "
	       "DROP INDEX corral.tasks_user_ended; "
	       "DELETE FROM corral.schema_version WHERE version >= 2");
	reopen(f, NULL);
	assert_int_equal(store_schema_version(f->store), 17);
	assert_int_equal(store_node_join(f->store, &upgraded_node, NULL, &err), 0);
	assert_int_equal(store_usage_adjust(f->store, &a, NULL, &err), 0);
	assert_int_equal(adjust_sum(f, "alice", "2026-04"), 5);
	assert_int_equal(submit(f, "alice", 2), t + 1);
}

static void test_pg_version_3_database_gains_stored_bytes(void **state)
{
	struct store_fixture *f = *state;
	struct store_result r = result(10, "2026-04");
	struct error err = { 0 };
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	assert_int_equal(store_finish(f->store, id, &r, &err), 0);
	store_close(f->store);
	f->store = NULL;
	pg_sql(f,
	       "DROP TRIGGER tasks_live_insert ON corral.tasks; DROP TRIGGER tasks_live_update ON corral.tasks; "
	       "DROP TRIGGER tasks_live_delete ON corral.tasks; DROP FUNCTION corral.corral_live_delta(); "
	       "DROP TABLE corral.live_delta; DROP TABLE corral.live_users; DROP TABLE corral.live_nodes; "
	       "DROP TABLE corral.nodes; DROP TABLE corral.leader; DROP FUNCTION corral.corral_now_us(); "
	       "DROP TABLE corral.api_tokens; DROP TABLE corral.idempotency_keys; "
	       "DROP TABLE corral.task_output; "
	       "ALTER TABLE corral.tasks DROP COLUMN node_name, DROP COLUMN lease_owner, "
	       "DROP COLUMN lease_until_us, DROP COLUMN assigned_capped, DROP COLUMN assigned_memory_bytes; "
	       "DROP TABLE corral.tenants; DROP TABLE corral.tenant_audit; DROP TABLE corral.callbacks; "
	       "DROP TABLE corral.policy_generations; DROP TABLE corral.policy_nodes; "
	       "DROP TABLE corral.task_files; DROP TABLE corral.task_file_chunks; DROP TABLE corral.uploads; DROP TABLE corral.upload_chunks; DROP TABLE corral.sched_fair; "
	       "DROP INDEX corral.tasks_user_ended; ALTER TABLE corral.tasks DROP COLUMN stored_bytes, "
	       "DROP COLUMN gpus, DROP COLUMN gpu_memory_bytes, DROP COLUMN labels, DROP COLUMN oom_kills, "
	       "DROP COLUMN cpu_millis; "
	       "DELETE FROM corral.schema_version WHERE version >= 4");
	reopen(f, NULL);
	expect_migrated_stored_bytes(f, id);
}

/* The server's "disk full" (SQLSTATE 53100, raised here by a trigger) is
 * -ENOSPC with its message; what was acknowledged before stays. */
static void test_pg_disk_full_is_enospc_and_keeps_acknowledged_tasks(void **state)
{
	struct store_fixture *f = *state;
	struct store_task t = sample("alice", 3);
	struct store_task_list list;
	struct error err = { 0 };
	int64_t id;

	submit(f, "alice", 1);
	submit(f, "alice", 2);
	pg_sql(f,
	       "CREATE FUNCTION corral.disk_full_now() RETURNS trigger LANGUAGE plpgsql AS "
	       "$$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' "
	       "USING ERRCODE = 'disk_full'; END$$; "
	       "CREATE TRIGGER disk_full_now BEFORE INSERT ON corral.tasks FOR EACH ROW "
	       "EXECUTE FUNCTION corral.disk_full_now()");
	assert_int_equal(store_submit(f->store, &t, &id, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "submit task for alice"));
	assert_non_null(strstr(err.message, "No space left on device"));
	assert_non_null(strstr(err.message, "53100"));
	assert_int_equal(store_batch_begin(f->store, &err), 0);
	assert_int_equal(store_submit(f->store, &t, &id, &err), -ENOSPC);
	assert_int_equal(store_batch_commit(f->store, &err), 0); /* the failure was undone alone */
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 2);
	store_task_list_free(&list);
}

/* A deadlock victim runs its transaction again; a transaction that keeps
 * losing is -EAGAIN and leaves nothing behind. */
static void test_pg_deadlock_is_retried_then_eagain(void **state)
{
	struct store_fixture *f = *state;
	struct store_task t = sample("alice", 3);
	struct store_task_list list;
	struct error err = { 0 };
	int64_t id = 0;

	pg_sql(f,
	       "CREATE SEQUENCE corral.tries; "
	       "CREATE FUNCTION corral.flaky() RETURNS trigger LANGUAGE plpgsql AS "
	       "$$BEGIN IF nextval('corral.tries') = 1 THEN RAISE EXCEPTION 'deadlock detected' "
	       "USING ERRCODE = 'deadlock_detected'; END IF; RETURN NEW; END$$; "
	       "CREATE TRIGGER flaky BEFORE INSERT ON corral.tasks FOR EACH ROW "
	       "EXECUTE FUNCTION corral.flaky()");
	assert_int_equal(store_submit(f->store, &t, &id, &err), 0);
	assert_true(id > 0);
	pg_sql(f,
	       "CREATE OR REPLACE FUNCTION corral.flaky() RETURNS trigger LANGUAGE plpgsql AS "
	       "$$BEGIN RAISE EXCEPTION 'could not serialize access' "
	       "USING ERRCODE = 'serialization_failure'; END$$");
	assert_int_equal(store_submit(f->store, &t, &id, &err), -EAGAIN);
	assert_non_null(strstr(err.message, "40001"));
	assert_int_equal(store_load_queued(f->store, &list, &err), 0);
	assert_int_equal(list.count, 1);
	store_task_list_free(&list);
}

/* The server ends the session (a restart, an operator): the next call is
 * -EIO saying so, the one after reconnects. */
static void test_pg_lost_connection_is_eio_then_reconnects(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_task t;
	int64_t id = submit(f, "alice", 1);
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
		 "WHERE datname = '%s' AND pid <> pg_backend_pid()",
		 f->db);
	pg_sql(f, sql);
	assert_int_equal(store_get_task(f->store, id, &t, &err), -EIO);
	assert_non_null(strstr(err.message, "lost"));
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	store_task_clear(&t);
	pg_sql(f, sql);
	assert_int_equal(store_cancel_queued(f->store, id, 2, &err), -EIO);
	assert_int_equal(store_cancel_queued(f->store, id, 3, &err), 0);
}

/* Two connections (two corralds later): the cursor and state guards hold
 * across them. */
/* A corrald opens its store exclusive: a second corrald on the same
 * database is refused until the first one closes (the cluster mode, with
 * many nodes on one database, is not built yet). */
static void test_pg_second_exclusive_store_is_refused(void **state)
{
	struct store_fixture *f = *state;
	struct store_options excl = { .exclusive = true };
	struct store *first = NULL, *second = NULL;
	struct error err = { 0 };

	assert_int_equal(store_open(f->uri, &excl, &first, &err), 0);
	assert_int_equal(store_open(f->uri, &excl, &second, &err), -EBUSY);
	assert_null(second);
	assert_string_equal(err.step, "lock");
	assert_non_null(strstr(err.message, "another corrald already uses the database"));
	store_close(first);
	assert_int_equal(store_open(f->uri, &excl, &second, &err), 0);
	store_close(second);
}

static void test_pg_two_connections_never_charge_or_finish_twice(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store *other = NULL;
	struct store_result res = result(300, "2026-03");
	int64_t id = submit(f, "alice", 1);

	start(f, id, 2);
	if (store_open(f->uri, NULL, &other, &err) != 0)
		fail_msg("second connection: %s", err.message);
	assert_int_equal(store_charge(f->store, id, 0, 100, "2026-03", 3, &err), 0);
	assert_int_equal(store_charge(other, id, 0, 100, "2026-03", 3, &err), -ESTALE);
	assert_int_equal(store_finish(other, id, &res, &err), 0);
	assert_int_equal(store_finish(f->store, id, &res, &err), -ESTALE);
	store_close(other);
	assert_int_equal(usage(f, "alice", "2026-03"), 300);
}

/* One tenant's load and stored bytes (its quota lock taken twice in one
 * transaction: it is re-entrant), and the fairness state saved and read
 * back (a pass above INT64_MAX survives as its two's complement). */
static void test_pg_tenant_load_and_fairness_state(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	struct store_tenant_load load;
	struct store_fair_list list;
	const struct store_fair items[] = { { "alice", 7 }, { "", (int64_t)(UINT64_MAX - 5) } };
	const struct store_fair again[] = { { "alice", 9 }, { "bob", 3 } };
	int64_t id = submit(f, "alice", 1);
	struct store_task t;

	submit(f, "alice", 2);
	assert_int_equal(store_get_task(f->store, id, &t, &err), 0);
	assert_int_equal(store_batch_begin(f->store, &err), 0);
	assert_int_equal(store_cluster_tenant_load(f->store, "alice", true, &load, &err), 0);
	assert_int_equal(store_cluster_tenant_load(f->store, "alice", true, &load, &err), 0);
	assert_int_equal(store_batch_commit(f->store, &err), 0);
	assert_int_equal(load.queued, 2);
	assert_int_equal(load.live, 0);
	assert_int_equal(load.stored_bytes, 2 * t.stored_bytes);
	store_task_clear(&t);
	assert_int_equal(store_cluster_tenant_load(f->store, "nobody", false, &load, &err), 0);
	assert_int_equal(load.queued + load.live + load.stored_bytes, 0);

	assert_int_equal(store_cluster_fair_save(f->store, items, 2, &err), 0);
	assert_int_equal(store_cluster_fair_save(f->store, again, 2, &err), 0);
	assert_int_equal(store_cluster_fair_load(f->store, &list, &err), 0);
	assert_int_equal(list.count, 3);
	for (size_t i = 0; i < list.count; i++) {
		const struct store_fair *x = &list.items[i];

		if (strcmp(x->user, "alice") == 0)
			assert_int_equal(x->pass, 9);
		else if (strcmp(x->user, "bob") == 0)
			assert_int_equal(x->pass, 3);
		else
			assert_true((uint64_t)x->pass == UINT64_MAX - 5 && x->user[0] == '\0');
	}
	store_cluster_fair_list_free(&list);
}

int main(void)
{
	const struct CMUnitTest seam[] = {
		cmocka_unit_test(test_uri_plain_path_is_sqlite),
		cmocka_unit_test(test_uri_sqlite_scheme_takes_a_path),
		cmocka_unit_test(test_uri_postgresql_unreachable_is_econnrefused_without_password),
		cmocka_unit_test(test_uri_garbage_is_refused),
		cmocka_unit_test(test_task_state_allows_exactly_its_moves),
		cmocka_unit_test(test_task_state_refuses_moves_out_of_the_end_and_unknown_states),
		cmocka_unit_test(test_task_state_names_round_trip),
	};
	int failed = cmocka_run_group_tests_name("store seam", seam, NULL, NULL);

	/* The PostgreSQL server of this run, if this machine has one. */
	pg = store_fixture_pg(
		"the PostgreSQL store tests (every per-backend test on postgresql, and its own group)",
		&failed);

	/* Every behaviour of store.h, once per backend. */
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_submitted_task_survives_reopen),
			T(test_unknown_task_is_enoent),
			T(test_bad_json_is_rejected_before_storing),
			T(test_cpu_millis_round_trip),
			T(test_queued_tasks_load_in_submit_order),
			T(test_mark_running_only_from_queued),
			T(test_charge_same_cursor_twice_is_refused),
			T(test_charge_splits_at_month_boundary),
			T(test_finish_charges_remainder_once),
			T(test_finish_from_queued_charges_nothing),
			T(test_invalid_utf8_text_is_stored_cleaned),
			T(test_requeue_puts_running_task_back_in_submit_order),
			T(test_requeue_only_from_running),
			T(test_requeue_not_an_attempt_gives_the_attempt_back),
			T(test_cancel_queued_and_request_cancel_running),
			T(test_illegal_transition_is_estale_and_changes_nothing),
			T(test_list_filters_by_user_state_and_limit),
			T(test_list_pages_with_before_id),
			T(test_list_filters_by_submit_time),
			T(test_usage_per_month_and_queue_counts),
			T(test_batch_is_one_transaction),
			T(test_usage_adjustments_are_rows_and_leave_usage_alone),
			T(test_usage_adjust_refuses_bad_values_and_stores_nothing),
			T(test_usage_adjust_joins_an_open_batch),
			T(test_stored_bytes_count_inputs_then_outputs_per_tenant),
			T(test_list_pages_by_cursor_and_cuts_huge_argv),
			T(test_purge_removes_only_old_ended_tasks_of_the_tenant),
			T(test_task_files_round_trip_count_and_go_with_retention),
			T(test_expired_artifacts_go_and_free_their_bytes),
#undef T
		};

		if (postgres && !pg)
			continue;
		failed += cmocka_run_group_tests_name(postgres ? "store on postgresql" : "store on sqlite",
						      tests, NULL, NULL);
	}

	/* SQLite's own file handling. */
	{
		void *which = NULL;
		const struct CMUnitTest sqlite_file[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_open_creates_schema_owner_only_and_reopens),
			T(test_sqlite_path_and_uri_open_the_same_database),
			T(test_newer_schema_is_refused),
			T(test_version_1_database_gains_adjustments_and_retries),
			T(test_version_3_database_gains_stored_bytes),
			T(test_foreign_or_garbage_file_is_refused),
			T(test_bad_path_is_a_clear_error),
			T(test_full_database_is_enospc_and_keeps_acknowledged_tasks),
			T(test_full_database_inside_batch_loses_nothing_acknowledged),
#undef T
		};

		failed += cmocka_run_group_tests_name("store: SQLite files", sqlite_file, NULL, NULL);
	}

	/* PostgreSQL's own: schema, server errors, the connection. */
	if (pg) {
		void *which = pg;
		const struct CMUnitTest pg_own[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_pg_open_creates_schema_corral_and_reopens),
			T(test_pg_newer_schema_is_refused),
			T(test_pg_foreign_schema_is_refused),
			T(test_pg_version_1_database_gains_adjustments_and_retries),
			T(test_pg_version_3_database_gains_stored_bytes),
			T(test_pg_second_exclusive_store_is_refused),
			T(test_pg_disk_full_is_enospc_and_keeps_acknowledged_tasks),
			T(test_pg_deadlock_is_retried_then_eagain),
			T(test_pg_lost_connection_is_eio_then_reconnects),
			T(test_pg_two_connections_never_charge_or_finish_twice),
			T(test_pg_tenant_load_and_fairness_state),
#undef T
		};

		failed += cmocka_run_group_tests_name("store: PostgreSQL server", pg_own, NULL, NULL);
	}
	return failed;
}
