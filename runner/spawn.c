/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/spawn.c — the parent side of a jail: open the task's files and
 * write corral-init's record (runner/init_exec.c), create its cgroup, clone
 * the jail's child (runner/spawn_clone.c), write the user namespace maps,
 * wait until the command runs.
 * Also the handle's small accessors, jail_signal(), jail_kill(), jail_free().
 *
 * The child (runner/child.c) only execs corral-init, which builds the jail
 * (runner/init/init_setup.c) once this side said "go".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/cgroup.h"
#include "runner/cleanup.h"
#include "runner/host_etc.h"

#include "runner/internal.h"
#include "runner/seccomp.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Open a host path the caller named without following any symlink in it:
 * a tenant who can write in the directory must not be able to point the
 * runner (root) at another file.  Outputs are opened without O_TRUNC and
 * truncated only once we know they are a plain, singly-linked file (a hard
 * link to a host file would otherwise be truncated by root). */
int open_host_file(const char *path, bool for_output, int *out, const char *what, struct jail_error *err)
{
	struct open_how how = {
		.flags = (for_output ? O_WRONLY | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		.mode = for_output ? 0640 : 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0)
		return jail_error_set(err, errno, "open", "open %s '%s'%s", what, path,
				      errno == ELOOP ? " (symlinks are not followed)" : "");
	if (fstat(fd, &st) < 0)
		return jail_error_set(err, errno, "open", "stat %s '%s'", what, path);
	if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode) ||
	    (for_output && S_ISREG(st.st_mode) && st.st_nlink != 1))
		return jail_error_set(err, EPERM, "open", "%s '%s' must be a regular file%s", what, path,
				      for_output ? " with one link" : ", a character device or a pipe");
	if (for_output && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0)
		return jail_error_set(err, errno, "open", "truncate %s '%s'", what, path);
	*out = TAKE_FD(fd);
	return 0;
}

static int open_output(const char *path, int inherit_fd, int *out, const char *what, struct jail_error *err)
{
	if (path)
		return open_host_file(path, true, out, what, err);
	*out = fcntl(inherit_fd, F_DUPFD_CLOEXEC, 3);
	if (*out < 0)
		return jail_error_set(err, errno, "open output", "duplicate the inherited %s", what);
	return 0;
}

/* The child dup2()s these onto 0-2: keep them out of that range so one
 * cannot clobber another (a daemon may run with 0-2 closed). */
static int move_above_stdio(int *fd, struct jail_error *err)
{
	int moved;

	if (*fd < 0 || *fd > 2)
		return 0;
	moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (moved < 0)
		return jail_error_set(err, errno, "spawn", "move fd %d above stdio", *fd);
	close(*fd);
	*fd = moved;
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text, struct jail_error *err)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return jail_error_set(err, errno, "user namespace", "open %s", path);
	r = write_all(fd, text, strlen(text));
	close(fd);
	if (r < 0)
		return jail_error_set(err, -r, "user namespace", "write '%s' to %s", text, path);
	return 0;
}

static int write_id_maps(pid_t pid, const struct jail_spec *spec, struct jail_error *err)
{
	char map[64];
	int r;

	/* Only the task's own id is mapped: inside uid -> the jail's host uid.
	 * Inside root does not exist, so nothing in the jail is ever root. */
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)spec->uid, (unsigned)spec->host_uid);
	r = write_proc_file(pid, "uid_map", map, err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)spec->gid, (unsigned)spec->host_gid);
	return write_proc_file(pid, "gid_map", map, err);
}

static int report_error_to(const struct report *rec, struct jail_error *err)
{
	if (err) {
		err->err = rec->err;
		snprintf(err->step, sizeof(err->step), "%.*s", (int)sizeof(rec->step) - 1, rec->step);
		snprintf(err->message, sizeof(err->message), "%.*s", (int)sizeof(rec->message) - 1,
			 rec->message);
	}
	return rec->err ? -rec->err : -EINVAL;
}

/* Our step after the clone failed (r < 0): corral-init may have failed
 * first (a record it cannot read, its fds) and exited, which made ours
 * fail; its report, already in the pipe if so, names the cause. */
static int prefer_init_report(int report_fd, int r, struct jail_error *err)
{
	struct pollfd p = { .fd = report_fd, .events = POLLIN };
	struct report rec;

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return r;
	if (read(report_fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec) || rec.kind != REPORT_ERROR)
		return r;
	return report_error_to(&rec, err);
}

