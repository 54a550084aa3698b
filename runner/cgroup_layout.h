/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_layout.h — internal to runner/cgroup*.c: where the cgroup
 * hierarchies are mounted and where the caller sits in each, computed by
 * pure functions over the text of /proc/self/mountinfo, /proc/self/cgroup,
 * cgroup.controllers and keyed files ("key value" lines).  No I/O here, so
 * tests/unit/test_cgroup_layout.c covers it without root.
 */
#ifndef CORRAL_RUNNER_CGROUP_LAYOUT_H
#define CORRAL_RUNNER_CGROUP_LAYOUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/jail.h"

/* cpu quotas are set per period of this many microseconds */
#define CGROUP_CPU_PERIOD_US 100000u

/* The controllers the runner uses. */
enum cgroup_ctl {
	CGROUP_MEMORY = 0,
	CGROUP_PIDS,
	CGROUP_CPU,
	CGROUP_CPUACCT,
	CGROUP_N_CONTROLLERS,
};

/* "memory", "pids", "cpu", "cpuacct". */
const char *cgroup_controller_name(enum cgroup_ctl controller);

/* One hierarchy: the unified cgroup2 tree or one v1 controller's tree. */
struct cgroup_hierarchy {
	bool mounted;         /* a mount of it was found in mountinfo */
	bool own_known;       /* the caller's cgroup in it was found in /proc/self/cgroup */
	char mount[PATH_MAX]; /* mount point, unescaped ("/sys/fs/cgroup/memory") */
	char root[PATH_MAX];  /* cgroup the mount shows at its top, usually "/" */
	char own[PATH_MAX];   /* the caller's cgroup in this hierarchy ("/process_api/ab12") */
};

struct cgroup_layout {
	struct cgroup_hierarchy unified;
	struct cgroup_hierarchy v1[CGROUP_N_CONTROLLERS];
	unsigned v2_controllers; /* bit (1u << controller): enabled-able in the unified tree */
};

/* Record the cgroup2 mount and the v1 mounts of the runner's controllers
 * found in mountinfo text (first mount of each wins).  Malformed lines are
 * skipped.  Returns 0. */
int cgroup_layout_parse_mountinfo(const char *text, struct cgroup_layout *layout);

/* Record the caller's own cgroup per hierarchy from /proc/self/cgroup text
 * ("4:memory:/a/b", "2:cpu,cpuacct:/", "0::/x").  Returns 0. */
int cgroup_layout_parse_self(const char *text, struct cgroup_layout *layout);

/* Bit mask of the runner's controllers named in cgroup.controllers text. */
unsigned cgroup_layout_parse_controllers(const char *text);

/* The leaf's path below the hierarchy's mount point (no leading '/', "" for
 * the mount point itself): <own>/<parent>/<name>, or <parent>/<name> when
 * parent is absolute, with the mount's root stripped.  parent may be NULL or
 * ""; name NULL means the parent itself.  -EINVAL for a bad name or parent ("..", "." or empty components in
 * name), -ENOENT when the caller's cgroup is unknown or outside the mount,
 * -ENAMETOOLONG when it does not fit. */
int cgroup_layout_relative(const struct cgroup_hierarchy *hierarchy, const char *parent, const char *name,
			   char *out, size_t size);

/* Where a controller lives: its own v1 hierarchy wins (a controller bound
 * to v1 cannot be enabled in the unified tree), else the unified tree when
 * the caller's cgroup.controllers lists it. */
enum cgroup_home { CGROUP_HOME_NONE, CGROUP_HOME_V1, CGROUP_HOME_V2 };
enum cgroup_home cgroup_layout_home(const struct cgroup_layout *layout, enum cgroup_ctl controller);

/* Check that every requested limit (0 = none) has a controller and a value
 * the kernel accepts.  0, or -ENODEV / -EINVAL with err saying which. */
int cgroup_layout_check_limits(const struct cgroup_layout *layout, uint64_t memory_bytes, uint64_t pids_max,
			       uint32_t cpu_millis, struct jail_error *err);

/* A CPU share (cpu_millis thousandths of a CPU: 500 = half a core) as a
 * bandwidth quota: the µs of CPU per CGROUP_CPU_PERIOD_US (v1's
 * cpu.cfs_quota_us), and v2's cpu.max text ("50000 100000"; "max 100000"
 * for 0: no quota) into buf. */
uint64_t cgroup_layout_cpu_quota_us(uint32_t cpu_millis);
void cgroup_layout_cpu_max(uint32_t cpu_millis, char *buf, size_t size);

/* Find "key <u64>" on its own line in text (cpu.stat, memory.events,
 * memory.oom_control, cgroup.events).  0 and *value, -ENOENT when absent,
 * -EINVAL when the value is not a number. */
int cgroup_parse_keyed(const char *text, const char *key, uint64_t *value);

#endif
