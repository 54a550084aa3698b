/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/commands_spec.c — the table of `corral`'s task commands:
 * their long options (and the request field each sets), what follows the
 * options (from the op's required field in api/api_ops.c), and each
 * command's own options, synopsis and help text; the look-ups commands.c
 * parses with; `corral NAME --help` (commands_spec_usage).  Parsing a
 * command line: commands.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/corral/commands.h"
#include "supervisor/corral/commands_spec.h"

#define BIT(o) (UINT64_C(1) << (o))

const struct option commands_spec_long_options[] = {
	{ "user", required_argument, NULL, O_USER },
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "cpu-limit", required_argument, NULL, O_CPU_LIMIT },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "env", required_argument, NULL, O_ENV },
	{ "cwd", required_argument, NULL, O_CWD },
	{ "stdin", required_argument, NULL, O_STDIN },
	{ "wait", no_argument, NULL, O_WAIT },
	{ "no-queue", no_argument, NULL, O_NO_QUEUE },
	{ "json", no_argument, NULL, O_JSON },
	{ "state", required_argument, NULL, O_STATE },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "after", required_argument, NULL, O_AFTER },
	{ "month", required_argument, NULL, O_MONTH },
	{ "stderr", no_argument, NULL, O_STDERR },
	{ "follow", no_argument, NULL, O_FOLLOW },
	{ "add", required_argument, NULL, O_ADD },
	{ "remove", required_argument, NULL, O_REMOVE },
	{ "set-left", required_argument, NULL, O_SET_LEFT },
	{ "reason", required_argument, NULL, O_REASON },
	{ "gpus", required_argument, NULL, O_GPUS },
	{ "gpu-memory", required_argument, NULL, O_GPU_MEMORY },
	{ "label", required_argument, NULL, O_LABEL },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "callback-url", required_argument, NULL, O_CALLBACK_URL },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "wait-timeout", required_argument, NULL, O_WAIT_TIMEOUT },
	{ "clear-env", no_argument, NULL, O_CLEAR_ENV },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "noheader", no_argument, NULL, O_NOHEADER },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "file", required_argument, NULL, O_FILE },
	{ "dir", required_argument, NULL, O_DIR },
	{ "artifact", required_argument, NULL, O_ARTIFACT },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* The long name of option o (its value in commands_spec_long_options), for messages:
 * argv[optind - 1] is the option's value when it took one. */
const char *commands_spec_option_name(int o)
{
	for (const struct option *l = commands_spec_long_options; l->name; l++)
		if (l->val == o)
			return l->name;
	return "?";
}

/* The request field an option sets: the option is valid for a command
 * whose op takes that field (api_ops.c).  NULL: the client's own option. */
static const char *const option_field[] = {
	[O_USER] = "user",
	[O_PROFILE] = "profile",
	[O_TIMEOUT] = "timeout_ms",
	[O_CPU_LIMIT] = "cpu_limit_ms",
	[O_MEMORY] = "memory_bytes",
	[O_ENV] = "env",
	[O_CWD] = "cwd",
	[O_STDIN] = "stdin",
	[O_NO_QUEUE] = "no_queue",
	[O_STATE] = "state",
	[O_LIMIT] = "limit",
	[O_AFTER] = "after",
	[O_MONTH] = "month",
	[O_STDERR] = "stream",
	[O_FOLLOW] = "follow",
	[O_HELP] = NULL,
	[O_ADD] = "delta_us",
	[O_REMOVE] = "delta_us",
	[O_SET_LEFT] = "set_left_us",
	[O_GPUS] = "gpus",
	[O_GPU_MEMORY] = "gpu_memory_bytes",
	[O_LABEL] = "labels",
	[O_CPUS] = "cpu_millis",
	[O_CALLBACK_URL] = "callback_url",
	[O_REASON] = "reason",
	[O_CLEAR_ENV] = "clear_env",
	[O_SINCE] = "since_us",
	[O_UNTIL] = "until_us",
	[O_FILE] = "files",
	[O_DIR] = "files",
	[O_ARTIFACT] = "artifacts",
};

