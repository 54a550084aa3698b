/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup_discover.c — layout discovery, once per process: the
 * mounts and the caller's own cgroups (parsed by runner/cgroup_layout.c),
 * the unified controllers, v1 swap accounting: one read of
 * /proc/self/mountinfo and /proc/self/cgroup, no library (libcgroup's
 * cgroup_init() read /proc/mounts again and cost ~0.4 ms per process).
 * Also the small file I/O helpers the cgroup files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/cgroup_internal.h"

/* ---- file helpers ---------------------------------------------------- */

int cgroup_write_text(const char *path, const char *text)
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

ssize_t cgroup_read_text(const char *path, char *buf, size_t size)
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
		ssize_t n = cgroup_read_text(path, buf, size);
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

char *cgroup_path_join(const char *dir, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return NULL;
	return p;
}

/* ---- layout discovery, once per process ------------------------------ */

static struct {
	pthread_once_t once;
	int result;              /* 0 or -errno */
	struct jail_error error; /* why discovery failed */
	struct cgroup_layout layout;
	bool memsw;    /* v1 memory.memsw.* exists (swap accounting on) */
	bool kmem_tcp; /* v1 memory.kmem.tcp.* exists (socket buffers can be charged) */
} discovery = { .once = PTHREAD_ONCE_INIT };

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
		discovery.result = jail_error_set(err, -r, "cgroup_discover", "read %s", "/proc/self/cgroup");
		return;
	}
	cgroup_layout_parse_self(text, layout);
	free(text);

	if (!layout->unified.mounted || !layout->unified.own_known) {
		discovery.result = jail_error_set(
			err, ENODEV, "cgroup_discover",
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
						  "place own cgroup %s inside the cgroup2 mount %s",
						  layout->unified.own, layout->unified.mount);
		return;
	}
	if (snprintf(path, sizeof(path), "%s%s%s/cgroup.controllers", layout->unified.mount, *rel ? "/" : "",
		     rel) >= (int)sizeof(path)) {
		discovery.result = jail_error_set(err, ENAMETOOLONG, "cgroup_discover", "own cgroup path %s",
						  rel);
		return;
	}
	ssize_t n = cgroup_read_text(path, buf, sizeof(buf));
	if (n < 0) {
		discovery.result = jail_error_set(err, (int)-n, "cgroup_discover", "read %s", path);
		return;
	}
	layout->v2_controllers = cgroup_layout_parse_controllers(buf);

	struct cgroup_hierarchy *mem = &layout->v1[CGROUP_MEMORY];
	if (mem->mounted && cgroup_layout_relative(mem, NULL, NULL, rel, sizeof(rel)) == 0) {
		discovery.memsw = snprintf(path, sizeof(path), "%s%s%s/memory.memsw.limit_in_bytes",
					   mem->mount, *rel ? "/" : "", rel) < (int)sizeof(path) &&
			access(path, F_OK) == 0;
		discovery.kmem_tcp = snprintf(path, sizeof(path), "%s%s%s/memory.kmem.tcp.limit_in_bytes",
					      mem->mount, *rel ? "/" : "", rel) < (int)sizeof(path) &&
			access(path, F_OK) == 0;
	}
	discovery.result = 0;
}

int cgroup_layout_get(const struct cgroup_layout **out, struct jail_error *err)
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
int cgroup_layout_set_own(const char *own)
{
	if (strlen(own) >= sizeof(discovery.layout.unified.own))
		return -ENAMETOOLONG;
	strcpy(discovery.layout.unified.own, own);
	return 0;
}

bool cgroup_v1_memsw(void)
{
	return discovery.memsw;
}

bool cgroup_v1_kmem_tcp(void)
{
	return discovery.kmem_tcp;
}
