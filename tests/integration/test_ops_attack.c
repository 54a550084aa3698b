/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_ops_attack.c — an unprivileged local user against
 * corrald's transport-free operations (supervisor/corrald/ops.c, op_wait.c,
 * op_submit.c, transport_unix.c): parked replies whose connection dies while
 * they are being answered, connections closed with pending submits and
 * follows, operator-only ops, identity after a policy reload.  Every test
 * starts its own daemon on a temp state dir (lib_corrald).
 *
 * ATTACK_FILTER="*fan*" runs one test.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_BASE                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200000-4200063\n" \
	"max_running = 8\n"
#define POLICY                                                                                              \
	"[access]\noperators = root\n"                                                                      \
	"[plan free]\nmax_concurrent = 4\nmax_queued = 100\nmax_task_seconds = 1m\nmax_cpu_seconds = 30s\n" \
	"memory = 256M\noutput_limit = 8M\n"                                                                \
	"[default]\nplan = free\n"
#define OTHER CORRALD_TEST_OTHER_UID

static struct corrald daemon_;

static void start(void)
{
	int r = corrald_start(&daemon_, SUPERVISOR_BASE, POLICY, 0);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static json_t *call_raw(int fd, const char *line)
{
	char *l = NULL;
	json_t *r;

	if (asprintf(&l, "%s\n", line) < 0)
		return NULL;
	if (corrald_raw_send(fd, l, strlen(l)) < 0) {
		free(l);
		return NULL;
	}
	free(l);
	r = corrald_raw_recv(fd, 5000);
	return r;
}

/* corrald still answers a fresh root connection (and did not die) */
static bool daemon_alive(unsigned timeout_ms)
{
	int fd = corrald_connect_as(&daemon_, 0, 0);
	bool ok = false;
	json_t *r;

	if (fd < 0)
		return false;
	if (corrald_raw_send(fd, "{\"op\":\"ping\"}\n", 14) == 0 &&
	    (r = corrald_raw_recv(fd, timeout_ms)) != NULL) {
		ok = json_is_true(json_object_get(r, "ok"));
		json_decref(r);
	}
	close(fd);
	return ok;
}

static int64_t submit_as(int fd, const char *argv_json)
{
	char line[1024];
	json_t *r;
	int64_t id;

	snprintf(line, sizeof(line), "{\"op\":\"submit\",\"argv\":%s}", argv_json);
	r = call_raw(fd, line);
	if (!r)
		fail_msg("no answer to submit\n%s", corrald_log_tail(&daemon_));
	id = task_int(json_object_get(r, "task"), "id");
	json_decref(r);
	if (id <= 0)
		fail_msg("submit refused\n%s", corrald_log_tail(&daemon_));
	return id;
}

/* ---- parked replies and a connection killed while they are answered ---- */

/* A user parks the most follow-logs requests one connection may hold on
 * its own running task, which then writes a few MiB.  One pass of
 * op_wait_check/op_wait_wake answers every waiter (up to 1 MiB each, base64)
 * into the connection's output buffer; past MAX_OUTPUT (16 MiB) the
 * transport kills the connection, which drops that sink's waiters
 * (op_wait_drop_sink) — including the one being answered, while the loop
 * still holds it (use after free, double free: the daemon aborts). */
static void test_logs_fan_out_past_the_output_cap_does_not_crash(void **state)
{
	char line[256];
	int64_t id;
	int fd;

	(void)state;
	require_root();
	start();
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	/* output only after the follows are parked */
	id = submit_as(fd, "[\"/bin/sh\",\"-c\",\"sleep 1.5; head -c 4000000 /dev/zero; sleep 1\"]");
	json_decref(corrald_wait_state(&daemon_, id, "running", 5000));
	snprintf(line, sizeof(line), "{\"op\":\"logs\",\"id\":%lld,\"follow\":true,\"offset\":0}\n",
		 (long long)id);
	/* all in one write: parked in one turn, nothing read back */
	{
		size_t n = 256, len = strlen(line);
		char *many = malloc(n * len);

		assert_non_null(many);
		for (size_t i = 0; i < n; i++)
			memcpy(many + i * len, line, len);
		assert_int_equal(corrald_raw_send(fd, many, n * len), 0);
		free(many);
	}
	/* the task writes, the waiters are answered, the client is dropped */
	sleep(4);
	if (!daemon_alive(5000))
		fail_msg("corrald died answering parked follows of a dropped client\n%s",
			 corrald_log_tail(&daemon_));
	close(fd);
	assert_true(daemon_alive(5000));
}

/* ---- connections closed with things pending ----------------------------- */

/* Submits, waits and follows in one write, then the connection is closed
 * before anything is read: the pending submits are answered into a sink
 * whose connection is gone, the parked replies are dropped. */
static void test_close_with_pending_submits_waits_and_follows(void **state)
{
	char buf[8192];
	int64_t id;
	int fd, len = 0;

	(void)state;
	require_root();
	start();
	for (int round = 0; round < 6; round++) {
		fd = corrald_connect_as(&daemon_, OTHER, OTHER);
		assert_true(fd >= 0);
		id = submit_as(fd, "[\"/bin/sleep\",\"0.3\"]");
		len = 0;
		for (int i = 0; i < 5; i++)
			len += snprintf(buf + len, sizeof(buf) - (size_t)len,
					"{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}\n"
					"{\"op\":\"wait\",\"id\":%lld}\n"
					"{\"op\":\"logs\",\"id\":%lld,\"follow\":true}\n"
					"{\"op\":\"cancel\",\"id\":%lld}\n",
					(long long)id + 1 + i, (long long)id, (long long)id);
		assert_int_equal(corrald_raw_send(fd, buf, (size_t)len), 0);
		shutdown(fd, SHUT_RDWR);
		close(fd);
	}
	sleep(1);
	assert_true(daemon_alive(5000));
}

/* ---- operator-only ops and identity ------------------------------------- */

static void test_policy_reload_is_operator_only(void **state)
{
	int fd;
	json_t *r;

	(void)state;
	require_root();
	start();
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	r = call_raw(fd, "{\"op\":\"policy_reload\"}");
	assert_non_null(r);
	assert_non_null(corrald_error_code(r));
	assert_string_equal(corrald_error_code(r), "forbidden");
	json_decref(r);
	/* acting for another tenant, or seeing its usage */
	r = call_raw(fd, "{\"op\":\"usage\",\"user\":\"root\"}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r), "forbidden");
	json_decref(r);
	r = call_raw(fd, "{\"op\":\"list\",\"user\":\"root\"}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r), "forbidden");
	json_decref(r);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_logs_fan_out_past_the_output_cap_does_not_crash, teardown),
		cmocka_unit_test_teardown(test_close_with_pending_submits_waits_and_follows, teardown),
		cmocka_unit_test_teardown(test_policy_reload_is_operator_only, teardown),
	};

	if (getenv("ATTACK_FILTER"))
		cmocka_set_test_filter(getenv("ATTACK_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
