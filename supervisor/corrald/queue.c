/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/queue.c — corrald's users and queue in memory (a mirror
 * of the store's queued rows, without argv/env): find and add users, push,
 * find and remove tasks, load and merge the store's rows.  Dispatch (the
 * pure scheduler's input, starting what it says, its fairness state):
 * queue_dispatch.c; queue positions and pending reasons: queue_describe.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/queue_internal.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/admission.h"

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

void queue_unlink_task(struct daemon *d, struct duser *u, struct dtask *prev, struct dtask *t)
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
	queue_unlink_task(d, t->user, prev, t);
	queue_task_free(t);
	d->dispatch_needed = true;
	return true;
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
					queue_unlink_task(d, u, prev, t);
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
