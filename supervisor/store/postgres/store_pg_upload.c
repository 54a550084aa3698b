/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_upload.c — staged uploads on
 * PostgreSQL (store_upload.h), each write one transaction (a savepoint in
 * an open batch): a chunk and the upload's received bytes change together;
 * a take moves the chunks to the task and removes the upload at once.  In
 * the database: an upload sent to one node of a cluster is taken by a
 * submit on any other.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* One statement, its result checked and cleared; *changes (may be NULL) =
 * the rows it changed. */
static int run(struct store_pg *store, enum store_sql which, const struct store_pg_params *p, int *changes,
	       struct error *err, int64_t id)
{
	PGresult *res = store_pg_query(store, which, p);

	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "upload", "upload %" PRId64 ": statement %d", id,
					   (int)which);
	if (changes)
		*changes = store_pg_changes(res);
	PQclear(res);
	return 0;
}

static int get_row(struct store_pg *store, int64_t id, struct store_upload *u, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	res = store_pg_query(store, STORE_SQL_UPLOAD_GET, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "upload", "read upload %" PRId64, id);
	n = PQntuples(res);
	if (n) {
		u->id = store_pg_i64(res, 0, UPC_ID, 0);
		u->user = store_pg_dup(res, 0, UPC_USER, &oom);
		u->size = store_pg_i64(res, 0, UPC_SIZE, 0);
		u->received = store_pg_i64(res, 0, UPC_RECEIVED, 0);
		u->sha256 = store_pg_dup(res, 0, UPC_SHA256, &oom);
		u->created_at_us = store_pg_i64(res, 0, UPC_CREATED, 0);
		u->expires_at_us = store_pg_i64(res, 0, UPC_EXPIRES, 0);
	}
	PQclear(res);
	if (oom) {
		store_upload_clear(u);
		return error_set(err, ENOMEM, "upload", "read upload %" PRId64, id);
	}
	return n ? 0 : -ENOENT;
}

static int begin_row(struct store_pg *store, const struct store_upload *u, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, u->id);
	store_pg_param_text(&p, 2, u->user);
	store_pg_param_i64(&p, 3, u->size);
	store_pg_param_i64(&p, 4, u->created_at_us);
	store_pg_param_i64(&p, 5, u->expires_at_us);
	return run(store, STORE_SQL_UPLOAD_BEGIN, &p, NULL, err, u->id);
}

static int chunk_locked(struct store_pg *store, const struct store_upload_io *io, struct error *err)
{
	struct store_pg_params p;
	int changes = 0, r;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, io->id);
	store_pg_param_i64(&p, 2, io->offset);
	store_pg_param_i64(&p, 3, io->raw_len);
	store_pg_param_i64(&p, 4, io->expires_at_us);
	r = run(store, STORE_SQL_UPLOAD_ADVANCE, &p, &changes, err, io->id);
	if (r < 0)
		return r;
	if (changes != 1)
		return -ESTALE;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, io->id);
	store_pg_param_i64(&p, 2, io->index);
	store_pg_param_text(&p, 3, io->text);
	return run(store, STORE_SQL_UPLOAD_CHUNK_PUT, &p, NULL, err, io->id);
}

static int chunk_get(struct store_pg *store, struct store_upload_io *io, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, io->id);
	store_pg_param_i64(&p, 2, io->index);
	res = store_pg_query(store, STORE_SQL_UPLOAD_CHUNK_GET, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "upload", "read a chunk of upload %" PRId64,
					   io->id);
	n = PQntuples(res);
	if (n)
		*io->out = store_pg_dup(res, 0, 0, &oom);
	PQclear(res);
	if (oom)
		return error_set(err, ENOMEM, "upload", "read a chunk of upload %" PRId64, io->id);
	return n ? 0 : -ENOENT;
}

static int staged(struct store_pg *store, struct store_upload_io *io, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, io->user);
	res = store_pg_query(store, STORE_SQL_UPLOAD_STAGED, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "upload", "count the uploads of %s", io->user);
	io->count = PQntuples(res) ? store_pg_i64(res, 0, 0, 0) : 0;
	io->bytes = PQntuples(res) ? store_pg_i64(res, 0, 1, 0) : 0;
	PQclear(res);
	return 0;
}

