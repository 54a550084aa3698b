/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_policy_errors.c — every validation error: each test
 * asserts the file:line, the key and what the message says is allowed.
 */
#include "tests/unit/policy_helpers.h"

/* ---- syntax ---------------------------------------------------------- */

static void test_error_format_is_file_line_key_message(void **state)
{
	struct policy_errors errors = { 0 };
	char line[512];

	(void)state;
	load_bad("[plan x]\n\nmemory = lots\n", &errors);
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.items[0].file, "t.conf");
	assert_int_equal(errors.items[0].line, 3);
	assert_string_equal(errors.items[0].key, "memory");
	policy_error_format(&errors.items[0], line, sizeof(line));
	assert_string_equal(line,
			    "t.conf:3: key 'memory': 'lots' is not a size; write a "
			    "number with an optional K, M, G, T or P suffix (powers of 1024), "
			    "e.g. 512M, 1.5G or 512MiB; allowed: 4M to 4T");
	policy_errors_free(&errors);
}

static void test_line_without_equals_is_a_syntax_error(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory 5G\n", "t.conf:2: ", "expected 'key = value'");
}

static void test_section_without_closing_bracket(void **state)
{
	(void)state;
	expect_one_error("[plan x\n", "t.conf:1: ", "no closing ']'");
}

static void test_key_outside_any_section(void **state)
{
	(void)state;
	expect_one_error("memory = 5G\n",
			 "t.conf:1: key 'memory':", "only 'include' may come before the first [section]");
}

static void test_line_too_long(void **state)
{
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "[plan x]\n# %0300d\n", 0);
	expect_one_error(text, "t.conf:2: ", "the line is too long (302 characters)");
}

static void test_nul_byte_is_an_error(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	static const char text[] = "[plan x]\nmemory = 8M\0junk\n";

	(void)state;
	assert_int_equal(policy_load_buffer("t.conf", text, sizeof(text) - 1, 0, &p, &errors), -EINVAL);
	assert_error_in(&errors, "t.conf:2: ", "NUL byte");
	policy_errors_free(&errors);
}

static void test_all_errors_are_reported_not_just_the_first(void **state)
{
	struct policy_errors errors = { 0 };

	(void)state;
	load_bad("[plan x]\n"
		 "memory = 1Q\n" /* 2 */
		 "garbage\n"     /* 3 */
		 "pids = -1\n"   /* 4 */
		 "[plan y]\n"
		 "cpus = many\n" /* 6 */
		 "[nonsense]\n", /* 7 */
		 &errors);
	assert_int_equal(errors.count, 5);
	assert_int_equal(errors.items[0].line, 2);
	assert_int_equal(errors.items[1].line, 3);
	assert_int_equal(errors.items[2].line, 4);
	assert_int_equal(errors.items[3].line, 6);
	assert_int_equal(errors.items[4].line, 7);
	policy_errors_free(&errors);
}

/* ---- sections and keys ------------------------------------------------ */

static void test_unknown_section_suggests_near_miss(void **state)
{
	(void)state;
	expect_one_error("[plna free]\n",
			 "t.conf:1: ", "unknown section [plna free]; did you mean [plan NAME]?");
}

static void test_unknown_section_lists_allowed(void **state)
{
	(void)state;
	expect_one_error("\n[frobnicate]\n", "t.conf:2: ",
			 "unknown section [frobnicate]; allowed: [supervisor], [access], "
			 "[default], [plan NAME], [user NAME], [profile NAME]");
}

static void test_named_section_needs_a_name(void **state)
{
	(void)state;
	expect_one_error("[plan]\n", "t.conf:1: ", "section [plan] needs a name: [plan NAME]");
}

static void test_unnamed_section_takes_no_name(void **state)
{
	(void)state;
	expect_one_error("[supervisor main]\n", "t.conf:1: ", "section [supervisor] takes no name");
}

static void test_bad_section_name(void **state)
{
	(void)state;
	expect_one_error("[plan fr$ee]\n", "t.conf:1: ", "'fr$ee' is not a valid name");
}

static void test_unknown_key_suggests_near_miss(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_concurent = 2\n", "t.conf:2: key 'max_concurent':",
			 "unknown key in [plan x]; did you mean 'max_concurrent'?");
}