/* Read the jail's first record: STARTED, or the ERROR of the step that failed. */
static int read_start_report(struct jail *j, struct jail_error *err)
{
	struct report rec;
	ssize_t n;

	do
		n = read(j->report_fd, &rec, sizeof(rec));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(rec) && rec.kind == REPORT_STARTED)
		return 0;
	if (n == (ssize_t)sizeof(rec) && rec.kind == REPORT_ERROR)
		return report_error_to(&rec, err);
	if (n < 0)
		return jail_error_set(err, errno, "setup", "read the jail's report");
	return jail_error_set(err, 0, "setup", "the jail's init exited during setup without a report");
}

static unsigned long spawn_sequence;

/* What jail_spawn_start() opened for the child and still holds: closed on
 * every return (the child has its copies; the jail took what it keeps). */
static void child_ctx_close(struct child_ctx *ctx)
{
	close_fd(&ctx->sync_fd);
	close_fd(&ctx->report_fd);
	close_fd(&ctx->stdin_fd);
	close_fd(&ctx->stdout_fd);
	close_fd(&ctx->stderr_fd);
	close_fd(&ctx->status_fd);
	close_fd(&ctx->record_fd);
	close_fd(&ctx->cpu_stat_fd);
	close_fd(&ctx->leash_fd);
}

static void jail_freep(struct jail **j)
{
	jail_free(*j);
}

