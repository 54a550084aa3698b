/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster.c — this corrald as one node of a cluster: several
 * corralds sharing one PostgreSQL store (supervisor/store/store_cluster.h).
 *
 * Every node runs jails.  One node at a time is the scheduler: it holds the
 * leader row (store_leader.h, a lease on the database's clock with a term
 * that fences a deposed scheduler's writes).  The scheduler keeps the
 * cluster's queue in memory, runs the one scheduler (supervisor/sched) over
 * the cluster's free capacity and assigns its picks to nodes in one
 * statement (cluster_sched.c; the task stays queued, with the node's
 * incarnation as its lease owner).
 * Each node, once a cluster_poll: renews every lease it holds in one
 * statement, starts what it was assigned (task_start marks it running,
 * fenced by the lease), kills a jail whose lease it lost, and notices
 * cancels made on other nodes.  A node that cannot renew for 3/4 of the
 * lease kills its own jails first (self-fencing on CLOCK_BOOTTIME), so
 * the reaper, which waits the whole lease plus adopt_grace, never hands a
 * task out while its jail may still run here; a node too frozen or dead to
 * do even that is covered by the leash (leash.c): each renewal moves a
 * deadline the jail's init reads, and the jail kills itself at it.  The scheduler's reaper gives
 * back assignments nobody started and ends (or requeues, when the plan
 * retries lost tasks) running tasks whose node stopped renewing.
 *
 * NOTIFY wakes the nodes (a submit, an end, an assignment to another
 * node); every node polls every cluster_poll anyway: correctness never
 * depends on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/sched/retry.h"
#include "supervisor/store/store_leader.h"

static int64_t lease_us(const struct daemon *d)
{
	return (int64_t)d->cfg->lease_ms * 1000;
}

static uint64_t poll_us(const struct daemon *d)
{
	return d->cfg->cluster_poll_ms * 1000;
}

static const int ep_store = EP_STORE;

/* The store's socket in epoll: NOTIFY wakes this node (it changes with a
 * reconnect; LISTEN is issued again by the store then). */
static void watch_wake_fd(struct daemon *d)
{
	int fd = store_cluster_wake_fd(d->store), gen = store_cluster_wake_generation(d->store);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = (void *)&ep_store };

	if (fd == d->wake_fd && gen == d->wake_gen)
		return;
	/* never a DEL by the old number: libpq closed that socket (which took
	 * it out of epoll) and the number may belong to a client or a jail now */
	d->wake_fd = -1;
	if (fd < 0)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ||
	    (errno == EEXIST && epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)) {
		d->wake_fd = fd;
		d->wake_gen = gen;
	}
}

/* Tell the other nodes there is work (after this turn's commit). */
static void send_notify(struct daemon *d)
{
	struct error err;

	if (!d->notify_pending || d->batch_open)
		return;
	d->notify_pending = false;
	if (store_cluster_notify(d->store, &err) < 0)
		log_warning("NOTIFY the other nodes: %s", err.message);
}

void cluster_wake_event(struct daemon *d)
{
	/* due now: finish_iteration ticks after this turn's batch commits
	 * (a tick starts jails, which must never precede their commit) */
	if (store_cluster_wakeups(d->store) > 0)
		d->next_cluster_mono_us = 0;
	else
		watch_wake_fd(d); /* readable without a notification: closed? */
}

