/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/test.c — loud skips, build paths, clocks and small file helpers
 * for every kind of test (see test.h).  No runner code: what jails need at
 * start is jail.c's, called through a weak reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/test.h"

/* tests/lib/jail.c: points the runner at the build's corral-init.  Weak:
 * programs that run no jails in-process (corrald tests, soak, benches) do
 * not link jail.c or the runner. */
void test_jail_prepare(void) __attribute__((weak));

void test_skip_loudly(const char *fmt, ...)
{
	char why[512];
	va_list ap;
	const char *must = getenv("CORRAL_MUST_WORK");

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (must && strcmp(must, "1") == 0) {
		fail_msg("CORRAL_MUST_WORK=1 but this test would skip: %s", why);
		return;
	}
	fprintf(stderr, "SKIP: %s\n", why);
	skip();
}

void test_require_root(void)
{
	static bool prepared;

	if (geteuid() != 0)
		test_skip_loudly("needs root (real namespaces and cgroups); run as root");
	if (!prepared && test_jail_prepare)
		test_jail_prepare();
	prepared = true;
}

const char *test_build_path(const char *rel)
{
	static char buf[4096];
	const char *build = getenv("CORRAL_BUILD");

	snprintf(buf, sizeof(buf), "%s/%s", build && *build ? build : "build", rel);
	return buf;
}

unsigned test_host_uid(void)
{
	return 7100000u + (unsigned)getpid() % 100000u;
}

void test_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

uint64_t test_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double test_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double test_offset_to(int year, int month, int day, int hour, int min, int sec)
{
	struct tm tm = { .tm_year = year - 1900,
			 .tm_mon = month - 1,
			 .tm_mday = day,
			 .tm_hour = hour,
			 .tm_min = min,
			 .tm_sec = sec };
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (double)timegm(&tm) - ((double)now.tv_sec + now.tv_nsec / 1e9);
}

void test_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static int first_error;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && !first_error)
		first_error = -errno;
	return 0;
}

int test_remove_tree(const char *dir)
{
	first_error = 0;
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return first_error;
}

static void read_all_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

/* A temp file, unlinked, open for reading and writing. */
static int temp_fd(void)
{
	char path[] = "/tmp/corral-test-output-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

int test_run_capture(char *const argv[], char *out, size_t out_size, char *err, size_t err_size, char *fd3,
		     size_t fd3_size)
{
	int pipefd[2], err_fd = temp_fd(), fd3_fd = fd3 ? temp_fd() : -1, st;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(err_fd, 2);
		if (fd3_fd >= 0)
			dup2(fd3_fd, 3);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	read_all_fd(pipefd[0], out, out_size);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	lseek(err_fd, 0, SEEK_SET);
	read_all_fd(err_fd, err, err_size);
	close(err_fd);
	if (fd3_fd >= 0) {
		lseek(fd3_fd, 0, SEEK_SET);
		read_all_fd(fd3_fd, fd3, fd3_size);
		close(fd3_fd);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void test_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}
