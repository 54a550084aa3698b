/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/ops.c — corrald's API operations, free of any
 * transport: each is (caller, request) -> replies through a reply sink, and
 * ops_handle() dispatches from api/api_ops.c's table (who may call what).
 * Here: the sinks, the helpers the operations share, and status, list,
 * queue, cancel, usage, ping, policy_reload.  submit lives in op_submit.c,
 * wait and logs in op_wait.c, usage_adjust in op_usage_adjust.c.  Who may do what: every user acts as their
 * tenant (policy [access]); operators may act for any tenant and see
 * everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/common/version.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/sched/admission.h"

/* ---- reply sinks -------------------------------------------------------- */

struct reply_sink *ops_sink_ref(struct reply_sink *sink)
{
	sink->refs++;
	return sink;
}

void ops_sink_unref(struct reply_sink *sink)
{
	if (sink && --sink->refs == 0)
		sink->release(sink);
}

void ops_sink_gone(struct daemon *d, struct reply_sink *sink)
{
	sink->gone = true;
	op_wait_drop_sink(d, sink);
	/* pending submits keep their reference: their tasks are stored, the
	 * answers are discarded */
}

void ops_reply(struct reply_sink *sink, char *line)
{
	if (!line)
		return;
	if (sink->gone) {
		free(line);
		return;
	}
	sink->send(sink, line);
}

void ops_reply_error(struct reply_sink *sink, const char *tag_json, enum api_error_code code, const char *fmt,
		     ...)
{
	char msg[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ops_reply(sink, api_response_error(tag_json, code, msg));
}

void ops_reply_ok_json(struct reply_sink *sink, const char *tag, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	ops_reply(sink, api_response_ok(tag, text));
	free(text);
	json_decref(body);
}

/* ---- helpers ------------------------------------------------------------ */

static bool may_see_tenant(const struct caller *c, const char *owner)
{
	return c->operator_ || strcmp(owner, c->tenant) == 0;
}

const char *ops_acting_tenant(const struct caller *c, const struct api_request *req, struct reply_sink *sink)
{
	if (!req->user || strcmp(req->user, c->tenant) == 0)
		return c->tenant;
	if (c->operator_)
		return req->user;
	ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
			"%s may only act as tenant '%s' (operators may act for others)", c->tenant,
			c->tenant);
	return NULL;
}

bool ops_load_visible_task(struct daemon *d, const struct caller *c, const struct api_request *req,
			   struct reply_sink *sink, struct store_task *st)
{
	struct error err;
	int r = store_get_task(d->store, req->id, st, &err);

	if (r == -ENOENT) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND, "task %lld does not exist",
				(long long)req->id);
		return false;
	}
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read task %lld: %s",
				(long long)req->id, err.message);
		return false;
	}
	if (!may_see_tenant(c, st->user)) {
		ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN, "task %lld belongs to another tenant",
				(long long)req->id);
		store_task_clear(st);
		return false;
	}
	return true;
}

char *ops_task_json(struct daemon *d, const struct store_task *t)
{
	struct api_pending pending = { 0 };
	struct queue_entry *e = NULL;
	size_t n = 0;
	char *json;

	if (t->state == STORE_QUEUED && queue_describe(d, NULL, t->id, &e, &n) == 0 && n == 1) {
		pending.position = e->position;
		pending.reason = e->reason;
		pending.message = e->message;
	}
	json = api_task_json(t, t->state == STORE_QUEUED ? &pending : NULL);
	free(e);
	return op_status_task_json(d, t, json);
}

void ops_reply_task(struct daemon *d, struct reply_sink *sink, const char *tag, const struct store_task *st)
{
	_cleanup_free_ char *task = ops_task_json(d, st);
	size_t len = task ? strlen(task) + 16 : 0;
	_cleanup_free_ char *body = task ? malloc(len) : NULL;

	if (!body) {
		ops_reply_error(sink, tag, API_ERR_INTERNAL, "out of memory");
		return;
	}
	snprintf(body, len, "{\"task\":%s}", task);
	ops_reply(sink, api_response_ok(tag, body));
}

