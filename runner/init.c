/*
 * runner/init.c — the jail's pid 1.  It starts the command (dropping every
 * privilege and installing the seccomp filter on the way), copies capped
 * output to the task's files, forwards the host's signals, reaps zombies, and
 * when the command ends writes the status to the parent and to the host-side
 * status file.  Its exit tears the pid namespace down: every process left in
 * the jail (daemonized grandchildren too) is killed by the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/internal.h"
#include "runner/seccomp.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static char *const default_env[] = {
	"PATH=" DEFAULT_PATH, "HOME=/work", "LANG=C.UTF-8", NULL,
};

/* stdout/stderr copied through init when a byte cap applies */
struct stream {
	int in;            /* read end of the task's pipe, -1 when closed */
	int out;           /* the destination file / inherited fd */
	uint64_t bytes;    /* everything the task wrote */
	bool truncated;
};

static void drop_capabilities(int report_fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			child_fail(report_fd, errno, "capabilities", "drop capability %d from the bounding set", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		child_fail(report_fd, errno, "capabilities", "clear ambient capabilities");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail(report_fd, errno, "capabilities", "clear all capabilities");
}

static void set_limit(int report_fd, int resource, uint64_t value, const char *name)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

	if (setrlimit(resource, &rl) < 0)
		child_fail(report_fd, errno, "setrlimit", "set %s to %llu", name, (unsigned long long)value);
}

static const char *env_path(char *const *env)
{
	for (; env && *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return DEFAULT_PATH;
}

/* execve with a PATH search in the task's environment (not ours). */
static int exec_command(char *const *argv, char *const *env)
{
	char path[4096];
	const char *dirs, *end;
	int saved = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		return errno;
	}
	for (dirs = env_path(env); *dirs; dirs = *end ? end + 1 : end) {
		size_t len;

		end = strchrnul(dirs, ':');
		len = (size_t)(end - dirs);
		if (len == 0 || len + strlen(argv[0]) + 2 > sizeof(path))
			continue;
		memcpy(path, dirs, len);
		path[len] = '/';
		strcpy(path + len + 1, argv[0]);
		execve(path, argv, env);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
	}
	return saved;
}

/* The forked task: its own session, fds 0-2, rlimits, no privileges, the
 * seccomp filter, exec.  Reports a failure on exec_fd (close-on-exec). */
