/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_task.c — the TASK object of the wire protocol (see api.h)
 * built from a stored task.  Field names are part of the contract: never
 * rename one; add new ones at the end.
 */
#include <jansson.h>
#include <stdlib.h>

#include "supervisor/api/api.h"
#include "supervisor/store/store.h"

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Store's "none" (-1) is null on the wire. */
static json_t *int_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* The stored argv (a JSON array of strings), or null if unreadable. */
static json_t *argv_value(const char *argv_json)
{
	json_t *a = argv_json ? json_loads(argv_json, 0, NULL) : NULL;

	if (json_is_array(a))
		return a;
	json_decref(a);
	return json_null();
}

char *api_task_json(const struct store_task *task, const struct api_pending *pending)
{
	const char *reason = task_state_reason_name(task->reason);
	json_t *obj;
	char *text = NULL;
	int r = 0;

	if (reason && !reason[0])
		reason = NULL; /* STORE_REASON_NONE */
	obj = json_object();
	if (!obj)
		return NULL;
#define SET(key, value) (r |= json_object_set_new(obj, key, value))
	SET("id", json_integer(task->id));
	SET("user", string_or_null(task->user));
	SET("profile", string_or_null(task->profile));
	SET("argv", argv_value(task->argv_json));
	SET("state", string_or_null(task_state_name(task->state)));
	SET("reason", string_or_null(reason));
	SET("message", string_or_null(task->message));
	SET("exit_code", int_or_null(task->usage.exit_code));
	SET("signal", int_or_null(task->usage.signal));
	SET("submitted_at_us", json_integer(task->submitted_at_us));
	SET("started_at_us", json_integer(task->started_at_us));
	SET("ended_at_us", json_integer(task->ended_at_us));
	SET("timeout_ms", json_integer(task->wall_limit_ms));
	SET("cpu_limit_ms", json_integer(task->cpu_limit_us / 1000));
	SET("memory_bytes", json_integer(task->memory_limit_bytes));
	SET("cpu_us", json_integer(task->cpu_charged_us));
	SET("cpu_user_us", json_integer(task->usage.cpu_user_us));
	SET("cpu_system_us", json_integer(task->usage.cpu_system_us));
	SET("memory_peak_bytes", json_integer(task->usage.memory_peak_bytes));
	SET("stdout_bytes", json_integer(task->usage.stdout_bytes));
	SET("stderr_bytes", json_integer(task->usage.stderr_bytes));
	SET("stdout_truncated", json_boolean(task->usage.stdout_truncated));
	SET("stderr_truncated", json_boolean(task->usage.stderr_truncated));
	SET("attempts", json_integer(task->attempts));
	/* why the last attempt that went back to the queue ended (retries) */
	SET("last_attempt_error", string_or_null(task->last_attempt_error));
	if (task->state == STORE_QUEUED) {
		SET("position", json_integer(pending ? pending->position : 0));
		SET("pending_reason", string_or_null(pending ? pending->reason : NULL));
		SET("pending_message", string_or_null(pending ? pending->message : NULL));
	}
#undef SET
	if (r == 0)
		text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return text;
}
