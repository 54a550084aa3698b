/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store.c — the store's generic half: the store URI ->
 * backend (store_backend.h), the argument checks every backend shares (so
 * a backend gets only well-formed tasks, months and ends), dispatch through
 * the backend's table, and freeing what reads return.  No SQL here: that is
 * store_sql.c and the backends (sqlite/, postgres/).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "supervisor/common/macros.h"
#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_node.h"
#include "supervisor/store/store_text.h"

/* ---- URI -> backend -------------------------------------------------------- */

/* A URI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986).
 * Returns its length (without the colon), 0 when uri has none. */
static size_t scheme_length(const char *uri)
{
	size_t n = 0;

	if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
		return 0;
	while (uri[n] && uri[n] != ':' && uri[n] != '/' &&
	       (strchr("+-.", uri[n]) || (uri[n] >= '0' && uri[n] <= '9') ||
		(uri[n] >= 'a' && uri[n] <= 'z') || (uri[n] >= 'A' && uri[n] <= 'Z')))
		n++;
	return uri[n] == ':' ? n : 0;
}

int store_uri_parse(const char *uri, const char **backend, const char **location, struct error *err)
{
	size_t n;

	if (!uri || !uri[0])
		return error_set(err, EINVAL, "open", "open store: empty store URI");
	n = scheme_length(uri);
	if (n == 0) {
		*backend = "sqlite"; /* a plain path */
		*location = uri;
		return 0;
	}
	if (n == 6 && strncasecmp(uri, "sqlite", n) == 0) {
		const char *path = uri + n + 1;

		if (strncmp(path, "///", 3) == 0)
			path += 2; /* sqlite:///abs/path */
		else if (strncmp(path, "//", 2) == 0)
			return error_set(
				err, EINVAL, "open",
				"open store %s: sqlite: takes a path (sqlite:PATH or sqlite:///ABSOLUTE/PATH), not a host",
				uri);
		if (!path[0])
			return error_set(err, EINVAL, "open",
					 "open store %s: no database path after sqlite:", uri);
		*backend = "sqlite";
		*location = path;
		return 0;
	}
	if ((n == 10 && strncasecmp(uri, "postgresql", n) == 0) ||
	    (n == 8 && strncasecmp(uri, "postgres", n) == 0)) {
		*backend = "postgresql";
		*location = uri; /* libpq takes the whole URI */
		return 0;
	}
	/* Not echoed whole: a URI may carry a password. */
	return error_set(
		err, EPROTONOSUPPORT, "open",
		"open store: unknown store URI scheme '%.*s' (use a path, sqlite:PATH or postgresql://...)",
		(int)(n > 32 ? 32 : n), uri);
}

static const struct store_backend *const backends[] = {
	&store_sqlite_backend,
	&store_pg_backend,
};

int store_open(const char *uri, const struct store_options *opts, struct store **out, struct error *err)
{
	static const struct store_options defaults = { 0 };
	const char *name = NULL, *location = NULL;
	int r;

	*out = NULL;
	r = store_uri_parse(uri, &name, &location, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i]->open(location, opts ? opts : &defaults, out, err);
	return error_set(err, EPROTONOSUPPORT, "open", "open store: no %s backend", name);
}

void store_close(struct store *store)
{
	if (store)
		store->backend->close(store);
}

int store_schema_version(struct store *store)
{
	return store->backend->schema_version(store);
}

int store_batch_begin(struct store *store, struct error *err)
{
	return store->backend->batch_begin(store, err);
}

int store_batch_commit(struct store *store, struct error *err)
{
	return store->backend->batch_commit(store, err);
}

void store_batch_abort(struct store *store)
{
	if (store)
		store->backend->batch_abort(store);
}

