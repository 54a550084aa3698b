/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_corrald.c — a real corrald (root), measured from the
 * outside over its socket.  Each scenario starts its own daemon on a temp
 * state dir with a policy written here, prints medians and a baseline from
 * the same run, and stops and cleans up the daemon.
 *
 * Reproduce (root, after `make -j2 tests`):
 *   sh tests/bench/run_corrald.sh                 # every scenario
 *   build/tests/bench/bench_corrald admissions    # or throughput, latency, timeouts, rss
 *
 * Scenarios:
 *   admissions  durable submits acknowledged per second, 4 clients on their own
 *               connections, synchronous (1 in flight each) and pipelined (64
 *               in flight each), into a queue that cannot start (the tenant's one
 *               slot is held by a sleeping task).  Baseline: pings/s, same shapes.
 *   throughput  1000 /bin/true tasks from 4 clients (pipelined) until all ended;
 *               also corrald's own CPU time during the run.
 *   latency     one /bin/true on an idle daemon, 50 times: submit -> started_at
 *               (dispatch), submit -> the task's own clock (`date +%s%N` in the
 *               jail: exec), submit -> ack.  Baseline: ping round trip.
 *   timeouts    100 `sleep 30` with a 1 s timeout at once (max_running 100,
 *               kill_grace 0 = the policy's minimum): ended_at - started_at - 1 s.
 *   rss         VmRSS of corrald idle, then with 100,000 queued tasks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

#define CLIENTS 4
#define RUNS 5

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static long long wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_corrald: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- pipelined connections (the lib's calls wait for each answer) -------- */

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(c->fd);
		return -e;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
}

static void conn_write(struct conn *c, const char *data, size_t len)
{
	int r = corrald_raw_send(c->fd, data, len);

	if (r < 0)
		die("write to corrald: %s", strerror(-r));
}

/* One response line, malloc'd, without newline. */
static char *conn_read_line(struct conn *c)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			char *line = malloc(l + 1);

			memcpy(line, c->buf, l);
			line[l] = '\0';
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return line;
		}
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 262144;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die("out of memory");
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n <= 0)
			die("read from corrald: %s", n == 0 ? "connection closed" : strerror(errno));
		c->len += (size_t)n;
	}
}

/* One request on root's connection; dies when corrald does not answer. */
#define call(d, ...) must_answer(corrald_call((d), __VA_ARGS__))

static json_t *must_answer(json_t *r)
{
	if (!r)
		die("corrald did not answer");
	return r;
}

static bool is_ok(json_t *r)
{
	return !corrald_error_code(r);
}

/* ---- the daemon --------------------------------------------------------- */

static void daemon_start(struct corrald *d, const char *supervisor_keys, const char *body)
{
	char policy[4096];
	int r;

	snprintf(policy, sizeof(policy), "[access]\noperators = root\n%s", body);
	r = corrald_start(d, supervisor_keys, policy, 0);
	if (r < 0)
		die("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(d));
}

static void daemon_stop(struct corrald *d)
{
	int r = corrald_stop(d);

	if (r != 0)
		fprintf(stderr, "corrald exited with status %d\n", r);
	corrald_cleanup(d);
}

/* ---- clients ------------------------------------------------------------ */

struct client_job {
	const char *socket;
	const char *request; /* one line, with newline */
	size_t count;        /* requests to send */
	size_t window;       /* in flight at most */
	size_t ok;           /* answered ok */
	bool want_ids;
	long long *ids; /* with want_ids: the task ids, count of them */
};

static void *client_thread(void *arg)
{
	struct client_job *job = arg;
	size_t len = strlen(job->request), sent = 0, got = 0;
	struct conn c;

	if (conn_open(&c, job->socket) < 0)
		die("connect %s: %s", job->socket, strerror(errno));
	while (got < job->count) {
		/* fill the window with one write */
		size_t n = 0;
		char *batch;

		while (sent + n < job->count && sent + n - got < job->window)
			n++;
		if (n) {
			batch = malloc(n * len);
			for (size_t i = 0; i < n; i++)
				memcpy(batch + i * len, job->request, len);
			conn_write(&c, batch, n * len);
			free(batch);
			sent += n;
		}
		char *line = conn_read_line(&c);

		if (strncmp(line, "{\"ok\":true", 10) == 0) {
			job->ok++;
			if (job->want_ids) {
				char *p = strstr(line, "\"id\":");

				job->ids[got] = p ? atoll(p + 5) : -1;
			}
		} else if (job->ok == 0 && got == 0) {
			fprintf(stderr, "first answer is an error: %s\n", line);
		}
		free(line);
		got++;
	}
	conn_close(&c);
	return NULL;
}

/* CLIENTS threads, each count requests with window; the rate of ok answers. */
static double run_clients(const char *socket, const char *request, size_t count, size_t window,
			  long long **ids)
{
	pthread_t threads[CLIENTS];
	struct client_job jobs[CLIENTS];
	size_t ok = 0;
	double t0, t1;

	for (int i = 0; i < CLIENTS; i++) {
		jobs[i] = (struct client_job){
			.socket = socket, .request = request, .count = count, .window = window
		};
		if (ids) {
			jobs[i].want_ids = true;
			jobs[i].ids = ids[i];
		}
	}
	t0 = test_mono_s();
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&threads[i], NULL, client_thread, &jobs[i]);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(threads[i], NULL);
	t1 = test_mono_s();
	for (int i = 0; i < CLIENTS; i++)
		ok += jobs[i].ok;
	if (ok != count * CLIENTS)
		fprintf(stderr, "only %zu of %zu requests answered ok\n", ok, count * CLIENTS);
	return (double)ok / (t1 - t0);
}

