/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_tenant.c — tenant records and their
 * audit on PostgreSQL (store_tenant.h): a change and its audit row are one
 * transaction (a savepoint in an open batch).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

static int change(struct store_pg *store, enum store_sql which, const struct store_tenant_change *c,
		  struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	int changes;

	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, c->name);
	if (which == STORE_SQL_TENANT_PUT) {
		store_pg_param_text(&p, 2, c->plan);
		store_pg_param_opt_i64(&p, 3, c->max_concurrent, 0);
		store_pg_param_i64(&p, 4, c->at_us);
		store_pg_param_text(&p, 5, c->by);
	}
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "tenant", "%s tenant %s",
					   which == STORE_SQL_TENANT_PUT ? "set" : "delete", c->name);
	changes = store_pg_changes(res);
	PQclear(res);
	if (!changes)
		return error_set(err, ENOENT, "tenant", "no record of tenant %s", c->name);
	store_pg_params_init(&p);
	store_pg_param_text(&p, 1, c->name);
	store_pg_param_text(&p, 2, c->plan ? "set" : "delete");
	store_pg_param_text(&p, 3, c->plan);
	store_pg_param_opt_i64(&p, 4, c->max_concurrent, 0);
	store_pg_param_text(&p, 5, c->by);
	store_pg_param_i64(&p, 6, c->by_uid);
	store_pg_param_i64(&p, 7, c->at_us);
	res = store_pg_query(store, STORE_SQL_TENANT_AUDIT_INSERT, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "tenant", "audit tenant %s", c->name);
	PQclear(res);
	return 0;
}

static int list_rows(struct store_pg *store, enum store_sql which, const char *tenant,
		     struct store_tenant_list *list, struct store_tenant_audit_list *audit, struct error *err)
{
	struct store_pg_params p;
	PGresult *res;
	bool oom = false;
	int n;

	store_pg_params_init(&p);
	if (tenant)
		store_pg_param_text(&p, 1, tenant);
	res = store_pg_query(store, which, &p);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "tenant", "list tenants");
	n = PQntuples(res);
	if (list && n && !(list->items = calloc((size_t)n, sizeof(*list->items))))
		oom = true;
	if (audit && n && !(audit->items = calloc((size_t)n, sizeof(*audit->items))))
		oom = true;
	for (int i = 0; !oom && i < n; i++) {
		if (list) {
			struct store_tenant *t = &list->items[list->count++];

			t->name = store_pg_dup(res, i, TNC_NAME, &oom);
			t->plan = store_pg_dup(res, i, TNC_PLAN, &oom);
			t->max_concurrent = (uint32_t)store_pg_i64(res, i, TNC_MAX_CONCURRENT, 0);
			t->updated_at_us = store_pg_i64(res, i, TNC_UPDATED_AT, 0);
			t->updated_by = store_pg_dup(res, i, TNC_UPDATED_BY, &oom);
		} else {
			struct store_tenant_audit *a = &audit->items[audit->count++];

			a->id = store_pg_i64(res, i, TAC_ID, 0);
			a->tenant = store_pg_dup(res, i, TAC_TENANT, &oom);
			a->action = store_pg_dup(res, i, TAC_ACTION, &oom);
			a->plan = store_pg_dup(res, i, TAC_PLAN, &oom);
			a->max_concurrent = (uint32_t)store_pg_i64(res, i, TAC_MAX_CONCURRENT, 0);
			a->by = store_pg_dup(res, i, TAC_BY, &oom);
			a->by_uid = store_pg_i64(res, i, TAC_BY_UID, 0);
			a->at_us = store_pg_i64(res, i, TAC_AT, 0);
		}
	}
	PQclear(res);
	if (oom) {
		if (list)
			store_tenant_list_free(list);
		else
			store_tenant_audit_list_free(audit);
		return error_set(err, ENOMEM, "tenant", "list tenants");
	}
	return 0;
}

static int tenant_locked(struct store_pg *store, enum store_sql which, const struct store_tenant_change *c,
			 struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			 struct error *err)
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

int store_pg_tenant_run(struct store *base, enum store_sql which, const struct store_tenant_change *c,
			struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			struct error *err)
{
	struct store_pg *store = store_pg_of(base);

	return STORE_PG_IN_TX(store, err, tenant_locked(store, which, c, list, audit, err));
}
