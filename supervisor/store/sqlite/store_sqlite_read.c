/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_read.c — reads of the store: one task, lists of
 * tasks (queued in submit order, running, filtered), monthly usage, queue
 * counts, a task's events, usage adjustments (what they return is freed by
 * store.c).  Reads
 * take no write lock and see the last committed state (WAL readers never
 * block the writer).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

/* ---- rows -> structs ---------------------------------------------------- */

/* strdup of a TEXT column; NULL stays NULL.  Sets *oom on failure. */
char *store_sqlite_read_column_dup(sqlite3_stmt *stmt, int col, bool *oom)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);
	char *copy;

	if (!text)
		return NULL;
	copy = strdup((const char *)text);
	if (!copy)
		*oom = true;
	return copy;
}

static int64_t column_opt_i64(sqlite3_stmt *stmt, int col, int64_t none)
{
	return sqlite3_column_type(stmt, col) == SQLITE_NULL ? none : sqlite3_column_int64(stmt, col);
}

static int task_from_row(sqlite3_stmt *stmt, struct store_task *t)
{
	bool oom = false;
	const char *state = (const char *)sqlite3_column_text(stmt, TC_STATE);
	const char *reason = (const char *)sqlite3_column_text(stmt, TC_REASON);

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(stmt, TC_ID);
	t->user = store_sqlite_read_column_dup(stmt, TC_USER, &oom);
	t->submitted_by_uid = sqlite3_column_int64(stmt, TC_SUBMITTED_BY_UID);
	t->profile = store_sqlite_read_column_dup(stmt, TC_PROFILE, &oom);
	t->argv_json = store_sqlite_read_column_dup(stmt, TC_ARGV, &oom);
	t->env_json = store_sqlite_read_column_dup(stmt, TC_ENV, &oom);
	t->cwd = store_sqlite_read_column_dup(stmt, TC_CWD, &oom);
	t->stdin_path = store_sqlite_read_column_dup(stmt, TC_STDIN, &oom);
	t->wall_limit_ms = sqlite3_column_int64(stmt, TC_WALL_LIMIT);
	t->cpu_limit_us = sqlite3_column_int64(stmt, TC_CPU_LIMIT);
	t->memory_limit_bytes = sqlite3_column_int64(stmt, TC_MEMORY_LIMIT);
	if (task_state_parse(state, &t->state) < 0)
		t->state = STORE_FAILED; /* the CHECK constraint makes this unreachable */
	if (!reason || task_state_reason_parse(reason, &t->reason) < 0)
		t->reason = STORE_REASON_NONE;
	t->message = store_sqlite_read_column_dup(stmt, TC_MESSAGE, &oom);
	t->usage.exit_code = (int)column_opt_i64(stmt, TC_EXIT_CODE, -1);
	t->usage.signal = (int)column_opt_i64(stmt, TC_SIGNAL, -1);
	t->submitted_at_us = sqlite3_column_int64(stmt, TC_SUBMITTED_AT);
	t->started_at_us = column_opt_i64(stmt, TC_STARTED_AT, 0);
	t->ended_at_us = column_opt_i64(stmt, TC_ENDED_AT, 0);
	t->deadline_us = column_opt_i64(stmt, TC_DEADLINE, 0);
	t->cpu_reserved_us = sqlite3_column_int64(stmt, TC_CPU_RESERVED);
	t->cpu_charged_us = sqlite3_column_int64(stmt, TC_CPU_CHARGED);
	t->charged_at_us = column_opt_i64(stmt, TC_CHARGED_AT, 0);
	t->usage.cpu_user_us = sqlite3_column_int64(stmt, TC_CPU_USER);
	t->usage.cpu_system_us = sqlite3_column_int64(stmt, TC_CPU_SYSTEM);
	t->usage.memory_peak_bytes = sqlite3_column_int64(stmt, TC_MEMORY_PEAK);
	t->usage.stdout_bytes = sqlite3_column_int64(stmt, TC_STDOUT_BYTES);
	t->usage.stderr_bytes = sqlite3_column_int64(stmt, TC_STDERR_BYTES);
	t->usage.stdout_truncated = sqlite3_column_int64(stmt, TC_STDOUT_TRUNCATED) != 0;
	t->usage.stderr_truncated = sqlite3_column_int64(stmt, TC_STDERR_TRUNCATED) != 0;
	t->attempts = (int)sqlite3_column_int64(stmt, TC_ATTEMPTS);
	t->host_uid = column_opt_i64(stmt, TC_HOST_UID, -1);
	t->cgroup = store_sqlite_read_column_dup(stmt, TC_CGROUP, &oom);
	t->cancel_requested = sqlite3_column_int64(stmt, TC_CANCEL_REQUESTED) != 0;
	t->cpu_prior_us = sqlite3_column_int64(stmt, TC_CPU_PRIOR);
	t->last_attempt_error = store_sqlite_read_column_dup(stmt, TC_LAST_ATTEMPT_ERROR, &oom);
	t->not_before_us = sqlite3_column_int64(stmt, TC_NOT_BEFORE);
	t->stored_bytes = sqlite3_column_int64(stmt, TC_STORED_BYTES);
	t->gpus = sqlite3_column_int64(stmt, TC_GPUS);
	t->gpu_memory_bytes = sqlite3_column_int64(stmt, TC_GPU_MEMORY);
	t->labels = store_sqlite_read_column_dup(stmt, TC_LABELS, &oom);
	t->node_name = store_sqlite_read_column_dup(stmt, TC_NODE_NAME, &oom);
	t->lease_owner = store_sqlite_read_column_dup(stmt, TC_LEASE_OWNER, &oom);
	t->assigned_capped = sqlite3_column_int64(stmt, TC_ASSIGNED_CAPPED) != 0;
	t->assigned_memory_bytes = sqlite3_column_int64(stmt, TC_ASSIGNED_MEMORY);
	t->usage.oom_kills = sqlite3_column_int64(stmt, TC_OOM_KILLS);
	t->cpu_millis = sqlite3_column_int64(stmt, TC_CPU_MILLIS);
	if (oom) {
		store_task_clear(t);
		return -ENOMEM;
	}
	return 0;
}

