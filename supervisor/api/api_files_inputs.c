/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_files_inputs.c — a submit's input files read from a
 * body apart from the request line (HTTP multipart or tar: corrald's
 * http_upload.c, api_tar.c): a growing list of entries whose names are
 * copies and whose bytes stay in the body.  The checks of names, count and
 * sizes are the submit's (corrald's op_files.c), not here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"

int api_files_inputs_add(struct api_files_inputs *in, const char *name, size_t name_len, uint32_t mode,
			 bool is_dir, const unsigned char *data, uint64_t len)
{
	struct api_files_input *e;

	if (memchr(name, '\0', name_len))
		return -EINVAL;
	if (in->count >= API_MAX_FILES)
		return -E2BIG;
	if (in->count == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		struct api_files_input *p = realloc(in->items, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		in->items = p;
		in->cap = cap;
	}
	e = &in->items[in->count];
	e->name = strndup(name, name_len);
	if (!e->name)
		return -ENOMEM;
	e->mode = mode;
	e->is_dir = is_dir;
	e->data = is_dir ? NULL : data;
	e->len = is_dir ? 0 : len;
	in->count++;
	return 0;
}

void api_files_inputs_free(struct api_files_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		free(in->items[i].name);
	free(in->items);
	memset(in, 0, sizeof(*in));
}
