/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_files.h — a task's files in corrald's tests (issue
 * 15): the fixture the test_corrald_files* tests share (their supervisor
 * keys and policy, a scratch dir per test, corrald started and cleaned
 * up), the `corral` client run against a test's corrald, an HTTP token's
 * header, a task's artifact list, one artifact of a list by name, a file
 * written.
 */
#ifndef CORRAL_TESTS_LIB_CORRALD_FILES_H
#define CORRAL_TESTS_LIB_CORRALD_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tests/lib/corrald.h"

/* The [supervisor] keys of a files test, with its own host uids (a string
 * literal, e.g. "4201400-4201463": apart from the other corrald tests'). */
#define CORRALD_FILES_KEYS(uid_range)                                                          \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = " uid_range \
	"\nmax_running = 4\n"
/* The policy: root an operator, root and nobody users of the default plan
 * p (max_queued = 100, then plan_keys: a string literal, "" for none). */
#define CORRALD_FILES_POLICY(plan_keys)                                       \
	"[access]\noperators = root\nusers = root " CORRALD_TEST_OTHER_TENANT \
	"\n[plan p]\nmax_queued = 100\n" plan_keys "[default]\nplan = p\n"

/* A test's corrald and scratch dir (the test's own statics), given to
 * cmocka as the prestate: cmocka_unit_test_prestate_setup_teardown(t,
 * corrald_files_setup, corrald_files_teardown, &fixture). */
struct corrald_files_fixture {
	struct corrald *daemon;
	char *scratch; /* "/tmp/<prefix>-XXXXXX", made by setup; "" = none */
	size_t scratch_size;
	const char *prefix; /* e.g. "corral-files" */
};

/* cmocka setup: make the scratch dir.  *state stays the fixture. */
int corrald_files_setup(void **state);
/* cmocka teardown: corrald cleaned up (corrald_cleanup), the scratch dir
 * removed. */
int corrald_files_teardown(void **state);
/* corrald_start with keys and policy_body (clock offset 0), failing the
 * test with corrald's log if it does not start. */
void corrald_files_start(struct corrald *d, const char *keys, const char *policy_body);

/* corrald_submit of fields; fails the test (with corrald's log) if refused. */
int64_t corrald_files_submit(struct corrald *d, const char *fields);
/* Wait up to timeout_ms for task id to end; fails the test unless it
 * succeeded (what names it in the message, with corrald's log). */
void corrald_files_must_succeed(struct corrald *d, int64_t id, unsigned timeout_ms, const char *what);
/* `corral --socket S ARGS` through the shell (killed after 60 s: a client
 * that hangs fails the test, not the run); its exit status. */
int corrald_files_cli(struct corrald *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Authorization: Bearer SECRET" of a new API token for user (an operator
 * or not) into header; fails the test if corrald refuses. */
void corrald_files_bearer(struct corrald *d, const char *user, bool operator, char * header, size_t size);
/* The task's artifacts (a new reference), failing the test on an error. */
json_t *corrald_files_list(struct corrald *d, int64_t id);
/* The artifact named name in list (borrowed), or NULL. */
json_t *corrald_files_named(json_t *list, const char *name);
/* Write len bytes to path (created or truncated with mode), failing the test on an error. */
void corrald_files_write(const char *path, const void *data, size_t len, unsigned mode);

#endif