/* Grow *items (of size elem) so index count fits; doubles the capacity. */
int store_sqlite_read_grow(void **items, size_t *capacity, size_t count, size_t elem)
{
	size_t cap = *capacity ? *capacity * 2 : 16;
	void *bigger;

	if (count < *capacity)
		return 0;
	bigger = reallocarray(*items, cap, elem);
	if (!bigger)
		return -ENOMEM;
	*items = bigger;
	*capacity = cap;
	return 0;
}

int store_sqlite_read_collect(struct store_sqlite_binder *b, struct store_task_list *out, const char *step,
			      struct error *err)
{
	size_t capacity = 0;
	int rc, r = 0;

	out->tasks = NULL;
	out->count = 0;
	while ((rc = store_sqlite_stmt_step(b)) == SQLITE_ROW) {
		r = store_sqlite_read_grow((void **)&out->tasks, &capacity, out->count, sizeof(*out->tasks));
		if (r == 0)
			r = task_from_row(b->stmt, &out->tasks[out->count]);
		if (r < 0)
			break;
		out->count++;
	}
	store_sqlite_stmt_done(b);
	if (r < 0) {
		store_task_list_free(out);
		return error_set(err, -r, step, "%s", step);
	}
	if (rc != SQLITE_DONE) {
		store_task_list_free(out);
		return store_sqlite_fail(b->store, rc, err, step, "%s", step);
	}
	return 0;
}

/* ---- tasks ------------------------------------------------------------------ */