/* ---- checks every backend shares -------------------------------------------- */

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
		return error_set(err, EINVAL, "submit", "%s is not JSON: %s (line %d column %d)", what,
				 jerr.text, jerr.line, jerr.column);
	if (is_argv && json_is_array(root) && json_array_size(root) > 0) {
		size_t i;
		json_t *v;

		ok = true;
		json_array_foreach (root, i, v)
			ok = ok && json_is_string(v);
	} else if (!is_argv && json_is_object(root)) {
		const char *k;
		json_t *v;

		ok = true;
		json_object_foreach (root, k, v)
			ok = ok && json_is_string(v);
	}
	json_decref(root);
	if (!ok)
		return error_set(err, EINVAL, "submit", "%s must be %s", what,
				 is_argv ? "a non-empty JSON array of strings" : "a JSON object of strings");
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
	if (t->gpus < 0 || t->gpus > 1024 || t->gpu_memory_bytes < 0)
		return error_set(err, EINVAL, "submit", "submit for %s: GPUs %lld or GPU memory out of range",
				 t->user, (long long)t->gpus);
	if (t->cpu_millis < 0 || t->cpu_millis > STORE_MAX_CPU_MILLIS)
		return error_set(err, EINVAL, "submit",
				 "submit for %s: %lld thousandths of a CPU out of range", t->user,
				 (long long)t->cpu_millis);
	if (t->labels && strlen(t->labels) > STORE_NODE_LABELS_MAX)
		return error_set(err, EINVAL, "submit", "submit for %s: labels longer than %d bytes", t->user,
				 STORE_NODE_LABELS_MAX);
	return 0;
}

/* ---- state changes ------------------------------------------------------------- */

int64_t store_input_bytes(const struct store_task *task)
{
	return (int64_t)strlen(task->argv_json) + (int64_t)strlen(task->env_json ? task->env_json : "{}") +
		task->stdin_bytes;
}

int store_submit(struct store *store, const struct store_task *task, int64_t *id, struct error *err)
{
	struct store_task counted;
	int r = submit_check(task, err);

	if (r < 0)
		return r;
	if (task->stdin_bytes < 0)
		return error_set(err, EINVAL, "submit", "submit task for %s: negative stdin size",
				 task->user);
	counted = *task;
	counted.stored_bytes = store_input_bytes(task);
	return store->backend->submit(store, &counted, id, err);
}

int store_mark_running(struct store *store, int64_t id, const struct store_start *start, struct error *err)
{
	if (start->cpu_reserved_us < 0 || start->attempts < 0)
		return error_set(err, EINVAL, "start",
				 "start task %" PRId64 ": negative reservation or attempts", id);
	return store->backend->mark_running(store, id, start, err);
}

int store_requeue(struct store *store, int64_t id, const struct store_requeue *requeue, struct error *err)
{
	if (!requeue->reason || !requeue->reason[0])
		return error_set(err, EINVAL, "requeue", "requeue task %" PRId64 ": no reason", id);
	if (!month_valid(requeue->month))
		return error_set(err, EINVAL, "requeue",
				 "requeue task %" PRId64 ": month '%s' is not YYYY-MM", id,
				 requeue->month ? requeue->month : "(null)");
	if (requeue->cpu_total_us < 0 || requeue->not_before_us < 0)
		return error_set(err, EINVAL, "requeue",
				 "requeue task %" PRId64 ": negative CPU total or time", id);
	if (!store_text_is_utf8(requeue->reason)) {
		_cleanup_free_ char *clean = store_text_utf8_clean(requeue->reason);
		struct store_requeue copy = *requeue;

		if (!clean)
			return error_set(err, ENOMEM, "requeue", "requeue task %" PRId64, id);
		copy.reason = clean;
		return store->backend->requeue(store, id, &copy, err);
	}
	return store->backend->requeue(store, id, requeue, err);
}

