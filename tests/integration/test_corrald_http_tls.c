/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_http_tls.c — corrald's HTTP API over TLS
 * ([http] tls_cert/tls_key, a self-signed certificate made by openssl) and
 * its tokens from the command line: `corral token create` prints a token
 * once that curl then uses, `corral token list` shows it without the
 * secret, no_queue past the plan's slots is 429 with Retry-After, `corral token revoke` ends it; only operators make tokens; an
 * expired token is refused; /metrics with [http] metrics_token, and a real
 * Prometheus server (Debian's prometheus) scraping it over TLS with that
 * token and answering a query for one of corrald's series.  Real corrald,
 * as root.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/test.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201300-4201363\n" \
	"max_running = 2\n"
#define METRICS_TOKEN "metrics-0123456789abcdef"

static struct corrald daemon_;
static char base[64], cert[160];

/* Run `corral ARGS...` against the test's corrald; its stdout (malloc'd). */
static char *corral(int *status, ...)
{
	const char *argv[16] = { "corral", "--socket", daemon_.socket };
	int n = 3, p[2];
	char *out = calloc(1, 8192);
	size_t len = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, status);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL && n < 15;)
		argv[n++] = s;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(test_build_path("corral"), (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (ssize_t got; (got = read(p[0], out + len, 8191 - len)) > 0;)
		len += (size_t)got;
	close(p[0]);
	waitpid(pid, status, 0);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
	return out;
}

static int setup(void **state)
{
	char policy[1024], cmd[768], key[160];
	int port = http_free_port();

	(void)state;
	if (getuid() != 0)
		return 0;
	if (corrald_prepare(&daemon_, SUPERVISOR_KEYS, "") < 0)
		return -1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", daemon_.dir);
	snprintf(key, sizeof(key), "%s/key.pem", daemon_.dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s -out %s "
		 "-days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
		 key, cert);
	if (system(cmd) != 0)
		fail_msg("openssl could not make a certificate");
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", port);
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n"
		 "[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nmetrics_token = " METRICS_TOKEN
		 "\nmax_connections_per_ip = 4\nconnection_timeout = 2s\n"
		 "[plan free]\nmax_concurrent = 2\n[default]\nplan = free\n",
		 port, cert, key);
	if (corrald_write_policy(&daemon_, SUPERVISOR_KEYS, policy) < 0 || corrald_spawn(&daemon_, 0) < 0)
		fail_msg("corrald did not start\n%s", corrald_log_tail(&daemon_));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static int get(const char *token, const char *path)
{
	struct http_answer a;
	char u[256], h[256];
	int status;

	snprintf(u, sizeof(u), "%s%s", base, path);
	snprintf(h, sizeof(h), "Authorization: Bearer %s", token ? token : "");
	http_curl(&a, "--cacert", cert, "-H", h, u, NULL);
	status = a.status;
	http_answer_free(&a);
	return status;
}

static void test_token_from_the_command_line_works_over_tls_until_revoked(void **state)
{
	char *token, *list, *out, id[32] = "";
	int status;

	(void)state;
	require_root();
	token = corral(&status, "token", "create", "--tenant", "alice", "--name", "ci-bot", "--expires",
		       "90d", NULL);
	assert_int_equal(status, 0);
	token[strcspn(token, "\n")] = '\0';
	assert_int_equal(strncmp(token, "crl_", 4), 0);
	assert_int_equal(get(token, "/v1/usage"), 200);
	list = corral(&status, "token", "list", NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(list, "ci-bot"));
	assert_non_null(strstr(list, "alice"));
	assert_null(strstr(list, token + 4));
	sscanf(strstr(list, "\n") + 1, "%31s", id);
	free(list);
	out = corral(&status, "token", "revoke", id, NULL);
	assert_int_equal(status, 0);
	free(out);
	assert_int_equal(get(token, "/v1/usage"), 401);
	out = corral(&status, "token", "create", NULL);
	assert_int_equal(status, 2); /* --tenant is required */
	free(out);
	free(token);
}

static void test_plain_http_to_a_tls_listener_gets_nothing(void **state)
{
	struct http_answer a;
	char u[128];

	(void)state;
	require_root();
	snprintf(u, sizeof(u), "http%s/v1/healthz", base + 5);
	http_curl(&a, u, NULL);
	assert_true(a.status == 0 || a.status >= 400);
	http_answer_free(&a);
	assert_int_equal(get(NULL, "/v1/healthz"), 200);
}

static void test_only_operators_make_tokens_and_expired_ones_are_refused(void **state)
{
	const char *line = "{\"op\":\"token_create\",\"user\":\"nobody\"}";
	json_t *out[1] = { NULL }, *r;
	char secret[128];

	(void)state;
	require_root();
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, &line, 1,
					  out),
			 0);
	assert_string_equal(corrald_error_code(out[0]), "forbidden");
	json_decref(out[0]);
	r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"alice\",\"expires_ms\":1000}");
	snprintf(secret, sizeof(secret), "%s", json_string_value(json_object_get(r, "secret")));
	json_decref(r);
	assert_int_equal(get(secret, "/v1/queue"), 200);
	usleep(1300 * 1000);
	assert_int_equal(get(secret, "/v1/queue"), 401);
}

