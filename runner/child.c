/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/child.c — the cloned child, in order: set the hostname, bring up
 * lo, wait for the parent's maps, join the jail's v1 cgroups, take the
 * jail's identity, join a cgroup namespace, build the root, drop the
 * bounding set, then exec the jail's init, the program corral-init
 * (runner/init/corral_init.c), from the fd the parent opened on the host.
 *
 * Every step that fails reports its name and errno to the parent on the
 * report pipe (child_fail) instead of printing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner/internal.h"

void child_fail(int report_fd, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_errorv(report_fd, errnum, step, fmt, ap);
	va_end(ap);
	_exit(127);
}

void child_fail_error(int report_fd, const struct jail_error *err)
{
	struct report rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = REPORT_ERROR;
	rec.err = err->err;
	snprintf(rec.step, sizeof(rec.step), "%s", err->step);
	snprintf(rec.message, sizeof(rec.message), "%s", err->message);
	write_all(report_fd, &rec, sizeof(rec));
	_exit(127);
}

static void wait_for_parent(const struct child_ctx *ctx)
{
	char c;
	ssize_t n;

	do
		n = read(ctx->sync_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up; it reports why */
	close(ctx->sync_fd);
}

/* Become the task's uid/gid inside the jail while keeping the capabilities
 * this new user namespace gave us: mounts need them, and files we create in
 * the new root must belong to a mapped uid. */
static void take_jail_identity(const struct child_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	/* the parent cloned us with SECBIT_NO_SETUID_FIXUP (runner/spawn.c):
	 * nothing in the jail keeps it */
	if (bits < 0 ||
	    ((bits & SECBIT_NO_SETUID_FIXUP) &&
	     prctl(PR_SET_SECUREBITS, bits & ~SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0))
		child_fail(ctx->report_fd, errno, "prctl", "clear SECBIT_NO_SETUID_FIXUP");
	/* drop the supplementary groups inherited from the host (root's) */
	if (setgroups(0, NULL) < 0)
		child_fail(ctx->report_fd, errno, "setgroups", "drop supplementary groups");
	if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
		child_fail(ctx->report_fd, errno, "setresgid", "become gid %u", (unsigned)spec->gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		child_fail(ctx->report_fd, errno, "prctl", "PR_SET_KEEPCAPS");
	if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
		child_fail(ctx->report_fd, errno, "setresuid", "become uid %u", (unsigned)spec->uid);
	if (syscall(SYS_capget, &hdr, data) < 0)
		child_fail(ctx->report_fd, errno, "capget", "read capabilities");
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail(ctx->report_fd, errno, "capset", "raise effective capabilities");
}

static int compare_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The jail's init inherited every fd of its parent (a daemon's database,
 * sockets, cgroup fds): keep only what the jail uses. */
static void close_inherited_fds(const struct child_ctx *ctx)
{
	int keep[] = { 0,
		       1,
		       2,
		       ctx->sync_fd,
		       ctx->report_fd,
		       ctx->stdin_fd,
		       ctx->stdout_fd,
		       ctx->stderr_fd,
		       ctx->status_fd,
		       ctx->init_fd,
		       ctx->record_fd,
		       ctx->cpu_stat_fd,
		       ctx->leash_fd,
		       ctx->n_v1_tasks > 0 ? ctx->v1_tasks_fd[0] : -1,
		       ctx->n_v1_tasks > 1 ? ctx->v1_tasks_fd[1] : -1,
		       ctx->n_v1_tasks > 2 ? ctx->v1_tasks_fd[2] : -1,
		       ctx->n_v1_tasks > 3 ? ctx->v1_tasks_fd[3] : -1 };
	size_t n = sizeof(keep) / sizeof(keep[0]);
	int from = 0;

	qsort(keep, n, sizeof(keep[0]), compare_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if (keep[i] > from && syscall(SYS_close_range, (unsigned)from, (unsigned)keep[i] - 1, 0) < 0)
			child_fail(ctx->report_fd, errno, "close_range", "close inherited file descriptors");
		from = keep[i] + 1;
	}
	if (syscall(SYS_close_range, (unsigned)from, ~0u, 0) < 0)
		child_fail(ctx->report_fd, errno, "close_range", "close inherited file descriptors");
}

/* Nothing in the jail gets a capability back: empty the bounding set and
 * the ambient set while we still hold CAP_SETPCAP (corral-init, a non-root
 * uid exec'ing a file without capabilities, then starts with none at all). */
static void drop_bounding_set(const struct child_ctx *ctx)
{
	/* capabilities are numbered from 0 without gaps: the first EINVAL is
	 * the one past the kernel's last (corral-init checks the set is empty) */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		child_fail(ctx->report_fd, errno, "capabilities", "drop capability %d from the bounding set",
			   cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		child_fail(ctx->report_fd, errno, "capabilities", "clear ambient capabilities");
}

static void keep_across_exec(const struct child_ctx *ctx, int fd)
{
	if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0)
		child_fail(ctx->report_fd, errno, "exec corral-init", "pass fd %d to corral-init", fd);
}

/* Become corral-init: the fds it needs survive the exec, the record's and
 * the report pipe's fd numbers are its argv, its environment is empty.  It is exec'd from the
 * fd the parent opened on the host: the jail's filesystem has no
 * corral-init, and nothing in the jail could substitute one. */
static __attribute__((noreturn)) void exec_init(const struct child_ctx *ctx)
{
	char record_arg[16], report_arg[16];
	char *argv[] = { "corral-init", record_arg, report_arg, NULL };
	char *envp[] = { NULL };

	snprintf(record_arg, sizeof(record_arg), "%d", ctx->record_fd);
	snprintf(report_arg, sizeof(report_arg), "%d", ctx->report_fd);
	keep_across_exec(ctx, ctx->report_fd);
	keep_across_exec(ctx, ctx->record_fd);
	keep_across_exec(ctx, ctx->stdin_fd);
	keep_across_exec(ctx, ctx->stdout_fd);
	keep_across_exec(ctx, ctx->stderr_fd);
	keep_across_exec(ctx, ctx->status_fd);
	keep_across_exec(ctx, ctx->cpu_stat_fd);
	keep_across_exec(ctx, ctx->leash_fd);
	syscall(SYS_execveat, ctx->init_fd, "", argv, envp, AT_EMPTY_PATH);
	child_fail(ctx->report_fd, errno, "exec corral-init", "execute corral-init%s",
		   errno == EACCES ? " (is its file system mounted noexec?)" : "");
}

/* Join the jail's v1 cgroups (hybrid hosts) by writing "0" to their
 * "tasks" files, before anything of the jail runs: this process is still
 * one thread (see cgroup_open_v1_tasks() for why not the parent).  After
 * the parent's "go", so a failure here is reported, never a broken pipe. */
static void join_v1_cgroups(const struct child_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_v1_tasks; i++) {
		ssize_t n;

		do
			n = write(ctx->v1_tasks_fd[i], "0", 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			child_fail(ctx->report_fd, n < 0 ? errno : EIO, "cgroup_attach",
				   "join the jail's v1 cgroups");
		close(ctx->v1_tasks_fd[i]);
	}
}

void child_main(const struct child_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;
	struct jail_error err;
	int hostname_errno, lo_up;

	/* fds 0-2 must exist so the pipes init creates never land on them */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			child_fail(ctx->report_fd, errno, "open", "open /dev/null as fd %d", fd);
	close_inherited_fds(ctx);
	/* and not the parent's stdio either (a daemon's log): the command's
	 * own stdio are the ctx fds */
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			child_fail(ctx->report_fd, errno, "open", "point stdio at /dev/null");
		if (null > 2)
			close(null);
	}
	/* what needs neither the uid maps nor the jail's cgroups, done while
	 * the parent writes the maps: the capabilities a new user namespace
	 * gives its first process cover the namespaces it owns, and the
	 * child is less often found waiting for the parent's "go" (a wakeup
	 * less, which a loaded host makes costly).  A failure is reported
	 * after the "go": exiting before it would break the parent's pipe. */
	hostname_errno = sethostname(spec->hostname, strlen(spec->hostname)) < 0 ? errno : 0;
	lo_up = netns_lo_up(&err);
	wait_for_parent(ctx);
	if (hostname_errno)
		child_fail(ctx->report_fd, hostname_errno, "sethostname", "set hostname '%s'",
			   spec->hostname);
	if (lo_up < 0)
		child_fail_error(ctx->report_fd, &err);
	join_v1_cgroups(ctx);
	take_jail_identity(ctx);
	/* now that we are in every hierarchy's jail cgroup (v1: joined above;
	 * unified: clone3 or the parent put us there), make that cgroup the
	 * root the jail sees */
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(ctx->report_fd, errno, "unshare", "new cgroup namespace");
	mounts_build_root(ctx);
	/* pdeathsig is cleared by setresuid, so it is set after it */
	if (ctx->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(ctx->report_fd, errno, "prctl", "PR_SET_PDEATHSIG");
	drop_bounding_set(ctx);
	/* nothing exec'd in the jail from here on gains privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(ctx->report_fd, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
	exec_init(ctx);
}
