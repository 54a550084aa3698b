/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_files.h — a task's files in corrald's tests (issue
 * 15): the `corral` client run against a test's corrald, an HTTP token's
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
