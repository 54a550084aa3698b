/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/store_fixture.c — a fresh store per test (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/store_fixture.h"
#include "tests/lib/test.h"

int store_fixture_setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	struct error err = { 0 };
	char why[512];

	assert_non_null(f);
	f->pg = *state;
	if (f->pg) {
		if (pg_server_create_db(f->pg, f->db, sizeof(f->db), f->uri, sizeof(f->uri), why,
					sizeof(why)) < 0)
			fail_msg("create a database: %s", why);
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/corral-test-store-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->path, sizeof(f->path), "%s/corrald.db", f->dir);
		snprintf(f->uri, sizeof(f->uri), "sqlite:%s", f->path);
	}
	if (store_open(f->uri, NULL, &f->store, &err) != 0)
		fail_msg("store_open %s: %s", f->uri, err.message);
	*state = f;
	return 0;
}

int store_fixture_teardown(void **state)
{
	struct store_fixture *f = *state;

	store_close(f->store);
	if (f->pg)
		pg_server_drop_db(f->pg, f->db);
	else if (test_remove_tree(f->dir) < 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

struct pg_server *store_fixture_pg(const char *what, int *failed)
{
	char why[512] = "";
	struct pg_server *pg = pg_shared_server(why, sizeof(why));
	const char *must = getenv("CORRAL_MUST_WORK");

	if (pg)
		return pg;
	if (must && strcmp(must, "1") == 0) {
		fprintf(stderr, "FAIL: CORRAL_MUST_WORK=1 but %s would skip: %s\n", what, why);
		(*failed)++;
	} else {
		fprintf(stderr, "SKIP: %s: %s\n", what, why);
	}
	return NULL;
}

int64_t store_fixture_stored_bytes(struct store_fixture *f, int64_t id)
{
	struct store_task t;
	struct error err = { 0 };
	int64_t bytes;

	if (store_get_task(f->store, id, &t, &err) != 0)
		fail_msg("get %lld: %s", (long long)id, err.message);
	bytes = t.stored_bytes;
	store_task_clear(&t);
	return bytes;
}
