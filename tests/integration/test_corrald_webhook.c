/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_webhook.c — result webhooks (issue 14)
 * against a real corrald, as root, received by a small HTTP server in this
 * test (a thread on 127.0.0.1): the POST carries the ended task and an
 * X-Corral-Signature that verifies with the policy's secret (socket and
 * HTTP submits); a 500 is retried with backoff; a redirect is not
 * followed; a delivery that failed before corrald stopped is made after it
 * restarts (the state is in the store); callback URLs outside [http]
 * callback_hosts are refused at submit; a receiver that does not answer
 * does not hold corrald's loop; the restart case again on PostgreSQL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nettle/hmac.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201600-4201663\n" \
	"max_running = 4\n"
#define SECRET "webhook-test-secret-0123456789"
#define MAX_REQUESTS 16

/* ---- the receiving server ------------------------------------------------ */

struct hook_request {
	char path[128];
	char signature[128];
	char attempt[16];
	char *body;
	int64_t at_us; /* received, wall clock */
};

static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	int statuses[MAX_REQUESTS]; /* the answer to the n-th request; 0 = 200 */
	int status_after;           /* to requests past the list; 0 = 200 */
	unsigned hang_ms;           /* wait this long before answering */
	struct hook_request req[MAX_REQUESTS];
	size_t n;
	volatile bool stop;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *l = head; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;

			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
			return;
		}
	}
}

static void serve_one(int c)
{
	char buf[1 << 16], cl[32], reply[256];
	size_t len = 0, need = 0;
	char *end = NULL;
	int status;

	while (len < sizeof(buf) - 1) {
		ssize_t r = read(c, buf + len, sizeof(buf) - 1 - len);

		if (r <= 0)
			return;
		len += (size_t)r;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			header_value(buf, "Content-Length", cl, sizeof(cl));
			need = (size_t)(end + 4 - buf) + (size_t)atol(cl);
		}
		if (end && len >= need)
			break;
	}
	if (!end)
		return;
	pthread_mutex_lock(&srv.mu);
	if (srv.n < MAX_REQUESTS) {
		struct hook_request *h = &srv.req[srv.n];

		sscanf(buf, "%*s %127s", h->path);
		header_value(buf, "X-Corral-Signature", h->signature, sizeof(h->signature));
		header_value(buf, "X-Corral-Attempt", h->attempt, sizeof(h->attempt));
		h->body = strndup(end + 4, len - (size_t)(end + 4 - buf));
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			h->at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		}
	}
	status = srv.n < MAX_REQUESTS && srv.statuses[srv.n] ? srv.statuses[srv.n]
		: srv.status_after                           ? srv.status_after
							     : 200;
	srv.n++;
	pthread_mutex_unlock(&srv.mu);
	for (unsigned waited = 0; waited < srv.hang_ms && !srv.stop; waited += 10)
		test_sleep_ms(10);
	snprintf(reply, sizeof(reply), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n",
		 status, status == 302 ? "Location: /redirected\r\n" : "");
	if (write(c, reply, strlen(reply)) < 0)
		return;
}

