/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_storage.c — what the SQLite store
 * holds per tenant (the start of corrald's quota counters) and the
 * retention sweep that removes a tenant's oldest ended tasks.  The task
 * statements themselves are in store_sqlite_read.c and _write.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

int store_sqlite_storage_by_user(struct store *base, struct store_storage_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_STORED_BY_USER, &b);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_storage *s;

		if (store_sqlite_read_grow((void **)&out->items, &capacity, out->count, sizeof(*out->items)) <
		    0) {
			oom = true;
			break;
		}
		s = &out->items[out->count];
		s->user = store_sqlite_read_column_dup(b.stmt, 0, &oom);
		s->bytes = sqlite3_column_int64(b.stmt, 1);
		if (oom)
			break;
		out->count++;
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_storage_list_free(out);
		return error_set(err, ENOMEM, "storage", "read the storage of each tenant");
	}
	if (rc != SQLITE_DONE) {
		store_storage_list_free(out);
		return store_sqlite_fail(store, rc, err, "storage", "read the storage of each tenant");
	}
	return 0;
}

/* The rows to remove, then each one's events and row. */
static int purge_locked(struct store_sqlite *store, const char *user, int64_t before_us, size_t limit,
			struct store_purged_list *out, struct error *err)
{
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_PURGE_SELECT, &b);
	store_sqlite_bind_text(&b, 1, user);
	store_sqlite_bind_i64(&b, 2, before_us);
	store_sqlite_bind_i64(&b, 3, (int64_t)limit);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_purged *p;

		if (store_sqlite_read_grow((void **)&out->items, &capacity, out->count, sizeof(*out->items)) <
		    0) {
			oom = true;
			break;
		}
		p = &out->items[out->count];
		p->id = sqlite3_column_int64(b.stmt, 0);
		p->stored_bytes = sqlite3_column_int64(b.stmt, 1);
		p->stdin_path = store_sqlite_read_column_dup(b.stmt, 2, &oom);
		if (oom)
			break;
		out->count++;
	}
	store_sqlite_stmt_done(&b);
	if (oom)
		return error_set(err, ENOMEM, "purge", "purge ended tasks of %s", user);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "purge", "find ended tasks of %s", user);
	for (size_t i = 0; i < out->count; i++) {
		int changes = 0;

		store_sqlite_stmt_start(store, STORE_SQL_PURGE_EVENTS, &b);
		store_sqlite_bind_i64(&b, 1, out->items[i].id);
		rc = store_sqlite_stmt_exec(&b, NULL);
		if (rc == SQLITE_OK) {
			store_sqlite_stmt_start(store, STORE_SQL_CALLBACK_PURGE, &b);
			store_sqlite_bind_i64(&b, 1, out->items[i].id);
			rc = store_sqlite_stmt_exec(&b, NULL);
		}
		for (int k = 0; k < 2 && rc == SQLITE_OK; k++) {
			/* its files: metadata and chunks */
			store_sqlite_stmt_start(store,
						k ? STORE_SQL_FILES_PURGE_CHUNKS : STORE_SQL_FILES_PURGE, &b);
			store_sqlite_bind_i64(&b, 1, out->items[i].id);
			rc = store_sqlite_stmt_exec(&b, NULL);
		}
		if (rc == SQLITE_OK) {
			store_sqlite_stmt_start(store, STORE_SQL_PURGE_TASK, &b);
			store_sqlite_bind_i64(&b, 1, out->items[i].id);
			rc = store_sqlite_stmt_exec(&b, &changes);
		}
		if (rc != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "purge", "remove task %" PRId64,
						 out->items[i].id);
		if (changes != 1)
			return error_set(err, ESTALE, "purge", "remove task %" PRId64 ": it did not end",
					 out->items[i].id);
	}
	return 0;
}

int store_sqlite_storage_purge_ended(struct store *base, const char *user, int64_t ended_before_us,
				     size_t limit, struct store_purged_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r = STORE_SQLITE_IN_TX(store, err, purge_locked(store, user, ended_before_us, limit, out, err));

	if (r < 0)
		store_purged_list_free(out);
	return r;
}
