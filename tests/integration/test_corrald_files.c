/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_files.c — a task's files against a real
 * corrald (root; issue 15): files and trees (binary content) in through
 * `corral submit --file/--dir`, artifacts out through `corral fetch`; the
 * plan's max_artifact keeps the head and marks the cut; a symlink to
 * /etc/shadow, a hard link and a FIFO planted in /work are never collected
 * (and corrald does not hang on them); a timed-out, an OOM-killed task and
 * one adopted after kill -9 of corrald keep their artifacts; another tenant is refused as for status; max_input and
 * max_stored refuse a submit; bad names are bad_input; the HTTP routes;
 * the same round trip on a PostgreSQL store; artifact_retention; inputs
 * removed from the store when the task ends (kept for a requeued attempt).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "supervisor/api/api.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/pg.h"

/* Its own host uids, apart from the other corrald tests'. */
#define SUPERVISOR_KEYS CORRALD_FILES_KEYS("4201400-4201463")
#define POLICY CORRALD_FILES_POLICY

static struct corrald daemon_;
static char scratch[128];
static struct corrald_files_fixture fixture = { &daemon_, scratch, sizeof(scratch), "corral-files" };

#define start(policy_body) corrald_files_start(&daemon_, SUPERVISOR_KEYS, policy_body)

#define write_bytes corrald_files_write

static size_t read_bytes(const char *path, unsigned char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, size);
	close(fd);
	assert_true(n >= 0);
	return (size_t)n;
}

/* the client; the list; one of it; a submit (tests/lib/corrald_files.h) */
#define corral(...) corrald_files_cli(&daemon_, __VA_ARGS__)
#define artifacts_of(id) corrald_files_list(&daemon_, id)
#define artifact_named corrald_files_named
#define submit_ok(fields) corrald_files_submit(&daemon_, fields)

/* A file and a tree with every byte value go in with --file/--dir, come
 * back with fetch byte for byte (SHA-256 checked by the client). */
static void test_file_and_tree_round_trip_with_binary_content(void **state)
{
	unsigned char bin[4096], got[8192];
	char path[256], out[256];
	json_t *task, *list;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + i / 256);
	snprintf(path, sizeof(path), "%s/in.bin", scratch);
	write_bytes(path, bin, sizeof(bin), 0644);
	snprintf(path, sizeof(path), "%s/tree", scratch);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tree/sub", scratch);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tree/sub/run.sh", scratch);
	write_bytes(path, "#!/bin/sh\necho hi\n", 18, 0755);
	snprintf(out, sizeof(out), "%s/id", scratch);
	assert_int_equal(
		corral("submit --file %s/in.bin:data/in.bin --dir %s/tree:t --artifact 'out/*' "
		       "-- /bin/sh -c 'mkdir out && cp data/in.bin out/copy.bin && "
		       "cp t/sub/run.sh out/run.sh && test -x t/sub/run.sh && ./t/sub/run.sh > out/said' > %s",
		       scratch, scratch, out),
		0);
	read_bytes(out, got, sizeof(got));
	id = strtoll((char *)got, NULL, 10);
	assert_true(id > 0);
	task = corrald_must_wait(&daemon_, id, 30000);
	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") != 0)
		fail_msg("task: %s\n%s", json_string_value(json_object_get(task, "message")),
			 corrald_log_tail(&daemon_));
	json_decref(task);
	list = artifacts_of(id);
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(json_integer_value(json_object_get(artifact_named(list, "out/copy.bin"), "size")),
			 4096);
	assert_int_equal(json_integer_value(json_object_get(artifact_named(list, "out/run.sh"), "mode")),
			 0755);
	json_decref(list);
	assert_int_equal(corral("artifacts %lld > /dev/null", (long long)id), 0);
	assert_int_equal(corral("fetch %lld -o %s/got", (long long)id, scratch), 0);
	snprintf(path, sizeof(path), "%s/got/out/copy.bin", scratch);
	assert_int_equal(read_bytes(path, got, sizeof(got)), sizeof(bin));
	assert_memory_equal(got, bin, sizeof(bin));
	snprintf(path, sizeof(path), "%s/got/out/said", scratch);
	assert_int_equal(read_bytes(path, got, sizeof(got)), 3);
	assert_memory_equal(got, "hi\n", 3);
	/* one by name */
	assert_int_equal(corral("fetch %lld out/said -o %s/one", (long long)id, scratch), 0);
	snprintf(path, sizeof(path), "%s/one/out/copy.bin", scratch);
	assert_int_equal(access(path, F_OK), -1);
}

