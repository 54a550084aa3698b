/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/child.c — the jail's first process between its clone and its exec
 * of corral-init, which builds the jail (runner/init/init_setup.c).  It was
 * cloned with CLONE_VM | CLONE_VFORK (runner/spawn.c): it runs in its
 * caller's memory, on a small stack of its own, while the caller waits, so
 * it does almost nothing: raise the capabilities of its new user namespace
 * as ambient (its uid is not mapped yet: an exec would drop them all
 * otherwise), let the fds corral-init needs survive the exec, exec it from
 * the fd the parent opened on the host.  Raw system calls only: no
 * allocation, no lock, no printf (the caller's memory is ours).
 *
 * A failure is left in ctx (child_errno, child_step) for the caller, who
 * reads it once the clone returns (the vfork ended by our exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner/internal.h"

static int child_failed(struct child_ctx *ctx, const char *step)
{
	ctx->child_errno = errno ? errno : EINVAL;
	ctx->child_step = step;
	return 127;
}

/* Every capability the new user namespace gave us (all of them, in it
 * only) into the inheritable and the ambient sets, so the exec of a file
 * without capabilities by a uid that is not root there keeps them.
 * corral-init drops them all (and empties the bounding set) before the
 * command runs. */
static int raise_ambient(struct child_ctx *ctx)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return child_failed(ctx, "capabilities");
	data[0].inheritable = data[0].permitted;
	data[1].inheritable = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return child_failed(ctx, "capabilities");
	/* numbered from 0 without gaps: the first EINVAL is past the last */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > 0)
			break;
		return child_failed(ctx, "capabilities");
	}
	return 0;
}

/* Our fd table is our own (no CLONE_FILES): clearing close-on-exec here
 * changes nothing of the caller's. */
static int keep_across_exec(struct child_ctx *ctx, int fd)
{
	if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0)
		return child_failed(ctx, "exec corral-init");
	return 0;
}

/* Join the jail's v1 cgroups (hybrid hosts) by writing "0" to their
 * "tasks" files (we are one thread: it moves all of us, without the
 * cgroup-wide lock another pid would take).  Here, not in corral-init:
 * those fds were opened by root, and through one any process can be moved
 * into the jail's cgroups; corral-init can be ptraced (pidfd_getfd) by the
 * jail's host uid, the owner of its user namespace, we cannot (our memory
 * is the caller's).  They are close-on-exec: corral-init never has them. */
static int join_v1_cgroups(struct child_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_v1_tasks; i++) {
		long n;

		do
			n = syscall(SYS_write, ctx->v1_tasks_fd[i], "0", 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) {
			if (n >= 0)
				errno = EIO;
			return child_failed(ctx, "cgroup_attach");
		}
	}
	return 0;
}

int child_exec_init(void *arg)
{
	struct child_ctx *ctx = arg;
	int fds[] = { ctx->sync_fd,   ctx->report_fd, ctx->record_fd,   ctx->stdin_fd, ctx->stdout_fd,
		      ctx->stderr_fd, ctx->status_fd, ctx->cpu_stat_fd, ctx->leash_fd };
	char *envp[] = { NULL };

	if (join_v1_cgroups(ctx) || raise_ambient(ctx))
		return 127;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (keep_across_exec(ctx, fds[i]))
			return 127;
	syscall(SYS_execveat, ctx->init_fd, "", ctx->init_argv, envp, AT_EMPTY_PATH);
	return child_failed(ctx, "exec corral-init");
}
