/*
 * tests/integration/lib_corrald.h — a real corrald for integration tests:
 * started as a child process on a temp state dir with a policy the test
 * writes, spoken to over its socket (supervisor/corral/connection.h), restarted with a
 * shifted clock (tests/helpers/corrald-clock), stopped by SIGTERM, cleaned up
 * (state dir, the test's cgroup parent).  Also: acting as another Unix uid,
 * faults (kill -9 and restart, signals, a second corrald) and the daemon's
 * own figures (RSS, open fds) for soak runs.
 */
#ifndef CORRAL_TESTS_LIB_CORRALD_H
#define CORRAL_TESTS_LIB_CORRALD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "supervisor/corral/connection.h"

/* Host uids the tests' jails use (distinct from test_host_uid()'s range). */
#define CORRALD_TEST_UID_FIRST 4200000u
/* An unused uid with no passwd entry: corrald names it "uid4300001". */
#define CORRALD_TEST_OTHER_UID 4300001u
#define CORRALD_TEST_OTHER_TENANT "uid4300001"

struct corrald {
	pid_t pid;                 /* 0 = not running */
	char dir[64];              /* temp state dir (0755) */
	char socket[128];
	char policy[128];
	char log[128];             /* corrald's stderr */
	char state_dir[128];       /* --state-dir; "" = dir (set it between prepare and spawn) */
	double clock_offset_s;     /* of the last start, kept by crash restarts */
	char cgroup_parent[64];    /* absolute: "/corral-it-<pid>" */
	struct connection conn;        /* root's connection */
	bool connected;
};

/* Write policy_body (plans, users, ...) after a [supervisor] section made
 * from supervisor_keys (e.g. "max_running = 1\nkill_grace = 200ms\n"; the
 * test's cgroup_parent is added) and start corrald with clock_offset_s
 * (not 0: the test build corrald-clock, which injects a shifted clock).
 * Waits until ping answers.  0 or -errno. */
int corrald_start(struct corrald *d, const char *supervisor_keys, const char *policy_body,
		  double clock_offset_s);
/* The two halves of corrald_start: make the temp dir and write the policy;
 * start corrald (waits until ping answers).  Between them a test may set
 * d->state_dir (e.g. to a small tmpfs it mounted). */
int corrald_prepare(struct corrald *d, const char *supervisor_keys, const char *policy_body);
int corrald_spawn(struct corrald *d, double clock_offset_s);
/* Rewrite the policy file (corrald is not told: SIGHUP or policy_reload). */
int corrald_write_policy(struct corrald *d, const char *supervisor_keys, const char *policy_body);
/* Start again on the same state dir and policy with another clock offset. */
int corrald_restart(struct corrald *d, double clock_offset_s);
/* SIGTERM, waitpid; the exit status (0 = clean), or -1 if it was killed. */
int corrald_stop(struct corrald *d);
/* kill -9 corrald and reap it (its jails go on running); the connection
 * is closed. */
void corrald_kill9(struct corrald *d);
/* kill -9, then start again with the same clock offset.  0 or -errno. */
int corrald_crash_restart(struct corrald *d);
/* Send sig to corrald (0 or -errno). */
int corrald_signal(struct corrald *d, int sig);
/* Wait up to timeout_ms for corrald to exit by itself: its exit status, -1
 * if a signal killed it, -ETIMEDOUT if it still runs. */
int corrald_wait_exit(struct corrald *d, unsigned timeout_ms);
/* Run one more corrald with these paths (policy, state dir, socket) and its
 * stderr to log, until it exits: the exit status, -1 if killed by a signal,
 * or -ETIMEDOUT (it was still running after timeout_ms: then it is killed). */
int corrald_run_other(const char *policy, const char *state_dir, const char *socket, const char *log,
		      unsigned timeout_ms);
/* Stop if running, remove the state dir and the test's cgroup parent dirs. */
void corrald_cleanup(struct corrald *d);
/* The last lines of corrald's log (for failure messages); static buffer. */
const char *corrald_log_tail(struct corrald *d);

