/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/follow.c — `corral submit --wait`: follow one task to
 * its end, like `systemd-run --pipe --wait` or `srun`.  Its stdout and
 * stderr are written to ours as they come (two `logs --follow` requests in
 * flight on one connection, told apart by their tags), then the client
 * exits with the task's status (common/exit_code.h).  While the task is
 * queued, its pending message ("alice: 10.0 of 10.0 CPU hours used in
 * 2026-11 (plan p)") is printed on stderr, once per change, so a wait that
 * cannot end soon says why instead of hanging silently.  --quiet (and
 * `corral wait`): no streams, the result on stdout as before.  A wait
 * timeout gives up with exit 75 (quiet: corrald's wait_timeout answer);
 * the task keeps going.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/common/escape.h"
#include "supervisor/corral/commands.h"

/* How soon a queued task's reason is first asked for, and how often after. */
#define FIRST_STATUS_MS 1000
#define STATUS_EVERY_MS 5000

enum follow_tag { TAG_STDOUT, TAG_STDERR, TAG_STATUS, TAG_WAIT, N_TAGS };
static const char *const tag_names[N_TAGS] = { "stdout", "stderr", "status", "wait" };

struct follow {
	struct connection *c;
	int64_t id;
	FILE *out, *err;
	bool quiet;
	json_t *timeout_ms; /* quiet: the wait request's, else NULL */
	int64_t offset[2];
	bool eof[2];
	bool in_flight[N_TAGS];
	bool started;       /* the task is known to run (or to have run) */
	char *last_pending; /* the pending message printed last */
	json_t *task;       /* the wait's answer: the ended task */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_tagged(struct follow *f, enum api_op op, enum follow_tag tag, json_t *fields)
{
	char *text, *line;
	struct error e;
	int r;

	json_object_set_new(fields, "id", json_integer(f->id));
	json_object_set_new(fields, "tag", json_string(tag_names[tag]));
	text = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	line = text ? api_request_build(op, text) : NULL;
	free(text);
	if (!line) {
		fprintf(f->err, "corral: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	r = connection_send(f->c, line, &e);
	free(line);
	if (r < 0) {
		fprintf(f->err, "corral: %s\n", e.message);
		return CLI_EXIT_UNREACHABLE;
	}
	f->in_flight[tag] = true;
	return 0;
}

static int ask_logs(struct follow *f, int stream)
{
	json_t *fields = json_pack("{s:s, s:I, s:b}", "stream", stream ? "stderr" : "stdout", "offset",
				   (json_int_t)f->offset[stream], "follow", 1);

	return send_tagged(f, API_OP_LOGS, stream ? TAG_STDERR : TAG_STDOUT, fields);
}

/* A chunk of stream s: written to our stdout or stderr. */
static int take_chunk(struct follow *f, int s, json_t *resp)
{
	const char *b64 = json_string_value(json_object_get(resp, "data_base64"));
	json_t *offset = json_object_get(resp, "offset");
	FILE *to = s ? f->err : f->out;
	unsigned char *data = NULL;
	size_t n = 0;

	if (!b64 || api_base64_decode(b64, strlen(b64), &data, &n) < 0 || !json_is_integer(offset)) {
		fprintf(f->err, "corral: corrald sent a log chunk without valid data_base64 or offset\n");
		return CLI_EXIT_ERROR;
	}
	if (n && fwrite(data, 1, n, to) != n) {
		free(data);
		fprintf(f->err, "corral: cannot write the task's %s\n", s ? "stderr" : "stdout");
		return CLI_EXIT_ERROR;
	}
	free(data);
	fflush(to);
	f->offset[s] = json_integer_value(offset);
	f->eof[s] = json_is_true(json_object_get(resp, "eof"));
	f->started = f->started || n > 0;
	return 0;
}

/* A status answer: say why a queued task waits, when that changed. */
static void take_status(struct follow *f, json_t *resp)
{
	json_t *task = json_object_get(resp, "task");
	const char *state = json_string_value(json_object_get(task, "state"));
	const char *reason = json_string_value(json_object_get(task, "pending_reason"));
	const char *message = json_string_value(json_object_get(task, "pending_message"));
	char *safe;

	if (!state || strcmp(state, "queued") != 0) {
		f->started = true;
		return;
	}
	if (!message)
		message = reason ? reason : "waiting for a free slot";
	if (f->last_pending && strcmp(f->last_pending, message) == 0)
		return;
	free(f->last_pending);
	f->last_pending = strdup(message);
	safe = escape_control_dup(message);
	fprintf(f->err, "corral: task %" PRId64 " is queued%s%s: %s\n", f->id, reason ? ", " : "",
		reason ? reason : "", safe ? safe : "?");
	free(safe);
	fflush(f->err);
}

static enum follow_tag tag_of(json_t *resp)
{
	const char *tag = json_string_value(json_object_get(resp, "tag"));

	for (int t = 0; tag && t < N_TAGS; t++)
		if (strcmp(tag, tag_names[t]) == 0)
			return (enum follow_tag)t;
	return N_TAGS;
}

/* Handle one response; 0 to go on, else the exit code. */
static int take_response(struct follow *f, json_t *resp)
{
	enum follow_tag tag = tag_of(resp);
	const char *code, *message;

	if (tag == N_TAGS) {
		fprintf(f->err, "corral: corrald answered a request this client did not send\n");
		return CLI_EXIT_ERROR;
	}
	f->in_flight[tag] = false;
	if (connection_response_error(resp, &code, &message)) {
		char *safe = escape_control_dup(message);

		fprintf(f->err, "corral: %s: %s\n", code, safe ? safe : "?");
		free(safe);
		return format_error_exit_code(code);
	}
	switch (tag) {
	case TAG_STDOUT:
	case TAG_STDERR:
		return take_chunk(f, tag == TAG_STDERR, resp);
	case TAG_STATUS:
		take_status(f, resp);
		return 0;
	case TAG_WAIT:
		f->task = json_incref(json_object_get(resp, "task"));
		if (!json_is_object(f->task)) {
			json_decref(f->task);
			f->task = NULL;
			fprintf(f->err, "corral: corrald answered the wait without a task\n");
			return CLI_EXIT_ERROR;
		}
		return 0;
	default:
		return 0;
	}
}

/* What to ask next: the logs not at their end, then the wait. */
static int ask_next(struct follow *f)
{
	int r = 0;

	for (int s = 0; !f->quiet && r == 0 && s < 2; s++)
		if (!f->eof[s] && !f->in_flight[s])
			r = ask_logs(f, s);
	if (r == 0 && !f->in_flight[TAG_WAIT] && (f->quiet || (f->eof[0] && f->eof[1]))) {
		json_t *fields = json_object();

		if (f->timeout_ms)
			json_object_set(fields, "timeout_ms", f->timeout_ms);
		r = send_tagged(f, API_OP_WAIT, TAG_WAIT, fields);
	}
	return r;
}

static void print_gave_up(struct follow *f, int64_t timeout_ms)
{
	fprintf(f->err,
		"corral: task %" PRId64 " has not ended after %" PRId64 ".%03" PRId64
		" s (--wait-timeout); it keeps going: corral wait %" PRId64 ", corral cancel %" PRId64 "\n",
		f->id, timeout_ms / 1000, timeout_ms % 1000, f->id, f->id);
}

int follow_task(struct connection *c, int64_t id, bool quiet, json_t *timeout, FILE *out, FILE *err)
{
	struct follow f = { .c = c, .id = id, .out = out, .err = err, .quiet = quiet };
	int64_t start = mono_ms(), next_status = start + FIRST_STATUS_MS;
	/* quiet: corrald times the wait out; following, the client does */
	int64_t timeout_ms = quiet || !timeout ? 0 : (int64_t)json_integer_value(timeout);
	int r = 0;

	if (quiet)
		f.timeout_ms = timeout;

	while (r == 0 && !f.task) {
		int64_t now = mono_ms(), wake = next_status;
		json_t *resp;
		struct error e;

		/* checked every turn: a task that writes all the time still
		 * times out */
		if (timeout_ms > 0 && now >= start + timeout_ms) {
			print_gave_up(&f, timeout_ms);
			r = CLI_EXIT_WAIT_TIMEOUT;
			break;
		}
		if (now >= next_status) {
			next_status = now + STATUS_EVERY_MS;
			wake = next_status;
			if (!f.started && !f.in_flight[TAG_STATUS])
				r = send_tagged(&f, API_OP_STATUS, TAG_STATUS, json_object());
		}
		if (r == 0)
			r = ask_next(&f);
		if (r)
			break;
		if (timeout_ms > 0 && start + timeout_ms < wake)
			wake = start + timeout_ms;
		r = connection_receive(c, wake > now ? (int)(wake - now) : 0, &resp, &e);
		if (r == -ETIMEDOUT) {
			r = 0;
			continue;
		}
		if (r < 0) {
			fprintf(err, "corral: %s\n", e.message);
			r = CLI_EXIT_UNREACHABLE;
			break;
		}
		r = take_response(&f, resp);
		json_decref(resp);
	}
	if (f.task) {
		format_print_task_summary(quiet ? out : err, f.task);
		r = format_task_exit_code(f.task);
		json_decref(f.task);
	}
	free(f.last_pending);
	return r;
}
