/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/cgroup_procs.c — the processes of a cgroup subtree (see
 * cgroup_procs.h): cgroup.procs of each directory, recursively.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/cgroup_procs.h"

static void list_into(const char *dir, pid_t *pids, size_t max, size_t *n)
{
	char path[4096];
	FILE *f;
	DIR *d;
	struct dirent *e;
	long pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%ld", &pid) == 1) {
		if (*n < max)
			pids[*n] = (pid_t)pid;
		(*n)++;
	}
	if (f)
		fclose(f);
	d = opendir(dir);
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		list_into(path, pids, max, n);
	}
	if (d)
		closedir(d);
}

size_t cgroup_procs_list(const char *dir, pid_t *pids, size_t max)
{
	size_t n = 0;

	list_into(dir, pids, max, &n);
	return n;
}

static bool has_cmdline(pid_t pid, const char *cmdline, size_t len)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)len && memcmp(buf, cmdline, len) == 0;
}

bool cgroup_procs_find_cmdline(const char *dir, const char *cmdline, size_t len)
{
	size_t n = cgroup_procs_list(dir, NULL, 0), got;
	pid_t *pids;
	bool found = false;

	if (n == 0)
		return false;
	/* room for a few that join between the count and the listing */
	pids = calloc(n + 64, sizeof(*pids));
	if (!pids)
		return false;
	got = cgroup_procs_list(dir, pids, n + 64);
	for (size_t i = 0; i < got && i < n + 64 && !found; i++)
		found = has_cmdline(pids[i], cmdline, len);
	free(pids);
	return found;
}
