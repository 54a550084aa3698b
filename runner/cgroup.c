/*
 * runner/cgroup.c — one jail's cgroup on pure cgroup v2 and on hybrid hosts.
 *
 * The unified (cgroup2) tree is always used: it gives the jail's membership
 * (clone3 CLONE_INTO_CGROUP into cgroup_dir_fd()), cgroup.kill,
 * cgroup.events and cpu.stat.  On pure v2 hosts the limits go there too
 * (memory.max, memory.swap.max, pids.max, cpu.max).  On hybrid hosts the
 * limits live in the v1 memory, pids and cpu(+cpuacct) hierarchies, which
 * are created, limited and removed through libcgroup; libcgroup cannot
 * create in the unified tree of a hybrid host and has no API for cgroup.kill,
 * cgroup.events or a directory fd, so the unified part is direct file I/O.
 *
 * Layout discovery (mounts, the caller's own cgroups) runs once per process;
 * the parsing itself is pure and lives in runner/cgroup_layout.c.
 *
 * Nothing here runs in the jail's child.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup.h"
#include "runner/cgroup_layout.h"

#define DESTROY_TIMEOUT_MS 2000

struct jail_cgroup {
	char *unified;                       /* host path of the unified leaf */
	char *v1[CGROUP_N_CONTROLLERS];      /* host path of each v1 leaf, NULL if unused */
	char *v1_rel[CGROUP_N_CONTROLLERS];  /* the same below its mount point (libcgroup's name) */
	bool v2_memory;                      /* memory controller enabled in the unified leaf */
	int dir_fd;
	int events_fd;
};

/* ---- file helpers ---------------------------------------------------- */

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return r;
}

/* Read up to size-1 bytes of path into buf, NUL-terminated.  Bytes or -errno. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	return (ssize_t)off;
}

/* The whole file, malloc'd (for /proc files of unknown size). */
static int read_whole(const char *path, char **out)
{
	size_t size = 16384;
	for (;;) {
		char *buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		ssize_t n = read_text(path, buf, size);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if ((size_t)n + 1 < size) {
			*out = buf;
			return 0;
		}
		free(buf);
		size *= 4;
	}
}

/* Longest leaf directory path: every file path below it then fits the
 * PATH_MAX + 64 buffers used here (cgroup file names are short). */
#define LEAF_PATH_MAX (PATH_MAX - 64)

static char *path_join(const char *dir, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return NULL;
	return p;
}

/* ---- layout discovery, once per process ------------------------------ */

static struct {
	pthread_once_t once;
	int result;                /* 0 or -errno */
	struct jail_error error;   /* why discovery failed */
	struct cgroup_layout layout;
	bool memsw;                /* v1 memory.memsw.* exists (swap accounting on) */
} discovery = { .once = PTHREAD_ONCE_INIT };

static int libcgroup_error(struct jail_error *err, int ret, const char *step, const char *what,
			   const char *path)
{
	int e = ret == ECGOTHER ? cgroup_get_last_errno() : 0;

	if (e)
		return jail_error_set(err, e, step, "%s %s (libcgroup)", what, path);
	switch (ret) {
	case ECGROUPNOTEXIST: e = ENOENT; break;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED: e = ENODEV; break;
	case ECGROUPNOTALLOWED: e = EPERM; break;
	case ECGNONEMPTY: e = EBUSY; break;
	default: e = EIO; break;
	}
	/* cgroup_strerror(0) says "Cgroup is not compiled in": only ask for ret != 0 */
	return jail_error_set(err, e, step, "%s %s (libcgroup: %s)", what, path,
			      ret ? cgroup_strerror(ret) : "unknown error");
}

/* Check that libcgroup sees each v1 controller we use where we do: its
 * cgroup names are relative to its idea of the mount point. */
