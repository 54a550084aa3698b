/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/lookup.c — the read side of a loaded policy: sorted tables and
 * bsearch by name, a tenant's limits, profiles, access decisions, listing.
 * Nothing here allocates or changes the policy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static int cmp_plan(const void *a, const void *b)
{
	return strcmp(((const struct plan *)a)->name, ((const struct plan *)b)->name);
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct user *)a)->name, ((const struct user *)b)->name);
}

static int cmp_profile(const void *a, const void *b)
{
	return strcmp(((const struct policy_profile *)a)->name, ((const struct policy_profile *)b)->name);
}

void lookup_sort(struct policy *p)
{
	/* Names are unique: build_policy() drops duplicate sections. */
	if (p->n_plans)
		qsort(p->plans, p->n_plans, sizeof(*p->plans), cmp_plan);
	if (p->n_users)
		qsort(p->users, p->n_users, sizeof(*p->users), cmp_user);
	if (p->n_profiles)
		qsort(p->profiles, p->n_profiles, sizeof(*p->profiles), cmp_profile);
}

const struct plan *lookup_plan(const struct policy *p, const char *name)
{
	struct plan key = { .name = name };

	if (!name || !p->n_plans)
		return NULL;
	return bsearch(&key, p->plans, p->n_plans, sizeof(*p->plans), cmp_plan);
}

const struct user *lookup_user(const struct policy *p, const char *name)
{
	struct user key = { .name = name };

	if (!name || !p->n_users)
		return NULL;
	return bsearch(&key, p->users, p->n_users, sizeof(*p->users), cmp_user);
}

const struct policy_profile *policy_profile(const struct policy *policy, const char *name)
{
	struct policy_profile key = { .name = name };

	if (!name || !policy->n_profiles)
		return NULL;
	return bsearch(&key, policy->profiles, policy->n_profiles, sizeof(*policy->profiles), cmp_profile);
}

const struct policy_supervisor *policy_supervisor(const struct policy *policy)
{
	return &policy->supervisor;
}

bool policy_limits_allow_profile(const struct policy_limits *limits, const char *name)
{
	for (size_t i = 0; i < limits->n_profiles; i++)
		if (strcmp(limits->profiles[i], name) == 0)
			return true;
	return false;
}

const struct policy_http *policy_http(const struct policy *policy)
{
	return &policy->http;
}

int policy_limits_for(const struct policy *policy, const char *tenant, struct policy_limits *out)
{
	const struct user *u = lookup_user(policy, tenant);

	if (!u)
		u = policy->default_user;
	if (!u)
		return -ENOENT;
	*out = u->limits;
	return 0;
}

int policy_limits_resolve(const struct policy *policy, const char *tenant,
			  const struct policy_tenant_record *record, struct policy_limits *out,
			  enum policy_limits_source *source)
{
	enum policy_limits_source from = POLICY_LIMITS_USER;
	const struct plan *pl = record ? lookup_plan(policy, record->plan) : NULL;

	if (lookup_user(policy, tenant)) {
		*out = lookup_user(policy, tenant)->limits;
	} else if (pl) {
		from = POLICY_LIMITS_RECORD;
		*out = pl->limits;
		if (record->max_concurrent)
			out->max_concurrent = record->max_concurrent;
	} else if (policy->default_user) {
		from = POLICY_LIMITS_DEFAULT;
		*out = policy->default_user->limits;
	} else {
		return -ENOENT;
	}
	if (source)
		*source = from;
	return 0;
}

int policy_plan_limits(const struct policy *policy, const char *plan, struct policy_limits *out)
{
	const struct plan *pl = lookup_plan(policy, plan);

	if (!pl)
		return -ENOENT;
	*out = pl->limits;
	return 0;
}

bool policy_has_user(const struct policy *policy, const char *tenant)
{
	return lookup_user(policy, tenant) != NULL;
}

const char *policy_default_plan(const struct policy *policy)
{
	return policy->default_user ? policy->default_user->plan : NULL;
}

static bool listed(const struct access_entry *list, size_t n, const char *user, const char *const *groups)
{
	for (size_t i = 0; i < n; i++) {
		if (!list[i].group) {
			if (user && strcmp(list[i].name, user) == 0)
				return true;
			continue;
		}
		for (size_t g = 0; groups && groups[g]; g++)
			if (strcmp(list[i].name, groups[g]) == 0)
				return true;
	}
	return false;
}

bool policy_is_operator(const struct policy *policy, const char *user, const char *const *groups)
{
	return listed(policy->operators, policy->n_operators, user, groups);
}

bool policy_may_use(const struct policy *policy, const char *user, const char *const *groups)
{
	return policy->allow_all || policy_is_operator(policy, user, groups) ||
		listed(policy->users_allowed, policy->n_users_allowed, user, groups);
}

const char *policy_tenant_of(const struct policy *policy, const char *user, const char *primary_group)
{
	for (size_t i = 0; user && i < policy->n_tenant_maps; i++)
		if (strcmp(policy->tenant_maps[i].unix_name, user) == 0)
			return policy->tenant_maps[i].tenant;
	if (policy->tenant_from == POLICY_TENANT_GROUP && primary_group)
		return primary_group;
	return user ? user : primary_group;
}

size_t policy_count(const struct policy *policy, enum policy_kind kind)
{
	switch (kind) {
	case POLICY_PLANS:
		return policy->n_plans;
	case POLICY_USERS:
		return policy->n_users;
	case POLICY_PROFILES:
		return policy->n_profiles;
	}
	return 0;
}

const char *policy_name_at(const struct policy *policy, enum policy_kind kind, size_t i)
{
	if (i >= policy_count(policy, kind))
		return NULL;
	switch (kind) {
	case POLICY_PLANS:
		return policy->plans[i].name;
	case POLICY_USERS:
		return policy->users[i].name;
	case POLICY_PROFILES:
		return policy->profiles[i].name;
	}
	return NULL;
}
