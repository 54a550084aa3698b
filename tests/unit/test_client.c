/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_client.c — the corral client without a daemon: argument
 * parsing of each command (argv -> request fields), exit codes, tables and
 * units, and whole commands against a tiny fake corrald (a forked child on
 * a temp Unix socket, or a socketpair).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "supervisor/corral/commands.h"
#include "supervisor/corral/connection.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- parsing -------------------------------------------------------------- */

/* argv must parse to exactly the fields in expected (a JSON object text). */
static void assert_fields(int argc, char **argv, const char *expected, struct cli_command *out)
{
	struct cli_command cmd;
	struct error err = { 0 };
	json_t *want, *got;
	char *text;

	if (commands_parse(argc, argv, &cmd, &err) != 0)
		fail_msg("corral %s: %s", argv[0], err.message);
	text = commands_fields_json(&cmd);
	want = json_loads(expected, 0, NULL);
	got = json_loads(text, 0, NULL);
	assert_non_null(want);
	if (!json_equal(want, got))
		fail_msg("corral %s: fields %s, wanted %s", argv[0], text, expected);
	json_decref(want);
	json_decref(got);
	free(text);
	if (out)
		*out = cmd;
	else
		commands_free(&cmd);
}

static void assert_usage_error(int argc, char **argv, const char *needle)
{
	struct cli_command cmd;
	struct error err = { 0 };

	assert_int_equal(commands_parse(argc, argv, &cmd, &err), -EINVAL);
	if (!strstr(err.message, needle))
		fail_msg("corral %s: '%s' lacks '%s'", argv[0], err.message, needle);
	assert_true(err.step[0] != '\0');
	assert_null(cmd.fields);
}

static void test_submit_every_option(void **state)
{
	char *argv[] = { "submit", "--user",      "alice", "--profile", "py",    "--timeout",
			 "1.5s",   "--cpu-limit", "2m",    "--memory",  "256M",  "--env",
			 "A=1",    "--env",       "B=x=y", "--cwd",     "/work", "--no-queue",
			 "--",     "python3",     "-c",    "print(1)" };

	assert_fields(ARGC(argv), argv,
		      "{\"argv\": [\"python3\", \"-c\", \"print(1)\"], \"user\": \"alice\","
		      " \"profile\": \"py\", \"env\": [\"A=1\", \"B=x=y\"], \"cwd\": \"/work\","
		      " \"timeout_ms\": 1500, \"cpu_limit_ms\": 120000, \"memory_bytes\": 268435456,"
		      " \"no_queue\": true}",
		      NULL);
}

static void test_submit_options_after_command_belong_to_it(void **state)
{
	char *argv[] = { "submit", "ls", "-la", "--json" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"argv\": [\"ls\", \"-la\", \"--json\"]}", &cmd);
	assert_false(cmd.json);
	commands_free(&cmd);
}

static void test_submit_wait_and_json_are_flags(void **state)
{
	char *argv[] = { "submit", "--wait", "--json", "true" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"argv\": [\"true\"]}", &cmd);
	assert_true(cmd.wait);
	assert_true(cmd.json);
	assert_int_equal(cmd.op, API_OP_SUBMIT);
	commands_free(&cmd);
}

static void test_submit_without_command_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--user", "alice" };

	assert_usage_error(ARGC(argv), argv, "missing the command to run");
}

static void test_submit_bad_env_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--env", "PATH", "ls" };

	assert_usage_error(ARGC(argv), argv, "--env: 'PATH' is not NAME=VALUE");
}

static void test_submit_bad_duration_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--timeout", "soon", "ls" };

	assert_usage_error(ARGC(argv), argv, "--timeout: invalid duration 'soon'");
}

static void test_submit_zero_timeout_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--timeout", "0", "ls" };

	assert_usage_error(ARGC(argv), argv, "--timeout: invalid duration '0'");
}

static void test_submit_bad_size_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--memory", "lots", "ls" };

	assert_usage_error(ARGC(argv), argv, "--memory: invalid size 'lots'");
}

/* --cpus takes the policy's CPU count grammar: cpu_millis on the wire */
static void test_submit_cpus_becomes_cpu_millis(void **state)
{
	char *half[] = { "submit", "--cpus", "0.5", "ls" };
	char *two[] = { "submit", "--cpus", "2", "ls" };
	char *zero[] = { "submit", "--cpus", "0", "ls" };
	char *tiny[] = { "submit", "--cpus", "0.001", "ls" };
	char *huge[] = { "submit", "--cpus", "1025", "ls" };
	char *word[] = { "submit", "--cpus", "many", "ls" };
	char *not_submit[] = { "status", "--cpus", "1", "3" };
	struct cli_command cmd;

	(void)state;
	assert_fields(ARGC(half), half, "{\"argv\": [\"ls\"], \"cpu_millis\": 500}", &cmd);
	commands_free(&cmd);
	assert_fields(ARGC(two), two, "{\"argv\": [\"ls\"], \"cpu_millis\": 2000}", &cmd);
	commands_free(&cmd);
	assert_usage_error(ARGC(zero), zero, "--cpus: '0' is not a CPU count from 0.01 to 1024");
	assert_usage_error(ARGC(tiny), tiny, "--cpus: '0.001'");
	assert_usage_error(ARGC(huge), huge, "--cpus: '1025'");
	assert_usage_error(ARGC(word), word, "--cpus: 'many'");
	assert_usage_error(ARGC(not_submit), not_submit, "option '--cpus' is not valid for corral status");
}

static void test_submit_stdin_file_is_sent_as_content(void **state)
{
	char path[] = "/tmp/corral-test-stdin-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "submit", "--stdin", path, "cat" };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "line 1\nline 2\n", 14), 14);
	close(fd);
	assert_fields(ARGC(argv), argv, "{\"argv\": [\"cat\"], \"stdin\": \"line 1\\nline 2\\n\"}", NULL);
	unlink(path);
}

static void test_submit_missing_stdin_file_is_usage_error(void **state)
{
	char *argv[] = { "submit", "--stdin", "/nonexistent/in.txt", "cat" };

	assert_usage_error(ARGC(argv), argv, "--stdin /nonexistent/in.txt: No such file");
}

static void test_submit_binary_stdin_is_usage_error(void **state)
{
	char path[] = "/tmp/corral-test-stdin-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "submit", "--stdin", path, "cat" };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xff\xfe", 2), 2);
	close(fd);
	assert_usage_error(ARGC(argv), argv, "not UTF-8 text");
	unlink(path);
}

/* --file reads the file (binary is fine: base64) to its base name or DEST;
 * --artifact globs go as they are. */
