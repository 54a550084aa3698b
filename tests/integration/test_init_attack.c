/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_init_attack.c — a hostile task against the jail's
 * pid 1, corral-init (runner/init/corral_init.c), and a hostile local user
 * against where the runner takes corral-init from (runner/init_exec.c).
 * The task-side attacks are in the static probe
 * tests/integration/probes/init_attack.c, copied to /t/init_attack.
 *
 * ATTACK_FILTER="*rlimit*" runs one test.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define sh test_sh /* tests/lib/test.h */

/* Run a shell command as uid (and gid uid); its exit status, or -1. */
static int system_as_user(unsigned uid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int system_as_user(unsigned uid, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	pid_t pid;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void install_probe(void)
{
	sh("cp '%s' '%s/init_attack' && chmod 0755 '%s/init_attack'",
	   test_build_path("tests/probes/init_attack"), test_jail_dir(), test_jail_dir());
}

static void run_probe(struct jail_spec *spec, struct test_run *run, char *const *argv)
{
	install_probe();
	test_spec(spec, argv);
	memset(run, 0, sizeof(*run));
}

static void read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

static void assert_no_allowed(const struct test_run *run)
{
	if (strstr(run->out, "ALLOWED"))
		fail_msg("the task reached into corral-init:\n%s", run->out);
}

/* ---- the task against init ---------------------------------------------- */

/* /proc/1/{exe,cwd,fd,fdinfo,map_files,mem,environ,...}, process_vm_*,
 * ptrace, pidfd_getfd on every low fd (the record memfd, the report pipe,
 * the status file, the output files), SIGSTOP and SIGKILL from inside. */
static void test_task_cannot_reach_init(void **state)
{
	char *const argv[] = { "/t/init_attack", "reach", NULL };
	struct jail_spec spec;
	struct test_run run;
	char status[600];

	(void)state;
	require_root();
	run_probe(&spec, &run, argv);
	snprintf(status, sizeof(status), "%s/status-reach", test_jail_dir());
	spec.status_path = status;
	spec.output_limit = 1 << 20; /* init holds the output files too */
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_no_allowed(&run);
	assert_non_null(strstr(run.out, "pidfd_getfd init fd 15: blocked"));
	assert_non_null(strstr(run.out, "init state after SIGSTOP: S"));
	assert_non_null(strstr(run.out, "init survived SIGKILL: yes"));
	assert_int_equal(run.result.status, JAIL_OK);
}

/* What init leaves to the task: fds 0-2 only (no record memfd, no report
 * pipe, no status file, no init binary), no capability in any set, no new
 * privileges, the filter; init itself has no_new_privs and no capability. */
static void test_task_holds_nothing_of_init(void **state)
{
	char *const argv[] = { "/t/init_attack", "self", NULL };
	struct jail_spec spec;
	struct test_run run;
	char status[600];
	const char *p;
	int fds = 0;

	(void)state;
	require_root();
	run_probe(&spec, &run, argv);
	snprintf(status, sizeof(status), "%s/status-self", test_jail_dir());
	spec.status_path = status;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	for (p = run.out; (p = strstr(p, "fd ")) != NULL && p[3] >= '0' && p[3] <= '9'; p += 3)
		if (p == run.out || p[-1] == '\n')
			fds++;
	/* fds 1 and 2 are init's output pipes (an output to a regular file
	 * always goes through init); stdin is the file itself */
	if (fds != 3 || strstr(run.out, "memfd") || strstr(run.out, "corral-init") ||
	    strstr(run.out, "status-self") || strstr(run.out, "fd 0 -> pipe:"))
		fail_msg("the task holds more than fds 0-2:\n%s", run.out);
	assert_non_null(strstr(run.out, "/proc/self/status CapInh:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/self/status CapPrm:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/self/status CapEff:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/self/status CapBnd:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/self/status CapAmb:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/self/status NoNewPrivs:\t1"));
	assert_non_null(strstr(run.out, "/proc/self/status Seccomp:\t2"));
	assert_non_null(strstr(run.out, "/proc/1/status NoNewPrivs:\t1"));
	assert_non_null(strstr(run.out, "/proc/1/status CapBnd:\t0000000000000000"));
	assert_non_null(strstr(run.out, "/proc/1/status CapEff:\t0000000000000000"));
}

/* init and the task share one uid, and prlimit64 on another process needs
 * only that (not ptrace access: init's non-dumpable flag does not help).
 * The task lowers init's RLIMIT_FSIZE to 0: init can no longer write the
 * capped output it copies nor the status file (a restarted supervisor then
 * cannot learn how the task ended; a limit that truncates the file mid-way
 * makes it drop lines such as output_limit=1). */
static void test_task_cannot_lower_inits_rlimits(void **state)
{
	char *const argv[] = { "/t/init_attack", "rlimit", "100000", NULL };
	struct jail_spec spec;
	struct test_run run;
	char status[600], text[1024];

	(void)state;
	require_root();
	run_probe(&spec, &run, argv);
	snprintf(status, sizeof(status), "%s/status-rlimit", test_jail_dir());
	spec.status_path = status;
	spec.output_limit = 1 << 20; /* output copied through init */
	assert_int_equal(test_run_spec(&spec, &run), 0);
	read_text(status, text, sizeof(text));
	if (strstr(run.out, "prlimit init RLIMIT_FSIZE 0: ALLOWED") || !strstr(text, "exit_code=0\n") ||
	    run.result.stdout_bytes < 100000 || strlen(run.out) < sizeof(run.out) - 1)
		fail_msg("the task changed init's RLIMIT_FSIZE: stdout file has %zu bytes (init counted %llu), "
			 "status file: '%s'\n",
			 strlen(run.out), (unsigned long long)run.result.stdout_bytes, text);
}

static void test_task_cannot_set_inits_cpu_limit(void **state)
{
	char *const argv[] = { "/t/init_attack", "cpu", NULL };
	struct jail_spec spec;
	struct test_run run;

	(void)state;
	require_root();
	run_probe(&spec, &run, argv);
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "prlimit init RLIMIT_CPU 1: blocked"));
	assert_int_equal(run.result.status, JAIL_OK);
}