static void task_start(const struct child_ctx *ctx, int exec_fd, int out_fd, int err_fd)
{
	const struct jail_spec *spec = ctx->spec;
	char *const *env = spec->env ? spec->env : default_env;
	sigset_t none;
	int e;

	if (setsid() < 0)
		child_fail(exec_fd, errno, "setsid", "start a new session");
	if (dup2(ctx->stdin_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		child_fail(exec_fd, errno, "dup2", "set up stdin/stdout/stderr");
	if (exec_fd != 3 && (dup2(exec_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0))
		child_fail(exec_fd, errno, "dup2", "move the exec report pipe");
	exec_fd = 3;
	if (syscall(SYS_close_range, 4, ~0u, 0) < 0)
		child_fail(exec_fd, errno, "close_range", "close inherited file descriptors");
	set_limit(exec_fd, RLIMIT_CORE, 0, "RLIMIT_CORE");
	set_limit(exec_fd, RLIMIT_NOFILE, spec->rlimit_nofile, "RLIMIT_NOFILE");
	set_limit(exec_fd, RLIMIT_FSIZE, spec->rlimit_fsize, "RLIMIT_FSIZE");
	set_limit(exec_fd, RLIMIT_STACK, spec->rlimit_stack, "RLIMIT_STACK");
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(spec->cwd) < 0)
		child_fail(exec_fd, errno, "chdir", "change to working directory %s", spec->cwd);
	drop_capabilities(exec_fd);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(exec_fd, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
	e = seccomp_install(ctx->filter);
	if (e < 0)
		child_fail(exec_fd, -e, "seccomp", "install the %s seccomp filter",
			   jail_seccomp_profile_name(ctx->filter->profile));
	e = exec_command(spec->argv, env);
	child_fail(exec_fd, e, "execve", "execute '%s'", spec->argv[0]);
}

struct task_args {
	const struct child_ctx *ctx;
	int exec_read, exec_write, out_fd, err_fd;
};

static int task_entry(void *arg)
{
	const struct task_args *a = arg;

	close(a->exec_read);
	task_start(a->ctx, a->exec_write, a->out_fd, a->err_fd);
	return 127;
}

/* The task shares init's memory until it execs (like vfork, and like
 * posix_spawn does it): no copy-on-write of the whole address space, which
 * is a large part of a short jail's cost.  init is suspended meanwhile; the
 * task writes nothing of init's but its own stack below. */
static pid_t start_task(const struct child_ctx *ctx, const int exec_pipe[2], int out_fd, int err_fd)
{
	static char stack[128 * 1024] __attribute__((aligned(16)));
	struct task_args args = { ctx, exec_pipe[0], exec_pipe[1], out_fd, err_fd };

	return clone(task_entry, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
}

static void stream_copy(struct stream *s, uint64_t limit, bool *limit_hit)
{
	char buf[65536];
	ssize_t n = read(s->in, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->in);
		s->in = -1;
		return;
	}
	if (!s->truncated) {
		uint64_t room = limit > s->bytes ? limit - s->bytes : 0;
		size_t keep = (uint64_t)n < room ? (size_t)n : (size_t)room;

		if (keep)
			write_all(s->out, buf, keep);
		if (keep < (size_t)n) {
			s->truncated = true;
			if (!*limit_hit) {
				*limit_hit = true;
				kill(-1, SIGKILL);
			}
		}
	}
	s->bytes += (uint64_t)n;
}

static void write_status_file(int fd, const struct report *rec)
{
	char text[512];
	int code = WIFEXITED(rec->wstatus) ? WEXITSTATUS(rec->wstatus) : -1;
	int sig = WIFSIGNALED(rec->wstatus) ? WTERMSIG(rec->wstatus) : 0;
	int len;

	if (fd < 0)
		return;
	len = snprintf(text, sizeof(text),
		       "exit_code=%d\nsignal=%d\noutput_limit=%u\nstdout_bytes=%llu\nstderr_bytes=%llu\n"
		       "stdout_truncated=%u\nstderr_truncated=%u\n",
		       code, sig, rec->output_limit_hit, (unsigned long long)rec->stdout_bytes,
		       (unsigned long long)rec->stderr_bytes, rec->stdout_truncated, rec->stderr_truncated);
	write_all(fd, text, (size_t)len);
	fsync(fd);
}

static void wait_for_exec(const struct child_ctx *ctx, int exec_read, pid_t task)
{
	struct report rec;
	ssize_t n;

	do
		n = read(exec_read, &rec, sizeof(rec));
	while (n < 0 && errno == EINTR);
	close(exec_read);
	if (n == (ssize_t)sizeof(rec)) {
		/* the task could not start: pass its report on */
		waitpid(task, NULL, 0);
		write_all(ctx->report_fd, &rec, sizeof(rec));
		_exit(127);
	}
}

/* init is a copy of its parent (a daemon with a big heap) and would share
 * every page of it copy-on-write for the jail's whole life, so every page
 * the parent then writes would have to be copied.  Once the command runs,
 * init needs nothing from that heap: drop the anonymous memory (but the
 * stack and the thread's TLS/TCB block) so the parent owns its pages alone
 * again.  Best effort: errors are ignored. */
static void release_parent_memory(void)
{
	char buf[16384], *line, *save = NULL;
	uintptr_t tcb = (uintptr_t)pthread_self(), here = (uintptr_t)&buf;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || n == (ssize_t)sizeof(buf) - 1)
		return; /* no maps, or more than we read at once: leave it all */
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end;
		char perms[8], path[64] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %63s", &start, &end, perms, path) < 3)
			continue;
		if (strcmp(perms, "rw-p") != 0 || (path[0] && strcmp(path, "[heap]") != 0))
			continue;
		if ((tcb >= start && tcb < end) || (here >= start && here < end))
			continue;
		madvise((void *)start, end - start, MADV_DONTNEED);
	}
}

void init_run(const struct child_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;
	uint64_t output_limit = 0;
	struct stream streams[2] = { { -1, ctx->stdout_fd, 0, false }, { -1, ctx->stderr_fd, 0, false } };
	int exec_pipe[2], pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	struct report done = { .kind = REPORT_STARTED };
	bool capped = spec->output_limit > 0, limit_hit = false, task_done = false;
	sigset_t mask;
	pid_t task;
	int sfd;

	prctl(PR_SET_NAME, "corral-init", 0, 0, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		child_fail(ctx->report_fd, errno, "init", "block signals");
	signal(SIGPIPE, SIG_IGN);  /* a vanished parent must not kill init */
	signal(SIGXFSZ, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		child_fail(ctx->report_fd, errno, "init", "create signalfd");
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		child_fail(ctx->report_fd, errno, "init", "create the exec pipe");
	if (capped && (pipe2(pipes[0], O_CLOEXEC) < 0 || pipe2(pipes[1], O_CLOEXEC) < 0))
		child_fail(ctx->report_fd, errno, "init", "create output pipes");

	task = start_task(ctx, exec_pipe, capped ? pipes[0][1] : ctx->stdout_fd,
			  capped ? pipes[1][1] : ctx->stderr_fd);
	if (task < 0)
		child_fail(ctx->report_fd, errno, "clone", "start the command");
	close(exec_pipe[1]);
	wait_for_exec(ctx, exec_pipe[0], task);
	if (capped) {
		for (int i = 0; i < 2; i++) {
			close(pipes[i][1]);
			streams[i].in = pipes[i][0];
		}
	}
	close(ctx->stdin_fd);
	/* the task shares our uid: make sure it cannot ptrace or read us */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	drop_capabilities(ctx->report_fd);
	/* from here on init uses only its stack (ctx lives there too) */
	output_limit = spec->output_limit;
	spec = NULL;
	release_parent_memory();
	write_all(ctx->report_fd, &done, sizeof(done));

	while (!task_done) {
		struct pollfd pfd[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = streams[0].in, .events = POLLIN },
			{ .fd = streams[1].in, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (streams[i].in >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				stream_copy(&streams[i], output_limit, &limit_hit);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD) {
				/* only signals from outside the jail (sender pid 0 here) */
				if (si.ssi_pid == 0)
					kill(-1, (int)si.ssi_signo);
				continue;
			}
			for (;;) {
				int st;
				pid_t p = waitpid(-1, &st, WNOHANG);

				if (p <= 0)
					break;
				if (p == task) {
					done.wstatus = st;
					task_done = true;
				}
			}
		}
	}
	/* collect what the task wrote before it ended */
	for (int i = 0; i < 2; i++) {
		if (streams[i].in < 0)
			continue;
		fcntl(streams[i].in, F_SETFL, O_NONBLOCK);
		for (int rounds = 0; streams[i].in >= 0 && rounds < 64; rounds++) {
			struct pollfd p = { .fd = streams[i].in, .events = POLLIN };

			if (poll(&p, 1, 0) <= 0)
				break;
			stream_copy(&streams[i], output_limit, &limit_hit);
		}
	}
	done.kind = REPORT_DONE;
	done.output_limit_hit = limit_hit;
	done.stdout_bytes = streams[0].bytes;
	done.stderr_bytes = streams[1].bytes;
	done.stdout_truncated = streams[0].truncated;
	done.stderr_truncated = streams[1].truncated;
	write_status_file(ctx->status_fd, &done);
	write_all(ctx->report_fd, &done, sizeof(done));
	_exit(0);
}
