/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup.c — one jail's cgroup on pure cgroup v2 and on hybrid hosts.
 *
 * The unified (cgroup2) tree is always used: it gives the jail's membership
 * (clone3 CLONE_INTO_CGROUP into cgroup_dir_fd()), cgroup.kill,
 * cgroup.events and cpu.stat.  On pure v2 hosts the limits go there too
 * (memory.max, memory.swap.max, pids.max, cpu.max).  On hybrid hosts the
 * limits live in the v1 memory, pids and cpu(+cpuacct) hierarchies.  All of
 * it is direct mkdir, write and rmdir below the mount points found once per
 * process (libcgroup, used for v1 before, cannot create in the unified tree
 * of a hybrid host, has no API for cgroup.kill, cgroup.events or a
 * directory fd, and its cgroup_init() cost every corral-run ~0.4 ms).
 *
 * This file: the runner/cgroup.h API — creating and opening a jail's cgroup
 * (building the handle), attach, kill, destroy, close and the parent-level
 * ops (remove_parent, list_children).  The CPU and memory reads are in
 * runner/cgroup_read.c; the supervisor's own subtree on pure v2
 * (supervisor_enter, supervisor_leave) in runner/cgroup_supervisor.c.
 * Layout discovery (mounts, the caller's own cgroups), run once per process,
 * and the shared file helpers are in runner/cgroup_discover.c (the parsing
 * itself is pure and lives in runner/cgroup_layout.c); the v1 steps in
 * runner/cgroup_v1.c, the unified-tree writes in runner/cgroup_v2.c.
 *
 * Nothing here runs in the jail's child.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup_internal.h"

#define DESTROY_TIMEOUT_MS 2000

/* ---- building a handle ----------------------------------------------- */

static struct jail_cgroup *handle_new(void)
{
	struct jail_cgroup *cg = calloc(1, sizeof(*cg));
	if (cg)
		cg->dir_fd = cg->events_fd = -1;
	return cg;
}

static void handle_free(struct jail_cgroup *cg)
{
	if (!cg)
		return;
	if (cg->dir_fd >= 0)
		close(cg->dir_fd);
	if (cg->events_fd >= 0)
		close(cg->events_fd);
	free(cg->unified);
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		free(cg->v1[c]);
	}
	free(cg);
}

static int bad_path_error(struct jail_error *err, int r, const char *parent, const char *name)
{
	if (r == -ENOENT)
		return jail_error_set(
			err, ENOENT, "cgroup_path",
			"place cgroup %s/%s: the caller's own cgroup is unknown or outside the mount",
			parent ? parent : "", name);
	return jail_error_set(
		err, -r, "cgroup_path",
		"bad cgroup parent or name \"%s\" / \"%s\" (no \"..\", \".\" or '/' in the name)",
		parent ? parent : "", name ? name : "(null)");
}

/* Fill cg->unified with the unified leaf's host path. */
static int handle_set_unified(struct jail_cgroup *cg, const struct cgroup_layout *layout, const char *parent,
			      const char *name, struct jail_error *err)
{
	char rel[PATH_MAX];
	int r = cgroup_layout_relative(&layout->unified, parent, name, rel, sizeof(rel));
	if (r < 0)
		return bad_path_error(err, r, parent, name);
	cg->unified = cgroup_path_join(layout->unified.mount, rel);
	if (!cg->unified)
		return jail_error_set(err, ENOMEM, "cgroup_path", "allocate path for %s", name);
	if (strlen(cg->unified) > LEAF_PATH_MAX)
		return jail_error_set(err, ENAMETOOLONG, "cgroup_path", "cgroup path %s", cg->unified);
	return 0;
}

/* Fill cg->v1[c] unless another used controller shares its mount. */
static int handle_set_v1(struct jail_cgroup *cg, const struct cgroup_layout *layout, enum cgroup_ctl c,
			 const char *parent, const char *name, struct jail_error *err)
{
	const struct cgroup_hierarchy *h = &layout->v1[c];
	char rel[PATH_MAX];

	for (int o = 0; o < CGROUP_N_CONTROLLERS; o++)
		if (o != (int)c && cg->v1[o] && strcmp(layout->v1[o].mount, h->mount) == 0)
			return 0; /* co-mounted (cpu,cpuacct): one directory serves both */
	int r = cgroup_layout_relative(h, parent, name, rel, sizeof(rel));
	if (r < 0)
		return bad_path_error(err, r, parent, name);
	cg->v1[c] = cgroup_path_join(h->mount, rel);
	if (!cg->v1[c])
		return jail_error_set(err, ENOMEM, "cgroup_path", "allocate path for %s", name);
	if (strlen(cg->v1[c]) > LEAF_PATH_MAX)
		return jail_error_set(err, ENAMETOOLONG, "cgroup_path", "cgroup path %s", cg->v1[c]);
	return 0;
}

