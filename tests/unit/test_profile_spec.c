/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_profile_spec.c — a policy profile + limits as a
 * struct jail_spec: what is taken from where, what the caller keeps, and
 * that the result outlives the policy.
 */
#include "supervisor/jailspec/jailspec.h"
#include "tests/unit/policy_helpers.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static const char *const text = "[profile py]\n"
				"bind_rw = /srv/data:/data\n"
				"bind_ro = /opt/python\n"
				"tmpfs = /opt/python/cache:8M\n"
				"env = LANG=C.UTF-8\n"
				"cwd = /work/src\n"
				"hostname = box\n"
				"seccomp = strict\n"
				"seccomp_allow = ptrace\n"
				"uid = 2000\n"
				"gid = 3000\n"
				"tmp_size = 32M\n"
				"work_size = 128M\n"
				"rlimit_nofile = 512\n"
				"[plan pro]\n"
				"memory = 2G\n"
				"pids = 100\n"
				"cpus = 1.5\n"
				"max_task_seconds = 1m\n"
				"max_cpu_seconds = 30\n"
				"output_limit = 1M\n"
				"profile = py\n"
				"[plan free]\n"
				"[user alice]\n"
				"plan = pro\n"
				"[user bob]\n"
				"plan = free\n";

static void test_profile_fields_fill_the_spec(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;
	const struct jail_spec *s = &ps.spec;

	(void)state;
	assert_int_equal(jailspec_build(&ps, NULL, policy_profile(p, "py"), NULL, &err), 0);
	assert_int_equal(s->n_mounts, 3);
	/* Sorted by target, parents before children. */
	assert_string_equal(s->mounts[0].target, "/data");
	assert_int_equal(s->mounts[0].kind, JAIL_MOUNT_BIND_RW);
	assert_string_equal(s->mounts[0].source, "/srv/data");
	assert_string_equal(s->mounts[1].target, "/opt/python");
	assert_int_equal(s->mounts[1].kind, JAIL_MOUNT_BIND_RO);
	assert_string_equal(s->mounts[2].target, "/opt/python/cache");
	assert_int_equal(s->mounts[2].kind, JAIL_MOUNT_TMPFS);
	assert_null(s->mounts[2].source);
	assert_int_equal(s->mounts[2].size_bytes, 8 * MiB);
	assert_string_equal(s->env[0], "LANG=C.UTF-8");
	assert_null(s->env[1]);
	assert_string_equal(s->cwd, "/work/src");
	assert_string_equal(s->hostname, "box");
	assert_int_equal(s->seccomp, JAIL_SECCOMP_STRICT);
	assert_true(jailspec_needs_filter(&ps));
	assert_string_equal(ps.seccomp_allow[0], "ptrace");
	assert_null(ps.seccomp_deny);
	assert_int_equal(s->uid, 2000);
	assert_int_equal(s->gid, 3000);
	assert_int_equal(s->tmp_bytes, 32 * MiB);
	assert_int_equal(s->work_bytes, 128 * MiB);
	assert_int_equal(s->rlimit_nofile, 512);
	assert_int_equal(s->rlimit_fsize, GiB);
	/* No limits given: none set. */
	assert_int_equal(s->memory_bytes, 0);
	assert_int_equal(s->wall_time_ms, 0);
	jailspec_free(&ps);
	policy_free(p);
}

static void test_limits_fill_the_spec(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct policy_limits l;
	struct jail_error err;

	(void)state;
	assert_int_equal(policy_limits_for(p, "alice", &l), 0);
	assert_int_equal(jailspec_build(&ps, NULL, policy_profile(p, l.profile), &l, &err), 0);
	assert_int_equal(ps.spec.memory_bytes, 2 * GiB);
	assert_int_equal(ps.spec.pids_max, 100);
	assert_int_equal(ps.spec.cpu_millis, 1500);
	assert_int_equal(ps.spec.wall_time_ms, 60000);
	assert_int_equal(ps.spec.cpu_time_ms, 30000);
	assert_int_equal(ps.spec.output_limit, MiB);
	jailspec_free(&ps);
	policy_free(p);
}