static int discover_libcgroup(struct cgroup_layout *layout, struct jail_error *err)
{
	bool any = false;
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		any |= layout->v1[c].mounted;
	if (!any)
		return 0;
	int ret = cgroup_init();
	if (ret)
		return libcgroup_error(err, ret, "cgroup_init", "initialise libcgroup for",
				       "/proc/mounts");
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		struct cgroup_hierarchy *h = &layout->v1[c];
		char *mount_point = NULL;

		if (!h->mounted)
			continue;
		ret = cgroup_get_subsys_mount_point(cgroup_controller_name(c), &mount_point);
		if (ret)
			return libcgroup_error(err, ret, "cgroup_discover", "find the mount point of",
					       cgroup_controller_name(c));
		bool same = strcmp(mount_point, h->mount) == 0;
		if (!same)
			jail_error_set(err, EXDEV, "cgroup_discover",
				       "libcgroup sees the v1 %s controller at %s but mountinfo at %s",
				       cgroup_controller_name(c), mount_point, h->mount);
		free(mount_point);
		if (!same)
			return -EXDEV;
	}
	return 0;
}

static void discover_once(void)
{
	struct cgroup_layout *layout = &discovery.layout;
	struct jail_error *err = &discovery.error;
	char *text = NULL;
	int r;

	r = read_whole("/proc/self/mountinfo", &text);
	if (r < 0) {
		discovery.result = jail_error_set(err, -r, "cgroup_discover", "read %s",
						  "/proc/self/mountinfo");
		return;
	}
	cgroup_layout_parse_mountinfo(text, layout);
	free(text);
	r = read_whole("/proc/self/cgroup", &text);
	if (r < 0) {
		discovery.result = jail_error_set(err, -r, "cgroup_discover", "read %s",
						  "/proc/self/cgroup");
		return;
	}
	cgroup_layout_parse_self(text, layout);
	free(text);

	if (!layout->unified.mounted || !layout->unified.own_known) {
		discovery.result = jail_error_set(err, ENODEV, "cgroup_discover",
			"no cgroup2 (unified) hierarchy is mounted, or the caller is not in it; "
			"corral needs it for cgroup.kill and CLONE_INTO_CGROUP (see %s)",
			"/proc/self/mountinfo");
		return;
	}
	/* a v1 hierarchy we cannot place ourselves in is as good as absent */
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (!layout->v1[c].own_known)
			layout->v1[c].mounted = false;

	char rel[PATH_MAX], path[PATH_MAX + 64], buf[512];
	r = cgroup_layout_relative(&layout->unified, NULL, NULL, rel, sizeof(rel));
	if (r < 0) {
		discovery.result = jail_error_set(err, -r, "cgroup_discover",
			"place own cgroup %s inside the cgroup2 mount %s", layout->unified.own,
			layout->unified.mount);
		return;
	}
	if (snprintf(path, sizeof(path), "%s%s%s/cgroup.controllers", layout->unified.mount,
		     *rel ? "/" : "", rel) >= (int)sizeof(path)) {
		discovery.result = jail_error_set(err, ENAMETOOLONG, "cgroup_discover",
						  "own cgroup path %s", rel);
		return;
	}
	ssize_t n = read_text(path, buf, sizeof(buf));
	if (n < 0) {
		discovery.result = jail_error_set(err, (int)-n, "cgroup_discover", "read %s", path);
		return;
	}
	layout->v2_controllers = cgroup_layout_parse_controllers(buf);

	struct cgroup_hierarchy *mem = &layout->v1[CGROUP_MEMORY];
	if (mem->mounted &&
	    cgroup_layout_relative(mem, NULL, NULL, rel, sizeof(rel)) == 0) {
		discovery.memsw = snprintf(path, sizeof(path), "%s%s%s/memory.memsw.limit_in_bytes",
					   mem->mount, *rel ? "/" : "", rel) < (int)sizeof(path) &&
				  access(path, F_OK) == 0;
	}
	discovery.result = discover_libcgroup(layout, err);
}

static int layout_get(const struct cgroup_layout **out, struct jail_error *err)
{
	pthread_once(&discovery.once, discover_once);
	if (discovery.result < 0) {
		if (err)
			*err = discovery.error;
		return discovery.result;
	}
	*out = &discovery.layout;
	return 0;
}

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
		free(cg->v1_rel[c]);
	}
	free(cg);
}

