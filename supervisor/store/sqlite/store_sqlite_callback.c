/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_callback.c — result webhooks'
 * delivery state on SQLite (store_callback.h), each call one transaction
 * (a savepoint in an open batch).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

static void read_row(sqlite3_stmt *st, struct store_callback *c, bool *oom)
{
	c->task_id = sqlite3_column_int64(st, CBC_TASK_ID);
	c->url = store_sqlite_read_column_dup(st, CBC_URL, oom);
	c->state = store_sqlite_read_column_dup(st, CBC_STATE, oom);
	c->attempts = (uint32_t)sqlite3_column_int64(st, CBC_ATTEMPTS);
	c->next_at_us = sqlite3_column_int64(st, CBC_NEXT_AT);
	c->last_error = store_sqlite_read_column_dup(st, CBC_LAST_ERROR, oom);
	c->delivered_at_us = sqlite3_column_int64(st, CBC_DELIVERED_AT);
}

static int rows(struct store_sqlite *store, enum store_sql which, struct store_callback *one, int64_t now_us,
		int64_t limit, struct store_callback_list *list, struct error *err)
{
	struct store_sqlite_binder b;
	size_t cap = 0;
	bool oom = false, found = false;
	int rc;

	store_sqlite_stmt_start(store, which, &b);
	if (one) {
		store_sqlite_bind_i64(&b, 1, one->task_id);
	} else {
		store_sqlite_bind_i64(&b, 1, now_us);
		store_sqlite_bind_i64(&b, 2, limit);
	}
	while (!oom && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		found = true;
		if (one) {
			read_row(b.stmt, one, &oom);
			continue;
		}
		if (store_sqlite_read_grow((void **)&list->items, &cap, list->count, sizeof(*list->items)) <
		    0) {
			oom = true;
			break;
		}
		memset(&list->items[list->count], 0, sizeof(list->items[0]));
		read_row(b.stmt, &list->items[list->count++], &oom);
	}
	store_sqlite_stmt_done(&b);
	if (oom || rc != SQLITE_DONE) {
		if (one)
			store_callback_clear(one);
		else
			store_callback_list_free(list);
		return oom ? error_set(err, ENOMEM, "callback", "read callbacks")
			   : store_sqlite_fail(store, rc, err, "callback", "read callbacks");
	}
	return one && !found ? -ENOENT : 0;
}

static int callback_locked(struct store_sqlite *store, enum store_sql which, struct store_callback *io,
			   int64_t now_us, int64_t limit, struct store_callback_list *list, struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes = 0;

	if (which == STORE_SQL_CALLBACK_DUE || which == STORE_SQL_CALLBACK_GET)
		return rows(store, which, which == STORE_SQL_CALLBACK_GET ? io : NULL, now_us, limit, list,
			    err);
	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_i64(&b, 1, io->task_id);
	switch (which) {
	case STORE_SQL_CALLBACK_ADD:
		store_sqlite_bind_text(&b, 2, io->url);
		break;
	case STORE_SQL_CALLBACK_CLAIM:
		store_sqlite_bind_i64(&b, 2, now_us);
		store_sqlite_bind_i64(&b, 3, io->next_at_us);
		break;
	case STORE_SQL_CALLBACK_RETRY:
		store_sqlite_bind_i64(&b, 2, io->next_at_us);
		store_sqlite_bind_text(&b, 3, io->last_error);
		break;
	case STORE_SQL_CALLBACK_SETTLE:
		store_sqlite_bind_text(&b, 2, io->state);
		store_sqlite_bind_text(&b, 3, io->last_error);
		store_sqlite_bind_opt_i64(&b, 4, io->delivered_at_us, 0);
		break;
	default:
		store_sqlite_stmt_done(&b);
		return error_set(err, EINVAL, "callback", "statement %d is not a callback's", (int)which);
	}
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "callback", "%s", store_sql_text[which]);
	if (which == STORE_SQL_CALLBACK_CLAIM && !changes)
		return -ESTALE;
	return 0;
}

int store_sqlite_callback_run(struct store *base, enum store_sql which, struct store_callback *io,
			      int64_t now_us, int64_t limit, struct store_callback_list *list,
			      struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, callback_locked(store, which, io, now_us, limit, list, err));
}
