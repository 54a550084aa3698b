/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/caller.c — who is calling: a transport learns the
 * caller's uid/gid from the kernel (SO_PEERCRED on the Unix socket, never
 * from the request), and this file turns them into a struct caller: the
 * Unix user name, the tenant it acts as, operator or not, allowed to use
 * corral at all (policy [access]).  Group rules (`operators = @wheel`,
 * `users = @corral`) see every group the user is in, however many.
 * No sockets here: the transports own their connections.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

/* A passwd/group entry buffer: sysconf's hint is often too small for a
 * group with many members, so it grows on ERANGE up to this. */
#define ENTRY_BUF_MAX (1u << 20)
/* getgrouplist's first guess; it says how many it needs when that is short. */
#define GROUPS_FIRST_GUESS 64

void caller_clear(struct caller *c)
{
	free(c->user);
	free(c->tenant);
	c->user = c->tenant = NULL;
	c->operator_ = c->allowed = c->unknown = false;
}

/* getpwuid_r / getgrgid_r with a buffer that grows on ERANGE: the entry's
 * name, malloc'd, or NULL (no such entry, or out of memory). */
static char *user_name(uid_t uid, gid_t *primary_gid)
{
	for (size_t size = 1024; size <= ENTRY_BUF_MAX; size *= 2) {
		_cleanup_free_ char *buf = malloc(size);
		struct passwd pw, *found = NULL;
		int r;

		if (!buf)
			return NULL;
		r = getpwuid_r(uid, &pw, buf, size, &found);
		if (r == ERANGE)
			continue;
		if (r != 0 || !found)
			return NULL;
		*primary_gid = pw.pw_gid;
		return strdup(pw.pw_name);
	}
	return NULL;
}

static char *group_name(gid_t gid)
{
	for (size_t size = 1024; size <= ENTRY_BUF_MAX; size *= 2) {
		_cleanup_free_ char *buf = malloc(size);
		struct group gr, *found = NULL;
		int r;

		if (!buf)
			return NULL;
		r = getgrgid_r(gid, &gr, buf, size, &found);
		if (r == ERANGE)
			continue;
		if (r != 0 || !found)
			return NULL;
		return strdup(gr.gr_name);
	}
	return NULL;
}

int caller_group_ids(const char *user, gid_t primary, gid_t **gids, size_t *count)
{
	int n = GROUPS_FIRST_GUESS;

	*gids = NULL;
	*count = 0;
	for (int attempt = 0; attempt < 8; attempt++) {
		_cleanup_free_ gid_t *list = calloc((size_t)n, sizeof(*list));
		int want = n;

		if (!list)
			return -ENOMEM;
		if (getgrouplist(user, primary, list, &want) >= 0) {
			*gids = TAKE_PTR(list);
			*count = (size_t)want;
			return 0;
		}
		/* too small: want says how many there are (glibc); else double */
		n = want > n ? want : n * 2;
	}
	return -E2BIG;
}

void caller_decide(struct caller *c, const struct policy *policy, const char *const *groups,
		   const char *primary_group)
{
	c->operator_ = policy_is_operator(policy, c->user, groups);
	c->allowed = policy_may_use(policy, c->user, groups);
	free(c->tenant);
	c->tenant = strdup(policy_tenant_of(policy, c->user,
					    primary_group && primary_group[0] ? primary_group : c->user));
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int caller_identify(struct caller *c, const struct policy *policy)
{
	_cleanup_free_ gid_t *gids = NULL;
	_cleanup_free_ char *primary = NULL;
	gid_t pw_gid = c->gid;
	char **names = NULL;
	size_t n_gids = 0, n = 0;
	int r = 0;

	free(c->user);
	c->user = user_name(c->uid, &pw_gid);
	c->unknown = false;
	if (!c->user) {
		/* No passwd entry: a subordinate uid (newuidmap) or a deleted
		 * user.  Such a uid must not mint a tenant of its own ("uid<N>"
		 * on the [default] plan): one user with 65536 subordinate uids
		 * would be 65536 tenants, each with its own budget. */
		char num[32];

		snprintf(num, sizeof(num), "uid%u", (unsigned)c->uid);
		c->user = strdup(num);
		if (!c->user)
			return -ENOMEM;
		free(c->tenant);
		c->tenant = NULL;
		c->operator_ = c->allowed = false;
		c->unknown = true;
		return -ENOENT;
	}
	r = caller_group_ids(c->user, pw_gid, &gids, &n_gids);
	/* The tenant of tenant_from = group is the passwd primary group, never
	 * the connection's effective gid: `sg OTHERGROUP corral submit` would
	 * bill any group the user is in. */
	primary = group_name(pw_gid);
	/* group names for the operator and access rules; NULL-terminated */
	names = calloc(n_gids + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n_gids; i++) {
		names[n] = group_name(gids[i]);
		if (names[n])
			n++;
	}
	caller_decide(c, policy, (const char *const *)names, primary);
	free_names(names, n);
	if (!c->tenant)
		return -ENOMEM;
	return r;
}
