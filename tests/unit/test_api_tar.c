/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_api_tar.c — tar archives (supervisor/api/api_tar.c):
 * what the artifact stream writes reads back (short, long and prefixed
 * names, a truncation record), directories and "./" members, and every
 * refusal of a submit's tar body: links, devices, FIFOs, GNU long names,
 * bad checksums and magic, truncation, absurd sizes (octal, base-256,
 * pax), too many entries, bytes after the end.
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

#include "supervisor/api/api.h"
#include "tests/lib/tar_build.h"

static int parse(struct tar_build *a, struct api_files_inputs *in, char *why, size_t size)
{
	memset(in, 0, sizeof(*in));
	why[0] = '\0';
	return api_tar_parse(a->p, a->len, in, why, size);
}

static void expect_refused(struct tar_build *a, int want, const char *part)
{
	struct api_files_inputs in;
	char why[512];
	int r = parse(a, &in, why, sizeof(why));

	if (r != want || (part && !strstr(why, part)))
		fail_msg("parse: %d (want %d) '%s' (want '%s')", r, want, why, part ? part : "");
	api_files_inputs_free(&in);
	free(a->p);
}

static void test_written_members_read_back(void **state)
{
	struct tar_build a = { 0 };
	struct api_files_inputs in;
	char why[512], long_name[400], prefixed[200];

	(void)state;
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	long_name[100] = '/';
	snprintf(prefixed, sizeof(prefixed), "%0120d/%s", 0, "leaf.bin");
	tar_build_file(&a, "a.txt", "hello\n", false);
	tar_build_file(&a, long_name, "long", false);
	tar_build_file(&a, prefixed, "prefixed", false);
	tar_build_file(&a, "cut.log", "head", true);
	tar_build_file(&a, "empty", "", false);
	tar_build_end(&a);
	assert_int_equal(parse(&a, &in, why, sizeof(why)), 0);
	assert_int_equal(in.count, 5);
	assert_string_equal(in.items[0].name, "a.txt");
	assert_int_equal(in.items[0].len, 6);
	assert_memory_equal(in.items[0].data, "hello\n", 6);
	assert_int_equal(in.items[0].mode, 0644);
	assert_string_equal(in.items[1].name, long_name);
	assert_memory_equal(in.items[1].data, "long", 4);
	assert_string_equal(in.items[2].name, prefixed);
	assert_memory_equal(in.items[2].data, "prefixed", 8);
	assert_string_equal(in.items[3].name, "cut.log");
	assert_int_equal(in.items[4].len, 0);
	api_files_inputs_free(&in);
	free(a.p);
}

static void test_directories_and_dot_slash_members(void **state)
{
	struct tar_build a = { 0 };
	struct api_files_inputs in;
	char why[512];

	(void)state;
	tar_build_raw(&a, "./", '5', "");
	tar_build_raw(&a, "./src/", '5', "");
	tar_build_raw(&a, "./src/x.c", '0', "int x;\n");
	tar_build_raw(&a, "old", '\0', "v7 regular");
	tar_build_end(&a);
	assert_int_equal(parse(&a, &in, why, sizeof(why)), 0);
	assert_int_equal(in.count, 3);
	assert_string_equal(in.items[0].name, "src");
	assert_true(in.items[0].is_dir);
	assert_string_equal(in.items[1].name, "src/x.c");
	assert_false(in.items[1].is_dir);
	assert_string_equal(in.items[2].name, "old");
	api_files_inputs_free(&in);
	free(a.p);
}

static void test_links_devices_and_fifos_are_refused(void **state)
{
	static const struct {
		char type;
		const char *says;
	} kinds[] = { { '1', "hard link" },     { '2', "symbolic link" }, { '3', "character device" },
		      { '4', "block device" },  { '6', "FIFO" },          { 'L', "GNU long name" },
		      { 'K', "GNU long name" }, { 'S', "sparse" },        { 'Z', "unknown" } };

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct tar_build a = { 0 };

		tar_build_file(&a, "before", "x", false);
		tar_build_raw(&a, "evil", kinds[i].type, "");
		tar_build_end(&a);
		expect_refused(&a, -EINVAL, kinds[i].says);
	}
}

static void test_bad_checksum_and_magic_are_refused(void **state)
{
	struct tar_build a = { 0 };

	(void)state;
	tar_build_file(&a, "a", "data", false);
	tar_build_end(&a);
	a.p[0] = 'b'; /* the name changed, not the sum */
	expect_refused(&a, -EINVAL, "checksum");
	memset(&a, 0, sizeof(a));
	tar_build_file(&a, "a", "data", false);
	tar_build_end(&a);
	memcpy(a.p + 257, "notar\0", 6);
	tar_build_checksum(a.p);
	expect_refused(&a, -EINVAL, "magic");
}