static void test_metrics_need_the_metrics_token(void **state)
{
	json_t *r;
	char secret[128];

	(void)state;
	require_root();
	assert_int_equal(get(NULL, "/metrics"), 401);
	r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"root\",\"operator\":true}");
	snprintf(secret, sizeof(secret), "%s", json_string_value(json_object_get(r, "secret")));
	json_decref(r);
	assert_int_equal(get(secret, "/metrics"), 401); /* an API token is not the metrics token */
	assert_int_equal(get(METRICS_TOKEN, "/metrics"), 200);
}

static void test_no_queue_beyond_the_limit_is_429_with_retry_after(void **state)
{
	struct http_answer a;
	char u[128], h[200], secret[128];
	json_t *r;
	int64_t ids[2];

	(void)state;
	require_root();
	r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"dave\"}");
	snprintf(secret, sizeof(secret), "%s", json_string_value(json_object_get(r, "secret")));
	json_decref(r);
	snprintf(h, sizeof(h), "Authorization: Bearer %s", secret);
	snprintf(u, sizeof(u), "%s/v1/tasks", base);
	for (int i = 0; i < 2; i++) { /* the plan's two slots */
		http_curl(&a, "--cacert", cert, "-H", h, "--data-binary",
			  "{\"argv\":[\"/bin/sleep\",\"30\"]}", u, NULL);
		assert_int_equal(a.status, 201);
		ids[i] = task_int(json_object_get(a.json, "task"), "id");
		http_answer_free(&a);
		json_decref(corrald_wait_state(&daemon_, ids[i], "running", 10000));
	}
	http_curl(&a, "--cacert", cert, "-H", h, "--data-binary",
		  "{\"argv\":[\"/bin/true\"],\"no_queue\":true}", u, NULL);
	assert_int_equal(a.status, 429);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a.json, "error"), "code")),
			    "concurrency_limit");
	assert_non_null(http_header(&a, "Retry-After"));
	http_answer_free(&a);
	for (int i = 0; i < 2; i++)
		json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)ids[i]));
}

static int tcp_connect(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	in.sin_port = htons((uint16_t)atoi(strrchr(base, ':') + 1));
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

/* How long until the server closes fd (read gives 0 or an error). */
static double seconds_to_close(int fd)
{
	double t0 = test_mono_s();
	char c;

	while (read(fd, &c, 1) > 0)
		;
	return test_mono_s() - t0;
}

static void test_idle_clients_are_closed_and_connections_per_address_capped(void **state)
{
	int fds[4], extra;
	double dt;

	(void)state;
	require_root();
	for (int i = 0; i < 4; i++)
		fds[i] = tcp_connect();
	usleep(200 * 1000);
	/* a fifth connection from the address is closed at once */
	extra = tcp_connect();
	dt = seconds_to_close(extra);
	close(extra);
	if (dt > 1.0)
		fail_msg("the 5th connection from 127.0.0.1 stayed open %.1f s", dt);
	/* a client that sends nothing (or a byte now and then) is closed after connection_timeout */
	assert_int_equal(write(fds[0], "G", 1), 1);
	dt = seconds_to_close(fds[0]);
	if (dt < 1.0 || dt > 4.5)
		fail_msg("an idle client was closed after %.1f s (connection_timeout = 2s)", dt);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	usleep(200 * 1000);
	assert_int_equal(get(NULL, "/v1/healthz"), 200);
}

/* Prometheus scrapes corrald (https, the metrics token) and answers a query. */
static void test_prometheus_scrapes_corrald(void **state)
{
	char dir[160], conf[200], cmd[1024], web[64], query[256];
	int port = http_free_port(), status;
	bool found = false;
	FILE *f;
	pid_t pid;

	(void)state;
	require_root();
	if (access("/usr/bin/prometheus", X_OK) != 0) {
		test_skip_loudly("prometheus is missing (Debian package prometheus)");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/prometheus", daemon_.dir);
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", daemon_.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"scrape_configs:\n  - job_name: corrald\n    scheme: https\n"
		"    authorization:\n      credentials: " METRICS_TOKEN "\n"
		"    tls_config:\n      ca_file: %s\n"
		"    static_configs:\n      - targets: ['127.0.0.1:%s']\n",
		cert, strrchr(base, ':') + 1);
	fclose(f);
	snprintf(web, sizeof(web), "127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		int log = open("/dev/null", O_WRONLY);

		dup2(log, 2);
		dup2(log, 1);
		execl("/usr/bin/prometheus", "prometheus", "--config.file", conf, "--storage.tsdb.path", dir,
		      "--web.listen-address", web, (char *)NULL);
		_exit(127);
	}
	snprintf(query, sizeof(query), "http://%s/api/v1/query?query=corral_build_info", web);
	for (int i = 0; i < 150 && !found; i++) {
		struct http_answer a;

		usleep(200 * 1000);
		http_curl(&a, query, NULL);
		found = a.status == 200 &&
			json_array_size(json_object_get(json_object_get(a.json, "data"), "result")) > 0;
		http_answer_free(&a);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (!found)
		fail_msg("Prometheus did not answer corral_build_info in 30 s\n%s",
			 corrald_log_tail(&daemon_));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_from_the_command_line_works_over_tls_until_revoked),
		cmocka_unit_test(test_plain_http_to_a_tls_listener_gets_nothing),
		cmocka_unit_test(test_only_operators_make_tokens_and_expired_ones_are_refused),
		cmocka_unit_test(test_metrics_need_the_metrics_token),
		cmocka_unit_test(test_no_queue_beyond_the_limit_is_429_with_retry_after),
		cmocka_unit_test(test_idle_clients_are_closed_and_connections_per_address_capped),
		cmocka_unit_test(test_prometheus_scrapes_corrald),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
