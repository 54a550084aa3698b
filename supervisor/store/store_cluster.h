/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_cluster.h — several corralds (nodes) sharing one
 * PostgreSQL store: the scheduler's assignments, the nodes' leases on their
 * tasks, adoption after a restart, the live load the scheduler plans with,
 * and the reaper's view of expired leases.  SQLite (one host) has none of
 * it: every call there is -ENOTSUP, but for the scheduler round's reads
 * (store_cluster_live, store_cluster_queue*) and its batched write
 * (store_cluster_assign_many: a loop in one transaction), so the round can
 * be tested and measured against the single-host store too; corrald never
 * runs a cluster on SQLite (store_cluster_capable is false).
 *
 * A task's lease: lease_owner (a node incarnation, new at every start of a
 * corrald) and lease_until_us on the DATABASE's clock.  The scheduler (the
 * holder of the leader row, store_leader.h) assigns a queued task to a node
 * by giving it that node's incarnation as owner (it stays queued until the
 * node marks it running); the node renews every lease it holds in one
 * statement per tick.  Fencing: once store_cluster_fence() named this
 * connection's incarnation, every write about a running or assigned task
 * (start, charge, requeue, finish) holds only while the task's owner is that
 * incarnation, so a node that lost a lease (the reaper took the task, or a
 * restart of the same node adopted it) commits nothing: -ESTALE.  The
 * scheduler's own writes (assign, unassign) hold only while its leader row
 * is current (term, incarnation, not expired): a deposed scheduler writes
 * nothing.  A lease that ended is only eligible for the reaper; the fence
 * is the owner changing, never the clock.
 */
#ifndef CORRAL_SUPERVISOR_STORE_CLUSTER_H
#define CORRAL_SUPERVISOR_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"
#include "supervisor/store/store.h"

/* Whether this store can be shared by several nodes (PostgreSQL). */
bool store_cluster_capable(const struct store *store);

/* The incarnation this connection's writes are fenced by (NULL: none, as
 * on one host).  The reaper names the dead owner's for its own writes. */
void store_cluster_fence(struct store *store, const char *incarnation);

struct store_cluster_assign {
	int64_t id;
	const char *node;        /* where it goes */
	const char *incarnation; /* that node's incarnation: the lease owner */
	int64_t cpu_limit_us;    /* what the scheduler reserved; 0 = no CPU limit */
	bool budget_capped;
	int64_t memory_bytes;
	int64_t lease_us;
};
/* Assign a queued, unassigned task (scheduler only, fenced by its term):
 * 0; -ESTALE when the task is no longer queued and free or the caller is
 * no longer the scheduler. */
int store_cluster_assign(struct store *store, int64_t term, const char *leader_incarnation,
			 const struct store_cluster_assign *a, struct error *err);
/* Give an assignment back to the queue (its node never started it and its
 * lease ended): compare-and-set on its owner, fenced by the term. */
int store_cluster_unassign(struct store *store, int64_t term, const char *leader_incarnation, int64_t id,
			   const char *owner, struct error *err);

/* A node that stops gives back the assignments it never started (its own
 * leases only: compare-and-set on the owner). */
int store_cluster_release(struct store *store, const char *incarnation, int64_t *count, struct error *err);

struct store_lease {
	int64_t id;
	bool running; /* false: assigned, not started yet */
	bool cancel_requested;
};
struct store_lease_list {
	struct store_lease *items;
	size_t count;
};
/* Renew every lease incarnation holds to now + lease_us (database clock):
 * what it still holds, in out. */
int store_cluster_renew(struct store *store, const char *incarnation, int64_t lease_us,
			struct store_lease_list *out, struct error *err);
void store_cluster_lease_list_free(struct store_lease_list *list);

/* A restarted node: its running and assigned tasks (by node name) get its
 * new incarnation as owner; how many through *count (may be NULL). */
int store_cluster_adopt(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			int64_t *count, struct error *err);
/* The running tasks incarnation holds (recovery), full rows. */
int store_cluster_load_running(struct store *store, const char *incarnation, struct store_task_list *out,
			       struct error *err);

/* What holds a slot right now, cluster-wide: every task with a lease. */
struct store_live_user {
	char *user;
	int64_t live;        /* running or assigned */
	int64_t reserved_us; /* their CPU reservations */
};
struct store_live_node {
	char *node;
	int64_t live;
	int64_t memory_bytes; /* reserved by them */
	int64_t gpus;
	int64_t cpu_millis; /* the cores they asked for (--cpus), x 1000 */
};
struct store_live {
	struct store_live_user *users;
	size_t n_users;
	struct store_live_node *nodes;
	size_t n_nodes;
};
int store_cluster_live(struct store *store, struct store_live *out, struct error *err);
void store_cluster_live_free(struct store_live *live);
/* Fold the live load's deltas (one row per change of what a task holds,
 * appended by trigger in the transaction of the change; schema 16) into
 * its per-tenant and per-node rows, so store_cluster_live reads as many
 * rows as tenants and nodes hold something plus the changes since the
 * last fold, whatever the number of running tasks.  The scheduler folds
 * once per round; any node may (folds are safe side by side).  Not inside
 * a batch. */
int store_cluster_live_fold(struct store *store, struct error *err);

