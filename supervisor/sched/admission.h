/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/admission.h — the budget rules a task starts under: what one
 * start reserves of its tenant's monthly CPU budget, and, when it cannot
 * start, whether the budget is used up or only held by running tasks.
 * Pure: no I/O, no globals, no policy structs (the caller passes numbers),
 * so the scheduler (sched.c) and the submit path share one rule.
 *
 * The rule (corral.conf(5), "BUDGETS"):
 *  - A task reserves what it can burn at most, and that is also its CPU
 *    limit: the smaller of its CPU-time limit (its request, or the plan's
 *    max_cpu_seconds) and (wall-clock limit + kill grace) x its CPU quota,
 *    never more than the budget left (budget - used - reserved).  With the
 *    defaults (10 min wall, 1 CPU) that is about 10 CPU minutes, so a tenant
 *    with budget left runs up to max_concurrent tasks at once.
 *  - A task with no bound at all (no CPU-time limit and no wall-clock
 *    limit) reserves an even share of what is left among the tenant's free
 *    slots: left / (slots - running), slots = min(max_concurrent, host
 *    max_running).  All slots filled, the shares add up to exactly what was
 *    left, so running tasks can never together reserve more than the
 *    budget, and the tenant is not serialised.  Its CPU limit is that share;
 *    reaching it ends the task with reason "budget".
 *  - A task cut short by the budget must still get min_cpu (1 s in corrald),
 *    unless it asks for less and gets all of it.
 * Since every running task's CPU limit is within its reservation and the
 * reservations fit the budget, the budget is overrun by at most what the
 * running tasks burn between two CPU checks: poll_interval x their CPUs.
 *
 * Units: CPU in µs, wall-clock time in µs, CPU quota in thousandths of a CPU.
 */
#ifndef CORRAL_SUPERVISOR_ADMISSION_H
#define CORRAL_SUPERVISOR_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/macros.h"

#define ADMISSION_UNLIMITED LIMIT_NONE /* the same value as SCHED_NO_LIMIT */
#define ADMISSION_MIN_CPU_US 1000000u  /* corrald's min_cpu: 1 CPU second */

/* A tenant's budget as the rule sees it. */
struct admission_tenant {
	uint64_t budget;   /* CPU µs this month; ADMISSION_UNLIMITED = none; 0 = suspended */
	uint64_t used;     /* charged this month */
	uint64_t reserved; /* held by its running tasks */
	uint32_t running;  /* its tasks running */
	uint32_t slots;    /* the most of its tasks that can run at once */
};

enum admission_verdict {
	ADMISSION_START = 0,        /* *limit is the task's CPU limit and reservation */
	ADMISSION_NO_CPU,           /* the task may use no CPU at all (a limit of 0) */
	ADMISSION_BUDGET_EXHAUSTED, /* what is used leaves less than the task needs
				      * (always so with a budget of 0: suspended) */
	ADMISSION_BUDGET_RESERVED,  /* enough is left, but running tasks hold it */
};

/* The monthly budget in µs from the policy's monthly_cpu_ms
 * (POLICY_UNLIMITED and ADMISSION_UNLIMITED are both UINT64_MAX). */
uint64_t admission_budget_us(uint64_t monthly_cpu_ms);

/* The month's budget after operators' adjustments (corral usage adjust):
 * budget + adjust_us, never below 0 (taken back to 0 = nothing starts);
 * ADMISSION_UNLIMITED stays unlimited, and a suspended plan (0) plus a
 * grant gives the grant.  Saturates below ADMISSION_UNLIMITED. */
uint64_t admission_budget_adjusted(uint64_t budget, int64_t adjust_us);

/* (wall_limit + kill_grace) x cpu_millis / 1000, in CPU µs: the most a task
 * can burn before its wall-clock limit and the grace after SIGTERM end it.
 * 0 = unbounded (no wall-clock limit, or no CPU quota).  Saturates. */
uint64_t admission_wall_cpu_bound(uint64_t wall_limit_us, uint64_t kill_grace_us, uint32_t cpu_millis);

/* Can a task start under tenant t's budget, and with what CPU limit?
 * want: min(its CPU request, the plan's per-task cap); ADMISSION_UNLIMITED
 * = none.  wall_bound: admission_wall_cpu_bound() (0 = unbounded).
 * min_cpu: see above.  With an unlimited budget *limit is want (nothing is
 * reserved).  *limit is set only with ADMISSION_START. */
enum admission_verdict admission_cpu_limit(const struct admission_tenant *t, uint64_t want,
					   uint64_t wall_bound, uint64_t min_cpu, uint64_t *limit);

/* The budget part of a pending message or a no_queue refusal (v is
 * BUDGET_EXHAUSTED or BUDGET_RESERVED; holders: tasks holding `reserved`):
 *   "alice: suspended, no CPU time this month (monthly_cpu_hours = 0, plan p)"
 *   "alice: 10.0 of 10.0 CPU hours used in 2026-11 (plan p)"
 *   "alice: 0.0 of 3.6 CPU seconds used in 2026-11, 3.4 reserved by 2 running tasks (plan p)"
 *   "bob: 4.5 of 5.0 CPU minutes used in 2026-11 (plan p)"
 * Budgets under a minute are shown in CPU seconds, under an hour in CPU
 * minutes, else in CPU hours.  Returns what snprintf does. */
int admission_format_budget(char *buf, size_t size, const char *user, const char *plan, const char *month,
			    uint64_t budget, uint64_t used, uint64_t reserved, uint32_t holders);

/* Stable names for pending reasons and errors: "budget_exhausted",
 * "budget_reserved" ("none" for START, "budget_exhausted" for NO_CPU). */
const char *admission_verdict_name(enum admission_verdict verdict);

#endif