static void test_unknown_key_lists_allowed(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\ncolour = blue\n", "t.conf:2: key 'colour':",
			 "unknown key in [supervisor]; allowed: state_dir, socket, cgroup_parent, "
			 "max_running");
}

static void test_plan_key_inherit_only_in_plans(void **state)
{
	(void)state;
	expect_one_error("[plan a]\n[user bob]\nplan = a\ninherit = a\n",
			 "t.conf:4: key 'inherit':", "unknown key in [user bob]");
}

static void test_duplicate_section(void **state)
{
	(void)state;
	expect_one_error("[plan free]\n\n[plan free]\n",
			 "t.conf:3: ", "duplicate section [plan free]; it is already defined at t.conf:1");
}

static void test_duplicate_unnamed_section(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\n[supervisor]\n", "t.conf:2: ", "duplicate section [supervisor]");
}

static void test_key_set_twice(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory = 1G\nmemory = 2G\n",
			 "t.conf:3: key 'memory':", "is set twice in this section (first at line 2)");
}

/* ---- numbers, sizes, durations ---------------------------------------- */

static void test_bad_number(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_concurrent = two\n", "t.conf:2: key 'max_concurrent':",
			 "'two' is not a whole number; allowed: 1 to 4096");
}

static void test_bad_size(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory = 12Q\n", "t.conf:2: key 'memory':", "'12Q' is not a size");
}

static void test_bad_duration(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_task_seconds = 5 minutes\n",
			 "t.conf:2: key 'max_task_seconds':", "is not a duration; write e.g. 30s");
}

static void test_fractional_seconds_rejected(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_task_seconds = 1500ms\n",
			 "t.conf:2: key 'max_task_seconds':", "not a whole number of seconds");
}

static void test_bad_cpus(void **state)
{
	(void)state;
	expect_one_error("[plan x]\ncpus = 0.0001\n", "t.conf:2: key 'cpus':", "is not a CPU count");
}

static void test_negative_limit(void **state)
{
	(void)state;
	expect_one_error("[plan x]\npids = -5\n",
			 "t.conf:2: key 'pids':", "'-5' is negative; allowed: 2 to 4194304");
}

static void test_zero_limit_is_meaningless(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_concurrent = 0\n", "t.conf:2: key 'max_concurrent':",
			 "'0' is zero, which is meaningless here; allowed: 1 to 4096");
}

static void test_budget_finer_than_a_millisecond(void **state)
{
	(void)state;
	expect_one_error(
		"[plan x]\nmonthly_cpu_hours = 0.0000001\n", "t.conf:2: key 'monthly_cpu_hours':",
		"'0.0000001' is not a whole number of milliseconds; allowed: 0 to 1000000h, or unlimited");
}

static void test_absurd_memory(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory = 1000T\n",
			 "t.conf:2: key 'memory':", "'1000T' is out of range; allowed: 4M to 4T");
}

static void test_absurd_cpus(void **state)
{
	(void)state;
	expect_one_error("[plan x]\ncpus = 1000\n",
			 "t.conf:2: key 'cpus':", "'1000' is out of range; allowed: 0.01 to 512");
}

static void test_absurd_concurrency(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_concurrent = 1000000000\n",
			 "t.conf:2: key 'max_concurrent':", "out of range; allowed: 1 to 4096");
}

static void test_netns_pool_beyond_its_range(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nnetns_pool = 65\n",
			 "t.conf:2: key 'netns_pool':", "out of range; allowed: 0 to 64");
}

static void test_bad_storage_values_name_file_line_and_range(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmax_concurrent = 1\nmax_stored = lots\n",
			 "t.conf:3: key 'max_stored':", "or unlimited");
	expect_one_error("[plan x]\nmax_stored = 1K\n",
			 "t.conf:2: key 'max_stored':", "out of range; allowed: 1M to 64T, or unlimited");
	expect_one_error("[plan x]\nretention = 10s\n",
			 "t.conf:2: key 'retention':", "out of range; allowed: 1m to 3650d, or unlimited");
	expect_one_error("[plan p]\n[user bob]\nplan = p\nretention = forever\n",
			 "t.conf:4: key 'retention':", "or unlimited");
}

