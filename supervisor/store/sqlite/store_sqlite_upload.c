/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_upload.c — staged uploads on SQLite
 * (store_upload.h), each write one transaction (a savepoint in an open
 * batch): a chunk and the upload's received bytes change together; a take
 * moves the chunks to the task and removes the upload at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/store/sqlite/store_sqlite.h"

/* One statement with integer and text parameters in order, no rows. */
static int exec_ids(struct store_sqlite *store, enum store_sql which, int64_t a, int64_t b, int *changes)
{
	struct store_sqlite_binder bd;

	store_sqlite_stmt_start(store, which, &bd);
	store_sqlite_bind_i64(&bd, 1, a);
	if (which == STORE_SQL_FILES_COUNT)
		store_sqlite_bind_i64(&bd, 2, b);
	return store_sqlite_stmt_exec(&bd, changes);
}

static int get_row(struct store_sqlite *store, int64_t id, struct store_upload *u, struct error *err)
{
	struct store_sqlite_binder b;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_GET, &b);
	store_sqlite_bind_i64(&b, 1, id);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		u->id = sqlite3_column_int64(b.stmt, UPC_ID);
		u->user = store_sqlite_read_column_dup(b.stmt, UPC_USER, &oom);
		u->size = sqlite3_column_int64(b.stmt, UPC_SIZE);
		u->received = sqlite3_column_int64(b.stmt, UPC_RECEIVED);
		u->sha256 = store_sqlite_read_column_dup(b.stmt, UPC_SHA256, &oom);
		u->created_at_us = sqlite3_column_int64(b.stmt, UPC_CREATED);
		u->expires_at_us = sqlite3_column_int64(b.stmt, UPC_EXPIRES);
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_upload_clear(u);
		return error_set(err, ENOMEM, "upload", "read upload %" PRId64, id);
	}
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "upload", "read upload %" PRId64, id);
	return 0;
}

static int begin_row(struct store_sqlite *store, const struct store_upload *u, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_BEGIN, &b);
	store_sqlite_bind_i64(&b, 1, u->id);
	store_sqlite_bind_text(&b, 2, u->user);
	store_sqlite_bind_i64(&b, 3, u->size);
	store_sqlite_bind_i64(&b, 4, u->created_at_us);
	store_sqlite_bind_i64(&b, 5, u->expires_at_us);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "upload", "begin upload %" PRId64, u->id);
	return 0;
}

static int chunk_locked(struct store_sqlite *store, const struct store_upload_io *io, struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes = 0;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_ADVANCE, &b);
	store_sqlite_bind_i64(&b, 1, io->id);
	store_sqlite_bind_i64(&b, 2, io->offset);
	store_sqlite_bind_i64(&b, 3, io->raw_len);
	store_sqlite_bind_i64(&b, 4, io->expires_at_us);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc == SQLITE_OK && changes != 1)
		return -ESTALE;
	if (rc == SQLITE_OK) {
		store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_CHUNK_PUT, &b);
		store_sqlite_bind_i64(&b, 1, io->id);
		store_sqlite_bind_i64(&b, 2, io->index);
		store_sqlite_bind_text(&b, 3, io->text);
		rc = store_sqlite_stmt_exec(&b, NULL);
	}
	if (rc == SQLITE_CONSTRAINT)
		return -ESTALE;
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "upload", "store a chunk of upload %" PRId64,
					 io->id);
	return 0;
}

static int chunk_get(struct store_sqlite *store, struct store_upload_io *io, struct error *err)
{
	struct store_sqlite_binder b;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_CHUNK_GET, &b);
	store_sqlite_bind_i64(&b, 1, io->id);
	store_sqlite_bind_i64(&b, 2, io->index);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW)
		*io->out = store_sqlite_read_column_dup(b.stmt, 0, &oom);
	store_sqlite_stmt_done(&b);
	if (oom)
		return error_set(err, ENOMEM, "upload", "read a chunk of upload %" PRId64, io->id);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "upload", "read a chunk of upload %" PRId64, io->id);
	return 0;
}

static int seal(struct store_sqlite *store, const struct store_upload_io *io, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_SEAL, &b);
	store_sqlite_bind_i64(&b, 1, io->id);
	store_sqlite_bind_text(&b, 2, io->text);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "upload", "seal upload %" PRId64, io->id);
	return 0;
}

static int staged(struct store_sqlite *store, struct store_upload_io *io, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_STAGED, &b);
	store_sqlite_bind_text(&b, 1, io->user);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		io->count = sqlite3_column_int64(b.stmt, 0);
		io->bytes = sqlite3_column_int64(b.stmt, 1);
	}
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "upload", "count the uploads of %s", io->user);
	return 0;
}

