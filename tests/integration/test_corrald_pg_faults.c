/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_pg_faults.c — a real corrald (root) on a
 * PostgreSQL store that fails under a task's start, deterministically: the
 * task's inputs cannot be read (their table renamed away) and its requeue
 * is refused (a trigger refuses running -> queued), so corrald holds the
 * task (task_requeue.c).  Held, it is neither ended nor run; once the
 * store works it runs, its attempt not spent (the plan has one); a cancel
 * while held ends it cancelled; a corrald stopped while holding it leaves
 * it to the next start, which runs it.  No PostgreSQL binaries: skips
 * loudly (fails under CORRAL_MUST_WORK=1).
 */
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"

/* Its own host uids, apart from the other integration tests' */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201760-4201791\n" \
	"max_running = 4\n"
#define POLICY "[plan p]\nmax_concurrent = 1\nmax_attempts = 1\n[user root]\nplan = p\n"

/* the store fails under a start: inputs unreadable, requeues refused */
#define BREAK_STORE                                                                                     \
	"CREATE FUNCTION corral.test_refuse() RETURNS trigger AS $$BEGIN "                              \
	"RAISE EXCEPTION 'the test refuses requeues'; END$$ LANGUAGE plpgsql; "                         \
	"CREATE TRIGGER test_refuse_requeue BEFORE UPDATE ON corral.tasks FOR EACH ROW "                \
	"WHEN (OLD.state = 'running' AND NEW.state = 'queued') EXECUTE FUNCTION corral.test_refuse(); " \
	"ALTER TABLE corral.task_file_chunks RENAME TO test_chunks_away"
#define MEND_STORE                                           \
	"DROP TRIGGER test_refuse_requeue ON corral.tasks; " \
	"DROP FUNCTION corral.test_refuse(); "               \
	"ALTER TABLE corral.test_chunks_away RENAME TO task_file_chunks"

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static void wait_log(struct corrald *d, const char *needle, int times, unsigned timeout_ms)
{
	for (unsigned waited = 0; corrald_log_count(d, needle) < times; waited += 50) {
		if (waited >= timeout_ms)
			fail_msg("no \"%s\" in corrald's log after %u ms\n%s", needle, timeout_ms,
				 corrald_log_tail(d));
		usleep(50000);
	}
}

/* Whether the task's held start is written down in its directory. */
static bool held_mark(int64_t id)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/tasks/%lld/held",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, (long long)id);
	return access(path, F_OK) == 0;
}