int jail_spawn_start(const struct jail_spec *spec, struct jail **out, struct jail_error *err)
{
	const struct jail_filter *filter = spec->filter;
	struct cgroup_limits limits = {
		.memory_bytes = spec->memory_bytes,
		.pids_max = spec->pids_max,
		.cpu_millis = spec->cpu_millis,
	};
	__attribute__((cleanup(child_ctx_close))) struct child_ctx ctx = { .spec = spec,
									   .stdin_fd = -1,
									   .stdout_fd = -1,
									   .stderr_fd = -1,
									   .status_fd = -1,
									   .sync_fd = -1,
									   .report_fd = -1,
									   .init_fd = -1,
									   .record_fd = -1,
									   .cpu_stat_fd = -1,
									   .leash_fd = -1,
									   .v1_tasks_fd = { -1, -1, -1,
											    -1 } };
	/* held across the clone: the child reads its own copy */
	__attribute__((cleanup(host_etc_releasep))) struct host_etc *host_etc = NULL;
	/* the parent's ends: the write end of sync, the read end of report */
	_cleanup_close_ int sync_write = -1, report_read = -1;
	__attribute__((cleanup(jail_freep))) struct jail *j = NULL;
	char name[64];
	bool into_cgroup = false, netns_failed;
	int r;

	*out = NULL;
	r = jail_spec_validate(spec, err);
	if (r < 0)
		return r;
	if (!filter) {
		filter = seccomp_builtin(spec->seccomp, err);
		if (!filter)
			return -EINVAL;
	}
	/* cached; opened here on the host, never from inside a jail */
	ctx.init_fd = init_exec_fd(err);
	if (ctx.init_fd < 0)
		return ctx.init_fd;
	/* scanned once per process (or by jail_host_etc_refresh()) */
	r = host_etc_acquire(&host_etc, err);
	if (r < 0)
		return r;
	ctx.host_etc = host_etc;
	j = calloc(1, sizeof(*j));
	if (!j)
		return jail_error_set(err, ENOMEM, "spawn", "allocate the jail");
	j->pid = -1;
	j->pidfd = j->report_fd = j->stdout_fd = j->stderr_fd = -1;
	j->start_us = monotonic_us();
	ctx.start_us = j->start_us;
	j->wall_limit_us = spec->wall_time_ms * 1000;
	j->cpu_limit_us = spec->cpu_time_ms * 1000;
	j->cpu_millis = spec->cpu_millis;
	j->output_limit = spec->output_limit;
	ctx.filter = filter;
	ctx.die_with_parent = spec->die_with_parent;

	r = open_host_file(spec->stdin_path ? spec->stdin_path : "/dev/null", false, &ctx.stdin_fd, "stdin",
			   err);
	if (r < 0)
		return r;
	r = open_output(spec->stdout_path, STDOUT_FILENO, &ctx.stdout_fd, "stdout", err);
	if (r < 0)
		return r;
	r = open_output(spec->stderr_path, STDERR_FILENO, &ctx.stderr_fd, "stderr", err);
	if (r < 0)
		return r;
	if (move_above_stdio(&ctx.stdin_fd, err) < 0 || move_above_stdio(&ctx.stdout_fd, err) < 0 ||
	    move_above_stdio(&ctx.stderr_fd, err) < 0)
		return -EBADF;
	if (spec->status_path) {
		r = open_host_file(spec->status_path, true, &ctx.status_fd, "status file", err);
		if (r < 0)
			return r;
	}
	/* read-only: nothing in the jail can move its own deadline */
	if (spec->leash_path) {
		r = open_host_file(spec->leash_path, false, &ctx.leash_fd, "leash", err);
		if (r < 0)
			return r;
		if (move_above_stdio(&ctx.leash_fd, err) < 0)
			return -EBADF;
	}
	{
		int sync_pipe[2], report_pipe[2];

		if (pipe2(sync_pipe, O_CLOEXEC) < 0)
			return jail_error_set(err, errno, "spawn", "create pipes");
		ctx.sync_fd = sync_pipe[0];
		sync_write = sync_pipe[1];
		if (pipe2(report_pipe, O_CLOEXEC) < 0)
			return jail_error_set(err, errno, "spawn", "create pipes");
		report_read = report_pipe[0];
		ctx.report_fd = report_pipe[1];
		/* corral-init puts /dev/null on 0-2: keep its fds above them */
		if (move_above_stdio(&ctx.sync_fd, err) < 0 || move_above_stdio(&ctx.report_fd, err) < 0)
			return -EBADF;
	}

	if (!spec->cgroup_name)
		snprintf(name, sizeof(name), "jail-%d-%lu", (int)getpid(), ++spawn_sequence);
	r = cgroup_create(spec->cgroup_parent ? spec->cgroup_parent : JAIL_DEFAULT_CGROUP,
			  spec->cgroup_name ? spec->cgroup_name : name, &limits, &j->cgroup, err);
	if (r < 0)
		return r;
	/* init's CPU limit reads the unified cpu.stat (pure v2 and hybrid) */
	if (spec->cpu_time_ms) {
		ctx.cpu_stat_fd = openat(cgroup_dir_fd(j->cgroup), "cpu.stat", O_RDONLY | O_CLOEXEC);
		if (ctx.cpu_stat_fd < 0)
			return jail_error_set(err, errno, "cgroup", "open cpu.stat of %s",
					      cgroup_path(j->cgroup));
		if (move_above_stdio(&ctx.cpu_stat_fd, err) < 0)
			return -EBADF;
	}
	r = cgroup_open_v1_tasks(j->cgroup, ctx.v1_tasks_fd, CGROUP_V1_TASKS_MAX, &ctx.n_v1_tasks, err);
	for (size_t i = 0; r == 0 && i < ctx.n_v1_tasks; i++)
		if (move_above_stdio(&ctx.v1_tasks_fd[i], err) < 0)
			r = -EBADF;
	if (r == 0)
		r = init_record_memfd(&ctx, &ctx.record_fd, err);
	if (r == 0 && move_above_stdio(&ctx.record_fd, err) < 0)
		r = -EBADF;
	if (r < 0) {
		for (size_t i = 0; i < ctx.n_v1_tasks; i++)
			close(ctx.v1_tasks_fd[i]);
		return r;
	}
	snprintf(ctx.record_arg, sizeof(ctx.record_arg), "%d", ctx.record_fd);
	snprintf(ctx.report_arg, sizeof(ctx.report_arg), "%d", ctx.report_fd);
	ctx.init_argv[0] = "corral-init";
	ctx.init_argv[1] = ctx.record_arg;
	ctx.init_argv[2] = ctx.report_arg;
	ctx.init_argv[3] = NULL;

	j->t_cgroup = monotonic_us();
	j->pid = spawn_clone_jail(cgroup_dir_fd(j->cgroup), spec->netns_fd, spec->netns_in_init,
				  spec->host_uid, &ctx, &j->pidfd, &into_cgroup, &netns_failed);
	{
		int clone_errno = errno;

		for (size_t i = 0; i < ctx.n_v1_tasks; i++)
			close(ctx.v1_tasks_fd[i]);
		if (j->pid < 0 && netns_failed)
			return jail_error_set(err, clone_errno, "setns",
					      "enter the jail's network namespace (fd %d)", spec->netns_fd);
		if (j->pid < 0)
			return jail_error_set(err, clone_errno, "clone3",
					      "clone the jail into new namespaces");
	}
	/* it ran in our memory until here: it exec'd corral-init, or it
	 * exited and says why (jail_free() reaps it) */
	if (ctx.child_step)
		return jail_error_set(err, ctx.child_errno, ctx.child_step, "%s",
				      strcmp(ctx.child_step, "capabilities") == 0
					      ? "keep the jail's capabilities across the exec of corral-init"
					      : strcmp(ctx.child_step, "cgroup_attach") == 0
					      ? "join the jail's v1 cgroups"
					      : ctx.child_errno == EACCES
					      ? "execute corral-init (is its file system mounted noexec?)"
					      : "execute corral-init");
	/* our copy of the sync pipe's read end stays open until the "go" is
	 * written: a corral-init that already exited (it reports why) must
	 * not make that write fail with EPIPE (and SIGPIPE) */
	close_fd(&ctx.report_fd);
	j->report_fd = TAKE_FD(report_read);

	j->t_clone = monotonic_us();
	r = write_id_maps(j->pid, spec, err);
	if (r == 0 && !into_cgroup)
		r = cgroup_attach_unified(j->cgroup, j->pid, err);
	j->t_maps = monotonic_us();
	if (r == 0 && (r = write_all(sync_write, "go", 1)) < 0)
		r = jail_error_set(err, -r, "spawn", "wake the jail");
	if (r < 0)
		return prefer_init_report(j->report_fd, r, err);
	j->starting = true;

	/* the parent keeps its copies of output files to count bytes later */
	if (spec->stdout_path)
		j->stdout_fd = TAKE_FD(ctx.stdout_fd);
	if (spec->stderr_path)
		j->stderr_fd = TAKE_FD(ctx.stderr_fd);
	*out = TAKE_PTR(j);
	return 0;
}

