/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_files_big.c — task files larger than one
 * request line against a real corrald (root; issue 15): a 20 MB binary
 * file goes in through `corral submit --file` (staged uploads) and the task
 * sees identical bytes; a file over max_input is too_large before anything
 * is sent and leaves no task and nothing staged; a hostile tenant's
 * abandoned uploads stay within its cap and are gone after they expire
 * (across a restart); staged bytes count against max_stored; the round
 * trip on PostgreSQL; a 48 MB artifact collected with corrald's peak RSS
 * well below the file's size; a start that fails after /work was prepared
 * leaves no tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"

/* Its own host uids, apart from the other corrald tests'. */
#define SUPERVISOR_KEYS CORRALD_FILES_KEYS("4201500-4201563")
#define POLICY(extra) CORRALD_FILES_POLICY("memory = 1G\n" extra)

#define MB 1000000u
/* What corrald's allocator may keep of freed memory on top of what a
 * bound allows: under AddressSanitizer (`make asan`) freed chunks wait in
 * its quarantine (ASAN_OPTIONS quarantine_size_mb, 8 in `make asan`)
 * before they are reused; 0 otherwise. */
#if defined(__SANITIZE_ADDRESS__)
#define ALLOCATOR_SLACK_KB (8 * 1024)
#else
#define ALLOCATOR_SLACK_KB 0
#endif

static struct corrald daemon_;
static char scratch[128];
static struct corrald_files_fixture fixture = { &daemon_, scratch, sizeof(scratch), "corral-filesbig" };

#define corral(...) corrald_files_cli(&daemon_, __VA_ARGS__)
#define start_with(keys, policy_body) corrald_files_start(&daemon_, keys, policy_body)

/* A file of n random bytes at scratch/name; its path into path. */
static void random_file(const char *name, size_t n, char *path, size_t size)
{
	char cmd[512];

	snprintf(path, size, "%s/%s", scratch, name);
	snprintf(cmd, sizeof(cmd), "head -c %zu /dev/urandom > %s", n, path);
	assert_int_equal(system(cmd), 0);
}

/* The first line of a shell command's output (64 hex of sha256sum). */
static void command_word(const char *cmd, char *out, size_t size)
{
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	out[0] = '\0';
	if (!fgets(out, (int)size, f))
		out[0] = '\0';
	pclose(f);
	out[strcspn(out, " \n")] = '\0';
}

/* A figure (kB) of corrald's /proc/PID/status: "VmHWM", "VmRSS". */
static long status_kb(const char *key)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_.pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			kb = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Reset corrald's VmHWM to its RSS now (clear_refs 5: it is our child). */
static void reset_peak(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)daemon_.pid);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "5", 1), 1);
	close(fd);
}

/* One integer of the SQLite store. */
static int64_t store_figure(const char *sql)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v;

	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#define STAGED_ROWS "SELECT (SELECT COUNT(*) FROM uploads) + (SELECT COUNT(*) FROM upload_chunks)"

/* `corral submit --file PATH:in.bin --wait -- sha256sum in.bin`: the
 * task's id; its stdout into out. */