/* The queued tasks nobody was assigned, in submit order (list rows:
 * store_list_tasks' summaries, argv cut, no env). */
int store_cluster_queue(struct store *store, struct store_task_list *out, struct error *err);
/* The scheduler's in-memory queue kept in step without reading it all:
 * the unassigned queued tasks with an id above after_id, in order; one
 * task if it is queued and unassigned (else an empty list); how many the
 * queue holds with an id up to up_to, and their ids (sorted; free()). */
int store_cluster_queue_after(struct store *store, int64_t after_id, struct store_task_list *out,
			      struct error *err);
int store_cluster_queue_row(struct store *store, int64_t id, struct store_task_list *out, struct error *err);
int store_cluster_queue_count(struct store *store, int64_t up_to, size_t *count, struct error *err);
int store_cluster_queue_ids(struct store *store, int64_t up_to, int64_t **ids, size_t *count,
			    struct error *err);
/* A round's picks in one statement, fenced by the term as
 * store_cluster_assign (the lease of a[0] for all): assigned[i] tells which
 * were (a task cancelled or assigned meanwhile is not); -ESTALE (nothing
 * assigned) when the caller is no longer the scheduler. */
int store_cluster_assign_many(struct store *store, int64_t term, const char *leader_incarnation,
			      const struct store_cluster_assign *a, size_t n, bool *assigned,
			      struct error *err);
/* Refresh the database planner's statistics of the tasks table after a
 * burst of submits (PostgreSQL: ANALYZE; with stale statistics it plans
 * the round's statements as if the queue were empty, scanning all of it
 * every round).  0 on a store that needs none. */
int store_cluster_analyze(struct store *store, struct error *err);
/* Tasks whose lease ended more than grace_us ago (list rows with
 * lease_owner and node_name). */
int store_cluster_expired(struct store *store, int64_t grace_us, struct store_task_list *out,
			  struct error *err);

/* ---- what any node reads to answer for the cluster (PostgreSQL) ---- */

/* One tenant over the cluster, for a submit's checks: its queued tasks
 * nobody was assigned, what holds a slot (running or assigned) and their
 * CPU reservations, and what all its tasks store.  lock: first take the
 * tenant's quota lock, held until the open transaction (the loop's batch)
 * ends, so the submits of one tenant through two nodes check its quota one
 * after the other, the second seeing the first's committed bytes.  Take
 * it for one tenant per transaction (two held in opposite orders by two
 * nodes would deadlock). */
struct store_tenant_load {
	int64_t queued, live, reserved_us, stored_bytes;
};
int store_cluster_tenant_load(struct store *store, const char *user, bool lock, struct store_tenant_load *out,
			      struct error *err);

/* The scheduler's fairness state (sched.h): each tenant's pass, and the
 * virtual time as the tenant "" (passes are unsigned, stored as their
 * two's complement).  Saved (upserted) by the scheduler after its rounds'
 * assignments, read by the other nodes for `queue` positions and by a new
 * scheduler.  Advisory: outside a caller's transaction the save's commit
 * does not wait for the disk (a crash may lose the last one). */
struct store_fair {
	char *user;
	int64_t pass;
};
struct store_fair_list {
	struct store_fair *items;
	size_t count;
};
int store_cluster_fair_save(struct store *store, const struct store_fair *items, size_t n, struct error *err);
int store_cluster_fair_load(struct store *store, struct store_fair_list *out, struct error *err);
void store_cluster_fair_list_free(struct store_fair_list *list);

/* ---- inputs and outputs any node can read (a task's stdin = stream 0,
 * stdout = 1, stderr = 2) ---- */

/* Append len bytes (data_b64: their base64) at off of a task's stream;
 * a chunk already stored at off is kept (a retry). */
int store_cluster_output_append(struct store *store, int64_t id, int stream, int64_t off,
				const char *data_b64, int64_t len, struct error *err);
struct store_output_chunk {
	int64_t off, len;
	char *data_b64;
};
struct store_output_chunks {
	struct store_output_chunk *items;
	size_t count;
	int64_t size; /* what the stream holds in all */
};
/* Up to limit chunks of a stream that end after from, in order. */
int store_cluster_output_read(struct store *store, int64_t id, int stream, int64_t from, size_t limit,
			      struct store_output_chunks *out, struct error *err);
void store_cluster_output_chunks_free(struct store_output_chunks *chunks);

/* Assignments (queued, with an owner) whose lease is not renewed any more:
 * less than left_us of it is left (a lease renewed lease - left_us ago). */
int store_cluster_stale_assignments(struct store *store, int64_t left_us, struct store_task_list *out,
				    struct error *err);

/* ---- wake-ups: NOTIFY only speeds things up, nothing depends on it ---- */

/* LISTEN on this connection (again after every reconnect). */
int store_cluster_listen(struct store *store, struct error *err);
/* NOTIFY the other nodes (in the open batch: sent when it commits). */
int store_cluster_notify(struct store *store, struct error *err);
/* The connection's socket to wait on (changes after a reconnect; -1: none). */
int store_cluster_wake_fd(struct store *store);
/* Which connection that socket belongs to: changes at every reconnect
 * (the socket's number may stay the same). */
int store_cluster_wake_generation(struct store *store);
/* Read what arrived on it: how many notifications (0 when none). */
int store_cluster_wakeups(struct store *store);

#endif