/* A task writing 10x max_artifact: the first file's head is kept and cut,
 * a later one listed as cut with nothing kept. */
static void test_artifact_cap_keeps_the_head_and_marks_the_cut(void **state)
{
	json_t *list, *big, *later, *r;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY("max_artifact = 64K\n"));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"head -c 655360 /dev/zero > big.txt && echo x > "
		       "later.txt\"],\"artifacts\":[\"*.txt\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	list = artifacts_of(id);
	big = artifact_named(list, "big.txt");
	later = artifact_named(list, "later.txt");
	assert_non_null(big);
	assert_non_null(later);
	assert_int_equal(json_integer_value(json_object_get(big, "size")), 65536);
	assert_true(json_is_true(json_object_get(big, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(later, "size")), 0);
	assert_true(json_is_true(json_object_get(later, "truncated")));
	json_decref(list);
	r = corrald_call(&daemon_, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"big.txt\"}", (long long)id);
	assert_null(corrald_error_code(r));
	assert_int_equal(json_integer_value(json_object_get(r, "size")), 65536);
	json_decref(r);
}

/* Symlinks (to /etc/shadow, to /), a hard link and a FIFO planted in /work:
 * none is collected, the plain file is, and the end is prompt. */
static void test_planted_links_and_fifo_are_never_collected(void **state)
{
	json_t *list, *task;
	int64_t id;
	double t0;

	(void)state;
	test_require_root();
	start(POLICY(""));
	t0 = test_mono_s();
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"ln -s /etc/shadow shadow.txt; ln -s / root.txt; "
		       "echo a > linked.txt; ln linked.txt hard.txt; mkfifo fifo.txt; mkdir d; "
		       "ln -s /etc d/etc.txt; echo ok > ok.txt\"],\"artifacts\":[\"*\"]");
	task = corrald_must_wait(&daemon_, id, 30000);
	json_decref(task);
	assert_true(test_mono_s() - t0 < 20);
	list = artifacts_of(id);
	if (json_array_size(list) != 1 || !artifact_named(list, "ok.txt")) {
		char *text = json_dumps(list, JSON_COMPACT);

		fail_msg("collected %s", text);
	}
	json_decref(list);
	/* corrald still answers */
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
}

/* A task killed at its timeout still leaves its artifacts. */
static void test_timed_out_task_keeps_its_artifacts(void **state)
{
	json_t *list, *task;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo partial > r.txt; sleep 30\"],\"timeout_ms\":1000,"
		       "\"artifacts\":[\"r.txt\"]");
	task = corrald_must_wait(&daemon_, id, 30000);
	assert_string_equal(json_string_value(json_object_get(task, "reason")), "timeout");
	json_decref(task);
	list = artifacts_of(id);
	assert_non_null(artifact_named(list, "r.txt"));
	assert_int_equal(json_integer_value(json_object_get(artifact_named(list, "r.txt"), "size")), 8);
	json_decref(list);
}

/* kill -9 of corrald while the task runs: the restarted corrald adopts
 * the jail and, at its end, still collects from the host tmpfs (which
 * outlived corrald) and removes it. */
static void test_adopted_task_after_kill9_keeps_its_artifacts(void **state)
{
	json_t *list, *task;
	char path[300];
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo early > a.txt; sleep 2; echo late > b.txt\"],"
		       "\"artifacts\":[\"*.txt\"]");
	json_decref(corrald_wait_state(&daemon_, id, "running", 10000));
	if (corrald_crash_restart(&daemon_) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	task = corrald_must_wait(&daemon_, id, 30000);
	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") != 0)
		fail_msg("task: %s\n%s", json_string_value(json_object_get(task, "message")),
			 corrald_log_tail(&daemon_));
	json_decref(task);
	list = artifacts_of(id);
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(json_integer_value(json_object_get(artifact_named(list, "b.txt"), "size")), 5);
	json_decref(list);
	snprintf(path, sizeof(path), "%s/tasks/%lld/work",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, (long long)id);
	assert_int_equal(access(path, F_OK), -1);
}

