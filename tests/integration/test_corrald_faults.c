/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_faults.c — a real corrald under faults
 * (root): kill -9 at random moments in a run of 1,000 tasks, adoption of a
 * running jail after a crash (and on_restart = kill), a jail that ends while
 * corrald is down, SIGTERM drain, SIGHUP with a broken policy, a full disk
 * for the state dir, a second corrald on the same state dir or socket.
 * Every test starts its own daemon (tests/lib/corrald.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define SUPERVISOR_BASE "kill_grace = 200ms\nuid_range = 4200064-4200127\n"
#define POLL_50MS "poll_interval = 50ms\n"
#define POLICY_BASE                                                                   \
	"[access]\noperators = root\n"                                                \
	"[plan free]\nmax_concurrent = 1\nmax_queued = 5000\nmax_task_seconds = 1m\n" \
	"[default]\nplan = free\n"

static struct corrald daemon_;
static char tmpfs_dir[128]; /* mounted by the full-disk test */
static char other_dir[64];  /* a second state dir */
#define CRASH_USERS 4
/* the crash run's submitter children (0 = none or reaped): a failed run
 * leaves them to the teardown, which kills them by pid */
static pid_t submitters[CRASH_USERS];

static void start(const char *supervisor_keys, const char *policy)
{
	char sup[1024];
	int r;

	snprintf(sup, sizeof(sup), SUPERVISOR_BASE POLL_50MS "%s", supervisor_keys ? supervisor_keys : "");
	r = corrald_start(&daemon_, sup, policy ? policy : POLICY_BASE, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

/* The crash run's submitters that a failed assertion left running. */
static void kill_submitters(void)
{
	for (int u = 0; u < CRASH_USERS; u++) {
		if (submitters[u] <= 0)
			continue;
		fprintf(stderr, "teardown: killing submitter u%d (pid %d)\n", u, (int)submitters[u]);
		kill(submitters[u], SIGKILL);
		waitpid(submitters[u], NULL, 0);
		submitters[u] = 0;
	}
}

static int teardown(void **state)
{
	(void)state;
	kill_submitters();
	if (daemon_.pid > 0) {
		int r = corrald_stop(&daemon_);

		if (r != 0)
			fprintf(stderr, "teardown: corrald exited with %d; log:\n%s\n", r,
				corrald_log_tail(&daemon_));
	}
	if (tmpfs_dir[0]) {
		if (umount2(tmpfs_dir, MNT_DETACH) < 0)
			fprintf(stderr, "teardown: umount %s: %s\n", tmpfs_dir, strerror(errno));
		tmpfs_dir[0] = '\0';
	}
	if (other_dir[0]) {
		test_remove_tree(other_dir);
		other_dir[0] = '\0';
	}
	corrald_cleanup(&daemon_);
	return 0;
}

static bool is_terminal(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
		strcmp(state, "cancelled") == 0;
}

/* How many lines of corrald's log hold needle (at most stop_at). */
static size_t log_count(const char *needle, size_t stop_at)
{
	FILE *f = fopen(daemon_.log, "re");
	char *line = NULL;
	size_t cap = 0, n = 0;

	while (f && n < stop_at && getline(&line, &cap, f) > 0)
		n += strstr(line, needle) != NULL;
	free(line);
	if (f)
		fclose(f);
	return n;
}

static bool log_contains(const char *needle)
{
	return log_count(needle, 1) > 0;
}

static void assert_no_leftovers(const char *cmdline, size_t len)
{
	int cgroups = corrald_count_task_cgroups(&daemon_);

	if (cgroups != 0)
		fail_msg("%d task cgroups left under %s", cgroups, daemon_.cgroup_parent);
	if (cmdline && corrald_process_with_cmdline(&daemon_, cmdline, len))
		fail_msg("the task's process is still alive");
}

/* The month a clock offset to the 15th of March 2031 lands in: the usage
 * checks must not straddle a real month boundary. */
#define FIXED_MONTH "2031-03"
static double offset_to_fixed_month(void)
{
	return test_offset_to(2031, 3, 15, 12, 0, 0);
}

/* ---- kill -9 at random moments in a run of 1,000 tasks ------------------ */

#define CRASH_TASKS_PER_USER 250
#define CRASH_MAX_ATTEMPTS 1000 /* submit attempts per user, acked or not */

static const unsigned crash_concurrency[CRASH_USERS] = { 2, 3, 4, 2 };

/* One submitter per user, as a child process: a fresh token per attempt
 * (so a stored-but-unacknowledged submit can never look like a rerun), the
 * acknowledged "token id" pairs appended to acks_path.  Reconnects while
 * corrald is down.  Exits 0 once CRASH_TASKS_PER_USER were acknowledged. */
static void submitter(int user, const char *acks_path, unsigned seed)
{
	int fd = open(acks_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	struct connection c;
	bool connected = false;
	int acked = 0;

	srand(seed);
	for (int seq = 0; seq < CRASH_MAX_ATTEMPTS && acked < CRASH_TASKS_PER_USER; seq++) {
		static const char *const work[] = {
			"exec /bin/true",
			"i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done",
			"exec sleep 0.05",
		};
		char line[512], rec[64];
		struct error err;
		json_t *r = NULL;
		const char *code, *message;

		while (!connected) {
			if (connection_connect(&c, daemon_.socket, &err) == 0)
				connected = true;
			else
				test_sleep_ms(5);
		}
		snprintf(line, sizeof(line),
			 "{\"op\":\"submit\",\"user\":\"u%d\",\"argv\":[\"/bin/sh\",\"-c\","
			 "\"echo t%d-%d >> /shared/ran; %s\"]}",
			 user, user, seq, work[seq % 3]);
		if (connection_call(&c, line, &r, &err) < 0) {
			connection_close(&c);
			connected = false;
			continue; /* no answer: stored or not, we may not count it */
		}
		if (connection_response_error(r, &code, &message)) {
			fprintf(stderr, "submitter u%d: %s: %s\n", user, code, message);
		} else {
			long long id = (long long)json_integer_value(
				json_object_get(json_object_get(r, "task"), "id"));
			int n = snprintf(rec, sizeof(rec), "t%d-%d %lld\n", user, seq, id);

			if (write(fd, rec, (size_t)n) != n)
				_exit(3);
			acked++;
		}
		json_decref(r);
		test_sleep_ms(8 + (unsigned)(rand() % 12));
	}
	_exit(acked == CRASH_TASKS_PER_USER ? 0 : 2);
}

/* Print every process of this test that has a file under dir open (who
 * holds the lock): the jails below the daemon's cgroup parent and the
 * submitters; never the rest of the host. */
static void describe_lock_holders(const char *dir)
{
	pid_t pids[512 + CRASH_USERS];
	size_t n = corrald_list_processes(&daemon_, pids, 512);

	if (n > 512)
		n = 512;
	for (int u = 0; u < CRASH_USERS; u++)
		if (submitters[u] > 0)
			pids[n++] = submitters[u];
	for (size_t i = 0; i < n; i++) {
		char path[64], target[512], cmd[256];
		DIR *fds;
		struct dirent *f;

		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pids[i]);
		fds = opendir(path);
		while (fds && (f = readdir(fds)) != NULL) {
			char link[600];
			ssize_t len;

			snprintf(link, sizeof(link), "%s/%s", path, f->d_name);
			len = readlink(link, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = '\0';
			if (strncmp(target, dir, strlen(dir)) != 0)
				continue;
			snprintf(link, sizeof(link), "/proc/%d/comm", (int)pids[i]);
			test_read_text(link, cmd, sizeof(cmd));
			cmd[strcspn(cmd, "\n")] = '\0';
			fprintf(stderr, "crash run: pid %d (%s) holds fd %s -> %s\n", (int)pids[i], cmd,
				f->d_name, target);
		}
		if (fds)
			closedir(fds);
	}
}

struct acked {
	char token[32];
	long long id;
	bool seen;
};

static size_t read_acks(const char *path, struct acked *out, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;

	while (f && n < cap && fscanf(f, "%31s %lld", out[n].token, &out[n].id) == 2)
		n++;
	if (f)
		fclose(f);
	return n;
}

static int count_markers(const char *ran_path, const char *token)
{
	FILE *f = fopen(ran_path, "re");
	char line[64];
	int n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		n += strcmp(line, token) == 0;
	}
	if (f)
		fclose(f);
	return n;
}

/* The task's status file has corral-init's exec mark (and no exec error):
 * its command may have run. */
static bool command_may_have_started(long long id)
{
	char path[300], text[4096] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tasks/%lld/status",
		 daemon_.state_dir[0] ? daemon_.state_dir : daemon_.dir, id);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return (strncmp(text, "exec=1\n", 7) == 0 || strstr(text, "\nexec=1\n")) &&
		!strstr(text, "exec_error=");
}

struct span {
	long long at;
	int delta; /* +1 start, -1 end */
};

static int by_time_ends_first(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->delta - y->delta;
}

static void test_kill9_at_random_moments_loses_and_repeats_nothing(void **state)
{
	char policy[4096], shared[160], ran[200], acks_path[CRASH_USERS][200];
	bool submitting = true;
	unsigned kills = 0, seed = (unsigned)time(NULL);
	uint64_t t0 = test_mono_ms();
	json_t *tasks;
	size_t total_acked = 0, i;
	static struct acked acks[CRASH_USERS * CRASH_MAX_ATTEMPTS];
	json_t *task;
	int r, fd;
	size_t by_reason_lost = 0, by_reason_signal = 0, succeeded = 0, blamed = 0, retried = 0,
	       lost_unstarted = 0;
	long long lost_unstarted_example = 0;
	unsigned refused_restarts = 0;
	long long blamed_example = 0;

	(void)state;
	require_root();
	/* the shared marker file every task appends its token to */
	r = corrald_prepare(&daemon_, NULL, NULL);
	assert_int_equal(r, 0);
	snprintf(shared, sizeof(shared), "%s/shared", daemon_.dir);
	snprintf(ran, sizeof(ran), "%s/ran", shared);
	assert_int_equal(mkdir(shared, 0777), 0);
	assert_int_equal(chmod(shared, 0777), 0);
	fd = open(ran, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(ran, 0666), 0);
	snprintf(policy, sizeof(policy),
		 "[access]\noperators = root\n"
		 "[profile shared]\nbind_rw = %s:/shared\n"
		 /* a kill every few hundred ms can catch one task in its setup
		  * several times: 10 attempts keep "gave up" out of the run */
		 "[plan p2]\nmax_concurrent = 2\nmax_queued = 2000\nmax_task_seconds = 30s\nprofile = shared\n"
		 "max_attempts = 10\n"
		 "[plan p3]\ninherit = p2\nmax_concurrent = 3\n"
		 "[plan p4]\ninherit = p2\nmax_concurrent = 4\n"
		 "[user u0]\nplan = p2\n[user u1]\nplan = p3\n[user u2]\nplan = p4\n[user u3]\nplan = p2\n",
		 shared);
	r = corrald_write_policy(&daemon_,
				 SUPERVISOR_BASE "max_running = 8\ndrain_timeout = 0\npoll_interval = 20ms\n",
				 policy);
	assert_int_equal(r, 0);
	r = corrald_spawn(&daemon_, offset_to_fixed_month());
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));

	for (int u = 0; u < CRASH_USERS; u++) {
		snprintf(acks_path[u], sizeof(acks_path[u]), "%s/acks-u%d", daemon_.dir, u);
		submitters[u] = fork();
		assert_true(submitters[u] >= 0);
		if (submitters[u] == 0)
			submitter(u, acks_path[u], seed + (unsigned)u);
	}
	srand(seed);
	fprintf(stderr, "crash run: seed %u\n", seed);
	/* kill -9 every 50-150 ms of progress while submitting, then until
	 * every task ended (at most 120 s in all: retries wait out a backoff of
	 * 1 s x attempts) */
	for (;;) {
		bool all_done = false;

		test_sleep_ms(50 + (unsigned)(rand() % 101));
		if (submitting) {
			int left = 0;

			for (int u = 0; u < CRASH_USERS; u++) {
				int status;

				if (submitters[u] > 0 &&
				    waitpid(submitters[u], &status, WNOHANG) == submitters[u]) {
					submitters[u] = 0; /* reaped: the teardown must not kill its pid */
					if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
						fail_msg("submitter u%d failed (status %d)", u, status);
				}
				left += submitters[u] > 0;
			}
			submitting = left > 0;
		}
		if (!submitting) {
			json_t *all = corrald_list(&daemon_, NULL);

			all_done = all != NULL;
			json_array_foreach (all, i, task)
				all_done = all_done && is_terminal(task_str(task, "state"));
			json_decref(all);
		}
		if (all_done)
			break;
		if (test_mono_ms() - t0 > 120000)
			fail_msg("the crash run did not settle in 120 s (%u kills)\n%s", kills,
				 corrald_log_tail(&daemon_));
		r = corrald_crash_restart(&daemon_);
		if (r < 0) {
			/* refused (e.g. "state dir locked" by a leftover of the killed
			 * daemon): note it, and try again as systemd would */
			refused_restarts++;
			describe_lock_holders(daemon_.dir);
			test_sleep_ms(200);
			r = corrald_spawn(&daemon_, daemon_.clock_offset_s);
			if (r < 0)
				fail_msg("restart after kill -9 #%u failed twice: %s\n%s", kills + 1,
					 strerror(-r), corrald_log_tail(&daemon_));
		}
		kills++;
	}

	/* every acknowledged id is terminal exactly once, ran at most once */
	for (int u = 0; u < CRASH_USERS; u++)
		total_acked += read_acks(acks_path[u], acks + total_acked,
					 CRASH_USERS * CRASH_MAX_ATTEMPTS - total_acked);
	assert_int_equal(total_acked, CRASH_USERS * CRASH_TASKS_PER_USER);
	tasks = corrald_list(&daemon_, NULL);
	assert_non_null(tasks);
	json_array_foreach (tasks, i, task) {
		const char *cmd = json_string_value(json_array_get(json_object_get(task, "argv"), 2));
		char token[32] = "";
		int markers;

		if (!is_terminal(task_str(task, "state")))
			fail_msg("task %lld is %s", task_int(task, "id"), task_str(task, "state"));
		if (!cmd || sscanf(cmd, "echo %31s", token) != 1)
			fail_msg("task %lld has an argv this test did not submit", task_int(task, "id"));
		for (size_t k = 0; k < total_acked; k++) {
			if (strcmp(acks[k].token, token) != 0)
				continue;
			if (acks[k].id != task_int(task, "id"))
				fail_msg("token %s: acknowledged as task %lld, stored as task %lld", token,
					 acks[k].id, task_int(task, "id"));
			if (acks[k].seen)
				fail_msg("task %lld is listed twice", acks[k].id);
			acks[k].seen = true;
		}
		markers = count_markers(ran, token);
		if (markers > 1)
			fail_msg("task %lld (%s) ran %d times", task_int(task, "id"), token, markers);
		if (strcmp(task_str(task, "state"), "succeeded") == 0 && markers != 1)
			fail_msg("task %lld succeeded but its command left %d markers", task_int(task, "id"),
				 markers);
		/* a start that died with corrald runs again, up to max_attempts (10) */
		if (task_int(task, "attempts") > 10 || task_int(task, "attempts") < 1)
			fail_msg("task %lld has %lld attempts", task_int(task, "id"),
				 task_int(task, "attempts"));
		retried += task_int(task, "attempts") > 1;
		/* failed for the infrastructure though its command never started
		 * (no exec mark from corral-init): it should have run again */
		if ((strcmp(task_str(task, "reason"), "supervisor_lost") == 0 ||
		     strcmp(task_str(task, "reason"), "spawn_error") == 0) &&
		    !command_may_have_started(task_int(task, "id"))) {
			lost_unstarted++;
			lost_unstarted_example = task_int(task, "id");
			fprintf(stderr, "task %lld never started but ended %s after %lld attempts: %s\n",
				task_int(task, "id"), task_str(task, "reason"), task_int(task, "attempts"),
				task_str(task, "message"));
		}
		/* a command that never ran (its first act is the marker) was not
		 * killed by a signal nor did it exit: corrald lost its jail */
		if (markers == 0 &&
		    (strcmp(task_str(task, "reason"), "signal") == 0 ||
		     strcmp(task_str(task, "reason"), "exit_code") == 0)) {
			blamed++;
			blamed_example = task_int(task, "id");
		}
		succeeded += strcmp(task_str(task, "state"), "succeeded") == 0;
		by_reason_lost += strcmp(task_str(task, "reason"), "supervisor_lost") == 0;
		by_reason_signal += strcmp(task_str(task, "reason"), "signal") == 0;
	}
	for (size_t k = 0; k < total_acked; k++)
		if (!acks[k].seen)
			fail_msg("acknowledged task %lld (%s) is not in the store", acks[k].id,
				 acks[k].token);

	/* charged CPU == sum of the tasks' CPU, per user, to the microsecond;
	 * never more than max_concurrent of a user at once */
	for (int u = 0; u < CRASH_USERS; u++) {
		char name[16];
		long long sum = 0, used;
		struct span *spans;
		size_t n = 0;
		int running = 0, peak = 0;
		json_t *mine;

		snprintf(name, sizeof(name), "u%d", u);
		mine = corrald_list(&daemon_, name);
		assert_non_null(mine);
		spans = calloc(2 * json_array_size(mine) + 1, sizeof(*spans));
		assert_non_null(spans);
		json_array_foreach (mine, i, task) {
			sum += task_int(task, "cpu_us");
			if (task_int(task, "started_at_us") > 0) {
				spans[n++] = (struct span){ task_int(task, "started_at_us"), +1 };
				spans[n++] = (struct span){ task_int(task, "ended_at_us"), -1 };
			}
		}
		qsort(spans, n, sizeof(*spans), by_time_ends_first);
		for (size_t k = 0; k < n; k++) {
			running += spans[k].delta;
			if (running > peak)
				peak = running;
		}
		free(spans);
		used = corrald_usage_used(&daemon_, name, FIXED_MONTH);
		fprintf(stderr,
			"crash run: %s: %zu tasks, charged %lld us, sum of tasks %lld us, peak running %d/%u\n",
			name, json_array_size(mine), used, sum, peak, crash_concurrency[u]);
		json_decref(mine);
		if (used != sum)
			fail_msg("%s: charged %lld us, but its tasks measured %lld us", name, used, sum);
		if (peak > (int)crash_concurrency[u])
			fail_msg("%s: %d tasks ran at once, max_concurrent is %u", name, peak,
				 crash_concurrency[u]);
	}
	fprintf(stderr,
		"crash run: %u kills, %zu tasks (%zu acknowledged), %zu succeeded, %zu retried, "
		"%zu supervisor_lost (%zu of them never started), %zu signal, %.1f s\n",
		kills, json_array_size(tasks), total_acked, succeeded, retried, by_reason_lost,
		lost_unstarted, by_reason_signal, (test_mono_ms() - t0) / 1000.0);
	json_decref(tasks);
	assert_true(kills >= 10);
	assert_no_leftovers(NULL, 0);
	/* last, so every invariant above is checked first; both corrald bugs
	 * in one message */
	if (lost_unstarted)
		fail_msg("%zu tasks whose command never started (no exec mark in their status file, e.g. task "
			 "%lld) ended supervisor_lost/spawn_error instead of running again",
			 lost_unstarted, lost_unstarted_example);
	if (refused_restarts || blamed)
		fail_msg(
			"(1) %u of %u restarts right after kill -9 were refused (they worked 200 ms later): the "
			"new corrald found the state dir locked (\"another corrald is running\") though the old one "
			"was reaped: something the killed daemon left (a jail cloned just before the kill still "
			"holds its fds until close_inherited_fds()) keeps the flock for a moment.  "
			"(2) %zu tasks whose command never ran (no marker) ended with reason signal/exit_code "
			"(e.g. task %lld) instead of supervisor_lost: a jail whose setup died with corrald is "
			"adopted as an 'ended' jail with an empty status file, which jail_finish() reports as "
			"JAIL_SIGNALED/9, and describe_end() blames the user's command",
			refused_restarts, kills, blamed, blamed_example);
}

