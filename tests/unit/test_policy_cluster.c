/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_policy_cluster.c — the policy of a cluster's node
 * (policy/cluster.c): a node's own file keeps [supervisor] and [http], the
 * cluster's pushed text gives [access], [default], [plan], [user] and
 * [profile]; a per-host section in pushed text is an error at its
 * file:line; policy_cluster_text -> policy_load_node round-trips.
 */
#include "tests/unit/policy_helpers.h"

/* A node's file: per-host settings and cluster sections that a push replaces. */
static const char node_file[] = "[supervisor]\n"
				"max_running = 7\n"
				"uid_range = 800000000-800000099\n"
				"node_name = node-a\n"
				"\n"
				"[http]\n"
				"listen = 127.0.0.1:18080\n"
				"\n"
				"[access]\n"
				"operators = root\n"
				"\n"
				"[plan free]\n"
				"max_concurrent = 1\n"
				"\n"
				"[plan local-only]\n"
				"max_concurrent = 9\n"
				"\n"
				"[default]\n"
				"plan = free\n";

static const char pushed[] = "[access]\n"
			     "operators = root ops\n"
			     "\n"
			     "[plan free]\n"
			     "max_concurrent = 3\n"
			     "\n"
			     "[plan pro]\n"
			     "inherit = free\n"
			     "max_concurrent = 5\n"
			     "\n"
			     "[default]\n"
			     "plan = pro\n"
			     "\n"
			     "[user ci]\n"
			     "plan = free\n"
			     "max_concurrent = 2\n"
			     "\n"
			     "[profile fast]\n"
			     "tmp_size = 16M\n";

static char *dir_with(const char *name, const char *text, char *path, size_t size)
{
	char *dir = make_temp_dir();

	write_file(dir, name, text);
	snprintf(path, size, "%s/%s", dir, name);
	return dir;
}

static struct policy *node_ok(const char *path, const char *text)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char line[1024];
	int r = policy_load_node(path, "cluster", text, strlen(text), &p, &errors);

	for (size_t i = 0; i < errors.count; i++) {
		policy_error_format(&errors.items[i], line, sizeof(line));
		print_error("unexpected: %s\n", line);
	}
	assert_int_equal(r, 0);
	assert_non_null(p);
	policy_errors_free(&errors);
	return p;
}

static void test_node_keeps_its_per_host_sections(void **state)
{
	char path[4096];
	char *dir = dir_with("node.conf", node_file, path, sizeof(path));
	struct policy *p = node_ok(path, pushed);
	const struct policy_supervisor *sv = policy_supervisor(p);

	(void)state;
	assert_int_equal(sv->max_running, 7);
	assert_int_equal(sv->uid_first, 800000000);
	assert_int_equal(sv->uid_last, 800000099);
	assert_string_equal(sv->node_name, "node-a");
	assert_int_equal(policy_http(p)->n_listen, 1);
	assert_string_equal(policy_http(p)->listen[0].text, "127.0.0.1:18080");
	policy_free(p);
	remove_tree(dir);
}

static void test_cluster_sections_come_from_the_text(void **state)
{
	char path[4096];
	char *dir = dir_with("node.conf", node_file, path, sizeof(path));
	struct policy *p = node_ok(path, pushed);
	struct policy_limits lim;

	(void)state;
	assert_int_equal(policy_plan_limits(p, "free", &lim), 0);
	assert_int_equal(lim.max_concurrent, 3); /* the text's, not the file's 1 */
	assert_int_equal(policy_plan_limits(p, "pro", &lim), 0);
	assert_int_equal(lim.max_concurrent, 5);
	/* the file's own cluster-wide sections are gone */
	assert_int_equal(policy_plan_limits(p, "local-only", &lim), -ENOENT);
	assert_string_equal(policy_default_plan(p), "pro");
	assert_int_equal(policy_limits_for(p, "ci", &lim), 0);
	assert_int_equal(lim.max_concurrent, 2);
	assert_non_null(policy_profile(p, "fast"));
	assert_true(policy_is_operator(p, "ops", NULL));
	policy_free(p);
	remove_tree(dir);
}