/* An OOM-killed task keeps what it wrote before. */
static void test_oom_killed_task_keeps_its_artifacts(void **state)
{
	json_t *list, *task;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY("memory = 32M\n"));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo before > r.txt; "
		       "x=$(yes | head -c 150000000); echo after >> r.txt\"],"
		       "\"artifacts\":[\"r.txt\"]");
	task = corrald_must_wait(&daemon_, id, 30000);
	if (!json_is_true(json_object_get(task, "oom_killed")))
		fail_msg("not OOM-killed: %s", json_string_value(json_object_get(task, "message")));
	json_decref(task);
	list = artifacts_of(id);
	assert_non_null(artifact_named(list, "r.txt"));
	json_decref(list);
}

/* Another tenant gets what status gives it: forbidden, for both ops. */
static void test_other_tenant_cannot_list_or_fetch(void **state)
{
	const char *lines[2];
	json_t *answers[2] = { 0 };
	char l0[128], l1[160];
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo s > s.txt\"],\"artifacts\":[\"*\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	snprintf(l0, sizeof(l0), "{\"op\":\"artifacts\",\"id\":%lld}", (long long)id);
	snprintf(l1, sizeof(l1), "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"s.txt\"}", (long long)id);
	lines[0] = l0;
	lines[1] = l1;
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 2,
					  answers),
			 0);
	for (int i = 0; i < 2; i++) {
		assert_non_null(answers[i]);
		assert_string_equal(corrald_error_code(answers[i]), "forbidden");
		json_decref(answers[i]);
	}
}

/* max_input refuses as too_large, max_stored as storage_quota; bad names
 * and entries as bad_input; nothing is queued by any of them. */
