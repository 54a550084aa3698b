/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/task_state.h — a task's states and end reasons: the
 * names they are stored and shown under, and the moves a task may make
 * between states, kept as data in task_state.c.  Every store backend checks
 * a state change against task_state_can_move() before writing it, and the
 * unit tests check the table itself.  Pure: no I/O, no store.
 *
 *   queued  -> running                        dispatched
 *   queued  -> cancelled                      cancelled before it started
 *   queued  -> failed                         could not be started at all
 *   running -> succeeded | failed | cancelled  its end
 *   running -> queued                         a retry: its command never started
 *
 * succeeded, failed and cancelled are terminal: nothing leaves them.
 */
#ifndef CORRAL_SUPERVISOR_STORE_TASK_STATE_H
#define CORRAL_SUPERVISOR_STORE_TASK_STATE_H

#include <stdbool.h>

enum store_task_state {
	STORE_QUEUED,
	STORE_RUNNING,
	STORE_SUCCEEDED,
	STORE_FAILED,
	STORE_CANCELLED,
};

enum store_task_reason {
	STORE_REASON_NONE, /* not ended yet */
	STORE_REASON_EXIT_CODE,
	STORE_REASON_SIGNAL,
	STORE_REASON_TIMEOUT,
	STORE_REASON_OOM,
	STORE_REASON_CPU_LIMIT,
	STORE_REASON_BUDGET,
	STORE_REASON_OUTPUT_LIMIT,
	STORE_REASON_CANCELLED,
	STORE_REASON_SPAWN_ERROR,
	STORE_REASON_SUPERVISOR_LOST,
	STORE_REASON_SHUTDOWN,
};

/* Names as stored and shown ("queued", "oom"); NULL for an unknown value. */
const char *task_state_name(enum store_task_state state);
const char *task_state_reason_name(enum store_task_reason reason);
/* Name -> value; -EINVAL for an unknown name. */
int task_state_parse(const char *name, enum store_task_state *out);
int task_state_reason_parse(const char *name, enum store_task_reason *out);

/* True when a task may move from one state to the other (see the table
 * above); false for every other pair, an unknown value, and from == to. */
bool task_state_can_move(enum store_task_state from, enum store_task_state to);
/* succeeded, failed or cancelled. */
bool task_state_is_terminal(enum store_task_state state);

#endif
