/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_jail_backstop.c — the jail holds its limits when
 * its caller does not look (runner/init/init_limits.c): spawned and never
 * waited for, a jail ends by itself JAIL_BACKSTOP_MARGIN_MS after its
 * wall-clock limit (SIGTERM, the grace, SIGKILL) or at its CPU limit, and
 * the result (and its status file) says timeout / cpu_limit with the time
 * the command really ended.  Real jails, as root.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/jail.h"
#include "tests/lib/test.h"

#define SH(script) ((char *const[]){ "/bin/sh", "-c", script, NULL })
/* what a loaded 2-core CI machine may add to an end */
#define SLACK_US 500000

/* Spawn spec, look away for ms, then (the jail must have ended by itself)
 * finish it; the status file's account in *file. */
static void run_unwatched(struct jail_spec *spec, unsigned ms, struct jail_result *res,
			  struct jail_result *file)
{
	char status[256];
	struct jail_error err;
	struct jail *j = NULL;
	struct pollfd pfd;

	snprintf(status, sizeof(status), "%s/status", test_jail_dir());
	spec->status_path = status;
	assert_int_equal(jail_spawn(spec, &j, &err), 0);
	test_sleep_ms(ms);
	pfd = (struct pollfd){ .fd = jail_pidfd(j), .events = POLLIN };
	if (poll(&pfd, 1, 0) != 1)
		fail_msg("the jail still runs %u ms after its start, past its limit", ms);
	assert_int_equal(jail_finish(j, res, &err), 0);
	jail_free(j);
	assert_int_equal(jail_read_status_file(status, file), 0);
}

static void test_unwatched_jail_ends_at_its_deadline_after_the_grace(void **state)
{
	struct jail_result res, file;
	struct jail_spec spec;
	uint64_t end_us = (500 + JAIL_BACKSTOP_MARGIN_MS + 300) * 1000ull;

	(void)state;
	require_root();
	/* it ignores the SIGTERM: only the SIGKILL after the grace ends it */
	test_spec(&spec, SH("trap '' TERM; while :; do sleep 0.05; done"));
	spec.wall_time_ms = 500;
	spec.kill_grace_ms = 300;
	run_unwatched(&spec, 3000, &res, &file);
	fprintf(stderr, "# ended %.3f s after the spawn (limit 0.5 s, margin %u ms, grace 0.3 s)\n",
		res.wall_us / 1e6, JAIL_BACKSTOP_MARGIN_MS);
	assert_string_equal(jail_status_name(res.status), "timeout");
	assert_string_equal(jail_status_name(file.status), "timeout");
	assert_int_equal(res.signal, 9);
	assert_true(res.wall_us >= end_us);
	assert_true(res.wall_us < end_us + SLACK_US);
	assert_int_equal(test_count_cgroups(), 0);
}

static void test_unwatched_jail_ends_at_its_cpu_limit(void **state)
{
	struct jail_result res, file;
	struct jail_spec spec;

	(void)state;
	require_root();
	test_spec(&spec, SH("while :; do :; done & while :; do :; done"));
	spec.cpu_time_ms = 300;
	run_unwatched(&spec, 3000, &res, &file);
	fprintf(stderr, "# %.3f s of CPU in %.3f s (limit 0.3 s)\n", res.cpu_usage_us / 1e6,
		res.wall_us / 1e6);
	assert_string_equal(jail_status_name(res.status), "cpu_limit");
	assert_string_equal(jail_status_name(file.status), "cpu_limit");
	assert_true(res.cpu_usage_us >= 300000);
	assert_true(res.cpu_usage_us < 400000);
	assert_int_equal(test_count_cgroups(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_unwatched_jail_ends_at_its_deadline_after_the_grace,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_unwatched_jail_ends_at_its_cpu_limit, test_jail_teardown),
	};

	return cmocka_run_group_tests_name("jail_backstop", tests, NULL, test_jail_group_teardown);
}
