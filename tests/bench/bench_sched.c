/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_sched.c — how long one scheduling decision takes with
 * 100,000 queued tasks from 10,000 users (issue 5 target: p99 < 1 ms).
 *
 * Scenarios, all in one run and on one deterministic world:
 *   steady    host of 64 slots kept ~60 busy; every decision's starts are
 *             applied (sched_note_started, running counts, reservations) and
 *             as many random running tasks finish, so inputs change each time
 *   burst     the same queue on an empty host of 2,000 slots (a restart):
 *             thousands of starts in one decision
 *   positions sched_queue_positions() over all 100,000 tasks
 *   baseline  a plain pass over the 100,000 tasks summing one field, so the
 *             numbers can be compared across machines (ratio = median/baseline)
 * Prints median, p99 and max in µs.  Usage: bench_sched [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/sched/sched.h"

#define N_USERS 10000
#define TASKS_PER_USER 10
#define N_TASKS (N_USERS * TASKS_PER_USER)
#define HOST_SLOTS 64
#define STEADY_RUNNING 60
#define SEC 1000000ULL
#define HOUR (3600ULL * SEC)
#define GIB (1024ULL * 1024ULL * 1024ULL)

struct running_task {
	size_t user;
	uint64_t cpu;
	uint64_t memory;
};

struct bench_world {
	struct sched_user users[N_USERS];
	struct sched_task tasks[N_TASKS];
	struct sched_input in;
	struct running_task running[N_USERS];
	size_t n_running;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* 70% free plan (1 task, weight 1, 10 h), 25% pro (4, weight 2, 100 h),
 * 5% unlimited (16, weight 4); one user in ten near or out of budget. */
static void world_build(struct bench_world *w, uint32_t host_slots)
{
	uint64_t seq = 1;
	memset(w, 0, sizeof(*w));
	for (size_t u = 0; u < N_USERS; u++) {
		struct sched_user *user = &w->users[u];
		uint64_t plan = rng_next() % 100;
		if (plan < 70)
			*user = (struct sched_user){
				.max_concurrent = 1, .weight = 1, .budget = 10 * HOUR, .max_cpu = 600 * SEC
			};
		else if (plan < 95)
			*user = (struct sched_user){
				.max_concurrent = 4, .weight = 2, .budget = 100 * HOUR, .max_cpu = 3600 * SEC
			};
		else
			*user = (struct sched_user){ .max_concurrent = 16,
						     .weight = 4,
						     .budget = SCHED_NO_LIMIT,
						     .max_cpu = SCHED_NO_LIMIT };
		if (user->budget != SCHED_NO_LIMIT)
			user->used = rng_next() % 10 == 0 ? user->budget - rng_next() % SEC
							  : rng_next() % (user->budget / 2);
		user->pass = rng_next() % (4 * SCHED_STRIDE);
		user->first_task = u * TASKS_PER_USER;
		user->n_tasks = TASKS_PER_USER;
	}
	/* Submit order: interleaved across users, as many clients submitting. */
	for (size_t k = 0; k < TASKS_PER_USER; k++)
		for (size_t u = 0; u < N_USERS; u++)
			w->tasks[u * TASKS_PER_USER + k] =
				(struct sched_task){
					.id = seq,
					.submit_seq = seq,
					.cpu_request = (1 + rng_next() % 300) * SEC,
					.memory_bytes = (1 + rng_next() % 4) * GIB / 4,
					.wall_limit = 600 * SEC,
				},
						      seq++;
	w->in = (struct sched_input){
		.users = w->users,
		.n_users = N_USERS,
		.tasks = w->tasks,
		.n_tasks = N_TASKS,
		.host = { .max_running = host_slots, .memory = (uint64_t)host_slots * GIB },
		.min_cpu = 1 * SEC,
		.virtual_time = 2 * SCHED_STRIDE,
	};
}

static void world_apply_starts(struct bench_world *w, const struct sched_output *out)
{
	for (size_t i = 0; i < out->n_starts; i++) {
		const struct sched_start *s = &out->starts[i];
		struct sched_user *u = &w->users[s->user];
		uint64_t cpu = s->cpu_limit == SCHED_NO_LIMIT ? 0 : s->cpu_limit;
		sched_note_started(&w->in.virtual_time, &u->pass, u->weight);
		u->running++;
		u->reserved += cpu;
		u->first_task++;
		u->n_tasks--;
		w->in.host.running++;
		w->in.host.memory_reserved += s->memory_bytes;
		w->running[w->n_running++] = (struct running_task){ s->user, cpu, s->memory_bytes };
	}
}

static void world_finish_random(struct bench_world *w, size_t n)
{
	for (; n > 0 && w->n_running > 0; n--) {
		size_t i = rng_next() % w->n_running;
		struct running_task t = w->running[i];
		w->running[i] = w->running[--w->n_running];
		struct sched_user *u = &w->users[t.user];
		u->running--;
		u->reserved -= t.cpu;
		u->used += t.cpu / 2;
		w->in.host.running--;
		w->in.host.memory_reserved -= t.memory;
	}
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts samples; returns the median. */
static double report(const char *name, uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(*ns), compare_u64);
	size_t p99 = (n * 99 + 99) / 100 - 1;
	printf("%-10s n=%-5zu median %8.1f µs  p99 %8.1f µs  max %8.1f µs\n", name, n, ns[n / 2] / 1e3,
	       ns[p99] / 1e3, ns[n - 1] / 1e3);
	return ns[n / 2] / 1e3;
}

int main(int argc, char **argv)
{
	size_t iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	if (iterations < 10)
		iterations = 10;
	struct bench_world *w = malloc(sizeof(*w));
	struct bench_world *fresh = malloc(sizeof(*w));
	uint64_t *ns = calloc(iterations, sizeof(*ns));
	struct sched_start *starts = calloc(N_TASKS, sizeof(*starts));
	enum sched_pending_reason *reasons = calloc(N_USERS, sizeof(*reasons));
	struct sched_heap_item *scratch = calloc(N_USERS, sizeof(*scratch));
	uint32_t *positions = calloc(N_TASKS, sizeof(*positions));
	if (!w || !fresh || !ns || !starts || !reasons || !scratch || !positions) {
		fprintf(stderr, "bench_sched: out of memory\n");
		return 1;
	}
	struct sched_output out = {
		.starts = starts, .starts_capacity = N_TASKS, .reasons = reasons, .scratch = scratch
	};

	printf("bench_sched: %d queued tasks, %d users, %zu iterations\n", N_TASKS, N_USERS, iterations);

	/* baseline: one plain pass over the tasks */
	world_build(w, HOST_SLOTS);
	volatile uint64_t sink = 0;
	for (size_t i = 0; i < iterations; i++) {
		uint64_t t0 = now_ns(), sum = 0;
		for (size_t k = 0; k < N_TASKS; k++)
			sum += w->tasks[k].memory_bytes;
		sink += sum;
		ns[i] = now_ns() - t0;
	}
	double baseline = report("baseline", ns, iterations);
	printf("           (one pass over 100k tasks summing a field)\n");

	/* steady: keep 60 of 64 slots busy; warm the running set up first */
	size_t total_starts = 0;
	for (size_t i = 0; i < 200; i++) {
		sched_decide(&w->in, &out);
		world_apply_starts(w, &out);
		world_finish_random(w, w->in.host.running - STEADY_RUNNING);
	}
	for (size_t i = 0; i < iterations; i++) {
		uint64_t t0 = now_ns();
		int r = sched_decide(&w->in, &out);
		ns[i] = now_ns() - t0;
		if (r < 0) {
			fprintf(stderr, "bench_sched: sched_decide failed: %d\n", r);
			return 1;
		}
		total_starts += out.n_starts;
		world_apply_starts(w, &out);
		world_finish_random(w,
				    w->in.host.running > STEADY_RUNNING ? w->in.host.running - STEADY_RUNNING
									: 0);
	}
	double steady = report("steady", ns, iterations);
	printf("           %.1f starts/decision, median = %.1f x baseline\n",
	       (double)total_starts / iterations, steady / baseline);

	/* burst: empty host of 2,000 slots, same queue shape */
	size_t burst_iterations = iterations / 10;
	rng_state = 0x9e3779b97f4a7c15ULL;
	world_build(fresh, 2000);
	total_starts = 0;
	for (size_t i = 0; i < burst_iterations; i++) {
		memcpy(w, fresh, sizeof(*w));
		w->in.users = w->users;
		w->in.tasks = w->tasks;
		uint64_t t0 = now_ns();
		sched_decide(&w->in, &out);
		ns[i] = now_ns() - t0;
		total_starts += out.n_starts;
	}
	double burst = report("burst", ns, burst_iterations);
	printf("           %.0f starts/decision, median = %.1f x baseline\n",
	       (double)total_starts / burst_iterations, burst / baseline);

	/* positions over every queued task */
	for (size_t i = 0; i < burst_iterations; i++) {
		uint64_t t0 = now_ns();
		sched_queue_positions(&fresh->in, scratch, positions);
		ns[i] = now_ns() - t0;
	}
	double pos = report("positions", ns, burst_iterations);
	printf("           median = %.1f x baseline\n", pos / baseline);

	free(positions);
	free(scratch);
	free(reasons);
	free(starts);
	free(ns);
	free(fresh);
	free(w);
	return sink == 42 ? 2 : 0;
}
