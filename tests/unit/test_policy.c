/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_policy.c — loading valid policies: defaults, plan
 * inheritance, user overrides, [default], value syntax, access, profiles,
 * includes, reloading.  Errors live in test_policy_errors.c.
 */
#include "tests/unit/policy_helpers.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static void test_empty_policy_has_defaults(void **state)
{
	struct policy *p = load_ok("");
	const struct policy_supervisor *sv = policy_supervisor(p);
	struct policy_limits l;

	(void)state;
	assert_string_equal(sv->state_dir, "/var/lib/corral");
	assert_string_equal(sv->socket, "/run/corral/corrald.sock");
	assert_string_equal(sv->cgroup_parent, "corral");
	assert_int_equal(sv->max_running, 4);
	assert_int_equal(sv->netns_pool, 4);
	assert_int_equal(sv->memory_reserve_bytes, 0);
	assert_int_equal(sv->poll_interval_ms, 1000);
	assert_int_equal(sv->drain_timeout_ms, 30000);
	assert_int_equal(sv->kill_grace_ms, 2000);
	assert_int_equal(sv->on_restart, POLICY_RESTART_ADOPT);
	assert_int_equal(sv->uid_first, 700000000);
	assert_null(sv->node_name);
	assert_int_equal(sv->heartbeat_interval_ms, 10000);
	assert_int_equal(sv->node_offline_after_ms, 90000);
	assert_int_equal(sv->lease_ms, 30000);
	assert_int_equal(sv->leader_lease_ms, 5000);
	assert_int_equal(sv->cluster_poll_ms, 200);
	assert_int_equal(sv->adopt_grace_ms, 30000);
	assert_int_equal(sv->gpus, 0);
	assert_int_equal(sv->cores, 0); /* the host's */
	assert_string_equal(sv->labels, "");
	assert_int_equal(sv->uid_last, 700065535);
	/* No [default]: unknown users are not tenants. */
	assert_int_equal(policy_limits_for(p, "alice", &l), -ENOENT);
	assert_null(policy_default_plan(p));
	/* The built-in default profile always exists. */
	assert_non_null(policy_profile(p, "default"));
	assert_int_equal(policy_count(p, POLICY_PROFILES), 1);
	assert_true(policy_is_operator(p, "root", NULL));
	assert_false(policy_is_operator(p, "alice", NULL));
	assert_true(policy_may_use(p, "alice", NULL));
	policy_free(p);
}

static void test_supervisor_values_are_read(void **state)
{
	struct policy *p = load_ok("[supervisor]\n"
				   "state_dir = /srv/corral\n"
				   "socket = /run/c.sock\n"
				   "cgroup_parent = /corral.slice/tasks\n"
				   "max_running = 16\n"
				   "netns_pool = 0\n"
				   "memory_reserve = 48G\n"
				   "poll_interval = 250ms\n"
				   "drain_timeout = 2m\n"
				   "kill_grace = 0\n"
				   "on_restart = kill\n"
				   "uid_range = 200000-200099\n"
				   "node_name = gpu-host.7\n"
				   "heartbeat_interval = 2s\n"
				   "node_offline_after = 30s\n"
				   "lease = 1m\n"
				   "leader_lease = 8s\n"
				   "cluster_poll = 500ms\n"
				   "adopt_grace = 0\n"
				   "gpus = 8\n"
				   "cores = 48\n"
				   "gpu_memory = 80G\n"
				   "labels = gpu, ssd fast\n");
	const struct policy_supervisor *sv = policy_supervisor(p);

	(void)state;
	assert_string_equal(sv->state_dir, "/srv/corral");
	assert_string_equal(sv->socket, "/run/c.sock");
	assert_string_equal(sv->cgroup_parent, "/corral.slice/tasks");
	assert_int_equal(sv->max_running, 16);
	assert_int_equal(sv->netns_pool, 0);
	assert_int_equal(sv->memory_reserve_bytes, 48 * GiB);
	assert_int_equal(sv->poll_interval_ms, 250);
	assert_int_equal(sv->drain_timeout_ms, 120000);
	assert_int_equal(sv->kill_grace_ms, 0);
	assert_int_equal(sv->on_restart, POLICY_RESTART_KILL);
	assert_int_equal(sv->uid_first, 200000);
	assert_int_equal(sv->uid_last, 200099);
	assert_string_equal(sv->node_name, "gpu-host.7");
	assert_int_equal(sv->heartbeat_interval_ms, 2000);
	assert_int_equal(sv->node_offline_after_ms, 30000);
	assert_int_equal(sv->lease_ms, 60000);
	assert_int_equal(sv->leader_lease_ms, 8000);
	assert_int_equal(sv->cluster_poll_ms, 500);
	assert_int_equal(sv->adopt_grace_ms, 0);
	assert_int_equal(sv->gpus, 8);
	assert_int_equal(sv->cores, 48);
	assert_int_equal(sv->gpu_memory_bytes, 80 * GiB);
	assert_string_equal(sv->labels, "gpu,ssd,fast");
	policy_free(p);
}

