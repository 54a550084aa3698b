/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_http_route.c — the HTTP API's routes (supervisor/corrald/
 * http_route.c): each route's operation request, the submit body's
 * conveniences (command, env object, stdin_base64, tenant, wait), refusals
 * with their statuses, the error codes' statuses, and contrib/openapi.yaml
 * against the route table (every served route documented, every documented
 * route served), the tenant routes and callback_url, artifacts.tar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "supervisor/corrald/http_route.h"

static const char *const *query_args;

static const char *query(void *ctx, const char *name)
{
	(void)ctx;
	for (const char *const *q = query_args; q && *q; q += 2)
		if (strcmp(q[0], name) == 0)
			return q[1];
	return NULL;
}

/* Map and return the request line as JSON (status 0), or NULL with *status. */
static json_t *map(const char *method, const char *path, const char *const *args, const char *body,
		   const char *key, struct http_route_result *out)
{
	struct http_route_request in = { .method = method,
					 .path = path,
					 .query = query,
					 .body = body,
					 .body_len = body ? strlen(body) : 0,
					 .idempotency_key = key };
	json_t *j = NULL;

	query_args = args;
	if (http_route_map(&in, out) == 0 && out->request_line)
		j = json_loads(out->request_line, 0, NULL);
	return j;
}

static void test_routes_map_to_their_operations(void **state)
{
	static const char *const list_q[] = { "state", "queued", "tenant", "bob", "limit",
					      "5",     "cursor", "9",      NULL };
	static const char *const logs_q[] = { "stream", "stderr", "follow", "true", "offset", "7", NULL };
	struct http_route_result r;
	json_t *j;

	(void)state;
	j = map("GET", "/v1/tasks/42", NULL, NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "status");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
	json_decref(j);
	http_route_result_free(&r);
	j = map("POST", "/v1/tasks/42/cancel", NULL, NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "cancel");
	json_decref(j);
	http_route_result_free(&r);
	j = map("GET", "/v1/tasks", list_q, NULL, NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_TASKS);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "list");
	assert_string_equal(json_string_value(json_object_get(j, "user")), "bob");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "queued");
	assert_int_equal(json_integer_value(json_object_get(j, "limit")), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "after")), 9);
	json_decref(j);
	http_route_result_free(&r);
	j = map("GET", "/v1/tasks/3/logs", logs_q, NULL, NULL, &r);
	assert_true(r.follow);
	assert_int_equal(r.id, 3);
	assert_string_equal(json_string_value(json_object_get(j, "stream")), "stderr");
	assert_int_equal(json_integer_value(json_object_get(j, "offset")), 7);
	json_decref(j);
	http_route_result_free(&r);
	/* all artifacts in one tar: the list's op (its visibility), streamed by the transport */
	j = map("GET", "/v1/tasks/5/artifacts.tar", NULL, NULL, NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_ARTIFACTS_TAR);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "artifacts");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 5);
	json_decref(j);
	http_route_result_free(&r);
	/* a file named artifacts.tar is still reachable by name */
	j = map("GET", "/v1/tasks/5/artifacts/artifacts.tar", NULL, NULL, NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_ARTIFACT);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "artifacts.tar");
	json_decref(j);
	http_route_result_free(&r);
	assert_null(map("GET", "/v1/healthz", NULL, NULL, NULL, &r));
	assert_int_equal(r.route, HTTP_ROUTE_HEALTHZ);
	assert_int_equal(r.status, 0);
}

