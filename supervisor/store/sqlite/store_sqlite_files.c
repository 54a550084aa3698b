/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_files.c — a task's files on SQLite
 * (store_files.h), each call one transaction (a savepoint in an open
 * batch): a chunk and the task's stored_bytes change together.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/store/sqlite/store_sqlite.h"

static int list_rows(struct store_sqlite *store, int64_t task_id, const char *kind,
		     struct store_file_list *list, struct error *err)
{
	struct store_sqlite_binder b;
	size_t cap = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_FILES_LIST, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_text(&b, 2, kind);
	while (!oom && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_file *f;

		if (store_sqlite_read_grow((void **)&list->items, &cap, list->count, sizeof(*list->items)) <
		    0) {
			oom = true;
			break;
		}
		f = &list->items[list->count++];
		memset(f, 0, sizeof(*f));
		f->name = store_sqlite_read_column_dup(b.stmt, FLC_NAME, &oom);
		f->mode = (uint32_t)sqlite3_column_int64(b.stmt, FLC_MODE);
		f->size = sqlite3_column_int64(b.stmt, FLC_SIZE);
		f->sha256 = store_sqlite_read_column_dup(b.stmt, FLC_SHA256, &oom);
		f->truncated = sqlite3_column_int64(b.stmt, FLC_TRUNCATED) != 0;
		f->is_dir = sqlite3_column_int64(b.stmt, FLC_IS_DIR) != 0;
	}
	store_sqlite_stmt_done(&b);
	if (oom || rc != SQLITE_DONE) {
		store_files_list_free(list);
		return oom ? error_set(err, ENOMEM, "files", "read the files of task %" PRId64, task_id)
			   : store_sqlite_fail(store, rc, err, "files", "read the files of task %" PRId64,
					       task_id);
	}
	return 0;
}

static int chunk_get(struct store_sqlite *store, int64_t task_id, const char *kind, const char *name,
		     int64_t chunk, char **out, struct error *err)
{
	struct store_sqlite_binder b;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_FILES_CHUNK_GET, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_text(&b, 2, kind);
	store_sqlite_bind_text(&b, 3, name);
	store_sqlite_bind_i64(&b, 4, chunk);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW)
		*out = store_sqlite_read_column_dup(b.stmt, 0, &oom);
	store_sqlite_stmt_done(&b);
	if (oom)
		return error_set(err, ENOMEM, "files", "read a chunk of %s", name);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "files", "read a chunk of %s", name);
	return 0;
}

static int files_locked(struct store_sqlite *store, enum store_sql which, int64_t task_id, const char *kind,
			const struct store_file *f, int64_t chunk, const char *data, int64_t n,
			struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_text(&b, 2, kind);
	store_sqlite_bind_text(&b, 3, f->name);
	if (which == STORE_SQL_FILES_PUT) {
		store_sqlite_bind_i64(&b, 4, f->mode);
		store_sqlite_bind_i64(&b, 5, f->size);
		store_sqlite_bind_text(&b, 6, f->sha256 ? f->sha256 : "");
		store_sqlite_bind_i64(&b, 7, f->truncated);
		store_sqlite_bind_i64(&b, 8, f->is_dir);
	} else {
		store_sqlite_bind_i64(&b, 4, chunk);
		store_sqlite_bind_text(&b, 5, data);
	}
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc == SQLITE_OK && which == STORE_SQL_FILES_CHUNK_PUT) {
		store_sqlite_stmt_start(store, STORE_SQL_FILES_COUNT, &b);
		store_sqlite_bind_i64(&b, 1, task_id);
		store_sqlite_bind_i64(&b, 2, n);
		rc = store_sqlite_stmt_exec(&b, NULL);
	}
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "files", "store %s %s of task %" PRId64, kind,
					 f->name, task_id);
	return 0;
}

int store_sqlite_files_run(struct store *base, enum store_sql which, int64_t task_id, const char *kind,
			   const struct store_file *f, int64_t chunk, const char *data, int64_t n,
			   struct store_file_list *list, char **out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	switch (which) {
	case STORE_SQL_FILES_LIST:
		return list_rows(store, task_id, kind, list, err);
	case STORE_SQL_FILES_CHUNK_GET:
		return chunk_get(store, task_id, kind, f->name, chunk, out, err);
	case STORE_SQL_FILES_PUT:
	case STORE_SQL_FILES_CHUNK_PUT:
		return STORE_SQLITE_IN_TX(store, err,
					  files_locked(store, which, task_id, kind, f, chunk, data, n, err));
	default:
		return error_set(err, EINVAL, "files", "statement %d is not a file's", (int)which);
	}
}