/* Storage keys (issue 16): built-in defaults, sizes and durations through
 * the one units parser, unlimited, and a [user] over its plan. */
static void test_storage_keys_defaults_values_and_unlimited(void **state)
{
	struct policy *p = load_ok("[plan free]\nmax_stored = 64M\nretention = 7d\n"
				   "[plan big]\nmax_stored = unlimited\nretention = unlimited\n"
				   "[plan plain]\n[user alice]\nplan = free\nretention = 12h\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "plain", &l), 0);
	assert_int_equal(l.max_stored_bytes, 1 * GiB);
	assert_int_equal(l.retention_seconds, 30 * 86400);
	assert_int_equal(policy_plan_limits(p, "free", &l), 0);
	assert_int_equal(l.max_stored_bytes, 64 * MiB);
	assert_int_equal(l.retention_seconds, 7 * 86400);
	assert_int_equal(policy_plan_limits(p, "big", &l), 0);
	assert_int_equal(l.max_stored_bytes, 0);
	assert_int_equal(l.retention_seconds, 0);
	assert_int_equal(policy_limits_for(p, "alice", &l), 0);
	assert_int_equal(l.max_stored_bytes, 64 * MiB);
	assert_int_equal(l.retention_seconds, 12 * 3600);
	policy_free(p);
}

static void test_http_section_listeners_and_limits(void **state)
{
	struct policy *p = load_ok("[http]\n"
				   "listen = 127.0.0.1:8080\n"
				   "listen = [::1]:8081\n"
				   "listen = /run/corral/http.sock\n"
				   "max_body = 1M\n"
				   "max_connections = 10\n"
				   "max_connections_per_ip = 2\n"
				   "connection_timeout = 5s\n"
				   "auth_failures_per_minute = 3\n"
				   "metrics_token = 0123456789abcdef\n");
	const struct policy_http *h = policy_http(p);

	(void)state;
	assert_int_equal(h->n_listen, 3);
	assert_string_equal(h->listen[0].host, "127.0.0.1");
	assert_int_equal(h->listen[0].port, 8080);
	assert_null(h->listen[0].path);
	assert_string_equal(h->listen[1].host, "::1");
	assert_int_equal(h->listen[1].port, 8081);
	assert_string_equal(h->listen[2].path, "/run/corral/http.sock");
	assert_null(h->listen[2].host);
	assert_int_equal(h->max_body_bytes, 1u << 20);
	assert_int_equal(h->max_connections, 10);
	assert_int_equal(h->max_connections_per_ip, 2);
	assert_int_equal(h->connection_timeout_ms, 5000);
	assert_int_equal(h->auth_failures_per_minute, 3);
	assert_string_equal(h->metrics_token, "0123456789abcdef");
	assert_null(h->tls_cert);
	policy_free(p);
}

static void test_http_is_off_without_listen(void **state)
{
	struct policy *p = load_ok("[supervisor]\nmax_running = 2\n");
	const struct policy_http *h = policy_http(p);

	(void)state;
	assert_int_equal(h->n_listen, 0);
	assert_int_equal(h->max_body_bytes, 4u << 20);
	assert_int_equal(h->connection_timeout_ms, 30000);
	assert_null(h->metrics_token);
	policy_free(p);
}

static void test_plan_unset_keys_take_builtin_defaults(void **state)
{
	struct policy *p = load_ok("[plan free]\nmemory = 256M\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "free", &l), 0);
	assert_string_equal(l.plan, "free");
	assert_string_equal(l.profile, "default");
	assert_int_equal(l.memory_bytes, 256 * MiB);
	assert_int_equal(l.max_concurrent, 1);
	assert_int_equal(l.max_queued, 100);
	assert_int_equal(l.weight, 100);
	assert_int_equal(l.cpu_millis, 1000);
	assert_true(l.monthly_cpu_ms == POLICY_UNLIMITED);
	assert_int_equal(l.max_task_seconds, 600);
	assert_int_equal(l.max_cpu_seconds, 0);
	assert_int_equal(l.pids, 256);
	assert_int_equal(l.output_limit_bytes, 16 * MiB);
	assert_int_equal(l.max_attempts, 3);
	assert_false(l.retry_lost);
	assert_int_equal(policy_plan_limits(p, "pro", &l), -ENOENT);
	policy_free(p);
}

static const char *const plans_text = "[plan free]\n"
				      "max_concurrent = 1\n"
				      "monthly_cpu_hours = 10\n"
				      "memory = 512M\n"
				      "cpus = 0.5\n"
				      "[plan pro]\n"
				      "inherit = free\n"
				      "max_concurrent = 4\n"
				      "memory = 2G\n"
				      "[plan team]\n"
				      "inherit = pro\n"
				      "weight = 300\n"
				      "[default]\n"
				      "plan = free\n"
				      "max_queued = 5\n"
				      "[user alice]\n"
				      "plan = team\n"
				      "memory = 3G\n"
				      "monthly_cpu_hours = unlimited\n"
				      "[user bob]\n"
				      "pids = 64\n";

static void test_plan_inherits_unset_keys_from_parent(void **state)
{
	struct policy *p = load_ok(plans_text);
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "team", &l), 0);
	assert_int_equal(l.weight, 300);       /* its own */
	assert_int_equal(l.max_concurrent, 4); /* from pro */
	assert_int_equal(l.memory_bytes, 2 * GiB);
	assert_int_equal(l.cpu_millis, 500); /* from free */
	assert_int_equal(l.monthly_cpu_ms, 10 * 3600 * 1000);
	assert_int_equal(l.pids, 256); /* built in */
	policy_free(p);
}

