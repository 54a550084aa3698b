/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_limits.c — the limits corral-init enforces itself, so
 * that a caller that is late (a stalled corrald, a stopped corral-run)
 * cannot extend a task: the wall-clock deadline (SIGTERM to every process
 * of the jail, then SIGKILL after the grace) and the CPU-time limit (the
 * jail cgroup's cpu.stat, read through an fd the runner opened on the
 * host, looked at when the limit could first be reached at the jail's
 * fastest rate; SIGKILL once it is); and the leash: a host file its
 * supervisor (corrald in a cluster) rewrites with a CLOCK_BOOTTIME
 * deadline (it counts a suspended host's sleep, as the database's clock
 * does) each time it renewed its lease on the task, read every
 * INIT_LEASH_LOOK_MS; once the deadline passed, SIGKILL, so that a node
 * that froze or died cannot run a task another node was given since.
 *
 * The caller stays the primary enforcer: the runner sets the deadline a
 * margin after the caller's own (JAIL_BACKSTOP_MARGIN_MS, runner/jail.h),
 * and for the CPU limit both kill at the same usage, whoever looks first.
 *
 * Nothing in the jail can stop these timers: init is pid 1 of the jail's
 * pid namespace (SIGKILL and SIGSTOP from inside it are dropped; every
 * other signal is blocked and read from a signalfd), it is not dumpable and
 * the command has no capabilities and its seccomp filter (ptrace,
 * process_vm_writev, /proc/1/mem all need CAP_SYS_PTRACE over a
 * non-dumpable init), and its timerfds, the cpu.stat fd and the leash fd (a
 * host file opened read-only) are close-on-exec and closed in the command
 * before its exec.  libc only (static program).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "runner/init/init_limits.h"

/* between two looks at cpu.stat: at least (no busy loop near the limit),
 * at most (CPUs brought online later burn faster than assumed) */
#define CPU_LOOK_MIN_US 5000u
#define CPU_LOOK_MAX_US 1000000u

static int arm(int fd, uint64_t us, bool absolute)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (us == 0)
		us = 1; /* 0 would disarm: "now" */
	its.it_value.tv_sec = (time_t)(us / 1000000u);
	its.it_value.tv_nsec = (long)(us % 1000000u) * 1000;
	return timerfd_settime(fd, absolute ? TFD_TIMER_ABSTIME : 0, &its, NULL);
}

/* usage_usec from the cgroup's cpu.stat (its first line); -1 when unreadable */
static int read_usage_us(int fd, uint64_t *out)
{
	char buf[256], *p, *end;
	ssize_t n;

	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "usage_usec ");
	if (!p)
		return -1;
	p += strlen("usage_usec ");
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno || end == p ? -1 : 0;
}

/* Look at the CPU used: kill at the limit, else look again when it could
 * first be reached. */
static void look_at_cpu(struct init_limits *l)
{
	uint64_t used = 0, wait;

	if (read_usage_us(l->cpu_stat_fd, &used) < 0) {
		wait = CPU_LOOK_MAX_US; /* the caller still enforces it */
	} else if (used >= l->cpu_limit_us) {
		if (l->hit == INIT_LIMIT_NONE)
			l->hit = INIT_LIMIT_CPU;
		kill(-1, SIGKILL);
		return;
	} else {
		wait = (l->cpu_limit_us - used) * 1000u / l->cpu_rate_millis;
		if (wait < CPU_LOOK_MIN_US)
			wait = CPU_LOOK_MIN_US;
		if (wait > CPU_LOOK_MAX_US)
			wait = CPU_LOOK_MAX_US;
	}
	arm(l->cpu_fd, wait, false);
}

/* The leash's deadline (CLOCK_BOOTTIME us; 0 = none), or -1 when the
 * file gives no full 8 bytes (then nothing changes). */
static int read_leash(int fd, uint64_t *deadline_us)
{
	ssize_t n;

	do
		n = pread(fd, deadline_us, sizeof(*deadline_us), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*deadline_us) ? 0 : -1;
}

static uint64_t boottime_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The supervisor stopped renewing its lease on the task: kill the jail. */
static void look_at_leash(struct init_limits *l)
{
	uint64_t deadline = 0;

	if (read_leash(l->leash_file_fd, &deadline) < 0 || deadline == 0 || boottime_now_us() <= deadline)
		return;
	if (l->hit == INIT_LIMIT_NONE)
		l->hit = INIT_LIMIT_LEASH;
	kill(-1, SIGKILL);
}

int init_limits_start(struct init_limits *l, const struct init_config *cfg)
{
	memset(l, 0, sizeof(*l));
	l->wall_fd = l->cpu_fd = l->leash_fd = -1;
	l->cpu_stat_fd = cfg->cpu_stat_fd;
	l->leash_file_fd = cfg->leash_fd;
	l->kill_grace_us = cfg->kill_grace_us;
	l->cpu_limit_us = cfg->cpu_limit_us;
	l->cpu_rate_millis = cfg->cpu_rate_millis ? cfg->cpu_rate_millis : 1000u;
	if (cfg->wall_deadline_us) {
		l->wall_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->wall_fd < 0 || arm(l->wall_fd, cfg->wall_deadline_us, true) < 0)
			return -errno;
	}
	if (cfg->cpu_limit_us && cfg->cpu_stat_fd >= 0) {
		l->cpu_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->cpu_fd < 0)
			return -errno;
		look_at_cpu(l);
	}
	if (cfg->leash_fd >= 0) {
		struct itimerspec its = { .it_interval = { 0, INIT_LEASH_LOOK_MS * 1000000L },
					  .it_value = { 0, INIT_LEASH_LOOK_MS * 1000000L } };

		l->leash_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->leash_fd < 0 || timerfd_settime(l->leash_fd, 0, &its, NULL) < 0)
			return -errno;
		look_at_leash(l); /* a deadline already passed acts at once */
	}
	return 0;
}

static bool expired(int fd)
{
	uint64_t ticks;

	return read(fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks);
}

void init_limits_fired(struct init_limits *l, int fd)
{
	if (fd < 0 || !expired(fd))
		return;
	if (fd == l->cpu_fd) {
		look_at_cpu(l);
		return;
	}
	if (fd == l->leash_fd) {
		look_at_leash(l);
		return;
	}
	if (fd != l->wall_fd)
		return;
	if (l->terminated || l->kill_grace_us == 0) {
		/* the grace is over (or there is none): everything but init */
		if (l->hit == INIT_LIMIT_NONE)
			l->hit = INIT_LIMIT_TIMEOUT;
		kill(-1, SIGKILL);
		return;
	}
	if (l->hit == INIT_LIMIT_NONE)
		l->hit = INIT_LIMIT_TIMEOUT;
	l->terminated = true;
	kill(-1, SIGTERM);
	arm(l->wall_fd, l->kill_grace_us, false);
}

void init_limits_stop(struct init_limits *l)
{
	if (l->wall_fd >= 0)
		close(l->wall_fd);
	if (l->cpu_fd >= 0)
		close(l->cpu_fd);
	if (l->leash_fd >= 0)
		close(l->leash_fd);
	l->wall_fd = l->cpu_fd = l->leash_fd = -1;
}
