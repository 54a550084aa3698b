/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_multipart.c — multipart/form-data bodies split
 * into parts (http_multipart.h).  Pure: bytes in, parts out; the data of a
 * part points into the body.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "supervisor/corrald/http_multipart.h"

/* RFC 2046's bchars (and the space, not last). */
static bool boundary_char(char c)
{
	return isalnum((unsigned char)c) || strchr("'()+_,-./:=? ", c) != NULL;
}

int http_multipart_boundary(const char *content_type, char *out, char *why, size_t size)
{
	const char *p = content_type, *b = NULL;
	size_t n = 0;

	if (!p || strncasecmp(p, "multipart/form-data", 19) != 0 || (p[19] && p[19] != ';' && p[19] != ' ')) {
		snprintf(why, size, "the Content-Type is not multipart/form-data");
		return -EINVAL;
	}
	for (p += 19; *p;) {
		while (*p == ';' || *p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) == 0) {
			b = p + 9;
			break;
		}
		p += strcspn(p, ";");
	}
	if (!b) {
		snprintf(why, size, "the multipart/form-data Content-Type has no boundary");
		return -EINVAL;
	}
	if (*b == '"') {
		const char *end = strchr(++b, '"');

		n = end ? (size_t)(end - b) : 0;
		if (!end) {
			snprintf(why, size, "the multipart boundary's quotes are not closed");
			return -EINVAL;
		}
	} else {
		n = strcspn(b, "; \t");
	}
	if (n == 0 || n > HTTP_MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ') {
		snprintf(why, size, "the multipart boundary has %zu bytes (1-%d)", n,
			 HTTP_MULTIPART_BOUNDARY_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!boundary_char(b[i])) {
			snprintf(why, size,
				 "the multipart boundary holds a character RFC 2046 does not allow");
			return -EINVAL;
		}
	}
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

/* A parameter's value of a header (name="v" with \-escapes, or a token)
 * into out; 1 found, 0 absent, -EINVAL malformed or too long. */
static int header_param(const char *value, size_t vlen, const char *param, char *out, size_t out_size)
{
	size_t plen = strlen(param);

	for (size_t i = 0; i < vlen;) {
		size_t k = 0;

		while (i < vlen && (value[i] == ';' || value[i] == ' ' || value[i] == '\t'))
			i++;
		if (vlen - i > plen && strncasecmp(value + i, param, plen) == 0 && value[i + plen] == '=') {
			i += plen + 1;
			if (i < vlen && value[i] == '"') {
				for (i++; i < vlen && value[i] != '"'; i++) {
					if (value[i] == '\\' && i + 1 < vlen)
						i++;
					if (k + 1 >= out_size)
						return -EINVAL;
					out[k++] = value[i];
				}
				if (i >= vlen)
					return -EINVAL;
			} else {
				for (; i < vlen && value[i] != ';' && value[i] != ' '; i++) {
					if (k + 1 >= out_size)
						return -EINVAL;
					out[k++] = value[i];
				}
			}
			out[k] = '\0';
			return 1;
		}
		/* skip this parameter, quoted strings whole */
		for (bool quoted = false; i < vlen && (quoted || value[i] != ';'); i++) {
			if (value[i] == '\\' && quoted)
				i++;
			else if (value[i] == '"')
				quoted = !quoted;
		}
	}
	return 0;
}

/* One part's header lines [h, end): its name, filename and type. */
static int part_headers(const char *h, size_t len, struct http_multipart_part *p, char *why, size_t size)
{
	bool disposition = false;

	/* a NUL would cut a name short: "a\0/../x" read as "a" */
	if (memchr(h, '\0', len)) {
		snprintf(why, size, "a multipart part's headers hold a NUL byte");
		return -EINVAL;
	}
	for (size_t off = 0; off < len;) {
		const char *line = h + off, *eol = memmem(line, len - off, "\r\n", 2), *colon;
		size_t llen = eol ? (size_t)(eol - line) : len - off, vlen;
		const char *v;

		colon = memchr(line, ':', llen);
		if (!colon || colon == line) {
			snprintf(why, size, "a multipart part has a malformed header line");
			return -EINVAL;
		}
		v = colon + 1;
		while (v < line + llen && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(line + llen - v);
		if ((size_t)(colon - line) == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
			int rn, rf;

			if (disposition || vlen < 9 || strncasecmp(v, "form-data", 9) != 0 ||
			    (vlen > 9 && v[9] != ';' && v[9] != ' ')) {
				snprintf(why, size,
					 "a multipart part's Content-Disposition is not one form-data");
				return -EINVAL;
			}
			disposition = true;
			rn = header_param(v + 9, vlen - 9, "name", p->name, sizeof(p->name));
			rf = header_param(v + 9, vlen - 9, "filename", p->filename, sizeof(p->filename));
			if (rn <= 0 || rf < 0) {
				snprintf(why, size, "a multipart part's name or filename is %s",
					 rn == 0 ? "missing" : "malformed or too long");
				return -EINVAL;
			}
			p->has_filename = rf == 1;
		} else if ((size_t)(colon - line) == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			size_t n = strcspn(v, "; \t\r");

			if (n > vlen)
				n = vlen;
			if (n >= sizeof(p->type)) {
				snprintf(why, size, "a multipart part's Content-Type is too long");
				return -EINVAL;
			}
			for (size_t i = 0; i < n; i++)
				p->type[i] = (char)tolower((unsigned char)v[i]);
			p->type[n] = '\0';
		}
		off += llen + 2;
	}
	if (!disposition) {
		snprintf(why, size, "a multipart part has no Content-Disposition");
		return -EINVAL;
	}
	return 0;
}

int http_multipart_parse(const unsigned char *body, size_t len, const char *boundary,
			 int (*on_part)(void *ctx, const struct http_multipart_part *p, char *why,
					size_t size),
			 void *ctx, char *why, size_t size)
{
	char delim[HTTP_MULTIPART_BOUNDARY_MAX + 5];
	const char *b = (const char *)body, *end = b + len, *p;
	size_t dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);

	/* the first delimiter: at the start, or after a preamble's CRLF */
	if (len >= dlen - 2 && memcmp(b, delim + 2, dlen - 2) == 0)
		p = b + dlen - 2;
	else if ((p = memmem(b, len, delim, dlen)))
		p += dlen;
	else {
		snprintf(why, size, "the body has no multipart delimiter '--%s'", boundary);
		return -EINVAL;
	}
	for (;;) {
		struct http_multipart_part part;
		const char *hend, *next;
		int r;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* the close delimiter; an epilogue may follow */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			snprintf(why, size, "a multipart delimiter is not followed by CRLF (truncated?)");
			return -EINVAL;
		}
		p += 2;
		memset(&part, 0, sizeof(part));
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p; /* no header lines */
		} else {
			hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
			if (!hend || (size_t)(hend - p) > HTTP_MULTIPART_HEADERS_MAX) {
				snprintf(why, size, "a multipart part's headers are %s",
					 hend ? "too long" : "not terminated (truncated)");
				return -EINVAL;
			}
		}
		if ((r = part_headers(p, (size_t)(hend - p), &part, why, size)) < 0)
			return r;
		p = hend + (hend == p ? 2 : 4);
		next = memmem(p, (size_t)(end - p), delim, dlen);
		if (!next) {
			snprintf(why, size,
				 "multipart part '%.64s' is not terminated by a delimiter (truncated)",
				 part.name);
			return -EINVAL;
		}
		part.data = (const unsigned char *)p;
		part.len = (size_t)(next - p);
		if ((r = on_part(ctx, &part, why, size)) < 0)
			return r;
		p = next + dlen;
	}
}
