/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/running.c — the running set: the one place a task
 * enters it (a start, an adoption after a restart) and leaves it, with its
 * host uid slot, its user's and the host's counts, and its CPU and memory
 * reservations.  Leases and metrics hook in here.  A handover lets go of
 * them all, leaving their jails running.
 */
#include <errno.h>
#include <stdlib.h>

#include "supervisor/corrald/corrald.h"

struct dtask *running_find(struct daemon *d, int64_t id)
{
	for (struct dtask *t = d->running; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

int running_take_uid_slot(struct daemon *d, uint32_t *slot)
{
	for (uint32_t i = 0; i < d->n_uid_slots; i++) {
		if (!d->uid_slots[i]) {
			d->uid_slots[i] = 1;
			*slot = i;
			return 0;
		}
	}
	return -EAGAIN;
}

void running_enter(struct daemon *d, struct dtask *t)
{
	d->uid_slots[t->uid_slot] = 1;
	t->next = d->running;
	d->running = t;
	t->user->running++;
	if (t->cpu_limit_us != LIMIT_NONE)
		t->user->reserved_us += t->cpu_limit_us;
	d->running_count++;
	d->memory_reserved += t->memory_reserved;
	d->gpus_reserved += t->gpus;
	d->cpu_millis_reserved += t->cpu_millis;
}

void running_leave(struct daemon *d, struct dtask *t)
{
	struct duser *u = t->user;

	if (t->pidfd >= 0)
		daemon_epoll_del(d, t->pidfd);
	t->pidfd = -1;
	d->uid_slots[t->uid_slot] = 0;
	/* a cluster's scheduler sets these from the store now and then */
	if (u->running)
		u->running--;
	if (t->cpu_limit_us != LIMIT_NONE)
		u->reserved_us -= u->reserved_us < t->cpu_limit_us ? u->reserved_us : t->cpu_limit_us;
	u->month[0] = '\0'; /* re-read the month's usage: the end charged the rest */
	d->running_count--;
	d->memory_reserved -= t->memory_reserved;
	d->gpus_reserved -= t->gpus;
	d->cpu_millis_reserved -= t->cpu_millis;
	for (struct dtask **pp = &d->running; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	d->dispatch_needed = true;
}

void running_hand_over_all(struct daemon *d)
{
	while (d->running) {
		struct dtask *t = d->running;

		running_leave(d, t);
		jail_release(t->jail);
		free(t->stdin_path);
		queue_task_free(t);
	}
}
