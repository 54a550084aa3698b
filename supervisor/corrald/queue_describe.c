/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/queue_describe.c — `queue` and a queued task's status:
 * each queued task's position in start order and why it waits (the
 * scheduler's pending reason over the view of queue_dispatch.c, or
 * no_node_fits).  The queue itself: queue.c; starting tasks:
 * queue_dispatch.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/queue_internal.h"
#include "supervisor/sched/sched.h"

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
	r = queue_dispatch_view_build(d, SIZE_MAX, NULL, false, tg, &v);
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
	queue_dispatch_view_free(&v);
	free((char *)cluster.capacity.labels);
	return r;
}
