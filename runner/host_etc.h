/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc.h — the host /etc paths every jail gets (the rule is in
 * runner/host_etc.c and the README).  Internal to runner/.
 */
#ifndef CORRAL_RUNNER_HOST_ETC_H
#define CORRAL_RUNNER_HOST_ETC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "runner/jail.h"

/* An immutable set of paths relative to /etc ("alternatives",
 * "ssl/certs"), sorted, none below another; reference-counted. */
struct host_etc {
	char **paths;
	size_t n;
	unsigned refs; /* under the module's lock */
};

/* Compute the set from root's /etc ("/" for the host; a test gives a fake
 * root).  *out has one reference; free with host_etc_free().  0 or
 * -errno (only for failures to allocate or to open root). */
int host_etc_scan(const char *root, struct host_etc **out, struct jail_error *err);
void host_etc_free(struct host_etc *he);

/* The process's current set (scanned on first use, or by
 * jail_host_etc_refresh()), with a reference for the caller: the parent
 * holds it across the clone, the child reads its own copy.  0 or -errno. */
int host_etc_acquire(struct host_etc **out, struct jail_error *err);
void host_etc_release(struct host_etc *he);

/* Make he (one reference, given to the module) the process's current set. */
void host_etc_set_current(struct host_etc *he);

/* rel (relative to /etc) could be given: not absolute, no "." or ".."
 * component, nothing on the deny list (runner/host_etc.c). */
bool host_etc_path_allowed(const char *rel);

/* The set kept in a file between processes (runner/host_etc_cache.c):
 * load it from cache_path if fresh for root's /etc at time now (0; -ESTALE
 * when missing, stale or not to be trusted; -ENOMEM), or store he there.
 * Fresh: younger than HOST_ETC_CACHE_MAX_AGE_S, /etc and the directories
 * the set names unchanged (inode, ctime). */
#define HOST_ETC_CACHE_MAX_AGE_S 60
int host_etc_cache_load(const char *cache_path, const char *root, time_t now, struct host_etc **out);
int host_etc_cache_store(const char *cache_path, const char *root, time_t now, const struct host_etc *he);

static inline void host_etc_releasep(struct host_etc **he)
{
	if (*he)
		host_etc_release(*he);
}

#endif
