/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_cluster_sim.c — the cluster scheduler's round at scale,
 * without jails (tests/lib/cluster_sim.h): 100,000 queued tasks from 10,000
 * tenants (max_concurrent 2 each), 10 simulated nodes of 64 slots (rows of
 * the nodes table), a simulated runner that ends every assigned task after
 * each round, until the queue is empty.  On a real PostgreSQL (tests/lib/pg.h,
 * started here, durable) and on SQLite (synchronous=FULL) as the baseline,
 * in the same run; medians of 3 drains, each from the same full queue.
 *
 * Reported per backend: rounds to drain; one round's time (cluster_schedule:
 * sync the queue, read the live load, the usage and the nodes, decide, write
 * the assignments in one statement), median over the rounds and the first
 * round (it reads the whole queue); rounds/s and assignments/s over the time
 * spent in rounds; the drain's wall time (rounds plus the simulated runner
 * and the checks).  Every round checks that no tenant holds more than its
 * limit and no node more than its slots; the end checks that every task ran
 * exactly once and that the first round served one task per tenant.
 *
 * Reproduce (no root needed; `make bench` runs it with the others):
 *   make -j2 tests && build/tests/bench/bench_cluster_sim [tasks tenants nodes]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/cluster_sim.h"
#include "tests/lib/pg.h"

#define RUNS 3
#define SLOTS 64
#define LIMIT 2
#define POLICY                                              \
	"[supervisor]\nlease = 60s\ncluster_poll = 200ms\n" \
	"[plan p]\nmax_concurrent = 2\nmax_queued = 100000\n[default]\nplan = p\n"

struct figures {
	double rounds, round_ms, first_ms, rounds_s, assign_s, drain_s, first_tenants;
};

static unsigned n_tasks = 100000, n_tenants = 10000, n_nodes = 10;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_cluster_sim: %s: %s\n", what, why);
	exit(1);
}

static void setup(const char *uri)
{
	struct cluster_sim s;
	char why[512];
	uint64_t t0 = now_us();

	if (cluster_sim_open(&s, uri, POLICY, "bench-sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "sim", n_nodes, SLOTS, 64ll << 30, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "tenant", n_tenants, n_tasks / n_tenants, 256ll << 20, 0, why,
			       sizeof(why)) < 0)
		die("set up", why);
	printf("  %u tasks submitted in %.1f s (one batch)\n", n_tasks, (double)(now_us() - t0) / 1e6);
	cluster_sim_close(&s);
}

/* Every task queued again, as after setup (runs after the first). */
static void requeue_all(const char *uri)
{
	struct cluster_sim s;
	char why[512];

	if (cluster_sim_open(&s, uri, POLICY, "bench-reset", why, sizeof(why)) < 0 ||
	    cluster_sim_sql(&s,
			    "UPDATE tasks SET state = 'queued', reason = NULL, exit_code = NULL, "
			    "lease_owner = NULL, node_name = NULL, lease_until_us = NULL, cpu_reserved_us = 0",
			    NULL, why, sizeof(why)) < 0 ||
	    (s.pg && cluster_sim_sql(&s, "VACUUM ANALYZE tasks", NULL, why, sizeof(why)) < 0))
		die("requeue", why);
	cluster_sim_close(&s);
}

static struct figures drain(const char *uri)
{
	struct cluster_sim s;
	struct figures f = { 0 };
	char why[512];
	double *round_ms = calloc(n_tasks + 16, sizeof(*round_ms));
	uint64_t begun, in_rounds = 0;
	int64_t queued = 1, assigned = 0, stalls = 0, ended, done;

	if (!round_ms || cluster_sim_open(&s, uri, POLICY, "bench-sched", why, sizeof(why)) < 0)
		die("open", why);
	if (cluster_sim_lead(&s, 600ll * 1000000) != 1)
		die("lead", "the scheduler's lease is held by someone else");
	begun = now_us();
	while (queued > 0) {
		uint64_t t0 = now_us();
		int64_t per_tenant, per_node, over_memory;

		cluster_sim_round(&s);
		round_ms[(size_t)f.rounds] = (double)(now_us() - t0) / 1000.0;
		in_rounds += now_us() - t0;
		if (cluster_sim_live_maxima(&s, &per_tenant, &per_node, &over_memory, why, sizeof(why)) < 0)
			die("check", why);
		if (per_tenant > LIMIT || per_node > SLOTS || over_memory)
			fprintf(stderr,
				"bench_cluster_sim: round %.0f: %lld live for a tenant, %lld on a node, %lld nodes over memory\n",
				f.rounds, (long long)per_tenant, (long long)per_node, (long long)over_memory),
				exit(1);
		if (f.rounds == 0 &&
		    cluster_sim_sql(
			    &s, "SELECT COUNT(DISTINCT user_name) FROM tasks WHERE lease_owner IS NOT NULL",
			    &ended, why, sizeof(why)) == 0)
			f.first_tenants = (double)ended;
		if (cluster_sim_end_assigned(&s, &ended, why, sizeof(why)) < 0 ||
		    cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'queued'", &queued, why,
				    sizeof(why)) < 0)
			die("simulated runner", why);
		assigned += ended;
		f.rounds++;
		if (ended == 0 && ++stalls > 50)
			die("drain", "50 rounds assigned nothing with tasks queued");
		if (f.rounds >= n_tasks + 16)
			die("drain", "too many rounds");
	}
	f.drain_s = (double)(now_us() - begun) / 1e6;
	if (cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'", &done, why,
			    sizeof(why)) < 0)
		die("check", why);
	if (assigned != (int64_t)n_tasks || done != (int64_t)n_tasks) {
		fprintf(stderr, "bench_cluster_sim: %lld assignments and %lld ended for %u tasks\n",
			(long long)assigned, (long long)done, n_tasks);
		exit(1);
	}
	f.first_ms = round_ms[0];
	f.round_ms = median(round_ms, (size_t)f.rounds);
	f.rounds_s = f.rounds / ((double)in_rounds / 1e6);
	f.assign_s = (double)assigned / ((double)in_rounds / 1e6);
	cluster_sim_close(&s);
	free(round_ms);
	return f;
}

