/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/commands.h — `corral submit|status|list|queue|cancel|wait|
 * logs|usage|ping`: argument parsing (argv -> request fields, testable
 * without a daemon), the human output, the exit codes, and the commands.
 * Parsing: commands.c; the commands' table and help: commands_spec.c
 * (running one: cli.c); tables and exit codes: format.c.
 */
#ifndef CORRAL_SUPERVISOR_CLI_TASKS_H
#define CORRAL_SUPERVISOR_CLI_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "supervisor/api/api.h"
#include "supervisor/common/exit_code.h"
#include "supervisor/corral/connection.h"

/* Exit codes of the client (documented in contrib/man/corral.1).  `wait`
 * and `submit --wait` otherwise exit with the task's own exit code (0-255),
 * 128 + the signal that killed it, or the code of its end reason from the
 * table corral-run shares (common/exit_code.h: 118-125). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,         /* corrald answered with an error; local failure */
	CLI_EXIT_USAGE = 2,         /* bad command line */
	CLI_EXIT_UNREACHABLE = 69,  /* cannot connect, or the connection was lost */
	CLI_EXIT_WAIT_TIMEOUT = 75, /* wait --timeout passed; the task is still going */
	CLI_EXIT_CANCELLED = EXIT_CODE_CANCELLED,
};

/* A parsed command line. */
struct cli_command {
	enum api_op op;
	const char *name;        /* "submit", ... */
	json_t *fields;          /* the op's request fields (owned) */
	const char *socket;      /* --socket PATH, or NULL */
	bool json;               /* --json: print the server's objects */
	bool wait;               /* submit --wait */
	bool quiet;              /* submit --wait --quiet: no output streams */
	int64_t wait_timeout_ms; /* submit --wait-timeout; 0 = none */
	json_t *more_ids;        /* cancel ID...: the IDs after the first (owned) */
	bool follow;             /* logs --follow */
	bool help;               /* --help: print commands_spec_usage() and exit 0 */
	const char *format;      /* list --format COLUMNS, or NULL */
	bool noheader;           /* list --noheader */
	json_t *names;           /* fetch ID NAME...: the names (owned) */
	const char *output_dir;  /* fetch -o DIR, or NULL (.) */
};

/* argv[0] is the command name.  0, or -EINVAL with the reason in err
 * (the caller prints "corral NAME: <err.message>" and exits CLI_EXIT_USAGE).
 * submit --stdin FILE reads FILE here.  Free with commands_free(). */
int commands_parse(int argc, char **argv, struct cli_command *cmd, struct error *err);
void commands_free(struct cli_command *cmd);
/* The request fields as a compact JSON object text (malloc'd). */
char *commands_fields_json(const struct cli_command *cmd);
/* --since/--until TIME: "2026-05-01", "2026-05-01T12:00[:SS][Z]" (UTC)
 * or a duration before now ("2h", "30m", "1d") -> µs since the epoch.
 * 0, or -EINVAL. */
int commands_parse_time(const char *text, time_t now, uint64_t *epoch_us);
/* `corral NAME --help` text (commands_spec.c). */
void commands_spec_usage(FILE *out, const char *name);

/* Run a parsed command on an open connection; returns the exit code. */
int cli_run(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err);
/* The whole command: parse, connect ($CORRAL_SOCKET etc.), run. */
int cli_run_command(int argc, char **argv, FILE *out, FILE *err);
/* main()'s entry: cli_run_command on stdout/stderr. */
int cli_main(int argc, char **argv);

/* ---- follow.c ---- */

/* submit --wait and wait: follow task id to its end (its stdout and
 * stderr to out and err unless quiet; why it waits while queued, on err),
 * print its summary (err; out when quiet) and return its exit code; 75
 * when timeout (milliseconds; NULL = none; quiet: corrald's wait timeout,
 * 0 only looks) passed first. */
int follow_task(struct connection *c, int64_t id, bool quiet, json_t *timeout, FILE *out, FILE *err);

