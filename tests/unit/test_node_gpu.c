/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_node_gpu.c — nvidia-smi's answer read by corrald
 * (supervisor/corrald/node_gpu.c): `--query-gpu=memory.total
 * --format=csv,noheader,nounits` prints one GPU's memory in MiB per line;
 * the node offers that many GPUs with the smallest one's memory, and any
 * other answer (a driver error, "[N/A]", a negative or absurd size) is
 * refused as a whole, never half-read.
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

#include "supervisor/corrald/corrald.h"

#define MiB (1024ULL * 1024)

static void test_one_line_per_gpu_smallest_memory_wins(void **state)
{
	uint32_t n = 99;
	uint64_t mem = 99;

	(void)state;
	assert_int_equal(node_gpu_parse("81920\n81920\n", &n, &mem), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mem, 81920 * MiB);
	assert_int_equal(node_gpu_parse("81920\n40960\n24576\n40960\n", &n, &mem), 0);
	assert_int_equal(n, 4);
	assert_int_equal(mem, 24576 * MiB);
	/* blanks, CR LF, no final newline, empty lines */
	assert_int_equal(node_gpu_parse(" 16384 \r\n\n16384", &n, &mem), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mem, 16384 * MiB);
}

static void test_no_gpu_is_zero(void **state)
{
	uint32_t n = 99;
	uint64_t mem = 99;

	(void)state;
	assert_int_equal(node_gpu_parse("", &n, &mem), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mem, 0);
	assert_int_equal(node_gpu_parse("\n\n", &n, &mem), 0);
	assert_int_equal(n, 0);
}

static void test_anything_else_is_refused_whole(void **state)
{
	static const char *const bad[] = {
		"[N/A]\n",
		"81920\n[Not Supported]\n",
		"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
		"-5\n",
		"0\n",
		"81920 MiB\n",
		"99999999999999999999\n",
		"1073741825\n", /* more than 1 PiB of memory on one GPU */
		"1234567890123456789012345678901234567890123456789012345678901234567890\n",
	};
	uint32_t n = 7;
	uint64_t mem = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(node_gpu_parse(bad[i], &n, &mem), -EINVAL);
		assert_int_equal(n, 7); /* untouched */
		assert_int_equal(mem, 7);
	}
}

static void test_more_than_1024_gpus_is_refused(void **state)
{
	char *text = malloc(1025 * 6 + 1);
	uint32_t n;
	uint64_t mem;

	(void)state;
	assert_non_null(text);
	text[0] = '\0';
	for (int i = 0; i < 1025; i++)
		strcat(text, "1024\n");
	assert_int_equal(node_gpu_parse(text, &n, &mem), -E2BIG);
	text[strlen(text) - 5] = '\0'; /* 1024 lines */
	assert_int_equal(node_gpu_parse(text, &n, &mem), 0);
	assert_int_equal(n, 1024);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_gpu_smallest_memory_wins),
		cmocka_unit_test(test_no_gpu_is_zero),
		cmocka_unit_test(test_anything_else_is_refused_whole),
		cmocka_unit_test(test_more_than_1024_gpus_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
