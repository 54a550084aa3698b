/*
 * supervisor/store/sqlite/store_sqlite_write.c — every state change of the store, each
 * one transaction (store_tx_begin/store_tx_end) that also appends the event
 * it records: submit, queued -> running, CPU charging, finish, cancel.
 *
 * Transitions are guarded in the UPDATE's WHERE clause (state, and the
 * charging cursor as a compare-and-set), never by a read followed by a
 * blind write, so the same SQL stays correct with many writers on
 * PostgreSQL.  A refused transition is -ESTALE and changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "supervisor/store/sqlite/store_sqlite.h"

/* ---- validation ---------------------------------------------------------- */

static bool month_valid(const char *month)
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (month[i] < '0' || month[i] > '9'))
			return false;
	return (month[5] == '0' && month[6] >= '1') || (month[5] == '1' && month[6] <= '2');
}

/* argv: a non-empty JSON array of strings; env: a JSON object of strings. */
static int json_check(const char *text, bool is_argv, struct error *err)
{
	const char *what = is_argv ? "argv" : "env";
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	bool ok = false;

	if (!root)
		return error_set(err, EINVAL, "submit", "%s is not JSON: %s (line %d column %d)",
				  what, jerr.text, jerr.line, jerr.column);
	if (is_argv && json_is_array(root) && json_array_size(root) > 0) {
		size_t i;
		json_t *v;

		ok = true;
		json_array_foreach(root, i, v)
			ok = ok && json_is_string(v);
	} else if (!is_argv && json_is_object(root)) {
		const char *k;
		json_t *v;

		ok = true;
		json_object_foreach(root, k, v)
			ok = ok && json_is_string(v);
	}
	json_decref(root);
	if (!ok)
		return error_set(err, EINVAL, "submit", "%s must be %s", what,
				  is_argv ? "a non-empty JSON array of strings"
					  : "a JSON object of strings");
	return 0;
}

static int submit_check(const struct store_task *t, struct error *err)
{
	int r;

	if (!t->user || !t->user[0])
		return error_set(err, EINVAL, "submit", "submit: empty user name");
	if (!t->profile || !t->profile[0])
		return error_set(err, EINVAL, "submit", "submit for %s: empty profile name", t->user);
	if (!t->argv_json)
		return error_set(err, EINVAL, "submit", "submit for %s: no argv", t->user);
	r = json_check(t->argv_json, true, err);
	if (r == 0 && t->env_json)
		r = json_check(t->env_json, false, err);
	if (r < 0)
		return r;
	if (t->wall_limit_ms < 0 || t->cpu_limit_us < 0 || t->memory_limit_bytes < 0)
		return error_set(err, EINVAL, "submit", "submit for %s: negative limit", t->user);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int append_event(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
			const char *detail, struct error *err)
{
	struct store_binder b;
	int rc;

	store_stmt_start(store, STORE_SQL_EVENT_APPEND, &b);
	store_bind_i64(&b, 1, task_id);
	store_bind_i64(&b, 2, at_us);
	store_bind_text(&b, 3, kind);
	store_bind_text(&b, 4, detail);
	rc = store_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "event", "append event %s of task %" PRId64,
					 kind, task_id);
	return 0;
}

struct cursor_row {
	char user[256];
	char state[16];
	int64_t charged_us;
};

/* The task's user, state and cursor; -ENOENT if there is no such task. */
static int read_cursor(struct store *store, int64_t id, struct cursor_row *row,
		       const char *step, struct error *err)
{
	struct store_binder b;
	int rc;

	store_stmt_start(store, STORE_SQL_TASK_CURSOR, &b);
	store_bind_i64(&b, 1, id);
	rc = store_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		snprintf(row->user, sizeof(row->user), "%s",
			 (const char *)sqlite3_column_text(b.stmt, 0));
		snprintf(row->state, sizeof(row->state), "%s",
			 (const char *)sqlite3_column_text(b.stmt, 1));
		row->charged_us = sqlite3_column_int64(b.stmt, 2);
	}
	store_stmt_done(&b);
	if (rc == SQLITE_DONE)
		return error_set(err, ENOENT, step, "%s task %" PRId64 ": no such task", step, id);
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, step, "%s task %" PRId64 ": read it", step, id);
	return 0;
}

