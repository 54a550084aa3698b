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
 * corrald that stops while holding one leaves it running in the store and
 * its start written down in the task's directory (<task dir>/held: the
 * attempt's started_at_us): the next start finds it, so that attempt is
 * settled as one that never ran its command and was not an attempt
 * (task_requeue_was_held); the cluster's reaper on another node cannot
 * know, and settles it as any task of a lost node.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/retry.h"

struct requeue_held {
	struct requeue_held *next;
	struct dtask *t;
	char *reason;
	uint64_t cpu_total_us;
	uint64_t backoff_us;
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

static void held_path(struct daemon *d, int64_t id, char *buf, size_t size)
{
	char dir[4200];

	snprintf(buf, size, "%s/held", task_start_dir(d, id, dir, sizeof(dir)));
}

/* Written down before the hold counts: a restart must know that the
 * attempt the store says runs never got to its command. */
static int held_mark(struct daemon *d, const struct dtask *t)
{
	char path[4300], text[32];
	int fd, n, r = 0;

	held_path(d, t->id, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", t->started_us);
	if (write(fd, text, (size_t)n) != n)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

void task_requeue_forget_held(struct daemon *d, int64_t id)
{
	char path[4300];

	held_path(d, id, path, sizeof(path));
	unlink(path);
}

bool task_requeue_was_held(struct daemon *d, int64_t id)
{
	char path[4300], text[32] = "";
	struct store_task st;
	struct error err;
	bool held;
	FILE *f;

	held_path(d, id, path, sizeof(path));
	if (!(f = fopen(path, "re")))
		return false;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	memset(&st, 0, sizeof(st));
	if (store_get_task(d->store, id, &st, &err) < 0)
		return false;
	/* the attempt held then is the one the store says runs now */
	held = st.state == STORE_RUNNING && text[0] && strtoll(text, NULL, 10) == st.started_at_us;
	store_task_clear(&st);
	return held;
}

int task_requeue_hold(struct daemon *d, struct dtask *t, uint64_t backoff_us, const char *reason,
		      uint64_t cpu_total_us)
{
	struct requeue_held *h = calloc(1, sizeof(*h));
	int r;

	if (!h || !(h->reason = strdup(reason))) {
		free(h);
		return -ENOMEM;
	}
	/* held all the same: only a restart meanwhile would count the start
	 * as an attempt */
	r = held_mark(d, t);
	if (r < 0)
		log_task(LOG_LEVEL_WARNING, t->id, "write down its held start: %s", strerror(-r));
	release_jail(t);
	h->t = t;
	h->backoff_us = backoff_us;
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
	uint64_t now = daemon_now_us(d), backoff = h->backoff_us;
	char month[8];
	int r;

	memset(&st, 0, sizeof(st));
	r = store_get_task(d->store, t->id, &st, &err);
	if (r < 0 && r != -ENOENT)
		return false;
	if (r == 0) {
		/* still this attempt, here: not another node's run of it after
		 * the reaper took it back (nor anything else to end from here) */
		bool mine = st.state == STORE_RUNNING && (uint64_t)st.started_at_us == t->started_us &&
			(!d->cluster || (st.lease_owner && strcmp(st.lease_owner, d->node_incarnation) == 0));
		bool cancelled = mine && st.cancel_requested;

		if (cancelled && st.stdin_path)
			unlink(st.stdin_path); /* no attempt will read it */
		store_task_clear(&st);
		if (!mine) {
			log_task(LOG_LEVEL_WARNING, t->id,
				 "its held requeue is moot: the task is no longer this start's");
			queue_task_free(t);
			return true;
		}
		if (cancelled) {
			held_cancelled(d, h);
			queue_task_free(t);
			return true;
		}
	}
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
		int64_t id = h->t->id;

		if (!held_retry(d, h)) {
			pp = &h->next;
			continue;
		}
		task_requeue_forget_held(d, id);
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
