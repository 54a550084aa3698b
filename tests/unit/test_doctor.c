/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_doctor.c — `corral doctor`'s checks against fake hosts
 * built in a temporary directory (the checks read every file below a root
 * parameter): a good pure-v2 host, hosts lacking controllers (not
 * delegated, a process in the cgroup, no such controller), user namespaces
 * off, hybrid, v1 only, an old kernel, seccomp, a uid range overlapping
 * /etc/subuid and passwd, unsafe state and socket directories; and the
 * command's JSON output and exit code.
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "supervisor/corral/doctor_cmd.h"
#include "supervisor/doctor/doctor.h"

/* ---- a fake host ------------------------------------------------------ */

struct fake {
	char *root;
	struct doctor_host host;
	struct doctor_config config;
	struct doctor_report report;
};

static void mkdir_p(const char *path, mode_t mode)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0)
				assert_int_equal(errno, EEXIST);
			*s = '/';
		}
	if (mkdir(p, mode) < 0)
		assert_int_equal(errno, EEXIST);
	assert_int_equal(chmod(p, mode), 0);
}

static void put(struct fake *f, const char *rel, const char *text)
{
	char path[4096], dir[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir, 0755);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void dir(struct fake *f, const char *rel, mode_t mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	mkdir_p(path, mode);
}

static const char pure_v2_mountinfo[] =
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,hidepid=invisible\n"
	"25 1 0:23 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
	"26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:3 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static const char hybrid_mountinfo[] =
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char v1_only_mountinfo[] =
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n";

/* A good pure cgroup v2 host with a running corrald (pid 4242) in its
 * delegated systemd cgroup. */
static void good_host(struct fake *f)
{
	put(f, "/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	put(f, "/proc/sys/user/max_user_namespaces", "63431\n");
	put(f, "/proc/sys/kernel/unprivileged_userns_clone", "1\n");
	put(f, "/proc/sys/kernel/seccomp/actions_avail",
	    "kill_process kill_thread trap errno user_notif trace log allow\n");
	put(f, "/proc/self/mountinfo", pure_v2_mountinfo);
	put(f, "/proc/self/cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n");
	put(f, "/proc/4242/comm", "corrald\n");
	put(f, "/proc/4242/cgroup", "0::/system.slice/corrald.service/supervisor\n");
	put(f, "/proc/77/comm", "bash\n");
	put(f, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put(f, "/sys/fs/cgroup/cgroup.subtree_control", "cpu io memory pids\n");
	put(f, "/sys/fs/cgroup/system.slice/cgroup.controllers", "cpu io memory pids\n");
	put(f, "/sys/fs/cgroup/system.slice/cgroup.subtree_control", "cpu memory pids\n");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/cgroup.controllers", "cpu memory pids\n");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/cgroup.subtree_control", "cpu memory pids\n");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/cgroup.procs", "");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/supervisor/cgroup.procs", "4242\n");
	put(f, "/etc/systemd/system/corrald.service",
	    "[Service]\nType=notify\nDelegate=yes\nKillMode=process\nRestartForceExitStatus=75\n");
	put(f, "/etc/subuid", "alice:100000:65536\nbob:165536:65536\n");
	put(f, "/etc/subgid", "alice:100000:65536\nbob:165536:65536\n");
	put(f, "/etc/passwd",
	    "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
	put(f, "/etc/group", "root:x:0:\nalice:x:1000:\nnogroup:x:65534:\n");
	put(f, "/etc/login.defs", "SUB_UID_MIN\t\t   100000\nSUB_UID_MAX\t\t600100000\n");
	dir(f, "/var/lib/corral", 0711);
	dir(f, "/run/corral", 0755);
	assert_int_equal(chmod(f->root, 0755), 0);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(asprintf(&f->root, "%s/corral-doctor-XXXXXX", tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(f->root));
	f->host = (struct doctor_host){ .root = f->root,
					.trusted_uid = getuid(),
					.seccomp_prctl = DOCTOR_NOT_PROBED };
	f->config = (struct doctor_config){
		.uid_first = 700000000,
		.uid_last = 700065535,
		.max_running = 4,
		.state_dir = "/var/lib/corral",
		.socket = "/run/corral/corrald.sock",
		.cgroup_parent = "corral",
	};
	good_host(f);
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int teardown(void **state)
{
	struct fake *f = *state;

	nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	doctor_report_free(&f->report);
	free(f->root);
	free(f);
	return 0;
}

/* The finding for check: its verdict, and detail must contain each of the
 * NULL-terminated words. */
static void expect(const struct fake *f, const char *check, enum doctor_verdict verdict, ...)
{
	const struct doctor_finding *finding = doctor_report_find(&f->report, check);
	va_list ap;

	if (!finding)
		fail_msg("no finding '%s'", check);
	if (finding->verdict != verdict)
		fail_msg("%s: verdict %s, expected %s: %s", check,
			 doctor_report_verdict_name(finding->verdict), doctor_report_verdict_name(verdict),
			 finding->detail);
	va_start(ap, verdict);
	for (const char *w; (w = va_arg(ap, const char *));)
		if (!strstr(finding->detail, w))
			fail_msg("%s: '%s' not in: %s", check, w, finding->detail);
	va_end(ap);
	if (verdict == DOCTOR_FAIL && !*finding->fix)
		fail_msg("%s: a failure without a fix", check);
}

static void run_all(struct fake *f)
{
	doctor_report_free(&f->report);
	doctor_checks_run(&f->host, &f->config, &f->report);
	assert_false(f->report.out_of_memory);
}

/* ---- the good host ---------------------------------------------------- */

static void test_good_host_has_no_failure_and_no_warning_but_the_filesystem(void **state)
{
	struct fake *f = *state;

	run_all(f);
	for (size_t i = 0; i < f->report.count; i++) {
		const struct doctor_finding *x = &f->report.items[i];

		if (strcmp(x->check, "state_dir.filesystem") == 0)
			continue; /* TMPDIR may be a tmpfs: a warning there is right */
		if (x->verdict != DOCTOR_OK)
			fail_msg("%s: %s: %s", x->check, doctor_report_verdict_name(x->verdict), x->detail);
	}
	expect(f, "kernel", DOCTOR_OK, "6.1.0-18-amd64", NULL);
	expect(f, "cgroup.mode", DOCTOR_OK, "pure cgroup v2", NULL);
	expect(f, "cgroup.subtree", DOCTOR_OK, "running corrald (pid 4242)", "/system.slice/corrald.service",
	       NULL);
	expect(f, "cgroup.controller.memory", DOCTOR_OK, "enabled", NULL);
	expect(f, "cgroup.controller.pids", DOCTOR_OK, NULL);
	expect(f, "cgroup.controller.cpu", DOCTOR_OK, NULL);
	expect(f, "uid_range.subuid", DOCTOR_OK, NULL);
	expect(f, "proc.hidepid", DOCTOR_OK, NULL);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(doctor_report_verdict_name(DOCTOR_OK), "ok");
	assert_string_equal(doctor_report_verdict_name(DOCTOR_WARN), "warn");
	assert_string_equal(doctor_report_verdict_name(DOCTOR_FAIL), "fail");
	assert_string_equal(doctor_report_verdict_name(DOCTOR_SKIP), "skip");
}

/* ---- kernel ----------------------------------------------------------- */

static void test_old_kernel_fails_for_cgroup_kill_and_warns_for_memory_peak(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/sys/kernel/osrelease", "5.10.0-28-amd64\n");
	doctor_kernel_check(&f->host, &f->report);
	expect(f, "kernel", DOCTOR_FAIL, "5.10.0-28-amd64", "5.14", NULL);
	expect(f, "cgroup.kill", DOCTOR_FAIL, NULL);
	expect(f, "clone_into_cgroup", DOCTOR_OK, NULL);
	expect(f, "memory.peak", DOCTOR_WARN, NULL);
}

/* ---- user namespaces -------------------------------------------------- */

static void test_userns_disabled_fails(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/sys/user/max_user_namespaces", "0\n");
	doctor_kernel_check_userns(&f->host, &f->report);
	expect(f, "userns", DOCTOR_FAIL, "user.max_user_namespaces is 0", NULL);
}

static void test_kernel_without_userns_fails(void **state)
{
	struct fake *f = *state;
	char path[4096];

	snprintf(path, sizeof(path), "%s/proc/sys/user/max_user_namespaces", f->root);
	assert_int_equal(unlink(path), 0);
	doctor_kernel_check_userns(&f->host, &f->report);
	expect(f, "userns", DOCTOR_FAIL, "no user namespaces", NULL);
}

static void test_debian_unprivileged_switch_off_is_fine_for_a_root_runner(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/sys/kernel/unprivileged_userns_clone", "0\n");
	doctor_kernel_check_userns(&f->host, &f->report);
	expect(f, "userns", DOCTOR_OK, NULL);
	expect(f, "userns.unprivileged_clone", DOCTOR_OK, "= 0", "as root", NULL);
}

static void test_ubuntu_apparmor_restriction_is_explained(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
	doctor_kernel_check_userns(&f->host, &f->report);
	expect(f, "userns.apparmor", DOCTOR_OK, "= 1", "WITHOUT CAP_SYS_ADMIN", "exempt", NULL);
	assert_non_null(strstr(doctor_report_find(&f->report, "userns.apparmor")->fix, "userns,"));
}

/* ---- seccomp ---------------------------------------------------------- */

static void test_seccomp_missing_action_fails(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/sys/kernel/seccomp/actions_avail", "kill_thread trap errno allow\n");
	doctor_kernel_check_seccomp(&f->host, &f->report);
	expect(f, "seccomp", DOCTOR_FAIL, "kill_process", NULL);
}

static void test_seccomp_falls_back_to_prctl(void **state)
{
	struct fake *f = *state;
	char path[4096];

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/seccomp/actions_avail", f->root);
	assert_int_equal(unlink(path), 0);
	f->host.seccomp_prctl = 0;
	doctor_kernel_check_seccomp(&f->host, &f->report);
	expect(f, "seccomp", DOCTOR_OK, "prctl", NULL);
	doctor_report_free(&f->report);
	f->host.seccomp_prctl = -EINVAL;
	doctor_kernel_check_seccomp(&f->host, &f->report);
	expect(f, "seccomp", DOCTOR_FAIL, "no seccomp", NULL);
}

/* ---- cgroups ---------------------------------------------------------- */

static void test_hybrid_host_uses_v1_controllers(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/self/mountinfo", hybrid_mountinfo);
	put(f, "/proc/4242/cgroup", "4:memory:/\n8:pids:/\n1:cpu:/\n0::/\n");
	put(f, "/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.mode", DOCTOR_OK, "hybrid", "/sys/fs/cgroup/unified", NULL);
	expect(f, "cgroup.controller.memory", DOCTOR_OK, "/sys/fs/cgroup/memory", NULL);
	expect(f, "cgroup.controller.pids", DOCTOR_OK, "/sys/fs/cgroup/pids", NULL);
	expect(f, "cgroup.controller.cpu", DOCTOR_OK, "/sys/fs/cgroup/cpu", NULL);
}

static void test_v1_only_host_fails(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/self/mountinfo", v1_only_mountinfo);
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.mode", DOCTOR_FAIL, "v1 only", "memory", NULL);
	assert_non_null(strstr(doctor_report_find(&f->report, "cgroup.mode")->fix,
			       "systemd.unified_cgroup_hierarchy=1"));
	assert_null(doctor_report_find(&f->report, "cgroup.controller.memory"));
}

static void test_controllers_not_delegated_fail_with_delegate_fix(void **state)
{
	struct fake *f = *state;

	/* the slice enables nothing for corrald.service: no Delegate=yes */
	put(f, "/sys/fs/cgroup/system.slice/cgroup.subtree_control", "\n");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/cgroup.controllers", "\n");
	put(f, "/sys/fs/cgroup/system.slice/corrald.service/cgroup.subtree_control", "\n");
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.controller.memory", DOCTOR_FAIL, "not delegated", "/system.slice",
	       "subtree_control", NULL);
	expect(f, "cgroup.controller.pids", DOCTOR_FAIL, "not delegated", NULL);
	expect(f, "cgroup.controller.cpu", DOCTOR_WARN, "not delegated", NULL);
	assert_non_null(
		strstr(doctor_report_find(&f->report, "cgroup.controller.memory")->fix, "Delegate=yes"));
}

static void test_controller_missing_in_the_parent_with_processes_names_the_rule(void **state)
{
	struct fake *f = *state;

	/* corrald started by hand in a cgroup whose parent holds processes */
	put(f, "/proc/4242/cgroup", "0::/work/corrald\n");
	put(f, "/sys/fs/cgroup/work/cgroup.controllers", "cpu memory pids\n");
	put(f, "/sys/fs/cgroup/work/cgroup.subtree_control", "\n");
	put(f, "/sys/fs/cgroup/work/cgroup.procs", "77\n78\n");
	put(f, "/sys/fs/cgroup/work/corrald/cgroup.controllers", "\n");
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.controller.memory", DOCTOR_FAIL, "parent /work", "subtree_control", "77, 78",
	       "no-internal-process", NULL);
}

static void test_process_in_corrald_cgroup_blocks_enabling(void **state)
{
	struct fake *f = *state;

	/* no corrald, no systemd: judged for one started from this shell,
	 * whose cgroup holds the shell */
	put(f, "/proc/4242/comm", "sleep\n");
	put(f, "/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.controllers",
	    "cpu memory pids\n");
	put(f, "/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.subtree_control", "\n");
	put(f, "/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.procs", "1200\n1201\n");
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.subtree", DOCTOR_OK, "started from this shell", NULL);
	expect(f, "cgroup.controller.memory", DOCTOR_FAIL, "no-internal-process", "1200, 1201", NULL);
}

static void test_kernel_without_memory_controller_fails(void **state)
{
	struct fake *f = *state;

	put(f, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io pids\n");
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.controller.memory", DOCTOR_FAIL, "no memory controller", NULL);
	assert_non_null(strstr(doctor_report_find(&f->report, "cgroup.controller.memory")->fix,
			       "cgroup_disable=memory"));
	expect(f, "cgroup.controller.pids", DOCTOR_OK, NULL);
}

static void test_systemd_host_without_corrald_is_judged_as_the_unit(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/4242/comm", "sleep\n");
	dir(f, "/run/systemd/system", 0755);
	doctor_cgroup_check(&f->host, &f->config, &f->report);
	expect(f, "cgroup.subtree", DOCTOR_OK, "corrald.service", NULL);
	expect(f, "cgroup.controller.memory", DOCTOR_OK, "Delegate=yes", NULL);
}

/* ---- uids ------------------------------------------------------------- */

static void test_uid_range_overlapping_subuid_and_passwd_names_each(void **state)
{
	struct fake *f = *state;

	f->config.uid_first = 100000;
	f->config.uid_last = 165535;
	put(f, "/etc/subuid", "alice:100000:65536\nbob:165536:65536\ncarol:160000:10000\n");
	put(f, "/etc/passwd", "root:x:0:0::/root:/bin/sh\neve:x:100500:100500::/home/eve:/bin/sh\n");
	put(f, "/etc/group", "root:x:0:\neve:x:100500:\n");
	doctor_uids_check(&f->host, &f->config, &f->report);
	expect(f, "uid_range.subuid", DOCTOR_FAIL, "alice 100000-165535", "carol 160000-169999", NULL);
	assert_null(strstr(doctor_report_find(&f->report, "uid_range.subuid")->detail, "bob"));
	expect(f, "uid_range.subgid", DOCTOR_FAIL, "alice", NULL);
	expect(f, "uid_range.passwd", DOCTOR_FAIL, "eve (100500)", NULL);
	expect(f, "uid_range.group", DOCTOR_FAIL, "eve (100500)", NULL);
	expect(f, "uid_range.useradd", DOCTOR_WARN, "SUB_UID_MIN", NULL);
}

static void test_uid_range_smaller_than_max_running_fails(void **state)
{
	struct fake *f = *state;

	f->config.uid_last = f->config.uid_first + 1;
	doctor_uids_check(&f->host, &f->config, &f->report);
	expect(f, "uid_range", DOCTOR_FAIL, "max_running is 4", NULL);
}

/* ---- paths ------------------------------------------------------------ */

/* issue 17: an older unit with ProtectHome=/PrivateTmp= hides bind sources
 * from corrald under systemd only; the unit corral installs passes */
static void test_unit_hiding_home_and_tmp_warns_and_ours_passes(void **state)
{
	struct fake *f = *state;
	char *ours = NULL;
	size_t len = 0;
	FILE *fp = fopen("contrib/systemd/corrald.service", "re");

	put(f, "/etc/systemd/system/corrald.service",
	    "[Service]\nExecStart=/usr/local/sbin/corrald\nProtectHome=yes\n  PrivateTmp=true\n");
	run_all(f);
	expect(f, "systemd.unit", DOCTOR_WARN, "/etc/systemd/system/corrald.service",
	       "ProtectHome=yes hides /home", "PrivateTmp=true", NULL);
	put(f, "/etc/systemd/system/corrald.service", "[Service]\nProtectHome=no\nPrivateTmp=no\n");
	run_all(f);
	expect(f, "systemd.unit", DOCTOR_WARN, "no RestartForceExitStatus=75", NULL);
	assert_non_null(fp);
	assert_true(getdelim(&ours, &len, '\0', fp) > 0);
	fclose(fp);
	put(f, "/etc/systemd/system/corrald.service", ours);
	free(ours);
	run_all(f);
	expect(f, "systemd.unit", DOCTOR_OK, "sees the host's /home and /tmp", NULL);
}

static void test_world_writable_state_dir_fails(void **state)
{
	struct fake *f = *state;

	dir(f, "/var/lib/corral", 0777);
	doctor_paths_check(&f->host, &f->config, &f->report);
	expect(f, "state_dir", DOCTOR_FAIL, "/var/lib/corral", "writable by everyone", NULL);
}

static void test_missing_state_dir_is_measured_on_its_parent(void **state)
{
	struct fake *f = *state;

	f->config.state_dir = "/var/lib/corral/not/yet";
	doctor_paths_check(&f->host, &f->config, &f->report);
	expect(f, "state_dir", DOCTOR_OK, "does not exist yet", NULL);
	const struct doctor_finding *fs = doctor_report_find(&f->report, "state_dir.filesystem");
	assert_non_null(fs);
	assert_non_null(strstr(fs->detail, "MiB free"));
}

static void test_socket_dir_with_a_writable_parent_fails(void **state)
{
	struct fake *f = *state;

	dir(f, "/run", 0777);
	doctor_paths_check(&f->host, &f->config, &f->report);
	expect(f, "socket_dir", DOCTOR_FAIL, "/run is writable by everyone", NULL);
}

static void test_group_writable_socket_dir_fails(void **state)
{
	struct fake *f = *state;

	dir(f, "/run/corral", 0775);
	doctor_paths_check(&f->host, &f->config, &f->report);
	expect(f, "socket_dir", DOCTOR_FAIL, "/run/corral", "group", NULL);
}

static void test_proc_without_hidepid_warns(void **state)
{
	struct fake *f = *state;

	put(f, "/proc/self/mountinfo", hybrid_mountinfo);
	doctor_paths_check(&f->host, &f->config, &f->report);
	expect(f, "proc.hidepid", DOCTOR_WARN, "hidepid", NULL);
}

/* ---- the command ------------------------------------------------------ */

/* doctor_cmd_run with --root and a policy naming the good host's range;
 * its exit code and the JSON array. */
static int run_command(struct fake *f, json_t **array)
{
	char policy[4096], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	json_error_t error;

	snprintf(policy, sizeof(policy), "%s/policy.conf", f->root);
	FILE *p = fopen(policy, "w");
	assert_non_null(p);
	fputs("[supervisor]\nuid_range = 700000000-700065535\n", p);
	fclose(p);
	assert_non_null(out);
	struct doctor_cmd_options options = { .policy_path = policy, .json = true, .root = f->root };
	int rc = doctor_cmd_run(&options, out);
	fclose(out);
	*array = json_loads(text, 0, &error);
	if (!*array)
		fail_msg("not JSON (%s): %s", error.text, text);
	free(text);
	return rc;
}

static void test_command_json_on_good_host_exits_0(void **state)
{
	struct fake *f = *state;
	json_t *array, *item;
	size_t i;
	bool saw_jail = false;

	assert_int_equal(run_command(f, &array), 0);
	assert_true(json_is_array(array));
	json_array_foreach (array, i, item) {
		assert_non_null(json_string_value(json_object_get(item, "check")));
		assert_non_null(json_string_value(json_object_get(item, "verdict")));
		assert_non_null(json_string_value(json_object_get(item, "detail")));
		assert_non_null(json_object_get(item, "fix"));
		if (strcmp(json_string_value(json_object_get(item, "check")), "jail") == 0) {
			saw_jail = true;
			assert_string_equal(json_string_value(json_object_get(item, "verdict")), "skip");
		}
	}
	assert_true(saw_jail);
	json_decref(array);
}

static void test_command_exits_1_when_a_check_fails(void **state)
{
	struct fake *f = *state;
	json_t *array;

	put(f, "/proc/sys/user/max_user_namespaces", "0\n");
	assert_int_equal(run_command(f, &array), 1);
	json_decref(array);
}

static void test_command_bad_usage_exits_2(void **state)
{
	char *argv1[] = { "doctor", "--bogus", NULL };
	char *argv2[] = { "doctor", "extra", NULL };
	char *argv3[] = { "doctor", "--root", "relative", NULL };

	(void)state;
	assert_int_equal(doctor_cmd_main(2, argv1), 2);
	assert_int_equal(doctor_cmd_main(2, argv2), 2);
	assert_int_equal(doctor_cmd_main(3, argv3), 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_host_has_no_failure_and_no_warning_but_the_filesystem),
		cmocka_unit_test(test_verdict_names),
		T(test_old_kernel_fails_for_cgroup_kill_and_warns_for_memory_peak),
		T(test_userns_disabled_fails),
		T(test_kernel_without_userns_fails),
		T(test_debian_unprivileged_switch_off_is_fine_for_a_root_runner),
		T(test_ubuntu_apparmor_restriction_is_explained),
		T(test_seccomp_missing_action_fails),
		T(test_seccomp_falls_back_to_prctl),
		T(test_hybrid_host_uses_v1_controllers),
		T(test_v1_only_host_fails),
		T(test_controllers_not_delegated_fail_with_delegate_fix),
		T(test_controller_missing_in_the_parent_with_processes_names_the_rule),
		T(test_process_in_corrald_cgroup_blocks_enabling),
		T(test_kernel_without_memory_controller_fails),
		T(test_systemd_host_without_corrald_is_judged_as_the_unit),
		T(test_uid_range_overlapping_subuid_and_passwd_names_each),
		T(test_uid_range_smaller_than_max_running_fails),
		T(test_unit_hiding_home_and_tmp_warns_and_ours_passes),
		T(test_world_writable_state_dir_fails),
		T(test_missing_state_dir_is_measured_on_its_parent),
		T(test_socket_dir_with_a_writable_parent_fails),
		T(test_group_writable_socket_dir_fails),
		T(test_proc_without_hidepid_warns),
		T(test_command_json_on_good_host_exits_0),
		T(test_command_exits_1_when_a_check_fails),
		T(test_command_bad_usage_exits_2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
