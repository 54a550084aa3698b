/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc_cache.c — the host /etc set (runner/host_etc.c) kept in a
 * file from one process to the next.  corral-run starts one jail per
 * process, and the scan (/etc's top level, then every directory it gives,
 * walked for its safety: ~480 syscalls, 1.5-3 ms of CPU here) cost each run
 * more than the jail's mounts.  A process that finds the file fresh takes
 * the set from it: one read and a stat per directory the set names.
 *
 * Fresh means: written less than HOST_ETC_CACHE_MAX_AGE_S ago (the clock
 * going back makes it stale), and /etc itself and each directory the set
 * gives or holds a given path in has the inode and ctime it had then (an
 * entry added, removed or renamed there, a mode or owner changed, changes
 * the ctime).  What it does not see at once (a change deeper inside a given
 * directory) the next scan sees, at most that long after: the same promise
 * a corrald makes between its scans (start and reload), and not a safety
 * one: the jail's child reads every host file as the jail's own uid, so a
 * file that stopped being world-readable is left out all the same, and a
 * given directory is a bind whose contents the kernel shows as they are.
 * Given files and symlinks need no stamp: the child copies and reads them
 * at each spawn.
 *
 * The file belongs to root (the euid), in a directory only root may write
 * (the caller's: corral-run's /run/corral-run, mode 0700); a file that is
 * not root's alone, too big, or malformed is scanned over and replaced.
 * Every path read from it passes host_etc_path_allowed() (never a denied or
 * absolute path, nor one with "..").  Written to a temporary name and
 * renamed, so a reader sees a whole file.
 *
 *   corral-host-etc 1
 *   created SECONDS          (CLOCK_REALTIME)
 *   stamp DEV INO CTIME_SEC CTIME_NSEC REL     (REL "." is /etc itself)
 *   path REL
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/cleanup.h"
#include "runner/host_etc.h"
#include "runner/jail.h"

#define CACHE_MAGIC "corral-host-etc 1\n"
#define CACHE_MAX_BYTES (1 << 20)
#define CACHE_MAX_STAMPS 4096

static bool stamp_matches(int etc_fd, const char *rel, uint64_t dev, uint64_t ino, int64_t sec, int64_t nsec)
{
	struct stat st;

	if (fstatat(etc_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino &&
		(int64_t)st.st_ctim.tv_sec == sec && (int64_t)st.st_ctim.tv_nsec == nsec;
}

/* Read the whole file if it is root's alone (the euid's), regular and not
 * too big; NUL-terminated.  NULL when it is missing or not to be trusted. */
static char *read_cache_file(const char *cache_path)
{
	_cleanup_close_ int fd = open(cache_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	size_t off = 0;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) || st.st_size <= 0 ||
	    st.st_size > CACHE_MAX_BYTES)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != (size_t)st.st_size) {
		free(buf);
		return NULL;
	}
	buf[off] = '\0';
	return buf;
}

static int add_path(struct host_etc *he, size_t *cap, const char *rel)
{
	if (he->n == *cap) {
		size_t n = *cap ? *cap * 2 : 32;
		char **paths = realloc(he->paths, n * sizeof(*paths));

		if (!paths)
			return -ENOMEM;
		he->paths = paths;
		*cap = n;
	}
	he->paths[he->n] = strdup(rel);
	if (!he->paths[he->n])
		return -ENOMEM;
	he->n++;
	return 0;
}