/* Why a guarded UPDATE matched no row: -ENOENT or -ESTALE with the state. */
static int refused(struct store *store, int64_t id, const char *step, const char *wanted,
		   struct error *err)
{
	struct cursor_row row;
	int r = read_cursor(store, id, &row, step, err);

	if (r < 0)
		return r;
	return error_set(err, ESTALE, step, "%s task %" PRId64 ": it is %s, not %s", step, id,
			  row.state, wanted);
}

static int usage_add(struct store *store, const char *user, const char *month, int64_t cpu_us,
		     int64_t id, struct error *err)
{
	struct store_binder b;
	int rc;

	if (cpu_us == 0)
		return 0;
	store_stmt_start(store, STORE_SQL_USAGE_ADD, &b);
	store_bind_text(&b, 1, user);
	store_bind_text(&b, 2, month);
	store_bind_i64(&b, 3, cpu_us);
	rc = store_stmt_exec(&b, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "charge",
					 "charge %" PRId64 " us of task %" PRId64 " to %s in %s",
					 cpu_us, id, user, month);
	return 0;
}

/* ---- submit -------------------------------------------------------------- */

static int submit_locked(struct store *store, const struct store_task *t, int64_t *id,
			 struct error *err)
{
	struct store_binder b;
	int rc;

	store_stmt_start(store, STORE_SQL_SUBMIT, &b);
	store_bind_text(&b, 1, t->user);
	store_bind_i64(&b, 2, t->submitted_by_uid);
	store_bind_text(&b, 3, t->profile);
	store_bind_text(&b, 4, t->argv_json);
	store_bind_text(&b, 5, t->env_json ? t->env_json : "{}");
	store_bind_text(&b, 6, t->cwd);
	store_bind_text(&b, 7, t->stdin_path);
	store_bind_i64(&b, 8, t->wall_limit_ms);
	store_bind_i64(&b, 9, t->cpu_limit_us);
	store_bind_i64(&b, 10, t->memory_limit_bytes);
	store_bind_i64(&b, 11, t->submitted_at_us);
	rc = store_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(b.stmt, 0);
		rc = sqlite3_step(b.stmt);
	}
	store_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "submit", "submit task for %s", t->user);
	return append_event(store, *id, t->submitted_at_us, "submitted", t->profile, err);
}

int store_submit(struct store *store, const struct store_task *task, int64_t *id,
		 struct error *err)
{
	int r = submit_check(task, err);

	if (r < 0)
		return r;
	r = store_tx_begin(store, err);
	if (r < 0)
		return r;
	return store_tx_end(store, submit_locked(store, task, id, err), err);
}

/* ---- queued -> running ---------------------------------------------------- */

static int mark_running_locked(struct store *store, int64_t id, const struct store_start *st,
			       struct error *err)
{
	struct store_binder b;
	char detail[160];
	int rc, changes = 0;

	store_stmt_start(store, STORE_SQL_MARK_RUNNING, &b);
	store_bind_i64(&b, 1, id);
	store_bind_i64(&b, 2, st->started_at_us);
	store_bind_opt_i64(&b, 3, st->deadline_us, 0);
	store_bind_i64(&b, 4, st->cpu_reserved_us);
	store_bind_opt_i64(&b, 5, st->host_uid, -1);
	store_bind_text(&b, 6, st->cgroup);
	store_bind_i64(&b, 7, st->attempts);
	rc = store_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "mark running", "mark task %" PRId64 " running",
					 id);
	if (changes == 0)
		return refused(store, id, "start", "queued", err);
	snprintf(detail, sizeof(detail), "attempt %d, host uid %" PRId64 ", cgroup %s",
		 st->attempts, st->host_uid, st->cgroup ? st->cgroup : "-");
	return append_event(store, id, st->started_at_us, "running", detail, err);
}

