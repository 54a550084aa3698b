/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_node.c — the nodes on SQLite
 * (store_node.h): one corrald, so one node, on the host's clock, which
 * corral_now_us() (registered on the connection here) reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/store/sqlite/store_sqlite.h"

static void now_us_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct timespec ts;

	(void)argc;
	(void)argv;
	clock_gettime(CLOCK_REALTIME, &ts);
	sqlite3_result_int64(ctx, (sqlite3_int64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

int store_sqlite_node_register_clock(struct store_sqlite *store, struct error *err)
{
	int rc = sqlite3_create_function(store->db, "corral_now_us", 0, SQLITE_UTF8, NULL, now_us_fn, NULL,
					 NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "open", "register corral_now_us() on %s",
					 store->path);
	return 0;
}

int store_sqlite_node_count(struct store_sqlite *store, const struct store_node_count *c, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	if (!store->node ||
	    (!c->started && !c->succeeded && !c->failed && !c->cancelled && !c->lost && !c->cpu_us))
		return 0;
	store_sqlite_stmt_start(store, STORE_SQL_NODE_COUNT, &b);
	store_sqlite_bind_text(&b, 1, store->node);
	store_sqlite_bind_i64(&b, 2, c->started);
	store_sqlite_bind_i64(&b, 3, c->succeeded);
	store_sqlite_bind_i64(&b, 4, c->failed);
	store_sqlite_bind_i64(&b, 5, c->cancelled);
	store_sqlite_bind_i64(&b, 6, c->cpu_us);
	store_sqlite_bind_i64(&b, 7, c->lost);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "node", "count on node %s", store->node);
	return 0;
}

/* Binds $1..$2 (name, incarnation) and $3..$7 (what is free), the shape
 * JOIN and HEARTBEAT share from $11 and $3 on. */
static void bind_free(struct store_sqlite_binder *b, int first, const struct store_node *n)
{
	store_sqlite_bind_i64(b, first, n->running);
	store_sqlite_bind_i64(b, first + 1, n->free_slots);
	store_sqlite_bind_i64(b, first + 2, n->free_memory_bytes);
	store_sqlite_bind_i64(b, first + 3, n->free_gpus);
	store_sqlite_bind_i64(b, first + 4, n->load_milli);
}

/* Run JOIN or HEARTBEAT; its one row says the drain flag, none: -ESTALE. */
static int run_returning_draining(struct store_sqlite *store, struct store_sqlite_binder *b, const char *name,
				  const char *step, bool *draining, struct error *err)
{
	bool found = false;
	int rc = store_sqlite_stmt_step(b);

	if (rc == SQLITE_ROW) {
		found = true;
		*draining = sqlite3_column_int64(b->stmt, 0) != 0;
		rc = sqlite3_step(b->stmt);
	}
	store_sqlite_stmt_done(b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, step, "%s of node %s", step, name);
	if (!found)
		return error_set(err, ESTALE, step,
				 "node %s: another corrald joined with this name (this one was replaced)",
				 name);
	return 0;
}

static int join_locked(struct store_sqlite *store, const struct store_node *n, bool *draining,
		       struct error *err)
{
	struct store_sqlite_binder b;

	store_sqlite_stmt_start(store, STORE_SQL_NODE_JOIN, &b);
	store_sqlite_bind_text(&b, 1, n->name);
	store_sqlite_bind_text(&b, 2, n->incarnation);
	store_sqlite_bind_text(&b, 3, n->version);
	store_sqlite_bind_text(&b, 4, n->labels ? n->labels : "");
	store_sqlite_bind_i64(&b, 5, n->offline_after_us);
	store_sqlite_bind_i64(&b, 6, n->cores);
	store_sqlite_bind_i64(&b, 7, n->memory_bytes);
	store_sqlite_bind_i64(&b, 8, n->slots);
	store_sqlite_bind_i64(&b, 9, n->gpus);
	store_sqlite_bind_i64(&b, 10, n->gpu_memory_bytes);
	bind_free(&b, 11, n);
	store_sqlite_bind_i64(&b, 16, n->free_cpu_millis);
	return run_returning_draining(store, &b, n->name, "join", draining, err);
}

int store_sqlite_node_join(struct store *base, const struct store_node *n, bool *draining, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	char *name = strdup(n->name);
	int r;

	if (!name)
		return error_set(err, ENOMEM, "join", "join as node %s", n->name);
	r = STORE_SQLITE_IN_TX(store, err, join_locked(store, n, draining, err));
	if (r < 0) {
		free(name);
		return r;
	}
	free(store->node);
	store->node = name;
	return 0;
}

static int heartbeat_locked(struct store_sqlite *store, const struct store_node *n, bool *draining,
			    struct error *err)
{
	struct store_sqlite_binder b;

	store_sqlite_stmt_start(store, STORE_SQL_NODE_HEARTBEAT, &b);
	store_sqlite_bind_text(&b, 1, n->name);
	store_sqlite_bind_text(&b, 2, n->incarnation);
	bind_free(&b, 3, n);
	store_sqlite_bind_i64(&b, 8, n->offline_after_us);
	store_sqlite_bind_i64(&b, 9, n->slots);
	store_sqlite_bind_i64(&b, 10, n->memory_bytes);
	store_sqlite_bind_i64(&b, 11, n->gpus);
	store_sqlite_bind_i64(&b, 12, n->gpu_memory_bytes);
	store_sqlite_bind_text(&b, 13, n->labels ? n->labels : "");
	store_sqlite_bind_i64(&b, 14, n->free_cpu_millis);
	store_sqlite_bind_i64(&b, 15, n->cores);
	return run_returning_draining(store, &b, n->name, "heartbeat", draining, err);
}

int store_sqlite_node_heartbeat(struct store *base, const struct store_node *n, bool *draining,
				struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, heartbeat_locked(store, n, draining, err));
}

