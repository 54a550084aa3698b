/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/corral_init.c — corral-init, the jail's pid 1: a small static
 * program that the jail's child execs right after its clone (runner/child.c).
 * It reads its record (runner/init_protocol.h) from the sealed memfd named by
 * argv[1], builds the jail (runner/init/init_setup.c: root, cgroups, identity,
 * every capability dropped), starts the command (rlimits, its own session, fds 0-2 only, the
 * seccomp filter installed on the way; init itself is not under the filter),
 * copies output to the task's files (capped; a regular file always through
 * init), forwards the host's signals, enforces the wall-clock deadline and
 * the CPU limit itself (runner/init/init_limits.c: a late caller cannot
 * extend a task) and the leash (a supervisor that stopped renewing its
 * lease on the task cannot keep it running),
 * reaps zombies, and when the command ends writes the status to the parent
 * (the report pipe, argv[2]) and to the host-side status file.  That file
 * also says when the command may have started ("exec=1", written just
 * before it is started, "exec_error=ERRNO" when it could not be), so a
 * restarted supervisor can tell a task that never ran from a lost one.  Its exit
 * tears the pid namespace down: every process left in the jail (daemonized
 * grandchildren too) is killed by the kernel.
 *
 * It arrives with the capabilities of the jail's user namespace (ambient,
 * raised by the child: the setup needs them), drops them all, empties the
 * bounding set and sets no_new_privs before anything else of the jail
 * exists, and owns nothing of its parent's memory: exec dropped it.  It is
 * not dumpable from its first instruction on: nothing may ptrace it.
 * It links only libc, statically: the jail's /usr may hold any libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/init/init_limits.h"
#include "runner/init/init_setup.h"
#include "runner/init_protocol.h"

/* The whole jail's allowance (every process in it has the same uid): queued
 * signals and POSIX timers, and bytes of POSIX message queues (Linux's
 * default for a user). */
#define TASK_SIGPENDING 4096
#define TASK_MSGQUEUE 819200

static char *const default_env[] = { INIT_DEFAULT_ENV, NULL };

/* stdout/stderr copied through init: when a byte cap applies, and always
 * when the destination is a regular file (a host file must never be the
 * task's own fd: fallocate(FALLOC_FL_KEEP_SIZE) on it reserves host disk
 * past RLIMIT_FSIZE, and ftruncate or seeking write where it likes), and
 * when it is an inherited pipe, socket or device, so the result counts
 * what the task wrote there too.  A terminal is the exception: the task
 * keeps it (isatty, job control), uncounted. */
struct stream {
	int in;         /* read end of the task's pipe, -1 when closed */
	int out;        /* the destination file / inherited fd */
	uint64_t limit; /* bytes kept: the output cap, else the fsize limit */
	uint64_t bytes; /* everything the task wrote */
	bool truncated;
};