static void test_user_overrides_win_over_plan(void **state)
{
	struct policy *p = load_ok(plans_text);
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_limits_for(p, "alice", &l), 0);
	assert_string_equal(l.plan, "team");
	assert_int_equal(l.memory_bytes, 3 * GiB);
	assert_true(l.monthly_cpu_ms == POLICY_UNLIMITED);
	assert_int_equal(l.weight, 300);
	assert_int_equal(l.max_queued, 100); /* [default]'s override is not for alice */
	assert_true(policy_has_user(p, "alice"));
	policy_free(p);
}

static void test_user_without_plan_gets_default_plan(void **state)
{
	struct policy *p = load_ok(plans_text);
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_limits_for(p, "bob", &l), 0);
	assert_string_equal(l.plan, "free");
	assert_int_equal(l.pids, 64);
	assert_int_equal(l.max_queued, 100);
	policy_free(p);
}

static void test_unknown_user_gets_default_section(void **state)
{
	struct policy *p = load_ok(plans_text);
	struct policy_limits l;

	(void)state;
	assert_false(policy_has_user(p, "carol"));
	assert_int_equal(policy_limits_for(p, "carol", &l), 0);
	assert_string_equal(l.plan, "free");
	assert_int_equal(l.max_queued, 5);
	assert_int_equal(l.memory_bytes, 512 * MiB);
	assert_string_equal(policy_default_plan(p), "free");
	policy_free(p);
}

static void test_names_are_listed_sorted(void **state)
{
	struct policy *p = load_ok(plans_text);

	(void)state;
	assert_int_equal(policy_count(p, POLICY_PLANS), 3);
	assert_string_equal(policy_name_at(p, POLICY_PLANS, 0), "free");
	assert_string_equal(policy_name_at(p, POLICY_PLANS, 1), "pro");
	assert_string_equal(policy_name_at(p, POLICY_PLANS, 2), "team");
	assert_null(policy_name_at(p, POLICY_PLANS, 3));
	assert_int_equal(policy_count(p, POLICY_USERS), 2);
	assert_string_equal(policy_name_at(p, POLICY_USERS, 0), "alice");
	policy_free(p);
}

