/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_read.c — what a jail's cgroup counted (runner/cgroup.h:
 * cgroup_read_cpu, cgroup_read_memory, cgroup_read_memory_now): cpu.stat of
 * the unified leaf, and the memory peak, current use and OOM kills from the
 * v1 memory hierarchy or the unified leaf, wherever the memory limit lives.
 * Creating, using and removing the cgroup: runner/cgroup.c; the keyed-file
 * parsing: runner/cgroup_layout.c.
 *
 * Nothing here runs in the jail's child.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "runner/cgroup_internal.h"

int cgroup_read_cpu(const struct jail_cgroup *cg, struct jail_cpu *cpu)
{
	char buf[1024], path[PATH_MAX + 64];
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "%s/cpu.stat", cg->unified);
	if ((n = cgroup_read_text(path, buf, sizeof(buf))) < 0)
		return (int)n;
	if ((r = cgroup_parse_keyed(buf, "usage_usec", &cpu->usage_us)) < 0 ||
	    (r = cgroup_parse_keyed(buf, "user_usec", &cpu->user_us)) < 0 ||
	    (r = cgroup_parse_keyed(buf, "system_usec", &cpu->system_us)) < 0)
		return r == -ENOENT ? -EPROTO : r;
	return 0;
}

static int read_u64_file(const char *dir, const char *file, const char *key, uint64_t *value)
{
	char buf[1024], path[PATH_MAX + 64];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((n = cgroup_read_text(path, buf, sizeof(buf))) < 0)
		return (int)n;
	if (key)
		return cgroup_parse_keyed(buf, key, value);
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EPROTO;
	*value = (uint64_t)v;
	return 0;
}

int cgroup_read_memory(const struct jail_cgroup *cg, uint64_t *peak_bytes, uint64_t *oom_kills)
{
	uint64_t peak = 0, ooms = 0;
	int r;

	if (cg->v1[CGROUP_MEMORY]) {
		uint64_t sockets = 0;

		if ((r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.max_usage_in_bytes", NULL, &peak)) < 0)
			return r;
		/* v1 charges socket buffers to a counter of their own (v2
		 * counts them in memory.peak): the sum of the two peaks */
		r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.kmem.tcp.max_usage_in_bytes", NULL,
				  &sockets);
		if (r < 0 && r != -ENOENT)
			return r;
		peak += sockets;
		r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.oom_control", "oom_kill", &ooms);
		if (r < 0 && r != -ENOENT) /* oom_kill appeared in 4.13 */
			return r;
	} else if (cg->v2_memory) {
		r = read_u64_file(cg->unified, "memory.peak", NULL, &peak);
		if (r < 0 && r != -ENOENT) /* memory.peak appeared in 5.19 */
			return r;
		r = read_u64_file(cg->unified, "memory.events", "oom_kill", &ooms);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	*peak_bytes = peak;
	*oom_kills = ooms;
	return 0;
}

int cgroup_read_memory_now(const struct jail_cgroup *cg, uint64_t *current_bytes, uint64_t *peak_bytes)
{
	uint64_t current = 0, sockets = 0;
	uint64_t oom;
	int r;

	if (cg->v1[CGROUP_MEMORY]) {
		if ((r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.usage_in_bytes", NULL, &current)) < 0)
			return r;
		/* socket buffers: a counter of their own on v1 (see above) */
		r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.kmem.tcp.usage_in_bytes", NULL, &sockets);
		if (r < 0 && r != -ENOENT)
			return r;
		current += sockets;
	} else if (cg->v2_memory) {
		if ((r = read_u64_file(cg->unified, "memory.current", NULL, &current)) < 0)
			return r;
	}
	*current_bytes = current;
	return cgroup_read_memory(cg, peak_bytes, &oom);
}
