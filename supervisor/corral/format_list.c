/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/format_list.c — `corral list` as a table, like squeue:
 * the columns --format names (FORMAT_LIST_DEFAULT otherwise), elapsed time
 * (so far, for a running task: corrald's "live" figure), the time limit
 * in force, why a queued task waits; --noheader leaves out the header row.
 * Every cell is one line: the command and every string from the daemon are
 * escaped (format.c), so a multi-line command never breaks the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor/common/human.h"
#include "supervisor/corral/commands.h"

enum column {
	COL_ID,
	COL_USER,
	COL_PROFILE,
	COL_STATE,
	COL_EXIT,
	COL_SUBMITTED,
	COL_STARTED,
	COL_ENDED,
	COL_ELAPSED,
	COL_TIMELIMIT,
	COL_CPU,
	COL_MEMORY,
	COL_REASON,
	COL_ATTEMPTS,
	COL_COMMAND,
	COL_CPUS,
	COL_COUNT,
};

static const char *const column_names[COL_COUNT] = {
	[COL_ID] = "id",           [COL_USER] = "user",
	[COL_PROFILE] = "profile", [COL_STATE] = "state",
	[COL_EXIT] = "exit",       [COL_SUBMITTED] = "submitted",
	[COL_STARTED] = "started", [COL_ENDED] = "ended",
	[COL_ELAPSED] = "elapsed", [COL_TIMELIMIT] = "timelimit",
	[COL_CPU] = "cpu",         [COL_MEMORY] = "memory",
	[COL_REASON] = "reason",   [COL_ATTEMPTS] = "attempts",
	[COL_COMMAND] = "command", [COL_CPUS] = "cpus",
};

#define MAX_COLUMNS 32

/* columns -> their ids; -EINVAL with err naming an unknown one. */
static int parse_columns(const char *columns, enum column *out, size_t *n, struct error *err)
{
	const char *p = columns && *columns ? columns : FORMAT_LIST_DEFAULT;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t c;

		for (c = 0; c < COL_COUNT; c++)
			if (len == strlen(column_names[c]) && strncasecmp(p, column_names[c], len) == 0)
				break;
		if (c == COL_COUNT || *n == MAX_COLUMNS)
			return error_usage(err,
					   c == COL_COUNT
						   ? "--format: unknown column '%.*s' (id, user, profile, "
						     "state, exit, submitted, started, ended, elapsed, "
						     "timelimit, cpu, memory, reason, attempts, command, cpus)"
						   : "--format: at most 32 columns ('%.*s' is one too many)",
					   (int)len, p);
		out[(*n)++] = (enum column)c;
		p += len + (p[len] == ',');
	}
	if (*n == 0)
		return error_usage(err, "--format: no columns");
	return 0;
}

int format_list_check(const char *columns, struct error *err)
{
	enum column cols[MAX_COLUMNS];
	size_t n;

	return parse_columns(columns, cols, &n, err);
}