static int64_t submit_sha256(const char *path, char *out, size_t size)
{
	char idfile[256], line[64];
	char *text;
	size_t len = 0;
	int64_t id;
	json_t *task;
	FILE *f;

	snprintf(idfile, sizeof(idfile), "%s/id", scratch);
	assert_int_equal(corral("submit --file %s:in.bin -- /usr/bin/sha256sum in.bin > %s", path, idfile),
			 0);
	f = fopen(idfile, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	id = strtoll(line, NULL, 10);
	assert_true(id > 0);
	task = corrald_must_wait(&daemon_, id, 60000);
	if (strcmp(task_str(task, "state"), "succeeded") != 0)
		fail_msg("task: %s\n%s", task_str(task, "message"), corrald_log_tail(&daemon_));
	json_decref(task);
	text = corrald_logs(&daemon_, id, "stdout", &len);
	assert_non_null(text);
	snprintf(out, size, "%.*s", (int)strcspn(text, " \n"), text);
	free(text);
	return id;
}

/* A 20 MB binary file through `corral submit --file` (staged uploads,
 * chunk by chunk): the jail's sha256sum is the local one's; nothing is
 * left staged; corrald's peak RSS stays far below the file. */
static void test_20mb_file_round_trips_through_submit_file(void **state)
{
	char path[256], cmd[512], want[80], got[80];
	long before, peak;
	double t0;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY(""));
	random_file("big.bin", 20 * MB, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	command_word(cmd, want, sizeof(want));
	before = status_kb("VmRSS");
	reset_peak();
	t0 = test_mono_s();
	submit_sha256(path, got, sizeof(got));
	peak = status_kb("VmHWM");
	assert_string_equal(got, want);
	assert_int_equal(store_figure(STAGED_ROWS), 0);
	fprintf(stderr, "# 20 MB input: submit to end %.2f s; corrald RSS %ld kB before, peak %ld kB\n",
		test_mono_s() - t0, before, peak);
	assert_true(peak - before < 10 * 1024 + ALLOCATOR_SLACK_KB); /* never the 20 MB file */
}

/* A 100 MB file on a plan with max_input 64M: too_large at upload_begin,
 * before a byte is sent; two 40 MB files (each fits, together not):
 * too_large at the submit, the uploads abandoned.  No task, nothing
 * staged. */
static void test_file_over_max_input_is_too_large_and_nothing_is_staged(void **state)
{
	char path[256], path2[256], errfile[256], text[1024] = "";
	json_t *list;
	FILE *f;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY("max_input = 64M\n"));
	random_file("huge.bin", 100 * MB, path, sizeof(path));
	snprintf(errfile, sizeof(errfile), "%s/err", scratch);
	assert_int_not_equal(corral("submit --file %s -- /bin/true 2> %s", path, errfile), 0);
	f = fopen(errfile, "r");
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	if (!strstr(text, "too_large") || !strstr(text, "max_input"))
		fail_msg("corral said: %s", text);
	random_file("a.bin", 40 * MB, path, sizeof(path));
	random_file("b.bin", 40 * MB, path2, sizeof(path2));
	assert_int_not_equal(corral("submit --file %s --file %s -- /bin/true 2> %s", path, path2, errfile),
			     0);
	f = fopen(errfile, "r");
	assert_non_null(f);
	memset(text, 0, sizeof(text));
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	/* refused by the first upload_begin, which carries the submit's bytes
	 * in all: nothing of 80 MB was sent */
	if (!strstr(text, "too_large") || !strstr(text, "in all"))
		fail_msg("corral said: %s", text);
	list = corrald_list(&daemon_, "root");
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(store_figure(STAGED_ROWS), 0);
	assert_int_equal(store_figure("SELECT COUNT(*) FROM task_file_chunks"), 0);
}

/* upload_begin of size bytes on fd: the upload's id, or 0 with the error
 * code into code. */
static int64_t begin_on(int fd, uint64_t size, const char **code, json_t **keep)
{
	char line[128];
	json_t *r;
	int64_t id;

	snprintf(line, sizeof(line), "{\"op\":\"upload_begin\",\"size\":%" PRIu64 "}\n", size);
	assert_int_equal(corrald_raw_send(fd, line, strlen(line)), 0);
	r = corrald_raw_recv(fd, 10000);
	assert_non_null(r);
	*code = corrald_error_code(r);
	id = json_integer_value(json_object_get(r, "upload"));
	*keep = r;
	return id;
}

