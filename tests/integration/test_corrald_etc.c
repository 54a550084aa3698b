/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_etc.c — corrald's jails bind a /etc
 * prepared once in <state dir>/etc (runner/host_etc_dir.c) against a real
 * corrald (root): a task's /etc holds what init built before (its hostname,
 * the sandbox user and group of the profile's uid, hosts, the host files
 * byte for byte), read-only, the set's files not the jail's; two tenants'
 * tasks share one set and find neither tenant's name in it; a host file
 * changed in place reaches the next task (a new set) while the old set
 * stays.  The test runs in a mount namespace of its own, a temp file bound
 * over one host file, so the change touches nothing of the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

/* Its own host uids, so other corrald tests running at the same time on
 * this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4202000-4202063\n" \
	"max_running = 4\n"
#define POLICY                                                                       \
	"[access]\noperators = root\n"                                               \
	"[plan free]\nmax_concurrent = 4\nmax_queued = 100\nmax_task_seconds = 1m\n" \
	"[default]\nplan = free\n"                                                   \
	"[profile default]\nhostname = etcbox\nuid = 1234\ngid = 1235\n"

/* Tenants whose names appear in no host file. */
#define TENANT_A "etcten7alpha"
#define TENANT_B "etcten7bravo"

/* The given host file a temp file is bound over (in our namespace). */
#define CHANGED "host.conf"

static const char script[] =
	"cat /etc/hostname; grep sandbox /etc/passwd; grep sandbox /etc/group; cat /etc/hosts; "
	"cd / && cksum etc/ld.so.cache etc/nsswitch.conf etc/" CHANGED "; "
	"touch /etc/x /etc/passwd 2>&1; "
	"echo tenant=$(grep -rl -e " TENANT_A " -e " TENANT_B " /etc 2>/dev/null | head -1); "
	"echo root=$(grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f4)";

