/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/host_etc.c — which parts of the host's /etc every jail gets,
 * computed once per process on the host (not per jail), and handed to the
 * jail's corral-init, which mirrors them read-only (runner/init/init_mounts.c).
 *
 * The rule (README, "The jail's /etc"): a path below /etc is given when
 *   - it matches the list of runtime data below (the dynamic linker, name
 *     service switch, alternatives, time zone, CA certificates, Java's
 *     java-*, PHP's ini files, Python's and Perl's site config, MIME types,
 *     libmagic, services and protocols, ...), or a symlink among those points
 *     to it; and
 *   - it is safe: not on the deny list (shadow files, ssh, ssl/private,
 *     machine-id, sudoers, corral's own policy, ...) and world-readable all
 *     the way down (files readable by others, directories readable and
 *     searchable by others, nothing but files, directories and symlinks
 *     below).
 * The whole top-level entry (/etc/java-17-openjdk) is given when it is safe,
 * else the nearest safe ancestor of the path (/etc/ssl/certs, not /etc/ssl
 * with its private/), else nothing.  The generated files (passwd, group,
 * hosts, hostname) are never taken from the host.
 *
 * Not a scan of /usr for symlinks into /etc: that reads every directory of
 * /usr (0.4 s for 175,000 entries here, over 3 minutes on a 9p root in the
 * test VM), where this reads /etc's top level and the matches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/cleanup.h"
#include "runner/host_etc.h"
#include "runner/jail.h"

/* What runtimes read from /etc: top-level names (fnmatch patterns) and a
 * few paths below (given if they exist). */
static const char *const runtime_patterns[] = {
	"ld.so.cache",
	"ld.so.conf",
	"ld.so.conf.d",
	"nsswitch.conf",
	"gai.conf",
	"host.conf",
	"alternatives",
	"localtime",
	"timezone",
	"locale.alias",
	"os-release",
	"ca-certificates",
	"ca-certificates.conf",
	"java-*",
	"php",
	"python3",
	"python3.*",
	"perl",
	"fonts",
	"magic",
	"magic.mime",
	"mime.types",
	"services",
	"protocols",
	"ethertypes",
	"rpc",
	"terminfo",
	"xml",
	"sgml",
	"groff",
	"maven",
	"npmrc",
	"pip.conf",
	"gitconfig",
	"inputrc",
	"fpc.cfg",
	"fpc-*.cfg",
	"gnucobol",
};
static const char *const runtime_paths[] = { "ssl/certs", "ssl/openssl.cnf" };

/* Never given, even when world-readable (a path or anything below it). */
static const char *const denied_paths[] = {
	"shadow",
	"shadow-",
	"gshadow",
	"gshadow-",
	"passwd-",
	"group-",
	"subuid",
	"subgid",
	"ssh",
	"ssl/private",
	"machine-id",
	"sudoers",
	"sudoers.d",
	"corral",
	"credstore",
	"credstore.encrypted",
	"security",
	"krb5.keytab",
	"ipsec.secrets",
	"ppp",
	"wireguard",
	"NetworkManager",
	"openvpn",
	"cups",
	"libvirt",
	"docker",
	/* generated in every jail (runner/init/init_mounts.c) */
	"passwd",
	"group",
	"hosts",
	"hostname",
};

/* Bounds, so a strange host cannot make a safety walk endless. */
#define MAX_SAFE_ENTRIES 20000
#define MAX_SAFE_DEPTH 12

struct string_list {
	char **items;
	size_t n, cap;
};

static int list_add(struct string_list *l, const char *s)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	l->items[l->n++] = copy;
	return 0;
}

static void list_free(struct string_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* path equals prefix or lies below it */
static bool path_within(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool path_denied(const char *rel)
{
	for (size_t i = 0; i < sizeof(denied_paths) / sizeof(denied_paths[0]); i++)
		if (path_within(rel, denied_paths[i]))
			return true;
	return false;
}

bool host_etc_path_allowed(const char *rel)
{
	const char *c = rel;

	if (!*rel || *rel == '/' || path_denied(rel))
		return false;
	while (*c) {
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += len;
		if (*c == '/')
			c++;
	}
	return c[-1] != '/';
}

/* Lexically normalise the absolute path in buf in place ("a/./b/../c" ->
 * "a/c"); ".." above / stays at /. */
static void normalise_path(char *buf)
{
	char out[PATH_MAX];
	size_t len = 0;
	char *save = NULL;

	out[0] = '\0';
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
			continue;
		}
		if (len + strlen(c) + 2 >= sizeof(out))
			break;
		out[len++] = '/';
		strcpy(out + len, c);
		len += strlen(c);
	}
	if (len == 0)
		strcpy(out, "/");
	strcpy(buf, out);
}

