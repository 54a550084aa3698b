/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_init_setup_attack.c — a hostile host process of
 * the jail's host uid (the owner of the jail's user namespace, so it may
 * ptrace and pidfd_getfd every process in it, corral-init included) against
 * corral-init while it builds the jail (runner/init/init_setup.c).  It must
 * find none of the root-opened fds the runner opened for the setup: through
 * a v1 cgroup "tasks" fd opened by root it could move any host process into
 * the jail's cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"

#define RUNS 40

/* As uid: until the jail of caller (our sibling) ended, take every fd of caller's child (the jail's
 * init) and write victim's pid into any v1 cgroup "tasks" file among them.
 * Exits 0 if a write succeeded, 1 once the jail is gone. */
static void __attribute__((noreturn)) attack(pid_t caller, unsigned uid, pid_t victim)
{
	char children[64], link[512], self[64], value[16];
	bool seen = false;

	snprintf(children, sizeof(children), "/proc/%d/task/%d/children", (int)caller, (int)caller);
	snprintf(value, sizeof(value), "%d", (int)victim);
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(126);
	for (uint64_t give_up = test_mono_ms() + 10000; test_mono_ms() < give_up;) {
		char buf[64];
		int f = open(children, O_RDONLY), pfd;
		ssize_t n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;

		if (f < 0)
			_exit(1); /* the caller is gone */
		close(f);
		if (n <= 0 && seen)
			_exit(1); /* its jail ended */
		if (n <= 0)
			continue;
		seen = true;
		buf[n] = '\0';
		pfd = (int)syscall(SYS_pidfd_open, atoi(buf), 0);
		if (pfd < 0)
			continue;
		for (int fd = 3; fd < 32; fd++) {
			int g = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
			ssize_t l;

			if (g < 0)
				continue;
			snprintf(self, sizeof(self), "/proc/self/fd/%d", g);
			l = readlink(self, link, sizeof(link) - 1);
			if (l > 6 && (link[l] = '\0', strcmp(link + l - 6, "/tasks") == 0) &&
			    write(g, value, strlen(value)) > 0)
				_exit(0);
			close(g);
		}
		close(pfd);
	}
	_exit(1); /* no jail showed up */
}

static void test_host_uid_cannot_take_root_fds_from_init_during_setup(void **state)
{
	unsigned uid = test_host_uid();
	char uid_arg[16], cg[4096];
	char *argv[] = { (char *)test_build_path("corral-run"),
			 "--quiet",
			 "--host-uid",
			 uid_arg,
			 "--",
			 "/bin/true",
			 NULL };
	int moved = 0;
	pid_t victim;

	(void)state;
	test_require_root();
	snprintf(uid_arg, sizeof(uid_arg), "%u", uid);
	victim = fork(); /* a root process of the host */
	assert_true(victim >= 0);
	if (victim == 0) {
		pause();
		_exit(0);
	}
	for (int i = 0; i < RUNS && !moved; i++) {
		pid_t run = fork(), attacker;
		int status;

		assert_true(run >= 0);
		if (run == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 2);
			execv(argv[0], argv);
			_exit(127);
		}
		attacker = fork();
		assert_true(attacker >= 0);
		if (attacker == 0)
			attack(run, uid, victim);
		assert_int_equal(waitpid(attacker, &status, 0), attacker);
		moved = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		assert_int_equal(waitpid(run, &status, 0), run);
	}
	snprintf(cg, sizeof(cg), "/proc/%d/cgroup", (int)victim);
	test_read_text(cg, cg, sizeof(cg));
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	if (moved)
		fail_msg("uid %u moved a root process into a jail's cgroups with a fd of corral-init:\n%s",
			 uid, cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_uid_cannot_take_root_fds_from_init_during_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
