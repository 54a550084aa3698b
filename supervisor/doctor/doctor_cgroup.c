/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_cgroup.c — the cgroup mode (pure v2, hybrid, v1
 * only) and, per controller the jails use, whether corrald's subtree can
 * use it, and if not why: not delegated to corrald's cgroup, not enabled in
 * the parent's cgroup.subtree_control, or a process in the cgroup that must
 * enable it (the no-internal-process rule).
 *
 * Reads /proc/self/mountinfo, /proc/PID/cgroup and the cgroup files below
 * the host's root.  Its own small mountinfo reading: runner/'s parser is
 * internal to the runner.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/doctor/doctor_internal.h"

enum { C_MEMORY, C_PIDS, C_CPU, C_COUNT };
static const char *const controller_names[C_COUNT] = { "memory", "pids", "cpu" };

struct mount {
	bool found;
	char path[PATH_MAX]; /* mount point */
	char root[PATH_MAX]; /* the cgroup shown at the mount's top */
};

struct layout {
	struct mount unified;
	struct mount v1[C_COUNT];
	bool any_v1;        /* a v1 hierarchy with a controller (not only name=systemd) */
	char v1_names[256]; /* "cpu, memory, pids" */
};

/* Copy a mountinfo field, undoing its octal escapes (\040 for a space). */
static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		if (src[i] == '\\' && i + 3 < len && isdigit((unsigned char)src[i + 1])) {
			dst[o++] = (char)((src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 +
					  (src[i + 3] - '0'));
			i += 3;
		} else {
			dst[o++] = src[i];
		}
	}
	dst[o] = '\0';
}

static void record(struct mount *m, const char *root, size_t root_len, const char *path, size_t path_len)
{
	if (m->found)
		return; /* the first mount wins, later ones are usually binds of it */
	copy_field(m->root, sizeof(m->root), root, root_len);
	copy_field(m->path, sizeof(m->path), path, path_len);
	m->found = true;
}

static void parse_mountinfo_line(char *line, struct layout *l)
{
	char *f[64];
	size_t n = 0, dash = 0;

	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	for (size_t i = 6; i < n; i++)
		if (strcmp(f[i], "-") == 0) {
			dash = i;
			break;
		}
	if (!dash || dash + 1 >= n)
		return;
	if (strcmp(f[dash + 1], "cgroup2") == 0) {
		record(&l->unified, f[3], strlen(f[3]), f[4], strlen(f[4]));
		return;
	}
	if (strcmp(f[dash + 1], "cgroup") != 0 || dash + 3 >= n)
		return;
	/* a hierarchy with controllers makes the host hybrid; a named one
	 * (name=systemd, as systemd's hybrid mode mounts) does not */
	if (!strstr(f[dash + 3], "name="))
		l->any_v1 = true;
	for (char *save = NULL, *o = strtok_r(f[dash + 3], ",", &save); o; o = strtok_r(NULL, ",", &save))
		for (int c = 0; c < C_COUNT; c++)
			if (strcmp(o, controller_names[c]) == 0)
				record(&l->v1[c], f[3], strlen(f[3]), f[4], strlen(f[4]));
}

static void parse_mountinfo(char *text, struct layout *l)
{
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *copy = strdup(line);

		if (copy)
			parse_mountinfo_line(copy, l);
	}
	for (int c = 0; c < C_COUNT; c++)
		if (l->v1[c].found)
			snprintf(l->v1_names + strlen(l->v1_names), sizeof(l->v1_names) - strlen(l->v1_names),
				 "%s%s", *l->v1_names ? ", " : "", controller_names[c]);
}

/* The unified-tree path ("0::/a/b") in /proc/PID/cgroup text, into out. */
static bool parse_unified_cgroup(const char *text, char *out, size_t size)
{
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "0::", 3) == 0) {
			size_t len = strcspn(p + 3, "\n");
			if (len == 0 || len >= size || p[3] != '/')
				return false;
			memcpy(out, p + 3, len);
			out[len] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return false;
}