/* ---- scenarios ---------------------------------------------------------- */

#define PLAN_BLOCKED \
	"[plan free]\nmax_concurrent = 1\nmax_queued = 1000000\nmax_task_seconds = 1h\n[default]\nplan = free\n"
#define SUBMIT_TRUE "{\"op\":\"submit\",\"user\":\"bench\",\"argv\":[\"/bin/true\"]}\n"
#define PING "{\"op\":\"ping\"}\n"

static void hold_the_slot(struct corrald *d)
{
	json_t *r = call(d, "{\"op\":\"submit\",\"user\":\"bench\",\"argv\":[\"/bin/sleep\",\"3600\"]}");

	if (!is_ok(r))
		die("blocker refused");
	json_decref(r);
}

static void bench_admissions(void)
{
	struct corrald d;
	double sync_sub[RUNS], pipe_sub[RUNS], sync_ping[RUNS], pipe_ping[RUNS];

	daemon_start(&d, "max_running = 4\nuid_range = 4210000-4210127\n", PLAN_BLOCKED);
	hold_the_slot(&d);
	for (int r = 0; r < RUNS; r++) {
		sync_ping[r] = run_clients(d.socket, PING, 2000, 1, NULL);
		pipe_ping[r] = run_clients(d.socket, PING, 20000, 64, NULL);
		sync_sub[r] = run_clients(d.socket, SUBMIT_TRUE, 500, 1, NULL);
		pipe_sub[r] = run_clients(d.socket, SUBMIT_TRUE, 2500, 64, NULL);
	}
	printf("admissions (4 clients, own connections, %d runs, medians; queue grows to %d tasks):\n", RUNS,
	       RUNS * CLIENTS * 3000);
	printf("  submit, synchronous (1 in flight each): %8.0f acks/s   baseline ping: %8.0f /s\n",
	       bench_percentile_double(sync_sub, RUNS, 0.5), bench_percentile_double(sync_ping, RUNS, 0.5));
	printf("  submit, pipelined (64 in flight each):  %8.0f acks/s   baseline ping: %8.0f /s   (target >= 1000/s)\n",
	       bench_percentile_double(pipe_sub, RUNS, 0.5), bench_percentile_double(pipe_ping, RUNS, 0.5));
	daemon_stop(&d);
}