int store_sqlite_read_get_task(struct store *base, int64_t id, struct store_task *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	store_sqlite_stmt_start(store, STORE_SQL_GET_TASK, &b);
	store_sqlite_bind_i64(&b, 1, id);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW)
		r = task_from_row(b.stmt, out);
	store_sqlite_stmt_done(&b);
	if (rc == SQLITE_DONE)
		return error_set(err, ENOENT, "get task", "task %" PRId64 ": no such task", id);
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(store, rc, err, "get task", "read task %" PRId64, id);
	if (r < 0)
		return error_set(err, -r, "get task", "read task %" PRId64, id);
	return 0;
}

static int load_state(struct store_sqlite *store, const char *state, struct store_task_list *out,
		      const char *step, struct error *err)
{
	struct store_sqlite_binder b;

	store_sqlite_stmt_start(store, STORE_SQL_LOAD_STATE, &b);
	store_sqlite_bind_text(&b, 1, state);
	return store_sqlite_read_collect(&b, out, step, err);
}

int store_sqlite_read_load_queued(struct store *base, struct store_task_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	return load_state(store, "queued", out, "load queued tasks", err);
}

int store_sqlite_read_load_running(struct store *base, struct store_task_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	return load_state(store, "running", out, "load running tasks", err);
}

int store_sqlite_read_list_tasks(struct store *base, const struct store_filter *filter,
				 struct store_task_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	const char *state = filter->state != -1 ? task_state_name((enum store_task_state)filter->state)
						: NULL;
	enum store_sql which;
	struct store_sqlite_binder b;

	which = filter->user ? (state ? STORE_SQL_LIST_USER_STATE : STORE_SQL_LIST_USER)
			     : (state ? STORE_SQL_LIST_STATE : STORE_SQL_LIST_ALL);
	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_i64(&b, 1,
			      filter->limit > 0 && filter->limit < INT64_MAX ? (int64_t)filter->limit
									     : INT64_MAX);
	if (filter->user)
		store_sqlite_bind_text(&b, 2, filter->user);
	if (state)
		store_sqlite_bind_text(&b, 3, state);
	store_sqlite_bind_i64(&b, 4, filter->before_id > 0 ? filter->before_id : INT64_MAX);
	store_sqlite_bind_i64(&b, 5, filter->since_us > 0 ? filter->since_us : 0);
	store_sqlite_bind_i64(&b, 6, filter->until_us > 0 ? filter->until_us : INT64_MAX);
	return store_sqlite_read_collect(&b, out, "list tasks", err);
}

/* The first column of the first row of a statement bound with user (and
 * month when not NULL), or 0 when it returns no row: SQLITE_OK or the error. */
static int read_i64(struct store_sqlite *store, enum store_sql which, const char *user, const char *month,
		    int64_t *out)
{
	struct store_sqlite_binder b;
	int rc;

	*out = 0;
	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_text(&b, 1, user);
	if (month)
		store_sqlite_bind_text(&b, 2, month);
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(b.stmt, 0);
	store_sqlite_stmt_done(&b);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int store_sqlite_read_count_queued(struct store *base, const char *user, int64_t *count, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int rc = read_i64(store, STORE_SQL_COUNT_QUEUED, user, NULL, count);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "count queued", "count queued tasks of %s",
					 user ? user : "(null)");
	return 0;
}

/* ---- usage -------------------------------------------------------------------- */

int store_sqlite_read_usage_get(struct store *base, const char *user, const char *month, int64_t *cpu_us,
				struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int rc = read_i64(store, STORE_SQL_USAGE_GET, user, month, cpu_us);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "usage", "read usage of %s in %s",
					 user ? user : "(null)", month ? month : "(null)");
	return 0;
}

int store_sqlite_read_usage_month(struct store *base, const char *month, struct store_usage_list *out,
				  struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	out->items = NULL;
	out->count = 0;
	store_sqlite_stmt_start(store, STORE_SQL_USAGE_MONTH, &b);
	store_sqlite_bind_text(&b, 1, month);
	while (!oom && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_usage *u;

		if (store_sqlite_read_grow((void **)&out->items, &capacity, out->count, sizeof(*out->items)) <
		    0) {
			oom = true;
			break;
		}
		u = &out->items[out->count];
		u->user = store_sqlite_read_column_dup(b.stmt, 0, &oom);
		u->cpu_us = sqlite3_column_int64(b.stmt, 1);
		if (!oom)
			out->count++;
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_usage_list_free(out);
		return error_set(err, ENOMEM, "usage", "read usage of %s", month);
	}
	if (rc != SQLITE_DONE) {
		store_usage_list_free(out);
		return store_sqlite_fail(store, rc, err, "usage", "read usage of %s",
					 month ? month : "(null)");
	}
	return 0;
}

