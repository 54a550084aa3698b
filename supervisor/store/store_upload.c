/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_upload.c — staged uploads (store_upload.h):
 * argument checks and dispatch to the backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_upload.h"

static int run(struct store *store, enum store_sql which, struct store_upload_io *io, struct error *err)
{
	return store->backend->upload_run(store, which, io, err);
}

int store_upload_begin(struct store *store, const struct store_upload *u, struct error *err)
{
	struct store_upload_io io = { .u = (struct store_upload *)u };

	if (u->id <= 0 || !u->user || !u->user[0] || u->size < 0)
		return error_set(err, EINVAL, "upload", "an upload needs an id, a tenant and a size");
	return run(store, STORE_SQL_UPLOAD_BEGIN, &io, err);
}

int store_upload_get(struct store *store, int64_t id, struct store_upload *out, struct error *err)
{
	struct store_upload_io io = { .u = out, .id = id };

	memset(out, 0, sizeof(*out));
	return run(store, STORE_SQL_UPLOAD_GET, &io, err);
}

int store_upload_chunk(struct store *store, int64_t id, int64_t offset, int64_t index, const char *data_b64,
		       int64_t raw_len, int64_t expires_at_us, struct error *err)
{
	struct store_upload_io io = { .id = id,
				      .offset = offset,
				      .index = index,
				      .text = data_b64,
				      .raw_len = raw_len,
				      .expires_at_us = expires_at_us };

	if (index < 0 || offset < 0 || raw_len <= 0 || raw_len > (int64_t)STORE_FILES_CHUNK || !data_b64)
		return error_set(err, EINVAL, "upload", "a chunk is 1-%u bytes", STORE_FILES_CHUNK);
	return run(store, STORE_SQL_UPLOAD_CHUNK_PUT, &io, err);
}

int store_upload_get_chunk(struct store *store, int64_t id, int64_t index, char **data_b64, struct error *err)
{
	struct store_upload_io io = { .id = id, .index = index, .out = data_b64 };

	*data_b64 = NULL;
	return run(store, STORE_SQL_UPLOAD_CHUNK_GET, &io, err);
}

int store_upload_seal(struct store *store, int64_t id, const char *sha256, struct error *err)
{
	struct store_upload_io io = { .id = id, .text = sha256 };

	return run(store, STORE_SQL_UPLOAD_SEAL, &io, err);
}

int store_upload_staged(struct store *store, const char *user, int64_t *count, int64_t *bytes,
			struct error *err)
{
	struct store_upload_io io = { .user = user };
	int r = run(store, STORE_SQL_UPLOAD_STAGED, &io, err);

	*count = r < 0 ? 0 : io.count;
	*bytes = r < 0 ? 0 : io.bytes;
	return r;
}

int store_upload_take(struct store *store, int64_t id, const char *user, int64_t task_id, const char *name,
		      uint32_t mode, int64_t *size, struct error *err)
{
	struct store_upload_io io = { .id = id, .user = user, .task_id = task_id, .text = name, .mode = mode };
	int r;

	if (!name || !name[0] || strlen(name) > STORE_FILES_NAME_MAX || !user)
		return error_set(err, EINVAL, "upload", "take an upload: a tenant and a name, please");
	r = run(store, STORE_SQL_UPLOAD_TAKE_CHUNKS, &io, err);
	*size = r < 0 ? 0 : io.bytes;
	return r;
}

int store_upload_drop(struct store *store, int64_t id, struct error *err)
{
	struct store_upload_io io = { .id = id };

	return run(store, STORE_SQL_UPLOAD_DROP, &io, err);
}

int store_upload_expire(struct store *store, int64_t now_us, int64_t limit, struct error *err)
{
	struct store_upload_io io = { .now_us = now_us, .limit = limit };
	int r;

	if (limit <= 0)
		return 0;
	r = run(store, STORE_SQL_UPLOAD_EXPIRED, &io, err);
	return r < 0 ? r : (int)io.count;
}

void store_upload_clear(struct store_upload *u)
{
	free(u->user);
	free(u->sha256);
	u->user = u->sha256 = NULL;
}