static void fail(int report_fd, int errnum, const char *step, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* Report a failed step to the parent and exit (like the child's child_fail). */
static void fail(int report_fd, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_errorv(report_fd, errnum, step, fmt, ap);
	va_end(ap);
	_exit(127);
}

/* The setup emptied the bounding set and the ambient set: check that
 * nothing in the jail holds or can regain a capability. */
static void check_no_capabilities(int report_fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	for (int cap = 0; cap <= 63; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			break; /* EINVAL: past the last capability */
		if (r > 0)
			fail(report_fd, EPERM, "capabilities", "capability %d is still in the bounding set",
			     cap);
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(report_fd, errno, "capabilities", "clear all capabilities");
}

static void set_limit(int report_fd, int resource, uint64_t value, const char *name)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

	if (setrlimit(resource, &rl) < 0)
		fail(report_fd, errno, "setrlimit", "set %s to %llu", name, (unsigned long long)value);
}

static const char *env_path(char *const *env)
{
	for (; env && *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return INIT_DEFAULT_PATH;
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
static void task_start(const struct init_config *cfg, int exec_fd, int out_fd, int err_fd)
{
	char *const *env = cfg->env ? cfg->env : default_env;
	sigset_t none;
	int e;

	if (setsid() < 0)
		fail(exec_fd, errno, "setsid", "start a new session");
	if (dup2(cfg->stdin_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		fail(exec_fd, errno, "dup2", "set up stdin/stdout/stderr");
	if (exec_fd != 3 && (dup2(exec_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0))
		fail(exec_fd, errno, "dup2", "move the exec report pipe");
	exec_fd = 3;
	if (syscall(SYS_close_range, 4, ~0u, 0) < 0)
		fail(exec_fd, errno, "close_range", "close inherited file descriptors");
	set_limit(exec_fd, RLIMIT_CORE, 0, "RLIMIT_CORE");
	set_limit(exec_fd, RLIMIT_NOFILE, cfg->rlimit_nofile, "RLIMIT_NOFILE");
	set_limit(exec_fd, RLIMIT_FSIZE, cfg->rlimit_fsize, "RLIMIT_FSIZE");
	set_limit(exec_fd, RLIMIT_STACK, cfg->rlimit_stack, "RLIMIT_STACK");
	/* per jail (its user namespace is owned by its own host uid, so the
	 * kernel counts these for the jail's uid alone): pending signals and
	 * POSIX timers, POSIX message-queue bytes */
	set_limit(exec_fd, RLIMIT_SIGPENDING, TASK_SIGPENDING, "RLIMIT_SIGPENDING");
	set_limit(exec_fd, RLIMIT_MSGQUEUE, TASK_MSGQUEUE, "RLIMIT_MSGQUEUE");
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(cfg->cwd) < 0)
		fail(exec_fd, errno, "chdir", "change to working directory %s", cfg->cwd);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(exec_fd, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
	/* the raw syscall: no allocation between clone and execve */
	if (cfg->filter.len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &cfg->filter) != 0)
		fail(exec_fd, errno, "seccomp", "install the %s seccomp filter", cfg->seccomp_name);
	e = exec_command(cfg->argv, env);
	fail(exec_fd, e, "execve", "execute '%s'", cfg->argv[0]);
}

struct task_args {
	const struct init_config *cfg;
	int exec_read, exec_write, out_fd, err_fd;
};

static int task_entry(void *arg)
{
	const struct task_args *a = arg;

	close(a->exec_read);
	task_start(a->cfg, a->exec_write, a->out_fd, a->err_fd);
	return 127;
}

/* The task shares init's memory until it execs (like vfork, and like
 * posix_spawn does it): no copy-on-write at all.  init is suspended
 * meanwhile; the task writes nothing of init's but its own stack below. */
static pid_t start_task(const struct init_config *cfg, const int exec_pipe[2], int out_fd, int err_fd)
{
	static char stack[128 * 1024] __attribute__((aligned(16)));
	struct task_args args = { cfg, exec_pipe[0], exec_pipe[1], out_fd, err_fd };

	return clone(task_entry, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
}

static void stream_copy(struct stream *s, bool *limit_hit)
{
	uint64_t limit = s->limit;
	/* not on the stack: its stack-clash probes would touch (fault in)
	 * all 16 pages of it on the first call, whatever read() returns */
	static char buf[65536];
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

		if (keep && write_all(s->out, buf, keep) == -EPIPE) {
			/* the reader went away: so does the task's pipe, and its
			 * next write gets SIGPIPE as it would have without us */
			close(s->in);
			s->in = -1;
			s->bytes += (uint64_t)n;
			return;
		}
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

/* Forward only what the host sent: kill()/pidfd_send_signal() from outside
 * the jail's pid namespace shows sender pid 0 with SI_USER (the runner's
 * jail_signal), the kernel's own signals SI_KERNEL.  A task can queue pid 1
 * a signal with any si_pid it likes through rt_sigqueueinfo, but only with
 * a negative si_code (SI_QUEUE, ...): the kernel refuses si_code >= 0 from
 * a process to another, so those are never forwarded. */
static bool sent_by_host(const struct signalfd_siginfo *si)
{
	return si->ssi_pid == 0 && (si->ssi_code == SI_USER || si->ssi_code == SI_KERNEL);
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
		       "stdout_truncated=%u\nstderr_truncated=%u\ntimeout=%u\ncpu_limit=%u\nlease_lost=%u\n"
		       "end_mono_us=%llu\n",
		       code, sig, rec->output_limit_hit, (unsigned long long)rec->stdout_bytes,
		       (unsigned long long)rec->stderr_bytes, rec->stdout_truncated, rec->stderr_truncated,
		       rec->limit_hit == INIT_LIMIT_TIMEOUT, rec->limit_hit == INIT_LIMIT_CPU,
		       rec->limit_hit == INIT_LIMIT_LEASH, (unsigned long long)rec->end_mono_us);
	/* No fsync (as for the exec mark): the status must outlive its
	 * supervisor, not the host; after a power loss the jail is gone too
	 * and an end corrald had not recorded is settled as supervisor_lost.
	 * An fsync here cost every task 10-50 ms of its end on a busy disk. */
	write_all(fd, text, (size_t)len);
}

/* The status file's first line, written before the command's clone: from
 * here on the command may run.  A supervisor that finds no such line knows
 * the command never started (the jail died in its setup), and may run the
 * task again; with it and no end, the command may have run.  No fsync: the
 * line must survive the supervisor, not the host (a reboot ends every jail). */
static void mark_exec(int status_fd, const char *line)
{
	if (status_fd >= 0)
		write_all(status_fd, line, strlen(line));
}

static void wait_for_exec(const struct init_config *cfg, int exec_read, pid_t task)
{
	struct report rec;
	ssize_t n;

	do
		n = read(exec_read, &rec, sizeof(rec));
	while (n < 0 && errno == EINTR);
	close(exec_read);
	if (n == (ssize_t)sizeof(rec)) {
		char line[48];

		/* the task could not start: its code never ran (only init's
		 * did, up to the failing step); pass its report on */
		waitpid(task, NULL, 0);
		snprintf(line, sizeof(line), "exec_error=%d\n", rec.err > 0 ? (int)rec.err : EINVAL);
		mark_exec(cfg->status_fd, line);
		write_all(cfg->report_fd, &rec, sizeof(rec));
		_exit(127);
	}
}

/* The record from the memfd the child passed, then closed: the task never
 * sees it.  buf stays allocated for init's life (cfg points into it). */
static void read_record(int record_fd, int report_fd, struct init_config *cfg)
{
	struct stat st;
	const char *why;
	size_t off = 0;
	void *buf;
	int r;

	if (fstat(record_fd, &st) < 0)
		fail(report_fd, errno, "corral-init", "stat the record fd %d", record_fd);
	if (st.st_size <= 0 || (uint64_t)st.st_size > INIT_RECORD_MAX)
		fail(report_fd, EPROTO, "corral-init", "the record is %lld bytes", (long long)st.st_size);
	buf = malloc((size_t)st.st_size);
	if (!buf)
		fail(report_fd, ENOMEM, "corral-init", "allocate the record");
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(record_fd, (char *)buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail(report_fd, n < 0 ? errno : EPROTO, "corral-init", "read the record");
		off += (size_t)n;
	}
	close(record_fd);
	r = init_record_decode(buf, off, cfg, &why);
	if (r < 0)
		fail(report_fd, -r, "corral-init", "read the record: %s", why);
	cfg->report_fd = report_fd;
}

static int parse_fd(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* The fds init holds must not leak into the command (it gets 0-2 only,
 * dup2'd from them) nor stay open across anything it execs. */
static void set_cloexec(const struct init_config *cfg)
{
	int fds[] = { cfg->report_fd, cfg->stdin_fd,    cfg->stdout_fd, cfg->stderr_fd,
		      cfg->status_fd, cfg->cpu_stat_fd, cfg->leash_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			fail(cfg->report_fd, errno, "corral-init", "set close-on-exec on fd %d", fds[i]);
}

int main(int argc, char **argv)
{
	struct init_config cfg;
	struct stream streams[2];
	int exec_pipe[2], pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	struct report done = { .kind = REPORT_STARTED };
	struct init_limits limits;
	struct timespec end = { 0, 0 };
	bool capped, copied[2], limit_hit = false, task_done = false;
	int record_fd, report_fd;
	sigset_t mask;
	pid_t task;
	int sfd, r;

	/* the command shares our uid: it must not ptrace or read us */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "corral-init", 0, 0, 0);
	if (argc != 3 || (record_fd = parse_fd(argv[1])) < 0 || (report_fd = parse_fd(argv[2])) < 0) {
		static const char usage[] =
			"corral-init: the jail's pid 1, started by the corral runner only\n";

		write_all(STDERR_FILENO, usage, sizeof(usage) - 1);
		return 2;
	}
	read_record(record_fd, report_fd, &cfg);
	init_setup_run(&cfg);
	set_cloexec(&cfg);
	check_no_capabilities(cfg.report_fd);
	capped = cfg.output_limit > 0;
	streams[0] = (struct stream){ -1, cfg.stdout_fd, 0, 0, false };
	streams[1] = (struct stream){ -1, cfg.stderr_fd, 0, 0, false };
	for (int i = 0; i < 2; i++) {
		copied[i] = capped || !isatty(streams[i].out);
		streams[i].limit = capped  ? cfg.output_limit
			: cfg.rlimit_fsize ? cfg.rlimit_fsize
					   : UINT64_MAX;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	/* the runner cloned us with every signal blocked: exactly these */
	if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
		fail(cfg.report_fd, errno, "init", "block signals");
	signal(SIGPIPE, SIG_IGN); /* a vanished parent must not kill init */
	signal(SIGXFSZ, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		fail(cfg.report_fd, errno, "init", "create signalfd");
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		fail(cfg.report_fd, errno, "init", "create the exec pipe");
	for (int i = 0; i < 2; i++)
		if (copied[i] && pipe2(pipes[i], O_CLOEXEC) < 0)
			fail(cfg.report_fd, errno, "init", "create output pipes");

	mark_exec(cfg.status_fd, "exec=1\n");
	task = start_task(&cfg, exec_pipe, copied[0] ? pipes[0][1] : cfg.stdout_fd,
			  copied[1] ? pipes[1][1] : cfg.stderr_fd);
	if (task < 0) {
		int e = errno;
		char line[48];

		snprintf(line, sizeof(line), "exec_error=%d\n", e);
		mark_exec(cfg.status_fd, line);
		fail(cfg.report_fd, e, "clone", "start the command");
	}
	close(exec_pipe[1]);
	wait_for_exec(&cfg, exec_pipe[0], task);
	for (int i = 0; i < 2; i++) {
		if (copied[i]) {
			close(pipes[i][1]);
			streams[i].in = pipes[i][0];
		}
	}
	close(cfg.stdin_fd);
	/* from the command's start: a deadline already passed fires at once */
	r = init_limits_start(&limits, &cfg);
	if (r < 0) {
		kill(-1, SIGKILL);
		fail(cfg.report_fd, -r, "init", "arm the jail's deadline and CPU-limit timers");
	}
	write_all(cfg.report_fd, &done, sizeof(done));

	while (!task_done) {
		struct pollfd pfd[6] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = streams[0].in, .events = POLLIN },
			{ .fd = streams[1].in, .events = POLLIN },
			{ .fd = limits.wall_fd, .events = POLLIN },
			{ .fd = limits.cpu_fd, .events = POLLIN },
			{ .fd = limits.leash_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(pfd, 6, -1) < 0 && errno != EINTR)
			break;
		/* the limits first: a flood of output or signals cannot delay them */
		for (int i = 3; i < 6; i++)
			if (pfd[i].revents & POLLIN)
				init_limits_fired(&limits, pfd[i].fd);
		for (int i = 0; i < 2; i++)
			if (streams[i].in >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				stream_copy(&streams[i], &limit_hit);
		if (limit_hit)
			init_limits_stop(&limits); /* the output cap killed everything */
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD) {
				if (sent_by_host(&si))
					kill(-1, (int)si.ssi_signo);
				continue;
			}
			for (;;) {
				int st;
				pid_t p = waitpid(-1, &st, WNOHANG);

				if (p <= 0)
					break;
				if (p == task) {
					clock_gettime(CLOCK_MONOTONIC, &end);
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
			stream_copy(&streams[i], &limit_hit);
		}
	}
	done.kind = REPORT_DONE;
	done.output_limit_hit = limit_hit;
	done.limit_hit = limits.hit;
	if (end.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &end);
	done.end_mono_us = (uint64_t)end.tv_sec * 1000000u + (uint64_t)end.tv_nsec / 1000u;
	done.stdout_bytes = streams[0].bytes;
	done.stderr_bytes = streams[1].bytes;
	done.stdout_truncated = streams[0].truncated;
	done.stderr_truncated = streams[1].truncated;
	write_status_file(cfg.status_fd, &done);
	write_all(cfg.report_fd, &done, sizeof(done));
	_exit(0);
}