int cluster_start(struct daemon *d)
{
	struct error err;
	int64_t n = 0;
	int r;

	d->wake_fd = -1;
	if (!store_cluster_capable(d->store))
		return 0;
	d->cluster = true;
	store_cluster_fence(d->store, d->node_incarnation);
	r = store_cluster_adopt(d->store, d->node_name, d->node_incarnation, lease_us(d), &n, &err);
	if (r < 0) {
		log_error("node %s: take back the tasks of its previous run: %s", d->node_name, err.message);
		return r;
	}
	if (n)
		log_notice("node %s holds the leases of %lld tasks of its previous run again", d->node_name,
			   (long long)n);
	if (store_cluster_listen(d->store, &err) < 0)
		log_warning("node %s: LISTEN: %s (nodes poll every cluster_poll instead)", d->node_name,
			    err.message);
	d->lease_ok_mono_us = daemon_mono_us();
	d->next_cluster_mono_us = d->lease_ok_mono_us;
	d->next_leader_mono_us = d->lease_ok_mono_us;
	log_notice("node %s is part of a cluster: lease %llu ms, scheduler lease %llu ms, poll %llu ms",
		   d->node_name, (unsigned long long)d->cfg->lease_ms,
		   (unsigned long long)d->cfg->leader_lease_ms, (unsigned long long)d->cfg->cluster_poll_ms);
	return 0;
}

/* ---- this node's leases ----------------------------------------------------- */

/* The leases ran out (3/4 of them without a renewal that worked): kill
 * every jail here before the reaper may give a task to another node. */
static void fence_if_due(struct daemon *d)
{
	uint64_t now = daemon_mono_us(), limit = (uint64_t)lease_us(d) * 3 / 4;

	if (d->fenced || now - d->lease_ok_mono_us < limit)
		return;
	d->fenced = true;
	d->cluster_leader = false;
	log_error("node %s could not renew its leases for %.1f s (the lease is %.1f s): killing its %u jails "
		  "so that no task runs twice",
		  d->node_name, (now - d->lease_ok_mono_us) / 1e6, lease_us(d) / 1e6, d->running_count);
	for (struct dtask *t = d->running; t; t = t->next) {
		if (t->why == END_FENCED)
			continue;
		t->why = END_FENCED;
		jail_kill(t->jail, JAIL_KILLED);
	}
}

static const struct store_lease *find_lease(const struct store_lease_list *l, int64_t id)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->items[i].id == id)
			return &l->items[i];
	return NULL;
}

/* Start a task the scheduler assigned to this node. */
static void take_assignment(struct daemon *d, int64_t id)
{
	struct store_task st;
	struct error err;
	struct dtask *t;
	struct duser *u;
	int r;

	if (store_get_task(d->store, id, &st, &err) < 0) {
		log_task(LOG_LEVEL_ERR, id, "read the assigned task: %s", err.message);
		return;
	}
	if (st.state != STORE_QUEUED || !st.lease_owner || strcmp(st.lease_owner, d->node_incarnation) != 0 ||
	    !(u = queue_user(d, st.user)) || !(t = calloc(1, sizeof(*t)))) {
		store_task_clear(&st);
		return;
	}
	t->ep_kind = EP_TASK;
	t->id = st.id;
	t->user = u;
	t->seq = (uint64_t)st.id;
	t->wall_limit_us = (uint64_t)st.wall_limit_ms * 1000u;
	t->cpu_request_us = (uint64_t)st.cpu_limit_us;
	t->memory_bytes = (uint64_t)st.memory_limit_bytes;
	t->gpus = (uint32_t)st.gpus;
	t->gpu_memory_bytes = (uint64_t)st.gpu_memory_bytes;
	t->labels = st.labels && st.labels[0] ? strdup(st.labels) : NULL;
	t->cpu_millis = (uint32_t)st.cpu_millis;
	t->pidfd = -1;
	r = task_start(d, t, st.cpu_reserved_us > 0 ? (uint64_t)st.cpu_reserved_us : LIMIT_NONE,
		       st.assigned_capped, (uint64_t)st.assigned_memory_bytes);
	/* not now (no host uid, the store refused): it stays assigned to this
	 * node and the next tick tries again; no local queue holds it */
	if (r == -EAGAIN)
		queue_remove(d, st.id);
	store_task_clear(&st);
}

