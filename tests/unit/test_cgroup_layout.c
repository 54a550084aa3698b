/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_cgroup_layout.c — the pure cgroup layout parsing: where
 * the hierarchies are mounted (mountinfo), where the caller sits in each
 * (/proc/self/cgroup), the leaf's path below a mount, keyed files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runner/cgroup_layout.h"

static const char hybrid_mountinfo[] =
	"22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_self[] = "9:name=systemd:/\n"
				  "8:pids:/\n"
				  "4:memory:/process_api/41422da83b395c7c7b42fd58bdab7900\n"
				  "2:cpuacct:/\n"
				  "1:cpu:/\n"
				  "0::/\n";

static const char pure_v2_mountinfo[] =
	"25 1 0:23 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
	"26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:3 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static const char pure_v2_self[] = "0::/system.slice/corrald.service/supervisor\n";

static void parse(struct cgroup_layout *layout, const char *mountinfo, const char *self)
{
	memset(layout, 0, sizeof(*layout));
	assert_int_equal(cgroup_layout_parse_mountinfo(mountinfo, layout), 0);
	assert_int_equal(cgroup_layout_parse_self(self, layout), 0);
}

static void test_hybrid_finds_unified_and_each_v1_controller(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, hybrid_mountinfo, hybrid_self);
	assert_true(layout.unified.mounted);
	assert_string_equal(layout.unified.mount, "/sys/fs/cgroup/unified");
	assert_string_equal(layout.unified.own, "/");
	assert_string_equal(layout.v1[CGROUP_MEMORY].mount, "/sys/fs/cgroup/memory");
	assert_string_equal(layout.v1[CGROUP_MEMORY].own, "/process_api/41422da83b395c7c7b42fd58bdab7900");
	assert_string_equal(layout.v1[CGROUP_PIDS].mount, "/sys/fs/cgroup/pids");
	assert_string_equal(layout.v1[CGROUP_CPU].mount, "/sys/fs/cgroup/cpu");
	assert_string_equal(layout.v1[CGROUP_CPUACCT].mount, "/sys/fs/cgroup/cpuacct");
	assert_true(layout.v1[CGROUP_CPU].own_known);
}

static void test_hybrid_memory_leaf_sits_below_own_cgroup(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, hybrid_mountinfo, hybrid_self);
	assert_int_equal(cgroup_layout_relative(&layout.v1[CGROUP_MEMORY], "corral", "jail-1", rel,
						sizeof(rel)),
			 0);
	assert_string_equal(rel, "process_api/41422da83b395c7c7b42fd58bdab7900/corral/jail-1");
	assert_int_equal(cgroup_layout_relative(&layout.v1[CGROUP_PIDS], "corral", "jail-1", rel,
						sizeof(rel)),
			 0);
	assert_string_equal(rel, "corral/jail-1");
}

static void test_pure_v2_has_unified_only(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, pure_v2_mountinfo, pure_v2_self);
	assert_true(layout.unified.mounted);
	assert_string_equal(layout.unified.mount, "/sys/fs/cgroup");
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		assert_false(layout.v1[c].mounted);
	assert_int_equal(cgroup_layout_relative(&layout.unified, "tasks", "42", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "system.slice/corrald.service/supervisor/tasks/42");
}

static void test_missing_controller_is_not_mounted(void **state)
{
	static struct cgroup_layout layout;
	static const char no_memory[] =
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
		"38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";

	parse(&layout, no_memory, "3:cpu,cpuacct:/a\n2:pids:/\n");
	assert_false(layout.v1[CGROUP_MEMORY].mounted);
	assert_false(layout.unified.mounted);
	assert_true(layout.v1[CGROUP_PIDS].mounted);
}

static void test_comounted_cpu_cpuacct_share_mount_and_own(void **state)
{
	static struct cgroup_layout layout;
	static const char comounted[] =
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";

	parse(&layout, comounted, "3:cpu,cpuacct:/a\n");
	assert_string_equal(layout.v1[CGROUP_CPU].mount, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(layout.v1[CGROUP_CPUACCT].mount, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(layout.v1[CGROUP_CPU].own, "/a");
	assert_string_equal(layout.v1[CGROUP_CPUACCT].own, "/a");
}

static void test_name_option_is_not_a_controller(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, "39 30 0:36 / /sys/fs/cgroup/x rw - cgroup cgroup rw,name=memory\n",
	      "9:name=memory:/\n");
	assert_false(layout.v1[CGROUP_MEMORY].mounted);
	assert_false(layout.v1[CGROUP_MEMORY].own_known);
}

static void test_optional_fields_before_dash_are_skipped(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, "40 30 0:37 / /cg rw,relatime shared:9 master:3 propagate_from:2 - cgroup2 none rw\n",
	      "0::/x\n");
	assert_true(layout.unified.mounted);
	assert_string_equal(layout.unified.mount, "/cg");
}