/* If symlink text target (found in directory dir, absolute, relative to the
 * root) names a path below /etc, add that path (relative to /etc). */
static int add_if_etc_target(struct string_list *found, const char *dir, const char *target)
{
	char buf[PATH_MAX];

	int n = target[0] == '/' ? snprintf(buf, sizeof(buf), "%s", target)
				 : snprintf(buf, sizeof(buf), "%s/%s", dir, target);

	if (n < 0 || n >= (int)sizeof(buf))
		return 0;
	normalise_path(buf);
	if (strncmp(buf, "/etc/", 5) != 0 || !buf[5])
		return 0;
	return list_add(found, buf + 5);
}

/* Is the entry name of dir_fd (rel below /etc) safe to give: not denied,
 * world-readable all the way down, only files, directories and symlinks.
 * d_type is readdir's (DT_UNKNOWN: ask fstatat); a symlink needs no stat,
 * as lstat would only say "symlink" (not followed).  That and opening
 * each directory's entries relative to it keep the walk cheap: /etc/ssl/certs
 * and /etc/alternatives are hundreds of symlinks each, and corral-run walks
 * them on every run.  *budget bounds the entries looked at. */
static bool entry_safe(int dir_fd, const char *name, const char *rel, unsigned char d_type, int depth,
		       long *budget)
{
	struct stat st;
	bool safe = true;
	DIR *d;
	struct dirent *e;
	int fd;

	if (path_denied(rel) || --*budget < 0 || depth > MAX_SAFE_DEPTH)
		return false;
	if (d_type == DT_LNK)
		return true;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISLNK(st.st_mode))
		return true;
	if (S_ISREG(st.st_mode))
		return (st.st_mode & S_IROTH) != 0;
	if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH))
		return false;
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (safe && (e = readdir(d)) != NULL) {
		char child[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", rel, e->d_name) >= (int)sizeof(child))
			safe = false;
		else
			safe = entry_safe(fd, e->d_name, child, e->d_type, depth + 1, budget);
	}
	closedir(d);
	return safe;
}

/* Is rel (below etc_fd) safe to give (entry_safe). */
static bool path_safe(int etc_fd, const char *rel, long *budget)
{
	return entry_safe(etc_fd, rel, rel, DT_UNKNOWN, 0, budget);
}

static int cmp_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Symlinks in /etc that lead elsewhere in /etc: their targets are needed
 * too (a few rounds; a loop just stops). */
