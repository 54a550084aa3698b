/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_tenant.h — tenant records: the plan (and maybe a
 * concurrency limit) operators give a tenant over the API, without editing
 * the policy.  corrald resolves a tenant's limits as: its policy [user]
 * section, else this record, else the policy's [default].  Every set and
 * delete appends an audit row (who, when, what) in the same transaction.
 * The store does not know the policy: whether a plan exists is corrald's
 * check.
 */
#ifndef CORRAL_SUPERVISOR_STORE_TENANT_H
#define CORRAL_SUPERVISOR_STORE_TENANT_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_TENANT_NAME_MAX 256
#define STORE_TENANT_PLAN_MAX 128

/* One record.  Strings are owned (store_tenant_list_free). */
struct store_tenant {
	char *name;
	char *plan;
	uint32_t max_concurrent; /* 0 = the plan's */
	int64_t updated_at_us;
	char *updated_by; /* the operator's name */
};

struct store_tenant_list {
	struct store_tenant *items;
	size_t count;
};

/* One audit row: action "set" (plan, max_concurrent as set) or "delete"
 * (plan "", max_concurrent 0). */
struct store_tenant_audit {
	int64_t id;
	char *tenant, *action, *plan;
	uint32_t max_concurrent;
	char *by;
	int64_t by_uid;
	int64_t at_us;
};

struct store_tenant_audit_list {
	struct store_tenant_audit *items;
	size_t count;
};

/* A change: set (plan not NULL) or delete (plan NULL), by whom and when. */
struct store_tenant_change {
	const char *name;
	const char *plan;
	uint32_t max_concurrent; /* 0 = the plan's */
	const char *by;
	int64_t by_uid;
	int64_t at_us;
};

/* Create or replace c->name's record and append its audit row, in one
 * transaction: 0, or -EINVAL for bad fields. */
int store_tenant_set(struct store *store, const struct store_tenant_change *c, struct error *err);
/* Remove c->name's record and append its audit row: 0, or -ENOENT (no
 * record; nothing is audited). */
int store_tenant_delete(struct store *store, const struct store_tenant_change *c, struct error *err);
/* Every record, by name. */
int store_tenant_list(struct store *store, struct store_tenant_list *out, struct error *err);
/* The audit rows of tenant, oldest first. */
int store_tenant_audit(struct store *store, const char *tenant, struct store_tenant_audit_list *out,
		       struct error *err);
void store_tenant_list_free(struct store_tenant_list *list);
void store_tenant_audit_list_free(struct store_tenant_audit_list *list);

#endif
