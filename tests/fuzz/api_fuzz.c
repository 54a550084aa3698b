/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/api_fuzz.c — libFuzzer target for corrald's request parser:
 * any bytes a client can send on the socket must give a request or a clean
 * error, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "supervisor/api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_request req = { 0 };
	enum api_error_code code = API_ERR_NONE;
	struct error err;

	if (api_request_parse((const char *)data, size, &req, &code, &err) == 0) {
		char *line = api_response_ok(req.tag_json, "{\"x\":1}");

		free(line);
	}
	api_request_free(&req);
	return 0;
}