static int update_named(struct store_sqlite *store, enum store_sql which, const char *name, const char *text2,
			int64_t i2, const char *step, struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes = 0;

	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_text(&b, 1, name);
	if (text2)
		store_sqlite_bind_text(&b, 2, text2);
	else
		store_sqlite_bind_i64(&b, 2, i2);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, step, "%s node %s", step, name);
	if (changes == 0)
		return error_set(err, text2 ? ESTALE : ENOENT, step, "%s node %s: %s", step, name,
				 text2 ? "another corrald joined with this name" : "no such node");
	return 0;
}

int store_sqlite_node_leave(struct store *base, const char *name, const char *incarnation, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  update_named(store, STORE_SQL_NODE_LEAVE, name, incarnation, 0, "leave",
					       err));
}

int store_sqlite_node_set_draining(struct store *base, const char *name, bool draining, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  update_named(store, STORE_SQL_NODE_DRAIN, name, NULL, draining ? 1 : 0,
					       draining ? "drain" : "undrain", err));
}

static int64_t row_i64(void *row, int col)
{
	return sqlite3_column_type(row, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(row, col);
}

static char *row_dup(void *row, int col, bool *oom)
{
	return store_sqlite_read_column_dup(row, col, oom);
}

int store_sqlite_node_list(struct store *base, struct store_node_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_NODE_LIST, &b);
	while (!oom && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_node_row_reader rd = { row_i64, row_dup, b.stmt };

		if (out->count == capacity) {
			size_t cap = capacity ? capacity * 2 : 8;
			struct store_node *items = realloc(out->items, cap * sizeof(*items));

			if (!items) {
				oom = true;
				break;
			}
			out->items = items;
			capacity = cap;
		}
		if (store_node_from_row(&out->items[out->count], &rd) < 0)
			oom = true;
		else
			out->count++;
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_node_list_free(out);
		return error_set(err, ENOMEM, "nodes", "list nodes");
	}
	if (rc != SQLITE_DONE) {
		store_node_list_free(out);
		return store_sqlite_fail(store, rc, err, "nodes", "list nodes");
	}
	return 0;
}

/* LEADER_GET into out (no row: nobody ever held the lease). */
static int leader_get(struct store_sqlite *store, struct store_leader *out, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_LEADER_GET, &b);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		snprintf(out->node, sizeof(out->node), "%s", (const char *)sqlite3_column_text(b.stmt, 0));
		snprintf(out->incarnation, sizeof(out->incarnation), "%s",
			 (const char *)sqlite3_column_text(b.stmt, 1));
		out->term = sqlite3_column_int64(b.stmt, 2);
		out->elected_at_us = sqlite3_column_int64(b.stmt, 3);
		out->expires_in_us = sqlite3_column_int64(b.stmt, 4);
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "leader", "read the scheduler's lease");
	return 0;
}

static int leader_locked(struct store_sqlite *store, enum store_sql which, const char *node,
			 const char *incarnation, int64_t lease_us, struct store_leader *out,
			 struct error *err)
{
	struct store_sqlite_binder b;
	bool held = false;
	int rc, r;

	if (which == STORE_SQL_LEADER_RESIGN) {
		store_sqlite_stmt_start(store, which, &b);
		store_sqlite_bind_text(&b, 1, incarnation);
		rc = store_sqlite_stmt_exec(&b, NULL);
		return rc == SQLITE_OK ? 0 : store_sqlite_fail(store, rc, err, "leader", "resign the lease");
	}
	if (which == STORE_SQL_LEADER_ACQUIRE) {
		store_sqlite_stmt_start(store, which, &b);
		store_sqlite_bind_text(&b, 1, node);
		store_sqlite_bind_text(&b, 2, incarnation);
		store_sqlite_bind_i64(&b, 3, lease_us);
		rc = store_sqlite_stmt_step(&b);
		if (rc == SQLITE_ROW) {
			held = true;
			rc = sqlite3_step(b.stmt);
		}
		store_sqlite_stmt_done(&b);
		if (rc != SQLITE_DONE)
			return store_sqlite_fail(store, rc, err, "leader", "take the scheduler's lease as %s",
						 node);
	}
	r = leader_get(store, out, err);
	out->held = held;
	return r;
}

int store_sqlite_node_leader(struct store *base, enum store_sql which, const char *node,
			     const char *incarnation, int64_t lease_us, struct store_leader *out,
			     struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  leader_locked(store, which, node, incarnation, lease_us, out, err));
}
