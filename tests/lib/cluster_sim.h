/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/cluster_sim.h — the cluster scheduler's round without jails
 * (tests/bench/bench_cluster_sim.c, tests/unit/test_cluster_sched.c): a
 * corrald reduced to what cluster_schedule() needs (the policy, the store,
 * the queue in memory, the scheduler's lease), simulated nodes that are
 * rows of the nodes table with capacity (no corrald behind them), and a
 * simulated runner that ends every assigned task in one statement.  Works
 * on PostgreSQL and on SQLite (the baseline: the store has the round's
 * calls, store_cluster.c).  cluster_sched.c keeps its state in statics:
 * one simulated scheduler per process.
 */
#ifndef CORRAL_TESTS_LIB_CLUSTER_SIM_H
#define CORRAL_TESTS_LIB_CLUSTER_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/corrald/corrald.h"

#define CLUSTER_SIM_NODES_MAX 64

struct cluster_sim {
	struct daemon d;
	bool pg;
	void *raw; /* a second connection for the simulation's own SQL (PGconn or sqlite3) */
};

/* Open uri with the policy text (a [supervisor] section may set lease,
 * cluster_poll); name is the scheduler's node name (its incarnation is
 * name + "-sched", on no node: it never starts a task itself).  0 or
 * -errno with why. */
int cluster_sim_open(struct cluster_sim *s, const char *uri, const char *policy_text, const char *name,
		     char *why, size_t why_size);
void cluster_sim_close(struct cluster_sim *s);
/* n nodes "<prefix>-<i>" (incarnation "<prefix>-<i>-inc") with slots,
 * memory_bytes (0: unlimited) and gpus each; offline after an hour. */
int cluster_sim_add_nodes(struct cluster_sim *s, const char *prefix, unsigned n, int64_t slots,
			  int64_t memory_bytes, int64_t gpus, char *why, size_t why_size);
/* tenants "<prefix><i>" submit per_tenant tasks each (memory_bytes, gpus
 * each), round robin, in one batch. */
int cluster_sim_submit(struct cluster_sim *s, const char *prefix, unsigned tenants, unsigned per_tenant,
		       int64_t memory_bytes, int64_t gpus, char *why, size_t why_size);
/* Take (or renew) the scheduler's lease for lease_us: 1 held, 0 not, -errno. */
int cluster_sim_lead(struct cluster_sim *s, int64_t lease_us);
/* One round of the scheduler (cluster_schedule). */
void cluster_sim_round(struct cluster_sim *s);
/* The simulation's own SQL on the raw connection: the first column of the
 * first row into *value (0 when none; value may be NULL).  0 or -1 with why. */
int cluster_sim_sql(struct cluster_sim *s, const char *sql, int64_t *value, char *why, size_t why_size);
/* The simulated runner: every assigned task ends succeeded, in one
 * statement; how many in *ended. */
int cluster_sim_end_assigned(struct cluster_sim *s, int64_t *ended, char *why, size_t why_size);
/* The invariants of what holds a slot now: the most live tasks of one
 * tenant, and of one node; nodes over their memory. */
int cluster_sim_live_maxima(struct cluster_sim *s, int64_t *per_tenant, int64_t *per_node,
			    int64_t *nodes_over_memory, char *why, size_t why_size);
/* How many tenants and nodes the store's live load (store_cluster_live:
 * its folded rows plus the deltas) counts differently from the tasks that
 * hold a lease (0: exact). */
int cluster_sim_live_mismatches(struct cluster_sim *s, int64_t *mismatches, char *why, size_t why_size);

#endif