int host_etc_cache_load(const char *cache_path, const char *root, time_t now, struct host_etc **out)
{
	_cleanup_free_ char *text = read_cache_file(cache_path);
	_cleanup_close_ int root_fd = -1, etc_fd = -1;
	struct host_etc *he = NULL;
	size_t cap = 0, stamps = 0;
	bool created = false, etc_stamped = false;
	char *line, *save = NULL;
	int r = -ESTALE;

	*out = NULL;
	if (!text || strncmp(text, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0)
		return -ESTALE;
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	etc_fd = openat(root_fd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc_fd < 0)
		return -ESTALE; /* a root without /etc: the scan says what it gives */
	he = calloc(1, sizeof(*he));
	if (!he)
		return -ENOMEM;
	he->refs = 1;
	for (line = strtok_r(text + strlen(CACHE_MAGIC), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		uint64_t dev, ino;
		int64_t sec, nsec;
		long long when;
		int used = 0;

		if (sscanf(line, "created %lld%n", &when, &used) == 1 && line[used] == '\0') {
			if (when > (long long)now || (long long)now - when >= HOST_ETC_CACHE_MAX_AGE_S)
				goto out;
			created = true;
		} else if (sscanf(line, "stamp %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %n", &dev,
				  &ino, &sec, &nsec, &used) == 4 &&
			   used > 0 && line[used]) {
			const char *rel = line + used;

			if (++stamps > CACHE_MAX_STAMPS ||
			    (strcmp(rel, ".") != 0 && !host_etc_path_allowed(rel)) ||
			    !stamp_matches(etc_fd, rel, dev, ino, sec, nsec))
				goto out;
			etc_stamped = etc_stamped || strcmp(rel, ".") == 0;
		} else if (strncmp(line, "path ", 5) == 0 && host_etc_path_allowed(line + 5)) {
			r = add_path(he, &cap, line + 5);
			if (r < 0)
				goto out;
			r = -ESTALE;
		} else {
			goto out; /* malformed, or a path no scan could give */
		}
	}
	/* /etc itself is always stamped */
	if (created && etc_stamped) {
		*out = he;
		he = NULL;
		r = 0;
	}
out:
	host_etc_free(he);
	return r;
}

/* A line "stamp ..." for rel (below etc_fd) if it is a directory. */
static int write_stamp(FILE *f, int etc_fd, const char *rel)
{
	struct stat st;

	if (fstatat(etc_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return 0;
	fprintf(f, "stamp %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n", (uint64_t)st.st_dev,
		(uint64_t)st.st_ino, (int64_t)st.st_ctim.tv_sec, (int64_t)st.st_ctim.tv_nsec, rel);
	return 0;
}

/* The stamps: /etc, each given directory, and each directory that holds a
 * given nested path (ssl for ssl/certs). */
static int write_cache(FILE *f, int etc_fd, const struct host_etc *he, time_t now)
{
	int r;
	char parent[PATH_MAX], last_parent[PATH_MAX] = "";

	fprintf(f, CACHE_MAGIC "created %lld\n", (long long)now);
	r = write_stamp(f, etc_fd, ".");
	for (size_t i = 0; r == 0 && i < he->n; i++) {
		const char *slash;

		r = write_stamp(f, etc_fd, he->paths[i]);
		/* the set is sorted: a parent shared with the previous path
		 * (ssl for ssl/certs and ssl/openssl.cnf) is stamped once */
		for (slash = strchr(he->paths[i], '/'); r == 0 && slash; slash = strchr(slash + 1, '/')) {
			snprintf(parent, sizeof(parent), "%.*s", (int)(slash - he->paths[i]), he->paths[i]);
			if (strcmp(parent, last_parent) == 0 ||
			    (strncmp(last_parent, parent, strlen(parent)) == 0 &&
			     last_parent[strlen(parent)] == '/'))
				continue;
			r = write_stamp(f, etc_fd, parent);
			snprintf(last_parent, sizeof(last_parent), "%s", parent);
		}
	}
	for (size_t i = 0; r == 0 && i < he->n; i++)
		fprintf(f, "path %s\n", he->paths[i]);
	return r;
}

int host_etc_cache_store(const char *cache_path, const char *root, time_t now, const struct host_etc *he)
{
	_cleanup_close_ int root_fd = -1, etc_fd = -1;
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r;

	for (size_t i = 0; i < he->n; i++)
		if (strchr(he->paths[i], '\n') || !host_etc_path_allowed(he->paths[i]))
			return -EINVAL; /* not kept: the next process scans again */
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	etc_fd = openat(root_fd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc_fd < 0)
		return -errno;
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", cache_path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	r = write_cache(f, etc_fd, he, now);
	if (fflush(f) != 0 && r == 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, cache_path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int jail_host_etc_refresh_cached(const char *cache_path, struct jail_error *err)
{
	time_t now = time(NULL);
	struct host_etc *he;
	int r = host_etc_cache_load(cache_path, "/", now, &he);

	if (r == -ENOMEM)
		return jail_error_set(err, ENOMEM, "host /etc", "read the host /etc cache %s", cache_path);
	if (r < 0) {
		r = host_etc_scan("/", &he, err);
		if (r < 0)
			return r;
		/* best effort: the set is good without its file */
		(void)host_etc_cache_store(cache_path, "/", now, he);
	}
	host_etc_set_current(he);
	return 0;
}
