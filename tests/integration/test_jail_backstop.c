/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_jail_backstop.c — the jail holds its limits when
 * its caller does not look (runner/init/init_limits.c): spawned and never
 * waited for, a jail ends by itself JAIL_BACKSTOP_MARGIN_MS after its
 * wall-clock limit (SIGTERM, the grace, SIGKILL) or at its CPU limit, and
 * the result (and its status file) says timeout / cpu_limit with the time
 * the command really ended.  The leash (spec.leash_path): the jail kills
 * itself within INIT_LEASH_LOOK_MS of the deadline its file says
 * (lease_lost), lives on while the deadline is moved on, and a deadline of
 * 0 is no leash.  Real jails, as root.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/init_protocol.h"

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

/* Killed (SIGKILL) by the jail's own limit, as the result and the status
 * file say, its end between from_us and to_us after the spawn. */
static void assert_killed_by(const struct jail_result *res, const struct jail_result *file,
			     const char *status, uint64_t from_us, uint64_t to_us)
{
	assert_string_equal(jail_status_name(res->status), status);
	assert_string_equal(jail_status_name(file->status), status);
	assert_int_equal(res->signal, 9);
	assert_true(res->wall_us >= from_us);
	assert_true(res->wall_us < to_us);
	assert_int_equal(test_count_cgroups(), 0);
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
	assert_killed_by(&res, &file, "timeout", end_us, end_us + SLACK_US);
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

static uint64_t leash_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The leash file in the test's dir, holding deadline_us; its path. */
static const char *write_leash(uint64_t deadline_us)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/leash", test_jail_dir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &deadline_us, sizeof(deadline_us), 0), (ssize_t)sizeof(deadline_us));
	close(fd);
	return path;
}

static void test_unwatched_jail_dies_when_its_leash_runs_out(void **state)
{
	struct jail_result res, file;
	struct jail_spec spec;
	uint64_t spawned = leash_clock_us();

	(void)state;
	require_root();
	test_spec(&spec, SH("sleep 30"));
	spec.leash_path = write_leash(spawned + 800000);
	run_unwatched(&spec, 2500, &res, &file);
	fprintf(stderr, "# ended %.3f s after the spawn (leash 0.8 s, looked at every %u ms)\n",
		res.wall_us / 1e6, INIT_LEASH_LOOK_MS);
	/* never before the deadline (counted from a little before the spawn) */
	assert_killed_by(&res, &file, "lease_lost", 700000, 800000 + INIT_LEASH_LOOK_MS * 1000u + SLACK_US);
}

static void test_leash_moved_on_or_zero_keeps_the_jail(void **state)
{
	struct jail_result res;
	struct jail_error err;
	struct jail_spec spec;
	struct jail *j = NULL;

	(void)state;
	require_root();
	/* moved on every 100 ms, never more than 400 ms ahead: 1.5 s of life */
	test_spec(&spec, SH("sleep 1.5; exit 3"));
	spec.leash_path = write_leash(leash_clock_us() + 400000);
	assert_int_equal(jail_spawn(&spec, &j, &err), 0);
	for (int i = 0; i < 30; i++) {
		struct pollfd pfd = { .fd = jail_pidfd(j), .events = POLLIN };

		if (poll(&pfd, 1, 100) == 1)
			break;
		write_leash(leash_clock_us() + 400000);
	}
	assert_int_equal(jail_wait(j, &res, &err), 0);
	jail_free(j);
	assert_string_equal(jail_status_name(res.status), "exit_nonzero");
	assert_int_equal(res.exit_code, 3);
	/* 0: no leash, however long it runs */
	spec.leash_path = write_leash(0);
	assert_int_equal(jail_spawn(&spec, &j, &err), 0);
	assert_int_equal(jail_wait(j, &res, &err), 0);
	jail_free(j);
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(test_count_cgroups(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_unwatched_jail_ends_at_its_deadline_after_the_grace,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_unwatched_jail_ends_at_its_cpu_limit, test_jail_teardown),
		cmocka_unit_test_teardown(test_unwatched_jail_dies_when_its_leash_runs_out,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_leash_moved_on_or_zero_keeps_the_jail, test_jail_teardown),
	};

	return cmocka_run_group_tests_name("jail_backstop", tests, NULL, test_jail_group_teardown);
}