static const struct cmd_spec specs[] = {
	{ API_OP_SUBMIT, BIT(O_WAIT) | BIT(O_JSON) | BIT(O_QUIET) | BIT(O_WAIT_TIMEOUT),
	  "[OPTIONS] [--] CMD [ARGS...]",
	  "Queue CMD as a task and print its id.  CMD and its ARGS: at most 256,\n"
	  "128 KiB in all (pass large data as stdin); what the task stores counts\n"
	  "against the plan's max_stored (storage_quota).\n\n"
	  "  --user TENANT       submit for TENANT (operators; others only as themselves)\n"
	  "  --profile NAME      jail profile (default: the plan's)\n"
	  "  --timeout DUR       wall-clock limit: 10, 1.5s, 500ms, 2m, 1h\n"
	  "  --cpu-limit DUR     CPU-time limit\n"
	  "  --memory SIZE       memory limit: 512K, 256M, 1G\n"
	  "  --cpus N            cores: 0.5, 2 (0.01-1024, at most the plan's cpus); held on\n"
	  "                      its node while it runs and its CPU quota (default: the\n"
	  "                      plan's cpus as its quota, nothing held)\n"
	  "  --gpus N            GPUs the task needs on its node (counted; 0-1024)\n"
	  "  --gpu-memory SIZE   memory each of those GPUs must have: 16G, 80G\n"
	  "  --label NAME        a label its node must offer (repeatable; at most 16);\n"
	  "                      a task no node could ever run waits as no_node_fits\n"
	  "  --env NAME=VALUE    add a variable to the default environment (PATH, HOME,\n"
	  "                      LANG, or the profile's env); repeatable, 64 KiB in all\n"
	  "  --clear-env         start from an empty environment: only the --env given\n"
	  "  --cwd DIR           working directory inside the jail\n"
	  "  --stdin FILE        send FILE's content (<= 1 MiB of UTF-8 text) as stdin; - reads stdin\n"
	  "  --no-queue          fail instead of queueing if the task cannot start now\n"
	  "  --callback-url URL  POST the ended task there, signed (a host of the policy's\n"
	  "                      [http] callback_hosts)\n"
	  "  --file LOCAL[:DEST] put file LOCAL at /work/DEST (default: its base name);\n"
	  "                      repeatable; read as you, stored with the task\n"
	  "  --dir LOCAL[:DEST]  the same for a directory tree (regular files and\n"
	  "                      directories only); at most 1000 entries, the plan's\n"
	  "                      max_input in all; files too large for one request\n"
	  "                      are sent first in chunks (staged uploads)\n"
	  "  --artifact GLOB     keep the files of /work matching GLOB (relative to /work;\n"
	  "                      * also matches /) after the task ends, however it ends;\n"
	  "                      repeatable; see corral artifacts, corral fetch\n"
	  "  --wait              follow the task: its stdout and stderr to ours as they\n"
	  "                      come, why it waits while queued (on stderr), its result\n"
	  "                      on stderr; then exit with its status (EXIT CODES in corral(1))\n"
	  "  --quiet             with --wait: no output streams; the id and the result on\n"
	  "                      stdout (the old --wait)\n"
	  "  --wait-timeout DUR  with --wait: give up waiting after DUR (exit 75; the task\n"
	  "                      keeps going)\n"
	  "  --json              print the server's JSON response (with --wait: the\n"
	  "                      submit's and the wait's, no output streams)\n" },
	{ API_OP_STATUS, BIT(O_JSON), "ID [--json]",
	  "Show one task.\n\n  --json              print the server's JSON response\n" },
	{ API_OP_LIST, BIT(O_JSON) | BIT(O_FORMAT) | BIT(O_NOHEADER),
	  "[--user T] [--state S] [--since TIME] [--until TIME] [--limit N] [--after ID]\n"
	  "       [--format COLUMNS] [--noheader] [--json]",
	  "List tasks, newest first, one page at a time, one line each: ELAPSED is the\n"
	  "wall time so far (running) or in all, TIMELIMIT the wall-clock limit in force,\n"
	  "REASON why a queued task waits or why an ended one ended.  A command longer\n"
	  "than 256 bytes is cut (ends in ...), control characters and newlines in it\n"
	  "are escaped: 'corral status ID' shows it all.\n\n"
	  "  --user TENANT       only TENANT's tasks\n"
	  "  --state STATE       queued, running, succeeded, failed or cancelled\n"
	  "  --since TIME        only tasks submitted at or after TIME: 2026-05-01,\n"
	  "                      2026-05-01T12:00[:SS][Z] (UTC), or a duration ago: 2h, 30m, 1d\n"
	  "  --until TIME        only tasks submitted before TIME (same forms)\n"
	  "  --limit N           at most N tasks (default 100, at most 1000)\n"
	  "  --after ID          the next page: tasks older than ID (a full page ends\n"
	  "                      with the command that shows the next one, on stderr)\n"
	  "  --format COLUMNS    comma-separated columns, from id, user, profile, state,\n"
	  "                      exit, submitted, started, ended, elapsed, timelimit, cpu,\n"
	  "                      memory, reason, attempts, command, cpus (default\n"
	  "                      " FORMAT_LIST_DEFAULT ")\n"
	  "  --noheader          no header row\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_QUEUE, BIT(O_JSON), "[--user T] [--json]",
	  "Show queued tasks in start order, with why each is waiting.\n\n"
	  "  --user TENANT       only TENANT's tasks\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_CANCEL, BIT(O_JSON), "ID... [--json]",
	  "Cancel queued or running tasks, one request per ID, in order; exits with the\n"
	  "first failure's code (the others are still tried).\n\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_WAIT, BIT(O_JSON), "ID [--timeout DUR] [--json]",
	  "Wait for a task to end; exit with its exit code (see EXIT CODES in corral(1)).\n"
	  "While it is queued, say why on stderr.\n\n"
	  "  --timeout DUR       give up after DUR (exit 75; the task keeps going)\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_LOGS, BIT(O_JSON), "ID [--stderr] [--follow] [--json]",
	  "Write a task's output, byte for byte, to standard output.\n\n"
	  "  --stderr            the task's stderr instead of its stdout\n"
	  "  --follow            keep writing as the task writes, until it ends\n"
	  "  --json              print the server's chunks as they are, one JSON object a\n"
	  "                      line: data_base64, offset (the bytes so far), eof\n" },
	{ API_OP_USAGE, BIT(O_JSON), "[--user T] [--month YYYY-MM] [--json]",
	  "Show CPU hours used, budget and left, and running/queued counts.\n\n"
	  "  --user TENANT       only TENANT\n"
	  "  --month YYYY-MM     that month (default: this month, UTC)\n"
	  "  --json              print the server's JSON response\n" },
	/* `corral usage adjust`: a command "A B" is the op "A_B" */
	{ API_OP_USAGE_ADJUST, BIT(O_JSON),
	  "TENANT (--add DUR | --remove DUR | --set-left DUR) --reason TEXT [--json]",
	  "Grant or take back CPU time for TENANT's current month (operators only).  The\n"
	  "adjustment is recorded with who, when and why; the CPU charged stays as measured.\n\n"
	  "  --add DUR           TENANT may use DUR more this month: 1h, 30m, 0.5h, 90s\n"
	  "  --remove DUR        take DUR back\n"
	  "  --set-left DUR      make what is left exactly DUR (0 stops new tasks)\n"
	  "  --reason TEXT       why (required, at most 256 bytes): \"refund #123\"\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_NODES, BIT(O_JSON), "[--json]",
	  "List the nodes of corrald's store (one on a single host; every corrald sharing a\n"
	  "PostgreSQL database): state (online, draining, offline: silent for longer than its\n"
	  "node_offline_after, or stopped), last heartbeat, running tasks, free slots, memory\n"
	  "and GPUs of its capacity, load, tasks done and CPU charged there, labels.  The node\n"
	  "answering is marked *.\n\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_NODE_DRAIN, BIT(O_JSON), "NAME [--json]",
	  "Drain node NAME (operators only): it starts nothing new and finishes what it runs;\n"
	  "queued tasks wait with reason node_draining.  Stays drained across restarts.\n\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_NODE_UNDRAIN, BIT(O_JSON), "NAME [--json]",
	  "Undrain node NAME (operators only): it starts tasks again.\n\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_ARTIFACTS, BIT(O_JSON), "ID [--json]",
	  "List the artifacts a task kept (submit --artifact): size, whether a cap cut it\n"
	  "(the plan's max_artifact or 1000 files: its head kept, or nothing), SHA-256, name.\n\n"
	  "  --json              print the server's JSON response\n" },
	{ API_OP_FETCH, BIT(O_OUTPUT), "ID [NAME...] [-o DIR]",
	  "Download a task's artifacts (all, or those NAMEd) below DIR (default: the\n"
	  "current directory), as you, each one's SHA-256 checked; a name that would\n"
	  "leave DIR is refused.\n\n"
	  "  -o, --output DIR    write below DIR (created if missing)\n" },
	{ API_OP_PING, BIT(O_JSON), "[--json]",
	  "Check that corrald answers; print its version and pid.\n\n"
	  "  --json              print the server's JSON response\n" },
};

