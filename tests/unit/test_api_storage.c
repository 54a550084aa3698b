/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_api_storage.c — the wire contract's storage limits
 * (issue 16): the stored caps on argv and env at submit, list's pages
 * (limit, after) and the SUMMARY whose argv is a bounded preview even when
 * the store hands over a cut prefix of a megabyte argv.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "supervisor/api/api.h"
#include "supervisor/store/store.h"

/* A submit line whose field (argv or env) has n strings of len bytes each;
 * env strings are "Vi=xxx" with len counting the whole string. */
static char *submit_line(const char *field, size_t n, size_t len)
{
	json_t *req = json_object(), *a = json_array();
	char *text, *s = malloc(len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		memset(s, 'x', len);
		s[len] = '\0';
		if (strcmp(field, "env") == 0)
			memcpy(s, "V=", 2);
		json_array_append_new(a, json_string(s));
	}
	json_object_set_new(req, "op", json_string("submit"));
	if (strcmp(field, "env") == 0) {
		json_t *argv = json_array();

		json_array_append_new(argv, json_string("/bin/true"));
		json_object_set_new(req, "argv", argv);
	}
	json_object_set_new(req, field, a);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(s);
	return text;
}

/* 0 when accepted, else the wire code; *message gets err.message. */
static enum api_error_code parse_code(const char *line, char *message, size_t size)
{
	struct api_request req;
	enum api_error_code code = API_ERR_NONE;
	struct error err = { 0 };
	int r = api_request_parse(line, strlen(line), &req, &code, &err);

	snprintf(message, size, "%s", r < 0 ? err.message : "");
	api_request_free(&req);
	return r < 0 ? code : API_ERR_NONE;
}

static void test_argv_over_128_kib_in_all_is_too_large(void **state)
{
	char msg[512];
	char *fits = submit_line("argv", 4, 32 << 10);       /* 128 KiB exactly */
	char *over = submit_line("argv", 4, (32 << 10) + 1); /* a few bytes more */

	assert_int_equal(parse_code(fits, msg, sizeof(msg)), API_ERR_NONE);
	assert_int_equal(parse_code(over, msg, sizeof(msg)), API_ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "field 'argv' holds 131076 bytes in all (at most 131072"));
	free(fits);
	free(over);
}

static void test_env_over_64_kib_in_all_is_too_large(void **state)
{
	char msg[512];
	char *fits = submit_line("env", 16, 4 << 10);
	char *over = submit_line("env", 17, 4 << 10);

	assert_int_equal(parse_code(fits, msg, sizeof(msg)), API_ERR_NONE);
	assert_int_equal(parse_code(over, msg, sizeof(msg)), API_ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "field 'env' holds"));
	free(fits);
	free(over);
}

static void test_list_takes_after_and_refuses_zero(void **state)
{
	struct api_request req;
	enum api_error_code code;
	struct error err = { 0 };
	const char *line = "{\"op\":\"list\",\"after\":77,\"limit\":1000}";
	char msg[512];

	assert_int_equal(api_request_parse(line, strlen(line), &req, &code, &err), 0);
	assert_int_equal(req.after, 77);
	assert_int_equal(req.limit, 1000);
	api_request_free(&req);
	assert_int_equal(parse_code("{\"op\":\"list\",\"after\":0}", msg, sizeof(msg)), API_ERR_BAD_REQUEST);
}

static void test_storage_quota_is_a_stable_code(void **state)
{
	enum api_error_code code;

	assert_string_equal(api_error_name(API_ERR_STORAGE_QUOTA), "storage_quota");
	assert_int_equal(api_error_parse("storage_quota", &code), 0);
	assert_int_equal(code, API_ERR_STORAGE_QUOTA);
}

