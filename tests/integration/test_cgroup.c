/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_cgroup.c — runner/cgroup.c against the real
 * cgroup filesystems (root).  Every leaf is "corral-test/cg-<pid>-<n>"
 * below the caller's own cgroup; each test's teardown kills the child it
 * forked (by pid) and removes its leaf, the group teardown the shared
 * "corral-test" parent.  Works on hybrid and pure v2 hosts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup.h"
#include "runner/cgroup_layout.h"
#include "tests/lib/test.h"

#define PARENT "corral-test"

struct fixture {
	char name[64];
	struct jail_cgroup *cg;
	pid_t child;
};

static struct cgroup_layout layout;

/* ---- helpers ---------------------------------------------------------- */

static void read_layout(void)
{
	static char buf[1 << 16];
	FILE *f;
	size_t n;

	memset(&layout, 0, sizeof(layout));
	f = fopen("/proc/self/mountinfo", "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	cgroup_layout_parse_mountinfo(buf, &layout);
	f = fopen("/proc/self/cgroup", "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	cgroup_layout_parse_self(buf, &layout);
}

static bool v1_has(enum cgroup_ctl c)
{
	return layout.v1[c].mounted && layout.v1[c].own_known;
}

/* Host directory of parent/name (name may be NULL) in hierarchy h. */
static const char *dir_in(const struct cgroup_hierarchy *h, const char *name, char *buf, size_t size)
{
	char rel[PATH_MAX];

	assert_int_equal(cgroup_layout_relative(h, PARENT, name, rel, sizeof(rel)), 0);
	if (snprintf(buf, size, "%s/%s", h->mount, rel) >= (int)size)
		fail_msg("path too long: %s/%s", h->mount, rel);
	return buf;
}

/* The directory whose files hold controller c's values for this leaf. */
static const char *limit_dir(enum cgroup_ctl c, const char *name, char *buf, size_t size)
{
	return dir_in(v1_has(c) ? &layout.v1[c] : &layout.unified, name, buf, size);
}

static void read_file_in(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		fail_msg("path too long: %s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		fail_msg("open %s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static bool file_exists_in(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct jail_cgroup *create_or_fail(struct fixture *fx, const struct cgroup_limits *limits)
{
	struct jail_error err = { 0 };
	int r = cgroup_create(PARENT, fx->name, limits, &fx->cg, &err);

	if (r < 0)
		fail_msg("cgroup_create %s: %d %s", fx->name, r, err.message);
	return fx->cg;
}

/* A child that waits to be killed: pause() in a loop, or burns CPU. */
static pid_t fork_child(bool spin)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(30); /* never outlive a broken test */
		for (;;)
			if (!spin)
				pause();
	}
	return pid;
}

/* A child that, once told on *go, touches bytes of memory, reports on
 * *done and waits to be killed.  Told only after the attach, so the memory
 * is charged to the test's cgroup. */
static pid_t fork_toucher(size_t bytes, int *go, int *done)
{
	int go_pipe[2], done_pipe[2];

	assert_int_equal(pipe(go_pipe), 0);
	assert_int_equal(pipe(done_pipe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		alarm(30);
		close(go_pipe[1]);
		close(done_pipe[0]);
		if (read(go_pipe[0], &c, 1) != 1)
			_exit(3);
		char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < bytes; i += 4096)
			p[i] = 1;
		if (write(done_pipe[1], "d", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(go_pipe[0]);
	close(done_pipe[1]);
	*go = go_pipe[1];
	*done = done_pipe[0];
	return pid;
}

/* Let the toucher run; true when it finished touching (false: it died). */
static bool toucher_run(int go, int done)
{
	char c;

	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	ssize_t n = read(done, &c, 1);
	close(done);
	return n == 1;
}

/* Wait for the child we forked; its wait status. */
static int reap(struct fixture *fx)
{
	int status = 0;

	assert_int_equal(waitpid(fx->child, &status, 0), fx->child);
	fx->child = 0;
	return status;
}

static int wait_populated(struct jail_cgroup *cg, int want, int timeout_ms)
{
	int r = -1;

	for (int waited = 0; waited <= timeout_ms; waited += 5) {
		r = cgroup_populated(cg);
		if (r == want || r < 0)
			return r;
		struct pollfd pfd = { .fd = cgroup_events_fd(cg), .events = POLLPRI };
		poll(&pfd, 1, 5);
	}
	return r;
}

/* ---- fixtures --------------------------------------------------------- */

static int setup(void **state)
{
	static unsigned seq;
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->name, sizeof(fx->name), "cg-%d-%u", (int)getpid(), ++seq);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;

	if (fx->child > 0) {
		kill(fx->child, SIGKILL);
		waitpid(fx->child, NULL, 0);
	}
	if (fx->cg)
		cgroup_destroy(fx->cg, &err);
	else if (cgroup_open(PARENT, fx->name, &fx->cg, &err) == 0)
		cgroup_destroy(fx->cg, &err);
	free(fx);
	return 0;
}

static int group_setup(void **state)
{
	read_layout();
	return 0;
}

/* Remove the shared parent from every hierarchy (EBUSY: another run uses it). */
static int group_teardown(void **state)
{
	char dir[PATH_MAX + 64];

	if (geteuid() != 0)
		return 0;
	if (layout.unified.mounted && layout.unified.own_known)
		rmdir(dir_in(&layout.unified, NULL, dir, sizeof(dir)));
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (v1_has(c))
			rmdir(dir_in(&layout.v1[c], NULL, dir, sizeof(dir)));
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_create_makes_the_unified_leaf(void **state)
{
	struct fixture *fx = *state;
	char dir[PATH_MAX + 64];

	require_root();
	create_or_fail(fx, NULL);
	assert_string_equal(cgroup_path(fx->cg), dir_in(&layout.unified, fx->name, dir, sizeof(dir)));
	assert_true(dir_exists(cgroup_path(fx->cg)));
	assert_true(cgroup_dir_fd(fx->cg) >= 0);
	assert_true(cgroup_events_fd(fx->cg) >= 0);
}

static void test_memory_limit_is_written_without_swap(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_limits limits = { .memory_bytes = 64u << 20 };
	char dir[PATH_MAX + 64], value[64];

	require_root();
	create_or_fail(fx, &limits);
	limit_dir(CGROUP_MEMORY, fx->name, dir, sizeof(dir));
	if (v1_has(CGROUP_MEMORY)) {
		read_file_in(dir, "memory.limit_in_bytes", value, sizeof(value));
		assert_string_equal(value, "67108864");
		if (file_exists_in(dir, "memory.memsw.limit_in_bytes")) {
			read_file_in(dir, "memory.memsw.limit_in_bytes", value, sizeof(value));
			assert_string_equal(value, "67108864");
		}
	} else {
		read_file_in(dir, "memory.max", value, sizeof(value));
		assert_string_equal(value, "67108864");
		if (file_exists_in(dir, "memory.swap.max")) {
			read_file_in(dir, "memory.swap.max", value, sizeof(value));
			assert_string_equal(value, "0");
		}
	}
}

static void test_pids_limit_is_written(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_limits limits = { .pids_max = 17 };
	char dir[PATH_MAX + 64], value[64];

	require_root();
	create_or_fail(fx, &limits);
	read_file_in(limit_dir(CGROUP_PIDS, fx->name, dir, sizeof(dir)), "pids.max", value, sizeof(value));
	assert_string_equal(value, "17");
}

static void test_cpu_quota_is_written_per_100ms_period(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_limits limits = { .cpu_millis = 250 };
	char dir[PATH_MAX + 64], value[64];

	require_root();
	create_or_fail(fx, &limits);
	limit_dir(CGROUP_CPU, fx->name, dir, sizeof(dir));
	if (v1_has(CGROUP_CPU)) {
		read_file_in(dir, "cpu.cfs_period_us", value, sizeof(value));
		assert_string_equal(value, "100000");
		read_file_in(dir, "cpu.cfs_quota_us", value, sizeof(value));
		assert_string_equal(value, "25000");
		if (v1_has(CGROUP_CPUACCT))
			assert_true(
				dir_exists(dir_in(&layout.v1[CGROUP_CPUACCT], fx->name, dir, sizeof(dir))));
	} else {
		read_file_in(dir, "cpu.max", value, sizeof(value));
		assert_string_equal(value, "25000 100000");
	}
}

/* Hybrid: no v1 cpu directory is made.  Pure v2: the leaf gets no quota
 * (cpu.max absent, or "max" when the parent enables cpu for others). */
static void test_no_cpu_limit_leaves_cpu_alone(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_limits limits = { .memory_bytes = 64u << 20, .pids_max = 10 };
	char dir[PATH_MAX + 64], value[64];

	require_root();
	create_or_fail(fx, &limits);
	if (v1_has(CGROUP_CPU)) {
		assert_false(dir_exists(dir_in(&layout.v1[CGROUP_CPU], fx->name, dir, sizeof(dir))));
		if (v1_has(CGROUP_PIDS))
			assert_true(dir_exists(dir_in(&layout.v1[CGROUP_PIDS], fx->name, dir, sizeof(dir))));
		return;
	}
	dir_in(&layout.unified, fx->name, dir, sizeof(dir));
	if (file_exists_in(dir, "cpu.max")) {
		read_file_in(dir, "cpu.max", value, sizeof(value));
		assert_string_equal(value, "max 100000");
	}
}

static void test_attached_child_makes_cgroup_populated(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;
	char dir[PATH_MAX + 64], procs[64], want[32];

	require_root();
	create_or_fail(fx, NULL);
	assert_int_equal(cgroup_populated(fx->cg), 0);
	fx->child = fork_child(false);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	assert_int_equal(cgroup_populated(fx->cg), 1);
	snprintf(want, sizeof(want), "%d", (int)fx->child);
	read_file_in(cgroup_path(fx->cg), "cgroup.procs", procs, sizeof(procs));
	assert_string_equal(procs, want);
	if (v1_has(CGROUP_MEMORY)) {
		read_file_in(dir_in(&layout.v1[CGROUP_MEMORY], fx->name, dir, sizeof(dir)), "cgroup.procs",
			     procs, sizeof(procs));
		assert_string_equal(procs, want);
	}
}

static void test_busy_child_cpu_time_is_counted(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;
	struct jail_cpu cpu = { 0 };

	require_root();
	create_or_fail(fx, NULL);
	fx->child = fork_child(true);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	/* the child spins: 20 ms of CPU, however long a loaded host takes to
	 * give it that much (100 ms of wall clock was not always enough) */
	for (int i = 0; i < 100; i++) {
		struct timespec spin = { 0, 50 * 1000000 };

		nanosleep(&spin, NULL);
		assert_int_equal(cgroup_read_cpu(fx->cg, &cpu), 0);
		if (cpu.usage_us >= 20000)
			break;
	}
	assert_true(cpu.usage_us >= 20000);
	assert_true(cpu.user_us + cpu.system_us > 0);
}

static void test_kill_empties_the_cgroup(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;

	require_root();
	create_or_fail(fx, NULL);
	fx->child = fork_child(false);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	assert_int_equal(cgroup_kill(fx->cg), 0);
	assert_int_equal(wait_populated(fx->cg, 0, 2000), 0);
	int status = reap(fx);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_destroy_removes_the_leaf_from_every_hierarchy(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_limits limits = { .memory_bytes = 64u << 20, .pids_max = 10, .cpu_millis = 500 };
	struct jail_error err;
	char dir[PATH_MAX + 64];

	require_root();
	create_or_fail(fx, &limits);
	assert_int_equal(cgroup_destroy(fx->cg, &err), 0);
	fx->cg = NULL;
	assert_false(dir_exists(dir_in(&layout.unified, fx->name, dir, sizeof(dir))));
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (v1_has(c)) {
			assert_false(dir_exists(dir_in(&layout.v1[c], fx->name, dir, sizeof(dir))));
			assert_true(dir_exists(dir_in(&layout.v1[c], NULL, dir, sizeof(dir))));
		}
	/* the shared parent stays: other jails use it concurrently */
	assert_true(dir_exists(dir_in(&layout.unified, NULL, dir, sizeof(dir))));
}

static void test_destroy_kills_what_is_still_running(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;

	require_root();
	create_or_fail(fx, &(struct cgroup_limits){ .pids_max = 10 });
	fx->child = fork_child(false);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	int r = cgroup_destroy(fx->cg, &err);
	fx->cg = NULL;
	if (r < 0)
		fail_msg("cgroup_destroy: %s", err.message);
	int status = reap(fx);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_duplicate_name_is_eexist(void **state)
{
	struct fixture *fx = *state;
	struct jail_cgroup *again = NULL;
	struct jail_error err;

	require_root();
	create_or_fail(fx, NULL);
	assert_int_equal(cgroup_create(PARENT, fx->name, NULL, &again, &err), -EEXIST);
	assert_null(again);
	assert_non_null(strstr(err.message, "exists already"));
	assert_true(dir_exists(cgroup_path(fx->cg))); /* the first one is untouched */
}

/* A leaf left over from an earlier jail (v1 pids on hybrid, the unified
 * leaf on pure v2) is EEXIST: never reused, never removed. */
static void test_leftover_leaf_is_eexist_and_not_reused(void **state)
{
	struct fixture *fx = *state;
	struct jail_cgroup *cg = NULL;
	struct jail_error err;
	char dir[PATH_MAX + 64], parent[PATH_MAX + 64], unified[PATH_MAX + 64];
	const struct cgroup_hierarchy *h = v1_has(CGROUP_PIDS) ? &layout.v1[CGROUP_PIDS] : &layout.unified;

	require_root();
	mkdir(dir_in(h, NULL, parent, sizeof(parent)), 0755);
	assert_int_equal(mkdir(dir_in(h, fx->name, dir, sizeof(dir)), 0755), 0);
	int r = cgroup_create(PARENT, fx->name, NULL, &cg, &err);
	bool left_alone = dir_exists(dir);
	rmdir(dir);
	assert_int_equal(r, -EEXIST);
	assert_null(cg);
	assert_true(left_alone);
	if (h != &layout.unified)
		assert_false(dir_exists(dir_in(&layout.unified, fx->name, unified, sizeof(unified))));
}

static void test_open_finds_an_existing_cgroup(void **state)
{
	struct fixture *fx = *state;
	struct jail_cgroup *opened = NULL;
	struct jail_error err;

	require_root();
	create_or_fail(fx, &(struct cgroup_limits){ .memory_bytes = 32u << 20 });
	fx->child = fork_child(false);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	assert_int_equal(cgroup_open(PARENT, fx->name, &opened, &err), 0);
	assert_string_equal(cgroup_path(opened), cgroup_path(fx->cg));
	assert_int_equal(cgroup_populated(opened), 1);
	cgroup_close(opened);
	assert_true(dir_exists(cgroup_path(fx->cg))); /* close leaves it alone */
}

static void test_open_of_a_missing_cgroup_is_enoent(void **state)
{
	struct fixture *fx = *state;
	struct jail_cgroup *cg = NULL;
	struct jail_error err;

	require_root();
	assert_int_equal(cgroup_open(PARENT, fx->name, &cg, &err), -ENOENT);
	assert_null(cg);
	assert_string_equal(err.step, "cgroup_open");
}

static void test_bad_name_is_einval(void **state)
{
	struct jail_cgroup *cg = NULL;
	struct jail_error err;

	require_root();
	assert_int_equal(cgroup_create(PARENT, "..", NULL, &cg, &err), -EINVAL);
	assert_int_equal(cgroup_create("a/../../..", "x", NULL, &cg, &err), -EINVAL);
	assert_null(cg);
}

static void test_tiny_cpu_quota_is_einval(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;

	require_root();
	assert_int_equal(cgroup_create(PARENT, fx->name, &(struct cgroup_limits){ .cpu_millis = 1 }, &fx->cg,
				       &err),
			 -EINVAL);
	assert_null(fx->cg);
}

static void test_absurd_pids_limit_fails_and_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err = { 0 };
	char dir[PATH_MAX + 64];

	require_root();
	/* 2^64-1 does not fit pids.max (v1 and v2: ERANGE) */
	int r = cgroup_create(PARENT, fx->name, &(struct cgroup_limits){ .pids_max = UINT64_MAX }, &fx->cg,
			      &err);
	assert_true(r < 0);
	assert_null(fx->cg);
	assert_non_null(strstr(err.message, "pids"));
	assert_false(dir_exists(dir_in(&layout.unified, fx->name, dir, sizeof(dir))));
	for (int c = 0; c < CGROUP_N_CONTROLLERS; c++)
		if (v1_has(c))
			assert_false(dir_exists(dir_in(&layout.v1[c], fx->name, dir, sizeof(dir))));
}

static void test_peak_memory_is_reported(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;
	uint64_t peak = 0, oom = 1;
	int go, done;

	require_root();
	create_or_fail(fx, &(struct cgroup_limits){ .memory_bytes = 256u << 20 });
	fx->child = fork_toucher(16u << 20, &go, &done);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	assert_true(toucher_run(go, done));
	assert_int_equal(cgroup_read_memory(fx->cg, &peak, &oom), 0);
	assert_int_equal(oom, 0);
	assert_true(peak >= (16u << 20));
	assert_true(peak < (256u << 20));
}

static void test_oom_kill_is_reported(void **state)
{
	struct fixture *fx = *state;
	struct jail_error err;
	uint64_t peak = 0, oom = 0;
	int go, done;

	require_root();
	create_or_fail(fx, &(struct cgroup_limits){ .memory_bytes = 16u << 20 });
	fx->child = fork_toucher(128u << 20, &go, &done);
	assert_int_equal(cgroup_attach(fx->cg, fx->child, true, &err), 0);
	assert_false(toucher_run(go, done));
	int status = reap(fx);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(cgroup_read_memory(fx->cg, &peak, &oom), 0);
	assert_true(oom >= 1);
	assert_true(peak >= (8u << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_makes_the_unified_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_limit_is_written_without_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pids_limit_is_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_quota_is_written_per_100ms_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cpu_limit_leaves_cpu_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attached_child_makes_cgroup_populated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_child_cpu_time_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_empties_the_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_removes_the_leaf_from_every_hierarchy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy_kills_what_is_still_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_name_is_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_leaf_is_eexist_and_not_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_finds_an_existing_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_of_a_missing_cgroup_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_name_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_cpu_quota_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absurd_pids_limit_fails_and_leaves_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_peak_memory_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_kill_is_reported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
