/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_store_node.c — the nodes of a store (supervisor/store/
 * store_node.h), once per backend: join, heartbeat, a node replaced by a
 * second corrald of the same name, leave, drain, the offline threshold on
 * the database's clock, the statistics counted in the same transactions
 * as the tasks' starts, charges and ends, and the scheduler's lease (terms
 * grow with every new holder, renewals keep them, expiry on the database's
 * clock).
 *
 * SQLite on a real file in a temp dir; PostgreSQL on a real server this
 * program starts (tests/lib/pg.h), a fresh database per test; without
 * PostgreSQL binaries that group skips loudly (fails under
 * CORRAL_MUST_WORK=1).
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_leader.h"
#include "supervisor/store/store_node.h"
#include "tests/lib/store_fixture.h"

static struct pg_server *pg;

static struct store_node node(const char *name, const char *incarnation)
{
	return (struct store_node){
		.name = (char *)name,
		.incarnation = (char *)incarnation,
		.version = "0.1.0-test",
		.labels = "gpu,ssd",
		.offline_after_us = 90000000,
		.cores = 2,
		.memory_bytes = 24LL << 30,
		.slots = 4,
		.gpus = 2,
		.gpu_memory_bytes = 80LL << 30,
		.running = 0,
		.free_slots = 4,
		.free_memory_bytes = 24LL << 30,
		.free_gpus = 2,
		.free_cpu_millis = 2000,
		.load_milli = 250,
	};
}

static const struct store_node *find(const struct store_node_list *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static void list(struct store_fixture *f, struct store_node_list *l)
{
	struct error err = { 0 };

	if (store_node_list(f->store, l, &err) != 0)
		fail_msg("list nodes: %s", err.message);
}

static void test_join_lists_capacity_online(void **state)
{
	struct store_fixture *f = *state;
	struct store_node n = node("n1", "inc-a");
	struct store_node_list l;
	const struct store_node *got;
	struct error err = { 0 };
	bool draining = true;

	assert_int_equal(store_node_join(f->store, &n, &draining, &err), 0);
	assert_false(draining);
	list(f, &l);
	assert_int_equal(l.count, 1);
	got = find(&l, "n1");
	assert_non_null(got);
	assert_string_equal(got->incarnation, "inc-a");
	assert_string_equal(got->version, "0.1.0-test");
	assert_string_equal(got->labels, "gpu,ssd");
	assert_int_equal(got->state, STORE_NODE_ONLINE);
	assert_int_equal(got->cores, 2);
	assert_int_equal(got->memory_bytes, 24LL << 30);
	assert_int_equal(got->slots, 4);
	assert_int_equal(got->gpus, 2);
	assert_int_equal(got->gpu_memory_bytes, 80LL << 30);
	assert_int_equal(got->free_gpus, 2);
	assert_int_equal(got->free_cpu_millis, 2000);
	assert_int_equal(got->load_milli, 250);
	assert_true(got->heartbeat_age_us >= 0 && got->heartbeat_age_us < 10000000);
	assert_string_equal(store_node_state_name(got->state), "online");
	store_node_list_free(&l);
}

static void test_heartbeat_updates_free_and_a_replaced_node_is_estale(void **state)
{
	struct store_fixture *f = *state;
	struct store_node a = node("n1", "inc-a"), b = node("n1", "inc-b");
	struct store_node_list l;
	struct error err = { 0 };
	bool draining;

	assert_int_equal(store_node_join(f->store, &a, NULL, &err), 0);
	a.running = 3;
	a.free_slots = 1;
	a.free_memory_bytes = 1LL << 30;
	a.free_gpus = 0;
	a.free_cpu_millis = 500; /* 1.5 of its 2 cores held by --cpus tasks */
	assert_int_equal(store_node_heartbeat(f->store, &a, &draining, &err), 0);
	list(f, &l);
	assert_int_equal(l.items[0].free_cpu_millis, 500);
	assert_int_equal(l.items[0].running, 3);
	assert_int_equal(l.items[0].free_slots, 1);
	assert_int_equal(l.items[0].free_memory_bytes, 1LL << 30);
	assert_int_equal(l.items[0].free_gpus, 0);
	store_node_list_free(&l);

	/* a reload's new capacity and threshold go with the heartbeat */
	a.slots = 8;
	a.cores = 6;
	a.offline_after_us = 20000000;
	a.labels = "big";
	assert_int_equal(store_node_heartbeat(f->store, &a, &draining, &err), 0);
	list(f, &l);
	assert_int_equal(l.items[0].slots, 8);
	assert_int_equal(l.items[0].cores, 6);
	assert_int_equal(l.items[0].offline_after_us, 20000000);
	assert_string_equal(l.items[0].labels, "big");
	store_node_list_free(&l);

	/* a second corrald with the same name takes it over */
	assert_int_equal(store_node_join(f->store, &b, NULL, &err), 0);
	assert_int_equal(store_node_heartbeat(f->store, &a, &draining, &err), -ESTALE);
	assert_non_null(strstr(err.message, "replaced"));
	assert_int_equal(store_node_leave(f->store, "n1", "inc-a", &err), -ESTALE);
	assert_int_equal(store_node_heartbeat(f->store, &b, &draining, &err), 0);
	list(f, &l);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].incarnation, "inc-b");
	assert_int_equal(l.items[0].state, STORE_NODE_ONLINE);
	store_node_list_free(&l);
}