/* After a restart: task id was adopted running and ends failed with exit
 * code 7 on its first attempt, its stdout want_stdout.  Its TASK. */
static json_t *adopted_task_ends_with_exit_7(int64_t id, const char *want_stdout)
{
	json_t *t;
	char *out;

	assert_true(log_contains("adopted its running jail"));
	t = corrald_status(&daemon_, id);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "running");
	json_decref(t);
	t = corrald_must_wait(&daemon_, id, 10000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "exit_code");
	assert_int_equal(task_int(t, "exit_code"), 7);
	assert_int_equal(task_int(t, "attempts"), 1);
	out = corrald_logs(&daemon_, id, "stdout", NULL);
	assert_non_null(out);
	assert_string_equal(out, want_stdout);
	free(out);
	return t;
}

/* start() on a clock in FIXED_MONTH, for usage checks */
static void start_in_fixed_month(const char *supervisor_keys)
{
	char sup[1024];
	int r;

	snprintf(sup, sizeof(sup), SUPERVISOR_BASE POLL_50MS "%s", supervisor_keys);
	r = corrald_start(&daemon_, sup, POLICY_BASE, offset_to_fixed_month());
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
}

/* ---- adoption after kill -9 -------------------------------------------- */

static void test_kill9_while_long_task_runs_then_it_is_adopted_and_ends_right(void **state)
{
	static const char cmdline[] = "sleep\0"
				      "1.2";
	json_t *t;
	char *out;
	int64_t id;

	(void)state;
	require_root();
	start_in_fixed_month("max_running = 2\ndrain_timeout = 0\n");
	id = corrald_submit(&daemon_,
			    "\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\","
			    "\"sleep 1.2; echo adopted-output; echo to-stderr >&2; exit 7\"]");
	assert_true(id > 0);
	t = corrald_wait_state(&daemon_, id, "running", 5000);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(400);
	assert_true(corrald_process_with_cmdline(&daemon_, cmdline, sizeof(cmdline)));
	assert_int_equal(corrald_crash_restart(&daemon_), 0);
	t = adopted_task_ends_with_exit_7(id, "adopted-output\n");
	out = corrald_logs(&daemon_, id, "stderr", NULL);
	assert_non_null(out);
	assert_string_equal(out, "to-stderr\n");
	free(out);
	assert_int_equal(corrald_usage_used(&daemon_, "alice", FIXED_MONTH), task_int(t, "cpu_us"));
	json_decref(t);
	assert_no_leftovers(cmdline, sizeof(cmdline));
}