/* ---- events ---------------------------------------------------------------------- */

int store_sqlite_read_list_events(struct store *base, int64_t task_id, struct store_event_list *out,
				  struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	out->items = NULL;
	out->count = 0;
	store_sqlite_stmt_start(store, STORE_SQL_EVENTS, &b);
	store_sqlite_bind_i64(&b, 1, task_id);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_event *e;

		if (store_sqlite_read_grow((void **)&out->items, &capacity, out->count, sizeof(*out->items)) <
		    0) {
			oom = true;
			break;
		}
		e = &out->items[out->count++];
		e->id = sqlite3_column_int64(b.stmt, 0);
		e->task_id = sqlite3_column_int64(b.stmt, 1);
		e->at_us = sqlite3_column_int64(b.stmt, 2);
		e->kind = store_sqlite_read_column_dup(b.stmt, 3, &oom);
		e->detail = store_sqlite_read_column_dup(b.stmt, 4, &oom);
		if (oom)
			break;
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_event_list_free(out);
		return error_set(err, ENOMEM, "events", "read events of task %" PRId64, task_id);
	}
	if (rc != SQLITE_DONE) {
		store_event_list_free(out);
		return store_sqlite_fail(store, rc, err, "events", "read events of task %" PRId64, task_id);
	}
	return 0;
}

/* ---- usage adjustments ------------------------------------------------------------ */

int store_sqlite_read_usage_adjust_sum(struct store *base, const char *user, const char *month,
				       int64_t *sum_us, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int rc = read_i64(store, STORE_SQL_ADJUST_SUM, user, month, sum_us);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "adjust", "read adjustments of %s in %s", user,
					 month);
	return 0;
}

int store_sqlite_read_usage_adjustments(struct store *base, const char *user, const char *month,
					struct store_adjustment_list *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	struct store_sqlite_binder b;
	size_t capacity = 0;
	bool oom = false;
	int rc;

	out->items = NULL;
	out->count = 0;
	store_sqlite_stmt_start(store, user ? STORE_SQL_ADJUST_LIST_USER : STORE_SQL_ADJUST_LIST_MONTH, &b);
	store_sqlite_bind_text(&b, 1, month);
	if (user)
		store_sqlite_bind_text(&b, 2, user);
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		struct store_adjustment *a;

		if (store_sqlite_read_grow((void **)&out->items, &capacity, out->count, sizeof(*out->items)) <
		    0) {
			oom = true;
			break;
		}
		a = &out->items[out->count++];
		memset(a, 0, sizeof(*a));
		a->id = sqlite3_column_int64(b.stmt, 0);
		a->user = store_sqlite_read_column_dup(b.stmt, 1, &oom);
		a->month = store_sqlite_read_column_dup(b.stmt, 2, &oom);
		a->delta_us = sqlite3_column_int64(b.stmt, 3);
		a->by = store_sqlite_read_column_dup(b.stmt, 4, &oom);
		a->by_uid = sqlite3_column_int64(b.stmt, 5);
		a->at_us = sqlite3_column_int64(b.stmt, 6);
		a->reason = store_sqlite_read_column_dup(b.stmt, 7, &oom);
		if (oom)
			break;
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_adjustment_list_free(out);
		return error_set(err, ENOMEM, "adjust", "read adjustments of %s", month);
	}
	if (rc != SQLITE_DONE) {
		store_adjustment_list_free(out);
		return store_sqlite_fail(store, rc, err, "adjust", "read adjustments of %s", month);
	}
	return 0;
}
