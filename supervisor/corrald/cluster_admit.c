/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_admit.c — a submit's checks over the whole
 * cluster, read from the store when the submit is checked: for
 * `--no-queue`, the tenant's tasks holding a slot and queued on every node
 * and the room of the nodes that take work (as the scheduler's round sees
 * it); for the plan's max_stored, what the tenant's tasks store on every
 * node, read under the tenant's quota lock (store_cluster_tenant_load), so
 * two nodes accepting submits of one tenant at once cannot both spend the
 * same bytes.  The lock lives in a transaction of its own: the loop's batch
 * is committed before it is taken and as soon as the submit is stored.
 *
 * The --no-queue answer is a reading, not a reservation: a submit another
 * node accepts in the same moment may take the slot it saw free (the task
 * then waits a round); the scheduler stays the authority.  The quota is
 * exact: the lock serialises the check with the commit of the bytes.
 *
 * `usage` reads the same figures (running, queued, stored) for a tenant.
 *
 * Not here: the checks themselves (op_submit.c, storage.c), the round
 * (cluster_sched.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"

static uint32_t clamp32(int64_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int cluster_admit_room(struct daemon *d, const char *tenant, struct admit_room *room)
{
	struct store_tenant_load load;
	struct queue_target tg;
	struct error err;
	size_t queued_total = 0;

	memset(room, 0, sizeof(*room));
	if (store_cluster_tenant_load(d->store, tenant, false, &load, &err) < 0)
		goto fail;
	/* the queue counted before and after the live load (separate reads): a
	 * task assigned in between would count twice, as queued and as
	 * holding a slot; read again until both counts agree */
	for (int tries = 0;; tries++) {
		size_t after = 0;

		if (store_cluster_queue_count(d->store, INT64_MAX, &queued_total, &err) < 0)
			goto fail;
		if (cluster_sched_view(d, &tg, &room->gpus_free_most, &room->cpu_free_most) < 0)
			return -EIO;
		if (store_cluster_queue_count(d->store, INT64_MAX, &after, &err) < 0) {
			free((char *)tg.capacity.labels);
			goto fail;
		}
		if (after == queued_total || tries == 4) {
			queued_total = after;
			break;
		}
		free((char *)tg.capacity.labels);
	}
	room->running = clamp32(load.live);
	room->queued = clamp32(load.queued);
	room->reserved_us = load.reserved_us > 0 ? (uint64_t)load.reserved_us : 0;
	room->slots = tg.host.max_running;
	room->busy = tg.host.running;
	room->gpus = tg.host.gpus;
	room->queued_total = queued_total;
	room->capacity = tg.capacity;
	return 0;
fail:
	log_warning("read the cluster's load of %s: %s", tenant, err.message);
	return -EIO;
}

void cluster_admit_room_free(struct admit_room *room)
{
	free((char *)room->capacity.labels);
	room->capacity.labels = NULL;
}

void cluster_admit_usage(struct daemon *d, const char *tenant, struct store_tenant_load *load)
{
	struct store_tenant_load all;
	struct error err;

	if (store_cluster_tenant_load(d->store, tenant, false, &all, &err) < 0) {
		log_warning("usage: read the cluster's load of %s: %s", tenant, err.message);
		return;
	}
	*load = all; /* as the scheduler counts: an assigned task holds its slot */
}

/* The open batch holds a tenant's quota lock: it commits as soon as the
 * submit that took it is stored (cluster_admit_release). */
static bool locked;

enum api_error_code cluster_admit_storage(struct daemon *d, struct duser *u, const struct policy_limits *lim,
					  uint64_t need, char *msg, size_t size)
{
	struct store_tenant_load load;
	struct duser seen;
	struct error err;

	if (!lim->max_stored_bytes)
		return API_ERR_NONE;
	/* the lock's transaction holds nothing else while it waits, and takes
	 * nothing but new rows after: a batch that also charged the tenant's
	 * usage row, waiting for the lock another node's batch holds while
	 * that batch waits for the usage row, would deadlock */
	daemon_commit_batch(d);
	if (!daemon_batch(d)) {
		snprintf(msg, size, "cannot begin a store transaction");
		return API_ERR_INTERNAL;
	}
	locked = true;
	/* held until the batch (with this submit's bytes) commits */
	if (store_cluster_tenant_load(d->store, u->name, true, &load, &err) < 0) {
		snprintf(msg, size, "read what %s stores: %s", u->name, err.message);
		return API_ERR_INTERNAL;
	}
	seen = *u;
	seen.stored_bytes = load.stored_bytes > 0 ? (uint64_t)load.stored_bytes : 0;
	return storage_check_quota(&seen, lim, need, msg, size);
}

void cluster_admit_release(struct daemon *d)
{
	if (!locked)
		return;
	locked = false;
	daemon_commit_batch(d);
}