static void test_kill9_with_on_restart_kill_kills_and_marks_supervisor_lost(void **state)
{
	static const char cmdline[] = "sleep\0"
				      "30";
	json_t *t;
	int64_t id;

	(void)state;
	require_root();
	start("max_running = 2\ndrain_timeout = 0\non_restart = kill\n", NULL);
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"sleep\",\"30\"]");
	assert_true(id > 0);
	t = corrald_wait_state(&daemon_, id, "running", 5000);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(400);
	assert_true(corrald_process_with_cmdline(&daemon_, cmdline, sizeof(cmdline)));
	assert_int_equal(corrald_crash_restart(&daemon_), 0);

	t = corrald_status(&daemon_, id);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "supervisor_lost");
	assert_non_null(strstr(task_str(t, "message"), "on_restart = kill"));
	json_decref(t);
	assert_no_leftovers(cmdline, sizeof(cmdline));
}

/* ---- a jail that ends while corrald is down ---------------------------- */

static void run_task_ending_while_down(const char *script, bool remove_cgroup, const char *want_state,
				       int want_exit, const char *want_stdout)
{
	char fields[512], cgname[64];
	json_t *t;
	char *out;
	int64_t id;

	snprintf(fields, sizeof(fields), "\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\",\"%s\"]", script);
	id = corrald_submit(&daemon_, fields);
	assert_true(id > 0);
	t = corrald_wait_state(&daemon_, id, "running", 5000);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(150);
	corrald_kill9(&daemon_);
	test_sleep_ms(1200); /* the command ends; its init writes the status file */
	if (remove_cgroup) {
		/* as if the cgroup had been cleaned up: only the status file is left */
		snprintf(cgname, sizeof(cgname), "task-%lld", (long long)id);
		assert_true(corrald_remove_task_cgroup(&daemon_, cgname) > 0);
	}
	assert_int_equal(corrald_spawn(&daemon_, daemon_.clock_offset_s), 0);
	t = corrald_must_wait(&daemon_, id, 5000);
	assert_string_equal(task_str(t, "state"), want_state);
	assert_string_equal(task_str(t, "reason"), "exit_code");
	assert_int_equal(task_int(t, "exit_code"), want_exit);
	out = corrald_logs(&daemon_, id, "stdout", NULL);
	assert_non_null(out);
	assert_string_equal(out, want_stdout);
	free(out);
	json_decref(t);
	assert_no_leftovers(NULL, 0);
}

