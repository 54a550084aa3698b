/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_route.c — HTTP routes -> operation requests
 * (http_route.h).  Pure: strings in, a request line out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "supervisor/common/macros.h"
#include "supervisor/corrald/http_route.h"

static const struct {
	const char *method, *path;
} routes[HTTP_ROUTE_COUNT] = {
	[HTTP_ROUTE_NONE] = { "", "other" },
	[HTTP_ROUTE_HEALTHZ] = { "GET", "/v1/healthz" },
	[HTTP_ROUTE_READYZ] = { "GET", "/v1/readyz" },
	[HTTP_ROUTE_METRICS] = { "GET", "/metrics" },
	[HTTP_ROUTE_SUBMIT] = { "POST", "/v1/tasks" },
	[HTTP_ROUTE_TASK] = { "GET", "/v1/tasks/{id}" },
	[HTTP_ROUTE_TASKS] = { "GET", "/v1/tasks" },
	[HTTP_ROUTE_CANCEL] = { "POST", "/v1/tasks/{id}/cancel" },
	[HTTP_ROUTE_LOGS] = { "GET", "/v1/tasks/{id}/logs" },
	[HTTP_ROUTE_QUEUE] = { "GET", "/v1/queue" },
	[HTTP_ROUTE_USAGE] = { "GET", "/v1/usage" },
	[HTTP_ROUTE_NODES] = { "GET", "/v1/nodes" },
	[HTTP_ROUTE_TENANTS] = { "GET", "/v1/tenants" },
	[HTTP_ROUTE_TENANT] = { "GET", "/v1/tenants/{name}" },
	[HTTP_ROUTE_TENANT_PUT] = { "PUT", "/v1/tenants/{name}" },
	[HTTP_ROUTE_TENANT_DELETE] = { "DELETE", "/v1/tenants/{name}" },
	[HTTP_ROUTE_ARTIFACTS] = { "GET", "/v1/tasks/{id}/artifacts" },
	[HTTP_ROUTE_ARTIFACT] = { "GET", "/v1/tasks/{id}/artifacts/{name}" },
	[HTTP_ROUTE_ARTIFACTS_TAR] = { "GET", "/v1/tasks/{id}/artifacts.tar" },
	[HTTP_ROUTE_POLICY] = { "GET", "/v1/policy" },
	[HTTP_ROUTE_POLICY_PUT] = { "PUT", "/v1/policy" },
};

const char *http_route_path(enum http_route_id route)
{
	return (unsigned)route < HTTP_ROUTE_COUNT ? routes[route].path : "other";
}

const char *http_route_method(enum http_route_id route)
{
	return (unsigned)route < HTTP_ROUTE_COUNT ? routes[route].method : "";
}

unsigned http_route_status(enum api_error_code code)
{
	switch (code) {
	case API_ERR_NONE:
		return 200;
	case API_ERR_BAD_REQUEST:
	case API_ERR_UNKNOWN_OP:
	case API_ERR_UNKNOWN_PROFILE:
	case API_ERR_LIMIT_EXCEEDED:
	case API_ERR_POLICY_INVALID:
	case API_ERR_NOT_CLUSTERED:
	case API_ERR_BAD_INPUT:
		return 400;
	case API_ERR_UNKNOWN_USER:
	case API_ERR_FORBIDDEN:
		return 403;
	case API_ERR_NOT_FOUND:
		return 404;
	case API_ERR_WAIT_TIMEOUT:
		return 408;
	case API_ERR_TOO_LARGE:
		return 413;
	case API_ERR_CONCURRENCY_LIMIT:
	case API_ERR_BUDGET_EXHAUSTED:
	case API_ERR_BUDGET_RESERVED:
	case API_ERR_QUEUE_FULL:
	case API_ERR_HOST_CAPACITY:
	case API_ERR_STORAGE_QUOTA: /* the tenant's quota: retention frees it later */
		return 429;
	case API_ERR_SHUTTING_DOWN:
	case API_ERR_STORAGE_FULL:
		return 503;
	case API_ERR_INTERNAL:
		return 500;
	}
	return 500;
}

