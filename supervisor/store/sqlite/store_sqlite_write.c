/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_write.c — every state change of the store, each
 * one transaction (store_sqlite_tx_begin/store_sqlite_tx_end) that also appends the event
 * it records: submit, queued -> running, running -> queued (a retry), CPU
 * charging, finish, cancel, and operators' usage adjustments (a row that is
 * its own record: the events table is per task).
 *
 * Transitions are guarded in the UPDATE's WHERE clause (state, and the
 * charging cursor as a compare-and-set), never by a read followed by a
 * blind write, so the same SQL stays correct with many writers on
 * PostgreSQL.  The fixed moves (submit, start, cancel) are pairs
 * task_state.h allows; finish, whose from-state is data, checks the state it
 * read against task_state_can_move().  A refused transition is -ESTALE and
 * changes nothing.  Arguments were checked by store.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

/* ---- helpers ------------------------------------------------------------- */

static int append_event(struct store_sqlite *store, int64_t task_id, int64_t at_us, const char *kind,
			const char *detail, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_EVENT_APPEND, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	store_sqlite_bind_i64(&b, 2, at_us);
	store_sqlite_bind_text(&b, 3, kind);
	store_sqlite_bind_text(&b, 4, detail);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "event", "append event %s of task %" PRId64, kind,
					 task_id);
	return 0;
}

struct cursor_row {
	char user[256];
	char state[16];
	int64_t charged_us;
};

/* The task's user, state and cursor; -ENOENT if there is no such task. */
static int read_cursor(struct store_sqlite *store, int64_t id, struct cursor_row *row, const char *step,
		       struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_TASK_CURSOR, &b);
	store_sqlite_bind_i64(&b, 1, id);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		snprintf(row->user, sizeof(row->user), "%s", (const char *)sqlite3_column_text(b.stmt, 0));
		snprintf(row->state, sizeof(row->state), "%s", (const char *)sqlite3_column_text(b.stmt, 1));
		row->charged_us = sqlite3_column_int64(b.stmt, 2);
	}
	store_sqlite_stmt_done(&b);
	if (rc == SQLITE_DONE)
		return error_set(err, ENOENT, step, "%s task %" PRId64 ": no such task", step, id);
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, step, "%s task %" PRId64 ": read it", step, id);
	return 0;
}

/* Why a guarded UPDATE matched no row: -ENOENT or -ESTALE with the state. */
static int refused(struct store_sqlite *store, int64_t id, const char *step, const char *wanted,
		   struct error *err)
{
	struct cursor_row row;
	int r = read_cursor(store, id, &row, step, err);

	if (r < 0)
		return r;
	return error_set(err, ESTALE, step, "%s task %" PRId64 ": it is %s, not %s", step, id, row.state,
			 wanted);
}

static int usage_add(struct store_sqlite *store, const char *user, const char *month, int64_t cpu_us,
		     int64_t id, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	if (cpu_us == 0)
		return 0;
	store_sqlite_stmt_start(store, STORE_SQL_USAGE_ADD, &b);
	store_sqlite_bind_text(&b, 1, user);
	store_sqlite_bind_text(&b, 2, month);
	store_sqlite_bind_i64(&b, 3, cpu_us);
	rc = store_sqlite_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "charge",
					 "charge %" PRId64 " us of task %" PRId64 " to %s in %s", cpu_us, id,
					 user, month);
	return 0;
}

/* A fixed move this file makes (start, cancel), as task_state.h allows it:
 * the table, not this file, says which moves exist. */
static int move_allowed(enum store_task_state from, enum store_task_state to, int64_t id, const char *step,
			struct error *err)
{
	if (task_state_can_move(from, to))
		return 0;
	return error_set(err, ESTALE, step, "%s task %" PRId64 ": %s -> %s is not allowed", step, id,
			 task_state_name(from), task_state_name(to));
}

/* ---- submit -------------------------------------------------------------- */