/* A running corrald's pid (its comm is "corrald"), or 0. */
static long find_corrald(const struct doctor_host *host)
{
	char dir[PATH_MAX];
	long found = 0;

	if (doctor_files_path(host, "/proc", dir, sizeof(dir)) < 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	for (struct dirent *e; !found && (e = readdir(d));) {
		char path[64];
		_cleanup_free_ char *comm = NULL;
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (doctor_files_read(host, path, &comm) == 0 && strcmp(comm, "corrald\n") == 0)
			found = pid;
	}
	closedir(d);
	return found;
}

/* Host path (below the host's root) of cgroup path cg in the unified
 * mount.  false when cg lies outside what the mount shows. */
static bool cgroup_dir(const struct doctor_host *host, const struct mount *m, const char *cg, char *out,
		       size_t size)
{
	size_t root_len = strcmp(m->root, "/") == 0 ? 0 : strlen(m->root);
	char path[PATH_MAX];

	if (root_len && (strncmp(cg, m->root, root_len) != 0 || (cg[root_len] && cg[root_len] != '/')))
		return false;
	if (snprintf(path, sizeof(path), "%s%s", m->path, strcmp(cg + root_len, "/") ? cg + root_len : "") >=
	    (int)sizeof(path))
		return false;
	return doctor_files_path(host, path, out, size) == 0;
}

/* A controller is named in a cgroup.controllers / subtree_control file
 * (dir is a real path, already below the root). */
static bool file_lists(const char *dir, const char *file, const char *controller)
{
	char path[PATH_MAX + 32];
	struct doctor_host real = { .root = NULL };
	_cleanup_free_ char *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (doctor_files_read(&real, path, &text) < 0)
		return false;
	for (char *save = NULL, *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, controller) == 0)
			return true;
	return false;
}

/* The pids in dir/cgroup.procs other than skip, as "12, 34" (at most a
 * few), and how many there are. */
static size_t procs_of(const char *dir, long skip, char *list, size_t size)
{
	char path[PATH_MAX + 32];
	struct doctor_host real = { .root = NULL };
	_cleanup_free_ char *text = NULL;
	size_t n = 0;

	list[0] = '\0';
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (doctor_files_read(&real, path, &text) < 0)
		return 0;
	for (char *save = NULL, *w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
		if (atol(w) == skip)
			continue;
		if (n < 5)
			snprintf(list + strlen(list), size - strlen(list), "%s%s", n ? ", " : "", w);
		n++;
	}
	if (n > 5)
		snprintf(list + strlen(list), size - strlen(list), ", ...");
	return n;
}

/* corrald's cgroup: where the jails' parent lives when cgroup_parent is
 * relative. */
struct base {
	char cg[PATH_MAX]; /* in the unified tree, e.g. "/system.slice/corrald.service" */
	long corrald_pid;  /* 0 when corrald is not running */
	bool systemd_unit; /* not running; assumed a systemd service with Delegate=yes */
	char how[PATH_MAX + 128];
};

static void find_base(const struct doctor_host *host, struct base *b)
{
	_cleanup_free_ char *text = NULL;
	char path[64];

	b->corrald_pid = find_corrald(host);
	if (b->corrald_pid) {
		snprintf(path, sizeof(path), "/proc/%ld/cgroup", b->corrald_pid);
		if (doctor_files_read(host, path, &text) == 0 &&
		    parse_unified_cgroup(text, b->cg, sizeof(b->cg))) {
			/* on pure v2 corrald sits in the leaf <its cgroup>/supervisor */
			size_t len = strlen(b->cg);
			if (len > 11 && strcmp(b->cg + len - 11, "/supervisor") == 0)
				b->cg[len - 11] = '\0';
			snprintf(b->how, sizeof(b->how), "the running corrald (pid %ld) manages %s",
				 b->corrald_pid, b->cg);
			return;
		}
	}
	if (doctor_files_exists(host, "/run/systemd/system")) {
		snprintf(b->cg, sizeof(b->cg), "/system.slice/corrald.service");
		b->systemd_unit = true;
		snprintf(b->how, sizeof(b->how),
			 "corrald is not running; judged as the systemd service corrald.service "
			 "(Delegate=yes)");
		return;
	}
	free(text);
	text = NULL;
	if (doctor_files_read(host, "/proc/self/cgroup", &text) == 0 &&
	    parse_unified_cgroup(text, b->cg, sizeof(b->cg)))
		snprintf(b->how, sizeof(b->how),
			 "corrald is not running and systemd is not pid 1; judged as a corrald "
			 "started from this shell, in %s",
			 b->cg);
	else
		snprintf(b->cg, sizeof(b->cg), "/");
}

