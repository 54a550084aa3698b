/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_task.c — the TASK object of the wire protocol (see api.h)
 * built from a stored task, and the SUMMARY of lists (argv cut to a
 * preview).  Field names are part of the contract: never rename one; add
 * new ones at the end.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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
json_t *api_task_labels_json(const char *labels)
{
	json_t *a = json_array();
	const char *p = labels ? labels : "";

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len)
			json_array_append_new(a, json_stringn(p, len));
		p += len + (p[len] == ',');
	}
	return a;
}

static json_t *argv_value(const char *argv_json)
{
	json_t *a = argv_json ? json_loads(argv_json, 0, NULL) : NULL;

	if (json_is_array(a))
		return a;
	json_decref(a);
	return json_null();
}

/* Four hex digits; -1 if not. */
static long hex4(const char *s, const char *end)
{
	long v = 0;

	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Append code point cp as UTF-8 (a lone surrogate as U+FFFD). */
static size_t put_utf8(char *out, long cp)
{
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp = 0xFFFD;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* Bytes of a UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* A preview of a JSON array of strings that may be cut anywhere: the
 * strings up to max bytes in all (the last one cut at a character
 * boundary); *truncated when anything of the array was left out.  Reads
 * what jansson writes (escapes, \uXXXX as BMP characters, surrogate
 * pairs as U+FFFD each: only a preview). */
static json_t *argv_preview(const char *text, size_t max, bool *truncated)
{
	json_t *a = json_array();
	const char *p = text ? text : "", *end = p + strlen(p);
	char *buf = malloc(max + 4);
	size_t total = 0;

	*truncated = true;
	if (!a || !buf || *p != '[')
		goto out;
	for (p++; p < end && *p != ']';) {
		size_t n = 0;
		bool closed = false, full = false;

		if (*p == ',' || *p == ' ') {
			p++;
			continue;
		}
		if (*p != '"')
			goto out;
		for (p++; p < end;) {
			char piece[4];
			size_t len = 1;

			if (*p == '"') {
				closed = true;
				p++;
				break;
			}
			if (*p == '\\') {
				long cp;

				if (end - p < 2)
					break;
				switch (p[1]) {
				case 'n':
					piece[0] = '\n';
					break;
				case 't':
					piece[0] = '\t';
					break;
				case 'r':
					piece[0] = '\r';
					break;
				case 'b':
					piece[0] = '\b';
					break;
				case 'f':
					piece[0] = '\f';
					break;
				case 'u':
					cp = hex4(p + 2, end);
					if (cp < 0)
						goto cut;
					len = put_utf8(piece, cp);
					p += 4;
					break;
				default:
					piece[0] = p[1];
					break;
				}
				p += 2;
			} else {
				len = utf8_len((unsigned char)*p);
				if ((size_t)(end - p) < len)
					break;
				memcpy(piece, p, len);
				p += len;
			}
			if (total + n + len > max) {
				full = true;
				break;
			}
			memcpy(buf + n, piece, len);
			n += len;
		}
	cut:
		if (n || closed)
			json_array_append_new(a, json_stringn(buf, n));
		total += n;
		if (!closed || full)
			goto out;
	}
	*truncated = p >= end; /* no closing ']': the text was cut */
out:
	free(buf);
	return a ? a : json_null();
}

static char *task_object(const struct store_task *task, const struct api_pending *pending, bool summary)
{
	bool truncated = false;
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
	SET("argv",
	    summary ? argv_preview(task->argv_json, API_ARGV_PREVIEW, &truncated)
		    : argv_value(task->argv_json));
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
	SET("gpus", json_integer(task->gpus));
	SET("gpu_memory_bytes", json_integer(task->gpu_memory_bytes));
	SET("labels", api_task_labels_json(task->labels));
	SET("cpu_millis", json_integer(task->cpu_millis));
	SET("cpu_us", json_integer(task->cpu_charged_us));
	SET("cpu_user_us", json_integer(task->usage.cpu_user_us));
	SET("cpu_system_us", json_integer(task->usage.cpu_system_us));
	SET("memory_peak_bytes", json_integer(task->usage.memory_peak_bytes));
	/* a child the OOM killer took counts even when the task exited 0 */
	SET("oom_killed", json_boolean(task->usage.oom_kills > 0 || task->reason == STORE_REASON_OOM));
	SET("oom_kills", json_integer(task->usage.oom_kills));
	SET("stdout_bytes", json_integer(task->usage.stdout_bytes));
	SET("stderr_bytes", json_integer(task->usage.stderr_bytes));
	SET("stdout_truncated", json_boolean(task->usage.stdout_truncated));
	SET("stderr_truncated", json_boolean(task->usage.stderr_truncated));
	SET("attempts", json_integer(task->attempts));
	/* the node it was assigned to, runs or ran on (null on one host before it ran) */
	SET("node", string_or_null(task->node_name));
	/* why the last attempt that went back to the queue ended (retries) */
	SET("last_attempt_error", string_or_null(task->last_attempt_error));
	if (task->state == STORE_QUEUED) {
		SET("position", json_integer(pending ? pending->position : 0));
		SET("pending_reason", string_or_null(pending ? pending->reason : NULL));
		SET("pending_message", string_or_null(pending ? pending->message : NULL));
	}
	SET("argv_truncated", json_boolean(truncated));
	SET("stored_bytes", json_integer(task->stored_bytes));
#undef SET
	if (r == 0)
		text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return text;
}

char *api_task_json(const struct store_task *task, const struct api_pending *pending)
{
	return task_object(task, pending, false);
}

char *api_task_summary_json(const struct store_task *task, const struct api_pending *pending)
{
	return task_object(task, pending, true);
}