static void test_drain_stays_across_a_rejoin_and_undrain(void **state)
{
	struct store_fixture *f = *state;
	struct store_node a = node("n1", "inc-a"), b = node("n1", "inc-b");
	struct store_node_list l;
	struct error err = { 0 };
	bool draining = false;

	assert_int_equal(store_node_join(f->store, &a, NULL, &err), 0);
	assert_int_equal(store_node_set_draining(f->store, "n1", true, &err), 0);
	assert_int_equal(store_node_heartbeat(f->store, &a, &draining, &err), 0);
	assert_true(draining);
	list(f, &l);
	assert_int_equal(l.items[0].state, STORE_NODE_DRAINING);
	store_node_list_free(&l);
	/* a restart does not undrain it */
	assert_int_equal(store_node_join(f->store, &b, &draining, &err), 0);
	assert_true(draining);
	assert_int_equal(store_node_set_draining(f->store, "n1", false, &err), 0);
	assert_int_equal(store_node_heartbeat(f->store, &b, &draining, &err), 0);
	assert_false(draining);
	assert_int_equal(store_node_set_draining(f->store, "nosuch", true, &err), -ENOENT);
	assert_int_equal(store_node_set_draining(f->store, "bad name", true, &err), -EINVAL);
}

static void test_silent_node_goes_offline_and_a_left_one_at_once(void **state)
{
	struct store_fixture *f = *state;
	struct store_node a = node("n1", "inc-a"), b = node("n2", "inc-c");
	struct store_node_list l;
	struct error err = { 0 };

	a.offline_after_us = 200000; /* 0.2 s on the database's clock */
	assert_int_equal(store_node_join(f->store, &a, NULL, &err), 0);
	assert_int_equal(store_node_join(f->store, &b, NULL, &err), 0);
	list(f, &l);
	assert_int_equal(find(&l, "n1")->state, STORE_NODE_ONLINE);
	store_node_list_free(&l);
	usleep(300000);
	list(f, &l);
	assert_int_equal(find(&l, "n1")->state, STORE_NODE_OFFLINE);
	assert_true(find(&l, "n1")->heartbeat_age_us >= 200000);
	assert_int_equal(find(&l, "n1")->free_slots, 0); /* nothing is placed there */
	assert_int_equal(find(&l, "n2")->state, STORE_NODE_ONLINE);
	store_node_list_free(&l);
	/* a heartbeat brings it back */
	assert_int_equal(store_node_heartbeat(f->store, &a, NULL, &err), 0);
	list(f, &l);
	assert_int_equal(find(&l, "n1")->state, STORE_NODE_ONLINE);
	store_node_list_free(&l);
	/* a clean stop: offline at once */
	assert_int_equal(store_node_leave(f->store, "n2", "inc-c", &err), 0);
	list(f, &l);
	assert_int_equal(find(&l, "n2")->state, STORE_NODE_OFFLINE);
	assert_true(find(&l, "n2")->left);
	store_node_list_free(&l);
}

static void run_task_as(struct store_fixture *f, enum store_task_state end, enum store_task_reason reason,
			int64_t charge, int64_t total)
{
	struct store_task t = {
		.user = "alice",
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = "[\"/bin/true\"]",
		.submitted_at_us = 1000,
	};
	struct store_start st = {
		.started_at_us = 2000, .host_uid = 60001, .cgroup = "tasks/x", .attempts = 1
	};
	struct store_result res = {
		.state = end,
		.reason = reason,
		.usage = { .exit_code = -1, .signal = -1 },
		.ended_at_us = 3000,
		.cpu_total_us = total,
		.month = "2031-03",
	};
	struct error err = { 0 };
	int64_t id;

	assert_int_equal(store_submit(f->store, &t, &id, &err), 0);
	assert_int_equal(store_mark_running(f->store, id, &st, &err), 0);
	if (charge)
		assert_int_equal(store_charge(f->store, id, 0, charge, "2031-03", 2500, &err), 0);
	assert_int_equal(store_finish(f->store, id, &res, &err), 0);
	/* a second finish is refused and counts nothing */
	assert_int_equal(store_finish(f->store, id, &res, &err), -ESTALE);
}

