/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/adopt.c — a restarted supervisor takes over a jail that outlived
 * the process that spawned it: jail_adopt() (reopen the cgroup, find the
 * jail's init, pidfd on it), the adopted end for jail_finish()
 * (adopt_wait_end: no waitid, the status file instead of the report pipe),
 * and jail_read_status_file() for a jail whose cgroup is already gone.
 *
 * The jail's init is not our child: we can poll its pidfd (readable once it
 * exited) and signal it, never reap it.  What it wrote to the status file
 * just before exiting is the only account of how the command ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup.h"
#include "runner/internal.h"

#define ADOPT_END_TIMEOUT_MS 2000
#define STATUS_FILE_MAX 4096

/* Read up to size-1 bytes of an already open fd, NUL-terminated.  Bytes or -errno. */
static ssize_t read_fd_text(int fd, char *buf, size_t size)
{
	size_t off = 0;

	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return (ssize_t)off;
}

static ssize_t read_path_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read_fd_text(fd, buf, size);
	close(fd);
	return n;
}

/* ---- the status file ------------------------------------------------- */

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -EPROTO;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end != '\0')
		return -EPROTO;
	*out = (uint64_t)v;
	return 0;
}

/* "key=value" lines as init writes them (mark_exec, write_status_file),
 * into a REPORT_DONE record.  Unknown keys are skipped (a newer init may add
 * some); exit_code and signal are required, else -ENODATA when neither is
 * there (no end yet).  *started: the command may have run ("exec=1"
 * without "exec_error=", or an end from an init that predates the line). */
static int status_text_parse(char *text, struct report *rec, bool *started)
{
	bool have_code = false, have_signal = false, have_exec = false, exec_failed = false;
	long code = -1, sig = 0;
	char *save = NULL;

	memset(rec, 0, sizeof(*rec));
	*started = false;
	if (*text == '\0')
		return -ENODATA;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *value = strchr(line, '='), *end;
		uint64_t u = 0;

		if (!value)
			return -EPROTO;
		*value++ = '\0';
		if (strcmp(line, "exit_code") == 0 || strcmp(line, "signal") == 0) {
			long v;

			errno = 0;
			v = strtol(value, &end, 10);
			if (errno || end == value || *end != '\0')
				return -EPROTO;
			if (line[0] == 'e')
				code = v, have_code = true;
			else
				sig = v, have_signal = true;
			continue;
		}
		if (strcmp(line, "exec") == 0 || strcmp(line, "exec_error") == 0) {
			if (line[4] == '_')
				exec_failed = true;
			else
				have_exec = true;
			continue;
		}
		if (strcmp(line, "output_limit") != 0 && strcmp(line, "stdout_bytes") != 0 &&
		    strcmp(line, "stderr_bytes") != 0 && strcmp(line, "stdout_truncated") != 0 &&
		    strcmp(line, "stderr_truncated") != 0 && strcmp(line, "timeout") != 0 &&
		    strcmp(line, "cpu_limit") != 0 && strcmp(line, "lease_lost") != 0 &&
		    strcmp(line, "end_mono_us") != 0)
			continue;
		if (parse_u64(value, &u) < 0)
			return -EPROTO;
		if (strcmp(line, "timeout") == 0 || strcmp(line, "cpu_limit") == 0 ||
		    strcmp(line, "lease_lost") == 0) {
			/* the limit init enforced itself: written as one of the three */
			if (u && rec->limit_hit == INIT_LIMIT_NONE)
				rec->limit_hit = line[0] == 't' ? INIT_LIMIT_TIMEOUT
					: line[0] == 'c'        ? INIT_LIMIT_CPU
								: INIT_LIMIT_LEASH;
		} else if (strcmp(line, "end_mono_us") == 0)
			rec->end_mono_us = u;
		else if (strcmp(line, "output_limit") == 0)
			rec->output_limit_hit = u != 0;
		else if (strcmp(line, "stdout_bytes") == 0)
			rec->stdout_bytes = u;
		else if (strcmp(line, "stderr_bytes") == 0)
			rec->stderr_bytes = u;
		else if (strcmp(line, "stdout_truncated") == 0)
			rec->stdout_truncated = u != 0;
		else
			rec->stderr_truncated = u != 0;
	}
	*started = !exec_failed && (have_exec || have_code || have_signal);
	if (!have_code && !have_signal)
		return -ENODATA;
	if (!have_code || !have_signal)
		return -EPROTO;
	if (code >= 0 && code <= 255 && sig == 0)
		rec->wstatus = W_EXITCODE((int)code, 0);
	else if (code == -1 && sig > 0 && sig < 127)
		rec->wstatus = (int)sig; /* a wait status "killed by sig" */
	else
		return -EPROTO;
	rec->kind = REPORT_DONE;
	return 0;
}

/* The status file as a REPORT_DONE record.  Opened like the spec's host
 * files: no symlink in any component, a regular file only (O_NONBLOCK: a
 * FIFO planted there must not hang us before the check). */