bool ops_is_terminal(enum store_task_state s)
{
	return s == STORE_SUCCEEDED || s == STORE_FAILED || s == STORE_CANCELLED;
}

/* ---- status, list, queue, cancel ---------------------------------------- */

static void op_status(struct daemon *d, const struct caller *c, const struct api_request *req,
		      struct reply_sink *sink)
{
	struct store_task st;

	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	ops_reply_task(d, sink, req->tag_json, &st);
	store_task_clear(&st);
}

static void op_list(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink)
{
	const char *user = req->user;
	struct store_filter filter = { .user = NULL, .state = -1, .limit = API_DEFAULT_LIST_LIMIT };
	struct store_task_list list;
	struct error err;
	enum store_task_state state;
	struct queue_entry *entries = NULL;
	size_t n_entries = 0;
	json_t *body, *tasks;

	if (!c->operator_) {
		if (user && strcmp(user, c->tenant) != 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
					"only operators may list other tenants' tasks");
			return;
		}
		user = c->tenant;
	}
	if (req->state) {
		if (task_state_parse(req->state, &state) < 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
					"unknown state '%s' (queued, running, succeeded, failed, cancelled)",
					req->state);
			return;
		}
		filter.state = (int)state;
	}
	filter.user = user;
	filter.before_id = req->after;
	filter.since_us = req->since_us;
	filter.until_us = req->until_us;
	if (req->limit)
		filter.limit = req->limit;
	if (store_list_tasks(d->store, &filter, &list, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "list tasks: %s", err.message);
		return;
	}
	tasks = json_array();
	if (queue_describe(d, user, 0, &entries, &n_entries) < 0)
		n_entries = 0;
	for (size_t i = 0; i < list.count; i++) {
		const struct store_task *st = &list.tasks[i];
		struct api_pending pending = { 0 };
		char *text;
		json_t *t;

		for (size_t k = 0; st->state == STORE_QUEUED && k < n_entries; k++)
			if (entries[k].id == st->id)
				pending = (struct api_pending){ entries[k].position, entries[k].reason,
								entries[k].message };
		text = api_task_summary_json(st, st->state == STORE_QUEUED ? &pending : NULL);
		t = text ? json_loads(text, 0, NULL) : NULL;
		if (t) {
			struct dtask *run = st->state == STORE_RUNNING ? running_find(d, st->id) : NULL;

			json_object_set_new(t, "limits", op_status_limits(d, st, run));
			if (run)
				json_object_set_new(t, "live", op_status_live(d, run));
			json_array_append_new(tasks, t);
		}
		free(text);
	}
	free(entries);
	body = json_object();
	json_object_set_new(body, "tasks", tasks);
	/* a full page: the client asks again from the last id */
	json_object_set_new(body, "next_after",
			    list.count && list.count == filter.limit
				    ? json_integer(list.tasks[list.count - 1].id)
				    : json_null());
	store_task_list_free(&list);
	ops_reply_ok_json(sink, req->tag_json, body);
}

static void op_queue(struct daemon *d, const struct caller *c, const struct api_request *req,
		     struct reply_sink *sink)
{
	const char *user = req->user;
	struct queue_entry *entries = NULL;
	size_t n = 0;
	json_t *body, *queue;

	if (!c->operator_) {
		if (user && strcmp(user, c->tenant) != 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
					"only operators may see other tenants' queues");
			return;
		}
		user = c->tenant;
	}
	if (queue_describe(d, user, 0, &entries, &n) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	queue = json_array();
	for (size_t i = 0; i < n && i < API_MAX_QUEUE_ANSWER; i++) {
		struct store_task st;
		struct error err;
		struct api_pending pending = { entries[i].position, entries[i].reason, entries[i].message };

		if (store_get_task(d->store, entries[i].id, &st, &err) == 0) {
			char *text = api_task_summary_json(&st, &pending);
			json_t *t = text ? json_loads(text, 0, NULL) : NULL;

			if (t)
				json_array_append_new(queue, t);
			free(text);
			store_task_clear(&st);
		}
	}
	free(entries);
	body = json_object();
	json_object_set_new(body, "queue", queue);
	ops_reply_ok_json(sink, req->tag_json, body);
}