static void run_task(struct store_fixture *f, enum store_task_state end, int64_t charge, int64_t total)
{
	run_task_as(f, end,
		    end == STORE_SUCCEEDED           ? STORE_REASON_EXIT_CODE
			    : end == STORE_CANCELLED ? STORE_REASON_CANCELLED
						     : STORE_REASON_TIMEOUT,
		    charge, total);
}

static void test_statistics_count_with_the_tasks(void **state)
{
	struct store_fixture *f = *state;
	struct store_node a = node("n1", "inc-a");
	struct store_task q = { .user = "bob",
				.submitted_by_uid = 1,
				.profile = "default",
				.argv_json = "[\"x\"]",
				.submitted_at_us = 1 };
	struct store_node_list l;
	struct error err = { 0 };
	int64_t id;

	/* before the join nothing is counted (and nothing fails) */
	run_task(f, STORE_SUCCEEDED, 0, 5);
	assert_int_equal(store_node_join(f->store, &a, NULL, &err), 0);
	run_task(f, STORE_SUCCEEDED, 100, 150);
	run_task(f, STORE_FAILED, 0, 1000);
	run_task(f, STORE_CANCELLED, 7, 7);
	run_task_as(f, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST, 0, 3);
	/* a queued task cancelled ran nowhere */
	assert_int_equal(store_submit(f->store, &q, &id, &err), 0);
	assert_int_equal(store_cancel_queued(f->store, id, 5, &err), 0);
	list(f, &l);
	assert_int_equal(l.items[0].tasks_started, 4);
	assert_int_equal(l.items[0].tasks_succeeded, 1);
	assert_int_equal(l.items[0].tasks_failed, 1);
	assert_int_equal(l.items[0].tasks_cancelled, 1);
	assert_int_equal(l.items[0].tasks_lost, 1); /* supervisor_lost is lost, not failed */
	assert_int_equal(l.items[0].cpu_charged_us, 150 + 1000 + 7 + 3);
	store_node_list_free(&l);
}