static void *serve(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p = { .fd = srv.fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static void server_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1;

	srv.stop = false;
	srv.n = 0;
	memset(srv.statuses, 0, sizeof(srv.statuses));
	srv.status_after = 0;
	srv.hang_ms = 0;
	srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.fd >= 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.fd, 16), 0);
	assert_int_equal(getsockname(srv.fd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
	if (srv.fd <= 0)
		return;
	srv.stop = true;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	srv.fd = 0;
	for (size_t i = 0; i < srv.n && i < MAX_REQUESTS; i++)
		free(srv.req[i].body);
	srv.n = 0;
}

/* Wait until the server got n requests (up to timeout_ms). */
static void wait_requests(size_t n, unsigned timeout_ms);

/* ---- corrald ------------------------------------------------------------- */

static struct corrald daemon_;
static char base[64];

static void wait_requests(size_t n, unsigned timeout_ms)
{
	size_t got = 0;

	for (unsigned waited = 0; waited < timeout_ms; waited += 10) {
		pthread_mutex_lock(&srv.mu);
		got = srv.n;
		pthread_mutex_unlock(&srv.mu);
		if (got >= n)
			return;
		test_sleep_ms(10);
	}
	fail_msg("the webhook server got %zu requests, wanted %zu\n%s", got, n, corrald_log_tail(&daemon_));
}

/* extra_keys: more [supervisor] keys ("store = postgresql://..."), or "". */
static void start_with(const char *backoff, const char *extra_keys)
{
	char policy[1024], keys[1024];
	int port = http_free_port();

	server_start();
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n"
		 "[http]\nlisten = 127.0.0.1:%d\ncallback_hosts = localhost, 127.0.0.1:%d\n"
		 "callback_secret = " SECRET "\ncallback_backoff = %s\n"
		 "[plan free]\nmax_concurrent = 4\nmax_queued = 100\nmax_task_seconds = 1m\n"
		 "[default]\nplan = free\n",
		 port, srv.port, backoff);
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "%s", extra_keys);
	if (corrald_start(&daemon_, keys, policy, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
}

static void start(const char *backoff)
{
	start_with(backoff, "");
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	server_stop();
	return 0;
}

static int64_t submit_with_callback(const char *path)
{
	char fields[256];
	int64_t id;

	snprintf(fields, sizeof(fields),
		 "\"argv\":[\"/bin/echo\",\"hi\"],\"callback_url\":\"http://127.0.0.1:%d%s\"", srv.port,
		 path);
	id = corrald_submit(&daemon_, fields);
	if (id <= 0)
		fail_msg("submit {%s} refused\n%s", fields, corrald_log_tail(&daemon_));
	return id;
}

/* The callbacks row of task id: state and attempts (the store's). */
static void callback_row(int64_t id, char *state, size_t size, int *attempts, char *error, size_t esize)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT state, attempts, COALESCE(last_error, '') FROM callbacks "
					    "WHERE task_id = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(state, size, "%s", (const char *)sqlite3_column_text(st, 0));
	*attempts = sqlite3_column_int(st, 1);
	snprintf(error, esize, "%s", (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Wait until task id's callback is in state (up to 5 s). */
static void wait_callback_state(int64_t id, const char *want, int *attempts, char *error, size_t esize)
{
	char state[32] = "";

	for (int i = 0; i < 500; i++) {
		callback_row(id, state, sizeof(state), attempts, error, esize);
		if (strcmp(state, want) == 0)
			return;
		test_sleep_ms(10);
	}
	fail_msg("callback of task %lld is %s, wanted %s\n%s", (long long)id, state, want,
		 corrald_log_tail(&daemon_));
}

static void expect_signed_task(const struct hook_request *h, int64_t id)
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char want[80] = "sha256=";
	json_t *task;

	hmac_sha256_set_key(&ctx, strlen(SECRET), (const uint8_t *)SECRET);
	hmac_sha256_update(&ctx, strlen(h->body), (const uint8_t *)h->body);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", digest[i]);
	assert_string_equal(h->signature, want);
	task = json_loads(h->body, 0, NULL);
	assert_non_null(task);
	assert_int_equal(task_int(task, "id"), id);
	assert_string_equal(task_str(task, "state"), "succeeded");
	json_decref(task);
}

static void test_webhook_is_signed_and_carries_the_task(void **state)
{
	char token[160], u[256], body[256], error[256];
	struct http_answer a;
	int64_t id, http_id;
	int attempts;
	json_t *r;

	(void)state;
	require_root();
	start("200ms");
	id = submit_with_callback("/hook");
	wait_requests(1, 10000);
	assert_string_equal(srv.req[0].path, "/hook");
	assert_string_equal(srv.req[0].attempt, "1");
	expect_signed_task(&srv.req[0], id);
	{
		json_t *t = json_loads(srv.req[0].body, 0, NULL);

		fprintf(stderr, "webhook received %.1f ms after the task ended\n",
			(double)(srv.req[0].at_us - task_int(t, "ended_at_us")) / 1000.0);
		json_decref(t);
	}
	wait_callback_state(id, "delivered", &attempts, error, sizeof(error));
	assert_int_equal(attempts, 1);
	/* the same from an HTTP submit */
	r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"root\"}");
	snprintf(token, sizeof(token), "Authorization: Bearer %s",
		 json_string_value(json_object_get(r, "secret")));
	json_decref(r);
	snprintf(u, sizeof(u), "%s/v1/tasks", base);
	snprintf(body, sizeof(body), "{\"command\":\"true\",\"callback_url\":\"http://127.0.0.1:%d/h2\"}",
		 srv.port);
	http_curl(&a, "-X", "POST", "-H", token, "--data-binary", body, u, NULL);
	assert_int_equal(a.status, 201);
	http_id = task_int(json_object_get(a.json, "task"), "id");
	http_answer_free(&a);
	wait_requests(2, 10000);
	assert_string_equal(srv.req[1].path, "/h2");
	expect_signed_task(&srv.req[1], http_id);
	wait_callback_state(http_id, "delivered", &attempts, error, sizeof(error));
}

static void test_webhook_is_retried_after_a_500(void **state)
{
	char error[256];
	int64_t id;
	int attempts;

	(void)state;
	require_root();
	start("200ms");
	srv.statuses[0] = 500;
	srv.statuses[1] = 500;
	id = submit_with_callback("/retry");
	wait_requests(3, 10000);
	assert_string_equal(srv.req[0].attempt, "1");
	assert_string_equal(srv.req[1].attempt, "2");
	assert_string_equal(srv.req[2].attempt, "3");
	expect_signed_task(&srv.req[2], id);
	assert_string_equal(srv.req[0].body, srv.req[2].body);
	wait_callback_state(id, "delivered", &attempts, error, sizeof(error));
	assert_int_equal(attempts, 3);
	{
		struct http_answer a;
		char u[128];

		snprintf(u, sizeof(u), "%s/metrics", base);
		http_curl(&a, u, NULL);
		assert_int_equal(a.status, 200);
		assert_non_null(strstr(a.body, "corral_webhook_attempts_total{result=\"retry\"} 2"));
		assert_non_null(strstr(a.body, "corral_webhook_attempts_total{result=\"delivered\"} 1"));
		http_answer_free(&a);
	}
}

static void test_redirect_is_not_followed(void **state)
{
	char error[256];
	int64_t id;
	int attempts;

	(void)state;
	require_root();
	start("10s");
	srv.status_after = 302;
	id = submit_with_callback("/moved");
	wait_requests(1, 10000);
	wait_callback_state(id, "pending", &attempts, error, sizeof(error));
	for (int i = 0; i < 200 && !strstr(error, "redirect"); i++) {
		test_sleep_ms(10);
		wait_callback_state(id, "pending", &attempts, error, sizeof(error));
	}
	assert_non_null(strstr(error, "redirects are not followed"));
	test_sleep_ms(300);
	assert_int_equal(srv.n, 1); /* /redirected was never asked for */
	assert_string_equal(srv.req[0].path, "/moved");
}

/* Attempt 1 fails (503), corrald stops; it starts again and delivers. */
static void test_webhook_is_delivered_after_a_restart(void **state)
{
	char error[256];
	int64_t id;
	int attempts;

	(void)state;
	require_root();
	start("1s");
	srv.statuses[0] = 503;
	id = submit_with_callback("/restart");
	wait_requests(1, 10000);
	assert_int_equal(corrald_stop(&daemon_), 0);
	wait_callback_state(id, "pending", &attempts, error, sizeof(error));
	assert_int_equal(attempts, 1);
	assert_int_equal(corrald_restart(&daemon_, 0), 0);
	wait_requests(2, 10000);
	assert_string_equal(srv.req[1].path, "/restart");
	assert_string_equal(srv.req[1].attempt, "2");
	expect_signed_task(&srv.req[1], id);
	wait_callback_state(id, "delivered", &attempts, error, sizeof(error));
}

static void test_callback_outside_the_allow_list_is_refused(void **state)
{
	static const struct {
		const char *before, *after, *code, *text;
		int port_delta;
	} cases[] = {
		{ "http://127.0.0.2:", "/x", "forbidden", "not in the policy's [http] callback_hosts", 0 },
		{ "http://127.0.0.1:", "/x", "forbidden", "callback_hosts", 1 }, /* another port */
		{ "http://169.254.169.254/latest/meta-data?", "", "forbidden", "callback_hosts", 0 },
		{ "http://localhost:", "/x", "forbidden", "callback_hosts", 0 }, /* localhost: port 80 only */
		{ "ftp://127.0.0.1:", "/x", "bad_request", "http:// or https://", 0 },
		{ "http://user:pw@127.0.0.1:", "/x", "bad_request", "user name or password", 0 },
		{ "not a url ", "", "bad_request", "not an http", 0 },
	};
	json_t *r;

	(void)state;
	require_root();
	start("200ms");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char url[128];

		snprintf(url, sizeof(url), "%s%d%s", cases[i].before, srv.port + cases[i].port_delta,
			 cases[i].after);
		r = corrald_call(&daemon_,
				 "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"callback_url\":\"%s\"}", url);
		assert_non_null(r);
		if (!corrald_error_code(r) || strcmp(corrald_error_code(r), cases[i].code) != 0 ||
		    !strstr(corrald_error_message(r), cases[i].text))
			fail_msg("%s: %s: %s, wanted %s (%s)", url, corrald_error_code(r) ?: "ok",
				 corrald_error_message(r) ?: "", cases[i].code, cases[i].text);
		json_decref(r);
	}
	r = corrald_call(&daemon_, "{\"op\":\"list\"}");
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 0);
	json_decref(r);
}

