/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_storage.c — what corrald keeps for a
 * tenant, against a real corrald (root; issue 16): a list of tasks with
 * huge argvs stays far below the client's 16 MiB answer cap (a SUMMARY's
 * argv is a preview, status still has it all), a submit past the plan's
 * max_stored is refused as storage_quota with nothing written, counted
 * exactly again after a restart, and retention removes ended tasks (rows
 * and files) and frees their storage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

/* Its own host uids, so other corrald tests running at the same time on
 * this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201200-4201263\n" \
	"max_running = 4\n"
#define STDIN_300K_LEN (300u << 10)

static struct corrald daemon_;

static void start(const char *policy_body, double offset_s)
{
	int r = corrald_start(&daemon_, SUPERVISOR_KEYS, policy_body, offset_s);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* A run of n copies of c (malloc'd). */
static char *filled(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Files in the state dir's tasks/ whose name starts with prefix. */
static int count_task_files(const char *prefix)
{
	char path[256];
	DIR *dir;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tasks", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(dir);
	return n;
}

/* 150 queued tasks of ~128 KiB of argv each are ~19 MiB of argvs: the
 * list of them all used to exceed the 16 MiB answer cap (the connection
 * was dropped).  Now it is a page of SUMMARYs; status has the whole argv. */
static void test_list_of_huge_argvs_stays_small_and_status_has_them_whole(void **state)
{
	char *a = filled('a', 65535), *b = filled('b', 65000), fields[140000];
	json_t *r, *tasks, *task;
	int64_t first = 0;
	size_t i;

	(void)state;
	test_require_root();
	/* suspended: nothing starts, every task stays queued */
	start("[access]\noperators = root\n[plan free]\nmax_queued = 1000\nmonthly_cpu_hours = 0\n"
	      "[default]\nplan = free\n",
	      0);
	snprintf(fields, sizeof(fields), "\"argv\":[\"/bin/true\",\"%s\",\"%s\"]", a, b);
	for (int n = 0; n < 150; n++) {
		int64_t id = corrald_submit(&daemon_, fields);

		if (id <= 0)
			fail_msg("submit %d refused\n%s", n, corrald_log_tail(&daemon_));
		if (!first)
			first = id;
	}
	r = corrald_call(&daemon_, "{\"op\":\"list\",\"limit\":1000}");
	if (!r || corrald_error_code(r))
		fail_msg("list: %s: %s", corrald_error_code(r), corrald_error_message(r));
	tasks = json_object_get(r, "tasks");
	assert_int_equal(json_array_size(tasks), 150);
	json_array_foreach (tasks, i, task) {
		json_t *argv = json_object_get(task, "argv"), *s;
		size_t j, bytes = 0;

		json_array_foreach (argv, j, s)
			bytes += json_string_length(s);
		assert_true(bytes <= 256);
		assert_true(json_is_true(json_object_get(task, "argv_truncated")));
	}
	assert_true(json_is_null(json_object_get(r, "next_after")));
	json_decref(r);

	/* pages: 100 by default, then from the cursor */
	r = corrald_call(&daemon_, "{\"op\":\"list\"}");
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 100);
	assert_true(json_is_integer(json_object_get(r, "next_after")));
	json_decref(r);

	task = corrald_status(&daemon_, first);
	assert_non_null(task);
	assert_int_equal(json_string_length(json_array_get(json_object_get(task, "argv"), 1)), 65535);
	assert_int_equal(json_string_length(json_array_get(json_object_get(task, "argv"), 2)), 65000);
	assert_true(json_is_false(json_object_get(task, "argv_truncated")));
	json_decref(task);
	free(a);
	free(b);
}

/* The request line of a submit with 300 KiB of stdin (malloc'd fields). */
static char *stdin_fields(void)
{
	char *data = filled('s', STDIN_300K_LEN), *fields = NULL;

	assert_true(asprintf(&fields, "\"argv\":[\"/bin/true\"],\"stdin\":\"%s\"", data) > 0);
	free(data);
	return fields;
}

