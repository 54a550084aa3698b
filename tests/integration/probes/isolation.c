/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/probes/isolation.c — a task that reaches for what a jail
 * shares with the host and the other jails (kernel counters, the host's
 * disks, pid 1's signal forwarding, /proc), run by
 * tests/integration/test_jail_isolation.c.  Static.
 *
 *   isolation exhaust MS      create POSIX timers until EAGAIN, inotify
 *                             instances until an error, POSIX message queues
 *                             until an error; print the counts and HOLDING,
 *                             then hold them MS milliseconds
 *   isolation use             one timer_create, inotify_init1 and mq_open:
 *                             "NAME: ok" or "NAME: failed (why)"
 *   isolation sync            sync() and syncfs(-1) (the kernel says EBADF)
 *   isolation syscalls N...   raw syscall(N) with zero arguments: "sys N: errno"
 *   isolation forge SIG       rt_sigqueueinfo(1, SIG) with si_pid 0, as if the
 *                             host sent it; "forwarded: yes|no"
 *   isolation fallocate PATH MB   fallocate(FALLOC_FL_KEEP_SIZE) MB on PATH
 *                             ("-" = stdout); prints the result
 *   isolation read PATH...    "PATH: N bytes" / "PATH: N entries" / "PATH: error (why)"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int open_queue(int i)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
	char name[64];

	snprintf(name, sizeof(name), "/isolation-%d-%d", (int)getpid(), i);
	return (int)mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
}

static int mode_exhaust(long hold_ms)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	long timers = 0, inotify = 0, queues = 0;
	int timer_errno, inotify_errno, mq_errno;
	timer_t t;

	while (timers < 10000000 && timer_create(CLOCK_MONOTONIC, &sev, &t) == 0)
		timers++;
	timer_errno = errno;
	while (inotify < 100000 && inotify_init1(IN_CLOEXEC) >= 0)
		inotify++;
	inotify_errno = errno;
	while (queues < 100000 && open_queue((int)queues) >= 0)
		queues++;
	mq_errno = errno;
	say("timers=%ld (%s)\ninotify=%ld (%s)\nmqueues=%ld (%s)\nHOLDING\n", timers, strerror(timer_errno),
	    inotify, strerror(inotify_errno), queues, strerror(mq_errno));
	sleep_ms(hold_ms);
	return 0;
}

static int mode_use(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	timer_t t;
	int fd;

	if (timer_create(CLOCK_MONOTONIC, &sev, &t) == 0)
		say("timer_create: ok\n");
	else
		say("timer_create: failed (%s)\n", strerror(errno));
	fd = inotify_init1(IN_CLOEXEC);
	if (fd >= 0)
		say("inotify_init: ok\n");
	else
		say("inotify_init: failed (%s)\n", strerror(errno));
	fd = open_queue(0);
	if (fd >= 0)
		say("mq_open: ok\n");
	else
		say("mq_open: failed (%s)\n", strerror(errno));
	return 0;
}

static int mode_sync(void)
{
	long r;

	sync();
	say("sync: returned\n");
	r = syscall(SYS_syncfs, -1);
	say("syncfs(-1): %s\n", r == 0 ? "0" : strerror(errno));
	return 0;
}

static int mode_syscalls(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 10), r;

		errno = 0;
		r = syscall(nr, 0, 0, 0, 0, 0, 0);
		say("sys %ld: %s\n", nr, r < 0 ? strerror(errno) : "returned");
	}
	return 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static int mode_forge(int sig)
{
	siginfo_t si;
	long r;

	signal(sig, on_signal);
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE; /* the kernel refuses si_code >= 0 from us */
	si.si_pid = 0;         /* "from outside the pid namespace" */
	si.si_uid = 0;
	r = syscall(SYS_rt_sigqueueinfo, 1, sig, &si);
	say("rt_sigqueueinfo: %s\n", r == 0 ? "sent" : strerror(errno));
	for (int i = 0; i < 50 && !got_signal; i++)
		sleep_ms(10);
	say("forwarded: %s\n", got_signal ? "yes" : "no");
	return 0;
}

static int mode_fallocate(const char *path, long mb)
{
	int fd = strcmp(path, "-") == 0 ? 1 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	struct stat st;

	if (fd < 0) {
		say("open %s: %s\n", path, strerror(errno));
		return 0;
	}
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)mb << 20) == 0)
		say("fallocate: reserved\n");
	else
		say("fallocate: failed (%s)\n", strerror(errno));
	if (fstat(fd, &st) == 0 && fd != 1)
		say("allocated=%lld\n", (long long)st.st_blocks * 512);
	return 0;
}

static void read_one(const char *path)
{
	char buf[65536];
	struct stat st;
	long total = 0;
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0) {
		say("%s: error (%s)\n", path, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		long entries = 0;

		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				entries++;
		if (d)
			closedir(d);
		say("%s: %ld entries\n", path, entries);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say("%s: error (%s)\n", path, strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* the content too, so a test can look for host data */
		if (total == 0)
			say("%s: content %.*s\n", path, (int)(n > 200 ? 200 : n), buf);
		total += n;
	}
	close(fd);
	if (n < 0)
		say("%s: error (%s)\n", path, strerror(errno));
	else
		say("%s: %ld bytes\n", path, total);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "exhaust") == 0)
		return mode_exhaust(strtol(argv[2], NULL, 10));
	if (argc >= 2 && strcmp(argv[1], "use") == 0)
		return mode_use();
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return mode_sync();
	if (argc >= 3 && strcmp(argv[1], "syscalls") == 0)
		return mode_syscalls(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "forge") == 0)
		return mode_forge(atoi(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "fallocate") == 0)
		return mode_fallocate(argv[2], strtol(argv[3], NULL, 10));
	if (argc >= 3 && strcmp(argv[1], "read") == 0) {
		for (int i = 2; i < argc; i++)
			read_one(argv[i]);
		return 0;
	}
	fprintf(stderr,
		"usage: isolation exhaust MS | use | sync | syscalls N... | forge SIG | "
		"fallocate PATH MB | read PATH...\n");
	return 2;
}
