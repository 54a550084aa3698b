/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_v2.c — writes to the unified (cgroup2) tree: creating and
 * removing a leaf directory (the v1 leaves use the same two), enabling
 * controllers in cgroup.subtree_control down to it, the pure-v2 limits
 * (memory.max, memory.swap.max, pids.max, cpu.max), and killing by
 * cgroup.procs where cgroup.kill is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup_internal.h"

/* mkdir path; when its parent is missing, create the parents first (below
 * the mount point, which exists) and try again: a concurrent remover of an
 * empty shared parent (a test's teardown) may race us, so a few times.
 * EEXIST of path itself is returned. */
int cgroup_mkdir_leaf(const char *path)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (mkdir(path, 0755) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
		char *copy = strdup(path);
		if (!copy)
			return -ENOMEM;
		/* usually only the parent is missing (corral-run removes its
		 * empty parent at exit): that one mkdir, not one per level */
		char *last = strrchr(copy, '/');
		if (last && last != copy) {
			*last = '\0';
			int made = mkdir(copy, 0755) == 0 || errno == EEXIST;
			*last = '/';
			if (made) {
				free(copy);
				continue;
			}
		}
		for (char *p = strchr(copy + 1, '/'); p; p = strchr(p + 1, '/')) {
			*p = '\0';
			if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
				int e = errno;
				free(copy);
				return -e;
			}
			*p = '/';
		}
		free(copy);
	}
	return mkdir(path, 0755) == 0 ? 0 : -errno;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rmdir path, empty ones only (rmdir never moves tasks anywhere); a process
 * on its way out may hold it a moment longer (EBUSY): retry each ms for up
 * to timeout_ms.  Gone already counts as removed. */
int cgroup_rmdir_leaf(const char *path, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (rmdir(path) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || now_ms() > deadline)
			return -errno;
		struct timespec pause = { 0, 1000000 };
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* Pure v2: the controllers must be enabled in cgroup.subtree_control of the
 * caller's own cgroup (for an absolute parent elsewhere: of the mount's top)
 * and of every intermediate cgroup down to the leaf's parent.  Enabling in a cgroup that holds processes fails with EBUSY (the
 * "no internal processes" rule). */
int cgroup_v2_enable_controllers(const struct cgroup_layout *layout, const char *leaf, unsigned mask,
				 struct jail_error *err)
{
	char own_rel[PATH_MAX];
	char dir[PATH_MAX + 64];
	int r = cgroup_layout_relative(&layout->unified, NULL, NULL, own_rel, sizeof(own_rel));
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_enable", "find own cgroup %s", layout->unified.own);
	int own_len = snprintf(dir, sizeof(dir), "%s%s%s", layout->unified.mount, *own_rel ? "/" : "",
			       own_rel);
	const char *last_slash = strrchr(leaf, '/');
	size_t parent_len = (size_t)(last_slash - leaf);
	if (own_len < 0 || parent_len >= sizeof(dir))
		return 0;
	if ((size_t)own_len > parent_len || strncmp(leaf, dir, (size_t)own_len) != 0 ||
	    leaf[own_len] != '/') {
		/* an absolute parent outside our own cgroup: the operator named
		 * that path, so enable along it from the top of the mount */
		own_len = (int)strlen(layout->unified.mount);
		if ((size_t)own_len > parent_len ||
		    strncmp(leaf, layout->unified.mount, (size_t)own_len) != 0 || leaf[own_len] != '/')
			return 0;
		memcpy(dir, leaf, (size_t)own_len);
		dir[own_len] = '\0';
	}

