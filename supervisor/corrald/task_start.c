/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/task_start.c — corrald's running tasks: start a jail for a
 * task the scheduler picked (a host uid from the pool, the profile and the
 * plan's limits), watch it (pidfd in epoll), poll its CPU from the cgroup
 * and charge it exactly once through the store's cursor, enforce deadlines
 * (SIGTERM, grace, cgroup.kill), CPU limits and budgets, cancel it, and
 * record its end in one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"
#include "supervisor/jailspec/jailspec.h"
#include "supervisor/sched/retry.h"

const char *task_start_dir(struct daemon *d, int64_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%lld", d->tasks_dir, (long long)id);
	return buf;
}

/* The tasks directory as the top of unrelated directories (chattr +T):
 * ext4's Orlov allocator then puts each task's directory, and the files
 * made in it, in a group with more free inodes than average and few
 * directories, not in the group of the tasks directory itself, where
 * everything else made and removed next to the state dir lands.  On ext4
 * without a journal a new inode first scans its group's recently deleted
 * ones: a task directory with its stdout, stderr and status cost 1.7-3.9
 * ms of CPU in the shared VM's /tmp, 0.2-0.4 ms with the flag.  Other
 * filesystems have no such flag: nothing to do there. */
void task_start_spread_dirs(struct daemon *d)
{
	int fd = open(d->tasks_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags = 0;

	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
			log_debug("mark %s as a top directory: %s", d->tasks_dir, strerror(errno));
	}
	close(fd);
}

/* argv / env as stored (JSON) -> NULL-terminated arrays owned by *keep. */
static char **json_strings(const char *text, bool object, json_t **keep)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	size_t n, i = 0;
	char **out;

	*keep = doc;
	if (!doc)
		return NULL;
	n = object ? json_object_size(doc) : json_array_size(doc);
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	if (object) {
		const char *key;
		json_t *value;

		json_object_foreach (doc, key, value) {
			size_t len = strlen(key) +
				strlen(json_string_value(value) ? json_string_value(value) : "") + 2;

			out[i] = malloc(len);
			if (out[i])
				snprintf(out[i], len, "%s=%s", key,
					 json_string_value(value) ? json_string_value(value) : "");
			i++;
		}
	} else {
		json_t *value;

		json_array_foreach (doc, n, value)
			out[i++] = strdup(json_string_value(value) ? json_string_value(value) : "");
	}
	return out;
}

static void free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool task_start_fail(struct daemon *d, struct dtask *t, const char *message)
{
	struct jail_result none;

	memset(&none, 0, sizeof(none));
	none.exit_code = -1;
	return task_end_record(d, t->id, t->user->name, STORE_FAILED, STORE_REASON_SPAWN_ERROR, message,
			       &none);
}

/* The task's wall-clock limit: its own, else its plan's. */
static uint64_t wall_limit_us(const struct dtask *t, const struct policy_limits *lim)
{
	return t->wall_limit_us ? t->wall_limit_us : lim->max_task_seconds * 1000000u;
}

static int build_spec(struct daemon *d, struct dtask *t, const struct store_task *st, uint32_t slot,
		      struct jailspec *ps, char ***argv, char ***env, json_t **keep_a, json_t **keep_e,
		      struct jail_filter **filter, struct jail_error *err)
{
	char dir[4096], out[4200], errp[4200], status[4200], cgname[64];
	struct policy_limits lim;
	struct jail_spec base;
	int r;