static void bench_throughput(void)
{
	const size_t per_client = 250, total = per_client * CLIENTS;
	double rates[3], cpu[3], cpu_per_task[3], run_ms[3];

	for (int r = 0; r < 3; r++) {
		struct corrald d;
		long long *ids[CLIENTS];
		double t0, t1, c0;
		double *runs = calloc(total, sizeof(double));
		size_t n = 0;

		daemon_start(
			&d, "max_running = 16\npoll_interval = 1s\nuid_range = 4210000-4210127\n",
			"[plan free]\nmax_concurrent = 16\nmax_queued = 100000\n[default]\nplan = free\n");
		for (int i = 0; i < CLIENTS; i++)
			ids[i] = calloc(per_client, sizeof(long long));
		c0 = (corrald_cpu_ms(&d) / 1000.0);
		t0 = test_mono_s();
		run_clients(d.socket, SUBMIT_TRUE, per_client, 64, ids);
		for (int i = 0; i < CLIENTS; i++)
			for (size_t k = 0; k < per_client; k++) {
				json_t *w = call(&d, "{\"op\":\"wait\",\"id\":%lld}", ids[i][k]);
				json_t *t = json_object_get(w, "task");

				if (!is_ok(w) ||
				    strcmp(json_string_value(json_object_get(t, "state")), "succeeded") != 0)
					fprintf(stderr, "task %lld did not succeed\n", ids[i][k]);
				runs[n++] = (double)(task_int(t, "ended_at_us") -
						     task_int(t, "started_at_us")) /
					1000.0;
				json_decref(w);
			}
		t1 = test_mono_s();
		rates[r] = (double)total / (t1 - t0);
		cpu[r] = ((corrald_cpu_ms(&d) / 1000.0) - c0) / (t1 - t0);
		cpu_per_task[r] = ((corrald_cpu_ms(&d) / 1000.0) - c0) * 1000.0 / (double)total;
		run_ms[r] = bench_percentile_double(runs, n, 0.5);
		daemon_stop(&d);
		for (int i = 0; i < CLIENTS; i++)
			free(ids[i]);
		free(runs);
	}
	printf("throughput (%zu x /bin/true from 4 pipelined clients, max_running 16, 3 runs, medians):\n",
	       total);
	printf("  %6.0f tasks/s submit-to-all-ended (target >= 300/s on 2 cores)\n",
	       bench_percentile_double(rates, 3, 0.5));
	printf("  corrald's own CPU: %.2f cores busy during the run, %.2f ms per task (target <= 1.5 ms);\n"
	       "  a task's started_at->ended_at p50 %.1f ms\n",
	       bench_percentile_double(cpu, 3, 0.5), bench_percentile_double(cpu_per_task, 3, 0.5),
	       bench_percentile_double(run_ms, 3, 0.5));
}

/* One /bin/date task after another, gap_us of quiet after each one's end
 * (0: back to back). */
static void latency_pass(struct corrald *d, useconds_t gap_us)
{
	enum { N = 50 };
	double to_start[N], to_exec[N], to_ack[N], ping[N];

	for (int i = 0; i < N; i++) {
		long long t0, t1, id;
		json_t *r, *w;
		char *out;

		if (gap_us)
			usleep(gap_us);
		t0 = wall_us();
		r = call(d, "{\"op\":\"submit\",\"argv\":[\"/bin/date\",\"+%%s%%N\"]}");
		t1 = wall_us();
		if (!is_ok(r))
			die("submit refused");
		id = task_int(json_object_get(r, "task"), "id");
		json_decref(r);
		w = call(d, "{\"op\":\"wait\",\"id\":%lld}", id);
		out = corrald_logs(d, id, "stdout", NULL);
		if (!out)
			die("no output of task %lld", id);
		to_exec[i] = (double)(atoll(out) / 1000 - t0) / 1000.0;
		free(out);
		to_start[i] = (double)(task_int(json_object_get(w, "task"), "started_at_us") - t0) / 1000.0;
		to_ack[i] = (double)(t1 - t0) / 1000.0;
		json_decref(w);
		t0 = wall_us();
		json_decref(call(d, "{\"op\":\"ping\"}"));
		ping[i] = (double)(wall_us() - t0) / 1000.0;
	}
	if (gap_us)
		printf("latency (one /bin/date at a time, %d times, %u ms of quiet before each submit):\n", N,
		       (unsigned)(gap_us / 1000));
	else
		printf("latency (one /bin/date at a time, %d times, back to back):\n", N);
	printf("  submit -> ack          p50 %6.2f ms  p90 %6.2f ms\n",
	       bench_percentile_double(to_ack, N, 0.5), bench_percentile_double(to_ack, N, 0.9));
	printf("  submit -> started_at   p50 %6.2f ms  p90 %6.2f ms\n",
	       bench_percentile_double(to_start, N, 0.5), bench_percentile_double(to_start, N, 0.9));
	printf("  submit -> exec (task's own clock) p50 %6.2f ms  p90 %6.2f ms  (target p50 <= 3 ms idle)\n",
	       bench_percentile_double(to_exec, N, 0.5), bench_percentile_double(to_exec, N, 0.9));
	printf("  baseline ping round trip p50 %6.3f ms\n", bench_percentile_double(ping, N, 0.5));
}

