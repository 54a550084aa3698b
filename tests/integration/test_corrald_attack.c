/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_attack.c — an unprivileged local user (or
 * a hostile client) against a real corrald (root): pipelining tricks,
 * floods, connection and waiter exhaustion, stale identity after a policy
 * reload, leftover files, and the attacks corrald refuses.  Every test starts
 * its own daemon on a temp state dir; DoS attempts are bounded (seconds,
 * at most a few thousand connections).
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_BASE \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200000-4200063\n"
#define POLICY_BASE                                                                                         \
	"[access]\noperators = root\n"                                                                      \
	"[plan free]\nmax_concurrent = 2\nmax_queued = 100\nmax_task_seconds = 1m\nmax_cpu_seconds = 30s\n" \
	"memory = 256M\n"                                                                                   \
	"[default]\nplan = free\n"
#define OTHER CORRALD_TEST_OTHER_UID

static struct corrald daemon_;

static void start_with(const char *access, const char *extra_policy)
{
	char sup[512], body[4096];
	int r;

	snprintf(sup, sizeof(sup), SUPERVISOR_BASE "max_running = 8\n");
	snprintf(body, sizeof(body), "%s%s%s", access ? access : "[access]\noperators = root\n",
		 POLICY_BASE + strlen("[access]\noperators = root\n"), extra_policy ? extra_policy : "");
	r = corrald_start(&daemon_, sup, body, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

static void start(const char *extra_policy)
{
	start_with(NULL, extra_policy);
}

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* ping on a fresh root connection: seconds it took, or -1 if no answer
 * within timeout_ms */
static double ping_latency(unsigned timeout_ms)
{
	int fd = corrald_connect_as(&daemon_, 0, 0);
	double t0 = test_mono_s(), dt = -1;
	json_t *r;

	if (fd < 0)
		return -1;
	if (corrald_raw_send(fd, "{\"op\":\"ping\"}\n", 14) == 0 &&
	    (r = corrald_raw_recv(fd, timeout_ms)) != NULL) {
		if (json_is_true(json_object_get(r, "ok")))
			dt = test_mono_s() - t0;
		json_decref(r);
	}
	close(fd);
	return dt;
}

static json_t *call_raw(int fd, const char *line)
{
	char *l = NULL;

	if (asprintf(&l, "%s\n", line) < 0)
		return NULL;
	if (corrald_raw_send(fd, l, strlen(l)) < 0) {
		free(l);
		return NULL;
	}
	free(l);
	return corrald_raw_recv(fd, 5000);
}

static void assert_error(json_t *r, const char *code)
{
	if (!r)
		fail_msg("no answer (wanted %s)\n%s", code, corrald_log_tail(&daemon_));
	if (!corrald_error_code(r) || strcmp(corrald_error_code(r), code) != 0) {
		char *text = json_dumps(r, JSON_COMPACT);

		fail_msg("wanted error %s, got %s", code, text ? text : "?");
	}
	json_decref(r);
}

static void assert_ok(json_t *r)
{
	if (!r)
		fail_msg("no answer\n%s", corrald_log_tail(&daemon_));
	if (corrald_error_code(r)) {
		char *text = json_dumps(r, JSON_COMPACT);

		fail_msg("wanted ok, got %s", text ? text : "?");
	}
	json_decref(r);
}

static size_t count_stdin_files(void)
{
	char path[256];
	struct dirent *e;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/tasks", daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((e = readdir(dir)) != NULL)
		if (strncmp(e->d_name, "stdin-", 6) == 0)
			n++;
	closedir(dir);
	return n;
}

/* ---- findings ------------------------------------------------------------ */

/* A submit and a cancel of the id it will get, in one write: both run in
 * one loop iteration, before the submit's store batch commits.  cancel frees
 * the queued task (queue_remove) that the pending submit still points at;
 * the submit's answer is then built from freed memory (use after free). */
static void test_submit_then_cancel_in_one_batch_still_answers_the_submit(void **state)
{
	char buf[1024];
	json_t *r, *answers[3] = { NULL, NULL, NULL };
	int64_t first, a_id = -1, b_id = -1;
	int fd;

	(void)state;
	require_root();
	start(NULL);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	first = task_int(json_object_get(r, "task"), "id");
	json_decref(r);
	assert_true(first > 0);
	snprintf(buf, sizeof(buf),
		 "{\"op\":\"submit\",\"tag\":\"a\",\"argv\":[\"/bin/sleep\",\"5\"]}\n"
		 "{\"op\":\"cancel\",\"tag\":\"c\",\"id\":%lld}\n"
		 "{\"op\":\"submit\",\"tag\":\"b\",\"argv\":[\"/bin/sleep\",\"5\"]}\n",
		 (long long)first + 1);
	assert_int_equal(corrald_raw_send(fd, buf, strlen(buf)), 0);
	for (int i = 0; i < 3; i++) {
		json_t *x = corrald_raw_recv(fd, 3000);
		const char *tag;

		if (!x)
			break;
		tag = json_string_value(json_object_get(x, "tag"));
		if (tag && strcmp(tag, "a") == 0)
			answers[0] = x;
		else if (tag && strcmp(tag, "b") == 0)
			answers[2] = x;
		else
			answers[1] = x;
	}
	if (answers[0])
		a_id = task_int(json_object_get(answers[0], "task"), "id");
	if (answers[2])
		b_id = task_int(json_object_get(answers[2], "task"), "id");
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)first + 2));
	close(fd);
	if (!answers[0] || a_id != first + 1)
		fail_msg("the submit acknowledged before its cancel got %s (wanted task %lld); b got %lld",
			 answers[0] ? "another task's id" : "no answer at all", (long long)first + 1,
			 (long long)b_id);
	assert_non_null(answers[1]);
	assert_null(corrald_error_code(answers[1]));
	assert_string_equal(task_str(json_object_get(answers[1], "task"), "state"), "cancelled");
	assert_int_equal(b_id, first + 2);
	for (int i = 0; i < 3; i++)
		json_decref(answers[i]);
}