static int bad_path_error(struct jail_error *err, int r, const char *parent, const char *name)
{
	if (r == -ENOENT)
		return jail_error_set(err, ENOENT, "cgroup_path",
			"place cgroup %s/%s: the caller's own cgroup is unknown or outside the mount",
			parent ? parent : "", name);
	return jail_error_set(err, -r, "cgroup_path",
		"bad cgroup parent or name \"%s\" / \"%s\" (no \"..\", \".\" or '/' in the name)",
		parent ? parent : "", name ? name : "(null)");
}

/* Fill cg->unified with the unified leaf's host path. */
static int handle_set_unified(struct jail_cgroup *cg, const struct cgroup_layout *layout,
			      const char *parent, const char *name, struct jail_error *err)
{
	char rel[PATH_MAX];
	int r = cgroup_layout_relative(&layout->unified, parent, name, rel, sizeof(rel));
	if (r < 0)
		return bad_path_error(err, r, parent, name);
	cg->unified = path_join(layout->unified.mount, rel);
	if (!cg->unified)
		return jail_error_set(err, ENOMEM, "cgroup_path", "allocate path for %s", name);
	if (strlen(cg->unified) > LEAF_PATH_MAX)
		return jail_error_set(err, ENAMETOOLONG, "cgroup_path", "cgroup path %s", cg->unified);
	return 0;
}

/* Fill cg->v1[c] unless another used controller shares its mount. */
static int handle_set_v1(struct jail_cgroup *cg, const struct cgroup_layout *layout,
			 enum cgroup_ctl c, const char *parent, const char *name,
			 struct jail_error *err)
{
	const struct cgroup_hierarchy *h = &layout->v1[c];
	char rel[PATH_MAX];

	for (int o = 0; o < CGROUP_N_CONTROLLERS; o++)
		if (o != (int)c && cg->v1[o] && strcmp(layout->v1[o].mount, h->mount) == 0)
			return 0;  /* co-mounted (cpu,cpuacct): one directory serves both */
	int r = cgroup_layout_relative(h, parent, name, rel, sizeof(rel));
	if (r < 0)
		return bad_path_error(err, r, parent, name);
	cg->v1_rel[c] = strdup(rel);
	cg->v1[c] = path_join(h->mount, rel);
	if (!cg->v1_rel[c] || !cg->v1[c])
		return jail_error_set(err, ENOMEM, "cgroup_path", "allocate path for %s", name);
	if (strlen(cg->v1[c]) > LEAF_PATH_MAX)
		return jail_error_set(err, ENAMETOOLONG, "cgroup_path", "cgroup path %s", cg->v1[c]);
	return 0;
}

