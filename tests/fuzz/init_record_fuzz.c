/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/init_record_fuzz.c — libFuzzer target for corral-init's
 * record decoder (runner/init_protocol.c): the bytes corral-init reads
 * before it runs the task.  The writer is corral-run, but the decoder must
 * still refuse any malformed record cleanly (no crash, no leak), and a
 * record it accepts must encode and decode again to the same config.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/init_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_strings(char **a, char **b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return 0;
	return !*a && !*b;
}

static void check_round_trip(const struct init_config *cfg)
{
	struct init_config again = { 0 };
	const char *why = NULL;
	void *buf = NULL;
	size_t len = 0;

	if (init_record_encode(cfg, &buf, &len) != 0)
		abort(); /* what was decoded must be encodable */
	if (init_record_decode(buf, len, &again, &why) != 0 || !same_strings(cfg->argv, again.argv) ||
	    !same_strings(cfg->env, again.env) || strcmp(cfg->cwd, again.cwd) != 0 ||
	    cfg->filter.len != again.filter.len || cfg->output_limit != again.output_limit ||
	    cfg->stdout_fd != again.stdout_fd || cfg->status_fd != again.status_fd ||
	    cfg->leash_fd != again.leash_fd)
		abort();
	init_config_free(&again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct init_config cfg = { 0 };
	const char *why = NULL;
	/* The decoder wants an 8-byte aligned buffer it may keep pointers into. */
	uint64_t *buf = malloc(size ? (size + 7) / 8 * 8 : 8);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (init_record_decode(buf, size, &cfg, &why) == 0)
		check_round_trip(&cfg);
	init_config_free(&cfg);
	free(buf);
	return 0;
}
