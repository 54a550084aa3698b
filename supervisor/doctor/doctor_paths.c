/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_paths.c — the places corrald keeps things: the
 * state dir (its filesystem, free space, owner and mode) and the socket's
 * directory (owner, mode, every parent: whoever may write one could swap
 * the socket or read tenants' data), and whether /proc hides other users'
 * processes (tenants' argv are visible there otherwise).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "supervisor/common/macros.h"
#include "supervisor/doctor/doctor_internal.h"

#define MIB ((uint64_t)1024 * 1024)
#define SPACE_FAIL (64 * MIB)
#define SPACE_WARN (1024 * MIB)

static const struct {
	unsigned long magic;
	const char *name;
	enum doctor_verdict verdict; /* for a state dir */
	const char *why;
} filesystems[] = {
	{ 0xEF53, "ext4", DOCTOR_OK, NULL },
	{ 0x58465342, "xfs", DOCTOR_OK, NULL },
	{ 0x9123683E, "btrfs", DOCTOR_OK, NULL },
	{ 0x2FC12FC1, "zfs", DOCTOR_OK, NULL },
	{ 0xF2F52010, "f2fs", DOCTOR_OK, NULL },
	{ 0x794C7630, "overlayfs", DOCTOR_OK, NULL },
	{ 0x01021994, "tmpfs", DOCTOR_WARN, "the queue, results and usage vanish at reboot" },
	{ 0x858458F6, "ramfs", DOCTOR_WARN, "the queue, results and usage vanish at reboot" },
	{ 0x6969, "nfs", DOCTOR_WARN, "SQLite's locking is unreliable on network filesystems" },
	{ 0xFF534D42, "cifs", DOCTOR_WARN, "SQLite's locking is unreliable on network filesystems" },
	{ 0xFE534D42, "smb2", DOCTOR_WARN, "SQLite's locking is unreliable on network filesystems" },
	{ 0x00C36400, "ceph", DOCTOR_WARN, "SQLite's locking is unreliable on network filesystems" },
	{ 0x01021997, "9p", DOCTOR_WARN, "SQLite's locking is unreliable on network filesystems" },
	{ 0x65735546, "fuse", DOCTOR_WARN, "SQLite's locking is unreliable on FUSE filesystems" },
};

/* The nearest existing ancestor of path (path itself when it exists), in
 * out (host path, below the root).  false when nothing exists. */
static bool nearest_existing(const struct doctor_host *host, const char *path, char *out, size_t size,
			     bool *exists)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s", path);
	*exists = true;
	for (;;) {
		if (doctor_files_path(host, p, out, size) < 0)
			return false;
		if (stat(out, &st) == 0)
			return true;
		*exists = false;
		char *slash = strrchr(p, '/');
		if (!slash)
			return false;
		if (slash == p) {
			if (p[1] == '\0')
				return false;
			p[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

/* Why a directory (host path below the root: shown as path) is unsafe for
 * root's data: owner or mode.  "" when it is fine. */
static void judge_dir(const struct doctor_host *host, const char *shown, const char *real, bool must_be_dir,
		      char *why, size_t size)
{
	struct stat st;

	why[0] = '\0';
	if (lstat(real, &st) < 0) {
		snprintf(why, size, "cannot stat %s: %s", shown, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode))
		snprintf(why, size, "%s is a symbolic link", shown);
	else if (must_be_dir && !S_ISDIR(st.st_mode))
		snprintf(why, size, "%s is not a directory", shown);
	else if (st.st_uid != host->trusted_uid && st.st_uid != 0)
		snprintf(why, size, "%s belongs to uid %u, not root", shown, (unsigned)st.st_uid);
	else if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		snprintf(why, size, "%s is writable by %s (mode %04o)", shown,
			 st.st_mode & 002 ? "everyone" : "its group", (unsigned)(st.st_mode & 07777));
}

/* Check path and each of its existing parents (below the root); the first
 * problem in why. */
static bool judge_path(const struct doctor_host *host, const char *path, char *why, size_t size)
{
	char p[PATH_MAX], real[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (bool first = true;; first = false) {
		struct stat st;

		if (doctor_files_path(host, p, real, sizeof(real)) == 0 && lstat(real, &st) == 0) {
			judge_dir(host, p, real, true, why, size);
			/* a sticky world-writable parent (/tmp) still lets its owner's
			 * entries alone; the dir itself must not be one */
			if (!*why && first && (st.st_mode & 022))
				snprintf(why, size, "%s is writable by others (mode %04o)", p,
					 (unsigned)(st.st_mode & 07777));
			if (*why)
				return false;
		}
		char *slash = strrchr(p, '/');
		if (!slash || (slash == p && p[1] == '\0'))
			return true;
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
}

static void check_state_dir(const struct doctor_host *host, const char *dir, struct doctor_report *report)
{
	char real[PATH_MAX], why[PATH_MAX + 128];
	bool exists;
	struct statfs sf;

	if (!dir || dir[0] != '/') {
		doctor_report_add(report, DOCTOR_FAIL, "state_dir",
				  "set state_dir in [supervisor] to an absolute path",
				  "the state dir '%s' is not an absolute path", dir ? dir : "");
		return;
	}
	if (!nearest_existing(host, dir, real, sizeof(real), &exists)) {
		doctor_report_add(report, DOCTOR_FAIL, "state_dir", NULL,
				  "no part of the state dir %s exists", dir);
		return;
	}
	if (!judge_path(host, dir, why, sizeof(why)))
		doctor_report_add(report, DOCTOR_FAIL, "state_dir",
				  "make it and every parent belong to root and be writable by root "
				  "only (chown root: DIR; chmod go-w DIR)",
				  "the state dir %s holds every tenant's tasks and usage, but %s", dir, why);
	else if (exists)
		doctor_report_add(report, DOCTOR_OK, "state_dir", NULL,
				  "%s exists and only root can write it and its parents", dir);
	else
		doctor_report_add(report, DOCTOR_OK, "state_dir", NULL,
				  "%s does not exist yet: corrald creates it (as systemd's "
				  "StateDirectory=corral does)",
				  dir);

	if (statfs(real, &sf) < 0) {
		doctor_report_add(report, DOCTOR_WARN, "state_dir.filesystem", NULL, "cannot statfs %s: %s",
				  real, strerror(errno));
		return;
	}
	const char *fs = NULL, *fs_why = NULL;
	char unknown[32];
	enum doctor_verdict verdict = DOCTOR_OK;
	for (size_t i = 0; i < ELEMENTSOF(filesystems); i++)
		if ((unsigned long)sf.f_type == filesystems[i].magic) {
			fs = filesystems[i].name;
			verdict = filesystems[i].verdict;
			fs_why = filesystems[i].why;
		}
	if (!fs) {
		snprintf(unknown, sizeof(unknown), "type 0x%lx", (unsigned long)sf.f_type);
		fs = unknown;
	}
	uint64_t avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
	uint64_t total = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
	if (avail < SPACE_FAIL)
		verdict = DOCTOR_FAIL;
	else if (avail < SPACE_WARN && verdict == DOCTOR_OK)
		verdict = DOCTOR_WARN;
	doctor_report_add(report, verdict, "state_dir.filesystem",
			  verdict == DOCTOR_OK         ? NULL
				  : avail < SPACE_WARN ? "free space on it, or move state_dir"
						       : "move state_dir to a local disk filesystem",
			  "%s is on %s with %" PRIu64 " MiB free of %" PRIu64 " MiB%s%s%s", dir, fs,
			  avail / MIB, total / MIB,
			  avail < SPACE_FAIL           ? " (corrald needs at least 64 MiB)"
				  : avail < SPACE_WARN ? " (less than 1 GiB: tasks' outputs fill it fast)"
						       : "",
			  fs_why ? ": " : "", fs_why ? fs_why : "");
}

static void check_socket_dir(const struct doctor_host *host, const char *socket, struct doctor_report *report)
{
	char dir[PATH_MAX], real[PATH_MAX], why[PATH_MAX + 128];
	struct stat st;

	if (!socket || socket[0] != '/' || !strchr(socket + 1, '/')) {
		doctor_report_add(report, DOCTOR_FAIL, "socket_dir",
				  "set socket in [supervisor] to a path in a directory of its own, "
				  "e.g. /run/corral/corrald.sock",
				  "the socket '%s' is not an absolute path in a directory of its own",
				  socket ? socket : "");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", socket);
	*strrchr(dir, '/') = '\0';
	if (!judge_path(host, dir, why, sizeof(why))) {
		doctor_report_add(report, DOCTOR_FAIL, "socket_dir",
				  "make it and every parent belong to root and be writable by root "
				  "only (chown root: DIR; chmod 755 DIR)",
				  "whoever may write in the socket's directory can replace corrald's "
				  "socket with their own, and %s",
				  why);
		return;
	}
	if (doctor_files_path(host, dir, real, sizeof(real)) < 0 || stat(real, &st) < 0) {
		doctor_report_add(report, DOCTOR_OK, "socket_dir", NULL,
				  "%s does not exist yet: corrald creates it (as systemd's "
				  "RuntimeDirectory=corral does)",
				  dir);
		return;
	}
	if (!(st.st_mode & 001))
		doctor_report_add(report, DOCTOR_WARN, "socket_dir", "chmod o+x the directory",
				  "%s (mode %04o) cannot be searched by other users: only root%s can "
				  "reach the socket",
				  dir, (unsigned)(st.st_mode & 07777),
				  st.st_mode & 010 ? " and its group" : "");
	else
		doctor_report_add(report, DOCTOR_OK, "socket_dir", NULL,
				  "%s (mode %04o) belongs to root, only root writes it, every user "
				  "can reach the socket",
				  dir, (unsigned)(st.st_mode & 07777));
}

/* /proc mounted with hidepid=1/2 (noaccess/invisible)? */
static void check_proc(const struct doctor_host *host, struct doctor_report *report)
{
	_cleanup_free_ char *text = NULL;
	bool found = false, hidden = false;

	if (doctor_files_read(host, "/proc/self/mountinfo", &text) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		/* id parent dev root mountpoint options ... - fstype source superoptions */
		char *f[64];
		size_t n = 0;

		for (char *s2 = NULL, *t = strtok_r(line, " ", &s2); t && n < 64;
		     t = strtok_r(NULL, " ", &s2))
			f[n++] = t;
		for (size_t i = 6; i + 3 < n; i++)
			if (strcmp(f[i], "-") == 0) {
				if (strcmp(f[4], "/proc") == 0 && strcmp(f[i + 1], "proc") == 0) {
					found = true;
					hidden = strstr(f[i + 3], "hidepid=invisible") ||
						strstr(f[i + 3], "hidepid=noaccess") ||
						strstr(f[i + 3], "hidepid=2") ||
						strstr(f[i + 3], "hidepid=1");
				}
				break;
			}
	}
	if (!found)
		return;
	if (hidden)
		doctor_report_add(report, DOCTOR_OK, "proc.hidepid", NULL,
				  "/proc hides other users' processes (hidepid)");
	else
		doctor_report_add(report, DOCTOR_WARN, "proc.hidepid",
				  "on shared hosts: mount -o remount,hidepid=invisible /proc (and add "
				  "hidepid=invisible to /proc's line in /etc/fstab); keep secrets in "
				  "a task's env or stdin",
				  "/proc is mounted without hidepid: every local user can read every "
				  "tenant's task command lines");
}

void doctor_paths_check(const struct doctor_host *host, const struct doctor_config *config,
			struct doctor_report *report)
{
	check_state_dir(host, config->state_dir, report);
	check_socket_dir(host, config->socket, report);
	check_proc(host, report);
}
