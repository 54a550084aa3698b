/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_api.c — the wire protocol codec (supervisor/api/api.c,
 * api_task.c): strict request parsing, one error per test; every op's happy
 * path; request, response and TASK lines; base64.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "supervisor/api/api.h"
#include "supervisor/store/store.h"

struct parsed {
	struct api_request req;
	enum api_error_code code;
	struct error err;
	int r;
};

static void parse_len(struct parsed *p, const char *line, size_t len)
{
	p->r = api_request_parse(line, len, &p->req, &p->code, &p->err);
}

static void parse(struct parsed *p, const char *line)
{
	parse_len(p, line, strlen(line));
}

/* line must be refused with code and a message containing needle. */
static void assert_refused(const char *line, enum api_error_code code, const char *needle)
{
	struct parsed p;

	parse(&p, line);
	if (p.r != -EINVAL || p.code != code || !strstr(p.err.message, needle) || !p.err.step[0])
		fail_msg("%s -> r=%d code=%s msg='%s' step='%s' (wanted %s containing '%s')", line, p.r,
			 api_error_name(p.code), p.err.message, p.err.step, api_error_name(code), needle);
	api_request_free(&p.req);
}

static void assert_accepted(struct parsed *p, const char *line)
{
	parse(p, line);
	if (p->r != 0)
		fail_msg("%s -> %s: %s", line, api_error_name(p->code), p->err.message);
}

/* ---- errors --------------------------------------------------------------- */

static void test_line_longer_than_max_is_too_large_before_parsing(void **state)
{
	struct parsed p;

	/* not even valid JSON: the length check must come first */
	parse_len(&p, "{", (size_t)API_MAX_LINE + 1);
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.code, API_ERR_TOO_LARGE);
	assert_non_null(strstr(p.err.message, "at most"));
	assert_string_equal(p.err.step, "read request");
	api_request_free(&p.req);
}

static void test_malformed_json_is_bad_request_with_position(void **state)
{
	assert_refused("{\"op\": \"ping\",}", API_ERR_BAD_REQUEST, "malformed JSON at line 1, column");
}

static void test_trailing_garbage_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"ping\"} x", API_ERR_BAD_REQUEST, "malformed JSON");
}

static void test_empty_line_is_bad_request(void **state)
{
	assert_refused("", API_ERR_BAD_REQUEST, "malformed JSON");
}

static void test_top_level_array_is_bad_request(void **state)
{
	assert_refused("[1, 2]", API_ERR_BAD_REQUEST, "must be a JSON object, not an array");
}

static void test_top_level_number_is_bad_request(void **state)
{
	assert_refused("42", API_ERR_BAD_REQUEST, "must be a JSON object, not a number");
}

static void test_missing_op_is_bad_request(void **state)
{
	assert_refused("{\"id\": 1}", API_ERR_BAD_REQUEST, "missing required field 'op'");
}

static void test_op_not_a_string_is_bad_request(void **state)
{
	assert_refused("{\"op\": 3}", API_ERR_BAD_REQUEST, "field 'op' must be a string");
}

static void test_unknown_op_lists_the_ops(void **state)
{
	assert_refused("{\"op\": \"frob\"}", API_ERR_UNKNOWN_OP,
		       "unknown op 'frob' (ops: ping, version, submit, status, list, queue, "
		       "cancel, wait, logs, usage, policy_reload, usage_adjust, nodes, node_drain, "
		       "node_undrain, token_create, token_list, token_revoke, tenant_set, tenant_show, "
		       "tenant_list, tenant_delete, policy_push, policy_current, artifacts, fetch, "
		       "upload_begin, upload_chunk, upload_abort)");
}

static void test_policy_push_needs_a_text(void **state)
{
	struct api_request req;
	enum api_error_code code;
	struct error err;
	const char *ok = "{\"op\": \"policy_push\", \"text\": \"[plan free]\\n\", \"file\": \"c.conf\"}";

	(void)state;
	assert_refused("{\"op\": \"policy_push\"}", API_ERR_BAD_REQUEST, "text");
	assert_refused("{\"op\": \"policy_push\", \"text\": \"\"}", API_ERR_BAD_REQUEST, "must not be empty");
	assert_int_equal(api_request_parse(ok, strlen(ok), &req, &code, &err), 0);
	assert_string_equal(req.policy_text, "[plan free]\n");
	assert_string_equal(req.policy_file, "c.conf");
	assert_int_equal(api_ops_get(API_OP_POLICY_PUSH)->access, API_ACCESS_OPERATOR);
	assert_string_equal(api_error_name(API_ERR_NOT_CLUSTERED), "not_clustered");
	api_request_free(&req);
}

/* The staged upload ops: a size of at least 1, an upload id, a chunk of
 * at most API_MAX_UPLOAD_CHUNK bytes; all open to users. */
