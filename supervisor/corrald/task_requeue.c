/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/task_requeue.c — an attempt that goes back to the
 * queue, in memory: its handle reset and the task back at its submit order
 * (task_requeue_back, after store_requeue); and the requeues the store
 * could not record yet, kept and retried at every poll.
 *
 * Those are starts the store failed under (a lost connection to
 * PostgreSQL while the task's inputs were read, say): the command never
 * ran, the store still says running, and the store that failed the start
 * usually fails the requeue too.  Ending such a task would lose it for a
 * fault of the host's; so it is held (not queued, not running, its host
 * uid given back, its lease renewed with the node's others) until the
 * store takes the requeue, or says it is no longer this node's to requeue,
 * or its cancel was asked for meanwhile (then it ends cancelled).  A
 * corrald that stops while holding one leaves it running in the store: the
 * next start (or the cluster's reaper) settles it as a start that never
 * ran its command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/retry.h"

struct requeue_held {
	struct requeue_held *next;
	struct dtask *t;
	char *reason;
	uint64_t cpu_total_us;
	uint32_t attempts;
};

/* The attempt's jail handle released (the jail itself is gone or never was). */
static void release_jail(struct dtask *t)
{
	if (t->jail)
		jail_free(t->jail);
	t->jail = NULL;
	t->pidfd = -1;
	t->starting = false;
}

void task_requeue_back(struct daemon *d, struct dtask *t, uint64_t cpu_total_us, uint64_t backoff_us)
{
	release_jail(t);
	t->adopted = false;
	t->why = END_NONE;
	t->deadline_mono_us = t->kill_at_mono_us = 0;
	free(t->cancelled_by);
	t->cancelled_by = NULL;
	free(t->stdin_path); /* the file stays: the next attempt reads it */
	t->stdin_path = NULL;
	t->cpu_prior_us = cpu_total_us;
	t->not_before_mono_us = daemon_mono_us() + backoff_us;
	queue_push_in_order(d, t);
}

int task_requeue_hold(struct daemon *d, struct dtask *t, uint32_t attempts, const char *reason,
		      uint64_t cpu_total_us)
{
	struct requeue_held *h = calloc(1, sizeof(*h));

	if (!h || !(h->reason = strdup(reason))) {
		free(h);
		return -ENOMEM;
	}
	release_jail(t);
	h->t = t;
	h->attempts = attempts;
	h->cpu_total_us = cpu_total_us;
	h->next = d->requeues_held;
	d->requeues_held = h;
	log_task(LOG_LEVEL_WARNING, t->id, "its requeue waits for the store (%s)", reason);
	return 0;
}

static void held_free(struct requeue_held *h)
{
	free(h->reason);
	free(h);
}

/* Its cancel was asked for while it was held: it ends cancelled (recorded,
 * or kept by task_end_record's retries). */
static void held_cancelled(struct daemon *d, struct requeue_held *h)
{
	struct jail_result none;

	memset(&none, 0, sizeof(none));
	none.exit_code = -1;
	task_end_record(d, h->t->id, h->t->user->name, STORE_CANCELLED, STORE_REASON_CANCELLED,
			"cancelled before its command started", &none);
	op_wait_wake(d, h->t->id, true);
}

/* One try: true when the held requeue is settled (t requeued or freed). */
static bool held_retry(struct daemon *d, struct requeue_held *h)
{
	struct dtask *t = h->t;
	struct store_requeue rq;
	struct store_task st;
	struct error err;
	uint64_t now = daemon_now_us(d), backoff = retry_backoff_us(h->attempts);
	char month[8];
	int r;

	memset(&st, 0, sizeof(st));
	r = store_get_task(d->store, t->id, &st, &err);
	if (r == 0 && st.state == STORE_RUNNING && st.cancel_requested) {
		store_task_clear(&st);
		held_cancelled(d, h);
		queue_task_free(t);
		return true;
	}
	if (r == 0)
		store_task_clear(&st);
	if (r < 0 && r != -ENOENT)
		return false;
	daemon_month(d, now, month);
	memset(&rq, 0, sizeof(rq));
	rq.reason = h->reason;
	rq.at_us = (int64_t)now;
	rq.not_before_us = (int64_t)(now + backoff);
	rq.cpu_total_us = (int64_t)h->cpu_total_us;
	rq.month = month;
	rq.not_an_attempt = true;
	r = r == -ENOENT ? -ENOENT : store_requeue(d->store, t->id, &rq, &err);
	if (r == -ESTALE || r == -ENOENT) {
		/* no longer running here (purged, taken back by the cluster) */
		log_task(LOG_LEVEL_WARNING, t->id, "its held requeue is moot: %s",
			 r == -ENOENT ? "the task is gone" : err.message);
		queue_task_free(t);
		return true;
	}
	if (r < 0)
		return false;
	log_task(LOG_LEVEL_NOTICE, t->id, "requeued (%s), again in %.1f s", h->reason, backoff / 1e6);
	t->user->month[0] = '\0'; /* the requeue may have charged the attempt's rest */
	task_requeue_back(d, t, h->cpu_total_us, backoff);
	return true;
}

void task_requeue_retry_held(struct daemon *d)
{
	struct requeue_held **pp = &d->requeues_held;

	while (*pp) {
		struct requeue_held *h = *pp;

		if (!held_retry(d, h)) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		held_free(h);
		d->dispatch_needed = true;
	}
}

void task_requeue_drop_held(struct daemon *d)
{
	struct requeue_held *h;

	while ((h = d->requeues_held)) {
		d->requeues_held = h->next;
		log_task(LOG_LEVEL_ERR, h->t->id,
			 "its requeue could not be recorded before exit; the next start settles it");
		queue_task_free(h->t);
		held_free(h);
	}
}
