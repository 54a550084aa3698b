/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api_base64.c — base64 (RFC 4648, padded) for the logs op's
 * data_base64: the daemon encodes output chunks, the client decodes them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *api_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out, *p;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		*p++ = b64_alphabet[v >> 18 & 63];
		*p++ = b64_alphabet[v >> 12 & 63];
		*p++ = left > 1 ? b64_alphabet[v >> 6 & 63] : '=';
		*p++ = left > 2 ? b64_alphabet[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

size_t api_base64_decoded_len(const char *text, size_t len)
{
	size_t n = len / 4 * 3;

	if (len >= 4)
		n -= (size_t)(text[len - 1] == '=') + (size_t)(text[len - 2] == '=');
	return n;
}

int api_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
	unsigned char *buf;
	size_t n = 0, pad = 0;

	*out = NULL;
	*out_len = 0;
	if (len % 4)
		return -EINVAL;
	if (len && text[len - 1] == '=')
		pad = len >= 2 && text[len - 2] == '=' ? 2 : 1;
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		uint32_t w;

		for (int k = 0; k < 4; k++) {
			bool is_pad = last && k >= 4 - (int)pad;

			v[k] = is_pad ? 0 : b64_value(text[i + k]);
			if (v[k] < 0) {
				free(buf);
				return -EINVAL;
			}
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[n++] = (unsigned char)(w >> 16);
		if (!last || pad < 2)
			buf[n++] = (unsigned char)(w >> 8);
		if (!last || pad < 1)
			buf[n++] = (unsigned char)w;
	}
	*out = buf;
	*out_len = n;
	return 0;
}