static int status_file_read(const char *path, struct report *rec, bool *started)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char text[STATUS_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	memset(rec, 0, sizeof(*rec));
	*started = false;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EPROTO;
	}
	n = read_fd_text(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return (int)n;
	return status_text_parse(text, rec, started);
}

int jail_read_status_file(const char *path, struct jail_result *out)
{
	struct report rec;
	bool started = false;
	int r;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	r = status_file_read(path, &rec, &started);
	out->command_started = started;
	if (r < 0)
		return r;
	out->stdout_bytes = rec.stdout_bytes;
	out->stderr_bytes = rec.stderr_bytes;
	out->stdout_truncated = rec.stdout_truncated;
	out->stderr_truncated = rec.stderr_truncated;
	finish_decide_status(JAIL_OK, 0, &rec, out);
	return 0;
}

/* ---- finding the jail's init ----------------------------------------- */

/* How deep pid's pid namespace is below ours when pid is pid 1 there (its
 * "NSpid:" line has two or more fields, the last "1"), else 0. */
static int init_depth(pid_t pid)
{
	char path[64], text[4096], *line, *save = NULL;
	int depth = 0;
	long last = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_path_text(path, text, sizeof(text)) < 0)
		return 0;
	line = strstr(text, "\nNSpid:");
	if (!line)
		return 0;
	line += strlen("\nNSpid:");
	line[strcspn(line, "\n")] = '\0';
	for (char *f = strtok_r(line, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		last = strtol(f, NULL, 10);
		depth++;
	}
	return depth >= 2 && last == 1 ? depth : 0;
}

/* The pids of the cgroup (unified tree), malloc'd, *n of them. */
static int cgroup_pids(const struct jail_cgroup *cg, pid_t **out, size_t *n)
{
	char path[PATH_MAX + 64];
	size_t size = 4096;
	char *text = NULL;
	pid_t *pids = NULL;
	size_t count = 0, cap = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_path(cg));
	for (;;) {
		char *grown = realloc(text, size);

		if (!grown) {
			free(text);
			return -ENOMEM;
		}
		text = grown;
		len = read_path_text(path, text, size);
		if (len < 0) {
			free(text);
			return (int)len;
		}
		if ((size_t)len + 1 < size)
			break;
		size *= 4;
	}
	for (char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (count == cap) {
			pid_t *grown = realloc(pids, (cap ? cap * 2 : 16) * sizeof(*pids));

			if (!grown) {
				free(pids);
				free(text);
				return -ENOMEM;
			}
			pids = grown;
			cap = cap ? cap * 2 : 16;
		}
		if (pid > 0)
			pids[count++] = (pid_t)pid;
		p = end + (*end == '\n');
	}
	free(text);
	*out = pids;
	*n = count;
	return 0;
}

/* The cgroup's process that is pid 1 of the shallowest pid namespace (a
 * namespace nested inside the jail would also have a pid 1; the seccomp
 * filter forbids it, but pick the outer one regardless).  0 if none. */
static int find_init_pid(const struct jail_cgroup *cg, pid_t *init)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int best = 0;
	int r = cgroup_pids(cg, &pids, &n);

	*init = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		int depth = init_depth(pids[i]);

		if (depth && (!best || depth < best)) {
			best = depth;
			*init = pids[i];
		}
	}
	free(pids);
	return 0;
}

static bool cgroup_has_pid(const struct jail_cgroup *cg, pid_t pid)
{
	pid_t *pids = NULL;
	size_t n = 0;
	bool found = false;

	if (cgroup_pids(cg, &pids, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = pids[i] == pid;
	free(pids);
	return found;
}

/* When pid started, as CLOCK_MONOTONIC µs: /proc/PID/stat field 22 is in
 * clock ticks since boot (CLOCK_BOOTTIME); the process's age is the same on
 * both clocks.  -errno when unknown. */
static int process_start_us(pid_t pid, uint64_t *out)
{
	char path[64], text[1024], *p, *save = NULL;
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec boot;
	uint64_t boot_us, start_boot_us, now;
	int field = 2;

	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((n = read_path_text(path, text, sizeof(text))) < 0)
		return (int)n;
	/* comm (field 2) may hold spaces and parentheses: start after the last ')' */
	p = strrchr(text, ')');
	if (!p || hz <= 0)
		return -EPROTO;
	for (char *f = strtok_r(p + 1, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		if (++field == 22) {
			ticks = strtoull(f, NULL, 10);
			break;
		}
	}
	if (field != 22 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return -EPROTO;
	boot_us = (uint64_t)boot.tv_sec * 1000000 + (uint64_t)boot.tv_nsec / 1000;
	start_boot_us = (uint64_t)ticks * 1000000 / (uint64_t)hz;
	now = monotonic_us();
	if (start_boot_us > boot_us || boot_us - start_boot_us > now)
		return -ERANGE;
	*out = now - (boot_us - start_boot_us);
	return 0;
}

/* Open a pidfd on the cgroup's init and make sure it is that process: the
 * pid was read from cgroup.procs before the pidfd existed and may have been
 * reused since.  Checked after pidfd_open; if the process is still alive
 * afterwards (signal 0 through the pidfd), the pid named it during the
 * checks.  0 with j->pidfd set, 1 when there is no (live) init, -errno. */
static int open_init(struct jail *j, struct jail_error *err)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		pid_t pid;
		int pidfd, r = find_init_pid(j->cgroup, &pid);

		if (r < 0)
			return jail_error_set(err, r, "adopt", "read the processes of cgroup %s",
					      cgroup_path(j->cgroup));
		if (!pid)
			return 1;
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0 && errno == ESRCH)
			continue; /* gone meanwhile: look again */
		if (pidfd < 0)
			return jail_error_set(err, errno, "adopt", "pidfd_open the jail's init (pid %d)",
					      (int)pid);
		if (init_depth(pid) && cgroup_has_pid(j->cgroup, pid)) {
			uint64_t start = 0;
			bool start_known = process_start_us(pid, &start) == 0;

			if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0) {
				j->pid = pid;
				j->pidfd = pidfd;
				j->start_known = start_known;
				if (start_known)
					j->start_us = start;
				return 0;
			}
		}
		close(pidfd);
	}
	return 1;
}

