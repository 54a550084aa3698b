/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_http.c — corrald's HTTP API driven by a
 * real client (curl's command line) against a real corrald, as root: every
 * route, bearer tokens (missing, wrong, revoked, a tenant's, an
 * operator's), failed logins limited per address, a tenant seeing only its
 * tasks, wait=true, idempotency keys, logs streamed while a task prints,
 * cancel, body and header limits, malformed JSON, /metrics checked by
 * promtool, a Unix socket listener, and every route of contrib/openapi.yaml
 * answering.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/corrald/http_route.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/test.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201200-4201263\n" \
	"max_running = 4\n"

static struct corrald daemon_;
static char base[64], base6[64], unix_path[128];
static char alice[128], bob[128], op_token[128];

static void make_token(const char *tenant, bool op, char *out, size_t size)
{
	if (!corrald_token_header(&daemon_, tenant, op, out, size))
		fail_msg("no token for %s", tenant);
}

static int setup(void **state)
{
	char policy[1024];
	int port = http_free_port(), port6 = http_free_port();

	(void)state;
	if (getuid() != 0)
		return 0; /* the test itself says why */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(base6, sizeof(base6), "http://[::1]:%d", port6);
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n"
		 "[http]\nlisten = 127.0.0.1:%d\nlisten = [::1]:%d\nlisten = %s\nmax_body = 64K\n"
		 "auth_failures_per_minute = 3\nconnection_timeout = 5s\n"
		 "[plan free]\nmax_concurrent = 4\nmax_queued = 100\nmax_task_seconds = 1m\n"
		 "[default]\nplan = free\n",
		 port, port6, "@UNIX@");
	/* the Unix socket listener lives in the test's state dir */
	if (corrald_prepare(&daemon_, SUPERVISOR_KEYS, "") < 0)
		return -1;
	snprintf(unix_path, sizeof(unix_path), "%s/http.sock", daemon_.dir);
	{
		char *at = strstr(policy, "@UNIX@");
		char rest[1024];

		snprintf(rest, sizeof(rest), "%s", at + 6);
		snprintf(at, sizeof(policy) - (size_t)(at - policy), "%s%s", unix_path, rest);
	}
	if (corrald_write_policy(&daemon_, SUPERVISOR_KEYS, policy) < 0 || corrald_spawn(&daemon_, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	make_token("alice", false, alice, sizeof(alice));
	make_token("bob", false, bob, sizeof(bob));
	make_token("root", true, op_token, sizeof(op_token));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static void url(char *out, size_t size, const char *path)
{
	snprintf(out, size, "%s%s", base, path);
}

/* POST body to path as token's tenant; the answer's task id (expects status). */
static int64_t submit(const char *token, const char *query, const char *body, int status)
{
	struct http_answer a;
	char u[256];
	int64_t id;

	snprintf(u, sizeof(u), "%s/v1/tasks%s", base, query ? query : "");
	http_curl(&a, "-X", "POST", "-H", token, "-H", "Content-Type: application/json", "--data-binary",
		  body, u, NULL);
	if (a.status != status)
		fail_msg("POST %s %s: %d, wanted %d: %s\n%s", u, body, a.status, status, a.body ? a.body : "",
			 corrald_log_tail(&daemon_));
	id = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	return id;
}

static void get(struct http_answer *a, const char *token, const char *path)
{
	char u[256];

	url(u, sizeof(u), path);
	http_curl(a, "-H", token, u, NULL);
}

static void test_health_checks_need_no_token_and_the_api_does(void **state)
{
	struct http_answer a;
	char u[256];

	(void)state;
	require_root();
	url(u, sizeof(u), "/v1/healthz");
	http_curl(&a, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
	url(u, sizeof(u), "/v1/readyz");
	http_curl(&a, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
	url(u, sizeof(u), "/v1/tasks");
	http_curl(&a, u, NULL);
	assert_int_equal(a.status, 401);
	assert_non_null(http_header(&a, "WWW-Authenticate"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			    "unauthorized");
	http_answer_free(&a);
	http_curl(&a, "-H", "Authorization: Bearer crl_not-a-token", u, NULL);
	assert_int_equal(a.status, 401);
	http_answer_free(&a);
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
}

static void test_failed_logins_are_limited_per_address_and_not_logged(void **state)
{
	struct http_answer a;
	char u[256];
	FILE *log;
	char line[1024];
	int found = 0;

	(void)state;
	require_root();
	snprintf(u, sizeof(u), "%s/v1/queue", base6);
	for (int i = 0; i < 3; i++) {
		http_curl(&a, "-H", "Authorization: Bearer crl_guess-number-one", u, NULL);
		assert_int_equal(a.status, 401);
		http_answer_free(&a);
	}
	/* past the limit even a good token waits: nothing is checked */
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 429);
	assert_string_equal(http_header(&a, "Retry-After"), "60");
	http_answer_free(&a);
	/* another address is not affected */
	url(u, sizeof(u), "/v1/queue");
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
	log = fopen(daemon_.log, "r");
	assert_non_null(log);
	while (fgets(line, sizeof(line), log)) {
		assert_null(strstr(line, "guess-number-one"));
		found += strstr(line, "refused a request from ::1") != NULL;
	}
	fclose(log);
	assert_int_equal(found, 3);
}

static void test_revoked_token_is_refused(void **state)
{
	struct http_answer a;
	char tok[128];
	json_t *r, *list;
	long long id = 0;
	size_t i;
	json_t *t;

	(void)state;
	require_root();
	make_token("carol", false, tok, sizeof(tok));
	get(&a, tok, "/v1/usage");
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
	list = corrald_call(&daemon_, "{\"op\":\"token_list\"}");
	json_array_foreach (json_object_get(list, "tokens"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "tenant")), "carol") == 0) {
			id = json_integer_value(json_object_get(t, "id"));
			assert_true(json_integer_value(json_object_get(t, "last_used_at_us")) > 0);
			assert_null(json_object_get(t, "secret"));
		}
	json_decref(list);
	assert_true(id > 0);
	r = corrald_call(&daemon_, "{\"op\":\"token_revoke\",\"id\":%lld}", id);
	assert_null(corrald_error_code(r));
	json_decref(r);
	get(&a, tok, "/v1/usage");
	assert_int_equal(a.status, 401);
	http_answer_free(&a);
	/* a tenant's token is not an operator's */
	r = corrald_call(&daemon_, "{\"op\":\"token_revoke\",\"id\":%lld}", id);
	assert_string_equal(corrald_error_code(r), "not_found");
	json_decref(r);
}

static void test_tenant_sees_only_its_tasks_and_operators_all(void **state)
{
	struct http_answer a;
	char path[128];
	int64_t mine = submit(alice, NULL, "{\"argv\":[\"/bin/true\"]}", 201);
	int64_t theirs = submit(bob, NULL, "{\"argv\":[\"/bin/true\"]}", 201);

	(void)state;
	snprintf(path, sizeof(path), "/v1/tasks/%lld", (long long)theirs);
	get(&a, alice, path);
	assert_int_equal(a.status, 403);
	http_answer_free(&a);
	get(&a, op_token, path);
	assert_int_equal(a.status, 200);
	assert_string_equal(task_str(json_object_get(a.json, "task"), "user"), "bob");
	http_answer_free(&a);
	get(&a, alice, "/v1/tasks?tenant=bob");
	assert_int_equal(a.status, 403);
	http_answer_free(&a);
	get(&a, alice, "/v1/tasks");
	assert_int_equal(a.status, 200);
	{
		size_t i;
		json_t *t;
		bool seen = false;

		json_array_foreach (json_object_get(a.json, "tasks"), i, t) {
			assert_string_equal(task_str(t, "user"), "alice");
			seen = seen || task_int(t, "id") == mine;
		}
		assert_true(seen);
	}
	http_answer_free(&a);
	/* paging: one per page, the cursor is the last id */
	get(&a, op_token, "/v1/tasks?limit=1");
	assert_int_equal(a.status, 200);
	assert_int_equal(json_array_size(json_object_get(a.json, "tasks")), 1);
	assert_int_equal(task_int(json_array_get(json_object_get(a.json, "tasks"), 0), "id"), theirs);
	assert_int_equal(json_integer_value(json_object_get(a.json, "next_cursor")), theirs);
	http_answer_free(&a);
	snprintf(path, sizeof(path), "/v1/tasks?limit=1&cursor=%lld", (long long)theirs);
	get(&a, op_token, path);
	assert_int_equal(task_int(json_array_get(json_object_get(a.json, "tasks"), 0), "id"), mine);
	http_answer_free(&a);
	/* an operator submits for a tenant */
	{
		int64_t id = submit(op_token, NULL, "{\"argv\":[\"/bin/true\"],\"tenant\":\"alice\"}", 201);

		snprintf(path, sizeof(path), "/v1/tasks/%lld", (long long)id);
		get(&a, alice, path);
		assert_int_equal(a.status, 200);
		http_answer_free(&a);
	}
	submit(alice, NULL, "{\"argv\":[\"/bin/true\"],\"tenant\":\"bob\"}", 403);
}

static void test_wait_true_answers_the_ended_task_with_command_env_and_stdin(void **state)
{
	struct http_answer a;
	char path[128], u[256];
	int64_t id;

	(void)state;
	url(u, sizeof(u), "/v1/tasks?wait=true");
	http_curl(
		&a, "-X", "POST", "-H", alice, "--data-binary",
		"{\"command\":\"echo $GREETING; cat\",\"env\":{\"GREETING\":\"hello\"},\"stdin\":\"from stdin\\n\"}",
		u, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(task_str(json_object_get(a.json, "task"), "state"), "succeeded");
	id = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	snprintf(path, sizeof(path), "/v1/tasks/%lld/logs", (long long)id);
	get(&a, alice, path);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "hello\nfrom stdin\n");
	assert_string_equal(http_header(&a, "X-Corral-Eof"), "true");
	http_answer_free(&a);
	/* stdin as base64, wait in the body; a short wait gives the task as it is (202) */
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary",
		  "{\"argv\":[\"/bin/cat\"],\"stdin_base64\":\"YmFzZTY0IGlu\",\"wait\":true}", u, NULL);
	assert_int_equal(a.status, 200);
	id = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	snprintf(path, sizeof(path), "/v1/tasks/%lld/logs", (long long)id);
	get(&a, alice, path);
	assert_string_equal(a.body, "base64 in");
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary",
		  "{\"argv\":[\"/bin/sleep\",\"5\"],\"wait_timeout_ms\":200}", u, NULL);
	assert_int_equal(a.status, 202);
	id = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	snprintf(path, sizeof(path), "/v1/tasks/%lld/cancel", (long long)id);
	url(u, sizeof(u), path);
	http_curl(&a, "-X", "POST", "-H", alice, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
}

static void test_idempotency_key_never_queues_twice(void **state)
{
	struct http_answer a;
	char u[256];
	int64_t first, again, other;

	(void)state;
	url(u, sizeof(u), "/v1/tasks");
	http_curl(&a, "-X", "POST", "-H", alice, "-H", "Idempotency-Key: order-17", "--data-binary",
		  "{\"argv\":[\"/bin/true\"]}", u, NULL);
	assert_int_equal(a.status, 201);
	first = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, "-H", "Idempotency-Key: order-17", "--data-binary",
		  "{\"argv\":[\"/bin/true\"]}", u, NULL);
	assert_true(a.status == 200 || a.status == 201);
	again = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	assert_int_equal(first, again);
	/* another tenant's key of the same text is its own */
	http_curl(&a, "-X", "POST", "-H", bob, "-H", "Idempotency-Key: order-17", "--data-binary",
		  "{\"argv\":[\"/bin/true\"]}", u, NULL);
	other = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	assert_true(other > 0 && other != first);
	http_curl(&a, "-X", "POST", "-H", alice, "-H", "Idempotency-Key: bad key", "--data-binary",
		  "{\"argv\":[\"/bin/true\"]}", u, NULL);
	assert_int_equal(a.status, 400);
	http_answer_free(&a);
}

static void test_logs_stream_while_the_task_prints(void **state)
{
	char u[256], out[] = "/tmp/corral-http-follow-XXXXXX", path[128];
	int64_t id = submit(alice, NULL, "{\"command\":\"for i in 1 2 3; do echo line$i; sleep 0.4; done\"}",
			    201);
	struct http_answer a;
	int fd = mkstemp(out), status;
	bool streamed = false;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "/v1/tasks/%lld/logs?follow=true", (long long)id);
	url(u, sizeof(u), path);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		execlp("curl", "curl", "-sS", "-N", "--max-time", "30", "-H", alice, u, (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* the first line arrives while the task still runs */
	for (int i = 0; i < 200 && !streamed; i++) {
		struct stat st;

		if (stat(out, &st) == 0 && st.st_size >= 6) {
			snprintf(path, sizeof(path), "/v1/tasks/%lld", (long long)id);
			get(&a, alice, path);
			streamed = strcmp(task_str(json_object_get(a.json, "task"), "state"), "running") == 0;
			http_answer_free(&a);
			break;
		}
		usleep(20000);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		FILE *f = fopen(out, "r");
		char buf[128] = "";
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);

		fclose(f);
		buf[n] = '\0';
		assert_string_equal(buf, "line1\nline2\nline3\n");
	}
	unlink(out);
	assert_true(streamed);
	/* another tenant's logs: refused before any stream */
	snprintf(path, sizeof(path), "/v1/tasks/%lld/logs?follow=true", (long long)id);
	get(&a, bob, path);
	assert_int_equal(a.status, 403);
	http_answer_free(&a);
}

static void test_cancel_ends_a_running_task(void **state)
{
	struct http_answer a;
	char u[256];
	int64_t id = submit(alice, NULL, "{\"argv\":[\"/bin/sleep\",\"30\"]}", 201);
	json_t *t;

	(void)state;
	t = corrald_wait_state(&daemon_, id, "running", 10000);
	json_decref(t);
	snprintf(u, sizeof(u), "%s/v1/tasks/%lld/cancel", base, (long long)id);
	http_curl(&a, "-X", "POST", "-H", bob, u, NULL);
	assert_int_equal(a.status, 403);
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
	t = corrald_must_wait(&daemon_, id, 10000);
	assert_string_equal(task_str(t, "state"), "cancelled");
	json_decref(t);
}

static void test_bad_requests_get_their_statuses(void **state)
{
	struct http_answer a;
	char u[256], *big = malloc(100 * 1024), *header = malloc(40 * 1024);

	(void)state;
	url(u, sizeof(u), "/v1/tasks");
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary", "{\"argv\": [", u, NULL);
	assert_int_equal(a.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			    "bad_request");
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary", "{\"argv\":[\"/bin/true\"],\"frob\":1}", u,
		  NULL);
	assert_int_equal(a.status, 400);
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary",
		  "{\"argv\":[\"/bin/true\"],\"timeout_ms\":\"x\"}", u, NULL);
	assert_int_equal(a.status, 400);
	http_answer_free(&a);
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary",
		  "{\"argv\":[\"/bin/true\"],\"timeout_ms\":3600000}", u, NULL);
	assert_int_equal(a.status, 400); /* above the plan's 1 minute */
	assert_string_equal(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			    "limit_exceeded");
	http_answer_free(&a);
	memset(big, ' ', 100 * 1024 - 1);
	big[100 * 1024 - 1] = '\0';
	http_curl(&a, "-X", "POST", "-H", alice, "--data-binary", big, u, NULL);
	assert_int_equal(a.status, 413);
	http_answer_free(&a);
	snprintf(header, 40 * 1024, "X-Big: ");
	memset(header + 7, 'x', 40 * 1024 - 8);
	header[40 * 1024 - 1] = '\0';
	http_curl(&a, "-H", alice, "-H", header, u, NULL);
	assert_true(a.status == 431 || a.status == 413);
	http_answer_free(&a);
	http_curl(&a, "-X", "DELETE", "-H", alice, u, NULL);
	assert_int_equal(a.status, 405);
	http_answer_free(&a);
	url(u, sizeof(u), "/v1/frob");
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 404);
	http_answer_free(&a);
	url(u, sizeof(u), "/v1/tasks/999999");
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 404);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			    "not_found");
	http_answer_free(&a);
	url(u, sizeof(u), "/v1/tasks?limit=zero");
	http_curl(&a, "-H", alice, u, NULL);
	assert_int_equal(a.status, 400);
	http_answer_free(&a);
	free(big);
	free(header);
}

