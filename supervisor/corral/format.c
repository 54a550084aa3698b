/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/format.c — what `corral` prints for people: TASK objects
 * as key/value blocks, aligned tables for list, queue and usage, UTC
 * times, CPU in seconds and hours; and the exit code a task ends with.
 * Everything writes to a FILE * given by the caller (tests use memory).
 * Every string from the daemon is another tenant's text as far as the
 * terminal knows: control characters are escaped (common/escape.h), so a
 * task's argv or message cannot send ESC, BEL or CR to an operator's
 * terminal or fake rows; --json output stays exact.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/common/escape.h"
#include "supervisor/common/human.h"
#include "supervisor/common/macros.h"
#include "supervisor/corral/commands.h"

/* ---- exit codes --------------------------------------------------------- */

/* A string member, safe to print: as is, or (when it holds control
 * characters) escaped into one of a few buffers reused in turn, enough for
 * every string of one printed line or row. */
#define ESCAPED_SLOTS 16
static const char *str_field(json_t *obj, const char *key)
{
	static char *escaped[ESCAPED_SLOTS];
	static unsigned next;
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || !escape_control_needed(s))
		return s;
	free(escaped[next]);
	escaped[next] = escape_control_dup(s);
	s = escaped[next] ? escaped[next] : "?";
	next = (next + 1) % ESCAPED_SLOTS;
	return s;
}

static int64_t int_field(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

int format_task_exit_code(json_t *task)
{
	const char *state = str_field(task, "state");
	const char *reason = str_field(task, "reason");
	json_t *exit_code = json_object_get(task, "exit_code");
	json_t *sig = json_object_get(task, "signal");

	if (state && strcmp(state, "succeeded") == 0)
		return 0;
	if (reason && strcmp(reason, "signal") == 0 && json_is_integer(sig))
		return 128 + (int)(json_integer_value(sig) & 127);
	if (exit_code_of_reason(reason) >= 0)
		return exit_code_of_reason(reason);
	if (state && strcmp(state, "cancelled") == 0)
		return CLI_EXIT_CANCELLED;
	if (json_is_integer(exit_code))
		return (int)(json_integer_value(exit_code) & 255);
	return CLI_EXIT_ERROR;
}

int format_error_exit_code(const char *code)
{
	return code && strcmp(code, "wait_timeout") == 0 ? CLI_EXIT_WAIT_TIMEOUT : CLI_EXIT_ERROR;
}

/* ---- units -------------------------------------------------------------- */

void format_time(int64_t epoch_us, char *buf, size_t size)
{
	time_t t = (time_t)(epoch_us / 1000000);
	struct tm tm;

	if (epoch_us <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "-");
}

void format_seconds(int64_t us, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRId64 ".%03" PRId64 "s", us / 1000000, us % 1000000 / 1000);
}

void format_hours(int64_t us, char *buf, size_t size)
{
	/* under a minute in seconds: a budget of 0.001 h is 3.6s, not 0.00h */
	if (us > 0 && us < 60000000)
		snprintf(buf, size, "%.1fs", (double)us / 1e6);
	else
		snprintf(buf, size, "%.2fh", (double)us / 3600e6);
}

