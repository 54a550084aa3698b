/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_v1.c — the v1 leaves of a hybrid host (memory, pids,
 * cpu+cpuacct): created with their limits, and removed, by direct mkdir,
 * write and rmdir below the mount points discovered once per process
 * (runner/cgroup_discover.c).  libcgroup did this before; its
 * cgroup_init() re-read /proc/mounts on every process's first jail (~0.4 ms
 * and ~200 page faults per corral-run), for what is three mkdirs and a few
 * writes.  The memory limit is written three times: memory, memory+swap,
 * and the socket buffers' own counter (memory.kmem.tcp).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cgroup_internal.h"

static int write_limit(const char *dir, const char *file, uint64_t value, bool is_signed,
		       struct jail_error *err)
{
	char path[PATH_MAX + 64], text[32];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (is_signed)
		snprintf(text, sizeof(text), "%" PRId64, (int64_t)value);
	else
		snprintf(text, sizeof(text), "%" PRIu64, value);
	r = cgroup_write_text(path, text);
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_limit", "write \"%s\" to %s", text, path);
	return 0;
}

/* The limits controller c takes in its directory dir. */
static int set_v1_limits(enum cgroup_ctl c, const char *dir, const struct cgroup_limits *limits,
			 struct jail_error *err)
{
	int r = 0;

	if (c == CGROUP_MEMORY && limits->memory_bytes) {
		/* memory first: memsw may never be below it */
		r = write_limit(dir, "memory.limit_in_bytes", limits->memory_bytes, false, err);
		if (r == 0 && cgroup_v1_memsw())
			r = write_limit(dir, "memory.memsw.limit_in_bytes", limits->memory_bytes, false, err);
		/* v1 charges socket buffers only to a cgroup whose kmem.tcp
		 * limit was written, and to that counter alone, not to
		 * memory.limit_in_bytes (v2 charges them to memory.max) */
		if (r == 0 && cgroup_v1_kmem_tcp())
			r = write_limit(dir, "memory.kmem.tcp.limit_in_bytes", limits->memory_bytes, false,
					err);
	} else if (c == CGROUP_PIDS && limits->pids_max) {
		r = write_limit(dir, "pids.max", limits->pids_max, false, err);
	} else if (c == CGROUP_CPU && limits->cpu_millis) {
		r = write_limit(dir, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_US, false, err);
		if (r == 0)
			r = write_limit(dir, "cpu.cfs_quota_us",
					cgroup_layout_cpu_quota_us(limits->cpu_millis), true, err);
	}
	return r;
}

/* Hybrid: create each v1 leaf (its parents as needed) and write its
 * limits.  A leaf that exists already is an error, and is dropped from the
 * handle (not ours to remove).  On failure the leaves made so far stay for
 * the caller's cgroup_v1_remove(). */
int cgroup_v1_create(struct jail_cgroup *cg, const struct cgroup_limits *limits, struct jail_error *err)
{
	int r;

	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c])
			continue;
		r = cgroup_mkdir_leaf(cg->v1[c]);
		if (r == -EEXIST) {
			r = jail_error_set(err, EEXIST, "cgroup_create",
					   "cgroup %s exists already (left over from an earlier jail?)",
					   cg->v1[c]);
			/* not ours: keep it out of the rollback */
			free(cg->v1[c]);
			cg->v1[c] = NULL;
			return r;
		}
		if (r < 0)
			return jail_error_set(err, -r, "cgroup_create", "create cgroup %s", cg->v1[c]);
		r = set_v1_limits((enum cgroup_ctl)c, cg->v1[c], limits, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Remove the v1 leaves that exist, empty ones only.  First error wins. */
int cgroup_v1_remove(struct jail_cgroup *cg, struct jail_error *err)
{
	int r = 0;

	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c])
			continue;
		int e = cgroup_rmdir_leaf(cg->v1[c], 200);
		if (e < 0 && r == 0)
			r = jail_error_set(err, -e, "cgroup_remove", "remove cgroup %s", cg->v1[c]);
	}
	return r;
}
