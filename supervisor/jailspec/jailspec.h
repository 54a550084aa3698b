/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/jailspec/jailspec.h — a policy profile (+ a tenant's limits) as the
 * runner's struct jail_spec.  This translation lives in supervisor/ because
 * runner/ never includes policy/.  Used by corrald and by
 * `corral-run --policy FILE --profile NAME [--user NAME]`.
 *
 * A struct jail_spec only points at its arrays and strings; a struct
 * profile_spec owns copies of them, so it stays valid after the policy it
 * came from is freed or swapped by a reload.
 *
 *	struct jail_spec base;
 *	struct jailspec ps;
 *	struct jail_error err;
 *
 *	jail_spec_init(&base);                     // runner defaults
 *	base.host_uid = uid; base.host_gid = gid;  // caller's fields ...
 *	if (jailspec_from_policy(&ps, &base, policy, "python", "alice", &err) < 0)
 *		die("%s", err.message);
 *	ps.spec.argv = argv;                       // argv is always the caller's
 *	ps.spec.wall_time_ms = 5000;               // flags override afterwards
 *	if (jailspec_needs_filter(&ps))        // extra syscall rules: compile
 *		jail_filter_compile(ps.spec.seccomp, (const char *const *)ps.seccomp_allow,
 *				    (const char *const *)ps.seccomp_deny, &filter, &err);
 *	...  jail_spawn(&ps.spec, ...) ...
 *	jailspec_free(&ps);
 */
#ifndef CORRAL_SUPERVISOR_PROFILE_SPEC_H
#define CORRAL_SUPERVISOR_PROFILE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "runner/jail.h"
#include "supervisor/common/error.h"

struct jailspec {
	struct jail_spec spec;     /* mounts, env, cwd, hostname point below */
	struct jail_mount *mounts; /* owned: the profile's binds and tmpfs, parents first */
	size_t n_mounts;
	char **env;           /* owned, NULL-terminated; NULL = base's env */
	char *cwd;            /* owned */
	char *hostname;       /* owned */
	char **seccomp_allow; /* owned, NULL-terminated; NULL = none */
	char **seccomp_deny;  /* owned, NULL-terminated; NULL = none */
	char **strings;       /* owned: every other string (mount paths) */
	size_t n_strings;
};

/* ps->spec = *base (NULL: all zero), then the profile's jail settings (mounts,
 * env, cwd, hostname, /tmp and /work sizes, uid/gid, seccomp profile, rlimits)
 * and, when limits is not NULL, the tenant's per-task limits (memory, pids,
 * cpu quota, wall and CPU time, output limit).  Base fields the profile does
 * not cover (argv, host_uid/gid, stdio, cgroup, status path, work_dir) are
 * kept.  0, or -errno with err filled; ps is zeroed on failure. */
int jailspec_build(struct jailspec *ps, const struct jail_spec *base, const struct policy_profile *profile,
		   const struct policy_limits *limits, struct jail_error *err);

/* The same from names: profile_name (NULL: the tenant's plan's profile) and
 * tenant (NULL: no limits applied).  -ENOENT with err naming what is
 * missing (no such profile, tenant without [user] section and no [default]). */
int jailspec_from_policy(struct jailspec *ps, const struct jail_spec *base, const struct policy *policy,
			 const char *profile_name, const char *tenant, struct jail_error *err);
/* The same with the tenant's limits already resolved (corrald: its tenant
 * records; NULL: none applied). */
int jailspec_from_limits(struct jailspec *ps, const struct jail_spec *base, const struct policy *policy,
			 const char *profile_name, const struct policy_limits *limits,
			 struct jail_error *err);

/* True when the profile adds syscall rules, so the caller must compile a
 * filter with jail_filter_compile() and set spec.filter (compile once per
 * profile and reuse it). */
bool jailspec_needs_filter(const struct jailspec *ps);

/* Free what ps owns and zero it.  Safe on a zeroed struct. */
void jailspec_free(struct jailspec *ps);

/* ---- jailspec_env.c ---- */

/* The environment of a task given `--env` entries add[0..n_add) ("NAME=VALUE"):
 * base (a profile's env; NULL: jail_default_env()) with each entry of add
 * replacing base's of the same name, else appended.  A malloc'd
 * NULL-terminated vector (jailspec_env_free), NULL when out of memory. */
char **jailspec_env_merge(const char *const *base, char *const *add, size_t n_add);
void jailspec_env_free(char **env);

/* The runner's error as the supervisor's (err may be NULL): the same errno,
 * step and message.  Returns -jerr->err, or -EINVAL when it has none. */
int jailspec_error_from_jail(struct error *err, const struct jail_error *jerr);

#endif
