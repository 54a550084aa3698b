/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_files_attack.c — task files against a
 * hostile tenant and a hostile local user (root; issue 15): artifact
 * names with a newline or invalid UTF-8 do not break `corral fetch` of
 * the others; a FIFO or a symlink planted in fetch's -o DIR neither hangs
 * the client nor is followed; a daemonized grandchild renaming files is
 * dead before the collection (the list is the final state); a huge flat
 * tree and a deep one are capped and corrald answers; the host /work is
 * closed to other local users while the task runs; fetch's bad offsets
 * are refused; inputs over the profile's work_size fail the setup (the
 * tmpfs's size holds); another tenant's HTTP token is forbidden.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"

/* Its own host uids, apart from the other corrald tests'. */
#define SUPERVISOR_KEYS CORRALD_FILES_KEYS("4201900-4201963")
#define POLICY CORRALD_FILES_POLICY

static struct corrald daemon_;
static char scratch[128];
static struct corrald_files_fixture fixture = { &daemon_, scratch, sizeof(scratch), "corral-files-attack" };

#define start(policy_body) corrald_files_start(&daemon_, SUPERVISOR_KEYS, policy_body)

/* the client; the list; one of it; a submit; its end (tests/lib/corrald_files.h) */
#define corral(...) corrald_files_cli(&daemon_, __VA_ARGS__)
#define artifacts_of(id) corrald_files_list(&daemon_, id)
#define artifact_named corrald_files_named
#define submit_ok(fields) corrald_files_submit(&daemon_, fields)
#define must_succeed(id, timeout_ms) corrald_files_must_succeed(&daemon_, id, timeout_ms, "the task")

/* Names with a newline, an escape sequence, invalid UTF-8 (sorting before
 * the good one): never kept (no client could fetch them), and `corral
 * fetch ID` gets the good one. */
static void test_artifact_names_with_control_bytes_do_not_break_fetch(void **state)
{
	char path[300];
	json_t *list;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo x > \\\"$(printf 'a\\\\nb')\\\"; "
		       "echo x > \\\"$(printf 'b\\\\033]0;pwned\\\\007')\\\"; "
		       "echo x > \\\"$(printf 'c\\\\377')\\\"; echo ok > ok.txt; ls | od -c | head -3\"],"
		       "\"artifacts\":[\"*\"]");
	must_succeed(id, 30000);
	list = artifacts_of(id);
	if (json_array_size(list) != 1 || !artifact_named(list, "ok.txt")) {
		char *text = json_dumps(list, JSON_COMPACT);

		fail_msg("collected %s\n%s", text, corrald_log_tail(&daemon_));
	}
	json_decref(list);
	assert_int_equal(corral("artifacts %lld > %s/list", (long long)id, scratch), 0);
	assert_int_equal(corral("fetch %lld -o %s/got", (long long)id, scratch), 0);
	snprintf(path, sizeof(path), "%s/got/ok.txt", scratch);
	assert_int_equal(access(path, F_OK), 0);
}

/* Another local user owns the -o DIR and plants a FIFO and a symlink at
 * the artifacts' names: fetch neither hangs on the FIFO nor writes
 * through the symlink. */
static void test_fetch_into_a_dir_with_planted_fifo_and_symlink(void **state)
{
	char path[300], target[300];
	struct stat st;
	int64_t id;
	double t0;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo secret > f.txt; mkdir d; echo x > d/s.txt\"],"
		       "\"artifacts\":[\"*.txt\",\"d/*\"]");
	must_succeed(id, 30000);
	snprintf(path, sizeof(path), "%s/out", scratch);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/out/f.txt", scratch);
	assert_int_equal(mkfifo(path, 0666), 0);
	snprintf(target, sizeof(target), "%s/victim", scratch);
	assert_int_equal(mkdir(target, 0755), 0);
	snprintf(path, sizeof(path), "%s/out/d", scratch);
	assert_int_equal(symlink(target, path), 0);
	t0 = test_mono_s();
	/* refused (not written), promptly */
	assert_int_not_equal(corral("fetch %lld f.txt -o %s/out 2>/dev/null", (long long)id, scratch), 0);
	assert_true(test_mono_s() - t0 < 10);
	assert_int_not_equal(corral("fetch %lld d/s.txt -o %s/out 2>/dev/null", (long long)id, scratch), 0);
	snprintf(path, sizeof(path), "%s/victim/s.txt", scratch);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/out/f.txt", scratch);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