/* One full store chunk (192 KiB of zeros) at offset 0 of upload id on fd. */
static void first_chunk_on(int fd, int64_t id)
{
	static unsigned char zeros[192u << 10];
	_cleanup_free_ char *b64 = api_base64_encode(zeros, sizeof(zeros));
	_cleanup_free_ char *line = NULL;
	json_t *r;

	assert_true(
		asprintf(&line,
			 "{\"op\":\"upload_chunk\",\"upload\":%lld,\"offset\":0,\"data_base64\":\"%s\"}\n",
			 (long long)id, b64) > 0);
	assert_int_equal(corrald_raw_send(fd, line, strlen(line)), 0);
	r = corrald_raw_recv(fd, 10000);
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	assert_int_equal(json_integer_value(json_object_get(r, "received")), 192 << 10);
	json_decref(r);
}

/* A hostile tenant opens 24 connections and begins an 8 MB upload on each,
 * sends one chunk and walks away: at most 2 x max_input (32 MB) is ever
 * staged; its uploads are not root's (not_found, bad_input); root can still
 * upload; after the expiry (a restart with the clock 20 min on) nothing is
 * left. */
static void test_abandoned_uploads_of_a_hostile_tenant_are_capped_and_expire(void **state)
{
	int fds[24];
	int64_t ids[24], mine = 0;
	size_t ok = 0, refused = 0;
	int n;
	json_t *r, *keep;
	const char *code;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY("max_input = 16M\n"));
	n = corrald_connect_many_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, fds, 24);
	assert_int_equal(n, 24);
	for (int i = 0; i < n; i++) {
		ids[i] = begin_on(fds[i], 8u << 20, &code, &keep);
		if (ids[i] > 0) {
			ok++;
			first_chunk_on(fds[i], ids[i]);
		} else {
			assert_string_equal(code, "too_large");
			refused++;
		}
		json_decref(keep);
	}
	assert_int_equal(ok, 4);
	assert_int_equal(refused, 20);
	assert_true(store_figure("SELECT COALESCE(SUM(size), 0) FROM uploads WHERE user_name = 'nobody'") <=
		    32 << 20);
	assert_int_equal(store_figure("SELECT COUNT(*) FROM upload_chunks"), 4);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	/* an operator may abort nobody's upload; root's submit cannot name it */
	for (int i = 0; i < n && !mine; i++)
		mine = ids[i];
	r = corrald_call(&daemon_, "{\"op\":\"upload_abort\",\"upload\":%lld}", (long long)mine);
	assert_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(
		&daemon_,
		"{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"files\":[{\"name\":\"x\",\"upload\":%lld}]}",
		(long long)ids[n - 1] > 0 ? (long long)ids[n - 1] : (long long)ids[1]);
	assert_string_equal(corrald_error_code(r), "bad_input");
	json_decref(r);
	/* another tenant's cap is its own */
	r = corrald_call(&daemon_, "{\"op\":\"upload_begin\",\"size\":%u}", 8u << 20);
	assert_null(corrald_error_code(r));
	json_decref(r);
	assert_true(store_figure("SELECT COUNT(*) FROM uploads") >= 4);
	/* 20 minutes later (API_UPLOAD_TTL_S = 15 min), after a restart */
	if (corrald_restart(&daemon_, 1200) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	assert_int_equal(store_figure(STAGED_ROWS), 0);
}

/* What a tenant stages counts against max_stored: the second 8 MB upload
 * of a plan with max_stored 10M is storage_quota. */
static void test_staged_uploads_count_against_max_stored(void **state)
{
	json_t *r;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY("max_input = 64M\nmax_stored = 10M\n"));
	r = corrald_call(&daemon_, "{\"op\":\"upload_begin\",\"size\":%u}", 8u << 20);
	assert_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"upload_begin\",\"size\":%u}", 8u << 20);
	assert_string_equal(corrald_error_code(r), "storage_quota");
	json_decref(r);
	assert_int_equal(store_figure("SELECT COUNT(*) FROM uploads"), 1);
}

/* The 20 MB round trip on a PostgreSQL store: the chunks staged and taken
 * in the database (every node reads them there), nothing left staged. */