/* One client writes a flood of empty lines (then a ping).  read_input()
 * memmove()s the rest of the buffer after every line: quadratic work inside
 * one event (~0.7 s of daemon CPU per MiB), while every other client and
 * every deadline waits. */
static void test_newline_flood_does_not_stall_the_daemon(void **state)
{
	size_t flood = 4u << 20;
	char *nl = malloc(flood + 16);
	double worst = 0, took = -1, t0;
	int fd, pfd[2];
	pid_t pid;

	(void)state;
	require_root();
	assert_non_null(nl);
	memset(nl, '\n', flood);
	memcpy(nl + flood, "{\"op\":\"ping\"}\n", 14);
	start(NULL);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	assert_int_equal(pipe(pfd), 0);
	t0 = test_mono_s();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_t *r;
		double dt = -1;

		close(pfd[0]);
		if (corrald_raw_send(fd, nl, flood + 14) == 0 && (r = corrald_raw_recv(fd, 20000)) != NULL)
			dt = test_mono_s() - t0;
		if (write(pfd[1], &dt, sizeof(dt)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	/* root pings meanwhile: the worst wait */
	while (test_mono_s() - t0 < 20) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		double dt = ping_latency(5000);

		if (dt < 0)
			dt = 5;
		if (dt > worst)
			worst = dt;
		if (poll(&p, 1, 20) == 1)
			break;
	}
	if (read(pfd[0], &took, sizeof(took)) != sizeof(took))
		took = -1;
	close(pfd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	free(nl);
	print_message("4 MiB of newlines took %.2f s to get through; root's worst ping meanwhile %.2f s\n",
		      took, worst);
	if (took < 0 || took > 1.0 || worst > 0.5)
		fail_msg("4 MiB of empty lines kept corrald busy %.2f s; root's ping waited up to %.2f s",
			 took, worst);
}

/* Waiters are unbounded per client and each keeps its tag (up to a whole
 * 2 MiB request line): a user parks ~190 MiB of daemon memory with a few
 * wait requests on their own running task. */
static void test_parked_waits_with_huge_tags_do_not_grow_the_daemon(void **state)
{
	size_t tag_len = (API_MAX_LINE - 4096), n = 100;
	char *line = malloc(tag_len + 256);
	long rss0, rss1;
	int64_t id;
	json_t *r;
	int fd, len;

	(void)state;
	require_root();
	assert_non_null(line);
	start(NULL);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/sleep\",\"30\"]}");
	assert_non_null(r);
	id = task_int(json_object_get(r, "task"), "id");
	json_decref(r);
	json_decref(corrald_wait_state(&daemon_, id, "running", 5000));
	rss0 = corrald_rss_kb(&daemon_);
	len = snprintf(line, 256, "{\"op\":\"wait\",\"id\":%lld,\"tag\":\"", (long long)id);
	memset(line + len, 'T', tag_len);
	strcpy(line + len + tag_len, "\"}\n");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(corrald_raw_send(fd, line, strlen(line)), 0);
	assert_true(ping_latency(10000) >= 0); /* everything read */
	rss1 = corrald_rss_kb(&daemon_);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)id));
	close(fd);
	free(line);
	if (rss1 - rss0 > 64 * 1024)
		fail_msg("%zu parked waits of one client grew corrald by %ld MiB (%ld -> %ld kB)", n,
			 (rss1 - rss0) / 1024, rss0, rss1);
}