static void test_value_syntax_units(void **state)
{
	struct policy *p = load_ok("[plan x]\n"
				   "memory = 6144KiB\n"
				   "output_limit = 4096\n"
				   "max_task_seconds = 1h30m\n"
				   "max_cpu_seconds = 90\n"
				   "monthly_cpu_hours = 90m\n"
				   "cpus = 2.25\n"
				   "  weight = 7   ; indented, inline comment\n"
				   "# a comment\n"
				   "; another\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "x", &l), 0);
	assert_int_equal(l.memory_bytes, 6 * MiB);
	assert_int_equal(l.output_limit_bytes, 4096);
	assert_int_equal(l.max_task_seconds, 5400);
	assert_int_equal(l.max_cpu_seconds, 90);
	assert_int_equal(l.monthly_cpu_ms, 5400 * 1000);
	assert_int_equal(l.cpu_millis, 2250);
	assert_int_equal(l.weight, 7);
	policy_free(p);
}

static void test_crlf_and_bom_are_accepted(void **state)
{
	struct policy *p = load_ok("\xEF\xBB\xBF[plan x]\r\nmemory = 8M\r\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "x", &l), 0);
	assert_int_equal(l.memory_bytes, 8 * MiB);
	policy_free(p);
}

static void test_access_operators_users_and_tenants(void **state)
{
	struct policy *p = load_ok("[access]\n"
				   "operators = alice @wheel\n"
				   "operators = bob\n"
				   "users = carol, @students\n"
				   "tenant_from = group\n"
				   "tenant_map = jenkins:ci\n");
	const char *const wheel[] = { "users", "wheel", NULL };
	const char *const students[] = { "students", NULL };

	(void)state;
	assert_true(policy_is_operator(p, "alice", NULL));
	assert_true(policy_is_operator(p, "bob", NULL));
	assert_true(policy_is_operator(p, "dave", wheel));
	assert_false(policy_is_operator(p, "root", NULL)); /* the list replaced the default */
	assert_true(policy_may_use(p, "carol", NULL));
	assert_true(policy_may_use(p, "erin", students));
	assert_true(policy_may_use(p, "alice", NULL)); /* operators always may */
	assert_false(policy_may_use(p, "mallory", NULL));
	assert_string_equal(policy_tenant_of(p, "jenkins", "jenkins"), "ci");
	assert_string_equal(policy_tenant_of(p, "erin", "students"), "students");
	policy_free(p);
}

static void test_tenant_is_user_name_by_default(void **state)
{
	struct policy *p = load_ok("");

	(void)state;
	assert_string_equal(policy_tenant_of(p, "alice", "staff"), "alice");
	policy_free(p);
}

static void test_profile_keys_are_read(void **state)
{
	struct policy *p = load_ok("[profile py]\n"
				   "bind_ro = /opt/python\n"
				   "bind_rw = /srv/data:/data\n"
				   "tmpfs = /var/cache:16M\n"
				   "tmpfs = /scratch\n"
				   "tmp_size = 128M\n"
				   "work_size = 1G\n"
				   "env = LANG=C.UTF-8\n"
				   "env = PATH=/usr/bin:/bin\n"
				   "cwd = /work/src\n"
				   "hostname = sandbox-1\n"
				   "network = none\n"
				   "seccomp = strict\n"
				   "seccomp_allow = ptrace, personality\n"
				   "seccomp_deny = socket\n"
				   "uid = 2000\n"
				   "rlimit_nofile = 1024\n"
				   "rlimit_fsize = 2G\n"
				   "rlimit_stack = 16M\n");
	const struct policy_profile *pf = policy_profile(p, "py");

	(void)state;
	assert_non_null(pf);
	assert_int_equal(pf->n_binds, 2);
	assert_string_equal(pf->binds[0].source, "/opt/python");
	assert_string_equal(pf->binds[0].target, "/opt/python");
	assert_false(pf->binds[0].writable);
	assert_string_equal(pf->binds[1].source, "/srv/data");
	assert_string_equal(pf->binds[1].target, "/data");
	assert_true(pf->binds[1].writable);
	assert_int_equal(pf->n_tmpfs, 2);
	assert_int_equal(pf->tmpfs[0].size_bytes, 16 * MiB);
	assert_int_equal(pf->tmpfs[1].size_bytes, 64 * MiB);
	assert_int_equal(pf->tmp_bytes, 128 * MiB);
	assert_int_equal(pf->work_bytes, GiB);
	assert_string_equal(pf->env[0], "LANG=C.UTF-8");
	assert_string_equal(pf->env[1], "PATH=/usr/bin:/bin");
	assert_null(pf->env[2]);
	assert_string_equal(pf->cwd, "/work/src");
	assert_string_equal(pf->hostname, "sandbox-1");
	assert_int_equal(pf->seccomp, POLICY_SECCOMP_STRICT);
	assert_string_equal(pf->seccomp_allow[0], "ptrace");
	assert_string_equal(pf->seccomp_allow[1], "personality");
	assert_null(pf->seccomp_allow[2]);
	assert_string_equal(pf->seccomp_deny[0], "socket");
	assert_int_equal(pf->uid, 2000);
	assert_int_equal(pf->gid, 2000); /* follows uid */
	assert_int_equal(pf->rlimit_nofile, 1024);
	assert_int_equal(pf->rlimit_fsize, 2 * GiB);
	assert_int_equal(pf->rlimit_stack, 16 * MiB);
	assert_string_equal(pf->file, "t.conf");
	assert_int_equal(pf->line, 1);
	policy_free(p);
}

/* artifacts = GLOB ...: repeatable, blank-separated, in file order */
static void test_profile_artifacts_are_read_in_order(void **state)
{
	struct policy *p = load_ok(
		"[profile build]\nartifacts = out/*.log  report.html\nartifacts = dist/*\n");
	const struct policy_profile *pf = policy_profile(p, "build");

	(void)state;
	assert_non_null(pf);
	assert_string_equal(pf->artifacts[0], "out/*.log");
	assert_string_equal(pf->artifacts[1], "report.html");
	assert_string_equal(pf->artifacts[2], "dist/*");
	assert_null(pf->artifacts[3]);
	assert_null(policy_profile(p, "default")->artifacts);
	policy_free(p);
}

static void test_profile_defaults(void **state)
{
	struct policy *p = load_ok("[profile bare]\n");
	const struct policy_profile *pf = policy_profile(p, "bare");

	(void)state;
	assert_non_null(pf);
	assert_int_equal(pf->n_binds, 0);
	assert_null(pf->env);
	assert_null(pf->seccomp_allow);
	assert_string_equal(pf->cwd, "/work");
	assert_string_equal(pf->hostname, "corral");
	assert_int_equal(pf->seccomp, POLICY_SECCOMP_DEFAULT);
	assert_int_equal(pf->uid, 1000);
	assert_int_equal(pf->gid, 1000);
	assert_int_equal(pf->tmp_bytes, 64 * MiB);
	assert_int_equal(pf->rlimit_nofile, 256);
	assert_int_equal(pf->rlimit_fsize, GiB);
	assert_int_equal(pf->rlimit_stack, 8 * MiB);
	policy_free(p);
}

static void test_file_profile_default_replaces_builtin(void **state)
{
	struct policy *p = load_ok("[profile default]\nhostname = mine\n");

	(void)state;
	assert_int_equal(policy_count(p, POLICY_PROFILES), 1);
	assert_string_equal(policy_profile(p, "default")->hostname, "mine");
	policy_free(p);
}

static void test_plan_profile_must_be_defined_and_is_returned(void **state)
{
	struct policy *p = load_ok("[profile py]\n[plan pro]\nprofile = py\n[default]\nplan = pro\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_limits_for(p, "anyone", &l), 0);
	assert_string_equal(l.profile, "py");
	assert_non_null(policy_profile(p, l.profile));
	policy_free(p);
}

static void test_plan_profiles_allow_several_the_first_is_the_default(void **state)
{
	struct policy *p = load_ok("[profile java]\n[profile python]\n"
				   "[plan judge]\nprofiles = python, java default\n"
				   "[plan one]\nprofile = java\n[plan none]\n"
				   "[user bob]\nplan = judge\n[user eve]\nplan = judge\nprofile = default\n");
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_limits_for(p, "bob", &l), 0);
	assert_string_equal(l.profile, "python");
	assert_int_equal(l.n_profiles, 3);
	assert_true(policy_limits_allow_profile(&l, "java"));
	assert_true(policy_limits_allow_profile(&l, "default"));
	assert_false(policy_limits_allow_profile(&l, "other"));
	/* a user's `profile =` replaces the plan's list */
	assert_int_equal(policy_limits_for(p, "eve", &l), 0);
	assert_int_equal(l.n_profiles, 1);
	assert_false(policy_limits_allow_profile(&l, "java"));
	assert_int_equal(policy_plan_limits(p, "one", &l), 0);
	assert_int_equal(l.n_profiles, 1);
	assert_string_equal(l.profiles[0], "java");
	assert_int_equal(policy_plan_limits(p, "none", &l), 0);
	assert_string_equal(l.profile, "default");
	assert_true(policy_limits_allow_profile(&l, "default"));
	assert_false(policy_limits_allow_profile(&l, "java"));
	policy_free(p);
}

static void test_two_loads_are_independent(void **state)
{
	struct policy *a = load_ok("[plan x]\nmemory = 8M\n");
	struct policy *b = load_ok("[plan x]\nmemory = 16M\n");
	struct policy_limits l;

	(void)state;
	policy_free(a);
	assert_int_equal(policy_plan_limits(b, "x", &l), 0);
	assert_int_equal(l.memory_bytes, 16 * MiB);
	policy_free(b);
}

static void test_retry_keys_are_read_inherited_and_checked(void **state)
{
	struct policy *p = load_ok("[plan free]\nmax_attempts = 5\nretry_lost = yes\n"
				   "[plan pro]\ninherit = free\nretry_lost = No\n");
	struct policy_errors errors = { 0 };
	struct policy_limits l;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "free", &l), 0);
	assert_int_equal(l.max_attempts, 5);
	assert_true(l.retry_lost);
	assert_int_equal(policy_plan_limits(p, "pro", &l), 0);
	assert_int_equal(l.max_attempts, 5);
	assert_false(l.retry_lost);
	policy_free(p);
	load_bad("[plan x]\nretry_lost = maybe\n", &errors);
	assert_non_null(strstr(errors.items[0].message, "yes or no"));
	policy_errors_free(&errors);
	memset(&errors, 0, sizeof(errors));
	load_bad("[plan x]\nmax_attempts = 0\n", &errors);
	policy_errors_free(&errors);
}

