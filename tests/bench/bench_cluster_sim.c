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
 * Latency, submit -> assigned (the scheduler's part of submit -> start; the
 * node's pickup after NOTIFY adds its own few ms): during each drain a probe
 * task of a new tenant after every round (it waits its fair turn behind the
 * saturated queue: this is queueing, not overhead); then, with nodes enough
 * for every tenant's max_concurrent (the tenants' limits hold most of the
 * queue back) and CHURN ends per round, a probe per round that must be
 * assigned by the next round: its latency and the rounds' p50/p99.
 *
 * Reproduce (no root needed; `make bench` runs it with the others):
 *   make -j2 tests && build/tests/bench/bench_cluster_sim [tasks tenants nodes [held]]
 * With `held` as the fourth argument only the latency phase with room to
 * spare runs (no drains: a few minutes instead of ten and more).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/bench.h"
#include "tests/lib/cluster_sim.h"
#include "tests/lib/pg.h"

#define RUNS 3
#define SLOTS 64
#define LIMIT 2
#define POLICY                                              \
	"[supervisor]\nlease = 60s\ncluster_poll = 200ms\n" \
	"[plan p]\nmax_concurrent = 2\nmax_queued = 100000\n[default]\nplan = p\n"

struct figures {
	double rounds, round_ms, first_ms, rounds_s, assign_s, drain_s, first_tenants, probe_p50, probe_p99;
	double held_p50, held_p99, held_round_p50, held_round_p99, held_queued;
};

static unsigned n_tasks = 100000, n_tenants = 10000, n_nodes = 10;
static bool held_only; /* only the phase with room to spare */

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_cluster_sim: %s: %s\n", what, why);
	exit(1);
}

static void setup(const char *uri)
{
	struct cluster_sim s;
	char why[512];
	uint64_t t0 = bench_now_us();

	if (cluster_sim_open(&s, uri, POLICY, "bench-sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "sim", n_nodes, SLOTS, 64ll << 30, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "tenant", n_tenants, n_tasks / n_tenants, 256ll << 20, 0, why,
			       sizeof(why)) < 0)
		die("set up", why);
	printf("  %u tasks submitted in %.1f s (one batch)\n", n_tasks, (double)(bench_now_us() - t0) / 1e6);
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
			    "lease_owner = NULL, node_name = NULL, lease_until_us = NULL, cpu_reserved_us = 0 "
			    "WHERE user_name NOT LIKE 'probe%'",
			    NULL, why, sizeof(why)) < 0 ||
	    (s.pg && cluster_sim_sql(&s, "VACUUM ANALYZE tasks", NULL, why, sizeof(why)) < 0))
		die("requeue", why);
	cluster_sim_close(&s);
}

/* A probe: one task of a tenant of its own, submitted while the queue is
 * loaded; its latency runs from the submit's commit to the end of the
 * round that assigned it. */
static void probe_submit(struct cluster_sim *s, int run, double round, uint64_t *at)
{
	char prefix[48], why[512];

	snprintf(prefix, sizeof(prefix), "probe%dr%.0fx", run, round);
	if (cluster_sim_submit(s, prefix, 1, 1, 256ll << 20, 0, why, sizeof(why)) < 0)
		die("probe", why);
	*at = bench_now_us();
}

static bool probe_assigned(struct cluster_sim *s, int run, double round)
{
	char sql[192], why[512];
	int64_t n;

	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM tasks WHERE user_name = 'probe%dr%.0fx0' AND "
		 "(lease_owner IS NOT NULL OR state <> 'queued')",
		 run, round);
	if (cluster_sim_sql(s, sql, &n, why, sizeof(why)) < 0)
		die("probe", why);
	return n > 0;
}

static struct figures drain(const char *uri, int run)
{
	struct cluster_sim s;
	struct figures f = { 0 };
	char why[512];
	double *round_ms = calloc(n_tasks + 16, sizeof(*round_ms));
	double *probe_ms = calloc(n_tasks + 16, sizeof(*probe_ms)), probe_round = -1;
	uint64_t begun, in_rounds = 0, probe_at = 0;
	int64_t queued = 1, assigned = 0, stalls = 0, ended, done, total, probes = 0;
	size_t n_probes = 0;