static int drop_locked(struct store_pg *store, int64_t id, struct error *err)
{
	struct store_pg_params p;
	int r;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	r = run(store, STORE_SQL_UPLOAD_DROP_CHUNKS, &p, NULL, err, id);
	return r < 0 ? r : run(store, STORE_SQL_UPLOAD_DROP, &p, NULL, err, id);
}

/* The upload checked, the task's file row, its chunks moved, the upload
 * gone, the bytes on the task. */
static int take_locked(struct store_pg *store, struct store_upload_io *io, struct error *err)
{
	struct store_upload u = { 0 };
	struct store_pg_params p;
	int r = get_row(store, io->id, &u, err);

	if (r < 0)
		return r;
	if (strcmp(u.user, io->user) != 0)
		r = -ENOENT;
	else if (u.received != u.size || !u.sha256[0])
		r = -EBUSY;
	if (r == 0) {
		store_pg_params_init(&p);
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_text(&p, 2, "input");
		store_pg_param_text(&p, 3, io->text);
		store_pg_param_i64(&p, 4, io->mode);
		store_pg_param_i64(&p, 5, u.size);
		store_pg_param_text(&p, 6, u.sha256);
		store_pg_param_i64(&p, 7, 0);
		store_pg_param_i64(&p, 8, 0);
		r = run(store, STORE_SQL_FILES_PUT, &p, NULL, err, io->id);
	}
	if (r == 0) {
		store_pg_params_init(&p);
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_text(&p, 2, io->text);
		store_pg_param_i64(&p, 3, io->id);
		r = run(store, STORE_SQL_UPLOAD_TAKE_CHUNKS, &p, NULL, err, io->id);
	}
	if (r == 0) {
		store_pg_params_init(&p);
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_i64(&p, 2, u.size);
		r = run(store, STORE_SQL_FILES_COUNT, &p, NULL, err, io->id);
	}
	if (r == 0)
		r = drop_locked(store, io->id, err);
	io->bytes = u.size;
	store_upload_clear(&u);
	return r;
}

static int expire_locked(struct store_pg *store, struct store_upload_io *io, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	int n, r = 0;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, io->now_us);
	store_pg_param_i64(&p, 2, io->limit);
	res = store_pg_query(store, STORE_SQL_UPLOAD_EXPIRED, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "upload", "find expired uploads");
	n = PQntuples(res);
	for (int i = 0; r == 0 && i < n; i++)
		r = drop_locked(store, store_pg_i64(res, i, 0, 0), err);
	PQclear(res);
	io->count = n;
	return r;
}

static int seal(struct store_pg *store, const struct store_upload_io *io, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, io->id);
	store_pg_param_text(&p, 2, io->text);
	return run(store, STORE_SQL_UPLOAD_SEAL, &p, NULL, err, io->id);
}

int store_pg_upload_run(struct store *base, enum store_sql which, struct store_upload_io *io,
			struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	switch (which) {
	case STORE_SQL_UPLOAD_BEGIN:
		return STORE_PG_IN_TX(store, err, begin_row(store, io->u, err));
	case STORE_SQL_UPLOAD_GET:
		return get_row(store, io->id, io->u, err);
	case STORE_SQL_UPLOAD_CHUNK_PUT:
		return STORE_PG_IN_TX(store, err, chunk_locked(store, io, err));
	case STORE_SQL_UPLOAD_CHUNK_GET:
		return chunk_get(store, io, err);
	case STORE_SQL_UPLOAD_SEAL:
		return STORE_PG_IN_TX(store, err, seal(store, io, err));
	case STORE_SQL_UPLOAD_STAGED:
		return staged(store, io, err);
	case STORE_SQL_UPLOAD_TAKE_CHUNKS:
		return STORE_PG_IN_TX(store, err, take_locked(store, io, err));
	case STORE_SQL_UPLOAD_DROP:
		return STORE_PG_IN_TX(store, err, drop_locked(store, io->id, err));
	case STORE_SQL_UPLOAD_EXPIRED:
		return STORE_PG_IN_TX(store, err, expire_locked(store, io, err));
	default:
		return error_set(err, EINVAL, "upload", "statement %d is not an upload's", (int)which);
	}
}
