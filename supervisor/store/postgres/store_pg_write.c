/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_write.c — every state change of the store
 * on PostgreSQL, each one transaction (store_pg_tx_begin/store_pg_tx_end)
 * that also appends the event it records: submit, queued -> running, CPU
 * charging, finish, cancel, and operators' usage adjustments.
 *
 * The same guarded statements as SQLite (store_sql.c): transitions are
 * compare-and-set in the UPDATE's WHERE clause, which PostgreSQL re-checks
 * on the newest row version after waiting for a concurrent writer, so two
 * writers never both move a task; a finish first locks the row it reads
 * (SELECT ... FOR UPDATE).  The fixed moves (submit, start, cancel) are
 * pairs task_state.h allows; finish checks the state it read against
 * task_state_can_move().  A refused transition is -ESTALE and changes
 * nothing.  A transaction that was a deadlock victim or lost a
 * serialization race runs again (store_pg_tx_again).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* ---- helpers ------------------------------------------------------------- */

static int append_event(struct store_pg *store, int64_t task_id, int64_t at_us, const char *kind,
			const char *detail, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	store_pg_param_i64(&p, 2, at_us);
	store_pg_param_text(&p, 3, kind);
	store_pg_param_text(&p, 4, detail);
	res = store_pg_query(store, STORE_SQL_EVENT_APPEND, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "event", "append event %s of task %" PRId64, kind,
					   task_id);
	PQclear(res);
	return 0;
}

struct cursor_row {
	char user[256];
	char state[16];
	int64_t charged_us;
	char owner[72]; /* the lease owner; "" = none */
};

/* The task's user, state and cursor, its row locked until the transaction
 * ends; -ENOENT if there is no such task. */
static int read_cursor(struct store_pg *store, int64_t id, struct cursor_row *row, const char *step,
		       struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	res = store_pg_query(store, STORE_SQL_TASK_CURSOR, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s task %" PRId64 ": read it", step, id);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return error_set(err, ENOENT, step, "%s task %" PRId64 ": no such task", step, id);
	}
	snprintf(row->user, sizeof(row->user), "%s", PQgetvalue(res, 0, 0));
	snprintf(row->state, sizeof(row->state), "%s", PQgetvalue(res, 0, 1));
	row->charged_us = store_pg_i64(res, 0, 2, 0);
	snprintf(row->owner, sizeof(row->owner), "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	return 0;
}

/* In a cluster, a write about a task holds only while this node's
 * incarnation holds its lease (store_cluster.h): the row is read locked. */
static int check_lease(struct store_pg *store, int64_t id, const char *step, struct error *err)
{
	struct cursor_row row;
	int r;

	if (!store->fence)
		return 0;
	r = read_cursor(store, id, &row, step, err);
	if (r < 0)
		return r;
	return store_pg_cluster_check_fence(store, id, row.owner[0] ? row.owner : NULL, step, err);
}

/* Why a guarded UPDATE matched no row: -ENOENT or -ESTALE with the state. */
static int refused(struct store_pg *store, int64_t id, const char *step, const char *wanted,
		   struct error *err)
{
	struct cursor_row row;
	int r = read_cursor(store, id, &row, step, err);

	if (r < 0)
		return r;
	return error_set(err, ESTALE, step, "%s task %" PRId64 ": it is %s, not %s", step, id, row.state,
			 wanted);
}

static int usage_add(struct store_pg *store, const char *user, const char *month, int64_t cpu_us, int64_t id,
		     struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	if (cpu_us == 0)
		return 0;
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, user);
	store_pg_param_text(&p, 2, month);
	store_pg_param_i64(&p, 3, cpu_us);
	res = store_pg_query(store, STORE_SQL_USAGE_ADD, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "charge",
					   "charge %" PRId64 " us of task %" PRId64 " to %s in %s", cpu_us,
					   id, user, month);
	PQclear(res);
	return 0;
}

/* A fixed move this file makes (start, cancel), as task_state.h allows it. */
static int move_allowed(enum store_task_state from, enum store_task_state to, int64_t id, const char *step,
			struct error *err)
{
	if (task_state_can_move(from, to))
		return 0;
	return error_set(err, ESTALE, step, "%s task %" PRId64 ": %s -> %s is not allowed", step, id,
			 task_state_name(from), task_state_name(to));
}

/* ---- submit -------------------------------------------------------------- */

