/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_supervisor_cgroup.c — where a supervisor (corrald)
 * puts itself and its jails on pure cgroup v2 (jail_supervisor_enter and
 * jail_supervisor_leave), run in the helper tests/helpers/cgroup-supervisor
 * started in a prepared cgroup: alone in a delegated cgroup, sharing one
 * with another process (refused, with the reason and the fix), and in the
 * root cgroup (a subtree of its own).  On hybrid hosts the limits live in
 * v1 and the supervisor stays put: every test then expects "nothing to do".
 * make check-v2 runs these in the pure v2 VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/test.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static bool pure_v2;
static char mount_point[64]; /* of the unified tree */
static char own[4200];       /* the test's unified cgroup ("/" or "/a/b") */
static char test_cg[4300];   /* cgroup path of this test's prepared cgroup */
static char test_dir[4400];  /* its directory */

/* ---- helpers ---------------------------------------------------------- */

static void read_own(void)
{
	struct statfs sfs;
	char line[4200];
	FILE *f;

	pure_v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
	snprintf(mount_point, sizeof(mount_point), "%s",
		 pure_v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified");
	own[0] = '\0';
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(own, sizeof(own), "%s", line + 3);
		}
	if (f)
		fclose(f);
	assert_true(own[0] == '/');
}

static bool own_is_real_root(void)
{
	char path[4600];

	snprintf(path, sizeof(path), "%s%s/cgroup.type", mount_point, strcmp(own, "/") ? own : "");
	return access(path, F_OK) < 0 && errno == ENOENT;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)strlen(text))
		fail_msg("write \"%s\" to %s: %s", text, path, strerror(errno));
}

static bool file_has_word(const char *path, const char *word)
{
	char text[512], *save = NULL;
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	for (char *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, word) == 0)
			return true;
	return false;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Pure v2: the controllers a supervisor needs must reach our cgroup's
 * children; from the root cgroup we may enable them, elsewhere not. */
static void require_controllers_for_children(void)
{
	char path[4600];

	snprintf(path, sizeof(path), "%s%s/cgroup.subtree_control", mount_point, strcmp(own, "/") ? own : "");
	if (file_has_word(path, "memory") && file_has_word(path, "pids") && file_has_word(path, "cpu"))
		return;
	if (!own_is_real_root())
		test_skip_loudly("pure v2, and our cgroup %s does not give memory, pids and cpu to "
				 "its children (run from the root cgroup, as make check-v2 does)",
				 own);
	write_file(path, "+memory +pids +cpu");
}

/* Start the helper (and, with a sibling, a sleeping process first) in the
 * prepared cgroup (its child sub, when not NULL), or where we are when
 * in_test_cg is false; its output in out. */
static void run_helper_in(bool in_test_cg, const char *sub, bool sibling, const char *subtree_name, char *out,
			  size_t size)
{
	char procs[4700];
	int pipefd[2];
	pid_t other = -1;

	snprintf(procs, sizeof(procs), "%s%s%s/cgroup.procs", test_dir, sub ? "/" : "", sub ? sub : "");
	if (sibling) {
		other = fork();
		assert_true(other >= 0);
		if (other == 0) {
			alarm(60);
			for (;;)
				pause();
		}
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", (int)other);
		write_file(procs, pid);
	}
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd = in_test_cg ? open(procs, O_WRONLY) : -1;
		if (in_test_cg && (fd < 0 || write(fd, "0", 1) != 1))
			_exit(3);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		const char *helper = test_build_path("tests/helpers/cgroup-supervisor");
		execl(helper, helper, subtree_name, "corral", (char *)NULL);
		_exit(4);
	}
	close(pipefd[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(pipefd[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	if (other > 0) {
		kill(other, SIGKILL);
		waitpid(other, NULL, 0);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("helper ended with status 0x%x: %s", status, out);
	printf("%s", out);
}

static void run_helper(bool in_test_cg, bool sibling, const char *subtree_name, char *out, size_t size)
{
	run_helper_in(in_test_cg, NULL, sibling, subtree_name, out, size);
}

/* The line of out that starts with key + ' ' (the n-th one, from 1), without key. */
static const char *line_of(const char *out, const char *key, int nth, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == ' ' && --nth == 0) {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), p + klen + 1);
			return buf;
		}
		p = nl ? nl + 1 : NULL;
	}
	fail_msg("no line \"%s\" in the helper's output:\n%s", key, out);
	return NULL;
}

static int setup(void **state)
{
	read_own();
	snprintf(test_cg, sizeof(test_cg), "%s/corral-test-sup-%d", strcmp(own, "/") ? own : "",
		 (int)getpid());
	snprintf(test_dir, sizeof(test_dir), "%s%s", mount_point, test_cg);
	return 0;
}