static void test_queue_usage_nodes_and_a_unix_socket_listener(void **state)
{
	struct http_answer a;

	(void)state;
	get(&a, alice, "/v1/queue");
	assert_int_equal(a.status, 200);
	assert_true(json_is_array(json_object_get(a.json, "queue")));
	http_answer_free(&a);
	get(&a, alice, "/v1/usage");
	assert_int_equal(a.status, 200);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(a.json, "usage"), 0),
						    "user")),
			    "alice");
	http_answer_free(&a);
	get(&a, alice, "/v1/nodes");
	assert_int_equal(a.status, 200);
	assert_int_equal(json_array_size(json_object_get(a.json, "nodes")), 1);
	http_answer_free(&a);
	http_curl(&a, "--unix-socket", unix_path, "-H", alice, "http://corrald/v1/usage", NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
}

static void test_metrics_pass_promtool(void **state)
{
	struct http_answer a;
	char u[256], file[] = "/tmp/corral-metrics-XXXXXX", cmd[512];
	int fd, r;

	(void)state;
	url(u, sizeof(u), "/metrics");
	http_curl(&a, u, NULL);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "corral_tasks_submitted_total{plan=\"free\"}"));
	assert_non_null(
		strstr(a.body,
		       "corral_http_requests_total{route=\"/v1/tasks\",method=\"POST\",code=\"201\"}"));
	assert_non_null(strstr(a.body, "corral_task_queue_wait_seconds_bucket"));
	assert_non_null(strstr(a.body, "corral_node_heartbeat_age_seconds{node="));
	assert_non_null(strstr(a.body, "corral_tenants_budget_exhausted 0"));
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, a.body, a.len), (ssize_t)a.len);
	close(fd);
	http_answer_free(&a);
	if (access("/usr/bin/promtool", X_OK) != 0) {
		unlink(file);
		test_skip_loudly("promtool is missing (Debian package prometheus)");
		return;
	}
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >&2", file);
	r = system(cmd);
	unlink(file);
	assert_int_equal(r, 0);
}