static void test_bad_nodes_are_refused(void **state)
{
	struct store_fixture *f = *state;
	struct store_node n = node("-bad", "inc");
	struct store_node_list l;
	struct error err = { 0 };
	char longname[80];

	assert_int_equal(store_node_join(f->store, &n, NULL, &err), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	n = node(longname, "inc");
	assert_int_equal(store_node_join(f->store, &n, NULL, &err), -EINVAL);
	n = node("n1", "");
	assert_int_equal(store_node_join(f->store, &n, NULL, &err), -EINVAL);
	n = node("n1", "inc");
	n.offline_after_us = 0;
	assert_int_equal(store_node_join(f->store, &n, NULL, &err), -EINVAL);
	n = node("n1", "inc");
	n.free_slots = -1;
	assert_int_equal(store_node_join(f->store, &n, NULL, &err), -EINVAL);
	/* a heartbeat of a node that never joined */
	n = node("n9", "inc");
	assert_int_equal(store_node_heartbeat(f->store, &n, NULL, &err), -ESTALE);
	list(f, &l);
	assert_int_equal(l.count, 0);
	store_node_list_free(&l);
}

static void test_leader_lease_terms_and_expiry(void **state)
{
	struct store_fixture *f = *state;
	struct store_leader l;
	struct error err = { 0 };

	assert_int_equal(store_leader_get(f->store, &l, &err), 0);
	assert_string_equal(l.node, ""); /* nobody ever held it */
	/* a takes it: term 1 */
	assert_int_equal(store_leader_acquire(f->store, "a", "inc-a", 300000, &l, &err), 0);
	assert_true(l.held);
	assert_int_equal(l.term, 1);
	assert_string_equal(l.node, "a");
	assert_true(l.expires_in_us > 0 && l.expires_in_us <= 300000);
	/* b cannot while it runs, and learns who holds it */
	assert_int_equal(store_leader_acquire(f->store, "b", "inc-b", 300000, &l, &err), 0);
	assert_false(l.held);
	assert_string_equal(l.node, "a");
	assert_string_equal(l.incarnation, "inc-a");
	assert_int_equal(l.term, 1);
	/* a renews: same term */
	assert_int_equal(store_leader_acquire(f->store, "a", "inc-a", 300000, &l, &err), 0);
	assert_true(l.held);
	assert_int_equal(l.term, 1);
	/* it lapses: b takes it with the next term, a cannot renew */
	usleep(400000);
	assert_int_equal(store_leader_acquire(f->store, "b", "inc-b", 300000, &l, &err), 0);
	assert_true(l.held);
	assert_int_equal(l.term, 2);
	assert_int_equal(store_leader_acquire(f->store, "a", "inc-a", 300000, &l, &err), 0);
	assert_false(l.held);
	assert_string_equal(l.node, "b");
	/* b resigns: a takes it at once; a resign of someone else's changes nothing */
	assert_int_equal(store_leader_resign(f->store, "inc-a", &err), 0);
	assert_int_equal(store_leader_get(f->store, &l, &err), 0);
	assert_true(l.expires_in_us > 0);
	assert_int_equal(store_leader_resign(f->store, "inc-b", &err), 0);
	assert_int_equal(store_leader_acquire(f->store, "a", "inc-a2", 300000, &l, &err), 0);
	assert_true(l.held);
	assert_int_equal(l.term, 3);
	/* bad arguments */
	assert_int_equal(store_leader_acquire(f->store, "a", "", 300000, &l, &err), -EINVAL);
	assert_int_equal(store_leader_acquire(f->store, "a", "x", 0, &l, &err), -EINVAL);
}

struct racer {
	const char *uri;
	pthread_barrier_t *go;
	char incarnation[16];
	bool held;
	int r;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct store *store = NULL;
	struct store_leader l;
	struct error err;

	rc->r = store_open(rc->uri, NULL, &store, &err);
	pthread_barrier_wait(rc->go);
	if (rc->r == 0)
		rc->r = store_leader_acquire(store, "racer", rc->incarnation, 10000000, &l, &err);
	rc->held = rc->r == 0 && l.held;
	store_close(store);
	return NULL;
}

/* Eight connections take a free lease at the same moment: one gets it. */
static void test_leader_race_has_one_winner(void **state)
{
	struct store_fixture *f = *state;
	struct racer racers[8];
	pthread_t threads[8];
	pthread_barrier_t go;
	int held = 0;

	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		racers[i] = (struct racer){ .uri = f->uri, .go = &go };
		snprintf(racers[i].incarnation, sizeof(racers[i].incarnation), "inc-%d", i);
		assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(racers[i].r, 0);
		held += racers[i].held;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(held, 1);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A node frozen inside a transaction (SIGSTOP) holds the row locks it took:
 * the server ends its session after idle_tx_timeout_ms, and another node's
 * write of the same row goes through well within its lock_timeout (5 s),
 * instead of failing with it.  The frozen one's commit then fails. */
static void test_a_session_idle_in_a_transaction_is_ended_and_its_locks_go(void **state)
{
	struct store_fixture *f = *state;
	struct store_options opts = { .idle_tx_timeout_ms = 300 };
	struct store_node a = node("n1", "inc-a");
	struct store *frozen = NULL;
	struct error err = { 0 };
	bool draining;
	int64_t t0, waited;

	assert_int_equal(store_open(f->uri, &opts, &frozen, &err), 0);
	assert_int_equal(store_node_join(frozen, &a, NULL, &err), 0);
	assert_int_equal(store_batch_begin(frozen, &err), 0);
	a.running = 1;
	assert_int_equal(store_node_heartbeat(frozen, &a, &draining, &err), 0); /* the row is locked */
	t0 = mono_ms();
	a.running = 2;
	assert_int_equal(store_node_heartbeat(f->store, &a, &draining, &err), 0);
	waited = mono_ms() - t0;
	print_message("the other session's write waited %lld ms for the idle one's lock\n",
		      (long long)waited);
	assert_true(waited >= 200 && waited < 3000);
	assert_true(store_batch_commit(frozen, &err) < 0);
	store_close(frozen);
}

int main(void)
{
	int failed = 0;
	pg = store_fixture_pg("the PostgreSQL node tests", &failed);
	for (int postgres = 0; postgres <= 1; postgres++) {
		void *which = postgres ? (void *)pg : NULL;
		const struct CMUnitTest tests[] = {
#define T(test) \
	cmocka_unit_test_prestate_setup_teardown(test, store_fixture_setup, store_fixture_teardown, which)
			T(test_join_lists_capacity_online),
			T(test_heartbeat_updates_free_and_a_replaced_node_is_estale),
			T(test_drain_stays_across_a_rejoin_and_undrain),
			T(test_silent_node_goes_offline_and_a_left_one_at_once),
			T(test_statistics_count_with_the_tasks),
			T(test_bad_nodes_are_refused),
			T(test_leader_lease_terms_and_expiry),
		};

		if (postgres && !pg)
			continue;
		if (postgres) {
			const struct CMUnitTest pg_only[] = {
				T(test_leader_race_has_one_winner),
				T(test_a_session_idle_in_a_transaction_is_ended_and_its_locks_go),
			};

			failed += cmocka_run_group_tests_name("nodes: PostgreSQL races", pg_only, NULL, NULL);
		}
#undef T
		failed += cmocka_run_group_tests_name(postgres ? "nodes on postgresql" : "nodes on sqlite",
						      tests, NULL, NULL);
	}
	return failed;
}
