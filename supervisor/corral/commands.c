/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/commands.c — the task commands of `corral`: parse a command
 * line into an op and its request fields (commands_parse, pure but for reading
 * submit's --stdin file).  A command is named after its op, and which
 * options it takes and whether it wants a task ID or a command come from the
 * op's fields in api/api_ops.c's table; only the client's own options
 * (--json, --wait) and the help texts are listed here.  Running a command:
 * cli.c; socket I/O: connection.c; tables and exit codes: format.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/common/macros.h"
#include "policy/policy.h"
#include "supervisor/corral/commands.h"
#include "supervisor/store/task_state.h"

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
#define BIT(o) (UINT64_C(1) << (o))

static const struct option long_options[] = {
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

/* The long name of option o (its value in long_options), for messages:
 * argv[optind - 1] is the option's value when it took one. */
static const char *option_name(int o)
{
	for (const struct option *l = long_options; l->name; l++)
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

/* What follows the options: from the op's required field. */
enum positional { NO_ARGS, TASK_ID, COMMAND, TENANT, NODE };

struct cmd_spec {
	enum api_op op;   /* the command is named after it */
	uint64_t options; /* the client's own options (BIT(O_JSON), BIT(O_WAIT)) */
	const char *synopsis;
	const char *help;
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

static const struct cmd_spec *find_spec(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(specs); i++)
		if (strcmp(api_op_name(specs[i].op), name) == 0)
			return &specs[i];
	return NULL;
}

static enum positional positional_of(const struct cmd_spec *s)
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
static bool option_allowed(const struct cmd_spec *s, int o)
{
	if ((size_t)o < ELEMENTSOF(option_field) && option_field[o])
		return api_ops_field(api_ops_get(s->op), option_field[o]) != NULL;
	return (s->options & BIT(o)) != 0;
}

void commands_usage(FILE *out, const char *name)
{
	const struct cmd_spec *s = find_spec(name);

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

/* Read all of path ("-": standard input), at most max bytes. */
static int read_file(const char *path, size_t max, char **data, size_t *len, struct error *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	/* standard input is not ours to close */
	_cleanup_close_ int fd = is_stdin ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	int in = is_stdin ? STDIN_FILENO : fd;
	size_t n = 0;

	if (in < 0)
		return error_set(err, errno, "read stdin file", "--stdin %s", path);
	buf = malloc(max + 1);
	if (!buf)
		return error_set(err, ENOMEM, "read stdin file", "--stdin %s", path);
	while (n <= max) {
		ssize_t got = read(in, buf + n, max + 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return error_set(err, errno, "read stdin file", "--stdin %s", path);
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max)
		return error_usage(err, "--stdin %s: larger than %zu bytes, the most stdin can carry", path,
				   max);
	*data = TAKE_PTR(buf);
	*len = n;
	return 0;
}

static int parse_duration(const char *opt, const char *text, bool allow_zero, uint64_t *ms, struct error *err)
{
	if (policy_parse_duration_ms(text, ms) < 0 || (*ms == 0 && !allow_zero))
		return error_usage(err,
				   "--%s: invalid duration '%s' (examples: 10, 1.5s, "
				   "500ms, 2m, 1h)",
				   opt, text);
	return 0;
}

int commands_parse_time(const char *text, time_t now, uint64_t *epoch_us)
{
	struct tm tm = { 0 };
	const char *end;
	uint64_t ms;
	time_t t;

	if (!text || !*text)
		return -EINVAL;
	if (text[0] >= '0' && text[0] <= '9' && strlen(text) >= 10 && text[4] == '-') {
		end = strptime(text, "%Y-%m-%d", &tm);
		if (end && (*end == 'T' || *end == ' ')) {
			const char *rest = strptime(end + 1, "%H:%M:%S", &tm);

			end = rest ? rest : strptime(end + 1, "%H:%M", &tm);
		}
		if (end && *end == 'Z')
			end++;
		if (!end || *end)
			return -EINVAL;
		t = timegm(&tm);
		if (t < 0)
			return -EINVAL;
		*epoch_us = (uint64_t)t * 1000000u;
		return 0;
	}
	/* a duration ago */
	if (policy_parse_duration_ms(text, &ms) < 0 || ms / 1000 > (uint64_t)now)
		return -EINVAL;
	*epoch_us = (uint64_t)now * 1000000u - ms * 1000u;
	return 0;
}

static bool valid_month(const char *m)
{
	if (strlen(m) != 7 || m[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (m[i] < '0' || m[i] > '9'))
			return false;
	return (m[5] == '0' && m[6] >= '1') || (m[5] == '1' && m[6] <= '2');
}

/* What the options said, before they become fields. */
struct opts {
	const char *user, *profile, *cwd, *stdin_path, *state, *month, *callback_url;
	uint64_t timeout_ms, cpu_limit_ms, memory_bytes, limit, after, since_us, until_us;
	bool has_timeout, has_cpu_limit, has_memory, has_limit, has_after, no_queue, err_stream, clear_env;
	bool has_since, has_until;
	json_t *env;
	json_t *labels;
	json_t *files, *artifacts;
	uint64_t gpus, gpu_memory;
	bool has_gpus, has_gpu_memory;
	uint32_t cpu_millis; /* 0 = --cpus not given */
	/* usage adjust: --add/--remove (delta_us), --set-left, --reason */
	const char *reason;
	int64_t delta_us;
	uint64_t set_left_us;
	int amounts; /* how many of --add, --remove, --set-left */
	bool has_delta, has_set_left;
};

/* A usage adjust amount: the one duration grammar, bare numbers in
 * seconds, at most 10^6 hours. */
static int parse_adjust(const char *opt, const char *text, bool allow_zero, uint64_t *us, struct error *err)
{
	if (policy_parse_duration_us(text, 1000000u, us) < 0 || (*us == 0 && !allow_zero))
		return error_usage(err,
				   "--%s: invalid duration '%s' (examples: 1h, 30m, "
				   "0.5h, 90s)",
				   opt, text);
	if (*us > (uint64_t)API_MAX_ADJUST_US)
		return error_usage(err, "--%s: '%s' is more than 10^6 hours", opt, text);
	return 0;
}

static int take_option(int o, const char *arg, struct opts *v, struct cli_command *cmd, struct error *err)
{
	enum store_task_state st;

	switch (o) {
	case O_USER:
		v->user = arg;
		break;
	case O_PROFILE:
		v->profile = arg;
		break;
	case O_CWD:
		v->cwd = arg;
		break;
	case O_CALLBACK_URL:
		v->callback_url = arg;
		break;
	case O_STDIN:
		v->stdin_path = arg;
		break;
	case O_WAIT:
		cmd->wait = true;
		break;
	case O_NO_QUEUE:
		v->no_queue = true;
		break;
	case O_JSON:
		cmd->json = true;
		break;
	case O_STDERR:
		v->err_stream = true;
		break;
	case O_FOLLOW:
		cmd->follow = true;
		break;
	case O_SOCKET:
		cmd->socket = arg;
		break;
	case O_HELP:
		cmd->help = true;
		break;
	case O_QUIET:
		cmd->quiet = true;
		break;
	case O_CLEAR_ENV:
		v->clear_env = true;
		break;
	case O_WAIT_TIMEOUT: {
		uint64_t ms;
		int r = parse_duration("wait-timeout", arg, false, &ms, err);

		cmd->wait_timeout_ms = (int64_t)ms;
		return r;
	}
	case O_TIMEOUT:
		v->has_timeout = true;
		return parse_duration("timeout", arg, cmd->op == API_OP_WAIT, &v->timeout_ms, err);
	case O_CPU_LIMIT:
		v->has_cpu_limit = true;
		return parse_duration("cpu-limit", arg, false, &v->cpu_limit_ms, err);
	case O_MEMORY:
		v->has_memory = true;
		if (policy_parse_size(arg, &v->memory_bytes) < 0 || v->memory_bytes == 0)
			return error_usage(err,
					   "--memory: invalid size '%s' (examples: 512K, "
					   "256M, 1G)",
					   arg);
		break;
	case O_ENV:
		if (!strchr(arg, '=') || arg[0] == '=')
			return error_usage(err, "--env: '%s' is not NAME=VALUE", arg);
		if (!v->env)
			v->env = json_array();
		if (json_array_append_new(v->env, json_string(arg)) < 0)
			return error_usage(err, "--env: '%s' is not valid UTF-8", arg);
		break;
	case O_STATE:
		if (task_state_parse(arg, &st) < 0)
			return error_usage(err,
					   "--state: '%s' is not one of queued, running, "
					   "succeeded, failed, cancelled",
					   arg);
		v->state = arg;
		break;
	case O_LIMIT:
		v->has_limit = true;
		if (policy_parse_uint(arg, API_MAX_LIST_LIMIT, &v->limit) < 0 || v->limit == 0)
			return error_usage(err, "--limit: '%s' is not a number from 1 to %d", arg,
					   API_MAX_LIST_LIMIT);
		break;
	case O_AFTER:
		v->has_after = true;
		if (policy_parse_uint(arg, INT64_MAX, &v->after) < 0 || v->after == 0)
			return error_usage(err, "--after: '%s' is not a task id", arg);
		break;
	case O_ADD:
	case O_REMOVE:
	case O_SET_LEFT: {
		const char *name = o == O_ADD ? "add" : o == O_REMOVE ? "remove" : "set-left";
		uint64_t us;
		int r = parse_adjust(name, arg, o == O_SET_LEFT, &us, err);

		if (r < 0)
			return r;
		if (++v->amounts > 1)
			return error_usage(err, "give one of --add, --remove and --set-left");
		v->has_delta = o != O_SET_LEFT;
		v->has_set_left = o == O_SET_LEFT;
		v->delta_us = o == O_REMOVE ? -(int64_t)us : (int64_t)us;
		v->set_left_us = us;
		break;
	}
	case O_GPUS:
		v->has_gpus = true;
		if (policy_parse_uint(arg, API_MAX_GPUS, &v->gpus) < 0)
			return error_usage(err, "--gpus: '%s' is not a number from 0 to %u", arg,
					   API_MAX_GPUS);
		break;
	case O_CPUS:
		if (policy_parse_cpu_millis(arg, &v->cpu_millis) < 0 || v->cpu_millis < API_MIN_CPU_MILLIS ||
		    v->cpu_millis > API_MAX_CPU_MILLIS)
			return error_usage(err,
					   "--cpus: '%s' is not a CPU count from %g to %u (examples: 0.5, 2)",
					   arg, API_MIN_CPU_MILLIS / 1000.0, API_MAX_CPU_MILLIS / 1000);
		break;
	case O_GPU_MEMORY:
		v->has_gpu_memory = true;
		if (policy_parse_size(arg, &v->gpu_memory) < 0)
			return error_usage(err, "--gpu-memory: invalid size '%s' (examples: 16G, 80G)", arg);
		break;
	case O_LABEL:
		if (!v->labels)
			v->labels = json_array();
		if (json_array_size(v->labels) >= API_MAX_LABELS)
			return error_usage(err, "--label: at most %u labels", API_MAX_LABELS);
		json_array_append_new(v->labels, json_string(arg));
		break;
	case O_FILE:
	case O_DIR:
		if (!v->files)
			v->files = json_array();
		return files_cmd_add(v->files, arg, o == O_DIR, err);
	case O_ARTIFACT:
		if (!v->artifacts)
			v->artifacts = json_array();
		if (json_array_size(v->artifacts) >= API_MAX_ARTIFACT_PATTERNS)
			return error_usage(err, "--artifact: at most %u globs", API_MAX_ARTIFACT_PATTERNS);
		if (!arg[0] || arg[0] == '/')
			return error_usage(err, "--artifact '%s': a glob relative to /work", arg);
		json_array_append_new(v->artifacts, json_string(arg));
		break;
	case O_OUTPUT:
		cmd->output_dir = arg;
		break;
	case O_REASON:
		if (!arg[0] || strlen(arg) > API_MAX_REASON)
			return error_usage(err, "--reason: 1 to %u bytes, please", API_MAX_REASON);
		v->reason = arg;
		break;
	case O_FORMAT:
		cmd->format = arg;
		return format_list_check(arg, err);
	case O_NOHEADER:
		cmd->noheader = true;
		break;
	case O_SINCE:
	case O_UNTIL: {
		uint64_t *at = o == O_SINCE ? &v->since_us : &v->until_us;

		*(o == O_SINCE ? &v->has_since : &v->has_until) = true;
		if (commands_parse_time(arg, time(NULL), at) < 0)
			return error_usage(err,
					   "--%s: '%s' is not a time (2026-05-01, 2026-05-01T12:00Z, "
					   "or a duration ago: 2h, 30m, 1d)",
					   o == O_SINCE ? "since" : "until", arg);
		break;
	}
	case O_MONTH:
		if (!valid_month(arg))
			return error_usage(err, "--month: '%s' is not YYYY-MM", arg);
		v->month = arg;
		break;
	}
	return 0;
}

static void set_str(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static void set_uint(json_t *o, const char *key, bool has, uint64_t value)
{
	if (has)
		json_object_set_new(o, key, json_integer((json_int_t)value));
}

/* Positional arguments and the options' values -> cmd->fields. */
static int build_fields(const struct cmd_spec *s, struct opts *v, int argc, char **argv,
			struct cli_command *cmd, struct error *err)
{
	json_t *f = cmd->fields;
	uint64_t id;

	enum positional positional = positional_of(s);

	if (positional == TASK_ID) {
		if (argc < 1)
			return error_usage(err, "missing the task ID");
		/* fetch: the names after the ID */
		if (s->op == API_OP_FETCH) {
			cmd->names = json_array();
			for (int i = 1; i < argc; i++)
				json_array_append_new(cmd->names, json_string(argv[i]));
			argc = 1;
		}
		/* cancel takes several: the first is the request's, the rest follow */
		if (argc > 1 && s->op != API_OP_CANCEL)
			return error_usage(err, "unexpected argument '%s'", argv[1]);
		if (argc > API_MAX_LIST_LIMIT)
			return error_usage(err, "%d task IDs; at most %d", argc, API_MAX_LIST_LIMIT);
		for (int i = 0; i < argc; i++) {
			if (policy_parse_uint(argv[i], INT64_MAX, &id) < 0 || id == 0)
				return error_usage(err, "'%s' is not a task ID (a positive number)", argv[i]);
			if (i == 0)
				json_object_set_new(f, "id", json_integer((json_int_t)id));
			else
				json_array_append_new(cmd->more_ids, json_integer((json_int_t)id));
		}
	} else if (positional == TENANT) {
		if (argc < 1)
			return error_usage(err, "missing the tenant");
		if (argc > 1)
			return error_usage(err, "unexpected argument '%s'", argv[1]);
		if (v->user)
			return error_usage(err, "give the tenant once, as the argument");
		if (v->amounts == 0)
			return error_usage(err, "give one of --add, --remove and --set-left");
		if (!v->reason)
			return error_usage(err, "--reason is required (who asked, why)");
		v->user = argv[0];
	} else if (positional == NODE) {
		if (argc != 1)
			return error_usage(err,
					   argc < 1 ? "missing the node name" : "unexpected argument '%s'",
					   argc > 1 ? argv[1] : "");
		json_object_set_new(f, "node", json_string(argv[0]));
	} else if (positional == NO_ARGS && argc > 0) {
		return error_usage(err, "unexpected argument '%s'", argv[0]);
	}
	if (positional == COMMAND) {
		json_t *a = json_array();

		if (argc < 1) {
			json_decref(a);
			return error_usage(err,
					   "missing the command to run "
					   "(corral submit [OPTIONS] -- CMD [ARGS...])");
		}
		if (argc > API_MAX_ARGS) {
			json_decref(a);
			return error_usage(err, "%d arguments; at most %d", argc, API_MAX_ARGS);
		}
		json_object_set_new(f, "argv", a);
		for (int i = 0; i < argc; i++)
			if (json_array_append_new(a, json_string(argv[i])) < 0)
				return error_usage(err, "argument %d is not valid UTF-8", i);
	}
	set_str(f, "user", v->user);
	set_str(f, "profile", v->profile);
	if (v->env)
		json_object_set(f, "env", v->env);
	if (v->labels)
		json_object_set(f, "labels", v->labels);
	if (v->files)
		json_object_set(f, "files", v->files);
	if (v->artifacts)
		json_object_set(f, "artifacts", v->artifacts);
	set_uint(f, "gpus", v->has_gpus, v->gpus);
	set_uint(f, "gpu_memory_bytes", v->has_gpu_memory, v->gpu_memory);
	set_uint(f, "cpu_millis", v->cpu_millis > 0, v->cpu_millis);
	set_str(f, "cwd", v->cwd);
	set_str(f, "callback_url", v->callback_url);
	if (v->stdin_path) {
		char *data = NULL;
		size_t len = 0;
		json_t *text;
		int r = read_file(v->stdin_path, API_MAX_STDIN, &data, &len, err);

		if (r < 0)
			return -EINVAL; /* a usage error, whatever the errno */
		text = json_stringn(data, len);
		free(data);
		if (!text)
			return error_usage(err,
					   "--stdin %s: not UTF-8 text (the protocol "
					   "carries stdin as a JSON string)",
					   v->stdin_path);
		json_object_set_new(f, "stdin", text);
	}
	set_str(f, "state", v->state);
	set_uint(f, "limit", v->has_limit, v->limit);
	set_uint(f, "after", v->has_after, v->after);
	set_uint(f, "since_us", v->has_since, v->since_us);
	set_uint(f, "until_us", v->has_until, v->until_us);
	set_str(f, "month", v->month);
	set_uint(f, "timeout_ms", v->has_timeout, v->timeout_ms);
	set_uint(f, "cpu_limit_ms", v->has_cpu_limit, v->cpu_limit_ms);
	set_uint(f, "memory_bytes", v->has_memory, v->memory_bytes);
	if (v->no_queue)
		json_object_set_new(f, "no_queue", json_true());
	if (v->clear_env) {
		if (!v->env)
			return error_usage(err, "--clear-env: give the variables the task gets with --env");
		json_object_set_new(f, "clear_env", json_true());
	}
	if ((cmd->quiet || cmd->wait_timeout_ms) && !cmd->wait)
		return error_usage(err, "--%s only goes with --wait", cmd->quiet ? "quiet" : "wait-timeout");
	if (v->err_stream)
		json_object_set_new(f, "stream", json_string("stderr"));
	if (v->has_delta)
		json_object_set_new(f, "delta_us", json_integer((json_int_t)v->delta_us));
	set_uint(f, "set_left_us", v->has_set_left, v->set_left_us);
	set_str(f, "reason", v->reason);
	return 0;
}

int commands_parse(int argc, char **argv, struct cli_command *cmd, struct error *err)
{
	const struct cmd_spec *s = find_spec(argc > 0 ? argv[0] : NULL);
	/* submit stops at CMD so its options stay its own */
	const char *shortopts = s && positional_of(s) == COMMAND ? "+h" : "ho:";
	struct opts v = { 0 };
	int o, r = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (argc > 1) {
		/* a sub-command: `usage adjust` is the command of op usage_adjust,
		 * `node drain` of node_drain */
		char joined[64];
		const struct cmd_spec *sub;

		snprintf(joined, sizeof(joined), "%s_%s", argv[0], argv[1]);
		sub = find_spec(joined);
		if (sub) {
			s = sub;
			argc--;
			argv++;
		}
	}
	if (!s && argc > 0) {
		/* `corral node`: say its sub-commands */
		char subs[128] = "";
		size_t used = 0, n = strlen(argv[0]);

		for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
			const char *name = api_op_name(specs[i].op);

			if (strncmp(name, argv[0], n) == 0 && name[n] == '_' && used < sizeof(subs))
				used += (size_t)snprintf(subs + used, sizeof(subs) - used, "%s'%s %s'",
							 used ? ", " : "", argv[0], name + n + 1);
		}
		if (used)
			return error_usage(err, "'%s' needs a sub-command: %s", argv[0], subs);
	}
	if (!s)
		return error_usage(err, "unknown command '%s'", argc > 0 ? argv[0] : "");
	cmd->op = s->op;
	cmd->name = api_op_name(s->op);
	cmd->fields = json_object();
	cmd->more_ids = json_array();
	optind = 0; /* glibc: start afresh (tests parse many command lines) */
	opterr = 0;
	while (r == 0 && (o = getopt_long(argc, argv, shortopts, long_options, NULL)) != -1) {
		if (o == 'h')
			o = O_HELP;
		if (o == 'o')
			o = O_OUTPUT;
		if (o == '?') {
			const char *bad = argv[optind - 1];

			if (optopt >= O_USER && optopt <= O_HELP)
				r = error_usage(err, "option '%s' needs a value", bad);
			else if (optopt)
				r = error_usage(err, "unknown option '-%c'", optopt);
			else
				r = error_usage(err, "unknown option '%s'", bad);
			break;
		}
		if (o != O_SOCKET && o != O_HELP && !option_allowed(s, o)) {
			r = error_usage(err, "option '--%s' is not valid for corral %s", option_name(o),
					cmd->name);
			break;
		}
		r = take_option(o, optarg, &v, cmd, err);
	}
	if (r == 0 && !cmd->help)
		r = build_fields(s, &v, argc - optind, argv + optind, cmd, err);
	json_decref(v.env);
	json_decref(v.labels);
	json_decref(v.files);
	json_decref(v.artifacts);
	if (r < 0)
		commands_free(cmd);
	return r;
}

void commands_free(struct cli_command *cmd)
{
	json_decref(cmd->fields);
	cmd->fields = NULL;
	json_decref(cmd->more_ids);
	cmd->more_ids = NULL;
	json_decref(cmd->names);
	cmd->names = NULL;
}

char *commands_fields_json(const struct cli_command *cmd)
{
	return json_dumps(cmd->fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
}