static void test_limits_and_bad_names_refuse_the_submit(void **state)
{
	static const char *const bad[] = {
		"{\"name\":\"../x\",\"data_base64\":\"\"}",
		"{\"name\":\"/etc/passwd\",\"data_base64\":\"\"}",
		"{\"name\":\"a//b\",\"data_base64\":\"\"}",
		"{\"name\":\"a/./b\",\"data_base64\":\"\"}",
		"{\"name\":\"\",\"data_base64\":\"\"}",
		"{\"name\":\"x\"}",
		"{\"name\":\"d\",\"dir\":true,\"data_base64\":\"\"}",
		"{\"name\":\"x\",\"data_base64\":\"\"},{\"name\":\"x\",\"data_base64\":\"\"}",
		"{\"name\":\"f\",\"data_base64\":\"\"},{\"name\":\"f/g\",\"data_base64\":\"\"}",
		"{\"name\":\"f/g\",\"data_base64\":\"\"},{\"name\":\"f\",\"data_base64\":\"\"}",
	};
	char *big = malloc(900000), *line = NULL, name[300];
	json_t *r, *list;

	(void)state;
	test_require_root();
	assert_non_null(big);
	start(POLICY("max_input = 256K\nmax_stored = 2M\nmonthly_cpu_hours = 0\n"));
	memset(big, 'A', 899999);
	big[899999] = '\0'; /* 675000 bytes once decoded */
	r = corrald_call(
		&daemon_,
		"{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"files\":[{\"name\":\"b\",\"data_base64\":\"%s\"}]}",
		big);
	assert_string_equal(corrald_error_code(r), "too_large");
	assert_non_null(strstr(corrald_error_message(r), "max_input"));
	json_decref(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = corrald_call(&daemon_, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"files\":[%s]}",
				 bad[i]);
		if (!corrald_error_code(r) || strcmp(corrald_error_code(r), "bad_input") != 0)
			fail_msg("%s: wanted bad_input, got %s", bad[i], corrald_error_code(r));
		json_decref(r);
	}
	memset(name, 'n', 299);
	name[299] = '\0';
	r = corrald_call(&daemon_,
			 "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"files\":[{\"name\":\"%s\","
			 "\"data_base64\":\"\"}]}",
			 name);
	assert_string_equal(corrald_error_code(r), "bad_input");
	json_decref(r);
	/* 200 KiB of input fits max_input; ten of them do not fit max_stored */
	big[273064] = '\0';
	assert_true(asprintf(&line,
			     "\"argv\":[\"/bin/true\"],\"files\":[{\"name\":\"f\",\"data_base64\":\"%s\"}]",
			     big) > 0);
	for (int n = 0;; n++) {
		r = corrald_call(&daemon_, "{\"op\":\"submit\",%s}", line);
		if (corrald_error_code(r)) {
			assert_string_equal(corrald_error_code(r), "storage_quota");
			assert_true(n >= 5 && n <= 10);
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(n < 12);
	}
	list = corrald_list(&daemon_, NULL);
	assert_true(json_array_size(list) >= 5 && json_array_size(list) <= 10);
	json_decref(list);
	free(line);
	free(big);
}

/* Over HTTP: a submit with files and artifacts, the list, the bytes. */
static void test_http_submit_list_and_download(void **state)
{
	char policy[512], token[256], u[256];
	struct http_answer a;
	int64_t id;
	int port = http_free_port();

	(void)state;
	test_require_root();
	snprintf(policy, sizeof(policy), POLICY("") "[http]\nlisten = 127.0.0.1:%d\n", port);
	start(policy);
	corrald_files_bearer(&daemon_, "root", true, token, sizeof(token));
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/tasks", port);
	/* "aGVsbG8K" = "hello\n" */
	http_curl(&a, "-X", "POST", "-H", token, "-H", "Content-Type: application/json", "--data-binary",
		  "{\"argv\":[\"/bin/sh\",\"-c\",\"mkdir o && cp in/h o/h\"],\"files\":[{\"name\":\"in/h\","
		  "\"mode\":420,\"data_base64\":\"aGVsbG8K\"}],\"artifacts\":[\"o/*\"]}",
		  u, NULL);
	if (a.status != 201)
		fail_msg("POST: %d %s", a.status, a.body ? a.body : "");
	id = json_integer_value(json_object_get(json_object_get(a.json, "task"), "id"));
	http_answer_free(&a);
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/tasks/%lld/artifacts", port, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(a.json, "artifacts"), 0),
						    "name")),
			    "o/h");
	http_answer_free(&a);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/tasks/%lld/artifacts/o/h", port, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.len, 6);
	assert_memory_equal(a.body, "hello\n", 6);
	assert_string_equal(http_header(&a, "X-Corral-Eof"), "true");
	http_answer_free(&a);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/tasks/%lld/artifacts/nope", port, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 404);
	http_answer_free(&a);
}

/* On a PostgreSQL store (the cluster's: every node reads it) the same round
 * trip: the input arrives, the artifact's bytes are in the database. */
