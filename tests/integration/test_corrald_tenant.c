/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_tenant.c — tenant records (issue 14,
 * "tenants without editing the policy") against a real corrald, as root:
 * tenant_set/show/list/delete over the socket and over HTTP (curl), the
 * order [user] section > tenant record > [default], a change that lets
 * queued tasks start at once (no reload), max_concurrent over the plan's,
 * an unknown plan refused, audit rows (who, when, what) in the store, a
 * non-operator refused on both transports, records kept across a restart.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/test.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201500-4201563\n" \
	"max_running = 8\nheartbeat_interval = 200ms\n"

static struct corrald daemon_;
static char base[64];

static void start(void)
{
	char policy[1024];
	int port = http_free_port();

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n"
		 "[http]\nlisten = 127.0.0.1:%d\n"
		 "[plan free]\nmax_concurrent = 1\nmax_queued = 100\nmax_task_seconds = 1m\n"
		 "[plan pro]\nmax_concurrent = 3\nmax_queued = 100\nmax_task_seconds = 1m\n"
		 "[user carol]\nplan = free\n"
		 "[default]\nplan = free\n",
		 port);
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, policy, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* An ok response to op with fields (fails the test otherwise). */
static json_t *call_ok(const char *op, const char *fields)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"%s\"%s%s}", op, fields[0] ? "," : "", fields);

	assert_non_null(r);
	if (corrald_error_code(r))
		fail_msg("%s {%s}: %s: %s", op, fields, corrald_error_code(r), corrald_error_message(r));
	return r;
}

static const char *member(json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static int running_of(const int64_t *ids, size_t n)
{
	int running = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *t = corrald_status(&daemon_, ids[i]);

		running += strcmp(task_str(t, "state"), "running") == 0;
		json_decref(t);
	}
	return running;
}

/* Wait until exactly want of ids run (up to 5 s). */
static void wait_running(const int64_t *ids, size_t n, int want)
{
	int got = -1;

	for (int i = 0; i < 500 && (got = running_of(ids, n)) != want; i++)
		test_sleep_ms(10);
	if (got != want)
		fail_msg("%d tasks running, wanted %d\n%s", got, want, corrald_log_tail(&daemon_));
}

static void test_set_show_list_delete_over_the_socket_with_audit(void **state)
{
	json_t *r, *audit;
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int rows = 0;

	(void)state;
	require_root();
	start();
	r = call_ok("tenant_set", "\"user\":\"alice\",\"plan\":\"pro\",\"max_concurrent\":8");
	assert_string_equal(member(r, "tenant", "plan"), "pro");
	assert_string_equal(member(r, "tenant", "source"), "tenant_record");
	assert_string_equal(member(r, "tenant", "updated_by"), "root");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "tenant"), "max_concurrent")),
			 8);
	json_decref(r);
	json_decref(call_ok("tenant_set", "\"user\":\"alice\",\"plan\":\"free\""));
	json_decref(call_ok("tenant_set", "\"user\":\"bob\",\"plan\":\"pro\""));
	r = call_ok("tenant_list", "");
	assert_int_equal(json_array_size(json_object_get(r, "tenants")), 2);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(r, "tenants"), 0),
						    "name")),
			    "alice");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(r, "tenants"), 0),
						    "plan")),
			    "free");
	json_decref(r);
	r = call_ok("tenant_delete", "\"user\":\"alice\"");
	assert_string_equal(member(r, "tenant", "plan"), "free");
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"tenant_delete\",\"user\":\"alice\"}");
	assert_string_equal(corrald_error_code(r), "not_found");
	json_decref(r);
	/* show after the delete: no record, and the whole audit */
	r = call_ok("tenant_show", "\"user\":\"alice\"");
	assert_true(json_is_null(json_object_get(r, "tenant")));
	audit = json_object_get(r, "audit");
	assert_int_equal(json_array_size(audit), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(audit, 0), "action")), "set");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(audit, 0), "max_concurrent")), 8);
	assert_true(json_is_null(json_object_get(json_array_get(audit, 1), "max_concurrent")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(audit, 2), "action")), "delete");
	assert_string_equal(json_string_value(json_object_get(json_array_get(audit, 2), "by")), "root");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(audit, 2), "by_uid")), 0);
	assert_true(json_integer_value(json_object_get(json_array_get(audit, 2), "at_us")) > 0);
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"tenant_show\",\"user\":\"zed\"}");
	assert_string_equal(corrald_error_code(r), "not_found");
	json_decref(r);
	/* the rows themselves, in the store */
	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "SELECT action, COALESCE(plan, ''), by_name, at_us FROM tenant_audit "
				   "WHERE tenant = 'alice' ORDER BY id",
				   -1, &st, NULL),
		SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		static const char *const want[][2] = { { "set", "pro" },
						       { "set", "free" },
						       { "delete", "" } };

		assert_true(rows < 3);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), want[rows][0]);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), want[rows][1]);
		assert_string_equal((const char *)sqlite3_column_text(st, 2), "root");
		assert_true(sqlite3_column_int64(st, 3) > 0);
		rows++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(rows, 3);
}