static void test_jail_that_ends_while_corrald_is_down_gets_its_recorded_status(void **state)
{
	(void)state;
	require_root();
	start("max_running = 2\ndrain_timeout = 0\n", NULL);
	run_task_ending_while_down("sleep 0.4; echo bye; exit 3", false, "failed", 3, "bye\n");
	run_task_ending_while_down("sleep 0.4; echo fine", false, "succeeded", 0, "fine\n");
}

static void test_jail_gone_while_corrald_is_down_gets_status_from_status_file(void **state)
{
	(void)state;
	require_root();
	start("max_running = 2\ndrain_timeout = 0\n", NULL);
	run_task_ending_while_down("sleep 0.4; echo gone; exit 5", true, "failed", 5, "gone\n");
}

/* ---- SIGTERM ------------------------------------------------------------ */

static void test_sigterm_drains_running_tasks_then_exits_0_and_refuses_submits(void **state)
{
	int64_t ids[2];
	json_t *r, *t;
	uint64_t t0;
	int rc;

	(void)state;
	require_root();
	start("max_running = 4\ndrain_timeout = 10s\n",
	      "[access]\noperators = root\n[plan two]\nmax_concurrent = 2\n[default]\nplan = two\n");
	for (int i = 0; i < 2; i++) {
		ids[i] = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"sleep\",\"0.8\"]");
		assert_true(ids[i] > 0);
		t = corrald_wait_state(&daemon_, ids[i], "running", 5000);
		assert_non_null(t);
		json_decref(t);
	}
	t0 = test_mono_ms();
	assert_int_equal(corrald_signal(&daemon_, SIGTERM), 0);
	test_sleep_ms(100);
	r = corrald_call(&daemon_, "{\"op\":\"submit\",\"user\":\"alice\",\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	if (!corrald_error_code(r) || strcmp(corrald_error_code(r), "shutting_down") != 0)
		fail_msg("a submit while draining got %s: %s",
			 corrald_error_code(r) ? corrald_error_code(r) : "ok", corrald_error_message(r));
	json_decref(r);
	rc = corrald_wait_exit(&daemon_, 8000);
	if (rc != 0)
		fail_msg("corrald exited with %d after SIGTERM\n%s", rc, corrald_log_tail(&daemon_));
	assert_true(test_mono_ms() - t0 <
		    5000); /* it left once the tasks were done, not at the drain timeout */
	assert_no_leftovers(NULL, 0);

	assert_int_equal(corrald_spawn(&daemon_, 0), 0);
	for (int i = 0; i < 2; i++) {
		t = corrald_status(&daemon_, ids[i]);
		assert_non_null(t);
		assert_string_equal(task_str(t, "state"), "succeeded");
		assert_string_equal(task_str(t, "reason"), "exit_code");
		json_decref(t);
	}
}

