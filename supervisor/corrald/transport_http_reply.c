/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/transport_http_reply.c — one HTTP request's life: its
 * route becomes an operation request (http_route.c), the operation answers
 * through a reply sink like a socket client's (ops_handle, the same rules),
 * and its answer becomes HTTP: the status of its error code, the op's
 * members as the body.  An answer that comes later (a submit after its
 * commit, wait=true, logs?follow=true) suspends the connection until the
 * sink gets it.  Logs are sent as raw bytes; with follow=true as a chunked
 * stream that ends when the task does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/transport_http.h"

static void sink_send(struct reply_sink *s, char *line);
static void sink_release(struct reply_sink *s)
{
	free(s);
}

struct http_conn *transport_http_reply_new(struct daemon *d, struct MHD_Connection *mc)
{
	struct http_conn *c = calloc(1, sizeof(*c));
	struct http_sink *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!c || !s) {
		free(c);
		free(s);
		return NULL;
	}
	c->d = d;
	c->mhd = mc;
	c->sink = s;
	c->started_mono_us = daemon_mono_us();
	s->conn = c;
	s->base.send = sink_send;
	s->base.release = sink_release;
	s->base.ctx = s;
	s->base.refs = 1;
	snprintf(c->addr, sizeof(c->addr), "local");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->addr, sizeof(c->addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->addr, sizeof(c->addr));
	return c;
}

void transport_http_reply_done(struct http_conn *c)
{
	c->sink->conn = NULL;
	ops_sink_gone(c->d, &c->sink->base);
	ops_sink_unref(&c->sink->base);
	caller_clear(&c->caller);
	http_route_result_free(&c->route);
	http_upload_free(c);
	http_artifacts_free(c);
	free(c->body);
	free(c->reply);
	free(c->submit_reply);
	free(c->logs.buf);
	free(c);
}

static enum MHD_Result queue(struct http_conn *c, unsigned status, struct MHD_Response *resp,
			     const char *type, unsigned retry_after)
{
	enum MHD_Result r;
	char secs[16];

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (retry_after) {
		snprintf(secs, sizeof(secs), "%u", retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"corral\"");
	r = MHD_queue_response(c->mhd, status, resp);
	MHD_destroy_response(resp);
	c->status = status;
	c->phase = HC_ANSWERED;
	return r;
}

enum MHD_Result transport_http_reply_queue(struct http_conn *c, unsigned status, struct MHD_Response *resp,
					   const char *type)
{
	return queue(c, status, resp, type, 0);
}

enum MHD_Result transport_http_reply_json(struct http_conn *c, unsigned status, char *body)
{
	struct MHD_Response *resp;
	size_t len;

	if (!body)
		return MHD_NO;
	len = strlen(body);
	body[len] = '\0';
	resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!resp)
		free(body);
	return queue(c, status, resp, "application/json", 0);
}

static char *error_body(const char *code, const char *message)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

enum MHD_Result transport_http_reply_error(struct http_conn *c, unsigned status, const char *code,
					   unsigned retry_after, const char *fmt, ...)
{
	char msg[512];
	char *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	body = error_body(code, msg);
	if (!body)
		return MHD_NO;
	return queue(c, status, MHD_create_response_from_buffer_with_free_callback(strlen(body), body, free),
		     "application/json", retry_after);
}

/* GET /v1/tasks: a full page says where the next one starts. */
static void add_next_cursor(struct http_conn *c, json_t *o)
{
	json_t *req = json_loads(c->route.request_line, 0, NULL);
	json_t *tasks = json_object_get(o, "tasks");
	json_int_t limit = json_integer_value(json_object_get(req, "limit"));
	size_t n = json_array_size(tasks);

	json_decref(req);
	if (!limit)
		limit = API_DEFAULT_LIST_LIMIT;
	if (n && n == (size_t)limit)
		json_object_set(o, "next_cursor", json_object_get(json_array_get(tasks, n - 1), "id"));
}

