/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_netns_pool_attack.c — a hostile host process of a
 * jail's host uid (the owner of the jail's user namespace: it may ptrace
 * and pidfd_getfd every process of the jail) against a jail corrald
 * started in a pooled network namespace (supervisor/corrald/netns_pool.c).
 * It must find no network namespace fd in any of the jail's processes
 * (another jail's pooled one would let it watch that jail's network), and
 * it must not enter the jail's network namespace even from inside the
 * jail's user namespace (the host's user namespace owns a pooled one).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201900-4201931\n" \
	"max_running = 4\nnetns_pool = 4\n"
#define POLICY "[plan free]\nmax_concurrent = 4\n[default]\nplan = free\n"

/* What the attacker found (its exit code). */
enum found { FOUND_NOTHING = 0, FOUND_NETNS_FD = 10, ENTERED_NETNS = 11, ATTACKER_BROKEN = 12 };

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_kill_leftover_jails(&daemon_);
	corrald_cleanup(&daemon_);
	return 0;
}

/* The uid pid runs as (its /proc directory's owner), or -1. */
static long uid_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return stat(path, &st) == 0 ? (long)st.st_uid : -1;
}

/* As uid, against pid: every fd of it through pidfd_getfd (none may be a
 * network namespace), then its user namespace and, from there, its
 * network namespace (must be refused).  Exits with an enum found. */
static void __attribute__((noreturn)) attack(pid_t pid, unsigned uid)
{
	char path[64], link[256], self[64];
	int pfd, user_fd, net_fd;

	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(ATTACKER_BROKEN);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		_exit(ATTACKER_BROKEN);
	for (int fd = 0; fd < 256; fd++) {
		int g = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
		ssize_t n;

		if (g < 0)
			continue;
		snprintf(self, sizeof(self), "/proc/self/fd/%d", g);
		n = readlink(self, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (strncmp(link, "net:[", 5) == 0) {
				fprintf(stderr, "fd %d of pid %d is a network namespace: %s\n", fd, (int)pid,
					link);
				_exit(FOUND_NETNS_FD);
			}
		}
		close(g);
	}
	/* the jail's namespaces, opened as the uid (ptrace access to the
	 * jail's processes is enough) */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	user_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	net_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (net_fd < 0)
		_exit(FOUND_NOTHING); /* cannot even open it */
	if (setns(net_fd, CLONE_NEWNET) == 0)
		_exit(ENTERED_NETNS);
	/* the owner of the jail's user namespace has every capability there */
	if (user_fd >= 0 && setns(user_fd, CLONE_NEWUSER) == 0 && setns(net_fd, CLONE_NEWNET) == 0)
		_exit(ENTERED_NETNS);
	_exit(FOUND_NOTHING);
}

/* Attack every process of the running jails; the worst enum found. */
static int attack_jails(void)
{
	pid_t pids[64];
	size_t n = corrald_list_processes(&daemon_, pids, 64);
	int worst = FOUND_NOTHING, attacked = 0;

	for (size_t i = 0; i < n && i < 64; i++) {
		long uid = uid_of(pids[i]);
		int status;
		pid_t child;

		if (uid <= 0)
			continue;
		child = fork();
		assert_true(child >= 0);
		if (child == 0)
			attack(pids[i], (unsigned)uid);
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), ATTACKER_BROKEN);
		if (WEXITSTATUS(status) > worst)
			worst = WEXITSTATUS(status);
		attacked++;
	}
	assert_true(attacked > 0);
	return worst;
}

static void test_jail_uid_finds_no_netns_fd_and_cannot_enter_the_pooled_netns(void **state)
{
	int64_t ids[3];

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	/* let the pool fill (one namespace per quiet 4 ms) */
	usleep(300 * 1000);
	for (size_t i = 0; i < 3; i++) {
		ids[i] = corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"4\"]");
		assert_true(ids[i] > 0);
	}
	/* the jails' processes up (corral-init and sleep each) */
	for (uint64_t give_up = test_mono_ms() + 10000;
	     corrald_count_processes(&daemon_) < 6 && test_mono_ms() < give_up;)
		usleep(20 * 1000);
	assert_int_equal(attack_jails(), FOUND_NOTHING);
	for (size_t i = 0; i < 3; i++)
		json_decref(corrald_must_wait(&daemon_, ids[i], 30000));
}

/* What a task tries in its pooled namespace, one "key=value" a line. */
static const char task_script[] =
	"n=0; for f in $(find /proc/sys/net -type f 2>/dev/null); do\n"
	"  if (cat \"$f\" > \"$f\") 2>/dev/null; then n=$((n+1)); echo \"wrote=$f\"; fi\n"
	"done; echo sysctls_written=$n\n"
	"if /usr/bin/unshare -rn true 2>/dev/null; then echo new_netns=ALLOWED; else echo new_netns=denied; fi\n"
	"/usr/bin/python3 -c '\n"
	"import socket\n"
	"def try_(name, f):\n"
	"    try:\n"
	"        f(); print(name + \"=ALLOWED\")\n"
	"    except OSError:\n"
	"        print(name + \"=denied\")\n"
	"try_(\"low_port\", lambda: socket.socket().bind((\"127.0.0.1\", 80)))\n"
	"try_(\"ping\", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP))\n"
	"try_(\"packet\", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))\n"
	"'\n";

/* In a pooled namespace (the host's user namespace owns it, so more of
 * /proc/sys/net shows there than in one of the jail's own), the task writes
 * no sysctl, makes no namespace, binds no port below 1024, opens no ping,
 * raw or packet socket. */
static void test_a_task_changes_nothing_of_its_pooled_namespace(void **state)
{
	char *out;
	int64_t id;

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	usleep(300 * 1000); /* the pool filled */
	id = corrald_submit_sh(&daemon_, task_script);
	assert_true(id > 0);
	json_decref(corrald_must_wait(&daemon_, id, 60000));
	out = corrald_logs(&daemon_, id, "stdout", NULL);
	assert_non_null(out);
	if (!strstr(out, "sysctls_written=0\n") || !strstr(out, "new_netns=denied\n") ||
	    !strstr(out, "low_port=denied\n") || !strstr(out, "ping=denied\n") ||
	    !strstr(out, "packet=denied\n"))
		fail_msg("the task changed its namespace:\n%s", out);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_jail_uid_finds_no_netns_fd_and_cannot_enter_the_pooled_netns,
					  teardown),
		cmocka_unit_test_teardown(test_a_task_changes_nothing_of_its_pooled_namespace, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