static void renew(struct daemon *d)
{
	uint64_t sent = daemon_mono_us();
	struct store_lease_list leases;
	struct error err;

	if (store_cluster_renew(d->store, d->node_incarnation, lease_us(d), &leases, &err) < 0) {
		log_warning("node %s: renew its leases: %s (%.1f s since the last renewal)", d->node_name,
			    err.message, (sent - d->lease_ok_mono_us) / 1e6);
		fence_if_due(d);
		return;
	}
	d->lease_ok_mono_us = sent;
	if (d->fenced) {
		log_notice("node %s renews its leases again", d->node_name);
		d->fenced = false;
	}
	for (struct dtask *t = d->running; t; t = t->next) {
		const struct store_lease *l = find_lease(&leases, t->id);

		if (!l) {
			if (t->why != END_FENCED) {
				log_task(LOG_LEVEL_WARNING, t->id,
					 "node %s no longer holds its lease (another node or a later run of "
					 "this one took it): killing its jail, committing nothing",
					 d->node_name);
				t->why = END_FENCED;
				jail_kill(t->jail, JAIL_KILLED);
			}
			continue;
		}
		if (t->why != END_FENCED)
			leash_renewed(d, t->id);
		if (l->cancel_requested && t->why != END_CANCEL && t->why != END_FENCED) {
			task_watch_cancel(d, t, "a cancel through another node");
			log_task(LOG_LEVEL_INFO, t->id, "cancelled through another node; killing its jail");
		}
	}
	for (size_t i = 0; i < leases.count; i++)
		if (!leases.items[i].running && !running_find(d, leases.items[i].id) && !d->shutting_down)
			take_assignment(d, leases.items[i].id);
	store_cluster_lease_list_free(&leases);
}

/* ---- the scheduler's lease ----------------------------------------------------- */

static void leader_tick(struct daemon *d)
{
	struct store_leader l;
	struct error err;
	uint64_t now = daemon_mono_us();

	if (now < d->next_leader_mono_us)
		return;
	d->next_leader_mono_us = now + d->cfg->leader_lease_ms * 1000 / 4;
	if (d->shutting_down || d->fenced) {
		if (d->cluster_leader && store_leader_resign(d->store, d->node_incarnation, &err) < 0)
			log_warning("resign the scheduler's lease: %s", err.message);
		if (d->cluster_leader)
			log_notice("node %s hands the scheduler's lease on", d->node_name);
		d->cluster_leader = false;
		return;
	}
	if (store_leader_acquire(d->store, d->node_name, d->node_incarnation,
				 (int64_t)d->cfg->leader_lease_ms * 1000, &l, &err) < 0) {
		/* its writes are fenced by the term anyway; stop trying to schedule */
		if (d->cluster_leader)
			log_warning("renew the scheduler's lease: %s; scheduling stops here", err.message);
		d->cluster_leader = false;
		return;
	}
	if (l.held && !d->cluster_leader)
		log_notice("node %s is the cluster's scheduler (term %lld)", d->node_name, (long long)l.term);
	else if (!l.held && d->cluster_leader)
		log_notice("node %s is no longer the scheduler: %s is (term %lld)", d->node_name, l.node,
			   (long long)l.term);
	if (l.held && (!d->cluster_leader || l.term != d->leader_term))
		d->dispatch_needed = true;
	d->cluster_leader = l.held;
	d->leader_term = l.term;
}

/* ---- the reaper ----------------------------------------------------------------- */

/* A running task whose node stopped renewing: requeued when its plan
 * retries lost tasks, else failed.  Written as if by its owner (the fence
 * names the dead incarnation): compare-and-set, so two schedulers, or the
 * owner coming back, cannot both end it. */
