/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/queue.c — corrald's users and queue in memory (a mirror
 * of the store's queued rows, without argv/env), and dispatch: translate
 * them into the pure scheduler's input (supervisor/sched/sched.h), start what it
 * says, keep its fairness state.  Also queue positions and pending reasons.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/admission.h"
#include "supervisor/sched/sched.h"

#define MIN_CPU_TO_START_US ADMISSION_MIN_CPU_US /* a budget-cut task must still get 1 s */

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct duser *queue_find_user(struct daemon *d, const char *name)
{
	for (struct duser *u = d->user_table[hash_name(name) % d->user_buckets]; u; u = u->hash_next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static void grow_table(struct daemon *d)
{
	size_t buckets = d->user_buckets * 4;
	struct duser **table = calloc(buckets, sizeof(*table));

	if (!table)
		return;
	for (size_t i = 0; i < d->user_buckets; i++) {
		while (d->user_table[i]) {
			struct duser *u = d->user_table[i];
			size_t b = hash_name(u->name) % buckets;

			d->user_table[i] = u->hash_next;
			u->hash_next = table[b];
			table[b] = u;
		}
	}
	free(d->user_table);
	d->user_table = table;
	d->user_buckets = buckets;
}

struct duser *queue_user(struct daemon *d, const char *name)
{
	struct duser *u = queue_find_user(d, name);
	size_t b;

	if (u)
		return u;
	if (d->n_users >= d->user_buckets * 2)
		grow_table(d);
	u = calloc(1, sizeof(*u));
	if (!u || !(u->name = strdup(name))) {
		free(u);
		return NULL;
	}
	/* a new user starts at the system's virtual time: no banked credit */
	u->pass = d->virtual_time;
	b = hash_name(name) % d->user_buckets;
	u->hash_next = d->user_table[b];
	d->user_table[b] = u;
	d->n_users++;
	return u;
}

void queue_refresh_month(struct daemon *d, struct duser *u)
{
	char month[8];
	struct error err;
	int64_t used = 0, adjust = 0;

	daemon_month(d, daemon_now_us(d), month);
	if (strcmp(month, u->month) == 0)
		return;
	if (store_usage_get(d->store, u->name, month, &used, &err) < 0 ||
	    store_usage_adjust_sum(d->store, u->name, month, &adjust, &err) < 0) {
		log_error("read usage of %s in %s: %s", u->name, month, err.message);
		return; /* try again next time; keep the old figure meanwhile */
	}
	memcpy(u->month, month, sizeof(month));
	u->used_us = (uint64_t)used;
	u->adjust_us = adjust;
}

uint64_t queue_user_budget_us(const struct duser *u, const struct policy_limits *lim)
{
	return admission_budget_adjusted(queue_budget_us(lim), u->adjust_us);
}

int queue_limits(struct daemon *d, const struct duser *u, struct policy_limits *lim)
{
	return tenants_limits_for(d, u->name, lim);
}

uint64_t queue_budget_us(const struct policy_limits *lim)
{
	return admission_budget_us(lim->monthly_cpu_ms);
}

void queue_push(struct daemon *d, struct dtask *t)
{
	struct duser *u = t->user;

	t->next = NULL;
	if (u->queue_tail)
		u->queue_tail->next = t;
	else
		u->queue_head = t;
	u->queue_tail = t;
	u->queued++;
	d->queued_total++;
	d->dispatch_needed = true;
}

void queue_push_front(struct daemon *d, struct dtask *t)
{
	struct duser *u = t->user;

	t->next = u->queue_head;
	u->queue_head = t;
	if (!u->queue_tail)
		u->queue_tail = t;
	u->queued++;
	d->queued_total++;
}

void queue_push_in_order(struct daemon *d, struct dtask *t)
{
	struct duser *u = t->user;
	struct dtask *prev = NULL;

	for (struct dtask *p = u->queue_head; p && p->seq < t->seq; p = p->next)
		prev = p;
	t->next = prev ? prev->next : u->queue_head;
	if (prev)
		prev->next = t;
	else
		u->queue_head = t;
	if (!t->next)
		u->queue_tail = t;
	u->queued++;
	d->queued_total++;
	d->dispatch_needed = true;
}

void queue_task_free(struct dtask *t)
{
	if (!t)
		return;
	free(t->cancelled_by);
	free(t->labels);
	free(t);
}

static void unlink_task(struct daemon *d, struct duser *u, struct dtask *prev, struct dtask *t)
{
	if (prev)
		prev->next = t->next;
	else
		u->queue_head = t->next;
	if (u->queue_tail == t)
		u->queue_tail = prev;
	t->next = NULL;
	u->queued--;
	d->queued_total--;
}

struct dtask *queue_find(struct daemon *d, int64_t id)
{
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next)
			for (struct dtask *t = u->queue_head; t; t = t->next)
				if (t->id == id)
					return t;
	return NULL;
}

bool queue_remove(struct daemon *d, int64_t id)
{
	struct dtask *t = queue_find(d, id), *prev = NULL;

	if (!t)
		return false;
	for (struct dtask *p = t->user->queue_head; p && p != t; p = p->next)
		prev = p;
	unlink_task(d, t->user, prev, t);
	queue_task_free(t);
	d->dispatch_needed = true;
	return true;
}

/* The scheduler's view of the queue: users with queued tasks, at most
 * per_user of each one's head tasks. */
struct view {
	struct sched_input in;
	struct sched_user *users;
	struct sched_task *tasks;
	struct duser **user_of;
	struct dtask **task_of;
	struct policy_limits *limits;
	size_t n_users, n_tasks;
};

static void view_free(struct view *v)
{
	free(v->users);
	free(v->tasks);
	free(v->user_of);
	free(v->task_of);
	free(v->limits);
	memset(v, 0, sizeof(*v));
}

static uint64_t seconds_or_unlimited(uint64_t seconds)
{
	return seconds ? seconds * 1000000u : SCHED_NO_LIMIT;
}

/* for_dispatch: leave out tasks waiting out a retry's backoff (and note
 * the soonest end of one in d->next_retry_mono_us); positions see them all. */
static int view_build(struct daemon *d, size_t per_user, const char *only_user, bool for_dispatch,
		      const struct queue_target *tg, struct view *v)
{
	struct node_capacity self;
	const struct node_capacity *cap = tg ? &tg->capacity : &self;

	size_t n_users = 0, n_tasks = 0;
	uint64_t mono = for_dispatch ? daemon_mono_us() : 0;

	node_capacity_self(d, &self);
	memset(v, 0, sizeof(*v));
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next)
			if (u->queued && (!only_user || strcmp(u->name, only_user) == 0)) {
				n_users++;
				n_tasks += u->queued < per_user ? u->queued : per_user;
			}
	v->users = calloc(n_users + 1, sizeof(*v->users));
	v->user_of = calloc(n_users + 1, sizeof(*v->user_of));
	v->limits = calloc(n_users + 1, sizeof(*v->limits));
	v->tasks = calloc(n_tasks + 1, sizeof(*v->tasks));
	v->task_of = calloc(n_tasks + 1, sizeof(*v->task_of));
	if (!v->users || !v->user_of || !v->limits || !v->tasks || !v->task_of) {
		view_free(v);
		return -ENOMEM;
	}
	for (size_t b = 0; b < d->user_buckets; b++) {
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			struct sched_user *su;
			struct policy_limits *lim;
			size_t taken = 0;

			if (!u->queued || (only_user && strcmp(u->name, only_user) != 0))
				continue;
			su = &v->users[v->n_users];
			lim = &v->limits[v->n_users];
			v->user_of[v->n_users] = u;
			if (queue_limits(d, u, lim) < 0) {
				/* the user left the policy after submitting: nothing starts */
				memset(lim, 0, sizeof(*lim));
				lim->plan = "(none)";
			}
			/* the month's usage matters only under a budget */
			if (lim->monthly_cpu_ms != LIMIT_NONE)
				queue_refresh_month(d, u);
			su->max_concurrent = lim->max_concurrent ? lim->max_concurrent : UINT32_MAX;
			if (!lim->profile)
				su->max_concurrent = 0;
			su->running = u->running;
			su->weight = lim->weight ? lim->weight : 1;
			su->budget = queue_user_budget_us(u, lim);
			su->used = u->used_us;
			su->reserved = u->reserved_us;
			su->max_cpu = seconds_or_unlimited(lim->max_cpu_seconds);
			su->pass = u->pass;
			su->first_task = v->n_tasks;
			/* a decision starts no more of a user's tasks than its limit lets run */
			size_t most = per_user;
			uint32_t room = su->running < su->max_concurrent ? su->max_concurrent - su->running
									 : 0;

			if (for_dispatch && room < most)
				most = room;
			for (struct dtask *t = u->queue_head; t && taken < most; t = t->next) {
				struct sched_task *st = &v->tasks[v->n_tasks];

				/* no node could ever run it: it waits, reported apart
				 * (queue_describe), and does not hold its user's queue */
				if (!node_capacity_fits(cap, t,
							t->memory_bytes ? t->memory_bytes : lim->memory_bytes,
							NULL, 0))
					continue;
				if (for_dispatch && t->not_before_mono_us > mono) {
					if (!d->next_retry_mono_us ||
					    t->not_before_mono_us < d->next_retry_mono_us)
						d->next_retry_mono_us = t->not_before_mono_us;
					continue;
				}
				taken++;

				st->id = (uint64_t)t->id;
				st->submit_seq = t->seq;
				st->cpu_request = t->cpu_request_us;
				st->memory_bytes = t->memory_bytes ? t->memory_bytes : lim->memory_bytes;
				st->gpus = t->gpus;
				st->cpu_millis = t->cpu_millis;
				st->wall_limit = t->wall_limit_us ? t->wall_limit_us
								  : lim->max_task_seconds * 1000000u;
				st->wall_cpu_bound = admission_wall_cpu_bound(st->wall_limit,
									      d->cfg->kill_grace_ms * 1000u,
									      t->cpu_millis
										      ? t->cpu_millis
										      : lim->cpu_millis);
				v->task_of[v->n_tasks++] = t;
			}
			su->n_tasks = taken;
			v->n_users++;
		}
	}
	v->in.users = v->users;
	v->in.n_users = v->n_users;
	v->in.tasks = v->tasks;
	v->in.n_tasks = v->n_tasks;
	if (tg) {
		v->in.host = tg->host;
	} else {
		v->in.host.max_running = d->cfg->max_running;
		v->in.host.running = d->running_count;
		v->in.host.memory = d->cfg->memory_reserve_bytes ? d->cfg->memory_reserve_bytes
								 : SCHED_NO_LIMIT;
		v->in.host.memory_reserved = d->memory_reserved;
		v->in.host.draining = d->node_draining;
		v->in.host.gpus = d->node_gpus;
		v->in.host.gpus_reserved = d->gpus_reserved;
		v->in.host.cpu_millis = node_cpu_capacity(d);
		v->in.host.cpu_millis_reserved = d->cpu_millis_reserved;
	}
	v->in.min_cpu = MIN_CPU_TO_START_US;
	v->in.virtual_time = d->virtual_time;
	return 0;
}

