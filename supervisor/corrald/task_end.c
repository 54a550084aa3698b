/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/task_end.c — the end of a running task: its result and
 * state, reason and message; recorded in the loop's store batch with the
 * jail's cgroup kept until the batch commits; ends the store refuses are
 * kept and retried; shutdown ends every running task.  An attempt whose
 * command never started (or whose end is lost, with retry_lost) goes back
 * to the queue instead (task_end_try_requeue, rules in sched/retry.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/human.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/retry.h"

/* An end the store could not record yet (disk full, I/O error): kept and
 * retried at every poll, so no result and no CPU-second is lost. */
struct unfinished {
	struct unfinished *next;
	int64_t id;
	struct store_result sr;
	char *message;
	char month[8];
	char *user;            /* the tenant whose storage counter sr.output_bytes joins */
	bool counted;          /* joined it (undone if the batch is not committed) */
	uint64_t inputs_freed; /* its inputs' bytes, removed with the recorded end */
};

/* What the task's output files hold (stdout, stderr): added to what the
 * store counts for it at its end. */
static int64_t output_bytes(struct daemon *d, int64_t id)
{
	static const char *const names[] = { "stdout", "stderr" };
	char dir[4200], path[4300];
	int64_t total = 0;
	struct stat st;

	task_start_dir(d, id, dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (int64_t)st.st_size;
	}
	return total;
}

/* The tenant's storage counter follows a recorded end (add) or a batch
 * that dropped it (undo). */
static void task_end_count_storage(struct daemon *d, struct unfinished *u, bool add)
{
	struct duser *user = u->user ? queue_find_user(d, u->user) : NULL;

	if (!user || u->counted == add)
		return;
	if (add) {
		user->stored_bytes += (uint64_t)u->sr.output_bytes;
		user->stored_bytes -= user->stored_bytes > u->inputs_freed ? u->inputs_freed
									   : user->stored_bytes;
	} else {
		user->stored_bytes -= (uint64_t)u->sr.output_bytes;
		user->stored_bytes += u->inputs_freed;
	}
	u->counted = add;
}

/* store_finish() of one end: true when it is recorded (or already was);
 * a success is logged here unless the caller logs it at commit time. */
static bool record_end(struct daemon *d, struct unfinished *u, bool log_success)
{
	int64_t id = u->id;
	struct store_result *sr = &u->sr;
	struct error err;
	int r = store_finish(d->store, id, sr, &err);

	if (r == 0) {
		/* its inputs go with its end (a requeued attempt never gets here) */
		u->inputs_freed = op_files_drop_inputs(d, id);
		task_end_count_storage(d, u, true);
		if (log_success)
			log_task(LOG_LEVEL_INFO, id, "%s: %s", task_state_name(sr->state),
				 sr->message ? sr->message : "");
		return true;
	}
	if (r == -ESTALE || r == -ENOENT) {
		log_task(LOG_LEVEL_WARNING, id, "end already recorded (%s)", err.message);
		return true;
	}
	log_task(LOG_LEVEL_ERR, id, "record its end (%s): %s; will retry", task_state_reason_name(sr->reason),
		 err.message);
	return false;
}

static void free_record(struct unfinished *u);

void task_end_retry_unfinished(struct daemon *d)
{
	struct unfinished **pp = &d->unfinished;

	while (*pp) {
		struct unfinished *u = *pp;

		if (!record_end(d, u, true)) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		op_wait_wake(d, u->id, true);
		free_record(u);
		d->dispatch_needed = true;
	}
}

/* The end of task id as an owned store_result (kept for a retry). */
static struct unfinished *end_record(struct daemon *d, int64_t id, const char *user,
				     enum store_task_state state, enum store_task_reason reason,
				     const char *message, const struct jail_result *res)
{
	struct unfinished *u = calloc(1, sizeof(*u));
	struct store_result *sr;
	uint64_t now = daemon_now_us(d);

	if (!u)
		return NULL;
	sr = &u->sr;
	u->id = id;
	u->message = message ? strdup(message) : NULL;
	u->user = user ? strdup(user) : NULL;
	sr->output_bytes = output_bytes(d, id);
	daemon_month(d, now, u->month);
	sr->state = state;
	sr->reason = reason;
	sr->message = u->message;
	sr->month = u->month;
	sr->usage.exit_code = res && res->exit_code >= 0 ? res->exit_code : -1;
	sr->usage.signal = res && res->signal ? res->signal : -1;
	sr->ended_at_us = (int64_t)now;
	if (res) {
		sr->cpu_total_us = (int64_t)res->cpu_usage_us;
		sr->usage.cpu_user_us = (int64_t)res->cpu_user_us;
		sr->usage.cpu_system_us = (int64_t)res->cpu_system_us;
		sr->usage.memory_peak_bytes = (int64_t)res->memory_peak_bytes;
		sr->usage.stdout_bytes = (int64_t)res->stdout_bytes;
		sr->usage.stderr_bytes = (int64_t)res->stderr_bytes;
		sr->usage.stdout_truncated = res->stdout_truncated;
		sr->usage.stderr_truncated = res->stderr_truncated;
		sr->usage.oom_kills = (int64_t)res->oom_kills;
	}
	return u;
}

static void free_record(struct unfinished *u)
{
	free(u->user);
	free(u->message);
	free(u);
}

/* A task's end recorded in the loop's store batch, its jail's cgroup kept
 * until the batch commits (a crash before that still finds the cgroup and
 * its CPU totals; nothing is charged twice: the end is not in the store). */
struct ended {
	struct ended *next;
	struct unfinished *record;
	struct jail *jail;
};

void task_end_batch_done(struct daemon *d, bool committed)
{
	while (d->ended) {
		struct ended *e = d->ended;

		d->ended = e->next;
		jail_free(e->jail);
		if (committed) {
			log_task(LOG_LEVEL_INFO, e->record->id, "%s: %s",
				 task_state_name(e->record->sr.state),
				 e->record->message ? e->record->message : "");
			op_wait_wake(d, e->record->id, true);
			free_record(e->record);
		} else {
			task_end_count_storage(d, e->record, false);
			e->record->next = d->unfinished; /* retried at every poll */
			d->unfinished = e->record;
		}
		free(e);
	}
}

bool task_end_record(struct daemon *d, int64_t id, const char *user, enum store_task_state state,
		     enum store_task_reason reason, const char *message, const struct jail_result *res)
{
	struct unfinished *u = end_record(d, id, user, state, reason, message, res);

	if (!u)
		return false;
	if (record_end(d, u, true)) {
		free_record(u);
		return true;
	}
	u->next = d->unfinished; /* retried at every poll */
	d->unfinished = u;
	return false;
}

void task_end_drop_stdin(struct dtask *t)
{
	if (!t->stdin_path)
		return;
	unlink(t->stdin_path);
	free(t->stdin_path);
	t->stdin_path = NULL;
}

bool task_end_try_requeue(struct daemon *d, int64_t id, const char *user, struct dtask *t,
			  struct retry_case *rc, const char *reason, uint64_t cpu_total_us)
{
	struct policy_limits lim;
	struct store_requeue rq;
	struct error err;
	struct duser *u = queue_user(d, user); /* after a restart: not loaded yet */
	uint64_t now = daemon_now_us(d), backoff;
	char month[8], why[600];

	if (!u || queue_limits(d, u, &lim) < 0)
		return false; /* left the policy: nothing would start it */
	rc->max_attempts = lim.max_attempts;
	rc->retry_lost = lim.retry_lost;
	/* after a restart: a start the store failed under, held when corrald
	 * stopped (whatever an earlier attempt's status file says) */
	if (!t && !rc->store_fault && task_requeue_was_held(d, id)) {
		rc->store_fault = true;
		rc->command_started = false;
	}
	if (!retry_should_requeue(rc))
		return false;
	backoff = retry_case_backoff_us(rc);
	daemon_month(d, now, month);
	snprintf(why, sizeof(why), "attempt %u of %u %s: %s", rc->attempts, rc->max_attempts,
		 rc->command_started ? "lost (retry_lost = yes)" : "ended before its command started",
		 reason);
	memset(&rq, 0, sizeof(rq));
	rq.reason = why;
	rq.at_us = (int64_t)now;
	rq.not_before_us = (int64_t)(now + backoff);
	rq.cpu_total_us = (int64_t)cpu_total_us;
	rq.month = month;
	rq.not_an_attempt = rc->store_fault && !rc->command_started;
	if (store_requeue(d->store, id, &rq, &err) < 0) {
		/* the store that failed the start fails this too: held and
		 * retried, never ended for the host's fault */
		if (rc->store_fault && t && task_requeue_hold(d, t, backoff, why, cpu_total_us) == 0)
			return true;
		log_task(LOG_LEVEL_ERR, id, "requeue: %s; ending it instead", err.message);
		return false;
	}
	log_task(LOG_LEVEL_NOTICE, id, "requeued (%s), again in %.1f s", why, backoff / 1e6);
	u->month[0] = '\0'; /* the requeue may have charged the attempt's rest */
	if (t)
		task_requeue_back(d, t, cpu_total_us, backoff);
	else if (rc->store_fault)
		task_requeue_forget_held(d, id);
	return true;
}

static void describe_end(struct daemon *d, const struct dtask *t, const struct jail_result *res,
			 enum store_task_state *state, enum store_task_reason *reason, char *msg, size_t size)
{
	char month[8], limit[48];

	*state = STORE_FAILED;
	switch (t->why) {
	case END_TIMEOUT:
		*reason = STORE_REASON_TIMEOUT;
		/* as given: a 1.5 s limit is not "2 s" */
		snprintf(msg, size, "Timeout: exceeded the %s wall-clock limit",
			 human_duration(t->wall_limit_effective_us, limit, sizeof(limit)));
		return;
	case END_CPU_LIMIT:
		*reason = STORE_REASON_CPU_LIMIT;
		snprintf(msg, size, "CPU limit: used %.1f s of CPU, the limit is %s", res->cpu_usage_us / 1e6,
			 human_duration(t->cpu_limit_us, limit, sizeof(limit)));
		return;
	case END_BUDGET:
		daemon_month(d, daemon_now_us(d), month);
		*reason = STORE_REASON_BUDGET;
		snprintf(msg, size,
			 "Budget: this task used up its share of %s's monthly CPU budget for %s "
			 "(%.1f s of %.1f s)",
			 t->user->name, month, res->cpu_usage_us / 1e6, t->cpu_limit_us / 1e6);
		return;
	case END_CANCEL:
		*state = STORE_CANCELLED;
		*reason = STORE_REASON_CANCELLED;
		snprintf(msg, size, "Cancelled by %s", t->cancelled_by ? t->cancelled_by : "an operator");
		return;
	case END_SHUTDOWN:
		*reason = STORE_REASON_SHUTDOWN;
		snprintf(msg, size, "Shutdown: corrald stopped while the task ran");
		return;
	case END_FENCED:
		*reason = STORE_REASON_SUPERVISOR_LOST;
		snprintf(msg, size,
			 "Node lost: node %s could not keep its lease on this task and killed its jail "
			 "(it ran on the %s)",
			 d->node_name, res->command_started ? "command" : "setup");
		return;
	case END_NONE:
		break;
	}
	switch (res->status) {
	case JAIL_OK:
		*state = STORE_SUCCEEDED;
		*reason = STORE_REASON_EXIT_CODE;
		snprintf(msg, size, "Exited with code 0");
		break;
	case JAIL_EXIT_NONZERO:
		*reason = STORE_REASON_EXIT_CODE;
		snprintf(msg, size, "Exited with code %d", res->exit_code);
		break;
	case JAIL_OOM:
		*reason = STORE_REASON_OOM;
		snprintf(msg, size, "Out of memory: the task exceeded its memory limit (peak %.1f MiB)",
			 res->memory_peak_bytes / 1048576.0);
		break;
	case JAIL_OUTPUT_LIMIT:
		*reason = STORE_REASON_OUTPUT_LIMIT;
		snprintf(msg, size, "Output limit: the task wrote more than its output limit to %s",
			 res->stdout_truncated ? "stdout" : "stderr");
		break;
	case JAIL_SPAWN_ERROR:
		*reason = STORE_REASON_SPAWN_ERROR;
		snprintf(msg, size, "Setup failed: %s", res->error.message);
		break;
	default:
		*reason = STORE_REASON_SIGNAL;
		snprintf(msg, size, "Killed by signal %d (%s)", res->signal, strsignal(res->signal));
		break;
	}
}

void task_end(struct daemon *d, struct dtask *t)
{
	struct jail_result res;
	struct jail_error err;
	enum store_task_state state;
	enum store_task_reason reason;
	char msg[512];
	bool recorded;

	struct unfinished *u;
	struct ended *e;

	memset(&err, 0, sizeof(err));
	if (t->starting) {
		daemon_epoll_del(d, jail_spawn_fd(t->jail));
		t->starting = false;
		jail_spawn_finish(t->jail, &err);
	}
	/* the result, with the cgroup kept until the end is committed */
	if (jail_collect(t->jail, &res, &err) < 0)
		log_task(LOG_LEVEL_WARNING, t->id, "collecting its result: %s", err.message);
	/* the task's CPU is that of every attempt */
	res.cpu_usage_us += t->cpu_prior_us;
	/* the jail enforced a limit itself: this loop was late (stalled) */
	if (t->why == END_NONE && (res.status == JAIL_TIMEOUT || res.status == JAIL_CPU_LIMIT)) {
		t->why = res.status == JAIL_TIMEOUT ? END_TIMEOUT
			: t->budget_capped          ? END_BUDGET
						    : END_CPU_LIMIT;
		log_task(LOG_LEVEL_WARNING, t->id, "the jail's init enforced its %s: corrald was late",
			 res.status == JAIL_TIMEOUT ? "wall-clock limit" : "CPU limit");
	}
	/* its leash ran out (leash.c): this node renewed too late to keep it */
	if (t->why == END_NONE && res.status == JAIL_LEASE_LOST) {
		t->why = END_FENCED;
		log_task(LOG_LEVEL_WARNING, t->id,
			 "the jail killed itself: its leash ran out (node %s renewed its lease too late)",
			 d->node_name);
	}
	describe_end(d, t, &res, &state, &reason, msg, sizeof(msg));
	if (t->adopted && t->why == END_NONE) {
		char dir[4200], path[4300];
		struct jail_result file;

		/* an adopted jail whose init left no end: it died in its setup
		 * with the old corrald (no exec mark: the command never ran), or
		 * its end is lost */
		snprintf(path, sizeof(path), "%s/status", task_start_dir(d, t->id, dir, sizeof(dir)));
		if (jail_read_status_file(path, &file) < 0) {
			struct retry_case rc = { .command_started = file.command_started,
						 .host_fault = true,
						 .attempts = t->attempts };

			state = STORE_FAILED;
			reason = STORE_REASON_SUPERVISOR_LOST;
			if (file.command_started)
				snprintf(msg, sizeof(msg),
					 "Supervisor lost: the adopted jail ended without a status "
					 "after its command started");
			else
				snprintf(msg, sizeof(msg),
					 "Supervisor lost: the adopted jail died in its setup with the "
					 "previous corrald, before its command started");
			running_leave(d, t);
			if (task_end_try_requeue(d, t->id, t->user->name, t, &rc, msg, res.cpu_usage_us))
				return;
			goto record;
		}
	}
	if (t->why == END_SHUTDOWN && !res.command_started) {
		/* stopped in its setup: it runs after the restart */
		struct retry_case rc = { .host_fault = true, .attempts = t->attempts };

		running_leave(d, t);
		if (task_end_try_requeue(d, t->id, t->user->name, t, &rc,
					 "corrald stopped while the jail was set up", res.cpu_usage_us))
			return;
		goto record;
	}
	running_leave(d, t);
record:
	task_workdir_collect(d, t->id, t->user->name); /* its artifacts, in the batch its end joins */
	metrics_task_ended(d, t->user->name, task_state_reason_name(reason), daemon_now_us(d) - t->started_us,
			   true);
	task_end_drop_stdin(t);
	d->notify_pending = d->cluster; /* a slot is free: the scheduler may be another node */
	/* the rest of its output, in the batch its end joins */
	if (d->cluster && daemon_batch(d))
		cluster_output_upload(d, t, true);
	u = end_record(d, t->id, t->user->name, state, reason, msg, &res);
	/* when it ended (the runner has that from the jail's init), not when
	 * this loop got to it */
	if (u && t->jail && jail_end_mono_us(t->jail)) {
		uint64_t mono = daemon_mono_us(), end = jail_end_mono_us(t->jail);

		if (end < mono && mono - end < (uint64_t)u->sr.ended_at_us)
			u->sr.ended_at_us -= (int64_t)(mono - end);
	}
	e = u ? calloc(1, sizeof(*e)) : NULL;
	recorded = e && daemon_batch(d) && record_end(d, u, false);
	if (recorded) {
		e->record = u;
		e->jail = t->jail;
		e->next = d->ended;
		d->ended = e;
	} else {
		/* the store refused it now: keep the result and retry */
		free(e);
		jail_free(t->jail);
		if (u) {
			u->next = d->unfinished;
			d->unfinished = u;
		}
	}
	t->jail = NULL;
	queue_task_free(t);
}

void task_end_shutdown_all(struct daemon *d)
{
	task_requeue_retry_held(d);
	task_requeue_drop_held(d);
	task_end_retry_unfinished(d);
	while (d->unfinished) {
		/* still unrecorded: a restart sees them as running and settles them */
		struct unfinished *u = d->unfinished;

		d->unfinished = u->next;
		log_task(LOG_LEVEL_ERR, u->id, "its end could not be recorded before exit");
		free_record(u);
	}
	for (struct dtask *t = d->running; t; t = t->next) {
		if (t->why == END_NONE)
			t->why = END_SHUTDOWN;
		jail_kill(t->jail, JAIL_KILLED);
	}
	while (d->running)
		task_end(d, d->running);
	daemon_commit_batch(d);
}