static int submit_locked(struct store_sqlite *store, const struct store_task *t, int64_t *id,
			 struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_SUBMIT, &b);
	store_sqlite_bind_text(&b, 1, t->user);
	store_sqlite_bind_i64(&b, 2, t->submitted_by_uid);
	store_sqlite_bind_text(&b, 3, t->profile);
	store_sqlite_bind_text(&b, 4, t->argv_json);
	store_sqlite_bind_text(&b, 5, t->env_json ? t->env_json : "{}");
	store_sqlite_bind_text(&b, 6, t->cwd);
	store_sqlite_bind_text(&b, 7, t->stdin_path);
	store_sqlite_bind_i64(&b, 8, t->wall_limit_ms);
	store_sqlite_bind_i64(&b, 9, t->cpu_limit_us);
	store_sqlite_bind_i64(&b, 10, t->memory_limit_bytes);
	store_sqlite_bind_i64(&b, 11, t->submitted_at_us);
	store_sqlite_bind_i64(&b, 12, t->stored_bytes);
	store_sqlite_bind_i64(&b, 13, t->gpus);
	store_sqlite_bind_i64(&b, 14, t->gpu_memory_bytes);
	store_sqlite_bind_text(&b, 15, t->labels ? t->labels : "");
	store_sqlite_bind_i64(&b, 16, t->cpu_millis);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(b.stmt, 0);
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "submit", "submit task for %s", t->user);
	return append_event(store, *id, t->submitted_at_us, "submitted", t->profile, err);
}

int store_sqlite_write_submit(struct store *base, const struct store_task *task, int64_t *id,
			      struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, submit_locked(store, task, id, err));
}

/* ---- queued -> running ---------------------------------------------------- */

static int mark_running_locked(struct store_sqlite *store, int64_t id, const struct store_start *st,
			       struct error *err)
{
	struct store_sqlite_binder b;
	char detail[160];
	int rc, r, changes = 0;

	if (move_allowed(STORE_QUEUED, STORE_RUNNING, id, "start", err) < 0)
		return -ESTALE;
	store_sqlite_stmt_start(store, STORE_SQL_MARK_RUNNING, &b);
	store_sqlite_bind_i64(&b, 1, id);
	store_sqlite_bind_i64(&b, 2, st->started_at_us);
	store_sqlite_bind_opt_i64(&b, 3, st->deadline_us, 0);
	store_sqlite_bind_i64(&b, 4, st->cpu_reserved_us);
	store_sqlite_bind_opt_i64(&b, 5, st->host_uid, -1);
	store_sqlite_bind_text(&b, 6, st->cgroup);
	store_sqlite_bind_i64(&b, 7, st->attempts);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "mark running", "mark task %" PRId64 " running", id);
	if (changes == 0)
		return refused(store, id, "start", "queued", err);
	r = store_sqlite_node_count(store, &(struct store_node_count){ .started = 1 }, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "attempt %d, host uid %" PRId64 ", cgroup %s", st->attempts,
		 st->host_uid, st->cgroup ? st->cgroup : "-");
	return append_event(store, id, st->started_at_us, "running", detail, err);
}

int store_sqlite_write_mark_running(struct store *base, int64_t id, const struct store_start *start,
				    struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, mark_running_locked(store, id, start, err));
}

/* ---- running -> queued: a retry ------------------------------------------- */

static int requeue_locked(struct store_sqlite *store, int64_t id, const struct store_requeue *rq,
			  struct error *err)
{
	struct store_sqlite_binder b;
	struct cursor_row row;
	int64_t delta;
	char detail[640];
	int rc, r, changes = 0;

	if (move_allowed(STORE_RUNNING, STORE_QUEUED, id, "requeue", err) < 0)
		return -ESTALE;
	r = read_cursor(store, id, &row, "requeue", err);
	if (r < 0)
		return r;
	if (strcmp(row.state, "running") != 0)
		return error_set(err, ESTALE, "requeue", "requeue task %" PRId64 ": it is %s, not running",
				 id, row.state);
	/* as in finish: a total below the cursor charges nothing */
	delta = rq->cpu_total_us > row.charged_us ? rq->cpu_total_us - row.charged_us : 0;

