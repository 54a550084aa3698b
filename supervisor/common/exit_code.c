/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/exit_code.c — end reason -> exit code, the one table
 * for corral-run and the corral client (see exit_code.h).
 */
#include <stdbool.h>
#include <string.h>

#include "supervisor/common/exit_code.h"

static const struct {
	const char *reason;
	int code;
} table[] = {
	{ "oom", EXIT_CODE_OOM },
	{ "output_limit", EXIT_CODE_OUTPUT_LIMIT },
	{ "cpu_limit", EXIT_CODE_CPU_LIMIT },
	{ "budget", EXIT_CODE_BUDGET },
	{ "timeout", EXIT_CODE_TIMEOUT },
	{ "spawn_error", EXIT_CODE_SETUP },
	{ "cancelled", EXIT_CODE_CANCELLED },
	{ "supervisor_lost", EXIT_CODE_SUPERVISOR_LOST },
	{ "shutdown", EXIT_CODE_SUPERVISOR_LOST },
};

int exit_code_of_reason(const char *reason)
{
	for (size_t i = 0; reason && i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(reason, table[i].reason) == 0)
			return table[i].code;
	return -1;
}

bool exit_code_row(unsigned i, const char **reason, int *code)
{
	if (i >= sizeof(table) / sizeof(table[0]))
		return false;
	*reason = table[i].reason;
	*code = table[i].code;
	return true;
}
