/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_setup.c — corral-init's first part, the jail's setup, in
 * order: keep only the fds of the record, set the hostname, bring up lo,
 * wait for the parent's "go" (uid/gid maps written, the jail's cgroups
 * joined: runner/child.c joins the v1 ones), take the jail's identity, join a cgroup
 * namespace, build the root, drop the bounding set and every capability,
 * set no_new_privs.  Then corral_init.c runs the command.
 *
 * corral-init was exec'd by the runner's vfork child (runner/child.c) with
 * every capability of the jail's new user namespace raised as ambient (its
 * uid is not mapped yet: without them the exec would have dropped them all).
 * Nothing of the jail exists before this program, and it is not dumpable
 * from its first instruction (corral_init.c).  Who can reach it while it
 * holds those capabilities: nothing
 * in the jail (there is nothing yet); on the host, root, and processes of
 * the jail's host uid (the owner of its user namespace, which has every
 * capability in it; a uid the supervisor gives one jail slot at a time),
 * which can also reach the command's init once it runs, as before.
 *
 * Every step that fails reports its name and errno on the report pipe
 * (setup_fail) and ends init: after the "go", so never a broken pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner/init/init_setup.h"

void setup_fail(int report_fd, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_errorv(report_fd, errnum, step, fmt, ap);
	va_end(ap);
	_exit(127);
}

void setup_fail_error(int report_fd, const struct jail_error *err)
{
	struct report rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = REPORT_ERROR;
	rec.err = err->err;
	snprintf(rec.step, sizeof(rec.step), "%s", err->step);
	snprintf(rec.message, sizeof(rec.message), "%s", err->message);
	write_all(report_fd, &rec, sizeof(rec));
	_exit(127);
}

