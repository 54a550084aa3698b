/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_sched.c — the scheduler's rules, one behaviour per test.
 * A small "world" (users, their queues, a host) is built per test; rounds
 * are simulated by deciding, applying the starts the way corrald would
 * (sched_note_started, running counts, reservations) and finishing tasks.
 * No clock: time only exists as virtual time and CPU counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "supervisor/sched/sched.h"

#define MAX_USERS 8
#define MAX_TASKS 128
#define SEC 1000000ULL
#define HOUR (3600ULL * SEC)
#define GIB (1024ULL * 1024ULL * 1024ULL)

struct world {
	struct sched_user users[MAX_USERS];
	struct sched_task tasks[MAX_TASKS];
	struct sched_input in;
	struct sched_start starts[MAX_TASKS];
	enum sched_pending_reason reasons[MAX_USERS];
	struct sched_heap_item scratch[MAX_USERS];
	struct sched_output out;
	uint64_t next_seq;
	uint64_t next_id;
};

static void world_init(struct world *w, uint32_t host_slots)
{
	memset(w, 0, sizeof(*w));
	w->in.users = w->users;
	w->in.tasks = w->tasks;
	w->in.host.max_running = host_slots;
	w->in.host.memory = SCHED_NO_LIMIT;
	w->in.min_cpu = 1 * SEC;
	w->next_seq = 1;
	w->next_id = 100;
}

/* A user on a plan: concurrency, weight, monthly budget; unlimited per-task cap. */
static size_t world_add_user(struct world *w, uint32_t max_concurrent, uint32_t weight, uint64_t budget)
{
	size_t u = w->in.n_users++;
	assert_true(u < MAX_USERS);
	w->users[u] = (struct sched_user){
		.max_concurrent = max_concurrent,
		.weight = weight,
		.budget = budget,
		.max_cpu = SCHED_NO_LIMIT,
		.first_task = w->in.n_tasks,
	};
	return u;
}

/* Queue n tasks for user u, which must be the last user added (queues are contiguous). */
static void world_queue(struct world *w, size_t u, size_t n, uint64_t cpu_request, uint64_t memory)
{
	assert_int_equal(u, w->in.n_users - 1);
	for (size_t i = 0; i < n; i++) {
		assert_true(w->in.n_tasks < MAX_TASKS);
		w->tasks[w->in.n_tasks++] = (struct sched_task){
			.id = w->next_id++,
			.submit_seq = w->next_seq++,
			.cpu_request = cpu_request,
			.memory_bytes = memory,
			.wall_limit = 60 * SEC,
		};
		w->users[u].n_tasks++;
	}
}

static size_t world_decide(struct world *w)
{
	w->out = (struct sched_output){
		.starts = w->starts,
		.starts_capacity = MAX_TASKS,
		.reasons = w->reasons,
		.scratch = w->scratch,
	};
	assert_int_equal(sched_decide(&w->in, &w->out), 0);
	return w->out.n_starts;
}

/* What corrald does after spawning the started tasks. */
static void world_apply_starts(struct world *w)
{
	for (size_t i = 0; i < w->out.n_starts; i++) {
		const struct sched_start *s = &w->starts[i];
		struct sched_user *u = &w->users[s->user];
		assert_int_equal(s->task, u->first_task); /* always the head, in order */
		sched_note_started(&w->in.virtual_time, &u->pass, u->weight);
		u->running++;
		u->reserved += s->cpu_limit == SCHED_NO_LIMIT ? 0 : s->cpu_limit;
		u->first_task++;
		u->n_tasks--;
		w->in.host.running++;
		w->in.host.memory_reserved += s->memory_bytes;
	}
}

/* Every running task ends having used its whole reservation. */
static void world_finish_all(struct world *w)
{
	for (size_t i = 0; i < w->in.n_users; i++) {
		w->users[i].used += w->users[i].reserved;
		w->users[i].reserved = 0;
		w->users[i].running = 0;
	}
	w->in.host.running = 0;
	w->in.host.memory_reserved = 0;
}

