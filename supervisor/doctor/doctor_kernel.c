/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_kernel.c — the kernel: its version and the
 * features corral relies on, user namespaces, seccomp.  Reads /proc/sys
 * below the host's root; the seccomp prctl result comes from the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/doctor/doctor_internal.h"

#define UPGRADE_FIX "upgrade the kernel (Debian 12 ships 6.1, Ubuntu 22.04 5.15, RHEL 9 5.14)"

/* "6.1.0-18-amd64" -> 6, 1.  false when it does not start with N.N. */
static bool parse_release(const char *text, unsigned *major, unsigned *minor)
{
	return sscanf(text, "%u.%u", major, minor) == 2;
}

static bool at_least(unsigned major, unsigned minor, unsigned want_major, unsigned want_minor)
{
	return major > want_major || (major == want_major && minor >= want_minor);
}

void doctor_kernel_check(const struct doctor_host *host, struct doctor_report *report)
{
	_cleanup_free_ char *release = NULL;
	unsigned major, minor;
	int r = doctor_files_read(host, "/proc/sys/kernel/osrelease", &release);

	if (r < 0 || !parse_release(release, &major, &minor)) {
		doctor_report_add(report, DOCTOR_WARN, "kernel", "check that /proc is mounted",
				  "cannot read the kernel version from /proc/sys/kernel/osrelease (%s)",
				  r < 0 ? strerror(-r) : "not a version");
		return;
	}
	release[strcspn(release, "\n")] = '\0';
	doctor_report_add(report, at_least(major, minor, 5, 14) ? DOCTOR_OK : DOCTOR_FAIL, "kernel",
			  at_least(major, minor, 5, 14) ? NULL : UPGRADE_FIX,
			  "Linux %s (corral needs 5.14 or later)", release);

	/* By version: the files appear only in non-root cgroups, and a backport
	 * would show in the jail probe anyway. */
	bool kill = at_least(major, minor, 5, 14);
	doctor_report_add(report, kill ? DOCTOR_OK : DOCTOR_FAIL, "cgroup.kill", kill ? NULL : UPGRADE_FIX,
			  kill ? "cgroup.kill kills a whole jail at once (Linux 5.14+)"
			       : "no cgroup.kill before Linux 5.14: corral cannot kill a jail "
				 "and everything it forked at once");
	bool into = at_least(major, minor, 5, 7);
	doctor_report_add(report, into ? DOCTOR_OK : DOCTOR_FAIL, "clone_into_cgroup",
			  into ? NULL : UPGRADE_FIX,
			  into ? "clone3(CLONE_INTO_CGROUP) starts a jail inside its cgroup (Linux 5.7+)"
			       : "no clone3(CLONE_INTO_CGROUP) before Linux 5.7: a jail would "
				 "run briefly outside its limits");
	bool peak = at_least(major, minor, 5, 19);
	doctor_report_add(report, peak ? DOCTOR_OK : DOCTOR_WARN, "memory.peak",
			  peak ? NULL : "upgrade to Linux 5.19+ for peak memory on pure cgroup v2",
			  peak ? "memory.peak reports a jail's peak memory (Linux 5.19+; hybrid hosts "
				 "use v1 memory.max_usage_in_bytes)"
			       : "no memory.peak before Linux 5.19: on pure cgroup v2 hosts "
				 "memory_peak_bytes is 0 (hybrid hosts use v1 "
				 "memory.max_usage_in_bytes)");
}