static void test_failed_load_leaves_caller_errors_and_no_policy(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	const char *good = "[plan x]\n";

	(void)state;
	load_bad("[plan x]\nmemory = lots\n", &errors);
	/* Reusing a list that already holds errors: a good load still succeeds. */
	assert_int_equal(policy_load_buffer("t.conf", good, strlen(good), 0, &p, &errors), 0);
	assert_non_null(p);
	assert_int_equal(errors.count, 1);
	policy_free(p);
	policy_errors_free(&errors);
}

static void test_include_reads_sorted_files_relative_to_includer(void **state)
{
	char *dir = make_temp_dir();
	char path[4096];
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	struct policy_limits l;

	(void)state;
	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/policy.d"), 0755), 0);
	write_file(dir, "main.conf", "include = policy.d/*.conf\n[default]\nplan = b\n");
	write_file(dir, "policy.d/20-b.conf", "[plan b]\ninherit = a\nmemory = 64M\n");
	write_file(dir, "policy.d/10-a.conf", "[plan a]\npids = 32\n");
	write_file(dir, "policy.d/ignored.txt", "garbage\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(policy_load(path, &p, &errors), 0);
	assert_int_equal(policy_limits_for(p, "x", &l), 0);
	assert_int_equal(l.memory_bytes, 64 * MiB);
	assert_int_equal(l.pids, 32);
	assert_string_equal(policy_path(p), path);
	policy_free(p);
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_formatting_helpers(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(policy_format_size(512 * MiB, b, sizeof(b)), "512M");
	assert_string_equal(policy_format_size(1536, b, sizeof(b)), "1536");
	assert_string_equal(policy_format_size(3 * GiB, b, sizeof(b)), "3G");
	assert_string_equal(policy_format_duration_ms(90000, b, sizeof(b)), "90s");
	assert_string_equal(policy_format_duration_ms(7200000, b, sizeof(b)), "2h");
	assert_string_equal(policy_format_duration_ms(1500, b, sizeof(b)), "1500ms");
	assert_string_equal(policy_format_duration_ms(0, b, sizeof(b)), "0s");
	assert_string_equal(policy_format_cpus(500, b, sizeof(b)), "0.5");
	assert_string_equal(policy_format_cpus(2250, b, sizeof(b)), "2.25");
	assert_string_equal(policy_format_cpus(10, b, sizeof(b)), "0.01");
	assert_string_equal(policy_format_cpus(3000, b, sizeof(b)), "3");
}

static void test_example_policy_loads(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	struct policy_limits l;
	int r = policy_load("contrib/policy/corral.conf", &p, &errors);

	(void)state;
	for (size_t i = 0; i < errors.count; i++) {
		char line[1024];

		policy_error_format(&errors.items[i], line, sizeof(line));
		print_error("%s\n", line);
	}
	assert_int_equal(r, 0);
	assert_int_equal(policy_limits_for(p, "someone", &l), 0);
	assert_string_equal(l.plan, "free");
	assert_int_equal(policy_plan_limits(p, "operator", &l), 0);
	assert_true(l.monthly_cpu_ms == POLICY_UNLIMITED);
	policy_free(p);
	policy_errors_free(&errors);
}

/* A broken file's errors come in line order however many there are: the
 * reading pass finds the syntax errors, the building pass the bad values
 * (after all of them); both interleave over 300 lines. */
static void test_many_errors_come_in_line_order(void **state)
{
	struct policy_errors errors = { 0 };
	char text[8192];
	size_t off = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "[plan p%d]\ngarbage\nmemory = 1Q\n",
					i);
	load_bad(text, &errors);
	assert_int_equal(errors.count, 200);
	for (size_t i = 0; i < errors.count; i++) {
		assert_string_equal(errors.items[i].file, "t.conf");
		/* lines 2, 3, 5, 6, ...: the syntax error, then the value */
		assert_int_equal(errors.items[i].line, 3 * (i / 2) + 2 + i % 2);
	}
	policy_errors_free(&errors);
}

/* A freed policy's memory is kept for the next load (policy/arena.c): loads
 * of different sizes, freed in any order, never see each other's values. */
static void test_freed_policy_memory_is_reused_safely(void **state)
{
	char big[16384];
	size_t off = 0;
	struct policy *a, *b, *c;
	struct policy_limits l;

	(void)state;
	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "[plan p%d]\nmemory = %dM\n", i,
					64 + i);
	a = load_ok(big);
	b = load_ok("[plan small]\nmemory = 1G\n");
	policy_free(a); /* its block becomes the spare */
	c = load_ok("[plan other]\nmemory = 2G\n[user bob]\nplan = other\n");
	assert_int_equal(policy_plan_limits(b, "small", &l), 0);
	assert_int_equal(l.memory_bytes, 1 * GiB);
	assert_int_equal(policy_limits_for(c, "bob", &l), 0);
	assert_int_equal(l.memory_bytes, 2 * GiB);
	assert_int_equal(policy_count(c, POLICY_PLANS), 1);
	policy_free(b);
	policy_free(c);
	a = load_ok(big); /* bigger than the spare may be: a new block */
	assert_int_equal(policy_count(a, POLICY_PLANS), 200);
	assert_int_equal(policy_plan_limits(a, "p199", &l), 0);
	assert_int_equal((long long)l.memory_bytes, (64 + 199) * (long long)MiB);
	policy_free(a);
}

