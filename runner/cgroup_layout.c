/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_layout.c — pure parsing for the cgroup module: mountinfo,
 * /proc/self/cgroup, cgroup.controllers, keyed files, and the leaf's path
 * below a mount point.  No system calls live here (runner/cgroup.c does the
 * reading and writing).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cgroup_layout.h"

static const char *const controller_names[CGROUP_N_CONTROLLERS] = {
	[CGROUP_MEMORY] = "memory",
	[CGROUP_PIDS] = "pids",
	[CGROUP_CPU] = "cpu",
	[CGROUP_CPUACCT] = "cpuacct",
};

const char *cgroup_controller_name(enum cgroup_ctl controller)
{
	if ((unsigned)controller >= CGROUP_N_CONTROLLERS)
		return "?";
	return controller_names[controller];
}

/* Index of a controller named by the len bytes at word, or -1. */
static int controller_lookup(const char *word, size_t len)
{
	for (int i = 0; i < CGROUP_N_CONTROLLERS; i++)
		if (strlen(controller_names[i]) == len && memcmp(word, controller_names[i], len) == 0)
			return i;
	return -1;
}

/* Copy the len bytes at src to dst (size bytes), undoing mountinfo's octal
 * escapes (\040 space, \011 tab, \012 newline, \134 backslash).  false when
 * it does not fit. */
