/*
 * tests/integration/lib_common.h — what every integration test needs:
 * loud skips (failures under CORRAL_MUST_WORK=1), paths into the build.
 */
#ifndef CORRAL_TESTS_LIB_COMMON_H
#define CORRAL_TESTS_LIB_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Skip the current test with a reason, or fail it when CORRAL_MUST_WORK=1. */
void test_skip_loudly(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skip (loudly) unless running as root with what real jails need; the
 * first call points the runner at $CORRAL_BUILD/corral-init. */
void test_require_root(void);
/* $CORRAL_BUILD (default "build") + "/" + rel, in a static buffer. */
const char *test_build_path(const char *rel);
/* Host uid/gid for jails in tests: distinct per process, from 7100000 up. */
unsigned test_host_uid(void);

#define require_root() do { test_require_root(); } while (0)

#endif
