/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_read.c — reads of the store on
 * PostgreSQL: one task, lists of tasks (queued in submit order, running,
 * filtered), monthly usage, queue counts, a task's events, usage
 * adjustments (what they return is freed by store.c).  Each read is one
 * statement: it sees the last committed state (or the open batch's own
 * changes) and takes no lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* ---- rows -> structs ---------------------------------------------------- */

static int task_from_row(const PGresult *res, int row, struct store_task *t)
{
	bool oom = false;
	const char *state = PQgetvalue(res, row, TC_STATE);
	const char *reason = PQgetisnull(res, row, TC_REASON) ? NULL : PQgetvalue(res, row, TC_REASON);

	memset(t, 0, sizeof(*t));
	t->id = store_pg_i64(res, row, TC_ID, 0);
	t->user = store_pg_dup(res, row, TC_USER, &oom);
	t->submitted_by_uid = store_pg_i64(res, row, TC_SUBMITTED_BY_UID, 0);
	t->profile = store_pg_dup(res, row, TC_PROFILE, &oom);
	t->argv_json = store_pg_dup(res, row, TC_ARGV, &oom);
	t->env_json = store_pg_dup(res, row, TC_ENV, &oom);
	t->cwd = store_pg_dup(res, row, TC_CWD, &oom);
	t->stdin_path = store_pg_dup(res, row, TC_STDIN, &oom);
	t->wall_limit_ms = store_pg_i64(res, row, TC_WALL_LIMIT, 0);
	t->cpu_limit_us = store_pg_i64(res, row, TC_CPU_LIMIT, 0);
	t->memory_limit_bytes = store_pg_i64(res, row, TC_MEMORY_LIMIT, 0);
	if (task_state_parse(state, &t->state) < 0)
		t->state = STORE_FAILED; /* the CHECK constraint makes this unreachable */
	if (!reason || task_state_reason_parse(reason, &t->reason) < 0)
		t->reason = STORE_REASON_NONE;
	t->message = store_pg_dup(res, row, TC_MESSAGE, &oom);
	t->usage.exit_code = (int)store_pg_i64(res, row, TC_EXIT_CODE, -1);
	t->usage.signal = (int)store_pg_i64(res, row, TC_SIGNAL, -1);
	t->submitted_at_us = store_pg_i64(res, row, TC_SUBMITTED_AT, 0);
	t->started_at_us = store_pg_i64(res, row, TC_STARTED_AT, 0);
	t->ended_at_us = store_pg_i64(res, row, TC_ENDED_AT, 0);
	t->deadline_us = store_pg_i64(res, row, TC_DEADLINE, 0);
	t->cpu_reserved_us = store_pg_i64(res, row, TC_CPU_RESERVED, 0);
	t->cpu_charged_us = store_pg_i64(res, row, TC_CPU_CHARGED, 0);
	t->charged_at_us = store_pg_i64(res, row, TC_CHARGED_AT, 0);
	t->usage.cpu_user_us = store_pg_i64(res, row, TC_CPU_USER, 0);
	t->usage.cpu_system_us = store_pg_i64(res, row, TC_CPU_SYSTEM, 0);
	t->usage.memory_peak_bytes = store_pg_i64(res, row, TC_MEMORY_PEAK, 0);
	t->usage.stdout_bytes = store_pg_i64(res, row, TC_STDOUT_BYTES, 0);
	t->usage.stderr_bytes = store_pg_i64(res, row, TC_STDERR_BYTES, 0);
	t->usage.stdout_truncated = store_pg_i64(res, row, TC_STDOUT_TRUNCATED, 0) != 0;
	t->usage.stderr_truncated = store_pg_i64(res, row, TC_STDERR_TRUNCATED, 0) != 0;
	t->attempts = (int)store_pg_i64(res, row, TC_ATTEMPTS, 0);
	t->host_uid = store_pg_i64(res, row, TC_HOST_UID, -1);
	t->cgroup = store_pg_dup(res, row, TC_CGROUP, &oom);
	t->cancel_requested = store_pg_i64(res, row, TC_CANCEL_REQUESTED, 0) != 0;
	t->cpu_prior_us = store_pg_i64(res, row, TC_CPU_PRIOR, 0);
	t->last_attempt_error = store_pg_dup(res, row, TC_LAST_ATTEMPT_ERROR, &oom);
	t->not_before_us = store_pg_i64(res, row, TC_NOT_BEFORE, 0);
	t->stored_bytes = store_pg_i64(res, row, TC_STORED_BYTES, 0);
	t->gpus = store_pg_i64(res, row, TC_GPUS, 0);
	t->gpu_memory_bytes = store_pg_i64(res, row, TC_GPU_MEMORY, 0);
	t->labels = store_pg_dup(res, row, TC_LABELS, &oom);
	t->node_name = store_pg_dup(res, row, TC_NODE_NAME, &oom);
	t->lease_owner = store_pg_dup(res, row, TC_LEASE_OWNER, &oom);
	t->assigned_capped = store_pg_i64(res, row, TC_ASSIGNED_CAPPED, 0) != 0;
	t->assigned_memory_bytes = store_pg_i64(res, row, TC_ASSIGNED_MEMORY, 0);
	t->usage.oom_kills = store_pg_i64(res, row, TC_OOM_KILLS, 0);
	t->cpu_millis = store_pg_i64(res, row, TC_CPU_MILLIS, 0);
	if (oom) {
		store_task_clear(t);
		return -ENOMEM;
	}
	return 0;
}

