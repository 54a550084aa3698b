/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_tenant.c — tenant records and their audit
 * (store_tenant.h): argument checks and dispatch to the backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_tenant.h"

static bool name_valid(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int change_valid(const struct store_tenant_change *c, bool set, struct error *err)
{
	if (!name_valid(c->name, STORE_TENANT_NAME_MAX))
		return error_set(err, EINVAL, "tenant", "a tenant name is 1-%d printable bytes",
				 STORE_TENANT_NAME_MAX);
	if (set && !name_valid(c->plan, STORE_TENANT_PLAN_MAX))
		return error_set(err, EINVAL, "tenant", "a plan name is 1-%d printable bytes",
				 STORE_TENANT_PLAN_MAX);
	if (!name_valid(c->by, STORE_TENANT_NAME_MAX))
		return error_set(err, EINVAL, "tenant", "a change needs who made it");
	return 0;
}

int store_tenant_set(struct store *store, const struct store_tenant_change *c, struct error *err)
{
	int r = change_valid(c, true, err);

	return r < 0 ? r : store->backend->tenant_run(store, STORE_SQL_TENANT_PUT, c, NULL, NULL, err);
}

int store_tenant_delete(struct store *store, const struct store_tenant_change *c, struct error *err)
{
	struct store_tenant_change d = *c;
	int r = change_valid(c, false, err);

	d.plan = NULL;
	d.max_concurrent = 0;
	return r < 0 ? r : store->backend->tenant_run(store, STORE_SQL_TENANT_DELETE, &d, NULL, NULL, err);
}

int store_tenant_list(struct store *store, struct store_tenant_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->tenant_run(store, STORE_SQL_TENANT_LIST, NULL, out, NULL, err);
}

int store_tenant_audit(struct store *store, const char *tenant, struct store_tenant_audit_list *out,
		       struct error *err)
{
	struct store_tenant_change c = { .name = tenant };

	memset(out, 0, sizeof(*out));
	if (!name_valid(tenant, STORE_TENANT_NAME_MAX))
		return error_set(err, EINVAL, "tenant", "a tenant name is 1-%d printable bytes",
				 STORE_TENANT_NAME_MAX);
	return store->backend->tenant_run(store, STORE_SQL_TENANT_AUDIT_LIST, &c, NULL, out, err);
}

void store_tenant_list_free(struct store_tenant_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		free(list->items[i].plan);
		free(list->items[i].updated_by);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void store_tenant_audit_list_free(struct store_tenant_audit_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].tenant);
		free(list->items[i].action);
		free(list->items[i].plan);
		free(list->items[i].by);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}