static void test_postgresql_store_round_trip(void **state)
{
	char why[512] = "", db[32], uri[192], keys[512], sql[512];
	struct pg_server *pg;
	json_t *r;
	unsigned char *data = NULL;
	bool eof = false;
	size_t len = 0;
	int64_t id;

	(void)state;
	test_require_root();
	pg = pg_shared_server(why, sizeof(why));
	if (!pg)
		test_skip_loudly("no PostgreSQL for the store: %s", why);
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = %s\n", uri);
	if (corrald_start(&daemon_, keys, POLICY(""), 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	/* "AAEC/w==" = 00 01 02 ff */
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"cp b.bin c.bin\"],\"files\":[{\"name\":\"b.bin\","
		       "\"data_base64\":\"AAEC/w==\"}],\"artifacts\":[\"c.bin\"]");
	r = corrald_must_wait(&daemon_, id, 30000);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "succeeded");
	json_decref(r);
	data = corrald_fetch_chunk(&daemon_, id, "c.bin", &len, &eof);
	assert_non_null(data);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "\x00\x01\x02\xff", 4);
	assert_true(eof);
	free(data);
	/* the artifact's chunk stays, the input's left with the end */
	snprintf(sql, sizeof(sql),
		 "DO $$BEGIN IF (SELECT COUNT(*) FROM corral.task_file_chunks WHERE task_id = %lld) <> 1 "
		 "OR (SELECT COUNT(*) FROM corral.task_files WHERE task_id = %lld AND kind = 'input') <> 0 "
		 "THEN RAISE EXCEPTION 'chunks'; END IF; END$$",
		 (long long)id, (long long)id);
	if (pg_server_exec(pg, db, sql, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}

/* artifact_retention with an injected clock: two hours later the artifacts
 * of a task are gone, the task is kept. */
static void test_artifact_retention_removes_artifacts_and_keeps_the_task(void **state)
{
	json_t *list = NULL, *task;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY("artifact_retention = 1h\n"));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"cp in.txt out.txt\"],\"files\":[{\"name\":\"in.txt\","
		       "\"data_base64\":\"aGVsbG8K\"}],\"artifacts\":[\"out.txt\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	list = artifacts_of(id);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	if (corrald_restart(&daemon_, 7200) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	for (int tries = 0; tries < 100; tries++) {
		list = artifacts_of(id);
		if (json_array_size(list) == 0)
			break;
		json_decref(list);
		list = NULL;
		test_sleep_ms(100);
	}
	if (!list)
		fail_msg("the artifacts are still there\n%s", corrald_log_tail(&daemon_));
	json_decref(list);
	task = corrald_status(&daemon_, id);
	assert_non_null(task);
	json_decref(task);
}

/* Figures, printed: a task writing 48 MB with and without keeping it as an
 * artifact (submit to end), and `corral fetch` of it; the bytes arrive
 * whole (fetch checks their SHA-256). */
static void test_big_artifact_costs_are_printed(void **state)
{
	double t0, plain, kept, fetch;
	char path[256];
	struct stat st;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY("memory = 1G\n"));
	t0 = test_mono_s();
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"head -c 48000000 /dev/urandom > big.bin\"],"
		       "\"artifacts\":[\"nothing\"]");
	json_decref(corrald_must_wait(&daemon_, id, 60000));
	plain = test_mono_s() - t0;
	t0 = test_mono_s();
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"head -c 48000000 /dev/urandom > big.bin\"],"
		       "\"artifacts\":[\"big.bin\"]");
	json_decref(corrald_must_wait(&daemon_, id, 60000));
	kept = test_mono_s() - t0;
	t0 = test_mono_s();
	assert_int_equal(corral("fetch %lld -o %s/big", (long long)id, scratch), 0);
	fetch = test_mono_s() - t0;
	snprintf(path, sizeof(path), "%s/big/big.bin", scratch);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 48000000);
	fprintf(stderr, "# 48 MB task: %.2f s without keeping it, %.2f s keeping it (SQLite), fetch %.2f s\n",
		plain, kept, fetch);
}

/* One figure of the SQLite store: the integer the query (one ? = id) gives. */
static int64_t store_figure(const char *sql, int64_t id)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v;

	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int64_t input_rows(int64_t id)
{
	return store_figure("SELECT (SELECT COUNT(*) FROM task_files WHERE task_id = ?1 AND kind = 'input') + "
			    "(SELECT COUNT(*) FROM task_file_chunks WHERE task_id = ?1 AND kind = 'input')",
			    id);
}

/* The submit fields of a task with a 600000-byte input in.bin (zeros)
 * that checks it has it; malloc'd. */
static char *big_input_fields(void)
{
	size_t n = 800000; /* base64 of 600000 bytes */
	const char *head = "\"argv\":[\"/bin/sh\",\"-c\",\"test $(wc -c < in.bin) = 600000\"],"
			   "\"files\":[{\"name\":\"in.bin\",\"data_base64\":\"";
	char *f = malloc(strlen(head) + n + 8);

	assert_non_null(f);
	strcpy(f, head);
	memset(f + strlen(head), 'A', n);
	strcpy(f + strlen(head) + n, "\"}]");
	return f;
}