const struct cmd_spec *commands_spec_find(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(specs); i++)
		if (strcmp(api_op_name(specs[i].op), name) == 0)
			return &specs[i];
	return NULL;
}

enum positional commands_spec_positional(const struct cmd_spec *s)
{
	const struct api_op_info *op = api_ops_get(s->op);
	const struct api_field *f;

	if ((f = api_ops_field(op, "argv")) && f->required)
		return COMMAND;
	if ((f = api_ops_field(op, "id")) && f->required)
		return TASK_ID;
	if ((f = api_ops_field(op, "user")) && f->required)
		return TENANT;
	if ((f = api_ops_field(op, "node")) && f->required)
		return NODE;
	return NO_ARGS;
}

/* May option o (not --socket, --help) be given to command s? */
bool commands_spec_option_allowed(const struct cmd_spec *s, int o)
{
	if ((size_t)o < ELEMENTSOF(option_field) && option_field[o])
		return api_ops_field(api_ops_get(s->op), option_field[o]) != NULL;
	return (s->options & BIT(o)) != 0;
}

/* The sub-commands of command ("node": 'node drain', 'node undrain'),
 * comma-separated, into subs; the bytes written (0: it has none). */
size_t commands_spec_subcommands(const char *command, char *subs, size_t size)
{
	size_t used = 0, n = strlen(command);

	for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
		const char *name = api_op_name(specs[i].op);

		if (strncmp(name, command, n) == 0 && name[n] == '_' && used < size)
			used += (size_t)snprintf(subs + used, size - used, "%s'%s %s'", used ? ", " : "",
						 command, name + n + 1);
	}
	return used;
}

void commands_spec_usage(FILE *out, const char *name)
{
	const struct cmd_spec *s = commands_spec_find(name);

	if (!s)
		return;
	char command[32];

	/* usage_adjust is typed `usage adjust` */
	snprintf(command, sizeof(command), "%s", api_op_name(s->op));
	for (char *p = command; *p; p++)
		if (*p == '_')
			*p = ' ';
	fprintf(out,
		"usage: corral %s %s\n\n%s  --socket PATH       corrald's socket (default $%s, "
		"else %s)\n  -h, --help          this text\n",
		command, s->synopsis, s->help, CLIENT_SOCKET_ENV, CLIENT_DEFAULT_SOCKET);
}
