/*
 * supervisor/daemon_ops.c — corrald's API operations.  Who may do what:
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

struct pending_submit {
	struct pending_submit *next;
	struct client *client;
	char *tag_json;
	int64_t id;          /* not a pointer: a cancel in the same turn may free the task */
	char *stdin_path;
};

/* ---- helpers ------------------------------------------------------------ */

static const char *task_tenant_ok(struct client *c, const char *owner)
{
	if (conn_is_operator(c) || strcmp(owner, conn_tenant(c)) == 0)
		return NULL;
	return "forbidden";
}

/* The tenant a request acts for; NULL after answering forbidden. */
static const char *acting_tenant(struct daemon *d, struct client *c, const struct api_request *req)
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
static bool load_visible_task(struct daemon *d, struct client *c, const struct api_request *req,
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

static void send_ok_json(struct daemon *d, struct client *c, const char *tag, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	conn_send(d, c, api_response_ok(tag, text));
	free(text);
	json_decref(body);
}

static void send_task(struct daemon *d, struct client *c, const char *tag, const struct store_task *st)
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

static bool is_terminal(enum store_task_state s)
{
	return s == STORE_SUCCEEDED || s == STORE_FAILED || s == STORE_CANCELLED;
}

/* ---- submit ------------------------------------------------------------- */

static char *json_array_text(char **v, size_t n)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

static char *env_object_text(char **v, size_t n)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(v[i], '=');

		if (eq) {
			*eq = '\0';
			json_object_set_new(o, v[i], json_string(eq + 1));
			*eq = '=';
		}
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static int write_stdin(struct daemon *d, const char *data, size_t len, char **path)
{
	char buf[4200];
	int fd;

	snprintf(buf, sizeof(buf), "%s/stdin-XXXXXX", d->tasks_dir);
	fd = mkstemp(buf);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(buf);
		return -e;
	}
	close(fd);
	*path = strdup(buf);
	return 0;
}

/* Can a task of u start right now?  0, or the error code with a message. */
static enum api_error_code can_start_now(struct daemon *d, struct duser *u, const struct policy_limits *lim,
					 char *msg, size_t size)
{
	uint64_t budget = queue_budget_us(lim), left;

	if (lim->max_concurrent && u->running + u->queued >= lim->max_concurrent) {
		snprintf(msg, size, "%s: %u/%u tasks running (plan %s)", u->name, u->running, lim->max_concurrent,
			 lim->plan);
		return API_ERR_CONCURRENCY_LIMIT;
	}
	queue_refresh_month(d, u);
	left = budget == UINT64_MAX ? UINT64_MAX : budget > u->used_us + u->reserved_us ?
		budget - u->used_us - u->reserved_us : 0;
	if (left < 1000000u) {
		snprintf(msg, size, "%s: %.1f of %.1f CPU hours used in %s (plan %s)", u->name,
			 (u->used_us + u->reserved_us) / 3.6e9, budget / 3.6e9, u->month, lim->plan);
		return API_ERR_BUDGET_EXHAUSTED;
	}
	if (d->running_count + d->queued_total >= d->cfg->max_running) {
		snprintf(msg, size, "host is at capacity: %u/%u tasks running, %zu queued", d->running_count,
			 d->cfg->max_running, d->queued_total);
		return API_ERR_HOST_CAPACITY;
	}
	return API_ERR_NONE;
}