/* A task cancelled while queued never needs its inputs again. */
static void ops_cancel_drop_inputs(struct daemon *d, const struct store_task *st)
{
	uint64_t freed = op_files_drop_inputs(d, st->id);
	struct duser *u = freed ? queue_find_user(d, st->user) : NULL;

	if (u)
		u->stored_bytes = u->stored_bytes > freed ? u->stored_bytes - freed : 0;
}

static void op_cancel(struct daemon *d, const struct caller *c, const struct api_request *req,
		      struct reply_sink *sink)
{
	struct store_task st;
	struct error err;
	struct dtask *t;
	char by[300];

	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	snprintf(by, sizeof(by), "%s", c->tenant);
	if (st.state == STORE_QUEUED) {
		if (store_cancel_queued(d->store, st.id, (int64_t)daemon_now_us(d), &err) < 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "cancel: %s", err.message);
			store_task_clear(&st);
			return;
		}
		queue_remove(d, st.id);
		ops_cancel_drop_inputs(d, &st);
		metrics_task_ended(d, st.user, "cancelled", 0, false);
		if (st.stdin_path)
			unlink(st.stdin_path);
		log_task(LOG_LEVEL_INFO, st.id, "cancelled while queued, by %s", by);
		store_task_clear(&st);
		store_get_task(d->store, req->id, &st, &err);
		op_wait_wake(d, st.id, true);
	} else if (st.state == STORE_RUNNING && (t = running_find(d, st.id)) != NULL) {
		store_request_cancel(d->store, st.id, (int64_t)daemon_now_us(d), &err);
		task_watch_cancel(d, t, by);
		log_task(LOG_LEVEL_INFO, st.id, "cancel requested by %s; killing its jail", by);
	} else if (st.state == STORE_RUNNING) {
		/* it runs on another node of the cluster: that node sees the
		 * request when it renews its leases and kills the jail */
		store_request_cancel(d->store, st.id, (int64_t)daemon_now_us(d), &err);
		log_task(LOG_LEVEL_INFO, st.id, "cancel requested by %s; its node kills its jail", by);
	}
	ops_reply_task(d, sink, req->tag_json, &st);
	store_task_clear(&st);
}

/* ---- usage, ping -------------------------------------------------------- */

json_t *ops_adjustment_json(const struct store_adjustment *a)
{
	return json_pack("{s:I,s:s,s:s,s:I,s:s,s:I,s:I,s:s}", "id", (json_int_t)a->id, "user", a->user,
			 "month", a->month, "delta_us", (json_int_t)a->delta_us, "by", a->by, "by_uid",
			 (json_int_t)a->by_uid, "at_us", (json_int_t)a->at_us, "reason", a->reason);
}