static void test_upload_ops_fields(void **state)
{
	struct parsed p;
	char *big;
	size_t n = (API_MAX_UPLOAD_CHUNK / 3) * 4 + 4;

	(void)state;
	assert_refused("{\"op\": \"upload_begin\"}", API_ERR_BAD_REQUEST, "size");
	assert_refused("{\"op\": \"upload_begin\", \"size\": 0}", API_ERR_BAD_REQUEST, "size");
	assert_accepted(&p, "{\"op\": \"upload_begin\", \"size\": 20000000, \"user\": \"alice\"}");
	assert_int_equal(p.req.size, 20000000);
	assert_int_equal(p.req.task_bytes, 0);
	assert_string_equal(p.req.user, "alice");
	api_request_free(&p.req);
	assert_accepted(&p, "{\"op\": \"upload_begin\", \"size\": 20, \"task_bytes\": 70000000}");
	assert_int_equal(p.req.task_bytes, 70000000);
	api_request_free(&p.req);
	assert_refused("{\"op\": \"upload_begin\", \"size\": 20, \"task_bytes\": 0}", API_ERR_BAD_REQUEST,
		       "task_bytes");
	assert_refused("{\"op\": \"upload_begin\", \"size\": 20, \"task_bytes\": \"9\"}", API_ERR_BAD_REQUEST,
		       "task_bytes");
	assert_refused("{\"op\": \"upload_chunk\", \"upload\": 3, \"data_base64\": \"YWJj\"}",
		       API_ERR_BAD_REQUEST, "offset");
	assert_refused("{\"op\": \"upload_chunk\", \"upload\": -3, \"offset\": 0, \"data_base64\": \"YWJj\"}",
		       API_ERR_BAD_REQUEST, "upload");
	assert_accepted(
		&p,
		"{\"op\": \"upload_chunk\", \"upload\": 3, \"offset\": 196608, \"data_base64\": \"YWJj\"}");
	assert_int_equal(p.req.upload, 3);
	assert_int_equal(p.req.offset, 196608);
	assert_int_equal(p.req.data_b64_len, 4);
	assert_string_equal(p.req.data_b64, "YWJj");
	api_request_free(&p.req);
	big = malloc(n + 128);
	assert_non_null(big);
	strcpy(big, "{\"op\": \"upload_chunk\", \"upload\": 3, \"offset\": 0, \"data_base64\": \"");
	memset(big + strlen(big), 'A', n);
	strcpy(big + strlen("{\"op\": \"upload_chunk\", \"upload\": 3, \"offset\": 0, \"data_base64\": \"") +
		       n,
	       "\"}");
	assert_refused(big, API_ERR_TOO_LARGE, "data_base64");
	free(big);
	assert_accepted(&p, "{\"op\": \"upload_abort\", \"upload\": 9}");
	assert_int_equal(p.req.upload, 9);
	api_request_free(&p.req);
	assert_int_equal(api_ops_get(API_OP_UPLOAD_BEGIN)->access, API_ACCESS_USER);
	assert_true(api_ops_get(API_OP_UPLOAD_CHUNK)->mutates);
}

static void test_submit_placement_fields(void **state)
{
	struct api_request req;
	enum api_error_code code;
	struct error err;
	const char *ok = "{\"op\": \"submit\", \"argv\": [\"x\"], \"gpus\": 2, "
			 "\"gpu_memory_bytes\": 17179869184, \"labels\": [\"gpu\", \"ssd\"]}";

	assert_int_equal(api_request_parse(ok, strlen(ok), &req, &code, &err), 0);
	assert_int_equal(req.gpus, 2);
	assert_int_equal(req.gpu_memory_bytes, 17179869184ULL);
	assert_int_equal(req.n_labels, 2);
	assert_string_equal(req.labels[1], "ssd");
	api_request_free(&req);
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"gpus\": 1025}", API_ERR_BAD_REQUEST,
		       "gpus");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"labels\": [\"a b\"]}", API_ERR_BAD_REQUEST,
		       "field 'labels' entry 0 is not a label");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"labels\": \"gpu\"}", API_ERR_BAD_REQUEST,
		       "labels");
	assert_refused(
		"{\"op\": \"submit\", \"argv\": [\"x\"], \"labels\": "
		"[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}",
		API_ERR_BAD_REQUEST, "at most 16");
}

/* cpu_millis: cores in thousandths, 0.01 to 1024 cores */
static void test_submit_cpu_millis(void **state)
{
	struct api_request req;
	enum api_error_code code;
	struct error err;
	const char *ok = "{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": 500}";
	const char *none = "{\"op\": \"submit\", \"argv\": [\"x\"]}";

	assert_int_equal(api_request_parse(ok, strlen(ok), &req, &code, &err), 0);
	assert_int_equal(req.cpu_millis, 500);
	api_request_free(&req);
	assert_int_equal(api_request_parse(none, strlen(none), &req, &code, &err), 0);
	assert_int_equal(req.cpu_millis, 0); /* not asked */
	api_request_free(&req);
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": 0}", API_ERR_BAD_REQUEST,
		       "field 'cpu_millis' must be between 10 and 1024000 (got 0)");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": 9}", API_ERR_BAD_REQUEST,
		       "between 10 and 1024000");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": 1024001}",
		       API_ERR_BAD_REQUEST, "between 10 and 1024000");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": 0.5}", API_ERR_BAD_REQUEST,
		       "field 'cpu_millis' must be an integer");
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_millis\": -500}", API_ERR_BAD_REQUEST,
		       "cpu_millis");
	/* submit only */
	assert_refused("{\"op\": \"status\", \"id\": 1, \"cpu_millis\": 500}", API_ERR_BAD_REQUEST,
		       "cpu_millis");
}

static void test_node_drain_needs_a_node_name(void **state)
{
	struct api_request req;
	enum api_error_code code;
	struct error err;
	const char *ok = "{\"op\": \"node_drain\", \"node\": \"n1\"}";

	assert_refused("{\"op\": \"node_drain\"}", API_ERR_BAD_REQUEST, "node");
	assert_refused("{\"op\": \"node_undrain\", \"node\": \"\"}", API_ERR_BAD_REQUEST,
		       "field 'node' must not be empty");
	assert_refused("{\"op\": \"node_undrain\", \"node\": "
		       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		       API_ERR_BAD_REQUEST, "field 'node' must be a node name of 1-63 bytes");
	assert_refused("{\"op\": \"node_drain\", \"node\": 7}", API_ERR_BAD_REQUEST, "node");
	assert_refused("{\"op\": \"nodes\", \"node\": \"n1\"}", API_ERR_BAD_REQUEST,
		       "unknown field 'node' for op nodes");
	assert_int_equal(api_request_parse(ok, strlen(ok), &req, &code, &err), 0);
	assert_int_equal(req.op, API_OP_NODE_DRAIN);
	assert_string_equal(req.node, "n1");
	api_request_free(&req);
	assert_int_equal(api_ops_get(API_OP_NODE_DRAIN)->access, API_ACCESS_OPERATOR);
	assert_int_equal(api_ops_get(API_OP_NODES)->access, API_ACCESS_USER);
}

