/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor.h — the one header callers of doctor/ include:
 * what a host lacks for corral, as a list of findings, each with a verdict,
 * what was seen and how to fix it (`corral doctor`).
 *
 * Every check but the jail probe reads files only, and every path it reads
 * is taken below host->root ("/proc/sys/kernel/osrelease" is read as
 * "<root>/proc/sys/kernel/osrelease"), so unit tests run them against a fake
 * host in a temporary directory.  Nothing here needs root; the jail probe
 * (doctor_jail.c) is the one part that starts something, through the
 * runner.
 */
#ifndef CORRAL_SUPERVISOR_DOCTOR_DOCTOR_H
#define CORRAL_SUPERVISOR_DOCTOR_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum doctor_verdict {
	DOCTOR_OK = 0,
	DOCTOR_WARN, /* corral runs, but something is weaker or slower than it should be */
	DOCTOR_FAIL, /* corral cannot run (or runs unsafely) until this is fixed */
	DOCTOR_SKIP, /* not checked (e.g. the jail probe without root) */
};

/* "ok", "warn", "fail", "skip" */
const char *doctor_report_verdict_name(enum doctor_verdict verdict);

struct doctor_finding {
	enum doctor_verdict verdict;
	char *check;  /* stable id: "kernel", "cgroup.controller.memory", "uid_range", ... */
	char *detail; /* what was seen, one or more sentences */
	char *fix;    /* what to do; "" when nothing is to be done */
};

struct doctor_report {
	struct doctor_finding *items;
	size_t count, capacity;
	bool out_of_memory; /* a finding could not be stored: the report is incomplete */
};

/* Append a finding; fix may be NULL (nothing to do).  detail is a printf
 * format.  On allocation failure the report's out_of_memory is set. */
void doctor_report_add(struct doctor_report *report, enum doctor_verdict verdict, const char *check,
		       const char *fix, const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* The finding with that check id, or NULL. */
const struct doctor_finding *doctor_report_find(const struct doctor_report *report, const char *check);
/* How many findings have the verdict. */
size_t doctor_report_count(const struct doctor_report *report, enum doctor_verdict verdict);
/* Free the findings; the struct may be reused. */
void doctor_report_free(struct doctor_report *report);

/* The host being examined. */
struct doctor_host {
	const char *root;  /* every path is read below it; NULL or "/" = the real host */
	uid_t trusted_uid; /* who must own the state and socket directories (0 = root) */
	int seccomp_prctl; /* prctl(PR_GET_SECCOMP): >= 0 works, -errno, or
			       * DOCTOR_NOT_PROBED (the caller did not ask) */
};
#define DOCTOR_NOT_PROBED 1000

/* The settings the checks measure against (the policy's [supervisor]). */
struct doctor_config {
	uint32_t uid_first, uid_last; /* host uids for jails */
	uint32_t max_running;         /* jails at once; each needs its own uid */
	const char *state_dir;        /* absolute */
	const char *socket;           /* absolute */
	const char *cgroup_parent;    /* relative to corrald's cgroup, or absolute */
};

/* ---- the checks (each appends one or more findings) ------------------- */

/* Kernel version (>= 5.14), and the features corral relies on:
 * cgroup.kill, clone3(CLONE_INTO_CGROUP), memory.peak. */
void doctor_kernel_check(const struct doctor_host *host, struct doctor_report *report);
/* User namespaces: user.max_user_namespaces, Debian's
 * kernel.unprivileged_userns_clone, Ubuntu's AppArmor restriction. */
void doctor_kernel_check_userns(const struct doctor_host *host, struct doctor_report *report);
/* seccomp filters: /proc/sys/kernel/seccomp/actions_avail, else the prctl
 * result the caller measured (host->seccomp_prctl). */
void doctor_kernel_check_seccomp(const struct doctor_host *host, struct doctor_report *report);

/* Cgroup mode (pure v2 / hybrid / v1 only) and, for each controller the
 * jails use (memory, pids, cpu), whether corrald's subtree can use it and
 * why not.  corrald's cgroup is a running corrald's, else the caller's. */
void doctor_cgroup_check(const struct doctor_host *host, const struct doctor_config *config,
			 struct doctor_report *report);

/* The uid range: inside 1..2^32-2, big enough for max_running, and no
 * overlap with /etc/subuid, /etc/subgid, passwd uids or group gids (each
 * overlap named); a warning when useradd may hand it out later
 * (SUB_UID_MIN..SUB_UID_MAX of /etc/login.defs). */
void doctor_uids_check(const struct doctor_host *host, const struct doctor_config *config,
		       struct doctor_report *report);

/* The state dir (filesystem, free space, owner and mode), the socket's
 * directory (owner, mode, every parent) and /proc's hidepid. */
void doctor_paths_check(const struct doctor_host *host, const struct doctor_config *config,
			struct doctor_report *report);

/* The installed corrald.service: no ProtectHome=/PrivateTmp= (they hide
 * bind sources from corrald under systemd only), RestartForceExitStatus=75
 * (a SIGUSR2 handover is restarted); skipped when none is installed. */
void doctor_unit_check(const struct doctor_host *host, struct doctor_report *report);

/* Every check above, in the order people read them. */
void doctor_checks_run(const struct doctor_host *host, const struct doctor_config *config,
		       struct doctor_report *report);

/* The test jail: /bin/true in a minimal jail through the runner (needs root;
 * as another user it records "skip").  One finding "jail": ok with the time
 * it took, or fail with the step that failed. */
void doctor_jail_probe(const struct doctor_config *config, struct doctor_report *report);

#endif