void format_bytes(int64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGTP";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRId64 "B", bytes);
	else
		snprintf(buf, size, v < 10 && v != (int64_t)v ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* The command line, shell-ish: words joined by spaces, quoted if needed. */
static char *argv_text(json_t *argv)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t i;
	json_t *a;

	if (!f)
		return NULL;
	json_array_foreach (argv, i, a) {
		const char *s = json_string_value(a);

		if (!s)
			s = "?";
		if (i)
			fputc(' ', f);
		if (escape_control_needed(s)) {
			/* bash's $'...' with \xNN: visible, and pastes back exactly */
			fputs("$'", f);
			for (; *s; s++) {
				unsigned char ch = (unsigned char)*s;

				if (ch < 0x20 || ch == 0x7f || ch >= 0x80)
					fprintf(f, "\\x%02x", ch);
				else if (ch == '\'' || ch == '\\')
					fprintf(f, "\\%c", ch);
				else
					fputc(ch, f);
			}
			fputc('\'', f);
		} else if (*s && !s[strcspn(s, " \t\n'\"\\$`*?;&|<>()!#~")]) {
			fputs(s, f);
		} else {
			fputc('\'', f);
			for (; *s; s++)
				fputs(*s == '\'' ? "'\\''" : (char[]){ *s, 0 }, f);
			fputc('\'', f);
		}
	}
	fclose(f);
	return text;
}

/* ---- one task ----------------------------------------------------------- */

static void state_text(json_t *task, char *buf, size_t size)
{
	const char *state = str_field(task, "state");
	const char *reason = str_field(task, "reason");

	snprintf(buf, size, "%s%s%s%s", state ? state : "?", reason ? " (" : "", reason ? reason : "",
		 reason ? ")" : "");
}

static void wall_time(json_t *task, char *buf, size_t size)
{
	int64_t start = int_field(task, "started_at_us"), end = int_field(task, "ended_at_us");

	if (start > 0 && end >= start)
		format_seconds(end - start, buf, size);
	else
		snprintf(buf, size, "-");
}

static void int_or_dash(json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%" PRId64, (int64_t)json_integer_value(v));
	else
		snprintf(buf, size, "-");
}

/* A limit and where it comes from, from the task's "limits" (corrald >=
 * issue 17): "1.5 s, task's", "1 GiB, plan pro's", "unlimited", "4.2 s,
 * the budget left"; without it from the requested field old (scaled by
 * old_scale: ms -> us; 0: bytes), else "plan's". */
static void limit_text(json_t *task, const char *key, const char *from_key, const char *old,
		       int64_t old_scale, char *buf, size_t size)
{
	json_t *limits = json_object_get(task, "limits");
	json_t *v = json_object_get(limits, key);
	const char *from = str_field(limits, from_key);
	const char *plan = str_field(limits, "plan");
	bool is_size = strstr(key, "bytes") != NULL;
	char value[48];

	if (!json_is_object(limits)) {
		int64_t n = old ? int_field(task, old) : 0;

		if (n <= 0)
			snprintf(buf, size, "plan's");
		else if (old_scale)
			snprintf(buf, size, "%s",
				 human_duration((uint64_t)(n * old_scale), value, sizeof(value)));
		else
			snprintf(buf, size, "%s", human_size((uint64_t)n, value, sizeof(value)));
		return;
	}
	if (!json_is_integer(v)) {
		snprintf(buf, size, "unlimited");
		return;
	}
	if (is_size)
		human_size((uint64_t)json_integer_value(v), value, sizeof(value));
	else
		human_duration((uint64_t)json_integer_value(v), value, sizeof(value));
	if (from && strcmp(from, "task") == 0)
		snprintf(buf, size, "%s, the task's own", value);
	else if (from && strcmp(from, "budget") == 0)
		snprintf(buf, size, "%s, what the month's budget left", value);
	else if (from && strcmp(from, "user") == 0)
		snprintf(buf, size, "%s, the tenant's [user] section", value);
	else if (plan)
		snprintf(buf, size, "%s, plan %s's", value, plan);
	else
		snprintf(buf, size, "%s, the policy's", value);
}

void format_print_task(FILE *out, json_t *task)
{
	char a[64], b[96], c[64], d[64];
	json_t *live;
	char *cmd = argv_text(json_object_get(task, "argv"));
	const char *s;

#define ROW(label, ...) (fprintf(out, "%-11s ", label ":"), fprintf(out, __VA_ARGS__), fputc('\n', out))
	ROW("id", "%" PRId64, int_field(task, "id"));
	ROW("user", "%s", (s = str_field(task, "user")) ? s : "-");
	ROW("profile", "%s", (s = str_field(task, "profile")) ? s : "-");
	ROW("command", "%s", cmd ? cmd : "?");
	state_text(task, a, sizeof(a));
	ROW("state", "%s", a);
	if ((s = str_field(task, "message")))
		ROW("message", "%s", s);
	int_or_dash(json_object_get(task, "exit_code"), a, sizeof(a));
	int_or_dash(json_object_get(task, "signal"), b, sizeof(b));
	ROW("exit code", "%s", a);
	ROW("signal", "%s", b);
	if (json_object_get(task, "position")) {
		const char *why = str_field(task, "pending_reason");
		const char *msg = str_field(task, "pending_message");

		ROW("position", "%" PRId64 "%s%s%s%s%s", int_field(task, "position"), why ? " (" : "",
		    why ? why : "", why && msg ? ": " : "", why && msg ? msg : "", why ? ")" : "");
	}
	format_time(int_field(task, "submitted_at_us"), a, sizeof(a));
	ROW("submitted", "%s", a);
	format_time(int_field(task, "started_at_us"), a, sizeof(a));
	ROW("started", "%s", a);
	format_time(int_field(task, "ended_at_us"), a, sizeof(a));
	ROW("ended", "%s", a);
	live = json_object_get(task, "live");
	if (json_is_object(live)) {
		/* running: the figures so far, from its cgroup and output files */
		format_seconds(int_field(live, "elapsed_us"), a, sizeof(a));
		limit_text(task, "wall_us", "wall_from", "timeout_ms", 1000, b, sizeof(b));
		ROW("wall", "%s so far (limit %s)", a, b);
		format_seconds(int_field(live, "cpu_us"), a, sizeof(a));
		format_seconds(int_field(live, "cpu_user_us"), c, sizeof(c));
		format_seconds(int_field(live, "cpu_system_us"), d, sizeof(d));
		limit_text(task, "cpu_us", "cpu_from", "cpu_limit_ms", 1000, b, sizeof(b));
		ROW("cpu", "%s so far (user %s, system %s; limit %s)", a, c, d, b);
		human_size((uint64_t)int_field(live, "memory_bytes"), a, sizeof(a));
		human_size((uint64_t)int_field(live, "memory_peak_bytes"), c, sizeof(c));
		limit_text(task, "memory_bytes", "memory_from", "memory_bytes", 0, b, sizeof(b));
		ROW("memory", "%s now, peak %s (limit %s)", a, c, b);
		ROW("stdout", "%" PRId64 " bytes so far", int_field(live, "stdout_bytes"));
		ROW("stderr", "%" PRId64 " bytes so far", int_field(live, "stderr_bytes"));
	} else {
		wall_time(task, a, sizeof(a));
		limit_text(task, "wall_us", "wall_from", "timeout_ms", 1000, b, sizeof(b));
		ROW("wall", "%s (limit %s)", a, b);
		format_seconds(int_field(task, "cpu_us"), a, sizeof(a));
		limit_text(task, "cpu_us", "cpu_from", "cpu_limit_ms", 1000, b, sizeof(b));
		format_seconds(int_field(task, "cpu_user_us"), c, sizeof(c));
		format_seconds(int_field(task, "cpu_system_us"), d, sizeof(d));
		ROW("cpu", "%s (user %s, system %s; limit %s)", a, c, d, b);
		human_size((uint64_t)int_field(task, "memory_peak_bytes"), a, sizeof(a));
		limit_text(task, "memory_bytes", "memory_from", "memory_bytes", 0, b, sizeof(b));
		ROW("memory", "peak %s (limit %s)", a, b);
		ROW("stdout", "%" PRId64 " bytes%s", int_field(task, "stdout_bytes"),
		    json_is_true(json_object_get(task, "stdout_truncated")) ? " (truncated)" : "");
		ROW("stderr", "%" PRId64 " bytes%s", int_field(task, "stderr_bytes"),
		    json_is_true(json_object_get(task, "stderr_truncated")) ? " (truncated)" : "");
	}
	if (int_field(task, "cpu_millis") > 0) /* --cpus */
		ROW("cpus", "%g (held on its node; its CPU quota)",
		    (double)int_field(task, "cpu_millis") / 1000);
	if (json_is_object(json_object_get(task, "limits"))) {
		limit_text(task, "output_bytes", "output_from", NULL, 0, b, sizeof(b));
		if (strcmp(b, "unlimited") == 0)
			ROW("output", "unlimited");
		else
			ROW("output", "limit %s (per stream)", b);
	}
	ROW("attempts", "%" PRId64, int_field(task, "attempts"));
	if ((s = str_field(task, "last_attempt_error")))
		ROW("retried", "%s", s);
#undef ROW
	free(cmd);
}

void format_print_task_summary(FILE *out, json_t *task)
{
	const char *state = str_field(task, "state");
	const char *reason = str_field(task, "reason");
	const char *message = str_field(task, "message");
	char wall[32], cpu[32];

	wall_time(task, wall, sizeof(wall));
	format_seconds(int_field(task, "cpu_us"), cpu, sizeof(cpu));
	fprintf(out, "task %" PRId64 " %s", int_field(task, "id"), state ? state : "?");
	if (reason && strcmp(reason, "exit_code") == 0)
		fprintf(out, " (exit code %" PRId64 ")", int_field(task, "exit_code"));
	else if (reason && strcmp(reason, "signal") == 0)
		fprintf(out, " (signal %" PRId64 ")", int_field(task, "signal"));
	else if (reason)
		fprintf(out, " (%s)", reason);
	if (message && *message)
		fprintf(out, ": %s", message);
	fprintf(out, "; wall %s, cpu %s", wall, cpu);
	/* a child the OOM killer took, though the task went on */
	if (int_field(task, "oom_kills") > 0 && !(reason && strcmp(reason, "oom") == 0))
		fprintf(out, "; %" PRId64 " process%s killed by the OOM killer", int_field(task, "oom_kills"),
			int_field(task, "oom_kills") == 1 ? "" : "es");
	fprintf(out, "\n");
}

/* What format_list.c shares. */
const char *format_field_text(json_t *obj, const char *key)
{
	return str_field(obj, key);
}

char *format_command_text(json_t *argv)
{
	return argv_text(argv);
}

void format_state_text(json_t *task, char *buf, size_t size)
{
	state_text(task, buf, size);
}

/* ---- tables ------------------------------------------------------------- */

int format_table_add(struct format_table *t, const char *const *row)
{
	char **cells = realloc(t->cells, (t->rows + 1) * t->cols * sizeof(*cells));

	if (!cells)
		return -1;
	t->cells = cells;
	for (size_t i = 0; i < t->cols; i++)
		cells[t->rows * t->cols + i] = strdup(row[i] ? row[i] : "-");
	t->rows++;
	return 0;
}

/* Print with columns padded to their widest cell (the last is not padded),
 * then free the cells. */
void format_table_print(FILE *out, struct format_table *t)
{
	size_t *width = calloc(t->cols, sizeof(*width));

	for (size_t r = 0; width && r < t->rows; r++)
		for (size_t col = 0; col < t->cols; col++) {
			const char *cell = t->cells[r * t->cols + col];
			size_t n = cell ? strlen(cell) : 0;

			if (n > width[col])
				width[col] = n;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t col = 0; col < t->cols; col++) {
			const char *cell = t->cells[r * t->cols + col];

			if (col + 1 < t->cols)
				fprintf(out, "%-*s  ", width ? (int)width[col] : 0, cell ? cell : "");
			else
				fprintf(out, "%s\n", cell ? cell : "");
		}
	}
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(width);
	t->cells = NULL;
	t->rows = 0;
}