static void test_overflowing_number(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory = 99999999999999999999\n",
			 "t.conf:2: key 'memory':", "is too large; allowed: 4M to 4T");
}

static void test_unlimited_only_where_allowed(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nmemory = unlimited\n",
			 "t.conf:2: key 'memory':", "'unlimited' is not a size");
}

/* ---- references between sections ------------------------------------- */

static void test_user_plan_does_not_exist(void **state)
{
	(void)state;
	expect_one_error("[plan free]\n[plan pro]\n[user bob]\nplan = gold\n",
			 "t.conf:4: key 'plan':", "plan 'gold' is not defined; defined plans: free, pro");
}

static void test_user_plan_near_miss(void **state)
{
	(void)state;
	expect_one_error("[plan free]\n[user bob]\nplan = fre\n",
			 "t.conf:3: key 'plan':", "did you mean 'free'?");
}

static void test_inherit_plan_does_not_exist(void **state)
{
	(void)state;
	expect_one_error("[plan pro]\ninherit = basic\n",
			 "t.conf:2: key 'inherit':", "plan 'basic' is not defined; defined plans: pro");
}

static void test_plan_loop_is_reported_once(void **state)
{
	(void)state;
	expect_one_error("[plan a]\ninherit = b\n[plan b]\ninherit = c\n[plan c]\ninherit = a\n"
			 "[user bob]\nplan = b\n",
			 "t.conf:2: key 'inherit':",
			 "plan 'a' inherits from itself in a loop: a -> b -> c -> a");
}

/* Reported at the loop's first plan in the file, not its first by name;
 * a plan that only leads into the loop is broken without an error. */
static void test_plan_loop_is_reported_at_its_first_plan_in_the_file(void **state)
{
	(void)state;
	expect_one_error("[plan z]\ninherit = y\n[plan y]\ninherit = z\n[plan a]\ninherit = z\n",
			 "t.conf:2: key 'inherit':", "plan 'z' inherits from itself in a loop: z -> y -> z");
}

static void test_plan_inheriting_itself(void **state)
{
	(void)state;
	expect_one_error("[plan a]\ninherit = a\n",
			 "t.conf:2: key 'inherit':", "plan 'a' inherits from itself in a loop: a -> a");
}

static void test_profile_does_not_exist(void **state)
{
	(void)state;
	expect_one_error("[profile python]\n[plan x]\nprofile = pyton\n", "t.conf:3: key 'profile':",
			 "profile 'pyton' is not defined; did you mean 'python'?");
}

static void test_profiles_name_one_that_does_not_exist(void **state)
{
	(void)state;
	expect_one_error("[profile python]\n[plan x]\nprofiles = default pyton\n",
			 "t.conf:3: key 'profiles':",
			 "profile 'pyton' is not defined; did you mean 'python'?");
}

static void test_profiles_malformed(void **state)
{
	(void)state;
	expect_one_error("[plan x]\nprofiles = default default\n",
			 "t.conf:2: key 'profiles':", "profile 'default' is listed twice");
	expect_one_error("[plan x]\nprofiles = default -x\n",
			 "t.conf:2: key 'profiles':", "'-x' is not a profile name");
	expect_one_error("[plan x]\nprofile = default java\n", "t.conf:2: key 'profile':",
			 "names one profile; use 'profiles = default java' to allow several");
	expect_one_error("[plan x]\nprofile = default\nprofiles = default\n", "t.conf:3: key 'profiles':",
			 "set either 'profile' or 'profiles' in a section, not both ('profile' at line 2)");
}

static void test_user_override_profile_does_not_exist(void **state)
{
	(void)state;
	expect_one_error("[plan x]\n[user bob]\nplan = x\nprofile = nothing\n",
			 "t.conf:4: key 'profile':", "profile 'nothing' is not defined");
}

static void test_user_without_plan_and_no_default(void **state)
{
	(void)state;
	expect_one_error("[plan x]\n[user bob]\nmemory = 1G\n",
			 "t.conf:2: ", "[user bob] has no plan; set 'plan = NAME' here or in [default]");
}

