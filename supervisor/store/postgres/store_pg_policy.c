/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_policy.c — the cluster's policy
 * generations on PostgreSQL (store_policy.h).  A push is one INSERT that
 * numbers itself (the latest + 1): of two concurrent pushes the second
 * waits on the first's key, then inserts nothing (ON CONFLICT DO NOTHING)
 * and store_policy.c tries again with a fresh number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

static int policy_locked(struct store_pg *store, enum store_sql which, const char *text, const char *by,
			 int64_t expected, struct store_policy *out, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;

	store_pg_params_init(&p);
	if (which == STORE_SQL_POLICY_PUSH) {
		store_pg_param_text(&p, 1, text);
		store_pg_param_text(&p, 2, out->sha256);
		store_pg_param_text(&p, 3, by);
		store_pg_param_i64(&p, 4, expected);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "policy", "%s",
					   which == STORE_SQL_POLICY_PUSH ? "push a policy generation"
									  : "read the policy generation");
	if (PQntuples(res) == 0) {
		PQclear(res);
		return which == STORE_SQL_POLICY_PUSH ? -ESTALE : -ENOENT;
	}
	if (which == STORE_SQL_POLICY_LATEST) {
		out->generation = store_pg_i64(res, 0, PGC_GENERATION, 0);
		out->text = store_pg_dup(res, 0, PGC_TEXT, &oom);
		snprintf(out->sha256, sizeof(out->sha256), "%s", PQgetvalue(res, 0, PGC_SHA256));
		out->pushed_by = store_pg_dup(res, 0, PGC_PUSHED_BY, &oom);
		out->pushed_at_us = store_pg_i64(res, 0, PGC_PUSHED_AT, 0);
	} else {
		out->generation = store_pg_i64(res, 0, 0, 0);
		if (which == STORE_SQL_POLICY_PUSH)
			out->pushed_at_us = store_pg_i64(res, 0, 1, 0);
	}
	PQclear(res);
	if (oom) {
		store_policy_clear(out);
		return error_set(err, ENOMEM, "policy", "read a policy generation");
	}
	return 0;
}

int store_pg_policy_run(struct store *base, enum store_sql which, const char *text, const char *by,
			int64_t expected, struct store_policy *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, policy_locked(store, which, text, by, expected, out, err));
}

static int node_locked(struct store_pg *store, enum store_sql which, const struct store_policy_node *in,
		       struct store_policy_node_list *list, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int rows;

	store_pg_params_init(&p);
	if (which == STORE_SQL_POLICY_NODE_SET) {
		store_pg_param_text(&p, 1, in->node);
		store_pg_param_i64(&p, 2, in->applied);
		store_pg_param_i64(&p, 3, in->failed);
		store_pg_param_text(&p, 4, in->error);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "policy", "%s",
					   which == STORE_SQL_POLICY_NODE_SET
						   ? "record this node's policy generation"
						   : "read the nodes' policy generations");
	rows = which == STORE_SQL_POLICY_NODES ? PQntuples(res) : 0;
	if (rows > 0 && !(list->items = calloc((size_t)rows, sizeof(*list->items))))
		oom = true;
	for (int i = 0; i < rows && !oom; i++) {
		struct store_policy_node *n = &list->items[list->count++];

		n->node = store_pg_dup(res, i, PNC_NODE, &oom);
		n->applied = store_pg_i64(res, i, PNC_APPLIED, 0);
		n->failed = store_pg_i64(res, i, PNC_FAILED, 0);
		n->error = store_pg_dup(res, i, PNC_ERROR, &oom);
		n->at_us = store_pg_i64(res, i, PNC_AT, 0);
	}
	PQclear(res);
	if (oom) {
		store_policy_node_list_free(list);
		return error_set(err, ENOMEM, "policy", "read the nodes' policy generations");
	}
	return 0;
}

int store_pg_policy_node_run(struct store *base, enum store_sql which, const struct store_policy_node *in,
			     struct store_policy_node_list *list, struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, node_locked(store, which, in, list, err));
}
