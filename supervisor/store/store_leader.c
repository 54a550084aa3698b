/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_leader.c — the scheduler's lease (store_leader.h):
 * argument checks and dispatch to the backend.
 */
#include <errno.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_leader.h"

int store_leader_acquire(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			 struct store_leader *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	if (!store_node_name_valid(node) || !incarnation || !incarnation[0] || strlen(incarnation) > 64)
		return error_set(err, EINVAL, "leader", "take the lease: no valid node name or incarnation");
	if (lease_us <= 0)
		return error_set(err, EINVAL, "leader", "take the lease: a lease of %lld us",
				 (long long)lease_us);
	return store->backend->leader_run(store, STORE_SQL_LEADER_ACQUIRE, node, incarnation, lease_us, out,
					  err);
}

int store_leader_resign(struct store *store, const char *incarnation, struct error *err)
{
	struct store_leader ignored;

	if (!incarnation || !incarnation[0])
		return error_set(err, EINVAL, "leader", "resign: no incarnation");
	return store->backend->leader_run(store, STORE_SQL_LEADER_RESIGN, NULL, incarnation, 0, &ignored,
					  err);
}

int store_leader_get(struct store *store, struct store_leader *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->leader_run(store, STORE_SQL_LEADER_GET, NULL, NULL, 0, out, err);
}
