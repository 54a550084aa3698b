/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_sched_place.h — what cluster_sched.c and
 * cluster_sched_place.c share: a round's nodes and picks.  Not for the rest
 * of corrald (corrald.h has the scheduler's API).
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_CLUSTER_SCHED_PLACE_H
#define CORRAL_SUPERVISOR_CORRALD_CLUSTER_SCHED_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/corrald/corrald.h"

/* Picks per round (one statement); the rest the next round. */
#define ROUND_MAX_STARTS 1024u

struct pick {
	struct dtask *t;
	size_t node;
	uint64_t cpu_limit_us;
	bool capped;
	uint64_t memory_bytes;
};

struct round {
	struct queue_target *nodes;
	size_t n_nodes;
	struct queue_target cluster; /* all of them as one host */
	char *labels;                /* the union of their labels */
	struct pick *picks;
	size_t n_picks;
};

/* The online nodes of nodes as rd's targets, what live says holds a slot on
 * each taken; rd->cluster all of them as one host.  0 or -ENOMEM; free
 * with cluster_sched_place_free() (also after a failure). */
int cluster_sched_place_targets(struct round *rd, const struct store_node_list *nodes,
				const struct store_live *live);
void cluster_sched_place_free(struct round *rd);
/* queue_dispatch_to's start (ctx: the round): the pick placed on the
 * emptiest node with room; -ENOSPC when none has (back in its queue). */
int cluster_sched_place(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool capped,
			uint64_t memory_bytes, void *ctx);

#endif
