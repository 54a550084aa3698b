/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_http_multipart.c — multipart/form-data bodies
 * (supervisor/corrald/http_multipart.c): the boundary of a Content-Type,
 * parts with names, quoted and escaped filenames, types and binary data
 * holding CRLFs and near-delimiters, a preamble and an epilogue; and the
 * refusals: no boundary, no delimiter, an unterminated part or body, a
 * part without Content-Disposition or name, malformed or endless headers,
 * a NUL in a header (a filename cut short).
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

#include "supervisor/corrald/http_multipart.h"

struct seen {
	struct http_multipart_part parts[8];
	size_t n;
};

static int collect(void *ctx, const struct http_multipart_part *p, char *why, size_t size)
{
	struct seen *s = ctx;

	(void)why;
	(void)size;
	if (s->n < 8)
		s->parts[s->n++] = *p;
	return 0;
}

static int parse(const char *body, size_t len, struct seen *s, char *why, size_t size)
{
	memset(s, 0, sizeof(*s));
	why[0] = '\0';
	return http_multipart_parse((const unsigned char *)body, len, "XyZ", collect, s, why, size);
}

static void test_boundaries_of_content_types(void **state)
{
	char b[HTTP_MULTIPART_BOUNDARY_MAX + 1], why[256];
	char long_type[200];

	(void)state;
	assert_int_equal(http_multipart_boundary("multipart/form-data; boundary=abc123", b, why, sizeof(why)),
			 0);
	assert_string_equal(b, "abc123");
	assert_int_equal(http_multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b:c\"", b, why,
						 sizeof(why)),
			 0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(http_multipart_boundary("multipart/form-data", b, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no boundary"));
	assert_int_equal(http_multipart_boundary("multipart/form-data; boundary=", b, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(http_multipart_boundary("multipart/form-data; boundary=\"open", b, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(http_multipart_boundary("multipart/mixed; boundary=a", b, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(http_multipart_boundary("multipart/form-data; boundary=a\x01", b, why, sizeof(why)),
			 -EINVAL);
	snprintf(long_type, sizeof(long_type), "multipart/form-data; boundary=%080d", 0);
	assert_int_equal(http_multipart_boundary(long_type, b, why, sizeof(why)), -EINVAL);
	assert_int_equal(http_multipart_boundary(NULL, b, why, sizeof(why)), -EINVAL);
}

static void test_parts_with_binary_data_read_back(void **state)
{
	static const char body[] =
		"preamble to ignore\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"task\"\r\n"
		"\r\n"
		"{\"argv\":[\"x\"]}\r\n"
		"--XyZ\r\n"
		"content-disposition: form-data; name=\"f\"; filename=\"sub/a \\\"q\\\".bin\"\r\n"
		"Content-Type: Application/Octet-Stream; x=y\r\n"
		"\r\n"
		"\x00\x01\r\n--XY\r\n-XyZ--Xy\xff\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=empty\r\n"
		"\r\n"
		"\r\n"
		"--XyZ--\r\n"
		"epilogue";
	char why[256];
	struct seen s;

	(void)state;
	if (parse(body, sizeof(body) - 1, &s, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.parts[0].name, "task");
	assert_false(s.parts[0].has_filename);
	assert_int_equal(s.parts[0].len, 14);
	assert_memory_equal(s.parts[0].data, "{\"argv\":[\"x\"]}", 14);
	assert_string_equal(s.parts[1].name, "f");
	assert_true(s.parts[1].has_filename);
	assert_string_equal(s.parts[1].filename, "sub/a \"q\".bin");
	assert_string_equal(s.parts[1].type, "application/octet-stream");
	assert_int_equal(s.parts[1].len, 19);
	assert_memory_equal(s.parts[1].data, "\x00\x01\r\n--XY\r\n-XyZ--Xy\xff", 19);
	assert_string_equal(s.parts[2].name, "empty");
	assert_int_equal(s.parts[2].len, 0);
}

static void expect_refused(const char *body, const char *part)
{
	char why[256];
	struct seen s;

	if (parse(body, strlen(body), &s, why, sizeof(why)) != -EINVAL || !strstr(why, part))
		fail_msg("'%s' -> '%s' (want '%s')", body, why, part);
}

static void test_malformed_bodies_are_refused(void **state)
{
	char big[HTTP_MULTIPART_HEADERS_MAX + 200];

	(void)state;
	expect_refused("no delimiter here", "no multipart delimiter");
	expect_refused("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ndata without end",
		       "not terminated");
	expect_refused("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ",
		       "not followed by CRLF");
	expect_refused("--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "not terminated");
	expect_refused("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "no Content-Disposition");
	expect_refused("--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--XyZ--",
		       "missing");
	expect_refused("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--",
		       "form-data");
	expect_refused("--XyZ\r\nbroken header\r\n\r\nx\r\n--XyZ--", "malformed header");
	expect_refused("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--", "malformed");
	expect_refused("--XyZ\r\n\r\nx\r\n--XyZ--", "no Content-Disposition");
	snprintf(big, sizeof(big),
		 "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: %0*d\r\n\r\nx\r\n--XyZ--",
		 (int)HTTP_MULTIPART_HEADERS_MAX, 0);
	expect_refused(big, "too long");
}

static int stop_at_second(void *ctx, const struct http_multipart_part *p, char *why, size_t size)
{
	int *n = ctx;

	(void)p;
	if (++*n == 2) {
		snprintf(why, size, "stopped");
		return -E2BIG;
	}
	return 0;
}

static void test_a_callback_refusal_stops_the_parse(void **state)
{
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
				   "--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
				   "--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n--XyZ--";
	char why[64];
	int n = 0;

	(void)state;
	assert_int_equal(http_multipart_parse((const unsigned char *)body, sizeof(body) - 1, "XyZ",
					      stop_at_second, &n, why, sizeof(why)),
			 -E2BIG);
	assert_int_equal(n, 2);
	assert_string_equal(why, "stopped");
}

/* A NUL in a filename would cut it short ("a\0/../../x" read as "a"):
 * refused, as a NUL anywhere in a part's headers. */
static void test_a_nul_in_part_headers_is_refused(void **state)
{
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
				   "filename=\"a\0/../../x\"\r\n\r\ndata\r\n--XyZ--\r\n";
	static const char type[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n"
				   "Content-Type: application/x-tar\0\r\n\r\ndata\r\n--XyZ--\r\n";
	struct seen s;
	char why[256];

	(void)state;
	assert_int_equal(parse(body, sizeof(body) - 1, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(s.n, 0);
	assert_int_equal(parse(type, sizeof(type) - 1, &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries_of_content_types),
		cmocka_unit_test(test_parts_with_binary_data_read_back),
		cmocka_unit_test(test_malformed_bodies_are_refused),
		cmocka_unit_test(test_a_callback_refusal_stops_the_parse),
		cmocka_unit_test(test_a_nul_in_part_headers_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
