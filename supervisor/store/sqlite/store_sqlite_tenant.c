/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite_tenant.c — tenant records and their
 * audit on SQLite (store_tenant.h): a change and its audit row are one
 * transaction (a savepoint in an open batch).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/sqlite/store_sqlite.h"

static int audit_insert(struct store_sqlite *store, const struct store_tenant_change *c, struct error *err)
{
	struct store_sqlite_binder b;
	int rc;

	store_sqlite_stmt_start(store, STORE_SQL_TENANT_AUDIT_INSERT, &b);
	store_sqlite_bind_text(&b, 1, c->name);
	store_sqlite_bind_text(&b, 2, c->plan ? "set" : "delete");
	store_sqlite_bind_text(&b, 3, c->plan);
	store_sqlite_bind_opt_i64(&b, 4, c->max_concurrent, 0);
	store_sqlite_bind_text(&b, 5, c->by);
	store_sqlite_bind_i64(&b, 6, c->by_uid);
	store_sqlite_bind_i64(&b, 7, c->at_us);
	rc = store_sqlite_stmt_exec(&b, NULL);
	return rc == SQLITE_OK ? 0 : store_sqlite_fail(store, rc, err, "tenant", "audit tenant %s", c->name);
}

static int change(struct store_sqlite *store, enum store_sql which, const struct store_tenant_change *c,
		  struct error *err)
{
	struct store_sqlite_binder b;
	int rc, changes = 0;

	store_sqlite_stmt_start(store, which, &b);
	store_sqlite_bind_text(&b, 1, c->name);
	if (which == STORE_SQL_TENANT_PUT) {
		store_sqlite_bind_text(&b, 2, c->plan);
		store_sqlite_bind_opt_i64(&b, 3, c->max_concurrent, 0);
		store_sqlite_bind_i64(&b, 4, c->at_us);
		store_sqlite_bind_text(&b, 5, c->by);
	}
	rc = store_sqlite_stmt_exec(&b, &changes);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "tenant", "%s tenant %s",
					 which == STORE_SQL_TENANT_PUT ? "set" : "delete", c->name);
	if (!changes)
		return error_set(err, ENOENT, "tenant", "no record of tenant %s", c->name);
	return audit_insert(store, c, err);
}

static int list_rows(struct store_sqlite *store, enum store_sql which, const char *tenant,
		     struct store_tenant_list *list, struct store_tenant_audit_list *audit, struct error *err)
{
	struct store_sqlite_binder b;
	size_t cap = 0;
	bool oom = false;
	int rc;

	store_sqlite_stmt_start(store, which, &b);
	if (tenant)
		store_sqlite_bind_text(&b, 1, tenant);
	while (!oom && (rc = store_sqlite_stmt_step(&b)) == SQLITE_ROW) {
		sqlite3_stmt *st = b.stmt;

		if (list) {
			struct store_tenant *t;

			if (store_sqlite_read_grow((void **)&list->items, &cap, list->count, sizeof(*t)) <
			    0) {
				oom = true;
				break;
			}
			t = memset(&list->items[list->count++], 0, sizeof(*t));
			t->name = store_sqlite_read_column_dup(st, TNC_NAME, &oom);
			t->plan = store_sqlite_read_column_dup(st, TNC_PLAN, &oom);
			t->max_concurrent = (uint32_t)sqlite3_column_int64(st, TNC_MAX_CONCURRENT);
			t->updated_at_us = sqlite3_column_int64(st, TNC_UPDATED_AT);
			t->updated_by = store_sqlite_read_column_dup(st, TNC_UPDATED_BY, &oom);
		} else {
			struct store_tenant_audit *a;

			if (store_sqlite_read_grow((void **)&audit->items, &cap, audit->count, sizeof(*a)) <
			    0) {
				oom = true;
				break;
			}
			a = memset(&audit->items[audit->count++], 0, sizeof(*a));
			a->id = sqlite3_column_int64(st, TAC_ID);
			a->tenant = store_sqlite_read_column_dup(st, TAC_TENANT, &oom);
			a->action = store_sqlite_read_column_dup(st, TAC_ACTION, &oom);
			a->plan = store_sqlite_read_column_dup(st, TAC_PLAN, &oom);
			a->max_concurrent = (uint32_t)sqlite3_column_int64(st, TAC_MAX_CONCURRENT);
			a->by = store_sqlite_read_column_dup(st, TAC_BY, &oom);
			a->by_uid = sqlite3_column_int64(st, TAC_BY_UID);
			a->at_us = sqlite3_column_int64(st, TAC_AT);
		}
	}
	store_sqlite_stmt_done(&b);
	if (oom || rc != SQLITE_DONE) {
		if (list)
			store_tenant_list_free(list);
		else
			store_tenant_audit_list_free(audit);
		return oom ? error_set(err, ENOMEM, "tenant", "list tenants")
			   : store_sqlite_fail(store, rc, err, "tenant", "list tenants");
	}
	return 0;
}

static int tenant_locked(struct store_sqlite *store, enum store_sql which,
			 const struct store_tenant_change *c, struct store_tenant_list *list,
			 struct store_tenant_audit_list *audit, struct error *err)
{
	switch (which) {
	case STORE_SQL_TENANT_PUT:
	case STORE_SQL_TENANT_DELETE:
		return change(store, which, c, err);
	case STORE_SQL_TENANT_LIST:
		return list_rows(store, which, NULL, list, NULL, err);
	case STORE_SQL_TENANT_AUDIT_LIST:
		return list_rows(store, which, c->name, NULL, audit, err);
	default:
		return error_set(err, EINVAL, "tenant", "statement %d is not a tenant's", (int)which);
	}
}

int store_sqlite_tenant_run(struct store *base, enum store_sql which, const struct store_tenant_change *c,
			    struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			    struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);

	return STORE_SQLITE_IN_TX(store, err, tenant_locked(store, which, c, list, audit, err));
}