	if (queue_limits(d, t->user, &lim) < 0)
		return jail_error_set(err, ENOENT, "policy", "user %s is no longer in the policy",
				      t->user->name);
	task_start_dir(d, t->id, dir, sizeof(dir));
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return jail_error_set(err, errno, "task dir", "create %s", dir);
	snprintf(out, sizeof(out), "%s/stdout", dir);
	snprintf(errp, sizeof(errp), "%s/stderr", dir);
	snprintf(status, sizeof(status), "%s/status", dir);
	snprintf(cgname, sizeof(cgname), TASK_CGROUP_PREFIX "%lld", (long long)t->id);
	jail_spec_init(&base);
	base.host_uid = d->cfg->uid_first + slot;
	base.host_gid = d->cfg->uid_first + slot;
	base.cgroup_parent = d->cfg->cgroup_parent;
	base.cgroup_name = cgname;
	base.stdout_path = out;
	base.stderr_path = errp;
	base.status_path = status;
	base.stdin_path = st->stdin_path;
	r = jailspec_from_limits(ps, &base, d->policy, st->profile, &lim, err);
	if (r < 0)
		return r;
	/* the paths above live on this stack: profile_spec copied the struct,
	 * so point them at copies that live as long as ps */
	ps->spec.stdout_path = strdup(out);
	ps->spec.stderr_path = strdup(errp);
	ps->spec.status_path = strdup(status);
	ps->spec.cgroup_name = strdup(cgname);
	if (d->cluster) {
		char leash[4200];

		r = leash_create(d, t->id, leash, sizeof(leash));
		if (r < 0)
			return jail_error_set(err, -r, "task dir", "create the leash %s", leash);
		ps->spec.leash_path = strdup(leash);
		if (!ps->spec.leash_path)
			return jail_error_set(err, ENOMEM, "task dir", "copy the leash's path");
	}
	*argv = json_strings(st->argv_json, false, keep_a);
	if (!*argv || !(*argv)[0])
		return jail_error_set(err, EINVAL, "task", "stored argv is not a list of strings");
	ps->spec.argv = *argv;
	if (st->env_json && strcmp(st->env_json, "{}") != 0) {
		*env = json_strings(st->env_json, true, keep_e);
		ps->spec.env = *env;
	}
	if (st->cwd)
		ps->spec.cwd = st->cwd;
	if (t->memory_bytes)
		ps->spec.memory_bytes = t->memory_bytes;
	if (t->cpu_millis) /* --cpus: its quota instead of the plan's */
		ps->spec.cpu_millis = t->cpu_millis;
	/* the daemon enforces time itself (SIGTERM, grace, kill); the jail
	 * gets the same limits as a backstop for when the loop is late (set
	 * below, once the effective limits are known) */
	ps->spec.wall_time_ms = 0;
	ps->spec.cpu_time_ms = 0;
	(void)filter;
	if (jailspec_needs_filter(ps)) {
		const struct jail_filter *f = NULL;

		r = task_start_filter(d, st->profile, ps, &f, err);
		if (r < 0)
			return r;
		ps->spec.filter = f;
	}
	t->wall_limit_effective_us = wall_limit_us(t, &lim);
	/* rounded up: the jail's own limits never act before ours */
	ps->spec.wall_time_ms = (t->wall_limit_effective_us + 999) / 1000;
	ps->spec.kill_grace_ms = d->cfg->kill_grace_ms;
	if (t->cpu_limit_us != LIMIT_NONE)
		ps->spec.cpu_time_ms = (t->cpu_limit_us + 999) / 1000;
	return 0;
}

/* A profile's seccomp filter with its extra rules, compiled once per policy
 * load (the built-in profiles are cached by the runner itself). */
struct filter_cache {
	struct filter_cache *next;
	char *profile;
	struct jail_filter *filter;
};

int task_start_filter(struct daemon *d, const char *profile, const struct jailspec *ps,
		      const struct jail_filter **out, struct jail_error *err)
{
	struct filter_cache *c;
	int r;

	for (c = d->filters; c; c = c->next) {
		if (strcmp(c->profile, profile) == 0) {
			*out = c->filter;
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->profile = strdup(profile))) {
		free(c);
		return jail_error_set(err, ENOMEM, "seccomp", "cache the filter of profile %s", profile);
	}
	r = jail_filter_compile(ps->spec.seccomp, (const char *const *)ps->seccomp_allow,
				(const char *const *)ps->seccomp_deny, &c->filter, err);
	if (r < 0) {
		free(c->profile);
		free(c);
		return r;
	}
	c->next = d->filters;
	d->filters = c;
	*out = c->filter;
	return 0;
}

void task_start_forget_filters(struct daemon *d)
{
	while (d->filters) {
		struct filter_cache *c = d->filters;

		d->filters = c->next;
		jail_filter_free(c->filter);
		free(c->profile);
		free(c);
	}
}

/* What one start builds and releases on every return: the stored task, the
 * jail spec with its paths, the argv/env arrays and the JSON they point
 * into, a per-task filter. */
struct start_parts {
	struct store_task st;
	struct jailspec ps;
	struct jail_filter *filter;
	json_t *keep_a, *keep_e;
	char **argv, **env;
};

static void start_parts_free(struct start_parts *p)
{
	free((char *)p->ps.spec.stdout_path);
	free((char *)p->ps.spec.stderr_path);
	free((char *)p->ps.spec.status_path);
	free((char *)p->ps.spec.cgroup_name);
	free((char *)p->ps.spec.leash_path);
	jailspec_free(&p->ps);
	jail_filter_free(p->filter);
	free_strings(p->argv);
	free_strings(p->env);
	json_decref(p->keep_a);
	json_decref(p->keep_e);
	store_task_clear(&p->st);
}