static int drop_locked(struct store_sqlite *store, int64_t id, int *changes, struct error *err)
{
	int rc = exec_ids(store, STORE_SQL_UPLOAD_DROP_CHUNKS, id, 0, NULL);

	if (rc == SQLITE_OK)
		rc = exec_ids(store, STORE_SQL_UPLOAD_DROP, id, 0, changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "upload", "remove upload %" PRId64, id);
	return 0;
}

/* The upload checked, the task's file row, its chunks moved, the upload
 * gone, the bytes on the task. */
static int take_locked(struct store_sqlite *store, struct store_upload_io *io, struct error *err)
{
	struct store_upload u = { 0 };
	struct store_sqlite_binder b;
	int r = get_row(store, io->id, &u, err), rc, changes = 0;

	if (r < 0)
		return r;
	if (strcmp(u.user, io->user) != 0)
		r = -ENOENT;
	else if (u.received != u.size || !u.sha256[0])
		r = -EBUSY;
	if (r == 0) {
		store_sqlite_stmt_start(store, STORE_SQL_FILES_PUT, &b);
		store_sqlite_bind_i64(&b, 1, io->task_id);
		store_sqlite_bind_text(&b, 2, "input");
		store_sqlite_bind_text(&b, 3, io->text);
		store_sqlite_bind_i64(&b, 4, io->mode);
		store_sqlite_bind_i64(&b, 5, u.size);
		store_sqlite_bind_text(&b, 6, u.sha256);
		store_sqlite_bind_i64(&b, 7, 0);
		store_sqlite_bind_i64(&b, 8, 0);
		rc = store_sqlite_stmt_exec(&b, NULL);
		if (rc == SQLITE_OK) {
			store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_TAKE_CHUNKS, &b);
			store_sqlite_bind_i64(&b, 1, io->task_id);
			store_sqlite_bind_text(&b, 2, io->text);
			store_sqlite_bind_i64(&b, 3, io->id);
			rc = store_sqlite_stmt_exec(&b, NULL);
		}
		if (rc == SQLITE_OK)
			rc = exec_ids(store, STORE_SQL_FILES_COUNT, io->task_id, u.size, NULL);
		r = rc == SQLITE_OK ? drop_locked(store, io->id, &changes, err)
				    : store_sqlite_fail(store, rc, err, "upload",
							"take upload %" PRId64 " into task %" PRId64, io->id,
							io->task_id);
		io->bytes = u.size;
	}
	store_upload_clear(&u);
	return r;
}

static int expire_locked(struct store_sqlite *store, struct store_upload_io *io, struct error *err)
{
	struct store_sqlite_binder b;
	_cleanup_free_ int64_t *ids = calloc((size_t)io->limit, sizeof(*ids));
	int64_t n = 0;
	int rc = SQLITE_DONE, r = 0;

	if (!ids)
		return error_set(err, ENOMEM, "upload", "expire uploads");
	store_sqlite_stmt_start(store, STORE_SQL_UPLOAD_EXPIRED, &b);
	store_sqlite_bind_i64(&b, 1, io->now_us);
	store_sqlite_bind_i64(&b, 2, io->limit);
	while (n < io->limit && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(b.stmt, 0);
	store_sqlite_stmt_done(&b);
	if (n < io->limit && rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "upload", "find expired uploads");
	for (int64_t i = 0; r == 0 && i < n; i++)
		r = drop_locked(store, ids[i], NULL, err);
	io->count = n;
	return r;
}

int store_sqlite_upload_run(struct store *base, enum store_sql which, struct store_upload_io *io,
			    struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	switch (which) {
	case STORE_SQL_UPLOAD_BEGIN:
		return STORE_SQLITE_IN_TX(store, err, begin_row(store, io->u, err));
	case STORE_SQL_UPLOAD_GET:
		return get_row(store, io->id, io->u, err);
	case STORE_SQL_UPLOAD_CHUNK_PUT:
		return STORE_SQLITE_IN_TX(store, err, chunk_locked(store, io, err));
	case STORE_SQL_UPLOAD_CHUNK_GET:
		return chunk_get(store, io, err);
	case STORE_SQL_UPLOAD_SEAL:
		return STORE_SQLITE_IN_TX(store, err, seal(store, io, err));
	case STORE_SQL_UPLOAD_STAGED:
		return staged(store, io, err);
	case STORE_SQL_UPLOAD_TAKE_CHUNKS:
		return STORE_SQLITE_IN_TX(store, err, take_locked(store, io, err));
	case STORE_SQL_UPLOAD_DROP:
		return STORE_SQLITE_IN_TX(store, err, drop_locked(store, io->id, NULL, err));
	case STORE_SQL_UPLOAD_EXPIRED:
		return STORE_SQLITE_IN_TX(store, err, expire_locked(store, io, err));
	default:
		return error_set(err, EINVAL, "upload", "statement %d is not an upload's", (int)which);
	}
}
