/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_files.c — a task's files on PostgreSQL
 * (store_files.h), each write one transaction (a savepoint in an open
 * batch): a chunk and the task's stored_bytes change together.  Reachable
 * from every node of a cluster: the content is in the database.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

static int list_rows(struct store_pg *store, int64_t task_id, const char *kind, struct store_file_list *list,
		     struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	store_pg_param_text(&p, 2, kind);
	res = store_pg_query(store, STORE_SQL_FILES_LIST, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "files", "read the files of task %" PRId64,
					   task_id);
	n = PQntuples(res);
	if (n && !(list->items = calloc((size_t)n, sizeof(*list->items))))
		oom = true;
	for (int i = 0; !oom && i < n; i++) {
		struct store_file *f = &list->items[list->count++];

		f->name = store_pg_dup(res, i, FLC_NAME, &oom);
		f->mode = (uint32_t)store_pg_i64(res, i, FLC_MODE, 0);
		f->size = store_pg_i64(res, i, FLC_SIZE, 0);
		f->sha256 = store_pg_dup(res, i, FLC_SHA256, &oom);
		f->truncated = store_pg_i64(res, i, FLC_TRUNCATED, 0) != 0;
		f->is_dir = store_pg_i64(res, i, FLC_IS_DIR, 0) != 0;
	}
	PQclear(res);
	if (oom) {
		store_files_list_free(list);
		return error_set(err, ENOMEM, "files", "read the files of task %" PRId64, task_id);
	}
	return 0;
}

static int chunk_get(struct store_pg *store, int64_t task_id, const char *kind, const char *name,
		     int64_t chunk, char **out, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	store_pg_param_text(&p, 2, kind);
	store_pg_param_text(&p, 3, name);
	store_pg_param_i64(&p, 4, chunk);
	res = store_pg_query(store, STORE_SQL_FILES_CHUNK_GET, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "files", "read a chunk of %s", name);
	n = PQntuples(res);
	if (n)
		*out = store_pg_dup(res, 0, 0, &oom);
	PQclear(res);
	if (oom)
		return error_set(err, ENOMEM, "files", "read a chunk of %s", name);
	return n ? 0 : -ENOENT;
}

static int files_locked(struct store_pg *store, enum store_sql which, int64_t task_id, const char *kind,
			const struct store_file *f, int64_t chunk, const char *data, int64_t n,
			struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	store_pg_param_text(&p, 2, kind);
	store_pg_param_text(&p, 3, f->name);
	if (which == STORE_SQL_FILES_PUT) {
		store_pg_param_i64(&p, 4, f->mode);
		store_pg_param_i64(&p, 5, f->size);
		store_pg_param_text(&p, 6, f->sha256 ? f->sha256 : "");
		store_pg_param_i64(&p, 7, f->truncated);
		store_pg_param_i64(&p, 8, f->is_dir);
	} else {
		store_pg_param_i64(&p, 4, chunk);
		store_pg_param_text(&p, 5, data);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "files", "store %s %s of task %" PRId64, kind,
					   f->name, task_id);
	PQclear(res);
	if (which != STORE_SQL_FILES_CHUNK_PUT)
		return 0;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	store_pg_param_i64(&p, 2, n);
	res = store_pg_query(store, STORE_SQL_FILES_COUNT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "files", "count the files of task %" PRId64,
					   task_id);
	PQclear(res);
	return 0;
}

int store_pg_files_run(struct store *base, enum store_sql which, int64_t task_id, const char *kind,
		       const struct store_file *f, int64_t chunk, const char *data, int64_t n,
		       struct store_file_list *list, char **out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	switch (which) {
	case STORE_SQL_FILES_LIST:
		return list_rows(store, task_id, kind, list, err);
	case STORE_SQL_FILES_CHUNK_GET:
		return chunk_get(store, task_id, kind, f->name, chunk, out, err);
	case STORE_SQL_FILES_PUT:
	case STORE_SQL_FILES_CHUNK_PUT:
		return STORE_PG_IN_TX(store, err,
				      files_locked(store, which, task_id, kind, f, chunk, data, n, err));
	default:
		return error_set(err, EINVAL, "files", "statement %d is not a file's", (int)which);
	}
}

/* The expired tasks, then for each its artifact rows and chunks and the
 * bytes off its stored_bytes. */
static int expire_locked(struct store_pg *store, const char *user, int64_t before_us, size_t limit,
			 int64_t *bytes, size_t *tasks, struct error *err)
{
	static const enum store_sql steps[] = { STORE_SQL_FILES_DROP_ARTIFACT_CHUNKS,
						STORE_SQL_FILES_DROP_ARTIFACTS, STORE_SQL_FILES_COUNT };
	struct store_pg_params p;
	PGresult *res;
	int n;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, user);
	store_pg_param_i64(&p, 2, before_us);
	store_pg_param_i64(&p, 3, (int64_t)limit);
	res = store_pg_query(store, STORE_SQL_FILES_EXPIRED, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "files", "find expired artifacts of %s", user);
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		int64_t id = store_pg_i64(res, i, 0, 0), size = store_pg_i64(res, i, 1, 0);

		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			PGresult *step;

			store_pg_params_init(&p);
			store_pg_param_i64(&p, 1, id);
			if (steps[k] == STORE_SQL_FILES_COUNT)
				store_pg_param_i64(&p, 2, -size);
			step = store_pg_query(store, steps[k], &p);
			if (!store_pg_ok(step)) {
				PQclear(res);
				return store_pg_error_fail(store, step, err, "files",
							   "remove the artifacts of task %" PRId64, id);
			}
			PQclear(step);
		}
		*bytes += size;
	}
	PQclear(res);
	*tasks = (size_t)n;
	return 0;
}

int store_pg_files_expire(struct store *base, const char *user, int64_t ended_before_us, size_t limit,
			  int64_t *bytes, size_t *tasks, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	int r = STORE_PG_IN_TX(store, err,
			       expire_locked(store, user, ended_before_us, limit, bytes, tasks, err));

	if (r < 0)
		*bytes = 0, *tasks = 0;
	return r;
}

/* The bytes of the kind's files, then their chunks and rows, then the
 * bytes off the task's stored_bytes. */
static int drop_locked(struct store_pg *store, int64_t task_id, const char *kind, int64_t *bytes,
		       struct error *err)
{
	static const enum store_sql steps[] = { STORE_SQL_FILES_KIND_BYTES, STORE_SQL_FILES_DROP_KIND_CHUNKS,
						STORE_SQL_FILES_DROP_KIND, STORE_SQL_FILES_COUNT };
	struct store_pg_params p;
	PGresult *res;

	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		store_pg_params_init(&p);
		store_pg_param_i64(&p, 1, task_id);
		if (steps[k] == STORE_SQL_FILES_COUNT) {
			if (!*bytes)
				break;
			store_pg_param_i64(&p, 2, -*bytes);
		} else {
			store_pg_param_text(&p, 2, kind);
		}
		res = store_pg_query(store, steps[k], &p);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "files",
						   "remove the %s files of task %" PRId64, kind, task_id);
		if (steps[k] == STORE_SQL_FILES_KIND_BYTES)
			*bytes = PQntuples(res) ? store_pg_i64(res, 0, 0, 0) : 0;
		PQclear(res);
	}
	return 0;
}

int store_pg_files_drop(struct store *base, int64_t task_id, const char *kind, int64_t *bytes,
			struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	int r = STORE_PG_IN_TX(store, err, drop_locked(store, task_id, kind, bytes, err));

	if (r < 0)
		*bytes = 0;
	return r;
}
