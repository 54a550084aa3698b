/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_cluster_sched.c — the cluster scheduler's batched round
 * (supervisor/corrald/cluster_sched.c) and its one-statement assignment
 * (store_cluster_assign_many), without jails: simulated nodes and runner
 * (tests/lib/cluster_sim.h), on SQLite and on a real PostgreSQL
 * (tests/lib/pg.h; skipped loudly without it).
 *
 *   - a round is fair across tenants (a tenant who submitted first does not
 *     take the cluster), within each tenant's max_concurrent and each
 *     node's slots and memory, and the queue drains with every task run once;
 *     the live load the rounds read (store_cluster_live) stays exactly what
 *     the tasks hold, round after round;
 *   - what a round reserves for a tenant never exceeds its monthly budget;
 *   - tasks asking for cores (--cpus) go only where they fit: the cores
 *     they hold on a node never exceed its cores, one asking more than the
 *     small node has runs on the big one, one asking more than any node
 *     has is never assigned;
 *   - the batched write is compare-and-set and fenced: a deposed scheduler
 *     assigns nothing, a task cancelled or taken meanwhile is skipped;
 *   - two connections assigning the same tasks at the same moment assign
 *     each exactly once (PostgreSQL);
 *   - two scheduler processes racing for the scheduler's lease over one
 *     PostgreSQL, each running rounds after its lease lapsed: every task is
 *     assigned exactly once (a trigger logs every assignment).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_leader.h"
#include "tests/lib/cluster_sim.h"
#include "tests/lib/store_fixture.h"

#define POLICY \
	"[supervisor]\nlease = 60s\ncluster_poll = 200ms\n[plan p]\nmax_concurrent = 3\n[default]\nplan = p\n"
#define GIB (1ll << 30)

static struct pg_server *pg;

