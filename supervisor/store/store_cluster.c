/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_cluster.c — the cluster calls (store_cluster.h):
 * argument checks, then the backend; a backend without them (SQLite)
 * answers -ENOTSUP.  SQLite has the scheduler round's reads and its batched
 * assignment (NO_ROUND_CALL), so the round runs against both backends in
 * tests and benchmarks; corrald never makes a cluster of a SQLite store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"

#define NO_CLUSTER(store, err)                                                                       \
	do {                                                                                         \
		if (!store_cluster_capable(store))                                                   \
			return error_set(err, ENOTSUP, "cluster",                                    \
					 "the %s store is for one host: a cluster needs PostgreSQL", \
					 (store)->backend->name);                                    \
	} while (0)

/* A call of the scheduler's round: -ENOTSUP only if the backend lacks it. */
#define NO_ROUND_CALL(store, call, err)                                                       \
	do {                                                                                  \
		if (!(store) || !(store)->backend->call)                                      \
			return error_set(err, ENOTSUP, "cluster", "the %s store cannot %s",   \
					 (store) ? (store)->backend->name : "(none)", #call); \
	} while (0)

bool store_cluster_capable(const struct store *store)
{
	return store && store->backend->cluster_assign != NULL;
}

void store_cluster_fence(struct store *store, const char *incarnation)
{
	if (store_cluster_capable(store))
		store->backend->cluster_fence(store, incarnation);
}

int store_cluster_assign(struct store *store, int64_t term, const char *leader_incarnation,
			 const struct store_cluster_assign *a, struct error *err)
{
	NO_CLUSTER(store, err);
	if (!leader_incarnation || !a || a->id <= 0 || !a->node || !a->incarnation || a->lease_us <= 0 ||
	    a->cpu_limit_us < 0 || a->memory_bytes < 0)
		return error_set(err, EINVAL, "assign", "assign: a missing node, incarnation or lease");
	return store->backend->cluster_assign(store, term, leader_incarnation, a, err);
}

int store_cluster_unassign(struct store *store, int64_t term, const char *leader_incarnation, int64_t id,
			   const char *owner, struct error *err)
{
	NO_CLUSTER(store, err);
	if (!leader_incarnation || !owner || id <= 0)
		return error_set(err, EINVAL, "unassign", "unassign: a missing task, owner or incarnation");
	return store->backend->cluster_unassign(store, term, leader_incarnation, id, owner, err);
}

int store_cluster_release(struct store *store, const char *incarnation, int64_t *count, struct error *err)
{
	int64_t ignored;

	NO_CLUSTER(store, err);
	if (!incarnation)
		return error_set(err, EINVAL, "release", "release: no incarnation");
	/* the owner's adopt statement's sibling: the same backend call */
	return store->backend->cluster_adopt(store, NULL, incarnation, 0, count ? count : &ignored, err);
}

int store_cluster_renew(struct store *store, const char *incarnation, int64_t lease_us,
			struct store_lease_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	if (!incarnation || lease_us <= 0)
		return error_set(err, EINVAL, "renew", "renew: no incarnation or lease");
	return store->backend->cluster_renew(store, incarnation, lease_us, out, err);
}

void store_cluster_lease_list_free(struct store_lease_list *list)
{
	if (!list)
		return;
	free(list->items);
	memset(list, 0, sizeof(*list));
}

int store_cluster_adopt(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			int64_t *count, struct error *err)
{
	int64_t ignored;

	NO_CLUSTER(store, err);
	if (!node || !incarnation || lease_us <= 0)
		return error_set(err, EINVAL, "adopt", "adopt: no node, incarnation or lease");
	return store->backend->cluster_adopt(store, node, incarnation, lease_us, count ? count : &ignored,
					     err);
}

int store_cluster_load_running(struct store *store, const char *incarnation, struct store_task_list *out,
			       struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	if (!incarnation)
		return error_set(err, EINVAL, "load running", "load running: no incarnation");
	return store->backend->cluster_load_running(store, incarnation, out, err);
}

int store_cluster_live(struct store *store, struct store_live *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_ROUND_CALL(store, cluster_live, err);
	return store->backend->cluster_live(store, out, err);
}

int store_cluster_live_fold(struct store *store, struct error *err)
{
	NO_ROUND_CALL(store, cluster_live_fold, err);
	return store->backend->cluster_live_fold(store, err);
}

void store_cluster_live_free(struct store_live *live)
{
	if (!live)
		return;
	for (size_t i = 0; i < live->n_users; i++)
		free(live->users[i].user);
	for (size_t i = 0; i < live->n_nodes; i++)
		free(live->nodes[i].node);
	free(live->users);
	free(live->nodes);
	memset(live, 0, sizeof(*live));
}

int store_cluster_output_append(struct store *store, int64_t id, int stream, int64_t off,
				const char *data_b64, int64_t len, struct error *err)
{
	NO_CLUSTER(store, err);
	if (id <= 0 || (stream < 0 || stream > 2) || off < 0 || len <= 0 || !data_b64)
		return error_set(err, EINVAL, "output", "output of task %lld: a bad chunk", (long long)id);
	return store->backend->cluster_output_append(store, id, stream, off, data_b64, len, err);
}

int store_cluster_output_read(struct store *store, int64_t id, int stream, int64_t from, size_t limit,
			      struct store_output_chunks *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	if (id <= 0 || (stream < 0 || stream > 2) || from < 0 || limit == 0)
		return error_set(err, EINVAL, "output", "output of task %lld: a bad read", (long long)id);
	return store->backend->cluster_output_read(store, id, stream, from, limit, out, err);
}

void store_cluster_output_chunks_free(struct store_output_chunks *chunks)
{
	if (!chunks)
		return;
	for (size_t i = 0; i < chunks->count; i++)
		free(chunks->items[i].data_b64);
	free(chunks->items);
	memset(chunks, 0, sizeof(*chunks));
}

int store_cluster_stale_assignments(struct store *store, int64_t left_us, struct store_task_list *out,
				    struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	return store->backend->cluster_tasks(store, STORE_SQL_CLUSTER_STALE, left_us, out, err);
}

int store_cluster_listen(struct store *store, struct error *err)
{
	NO_CLUSTER(store, err);
	return store->backend->cluster_wake(store, 0, err);
}

int store_cluster_notify(struct store *store, struct error *err)
{
	NO_CLUSTER(store, err);
	return store->backend->cluster_wake(store, 1, err);
}

int store_cluster_wake_fd(struct store *store)
{
	return store_cluster_capable(store) ? store->backend->cluster_wake(store, 2, NULL) : -1;
}

int store_cluster_wake_generation(struct store *store)
{
	return store_cluster_capable(store) ? store->backend->cluster_wake(store, 4, NULL) : 0;
}

int store_cluster_wakeups(struct store *store)
{
	return store_cluster_capable(store) ? store->backend->cluster_wake(store, 3, NULL) : 0;
}

int store_cluster_queue(struct store *store, struct store_task_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_ROUND_CALL(store, cluster_tasks, err);
	return store->backend->cluster_tasks(store, STORE_SQL_CLUSTER_QUEUE, 0, out, err);
}

int store_cluster_expired(struct store *store, int64_t grace_us, struct store_task_list *out,
			  struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	if (grace_us < 0)
		return error_set(err, EINVAL, "expired", "expired leases: a negative grace");
	return store->backend->cluster_tasks(store, STORE_SQL_CLUSTER_EXPIRED, grace_us, out, err);
}

int store_cluster_queue_after(struct store *store, int64_t after_id, struct store_task_list *out,
			      struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_ROUND_CALL(store, cluster_tasks, err);
	return store->backend->cluster_tasks(store, STORE_SQL_CLUSTER_QUEUE_AFTER, after_id, out, err);
}

int store_cluster_queue_row(struct store *store, int64_t id, struct store_task_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_ROUND_CALL(store, cluster_tasks, err);
	if (id <= 0)
		return error_set(err, EINVAL, "queue", "queue: a bad task id");
	return store->backend->cluster_tasks(store, STORE_SQL_CLUSTER_QUEUE_ROW, id, out, err);
}

int store_cluster_queue_count(struct store *store, int64_t up_to, size_t *count, struct error *err)
{
	*count = 0;
	NO_ROUND_CALL(store, cluster_queue_ids, err);
	return store->backend->cluster_queue_ids(store, up_to, NULL, count, err);
}

int store_cluster_queue_ids(struct store *store, int64_t up_to, int64_t **ids, size_t *count,
			    struct error *err)
{
	*ids = NULL;
	*count = 0;
	NO_ROUND_CALL(store, cluster_queue_ids, err);
	return store->backend->cluster_queue_ids(store, up_to, ids, count, err);
}

int store_cluster_analyze(struct store *store, struct error *err)
{
	if (!store || !store->backend->cluster_analyze)
		return 0;
	return store->backend->cluster_analyze(store, err);
}

int store_cluster_assign_many(struct store *store, int64_t term, const char *leader_incarnation,
			      const struct store_cluster_assign *a, size_t n, bool *assigned,
			      struct error *err)
{
	NO_ROUND_CALL(store, cluster_assign_many, err);
	if (!n)
		return 0;
	if (!leader_incarnation || !a || !assigned)
		return error_set(err, EINVAL, "assign", "assign: no tasks or no incarnation");
	for (size_t i = 0; i < n; i++)
		if (a[i].id <= 0 || !a[i].node || !a[i].incarnation || a[i].lease_us <= 0 ||
		    a[i].cpu_limit_us < 0 || a[i].memory_bytes < 0)
			return error_set(err, EINVAL, "assign",
					 "assign: a missing node, incarnation or lease");
	return store->backend->cluster_assign_many(store, term, leader_incarnation, a, n, assigned, err);
}

int store_cluster_tenant_load(struct store *store, const char *user, bool lock, struct store_tenant_load *out,
			      struct error *err)
{
	NO_CLUSTER(store, err);
	if (!user || !*user)
		return error_set(err, EINVAL, "tenant", "a tenant's load needs its name");
	return store->backend->cluster_tenant_load(store, user, lock, out, err);
}

int store_cluster_fair_save(struct store *store, const struct store_fair *items, size_t n, struct error *err)
{
	NO_CLUSTER(store, err);
	for (size_t i = 0; i < n; i++)
		if (!items[i].user)
			return error_set(err, EINVAL, "fairness", "a pass needs its tenant");
	return n ? store->backend->cluster_fair_save(store, items, n, err) : 0;
}

int store_cluster_fair_load(struct store *store, struct store_fair_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	NO_CLUSTER(store, err);
	return store->backend->cluster_fair_load(store, out, err);
}

void store_cluster_fair_list_free(struct store_fair_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].user);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
