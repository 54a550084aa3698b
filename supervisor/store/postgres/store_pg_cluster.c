/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_cluster.c — the cluster on PostgreSQL
 * (supervisor/store/store_cluster.h): assignments fenced by the
 * scheduler's term, lease renewal in one statement, adoption, the live
 * load, the unassigned queue and expired leases.  Times on the database's
 * clock (corral_now_us()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

void store_pg_cluster_fence(struct store *base, const char *incarnation)
{
	struct store_pg *store = store_pg_of(base);

	free(store->fence);
	store->fence = incarnation ? strdup(incarnation) : NULL;
}

int store_pg_cluster_check_fence(struct store_pg *store, int64_t id, const char *owner, const char *step,
				 struct error *err)
{
	if (!store->fence || (owner && strcmp(owner, store->fence) == 0))
		return 0;
	return error_set(err, ESTALE, step,
			 "%s task %" PRId64 ": this node no longer holds its lease (%s): it commits nothing",
			 step, id, owner ? "another node incarnation holds it" : "nobody holds it");
}

/* One guarded UPDATE of the scheduler's: -ESTALE when it matched nothing. */
static int scheduler_update(struct store_pg *store, enum store_sql which, const struct store_pg_params *p,
			    int64_t id, const char *step, struct error *err)
{
	PGresult *res = store_pg_query(store, which, p);
	int changes;

	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s task %" PRId64, step, id);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return error_set(err, ESTALE, step,
				 "%s task %" PRId64
				 ": it is no longer queued and free, or this node is no longer the scheduler",
				 step, id);
	return 0;
}

int store_pg_cluster_assign(struct store *base, int64_t term, const char *leader_incarnation,
			    const struct store_cluster_assign *a, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, a->id);
	store_pg_param_text(&p, 2, a->node);
	store_pg_param_text(&p, 3, a->incarnation);
	store_pg_param_i64(&p, 4, a->cpu_limit_us);
	store_pg_param_i64(&p, 5, a->budget_capped ? 1 : 0);
	store_pg_param_i64(&p, 6, a->memory_bytes);
	store_pg_param_i64(&p, 7, a->lease_us);
	store_pg_param_i64(&p, 8, term);
	store_pg_param_text(&p, 9, leader_incarnation);
	return scheduler_update(store, STORE_SQL_CLUSTER_ASSIGN, &p, a->id, "assign", err);
}

int store_pg_cluster_unassign(struct store *base, int64_t term, const char *leader_incarnation, int64_t id,
			      const char *owner, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_text(&p, 2, owner);
	store_pg_param_i64(&p, 3, term);
	store_pg_param_text(&p, 4, leader_incarnation);
	return scheduler_update(store, STORE_SQL_CLUSTER_UNASSIGN, &p, id, "unassign", err);
}

int store_pg_cluster_renew(struct store *base, const char *incarnation, int64_t lease_us,
			   struct store_lease_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;
	int rows;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, incarnation);
	store_pg_param_i64(&p, 2, lease_us);
	res = store_pg_query(store, STORE_SQL_CLUSTER_RENEW, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "renew", "renew the leases of this node");
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items)))) {
		PQclear(res);
		return error_set(err, ENOMEM, "renew", "renew: out of memory");
	}
	for (int i = 0; i < rows; i++) {
		struct store_lease *l = &out->items[out->count++];

		l->id = store_pg_i64(res, i, 0, 0);
		l->running = strcmp(PQgetvalue(res, i, 1), "running") == 0;
		l->cancel_requested = store_pg_i64(res, i, 2, 0) != 0;
	}
	PQclear(res);
	return 0;
}

int store_pg_cluster_adopt(struct store *base, const char *node, const char *incarnation, int64_t lease_us,
			   int64_t *count, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	if (!node) { /* store_cluster_release */
		store_pg_param_text(&p, 1, incarnation);
		res = store_pg_query(store, STORE_SQL_CLUSTER_RELEASE, &p);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "release",
						   "give back this node's assignments");
		*count = store_pg_changes(res);
		PQclear(res);
		return 0;
	}
	store_pg_param_text(&p, 1, node);
	store_pg_param_text(&p, 2, incarnation);
	store_pg_param_i64(&p, 3, lease_us);
	res = store_pg_query(store, STORE_SQL_CLUSTER_ADOPT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "adopt", "take back the tasks of node %s", node);
	*count = store_pg_changes(res);
	PQclear(res);
	return 0;
}