static void wait_for_parent(const struct setup_ctx *ctx)
{
	char c;
	ssize_t n;

	do
		n = read(ctx->sync_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up; it reports why */
	close(ctx->sync_fd);
}

/* Become the task's uid/gid inside the jail while keeping the capabilities
 * this new user namespace gave us: mounts need them, and files we create in
 * the new root must belong to a mapped uid. */
static void take_jail_identity(const struct setup_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	/* the parent cloned us with SECBIT_NO_SETUID_FIXUP (runner/spawn.c):
	 * nothing in the jail keeps it */
	if (bits < 0 ||
	    ((bits & SECBIT_NO_SETUID_FIXUP) &&
	     prctl(PR_SET_SECUREBITS, bits & ~SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0))
		setup_fail(ctx->report_fd, errno, "prctl", "clear SECBIT_NO_SETUID_FIXUP");
	/* drop the supplementary groups inherited from the host (root's) */
	if (setgroups(0, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "setgroups", "drop supplementary groups");
	if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
		setup_fail(ctx->report_fd, errno, "setresgid", "become gid %u", (unsigned)spec->gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		setup_fail(ctx->report_fd, errno, "prctl", "PR_SET_KEEPCAPS");
	if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
		setup_fail(ctx->report_fd, errno, "setresuid", "become uid %u", (unsigned)spec->uid);
	/* what an exec used to clear: nothing after us keeps it */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		setup_fail(ctx->report_fd, errno, "prctl", "clear PR_SET_KEEPCAPS");
	if (syscall(SYS_capget, &hdr, data) < 0)
		setup_fail(ctx->report_fd, errno, "capget", "read capabilities");
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		setup_fail(ctx->report_fd, errno, "capset", "raise effective capabilities");
}

static int compare_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* init inherited every fd its exec did not close (a daemon's database,
 * sockets, cgroup fds that were not close-on-exec): keep only what the
 * jail uses. */
static void close_inherited_fds(const struct init_config *cfg)
{
	const struct init_setup *s = &cfg->setup;
	int keep[] = { 0,
		       1,
		       2,
		       s->sync_fd,
		       cfg->report_fd,
		       cfg->stdin_fd,
		       cfg->stdout_fd,
		       cfg->stderr_fd,
		       cfg->status_fd,
		       cfg->cpu_stat_fd,
		       cfg->leash_fd };
	size_t n = sizeof(keep) / sizeof(keep[0]);
	int from = 0;

	qsort(keep, n, sizeof(keep[0]), compare_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if (keep[i] > from && syscall(SYS_close_range, (unsigned)from, (unsigned)keep[i] - 1, 0) < 0)
			setup_fail(cfg->report_fd, errno, "close_range", "close inherited file descriptors");
		from = keep[i] + 1;
	}
	if (syscall(SYS_close_range, (unsigned)from, ~0u, 0) < 0)
		setup_fail(cfg->report_fd, errno, "close_range", "close inherited file descriptors");
}

/* Nothing in the jail gets a capability back: empty the bounding set, the
 * ambient set (the runner raised it for our exec) and then every set of
 * ours while we still hold CAP_SETPCAP. */
static void drop_capabilities(const struct setup_ctx *ctx)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	/* capabilities are numbered from 0 without gaps: the first EINVAL is
	 * the one past the kernel's last (corral_init.c checks the set is empty) */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		setup_fail(ctx->report_fd, errno, "capabilities", "drop capability %d from the bounding set",
			   cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		setup_fail(ctx->report_fd, errno, "capabilities", "clear ambient capabilities");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		setup_fail(ctx->report_fd, errno, "capabilities", "clear all capabilities");
}

/* fds 0-2 exist (so the pipes init creates never land on them) and are
 * /dev/null, not the parent's stdio (a daemon's log): the command's own
 * stdio are the record's fds. */
static void stdio_to_null(int report_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		setup_fail(report_fd, errno, "open", "open /dev/null");
	for (int fd = 0; fd < 3; fd++)
		if (fd != null && dup2(null, fd) < 0)
			setup_fail(report_fd, errno, "open", "point fd %d at /dev/null", fd);
	if (null > 2)
		close(null);
	else if (fcntl(null, F_SETFD, 0) < 0)
		setup_fail(report_fd, errno, "open", "keep /dev/null as fd %d", null);
}

static void setup_steps(const struct setup_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;
	struct jail_error err;
	int hostname_errno, lo_up;

	/* what needs neither the uid maps nor the jail's cgroups, done while
	 * the parent writes the maps: the capabilities a new user namespace
	 * gives its first process cover the namespaces it owns.  A failure is
	 * reported after the "go": exiting before it would break the
	 * parent's pipe. */
	hostname_errno = sethostname(spec->hostname, strlen(spec->hostname)) < 0 ? errno : 0;
	/* no step before this one depends on the network; on a failure the
	 * jail stops below, still in its caller's namespace, never running */
	lo_up = ctx->netns == INIT_NETNS_MADE     ? 0
		: ctx->netns == INIT_NETNS_CLONED ? init_netns_lo_up(&err)
						  : init_netns_make(&err);
	if (lo_up == 0 && ctx->netns != INIT_NETNS_MADE)
		lo_up = init_netns_check_own(&err);
	wait_for_parent(ctx);
	if (hostname_errno)
		setup_fail(ctx->report_fd, hostname_errno, "sethostname", "set hostname '%s'",
			   spec->hostname);
	if (lo_up < 0)
		setup_fail_error(ctx->report_fd, &err);
	take_jail_identity(ctx);
	/* we are in every hierarchy's jail cgroup (v1: the child joined them
	 * before its exec; unified: clone3 or the parent put us there): make
	 * that cgroup the root the jail sees */
	if (unshare(CLONE_NEWCGROUP) < 0)
		setup_fail(ctx->report_fd, errno, "unshare", "new cgroup namespace");
	init_mounts_build_root(ctx);
	/* pdeathsig is cleared by setresuid, so it is set after it */
	if (ctx->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		setup_fail(ctx->report_fd, errno, "prctl", "PR_SET_PDEATHSIG");
	drop_capabilities(ctx);
	/* nothing exec'd in the jail from here on gains privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		setup_fail(ctx->report_fd, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
}

void init_setup_run(struct init_config *cfg)
{
	const struct init_setup *s = &cfg->setup;
	struct jail_mount *mounts = NULL;
	struct jail_spec spec;
	struct host_etc etc = { .paths = s->etc_paths, .n = s->n_etc, .refs = 1 };
	struct setup_ctx ctx = {
		.spec = &spec,
		.host_etc = &etc,
		.sync_fd = s->sync_fd,
		.report_fd = cfg->report_fd,
		.etc_dir = s->etc_dir,
		.die_with_parent = s->die_with_parent,
		.netns = s->netns,
	};

	close_inherited_fds(cfg);
	stdio_to_null(cfg->report_fd);
	if (s->n_mounts) {
		mounts = calloc(s->n_mounts, sizeof(*mounts));
		if (!mounts)
			setup_fail(cfg->report_fd, ENOMEM, "corral-init", "allocate the mounts");
		for (uint32_t i = 0; i < s->n_mounts; i++)
			mounts[i] = (struct jail_mount){ .kind = (enum jail_mount_kind)s->mounts[i].kind,
							 .source = s->mounts[i].source,
							 .target = s->mounts[i].target,
							 .size_bytes = s->mounts[i].size_bytes };
	}
	memset(&spec, 0, sizeof(spec));
	spec.hostname = s->hostname;
	spec.uid = s->uid;
	spec.gid = s->gid;
	spec.tmp_bytes = s->tmp_bytes;
	spec.work_dir = s->work_dir;
	spec.work_bytes = s->work_bytes;
	spec.mounts = mounts;
	spec.n_mounts = s->n_mounts;
	setup_steps(&ctx);
	free(mounts);
}
