/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc_dir.c — the jail's /etc prepared once on the host and
 * bound into each jail as one mount (corral-run, and corrald in its state
 * dir: jail_host_etc_prepare_in()).  Without it corral-init
 * builds /etc in every jail: the generated passwd, group, hostname and hosts
 * written, ~20 small host files (runner/host_etc.c's set) copied with a
 * sendfile each, symlinks read and made, parents made; and at the jail's
 * exit the root tmpfs's pages of those copies freed (~110 syscalls and
 * ~0.3 ms of CPU a run here).
 *
 * A prepared set is a directory BASE/<key hash> holding exactly what that
 * /etc would hold: the generated files, the copies (mode & 0644, as init
 * makes them), the symlinks, the parents of nested paths, and an empty
 * directory or file where init binds a host directory or a large file (it
 * still binds those itself, as the jail's uid).  Its key is the text of
 * everything the contents follow from: the jail's uid, gid and hostname,
 * the umask, and lstat of /etc, of each given path and of each parent of a
 * nested one (device, inode, mode and owner; for a file or a symlink also
 * its size, mtime and ctime to the nanosecond).  BASE/<hash>.key holds that text; a set is used only when its
 * key file says exactly the key computed now (a hash collision, or a set
 * made by another version, is never used), nor a set without a key file;
 * the key is written first (to a temporary name, renamed), then the set is
 * made under a temporary name and renamed into place whole.  A host file changed in place changes its mtime and
 * ctime, so the next run makes a new set: a jail sees the host's /etc as it
 * was at its start, as with the copies (a process that starts jails back
 * to back may stamp less often: jail_host_etc_restamp_after()).
 *
 * Who may read a set: copies are made only of files every uid may read
 * (mode r--r--r-- at least) below directories every uid may search
 * (--x--x--x), so a set shows nothing the jail's uid could not read on the
 * host; when any given file or parent is more private, no set is made and
 * init copies as before, reading as the jail's uid (which then leaves out
 * what that uid cannot read).  A copied file with an access ACL gives no
 * set either (its maker tries again at each run while that state lasts);
 * a directory's ACL is not looked at.  BASE belongs to the
 * euid, mode 0711 (not listable); the sets are 0755, their files root's:
 * in the jail they show as owned by the overflow uid like /usr's (init's
 * copies belonged to the jail's uid), and the bound /etc is read-only,
 * nosuid and nodev as before, and noexec too if BASE's filesystem is.
 *
 * Sets are not removed: one per distinct host /etc state, jail uid and
 * hostname, each the size of the copies (~200 KiB here); a running jail
 * may still use an old one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runner/cleanup.h"
#include "runner/host_etc.h"
#include "runner/internal.h"
#include "runner/jail.h"

#define KEY_MAGIC "corral-etc-set 1\n"
#define KEY_MAX (256u << 10)

static const char *prepared_base; /* set by jail_host_etc_prepare_in(); not freed */

int jail_host_etc_prepare_in(const char *base, struct jail_error *err)
{
	char *copy = NULL;

	if (base) {
		if (base[0] != '/')
			return jail_error_set(err, EINVAL, "host /etc", "%s is not an absolute path", base);
		copy = strdup(base);
		if (!copy)
			return jail_error_set(err, ENOMEM, "host /etc", "copy %s", base);
	}
	free((char *)prepared_base);
	prepared_base = copy;
	return 0;
}

/* A growing text (the key). */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0 || t->len + (size_t)n + 1 > KEY_MAX) {
			t->failed = true;
			return;
		}
		if (t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *p;

		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		p = realloc(t->buf, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->buf = p;
		t->cap = cap;
	}
}

/* What a set follows from: a copied file's or a symlink's contents (its
 * inode, size, mtime and ctime to the nanosecond), a directory's type,
 * mode and owner only (its entries are bound live or stamped one by one:
 * /etc's own mtime changes with every file made there). */
