/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/escape.c — see escape.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/escape.h"

/* How many bytes at p form one control to escape (0: none): an ASCII
 * control or DEL, or a UTF-8 encoded C1 control (0xC2 0x80..0x9F). */
static size_t control_at(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

bool escape_control_needed(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (control_at(p))
			return true;
	return false;
}

/* The escape of the control byte c into e (5 bytes); its length. */
static size_t escape_byte(unsigned char c, char e[5])
{
	switch (c) {
	case '\n':
		memcpy(e, "\\n", 3);
		return 2;
	case '\r':
		memcpy(e, "\\r", 3);
		return 2;
	case '\t':
		memcpy(e, "\\t", 3);
		return 2;
	default:
		snprintf(e, 5, "\\x%02x", c);
		return 4;
	}
}

size_t escape_control(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;

	if (size == 0)
		return 0;
	while (p && *p) {
		size_t n = control_at(p);
		char e[10];
		size_t elen = 0;

		if (n == 0) {
			e[0] = (char)*p;
			elen = 1;
			n = 1;
		} else {
			for (size_t i = 0; i < n; i++)
				elen += escape_byte(p[i], e + elen);
		}
		if (len + elen >= size)
			break;
		memcpy(out + len, e, elen);
		len += elen;
		p += n;
	}
	out[len] = '\0';
	return len;
}

char *escape_control_dup(const char *s)
{
	size_t size = strlen(s) * 4 + 1; /* every byte at most \xNN */
	char *out = malloc(size);

	if (out)
		escape_control(s, out, size);
	return out;
}
