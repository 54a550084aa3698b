/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_supervisor.c — the supervisor's own subtree on pure cgroup
 * v2 (runner/cgroup.h: cgroup_supervisor_enter, cgroup_supervisor_leave):
 * where the limits live in the unified tree a cgroup with processes cannot
 * hand controllers to its children, so the supervisor moves into a leaf of
 * its own below a subtree (made below the root cgroup, or its delegated
 * cgroup), enables the controllers there and in the jails' parent, and on
 * leaving moves back and takes away what it made.  A no-op on hybrid hosts.
 * A jail's cgroup: runner/cgroup.c; layout discovery and the file helpers:
 * runner/cgroup_discover.c; the unified-tree writes: runner/cgroup_v2.c.
 *
 * Nothing here runs in the jail's child.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/cgroup_internal.h"

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
