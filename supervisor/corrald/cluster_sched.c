/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_sched.c — the cluster's scheduler round, run by
 * the node that holds the scheduler's lease (cluster.c elects it).
 *
 * The unassigned queue lives in this node's memory (queue.c's structures)
 * and is kept in step with the store without reading it all every round:
 * the tasks submitted since (id above the highest id seen), and now and then
 * (every cluster_poll) a count of the store's queue up to that id; when the
 * counts differ (a cancel through another node, a requeue, an assignment
 * given back, a submit that committed after a later id) the ids are
 * compared and only the difference is read or dropped.  Every
 * RECONCILE_US the ids are compared anyway, and the whole queue is read
 * when this node becomes the scheduler (or its term changes) or a round's
 * write failed.  Nothing depends on NOTIFY: it only makes a round come
 * sooner.  After every ANALYZE_AFTER tasks read, the database's statistics
 * of the tasks table are refreshed (store_cluster_analyze), so a burst of
 * submits does not leave it planning for an empty queue.
 *
 * A round: what holds a slot now (the live load: per-tenant and per-node
 * rows the store keeps in the transactions that change them, folded here
 * once per round, so the read does not grow with the running tasks), the
 * month's usage when a queued tenant has a budget (one read for all), the
 * nodes; then ONE decision of the one scheduler (supervisor/sched through
 * queue_dispatch_to) over the cluster as one host (the sum of the online
 * nodes' free slots, GPUs and cores; per-tenant max_concurrent and budgets
 * cluster-wide), each pick placed on the emptiest node it fits (memory,
 * cores, GPUs, labels), and every placed pick written in ONE statement fenced by
 * the scheduler's term (store_cluster_assign_many).  A pick no node has
 * room for now stays queued; a pick the store refused (cancelled or
 * assigned meanwhile) is dropped from memory.
 *
 * The nodes as the round's targets and placing a pick on one:
 * cluster_sched_place.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/cluster_sched_place.h"

/* The ids are compared with the store's at least this often. */
#define RECONCILE_US (10 * 1000000ull)
/* More tasks missing than this: read the whole queue instead. */
#define RELOAD_OVER 2000u
/* Tasks read into the queue since the last ANALYZE of the store's tasks
 * table that call for another (store_cluster_analyze). */
#define ANALYZE_AFTER 10000u

static struct {
	bool valid;                  /* memory mirrors the store's queue (up to seen_id) */
	int64_t term;                /* the leader term it was loaded under */
	int64_t seen_id;             /* the highest id read from the store */
	uint64_t counted_mono_us;    /* the last count check */
	uint64_t reconciled_mono_us; /* the last comparison of the ids */
	bool changed;                /* this node gave tasks back: compare soon */
	size_t fresh;                /* tasks read since the last ANALYZE */
} cs;

void cluster_sched_queue_changed(void)
{
	cs.changed = true;
}

static uint64_t poll_us(const struct daemon *d)
{
	return d->cfg->cluster_poll_ms * 1000;
}

/* ---- the queue in memory ----------------------------------------------------- */

static void note_seen(const struct store_task_list *list)
{
	cs.fresh += list->count;
	for (size_t i = 0; i < list->count; i++)
		if (list->tasks[i].id > cs.seen_id)
			cs.seen_id = list->tasks[i].id;
}

int cluster_sched_load(struct daemon *d)
{
	struct store_task_list list;
	struct error err;
	int r;

	if (store_cluster_queue(d->store, &list, &err) < 0) {
		log_warning("read the cluster's queue: %s", err.message);
		cs.valid = false;
		return -EIO;
	}
	if (cs.term != d->leader_term && d->cluster_leader)
		cluster_fair_load(d); /* a new term: go on from the last scheduler's fairness */
	queue_clear(d);
	r = queue_push_rows(d, &list);
	cs.seen_id = 0;
	note_seen(&list);
	store_task_list_free(&list);
	cs.valid = r == 0;
	cs.term = d->leader_term;
	cs.changed = false;
	cs.counted_mono_us = cs.reconciled_mono_us = daemon_mono_us();
	return r;
}

void cluster_sched_forget(struct daemon *d)
{
	queue_clear(d);
	cs.valid = false;
}

static void apply_live(struct daemon *d, const struct store_live *live);

int cluster_sched_sync(struct daemon *d)
{
	struct store_live live;
	struct error err;
	int r = cluster_sched_load(d);

	if (r == 0 && store_cluster_live(d->store, &live, &err) == 0) {
		apply_live(d, &live);
		store_cluster_live_free(&live);
	}
	return r;
}