/* Run rounds until nothing starts; record the user of every start. */
static size_t world_run_rounds(struct world *w, size_t *order, size_t max)
{
	size_t n = 0;
	while (n < max && world_decide(w) > 0) {
		for (size_t i = 0; i < w->out.n_starts && n < max; i++)
			order[n++] = w->starts[i].user;
		world_apply_starts(w);
		world_finish_all(w);
	}
	return n;
}

static void test_free_user_runs_one_task_at_a_time(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t alice = world_add_user(&w, 1, 1, 10 * HOUR);
	world_queue(&w, alice, 3, 60 * SEC, 0);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.reasons[alice], SCHED_PENDING_CONCURRENCY);
	world_apply_starts(&w);
	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[alice], SCHED_PENDING_CONCURRENCY);
	world_finish_all(&w);
	assert_int_equal(world_decide(&w), 1);
}

static void test_concurrency_limit_reached_within_one_round(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 2, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 5, 0, 0);
	assert_int_equal(world_decide(&w), 2);
	assert_int_equal(w.reasons[u], SCHED_PENDING_CONCURRENCY);
}

static void test_zero_max_concurrent_runs_nothing(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 0, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 0);
	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[u], SCHED_PENDING_CONCURRENCY);
}

static void test_two_users_interleave_a_b_a_b(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 5, 0, 0);
	size_t b = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 5, 0, 0);

	size_t order[10];
	assert_int_equal(world_run_rounds(&w, order, 10), 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(order[i], i % 2 == 0 ? a : b);
}

static void test_two_users_interleave_within_one_round(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t a = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 5, 0, 0);
	size_t b = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 5, 0, 0);

	assert_int_equal(world_decide(&w), 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(w.starts[i].user, i % 2 == 0 ? a : b);
}

static void test_weights_give_proportional_starts(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t heavy = world_add_user(&w, 1, 2, SCHED_NO_LIMIT);
	world_queue(&w, heavy, 40, 0, 0);
	size_t light = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, light, 40, 0, 0);

	size_t order[30];
	assert_int_equal(world_run_rounds(&w, order, 30), 30);
	size_t heavy_starts = 0;
	for (size_t i = 0; i < 30; i++) {
		heavy_starts += order[i] == heavy;
		if ((i + 1) % 3 == 0) /* 2:1 in every window of three */
			assert_int_equal(heavy_starts, 2 * (i + 1) / 3);
	}
	assert_int_equal(heavy_starts, 20);
}

static void test_idle_user_gets_no_banked_credit(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 20, 0, 0);
	size_t b = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);

	size_t order[10];
	assert_int_equal(world_run_rounds(&w, order, 10), 10); /* a alone */
	/* b submits now (newer than all of a's tasks), with pass still 0. */
	world_queue(&w, b, 4, 0, 0);
	assert_int_equal(world_run_rounds(&w, order, 6), 6);
	size_t expected[6] = { b, a, b, a, b, a };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(order[i], expected[i]);
}

static void test_tie_break_oldest_head_task_first(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 1, 0, 0);
	size_t b = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 1, 0, 0);
	w.tasks[w.users[b].first_task].submit_seq = 0; /* b's task is older */

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].user, b);
}

static void test_tasks_of_a_user_start_in_submit_order(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 10, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 4, 0, 0);
	assert_int_equal(world_decide(&w), 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(w.starts[i].task_id, 100 + i);
}

static void test_one_round_equals_successive_single_slot_rounds(void **state)
{
	struct world many, one;
	world_init(&many, 6);
	world_init(&one, 1);
	struct world *ws[2] = { &many, &one };
	for (size_t k = 0; k < 2; k++) {
		size_t a = world_add_user(ws[k], 6, 3, SCHED_NO_LIMIT);
		world_queue(ws[k], a, 3, 0, 0);
		size_t b = world_add_user(ws[k], 6, 1, SCHED_NO_LIMIT);
		world_queue(ws[k], b, 3, 0, 0);
		size_t c = world_add_user(ws[k], 6, 2, SCHED_NO_LIMIT);
		world_queue(ws[k], c, 3, 0, 0);
	}
	assert_int_equal(world_decide(&many), 6);
	size_t order[6];
	for (size_t i = 0; i < 6; i++) { /* single slot, tasks keep running */
		assert_int_equal(world_decide(&one), 1);
		order[i] = one.starts[0].user;
		world_apply_starts(&one);
		one.in.host.running = 0;
	}
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(many.starts[i].user, order[i]);
}

