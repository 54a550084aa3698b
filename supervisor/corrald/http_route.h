/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_route.h — internal to corrald: the HTTP API's
 * routes mapped to the operations of api/api_ops.c (pure: no I/O, no
 * daemon; the fuzz target tests/fuzz/fuzz_http_route.c drives it).  A route
 * becomes one request line for api_request_parse(), so the codec's and the
 * operations' rules are the only ones; what stays here is the shape of
 * HTTP (paths, query strings, the submit body's conveniences: a shell
 * `command`, env as an object, stdin as base64) and the status of each
 * stable error code.  The routes: contrib/openapi.yaml.
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_HTTP_ROUTE_H
#define CORRAL_SUPERVISOR_CORRALD_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/api/api.h"

enum http_route_id {
	HTTP_ROUTE_NONE = 0, /* no such resource, or a wrong method */
	HTTP_ROUTE_HEALTHZ,
	HTTP_ROUTE_READYZ,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_SUBMIT,
	HTTP_ROUTE_TASK,
	HTTP_ROUTE_TASKS,
	HTTP_ROUTE_CANCEL,
	HTTP_ROUTE_LOGS,
	HTTP_ROUTE_QUEUE,
	HTTP_ROUTE_USAGE,
	HTTP_ROUTE_NODES,
	HTTP_ROUTE_TENANTS,       /* GET /v1/tenants */
	HTTP_ROUTE_TENANT,        /* GET /v1/tenants/{name} */
	HTTP_ROUTE_TENANT_PUT,    /* PUT /v1/tenants/{name} */
	HTTP_ROUTE_TENANT_DELETE, /* DELETE /v1/tenants/{name} */
	HTTP_ROUTE_ARTIFACTS,     /* GET /v1/tasks/{id}/artifacts */
	HTTP_ROUTE_ARTIFACT,      /* GET /v1/tasks/{id}/artifacts/{name}: one chunk's bytes */
	HTTP_ROUTE_ARTIFACTS_TAR, /* GET /v1/tasks/{id}/artifacts.tar: all of them, streamed */
	HTTP_ROUTE_POLICY,        /* GET /v1/policy: the cluster's policy (policy_current) */
	HTTP_ROUTE_POLICY_PUT,    /* PUT /v1/policy: the body is the text (policy_push) */
	HTTP_ROUTE_COUNT
};

#define HTTP_ROUTE_MAX_WAIT_MS 3600000u   /* wait=true: at most an hour */
#define HTTP_ROUTE_DEFAULT_WAIT_MS 60000u /* wait=true without wait_timeout_ms */

struct http_route_request {
	const char *method, *path;
	/* A query argument's value (NULL when absent). */
	const char *(*query)(void *ctx, const char *name);
	void *ctx;
	const char *body; /* may be NULL when body_len is 0 */
	size_t body_len;
	const char *idempotency_key; /* the header, or NULL */
};

struct http_route_result {
	enum http_route_id route;
	char *request_line; /* malloc'd request for api_request_parse(); NULL: answered here */
	bool wait;          /* submit: answer with the ended task */
	uint64_t wait_timeout_ms;
	bool follow;      /* logs: stream until the task ends */
	int64_t id;       /* the task of /v1/tasks/{id}... */
	char name[257];   /* the tenant of /v1/tenants/{name} */
	unsigned status;  /* not 0: refuse with this status, code and message */
	const char *code; /* "bad_request", "not_found", "method_not_allowed" */
	char message[256];
};

/* Map one request.  0 (out->request_line set for an op route), or -EINVAL
 * with out->status, code and message set.  Free with http_route_result_free. */
int http_route_map(const struct http_route_request *in, struct http_route_result *out);
void http_route_result_free(struct http_route_result *out);
/* "/v1/tasks/{id}", "/v1/tenants/{name}" (a label for metrics), "GET"; "other" for NONE. */
const char *http_route_path(enum http_route_id route);
const char *http_route_method(enum http_route_id route);
/* The status an error code answers with (400, 403, 404, 413, 429, 503, ...). */
unsigned http_route_status(enum api_error_code code);
/* Whether an answer with this code carries Retry-After (seconds). */
unsigned http_route_retry_after(enum api_error_code code);

#endif