int store_mark_running(struct store *store, int64_t id, const struct store_start *start,
		       struct error *err)
{
	int r;

	if (start->cpu_reserved_us < 0 || start->attempts < 0)
		return error_set(err, EINVAL, "start", "start task %" PRId64 ": negative reservation or attempts", id);
	r = store_tx_begin(store, err);
	if (r < 0)
		return r;
	return store_tx_end(store, mark_running_locked(store, id, start, err), err);
}

/* ---- charging ------------------------------------------------------------- */

static int charge_locked(struct store *store, int64_t id, int64_t expected, int64_t new_cursor,
			 const char *month, int64_t now_us, struct error *err)
{
	struct store_binder b;
	char user[256] = "";
	struct cursor_row row;
	int rc, r;

	store_stmt_start(store, STORE_SQL_CHARGE_CURSOR, &b);
	store_bind_i64(&b, 1, id);
	store_bind_i64(&b, 2, expected);
	store_bind_i64(&b, 3, new_cursor);
	store_bind_i64(&b, 4, now_us);
	rc = store_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		snprintf(user, sizeof(user), "%s", (const char *)sqlite3_column_text(b.stmt, 0));
		rc = sqlite3_step(b.stmt);
	}
	store_stmt_done(&b);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "charge", "charge task %" PRId64, id);
	if (!user[0]) {
		r = read_cursor(store, id, &row, "charge", err);
		if (r < 0)
			return r;
		if (strcmp(row.state, "running") != 0)
			return error_set(err, ESTALE, "charge", "charge task %" PRId64 ": it is %s, not running",
					  id, row.state);
		return error_set(err, ESTALE, "charge",
				  "charge task %" PRId64 ": cursor is at %" PRId64 " us, not %" PRId64
				  " (already charged)", id, row.charged_us, expected);
	}
	return usage_add(store, user, month, new_cursor - expected, id, err);
}

int store_charge(struct store *store, int64_t id, int64_t expected_cursor_us,
		 int64_t new_cursor_us, const char *month, int64_t now_us, struct error *err)
{
	int r;

	if (!month_valid(month))
		return error_set(err, EINVAL, "charge", "charge task %" PRId64 ": month '%s' is not YYYY-MM",
				  id, month ? month : "(null)");
	if (expected_cursor_us < 0 || new_cursor_us < expected_cursor_us)
		return error_set(err, EINVAL, "charge",
				  "charge task %" PRId64 ": cursor would go from %" PRId64 " to %" PRId64 " us",
				  id, expected_cursor_us, new_cursor_us);
	r = store_tx_begin(store, err);
	if (r < 0)
		return r;
	return store_tx_end(store, charge_locked(store, id, expected_cursor_us, new_cursor_us, month,
						 now_us, err), err);
}

/* ---- finish ---------------------------------------------------------------- */

static int finish_locked(struct store *store, int64_t id, const struct store_result *res,
			 struct error *err)
{
	struct store_binder b;
	struct cursor_row row;
	enum store_task_state from;
	int64_t delta;
	char detail[200];
	int rc, r, changes = 0;

	r = read_cursor(store, id, &row, "finish", err);
	if (r < 0)
		return r;
	if (task_state_parse(row.state, &from) < 0 || task_state_is_terminal(from))
		return error_set(err, ESTALE, "finish", "finish task %" PRId64 ": it already ended (%s)",
				  id, row.state);
	if (!task_state_can_move(from, res->state))
		return error_set(err, ESTALE, "finish", "finish task %" PRId64 ": it is %s, and %s -> %s is not allowed",
				  id, row.state, row.state, task_state_name(res->state));
	/* A final total below the cursor (a counter that went back) charges
	 * nothing and leaves the cursor where it was. */
	delta = res->cpu_total_us > row.charged_us ? res->cpu_total_us - row.charged_us : 0;