static void test_default_needs_a_plan(void **state)
{
	(void)state;
	expect_one_error("[default]\nmemory = 1G\n", "t.conf:1: ", "[default] needs 'plan = NAME'");
}

static void test_plan_memory_above_reserve(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nmemory_reserve = 4G\n[plan big]\nmemory = 8G\n",
			 "t.conf:4: key 'memory':", "8G is more than [supervisor] memory_reserve 4G");
}

/* ---- [supervisor] and [access] ------------------------------------------ */

static void test_relative_state_dir(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nstate_dir = var/lib/corral\n",
			 "t.conf:2: key 'state_dir':", "is not a clean absolute path");
}

static void test_socket_path_too_long(void **state)
{
	char text[400];

	(void)state;
	snprintf(text, sizeof(text), "[supervisor]\nsocket = /run/%0120d.sock\n", 0);
	expect_one_error(text, "t.conf:2: key 'socket':", "at most 107 characters");
}

static void test_cgroup_parent_with_dotdot(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\ncgroup_parent = ../escape\n",
			 "t.conf:2: key 'cgroup_parent':", "is not a cgroup path");
}

static void test_bad_on_restart(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\non_restart = resume\n",
			 "t.conf:2: key 'on_restart':", "'resume' is not allowed; allowed: adopt, kill");
}

static void test_bad_uid_range(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nuid_range = 100000\n",
			 "t.conf:2: key 'uid_range':", "is not a uid range; write FIRST-LAST");
}

static void test_bad_node_settings(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nnode_name = -x\n",
			 "t.conf:2: key 'node_name':", "is not a node name");
	expect_one_error("[supervisor]\nnode_name = a/b\n",
			 "t.conf:2: key 'node_name':", "is not a node name");
	expect_one_error("[supervisor]\nlabels = gpu, b@d\n",
			 "t.conf:2: key 'labels':", "is not a label list");
	expect_one_error("[supervisor]\ngpus = -1\n", "t.conf:2: key 'gpus':", "");
	expect_one_error("[supervisor]\nheartbeat_interval = 10ms\n",
			 "t.conf:2: key 'heartbeat_interval':", "");
	/* a node would go offline between two heartbeats */
	expect_one_error("[supervisor]\nheartbeat_interval = 10s\nnode_offline_after = 15s\n",
			 "t.conf:3: key 'node_offline_after':", "less than two heartbeat_intervals");
	expect_one_error("[supervisor]\nlease = 500ms\n", "t.conf:2: key 'lease':", "");
	expect_one_error("[supervisor]\ncluster_poll = 1h\n", "t.conf:2: key 'cluster_poll':", "");
	/* a node must see a failing renewal before its lease ends */
	expect_one_error("[supervisor]\nlease = 2s\ncluster_poll = 1s\n",
			 "t.conf:3: key 'lease':", "at least four cluster_polls");
}

static void test_bad_http_settings(void **state)
{
	(void)state;
	expect_one_error("[http]\nlisten = localhost:8080\n",
			 "t.conf:2: key 'listen':", "is not an address to listen on");
	expect_one_error("[http]\nlisten = 127.0.0.1:0\n",
			 "t.conf:2: key 'listen':", "is not an address to listen on");
	expect_one_error("[http]\nlisten = [::1]8080\n",
			 "t.conf:2: key 'listen':", "is not an address to listen on");
	expect_one_error("[http]\nlisten = 127.0.0.1:80\nlisten = 127.0.0.1:80\n",
			 "t.conf:3: key 'listen':", "listed twice");
	expect_one_error("[http]\nlisten = 127.0.0.1:80\ntls_cert = /etc/c.pem\n",
			 "t.conf:3: key 'tls_key':", "go together");
	expect_one_error("[http]\nmetrics_token = short\n", "t.conf:2: key 'metrics_token':", "");
	expect_one_error("[http]\nmax_body = 10\n", "t.conf:2: key 'max_body':", "");
	expect_one_error("[http]\nlisen = 127.0.0.1:80\n", "t.conf:2: key 'lisen':", "listen");
}

static void test_uid_range_below_system_uids(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nuid_range = 0-100\n",
			 "t.conf:2: key 'uid_range':", "1000 <= FIRST <= LAST");
}