	store_sqlite_stmt_start(store, STORE_SQL_REQUEUE, &b);
	store_sqlite_bind_i64(&b, 1, id);
	store_sqlite_bind_i64(&b, 2, row.charged_us + delta);
	store_sqlite_bind_i64(&b, 3, rq->at_us);
	store_sqlite_bind_text(&b, 4, rq->reason);
	store_sqlite_bind_i64(&b, 5, rq->not_before_us);
	store_sqlite_bind_i64(&b, 6, row.charged_us);
	store_sqlite_bind_i64(&b, 7, rq->not_an_attempt ? 1 : 0);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "requeue", "requeue task %" PRId64, id);
	if (changes == 0)
		return refused(store, id, "requeue", "running at the cursor just read", err);
	r = usage_add(store, row.user, rq->month, delta, id, err);
	if (r < 0)
		return r;
	r = store_sqlite_node_count(store, &(struct store_node_count){ .cpu_us = delta }, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s; charged %" PRId64 " us to %s", rq->reason, delta, rq->month);
	return append_event(store, id, rq->at_us, "requeued", detail, err);
}

int store_sqlite_write_requeue(struct store *base, int64_t id, const struct store_requeue *requeue,
			       struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, requeue_locked(store, id, requeue, err));
}

/* ---- charging ------------------------------------------------------------- */

static int charge_locked(struct store_sqlite *store, int64_t id, int64_t expected, int64_t new_cursor,
			 const char *month, int64_t now_us, struct error *err)
{
	struct store_sqlite_binder b;
	char user[256] = "";
	struct cursor_row row;
	int rc, r;

	store_sqlite_stmt_start(store, STORE_SQL_CHARGE_CURSOR, &b);
	store_sqlite_bind_i64(&b, 1, id);
	store_sqlite_bind_i64(&b, 2, expected);
	store_sqlite_bind_i64(&b, 3, new_cursor);
	store_sqlite_bind_i64(&b, 4, now_us);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		snprintf(user, sizeof(user), "%s", (const char *)sqlite3_column_text(b.stmt, 0));
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "charge", "charge task %" PRId64, id);
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
	return store_sqlite_node_count(store, &(struct store_node_count){ .cpu_us = new_cursor - expected },
				       err);
}

int store_sqlite_write_charge(struct store *base, int64_t id, int64_t expected_cursor_us,
			      int64_t new_cursor_us, const char *month, int64_t now_us, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  charge_locked(store, id, expected_cursor_us, new_cursor_us, month, now_us,
						err));
}

/* ---- finish ---------------------------------------------------------------- */

static int finish_locked(struct store_sqlite *store, int64_t id, const struct store_result *res,
			 struct error *err)
{
	struct store_sqlite_binder b;
	struct store_node_count count;
	struct cursor_row row;
	enum store_task_state from;
	int64_t delta;
	char detail[200];
	int rc, r, changes = 0;

	r = read_cursor(store, id, &row, "finish", err);
	if (r < 0)
		return r;
	if (task_state_parse(row.state, &from) < 0 || task_state_is_terminal(from))
		return error_set(err, ESTALE, "finish", "finish task %" PRId64 ": it already ended (%s)", id,
				 row.state);
	if (!task_state_can_move(from, res->state))
		return error_set(err, ESTALE, "finish",
				 "finish task %" PRId64 ": it is %s, and %s -> %s is not allowed", id,
				 row.state, row.state, task_state_name(res->state));
	/* A final total below the cursor (a counter that went back) charges
	 * nothing and leaves the cursor where it was. */
	delta = res->cpu_total_us > row.charged_us ? res->cpu_total_us - row.charged_us : 0;