#define QUOTA_POLICY(extra)                                                                                \
	"[access]\noperators = root\n[plan free]\nmax_queued = 100\nmax_stored = 1M\n" extra "[default]\n" \
	"plan = free\n"

/* Three tasks of 300 KiB of stdin fit 1 MiB, a fourth does not: refused
 * with storage_quota and a message that says why, no stdin file left; the
 * count is the same after a restart. */
static void test_storage_quota_refuses_clearly_and_counts_across_restart(void **state)
{
	char *fields = stdin_fields();
	json_t *r;

	(void)state;
	test_require_root();
	start(QUOTA_POLICY("monthly_cpu_hours = 0\n"), 0);
	for (int n = 0; n < 3; n++)
		assert_true(corrald_submit(&daemon_, fields) > 0);
	assert_int_equal(count_task_files("stdin-"), 3);
	for (int round = 0; round < 2; round++) {
		r = corrald_call(&daemon_, "{\"op\":\"submit\",%s}", fields);
		assert_non_null(r);
		if (!corrald_error_code(r) || strcmp(corrald_error_code(r), "storage_quota") != 0)
			fail_msg("round %d: wanted storage_quota, got %s: %s", round, corrald_error_code(r),
				 corrald_error_message(r));
		assert_non_null(strstr(corrald_error_message(r), "max_stored"));
		assert_non_null(strstr(corrald_error_message(r), "plan free"));
		json_decref(r);
		assert_int_equal(count_task_files("stdin-"), 3); /* nothing half-written */
		if (round == 0 && corrald_restart(&daemon_, 0) < 0)
			fail_msg("restart: %s", corrald_log_tail(&daemon_));
	}
	/* a small task still fits */
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]") > 0);
	free(fields);
}

/* Ended tasks older than the plan's retention are removed by corrald
 * (rows, events, output files) and their storage is free again. */
static void test_retention_removes_ended_tasks_and_frees_their_storage(void **state)
{
	char *fields = stdin_fields(), dir[256];
	int64_t ids[3];
	json_t *r, *list;
	struct stat st;

	(void)state;
	test_require_root();
	start(QUOTA_POLICY("retention = 1h\n"), 0);
	for (int n = 0; n < 3; n++) {
		ids[n] = corrald_submit(&daemon_, fields);
		assert_true(ids[n] > 0);
		json_decref(corrald_must_wait(&daemon_, ids[n], 30000));
	}
	r = corrald_call(&daemon_, "{\"op\":\"submit\",%s}", fields);
	assert_string_equal(corrald_error_code(r), "storage_quota");
	json_decref(r);
	snprintf(dir, sizeof(dir), "%s/tasks/%lld", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir,
		 (long long)ids[0]);
	assert_int_equal(stat(dir, &st), 0);

	/* two hours later: past the retention */
	if (corrald_restart(&daemon_, 7200) < 0)
		fail_msg("restart: %s", corrald_log_tail(&daemon_));
	for (int tries = 0; tries < 100; tries++) {
		list = corrald_list(&daemon_, NULL);
		assert_non_null(list);
		if (json_array_size(list) == 0) {
			json_decref(list);
			break;
		}
		json_decref(list);
		test_sleep_ms(100);
	}
	list = corrald_list(&daemon_, NULL);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	r = corrald_call(&daemon_, "{\"op\":\"status\",\"id\":%lld}", (long long)ids[0]);
	assert_string_equal(corrald_error_code(r), "not_found");
	json_decref(r);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(corrald_submit(&daemon_, fields) > 0);
	free(fields);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_list_of_huge_argvs_stays_small_and_status_has_them_whole,
					  teardown),
		cmocka_unit_test_teardown(test_storage_quota_refuses_clearly_and_counts_across_restart,
					  teardown),
		cmocka_unit_test_teardown(test_retention_removes_ended_tasks_and_frees_their_storage,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