static void test_submit_body_conveniences(void **state)
{
	static const char *const wait_q[] = { "wait", "true", NULL };
	struct http_route_result r;
	json_t *j;

	(void)state;
	j = map("POST", "/v1/tasks", wait_q,
		"{\"command\":\"echo hi\",\"env\":{\"A\":\"1\"},\"clear_env\":true,\"stdin_base64\":\"aGk=\","
		"\"tenant\":\"bob\","
		"\"timeout_ms\":5000,\"wait_timeout_ms\":100}",
		"key-1", &r);
	assert_non_null(j);
	assert_true(r.wait);
	assert_int_equal(r.wait_timeout_ms, 100);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "argv"), 0)), "/bin/sh");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "argv"), 2)), "echo hi");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "env"), 0)), "A=1");
	assert_true(json_is_true(json_object_get(j, "clear_env")));
	assert_string_equal(json_string_value(json_object_get(j, "stdin")), "hi");
	assert_string_equal(json_string_value(json_object_get(j, "user")), "bob");
	assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")), "key-1");
	assert_int_equal(json_integer_value(json_object_get(j, "timeout_ms")), 5000);
	json_decref(j);
	http_route_result_free(&r);
	j = map("POST", "/v1/tasks", NULL, "{\"argv\":[\"/bin/true\"]}", NULL, &r);
	assert_false(r.wait);
	assert_int_equal(r.wait_timeout_ms, HTTP_ROUTE_DEFAULT_WAIT_MS);
	json_decref(j);
	http_route_result_free(&r);
	/* what a task needs of its node, as over the socket */
	j = map("POST", "/v1/tasks", NULL,
		"{\"argv\":[\"/bin/true\"],\"gpus\":2,\"gpu_memory_bytes\":1024,\"labels\":[\"gpu\"],"
		"\"cpu_millis\":500}",
		NULL, &r);
	assert_int_equal(json_integer_value(json_object_get(j, "gpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "gpu_memory_bytes")), 1024);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "labels"), 0)), "gpu");
	assert_int_equal(json_integer_value(json_object_get(j, "cpu_millis")), 500);
	json_decref(j);
	http_route_result_free(&r);
}

static void expect_refused(const char *method, const char *path, const char *const *args, const char *body,
			   unsigned status, const char *in_message)
{
	struct http_route_result r;

	assert_null(map(method, path, args, body, NULL, &r));
	if (r.status != status || !strstr(r.message, in_message))
		fail_msg("%s %s %s: %u '%s', wanted %u with '%s'", method, path, body ? body : "", r.status,
			 r.message, status, in_message);
	assert_null(r.request_line);
}

static void test_refusals_have_statuses(void **state)
{
	static const char *const bad_limit[] = { "limit", "-1", NULL };
	static const char *const bad_wait[] = { "wait", "maybe", NULL };

	(void)state;
	expect_refused("GET", "/v1/frob", NULL, NULL, 404, "no resource");
	expect_refused("GET", "/v1/tasks/abc", NULL, NULL, 404, "not a task id");
	expect_refused("GET", "/v1/tasks/0", NULL, NULL, 404, "");
	expect_refused("GET", "/v1/tasks/1/frob", NULL, NULL, 404, "no resource");
	expect_refused("DELETE", "/v1/tasks/1", NULL, NULL, 405, "takes GET");
	expect_refused("GET", "/v1/tasks/1/cancel", NULL, NULL, 405, "takes POST");
	expect_refused("GET", "/v1/tasks", bad_limit, NULL, 400, "'limit'");
	expect_refused("POST", "/v1/tasks", bad_wait, "{}", 400, "'wait'");
	expect_refused("POST", "/v1/tasks", NULL, "{\"argv\":", 400, "JSON object");
	expect_refused("POST", "/v1/tasks", NULL, "[1]", 400, "not an object");
	expect_refused("POST", "/v1/tasks", NULL, "{\"frob\":1}", 400, "unknown member 'frob'");
	expect_refused("POST", "/v1/tasks", NULL, "{\"command\":\"\"}", 400, "'command'");
	expect_refused("POST", "/v1/tasks", NULL, "{\"command\":\"x\",\"argv\":[\"y\"]}", 400, "not both");
	expect_refused("POST", "/v1/tasks", NULL, "{\"env\":{\"A\":1}}", 400, "'env'");
	expect_refused("POST", "/v1/tasks", NULL, "{\"stdin_base64\":\"!!\"}", 400, "base64");
	expect_refused("POST", "/v1/tasks", NULL, "{\"wait_timeout_ms\":99999999}", 400, "wait_timeout_ms");
	expect_refused("POST", "/v1/tasks", NULL, "{\"argv\":[\"a\"],\"argv\":[\"b\"]}", 400, "JSON object");
}

static void test_error_codes_have_statuses(void **state)
{
	(void)state;
	assert_int_equal(http_route_status(API_ERR_BAD_REQUEST), 400);
	assert_int_equal(http_route_status(API_ERR_FORBIDDEN), 403);
	assert_int_equal(http_route_status(API_ERR_NOT_FOUND), 404);
	assert_int_equal(http_route_status(API_ERR_TOO_LARGE), 413);
	assert_int_equal(http_route_status(API_ERR_CONCURRENCY_LIMIT), 429);
	assert_int_equal(http_route_status(API_ERR_QUEUE_FULL), 429);
	assert_int_equal(http_route_status(API_ERR_SHUTTING_DOWN), 503);
	assert_int_equal(http_route_status(API_ERR_STORAGE_FULL), 503);
	assert_int_equal(http_route_status(API_ERR_INTERNAL), 500);
	assert_true(http_route_retry_after(API_ERR_CONCURRENCY_LIMIT) > 0);
	assert_true(http_route_retry_after(API_ERR_SHUTTING_DOWN) > 0);
	assert_int_equal(http_route_retry_after(API_ERR_NOT_FOUND), 0);
}

/* contrib/openapi.yaml's (method, path) pairs. */
static size_t documented(char paths[][64], char methods[][8], size_t max)
{
	FILE *f = fopen("contrib/openapi.yaml", "r");
	char line[512], path[64] = "";
	bool in_paths = false;
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && n < max) {
		char method[8];

		if (strncmp(line, "paths:", 6) == 0)
			in_paths = true;
		if (!in_paths)
			continue;
		if (strncmp(line, "  /", 3) == 0 && sscanf(line + 2, "%63[^:]:", path) == 1)
			continue;
		if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' &&
		    sscanf(line + 4, "%7[a-z]:", method) == 1 &&
		    (strcmp(method, "get") == 0 || strcmp(method, "post") == 0 ||
		     strcmp(method, "put") == 0 || strcmp(method, "delete") == 0)) {
			snprintf(paths[n], 64, "%s", path);
			for (size_t i = 0; method[i]; i++)
				methods[n][i] = (char)(method[i] - 'a' + 'A');
			methods[n][strlen(method)] = '\0';
			n++;
		}
	}
	fclose(f);
	return n;
}

