/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_policy.c — the cluster's policy
 * generations on SQLite (store_policy.h).  A single host reads its policy
 * from its file; the table is here so both backends hold the same data
 * model (and the store's tests run on both).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

static void read_row(sqlite3_stmt *st, struct store_policy *out, bool *oom)
{
	const unsigned char *sha = sqlite3_column_text(st, PGC_SHA256);

	out->generation = sqlite3_column_int64(st, PGC_GENERATION);
	out->text = store_sqlite_read_column_dup(st, PGC_TEXT, oom);
	snprintf(out->sha256, sizeof(out->sha256), "%s", sha ? (const char *)sha : "");
	out->pushed_by = store_sqlite_read_column_dup(st, PGC_PUSHED_BY, oom);
	out->pushed_at_us = sqlite3_column_int64(st, PGC_PUSHED_AT);
}

static int policy_locked(struct store_sqlite *store, enum store_sql which, const char *text, const char *by,
			 int64_t expected, struct store_policy *out, struct error *err)
{
	struct store_sqlite_binder b;
	bool found = false, oom = false;
	int rc;

	store_sqlite_stmt_start(store, which, &b);
	if (which == STORE_SQL_POLICY_PUSH) {
		store_sqlite_bind_text(&b, 1, text);
		store_sqlite_bind_text(&b, 2, out->sha256);
		store_sqlite_bind_text(&b, 3, by);
		store_sqlite_bind_i64(&b, 4, expected);
	}
	rc = store_sqlite_stmt_step(&b);
	if (rc == SQLITE_ROW) {
		found = true;
		if (which == STORE_SQL_POLICY_LATEST) {
			read_row(b.stmt, out, &oom);
		} else {
			out->generation = sqlite3_column_int64(b.stmt, 0);
			if (which == STORE_SQL_POLICY_PUSH)
				out->pushed_at_us = sqlite3_column_int64(b.stmt, 1);
		}
		rc = sqlite3_step(b.stmt);
	}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_policy_clear(out);
		return error_set(err, ENOMEM, "policy", "read a policy generation");
	}
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "policy", "%s", store_sql_text[which]);
	if (!found)
		return which == STORE_SQL_POLICY_PUSH ? -ESTALE : -ENOENT;
	return 0;
}

int store_sqlite_policy_run(struct store *base, enum store_sql which, const char *text, const char *by,
			    int64_t expected, struct store_policy *out, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, policy_locked(store, which, text, by, expected, out, err));
}

/* Append a row of POLICY_NODES to list; false when out of memory. */
static bool add_node(sqlite3_stmt *st, struct store_policy_node_list *list)
{
	struct store_policy_node *more = realloc(list->items, (list->count + 1) * sizeof(*more));
	struct store_policy_node *n;
	bool oom = false;

	if (!more)
		return false;
	list->items = more;
	n = &list->items[list->count++];
	n->node = store_sqlite_read_column_dup(st, PNC_NODE, &oom);
	n->applied = sqlite3_column_int64(st, PNC_APPLIED);
	n->failed = sqlite3_column_int64(st, PNC_FAILED);
	n->error = store_sqlite_read_column_dup(st, PNC_ERROR, &oom);
	n->at_us = sqlite3_column_int64(st, PNC_AT);
	return !oom;
}

static int node_locked(struct store_sqlite *store, enum store_sql which, const struct store_policy_node *in,
		       struct store_policy_node_list *list, struct error *err)
{
	struct store_sqlite_binder b;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, which, &b);
	if (which == STORE_SQL_POLICY_NODE_SET) {
		store_sqlite_bind_text(&b, 1, in->node);
		store_sqlite_bind_i64(&b, 2, in->applied);
		store_sqlite_bind_i64(&b, 3, in->failed);
		store_sqlite_bind_text(&b, 4, in->error);
	}
	while ((rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW)
		if (!add_node(b.stmt, list)) {
			oom = true;
			break;
		}
	store_sqlite_stmt_done(&b);
	if (oom) {
		store_policy_node_list_free(list);
		return error_set(err, ENOMEM, "policy", "read the nodes' policy generations");
	}
	if (rc != SQLITE_DONE) {
		store_policy_node_list_free(list);
		return store_sqlite_fail(store, rc, err, "policy", "%s", store_sql_text[which]);
	}
	return 0;
}

int store_sqlite_policy_node_run(struct store *base, enum store_sql which, const struct store_policy_node *in,
				 struct store_policy_node_list *list, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, node_locked(store, which, in, list, err));
}