/* An operation's answer line as HTTP: errors by their code's status, the
 * members but "ok" and "tag" as the body. */
static enum MHD_Result answer_line(struct http_conn *c, const char *line, unsigned ok_status)
{
	json_t *o = json_loads(line, JSON_ALLOW_NUL, NULL);
	json_t *err = json_object_get(o, "error");
	enum api_error_code code = API_ERR_INTERNAL;
	unsigned status;
	char *body;

	if (!json_is_object(o)) {
		json_decref(o);
		return transport_http_reply_error(c, 500, "internal", 0, "an answer that is not JSON");
	}
	if (!json_is_true(json_object_get(o, "ok"))) {
		const char *name = json_string_value(json_object_get(err, "code"));
		const char *msg = json_string_value(json_object_get(err, "message"));
		enum MHD_Result r;

		if (name)
			api_error_parse(name, &code);
		status = http_route_status(code);
		r = transport_http_reply_error(c, status, name ? name : "internal",
					       http_route_retry_after(code), "%s", msg ? msg : "");
		json_decref(o);
		return r;
	}
	json_object_del(o, "ok");
	json_object_del(o, "tag");
	if (c->route.route == HTTP_ROUTE_TASKS)
		add_next_cursor(c, o);
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return transport_http_reply_json(c, ok_status, body);
}

/* GET logs without follow, an artifact's chunk: the bytes, and where to read on. */
static enum MHD_Result answer_logs(struct http_conn *c, const char *line)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *b64 = json_string_value(json_object_get(o, "data_base64"));
	unsigned char *data = NULL;
	size_t len = 0;
	struct MHD_Response *resp;
	char num[32];
	enum MHD_Result r;

	if (!json_is_true(json_object_get(o, "ok")) || !b64 ||
	    api_base64_decode(b64, strlen(b64), &data, &len) < 0) {
		json_decref(o);
		return answer_line(c, line, 200);
	}
	resp = MHD_create_response_from_buffer_with_free_callback(len, data, free);
	if (!resp) {
		free(data);
		json_decref(o);
		return MHD_NO;
	}
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, "offset")));
	MHD_add_response_header(resp, "X-Corral-Next-Offset", num);
	MHD_add_response_header(resp, "X-Corral-Eof",
				json_is_true(json_object_get(o, "eof")) ? "true" : "false");
	if (c->route.route == HTTP_ROUTE_ARTIFACT)
		http_artifacts_headers(resp, o);
	json_decref(o);
	r = queue(c, 200, resp, "application/octet-stream", 0);
	return r;
}

/* ---- logs?follow=true: a chunked stream ------------------------------- */

/* A logs answer into the stream's buffer. */
static void logs_take(struct http_conn *c, char *line)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *b64 = json_string_value(json_object_get(o, "data_base64"));
	unsigned char *data = NULL;
	size_t len = 0;

	c->logs.asked = false;
	if (!json_is_true(json_object_get(o, "ok")) || !b64 ||
	    api_base64_decode(b64, strlen(b64), &data, &len) < 0) {
		c->logs.failed = true;
	} else {
		char *p = realloc(c->logs.buf, c->logs.len - c->logs.sent + len + 1);

		if (!p) {
			c->logs.failed = true;
		} else {
			memmove(p, p + c->logs.sent, c->logs.len - c->logs.sent);
			c->logs.len -= c->logs.sent;
			c->logs.sent = 0;
			memcpy(p + c->logs.len, data, len);
			c->logs.len += len;
			c->logs.buf = p;
			c->logs.offset = (uint64_t)json_integer_value(json_object_get(o, "offset"));
			c->logs.eof = json_is_true(json_object_get(o, "eof"));
		}
	}
	free(data);
	json_decref(o);
	free(line);
}

/* Run one operation request line as c's caller (inputs: a submit's files
 * read from its body, or NULL); its answer goes to c's sink (now, or later). */