/* MAX_CLIENTS (4096) is one pool for every uid: one user who opens 4096
 * idle connections locks every other user, and root, out. */
static void test_one_user_cannot_take_every_connection_slot(void **state)
{
	size_t n = 4100;
	int *fds = calloc(n, sizeof(*fds));
	int got;
	double dt;

	(void)state;
	require_root();
	assert_non_null(fds);
	start(NULL);
	got = corrald_connect_many_as(&daemon_, OTHER, OTHER, fds, n);
	assert_true(got > 4000);
	usleep(300000);
	dt = ping_latency(2000);
	for (int i = 0; i < got; i++)
		close(fds[i]);
	free(fds);
	if (dt < 0)
		fail_msg("root could not use corrald while %d idle connections of uid %u were open", got,
			 OTHER);
}

/* Who the caller is (operator, may use, tenant) is decided once, at
 * accept.  A policy_reload that takes operator rights (or access) away does
 * not reach connections that are already open. */
static void test_policy_reload_revokes_rights_of_open_connections(void **state)
{
	char body[4096];
	int64_t root_task;
	int op_fd, user_fd;
	json_t *r;

	(void)state;
	require_root();
	start_with("[access]\noperators = root " CORRALD_TEST_OTHER_TENANT "\n", NULL);
	root_task = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	assert_true(root_task > 0);
	op_fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	user_fd = corrald_connect_as(&daemon_, CORRALD_TEST_SECOND_UID, CORRALD_TEST_SECOND_UID);
	assert_true(op_fd >= 0 && user_fd >= 0);
	snprintf(body, sizeof(body), "{\"op\":\"status\",\"id\":%lld}", (long long)root_task);
	assert_ok(call_raw(op_fd, body)); /* an operator today */
	assert_ok(call_raw(user_fd, "{\"op\":\"ping\"}"));

	/* nobody is no operator any more, daemon may not use corral */
	assert_int_equal(corrald_write_policy(
				 &daemon_, SUPERVISOR_BASE "max_running = 8\n",
				 "[access]\noperators = root\nusers = root " CORRALD_TEST_OTHER_TENANT "\n"
				 "[plan free]\nmax_concurrent = 2\n[default]\nplan = free\n"),
			 0);
	r = corrald_call(&daemon_, "{\"op\":\"policy_reload\"}");
	assert_ok(r);

	r = call_raw(op_fd, body);
	if (!corrald_error_code(r)) {
		json_decref(r);
		close(op_fd);
		close(user_fd);
		fail_msg("after the reload, uid %u's open connection still reads root's task %lld", OTHER,
			 (long long)root_task);
	}
	assert_error(r, "forbidden");
	assert_error(call_raw(user_fd, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}"), "forbidden");
	/* a fresh connection is judged by the new policy (this part holds) */
	close(op_fd);
	op_fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_error(call_raw(op_fd, body), "forbidden");
	close(op_fd);
	close(user_fd);
}

/* A real user in MANY_GROUPS groups whose operator rule names the last one:
 * corrald read at most 64 groups (and, when there were more, none at all),
 * so the rule was silently dropped.  The user and groups are created for
 * the test and removed after it. */
#define MANY_GROUPS 70

static char many_user[32];
static unsigned many_tag;

static void remove_many_groups_user(void)
{
	char cmd[128];

	if (!many_user[0])
		return;
	snprintf(cmd, sizeof(cmd), "userdel %s >/dev/null 2>&1", many_user);
	if (system(cmd) != 0) {
		/* it may not have been created */
	}
	for (unsigned i = 0; i < MANY_GROUPS; i++) {
		snprintf(cmd, sizeof(cmd), "groupdel crg%u_%u >/dev/null 2>&1", many_tag, i);
		if (system(cmd) != 0) {
			/* idem */
		}
	}
	many_user[0] = '\0';
}

static int teardown_many_groups(void **state)
{
	remove_many_groups_user();
	return teardown(state);
}

static void test_operator_rule_on_a_users_70th_group_is_honoured(void **state)
{
	static char cmd[MANY_GROUPS * 24 + 128];
	char access[256];
	struct passwd *pw;
	size_t used;
	int fd;

	(void)state;
	require_root();
	many_tag = (unsigned)getpid() % 100000u;
	snprintf(many_user, sizeof(many_user), "cru%u", many_tag);
	for (unsigned i = 0; i < MANY_GROUPS; i++) {
		snprintf(cmd, sizeof(cmd), "groupadd crg%u_%u", many_tag, i);
		if (system(cmd) != 0)
			fail_msg("%s failed", cmd);
	}
	used = (size_t)snprintf(cmd, sizeof(cmd), "useradd -M -N -s /usr/sbin/nologin -G ");
	for (unsigned i = 0; i < MANY_GROUPS; i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%scrg%u_%u", i ? "," : "", many_tag,
					 i);
	snprintf(cmd + used, sizeof(cmd) - used, " %s", many_user);
	if (system(cmd) != 0)
		fail_msg("useradd failed: %s", cmd);
	pw = getpwnam(many_user);
	assert_non_null(pw);

	snprintf(access, sizeof(access), "[access]\noperators = root @crg%u_%u\n", many_tag, MANY_GROUPS - 1);
	start_with(access, NULL);
	fd = corrald_connect_as(&daemon_, pw->pw_uid, pw->pw_gid);
	assert_true(fd >= 0);
	/* only operators may list another tenant's tasks */
	assert_ok(call_raw(fd, "{\"op\":\"list\",\"user\":\"root\"}"));
	close(fd);
}

/* submit's stdin goes to tasks/stdin-XXXXXX and is never removed: each
 * finished (or cancelled) task leaves up to 1 MiB behind for ever, so a
 * tenant fills the state disk at max_queued per round, without limit. */
static void test_stdin_files_are_removed_once_tasks_end(void **state)
{
	json_t *r;
	int64_t done, cancelled;

	(void)state;
	require_root();
	start(NULL);
	done = corrald_submit(&daemon_, "\"argv\":[\"/bin/cat\"],\"stdin\":\"hello\"");
	assert_true(done > 0);
	json_decref(corrald_wait(&daemon_, done, 10000));
	/* a queued task that is cancelled (the plan runs 2 at a time) */
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"5\"]") > 0);
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"5\"]") > 0);
	cancelled = corrald_submit(&daemon_, "\"argv\":[\"/bin/cat\"],\"stdin\":\"x\"");
	assert_true(cancelled > 0);
	r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)cancelled);
	assert_ok(r);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)cancelled - 1));
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)cancelled - 2));
	if (count_stdin_files() != 0)
		fail_msg("%zu tasks/stdin-* files are left after their tasks ended", count_stdin_files());
}