int store_pg_cluster_load_running(struct store *base, const char *incarnation, struct store_task_list *out,
				  struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, incarnation);
	return store_pg_read_collect(store_pg_of(base), STORE_SQL_CLUSTER_LOAD_RUNNING, &p, out,
				     "load this node's running tasks", err);
}

int store_pg_cluster_tasks(struct store *base, enum store_sql which, int64_t grace_us,
			   struct store_task_list *out, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	if (which != STORE_SQL_CLUSTER_QUEUE)
		store_pg_param_i64(&p, 1, grace_us);
	return store_pg_read_collect(store_pg_of(base), which, &p, out,
				     which == STORE_SQL_CLUSTER_EXPIRED || which == STORE_SQL_CLUSTER_STALE
					     ? "read expired leases"
					     : "read the cluster's queue",
				     err);
}

int store_pg_cluster_queue_ids(struct store *base, int64_t up_to, int64_t **ids, size_t *count,
			       struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;
	int rows;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, up_to);
	res = store_pg_query(store, ids ? STORE_SQL_CLUSTER_QUEUE_IDS : STORE_SQL_CLUSTER_QUEUE_COUNT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "queue", "read the ids of the cluster's queue");
	rows = PQntuples(res);
	if (!ids) {
		*count = rows > 0 ? (size_t)store_pg_i64(res, 0, 0, 0) : 0;
		PQclear(res);
		return 0;
	}
	*ids = calloc((size_t)rows + 1, sizeof(**ids));
	if (!*ids) {
		PQclear(res);
		return error_set(err, ENOMEM, "queue", "read the ids of the cluster's queue: out of memory");
	}
	for (int i = 0; i < rows; i++)
		(*ids)[i] = store_pg_i64(res, i, 0, 0);
	*count = (size_t)rows;
	PQclear(res);
	return 0;
}

int store_pg_cluster_analyze(struct store *base, struct error *err)
{
	return store_pg_exec(store_pg_of(base), "ANALYZE tasks", err, "analyze");
}

/* ---- assignments in one statement ------------------------------------------ */

/* Every pick of a scheduling round in one UPDATE, fenced by the term like
 * STORE_SQL_CLUSTER_ASSIGN; it returns the ids it assigned, and a row 0
 * while the caller still holds the scheduler's lease (so "nothing assigned"
 * tells "deposed" from "every pick was cancelled or taken meanwhile").
 * PostgreSQL only (arrays), hence here and not in store_sql.c. */
static const char assign_many_sql[] =
	"WITH l AS (SELECT 1 FROM leader WHERE id = 1 AND term = $1 AND incarnation = $2 "
	"AND expires_at_us > corral_now_us()), "
	"v AS (SELECT * FROM unnest(CAST($3 AS BIGINT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), "
	"CAST($6 AS BIGINT[]), CAST($7 AS INTEGER[]), CAST($8 AS BIGINT[])) "
	"AS v(id, node, owner, cpu, capped, mem)), "
	/* the rows locked in id order: two assigners (a deposed scheduler and
	 * its successor) wait for each other instead of deadlocking */
	"k AS (SELECT t.id FROM tasks t JOIN v ON v.id = t.id WHERE t.state = 'queued' "
	"AND t.lease_owner IS NULL AND EXISTS (SELECT 1 FROM l) ORDER BY t.id FOR UPDATE OF t), "
	"u AS (UPDATE tasks t SET lease_owner = v.owner, node_name = v.node, "
	"lease_until_us = corral_now_us() + CAST($9 AS BIGINT), cpu_reserved_us = v.cpu, "
	"assigned_capped = v.capped, assigned_memory_bytes = v.mem FROM v "
	"WHERE t.id = v.id AND t.id IN (SELECT id FROM k) AND t.state = 'queued' AND t.lease_owner IS NULL "
	"RETURNING t.id) "
	"SELECT id FROM u UNION ALL SELECT 0 FROM l";

struct text_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct text_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *more = realloc(b->s, cap);

		if (!more) {
			b->oom = true;
			return;
		}
		b->s = more;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* An element of an array literal: numbers as they are, text quoted. */
static void buf_elem(struct text_buf *b, size_t i, const char *text, int64_t number)
{
	char num[24];

	buf_add(b, i ? "," : "{", 1);
	if (!text) {
		snprintf(num, sizeof(num), "%" PRId64, number);
		buf_add(b, num, strlen(num));
		return;
	}
	buf_add(b, "\"", 1);
	for (const char *c = text; *c; c++) {
		if (*c == '"' || *c == '\\')
			buf_add(b, "\\", 1);
		buf_add(b, c, 1);
	}
	buf_add(b, "\"", 1);
}

