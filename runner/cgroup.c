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
 * (building the handle), attach, kill, the cpu/memory reads, destroy, close,
 * the parent-level ops (remove_parent, list_children) and the supervisor's
 * own subtree on pure v2 (supervisor_enter, supervisor_leave).
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
#include <stdarg.h>
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

/* ---- the supervisor's subtree (pure v2) ---------------------------- */

/* What cgroup_supervisor_enter() did, for cgroup_supervisor_leave(). */
static struct {
	bool entered;
	bool made_base;             /* the base is ours (made below the root cgroup) */
	bool in_leaf;               /* started in its leaf (an earlier image entered) */
	unsigned enabled;           /* controllers we enabled in the base's subtree_control */
	char origin[PATH_MAX];      /* host path of the cgroup we were started in */
	char base[PATH_MAX];        /* host path of the subtree's top */
	char leaf[PATH_MAX + 64];   /* host path of our own leaf below it */
	char base_cgroup[PATH_MAX]; /* the base as a cgroup path ("/corrald") */
} place;

/* snprintf into a path buffer: 0, or -ENAMETOOLONG when it does not fit. */
static int __attribute__((format(printf, 3, 4))) path_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* "+memory +pids +cpu" (sign '+') or "-memory ..." for the controllers in mask. */
static void controller_list(unsigned mask, char sign, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (mask & (1u << c))
			len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%c%s",
						len ? " " : "", sign, cgroup_controller_name(c));
}

/* The processes in dir/cgroup.procs other than ours, as "pid comm, ..."
 * (at most a few) in out.  Their number, or -errno. */
static int other_processes(const char *dir, char *out, size_t size)
{
	char path[PATH_MAX + 64], buf[8192];
	int others = 0;
	size_t len = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	ssize_t n = cgroup_read_text(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (char *p = buf; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end + (*end == '\n');
		if (pid == (long)getpid())
			continue;
		if (++others <= 2) {
			char comm_path[64], comm[64] = "?";
			snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", pid);
			if (cgroup_read_text(comm_path, comm, sizeof(comm)) > 0)
				comm[strcspn(comm, "\n")] = '\0';
			len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%ld %s",
						len ? ", " : "", pid, comm);
		}
	}
	if (others > 2 && len < size)
		snprintf(out + len, size - len, ", ...");
	return others;
}

/* Enable mask in dir's cgroup.subtree_control (what is missing of it);
 * *added gets what we turned on. */
static int enable_in(const char *dir, unsigned mask, unsigned *added, struct jail_error *err)
{
	char file[PATH_MAX + 64], have[256], want[128];

	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
	ssize_t n = cgroup_read_text(file, have, sizeof(have));
	if (n < 0)
		return jail_error_set(err, (int)-n, "cgroup_supervisor", "read %s", file);
	unsigned missing = mask & ~cgroup_layout_parse_controllers(have);
	if (added)
		*added = missing;
	if (!missing)
		return 0;
	controller_list(missing, '+', want, sizeof(want));
	int r = cgroup_write_text(file, want);
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_supervisor", "enable the controllers \"%s\" in %s",
				      want, file);
	return 0;
}