static void test_unknown_field_is_named(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"foo\": 1}", API_ERR_BAD_REQUEST,
		       "unknown field 'foo' for op submit");
}

static void test_field_of_another_op_is_unknown(void **state)
{
	assert_refused("{\"op\": \"ping\", \"id\": 1}", API_ERR_BAD_REQUEST,
		       "unknown field 'id' for op ping");
}

static void test_error_step_names_the_parse_step(void **state)
{
	static const struct {
		const char *line, *step;
	} cases[] = {
		{ "{\"op\": ", "read request" },
		{ "{\"op\": \"frob\"}", "read op" },
		{ "{\"op\": \"status\", \"id\": \"x\"}", "read fields" },
		{ "{\"op\": \"status\"}", "read fields" },
	};
	struct parsed p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&p, cases[i].line);
		assert_int_equal(p.r, -EINVAL);
		assert_string_equal(p.err.step, cases[i].step);
		assert_int_equal(p.err.err, 0); /* no errno text in a wire message */
		api_request_free(&p.req);
	}
	assert_accepted(&p, "{\"op\": \"ping\"}");
	assert_int_equal(p.code, API_ERR_NONE);
	assert_string_equal(p.err.message, "");
	api_request_free(&p.req);
}

static void test_duplicate_key_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"status\", \"id\": 1, \"id\": 2}", API_ERR_BAD_REQUEST, "duplicate");
}

static void test_argv_not_an_array_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": \"ls\"}", API_ERR_BAD_REQUEST,
		       "field 'argv' must be an array of strings");
}

static void test_argv_with_a_number_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"ls\", 3]}", API_ERR_BAD_REQUEST,
		       "field 'argv' must be an array of strings");
}

static void test_missing_argv_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\"}", API_ERR_BAD_REQUEST,
		       "missing required field 'argv' for op submit");
}

static void test_empty_argv_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": []}", API_ERR_BAD_REQUEST,
		       "field 'argv' must not be empty");
}

static void test_empty_command_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"\"]}", API_ERR_BAD_REQUEST,
		       "the command must not be empty");
}

/* {"op":"submit","<field>":[ "a", ... n times ]} */
static char *line_with_n_strings(const char *field, size_t n, const char *item)
{
	json_t *arr = json_array();
	json_t *obj;
	char *line;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(item));
	obj = json_pack("{s:s,s:[s],s:o}", "op", "submit", "argv", "true", field, arr);
	if (strcmp(field, "argv") == 0)
		json_object_set(obj, "argv", arr);
	line = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return line;
}

static void test_too_many_args_is_bad_request(void **state)
{
	char *line = line_with_n_strings("argv", API_MAX_ARGS + 1, "a");

	assert_refused(line, API_ERR_BAD_REQUEST, "field 'argv' has 257 entries (at most 256)");
	free(line);
}

static void test_max_args_are_accepted(void **state)
{
	char *line = line_with_n_strings("argv", API_MAX_ARGS, "a");
	struct parsed p;

	assert_accepted(&p, line);
	assert_int_equal(p.req.argc, API_MAX_ARGS);
	assert_null(p.req.argv[API_MAX_ARGS]);
	api_request_free(&p.req);
	free(line);
}

static void test_too_long_arg_is_bad_request(void **state)
{
	char *big = malloc(API_MAX_ARG_BYTES + 1);
	char *line;

	memset(big, 'x', API_MAX_ARG_BYTES);
	big[API_MAX_ARG_BYTES] = '\0';
	line = line_with_n_strings("argv", 1, big);
	assert_refused(line, API_ERR_BAD_REQUEST, "entry 0 is 65536 bytes long");
	free(line);
	free(big);
}

static void test_too_many_env_is_bad_request(void **state)
{
	char *line = line_with_n_strings("env", API_MAX_ENV + 1, "A=1");

	assert_refused(line, API_ERR_BAD_REQUEST, "field 'env' has 257 entries");
	free(line);
}

static void test_env_without_equals_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"env\": [\"PATH\"]}", API_ERR_BAD_REQUEST,
		       "field 'env' entry 0 must be NAME=VALUE");
}

static void test_env_with_empty_name_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"env\": [\"=1\"]}", API_ERR_BAD_REQUEST,
		       "must be NAME=VALUE");
}

static void test_nul_in_argv_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"a\\u0000b\"]}", API_ERR_BAD_REQUEST,
		       "field 'argv' entry 0 must not contain NUL characters");
}

static void test_nul_in_user_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"list\", \"user\": \"al\\u0000ice\"}", API_ERR_BAD_REQUEST,
		       "field 'user' must not contain NUL characters");
}

static void test_nul_in_stdin_is_kept(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"submit\", \"argv\": [\"cat\"], \"stdin\": \"a\\u0000b\"}");
	assert_true(p.req.has_stdin);
	assert_int_equal(p.req.stdin_len, 3);
	assert_memory_equal(p.req.stdin_data, "a\0b", 3);
	api_request_free(&p.req);
}

