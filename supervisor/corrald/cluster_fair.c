/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_fair.c — the cluster scheduler's fairness
 * state (sched.h: each tenant's pass, the virtual time) in the store: the
 * scheduler saves the passes a round advanced; every other node reads
 * them before it works out `queue` positions (so every node gives the
 * order the scheduler would start in), and a node that becomes the
 * scheduler goes on from them (a failover keeps the shares fair).
 *
 * Not here: the rules (sched/), the round (cluster_sched.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

static int by_pointer(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (struct duser *const *)a, y = (uintptr_t) * (struct duser *const *)b;

	return x < y ? -1 : x > y;
}

/* The state is for the other nodes and the next scheduler: a store of one
 * host (SQLite: the round runs on it only in tests and benchmarks) has
 * neither, and its backend keeps none (store_cluster_fair_save refuses). */
void cluster_fair_save(struct daemon *d, struct duser *const *users, size_t n)
{
	_cleanup_free_ struct duser **sorted = NULL;
	_cleanup_free_ struct store_fair *items = NULL;
	struct error err;
	size_t k = 0;

	if (!store_cluster_capable(d->store))
		return;
	sorted = calloc(n + 1, sizeof(*sorted));
	items = calloc(n + 2, sizeof(*items));
	if (!sorted || !items) {
		log_warning("scheduler: save the fairness state: out of memory");
		return;
	}
	memcpy(sorted, users, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_pointer);
	for (size_t i = 0; i < n; i++)
		if (sorted[i] && (i == 0 || sorted[i] != sorted[i - 1]))
			items[k++] = (struct store_fair){ sorted[i]->name, (int64_t)sorted[i]->pass };
	items[k++] = (struct store_fair){ "", (int64_t)d->virtual_time };
	if (store_cluster_fair_save(d->store, items, k, &err) < 0)
		log_warning("scheduler: save the fairness state: %s", err.message);
}

int cluster_fair_load(struct daemon *d)
{
	struct store_fair_list list;
	struct error err;

	if (!store_cluster_capable(d->store))
		return 0; /* one host: nothing saved (cluster_fair_save) */
	if (store_cluster_fair_load(d->store, &list, &err) < 0) {
		log_warning("read the scheduler's fairness state: %s", err.message);
		return -EIO;
	}
	/* a tenant without a saved pass never started a task: its start tag
	 * is the virtual time, as on the scheduler */
	for (size_t b = 0; b < d->user_buckets; b++)
		for (struct duser *u = d->user_table[b]; u; u = u->hash_next)
			u->pass = 0;
	d->virtual_time = 0;
	for (size_t i = 0; i < list.count; i++) {
		struct duser *u;

		if (!list.items[i].user[0]) {
			d->virtual_time = (uint64_t)list.items[i].pass;
			continue;
		}
		u = queue_user(d, list.items[i].user);
		if (u)
			u->pass = (uint64_t)list.items[i].pass;
	}
	store_cluster_fair_list_free(&list);
	return 0;
}