static void test_submit_file_and_artifact_become_fields(void **state)
{
	char path[] = "/tmp/corral-test-file-XXXXXX", spec[64];
	int fd = mkstemp(path);
	const char *base = strrchr(path, '/') + 1;
	char *argv[] = { "submit", "--file", path, "--file", spec, "--artifact", "out/*", "cat" };
	char want[256];

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xff\x00\xfe", 3), 3);
	close(fd);
	snprintf(spec, sizeof(spec), "%s:in/x.bin", path);
	snprintf(
		want, sizeof(want),
		"{\"argv\": [\"cat\"], \"files\": [{\"name\": \"%s\", \"mode\": 384, \"data_base64\": \"/wD+\"}, "
		"{\"name\": \"in/x.bin\", \"mode\": 384, \"data_base64\": \"/wD+\"}], \"artifacts\": [\"out/*\"]}",
		base);
	assert_fields(ARGC(argv), argv, want, NULL);
	unlink(path);
}

/* A file too large for the request line is not read at parse time: its
 * entry names the local path and size, sent later as a staged upload
 * (files_cmd_upload) and never on the submit line. */
static void test_submit_file_too_large_for_the_line_is_staged(void **state)
{
	char path[] = "/tmp/corral-test-big-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "submit", "--file", path, "cat" };
	char want[512];

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3000000), 0);
	close(fd);
	snprintf(want, sizeof(want),
		 "{\"argv\": [\"cat\"], \"files\": [{\"name\": \"%s\", \"mode\": 384, \"local_path\": \"%s\", "
		 "\"size\": 3000000}]}",
		 strrchr(path, '/') + 1, path);
	assert_fields(ARGC(argv), argv, want, NULL);
	unlink(path);
}

static void test_submit_bad_file_dest_or_artifact_is_usage_error(void **state)
{
	char *escape[] = { "submit", "--file", "/etc/hostname:../x", "cat" };
	char *missing[] = { "submit", "--file", "/nonexistent/f", "cat" };
	char *dir[] = { "submit", "--file", "/tmp", "cat" };
	char *absolute[] = { "submit", "--artifact", "/etc/*", "cat" };

	assert_usage_error(ARGC(escape), escape, "'..'");
	assert_usage_error(ARGC(missing), missing, "No such file");
	assert_usage_error(ARGC(dir), dir, "use --dir");
	assert_usage_error(ARGC(absolute), absolute, "relative to /work");
}

static void test_fetch_takes_names_and_an_output_dir(void **state)
{
	char *argv[] = { "fetch", "7", "a.txt", "out/b", "-o", "/tmp/x" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"id\": 7}", &cmd);
	assert_int_equal(json_array_size(cmd.names), 2);
	assert_string_equal(json_string_value(json_array_get(cmd.names, 1)), "out/b");
	assert_string_equal(cmd.output_dir, "/tmp/x");
	commands_free(&cmd);
}

static void test_status_takes_an_id(void **state)
{
	char *argv[] = { "status", "42", "--json" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"id\": 42}", &cmd);
	assert_int_equal(cmd.op, API_OP_STATUS);
	assert_true(cmd.json);
	commands_free(&cmd);
}

static void test_status_without_id_is_usage_error(void **state)
{
	char *argv[] = { "status" };

	assert_usage_error(ARGC(argv), argv, "missing the task ID");
}

static void test_status_zero_id_is_usage_error(void **state)
{
	char *argv[] = { "status", "0" };

	assert_usage_error(ARGC(argv), argv, "'0' is not a task ID");
}

static void test_status_two_ids_is_usage_error(void **state)
{
	char *argv[] = { "status", "1", "2" };

	assert_usage_error(ARGC(argv), argv, "unexpected argument '2'");
}

static void test_option_of_another_command_is_usage_error(void **state)
{
	char *argv[] = { "status", "1", "--follow" };

	assert_usage_error(ARGC(argv), argv, "option '--follow' is not valid for corral status");
}

static void test_unknown_option_is_usage_error(void **state)
{
	char *argv[] = { "list", "--frob" };

	assert_usage_error(ARGC(argv), argv, "unknown option '--frob'");
}

static void test_missing_option_value_is_usage_error(void **state)
{
	char *argv[] = { "list", "--user" };

	assert_usage_error(ARGC(argv), argv, "option '--user' needs a value");
}

static void test_list_options(void **state)
{
	char *argv[] = { "list", "--user", "bob", "--state", "failed", "--limit", "20" };

	assert_fields(ARGC(argv), argv, "{\"user\": \"bob\", \"state\": \"failed\", \"limit\": 20}", NULL);
}

static void test_list_bad_state_is_usage_error(void **state)
{
	char *argv[] = { "list", "--state", "done" };

	assert_usage_error(ARGC(argv), argv, "--state: 'done' is not one of");
}

static void test_list_zero_limit_is_usage_error(void **state)
{
	char *argv[] = { "list", "--limit", "0" };

	assert_usage_error(ARGC(argv), argv, "--limit: '0' is not a number from 1 to 1000");
}

static void test_queue_user(void **state)
{
	char *argv[] = { "queue", "--user", "carol" };

	assert_fields(ARGC(argv), argv, "{\"user\": \"carol\"}", NULL);
}

static void test_cancel_takes_an_id(void **state)
{
	char *argv[] = { "cancel", "7" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"id\": 7}", &cmd);
	assert_int_equal(cmd.op, API_OP_CANCEL);
	commands_free(&cmd);
}

static void test_wait_timeout_in_ms(void **state)
{
	char *argv[] = { "wait", "7", "--timeout", "2m" };

	assert_fields(ARGC(argv), argv, "{\"id\": 7, \"timeout_ms\": 120000}", NULL);
}

static void test_wait_zero_timeout_polls(void **state)
{
	char *argv[] = { "wait", "--timeout", "0", "7" };

	assert_fields(ARGC(argv), argv, "{\"id\": 7, \"timeout_ms\": 0}", NULL);
}

