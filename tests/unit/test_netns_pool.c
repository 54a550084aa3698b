/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_netns_pool.c — when corrald's pool of network namespaces
 * (supervisor/corrald/netns_pool.c) wants more, and what an empty pool
 * gives a start.  Making them needs root: test_corrald_netns_pool.
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
	struct policy_supervisor cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.max_running = 4;
	f->cfg.netns_pool = 4;
	f->d.cfg = &f->cfg;
	assert_int_equal(netns_pool_create(&f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	netns_pool_free(&f->d);
	assert_null(f->d.netns_pool);
	free(f);
	return 0;
}

static void test_an_empty_pool_wants_more_up_to_its_size(void **state)
{
	struct fixture *f = *state;

	assert_true(netns_pool_wants_more(&f->d));
	f->cfg.netns_pool = 0; /* off */
	assert_false(netns_pool_wants_more(&f->d));
	f->cfg.netns_pool = 8;
	f->cfg.max_running = 0; /* never more than max_running */
	assert_false(netns_pool_wants_more(&f->d));
}

static void test_none_while_draining_or_handing_over(void **state)
{
	struct fixture *f = *state;

	f->d.shutting_down = true;
	assert_false(netns_pool_wants_more(&f->d));
	f->d.shutting_down = false;
	f->d.handing_over = true;
	assert_false(netns_pool_wants_more(&f->d));
}

static void test_none_while_a_jail_sets_itself_up(void **state)
{
	struct fixture *f = *state;
	struct dtask t;

	memset(&t, 0, sizeof(t));
	t.starting = true;
	f->d.running = &t;
	assert_false(netns_pool_wants_more(&f->d));
	t.starting = false; /* its command runs */
	assert_true(netns_pool_wants_more(&f->d));
	f->d.running = NULL;
}

static void test_an_empty_pool_gives_no_namespace_and_counts_it(void **state)
{
	struct fixture *f = *state;
	struct netns_pool_stats st;

	assert_int_equal(netns_pool_take(&f->d), -1);
	assert_int_equal(netns_pool_take(&f->d), -1);
	netns_pool_stats(&f->d, &st);
	assert_int_equal(st.missed, 2);
	assert_int_equal(st.taken, 0);
	assert_int_equal(st.ready, 0);
}

static void test_without_a_pool_nothing_is_wanted_or_given(void **state)
{
	struct fixture *f = *state;
	struct netns_pool_stats st;

	netns_pool_free(&f->d);
	assert_false(netns_pool_wants_more(&f->d));
	assert_int_equal(netns_pool_take(&f->d), -1);
	netns_pool_fill_one(&f->d); /* nothing to fill */
	netns_pool_stats(&f->d, &st);
	assert_int_equal(st.made + st.missed + st.ready, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_an_empty_pool_wants_more_up_to_its_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_none_while_draining_or_handing_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_while_a_jail_sets_itself_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_empty_pool_gives_no_namespace_and_counts_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_a_pool_nothing_is_wanted_or_given, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
