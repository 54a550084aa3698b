/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_task_workdir.c — the storage counter of collected
 * artifacts (supervisor/corrald/task_workdir.c): their bytes join the
 * tenant's counter when the loop's batch commits, and never when it rolls
 * back (no drift until a restart).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "supervisor/corrald/corrald.h"

struct fixture {
	struct daemon d;
	struct duser *alice;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->d.user_buckets = 8;
	f->d.user_table = calloc(f->d.user_buckets, sizeof(*f->d.user_table));
	assert_non_null(f->d.user_table);
	f->alice = queue_user(&f->d, "alice");
	assert_non_null(f->alice);
	f->alice->stored_bytes = 1000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	task_workdir_batch_done(&f->d, false);
	for (size_t b = 0; b < f->d.user_buckets; b++)
		for (struct duser *u = f->d.user_table[b], *next; u; u = next) {
			next = u->hash_next;
			free(u->name);
			free(u);
		}
	free(f->d.user_table);
	free(f);
	return 0;
}

static void test_collected_bytes_count_when_the_batch_commits(void **state)
{
	struct fixture *f = *state;

	task_workdir_count_at_commit(&f->d, "alice", 300);
	task_workdir_count_at_commit(&f->d, "alice", 200);
	assert_int_equal(f->alice->stored_bytes, 1000); /* not yet */
	task_workdir_batch_done(&f->d, true);
	assert_int_equal(f->alice->stored_bytes, 1500);
	task_workdir_batch_done(&f->d, true); /* counted once */
	assert_int_equal(f->alice->stored_bytes, 1500);
}

static void test_collected_bytes_of_a_rolled_back_batch_never_count(void **state)
{
	struct fixture *f = *state;

	task_workdir_count_at_commit(&f->d, "alice", 300);
	task_workdir_count_at_commit(&f->d, "gone", 5); /* a tenant no longer known */
	task_workdir_batch_done(&f->d, false);
	assert_int_equal(f->alice->stored_bytes, 1000);
	task_workdir_batch_done(&f->d, true);
	assert_int_equal(f->alice->stored_bytes, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collected_bytes_count_when_the_batch_commits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_collected_bytes_of_a_rolled_back_batch_never_count,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
