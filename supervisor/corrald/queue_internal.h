/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/queue_internal.h — what queue.c, queue_dispatch.c and
 * queue_describe.c share: the scheduler's view of the queue and taking a
 * task out of its user's queue.  Not for the rest of corrald (corrald.h has
 * the queue's API).
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_QUEUE_INTERNAL_H
#define CORRAL_SUPERVISOR_CORRALD_QUEUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/sched/sched.h"

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

/* for_dispatch: leave out tasks waiting out a retry's backoff (and note
 * the soonest end of one in d->next_retry_mono_us); positions see them all.
 * 0 or -ENOMEM; free with queue_dispatch_view_free(). */
int queue_dispatch_view_build(struct daemon *d, size_t per_user, const char *only_user, bool for_dispatch,
			      const struct queue_target *tg, struct view *v);
void queue_dispatch_view_free(struct view *v);

/* queue.c: take t (after prev, NULL: the head) out of u's queue. */
void queue_unlink_task(struct daemon *d, struct duser *u, struct dtask *prev, struct dtask *t);

#endif