static int handle_open_fds(struct jail_cgroup *cg, struct jail_error *err)
{
	cg->dir_fd = open(cg->unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dir_fd < 0)
		return jail_error_set(err, errno, "cgroup_open", "open cgroup directory %s", cg->unified);
	cg->events_fd = openat(cg->dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (cg->events_fd < 0)
		return jail_error_set(err, errno, "cgroup_open", "open %s/cgroup.events", cg->unified);
	return 0;
}

/* ---- creating -------------------------------------------------------- */

int cgroup_create(const char *parent, const char *name, const struct cgroup_limits *limits,
		  struct jail_cgroup **out, struct jail_error *err)
{
	static const struct cgroup_limits no_limits;
	const struct cgroup_layout *layout;
	bool unified_made = false;
	int r;

	*out = NULL;
	if (!limits)
		limits = &no_limits;
	if ((r = cgroup_layout_get(&layout, err)) < 0)
		return r;
	if ((r = cgroup_layout_check_limits(layout, limits->memory_bytes, limits->pids_max,
					    limits->cpu_millis, err)) < 0)
		return r;

	struct jail_cgroup *cg = handle_new();
	if (!cg)
		return jail_error_set(err, ENOMEM, "cgroup_create", "allocate cgroup %s", name);
	if ((r = handle_set_unified(cg, layout, parent, name, err)) < 0)
		goto fail;

	/* v1 on hybrid: memory and pids always (peak memory, OOM count), cpu and
	 * cpuacct only for a quota */
	unsigned v1_used = 0;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		bool use = c == CGROUP_MEMORY || c == CGROUP_PIDS || limits->cpu_millis > 0;
		if (use && cgroup_layout_home(layout, c) == CGROUP_HOME_V1) {
			if ((r = handle_set_v1(cg, layout, c, parent, name, err)) < 0)
				goto fail;
			v1_used |= 1u << c;
		}
	}
	/* v2: memory and pids whenever available, cpu only for a quota */
	unsigned v2_mask = 0;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		bool use = c == CGROUP_MEMORY || c == CGROUP_PIDS ||
			(c == CGROUP_CPU && limits->cpu_millis > 0);
		if (use && cgroup_layout_home(layout, c) == CGROUP_HOME_V2)
			v2_mask |= 1u << c;
	}
	cg->v2_memory = v2_mask & (1u << CGROUP_MEMORY);

	if (v2_mask && (r = cgroup_v2_enable_controllers(layout, cg->unified, v2_mask, err)) < 0)
		goto fail;

	/* The unified leaf is the name's lock: mkdir is atomic, so of two
	 * creators of the same name exactly one gets here. */
	r = cgroup_mkdir_leaf(cg->unified);
	if (r == -EEXIST) {
		r = jail_error_set(
			err, EEXIST, "cgroup_create",
			"cgroup %s exists already (a jail of that name runs, or was not cleaned up)",
			cg->unified);
		goto fail;
	}
	if (r < 0) {
		r = jail_error_set(err, -r, "cgroup_create", "create cgroup %s", cg->unified);
		goto fail;
	}
	unified_made = true;
	if ((r = handle_open_fds(cg, err)) < 0)
		goto fail;
	if ((r = cgroup_v2_set_limits(cg, layout, limits, err)) < 0)
		goto fail;

	if (v1_used && (r = cgroup_v1_create(cg, limits, err)) < 0)
		goto fail;
	*out = cg;
	return 0;

fail:
	if (unified_made) {
		cgroup_v1_remove(cg, NULL);
		rmdir(cg->unified);
	}
	handle_free(cg);
	return r;
}