	if (!round_ms || !probe_ms ||
	    cluster_sim_open(&s, uri, POLICY, "bench-sched", why, sizeof(why)) < 0 ||
	    cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks", &total, why, sizeof(why)) < 0)
		die("open", why);
	if (cluster_sim_lead(&s, 600ll * 1000000) != 1)
		die("lead", "the scheduler's lease is held by someone else");
	begun = bench_now_us();
	while (queued > 0) {
		uint64_t t0 = bench_now_us();
		int64_t per_tenant, per_node, over_memory;

		cluster_sim_round(&s);
		round_ms[(size_t)f.rounds] = (double)(bench_now_us() - t0) / 1000.0;
		in_rounds += bench_now_us() - t0;
		if (probe_round >= 0 && probe_assigned(&s, run, probe_round)) {
			probe_ms[n_probes++] = (double)(bench_now_us() - probe_at) / 1000.0;
			probe_round = -1;
		}
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
		if (queued > 0 && probe_round < 0) {
			probe_submit(&s, run, f.rounds, &probe_at);
			probes++;
			probe_round = f.rounds;
			queued++;
		}
		f.rounds++;
		if (ended == 0 && ++stalls > 50)
			die("drain", "50 rounds assigned nothing with tasks queued");
		if (f.rounds >= n_tasks + 16)
			die("drain", "too many rounds");
	}
	f.drain_s = (double)(bench_now_us() - begun) / 1e6;
	if (cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'", &done, why,
			    sizeof(why)) < 0)
		die("check", why);
	if (assigned != (int64_t)n_tasks + probes || done != total + probes) {
		fprintf(stderr,
			"bench_cluster_sim: %lld assignments and %lld ended for %u tasks and %lld probes\n",
			(long long)assigned, (long long)done - (total - (int64_t)n_tasks), n_tasks,
			(long long)probes);
		exit(1);
	}
	if (probe_round >= 0 || n_probes == 0)
		die("probe", "a probe was never assigned");
	f.probe_p50 = bench_percentile_double(probe_ms, n_probes, 0.5);
	f.probe_p99 = bench_percentile_double(probe_ms, n_probes, 0.99);
	f.first_ms = round_ms[0];
	f.round_ms = bench_percentile_double(round_ms, (size_t)f.rounds, 0.5);
	f.rounds_s = f.rounds / ((double)in_rounds / 1e6);
	f.assign_s = (double)assigned / ((double)in_rounds / 1e6);
	cluster_sim_close(&s);
	free(round_ms);
	free(probe_ms);
	return f;
}

/* Under load with room to spare: every queued task requeued, nodes enough
 * for every tenant's max_concurrent (the tenants' limits, not the slots,
 * hold the queue back: after the first round about 80,000 tasks stay
 * queued), and a runner that ends the CHURN oldest live tasks after each
 * round (their tenants' next tasks start in the next one).  A probe of a
 * new tenant per round: submitted -> assigned.  HELD_ROUNDS rounds. */
#define CHURN 320
#define HELD_ROUNDS 100

static void held(const char *uri, double *p50, double *p99, double *round_p50, double *round_p99,
		 double *queued_after)
{
	struct cluster_sim s;
	char why[512];
	double probe_ms[HELD_ROUNDS], round_ms[HELD_ROUNDS];
	int64_t queued;
	size_t n = 0;
	unsigned big = (n_tenants * LIMIT) / 2048 + 1;

	requeue_all(uri);
	if (cluster_sim_open(&s, uri, POLICY, "bench-sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "held", big, 2048, 0, 0, why, sizeof(why)) < 0)
		die("held: open", why);
	if (cluster_sim_lead(&s, 600ll * 1000000) != 1)
		die("lead", "the scheduler's lease is held by someone else");
	/* fill: rounds until every tenant holds its max_concurrent (a round
	 * writes a bounded number of assignments), not measured */
	for (int64_t live = -1, before = -2; live != before;) {
		before = live;
		cluster_sim_round(&s);
		if (cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL", &live,
				    why, sizeof(why)) < 0)
			die("held: fill", why);
	}
	for (int round = 0; round < HELD_ROUNDS; round++) {
		uint64_t at, t0;

		probe_submit(&s, 9, round, &at);
		t0 = bench_now_us();
		cluster_sim_round(&s);
		round_ms[n] = (double)(bench_now_us() - t0) / 1000.0;
		if (!probe_assigned(&s, 9, round))
			die("held",
			    "a new tenant's task was not assigned in the next round with room to spare");
		probe_ms[n++] = (double)(bench_now_us() - at) / 1000.0;
		snprintf(why, sizeof(why),
			 "UPDATE tasks SET state = 'succeeded', reason = 'exit_code', exit_code = 0, "
			 "lease_owner = NULL, lease_until_us = NULL, cpu_reserved_us = 0 WHERE id IN "
			 "(SELECT id FROM tasks WHERE lease_owner IS NOT NULL ORDER BY id LIMIT %d)",
			 CHURN);
		if (cluster_sim_sql(&s, why, NULL, why, sizeof(why)) < 0)
			die("held: simulated runner", why);
	}
	if (cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND lease_owner IS NULL",
			    &queued, why, sizeof(why)) < 0)
		die("held", why);
	*queued_after = (double)queued;
	*p50 = bench_percentile_double(probe_ms, n, 0.5), *p99 = bench_percentile_double(probe_ms, n, 0.99);
	*round_p50 = bench_percentile_double(round_ms, n, 0.5),
	*round_p99 = bench_percentile_double(round_ms, n, 0.99);
	cluster_sim_sql(
		&s,
		"UPDATE tasks SET state = 'succeeded', lease_owner = NULL WHERE state = 'queued' OR lease_owner IS NOT NULL",
		NULL, why, sizeof(why));
	cluster_sim_close(&s);
}