static void test_stdin_over_limit_is_bad_request(void **state)
{
	json_t *obj = json_pack("{s:s,s:[s]}", "op", "submit", "argv", "cat");
	char *big = malloc(API_MAX_STDIN + 2);
	char *line;

	memset(big, 'x', API_MAX_STDIN + 1);
	big[API_MAX_STDIN + 1] = '\0';
	json_object_set_new(obj, "stdin", json_string(big));
	line = json_dumps(obj, JSON_COMPACT);
	assert_refused(line, API_ERR_BAD_REQUEST, "field 'stdin' is 1048577 bytes long");
	free(line);
	free(big);
	json_decref(obj);
}

static void test_user_wrong_type_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"usage\", \"user\": 7}", API_ERR_BAD_REQUEST,
		       "field 'user' must be a string");
}

static void test_empty_user_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"queue\", \"user\": \"\"}", API_ERR_BAD_REQUEST,
		       "field 'user' must not be empty");
}

static void test_negative_timeout_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"timeout_ms\": -5}", API_ERR_BAD_REQUEST,
		       "field 'timeout_ms' must be between 1 and");
}

static void test_zero_timeout_for_submit_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"timeout_ms\": 0}", API_ERR_BAD_REQUEST,
		       "(got 0)");
}

static void test_absurd_memory_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"memory_bytes\": 9000000000000000000}",
		       API_ERR_BAD_REQUEST, "field 'memory_bytes' must be between 1 and");
}

static void test_absurd_cpu_limit_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"cpu_limit_ms\": 99999999999999}",
		       API_ERR_BAD_REQUEST, "field 'cpu_limit_ms' must be between 1 and");
}

static void test_fractional_timeout_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"timeout_ms\": 1.5}", API_ERR_BAD_REQUEST,
		       "field 'timeout_ms' must be an integer");
}

static void test_integer_overflow_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"status\", \"id\": 99999999999999999999999}", API_ERR_BAD_REQUEST,
		       "malformed JSON");
}

static void test_no_queue_not_bool_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"submit\", \"argv\": [\"x\"], \"no_queue\": 1}", API_ERR_BAD_REQUEST,
		       "field 'no_queue' must be true or false");
}

static void test_zero_id_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"status\", \"id\": 0}", API_ERR_BAD_REQUEST,
		       "field 'id' must be a positive integer (got 0)");
}

static void test_negative_id_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"cancel\", \"id\": -3}", API_ERR_BAD_REQUEST,
		       "field 'id' must be a positive integer (got -3)");
}

static void test_string_id_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"wait\", \"id\": \"3\"}", API_ERR_BAD_REQUEST,
		       "field 'id' must be an integer");
}

static void test_missing_id_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"logs\"}", API_ERR_BAD_REQUEST, "missing required field 'id' for op logs");
}

static void test_unknown_state_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"list\", \"state\": \"done\"}", API_ERR_BAD_REQUEST,
		       "field 'state' must be one of queued, running");
}

static void test_list_limit_over_max_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"list\", \"limit\": 1001}", API_ERR_BAD_REQUEST,
		       "field 'limit' must be between 1 and 1000");
}

static void test_unknown_stream_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"logs\", \"id\": 1, \"stream\": \"stdin\"}", API_ERR_BAD_REQUEST,
		       "field 'stream' must be \"stdout\" or \"stderr\"");
}

static void test_logs_max_over_chunk_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"logs\", \"id\": 1, \"max\": 1048577}", API_ERR_BAD_REQUEST,
		       "field 'max' must be between 1 and 1048576");
}

static void test_negative_offset_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"logs\", \"id\": 1, \"offset\": -1}", API_ERR_BAD_REQUEST,
		       "field 'offset' must be between 0 and");
}

static void test_bad_month_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"usage\", \"month\": \"2024-13\"}", API_ERR_BAD_REQUEST,
		       "field 'month' must be YYYY-MM (got '2024-13')");
}

static void test_usage_adjust_needs_exactly_one_amount(void **state)
{
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"alice\", \"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "exactly one of 'delta_us' and 'set_left_us'");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"alice\", \"reason\": \"r\", "
		       "\"delta_us\": 5, \"set_left_us\": 5}",
		       API_ERR_BAD_REQUEST, "exactly one of 'delta_us' and 'set_left_us'");
}

static void test_usage_adjust_needs_user_and_reason(void **state)
{
	assert_refused("{\"op\": \"usage_adjust\", \"delta_us\": 5, \"reason\": \"r\"}", API_ERR_BAD_REQUEST,
		       "missing required field 'user' for op usage_adjust");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"alice\", \"delta_us\": 5}",
		       API_ERR_BAD_REQUEST, "missing required field 'reason' for op usage_adjust");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"alice\", \"delta_us\": 5, "
		       "\"reason\": \"\"}",
		       API_ERR_BAD_REQUEST, "field 'reason' must not be empty");
}

static void test_usage_adjust_reason_over_256_bytes_is_bad_request(void **state)
{
	char line[600], reason[258];

	memset(reason, 'x', 257);
	reason[257] = '\0';
	snprintf(line, sizeof(line),
		 "{\"op\": \"usage_adjust\", \"user\": \"a\", "
		 "\"delta_us\": 5, \"reason\": \"%s\"}",
		 reason);
	assert_refused(line, API_ERR_BAD_REQUEST, "field 'reason' is 257 bytes long (at most 256)");
}

static void test_usage_adjust_zero_or_absurd_delta_is_bad_request(void **state)
{
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"a\", \"delta_us\": 0, "
		       "\"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "non-zero integer");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"a\", "
		       "\"delta_us\": 3600000000000001, \"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "at most 10^6 hours");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"a\", "
		       "\"delta_us\": -3600000000000001, \"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "at most 10^6 hours");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"a\", \"delta_us\": 1.5, "
		       "\"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "non-zero integer");
	assert_refused("{\"op\": \"usage_adjust\", \"user\": \"a\", \"set_left_us\": -1, "
		       "\"reason\": \"r\"}",
		       API_ERR_BAD_REQUEST, "field 'set_left_us' must be between");
}