static void test_openapi_documents_every_route_and_only_those(void **state)
{
	char paths[64][64], methods[64][8];
	size_t n = documented(paths, methods, 64);

	(void)state;
	for (int r = HTTP_ROUTE_NONE + 1; r < HTTP_ROUTE_COUNT; r++) {
		bool found = false;

		for (size_t i = 0; i < n; i++)
			found = found ||
				(strcmp(paths[i], http_route_path((enum http_route_id)r)) == 0 &&
				 strcmp(methods[i], http_route_method((enum http_route_id)r)) == 0);
		if (!found)
			fail_msg("%s %s is served but not in contrib/openapi.yaml",
				 http_route_method((enum http_route_id)r),
				 http_route_path((enum http_route_id)r));
	}
	for (size_t i = 0; i < n; i++) {
		char path[80], *brace = strstr(paths[i], "{id}"), *name = strstr(paths[i], "{name}");
		struct http_route_result r;
		json_t *j;

		if (brace)
			snprintf(path, sizeof(path), "%.*s7%s", (int)(brace - paths[i]), paths[i], brace + 4);
		else if (name)
			snprintf(path, sizeof(path), "%.*salice%s", (int)(name - paths[i]), paths[i],
				 name + 6);
		else
			snprintf(path, sizeof(path), "%s", paths[i]);
		j = map(methods[i], path, NULL,
			strcmp(methods[i], "PUT") == 0 ? "{\"plan\":\"pro\"}" : "{\"argv\":[\"/bin/true\"]}",
			NULL, &r);
		if (r.route == HTTP_ROUTE_NONE)
			fail_msg("%s %s is documented but not served (%u %s)", methods[i], paths[i], r.status,
				 r.message);
		json_decref(j);
		http_route_result_free(&r);
	}
	assert_int_equal(n, HTTP_ROUTE_COUNT - 1);
}