/* How many stdin files wait in the state dir (read by a task's next start). */
static size_t stdin_files(void)
{
	char pattern[512];
	glob_t g;
	size_t n;

	snprintf(pattern, sizeof(pattern), "%s/tasks/stdin-*",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* corrald on a new database with a task whose start the store failed
 * under and whose requeue it refused: held.  Its id. */
/* corrald on a new database with a task whose start meets the store
 * broken by break_sql (the task waits behind a blocker meanwhile).  Its id. */
static int64_t start_on_broken_store(struct pg_server *pg, char *db, size_t db_size, const char *break_sql)
{
	char uri[192], keys[512], why[256];
	int64_t blocker, id;
	json_t *r;

	if (pg_server_create_db(pg, db, db_size, uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = %s\n", uri);
	if (corrald_start(&daemon_, keys, POLICY, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	/* max_concurrent = 1: the task waits behind the blocker while the
	 * store is broken */
	blocker = corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"60\"]");
	assert_true(blocker > 0);
	json_decref(corrald_wait_state(&daemon_, blocker, "running", 10000));
	id = corrald_submit(&daemon_,
			    "\"argv\":[\"/bin/sh\",\"-c\",\"read s; test $(cat in.txt)$s = hellothere\"],"
			    "\"stdin\":\"there\\n\","
			    "\"files\":[{\"name\":\"in.txt\",\"data_base64\":\"aGVsbG8=\"}]");
	assert_true(id > blocker);
	pg_expect_sql(pg, db, break_sql);
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)blocker);
	assert_null(corrald_error_code(r));
	json_decref(r);
	json_decref(corrald_must_wait(&daemon_, blocker, 10000));
	return id;
}

/* ... whose requeue the store refused too: held. */
static int64_t held_task(struct pg_server *pg, char *db, size_t db_size)
{
	int64_t id = start_on_broken_store(pg, db, db_size, BREAK_STORE);
	json_t *t;

	wait_log(&daemon_, "its requeue waits for the store", 1, 10000);
	/* held: neither ended nor run, however many polls go by */
	usleep(500000);
	t = corrald_status(&daemon_, id);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "running");
	json_decref(t);
	assert_int_equal(corrald_log_count(&daemon_, "at step 'store'") -
				 corrald_log_count(&daemon_, "waits for the store"),
			 1);
	assert_true(held_mark(id));
	assert_int_equal(stdin_files(), 1); /* kept for the attempt that runs */
	return id;
}

static void expect_ran_once(struct pg_server *pg, const char *db, int64_t id)
{
	char sql[1024];
	json_t *t = corrald_must_wait(&daemon_, id, 20000);

	if (strcmp(task_str(t, "state"), "succeeded") != 0)
		fail_msg("held task: %s (%s)\n%s", task_str(t, "state"), task_str(t, "message"),
			 corrald_log_tail(&daemon_));
	assert_int_equal(task_int(t, "attempts"), 1);
	json_decref(t);
	assert_false(held_mark(id));
	/* its CPU charged once: the month's usage is what the tasks say */
	snprintf(sql, sizeof(sql),
		 "DO $$BEGIN "
		 "IF (SELECT COALESCE(SUM(cpu_us), 0) FROM corral.usage WHERE user_name = 'root') "
		 "   <> (SELECT SUM(cpu_charged_us) FROM corral.tasks) "
		 "OR (SELECT COUNT(*) FROM corral.events WHERE task_id = %lld AND kind = 'requeued') <> 1 "
		 "THEN RAISE EXCEPTION 'charges or events are not what they should be'; END IF; END$$",
		 (long long)id);
	pg_expect_sql(pg, db, sql);
}

static void test_held_requeue_runs_the_task_once_the_store_works(void **state)
{
	struct pg_server *pg;
	char db[32];
	int64_t id, other;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	id = held_task(pg, db, sizeof(db));
	pg_expect_sql(pg, db, MEND_STORE);
	expect_ran_once(pg, db, id);
	/* nothing left over: the next task starts and runs */
	other = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	json_decref(corrald_must_wait(&daemon_, other, 10000));
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

static void test_held_task_cancelled_ends_cancelled(void **state)
{
	struct pg_server *pg;
	char db[32];
	int64_t id;
	json_t *r, *t;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	id = held_task(pg, db, sizeof(db));
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)id);
	assert_null(corrald_error_code(r));
	json_decref(r);
	t = corrald_must_wait(&daemon_, id, 10000);
	assert_string_equal(task_str(t, "state"), "cancelled");
	json_decref(t);
	assert_false(held_mark(id));
	assert_int_equal(stdin_files(), 0);
	pg_expect_sql(pg, db, MEND_STORE);
	/* never run, even once the store works */
	usleep(1500000);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "cancelled");
	json_decref(t);
	assert_int_equal(corrald_log_count(&daemon_, "at step 'store'") -
				 corrald_log_count(&daemon_, "waits for the store"),
			 1);
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

static void test_corrald_stopped_while_holding_leaves_the_task_to_the_next_start(void **state)
{
	struct pg_server *pg;
	char db[32];
	int64_t id;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	id = held_task(pg, db, sizeof(db));
	assert_int_equal(corrald_stop(&daemon_), 0);
	assert_int_equal(corrald_log_count(&daemon_, "its requeue could not be recorded before exit"), 1);
	pg_expect_sql(pg, db, MEND_STORE);
	if (corrald_spawn(&daemon_, 0) < 0)
		fail_msg("corrald did not start again\n%s", corrald_log_tail(&daemon_));
	expect_ran_once(pg, db, id);
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

/* While held, the task became another start's (the reaper took it back
 * from a node that could not renew, and it was started again: here, the
 * same node's incarnation, as after a long partition): the held requeue
 * must not requeue that start from under its jail (it would run twice). */
static void test_held_requeue_leaves_a_later_start_alone(void **state)
{
	struct pg_server *pg;
	char db[32], sql[512];
	int64_t id;
	json_t *t;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	id = held_task(pg, db, sizeof(db));
	snprintf(sql, sizeof(sql),
		 "UPDATE corral.tasks SET started_at_us = started_at_us + 1 WHERE id = %lld", (long long)id);
	pg_expect_sql(pg, db, sql);
	pg_expect_sql(pg, db, MEND_STORE);
	wait_log(&daemon_, "its held requeue is moot", 1, 10000);
	usleep(500000);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "running");
	json_decref(t);
	assert_int_equal(corrald_log_count(&daemon_, "requeued ("), 0);
	assert_false(held_mark(id));
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

/* A store that keeps failing a task's start (its inputs unreadable, its
 * requeues taken): each start is not an attempt, so the backoff grows
 * with the store's faults instead (1 s, 2 s, 3 s, ...), not a start a
 * second for ever; once the store works the task runs, attempts 1. */
static void test_store_failing_a_start_again_and_again_backs_off(void **state)
{
	struct pg_server *pg;
	char db[32];
	int64_t id;
	int starts;
	json_t *t;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	id = start_on_broken_store(pg, db, sizeof(db),
				   "ALTER TABLE corral.task_file_chunks RENAME TO test_chunks_away");
	wait_log(&daemon_, "at step 'store'", 1, 10000);
	sleep(9); /* backoffs 1, 2, 3 s (and the starts between): 4 starts; 1 s each: 10 */
	starts = corrald_log_count(&daemon_, "at step 'store'") - corrald_log_count(&daemon_, "requeued (");
	print_message("starts the store failed in 9 s: %d\n", starts);
	if (starts > 6)
		fail_msg("%d starts the store failed in 9 s: no backoff\n%s", starts,
			 corrald_log_tail(&daemon_));
	pg_expect_sql(pg, db, "ALTER TABLE corral.test_chunks_away RENAME TO task_file_chunks");
	t = corrald_must_wait(&daemon_, id, 20000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_int_equal(task_int(t, "attempts"), 1);
	json_decref(t);
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_held_requeue_runs_the_task_once_the_store_works, teardown),
		cmocka_unit_test_teardown(test_held_task_cancelled_ends_cancelled, teardown),
		cmocka_unit_test_teardown(test_corrald_stopped_while_holding_leaves_the_task_to_the_next_start,
					  teardown),
		cmocka_unit_test_teardown(test_held_requeue_leaves_a_later_start_alone, teardown),
		cmocka_unit_test_teardown(test_store_failing_a_start_again_and_again_backs_off, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