static int64_t int_of(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Wall time so far (running: corrald's live figure) or in all; "-" when
 * it has not started. */
static void elapsed_text(json_t *task, char *buf, size_t size)
{
	json_t *live = json_object_get(task, "live");
	int64_t start = int_of(task, "started_at_us"), end = int_of(task, "ended_at_us");

	if (json_is_object(live))
		human_duration((uint64_t)int_of(live, "elapsed_us"), buf, size);
	else if (start > 0 && end >= start)
		human_duration((uint64_t)(end - start), buf, size);
	else
		snprintf(buf, size, "-");
}

/* The wall-clock limit in force: corrald's "limits", else the request. */
static void timelimit_text(json_t *task, char *buf, size_t size)
{
	json_t *limits = json_object_get(task, "limits");
	json_t *wall = json_object_get(limits, "wall_us");

	if (json_is_integer(wall))
		human_duration((uint64_t)json_integer_value(wall), buf, size);
	else if (json_is_object(limits))
		snprintf(buf, size, "unlimited");
	else if (int_of(task, "timeout_ms") > 0)
		human_duration((uint64_t)int_of(task, "timeout_ms") * 1000u, buf, size);
	else
		snprintf(buf, size, "-");
}

static void cell(json_t *task, enum column c, char *buf, size_t size, char **owned)
{
	const char *s = NULL;

	switch (c) {
	case COL_ID:
		snprintf(buf, size, "%" PRId64, int_of(task, "id"));
		return;
	case COL_USER:
		s = format_field_text(task, "user");
		break;
	case COL_PROFILE:
		s = format_field_text(task, "profile");
		break;
	case COL_STATE:
		format_state_text(task, buf, size);
		return;
	case COL_EXIT:
		if (json_is_integer(json_object_get(task, "signal")))
			snprintf(buf, size, "sig %" PRId64, int_of(task, "signal"));
		else if (json_is_integer(json_object_get(task, "exit_code")))
			snprintf(buf, size, "%" PRId64, int_of(task, "exit_code"));
		else
			snprintf(buf, size, "-");
		return;
	case COL_SUBMITTED:
		format_time(int_of(task, "submitted_at_us"), buf, size);
		return;
	case COL_STARTED:
		format_time(int_of(task, "started_at_us"), buf, size);
		return;
	case COL_ENDED:
		format_time(int_of(task, "ended_at_us"), buf, size);
		return;
	case COL_ELAPSED:
		elapsed_text(task, buf, size);
		return;
	case COL_TIMELIMIT:
		timelimit_text(task, buf, size);
		return;
	case COL_CPU: {
		json_t *live = json_object_get(task, "live");

		format_seconds(json_is_object(live) ? int_of(live, "cpu_us") : int_of(task, "cpu_us"), buf,
			       size);
		return;
	}
	case COL_MEMORY: {
		json_t *live = json_object_get(task, "live");

		format_bytes(json_is_object(live) ? int_of(live, "memory_peak_bytes")
						  : int_of(task, "memory_peak_bytes"),
			     buf, size);
		return;
	}
	case COL_REASON:
		/* a queued task: why it waits; an ended one: why it ended */
		s = format_field_text(task, "pending_reason");
		if (!s)
			s = format_field_text(task, "reason");
		break;
	case COL_ATTEMPTS:
		snprintf(buf, size, "%" PRId64, int_of(task, "attempts"));
		return;
	case COL_CPUS: /* the cores asked with --cpus; "-": none */
		if (int_of(task, "cpu_millis") > 0)
			snprintf(buf, size, "%g", (double)int_of(task, "cpu_millis") / 1000);
		else
			snprintf(buf, size, "-");
		return;
	case COL_COMMAND: {
		char *cmd = format_command_text(json_object_get(task, "argv"));

		if (cmd && json_is_true(json_object_get(task, "argv_truncated"))) {
			char *cut = NULL;

			if (asprintf(&cut, "%s ...", cmd) >= 0) {
				free(cmd);
				cmd = cut;
			}
		}
		*owned = cmd;
		return;
	}
	case COL_COUNT:
		break;
	}
	snprintf(buf, size, "%s", s ? s : "-");
}

void format_list_print(FILE *out, json_t *tasks, const char *columns, bool header)
{
	enum column cols[MAX_COLUMNS];
	struct format_table t = { 0 };
	const char *row[MAX_COLUMNS];
	struct error err;
	size_t n, i;
	json_t *task;

	if (parse_columns(columns, cols, &n, &err) < 0)
		parse_columns(NULL, cols, &n, &err);
	t.cols = n;
	if (header) {
		char names[MAX_COLUMNS][16];

		for (size_t c = 0; c < n; c++) {
			size_t k;

			for (k = 0; column_names[cols[c]][k] && k < sizeof(names[c]) - 1; k++)
				names[c][k] = (char)(column_names[cols[c]][k] - 'a' + 'A');
			names[c][k] = '\0';
			row[c] = names[c];
		}
		format_table_add(&t, row);
	}
	json_array_foreach (tasks, i, task) {
		char cells[MAX_COLUMNS][96];
		char *owned[MAX_COLUMNS] = { 0 };

		for (size_t c = 0; c < n; c++) {
			cells[c][0] = '\0';
			cell(task, cols[c], cells[c], sizeof(cells[c]), &owned[c]);
			row[c] = owned[c] ? owned[c] : cells[c];
		}
		format_table_add(&t, row);
		for (size_t c = 0; c < n; c++)
			free(owned[c]);
	}
	format_table_print(out, &t);
}