void format_print_task_table(FILE *out, json_t *tasks)
{
	format_list_print(out, tasks, NULL, true);
}

void format_print_queue_table(FILE *out, json_t *tasks)
{
	static const char *const header[] = { "POS", "ID", "USER", "PENDING", "MESSAGE" };
	struct format_table t = { .cols = 5 };
	size_t i;
	json_t *task;

	format_table_add(&t, header);
	json_array_foreach (tasks, i, task) {
		char pos[24], id[24];
		const char *row[5] = { pos, id, str_field(task, "user"), str_field(task, "pending_reason"),
				       str_field(task, "pending_message") };

		snprintf(pos, sizeof(pos), "%" PRId64, int_field(task, "position"));
		snprintf(id, sizeof(id), "%" PRId64, int_field(task, "id"));
		format_table_add(&t, row);
	}
	format_table_print(out, &t);
}

/* An adjustment: "-" for none, else "+1.00h", "-30.0s". */
static void format_signed_hours(int64_t us, char *buf, size_t size)
{
	char magnitude[24];

	if (us == 0) {
		snprintf(buf, size, "-");
		return;
	}
	format_hours(us < 0 ? -us : us, magnitude, sizeof(magnitude));
	snprintf(buf, size, "%c%s", us < 0 ? '-' : '+', magnitude);
}