/* ---- attacks that are refused -------------------------------------------- */

static void test_non_operator_cannot_exceed_plan_or_act_for_others(void **state)
{
	char status[128], logs[128], wait[128], cancel[128];
	int64_t root_task;
	int fd;
	json_t *r;

	(void)state;
	require_root();
	start("[profile wide]\nbind_rw = /tmp:/hosttmp\n");
	root_task = corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"5\"]");
	assert_true(root_task > 0);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	/* another profile, another tenant, above the plan */
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"profile\":\"wide\",\"argv\":[\"/bin/true\"]}"),
		     "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"user\":\"root\",\"argv\":[\"/bin/true\"]}"),
		     "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"timeout_ms\":60001,\"argv\":[\"/bin/true\"]}"),
		     "limit_exceeded");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"cpu_limit_ms\":30001,\"argv\":[\"/bin/true\"]}"),
		     "limit_exceeded");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"memory_bytes\":268435457,\"argv\":[\"/bin/true\"]}"),
		     "limit_exceeded");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"timeout_ms\":0,\"argv\":[\"/bin/true\"]}"),
		     "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"cpu_limit_ms\":-1,\"argv\":[\"/bin/true\"]}"),
		     "bad_request");
	assert_error(
		call_raw(fd,
			 "{\"op\":\"submit\",\"memory_bytes\":18446744073709551615,\"argv\":[\"/bin/true\"]}"),
		"bad_request");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/true\\u0000x\"]}"), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"submit\",\"cwd\":\"tmp\",\"argv\":[\"/bin/true\"]}"),
		     "bad_request");
	/* another tenant's task, usage, queue, list; operator ops */
	snprintf(status, sizeof(status), "{\"op\":\"status\",\"id\":%lld}", (long long)root_task);
	snprintf(logs, sizeof(logs), "{\"op\":\"logs\",\"id\":%lld,\"follow\":true}", (long long)root_task);
	snprintf(wait, sizeof(wait), "{\"op\":\"wait\",\"id\":%lld}", (long long)root_task);
	snprintf(cancel, sizeof(cancel), "{\"op\":\"cancel\",\"id\":%lld}", (long long)root_task);
	assert_error(call_raw(fd, status), "forbidden");
	assert_error(call_raw(fd, logs), "forbidden");
	assert_error(call_raw(fd, wait), "forbidden");
	assert_error(call_raw(fd, cancel), "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"usage\",\"user\":\"root\"}"), "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"queue\",\"user\":\"root\"}"), "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"policy_reload\"}"), "forbidden");
	assert_error(call_raw(fd, "{\"op\":\"usage\",\"month\":\"2024-1'\"}"), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"usage\",\"month\":\"2024-13\"}"), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"list\",\"limit\":10001}"), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"status\",\"id\":-1}"), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"status\",\"id\":1e400}"), "bad_request");
	close(fd);
	r = corrald_status(&daemon_, root_task);
	assert_string_equal(task_str(r, "state"), "running");
	json_decref(r);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)root_task));
}