static void lose(struct daemon *d, const struct store_task *st)
{
	struct retry_case rc = { .command_started = true,
				 .host_fault = true,
				 .attempts = (uint32_t)st->attempts,
				 .cancel_requested = st->cancel_requested };
	struct jail_result res;
	char msg[400];
	bool requeued;

	snprintf(msg, sizeof(msg),
		 "Node lost: node %s stopped renewing its lease on this task for longer than the lease and "
		 "adopt_grace",
		 st->node_name ? st->node_name : "?");
	log_task(LOG_LEVEL_WARNING, st->id, "%s", msg);
	store_cluster_fence(d->store, st->lease_owner);
	requeued = task_end_try_requeue(d, st->id, st->user, NULL, &rc, msg, (uint64_t)st->cpu_charged_us);
	if (!requeued) {
		memset(&res, 0, sizeof(res));
		res.exit_code = -1;
		res.cpu_usage_us = (uint64_t)st->cpu_charged_us;
		task_end_record(d, st->id, st->user, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST, msg, &res);
	}
	store_cluster_fence(d->store, d->node_incarnation);
	if (requeued)
		cluster_sched_queue_changed();
	/* a requeued task has not ended: its waiters wait for the next attempt */
	if (!requeued)
		op_wait_wake(d, st->id, true);
	d->dispatch_needed = true;
}

/* A node that does not renew its leases any more (it died, or is frozen):
 * nothing new goes to it until it heartbeats again or restarts. */
struct suspect {
	char incarnation[40];
	uint64_t since_mono_us;
};
#define SUSPECTS 16
static struct suspect suspects[SUSPECTS];

static void suspect(const char *incarnation)
{
	struct suspect *s = &suspects[0];

	for (int i = 0; i < SUSPECTS; i++) {
		if (strcmp(suspects[i].incarnation, incarnation) == 0)
			return;
		if (suspects[i].since_mono_us < s->since_mono_us)
			s = &suspects[i];
	}
	snprintf(s->incarnation, sizeof(s->incarnation), "%s", incarnation);
	s->since_mono_us = daemon_mono_us();
}

/* Suspect, unless it heartbeat since (heartbeat_age on the database's clock). */
bool cluster_node_suspect(const struct store_node *n)
{
	uint64_t now = daemon_mono_us();

	for (int i = 0; i < SUSPECTS; i++) {
		struct suspect *s = &suspects[i];

		if (!s->incarnation[0] || strcmp(s->incarnation, n->incarnation) != 0)
			continue;
		if ((uint64_t)n->heartbeat_age_us < now - s->since_mono_us) {
			s->incarnation[0] = '\0';
			return false;
		}
		return true;
	}
	return false;
}

/* Assignments a node did not renew for max(1 s, 10 cluster_polls): it is not
 * taking work, so they go to another node now (no jail exists: the node
 * starts one only after marking the task running, which the owner fences). */
static void take_back_stale(struct daemon *d)
{
	uint64_t stale = poll_us(d) * 10 > 1000000 ? poll_us(d) * 10 : 1000000;
	struct store_task_list list;
	struct error err;

	if ((int64_t)stale >= lease_us(d) ||
	    store_cluster_stale_assignments(d->store, lease_us(d) - (int64_t)stale, &list, &err) < 0)
		return;
	for (size_t i = 0; i < list.count; i++) {
		const struct store_task *st = &list.tasks[i];

		if (!st->lease_owner ||
		    store_cluster_unassign(d->store, d->leader_term, d->node_incarnation, st->id,
					   st->lease_owner, &err) < 0)
			continue;
		suspect(st->lease_owner);
		cluster_sched_queue_changed();
		log_task(LOG_LEVEL_NOTICE, st->id,
			 "node %s did not take it (it stopped renewing its leases): back in the queue",
			 st->node_name ? st->node_name : "?");
		d->dispatch_needed = true;
	}
	store_task_list_free(&list);
}