static void run_op(struct http_conn *c, const char *line, const struct api_files_inputs *inputs)
{
	struct api_request req;
	enum api_error_code code = API_ERR_NONE;
	struct error err;

	memset(&req, 0, sizeof(req));
	if (api_request_parse(line, strlen(line), &req, &code, &err) < 0)
		ops_reply(&c->sink->base,
			  api_response_error(req.tag_json, code ? code : API_ERR_BAD_REQUEST, err.message));
	else {
		req.inputs = inputs;
		ops_handle(c->d, &c->caller, &req, &c->sink->base);
	}
	api_request_free(&req);
}

static void logs_ask(struct http_conn *c, bool follow)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "{\"op\":\"logs\",\"id\":%lld,\"stream\":\"%s\",\"offset\":%llu,\"follow\":%s}",
		 (long long)c->route.id, c->logs.stream, (unsigned long long)c->logs.offset,
		 follow ? "true" : "false");
	c->logs.asked = true;
	run_op(c, line, NULL);
}

static ssize_t logs_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_conn *c = cls;
	size_t n;

	if (c->logs.sent < c->logs.len) {
		n = max < c->logs.len - c->logs.sent ? max : c->logs.len - c->logs.sent;
		memcpy(buf, c->logs.buf + c->logs.sent, n);
		c->logs.sent += n;
		return (ssize_t)n;
	}
	if (c->logs.failed)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (c->logs.eof)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!c->logs.asked)
		logs_ask(c, true);
	if (c->logs.sent < c->logs.len || c->logs.eof || c->logs.failed)
		return logs_read(cls, pos, buf, max);
	MHD_suspend_connection(c->mhd);
	c->suspended = true;
	return 0;
}

/* GET logs?follow=true: the first read decides between an error (not
 * found, forbidden) and the stream. */
static enum MHD_Result start_logs_stream(struct http_conn *c)
{
	json_t *req = json_loads(c->route.request_line, 0, NULL);
	const char *stream = json_string_value(json_object_get(req, "stream"));
	struct MHD_Response *resp;

	c->logs.stream = stream && strcmp(stream, "stderr") == 0 ? "stderr" : "stdout";
	c->logs.offset = (uint64_t)json_integer_value(json_object_get(req, "offset"));
	json_decref(req);
	if (stream && strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)
		return transport_http_reply_error(c, 400, "bad_request", 0,
						  "query argument 'stream' must be stdout or stderr");
	logs_ask(c, false); /* not parked: answers at once */
	if (c->reply) {     /* an error: the sink kept it as a plain answer */
		enum MHD_Result r = answer_line(c, c->reply, 200);

		free(c->reply);
		c->reply = NULL;
		return r;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, logs_read, c, NULL);
	return queue(c, 200, resp, "application/octet-stream", 0);
}

static void sink_send(struct reply_sink *s, char *line)
{
	struct http_conn *c = ((struct http_sink *)s)->conn;

	if (!c) {
		free(line);
		return;
	}
	if (c->route.route == HTTP_ROUTE_LOGS && c->route.follow && c->phase == HC_ANSWERED) {
		logs_take(c, line);
	} else if (c->route.route == HTTP_ROUTE_LOGS && c->route.follow && strstr(line, "\"ok\":true")) {
		logs_take(c, line); /* the stream's first read */
	} else {
		free(c->reply);
		c->reply = line;
	}
	if (c->suspended) {
		c->suspended = false;
		MHD_resume_connection(c->mhd);
		transport_http_reply_resume(c);
	}
}