static void test_user_without_budget_gets_nothing_and_reason_budget_exhausted(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t alice = world_add_user(&w, 5, 1, 10 * HOUR);
	w.users[alice].used = 10 * HOUR;
	world_queue(&w, alice, 3, 60 * SEC, 0);
	size_t bob = world_add_user(&w, 5, 1, 10 * HOUR);
	world_queue(&w, bob, 1, 60 * SEC, 0);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].user, bob);
	assert_int_equal(w.reasons[alice], SCHED_PENDING_BUDGET);
	assert_int_equal(w.reasons[bob], SCHED_PENDING_NONE);
}

static void test_cpu_limit_capped_by_budget_left_after_reservations(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 5, 1, 100 * SEC);
	w.users[u].used = 30 * SEC;
	w.users[u].reserved = 50 * SEC;
	w.users[u].running = 1;
	world_queue(&w, u, 1, 60 * SEC, 0);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].cpu_limit, 20 * SEC);
}

static void test_cpu_limit_capped_by_plan_max_cpu(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 5, 1, 10 * HOUR);
	w.users[u].max_cpu = 300 * SEC;
	world_queue(&w, u, 1, 0, 0); /* no request: the plan's cap */
	world_queue(&w, u, 1, 900 * SEC, 0);
	world_queue(&w, u, 1, 7 * SEC, 0); /* less than the cap: the request */

	assert_int_equal(world_decide(&w), 3);
	assert_int_equal(w.starts[0].cpu_limit, 300 * SEC);
	assert_int_equal(w.starts[1].cpu_limit, 300 * SEC);
	assert_int_equal(w.starts[2].cpu_limit, 7 * SEC);
}

static void test_reservations_in_one_round_never_overrun_budget(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 5, 1, 25 * SEC);
	world_queue(&w, u, 4, 10 * SEC, 0);

	assert_int_equal(world_decide(&w), 3);
	assert_int_equal(w.starts[0].cpu_limit, 10 * SEC);
	assert_int_equal(w.starts[1].cpu_limit, 10 * SEC);
	assert_int_equal(w.starts[2].cpu_limit, 5 * SEC);
	/* nothing is used: the budget is held by the three, not used up */
	assert_int_equal(w.reasons[u], SCHED_PENDING_BUDGET_RESERVED);
}

static void test_min_cpu_threshold(void **state)
{
	struct world w;
	world_init(&w, 10);
	w.in.min_cpu = 1 * SEC;
	size_t u = world_add_user(&w, 5, 1, 100 * SEC);
	w.users[u].used = 99 * SEC + 500000; /* 0.5 s left */
	world_queue(&w, u, 1, 10 * SEC, 0);

	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[u], SCHED_PENDING_BUDGET);
}

static void test_small_task_below_min_cpu_starts_if_fully_covered(void **state)
{
	struct world w;
	world_init(&w, 10);
	w.in.min_cpu = 1 * SEC;
	size_t u = world_add_user(&w, 5, 1, 100 * SEC);
	w.users[u].used = 99 * SEC + 500000; /* 0.5 s left */
	world_queue(&w, u, 1, 200000, 0);    /* asks for 0.2 s */

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].cpu_limit, 200000);
}

static void test_unlimited_budget(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	w.users[u].used = 1000000 * HOUR;
	w.users[u].reserved = UINT64_MAX - 1;
	world_queue(&w, u, 1, 0, 0);
	world_queue(&w, u, 1, 5 * SEC, 0);

	assert_int_equal(world_decide(&w), 2);
	assert_true(w.starts[0].cpu_limit == SCHED_NO_LIMIT);
	assert_int_equal(w.starts[1].cpu_limit, 5 * SEC);
}

static void test_host_slots_limit_starts(void **state)
{
	struct world w;
	world_init(&w, 3);
	w.in.host.running = 1;
	for (size_t i = 0; i < 3; i++) {
		size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
		world_queue(&w, u, 3, 0, 0);
	}
	assert_int_equal(world_decide(&w), 2);
	assert_int_equal(w.out.host_running_after, 3);
}