static bool copy_unescaped(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	if (size == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '\\' && i + 3 < len && src[i + 1] >= '0' && src[i + 1] <= '3' && src[i + 2] >= '0' &&
		    src[i + 2] <= '7' && src[i + 3] >= '0' && src[i + 3] <= '7') {
			c = (char)((src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return false;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return true;
}

/* Split line (len bytes, no newline) into space-separated fields. */
static size_t split_fields(const char *line, size_t len, const char **field, size_t *flen, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		field[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[n] = (size_t)(line + i - field[n]);
		n++;
	}
	return n;
}

static void record_mount(struct cgroup_hierarchy *h, const char *root, size_t root_len, const char *mount,
			 size_t mount_len)
{
	if (h->mounted)
		return; /* first mount wins: later ones are usually bind mounts of it */
	if (!copy_unescaped(h->mount, sizeof(h->mount), mount, mount_len) ||
	    !copy_unescaped(h->root, sizeof(h->root), root, root_len)) {
		h->mount[0] = h->root[0] = '\0';
		return;
	}
	h->mounted = true;
}

/* One mountinfo line:
 *   36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory
 * fields: id parent dev root mountpoint options [optional...] - fstype source superoptions */
static void parse_mountinfo_line(const char *line, size_t len, struct cgroup_layout *layout)
{
	const char *f[64];
	size_t fl[64];
	size_t n = split_fields(line, len, f, fl, 64);
	size_t dash = 0;

	for (size_t i = 6; i < n; i++)
		if (fl[i] == 1 && f[i][0] == '-') {
			dash = i;
			break;
		}
	if (dash == 0 || dash + 1 >= n)
		return;
	const char *fstype = f[dash + 1];
	size_t fstype_len = fl[dash + 1];
	const char *opts = dash + 3 < n ? f[dash + 3] : "";
	size_t opts_len = dash + 3 < n ? fl[dash + 3] : 0;

	if (fstype_len == 7 && memcmp(fstype, "cgroup2", 7) == 0) {
		record_mount(&layout->unified, f[3], fl[3], f[4], fl[4]);
		return;
	}
	if (!(fstype_len == 6 && memcmp(fstype, "cgroup", 6) == 0))
		return;
	/* v1: the superoptions name the controllers bound to this hierarchy */
	size_t i = 0;
	while (i < opts_len) {
		size_t start = i;
		while (i < opts_len && opts[i] != ',')
			i++;
		int c = controller_lookup(opts + start, i - start);
		if (c >= 0)
			record_mount(&layout->v1[c], f[3], fl[3], f[4], fl[4]);
		i++;
	}
}

int cgroup_layout_parse_mountinfo(const char *text, struct cgroup_layout *layout)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		parse_mountinfo_line(p, len, layout);
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static void record_own(struct cgroup_hierarchy *h, const char *path, size_t len)
{
	if (h->own_known || len == 0 || path[0] != '/' || len >= sizeof(h->own))
		return;
	memcpy(h->own, path, len);
	h->own[len] = '\0';
	h->own_known = true;
}

/* "hierarchy-id:controller-list:path"; the path is everything after the
 * second colon (it may itself contain colons). */
static void parse_self_line(const char *line, size_t len, struct cgroup_layout *layout)
{
	const char *c1 = memchr(line, ':', len);
	if (!c1)
		return;
	const char *list = c1 + 1;
	const char *c2 = memchr(list, ':', len - (size_t)(list - line));
	if (!c2)
		return;
	size_t list_len = (size_t)(c2 - list);
	const char *path = c2 + 1;
	size_t path_len = len - (size_t)(path - line);

	if (list_len == 0 && c1 - line == 1 && line[0] == '0') {
		record_own(&layout->unified, path, path_len);
		return;
	}
	size_t i = 0;
	while (i < list_len) {
		size_t start = i;
		while (i < list_len && list[i] != ',')
			i++;
		int c = controller_lookup(list + start, i - start);
		if (c >= 0)
			record_own(&layout->v1[c], path, path_len);
		i++;
	}
}

int cgroup_layout_parse_self(const char *text, struct cgroup_layout *layout)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		parse_self_line(p, len, layout);
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

unsigned cgroup_layout_parse_controllers(const char *text)
{
	unsigned mask = 0;
	const char *p = text;

	while (p && *p) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
		int c = controller_lookup(start, (size_t)(p - start));
		if (c >= 0)
			mask |= 1u << c;
	}
	return mask;
}

/* Append the '/'-separated components of path to out (at *len), each
 * preceded by '/'.  Empty components are skipped; "." and ".." refused. */
static int append_components(char *out, size_t size, size_t *len, const char *path)
{
	const char *p = path;

	while (p && *p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - start);
		if ((n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.'))
			return -EINVAL;
		if (*len + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[(*len)++] = '/';
		memcpy(out + *len, start, n);
		*len += n;
		out[*len] = '\0';
	}
	return 0;
}

static bool name_is_valid(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
		!strchr(name, '\n');
}

int cgroup_layout_relative(const struct cgroup_hierarchy *hierarchy, const char *parent, const char *name,
			   char *out, size_t size)
{
	char full[PATH_MAX];
	size_t len = 0;
	int r;

	if ((name && !name_is_valid(name)) || (parent && strchr(parent, '\n')))
		return -EINVAL;
	full[0] = '\0';
	if (!(parent && parent[0] == '/')) {
		if (!hierarchy->own_known)
			return -ENOENT;
		/* own comes from the kernel: it has no "." or ".." components */
		r = append_components(full, sizeof(full), &len, hierarchy->own);
		if (r < 0)
			return r == -EINVAL ? -ENOENT : r;
	}
	r = append_components(full, sizeof(full), &len, parent);
	if (r < 0)
		return r;
	r = append_components(full, sizeof(full), &len, name);
	if (r < 0)
		return r;

	/* strip the mount's root: a mount may show only a subtree */
	char root[PATH_MAX];
	size_t root_len = 0;
	root[0] = '\0';
	r = append_components(root, sizeof(root), &root_len, hierarchy->root);
	if (r < 0)
		return -ENOENT;
	if (root_len > 0) {
		if (strncmp(full, root, root_len) != 0 || (full[root_len] != '/' && full[root_len]))
			return -ENOENT;
	}
	const char *rel = full + root_len;
	while (*rel == '/')
		rel++;
	if (strlen(rel) + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, rel, strlen(rel) + 1);
	return 0;
}

int cgroup_parse_keyed(const char *text, const char *key, uint64_t *value)
{
	size_t key_len = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, key_len) == 0 && p[key_len] == ' ') {
			const char *v = p + key_len + 1;
			char *end;

			if (*v < '0' || *v > '9')
				return -EINVAL;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno || (*end && *end != '\n' && *end != ' '))
				return -EINVAL;
			*value = (uint64_t)n;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

enum cgroup_home cgroup_layout_home(const struct cgroup_layout *layout, enum cgroup_ctl controller)
{
	if (layout->v1[controller].mounted && layout->v1[controller].own_known)
		return CGROUP_HOME_V1;
	if (layout->v2_controllers & (1u << controller))
		return CGROUP_HOME_V2;
	return CGROUP_HOME_NONE;
}

int cgroup_layout_check_limits(const struct cgroup_layout *layout, uint64_t memory_bytes, uint64_t pids_max,
			       uint32_t cpu_millis, struct jail_error *err)
{
	const struct {
		enum cgroup_ctl controller;
		bool wanted;
	} need[] = {
		{ CGROUP_MEMORY, memory_bytes > 0 },
		{ CGROUP_PIDS, pids_max > 0 },
		{ CGROUP_CPU, cpu_millis > 0 },
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const char *what = cgroup_controller_name(need[i].controller);

		if (need[i].wanted && cgroup_layout_home(layout, need[i].controller) == CGROUP_HOME_NONE)
			return jail_error_set(err, ENODEV, "cgroup_create",
					      "%s limit requested but no %s controller is available "
					      "(neither cgroup v2 %s nor a v1 %s hierarchy)",
					      what, what, what, what);
	}
	/* the kernel refuses quotas below 1 ms per period */
	if (cpu_millis && cpu_millis < 1000000u / CGROUP_CPU_PERIOD_US)
		return jail_error_set(err, EINVAL, "cgroup_create",
				      "cpu limit of %u thousandths of a CPU is below the minimum of %u "
				      "(a quota of 1 ms per %u us period)",
				      cpu_millis, 1000000u / CGROUP_CPU_PERIOD_US, CGROUP_CPU_PERIOD_US);
	return 0;
}

uint64_t cgroup_layout_cpu_quota_us(uint32_t cpu_millis)
{
	return (uint64_t)cpu_millis * (CGROUP_CPU_PERIOD_US / 1000);
}

void cgroup_layout_cpu_max(uint32_t cpu_millis, char *buf, size_t size)
{
	if (cpu_millis)
		snprintf(buf, size, "%" PRIu64 " %u", cgroup_layout_cpu_quota_us(cpu_millis),
			 CGROUP_CPU_PERIOD_US);
	else
		snprintf(buf, size, "max %u", CGROUP_CPU_PERIOD_US);
}
