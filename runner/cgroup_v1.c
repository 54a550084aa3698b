/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_v1.c — the v1 leaves of a hybrid host (memory, pids,
 * cpu+cpuacct): created with their limits, and removed, through libcgroup.
 * The memory limit is written three times: memory, memory+swap, and the
 * socket buffers' own counter (memory.kmem.tcp).
 */
#include <errno.h>
#include <libcgroup.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "runner/cgroup_internal.h"

/* Hybrid: create the v1 leaves with their limits through libcgroup, one
 * struct cgroup per distinct path below the mount points (memory usually
 * sits deeper than pids and cpu). */
int cgroup_v1_create(struct jail_cgroup *cg, const struct cgroup_limits *limits, struct jail_error *err)
{
	bool done[CGROUP_N_CONTROLLERS] = { false };
	int r = 0;

	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c] || done[c])
			continue;
		struct cgroup *group = cgroup_new_cgroup(cg->v1_rel[c]);
		if (!group)
			return jail_error_set(err, ENOMEM, "cgroup_create", "allocate libcgroup group %s",
					      cg->v1_rel[c]);
		for (int o = c; o < CGROUP_N_CONTROLLERS && r == 0; o++) {
			if (!cg->v1[o] || done[o] || strcmp(cg->v1_rel[o], cg->v1_rel[c]) != 0)
				continue;
			done[o] = true;
			struct cgroup_controller *ctl = cgroup_add_controller(group,
									      cgroup_controller_name(o));
			if (!ctl) {
				r = jail_error_set(err, ENOMEM, "cgroup_create", "add controller %s to %s",
						   cgroup_controller_name(o), cg->v1[o]);
				break;
			}
			int ret = 0;
			if (o == CGROUP_MEMORY && limits->memory_bytes) {
				/* memory first: memsw may never be below it */
				ret = cgroup_add_value_uint64(ctl, "memory.limit_in_bytes",
							      limits->memory_bytes);
				if (!ret && cgroup_v1_memsw())
					ret = cgroup_add_value_uint64(ctl, "memory.memsw.limit_in_bytes",
								      limits->memory_bytes);
				/* v1 charges socket buffers only to a cgroup whose
				 * kmem.tcp limit was written, and to that counter
				 * alone, not to memory.limit_in_bytes (v2 charges
				 * them to memory.max) */
				if (!ret && cgroup_v1_kmem_tcp())
					ret = cgroup_add_value_uint64(ctl, "memory.kmem.tcp.limit_in_bytes",
								      limits->memory_bytes);
			} else if (o == CGROUP_PIDS && limits->pids_max) {
				ret = cgroup_add_value_uint64(ctl, "pids.max", limits->pids_max);
			} else if (o == CGROUP_CPU && limits->cpu_millis) {
				ret = cgroup_add_value_uint64(ctl, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_US);
				if (!ret)
					ret = cgroup_add_value_int64(ctl, "cpu.cfs_quota_us",
								     (int64_t)limits->cpu_millis *
									     (CGROUP_CPU_PERIOD_US / 1000));
			}
			if (ret)
				r = cgroup_libcgroup_error(err, ret, "cgroup_limit", "set limits of",
							   cg->v1[o]);
		}
		if (r == 0) {
			int ret = cgroup_create_cgroup(group, 1);
			if (ret)
				r = cgroup_libcgroup_error(err, ret, "cgroup_create",
							   "create cgroup (or write its limits)", cg->v1[c]);
		}
		cgroup_free(&group);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Remove the v1 leaves that exist (libcgroup, empty only: by default it
 * would move leftover tasks to the parent).  First error wins. */
int cgroup_v1_remove(struct jail_cgroup *cg, struct jail_error *err)
{
	int r = 0;

	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c] || access(cg->v1[c], F_OK) < 0)
			continue;
		struct cgroup *group = cgroup_new_cgroup(cg->v1_rel[c]);
		if (!group || !cgroup_add_controller(group, cgroup_controller_name(c))) {
			cgroup_free(&group);
			if (r == 0)
				r = jail_error_set(err, ENOMEM, "cgroup_remove", "allocate for %s",
						   cg->v1[c]);
			continue;
		}
		int ret = cgroup_delete_cgroup_ext(group, CGFLAG_DELETE_EMPTY_ONLY);
		cgroup_free(&group);
		if (ret && r == 0)
			r = cgroup_libcgroup_error(err, ret, "cgroup_remove", "remove cgroup", cg->v1[c]);
	}
	return r;
}