static void test_pending_reason_host_capacity_when_host_full(void **state)
{
	struct world w;
	world_init(&w, 3);
	w.in.host.running = 3;
	size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 0);

	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[u], SCHED_PENDING_HOST_SLOTS);
	assert_string_equal(sched_reason_name(w.reasons[u]), "host_capacity");
}

static void test_drained_host_starts_nothing_and_says_so(void **state)
{
	struct world w;
	char msg[256];
	world_init(&w, 3);
	w.in.host.draining = true;
	size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 2, 0, 0);
	size_t v = world_add_user(&w, 0, 1, SCHED_NO_LIMIT); /* its own limit comes first */
	world_queue(&w, v, 1, 0, 0);

	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[u], SCHED_PENDING_NODE_DRAINING);
	assert_string_equal(sched_reason_name(w.reasons[u]), "node_draining");
	assert_int_equal(w.reasons[v], SCHED_PENDING_CONCURRENCY);
	sched_format_reason(msg, sizeof(msg), &w.in, &w.out, u, w.reasons[u], "alice", "pro", "2031-03");
	assert_non_null(strstr(msg, "drained"));
	/* undrained: they start */
	w.in.host.draining = false;
	assert_int_equal(world_decide(&w), 2);
}

static void test_gpus_are_counted_and_others_pass(void **state)
{
	struct world w;
	char msg[256];
	world_init(&w, 4);
	w.in.host.gpus = 2;
	w.in.host.gpus_reserved = 1;
	size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 0);
	w.tasks[w.in.n_tasks - 1].gpus = 2; /* needs both: one is taken */
	size_t v = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, v, 1, 0, 0);
	w.tasks[w.in.n_tasks - 1].gpus = 1;
	size_t x = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, x, 1, 0, 0); /* no GPU */

	assert_int_equal(world_decide(&w), 2);
	assert_int_equal(w.reasons[u], SCHED_PENDING_HOST_GPUS);
	assert_string_equal(sched_reason_name(w.reasons[u]), "host_capacity");
	sched_format_reason(msg, sizeof(msg), &w.in, &w.out, u, w.reasons[u], "alice", "pro", "2031-03");
	assert_non_null(strstr(msg, "waiting for GPUs on this host (next task needs 2, 0 of 2 free)"));
}

/* --cpus: the cores tasks hold never exceed the host's; a task without
 * --cpus holds none and passes */
static void test_cores_are_counted_and_others_pass(void **state)
{
	/* u: 1 core (fits: 1.5 free), then 1 more (0.5 free: waits); v: the
	 * last half core; x: no --cpus, holds nothing */
	static const uint32_t wants[][2] = { { 1000, 1000 }, { 500, 0 }, { 0, 0 } };
	static const size_t counts[] = { 2, 1, 1 };
	struct world w;
	char msg[256];
	size_t u = 0, v;

	world_init(&w, 8);
	w.in.host.cpu_millis = 2000;
	w.in.host.cpu_millis_reserved = 500;
	for (size_t i = 0; i < 3; i++) {
		size_t who = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);

		world_queue(&w, who, counts[i], 0, 0);
		for (size_t k = 0; k < counts[i]; k++)
			w.tasks[w.in.n_tasks - counts[i] + k].cpu_millis = wants[i][k];
	}

	assert_int_equal(world_decide(&w), 3);
	assert_int_equal(w.reasons[u], SCHED_PENDING_HOST_CPUS);
	assert_string_equal(sched_reason_name(w.reasons[u]), "host_capacity");
	uint64_t held = w.in.host.cpu_millis_reserved;
	for (size_t i = 0; i < w.out.n_starts; i++)
		held += w.tasks[w.out.starts[i].task].cpu_millis;
	assert_true(held <= w.in.host.cpu_millis);
	assert_int_equal(held, 2000);
	sched_format_reason(msg, sizeof(msg), &w.in, &w.out, u, w.reasons[u], "alice", "pro", "2031-03");
	assert_non_null(strstr(msg, "waiting for cores on this host (next task needs 1, 0 of 2 free)"));

	/* a host that declares no cores: only tasks without --cpus start */
	world_init(&w, 8);
	u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 0);
	w.tasks[w.in.n_tasks - 1].cpu_millis = 10;
	v = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, v, 1, 0, 0);
	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.reasons[u], SCHED_PENDING_HOST_CPUS);
}