/* Queued tasks no node could ever run (cap: what the largest offers):
 * position 0, no_node_fits. */
static void describe_misfits(struct daemon *d, const struct node_capacity *cap, const char *user,
			     int64_t only_id, struct queue_entry *entries, size_t *n)
{
	for (size_t b = 0; b < d->user_buckets; b++) {
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			struct policy_limits lim;

			if (!u->queued || (user && strcmp(u->name, user) != 0))
				continue;
			if (queue_limits(d, u, &lim) < 0)
				memset(&lim, 0, sizeof(lim));
			for (struct dtask *t = u->queue_head; t; t = t->next) {
				char why[160];
				struct queue_entry *e;

				if ((only_id && t->id != only_id) ||
				    node_capacity_fits(cap, t,
						       t->memory_bytes ? t->memory_bytes : lim.memory_bytes,
						       why, sizeof(why)))
					continue;
				e = &entries[(*n)++];
				e->id = t->id;
				e->position = 0;
				e->reason = "no_node_fits";
				snprintf(e->message, sizeof(e->message),
					 "%s: no node could ever run this task: %s", u->name, why);
			}
		}
	}
}

static int start_here(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool capped,
		      uint64_t memory_bytes, void *ctx)
{
	(void)ctx;
	return task_start_batched(d, t, cpu_limit_us, capped, memory_bytes);
}