/* Take the answers that came: start wait=true's wait, or answer. */
static enum MHD_Result settle(struct http_conn *c)
{
	while (c->reply) {
		char *line = TAKE_PTR(c->reply);
		bool ok = strstr(line, "\"ok\":true") != NULL;

		if (c->route.route == HTTP_ROUTE_SUBMIT && c->phase == HC_RUNNING && c->route.wait && ok) {
			json_t *o = json_loads(line, 0, NULL);
			json_int_t id = json_integer_value(json_object_get(json_object_get(o, "task"), "id"));
			char wait[160];

			json_decref(o);
			c->submit_reply = line;
			c->phase = HC_WAITING;
			snprintf(wait, sizeof(wait),
				 "{\"op\":\"wait\",\"id\":%" JSON_INTEGER_FORMAT ",\"timeout_ms\":%llu}", id,
				 (unsigned long long)c->route.wait_timeout_ms);
			run_op(c, wait, NULL);
			continue;
		}
		if (c->phase == HC_WAITING && !ok && strstr(line, "\"wait_timeout\"")) {
			/* not ended in time: the task as submitted */
			enum MHD_Result r = answer_line(c, c->submit_reply, 202);

			free(line);
			return r;
		}
		enum MHD_Result r;

		if (c->route.route == HTTP_ROUTE_ARTIFACTS_TAR && ok)
			r = http_artifacts_answer(c, line);
		else if (c->route.route == HTTP_ROUTE_LOGS || c->route.route == HTTP_ROUTE_ARTIFACT)
			r = answer_logs(c, line);
		else
			r = answer_line(c, line,
					c->route.route == HTTP_ROUTE_SUBMIT && c->phase == HC_RUNNING ? 201
												      : 200);
		free(line);
		return r;
	}
	MHD_suspend_connection(c->mhd);
	c->suspended = true;
	return MHD_YES;
}

static const char *query_arg(void *ctx, const char *name)
{
	struct http_conn *c = ctx;

	return MHD_lookup_connection_value(c->mhd, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result queue_metrics(struct http_conn *c)
{
	char *text = metrics_render(c->d);

	if (!text)
		return transport_http_reply_error(c, 500, "internal", 0, "out of memory");
	return queue(c, 200, MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free),
		     "text/plain; version=0.0.4; charset=utf-8", 0);
}

enum MHD_Result transport_http_reply_serve(struct http_conn *c, const char *url, const char *method)
{
	if (c->phase == HC_NEW) {
		struct http_route_request in = {
			.method = method,
			.path = url,
			.query = query_arg,
			.ctx = c,
			.body = c->body,
			.body_len = c->body_len,
			.idempotency_key = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND,
								       "Idempotency-Key"),
		};

		if (c->too_large)
			return transport_http_reply_error(c, 413, "too_large", 0,
							  "the body is larger than %llu bytes",
							  (unsigned long long)policy_http(c->d->policy)
								  ->max_body_bytes);
		if (c->upload) {
			bool ready;
			enum MHD_Result mr = http_upload_prepare(c, &in, &ready);

			if (!ready)
				return mr;
		}
		if (http_route_map(&in, &c->route) < 0)
			return transport_http_reply_error(c, c->route.status, c->route.code, 0, "%s",
							  c->route.message);
		switch (c->route.route) {
		case HTTP_ROUTE_HEALTHZ:
			return transport_http_reply_json(c, 200, strdup("{\"status\":\"ok\"}"));
		case HTTP_ROUTE_READYZ:
			if (c->d->shutting_down)
				return transport_http_reply_error(c, 503, "shutting_down", 30,
								  "corrald is shutting down");
			if (c->d->heartbeat_failing)
				return transport_http_reply_error(
					c, 503, "storage_full", 10,
					"the store does not take this node's heartbeats");
			return transport_http_reply_json(c, 200, strdup("{\"status\":\"ready\"}"));
		case HTTP_ROUTE_METRICS:
			return queue_metrics(c);
		default:
			break;
		}
		c->phase = HC_RUNNING;
		if (c->route.route == HTTP_ROUTE_LOGS && c->route.follow)
			return start_logs_stream(c);
		run_op(c, c->route.request_line, http_upload_inputs(c));
		http_upload_free(c); /* the submit stored its files in the batch, or refused */
	}
	return settle(c);
}
