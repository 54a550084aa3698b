/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_cluster.c — real corralds (root) as a cluster of three
 * nodes on one real PostgreSQL (tests/lib/pg.h, started here), against one
 * corrald on the single-host SQLite store in the same run (the baseline).
 *
 * Reproduce (root, after `make -j2 tests`):
 *   build/tests/bench/bench_cluster            # every scenario
 *   build/tests/bench/bench_cluster latency    # or throughput, failover
 *
 * Scenarios:
 *   throughput  300 /bin/true tasks submitted through every node (one client
 *               per node, synchronous) until all ended: tasks/s, medians of 3.
 *   latency     one /bin/true at a time on idle daemons, 30 times: submit ->
 *               started_at (the store's times), through the scheduler node and
 *               through another node; p50 and p99.
 *   failover    kill -9 of the scheduler, then a task submitted through a
 *               survivor: kill -> its start, 3 times (leader_lease 2 s).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_leader.h"
#include "tests/lib/bench.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

#define NODES 3
#define KEYS                                                                                 \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nmax_running = 4\n"    \
	"heartbeat_interval = 1s\nnode_offline_after = 5s\nlease = 10s\nleader_lease = 2s\n" \
	"cluster_poll = 100ms\nadopt_grace = 2s\n"
#define POLICY "[plan p]\nmax_concurrent = 64\nmax_queued = 1000\n[default]\nplan = p\n"

static struct corrald nodes[NODES], single;
static char uri[192];

static void die(const char *what, int r, struct corrald *d)
{
	fprintf(stderr, "bench_cluster: %s: %s\n%s\n", what, strerror(-r), d ? corrald_log_tail(d) : "");
	exit(1);
}

static void start_node(int i)
{
	char keys[1024];
	int r;

	snprintf(keys, sizeof(keys), KEYS "store = %s\nnode_name = bench-%d\nuid_range = %u-%u\n", uri, i,
		 4204000u + 64u * (unsigned)i, 4204000u + 64u * (unsigned)i + 63u);
	if ((r = corrald_prepare(&nodes[i], keys, POLICY)) < 0)
		die("prepare", r, NULL);
	snprintf(nodes[i].cgroup_parent, sizeof(nodes[i].cgroup_parent), "corral-bench-%d-n%d", (int)getpid(),
		 i);
	corrald_write_policy(&nodes[i], keys, POLICY);
	if ((r = corrald_spawn(&nodes[i], 0)) < 0)
		die("start a node", r, &nodes[i]);
}

static void start_all(void)
{
	struct pg_server *pg;
	char why[512], db[32];
	int r;

	pg = pg_shared_server(why, sizeof(why));
	if (!pg) {
		fprintf(stderr, "bench_cluster: no PostgreSQL: %s\n", why);
		exit(1);
	}
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_cluster: %s\n", why);
		exit(1);
	}
	for (int i = 0; i < NODES; i++)
		start_node(i);
	r = corrald_start(&single,
			  "kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nmax_running = 12\n"
			  "uid_range = 4204300-4204363\n",
			  POLICY, 0);
	if (r < 0)
		die("start the single-host corrald", r, &single);
}

static void stop_all(void)
{
	for (int i = 0; i < NODES; i++)
		corrald_cleanup(&nodes[i]);
	corrald_cleanup(&single);
}

static int scheduler(void)
{
	struct store *store = NULL;
	struct store_leader l;
	struct error err;
	int found = -1;

	if (store_open(uri, NULL, &store, &err) < 0)
		return -1;
	memset(&l, 0, sizeof(l));
	if (store_leader_get(store, &l, &err) == 0 && l.expires_in_us > 0)
		for (int i = 0; i < NODES; i++) {
			char name[32];

			snprintf(name, sizeof(name), "bench-%d", i);
			if (strcmp(l.node, name) == 0)
				found = i;
		}
	store_close(store);
	return found;
}

static int wait_scheduler(void)
{
	for (int i = 0; i < 400; i++) {
		int s = scheduler();

		if (s >= 0 && nodes[s].pid > 0)
			return s;
		test_sleep_ms(25);
	}
	return -1;
}

struct batch {
	struct corrald *d;
	int n;
	int64_t *ids;
};

static void *submit_batch(void *arg)
{
	struct batch *b = arg;

	for (int i = 0; i < b->n; i++)
		b->ids[i] = corrald_submit(b->d, "\"argv\":[\"/bin/true\"]");
	return NULL;
}

/* n tasks through the daemons d[0..k-1] (a thread each), then every end: s */
static double run_throughput(struct corrald **d, int k, int n)
{
	pthread_t th[NODES];
	struct batch b[NODES];
	int64_t ids[NODES][400];
	uint64_t begun = bench_now_us();

	for (int i = 0; i < k; i++) {
		b[i] = (struct batch){ .d = d[i], .n = n / k, .ids = ids[i] };
		pthread_create(&th[i], NULL, submit_batch, &b[i]);
	}
	for (int i = 0; i < k; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < k; i++)
		for (int j = 0; j < n / k; j++) {
			json_t *t = corrald_wait(d[0], ids[i][j], 120000);

			if (!t || strcmp(task_str(t, "state"), "succeeded") != 0) {
				fprintf(stderr, "task %lld did not succeed\n", (long long)ids[i][j]);
				exit(1);
			}
			json_decref(t);
		}
	return (bench_now_us() - begun) / 1e6;
}

