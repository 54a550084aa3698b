/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/retry.h — the pure rules of retries: which failures of a
 * task's start are the host's (a retry may work) and which are the task's
 * own (the same spec fails the same way again), whether an attempt that
 * ended goes back to the queue, and the backoff before the next one.
 * No I/O: corrald (task_start.c, task_end.c, recover.c) asks, and does.
 *
 * An attempt goes back to the queue only when running it again repeats
 * nothing: its command provably never started (corral-init had not marked
 * the status file), and the failure was the host's (a clone, cgroup, mount
 * or namespace step, resources, a supervisor crash), not the task's (its
 * program or working directory missing, its spec or profile invalid).  A
 * task whose command did start and whose end is unknown goes back only when
 * its plan says retry_lost = yes.  Never more than max_attempts starts
 * (except a start the store failed under, before its command: that one
 * says nothing about the task and is not the plan's retry to spend), and
 * never a task whose cancel was asked for.
 */
#ifndef CORRAL_SUPERVISOR_SCHED_RETRY_H
#define CORRAL_SUPERVISOR_SCHED_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* The backoff after attempt n: not before n seconds, at most a minute. */
#define RETRY_BACKOFF_STEP_US 1000000u
#define RETRY_BACKOFF_MAX_US 60000000u

/* True when a start that failed at step (struct jail_error.step) with errno
 * err (positive, 0 = none) is the host's fault; false when it is the task's
 * own.  The task's: execve, chdir (its program or working directory), spec,
 * task, policy, profile_spec, setrlimit and the seccomp_* steps (its spec,
 * profile or filter: the same each time) — unless err says the host ran out
 * of something (ENOMEM, EAGAIN, ENOSPC, ENFILE, EMFILE, EIO, EINTR).  Every
 * other step (cgroup_*, clone3, user namespace, mount, pivot_root, netlink,
 * corral-init, setup, spawn, open, ...) is the host's. */
bool retry_spawn_failure_is_host(const char *step, int err);

struct retry_case {
	bool command_started; /* the command may have run (jail_result.command_started) */
	bool host_fault;      /* it never started, and through the host's fault */
	/* it never started because the store failed under its start (a lost
	 * connection to PostgreSQL, an I/O error): requeued whatever its
	 * attempts, unless cancelled (neither the task's fault nor a retry of
	 * the plan's to spend) */
	bool store_fault;
	/* the task's starts the store failed under before this one (as far as
	 * this corrald knows): their attempts were given back, so a store
	 * fault's backoff grows with these instead */
	uint32_t store_faults;
	bool cancel_requested;
	uint32_t attempts;     /* starts so far, the one that ended included */
	uint32_t max_attempts; /* the plan's (0 is read as 1: no retry) */
	bool retry_lost;       /* the plan's: rerun a started task whose end is lost */
};

/* Back to the queue (true), or end it now (false). */
bool retry_should_requeue(const struct retry_case *c);

/* The backoff after attempt number attempts (µs). */
uint64_t retry_backoff_us(uint32_t attempts);
/* The backoff of c once requeued (µs): after its attempts, plus its store
 * faults for one of those (a store that keeps failing the start, a
 * corrupt row, say, is retried ever more slowly, up to the cap). */
uint64_t retry_case_backoff_us(const struct retry_case *c);

#endif