int store_charge(struct store *store, int64_t id, int64_t expected_cursor_us, int64_t new_cursor_us,
		 const char *month, int64_t now_us, struct error *err)
{
	if (!month_valid(month))
		return error_set(err, EINVAL, "charge", "charge task %" PRId64 ": month '%s' is not YYYY-MM",
				 id, month ? month : "(null)");
	if (expected_cursor_us < 0 || new_cursor_us < expected_cursor_us)
		return error_set(err, EINVAL, "charge",
				 "charge task %" PRId64 ": cursor would go from %" PRId64 " to %" PRId64
				 " us",
				 id, expected_cursor_us, new_cursor_us);
	return store->backend->charge(store, id, expected_cursor_us, new_cursor_us, month, now_us, err);
}

int store_finish(struct store *store, int64_t id, const struct store_result *result, struct error *err)
{
	if (!task_state_is_terminal(result->state))
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": state %s is not terminal",
				 id, task_state_name(result->state) ? task_state_name(result->state) : "?");
	if (result->reason == STORE_REASON_NONE || !task_state_reason_name(result->reason))
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": no valid reason", id);
	if (!month_valid(result->month))
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": month '%s' is not YYYY-MM",
				 id, result->month ? result->month : "(null)");
	if (result->cpu_total_us < 0)
		return error_set(err, EINVAL, "finish", "finish task %" PRId64 ": negative CPU total", id);
	if (!store_text_is_utf8(result->message)) {
		_cleanup_free_ char *clean = store_text_utf8_clean(result->message);
		struct store_result copy = *result;

		if (!clean)
			return error_set(err, ENOMEM, "finish", "finish task %" PRId64, id);
		copy.message = clean;
		return store->backend->finish(store, id, &copy, err);
	}
	return store->backend->finish(store, id, result, err);
}

int store_cancel_queued(struct store *store, int64_t id, int64_t now_us, struct error *err)
{
	return store->backend->cancel_queued(store, id, now_us, err);
}

int store_request_cancel(struct store *store, int64_t id, int64_t now_us, struct error *err)
{
	return store->backend->request_cancel(store, id, now_us, err);
}

int store_event_append(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
		       const char *detail, struct error *err)
{
	if (!kind || !kind[0])
		return error_set(err, EINVAL, "event", "event of task %" PRId64 ": empty kind", task_id);
	if (!store_text_is_utf8(detail)) {
		_cleanup_free_ char *clean = store_text_utf8_clean(detail);

		if (!clean)
			return error_set(err, ENOMEM, "event", "event of task %" PRId64, task_id);
		return store->backend->event_append(store, task_id, at_us, kind, clean, err);
	}
	return store->backend->event_append(store, task_id, at_us, kind, detail, err);
}

/* ---- reads ------------------------------------------------------------------------ */

int store_get_task(struct store *store, int64_t id, struct store_task *out, struct error *err)
{
	return store->backend->get_task(store, id, out, err);
}

int store_load_queued(struct store *store, struct store_task_list *out, struct error *err)
{
	return store->backend->load_queued(store, out, err);
}

int store_load_running(struct store *store, struct store_task_list *out, struct error *err)
{
	return store->backend->load_running(store, out, err);
}

int store_list_tasks(struct store *store, const struct store_filter *filter, struct store_task_list *out,
		     struct error *err)
{
	static const struct store_filter any = { .state = -1 };

	if (!filter)
		filter = &any;
	if (filter->state != -1 && !task_state_name((enum store_task_state)filter->state))
		return error_set(err, EINVAL, "list tasks", "list tasks: unknown state %d", filter->state);
	return store->backend->list_tasks(store, filter, out, err);
}

int store_storage_by_user(struct store *store, struct store_storage_list *out, struct error *err)
{
	out->items = NULL;
	out->count = 0;
	return store->backend->storage_by_user(store, out, err);
}

int store_purge_ended(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
		      struct store_purged_list *out, struct error *err)
{
	out->items = NULL;
	out->count = 0;
	if (!user || !user[0] || limit == 0 || limit > INT32_MAX)
		return error_set(err, EINVAL, "purge", "purge ended tasks: no user or a bad limit");
	return store->backend->purge_ended(store, user, ended_before_us, limit, out, err);
}