unsigned http_route_retry_after(enum api_error_code code)
{
	switch (code) {
	case API_ERR_CONCURRENCY_LIMIT:
	case API_ERR_HOST_CAPACITY:
	case API_ERR_BUDGET_RESERVED:
	case API_ERR_QUEUE_FULL:
		return 5;
	case API_ERR_SHUTTING_DOWN:
	case API_ERR_STORAGE_FULL:
		return 30;
	default:
		return 0;
	}
}

static int refuse(struct http_route_result *out, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(struct http_route_result *out, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	out->code = code;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	free(out->request_line);
	out->request_line = NULL;
	return -EINVAL;
}

/* "123" -> 123 (1..2^63-1, digits only) */
static bool parse_id(const char *s, size_t len, long long *id)
{
	long long v = 0;

	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return v > 0;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!s)
		return true;
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return false;
	return true;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static const char *query(const struct http_route_request *in, const char *name)
{
	return in->query ? in->query(in->ctx, name) : NULL;
}

/* Query arguments that become string fields; unknown ones are refused. */
static int copy_query(const struct http_route_request *in, struct http_route_result *out, json_t *req,
		      const char *const *allowed)
{
	for (const char *const *a = allowed; *a; a += 2) {
		const char *v = query(in, a[0]);

		if (v)
			json_object_set_new(req, a[1], json_string(v));
	}
	return 0;
}

static int uint_query(const struct http_route_request *in, struct http_route_result *out, json_t *req,
		      const char *name, const char *field, uint64_t max)
{
	const char *v = query(in, name);
	uint64_t n;

	if (!v)
		return 0;
	if (!parse_uint(v, max, &n))
		return refuse(out, 400, "bad_request", "query argument '%s' must be a number from 0 to %llu",
			      name, (unsigned long long)max);
	json_object_set_new(req, field, json_integer((json_int_t)n));
	return 0;
}

/* env: {"K": "V"} (or the API's ["K=V"]) -> ["K=V"] */
static int map_env(struct http_route_result *out, json_t *env, json_t *req)
{
	json_t *list, *v;
	const char *k;

	if (json_is_array(env)) {
		json_object_set(req, "env", env);
		return 0;
	}
	if (!json_is_object(env))
		return refuse(out, 400, "bad_request", "'env' must be an object of strings");
	list = json_array();
	json_object_foreach (env, k, v) {
		char *pair;

		if (!json_is_string(v)) {
			json_decref(list);
			return refuse(out, 400, "bad_request", "'env' value of '%.64s' must be a string", k);
		}
		if (asprintf(&pair, "%s=%s", k, json_string_value(v)) < 0) {
			json_decref(list);
			return refuse(out, 500, "internal", "out of memory");
		}
		json_array_append_new(list, json_string(pair));
		free(pair);
	}
	json_object_set_new(req, "env", list);
	return 0;
}

static int map_stdin_base64(struct http_route_result *out, json_t *v, json_t *req)
{
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *s;

	if (!json_is_string(v) ||
	    api_base64_decode(json_string_value(v), json_string_length(v), &data, &len) < 0)
		return refuse(out, 400, "bad_request", "'stdin_base64' must be base64 text (RFC 4648)");
	s = json_stringn_nocheck((const char *)data, len);
	free(data);
	if (!s)
		return refuse(out, 500, "internal", "out of memory");
	json_object_set_new(req, "stdin", s);
	return 0;
}

/* POST /v1/tasks: the body's members onto submit's fields. */
static int map_submit(const struct http_route_request *in, struct http_route_result *out, json_t *req)
{
	static const char *const passed[] = {
		"argv",       "timeout_ms", "cpu_limit_ms",     "memory_bytes", "profile", "cwd",
		"no_queue",   "stdin",      "callback_url",     "clear_env",    "files",   "artifacts",
		"cpu_millis", "gpus",       "gpu_memory_bytes", "labels",       NULL
	};
	json_error_t jerr;
	json_t *body, *v;
	const char *k;
	const char *wait_q = query(in, "wait");
	int r = 0;

	if (!parse_bool(wait_q, &out->wait))
		return refuse(out, 400, "bad_request", "query argument 'wait' must be true or false");
	body = json_loadb(in->body ? in->body : "", in->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return refuse(out, 400, "bad_request", "the body must be a JSON object: %s",
			      body ? "not an object" : jerr.text);
	}
	out->wait_timeout_ms = HTTP_ROUTE_DEFAULT_WAIT_MS;
	json_object_foreach (body, k, v) {
		bool pass = false;

		for (const char *const *p = passed; *p; p++)
			pass = pass || strcmp(*p, k) == 0;
		if (pass) {
			json_object_set(req, k, v);
		} else if (strcmp(k, "command") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0) {
				r = refuse(out, 400, "bad_request", "'command' must be a non-empty string");
				break;
			}
			json_object_set_new(req, "argv", json_pack("[ssO]", "/bin/sh", "-c", v));
		} else if (strcmp(k, "tenant") == 0) {
			json_object_set(req, "user", v);
		} else if (strcmp(k, "env") == 0) {
			r = map_env(out, v, req);
		} else if (strcmp(k, "stdin_base64") == 0) {
			r = map_stdin_base64(out, v, req);
		} else if (strcmp(k, "wait") == 0) {
			if (!json_is_boolean(v))
				r = refuse(out, 400, "bad_request", "'wait' must be true or false");
			else if (!wait_q)
				out->wait = json_is_true(v);
		} else if (strcmp(k, "wait_timeout_ms") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > HTTP_ROUTE_MAX_WAIT_MS)
				r = refuse(out, 400, "bad_request", "'wait_timeout_ms' must be 0 to %u",
					   HTTP_ROUTE_MAX_WAIT_MS);
			else
				out->wait_timeout_ms = (uint64_t)json_integer_value(v);
		} else {
			r = refuse(
				out, 400, "bad_request",
				"unknown member '%.64s' (allowed: argv or command, env, clear_env, stdin or "
				"stdin_base64, "
				"timeout_ms, cpu_limit_ms, memory_bytes, cpu_millis, gpus, gpu_memory_bytes, labels, profile, "
				"tenant, cwd, no_queue, wait, "
				"wait_timeout_ms, callback_url, files, artifacts)",
				k);
		}
		if (r < 0)
			break;
	}
	if (r == 0 && json_object_get(body, "argv") && json_object_get(body, "command"))
		r = refuse(out, 400, "bad_request", "give 'argv' or 'command', not both");
	if (r == 0 && json_object_get(body, "stdin") && json_object_get(body, "stdin_base64"))
		r = refuse(out, 400, "bad_request", "give 'stdin' or 'stdin_base64', not both");
	json_decref(body);
	if (r == 0 && in->idempotency_key)
		json_object_set_new(req, "idempotency_key", json_string(in->idempotency_key));
	return r;
}

