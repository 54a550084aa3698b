/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_policy.c — the cluster's policy on this node.
 *
 * In a cluster, [access], [default], [plan], [user] and [profile] are the
 * cluster's: one text in the database, numbered by generation
 * (store_policy.h), pushed by `corral policy push` (op_policy.c).  Each node
 * runs the latest generation over its own file's [supervisor] and [http]
 * (policy_load_node).  The first node of an empty cluster pushes its own
 * file's cluster-wide sections (compare-and-set on "no generation yet": of
 * two first nodes, one pushes and the other takes its text).
 *
 * A node learns of a new generation at its next cluster tick: one cheap read
 * of the latest number per tick; the pushing node NOTIFYs, which makes the
 * others tick at once (NOTIFY only speeds it up).  A generation that does not
 * load over this node's file (its [supervisor] disagrees with a plan, say)
 * is logged once and this node keeps the policy in force.  Each node records
 * the generation it runs (and the latest that failed, and why) in the store
 * (policy_nodes): `corral policy current` shows every node's.  Not here: the store's table (store_policy.c), the
 * loader (policy/cluster.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_policy.h"

struct cluster_policy {
	int64_t applied; /* the generation in force here; 0 = the file's own policy */
	int64_t failed;  /* the latest generation that did not load here; 0 = none */
	char *error;     /* why it did not (errors joined by newlines), or NULL */
};

static struct cluster_policy *state(struct daemon *d)
{
	if (!d->cluster_policy)
		d->cluster_policy = calloc(1, sizeof(*d->cluster_policy));
	return d->cluster_policy;
}

void cluster_policy_free(struct daemon *d)
{
	if (!d->cluster_policy)
		return;
	free(d->cluster_policy->error);
	free(d->cluster_policy);
	d->cluster_policy = NULL;
}

int64_t cluster_policy_applied(const struct daemon *d, int64_t *failed, const char **error)
{
	const struct cluster_policy *cp = d->cluster_policy;

	if (failed)
		*failed = cp ? cp->failed : 0;
	if (error)
		*error = cp ? cp->error : NULL;
	return cp ? cp->applied : 0;
}

/* What this node runs, in the store for every node to see
 * (`corral policy current`). */
static void record(struct daemon *d)
{
	const struct cluster_policy *cp = d->cluster_policy;
	struct error err;

	if (cp && store_policy_node_set(d->store, d->node_name, cp->applied, cp->failed, cp->error, &err) < 0)
		log_warning("node %s: record its policy generation: %s", d->node_name, err.message);
}

void cluster_policy_installed(struct daemon *d, struct policy *fresh, int64_t generation)
{
	struct cluster_policy *cp = state(d);

	daemon_policy_install(d, fresh);
	if (!cp)
		return;
	cp->applied = generation;
	cp->failed = 0;
	free(cp->error);
	cp->error = NULL;
	record(d);
}

/* Put generation sp in force over this node's file; on errors keep the
 * policy in force, remember why, and return -EINVAL. */
static int apply(struct daemon *d, const struct store_policy *sp, char **errors_text)
{
	struct policy_errors errors = { 0 };
	struct cluster_policy *cp = state(d);
	struct policy *fresh = NULL;
	char name[64], *text = NULL;
	int r;

	snprintf(name, sizeof(name), "policy generation %" PRId64, sp->generation);
	r = policy_load_node(d->policy_path, name, sp->text, strlen(sp->text), &fresh, &errors);
	daemon_policy_report(d->policy_path, r, &errors, &text);
	policy_errors_free(&errors);
	if (r < 0) {
		log_error("node %s: %s (pushed by %s) does not load over %s; keeping the policy in force "
			  "(generation %" PRId64 ")",
			  d->node_name, name, sp->pushed_by ? sp->pushed_by : "?", d->policy_path,
			  cp ? cp->applied : 0);
		if (cp) {
			cp->failed = sp->generation;
			free(cp->error);
			cp->error = text ? strdup(text) : NULL;
			record(d);
		}
		if (errors_text)
			*errors_text = text;
		else
			free(text);
		return -EINVAL;
	}
	free(text);
	cluster_policy_installed(d, fresh, sp->generation);
	log_notice("node %s runs %s (sha256 %.12s..., pushed by %s): %zu plans, %zu users, %zu profiles",
		   d->node_name, name, sp->sha256, sp->pushed_by ? sp->pushed_by : "?",
		   policy_count(d->policy, POLICY_PLANS), policy_count(d->policy, POLICY_USERS),
		   policy_count(d->policy, POLICY_PROFILES));
	return 0;
}

/* The latest generation; when there is none, this node's file's
 * cluster-wide sections become generation 1 (unless another node's push
 * came first: then that one). */
static int latest_or_first(struct daemon *d, struct store_policy *sp)
{
	struct policy_errors errors = { 0 };
	struct error err;
	char by[128], *text = NULL;
	int r;

	for (int tries = 0; tries < 3; tries++) {
		r = store_policy_latest(d->store, sp, &err);
		if (r != -ENOENT)
			break;
		r = policy_cluster_text(d->policy_path, &text, &errors);
		r = daemon_policy_report(d->policy_path, r, &errors, NULL);
		policy_errors_free(&errors);
		if (r < 0)
			return r;
		snprintf(by, sizeof(by), "node %s (its policy file, as the cluster's first node)",
			 d->node_name);
		r = store_policy_push(d->store, text, by, 0, sp, &err);
		if (r == 0) {
			sp->text = text;
			sp->pushed_by = strdup(by);
			log_notice(
				"node %s is the cluster's first: it pushed the cluster-wide sections of %s as "
				"policy generation %" PRId64,
				d->node_name, d->policy_path, sp->generation);
			return 0;
		}
		free(text);
		text = NULL;
		if (r != -ESTALE)
			break;
		/* another node pushed first: take its text */
	}
	if (r < 0 && r != -ENOENT)
		log_error("node %s: read the cluster's policy: %s", d->node_name, err.message);
	return r;
}

int cluster_policy_start(struct daemon *d)
{
	struct store_policy sp;
	int r;

	if (!d->cluster)
		return 0;
	if (!state(d))
		return -ENOMEM;
	r = latest_or_first(d, &sp);
	if (r < 0)
		return r;
	apply(d, &sp, NULL); /* errors: logged, the file's policy stays */
	store_policy_clear(&sp);
	return 0;
}

void cluster_policy_poll(struct daemon *d)
{
	struct cluster_policy *cp = d->cluster_policy;
	struct store_policy sp;
	struct error err;
	int64_t latest = 0;

	if (!d->cluster || !cp || store_policy_generation(d->store, &latest, &err) < 0)
		return; /* the renewal says what is wrong with the store */
	if (latest <= 0 || latest == cp->applied || latest == cp->failed)
		return;
	if (store_policy_latest(d->store, &sp, &err) < 0) {
		log_warning("node %s: read policy generation %" PRId64 ": %s", d->node_name, latest,
			    err.message);
		return;
	}
	apply(d, &sp, NULL);
	store_policy_clear(&sp);
}

int cluster_policy_reload(struct daemon *d, char **errors_text)
{
	struct store_policy sp;
	int r;

	if (errors_text)
		*errors_text = NULL;
	log_notice("reloading policy %s with the cluster's latest generation", d->policy_path);
	r = latest_or_first(d, &sp);
	if (r < 0) {
		if (errors_text)
			*errors_text = strdup("cannot read the cluster's policy from the store");
		return r == -EINVAL ? -EINVAL : -EIO;
	}
	r = apply(d, &sp, errors_text);
	store_policy_clear(&sp);
	return r;
}