static void test_error_keeps_the_tag(void **state)
{
	struct parsed p;

	parse(&p, "{\"op\": \"frob\", \"tag\": {\"n\": [1, 2]}}");
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.req.tag_json, "{\"n\":[1,2]}");
	api_request_free(&p.req);
}

/* ---- happy paths ---------------------------------------------------------- */

static void test_usage_adjust_is_an_operator_op_that_mutates(void **state)
{
	const struct api_op_info *op = api_ops_find("usage_adjust");

	assert_non_null(op);
	assert_int_equal(op->op, API_OP_USAGE_ADJUST);
	assert_int_equal(op->access, API_ACCESS_OPERATOR);
	assert_true(op->mutates);
	assert_true(api_ops_field(op, "user")->required);
	assert_true(api_ops_field(op, "reason")->required);
	assert_false(api_ops_field(op, "delta_us")->required);
	assert_false(api_ops_field(op, "set_left_us")->required);
	assert_null(api_ops_field(op, "month"));
	assert_string_equal(api_op_name(API_OP_USAGE_ADJUST), "usage_adjust");
}

static void test_usage_adjust_parses_delta(void **state)
{
	struct parsed p;

	assert_accepted(&p,
			"{\"op\": \"usage_adjust\", \"user\": \"alice\", "
			"\"delta_us\": -1800000000, \"reason\": \"refund #123\"}");
	assert_int_equal(p.req.op, API_OP_USAGE_ADJUST);
	assert_string_equal(p.req.user, "alice");
	assert_true(p.req.has_delta);
	assert_false(p.req.has_set_left);
	assert_int_equal(p.req.delta_us, -1800000000);
	assert_string_equal(p.req.reason, "refund #123");
	api_request_free(&p.req);
}

static void test_usage_adjust_parses_set_left_zero(void **state)
{
	struct parsed p;

	assert_accepted(&p,
			"{\"op\": \"usage_adjust\", \"user\": \"alice\", "
			"\"set_left_us\": 0, \"reason\": \"suspend\"}");
	assert_true(p.req.has_set_left);
	assert_false(p.req.has_delta);
	assert_int_equal(p.req.set_left_us, 0);
	api_request_free(&p.req);
}

static void test_ping_parses(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"ping\"}");
	assert_int_equal(p.req.op, API_OP_PING);
	assert_null(p.req.tag_json);
	api_request_free(&p.req);
}

static void test_version_parses_with_string_tag(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"tag\": \"t1\", \"op\": \"version\"}");
	assert_int_equal(p.req.op, API_OP_VERSION);
	assert_string_equal(p.req.tag_json, "\"t1\"");
	api_request_free(&p.req);
}

static void test_submit_parses_every_field(void **state)
{
	struct parsed p;

	assert_accepted(&p,
			"{\"op\": \"submit\", \"argv\": [\"sh\", \"-c\", \"echo hi\"],"
			" \"user\": \"alice\", \"profile\": \"py\", \"env\": [\"A=1\", \"B=\"],"
			" \"cwd\": \"/work\", \"stdin\": \"in\", \"timeout_ms\": 1500,"
			" \"cpu_limit_ms\": 2000, \"memory_bytes\": 268435456, \"no_queue\": true}");
	assert_int_equal(p.req.op, API_OP_SUBMIT);
	assert_int_equal(p.req.argc, 3);
	assert_string_equal(p.req.argv[2], "echo hi");
	assert_null(p.req.argv[3]);
	assert_int_equal(p.req.envc, 2);
	assert_string_equal(p.req.env[1], "B=");
	assert_null(p.req.env[2]);
	assert_string_equal(p.req.user, "alice");
	assert_string_equal(p.req.profile, "py");
	assert_string_equal(p.req.cwd, "/work");
	assert_true(p.req.has_stdin);
	assert_int_equal(p.req.stdin_len, 2);
	assert_true(p.req.has_timeout && p.req.timeout_ms == 1500);
	assert_true(p.req.has_cpu_limit && p.req.cpu_limit_ms == 2000);
	assert_true(p.req.has_memory && p.req.memory_bytes == 268435456);
	assert_true(p.req.no_queue);
	api_request_free(&p.req);
}

static void test_submit_minimal_has_nothing_else(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"submit\", \"argv\": [\"true\"]}");
	assert_null(p.req.env);
	assert_null(p.req.user);
	assert_false(p.req.has_stdin || p.req.has_timeout || p.req.has_cpu_limit || p.req.has_memory ||
		     p.req.no_queue);
	api_request_free(&p.req);
}

static void test_status_parses(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"status\", \"id\": 42}");
	assert_int_equal(p.req.op, API_OP_STATUS);
	assert_true(p.req.has_id);
	assert_int_equal(p.req.id, 42);
	api_request_free(&p.req);
}

static void test_list_parses_with_default_limit(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"list\", \"user\": \"bob\", \"state\": \"running\"}");
	assert_int_equal(p.req.op, API_OP_LIST);
	assert_string_equal(p.req.user, "bob");
	assert_string_equal(p.req.state, "running");
	assert_int_equal(p.req.limit, API_DEFAULT_LIST_LIMIT);
	api_request_free(&p.req);
}

static void test_list_parses_limit(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"list\", \"limit\": 1000}");
	assert_int_equal(p.req.limit, 1000);
	api_request_free(&p.req);
}

static void test_queue_parses(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"queue\", \"user\": \"carol\"}");
	assert_int_equal(p.req.op, API_OP_QUEUE);
	assert_string_equal(p.req.user, "carol");
	api_request_free(&p.req);
}

static void test_cancel_parses(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"cancel\", \"id\": 7}");
	assert_int_equal(p.req.op, API_OP_CANCEL);
	assert_int_equal(p.req.id, 7);
	api_request_free(&p.req);
}