static void test_hostile_json_is_answered_and_the_daemon_lives(void **state)
{
	size_t depth = 100000;
	char *deep = malloc(depth * 2 + 64), *p;
	int fd;

	(void)state;
	require_root();
	assert_non_null(deep);
	start(NULL);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	/* a tag nested 100000 deep */
	p = deep + sprintf(deep, "{\"op\":\"ping\",\"tag\":");
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	strcpy(p + 2 * depth, "}");
	assert_error(call_raw(fd, deep), "bad_request");
	free(deep);
	/* invalid UTF-8, a NUL byte, a huge number, a bare string */
	assert_error(call_raw(fd, "{\"op\":\"ping\",\"tag\":\"\xff\xfe\"}"), "bad_request");
	assert_int_equal(corrald_raw_send(fd, "{\"op\":\"ping\"\0}\n", 16), 0);
	assert_error(corrald_raw_recv(fd, 5000), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"logs\",\"id\":1,\"offset\":99999999999999999999999}"),
		     "bad_request");
	assert_error(call_raw(fd, "\"ping\""), "bad_request");
	assert_error(call_raw(fd, "{\"op\":\"ping\",\"op\":\"submit\"}"), "bad_request");
	assert_ok(call_raw(fd, "{\"op\":\"ping\",\"tag\":{\"deep\":[1,2,{\"x\":null}]}}"));
	close(fd);
	assert_true(ping_latency(5000) >= 0);
}