/* The start cannot happen now through no fault of the task (the store
 * refused, no host uid): back at the head of its queue, order intact; with
 * pause, dispatch waits a poll interval instead of spinning. */
static int start_later(struct daemon *d, struct dtask *t, bool pause)
{
	queue_push_front(d, t);
	if (pause)
		d->dispatch_paused_until_mono_us = daemon_mono_us() + d->cfg->poll_interval_ms * 1000u;
	return -EAGAIN;
}

/* One start between its record (store_mark_running) and its jail: what
 * the spawn needs, the host uid slot it holds (given back unless the task
 * entered the running set) and a setup error found before the record (the
 * spawn reports it, as if the jail had failed). */
struct task_start_pending {
	struct task_start_pending *next;
	struct dtask *t;
	struct start_parts p;
	struct jail_error err;
	int prepared; /* 0, or the -errno of building the spec (err says why) */
	uint32_t slot;
	bool held; /* slot is taken for this start */
	char work[4300];
};

static void pending_free(struct daemon *d, struct task_start_pending *sp)
{
	if (sp->held)
		d->uid_slots[sp->slot] = 0;
	start_parts_free(&sp->p);
	free(sp);
}

/* The first half of a start: a host uid, the stored task, its deadline
 * and its record as running (in the loop's batch when one is open: durable
 * only once it commits).  0, or -EAGAIN when it went back to the head of
 * its queue. */
static int start_record(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
			uint64_t memory_reserved, struct task_start_pending *sp)
{
	struct error serr;
	struct store_start start;
	struct policy_limits lim;
	char cgname[64];
	uint64_t now = daemon_now_us(d), mono = daemon_mono_us();
	uint32_t slot;
	int r;

	sp->t = t;
	t->pidfd = -1;
	t->cpu_limit_us = cpu_limit_us; /* LIMIT_NONE: no CPU limit */
	t->budget_capped = budget_capped;
	t->memory_reserved = memory_reserved;
	if (running_take_uid_slot(d, &slot) < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "no free host uid (uid_range too small); requeued");
		return start_later(d, t, false);
	}
	sp->slot = slot;
	sp->held = true;
	t->uid_slot = slot;
	r = store_get_task(d->store, t->id, &sp->p.st, &serr);
	if (r < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "load for start: %s; it stays queued", serr.message);
		return start_later(d, t, true);
	}
	/* taken by another node of a cluster: its stdin comes from the store */
	if (d->cluster && (r = cluster_output_fetch_stdin(d, &sp->p.st)) < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "fetch its stdin from the store: %s; it stays queued",
			 strerror(-r));
		return start_later(d, t, true);
	}
	/* the deadline goes into the record; the spec is built after it (a
	 * batched record's commit, and so the submit's answer, does not wait
	 * for the task's directory and spec) */
	if (queue_limits(d, t->user, &lim) < 0)
		sp->prepared = jail_error_set(&sp->err, ENOENT, "policy",
					      "user %s is no longer in the policy", t->user->name);
	else
		t->wall_limit_effective_us = wall_limit_us(t, &lim);
	snprintf(cgname, sizeof(cgname), TASK_CGROUP_PREFIX "%lld", (long long)t->id);
	t->started_us = now;
	t->deadline_mono_us = t->wall_limit_effective_us ? mono + t->wall_limit_effective_us : 0;
	memset(&start, 0, sizeof(start));
	start.started_at_us = (int64_t)now;
	start.deadline_us = t->wall_limit_effective_us ? (int64_t)(now + t->wall_limit_effective_us) : 0;
	start.cpu_reserved_us = t->cpu_limit_us == LIMIT_NONE ? 0 : (int64_t)t->cpu_limit_us;
	start.host_uid = d->cfg->uid_first + slot;
	start.cgroup = cgname;
	t->attempts = (uint32_t)sp->p.st.attempts + 1;
	start.attempts = (int)t->attempts;
	/* the earlier attempts' CPU is charged: this one's counts from there */
	t->cpu_prior_us = (uint64_t)sp->p.st.cpu_prior_us;
	t->charged_us = (uint64_t)sp->p.st.cpu_charged_us;
	t->not_before_mono_us = 0;
	/* durable before the jail exists: after a crash we know where to look */
	if (store_mark_running(d->store, t->id, &start, &serr) < 0) {
		/* the store refuses (disk full?): the task stays queued */
		log_task(LOG_LEVEL_ERR, t->id, "mark running: %s; it stays queued", serr.message);
		task_workdir_drop(d, t->id); /* a failed start leaves no /work */
		return start_later(d, t, true);
	}
	metrics_task_started(d, t->user->name,
			     now > (uint64_t)sp->p.st.submitted_at_us
				     ? now - (uint64_t)sp->p.st.submitted_at_us
				     : 0);
	return 0;
}