int jail_spawn_fd(const struct jail *jail)
{
	return jail->starting ? jail->report_fd : -1;
}

int jail_spawn_finish(struct jail *j, struct jail_error *err)
{
	int r;

	if (!j->starting)
		return 0;
	r = read_start_report(j, err);
	j->starting = false;
	if (r < 0)
		return r;
	j->t_started = monotonic_us();
	j->command_started = true;
	return 0;
}

int jail_spawn(const struct jail_spec *spec, struct jail **out, struct jail_error *err)
{
	struct jail *j = NULL;
	int r = jail_spawn_start(spec, &j, err);

	*out = NULL;
	if (r < 0)
		return r;
	r = jail_spawn_finish(j, err);
	if (r < 0) {
		jail_free(j);
		return r;
	}
	*out = j;
	return 0;
}

int jail_pidfd(const struct jail *jail)
{
	return jail->pidfd;
}

pid_t jail_pid(const struct jail *jail)
{
	return jail->pid;
}

int jail_events_fd(const struct jail *jail)
{
	return jail->cgroup ? cgroup_events_fd(jail->cgroup) : -1;
}

const char *jail_cgroup_path(const struct jail *jail)
{
	return jail->cgroup ? cgroup_path(jail->cgroup) : NULL;
}

int jail_cpu_usage(const struct jail *jail, struct jail_cpu *cpu)
{
	if (!jail->cgroup)
		return -ENOENT;
	return cgroup_read_cpu(jail->cgroup, cpu);
}

int jail_memory_usage(const struct jail *jail, struct jail_memory *mem)
{
	if (!jail->cgroup)
		return -ENOENT;
	return cgroup_read_memory_now(jail->cgroup, &mem->current_bytes, &mem->peak_bytes);
}

int jail_signal(struct jail *jail, int sig)
{
	/* init forwards signals that come from outside the jail to all of it */
	if (jail->reaped || jail->pidfd < 0)
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, jail->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

int jail_kill(struct jail *jail, enum jail_status why)
{
	if (jail->kill_reason == JAIL_OK)
		jail->kill_reason = why;
	if (!jail->cgroup)
		return -ENOENT;
	return cgroup_kill(jail->cgroup);
}

void jail_release(struct jail *j)
{
	if (!j)
		return;
	if (j->cgroup)
		cgroup_close(j->cgroup);
	j->cgroup = NULL;
	close_fd(&j->pidfd);
	close_fd(&j->report_fd);
	close_fd(&j->stdout_fd);
	close_fd(&j->stderr_fd);
	free(j);
}

void jail_free(struct jail *j)
{
	if (!j)
		return;
	if (j->pid > 0 && !j->reaped) {
		siginfo_t si;

		if (j->cgroup)
			cgroup_kill(j->cgroup);
		if (j->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
		while (waitid(P_PIDFD, (id_t)j->pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		j->reaped = true;
	}
	if (j->cgroup)
		cgroup_destroy(j->cgroup, NULL);
	close_fd(&j->pidfd);
	close_fd(&j->report_fd);
	close_fd(&j->stdout_fd);
	close_fd(&j->stderr_fd);
	free(j);
}