int cgroup_supervisor_enter(const char *leaf, const char *subtree, const char *jails_parent,
			    const char **base_cgroup, struct jail_error *err)
{
	const struct cgroup_layout *layout;
	char rel[PATH_MAX], path[PATH_MAX + 64], others[512], value[32];
	int r;

	*base_cgroup = NULL;
	if ((r = cgroup_layout_get(&layout, err)) < 0)
		return r;
	/* only where limits live in the unified tree (pure v2): there a cgroup
	 * with processes cannot hand controllers to its children */
	unsigned mask = 0;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (c != CGROUP_CPUACCT && cgroup_layout_home(layout, c) == CGROUP_HOME_V2)
			mask |= 1u << c;
	if (!mask)
		return 0;
	if (place.entered)
		return jail_error_set(err, EALREADY, "cgroup_supervisor", "already in %s", place.leaf);
	if ((r = cgroup_layout_relative(&layout->unified, NULL, NULL, rel, sizeof(rel))) < 0)
		return jail_error_set(err, -r, "cgroup_supervisor",
				      "place our cgroup %s inside the cgroup2 mount %s", layout->unified.own,
				      layout->unified.mount);
	if (path_format(place.origin, sizeof(place.origin), "%s%s%s", layout->unified.mount, *rel ? "/" : "",
			rel) < 0)
		return jail_error_set(err, ENAMETOOLONG, "cgroup_supervisor", "cgroup %s", rel);

	/* Already in a leaf of that name below a cgroup that is not the root
	 * (a supervisor that executed itself again, in place, at a handover):
	 * the subtree is that parent, as the first image chose, and relative
	 * jail parents resolve below it, where its jails still are. */
	char own[PATH_MAX];
	bool in_leaf = false;
	snprintf(own, sizeof(own), "%s", layout->unified.own);
	{
		char *last = strrchr(own, '/');

		if (last && last != own && strcmp(last + 1, leaf) == 0) {
			*last = '\0';
			*strrchr(place.origin, '/') = '\0';
			in_leaf = true;
		}
	}

	/* The real root cgroup (it alone has no cgroup.type) may hold processes
	 * and enable controllers at once, but it is everybody's: make a subtree
	 * of our own below it.  Any other cgroup must hold nobody but us (a
	 * delegated one: systemd's Delegate=yes), and becomes the subtree. */
	snprintf(path, sizeof(path), "%s/cgroup.type", place.origin);
	bool at_root = access(path, F_OK) < 0 && errno == ENOENT;
	if (at_root) {
		if (snprintf(place.base, sizeof(place.base), "%s/%s", place.origin, subtree) >=
		    (int)sizeof(place.base))
			return jail_error_set(err, ENAMETOOLONG, "cgroup_supervisor", "cgroup %s/%s",
					      place.origin, subtree);
		if (mkdir(place.base, 0755) < 0 && errno != EEXIST)
			return jail_error_set(err, errno, "cgroup_supervisor",
					      "create the supervisor's cgroup subtree %s", place.base);
		if (path_format(place.base_cgroup, sizeof(place.base_cgroup), "%s/%s",
				strcmp(own, "/") ? own : "", subtree) < 0)
			return jail_error_set(err, ENAMETOOLONG, "cgroup_supervisor", "cgroup %s", subtree);
	} else {
		r = other_processes(place.origin, others, sizeof(others));
		if (r < 0)
			return jail_error_set(err, -r, "cgroup_supervisor", "read %s/cgroup.procs",
					      place.origin);
		if (r > 0) /* short enough for jail_error's 320 bytes */
			return jail_error_set(
				err, EBUSY, "cgroup_supervisor",
				"%s holds %d other process%s (%s): on cgroup v2 only a cgroup without "
				"processes can give controllers to children; start corrald under systemd "
				"with Delegate=yes (service, or systemd-run --scope) or from the root cgroup",
				place.origin, r, r == 1 ? "" : "es", others);
		snprintf(place.base, sizeof(place.base), "%s", place.origin);
		snprintf(place.base_cgroup, sizeof(place.base_cgroup), "%s", own);
	}

	/* controllers our cgroup is not given cannot be had below it */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", place.origin);
	char have[256];
	ssize_t n = cgroup_read_text(path, have, sizeof(have));
	if (n < 0)
		return jail_error_set(err, (int)-n, "cgroup_supervisor", "read %s", path);
	unsigned lacking = mask & ~cgroup_layout_parse_controllers(have);
	if (lacking) {
		controller_list(lacking, ' ', value, sizeof(value));
		return jail_error_set(
			err, ENODEV, "cgroup_supervisor",
			"the controllers%s are not available in %s (its parent does not enable them "
			"in cgroup.subtree_control): give the supervisor a delegated cgroup "
			"(systemd: Delegate=yes)",
			value, path);
	}

	snprintf(place.leaf, sizeof(place.leaf), "%s/%s", place.base, leaf);
	if (mkdir(place.leaf, 0755) < 0 && errno != EEXIST)
		return jail_error_set(err, errno, "cgroup_supervisor", "create our leaf cgroup %s",
				      place.leaf);
	if ((r = path_format(path, sizeof(path), "%s/cgroup.procs", place.leaf)) < 0 ||
	    (r = cgroup_write_text(path, "0")) < 0)
		return jail_error_set(err, -r, "cgroup_supervisor", "move ourselves into %s", place.leaf);
	place.entered = true;
	place.in_leaf = in_leaf;
	place.made_base = at_root;
	if (at_root && (r = enable_in(place.origin, mask, NULL, err)) < 0)
		return r;
	if ((r = enable_in(place.base, mask, &place.enabled, err)) < 0) {
		if (err && err->err == EBUSY)
			jail_error_set(err, EBUSY, "cgroup_supervisor",
				       "enable controllers in %s/cgroup.subtree_control: a process of its "
				       "own is there (started into it after us?); the supervisor needs "
				       "the cgroup to itself",
				       place.base);
		return r;
	}
	/* from now on relative jail parents are below the subtree */
	if ((at_root || in_leaf) && (r = cgroup_layout_set_own(place.base_cgroup)) < 0)
		return jail_error_set(err, -r, "cgroup_supervisor", "use %s as our cgroup",
				      place.base_cgroup);

	/* the jails' parent, with the controllers enabled for the jails, now:
	 * a problem is better said at start than at the first task */
	if (jails_parent) {
		char probe[PATH_MAX];
		if (snprintf(probe, sizeof(probe), "%s/x", jails_parent) >= (int)sizeof(probe) ||
		    cgroup_layout_relative(&layout->unified, probe, NULL, rel, sizeof(rel)) < 0)
			return jail_error_set(err, EINVAL, "cgroup_supervisor", "bad cgroup parent %s",
					      jails_parent);
		if (path_format(path, sizeof(path), "%s/%s", layout->unified.mount, rel) < 0)
			return jail_error_set(err, ENAMETOOLONG, "cgroup_supervisor", "cgroup %s", rel);
		if ((r = cgroup_v2_enable_controllers(layout, path, mask, err)) < 0)
			return r;
	}
	*base_cgroup = place.base_cgroup;
	return 1;
}

