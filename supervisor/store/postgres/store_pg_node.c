/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_node.c — the nodes on PostgreSQL
 * (store_node.h): the corralds sharing one database, their heartbeats
 * stamped by corral_now_us() on the server (schema migration 4), so a
 * node's age and state come from one clock whatever the nodes' clocks say.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

int store_pg_node_count(struct store_pg *store, const struct store_node_count *c, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	if (!store->node ||
	    (!c->started && !c->succeeded && !c->failed && !c->cancelled && !c->lost && !c->cpu_us))
		return 0;
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, store->node);
	store_pg_param_i64(&p, 2, c->started);
	store_pg_param_i64(&p, 3, c->succeeded);
	store_pg_param_i64(&p, 4, c->failed);
	store_pg_param_i64(&p, 5, c->cancelled);
	store_pg_param_i64(&p, 6, c->cpu_us);
	store_pg_param_i64(&p, 7, c->lost);
	res = store_pg_query(store, STORE_SQL_NODE_COUNT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "node", "count on node %s", store->node);
	PQclear(res);
	return 0;
}

static void param_free(struct store_pg_params *p, int first, const struct store_node *n)
{
	store_pg_param_i64(p, first, n->running);
	store_pg_param_i64(p, first + 1, n->free_slots);
	store_pg_param_i64(p, first + 2, n->free_memory_bytes);
	store_pg_param_i64(p, first + 3, n->free_gpus);
	store_pg_param_i64(p, first + 4, n->load_milli);
}

/* JOIN or HEARTBEAT; its one row says the drain flag, none: -ESTALE. */
static int run_returning_draining(struct store_pg *store, enum store_sql which,
				  const struct store_pg_params *p, const char *name, const char *step,
				  bool *draining, struct error *err)
{
	PGresult *res = store_pg_query(store, which, p);

	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s of node %s", step, name);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return error_set(err, ESTALE, step,
				 "node %s: another corrald joined with this name (this one was replaced)",
				 name);
	}
	*draining = store_pg_i64(res, 0, 0, 0) != 0;
	PQclear(res);
	return 0;
}

static int join_locked(struct store_pg *store, const struct store_node *n, bool *draining, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, n->name);
	store_pg_param_text(&p, 2, n->incarnation);
	store_pg_param_text(&p, 3, n->version);
	store_pg_param_text(&p, 4, n->labels ? n->labels : "");
	store_pg_param_i64(&p, 5, n->offline_after_us);
	store_pg_param_i64(&p, 6, n->cores);
	store_pg_param_i64(&p, 7, n->memory_bytes);
	store_pg_param_i64(&p, 8, n->slots);
	store_pg_param_i64(&p, 9, n->gpus);
	store_pg_param_i64(&p, 10, n->gpu_memory_bytes);
	param_free(&p, 11, n);
	store_pg_param_i64(&p, 16, n->free_cpu_millis);
	return run_returning_draining(store, STORE_SQL_NODE_JOIN, &p, n->name, "join", draining, err);
}

int store_pg_node_join(struct store *base, const struct store_node *n, bool *draining, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	char *name = strdup(n->name);
	int r;

	if (!name)
		return error_set(err, ENOMEM, "join", "join as node %s", n->name);
	r = STORE_PG_IN_TX(store, err, join_locked(store, n, draining, err));
	if (r < 0) {
		free(name);
		return r;
	}
	free(store->node);
	store->node = name;
	return 0;
}

static int heartbeat_locked(struct store_pg *store, const struct store_node *n, bool *draining,
			    struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, n->name);
	store_pg_param_text(&p, 2, n->incarnation);
	param_free(&p, 3, n);
	store_pg_param_i64(&p, 8, n->offline_after_us);
	store_pg_param_i64(&p, 9, n->slots);
	store_pg_param_i64(&p, 10, n->memory_bytes);
	store_pg_param_i64(&p, 11, n->gpus);
	store_pg_param_i64(&p, 12, n->gpu_memory_bytes);
	store_pg_param_text(&p, 13, n->labels ? n->labels : "");
	store_pg_param_i64(&p, 14, n->free_cpu_millis);
	store_pg_param_i64(&p, 15, n->cores);
	return run_returning_draining(store, STORE_SQL_NODE_HEARTBEAT, &p, n->name, "heartbeat", draining,
				      err);
}