void queue_dispatch(struct daemon *d)
{
	queue_dispatch_to(d, NULL, start_here, NULL);
}

size_t queue_dispatch_to(struct daemon *d, const struct queue_target *tg, queue_start_fn start, void *ctx)
{
	uint32_t max = tg ? tg->host.max_running : d->cfg->max_running;
	uint32_t used = tg ? tg->host.running : d->running_count;
	uint32_t free_slots = max > used ? max - used : 0;
	struct sched_output out;
	struct view v;
	size_t started = 0;
	int r;

	if (tg && tg->max_starts && free_slots > tg->max_starts)
		free_slots = (uint32_t)tg->max_starts;
	if (!free_slots || !d->queued_total)
		return 0;
	if (daemon_mono_us() < d->dispatch_paused_until_mono_us) {
		d->dispatch_needed = true; /* again when the pause is over */
		return 0;
	}
	if (!tg && free_slots > DISPATCH_MAX_STARTS) {
		/* the rest next time round the loop, after events are served */
		free_slots = DISPATCH_MAX_STARTS;
		d->dispatch_needed = true;
	}
	d->next_retry_mono_us = 0;
	if (view_build(d, free_slots, NULL, true, tg, &v) < 0) {
		log_error("dispatch: out of memory");
		return 0;
	}
	memset(&out, 0, sizeof(out));
	out.starts = calloc(free_slots, sizeof(*out.starts));
	out.starts_capacity = free_slots;
	out.reasons = calloc(v.n_users + 1, sizeof(*out.reasons));
	out.scratch = calloc(v.n_users + 1, sizeof(*out.scratch));
	if (!out.starts || !out.reasons || !out.scratch) {
		log_error("dispatch: out of memory");
		goto done;
	}
	/* the scheduler must see the host's real free slots to give the right
	 * reasons; we only start the first free_slots of what it picks */
	uint64_t begun = daemon_mono_us();

	r = sched_decide(&v.in, &out);
	metrics_sched_decision(d, daemon_mono_us() - begun);
	if (r < 0) {
		log_error("dispatch: the scheduler refused its input (%s)", strerror(-r));
		goto done;
	}
	for (size_t i = 0; i < out.n_starts; i++) {
		const struct sched_start *s = &out.starts[i];
		struct dtask *t = v.task_of[s->task];
		struct duser *u = v.user_of[s->user];
		const struct sched_task *st = &v.tasks[s->task];
		uint64_t wanted = st->cpu_request ? st->cpu_request : v.users[s->user].max_cpu;
		/* cut below what it asked for and could burn: by the budget */
		bool capped = s->cpu_limit < wanted &&
			(!st->wall_cpu_bound || s->cpu_limit < st->wall_cpu_bound);
		struct dtask *prev = NULL;

		for (struct dtask *p = u->queue_head; p && p != t; p = p->next)
			prev = p;
		unlink_task(d, u, prev, t);
		/* -EAGAIN: not started and put back at the head of its queue (the
		 * store refused, no host uid): stop this round, order intact */
		r = start(d, t, s->cpu_limit, capped, s->memory_bytes, ctx);
		if (r == -EAGAIN) {
			d->dispatch_needed = true;
			break;
		}
		if (r == -ESTALE) /* not ours to start (a cluster's scheduler was deposed) */
			break;
		if (r == -ENOSPC) /* no node has room for it now: back in its queue */
			continue;
		sched_note_started(&d->virtual_time, &u->pass, v.users[s->user].weight);
		started++;
	}
done:
	free(out.starts);
	free(out.reasons);
	free(out.scratch);
	view_free(&v);
	return started;
}