static void test_uid_range_smaller_than_max_running(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\nmax_running = 8\nuid_range = 100000-100003\n",
			 "t.conf:3: key 'uid_range':", "holds 4 uids but max_running is 8");
}

static void test_poll_interval_too_short(void **state)
{
	(void)state;
	expect_one_error("[supervisor]\npoll_interval = 1ms\n",
			 "t.conf:2: key 'poll_interval':", "allowed: 10ms to 1m");
}

static void test_bad_operator_name(void **state)
{
	(void)state;
	expect_one_error("[access]\noperators = root @wh$eel\n",
			 "t.conf:2: key 'operators':", "'@wh$eel' is not a user or @group name");
}

static void test_bad_tenant_from(void **state)
{
	(void)state;
	expect_one_error("[access]\ntenant_from = uid\n",
			 "t.conf:2: key 'tenant_from':", "allowed: user (the Unix user name), group");
}

static void test_bad_tenant_map(void **state)
{
	(void)state;
	expect_one_error("[access]\ntenant_map = alice\n",
			 "t.conf:2: key 'tenant_map':", "write UNIX_USER:TENANT");
}

/* ---- [profile] --------------------------------------------------------- */

static void test_bind_source_not_absolute(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nbind_ro = opt/python\n",
			 "t.conf:2: key 'bind_ro':", "source 'opt/python' is not an absolute path");
}

static void test_bind_source_with_dotdot(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nbind_rw = /srv/../etc\n",
			 "t.conf:2: key 'bind_rw':", "source '/srv/../etc' is not an absolute path");
}

static void test_bind_target_reserved(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nbind_ro = /srv:/proc/sys\n",
			 "t.conf:2: key 'bind_ro':", "target '/proc/sys' belongs to the jail itself");
}

static void test_mount_target_used_twice(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nbind_ro = /opt\ntmpfs = /opt:8M\n",
			 "t.conf:3: key 'tmpfs':", "target '/opt' is already mounted by line 2");
}

static void test_unknown_syscall(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nseccomp_allow = ptrace ptrase\n", "t.conf:2: key 'seccomp_allow':",
			 "unknown syscall 'ptrase' (libseccomp does not know it); did you mean "
			 "'ptrace'?");
}

static void test_profile_artifact_glob_must_be_relative(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nartifacts = ok.txt /etc/shadow\n",
			 "t.conf:2: key 'artifacts':", "'/etc/shadow' is not a glob relative to /work");
}

static void test_profile_artifacts_empty(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nartifacts =\n", "t.conf:2: key 'artifacts':", "the value is empty");
}

static void test_syscall_both_allowed_and_denied(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nseccomp_allow = ptrace\nseccomp_deny = ptrace\n",
			 "t.conf:1: key 'seccomp_deny':", "'ptrace' is both allowed and denied");
}

static void test_seccomp_rules_with_none(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nseccomp = none\nseccomp_deny = ptrace\n",
			 "t.conf:2: key 'seccomp':", "would have no effect");
}

static void test_bad_seccomp(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nseccomp = paranoid\n",
			 "t.conf:2: key 'seccomp':", "allowed: default, strict, none");
}

static void test_bad_network(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nnetwork = host\n",
			 "t.conf:2: key 'network':", "'host' is not allowed; allowed: none");
}

static void test_bad_env(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nenv = 1PATH=/bin\n", "t.conf:2: key 'env':", "is not NAME=VALUE");
}

static void test_env_set_twice(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nenv = A=1\nenv = A=2\n",
			 "t.conf:3: key 'env':", "variable 'A' is set twice");
}

static void test_bad_hostname(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nhostname = my_host!\n",
			 "t.conf:2: key 'hostname':", "is not a hostname");
}

