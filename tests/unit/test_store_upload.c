/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_upload.c — staged uploads of a store
 * (supervisor/store/store_upload.h), once per backend: chunks only in
 * order and within the declared size; a tenant's staged count and bytes;
 * a take moves a complete, sealed upload into a task's input (its bytes on
 * the task's stored_bytes, the upload gone), refuses another tenant's or
 * an incomplete one; expiry removes the old uploads and their chunks.
 *
 * SQLite on a real file in a temp dir; PostgreSQL on a real server this
 * program starts (tests/lib/pg.h); without PostgreSQL binaries that group
 * skips loudly (fails under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_files.h"
#include "supervisor/store/store_upload.h"
#include "tests/lib/store_fixture.h"

static struct pg_server *pg;

static void begin(struct store_fixture *f, int64_t id, const char *user, int64_t size, int64_t expires)
{
	struct store_upload u = {
		.id = id, .user = (char *)user, .size = size, .created_at_us = 1, .expires_at_us = expires
	};
	struct error err = { 0 };

	if (store_upload_begin(f->store, &u, &err) != 0)
		fail_msg("store_upload_begin: %s", err.message);
}

static int64_t task(struct store_fixture *f, const char *user)
{
	struct store_task t = { .user = (char *)user,
				.submitted_by_uid = 1000,
				.profile = "default",
				.argv_json = "[\"/bin/true\"]",
				.cwd = "/work",
				.submitted_at_us = 10 };
	struct error err = { 0 };
	int64_t id = 0;

	if (store_submit(f->store, &t, &id, &err) != 0)
		fail_msg("submit: %s", err.message);
	return id;
}

static void test_chunks_go_in_order_within_the_size(void **state)
{
	struct store_fixture *f = *state;
	struct store_upload u;
	struct error err = { 0 };
	char *chunk = NULL;

	begin(f, 7, "alice", 6, 1000);
	/* "YWJj" = abc, "ZGVm" = def */
	assert_int_equal(store_upload_chunk(f->store, 7, 3, 1, "ZGVm", 3, 2000, &err), -ESTALE);
	assert_int_equal(store_upload_chunk(f->store, 7, 0, 0, "YWJj", 3, 2000, &err), 0);
	assert_int_equal(store_upload_chunk(f->store, 7, 0, 0, "YWJj", 3, 2000, &err), -ESTALE);
	assert_int_equal(store_upload_chunk(f->store, 8, 0, 0, "YWJj", 3, 2000, &err), -ESTALE);
	assert_int_equal(store_upload_get(f->store, 7, &u, &err), 0);
	assert_int_equal(u.received, 3);
	assert_int_equal(u.size, 6);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.sha256, "");
	assert_int_equal(u.expires_at_us, 2000);
	store_upload_clear(&u);
	/* past its size: refused, nothing changed */
	assert_int_equal(store_upload_chunk(f->store, 7, 3, 1, "ZGVmZw==", 4, 3000, &err), -ESTALE);
	assert_int_equal(store_upload_chunk(f->store, 7, 3, 1, "ZGVm", 3, 3000, &err), 0);
	assert_int_equal(store_upload_get_chunk(f->store, 7, 1, &chunk, &err), 0);
	assert_string_equal(chunk, "ZGVm");
	free(chunk);
	assert_int_equal(store_upload_get_chunk(f->store, 7, 2, &chunk, &err), -ENOENT);
	assert_int_equal(store_upload_get(f->store, 9, &u, &err), -ENOENT);
	assert_int_equal(store_upload_chunk(f->store, 7, 0, 0, "", 0, 3000, &err), -EINVAL);
}

