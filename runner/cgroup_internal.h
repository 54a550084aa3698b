/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_internal.h — what the cgroup files of runner/ share: the
 * handle struct, small file I/O helpers, the discovered layout, and the v1
 * and v2 (unified-tree) creation and removal steps.
 * Not for anything outside runner/cgroup*.c.
 */
#ifndef CORRAL_RUNNER_CGROUP_INTERNAL_H
#define CORRAL_RUNNER_CGROUP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runner/cgroup.h"
#include "runner/cgroup_layout.h"

struct jail_cgroup {
	char *unified;                  /* host path of the unified leaf */
	char *v1[CGROUP_N_CONTROLLERS]; /* host path of each v1 leaf, NULL if unused */
	bool v2_memory;                 /* memory controller enabled in the unified leaf */
	int dir_fd;
	int events_fd;
};

/* Longest leaf directory path: every file path below it then fits the
 * PATH_MAX + 64 buffers used here (cgroup file names are short). */
#define LEAF_PATH_MAX (PATH_MAX - 64)

/* ---- cgroup_discover.c ------------------------------------------------- */

int cgroup_write_text(const char *path, const char *text);
/* Read up to size-1 bytes of path into buf, NUL-terminated.  Bytes or -errno. */
ssize_t cgroup_read_text(const char *path, char *buf, size_t size);
char *cgroup_path_join(const char *dir, const char *rel);
/* The layout, discovered once per process. */
int cgroup_layout_get(const struct cgroup_layout **out, struct jail_error *err);
/* From now on the caller's cgroup in the unified tree counts as own (a
 * cgroup path): relative parents resolve below it.  0 or -ENAMETOOLONG. */
int cgroup_layout_set_own(const char *own);
/* v1 memory.memsw.* exists (swap accounting on); valid after cgroup_layout_get(). */
bool cgroup_v1_memsw(void);
/* v1 memory.kmem.tcp.* exists: writing its limit is what makes a v1 memory
 * cgroup charge its sockets' buffers; valid after cgroup_layout_get(). */
bool cgroup_v1_kmem_tcp(void);

/* ---- cgroup_v1.c ------------------------------------------------------- */

int cgroup_v1_create(struct jail_cgroup *cg, const struct cgroup_limits *limits, struct jail_error *err);
int cgroup_v1_remove(struct jail_cgroup *cg, struct jail_error *err);

/* ---- cgroup_v2.c ------------------------------------------------------- */

/* mkdir path, its parents as needed; -EEXIST when path exists. */
int cgroup_mkdir_leaf(const char *path);
/* rmdir path (empty), retrying EBUSY for up to timeout_ms; 0 or -errno. */
int cgroup_rmdir_leaf(const char *path, int timeout_ms);
int cgroup_v2_enable_controllers(const struct cgroup_layout *layout, const char *leaf, unsigned mask,
				 struct jail_error *err);
int cgroup_v2_set_limits(const struct jail_cgroup *cg, const struct cgroup_layout *layout,
			 const struct cgroup_limits *limits, struct jail_error *err);
int cgroup_kill_by_pid_list(const struct jail_cgroup *cg);

#endif