	store_stmt_start(store, STORE_SQL_FINISH, &b);
	store_bind_i64(&b, 1, id);
	store_bind_text(&b, 2, task_state_name(res->state));
	store_bind_text(&b, 3, task_state_reason_name(res->reason));
	store_bind_text(&b, 4, res->message);
	store_bind_opt_i64(&b, 5, res->usage.exit_code, -1);
	store_bind_opt_i64(&b, 6, res->usage.signal, -1);
	store_bind_i64(&b, 7, res->ended_at_us);
	store_bind_i64(&b, 8, row.charged_us + delta);
	store_bind_i64(&b, 9, res->usage.cpu_user_us);
	store_bind_i64(&b, 10, res->usage.cpu_system_us);
	store_bind_i64(&b, 11, res->usage.memory_peak_bytes);
	store_bind_i64(&b, 12, res->usage.stdout_bytes);
	store_bind_i64(&b, 13, res->usage.stderr_bytes);
	store_bind_i64(&b, 14, res->usage.stdout_truncated);
	store_bind_i64(&b, 15, res->usage.stderr_truncated);
	store_bind_i64(&b, 16, row.charged_us);
	store_bind_text(&b, 17, row.state);
	rc = store_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "finish", "finish task %" PRId64, id);
	if (changes == 0)
		return refused(store, id, "finish", "in the state and at the cursor just read", err);
	r = usage_add(store, row.user, res->month, delta, id, err);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "%s (%s), charged %" PRId64 " us to %s",
		 task_state_name(res->state), task_state_reason_name(res->reason), delta, res->month);
	return append_event(store, id, res->ended_at_us, "finished", detail, err);
}

int store_finish(struct store *store, int64_t id, const struct store_result *result,
		 struct error *err)
{
	int r;

	if (result->state != STORE_SUCCEEDED && result->state != STORE_FAILED &&
	    result->state != STORE_CANCELLED)
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": state %s is not terminal",
				  id, task_state_name(result->state) ? task_state_name(result->state) : "?");
	if (result->reason == STORE_REASON_NONE || !task_state_reason_name(result->reason))
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": no valid reason", id);
	if (!month_valid(result->month))
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": month '%s' is not YYYY-MM",
				  id, result->month ? result->month : "(null)");
	if (result->cpu_total_us < 0)
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": negative CPU total", id);
	r = store_tx_begin(store, err);
	if (r < 0)
		return r;
	return store_tx_end(store, finish_locked(store, id, result, err), err);
}

/* ---- cancel ------------------------------------------------------------------ */

static int guarded_update(struct store *store, enum store_sql which, int64_t id, int64_t now_us,
			  const char *step, const char *wanted, const char *event,
			  struct error *err)
{
	struct store_binder b;
	int rc, changes = 0;

	store_stmt_start(store, which, &b);
	store_bind_i64(&b, 1, id);
	if (which == STORE_SQL_CANCEL_QUEUED)
		store_bind_i64(&b, 2, now_us);
	rc = store_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, step, "%s task %" PRId64, step, id);
	if (changes == 0)
		return refused(store, id, step, wanted, err);
	return append_event(store, id, now_us, event, NULL, err);
}

int store_cancel_queued(struct store *store, int64_t id, int64_t now_us, struct error *err)
{
	int r = store_tx_begin(store, err);

	if (r < 0)
		return r;
	return store_tx_end(store, guarded_update(store, STORE_SQL_CANCEL_QUEUED, id, now_us, "cancel",
						  "queued", "cancelled", err), err);
}

int store_request_cancel(struct store *store, int64_t id, int64_t now_us, struct error *err)
{
	int r = store_tx_begin(store, err);

	if (r < 0)
		return r;
	return store_tx_end(store, guarded_update(store, STORE_SQL_REQUEST_CANCEL, id, now_us,
						  "request cancel", "running", "cancel_requested", err),
			    err);
}

/* ---- events ----------------------------------------------------------------- */

int store_event_append(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
		       const char *detail, struct error *err)
{
	int r;

	if (!kind || !kind[0])
		return error_set(err, EINVAL, "event", "event of task %" PRId64 ": empty kind", task_id);
	r = store_tx_begin(store, err);
	if (r < 0)
		return r;
	return store_tx_end(store, append_event(store, task_id, at_us, kind, detail, err), err);
}
