/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/admission.c — what a start reserves of a monthly CPU budget
 * (see admission.h for the rule and why it is safe).  Pure.
 */
#include "supervisor/sched/admission.h"

#include <stdbool.h>
#include <stdio.h>

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t left_after(uint64_t budget, uint64_t spent)
{
	return spent >= budget ? 0 : budget - spent;
}

uint64_t admission_budget_us(uint64_t monthly_cpu_ms)
{
	if (monthly_cpu_ms == ADMISSION_UNLIMITED)
		return ADMISSION_UNLIMITED;
	if (monthly_cpu_ms > (ADMISSION_UNLIMITED - 1) / 1000u)
		return ADMISSION_UNLIMITED - 1;
	return monthly_cpu_ms * 1000u;
}

uint64_t admission_budget_adjusted(uint64_t budget, int64_t adjust_us)
{
	uint64_t magnitude;

	if (budget == ADMISSION_UNLIMITED)
		return ADMISSION_UNLIMITED;
	if (adjust_us >= 0) {
		magnitude = (uint64_t)adjust_us;
		return budget < ADMISSION_UNLIMITED - 1 - magnitude ? budget + magnitude
								    : ADMISSION_UNLIMITED - 1;
	}
	magnitude = (uint64_t)(-(adjust_us + 1)) + 1; /* no overflow at INT64_MIN */
	return budget > magnitude ? budget - magnitude : 0;
}

uint64_t admission_wall_cpu_bound(uint64_t wall_limit_us, uint64_t kill_grace_us, uint32_t cpu_millis)
{
	uint64_t wall, bound;

	if (wall_limit_us == 0 || wall_limit_us == ADMISSION_UNLIMITED || cpu_millis == 0)
		return 0;
	if (__builtin_add_overflow(wall_limit_us, kill_grace_us, &wall) ||
	    __builtin_mul_overflow(wall, (uint64_t)cpu_millis, &bound))
		return ADMISSION_UNLIMITED - 1;
	bound /= 1000u;
	return bound ? bound : 1;
}

enum admission_verdict admission_cpu_limit(const struct admission_tenant *t, uint64_t want,
					   uint64_t wall_bound, uint64_t min_cpu, uint64_t *limit)
{
	uint64_t burn, left, need, spent, grant;

	if (want == 0)
		return ADMISSION_NO_CPU;
	if (t->budget == ADMISSION_UNLIMITED) {
		*limit = want;
		return ADMISSION_START;
	}
	burn = wall_bound ? min_u64(want, wall_bound) : want;
	need = min_u64(burn, min_cpu ? min_cpu : 1);
	spent = t->used + t->reserved < t->used ? ADMISSION_UNLIMITED : t->used + t->reserved;
	left = left_after(t->budget, spent);
	if (left < need)
		return left_after(t->budget, t->used) < need ? ADMISSION_BUDGET_EXHAUSTED
							     : ADMISSION_BUDGET_RESERVED;
	if (burn == ADMISSION_UNLIMITED) {
		/* unbounded: an even share of what is left among the free slots */
		uint32_t free_slots = t->slots > t->running ? t->slots - t->running : 1;

		grant = left / free_slots;
		if (grant < need)
			grant = need;
	} else {
		grant = burn;
	}
	*limit = min_u64(grant, left);
	return ADMISSION_START;
}

int admission_format_budget(char *buf, size_t size, const char *user, const char *plan, const char *month,
			    uint64_t budget, uint64_t used, uint64_t reserved, uint32_t holders)
{
	/* the unit that fits the budget: hours from an hour, minutes under an
	 * hour (not "0.017 of 0.083 CPU hours"), seconds under a minute (0.001 h
	 * is "3.6 CPU seconds") */
	bool seconds = budget < 60000000u, minutes = !seconds && budget < 3600000000u;
	double per_us = seconds ? 1e-6 : minutes ? 1.0 / 60e6 : 1.0 / 3600e6;
	const char *unit = seconds ? "CPU seconds" : minutes ? "CPU minutes" : "CPU hours";
	int prec = 1;

	if (budget == 0)
		return snprintf(buf, size,
				"%s: suspended, no CPU time this month (monthly_cpu_hours = 0, plan %s)",
				user, plan);
	if (reserved == 0)
		return snprintf(buf, size, "%s: %.*f of %.*f %s used in %s (plan %s)", user, prec,
				used * per_us, prec, budget * per_us, unit, month, plan);
	return snprintf(buf, size,
			"%s: %.*f of %.*f %s used in %s, %.*f reserved by %u running task%s (plan %s)", user,
			prec, used * per_us, prec, budget * per_us, unit, month, prec, reserved * per_us,
			holders, holders == 1 ? "" : "s", plan);
}

const char *admission_verdict_name(enum admission_verdict verdict)
{
	switch (verdict) {
	case ADMISSION_START:
		return "none";
	case ADMISSION_NO_CPU:
	case ADMISSION_BUDGET_EXHAUSTED:
		return "budget_exhausted";
	case ADMISSION_BUDGET_RESERVED:
		return "budget_reserved";
	}
	return "unknown";
}