static int submit_locked(struct store_pg *store, const struct store_task *t, int64_t *id, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, t->user);
	store_pg_param_i64(&p, 2, t->submitted_by_uid);
	store_pg_param_text(&p, 3, t->profile);
	store_pg_param_text(&p, 4, t->argv_json);
	store_pg_param_text(&p, 5, t->env_json ? t->env_json : "{}");
	store_pg_param_text(&p, 6, t->cwd);
	store_pg_param_text(&p, 7, t->stdin_path);
	store_pg_param_i64(&p, 8, t->wall_limit_ms);
	store_pg_param_i64(&p, 9, t->cpu_limit_us);
	store_pg_param_i64(&p, 10, t->memory_limit_bytes);
	store_pg_param_i64(&p, 11, t->submitted_at_us);
	store_pg_param_i64(&p, 12, t->stored_bytes);
	store_pg_param_i64(&p, 13, t->gpus);
	store_pg_param_i64(&p, 14, t->gpu_memory_bytes);
	store_pg_param_text(&p, 15, t->labels ? t->labels : "");
	store_pg_param_i64(&p, 16, t->cpu_millis);
	res = store_pg_query(store, STORE_SQL_SUBMIT, &p);
	if (!store_pg_ok(res) || PQntuples(res) != 1)
		return store_pg_error_fail(store, res, err, "submit", "submit task for %s", t->user);
	*id = store_pg_i64(res, 0, 0, 0);
	PQclear(res);
	return append_event(store, *id, t->submitted_at_us, "submitted", t->profile, err);
}

int store_pg_write_submit(struct store *base, const struct store_task *task, int64_t *id, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, submit_locked(store, task, id, err));
}

/* ---- queued -> running ---------------------------------------------------- */

static int mark_running_locked(struct store_pg *store, int64_t id, const struct store_start *st,
			       struct error *err)
{
	struct store_pg_params p;
	char detail[160];
	PGresult *res;
	int changes;

	if (move_allowed(STORE_QUEUED, STORE_RUNNING, id, "start", err) < 0)
		return -ESTALE;
	changes = check_lease(store, id, "start", err);
	if (changes < 0)
		return changes;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_i64(&p, 2, st->started_at_us);
	store_pg_param_opt_i64(&p, 3, st->deadline_us, 0);
	store_pg_param_i64(&p, 4, st->cpu_reserved_us);
	store_pg_param_opt_i64(&p, 5, st->host_uid, -1);
	store_pg_param_text(&p, 6, st->cgroup);
	store_pg_param_i64(&p, 7, st->attempts);
	res = store_pg_query(store, STORE_SQL_MARK_RUNNING, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "mark running", "mark task %" PRId64 " running",
					   id);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return refused(store, id, "start", "queued", err);
	changes = store_pg_node_count(store, &(struct store_node_count){ .started = 1 }, err);
	if (changes < 0)
		return changes;
	snprintf(detail, sizeof(detail), "attempt %d, host uid %" PRId64 ", cgroup %s", st->attempts,
		 st->host_uid, st->cgroup ? st->cgroup : "-");
	return append_event(store, id, st->started_at_us, "running", detail, err);
}

int store_pg_write_mark_running(struct store *base, int64_t id, const struct store_start *start,
				struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, mark_running_locked(store, id, start, err));
}

/* ---- running -> queued: a retry ------------------------------------------- */

static int requeue_locked(struct store_pg *store, int64_t id, const struct store_requeue *rq,
			  struct error *err)
{
	struct store_pg_params p;
	struct cursor_row row;
	char detail[640];
	PGresult *res;
	int64_t delta;
	int r, changes;

	if (move_allowed(STORE_RUNNING, STORE_QUEUED, id, "requeue", err) < 0)
		return -ESTALE;
	r = read_cursor(store, id, &row, "requeue", err);
	if (r < 0)
		return r;
	if (strcmp(row.state, "running") != 0)
		return error_set(err, ESTALE, "requeue", "requeue task %" PRId64 ": it is %s, not running",
				 id, row.state);
	r = store_pg_cluster_check_fence(store, id, row.owner[0] ? row.owner : NULL, "requeue", err);
	if (r < 0)
		return r;
	/* as in finish: a total below the cursor charges nothing */
	delta = rq->cpu_total_us > row.charged_us ? rq->cpu_total_us - row.charged_us : 0;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_i64(&p, 2, row.charged_us + delta);
	store_pg_param_i64(&p, 3, rq->at_us);
	store_pg_param_text(&p, 4, rq->reason);
	store_pg_param_i64(&p, 5, rq->not_before_us);
	store_pg_param_i64(&p, 6, row.charged_us);
	store_pg_param_i64(&p, 7, rq->not_an_attempt ? 1 : 0);
	res = store_pg_query(store, STORE_SQL_REQUEUE, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "requeue", "requeue task %" PRId64, id);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return refused(store, id, "requeue", "running at the cursor just read", err);
	r = usage_add(store, row.user, rq->month, delta, id, err);
	if (r < 0)
		return r;
	/* the outputs the store holds were the attempt's that ended */
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	res = store_pg_query(store, STORE_SQL_OUTPUT_RESET, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "requeue",
					   "requeue task %" PRId64 ": drop its outputs", id);
	PQclear(res);
	r = store_pg_node_count(store, &(struct store_node_count){ .cpu_us = delta }, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s; charged %" PRId64 " us to %s", rq->reason, delta, rq->month);
	return append_event(store, id, rq->at_us, "requeued", detail, err);
}

int store_pg_write_requeue(struct store *base, int64_t id, const struct store_requeue *requeue,
			   struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, requeue_locked(store, id, requeue, err));
}

