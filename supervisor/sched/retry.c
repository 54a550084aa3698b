/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/retry.c — the retry rules of retry.h: the classification
 * of start failures (host or task) as one table of the task's own steps,
 * the requeue decision, the backoff.  Pure: no I/O, no clock.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "supervisor/sched/retry.h"

/* Steps whose failure the task's own spec causes: the same spec fails the
 * same way on any host, at any time (runner/, jailspec/ and corrald's step
 * names). */
static const char *const task_steps[] = {
	"execve",       /* its program: missing, not executable, bad format */
	"chdir",        /* its working directory does not exist in the jail */
	"spec",         /* an impossible spec (limits, paths) */
	"task",         /* its stored argv is not a list of strings */
	"policy",       /* its tenant left the policy */
	"profile_spec", /* its profile does not make a jail */
	"setrlimit",    /* its profile's rlimits are beyond the host's hard ones */
	"seccomp",      /* its profile's filter: compiled, resolved, installed */
	"seccomp_compile",
	"seccomp_resolve",
	"seccomp_rule_add",
	"seccomp_export",
};

/* Out of a resource: whatever the step, the host's (the next try may have it). */
static bool err_is_exhaustion(int err)
{
	return err == ENOMEM || err == EAGAIN || err == ENOSPC || err == ENFILE || err == EMFILE ||
		err == EIO || err == EINTR;
}

bool retry_spawn_failure_is_host(const char *step, int err)
{
	if (err_is_exhaustion(err))
		return true;
	for (size_t i = 0; step && i < sizeof(task_steps) / sizeof(task_steps[0]); i++)
		if (strcmp(step, task_steps[i]) == 0)
			return false;
	return true;
}

bool retry_should_requeue(const struct retry_case *c)
{
	uint32_t max = c->max_attempts ? c->max_attempts : 1;

	if (c->cancel_requested)
		return false;
	if (c->store_fault && !c->command_started)
		return true;
	if (c->attempts >= max)
		return false;
	if (c->command_started)
		return c->retry_lost;
	return c->host_fault;
}

uint64_t retry_backoff_us(uint32_t attempts)
{
	uint64_t us = (uint64_t)(attempts ? attempts : 1) * RETRY_BACKOFF_STEP_US;

	return us < RETRY_BACKOFF_MAX_US ? us : RETRY_BACKOFF_MAX_US;
}

uint64_t retry_case_backoff_us(const struct retry_case *c)
{
	uint32_t n = c->attempts;

	if (c->store_fault && !c->command_started)
		n = c->store_faults < UINT32_MAX - n ? n + c->store_faults : UINT32_MAX;
	return retry_backoff_us(n);
}