/* PUT /v1/tenants/{name}: {"plan": ..., "max_concurrent": ...} onto tenant_set. */
static int map_tenant_put(const struct http_route_request *in, struct http_route_result *out, json_t *req)
{
	json_error_t jerr;
	json_t *body, *v;
	const char *k;
	int r = 0;

	body = json_loadb(in->body ? in->body : "", in->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return refuse(out, 400, "bad_request", "the body must be a JSON object: %s",
			      body ? "not an object" : jerr.text);
	}
	json_object_foreach (body, k, v) {
		if (strcmp(k, "plan") == 0 || strcmp(k, "max_concurrent") == 0) {
			json_object_set(req, k, v);
		} else {
			r = refuse(out, 400, "bad_request",
				   "unknown member '%.64s' (allowed: plan, max_concurrent)", k);
			break;
		}
	}
	json_decref(body);
	return r;
}

/* The tenant route of (method, /v1/tenants/NAME). */
static enum http_route_id tenant_route(const char *method, const char *name, struct http_route_result *out)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(out->name) || strchr(name, '/'))
		return HTTP_ROUTE_NONE;
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (strcmp(method, "PUT") == 0)
		return HTTP_ROUTE_TENANT_PUT;
	if (strcmp(method, "DELETE") == 0)
		return HTTP_ROUTE_TENANT_DELETE;
	return HTTP_ROUTE_TENANT;
}

