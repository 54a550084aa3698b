/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_fairness.c — one local user cannot stall
 * corrald's loop or swell it (issue 16): 63 connections x 11 `logs`
 * requests of a 1 MiB output, never read, used to stall the loop for 35-40 s
 * and grow corrald by ~900 MB.  Requests are now served round robin, a few
 * per connection per turn, and a uid's unread answers are capped across its
 * connections.  Real corrald, as root; the flooding user is nobody.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201100-4201163\n" \
	"max_running = 4\n"
#define POLICY                                                                           \
	"[access]\noperators = root\n[plan free]\nmax_concurrent = 2\nmax_queued = 10\n" \
	"max_task_seconds = 1m\n[default]\nplan = free\n"
#define CONNECTIONS 63
#define REQUESTS 11

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static double ping_latency(unsigned timeout_ms)
{
	int fd = corrald_connect_as(&daemon_, 0, 0);
	double t0 = test_mono_s(), dt = -1;
	json_t *r;

	if (fd < 0)
		return -1;
	if (corrald_raw_send(fd, "{\"op\":\"ping\"}\n", 14) == 0 &&
	    (r = corrald_raw_recv(fd, timeout_ms)) != NULL) {
		if (json_is_true(json_object_get(r, "ok")))
			dt = test_mono_s() - t0;
		json_decref(r);
	}
	close(fd);
	return dt;
}

static void test_one_users_logs_flood_neither_stalls_nor_swells_corrald(void **state)
{
	const char *submit =
		"{\"op\":\"submit\",\"argv\":[\"/usr/bin/head\",\"-c\",\"1048576\",\"/dev/zero\"]}";
	json_t *out[1] = { NULL };
	int fds[CONNECTIONS];
	char line[128], lines[REQUESTS * 128];
	long rss_before, rss_after;
	double worst = 0;
	int64_t id;
	int got;

	(void)state;
	require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, &submit,
					  1, out),
			 0);
	assert_non_null(out[0]);
	id = task_int(json_object_get(out[0], "task"), "id");
	json_decref(out[0]);
	assert_true(id > 0);
	{
		json_t *t = corrald_must_wait(&daemon_, id, 20000);

		fprintf(stderr, "# task %lld: %s, %lld stdout bytes\n", (long long)id, task_str(t, "state"),
			task_int(t, "stdout_bytes"));
		json_decref(t);
	}
	rss_before = corrald_rss_kb(&daemon_);

	got = corrald_connect_many_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, fds,
				      CONNECTIONS);
	assert_int_equal(got, CONNECTIONS);
	snprintf(line, sizeof(line), "{\"op\":\"logs\",\"id\":%lld,\"stream\":\"stdout\"}\n", (long long)id);
	lines[0] = '\0';
	for (int i = 0; i < REQUESTS; i++)
		strcat(lines, line);
	for (int i = 0; i < got; i++)
		assert_int_equal(corrald_raw_send(fds[i], lines, strlen(lines)), 0);
	/* the flood is never read; another tenant (root) pings meanwhile */
	for (int i = 0; i < 10; i++) {
		double dt = ping_latency(60000);

		if (dt < 0)
			fail_msg("ping got no answer during the flood\n%s", corrald_log_tail(&daemon_));
		if (dt > worst)
			worst = dt;
		usleep(100000);
	}
	rss_after = corrald_rss_kb(&daemon_);
	for (int i = 0; i < got; i++)
		close(fds[i]);
	fprintf(stderr, "# worst ping %.3f s; RSS %ld kB -> %ld kB\n", worst, rss_before, rss_after);
	if (worst > 2.0)
		fail_msg("another tenant's ping waited %.1f s behind one user's flood", worst);
	if (rss_after - rss_before > 128 * 1024)
		fail_msg("corrald grew from %ld kB to %ld kB with one user's unread answers", rss_before,
			 rss_after);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_one_users_logs_flood_neither_stalls_nor_swells_corrald,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
