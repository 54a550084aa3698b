/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/commands_spec.h — the table of `corral`'s task commands
 * (commands_spec.c), for commands.c: the options by id, what follows the
 * options, and each command's op, own options, synopsis and help.  Not
 * here: the client's other commands (tenant_cmd.h, token_cmd.h, ...).
 */
#ifndef CORRAL_SUPERVISOR_CORRAL_COMMANDS_SPEC_H
#define CORRAL_SUPERVISOR_CORRAL_COMMANDS_SPEC_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/api/api.h"

enum opt_id {
	O_USER = 1,
	O_PROFILE,
	O_TIMEOUT,
	O_CPU_LIMIT,
	O_MEMORY,
	O_ENV,
	O_CWD,
	O_STDIN,
	O_WAIT,
	O_NO_QUEUE,
	O_JSON,
	O_STATE,
	O_LIMIT,
	O_AFTER,
	O_MONTH,
	O_STDERR,
	O_FOLLOW,
	O_ADD,
	O_REMOVE,
	O_SET_LEFT,
	O_REASON,
	O_GPUS,
	O_GPU_MEMORY,
	O_LABEL,
	O_CPUS,
	O_CALLBACK_URL,
	O_QUIET,
	O_WAIT_TIMEOUT,
	O_CLEAR_ENV,
	O_FORMAT,
	O_NOHEADER,
	O_SINCE,
	O_UNTIL,
	O_FILE,
	O_DIR,
	O_ARTIFACT,
	O_OUTPUT,
	O_SOCKET,
	O_HELP,
};

/* What follows the options: from the op's required field. */
enum positional { NO_ARGS, TASK_ID, COMMAND, TENANT, NODE };

struct cmd_spec {
	enum api_op op;   /* the command is named after it */
	uint64_t options; /* the client's own options (BIT(O_JSON), BIT(O_WAIT)) */
	const char *synopsis;
	const char *help;
};

/* getopt_long's table of every command's long options. */
extern const struct option commands_spec_long_options[];
/* The long name of option o, for messages. */
const char *commands_spec_option_name(int o);
/* The command named name ("usage_adjust" for `usage adjust`), or NULL. */
const struct cmd_spec *commands_spec_find(const char *name);
enum positional commands_spec_positional(const struct cmd_spec *s);
/* May option o (not --socket, --help) be given to command s? */
bool commands_spec_option_allowed(const struct cmd_spec *s, int o);
/* The sub-commands of command ("node": 'node drain', 'node undrain'),
 * comma-separated, into subs; the bytes written (0: it has none). */
size_t commands_spec_subcommands(const char *command, char *subs, size_t size);

#endif
