/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/tenants.c — the tenant records operators set over the
 * API (store_tenant.h), mirrored in memory (loaded at start, changed by
 * op_tenant.c), and THE one place corrald resolves a tenant's limits:
 * the policy's [user] section, else the tenant's record, else [default]
 * (policy_limits_resolve).  Every scheduling decision asks again, so a
 * change applies to the next one without a reload; changes made through
 * another node of a shared store arrive with the next heartbeat.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_tenant.h"

struct tenants {
	struct store_tenant_list list; /* sorted by name (strcmp) */
	size_t capacity;
};

static int cmp_tenant(const void *a, const void *b)
{
	return strcmp(((const struct store_tenant *)a)->name, ((const struct store_tenant *)b)->name);
}

int tenants_refresh(struct daemon *d)
{
	struct store_tenant_list list;
	struct error err;
	int r = d->tenants ? store_tenant_list(d->store, &list, &err) : 0;

	if (!d->tenants)
		return 0;
	if (r < 0) {
		log_error("load tenant records: %s", err.message);
		return r;
	}
	if (list.count)
		qsort(list.items, list.count, sizeof(struct store_tenant), cmp_tenant);
	store_tenant_list_free(&d->tenants->list);
	d->tenants->list = list;
	d->tenants->capacity = list.count;
	return 0;
}

int tenants_load(struct daemon *d)
{
	int r;

	d->tenants = calloc(1, sizeof(*d->tenants));
	if (!d->tenants)
		return -ENOMEM;
	r = tenants_refresh(d);
	if (r == 0 && d->tenants->list.count)
		log_info("%zu tenant records", d->tenants->list.count);
	return r;
}

void tenants_free(struct daemon *d)
{
	if (!d->tenants)
		return;
	store_tenant_list_free(&d->tenants->list);
	free(d->tenants);
	d->tenants = NULL;
}

const struct store_tenant *tenants_find(const struct daemon *d, const char *name)
{
	struct store_tenant key = { .name = (char *)name };

	if (!d->tenants || !name || !d->tenants->list.count)
		return NULL;
	return bsearch(&key, d->tenants->list.items, d->tenants->list.count, sizeof(key), cmp_tenant);
}

int tenants_remember(struct daemon *d, const struct store_tenant *t)
{
	struct store_tenant_list *l = &d->tenants->list;
	struct store_tenant *old = (struct store_tenant *)tenants_find(d, t->name);
	struct store_tenant copy = { .name = strdup(t->name),
				     .plan = strdup(t->plan),
				     .max_concurrent = t->max_concurrent,
				     .updated_at_us = t->updated_at_us,
				     .updated_by = strdup(t->updated_by) };
	size_t at = 0;

	if (!copy.name || !copy.plan || !copy.updated_by)
		goto oom;
	if (old) {
		free(old->name);
		free(old->plan);
		free(old->updated_by);
		*old = copy;
		return 0;
	}
	if (l->count == d->tenants->capacity) {
		size_t cap = d->tenants->capacity ? d->tenants->capacity * 2 : 16;
		struct store_tenant *items = reallocarray(l->items, cap, sizeof(*items));

		if (!items)
			goto oom;
		l->items = items;
		d->tenants->capacity = cap;
	}
	while (at < l->count && strcmp(l->items[at].name, t->name) < 0)
		at++;
	memmove(&l->items[at + 1], &l->items[at], (l->count - at) * sizeof(*l->items));
	l->items[at] = copy;
	l->count++;
	return 0;
oom:
	free(copy.name);
	free(copy.plan);
	free(copy.updated_by);
	return -ENOMEM;
}

void tenants_forget(struct daemon *d, const char *name)
{
	struct store_tenant_list *l = &d->tenants->list;
	struct store_tenant *t = (struct store_tenant *)tenants_find(d, name);
	size_t at;

	if (!t)
		return;
	at = (size_t)(t - l->items);
	free(t->name);
	free(t->plan);
	free(t->updated_by);
	memmove(&l->items[at], &l->items[at + 1], (l->count - at - 1) * sizeof(*l->items));
	l->count--;
}

size_t tenants_count(const struct daemon *d)
{
	return d->tenants ? d->tenants->list.count : 0;
}

const struct store_tenant *tenants_at(const struct daemon *d, size_t i)
{
	return i < tenants_count(d) ? &d->tenants->list.items[i] : NULL;
}

int tenants_resolve(const struct daemon *d, const char *tenant, struct policy_limits *lim,
		    enum policy_limits_source *source)
{
	const struct store_tenant *t = tenants_find(d, tenant);
	struct policy_tenant_record rec;

	if (t) {
		rec.plan = t->plan;
		rec.max_concurrent = t->max_concurrent;
	}
	return policy_limits_resolve(d->policy, tenant, t ? &rec : NULL, lim, source);
}

int tenants_limits_for(const struct daemon *d, const char *tenant, struct policy_limits *lim)
{
	return tenants_resolve(d, tenant, lim, NULL);
}
