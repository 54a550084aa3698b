/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/netns_pool.c — network namespaces made ahead for the
 * jails: a new one (only lo, brought up) is the largest part of a jail's
 * clone, so corrald makes a few while its loop is idle and a start takes
 * one (struct jail_spec's netns_fd: the spawn enters it for the clone).
 * Each serves exactly one jail: the start closes corrald's fd after the
 * spawn, the jail's processes hold the namespace, and it goes with them.
 * An empty pool never delays a start: the jail's clone makes a new one as
 * before.  Not here: entering one for the clone (runner/spawn_netns.c).
 *
 * One is made by a child that shares corrald's memory and fd table and is
 * born in a new network namespace (clone CLONE_VM | CLONE_VFORK |
 * CLONE_FILES | CLONE_NEWNET; corrald waits the ~0.1 ms until it exited):
 * it brings lo up and opens /proc/thread-self/ns/net into the shared fd
 * table.  corrald's own network namespace never changes.  The namespace is
 * made by the clone in corrald's own context, so its CPU is corrald's (as
 * it was in the jail's clone); the child's own (lo, the open) is counted
 * in child_cpu_us from wait4's rusage.  The namespaces belong to the
 * host's user namespace: nothing in a jail has a capability over its own.
 *
 * Size: [supervisor] netns_pool (default 4, 0 = none), at most max_running.
 * A failure to make one is logged once and tried again a minute later;
 * meanwhile jails get theirs from their clone.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"

#define NETNS_POOL_MAX 64                     /* the setting's upper bound */
#define NETNS_POOL_RETRY_US (60ull * 1000000) /* after a failure to make one */
#define MAKER_STACK_SIZE (16u << 10)

struct netns_pool {
	int fds[NETNS_POOL_MAX]; /* ready namespaces, taken last first */
	size_t n;
	uint64_t retry_mono_us; /* 0, or no new one before this (a failure) */
	bool failure_logged;
	struct netns_pool_stats stats;
};

/* What the child leaves in the memory it shares with corrald. */
struct maker {
	int netns_fd, sock_fd; /* -1 = none */
	int err;
	const char *step;
};

/* The child, in its new network namespace, on its own small stack: only
 * system calls, no allocation (it shares corrald's heap and errno). */
static int maker_run(void *arg)
{
	struct maker *m = arg;
	struct ifreq ifr;

	m->sock_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->sock_fd < 0) {
		m->err = errno;
		m->step = "open a socket in the new network namespace";
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
	if (ioctl(m->sock_fd, SIOCGIFFLAGS, &ifr) < 0) {
		m->err = errno;
		m->step = "read the flags of lo";
		return 1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(m->sock_fd, SIOCSIFFLAGS, &ifr) < 0) {
		m->err = errno;
		m->step = "bring up lo";
		return 1;
	}
	close(m->sock_fd);
	m->sock_fd = -1;
	m->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (m->netns_fd < 0) {
		m->err = errno;
		m->step = "open /proc/thread-self/ns/net";
		return 1;
	}
	return 0;
}

static void maker_stack_unpoison(char *stack)
{
#ifdef __SANITIZE_ADDRESS__
	/* the child's instrumented frames ran on it (see runner/spawn.c) */
	ASAN_UNPOISON_MEMORY_REGION(stack, MAKER_STACK_SIZE);
#else
	(void)stack;
#endif
}

/* One new namespace with lo up: its fd (above 2, close-on-exec), or
 * -errno with *step saying what failed. */
static int make_one(struct netns_pool *pool, const char **step)
{
	static char stack[MAKER_STACK_SIZE] __attribute__((aligned(16)));
	struct maker m = { .netns_fd = -1, .sock_fd = -1 };
	struct rusage ru;
	sigset_t all, old;
	pid_t pid;
	int status = 0, e, fd;

	/* no handler of ours may run in the child: it shares our memory */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* exit signal 0: no SIGCHLD; reaped below with __WALL */
	pid = clone(maker_run, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNET,
		    &m);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	maker_stack_unpoison(stack);
	if (pid < 0) {
		*step = "clone a child into a new network namespace";
		return -e;
	}
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &status, __WALL, &ru) < 0) {
		if (errno != EINTR) {
			status = -1; /* cannot be (it is our child): the fd is not trusted */
			break;
		}
	}
	pool->stats.child_cpu_us += (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
		(uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	if (m.sock_fd >= 0) /* it stopped half way */
		close(m.sock_fd);
	if (m.netns_fd < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (m.netns_fd >= 0)
			close(m.netns_fd);
		*step = m.step ? m.step : "make a network namespace (the child did not finish)";
		return m.err ? -m.err : -EIO;
	}
	fd = m.netns_fd;
	if (fd <= 2) { /* corrald started with 0-2 closed: keep clear of stdio */
		fd = fcntl(m.netns_fd, F_DUPFD_CLOEXEC, 3);
		e = errno;
		close(m.netns_fd);
		if (fd < 0) {
			*step = "move the namespace's fd above 2";
			return -e;
		}
	}
	return fd;
}

/* How many corrald keeps now: the setting, at most max_running. */
static size_t target(const struct daemon *d)
{
	uint32_t n = d->cfg->netns_pool < d->cfg->max_running ? d->cfg->netns_pool : d->cfg->max_running;

	return n < NETNS_POOL_MAX ? n : NETNS_POOL_MAX;
}

int netns_pool_create(struct daemon *d)
{
	d->netns_pool = calloc(1, sizeof(*d->netns_pool));
	return d->netns_pool ? 0 : -ENOMEM;
}

void netns_pool_free(struct daemon *d)
{
	struct netns_pool *pool = d->netns_pool;

	if (!pool)
		return;
	while (pool->n)
		close(pool->fds[--pool->n]);
	free(pool);
	d->netns_pool = NULL;
}

/* A jail between its clone and its start report shares the CPUs with
 * us: making a namespace now would slow its setup. */
static bool a_jail_is_starting(const struct daemon *d)
{
	for (const struct dtask *t = d->running; t; t = t->next)
		if (t->starting)
			return true;
	return false;
}

bool netns_pool_wants_more(const struct daemon *d)
{
	const struct netns_pool *pool = d->netns_pool;

	if (!pool || d->shutting_down || d->handing_over || pool->n >= target(d) || a_jail_is_starting(d))
		return false;
	return !pool->retry_mono_us || daemon_mono_us() >= pool->retry_mono_us;
}

/* Making or entering them fails: none for a minute, the jails' clones
 * make theirs; said once. */
static void pause_after(struct netns_pool *pool, const char *what, int err)
{
	pool->stats.failures++;
	pool->retry_mono_us = daemon_mono_us() + NETNS_POOL_RETRY_US;
	while (pool->n) {
		close(pool->fds[--pool->n]);
		pool->stats.dropped++;
	}
	if (!pool->failure_logged)
		log_warning("network namespace pool: %s: %s; jails make their own (tried again every "
			    "minute, logged once)",
			    what, strerror(err));
	pool->failure_logged = true;
}

void netns_pool_fill_one(struct daemon *d)
{
	struct netns_pool *pool = d->netns_pool;
	const char *step = NULL;
	int fd;

	if (!netns_pool_wants_more(d))
		return;
	fd = make_one(pool, &step);
	if (fd < 0) {
		pause_after(pool, step, -fd);
		return;
	}
	pool->retry_mono_us = 0;
	pool->fds[pool->n++] = fd;
	pool->stats.made++;
}

int netns_pool_take(struct daemon *d)
{
	struct netns_pool *pool = d->netns_pool;

	if (!pool)
		return -1;
	/* a lowered setting (policy reload): the extra ones go */
	while (pool->n > target(d)) {
		close(pool->fds[--pool->n]);
		pool->stats.dropped++;
	}
	if (!pool->n) {
		pool->stats.missed++;
		return -1;
	}
	pool->stats.taken++;
	return pool->fds[--pool->n];
}

void netns_pool_spawn_refused(struct daemon *d, int err)
{
	if (d->netns_pool)
		pause_after(d->netns_pool, "a jail's spawn could not enter one (setns)", err);
}

void netns_pool_stats(const struct daemon *d, struct netns_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (d->netns_pool) {
		*out = d->netns_pool->stats;
		out->ready = d->netns_pool->n;
	}
}