json_t *ops_usage_entry(struct daemon *d, const char *user, const char *month)
{
	struct policy_limits lim;
	struct store_adjustment_list adj = { 0 };
	struct error err;
	struct duser *u = queue_find_user(d, user);
	int64_t used = 0, adjust = 0;
	uint64_t budget;
	json_t *o = json_object(), *rows = json_array();
	bool known = tenants_limits_for(d, user, &lim) == 0;

	store_usage_get(d->store, user, month, &used, &err);
	if (store_usage_adjustments(d->store, user, month, &adj, &err) < 0)
		log_error("read adjustments of %s in %s: %s", user, month, err.message);
	for (size_t i = 0; i < adj.count; i++) {
		adjust += adj.items[i].delta_us;
		json_array_append_new(rows, ops_adjustment_json(&adj.items[i]));
	}
	store_adjustment_list_free(&adj);
	budget = known ? admission_budget_adjusted(queue_budget_us(&lim), adjust) : LIMIT_NONE;
	json_object_set_new(o, "user", json_string(user));
	json_object_set_new(o, "plan", known ? json_string(lim.plan) : json_null());
	json_object_set_new(o, "month", json_string(month));
	/* charged: exactly the cgroups' figure; adjustments move the budget */
	json_object_set_new(o, "cpu_used_us", json_integer(used));
	json_object_set_new(o, "cpu_adjust_us", json_integer(adjust));
	/* null = unlimited; 0 = suspended */
	json_object_set_new(o, "cpu_budget_us",
			    budget == LIMIT_NONE ? json_null() : json_integer((json_int_t)budget));
	json_object_set_new(o, "cpu_left_us",
			    budget == LIMIT_NONE ? json_null()
						 : json_integer((json_int_t)(budget > (uint64_t)used
										     ? budget - (uint64_t)used
										     : 0)));
	{
		/* a cluster: every node's tasks (this node knows its own) */
		struct store_tenant_load load = { .live = u ? u->running : 0,
						  .queued = u ? u->queued : 0,
						  .stored_bytes = u ? (int64_t)u->stored_bytes : 0 };

		if (d->cluster)
			cluster_admit_usage(d, user, &load);
		json_object_set_new(o, "running", json_integer((json_int_t)load.live));
		json_object_set_new(o, "queued", json_integer((json_int_t)load.queued));
		/* what its tasks hold in the store, and the plan's max_stored (null = unlimited) */
		json_object_set_new(o, "stored_bytes", json_integer((json_int_t)load.stored_bytes));
	}
	json_object_set_new(o, "max_stored_bytes",
			    known && lim.max_stored_bytes ? json_integer((json_int_t)lim.max_stored_bytes)
							  : json_null());
	json_object_set_new(o, "adjustments", rows);
	return o;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every tenant with a charge or an adjustment in month, one USAGE each,
 * ordered by name. */
static void usage_all(struct daemon *d, const char *month, json_t *list)
{
	struct store_usage_list all = { 0 };
	struct store_adjustment_list adj = { 0 };
	struct error err;
	const char **names;
	size_t n = 0;

	if (store_usage_month(d->store, month, &all, &err) < 0)
		log_error("read usage of %s: %s", month, err.message);
	if (store_usage_adjustments(d->store, NULL, month, &adj, &err) < 0)
		log_error("read adjustments of %s: %s", month, err.message);
	names = calloc(all.count + adj.count + 1, sizeof(*names));
	for (size_t i = 0; names && i < all.count; i++)
		names[n++] = all.items[i].user;
	for (size_t i = 0; names && i < adj.count; i++)
		names[n++] = adj.items[i].user;
	if (names)
		qsort(names, n, sizeof(*names), compare_strings);
	for (size_t i = 0; names && i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			json_array_append_new(list, ops_usage_entry(d, names[i], month));
	free(names);
	store_usage_list_free(&all);
	store_adjustment_list_free(&adj);
}

static void op_usage(struct daemon *d, const struct caller *c, const struct api_request *req,
		     struct reply_sink *sink)
{
	char month[8];
	const char *user = req->user;
	json_t *body, *list = json_array();

	if (req->month) {
		snprintf(month, sizeof(month), "%s", req->month);
	} else {
		daemon_month(d, daemon_now_us(d), month);
	}
	if (!c->operator_) {
		if (user && strcmp(user, c->tenant) != 0) {
			json_decref(list);
			ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
					"only operators may see other tenants' usage");
			return;
		}
		user = c->tenant;
	}
	if (user) {
		json_array_append_new(list, ops_usage_entry(d, user, month));
	} else {
		usage_all(d, month, list);
	}
	body = json_object();
	json_object_set_new(body, "usage", list);
	ops_reply_ok_json(sink, req->tag_json, body);
}

static void op_policy_reload(struct daemon *d, const struct caller *c, const struct api_request *req,
			     struct reply_sink *sink)
{
	char *errors = NULL;
	json_t *body;

	if (daemon_reload_policy(d, &errors) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_POLICY_INVALID, "%s",
				errors ? errors : "policy has errors");
		free(errors);
		return;
	}
	body = json_object();
	json_object_set_new(body, "policy", json_string(policy_path(d->policy)));
	json_object_set_new(body, "plans", json_integer((json_int_t)policy_count(d->policy, POLICY_PLANS)));
	json_object_set_new(body, "users", json_integer((json_int_t)policy_count(d->policy, POLICY_USERS)));
	json_object_set_new(body, "profiles",
			    json_integer((json_int_t)policy_count(d->policy, POLICY_PROFILES)));
	ops_reply_ok_json(sink, req->tag_json, body);
}