static int follow_etc_links(int etc_fd, struct string_list *found)
{
	for (size_t i = 0; i < found->n && i < 4096; i++) {
		char target[PATH_MAX], dir[PATH_MAX + 8];
		const char *slash;
		ssize_t n = readlinkat(etc_fd, found->items[i], target, sizeof(target) - 1);
		int r;

		if (n <= 0)
			continue;
		target[n] = '\0';
		slash = strrchr(found->items[i], '/');
		snprintf(dir, sizeof(dir), "/etc/%.*s", slash ? (int)(slash - found->items[i]) : 0,
			 found->items[i]);
		r = add_if_etc_target(found, dir, target);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reduce the candidates to the given set: the outermost safe ancestor of
 * each (see the file's header), sorted, none below another. */
static int reduce(int etc_fd, struct string_list *found, struct string_list *out)
{
	qsort(found->items, found->n, sizeof(*found->items), cmp_string);
	for (size_t i = 0; i < found->n; i++) {
		const char *c = found->items[i];
		char prefix[PATH_MAX];
		bool covered = false;
		int r;

		for (size_t j = 0; j < out->n && !covered; j++)
			covered = path_within(c, out->items[j]);
		if (covered || path_denied(c))
			continue;
		for (const char *slash = c;; slash++) {
			long budget = MAX_SAFE_ENTRIES;

			slash = strchr(slash, '/');
			snprintf(prefix, sizeof(prefix), "%.*s", slash ? (int)(slash - c) : (int)strlen(c),
				 c);
			if (path_safe(etc_fd, prefix, &budget)) {
				r = list_add(out, prefix);
				if (r < 0)
					return r;
				break;
			}
			if (!slash)
				break;
		}
	}
	/* an ancestor found later may cover an earlier, deeper entry */
	qsort(out->items, out->n, sizeof(*out->items), cmp_string);
	{
		size_t kept = 0;

		for (size_t i = 0; i < out->n; i++) {
			if (kept && path_within(out->items[i], out->items[kept - 1])) {
				free(out->items[i]);
				continue;
			}
			out->items[kept++] = out->items[i];
		}
		out->n = kept;
	}
	return 0;
}

/* The top-level entries of /etc that match runtime_patterns, and the
 * runtime_paths that exist. */
static int match_runtime_data(int etc_fd, struct string_list *found)
{
	int fd = openat(etc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	struct stat st;
	DIR *d;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		for (size_t i = 0; i < sizeof(runtime_patterns) / sizeof(runtime_patterns[0]); i++) {
			if (e->d_name[0] != '.' && fnmatch(runtime_patterns[i], e->d_name, 0) == 0) {
				r = list_add(found, e->d_name);
				break;
			}
		}
	}
	closedir(d);
	for (size_t i = 0; r == 0 && i < sizeof(runtime_paths) / sizeof(runtime_paths[0]); i++)
		if (fstatat(etc_fd, runtime_paths[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = list_add(found, runtime_paths[i]);
	return r;
}

int host_etc_scan(const char *root, struct host_etc **out, struct jail_error *err)
{
	struct string_list found = { 0 }, given = { 0 };
	_cleanup_close_ int root_fd = -1, etc_fd = -1;
	struct host_etc *he = NULL;
	int r = 0;

	*out = NULL;
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return jail_error_set(err, errno, "host /etc", "open root %s", root);
	etc_fd = openat(root_fd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc_fd >= 0)
		r = match_runtime_data(etc_fd, &found);
	if (r == 0 && etc_fd >= 0)
		r = follow_etc_links(etc_fd, &found);
	if (r == 0 && etc_fd >= 0)
		r = reduce(etc_fd, &found, &given);
	list_free(&found);
	if (r == 0) {
		he = calloc(1, sizeof(*he));
		if (!he)
			r = -ENOMEM;
	}
	if (r < 0) {
		list_free(&given);
		return jail_error_set(err, -r, "host /etc", "list the host's /etc paths for jails");
	}
	he->paths = given.items;
	he->n = given.n;
	he->refs = 1;
	*out = he;
	return 0;
}

void host_etc_free(struct host_etc *he)
{
	if (!he)
		return;
	for (size_t i = 0; i < he->n; i++)
		free(he->paths[i]);
	free(he->paths);
	free(he);
}

/* ---- the process's current set ------------------------------------------- */

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct host_etc *current;

static void release_locked(struct host_etc *he)
{
	if (he && --he->refs == 0)
		host_etc_free(he);
}

void host_etc_set_current(struct host_etc *he)
{
	pthread_mutex_lock(&current_lock);
	release_locked(current);
	current = he;
	pthread_mutex_unlock(&current_lock);
}

int jail_host_etc_refresh(struct jail_error *err)
{
	struct host_etc *he;
	int r = host_etc_scan("/", &he, err);

	if (r < 0)
		return r;
	host_etc_set_current(he);
	return 0;
}

int host_etc_acquire(struct host_etc **out, struct jail_error *err)
{
	int r;

	pthread_mutex_lock(&current_lock);
	if (!current) {
		pthread_mutex_unlock(&current_lock);
		r = jail_host_etc_refresh(err);
		if (r < 0)
			return r;
		pthread_mutex_lock(&current_lock);
	}
	current->refs++;
	*out = current;
	pthread_mutex_unlock(&current_lock);
	return 0;
}

void host_etc_release(struct host_etc *he)
{
	pthread_mutex_lock(&current_lock);
	release_locked(he);
	pthread_mutex_unlock(&current_lock);
}
