/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral-run/run_policy.h — corral-run's --policy/--profile/--user: fill the
 * jail spec from a policy profile and a tenant's plan limits before the
 * command-line flags (which override them) are applied.
 */
#ifndef CORRAL_SUPERVISOR_RUN_POLICY_H
#define CORRAL_SUPERVISOR_RUN_POLICY_H

#include <stddef.h>

#include "supervisor/common/error.h"
#include "supervisor/corral-run/run_args.h"

struct run_policy {
	void *state; /* the loaded policy and the translated profile, owned */
};

void run_policy_init(struct run_policy *p);
/* If opts names a policy file, load it and apply profile/user to opts->spec.
 * -EINVAL (-ENOMEM) with err filled on failure: its message names the
 * policy's first error, and says so when there are more. */
int run_policy_apply(struct run_policy *p, struct run_options *opts, struct error *err);
void run_policy_free(struct run_policy *p);

#endif
