/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/sched.h — the scheduler: a pure function from (queued tasks,
 * running counts, usage, budgets, plan limits, host capacity, fairness
 * state) to "start these tasks now, with these limits" and, for every user
 * still waiting, why.
 *
 * No I/O, no globals, no clock reads, no allocation: the caller fills a
 * struct sched_input, provides output arrays, and persists the fairness
 * state (struct sched_user.pass, struct sched_input.virtual_time) between
 * decisions, updating it with sched_note_started() for each task it really
 * started.  It does not depend on the policy or store modules; the caller
 * translates their structs into these.
 *
 * Units: CPU in microseconds (µs), memory in bytes, wall time in µs.
 * SCHED_NO_LIMIT (UINT64_MAX) means "unlimited" wherever a limit is allowed
 * to be unlimited; 0 is always a real quantity (a budget of 0 runs nothing).
 *
 * Fairness: start-time fair queuing (SFQ, Goyal et al. 1996) over users.
 * Every user carries a virtual "pass"; the system carries a virtual time V
 * (the start tag of the last task started).  A user's start tag is
 * max(pass, V): a user who was idle gets no banked credit.  The user with the
 * smallest start tag goes next; starting a task advances that user's pass by
 * SCHED_STRIDE / weight, so a weight-2 user gets twice the starts of a
 * weight-1 user while both are backlogged, and equal weights alternate
 * A B A B.  Ties: the user whose head task is oldest (smallest submit_seq)
 * goes first; then the lower user index.  Within a user, tasks start strictly
 * in submit order (only the head task is ever considered).
 */
#ifndef CORRAL_SUPERVISOR_SCHED_H
#define CORRAL_SUPERVISOR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/macros.h"

#define SCHED_NO_LIMIT LIMIT_NONE
/* Pass advance per start at weight 1; lcm(1..16) * 1024, so weights 1..16
 * advance exactly.  2^64 / SCHED_STRIDE ≈ 2.4e10 starts before overflow. */
#define SCHED_STRIDE (720720ULL * 1024ULL)
/* sched_queue_positions(): this task has no position (its user is out of budget). */
#define SCHED_NO_POSITION 0u

/* One queued task.  A user's tasks are contiguous in sched_input.tasks, in
 * submit order. */
struct sched_task {
	uint64_t id;           /* the store's task id, copied to the output */
	uint64_t submit_seq;   /* global submit order; smaller = older (tie-break) */
	uint64_t cpu_request;  /* CPU limit asked for (µs); 0 = "the plan's max_cpu" */
	uint64_t memory_bytes; /* memory to reserve on the host */
	uint64_t wall_limit;   /* wall-clock limit (µs); passed through */
	/* The most CPU (µs) it can burn in its wall-clock limit at its CPU
	 * quota (admission_wall_cpu_bound()); 0 = unbounded.  Under a budget,
	 * what a task reserves is capped by it (supervisor/admission.h). */
	uint64_t wall_cpu_bound;
	uint32_t gpus;       /* GPUs it needs on the host (0 = none) */
	uint32_t cpu_millis; /* cores it holds on the host while it runs, x 1000 (0 = none) */
};

/* One user (tenant) with their plan limits, usage and fairness state. */
struct sched_user {
	uint32_t max_concurrent; /* tasks at once; 0 = none may run */
	uint32_t running;        /* tasks running now */
	uint32_t weight;         /* fair-share weight (plan); 0 is treated as 1 */
	uint64_t budget;         /* CPU µs per month; SCHED_NO_LIMIT = unlimited */
	uint64_t used;           /* CPU µs charged this month (finished tasks) */
	uint64_t reserved;       /* CPU µs reserved by running tasks (their limits) */
	/* budget: 0 = suspended, nothing starts */
	uint64_t max_cpu;  /* plan's CPU cap per task (µs); SCHED_NO_LIMIT = none */
	uint64_t pass;     /* fairness state, persisted by the caller; start at 0 */
	size_t first_task; /* index of the head task in sched_input.tasks */
	size_t n_tasks;    /* queued tasks of this user */
};

/* Capacity of this host. */
struct sched_host {
	uint32_t max_running;         /* task slots */
	uint32_t running;             /* slots in use */
	uint64_t memory;              /* reservable memory (bytes); SCHED_NO_LIMIT = unlimited */
	uint64_t memory_reserved;     /* reserved by running tasks */
	bool draining;                /* an operator drained it: nothing starts */
	uint32_t gpus;                /* GPUs of the host */
	uint32_t gpus_reserved;       /* held by running tasks */
	uint64_t cpu_millis;          /* cores of the host x 1000 that tasks may hold */
	uint64_t cpu_millis_reserved; /* held by running tasks */
};

struct sched_input {
	const struct sched_user *users;
	size_t n_users;
	const struct sched_task *tasks;
	size_t n_tasks;
	struct sched_host host;
	/* A task whose CPU limit would be cut by the budget starts only if it
	 * still gets at least this much (e.g. 1 s); a task asking for less than
	 * this starts if it gets everything it asked for. */
	uint64_t min_cpu;
	uint64_t virtual_time; /* fairness state (V), persisted by the caller; start at 0 */
};