/* ---- where corral-init comes from --------------------------------------- */

/* A trusted chain of directories (root-owned, not group/other-writable)
 * under the build dir, where a test can plant candidates. */
static char trust_dir[512];

static void make_trust_dir(void)
{
	char *abs = realpath(test_build_path("tests"), NULL);

	assert_non_null(abs);
	snprintf(trust_dir, sizeof(trust_dir), "%s/init-trust", abs);
	free(abs);
	sh("rm -rf '%s' && mkdir -p '%s' && chmod 0755 '%s'", trust_dir, trust_dir, trust_dir);
}

static int trust_teardown(void **state)
{
	struct jail_error err;

	(void)state;
	if (trust_dir[0])
		sh("rm -rf '%s'", trust_dir);
	/* back to the real one for whoever runs next in this process */
	jail_set_init_path(test_build_path("corral-init"), &err);
	return 0;
}

static void expect_refused(const char *path, const char *why)
{
	struct jail_error err;
	int r;

	memset(&err, 0, sizeof(err));
	r = jail_set_init_path(path, &err);
	if (r >= 0)
		fail_msg("corral-init at %s was accepted (%s)", path, why);
}

/* A local user who owns a directory on the way, or can write one, or the
 * file; a symlink from a trusted place into the user's; setuid bits. */