/* One request line (printf format) on root's connection; the response
 * (caller json_decref's), or NULL if the daemon did not answer. */
json_t *corrald_call(struct corrald *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The error code of a response ("forbidden"), or NULL for ok. */
const char *corrald_error_code(json_t *response);
const char *corrald_error_message(json_t *response);

/* Submit fields_json (an object's members without braces, e.g.
 * "\"argv\":[\"/bin/true\"]"); the task id, or -1 (the error goes to stderr). */
int64_t corrald_submit(struct corrald *d, const char *fields);
/* The TASK object of status/wait (a new reference), or NULL. */
json_t *corrald_status(struct corrald *d, int64_t id);
json_t *corrald_wait(struct corrald *d, int64_t id, unsigned timeout_ms);
/* Poll status every 10 ms until the task's state is state (or timeout);
 * the TASK, or NULL. */
json_t *corrald_wait_state(struct corrald *d, int64_t id, const char *state, unsigned timeout_ms);
/* Integer / string member of a TASK ("" / -1 when absent or null). */
long long task_int(json_t *task, const char *key);
const char *task_str(json_t *task, const char *key);

/* Every task (list op, limit 10000) of user (NULL = all), newest first: the
 * "tasks" array (a new reference), or NULL. */
json_t *corrald_list(struct corrald *d, const char *user);
/* usage op: the user's cpu_used_us in month ("YYYY-MM"), or -1. */
long long corrald_usage_used(struct corrald *d, const char *user, const char *month);
/* A task's whole stdout or stderr (logs op, decoded; malloc'd, NUL-ended,
 * *len without the NUL), or NULL. */
char *corrald_logs(struct corrald *d, int64_t id, const char *stream, size_t *len);
/* corrald's resident set (kB from /proc/PID/status) and its open fds; -1 on
 * error. */
long corrald_rss_kb(const struct corrald *d);
long corrald_fd_count(const struct corrald *d);
/* Directories below the test's cgroup parent, summed over every hierarchy
 * (0 when no jail's cgroup is left). */
int corrald_count_task_cgroups(const struct corrald *d);
/* rmdir the cgroup name below the test's cgroup parent in every hierarchy
 * (it must be empty): the number removed. */
int corrald_remove_task_cgroup(const struct corrald *d, const char *name);
/* Mounts whose mount point lies under the test's state dir or cgroup
 * parent (0 when nothing was left mounted). */
int corrald_count_mounts(const struct corrald *d);

/* As Unix uid/gid: connect, send each line, collect each response.  The
 * responses go to out[0..n) (NULL where none came).  0 or -errno. */
int corrald_calls_as(struct corrald *d, uid_t uid, gid_t gid, const char *const *lines, size_t n,
		     json_t **out);

/* Is there a directory named name anywhere under /sys/fs/cgroup? */
bool cgroup_dir_exists_anywhere(const char *name);
/* Is a process with exactly this cmdline (NUL-separated, len bytes) alive? */
bool process_with_cmdline_exists(const char *cmdline, size_t len);

/* ---- raw connections (attack tests) ------------------------------------ */
/* A connection to corrald made by a child running as uid/gid (so
 * SO_PEERCRED names that uid), handed back to the caller over SCM_RIGHTS:
 * the fd (blocking), or -errno.  The caller closes it. */
int corrald_connect_as(const struct corrald *d, uid_t uid, gid_t gid);
/* n connections as uid/gid in one child, all handed back into fds[];
 * the number obtained (stops at the first failure), or -errno. */
int corrald_connect_many_as(const struct corrald *d, uid_t uid, gid_t gid, int *fds, size_t n);
/* Write all of buf (blocking); 0 or -errno. */
int raw_send(int fd, const void *buf, size_t len);
/* Read one response line within timeout_ms and parse it: a new reference,
 * or NULL (timeout, EOF, bad JSON).  Reads byte by byte: small answers. */
json_t *raw_recv(int fd, unsigned timeout_ms);

#endif
