/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_http.c — submits over HTTP against submits over the
 * Unix socket, same corrald, same run (root).  4 clients, each on its own
 * persistent connection (HTTP/1.1 keep-alive, written by hand here: no
 * client library in the way), each 250 synchronous durable submits into a
 * queue that cannot start (the one slot is held by a sleeping task).
 * Baseline: pings (socket) and GET /v1/healthz (HTTP), nothing stored.
 * Prints submits/s and the median and 99th percentile latency of both, 3
 * rounds alternating, and the HTTP/socket ratio of the medians (target:
 * HTTP within 1.5x).
 *
 * Reproduce (root, after `make -j2 tests`):
 *   build/tests/bench/bench_http
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/bench.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/test.h"

#define CLIENTS 4
#define SUBMITS 250
#define ROUNDS 5

static struct corrald daemon_;
static int port;
static char token[128];

struct client {
	bool http;
	bool ping; /* the baseline: ping / GET /v1/healthz, nothing stored */
	double lat[SUBMITS];
	int failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(bool http)
{
	int fd;

	if (http) {
		struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int one = 1;

		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
			return -1;
		return fd;
	}
	return corrald_connect_as(&daemon_, 0, 0);
}

/* Read one answer: a line (socket) or headers + Content-Length body (HTTP);
 * true when it says the submit was accepted. */
static bool read_answer(int fd, bool http, char *buf, size_t size)
{
	size_t len = 0, need = 0;

	for (;;) {
		ssize_t got = read(fd, buf + len, size - 1 - len);

		if (got <= 0)
			return false;
		len += (size_t)got;
		buf[len] = '\0';
		if (!http) {
			if (memchr(buf, '\n', len))
				return strstr(buf, "\"ok\":true") != NULL;
			continue;
		}
		char *end = strstr(buf, "\r\n\r\n");
		char *cl = strcasestr(buf, "Content-Length:");

		if (!end || !cl)
			continue;
		need = (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10);
		if (len >= need)
			return strncmp(buf, "HTTP/1.1 20", 11) == 0;
	}
}

static void *run_client(void *arg)
{
	struct client *c = arg;
	const char *body = "{\"argv\":[\"/bin/true\"]}";
	char req[1024], buf[16384];
	int fd = connect_to(c->http), n;

	if (fd < 0) {
		c->failed = SUBMITS;
		return NULL;
	}
	if (c->ping)
		n = c->http
			? snprintf(req, sizeof(req), "GET /v1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
			: snprintf(req, sizeof(req), "{\"op\":\"ping\"}\n");
	else if (c->http)
		n = snprintf(req, sizeof(req),
			     "POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     token, strlen(body), body);
	else
		n = snprintf(req, sizeof(req), "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}\n");
	for (int i = 0; i < SUBMITS; i++) {
		double t0 = now_s();

		if (write(fd, req, (size_t)n) != n || !read_answer(fd, c->http, buf, sizeof(buf)))
			c->failed++;
		c->lat[i] = now_s() - t0;
	}
	close(fd);
	return NULL;
}

/* One round of one transport: submits/s; *p50 and *p99 latency (ms). */
static double round_of(bool http, bool ping, double *p50, double *p99)
{
	static struct client clients[CLIENTS];
	static double all[CLIENTS * SUBMITS];
	pthread_t th[CLIENTS];
	double t0 = now_s(), dt;
	int failed = 0;

	for (int i = 0; i < CLIENTS; i++) {
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].http = http;
		clients[i].ping = ping;
		pthread_create(&th[i], NULL, run_client, &clients[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		memcpy(all + i * SUBMITS, clients[i].lat, sizeof(clients[i].lat));
		failed += clients[i].failed;
	}
	dt = now_s() - t0;
	if (failed) {
		fprintf(stderr, "bench_http: %d %s submits failed\n%s", failed, http ? "HTTP" : "socket",
			corrald_log_tail(&daemon_));
		exit(1);
	}
	*p50 = bench_median_double(all, CLIENTS * SUBMITS) * 1e3;
	*p99 = bench_percentile_double(all, CLIENTS * SUBMITS, 0.99) * 1e3;
	return CLIENTS * SUBMITS / dt;
}

int main(void)
{
	char policy[512];
	double best[2] = { 0, 0 }, med[2][ROUNDS];
	json_t *r;

	signal(SIGPIPE, SIG_IGN);
	if (getuid() != 0) {
		fprintf(stderr, "bench_http: needs root\n");
		return 1;
	}
	port = http_free_port();
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n[http]\nlisten = 127.0.0.1:%d\n"
		 "[plan bench]\nmax_concurrent = 1\nmax_queued = 100000\n[default]\nplan = bench\n",
		 port);
	if (corrald_start(&daemon_,
			  "max_running = 1\ndrain_timeout = 0\nkill_grace = 0\n"
			  "uid_range = 4201400-4201401\n",
			  policy, 0) < 0) {
		fprintf(stderr, "bench_http: corrald did not start\n%s", corrald_log_tail(&daemon_));
		corrald_cleanup(&daemon_);
		return 1;
	}
	r = corrald_call(&daemon_, "{\"op\":\"token_create\",\"user\":\"root\"}");
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(r, "secret")));
	json_decref(r);
	/* the one slot is held: every submit below only queues */
	corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"600\"]");
	printf("host: %ld cores; %d clients x %d synchronous durable submits per round\n",
	       sysconf(_SC_NPROCESSORS_ONLN), CLIENTS, SUBMITS);
	printf("latency of a round's submits: p50 = median (the mean of the two middle samples), "
	       "p99 = the sample of rank 0.99 * (n - 1) rounded to the nearest; ratio: of the rounds' "
	       "median p50s\n");
	for (int round = 0; round < ROUNDS; round++) {
		for (int http = 0; http <= 1; http++) {
			double p50, p99, rate = round_of(http, false, &p50, &p99);

			printf("round %d %-6s %7.0f submits/s  p50 %6.3f ms  p99 %6.3f ms\n", round + 1,
			       http ? "HTTP" : "socket", rate, p50, p99);
			med[http][round] = p50;
			if (rate > best[http])
				best[http] = rate;
		}
	}
	for (int http = 0; http <= 1; http++) {
		double p50, p99, rate = round_of(http, true, &p50, &p99);

		printf("baseline %-6s %7.0f %s/s  p50 %6.3f ms  p99 %6.3f ms\n", http ? "HTTP" : "socket",
		       rate, http ? "GET healthz" : "pings", p50, p99);
	}
	printf("best: socket %.0f submits/s, HTTP %.0f submits/s; median latency HTTP/socket = %.2fx "
	       "(target <= 1.5x)\n",
	       best[0], best[1], bench_median_double(med[1], ROUNDS) / bench_median_double(med[0], ROUNDS));
	corrald_cleanup(&daemon_);
	return 0;
}