static int handle_open_fds(struct jail_cgroup *cg, struct jail_error *err)
{
	cg->dir_fd = open(cg->unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dir_fd < 0)
		return jail_error_set(err, errno, "cgroup_open", "open cgroup directory %s",
				      cg->unified);
	cg->events_fd = openat(cg->dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (cg->events_fd < 0)
		return jail_error_set(err, errno, "cgroup_open", "open %s/cgroup.events",
				      cg->unified);
	return 0;
}

/* ---- creating -------------------------------------------------------- */

/* mkdir path; when its parent is missing, create the parents first (below
 * the mount point, which exists) and try again: a concurrent remover of an
 * empty shared parent (a test's teardown) may race us, so a few times.
 * EEXIST of path itself is returned. */
static int mkdir_leaf(const char *path)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (mkdir(path, 0755) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
		char *copy = strdup(path);
		if (!copy)
			return -ENOMEM;
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

/* Pure v2: the controllers must be enabled in cgroup.subtree_control of the
 * caller's own cgroup and of every intermediate cgroup down to the leaf's
 * parent.  Enabling in a cgroup that holds processes fails with EBUSY (the
 * "no internal processes" rule). */
static int v2_enable_controllers(const struct cgroup_layout *layout, const char *leaf,
				 unsigned mask, struct jail_error *err)
{
	char own_rel[PATH_MAX];
	char dir[PATH_MAX + 64];
	int r = cgroup_layout_relative(&layout->unified, NULL, NULL, own_rel, sizeof(own_rel));
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_enable", "find own cgroup %s",
				      layout->unified.own);
	int own_len = snprintf(dir, sizeof(dir), "%s%s%s", layout->unified.mount,
			       *own_rel ? "/" : "", own_rel);
	const char *last_slash = strrchr(leaf, '/');
	size_t parent_len = (size_t)(last_slash - leaf);
	if (own_len < 0 || (size_t)own_len > parent_len || parent_len >= sizeof(dir) ||
	    strncmp(leaf, dir, (size_t)own_len) != 0 || leaf[own_len] != '/')
		return 0;  /* absolute parent outside our own cgroup: the caller's business */

	size_t len = (size_t)own_len;
	for (;;) {
		memcpy(dir, leaf, len);
		dir[len] = '\0';
		if (len > (size_t)own_len && mkdir(dir, 0755) < 0 && errno != EEXIST)
			return jail_error_set(err, errno, "cgroup_mkdir", "create cgroup %s", dir);

		char file[PATH_MAX + 128], have[256], want[128] = "";
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
		ssize_t n = read_text(file, have, sizeof(have));
		if (n < 0)
			return jail_error_set(err, (int)-n, "cgroup_enable", "read %s", file);
		unsigned missing = mask & ~cgroup_layout_parse_controllers(have);
		for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
			if (missing & (1u << c)) {
				strcat(want, *want ? " +" : "+");
				strcat(want, cgroup_controller_name(c));
			}
		if (*want) {
			r = write_text(file, want);
			if (r == -EBUSY)
				return jail_error_set(err, EBUSY, "cgroup_enable",
					"enable \"%s\" in %s: the cgroup has processes of its own; "
					"the supervisor must run in its own leaf cgroup (systemd: Delegate=yes, "
					"and move it to a \"supervisor\" sub-cgroup)", want, file);
			if (r < 0)
				return jail_error_set(err, -r, "cgroup_enable", "write \"%s\" to %s",
						      want, file);
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
	int r = write_text(path, value);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0)
		return jail_error_set(err, -r, "cgroup_limit", "write \"%s\" to %s", value, path);
	return 0;
}

static int v2_set_limits(const struct jail_cgroup *cg, const struct cgroup_layout *layout,
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
		snprintf(value, sizeof(value), "%" PRIu64 " %u",
			 (uint64_t)limits->cpu_millis * (CGROUP_CPU_PERIOD_US / 1000), CGROUP_CPU_PERIOD_US);
		if ((r = write_limit(cg->unified, "cpu.max", value, false, err)) < 0)
			return r;
	}
	return 0;
}

/* Hybrid: create the v1 leaves with their limits through libcgroup, one
 * struct cgroup per distinct path below the mount points (memory usually
 * sits deeper than pids and cpu). */
static int v1_create(struct jail_cgroup *cg, const struct cgroup_limits *limits,
		     struct jail_error *err)
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
			struct cgroup_controller *ctl =
				cgroup_add_controller(group, cgroup_controller_name(o));
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
				if (!ret && discovery.memsw)
					ret = cgroup_add_value_uint64(ctl, "memory.memsw.limit_in_bytes",
								      limits->memory_bytes);
			} else if (o == CGROUP_PIDS && limits->pids_max) {
				ret = cgroup_add_value_uint64(ctl, "pids.max", limits->pids_max);
			} else if (o == CGROUP_CPU && limits->cpu_millis) {
				ret = cgroup_add_value_uint64(ctl, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_US);
				if (!ret)
					ret = cgroup_add_value_int64(ctl, "cpu.cfs_quota_us",
						(int64_t)limits->cpu_millis * (CGROUP_CPU_PERIOD_US / 1000));
			}
			if (ret)
				r = libcgroup_error(err, ret, "cgroup_limit", "set limits of", cg->v1[o]);
		}
		if (r == 0) {
			int ret = cgroup_create_cgroup(group, 1);
			if (ret)
				r = libcgroup_error(err, ret, "cgroup_create",
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
static int v1_remove(struct jail_cgroup *cg, struct jail_error *err)
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
			r = libcgroup_error(err, ret, "cgroup_remove", "remove cgroup", cg->v1[c]);
	}
	return r;
}

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
	if ((r = layout_get(&layout, err)) < 0)
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

	if (v2_mask && (r = v2_enable_controllers(layout, cg->unified, v2_mask, err)) < 0)
		goto fail;

	/* The unified leaf is the name's lock: mkdir is atomic, so of two
	 * creators of the same name exactly one gets here. */
	r = mkdir_leaf(cg->unified);
	if (r == -EEXIST) {
		r = jail_error_set(err, EEXIST, "cgroup_create",
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
	if ((r = v2_set_limits(cg, layout, limits, err)) < 0)
		goto fail;

	if (v1_used) {
		for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
			if (cg->v1[c] && access(cg->v1[c], F_OK) == 0) {
				/* libcgroup's mkdir -p would silently reuse it */
				r = jail_error_set(err, EEXIST, "cgroup_create",
					"cgroup %s exists already (left over from an earlier jail?)",
					cg->v1[c]);
				/* not ours: keep it out of the rollback */
				for (int o = 0; o < CGROUP_N_CONTROLLERS; o++) {
					free(cg->v1[o]);
					cg->v1[o] = NULL;
				}
				goto fail;
			}
		if ((r = v1_create(cg, limits, err)) < 0)
			goto fail;
	}
	*out = cg;
	return 0;

fail:
	if (unified_made) {
		v1_remove(cg, NULL);
		rmdir(cg->unified);
	}
	handle_free(cg);
	return r;
}

int cgroup_open(const char *parent, const char *name, struct jail_cgroup **out,
		struct jail_error *err)
{
	const struct cgroup_layout *layout;
	int r;

	*out = NULL;
	if ((r = layout_get(&layout, err)) < 0)
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
			free(cg->v1_rel[c]);
			cg->v1[c] = cg->v1_rel[c] = NULL;
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

/* Direct writes to cgroup.procs: libcgroup's cgroup_attach_task_pid() writes
 * to "tasks", which moves one thread only. */
int cgroup_attach(struct jail_cgroup *cg, pid_t pid, bool in_unified, struct jail_error *err)
{
	char value[32], path[PATH_MAX + 64];
	int r;

	snprintf(value, sizeof(value), "%d", (int)pid);
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++) {
		if (!cg->v1[c])
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->v1[c]);
		if ((r = write_text(path, value)) < 0)
			return jail_error_set(err, -r, "cgroup_attach", "move pid %d into %s",
					      (int)pid, path);
	}
	if (in_unified) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->unified);
		if ((r = write_text(path, value)) < 0)
			return jail_error_set(err, -r, "cgroup_attach", "move pid %d into %s",
					      (int)pid, path);
	}
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
		if ((n = read_text(path, buf, sizeof(buf))) < 0)
			return (int)n;
	}
	int r = cgroup_parse_keyed(buf, "populated", &populated);
	if (r < 0)
		return r == -ENOENT ? -EPROTO : r;
	return populated ? 1 : 0;
}