static void op_ping(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink)
{
	json_t *body = json_object();

	json_object_set_new(body, "version", json_string(version_string()));
	json_object_set_new(body, "pid", json_integer(getpid()));
	ops_reply_ok_json(sink, req->tag_json, body);
}

typedef void ops_handler(struct daemon *d, const struct caller *c, const struct api_request *req,
			 struct reply_sink *sink);

/* One handler per op of api_ops.c's table, in its order. */
static ops_handler *const handlers[] = {
	[API_OP_PING] = op_ping,
	[API_OP_VERSION] = op_ping,
	[API_OP_SUBMIT] = op_submit,
	[API_OP_STATUS] = op_status,
	[API_OP_LIST] = op_list,
	[API_OP_QUEUE] = op_queue,
	[API_OP_CANCEL] = op_cancel,
	[API_OP_WAIT] = op_wait,
	[API_OP_LOGS] = op_wait_logs,
	[API_OP_USAGE] = op_usage,
	[API_OP_POLICY_RELOAD] = op_policy_reload,
	[API_OP_USAGE_ADJUST] = op_usage_adjust,
	[API_OP_NODES] = op_nodes_list,
	[API_OP_NODE_DRAIN] = op_nodes_drain,
	[API_OP_NODE_UNDRAIN] = op_nodes_drain,
	[API_OP_TOKEN_CREATE] = op_token,
	[API_OP_TOKEN_LIST] = op_token,
	[API_OP_TOKEN_REVOKE] = op_token,
	[API_OP_TENANT_SET] = op_tenant,
	[API_OP_TENANT_SHOW] = op_tenant,
	[API_OP_TENANT_LIST] = op_tenant,
	[API_OP_TENANT_DELETE] = op_tenant,
	[API_OP_POLICY_PUSH] = op_policy,
	[API_OP_POLICY_CURRENT] = op_policy,
	[API_OP_ARTIFACTS] = op_files_artifacts,
	[API_OP_FETCH] = op_files_fetch,
	[API_OP_UPLOAD_BEGIN] = op_upload,
	[API_OP_UPLOAD_CHUNK] = op_upload,
	[API_OP_UPLOAD_ABORT] = op_upload,
};
_Static_assert(ELEMENTSOF(handlers) == API_OP_COUNT, "one handler per op of api_ops.c");

void ops_handle(struct daemon *d, const struct caller *c, const struct api_request *req,
		struct reply_sink *sink)
{
	const struct api_op_info *op = api_ops_get(req->op);

	if (c->unknown || !c->tenant) {
		ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
				"uid %u has no passwd entry: corrald serves only users the host knows "
				"(a subordinate or deleted uid is no tenant)",
				(unsigned)c->uid);
		return;
	}
	if (!c->allowed) {
		ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
				"user %s may not use corral (policy [access])", c->tenant);
		return;
	}
	if (!op || !handlers[req->op]) {
		ops_reply_error(sink, req->tag_json, API_ERR_UNKNOWN_OP, "op %d is not served", (int)req->op);
		return;
	}
	if (op->access == API_ACCESS_OPERATOR && !c->operator_) {
		ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN, "only operators may %s", op->summary);
		return;
	}
	handlers[req->op](d, c, req, sink);
}