static void test_postgresql_round_trip_of_a_big_file(void **state)
{
	char why[512] = "", db[32], uri[192], keys[512], path[256], cmd[512], want[80], got[80], sql[512];
	struct pg_server *pg;

	(void)state;
	test_require_root();
	pg = pg_shared_server(why, sizeof(why));
	if (!pg)
		test_skip_loudly("no PostgreSQL for the store: %s", why);
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "store = %s\n", uri);
	start_with(keys, POLICY(""));
	random_file("big.bin", 20 * MB, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	command_word(cmd, want, sizeof(want));
	submit_sha256(path, got, sizeof(got));
	assert_string_equal(got, want);
	snprintf(
		sql, sizeof(sql),
		"DO $$BEGIN IF (SELECT COUNT(*) FROM corral.uploads) <> 0 OR "
		"(SELECT COUNT(*) FROM corral.upload_chunks) <> 0 THEN RAISE EXCEPTION 'staged'; END IF; END$$");
	if (pg_server_exec(pg, db, sql, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}

/* A 48 MB artifact is collected one store chunk at a time: corrald's peak
 * RSS over the collection (VmHWM, reset before the task) stays far below
 * the file's size. */
static void test_artifact_collection_keeps_corrald_memory_bounded(void **state)
{
	long before, peak;
	json_t *list;
	int64_t id;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY(""));
	before = status_kb("VmRSS");
	reset_peak();
	id = corrald_submit(&daemon_,
			    "\"argv\":[\"/bin/sh\",\"-c\",\"head -c 48000000 /dev/urandom > big.bin\"],"
			    "\"artifacts\":[\"big.bin\"]");
	assert_true(id > 0);
	json_decref(corrald_must_wait(&daemon_, id, 60000));
	peak = status_kb("VmHWM");
	list = corrald_files_list(&daemon_, id);
	assert_int_equal(json_integer_value(json_object_get(corrald_files_named(list, "big.bin"), "size")),
			 48000000);
	json_decref(list);
	fprintf(stderr, "# 48 MB artifact: corrald RSS %ld kB before, peak %ld kB during the collection\n",
		before, peak);
	assert_true(peak - before < 16 * 1024 + ALLOCATOR_SLACK_KB); /* never the 48 MB file */
}

/* A task with files whose command cannot be executed: its start fails
 * after /work was prepared, and no tmpfs is left (no directory, no mount). */
static void test_failed_start_leaves_no_work_tmpfs(void **state)
{
	char path[300], line[1024];
	json_t *task;
	int64_t id;
	FILE *f;

	(void)state;
	test_require_root();
	start_with(SUPERVISOR_KEYS, POLICY("max_attempts = 1\n"));
	id = corrald_submit(&daemon_,
			    "\"argv\":[\"/nonexistent/command\"],\"files\":[{\"name\":\"in.txt\","
			    "\"data_base64\":\"aGVsbG8K\"}],\"artifacts\":[\"*\"]");
	assert_true(id > 0);
	task = corrald_must_wait(&daemon_, id, 30000);
	fprintf(stderr, "# %s: %s\n", task_str(task, "reason"), task_str(task, "message"));
	assert_string_equal(task_str(task, "state"), "failed");
	json_decref(task);
	snprintf(path, sizeof(path), "%s/tasks/%lld/work",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, (long long)id);
	assert_int_equal(access(path, F_OK), -1);
	f = fopen("/proc/self/mountinfo", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, path))
			fail_msg("still mounted: %s", line);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) \
	cmocka_unit_test_prestate_setup_teardown(t, corrald_files_setup, corrald_files_teardown, &fixture)
		T(test_20mb_file_round_trips_through_submit_file),
		T(test_file_over_max_input_is_too_large_and_nothing_is_staged),
		T(test_abandoned_uploads_of_a_hostile_tenant_are_capped_and_expire),
		T(test_staged_uploads_count_against_max_stored),
		T(test_postgresql_round_trip_of_a_big_file),
		T(test_artifact_collection_keeps_corrald_memory_bounded),
		T(test_failed_start_leaves_no_work_tmpfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
