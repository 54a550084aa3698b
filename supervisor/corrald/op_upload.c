/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_upload.c — staged uploads on the API side: a file
 * too large for one request line (API_MAX_LINE) is sent in chunks before
 * the submit that names it (upload_begin, upload_chunk, upload_abort), and
 * expired uploads are removed.
 *
 * Memory stays bounded: a chunk request is at most API_MAX_UPLOAD_CHUNK
 * bytes (it already fits a request line), every chunk goes to the store at
 * once, the SHA-256 of a complete upload is computed reading it back one
 * store chunk at a time.  Disk stays bounded: a tenant's unfinished
 * uploads are at most API_UPLOAD_MAX_COUNT and 2 x the plan's max_input
 * bytes, and count with its tasks' stored bytes against max_stored; one
 * not touched for API_UPLOAD_TTL_S expires (the sweep runs on the
 * retention tick and at start, by the rows' time: a restart or another
 * node's upload changes nothing).
 *
 * Not here: a submit taking an upload (op_files.c); the SQL
 * (store/store_upload.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_files.h"
#include "supervisor/store/store_upload.h"

/* Uploads removed per sweep at most (the rest at the next tick). */
#define OP_UPLOAD_EXPIRE_BATCH 64
/* A sweep at most this often (µs of the monotonic clock). */
#define OP_UPLOAD_EXPIRE_EVERY_US (10u * 1000000u)

static uint64_t next_sweep_mono_us;

/* The tenant's upload id into *u, or false after answering not_found (an
 * upload of another tenant is not there for the caller; operators see
 * all). */
static bool load_own(struct daemon *d, const struct caller *c, const struct api_request *req,
		     struct reply_sink *sink, struct store_upload *u)
{
	struct error err;
	int r = store_upload_get(d->store, req->upload, u, &err);

	if (r == 0 && (c->operator_ || strcmp(u->user, c->tenant) == 0))
		return true;
	if (r == 0)
		store_upload_clear(u);
	if (r < 0 && r != -ENOENT)
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
	else
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND,
				"no upload %" PRId64 " (expired, taken by a submit, or never begun)",
				req->upload);
	return false;
}

static int64_t new_id(void)
{
	uint64_t raw = 0;

	/* 53 bits: exact in every JSON reader */
	while (raw == 0)
		if (getrandom(&raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return -1;
		else
			raw &= (1ull << 53) - 1;
	return (int64_t)raw;
}

static void begin(struct daemon *d, const struct caller *c, const struct api_request *req,
		  struct reply_sink *sink)
{
	const char *tenant = ops_acting_tenant(c, req, sink);
	struct policy_limits lim;
	struct store_upload u = { 0 };
	struct duser *du;
	struct error err;
	int64_t count, bytes;
	char msg[512];
	int r;

	if (!tenant)
		return;
	if (d->shutting_down) {
		ops_reply_error(sink, req->tag_json, API_ERR_SHUTTING_DOWN, "corrald is shutting down");
		return;
	}
	if (tenants_limits_for(d, tenant, &lim) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_UNKNOWN_USER, "no plan for tenant '%s'", tenant);
		return;
	}
	if (req->size > lim.max_input_bytes || req->task_bytes > lim.max_input_bytes) {
		bool file = req->size > lim.max_input_bytes;

		ops_reply_error(sink, req->tag_json, API_ERR_TOO_LARGE,
				"%s of %" PRIu64 " bytes: plan %s allows %" PRIu64
				" bytes of input files per task (max_input)",
				file ? "a file" : "the task's input files in all",
				file ? req->size : req->task_bytes, lim.plan, lim.max_input_bytes);
		return;
	}
	if (store_upload_staged(d->store, tenant, &count, &bytes, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
		return;
	}
	if (count >= (int64_t)API_UPLOAD_MAX_COUNT || (uint64_t)bytes + req->size > 2 * lim.max_input_bytes) {
		ops_reply_error(sink, req->tag_json, API_ERR_TOO_LARGE,
				"%s has %" PRId64 " unfinished uploads of %" PRId64
				" bytes; at most %u and 2 x max_input (%" PRIu64
				" bytes) of plan %s: submit or abort them, or wait %u s until they expire",
				tenant, count, bytes, API_UPLOAD_MAX_COUNT, 2 * lim.max_input_bytes, lim.plan,
				API_UPLOAD_TTL_S);
		return;
	}
	du = queue_user(d, tenant);
	if (!du) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	if (storage_check_quota(du, &lim, (uint64_t)bytes + req->size, msg, sizeof(msg)) != API_ERR_NONE) {
		ops_reply_error(sink, req->tag_json, API_ERR_STORAGE_QUOTA,
				"%s (with its unfinished uploads)", msg);
		return;
	}
	u.id = new_id();
	u.user = (char *)tenant;
	u.size = (int64_t)req->size;
	u.created_at_us = (int64_t)daemon_now_us(d);
	u.expires_at_us = u.created_at_us + (int64_t)API_UPLOAD_TTL_S * 1000000;
	r = u.id < 0 ? error_set(&err, EIO, "upload", "no random id: %s", strerror(errno))
		     : store_upload_begin(d->store, &u, &err);
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
				"%s", err.message);
		return;
	}
	log_debug("upload %" PRId64 " of %s begun: %" PRIu64 " bytes", u.id, tenant, req->size);
	ops_reply_ok_json(sink, req->tag_json,
			  json_pack("{s:I, s:I, s:I}", "upload", (json_int_t)u.id, "chunk",
				    (json_int_t)STORE_FILES_CHUNK, "expires_at_us",
				    (json_int_t)u.expires_at_us));
}

/* The SHA-256 of a complete upload, read back one chunk at a time. */
static int digest_of(struct daemon *d, const struct store_upload *u, char hex[65], struct error *err)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	for (int64_t k = 0; k * (int64_t)STORE_FILES_CHUNK < u->size; k++) {
		_cleanup_free_ char *b64 = NULL;
		_cleanup_free_ unsigned char *raw = NULL;
		size_t len = 0;
		int r = store_upload_get_chunk(d->store, u->id, k, &b64, err);

		if (r == -ENOENT)
			return error_set(err, EIO, "upload", "upload %" PRId64 " lacks chunk %" PRId64, u->id,
					 k);
		if (r < 0)
			return r;
		if (api_base64_decode(b64, strlen(b64), &raw, &len) < 0)
			return error_set(err, EIO, "upload",
					 "upload %" PRId64 ": chunk %" PRId64 " unreadable", u->id, k);
		sha256_update(&ctx, len, raw ? raw : (const uint8_t *)"");
	}
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

static void chunk(struct daemon *d, const struct caller *c, const struct api_request *req,
		  struct reply_sink *sink)
{
	struct store_upload u;
	_cleanup_free_ unsigned char *data = NULL;
	struct error err;
	size_t len = 0;
	int64_t expires = (int64_t)daemon_now_us(d) + (int64_t)API_UPLOAD_TTL_S * 1000000;
	char hex[65] = "";
	int r = 0;

	if (!load_own(d, c, req, sink, &u))
		return;
	if (api_base64_decode(req->data_b64, req->data_b64_len, &data, &len) < 0 || len == 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"data_base64 is not base64 of 1 or more bytes");
		goto out;
	}
	if ((int64_t)req->offset != u.received) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"upload %" PRId64 " has %" PRId64 " bytes: send offset %" PRId64, u.id,
				u.received, u.received);
		goto out;
	}
	if ((uint64_t)u.received + len > (uint64_t)u.size ||
	    (len % STORE_FILES_CHUNK && (uint64_t)u.received + len != (uint64_t)u.size)) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"upload %" PRId64 " of %" PRId64 " bytes at %" PRId64
				": a chunk is a multiple of %u bytes or the rest of the file (got %zu)",
				u.id, u.size, u.received, STORE_FILES_CHUNK, len);
		goto out;
	}
	for (size_t off = 0; r == 0 && off < len; off += STORE_FILES_CHUNK) {
		size_t n = len - off < STORE_FILES_CHUNK ? len - off : STORE_FILES_CHUNK;
		_cleanup_free_ char *b64 = api_base64_encode(data + off, n);
		int64_t at = u.received + (int64_t)off;

		r = b64 ? store_upload_chunk(d->store, u.id, at, at / STORE_FILES_CHUNK, b64, (int64_t)n,
					     expires, &err)
			: error_set(&err, ENOMEM, "upload", "encode a chunk");
	}
	if (r == -ESTALE) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"upload %" PRId64 " moved on meanwhile (another chunk at offset %" PRId64 ")",
				u.id, u.received);
		goto out;
	}
	u.received += r == 0 ? (int64_t)len : 0;
	if (r == 0 && u.received == u.size && (r = digest_of(d, &u, hex, &err)) == 0)
		r = store_upload_seal(d->store, u.id, hex, &err);
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
				"%s", err.message);
		goto out;
	}
	ops_reply_ok_json(sink, req->tag_json,
			  json_pack("{s:I, s:I, s:b, s:s}", "upload", (json_int_t)u.id, "received",
				    (json_int_t)u.received, "complete", u.received == u.size, "sha256", hex));