/* The parent cgroup path of cg ("/a/b" -> "/a", "/a" -> "/"). */
static void parent_of(char *cg)
{
	char *slash = strrchr(cg, '/');

	if (slash == cg || !slash)
		cg[1] = '\0';
	else
		*slash = '\0';
}

/* Pure v2 (or a hybrid host's unified tree): can corrald's subtree use
 * controller c?  One finding. */
static void check_unified_controller(const struct doctor_host *host, const struct layout *l,
				     const struct base *b, int c, bool required, struct doctor_report *report)
{
	const char *name = controller_names[c];
	enum doctor_verdict bad = required ? DOCTOR_FAIL : DOCTOR_WARN;
	const char *impact = required ? "jails with a limit on it (every jail by default) cannot start"
				      : "cpu quotas are refused; jails without one run";
	char check[64], top[PATH_MAX], dir[PATH_MAX], up[PATH_MAX], updir[PATH_MAX];
	char procs[128];

	snprintf(check, sizeof(check), "cgroup.controller.%s", name);
	if (!cgroup_dir(host, &l->unified, l->unified.root, top, sizeof(top)) ||
	    !file_lists(top, "cgroup.controllers", name)) {
		doctor_report_add(
			report, bad, check,
			c == C_MEMORY ? "remove cgroup_disable=memory from the kernel "
					"command line (some boards need cgroup_enable=memory)"
				      : "use a kernel with this controller",
			"the kernel offers no %s controller in the cgroup2 tree (%s/cgroup.controllers): %s",
			name, l->unified.path, impact);
		return;
	}
	if (b->systemd_unit) {
		doctor_report_add(report, DOCTOR_OK, check, NULL,
				  "%s is available at the top of the cgroup2 tree; systemd enables it "
				  "for corrald.service when the unit has Delegate=yes (as "
				  "contrib/systemd/corrald.service does)",
				  name);
		return;
	}
	if (!cgroup_dir(host, &l->unified, b->cg, dir, sizeof(dir))) {
		doctor_report_add(report, DOCTOR_WARN, check, NULL,
				  "corrald's cgroup %s lies outside the cgroup2 mount %s: cannot tell", b->cg,
				  l->unified.path);
		return;
	}
	if (!file_lists(dir, "cgroup.controllers", name)) {
		/* find the nearest ancestor that has it: its subtree_control lacks it */
		snprintf(up, sizeof(up), "%s", b->cg);
		while (strcmp(up, "/") != 0) {
			parent_of(up);
			if (cgroup_dir(host, &l->unified, up, updir, sizeof(updir)) &&
			    file_lists(updir, "cgroup.controllers", name))
				break;
		}
		size_t n = procs_of(updir, 0, procs, sizeof(procs));
		bool unit = strstr(b->cg, ".service") != NULL;
		char fix[3 * PATH_MAX];
		if (unit)
			snprintf(fix, sizeof(fix),
				 "set Delegate=yes in corrald's unit "
				 "(contrib/systemd/corrald.service has it) and restart it");
		else
			snprintf(fix, sizeof(fix),
				 "%secho +%s > %s%s/cgroup.subtree_control, or run "
				 "corrald as the systemd service (Delegate=yes)",
				 n && strcmp(up, "/") ? "move the processes of the parent into a leaf "
							"cgroup, then "
						      : "",
				 name, l->unified.path, strcmp(up, "/") ? up : "");
		doctor_report_add(report, bad, check, fix,
				  "%s is not delegated to corrald's cgroup %s: the parent %s does not "
				  "enable it in its cgroup.subtree_control%s%s%s: %s",
				  name, b->cg, up,
				  n && strcmp(up, "/") ? " and has processes of its own (" : "",
				  n && strcmp(up, "/") ? procs : "",
				  n && strcmp(up, "/")
					  ? "), so the no-internal-process rule forbids enabling it there"
					  : "",
				  impact);
		return;
	}
	if (file_lists(dir, "cgroup.subtree_control", name)) {
		doctor_report_add(report, DOCTOR_OK, check, NULL,
				  "%s is enabled in %s/cgroup.subtree_control: corrald's jails get it", name,
				  b->cg);
		return;
	}
	if (strcmp(b->cg, "/") != 0 && procs_of(dir, b->corrald_pid, procs, sizeof(procs)) > 0) {
		doctor_report_add(report, bad, check,
				  "run corrald as the systemd service (Delegate=yes), or start it in a "
				  "cgroup of its own (mkdir a cgroup, write the shell's pid to its "
				  "cgroup.procs, start corrald from there)",
				  "%s reaches corrald's cgroup %s but cannot be enabled for its subtree: "
				  "processes live in %s (pids %s) and the no-internal-process rule "
				  "forbids enabling controllers in cgroup.subtree_control of a cgroup "
				  "with processes (corrald moves only itself into %s/supervisor): %s",
				  name, b->cg, b->cg, procs, b->cg, impact);
		return;
	}
	doctor_report_add(report, DOCTOR_OK, check, NULL,
			  "%s reaches corrald's cgroup %s; corrald enables it in its "
			  "cgroup.subtree_control when it starts",
			  name, b->cg);
}