int store_count_queued(struct store *store, const char *user, int64_t *count, struct error *err)
{
	return store->backend->count_queued(store, user, count, err);
}

int store_usage_get(struct store *store, const char *user, const char *month, int64_t *cpu_us,
		    struct error *err)
{
	return store->backend->usage_get(store, user, month, cpu_us, err);
}

int store_usage_month(struct store *store, const char *month, struct store_usage_list *out, struct error *err)
{
	return store->backend->usage_month(store, month, out, err);
}

int store_usage_adjust(struct store *store, const struct store_adjustment *adj, int64_t *id,
		       struct error *err)
{
	const char *user = adj->user ? adj->user : "(null)";

	if (!adj->user || !adj->user[0])
		return error_set(err, EINVAL, "adjust", "adjust usage: empty user name");
	if (!month_valid(adj->month))
		return error_set(err, EINVAL, "adjust", "adjust usage of %s: month '%s' is not YYYY-MM", user,
				 adj->month ? adj->month : "(null)");
	if (adj->delta_us == 0 || adj->delta_us > STORE_ADJUST_MAX_US || adj->delta_us < -STORE_ADJUST_MAX_US)
		return error_set(err, EINVAL, "adjust",
				 "adjust usage of %s: %" PRId64 " us is not a change between 1 us and "
				 "10^6 hours either way",
				 user, adj->delta_us);
	if (!adj->by || !adj->by[0])
		return error_set(err, EINVAL, "adjust", "adjust usage of %s: no one named as its author",
				 user);
	if (!adj->reason || !adj->reason[0] || strlen(adj->reason) > STORE_ADJUST_MAX_REASON)
		return error_set(err, EINVAL, "adjust",
				 "adjust usage of %s: the reason must be 1 to %d bytes", user,
				 STORE_ADJUST_MAX_REASON);
	return store->backend->usage_adjust(store, adj, id, err);
}

int store_usage_adjust_sum(struct store *store, const char *user, const char *month, int64_t *sum_us,
			   struct error *err)
{
	if (!user || !month_valid(month))
		return error_set(err, EINVAL, "adjust", "sum of adjustments: bad user or month");
	return store->backend->usage_adjust_sum(store, user, month, sum_us, err);
}

int store_usage_adjustments(struct store *store, const char *user, const char *month,
			    struct store_adjustment_list *out, struct error *err)
{
	out->items = NULL;
	out->count = 0;
	if (!month_valid(month))
		return error_set(err, EINVAL, "adjust", "list adjustments: month '%s' is not YYYY-MM",
				 month ? month : "(null)");
	return store->backend->usage_adjustments(store, user, month, out, err);
}

int store_list_events(struct store *store, int64_t task_id, struct store_event_list *out, struct error *err)
{
	return store->backend->list_events(store, task_id, out, err);
}

/* ---- freeing what reads return -------------------------------------------------- */

void store_task_clear(struct store_task *t)
{
	if (!t)
		return;
	free(t->user);
	free(t->profile);
	free(t->argv_json);
	free(t->env_json);
	free(t->cwd);
	free(t->stdin_path);
	free(t->message);
	free(t->cgroup);
	free(t->last_attempt_error);
	free(t->labels);
	free(t->node_name);
	free(t->lease_owner);
	memset(t, 0, sizeof(*t));
}

void store_task_list_free(struct store_task_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		store_task_clear(&list->tasks[i]);
	free(list->tasks);
	list->tasks = NULL;
	list->count = 0;
}

void store_usage_list_free(struct store_usage_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].user);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void store_storage_list_free(struct store_storage_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].user);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void store_purged_list_free(struct store_purged_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].stdin_path);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void store_adjustment_list_free(struct store_adjustment_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].user);
		free(list->items[i].month);
		free(list->items[i].by);
		free(list->items[i].reason);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void store_event_list_free(struct store_event_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].kind);
		free(list->items[i].detail);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