static void test_logs_stderr_follow(void **state)
{
	char *argv[] = { "logs", "9", "--stderr", "--follow" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{\"id\": 9, \"stream\": \"stderr\"}", &cmd);
	assert_true(cmd.follow);
	commands_free(&cmd);
}

static void test_usage_month(void **state)
{
	char *argv[] = { "usage", "--month", "2024-02", "--user", "dan" };

	assert_fields(ARGC(argv), argv, "{\"user\": \"dan\", \"month\": \"2024-02\"}", NULL);
}

static void test_usage_bad_month_is_usage_error(void **state)
{
	char *argv[] = { "usage", "--month", "2024-2" };

	assert_usage_error(ARGC(argv), argv, "--month: '2024-2' is not YYYY-MM");
}

static void test_usage_adjust_add_is_a_positive_delta(void **state)
{
	char *argv[] = { "usage", "adjust", "alice", "--add", "1h", "--reason", "refund #123" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv,
		      "{\"user\": \"alice\", \"delta_us\": 3600000000, \"reason\": \"refund #123\"}", &cmd);
	assert_int_equal(cmd.op, API_OP_USAGE_ADJUST);
	commands_free(&cmd);
}

static void test_usage_adjust_remove_is_a_negative_delta(void **state)
{
	char *argv[] = { "usage", "adjust", "--remove", "30m", "--reason", "oops", "bob", "--json" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv,
		      "{\"user\": \"bob\", \"delta_us\": -1800000000, \"reason\": \"oops\"}", &cmd);
	assert_true(cmd.json);
	commands_free(&cmd);
}

static void test_usage_adjust_set_left_takes_the_one_grammar(void **state)
{
	char *argv[] = { "usage", "adjust", "carol", "--set-left", "0.1h", "--reason", "trial" };
	char *zero[] = { "usage", "adjust", "carol", "--set-left", "0", "--reason", "stop" };

	assert_fields(ARGC(argv), argv,
		      "{\"user\": \"carol\", \"set_left_us\": 360000000, \"reason\": \"trial\"}", NULL);
	assert_fields(ARGC(zero), zero, "{\"user\": \"carol\", \"set_left_us\": 0, \"reason\": \"stop\"}",
		      NULL);
}

static void test_usage_adjust_needs_reason_amount_and_tenant(void **state)
{
	char *no_reason[] = { "usage", "adjust", "alice", "--add", "1h" };
	char *no_amount[] = { "usage", "adjust", "alice", "--reason", "r" };
	char *two[] = { "usage", "adjust", "alice", "--add", "1h", "--set-left", "1h", "--reason", "r" };
	char *no_tenant[] = { "usage", "adjust", "--add", "1h", "--reason", "r" };
	char *zero_add[] = { "usage", "adjust", "alice", "--add", "0", "--reason", "r" };
	char *bad[] = { "usage", "adjust", "alice", "--add", "lots", "--reason", "r" };
	char *absurd[] = { "usage", "adjust", "alice", "--add", "1000001h", "--reason", "r" };
	char *empty_reason[] = { "usage", "adjust", "alice", "--add", "1h", "--reason", "" };
	char *plain_usage[] = { "usage", "--add", "1h" };

	assert_usage_error(ARGC(no_reason), no_reason, "--reason is required");
	assert_usage_error(ARGC(no_amount), no_amount, "give one of --add, --remove and --set-left");
	assert_usage_error(ARGC(two), two, "give one of --add, --remove and --set-left");
	assert_usage_error(ARGC(no_tenant), no_tenant, "missing the tenant");
	assert_usage_error(ARGC(zero_add), zero_add, "--add: invalid duration '0'");
	assert_usage_error(ARGC(bad), bad, "--add: invalid duration 'lots'");
	assert_usage_error(ARGC(absurd), absurd, "more than 10^6 hours");
	assert_usage_error(ARGC(empty_reason), empty_reason, "--reason: 1 to 256 bytes");
	assert_usage_error(ARGC(plain_usage), plain_usage, "is not valid for corral usage");
}

static void test_ping_has_no_fields(void **state)
{
	char *argv[] = { "ping" };

	assert_fields(ARGC(argv), argv, "{}", NULL);
}

static void test_help_is_a_flag(void **state)
{
	char *argv[] = { "wait", "--help" };
	struct cli_command cmd;
	struct error err;

	assert_int_equal(commands_parse(ARGC(argv), argv, &cmd, &err), 0);
	assert_true(cmd.help);
	commands_free(&cmd);
}

static void test_socket_option(void **state)
{
	char *argv[] = { "ping", "--socket", "/tmp/x.sock" };
	struct cli_command cmd;

	assert_fields(ARGC(argv), argv, "{}", &cmd);
	assert_string_equal(cmd.socket, "/tmp/x.sock");
	commands_free(&cmd);
}

static void test_socket_path_precedence(void **state)
{
	unsetenv(CLIENT_SOCKET_ENV);
	assert_string_equal(connection_socket_path(NULL), "/run/corral/corrald.sock");
	setenv(CLIENT_SOCKET_ENV, "/tmp/env.sock", 1);
	assert_string_equal(connection_socket_path(NULL), "/tmp/env.sock");
	assert_string_equal(connection_socket_path("/tmp/opt.sock"), "/tmp/opt.sock");
	unsetenv(CLIENT_SOCKET_ENV);
}

/* ---- exit codes ----------------------------------------------------------- */

static int exit_for(const char *task_json)
{
	json_t *task = json_loads(task_json, 0, NULL);
	int code;

	assert_non_null(task);
	code = format_task_exit_code(task);
	json_decref(task);
	return code;
}

static void test_exit_code_succeeded_is_zero(void **state)
{
	assert_int_equal(exit_for("{\"state\": \"succeeded\", \"reason\": \"exit_code\", \"exit_code\": 0}"),
			 0);
}

static void test_exit_code_is_the_tasks(void **state)
{
	assert_int_equal(exit_for("{\"state\": \"failed\", \"reason\": \"exit_code\", \"exit_code\": 3}"), 3);
}

static void test_exit_code_signal_is_128_plus(void **state)
{
	assert_int_equal(exit_for("{\"state\": \"failed\", \"reason\": \"signal\", \"exit_code\": null,"
				  " \"signal\": 9}"),
			 137);
}

static void test_exit_code_per_reason(void **state)
{
	static const struct {
		const char *reason;
		int code;
	} cases[] = {
		{ "timeout", 124 },      { "oom", 120 },
		{ "cpu_limit", 122 },    { "budget", 123 },
		{ "output_limit", 121 }, { "cancelled", 119 },
		{ "spawn_error", 125 },  { "supervisor_lost", 118 },
		{ "shutdown", 118 },
	};
	char text[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "{\"state\": \"failed\", \"reason\": \"%s\"}", cases[i].reason);
		assert_int_equal(exit_for(text), cases[i].code);
	}
}

static void test_exit_code_for_errors(void **state)
{
	assert_int_equal(format_error_exit_code("wait_timeout"), 75);
	assert_int_equal(format_error_exit_code("not_found"), 1);
}

/* ---- formatting ----------------------------------------------------------- */

