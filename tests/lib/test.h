/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/test.h — what every test needs (unit, integration, bench,
 * soak): loud skips (failures under CORRAL_MUST_WORK=1), paths into the
 * build, clocks, small files and temp trees.  Jails are tests/lib/jail.h;
 * a real corrald is tests/lib/corrald.h.
 */
#ifndef CORRAL_TESTS_LIB_TEST_H
#define CORRAL_TESTS_LIB_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Skip the current test with a reason, or fail it when CORRAL_MUST_WORK=1. */
void test_skip_loudly(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skip (loudly) unless running as root; the first call in a program that
 * runs jails itself (links tests/lib/jail.c) points the runner at
 * $CORRAL_BUILD/corral-init. */
void test_require_root(void);
/* $CORRAL_BUILD (default "build") + "/" + rel, in a static buffer. */
const char *test_build_path(const char *rel);
/* Host uid/gid for jails in tests: distinct per process, from 7100000 up. */
unsigned test_host_uid(void);

/* Sleep ms milliseconds. */
void test_sleep_ms(unsigned ms);
/* CLOCK_MONOTONIC in milliseconds / in seconds. */
uint64_t test_mono_ms(void);
double test_mono_s(void);
/* A clock offset (seconds, for corrald_start) that puts now at this UTC
 * date and time. */
double test_offset_to(int year, int month, int day, int hour, int min, int sec);

/* Up to size - 1 bytes of path into buf, NUL-ended ("" if unreadable). */
void test_read_text(const char *path, char *buf, size_t size);
/* Run argv[0] (a path) with argv: its stdout through a pipe into out, its
 * stderr (and, when fd3 is not NULL, its fd 3) through temp files into err
 * and fd3, each NUL-ended and cut to its size.  The exit status, or 128+N
 * when killed by signal N.  Fails the test when it cannot run. */
int test_run_capture(char *const argv[], char *out, size_t out_size, char *err, size_t err_size, char *fd3,
		     size_t fd3_size);
/* rm -r of a directory tree (lstat, no links followed): 0 or -errno of
 * the first failure. */
int test_remove_tree(const char *dir);
/* Run a shell command (at most 4 KiB); a non-zero status fails the test. */
void test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define require_root()               \
	do {                         \
		test_require_root(); \
	} while (0)

#endif