static void test_tenant_routes_map_to_tenant_ops(void **state)
{
	struct http_route_result r;
	json_t *j;

	(void)state;
	j = map("PUT", "/v1/tenants/alice", NULL, "{\"plan\":\"pro\",\"max_concurrent\":8}", NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_TENANT_PUT);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "tenant_set");
	assert_string_equal(json_string_value(json_object_get(j, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(j, "plan")), "pro");
	assert_int_equal(json_integer_value(json_object_get(j, "max_concurrent")), 8);
	json_decref(j);
	http_route_result_free(&r);
	j = map("GET", "/v1/tenants/alice", NULL, NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "tenant_show");
	json_decref(j);
	http_route_result_free(&r);
	j = map("DELETE", "/v1/tenants/alice", NULL, NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "tenant_delete");
	assert_string_equal(json_string_value(json_object_get(j, "user")), "alice");
	json_decref(j);
	http_route_result_free(&r);
	j = map("GET", "/v1/tenants", NULL, NULL, NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "tenant_list");
	json_decref(j);
	http_route_result_free(&r);
	/* refusals: an unknown member, not an object, a POST */
	assert_null(map("PUT", "/v1/tenants/alice", NULL, "{\"plan\":\"pro\",\"x\":1}", NULL, &r));
	assert_int_equal(r.status, 400);
	assert_null(map("PUT", "/v1/tenants/alice", NULL, "[]", NULL, &r));
	assert_int_equal(r.status, 400);
	assert_null(map("POST", "/v1/tenants/alice", NULL, "{}", NULL, &r));
	assert_int_equal(r.status, 405);
	assert_null(map("GET", "/v1/tenants/", NULL, NULL, NULL, &r));
	assert_int_equal(r.status, 404);
}

/* PUT /v1/policy: the body is the text; GET: policy_current. */
static void test_policy_routes_map_to_policy_ops(void **state)
{
	static const char *const file_q[] = { "file", "cluster.conf", NULL };
	struct http_route_result r;
	json_t *j;

	(void)state;
	j = map("PUT", "/v1/policy", file_q, "[plan p]\nmax_concurrent = 2\n", NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_POLICY_PUT);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "policy_push");
	assert_string_equal(json_string_value(json_object_get(j, "text")), "[plan p]\nmax_concurrent = 2\n");
	assert_string_equal(json_string_value(json_object_get(j, "file")), "cluster.conf");
	json_decref(j);
	http_route_result_free(&r);
	j = map("PUT", "/v1/policy", NULL, "[plan p]\n", NULL, &r);
	assert_string_equal(json_string_value(json_object_get(j, "file")), "http");
	json_decref(j);
	http_route_result_free(&r);
	j = map("GET", "/v1/policy", NULL, NULL, NULL, &r);
	assert_int_equal(r.route, HTTP_ROUTE_POLICY);
	assert_string_equal(json_string_value(json_object_get(j, "op")), "policy_current");
	json_decref(j);
	http_route_result_free(&r);
	/* no text, or not UTF-8: 400 */
	assert_null(map("PUT", "/v1/policy", NULL, NULL, NULL, &r));
	assert_int_equal(r.status, 400);
	assert_null(map("PUT", "/v1/policy", NULL, "[plan \xff]\n", NULL, &r));
	assert_int_equal(r.status, 400);
	assert_null(map("POST", "/v1/policy", NULL, "x", NULL, &r));
	assert_int_equal(r.status, 405);
}

static void test_submit_passes_callback_url(void **state)
{
	struct http_route_result r;
	json_t *j;

	(void)state;
	j = map("POST", "/v1/tasks", NULL, "{\"command\":\"true\",\"callback_url\":\"http://h/x\"}", NULL,
		&r);
	assert_string_equal(json_string_value(json_object_get(j, "callback_url")), "http://h/x");
	json_decref(j);
	http_route_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_map_to_their_operations),
		cmocka_unit_test(test_submit_body_conveniences),
		cmocka_unit_test(test_refusals_have_statuses),
		cmocka_unit_test(test_error_codes_have_statuses),
		cmocka_unit_test(test_openapi_documents_every_route_and_only_those),
		cmocka_unit_test(test_tenant_routes_map_to_tenant_ops),
		cmocka_unit_test(test_submit_passes_callback_url),
		cmocka_unit_test(test_policy_routes_map_to_policy_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