static void op_submit(struct daemon *d, struct client *c, struct api_request *req)
{
	const char *tenant = acting_tenant(d, c, req);
	struct policy_limits lim;
	struct store_task st;
	struct store_error serr;
	struct pending_submit *p;
	struct duser *u;
	struct dtask *t;
	const char *profile;
	char msg[512], *stdin_path = NULL;
	enum api_error_code code;
	int64_t id;
	int r;

	if (!tenant)
		return;
	if (d->shutting_down) {
		conn_send_error(d, c, req->tag_json, API_ERR_SHUTTING_DOWN, "corrald is shutting down");
		return;
	}
	if (policy_limits_for(d->policy, tenant, &lim) < 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_UNKNOWN_USER,
				"no plan for tenant '%s': no [user %s] section and no [default] plan", tenant, tenant);
		return;
	}
	profile = req->profile ? req->profile : lim.profile;
	if (!policy_profile(d->policy, profile)) {
		conn_send_error(d, c, req->tag_json, API_ERR_UNKNOWN_PROFILE, "no profile '%s' in the policy", profile);
		return;
	}
	if (!conn_is_operator(c) && strcmp(profile, lim.profile) != 0) {
		conn_send_error(d, c, req->tag_json, API_ERR_FORBIDDEN,
				"profile '%s' is not available on plan %s (its profile is '%s')", profile, lim.plan,
				lim.profile);
		return;
	}
	if (req->has_timeout && lim.max_task_seconds && req->timeout_ms > lim.max_task_seconds * 1000) {
		conn_send_error(d, c, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"timeout %.1f s is above the %llu s limit of plan %s", req->timeout_ms / 1000.0,
				(unsigned long long)lim.max_task_seconds, lim.plan);
		return;
	}
	if (req->has_cpu_limit && lim.max_cpu_seconds && req->cpu_limit_ms > lim.max_cpu_seconds * 1000) {
		conn_send_error(d, c, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"CPU limit %.1f s is above the %llu s limit of plan %s", req->cpu_limit_ms / 1000.0,
				(unsigned long long)lim.max_cpu_seconds, lim.plan);
		return;
	}
	if (req->has_memory && req->memory_bytes > lim.memory_bytes) {
		conn_send_error(d, c, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"memory %llu bytes is above the %llu bytes of plan %s",
				(unsigned long long)req->memory_bytes, (unsigned long long)lim.memory_bytes, lim.plan);
		return;
	}
	if (req->cwd && req->cwd[0] != '/') {
		conn_send_error(d, c, req->tag_json, API_ERR_BAD_REQUEST, "cwd '%s' must be an absolute path", req->cwd);
		return;
	}
	u = queue_user(d, tenant);
	if (!u) {
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	if (lim.max_queued && u->queued >= lim.max_queued) {
		conn_send_error(d, c, req->tag_json, API_ERR_QUEUE_FULL, "%s: %u/%u tasks queued (plan %s)", tenant,
				u->queued, lim.max_queued, lim.plan);
		return;
	}
	if (req->no_queue && (code = can_start_now(d, u, &lim, msg, sizeof(msg))) != API_ERR_NONE) {
		conn_send(d, c, api_response_error(req->tag_json, code, msg));
		return;
	}
	if (req->has_stdin) {
		r = write_stdin(d, req->stdin_data, req->stdin_len, &stdin_path);
		if (r < 0) {
			conn_send_error(d, c, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
					"store stdin: %s; task not accepted", strerror(-r));
			return;
		}
	}
	memset(&st, 0, sizeof(st));
	st.user = (char *)tenant;
	st.submitted_by_uid = conn_uid(c);
	st.profile = (char *)profile;
	st.argv_json = json_array_text(req->argv, req->argc);
	st.env_json = req->env ? env_object_text(req->env, req->envc) : NULL;
	st.cwd = (char *)req->cwd;
	st.stdin_path = stdin_path;
	st.wall_limit_ms = req->has_timeout ? (int64_t)req->timeout_ms : 0;
	st.cpu_limit_us = req->has_cpu_limit ? (int64_t)req->cpu_limit_ms * 1000 : 0;
	st.memory_limit_bytes = req->has_memory ? (int64_t)req->memory_bytes : 0;
	st.submitted_at_us = (int64_t)daemon_now_us(d);
	r = daemon_batch(d) ? store_submit(d->store, &st, &id, &serr) : -EIO;
	if (r == -EIO && !d->batch_open)
		snprintf(serr.message, sizeof(serr.message), "cannot begin a store transaction");
	free(st.argv_json);
	free(st.env_json);
	if (r < 0) {
		if (stdin_path)
			unlink(stdin_path);
		free(stdin_path);
		conn_send_error(d, c, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
				"%s; task not accepted", serr.message);
		return;
	}
	t = calloc(1, sizeof(*t));
	p = calloc(1, sizeof(*p));
	if (!t || !p) {
		free(t);
		free(p);
		free(stdin_path);
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	t->ep_kind = EP_TASK;
	t->id = id;
	t->user = u;
	t->seq = ++d->next_seq;
	t->pidfd = -1;
	t->wall_limit_ms = (uint64_t)st.wall_limit_ms;
	t->cpu_limit_ms = req->has_cpu_limit ? req->cpu_limit_ms : 0;
	t->memory_bytes = (uint64_t)st.memory_limit_bytes;
	queue_push(d, t);
	p->client = c;
	p->tag_json = req->tag_json ? strdup(req->tag_json) : NULL;
	p->id = t->id;
	p->stdin_path = stdin_path;
	p->next = d->pending;
	d->pending = p;
}

void ops_finish_batch(struct daemon *d, bool committed, const char *error)
{
	struct pending_submit *p = d->pending;

	d->pending = NULL;
	/* answer in submit order */
	struct pending_submit *rev = NULL;
	while (p) {
		struct pending_submit *next = p->next;

		p->next = rev;
		rev = p;
		p = next;
	}
	for (p = rev; p; ) {
		struct pending_submit *next = p->next;

		if (committed) {
			struct store_task st;
			struct store_error err;

			if (store_get_task(d->store, p->id, &st, &err) == 0) {
				char *task = api_task_json(&st, NULL);
				size_t len = task ? strlen(task) + 16 : 0;
				char *body = task ? malloc(len) : NULL;

				if (body) {
					snprintf(body, len, "{\"task\":%s}", task);
					conn_send(d, p->client, api_response_ok(p->tag_json, body));
				}
				free(body);
				free(task);
				store_task_clear(&st);
			}
			log_task(LOG_LEVEL_DEBUG, p->id, "queued");
		} else {
			queue_remove(d, p->id);  /* gone already if cancelled meanwhile */
			if (p->stdin_path)
				unlink(p->stdin_path);
			conn_send_error(d, p->client, p->tag_json, API_ERR_STORAGE_FULL,
					"the store could not commit: %s; task not accepted", error ? error : "?");
		}
		free(p->tag_json);
		free(p->stdin_path);
		free(p);
		p = next;
	}
}

/* ---- status, list, queue, cancel ---------------------------------------- */

static void op_status(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;

	if (!load_visible_task(d, c, req, &st))
		return;
	send_task(d, c, req->tag_json, &st);
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
	send_ok_json(d, c, req->tag_json, body);
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
	send_ok_json(d, c, req->tag_json, body);
}

static void op_cancel(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;
	struct store_error err;
	struct dtask *t;
	char by[300];

	if (!load_visible_task(d, c, req, &st))
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
	send_task(d, c, req->tag_json, &st);
	store_task_clear(&st);
}

/* ---- wait and logs ------------------------------------------------------ */

#define MAX_WAITERS_PER_CLIENT 256

static void add_waiter(struct daemon *d, struct client *c, const struct api_request *req, bool logs)
{
	struct waiter *w;
	size_t n = 0;

	for (w = d->waiters; w; w = w->next)
		n += w->client == c;
	if (n >= MAX_WAITERS_PER_CLIENT) {
		conn_send_error(d, c, req->tag_json, API_ERR_TOO_LARGE,
				"more than %d waits on one connection", MAX_WAITERS_PER_CLIENT);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		conn_send_error(d, c, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	w->client = c;
	w->tag_json = req->tag_json ? strdup(req->tag_json) : NULL;
	w->task_id = req->id;
	w->logs = logs;
	w->stderr_stream = req->stream && strcmp(req->stream, "stderr") == 0;
	w->offset = req->offset;
	w->max = req->max ? req->max : API_MAX_LOG_CHUNK;
	if (req->has_timeout && req->timeout_ms)
		w->expires_mono_us = daemon_mono_us() + req->timeout_ms * 1000u;
	w->next = d->waiters;
	d->waiters = w;
}

static void op_wait(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;

	if (!load_visible_task(d, c, req, &st))
		return;
	if (is_terminal(st.state))
		send_task(d, c, req->tag_json, &st);
	else if (req->has_timeout && req->timeout_ms == 0)
		conn_send_error(d, c, req->tag_json, API_ERR_WAIT_TIMEOUT, "task %lld is still %s", (long long)st.id,
				store_state_name(st.state));
	else
		add_waiter(d, c, req, false);
	store_task_clear(&st);
}

/* Answer a logs request if there is something to say: data past offset, or
 * the end.  Returns false when a follow request must keep waiting. */
static bool answer_logs(struct daemon *d, struct client *c, const char *tag, int64_t id, bool err_stream,
			uint64_t offset, uint64_t max, bool follow, bool ended)
{
	char path[4300], dir[4200];
	unsigned char *buf = NULL;
	ssize_t n = 0;
	struct stat sb;
	uint64_t size = 0;
	json_t *body;
	char *b64;
	int fd;

	if (max > API_MAX_LOG_CHUNK)
		max = API_MAX_LOG_CHUNK;
	snprintf(path, sizeof(path), "%s/%s", run_task_dir(d, id, dir, sizeof(dir)), err_stream ? "stderr" : "stdout");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		size = (uint64_t)sb.st_size;
	if (follow && !ended && size <= offset) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (fd >= 0 && size > offset) {
		size_t want = size - offset < max ? (size_t)(size - offset) : (size_t)max;

		buf = malloc(want ? want : 1);
		n = buf ? pread(fd, buf, want, (off_t)offset) : -1;
		if (n < 0)
			n = 0;
	}
	if (fd >= 0)
		close(fd);
	b64 = api_base64_encode(buf ? buf : (const unsigned char *)"", (size_t)n);
	body = json_object();
	json_object_set_new(body, "data_base64", json_string(b64 ? b64 : ""));
	json_object_set_new(body, "offset", json_integer((json_int_t)(offset + (uint64_t)n)));
	json_object_set_new(body, "eof", json_boolean(ended && offset + (uint64_t)n >= size));
	send_ok_json(d, c, tag, body);
	free(b64);
	free(buf);
	return true;
}

static void op_logs(struct daemon *d, struct client *c, struct api_request *req)
{
	struct store_task st;
	bool err_stream = req->stream && strcmp(req->stream, "stderr") == 0;

	if (req->stream && strcmp(req->stream, "stdout") != 0 && !err_stream) {
		conn_send_error(d, c, req->tag_json, API_ERR_BAD_REQUEST, "stream must be stdout or stderr");
		return;
	}
	if (!load_visible_task(d, c, req, &st))
		return;
	if (!answer_logs(d, c, req->tag_json, st.id, err_stream, req->offset, req->max ? req->max : API_MAX_LOG_CHUNK,
			 req->follow, is_terminal(st.state)))
		add_waiter(d, c, req, true);
	store_task_clear(&st);
}

static void free_waiter(struct waiter *w)
{
	free(w->tag_json);
	free(w);
}

void ops_wake_waiters(struct daemon *d, int64_t task_id, bool ended)
{
	struct waiter **pp = &d->waiters;

	while (*pp) {
		struct waiter *w = *pp;
		bool done = false;

		if (w->task_id == task_id) {
			if (w->logs) {
				done = answer_logs(d, w->client, w->tag_json, task_id, w->stderr_stream, w->offset, w->max,
						   true, ended);
			} else if (ended) {
				struct store_task st;
				struct store_error err;

				if (store_get_task(d->store, task_id, &st, &err) == 0) {
					send_task(d, w->client, w->tag_json, &st);
					store_task_clear(&st);
				}
				done = true;
			}
		}
		if (done) {
			*pp = w->next;
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}

void ops_check_waiters(struct daemon *d)
{
	uint64_t now = daemon_mono_us();
	struct waiter **pp = &d->waiters;

	while (*pp) {
		struct waiter *w = *pp;
		bool done = false;

		if (w->logs)
			done = answer_logs(d, w->client, w->tag_json, w->task_id, w->stderr_stream, w->offset, w->max,
					   true, false);
		if (!done && w->expires_mono_us && now >= w->expires_mono_us) {
			if (w->logs)
				answer_logs(d, w->client, w->tag_json, w->task_id, w->stderr_stream, w->offset, w->max,
					    false, false);
			else
				conn_send_error(d, w->client, w->tag_json, API_ERR_WAIT_TIMEOUT,
						"task %lld has not ended yet", (long long)w->task_id);
			done = true;
		}
		if (done) {
			*pp = w->next;
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}

void ops_drop_client_waiters(struct daemon *d, struct client *c)
{
	struct waiter **pp = &d->waiters;

	while (*pp) {
		struct waiter *w = *pp;

		if (w->client == c) {
			*pp = w->next;
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
	/* pending submits of c stay: their tasks are stored, the answers go
	 * nowhere (conn_send drops lines for dead clients) */
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
	budget = known && lim.monthly_cpu_seconds ? lim.monthly_cpu_seconds * 1000000u : 0;
	json_object_set_new(o, "user", json_string(user));
	json_object_set_new(o, "plan", known ? json_string(lim.plan) : json_null());
	json_object_set_new(o, "month", json_string(month));
	json_object_set_new(o, "cpu_used_us", json_integer(used));
	json_object_set_new(o, "cpu_budget_us", json_integer((json_int_t)budget));
	json_object_set_new(o, "cpu_left_us",
			    json_integer(budget == 0 ? 0 : (json_int_t)(budget > (uint64_t)used ? budget - (uint64_t)used : 0)));
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
	send_ok_json(d, c, req->tag_json, body);
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
	send_ok_json(d, c, req->tag_json, body);
}

static void op_ping(struct daemon *d, struct client *c, struct api_request *req)
{
	json_t *body = json_object();

	json_object_set_new(body, "version", json_string(API_VERSION));
	json_object_set_new(body, "pid", json_integer(getpid()));
	send_ok_json(d, c, req->tag_json, body);
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
		op_submit(d, c, req);
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
		op_wait(d, c, req);
		break;
	case API_OP_LOGS:
		op_logs(d, c, req);
		break;
	case API_OP_USAGE:
		op_usage(d, c, req);
		break;
	case API_OP_POLICY_RELOAD:
		op_policy_reload(d, c, req);
		break;
	}
}
