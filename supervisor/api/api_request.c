/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_request.c — strict parsing of request lines into
 * struct api_request (api_request_parse, api_request_free): every field of
 * the op checked for its type and bounds as api_ops.c's table says, unknown
 * ops and fields refused with the wire error code.  Pure: no I/O, no clock.
 * Building request and response lines, error and op names: api.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"
#include "supervisor/common/error.h"
#include "supervisor/common/macros.h"
#include "supervisor/store/store.h"

/* Upper bounds that catch a typo or an overflow before the plan check does. */
#define API_MAX_DURATION_MS (366ull * 24 * 3600 * 1000) /* a year */
#define API_MAX_MEMORY_BYTES (1ull << 50)               /* 1 PiB */
#define API_MAX_OFFSET ((uint64_t)INT64_MAX)

/* Parse state: where the error goes, and the step under way (err->step). */
struct parse_ctx {
	struct api_request *req;
	enum api_error_code *code;
	struct error *err;
	const char *step;
};

/* The wire code in *code, the message in err (no errno text: the message is
 * the whole answer a client sees); always -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct parse_ctx *ctx, enum api_error_code code,
						      const char *fmt, ...)
{
	va_list ap;

	*ctx->code = code;
	va_start(ap, fmt);
	error_setv(ctx->err, 0, ctx->step, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A JSON string without embedded NUL; its value through *out. */
static int get_text(struct parse_ctx *ctx, const char *name, json_t *v, bool allow_empty, const char **out)
{
	if (!json_is_string(v))
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be a string", name);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must not contain NUL characters", name);
	if (!allow_empty && json_string_length(v) == 0)
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must not be empty", name);
	*out = json_string_value(v);
	return 0;
}

static int get_uint(struct parse_ctx *ctx, const char *name, json_t *v, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	json_int_t n;

	if (!json_is_integer(v))
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be an integer", name);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return fail(ctx, API_ERR_BAD_REQUEST,
			    "field '%s' must be between %" PRIu64 " and %" PRIu64 " (got %lld)", name, min,
			    max, (long long)n);
	*out = (uint64_t)n;
	return 0;
}

/* A positive id (1..INT64_MAX). */
static int get_id(struct parse_ctx *ctx, const char *name, json_t *v, int64_t *out)
{
	uint64_t n = 0;
	int r = get_uint(ctx, name, v, 1, (uint64_t)INT64_MAX, &n);

	*out = (int64_t)n;
	return r;
}

static int get_bool(struct parse_ctx *ctx, const char *name, json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* An array of NUL-free strings, copied into a NULL-terminated vector:
 * at most max_count of them, max_total bytes together (too_large). */
static int get_strings(struct parse_ctx *ctx, const char *name, json_t *v, size_t max_count, size_t max_total,
		       char ***out, size_t *count)
{
	size_t n, i, total = 0;
	char **vec;

	if (!json_is_array(v))
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be an array of strings", name);
	n = json_array_size(v);
	if (n > max_count)
		return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' has %zu entries (at most %zu)", name, n,
			    max_count);
	for (i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);

		if (!json_is_string(s))
			return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be an array of strings", name);
		if (strlen(json_string_value(s)) != json_string_length(s))
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field '%s' entry %zu must not contain NUL characters", name, i);
		if (json_string_length(s) >= API_MAX_ARG_BYTES)
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field '%s' entry %zu is %zu bytes long (at most %u)", name, i,
				    json_string_length(s), API_MAX_ARG_BYTES - 1);
		total += json_string_length(s);
	}
	if (total > max_total)
		return fail(ctx, API_ERR_TOO_LARGE,
			    "field '%s' holds %zu bytes in all (at most %zu: pass large data as stdin)", name,
			    total, max_total);
	vec = calloc(n + 1, sizeof(*vec));
	if (!vec)
		return fail(ctx, API_ERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		vec[i] = strdup(json_string_value(json_array_get(v, i)));
		if (!vec[i]) {
			while (i--)
				free(vec[i]);
			free(vec);
			return fail(ctx, API_ERR_INTERNAL, "out of memory");
		}
	}
	*out = vec;
	*count = n;
	return 0;
}

static int check_month(struct parse_ctx *ctx, const char *m)
{
	int month;

	for (int i = 0; i < 7; i++) {
		if (i == 4 ? m[i] != '-' : (m[i] < '0' || m[i] > '9'))
			goto bad;
	}
	if (m[7] != '\0')
		goto bad;
	month = (m[5] - '0') * 10 + (m[6] - '0');
	if (month >= 1 && month <= 12 && strncmp(m, "1970", 4) >= 0)
		return 0;
bad:
	return fail(ctx, API_ERR_BAD_REQUEST, "field 'month' must be YYYY-MM (got '%s')", m);
}