static void test_wait_parses_zero_timeout(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"wait\", \"id\": 7, \"timeout_ms\": 0}");
	assert_int_equal(p.req.op, API_OP_WAIT);
	assert_true(p.req.has_timeout);
	assert_int_equal(p.req.timeout_ms, 0);
	api_request_free(&p.req);
}

static void test_logs_parses_with_defaults(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"logs\", \"id\": 9}");
	assert_int_equal(p.req.op, API_OP_LOGS);
	assert_string_equal(p.req.stream, "stdout");
	assert_int_equal(p.req.max, API_MAX_LOG_CHUNK);
	assert_int_equal(p.req.offset, 0);
	assert_false(p.req.follow);
	api_request_free(&p.req);
}

static void test_logs_parses_every_field(void **state)
{
	struct parsed p;

	assert_accepted(&p,
			"{\"op\": \"logs\", \"id\": 9, \"stream\": \"stderr\", \"offset\": 100,"
			" \"max\": 4096, \"follow\": true}");
	assert_string_equal(p.req.stream, "stderr");
	assert_int_equal(p.req.offset, 100);
	assert_int_equal(p.req.max, 4096);
	assert_true(p.req.follow);
	api_request_free(&p.req);
}

static void test_usage_parses(void **state)
{
	struct parsed p;

	assert_accepted(&p, "{\"op\": \"usage\", \"user\": \"dan\", \"month\": \"2024-02\"}");
	assert_int_equal(p.req.op, API_OP_USAGE);
	assert_string_equal(p.req.month, "2024-02");
	api_request_free(&p.req);
}

/* ---- names, building lines ------------------------------------------------ */

static void test_names_round_trip(void **state)
{
	enum api_error_code code;
	enum api_op op;

	assert_string_equal(api_error_name(API_ERR_STORAGE_FULL), "storage_full");
	assert_null(api_error_name(API_ERR_NONE));
	assert_int_equal(api_error_parse("wait_timeout", &code), 0);
	assert_int_equal(code, API_ERR_WAIT_TIMEOUT);
	assert_int_equal(api_error_parse("nope", &code), -EINVAL);
	assert_string_equal(api_op_name(API_OP_USAGE), "usage");
	assert_int_equal(api_op_parse("logs", &op), 0);
	assert_int_equal(op, API_OP_LOGS);
}

static void test_request_build_puts_op_first(void **state)
{
	char *line = api_request_build(API_OP_STATUS, "{\"id\": 3}");

	assert_string_equal(line, "{\"op\":\"status\",\"id\":3}");
	free(line);
}

static void test_request_build_without_fields(void **state)
{
	char *line = api_request_build(API_OP_PING, NULL);

	assert_string_equal(line, "{\"op\":\"ping\"}");
	free(line);
}

static void test_request_build_refuses_non_object(void **state)
{
	assert_null(api_request_build(API_OP_PING, "[1]"));
}

static void test_built_request_parses(void **state)
{
	char *line = api_request_build(API_OP_SUBMIT, "{\"argv\": [\"echo\", \"é\"], \"no_queue\": true}");
	struct parsed p;

	assert_accepted(&p, line);
	assert_string_equal(p.req.argv[1], "é");
	api_request_free(&p.req);
	free(line);
}

static void test_response_ok_orders_ok_tag_body(void **state)
{
	char *line = api_response_ok("[1,\"x\"]", "{\"version\": \"0.1.0\", \"pid\": 12}");

	assert_string_equal(line, "{\"ok\":true,\"tag\":[1,\"x\"],\"version\":\"0.1.0\",\"pid\":12}\n");
	free(line);
}

static void test_response_ok_without_tag_or_body(void **state)
{
	char *line = api_response_ok(NULL, NULL);

	assert_string_equal(line, "{\"ok\":true}\n");
	free(line);
}

static void test_response_ok_body_cannot_override_ok(void **state)
{
	char *line = api_response_ok(NULL, "{\"ok\": false, \"n\": 1}");

	assert_string_equal(line, "{\"ok\":true,\"n\":1}\n");
	free(line);
}

static void test_response_ok_is_one_line(void **state)
{
	char *line = api_response_ok(NULL, "{\"s\": \"a\\nb\"}");

	assert_non_null(line);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
}

static void test_response_error_shape(void **state)
{
	char *line = api_response_error("5", API_ERR_NOT_FOUND, "task 42 does not exist");

	assert_string_equal(line,
			    "{\"ok\":false,\"tag\":5,\"error\":{\"code\":\"not_found\","
			    "\"message\":\"task 42 does not exist\"}}\n");
	free(line);
}

/* ---- TASK ----------------------------------------------------------------- */

static void fill_task(struct store_task *t, enum store_task_state st)
{
	memset(t, 0, sizeof(*t));
	t->id = 42;
	t->user = "alice";
	t->profile = "default";
	t->argv_json = "[\"echo\",\"hi\"]";
	t->state = st;
	t->usage.exit_code = -1;
	t->usage.signal = -1;
	t->host_uid = -1;
	t->submitted_at_us = 1700000000000000;
	t->wall_limit_ms = 60000;
	t->cpu_limit_us = 30000000;
	t->memory_limit_bytes = 1 << 28;
}

static json_t *task_object(const struct store_task *t, const struct api_pending *pending)
{
	char *text = api_task_json(t, pending);
	json_t *obj;

	assert_non_null(text);
	obj = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(obj);
	return obj;
}