/* The SUMMARY of a task whose argv_json is text. */
static json_t *summary_of(const char *argv_json)
{
	struct store_task t;
	json_t *obj;
	char *text;

	memset(&t, 0, sizeof(t));
	t.id = 7;
	t.user = "alice";
	t.profile = "default";
	t.argv_json = (char *)argv_json;
	t.state = STORE_SUCCEEDED;
	t.usage.exit_code = 0;
	t.usage.signal = -1;
	text = api_task_summary_json(&t, NULL);
	assert_non_null(text);
	obj = json_loads(text, 0, NULL);
	assert_non_null(obj);
	free(text);
	return obj;
}

static void test_summary_of_a_short_argv_is_whole(void **state)
{
	json_t *obj = summary_of("[\"/bin/echo\",\"a \\\"b\\\"\\n\",\"\\u00e9\"]");
	json_t *argv = json_object_get(obj, "argv");

	assert_int_equal(json_array_size(argv), 3);
	assert_string_equal(json_string_value(json_array_get(argv, 0)), "/bin/echo");
	assert_string_equal(json_string_value(json_array_get(argv, 1)), "a \"b\"\n");
	assert_string_equal(json_string_value(json_array_get(argv, 2)), "\xc3\xa9");
	assert_true(json_is_false(json_object_get(obj, "argv_truncated")));
	json_decref(obj);
}

/* A megabyte argument, and a prefix the store cut in the middle of a
 * string: at most API_ARGV_PREVIEW bytes, flagged truncated. */
static void test_summary_of_a_huge_or_cut_argv_is_a_bounded_preview(void **state)
{
	size_t big = 1u << 20, total = 0;
	char *text = malloc(big + 32);
	json_t *obj, *argv, *a;
	size_t i;

	assert_non_null(text);
	strcpy(text, "[\"sh\",\"");
	memset(text + 7, 'y', big);
	strcpy(text + 7 + big, "\"]");
	obj = summary_of(text);
	argv = json_object_get(obj, "argv");
	json_array_foreach (argv, i, a)
		total += json_string_length(a);
	assert_true(total <= API_ARGV_PREVIEW);
	assert_string_equal(json_string_value(json_array_get(argv, 0)), "sh");
	assert_true(json_is_true(json_object_get(obj, "argv_truncated")));
	json_decref(obj);

	text[7 + 100] = '\0'; /* the store's prefix: no closing quote */
	obj = summary_of(text);
	assert_int_equal(json_string_length(json_array_get(json_object_get(obj, "argv"), 1)), 100);
	assert_true(json_is_true(json_object_get(obj, "argv_truncated")));
	json_decref(obj);
	free(text);
}

/* A status TASK keeps the whole argv. */
static void test_task_json_keeps_the_whole_argv(void **state)
{
	struct store_task t;
	size_t big = 100000;
	char *text = malloc(big + 16);
	char *json;
	json_t *obj;

	assert_non_null(text);
	strcpy(text, "[\"");
	memset(text + 2, 'z', big);
	strcpy(text + 2 + big, "\"]");
	memset(&t, 0, sizeof(t));
	t.id = 1;
	t.argv_json = text;
	t.usage.exit_code = -1;
	t.usage.signal = -1;
	json = api_task_json(&t, NULL);
	obj = json_loads(json, 0, NULL);
	assert_int_equal(json_string_length(json_array_get(json_object_get(obj, "argv"), 0)), big);
	assert_true(json_is_false(json_object_get(obj, "argv_truncated")));
	json_decref(obj);
	free(json);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_over_128_kib_in_all_is_too_large),
		cmocka_unit_test(test_env_over_64_kib_in_all_is_too_large),
		cmocka_unit_test(test_list_takes_after_and_refuses_zero),
		cmocka_unit_test(test_storage_quota_is_a_stable_code),
		cmocka_unit_test(test_summary_of_a_short_argv_is_whole),
		cmocka_unit_test(test_summary_of_a_huge_or_cut_argv_is_a_bounded_preview),
		cmocka_unit_test(test_task_json_keeps_the_whole_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