static int parse_field(struct parse_ctx *ctx, const struct api_field *f, json_t *v)
{
	struct api_request *req = ctx->req;
	enum store_task_state state;
	int r;

	switch (f->kind) {
	case API_FIELD_ARGV:
		r = get_strings(ctx, f->name, v, API_MAX_ARGS, API_MAX_ARGV_TOTAL, &req->argv, &req->argc);
		if (r == 0 && req->argc == 0)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'argv' must not be empty");
		if (r == 0 && req->argv[0][0] == '\0')
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'argv': the command must not be empty");
		return r;
	case API_FIELD_ENV:
		r = get_strings(ctx, f->name, v, API_MAX_ENV, API_MAX_ENV_TOTAL, &req->env, &req->envc);
		for (size_t i = 0; r == 0 && i < req->envc; i++) {
			const char *eq = strchr(req->env[i], '=');

			if (!eq || eq == req->env[i])
				return fail(ctx, API_ERR_BAD_REQUEST,
					    "field 'env' entry %zu must be NAME=VALUE (got '%.64s')", i,
					    req->env[i]);
		}
		return r;
	case API_FIELD_USER:
		return get_text(ctx, f->name, v, false, &req->user);
	case API_FIELD_PROFILE:
		return get_text(ctx, f->name, v, false, &req->profile);
	case API_FIELD_CWD:
		return get_text(ctx, f->name, v, false, &req->cwd);
	case API_FIELD_STDIN:
		if (!json_is_string(v))
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'stdin' must be a string");
		if (json_string_length(v) > API_MAX_STDIN)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'stdin' is %zu bytes long (at most %u)",
				    json_string_length(v), API_MAX_STDIN);
		req->stdin_len = json_string_length(v);
		req->stdin_data = malloc(req->stdin_len + 1);
		if (!req->stdin_data)
			return fail(ctx, API_ERR_INTERNAL, "out of memory");
		memcpy(req->stdin_data, json_string_value(v), req->stdin_len + 1);
		req->has_stdin = true;
		return 0;
	case API_FIELD_TIMEOUT:
		req->has_timeout = true;
		/* wait may poll (0); a task needs at least a millisecond */
		return get_uint(ctx, f->name, v, req->op == API_OP_WAIT ? 0 : 1, API_MAX_DURATION_MS,
				&req->timeout_ms);
	case API_FIELD_CPU_LIMIT:
		req->has_cpu_limit = true;
		return get_uint(ctx, f->name, v, 1, API_MAX_DURATION_MS, &req->cpu_limit_ms);
	case API_FIELD_MEMORY:
		req->has_memory = true;
		return get_uint(ctx, f->name, v, 1, API_MAX_MEMORY_BYTES, &req->memory_bytes);
	case API_FIELD_NO_QUEUE:
		return get_bool(ctx, f->name, v, &req->no_queue);
	case API_FIELD_FOLLOW:
		return get_bool(ctx, f->name, v, &req->follow);
	case API_FIELD_CLEAR_ENV:
		return get_bool(ctx, f->name, v, &req->clear_env);
	case API_FIELD_ID: {
		uint64_t id;

		if (json_is_integer(v) && json_integer_value(v) <= 0)
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'id' must be a positive integer (got %lld)",
				    (long long)json_integer_value(v));
		r = get_uint(ctx, f->name, v, 1, (uint64_t)INT64_MAX, &id);
		req->id = (int64_t)id;
		req->has_id = r == 0;
		return r;
	}
	case API_FIELD_STATE:
		r = get_text(ctx, f->name, v, false, &req->state);
		if (r == 0 && task_state_parse(req->state, &state) < 0)
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'state' must be one of queued, running, succeeded, "
				    "failed, cancelled (got '%.64s')",
				    req->state);
		return r;
	case API_FIELD_LIMIT:
		return get_uint(ctx, f->name, v, 1, API_MAX_LIST_LIMIT, &req->limit);
	case API_FIELD_AFTER:
		return get_id(ctx, f->name, v, &req->after);
	case API_FIELD_SINCE:
	case API_FIELD_UNTIL: {
		uint64_t at;

		r = get_uint(ctx, f->name, v, 1, (uint64_t)INT64_MAX, &at);
		*(f->kind == API_FIELD_SINCE ? &req->since_us : &req->until_us) = (int64_t)at;
		return r;
	}
	case API_FIELD_STREAM:
		r = get_text(ctx, f->name, v, false, &req->stream);
		if (r == 0 && strcmp(req->stream, "stdout") != 0 && strcmp(req->stream, "stderr") != 0)
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'stream' must be \"stdout\" or \"stderr\" (got '%.64s')",
				    req->stream);
		return r;
	case API_FIELD_OFFSET:
		return get_uint(ctx, f->name, v, 0, API_MAX_OFFSET, &req->offset);
	case API_FIELD_MAX:
		return get_uint(ctx, f->name, v, 1, API_MAX_LOG_CHUNK, &req->max);
	case API_FIELD_MONTH:
		r = get_text(ctx, f->name, v, false, &req->month);
		return r == 0 ? check_month(ctx, req->month) : r;
	case API_FIELD_DELTA:
		if (!json_is_integer(v) || json_integer_value(v) == 0 ||
		    json_integer_value(v) > API_MAX_ADJUST_US || json_integer_value(v) < -API_MAX_ADJUST_US)
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field '%s' must be a non-zero integer of at most 10^6 hours "
				    "(%lld us) either way",
				    f->name, (long long)API_MAX_ADJUST_US);
		req->delta_us = (int64_t)json_integer_value(v);
		req->has_delta = true;
		return 0;
	case API_FIELD_SET_LEFT:
		req->has_set_left = true;
		return get_uint(ctx, f->name, v, 0, (uint64_t)API_MAX_ADJUST_US, &req->set_left_us);
	case API_FIELD_GPUS:
		return get_uint(ctx, f->name, v, 0, API_MAX_GPUS, &req->gpus);
	case API_FIELD_CPUS:
		return get_uint(ctx, f->name, v, API_MIN_CPU_MILLIS, API_MAX_CPU_MILLIS, &req->cpu_millis);
	case API_FIELD_GPU_MEMORY:
		return get_uint(ctx, f->name, v, 0, API_MAX_MEMORY_BYTES, &req->gpu_memory_bytes);
	case API_FIELD_LABELS:
		r = get_strings(ctx, f->name, v, API_MAX_LABELS, API_MAX_LABELS * 64, &req->labels,
				&req->n_labels);
		for (size_t i = 0; r == 0 && i < req->n_labels; i++) {
			const char *l = req->labels[i];
			size_t n = strlen(l);

			if (n == 0 || n > 63 || l[0] == '-' || l[0] == '.' ||
			    strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
				    n)
				return fail(
					ctx, API_ERR_BAD_REQUEST,
					"field 'labels' entry %zu is not a label (1-63 letters, digits, . _ -)",
					i);
		}
		return r;
	case API_FIELD_NODE:
		r = get_text(ctx, f->name, v, false, &req->node);
		if (r == 0 && (!req->node[0] || strlen(req->node) > 63))
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'node' must be a node name of 1-63 bytes");
		return r;
	case API_FIELD_IDEMPOTENCY_KEY:
		r = get_text(ctx, f->name, v, false, &req->idempotency_key);
		if (r == 0 &&
		    (!req->idempotency_key[0] || strlen(req->idempotency_key) > API_MAX_IDEMPOTENCY_KEY))
			return fail(ctx, API_ERR_BAD_REQUEST, "field '%s' must be 1-%u bytes", f->name,
				    API_MAX_IDEMPOTENCY_KEY);
		for (const char *k = r == 0 ? req->idempotency_key : ""; *k; k++)
			if ((unsigned char)*k < 0x21 || *k == 0x7f)
				return fail(ctx, API_ERR_BAD_REQUEST,
					    "field '%s' must be printable, without blanks", f->name);
		return r;
	case API_FIELD_TOKEN_NAME:
		r = get_text(ctx, f->name, v, false, &req->token_name);
		if (r == 0 && strlen(req->token_name) > API_MAX_TOKEN_NAME)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'name' is longer than %u bytes",
				    API_MAX_TOKEN_NAME);
		for (const char *k = r == 0 ? req->token_name : ""; *k; k++)
			if ((unsigned char)*k < 0x20 || *k == 0x7f)
				return fail(ctx, API_ERR_BAD_REQUEST, "field 'name' must be printable");
		return r;
	case API_FIELD_OPERATOR:
		return get_bool(ctx, f->name, v, &req->token_operator);
	case API_FIELD_EXPIRES:
		return get_uint(ctx, f->name, v, 1000, API_MAX_TOKEN_EXPIRES_MS, &req->expires_ms);
	case API_FIELD_PLAN:
		r = get_text(ctx, f->name, v, false, &req->plan);
		if (r == 0 && (!req->plan[0] || strlen(req->plan) > API_MAX_PLAN_NAME))
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'plan' must be a plan name of 1-%u bytes", API_MAX_PLAN_NAME);
		return r;
	case API_FIELD_MAX_CONCURRENT:
		return get_uint(ctx, f->name, v, 1, API_MAX_TENANT_CONCURRENT, &req->max_concurrent);
	case API_FIELD_CALLBACK_URL:
		r = get_text(ctx, f->name, v, false, &req->callback_url);
		if (r == 0 && (!req->callback_url[0] || strlen(req->callback_url) > API_MAX_CALLBACK_URL))
			return fail(ctx, API_ERR_BAD_REQUEST,
				    "field 'callback_url' must be a URL of 1-%u bytes", API_MAX_CALLBACK_URL);
		return r;
	case API_FIELD_POLICY_TEXT:
		r = get_text(ctx, f->name, v, false, &req->policy_text);
		if (r == 0 && strlen(req->policy_text) > API_MAX_POLICY_TEXT)
			return fail(ctx, API_ERR_TOO_LARGE, "field 'text' is %zu bytes long (at most %u)",
				    strlen(req->policy_text), API_MAX_POLICY_TEXT);
		return r;
	case API_FIELD_POLICY_FILE:
		r = get_text(ctx, f->name, v, false, &req->policy_file);
		if (r == 0 && strlen(req->policy_file) > API_MAX_POLICY_FILE)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'file' is longer than %u bytes",
				    API_MAX_POLICY_FILE);
		return r;
	case API_FIELD_FILES:
		if (!json_is_array(v))
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'files' must be an array of objects");
		if (json_array_size(v) > API_MAX_FILES)
			return fail(ctx, API_ERR_TOO_LARGE, "field 'files' has %zu entries (at most %u)",
				    json_array_size(v), API_MAX_FILES);
		req->files = v;
		return 0;
	case API_FIELD_ARTIFACTS:
		return get_strings(ctx, f->name, v, API_MAX_ARTIFACT_PATTERNS,
				   API_MAX_ARTIFACT_PATTERNS * 4096, &req->artifacts, &req->n_artifacts);
	case API_FIELD_NAME:
		r = get_text(ctx, f->name, v, false, &req->name);
		if (r == 0 && strlen(req->name) > 4096)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'name' is longer than 4096 bytes");
		return r;
	case API_FIELD_SIZE:
		return get_uint(ctx, f->name, v, 1, (uint64_t)INT64_MAX, &req->size);
	case API_FIELD_TASK_BYTES:
		return get_uint(ctx, f->name, v, 1, (uint64_t)INT64_MAX, &req->task_bytes);
	case API_FIELD_UPLOAD:
		return get_id(ctx, f->name, v, &req->upload);
	case API_FIELD_DATA:
		r = get_text(ctx, f->name, v, false, &req->data_b64);
		req->data_b64_len = r == 0 ? json_string_length(v) : 0;
		if (r == 0 && req->data_b64_len > (API_MAX_UPLOAD_CHUNK / 3) * 4)
			return fail(ctx, API_ERR_TOO_LARGE,
				    "field 'data_base64' carries more than %u bytes (send more chunks)",
				    API_MAX_UPLOAD_CHUNK);
		return r;
	case API_FIELD_REASON:
		r = get_text(ctx, f->name, v, false, &req->reason);
		if (r == 0 && strlen(req->reason) > API_MAX_REASON)
			return fail(ctx, API_ERR_BAD_REQUEST, "field 'reason' is %zu bytes long (at most %u)",
				    strlen(req->reason), API_MAX_REASON);
		return r;
	}
	return fail(ctx, API_ERR_INTERNAL, "field '%s': no parser", f->name);
}