	store_sqlite_stmt_start(store, STORE_SQL_FINISH, &b);
	store_sqlite_bind_i64(&b, 1, id);
	store_sqlite_bind_text(&b, 2, task_state_name(res->state));
	store_sqlite_bind_text(&b, 3, task_state_reason_name(res->reason));
	store_sqlite_bind_text(&b, 4, res->message);
	store_sqlite_bind_opt_i64(&b, 5, res->usage.exit_code, -1);
	store_sqlite_bind_opt_i64(&b, 6, res->usage.signal, -1);
	store_sqlite_bind_i64(&b, 7, res->ended_at_us);
	store_sqlite_bind_i64(&b, 8, row.charged_us + delta);
	store_sqlite_bind_i64(&b, 9, res->usage.cpu_user_us);
	store_sqlite_bind_i64(&b, 10, res->usage.cpu_system_us);
	store_sqlite_bind_i64(&b, 11, res->usage.memory_peak_bytes);
	store_sqlite_bind_i64(&b, 12, res->usage.stdout_bytes);
	store_sqlite_bind_i64(&b, 13, res->usage.stderr_bytes);
	store_sqlite_bind_i64(&b, 14, res->usage.stdout_truncated);
	store_sqlite_bind_i64(&b, 15, res->usage.stderr_truncated);
	store_sqlite_bind_i64(&b, 16, row.charged_us);
	store_sqlite_bind_text(&b, 17, row.state);
	store_sqlite_bind_i64(&b, 18, res->output_bytes > 0 ? res->output_bytes : 0);
	store_sqlite_bind_i64(&b, 19, res->usage.oom_kills);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "finish", "finish task %" PRId64, id);
	if (changes == 0)
		return refused(store, id, "finish", "in the state and at the cursor just read", err);
	r = usage_add(store, row.user, res->month, delta, id, err);
	if (r < 0)
		return r;
	store_node_count_end(&count, from, res, delta);
	r = store_sqlite_node_count(store, &count, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s (%s), charged %" PRId64 " us to %s", task_state_name(res->state),
		 task_state_reason_name(res->reason), delta, res->month);
	return append_event(store, id, res->ended_at_us, "finished", detail, err);
}

int store_sqlite_write_finish(struct store *base, int64_t id, const struct store_result *result,
			      struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, finish_locked(store, id, result, err));
}

/* ---- cancel ------------------------------------------------------------------ */

static int guarded_update(struct store_sqlite *store, enum store_sql which, int64_t id, int64_t now_us,
			  const char *step, const char *wanted, const char *event, struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes = 0;

	if (which == STORE_SQL_CANCEL_QUEUED &&
	    move_allowed(STORE_QUEUED, STORE_CANCELLED, id, step, err) < 0)
		return -ESTALE;
	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_i64(&b, 1, id);
	if (which == STORE_SQL_CANCEL_QUEUED)
		store_sqlite_bind_i64(&b, 2, now_us);
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, step, "%s task %" PRId64, step, id);
	if (changes == 0)
		return refused(store, id, step, wanted, err);
	return append_event(store, id, now_us, event, NULL, err);
}

int store_sqlite_write_cancel_queued(struct store *base, int64_t id, int64_t now_us, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  guarded_update(store, STORE_SQL_CANCEL_QUEUED, id, now_us, "cancel",
						 "queued", "cancelled", err));
}

int store_sqlite_write_request_cancel(struct store *base, int64_t id, int64_t now_us, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err,
				  guarded_update(store, STORE_SQL_REQUEST_CANCEL, id, now_us,
						 "request cancel", "running", "cancel_requested", err));
}

/* ---- events ----------------------------------------------------------------- */

int store_sqlite_write_event_append(struct store *base, int64_t task_id, int64_t at_us, const char *kind,
				    const char *detail, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, append_event(store, task_id, at_us, kind, detail, err));
}

/* ---- usage adjustments -------------------------------------------------------- */

static int usage_adjust_locked(struct store_sqlite *store, const struct store_adjustment *a, int64_t *id,
			       struct error *err)
{
	struct store_sqlite_binder b;
	int64_t new_id = 0;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_ADJUST_INSERT, &b);
	store_sqlite_bind_text(&b, 1, a->user);
	store_sqlite_bind_text(&b, 2, a->month);
	store_sqlite_bind_i64(&b, 3, a->delta_us);
	store_sqlite_bind_text(&b, 4, a->by);
	store_sqlite_bind_i64(&b, 5, a->by_uid);
	store_sqlite_bind_i64(&b, 6, a->at_us);
	store_sqlite_bind_text(&b, 7, a->reason);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		new_id = sqlite3_column_int64(b.stmt, 0);
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "adjust",
					 "adjust usage of %s in %s by %" PRId64 " us", a->user, a->month,
					 a->delta_us);
	if (id)
		*id = new_id;
	return 0;
}

int store_sqlite_write_usage_adjust(struct store *base, const struct store_adjustment *adj, int64_t *id,
				    struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, usage_adjust_locked(store, adj, id, err));
}