void doctor_kernel_check_userns(const struct doctor_host *host, struct doctor_report *report)
{
	uint64_t v;
	int r = doctor_files_read_u64(host, "/proc/sys/user/max_user_namespaces", &v);

	if (r == -ENOENT)
		doctor_report_add(report, DOCTOR_FAIL, "userns",
				  "use a kernel built with CONFIG_USER_NS=y (every distribution "
				  "kernel is)",
				  "/proc/sys/user/max_user_namespaces is missing: this kernel has "
				  "no user namespaces, and every jail is one");
	else if (r < 0)
		doctor_report_add(report, DOCTOR_WARN, "userns", "check that /proc is mounted",
				  "cannot read /proc/sys/user/max_user_namespaces: %s", strerror(-r));
	else if (v == 0)
		doctor_report_add(report, DOCTOR_FAIL, "userns",
				  "sysctl -w user.max_user_namespaces=65536, and put "
				  "user.max_user_namespaces = 65536 in /etc/sysctl.d/90-corral.conf",
				  "user.max_user_namespaces is 0: nobody, not even root, may create "
				  "a user namespace, and every jail is one");
	else
		doctor_report_add(report, DOCTOR_OK, "userns", NULL,
				  "user namespaces enabled (user.max_user_namespaces = %llu)",
				  (unsigned long long)v);

	/* Debian's and older Ubuntu's switch for users without CAP_SYS_ADMIN. */
	r = doctor_files_read_u64(host, "/proc/sys/kernel/unprivileged_userns_clone", &v);
	if (r == -ENOENT)
		doctor_report_add(report, DOCTOR_OK, "userns.unprivileged_clone", NULL,
				  "kernel.unprivileged_userns_clone is not present (an upstream "
				  "kernel): nothing to check");
	else if (r < 0)
		doctor_report_add(report, DOCTOR_WARN, "userns.unprivileged_clone", NULL,
				  "cannot read kernel.unprivileged_userns_clone: %s", strerror(-r));
	else
		doctor_report_add(report, DOCTOR_OK, "userns.unprivileged_clone", NULL,
				  "kernel.unprivileged_userns_clone = %llu%s", (unsigned long long)v,
				  v ? ""
				    : ": only processes without CAP_SYS_ADMIN are refused; "
				      "corrald and corral-run create the jails' user namespaces "
				      "as root and are not affected");

	/* Ubuntu 23.10+ (on by default in 24.04): AppArmor confines unprivileged
	 * creators of user namespaces. */
	r = doctor_files_read_u64(host, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v);
	if (r == -ENOENT)
		doctor_report_add(report, DOCTOR_OK, "userns.apparmor", NULL,
				  "kernel.apparmor_restrict_unprivileged_userns is not present: no "
				  "AppArmor restriction of user namespaces");
	else if (r < 0)
		doctor_report_add(report, DOCTOR_WARN, "userns.apparmor", NULL,
				  "cannot read kernel.apparmor_restrict_unprivileged_userns: %s",
				  strerror(-r));
	else if (v == 0)
		doctor_report_add(report, DOCTOR_OK, "userns.apparmor", NULL,
				  "kernel.apparmor_restrict_unprivileged_userns = 0: no AppArmor "
				  "restriction of user namespaces");
	else
		doctor_report_add(report, DOCTOR_OK, "userns.apparmor",
				  "nothing while corrald and corral-run run as root; a runner "
				  "started without CAP_SYS_ADMIN would need an AppArmor profile "
				  "granting `userns,` (see apparmor.d(5))",
				  "kernel.apparmor_restrict_unprivileged_userns = %llu: a process "
				  "WITHOUT CAP_SYS_ADMIN that creates a user namespace is moved into "
				  "AppArmor's unprivileged_userns profile and has no capabilities "
				  "inside it (it could not mount or pivot_root); root with "
				  "CAP_SYS_ADMIN, as corrald and corral-run run, is exempt",
				  (unsigned long long)v);
}

/* The filter actions the runner's profiles use. */
static const char *const needed_actions[] = { "errno", "kill_process", "allow" };

void doctor_kernel_check_seccomp(const struct doctor_host *host, struct doctor_report *report)
{
	static const char fix_kernel[] = "use a kernel built with CONFIG_SECCOMP_FILTER=y "
					 "(every distribution kernel is)";
	_cleanup_free_ char *text = NULL;
	int r = doctor_files_read(host, "/proc/sys/kernel/seccomp/actions_avail", &text);

	if (r == 0) {
		char missing[64] = "";

		for (size_t i = 0; i < ELEMENTSOF(needed_actions); i++) {
			const char *p = text;
			size_t len = strlen(needed_actions[i]);
			bool found = false;

			while ((p = strstr(p, needed_actions[i]))) {
				bool start = p == text || p[-1] == ' ';
				bool end = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
				if (start && end) {
					found = true;
					break;
				}
				p += len;
			}
			if (!found)
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
					 *missing ? ", " : "", needed_actions[i]);
		}
		text[strcspn(text, "\n")] = '\0';
		if (*missing)
			doctor_report_add(report, DOCTOR_FAIL, "seccomp", fix_kernel,
					  "seccomp filters lack the action(s) %s (actions_avail: %s)",
					  missing, text);
		else
			doctor_report_add(report, DOCTOR_OK, "seccomp", NULL,
					  "seccomp filters available (actions: %s)", text);
		return;
	}
	if (host->seccomp_prctl == DOCTOR_NOT_PROBED)
		doctor_report_add(report, DOCTOR_WARN, "seccomp", NULL,
				  "cannot read /proc/sys/kernel/seccomp/actions_avail (%s) and "
				  "prctl(PR_GET_SECCOMP) was not tried",
				  strerror(-r));
	else if (host->seccomp_prctl >= 0)
		doctor_report_add(report, DOCTOR_OK, "seccomp", NULL,
				  "seccomp available (prctl(PR_GET_SECCOMP) answered %d; "
				  "/proc/sys/kernel/seccomp/actions_avail: %s)",
				  host->seccomp_prctl, strerror(-r));
	else
		doctor_report_add(report, DOCTOR_FAIL, "seccomp", fix_kernel,
				  "no seccomp: prctl(PR_GET_SECCOMP) failed (%s) and "
				  "/proc/sys/kernel/seccomp/actions_avail is unreadable (%s)",
				  strerror(-host->seccomp_prctl), strerror(-r));
}
