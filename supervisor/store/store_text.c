/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_text.c — text the store keeps must be UTF-8:
 * PostgreSQL refuses anything else (a task whose end message held a cut
 * multi-byte name could then never be finished), and a migration copies
 * rows byte for byte.  Messages and reasons come partly from tasks (an
 * argv[0] in "execute '...': No such file"), so they are cleaned here, in
 * store.c's checks, for every backend.
 */
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_text.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t sequence_length(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool store_text_is_utf8(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (s && *s) {
		size_t n = sequence_length(s);

		if (!n)
			return false;
		s += n;
	}
	return true;
}

char *store_text_utf8_clean(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	char *out, *o;

	if (!text || store_text_is_utf8(text))
		return NULL;
	/* each bad byte becomes U+FFFD (3 bytes) */
	out = malloc(strlen(text) * 3 + 1);
	if (!out)
		return NULL;
	o = out;
	while (*s) {
		size_t n = sequence_length(s);

		if (n) {
			memcpy(o, s, n);
			o += n;
			s += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
		}
	}
	*o = '\0';
	return out;
}