static void test_format_time_is_utc_iso(void **state)
{
	char buf[32];

	format_time(1700000000123456, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
	format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void test_format_cpu_units(void **state)
{
	char buf[32];

	format_seconds(1234567, buf, sizeof(buf));
	assert_string_equal(buf, "1.234s");
	format_hours(9000000000, buf, sizeof(buf));
	assert_string_equal(buf, "2.50h");
	format_bytes(268435456, buf, sizeof(buf));
	assert_string_equal(buf, "256M");
	format_bytes(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1.5K");
}

static const char task_text[] =
	"{\"id\": 42, \"user\": \"alice\", \"profile\": \"default\", \"argv\": [\"sh\", \"-c\", \"echo hi\"],"
	" \"state\": \"failed\", \"reason\": \"timeout\", \"message\": \"Timeout: exceeded the 60 s wall-clock limit\","
	" \"exit_code\": null, \"signal\": 9, \"submitted_at_us\": 1700000000000000,"
	" \"started_at_us\": 1700000001000000, \"ended_at_us\": 1700000061000000, \"timeout_ms\": 60000,"
	" \"cpu_limit_ms\": 0, \"memory_bytes\": 268435456, \"cpu_us\": 59000000, \"cpu_user_us\": 58000000,"
	" \"cpu_system_us\": 1000000, \"memory_peak_bytes\": 1048576, \"stdout_bytes\": 10,"
	" \"stderr_bytes\": 0, \"stdout_truncated\": false, \"stderr_truncated\": false, \"attempts\": 1}";

static char *capture(void (*print)(FILE *, json_t *), const char *json_text)
{
	json_t *v = json_loads(json_text, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(v);
	print(f, v);
	fclose(f);
	json_decref(v);
	return text;
}

static void test_print_task_shows_key_fields(void **state)
{
	char *text = capture(format_print_task, task_text);

	assert_non_null(strstr(text, "id:         42\n"));
	assert_non_null(strstr(text, "command:    sh -c 'echo hi'\n"));
	assert_non_null(strstr(text, "state:      failed (timeout)\n"));
	assert_non_null(strstr(text, "submitted:  2023-11-14T22:13:20Z\n"));
	/* an older corrald: no "limits", the requested ones in human units */
	assert_non_null(strstr(text, "wall:       60.000s (limit 1 min)\n"));
	assert_non_null(strstr(text, "cpu:        59.000s (user 58.000s, system 1.000s; limit plan's)\n"));
	assert_non_null(strstr(text, "memory:     peak 1 MiB (limit 256 MiB)\n"));
	assert_null(strstr(text, "position"));
	free(text);
}

/* Another tenant's argv, name and message reach an operator's terminal:
 * no raw ESC, BEL or CR (issue 16); --json stays exact. */
static const char hostile_task[] =
	"{\"id\": 9, \"user\": \"eve\\u001b]0;pwned\\u0007\", \"profile\": \"default\","
	" \"argv\": [\"\\u001b[2J\\rrm\", \"-rf\"], \"state\": \"failed\", \"reason\": \"exit_code\","
	" \"message\": \"Exited\\r\\nroot ok\\u009b31m\", \"exit_code\": 1, \"signal\": null}";

static void assert_no_controls(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p != '\n' && ((unsigned char)*p < 0x20 || *p == 0x7f))
			fail_msg("control byte 0x%02x printed: %s", (unsigned char)*p, text);
	assert_null(strstr(text, "\xc2\x9b"));
}

static void test_print_task_escapes_other_tenants_control_characters(void **state)
{
	char list[1024];
	char *text = capture(format_print_task, hostile_task);

	(void)state;
	assert_no_controls(text);
	assert_non_null(strstr(text, "user:       eve\\x1b]0;pwned\\x07\n"));
	assert_non_null(strstr(text, "command:    $'\\x1b[2J\\x0drm' -rf\n"));
	assert_non_null(strstr(text, "message:    Exited\\r\\nroot ok\\xc2\\x9b31m\n"));
	free(text);
	snprintf(list, sizeof(list), "[%s]", hostile_task);
	text = capture(format_print_task_table, list);
	assert_no_controls(text);
	free(text);
	text = capture(format_print_task_summary, hostile_task);
	assert_no_controls(text);
	free(text);
}

static void test_task_table_columns_align(void **state)
{
	char list[4096];
	char *text;
	const char *second;

	snprintf(list, sizeof(list),
		 "[%s, {\"id\": 7, \"user\": \"bo\", \"argv\": [\"true\"],"
		 " \"state\": \"queued\", \"reason\": null, \"exit_code\": null, \"signal\": null,"
		 " \"pending_reason\": \"budget_exhausted\"}]",
		 task_text);
	text = capture(format_print_task_table, list);
	assert_non_null(strstr(text,
			       "ID  USER   STATE             EXIT   SUBMITTED             "
			       "ELAPSED  TIMELIMIT  CPU      REASON            COMMAND\n"));
	assert_non_null(strstr(text,
			       "42  alice  failed (timeout)  sig 9  2023-11-14T22:13:20Z  "
			       "1 min    1 min      59.000s  timeout           sh -c 'echo hi'\n"));
	second = strstr(text, "\n7 ");
	assert_non_null(second);
	assert_non_null(strstr(second,
			       "7   bo     queued            -      -                     "
			       "-        -          0.000s   budget_exhausted  true\n"));
	free(text);
}

/* issue 17: a running task's status says what it has used so far (from
 * corrald's "live") and where every limit comes from */
static const char running_task[] =
	"{\"id\": 43, \"user\": \"alice\", \"profile\": \"default\", \"argv\": [\"sh\", \"-c\", \"echo a\\necho b\"],"
	" \"state\": \"running\", \"reason\": null, \"exit_code\": null, \"signal\": null,"
	" \"submitted_at_us\": 1700000000000000, \"started_at_us\": 1700000001000000, \"ended_at_us\": 0,"
	" \"timeout_ms\": 1500, \"cpu_limit_ms\": 0, \"memory_bytes\": 0, \"cpu_us\": 0,"
	" \"memory_peak_bytes\": 0, \"stdout_bytes\": 0, \"stderr_bytes\": 0, \"attempts\": 1,"
	" \"limits\": {\"plan\": \"pro\", \"wall_us\": 1500000, \"wall_from\": \"task\","
	" \"cpu_us\": 4200000, \"cpu_from\": \"budget\", \"memory_bytes\": 1073741824,"
	" \"memory_from\": \"plan\", \"output_bytes\": null, \"output_from\": \"none\"},"
	" \"live\": {\"elapsed_us\": 1234000, \"cpu_us\": 500000, \"cpu_user_us\": 400000,"
	" \"cpu_system_us\": 100000, \"memory_bytes\": 10485760, \"memory_peak_bytes\": 20971520,"
	" \"stdout_bytes\": 1001, \"stderr_bytes\": 3}}";

static void test_print_running_task_shows_live_figures_and_limit_sources(void **state)
{
	char *text = capture(format_print_task, running_task);

	(void)state;
	assert_non_null(strstr(text, "wall:       1.234s so far (limit 1.5 s, the task's own)\n"));
	assert_non_null(strstr(text,
			       "cpu:        0.500s so far (user 0.400s, system 0.100s; limit 4.2 s, "
			       "what the month's budget left)\n"));
	assert_non_null(strstr(text, "memory:     10 MiB now, peak 20 MiB (limit 1 GiB, plan pro's)\n"));
	assert_non_null(strstr(text, "stdout:     1001 bytes so far\n"));
	assert_non_null(strstr(text, "stderr:     3 bytes so far\n"));
	assert_non_null(strstr(text, "output:     unlimited\n"));
	assert_null(strstr(text, "peak 0B"));
	free(text);
}

static char *capture_list(const char *json_text, const char *columns, bool header)
{
	json_t *v = json_loads(json_text, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(v);
	format_list_print(f, v, columns, header);
	fclose(f);
	json_decref(v);
	return text;
}

static void test_list_format_picks_columns_and_noheader_drops_the_header(void **state)
{
	char list[4096];
	char *text;

	(void)state;
	snprintf(list, sizeof(list), "[%s, %s]", task_text, running_task);
	text = capture_list(list, "id,Elapsed,TIMELIMIT,reason", true);
	assert_string_equal(text,
			    "ID  ELAPSED  TIMELIMIT  REASON\n"
			    "42  1 min    1 min      timeout\n"
			    "43  1.234 s  1.5 s      -\n");
	free(text);
	text = capture_list(list, "id,cpu,memory", false);
	assert_string_equal(text,
			    "42  59.000s  1M\n"
			    "43  0.500s   20M\n");
	free(text);
	/* cpus: what --cpus asked, "-" for none */
	text = capture_list("[{\"id\": 44, \"cpu_millis\": 1500}, {\"id\": 45, \"cpu_millis\": 0}]",
			    "cpus,id", true);
	assert_string_equal(text,
			    "CPUS  ID\n"
			    "1.5   44\n"
			    "-     45\n");
	free(text);
}

static void test_list_multi_line_command_stays_on_one_row(void **state)
{
	char list[4096];
	char *text;
	size_t lines = 0;

	(void)state;
	snprintf(list, sizeof(list), "[%s]", running_task);
	text = capture_list(list, NULL, true);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	assert_non_null(strstr(text, "sh -c $'echo a\\x0aecho b'\n"));
	free(text);
}

static void test_list_format_and_time_options_parse(void **state)
{
	char *ok[] = { "list",    "--format",   "id,state,elapsed", "--noheader",
		       "--since", "2026-05-01", "--until",          "2026-05-01T12:30Z" };
	char *bad_column[] = { "list", "--format", "id,bogus" };
	char *bad_time[] = { "list", "--since", "yesterday" };
	char *not_status[] = { "status", "--format", "id", "1" };
	struct cli_command cmd;
	uint64_t at;

	(void)state;
	assert_fields(ARGC(ok), ok, "{\"since_us\": 1777593600000000, \"until_us\": 1777638600000000}", &cmd);
	assert_string_equal(cmd.format, "id,state,elapsed");
	assert_true(cmd.noheader);
	commands_free(&cmd);
	assert_usage_error(ARGC(bad_column), bad_column, "unknown column 'bogus'");
	assert_usage_error(ARGC(bad_time), bad_time, "is not a time");
	assert_usage_error(ARGC(not_status), not_status, "not valid for corral status");
	/* a duration ago */
	assert_int_equal(commands_parse_time("2h", 1000000, &at), 0);
	assert_int_equal(at, (1000000 - 7200) * 1000000ULL);
	assert_int_equal(commands_parse_time("2026-05-01T12:30:15", 0, &at), 0);
	assert_int_equal(at, 1777638615000000ULL);
	assert_int_equal(commands_parse_time("2026-05-01T12", 0, &at), -EINVAL);
}

static void test_queue_table(void **state)
{
	char *text = capture(format_print_queue_table,
			     "[{\"id\": 5, \"user\": \"alice\", \"position\": 1, \"pending_reason\":"
			     " \"concurrency_limit\", \"pending_message\": \"2 of 2 running\"}]");

	assert_string_equal(text,
			    "POS  ID  USER   PENDING            MESSAGE\n"
			    "1    5   alice  concurrency_limit  2 of 2 running\n");
	free(text);
}

static void test_usage_table_in_hours(void **state)
{
	char *text =
		capture(format_print_usage_table,
			"[{\"user\": \"alice\", \"plan\": \"free\", \"month\": \"2024-05\","
			" \"cpu_used_us\": 1800000000, \"cpu_budget_us\": 36000000000,"
			" \"cpu_left_us\": 34200000000, \"running\": 1, \"queued\": 2,"
			" \"stored_bytes\": 1572864, \"max_stored_bytes\": 1073741824},"
			" {\"user\": \"root\", \"plan\": \"ops\", \"month\": \"2024-05\","
			" \"cpu_used_us\": 0, \"cpu_budget_us\": null, \"cpu_left_us\": null,"
			" \"running\": 0, \"queued\": 0, \"stored_bytes\": 0, \"max_stored_bytes\": null},"
			" {\"user\": \"erin\", \"plan\": \"off\", \"month\": \"2024-05\","
			" \"cpu_used_us\": 0, \"cpu_budget_us\": 0, \"cpu_left_us\": 0,"
			" \"running\": 0, \"queued\": 1},"
			" {\"user\": \"dave\", \"plan\": \"tiny\", \"month\": \"2024-05\","
			" \"cpu_used_us\": 1200000, \"cpu_budget_us\": 3600000, \"cpu_left_us\": 2400000,"
			" \"running\": 0, \"queued\": 0}]");

	assert_string_equal(
		text,
		"USER   PLAN  MONTH    USED   ADJUSTED  BUDGET         LEFT   RUNNING  QUEUED  STORED\n"
		"alice  free  2024-05  0.50h  -         10.00h         9.50h  1        2       1.5 MiB / 1 GiB\n"
		"root   ops   2024-05  0.00h  -         unlimited      -      0        0       0 bytes / unlimited\n"
		"erin   off   2024-05  0.00h  -         0 (suspended)  0      0        1       -\n"
		"dave   tiny  2024-05  1.2s   -         3.6s           2.4s   0        0       -\n");
	free(text);
}

static void test_usage_table_shows_the_months_adjustments(void **state)
{
	char *text = capture(format_print_usage_table,
			     "[{\"user\": \"alice\", \"plan\": \"free\", \"month\": \"2024-05\","
			     " \"cpu_used_us\": 36000000000, \"cpu_adjust_us\": 3600000000,"
			     " \"cpu_budget_us\": 39600000000, \"cpu_left_us\": 3600000000,"
			     " \"running\": 0, \"queued\": 1},"
			     " {\"user\": \"bob\", \"plan\": \"free\", \"month\": \"2024-05\","
			     " \"cpu_used_us\": 0, \"cpu_adjust_us\": -36000000000,"
			     " \"cpu_budget_us\": 0, \"cpu_left_us\": 0, \"running\": 0, \"queued\": 0}]");

	assert_string_equal(text,
			    "USER   PLAN  MONTH    USED    ADJUSTED  BUDGET  LEFT   RUNNING  QUEUED  STORED\n"
			    "alice  free  2024-05  10.00h  +1.00h    11.00h  1.00h  0        1       -\n"
			    "bob    free  2024-05  0.00h   -10.00h   0.00h   0.00h  0        0       -\n");
	free(text);
}

/* ---- against a fake corrald ----------------------------------------------- */

/* One step of the fake server's script: the request line must contain
 * needle; reply (NULL: hang up) is sent with a newline. */
struct step {
	const char *needle;
	const char *reply;
};

struct fake {
	char dir[64];
	char path[96];
	pid_t pid;
};

/* Read one line from fd into buf; false on EOF. */
static bool read_request(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char ch;
		ssize_t got = read(fd, &ch, 1);

		if (got <= 0)
			return false;
		if (ch == '\n')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return true;
}

/* The child: serve steps on one connection; exit 0 if every request
 * matched its needle. */
static void fake_serve(int listener, const struct step *steps, size_t count)
{
	static char line[1 << 16];
	int fd;

	alarm(5); /* a client that never comes must not hang the test */
	fd = accept(listener, NULL, NULL);

	if (fd < 0)
		_exit(10);
	for (size_t i = 0; i < count; i++) {
		if (!steps[i].needle) { /* the client is done: wait until it hangs up */
			while (read(fd, line, sizeof(line)) > 0)
				;
			_exit(0);
		}
		if (!read_request(fd, line, sizeof(line)))
			_exit(11);
		if (!strstr(line, steps[i].needle)) {
			fprintf(stderr, "fake corrald: request '%s' lacks '%s'\n", line, steps[i].needle);
			_exit(12);
		}
		if (!steps[i].reply)
			_exit(0);
		if (!steps[i].reply[0])
			continue; /* a parked request: no answer yet */
		if (write(fd, steps[i].reply, strlen(steps[i].reply)) < 0 || write(fd, "\n", 1) != 1)
			_exit(13);
	}
	_exit(0);
}

static void fake_start(struct fake *f, const struct step *steps, size_t count)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int listener;

	snprintf(f->dir, sizeof(f->dir), "/tmp/corral-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/corrald.sock", f->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(listener >= 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 1), 0);
	fflush(NULL);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		fake_serve(listener, steps, count);
	close(listener);
}

/* Wait for the fake server; assert it saw what it expected. */
static void fake_finish(struct fake *f)
{
	int status = 0;

	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("fake corrald ended with status 0x%x", status);
}

struct run {
	int code;
	char *out, *err;
	size_t out_len, err_len;
};

/* Run `corral ARGS... --socket f->path` (socket after the command name). */
static void run_corral(struct fake *f, struct run *r, int argc, char **args)
{
	char **argv = calloc((size_t)argc + 3, sizeof(*argv));
	FILE *out = open_memstream(&r->out, &r->out_len);
	FILE *err = open_memstream(&r->err, &r->err_len);

	argv[0] = args[0];
	argv[1] = "--socket";
	argv[2] = f->path;
	for (int i = 1; i < argc; i++)
		argv[i + 2] = args[i];
	r->code = cli_run_command(argc + 2, argv, out, err);
	fclose(out);
	fclose(err);
	free(argv);
}

/* corral ARGS... against a fake corrald that expects steps[0..count). */
static void run_against(const struct step *steps, size_t count, struct run *r, int argc, char **args)
{
	struct fake f;

	fake_start(&f, steps, count);
	run_corral(&f, r, argc, args);
	fake_finish(&f);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static const char ok_task_reply[] =
	"{\"ok\": true, \"task\": {\"id\": 42, \"user\": \"alice\", \"argv\": [\"true\"],"
	" \"state\": \"succeeded\", \"reason\": \"exit_code\", \"exit_code\": 0, \"signal\": null,"
	" \"started_at_us\": 1700000000000000, \"ended_at_us\": 1700000000500000, \"cpu_us\": 1000}}";

static void test_status_against_fake_server(void **state)
{
	static const struct step steps[] = { { "{\"op\":\"status\",\"id\":42}", ok_task_reply } };
	char *args[] = { "status", "42" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 1);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "state:      succeeded (exit_code)\n"));
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void test_json_prints_the_servers_object(void **state)
{
	static const struct step steps[] = { { "\"op\":\"ping\"",
					       "{\"ok\":true,\"version\":\"0.1.0\",\"pid\":7}" } };
	char *args[] = { "ping", "--json" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 1);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\"ok\":true,\"version\":\"0.1.0\",\"pid\":7}\n");
	run_free(&r);
}

static void test_server_error_is_printed_with_code(void **state)
{
	static const struct step steps[] = {
		{ "\"op\":\"cancel\"",
		  "{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"task 9 does not exist\"}}" }
	};
	char *args[] = { "cancel", "9" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 1);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, CLI_EXIT_ERROR);
	assert_string_equal(r.err, "corral: not_found: task 9 does not exist\n");
	run_free(&r);
}

static void test_wait_timeout_exits_75(void **state)
{
	static const struct step steps[] = {
		{ "\"timeout_ms\":1000",
		  "{\"ok\":false,\"tag\":\"wait\",\"error\":{\"code\":\"wait_timeout\",\"message\":\"task 3 "
		  "is still running\"}}" }
	};
	char *args[] = { "wait", "3", "--timeout", "1s" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 1);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, CLI_EXIT_WAIT_TIMEOUT);
	run_free(&r);
}