/* Does dir have a sub-cgroup other than skip? */
static bool has_other_children(const char *dir, const char *skip)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!dp)
		return false;
	while (!found && (e = readdir(dp)))
		found = e->d_type == DT_DIR && e->d_name[0] != '.' && strcmp(e->d_name, skip) != 0;
	closedir(dp);
	return found;
}

int cgroup_supervisor_leave(struct jail_error *err)
{
	char path[PATH_MAX + 64], list[128];
	const char *leaf_name;
	int r;

	/* started in its leaf: where the first image came from is unknown, and
	 * the cgroup above gives controllers to children (no process may
	 * enter it): stay, as the first image's cgroups do */
	if (!place.entered || place.in_leaf)
		return 0;
	leaf_name = strrchr(place.leaf, '/') + 1;
	if (has_other_children(place.base, leaf_name))
		return jail_error_set(err, EBUSY, "cgroup_supervisor",
				      "%s still has jail cgroups: left in place", place.base);
	/* A cgroup whose subtree_control has controllers accepts no processes
	 * (but the root): take back what we enabled before moving back. */
	if (!place.made_base && place.enabled) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", place.base);
		controller_list(place.enabled, '-', list, sizeof(list));
		if ((r = cgroup_write_text(path, list)) < 0)
			return jail_error_set(err, -r, "cgroup_supervisor", "write \"%s\" to %s", list, path);
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", place.origin);
	if ((r = cgroup_write_text(path, "0")) < 0)
		return jail_error_set(err, -r, "cgroup_supervisor", "move ourselves back into %s",
				      place.origin);
	place.entered = false;
	/* another supervisor may share the subtree (EBUSY): it stays */
	if (rmdir(place.leaf) < 0 && errno != EBUSY && errno != ENOENT)
		return jail_error_set(err, errno, "cgroup_supervisor", "remove %s", place.leaf);
	if (place.made_base && rmdir(place.base) < 0 && errno != EBUSY && errno != ENOENT &&
	    errno != ENOTEMPTY)
		return jail_error_set(err, errno, "cgroup_supervisor", "remove %s", place.base);
	return 1;
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