/* The second half, once the record is durable: the spec, the task's /work
 * and the jail's spawn; a failed one is requeued or recorded as
 * spawn_error.  0 or -errno. */
static int start_spawn(struct daemon *d, struct task_start_pending *sp)
{
	struct dtask *t = sp->t;
	int r = sp->prepared;

	if (r == 0)
		r = build_spec(d, t, &sp->p.st, sp->slot, &sp->p.ps, &sp->p.argv, &sp->p.env, &sp->p.keep_a,
			       &sp->p.keep_e, &sp->p.filter, &sp->err);
	/* a task with files: its /work a host tmpfs holding its inputs */
	if (r == 0 &&
	    (r = task_workdir_prepare(d, t->id, sp->p.ps.spec.host_uid, sp->p.ps.spec.host_gid,
				      sp->p.ps.spec.work_bytes, sp->work, sizeof(sp->work), &sp->err)) > 0) {
		sp->p.ps.spec.work_dir = sp->work;
		r = 0;
	}
	if (r == 0) {
		/* one made ahead, if the pool has one; the jail holds it from
		 * its clone on, corrald's fd goes (never used for another) */
		sp->p.ps.spec.netns_fd = netns_pool_take(d);
		/* none: corral-init makes it, its CPU off this loop */
		sp->p.ps.spec.netns_in_init = true;
		r = jail_spawn_start(&sp->p.ps.spec, &t->jail, &sp->err);
		if (sp->p.ps.spec.netns_fd >= 0) {
			close(sp->p.ps.spec.netns_fd);
			if (r < 0 && strcmp(sp->err.step, "setns") == 0)
				netns_pool_spawn_refused(d, sp->err.err);
		}
		sp->p.ps.spec.netns_fd = -1;
	}
	if (r < 0) {
		struct retry_case rc = { .host_fault = retry_spawn_failure_is_host(sp->err.step, sp->err.err),
					 .store_fault = strcmp(sp->err.step, TASK_STEP_STORE) == 0,
					 .store_faults = t->store_faults,
					 .attempts = t->attempts,
					 .cancel_requested = sp->p.st.cancel_requested };
		char msg[512];

		if (rc.store_fault && t->store_faults < UINT32_MAX)
			t->store_faults++; /* the next one's backoff is longer */

		snprintf(msg, sizeof(msg), "Setup failed at step '%s': %s", sp->err.step, sp->err.message);
		log_task(LOG_LEVEL_WARNING, t->id, "%s (%s's fault)", msg,
			 rc.host_fault ? "the host" : "the task");
		task_workdir_drop(d, t->id); /* a failed start leaves no /work */
		d->uid_slots[sp->slot] = 0;
		sp->held = false;
		t->user->month[0] = '\0';
		d->dispatch_needed = true;
		/* the host's fault, and the command never ran: again, later */
		if (task_end_try_requeue(d, t->id, t->user->name, t, &rc, msg, t->cpu_prior_us))
			return r;
		if (sp->p.st.stdin_path)
			unlink(sp->p.st.stdin_path);
		if (task_start_fail(d, t, msg))
			op_wait_wake(d, t->id, true);
		queue_task_free(t);
		return r;
	}
	/* the file goes once the command started (the jail holds it open);
	 * an attempt that dies in its setup is run again and needs it */
	t->stdin_path = sp->p.st.stdin_path ? strdup(sp->p.st.stdin_path) : NULL;
	/* its setup runs on its own; we hear from it on the spawn fd */
	t->starting = true;
	t->pidfd = -1;
	daemon_epoll_add(d, jail_spawn_fd(t->jail), EPOLLIN, t);
	running_enter(d, t);
	sp->held = false; /* the running set owns the slot now */
	t->next_check_mono_us = daemon_mono_us() + CPU_CHECK_MIN_US;
	log_task(LOG_LEVEL_INFO, t->id, "started for %s (host uid %u, cpu limit %s)", t->user->name,
		 d->cfg->uid_first + t->uid_slot, t->cpu_limit_us == LIMIT_NONE ? "none" : "set");
	return 0;
}

