/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/jail.c — one real jail in the test process (see jail.h): the
 * temp dir with the probe, a spec with test defaults, the run and its
 * output, and this process's own jail cgroups (jail-<pid>-* below
 * corral-test below its own cgroup), which is where its checks look.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/cgroup_procs.h"
#include "tests/lib/jail.h"
#include "tests/lib/test.h"

static char dir[64];
static char out_path[128], err_path[128];
static struct jail_mount probe_mount;

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(in);
	close(out);
	return n == 0 ? 0 : -EIO;
}

const char *test_jail_dir(void)
{
	char probe[128];

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "/tmp/corral-it-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) {
		fail_msg("mkdtemp: %s", strerror(errno));
		return dir;
	}
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	if (copy_file(test_build_path("tests/probes/probe"), probe, 0755) < 0)
		fail_msg("copy the probe from %s (make tests builds it)",
			 test_build_path("tests/probes/probe"));
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	return dir;
}

void test_jail_cleanup(void)
{
	if (!dir[0])
		return;
	if (test_remove_tree(dir) < 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	dir[0] = '\0';
}

void test_spec(struct jail_spec *spec, char *const *argv)
{
	test_jail_dir();
	jail_spec_init(spec);
	spec->argv = argv;
	spec->host_uid = spec->host_gid = test_host_uid();
	spec->cgroup_parent = "corral-test";
	spec->stdout_path = out_path;
	spec->stderr_path = err_path;
	spec->wall_time_ms = 30000;
	probe_mount.kind = JAIL_MOUNT_BIND_RO;
	probe_mount.source = dir;
	probe_mount.target = "/t";
	spec->mounts = &probe_mount;
	spec->n_mounts = 1;
}

int test_run_spec(const struct jail_spec *spec, struct test_run *run)
{
	struct jail *j = NULL;

	memset(run, 0, sizeof(*run));
	run->spawn_rc = jail_spawn(spec, &j, &run->error);
	if (run->spawn_rc == 0) {
		jail_wait(j, &run->result, &run->error);
		jail_free(j);
	}
	if (spec->stdout_path)
		test_read_text(spec->stdout_path, run->out, sizeof(run->out));
	if (spec->stderr_path)
		test_read_text(spec->stderr_path, run->err, sizeof(run->err));
	if (run->spawn_rc == 0 && run->result.status != JAIL_OK)
		fprintf(stderr, "jail %s: %s (exit %d, signal %d)\nstdout: %.2000s\nstderr: %.2000s\n",
			spec->argv[0], jail_status_name(run->result.status), run->result.exit_code,
			run->result.signal, run->out, run->err);
	return run->spawn_rc;
}

void test_run_ok(const struct jail_spec *spec, struct test_run *run)
{
	assert_int_equal(test_run_spec(spec, run), 0);
	assert_string_equal(jail_status_name(run->result.status), "ok");
}

/* Jails this test process made: the runner names them jail-<pid>-<seq>
 * (tests that name cgroups themselves use the same prefix).  Other test
 * processes may share corral-test at the same time.  Calls fn on each such
 * cgroup directory in parent; the sum of its results. */
static int for_each_own_jail(const char *parent, int (*fn)(const char *cgroup, const void *arg),
			     const void *arg)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	char prefix[32], path[1400];
	int sum = 0;

	snprintf(prefix, sizeof(prefix), "jail-%d-", (int)getpid());
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		sum += fn(path, arg);
	}
	if (d)
		closedir(d);
	return sum;
}

/* corral-test below our own cgroup in the unified tree and in the v1
 * hierarchies jails use: fn on each of our jail cgroups there. */
static int for_each_own_jail_cgroup(int (*fn)(const char *cgroup, const void *arg), const void *arg)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], path[1024];
	struct stat st;
	bool hybrid = stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0;
	int sum = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *own;

		if (!ctrl || !(own = strchr(ctrl + 1, ':')))
			continue;
		*own++ = '\0';
		ctrl++;
		own[strcspn(own, "\n")] = '\0';
		if (strcmp(own, "/") == 0)
			own = "";
		if (*ctrl == '\0')
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s%s/corral-test",
				 hybrid ? "/unified" : "", own);
		else if (strcmp(ctrl, "memory") == 0 || strcmp(ctrl, "pids") == 0 || strcmp(ctrl, "cpu") == 0)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/corral-test", ctrl, own);
		else
			continue;
		sum += for_each_own_jail(path, fn, arg);
	}
	if (f)
		fclose(f);
	return sum;
}

static int count_one(const char *cgroup, const void *arg)
{
	(void)cgroup;
	(void)arg;
	return 1;
}

int test_count_cgroups(void)
{
	return for_each_own_jail_cgroup(count_one, NULL);
}

struct wanted_cmdline {
	const char *cmdline;
	size_t len;
};

static int has_cmdline(const char *cgroup, const void *arg)
{
	const struct wanted_cmdline *w = arg;

	return cgroup_procs_find_cmdline(cgroup, w->cmdline, w->len) ? 1 : 0;
}

bool test_jail_has_process(const char *cmdline, size_t len)
{
	struct wanted_cmdline w = { cmdline, len };

	return for_each_own_jail_cgroup(has_cmdline, &w) > 0;
}

void test_jail_prepare(void)
{
	struct jail_error err;

	if (jail_set_init_path(test_build_path("corral-init"), &err) < 0)
		fail_msg("jail_set_init_path(%s): %s", test_build_path("corral-init"), err.message);
}

int test_jail_teardown(void **state)
{
	(void)state;
	assert_int_equal(test_count_cgroups(), 0);
	return 0;
}

int test_jail_group_teardown(void **state)
{
	(void)state;
	jail_cleanup_cgroup_parent("corral-test");
	test_jail_cleanup();
	return 0;
}
