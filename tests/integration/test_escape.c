/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_escape.c — a hostile task tries to leave the jail:
 * dangerous syscalls, writes to /proc, /sys and the read-only tree, the
 * network, setuid binaries, signals to host processes, foreign syscall ABIs.
 * Every attempt must fail.  The probe (tests/integration/probes/probe.c)
 * prints one line per attempt and exits with the number that succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

static void run_probe(const char *mode, enum jail_seccomp_profile profile, struct test_run *run)
{
	char *const argv[] = { "/t/probe", (char *)mode, NULL };
	struct jail_spec spec;

	test_spec(&spec, argv);
	spec.seccomp = profile;
	assert_int_equal(test_run_spec(&spec, run), 0);
	if (run->result.exit_code != 0)
		fprintf(stderr, "probe %s:\n%s\n", mode, run->out);
}

static void test_dangerous_syscalls_fail_under_default_profile(void **state)
{
	struct test_run run;

	require_root();
	run_probe("syscalls", JAIL_SECCOMP_DEFAULT, &run);
	assert_string_equal(jail_status_name(run.result.status), "ok");
	assert_null(strstr(run.out, "ALLOWED"));
	assert_non_null(strstr(run.out, "mount tmpfs: blocked"));
	assert_non_null(strstr(run.out, "ptrace traceme: blocked"));
	assert_non_null(strstr(run.out, "unshare user: blocked"));
	assert_non_null(strstr(run.out, "keyctl: blocked"));
	assert_non_null(strstr(run.out, "bpf: blocked"));
	assert_non_null(strstr(run.out, "ioctl TIOCSTI: blocked"));
	assert_non_null(strstr(run.out, "clone NEWUSER: blocked"));
}

static void test_dangerous_syscalls_fail_under_strict_profile(void **state)
{
	struct test_run run;

	require_root();
	run_probe("syscalls", JAIL_SECCOMP_STRICT, &run);
	assert_string_equal(jail_status_name(run.result.status), "ok");
	assert_null(strstr(run.out, "ALLOWED"));
}

static void test_no_privilege_even_without_seccomp(void **state)
{
	struct test_run run;

	require_root();
	/* defense in depth: with no filter at all, mounts, ptrace of init,
	 * setuid 0 and hostname changes still fail (no capabilities).  (The
	 * probe's own unshare(CLONE_NEWUSER) succeeds here and gives it
	 * capabilities over nothing but that empty namespace, so later calls
	 * like chroot are not asserted.) */
	run_probe("syscalls", JAIL_SECCOMP_NONE, &run);
	assert_non_null(strstr(run.out, "mount tmpfs: blocked"));
	assert_non_null(strstr(run.out, "ptrace attach init: blocked"));
	assert_non_null(strstr(run.out, "umount /proc: blocked"));
	assert_non_null(strstr(run.out, "setuid 0: blocked"));
	assert_non_null(strstr(run.out, "sethostname: blocked"));
	assert_non_null(strstr(run.out, "pivot_root: blocked"));
}

static void test_writes_to_proc_sys_and_system_dirs_fail(void **state)
{
	struct test_run run;

	require_root();
	run_probe("writes", JAIL_SECCOMP_DEFAULT, &run);
	assert_int_equal(run.result.exit_code, 0);
	assert_null(strstr(run.out, "ALLOWED"));
	assert_non_null(strstr(run.out, "write /proc/sys/kernel/hostname: blocked"));
	assert_non_null(strstr(run.out, "write /sys/kernel/uevent_helper: blocked"));
}

static void test_network_is_unreachable(void **state)
{
	struct test_run run;

	require_root();
	run_probe("net", JAIL_SECCOMP_DEFAULT, &run);
	assert_int_equal(run.result.exit_code, 0);
	assert_non_null(strstr(run.out, "Network is unreachable"));
}

static void test_x32_syscalls_kill_the_task(void **state)
{
	struct test_run run;

	require_root();
	run_probe("x32", JAIL_SECCOMP_DEFAULT, &run);
	assert_string_equal(jail_status_name(run.result.status), "signaled");
	assert_int_equal(run.result.signal, SIGSYS);
}

static void test_setuid_binary_gains_nothing(void **state)
{
	char path[256];
	char *const argv[] = { "/t/suid-probe", "ids", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	/* a setuid-root copy of the probe, reachable from the jail */
	snprintf(path, sizeof(path), "%s/suid-probe", test_jail_dir());
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp '%s/probe' '%s' && chown 0:0 '%s' && chmod 6755 '%s'",
			 test_jail_dir(), path, path, path);
		assert_int_equal(system(cmd), 0);
	}
	test_spec(&spec, argv);
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "uid=1000 euid=1000 gid=1000 egid=1000"));
	assert_non_null(strstr(run.out, "CapEff:\t0000000000000000"));
	/* and the host's own setuid binaries do not help either */
	{
		char *const su[] = { "/bin/sh", "-c",
				     "ls -l /usr/bin/su /usr/bin/passwd 2>/dev/null | head -1; "
				     "/usr/bin/passwd -S root 2>&1; echo rc=$?",
				     NULL };

		test_spec(&spec, su);
		assert_int_equal(test_run_spec(&spec, &run), 0);
		assert_null(strstr(run.out, "rc=0"));
	}
}

static void test_signals_cannot_reach_host_processes(void **state)
{
	char pid_text[32];
	char *const argv[] = { "/t/probe", "kill", pid_text, NULL };
	struct jail_spec spec;
	struct test_run run;
	pid_t victim;
	int st;

	require_root();
	test_spec(&spec, argv);
	/* worst case: a host process running as the jail's own host uid */
	victim = fork();
	assert_true(victim >= 0);
	if (victim == 0) {
		if (setgid(spec.host_gid) < 0 || setuid(spec.host_uid) < 0)
			_exit(3);
		/* never outlive the test, even if an assertion fails first
		 * (set after setuid, which clears it) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	usleep(20000);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)victim);
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "kill host pid: blocked (No such process)"));
	assert_int_equal(waitpid(victim, &st, WNOHANG), 0); /* still alive */
	kill(victim, SIGKILL);
	waitpid(victim, &st, 0);
}

static void test_tiocsti_on_a_real_tty_is_blocked(void **state)
{
	char *const argv[] = { "/t/probe", "syscalls", NULL };
	struct jail_spec spec;
	struct test_run run;
	char tty[64];
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	require_root();
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ptsname_r(master, tty, sizeof(tty)), 0);
	test_spec(&spec, argv);
	spec.stdin_path = tty; /* the task's stdin is a real terminal */
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_non_null(strstr(run.out, "ioctl TIOCSTI: blocked (Operation not permitted)"));
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_dangerous_syscalls_fail_under_default_profile,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_dangerous_syscalls_fail_under_strict_profile,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_no_privilege_even_without_seccomp, test_jail_teardown),
		cmocka_unit_test_teardown(test_writes_to_proc_sys_and_system_dirs_fail, test_jail_teardown),
		cmocka_unit_test_teardown(test_network_is_unreachable, test_jail_teardown),
		cmocka_unit_test_teardown(test_x32_syscalls_kill_the_task, test_jail_teardown),
		cmocka_unit_test_teardown(test_setuid_binary_gains_nothing, test_jail_teardown),
		cmocka_unit_test_teardown(test_signals_cannot_reach_host_processes, test_jail_teardown),
		cmocka_unit_test_teardown(test_tiocsti_on_a_real_tty_is_blocked, test_jail_teardown),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, test_jail_group_teardown);
}
