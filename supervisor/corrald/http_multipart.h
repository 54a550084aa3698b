/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_multipart.h — internal to corrald's HTTP
 * transport: a multipart/form-data body (RFC 7578) split into its parts,
 * strictly and without copying the data (pure: no I/O; unit-tested in
 * tests/unit/test_http_multipart.c).  What the parts mean to a submit:
 * http_upload.c.
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_HTTP_MULTIPART_H
#define CORRAL_SUPERVISOR_CORRALD_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/api/api.h"

#define HTTP_MULTIPART_BOUNDARY_MAX 70        /* RFC 2046 */
#define HTTP_MULTIPART_HEADERS_MAX (8u << 10) /* one part's header lines, bytes */

struct http_multipart_part {
	char name[256];                        /* Content-Disposition's name (unescaped) */
	char filename[API_FILES_PATH_MAX + 1]; /* its filename, "" when none */
	bool has_filename;
	char type[128]; /* Content-Type, "" when none (lower case, parameters cut) */
	const unsigned char *data;
	size_t len;
};

/* The boundary of a Content-Type value "multipart/form-data; boundary=B"
 * (B maybe quoted) into out (HTTP_MULTIPART_BOUNDARY_MAX + 1 bytes).
 * 0, or -EINVAL with why filled (not multipart/form-data, no boundary,
 * a boundary of bad length or characters). */
int http_multipart_boundary(const char *content_type, char *out, char *why, size_t size);

/* Split body into parts, calling on_part for each in order (a negative
 * return stops the parse and is returned; it fills why).  Refused with
 * -EINVAL and why: no opening delimiter, a part without a
 * Content-Disposition of form-data with a name, header lines that are
 * malformed, too long or hold a NUL, a part or the body without its closing
 * delimiter (truncated).  A preamble before the first delimiter and an
 * epilogue after the last are ignored (RFC 2046). */
int http_multipart_parse(const unsigned char *body, size_t len, const char *boundary,
			 int (*on_part)(void *ctx, const struct http_multipart_part *p, char *why,
					size_t size),
			 void *ctx, char *why, size_t size);

#endif