/* The expired tasks, then for each its artifact rows and chunks and the
 * bytes off its stored_bytes. */
static int expire_locked(struct store_sqlite *store, const char *user, int64_t before_us, size_t limit,
			 int64_t *bytes, size_t *tasks, struct error *err)
{
	struct store_sqlite_binder b;
	_cleanup_free_ int64_t *ids = calloc(limit, sizeof(*ids)), *sizes = calloc(limit, sizeof(*sizes));
	size_t n = 0;
	int rc;

	if (!ids || !sizes)
		return error_set(err, ENOMEM, "files", "expire artifacts of %s", user);
	store_sqlite_stmt_start(store, STORE_SQL_FILES_EXPIRED, &b);
	store_sqlite_bind_text(&b, 1, user);
	store_sqlite_bind_i64(&b, 2, before_us);
	store_sqlite_bind_i64(&b, 3, (int64_t)limit);
	while (n < limit && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(b.stmt, 0);
		sizes[n++] = sqlite3_column_int64(b.stmt, 1);
	}
	store_sqlite_stmt_done(&b);
	if (n < limit && rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "files", "find expired artifacts of %s", user);
	for (size_t i = 0; i < n; i++) {
		static const enum store_sql steps[] = { STORE_SQL_FILES_DROP_ARTIFACT_CHUNKS,
							STORE_SQL_FILES_DROP_ARTIFACTS,
							STORE_SQL_FILES_COUNT };

		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			store_sqlite_stmt_start(store, steps[k], &b);
			store_sqlite_bind_i64(&b, 1, ids[i]);
			if (steps[k] == STORE_SQL_FILES_COUNT)
				store_sqlite_bind_i64(&b, 2, -sizes[i]);
			rc = store_sqlite_stmt_exec(&b, NULL);
			if (rc != SQLITE_OK)
				return store_sqlite_fail(store, rc, err, "files",
							 "remove the artifacts of task %" PRId64, ids[i]);
		}
		*bytes += sizes[i];
	}
	*tasks = n;
	return 0;
}

int store_sqlite_files_expire(struct store *base, const char *user, int64_t ended_before_us, size_t limit,
			      int64_t *bytes, size_t *tasks, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r = STORE_SQLITE_IN_TX(store, err,
				   expire_locked(store, user, ended_before_us, limit, bytes, tasks, err));

	if (r < 0)
		*bytes = 0, *tasks = 0;
	return r;
}

/* The bytes of the kind's files, then their chunks and rows, then the
 * bytes off the task's stored_bytes. */
static int drop_locked(struct store_sqlite *store, int64_t task_id, const char *kind, int64_t *bytes,
		       struct error *err)
{
	static const enum store_sql steps[] = { STORE_SQL_FILES_DROP_KIND_CHUNKS, STORE_SQL_FILES_DROP_KIND };
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_FILES_KIND_BYTES, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_text(&b, 2, kind);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW)
		*bytes = sqlite3_column_int64(b.stmt, 0);
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "files", "count the %s files of task %" PRId64, kind,
					 task_id);
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		store_sqlite_stmt_start(store, steps[k], &b);
		store_sqlite_bind_i64(&b, 1, task_id);
		store_sqlite_bind_text(&b, 2, kind);
		rc = store_sqlite_stmt_exec(&b, NULL);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "files",
						 "remove the %s files of task %" PRId64, kind, task_id);
	}
	if (!*bytes)
		return 0;
	store_sqlite_stmt_start(store, STORE_SQL_FILES_COUNT, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_i64(&b, 2, -*bytes);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "files", "count the files of task %" PRId64,
					 task_id);
	return 0;
}

int store_sqlite_files_drop(struct store *base, int64_t task_id, const char *kind, int64_t *bytes,
			    struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r = STORE_SQLITE_IN_TX(store, err, drop_locked(store, task_id, kind, bytes, err));

	if (r < 0)
		*bytes = 0;
	return r;
}