/* "12 MiB / 1 GiB": what the tenant's tasks hold in the store and the
 * plan's max_stored ("unlimited"); "-" from a corrald without them. */
static void format_usage_stored(json_t *u, char *buf, size_t size)
{
	json_t *held = json_object_get(u, "stored_bytes"), *max = json_object_get(u, "max_stored_bytes");
	char a[32], b[32];

	if (!json_is_integer(held)) {
		snprintf(buf, size, "-");
		return;
	}
	human_size((uint64_t)json_integer_value(held), a, sizeof(a));
	if (json_is_integer(max))
		human_size((uint64_t)json_integer_value(max), b, sizeof(b));
	else
		snprintf(b, sizeof(b), "unlimited");
	snprintf(buf, size, "%s / %s", a, b);
}

void format_print_usage_table(FILE *out, json_t *usage)
{
	static const char *const header[] = { "USER",   "PLAN", "MONTH",   "USED",   "ADJUSTED",
					      "BUDGET", "LEFT", "RUNNING", "QUEUED", "STORED" };
	struct format_table t = { .cols = 10 };
	size_t i;
	json_t *u;

	format_table_add(&t, header);
	json_array_foreach (usage, i, u) {
		char used[32], adjusted[40], budget[32], left[32], running[24], queued[24], stored[80];
		const char *row[10] = { str_field(u, "user"),
					str_field(u, "plan"),
					str_field(u, "month"),
					used,
					adjusted,
					budget,
					left,
					running,
					queued,
					stored };
		int64_t adjust = int_field(u, "cpu_adjust_us");
		json_t *budget_us = json_object_get(u, "cpu_budget_us");
		bool unlimited = !budget_us || json_is_null(budget_us);

		format_hours(int_field(u, "cpu_used_us"), used, sizeof(used));
		format_signed_hours(adjust, adjusted, sizeof(adjusted));
		if (unlimited) {
			snprintf(budget, sizeof(budget), "unlimited");
			snprintf(left, sizeof(left), "-");
		} else if (int_field(u, "cpu_budget_us") == 0 && adjust == 0) {
			snprintf(budget, sizeof(budget), "0 (suspended)");
			snprintf(left, sizeof(left), "0");
		} else {
			format_hours(int_field(u, "cpu_budget_us"), budget, sizeof(budget));
			format_hours(int_field(u, "cpu_left_us"), left, sizeof(left));
		}
		snprintf(running, sizeof(running), "%" PRId64, int_field(u, "running"));
		snprintf(queued, sizeof(queued), "%" PRId64, int_field(u, "queued"));
		format_usage_stored(u, stored, sizeof(stored));
		format_table_add(&t, row);
	}
	format_table_print(out, &t);
}

