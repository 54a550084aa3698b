/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_submit.c — the submit operation: who may submit what
 * (tenant, plan limits, profile, queue cap, --no-queue, the storage
 * quota max_stored), stdin stored and
 * synced, the task stored in the loop's store batch and answered only after
 * the batch commits (an acknowledged task is durable).  An idempotency key
 * is stored beside the task in the same batch; a submit that repeats a key
 * of its tenant answers the first task (after the batch commits, when that
 * task is still in it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/common/error.h"
#include "supervisor/common/human.h"
#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/webhook_rules.h"
#include "supervisor/jailspec/jailspec.h"
#include "supervisor/sched/admission.h"
#include "supervisor/store/store_callback.h"
#include "supervisor/store/store_token.h"

struct pending_submit {
	struct pending_submit *next;
	struct reply_sink *sink; /* a reference: the answer goes there after the commit */
	char *tag_json;
	int64_t id; /* not a pointer: a cancel in the same turn may free the task */
	char *stdin_path;
	struct duser *user;    /* its storage counter: undone if the batch fails */
	uint64_t stored_bytes; /* what the task added to it */
};

/* ---- submit ------------------------------------------------------------- */

static char *json_array_text(char *const *v, size_t n)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

static char *env_object_text(char *const *v, size_t n)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *name = eq ? strndup(v[i], (size_t)(eq - v[i])) : NULL;

		if (name)
			json_object_set_new(o, name, json_string(eq + 1));
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* The env to store: the request's added to the profile's (else the
 * runner's default), or alone with clear_env; NULL when it gave none.
 * -ENOMEM when out of memory. */
static int task_env_text(struct daemon *d, const struct api_request *req, const char *profile, char **text)
{
	const struct policy_profile *p = policy_profile(d->policy, profile);
	char **env;
	size_t n = 0;

	*text = NULL;
	if (!req->env)
		return 0;
	if (req->clear_env) {
		*text = env_object_text(req->env, req->envc);
		return *text ? 0 : -ENOMEM;
	}
	env = jailspec_env_merge(p ? p->env : NULL, req->env, req->envc);
	if (!env)
		return -ENOMEM;
	while (env[n])
		n++;
	*text = env_object_text(env, n);
	jailspec_env_free(env);
	return *text ? 0 : -ENOMEM;
}

static int write_stdin(struct daemon *d, const char *data, size_t len, char **path)
{
	char buf[4200];
	_cleanup_close_ int fd = -1;

	snprintf(buf, sizeof(buf), "%s/stdin-XXXXXX", d->tasks_dir);
	fd = mkstemp(buf);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		unlink(buf);
		return -e;
	}
	*path = strdup(buf);
	if (!*path) {
		unlink(buf);
		return -ENOMEM;
	}
	return 0;
}

/* ["gpu", "ssd"] -> "gpu,ssd" (malloc'd; "" for none). */
static char *join_labels(char *const *labels, size_t n)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(labels[i]) + 1;
	out = calloc(1, len);
	for (size_t i = 0; out && i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, labels[i]);
	}
	return out;
}

/* Can a task of u start right now?  0, or the error code with a message.
 * The budget check is the scheduler's rule (supervisor/admission.h).  In a
 * cluster the counts are the cluster's, read from the store now
 * (cluster_admit.c). */