static void bench_latency(void)
{
	struct corrald d;

	daemon_start(&d, "max_running = 4\nuid_range = 4210000-4210127\n",
		     "[plan free]\nmax_concurrent = 4\n[default]\nplan = free\n");
	latency_pass(&d, 20000);
	latency_pass(&d, 0);
	daemon_stop(&d);
}

static void bench_timeouts(void)
{
	enum { N = 100 };
	struct corrald d;
	long long ids[N];
	double late[N];
	struct conn c;
	int n = 0;

	daemon_start(&d, "max_running = 100\nkill_grace = 0\nuid_range = 4210000-4210127\n",
		     "[plan free]\nmax_concurrent = 100\nmax_queued = 1000\n[default]\nplan = free\n");
	if (conn_open(&c, d.socket) < 0)
		die("connect");
	{
		static const char line[] =
			"{\"op\":\"submit\",\"timeout_ms\":1000,\"argv\":[\"/bin/sleep\",\"30\"]}\n";
		char *batch = malloc(sizeof(line) * N);

		for (int i = 0; i < N; i++)
			memcpy(batch + i * (sizeof(line) - 1), line, sizeof(line) - 1);
		conn_write(&c, batch, (sizeof(line) - 1) * N);
		free(batch);
		for (int i = 0; i < N; i++) {
			char *l = conn_read_line(&c);
			char *p = strstr(l, "\"id\":");

			ids[i] = p ? atoll(p + 5) : -1;
			free(l);
		}
	}
	for (int i = 0; i < N; i++) {
		json_t *w = call(&d, "{\"op\":\"wait\",\"id\":%lld}", ids[i]);
		json_t *t = json_object_get(w, "task");

		if (strcmp(json_string_value(json_object_get(t, "reason")) ?: "", "timeout") == 0)
			late[n++] = (double)(task_int(t, "ended_at_us") - task_int(t, "started_at_us") -
					     1000000) /
				1000.0;
		else
			fprintf(stderr, "task %lld: %s\n", ids[i],
				json_string_value(json_object_get(t, "message")));
		json_decref(w);
	}
	printf("timeouts (%d x sleep 30 with a 1 s timeout at once, kill_grace 0 = policy minimum):\n", N);
	if (n)
		printf("  %d timed out; ended_at - deadline: p50 %.1f ms  p99 %.1f ms  max %.1f ms  (target < 50 ms)\n",
		       n, bench_percentile_double(late, (size_t)n, 0.5),
		       bench_percentile_double(late, (size_t)n, 0.99),
		       bench_percentile_double(late, (size_t)n, 1.0));
	conn_close(&c);
	daemon_stop(&d);
}

static void bench_rss(void)
{
	struct corrald d;
	long idle, full;
	double t0, rate;

	daemon_start(&d, "max_running = 4\nuid_range = 4210000-4210127\n", PLAN_BLOCKED);
	hold_the_slot(&d);
	usleep(200000);
	idle = corrald_rss_kb(&d);
	t0 = test_mono_s();
	rate = run_clients(d.socket, SUBMIT_TRUE, 25000, 256, NULL);
	full = corrald_rss_kb(&d);
	printf("rss (corrald VmRSS):\n  idle with 1 running task: %.1f MB (baseline)\n"
	       "  with 100,000 queued:      %.1f MB  (target < 30 MB; submitted in %.1f s, %.0f/s)\n",
	       idle / 1024.0, full / 1024.0, test_mono_s() - t0, rate);
	daemon_stop(&d);
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	bool all = strcmp(which, "all") == 0;

	if (geteuid() != 0) {
		fprintf(stderr, "bench_corrald: needs root (corrald runs jails)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (all || strcmp(which, "admissions") == 0)
		bench_admissions();
	if (all || strcmp(which, "latency") == 0)
		bench_latency();
	if (all || strcmp(which, "throughput") == 0)
		bench_throughput();
	if (all || strcmp(which, "timeouts") == 0)
		bench_timeouts();
	if (all || strcmp(which, "rss") == 0)
		bench_rss();
	return 0;
}