/* The tenant's stored_bytes and max_stored_bytes (-1 = null) in usage. */
static int64_t usage_stored(int64_t *max)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"usage\",\"user\":\"root\"}"), *u;
	int64_t held;

	if (!r || corrald_error_code(r))
		fail_msg("usage: %s", corrald_error_message(r));
	u = json_array_get(json_object_get(r, "usage"), 0);
	assert_true(json_is_integer(json_object_get(u, "stored_bytes")));
	held = json_integer_value(json_object_get(u, "stored_bytes"));
	*max = json_is_null(json_object_get(u, "max_stored_bytes"))
		? -1
		: json_integer_value(json_object_get(u, "max_stored_bytes"));
	json_decref(r);
	return held;
}

#define TENANT_STORED "SELECT SUM(stored_bytes) + 0 * ? FROM tasks WHERE user_name = 'root'"

/* `corral usage` shows what the tenant's tasks hold (as the store counts
 * it, across a restart) and the plan's max_stored. */
static void test_usage_shows_storage_held_and_max_stored(void **state)
{
	int64_t id, max, held;
	char out[256], text[4096];
	size_t n;

	(void)state;
	test_require_root();
	start(POLICY("max_stored = 1M\n"));
	id = submit_ok(
		"\"argv\":[\"/bin/sh\",\"-c\",\"head -c 5000 /dev/zero > a.bin\"],\"artifacts\":[\"a.bin\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	held = usage_stored(&max);
	assert_int_equal(max, 1048576);
	assert_true(held >= 5000);
	assert_int_equal(held, store_figure(TENANT_STORED, 0));
	if (corrald_restart(&daemon_, 0) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	assert_int_equal(usage_stored(&max), held);
	snprintf(out, sizeof(out), "%s/usage", scratch);
	assert_int_equal(corral("usage > %s", out), 0);
	n = read_bytes(out, (unsigned char *)text, sizeof(text) - 1);
	text[n] = '\0';
	if (!strstr(text, "STORED") || !strstr(text, " / 1 MiB"))
		fail_msg("corral usage said:\n%s", text);
	/* max_stored = unlimited: null */
	corrald_cleanup(&daemon_);
	start(POLICY("max_stored = unlimited\n"));
	usage_stored(&max);
	assert_int_equal(max, -1);
}

/* A profile's artifacts = globs are kept for a submit that names none; a
 * submit's own --artifact replace them. */
static void test_profile_artifacts_apply_when_the_submit_names_none(void **state)
{
	json_t *list;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY("profile = build\n[profile build]\nartifacts = out/*.txt report\n"));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"mkdir out && echo a > out/a.txt && echo r > report "
		       "&& echo o > other\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	list = artifacts_of(id);
	assert_int_equal(json_array_size(list), 2);
	assert_non_null(artifact_named(list, "out/a.txt"));
	assert_non_null(artifact_named(list, "report"));
	json_decref(list);
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo r > report && echo o > other\"],"
		       "\"artifacts\":[\"other\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	list = artifacts_of(id);
	assert_int_equal(json_array_size(list), 1);
	assert_non_null(artifact_named(list, "other"));
	json_decref(list);
}

/* A task's inputs leave the store when it ends: rows and chunks gone, its
 * stored_bytes and the tenant's counter down by their size (a second task
 * as big fits max_stored only then). */
static void test_inputs_are_removed_when_the_task_ends(void **state)
{
	char *fields = big_input_fields();
	json_t *task;
	int64_t id, second, held, max;

	(void)state;
	test_require_root();
	start(POLICY("max_stored = 1M\n"));
	id = submit_ok(fields);
	assert_true(store_figure("SELECT stored_bytes FROM tasks WHERE id = ?", id) >= 600000);
	task = corrald_must_wait(&daemon_, id, 30000);
	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") != 0)
		fail_msg("task: %s\n%s", json_string_value(json_object_get(task, "message")),
			 corrald_log_tail(&daemon_));
	json_decref(task);
	assert_int_equal(input_rows(id), 0);
	assert_true(store_figure("SELECT stored_bytes FROM tasks WHERE id = ?", id) < 600000);
	held = usage_stored(&max);
	assert_int_equal(held, store_figure(TENANT_STORED, 0));
	assert_true(held < 600000);
	/* the tenant's counter followed: the same input fits again, and
	 * after a restart (counted from the store) too */
	second = submit_ok(fields);
	json_decref(corrald_must_wait(&daemon_, second, 30000));
	if (corrald_restart(&daemon_, 0) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	json_decref(corrald_must_wait(&daemon_, submit_ok(fields), 30000));
	free(fields);
}

/* A task cancelled while queued loses its inputs too (the store's rows and
 * the tenant's counter). */
static void test_queued_task_cancelled_loses_its_inputs(void **state)
{
	char *fields = big_input_fields();
	int64_t sleeper, id, max;
	json_t *r;

	(void)state;
	test_require_root();
	start(POLICY("max_concurrent = 1\n"));
	sleeper = submit_ok("\"argv\":[\"sleep\",\"30\"]");
	json_decref(corrald_wait_state(&daemon_, sleeper, "running", 10000));
	id = submit_ok(fields);
	assert_true(input_rows(id) >= 2);
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)id);
	assert_null(corrald_error_code(r));
	json_decref(r);
	assert_int_equal(input_rows(id), 0);
	assert_int_equal(usage_stored(&max), store_figure(TENANT_STORED, 0));
	assert_true(store_figure(TENANT_STORED, 0) < 600000);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)sleeper));
	json_decref(corrald_must_wait(&daemon_, sleeper, 10000));
	free(fields);
}

