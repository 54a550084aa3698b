/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral-run/run_policy.c — corral-run's --policy FILE [--profile NAME]
 * [--user NAME]: the profile's jail settings and the tenant's plan limits
 * become the spec; the other flags are applied on top of it afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "supervisor/jailspec/jailspec.h"
#include "supervisor/corral-run/run_policy.h"

struct run_policy_state {
	struct policy *policy;
	struct jailspec ps;
	struct jail_filter *filter;
};

void run_policy_init(struct run_policy *p)
{
	p->state = NULL;
}

static int load(const char *path, struct policy **out, struct error *err)
{
	struct policy_errors errors = { 0 };
	int r = policy_load(path, out, &errors);

	if (r < 0) {
		char first[512] = "";

		if (errors.count)
			policy_error_format(&errors.items[0], first, sizeof(first));
		else
			snprintf(first, sizeof(first), "%s: %s", path, strerror(-r));
		error_set(err, 0, "load policy", "--policy: %s%s", first,
			  errors.count > 1 ? " (and more: run corral policy check)" : "");
	}
	policy_errors_free(&errors);
	return r;
}

/* The profile's mounts become corral-run's own list, so --bind/--tmpfs add
 * to them instead of replacing them. */
static int adopt_mounts(struct run_options *opts, const struct jailspec *ps)
{
	if (!ps->n_mounts)
		return 0;
	opts->mounts = calloc(ps->n_mounts, sizeof(*opts->mounts));
	if (!opts->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < ps->n_mounts; i++) {
		opts->mounts[i] = ps->mounts[i];
		opts->mounts[i].source = ps->mounts[i].source ? strdup(ps->mounts[i].source) : NULL;
		opts->mounts[i].target = strdup(ps->mounts[i].target);
		opts->n_mounts = i + 1;
		if (!opts->mounts[i].target || (ps->mounts[i].source && !opts->mounts[i].source))
			return -ENOMEM;
	}
	opts->spec.mounts = opts->mounts;
	opts->spec.n_mounts = opts->n_mounts;
	return 0;
}

int run_policy_apply(struct run_policy *p, struct run_options *opts, struct error *err)
{
	struct run_policy_state *s;
	struct jail_error jerr;
	int r;

	if (!opts->policy_path)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_set_message(err, ENOMEM, "load policy", "out of memory");
	p->state = s;
	r = load(opts->policy_path, &s->policy, err);
	if (r < 0)
		return -EINVAL;
	/* with --user, --profile must be one its plan allows */
	if (opts->user && opts->profile) {
		struct policy_limits lim;

		if (policy_limits_for(s->policy, opts->user, &lim) == 0 &&
		    !policy_limits_allow_profile(&lim, opts->profile)) {
			char names[256];
			size_t off = 0;

			names[0] = '\0';
			for (size_t i = 0; i < lim.n_profiles && off < sizeof(names); i++)
				off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
							i ? " " : "", lim.profiles[i]);
			return error_usage(err, "--profile %s: plan %s of user %s allows only: %s",
					   opts->profile, lim.plan, opts->user, names);
		}
	}
	/* without --profile: the tenant's plan's profile, or "default" */
	r = jailspec_from_policy(&s->ps, &opts->spec, s->policy,
				 opts->profile        ? opts->profile
					 : opts->user ? NULL
						      : "default",
				 opts->user, &jerr);
	if (r < 0) {
		jailspec_error_from_jail(err, &jerr);
		error_prefix(err, "--policy");
		return -EINVAL;
	}
	opts->spec = s->ps.spec;
	if (adopt_mounts(opts, &s->ps) < 0)
		return error_set_message(err, ENOMEM, "copy profile mounts", "out of memory");
	if (jailspec_needs_filter(&s->ps)) {
		r = jail_filter_compile(opts->spec.seccomp, (const char *const *)s->ps.seccomp_allow,
					(const char *const *)s->ps.seccomp_deny, &s->filter, &jerr);
		if (r < 0) {
			jailspec_error_from_jail(err, &jerr);
			error_prefix(err, "--policy: seccomp rules of the profile");
			return -EINVAL;
		}
		opts->spec.filter = s->filter;
	}
	return 0;
}

void run_policy_free(struct run_policy *p)
{
	struct run_policy_state *s = p->state;

	if (!s)
		return;
	jailspec_free(&s->ps);
	jail_filter_free(s->filter);
	policy_free(s->policy);
	free(s);
	p->state = NULL;
}