int cgroup_open(const char *parent, const char *name, struct jail_cgroup **out, struct jail_error *err)
{
	const struct cgroup_layout *layout;
	int r;

	*out = NULL;
	if ((r = cgroup_layout_get(&layout, err)) < 0)
		return r;
	struct jail_cgroup *cg = handle_new();
	if (!cg)
		return jail_error_set(err, ENOMEM, "cgroup_open", "allocate cgroup %s", name);
	if ((r = handle_set_unified(cg, layout, parent, name, err)) < 0)
		goto fail;
	if ((r = handle_open_fds(cg, err)) < 0)
		goto fail;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (cgroup_layout_home(layout, c) != CGROUP_HOME_V1)
			continue;
		if ((r = handle_set_v1(cg, layout, c, parent, name, err)) < 0)
			goto fail;
		if (cg->v1[c] && access(cg->v1[c], F_OK) < 0) {
			free(cg->v1[c]);
			cg->v1[c] = NULL;
		}
	}
	if (cgroup_layout_home(layout, CGROUP_MEMORY) == CGROUP_HOME_V2) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/memory.events", cg->unified);
		cg->v2_memory = access(path, F_OK) == 0;
	}
	*out = cg;
	return 0;
fail:
	handle_free(cg);
	return r;
}

/* ---- using ----------------------------------------------------------- */

int cgroup_dir_fd(const struct jail_cgroup *cg)
{
	return cg->dir_fd;
}

int cgroup_events_fd(const struct jail_cgroup *cg)
{
	return cg->events_fd;
}

const char *cgroup_path(const struct jail_cgroup *cg)
{
	return cg->unified;
}

/* cgroup.procs moves the whole process ("tasks" would move one thread). */
int cgroup_attach(struct jail_cgroup *cg, pid_t pid, bool in_unified, struct jail_error *err)
{
	char value[32], path[PATH_MAX + 64];
	int r;

	snprintf(value, sizeof(value), "%d", (int)pid);
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c])
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->v1[c]);
		if ((r = cgroup_write_text(path, value)) < 0)
			return jail_error_set(err, -r, "cgroup_attach", "move pid %d into %s", (int)pid,
					      path);
	}
	return in_unified ? cgroup_attach_unified(cg, pid, err) : 0;
}

int cgroup_open_v1_tasks(const struct jail_cgroup *cg, int *fds, size_t max, size_t *n,
			 struct jail_error *err)
{
	char path[PATH_MAX + 64];

	*n = 0;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		int fd;

		if (!cg->v1[c])
			continue;
		snprintf(path, sizeof(path), "%s/tasks", cg->v1[c]);
		fd = *n < max ? open(path, O_WRONLY | O_CLOEXEC) : -1;
		if (fd < 0) {
			int e = *n < max ? errno : E2BIG;

			while (*n > 0)
				close(fds[--*n]);
			return jail_error_set(err, e, "cgroup_attach", "open %s", path);
		}
		fds[(*n)++] = fd;
	}
	return 0;
}

int cgroup_attach_unified(struct jail_cgroup *cg, pid_t pid, struct jail_error *err)
{
	char value[32], path[PATH_MAX + 64];
	int r;

	snprintf(value, sizeof(value), "%d", (int)pid);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->unified);
	if ((r = cgroup_write_text(path, value)) < 0)
		return jail_error_set(err, -r, "cgroup_attach", "move pid %d into %s", (int)pid, path);
	return 0;
}

int cgroup_populated(const struct jail_cgroup *cg)
{
	char buf[256];
	uint64_t populated;
	ssize_t n;

	if (cg->events_fd >= 0) {
		n = pread(cg->events_fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return -errno;
		buf[n] = '\0';
	} else {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/cgroup.events", cg->unified);
		if ((n = cgroup_read_text(path, buf, sizeof(buf))) < 0)
			return (int)n;
	}
	int r = cgroup_parse_keyed(buf, "populated", &populated);
	if (r < 0)
		return r == -ENOENT ? -EPROTO : r;
	return populated ? 1 : 0;
}

int cgroup_kill(struct jail_cgroup *cg)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/cgroup.kill", cg->unified);
	int r = cgroup_write_text(path, "1");
	if (r == -ENOENT && access(cg->unified, F_OK) == 0)
		return cgroup_kill_by_pid_list(cg);
	return r;
}