static void test_sigterm_drain_timeout_kills_long_task_as_shutdown(void **state)
{
	static const char cmdline[] = "sleep\0"
				      "30";
	int64_t id, queued;
	json_t *r, *t;
	uint64_t t0;
	int rc;

	(void)state;
	require_root();
	start("max_running = 4\ndrain_timeout = 500ms\n", NULL);
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"sleep\",\"30\"]");
	assert_true(id > 0);
	queued = corrald_submit(
		&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/true\"]"); /* behind it (max_concurrent 1) */
	assert_true(queued > 0);
	t = corrald_wait_state(&daemon_, id, "running", 5000);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(200);
	t0 = test_mono_ms();
	assert_int_equal(corrald_signal(&daemon_, SIGTERM), 0);
	test_sleep_ms(100);
	r = corrald_call(&daemon_, "{\"op\":\"submit\",\"user\":\"bob\",\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r) ? corrald_error_code(r) : "ok", "shutting_down");
	json_decref(r);
	rc = corrald_wait_exit(&daemon_, 8000);
	if (rc != 0)
		fail_msg("corrald exited with %d after SIGTERM\n%s", rc, corrald_log_tail(&daemon_));
	assert_true(test_mono_ms() - t0 < 4000);
	assert_no_leftovers(cmdline, sizeof(cmdline));

	assert_int_equal(corrald_spawn(&daemon_, 0), 0);
	t = corrald_status(&daemon_, id);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "shutdown");
	json_decref(t);
	/* the queued task stayed queued and runs after the restart */
	t = corrald_must_wait(&daemon_, queued, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

/* ---- SIGUSR2: a handover ------------------------------------------------ */

static void test_sigusr2_handover_keeps_running_task_alive_and_it_ends_right(void **state)
{
	static const char cmdline[] = "sleep\0"
				      "1.5";
	json_t *r, *t;
	char cgname[64];
	int64_t id, queued;
	uint64_t t0;
	pid_t pid;
	int rc;

	(void)state;
	require_root();
	start_in_fixed_month("max_running = 2\ndrain_timeout = 10s\n");
	id = corrald_submit(&daemon_,
			    "\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\","
			    "\"echo before; sleep 1.5; echo after; exit 7\"]");
	assert_true(id > 0);
	queued = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/echo\",\"next\"]");
	assert_true(queued > 0); /* behind it: max_concurrent 1 */
	t = corrald_wait_state(&daemon_, id, "running", 5000);
	assert_non_null(t);
	json_decref(t);
	test_sleep_ms(300);
	pid = daemon_.pid;
	assert_int_equal(corrald_signal(&daemon_, SIGUSR2), 0);
	/* it executes itself again in place, at once (not after the task) */
	t0 = test_mono_ms();
	while (!log_contains("adopted its running jail") && test_mono_ms() - t0 < 5000)
		test_sleep_ms(20);
	if (!log_contains("handed over 1 running tasks"))
		fail_msg("no handover after SIGUSR2\n%s", corrald_log_tail(&daemon_));
	assert_true(test_mono_ms() - t0 < 1500);
	assert_int_equal(daemon_.pid, pid);
	assert_int_equal(kill(pid, 0), 0); /* the same process, a new image */
	/* its jail still runs, found through the task cgroups */
	assert_true(corrald_process_with_cmdline(&daemon_, cmdline, sizeof(cmdline)));
	snprintf(cgname, sizeof(cgname), "task-%lld", (long long)id);
	assert_true(corrald_task_cgroup_exists(&daemon_, cgname));
	for (t0 = test_mono_ms(); test_mono_ms() - t0 < 3000; test_sleep_ms(20)) {
		r = corrald_call(&daemon_, "{\"op\":\"ping\"}");
		rc = r && !corrald_error_code(r);
		json_decref(r);
		if (rc)
			break;
	}

	t = adopted_task_ends_with_exit_7(id, "before\nafter\n");
	assert_int_equal(corrald_usage_used(&daemon_, "alice", FIXED_MONTH) >= task_int(t, "cpu_us"), 1);
	json_decref(t);
	/* the queued task stayed queued and runs after the handover */
	t = corrald_must_wait(&daemon_, queued, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	r = corrald_call(&daemon_, "{\"op\":\"ping\"}");
	assert_non_null(r);
	json_decref(r);
	assert_no_leftovers(cmdline, sizeof(cmdline));
}

/* ---- SIGHUP with a broken policy ---------------------------------------- */

static unsigned line_of(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	char line[512];
	unsigned n = 0, found = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle))
			found = n;
	}
	if (f)
		fclose(f);
	return found;
}