static enum api_error_code can_start_now(struct daemon *d, struct duser *u, const struct policy_limits *lim,
					 const struct api_request *req, char *msg, size_t size)
{
	uint64_t budget, limit, want, wall_us;
	struct admission_tenant tenant;
	enum admission_verdict v;
	struct node_capacity self;
	struct admit_room room = {
		.running = u->running,
		.queued = u->queued,
		.reserved_us = u->reserved_us,
		.slots = d->cfg->max_running,
		.busy = d->running_count,
		.queued_total = d->queued_total,
		.gpus = d->node_gpus,
		.gpus_free_most = d->node_gpus > d->gpus_reserved ? d->node_gpus - d->gpus_reserved : 0,
		.cpu_free_most = node_cpu_capacity(d) > d->cpu_millis_reserved
			? node_cpu_capacity(d) - d->cpu_millis_reserved
			: 0,
	};
	enum api_error_code code = API_ERR_NONE;

	node_capacity_self(d, &self);
	room.capacity = self;
	if (d->cluster && cluster_admit_room(d, u->name, &room) < 0) {
		snprintf(msg, size, "cannot read the cluster's load to answer --no-queue; try again");
		return API_ERR_INTERNAL;
	}
	/* a task no node could ever run says so first */
	{
		_cleanup_free_ char *labels = join_labels(req->labels, req->n_labels);
		struct dtask probe = { .gpus = (uint32_t)req->gpus,
				       .gpu_memory_bytes = req->gpu_memory_bytes,
				       .labels = labels,
				       .cpu_millis = (uint32_t)req->cpu_millis };
		char why[160];

		if (!node_capacity_fits(&room.capacity, &probe,
					req->has_memory ? req->memory_bytes : lim->memory_bytes, why,
					sizeof(why))) {
			snprintf(msg, size, "%s: no node could ever run this task: %s", u->name, why);
			code = API_ERR_HOST_CAPACITY;
			goto out;
		}
	}
	queue_refresh_month(d, u);
	budget = queue_user_budget_us(u, lim);
	want = req->has_cpu_limit      ? req->cpu_limit_ms * 1000u
		: lim->max_cpu_seconds ? lim->max_cpu_seconds * 1000000u
				       : ADMISSION_UNLIMITED;
	wall_us = (req->has_timeout ? req->timeout_ms : lim->max_task_seconds * 1000u) * 1000u;
	tenant = (struct admission_tenant){
		.budget = budget,
		.used = u->used_us,
		.reserved = room.reserved_us,
		.running = room.running,
		.slots = lim->max_concurrent && lim->max_concurrent < room.slots ? lim->max_concurrent
										 : room.slots,
	};
	v = admission_cpu_limit(&tenant, want,
				admission_wall_cpu_bound(wall_us, d->cfg->kill_grace_ms * 1000u,
							 req->cpu_millis ? (uint32_t)req->cpu_millis
									 : lim->cpu_millis),
				ADMISSION_MIN_CPU_US, &limit);
	/* the real reason first: a used-up budget, not "0/1 tasks running"
	 * when the one queued task waits for that budget too */
	if (v != ADMISSION_START && v != ADMISSION_BUDGET_RESERVED) {
		admission_format_budget(msg, size, u->name, lim->plan, u->month, budget, u->used_us, 0,
					room.running);
		code = API_ERR_BUDGET_EXHAUSTED;
	} else if (lim->max_concurrent && room.running + room.queued >= lim->max_concurrent) {
		if (room.queued)
			snprintf(msg, size, "%s: %u/%u tasks running%s, %u queued before this one (plan %s)",
				 u->name, room.running, lim->max_concurrent,
				 d->cluster ? " in the cluster" : "", room.queued, lim->plan);
		else
			snprintf(msg, size, "%s: %u/%u tasks running%s (plan %s)", u->name, room.running,
				 lim->max_concurrent, d->cluster ? " in the cluster" : "", lim->plan);
		code = API_ERR_CONCURRENCY_LIMIT;
	} else if (v == ADMISSION_BUDGET_RESERVED) {
		admission_format_budget(msg, size, u->name, lim->plan, u->month, budget, u->used_us,
					room.reserved_us, room.running);
		code = API_ERR_BUDGET_RESERVED;
	} else if (d->cluster ? !room.slots : d->node_draining) {
		if (d->cluster)
			snprintf(msg, size, "no node of the cluster takes work (drained or offline)");
		else
			snprintf(msg, size,
				 "node %s is drained: it starts nothing until an operator undrains it",
				 d->node_name);
		code = API_ERR_HOST_CAPACITY;
	} else if (req->gpus > room.gpus_free_most) {
		snprintf(msg, size, "%s: %llu GPUs needed, at most %u of %u free on %s%s", u->name,
			 (unsigned long long)req->gpus, room.gpus_free_most, room.gpus,
			 d->cluster ? "a node of the cluster" : "node ", d->cluster ? "" : d->node_name);
		code = API_ERR_HOST_CAPACITY;
	} else if (req->cpu_millis > room.cpu_free_most) {
		if (d->cluster)
			snprintf(msg, size, "%s: %g CPUs needed, at most %g free on a node of the cluster",
				 u->name, (double)req->cpu_millis / 1000, (double)room.cpu_free_most / 1000);
		else
			snprintf(msg, size, "%s: %g CPUs needed, %g of %g free on node %s", u->name,
				 (double)req->cpu_millis / 1000, (double)room.cpu_free_most / 1000,
				 (double)node_cpu_capacity(d) / 1000, d->node_name);
		code = API_ERR_HOST_CAPACITY;
	} else if (room.busy + room.queued_total >= room.slots) {
		snprintf(msg, size, "%s is at capacity: %u/%u tasks running, %zu queued",
			 d->cluster ? "the cluster" : "host", room.busy, room.slots, room.queued_total);
		code = API_ERR_HOST_CAPACITY;
	}
out:
	if (d->cluster)
		cluster_admit_room_free(&room);
	return code;
}

