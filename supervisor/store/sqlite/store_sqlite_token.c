/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_token.c — API tokens and idempotency
 * keys on SQLite (store_token.h), each call one transaction (a savepoint in
 * an open batch).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

static char *dup_col(sqlite3_stmt *st, int col, bool *oom)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	char *c = strdup(t ? t : "");

	if (!c)
		*oom = true;
	return c;
}

static void read_row(sqlite3_stmt *st, struct store_token *t, bool *oom)
{
	const char *h = (const char *)sqlite3_column_text(st, TKC_HASH);

	t->id = sqlite3_column_int64(st, TKC_ID);
	t->name = dup_col(st, TKC_NAME, oom);
	t->tenant = dup_col(st, TKC_TENANT, oom);
	t->operator_ = sqlite3_column_int64(st, TKC_OPERATOR) != 0;
	snprintf(t->hash, sizeof(t->hash), "%s", h ? h : "");
	t->created_at_us = sqlite3_column_int64(st, TKC_CREATED_AT);
	t->last_used_at_us = sqlite3_column_int64(st, TKC_LAST_USED_AT);
	t->expires_at_us = sqlite3_column_int64(st, TKC_EXPIRES_AT);
	t->revoked_at_us = sqlite3_column_int64(st, TKC_REVOKED_AT);
}

static int token_list(struct store_sqlite *store, struct store_token_list *out, struct error *err)
{
	struct store_sqlite_binder b;
	size_t cap = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_TOKEN_LIST, &b);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		if (out->count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct store_token *p = realloc(out->items, ncap * sizeof(*p));

			if (!p) {
				oom = true;
				break;
			}
			out->items = p;
			cap = ncap;
		}
		memset(&out->items[out->count], 0, sizeof(out->items[0]));
		read_row(b.stmt, &out->items[out->count++], &oom);
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_token_list_free(out);
		return error_set(err, ENOMEM, "token", "list tokens");
	}
	if (rc != SQLITE_DONE) {
		store_token_list_free(out);
		return store_sqlite_fail(store, rc, err, "token", "list tokens");
	}
	return 0;
}

static int token_locked(struct store_sqlite *store, enum store_sql which, struct store_token *io, int64_t *id,
			struct store_token_list *list, struct error *err)
{
	struct store_sqlite_binder b;
	bool oom = false, found = false, touch = false;
	int rc, changes = 0;

	if (which == STORE_SQL_TOKEN_LIST)
		return token_list(store, list, err);
	store_sqlite_stmt_start(store, which, &b);
	switch (which) {
	case STORE_SQL_TOKEN_INSERT:
		store_sqlite_bind_text(&b, 1, io->hash);
		store_sqlite_bind_text(&b, 2, io->name);
		store_sqlite_bind_text(&b, 3, io->tenant);
		store_sqlite_bind_i64(&b, 4, io->operator_);
		store_sqlite_bind_i64(&b, 5, io->created_at_us);
		store_sqlite_bind_opt_i64(&b, 6, io->expires_at_us, 0);
		break;
	case STORE_SQL_TOKEN_USE:
		store_sqlite_bind_text(&b, 1, io->hash);
		store_sqlite_bind_i64(&b, 2, io->last_used_at_us);
		break;
	case STORE_SQL_TOKEN_TOUCH:
		store_sqlite_bind_i64(&b, 1, io->id);
		store_sqlite_bind_i64(&b, 2, io->last_used_at_us);
		store_sqlite_bind_i64(&b, 3, io->last_used_at_us - STORE_TOKEN_TOUCH_US);
		rc = store_sqlite_stmt_exec(&b, NULL);
		return rc == SQLITE_OK ? 0
				       : store_sqlite_fail(store, rc, err, "token", "record a token's use");
	case STORE_SQL_TOKEN_REVOKE:
		store_sqlite_bind_i64(&b, 1, io->id);
		store_sqlite_bind_i64(&b, 2, io->revoked_at_us);
		rc = store_sqlite_stmt_exec(&b, &changes);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "token", "revoke token %lld",
						 (long long)io->id);
		return changes ? 0 : error_set(err, ENOENT, "token", "no live token %lld", (long long)io->id);
	case STORE_SQL_IDEMPOTENCY_GET:
	case STORE_SQL_IDEMPOTENCY_PUT:
		store_sqlite_bind_text(&b, 1, io->tenant);
		store_sqlite_bind_text(&b, 2, io->name);
		if (which == STORE_SQL_IDEMPOTENCY_GET)
			break;
		store_sqlite_bind_i64(&b, 3, *id);
		store_sqlite_bind_i64(&b, 4, io->created_at_us);
		rc = store_sqlite_stmt_exec(&b, &changes);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "idempotency",
						 "remember an idempotency key");
		return changes ? 0 : -EEXIST;
	default:
		store_sqlite_stmt_done(&b);
		return error_set(err, EINVAL, "token", "statement %d is not a token's", (int)which);
	}
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		int64_t now = io ? io->last_used_at_us : 0;

		found = true;
		if (which == STORE_SQL_TOKEN_INSERT || which == STORE_SQL_IDEMPOTENCY_GET)
			*id = sqlite3_column_int64(b.stmt, 0);
		else
			read_row(b.stmt, io, &oom);
		if (which == STORE_SQL_TOKEN_USE &&
		    (io->last_used_at_us == 0 || io->last_used_at_us < now - STORE_TOKEN_TOUCH_US)) {
			io->last_used_at_us = now;
			touch = true;
		}
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_token_clear(io);
		return error_set(err, ENOMEM, "token", "read a token");
	}
	if (rc == SQLITE_CONSTRAINT)
		return error_set(err, EEXIST, "token", "a token with this hash exists");
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "token", "%s", store_sql_text[which]);
	if (touch)
		return token_locked(store, STORE_SQL_TOKEN_TOUCH, io, id, list, err);
	return found ? 0 : -ENOENT;
}

int store_sqlite_token_run(struct store *base, enum store_sql which, struct store_token *io, int64_t *id,
			   struct store_token_list *list, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, token_locked(store, which, io, id, list, err));
}