static int teardown(void **state)
{
	char path[4600];

	snprintf(path, sizeof(path), "%s/supervisor", test_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/corral", test_dir);
	rmdir(path);
	rmdir(test_dir);
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_alone_in_its_cgroup_it_uses_it_as_its_subtree(void **state)
{
	char out[8192], buf[4800], want[4800], path[4800];

	require_root();
	if (pure_v2)
		require_controllers_for_children();
	assert_int_equal(mkdir(test_dir, 0755), 0);
	run_helper(true, false, "corrald-unused", out, sizeof(out));
	if (!pure_v2) {
		assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), "0 - -");
		return;
	}
	snprintf(want, sizeof(want), "1 %s -", test_cg);
	assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "%s/supervisor", test_cg);
	assert_string_equal(line_of(out, "cgroup", 1, buf, sizeof(buf)), want);
	assert_non_null(strstr(line_of(out, "subtree_control", 1, buf, sizeof(buf)), "memory"));
	assert_non_null(strstr(buf, "pids"));
	assert_non_null(strstr(buf, "cpu"));
	assert_non_null(strstr(line_of(out, "jails_control", 1, buf, sizeof(buf)), "memory"));
	/* at exit: back in its cgroup, which is left as it was found */
	assert_string_equal(line_of(out, "leave", 1, buf, sizeof(buf)), "1 -");
	assert_string_equal(line_of(out, "cgroup", 2, buf, sizeof(buf)), test_cg);
	snprintf(path, sizeof(path), "%s/supervisor", test_dir);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/corral", test_dir);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", test_dir);
	assert_false(file_has_word(path, "memory"));
}

/* A corrald that executed itself again at a handover (SIGUSR2) starts in
 * its own leaf: its subtree stays the cgroup above, where its jails are,
 * rather than a new one nested in the leaf (issue 17). */
static void test_in_its_own_leaf_it_keeps_the_subtree_above(void **state)
{
	char out[8192], buf[4800], want[4800], path[4800];

	require_root();
	if (pure_v2)
		require_controllers_for_children();
	assert_int_equal(mkdir(test_dir, 0755), 0);
	if (pure_v2) { /* as the first image left it: controllers given to its leaf */
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", test_dir);
		write_file(path, "+memory +pids +cpu");
	}
	snprintf(path, sizeof(path), "%s/supervisor", test_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	run_helper_in(true, "supervisor", false, "corrald-unused", out, sizeof(out));
	if (!pure_v2) {
		assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), "0 - -");
		return;
	}
	snprintf(want, sizeof(want), "1 %s -", test_cg);
	assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "%s/supervisor", test_cg);
	assert_string_equal(line_of(out, "cgroup", 1, buf, sizeof(buf)), want);
	assert_non_null(strstr(line_of(out, "jails_control", 1, buf, sizeof(buf)), "memory"));
	snprintf(path, sizeof(path), "%s/supervisor/supervisor", test_dir);
	assert_false(exists(path));
	/* at exit it stays in its leaf: the cgroup above gives controllers to
	 * children, so no process may go back there */
	assert_string_equal(line_of(out, "leave", 1, buf, sizeof(buf)), "0 -");
	snprintf(want, sizeof(want), "%s/supervisor", test_cg);
	assert_string_equal(line_of(out, "cgroup", 2, buf, sizeof(buf)), want);
	snprintf(path, sizeof(path), "%s/supervisor/corral", test_dir);
	assert_false(exists(path));
}

static void test_sharing_its_cgroup_it_refuses_and_says_what_to_do(void **state)
{
	char out[8192], buf[4800], path[4800];

	require_root();
	if (pure_v2)
		require_controllers_for_children();
	assert_int_equal(mkdir(test_dir, 0755), 0);
	run_helper(true, true, "corrald-unused", out, sizeof(out));
	line_of(out, "enter", 1, buf, sizeof(buf));
	if (!pure_v2) {
		assert_string_equal(buf, "0 - -");
		return;
	}
	assert_true(strncmp(buf, "-16 - ", 6) == 0); /* -EBUSY */
	assert_non_null(strstr(buf, "1 other process"));
	assert_non_null(strstr(buf, "only a cgroup without processes"));
	assert_non_null(strstr(buf, "Delegate=yes"));
	assert_non_null(strstr(buf, "root cgroup"));
	assert_string_equal(line_of(out, "cgroup", 1, buf, sizeof(buf)), test_cg);
	snprintf(path, sizeof(path), "%s/supervisor", test_dir);
	assert_false(exists(path));
}

static void test_in_the_root_cgroup_it_makes_a_subtree_and_removes_it(void **state)
{
	char out[8192], buf[4800], want[4800], name[64], path[4800];

	require_root();
	snprintf(name, sizeof(name), "corral-test-root-%d", (int)getpid());
	if (pure_v2 && !own_is_real_root())
		test_skip_loudly("pure v2 but not in the root cgroup (%s): make check-v2 runs this", own);
	run_helper(false, false, name, out, sizeof(out));
	if (!pure_v2) {
		assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), "0 - -");
		return;
	}
	snprintf(want, sizeof(want), "1 /%s -", name);
	assert_string_equal(line_of(out, "enter", 1, buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "/%s/supervisor", name);
	assert_string_equal(line_of(out, "cgroup", 1, buf, sizeof(buf)), want);
	assert_non_null(strstr(line_of(out, "subtree_control", 1, buf, sizeof(buf)), "memory"));
	assert_non_null(strstr(line_of(out, "jails_control", 1, buf, sizeof(buf)), "pids"));
	assert_string_equal(line_of(out, "leave", 1, buf, sizeof(buf)), "1 -");
	assert_string_equal(line_of(out, "cgroup", 2, buf, sizeof(buf)), "/");
	snprintf(path, sizeof(path), "%s/%s", mount_point, name);
	assert_false(exists(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alone_in_its_cgroup_it_uses_it_as_its_subtree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_its_own_leaf_it_keeps_the_subtree_above, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sharing_its_cgroup_it_refuses_and_says_what_to_do, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_the_root_cgroup_it_makes_a_subtree_and_removes_it,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
