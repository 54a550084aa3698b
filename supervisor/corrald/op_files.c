/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_files.c — a task's files on the API side: a
 * submit's input files and artifact globs checked (names: api_files.c; the
 * plan's max_input; from the request's files array and from an HTTP
 * multipart or tar body alike) and stored beside the task in the loop's batch (an
 * acknowledged task has its inputs), and the operations `artifacts` (the
 * list) and `fetch` (one chunk of one artifact), visible to the task's
 * tenant and operators alone, as `status` is.
 *
 * A file's content comes inline (data_base64) or from a staged upload of
 * the tenant's (op_upload.c), taken by the submit in the same batch.
 *
 * Not here: /work on the host, the inputs written there and the artifacts
 * collected from it (task_workdir.c); the SQL (store/store_files.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_files.h"
#include "supervisor/store/store_upload.h"

/* Chunks (192 KiB each) one fetch answers with: 960 KiB, ~1.3 MB of JSON. */
#define OP_FILES_FETCH_CHUNKS 5
_Static_assert(STORE_FILES_CHUNK % 3 == 0, "whole chunks' base64 texts join");

/* One entry of files: its name, whether a directory, its base64 text or
 * the staged upload holding its content (0 = none). */
static enum api_error_code entry_of(json_t *e, size_t i, const char **name, bool *is_dir, const char **data,
				    size_t *len, int64_t *upload, char *msg, size_t size)
{
	json_t *n = json_object_get(e, "name"), *dir = json_object_get(e, "dir"),
	       *b = json_object_get(e, "data_base64"), *mode = json_object_get(e, "mode"),
	       *up = json_object_get(e, "upload");
	char why[400];

	if (!json_is_object(e) || !json_is_string(n) || (dir && !json_is_boolean(dir)) ||
	    (mode && !json_is_integer(mode)) || (b && !json_is_string(b)) ||
	    (up && (!json_is_integer(up) || json_integer_value(up) <= 0))) {
		snprintf(msg, size,
			 "files[%zu] must be {\"name\": str, \"mode\": int, \"data_base64\": str}, "
			 "{\"name\": str, \"mode\": int, \"upload\": id} or {\"name\": str, \"dir\": true}",
			 i);
		return API_ERR_BAD_INPUT;
	}
	*name = json_string_value(n);
	*is_dir = json_is_true(dir);
	if (strlen(*name) != json_string_length(n) || api_files_check_name(*name, why, sizeof(why)) < 0) {
		snprintf(msg, size, "files[%zu]: %s", i,
			 strlen(*name) != json_string_length(n) ? "a NUL" : why);
		return API_ERR_BAD_INPUT;
	}
	if (*is_dir == (b != NULL || up != NULL) || (b && up)) {
		snprintf(msg, size,
			 "files[%zu] '%.256s': a file has data_base64 or an upload, a directory neither", i,
			 *name);
		return API_ERR_BAD_INPUT;
	}
	*data = b ? json_string_value(b) : NULL;
	*len = b ? json_string_length(b) : 0;
	*upload = up ? (int64_t)json_integer_value(up) : 0;
	return API_ERR_NONE;
}

/* One entry of a submit's files, whatever its source (the request's files
 * array, or req->inputs read from an HTTP multipart or tar body). */
struct entry_view {
	const char *name;
	bool is_dir;
	int64_t upload; /* a staged upload's id, 0 for none */
};

/* Two entries that cannot both be: the same name, or a file holding another. */
static bool entries_clash(const struct entry_view *a, const struct entry_view *b, size_t i, char *msg,
			  size_t size)
{
	size_t alen = strlen(a->name), blen = strlen(b->name);
	const char *in = NULL;

	if (strcmp(a->name, b->name) == 0) {
		snprintf(msg, size, "files[%zu] '%.256s' is given twice", i, a->name);
		return true;
	}
	if (a->upload && a->upload == b->upload) {
		snprintf(msg, size, "files[%zu]: upload %" PRId64 " is named twice", i, a->upload);
		return true;
	}
	if (alen > blen && strncmp(a->name, b->name, blen) == 0 && a->name[blen] == '/' && !b->is_dir)
		in = b->name;
	else if (blen > alen && strncmp(b->name, a->name, alen) == 0 && b->name[alen] == '/' && !a->is_dir)
		in = a->name;
	if (in)
		snprintf(msg, size, "files[%zu] '%.256s': '%.256s' is a file, not a directory", i, a->name,
			 in);
	return in != NULL;
}

/* The bytes of a complete upload of tenant's (named by files[i]). */
static enum api_error_code upload_size(struct daemon *d, const char *tenant, int64_t id, size_t i,
				       uint64_t *bytes, char *msg, size_t size)
{
	struct store_upload u;
	struct error err;
	int r = store_upload_get(d->store, id, &u, &err);
	enum api_error_code code = API_ERR_NONE;

	if (r < 0 && r != -ENOENT) {
		snprintf(msg, size, "%s", err.message);
		return API_ERR_INTERNAL;
	}
	if (r < 0 || strcmp(u.user, tenant) != 0) {
		snprintf(msg, size,
			 "files[%zu]: no upload %" PRId64 " of %s (expired, taken by another submit, or "
			 "never begun)",
			 i, id, tenant);
		code = API_ERR_BAD_INPUT;
	} else if (u.received != u.size || !u.sha256[0]) {
		snprintf(msg, size, "files[%zu]: upload %" PRId64 " has %" PRId64 " of its %" PRId64 " bytes",
			 i, id, u.received, u.size);
		code = API_ERR_BAD_INPUT;
	} else {
		*bytes += (uint64_t)u.size;
	}
	if (r == 0)
		store_upload_clear(&u);
	return code;
}

enum api_error_code op_files_check(struct daemon *d, const char *tenant, const struct api_request *req,
				   const struct policy_limits *lim, uint64_t *bytes, char *msg, size_t size)
{
	size_t n_json = req->files ? json_array_size(req->files) : 0;
	size_t n_in = req->inputs ? req->inputs->count : 0, n = n_json + n_in;
	_cleanup_free_ struct entry_view *v = NULL;
	char why[400];

	*bytes = 0;
	if (n > API_MAX_FILES) {
		snprintf(msg, size, "the submit has %zu files and directories (at most %u)", n,
			 API_MAX_FILES);
		return API_ERR_TOO_LARGE;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		snprintf(msg, size, "out of memory");
		return API_ERR_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (i < n_json) {
			const char *data;
			size_t len;
			enum api_error_code code = entry_of(json_array_get(req->files, i), i, &v[i].name,
							    &v[i].is_dir, &data, &len, &v[i].upload, msg,
							    size);

			if (code != API_ERR_NONE)
				return code;
			/* an upper bound for bad text: the decode says so later */
			*bytes += data ? api_base64_decoded_len(data, len) : 0;
			if (v[i].upload &&
			    (code = upload_size(d, tenant, v[i].upload, i, bytes, msg, size)) != API_ERR_NONE)
				return code;
		} else {
			const struct api_files_input *e = &req->inputs->items[i - n_json];

			if (api_files_check_name(e->name, why, sizeof(why)) < 0) {
				snprintf(msg, size, "files[%zu]: %s", i, why);
				return API_ERR_BAD_INPUT;
			}
			v[i].name = e->name;
			v[i].is_dir = e->is_dir;
			*bytes += e->len;
		}
		for (size_t j = 0; j < i; j++)
			if (entries_clash(&v[i], &v[j], i, msg, size))
				return API_ERR_BAD_INPUT;
	}
	if (*bytes > lim->max_input_bytes) {
		snprintf(msg, size,
			 "the input files hold %" PRIu64 " bytes, plan %s allows %" PRIu64 " (max_input)",
			 *bytes, lim->plan, lim->max_input_bytes);
		return API_ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < req->n_artifacts; i++) {
		const char *p = req->artifacts[i];

		if (!p[0] || p[0] == '/' || strlen(p) > API_FILES_PATH_MAX) {
			snprintf(msg, size,
				 "artifacts[%zu] '%.256s': a glob is 1-%d bytes, relative to /work", i, p,
				 API_FILES_PATH_MAX);
			return API_ERR_BAD_INPUT;
		}
	}
	return API_ERR_NONE;
}

int op_files_store_content(struct daemon *d, int64_t id, enum store_file_kind kind, struct store_file *f,
			   const unsigned char *data, size_t len, struct error *err)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	int r = 0;

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	f->size = (int64_t)len;
	f->sha256 = hex;
	r = store_files_put(d->store, id, kind, f, err);
	for (size_t off = 0, k = 0; r == 0 && off < len; off += STORE_FILES_CHUNK, k++) {
		size_t n = len - off < STORE_FILES_CHUNK ? len - off : STORE_FILES_CHUNK;
		_cleanup_free_ char *b64 = api_base64_encode(data + off, n);

		r = b64 ? store_files_put_chunk(d->store, id, kind, f->name, (int64_t)k, b64, (int64_t)n, err)
			: error_set(err, ENOMEM, "files", "encode %s", f->name);
	}
	f->sha256 = NULL;
	return r;
}