/* The route of (method, path): 0, or -EINVAL refused (404 / 405). */
static int find_route(const struct http_route_request *in, struct http_route_result *out, long long *id)
{
	const char *p = in->path ? in->path : "";
	const char *method = in->method ? in->method : "";
	enum http_route_id r = HTTP_ROUTE_NONE;

	if (strcmp(p, "/v1/healthz") == 0)
		r = HTTP_ROUTE_HEALTHZ;
	else if (strcmp(p, "/v1/readyz") == 0)
		r = HTTP_ROUTE_READYZ;
	else if (strcmp(p, "/metrics") == 0)
		r = HTTP_ROUTE_METRICS;
	else if (strcmp(p, "/v1/queue") == 0)
		r = HTTP_ROUTE_QUEUE;
	else if (strcmp(p, "/v1/usage") == 0)
		r = HTTP_ROUTE_USAGE;
	else if (strcmp(p, "/v1/nodes") == 0)
		r = HTTP_ROUTE_NODES;
	else if (strcmp(p, "/v1/policy") == 0)
		r = strcmp(method, "PUT") == 0 ? HTTP_ROUTE_POLICY_PUT : HTTP_ROUTE_POLICY;
	else if (strcmp(p, "/v1/tenants") == 0)
		r = HTTP_ROUTE_TENANTS;
	else if (strncmp(p, "/v1/tenants/", 12) == 0)
		r = tenant_route(method, p + 12, out);
	else if (strcmp(p, "/v1/tasks") == 0)
		r = strcmp(method, "POST") == 0 ? HTTP_ROUTE_SUBMIT : HTTP_ROUTE_TASKS;
	else if (strncmp(p, "/v1/tasks/", 10) == 0) {
		const char *s = p + 10, *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);

		if (parse_id(s, n, id)) {
			if (!slash)
				r = HTTP_ROUTE_TASK;
			else if (strcmp(slash, "/cancel") == 0)
				r = HTTP_ROUTE_CANCEL;
			else if (strcmp(slash, "/logs") == 0)
				r = HTTP_ROUTE_LOGS;
			else if (strcmp(slash, "/artifacts") == 0)
				r = HTTP_ROUTE_ARTIFACTS;
			else if (strcmp(slash, "/artifacts.tar") == 0)
				r = HTTP_ROUTE_ARTIFACTS_TAR;
			else if (strncmp(slash, "/artifacts/", 11) == 0 && slash[11])
				r = HTTP_ROUTE_ARTIFACT;
		} else if (n && !slash) {
			return refuse(out, 404, "not_found", "'%.64s' is not a task id", s);
		}
	}
	if (r == HTTP_ROUTE_NONE)
		return refuse(out, 404, "not_found", "no resource %.128s", p);
	if (strcmp(method, routes[r].method) != 0)
		return refuse(out, 405, "method_not_allowed", "%.128s takes %s, not %.16s", routes[r].path,
			      routes[r].method, method);
	out->route = r;
	out->id = *id;
	return 0;
}

