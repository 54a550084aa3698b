/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/exit_code.h — the ONE table of exit codes for how a
 * task ended, shared by corral-run and `corral wait` / `corral submit
 * --wait` (documented in corral(1), corral-run(1) and the README).  A task
 * that exited returns its own code; one killed by signal N returns 128+N;
 * a task the jail or corrald ended returns the code of its end reason
 * below.  The reasons are the names both programs already use: the
 * runner's jail_status_name() and the store's task reasons.
 */
#ifndef CORRAL_SUPERVISOR_COMMON_EXIT_CODE_H
#define CORRAL_SUPERVISOR_COMMON_EXIT_CODE_H

#include <stdbool.h>

enum exit_code {
	EXIT_CODE_SUPERVISOR_LOST = 118, /* corrald lost the task, or shut down */
	EXIT_CODE_CANCELLED = 119,       /* cancelled (corral cancel; corral-run: SIGINT/TERM is 128+N) */
	EXIT_CODE_OOM = 120,             /* the memory limit's OOM killer ended it */
	EXIT_CODE_OUTPUT_LIMIT = 121,    /* wrote more than its output limit */
	EXIT_CODE_CPU_LIMIT = 122,       /* CPU-time limit */
	EXIT_CODE_BUDGET = 123,          /* the tenant's monthly CPU budget ran out */
	EXIT_CODE_TIMEOUT = 124,         /* wall-clock limit, as timeout(1) */
	EXIT_CODE_SETUP = 125,           /* the jail could not be set up (spawn_error) */
};

/* The exit code for an end reason ("oom", "timeout", ...), or -1 when the
 * reason has none of its own (exit_code, signal, or unknown). */
int exit_code_of_reason(const char *reason);

/* Row i of the table (for documentation checks and tests): its reason and
 * code, false past the end. */
bool exit_code_row(unsigned i, const char **reason, int *code);

#endif