/* A receiver that takes its time does not hold corrald: requests are
 * answered at once while the webhook waits for its answer. */
static void test_a_slow_receiver_does_not_block_corrald(void **state)
{
	uint64_t worst = 0;

	(void)state;
	require_root();
	start("200ms");
	srv.hang_ms = 3000;
	submit_with_callback("/slow");
	wait_requests(1, 10000);
	for (int i = 0; i < 20; i++) {
		uint64_t t0 = test_mono_ms();
		json_t *r = corrald_call(&daemon_, "{\"op\":\"ping\"}");

		assert_non_null(r);
		json_decref(r);
		if (test_mono_ms() - t0 > worst)
			worst = test_mono_ms() - t0;
		test_sleep_ms(50);
	}
	fprintf(stderr, "slowest ping while a webhook waited: %llu ms\n", (unsigned long long)worst);
	assert_true(worst < 500);
	assert_int_equal(srv.n, 1);
}

/* The same on the PostgreSQL store: a 500, a restart, then delivered. */
static void test_webhook_on_postgresql_survives_a_restart(void **state)
{
	char why[512] = "", db[32], uri[192], keys[256], sql[512];
	struct pg_server *pg;
	int64_t id;
	int ok = -1;

	(void)state;
	require_root();
	pg = pg_shared_server(why, sizeof(why));
	if (!pg)
		test_skip_loudly("no PostgreSQL for the store: %s", why);
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
	snprintf(keys, sizeof(keys), "store = %s\n", uri);
	start_with("1s", keys);
	srv.statuses[0] = 500;
	id = submit_with_callback("/pg");
	wait_requests(1, 10000);
	assert_int_equal(corrald_stop(&daemon_), 0);
	assert_int_equal(corrald_restart(&daemon_, 0), 0);
	wait_requests(2, 10000);
	assert_string_equal(srv.req[1].attempt, "2");
	expect_signed_task(&srv.req[1], id);
	snprintf(sql, sizeof(sql),
		 "DO $$BEGIN IF (SELECT COUNT(*) FROM corral.callbacks WHERE task_id = %lld AND "
		 "state = 'delivered' AND attempts = 2) <> 1 THEN RAISE EXCEPTION 'not delivered'; END IF; END$$",
		 (long long)id);
	for (int i = 0; i < 500 && ok < 0; i++) {
		ok = pg_server_exec(pg, db, sql, why, sizeof(why));
		if (ok < 0)
			test_sleep_ms(10);
	}
	if (ok < 0)
		fail_msg("%s", why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_webhook_is_signed_and_carries_the_task, teardown),
		cmocka_unit_test_teardown(test_webhook_is_retried_after_a_500, teardown),
		cmocka_unit_test_teardown(test_redirect_is_not_followed, teardown),
		cmocka_unit_test_teardown(test_webhook_is_delivered_after_a_restart, teardown),
		cmocka_unit_test_teardown(test_callback_outside_the_allow_list_is_refused, teardown),
		cmocka_unit_test_teardown(test_a_slow_receiver_does_not_block_corrald, teardown),
		cmocka_unit_test_teardown(test_webhook_on_postgresql_survives_a_restart, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
