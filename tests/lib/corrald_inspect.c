/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_inspect.c — looking at a test's corrald from outside
 * (see corrald_inspect.h): its RSS, fds and CPU time; the cgroups, processes
 * and mounts below its own cgroup parent and state dir (never the rest of
 * the host); and removing what a failed test left there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/cgroup_procs.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/test.h"

long corrald_rss_kb(const struct corrald *d)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* corrald's open fds; only those whose link starts with prefix if given */
static long count_fds(const struct corrald *d, const char *prefix)
{
	char path[64], link[96], target[64];
	DIR *dir;
	struct dirent *e;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)) != NULL) {
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		if (!prefix) {
			n++;
			continue;
		}
		snprintf(link, sizeof(link), "%s/%.16s", path, e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strncmp(target, prefix, strlen(prefix)) == 0;
		}
	}
	closedir(dir);
	return n;
}

long corrald_fd_count(const struct corrald *d)
{
	return count_fds(d, NULL);
}

long corrald_netns_fd_count(const struct corrald *d)
{
	return count_fds(d, "net:[");
}

long corrald_cpu_ms(const struct corrald *d)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return -1;
	return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* Calls fn on the test's cgroup parent in every hierarchy it was made in:
 * relative to this process's own cgroup there (corrald started from it and
 * resolves a relative parent the same way, below the subtree "corrald" it
 * makes when it starts at the root of a pure v2 tree), read from
 * /proc/self/cgroup (the unified tree and each v1 hierarchy).  The sum of its results.
 * Nothing outside the test's cgroup parent is ever looked at. */
static int for_each_parent(const struct corrald *d, int (*fn)(const char *path, const void *arg),
			   const void *arg)
{
	FILE *f;
	char line[1024], path[2200];
	struct stat st;
	bool hybrid = stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0;
	int sum = 0;

	if (!d->cgroup_parent[0])
		return 0;
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *own;

		if (!ctrl || !(own = strchr(ctrl + 1, ':')))
			continue;
		*own++ = '\0';
		ctrl++;
		own[strcspn(own, "\n")] = '\0';
		if (strcmp(own, "/") == 0)
			own = "";
		if (strncmp(ctrl, "name=", 5) == 0)
			ctrl += 5;
		if (d->cgroup_parent[0] == '/')
			own = ""; /* an absolute parent */
		/* on pure v2 a corrald at the root of the tree makes the
		 * subtree "corrald" and puts relative parents below it */
		for (int sub = 0; sub < 2; sub++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s%s%s%s/%s", *ctrl ? "/" : "",
				 *ctrl            ? ctrl
					 : hybrid ? "/unified"
						  : "",
				 own, sub ? "/corrald" : "", d->cgroup_parent + (d->cgroup_parent[0] == '/'));
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
				sum += fn(path, arg);
				break;
			}
		}
	}
	if (f)
		fclose(f);
	return sum;
}

static int count_subdirs(const char *path, const void *arg)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int n = 0;

	(void)arg;
	while (dir && (e = readdir(dir)) != NULL)
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			n++;
	if (dir)
		closedir(dir);
	return n;
}

static int has_subdir(const char *path, const void *name)
{
	char child[1400];
	struct stat st;

	snprintf(child, sizeof(child), "%s/%s", path, (const char *)name);
	return stat(child, &st) == 0 && S_ISDIR(st.st_mode) ? 1 : 0;
}

static int remove_subdir(const char *path, const void *name)
{
	char child[1400];

	snprintf(child, sizeof(child), "%s/%s", path, (const char *)name);
	return rmdir(child) == 0 ? 1 : 0;
}

struct cgroup_read {
	const char *name, *file;
	char *buf;
	size_t size;
	bool found;
};

/* The first hierarchy whose cgroup name holds file: its content. */
static int read_in_subdir(const char *path, const void *arg)
{
	struct cgroup_read *rd = (struct cgroup_read *)arg;
	char file[1600];
	FILE *f;
	size_t n;

	if (rd->found)
		return 0;
	snprintf(file, sizeof(file), "%s/%s/%s", path, rd->name, rd->file);
	f = fopen(file, "re");
	if (!f)
		return 0;
	n = fread(rd->buf, 1, rd->size - 1, f);
	fclose(f);
	rd->buf[n] = '\0';
	rd->buf[strcspn(rd->buf, "\n")] = '\0';
	rd->found = true;
	return 1;
}

