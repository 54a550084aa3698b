/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/commands.c — the task commands of `corral`: parse a command
 * line into an op and its request fields (commands_parse, pure but for reading
 * submit's --stdin file).  A command is named after its op, and which
 * options it takes and whether it wants a task ID or a command come from the
 * op's fields in api/api_ops.c's table; the client's own options
 * (--json, --wait) and the help texts: commands_spec.c.  Running a command:
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
#include "supervisor/corral/commands_spec.h"
#include "supervisor/store/task_state.h"

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

	enum positional positional = commands_spec_positional(s);

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
	const struct cmd_spec *s = commands_spec_find(argc > 0 ? argv[0] : NULL);
	/* submit stops at CMD so its options stay its own */
	const char *shortopts = s && commands_spec_positional(s) == COMMAND ? "+h" : "ho:";
	struct opts v = { 0 };
	int o, r = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (argc > 1) {
		/* a sub-command: `usage adjust` is the command of op usage_adjust,
		 * `node drain` of node_drain */
		char joined[64];
		const struct cmd_spec *sub;

		snprintf(joined, sizeof(joined), "%s_%s", argv[0], argv[1]);
		sub = commands_spec_find(joined);
		if (sub) {
			s = sub;
			argc--;
			argv++;
		}
	}
	if (!s && argc > 0) {
		/* `corral node`: say its sub-commands */
		char subs[128] = "";

		if (commands_spec_subcommands(argv[0], subs, sizeof(subs)))
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
	while (r == 0 && (o = getopt_long(argc, argv, shortopts, commands_spec_long_options, NULL)) != -1) {
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
		if (o != O_SOCKET && o != O_HELP && !commands_spec_option_allowed(s, o)) {
			r = error_usage(err, "option '--%s' is not valid for corral %s",
					commands_spec_option_name(o), cmd->name);
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
