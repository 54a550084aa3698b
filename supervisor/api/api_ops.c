/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_ops.c — THE description of corrald's API: every
 * operation, its request fields (and which are required), who may call it
 * and whether it changes anything.  The request codec (api.c) validates
 * requests from this table, corrald dispatches from it (corrald/ops.c), and
 * the client's command table (corral/commands.c) takes op names and the
 * fields its options may set from it.  Field meanings and replies: api.h.
 */
#include <string.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"

static const struct api_field submit_fields[] = {
	{ "argv", API_FIELD_ARGV, true },
	{ "user", API_FIELD_USER, false },
	{ "profile", API_FIELD_PROFILE, false },
	{ "env", API_FIELD_ENV, false },
	{ "clear_env", API_FIELD_CLEAR_ENV, false },
	{ "cwd", API_FIELD_CWD, false },
	{ "stdin", API_FIELD_STDIN, false },
	{ "timeout_ms", API_FIELD_TIMEOUT, false },
	{ "cpu_limit_ms", API_FIELD_CPU_LIMIT, false },
	{ "memory_bytes", API_FIELD_MEMORY, false },
	{ "no_queue", API_FIELD_NO_QUEUE, false },
	{ "gpus", API_FIELD_GPUS, false },
	{ "gpu_memory_bytes", API_FIELD_GPU_MEMORY, false },
	{ "labels", API_FIELD_LABELS, false },
	{ "cpu_millis", API_FIELD_CPUS, false },
	{ "idempotency_key", API_FIELD_IDEMPOTENCY_KEY, false },
	{ "callback_url", API_FIELD_CALLBACK_URL, false },
	{ "files", API_FIELD_FILES, false },
	{ "artifacts", API_FIELD_ARTIFACTS, false },
};
static const struct api_field id_fields[] = { { "id", API_FIELD_ID, true } };
static const struct api_field fetch_fields[] = {
	{ "id", API_FIELD_ID, true },
	{ "name", API_FIELD_NAME, true },
	{ "offset", API_FIELD_OFFSET, false },
};
static const struct api_field upload_begin_fields[] = {
	{ "size", API_FIELD_SIZE, true },
	{ "task_bytes", API_FIELD_TASK_BYTES, false },
	{ "user", API_FIELD_USER, false },
};
static const struct api_field upload_chunk_fields[] = {
	{ "upload", API_FIELD_UPLOAD, true },
	{ "offset", API_FIELD_OFFSET, true },
	{ "data_base64", API_FIELD_DATA, true },
};
static const struct api_field upload_abort_fields[] = { { "upload", API_FIELD_UPLOAD, true } };
static const struct api_field list_fields[] = {
	{ "user", API_FIELD_USER, false },      { "state", API_FIELD_STATE, false },
	{ "limit", API_FIELD_LIMIT, false },    { "after", API_FIELD_AFTER, false },
	{ "since_us", API_FIELD_SINCE, false }, { "until_us", API_FIELD_UNTIL, false },
};
static const struct api_field queue_fields[] = { { "user", API_FIELD_USER, false } };
static const struct api_field wait_fields[] = {
	{ "id", API_FIELD_ID, true },
	{ "timeout_ms", API_FIELD_TIMEOUT, false },
};
static const struct api_field logs_fields[] = {
	{ "id", API_FIELD_ID, true },          { "stream", API_FIELD_STREAM, false },
	{ "offset", API_FIELD_OFFSET, false }, { "max", API_FIELD_MAX, false },
	{ "follow", API_FIELD_FOLLOW, false },
};
static const struct api_field usage_fields[] = {
	{ "user", API_FIELD_USER, false },
	{ "month", API_FIELD_MONTH, false },
};
static const struct api_field usage_adjust_fields[] = {
	{ "user", API_FIELD_USER, true },
	{ "delta_us", API_FIELD_DELTA, false },
	{ "set_left_us", API_FIELD_SET_LEFT, false },
	{ "reason", API_FIELD_REASON, true },
};

static const struct api_field node_fields[] = { { "node", API_FIELD_NODE, true } };
static const struct api_field token_create_fields[] = {
	{ "user", API_FIELD_USER, true },
	{ "name", API_FIELD_TOKEN_NAME, false },
	{ "operator", API_FIELD_OPERATOR, false },
	{ "expires_ms", API_FIELD_EXPIRES, false },
};

static const struct api_field tenant_set_fields[] = {
	{ "user", API_FIELD_USER, true },
	{ "plan", API_FIELD_PLAN, true },
	{ "max_concurrent", API_FIELD_MAX_CONCURRENT, false },
};
static const struct api_field tenant_fields[] = { { "user", API_FIELD_USER, true } };
static const struct api_field policy_push_fields[] = {
	{ "text", API_FIELD_POLICY_TEXT, true },
	{ "file", API_FIELD_POLICY_FILE, false },
};

#define FIELDS(a) a, ELEMENTSOF(a)
#define NO_FIELDS NULL, 0