out:
	store_upload_clear(&u);
}

static void abort_upload(struct daemon *d, const struct caller *c, const struct api_request *req,
			 struct reply_sink *sink)
{
	struct store_upload u;
	struct error err;

	if (!load_own(d, c, req, sink, &u))
		return;
	store_upload_clear(&u);
	if (store_upload_drop(d->store, req->upload, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
		return;
	}
	ops_reply_ok_json(sink, req->tag_json, json_pack("{s:I}", "upload", (json_int_t)req->upload));
}

void op_upload(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink)
{
	switch (req->op) {
	case API_OP_UPLOAD_BEGIN:
		begin(d, c, req, sink);
		break;
	case API_OP_UPLOAD_CHUNK:
		chunk(d, c, req, sink);
		break;
	default:
		abort_upload(d, c, req, sink);
		break;
	}
}

size_t op_upload_expire(struct daemon *d, bool now)
{
	struct error err;
	int r;

	if (!now && daemon_mono_us() < next_sweep_mono_us)
		return 0;
	next_sweep_mono_us = daemon_mono_us() + OP_UPLOAD_EXPIRE_EVERY_US;
	r = store_upload_expire(d->store, (int64_t)daemon_now_us(d), OP_UPLOAD_EXPIRE_BATCH, &err);
	if (r < 0) {
		log_warning("remove expired uploads: %s", err.message);
		return 0;
	}
	if (r > 0)
		log_info("removed %d expired uploads (untouched for %u s)", r, API_UPLOAD_TTL_S);
	return (size_t)r;
}