/* ---- format.c ---- */

/* Exit code for a terminal TASK object (see enum cli_exit). */
int format_task_exit_code(json_t *task);
/* Exit code for an error response's code ("wait_timeout" -> 75, else 1). */
int format_error_exit_code(const char *code);
/* "2024-05-01T12:34:56Z" (UTC) or "-" for 0. */
void format_time(int64_t epoch_us, char *buf, size_t size);
/* "1.234s"; "12.50h" for CPU hours. */
void format_seconds(int64_t us, char *buf, size_t size);
void format_hours(int64_t us, char *buf, size_t size); /* "2.50h"; under a minute "3.6s" */
/* "512B", "1.5K", "256M", ... */
void format_bytes(int64_t bytes, char *buf, size_t size);
/* One TASK as "key: value" lines (status). */
void format_print_task(FILE *out, json_t *task);
/* One line "task 42 failed: timeout (...)" (wait, submit --wait). */
void format_print_task_summary(FILE *out, json_t *task);
/* Aligned tables: list (its default columns), queue, usage. */
void format_print_task_table(FILE *out, json_t *tasks);
void format_print_queue_table(FILE *out, json_t *tasks);
void format_print_usage_table(FILE *out, json_t *usage);
/* usage adjust's answer: "alice 2026-07: +1.00h (refund #123); budget 11.00h, left 10.50h". */
void format_print_adjustment(FILE *out, json_t *resp);
/* `corral nodes`: one row per node; this corrald's node is marked with *. */
void format_print_node_table(FILE *out, json_t *nodes);

/* For format_list.c: a string member, control characters escaped; the
 * command line as a shell would read it; "failed (timeout)". */
const char *format_field_text(json_t *obj, const char *key);
char *format_command_text(json_t *argv);
void format_state_text(json_t *task, char *buf, size_t size);
/* An aligned table: add rows (row 0 the header), then print (and free). */
struct format_table {
	size_t cols, rows;
	char **cells; /* rows * cols, row-major */
};
int format_table_add(struct format_table *t, const char *const *row);
void format_table_print(FILE *out, struct format_table *t);

/* ---- format_list.c: `corral list` ---- */

/* The columns of `corral list --format`, comma-separated, case-insensitive:
 * id, user, profile, state, exit, submitted, started, ended, elapsed,
 * timelimit, cpu, memory, reason, attempts, command. */
#define FORMAT_LIST_DEFAULT "id,user,state,exit,submitted,elapsed,timelimit,cpu,reason,command"
/* 0 if every column of columns is known, else -EINVAL with the first
 * unknown one named in err. */
int format_list_check(const char *columns, struct error *err);
/* Tasks (list's TASK summaries) in columns (NULL: FORMAT_LIST_DEFAULT),
 * with the header row unless !header.  Every cell is one line: control
 * characters in commands, names and messages are escaped. */
void format_list_print(FILE *out, json_t *tasks, const char *columns, bool header);

/* ---- files_cmd.c ---- */

/* submit --file LOCAL[:DEST] (is_dir false) / --dir LOCAL[:DEST]: read as
 * the user into files (submit's "files" array).  0, or -EINVAL (usage). */
int files_cmd_add(json_t *files, const char *spec, bool is_dir, struct error *err);
/* corral artifacts: the table. */
void files_cmd_print_artifacts(FILE *out, json_t *artifacts);
/* corral fetch ID [NAME...] [-o DIR]: the exit code. */
/* Send the files of a submit that did not fit its line as staged uploads
 * (their entries then name the upload); 0, or the exit code after saying
 * why (what was uploaded is abandoned); user: the submit's tenant, or NULL.  _abandon: after a refused submit. */
int files_cmd_upload(struct connection *c, json_t *files, json_t *user, FILE *err);
void files_cmd_upload_abandon(struct connection *c, json_t *files, FILE *err);
int files_cmd_fetch(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err);

#endif