static int compare_ids(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids in memory up to up_to, sorted. */
static int64_t *memory_ids(struct daemon *d, int64_t up_to, size_t *n)
{
	int64_t *ids = calloc(d->queued_total + 1, sizeof(*ids));

	*n = 0;
	if (!ids)
		return NULL;
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next)
			for (struct dtask *t = u->queue_head; t && *n < d->queued_total; t = t->next)
				if (t->id <= up_to)
					ids[(*n)++] = t->id;
	qsort(ids, *n, sizeof(*ids), compare_ids);
	return ids;
}

/* Compare the ids with the store's: read what memory lacks, drop what the
 * store's queue no longer holds (cancelled, assigned, ended). */
static int reconcile(struct daemon *d)
{
	_cleanup_free_ int64_t *mine = NULL, *theirs = NULL, *gone = NULL, *missing = NULL;
	size_t n_mine, n_theirs, n_gone = 0, n_missing = 0, i = 0, j = 0;
	struct error err;

	if (store_cluster_queue_ids(d->store, cs.seen_id, &theirs, &n_theirs, &err) < 0) {
		log_warning("compare the cluster's queue: %s", err.message);
		return -EIO;
	}
	mine = memory_ids(d, cs.seen_id, &n_mine);
	gone = calloc(n_mine + 1, sizeof(*gone));
	missing = calloc(n_theirs + 1, sizeof(*missing));
	if (!mine || !gone || !missing)
		return -ENOMEM;
	while (i < n_mine || j < n_theirs) {
		if (j == n_theirs || (i < n_mine && mine[i] < theirs[j]))
			gone[n_gone++] = mine[i++];
		else if (i == n_mine || theirs[j] < mine[i])
			missing[n_missing++] = theirs[j++];
		else
			i++, j++;
	}
	cs.reconciled_mono_us = cs.counted_mono_us = daemon_mono_us();
	cs.changed = false;
	if (n_missing > RELOAD_OVER)
		return cluster_sched_load(d);
	if (n_gone)
		queue_remove_ids(d, gone, n_gone);
	for (size_t k = 0; k < n_missing; k++) {
		struct store_task_list row;

		if (store_cluster_queue_row(d->store, missing[k], &row, &err) < 0) {
			log_warning("read task %lld of the cluster's queue: %s", (long long)missing[k],
				    err.message);
			return -EIO;
		}
		queue_merge_rows(d, &row);
		store_task_list_free(&row);
	}
	if (n_gone || n_missing)
		log_info("scheduler: the queue in memory gained %zu and lost %zu tasks to the store's",
			 n_missing, n_gone);
	return 0;
}

static int sync_queue(struct daemon *d)
{
	struct store_task_list list;
	struct error err;
	uint64_t now = daemon_mono_us();
	size_t count;

	if (!cs.valid || cs.term != d->leader_term)
		return cluster_sched_load(d);
	if (store_cluster_queue_after(d->store, cs.seen_id, &list, &err) < 0) {
		log_warning("read the cluster's new tasks: %s", err.message);
		return -EIO;
	}
	queue_merge_rows(d, &list);
	note_seen(&list);
	store_task_list_free(&list);
	if (cs.changed || now - cs.reconciled_mono_us >= RECONCILE_US)
		return reconcile(d);
	if (now - cs.counted_mono_us < poll_us(d))
		return 0;
	cs.counted_mono_us = now;
	if (store_cluster_queue_count(d->store, cs.seen_id, &count, &err) < 0) {
		log_warning("count the cluster's queue: %s", err.message);
		return -EIO;
	}
	/* every queued task in memory came from the store up to seen_id (a
	 * submit through this node is read back like any other) */
	return count == d->queued_total ? 0 : reconcile(d);
}

/* A burst of submits leaves the database planner believing the queue is
 * as small as when it last looked: it would then scan the whole queue in
 * every round's statements.  Its statistics anew, once per ANALYZE_AFTER
 * tasks read (a fraction of a second on 100,000 rows). */
static void analyze(struct daemon *d)
{
	struct error err;
	uint64_t begun = daemon_mono_us();

	if (store_cluster_analyze(d->store, &err) < 0) {
		log_warning("scheduler: refresh the statistics of the tasks table: %s", err.message);
		return;
	}
	log_info("scheduler: %zu tasks read since the last ANALYZE of the tasks table: analyzed in %llu ms",
		 cs.fresh, (unsigned long long)((daemon_mono_us() - begun) / 1000));
	cs.fresh = 0;
}

/* ---- what holds a slot, what was used ---------------------------------------------- */

