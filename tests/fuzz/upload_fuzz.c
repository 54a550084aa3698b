/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/upload_fuzz.c — libFuzzer target for the parsers of a
 * submit's body over HTTP: tar archives (supervisor/api/api_tar.c) and
 * multipart/form-data (supervisor/corrald/http_multipart.c), each tar
 * part of a multipart body parsed as corrald does.  Any bytes must parse
 * or be refused with a reason, never read out of bounds, crash or leak;
 * every entry taken lies within the input.
 * Input: one selector byte (even: a tar body; odd: a multipart body with
 * boundary "B"), then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"
#include "supervisor/corrald/http_multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *base;
static size_t base_len;

static void check_within(const struct api_files_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		if (in->items[i].data &&
		    (in->items[i].data < base || in->items[i].data + in->items[i].len > base + base_len))
			abort();
}

static int on_part(void *ctx, const struct http_multipart_part *p, char *why, size_t size)
{
	struct api_files_inputs *in = ctx;

	if (p->data < base || p->data + p->len > base + base_len)
		abort();
	if (strcmp(p->type, "application/x-tar") == 0)
		return api_tar_parse(p->data, p->len, in, why, size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_files_inputs in = { 0 };
	char why[512];

	if (size < 1)
		return 0;
	base = data + 1;
	base_len = size - 1;
	if (data[0] % 2 == 0)
		api_tar_parse(base, base_len, &in, why, sizeof(why));
	else
		http_multipart_parse(base, base_len, "B", on_part, &in, why, sizeof(why));
	check_within(&in);
	api_files_inputs_free(&in);
	return 0;
}
