/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_artifacts.c — a task's artifacts over HTTP
 * beyond the JSON ops: `GET /v1/tasks/{id}/artifacts.tar`, every artifact
 * in one tar streamed from the store as the client reads (one chunk of
 * 192 KiB in memory at a time, never the whole set; the length is known
 * up front: Content-Length), and the headers of a single artifact's
 * answer (its SHA-256 as X-Corral-Sha256 and RFC 9530's Repr-Digest).
 *
 * Who may read: the `artifacts` op decided (the task's tenant and
 * operators; another tenant 403, an unknown task 404) before this runs.
 * A file a cap cut is in the tar with the head that was kept, marked by a
 * pax record CORRAL.truncated=1 before its header; X-Corral-Truncated
 * counts them.  The tar's headers: api/api_tar.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/transport_http.h"
#include "supervisor/store/store_files.h"

struct http_artifacts {
	json_t *items; /* the list: [{"name", "size", "truncated", "mode"}] */
	size_t index;  /* the member being sent */
	enum { AT_HEADER, AT_DATA, AT_END, AT_DONE } phase;
	unsigned char *buf; /* what is being sent: a header, a chunk, padding */
	size_t len, sent;
	uint64_t data_off; /* bytes of the member's data read so far */
	int64_t chunk;     /* the next chunk of it */
	int64_t mtime;
	bool failed;
};

static const char *item_name(json_t *e)
{
	return json_string_value(json_object_get(e, "name"));
}

static uint64_t item_size(json_t *e)
{
	json_int_t v = json_integer_value(json_object_get(e, "size"));

	return v > 0 ? (uint64_t)v : 0;
}

static size_t item_header(const struct http_artifacts *a, json_t *e, unsigned char *buf)
{
	return api_tar_header(item_name(e), (uint32_t)json_integer_value(json_object_get(e, "mode")),
			      item_size(e), json_is_true(json_object_get(e, "truncated")), a->mtime, buf);
}

/* The next piece into a->buf: 0, or -1 when the store fails us mid-way. */
static int next_piece(struct http_conn *c, struct http_artifacts *a)
{
	json_t *e = json_array_get(a->items, a->index);

	a->len = a->sent = 0;
	switch (a->phase) {
	case AT_HEADER:
		if (a->index >= json_array_size(a->items)) {
			a->phase = AT_END;
			return next_piece(c, a);
		}
		a->len = item_header(a, e, a->buf);
		a->phase = AT_DATA;
		a->data_off = 0;
		a->chunk = 0;
		return 0;
	case AT_DATA: {
		uint64_t size = item_size(e);
		_cleanup_free_ char *b64 = NULL;
		_cleanup_free_ unsigned char *data = NULL;
		struct error err;
		size_t n = 0;
		int r;

		if (a->data_off >= size) {
			a->len = api_tar_padding(size);
			memset(a->buf, 0, a->len);
			a->phase = AT_HEADER;
			a->index++;
			return 0;
		}
		r = store_files_get_chunk(c->d->store, c->route.id, STORE_FILE_ARTIFACT, item_name(e),
					  a->chunk, &b64, &err);
		if (r < 0 || api_base64_decode(b64, strlen(b64), &data, &n) < 0 || n == 0 ||
		    n > STORE_FILES_CHUNK || n > size - a->data_off) {
			log_task(LOG_LEVEL_WARNING, c->route.id,
				 "artifacts.tar: read %s chunk %" PRId64 ": %s", item_name(e), a->chunk,
				 r < 0 ? err.message : "not the size listed");
			return -1;
		}
		memcpy(a->buf, data, n);
		a->len = n;
		a->data_off += n;
		a->chunk++;
		return 0;
	}
	case AT_END:
		a->len = 2 * API_TAR_BLOCK;
		memset(a->buf, 0, a->len);
		a->phase = AT_DONE;
		return 0;
	case AT_DONE:
		return 0;
	}
	return 0;
}

static ssize_t tar_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_conn *c = cls;
	struct http_artifacts *a = c->artifacts;

	(void)pos;
	while (a && !a->failed && a->sent == a->len) {
		if (a->phase == AT_DONE)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (next_piece(c, a) < 0)
			a->failed = true;
	}
	if (!a || a->failed)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = a->len - a->sent < max ? a->len - a->sent : max;

	memcpy(out, a->buf + a->sent, n);
	a->sent += n;
	return (ssize_t)n;
}

enum MHD_Result http_artifacts_answer(struct http_conn *c, const char *line)
{
	json_t *o = json_loads(line, 0, NULL);
	struct http_artifacts *a = calloc(1, sizeof(*a));
	unsigned char header[API_TAR_HEADER_MAX];
	uint64_t total = 2 * API_TAR_BLOCK;
	size_t truncated = 0, i;
	struct MHD_Response *resp;
	char num[32], disposition[96];
	json_t *e;

	if (!a || !json_is_array(json_object_get(o, "artifacts"))) {
		free(a);
		json_decref(o);
		return transport_http_reply_error(c, 500, "internal", 0, "the artifact list cannot be read");
	}
	/* room for a chunk, a header (API_TAR_HEADER_MAX), the end blocks */
	a->buf = malloc(STORE_FILES_CHUNK > API_TAR_HEADER_MAX ? STORE_FILES_CHUNK : API_TAR_HEADER_MAX);
	a->items = json_incref(json_object_get(o, "artifacts"));
	a->mtime = (int64_t)time(NULL);
	json_decref(o);
	c->artifacts = a;
	if (!a->buf)
		return transport_http_reply_error(c, 500, "internal", 0, "out of memory");
	json_array_foreach (a->items, i, e) {
		total += item_header(a, e, header) + item_size(e) + api_tar_padding(item_size(e));
		truncated += json_is_true(json_object_get(e, "truncated"));
	}
	resp = MHD_create_response_from_callback(total, 64 * 1024, tar_read, c, NULL);
	if (!resp)
		return MHD_NO;
	snprintf(num, sizeof(num), "%zu", truncated);
	MHD_add_response_header(resp, "X-Corral-Truncated", num);
	snprintf(num, sizeof(num), "%zu", json_array_size(a->items));
	MHD_add_response_header(resp, "X-Corral-Artifacts", num);
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"task-%lld-artifacts.tar\"",
		 (long long)c->route.id);
	MHD_add_response_header(resp, "Content-Disposition", disposition);
	return transport_http_reply_queue(c, 200, resp, "application/x-tar");
}

void http_artifacts_free(struct http_conn *c)
{
	struct http_artifacts *a = c->artifacts;

	if (!a)
		return;
	json_decref(a->items);
	free(a->buf);
	free(a);
	c->artifacts = NULL;
}

void http_artifacts_headers(struct MHD_Response *resp, json_t *fetch)
{
	const char *hex = json_string_value(json_object_get(fetch, "sha256"));
	unsigned char digest[32];
	char num[32];

	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(fetch, "size")));
	MHD_add_response_header(resp, "X-Corral-Size", num);
	MHD_add_response_header(resp, "X-Corral-Truncated",
				json_is_true(json_object_get(fetch, "truncated")) ? "true" : "false");
	if (!hex || strlen(hex) != 64)
		return;
	for (size_t i = 0; i < sizeof(digest); i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return;
		digest[i] = (unsigned char)v;
	}
	_cleanup_free_ char *b64 = api_base64_encode(digest, sizeof(digest));
	char repr[80];

	if (!b64)
		return;
	snprintf(repr, sizeof(repr), "sha-256=:%s:", b64);
	MHD_add_response_header(resp, "X-Corral-Sha256", hex);
	MHD_add_response_header(resp, "Repr-Digest", repr);
}