static void apply_live(struct daemon *d, const struct store_live *live)
{
	for (size_t b = 0; b < d->user_buckets; b++) {
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			u->running = 0;
			u->reserved_us = 0;
		}
	}
	for (size_t i = 0; i < live->n_users; i++) {
		struct duser *u = queue_user(d, live->users[i].user);

		if (u) {
			u->running = (uint32_t)live->users[i].live;
			u->reserved_us = (uint64_t)live->users[i].reserved_us;
		}
	}
}

static bool budgets_queued(struct daemon *d)
{
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			struct policy_limits lim;

			if (u->queued && queue_limits(d, u, &lim) == 0 && lim.monthly_cpu_ms != LIMIT_NONE)
				return true;
		}
	return false;
}

/* Other nodes charge too: the month's usage and adjustments of every
 * tenant, read after the live load (a task that ended before that read is
 * charged in this one, so what it held is never counted as free). */
static void refresh_usage(struct daemon *d)
{
	struct store_usage_list usage = { 0 };
	struct store_adjustment_list adj = { 0 };
	struct error err;
	char month[8];

	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next)
			u->month[0] = '\0'; /* read again (one by one, if the reads below fail) */
	if (!budgets_queued(d))
		return;
	daemon_month(d, daemon_now_us(d), month);
	if (store_usage_month(d->store, month, &usage, &err) < 0 ||
	    store_usage_adjustments(d->store, NULL, month, &adj, &err) < 0) {
		log_warning("scheduler: read the month's usage: %s", err.message);
		goto out;
	}
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next) {
			memcpy(u->month, month, sizeof(month));
			u->used_us = 0;
			u->adjust_us = 0;
		}
	for (size_t i = 0; i < usage.count; i++) {
		struct duser *u = queue_find_user(d, usage.items[i].user);

		if (u)
			u->used_us = (uint64_t)usage.items[i].cpu_us;
	}
	for (size_t i = 0; i < adj.count; i++) {
		struct duser *u = queue_find_user(d, adj.items[i].user);

		if (u)
			u->adjust_us += adj.items[i].delta_us;
	}
out:
	store_usage_list_free(&usage);
	store_adjustment_list_free(&adj);
}

/* ---- the round ------------------------------------------------------------------ */

/* The number of tasks assigned, -1: none (the statement failed). */
static int assign_picks(struct daemon *d, struct round *rd)
{
	_cleanup_free_ struct store_cluster_assign *a = calloc(rd->n_picks + 1, sizeof(*a));
	_cleanup_free_ bool *done = calloc(rd->n_picks + 1, sizeof(*done));
	struct error err;
	size_t assigned = 0;
	int r = -ENOMEM;

	for (size_t i = 0; a && i < rd->n_picks; i++) {
		const struct pick *p = &rd->picks[i];

		a[i] = (struct store_cluster_assign){
			.id = p->t->id,
			.node = rd->nodes[p->node].capacity.name,
			.incarnation = rd->nodes[p->node].incarnation,
			.cpu_limit_us = p->cpu_limit_us == LIMIT_NONE ? 0 : (int64_t)p->cpu_limit_us,
			.budget_capped = p->capped,
			.memory_bytes = (int64_t)p->memory_bytes,
			.lease_us = (int64_t)d->cfg->lease_ms * 1000,
		};
	}
	if (a && done &&
	    (r = store_cluster_assign_many(d->store, d->leader_term, d->node_incarnation, a, rd->n_picks,
					   done, &err)) < 0) {
		/* deposed, or the statement failed: nothing was assigned; read
		 * the queue afresh next round */
		log_warning("scheduler: assign %zu tasks: %s", rd->n_picks, err.message);
		d->next_leader_mono_us = 0; /* still the scheduler? ask at once */
	}
	if (r < 0)
		cs.valid = false;
	for (size_t i = 0; i < rd->n_picks; i++) {
		struct dtask *t = rd->picks[i].t;
		const char *incarnation = rd->nodes[rd->picks[i].node].incarnation;

		if (r < 0 || !done[i]) {
			if (r == 0)
				log_task(LOG_LEVEL_INFO, t->id, "not assigned: cancelled or taken meanwhile");
			queue_task_free(t);
			continue;
		}
		assigned++;
		log_task(LOG_LEVEL_INFO, t->id, "assigned to node %s",
			 rd->nodes[rd->picks[i].node].capacity.name);
		if (strcmp(incarnation, d->node_incarnation) != 0) {
			d->notify_pending = true; /* its node: take it now, not at its next poll */
			queue_task_free(t);
			continue;
		}
		/* this node: start it now (running_enter counts it for its user);
		 * not now: it stays assigned here and the next tick takes it */
		if (task_start(d, t, rd->picks[i].cpu_limit_us, rd->picks[i].capped,
			       rd->picks[i].memory_bytes) == -EAGAIN)
			queue_remove(d, a[i].id);
	}
	if (assigned)
		log_debug("scheduler: %zu tasks assigned in one statement", assigned);
	return r < 0 ? -1 : (int)assigned;
}