/* Store the task (stdin first, synced) in the loop's store batch and queue
 * it; the answer waits in d->pending for the batch's commit. */
static void store_and_queue(struct daemon *d, const struct caller *c, const struct api_request *req,
			    struct reply_sink *sink, const char *tenant, const char *profile, struct duser *u,
			    const struct policy_limits *lim)
{
	_cleanup_free_ char *stdin_path = NULL, *argv_json = NULL, *env_json = NULL, *labels = NULL;
	_cleanup_free_ struct dtask *t = NULL;
	_cleanup_free_ struct pending_submit *p = NULL;
	const struct policy_profile *pf = policy_profile(d->policy, profile); /* checked by the caller */
	struct store_task st;
	struct error serr;
	uint64_t need, files_bytes;
	enum api_error_code code;
	char msg[512];
	int64_t id;
	int r;

	argv_json = json_array_text(req->argv, req->argc);
	r = task_env_text(d, req, profile, &env_json);
	labels = join_labels(req->labels, req->n_labels);
	if (!argv_json || !labels || r < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	memset(&st, 0, sizeof(st));
	st.argv_json = argv_json;
	st.env_json = env_json;
	st.stdin_bytes = req->has_stdin ? (int64_t)req->stdin_len : 0;
	/* nothing written yet: a refusal leaves no trace */
	need = (uint64_t)store_input_bytes(&st);
	if ((code = op_files_check(d, tenant, req, lim, &files_bytes, msg, sizeof(msg))) != API_ERR_NONE) {
		ops_reply_error(sink, req->tag_json, code, "%s", msg);
		return;
	}
	need += files_bytes;
	/* a cluster: the tenant's bytes on every node, under its quota lock */
	if ((code = d->cluster ? cluster_admit_storage(d, u, lim, need, msg, sizeof(msg))
			       : storage_check_quota(u, lim, need, msg, sizeof(msg))) != API_ERR_NONE) {
		ops_reply_error(sink, req->tag_json, code, "%s", msg);
		return;
	}
	if (req->has_stdin) {
		r = write_stdin(d, req->stdin_data, req->stdin_len, &stdin_path);
		if (r < 0) {
			ops_reply_error(sink, req->tag_json,
					r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
					"store stdin: %s; task not accepted", strerror(-r));
			return;
		}
	}
	st.user = (char *)tenant;
	st.submitted_by_uid = c->uid;
	st.profile = (char *)profile;
	st.argv_json = argv_json;
	st.env_json = env_json;
	st.cwd = (char *)req->cwd;
	st.stdin_path = stdin_path;
	st.wall_limit_ms = req->has_timeout ? (int64_t)req->timeout_ms : 0;
	st.cpu_limit_us = req->has_cpu_limit ? (int64_t)req->cpu_limit_ms * 1000 : 0;
	st.memory_limit_bytes = req->has_memory ? (int64_t)req->memory_bytes : 0;
	st.gpus = (int64_t)req->gpus;
	st.gpu_memory_bytes = (int64_t)req->gpu_memory_bytes;
	st.labels = labels;
	st.cpu_millis = (int64_t)req->cpu_millis;
	st.submitted_at_us = (int64_t)daemon_now_us(d);
	r = daemon_batch(d) ? store_submit(d->store, &st, &id, &serr) : -EIO;
	/* a cluster: any node may run it, so its stdin is in the store too */
	if (r == 0 && d->cluster && req->has_stdin && req->stdin_len &&
	    (r = cluster_output_store_stdin(d, id, req->stdin_data, req->stdin_len)) < 0) {
		struct error ignored;

		/* its row is in the batch: never run it without its stdin */
		store_cancel_queued(d->store, id, (int64_t)daemon_now_us(d), &ignored);
		error_set_message(&serr, -r, "store stdin", "cannot store the task's stdin");
	}
	/* its files beside it, in the same batch: an acknowledged task has them */
	if (r == 0 && (req->files || req->inputs || req->n_artifacts || (pf && pf->artifacts)) &&
	    (r = op_files_store(d, id, tenant, req, pf ? pf->artifacts : NULL, &serr)) < 0) {
		struct error ignored;

		store_cancel_queued(d->store, id, (int64_t)daemon_now_us(d), &ignored);
	}
	if (r == -EIO && !d->batch_open)
		error_set_message(&serr, EIO, "begin transaction", "cannot begin a store transaction");
	if (r < 0) {
		if (stdin_path)
			unlink(stdin_path);
		ops_reply_error(sink, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
				"%s; task not accepted", serr.message);
		return;
	}
	t = calloc(1, sizeof(*t));
	p = calloc(1, sizeof(*p));
	if (!t || !p) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	t->ep_kind = EP_TASK;
	t->id = id;
	t->user = u;
	t->seq = d->cluster ? (uint64_t)id : ++d->next_seq; /* a cluster orders by id */
	t->pidfd = -1;
	t->wall_limit_us = (uint64_t)st.wall_limit_ms * 1000u;
	t->cpu_request_us = req->has_cpu_limit ? req->cpu_limit_ms * 1000u : 0;
	t->memory_bytes = (uint64_t)st.memory_limit_bytes;
	t->gpus = (uint32_t)req->gpus;
	t->gpu_memory_bytes = req->gpu_memory_bytes;
	t->labels = TAKE_PTR(labels);
	t->cpu_millis = (uint32_t)req->cpu_millis;
	queue_push(d, TAKE_PTR(t));
	u->stored_bytes += need;
	p->user = u;
	p->stored_bytes = need;
	metrics_task_submitted(d, tenant);
	d->notify_pending = d->cluster; /* the scheduler may be another node */
	if (req->idempotency_key &&
	    (r = store_token_idempotency_put(d->store, tenant, req->idempotency_key, id, st.submitted_at_us,
					     &serr)) < 0 &&
	    r != -EEXIST)
		log_task(LOG_LEVEL_WARNING, id, "remember idempotency key: %s", serr.message);
	if (req->callback_url && store_callback_add(d->store, id, req->callback_url, &serr) < 0)
		log_task(LOG_LEVEL_WARNING, id, "remember callback_url: %s", serr.message);
	p->sink = ops_sink_ref(sink);
	p->tag_json = req->tag_json ? strdup(req->tag_json) : NULL;
	p->id = id;
	p->stdin_path = TAKE_PTR(stdin_path);
	p->next = d->pending;
	d->pending = TAKE_PTR(p);
}

/* "its profile is 'x'" or "its profiles: a, b, c" */
static const char *op_submit_profiles_text(const struct policy_limits *lim, char *buf, size_t size)
{
	size_t off;

	if (lim->n_profiles <= 1) {
		snprintf(buf, size, "its profile is '%s'", lim->profile);
		return buf;
	}
	off = (size_t)snprintf(buf, size, "its profiles:");
	for (size_t i = 0; i < lim->n_profiles && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s %s", i ? "," : "", lim->profiles[i]);
	return buf;
}

/* A key the tenant used before: answer the task it created (true), after
 * the batch commits when that task is still in it. */
static bool replay_idempotent(struct daemon *d, const struct api_request *req, struct reply_sink *sink,
			      const char *tenant)
{
	struct pending_submit *p;
	struct store_task st;
	struct error err;
	int64_t id;
	int r = store_token_idempotency_get(d->store, tenant, req->idempotency_key, &id, &err);

	if (r == -ENOENT)
		return false;
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "idempotency key: %s", err.message);
		return true;
	}
	for (p = d->pending; p && p->id != id; p = p->next)
		;
	if (p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
			return true;
		}
		p->sink = ops_sink_ref(sink);
		p->tag_json = req->tag_json ? strdup(req->tag_json) : NULL;
		p->id = id;
		p->next = d->pending;
		d->pending = p;
		return true;
	}
	if (store_get_task(d->store, id, &st, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read task %lld: %s", (long long)id,
				err.message);
		return true;
	}
	ops_reply_task(d, sink, req->tag_json, &st);
	store_task_clear(&st);
	return true;
}

