/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_token.c — API tokens and idempotency
 * keys on PostgreSQL (store_token.h), each call one transaction (a
 * savepoint in an open batch).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

static char *dup_col(const PGresult *res, int row, int col, bool *oom)
{
	char *c = store_pg_dup(res, row, col, oom);

	if (!c && !*oom && !(c = strdup("")))
		*oom = true;
	return c;
}

static void read_row(const PGresult *res, int row, struct store_token *t, bool *oom)
{
	t->id = store_pg_i64(res, row, TKC_ID, 0);
	t->name = dup_col(res, row, TKC_NAME, oom);
	t->tenant = dup_col(res, row, TKC_TENANT, oom);
	t->operator_ = store_pg_i64(res, row, TKC_OPERATOR, 0) != 0;
	snprintf(t->hash, sizeof(t->hash), "%s", PQgetvalue(res, row, TKC_HASH));
	t->created_at_us = store_pg_i64(res, row, TKC_CREATED_AT, 0);
	t->last_used_at_us = store_pg_i64(res, row, TKC_LAST_USED_AT, 0);
	t->expires_at_us = store_pg_i64(res, row, TKC_EXPIRES_AT, 0);
	t->revoked_at_us = store_pg_i64(res, row, TKC_REVOKED_AT, 0);
}

static int token_locked(struct store_pg *store, enum store_sql which, struct store_token *io, int64_t *id,
			struct store_token_list *list, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n, changes;

	store_pg_params_init(&p);
	switch (which) {
	case STORE_SQL_TOKEN_INSERT:
		store_pg_param_text(&p, 1, io->hash);
		store_pg_param_text(&p, 2, io->name);
		store_pg_param_text(&p, 3, io->tenant);
		store_pg_param_i64(&p, 4, io->operator_);
		store_pg_param_i64(&p, 5, io->created_at_us);
		store_pg_param_opt_i64(&p, 6, io->expires_at_us, 0);
		break;
	case STORE_SQL_TOKEN_USE:
		store_pg_param_text(&p, 1, io->hash);
		store_pg_param_i64(&p, 2, io->last_used_at_us);
		break;
	case STORE_SQL_TOKEN_TOUCH:
		store_pg_param_i64(&p, 1, io->id);
		store_pg_param_i64(&p, 2, io->last_used_at_us);
		store_pg_param_i64(&p, 3, io->last_used_at_us - STORE_TOKEN_TOUCH_US);
		break;
	case STORE_SQL_TOKEN_LIST:
		break;
	case STORE_SQL_TOKEN_REVOKE:
		store_pg_param_i64(&p, 1, io->id);
		store_pg_param_i64(&p, 2, io->revoked_at_us);
		break;
	case STORE_SQL_IDEMPOTENCY_PUT:
		store_pg_param_i64(&p, 3, *id);
		store_pg_param_i64(&p, 4, io->created_at_us);
		/* fall through */
	case STORE_SQL_IDEMPOTENCY_GET:
		store_pg_param_text(&p, 1, io->tenant);
		store_pg_param_text(&p, 2, io->name);
		break;
	default:
		return error_set(err, EINVAL, "token", "statement %d is not a token's", (int)which);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "token", "%s", store_sql_text[which]);
	if (which == STORE_SQL_TOKEN_TOUCH) {
		PQclear(res);
		return 0;
	}
	if (which == STORE_SQL_TOKEN_REVOKE || which == STORE_SQL_IDEMPOTENCY_PUT) {
		changes = store_pg_changes(res);
		PQclear(res);
		if (changes)
			return 0;
		return which == STORE_SQL_IDEMPOTENCY_PUT
			? -EEXIST
			: error_set(err, ENOENT, "token", "no live token %lld", (long long)io->id);
	}
	n = PQntuples(res);
	if (which == STORE_SQL_TOKEN_LIST) {
		list->items = n ? calloc((size_t)n, sizeof(*list->items)) : NULL;
		if (n && !list->items)
			oom = true;
		for (int i = 0; !oom && i < n; i++)
			read_row(res, i, &list->items[list->count++], &oom);
		PQclear(res);
		if (oom) {
			store_token_list_free(list);
			return error_set(err, ENOMEM, "token", "list tokens");
		}
		return 0;
	}
	if (n == 0) {
		PQclear(res);
		return -ENOENT;
	}
	int64_t now = io ? io->last_used_at_us : 0;

	if (which == STORE_SQL_TOKEN_INSERT || which == STORE_SQL_IDEMPOTENCY_GET)
		*id = store_pg_i64(res, 0, 0, 0);
	else
		read_row(res, 0, io, &oom);
	PQclear(res);
	if (oom) {
		store_token_clear(io);
		return error_set(err, ENOMEM, "token", "read a token");
	}
	if (which == STORE_SQL_TOKEN_USE &&
	    (io->last_used_at_us == 0 || io->last_used_at_us < now - STORE_TOKEN_TOUCH_US)) {
		io->last_used_at_us = now;
		return token_locked(store, STORE_SQL_TOKEN_TOUCH, io, id, list, err);
	}
	return 0;
}

int store_pg_token_run(struct store *base, enum store_sql which, struct store_token *io, int64_t *id,
		       struct store_token_list *list, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, token_locked(store, which, io, id, list, err));
}