uint64_t op_files_drop_inputs(struct daemon *d, int64_t id)
{
	struct error err;
	int64_t bytes = 0;

	if (store_files_drop(d->store, id, STORE_FILE_INPUT, &bytes, &err) < 0) {
		log_task(LOG_LEVEL_WARNING, id, "remove its inputs: %s; retention removes them", err.message);
		return 0;
	}
	if (bytes > 0)
		log_task(LOG_LEVEL_DEBUG, id, "removed its inputs (%" PRId64 " bytes)", bytes);
	return bytes > 0 ? (uint64_t)bytes : 0;
}

int op_files_store(struct daemon *d, int64_t id, const char *tenant, const struct api_request *req,
		   const char *const *profile_artifacts, struct error *err)
{
	const char *const *globs = req->n_artifacts ? (const char *const *)req->artifacts : profile_artifacts;
	size_t n = req->files ? json_array_size(req->files) : 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *e = json_array_get(req->files, i), *b = json_object_get(e, "data_base64");
		struct store_file f = { .name = (char *)json_string_value(json_object_get(e, "name")) };
		_cleanup_free_ unsigned char *data = NULL;
		size_t len = 0;

		f.is_dir = json_is_true(json_object_get(e, "dir"));
		f.mode = api_files_mode((uint32_t)json_integer_value(json_object_get(e, "mode")), f.is_dir);
		if (json_object_get(e, "upload")) {
			int64_t bytes;

			/* its chunks become the task's in this batch, the upload gone */
			r = store_upload_take(d->store, json_integer_value(json_object_get(e, "upload")),
					      tenant, id, f.name, f.mode, &bytes, err);
			continue;
		}
		if (f.is_dir) {
			r = store_files_put(d->store, id, STORE_FILE_INPUT, &f, err);
			continue;
		}
		if (api_base64_decode(json_string_value(b), json_string_length(b), &data, &len) < 0)
			return error_set(err, EINVAL, "files", "files[%zu] '%s': data_base64 is not base64",
					 i, f.name);
		r = op_files_store_content(d, id, STORE_FILE_INPUT, &f, data ? data : (unsigned char *)"",
					   len, err);
	}
	/* an HTTP multipart or tar body's files: checked alike by op_files_check */
	for (size_t i = 0; r == 0 && req->inputs && i < req->inputs->count; i++) {
		const struct api_files_input *e = &req->inputs->items[i];
		struct store_file f = { .name = e->name, .is_dir = e->is_dir };

		f.mode = api_files_mode(e->mode, e->is_dir);
		r = e->is_dir
			? store_files_put(d->store, id, STORE_FILE_INPUT, &f, err)
			: op_files_store_content(d, id, STORE_FILE_INPUT, &f,
						 e->data ? e->data : (const unsigned char *)"", e->len, err);
	}
	/* the submit's globs, else its profile's (artifacts = in the policy) */
	for (size_t i = 0; r == 0 && globs && globs[i]; i++) {
		struct store_file f = { .name = (char *)globs[i] };

		r = store_files_put(d->store, id, STORE_FILE_PATTERN, &f, err);
	}
	if (r < 0) {
		/* the task is refused (its row cancelled by the caller): what it
		 * took in so far does not stay behind with it */
		struct error ignored;
		int64_t freed;

		store_files_drop(d->store, id, STORE_FILE_INPUT, &freed, &ignored);
		store_files_drop(d->store, id, STORE_FILE_PATTERN, &freed, &ignored);
	}
	return r;
}

