/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/transport_http.h — internal to corrald's HTTP
 * transport (libmicrohttpd in external-poll mode on corrald's epoll loop;
 * no threads):
 *   transport_http.c         listeners, the loop's calls, limits, auth
 *   transport_http_reply.c   one request's life: route -> operation through
 *                            a reply sink (parked answers suspend the
 *                            connection), answers as HTTP, streamed logs
 *   http_route.c             routes -> operation requests (pure)
 *   http_upload.c            a submit's files in a multipart or tar body,
 *                            spooled, split (http_multipart.c, api_tar.c)
 *   http_artifacts.c         GET /v1/tasks/{id}/artifacts.tar, streamed
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_TRANSPORT_HTTP_H
#define CORRAL_SUPERVISOR_CORRALD_TRANSPORT_HTTP_H

#include <arpa/inet.h>
#include <microhttpd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/http_route.h"

struct http_conn;

/* Where an operation's answers for one HTTP request go; outlives the
 * request when a submit's answer is still pending (conn is NULL then). */
struct http_sink {
	struct reply_sink base; /* first */
	struct http_conn *conn;
};

struct http_conn {
	struct http_conn *next, *prev;
	struct daemon *d;
	struct MHD_Connection *mhd;
	struct http_sink *sink;
	struct caller caller;
	bool authenticated;
	char addr[INET6_ADDRSTRLEN + 2]; /* the client, for logs and limits */
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	struct http_upload *upload;       /* a multipart or tar submit (http_upload.c), or NULL */
	struct http_artifacts *artifacts; /* artifacts.tar being streamed (http_artifacts.c), or NULL */
	struct http_route_result route;
	enum { HC_NEW, HC_RUNNING, HC_WAITING, HC_ANSWERED } phase;
	char *reply;        /* an operation's answer not yet turned into HTTP */
	char *submit_reply; /* wait=true: the submit's answer */
	bool suspended;
	unsigned status; /* the answer's, for metrics */
	uint64_t started_mono_us;
	/* GET logs?follow=true: what is read and not yet sent */
	struct {
		char *buf;
		size_t len, sent;
		uint64_t offset;
		bool eof, asked, failed;
		const char *stream;
	} logs;
};

/* transport_http_reply.c */
/* The first call of a request: its connection object. */
struct http_conn *transport_http_reply_new(struct daemon *d, struct MHD_Connection *mc);
/* The whole request is read: route it, run its operation, answer now or
 * suspend until the answer comes. */
enum MHD_Result transport_http_reply_serve(struct http_conn *c, const char *url, const char *method);
/* Answer now with status and an error object {"error": {"code", "message"}}. */
enum MHD_Result transport_http_reply_error(struct http_conn *c, unsigned status, const char *code,
					   unsigned retry_after, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Answer now with status and a JSON body (owned). */
enum MHD_Result transport_http_reply_json(struct http_conn *c, unsigned status, char *body);
/* The request ended (answered, or the client left): free it. */
void transport_http_reply_done(struct http_conn *c);
/* The answer came after the request was suspended: run it again. */
void transport_http_reply_resume(struct http_conn *c);
/* Queue a response made by another file of the transport (owned). */
enum MHD_Result transport_http_reply_queue(struct http_conn *c, unsigned status, struct MHD_Response *resp,
					   const char *type);

/* http_upload.c */
/* Is this request a submit with its files in the body (POST /v1/tasks,
 * Content-Type multipart/form-data or application/x-tar)? */
bool http_upload_wanted(struct http_conn *c, const char *url, const char *method);
/* After authentication: its cap (413 now when Content-Length is over),
 * its spool file. */
enum MHD_Result http_upload_begin(struct http_conn *c);
/* A piece of the body into the spool (past the cap: kept for a 413). */
bool http_upload_take(struct http_conn *c, const char *data, size_t len);
/* The whole body is here: split it; *ready with in->body the task's JSON,
 * else the refusal is queued (400 bad_input, 413 too_large, ...). */
enum MHD_Result http_upload_prepare(struct http_conn *c, struct http_route_request *in, bool *ready);
/* The files read from the body (NULL when not an upload). */
const struct api_files_inputs *http_upload_inputs(const struct http_conn *c);
/* Unmap, close and free (the submit stored what it took). */
void http_upload_free(struct http_conn *c);

/* http_artifacts.c */
/* The `artifacts` answer for GET /v1/tasks/{id}/artifacts.tar: an error
 * as JSON, else the tar of every artifact streamed from the store. */
enum MHD_Result http_artifacts_answer(struct http_conn *c, const char *line);
void http_artifacts_free(struct http_conn *c);
/* A single artifact's answer (a fetch's JSON): X-Corral-Size,
 * X-Corral-Truncated, and the SHA-256 of the whole stored file as
 * X-Corral-Sha256 (hex) and Repr-Digest (RFC 9530). */
struct json_t;
void http_artifacts_headers(struct MHD_Response *resp, struct json_t *fetch);

#endif