void format_print_adjustment(FILE *out, json_t *resp)
{
	json_t *a = json_object_get(resp, "adjustment"), *u = json_object_get(resp, "usage");
	json_t *budget_us = json_object_get(u, "cpu_budget_us");
	char delta[40], budget[32], left[32];

	if (json_is_object(a)) {
		format_signed_hours(int_field(a, "delta_us"), delta, sizeof(delta));
		fprintf(out, "%s %s: %s (%s)", str_field(a, "user"), str_field(a, "month"), delta,
			str_field(a, "reason"));
	} else {
		fprintf(out, "%s %s: no change needed", str_field(u, "user"), str_field(u, "month"));
	}
	if (!budget_us || json_is_null(budget_us)) {
		fprintf(out, "; budget unlimited\n");
		return;
	}
	format_hours(int_field(u, "cpu_budget_us"), budget, sizeof(budget));
	format_hours(int_field(u, "cpu_left_us"), left, sizeof(left));
	fprintf(out, "; budget %s, left %s\n", budget, left);
}

/* ---- nodes -------------------------------------------------------------- */

static int64_t sub_int(json_t *o, const char *obj, const char *key)
{
	return int_field(json_object_get(o, obj), key);
}

/* The cluster's policy on a node: "3" (the latest), "2 (latest 3)",
 * "file" (its own file's: it never loaded a generation), with ", 3 failed"
 * when the latest did not load there; "-" on one host. */