void op_files_artifacts(struct daemon *d, const struct caller *c, const struct api_request *req,
			struct reply_sink *sink)
{
	struct store_task st;
	struct store_file_list list;
	struct error err;
	json_t *body, *items;

	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	store_task_clear(&st);
	if (store_files_list(d->store, req->id, STORE_FILE_ARTIFACT, &list, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < list.count; i++) {
		const struct store_file *f = &list.items[i];

		json_array_append_new(items,
				      json_pack("{s:s, s:I, s:s, s:b, s:I}", "name", f->name, "size",
						(json_int_t)f->size, "sha256", f->sha256 ? f->sha256 : "",
						"truncated", f->truncated, "mode", (json_int_t)f->mode));
	}
	store_files_list_free(&list);
	body = json_object();
	json_object_set_new(body, "artifacts", items);
	ops_reply_ok_json(sink, req->tag_json, body);
}

void op_files_fetch(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink)
{
	struct store_task st;
	struct store_file_list list;
	const struct store_file *f = NULL;
	struct error err;
	_cleanup_free_ char *chunk = NULL;
	int64_t index = (int64_t)(req->offset / STORE_FILES_CHUNK), next;
	json_t *body;
	int r;

	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	store_task_clear(&st);
	if (req->offset % STORE_FILES_CHUNK) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST, "offset must be a multiple of %u",
				STORE_FILES_CHUNK);
		return;
	}
	if (store_files_list(d->store, req->id, STORE_FILE_ARTIFACT, &list, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
		return;
	}
	for (size_t i = 0; i < list.count && !f; i++)
		if (strcmp(list.items[i].name, req->name) == 0)
			f = &list.items[i];
	if (!f) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND, "task %lld has no artifact '%.256s'",
				(long long)req->id, req->name);
		store_files_list_free(&list);
		return;
	}
	/* up to OP_FILES_FETCH_CHUNKS chunks: a whole chunk is a multiple of 3
	 * bytes, so their base64 texts join into one */
	next = (int64_t)req->offset;
	for (int k = 0; k < OP_FILES_FETCH_CHUNKS && next < f->size; k++) {
		_cleanup_free_ char *part = NULL;
		char *joined;

		r = store_files_get_chunk(d->store, req->id, STORE_FILE_ARTIFACT, f->name, index + k, &part,
					  &err);
		if (r == -ENOENT)
			break;
		if (r < 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "%s", err.message);
			store_files_list_free(&list);
			return;
		}
		joined = chunk ? realloc(chunk, strlen(chunk) + strlen(part) + 1) : strdup(part);
		if (!joined) {
			ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
			store_files_list_free(&list);
			return;
		}
		if (chunk)
			strcat(joined, part);
		chunk = joined;
		next = (index + k + 1) * (int64_t)STORE_FILES_CHUNK;
	}
	if (next > f->size)
		next = f->size;
	body = json_pack("{s:s, s:I, s:b, s:I, s:s, s:b}", "data_base64", chunk ? chunk : "", "offset",
			 (json_int_t)next, "eof", next >= f->size, "size", (json_int_t)f->size, "sha256",
			 f->sha256 ? f->sha256 : "", "truncated", f->truncated);
	store_files_list_free(&list);
	ops_reply_ok_json(sink, req->tag_json, body);
}
