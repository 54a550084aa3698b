/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_cluster.c — the reads and the
 * batched write of the cluster scheduler's round on SQLite: the unassigned
 * queue (all of it, after an id, one row, its ids or their count), the live
 * load, and a round's assignments in one transaction (a loop of the
 * compare-and-set STORE_SQL_CLUSTER_ASSIGN after one check of the
 * scheduler's lease).  A SQLite store has one host, so corrald never runs
 * a cluster on it (store_cluster_capable is false: no cluster_assign); the
 * round's calls are here so the round can be measured and tested against
 * the single-host store too (tests/bench/bench_cluster_sim.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

int store_sqlite_cluster_tasks(struct store *base, enum store_sql which, int64_t arg,
			       struct store_task_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;

	store_sqlite_stmt_start(store, which, &b);
	if (which != STORE_SQL_CLUSTER_QUEUE)
		store_sqlite_bind_i64(&b, 1, arg);
	return store_sqlite_read_collect(&b, out,
					 which == STORE_SQL_CLUSTER_EXPIRED ||
							 which == STORE_SQL_CLUSTER_STALE
						 ? "read expired leases"
						 : "read the cluster's queue",
					 err);
}

int store_sqlite_cluster_queue_ids(struct store *base, int64_t up_to, int64_t **ids, size_t *count,
				   struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0, n = 0;
	int64_t *items = NULL;
	int rc, r = 0;

	store_sqlite_stmt_start(store, ids ? STORE_SQL_CLUSTER_QUEUE_IDS : STORE_SQL_CLUSTER_QUEUE_COUNT, &b);
	store_sqlite_bind_i64(&b, 1, up_to);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		if (!ids) {
			*count = (size_t)sqlite3_column_int64(b.stmt, 0);
			continue;
		}
		if ((r = store_sqlite_read_grow((void **)&items, &capacity, n, sizeof(*items))) < 0)
			break;
		items[n++] = sqlite3_column_int64(b.stmt, 0);
	}
	store_sqlite_stmt_done(&b);
	if (r < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		free(items);
		if (r < 0)
			return error_set(err, ENOMEM, "queue",
					 "read the ids of the cluster's queue: out of memory");
		return store_sqlite_fail(store, rc, err, "queue", "read the ids of the cluster's queue");
	}
	if (ids) {
		*ids = items ? items : calloc(1, sizeof(*items));
		*count = n;
		if (!*ids)
			return error_set(err, ENOMEM, "queue",
					 "read the ids of the cluster's queue: out of memory");
	}
	return 0;
}

/* The rows of a grouped read of the live load (per user or per node) into out. */
static int live_read(struct store_sqlite *store, enum store_sql which, struct store_live *out,
		     struct error *err)
{
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc, r = 0;

	store_sqlite_stmt_start(store, which, &b);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		if (which == STORE_SQL_CLUSTER_LIVE_USERS) {
			struct store_live_user *u;

			if ((r = store_sqlite_read_grow((void **)&out->users, &capacity, out->n_users,
							sizeof(*out->users))) < 0)
				break;
			u = &out->users[out->n_users++];
			memset(u, 0, sizeof(*u));
			u->user = store_sqlite_read_column_dup(b.stmt, 0, &oom);
			u->live = sqlite3_column_int64(b.stmt, 1);
			u->reserved_us = sqlite3_column_int64(b.stmt, 2);
		} else {
			struct store_live_node *n;

			if ((r = store_sqlite_read_grow((void **)&out->nodes, &capacity, out->n_nodes,
							sizeof(*out->nodes))) < 0)
				break;
			n = &out->nodes[out->n_nodes++];
			memset(n, 0, sizeof(*n));
			n->node = store_sqlite_read_column_dup(b.stmt, 0, &oom);
			n->live = sqlite3_column_int64(b.stmt, 1);
			n->memory_bytes = sqlite3_column_int64(b.stmt, 2);
			n->gpus = sqlite3_column_int64(b.stmt, 3);
			n->cpu_millis = sqlite3_column_int64(b.stmt, 4);
		}
	}
	store_sqlite_stmt_done(&b);
	if (r < 0 || oom)
		return error_set(err, ENOMEM, "live", "read what runs in the cluster: out of memory");
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "live", "read what runs in the cluster");
	return 0;
}

int store_sqlite_cluster_live(struct store *base, struct store_live *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r = live_read(store, STORE_SQL_CLUSTER_LIVE_USERS, out, err);

	if (r == 0)
		r = live_read(store, STORE_SQL_CLUSTER_LIVE_NODES, out, err);
	if (r < 0)
		store_cluster_live_free(out);
	return r;
}

static int fold_locked(struct store_sqlite *store, struct error *err)
{
	static const enum store_sql steps[] = { STORE_SQL_CLUSTER_FOLD_USERS, STORE_SQL_CLUSTER_FOLD_NODES,
						STORE_SQL_CLUSTER_FOLD_CLEAR,
						STORE_SQL_CLUSTER_FOLD_PRUNE_USERS,
						STORE_SQL_CLUSTER_FOLD_PRUNE_NODES };
	struct store_sqlite_binder b;
	int rc;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		store_sqlite_stmt_start(store, steps[i], &b);
		if ((rc = store_sqlite_stmt_exec(&b, NULL)) != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "live", "fold the live load's changes");
	}
	return 0;
}

/* One writer at a time: the deltas read are the deltas cleared. */
int store_sqlite_cluster_live_fold(struct store *base, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, fold_locked(store, err));
}

static int assign_locked(struct store_sqlite *store, int64_t term, const char *leader_incarnation,
			 const struct store_cluster_assign *a, size_t n, bool *assigned, struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes;

	store_sqlite_stmt_start(store, STORE_SQL_CLUSTER_LEADER_HOLDS, &b);
	store_sqlite_bind_i64(&b, 1, term);
	store_sqlite_bind_text(&b, 2, leader_incarnation);
	rc = store_sqlite_stmt_step(&b);
	store_sqlite_stmt_done(&b);
	if (rc == SQLITE_DONE)
		return error_set(err, ESTALE, "assign", "assign: this node is no longer the scheduler");
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "assign", "assign %zu tasks", n);
	for (size_t i = 0; i < n; i++) {
		store_sqlite_stmt_start(store, STORE_SQL_CLUSTER_ASSIGN, &b);
		store_sqlite_bind_i64(&b, 1, a[i].id);
		store_sqlite_bind_text(&b, 2, a[i].node);
		store_sqlite_bind_text(&b, 3, a[i].incarnation);
		store_sqlite_bind_i64(&b, 4, a[i].cpu_limit_us);
		store_sqlite_bind_i64(&b, 5, a[i].budget_capped ? 1 : 0);
		store_sqlite_bind_i64(&b, 6, a[i].memory_bytes);
		store_sqlite_bind_i64(&b, 7, a[0].lease_us);
		store_sqlite_bind_i64(&b, 8, term);
		store_sqlite_bind_text(&b, 9, leader_incarnation);
		if ((rc = store_sqlite_stmt_exec(&b, &changes)) != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "assign", "assign task %" PRId64, a[i].id);
		assigned[i] = changes > 0;
	}
	return 0;
}

int store_sqlite_cluster_assign_many(struct store *base, int64_t term, const char *leader_incarnation,
				     const struct store_cluster_assign *a, size_t n, bool *assigned,
				     struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r;

	for (size_t i = 0; i < n; i++)
		assigned[i] = false;
	r = STORE_SQLITE_IN_TX(store, err,
			       assign_locked(store, term, leader_incarnation, a, n, assigned, err));
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			assigned[i] = false; /* rolled back */
	return r;
}