static struct figures measure(const char *label, const char *uri)
{
	double v[9][RUNS];
	struct figures f[RUNS], m;

	printf("== %s\n", label);
	setup(uri);
	memset(&m, 0, sizeof(m));
	for (int r = 0; !held_only && r < RUNS; r++) {
		if (r)
			requeue_all(uri);
		f[r] = drain(uri, r);
		printf("  run %d: %.0f rounds, round p50 %.2f ms (first %.0f ms), %.0f rounds/s, "
		       "%.0f assignments/s, drained in %.2f s; first round: %.0f tenants; "
		       "a new tenant's task (behind the saturated queue: its fair turn) submitted -> assigned p50 %.1f ms, p99 %.1f ms\n",
		       r + 1, f[r].rounds, f[r].round_ms, f[r].first_ms, f[r].rounds_s, f[r].assign_s,
		       f[r].drain_s, f[r].first_tenants, f[r].probe_p50, f[r].probe_p99);
		v[0][r] = f[r].rounds, v[1][r] = f[r].round_ms, v[2][r] = f[r].first_ms;
		v[3][r] = f[r].rounds_s, v[4][r] = f[r].assign_s, v[5][r] = f[r].drain_s;
		v[6][r] = f[r].first_tenants, v[7][r] = f[r].probe_p50, v[8][r] = f[r].probe_p99;
	}
	if (!held_only)
		m = (struct figures){ .rounds = bench_percentile_double(v[0], RUNS, 0.5),
				      .round_ms = bench_percentile_double(v[1], RUNS, 0.5),
				      .first_ms = bench_percentile_double(v[2], RUNS, 0.5),
				      .rounds_s = bench_percentile_double(v[3], RUNS, 0.5),
				      .assign_s = bench_percentile_double(v[4], RUNS, 0.5),
				      .drain_s = bench_percentile_double(v[5], RUNS, 0.5),
				      .first_tenants = bench_percentile_double(v[6], RUNS, 0.5),
				      .probe_p50 = bench_percentile_double(v[7], RUNS, 0.5),
				      .probe_p99 = bench_percentile_double(v[8], RUNS, 0.5) };
	if (!held_only &&
	    m.first_tenants < (double)(n_nodes * SLOTS < n_tenants ? n_nodes * SLOTS : n_tenants))
		die("fairness", "the first round served a tenant twice while others waited");
	held(uri, &m.held_p50, &m.held_p99, &m.held_round_p50, &m.held_round_p99, &m.held_queued);
	printf("  with room to spare (tenants' limits hold %.0f tasks queued, %d ends per round): a new tenant's "
	       "task submitted -> assigned p50 %.1f ms, p99 %.1f ms; round p50 %.1f ms, p99 %.1f ms\n",
	       m.held_queued, CHURN, m.held_p50, m.held_p99, m.held_round_p50, m.held_round_p99);
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
	if (argc > 4)
		held_only = strcmp(argv[4], "held") == 0;
	if (!n_tenants || n_tasks % n_tenants || !n_nodes || (argc > 4 && !held_only))
		die("usage", "bench_cluster_sim [tasks tenants nodes [held]] (tasks a multiple of tenants)");
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
	if (!held_only) {
		printf("\n%-12s %8s %12s %12s %10s %14s %10s %22s\n", "store", "rounds", "round p50",
		       "first round", "rounds/s", "assignments/s", "drain", "probe p50 / p99");
		printf("%-12s %8.0f %9.2f ms %9.0f ms %10.0f %14.0f %8.2f s %8.1f / %6.1f ms\n", "sqlite",
		       sq.rounds, sq.round_ms, sq.first_ms, sq.rounds_s, sq.assign_s, sq.drain_s,
		       sq.probe_p50, sq.probe_p99);
		printf("%-12s %8.0f %9.2f ms %9.0f ms %10.0f %14.0f %8.2f s %8.1f / %6.1f ms\n", "postgresql",
		       pq.rounds, pq.round_ms, pq.first_ms, pq.rounds_s, pq.assign_s, pq.drain_s,
		       pq.probe_p50, pq.probe_p99);
	}
	printf("with room to spare (%d ends per round): new tenant submitted -> assigned p50/p99: sqlite %.1f / %.1f ms, "
	       "postgresql %.1f / %.1f ms\n",
	       CHURN, sq.held_p50, sq.held_p99, pq.held_p50, pq.held_p99);
	if (!held_only)
		printf("postgresql/sqlite: assignments/s x%.2f, drain x%.2f\n", pq.assign_s / sq.assign_s,
		       pq.drain_s / sq.drain_s);
	pg_server_stop(&pg);
	unlink(path);
	snprintf(why, sizeof(why), "%s/corral.db.lock", dir);
	unlink(why);
	rmdir(dir);
	return 0;
}
