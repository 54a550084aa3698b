/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_identity.c — who corrald serves and what
 * it trusts at start (issue 16, "Identities and uids"): a uid without a
 * passwd entry mints no tenant; tenant_from = group bills the passwd
 * primary group, not the connection's effective gid; corrald refuses a uid
 * range that real users or their subordinate ids share, a state dir,
 * socket dir or parent others own or may write, and a database that is a
 * symbolic link or belongs to someone else.  Each test starts its own
 * corrald on a temp dir (root).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "supervisor/doctor/doctor.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_COMMON "kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nmax_running = 4\n"
#define UID_RANGE "uid_range = 4201000-4201063\n"
#define SUPERVISOR_KEYS SUPERVISOR_COMMON UID_RANGE
#define PLANS "[plan free]\nmax_concurrent = 2\nmax_queued = 10\n[default]\nplan = free\n"

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static void start(const char *access)
{
	char body[1024];
	int r;

	snprintf(body, sizeof(body), "%s" PLANS, access);
	r = corrald_start(&daemon_, SUPERVISOR_KEYS, body, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static json_t *call_as(uid_t uid, gid_t gid, const char *line)
{
	json_t *out[1] = { NULL };

	if (corrald_calls_as(&daemon_, uid, gid, &line, 1, out) < 0)
		return NULL;
	return out[0];
}

/* A uid without a passwd entry (a subordinate uid mapped with newuidmap)
 * used to become tenant "uid<N>" on the [default] plan, with a budget of
 * its own: one user with 65536 subordinate uids was 65536 tenants. */
static void test_uid_without_passwd_entry_is_refused(void **state)
{
	json_t *r;

	(void)state;
	require_root();
	start("[access]\noperators = root\n");
	r = call_as(CORRALD_TEST_UNKNOWN_UID, CORRALD_TEST_UNKNOWN_UID,
		    "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}");
	if (!r)
		fail_msg("no answer to a refused uid: it should get an error line");
	if (!corrald_error_code(r)) {
		char *text = json_dumps(r, JSON_COMPACT);

		fail_msg("uid %u (no passwd entry) was served: %s", CORRALD_TEST_UNKNOWN_UID, text);
	}
	assert_string_equal(corrald_error_code(r), "forbidden");
	assert_non_null(strstr(corrald_error_message(r), "passwd"));
	json_decref(r);
	/* and nothing was stored for it */
	json_t *tasks = corrald_list(&daemon_, "uid4300001");
	assert_non_null(tasks);
	assert_int_equal(json_array_size(tasks), 0);
	json_decref(tasks);
}

/* tenant_from = group: `sg users corral submit` made "users" pay. */
static void test_group_tenant_is_the_passwd_primary_group_not_the_egid(void **state)
{
	json_t *r;

	(void)state;
	require_root();
	start("[access]\noperators = root\ntenant_from = group\n");
	/* nobody's primary group is nogroup (65534); it connects with egid 100 */
	r = call_as(CORRALD_TEST_OTHER_UID, 100, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	if (corrald_error_code(r))
		fail_msg("submit refused: %s", corrald_error_message(r));
	assert_string_equal(task_str(json_object_get(r, "task"), "user"), "nogroup");
	json_decref(r);
}

/* The default uid_range (100000-165535) was exactly what useradd gives the
 * first user in /etc/subuid: the default must lie outside
 * SUB_UID_MIN..SUB_UID_MAX of login.defs (doctor's check on this host). */
static void test_default_uid_range_lies_outside_useradds_subordinate_ids(void **state)
{
	char path[] = "/tmp/corral-policy-XXXXXX";
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	struct doctor_report report = { 0 };
	struct doctor_host host = { .root = NULL, .seccomp_prctl = DOCTOR_NOT_PROBED };
	const struct doctor_finding *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "[supervisor]\n", 13) == 13);
	close(fd);
	assert_int_equal(policy_load(path, &p, &errors), 0);
	unlink(path);
	const struct policy_supervisor *sv = policy_supervisor(p);
	struct doctor_config config = { .uid_first = sv->uid_first,
					.uid_last = sv->uid_last,
					.max_running = sv->max_running };
	doctor_uids_check(&host, &config, &report);
	f = doctor_report_find(&report, "uid_range.useradd");
	assert_non_null(f);
	if (f->verdict != DOCTOR_OK)
		fail_msg("default uid_range %u-%u: %s", sv->uid_first, sv->uid_last, f->detail);
	/* shadow's default SUB_UID_MAX, whatever this host's login.defs says */
	assert_true(sv->uid_first > 600100000u);
	doctor_report_free(&report);
	policy_free(p);
	policy_errors_free(&errors);
}

/* ---- what corrald refuses to start with -------------------------------- */

/* Run a second corrald on the prepared policy with this state dir and
 * socket: its exit status (-ETIMEDOUT: it started and ran); its log in
 * log (static). */
static int run_corrald(const char *state_dir, const char *socket, const char **log)
{
	static char text[8192];
	char log_path[256];
	ssize_t n;
	int r, fd;

	snprintf(log_path, sizeof(log_path), "%s/refused.log", daemon_.dir);
	unlink(log_path);
	r = corrald_run_other(daemon_.policy, state_dir, socket, log_path, 3000);
	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : 0;
	text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	*log = text;
	return r;
}

/* uid_range: NULL for the tests' own */
static void prepare(const char *uid_range)
{
	char keys[512];

	snprintf(keys, sizeof(keys), "%s%s", SUPERVISOR_COMMON, uid_range ? uid_range : UID_RANGE);
	assert_int_equal(corrald_prepare(&daemon_, keys, "[access]\noperators = root\n" PLANS), 0);
}

static void expect_refused(const char *state_dir, const char *socket, const char *needle1,
			   const char *needle2)
{
	const char *log;
	int r = run_corrald(state_dir, socket, &log);

	if (r == -ETIMEDOUT || r == 0)
		fail_msg("corrald started (state %s, socket %s); log:\n%s", state_dir, socket, log);
	if (!strstr(log, needle1) || (needle2 && !strstr(log, needle2)))
		fail_msg("corrald's refusal does not say '%s'%s%s:\n%s", needle1, needle2 ? " and " : "",
			 needle2 ? needle2 : "", log);
}

static void path_in(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", daemon_.dir, rel);
}

static void test_uid_range_overlapping_a_passwd_user_is_refused(void **state)
{
	char dir[256], sock[256];

	(void)state;
	require_root();
	/* nobody is uid 65534 */
	prepare("uid_range = 65500-65563\n");
	path_in(dir, sizeof(dir), "state");
	path_in(sock, sizeof(sock), "corrald2.sock");
	expect_refused(dir, sock, "nobody (65534)", "/etc/passwd");
}

static void test_state_dir_of_another_owner_is_refused(void **state)
{
	char dir[256], sock[256];

	(void)state;
	require_root();
	prepare(NULL);
	path_in(dir, sizeof(dir), "state");
	path_in(sock, sizeof(sock), "corrald2.sock");
	assert_int_equal(mkdir(dir, 0711), 0);
	assert_int_equal(chown(dir, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID), 0);
	expect_refused(dir, sock, dir, "belongs to uid 65534");
}

static void test_state_dir_below_a_world_writable_parent_is_refused(void **state)
{
	char parent[256], dir[300], sock[256];

	(void)state;
	require_root();
	prepare(NULL);
	path_in(parent, sizeof(parent), "open");
	snprintf(dir, sizeof(dir), "%s/state", parent);
	path_in(sock, sizeof(sock), "corrald2.sock");
	assert_int_equal(mkdir(parent, 0777), 0);
	assert_int_equal(chmod(parent, 0777), 0); /* no sticky bit: anyone may rename state */
	expect_refused(dir, sock, parent, "writable by everyone");
}

static void test_socket_dir_writable_by_its_group_is_refused(void **state)
{
	char dir[256], sockdir[256], sock[300];

	(void)state;
	require_root();
	prepare(NULL);
	path_in(dir, sizeof(dir), "state");
	path_in(sockdir, sizeof(sockdir), "run");
	snprintf(sock, sizeof(sock), "%s/corrald.sock", sockdir);
	assert_int_equal(mkdir(sockdir, 0775), 0);
	assert_int_equal(chmod(sockdir, 0775), 0);
	assert_int_equal(chown(sockdir, 0, 100), 0);
	expect_refused(dir, sock, sockdir, "socket");
}

static void test_database_that_is_a_symlink_is_refused(void **state)
{
	char dir[256], sock[256], db[300], target[256];
	int fd;

	(void)state;
	require_root();
	prepare(NULL);
	path_in(dir, sizeof(dir), "state");
	path_in(sock, sizeof(sock), "corrald2.sock");
	path_in(target, sizeof(target), "elsewhere.db");
	snprintf(db, sizeof(db), "%s/corral.db", dir);
	assert_int_equal(mkdir(dir, 0711), 0);
	fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(target, db), 0);
	expect_refused(dir, sock, db, "symbolic link");
}