/* The round's picks' tenants, taken before assign_picks frees the picks. */
static struct duser **picked_users(const struct round *rd)
{
	struct duser **users = calloc(rd->n_picks + 1, sizeof(*users));

	for (size_t i = 0; users && i < rd->n_picks; i++)
		users[i] = rd->picks[i].t->user;
	return users;
}

/* The round's picks written, then the passes the round advanced saved for
 * the other nodes' `queue` and the next scheduler (cluster_fair.c): after
 * the assignments, so their nodes take them without waiting for it, and
 * only when the statement assigned something (a deposed scheduler's
 * passes are not the cluster's).  Advisory: a save lost between the two
 * commits only leaves a failover's shares slightly off. */
static void assign_and_save(struct daemon *d, struct round *rd)
{
	_cleanup_free_ struct duser **users = picked_users(rd);
	size_t n = rd->n_picks;

	if (assign_picks(d, rd) > 0 && users)
		cluster_fair_save(d, users, n);
}

void cluster_schedule(struct daemon *d)
{
	struct store_node_list nodes = { 0 };
	struct store_live live = { 0 };
	struct round rd = { 0 };
	struct error err;

	if (!d->cluster_leader || d->fenced) {
		cs.valid = false;
		return;
	}
	if (sync_queue(d) < 0) {
		cs.valid = false;
		return;
	}
	if (cs.fresh >= ANALYZE_AFTER)
		analyze(d);
	/* the live load's changes since the last round into its rows (the
	 * read below counts them all the same if this fails) */
	if (store_cluster_live_fold(d->store, &err) < 0)
		log_warning("scheduler: fold the live load's changes: %s", err.message);
	if (!d->queued_total)
		return;
	if (store_cluster_live(d->store, &live, &err) < 0 || store_node_list(d->store, &nodes, &err) < 0) {
		log_warning("scheduler: read the live load and the nodes: %s", err.message);
		goto out;
	}
	apply_live(d, &live);
	refresh_usage(d);
	if (cluster_sched_place_targets(&rd, &nodes, &live) < 0) {
		log_error("scheduler: out of memory");
		goto out;
	}
	if (rd.n_nodes && queue_dispatch_to(d, &rd.cluster, cluster_sched_place, &rd) >= ROUND_MAX_STARTS)
		d->next_cluster_mono_us = 0; /* more than a round's worth: again soon */
	if (rd.n_picks)
		assign_and_save(d, &rd);
out:
	cluster_sched_place_free(&rd);
	store_node_list_free(&nodes);
	store_cluster_live_free(&live);
}

int cluster_sched_view(struct daemon *d, struct queue_target *tg, uint32_t *gpus_free_most,
		       uint64_t *cpu_free_most)
{
	struct store_node_list nodes = { 0 };
	struct store_live live = { 0 };
	struct round rd = { 0 };
	struct error err;
	int r = -EIO;

	memset(tg, 0, sizeof(*tg));
	if (store_cluster_live(d->store, &live, &err) < 0 || store_node_list(d->store, &nodes, &err) < 0) {
		log_warning("read the live load and the nodes: %s", err.message);
		goto out;
	}
	r = cluster_sched_place_targets(&rd, &nodes, &live);
	if (r < 0)
		goto out;
	*tg = rd.cluster;
	tg->capacity.labels = TAKE_PTR(rd.labels);
	tg->max_starts = 0;
	for (size_t i = 0; i < rd.n_nodes; i++) {
		const struct sched_host *h = &rd.nodes[i].host;
		uint32_t free_gpus = h->gpus > h->gpus_reserved ? h->gpus - h->gpus_reserved : 0;
		uint64_t free_cpu = h->cpu_millis > h->cpu_millis_reserved
			? h->cpu_millis - h->cpu_millis_reserved
			: 0;

		if (gpus_free_most && (i == 0 || free_gpus > *gpus_free_most))
			*gpus_free_most = free_gpus;
		if (cpu_free_most && (i == 0 || free_cpu > *cpu_free_most))
			*cpu_free_most = free_cpu;
	}
out:
	cluster_sched_place_free(&rd);
	store_node_list_free(&nodes);
	store_cluster_live_free(&live);
	return r;
}
