/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_init.c — corral-init, the jail's pid 1, as a program
 * of its own (root): what the command can see of it (its command line, its
 * memory, its fds, its capabilities), where the runner takes it from (a
 * trusted path only; missing, untrusted, unexecutable or broken ones are
 * named spawn errors), and that it still dies with a parent that asked so.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define SH(script) ((char *const[]){ "/bin/sh", "-c", script, NULL })

static char trust_dir[256];

/* A scratch dir below the build dir (root's, 0755: trusted, unlike /tmp). */
static const char *scratch(const char *name)
{
	static char path[512];

	if (!trust_dir[0]) {
		snprintf(trust_dir, sizeof(trust_dir), "%s", test_build_path("tests/init-XXXXXX"));
		if (!mkdtemp(trust_dir) || chmod(trust_dir, 0755) < 0)
			fail_msg("mkdtemp %s: %s", trust_dir, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", trust_dir, name);
	return path;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void copy_init(const char *to, mode_t mode)
{
	static char buf[4 << 20];
	int fd = open(test_build_path("corral-init"), O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0 && n < (ssize_t)sizeof(buf));
	write_file(to, buf, (size_t)n, mode);
}

/* Back to the build's corral-init after a test pointed the runner elsewhere. */
static int restore_init(void **state)
{
	struct jail_error err;
	char cmd[600];

	if (geteuid() == 0 && jail_set_init_path(test_build_path("corral-init"), &err) < 0)
		fprintf(stderr, "restore corral-init: %s\n", err.message);
	if (trust_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", trust_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", trust_dir);
		trust_dir[0] = '\0';
	}
	return test_jail_teardown(state);
}

static void test_init_command_line_is_its_own(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	test_spec(&spec, SH("tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/1/comm"));
	test_run_ok(&spec, &run);
	/* "corral-init <record fd> <report fd>", nothing of the test binary */
	assert_true(strncmp(run.out, "corral-init ", 12) == 0);
	assert_null(strstr(run.out, "test_init"));
	assert_non_null(strstr(run.out, "\ncorral-init\n"));
}

static void test_init_does_not_carry_the_parent_memory(void **state)
{
	size_t big = 128u << 20;
	char *heap = malloc(big);
	struct jail_spec spec;
	struct test_run run;
	unsigned long rss_kb = 0;
	const char *line;

	require_root();
	assert_non_null(heap);
	memset(heap, 0x5a, big); /* 128 MiB resident in the parent */
	test_spec(&spec, SH("grep VmRSS /proc/1/status"));
	test_run_ok(&spec, &run);
	free(heap);
	line = strstr(run.out, "VmRSS:");
	assert_non_null(line);
	rss_kb = strtoul(line + 6, NULL, 10);
	assert_true(rss_kb > 0);
	assert_true(rss_kb < 8192);
}

static void test_record_fd_is_not_visible_to_the_command(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	/* the command's own fds: 0-2 (and ls's directory); init's are closed
	 * to it (init is not dumpable) */
	test_spec(&spec,
		  SH("ls /proc/self/fd | tr '\\n' ' '; echo; "
		     "ls -l /proc/self/fd/ | grep -c memfd; "
		     "ls /proc/1/fd >/dev/null 2>&1 && echo init-fds-readable || echo init-fds-hidden"));
	test_run_ok(&spec, &run);
	assert_true(strncmp(run.out, "0 1 2 3 \n0\n", 11) == 0);
	assert_non_null(strstr(run.out, "init-fds-hidden"));
}

static void test_init_has_no_capabilities_and_no_filter(void **state)
{
	struct jail_spec spec;
	struct test_run run;

	require_root();
	/* as before the exec: init is not under the command's seccomp filter */
	test_spec(&spec,
		  SH("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/1/status"));
	test_run_ok(&spec, &run);
	/* the runner raised every capability as inheritable and ambient for
	 * init's setup: none is left */
	assert_non_null(strstr(run.out, "CapInh:\t0000000000000000"));
	assert_non_null(strstr(run.out, "CapPrm:\t0000000000000000"));
	assert_non_null(strstr(run.out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(run.out, "CapBnd:\t0000000000000000"));
	assert_non_null(strstr(run.out, "CapAmb:\t0000000000000000"));
	assert_non_null(strstr(run.out, "NoNewPrivs:\t1"));
	assert_non_null(strstr(run.out, "Seccomp:\t0"));
}

static void test_untrusted_init_is_refused(void **state)
{
	struct jail_error err;
	const char *path;

	require_root();
	path = scratch("writable");
	copy_init(path, 0757);
	assert_int_equal(jail_set_init_path(path, &err), -EPERM);
	assert_string_equal(err.step, "corral-init");
	assert_non_null(strstr(err.message, "writable by group or others"));

	path = scratch("foreign");
	copy_init(path, 0755);
	assert_int_equal(chown(path, 12345, 0), 0);
	assert_int_equal(jail_set_init_path(path, &err), -EPERM);
	assert_non_null(strstr(err.message, "belongs to uid 12345"));

	/* a trusted file in a directory others may write is not trusted */
	assert_int_equal(chmod(scratch(""), 0777), 0);
	path = scratch("in-open-dir");
	copy_init(path, 0755);
	assert_int_equal(jail_set_init_path(path, &err), -EPERM);
	assert_non_null(strstr(err.message, "writable by group or others"));
	assert_int_equal(chmod(scratch(""), 0755), 0);

	/* and a symlink is resolved first: the file it names is checked */
	assert_int_equal(symlink("in-open-dir", scratch("link")), 0);
	assert_int_equal(jail_set_init_path(scratch("link"), &err), 0);
}

static void test_unexecutable_init_is_refused(void **state)
{
	struct jail_error err;
	const char *path;

	require_root();
	path = scratch("private");
	copy_init(path, 0700);
	assert_int_equal(jail_set_init_path(path, &err), -EACCES);
	assert_string_equal(err.step, "corral-init");
	assert_non_null(strstr(err.message, "not executable by others"));
	assert_int_equal(jail_set_init_path(scratch("none"), &err), -ENOENT);
	assert_string_equal(err.step, "corral-init");
}

static void test_broken_init_is_a_spawn_error_naming_the_exec(void **state)
{
	static const char junk[] = "this is not a program\n";
	struct jail_error err;
	struct jail_spec spec;
	struct test_run run;

	require_root();
	write_file(scratch("junk"), junk, sizeof(junk) - 1, 0755);
	assert_int_equal(jail_set_init_path(scratch("junk"), &err), 0);
	test_spec(&spec, SH("true"));
	assert_int_equal(test_run_spec(&spec, &run), -ENOEXEC);
	assert_string_equal(run.error.step, "exec corral-init");
	assert_non_null(strstr(run.error.message, "execute corral-init"));
	assert_int_equal(test_count_cgroups(), 0);
}

static void test_missing_init_is_a_spawn_error_naming_the_step(void **state)
{
	char run_path[600], cmd[1400];
	FILE *p;
	char line[512] = "";
	int status;

	require_root();
	if (access("/usr/local/libexec/corral/corral-init", F_OK) == 0)
		test_skip_loudly(
			"corral-init is installed in /usr/local/libexec/corral: cannot test its absence");
	/* corral-run copied where no corral-init is beside it */
	snprintf(run_path, sizeof(run_path), "%s", scratch("corral-run"));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", test_build_path("corral-run"), run_path);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --host-uid %u -- /bin/true 2>&1", run_path, test_host_uid());
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 125);
	assert_non_null(strstr(line, "step 'corral-init'"));
	assert_non_null(strstr(line, "corral-init"));
}

static void test_jail_still_dies_with_its_parent(void **state)
{
	struct jail_spec spec;
	int pipefd[2], pidfd;
	pid_t parent, init = 0;
	struct pollfd pfd;
	char name[64];

	require_root();
	assert_int_equal(pipe(pipefd), 0);
	test_spec(&spec, SH("sleep 60"));
	snprintf(name, sizeof(name), "init-orphan-%d", (int)getpid());
	spec.cgroup_name = name;
	spec.die_with_parent = true;
	parent = fork();
	assert_true(parent >= 0);
	if (parent == 0) {
		struct jail_error err;
		struct jail *j;
		pid_t pid = -1;

		close(pipefd[0]);
		if (jail_spawn(&spec, &j, &err) == 0)
			pid = jail_pid(j);
		if (write(pipefd[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &init, sizeof(init)), (ssize_t)sizeof(init));
	close(pipefd[0]);
	assert_true(init > 0);
	pidfd = (int)syscall(SYS_pidfd_open, init, 0);
	assert_true(pidfd >= 0);
	kill(parent, SIGKILL);
	waitpid(parent, NULL, 0);
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1); /* init is gone */
	close(pidfd);
	/* the dead parent's cgroup is left: remove it as a supervisor would */
	assert_int_equal(jail_reap_cgroup(spec.cgroup_parent, name, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_init_command_line_is_its_own, test_jail_teardown),
		cmocka_unit_test_teardown(test_init_does_not_carry_the_parent_memory, test_jail_teardown),
		cmocka_unit_test_teardown(test_record_fd_is_not_visible_to_the_command, test_jail_teardown),
		cmocka_unit_test_teardown(test_init_has_no_capabilities_and_no_filter, test_jail_teardown),
		cmocka_unit_test_teardown(test_untrusted_init_is_refused, restore_init),
		cmocka_unit_test_teardown(test_unexecutable_init_is_refused, restore_init),
		cmocka_unit_test_teardown(test_broken_init_is_a_spawn_error_naming_the_exec, restore_init),
		cmocka_unit_test_teardown(test_missing_init_is_a_spawn_error_naming_the_step, restore_init),
		cmocka_unit_test_teardown(test_jail_still_dies_with_its_parent, test_jail_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, test_jail_group_teardown);
}