static void test_submit_wait_quiet_prints_id_and_result_on_stdout(void **state)
{
	static const struct step steps[] = {
		{ "{\"op\":\"submit\",\"argv\":[\"sleep\",\"9\"]}",
		  "{\"ok\":true,\"task\":{\"id\":42,\"state\":\"queued\"}}" },
		{ "\"op\":\"wait\"",
		  "{\"ok\":true,\"tag\":\"wait\",\"task\":{\"id\":42,\"state\":\"failed\",\"reason\":"
		  "\"signal\",\"exit_code\":null,\"signal\":15}}" },
	};
	char *args[] = { "submit", "--wait", "--quiet", "sleep", "9" };
	struct fake f;
	struct run r = { 0 };

	/* "--socket" lands before "--wait": still submit's own option */
	fake_start(&f, steps, 2);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, 128 + 15);
	assert_non_null(strstr(r.out, "42\ntask 42 failed (signal 15)"));
	run_free(&r);
}

/* Both streams in flight at once on one connection, told apart by tag;
 * then the wait, and the exit code of the end reason. */
static void test_submit_wait_streams_stdout_and_stderr_then_exits_as_the_task(void **state)
{
	static const struct step steps[] = {
		{ "\"op\":\"submit\"", "{\"ok\":true,\"task\":{\"id\":42,\"state\":\"queued\"}}" },
		{ "\"stream\":\"stdout\"", "" },
		{ "\"stream\":\"stderr\"",
		  "{\"ok\":true,\"tag\":\"stderr\",\"data_base64\":\"ZXJyCg==\",\"offset\":4,\"eof\":true}\n"
		  "{\"ok\":true,\"tag\":\"stdout\",\"data_base64\":\"aGkK\",\"offset\":3,\"eof\":true}" },
		{ "\"op\":\"wait\"",
		  "{\"ok\":true,\"tag\":\"wait\",\"task\":{\"id\":42,\"state\":\"failed\",\"reason\":"
		  "\"oom\",\"exit_code\":null}}" },
	};
	char *args[] = { "submit", "--wait", "sh", "-c", "x" };
	struct run r = { 0 };

	run_against(steps, 4, &r, ARGC(args), args);
	assert_int_equal(r.code, 120);
	assert_string_equal(r.out, "hi\n");
	assert_non_null(strstr(r.err, "corral: submitted task 42\n"));
	assert_non_null(strstr(r.err, "err\n"));
	assert_non_null(strstr(r.err, "task 42 failed (oom)"));
	run_free(&r);
}

