/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald.h — a real corrald for integration tests, benchmarks
 * and the soak run: started as a child process on a temp state dir with a
 * policy the test writes and its own cgroup parent ("corral-it-<pid>", relative to its own cgroups),
 * restarted with a shifted clock (tests/helpers/corrald-clock), stopped by
 * SIGTERM, killed and restarted, cleaned up (state dir, the test's cgroup
 * parent).  Talking to it: corrald_socket.h; looking at it from outside:
 * corrald_inspect.h.
 */
#ifndef CORRAL_TESTS_LIB_CORRALD_H
#define CORRAL_TESTS_LIB_CORRALD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/corral/connection.h"

/* Host uids the tests' jails use (distinct from test_host_uid()'s range). */
#define CORRALD_TEST_UID_FIRST 4200000u
/* Another local user (Debian's nobody): its tenant is its name.  corrald
 * refuses uids without a passwd entry, so the tests' other callers are
 * real users: nobody, and daemon (uid 1) where a second one is needed. */
#define CORRALD_TEST_OTHER_UID 65534u
#define CORRALD_TEST_OTHER_TENANT "nobody"
#define CORRALD_TEST_SECOND_UID 1u
#define CORRALD_TEST_SECOND_TENANT "daemon"
/* An unused uid with no passwd entry (corrald refuses it). */
#define CORRALD_TEST_UNKNOWN_UID 4300001u

struct corrald {
	pid_t pid;    /* 0 = not running */
	char dir[64]; /* temp state dir (0755) */
	char socket[128];
	char policy[128];
	char log[128];          /* corrald's stderr */
	char state_dir[128];    /* --state-dir; "" = dir (set it between prepare and spawn) */
	double clock_offset_s;  /* of the last start, kept by crash restarts */
	char cgroup_parent[64]; /* "corral-it-<pid>": below the test's own cgroups */
	struct connection conn; /* root's connection */
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
/* corrald_start with the jails' cgroups below cgroup_parent (each node of
 * a test's cluster its own).  0 or -errno. */
int corrald_start_below(struct corrald *d, const char *supervisor_keys, const char *policy_body,
			const char *cgroup_parent);
/* Between prepare and spawn: the state dir on a new tmpfs of size (e.g.
 * "3m") at <dir>/state, set as d->state_dir.  0, or -errno (the caller
 * unmounts it before corrald_cleanup). */
int corrald_state_on_tmpfs(struct corrald *d, const char *size);
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
/* Stop if running, remove the state dir, kill the jails left below the
 * test's cgroup parent (a failed test) and remove its cgroup dirs. */
void corrald_cleanup(struct corrald *d);
/* The last lines of corrald's log (for failure messages); static buffer. */
const char *corrald_log_tail(struct corrald *d);
/* How many lines of corrald's log hold needle. */
int corrald_log_count(struct corrald *d, const char *needle);

#endif
