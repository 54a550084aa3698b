/*
 * supervisor/daemon_ops.c — corrald's API operations (submit lives in
 * daemon_submit.c, wait and logs in daemon_wait.c).  Who may do what:
 * every user acts as their tenant (policy [access]); operators may act for
 * any tenant and see everything.  A submit is stored in the loop's store
 * batch and answered only after the batch commits (group commit): an
 * acknowledged task is durable.  wait and logs --follow park a waiter that
 * is answered when the task ends or writes, or when its timeout expires.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/daemon.h"
#include "supervisor/log.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *task_tenant_ok(struct client *c, const char *owner)
{
	if (conn_is_operator(c) || strcmp(owner, conn_tenant(c)) == 0)
		return NULL;
	return "forbidden";
}

/* The tenant a request acts for; NULL after answering forbidden. */
const char *ops_acting_tenant(struct daemon *d, struct client *c, const struct api_request *req)
{
	if (!req->user || strcmp(req->user, conn_tenant(c)) == 0)
		return conn_tenant(c);
	if (conn_is_operator(c))
		return req->user;
	conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN,
			"%s may only act as tenant '%s' (operators may act for others)", conn_tenant(c),
			conn_tenant(c));
	return NULL;
}

/* Load task id and check the caller may see it; false after answering. */
bool ops_load_visible_task(struct daemon *d, struct client *c, const struct api_request *req,
			      struct store_task *st)
{
	struct store_error err;
	int r = store_get_task(d->store, req->id, st, &err);

	if (r == -ENOENT) {
		conn_send_error(d, c, req->tag_json, API_ERR_NOT_FOUND, "task %lld does not exist",
				(long long)req->id);
		return false;
	}
	if (r < 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "read task %lld: %s", (long long)req->id,
				err.message);
		return false;
	}
	if (task_tenant_ok(c, st->user)) {
		conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "task %lld belongs to another tenant",
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
	return json;
}

void ops_send_ok_json(struct daemon *d, struct client *c, const char *tag, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	conn_send(d, c, api_response_ok(tag, text));
	free(text);
	json_decref(body);
}

void ops_send_task(struct daemon *d, struct client *c, const char *tag, const struct store_task *st)
{
	char *task = ops_task_json(d, st);
	size_t len = task ? strlen(task) + 16 : 0;
	char *body = task ? malloc(len) : NULL;

	if (!body) {
		conn_send_error(d, c, tag, API_ERR_INTERNAL, "out of memory");
		free(task);
		return;
	}
	snprintf(body, len, "{\"task\":%s}", task);
	conn_send(d, c, api_response_ok(tag, body));
	free(body);
	free(task);
}

bool ops_is_terminal(enum store_task_state s)
{
	return s == STORE_SUCCEEDED || s == STORE_FAILED || s == STORE_CANCELLED;
}

/* ---- status, list, queue, cancel ---------------------------------------- */

static void op_status(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;

	if (!ops_load_visible_task(d, c, req, &st))
		return;
	ops_send_task(d, c, req->tag_json, &st);
	store_task_clear(&st);
}

static void op_list(struct daemon *d, struct client *c, struct api_request *req)
{
	const char *user = req->user;
	struct store_filter filter = { .user = NULL, .state = -1, .limit = API_DEFAULT_LIST_LIMIT };
	struct store_task_list list;
	struct store_error err;
	enum store_task_state state;
	json_t *body, *tasks;

	if (!conn_is_operator(c)) {
		if (user && strcmp(user, conn_tenant(c)) != 0) {
			conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "only operators may list other tenants' tasks");
			return;
		}
		user = conn_tenant(c);
	}
	if (req->state) {
		if (store_state_parse(req->state, &state) < 0) {
			conn_send_error(d, c, req->tag_json, API_ERR_BAD_REQUEST,
					"unknown state '%s' (queued, running, succeeded, failed, cancelled)", req->state);
			return;
		}
		filter.state = (int)state;
	}
	filter.user = user;
	if (req->limit)
		filter.limit = req->limit;
	if (store_list_tasks(d->store, &filter, &list, &err) < 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "list tasks: %s", err.message);
		return;
	}
	tasks = json_array();
	for (size_t i = 0; i < list.count; i++) {
		char *text = api_task_json(&list.tasks[i], NULL);
		json_t *t = text ? json_loads(text, 0, NULL) : NULL;

		if (t)
			json_array_append_new(tasks, t);
		free(text);
	}
	store_task_list_free(&list);
	body = json_object();
	json_object_set_new(body, "tasks", tasks);
	ops_send_ok_json(d, c, req->tag_json, body);
}