static void test_logs_offsets_at_the_edges(void **state)
{
	char line[256];
	int64_t id, queued;
	int fd;
	json_t *r;

	(void)state;
	require_root();
	start(NULL);
	fd = corrald_connect_as(&daemon_, OTHER, OTHER);
	assert_true(fd >= 0);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/echo\",\"hi\"]}");
	id = task_int(json_object_get(r, "task"), "id");
	json_decref(r);
	json_decref(corrald_wait(&daemon_, id, 10000));
	snprintf(line, sizeof(line), "{\"op\":\"logs\",\"id\":%lld,\"offset\":9223372036854775807}",
		 (long long)id);
	r = call_raw(fd, line);
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	assert_string_equal(json_string_value(json_object_get(r, "data_base64")), "");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"logs\",\"id\":%lld,\"offset\":1,\"max\":1}", (long long)id);
	r = call_raw(fd, line);
	assert_string_equal(json_string_value(json_object_get(r, "data_base64")), "aQ=="); /* "i" */
	json_decref(r);
	/* a queued task's logs (no task dir yet) */
	assert_true(corrald_submit(&daemon_, "\"argv\":[\"/bin/sleep\",\"5\"]") > 0);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	json_decref(r);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/sleep\",\"5\"]}");
	json_decref(r);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/sleep\",\"5\"]}");
	json_decref(r);
	r = call_raw(fd, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"]}");
	queued = task_int(json_object_get(r, "task"), "id");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"logs\",\"id\":%lld}", (long long)queued);
	r = call_raw(fd, line);
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	assert_false(json_is_true(json_object_get(r, "eof")));
	json_decref(r);
	close(fd);
	assert_true(ping_latency(5000) >= 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_submit_then_cancel_in_one_batch_still_answers_the_submit,
					  teardown),
		cmocka_unit_test_teardown(test_newline_flood_does_not_stall_the_daemon, teardown),
		cmocka_unit_test_teardown(test_parked_waits_with_huge_tags_do_not_grow_the_daemon, teardown),
		cmocka_unit_test_teardown(test_one_user_cannot_take_every_connection_slot, teardown),
		cmocka_unit_test_teardown(test_policy_reload_revokes_rights_of_open_connections, teardown),
		cmocka_unit_test_teardown(test_stdin_files_are_removed_once_tasks_end, teardown),
		cmocka_unit_test_teardown(test_non_operator_cannot_exceed_plan_or_act_for_others, teardown),
		cmocka_unit_test_teardown(test_hostile_json_is_answered_and_the_daemon_lives, teardown),
		cmocka_unit_test_teardown(test_logs_offsets_at_the_edges, teardown),
		cmocka_unit_test_teardown(test_operator_rule_on_a_users_70th_group_is_honoured,
					  teardown_many_groups),
	};

	if (getenv("ATTACK_FILTER")) /* e.g. "*flood*" */
		cmocka_set_test_filter(getenv("ATTACK_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