static void test_host_memory_limit(void **state)
{
	struct world w;
	world_init(&w, 10);
	w.in.host.memory = 4 * GIB;
	w.in.host.memory_reserved = 1 * GIB;
	size_t big = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, big, 1, 0, 4 * GIB);
	size_t small = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, small, 1, 0, 1 * GIB);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].user, small);
	assert_int_equal(w.starts[0].memory_bytes, 1 * GIB);
	assert_int_equal(w.reasons[big], SCHED_PENDING_HOST_MEMORY);
	assert_int_equal(w.out.host_memory_reserved_after, 2 * GIB);
}

static void test_host_memory_taken_earlier_in_the_round(void **state)
{
	struct world w;
	world_init(&w, 10);
	w.in.host.memory = 3 * GIB;
	size_t a = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 1, 0, 2 * GIB);
	size_t b = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 1, 0, 2 * GIB);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.starts[0].user, a);
	assert_int_equal(w.reasons[b], SCHED_PENDING_HOST_MEMORY);
}

static void test_pending_reason_fair_share(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 2, 0, 0);
	size_t b = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 2, 0, 0);

	assert_int_equal(world_decide(&w), 1);
	assert_int_equal(w.reasons[a], SCHED_PENDING_FAIR_SHARE);
	assert_int_equal(w.reasons[b], SCHED_PENDING_FAIR_SHARE);
	assert_string_equal(sched_reason_name(w.reasons[b]), "fair_share");
}

static void test_empty_queue(void **state)
{
	struct world w;
	world_init(&w, 10);
	assert_int_equal(world_decide(&w), 0);
	size_t u = world_add_user(&w, 5, 1, SCHED_NO_LIMIT);
	assert_int_equal(world_decide(&w), 0);
	assert_int_equal(w.reasons[u], SCHED_PENDING_NONE);
	assert_int_equal(w.out.host_running_after, 0);
}

static void test_starts_capacity_limits_output(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 10, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 5, 0, 0);
	world_decide(&w);
	w.out.starts_capacity = 2;
	assert_int_equal(sched_decide(&w.in, &w.out), 0);
	assert_int_equal(w.out.n_starts, 2);
	assert_int_equal(w.reasons[u], SCHED_PENDING_FAIR_SHARE);
}

static void test_invalid_task_range_rejected(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 10, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 2, 0, 0);
	world_decide(&w);       /* valid: sets up w.out */
	w.users[u].n_tasks = 3; /* past the end of the tasks array */
	assert_int_equal(sched_decide(&w.in, &w.out), -EINVAL);
	uint32_t pos[MAX_TASKS];
	assert_int_equal(sched_queue_positions(&w.in, w.scratch, pos), -EINVAL);
	w.users[u].n_tasks = 2;
	w.out.reasons = NULL;
	assert_int_equal(sched_decide(&w.in, &w.out), -EINVAL);
}

static void test_note_started_clamps_to_virtual_time(void **state)
{
	uint64_t vtime = 10 * SCHED_STRIDE, pass = 0;
	sched_note_started(&vtime, &pass, 2);
	assert_true(vtime == 10 * SCHED_STRIDE);
	assert_true(pass == 10 * SCHED_STRIDE + SCHED_STRIDE / 2);
	sched_note_started(&vtime, &pass, 0); /* weight 0 counts as 1 */
	assert_true(vtime == 10 * SCHED_STRIDE + SCHED_STRIDE / 2);
	assert_true(pass == 11 * SCHED_STRIDE + SCHED_STRIDE / 2);
}