static void test_task_json_has_every_documented_field(void **state)
{
	static const char *const names[] = {
		"id",
		"user",
		"profile",
		"argv",
		"state",
		"reason",
		"message",
		"exit_code",
		"signal",
		"submitted_at_us",
		"started_at_us",
		"ended_at_us",
		"timeout_ms",
		"cpu_limit_ms",
		"memory_bytes",
		"cpu_us",
		"cpu_user_us",
		"cpu_system_us",
		"memory_peak_bytes",
		"stdout_bytes",
		"stderr_bytes",
		"stdout_truncated",
		"stderr_truncated",
		"attempts",
		"last_attempt_error",
		"node",
		"argv_truncated",
		"stored_bytes",
		"gpus",
		"gpu_memory_bytes",
		"labels",
		"cpu_millis",
		"oom_killed",
		"oom_kills",
	};
	struct store_task t;
	json_t *obj;

	fill_task(&t, STORE_RUNNING);
	obj = task_object(&t, NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!json_object_get(obj, names[i]))
			fail_msg("TASK lacks '%s'", names[i]);
	assert_int_equal(json_object_size(obj), sizeof(names) / sizeof(names[0]));
	json_decref(obj);
}

static void test_task_json_running_has_no_queued_fields(void **state)
{
	struct store_task t;
	json_t *obj;

	fill_task(&t, STORE_RUNNING);
	obj = task_object(&t, NULL);
	assert_null(json_object_get(obj, "position"));
	assert_null(json_object_get(obj, "pending_reason"));
	assert_null(json_object_get(obj, "pending_message"));
	json_decref(obj);
}

static void test_task_json_queued_has_pending_fields(void **state)
{
	struct api_pending pending = { 3, "concurrency_limit", "alice has 2 of 2 tasks running" };
	struct store_task t;
	json_t *obj;

	fill_task(&t, STORE_QUEUED);
	obj = task_object(&t, &pending);
	assert_int_equal(json_integer_value(json_object_get(obj, "position")), 3);
	assert_string_equal(json_string_value(json_object_get(obj, "pending_reason")), "concurrency_limit");
	assert_string_equal(json_string_value(json_object_get(obj, "pending_message")),
			    "alice has 2 of 2 tasks running");
	json_decref(obj);
}

static void test_task_json_values(void **state)
{
	struct store_task t;
	json_t *obj;

	fill_task(&t, STORE_FAILED);
	t.reason = STORE_REASON_SIGNAL;
	t.usage.signal = 9;
	t.message = "killed by signal 9";
	t.cpu_charged_us = 1500000;
	obj = task_object(&t, NULL);
	assert_string_equal(json_string_value(json_object_get(obj, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(obj, "reason")), "signal");
	assert_int_equal(json_integer_value(json_object_get(obj, "signal")), 9);
	assert_true(json_is_null(json_object_get(obj, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(obj, "cpu_limit_ms")), 30000);
	assert_int_equal(json_integer_value(json_object_get(obj, "cpu_us")), 1500000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(obj, "argv"), 1)), "hi");
	json_decref(obj);
}

static void test_task_json_reason_none_is_null(void **state)
{
	struct store_task t;
	json_t *obj;

	fill_task(&t, STORE_QUEUED);
	obj = task_object(&t, NULL);
	assert_true(json_is_null(json_object_get(obj, "reason")));
	assert_int_equal(json_integer_value(json_object_get(obj, "position")), 0);
	json_decref(obj);
}

/* ---- base64 --------------------------------------------------------------- */

