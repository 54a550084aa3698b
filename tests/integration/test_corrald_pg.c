/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_pg.c — a real corrald (root) on the
 * PostgreSQL store (`[supervisor] store = postgresql://...`), against a real
 * PostgreSQL this program starts (tests/lib/pg.h): tasks run and end as on
 * SQLite (succeeded, failed with its exit code, cancelled while running,
 * output kept), the rows and charges are in the database and no SQLite file
 * is made, they survive a restart of corrald; an unreachable database
 * stops corrald at start with a clear message that never shows the
 * password.  No PostgreSQL binaries: skips loudly (fails under
 * CORRAL_MUST_WORK=1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"

/* Its own host uids, so other integration tests running at the same time
 * on this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200800-4200863\n" \
	"max_running = 4\n"
#define POLICY "[plan p]\nmax_concurrent = 4\nmonthly_cpu_hours = 10\n[user root]\nplan = p\n"

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* corrald started with policy on a new database of pg (its name into db). */
static void start_on_new_db(struct pg_server *pg, char *db, size_t db_size, const char *policy)
{
	char uri[192], keys[512], why[256];
	int rc;

	if (pg_server_create_db(pg, db, db_size, uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = %s\n", uri);
	rc = corrald_start(&daemon_, keys, policy, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
}

static void test_corrald_runs_tasks_on_the_postgresql_store(void **state)
{
	struct pg_server *pg;
	char db[32], path[256], sql[1024];
	int64_t ok, fails, echo, loop;
	json_t *t, *r;
	char *out;
	size_t len;
	int rc;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	start_on_new_db(pg, db, sizeof(db), POLICY);

	ok = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	fails = corrald_submit(&daemon_, "\"argv\":[\"/bin/sh\",\"-c\",\"exit 3\"]");
	echo = corrald_submit(&daemon_, "\"argv\":[\"/bin/echo\",\"hello from postgres\"]");
	loop = corrald_submit(&daemon_, "\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]");
	assert_true(ok > 0 && fails > ok && echo > fails && loop > echo);

	t = corrald_must_wait(&daemon_, ok, 10000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	t = corrald_must_wait(&daemon_, fails, 10000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "exit_code");
	assert_int_equal(task_int(t, "exit_code"), 3);
	json_decref(t);
	t = corrald_must_wait(&daemon_, echo, 10000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	out = corrald_logs(&daemon_, echo, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "hello from postgres\n");
	free(out);

	json_decref(corrald_wait_state(&daemon_, loop, "running", 10000));
	usleep(300000);
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)loop);
	assert_null(corrald_error_code(r));
	json_decref(r);
	t = corrald_must_wait(&daemon_, loop, 10000);
	assert_string_equal(task_str(t, "state"), "cancelled");
	assert_true(task_int(t, "cpu_us") > 0); /* charged, however busy the host */
	json_decref(t);

	/* In the database, not in a file. */
	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(sql, sizeof(sql),
		 "DO $$BEGIN "
		 "IF (SELECT COUNT(*) FROM corral.tasks WHERE state = 'succeeded') <> 2 "
		 "OR (SELECT COUNT(*) FROM corral.tasks WHERE state = 'failed' AND exit_code = 3) <> 1 "
		 "OR (SELECT COUNT(*) FROM corral.tasks WHERE id = %lld AND state = 'cancelled') <> 1 "
		 "OR (SELECT COALESCE(SUM(cpu_us), 0) FROM corral.usage WHERE user_name = 'root') "
		 "   <> (SELECT SUM(cpu_charged_us) FROM corral.tasks) "
		 "OR (SELECT COUNT(*) FROM corral.events WHERE kind = 'finished') <> 4 "
		 "THEN RAISE EXCEPTION 'rows are not what corrald reported'; END IF; END$$",
		 (long long)loop);
	pg_expect_sql(pg, db, sql);

	/* Durable across a restart of corrald. */
	rc = corrald_restart(&daemon_, 0);
	if (rc < 0)
		fail_msg("corrald did not restart: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
	t = corrald_status(&daemon_, fails);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "failed");
	json_decref(t);
	ok = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	assert_true(ok > loop);
	t = corrald_must_wait(&daemon_, ok, 10000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

static void test_corrald_stops_at_start_when_postgresql_is_unreachable(void **state)
{
	char log[8192];
	int rc;

	(void)state;
	require_root();
	pg_shared_server_or_skip();
	assert_int_equal(
		corrald_prepare(&daemon_,
				SUPERVISOR_KEYS
				"store = postgresql://corral:s3cret@%2Fnonexistent-corral-pg/corral\n",
				POLICY),
		0);
	rc = corrald_run_other(daemon_.policy, daemon_.dir, daemon_.socket, daemon_.log, 10000);
	assert_true(rc > 0);
	test_read_text(daemon_.log, log, sizeof(log));
	if (!strstr(log, "connect to PostgreSQL"))
		fail_msg("no clear message in corrald's log:\n%s", log);
	assert_null(strstr(log, "s3cret"));
}

/* A database that accepts the connection and then says nothing (a hung
 * server, a black-holed route): corrald gives up after connect_timeout
 * (5 s unless the URI says otherwise) with a clear message, instead of
 * hanging for ever before it ever serves. */
static void test_corrald_stops_at_start_when_postgresql_never_answers(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	char keys[512], log[8192];
	int fd, rc;

	(void)state;
	require_root();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0); /* the kernel completes the handshake; nobody answers */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = postgresql://corral@127.0.0.1:%u/corral\n",
		 ntohs(addr.sin_port));
	assert_int_equal(corrald_prepare(&daemon_, keys, POLICY), 0);
	rc = corrald_run_other(daemon_.policy, daemon_.dir, daemon_.socket, daemon_.log, 20000);
	close(fd);
	if (rc == -ETIMEDOUT)
		fail_msg("corrald still waited for a silent database after 20 s");
	assert_true(rc > 0);
	test_read_text(daemon_.log, log, sizeof(log));
	if (!strstr(log, "connect to PostgreSQL"))
		fail_msg("no clear message in corrald's log:\n%s", log);
}

/* Growing out of one machine: a corrald on SQLite runs tasks; `corral
 * store migrate` refuses while it runs, copies once it stopped; corrald on
 * PostgreSQL (same state dir: the outputs are on this host) shows the old
 * tasks and their output, runs new ones with the next ids, and its file's
 * plans became the cluster's policy (generation 1). */
static void test_store_migrate_moves_a_single_host_store(void **state)
{
	struct pg_server *pg;
	char db[32], uri[192], keys[512], why[256], cmd[1024], out[2048], month[8];
	int64_t ok, fails, next;
	long long used;
	json_t *t;
	char *logs;
	size_t len, n;
	FILE *p;
	int rc;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	rc = corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
	ok = corrald_submit(&daemon_, "\"argv\":[\"/bin/sh\",\"-c\",\"echo moved; :\"]");
	fails = corrald_submit(&daemon_, "\"argv\":[\"/bin/sh\",\"-c\",\"exit 7\"]");
	json_decref(corrald_must_wait(&daemon_, ok, 20000));
	json_decref(corrald_must_wait(&daemon_, fails, 20000));
	{
		time_t now = time(NULL);

		strftime(month, sizeof(month), "%Y-%m", gmtime(&now));
	}
	used = corrald_usage_used(&daemon_, "root", month);
	assert_true(used > 0);

	/* refused while corrald runs on it */
	snprintf(cmd, sizeof(cmd), "%s store migrate --from %s/corral.db --to '%s' 2>&1",
		 test_build_path("corral"), daemon_.dir, uri);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(WEXITSTATUS(pclose(p)), 1);
	assert_non_null(strstr(out, "in use by another corrald"));

	assert_int_equal(corrald_stop(&daemon_), 0);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	fprintf(stderr, "%s", out);
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "copied 2 tasks"));

	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = %s\n", uri);
	assert_int_equal(corrald_write_policy(&daemon_, keys, POLICY), 0);
	assert_int_equal(corrald_restart(&daemon_, 0), 0);
	t = corrald_status(&daemon_, ok);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	t = corrald_status(&daemon_, fails);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_int_equal(task_int(t, "exit_code"), 7);
	json_decref(t);
	logs = corrald_logs(&daemon_, ok, "stdout", &len);
	assert_non_null(logs);
	assert_memory_equal(logs, "moved\n", 6);
	free(logs);
	assert_int_equal(corrald_usage_used(&daemon_, "root", month), used);
	/* no policy was copied (one host has none): the first node on the
	 * database pushed its file's cluster-wide sections as generation 1 */
	t = corrald_call(&daemon_, "{\"op\":\"policy_current\"}");
	assert_non_null(t);
	assert_int_equal(json_integer_value(json_object_get(t, "generation")), 1);
	assert_int_equal(json_integer_value(json_object_get(t, "applied")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(t, "text")), "monthly_cpu_hours = 10"));
	json_decref(t);
	next = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	assert_int_equal(next, fails + 1);
	json_decref(corrald_must_wait(&daemon_, next, 20000));
}

/* The connection to PostgreSQL lost while tasks start (every backend of
 * the test's database terminated every 20 ms for 3 s, as a failover or a
 * restart of the server does): a start whose inputs cannot be read is
 * requeued, never ended for it, and its attempt is not spent (the plan has
 * one); every task runs once the store answers again. */
#define STORE_LOSS_TASKS 6
#define STORE_LOSS_FILES 40
#define STORE_LOSS_FILE_BYTES 30000 /* 40 files: 80 reads of the store per start */

static char *inputs_fields(void)
{
	size_t b64 = STORE_LOSS_FILE_BYTES / 3 * 4, size = STORE_LOSS_FILES * (b64 + 64) + 256, at;
	char *f = malloc(size);

	assert_non_null(f);
	at = (size_t)snprintf(f, size,
			      "\"argv\":[\"/bin/sh\",\"-c\",\"test $(cat f* | wc -c) = %d\"],\"files\":[",
			      STORE_LOSS_FILES * STORE_LOSS_FILE_BYTES);
	for (int i = 0; i < STORE_LOSS_FILES; i++) {
		at += (size_t)snprintf(f + at, size - at, "%s{\"name\":\"f%02d\",\"data_base64\":\"",
				       i ? "," : "", i);
		memset(f + at, 'A', b64);
		at += b64;
		at += (size_t)snprintf(f + at, size - at, "\"}");
	}
	snprintf(f + at, size - at, "]");
	return f;
}

/* One round: STORE_LOSS_TASKS tasks with inputs submitted, the database's
 * backends terminated every 20 ms for 3 s while they start; every task
 * must succeed with attempts 1. */
static void lose_connections_while_tasks_start(struct pg_server *pg, const char *db, const char *fields)
{
	int64_t ids[STORE_LOSS_TASKS];
	char why[256], sql[256];
	pid_t killer;
	int status;

	for (int i = 0; i < STORE_LOSS_TASKS; i++) {
		ids[i] = corrald_submit(&daemon_, fields);
		if (ids[i] <= 0)
			fail_msg("submit %d refused\n%s", i, corrald_log_tail(&daemon_));
	}
	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
		 "AND pid <> pg_backend_pid()",
		 db);
	killer = fork();
	assert_true(killer >= 0);
	if (killer == 0) {
		for (int i = 0; i < 150; i++) {
			pg_server_exec(pg, db, sql, why, sizeof(why));
			usleep(20000);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(killer, &status, 0), killer);
	for (int i = 0; i < STORE_LOSS_TASKS; i++) {
		json_t *t = corrald_must_wait(&daemon_, ids[i], 60000);

		if (strcmp(task_str(t, "state"), "succeeded") != 0)
			fail_msg("task %lld: %s (%s)\n%s", (long long)ids[i], task_str(t, "state"),
				 task_str(t, "message"), corrald_log_tail(&daemon_));
		assert_int_equal(task_int(t, "attempts"), 1);
		json_decref(t);
	}
}

static void test_connection_lost_while_tasks_start_requeues_them(void **state)
{
	struct pg_server *pg;
	char db[32];
	char *fields = inputs_fields();
	int hits = 0, round;

	(void)state;
	require_root();
	pg = pg_shared_server_or_skip();
	start_on_new_db(pg, db, sizeof(db),
			"[plan p]\nmax_concurrent = 1\nmax_attempts = 1\n[user root]\nplan = p\n");
	/* the loss must meet a start's reads at least once (it did in 2
	 * rounds of 3 here under a load of 11; the held path's deterministic
	 * cases are in test_corrald_pg_faults) */
	for (round = 1; round <= 3 && hits == 0; round++) {
		lose_connections_while_tasks_start(pg, db, fields);
		hits = corrald_log_count(&daemon_, "at step 'store'");
	}
	print_message("starts the lost connection failed (each requeued): %d in %d rounds, of which held until "
		      "the store took the requeue: %d\n",
		      hits, round - 1, corrald_log_count(&daemon_, "its requeue waits for the store"));
	if (hits == 0)
		fail_msg("no start met the lost connection in 3 rounds: the test proved nothing\n%s",
			 corrald_log_tail(&daemon_));
	free(fields);
	assert_int_equal(corrald_stop(&daemon_), 0);
	pg_server_drop_db(pg, db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_corrald_runs_tasks_on_the_postgresql_store, teardown),
		cmocka_unit_test_teardown(test_store_migrate_moves_a_single_host_store, teardown),
		cmocka_unit_test_teardown(test_connection_lost_while_tasks_start_requeues_them, teardown),
		cmocka_unit_test_teardown(test_corrald_stops_at_start_when_postgresql_is_unreachable,
					  teardown),
		cmocka_unit_test_teardown(test_corrald_stops_at_start_when_postgresql_never_answers,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