/* In enum api_op order; the order is also the one "unknown op" lists. */
static const struct api_op_info ops[API_OP_COUNT] = {
	[API_OP_PING] = { API_OP_PING, "ping", NO_FIELDS, API_ACCESS_USER, false,
			  "check that corrald answers" },
	[API_OP_VERSION] = { API_OP_VERSION, "version", NO_FIELDS, API_ACCESS_USER, false,
			     "say corrald's version" },
	[API_OP_SUBMIT] = { API_OP_SUBMIT, "submit", FIELDS(submit_fields), API_ACCESS_USER, true,
			    "queue a task" },
	[API_OP_STATUS] = { API_OP_STATUS, "status", FIELDS(id_fields), API_ACCESS_USER, false,
			    "show a task" },
	[API_OP_LIST] = { API_OP_LIST, "list", FIELDS(list_fields), API_ACCESS_USER, false, "list tasks" },
	[API_OP_QUEUE] = { API_OP_QUEUE, "queue", FIELDS(queue_fields), API_ACCESS_USER, false,
			   "show the queue" },
	[API_OP_CANCEL] = { API_OP_CANCEL, "cancel", FIELDS(id_fields), API_ACCESS_USER, true,
			    "cancel a task" },
	[API_OP_WAIT] = { API_OP_WAIT, "wait", FIELDS(wait_fields), API_ACCESS_USER, false,
			  "wait for a task to end" },
	[API_OP_LOGS] = { API_OP_LOGS, "logs", FIELDS(logs_fields), API_ACCESS_USER, false,
			  "read a task's output" },
	[API_OP_USAGE] = { API_OP_USAGE, "usage", FIELDS(usage_fields), API_ACCESS_USER, false,
			   "show CPU usage and budgets" },
	[API_OP_POLICY_RELOAD] = { API_OP_POLICY_RELOAD, "policy_reload", NO_FIELDS, API_ACCESS_OPERATOR,
				   true, "reload the policy" },
	[API_OP_USAGE_ADJUST] = { API_OP_USAGE_ADJUST, "usage_adjust", FIELDS(usage_adjust_fields),
				  API_ACCESS_OPERATOR, true, "adjust a tenant's CPU budget" },
	[API_OP_NODES] = { API_OP_NODES, "nodes", NO_FIELDS, API_ACCESS_USER, false,
			   "list the nodes and their capacity" },
	[API_OP_NODE_DRAIN] = { API_OP_NODE_DRAIN, "node_drain", FIELDS(node_fields), API_ACCESS_OPERATOR,
				true, "drain a node (it starts nothing new)" },
	[API_OP_NODE_UNDRAIN] = { API_OP_NODE_UNDRAIN, "node_undrain", FIELDS(node_fields),
				  API_ACCESS_OPERATOR, true, "undrain a node" },
	[API_OP_TOKEN_CREATE] = { API_OP_TOKEN_CREATE, "token_create", FIELDS(token_create_fields),
				  API_ACCESS_OPERATOR, true, "create API tokens" },
	[API_OP_TOKEN_LIST] = { API_OP_TOKEN_LIST, "token_list", NO_FIELDS, API_ACCESS_OPERATOR, false,
				"list API tokens" },
	[API_OP_TOKEN_REVOKE] = { API_OP_TOKEN_REVOKE, "token_revoke", FIELDS(id_fields), API_ACCESS_OPERATOR,
				  true, "revoke API tokens" },
	[API_OP_TENANT_SET] = { API_OP_TENANT_SET, "tenant_set", FIELDS(tenant_set_fields),
				API_ACCESS_OPERATOR, true, "set tenant records" },
	[API_OP_TENANT_SHOW] = { API_OP_TENANT_SHOW, "tenant_show", FIELDS(tenant_fields),
				 API_ACCESS_OPERATOR, false, "show tenant records" },
	[API_OP_TENANT_LIST] = { API_OP_TENANT_LIST, "tenant_list", NO_FIELDS, API_ACCESS_OPERATOR, false,
				 "list tenant records" },
	[API_OP_TENANT_DELETE] = { API_OP_TENANT_DELETE, "tenant_delete", FIELDS(tenant_fields),
				   API_ACCESS_OPERATOR, true, "delete tenant records" },
	[API_OP_POLICY_PUSH] = { API_OP_POLICY_PUSH, "policy_push", FIELDS(policy_push_fields),
				 API_ACCESS_OPERATOR, true, "push the cluster's policy" },
	[API_OP_POLICY_CURRENT] = { API_OP_POLICY_CURRENT, "policy_current", NO_FIELDS, API_ACCESS_OPERATOR,
				    false, "show the cluster's policy" },
	[API_OP_ARTIFACTS] = { API_OP_ARTIFACTS, "artifacts", FIELDS(id_fields), API_ACCESS_USER, false,
			       "list a task's artifacts" },
	[API_OP_FETCH] = { API_OP_FETCH, "fetch", FIELDS(fetch_fields), API_ACCESS_USER, false,
			   "download a task's artifact" },
	[API_OP_UPLOAD_BEGIN] = { API_OP_UPLOAD_BEGIN, "upload_begin", FIELDS(upload_begin_fields),
				  API_ACCESS_USER, true, "stage an input file" },
	[API_OP_UPLOAD_CHUNK] = { API_OP_UPLOAD_CHUNK, "upload_chunk", FIELDS(upload_chunk_fields),
				  API_ACCESS_USER, true, "send an input file's chunks" },
	[API_OP_UPLOAD_ABORT] = { API_OP_UPLOAD_ABORT, "upload_abort", FIELDS(upload_abort_fields),
				  API_ACCESS_USER, true, "abandon a staged input file" },
};

const struct api_op_info *api_ops_get(enum api_op op)
{
	return (unsigned)op < API_OP_COUNT ? &ops[op] : NULL;
}

const struct api_op_info *api_ops_find(const char *name)
{
	for (size_t i = 0; name && i < API_OP_COUNT; i++)
		if (strcmp(name, ops[i].name) == 0)
			return &ops[i];
	return NULL;
}

const struct api_field *api_ops_field(const struct api_op_info *op, const char *name)
{
	for (size_t i = 0; op && name && i < op->n_fields; i++)
		if (strcmp(op->fields[i].name, name) == 0)
			return &op->fields[i];
	return NULL;
}
