/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc.h — the host /etc paths every jail gets (the rule is in
 * runner/host_etc.c and the README).  Internal to runner/.
 */
#ifndef CORRAL_RUNNER_HOST_ETC_H
#define CORRAL_RUNNER_HOST_ETC_H

#include <stddef.h>

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

static inline void host_etc_releasep(struct host_etc **he)
{
	if (*he)
		host_etc_release(*he);
}

#endif
