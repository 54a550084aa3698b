/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/queue_dispatch.c — dispatch: the queue in memory
 * (queue.c) translated into the pure scheduler's input (the view:
 * supervisor/sched/sched.h), the tasks it picks started (here, or on a
 * cluster's nodes through queue_dispatch_to's start function), its
 * fairness state kept.  Queue positions and pending reasons over the same
 * view: queue_describe.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/queue_internal.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/admission.h"
#include "supervisor/sched/sched.h"

#define MIN_CPU_TO_START_US ADMISSION_MIN_CPU_US /* a budget-cut task must still get 1 s */

void queue_dispatch_view_free(struct view *v)
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
int queue_dispatch_view_build(struct daemon *d, size_t per_user, const char *only_user, bool for_dispatch,
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
		queue_dispatch_view_free(v);
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
	if (queue_dispatch_view_build(d, free_slots, NULL, true, tg, &v) < 0) {
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
		queue_unlink_task(d, u, prev, t);
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
	queue_dispatch_view_free(&v);
	return started;
}