static int unknown_op(struct parse_ctx *ctx, const char *name)
{
	char ops[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < API_OP_COUNT; i++)
		used += (size_t)snprintf(ops + used, sizeof(ops) - used, "%s%s", i ? ", " : "",
					 api_op_name((enum api_op)i));
	return fail(ctx, API_ERR_UNKNOWN_OP, "unknown op '%.64s' (ops: %s)", name, ops);
}

static int parse_object(struct parse_ctx *ctx, json_t *root)
{
	struct api_request *req = ctx->req;
	const struct api_op_info *spec;
	json_t *op, *v;
	const char *key, *op_name;
	int r;

	ctx->step = "read op";
	op = json_object_get(root, "op");
	if (!op)
		return fail(ctx, API_ERR_BAD_REQUEST, "missing required field 'op'");
	r = get_text(ctx, "op", op, false, &op_name);
	if (r < 0)
		return r;
	spec = api_ops_find(op_name);
	if (!spec)
		return unknown_op(ctx, op_name);
	req->op = spec->op;

	ctx->step = "read fields";
	json_object_foreach (root, key, v) {
		const struct api_field *f;

		if (strcmp(key, "op") == 0 || strcmp(key, "tag") == 0)
			continue;
		f = api_ops_field(spec, key);
		if (!f)
			return fail(ctx, API_ERR_BAD_REQUEST, "unknown field '%.64s' for op %s", key,
				    op_name);
		r = parse_field(ctx, f, v);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->n_fields; i++)
		if (spec->fields[i].required && !json_object_get(root, spec->fields[i].name))
			return fail(ctx, API_ERR_BAD_REQUEST, "missing required field '%s' for op %s",
				    spec->fields[i].name, op_name);
	return 0;
}