void doctor_cgroup_check(const struct doctor_host *host, const struct doctor_config *config,
			 struct doctor_report *report)
{
	_cleanup_free_ char *text = NULL;
	struct layout *l = calloc(1, sizeof(*l));
	struct base *b = calloc(1, sizeof(*b));
	int r;

	if (!l || !b) {
		report->out_of_memory = true;
		goto out;
	}
	r = doctor_files_read(host, "/proc/self/mountinfo", &text);
	if (r < 0) {
		doctor_report_add(report, DOCTOR_FAIL, "cgroup.mode", "check that /proc is mounted",
				  "cannot read /proc/self/mountinfo: %s", strerror(-r));
		goto out;
	}
	parse_mountinfo(text, l);

	if (!l->unified.found) {
		doctor_report_add(report, DOCTOR_FAIL, "cgroup.mode",
				  "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2, the "
				  "default of current distributions), or at least mount the unified "
				  "tree: mount -t cgroup2 none /sys/fs/cgroup/unified",
				  l->any_v1
					  ? "cgroup v1 only (%s): no cgroup2 tree is mounted, and corral "
					    "needs it for cgroup.kill, CLONE_INTO_CGROUP and cpu.stat"
					  : "no cgroup hierarchy is mounted%s: corral needs the cgroup2 tree",
				  l->v1_names);
		goto out;
	}
	if (l->any_v1)
		doctor_report_add(report, DOCTOR_OK, "cgroup.mode", NULL,
				  "hybrid: v1 controller hierarchies (%s) hold the jails' limits, "
				  "the cgroup2 tree at %s their membership, cgroup.kill and cpu.stat",
				  *l->v1_names ? l->v1_names : "none corral uses", l->unified.path);
	else
		doctor_report_add(report, DOCTOR_OK, "cgroup.mode", NULL, "pure cgroup v2 (cgroup2 at %s)",
				  l->unified.path);

	find_base(host, b);
	if (config->cgroup_parent && config->cgroup_parent[0] == '/')
		doctor_report_add(report, DOCTOR_OK, "cgroup.subtree", NULL,
				  "jails go below %s (cgroup_parent is absolute)", config->cgroup_parent);
	else
		doctor_report_add(report, DOCTOR_OK, "cgroup.subtree", NULL,
				  "jails go below <corrald's cgroup>/%s; %s",
				  config->cgroup_parent ? config->cgroup_parent : "corral", b->how);
	if (config->cgroup_parent && config->cgroup_parent[0] == '/') {
		/* an absolute parent: what matters is the cgroup that holds it */
		snprintf(b->cg, sizeof(b->cg), "%s", config->cgroup_parent);
		parent_of(b->cg);
		b->systemd_unit = false;
	}

	for (int c = 0; c < C_COUNT; c++) {
		bool required = c != C_CPU;
		char check[64];

		snprintf(check, sizeof(check), "cgroup.controller.%s", controller_names[c]);
		if (l->v1[c].found) {
			doctor_report_add(
				report, DOCTOR_OK, check, NULL,
				"the v1 %s hierarchy at %s (hybrid: the jails' limits are set there)",
				controller_names[c], l->v1[c].path);
			continue;
		}
		check_unified_controller(host, l, b, c, required, report);
	}
out:
	free(l);
	free(b);
}