/* ---- adopting -------------------------------------------------------- */

int jail_adopt(const char *cgroup_parent, const char *cgroup_name, const char *status_path, struct jail **out,
	       struct jail_error *err)
{
	const char *parent = cgroup_parent ? cgroup_parent : JAIL_DEFAULT_CGROUP;
	size_t status_len = status_path ? strlen(status_path) : 0;
	struct jail *j;
	int r;

	*out = NULL;
	if (!cgroup_name || !*cgroup_name)
		return jail_error_set(err, EINVAL, "adopt", "adopt a jail: no cgroup name given");
	if (status_path && status_path[0] != '/')
		return jail_error_set(err, EINVAL, "adopt", "status file '%s' is not an absolute path",
				      status_path);
	j = calloc(1, sizeof(*j) + status_len + 1);
	if (!j)
		return jail_error_set(err, ENOMEM, "adopt", "allocate the jail");
	j->pid = -1;
	j->pidfd = j->report_fd = j->stdout_fd = j->stderr_fd = -1;
	j->adopted = true;
	if (status_len)
		memcpy(j->status_path, status_path, status_len + 1);

	r = cgroup_open(parent, cgroup_name, &j->cgroup, err);
	if (r == -ENOENT) {
		jail_error_set(err, ENOENT, "adopt",
			       "adopt jail '%s': its cgroup '%s/%s' is gone (the jail ended and was "
			       "cleaned up, or never existed)",
			       cgroup_name, parent, cgroup_name);
		goto fail;
	}
	if (r < 0)
		goto fail;

	r = open_init(j, err);
	if (r < 0)
		goto fail;
	if (r == 1) {
		/* the jail ended while nobody watched: an always-readable fd keeps
		 * the callers' poll loops unchanged */
		j->pidfd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		if (j->pidfd < 0) {
			r = jail_error_set(err, errno, "adopt", "create an eventfd for the ended jail '%s'",
					   cgroup_name);
			goto fail;
		}
		j->reaped = true;
	}
	*out = j;
	return 0;

fail:
	/* never destroy what we only looked at: the caller decides */
	if (j->cgroup)
		cgroup_close(j->cgroup);
	j->cgroup = NULL;
	jail_free(j);
	return r;
}

/* ---- the end of an adopted jail -------------------------------------- */

static int64_t now_ms(void)
{
	return (int64_t)(monotonic_us() / 1000);
}

int adopt_wait_end(struct jail *j, struct report *rec, struct jail_error *err)
{
	memset(rec, 0, sizeof(*rec));
	if (!j->reaped) {
		int64_t deadline = now_ms() + ADOPT_END_TIMEOUT_MS;

		for (;;) {
			struct pollfd pfd = { .fd = j->pidfd, .events = POLLIN };
			int64_t left = deadline - now_ms();
			int r = poll(&pfd, 1, left > 0 ? (int)left : 0);

			if (r > 0)
				break;
			if (r < 0 && errno != EINTR)
				return jail_error_set(err, errno, "wait", "poll the adopted jail's pidfd");
			if (r == 0)
				return jail_error_set(
					err, EBUSY, "wait",
					"the adopted jail's init (pid %d) still runs after %d ms",
					(int)j->pid, ADOPT_END_TIMEOUT_MS);
		}
		/* a supervisor that re-executed itself is still init's parent:
		 * reap the zombie (ECHILD when it is not ours: nothing to do) */
		{
			siginfo_t si;

			while (waitid(P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG) < 0 && errno == EINTR)
				;
		}
		j->reaped = true;
	}
	if (j->status_path[0] && status_file_read(j->status_path, rec, &j->command_started) == 0)
		return 0;
	/* no account from init: it was killed before it could write one */
	memset(rec, 0, sizeof(*rec));
	j->wait_status = SIGKILL;
	return 0;
}