static void test_empty_text_leaves_only_the_defaults(void **state)
{
	char path[4096];
	char *dir = dir_with("node.conf", node_file, path, sizeof(path));
	struct policy *p = node_ok(path, "");

	(void)state;
	assert_int_equal(policy_count(p, POLICY_PLANS), 0);
	assert_null(policy_default_plan(p));
	assert_int_equal(policy_supervisor(p)->max_running, 7);
	policy_free(p);
	remove_tree(dir);
}

static void expect_node_error(const char *text, const char *prefix, const char *needle)
{
	struct policy_errors errors = { 0 };
	struct policy *p = (struct policy *)1;
	char path[4096];
	char *dir = dir_with("node.conf", node_file, path, sizeof(path));

	assert_int_equal(policy_load_node(path, "pushed.conf", text, strlen(text), &p, &errors), -EINVAL);
	assert_null(p);
	assert_error_in(&errors, prefix, needle);
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_supervisor_in_pushed_text_is_an_error_at_its_line(void **state)
{
	(void)state;
	expect_node_error("[plan free]\nmax_concurrent = 2\n\n[supervisor]\nmax_running = 99\n",
			  "pushed.conf:4:", "[supervisor] is per host");
}

static void test_http_in_pushed_text_is_an_error_at_its_line(void **state)
{
	(void)state;
	expect_node_error("[http]\nlisten = 127.0.0.1:9\n", "pushed.conf:1:", "[http] is per host");
}

static void test_bad_line_in_pushed_text_is_reported_at_its_line(void **state)
{
	(void)state;
	expect_node_error("[plan free]\nmax_concurrent = 1\nmax_concurent = 2\n",
			  "pushed.conf:3:", "max_concurent");
}

static void test_include_in_pushed_text_is_refused(void **state)
{
	(void)state;
	expect_node_error("include = /etc/passwd\n[plan free]\n", "pushed.conf:1:", "not allowed");
}

static void test_errors_of_the_node_file_are_reported_too(void **state)
{
	struct policy_errors errors = { 0 };
	struct policy *p = (struct policy *)1;
	char path[4096];
	char *dir = dir_with("node.conf", "[supervisor]\nmax_runing = 3\n", path, sizeof(path));

	(void)state;
	assert_int_equal(policy_load_node(path, "pushed.conf", pushed, strlen(pushed), &p, &errors), -EINVAL);
	assert_null(p);
	assert_error_in(&errors, "", "max_runing");
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_cluster_text_leaves_per_host_sections_out(void **state)
{
	struct policy_errors errors = { 0 };
	char path[4096];
	char *dir = dir_with("node.conf", node_file, path, sizeof(path));
	char *text = NULL;

	(void)state;
	assert_int_equal(policy_cluster_text(path, &text, &errors), 0);
	assert_non_null(text);
	assert_null(strstr(text, "[supervisor]"));
	assert_null(strstr(text, "[http]"));
	assert_null(strstr(text, "max_running"));
	assert_non_null(strstr(text, "[plan local-only]"));
	assert_non_null(strstr(text, "[default]"));
	free(text);
	policy_errors_free(&errors);
	remove_tree(dir);
}

static void test_cluster_text_reports_the_file_errors(void **state)
{
	struct policy_errors errors = { 0 };
	char path[4096];
	char *dir = dir_with("node.conf", "[plan free\nmax_concurrent = 1\n", path, sizeof(path));
	char *text = (char *)1;

	(void)state;
	assert_int_equal(policy_cluster_text(path, &text, &errors), -EINVAL);
	assert_null(text);
	assert_true(errors.count > 0);
	policy_errors_free(&errors);
	remove_tree(dir);
}

/* The limits of every plan and tenant and the profiles are those of the
 * file itself after policy_cluster_text -> policy_load_node. */
static void test_round_trip_gives_the_same_policy(void **state)
{
	const char *main_text = "include = extra.conf\n"
				"[supervisor]\n"
				"max_running = 2\n"
				"[access]\n"
				"operators = root @wheel\n"
				"tenant_map = alice:team-a ; a comment\n"
				"[plan free]\n"
				"max_concurrent = 1\n"
				"monthly_cpu_hours = 10\n"
				"memory = 512M\n"
				"[plan pro]\n"
				"inherit = free\n"
				"max_concurrent = 4\n"
				"profiles = python default\n"
				"[default]\n"
				"plan = free\n"
				"[user ci]\n"
				"plan = pro\n"
				"max_concurrent = 8\n";
	const char *extra_text = "[profile python]\n"
				 "env = PATH=/usr/bin:/bin\n"
				 "env = LANG=C.UTF-8\n"
				 "tmp_size = 256M\n"
				 "seccomp_deny = ptrace\n";
	struct policy_errors errors = { 0 };
	struct policy *file = NULL, *node;
	struct policy_limits a, b;
	char path[4096];
	char *dir = dir_with("main.conf", main_text, path, sizeof(path));
	char *text = NULL;

	(void)state;
	write_file(dir, "extra.conf", extra_text);
	assert_int_equal(policy_load(path, &file, &errors), 0);
	assert_int_equal(policy_cluster_text(path, &text, &errors), 0);
	node = node_ok(path, text);
	for (enum policy_kind k = POLICY_PLANS; k <= POLICY_PROFILES; k++) {
		assert_int_equal(policy_count(node, k), policy_count(file, k));
		for (size_t i = 0; i < policy_count(file, k); i++)
			assert_string_equal(policy_name_at(node, k, i), policy_name_at(file, k, i));
	}
	for (size_t i = 0; i < policy_count(file, POLICY_PLANS); i++) {
		assert_int_equal(policy_plan_limits(file, policy_name_at(file, POLICY_PLANS, i), &a), 0);
		assert_int_equal(policy_plan_limits(node, policy_name_at(file, POLICY_PLANS, i), &b), 0);
		assert_int_equal(a.max_concurrent, b.max_concurrent);
		assert_int_equal(a.monthly_cpu_ms, b.monthly_cpu_ms);
		assert_int_equal(a.memory_bytes, b.memory_bytes);
		assert_int_equal(a.n_profiles, b.n_profiles);
	}
	assert_int_equal(policy_limits_for(node, "ci", &b), 0);
	assert_int_equal(b.max_concurrent, 8);
	assert_string_equal(policy_tenant_of(node, "alice", "alice"), "team-a");
	assert_true(policy_is_operator(node, "x", (const char *const[]){ "wheel", NULL }));
	{
		const struct policy_profile *pa = policy_profile(file, "python"),
					    *pb = policy_profile(node, "python");

		assert_non_null(pb);
		assert_int_equal(pa->tmp_bytes, pb->tmp_bytes);
		assert_string_equal(pa->env[0], pb->env[0]);
		assert_string_equal(pa->env[1], pb->env[1]);
		assert_string_equal(pa->seccomp_deny[0], pb->seccomp_deny[0]);
	}
	assert_int_equal(policy_supervisor(node)->max_running, 2);
	free(text);
	policy_free(file);
	policy_free(node);
	policy_errors_free(&errors);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_keeps_its_per_host_sections),
		cmocka_unit_test(test_cluster_sections_come_from_the_text),
		cmocka_unit_test(test_empty_text_leaves_only_the_defaults),
		cmocka_unit_test(test_supervisor_in_pushed_text_is_an_error_at_its_line),
		cmocka_unit_test(test_http_in_pushed_text_is_an_error_at_its_line),
		cmocka_unit_test(test_bad_line_in_pushed_text_is_reported_at_its_line),
		cmocka_unit_test(test_include_in_pushed_text_is_refused),
		cmocka_unit_test(test_errors_of_the_node_file_are_reported_too),
		cmocka_unit_test(test_cluster_text_leaves_per_host_sections_out),
		cmocka_unit_test(test_cluster_text_reports_the_file_errors),
		cmocka_unit_test(test_round_trip_gives_the_same_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