static void test_sighup_with_broken_policy_reports_errors_and_keeps_the_old_one(void **state)
{
	const char *sup = SUPERVISOR_BASE POLL_50MS "max_running = 2\ndrain_timeout = 0\n";
	char where[256];
	unsigned line;
	json_t *r, *t;
	int64_t id;

	(void)state;
	require_root();
	start("max_running = 2\ndrain_timeout = 0\n", NULL);
	/* the new file would lower max_task_seconds to 5 s, but has an error */
	assert_int_equal(
		corrald_write_policy(
			&daemon_, sup,
			"[access]\noperators = root\n"
			"[plan free]\nmax_concurrent = lots\nmax_queued = 5000\nmax_task_seconds = 5s\n"
			"[default]\nplan = free\n"),
		0);
	line = line_of(daemon_.policy, "= lots");
	assert_true(line > 0);
	snprintf(where, sizeof(where), "%s:%u:", daemon_.policy, line);
	assert_int_equal(corrald_signal(&daemon_, SIGHUP), 0);
	for (int i = 0; i < 200 && !log_contains("keeping the policy in force"); i++)
		test_sleep_ms(10);
	assert_true(log_contains("keeping the policy in force"));
	if (!log_contains(where))
		fail_msg("the log does not name %s\n%s", where, corrald_log_tail(&daemon_));

	r = corrald_call(&daemon_, "{\"op\":\"policy_reload\"}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r) ? corrald_error_code(r) : "ok", "policy_invalid");
	if (!strstr(corrald_error_message(r), where))
		fail_msg("policy_invalid message does not name %s: %s", where, corrald_error_message(r));
	json_decref(r);

	/* the old policy (max_task_seconds 1m) still decides */
	id = corrald_submit(&daemon_, "\"user\":\"alice\",\"timeout_ms\":30000,\"argv\":[\"sleep\",\"0.1\"]");
	assert_true(id > 0);
	t = corrald_must_wait(&daemon_, id, 5000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_int_equal(task_int(t, "timeout_ms"), 30000);
	json_decref(t);

	/* fixed: the reload takes, and the new limit decides */
	assert_int_equal(corrald_write_policy(
				 &daemon_, sup,
				 "[access]\noperators = root\n"
				 "[plan free]\nmax_concurrent = 1\nmax_queued = 5000\nmax_task_seconds = 5s\n"
				 "[default]\nplan = free\n"),
			 0);
	r = corrald_call(&daemon_, "{\"op\":\"policy_reload\"}");
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(
		&daemon_,
		"{\"op\":\"submit\",\"user\":\"alice\",\"timeout_ms\":30000,\"argv\":[\"/bin/true\"]}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r) ? corrald_error_code(r) : "ok", "limit_exceeded");
	json_decref(r);
}

/* ---- a full disk for the state dir -------------------------------------- */

/* corrald with its state dir on a 3 MiB tmpfs of its own (false: skipped,
 * no tmpfs). */
static bool start_on_small_state_disk(const char *supervisor_keys)
{
	int rc;

	assert_int_equal(corrald_prepare(&daemon_, supervisor_keys, POLICY_BASE), 0);
	rc = corrald_state_on_tmpfs(&daemon_, "3m");
	if (rc < 0) {
		test_skip_loudly("cannot mount a tmpfs for the state dir: %s", strerror(-rc));
		return false;
	}
	snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%s", daemon_.state_dir);
	rc = corrald_spawn(&daemon_, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
	return true;
}

/* Fill the state disk to the last byte: path of the filler file in out. */
static void fill_state_disk(char *out, size_t size)
{
	static char buf[65536];
	int fd;

	snprintf(out, size, "%s/filler", tmpfs_dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	memset(buf, 'x', sizeof(buf));
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	while (write(fd, buf, 512) > 0)
		;
	close(fd);
}

/* bob's /bin/true submitted on a full disk until one is refused (with
 * storage_full and a clear message); the ids acknowledged before are added
 * to acked[n..max).  Returns the new count. */
static size_t submit_until_refused(int64_t *acked, size_t n, size_t max)
{
	size_t first = n;
	bool refused = false;
	json_t *r;

	while (!refused && n < max) {
		r = corrald_call(&daemon_, "{\"op\":\"submit\",\"user\":\"bob\",\"argv\":[\"/bin/true\"]}");
		assert_non_null(r);
		if (!corrald_error_code(r)) {
			acked[n++] = (int64_t)json_integer_value(
				json_object_get(json_object_get(r, "task"), "id"));
		} else {
			if (strcmp(corrald_error_code(r), "storage_full") != 0)
				fail_msg("submit on a full disk: %s: %s", corrald_error_code(r),
					 corrald_error_message(r));
			if (!strstr(corrald_error_message(r), "full"))
				fail_msg("storage_full without a clear message: %s",
					 corrald_error_message(r));
			fprintf(stderr, "full disk: refused after %zu submits: %s\n", n - first,
				corrald_error_message(r));
			refused = true;
		}
		json_decref(r);
	}
	assert_true(refused);
	return n;
}

/* Once the disk has room again: every acknowledged task ends, all within
 * 10 s (the ids and states of those that did not into stuck: their
 * count), then a new task (carol's) is submitted, runs and succeeds. */
static size_t acked_end_and_a_new_task_runs(const int64_t *acked, size_t n_acked, char *stuck, size_t size)
{
	uint64_t deadline = test_mono_ms() + 10000;
	size_t n_stuck = 0, len = 0;
	json_t *t;

	stuck[0] = '\0';
	for (size_t i = 0; i < n_acked; i++) {
		long left = (long)(deadline - test_mono_ms());

		t = corrald_wait(&daemon_, acked[i], left > 0 ? (unsigned)left : 1);
		if (!t) {
			json_t *s = corrald_status(&daemon_, acked[i]);

			n_stuck++;
			if (len < size - 64)
				len += (size_t)snprintf(stuck + len, size - len, " %lld (%s)",
							(long long)acked[i],
							s ? task_str(s, "state") : "missing");
			json_decref(s);
		}
		json_decref(t);
	}
	t = corrald_wait(&daemon_,
			 corrald_submit(&daemon_,
					"\"user\":\"carol\",\"argv\":[\"/bin/sh\",\"-c\",\"echo again\"]"),
			 10000);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
	return n_stuck;
}

static void test_full_state_disk_refuses_submits_keeps_acked_tasks_and_recovers(void **state)
{
	char filler[300], stuck[1024];
	int64_t acked[600];
	size_t n_acked = 0, n_stuck;
	json_t *r, *t;

	(void)state;
	require_root();
	if (!start_on_small_state_disk(SUPERVISOR_BASE POLL_50MS "max_running = 1\ndrain_timeout = 0\n"))
		return;

	/* one running, two queued behind it (max_concurrent 1) */
	acked[n_acked++] = corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"sleep\",\"1\"]");
	acked[n_acked++] = corrald_submit(&daemon_,
					  "\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\",\"echo B\"]");
	acked[n_acked++] = corrald_submit(&daemon_,
					  "\"user\":\"alice\",\"argv\":[\"/bin/sh\",\"-c\",\"echo C\"]");
	for (size_t i = 0; i < n_acked; i++)
		assert_true(acked[i] > 0);
	t = corrald_wait_state(&daemon_, acked[0], "running", 5000);
	assert_non_null(t);
	json_decref(t);

	/* fill the disk */
	fill_state_disk(filler, sizeof(filler));

	/* submits until the store refuses (the WAL may absorb a few) */
	n_acked = submit_until_refused(acked, n_acked, 600);
	/* the running task ends while the disk is full; its slot frees */
	test_sleep_ms(1500);
	r = corrald_call(&daemon_, "{\"op\":\"ping\"}");
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	json_decref(r);

	/* space returns: every acknowledged task ends without any new event
	 * to nudge the daemon (waiting is not an event: it only reads);
	 * submits work again, and a new task runs and ends */
	assert_int_equal(unlink(filler), 0);
	n_stuck = acked_end_and_a_new_task_runs(acked, n_acked, stuck, sizeof(stuck));
	if (n_stuck)
		fail_msg("%zu of %zu acknowledged tasks did not end within 10 s after space returned:%s.  "
			 "corrald bug: when the store refuses a task's start (mark running: disk full) "
			 "task_start() frees the task instead of requeueing it, and nothing dispatches again "
			 "once the store recovers; see the log:\n%s",
			 n_stuck, n_acked, stuck, corrald_log_tail(&daemon_));
	/* the one that ran while the disk was full ended well */
	t = corrald_status(&daemon_, acked[0]);
	assert_non_null(t);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

/* A submit whose batch cannot commit while a slot is free: its start was
 * recorded in the same batch (group commit), so neither is stored; the
 * task never runs, nothing of it stays queued in memory, and the daemon
 * goes on once the disk has room. */
static void test_start_in_a_batch_that_cannot_commit_never_runs_and_leaves_nothing(void **state)
{
	char filler[300], stuck[1024];
	int64_t acked[200];
	size_t n_acked = 0, listed = 0, failed_starts, i;
	json_t *all, *task;

	(void)state;
	require_root();
	if (!start_on_small_state_disk(SUPERVISOR_BASE POLL_50MS "max_running = 4\ndrain_timeout = 0\n"))
		return;
	fill_state_disk(filler, sizeof(filler));
	/* every submit finds a free slot: its start joins its batch */
	n_acked = submit_until_refused(acked, 0, 200);
	test_sleep_ms(500);
	assert_int_equal(unlink(filler), 0);
	/* what was acknowledged ends; a new task runs */
	if (acked_end_and_a_new_task_runs(acked, n_acked, stuck, sizeof(stuck)))
		fail_msg("acknowledged tasks did not end within 10 s after space returned:%s\n%s", stuck,
			 corrald_log_tail(&daemon_));
	/* no task but those acknowledged and carol's is known, none left to run */
	all = corrald_list(&daemon_, NULL);
	assert_non_null(all);
	json_array_foreach (all, i, task) {
		listed++;
		if (!is_terminal(task_str(task, "state")))
			fail_msg("task %lld is %s after the disk had room again",
				 (long long)task_int(task, "id"), task_str(task, "state"));
	}
	json_decref(all);
	assert_int_equal(listed, n_acked + 1);
	/* and the daemon does not keep trying to start the refused one (a
	 * task in memory that the store does not have, or has under another
	 * submit that got its id): no start fails once all has ended */
	failed_starts = log_count("it stays queued", SIZE_MAX);
	test_sleep_ms(300);
	if (log_count("it stays queued", SIZE_MAX) != failed_starts)
		fail_msg("corrald still tries to start a task after all ended:\n%s",
			 corrald_log_tail(&daemon_));
}

/* ---- a second corrald --------------------------------------------------- */

/* The second corrald's log (its first 4 KiB) says needle. */
static void assert_other_says(const char *log, const char *needle, const char *what)
{
	FILE *f = fopen(log, "re");
	char text[4096] = "";
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	text[n] = '\0';
	if (f)
		fclose(f);
	if (!strstr(text, needle))
		fail_msg("the second corrald's message does not say %s: %s", what, text);
}

static void test_second_corrald_on_same_state_dir_or_socket_refuses_to_start(void **state)
{
	char sock[128], log[128], policy_copy[128], cmd[512];
	json_t *r;
	int rc;

	(void)state;
	require_root();
	start("max_running = 2\ndrain_timeout = 0\n", NULL);
	snprintf(other_dir, sizeof(other_dir), "/tmp/corrald-it2-XXXXXX");
	assert_non_null(mkdtemp(other_dir));
	snprintf(sock, sizeof(sock), "%s/other.sock", other_dir);
	snprintf(log, sizeof(log), "%s/other.log", other_dir);
	snprintf(policy_copy, sizeof(policy_copy), "%s/policy.conf", other_dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", daemon_.policy, policy_copy);
	assert_int_equal(system(cmd), 0);

	/* same state dir, its own socket */
	rc = corrald_run_other(policy_copy, daemon_.dir, sock, log, 5000);
	assert_int_equal(rc, 1);
	assert_other_says(log, "locked", "locked");
	assert_int_equal(access(sock, F_OK), -1);

	/* its own state dir, the same socket */
	unlink(log);
	snprintf(cmd, sizeof(cmd), "%s/state", other_dir);
	rc = corrald_run_other(policy_copy, cmd, daemon_.socket, log, 5000);
	assert_int_equal(rc, 1);
	assert_other_says(log, "in use", "the socket is in use");
	/* the first one still serves */
	r = corrald_call(&daemon_, "{\"op\":\"ping\"}");
	assert_non_null(r);
	assert_null(corrald_error_code(r));
	json_decref(r);
	assert_true(corrald_submit(&daemon_, "\"user\":\"alice\",\"argv\":[\"/bin/true\"]") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_second_corrald_on_same_state_dir_or_socket_refuses_to_start,
					  teardown),
		cmocka_unit_test_teardown(test_kill9_while_long_task_runs_then_it_is_adopted_and_ends_right,
					  teardown),
		cmocka_unit_test_teardown(test_kill9_with_on_restart_kill_kills_and_marks_supervisor_lost,
					  teardown),
		cmocka_unit_test_teardown(test_jail_that_ends_while_corrald_is_down_gets_its_recorded_status,
					  teardown),
		cmocka_unit_test_teardown(test_jail_gone_while_corrald_is_down_gets_status_from_status_file,
					  teardown),
		cmocka_unit_test_teardown(test_sigterm_drains_running_tasks_then_exits_0_and_refuses_submits,
					  teardown),
		cmocka_unit_test_teardown(test_sigterm_drain_timeout_kills_long_task_as_shutdown, teardown),
		cmocka_unit_test_teardown(test_sigusr2_handover_keeps_running_task_alive_and_it_ends_right,
					  teardown),
		cmocka_unit_test_teardown(test_sighup_with_broken_policy_reports_errors_and_keeps_the_old_one,
					  teardown),
		cmocka_unit_test_teardown(test_full_state_disk_refuses_submits_keeps_acked_tasks_and_recovers,
					  teardown),
		cmocka_unit_test_teardown(
			test_start_in_a_batch_that_cannot_commit_never_runs_and_leaves_nothing, teardown),
		cmocka_unit_test_teardown(test_kill9_at_random_moments_loses_and_repeats_nothing, teardown),
	};

	/* CORRAL_TEST_FILTER=test_full* runs one test while working on it */
	if (getenv("CORRAL_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CORRAL_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