int corrald_task_cgroup_read(const struct corrald *d, const char *name, const char *file, char *buf,
			     size_t size)
{
	struct cgroup_read rd = { name, file, buf, size, false };

	buf[0] = '\0';
	for_each_parent(d, read_in_subdir, &rd);
	return rd.found ? 0 : -ENOENT;
}

int corrald_count_task_cgroups(const struct corrald *d)
{
	return for_each_parent(d, count_subdirs, NULL);
}

bool corrald_task_cgroup_exists(const struct corrald *d, const char *name)
{
	return for_each_parent(d, has_subdir, name) > 0;
}

int corrald_remove_task_cgroup(const struct corrald *d, const char *name)
{
	return for_each_parent(d, remove_subdir, name);
}

struct pid_set {
	pid_t pids[4096];
	size_t n;
};

/* Adds the processes below path to the set (a process is in every
 * hierarchy: count it once). */
static int add_processes(const char *path, const void *arg)
{
	struct pid_set *set = (struct pid_set *)arg;
	pid_t found[4096];
	size_t n = cgroup_procs_list(path, found, 4096);

	for (size_t i = 0; i < n && i < 4096; i++) {
		bool seen = false;

		for (size_t k = 0; k < set->n && !seen; k++)
			seen = set->pids[k] == found[i];
		if (!seen && set->n < 4096)
			set->pids[set->n++] = found[i];
	}
	return 0;
}

size_t corrald_list_processes(const struct corrald *d, pid_t *pids, size_t max)
{
	static struct pid_set set;

	set.n = 0;
	for_each_parent(d, add_processes, &set);
	for (size_t i = 0; i < set.n && i < max; i++)
		pids[i] = set.pids[i];
	return set.n;
}

int corrald_count_processes(const struct corrald *d)
{
	return (int)corrald_list_processes(d, NULL, 0);
}

struct wanted_cmdline {
	const char *cmdline;
	size_t len;
};

static int find_cmdline(const char *path, const void *arg)
{
	const struct wanted_cmdline *w = arg;

	return cgroup_procs_find_cmdline(path, w->cmdline, w->len) ? 1 : 0;
}

bool corrald_process_with_cmdline(const struct corrald *d, const char *cmdline, size_t len)
{
	struct wanted_cmdline w = { cmdline, len };

	return for_each_parent(d, find_cmdline, &w) > 0;
}

int corrald_count_mounts(const struct corrald *d)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char point[4096];

		/* 36 35 98:0 /root /mnt/point ...: the fifth field */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		if ((d->dir[0] && strncmp(point, d->dir, strlen(d->dir)) == 0) ||
		    strstr(point, d->cgroup_parent + (d->cgroup_parent[0] == '/')))
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

static int remove_cgroups(const char *path, const void *arg)
{
	DIR *sub = opendir(path);
	struct dirent *s;

	(void)arg;
	while (sub && (s = readdir(sub)) != NULL) {
		char child[1400];

		if (s->d_type == DT_DIR && s->d_name[0] != '.') {
			snprintf(child, sizeof(child), "%s/%s", path, s->d_name);
			if (rmdir(child) < 0)
				fprintf(stderr, "cleanup: cgroup %s left behind: %s\n", child,
					strerror(errno));
		}
	}
	if (sub)
		closedir(sub);
	rmdir(path);
	return 0;
}

void corrald_remove_cgroup_parent(const struct corrald *d)
{
	for_each_parent(d, remove_cgroups, NULL);
}

static int kill_jails(const char *path, const void *arg)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int killed = 0;

	(void)arg;
	while (dir && (e = readdir(dir)) != NULL) {
		char file[1400];
		int fd;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/cgroup.kill", path, e->d_name);
		fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) == 1) {
			fprintf(stderr, "cleanup: killed a jail left in %s/%s\n", path, e->d_name);
			killed++;
		}
		close(fd);
	}
	if (dir)
		closedir(dir);
	return killed;
}

void corrald_kill_leftover_jails(const struct corrald *d)
{
	for_each_parent(d, kill_jails, NULL);
	test_sleep_ms(100);
}