/* Why a user's queued tasks (all of them: the head's reason) did not start. */
enum sched_pending_reason {
	SCHED_PENDING_NONE = 0,        /* nothing queued left */
	SCHED_PENDING_CONCURRENCY,     /* running == max_concurrent */
	SCHED_PENDING_BUDGET,          /* budget used up: what is used leaves too little
					* (also a budget of 0, or a per-task CPU cap of 0) */
	SCHED_PENDING_HOST_SLOTS,      /* host has no free slot ("host_capacity") */
	SCHED_PENDING_HOST_MEMORY,     /* head task's memory does not fit ("host_capacity") */
	SCHED_PENDING_FAIR_SHARE,      /* eligible, but slots went to users ahead this round */
	SCHED_PENDING_BUDGET_RESERVED, /* enough is left, but running tasks hold it */
	SCHED_PENDING_NODE_DRAINING,   /* the host is drained: nothing starts ("node_draining") */
	SCHED_PENDING_HOST_GPUS,       /* head task's GPUs are not free now ("host_capacity") */
	SCHED_PENDING_HOST_CPUS,       /* head task's cores are not free now ("host_capacity") */
};

/* A task to start now, in the order to start them. */
struct sched_start {
	size_t user; /* index into sched_input.users */
	size_t task; /* index into sched_input.tasks */
	uint64_t task_id;
	uint64_t cpu_limit;    /* also its reservation: admission_cpu_limit() (min of request,
				   * max_cpu, wall_cpu_bound, budget left); SCHED_NO_LIMIT = none */
	uint64_t memory_bytes; /* memory reserved for it */
	uint64_t wall_limit;
};

/* One heap entry of scratch space; the caller provides n_users of them. */
struct sched_heap_item {
	uint64_t key;      /* start tag */
	uint64_t head_seq; /* submit_seq of the head task */
	uint64_t reserved; /* the user's reservation, in-round */
	uint32_t user;
	uint32_t running; /* the user's running count, in-round */
	size_t next;      /* offset of the head task within the user's tasks */
};

struct sched_output {
	struct sched_start *starts;         /* caller's array ... */
	size_t starts_capacity;             /* ... of this many entries */
	size_t n_starts;                    /* filled in */
	enum sched_pending_reason *reasons; /* caller's array of n_users entries, filled in */
	struct sched_heap_item *scratch;    /* caller's array of n_users entries */
	uint32_t host_running_after;        /* host.running + n_starts */
	uint64_t host_memory_reserved_after;
};

/* Decide which tasks start now.  O(users + starts * log users); reads only
 * head tasks.  Returns 0, or -EINVAL if an input is malformed (a user's task
 * range out of bounds, more than UINT32_MAX users, missing arrays). */
int sched_decide(const struct sched_input *in, struct sched_output *out);

/* Update the persisted fairness state after really starting a task of a user
 * with this weight: the start tag is max(*user_pass, *virtual_time). */
void sched_note_started(uint64_t *virtual_time, uint64_t *user_pass, uint32_t weight);

/* Queue positions.  positions[i] (n_tasks entries) is the 1-based rank of
 * tasks[i] in the order the scheduler would start every queued task if host
 * slots, host memory and per-user concurrency were unlimited and no budget
 * changed: the same start tags and tie-breaks as sched_decide().  Tasks
 * that can start once running tasks end are counted (a budget held by
 * running tasks comes back); tasks of users whose head task can never
 * start this month (budget used up or 0, max_concurrent 0, a CPU cap of 0)
 * get SCHED_NO_POSITION and are not counted.  O(n_tasks * log users).  scratch: n_users entries.  Returns 0 or
 * -EINVAL. */
int sched_queue_positions(const struct sched_input *in, struct sched_heap_item *scratch, uint32_t *positions);

/* Stable machine name: "none", "concurrency_limit", "budget_exhausted",
 * "budget_reserved", "host_capacity" (slots and memory), "fair_share". */
const char *sched_reason_name(enum sched_pending_reason reason);

/* Human message for a user's pending reason, e.g.
 *   "alice: 1/1 tasks running (plan free)"
 *   "alice: 10.0 of 10.0 CPU hours used in 2026-11 (plan free)"
 *   "alice: 0.0 of 10.0 CPU hours used in 2026-11, 0.7 reserved by 4 running tasks (plan pro)"
 * (admission_format_budget(): budgets under a minute in CPU seconds)
 * in (and out, for the host's state after the round; may be NULL) are what
 * sched_decide() saw and filled.  Returns what snprintf returns. */
int sched_format_reason(char *buf, size_t size, const struct sched_input *in, const struct sched_output *out,
			size_t user, enum sched_pending_reason reason, const char *user_name,
			const char *plan_name, const char *month);

#endif
