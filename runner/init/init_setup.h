/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_setup.h — corral-init's first part: building the jail
 * (runner/init/init_setup.c), its root (init_mounts.c) and lo (init_netns.c),
 * from the record's struct init_setup.  Every failure is reported on the
 * report pipe with its step's name (setup_fail) and ends init.
 */
#ifndef CORRAL_RUNNER_INIT_INIT_SETUP_H
#define CORRAL_RUNNER_INIT_INIT_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/host_etc.h"
#include "runner/init_protocol.h"
#include "runner/jail.h"

/* What the setup steps read: the spec's fields the record carries (hostname,
 * uid, gid, sizes, work dir, mounts), the host /etc paths, the fds. */
struct setup_ctx {
	const struct jail_spec *spec;
	const struct host_etc *host_etc;
	int sync_fd;         /* read end: the parent's "go" */
	int report_fd;       /* write end of the report pipe */
	const char *etc_dir; /* a prepared /etc on the host, or NULL (init_protocol.h) */
	bool die_with_parent;
	uint32_t netns; /* enum init_netns: who made the network namespace */
};

/* Build the jail described by cfg->setup; keep only the fds cfg names (and
 * 0-2, /dev/null).  Returns with no capability left, no_new_privs set. */
void init_setup_run(struct init_config *cfg);

/* Send a REPORT_ERROR record and exit 127.  errnum is a positive errno. */
void setup_fail(int report_fd, int errnum, const char *step, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));
/* The same for an already filled struct jail_error. */
void setup_fail_error(int report_fd, const struct jail_error *err) __attribute__((noreturn));

/* Build the jail's root filesystem and pivot into it (init_mounts.c). */
void init_mounts_build_root(const struct setup_ctx *ctx);

/* Bring up lo in the current network namespace (init_netns.c). */
int init_netns_lo_up(struct jail_error *err);
/* Make the jail's own network namespace (owned by its user namespace) and
 * bring its lo up: the jail's first process is born in its caller's. */
int init_netns_make(struct jail_error *err);
/* 0 when the current network namespace is owned by the current user
 * namespace (the jail's own, never its caller's), else -errno with err. */
int init_netns_check_own(struct jail_error *err);

#endif