/* Without cgroup.kill (kernel < 5.14): SIGKILL every pid in cgroup.procs,
 * again and again until the list is empty (processes may fork while we
 * read).  Bounded; what is still there afterwards is cgroup_destroy()'s
 * EBUSY.  No freezer: v2's cgroup.freeze would do, but 5.14+ has kill. */
static int kill_by_pid_list(const struct jail_cgroup *cg)
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
		ssize_t n = read_text(path, buf, size);
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

int cgroup_kill(struct jail_cgroup *cg)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/cgroup.kill", cg->unified);
	int r = write_text(path, "1");
	if (r == -ENOENT && access(cg->unified, F_OK) == 0)
		return kill_by_pid_list(cg);
	return r;
}

int cgroup_read_cpu(const struct jail_cgroup *cg, struct jail_cpu *cpu)
{
	char buf[1024], path[PATH_MAX + 64];
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "%s/cpu.stat", cg->unified);
	if ((n = read_text(path, buf, sizeof(buf))) < 0)
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
	if ((n = read_text(path, buf, sizeof(buf))) < 0)
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

int cgroup_read_memory(const struct jail_cgroup *cg, uint64_t *peak_bytes, bool *oom_killed)
{
	uint64_t peak = 0, ooms = 0;
	int r;

	if (cg->v1[CGROUP_MEMORY]) {
		if ((r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.max_usage_in_bytes", NULL,
				       &peak)) < 0)
			return r;
		r = read_u64_file(cg->v1[CGROUP_MEMORY], "memory.oom_control", "oom_kill", &ooms);
		if (r < 0 && r != -ENOENT)  /* oom_kill appeared in 4.13 */
			return r;
	} else if (cg->v2_memory) {
		r = read_u64_file(cg->unified, "memory.peak", NULL, &peak);
		if (r < 0 && r != -ENOENT)  /* memory.peak appeared in 5.19 */
			return r;
		r = read_u64_file(cg->unified, "memory.events", "oom_kill", &ooms);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	*peak_bytes = peak;
	*oom_killed = ooms > 0;
	return 0;
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
			r = jail_error_set(err, -r, "cgroup_kill", "kill the processes of %s",
					   cg->unified);
			goto out;
		}
		r = wait_empty(cg, DESTROY_TIMEOUT_MS);
		if (r == -EBUSY) {
			r = jail_error_set(err, EBUSY, "cgroup_destroy",
				"cgroup %s still has processes %d ms after cgroup.kill (stuck in the kernel?); "
				"left in place", cg->unified, DESTROY_TIMEOUT_MS);
			goto out;
		}
		if (r < 0 && r != -ENOENT) {
			r = jail_error_set(err, -r, "cgroup_destroy", "read %s/cgroup.events",
					   cg->unified);
			goto out;
		}
	}
	/* v1 first, the unified leaf (the name's lock) last */
	if ((r = v1_remove(cg, err)) < 0)
		goto out;
	int64_t deadline = now_ms() + 200;
	while (rmdir(cg->unified) < 0) {
		if (errno == ENOENT)
			break;
		if (errno != EBUSY || now_ms() > deadline) {
			r = jail_error_set(err, errno, "cgroup_destroy", "remove cgroup %s",
					   cg->unified);
			goto out;
		}
		struct timespec pause = { 0, 1000000 };
		nanosleep(&pause, NULL);
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

int cgroup_enter_leaf(const char *leaf, bool *moved, struct jail_error *err)
{
	const struct cgroup_layout *layout;
	char rel[PATH_MAX], dir[2 * PATH_MAX + 2], procs[2 * PATH_MAX + 32];
	int r;

	*moved = false;
	r = layout_get(&layout, err);
	if (r < 0)
		return r;
	/* only where limits live in the unified tree (pure v2): there a cgroup
	 * with processes cannot hand controllers to its children */
	if (!layout->v2_controllers)
		return 0;
	r = cgroup_layout_relative(&layout->unified, NULL, leaf, rel, sizeof(rel));
	if (r < 0)
		return jail_error_set(err, -r, "cgroup", "place the leaf '%s' below our cgroup", leaf);
	snprintf(dir, sizeof(dir), "%s/%s", layout->unified.mount, rel);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return jail_error_set(err, errno, "cgroup", "create %s", dir);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	r = write_text(procs, "0");
	if (r < 0)
		return jail_error_set(err, -r, "cgroup", "move ourselves into %s", dir);
	*moved = true;
	return 0;
}

int cgroup_remove_parent(const char *parent)
{
	const struct cgroup_layout *layout;
	char rel[PATH_MAX], dir[2 * PATH_MAX + 2];
	int r = layout_get(&layout, NULL), removed = 0;

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
	int r = layout_get(&layout, NULL);

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
