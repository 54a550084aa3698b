/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_storage.c — what the PostgreSQL store
 * holds per tenant (the start of corrald's quota counters) and the
 * retention sweep that removes a tenant's oldest ended tasks (the same
 * statements as SQLite's, store_sql.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

int store_pg_storage_by_user(struct store *base, struct store_storage_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows;

	store_pg_params_init(&p);
	res = store_pg_query(store, STORE_SQL_STORED_BY_USER, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "storage", "read the storage of each tenant");
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct store_storage *s = &out->items[out->count++];

		s->user = store_pg_dup(res, i, 0, &oom);
		s->bytes = store_pg_i64(res, i, 1, 0);
	}
	PQclear(res);
	if (oom) {
		store_storage_list_free(out);
		return error_set(err, ENOMEM, "storage", "read the storage of each tenant");
	}
	return 0;
}

/* One statement on one task id; the rows it changed through *changes. */
static int exec_on_task(struct store_pg *store, enum store_sql which, int64_t id, int *changes,
			struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "purge", "remove task %" PRId64, id);
	*changes = store_pg_changes(res);
	PQclear(res);
	return 0;
}

/* The rows to remove, then each one's events and row.  Starts from an
 * empty list: STORE_PG_IN_TX may run it again. */
static int purge_locked(struct store_pg *store, const char *user, int64_t before_us, size_t limit,
			struct store_purged_list *out, struct error *err)
{
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows, r, changes;

	store_purged_list_free(out);
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, user);
	store_pg_param_i64(&p, 2, before_us);
	store_pg_param_i64(&p, 3, (int64_t)limit);
	res = store_pg_query(store, STORE_SQL_PURGE_SELECT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "purge", "find ended tasks of %s", user);
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct store_purged *pr = &out->items[out->count++];

		pr->id = store_pg_i64(res, i, 0, 0);
		pr->stored_bytes = store_pg_i64(res, i, 1, 0);
		pr->stdin_path = store_pg_dup(res, i, 2, &oom);
	}
	PQclear(res);
	if (oom)
		return error_set(err, ENOMEM, "purge", "purge ended tasks of %s", user);
	for (size_t i = 0; i < out->count; i++) {
		r = exec_on_task(store, STORE_SQL_PURGE_OUTPUT, out->items[i].id, &changes, err);
		if (r == 0)
			r = exec_on_task(store, STORE_SQL_PURGE_EVENTS, out->items[i].id, &changes, err);
		if (r == 0)
			r = exec_on_task(store, STORE_SQL_CALLBACK_PURGE, out->items[i].id, &changes, err);
		if (r == 0)
			r = exec_on_task(store, STORE_SQL_FILES_PURGE, out->items[i].id, &changes, err);
		if (r == 0)
			r = exec_on_task(store, STORE_SQL_FILES_PURGE_CHUNKS, out->items[i].id, &changes,
					 err);
		if (r == 0)
			r = exec_on_task(store, STORE_SQL_PURGE_TASK, out->items[i].id, &changes, err);
		if (r < 0)
			return r;
		if (changes != 1)
			return error_set(err, ESTALE, "purge", "remove task %" PRId64 ": it did not end",
					 out->items[i].id);
	}
	return 0;
}

int store_pg_storage_purge_ended(struct store *base, const char *user, int64_t ended_before_us, size_t limit,
				 struct store_purged_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	int r = STORE_PG_IN_TX(store, err, purge_locked(store, user, ended_before_us, limit, out, err));

	if (r < 0)
		store_purged_list_free(out);
	return r;
}