int store_pg_read_collect(struct store_pg *store, enum store_sql which, const struct store_pg_params *p,
			  struct store_task_list *out, const char *step, struct error *err)
{
	PGresult *res = store_pg_query(store, which, p);
	int rows;

	out->tasks = NULL;
	out->count = 0;
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s", step);
	rows = PQntuples(res);
	if (rows > 0) {
		out->tasks = calloc((size_t)rows, sizeof(*out->tasks));
		if (!out->tasks) {
			PQclear(res);
			return error_set(err, ENOMEM, step, "%s", step);
		}
	}
	for (int i = 0; i < rows; i++) {
		if (task_from_row(res, i, &out->tasks[i]) < 0) {
			PQclear(res);
			store_task_list_free(out);
			return error_set(err, ENOMEM, step, "%s", step);
		}
		out->count++;
	}
	PQclear(res);
	return 0;
}

/* ---- tasks ------------------------------------------------------------------ */

int store_pg_read_get_task(struct store *base, int64_t id, struct store_task *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	PGresult *res;
	int r;

	memset(out, 0, sizeof(*out));
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, id);
	res = store_pg_query(store, STORE_SQL_GET_TASK, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "get task", "read task %" PRId64, id);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return error_set(err, ENOENT, "get task", "task %" PRId64 ": no such task", id);
	}
	r = task_from_row(res, 0, out);
	PQclear(res);
	if (r < 0)
		return error_set(err, -r, "get task", "read task %" PRId64, id);
	return 0;
}

static int load_state(struct store_pg *store, const char *state, struct store_task_list *out,
		      const char *step, struct error *err)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, state);
	return store_pg_read_collect(store, STORE_SQL_LOAD_STATE, &p, out, step, err);
}

int store_pg_read_load_queued(struct store *base, struct store_task_list *out, struct error *err)
{
	return load_state(store_pg_of(base), "queued", out, "load queued tasks", err);
}

int store_pg_read_load_running(struct store *base, struct store_task_list *out, struct error *err)
{
	return load_state(store_pg_of(base), "running", out, "load running tasks", err);
}

int store_pg_read_list_tasks(struct store *base, const struct store_filter *filter,
			     struct store_task_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	const char *state = filter->state != -1 ? task_state_name((enum store_task_state)filter->state)
						: NULL;
	struct store_pg_params p;
	enum store_sql which;

	which = filter->user ? (state ? STORE_SQL_LIST_USER_STATE : STORE_SQL_LIST_USER)
			     : (state ? STORE_SQL_LIST_STATE : STORE_SQL_LIST_ALL);
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1,
			   filter->limit > 0 && filter->limit < INT64_MAX ? (int64_t)filter->limit
									  : INT64_MAX);
	if (filter->user)
		store_pg_param_text(&p, 2, filter->user);
	if (state)
		store_pg_param_text(&p, 3, state);
	store_pg_param_i64(&p, 4, filter->before_id > 0 ? filter->before_id : INT64_MAX);
	store_pg_param_i64(&p, 5, filter->since_us > 0 ? filter->since_us : 0);
	store_pg_param_i64(&p, 6, filter->until_us > 0 ? filter->until_us : INT64_MAX);
	return store_pg_read_collect(store, which, &p, out, "list tasks", err);
}