int task_start(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
	       uint64_t memory_reserved)
{
	struct task_start_pending *sp = calloc(1, sizeof(*sp));
	int r;

	if (!sp) {
		log_task(LOG_LEVEL_ERR, t->id, "out of memory for its start; it stays queued");
		return start_later(d, t, true);
	}
	r = start_record(d, t, cpu_limit_us, budget_capped, memory_reserved, sp);
	if (r == 0)
		r = start_spawn(d, sp);
	pending_free(d, sp);
	return r;
}

int task_start_batched(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
		       uint64_t memory_reserved)
{
	struct task_start_pending *sp, **tail;
	int r;

	/* no batch (the store refused to begin one): each start commits alone */
	if (!daemon_batch(d) || !(sp = calloc(1, sizeof(*sp))))
		return task_start(d, t, cpu_limit_us, budget_capped, memory_reserved);
	r = start_record(d, t, cpu_limit_us, budget_capped, memory_reserved, sp);
	if (r < 0) {
		pending_free(d, sp);
		return r;
	}
	/* spawned in dispatch order once the batch commits */
	for (tail = &d->starts_pending; *tail; tail = &(*tail)->next)
		;
	*tail = sp;
	return 0;
}

void task_start_batch_done(struct daemon *d, bool committed)
{
	struct task_start_pending *sp, *rev = NULL;

	if (committed || !d->starts_pending)
		return;
	/* none of the records is stored: back at the heads of their queues
	 * (last first, so each queue keeps its order), or gone with a submit
	 * of the same batch; dispatch pauses for a poll interval */
	while ((sp = d->starts_pending)) {
		d->starts_pending = sp->next;
		sp->next = rev;
		rev = sp;
	}
	while ((sp = rev)) {
		struct store_task st;
		struct error serr;
		int r;

		rev = sp->next;
		memset(&st, 0, sizeof(st));
		r = store_get_task(d->store, sp->t->id, &st, &serr);
		if (r == 0)
			store_task_clear(&st);
		if (r == -ENOENT) {
			queue_task_free(sp->t);
		} else {
			log_task(LOG_LEVEL_ERR, sp->t->id, "its start was not stored; it stays queued");
			start_later(d, sp->t, true);
		}
		pending_free(d, sp);
	}
}

void task_start_spawn_pending(struct daemon *d)
{
	struct task_start_pending *sp;

	while ((sp = d->starts_pending)) {
		d->starts_pending = sp->next;
		start_spawn(d, sp);
		pending_free(d, sp);
	}
}

/* The jail's start report arrived: the command runs, or setup failed. */
void task_start_reported(struct daemon *d, struct dtask *t)
{
	struct jail_error err;
	char msg[512];
	int r;

	memset(&err, 0, sizeof(err));
	daemon_epoll_del(d, jail_spawn_fd(t->jail));
	t->starting = false;
	r = jail_spawn_finish(t->jail, &err);
	if (r < 0 && t->why != END_NONE) {
		/* killed (cancel, shutdown) while it set itself up */
		task_end(d, t);
		return;
	}
	if (r < 0) {
		struct retry_case rc = { .host_fault = retry_spawn_failure_is_host(err.step, err.err),
					 .attempts = t->attempts };

		snprintf(msg, sizeof(msg), "Setup failed at step '%s': %s", err.step, err.message);
		log_task(LOG_LEVEL_WARNING, t->id, "%s (%s's fault)", msg,
			 rc.host_fault ? "the host" : "the task");
		running_leave(d, t);
		jail_free(t->jail);
		t->jail = NULL;
		task_workdir_drop(d, t->id); /* the command never ran: nothing to collect */
		/* the host's fault, and the command never ran: again, later */
		if (task_end_try_requeue(d, t->id, t->user->name, t, &rc, msg, t->cpu_prior_us))
			return;
		task_end_drop_stdin(t);
		if (task_start_fail(d, t, msg))
			op_wait_wake(d, t->id, true);
		queue_task_free(t);
		return;
	}
	/* the command runs and holds its stdin open */
	metrics_task_spawned(d, daemon_now_us(d) - t->started_us);
	task_end_drop_stdin(t);
	t->pidfd = jail_pidfd(t->jail);
	daemon_epoll_add(d, t->pidfd, EPOLLIN, t);
	/* a cancel or a deadline that came while it was starting */
	if (t->why != END_NONE)
		jail_kill(t->jail, t->why == END_TIMEOUT ? JAIL_TIMEOUT : JAIL_KILLED);
}