static struct figures measure(const char *label, const char *uri)
{
	double v[7][RUNS];
	struct figures f[RUNS], m;

	printf("== %s\n", label);
	setup(uri);
	for (int r = 0; r < RUNS; r++) {
		if (r)
			requeue_all(uri);
		f[r] = drain(uri);
		printf("  run %d: %.0f rounds, round p50 %.2f ms (first %.0f ms), %.0f rounds/s, "
		       "%.0f assignments/s, drained in %.2f s; first round: %.0f tenants\n",
		       r + 1, f[r].rounds, f[r].round_ms, f[r].first_ms, f[r].rounds_s, f[r].assign_s,
		       f[r].drain_s, f[r].first_tenants);
		v[0][r] = f[r].rounds, v[1][r] = f[r].round_ms, v[2][r] = f[r].first_ms;
		v[3][r] = f[r].rounds_s, v[4][r] = f[r].assign_s, v[5][r] = f[r].drain_s;
		v[6][r] = f[r].first_tenants;
	}
	m = (struct figures){ median(v[0], RUNS), median(v[1], RUNS), median(v[2], RUNS), median(v[3], RUNS),
			      median(v[4], RUNS), median(v[5], RUNS), median(v[6], RUNS) };
	if (m.first_tenants < (double)(n_nodes * SLOTS < n_tenants ? n_nodes * SLOTS : n_tenants))
		die("fairness", "the first round served a tenant twice while others waited");
	return m;
}

int main(int argc, char **argv)
{
	struct pg_server pg = { 0 };
	char why[512], dir[] = "/tmp/bench-cluster-sim-XXXXXX", path[128], db[32], uri[192];
	struct figures sq, pq;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0); /* progress as it comes, also into a file */
	if (argc > 1)
		n_tasks = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		n_tenants = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		n_nodes = (unsigned)strtoul(argv[3], NULL, 10);
	if (!n_tenants || n_tasks % n_tenants || !n_nodes)
		die("usage", "bench_cluster_sim [tasks tenants nodes] (tasks a multiple of tenants)");
	printf("bench_cluster_sim: %u queued tasks from %u tenants (max_concurrent %d), %u nodes x %d slots, "
	       "medians of %d drains\n",
	       n_tasks, n_tenants, LIMIT, n_nodes, SLOTS, RUNS);
	if ((r = pg_server_start(&pg, true, why, sizeof(why))) < 0)
		die("start PostgreSQL", why);
	if (pg_server_create_db(&pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0) {
		pg_server_stop(&pg);
		die("create a database", why);
	}
	if (!mkdtemp(dir)) {
		pg_server_stop(&pg);
		die("mkdtemp", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/corral.db", dir);
	sq = measure("SQLite (baseline, synchronous=FULL)", path);
	pq = measure("PostgreSQL (durable, Unix socket)", uri);
	printf("\n%-12s %8s %12s %12s %10s %14s %10s\n", "store", "rounds", "round p50", "first round",
	       "rounds/s", "assignments/s", "drain");
	printf("%-12s %8.0f %9.2f ms %9.0f ms %10.0f %14.0f %8.2f s\n", "sqlite", sq.rounds, sq.round_ms,
	       sq.first_ms, sq.rounds_s, sq.assign_s, sq.drain_s);
	printf("%-12s %8.0f %9.2f ms %9.0f ms %10.0f %14.0f %8.2f s\n", "postgresql", pq.rounds, pq.round_ms,
	       pq.first_ms, pq.rounds_s, pq.assign_s, pq.drain_s);
	printf("postgresql/sqlite: assignments/s x%.2f, drain x%.2f\n", pq.assign_s / sq.assign_s,
	       pq.drain_s / sq.drain_s);
	pg_server_stop(&pg);
	unlink(path);
	snprintf(why, sizeof(why), "%s/corral.db.lock", dir);
	unlink(why);
	rmdir(dir);
	return 0;
}
