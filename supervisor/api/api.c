/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api.c — the wire protocol codec: error and op names,
 * building request lines (client side) and response lines.  Pure: no I/O,
 * no clock.  Strict parsing of request lines into struct api_request is in
 * api_request.c; base64 for log chunks in api_base64.c.
 * TASK objects are built in api_task.c; the socket and event loop live in
 * corrald, the client's socket I/O in corral/connection.c.  The ops and
 * their fields: api_ops.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"

static const char *const error_names[] = {
	[API_ERR_NONE] = NULL,
	[API_ERR_BAD_REQUEST] = "bad_request",
	[API_ERR_UNKNOWN_OP] = "unknown_op",
	[API_ERR_TOO_LARGE] = "too_large",
	[API_ERR_UNKNOWN_USER] = "unknown_user",
	[API_ERR_FORBIDDEN] = "forbidden",
	[API_ERR_NOT_FOUND] = "not_found",
	[API_ERR_UNKNOWN_PROFILE] = "unknown_profile",
	[API_ERR_LIMIT_EXCEEDED] = "limit_exceeded",
	[API_ERR_CONCURRENCY_LIMIT] = "concurrency_limit",
	[API_ERR_BUDGET_EXHAUSTED] = "budget_exhausted",
	[API_ERR_QUEUE_FULL] = "queue_full",
	[API_ERR_WAIT_TIMEOUT] = "wait_timeout",
	[API_ERR_SHUTTING_DOWN] = "shutting_down",
	[API_ERR_STORAGE_FULL] = "storage_full",
	[API_ERR_INTERNAL] = "internal",
	[API_ERR_HOST_CAPACITY] = "host_capacity",
	[API_ERR_POLICY_INVALID] = "policy_invalid",
	[API_ERR_BUDGET_RESERVED] = "budget_reserved",
	[API_ERR_STORAGE_QUOTA] = "storage_quota",
	[API_ERR_NOT_CLUSTERED] = "not_clustered",
	[API_ERR_BAD_INPUT] = "bad_input",
};

const char *api_error_name(enum api_error_code code)
{
	return (unsigned)code < ELEMENTSOF(error_names) ? error_names[code] : NULL;
}

int api_error_parse(const char *name, enum api_error_code *out)
{
	for (size_t i = 1; name && i < ELEMENTSOF(error_names); i++) {
		if (strcmp(name, error_names[i]) == 0) {
			*out = (enum api_error_code)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *api_op_name(enum api_op op)
{
	const struct api_op_info *info = api_ops_get(op);

	return info ? info->name : NULL;
}

int api_op_parse(const char *name, enum api_op *out)
{
	const struct api_op_info *info = api_ops_find(name);

	if (!info)
		return -EINVAL;
	*out = info->op;
	return 0;
}

/* ---- building lines ----------------------------------------------------- */

static char *dump_line(json_t *obj, bool newline)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;
	char *line;

	if (!text || !newline)
		return text;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

/* Merge the members of object text body into obj, skipping reserved keys. */
static int merge_body(json_t *obj, const char *body_json, const char *const *reserved)
{
	json_t *body, *v;
	const char *key;
	int r = 0;

	if (!body_json)
		return 0;
	body = json_loads(body_json, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return -EINVAL;
	}
	json_object_foreach (body, key, v) {
		bool skip = false;

		for (size_t i = 0; reserved[i]; i++)
			skip |= strcmp(key, reserved[i]) == 0;
		if (!skip && json_object_set(obj, key, v) < 0)
			r = -ENOMEM;
	}
	json_decref(body);
	return r;
}

char *api_request_build(enum api_op op, const char *fields_json)
{
	static const char *const reserved[] = { "op", NULL };
	const char *name = api_op_name(op);
	json_t *obj;
	char *line = NULL;

	if (!name)
		return NULL;
	obj = json_pack("{s:s}", "op", name);
	if (obj && merge_body(obj, fields_json, reserved) == 0)
		line = dump_line(obj, false);
	json_decref(obj);
	return line;
}

/* {"ok": ok, "tag": tag}, with the tag left out if absent or unreadable. */
static json_t *response_head(bool ok, const char *tag_json)
{
	json_t *obj = json_pack("{s:b}", "ok", ok);
	json_t *tag;

	if (obj && tag_json) {
		tag = json_loads(tag_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (tag)
			json_object_set_new(obj, "tag", tag);
	}
	return obj;
}

char *api_response_ok(const char *tag_json, const char *body_json)
{
	static const char *const reserved[] = { "ok", "tag", NULL };
	json_t *obj = response_head(true, tag_json);
	char *line = NULL;

	if (obj && merge_body(obj, body_json, reserved) == 0)
		line = dump_line(obj, true);
	json_decref(obj);
	return line;
}

char *api_response_error(const char *tag_json, enum api_error_code code, const char *message)
{
	const char *name = api_error_name(code) ? api_error_name(code) : "internal";
	json_t *obj = response_head(false, tag_json);
	json_t *err = json_pack("{s:s,s:s}", "code", name, "message", message ? message : name);
	char *line = NULL;

	if (obj && err && json_object_set(obj, "error", err) == 0)
		line = dump_line(obj, true);
	json_decref(err);
	json_decref(obj);
	return line;
}