static void reap(struct daemon *d)
{
	static uint64_t next_mono_us; /* once a poll: NOTIFY wakes come much more often */
	struct store_task_list list;
	struct error err;

	if (daemon_mono_us() < next_mono_us)
		return;
	next_mono_us = daemon_mono_us() + poll_us(d);

	take_back_stale(d);
	if (store_cluster_expired(d->store, (int64_t)d->cfg->adopt_grace_ms * 1000, &list, &err) < 0) {
		log_warning("reaper: %s", err.message);
		return;
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct store_task *st = &list.tasks[i];

		if (!st->lease_owner)
			continue;
		if (st->state == STORE_RUNNING) {
			lose(d, st);
		} else if (st->state == STORE_QUEUED &&
			   store_cluster_unassign(d->store, d->leader_term, d->node_incarnation, st->id,
						  st->lease_owner, &err) == 0) {
			log_task(LOG_LEVEL_NOTICE, st->id,
				 "assigned to node %s, which never started it: back in the queue",
				 st->node_name ? st->node_name : "?");
			cluster_sched_queue_changed();
			d->dispatch_needed = true;
		}
	}
	store_task_list_free(&list);
}

int cluster_sync_queue(struct daemon *d)
{
	int r = cluster_sched_sync(d);

	/* the scheduler's passes: another node's would give another order */
	if (r == 0 && !d->cluster_leader)
		r = cluster_fair_load(d);
	return r;
}

/* ---- waits on tasks that run on other nodes ---------------------------------------- */

static int compare_ids(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void poll_waiters(struct daemon *d)
{
	_cleanup_free_ int64_t *ids = NULL;
	size_t n = 0, cap = 0;

	for (struct waiter *w = d->waiters; w; w = w->next) {
		if (running_find(d, w->task_id))
			continue;
		if (n == cap) {
			int64_t *more = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));

			if (!more)
				break;
			ids = more;
		}
		ids[n++] = w->task_id;
	}
	/* each task once, however many wait for it */
	if (n)
		qsort(ids, n, sizeof(*ids), compare_ids);
	for (size_t i = 0; i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		struct store_task st;
		struct error err;

		if (store_get_task(d->store, ids[i], &st, &err) < 0)
			continue;
		if (ops_is_terminal(st.state))
			op_wait_wake(d, ids[i], true);
		store_task_clear(&st);
	}
}

void cluster_tick(struct daemon *d, bool force)
{
	uint64_t now = daemon_mono_us();

	if (!d->cluster || d->batch_open) /* never inside a batch: a tick starts jails */
		return;
	send_notify(d);
	if (!force && now < d->next_cluster_mono_us) {
		fence_if_due(d);
		return;
	}
	/* ±20 %: the nodes' polls do not stay in step */
	d->next_cluster_mono_us = now + poll_us(d) * 4 / 5 +
		(uint64_t)(rand() % (int)(poll_us(d) * 2 / 5 + 1));
	renew(d);
	cluster_policy_poll(d);
	leader_tick(d);
	if (d->cluster_leader) {
		reap(d);
		cluster_schedule(d);
	} else {
		cluster_sched_forget(d); /* the scheduler's business; a status reads it afresh */
	}
	for (struct dtask *t = d->running; t; t = t->next)
		if (!t->starting)
			cluster_output_upload(d, t, false);
	poll_waiters(d);
	watch_wake_fd(d);
	send_notify(d);
}

uint64_t cluster_next_event_mono_us(const struct daemon *d)
{
	return d->cluster ? d->next_cluster_mono_us : 0;
}

void cluster_stop(struct daemon *d)
{
	struct error err;
	int64_t n = 0;

	if (!d->cluster)
		return;
	if (d->cluster_leader && store_leader_resign(d->store, d->node_incarnation, &err) < 0)
		log_warning("resign the scheduler's lease: %s", err.message);
	d->cluster_leader = false;
	if (store_cluster_release(d->store, d->node_incarnation, &n, &err) < 0)
		log_warning("give back this node's assignments: %s", err.message);
	else if (n)
		log_notice("node %s gave %lld assigned tasks back to the queue", d->node_name, (long long)n);
}
