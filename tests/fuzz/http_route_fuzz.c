/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/http_route_fuzz.c — libFuzzer target for the HTTP API's
 * request mapping (supervisor/corrald/http_route.c): any method, path,
 * query arguments, Idempotency-Key and body a client can send must map to
 * an operation request that the API's codec accepts or refuses cleanly, or
 * to a refusal with a status, never a crash or a leak.
 * Input: method NUL path NUL "name=value&..." NUL key NUL body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/api/api.h"
#include "supervisor/corrald/http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct args {
	char *text;
};

static const char *query(void *ctx, const char *name)
{
	struct args *a = ctx;
	size_t n = strlen(name);

	for (const char *p = a->text; p && *p;) {
		const char *amp = strchr(p, '&');

		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			static char value[256];
			size_t len = amp ? (size_t)(amp - p - n - 1) : strlen(p + n + 1);

			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, p + n + 1, len);
			value[len] = '\0';
			return value;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 5), *part[5];
	struct http_route_request in = { 0 };
	struct http_route_result out;
	struct args a;
	size_t used = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memset(copy + size, 0, 5);
	for (int i = 0; i < 5; i++) {
		part[i] = copy + used;
		used += strlen(part[i]) + (used < size ? 1 : 0);
		if (used > size)
			used = size;
	}
	a.text = part[2];
	in.method = part[0];
	in.path = part[1];
	in.query = query;
	in.ctx = &a;
	in.idempotency_key = part[3][0] ? part[3] : NULL;
	in.body = part[4];
	in.body_len = size - (size_t)(part[4] - copy);
	if (http_route_map(&in, &out) == 0 && out.request_line) {
		struct api_request req = { 0 };
		enum api_error_code code;
		struct error err;

		api_request_parse(out.request_line, strlen(out.request_line), &req, &code, &err);
		api_request_free(&req);
	} else if (out.status < 400 && out.route == HTTP_ROUTE_NONE) {
		abort(); /* a refusal always has an error status */
	}
	http_route_result_free(&out);
	free(copy);
	return 0;
}