/* Every path and method of contrib/openapi.yaml answers (not 404/405). */
static void test_every_documented_route_answers(void **state)
{
	FILE *f = fopen("contrib/openapi.yaml", "r");
	char line[512], path[256] = "", method[16];
	int checked = 0;
	bool in_paths = false;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char u[512], *brace;
		struct http_answer a;

		if (strncmp(line, "paths:", 6) == 0)
			in_paths = true;
		if (!in_paths)
			continue;
		if (strncmp(line, "  /", 3) == 0 && sscanf(line + 2, "%255[^:]:", path) == 1)
			continue;
		if (strncmp(line, "    ", 4) != 0 || line[4] == ' ' ||
		    sscanf(line + 4, "%15[a-z]:", method) != 1 || !path[0])
			continue;
		if (strcmp(method, "get") != 0 && strcmp(method, "post") != 0 && strcmp(method, "put") != 0 &&
		    strcmp(method, "delete") != 0)
			continue;
		snprintf(u, sizeof(u), "%s%s", base, path);
		if ((brace = strstr(u, "{id}")) != NULL) {
			char rest[256];

			snprintf(rest, sizeof(rest), "%s", brace + 4);
			snprintf(brace, sizeof(u) - (size_t)(brace - u), "1%s", rest);
		}
		if ((brace = strstr(u, "{name}")) != NULL) {
			char rest[256];

			snprintf(rest, sizeof(rest), "%s", brace + 6);
			snprintf(brace, sizeof(u) - (size_t)(brace - u), "alice%s", rest);
		}
		for (char *m = method; *m; m++)
			*m = (char)(*m - 'a' + 'A');
		http_curl(&a, "-X", method, "-H", op_token, "--data-binary",
			  strcmp(method, "POST") == 0          ? "{\"argv\":[\"/bin/true\"]}"
				  : strcmp(method, "PUT") == 0 ? "{\"plan\":\"free\"}"
							       : "",
			  u, NULL);
		if (a.status == 404 && strstr(u, "/1") && a.json &&
		    strcmp(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			   "not_found") == 0 &&
		    strstr(json_string_value(json_object_get(json_object_get(a.json, "error"), "message")),
			   "task 1"))
			a.status = 200; /* the route answered: there is no task 1 */
		if (a.status == 404 && strstr(u, "/alice") && a.json &&
		    strstr(json_string_value(json_object_get(json_object_get(a.json, "error"), "message")),
			   "no record of tenant alice"))
			a.status = 200; /* the route answered: alice has no record yet */
		if (a.status == 404 || a.status == 405 || a.status == 0)
			fail_msg("%s %s: %d %s", method, u, a.status, a.body ? a.body : "");
		http_answer_free(&a);
		checked++;
	}
	fclose(f);
	assert_int_equal(checked, HTTP_ROUTE_COUNT - 1); /* every route but NONE */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_checks_need_no_token_and_the_api_does),
		cmocka_unit_test(test_failed_logins_are_limited_per_address_and_not_logged),
		cmocka_unit_test(test_revoked_token_is_refused),
		cmocka_unit_test(test_tenant_sees_only_its_tasks_and_operators_all),
		cmocka_unit_test(test_wait_true_answers_the_ended_task_with_command_env_and_stdin),
		cmocka_unit_test(test_idempotency_key_never_queues_twice),
		cmocka_unit_test(test_logs_stream_while_the_task_prints),
		cmocka_unit_test(test_cancel_ends_a_running_task),
		cmocka_unit_test(test_bad_requests_get_their_statuses),
		cmocka_unit_test(test_queue_usage_nodes_and_a_unix_socket_listener),
		cmocka_unit_test(test_metrics_pass_promtool),
		cmocka_unit_test(test_every_documented_route_answers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