static void free_vector(char **vec)
{
	for (size_t i = 0; vec && vec[i]; i++)
		free(vec[i]);
	free(vec);
}

/* Everything but the tag, so an error response can still echo it. */
static void request_clear_fields(struct api_request *req)
{
	char *tag = req->tag_json;

	free_vector(req->argv);
	free_vector(req->env);
	free_vector(req->labels);
	free_vector(req->artifacts);
	free(req->stdin_data);
	json_decref(req->json);
	memset(req, 0, sizeof(*req));
	req->tag_json = tag;
}

int api_request_parse(const char *line, size_t len, struct api_request *req, enum api_error_code *code,
		      struct error *err)
{
	struct parse_ctx ctx = { req, code, err, "read request" };
	json_error_t jerr;
	json_t *root, *tag;
	int r;

	memset(req, 0, sizeof(*req));
	*code = API_ERR_NONE;
	if (err)
		*err = (struct error){ 0 };
	if (len > API_MAX_LINE)
		return fail(&ctx, API_ERR_TOO_LARGE, "request is %zu bytes long (at most %u)", len,
			    API_MAX_LINE);
	/* NULs are allowed by the decoder so stdin can carry them; every
	 * other string is checked for them field by field. */
	root = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return fail(&ctx, API_ERR_BAD_REQUEST, "malformed JSON at line %d, column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	req->json = root;
	if (!json_is_object(root)) {
		r = fail(&ctx, API_ERR_BAD_REQUEST, "a request must be a JSON object, not %s",
			 json_is_array(root)             ? "an array"
				 : json_is_string(root)  ? "a string"
				 : json_is_null(root)    ? "null"
				 : json_is_boolean(root) ? "a boolean"
							 : "a number");
		goto out;
	}
	tag = json_object_get(root, "tag");
	ctx.step = "read tag";
	if (tag) {
		req->tag_json = json_dumps(tag, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!req->tag_json) {
			r = fail(&ctx, API_ERR_INTERNAL, "out of memory");
			goto out;
		}
		/* a tag is echoed and kept with parked waits: keep it small */
		if (strlen(req->tag_json) > API_MAX_TAG) {
			free(req->tag_json);
			req->tag_json = NULL;
			r = fail(&ctx, API_ERR_TOO_LARGE, "tag longer than %u bytes", API_MAX_TAG);
			goto out;
		}
	}
	r = parse_object(&ctx, root);
	if (r == 0) {
		if (req->op == API_OP_LIST && req->limit == 0)
			req->limit = API_DEFAULT_LIST_LIMIT;
		if (req->op == API_OP_USAGE_ADJUST && req->has_delta == req->has_set_left)
			r = fail(&ctx, API_ERR_BAD_REQUEST,
				 "op usage_adjust takes exactly one of 'delta_us' and 'set_left_us'");
		if (req->op == API_OP_LOGS) {
			if (req->max == 0)
				req->max = API_MAX_LOG_CHUNK;
			if (!req->stream)
				req->stream = "stdout";
		}
	}
out:
	if (r < 0)
		request_clear_fields(req);
	return r;
}

void api_request_free(struct api_request *req)
{
	if (!req)
		return;
	request_clear_fields(req);
	free(req->tag_json);
	req->tag_json = NULL;
}