/* A daemonized grandchild (own session) renaming files in a loop: it is
 * dead when the collection walks (the pid namespace and cgroup.kill
 * first), so every kept r.txt is whole, and the end is prompt. */
static void test_daemonized_renamer_is_dead_before_collection(void **state)
{
	json_t *list, *r;
	int64_t id;
	double t0;

	(void)state;
	test_require_root();
	start(POLICY(""));
	t0 = test_mono_s();
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"setsid sh -c 'while :; do echo 0123456789 > t.tmp; "
		       "mv t.tmp r.txt; rm -f r.txt; ln -s /etc/shadow r.txt; rm -f r.txt; done' "
		       "</dev/null >/dev/null 2>&1 & sleep 1; echo ok > ok.txt\"],"
		       "\"artifacts\":[\"*\"]");
	must_succeed(id, 30000);
	assert_true(test_mono_s() - t0 < 20);
	list = artifacts_of(id);
	assert_non_null(artifact_named(list, "ok.txt"));
	if ((r = artifact_named(list, "r.txt")))
		assert_int_equal(json_integer_value(json_object_get(r, "size")), 11);
	if ((r = artifact_named(list, "t.tmp")))
		assert_true(json_integer_value(json_object_get(r, "size")) <= 11);
	json_decref(list);
	/* and nothing writes to the (removed) tmpfs any more: corrald answers */
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
}

/* 30 000 tiny files and a 200-deep tree: at most 1000 kept, the end
 * prompt, corrald answering. */
static void test_many_tiny_files_and_deep_tree_are_capped(void **state)
{
	json_t *list;
	int64_t id;
	double t0;

	(void)state;
	test_require_root();
	start(POLICY(""));
	t0 = test_mono_s();
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"mkdir m && cd m && seq 1 30000 | xargs touch && cd .. "
		       "&& p=deep && for i in $(seq 1 200); do p=$p/d; done && mkdir -p $p && echo x > "
		       "$p/end.txt\"],\"artifacts\":[\"*\",\"m/*\",\"deep/**\"]");
	must_succeed(id, 120000);
	list = artifacts_of(id);
	assert_true(json_array_size(list) <= 1000);
	assert_true(json_array_size(list) >= 100);
	json_decref(list);
	fprintf(stderr, "# 30000 files + 200-deep tree: ended and collected in %.2f s\n", test_mono_s() - t0);
	assert_true(test_mono_s() - t0 < 100);
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
}

/* While the task runs, its host /work is a 0700 tmpfs owned by the
 * jail's uid, below a 0711 task directory: no other local user lists or
 * enters it. */
static void test_host_work_is_closed_to_other_users(void **state)
{
	char path[300];
	struct stat st;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo s > s.txt; sleep 3\"],\"artifacts\":[\"*\"]");
	json_decref(corrald_wait_state(&daemon_, id, "running", 10000));
	usleep(500000);
	snprintf(path, sizeof(path), "%s/tasks/%lld/work",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, (long long)id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_true(st.st_uid >= 4201900 && st.st_uid <= 4201963);
	snprintf(path, sizeof(path), "%s/tasks/%lld", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir,
		 (long long)id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0066, 0);
	assert_int_equal(st.st_uid, 0);
	must_succeed(id, 30000);
}

/* fetch with offsets that are negative, unaligned, past the end, huge. */
static void test_fetch_bad_offsets(void **state)
{
	json_t *r;
	int64_t id;

	(void)state;
	test_require_root();
	start(POLICY(""));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo abc > a.txt\"],\"artifacts\":[\"a.txt\"]");
	must_succeed(id, 30000);
	r = corrald_call(&daemon_, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"a.txt\",\"offset\":-196608}",
			 (long long)id);
	assert_non_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"a.txt\",\"offset\":1}",
			 (long long)id);
	assert_non_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"a.txt\",\"offset\":%u}",
			 (long long)id, 196608u * 1000);
	if (!corrald_error_code(r)) {
		assert_true(json_is_true(json_object_get(r, "eof")));
		assert_string_equal(json_string_value(json_object_get(r, "data_base64")), "");
	}
	json_decref(r);
	r = corrald_call(&daemon_,
			 "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"a.txt\",\"offset\":9223372036854775807}",
			 (long long)id);
	assert_non_null(r);
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"../a.txt\"}", (long long)id);
	assert_non_null(corrald_error_code(r));
	json_decref(r);
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
}

