/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/jailspec/jailspec.c — translating a policy profile and a tenant's
 * limits into a struct jail_spec that owns copies of everything it points
 * to.  No syscalls; the runner validates the result (jail_spec_validate).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/jailspec/jailspec.h"

static char *keep(struct jailspec *ps, const char *s)
{
	char *copy = strdup(s);
	char **n;

	if (!copy)
		return NULL;
	n = realloc(ps->strings, (ps->n_strings + 1) * sizeof(*n));
	if (!n) {
		free(copy);
		return NULL;
	}
	ps->strings = n;
	ps->strings[ps->n_strings++] = copy;
	return copy;
}

/* A NULL-terminated copy of a NULL-terminated list; *out NULL for NULL. */
static int copy_list(const char *const *list, char ***out)
{
	size_t n = 0;
	char **copy;

	*out = NULL;
	if (!list)
		return 0;
	while (list[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(list[i]);
		if (!copy[i]) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return -ENOMEM;
		}
	}
	*out = copy;
	return 0;
}

static void free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static int cmp_mount(const void *a, const void *b)
{
	/* A parent path is a prefix of its children, so it sorts first. */
	return strcmp(((const struct jail_mount *)a)->target, ((const struct jail_mount *)b)->target);
}

static int copy_mounts(struct jailspec *ps, const struct policy_profile *profile)
{
	size_t n = profile->n_binds + profile->n_tmpfs;

	if (!n)
		return 0;
	ps->mounts = calloc(n, sizeof(*ps->mounts));
	if (!ps->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < profile->n_binds; i++) {
		struct jail_mount *m = &ps->mounts[ps->n_mounts++];

		m->kind = profile->binds[i].writable ? JAIL_MOUNT_BIND_RW : JAIL_MOUNT_BIND_RO;
		m->source = keep(ps, profile->binds[i].source);
		m->target = keep(ps, profile->binds[i].target);
		if (!m->source || !m->target)
			return -ENOMEM;
	}
	for (size_t i = 0; i < profile->n_tmpfs; i++) {
		struct jail_mount *m = &ps->mounts[ps->n_mounts++];

		m->kind = JAIL_MOUNT_TMPFS;
		m->target = keep(ps, profile->tmpfs[i].target);
		m->size_bytes = profile->tmpfs[i].size_bytes;
		if (!m->target)
			return -ENOMEM;
	}
	qsort(ps->mounts, ps->n_mounts, sizeof(*ps->mounts), cmp_mount);
	return 0;
}

static enum jail_seccomp_profile seccomp_of(enum policy_seccomp s)
{
	switch (s) {
	case POLICY_SECCOMP_STRICT:
		return JAIL_SECCOMP_STRICT;
	case POLICY_SECCOMP_NONE:
		return JAIL_SECCOMP_NONE;
	case POLICY_SECCOMP_DEFAULT:
		break;
	}
	return JAIL_SECCOMP_DEFAULT;
}

static void apply_limits(struct jail_spec *spec, const struct policy_limits *l)
{
	spec->memory_bytes = l->memory_bytes;
	spec->pids_max = l->pids;
	spec->cpu_millis = l->cpu_millis;
	/* 0 (unlimited) stays 0, the runner's "no limit". */
	spec->wall_time_ms = l->max_task_seconds * 1000;
	spec->cpu_time_ms = l->max_cpu_seconds * 1000;
	spec->output_limit = l->output_limit_bytes;
}

int jailspec_build(struct jailspec *ps, const struct jail_spec *base, const struct policy_profile *profile,
		   const struct policy_limits *limits, struct jail_error *err)
{
	struct jail_spec *spec = &ps->spec;
	int r;

	memset(ps, 0, sizeof(*ps));
	if (base)
		*spec = *base;
	else
		spec->netns_fd = -1; /* a new one (jail_spec_init's default) */
	if (!profile)
		return jail_error_set(err, EINVAL, "profile_spec", "no profile given");

	r = copy_mounts(ps, profile);
	if (r == 0)
		r = copy_list(profile->env, &ps->env);
	if (r == 0)
		r = copy_list(profile->seccomp_allow, &ps->seccomp_allow);
	if (r == 0)
		r = copy_list(profile->seccomp_deny, &ps->seccomp_deny);
	if (r == 0) {
		ps->cwd = strdup(profile->cwd);
		ps->hostname = strdup(profile->hostname);
		if (!ps->cwd || !ps->hostname)
			r = -ENOMEM;
	}
	if (r < 0) {
		jailspec_free(ps);
		return jail_error_set(err, -r, "profile_spec", "copy profile '%s'", profile->name);
	}

	spec->mounts = ps->mounts;
	spec->n_mounts = ps->n_mounts;
	if (ps->env)
		spec->env = ps->env;
	spec->cwd = ps->cwd;
	spec->hostname = ps->hostname;
	spec->tmp_bytes = profile->tmp_bytes;
	spec->work_bytes = profile->work_bytes;
	spec->uid = profile->uid;
	spec->gid = profile->gid;
	spec->seccomp = seccomp_of(profile->seccomp);
	spec->rlimit_nofile = profile->rlimit_nofile;
	spec->rlimit_fsize = profile->rlimit_fsize;
	spec->rlimit_stack = profile->rlimit_stack;
	if (limits)
		apply_limits(spec, limits);
	return 0;
}

/* -ENOENT with a message that does not end in strerror(ENOENT). */
static int __attribute__((format(printf, 2, 3))) not_found(struct jail_error *err, const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	jail_error_set(err, 0, "policy", "%s", message);
	if (err)
		err->err = ENOENT;
	return -ENOENT;
}

int jailspec_from_policy(struct jailspec *ps, const struct jail_spec *base, const struct policy *policy,
			 const char *profile_name, const char *tenant, struct jail_error *err)
{
	struct policy_limits limits;

	memset(ps, 0, sizeof(*ps));
	if (tenant && policy_limits_for(policy, tenant, &limits) < 0)
		return not_found(err, "tenant '%s' has no [user] section and %s has no [default]", tenant,
				 policy_path(policy));
	return jailspec_from_limits(ps, base, policy, profile_name, tenant ? &limits : NULL, err);
}

int jailspec_from_limits(struct jailspec *ps, const struct jail_spec *base, const struct policy *policy,
			 const char *profile_name, const struct policy_limits *limits, struct jail_error *err)
{
	const struct policy_profile *profile;

	memset(ps, 0, sizeof(*ps));
	if (!profile_name)
		profile_name = limits ? limits->profile : "default";
	profile = policy_profile(policy, profile_name);
	if (!profile)
		return not_found(err, "%s has no [profile %s]", policy_path(policy), profile_name);
	return jailspec_build(ps, base, profile, limits, err);
}

bool jailspec_needs_filter(const struct jailspec *ps)
{
	return ps->seccomp_allow || ps->seccomp_deny;
}

void jailspec_free(struct jailspec *ps)
{
	for (size_t i = 0; i < ps->n_strings; i++)
		free(ps->strings[i]);
	free(ps->strings);
	free(ps->mounts);
	free_list(ps->env);
	free_list(ps->seccomp_allow);
	free_list(ps->seccomp_deny);
	free(ps->cwd);
	free(ps->hostname);
	memset(ps, 0, sizeof(*ps));
}

int jailspec_error_from_jail(struct error *err, const struct jail_error *jerr)
{
	if (err) {
		err->err = jerr->err;
		snprintf(err->step, sizeof(err->step), "%s", jerr->step);
		snprintf(err->message, sizeof(err->message), "%s", jerr->message);
	}
	return jerr->err ? -jerr->err : -EINVAL;
}