static void test_base64_round_trip_binary(void **state)
{
	unsigned char data[256], *back;
	size_t n;

	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	for (size_t len = 0; len <= 5; len++) {
		char *text = api_base64_encode(data + 250, len);

		assert_int_equal(api_base64_decode(text, strlen(text), &back, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, data + 250, len);
		free(back);
		free(text);
	}
}

static void test_base64_known_vectors(void **state)
{
	char *text = api_base64_encode("foobar", 6);
	unsigned char *out;
	size_t n;

	assert_string_equal(text, "Zm9vYmFy");
	free(text);
	assert_int_equal(api_base64_decode("Zm8=", 4, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "fo", 2);
	free(out);
}

/* The length without decoding: what the decode gives, for every padding
 * (none, one '=', two), and 0 for the empty text and one too short. */
static void test_base64_decoded_len_is_the_decodes(void **state)
{
	unsigned char data[8] = "abcdefg", *back;
	size_t n;

	for (size_t len = 0; len <= sizeof(data); len++) {
		char *text = api_base64_encode(data, len);

		assert_int_equal(api_base64_decode(text, strlen(text), &back, &n), 0);
		assert_int_equal(api_base64_decoded_len(text, strlen(text)), n);
		assert_int_equal(n, len);
		free(back);
		free(text);
	}
	assert_int_equal(api_base64_decoded_len("Zg==", 4), 1);
	assert_int_equal(api_base64_decoded_len("Zm8=", 4), 2);
	assert_int_equal(api_base64_decoded_len("Zm9v", 4), 3);
	assert_int_equal(api_base64_decoded_len("Zm9vYg==", 8), 4);
	assert_int_equal(api_base64_decoded_len("==", 2), 0);
}

static void test_base64_rejects_garbage(void **state)
{
	unsigned char *out;
	size_t n;

	assert_int_equal(api_base64_decode("Zm9", 3, &out, &n), -EINVAL);
	assert_int_equal(api_base64_decode("Zm=v", 4, &out, &n), -EINVAL);
	assert_int_equal(api_base64_decode("Zm9*", 4, &out, &n), -EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_longer_than_max_is_too_large_before_parsing),
		cmocka_unit_test(test_malformed_json_is_bad_request_with_position),
		cmocka_unit_test(test_trailing_garbage_is_bad_request),
		cmocka_unit_test(test_empty_line_is_bad_request),
		cmocka_unit_test(test_top_level_array_is_bad_request),
		cmocka_unit_test(test_top_level_number_is_bad_request),
		cmocka_unit_test(test_missing_op_is_bad_request),
		cmocka_unit_test(test_op_not_a_string_is_bad_request),
		cmocka_unit_test(test_unknown_op_lists_the_ops),
		cmocka_unit_test(test_policy_push_needs_a_text),
		cmocka_unit_test(test_upload_ops_fields),
		cmocka_unit_test(test_node_drain_needs_a_node_name),
		cmocka_unit_test(test_submit_placement_fields),
		cmocka_unit_test(test_submit_cpu_millis),
		cmocka_unit_test(test_unknown_field_is_named),
		cmocka_unit_test(test_error_step_names_the_parse_step),
		cmocka_unit_test(test_field_of_another_op_is_unknown),
		cmocka_unit_test(test_duplicate_key_is_bad_request),
		cmocka_unit_test(test_argv_not_an_array_is_bad_request),
		cmocka_unit_test(test_argv_with_a_number_is_bad_request),
		cmocka_unit_test(test_missing_argv_is_bad_request),
		cmocka_unit_test(test_empty_argv_is_bad_request),
		cmocka_unit_test(test_empty_command_is_bad_request),
		cmocka_unit_test(test_too_many_args_is_bad_request),
		cmocka_unit_test(test_max_args_are_accepted),
		cmocka_unit_test(test_too_long_arg_is_bad_request),
		cmocka_unit_test(test_too_many_env_is_bad_request),
		cmocka_unit_test(test_env_without_equals_is_bad_request),
		cmocka_unit_test(test_env_with_empty_name_is_bad_request),
		cmocka_unit_test(test_nul_in_argv_is_bad_request),
		cmocka_unit_test(test_nul_in_user_is_bad_request),
		cmocka_unit_test(test_nul_in_stdin_is_kept),
		cmocka_unit_test(test_stdin_over_limit_is_bad_request),
		cmocka_unit_test(test_user_wrong_type_is_bad_request),
		cmocka_unit_test(test_empty_user_is_bad_request),
		cmocka_unit_test(test_negative_timeout_is_bad_request),
		cmocka_unit_test(test_zero_timeout_for_submit_is_bad_request),
		cmocka_unit_test(test_absurd_memory_is_bad_request),
		cmocka_unit_test(test_absurd_cpu_limit_is_bad_request),
		cmocka_unit_test(test_fractional_timeout_is_bad_request),
		cmocka_unit_test(test_integer_overflow_is_bad_request),
		cmocka_unit_test(test_no_queue_not_bool_is_bad_request),
		cmocka_unit_test(test_zero_id_is_bad_request),
		cmocka_unit_test(test_negative_id_is_bad_request),
		cmocka_unit_test(test_string_id_is_bad_request),
		cmocka_unit_test(test_missing_id_is_bad_request),
		cmocka_unit_test(test_unknown_state_is_bad_request),
		cmocka_unit_test(test_list_limit_over_max_is_bad_request),
		cmocka_unit_test(test_unknown_stream_is_bad_request),
		cmocka_unit_test(test_logs_max_over_chunk_is_bad_request),
		cmocka_unit_test(test_negative_offset_is_bad_request),
		cmocka_unit_test(test_bad_month_is_bad_request),
		cmocka_unit_test(test_usage_adjust_needs_exactly_one_amount),
		cmocka_unit_test(test_usage_adjust_needs_user_and_reason),
		cmocka_unit_test(test_usage_adjust_reason_over_256_bytes_is_bad_request),
		cmocka_unit_test(test_usage_adjust_zero_or_absurd_delta_is_bad_request),
		cmocka_unit_test(test_usage_adjust_is_an_operator_op_that_mutates),
		cmocka_unit_test(test_usage_adjust_parses_delta),
		cmocka_unit_test(test_usage_adjust_parses_set_left_zero),
		cmocka_unit_test(test_error_keeps_the_tag),
		cmocka_unit_test(test_ping_parses),
		cmocka_unit_test(test_version_parses_with_string_tag),
		cmocka_unit_test(test_submit_parses_every_field),
		cmocka_unit_test(test_submit_minimal_has_nothing_else),
		cmocka_unit_test(test_status_parses),
		cmocka_unit_test(test_list_parses_with_default_limit),
		cmocka_unit_test(test_list_parses_limit),
		cmocka_unit_test(test_queue_parses),
		cmocka_unit_test(test_cancel_parses),
		cmocka_unit_test(test_wait_parses_zero_timeout),
		cmocka_unit_test(test_logs_parses_with_defaults),
		cmocka_unit_test(test_logs_parses_every_field),
		cmocka_unit_test(test_usage_parses),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_request_build_puts_op_first),
		cmocka_unit_test(test_request_build_without_fields),
		cmocka_unit_test(test_request_build_refuses_non_object),
		cmocka_unit_test(test_built_request_parses),
		cmocka_unit_test(test_response_ok_orders_ok_tag_body),
		cmocka_unit_test(test_response_ok_without_tag_or_body),
		cmocka_unit_test(test_response_ok_body_cannot_override_ok),
		cmocka_unit_test(test_response_ok_is_one_line),
		cmocka_unit_test(test_response_error_shape),
		cmocka_unit_test(test_task_json_has_every_documented_field),
		cmocka_unit_test(test_task_json_running_has_no_queued_fields),
		cmocka_unit_test(test_task_json_queued_has_pending_fields),
		cmocka_unit_test(test_task_json_values),
		cmocka_unit_test(test_task_json_reason_none_is_null),
		cmocka_unit_test(test_base64_round_trip_binary),
		cmocka_unit_test(test_base64_known_vectors),
		cmocka_unit_test(test_base64_decoded_len_is_the_decodes),
		cmocka_unit_test(test_base64_rejects_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
