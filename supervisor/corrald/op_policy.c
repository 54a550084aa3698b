/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_policy.c — policy_push (`corral policy push`: a new
 * generation of the cluster's policy) and policy_current (`corral policy
 * current`: the latest generation and the one this node runs).  Operators
 * only (api_ops.c).  On one host (an SQLite store) the file is the policy:
 * policy_push answers not_clustered.  What a node does with a generation:
 * cluster_policy.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_policy.h"

static void push(struct daemon *d, const struct caller *c, const struct api_request *req,
		 struct reply_sink *sink)
{
	const char *name = req->policy_file ? req->policy_file : "pushed";
	struct policy_errors errors = { 0 };
	struct policy *fresh = NULL;
	struct store_policy sp;
	char *text = NULL;
	struct error err;
	json_t *body;
	int r;

	if (!d->cluster) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_CLUSTERED,
				"this corrald is not part of a cluster (its store is not PostgreSQL): its "
				"policy file %s is the policy; edit it and run `corral policy reload`",
				d->policy_path);
		return;
	}
	/* over this node's own [supervisor] and [http], as every node will */
	r = policy_load_node(d->policy_path, name, req->policy_text, strlen(req->policy_text), &fresh,
			     &errors);
	if (r < 0) {
		log_notice("%s pushed a policy with errors; nothing stored", c->user);
		daemon_policy_report(name, r, &errors, &text);
		policy_errors_free(&errors);
		ops_reply_error(sink, req->tag_json, API_ERR_POLICY_INVALID, "%s",
				text ? text : "the policy has errors");
		free(text);
		return;
	}
	policy_errors_free(&errors);
	/* our own transaction: close the loop's open batch rather than join it */
	daemon_commit_batch(d);
	r = store_policy_push(d->store, req->policy_text, c->user, -1, &sp, &err);
	if (r < 0) {
		policy_free(fresh);
		ops_reply_error(sink, req->tag_json, r == -EINVAL ? API_ERR_BAD_REQUEST : API_ERR_INTERNAL,
				"store the policy: %s", err.message);
		return;
	}
	cluster_policy_installed(d, fresh, sp.generation);
	d->notify_pending = true; /* the other nodes: read it now, not at their next poll */
	log_notice("%s pushed policy generation %" PRId64 " (sha256 %.12s..., %s): %zu plans, %zu users, "
		   "%zu profiles",
		   c->user, sp.generation, sp.sha256, name, policy_count(d->policy, POLICY_PLANS),
		   policy_count(d->policy, POLICY_USERS), policy_count(d->policy, POLICY_PROFILES));
	body = json_object();
	json_object_set_new(body, "generation", json_integer((json_int_t)sp.generation));
	json_object_set_new(body, "sha256", json_string(sp.sha256));
	json_object_set_new(body, "plans", json_integer((json_int_t)policy_count(d->policy, POLICY_PLANS)));
	json_object_set_new(body, "users", json_integer((json_int_t)policy_count(d->policy, POLICY_USERS)));
	json_object_set_new(body, "profiles",
			    json_integer((json_int_t)policy_count(d->policy, POLICY_PROFILES)));
	store_policy_clear(&sp);
	ops_reply_ok_json(sink, req->tag_json, body);
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* [{"node", "applied", "failed", "error", "at_us"}] of every node of the
 * cluster, by name ([] on one host, or when the store cannot say). */
static json_t *nodes_json(struct daemon *d)
{
	struct store_policy_node_list list = { 0 };
	json_t *a = json_array();
	struct error err;

	if (!d->cluster || store_policy_nodes(d->store, &list, &err) < 0)
		return a;
	for (size_t i = 0; i < list.count; i++) {
		const struct store_policy_node *n = &list.items[i];
		json_t *o = json_object();

		json_object_set_new(o, "node", json_string(n->node));
		json_object_set_new(o, "applied", json_integer((json_int_t)n->applied));
		json_object_set_new(o, "failed", json_integer((json_int_t)n->failed));
		json_object_set_new(o, "error", text_or_null(n->error));
		json_object_set_new(o, "at_us", json_integer((json_int_t)n->at_us));
		json_array_append_new(a, o);
	}
	store_policy_node_list_free(&list);
	return a;
}

static void current(struct daemon *d, const struct api_request *req, struct reply_sink *sink)
{
	struct store_policy sp;
	const char *why = NULL;
	int64_t failed = 0, applied = cluster_policy_applied(d, &failed, &why);
	json_t *body = json_object();
	struct error err;
	int r = -ENOENT;

	memset(&sp, 0, sizeof(sp));
	if (d->cluster && (r = store_policy_latest(d->store, &sp, &err)) < 0 && r != -ENOENT) {
		json_decref(body);
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read the cluster's policy: %s",
				err.message);
		return;
	}
	json_object_set_new(body, "clustered", json_boolean(d->cluster));
	json_object_set_new(body, "node", json_string(d->node_name));
	json_object_set_new(body, "policy", json_string(d->policy_path));
	json_object_set_new(body, "generation", json_integer(r == 0 ? (json_int_t)sp.generation : 0));
	json_object_set_new(body, "applied", json_integer((json_int_t)applied));
	json_object_set_new(body, "failed", json_integer((json_int_t)failed));
	json_object_set_new(body, "error", text_or_null(why));
	json_object_set_new(body, "text", text_or_null(r == 0 ? sp.text : NULL));
	json_object_set_new(body, "sha256", text_or_null(r == 0 ? sp.sha256 : NULL));
	json_object_set_new(body, "pushed_by", text_or_null(r == 0 ? sp.pushed_by : NULL));
	json_object_set_new(body, "pushed_at_us",
			    r == 0 ? json_integer((json_int_t)sp.pushed_at_us) : json_null());
	store_policy_clear(&sp);
	json_object_set_new(body, "nodes", nodes_json(d));
	ops_reply_ok_json(sink, req->tag_json, body);
}

void op_policy(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink)
{
	if (req->op == API_OP_POLICY_PUSH)
		push(d, c, req, sink);
	else
		current(d, req, sink);
}