/* Each plan is resolved once, over its parent's result: a 20,000-plan
 * chain loads at once (walking every plan's whole chain took minutes). */
static void test_a_long_inherit_chain_resolves_in_one_pass(void **state)
{
	enum { PLANS = 20000 };
	size_t size = PLANS * 48, off = 0;
	char *text = malloc(size);
	struct policy *p;
	struct policy_limits l;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < PLANS - 1; i++)
		off += (size_t)snprintf(text + off, size - off, "[plan p%d]\ninherit = p%d\n", i, i + 1);
	off += (size_t)snprintf(text + off, size - off, "[plan p%d]\nmemory = 3G\n[user bob]\nplan = p0\n",
				PLANS - 1);
	assert_true(off < size);
	p = load_ok(text);
	assert_int_equal(policy_plan_limits(p, "p0", &l), 0);
	assert_int_equal(l.memory_bytes, 3 * GiB);
	assert_int_equal(policy_limits_for(p, "bob", &l), 0);
	assert_int_equal(l.memory_bytes, 3 * GiB);
	assert_string_equal(l.plan, "p0");
	policy_free(p);
	free(text);
}

/* Duplicates are found through a set, not by comparing each line with all
 * before it: 20,000 env and bind lines of one profile load at once (they
 * took 5 s each). */