static void test_untrusted_init_candidates_are_refused(void **state)
{
	char init[600];
	unsigned uid = test_host_uid();
	char path[700];
	struct jail_error err;

	(void)state;
	require_root();
	snprintf(init, sizeof(init), "%s", test_build_path("corral-init"));
	make_trust_dir();
	/* a directory the user owns */
	sh("mkdir '%s/user' && cp '%s' '%s/user/corral-init' && chown -R %u:%u '%s/user'", trust_dir, init,
	   trust_dir, uid, uid, trust_dir);
	snprintf(path, sizeof(path), "%s/user/corral-init", trust_dir);
	expect_refused(path, "its directory belongs to an unprivileged user");
	/* a root-owned file in that user's directory (the user can rename it) */
	sh("cp '%s' '%s/user/root-init' && chown 0:0 '%s/user/root-init'", init, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/user/root-init", trust_dir);
	expect_refused(path, "a root file in a user's directory");
	/* a world-writable root directory (no sticky bit) and a sticky one */
	sh("mkdir -m 0777 '%s/open' && cp '%s' '%s/open/corral-init' && chmod 0777 '%s/open'", trust_dir,
	   init, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/open/corral-init", trust_dir);
	expect_refused(path, "a world-writable directory");
	/* a root-owned sticky one (as /tmp) is accepted: a user may add entries
	 * there but can neither replace root's file nor plant one of their own
	 * under its name first.  Made below /run, which the user can reach
	 * (the checkout may sit in a directory only root can enter). */
	{
		char sticky[128];

		snprintf(sticky, sizeof(sticky), "/run/corral-test-sticky-%d", (int)getpid());
		sh("rm -rf '%s' && mkdir -m 0755 '%s' && mkdir -m 1777 '%s/open' && cp '%s' '%s/ref' && "
		   "cp '%s' '%s/open/corral-init'",
		   sticky, sticky, sticky, init, sticky, init, sticky);
		snprintf(path, sizeof(path), "%s/open/corral-init", sticky);
		memset(&err, 0, sizeof(err));
		if (jail_set_init_path(path, &err) < 0) {
			sh("rm -rf '%s'", sticky);
			fail_msg("a root file in a root-owned sticky directory was refused: %s", err.message);
		}
		if (system_as_user(
			    uid,
			    "cd '%s/open' && echo x > mine && "
			    "{ mv -f mine corral-init || rm -f corral-init || ln -sf mine corral-init || "
			    "echo x > corral-init; } 2>/dev/null; cmp -s corral-init '%s/ref'",
			    sticky, sticky) != 0) {
			sh("rm -rf '%s'", sticky);
			fail_msg("a user replaced root's corral-init in a sticky directory");
		}
		sh("cp '%s' '%s/open/user-init' && chown %u:%u '%s/open/user-init'", init, sticky, uid, uid,
		   sticky);
		snprintf(path, sizeof(path), "%s/open/user-init", sticky);
		memset(&err, 0, sizeof(err));
		if (jail_set_init_path(path, &err) >= 0) {
			sh("rm -rf '%s'", sticky);
			fail_msg("a user's file in a sticky directory was accepted");
		}
		sh("rm -rf '%s'", sticky);
	}
	/* group-writable for a non-root group */
	sh("mkdir -m 0755 '%s/grp' && cp '%s' '%s/grp/corral-init' && chgrp %u '%s/grp/corral-init' && "
	   "chmod 0775 '%s/grp/corral-init'",
	   trust_dir, init, trust_dir, uid, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/grp/corral-init", trust_dir);
	expect_refused(path, "a file writable by a non-root group");
	/* a trusted-looking name that is a symlink into the user's directory */
	sh("mkdir -m 0755 '%s/link' && ln -s '%s/user/corral-init' '%s/link/corral-init'", trust_dir,
	   trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/link/corral-init", trust_dir);
	expect_refused(path, "a symlink into a user's directory");
	/* setuid, and not executable by others */
	sh("mkdir -m 0755 '%s/suid' && cp '%s' '%s/suid/corral-init' && chmod 4755 '%s/suid/corral-init'",
	   trust_dir, init, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/suid/corral-init", trust_dir);
	expect_refused(path, "setuid");
	/* a directory in place of the file, a FIFO */
	sh("mkdir -m 0755 '%s/dir' && mkdir '%s/dir/corral-init' && mkdir -m 0755 '%s/fifo' && "
	   "mkfifo -m 0755 '%s/fifo/corral-init'",
	   trust_dir, trust_dir, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/dir/corral-init", trust_dir);
	expect_refused(path, "a directory");
	snprintf(path, sizeof(path), "%s/fifo/corral-init", trust_dir);
	expect_refused(path, "a FIFO");
	/* and a good copy is taken */
	sh("mkdir -m 0755 '%s/good' && cp '%s' '%s/good/corral-init' && chmod 0755 '%s/good/corral-init'",
	   trust_dir, init, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/good/corral-init", trust_dir);
	if (jail_set_init_path(path, &err) < 0)
		fail_msg("a root-owned 0755 corral-init was refused: %s", err.message);
}

/* The fd is taken once: swapping the file afterwards (even by root, here
 * standing in for an owner who is trusted anyway) changes nothing for the
 * jails; what they exec is the inode that was checked. */
static void test_swapping_init_after_it_was_opened_has_no_effect(void **state)
{
	char init[600];
	char path[700], marker[700];
	char *const argv[] = { "/bin/true", NULL };
	struct jail_spec spec;
	struct test_run run;
	struct jail_error err;

	(void)state;
	require_root();
	snprintf(init, sizeof(init), "%s", test_build_path("corral-init"));
	make_trust_dir();
	sh("mkdir -m 0755 '%s/swap' && cp '%s' '%s/swap/corral-init' && chmod 0755 '%s/swap/corral-init'",
	   trust_dir, init, trust_dir, trust_dir);
	snprintf(path, sizeof(path), "%s/swap/corral-init", trust_dir);
	snprintf(marker, sizeof(marker), "%s/swapped-ran", trust_dir);
	if (jail_set_init_path(path, &err) < 0)
		fail_msg("corral-init refused: %s", err.message);
	/* replace it (rename over) by a script that would leave a marker */
	sh("printf '#!/bin/sh\\ntouch %s\\n' > '%s/swap/new' && chmod 0755 '%s/swap/new' && "
	   "mv -f '%s/swap/new' '%s/swap/corral-init'",
	   marker, trust_dir, trust_dir, trust_dir, trust_dir);
	test_spec(&spec, argv);
	memset(&run, 0, sizeof(run));
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_int_equal(run.result.status, JAIL_OK);
	assert_int_equal(access(marker, F_OK), -1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_task_cannot_reach_init, test_jail_teardown),
		cmocka_unit_test_teardown(test_task_holds_nothing_of_init, test_jail_teardown),
		cmocka_unit_test_teardown(test_task_cannot_lower_inits_rlimits, test_jail_teardown),
		cmocka_unit_test_teardown(test_task_cannot_set_inits_cpu_limit, test_jail_teardown),
		cmocka_unit_test_teardown(test_untrusted_init_candidates_are_refused, trust_teardown),
		cmocka_unit_test_teardown(test_swapping_init_after_it_was_opened_has_no_effect,
					  trust_teardown),
	};

	if (getenv("ATTACK_FILTER"))
		cmocka_set_test_filter(getenv("ATTACK_FILTER"));
	return cmocka_run_group_tests(tests, NULL, test_jail_group_teardown);
}