static void test_queue_positions_follow_dispatch_order(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 3, 0, 0);
	size_t b = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, b, 2, 0, 0);
	size_t broke = world_add_user(&w, 1, 1, 0);
	world_queue(&w, broke, 2, 0, 0);

	uint32_t pos[MAX_TASKS];
	assert_int_equal(sched_queue_positions(&w.in, w.scratch, pos), 0);
	uint32_t expected[7] = { 1, 3, 5, 2, 4, SCHED_NO_POSITION, SCHED_NO_POSITION };
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(pos[i], expected[i]);
}

static void test_queue_positions_match_successive_decisions(void **state)
{
	struct world w;
	world_init(&w, 1);
	uint32_t weights[3] = { 1, 3, 2 };
	for (size_t k = 0; k < 3; k++) {
		size_t u = world_add_user(&w, 1, weights[k], SCHED_NO_LIMIT);
		world_queue(&w, u, 6, 0, 0);
		w.users[u].pass = k * SCHED_STRIDE / 3; /* some history */
	}
	w.in.virtual_time = SCHED_STRIDE / 4;
	uint32_t pos[MAX_TASKS];
	assert_int_equal(sched_queue_positions(&w.in, w.scratch, pos), 0);

	for (uint32_t rank = 1; rank <= 18; rank++) {
		assert_int_equal(world_decide(&w), 1);
		assert_int_equal(pos[w.starts[0].task], rank);
		world_apply_starts(&w);
		world_finish_all(&w);
	}
}

static void format(struct world *w, size_t user, char *buf, size_t size)
{
	int n = sched_format_reason(buf, size, &w->in, &w->out, user, w->reasons[user], "alice", "free",
				    "2026-11");
	assert_true(n > 0 && (size_t)n < size);
}

static void test_message_concurrency_limit(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 1, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 2, 0, 0);
	world_decide(&w); /* one starts this round: 1/1 */
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf, "alice: 1/1 tasks running (plan free)");
	assert_string_equal(sched_reason_name(w.reasons[u]), "concurrency_limit");
}

static void test_message_budget_exhausted(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 1, 1, 10 * HOUR);
	w.users[u].used = 10 * HOUR;
	world_queue(&w, u, 1, 0, 0);
	world_decide(&w);
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf, "alice: 10.0 of 10.0 CPU hours used in 2026-11 (plan free)");
	assert_string_equal(sched_reason_name(w.reasons[u]), "budget_exhausted");
}

static void test_message_budget_reserved_by_running_tasks(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 3, 1, 10 * HOUR);
	w.users[u].used = 6 * HOUR;
	w.users[u].reserved = 4 * HOUR;
	w.users[u].running = 2;
	world_queue(&w, u, 1, 0, 0);
	world_decide(&w);
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf,
			    "alice: 6.0 of 10.0 CPU hours used in 2026-11, "
			    "4.0 reserved by 2 running tasks (plan free)");
	assert_string_equal(sched_reason_name(w.reasons[u]), "budget_reserved");
}

/* ---- what a start reserves (supervisor/admission.h) ---------------------- */

/* Queue n tasks that can burn at most bound µs in their wall-clock limit. */
static void world_queue_bounded(struct world *w, size_t u, size_t n, uint64_t bound)
{
	size_t first = w->in.n_tasks;
	world_queue(w, u, n, 0, 0);
	for (size_t i = first; i < w->in.n_tasks; i++)
		w->tasks[i].wall_cpu_bound = bound;
}

static void test_budget_does_not_cost_concurrency(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t carol = world_add_user(&w, 4, 1, 10 * HOUR);
	world_queue_bounded(&w, carol, 6, 602 * SEC); /* 10 min wall + grace, 1 CPU */

	assert_int_equal(world_decide(&w), 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(w.starts[i].cpu_limit, 602 * SEC);
	assert_int_equal(w.reasons[carol], SCHED_PENDING_CONCURRENCY);
}

static void test_unbounded_tasks_share_the_budget_between_slots(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t gina = world_add_user(&w, 4, 1, 100 * SEC);
	world_queue(&w, gina, 6, 0, 0); /* no CPU limit, no wall bound */

	assert_int_equal(world_decide(&w), 4);
	uint64_t total = 0;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(w.starts[i].cpu_limit, 25 * SEC);
		total += w.starts[i].cpu_limit;
	}
	assert_int_equal(total, 100 * SEC);
	assert_int_equal(w.reasons[gina], SCHED_PENDING_CONCURRENCY);
}