int store_pg_cluster_assign_many(struct store *base, int64_t term, const char *leader_incarnation,
				 const struct store_cluster_assign *a, size_t n, bool *assigned,
				 struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct text_buf cols[6] = { 0 };
	const char *values[9];
	char term_s[24], lease_s[24];
	bool leader = false;
	PGresult *res;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		assigned[i] = false;
		buf_elem(&cols[0], i, NULL, a[i].id);
		buf_elem(&cols[1], i, a[i].node, 0);
		buf_elem(&cols[2], i, a[i].incarnation, 0);
		buf_elem(&cols[3], i, NULL, a[i].cpu_limit_us);
		buf_elem(&cols[4], i, NULL, a[i].budget_capped ? 1 : 0);
		buf_elem(&cols[5], i, NULL, a[i].memory_bytes);
	}
	for (int c = 0; c < 6; c++)
		buf_add(&cols[c], "}", 1);
	for (int c = 0; c < 6; c++)
		if (cols[c].oom)
			r = error_set(err, ENOMEM, "assign", "assign %zu tasks: out of memory", n);
	if (r < 0)
		goto out;
	snprintf(term_s, sizeof(term_s), "%" PRId64, term);
	snprintf(lease_s, sizeof(lease_s), "%" PRId64, a[0].lease_us);
	values[0] = term_s;
	values[1] = leader_incarnation;
	for (int c = 0; c < 6; c++)
		values[2 + c] = cols[c].s;
	values[8] = lease_s;
	res = PQexecParams(store->conn, assign_many_sql, 9, NULL, values, NULL, NULL, 0);
	if (!store_pg_ok(res)) {
		r = store_pg_error_fail(store, res, err, "assign", "assign %zu tasks", n);
		goto out;
	}
	/* the ids come back in no particular order; n is a round's picks */
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t id = store_pg_i64(res, row, 0, -1);

		if (id == 0)
			leader = true;
		for (size_t i = 0; id > 0 && i < n; i++)
			if (a[i].id == id)
				assigned[i] = true;
	}
	PQclear(res);
	if (!leader)
		r = error_set(err, ESTALE, "assign", "assign: this node is no longer the scheduler");
out:
	for (int c = 0; c < 6; c++)
		free(cols[c].s);
	return r;
}

static int live_rows(struct store_pg *store, enum store_sql which, PGresult **out, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	*out = store_pg_query(store, which, &p);
	if (!store_pg_ok(*out))
		return store_pg_error_fail(store, *out, err, "live", "read what runs in the cluster");
	return PQntuples(*out);
}

int store_pg_cluster_live(struct store *base, struct store_live *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	PGresult *res;
	bool oom = false;
	int rows = live_rows(store, STORE_SQL_CLUSTER_LIVE_USERS, &res, err);

	if (rows < 0)
		return rows;
	out->users = calloc((size_t)rows + 1, sizeof(*out->users));
	for (int i = 0; out->users && i < rows; i++) {
		struct store_live_user *u = &out->users[out->n_users++];

		u->user = store_pg_dup(res, i, 0, &oom);
		u->live = store_pg_i64(res, i, 1, 0);
		u->reserved_us = store_pg_i64(res, i, 2, 0);
	}
	PQclear(res);
	if (!out->users || oom)
		goto nomem;
	rows = live_rows(store, STORE_SQL_CLUSTER_LIVE_NODES, &res, err);
	if (rows < 0) {
		store_cluster_live_free(out);
		return rows;
	}
	out->nodes = calloc((size_t)rows + 1, sizeof(*out->nodes));
	for (int i = 0; out->nodes && i < rows; i++) {
		struct store_live_node *n = &out->nodes[out->n_nodes++];

		n->node = store_pg_dup(res, i, 0, &oom);
		n->live = store_pg_i64(res, i, 1, 0);
		n->memory_bytes = store_pg_i64(res, i, 2, 0);
		n->gpus = store_pg_i64(res, i, 3, 0);
		n->cpu_millis = store_pg_i64(res, i, 4, 0);
	}
	PQclear(res);
	if (!out->nodes || oom)
		goto nomem;
	return 0;
nomem:
	store_cluster_live_free(out);
	return error_set(err, ENOMEM, "live", "read what runs in the cluster: out of memory");
}

/* The deltas of the live load folded into its rows in one statement: the
 * deltas it deletes are those it adds (one snapshot), a delta committed
 * meanwhile stays for the next fold, and a second fold at the same time
 * waits for the rows the first deletes and skips them.  The rows are
 * locked in name order, so two folds wait for each other instead of
 * deadlocking; a delta is an insert, so the transactions that append
 * them never wait for a fold.  PostgreSQL only (a DELETE in WITH); the
 * upserts are SQLite's too (store_sql.h). */
