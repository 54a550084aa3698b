/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_jail.c — the one check that starts something:
 * /bin/true in a minimal jail through the runner (runner/jail.h), with the
 * policy's first host uid, the default limits and seccomp profile, in a
 * cgroup parent of its own ("corral-doctor", below the caller's cgroup), so
 * it never mixes with a running corrald's jails.  Needs root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/jail.h"
#include "supervisor/doctor/doctor.h"

#define PROBE_CGROUP_PARENT "corral-doctor"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void doctor_jail_probe(const struct doctor_config *config, struct doctor_report *report)
{
	static const char fix[] = "fix what the failing step names (the findings above usually "
				  "say why), then `corral-run -- /bin/true` shows the same step";
	char *const argv[] = { "/bin/true", NULL };
	char name[64];
	struct jail_spec spec;
	struct jail_error err = { 0 };
	struct jail_result result;
	struct jail *jail = NULL;
	int r;

	if (geteuid() != 0) {
		doctor_report_add(report, DOCTOR_SKIP, "jail", "run corral doctor as root to try one",
				  "skipped: needs root (a test jail of /bin/true)");
		return;
	}
	jail_spec_init(&spec);
	spec.argv = argv;
	spec.host_uid = config->uid_first;
	spec.host_gid = config->uid_first;
	spec.wall_time_ms = 10000;
	spec.stdin_path = NULL;
	spec.cgroup_parent = PROBE_CGROUP_PARENT;
	snprintf(name, sizeof(name), "doctor-%ld", (long)getpid());
	spec.cgroup_name = name;

	uint64_t start = now_us();
	r = jail_spec_validate(&spec, &err);
	if (r == 0)
		r = jail_spawn(&spec, &jail, &err);
	if (r == 0) {
		memset(&result, 0, sizeof(result));
		r = jail_wait(jail, &result, &err);
	}
	uint64_t took = now_us() - start;
	jail_free(jail);
	jail_cleanup_cgroup_parent(PROBE_CGROUP_PARENT);

	if (r < 0)
		doctor_report_add(report, DOCTOR_FAIL, "jail", fix,
				  "a test jail of /bin/true (host uid %u) did not start: step %s: %s",
				  (unsigned)config->uid_first, err.step[0] ? err.step : "?",
				  err.message[0] ? err.message : strerror(-r));
	else if (result.status == JAIL_SPAWN_ERROR)
		doctor_report_add(report, DOCTOR_FAIL, "jail", fix,
				  "a test jail of /bin/true (host uid %u) did not start: step %s: %s",
				  (unsigned)config->uid_first, result.error.step, result.error.message);
	else if (result.status != JAIL_OK)
		doctor_report_add(report, DOCTOR_FAIL, "jail", fix,
				  "a test jail of /bin/true started but ended %s (exit code %d, "
				  "signal %d)",
				  jail_status_name(result.status), result.exit_code, result.signal);
	else
		doctor_report_add(report, DOCTOR_OK, "jail", NULL,
				  "a test jail of /bin/true (host uid %u, all namespaces, cgroup "
				  "limits, default seccomp profile) started and exited 0 in %.1f ms",
				  (unsigned)config->uid_first, (double)took / 1000.0);
}
