/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/jail.h — running one real jail in the test process (the
 * runner linked in): a temp dir the jail's uid can reach, the probe copied
 * into it, stdout/stderr captured to files and read back; the test's own
 * jail cgroups.  A jail run by a real corrald is tests/lib/corrald.h.
 */
#ifndef CORRAL_TESTS_LIB_JAIL_H
#define CORRAL_TESTS_LIB_JAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/jail.h"

struct test_run {
	struct jail_result result;
	struct jail_error error;
	int spawn_rc;
	char out[65536];
	char err[16384];
};

/* Create the temp dir (0755) with the probe in it; returns its path. */
const char *test_jail_dir(void);
/* Remove the temp dir and everything in it. */
void test_jail_cleanup(void);
/* A spec with test defaults: argv, a unique host uid, cgroup parent
 * "corral-test", stdout/stderr to files in the temp dir, 30 s wall limit,
 * the temp dir bound read-only at /t (the probe is /t/probe). */
void test_spec(struct jail_spec *spec, char *const *argv);
/* Spawn, wait, read the output files.  Returns the spawn result (0 or -errno). */
int test_run_spec(const struct jail_spec *spec, struct test_run *run);
/* test_run_spec, asserting that it spawned and ended with status "ok". */
void test_run_ok(const struct jail_spec *spec, struct test_run *run);
/* cmocka teardowns: no jail cgroup of ours left; remove the temp dir. */
int test_jail_teardown(void **state);
int test_jail_group_teardown(void **state);
/* Number of this process's jail cgroups (jail-<pid>-*) left below the test
 * cgroup parent, in the unified tree and the v1 hierarchies (0 = clean). */
int test_count_cgroups(void);
/* Is a process with exactly this cmdline (NUL-separated, len bytes) in one
 * of this process's jail cgroups (any hierarchy)?  Never the host's list. */
bool test_jail_has_process(const char *cmdline, size_t len);
/* Called by test_require_root() (tests/lib/test.c) once: point the runner
 * at $CORRAL_BUILD/corral-init (the test binaries do not live beside it). */
void test_jail_prepare(void);

#endif
