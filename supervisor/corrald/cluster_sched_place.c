/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_sched_place.c — the nodes of a scheduler round
 * (cluster_sched.c) and placement: the online nodes as targets with what
 * holds a slot on each now (the live load), the cluster as one host (their
 * sums; the largest node's capacity, the union of their labels) for the one
 * decision, and each pick placed on the emptiest node with room for it
 * (slots, memory, cores, GPUs, labels).  Writing the picks and the round
 * itself: cluster_sched.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/cluster_sched_place.h"

/* What holds a slot on node now (all zero: nothing). */
static struct store_live_node live_on(const struct store_live *live, const char *node)
{
	for (size_t i = 0; i < live->n_nodes; i++)
		if (live->nodes[i].node && strcmp(live->nodes[i].node, node) == 0)
			return live->nodes[i];
	return (struct store_live_node){ 0 };
}

int cluster_sched_place_targets(struct round *rd, const struct store_node_list *nodes,
				const struct store_live *live)
{
	struct sched_host *all = &rd->cluster.host;
	struct node_capacity *cap = &rd->cluster.capacity;
	size_t labels_len = 1;

	rd->nodes = calloc(nodes->count + 1, sizeof(*rd->nodes));
	for (size_t i = 0; i < nodes->count; i++)
		labels_len += strlen(nodes->items[i].labels ? nodes->items[i].labels : "") + 1;
	rd->labels = calloc(labels_len, 1);
	if (!rd->nodes || !rd->labels)
		return -ENOMEM;
	all->memory = SCHED_NO_LIMIT; /* placement checks each node's */
	cap->name = "the cluster";
	cap->labels = rd->labels;
	for (size_t i = 0; i < nodes->count; i++) {
		const struct store_node *sn = &nodes->items[i];
		struct queue_target *t = &rd->nodes[rd->n_nodes];
		struct store_live_node used;

		if (sn->state != STORE_NODE_ONLINE || !sn->incarnation || cluster_node_suspect(sn))
			continue;
		used = live_on(live, sn->name);
		t->host.max_running = (uint32_t)sn->slots;
		t->host.running = (uint32_t)used.live;
		t->host.memory = sn->memory_bytes ? (uint64_t)sn->memory_bytes : SCHED_NO_LIMIT;
		t->host.memory_reserved = (uint64_t)used.memory_bytes;
		t->host.gpus = (uint32_t)sn->gpus;
		t->host.gpus_reserved = (uint32_t)used.gpus;
		t->host.cpu_millis = (uint64_t)sn->cores * 1000u;
		t->host.cpu_millis_reserved = (uint64_t)used.cpu_millis;
		t->capacity.cpu_millis = t->host.cpu_millis;
		t->capacity.name = sn->name;
		t->capacity.memory_bytes = (uint64_t)sn->memory_bytes;
		t->capacity.gpus = (uint32_t)sn->gpus;
		t->capacity.gpu_memory_bytes = (uint64_t)sn->gpu_memory_bytes;
		t->capacity.labels = sn->labels;
		t->incarnation = sn->incarnation;
		all->max_running += t->host.max_running;
		all->running += t->host.running < t->host.max_running ? t->host.running : t->host.max_running;
		all->gpus += t->host.gpus;
		all->gpus_reserved += t->host.gpus_reserved < t->host.gpus ? t->host.gpus_reserved
									   : t->host.gpus;
		all->cpu_millis += t->host.cpu_millis;
		all->cpu_millis_reserved += t->host.cpu_millis_reserved < t->host.cpu_millis
			? t->host.cpu_millis_reserved
			: t->host.cpu_millis;
		/* the view lets in what fits the largest node; placement decides */
		if (rd->n_nodes == 0 ||
		    (cap->memory_bytes &&
		     (!sn->memory_bytes || (uint64_t)sn->memory_bytes > cap->memory_bytes)))
			cap->memory_bytes = (uint64_t)sn->memory_bytes;
		if (t->capacity.gpus > cap->gpus)
			cap->gpus = t->capacity.gpus;
		if (t->capacity.cpu_millis > cap->cpu_millis)
			cap->cpu_millis = t->capacity.cpu_millis;
		if (t->capacity.gpu_memory_bytes > cap->gpu_memory_bytes)
			cap->gpu_memory_bytes = t->capacity.gpu_memory_bytes;
		if (sn->labels && sn->labels[0]) {
			if (rd->labels[0])
				strcat(rd->labels, ",");
			strcat(rd->labels, sn->labels);
		}
		rd->n_nodes++;
	}
	rd->cluster.max_starts = ROUND_MAX_STARTS;
	rd->picks = calloc(ROUND_MAX_STARTS + (size_t)all->max_running + 1, sizeof(*rd->picks));
	return rd->picks ? 0 : -ENOMEM;
}

void cluster_sched_place_free(struct round *rd)
{
	free(rd->nodes);
	free(rd->labels);
	free(rd->picks);
}

/* Free share of a node: emptiest first. */
static double free_share(const struct queue_target *tg)
{
	if (!tg->host.max_running || tg->host.running >= tg->host.max_running)
		return 0;
	return (double)(tg->host.max_running - tg->host.running) / tg->host.max_running;
}

static bool has_room(const struct queue_target *tg, const struct dtask *t, uint64_t memory_bytes)
{
	const struct sched_host *h = &tg->host;

	if (h->running >= h->max_running || t->gpus + h->gpus_reserved > h->gpus ||
	    (t->cpu_millis && t->cpu_millis + h->cpu_millis_reserved > h->cpu_millis))
		return false;
	if (h->memory != SCHED_NO_LIMIT && memory_bytes + h->memory_reserved > h->memory)
		return false;
	return node_capacity_fits(&tg->capacity, t, memory_bytes, NULL, 0);
}

/* queue_dispatch_to's start: place the pick on the emptiest node with room
 * for it; the statement that assigns them all comes after the decision. */
int cluster_sched_place(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool capped,
			uint64_t memory_bytes, void *ctx)
{
	struct round *rd = ctx;
	size_t best = rd->n_nodes;

	for (size_t i = 0; i < rd->n_nodes; i++)
		if (has_room(&rd->nodes[i], t, memory_bytes) &&
		    (best == rd->n_nodes || free_share(&rd->nodes[i]) > free_share(&rd->nodes[best])))
			best = i;
	if (best == rd->n_nodes) {
		queue_push_in_order(d, t); /* no node has room for it now: it waits */
		return -ENOSPC;
	}
	rd->nodes[best].host.running++;
	rd->nodes[best].host.memory_reserved += memory_bytes;
	rd->nodes[best].host.gpus_reserved += t->gpus;
	rd->nodes[best].host.cpu_millis_reserved += t->cpu_millis;
	rd->picks[rd->n_picks++] = (struct pick){ t, best, cpu_limit_us, capped, memory_bytes };
	return 0;
}
