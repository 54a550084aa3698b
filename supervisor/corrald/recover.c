/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/recover.c — after a restart: every task the store says
 * is running is adopted (its jail outlived the previous corrald), settled
 * from the status file its jail's init wrote, or killed (on_restart =
 * kill); task cgroups nobody owns are removed.  A task whose command
 * provably never started (its jail died in its setup with the previous
 * corrald: no exec mark in its status file) goes back to the queue
 * (task_end_try_requeue; sched/retry.h), as does one whose end is lost when
 * its plan says retry_lost = yes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"
#include "supervisor/sched/retry.h"

/* The end of a jail nobody watched, from its status file (no cgroup is
 * left to read CPU from: nothing beyond the cursor is charged). */
static void settle_from_status_file(struct daemon *d, const struct store_task *st)
{
	char dir[4200], path[4300], msg[512];
	struct jail_result res;
	enum store_task_state state = STORE_FAILED;
	enum store_task_reason reason = STORE_REASON_SUPERVISOR_LOST;
	int r;

	snprintf(path, sizeof(path), "%s/status", task_start_dir(d, st->id, dir, sizeof(dir)));
	memset(&res, 0, sizeof(res));
	r = jail_read_status_file(path, &res);
	res.cpu_usage_us = (uint64_t)st->cpu_charged_us;
	if (r < 0) {
		struct retry_case rc = { .command_started = res.command_started,
					 .host_fault = true,
					 .attempts = (uint32_t)st->attempts,
					 .cancel_requested = st->cancel_requested };

		res.exit_code = -1;
		if (res.command_started)
			snprintf(msg, sizeof(msg),
				 "Supervisor lost: the jail ended while corrald was down and left "
				 "no status");
		else
			snprintf(msg, sizeof(msg),
				 "Supervisor lost: the jail died in its setup while corrald was "
				 "down, before its command started");
		if (task_end_try_requeue(d, st->id, st->user, NULL, &rc, msg, (uint64_t)st->cpu_charged_us))
			return;
	} else if (res.status == JAIL_OK || res.status == JAIL_EXIT_NONZERO) {
		state = res.exit_code == 0 ? STORE_SUCCEEDED : STORE_FAILED;
		reason = STORE_REASON_EXIT_CODE;
		snprintf(msg, sizeof(msg), "Exited with code %d (while corrald was down)", res.exit_code);
	} else if (res.status == JAIL_LEASE_LOST) {
		/* its leash ran out while corrald was down (leash.c): killed
		 * after its command started, its end is lost */
		struct retry_case rc = { .command_started = true,
					 .host_fault = true,
					 .attempts = (uint32_t)st->attempts,
					 .cancel_requested = st->cancel_requested };

		snprintf(msg, sizeof(msg),
			 "Node lost: the jail killed itself when node %s's lease on it ran out (while corrald "
			 "was down)",
			 d->node_name);
		if (task_end_try_requeue(d, st->id, st->user, NULL, &rc, msg, (uint64_t)st->cpu_charged_us))
			return;
	} else if (res.status == JAIL_OUTPUT_LIMIT) {
		reason = STORE_REASON_OUTPUT_LIMIT;
		snprintf(msg, sizeof(msg),
			 "Output limit: the task wrote more than its output limit (while corrald was down)");
	} else {
		reason = STORE_REASON_SIGNAL;
		snprintf(msg, sizeof(msg), "Killed by signal %d (while corrald was down)", res.signal);
	}
	if (st->stdin_path)
		unlink(st->stdin_path);
	task_workdir_collect(d, st->id, st->user);
	task_end_record(d, st->id, st->user, state, reason, msg, &res);
}

/* Give up on a jail (killing it first if it still runs): its CPU comes
 * from the cgroup, which goes; the task is supervisor_lost, or back in the
 * queue when its command never started (or its end is lost and the plan
 * retries those).  A jail that ended by itself without a status reports no
 * exit code or signal. */
static void lose_jail(struct daemon *d, const struct store_task *st, struct jail *jail, bool kill,
		      const char *message)
{
	struct jail_result res;
	struct jail_error err;
	struct retry_case rc = { .host_fault = true,
				 .attempts = (uint32_t)st->attempts,
				 .cancel_requested = st->cancel_requested };
	char msg[600];

	if (kill)
		jail_kill(jail, JAIL_KILLED);
	memset(&res, 0, sizeof(res));
	jail_finish(jail, &res, &err);
	jail_free(jail);
	res.cpu_usage_us += (uint64_t)st->cpu_prior_us;
	if (!kill) {
		res.exit_code = -1;
		res.signal = 0;
	}
	rc.command_started = res.command_started;
	/* killed on purpose after its command started: not a lost end */
	if (!kill || !res.command_started) {
		snprintf(msg, sizeof(msg), "%s%s", message,
			 res.command_started ? "" : "; its command had not started");
		if (task_end_try_requeue(d, st->id, st->user, NULL, &rc, msg, res.cpu_usage_us))
			return;
	}
	if (st->stdin_path)
		unlink(st->stdin_path);
	task_workdir_collect(d, st->id, st->user);
	task_end_record(d, st->id, st->user, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST, message, &res);
}

/* Watch an adopted jail again: deadline (absolute, from the store), CPU
 * polling from the stored cursor, cancel, end. */
