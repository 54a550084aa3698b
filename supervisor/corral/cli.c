/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/cli.c — run a parsed `corral` task command against
 * corrald: send its request, print the answer (tables, or the server's
 * JSON with --json), the logs loop, submit --wait, and the exit code.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/escape.h"
#include "supervisor/corral/commands.h"

/* Send op with fields; 0 and *resp on an ok response, else the exit code
 * (after printing why).  With json, every response goes to out as is. */
static int request(struct connection *c, enum api_op op, json_t *fields, bool json, json_t **resp, FILE *out,
		   FILE *err)
{
	char *fields_text = fields ? json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *line = api_request_build(op, fields_text);
	const char *code, *message;
	struct error cerr;
	int r;

	free(fields_text);
	*resp = NULL;
	if (!line) {
		fprintf(err, "corral: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	r = connection_call(c, line, resp, &cerr);
	free(line);
	if (r < 0) {
		fprintf(err, "corral: %s\n", cerr.message);
		return CLI_EXIT_UNREACHABLE;
	}
	if (json) {
		char *text = json_dumps(*resp, JSON_COMPACT | JSON_PRESERVE_ORDER);

		if (text)
			fprintf(out, "%s\n", text);
		free(text);
	}
	if (connection_response_error(*resp, &code, &message)) {
		char *safe_message = escape_control_dup(message ? message : "");

		fprintf(err, "corral: %s: %s\n", code, safe_message ? safe_message : "?");
		free(safe_message);
		r = format_error_exit_code(code);
		json_decref(*resp);
		*resp = NULL;
		return r;
	}
	return 0;
}

/* wait --json, submit --wait --json: corrald's answer as is; without
 * --json, follow.c waits (and says why a queued task waits). */
static int run_wait_json(struct connection *c, int64_t id, json_t *timeout, FILE *out, FILE *err)
{
	json_t *fields = json_pack("{s:I}", "id", (json_int_t)id);
	json_t *resp;
	int r;

	if (timeout)
		json_object_set(fields, "timeout_ms", timeout);
	r = request(c, API_OP_WAIT, fields, true, &resp, out, err);
	json_decref(fields);
	if (r)
		return r;
	r = format_task_exit_code(json_object_get(resp, "task"));
	json_decref(resp);
	return r;
}

/* Write a chunk's data_base64 to out (NULL: only decode it); its length
 * in *n.  -EPROTO if bad. */
static int write_chunk(json_t *resp, FILE *out, size_t *n)
{
	const char *b64 = json_string_value(json_object_get(resp, "data_base64"));
	unsigned char *data;
	int r;

	*n = 0;
	if (!b64)
		return -EPROTO;
	r = api_base64_decode(b64, strlen(b64), &data, n);
	if (r < 0)
		return r;
	if (out && *n && fwrite(data, 1, *n, out) != *n)
		r = -EIO;
	free(data);
	if (out)
		fflush(out);
	return r;
}

static int run_logs(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err)
{
	json_t *fields = json_deep_copy(cmd->fields);
	int64_t offset = 0;
	int r = 0;

	if (cmd->follow)
		json_object_set_new(fields, "follow", json_true());
	for (;;) {
		json_t *resp;
		size_t n;
		bool eof;

		json_object_set_new(fields, "offset", json_integer(offset));
		r = request(c, API_OP_LOGS, fields, cmd->json, &resp, out, err);
		if (r)
			break;
		r = write_chunk(resp, cmd->json ? NULL : out, &n);
		eof = json_is_true(json_object_get(resp, "eof"));
		if (json_is_integer(json_object_get(resp, "offset")))
			offset = json_integer_value(json_object_get(resp, "offset"));
		else
			offset += (int64_t)n;
		json_decref(resp);
		if (r < 0) {
			fprintf(err, "corral: logs: %s\n",
				r == -EIO ? "cannot write the output"
					  : "corrald sent a chunk without valid data_base64");
			r = CLI_EXIT_ERROR;
			break;
		}
		/* without --follow: what is there now; with it: until the task ended */
		if (eof || (!cmd->follow && n == 0))
			break;
	}
	json_decref(fields);
	return r;
}

static void print_cancel(FILE *out, json_t *task)
{
	const char *state = json_string_value(json_object_get(task, "state"));
	int64_t id = json_integer_value(json_object_get(task, "id"));

	if (state && strcmp(state, "running") == 0)
		fprintf(out, "task %" PRId64 ": cancel requested (it is being stopped)\n", id);
	else
		fprintf(out, "task %" PRId64 ": %s\n", id, state ? state : "?");
}

/* cancel ID ID...: one request per ID, in order; the first failure's
 * exit code, after trying them all (but for a lost connection). */
static int cancel_all(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err)
{
	json_t *ids = json_pack("[O]", json_object_get(cmd->fields, "id")), *id;
	size_t i;
	int first = 0;

	json_array_extend(ids, cmd->more_ids);
	json_array_foreach (ids, i, id) {
		json_t *fields = json_pack("{s:O}", "id", id), *resp;
		int r = request(c, API_OP_CANCEL, fields, cmd->json, &resp, out, err);

		json_decref(fields);
		if (r == 0 && !cmd->json)
			print_cancel(out, json_object_get(resp, "task"));
		json_decref(resp);
		if (r && !first)
			first = r;
		if (r == CLI_EXIT_UNREACHABLE)
			break;
	}
	json_decref(ids);
	return first;
}

int cli_run(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err)
{
	json_t *resp, *body;
	int64_t id;
	int r;

	if (cmd->op == API_OP_CANCEL && json_array_size(cmd->more_ids) > 0)
		return cancel_all(cmd, c, out, err);
	if (cmd->op == API_OP_LOGS)
		return run_logs(cmd, c, out, err);
	if (cmd->op == API_OP_FETCH)
		return files_cmd_fetch(cmd, c, out, err);
	if (cmd->op == API_OP_WAIT) {
		id = json_integer_value(json_object_get(cmd->fields, "id"));
		if (cmd->json)
			return run_wait_json(c, id, json_object_get(cmd->fields, "timeout_ms"), out, err);
		return follow_task(c, id, true, json_object_get(cmd->fields, "timeout_ms"), out, err);
	}
	if (cmd->op == API_OP_SUBMIT &&
	    (r = files_cmd_upload(c, json_object_get(cmd->fields, "files"),
				  json_object_get(cmd->fields, "user"), err)))
		return r;
	r = request(c, cmd->op, cmd->fields, cmd->json, &resp, out, err);
	if (r && cmd->op == API_OP_SUBMIT)
		files_cmd_upload_abandon(c, json_object_get(cmd->fields, "files"), err);
	if (r)
		return r;
	switch (cmd->op) {
	case API_OP_SUBMIT:
		body = json_object_get(resp, "task");
		id = json_integer_value(json_object_get(body, "id"));
		/* following the task, our stdout is the task's: its id goes to stderr */
		if (!cmd->json)
			fprintf(cmd->wait && !cmd->quiet ? err : out, "%s%" PRId64 "\n",
				cmd->wait && !cmd->quiet ? "corral: submitted task " : "", id);
		fflush(out);
		if (cmd->wait) {
			json_t *timeout = cmd->wait_timeout_ms ? json_integer(cmd->wait_timeout_ms) : NULL;

			if (cmd->json)
				r = run_wait_json(c, id, timeout, out, err);
			else
				r = follow_task(c, id, cmd->quiet, timeout, out, err);
			json_decref(timeout);
		}
		break;
	case API_OP_STATUS:
		if (!cmd->json)
			format_print_task(out, json_object_get(resp, "task"));
		break;
	case API_OP_CANCEL:
		if (!cmd->json)
			print_cancel(out, json_object_get(resp, "task"));
		break;
	case API_OP_LIST:
		if (!cmd->json) {
			json_t *next = json_object_get(resp, "next_after");

			format_list_print(out, json_object_get(resp, "tasks"), cmd->format, !cmd->noheader);
			if (json_is_integer(next))
				fprintf(err,
					"corral list: more tasks may follow: corral list --after %" PRId64
					" (with the same options)\n",
					(int64_t)json_integer_value(next));
		}
		break;
	case API_OP_QUEUE:
		if (!cmd->json)
			format_print_queue_table(out, json_object_get(resp, "queue"));
		break;
	case API_OP_USAGE:
		if (!cmd->json)
			format_print_usage_table(out, json_object_get(resp, "usage"));
		break;
	case API_OP_USAGE_ADJUST:
		if (!cmd->json)
			format_print_adjustment(out, resp);
		break;
	case API_OP_NODES:
		if (!cmd->json)
			format_print_node_table(out, json_object_get(resp, "nodes"));
		break;
	case API_OP_NODE_DRAIN:
	case API_OP_NODE_UNDRAIN:
		if (!cmd->json) {
			json_t *one = json_pack("[O]", json_object_get(resp, "node"));

			format_print_node_table(out, one);
			json_decref(one);
		}
		break;
	case API_OP_ARTIFACTS:
		if (!cmd->json)
			files_cmd_print_artifacts(out, json_object_get(resp, "artifacts"));
		break;
	case API_OP_PING:
	case API_OP_VERSION:
		if (!cmd->json) {
			const char *v = json_string_value(json_object_get(resp, "version"));

			fprintf(out, "corrald %s (pid %" PRId64 ") at %s\n", v ? v : "?",
				(int64_t)json_integer_value(json_object_get(resp, "pid")), c->path);
		}
		break;
	default:
		break;
	}
	json_decref(resp);
	return r;
}

int cli_run_command(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli_command cmd;
	struct connection c;
	struct error e;
	int r;

	if (commands_parse(argc, argv, &cmd, &e) < 0) {
		fprintf(err, "corral %s: %s\nRun 'corral %s --help' for its options.\n",
			argc > 0 ? argv[0] : "", e.message, argc > 0 ? argv[0] : "");
		return CLI_EXIT_USAGE;
	}
	if (cmd.help) {
		commands_spec_usage(out, cmd.name);
		commands_free(&cmd);
		return CLI_EXIT_OK;
	}
	if (connection_connect(&c, connection_socket_path(cmd.socket), &e) < 0) {
		fprintf(err, "corral: %s\n", e.message);
		commands_free(&cmd);
		return CLI_EXIT_UNREACHABLE;
	}
	r = cli_run(&cmd, &c, out, err);
	if (fflush(out) != 0 && r == CLI_EXIT_OK) {
		fprintf(err, "corral: cannot write the output: %s\n", strerror(errno));
		r = CLI_EXIT_ERROR;
	}
	connection_close(&c);
	commands_free(&cmd);
	return r;
}

int cli_main(int argc, char **argv)
{
	return cli_run_command(argc, argv, stdout, stderr);
}