/* A task that waits says why (its pending message), and --wait-timeout
 * gives up with 75. */
static void test_submit_wait_says_why_a_queued_task_waits_and_gives_up(void **state)
{
	static const struct step steps[] = {
		{ "\"op\":\"submit\"", "{\"ok\":true,\"task\":{\"id\":7,\"state\":\"queued\"}}" },
		{ "\"stream\":\"stdout\"", "" },
		{ "\"stream\":\"stderr\"", "" },
		{ "\"op\":\"status\"",
		  "{\"ok\":true,\"tag\":\"status\",\"task\":{\"id\":7,\"state\":\"queued\","
		  "\"pending_reason\":\"budget_exhausted\",\"pending_message\":\"alice: 10.0 of 10.0 CPU "
		  "hours used in 2026-11 (plan p)\"}}" },
		{ NULL, NULL },
	};
	char *args[] = { "submit", "--wait", "--wait-timeout", "1200ms", "true" };
	struct run r = { 0 };

	run_against(steps, 5, &r, ARGC(args), args);
	assert_int_equal(r.code, CLI_EXIT_WAIT_TIMEOUT);
	assert_non_null(
		strstr(r.err, "task 7 is queued, budget_exhausted: alice: 10.0 of 10.0 CPU hours used"));
	assert_non_null(strstr(r.err, "has not ended after 1.200 s"));
	run_free(&r);
}

