/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_tasks_dir.c — the state dir's tasks
 * directory against a real corrald (root): on ext2/3/4 corrald marks it as
 * the top of unrelated directories (chattr +T, task_start_spread_dirs), so
 * the allocator spreads the task directories instead of scanning the
 * recently deleted inodes of the busy group next to the state dir; a task
 * still runs and its output lands in its directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

/* Its own host uids, so other corrald tests running at the same time on
 * this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201700-4201763\n" \
	"max_running = 4\n"
#define POLICY "[plan free]\nmax_concurrent = 4\n[default]\nplan = free\n"

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static void test_tasks_dir_spreads_task_directories_on_ext4(void **state)
{
	char path[512], *out;
	struct statfs fs;
	int fd, flags = 0;
	int64_t id;

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	snprintf(path, sizeof(path), "%s/tasks", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstatfs(fd, &fs), 0);
	if (fs.f_type == EXT4_SUPER_MAGIC) { /* ext2, ext3 and ext4 share it */
		assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &flags), 0);
		assert_true(flags & FS_TOPDIR_FL);
	} else {
		printf("  %s is not on ext2/3/4 (f_type %#lx): no flag to check\n", path, (long)fs.f_type);
	}
	close(fd);

	id = corrald_submit(&daemon_, "\"argv\":[\"/bin/echo\",\"spread\"]");
	assert_true(id > 0);
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	out = corrald_logs(&daemon_, id, "stdout", NULL);
	assert_non_null(out);
	assert_string_equal(out, "spread\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tasks_dir_spreads_task_directories_on_ext4, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
