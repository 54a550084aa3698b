/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_usage_adjust.c — usage_adjust (operators only, by
 * api_ops.c's table): grant or take back CPU time for a tenant's current
 * month without editing the policy (`corral usage adjust alice --add 1h
 * --reason "refund #123"`).  The adjustment is a row of its own in the
 * store (who, when, how much, why); the charged usage is never rewritten.
 * The budget the scheduler and admission use is the plan's plus the
 * month's adjustments (queue_user_budget_us), mirrored in struct duser.
 * Tasks already running keep the CPU limit they started with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/sched/admission.h"

/* set_left: the delta that makes budget - used exactly left now, i.e. the
 * adjustments' new sum is used + left - plan.  -ERANGE past the limit. */
static int delta_for_left(uint64_t plan_budget, int64_t used, int64_t sum, uint64_t left, int64_t *delta)
{
	__int128 d = (__int128)used + (__int128)left - (__int128)plan_budget - (__int128)sum;

	if (d > API_MAX_ADJUST_US || d < -API_MAX_ADJUST_US)
		return -ERANGE;
	*delta = (int64_t)d;
	return 0;
}

void op_usage_adjust(struct daemon *d, const struct caller *c, const struct api_request *req,
		     struct reply_sink *sink)
{
	struct policy_limits lim;
	struct store_adjustment adj = { 0 };
	struct error err;
	struct duser *u;
	uint64_t now = daemon_now_us(d), plan_budget;
	int64_t used = 0, sum = 0, delta = req->delta_us, id = 0;
	char month[8];
	json_t *body;

	if (tenants_limits_for(d, req->user, &lim) < 0) {
		ops_reply_error(
			sink, req->tag_json, API_ERR_UNKNOWN_USER,
			"tenant '%s' has no plan (no [user] section, no tenant record and no [default])",
			req->user);
		return;
	}
	plan_budget = queue_budget_us(&lim);
	daemon_month(d, now, month);
	/* our own transaction, committed before we answer: close the loop's
	 * open batch first rather than join it */
	daemon_commit_batch(d);
	if (store_usage_get(d->store, req->user, month, &used, &err) < 0 ||
	    store_usage_adjust_sum(d->store, req->user, month, &sum, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "read usage of %s in %s: %s",
				req->user, month, err.message);
		return;
	}
	if (req->has_set_left) {
		if (plan_budget == ADMISSION_UNLIMITED) {
			ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
					"%s has an unlimited budget (plan %s): nothing is left to set",
					req->user, lim.plan);
			return;
		}
		if (delta_for_left(plan_budget, used, sum, req->set_left_us, &delta) < 0) {
			ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST,
					"setting what %s has left to %" PRIu64 " us would take an adjustment "
					"of more than 10^6 hours",
					req->user, req->set_left_us);
			return;
		}
	}
	/* each adjustment is within 10^6 hours, and so is their sum: past
	 * int64 the store could no longer add them up (SUM overflows), and
	 * usage and the scheduler's mirror of the month would fail from then on */
	if (delta != 0 &&
	    ((__int128)sum + delta > API_MAX_ADJUST_US || (__int128)sum + delta < -API_MAX_ADJUST_US)) {
		ops_reply_error(
			sink, req->tag_json, API_ERR_BAD_REQUEST,
			"%s's adjustments for %s would add up to %+.0f hours, more than 10^6 hours either "
			"way (now %+.3f hours)",
			req->user, month, ((double)sum + (double)delta) / 3.6e9, (double)sum / 3.6e9);
		return;
	}
	if (delta != 0) {
		adj = (struct store_adjustment){
			.user = (char *)req->user,
			.month = month,
			.delta_us = delta,
			.by = c->user,
			.by_uid = (int64_t)c->uid,
			.at_us = (int64_t)now,
			.reason = (char *)req->reason,
		};
		if (store_usage_adjust(d->store, &adj, &id, &err) < 0) {
			ops_reply_error(sink, req->tag_json,
					err.err == ENOSPC           ? API_ERR_STORAGE_FULL
						: err.err == EINVAL ? API_ERR_BAD_REQUEST
								    : API_ERR_INTERNAL,
					"%s", err.message);
			return;
		}
		adj.id = id;
		log_notice("%s (uid %u) adjusted %s's CPU budget for %s by %+.3f s: %s", c->user,
			   (unsigned)c->uid, req->user, month, delta / 1e6, req->reason);
	}
	/* the mirror the scheduler reads; dispatch again: a grant may let a
	 * waiting task start */
	u = queue_find_user(d, req->user);
	if (u) {
		u->month[0] = '\0';
		queue_refresh_month(d, u);
	}
	d->dispatch_needed = true;

	body = json_object();
	/* set_left that was already so: nothing to record */
	json_object_set_new(body, "adjustment", delta ? ops_adjustment_json(&adj) : json_null());
	json_object_set_new(body, "usage", ops_usage_entry(d, req->user, month));
	ops_reply_ok_json(sink, req->tag_json, body);
}