static void test_wait_answer_without_a_task_is_an_error(void **state)
{
	static const struct step steps[] = {
		{ "\"op\":\"wait\"", "{\"ok\":true,\"tag\":\"wait\"}" },
	};
	char *args[] = { "wait", "9" };
	struct run r = { 0 };

	run_against(steps, 1, &r, ARGC(args), args);
	assert_int_equal(r.code, CLI_EXIT_ERROR);
	assert_non_null(strstr(r.err, "without a task"));
	run_free(&r);
}

static void test_cancel_takes_several_ids_and_tries_them_all(void **state)
{
	static const struct step steps[] = {
		{ "\"id\":3", "{\"ok\":true,\"task\":{\"id\":3,\"state\":\"cancelled\"}}" },
		{ "\"id\":4",
		  "{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"task 4 does not exist\"}}" },
		{ "\"id\":5", "{\"ok\":true,\"task\":{\"id\":5,\"state\":\"running\"}}" },
	};
	char *args[] = { "cancel", "3", "4", "5" };
	struct run r = { 0 };

	run_against(steps, 3, &r, ARGC(args), args);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.out, "task 3: cancelled\ntask 5: cancel requested"));
	assert_non_null(strstr(r.err, "task 4 does not exist"));
	run_free(&r);
}

static void test_logs_follow_writes_raw_bytes_until_eof(void **state)
{
	/* "a\0\xff\n" and "zz" */
	static const struct step steps[] = {
		{ "\"follow\":true,\"offset\":0",
		  "{\"ok\":true,\"data_base64\":\"YQD/Cg==\",\"offset\":4,\"eof\":false}" },
		{ "\"offset\":4", "{\"ok\":true,\"data_base64\":\"\",\"offset\":4,\"eof\":false}" },
		{ "\"offset\":4", "{\"ok\":true,\"data_base64\":\"eno=\",\"offset\":6,\"eof\":true}" },
	};
	char *args[] = { "logs", "5", "--follow" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 3);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, 6);
	assert_memory_equal(r.out, "a\0\xff\nzz", 6);
	run_free(&r);
}

static void test_logs_without_follow_stops_when_no_data(void **state)
{
	static const struct step steps[] = {
		{ "\"stream\":\"stderr\",\"offset\":0",
		  "{\"ok\":true,\"data_base64\":\"b2s=\",\"offset\":2,\"eof\":false}" },
		{ "\"offset\":2", "{\"ok\":true,\"data_base64\":\"\",\"offset\":2,\"eof\":false}" },
	};
	char *args[] = { "logs", "5", "--stderr" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 2);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, 2);
	assert_memory_equal(r.out, "ok", 2);
	run_free(&r);
}

static void test_logs_json_prints_the_chunks_not_the_bytes(void **state)
{
	static const struct step steps[] = {
		{ "\"offset\":0", "{\"ok\":true,\"data_base64\":\"b2s=\",\"offset\":2,\"eof\":true}" },
	};
	char *args[] = { "logs", "5", "--json" };
	struct run r = { 0 };

	run_against(steps, 1, &r, ARGC(args), args);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\"ok\":true,\"data_base64\":\"b2s=\",\"offset\":2,\"eof\":true}\n");
	run_free(&r);
}

static void test_server_hanging_up_is_unreachable(void **state)
{
	static const struct step steps[] = { { "\"op\":\"usage\"", NULL } };
	char *args[] = { "usage" };
	struct fake f;
	struct run r = { 0 };

	fake_start(&f, steps, 1);
	run_corral(&f, &r, ARGC(args), args);
	fake_finish(&f);
	assert_int_equal(r.code, CLI_EXIT_UNREACHABLE);
	assert_non_null(strstr(r.err, "closed the connection without a response"));
	run_free(&r);
}

static void test_missing_socket_says_is_corrald_running(void **state)
{
	struct fake f = { .path = "/tmp/corral-test-none/corrald.sock" };
	char *args[] = { "ping" };
	struct run r = { 0 };

	run_corral(&f, &r, ARGC(args), args);
	assert_int_equal(r.code, CLI_EXIT_UNREACHABLE);
	assert_string_equal(r.err,
			    "corral: cannot connect to /tmp/corral-test-none/corrald.sock: "
			    "No such file or directory \u2014 is corrald running?\n");
	run_free(&r);
}

static void test_client_call_on_socketpair(void **state)
{
	int sv[2];
	struct connection c;
	json_t *resp = NULL;
	struct error err;
	char line[256];
	static const char replies[] = "{\"ok\":true,\"n\":1}\n{\"ok\":true,\"n\":2}\n";

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* both replies at once: the second must stay buffered for the second call */
	assert_int_equal(write(sv[1], replies, strlen(replies)), (ssize_t)strlen(replies));
	connection_attach(&c, sv[0], "pair");
	assert_int_equal(connection_call(&c, "{\"op\":\"ping\"}", &resp, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(resp, "n")), 1);
	json_decref(resp);
	assert_int_equal(connection_call(&c, "{\"op\":\"version\"}", &resp, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(resp, "n")), 2);
	json_decref(resp);
	assert_true(read_request(sv[1], line, sizeof(line)));
	assert_string_equal(line, "{\"op\":\"ping\"}");
	assert_true(read_request(sv[1], line, sizeof(line)));
	assert_string_equal(line, "{\"op\":\"version\"}");
	close(sv[1]);
	connection_close(&c);
}