static void test_staged_counts_a_tenants_uploads(void **state)
{
	struct store_fixture *f = *state;
	struct error err = { 0 };
	int64_t count = -1, bytes = -1;

	begin(f, 1, "alice", 100, 1000);
	begin(f, 2, "alice", 50, 1000);
	begin(f, 3, "bob", 7, 1000);
	assert_int_equal(store_upload_staged(f->store, "alice", &count, &bytes, &err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(bytes, 150);
	assert_int_equal(store_upload_staged(f->store, "carol", &count, &bytes, &err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(store_upload_drop(f->store, 1, &err), 0);
	assert_int_equal(store_upload_drop(f->store, 1, &err), 0);
	assert_int_equal(store_upload_staged(f->store, "alice", &count, &bytes, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(bytes, 50);
}

static void test_take_moves_a_complete_upload_into_a_task(void **state)
{
	struct store_fixture *f = *state;
	struct store_file_list list;
	struct store_upload u;
	struct error err = { 0 };
	int64_t id = task(f, "alice"), before = store_fixture_stored_bytes(f, id), size = -1, count, bytes;
	char *chunk = NULL;

	begin(f, 5, "alice", 6, 1000);
	assert_int_equal(store_upload_chunk(f->store, 5, 0, 0, "YWJj", 3, 2000, &err), 0);
	/* not complete yet */
	assert_int_equal(store_upload_take(f->store, 5, "alice", id, "in/a.bin", 0644, &size, &err), -EBUSY);
	assert_int_equal(store_upload_chunk(f->store, 5, 3, 1, "ZGVm", 3, 2000, &err), 0);
	/* complete but not sealed */
	assert_int_equal(store_upload_take(f->store, 5, "alice", id, "in/a.bin", 0644, &size, &err), -EBUSY);
	assert_int_equal(store_upload_seal(f->store, 5,
					   "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721",
					   &err),
			 0);
	/* another tenant's */
	assert_int_equal(store_upload_take(f->store, 5, "bob", id, "in/a.bin", 0644, &size, &err), -ENOENT);
	assert_int_equal(store_upload_take(f->store, 5, "alice", id, "in/a.bin", 0755, &size, &err), 0);
	assert_int_equal(size, 6);
	assert_int_equal(store_fixture_stored_bytes(f, id), before + 6);
	assert_int_equal(store_files_list(f->store, id, STORE_FILE_INPUT, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.items[0].name, "in/a.bin");
	assert_int_equal(list.items[0].size, 6);
	assert_int_equal(list.items[0].mode, 0755);
	assert_string_equal(list.items[0].sha256,
			    "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721");
	store_files_list_free(&list);
	assert_int_equal(store_files_get_chunk(f->store, id, STORE_FILE_INPUT, "in/a.bin", 1, &chunk, &err),
			 0);
	assert_string_equal(chunk, "ZGVm");
	free(chunk);
	/* gone: a second take finds nothing */
	assert_int_equal(store_upload_get(f->store, 5, &u, &err), -ENOENT);
	assert_int_equal(store_upload_take(f->store, 5, "alice", id, "b", 0644, &size, &err), -ENOENT);
	assert_int_equal(store_upload_staged(f->store, "alice", &count, &bytes, &err), 0);
	assert_int_equal(count, 0);
}

static void test_expiry_removes_old_uploads_and_their_chunks(void **state)
{
	struct store_fixture *f = *state;
	struct store_upload u;
	struct error err = { 0 };
	char *chunk = NULL;

	begin(f, 1, "alice", 3, 1000);
	begin(f, 2, "alice", 3, 5000);
	begin(f, 3, "bob", 3, 900);
	assert_int_equal(store_upload_chunk(f->store, 1, 0, 0, "YWJj", 3, 1000, &err), 0);
	assert_int_equal(store_upload_expire(f->store, 1001, 1, &err), 1);
	assert_int_equal(store_upload_expire(f->store, 1001, 10, &err), 1);
	assert_int_equal(store_upload_expire(f->store, 1001, 10, &err), 0);
	assert_int_equal(store_upload_get(f->store, 1, &u, &err), -ENOENT);
	assert_int_equal(store_upload_get_chunk(f->store, 1, 0, &chunk, &err), -ENOENT);
	assert_int_equal(store_upload_get(f->store, 2, &u, &err), 0);
	store_upload_clear(&u);
}

int main(void)
{
	int failed = 0;
	pg = store_fixture_pg("the PostgreSQL upload tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_chunks_go_in_order_within_the_size),
			T(test_staged_counts_a_tenants_uploads),
			T(test_take_moves_a_complete_upload_into_a_task),
			T(test_expiry_removes_old_uploads_and_their_chunks),
#undef T
		};

		if (postgres && !pg)
			continue;
		failed += cmocka_run_group_tests_name(postgres ? "uploads on postgresql"
							       : "uploads on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