static const char fold_sql[] = "WITH d AS (DELETE FROM live_delta RETURNING *), "
			       "u AS (" STORE_SQL_FOLD_USERS("d") ") " STORE_SQL_FOLD_NODES("d");

/* Every FOLDS_PER_VACUUM folds: the rows of tenants and nodes that hold
 * nothing any more are dropped, and the three tables vacuumed (every fold
 * leaves its deltas and the rows it updated dead; autovacuum looks only
 * once a minute, and a scan of the deltas would walk them all). */
#define FOLDS_PER_VACUUM 32u

int store_pg_cluster_live_fold(struct store *base, struct error *err)
{
	static const enum store_sql prune[] = { STORE_SQL_CLUSTER_FOLD_PRUNE_USERS,
						STORE_SQL_CLUSTER_FOLD_PRUNE_NODES };
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool own;
	int r;

	/* it need not wait for its WAL to reach the disk (a crash loses the
	 * whole fold or none of it: the same totals) */
	r = store_pg_async_begin(store, &own, err);
	if (r == 0)
		r = store_pg_async_end(store, own, store_pg_exec(store, fold_sql, err, "live"), err);
	if (r < 0 || ++store->folds % FOLDS_PER_VACUUM != 0)
		return r;
	store_pg_params_init(&p);
	for (size_t i = 0; i < sizeof(prune) / sizeof(prune[0]); i++) {
		PGresult *res = store_pg_query(store, prune[i], &p);

		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "live",
						   "drop the live load's empty rows");
		PQclear(res);
	}
	if (own) /* not in a transaction: a caller's would refuse it */
		r = store_pg_exec(store, "VACUUM live_delta, live_users, live_nodes", err, "live");
	return r;
}

/* ---- outputs ------------------------------------------------------------------- */

int store_pg_cluster_output_append(struct store *base, int64_t id, int stream, int64_t off,
				   const char *data_b64, int64_t len, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_i64(&p, 2, stream);
	store_pg_param_i64(&p, 3, off);
	store_pg_param_i64(&p, 4, len);
	store_pg_param_text(&p, 5, data_b64);
	store_pg_param_text(&p, 6, store->fence ? store->fence : "");
	res = store_pg_query(store, STORE_SQL_OUTPUT_APPEND, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "output", "store output of task %" PRId64, id);
	PQclear(res);
	return 0;
}

int store_pg_cluster_output_read(struct store *base, int64_t id, int stream, int64_t from, size_t limit,
				 struct store_output_chunks *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int rows;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_i64(&p, 2, stream);
	res = store_pg_query(store, STORE_SQL_OUTPUT_SIZE, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "output", "read output of task %" PRId64, id);
	out->size = store_pg_i64(res, 0, 0, 0);
	PQclear(res);
	store_pg_param_i64(&p, 3, from);
	store_pg_param_i64(&p, 4, (int64_t)limit);
	res = store_pg_query(store, STORE_SQL_OUTPUT_READ, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "output", "read output of task %" PRId64, id);
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items)))) {
		PQclear(res);
		return error_set(err, ENOMEM, "output", "read output: out of memory");
	}
	for (int i = 0; i < rows; i++) {
		struct store_output_chunk *c = &out->items[out->count++];

		c->off = store_pg_i64(res, i, 0, 0);
		c->len = store_pg_i64(res, i, 1, 0);
		c->data_b64 = store_pg_dup(res, i, 2, &oom);
	}
	PQclear(res);
	if (oom) {
		store_cluster_output_chunks_free(out);
		return error_set(err, ENOMEM, "output", "read output: out of memory");
	}
	return 0;
}

/* ---- wake-ups ------------------------------------------------------------------- */

int store_pg_cluster_wake(struct store *base, int which, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	PGnotify *n;
	int count = 0;

	switch (which) {
	case 0:
		store->listening = true;
		return store_pg_exec(store, "LISTEN corral", err, "listen");
	case 1:
		return store_pg_exec(store, "NOTIFY corral", err, "notify");
	case 2:
		return PQstatus(store->conn) == CONNECTION_OK ? PQsocket(store->conn) : -1;
	case 4:
		return (int)(store->conn_gen & 0x7fffffff);
	default:
		if (PQstatus(store->conn) != CONNECTION_OK || !PQconsumeInput(store->conn))
			return 0;
		while ((n = PQnotifies(store->conn)) != NULL) {
			count++;
			PQfreemem(n);
		}
		return count;
	}
}