static int by_position(const void *a, const void *b)
{
	const struct queue_entry *x = a, *y = b;
	uint32_t px = x->position ? x->position : UINT32_MAX, py = y->position ? y->position : UINT32_MAX;

	if (px != py)
		return px < py ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int queue_describe(struct daemon *d, const char *user, int64_t only_id, struct queue_entry **entries,
		   size_t *n)
{
	uint32_t free_slots;
	struct queue_target cluster = { 0 }, *tg = NULL;
	struct node_capacity self;
	struct sched_output so;
	struct view v;
	uint32_t *positions = NULL;
	char **messages = NULL;
	int r;

	*entries = NULL;
	*n = 0;
	/* a cluster: the order the scheduler would start in, over the free
	 * capacity of every node (cluster_sched_view) */
	if (d->cluster && cluster_sync_queue(d) == 0 && cluster_sched_view(d, &cluster, NULL, NULL) == 0)
		tg = &cluster;
	node_capacity_self(d, &self);
	free_slots = tg
		? (tg->host.max_running > tg->host.running ? tg->host.max_running - tg->host.running : 0)
		: (d->cfg->max_running > d->running_count ? d->cfg->max_running - d->running_count : 0);
	r = view_build(d, SIZE_MAX, NULL, false, tg, &v);
	if (r < 0) {
		free((char *)cluster.capacity.labels);
		return r;
	}
	memset(&so, 0, sizeof(so));
	positions = calloc(v.n_tasks + 1, sizeof(*positions));
	messages = calloc(v.n_users + 1, sizeof(*messages));
	so.starts = calloc(free_slots + 1, sizeof(*so.starts));
	so.starts_capacity = free_slots;
	so.reasons = calloc(v.n_users + 1, sizeof(*so.reasons));
	so.scratch = calloc(v.n_users + 1, sizeof(*so.scratch));
	/* every queued task may be listed: those the view holds, and those no
	 * node fits (the view leaves them out) */
	*entries = calloc(d->queued_total + v.n_tasks + 1, sizeof(**entries));
	if (!positions || !messages || !so.starts || !so.reasons || !so.scratch || !*entries) {
		r = -ENOMEM;
		goto done;
	}
	r = sched_queue_positions(&v.in, so.scratch, positions);
	if (r == 0)
		r = sched_decide(&v.in, &so);
	if (r < 0)
		goto done;
	for (size_t ui = 0; ui < v.n_users; ui++) {
		const struct sched_user *su = &v.users[ui];

		if (user && strcmp(v.user_of[ui]->name, user) != 0)
			continue;
		for (size_t i = su->first_task; i < su->first_task + su->n_tasks; i++) {
			struct queue_entry *e;
			enum sched_pending_reason why = so.reasons[ui];

			if (only_id && v.task_of[i]->id != only_id)
				continue;
			e = &(*entries)[(*n)++];
			e->id = v.task_of[i]->id;
			e->position = positions[i];
			/* about to start (a slot is free): the host is what it waits for */
			if (why == SCHED_PENDING_NONE)
				why = SCHED_PENDING_HOST_SLOTS;
			e->reason = sched_reason_name(why);
			sched_format_reason(e->message, sizeof(e->message), &v.in, &so, ui, why,
					    v.user_of[ui]->name, v.limits[ui].plan ? v.limits[ui].plan : "?",
					    v.user_of[ui]->month);
		}
	}
	describe_misfits(d, tg ? &tg->capacity : &self, user, only_id, *entries, n);
	qsort(*entries, *n, sizeof(**entries), by_position);
done:
	if (r < 0) {
		free(*entries);
		*entries = NULL;
		*n = 0;
	}
	free(positions);
	free(messages);
	free(so.starts);
	free(so.reasons);
	free(so.scratch);
	view_free(&v);
	free((char *)cluster.capacity.labels);
	return r;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* stdin files no queued or running task refers to: a submit that wrote its
 * stdin but crashed before its commit (a running task's file goes once its
 * command started: an attempt that dies in its setup is run again). */
static void sweep_stdin_files(struct daemon *d, const struct store_task_list *queued)
{
	size_t running = 0, n = 0;
	const char **keep;
	struct dirent *e;
	DIR *dir;

	for (struct dtask *t = d->running; t; t = t->next)
		running++;
	keep = calloc(queued->count + running + 1, sizeof(*keep));
	if (!keep)
		return;
	for (size_t i = 0; i < queued->count; i++) {
		const char *path = queued->tasks[i].stdin_path, *slash;

		if (path && (slash = strrchr(path, '/')))
			keep[n++] = slash + 1;
	}
	for (struct dtask *t = d->running; t; t = t->next) {
		const char *slash = t->stdin_path ? strrchr(t->stdin_path, '/') : NULL;

		if (slash)
			keep[n++] = slash + 1;
	}
	qsort(keep, n, sizeof(*keep), compare_names);
	dir = opendir(d->tasks_dir);
	while (dir && (e = readdir(dir))) {
		const char *name = e->d_name;

		if (strncmp(name, "stdin-", 6) != 0 || bsearch(&name, keep, n, sizeof(*keep), compare_names))
			continue;
		if (unlinkat(dirfd(dir), name, 0) == 0)
			log_notice("removed %s/%s: stdin of a submit that was never acknowledged",
				   d->tasks_dir, name);
	}
	if (dir)
		closedir(dir);
	free(keep);
}

/* A queued row as a task of the queue (NULL: out of memory). */
static struct dtask *task_of_row(struct daemon *d, const struct store_task *st, uint64_t now, uint64_t mono)
{
	struct duser *u = queue_user(d, st->user);
	struct dtask *t = u ? calloc(1, sizeof(*t)) : NULL;

	if (!t)
		return NULL;
	t->ep_kind = EP_TASK;
	t->id = st->id;
	t->user = u;
	t->seq = (uint64_t)st->id; /* the store's ids are the submit order */
	if (t->seq > d->next_seq)
		d->next_seq = t->seq; /* a later submit here comes after it */
	t->wall_limit_us = (uint64_t)st->wall_limit_ms * 1000u;
	t->cpu_request_us = (uint64_t)st->cpu_limit_us;
	t->memory_bytes = (uint64_t)st->memory_limit_bytes;
	t->gpus = (uint32_t)st->gpus;
	t->gpu_memory_bytes = (uint64_t)st->gpu_memory_bytes;
	t->labels = st->labels && st->labels[0] ? strdup(st->labels) : NULL;
	t->cpu_millis = (uint32_t)st->cpu_millis;
	t->pidfd = -1;
	if (st->not_before_us > 0 && (uint64_t)st->not_before_us > now)
		t->not_before_mono_us = mono + ((uint64_t)st->not_before_us - now);
	return t;
}

int queue_push_rows(struct daemon *d, const struct store_task_list *list)
{
	uint64_t now = daemon_now_us(d), mono = daemon_mono_us();

	for (size_t i = 0; i < list->count; i++) {
		struct dtask *t = task_of_row(d, &list->tasks[i], now, mono);

		if (!t)
			return -ENOMEM;
		queue_push(d, t);
	}
	return 0;
}

/* Whether u's queue holds id (its ids ascend: only a tail at or past id
 * is searched). */
static bool user_holds(const struct duser *u, int64_t id)
{
	if (!u->queue_tail || u->queue_tail->id < id)
		return false;
	for (const struct dtask *t = u->queue_head; t; t = t->next)
		if (t->id == id)
			return true;
	return false;
}

int queue_merge_rows(struct daemon *d, const struct store_task_list *list)
{
	uint64_t now = daemon_now_us(d), mono = daemon_mono_us();

	for (size_t i = 0; i < list->count; i++) {
		const struct store_task *st = &list->tasks[i];
		struct duser *u = queue_find_user(d, st->user);
		struct dtask *t;

		if (u && user_holds(u, st->id))
			continue;
		if (!(t = task_of_row(d, st, now, mono)))
			return -ENOMEM;
		/* an id older than its user's tail (a requeue, a late commit) goes in order */
		if (t->user->queue_tail && t->user->queue_tail->id > t->id)
			queue_push_in_order(d, t);
		else
			queue_push(d, t);
	}
	return 0;
}

static int compare_ids(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

size_t queue_remove_ids(struct daemon *d, const int64_t *ids, size_t n)
{
	size_t removed = 0;

	for (size_t b = 0; b < d->user_buckets; b++) {
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			struct dtask *prev = NULL, *t = u->queue_head;

			while (t) {
				struct dtask *next = t->next;

				if (bsearch(&t->id, ids, n, sizeof(*ids), compare_ids)) {
					unlink_task(d, u, prev, t);
					queue_task_free(t);
					removed++;
				} else {
					prev = t;
				}
				t = next;
			}
		}
	}
	if (removed)
		d->dispatch_needed = true;
	return removed;
}

void queue_clear(struct daemon *d)
{
	for (size_t b = 0; b < d->user_buckets; b++) {
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			while (u->queue_head) {
				struct dtask *t = u->queue_head;

				u->queue_head = t->next;
				queue_task_free(t);
			}
			u->queue_tail = NULL;
			u->queued = 0;
		}
	}
	d->queued_total = 0;
}

int queue_load(struct daemon *d)
{
	struct store_task_list list;
	struct error err;
	int r = store_load_queued(d->store, &list, &err);

	if (r < 0) {
		log_error("load the queue: %s", err.message);
		return r;
	}
	r = queue_push_rows(d, &list);
	if (r < 0) {
		store_task_list_free(&list);
		return r;
	}
	if (list.count)
		log_notice("%zu queued tasks loaded from the store", list.count);
	sweep_stdin_files(d, &list);
	store_task_list_free(&list);
	return 0;
}

void queue_free_all(struct daemon *d)
{
	if (!d->user_table)
		return;
	for (size_t b = 0; b < d->user_buckets; b++) {
		while (d->user_table[b]) {
			struct duser *u = d->user_table[b];

			d->user_table[b] = u->hash_next;
			while (u->queue_head) {
				struct dtask *t = u->queue_head;

				u->queue_head = t->next;
				queue_task_free(t);
			}
			free(u->name);
			free(u);
		}
	}
	d->n_users = 0;
	d->queued_total = 0;
}