static void test_unknown_plan_is_a_clear_error(void **state)
{
	json_t *r;

	(void)state;
	require_root();
	start();
	r = corrald_call(&daemon_, "{\"op\":\"tenant_set\",\"user\":\"alice\",\"plan\":\"gold\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	assert_non_null(strstr(corrald_error_message(r), "unknown plan 'gold'"));
	assert_non_null(strstr(corrald_error_message(r), "free, pro"));
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"tenant_list\"}");
	assert_int_equal(json_array_size(json_object_get(r, "tenants")), 0);
	json_decref(r);
}

static void cancel_all(const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char fields[64];

		snprintf(fields, sizeof(fields), "\"id\":%lld", (long long)ids[i]);
		json_decref(call_ok("cancel", fields));
	}
}

/* [default] gives alice free (1 at a time); a record of plan pro lets her
 * queued tasks start at once, without a reload; max_concurrent overrides
 * the plan's; a [user] section still wins over a record. */
static void test_record_overrides_default_and_user_section_wins(void **state)
{
	int64_t ids[4];
	json_t *r;

	(void)state;
	require_root();
	start();
	for (size_t i = 0; i < 4; i++)
		ids[i] = corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"30\"],\"user\":\"alice\"");
	wait_running(ids, 4, 1);
	json_decref(call_ok("tenant_set", "\"user\":\"alice\",\"plan\":\"pro\""));
	wait_running(ids, 4, 3);
	r = call_ok("usage", "\"user\":\"alice\"");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(r, "usage"), 0), "plan")),
			    "pro");
	json_decref(r);
	json_decref(call_ok("tenant_set", "\"user\":\"alice\",\"plan\":\"pro\",\"max_concurrent\":4"));
	wait_running(ids, 4, 4);
	cancel_all(ids, 4);
	/* carol has a [user] section (plan free): her record does not count */
	r = call_ok("tenant_set", "\"user\":\"carol\",\"plan\":\"pro\"");
	assert_string_equal(member(r, "tenant", "source"), "user_section");
	assert_string_equal(member(r, "tenant", "effective_plan"), "free");
	json_decref(r);
	for (size_t i = 0; i < 2; i++)
		ids[i] = corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"30\"],\"user\":\"carol\"");
	wait_running(ids, 2, 1);
	test_sleep_ms(300);
	assert_int_equal(running_of(ids, 2), 1);
	cancel_all(ids, 2);
	/* deleting alice's record: back to [default] (free) */
	json_decref(call_ok("tenant_delete", "\"user\":\"alice\""));
	r = call_ok("usage", "\"user\":\"alice\"");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(json_object_get(r, "usage"), 0), "plan")),
			    "free");
	json_decref(r);
}

/* Records are in the store: a restarted corrald loads them. */
static void test_records_survive_a_restart(void **state)
{
	json_t *r;

	(void)state;
	require_root();
	start();
	json_decref(call_ok("tenant_set", "\"user\":\"alice\",\"plan\":\"pro\",\"max_concurrent\":2"));
	assert_int_equal(corrald_restart(&daemon_, 0), 0);
	r = call_ok("tenant_show", "\"user\":\"alice\"");
	assert_string_equal(member(r, "tenant", "plan"), "pro");
	assert_string_equal(member(r, "tenant", "source"), "tenant_record");
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(r, "tenant"), "effective_max_concurrent")),
			 2);
	json_decref(r);
}

/* Only operators: nobody (not an operator) is refused every tenant op. */
static void test_non_operator_is_refused(void **state)
{
	const char *lines[4] = {
		"{\"op\":\"tenant_set\",\"user\":\"nobody\",\"plan\":\"pro\"}",
		"{\"op\":\"tenant_show\",\"user\":\"nobody\"}",
		"{\"op\":\"tenant_list\"}",
		"{\"op\":\"tenant_delete\",\"user\":\"nobody\"}",
	};
	json_t *out[4] = { 0 }, *r;

	(void)state;
	require_root();
	start();
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 4,
					  out),
			 0);
	for (int i = 0; i < 4; i++) {
		assert_non_null(out[i]);
		assert_string_equal(corrald_error_code(out[i]), "forbidden");
		assert_non_null(strstr(corrald_error_message(out[i]), "only operators"));
		json_decref(out[i]);
	}
	r = call_ok("tenant_list", "");
	assert_int_equal(json_array_size(json_object_get(r, "tenants")), 0);
	json_decref(r);
}

static void make_token(const char *tenant, bool op, char *out, size_t size)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"%s\"%s}", tenant,
				 op ? ",\"operator\":true" : "");
	const char *secret = json_string_value(json_object_get(r, "secret"));

	if (!secret)
		fail_msg("token_create: %s", corrald_error_message(r));
	snprintf(out, size, "Authorization: Bearer %s", secret);
	json_decref(r);
}