/* Inputs within max_input but over the profile's /work size: the task
 * fails in its setup (the tmpfs's size holds; no write past it), promptly,
 * and no tmpfs is left. */
static void test_inputs_over_the_work_size_fail_the_setup(void **state)
{
	static unsigned char data[1300u << 10]; /* 1.3 MiB: one request line holds it */
	_cleanup_free_ char *b64 = api_base64_encode(data, sizeof(data));
	_cleanup_free_ char *fields = NULL;
	char path[300];
	json_t *task;
	int64_t id;

	(void)state;
	test_require_root();
	start("[profile small]\nwork_size = 1M\n" POLICY("max_input = 4M\nprofile = small\n"));
	assert_non_null(b64);
	assert_true(asprintf(&fields,
			     "\"argv\":[\"/bin/true\"],\"files\":[{\"name\":\"big\",\"mode\":420,"
			     "\"data_base64\":\"%s\"}],\"artifacts\":[\"*\"]",
			     b64) > 0);
	id = submit_ok(fields);
	task = corrald_must_wait(&daemon_, id, 30000);
	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") == 0 ||
	    !strstr(json_string_value(json_object_get(task, "message")), "inputs"))
		fail_msg("task: %s: %s", json_string_value(json_object_get(task, "state")),
			 json_string_value(json_object_get(task, "message")));
	json_decref(task);
	snprintf(path, sizeof(path), "%s/tasks/%lld/work",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, (long long)id);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
}

/* Over HTTP another tenant's token gets forbidden for the list and each
 * artifact (also by a path with '..' or percent-encoding); the owner's
 * token finds no artifact by such a path. */
static void test_http_other_tenant_cannot_list_or_fetch(void **state)
{
	const char *paths[] = { "artifacts", "artifacts/o.txt", "artifacts/../artifacts/o.txt",
				"artifacts/%2e%2e/o.txt" };
	char policy[512], mine[256], theirs[256], u[300];
	struct http_answer a;
	int64_t id;
	int port = http_free_port();

	(void)state;
	test_require_root();
	snprintf(policy, sizeof(policy), POLICY("") "[http]\nlisten = 127.0.0.1:%d\n", port);
	start(policy);
	corrald_files_bearer(&daemon_, "root", false, mine, sizeof(mine));
	corrald_files_bearer(&daemon_, CORRALD_TEST_OTHER_TENANT, false, theirs, sizeof(theirs));
	id = submit_ok("\"argv\":[\"/bin/sh\",\"-c\",\"echo secret > o.txt\"],\"artifacts\":[\"*\"]");
	must_succeed(id, 30000);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/tasks/%lld/%s", port, (long long)id, paths[i]);
		http_curl(&a, "--path-as-is", "-H", theirs, u, NULL);
		if (a.status != 403 || (a.body && strstr(a.body, "secret\n")))
			fail_msg("%s as the other tenant: %d %s", paths[i], a.status, a.body ? a.body : "");
		http_answer_free(&a);
		http_curl(&a, "--path-as-is", "-H", mine, u, NULL);
		if (i >= 2 && a.status != 404)
			fail_msg("%s as the owner: %d %s", paths[i], a.status, a.body ? a.body : "");
		if (i < 2 && a.status != 200)
			fail_msg("%s as the owner: %d %s", paths[i], a.status, a.body ? a.body : "");
		http_answer_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) \
	cmocka_unit_test_prestate_setup_teardown(t, corrald_files_setup, corrald_files_teardown, &fixture)
		T(test_artifact_names_with_control_bytes_do_not_break_fetch),
		T(test_fetch_into_a_dir_with_planted_fifo_and_symlink),
		T(test_daemonized_renamer_is_dead_before_collection),
		T(test_many_tiny_files_and_deep_tree_are_capped),
		T(test_host_work_is_closed_to_other_users),
		T(test_fetch_bad_offsets),
		T(test_inputs_over_the_work_size_fail_the_setup),
		T(test_http_other_tenant_cannot_list_or_fetch),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
