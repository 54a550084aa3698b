/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/task_workdir.c — /work of a task with files: a tmpfs
 * on the host at <task dir>/work (the size of the profile's /work, mode
 * 0700, owned by the jail's host uid) bound as the jail's /work; its
 * inputs written there by corrald before the spawn, and after any end
 * (exit, timeout, OOM, cancel, output limit, an adopted task after a
 * restart: the mount outlives corrald) its artifacts collected into the
 * store, then the tmpfs unmounted and removed.
 *
 * corrald is root and the tree is the task's: nothing here follows a
 * symlink (every open is O_NOFOLLOW, relative to a directory fd), crosses
 * into another filesystem, or opens what is not a regular file with one
 * link (a FIFO, a device, a hard link are skipped, never opened); inputs
 * are created O_EXCL in a directory nobody else can enter yet.
 *
 * Not here: the checks of a submit's files and the ops (op_files.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_files.h"

#define WORKDIR_MAX_ARTIFACTS 1000 /* files kept (listed) per task */
#define WORKDIR_MAX_DEPTH 64       /* directories deeper than this are not walked */
#define WORKDIR_MAX_ENTRIES 100000 /* entries looked at per task: a huge tree does not stall corrald */

static const char *workdir_path(struct daemon *d, int64_t id, char *buf, size_t size)
{
	char dir[4200];

	snprintf(buf, size, "%s/work", task_start_dir(d, id, dir, sizeof(dir)));
	return buf;
}

/* Unmount (lazily: a process may still hold it) and remove. */
static void workdir_remove(int64_t id, const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_task(LOG_LEVEL_WARNING, id, "unmount %s: %s", path, strerror(errno));
	if (rmdir(path) < 0 && errno != ENOENT)
		log_task(LOG_LEVEL_WARNING, id, "remove %s: %s", path, strerror(errno));
}

/* Open (creating) directory name below dirfd, owned by uid:gid. */
static int open_dir_below(int dirfd, const char *name, uint32_t mode, uid_t uid, gid_t gid)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Write one input below root: its parents made as needed, then the
 * directory or the file (O_EXCL, content from the store's chunks). */
static int write_input(struct daemon *d, int64_t id, int root, const struct store_file *f, uid_t uid,
		       gid_t gid, struct jail_error *err)
{
	_cleanup_free_ char *name = strdup(f->name);
	_cleanup_close_ int dir = -1, fd = -1;
	char *c, *slash;
	int r = 0, cur = root;

	if (!name)
		return jail_error_set(err, ENOMEM, "inputs", "copy %s", f->name);
	for (c = name; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		r = open_dir_below(cur, c, 0755, uid, gid);
		if (r < 0)
			return jail_error_set(err, -r, "inputs", "create the directory of %s", f->name);
		if (dir >= 0)
			close(dir);
		cur = dir = r;
	}
	if (f->is_dir) {
		r = open_dir_below(cur, c, f->mode, uid, gid);
		if (r < 0)
			return jail_error_set(err, -r, "inputs", "create directory %s", f->name);
		close(r);
		return 0;
	}
	fd = openat(cur, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return jail_error_set(err, errno, "inputs", "create %s", f->name);
	for (int64_t k = 0;; k++) {
		_cleanup_free_ char *b64 = NULL;
		_cleanup_free_ unsigned char *data = NULL;
		struct error serr;
		size_t len = 0;

		r = store_files_get_chunk(d->store, id, STORE_FILE_INPUT, f->name, k, &b64, &serr);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return jail_error_set(err, -r, TASK_STEP_STORE, "read input %s: %s", f->name,
					      serr.message);
		if (api_base64_decode(b64, strlen(b64), &data, &len) < 0)
			return jail_error_set(err, EIO, "inputs", "stored %s is not base64", f->name);
		if (len && write(fd, data, len) != (ssize_t)len)
			return jail_error_set(err, errno ? errno : ENOSPC, "inputs", "write %s", f->name);
	}
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, f->mode) < 0)
		return jail_error_set(err, errno, "inputs", "give %s to the jail's uid", f->name);
	return 0;
}

int task_workdir_prepare(struct daemon *d, int64_t id, uid_t uid, gid_t gid, uint64_t bytes, char *path,
			 size_t size, struct jail_error *err)
{
	struct store_file_list inputs = { 0 }, patterns = { 0 };
	struct error serr;
	char opts[128];
	int root = -1, r;

	if (store_files_list(d->store, id, STORE_FILE_INPUT, &inputs, &serr) < 0 ||
	    store_files_list(d->store, id, STORE_FILE_PATTERN, &patterns, &serr) < 0) {
		store_files_list_free(&inputs);
		return jail_error_set(err, EIO, TASK_STEP_STORE, "read the task's files: %s", serr.message);
	}
	if (bytes < 4096)
		bytes = 64u << 20; /* never an unlimited tmpfs */
	r = inputs.count || patterns.count;
	store_files_list_free(&patterns);
	if (!r)
		return 0;
	workdir_path(d, id, path, size);
	workdir_remove(id, path); /* an earlier attempt's */
	snprintf(opts, sizeof(opts), "size=%" PRIu64 ",mode=0700,uid=%u,gid=%u", bytes, (unsigned)uid,
		 (unsigned)gid);
	if (mkdir(path, 0700) < 0)
		r = jail_error_set(err, errno, "work dir", "create %s", path);
	else if (mount("corral-work", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		r = jail_error_set(err, errno, "work dir", "mount a tmpfs on %s", path);
	else if ((root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = jail_error_set(err, errno, "work dir", "open %s", path);
	/* by name: a directory before what it holds */
	for (size_t i = 0; r > 0 && i < inputs.count; i++)
		if (write_input(d, id, root, &inputs.items[i], uid, gid, err) < 0)
			r = -err->err;
	if (root >= 0)
		close(root);
	store_files_list_free(&inputs);
	if (r < 0)
		workdir_remove(id, path);
	return r < 0 ? r : 1;
}

/* ---- artifacts ------------------------------------------------------------ */

struct walk {
	struct daemon *d;
	int64_t id;
	struct store_file_list patterns;
	dev_t dev;
	uint64_t max_bytes, kept_bytes;
	size_t files, entries;
	bool failed; /* the store refused: stop */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Up to max bytes of fd into the store as a file's chunks, read and
 * written one store chunk at a time (corrald's memory stays one chunk per
 * file, whatever its size), its SHA-256 computed on the way; *len = the
 * bytes kept.  The metadata row is the caller's (it knows the cut). */
static int keep_chunks(struct walk *w, int fd, const char *rel, uint64_t max, uint64_t *len, char hex[65],
		       struct error *err)
{
	_cleanup_free_ unsigned char *buf = malloc(STORE_FILES_CHUNK);
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	bool eof = false;

	*len = 0;
	if (!buf)
		return error_set(err, ENOMEM, "artifacts", "a buffer for %s", rel);
	sha256_init(&ctx);
	for (int64_t k = 0; !eof && *len < max; k++) {
		size_t want = max - *len < STORE_FILES_CHUNK ? (size_t)(max - *len) : STORE_FILES_CHUNK,
		       got = 0;
		_cleanup_free_ char *b64 = NULL;
		int r;

		while (got < want) {
			ssize_t n = read(fd, buf + got, want - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				eof = true;
				break;
			}
			got += (size_t)n;
		}
		if (!got)
			break;
		sha256_update(&ctx, got, buf);
		b64 = api_base64_encode(buf, got);
		if (!b64)
			return error_set(err, ENOMEM, "artifacts", "encode %s", rel);
		r = store_files_put_chunk(w->d->store, w->id, STORE_FILE_ARTIFACT, rel, k, b64, (int64_t)got,
					  err);
		if (r < 0)
			return r;
		*len += got;
	}
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* Copy at most what is left of the cap: the head of a longer file, and the
 * file marked truncated. */
static void keep_file(struct walk *w, int dirfd, const char *name, const char *rel, const struct stat *seen)
{
	struct store_file f = { .name = (char *)rel, .mode = api_files_mode(seen->st_mode, false) };
	uint64_t left = w->max_bytes - w->kept_bytes, len = 0;
	_cleanup_close_ int fd = -1;
	struct stat st;
	struct error err;
	char extra, hex[65];

	w->files++;
	if (left == 0) {
		f.truncated = true; /* listed as cut, no data */
		f.sha256 = "";
		if (store_files_put(w->d->store, w->id, STORE_FILE_ARTIFACT, &f, &err) < 0)
			w->failed = true;
		return;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_ino != seen->st_ino || st.st_dev != w->dev) {
		w->files--;
		return; /* changed under us: not collected */
	}
	if ((uint64_t)st.st_size < left)
		left = (uint64_t)st.st_size;
	if (keep_chunks(w, fd, rel, left, &len, hex, &err) == 0) {
		/* more than the cap let in: cut */
		f.truncated = len == left && read(fd, &extra, 1) == 1;
		f.size = (int64_t)len;
		f.sha256 = hex;
		if (store_files_put(w->d->store, w->id, STORE_FILE_ARTIFACT, &f, &err) == 0) {
			w->kept_bytes += len;
			if (f.truncated)
				w->kept_bytes = w->max_bytes;
			return;
		}
	}
	log_task(LOG_LEVEL_WARNING, w->id, "keep artifact %s: %s", rel, err.message);
	w->failed = true;
}

/* A name a client can ask for: api_files_check_name's (no control byte,
 * which `corral fetch` refuses) and UTF-8 (a JSON string).  Another one
 * is not kept: listed, it would stop `corral fetch ID` at it, or be left
 * out of the list while its bytes stay stored. */
static bool fetchable(const char *rel)
{
	char why[400];
	json_t *s;

	if (api_files_check_name(rel, why, sizeof(why)) < 0)
		return false;
	s = json_string(rel); /* NULL: not UTF-8 */
	json_decref(s);
	return s != NULL;
}

static void walk_dir(struct walk *w, int dirfd, const char *prefix, int depth)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int fd = dup(dirfd);

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) && w->entries < WORKDIR_MAX_ENTRIES) {
		char **grown;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		w->entries++;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				break;
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(dir);
	if (n) /* qsort of a NULL array (an empty directory) is undefined */
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char rel[API_FILES_PATH_MAX + 2];
		struct stat st;

		if (w->failed || w->files >= WORKDIR_MAX_ARTIFACTS ||
		    (size_t)snprintf(rel, sizeof(rel), "%s%s%s", prefix, prefix[0] ? "/" : "", names[i]) >
			    API_FILES_PATH_MAX ||
		    fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != w->dev)
			continue;
		if (S_ISDIR(st.st_mode) && depth < WORKDIR_MAX_DEPTH) {
			_cleanup_close_ int sub = openat(dirfd, names[i],
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				walk_dir(w, sub, rel, depth + 1);
		} else if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
			bool match = false;

			for (size_t p = 0; p < w->patterns.count && !match; p++)
				match = api_files_match(&w->patterns.items[p].name, 1, rel);
			if (match && !fetchable(rel))
				log_task(LOG_LEVEL_WARNING, w->id,
					 "an artifact's name holds a control byte or is not UTF-8: not kept");
			else if (match)
				keep_file(w, dirfd, names[i], rel, &st);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Bytes a collection added to a tenant, counted once the batch they
 * joined commits (a rolled-back batch stored nothing). */
struct task_workdir_pending {
	struct task_workdir_pending *next;
	char *user;
	uint64_t bytes;
};

void task_workdir_batch_done(struct daemon *d, bool committed)
{
	while (d->workdir_pending) {
		struct task_workdir_pending *p = d->workdir_pending;
		struct duser *u = committed ? queue_find_user(d, p->user) : NULL;

		d->workdir_pending = p->next;
		if (u)
			u->stored_bytes += p->bytes;
		free(p->user);
		free(p);
	}
}

void task_workdir_count_at_commit(struct daemon *d, const char *user, uint64_t bytes)
{
	struct task_workdir_pending *p = calloc(1, sizeof(*p));

	if (!p || !(p->user = strdup(user))) {
		free(p);
		log_warning("out of memory: %" PRIu64 " bytes of %s's artifacts counted at the next start",
			    bytes, user);
		return;
	}
	p->bytes = bytes;
	p->next = d->workdir_pending;
	d->workdir_pending = p;
}

void task_workdir_drop(struct daemon *d, int64_t id)
{
	char path[4300];
	struct stat st;

	if (lstat(workdir_path(d, id, path, sizeof(path)), &st) == 0)
		workdir_remove(id, path);
}

void task_workdir_collect(struct daemon *d, int64_t id, const char *user)
{
	struct walk w = { .d = d, .id = id };
	struct policy_limits lim;
	struct stat st;
	struct error err;
	char path[4300];
	int root;

	workdir_path(d, id, path, sizeof(path));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return; /* the task has no files */
	w.max_bytes = tenants_limits_for(d, user, &lim) == 0 ? lim.max_artifact_bytes : 64u << 20;
	if (store_files_list(d->store, id, STORE_FILE_PATTERN, &w.patterns, &err) < 0)
		log_task(LOG_LEVEL_WARNING, id, "read its artifact patterns: %s; none kept", err.message);
	root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w.patterns.count && root >= 0 && fstat(root, &st) == 0 && daemon_batch(d)) {
		w.dev = st.st_dev;
		walk_dir(&w, root, "", 0);
		if (w.kept_bytes)
			task_workdir_count_at_commit(d, user, w.kept_bytes);
		log_task(LOG_LEVEL_INFO, id, "kept %zu artifacts, %" PRIu64 " bytes%s", w.files, w.kept_bytes,
			 w.failed ? " (the store refused the rest)" : "");
	}
	if (root >= 0)
		close(root);
	store_files_list_free(&w.patterns);
	workdir_remove(id, path);
}