static int64_t sql(struct cluster_sim *s, const char *text)
{
	char why[512];
	int64_t v;

	if (cluster_sim_sql(s, text, &v, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	return v;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The store's live load (what the round reads) is what the tasks hold. */
static void expect_live_exact(struct cluster_sim *s)
{
	char why[512];
	int64_t mismatches;

	if (cluster_sim_live_mismatches(s, &mismatches, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(mismatches, 0);
}

/* A whale submits 100 tasks first, then 20 small tenants 2 each; 3 nodes
 * of 8 slots but memory for 4 tasks each: 12 starts a round. */
static void test_round_is_fair_within_limits_and_capacity(void **state)
{
	struct store_fixture *f = *state;
	struct cluster_sim s;
	char why[512];
	int64_t per_tenant, per_node, over_memory, ended, total = 0;
	int rounds = 0;

	if (cluster_sim_open(&s, f->uri, POLICY, "sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "node", 3, 8, 1 * GIB, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "whale", 1, 100, GIB / 4, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "small", 20, 2, GIB / 4, 0, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(cluster_sim_lead(&s, 60ll * 1000000), 1);
	while (sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'queued'") > 0) {
		cluster_sim_round(&s);
		assert_int_equal(cluster_sim_live_maxima(&s, &per_tenant, &per_node, &over_memory, why,
							 sizeof(why)),
				 0);
		assert_true(per_tenant <= 3);
		assert_true(per_node <= 4); /* memory: 4 of 256 MiB in 1 GiB */
		assert_int_equal(over_memory, 0);
		expect_live_exact(&s);
		if (rounds == 0) {
			/* one task each for 12 tenants: the whale is one of them at most */
			assert_int_equal(sql(&s, "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL"),
					 12);
			assert_int_equal(sql(&s,
					     "SELECT COUNT(DISTINCT user_name) FROM tasks "
					     "WHERE lease_owner IS NOT NULL"),
					 12);
		}
		assert_int_equal(cluster_sim_end_assigned(&s, &ended, why, sizeof(why)), 0);
		expect_live_exact(&s);
		total += ended;
		if (++rounds == 5) /* 60 starts: the small tenants' 40 came first */
			assert_int_equal(sql(&s,
					     "SELECT COUNT(*) FROM tasks WHERE state = 'queued' "
					     "AND user_name LIKE 'small%'"),
					 0);
		assert_true(rounds < 100);
	}
	assert_int_equal(total, 140);
	assert_int_equal(sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'"), 140);
	cluster_sim_close(&s);
}

/* A tenant whose monthly budget (18 s of CPU) holds less than its
 * max_concurrent of 10 s tasks: what a round reserves for it never exceeds
 * the budget, and the other tenant is not held back. */
static void test_round_reserves_no_more_than_a_budget(void **state)
{
	struct store_fixture *f = *state;
	struct cluster_sim s;
	char why[512];

	if (cluster_sim_open(&s, f->uri,
			     "[supervisor]\nlease = 60s\n[plan p]\nmax_concurrent = 3\n"
			     "[plan tiny]\nmax_concurrent = 3\nmonthly_cpu_hours = 0.005\n"
			     "[default]\nplan = p\n[user poor0]\nplan = tiny\n",
			     "sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "node", 2, 8, 0, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "poor", 1, 6, GIB / 4, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "rich", 1, 6, GIB / 4, 0, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(cluster_sim_lead(&s, 60ll * 1000000), 1);
	cluster_sim_round(&s);
	assert_true(
		sql(&s, "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL AND user_name = 'poor0'") >=
		1);
	assert_true(sql(&s,
			"SELECT COALESCE(SUM(cpu_reserved_us), 0) FROM tasks "
			"WHERE lease_owner IS NOT NULL AND user_name = 'poor0'") <= 18000000);
	assert_int_equal(
		sql(&s, "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL AND user_name = 'rich0'"),
		3);
	/* a second round while they hold it: nothing more for the poor one */
	cluster_sim_round(&s);
	assert_true(sql(&s,
			"SELECT COALESCE(SUM(cpu_reserved_us), 0) FROM tasks "
			"WHERE lease_owner IS NOT NULL AND user_name = 'poor0'") <= 18000000);
	cluster_sim_close(&s);
}

/* A small node (1 core) and a big one (8 cores), 8 slots each: three tasks
 * of 3 cores (only the big node can run them, two at a time), four of half
 * a core, one of 20 cores (no node could ever run it). */
static void test_round_places_cores_where_they_fit(void **state)
{
	struct store_fixture *f = *state;
	struct cluster_sim s;
	char why[512];
	int64_t ended;
	int rounds = 0;

	if (cluster_sim_open(&s, f->uri,
			     "[supervisor]\nlease = 60s\n[plan p]\nmax_concurrent = 3\ncpus = 32\n"
			     "[default]\nplan = p\n",
			     "sched", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "big", 1, 8, 0, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "small", 1, 8, 0, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "wide", 3, 1, GIB / 4, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "half", 4, 1, GIB / 4, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "huge", 1, 1, GIB / 4, 0, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	sql(&s, "UPDATE nodes SET cores = 1 WHERE name = 'small-0'");
	sql(&s, "UPDATE tasks SET cpu_millis = 3000 WHERE user_name LIKE 'wide%'");
	sql(&s, "UPDATE tasks SET cpu_millis = 500 WHERE user_name LIKE 'half%'");
	sql(&s, "UPDATE tasks SET cpu_millis = 20000 WHERE user_name = 'huge0'");
	assert_int_equal(cluster_sim_lead(&s, 60ll * 1000000), 1);
	while (sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND user_name <> 'huge0'") > 0) {
		cluster_sim_round(&s);
		/* no node holds more cores than it has */
		assert_int_equal(
			sql(&s,
			    "SELECT COUNT(*) FROM (SELECT node_name, SUM(cpu_millis) AS held FROM tasks "
			    "WHERE lease_owner IS NOT NULL GROUP BY node_name) AS h "
			    "JOIN nodes ON nodes.name = h.node_name WHERE h.held > nodes.cores * 1000"),
			0);
		assert_int_equal(sql(&s,
				     "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL "
				     "AND cpu_millis > 1000 AND node_name <> 'big-0'"),
				 0);
		if (rounds == 0) /* two of the 3-core tasks fit the big node at once, not three */
			assert_int_equal(sql(&s,
					     "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL "
					     "AND user_name LIKE 'wide%'"),
					 2);
		assert_int_equal(cluster_sim_end_assigned(&s, &ended, why, sizeof(why)), 0);
		assert_true(++rounds < 20);
	}
	assert_int_equal(sql(&s,
			     "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded' AND user_name LIKE 'wide%' "
			     "AND node_name = 'big-0'"),
			 3);
	assert_int_equal(sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'"), 7);
	/* more than any node has: never assigned, still queued */
	cluster_sim_round(&s);
	assert_int_equal(sql(&s,
			     "SELECT COUNT(*) FROM tasks WHERE user_name = 'huge0' AND state = 'queued' "
			     "AND lease_owner IS NULL"),
			 1);
	cluster_sim_close(&s);
}

static int64_t submit_one(struct store *store, const char *user)
{
	struct store_task t = { .user = (char *)user,
				.submitted_by_uid = 1000,
				.profile = "default",
				.argv_json = "[\"/bin/true\"]" };
	struct error err;
	int64_t id;

	if (store_submit(store, &t, &id, &err) < 0)
		fail_msg("submit: %s", err.message);
	return id;
}

static struct store_cluster_assign pick(int64_t id, const char *node)
{
	return (struct store_cluster_assign){
		.id = id, .node = node, .incarnation = node, .memory_bytes = 1 << 20, .lease_us = 30000000
	};
}

static void test_assign_many_is_fenced_and_skips_what_was_taken(void **state)
{
	struct store_fixture *f = *state;
	struct store_leader l;
	struct store_cluster_assign a[4];
	bool done[4];
	struct error err;
	int64_t id[4];

	for (int i = 0; i < 4; i++)
		id[i] = submit_one(f->store, "t");
	assert_int_equal(store_leader_acquire(f->store, "s", "s-inc", 60000000, &l, &err), 0);
	assert_true(l.held);
	for (int i = 0; i < 4; i++)
		a[i] = pick(id[i], "n1");
	/* a stale term assigns nothing */
	assert_int_equal(store_cluster_assign_many(f->store, l.term - 1, "s-inc", a, 4, done, &err), -ESTALE);
	assert_int_equal(store_cluster_assign_many(f->store, l.term, "other", a, 4, done, &err), -ESTALE);
	for (int i = 0; i < 4; i++)
		assert_false(done[i]);
	/* task 0 cancelled, task 1 assigned meanwhile: the rest goes in */
	assert_int_equal(store_cancel_queued(f->store, id[0], 1, &err), 0);
	assert_int_equal(store_cluster_assign_many(f->store, l.term, "s-inc", &a[1], 1, done, &err), 0);
	assert_true(done[0]);
	a[1] = pick(id[1], "n2");
	assert_int_equal(store_cluster_assign_many(f->store, l.term, "s-inc", a, 4, done, &err), 0);
	assert_false(done[0]);
	assert_false(done[1]);
	assert_true(done[2]);
	assert_true(done[3]);
	{
		struct store_task t;

		assert_int_equal(store_get_task(f->store, id[1], &t, &err), 0);
		assert_string_equal(t.lease_owner, "n1"); /* not taken over */
		store_task_clear(&t);
	}
}

/* ---- PostgreSQL: races -------------------------------------------------------- */

#define RACE_TASKS 400

struct assigner {
	const char *uri;
	int64_t term;
	const int64_t *ids;
	bool ascending;
	const char *node;
	pthread_barrier_t *go;
	bool done[RACE_TASKS];
	int r;
};

static void *assign_all(void *arg)
{
	struct assigner *as = arg;
	struct store *store = NULL;
	struct error err;

	as->r = store_open(as->uri, NULL, &store, &err);
	pthread_barrier_wait(as->go);
	for (size_t b = 0; as->r == 0 && b < RACE_TASKS; b += 40) {
		struct store_cluster_assign a[40];
		bool done[40];

		for (size_t i = 0; i < 40; i++) {
			size_t k = as->ascending ? b + i : RACE_TASKS - 1 - b - i;

			a[i] = pick(as->ids[k], as->node);
		}
		as->r = store_cluster_assign_many(store, as->term, "s-inc", a, 40, done, &err);
		for (size_t i = 0; i < 40; i++)
			as->done[as->ascending ? b + i : RACE_TASKS - 1 - b - i] = done[i];
	}
	store_close(store);
	return NULL;
}

/* Two connections of the same scheduler assign the same 400 tasks from
 * both ends at once: compare-and-set gives each to exactly one. */
static void test_assign_many_racing_connections_assign_each_task_once(void **state)
{
	struct store_fixture *f = *state;
	static int64_t ids[RACE_TASKS];
	static struct assigner as[2];
	pthread_t threads[2];
	pthread_barrier_t go;
	struct store_leader l;
	struct error err;
	size_t both = 0, none = 0, mine[2] = { 0, 0 };

	assert_int_equal(store_batch_begin(f->store, &err), 0);
	for (int i = 0; i < RACE_TASKS; i++)
		ids[i] = submit_one(f->store, i % 2 ? "a" : "b");
	assert_int_equal(store_batch_commit(f->store, &err), 0);
	assert_int_equal(store_leader_acquire(f->store, "s", "s-inc", 60000000, &l, &err), 0);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		as[i] = (struct assigner){ .uri = f->uri,
					   .term = l.term,
					   .ids = ids,
					   .ascending = i == 0,
					   .node = i ? "n2" : "n1",
					   .go = &go };
		assert_int_equal(pthread_create(&threads[i], NULL, assign_all, &as[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(as[i].r, 0);
	}
	pthread_barrier_destroy(&go);
	for (int i = 0; i < RACE_TASKS; i++) {
		struct store_task t;

		both += as[0].done[i] && as[1].done[i];
		none += !as[0].done[i] && !as[1].done[i];
		assert_int_equal(store_get_task(f->store, ids[i], &t, &err), 0);
		assert_non_null(t.lease_owner);
		assert_string_equal(t.lease_owner, as[0].done[i] ? "n1" : "n2");
		mine[as[0].done[i] ? 0 : 1]++;
		store_task_clear(&t);
	}
	assert_int_equal(both, 0);
	assert_int_equal(none, 0);
	assert_true(mine[0] > 0 && mine[1] > 0); /* they did meet */
}

/* One scheduler process: lead with a short lease, run rounds past its end
 * now and then (a deposed scheduler that does not know yet), until the
 * queue is empty or the deadline; exits with how many times it led. */
static int racing_scheduler(const char *uri, const char *name, unsigned seed)
{
	struct cluster_sim s;
	char why[512];
	int led = 0;
	uint64_t deadline = mono_ms() + 20000;
	int64_t queued = 1;

	srand(seed);
	if (cluster_sim_open(&s, uri, POLICY, name, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", name, why);
		return 255;
	}
	while (queued > 0 && mono_ms() < deadline) {
		if (cluster_sim_lead(&s, 150000) == 1) {
			uint64_t until = mono_ms() + (uint64_t)(rand() % 300);

			led++;
			while (mono_ms() < until) { /* not renewed: it may lapse meanwhile */
				s.d.cluster_leader = true;
				cluster_sim_round(&s);
				usleep(3000);
			}
		}
		usleep((useconds_t)(rand() % 20000));
		if (cluster_sim_sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'queued'", &queued, why,
				    sizeof(why)) < 0)
			break;
	}
	cluster_sim_close(&s);
	return led > 254 ? 254 : led;
}

static void test_two_schedulers_racing_assign_each_task_once(void **state)
{
	struct store_fixture *f = *state;
	struct cluster_sim s;
	char why[512];
	pid_t child[2];
	int led[2];
	int64_t ended, total = 0;
	uint64_t deadline;

	if (cluster_sim_open(&s, f->uri, POLICY, "runner", why, sizeof(why)) < 0 ||
	    cluster_sim_add_nodes(&s, "node", 2, 10, 0, 0, why, sizeof(why)) < 0 ||
	    cluster_sim_submit(&s, "tenant", 30, 10, GIB / 4, 0, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* the oracle: every assignment (lease_owner from NULL to a node) logged */
	sql(&s, "CREATE TABLE assign_log (id BIGINT NOT NULL, owner TEXT NOT NULL)");
	sql(&s,
	    "CREATE FUNCTION log_assign() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
	    "IF OLD.lease_owner IS NULL AND NEW.lease_owner IS NOT NULL THEN "
	    "INSERT INTO assign_log VALUES (NEW.id, NEW.lease_owner); END IF; RETURN NEW; END $$");
	sql(&s,
	    "CREATE TRIGGER assign_logged AFTER UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION log_assign()");
	for (int i = 0; i < 2; i++) {
		child[i] = fork();
		assert_true(child[i] >= 0);
		if (child[i] == 0)
			_exit(racing_scheduler(f->uri, i ? "sched-b" : "sched-a", 7u + (unsigned)i));
	}
	/* the simulated runner: what was assigned ends, every 10 ms */
	deadline = mono_ms() + 30000;
	while (mono_ms() < deadline) {
		assert_int_equal(cluster_sim_end_assigned(&s, &ended, why, sizeof(why)), 0);
		total += ended;
		if (sql(&s, "SELECT COUNT(*) FROM tasks WHERE state <> 'succeeded'") == 0)
			break;
		usleep(10000);
	}
	for (int i = 0; i < 2; i++) {
		int status;

		assert_int_equal(waitpid(child[i], &status, 0), child[i]);
		assert_true(WIFEXITED(status));
		led[i] = WEXITSTATUS(status);
		assert_true(led[i] != 255);
	}
	assert_int_equal(total, 300);
	assert_int_equal(sql(&s, "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'"), 300);
	assert_int_equal(sql(&s, "SELECT COUNT(*) FROM assign_log"), 300);
	assert_int_equal(sql(&s, "SELECT COUNT(DISTINCT id) FROM assign_log"), 300);
	assert_true(led[0] > 0 && led[1] > 0); /* both scheduled, one after the other */
	cluster_sim_close(&s);
}

int main(void)
{
	int failed = 0;

	pg = store_fixture_pg("the PostgreSQL cluster scheduler tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_round_is_fair_within_limits_and_capacity),
			T(test_round_reserves_no_more_than_a_budget),
			T(test_round_places_cores_where_they_fit),
			T(test_assign_many_is_fenced_and_skips_what_was_taken),
		};

		if (postgres && !pg)
			continue;
		if (postgres) {
			const struct CMUnitTest pg_only[] = {
				T(test_assign_many_racing_connections_assign_each_task_once),
				T(test_two_schedulers_racing_assign_each_task_once),
			};

			failed += cmocka_run_group_tests_name("cluster rounds: PostgreSQL races", pg_only,
							      NULL, NULL);
		}
#undef T
		failed += cmocka_run_group_tests_name(postgres ? "cluster rounds on postgresql"
							       : "cluster rounds on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