int http_route_map(const struct http_route_request *in, struct http_route_result *out)
{
	static const char *const list_q[] = { "state", "state", "tenant", "user", NULL };
	static const char *const tenant_q[] = { "tenant", "user", NULL };
	static const char *const usage_q[] = { "tenant", "user", "month", "month", NULL };
	long long id = 0;
	json_t *req;
	int r;

	memset(out, 0, sizeof(*out));
	if (find_route(in, out, &id) < 0)
		return -EINVAL;
	switch (out->route) {
	case HTTP_ROUTE_HEALTHZ:
	case HTTP_ROUTE_READYZ:
	case HTTP_ROUTE_METRICS:
		return 0; /* answered by the transport */
	default:
		break;
	}
	req = json_object();
	r = 0;
	switch (out->route) {
	case HTTP_ROUTE_SUBMIT:
		json_object_set_new(req, "op", json_string("submit"));
		r = map_submit(in, out, req);
		break;
	case HTTP_ROUTE_TASK:
	case HTTP_ROUTE_CANCEL:
		json_object_set_new(req, "op",
				    json_string(out->route == HTTP_ROUTE_TASK ? "status" : "cancel"));
		json_object_set_new(req, "id", json_integer(id));
		break;
	case HTTP_ROUTE_TASKS:
		json_object_set_new(req, "op", json_string("list"));
		r = copy_query(in, out, req, list_q);
		if (r == 0)
			r = uint_query(in, out, req, "limit", "limit", API_MAX_LIST_LIMIT);
		if (r == 0)
			r = uint_query(in, out, req, "cursor", "after", (uint64_t)INT64_MAX);
		if (r == 0)
			r = uint_query(in, out, req, "since_us", "since_us", (uint64_t)INT64_MAX);
		if (r == 0)
			r = uint_query(in, out, req, "until_us", "until_us", (uint64_t)INT64_MAX);
		break;
	case HTTP_ROUTE_ARTIFACTS:
	case HTTP_ROUTE_ARTIFACTS_TAR: /* the list, then its files streamed */
		json_object_set_new(req, "op", json_string("artifacts"));
		json_object_set_new(req, "id", json_integer(id));
		break;
	case HTTP_ROUTE_ARTIFACT:
		/* the name: the rest of the path (it may hold '/') */
		json_object_set_new(req, "op", json_string("fetch"));
		json_object_set_new(req, "id", json_integer(id));
		json_object_set_new(req, "name", json_string(strstr(in->path, "/artifacts/") + 11));
		r = uint_query(in, out, req, "offset", "offset", (uint64_t)INT64_MAX);
		break;
	case HTTP_ROUTE_LOGS: {
		const char *stream = query(in, "stream");

		json_object_set_new(req, "op", json_string("logs"));
		json_object_set_new(req, "id", json_integer(id));
		if (stream)
			json_object_set_new(req, "stream", json_string(stream));
		if (!parse_bool(query(in, "follow"), &out->follow))
			r = refuse(out, 400, "bad_request", "query argument 'follow' must be true or false");
		if (r == 0)
			r = uint_query(in, out, req, "offset", "offset", (uint64_t)INT64_MAX);
		break;
	}
	case HTTP_ROUTE_QUEUE:
		json_object_set_new(req, "op", json_string("queue"));
		r = copy_query(in, out, req, tenant_q);
		break;
	case HTTP_ROUTE_USAGE:
		json_object_set_new(req, "op", json_string("usage"));
		r = copy_query(in, out, req, usage_q);
		break;
	case HTTP_ROUTE_NODES:
		json_object_set_new(req, "op", json_string("nodes"));
		break;
	case HTTP_ROUTE_TENANTS:
		json_object_set_new(req, "op", json_string("tenant_list"));
		break;
	case HTTP_ROUTE_POLICY:
		json_object_set_new(req, "op", json_string("policy_current"));
		break;
	case HTTP_ROUTE_POLICY_PUT: {
		/* the body is the text itself (curl -T cluster.conf); ?file= names
		 * it in the errors' file:line */
		const char *file = query(in, "file");

		json_object_set_new(req, "op", json_string("policy_push"));
		json_object_set_new(req, "file", json_string(file ? file : "http"));
		if (!in->body_len || !in->body || memchr(in->body, '\0', in->body_len))
			r = refuse(out, 400, "bad_request",
				   "the body must be the policy's text (no NUL bytes)");
		else if (json_object_set_new(req, "text", json_stringn(in->body, in->body_len)) < 0)
			r = refuse(out, 400, "bad_request", "the policy's text must be UTF-8");
		break;
	}
	case HTTP_ROUTE_TENANT:
	case HTTP_ROUTE_TENANT_DELETE:
		json_object_set_new(req, "op",
				    json_string(out->route == HTTP_ROUTE_TENANT ? "tenant_show"
										: "tenant_delete"));
		json_object_set_new(req, "user", json_string(out->name));
		break;
	case HTTP_ROUTE_TENANT_PUT:
		json_object_set_new(req, "op", json_string("tenant_set"));
		json_object_set_new(req, "user", json_string(out->name));
		r = map_tenant_put(in, out, req);
		break;
	default:
		r = refuse(out, 404, "not_found", "no resource");
		break;
	}
	if (r == 0) {
		out->request_line = json_dumps(req, JSON_COMPACT);
		if (!out->request_line)
			r = refuse(out, 400, "bad_request", "the request cannot be encoded (invalid UTF-8?)");
	}
	json_decref(req);
	return r;
}

void http_route_result_free(struct http_route_result *out)
{
	free(out->request_line);
	out->request_line = NULL;
}
