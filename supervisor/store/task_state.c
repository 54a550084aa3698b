/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/task_state.c — the stored names of task states and
 * reasons, and the allowed moves between states as one table (see
 * task_state.h).  Backends consult the table; they do not restate it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "supervisor/store/task_state.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[] = {
	[STORE_QUEUED] = "queued", [STORE_RUNNING] = "running",     [STORE_SUCCEEDED] = "succeeded",
	[STORE_FAILED] = "failed", [STORE_CANCELLED] = "cancelled",
};

static const char *const reason_names[] = {
	[STORE_REASON_NONE] = "",
	[STORE_REASON_EXIT_CODE] = "exit_code",
	[STORE_REASON_SIGNAL] = "signal",
	[STORE_REASON_TIMEOUT] = "timeout",
	[STORE_REASON_OOM] = "oom",
	[STORE_REASON_CPU_LIMIT] = "cpu_limit",
	[STORE_REASON_BUDGET] = "budget",
	[STORE_REASON_OUTPUT_LIMIT] = "output_limit",
	[STORE_REASON_CANCELLED] = "cancelled",
	[STORE_REASON_SPAWN_ERROR] = "spawn_error",
	[STORE_REASON_SUPERVISOR_LOST] = "supervisor_lost",
	[STORE_REASON_SHUTDOWN] = "shutdown",
};

/* Every allowed move; anything not listed is refused. */
static const struct {
	enum store_task_state from, to;
} moves[] = {
	{ STORE_QUEUED, STORE_RUNNING },   /* dispatched */
	{ STORE_QUEUED, STORE_CANCELLED }, /* cancelled before it started */
	{ STORE_QUEUED, STORE_FAILED },    /* could not be started at all */
	{ STORE_RUNNING, STORE_SUCCEEDED },
	{ STORE_RUNNING, STORE_FAILED },
	{ STORE_RUNNING, STORE_CANCELLED },
	{ STORE_RUNNING, STORE_QUEUED }, /* retry: its command never started */
};

const char *task_state_name(enum store_task_state state)
{
	return (unsigned)state < COUNT_OF(state_names) ? state_names[state] : NULL;
}

const char *task_state_reason_name(enum store_task_reason reason)
{
	return (unsigned)reason < COUNT_OF(reason_names) ? reason_names[reason] : NULL;
}

int task_state_parse(const char *name, enum store_task_state *out)
{
	for (size_t i = 0; name && i < COUNT_OF(state_names); i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum store_task_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

int task_state_reason_parse(const char *name, enum store_task_reason *out)
{
	for (size_t i = 0; name && i < COUNT_OF(reason_names); i++) {
		if (strcmp(name, reason_names[i]) == 0) {
			*out = (enum store_task_reason)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool task_state_can_move(enum store_task_state from, enum store_task_state to)
{
	for (size_t i = 0; i < COUNT_OF(moves); i++)
		if (moves[i].from == from && moves[i].to == to)
			return true;
	return false;
}

bool task_state_is_terminal(enum store_task_state state)
{
	return state == STORE_SUCCEEDED || state == STORE_FAILED || state == STORE_CANCELLED;
}