static void test_uid_zero_inside_jail(void **state)
{
	(void)state;
	expect_one_error("[profile p]\nuid = 0\n", "t.conf:2: key 'uid':", "allowed: 1 to 65534");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_storage_values_name_file_line_and_range),
		cmocka_unit_test(test_error_format_is_file_line_key_message),
		cmocka_unit_test(test_line_without_equals_is_a_syntax_error),
		cmocka_unit_test(test_section_without_closing_bracket),
		cmocka_unit_test(test_key_outside_any_section),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_nul_byte_is_an_error),
		cmocka_unit_test(test_all_errors_are_reported_not_just_the_first),
		cmocka_unit_test(test_unknown_section_suggests_near_miss),
		cmocka_unit_test(test_unknown_section_lists_allowed),
		cmocka_unit_test(test_named_section_needs_a_name),
		cmocka_unit_test(test_unnamed_section_takes_no_name),
		cmocka_unit_test(test_bad_section_name),
		cmocka_unit_test(test_unknown_key_suggests_near_miss),
		cmocka_unit_test(test_unknown_key_lists_allowed),
		cmocka_unit_test(test_plan_key_inherit_only_in_plans),
		cmocka_unit_test(test_duplicate_section),
		cmocka_unit_test(test_duplicate_unnamed_section),
		cmocka_unit_test(test_key_set_twice),
		cmocka_unit_test(test_bad_number),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_fractional_seconds_rejected),
		cmocka_unit_test(test_bad_cpus),
		cmocka_unit_test(test_negative_limit),
		cmocka_unit_test(test_zero_limit_is_meaningless),
		cmocka_unit_test(test_budget_finer_than_a_millisecond),
		cmocka_unit_test(test_absurd_memory),
		cmocka_unit_test(test_absurd_cpus),
		cmocka_unit_test(test_absurd_concurrency),
		cmocka_unit_test(test_netns_pool_beyond_its_range),
		cmocka_unit_test(test_overflowing_number),
		cmocka_unit_test(test_unlimited_only_where_allowed),
		cmocka_unit_test(test_user_plan_does_not_exist),
		cmocka_unit_test(test_user_plan_near_miss),
		cmocka_unit_test(test_inherit_plan_does_not_exist),
		cmocka_unit_test(test_plan_loop_is_reported_once),
		cmocka_unit_test(test_plan_loop_is_reported_at_its_first_plan_in_the_file),
		cmocka_unit_test(test_plan_inheriting_itself),
		cmocka_unit_test(test_profile_does_not_exist),
		cmocka_unit_test(test_profiles_name_one_that_does_not_exist),
		cmocka_unit_test(test_profiles_malformed),
		cmocka_unit_test(test_profile_artifact_glob_must_be_relative),
		cmocka_unit_test(test_profile_artifacts_empty),
		cmocka_unit_test(test_user_override_profile_does_not_exist),
		cmocka_unit_test(test_user_without_plan_and_no_default),
		cmocka_unit_test(test_default_needs_a_plan),
		cmocka_unit_test(test_plan_memory_above_reserve),
		cmocka_unit_test(test_relative_state_dir),
		cmocka_unit_test(test_socket_path_too_long),
		cmocka_unit_test(test_cgroup_parent_with_dotdot),
		cmocka_unit_test(test_bad_on_restart),
		cmocka_unit_test(test_bad_uid_range),
		cmocka_unit_test(test_bad_node_settings),
		cmocka_unit_test(test_uid_range_below_system_uids),
		cmocka_unit_test(test_uid_range_smaller_than_max_running),
		cmocka_unit_test(test_poll_interval_too_short),
		cmocka_unit_test(test_bad_operator_name),
		cmocka_unit_test(test_bad_tenant_from),
		cmocka_unit_test(test_bad_tenant_map),
		cmocka_unit_test(test_bind_source_not_absolute),
		cmocka_unit_test(test_bind_source_with_dotdot),
		cmocka_unit_test(test_bind_target_reserved),
		cmocka_unit_test(test_mount_target_used_twice),
		cmocka_unit_test(test_unknown_syscall),
		cmocka_unit_test(test_syscall_both_allowed_and_denied),
		cmocka_unit_test(test_seccomp_rules_with_none),
		cmocka_unit_test(test_bad_seccomp),
		cmocka_unit_test(test_bad_network),
		cmocka_unit_test(test_bad_env),
		cmocka_unit_test(test_env_set_twice),
		cmocka_unit_test(test_bad_hostname),
		cmocka_unit_test(test_bad_http_settings),
		cmocka_unit_test(test_uid_zero_inside_jail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