static void test_escaped_mount_point_is_unescaped(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, "40 30 0:37 / /mnt/my\\040cgroup\\134x rw - cgroup2 cgroup2 rw\n", "0::/\n");
	assert_string_equal(layout.unified.mount, "/mnt/my cgroup\\x");
}

static void test_first_mount_of_a_hierarchy_wins(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout,
	      "40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
	      "41 30 0:37 / /tmp/bind rw - cgroup2 cgroup2 rw\n",
	      "0::/\n");
	assert_string_equal(layout.unified.mount, "/sys/fs/cgroup");
}

static void test_own_path_with_colon_is_kept_whole(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, pure_v2_mountinfo, "0::/a:b/c\n");
	assert_string_equal(layout.unified.own, "/a:b/c");
}

static void test_mount_root_is_stripped_from_the_leaf(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	/* a container sees only /docker/abc of the hierarchy, mounted at /sys/fs/cgroup */
	parse(&layout, "40 30 0:37 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	      "0::/docker/abc/sup\n");
	assert_string_equal(layout.unified.root, "/docker/abc");
	assert_int_equal(cgroup_layout_relative(&layout.unified, "corral", "j", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "sup/corral/j");
}

static void test_own_cgroup_outside_the_mount_is_enoent(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, "40 30 0:37 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	      "0::/docker/abcdef\n");
	assert_int_equal(cgroup_layout_relative(&layout.unified, "corral", "j", rel, sizeof(rel)), -ENOENT);
}

static void test_unknown_own_cgroup_is_enoent(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, hybrid_mountinfo, "0::/\n");
	assert_int_equal(cgroup_layout_relative(&layout.v1[CGROUP_MEMORY], "corral", "j", rel, sizeof(rel)),
			 -ENOENT);
}

static void test_absolute_parent_ignores_own_cgroup(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, pure_v2_mountinfo, pure_v2_self);
	assert_int_equal(cgroup_layout_relative(&layout.unified, "/corral.slice//tasks/", "j", rel,
						sizeof(rel)),
			 0);
	assert_string_equal(rel, "corral.slice/tasks/j");
}

static void test_own_cgroup_itself_is_empty_path_at_root(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];

	parse(&layout, hybrid_mountinfo, hybrid_self);
	assert_int_equal(cgroup_layout_relative(&layout.unified, NULL, NULL, rel, sizeof(rel)), 0);
	assert_string_equal(rel, "");
}

static void test_bad_names_are_refused(void **state)
{
	static struct cgroup_layout layout;
	char rel[PATH_MAX];
	const char *bad[] = { "", ".", "..", "a/b", "x\ny" };

	parse(&layout, pure_v2_mountinfo, pure_v2_self);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cgroup_layout_relative(&layout.unified, "p", bad[i], rel, sizeof(rel)),
				 -EINVAL);
	assert_int_equal(cgroup_layout_relative(&layout.unified, "a/../..", "j", rel, sizeof(rel)), -EINVAL);
	assert_int_equal(cgroup_layout_relative(&layout.unified, "/..", "j", rel, sizeof(rel)), -EINVAL);
}

static void test_too_long_leaf_is_enametoolong(void **state)
{
	static struct cgroup_layout layout;
	char rel[16];

	parse(&layout, pure_v2_mountinfo, pure_v2_self);
	assert_int_equal(cgroup_layout_relative(&layout.unified, "corral", "j", rel, sizeof(rel)),
			 -ENAMETOOLONG);
}

static void test_controllers_text_becomes_mask(void **state)
{
	assert_int_equal(cgroup_layout_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
			 (1u << CGROUP_CPU) | (1u << CGROUP_MEMORY) | (1u << CGROUP_PIDS));
	assert_int_equal(cgroup_layout_parse_controllers("hugetlb\n"), 0);
	assert_int_equal(cgroup_layout_parse_controllers(""), 0);
	assert_int_equal(cgroup_layout_parse_controllers("cpuacct"), 1u << CGROUP_CPUACCT);
}

