/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_run_args.c — corral-run's flags and units, spec
 * validation and result -> exit code mapping.  No root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/corral-run/run_args.h"
#include "supervisor/corral-run/run_policy.h"
#include "policy/policy.h"

#define ARGV(...) ((char *[]){ "corral-run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "corral-run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) run_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err)

static void test_sizes_parse_binary_units(void **state)
{
	uint64_t v;

	assert_int_equal(policy_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(policy_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(policy_parse_size("256M", &v), 0);
	assert_int_equal(v, 256u << 20);
	assert_int_equal(policy_parse_size("1.5G", &v), 0);
	assert_int_equal(v, 3ull << 29);
	assert_int_equal(policy_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(policy_parse_size("-5", &v), -EINVAL);
	assert_int_equal(policy_parse_size("5X", &v), -EINVAL);
	assert_int_equal(policy_parse_size("", &v), -EINVAL);
	assert_int_equal(policy_parse_size("1.5", &v), -EINVAL);
	assert_int_equal(policy_parse_size("99999999P", &v), -ERANGE);
}

static void test_durations_parse_to_milliseconds(void **state)
{
	uint64_t v;

	assert_int_equal(policy_parse_duration_ms("10", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(policy_parse_duration_ms("1.5s", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(policy_parse_duration_ms("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(policy_parse_duration_ms("2m", &v), 0);
	assert_int_equal(v, 120000);
	assert_int_equal(policy_parse_duration_ms("1h", &v), 0);
	assert_int_equal(v, 3600000);
	/* the policy files' grammar: days and compound durations too */
	assert_int_equal(policy_parse_duration_ms("1d", &v), 0);
	assert_int_equal(v, 86400000);
	assert_int_equal(policy_parse_duration_ms("1h30m", &v), 0);
	assert_int_equal(v, 5400000);
	assert_int_equal(policy_parse_duration_ms("-1", &v), -EINVAL);
	assert_int_equal(policy_parse_duration_ms("s", &v), -EINVAL);
}

static void test_cpus_parse_to_millis_and_zero_is_refused(void **state)
{
	uint32_t v;

	assert_int_equal(policy_parse_cpu_millis("0.5", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(policy_parse_cpu_millis("2", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(policy_parse_cpu_millis("0", &v), -ERANGE);
	assert_int_equal(policy_parse_cpu_millis("0.000", &v), -ERANGE);
	assert_int_equal(policy_parse_cpu_millis("0.0001", &v), -EINVAL); /* at most 3 decimals */
	assert_int_equal(policy_parse_cpu_millis("abc", &v), -EINVAL);
}

static void test_env_replaces_a_default_by_name_and_clear_env_starts_empty(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--env", "PATH=/opt/bin", "--env", "B=2", "--", "/bin/true"), 0);
	assert_string_equal(o.spec.env[0], "PATH=/opt/bin");
	assert_string_equal(o.spec.env[1], "HOME=/work");
	assert_string_equal(o.spec.env[2], "LANG=C.UTF-8");
	assert_string_equal(o.spec.env[3], "B=2");
	assert_null(o.spec.env[4]);
	run_args_free(&o);

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--clear-env", "--env", "B=2", "--", "/bin/true"), 0);
	assert_string_equal(o.spec.env[0], "B=2");
	assert_null(o.spec.env[1]);
	run_args_free(&o);

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--clear-env", "--", "/bin/true"), 0);
	assert_null(o.spec.env[0]);
	run_args_free(&o);
}

static void test_json_fd_1_needs_stdout_to_a_file(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--json-fd", "1", "--", "/bin/true"), -EINVAL);
	assert_non_null(strstr(err.message, "stdout is the command's"));
	run_args_free(&o);
	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--json-fd", "3", "--", "/bin/true"), 0);
	assert_int_equal(o.json_fd, 3);
	run_args_free(&o);
}

static void test_flags_fill_the_spec(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--memory", "256M", "--pids", "32", "--cpus", "0.5", "--time", "2s",
			       "--wall-time", "1m", "--output-limit", "1K", "--seccomp", "strict",
			       "--hostname", "h", "--env", "A=1", "--tmpfs", "/scratch:1M", "--ro-bind",
			       "/usr:/opt/usr", "--json", "--", "/bin/echo", "hi"),
			 0);
	assert_int_equal(o.spec.memory_bytes, 256u << 20);
	assert_int_equal(o.spec.pids_max, 32);
	assert_int_equal(o.spec.cpu_millis, 500);
	assert_int_equal(o.spec.cpu_time_ms, 2000);
	assert_int_equal(o.spec.wall_time_ms, 60000);
	assert_int_equal(o.spec.output_limit, 1024);
	assert_int_equal(o.spec.seccomp, JAIL_SECCOMP_STRICT);
	assert_string_equal(o.spec.hostname, "h");
	/* --env adds to the default environment */
	assert_string_equal(o.spec.env[0], "PATH=/usr/local/bin:/usr/bin:/bin");
	assert_string_equal(o.spec.env[1], "HOME=/work");
	assert_string_equal(o.spec.env[2], "LANG=C.UTF-8");
	assert_string_equal(o.spec.env[3], "A=1");
	assert_null(o.spec.env[4]);
	assert_int_equal(o.spec.n_mounts, 2);
	assert_int_equal(o.spec.mounts[0].kind, JAIL_MOUNT_TMPFS);
	assert_string_equal(o.spec.mounts[0].target, "/scratch");
	assert_int_equal(o.spec.mounts[0].size_bytes, 1u << 20);
	assert_string_equal(o.spec.mounts[1].source, "/usr");
	assert_string_equal(o.spec.mounts[1].target, "/opt/usr");
	assert_true(o.json);
	assert_string_equal(o.spec.argv[0], "/bin/echo");
	assert_string_equal(o.spec.argv[1], "hi");
	run_args_free(&o);
}

static void test_negative_memory_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--memory", "-5", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "--memory: '-5' is not a size"));
	run_args_free(&o);
}

static void test_zero_cpus_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--cpus", "0", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "--cpus"));
	run_args_free(&o);
}

static void test_unknown_seccomp_profile_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--seccomp", "lax", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "unknown profile 'lax'"));
	run_args_free(&o);
}

static void test_missing_bind_source_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--bind", "/no/such/path:/x", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "/no/such/path"));
	assert_non_null(strstr(err.message, "No such file or directory"));
	assert_int_equal(err.err, ENOENT); /* the runner's error, carried over */
	assert_string_equal(err.step, "spec");
	run_args_free(&o);
}

static void test_relative_bind_source_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--ro-bind", "usr", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "must be an absolute path"));
	run_args_free(&o);
}

static void test_unknown_flag_and_missing_value_are_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--frobnicate", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "unknown option '--frobnicate'"));
	assert_string_equal(err.step, "parse command line");
	run_args_free(&o);
	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--memory"), -EINVAL);
	assert_non_null(strstr(err.message, "needs a value"));
	run_args_free(&o);
}

static void test_no_command_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--memory", "1G"), -EINVAL);
	assert_non_null(strstr(err.message, "no command given"));
	run_args_free(&o);
}

static void test_bad_env_is_refused(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--env", "NOVALUE", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "expected KEY=VALUE"));
	run_args_free(&o);
}

static void test_absurd_memory_is_refused_by_spec_validation(void **state)
{
	struct run_options o;
	struct error err;

	run_args_init(&o);
	assert_int_equal(PARSE(&o, &err, "--memory", "5000P", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.message, "outside 1M..1P"));
	run_args_free(&o);
}

static void test_exit_codes_are_distinct_per_status(void **state)
{
	struct jail_result r = { .status = JAIL_EXIT_NONZERO, .exit_code = 3 };

	assert_int_equal(run_args_exit_code(&r), 3);
	r.status = JAIL_SIGNALED;
	r.signal = 11;
	assert_int_equal(run_args_exit_code(&r), 139);
	r.status = JAIL_TIMEOUT;
	assert_int_equal(run_args_exit_code(&r), 124);
	r.status = JAIL_CPU_LIMIT;
	assert_int_equal(run_args_exit_code(&r), 122);
	r.status = JAIL_OOM;
	assert_int_equal(run_args_exit_code(&r), 120);
	r.status = JAIL_OUTPUT_LIMIT;
	assert_int_equal(run_args_exit_code(&r), 121);
	r.status = JAIL_SPAWN_ERROR;
	assert_int_equal(run_args_exit_code(&r), 125);
}

static void test_result_json_has_the_documented_fields(void **state)
{
	struct jail_result r = { .status = JAIL_OOM,
				 .exit_code = -1,
				 .signal = 9,
				 .wall_us = 5,
				 .memory_peak_bytes = 7,
				 .oom_killed = true,
				 .oom_kills = 2 };
	char *json = jail_result_to_json(&r);

	assert_non_null(json);
	assert_non_null(strstr(json, "\"status\":\"oom\""));
	assert_non_null(strstr(json, "\"exit_code\":-1"));
	assert_non_null(strstr(json, "\"signal\":9"));
	assert_non_null(strstr(json, "\"wall_us\":5"));
	assert_non_null(strstr(json, "\"memory_peak_bytes\":7"));
	assert_non_null(strstr(json, "\"oom_killed\":true"));
	assert_non_null(strstr(json, "\"oom_kills\":2"));
	assert_non_null(strstr(json, "\"stdout_truncated\":false"));
	assert_null(strstr(json, "\"error\""));
	free(json);
}

static void test_spec_validation_names_the_bad_field(void **state)
{
	char *const argv[] = { "true", NULL };
	struct jail_spec s;
	struct jail_error err;

	jail_spec_init(&s);
	s.argv = argv;
	s.host_uid = s.host_gid = 5000;
	assert_int_equal(jail_spec_validate(&s, &err), 0);
	s.cwd = "relative";
	assert_int_equal(jail_spec_validate(&s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "working directory"));
	s.cwd = "/work/../etc";
	assert_int_equal(jail_spec_validate(&s, &err), -EINVAL);
	s.cwd = "/work";
	s.cgroup_name = "../escape";
	assert_int_equal(jail_spec_validate(&s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "cgroup name"));
	s.cgroup_name = NULL;
	s.host_uid = 0;
	assert_int_equal(jail_spec_validate(&s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unprivileged"));
}

static const char test_policy[] =
	"[plan small]\nmemory = 64M\npids = 32\ncpus = 0.5\nmax_task_seconds = 7s\nprofile = box\n"
	"[user alice]\nplan = small\n"
	"[profile box]\nhostname = boxhost\ntmpfs = /scratch:1M\n";

static void write_policy(char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "/tmp/corral-runpol-%d.conf", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(test_policy, f);
	fclose(f);
}

static void test_policy_profile_and_plan_fill_the_spec_and_flags_override(void **state)
{
	char path[128];
	struct run_options o;
	struct run_policy p;
	struct error err;

	write_policy(path, sizeof(path));
	run_args_init(&o);
	run_policy_init(&p);
	char *argv[] = { "corral-run", "--policy", path, "--user", "alice", "--pids",
			 "8",          "--tmpfs",  "/x", "--",     "true",  NULL };
	assert_int_equal(run_args_scan_policy(11, argv, &o, &err), 0);
	assert_int_equal(run_policy_apply(&p, &o, &err), 0);
	assert_int_equal(run_args_parse(11, argv, &o, &err), 0);
	assert_int_equal(o.spec.memory_bytes, 64u << 20);
	assert_int_equal(o.spec.cpu_millis, 500);
	assert_int_equal(o.spec.wall_time_ms, 7000);
	assert_int_equal(o.spec.pids_max, 8);            /* the flag wins */
	assert_string_equal(o.spec.hostname, "boxhost"); /* the plan's profile */
	assert_int_equal(o.spec.n_mounts, 2);            /* profile tmpfs + flag tmpfs */
	assert_string_equal(o.spec.mounts[0].target, "/scratch");
	assert_string_equal(o.spec.mounts[1].target, "/x");
	run_policy_free(&p);
	run_args_free(&o);
	unlink(path);
}

static void test_bad_policy_file_is_refused_with_file_and_line(void **state)
{
	char path[128];
	struct run_options o;
	struct run_policy p;
	struct error err;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/corral-runpol-bad-%d.conf", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[plan x]\nmemroy = 1G\n", f);
	fclose(f);
	run_args_init(&o);
	run_policy_init(&p);
	char *argv[] = { "corral-run", "--policy", path, "--", "true", NULL };
	assert_int_equal(run_args_scan_policy(5, argv, &o, &err), 0);
	assert_int_equal(run_policy_apply(&p, &o, &err), -EINVAL);
	assert_non_null(strstr(err.message, ":2:"));
	assert_non_null(strstr(err.message, "memroy"));
	assert_true(strncmp(err.message, "--policy: ", 10) == 0);
	assert_string_equal(err.step, "load policy");
	run_policy_free(&p);
	run_args_free(&o);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_parse_binary_units),
		cmocka_unit_test(test_durations_parse_to_milliseconds),
		cmocka_unit_test(test_cpus_parse_to_millis_and_zero_is_refused),
		cmocka_unit_test(test_flags_fill_the_spec),
		cmocka_unit_test(test_negative_memory_is_refused),
		cmocka_unit_test(test_zero_cpus_is_refused),
		cmocka_unit_test(test_unknown_seccomp_profile_is_refused),
		cmocka_unit_test(test_missing_bind_source_is_refused),
		cmocka_unit_test(test_relative_bind_source_is_refused),
		cmocka_unit_test(test_unknown_flag_and_missing_value_are_refused),
		cmocka_unit_test(test_no_command_is_refused),
		cmocka_unit_test(test_bad_env_is_refused),
		cmocka_unit_test(test_absurd_memory_is_refused_by_spec_validation),
		cmocka_unit_test(test_exit_codes_are_distinct_per_status),
		cmocka_unit_test(test_env_replaces_a_default_by_name_and_clear_env_starts_empty),
		cmocka_unit_test(test_json_fd_1_needs_stdout_to_a_file),
		cmocka_unit_test(test_result_json_has_the_documented_fields),
		cmocka_unit_test(test_spec_validation_names_the_bad_field),
		cmocka_unit_test(test_policy_profile_and_plan_fill_the_spec_and_flags_override),
		cmocka_unit_test(test_bad_policy_file_is_refused_with_file_and_line),
	};

	return cmocka_run_group_tests_name("run_args", tests, NULL, NULL);
}