static void test_unbounded_share_uses_host_slots_when_the_plan_has_none(void **state)
{
	struct world w;
	world_init(&w, 2);
	size_t gina = world_add_user(&w, UINT32_MAX, 1, 100 * SEC);
	world_queue(&w, gina, 3, 0, 0);

	assert_int_equal(world_decide(&w), 2);
	assert_int_equal(w.starts[0].cpu_limit, 50 * SEC);
	assert_int_equal(w.starts[1].cpu_limit, 50 * SEC);
}

static void test_reserved_budget_is_its_own_reason(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t dave = world_add_user(&w, 4, 1, 3600000); /* 0.001 h */
	world_queue_bounded(&w, dave, 3, 1700000);       /* 1.5 s + 0.2 s grace */

	assert_int_equal(world_decide(&w), 2);
	assert_int_equal(w.reasons[dave], SCHED_PENDING_BUDGET_RESERVED);
	char buf[200];
	int n = sched_format_reason(buf, sizeof(buf), &w.in, &w.out, dave, w.reasons[dave], "dave", "tiny",
				    "2026-12");
	assert_true(n > 0);
	assert_string_equal(buf,
			    "dave: 0.0 of 3.6 CPU seconds used in 2026-12, 3.4 reserved by 2 running "
			    "tasks (plan tiny)");
}

static void test_positions_count_while_the_budget_is_only_reserved(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t carol = world_add_user(&w, 1, 1, 10 * HOUR);
	w.users[carol].running = 1;
	w.users[carol].reserved = 10 * HOUR; /* held, not used */
	world_queue(&w, carol, 3, 0, 0);

	uint32_t pos[MAX_TASKS];
	assert_int_equal(sched_queue_positions(&w.in, w.scratch, pos), 0);
	assert_int_equal(pos[0], 1);
	assert_int_equal(pos[1], 2);
	assert_int_equal(pos[2], 3);
}

static void test_no_positions_when_used_up_suspended_or_not_allowed_to_run(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t used_up = world_add_user(&w, 1, 1, 10 * HOUR);
	w.users[used_up].used = 10 * HOUR;
	world_queue(&w, used_up, 1, 0, 0);
	size_t suspended = world_add_user(&w, 1, 1, 0);
	world_queue(&w, suspended, 1, 0, 0);
	size_t no_slots = world_add_user(&w, 0, 1, SCHED_NO_LIMIT);
	world_queue(&w, no_slots, 1, 0, 0);
	size_t fine = world_add_user(&w, 1, 1, 10 * HOUR);
	world_queue(&w, fine, 1, 0, 0);

	uint32_t pos[MAX_TASKS];
	assert_int_equal(sched_queue_positions(&w.in, w.scratch, pos), 0);
	assert_int_equal(pos[0], SCHED_NO_POSITION);
	assert_int_equal(pos[1], SCHED_NO_POSITION);
	assert_int_equal(pos[2], SCHED_NO_POSITION);
	assert_int_equal(pos[3], 1);
}

static void test_message_suspended(void **state)
{
	struct world w;
	world_init(&w, 10);
	size_t u = world_add_user(&w, 4, 1, 0);
	world_queue(&w, u, 1, 0, 0);
	world_decide(&w);
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf,
			    "alice: suspended, no CPU time this month (monthly_cpu_hours = 0, plan free)");
	assert_string_equal(sched_reason_name(w.reasons[u]), "budget_exhausted");
}

static void test_message_host_slots(void **state)
{
	struct world w;
	world_init(&w, 4);
	w.in.host.running = 4;
	size_t u = world_add_user(&w, 3, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 0);
	world_decide(&w);
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf, "alice: waiting for a free slot on this host (4/4 tasks running)");
}