static void test_keyed_value_is_found_by_whole_key(void **state)
{
	uint64_t v = 0;
	static const char oom_control[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";

	assert_int_equal(cgroup_parse_keyed(oom_control, "oom_kill", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cgroup_parse_keyed("populated 1\nfrozen 0\n", "populated", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cgroup_parse_keyed("usage_usec 18446744073709551615\n", "usage_usec", &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_keyed_missing_key_is_enoent(void **state)
{
	uint64_t v;

	assert_int_equal(cgroup_parse_keyed("user_usec 5\n", "usage_usec", &v), -ENOENT);
	assert_int_equal(cgroup_parse_keyed("", "populated", &v), -ENOENT);
}

static void test_keyed_garbage_value_is_einval(void **state)
{
	uint64_t v;

	assert_int_equal(cgroup_parse_keyed("populated yes\n", "populated", &v), -EINVAL);
	assert_int_equal(cgroup_parse_keyed("populated 1x\n", "populated", &v), -EINVAL);
	assert_int_equal(cgroup_parse_keyed("populated -1\n", "populated", &v), -EINVAL);
}

static void test_memory_limit_without_memory_controller_says_so(void **state)
{
	static struct cgroup_layout layout;
	struct jail_error err;

	parse(&layout,
	      "31 30 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	      "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
	      "2:pids:/\n0::/\n");
	assert_int_equal(cgroup_layout_check_limits(&layout, 1 << 20, 0, 0, &err), -ENODEV);
	assert_string_equal(err.message,
			    "memory limit requested but no memory controller is available "
			    "(neither cgroup v2 memory nor a v1 memory hierarchy): No such device");
	assert_int_equal(cgroup_layout_check_limits(&layout, 0, 10, 0, &err), 0);
}

static void test_v2_controllers_satisfy_limits(void **state)
{
	static struct cgroup_layout layout;
	struct jail_error err;

	parse(&layout, pure_v2_mountinfo, pure_v2_self);
	layout.v2_controllers = cgroup_layout_parse_controllers("cpu memory pids\n");
	assert_int_equal(cgroup_layout_home(&layout, CGROUP_MEMORY), CGROUP_HOME_V2);
	assert_int_equal(cgroup_layout_check_limits(&layout, 1 << 20, 10, 500, &err), 0);
}

static void test_v1_hierarchy_wins_over_unified(void **state)
{
	static struct cgroup_layout layout;

	parse(&layout, hybrid_mountinfo, hybrid_self);
	layout.v2_controllers = cgroup_layout_parse_controllers("memory\n");
	assert_int_equal(cgroup_layout_home(&layout, CGROUP_MEMORY), CGROUP_HOME_V1);
}

/* A CPU share as the quota files say it (corral submit --cpus 0.5 -> 50 ms
 * per 100 ms period): v2's cpu.max, v1's cpu.cfs_quota_us. */
static void test_cpu_share_becomes_the_quota_files(void **state)
{
	static const struct {
		uint32_t millis;
		uint64_t quota_us;
		const char *cpu_max;
	} cases[] = {
		{ 500, 50000, "50000 100000" },
		{ 10, 1000, "1000 100000" },
		{ 2000, 200000, "200000 100000" },
		{ 1250, 125000, "125000 100000" },
		{ 1024000, 102400000, "102400000 100000" },
		{ 0, 0, "max 100000" },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cgroup_layout_cpu_quota_us(cases[i].millis), cases[i].quota_us);
		cgroup_layout_cpu_max(cases[i].millis, text, sizeof(text));
		assert_string_equal(text, cases[i].cpu_max);
	}
}

static void test_cpu_quota_below_one_ms_per_period_is_einval(void **state)
{
	static struct cgroup_layout layout;
	struct jail_error err;

	parse(&layout, hybrid_mountinfo, hybrid_self);
	assert_int_equal(cgroup_layout_check_limits(&layout, 0, 0, 9, &err), -EINVAL);
	assert_non_null(strstr(err.message, "below the minimum of 10"));
	assert_int_equal(cgroup_layout_check_limits(&layout, 0, 0, 10, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hybrid_finds_unified_and_each_v1_controller),
		cmocka_unit_test(test_cpu_share_becomes_the_quota_files),
		cmocka_unit_test(test_hybrid_memory_leaf_sits_below_own_cgroup),
		cmocka_unit_test(test_pure_v2_has_unified_only),
		cmocka_unit_test(test_missing_controller_is_not_mounted),
		cmocka_unit_test(test_comounted_cpu_cpuacct_share_mount_and_own),
		cmocka_unit_test(test_name_option_is_not_a_controller),
		cmocka_unit_test(test_optional_fields_before_dash_are_skipped),
		cmocka_unit_test(test_escaped_mount_point_is_unescaped),
		cmocka_unit_test(test_first_mount_of_a_hierarchy_wins),
		cmocka_unit_test(test_own_path_with_colon_is_kept_whole),
		cmocka_unit_test(test_mount_root_is_stripped_from_the_leaf),
		cmocka_unit_test(test_own_cgroup_outside_the_mount_is_enoent),
		cmocka_unit_test(test_unknown_own_cgroup_is_enoent),
		cmocka_unit_test(test_absolute_parent_ignores_own_cgroup),
		cmocka_unit_test(test_own_cgroup_itself_is_empty_path_at_root),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_too_long_leaf_is_enametoolong),
		cmocka_unit_test(test_controllers_text_becomes_mask),
		cmocka_unit_test(test_keyed_value_is_found_by_whole_key),
		cmocka_unit_test(test_keyed_missing_key_is_enoent),
		cmocka_unit_test(test_keyed_garbage_value_is_einval),
		cmocka_unit_test(test_memory_limit_without_memory_controller_says_so),
		cmocka_unit_test(test_v2_controllers_satisfy_limits),
		cmocka_unit_test(test_v1_hierarchy_wins_over_unified),
		cmocka_unit_test(test_cpu_quota_below_one_ms_per_period_is_einval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