int store_pg_node_heartbeat(struct store *base, const struct store_node *n, bool *draining, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, heartbeat_locked(store, n, draining, err));
}

static int update_named(struct store_pg *store, enum store_sql which, const char *name, const char *text2,
			int64_t i2, const char *step, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	int changes;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, name);
	if (text2)
		store_pg_param_text(&p, 2, text2);
	else
		store_pg_param_i64(&p, 2, i2);
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s node %s", step, name);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return error_set(err, text2 ? ESTALE : ENOENT, step, "%s node %s: %s", step, name,
				 text2 ? "another corrald joined with this name" : "no such node");
	return 0;
}

int store_pg_node_leave(struct store *base, const char *name, const char *incarnation, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err,
			      update_named(store, STORE_SQL_NODE_LEAVE, name, incarnation, 0, "leave", err));
}

int store_pg_node_set_draining(struct store *base, const char *name, bool draining, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err,
			      update_named(store, STORE_SQL_NODE_DRAIN, name, NULL, draining ? 1 : 0,
					   draining ? "drain" : "undrain", err));
}

struct pg_row {
	const PGresult *res;
	int row;
};

static int64_t row_i64(void *row, int col)
{
	const struct pg_row *r = row;

	return store_pg_i64(r->res, r->row, col, 0);
}

static char *row_dup(void *row, int col, bool *oom)
{
	const struct pg_row *r = row;

	return store_pg_dup(r->res, r->row, col, oom);
}

int store_pg_node_list(struct store *base, struct store_node_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows;

	store_pg_params_init(&p);
	res = store_pg_query(store, STORE_SQL_NODE_LIST, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "nodes", "list nodes");
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct pg_row row = { res, i };
		struct store_node_row_reader rd = { row_i64, row_dup, &row };

		if (store_node_from_row(&out->items[i], &rd) < 0)
			oom = true;
		else
			out->count++;
	}
	PQclear(res);
	if (oom) {
		store_node_list_free(out);
		return error_set(err, ENOMEM, "nodes", "list nodes");
	}
	return 0;
}

static int leader_locked(struct store_pg *store, enum store_sql which, const char *node,
			 const char *incarnation, int64_t lease_us, struct store_leader *out,
			 struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool held = false;

	store_pg_params_init(&p);
	if (which == STORE_SQL_LEADER_RESIGN) {
		store_pg_param_text(&p, 1, incarnation);
		res = store_pg_query(store, which, &p);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "leader", "resign the lease");
		PQclear(res);
		return 0;
	}
	if (which == STORE_SQL_LEADER_ACQUIRE) {
		store_pg_param_text(&p, 1, node);
		store_pg_param_text(&p, 2, incarnation);
		store_pg_param_i64(&p, 3, lease_us);
		res = store_pg_query(store, which, &p);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "leader",
						   "take the scheduler's lease as %s", node);
		held = PQntuples(res) > 0;
		PQclear(res);
		store_pg_params_init(&p);
	}
	res = store_pg_query(store, STORE_SQL_LEADER_GET, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "leader", "read the scheduler's lease");
	if (PQntuples(res) > 0) {
		snprintf(out->node, sizeof(out->node), "%s", PQgetvalue(res, 0, 0));
		snprintf(out->incarnation, sizeof(out->incarnation), "%s", PQgetvalue(res, 0, 1));
		out->term = store_pg_i64(res, 0, 2, 0);
		out->elected_at_us = store_pg_i64(res, 0, 3, 0);
		out->expires_in_us = store_pg_i64(res, 0, 4, 0);
	}
	PQclear(res);
	out->held = held;
	return 0;
}

int store_pg_node_leader(struct store *base, enum store_sql which, const char *node, const char *incarnation,
			 int64_t lease_us, struct store_leader *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, leader_locked(store, which, node, incarnation, lease_us, out, err));
}
