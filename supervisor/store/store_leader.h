/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_leader.h — the scheduler's lease of a store: which
 * node incarnation schedules for everyone sharing the store (one on a
 * single host).  Times on the database's clock (store_node.h).
 */
#ifndef CORRAL_SUPERVISOR_STORE_LEADER_H
#define CORRAL_SUPERVISOR_STORE_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/common/error.h"
#include "supervisor/store/store_node.h"

struct store;

/* One row: the node incarnation that schedules, until expires (database
 * clock), and a term that grows by one with every new holder, so a
 * deposed holder's term is stale (fencing).  Renewing keeps the term. */
struct store_leader {
	char node[STORE_NODE_NAME_MAX + 1]; /* "" = nobody ever held it */
	char incarnation[65];
	int64_t term;
	int64_t elected_at_us;
	int64_t expires_in_us; /* < 0: expired that long ago */
	bool held;             /* by the caller (acquire) */
};
/* Take the lease for lease_us as (node, incarnation) when it is free,
 * expired or already ours (then renew it): out->held says whether we hold
 * it; out describes the holder either way. */
int store_leader_acquire(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			 struct store_leader *out, struct error *err);
/* Give it up now if ours (a clean stop): another node may take it at once. */
int store_leader_resign(struct store *store, const char *incarnation, struct error *err);
/* Who holds it (held is false). */
int store_leader_get(struct store *store, struct store_leader *out, struct error *err);

#endif