static struct corrald daemon_;
static int bound_fd = -1; /* the temp file bound over /etc/CHANGED (unlinked) */

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* The cksum lines of the host files the script sums (in our namespace). */
static void host_cksum(char *out, size_t len)
{
	FILE *p = popen("cd / && cksum etc/ld.so.cache etc/nsswitch.conf etc/" CHANGED, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

/* The script's output as tenant (caller frees). */
static char *run_as(const char *tenant)
{
	char fields[4096], *argv, *out;
	json_t *a = json_pack("[sss]", "/bin/sh", "-c", script);
	int64_t id;

	argv = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	snprintf(fields, sizeof(fields), "\"user\":\"%s\",\"argv\":%s", tenant, argv);
	free(argv);
	id = corrald_submit(&daemon_, fields);
	assert_true(id > 0);
	out = corrald_must_succeed(&daemon_, id, 30000);
	return out;
}

/* The set a task's /etc came from ("root=" of its output): a directory
 * <state dir>/etc/<16 hex>, root's, 0755; its name in name. */
static void assert_from_a_set(const char *out, char name[17])
{
	const char *root = strstr(out, "root="), *slash;
	char state[PATH_MAX], path[PATH_MAX + 64];
	struct stat st;
	size_t len;

	assert_non_null(root);
	root += 5;
	len = strcspn(root, "\n");
	slash = memrchr(root, '/', len);
	assert_non_null(slash);
	if (root + len - slash - 1 != 16)
		fail_msg("/etc is not a prepared set's bind: %.*s", (int)len, root);
	memcpy(name, slash + 1, 16);
	name[16] = '\0';
	assert_non_null(realpath(daemon_.dir, state));
	snprintf(path, sizeof(path), "%s/etc/%s", state, name);
	/* the mount's root is the path on its filesystem: a suffix of ours */
	assert_true(len >= 21 && strncmp(root + len - 21, "/etc/", 5) == 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 0);
}

static void assert_etc_as_before(const char *out)
{
	char cksum[512], want[2048];

	host_cksum(cksum, sizeof(cksum));
	snprintf(want, sizeof(want),
		 "etcbox\n"
		 "sandbox:x:1234:1235:corral sandbox:/work:/bin/sh\n"
		 "sandbox:x:1235:\n"
		 "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tetcbox\n"
		 "%s"
		 "touch: cannot touch '/etc/x': Read-only file system\n"
		 /* the set's file, root's on the host: EACCES before EROFS */
		 "touch: cannot touch '/etc/passwd': Permission denied\n"
		 "tenant=\n",
		 cksum);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("the task's /etc:\n%s\nwanted:\n%s", out, want);
}

static void test_a_tasks_etc_is_as_before_read_only_from_one_set(void **state)
{
	char first[17], second[17];
	char *out;

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	for (int i = 0; i < 2; i++) { /* the second takes the set the first made */
		out = run_as(TENANT_A);
		assert_etc_as_before(out);
		assert_from_a_set(out, i ? second : first);
		free(out);
	}
	assert_string_equal(first, second);
}

/* Nothing per tenant reaches a set (passwd names "sandbox", the uid is the
 * profile's): both tenants' tasks see the same /etc from the same set. */
static void test_two_tenants_share_a_set_with_neither_name_in_it(void **state)
{
	char *a, *b;

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	a = run_as(TENANT_A);
	b = run_as(TENANT_B);
	assert_etc_as_before(a);
	assert_etc_as_before(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* A host file changed in place (its mtime and ctime) gives the next task a
 * new set with the new text; the old set stays (a running jail may use it). */
static void test_a_changed_host_file_reaches_the_next_task(void **state)
{
	char before[17], after[17], old_set[PATH_MAX + 64], state_real[PATH_MAX];
	static const char changed[] = "# changed by test_corrald_etc\nmulti on\n";
	struct stat st;
	char *out;

	(void)state;
	test_require_root();
	if (corrald_start(&daemon_, SUPERVISOR_KEYS, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
	out = run_as(TENANT_A);
	assert_etc_as_before(out);
	assert_from_a_set(out, before);
	free(out);
	/* in place: the bind keeps the inode */
	assert_int_not_equal(bound_fd, -1);
	assert_int_equal(ftruncate(bound_fd, 0), 0);
	assert_int_equal(pwrite(bound_fd, changed, strlen(changed), 0), (ssize_t)strlen(changed));
	test_sleep_ms(150); /* corrald stamps the host /etc at most every 0.1 s */
	out = run_as(TENANT_A);
	assert_non_null(strstr(out, "etc/" CHANGED)); /* summed, and as the host's now: */
	assert_etc_as_before(out);
	assert_from_a_set(out, after);
	free(out);
	assert_string_not_equal(before, after);
	assert_non_null(realpath(daemon_.dir, state_real));
	snprintf(old_set, sizeof(old_set), "%s/etc/%s", state_real, before);
	assert_int_equal(stat(old_set, &st), 0);
}

/* A mount namespace of our own (corrald and its jails inherit it) with a
 * temp copy of /etc/CHANGED bound over it; the copy unlinked at once, kept
 * open in bound_fd. */
static int private_etc_file(void)
{
	char path[] = "/tmp/corrald-etc-XXXXXX", cmd[256];
	int fd = mkstemp(path), r = 0;

	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(cmd, sizeof(cmd), "cp /etc/" CHANGED " %s && chmod 0644 %s", path, path);
	if (system(cmd) != 0 || (bound_fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(path, "/etc/" CHANGED, NULL, MS_BIND, NULL) < 0)
		r = errno ? -errno : -EIO;
	unlink(path);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_tasks_etc_is_as_before_read_only_from_one_set, teardown),
		cmocka_unit_test_teardown(test_two_tenants_share_a_set_with_neither_name_in_it, teardown),
		cmocka_unit_test_teardown(test_a_changed_host_file_reaches_the_next_task, teardown),
	};
	int r;

	if (geteuid() == 0 && access("/etc/" CHANGED, R_OK) == 0 && (r = private_etc_file()) < 0) {
		fprintf(stderr, "a private mount namespace with /etc/" CHANGED " bound: %s\n", strerror(-r));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