/* ---- charging ------------------------------------------------------------- */

static int charge_locked(struct store_pg *store, int64_t id, int64_t expected, int64_t new_cursor,
			 const char *month, int64_t now_us, struct error *err)
{
	struct store_pg_params p;
	char user[256] = "";
	struct cursor_row row;
	PGresult *res;
	int r = check_lease(store, id, "charge", err);

	if (r < 0)
		return r;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_i64(&p, 2, expected);
	store_pg_param_i64(&p, 3, new_cursor);
	store_pg_param_i64(&p, 4, now_us);
	res = store_pg_query(store, STORE_SQL_CHARGE_CURSOR, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "charge", "charge task %" PRId64, id);
	if (PQntuples(res) == 1)
		snprintf(user, sizeof(user), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!user[0]) {
		r = read_cursor(store, id, &row, "charge", err);
		if (r < 0)
			return r;
		if (strcmp(row.state, "running") != 0)
			return error_set(err, ESTALE, "charge",
					 "charge task %" PRId64 ": it is %s, not running", id, row.state);
		return error_set(err, ESTALE, "charge",
				 "charge task %" PRId64 ": cursor is at %" PRId64 " us, not %" PRId64
				 " (already charged)",
				 id, row.charged_us, expected);
	}
	r = usage_add(store, user, month, new_cursor - expected, id, err);
	if (r < 0)
		return r;
	return store_pg_node_count(store, &(struct store_node_count){ .cpu_us = new_cursor - expected }, err);
}

int store_pg_write_charge(struct store *base, int64_t id, int64_t expected_cursor_us, int64_t new_cursor_us,
			  const char *month, int64_t now_us, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err,
			      charge_locked(store, id, expected_cursor_us, new_cursor_us, month, now_us,
					    err));
}

/* ---- finish ---------------------------------------------------------------- */

static int finish_locked(struct store_pg *store, int64_t id, const struct store_result *res_in,
			 struct error *err)
{
	struct store_pg_params p;
	struct store_node_count count;
	struct cursor_row row;
	enum store_task_state from;
	int64_t delta;
	char detail[200];
	PGresult *res;
	int r, changes;

	r = read_cursor(store, id, &row, "finish", err);
	if (r < 0)
		return r;
	if (task_state_parse(row.state, &from) < 0 || task_state_is_terminal(from))
		return error_set(err, ESTALE, "finish", "finish task %" PRId64 ": it already ended (%s)", id,
				 row.state);
	if (from == STORE_RUNNING || row.owner[0]) {
		r = store_pg_cluster_check_fence(store, id, row.owner[0] ? row.owner : NULL, "finish", err);
		if (r < 0)
			return r;
	}
	if (!task_state_can_move(from, res_in->state))
		return error_set(err, ESTALE, "finish",
				 "finish task %" PRId64 ": it is %s, and %s -> %s is not allowed", id,
				 row.state, row.state, task_state_name(res_in->state));
	/* A final total below the cursor (a counter that went back) charges
	 * nothing and leaves the cursor where it was. */
	delta = res_in->cpu_total_us > row.charged_us ? res_in->cpu_total_us - row.charged_us : 0;

	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	store_pg_param_text(&p, 2, task_state_name(res_in->state));
	store_pg_param_text(&p, 3, task_state_reason_name(res_in->reason));
	store_pg_param_text(&p, 4, res_in->message);
	store_pg_param_opt_i64(&p, 5, res_in->usage.exit_code, -1);
	store_pg_param_opt_i64(&p, 6, res_in->usage.signal, -1);
	store_pg_param_i64(&p, 7, res_in->ended_at_us);
	store_pg_param_i64(&p, 8, row.charged_us + delta);
	store_pg_param_i64(&p, 9, res_in->usage.cpu_user_us);
	store_pg_param_i64(&p, 10, res_in->usage.cpu_system_us);
	store_pg_param_i64(&p, 11, res_in->usage.memory_peak_bytes);
	store_pg_param_i64(&p, 12, res_in->usage.stdout_bytes);
	store_pg_param_i64(&p, 13, res_in->usage.stderr_bytes);
	store_pg_param_i64(&p, 14, res_in->usage.stdout_truncated);
	store_pg_param_i64(&p, 15, res_in->usage.stderr_truncated);
	store_pg_param_i64(&p, 16, row.charged_us);
	store_pg_param_text(&p, 17, row.state);
	store_pg_param_i64(&p, 18, res_in->output_bytes > 0 ? res_in->output_bytes : 0);
	store_pg_param_i64(&p, 19, res_in->usage.oom_kills);
	res = store_pg_query(store, STORE_SQL_FINISH, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "finish", "finish task %" PRId64, id);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return refused(store, id, "finish", "in the state and at the cursor just read", err);
	r = usage_add(store, row.user, res_in->month, delta, id, err);
	if (r < 0)
		return r;
	store_node_count_end(&count, from, res_in, delta);
	r = store_pg_node_count(store, &count, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s (%s), charged %" PRId64 " us to %s",
		 task_state_name(res_in->state), task_state_reason_name(res_in->reason), delta,
		 res_in->month);
	return append_event(store, id, res_in->ended_at_us, "finished", detail, err);
}