static void adopt(struct daemon *d, const struct store_task *st, struct jail *jail)
{
	struct dtask *t = calloc(1, sizeof(*t));
	struct duser *u = queue_user(d, st->user);
	struct policy_limits lim;
	uint64_t now = daemon_now_us(d), mono = daemon_mono_us();
	uint32_t slot = (uint32_t)(st->host_uid - (int64_t)d->cfg->uid_first);

	if (!t || !u || st->host_uid < (int64_t)d->cfg->uid_first || slot >= d->n_uid_slots) {
		log_task(LOG_LEVEL_ERR, st->id, "cannot adopt (host uid %lld outside uid_range); killing it",
			 (long long)st->host_uid);
		free(t);
		lose_jail(d, st, jail, true,
			  "Supervisor lost: the restarted corrald could not adopt the jail");
		return;
	}
	t->ep_kind = EP_TASK;
	t->id = st->id;
	t->user = u;
	t->jail = jail;
	t->adopted = true;
	t->uid_slot = slot;
	t->started_us = (uint64_t)st->started_at_us;
	t->charged_us = (uint64_t)st->cpu_charged_us;
	t->cpu_prior_us = (uint64_t)st->cpu_prior_us;
	t->attempts = (uint32_t)st->attempts;
	t->stdin_path = st->stdin_path ? strdup(st->stdin_path) : NULL;
	t->cpu_limit_us = st->cpu_reserved_us > 0 ? (uint64_t)st->cpu_reserved_us : LIMIT_NONE;
	t->gpus = (uint32_t)st->gpus;             /* held again (which ones is not kept: GPUs are counted) */
	t->cpu_millis = (uint32_t)st->cpu_millis; /* its cores held again */
	if (queue_limits(d, u, &lim) == 0) {
		t->budget_capped = lim.max_cpu_seconds == 0 ||
			t->cpu_limit_us < lim.max_cpu_seconds * 1000000u;
		t->memory_reserved = st->memory_limit_bytes > 0 ? (uint64_t)st->memory_limit_bytes
								: lim.memory_bytes;
	}
	if (st->deadline_us > 0) {
		t->wall_limit_effective_us = (uint64_t)(st->deadline_us - st->started_at_us);
		t->deadline_mono_us = (uint64_t)st->deadline_us > now
			? mono + ((uint64_t)st->deadline_us - now)
			: mono;
	}
	t->pidfd = jail_pidfd(jail);
	t->next_check_mono_us = mono;
	daemon_epoll_add(d, t->pidfd, EPOLLIN, t);
	running_enter(d, t);
	if (st->cancel_requested)
		task_watch_cancel(d, t, "a cancel before the restart");
	log_task(LOG_LEVEL_NOTICE, st->id, "adopted its running jail (deadline %s)",
		 st->deadline_us ? "kept" : "none");
}

/* task-N cgroups that no running task owns: a crash came after a task's
 * end was committed but before its (empty) cgroup was removed. */
static void reap_stale_cgroups(struct daemon *d)
{
	char **names = NULL;
	size_t n = 0;

	if (jail_list_cgroups(d->cfg->cgroup_parent, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		long long id;
		char tail;
		struct jail_error err;

		if (sscanf(names[i], TASK_CGROUP_PREFIX "%lld%c", &id, &tail) == 1 && !running_find(d, id) &&
		    jail_reap_cgroup(d->cfg->cgroup_parent, names[i], &err) == 0)
			log_task(LOG_LEVEL_NOTICE, id, "removed its cgroup left by a previous corrald");
		free(names[i]);
	}
	free(names);
}

void recover_running(struct daemon *d)
{
	struct store_task_list list;
	struct error serr;
	bool kill_them = d->cfg->on_restart == POLICY_RESTART_KILL;

	/* in a cluster: this node's tasks only (cluster_start took their leases) */
	if ((d->cluster ? store_cluster_load_running(d->store, d->node_incarnation, &list, &serr)
			: store_load_running(d->store, &list, &serr)) < 0) {
		log_error("load running tasks: %s", serr.message);
		return;
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct store_task *st = &list.tasks[i];
		char dir[4200], status[4300];
		struct jail_error err;
		struct jail *jail = NULL;
		int r = -ENOENT;

		snprintf(status, sizeof(status), "%s/status", task_start_dir(d, st->id, dir, sizeof(dir)));
		if (st->cgroup)
			r = jail_adopt(d->cfg->cgroup_parent, st->cgroup, status, &jail, &err);
		if (r == -ENOENT) {
			settle_from_status_file(d, st);
			continue;
		}
		if (r < 0) {
			log_task(LOG_LEVEL_ERR, st->id, "adopt its jail: %s", err.message);
			settle_from_status_file(d, st);
			continue;
		}
		if (jail_pid(jail) < 0) {
			struct jail_result file;

			/* the jail ended while nobody watched: without a status its
			 * command may never have run (corrald died during setup) */
			if (jail_read_status_file(status, &file) < 0) {
				lose_jail(d, st, jail, false,
					  "Supervisor lost: the jail ended while corrald was down and left no status "
					  "(its setup may have died with corrald)");
				continue;
			}
		}
		if (kill_them) {
			lose_jail(
				d, st, jail, true,
				"Supervisor lost: corrald restarted and killed the running jail (on_restart = kill)");
			continue;
		}
		adopt(d, st, jail);
	}
	store_task_list_free(&list);
	reap_stale_cgroups(d);
}
