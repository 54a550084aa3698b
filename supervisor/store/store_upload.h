/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_upload.h — staged uploads: a file too large for one
 * request line reaches the store in chunks (STORE_FILES_CHUNK bytes, base64)
 * before the submit that names it.  An upload belongs to one tenant, has a
 * declared size, grows chunk by chunk in order, and is sealed (its SHA-256
 * kept) when complete; a submit takes it in the submit's own transaction
 * (its chunks become the task's input, its bytes join the task's
 * stored_bytes, the upload is gone).  An upload nobody took expires and is
 * removed (store_upload_expire).  In the database, so every node of a
 * cluster sees it, and a restart loses nothing.
 *
 * Not here: who may upload how much (corrald/op_upload.c).
 */
#ifndef CORRAL_SUPERVISOR_STORE_UPLOAD_H
#define CORRAL_SUPERVISOR_STORE_UPLOAD_H

#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

struct store_upload {
	int64_t id;
	char *user;       /* the tenant it belongs to (owned) */
	int64_t size;     /* declared bytes */
	int64_t received; /* bytes stored so far */
	char *sha256;     /* hex of the content once complete, else "" (owned) */
	int64_t created_at_us, expires_at_us;
};

/* A new upload row: id (chosen by the caller, unique), user, size,
 * created_at_us and expires_at_us from u.  -EEXIST when the id is taken. */
int store_upload_begin(struct store *store, const struct store_upload *u, struct error *err);
/* The upload id into *out (strings owned: store_upload_clear); -ENOENT. */
int store_upload_get(struct store *store, int64_t id, struct store_upload *out, struct error *err);
/* Append chunk number index (data_b64: the base64 of raw_len bytes) to
 * upload id whose received bytes are offset now, and move its expiry to
 * expires_at_us, in one transaction; -ESTALE when the upload is gone, does
 * not stand at offset, or would pass its size. */
int store_upload_chunk(struct store *store, int64_t id, int64_t offset, int64_t index, const char *data_b64,
		       int64_t raw_len, int64_t expires_at_us, struct error *err);
/* Chunk index of upload id as base64 text (malloc'd); -ENOENT. */
int store_upload_get_chunk(struct store *store, int64_t id, int64_t index, char **data_b64,
			   struct error *err);
/* Keep the SHA-256 (hex) of a complete upload. */
int store_upload_seal(struct store *store, int64_t id, const char *sha256, struct error *err);
/* The uploads user holds: how many, and their declared bytes. */
int store_upload_staged(struct store *store, const char *user, int64_t *count, int64_t *bytes,
			struct error *err);
/* A submit takes upload id of user, complete and sealed, as its input file
 * name (mode) of task_id: the file's row and chunks written, the bytes
 * added to the task's stored_bytes, the upload removed; one transaction.
 * *size = its bytes.  -ENOENT (gone or another tenant's), -EBUSY (not
 * complete). */
int store_upload_take(struct store *store, int64_t id, const char *user, int64_t task_id, const char *name,
		      uint32_t mode, int64_t *size, struct error *err);
/* Remove upload id and its chunks (0 also when it was gone). */
int store_upload_drop(struct store *store, int64_t id, struct error *err);
/* Remove up to limit uploads whose expiry is before now_us; how many, or
 * -errno. */
int store_upload_expire(struct store *store, int64_t now_us, int64_t limit, struct error *err);
void store_upload_clear(struct store_upload *u);

#endif