static void test_a_profile_with_many_env_and_bind_lines_loads(void **state)
{
	enum { LINES = 20000 };
	size_t size = LINES * 48, off = 0;
	char *text = malloc(size);
	const struct policy_profile *pf;
	struct policy *p;
	size_t n_env = 0;

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, size - off, "[profile many]\n");
	for (int i = 0; i < LINES; i++)
		off += (size_t)snprintf(text + off, size - off, "env = V%d=1\nbind_ro = /opt/d%d\n", i, i);
	assert_true(off < size);
	p = load_ok(text);
	pf = policy_profile(p, "many");
	assert_non_null(pf);
	assert_int_equal(pf->n_binds, LINES);
	while (pf->env[n_env])
		n_env++;
	assert_int_equal(n_env, LINES);
	assert_string_equal(pf->env[LINES - 1], "V19999=1");
	policy_free(p);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy_has_defaults),
		cmocka_unit_test(test_many_errors_come_in_line_order),
		cmocka_unit_test(test_supervisor_values_are_read),
		cmocka_unit_test(test_plan_unset_keys_take_builtin_defaults),
		cmocka_unit_test(test_storage_keys_defaults_values_and_unlimited),
		cmocka_unit_test(test_retry_keys_are_read_inherited_and_checked),
		cmocka_unit_test(test_plan_inherits_unset_keys_from_parent),
		cmocka_unit_test(test_user_overrides_win_over_plan),
		cmocka_unit_test(test_user_without_plan_gets_default_plan),
		cmocka_unit_test(test_unknown_user_gets_default_section),
		cmocka_unit_test(test_names_are_listed_sorted),
		cmocka_unit_test(test_value_syntax_units),
		cmocka_unit_test(test_crlf_and_bom_are_accepted),
		cmocka_unit_test(test_access_operators_users_and_tenants),
		cmocka_unit_test(test_tenant_is_user_name_by_default),
		cmocka_unit_test(test_profile_keys_are_read),
		cmocka_unit_test(test_profile_defaults),
		cmocka_unit_test(test_profile_artifacts_are_read_in_order),
		cmocka_unit_test(test_file_profile_default_replaces_builtin),
		cmocka_unit_test(test_plan_profile_must_be_defined_and_is_returned),
		cmocka_unit_test(test_plan_profiles_allow_several_the_first_is_the_default),
		cmocka_unit_test(test_two_loads_are_independent),
		cmocka_unit_test(test_failed_load_leaves_caller_errors_and_no_policy),
		cmocka_unit_test(test_include_reads_sorted_files_relative_to_includer),
		cmocka_unit_test(test_formatting_helpers),
		cmocka_unit_test(test_example_policy_loads),
		cmocka_unit_test(test_http_section_listeners_and_limits),
		cmocka_unit_test(test_http_is_off_without_listen),
		cmocka_unit_test(test_freed_policy_memory_is_reused_safely),
		cmocka_unit_test(test_a_long_inherit_chain_resolves_in_one_pass),
		cmocka_unit_test(test_a_profile_with_many_env_and_bind_lines_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