static int curl_status(struct http_answer *a, const char *token, const char *method, const char *path,
		       const char *body)
{
	char u[256];

	snprintf(u, sizeof(u), "%s%s", base, path);
	http_curl(a, "-X", method, "-H", token, "-H", "Content-Type: application/json", "--data-binary",
		  body ? body : "", u, NULL);
	return a->status;
}

static void test_tenants_over_http(void **state)
{
	char op_token[128], alice[128];
	struct http_answer a;

	(void)state;
	require_root();
	start();
	make_token("root", true, op_token, sizeof(op_token));
	make_token("alice", false, alice, sizeof(alice));
	assert_int_equal(curl_status(&a, op_token, "PUT", "/v1/tenants/alice",
				     "{\"plan\":\"pro\",\"max_concurrent\":8}"),
			 200);
	assert_string_equal(member(a.json, "tenant", "plan"), "pro");
	assert_string_equal(member(a.json, "tenant", "updated_by"), "token 1");
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, op_token, "GET", "/v1/tenants/alice", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(a.json, "audit")), 1);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, op_token, "GET", "/v1/tenants", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(a.json, "tenants")), 1);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, op_token, "PUT", "/v1/tenants/bob", "{\"plan\":\"gold\"}"), 400);
	http_answer_free(&a);
	/* a tenant's token: 403 on every tenant route */
	assert_int_equal(curl_status(&a, alice, "PUT", "/v1/tenants/alice", "{\"plan\":\"pro\"}"), 403);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, alice, "GET", "/v1/tenants", NULL), 403);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, alice, "DELETE", "/v1/tenants/alice", NULL), 403);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, op_token, "DELETE", "/v1/tenants/alice", NULL), 200);
	http_answer_free(&a);
	assert_int_equal(curl_status(&a, op_token, "DELETE", "/v1/tenants/alice", NULL), 404);
	http_answer_free(&a);
}

/* Run corral with args against the test's corrald: its exit status, output in out. */
static int corral(const char *args, char *out, size_t size)
{
	char cmd[1024];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s --socket %s tenant %s 2>&1", test_build_path("corral"), daemon_.socket,
		 args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_corral_tenant_command(void **state)
{
	char out[8192];

	(void)state;
	require_root();
	start();
	assert_int_equal(corral("set dave --plan pro --max-concurrent 2", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "dave"));
	assert_non_null(strstr(out, "tenant_record"));
	assert_int_equal(corral("show dave", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "audit:"));
	assert_non_null(strstr(out, "set    plan pro, max_concurrent 2, by root (uid 0)"));
	assert_int_equal(corral("list", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "TENANT"));
	assert_non_null(strstr(out, "dave"));
	assert_int_equal(corral("set dave --plan gold", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "unknown plan 'gold'"));
	assert_int_equal(corral("set dave", out, sizeof(out)), 2); /* --plan is required */
	assert_int_equal(corral("delete dave", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "deleted the record of tenant dave"));
	assert_int_equal(corral("delete dave", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "not_found"));
	assert_int_equal(corral("list --json", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"tenants\":[]"));
}

/* Another node of a shared store changed a record (here: written into the
 * store behind corrald's back): it arrives with the next heartbeat. */
static void test_a_change_in_the_store_arrives_with_the_heartbeat(void **state)
{
	char path[256];
	sqlite3 *db;
	json_t *r = NULL;
	const char *plan = NULL;

	(void)state;
	require_root();
	start();
	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO tenants (name, plan, updated_at_us, updated_by) "
				      "VALUES ('erin', 'pro', 1, 'node-b')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	for (int i = 0; i < 300 && !plan; i++) {
		json_decref(r);
		r = corrald_call(&daemon_, "{\"op\":\"usage\",\"user\":\"erin\"}");
		plan = json_string_value(
			json_object_get(json_array_get(json_object_get(r, "usage"), 0), "plan"));
		if (plan && strcmp(plan, "pro") != 0)
			plan = NULL;
		if (!plan)
			test_sleep_ms(10);
	}
	json_decref(r);
	assert_non_null(plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_set_show_list_delete_over_the_socket_with_audit, teardown),
		cmocka_unit_test_teardown(test_unknown_plan_is_a_clear_error, teardown),
		cmocka_unit_test_teardown(test_record_overrides_default_and_user_section_wins, teardown),
		cmocka_unit_test_teardown(test_records_survive_a_restart, teardown),
		cmocka_unit_test_teardown(test_non_operator_is_refused, teardown),
		cmocka_unit_test_teardown(test_tenants_over_http, teardown),
		cmocka_unit_test_teardown(test_corral_tenant_command, teardown),
		cmocka_unit_test_teardown(test_a_change_in_the_store_arrives_with_the_heartbeat, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
