/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/task_watch.c — corrald's running tasks once started:
 * the pidfd event (start report, then the end), CPU polling from the cgroup
 * charged exactly once through the store's cursor, CPU limits and budgets,
 * wall-clock deadlines (SIGTERM, grace, cgroup.kill) and cancel.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"

void task_watch_pidfd_ready(struct daemon *d, struct dtask *t)
{
	if (t->starting)
		task_start_reported(d, t);
	else
		task_end(d, t);
}

/* Charge what the cgroup measured beyond the cursor, in one transaction. */
static void charge(struct daemon *d, struct dtask *t, uint64_t usage_us)
{
	struct error err;
	char month[8];
	uint64_t now = daemon_now_us(d);

	if (usage_us <= t->charged_us)
		return;
	daemon_month(d, now, month);
	if (store_charge(d->store, t->id, (int64_t)t->charged_us, (int64_t)usage_us, month, (int64_t)now,
			 &err) < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "charge CPU: %s", err.message);
		return;
	}
	metrics_cpu_charged(d, t->user->name, usage_us - t->charged_us);
	if (strcmp(month, t->user->month) == 0)
		t->user->used_us += usage_us - t->charged_us;
	else
		t->user->month[0] = '\0';
	t->charged_us = usage_us;
}

void task_watch_poll(struct daemon *d)
{
	uint64_t mono = daemon_mono_us(), poll_us = d->cfg->poll_interval_ms * 1000u;
	bool full = mono >= d->next_poll_mono_us;

	if (full && d->unfinished)
		task_end_retry_unfinished(d);
	if (full && d->requeues_held)
		task_requeue_retry_held(d);
	for (struct dtask *t = d->running; t; t = t->next) {
		struct jail_cpu cpu;
		uint64_t rate, wait;

		if (!full && mono < t->next_check_mono_us)
			continue;
		if (t->starting || jail_cpu_usage(t->jail, &cpu) < 0) {
			/* look again a little later, not at once: a start that
			 * takes longer than one check must not make the loop spin
			 * (its timer fired every ~65 us until the start report) */
			t->next_check_mono_us = mono + CPU_CHECK_MIN_US;
			continue;
		}
		/* the cursor counts every attempt; the limits this one */
		charge(d, t, cpu.usage_us + t->cpu_prior_us);
		t->next_check_mono_us = mono + poll_us;
		if (t->cpu_limit_us == LIMIT_NONE || t->why != END_NONE)
			continue;
		/* the soonest the limit can be reached, at every CPU of the host */
		rate = (uint64_t)(sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1);
		/* a budget is the month's, not the task's: a budget-capped task
		 * that could reach it before the soonest next look stops now, a
		 * few ms of CPU early, rather than overrun it by that much */
		if (cpu.usage_us >= t->cpu_limit_us ||
		    (t->budget_capped && t->cpu_limit_us - cpu.usage_us < rate * CPU_CHECK_MIN_US)) {
			t->why = t->budget_capped ? END_BUDGET : END_CPU_LIMIT;
			log_task(LOG_LEVEL_INFO, t->id, "%s reached; killing it",
				 t->budget_capped ? "budget" : "CPU limit");
			jail_kill(t->jail, JAIL_CPU_LIMIT);
			continue;
		}
		wait = (t->cpu_limit_us - cpu.usage_us) / rate;
		if (wait < CPU_CHECK_MIN_US)
			wait = CPU_CHECK_MIN_US;
		if (wait < poll_us)
			t->next_check_mono_us = mono + wait;
	}
	if (full)
		d->next_poll_mono_us = mono + poll_us;
}

void task_watch_deadlines(struct daemon *d)
{
	uint64_t mono = daemon_mono_us();

	for (struct dtask *t = d->running; t; t = t->next) {
		if (t->deadline_mono_us && mono >= t->deadline_mono_us) {
			t->deadline_mono_us = 0;
			if (t->why == END_NONE)
				t->why = END_TIMEOUT;
			log_task(LOG_LEVEL_INFO, t->id,
				 "wall-clock limit reached; SIGTERM, then kill after %llu ms",
				 (unsigned long long)d->cfg->kill_grace_ms);
			if (t->starting)
				continue; /* killed once its start is reported */
			if (d->cfg->kill_grace_ms == 0 || jail_signal(t->jail, SIGTERM) < 0)
				jail_kill(t->jail, JAIL_TIMEOUT);
			else
				t->kill_at_mono_us = mono + d->cfg->kill_grace_ms * 1000u;
		}
		if (t->kill_at_mono_us && mono >= t->kill_at_mono_us) {
			t->kill_at_mono_us = 0;
			jail_kill(t->jail, JAIL_TIMEOUT);
		}
	}
}

uint64_t task_watch_next_event_mono_us(struct daemon *d)
{
	uint64_t next = d->running || d->waiters || d->unfinished || d->requeues_held ? d->next_poll_mono_us
										      : 0;

	for (struct dtask *t = d->running; t; t = t->next) {
		uint64_t at[3] = { t->deadline_mono_us, t->kill_at_mono_us,
				   t->cpu_limit_us != LIMIT_NONE ? t->next_check_mono_us : 0 };

		for (int i = 0; i < 3; i++)
			if (at[i] && (next == 0 || at[i] < next))
				next = at[i];
	}
	return next;
}

void task_watch_cancel(struct daemon *d, struct dtask *t, const char *by)
{
	(void)d;
	if (t->why == END_NONE || t->why == END_TIMEOUT) {
		t->why = END_CANCEL;
		free(t->cancelled_by);
		t->cancelled_by = strdup(by);
	}
	jail_kill(t->jail, JAIL_KILLED);
}