static void test_client_call_rejects_garbage(void **state)
{
	int sv[2];
	struct connection c;
	json_t *resp = NULL;
	struct error err;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "hello\n", 6), 6);
	connection_attach(&c, sv[0], "pair");
	assert_int_equal(connection_call(&c, "{\"op\":\"ping\"}", &resp, &err), -EPROTO);
	assert_null(resp);
	assert_non_null(strstr(err.message, "malformed response"));
	assert_int_equal(err.err, EPROTO);
	assert_string_equal(err.step, "decode response");
	close(sv[1]);
	connection_close(&c);
}

static void test_connect_error_keeps_errno_step_and_hint(void **state)
{
	struct connection c;
	struct error err;

	assert_int_equal(connection_connect(&c, "/tmp/corral-test-none/corrald.sock", &err), -ENOENT);
	assert_int_equal(err.err, ENOENT);
	assert_string_equal(err.step, "connect");
	assert_string_equal(err.message,
			    "cannot connect to /tmp/corral-test-none/corrald.sock: "
			    "No such file or directory \u2014 is corrald running?");
	assert_int_equal(c.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_every_option),
		cmocka_unit_test(test_submit_options_after_command_belong_to_it),
		cmocka_unit_test(test_submit_wait_and_json_are_flags),
		cmocka_unit_test(test_submit_without_command_is_usage_error),
		cmocka_unit_test(test_submit_bad_env_is_usage_error),
		cmocka_unit_test(test_submit_bad_duration_is_usage_error),
		cmocka_unit_test(test_submit_zero_timeout_is_usage_error),
		cmocka_unit_test(test_submit_bad_size_is_usage_error),
		cmocka_unit_test(test_submit_cpus_becomes_cpu_millis),
		cmocka_unit_test(test_submit_stdin_file_is_sent_as_content),
		cmocka_unit_test(test_submit_missing_stdin_file_is_usage_error),
		cmocka_unit_test(test_submit_binary_stdin_is_usage_error),
		cmocka_unit_test(test_submit_file_and_artifact_become_fields),
		cmocka_unit_test(test_submit_file_too_large_for_the_line_is_staged),
		cmocka_unit_test(test_submit_bad_file_dest_or_artifact_is_usage_error),
		cmocka_unit_test(test_fetch_takes_names_and_an_output_dir),
		cmocka_unit_test(test_status_takes_an_id),
		cmocka_unit_test(test_status_without_id_is_usage_error),
		cmocka_unit_test(test_status_zero_id_is_usage_error),
		cmocka_unit_test(test_status_two_ids_is_usage_error),
		cmocka_unit_test(test_option_of_another_command_is_usage_error),
		cmocka_unit_test(test_unknown_option_is_usage_error),
		cmocka_unit_test(test_missing_option_value_is_usage_error),
		cmocka_unit_test(test_list_options),
		cmocka_unit_test(test_list_bad_state_is_usage_error),
		cmocka_unit_test(test_list_zero_limit_is_usage_error),
		cmocka_unit_test(test_queue_user),
		cmocka_unit_test(test_cancel_takes_an_id),
		cmocka_unit_test(test_wait_timeout_in_ms),
		cmocka_unit_test(test_wait_zero_timeout_polls),
		cmocka_unit_test(test_logs_stderr_follow),
		cmocka_unit_test(test_usage_month),
		cmocka_unit_test(test_usage_bad_month_is_usage_error),
		cmocka_unit_test(test_usage_adjust_add_is_a_positive_delta),
		cmocka_unit_test(test_usage_adjust_remove_is_a_negative_delta),
		cmocka_unit_test(test_usage_adjust_set_left_takes_the_one_grammar),
		cmocka_unit_test(test_usage_adjust_needs_reason_amount_and_tenant),
		cmocka_unit_test(test_ping_has_no_fields),
		cmocka_unit_test(test_help_is_a_flag),
		cmocka_unit_test(test_socket_option),
		cmocka_unit_test(test_socket_path_precedence),
		cmocka_unit_test(test_exit_code_succeeded_is_zero),
		cmocka_unit_test(test_exit_code_is_the_tasks),
		cmocka_unit_test(test_exit_code_signal_is_128_plus),
		cmocka_unit_test(test_exit_code_per_reason),
		cmocka_unit_test(test_exit_code_for_errors),
		cmocka_unit_test(test_format_time_is_utc_iso),
		cmocka_unit_test(test_format_cpu_units),
		cmocka_unit_test(test_print_task_shows_key_fields),
		cmocka_unit_test(test_task_table_columns_align),
		cmocka_unit_test(test_print_running_task_shows_live_figures_and_limit_sources),
		cmocka_unit_test(test_list_format_picks_columns_and_noheader_drops_the_header),
		cmocka_unit_test(test_list_multi_line_command_stays_on_one_row),
		cmocka_unit_test(test_list_format_and_time_options_parse),
		cmocka_unit_test(test_queue_table),
		cmocka_unit_test(test_usage_table_in_hours),
		cmocka_unit_test(test_usage_table_shows_the_months_adjustments),
		cmocka_unit_test(test_status_against_fake_server),
		cmocka_unit_test(test_json_prints_the_servers_object),
		cmocka_unit_test(test_server_error_is_printed_with_code),
		cmocka_unit_test(test_wait_timeout_exits_75),
		cmocka_unit_test(test_submit_wait_quiet_prints_id_and_result_on_stdout),
		cmocka_unit_test(test_submit_wait_streams_stdout_and_stderr_then_exits_as_the_task),
		cmocka_unit_test(test_submit_wait_says_why_a_queued_task_waits_and_gives_up),
		cmocka_unit_test(test_cancel_takes_several_ids_and_tries_them_all),
		cmocka_unit_test(test_wait_answer_without_a_task_is_an_error),
		cmocka_unit_test(test_logs_follow_writes_raw_bytes_until_eof),
		cmocka_unit_test(test_logs_without_follow_stops_when_no_data),
		cmocka_unit_test(test_logs_json_prints_the_chunks_not_the_bytes),
		cmocka_unit_test(test_server_hanging_up_is_unreachable),
		cmocka_unit_test(test_missing_socket_says_is_corrald_running),
		cmocka_unit_test(test_print_task_escapes_other_tenants_control_characters),
		cmocka_unit_test(test_client_call_on_socketpair),
		cmocka_unit_test(test_client_call_rejects_garbage),
		cmocka_unit_test(test_connect_error_keeps_errno_step_and_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