	size_t len = (size_t)own_len;
	for (;;) {
		memcpy(dir, leaf, len);
		dir[len] = '\0';
		if (len > (size_t)own_len && mkdir(dir, 0755) < 0 && errno != EEXIST)
			return jail_error_set(err, errno, "cgroup_mkdir", "create cgroup %s", dir);

		char file[PATH_MAX + 128], have[256], want[128] = "";
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
		ssize_t n = cgroup_read_text(file, have, sizeof(have));
		if (n < 0)
			return jail_error_set(err, (int)-n, "cgroup_enable", "read %s", file);
		unsigned missing = mask & ~cgroup_layout_parse_controllers(have);
		for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
			if (missing & (1u << c)) {
				strcat(want, *want ? " +" : "+");
				strcat(want, cgroup_controller_name(c));
			}
		if (*want) {
			r = cgroup_write_text(file, want);
			if (r == -EBUSY)
				return jail_error_set(
					err, EBUSY, "cgroup_enable",
					"enable \"%s\" in %s: the cgroup has processes of its own; "
					"the supervisor must run in its own leaf cgroup (systemd: Delegate=yes, "
					"and move it to a \"supervisor\" sub-cgroup)",
					want, file);
			if (r < 0)
				return jail_error_set(err, -r, "cgroup_enable", "write \"%s\" to %s", want,
						      file);
		}
		if (len >= parent_len)
			return 0;
		const char *next = strchr(leaf + len + 1, '/');
		len = next && (size_t)(next - leaf) <= parent_len ? (size_t)(next - leaf) : parent_len;
	}
}

static int write_limit(const char *dir, const char *file, const char *value, bool optional,
		       struct jail_error *err)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = cgroup_write_text(path, value);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_limit", "write \"%s\" to %s", value, path);
	return 0;
}

int cgroup_v2_set_limits(const struct jail_cgroup *cg, const struct cgroup_layout *layout,
			 const struct cgroup_limits *limits, struct jail_error *err)
{
	char value[64];
	int r;

	if (limits->memory_bytes && cgroup_layout_home(layout, CGROUP_MEMORY) == CGROUP_HOME_V2) {
		snprintf(value, sizeof(value), "%" PRIu64, limits->memory_bytes);
		if ((r = write_limit(cg->unified, "memory.max", value, false, err)) < 0)
			return r;
		/* memory.swap.max is absent when swap accounting is off: no swap to limit */
		if ((r = write_limit(cg->unified, "memory.swap.max", "0", true, err)) < 0)
			return r;
	}
	if (limits->pids_max && cgroup_layout_home(layout, CGROUP_PIDS) == CGROUP_HOME_V2) {
		snprintf(value, sizeof(value), "%" PRIu64, limits->pids_max);
		if ((r = write_limit(cg->unified, "pids.max", value, false, err)) < 0)
			return r;
	}
	if (limits->cpu_millis && cgroup_layout_home(layout, CGROUP_CPU) == CGROUP_HOME_V2) {
		cgroup_layout_cpu_max(limits->cpu_millis, value, sizeof(value));
		if ((r = write_limit(cg->unified, "cpu.max", value, false, err)) < 0)
			return r;
	}
	return 0;
}

/* Without cgroup.kill (kernel < 5.14): SIGKILL every pid in cgroup.procs,
 * again and again until the list is empty (processes may fork while we
 * read).  Bounded; what is still there afterwards is cgroup_destroy()'s
 * EBUSY.  No freezer: v2's cgroup.freeze would do, but 5.14+ has kill. */
int cgroup_kill_by_pid_list(const struct jail_cgroup *cg)
{
	char path[PATH_MAX + 64];
	size_t size = 4096;
	char *buf = NULL;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->unified);
	for (int pass = 0; pass < 100; pass++) {
		char *grown = realloc(buf, size);
		if (!grown) {
			free(buf);
			return -ENOMEM;
		}
		buf = grown;
		ssize_t n = cgroup_read_text(path, buf, size);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if ((size_t)n + 1 >= size) {
			size *= 4;
			pass--;
			continue;
		}
		if (n == 0)
			break;
		for (char *p = buf; *p;) {
			char *end;
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			p = end + (*end == '\n');
		}
		struct timespec pause = { 0, 1000000 };
		nanosleep(&pause, NULL);
	}
	free(buf);
	return 0;
}