/* One int64 from a one-row statement; 0 when it returns no row. */
static int query_i64(struct store_pg *store, enum store_sql which, const char *a, const char *b, int64_t *out,
		     struct error *err, const char *step, const char *what)
{
	struct store_pg_params p;
	PGresult *res;

	*out = 0;
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, a);
	store_pg_param_text(&p, 2, b);
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s", what);
	if (PQntuples(res) > 0)
		*out = store_pg_i64(res, 0, 0, 0);
	PQclear(res);
	return 0;
}

int store_pg_read_count_queued(struct store *base, const char *user, int64_t *count, struct error *err)
{
	return query_i64(store_pg_of(base), STORE_SQL_COUNT_QUEUED, user, NULL, count, err, "count queued",
			 "count queued tasks");
}

/* ---- usage -------------------------------------------------------------------- */

int store_pg_read_usage_get(struct store *base, const char *user, const char *month, int64_t *cpu_us,
			    struct error *err)
{
	return query_i64(store_pg_of(base), STORE_SQL_USAGE_GET, user, month, cpu_us, err, "usage",
			 "read usage");
}

int store_pg_read_usage_month(struct store *base, const char *month, struct store_usage_list *out,
			      struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows;

	out->items = NULL;
	out->count = 0;
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, month);
	res = store_pg_query(store, STORE_SQL_USAGE_MONTH, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "usage", "read usage of %s", month);
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		out->items[i].user = store_pg_dup(res, i, 0, &oom);
		out->items[i].cpu_us = store_pg_i64(res, i, 1, 0);
		out->count++;
	}
	PQclear(res);
	if (oom) {
		store_usage_list_free(out);
		return error_set(err, ENOMEM, "usage", "read usage of %s", month);
	}
	return 0;
}

/* ---- events ---------------------------------------------------------------------- */

int store_pg_read_list_events(struct store *base, int64_t task_id, struct store_event_list *out,
			      struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows;

	out->items = NULL;
	out->count = 0;
	store_pg_params_init(&p);
	store_pg_param_i64(&p, 1, task_id);
	res = store_pg_query(store, STORE_SQL_EVENTS, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "events", "read events of task %" PRId64,
					   task_id);
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct store_event *e = &out->items[out->count++];

		e->id = store_pg_i64(res, i, 0, 0);
		e->task_id = store_pg_i64(res, i, 1, 0);
		e->at_us = store_pg_i64(res, i, 2, 0);
		e->kind = store_pg_dup(res, i, 3, &oom);
		e->detail = store_pg_dup(res, i, 4, &oom);
	}
	PQclear(res);
	if (oom) {
		store_event_list_free(out);
		return error_set(err, ENOMEM, "events", "read events of task %" PRId64, task_id);
	}
	return 0;
}

/* ---- usage adjustments ------------------------------------------------------------ */

int store_pg_read_usage_adjust_sum(struct store *base, const char *user, const char *month, int64_t *sum_us,
				   struct error *err)
{
	return query_i64(store_pg_of(base), STORE_SQL_ADJUST_SUM, user, month, sum_us, err, "adjust",
			 "read adjustments");
}

int store_pg_read_usage_adjustments(struct store *base, const char *user, const char *month,
				    struct store_adjustment_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	struct store_pg_params p;
	bool oom = false;
	PGresult *res;
	int rows;

	out->items = NULL;
	out->count = 0;
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, month);
	if (user)
		store_pg_param_text(&p, 2, user);
	res = store_pg_query(store, user ? STORE_SQL_ADJUST_LIST_USER : STORE_SQL_ADJUST_LIST_MONTH, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "adjust", "read adjustments of %s", month);
	rows = PQntuples(res);
	if (rows > 0 && !(out->items = calloc((size_t)rows, sizeof(*out->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct store_adjustment *a = &out->items[out->count++];

		a->id = store_pg_i64(res, i, 0, 0);
		a->user = store_pg_dup(res, i, 1, &oom);
		a->month = store_pg_dup(res, i, 2, &oom);
		a->delta_us = store_pg_i64(res, i, 3, 0);
		a->by = store_pg_dup(res, i, 4, &oom);
		a->by_uid = store_pg_i64(res, i, 5, 0);
		a->at_us = store_pg_i64(res, i, 6, 0);
		a->reason = store_pg_dup(res, i, 7, &oom);
	}
	PQclear(res);
	if (oom) {
		store_adjustment_list_free(out);
		return error_set(err, ENOMEM, "adjust", "read adjustments of %s", month);
	}
	return 0;
}