static void test_database_of_another_owner_or_readable_by_others_is_refused(void **state)
{
	char dir[256], sock[256], db[300];
	int fd;

	(void)state;
	require_root();
	prepare(NULL);
	path_in(dir, sizeof(dir), "state");
	path_in(sock, sizeof(sock), "corrald2.sock");
	snprintf(db, sizeof(db), "%s/corral.db", dir);
	assert_int_equal(mkdir(dir, 0711), 0);
	fd = open(db, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(db, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID), 0);
	expect_refused(dir, sock, db, "belongs to uid 65534");
	assert_int_equal(chown(db, 0, 0), 0);
	assert_int_equal(chmod(db, 0644), 0);
	expect_refused(dir, sock, db, "chmod 600");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_uid_without_passwd_entry_is_refused, teardown),
		cmocka_unit_test_teardown(test_group_tenant_is_the_passwd_primary_group_not_the_egid,
					  teardown),
		cmocka_unit_test(test_default_uid_range_lies_outside_useradds_subordinate_ids),
		cmocka_unit_test_teardown(test_uid_range_overlapping_a_passwd_user_is_refused, teardown),
		cmocka_unit_test_teardown(test_state_dir_of_another_owner_is_refused, teardown),
		cmocka_unit_test_teardown(test_state_dir_below_a_world_writable_parent_is_refused, teardown),
		cmocka_unit_test_teardown(test_socket_dir_writable_by_its_group_is_refused, teardown),
		cmocka_unit_test_teardown(test_database_that_is_a_symlink_is_refused, teardown),
		cmocka_unit_test_teardown(test_database_of_another_owner_or_readable_by_others_is_refused,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