static void test_truncated_archives_are_refused(void **state)
{
	struct tar_build a = { 0 };

	(void)state;
	tar_build_file(&a, "a", "data", false);
	tar_build_end(&a);
	a.len -= 100; /* not whole blocks */
	expect_refused(&a, -EINVAL, "truncated");
	memset(&a, 0, sizeof(a));
	tar_build_file(&a, "a", "data", false); /* no end blocks */
	expect_refused(&a, -EINVAL, "truncated");
	memset(&a, 0, sizeof(a));
	{
		char big[3000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		tar_build_file(&a, "a", big, false);
	}
	a.len = 1024; /* header and two of its six blocks */
	expect_refused(&a, -EINVAL, "truncated");
	memset(&a, 0, sizeof(a));
	tar_build_end(&a);
	a.len = 0; /* nothing at all */
	expect_refused(&a, -EINVAL, "truncated");
}

static void test_absurd_sizes_are_refused(void **state)
{
	struct tar_build a = { 0 };
	unsigned char h[512];
	char pax[64];

	(void)state;
	/* 10^15 in octal needs 17 digits: as many as the field and its NUL allow is 11 */
	tar_build_raw_header(h, "huge", '0', "77777777777");
	tar_build_append(&a, h, 512);
	tar_build_end(&a);
	expect_refused(&a, -EINVAL, "claims");
	/* base-256 (GNU's big numbers) */
	memset(&a, 0, sizeof(a));
	tar_build_raw_header(h, "b256", '0', "");
	h[124] = 0x80;
	h[135] = 0x10;
	tar_build_checksum(h);
	tar_build_append(&a, h, 512);
	tar_build_end(&a);
	expect_refused(&a, -EINVAL, "octal");
	/* a pax size of 10^15 */
	memset(&a, 0, sizeof(a));
	snprintf(pax, sizeof(pax), "25 size=1000000000000000\n");
	tar_build_raw(&a, "PaxHeaders/huge", 'x', pax);
	tar_build_raw(&a, "huge", '0', "");
	tar_build_end(&a);
	expect_refused(&a, -EINVAL, "claims 1000000000000000");
	/* a malformed pax record */
	memset(&a, 0, sizeof(a));
	tar_build_raw(&a, "PaxHeaders/x", 'x', "99 path=x\n");
	tar_build_raw(&a, "x", '0', "");
	tar_build_end(&a);
	expect_refused(&a, -EINVAL, "malformed");
}

static void test_more_than_the_file_cap_is_too_large(void **state)
{
	struct tar_build a = { 0 };
	char name[32];

	(void)state;
	for (unsigned i = 0; i <= API_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		tar_build_raw(&a, name, '0', "");
	}
	tar_build_end(&a);
	expect_refused(&a, -E2BIG, "more than 1000");
}

static void test_bytes_after_the_end_are_refused(void **state)
{
	struct tar_build a = { 0 };

	(void)state;
	tar_build_file(&a, "a", "data", false);
	tar_build_end(&a);
	tar_build_file(&a, "hidden", "smuggled", false);
	expect_refused(&a, -EINVAL, "after the archive's end");
}

static void test_header_sizes_and_truncation_record(void **state)
{
	unsigned char h[API_TAR_HEADER_MAX];
	char name[API_FILES_PATH_MAX + 1];

	(void)state;
	assert_int_equal(api_tar_header("a", 0644, 1, false, 0, h), 512);
	assert_int_equal(api_tar_header("a", 0644, 1, true, 0, h), 1536);
	assert_non_null(memmem(h + 512, 512, "CORRAL.truncated=1\n", 19));
	assert_int_equal(h[156], 'x');
	assert_int_equal(h[1024 + 156], '0');
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_true(api_tar_header(name, 0755, 1ull << 34, true, 0, h) <= API_TAR_HEADER_MAX);
	assert_int_equal(api_tar_padding(0), 0);
	assert_int_equal(api_tar_padding(1), 511);
	assert_int_equal(api_tar_padding(512), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_members_read_back),
		cmocka_unit_test(test_directories_and_dot_slash_members),
		cmocka_unit_test(test_links_devices_and_fifos_are_refused),
		cmocka_unit_test(test_bad_checksum_and_magic_are_refused),
		cmocka_unit_test(test_truncated_archives_are_refused),
		cmocka_unit_test(test_absurd_sizes_are_refused),
		cmocka_unit_test(test_more_than_the_file_cap_is_too_large),
		cmocka_unit_test(test_bytes_after_the_end_are_refused),
		cmocka_unit_test(test_header_sizes_and_truncation_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
