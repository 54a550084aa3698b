/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_node.c — the nodes' generic half (store_node.h):
 * argument checks every backend shares, dispatch, and freeing a list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_node.h"
#include "supervisor/store/store_sql.h"

bool store_node_name_valid(const char *name)
{
	size_t n;

	if (!name || !name[0] || name[0] == '-' || name[0] == '.')
		return false;
	for (n = 0; name[n]; n++) {
		char c = name[n];

		if (n >= STORE_NODE_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *store_node_state_name(enum store_node_state state)
{
	switch (state) {
	case STORE_NODE_ONLINE:
		return "online";
	case STORE_NODE_DRAINING:
		return "draining";
	case STORE_NODE_OFFLINE:
		return "offline";
	}
	return "unknown";
}

static int check_node(const struct store_node *n, bool joining, struct error *err)
{
	if (!n || !store_node_name_valid(n->name))
		return error_set(err, EINVAL, "node",
				 "node name '%.64s' is not valid (letters, digits, . _ -, "
				 "at most %d characters)",
				 n && n->name ? n->name : "", STORE_NODE_NAME_MAX);
	if (!n->incarnation || !n->incarnation[0] || strlen(n->incarnation) > 64)
		return error_set(err, EINVAL, "node", "node %s: no incarnation", n->name);
	if (n->running < 0 || n->free_slots < 0 || n->free_memory_bytes < 0 || n->free_gpus < 0 ||
	    n->free_cpu_millis < 0 || n->load_milli < 0)
		return error_set(err, EINVAL, "node", "node %s: a negative free figure", n->name);
	if (!joining)
		return 0;
	if (!n->version || strlen(n->version) > 128 ||
	    (n->labels && strlen(n->labels) > STORE_NODE_LABELS_MAX))
		return error_set(err, EINVAL, "node", "node %s: version or labels missing or too long",
				 n->name);
	if (n->offline_after_us <= 0 || n->cores < 0 || n->memory_bytes < 0 || n->slots < 0 || n->gpus < 0 ||
	    n->gpu_memory_bytes < 0)
		return error_set(err, EINVAL, "node", "node %s: a negative capacity or offline_after",
				 n->name);
	return 0;
}

int store_node_join(struct store *store, const struct store_node *n, bool *draining, struct error *err)
{
	bool ignored;
	int r = check_node(n, true, err);

	if (r < 0)
		return r;
	return store->backend->node_join(store, n, draining ? draining : &ignored, err);
}

int store_node_heartbeat(struct store *store, const struct store_node *n, bool *draining, struct error *err)
{
	bool ignored;
	int r = check_node(n, false, err);

	if (r < 0)
		return r;
	return store->backend->node_heartbeat(store, n, draining ? draining : &ignored, err);
}

int store_node_leave(struct store *store, const char *name, const char *incarnation, struct error *err)
{
	if (!store_node_name_valid(name) || !incarnation)
		return error_set(err, EINVAL, "node", "leave: no node name or incarnation");
	return store->backend->node_leave(store, name, incarnation, err);
}

int store_node_list(struct store *store, struct store_node_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->node_list(store, out, err);
}

int store_node_set_draining(struct store *store, const char *name, bool draining, struct error *err)
{
	if (!store_node_name_valid(name))
		return error_set(err, EINVAL, "node", "node name '%.64s' is not valid", name ? name : "");
	return store->backend->node_set_draining(store, name, draining, err);
}

void store_node_list_free(struct store_node_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		free(list->items[i].incarnation);
		free(list->items[i].version);
		free(list->items[i].labels);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int store_node_from_row(struct store_node *n, const struct store_node_row_reader *rd)
{
	bool oom = false;
	int64_t draining, left, age, offline_after;

	memset(n, 0, sizeof(*n));
	n->name = rd->dup(rd->row, NC_NAME, &oom);
	n->incarnation = rd->dup(rd->row, NC_INCARNATION, &oom);
	n->version = rd->dup(rd->row, NC_VERSION, &oom);
	n->labels = rd->dup(rd->row, NC_LABELS, &oom);
	if (oom) {
		free(n->name);
		free(n->incarnation);
		free(n->version);
		free(n->labels);
		memset(n, 0, sizeof(*n));
		return -ENOMEM;
	}
	n->started_at_us = rd->i64(rd->row, NC_STARTED_AT);
	age = rd->i64(rd->row, NC_HEARTBEAT_AGE);
	n->heartbeat_age_us = age < 0 ? 0 : age; /* a clock that went back */
	offline_after = rd->i64(rd->row, NC_OFFLINE_AFTER);
	n->offline_after_us = offline_after;
	left = rd->i64(rd->row, NC_LEFT);
	draining = rd->i64(rd->row, NC_DRAINING);
	n->left = left != 0;
	n->draining = draining != 0;
	n->cores = rd->i64(rd->row, NC_CORES);
	n->memory_bytes = rd->i64(rd->row, NC_MEMORY);
	n->slots = rd->i64(rd->row, NC_SLOTS);
	n->gpus = rd->i64(rd->row, NC_GPUS);
	n->gpu_memory_bytes = rd->i64(rd->row, NC_GPU_MEMORY);
	n->running = rd->i64(rd->row, NC_RUNNING);
	n->free_slots = rd->i64(rd->row, NC_FREE_SLOTS);
	n->free_memory_bytes = rd->i64(rd->row, NC_FREE_MEMORY);
	n->free_gpus = rd->i64(rd->row, NC_FREE_GPUS);
	n->free_cpu_millis = rd->i64(rd->row, NC_FREE_CPU_MILLIS);
	n->load_milli = rd->i64(rd->row, NC_LOAD);
	n->tasks_started = rd->i64(rd->row, NC_STARTED);
	n->tasks_succeeded = rd->i64(rd->row, NC_SUCCEEDED);
	n->tasks_failed = rd->i64(rd->row, NC_FAILED);
	n->tasks_cancelled = rd->i64(rd->row, NC_CANCELLED);
	n->tasks_lost = rd->i64(rd->row, NC_LOST);
	n->cpu_charged_us = rd->i64(rd->row, NC_CPU_CHARGED);
	if (n->left || n->heartbeat_age_us > n->offline_after_us)
		n->state = STORE_NODE_OFFLINE;
	else
		n->state = n->draining ? STORE_NODE_DRAINING : STORE_NODE_ONLINE;
	if (n->state == STORE_NODE_OFFLINE)
		n->free_slots = n->free_memory_bytes = n->free_gpus = n->free_cpu_millis =
			0; /* nothing is placed there */
	return 0;
}

void store_node_count_end(struct store_node_count *c, enum store_task_state from,
			  const struct store_result *res, int64_t cpu_us)
{
	enum store_task_state to = res->state;

	memset(c, 0, sizeof(*c));
	c->cpu_us = cpu_us;
	if (from != STORE_RUNNING)
		return;
	if (res->reason == STORE_REASON_SUPERVISOR_LOST)
		c->lost = 1;
	else if (to == STORE_SUCCEEDED)
		c->succeeded = 1;
	else if (to == STORE_FAILED)
		c->failed = 1;
	else if (to == STORE_CANCELLED)
		c->cancelled = 1;
}