/* ---- removing -------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until cgroup.events says "populated 0".  The kernel rate-limits
 * cgroup file notifications (one per 10 ms per file), so after a recent
 * "populated 1" the POLLPRI for "populated 0" comes 10-15 ms late although
 * the cgroup empties within ~1 ms of cgroup.kill: poll with a short
 * backoff timeout (100 us doubling to 5 ms) and re-read each time.
 * -EBUSY after timeout_ms. */
static int wait_empty(const struct jail_cgroup *cg, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	long slice_ns = 100000;

	for (;;) {
		int r = cgroup_populated(cg);
		if (r <= 0)
			return r;
		if (now_ms() >= deadline)
			return -EBUSY;
		struct timespec slice = { 0, slice_ns };
		if (cg->events_fd >= 0) {
			struct pollfd pfd = { .fd = cg->events_fd, .events = POLLPRI };
			ppoll(&pfd, 1, &slice, NULL);
		} else {
			nanosleep(&slice, NULL);
		}
		if (slice_ns < 5000000)
			slice_ns *= 2;
	}
}

int cgroup_destroy(struct jail_cgroup *cg, struct jail_error *err)
{
	int r;

	if (!cg)
		return 0;
	if (access(cg->unified, F_OK) == 0) {
		r = cgroup_kill(cg);
		if (r < 0 && r != -ENOENT) {
			r = jail_error_set(err, -r, "cgroup_kill", "kill the processes of %s", cg->unified);
			goto out;
		}
		r = wait_empty(cg, DESTROY_TIMEOUT_MS);
		if (r == -EBUSY) {
			r = jail_error_set(
				err, EBUSY, "cgroup_destroy",
				"cgroup %s still has processes %d ms after cgroup.kill (stuck in the kernel?); "
				"left in place",
				cg->unified, DESTROY_TIMEOUT_MS);
			goto out;
		}
		if (r < 0 && r != -ENOENT) {
			r = jail_error_set(err, -r, "cgroup_destroy", "read %s/cgroup.events", cg->unified);
			goto out;
		}
	}
	/* v1 first, the unified leaf (the name's lock) last */
	if ((r = cgroup_v1_remove(cg, err)) < 0)
		goto out;
	int e = cgroup_rmdir_leaf(cg->unified, 200);
	if (e < 0) {
		r = jail_error_set(err, -e, "cgroup_destroy", "remove cgroup %s", cg->unified);
		goto out;
	}
	r = 0;
out:
	handle_free(cg);
	return r;
}

void cgroup_close(struct jail_cgroup *cg)
{
	handle_free(cg);
}

int cgroup_remove_parent(const char *parent)
{
	const struct cgroup_layout *layout;
	char rel[PATH_MAX], dir[2 * PATH_MAX + 2];
	int r = cgroup_layout_get(&layout, NULL), removed = 0;

	if (r < 0)
		return r;
	/* the unified tree and every v1 hierarchy jails use; a parent that still
	 * has jails (EBUSY, ENOTEMPTY) or is gone already is left alone */
	for (int c = -1; c < CGROUP_N_CONTROLLERS; c++) {
		const struct cgroup_hierarchy *h = c < 0 ? &layout->unified : &layout->v1[c];

		if (!h->mounted || cgroup_layout_relative(h, parent, NULL, rel, sizeof(rel)) < 0 || !*rel)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", h->mount, rel);
		if (rmdir(dir) == 0)
			removed++;
	}
	return removed;
}

int cgroup_list_children(const char *parent, char ***names, size_t *n)
{
	const struct cgroup_layout *layout;
	char rel[PATH_MAX], dir[2 * PATH_MAX + 2];
	struct dirent *e;
	DIR *dp;
	int r = cgroup_layout_get(&layout, NULL);

	*names = NULL;
	*n = 0;
	if (r < 0)
		return r;
	r = cgroup_layout_relative(&layout->unified, parent, NULL, rel, sizeof(rel));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/%s", layout->unified.mount, rel);
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dp))) {
		char **grown;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		grown = realloc(*names, (*n + 1) * sizeof(**names));
		if (!grown || !(grown[*n] = strdup(e->d_name))) {
			*names = grown ? grown : *names;
			closedir(dp);
			return -ENOMEM;
		}
		*names = grown;
		(*n)++;
	}
	closedir(dp);
	return 0;
}
