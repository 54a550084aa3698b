/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_nodes.c — the nodes operations: `nodes` (every
 * node of the store with its state, capacity and what is free: any user
 * may look, as with Slurm's sinfo; its statistics, which add up tenants'
 * work, operators only) and `node_drain` /
 * `node_undrain` (operators: a drained node starts nothing new and
 * finishes what it runs).  In a cluster each node also says which
 * generation of the cluster's policy it runs and the latest one that did
 * not load there (why: operators only, as with `corral policy current`).
 */
#include <errno.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_policy.h"

/* The cluster's policy as the nodes run it: each node's row, and the
 * latest generation (both empty on one host, or when the store cannot
 * say: the list still answers). */
struct policy_view {
	bool valid;
	int64_t latest;
	struct store_policy_node_list nodes;
};

static void policy_view_load(struct daemon *d, struct policy_view *pv)
{
	struct error err;

	memset(pv, 0, sizeof(*pv));
	if (!d->cluster)
		return;
	if (store_policy_generation(d->store, &pv->latest, &err) < 0 ||
	    store_policy_nodes(d->store, &pv->nodes, &err) < 0) {
		log_warning("nodes: read which policy each node runs: %s", err.message);
		store_policy_node_list_free(&pv->nodes);
		return;
	}
	pv->valid = true;
}

/* {"applied", "latest", "failed", "error"}, or null (one host) */
static json_t *policy_json(const struct policy_view *pv, const char *node, bool why_too)
{
	const struct store_policy_node *n = NULL;
	json_t *o;

	if (!pv->valid)
		return json_null();
	for (size_t i = 0; i < pv->nodes.count && !n; i++)
		if (strcmp(pv->nodes.items[i].node, node) == 0)
			n = &pv->nodes.items[i];
	o = json_object();
	json_object_set_new(o, "applied", json_integer(n ? (json_int_t)n->applied : 0));
	json_object_set_new(o, "latest", json_integer((json_int_t)pv->latest));
	json_object_set_new(o, "failed", json_integer(n ? (json_int_t)n->failed : 0));
	json_object_set_new(o, "error", why_too && n && n->error ? json_string(n->error) : json_null());
	return o;
}

/* stats: the node's statistics (operators: they add up tenants' work). */
static json_t *node_json(const struct daemon *d, const struct store_node *n, bool stats_too,
			 const struct policy_view *pv)
{
	json_t *o = json_object(), *cap = json_object(), *free_ = json_object(), *stats = json_object();

	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "state", json_string(store_node_state_name(n->state)));
	json_object_set_new(o, "draining", json_boolean(n->draining));
	json_object_set_new(o, "left", json_boolean(n->left));
	json_object_set_new(o, "self",
			    json_boolean(strcmp(n->name, d->node_name) == 0 &&
					 strcmp(n->incarnation, d->node_incarnation) == 0));
	json_object_set_new(o, "heartbeat_age_ms", json_integer((json_int_t)(n->heartbeat_age_us / 1000)));
	json_object_set_new(o, "offline_after_ms", json_integer((json_int_t)(n->offline_after_us / 1000)));
	json_object_set_new(o, "version", json_string(n->version ? n->version : ""));
	json_object_set_new(o, "labels", api_task_labels_json(n->labels));
	json_object_set_new(o, "started_at_us", json_integer((json_int_t)n->started_at_us));
	json_object_set_new(cap, "cores", json_integer((json_int_t)n->cores));
	json_object_set_new(cap, "memory_bytes", json_integer((json_int_t)n->memory_bytes));
	json_object_set_new(cap, "slots", json_integer((json_int_t)n->slots));
	json_object_set_new(cap, "gpus", json_integer((json_int_t)n->gpus));
	json_object_set_new(cap, "gpu_memory_bytes", json_integer((json_int_t)n->gpu_memory_bytes));
	json_object_set_new(o, "capacity", cap);
	json_object_set_new(free_, "slots", json_integer((json_int_t)n->free_slots));
	json_object_set_new(free_, "memory_bytes", json_integer((json_int_t)n->free_memory_bytes));
	json_object_set_new(free_, "gpus", json_integer((json_int_t)n->free_gpus));
	json_object_set_new(free_, "cpu_millis", json_integer((json_int_t)n->free_cpu_millis));
	json_object_set_new(o, "free", free_);
	json_object_set_new(o, "running", json_integer((json_int_t)n->running));
	json_object_set_new(o, "load", json_real((double)n->load_milli / 1000.0));
	json_object_set_new(stats, "started", json_integer((json_int_t)n->tasks_started));
	json_object_set_new(stats, "succeeded", json_integer((json_int_t)n->tasks_succeeded));
	json_object_set_new(stats, "failed", json_integer((json_int_t)n->tasks_failed));
	json_object_set_new(stats, "cancelled", json_integer((json_int_t)n->tasks_cancelled));
	json_object_set_new(stats, "lost", json_integer((json_int_t)n->tasks_lost));
	json_object_set_new(stats, "cpu_us", json_integer((json_int_t)n->cpu_charged_us));
	json_object_set_new(o, "policy", policy_json(pv, n->name, stats_too));
	if (stats_too)
		json_object_set_new(o, "stats", stats);
	else
		json_decref(stats);
	return o;
}

/* Every node; false after answering an error. */
static bool load(struct daemon *d, const struct api_request *req, struct reply_sink *sink,
		 struct store_node_list *list)
{
	struct error err;

	if (store_node_list(d->store, list, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read the nodes: %s", err.message);
		return false;
	}
	return true;
}

void op_nodes_list(struct daemon *d, const struct caller *c, const struct api_request *req,
		   struct reply_sink *sink)
{
	struct store_node_list list;
	struct policy_view pv;
	json_t *body, *a;

	if (!load(d, req, sink, &list))
		return;
	policy_view_load(d, &pv);
	a = json_array();
	for (size_t i = 0; i < list.count; i++)
		json_array_append_new(a, node_json(d, &list.items[i], c->operator_, &pv));
	store_node_list_free(&list);
	store_policy_node_list_free(&pv.nodes);
	body = json_object();
	json_object_set_new(body, "nodes", a);
	ops_reply_ok_json(sink, req->tag_json, body);
}

void op_nodes_drain(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink)
{
	bool drain = req->op == API_OP_NODE_DRAIN;
	struct store_node_list list;
	struct policy_view pv;
	struct error err;
	json_t *body = NULL;
	int r;

	if (!store_node_name_valid(req->node)) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"'%s' is not a node name (letters, digits, . _ -)", req->node);
		return;
	}
	r = store_node_set_draining(d->store, req->node, drain, &err);
	if (r == -ENOENT) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND,
				"no node %s has joined (see corral nodes)", req->node);
		return;
	}
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, r == -ENOSPC ? API_ERR_STORAGE_FULL : API_ERR_INTERNAL,
				"%s node %s: %s", drain ? "drain" : "undrain", req->node, err.message);
		return;
	}
	log_notice("%s (uid %u) %s node %s", c->user, (unsigned)c->uid, drain ? "drained" : "undrained",
		   req->node);
	if (strcmp(req->node, d->node_name) == 0)
		node_set_draining(d, drain);
	if (!load(d, req, sink, &list))
		return;
	policy_view_load(d, &pv);
	for (size_t i = 0; i < list.count; i++)
		if (strcmp(list.items[i].name, req->node) == 0)
			body = json_pack("{s:o}", "node", node_json(d, &list.items[i], true, &pv));
	store_node_list_free(&list);
	store_policy_node_list_free(&pv.nodes);
	ops_reply_ok_json(sink, req->tag_json, body ? body : json_object());
}
