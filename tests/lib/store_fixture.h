/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/store_fixture.h — a fresh store per test, on SQLite (a temp
 * dir) or on a real PostgreSQL (a fresh database of the shared server,
 * tests/lib/pg.h), for cmocka tests that run once per backend.
 */
#ifndef CORRAL_TESTS_LIB_STORE_FIXTURE_H
#define CORRAL_TESTS_LIB_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/store/store.h"
#include "tests/lib/pg.h"

struct store_fixture {
	struct pg_server *pg; /* NULL: SQLite */
	char uri[192];
	char dir[64];   /* SQLite: the temp directory */
	char path[128]; /* SQLite: the database file in it */
	char db[32];
	struct store *store;
};

/* cmocka setup and teardown: *state on entry is the prestate, the
 * struct pg_server to use, or NULL for SQLite; then the fixture. */
int store_fixture_setup(void **state);
int store_fixture_teardown(void **state);
/* The shared PostgreSQL server, or NULL after saying loudly that the
 * tests named by what skip (a failure, counted in *failed, under
 * CORRAL_MUST_WORK=1). */
struct pg_server *store_fixture_pg(const char *what, int *failed);
/* The stored_bytes of task id, failing the test on an error. */
int64_t store_fixture_stored_bytes(struct store_fixture *f, int64_t id);

#endif