static void op_queue(struct daemon *d, struct client *c, struct api_request *req)
{
	const char *user = req->user;
	struct queue_entry *entries = NULL;
	size_t n = 0;
	json_t *body, *queue;

	if (!conn_is_operator(c)) {
		if (user && strcmp(user, conn_tenant(c)) != 0) {
			conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "only operators may see other tenants' queues");
			return;
		}
		user = conn_tenant(c);
	}
	if (queue_describe(d, user, 0, &entries, &n) < 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	queue = json_array();
	for (size_t i = 0; i < n && i < API_MAX_LIST_LIMIT; i++) {
		struct store_task st;
		struct store_error err;
		struct api_pending pending = { entries[i].position, entries[i].reason, entries[i].message };

		if (store_get_task(d->store, entries[i].id, &st, &err) == 0) {
			char *text = api_task_json(&st, &pending);
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
	ops_send_ok_json(d, c, req->tag_json, body);
}

static void op_cancel(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;
	struct store_error err;
	struct dtask *t;
	char by[300];

	if (!ops_load_visible_task(d, c, req, &st))
		return;
	snprintf(by, sizeof(by), "%s", conn_tenant(c));
	if (st.state == STORE_QUEUED) {
		if (store_cancel_queued(d->store, st.id, (int64_t)daemon_now_us(d), &err) < 0) {
			conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "cancel: %s", err.message);
			store_task_clear(&st);
			return;
		}
		queue_remove(d, st.id);
		if (st.stdin_path)
			unlink(st.stdin_path);
		log_task(LOG_LEVEL_INFO, st.id, "cancelled while queued, by %s", by);
		store_task_clear(&st);
		store_get_task(d->store, req->id, &st, &err);
		ops_wake_waiters(d, st.id, true);
	} else if (st.state == STORE_RUNNING && (t = run_find(d, st.id)) != NULL) {
		store_request_cancel(d->store, st.id, (int64_t)daemon_now_us(d), &err);
		run_cancel(d, t, by);
		log_task(LOG_LEVEL_INFO, st.id, "cancel requested by %s; killing its jail", by);
	}
	ops_send_task(d, c, req->tag_json, &st);
	store_task_clear(&st);
}

/* ---- usage, ping -------------------------------------------------------- */

static json_t *usage_entry(struct daemon *d, const char *user, const char *month)
{
	struct policy_limits lim;
	struct store_error err;
	struct duser *u = queue_find_user(d, user);
	int64_t used = 0;
	uint64_t budget;
	json_t *o = json_object();
	bool known = policy_limits_for(d->policy, user, &lim) == 0;

	store_usage_get(d->store, user, month, &used, &err);
	budget = known ? queue_budget_us(&lim) : UINT64_MAX;
	json_object_set_new(o, "user", json_string(user));
	json_object_set_new(o, "plan", known ? json_string(lim.plan) : json_null());
	json_object_set_new(o, "month", json_string(month));
	json_object_set_new(o, "cpu_used_us", json_integer(used));
	/* null = unlimited; 0 = suspended */
	json_object_set_new(o, "cpu_budget_us", budget == UINT64_MAX ? json_null() : json_integer((json_int_t)budget));
	json_object_set_new(o, "cpu_left_us",
			    budget == UINT64_MAX ? json_null()
						 : json_integer((json_int_t)(budget > (uint64_t)used ? budget - (uint64_t)used : 0)));
	json_object_set_new(o, "running", json_integer(u ? u->running : 0));
	json_object_set_new(o, "queued", json_integer(u ? u->queued : 0));
	return o;
}

static void op_usage(struct daemon *d, struct client *c, struct api_request *req)
{
	char month[8];
	const char *user = req->user;
	json_t *body, *list = json_array();

	if (req->month) {
		snprintf(month, sizeof(month), "%s", req->month);
	} else {
		daemon_month(d, daemon_now_us(d), month);
	}
	if (!conn_is_operator(c)) {
		if (user && strcmp(user, conn_tenant(c)) != 0) {
			json_decref(list);
			conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "only operators may see other tenants' usage");
			return;
		}
		user = conn_tenant(c);
	}
	if (user) {
		json_array_append_new(list, usage_entry(d, user, month));
	} else {
		struct store_usage_list all;
		struct store_error err;

		if (store_usage_month(d->store, month, &all, &err) == 0) {
			for (size_t i = 0; i < all.count; i++)
				json_array_append_new(list, usage_entry(d, all.items[i].user, month));
			store_usage_list_free(&all);
		}
	}
	body = json_object();
	json_object_set_new(body, "usage", list);
	ops_send_ok_json(d, c, req->tag_json, body);
}

static void op_policy_reload(struct daemon *d, struct client *c, struct api_request *req)
{
	char *errors = NULL;
	json_t *body;

	if (!conn_is_operator(c)) {
		conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "only operators may reload the policy");
		return;
	}
	if (daemon_reload_policy(d, &errors) < 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_POLICY_INVALID, "%s", errors ? errors : "policy has errors");
		free(errors);
		return;
	}
	body = json_object();
	json_object_set_new(body, "policy", json_string(policy_path(d->policy)));
	json_object_set_new(body, "plans", json_integer((json_int_t)policy_count(d->policy, POLICY_PLANS)));
	json_object_set_new(body, "users", json_integer((json_int_t)policy_count(d->policy, POLICY_USERS)));
	json_object_set_new(body, "profiles", json_integer((json_int_t)policy_count(d->policy, POLICY_PROFILES)));
	ops_send_ok_json(d, c, req->tag_json, body);
}

static void op_ping(struct daemon *d, struct client *c, struct api_request *req)
{
	json_t *body = json_object();

	json_object_set_new(body, "version", json_string(API_VERSION));
	json_object_set_new(body, "pid", json_integer(getpid()));
	ops_send_ok_json(d, c, req->tag_json, body);
}

void ops_handle(struct daemon *d, struct client *c, struct api_request *req)
{
	if (!conn_may_use(c)) {
		conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN, "user %s may not use corral (policy [access])",
				conn_tenant(c));
		return;
	}
	switch (req->op) {
	case API_OP_PING:
	case API_OP_VERSION:
		op_ping(d, c, req);
		break;
	case API_OP_SUBMIT:
		ops_submit(d, c, req);
		break;
	case API_OP_STATUS:
		op_status(d, c, req);
		break;
	case API_OP_LIST:
		op_list(d, c, req);
		break;
	case API_OP_QUEUE:
		op_queue(d, c, req);
		break;
	case API_OP_CANCEL:
		op_cancel(d, c, req);
		break;
	case API_OP_WAIT:
		ops_wait(d, c, req);
		break;
	case API_OP_LOGS:
		ops_logs(d, c, req);
		break;
	case API_OP_USAGE:
		op_usage(d, c, req);
		break;
	case API_OP_POLICY_RELOAD:
		op_policy_reload(d, c, req);
		break;
	}
}