/* A start the host failed (its task directory blocked by a file) requeues
 * the task: its inputs stay for the attempt that runs, and go after it. */
static void test_requeued_task_keeps_its_inputs(void **state)
{
	char *fields = big_input_fields(), path[256];
	json_t *task = NULL;
	int64_t id;
	int fd;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"true\"]");
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	snprintf(path, sizeof(path), "%s/tasks/%lld", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir,
		 (long long)(id + 1));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(submit_ok(fields), id + 1);
	for (int tries = 0; tries < 250 && !task; tries++) {
		task = corrald_status(&daemon_, id + 1);
		if (!json_is_string(json_object_get(task, "last_attempt_error"))) {
			json_decref(task);
			task = NULL;
			test_sleep_ms(20);
		}
	}
	if (!task)
		fail_msg("not requeued\n%s", corrald_log_tail(&daemon_));
	assert_string_equal(json_string_value(json_object_get(task, "state")), "queued");
	json_decref(task);
	assert_true(input_rows(id + 1) >= 2);
	assert_int_equal(unlink(path), 0);
	task = corrald_must_wait(&daemon_, id + 1, 30000);
	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") != 0)
		fail_msg("task: %s\n%s", json_string_value(json_object_get(task, "message")),
			 corrald_log_tail(&daemon_));
	assert_int_equal(json_integer_value(json_object_get(task, "attempts")), 2);
	json_decref(task);
	assert_int_equal(input_rows(id + 1), 0);
	free(fields);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) \
	cmocka_unit_test_prestate_setup_teardown(t, corrald_files_setup, corrald_files_teardown, &fixture)
		T(test_file_and_tree_round_trip_with_binary_content),
		T(test_artifact_cap_keeps_the_head_and_marks_the_cut),
		T(test_planted_links_and_fifo_are_never_collected),
		T(test_timed_out_task_keeps_its_artifacts),
		T(test_adopted_task_after_kill9_keeps_its_artifacts),
		T(test_oom_killed_task_keeps_its_artifacts),
		T(test_other_tenant_cannot_list_or_fetch),
		T(test_limits_and_bad_names_refuse_the_submit),
		T(test_http_submit_list_and_download),
		T(test_postgresql_store_round_trip),
		T(test_artifact_retention_removes_artifacts_and_keeps_the_task),
		T(test_big_artifact_costs_are_printed),
		T(test_inputs_are_removed_when_the_task_ends),
		T(test_usage_shows_storage_held_and_max_stored),
		T(test_profile_artifacts_apply_when_the_submit_names_none),
		T(test_requeued_task_keeps_its_inputs),
		T(test_queued_task_cancelled_loses_its_inputs),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