static void test_message_host_memory(void **state)
{
	struct world w;
	world_init(&w, 4);
	w.in.host.memory = 4 * GIB;
	w.in.host.memory_reserved = 3 * GIB;
	size_t u = world_add_user(&w, 3, 1, SCHED_NO_LIMIT);
	world_queue(&w, u, 1, 0, 2 * GIB);
	world_decide(&w);
	char buf[200];
	format(&w, u, buf, sizeof(buf));
	assert_string_equal(buf,
			    "alice: waiting for memory on this host (next task needs 2.0 GiB, 1.0 GiB free)");
}

static void test_message_fair_share(void **state)
{
	struct world w;
	world_init(&w, 1);
	size_t a = world_add_user(&w, 3, 1, SCHED_NO_LIMIT);
	world_queue(&w, a, 1, 0, 0);
	size_t b = world_add_user(&w, 3, 2, SCHED_NO_LIMIT);
	world_queue(&w, b, 1, 0, 0);
	world_decide(&w);
	char buf[200];
	format(&w, b, buf, sizeof(buf));
	assert_string_equal(
		buf, "alice: other users' tasks start first this round (fair share, weight 2, plan free)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_user_runs_one_task_at_a_time),
		cmocka_unit_test(test_concurrency_limit_reached_within_one_round),
		cmocka_unit_test(test_zero_max_concurrent_runs_nothing),
		cmocka_unit_test(test_two_users_interleave_a_b_a_b),
		cmocka_unit_test(test_two_users_interleave_within_one_round),
		cmocka_unit_test(test_weights_give_proportional_starts),
		cmocka_unit_test(test_idle_user_gets_no_banked_credit),
		cmocka_unit_test(test_tie_break_oldest_head_task_first),
		cmocka_unit_test(test_tasks_of_a_user_start_in_submit_order),
		cmocka_unit_test(test_one_round_equals_successive_single_slot_rounds),
		cmocka_unit_test(test_user_without_budget_gets_nothing_and_reason_budget_exhausted),
		cmocka_unit_test(test_cpu_limit_capped_by_budget_left_after_reservations),
		cmocka_unit_test(test_cpu_limit_capped_by_plan_max_cpu),
		cmocka_unit_test(test_reservations_in_one_round_never_overrun_budget),
		cmocka_unit_test(test_min_cpu_threshold),
		cmocka_unit_test(test_small_task_below_min_cpu_starts_if_fully_covered),
		cmocka_unit_test(test_unlimited_budget),
		cmocka_unit_test(test_host_slots_limit_starts),
		cmocka_unit_test(test_pending_reason_host_capacity_when_host_full),
		cmocka_unit_test(test_drained_host_starts_nothing_and_says_so),
		cmocka_unit_test(test_gpus_are_counted_and_others_pass),
		cmocka_unit_test(test_cores_are_counted_and_others_pass),
		cmocka_unit_test(test_host_memory_limit),
		cmocka_unit_test(test_host_memory_taken_earlier_in_the_round),
		cmocka_unit_test(test_pending_reason_fair_share),
		cmocka_unit_test(test_empty_queue),
		cmocka_unit_test(test_starts_capacity_limits_output),
		cmocka_unit_test(test_invalid_task_range_rejected),
		cmocka_unit_test(test_note_started_clamps_to_virtual_time),
		cmocka_unit_test(test_queue_positions_follow_dispatch_order),
		cmocka_unit_test(test_queue_positions_match_successive_decisions),
		cmocka_unit_test(test_message_concurrency_limit),
		cmocka_unit_test(test_message_budget_exhausted),
		cmocka_unit_test(test_message_budget_reserved_by_running_tasks),
		cmocka_unit_test(test_budget_does_not_cost_concurrency),
		cmocka_unit_test(test_unbounded_tasks_share_the_budget_between_slots),
		cmocka_unit_test(test_unbounded_share_uses_host_slots_when_the_plan_has_none),
		cmocka_unit_test(test_reserved_budget_is_its_own_reason),
		cmocka_unit_test(test_positions_count_while_the_budget_is_only_reserved),
		cmocka_unit_test(test_no_positions_when_used_up_suspended_or_not_allowed_to_run),
		cmocka_unit_test(test_message_suspended),
		cmocka_unit_test(test_message_host_slots),
		cmocka_unit_test(test_message_host_memory),
		cmocka_unit_test(test_message_fair_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