static void add_stamp(struct text *t, const char *rel, const struct stat *st)
{
	if (S_ISDIR(st->st_mode)) {
		text_add(t, "%s %o %u %u %" PRIu64 " %" PRIu64 "\n", rel, (unsigned)st->st_mode,
			 (unsigned)st->st_uid, (unsigned)st->st_gid, (uint64_t)st->st_dev,
			 (uint64_t)st->st_ino);
		return;
	}
	text_add(t, "%s %o %u %u %" PRIu64 " %" PRIu64 " %lld %lld.%09ld %lld.%09ld\n", rel,
		 (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid, (uint64_t)st->st_dev,
		 (uint64_t)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* Stamp /etc, each given path and the parents of nested ones into the key.
 * false when a set cannot show what init would (a private file or dir). */
static bool stamp_host_etc(int etc_fd, const struct host_etc *he, struct text *key)
{
	struct stat st;

	if (fstat(etc_fd, &st) < 0 || (st.st_mode & 0111) != 0111)
		return false;
	add_stamp(key, ".", &st);
	for (size_t i = 0; i < he->n; i++) {
		const char *rel = he->paths[i];
		char parent[PATH_MAX];

		/* each parent of a nested path, shortest first */
		for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
			snprintf(parent, sizeof(parent), "%.*s", (int)(s - rel), rel);
			if (fstatat(etc_fd, parent, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				text_add(key, "%s -\n", parent);
				break;
			}
			if (!S_ISDIR(st.st_mode) || (st.st_mode & 0111) != 0111)
				return false;
			add_stamp(key, parent, &st);
		}
		if (fstatat(etc_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return false;
			text_add(key, "%s -\n", rel);
			continue;
		}
		if (S_ISREG(st.st_mode) && st.st_size <= HOST_ETC_MAX_COPIED && (st.st_mode & 0444) != 0444)
			return false;
		add_stamp(key, rel, &st);
	}
	return !key->failed;
}

static uint64_t hash_text(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

enum key_state { KEY_MISSING, KEY_MATCHES, KEY_OTHER };

/* Whether BASE/NAME.key, ours, says exactly key. */
static enum key_state key_state(int base_fd, const char *name, const struct text *key)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t off = 0;

	snprintf(path, sizeof(path), "%s.key", name);
	fd = openat(base_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KEY_MISSING : KEY_OTHER;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (size_t)st.st_size != key->len)
		return KEY_OTHER;
	buf = malloc(key->len ? key->len : 1);
	if (!buf)
		return KEY_OTHER;
	while (off < key->len) {
		ssize_t n = read(fd, buf + off, key->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return KEY_OTHER;
		off += (size_t)n;
	}
	return memcmp(buf, key->buf, key->len) == 0 ? KEY_MATCHES : KEY_OTHER;
}

/* BASE/NAME is a directory of ours. */
static bool set_exists(int base_fd, const char *name)
{
	struct stat st;

	return fstatat(base_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
		st.st_uid == geteuid();
}

static int write_text_at(int dir_fd, const char *name, const char *text, size_t len, mode_t mode)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	ssize_t n = 0;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return off == len ? 0 : n < 0 ? -errno : -EIO;
}

static int copy_file_at(int etc_fd, const char *rel, int set_fd, mode_t mode, off_t size)
{
	/* O_NONBLOCK: a FIFO put there since the lstat must not hang us */
	_cleanup_close_ int in = openat(etc_fd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	size_t want = (size > 0 ? (size_t)size : 0) + 4096;
	ssize_t n;

	if (in < 0)
		return -errno;
	/* an ACL may keep some uid (the jail's) from a file "other" may read:
	 * no set (init copies it as the jail's uid, which the ACL binds) */
	if (fgetxattr(in, "system.posix_acl_access", NULL, 0) >= 0)
		return -EPERM;
	out = openat(set_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	do
		n = sendfile(out, in, NULL, want);
	while (n == (ssize_t)want || (n < 0 && errno == EINTR));
	return n < 0 ? -errno : 0;
}

/* One given path into the set (as corral-init's build_etc would make it). */
static int add_path(int etc_fd, int set_fd, const char *rel)
{
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;

	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.*s", (int)(s - rel), rel);
		if (mkdirat(set_fd, parent, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	if (fstatat(etc_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(etc_fd, rel, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = '\0';
		return symlinkat(link, set_fd, rel) < 0 ? -errno : 0;
	}
	if (S_ISREG(st.st_mode) && st.st_size <= HOST_ETC_MAX_COPIED)
		return copy_file_at(etc_fd, rel, set_fd, st.st_mode & 0644, st.st_size);
	/* where init binds the host's directory or large file */
	if (S_ISDIR(st.st_mode))
		return mkdirat(set_fd, rel, 0755) < 0 && errno != EEXIST ? -errno : 0;
	return mknodat(set_fd, rel, S_IFREG | 0644, 0) < 0 && errno != EEXIST ? -errno : 0;
}

/* What a failed or lost make leaves: our own temporary set. */
static int remove_tree_at(int dir_fd, const char *name)
{
	char path[PATH_MAX];
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s", e->d_name);
		remove_tree_at(dirfd(d), path);
	}
	closedir(d);
	return unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* Make the set NAME: its key first (a key with no set is made again by
 * the next process), then the set under a temporary name, renamed. */
static int make_set(int base_fd, int etc_fd, const struct host_etc *he, const char *const generated[4][2],
		    const char *name, const struct text *key, mode_t mask)
{
	char tmp[64], key_tmp[64], key_name[64];
	_cleanup_close_ int set_fd = -1;
	int r;

	snprintf(key_tmp, sizeof(key_tmp), ".%s.key.%d", name, (int)getpid());
	snprintf(key_name, sizeof(key_name), "%s.key", name);
	unlinkat(base_fd, key_tmp, 0); /* a dead process's of our pid */
	r = write_text_at(base_fd, key_tmp, key->buf, key->len, 0600);
	if (r == 0 && renameat(base_fd, key_tmp, base_fd, key_name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(base_fd, key_tmp, 0);
		return r;
	}
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	remove_tree_at(base_fd, tmp);
	if (mkdirat(base_fd, tmp, 0700) < 0)
		return -errno;
	set_fd = openat(base_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (set_fd < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < 4; i++)
		r = write_text_at(set_fd, generated[i][0], generated[i][1], strlen(generated[i][1]), 0644);
	for (size_t i = 0; r == 0 && i < he->n; i++)
		r = add_path(etc_fd, set_fd, he->paths[i]);
	if (r == 0 && fchmod(set_fd, 0755 & ~mask) < 0)
		r = -errno;
	/* a set another process made meanwhile, for the same key: as good */
	if (r == 0 && renameat(base_fd, tmp, base_fd, name) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = -errno;
	remove_tree_at(base_fd, tmp);
	return r;
}

/* corral-init opens the set as the jail's uid without following symlinks
 * (runner/init/init_mounts.c): every directory on the way to it must be one
 * (no symlink) that others may search, or the jail could not start. */
static bool base_reachable(const char *base)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s", base);
	for (char *slash = path; slash;) {
		slash = strchr(slash + 1, '/');
		if (slash)
			*slash = '\0';
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || !(st.st_mode & S_IXOTH))
			return false;
		if (slash)
			*slash = '/';
	}
	return true;
}

/* The last set found, for a caller that starts jails back to back
 * (corrald, jail_host_etc_restamp_after()): the same question within
 * memo_us takes the same answer without stamping /etc again (~65 system
 * calls in the caller's loop); a host file changed reaches the jails
 * started from memo_us later on.  0 (the default): every call stamps. */
static uint64_t memo_us;
static struct {
	const char *base;
	const struct host_etc *he;
	size_t n;
	uid_t uid;
	gid_t gid;
	mode_t mask;
	uint64_t at_us;
	char root[PATH_MAX], hostname[256], out[PATH_MAX];
} memo;

static bool memo_answers(const char *root, const struct host_etc *he, const struct jail_spec *spec,
			 mode_t mask, char *out, size_t out_len)
{
	if (memo.base != prepared_base || memo.he != he || memo.n != he->n || memo.uid != spec->uid ||
	    memo.gid != spec->gid || memo.mask != mask || monotonic_us() - memo.at_us >= memo_us ||
	    strcmp(memo.root, root) != 0 || strcmp(memo.hostname, spec->hostname) != 0)
		return false;
	return snprintf(out, out_len, "%s", memo.out) < (int)out_len;
}

void jail_host_etc_restamp_after(uint64_t us)
{
	memo_us = us;
	memo.base = NULL;
}

static void memo_keep(const char *root, const struct host_etc *he, const struct jail_spec *spec, mode_t mask,
		      const char *out)
{
	if (memo_us == 0 || strlen(root) >= sizeof(memo.root) ||
	    strlen(spec->hostname) >= sizeof(memo.hostname) || strlen(out) >= sizeof(memo.out))
		return;
	memo.base = prepared_base;
	memo.he = he;
	memo.n = he->n;
	memo.uid = spec->uid;
	memo.gid = spec->gid;
	memo.mask = mask;
	strcpy(memo.root, root);
	strcpy(memo.hostname, spec->hostname);
	strcpy(memo.out, out);
	memo.at_us = monotonic_us();
}

int host_etc_dir_find(const char *root, const struct host_etc *he, const struct jail_spec *spec, char *out,
		      size_t out_len)
{
	char passwd[512], group[256], hostname[256], hosts[512], name[32], etc_path[PATH_MAX];
	const char *const generated[4][2] = {
		{ "passwd", passwd }, { "group", group }, { "hostname", hostname }, { "hosts", hosts }
	};
	_cleanup_close_ int base_fd = -1, etc_fd = -1;
	struct text key = { 0 };
	struct stat st;
	mode_t mask;
	int found = 0;

	if (!prepared_base || !spec->hostname || strchr(spec->hostname, '\n'))
		return 0;
	/* the umask init would create its files with (it inherits ours) */
	mask = umask(022);
	umask(mask);
	/* a set is root's: the jail's uid reads it as "other", so under a
	 * umask that takes from 0755 (027, 077) it could not open the set
	 * nor read its files; init builds /etc itself (its files the
	 * jail's uid's, as the umask says) */
	if (mask & 0755)
		return 0;
	if (memo_answers(root, he, spec, mask, out, out_len))
		return 1;
	host_etc_generated_text(spec, passwd, sizeof(passwd), group, sizeof(group), hostname,
				sizeof(hostname), hosts, sizeof(hosts));
	if ((mkdir(prepared_base, 0711) < 0 && errno != EEXIST) || !base_reachable(prepared_base))
		return 0;
	base_fd = open(prepared_base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base_fd < 0 || fstat(base_fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))
		return 0;
	snprintf(etc_path, sizeof(etc_path), "%s/etc", strcmp(root, "/") == 0 ? "" : root);
	etc_fd = open(etc_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc_fd < 0)
		return 0;
	text_add(&key, KEY_MAGIC "umask %o\n", (unsigned)mask);
	for (size_t i = 0; i < 4; i++)
		text_add(&key, "%s %zu\n%s", generated[i][0], strlen(generated[i][1]), generated[i][1]);
	if (!stamp_host_etc(etc_fd, he, &key))
		goto out;
	snprintf(name, sizeof(name), "%016" PRIx64, hash_text(key.buf, key.len));
	switch (key_state(base_fd, name, &key)) {
	case KEY_MATCHES:
		if (set_exists(base_fd, name))
			break;
		/* its maker died before the set was in place: make it */
		if (make_set(base_fd, etc_fd, he, generated, name, &key, mask) < 0 ||
		    !set_exists(base_fd, name))
			goto out;
		break;
	case KEY_MISSING:
		/* a set without its key is not to be trusted (it never is) */
		if (set_exists(base_fd, name) ||
		    make_set(base_fd, etc_fd, he, generated, name, &key, mask) < 0 ||
		    key_state(base_fd, name, &key) != KEY_MATCHES || !set_exists(base_fd, name))
			goto out;
		break;
	case KEY_OTHER: /* a hash collision, another version's set: none */
		goto out;
	}
	found = snprintf(out, out_len, "%s/%s", prepared_base, name) < (int)out_len;
	if (found)
		memo_keep(root, he, spec, mask, out);
out:
	free(key.buf);
	return found;
}
