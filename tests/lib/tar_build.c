/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/tar_build.c — tar archives built in memory: see tar_build.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/api/api.h"
#include "tests/lib/tar_build.h"

void tar_build_append(struct tar_build *a, const void *data, size_t n)
{
	a->p = realloc(a->p, a->len + n + 1);
	assert_non_null(a->p);
	memcpy(a->p + a->len, data, n);
	a->len += n;
}

void tar_build_pad(struct tar_build *a)
{
	static const unsigned char zeros[API_TAR_BLOCK];

	tar_build_append(a, zeros, api_tar_padding(a->len));
}

void tar_build_file(struct tar_build *a, const char *name, const char *data, bool truncated)
{
	unsigned char h[API_TAR_HEADER_MAX];
	size_t n = api_tar_header(name, 0644, strlen(data), truncated, 1700000000, h);

	tar_build_append(a, h, n);
	tar_build_append(a, data, strlen(data));
	tar_build_pad(a);
}

void tar_build_checksum(unsigned char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

void tar_build_raw_header(unsigned char *h, const char *name, char type, const char *size_field)
{
	memset(h, 0, 512);
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	memcpy(h + 124, size_field, strlen(size_field) < 12 ? strlen(size_field) : 12);
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	tar_build_checksum(h);
}

void tar_build_raw(struct tar_build *a, const char *name, char type, const char *data)
{
	unsigned char h[512];
	char size[32];

	snprintf(size, sizeof(size), "%011zo", strlen(data));
	tar_build_raw_header(h, name, type, size);
	tar_build_append(a, h, 512);
	tar_build_append(a, data, strlen(data));
	tar_build_pad(a);
}

void tar_build_end(struct tar_build *a)
{
	static const unsigned char zeros[2 * API_TAR_BLOCK];

	tar_build_append(a, zeros, sizeof(zeros));
}