static void throughput(void)
{
	struct corrald *cl[NODES] = { &nodes[0], &nodes[1], &nodes[2] }, *one[1] = { &single };
	double c[3], s[3];

	for (int r = 0; r < 3; r++) {
		s[r] = 300 / run_throughput(one, 1, 300);
		c[r] = 300 / run_throughput(cl, NODES, 300);
	}
	{
		double t;

		for (int i = 0; i < 3; i++)
			for (int j = i + 1; j < 3; j++) {
				if (c[j] < c[i]) {
					t = c[i], c[i] = c[j], c[j] = t;
				}
				if (s[j] < s[i]) {
					t = s[i], s[i] = s[j], s[j] = t;
				}
			}
	}
	printf("throughput: 300 /bin/true, medians of 3: cluster of 3 nodes (4 slots each) %.0f tasks/s, "
	       "single host SQLite (12 slots) %.0f tasks/s, ratio %.2f\n",
	       c[1], s[1], c[1] / s[1]);
}

static uint64_t one_latency(struct corrald *through, struct corrald *reader)
{
	int64_t id = corrald_submit(through, "\"argv\":[\"/bin/true\"]");
	json_t *t = id > 0 ? corrald_wait(reader, id, 30000) : NULL;
	uint64_t us;

	if (!t) {
		fprintf(stderr, "latency: the task did not end\n");
		exit(1);
	}
	us = (uint64_t)(task_int(t, "started_at_us") - task_int(t, "submitted_at_us"));
	json_decref(t);
	return us;
}

static void latency(void)
{
	uint64_t sched[30], other[30], one[30];
	int s = wait_scheduler();

	if (s < 0)
		die("no scheduler", -ETIMEDOUT, NULL);
	for (int i = 0; i < 30; i++) {
		one[i] = one_latency(&single, &single);
		sched[i] = one_latency(&nodes[s], &nodes[s]);
		other[i] = one_latency(&nodes[(s + 1) % NODES], &nodes[s]);
		test_sleep_ms(20);
	}
	printf("latency submit->start, idle, 30 each: single host p50 %.1f ms p99 %.1f ms; cluster through "
	       "the scheduler p50 %.1f ms p99 %.1f ms; through another node p50 %.1f ms p99 %.1f ms "
	       "(cluster_poll 100 ms)\n",
	       bench_percentile_u64(one, 30, 0.5) / 1e3, bench_percentile_u64(one, 30, 0.99) / 1e3,
	       bench_percentile_u64(sched, 30, 0.5) / 1e3, bench_percentile_u64(sched, 30, 0.99) / 1e3,
	       bench_percentile_u64(other, 30, 0.5) / 1e3, bench_percentile_u64(other, 30, 0.99) / 1e3);
}

static void failover(void)
{
	uint64_t took[3];

	for (int r = 0; r < 3; r++) {
		int s = wait_scheduler(), o;
		uint64_t killed;
		int64_t id;
		json_t *t;

		if (s < 0)
			die("no scheduler", -ETIMEDOUT, NULL);
		o = (s + 1) % NODES;
		corrald_kill9(&nodes[s]);
		killed = bench_now_us();
		id = corrald_submit(&nodes[o], "\"argv\":[\"/bin/true\"]");
		t = id > 0 ? corrald_wait(&nodes[o], id, 30000) : NULL;
		if (!t)
			die("failover: the task did not end", -ETIMEDOUT, &nodes[o]);
		json_decref(t);
		took[r] = bench_now_us() - killed;
		/* the killed node comes back for the next round */
		if (corrald_spawn(&nodes[s], 0) < 0)
			die("restart a node", -EIO, &nodes[s]);
	}
	printf("failover: kill -9 of the scheduler -> a task submitted through a survivor ran: median %.2f s "
	       "(runs %.2f %.2f %.2f; leader_lease 2 s)\n",
	       bench_percentile_u64(took, 3, 0.5) / 1e6, took[0] / 1e6, took[1] / 1e6, took[2] / 1e6);
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";

	if (geteuid() != 0) {
		fprintf(stderr, "bench_cluster: needs root\n");
		return 1;
	}
	/* every way out stops the daemons it started (die() exits too) */
	atexit(stop_all);
	start_all();
	printf("host: %ld cores\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (!strcmp(which, "all") || !strcmp(which, "latency"))
		latency();
	if (!strcmp(which, "all") || !strcmp(which, "throughput"))
		throughput();
	if (!strcmp(which, "all") || !strcmp(which, "failover"))
		failover();
	return 0;
}