static void test_base_fields_outside_the_profile_are_kept(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;
	struct jail_spec base;
	char *argv[] = { "true", NULL };

	(void)state;
	memset(&base, 0, sizeof(base));
	base.argv = argv;
	base.host_uid = 123456;
	base.host_gid = 123456;
	base.cgroup_parent = "corral";
	base.stdout_path = "/tmp/out";
	base.memory_bytes = 42; /* no limits passed: the base value stays */
	assert_int_equal(jailspec_from_policy(&ps, &base, p, "default", NULL, &err), 0);
	assert_ptr_equal(ps.spec.argv, argv);
	assert_int_equal(ps.spec.host_uid, 123456);
	assert_string_equal(ps.spec.cgroup_parent, "corral");
	assert_string_equal(ps.spec.stdout_path, "/tmp/out");
	assert_int_equal(ps.spec.memory_bytes, 42);
	assert_int_equal(ps.spec.n_mounts, 0);
	assert_null(ps.spec.env); /* the runner's default environment */
	assert_false(jailspec_needs_filter(&ps));
	assert_string_equal(ps.spec.hostname, "corral");
	assert_int_equal(ps.spec.uid, 1000);
	jailspec_free(&ps);
	policy_free(p);
}

static void test_tenant_profile_is_used_when_none_named(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;

	(void)state;
	assert_int_equal(jailspec_from_policy(&ps, NULL, p, NULL, "alice", &err), 0);
	assert_string_equal(ps.spec.hostname, "box"); /* profile py */
	assert_int_equal(ps.spec.memory_bytes, 2 * GiB);
	jailspec_free(&ps);
	/* An explicit profile wins over the plan's; the tenant's limits stay. */
	assert_int_equal(jailspec_from_policy(&ps, NULL, p, "default", "alice", &err), 0);
	assert_string_equal(ps.spec.hostname, "corral");
	assert_int_equal(ps.spec.memory_bytes, 2 * GiB);
	jailspec_free(&ps);
	policy_free(p);
}

static void test_spec_outlives_the_policy(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;

	(void)state;
	assert_int_equal(jailspec_from_policy(&ps, NULL, p, "py", "bob", &err), 0);
	policy_free(p); /* e.g. a reload swapped it */
	assert_string_equal(ps.spec.mounts[1].source, "/opt/python");
	assert_string_equal(ps.spec.cwd, "/work/src");
	assert_int_equal(ps.spec.memory_bytes, 512 * MiB); /* free: built-in default */
	jailspec_free(&ps);
}

static void test_missing_profile_is_enoent(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;

	(void)state;
	assert_int_equal(jailspec_from_policy(&ps, NULL, p, "nope", NULL, &err), -ENOENT);
	assert_string_equal(err.message, "t.conf has no [profile nope]");
	jailspec_free(&ps); /* zeroed: safe */
	policy_free(p);
}

static void test_tenant_without_section_or_default_is_enoent(void **state)
{
	struct policy *p = load_ok(text);
	struct jailspec ps;
	struct jail_error err;

	(void)state;
	assert_int_equal(jailspec_from_policy(&ps, NULL, p, NULL, "mallory", &err), -ENOENT);
	assert_non_null(strstr(err.message, "tenant 'mallory' has no [user] section"));
	assert_int_equal(err.err, ENOENT);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_fields_fill_the_spec),
		cmocka_unit_test(test_limits_fill_the_spec),
		cmocka_unit_test(test_base_fields_outside_the_profile_are_kept),
		cmocka_unit_test(test_tenant_profile_is_used_when_none_named),
		cmocka_unit_test(test_spec_outlives_the_policy),
		cmocka_unit_test(test_missing_profile_is_enoent),
		cmocka_unit_test(test_tenant_without_section_or_default_is_enoent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
