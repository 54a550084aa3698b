/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_callback.c — result webhooks'
 * delivery state on PostgreSQL (store_callback.h), each call one
 * transaction (a savepoint in an open batch).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

static void read_row(const PGresult *res, int row, struct store_callback *c, bool *oom)
{
	c->task_id = store_pg_i64(res, row, CBC_TASK_ID, 0);
	c->url = store_pg_dup(res, row, CBC_URL, oom);
	c->state = store_pg_dup(res, row, CBC_STATE, oom);
	c->attempts = (uint32_t)store_pg_i64(res, row, CBC_ATTEMPTS, 0);
	c->next_at_us = store_pg_i64(res, row, CBC_NEXT_AT, 0);
	c->last_error = store_pg_dup(res, row, CBC_LAST_ERROR, oom);
	c->delivered_at_us = store_pg_i64(res, row, CBC_DELIVERED_AT, 0);
}

static int callback_locked(struct store_pg *store, enum store_sql which, struct store_callback *io,
			   int64_t now_us, int64_t limit, struct store_callback_list *list, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n, changes;

	store_pg_params_init(&p);
	switch (which) {
	case STORE_SQL_CALLBACK_DUE:
		store_pg_param_i64(&p, 1, now_us);
		store_pg_param_i64(&p, 2, limit);
		break;
	case STORE_SQL_CALLBACK_GET:
		store_pg_param_i64(&p, 1, io->task_id);
		break;
	case STORE_SQL_CALLBACK_ADD:
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_text(&p, 2, io->url);
		break;
	case STORE_SQL_CALLBACK_CLAIM:
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_i64(&p, 2, now_us);
		store_pg_param_i64(&p, 3, io->next_at_us);
		break;
	case STORE_SQL_CALLBACK_RETRY:
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_i64(&p, 2, io->next_at_us);
		store_pg_param_text(&p, 3, io->last_error);
		break;
	case STORE_SQL_CALLBACK_SETTLE:
		store_pg_param_i64(&p, 1, io->task_id);
		store_pg_param_text(&p, 2, io->state);
		store_pg_param_text(&p, 3, io->last_error);
		store_pg_param_opt_i64(&p, 4, io->delivered_at_us, 0);
		break;
	default:
		return error_set(err, EINVAL, "callback", "statement %d is not a callback's", (int)which);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "callback", "%s", store_sql_text[which]);
	if (which != STORE_SQL_CALLBACK_DUE && which != STORE_SQL_CALLBACK_GET) {
		changes = store_pg_changes(res);
		PQclear(res);
		return which == STORE_SQL_CALLBACK_CLAIM && !changes ? -ESTALE : 0;
	}
	n = PQntuples(res);
	if (which == STORE_SQL_CALLBACK_GET) {
		if (n)
			read_row(res, 0, io, &oom);
	} else {
		if (n && !(list->items = calloc((size_t)n, sizeof(*list->items))))
			oom = true;
		for (int i = 0; !oom && i < n; i++)
			read_row(res, i, &list->items[list->count++], &oom);
	}
	PQclear(res);
	if (oom) {
		if (which == STORE_SQL_CALLBACK_GET)
			store_callback_clear(io);
		else
			store_callback_list_free(list);
		return error_set(err, ENOMEM, "callback", "read callbacks");
	}
	return which == STORE_SQL_CALLBACK_GET && n == 0 ? -ENOENT : 0;
}

int store_pg_callback_run(struct store *base, enum store_sql which, struct store_callback *io, int64_t now_us,
			  int64_t limit, struct store_callback_list *list, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, callback_locked(store, which, io, now_us, limit, list, err));
}
