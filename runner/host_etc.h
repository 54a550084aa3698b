/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc.h — the host /etc paths every jail gets (the rule is in
 * runner/host_etc.c and the README).  Internal to runner/.
 */
#ifndef CORRAL_RUNNER_HOST_ETC_H
#define CORRAL_RUNNER_HOST_ETC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
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

/* A given host file up to this size is copied into the jail's /etc (a copy
 * is cheaper than a mount); a larger one is bound. */
#define HOST_ETC_MAX_COPIED (256 << 10)

/* The jail's generated /etc files, the same text whoever writes them
 * (corral-init, runner/init/init_mounts.c, or a prepared set,
 * runner/host_etc_dir.c). */
static inline void host_etc_generated_text(const struct jail_spec *spec, char *passwd, size_t passwd_len,
					   char *group, size_t group_len, char *hostname, size_t hostname_len,
					   char *hosts, size_t hosts_len)
{
	snprintf(passwd, passwd_len,
		 "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		 "sandbox:x:%u:%u:corral sandbox:/work:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 (unsigned)spec->uid, (unsigned)spec->gid);
	snprintf(group, group_len, "root:x:0:\nsandbox:x:%u:\nnogroup:x:65534:\n", (unsigned)spec->gid);
	snprintf(hostname, hostname_len, "%s\n", spec->hostname);
	snprintf(hosts, hosts_len, "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", spec->hostname);
}

/* The prepared /etc set for a jail of spec with the set he
 * (runner/host_etc_dir.c), made if missing, when
 * jail_host_etc_prepare_in() named a directory for them: 1 with its host
 * path in out, or 0 (none: corral-init builds /etc itself).  root is "/"
 * (a test gives a fake root).  Not for threaded callers (reads the umask). */
int host_etc_dir_find(const char *root, const struct host_etc *he, const struct jail_spec *spec, char *out,
		      size_t out_len);

static inline void host_etc_releasep(struct host_etc **he)
{
	if (*he)
		host_etc_release(*he);
}

#endif
