/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_tenant.c — tenant records over any transport
 * (operators only): tenant_set, tenant_show, tenant_list, tenant_delete.
 * A change goes to the store first (with its audit row, one transaction),
 * then into memory (tenants.c), so the next scheduling decision uses it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_tenant.h"

static const char *source_name(enum policy_limits_source s)
{
	switch (s) {
	case POLICY_LIMITS_USER:
		return "user_section";
	case POLICY_LIMITS_RECORD:
		return "tenant_record";
	case POLICY_LIMITS_DEFAULT:
		return "default";
	}
	return "default";
}

static json_t *count_or_null(uint32_t n)
{
	return n ? json_integer(n) : json_null();
}

/* A TENANT object (api.h) of record t (NULL: none, only what applies). */
static json_t *tenant_json(struct daemon *d, const char *name, const struct store_tenant *t)
{
	struct policy_limits lim;
	enum policy_limits_source src;
	bool known = tenants_resolve(d, name, &lim, &src) == 0;
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "plan", t ? json_string(t->plan) : json_null());
	json_object_set_new(o, "max_concurrent", t ? count_or_null(t->max_concurrent) : json_null());
	json_object_set_new(o, "updated_at_us", json_integer(t ? t->updated_at_us : 0));
	json_object_set_new(o, "updated_by", t ? json_string(t->updated_by) : json_null());
	json_object_set_new(o, "effective_plan", known && lim.plan ? json_string(lim.plan) : json_null());
	json_object_set_new(o, "source", known ? json_string(source_name(src)) : json_null());
	json_object_set_new(o, "effective_max_concurrent",
			    known ? json_integer(lim.max_concurrent) : json_null());
	return o;
}

static json_t *audit_json(const struct store_tenant_audit *a)
{
	json_t *o = json_object();
	bool set = strcmp(a->action, "set") == 0;

	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "tenant", json_string(a->tenant));
	json_object_set_new(o, "action", json_string(a->action));
	json_object_set_new(o, "plan", set ? json_string(a->plan) : json_null());
	json_object_set_new(o, "max_concurrent", count_or_null(a->max_concurrent));
	json_object_set_new(o, "by", json_string(a->by));
	json_object_set_new(o, "by_uid", json_integer(a->by_uid));
	json_object_set_new(o, "at_us", json_integer(a->at_us));
	return o;
}

static void reply_tenant(struct daemon *d, struct reply_sink *sink, const char *tag, const char *name,
			 const struct store_tenant *t)
{
	json_t *body = json_object();

	json_object_set_new(body, "tenant", tenant_json(d, name, t));
	ops_reply_ok_json(sink, tag, body);
}

static void tenant_set(struct daemon *d, const struct caller *c, const struct api_request *req,
		       struct reply_sink *sink)
{
	struct policy_limits lim;
	struct store_tenant_change ch = {
		.name = req->user,
		.plan = req->plan,
		.max_concurrent = (uint32_t)req->max_concurrent,
		.by = c->user,
		.by_uid = (int64_t)c->uid,
		.at_us = (int64_t)daemon_now_us(d),
	};
	struct store_tenant t = {
		.name = (char *)req->user,
		.plan = (char *)req->plan,
		.max_concurrent = ch.max_concurrent,
		.updated_at_us = ch.at_us,
		.updated_by = c->user,
	};
	struct error err;
	int r;

	if (policy_plan_limits(d->policy, req->plan, &lim) < 0) {
		char plans[256] = "";
		size_t off = 0, n = policy_count(d->policy, POLICY_PLANS);

		for (size_t i = 0; i < n && off < sizeof(plans); i++)
			off += (size_t)snprintf(plans + off, sizeof(plans) - off, "%s%s", i ? ", " : "",
						policy_name_at(d->policy, POLICY_PLANS, i));
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
				"unknown plan '%s': the policy's plans are: %s", req->plan,
				n ? plans : "(none)");
		return;
	}
	/* our own transaction, committed before memory changes and we answer:
	 * close the loop's open batch first rather than join it */
	daemon_commit_batch(d);
	r = store_tenant_set(d->store, &ch, &err);
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, r == -EINVAL ? API_ERR_BAD_REQUEST : API_ERR_INTERNAL,
				"set tenant %s: %s", req->user, err.message);
		return;
	}
	if (tenants_remember(d, &t) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL,
				"tenant %s is stored but not in memory (out of memory): restart corrald",
				req->user);
		return;
	}
	log_notice("%s set tenant %s: plan %s, max_concurrent %u%s", c->user, req->user, req->plan,
		   ch.max_concurrent,
		   policy_has_user(d->policy, req->user) ? " (its [user] section still wins)" : "");
	d->dispatch_needed = true; /* a higher limit may let tasks start */
	reply_tenant(d, sink, req->tag_json, req->user, tenants_find(d, req->user));
}

static void tenant_delete(struct daemon *d, const struct caller *c, const struct api_request *req,
			  struct reply_sink *sink)
{
	const struct store_tenant *t = tenants_find(d, req->user);
	struct store_tenant_change ch = {
		.name = req->user,
		.by = c->user,
		.by_uid = (int64_t)c->uid,
		.at_us = (int64_t)daemon_now_us(d),
	};
	json_t *was;
	struct error err;
	int r;

	daemon_commit_batch(d);
	r = store_tenant_delete(d->store, &ch, &err);
	if (r == -ENOENT) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND, "no record of tenant %s", req->user);
		return;
	}
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, r == -EINVAL ? API_ERR_BAD_REQUEST : API_ERR_INTERNAL,
				"delete tenant %s: %s", req->user, err.message);
		return;
	}
	was = tenant_json(d, req->user, t);
	tenants_forget(d, req->user);
	log_notice("%s deleted the record of tenant %s", c->user, req->user);
	d->dispatch_needed = true;
	ops_reply_ok_json(sink, req->tag_json, json_pack("{so}", "tenant", was));
}

static void tenant_show(struct daemon *d, const struct api_request *req, struct reply_sink *sink)
{
	const struct store_tenant *t = tenants_find(d, req->user);
	struct store_tenant_audit_list audit;
	struct error err;
	json_t *body, *rows;

	if (store_tenant_audit(d->store, req->user, &audit, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read the audit of tenant %s: %s",
				req->user, err.message);
		return;
	}
	if (!t && audit.count == 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND, "no record of tenant %s", req->user);
		return;
	}
	rows = json_array();
	for (size_t i = 0; i < audit.count; i++)
		json_array_append_new(rows, audit_json(&audit.items[i]));
	store_tenant_audit_list_free(&audit);
	body = json_object();
	json_object_set_new(body, "tenant", t ? tenant_json(d, req->user, t) : json_null());
	json_object_set_new(body, "audit", rows);
	ops_reply_ok_json(sink, req->tag_json, body);
}

void op_tenant(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink)
{
	json_t *list;

	switch (req->op) {
	case API_OP_TENANT_SET:
		tenant_set(d, c, req, sink);
		return;
	case API_OP_TENANT_DELETE:
		tenant_delete(d, c, req, sink);
		return;
	case API_OP_TENANT_SHOW:
		tenant_show(d, req, sink);
		return;
	default:
		break;
	}
	list = json_array();
	for (size_t i = 0; i < tenants_count(d); i++)
		json_array_append_new(list, tenant_json(d, tenants_at(d, i)->name, tenants_at(d, i)));
	ops_reply_ok_json(sink, req->tag_json, json_pack("{so}", "tenants", list));
}