void op_submit(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink)
{
	const char *tenant = ops_acting_tenant(c, req, sink);
	struct policy_limits lim;
	struct duser *u;
	uint32_t queued;
	const char *profile;
	char msg[512], have[48], most[48];
	enum api_error_code code;
	int r;

	if (!tenant)
		return;
	if (req->idempotency_key && replay_idempotent(d, req, sink, tenant))
		return;
	if (d->shutting_down) {
		ops_reply_error(sink, req->tag_json, API_ERR_SHUTTING_DOWN, "corrald is shutting down");
		return;
	}
	if (req->clear_env && !req->env) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"clear_env needs env: the variables the task gets");
		return;
	}
	if (tenants_limits_for(d, tenant, &lim) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_UNKNOWN_USER,
				"no plan for tenant '%s': no [user %s] section, no tenant record and no "
				"[default] plan",
				tenant, tenant);
		return;
	}
	profile = req->profile ? req->profile : lim.profile;
	if (!policy_profile(d->policy, profile)) {
		ops_reply_error(sink, req->tag_json, API_ERR_UNKNOWN_PROFILE, "no profile '%s' in the policy",
				profile);
		return;
	}
	if (!c->operator_ && !policy_limits_allow_profile(&lim, profile)) {
		char names[256];

		ops_reply_error(sink, req->tag_json, API_ERR_FORBIDDEN,
				"profile '%s' is not available on plan %s (%s)", profile, lim.plan,
				op_submit_profiles_text(&lim, names, sizeof(names)));
		return;
	}
	if (req->has_timeout && lim.max_task_seconds && req->timeout_ms > lim.max_task_seconds * 1000) {
		ops_reply_error(sink, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"timeout %s is above plan %s's limit of %s",
				human_duration(req->timeout_ms * 1000u, have, sizeof(have)), lim.plan,
				human_duration(lim.max_task_seconds * 1000000u, most, sizeof(most)));
		return;
	}
	if (req->has_cpu_limit && lim.max_cpu_seconds && req->cpu_limit_ms > lim.max_cpu_seconds * 1000) {
		ops_reply_error(sink, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"CPU limit %s is above plan %s's limit of %s",
				human_duration(req->cpu_limit_ms * 1000u, have, sizeof(have)), lim.plan,
				human_duration(lim.max_cpu_seconds * 1000000u, most, sizeof(most)));
		return;
	}
	if (req->has_memory && lim.memory_bytes && req->memory_bytes > lim.memory_bytes) {
		ops_reply_error(sink, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"memory %s is above plan %s's limit of %s",
				human_size(req->memory_bytes, have, sizeof(have)), lim.plan,
				human_size(lim.memory_bytes, most, sizeof(most)));
		return;
	}
	if (req->cpu_millis && lim.cpu_millis && req->cpu_millis > lim.cpu_millis) {
		ops_reply_error(sink, req->tag_json, API_ERR_LIMIT_EXCEEDED,
				"%g CPUs is above plan %s's limit of %g", (double)req->cpu_millis / 1000,
				lim.plan, (double)lim.cpu_millis / 1000);
		return;
	}
	if (req->callback_url &&
	    (r = webhook_rules_url_check(policy_http(d->policy), req->callback_url, msg, sizeof(msg))) < 0) {
		ops_reply_error(sink, req->tag_json, r == -EPERM ? API_ERR_FORBIDDEN : API_ERR_BAD_REQUEST,
				"%s", msg);
		return;
	}
	if (req->cwd && req->cwd[0] != '/') {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST, "cwd '%s' must be an absolute path",
				req->cwd);
		return;
	}
	u = queue_user(d, tenant);
	if (!u) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	queued = u->queued;
	if (d->cluster && lim.max_queued) {
		/* other nodes take submits too: the store's count is the cluster's
		 * (this turn's uncommitted submits included: same transaction) */
		struct error err;
		int64_t n = 0;

		if (store_count_queued(d->store, tenant, &n, &err) < 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "count queued tasks: %s",
					err.message);
			return;
		}
		queued = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	if (lim.max_queued && queued >= lim.max_queued) {
		ops_reply_error(sink, req->tag_json, API_ERR_QUEUE_FULL, "%s: %u/%u tasks queued (plan %s)",
				tenant, queued, lim.max_queued, lim.plan);
		return;
	}
	if (req->no_queue && (code = can_start_now(d, u, &lim, req, msg, sizeof(msg))) != API_ERR_NONE) {
		ops_reply(sink, api_response_error(req->tag_json, code, msg));
		return;
	}
	store_and_queue(d, c, req, sink, tenant, profile, u, &lim);
	if (d->cluster)
		cluster_admit_release(d); /* the tenant's quota lock goes with the commit */
}

void op_submit_finish_batch(struct daemon *d, bool committed, const char *error)
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
	for (p = rev; p;) {
		struct pending_submit *next = p->next;

		if (committed) {
			struct store_task st;
			struct error err;

			if (store_get_task(d->store, p->id, &st, &err) == 0) {
				char *task = api_task_json(&st, NULL);
				size_t len = task ? strlen(task) + 16 : 0;
				char *body = task ? malloc(len) : NULL;

				if (body) {
					snprintf(body, len, "{\"task\":%s}", task);
					ops_reply(p->sink, api_response_ok(p->tag_json, body));
				}
				free(body);
				free(task);
				store_task_clear(&st);
			}
			log_task(LOG_LEVEL_DEBUG, p->id, "queued");
		} else {
			queue_remove(d, p->id); /* gone already if cancelled meanwhile */
			p->user->stored_bytes -= p->stored_bytes;
			if (p->stdin_path)
				unlink(p->stdin_path);
			ops_reply_error(p->sink, p->tag_json, API_ERR_STORAGE_FULL,
					"the store could not commit: %s; task not accepted",
					error ? error : "?");
		}
		ops_sink_unref(p->sink);
		free(p->tag_json);
		free(p->stdin_path);
		free(p);
		p = next;
	}
}