static void format_node_policy(json_t *p, char *buf, size_t size)
{
	int64_t applied = int_field(p, "applied"), latest = int_field(p, "latest"),
		failed = int_field(p, "failed");
	char gen[32];
	size_t off;

	if (!json_is_object(p)) {
		snprintf(buf, size, "-");
		return;
	}
	if (applied)
		snprintf(gen, sizeof(gen), "%" PRId64, applied);
	else
		snprintf(gen, sizeof(gen), "file");
	off = (size_t)snprintf(buf, size, "%s", gen);
	if (applied != latest && off < size)
		off += (size_t)snprintf(buf + off, size - off, " (latest %" PRId64 ")", latest);
	if (failed && off < size)
		snprintf(buf + off, size - off, ", %" PRId64 " failed", failed);
}

void format_print_node_table(FILE *out, json_t *nodes)
{
	static const char *const header[] = { "NODE",  "STATE",  "HEARTBEAT", "RUNNING", "SLOTS",
					      "CORES", "MEMORY", "GPUS",      "LOAD",    "DONE",
					      "CPU",   "POLICY", "LABELS" };
	struct format_table t = { .cols = ELEMENTSOF(header) };
	size_t i;
	json_t *n;

	format_table_add(&t, header);
	json_array_foreach (nodes, i, n) {
		char age[32], running[24], slots[48], cores[64], mem[64], freemem[24], total[24], gpus[48],
			load[24], done[96], cpu[32], policy[96], labels[256] = "";
		size_t j, used = 0;
		json_t *l;
		const char *state = str_field(n, "state");
		bool self = json_is_true(json_object_get(n, "self"));
		char name[96];

		snprintf(name, sizeof(name), "%s%s", str_field(n, "name") ? str_field(n, "name") : "?",
			 self ? " *" : "");
		snprintf(age, sizeof(age), "%.1fs ago", (double)int_field(n, "heartbeat_age_ms") / 1000.0);
		snprintf(running, sizeof(running), "%" PRId64, int_field(n, "running"));
		snprintf(slots, sizeof(slots), "%" PRId64 "/%" PRId64 " free", sub_int(n, "free", "slots"),
			 sub_int(n, "capacity", "slots"));
		snprintf(cores, sizeof(cores), "%g/%" PRId64 " free",
			 (double)sub_int(n, "free", "cpu_millis") / 1000, sub_int(n, "capacity", "cores"));
		format_bytes(sub_int(n, "free", "memory_bytes"), freemem, sizeof(freemem));
		format_bytes(sub_int(n, "capacity", "memory_bytes"), total, sizeof(total));
		snprintf(mem, sizeof(mem), "%s/%s", freemem, total);
		if (sub_int(n, "capacity", "gpus")) {
			format_bytes(sub_int(n, "capacity", "gpu_memory_bytes"), total, sizeof(total));
			snprintf(gpus, sizeof(gpus), "%" PRId64 "/%" PRId64 " x %s",
				 sub_int(n, "free", "gpus"), sub_int(n, "capacity", "gpus"), total);
		} else {
			snprintf(gpus, sizeof(gpus), "-");
		}
		snprintf(load, sizeof(load), "%.2f", json_number_value(json_object_get(n, "load")));
		if (json_object_get(n, "stats")) {
			snprintf(done, sizeof(done),
				 "%" PRId64 " ok, %" PRId64 " failed, %" PRId64 " cancelled, %" PRId64
				 " lost",
				 sub_int(n, "stats", "succeeded"), sub_int(n, "stats", "failed"),
				 sub_int(n, "stats", "cancelled"), sub_int(n, "stats", "lost"));
			format_hours(sub_int(n, "stats", "cpu_us"), cpu, sizeof(cpu));
		} else { /* operators only */
			snprintf(done, sizeof(done), "-");
			snprintf(cpu, sizeof(cpu), "-");
		}
		format_node_policy(json_object_get(n, "policy"), policy, sizeof(policy));
		json_array_foreach (json_object_get(n, "labels"), j, l)
			if (json_is_string(l) && used + strlen(json_string_value(l)) + 2 < sizeof(labels))
				used += (size_t)snprintf(labels + used, sizeof(labels) - used, "%s%s",
							 used ? "," : "", json_string_value(l));
		format_table_add(&t,
				 (const char *const[]){ name, state, age, running, slots, cores, mem, gpus,
							load, done, cpu, policy, labels[0] ? labels : "-" });
	}
	format_table_print(out, &t);
}