int store_pg_write_finish(struct store *base, int64_t id, const struct store_result *result,
			  struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, finish_locked(store, id, result, err));
}

/* ---- cancel ------------------------------------------------------------------ */

static int guarded_update(struct store_pg *store, enum store_sql which, int64_t id, int64_t now_us,
			  const char *step, const char *wanted, const char *event, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	int changes;

	if (which == STORE_SQL_CANCEL_QUEUED &&
	    move_allowed(STORE_QUEUED, STORE_CANCELLED, id, step, err) < 0)
		return -ESTALE;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	if (which == STORE_SQL_CANCEL_QUEUED)
		store_pg_param_i64(&p, 2, now_us);
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s task %" PRId64, step, id);
	changes = store_pg_changes(res);
	PQclear(res);
	if (changes == 0)
		return refused(store, id, step, wanted, err);
	return append_event(store, id, now_us, event, NULL, err);
}

static int guarded(struct store *base, enum store_sql which, int64_t id, int64_t now_us, const char *step,
		   const char *wanted, const char *event, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, guarded_update(store, which, id, now_us, step, wanted, event, err));
}

int store_pg_write_cancel_queued(struct store *base, int64_t id, int64_t now_us, struct error *err)
{
	return guarded(base, STORE_SQL_CANCEL_QUEUED, id, now_us, "cancel", "queued", "cancelled", err);
}

int store_pg_write_request_cancel(struct store *base, int64_t id, int64_t now_us, struct error *err)
{
	return guarded(base, STORE_SQL_REQUEST_CANCEL, id, now_us, "request cancel", "running",
		       "cancel_requested", err);
}

/* ---- events ----------------------------------------------------------------- */

int store_pg_write_event_append(struct store *base, int64_t task_id, int64_t at_us, const char *kind,
				const char *detail, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, append_event(store, task_id, at_us, kind, detail, err));
}

/* ---- usage adjustments -------------------------------------------------------- */

static int usage_adjust_locked(struct store_pg *store, const struct store_adjustment *a, int64_t *id,
			       struct error *err)
{
	struct store_pg_params p;
	PGresult *res;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, a->user);
	store_pg_param_text(&p, 2, a->month);
	store_pg_param_i64(&p, 3, a->delta_us);
	store_pg_param_text(&p, 4, a->by);
	store_pg_param_i64(&p, 5, a->by_uid);
	store_pg_param_i64(&p, 6, a->at_us);
	store_pg_param_text(&p, 7, a->reason);
	res = store_pg_query(store, STORE_SQL_ADJUST_INSERT, &p);
	if (!store_pg_ok(res) || PQntuples(res) != 1)
		return store_pg_error_fail(store, res, err, "adjust",
					   "adjust usage of %s in %s by %" PRId64 " us", a->user, a->month,
					   a->delta_us);
	if (id)
		*id = store_pg_i64(res, 0, 0, 0);
	PQclear(res);
	return 0;
}

int store_pg_write_usage_adjust(struct store *base, const struct store_adjustment *adj, int64_t *id,
				struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, usage_adjust_locked(store, adj, id, err));
}
