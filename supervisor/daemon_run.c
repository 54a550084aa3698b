/*
 * supervisor/daemon_run.c — corrald's running tasks: start a jail for a
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
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/daemon.h"
#include "supervisor/log.h"
#include "supervisor/profile_spec.h"

#define CPU_CHECK_MIN_US 10000u
#define TASK_CGROUP_PREFIX "task-"

const char *run_task_dir(struct daemon *d, int64_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%lld", d->tasks_dir, (long long)id);
	return buf;
}

struct dtask *run_find(struct daemon *d, int64_t id)
{
	for (struct dtask *t = d->running; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static int take_uid_slot(struct daemon *d, uint32_t *slot)
{
	for (uint32_t i = 0; i < d->n_uid_slots; i++) {
		if (!d->uid_slots[i]) {
			d->uid_slots[i] = 1;
			*slot = i;
			return 0;
		}
	}
	return -EAGAIN;
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

		json_object_foreach(doc, key, value) {
			size_t len = strlen(key) + strlen(json_string_value(value) ? json_string_value(value) : "") + 2;

			out[i] = malloc(len);
			if (out[i])
				snprintf(out[i], len, "%s=%s", key, json_string_value(value) ? json_string_value(value) : "");
			i++;
		}
	} else {
		json_t *value;

		json_array_foreach(doc, n, value)
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

static void charge(struct daemon *d, struct dtask *t, uint64_t usage_us);

/* An end the store could not record yet (disk full, I/O error): kept and
 * retried at every poll, so no result and no CPU-second is lost. */
struct unfinished {
	struct unfinished *next;
	int64_t id;
	struct store_result sr;
	char *message;
	char month[8];
};

static bool record_end(struct daemon *d, int64_t id, struct store_result *sr)
{
	struct store_error err;
	int r = store_finish(d->store, id, sr, &err);

	if (r == 0) {
		log_task(LOG_LEVEL_INFO, id, "%s: %s", store_state_name(sr->state), sr->message ? sr->message : "");
		return true;
	}
	if (r == -ESTALE || r == -ENOENT) {
		log_task(LOG_LEVEL_WARNING, id, "end already recorded (%s)", err.message);
		return true;
	}
	log_task(LOG_LEVEL_ERR, id, "record its end (%s): %s; will retry", store_reason_name(sr->reason), err.message);
	return false;
}

static bool record_end_quiet(struct daemon *d, int64_t id, struct store_result *sr)
{
	struct store_error err;
	int r = store_finish(d->store, id, sr, &err);

	if (r == 0 || r == -ESTALE || r == -ENOENT)
		return true;
	log_task(LOG_LEVEL_ERR, id, "record its end (%s): %s; will retry", store_reason_name(sr->reason), err.message);
	return false;
}

void run_retry_unfinished(struct daemon *d)
{
	struct unfinished **pp = &d->unfinished;

	while (*pp) {
		struct unfinished *u = *pp;

		if (!record_end(d, u->id, &u->sr)) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		ops_wake_waiters(d, u->id, true);
		free(u->message);
		free(u);
		d->dispatch_needed = true;
	}
}

/* The end of task id as an owned store_result (kept for a retry). */
static struct unfinished *end_record(struct daemon *d, int64_t id, enum store_task_state state,
				     enum store_task_reason reason, const char *message,
				     const struct jail_result *res)
{
	struct unfinished *u = calloc(1, sizeof(*u));
	struct store_result *sr;
	uint64_t now = daemon_now_us(d);

	if (!u)
		return NULL;
	sr = &u->sr;
	u->id = id;
	u->message = message ? strdup(message) : NULL;
	daemon_month(d, now, u->month);
	sr->state = state;
	sr->reason = reason;
	sr->message = u->message;
	sr->month = u->month;
	sr->exit_code = res && res->exit_code >= 0 ? res->exit_code : -1;
	sr->signal = res && res->signal ? res->signal : -1;
	sr->ended_at_us = (int64_t)now;
	if (res) {
		sr->cpu_total_us = (int64_t)res->cpu_usage_us;
		sr->cpu_user_us = (int64_t)res->cpu_user_us;
		sr->cpu_system_us = (int64_t)res->cpu_system_us;
		sr->memory_peak_bytes = (int64_t)res->memory_peak_bytes;
		sr->stdout_bytes = (int64_t)res->stdout_bytes;
		sr->stderr_bytes = (int64_t)res->stderr_bytes;
		sr->stdout_truncated = res->stdout_truncated;
		sr->stderr_truncated = res->stderr_truncated;
	}
	return u;
}

static void free_record(struct unfinished *u)
{
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

void run_batch_done(struct daemon *d, bool committed)
{
	while (d->ended) {
		struct ended *e = d->ended;

		d->ended = e->next;
		jail_free(e->jail);
		if (committed) {
			log_task(LOG_LEVEL_INFO, e->record->id, "%s: %s", store_state_name(e->record->sr.state),
				 e->record->message ? e->record->message : "");
			ops_wake_waiters(d, e->record->id, true);
			free_record(e->record);
		} else {
			e->record->next = d->unfinished;  /* retried at every poll */
			d->unfinished = e->record;
		}
		free(e);
	}
}

static bool finish_in_store(struct daemon *d, int64_t id, enum store_task_state state,
			    enum store_task_reason reason, const char *message, const struct jail_result *res)
{
	struct unfinished *u;
	struct store_result sr;
	char month[8];
	uint64_t now = daemon_now_us(d);

	memset(&sr, 0, sizeof(sr));
	daemon_month(d, now, month);
	sr.state = state;
	sr.reason = reason;
	sr.message = message;
	sr.exit_code = res && res->exit_code >= 0 ? res->exit_code : -1;
	sr.signal = res && res->signal ? res->signal : -1;
	sr.ended_at_us = (int64_t)now;
	if (res) {
		sr.cpu_total_us = (int64_t)res->cpu_usage_us;
		sr.cpu_user_us = (int64_t)res->cpu_user_us;
		sr.cpu_system_us = (int64_t)res->cpu_system_us;
		sr.memory_peak_bytes = (int64_t)res->memory_peak_bytes;
		sr.stdout_bytes = (int64_t)res->stdout_bytes;
		sr.stderr_bytes = (int64_t)res->stderr_bytes;
		sr.stdout_truncated = res->stdout_truncated;
		sr.stderr_truncated = res->stderr_truncated;
	}
	sr.month = month;
	if (record_end(d, id, &sr))
		return true;
	u = calloc(1, sizeof(*u));
	if (!u)
		return false;
	u->id = id;
	u->sr = sr;
	u->message = message ? strdup(message) : NULL;
	u->sr.message = u->message;
	memcpy(u->month, month, sizeof(month));
	u->sr.month = u->month;
	u->next = d->unfinished;
	d->unfinished = u;
	return false;
}

static void release(struct daemon *d, struct dtask *t)
{
	struct duser *u = t->user;

	if (t->pidfd >= 0)
		daemon_epoll_del(d, t->pidfd);
	t->pidfd = -1;
	d->uid_slots[t->uid_slot] = 0;
	u->running--;
	if (t->cpu_limit_us != UINT64_MAX)
		u->reserved_us -= t->cpu_limit_us;
	u->month[0] = '\0';  /* re-read the month's usage: the end charged the rest */
	d->running_count--;
	d->memory_reserved -= t->memory_reserved;
	for (struct dtask **pp = &d->running; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	d->dispatch_needed = true;
}

static bool fail_start(struct daemon *d, struct dtask *t, const char *message)
{
	struct jail_result none;

	memset(&none, 0, sizeof(none));
	none.exit_code = -1;
	return finish_in_store(d, t->id, STORE_FAILED, STORE_REASON_SPAWN_ERROR, message, &none);
}

static int build_spec(struct daemon *d, struct dtask *t, const struct store_task *st, uint32_t slot,
		      struct profile_spec *ps, char ***argv, char ***env, json_t **keep_a, json_t **keep_e,
		      struct jail_filter **filter, struct jail_error *err)
{
	char dir[4096], out[4200], errp[4200], status[4200], cgname[64];
	struct policy_limits lim;
	struct jail_spec base;
	int r;

	if (queue_limits(d, t->user, &lim) < 0)
		return jail_error_set(err, ENOENT, "policy", "user %s is no longer in the policy", t->user->name);
	run_task_dir(d, t->id, dir, sizeof(dir));
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
	r = profile_spec_from_policy(ps, &base, d->policy, st->profile, t->user->name, err);
	if (r < 0)
		return r;
	/* the paths above live on this stack: profile_spec copied the struct,
	 * so point them at copies that live as long as ps */
	ps->spec.stdout_path = strdup(out);
	ps->spec.stderr_path = strdup(errp);
	ps->spec.status_path = strdup(status);
	ps->spec.cgroup_name = strdup(cgname);
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
	/* the daemon enforces time itself (SIGTERM, grace, kill) */
	ps->spec.wall_time_ms = 0;
	ps->spec.cpu_time_ms = 0;
	(void)filter;
	if (profile_spec_needs_filter(ps)) {
		const struct jail_filter *f = NULL;

		r = run_profile_filter(d, st->profile, ps, &f, err);
		if (r < 0)
			return r;
		ps->spec.filter = f;
	}
	t->wall_limit_effective_ms = t->wall_limit_ms ? t->wall_limit_ms : lim.max_task_seconds * 1000u;
	return 0;
}

/* A profile's seccomp filter with its extra rules, compiled once per policy
 * load (the built-in profiles are cached by the runner itself). */
struct filter_cache {
	struct filter_cache *next;
	char *profile;
	struct jail_filter *filter;
};

int run_profile_filter(struct daemon *d, const char *profile, const struct profile_spec *ps,
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

void run_forget_filters(struct daemon *d)
{
	while (d->filters) {
		struct filter_cache *c = d->filters;

		d->filters = c->next;
		jail_filter_free(c->filter);
		free(c->profile);
		free(c);
	}
}

static void free_spec_paths(struct profile_spec *ps)
{
	free((char *)ps->spec.stdout_path);
	free((char *)ps->spec.stderr_path);
	free((char *)ps->spec.status_path);
	free((char *)ps->spec.cgroup_name);
}

int run_start(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
	      uint64_t memory_reserved)
{
	struct store_task st;
	struct store_error serr;
	struct store_start start;
	struct profile_spec ps;
	struct jail_error err;
	struct jail_filter *filter = NULL;
	json_t *keep_a = NULL, *keep_e = NULL;
	char **argv = NULL, **env = NULL, cgname[64];
	uint32_t slot;
	uint64_t now = daemon_now_us(d), mono = daemon_mono_us();
	int r;

	memset(&st, 0, sizeof(st));
	memset(&ps, 0, sizeof(ps));
	memset(&err, 0, sizeof(err));
	t->pidfd = -1;
	t->cpu_limit_us = cpu_limit_us; /* SCHED_NO_LIMIT is UINT64_MAX */
	t->budget_capped = budget_capped;
	t->memory_reserved = memory_reserved;
	if (take_uid_slot(d, &slot) < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "no free host uid (uid_range too small); requeued");
		queue_push_front(d, t);
		return -EAGAIN;
	}
	t->uid_slot = slot;
	r = store_get_task(d->store, t->id, &st, &serr);
	if (r < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "load for start: %s; it stays queued", serr.message);
		d->uid_slots[slot] = 0;
		queue_push_front(d, t);
		d->dispatch_paused_until_mono_us = mono + d->cfg->poll_interval_ms * 1000u;
		return -EAGAIN;
	}
	r = build_spec(d, t, &st, slot, &ps, &argv, &env, &keep_a, &keep_e, &filter, &err);
	snprintf(cgname, sizeof(cgname), TASK_CGROUP_PREFIX "%lld", (long long)t->id);
	t->started_us = now;
	t->deadline_mono_us = t->wall_limit_effective_ms ? mono + t->wall_limit_effective_ms * 1000u : 0;
	memset(&start, 0, sizeof(start));
	start.started_at_us = (int64_t)now;
	start.deadline_us = t->wall_limit_effective_ms ? (int64_t)(now + t->wall_limit_effective_ms * 1000u) : 0;
	start.cpu_reserved_us = t->cpu_limit_us == UINT64_MAX ? 0 : (int64_t)t->cpu_limit_us;
	start.host_uid = d->cfg->uid_first + slot;
	start.cgroup = cgname;
	start.attempts = 1;
	/* durable before the jail exists: after a crash we know where to look */
	if (store_mark_running(d->store, t->id, &start, &serr) < 0) {
		/* the store refuses (disk full?): the task stays queued, and
		 * dispatch pauses for a poll interval instead of spinning */
		log_task(LOG_LEVEL_ERR, t->id, "mark running: %s; it stays queued", serr.message);
		d->uid_slots[slot] = 0;
		queue_push_front(d, t);
		d->dispatch_paused_until_mono_us = mono + d->cfg->poll_interval_ms * 1000u;
		r = -EAGAIN;
		goto out;
	}
	if (r == 0)
		r = jail_spawn_start(&ps.spec, &t->jail, &err);
	/* the jail holds its stdin open (or will never run): the file goes */
	if (st.stdin_path)
		unlink(st.stdin_path);
	if (r < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "Setup failed at step '%s': %s", err.step, err.message);
		log_task(LOG_LEVEL_WARNING, t->id, "%s", msg);
		d->uid_slots[slot] = 0;
			t->user->month[0] = '\0';
		if (fail_start(d, t, msg))
			ops_wake_waiters(d, t->id, true);
		free(t);
		d->dispatch_needed = true;
		goto out;
	}
	/* its setup runs on its own; we hear from it on the spawn fd */
	t->starting = true;
	t->pidfd = -1;
	daemon_epoll_add(d, jail_spawn_fd(t->jail), EPOLLIN, t);
	t->next = d->running;
	d->running = t;
	t->user->running++;
	if (t->cpu_limit_us != UINT64_MAX)
		t->user->reserved_us += t->cpu_limit_us;
	d->running_count++;
	d->memory_reserved += memory_reserved;
	t->next_check_mono_us = mono + CPU_CHECK_MIN_US;
	log_task(LOG_LEVEL_INFO, t->id, "started for %s (host uid %u, cpu limit %s)", t->user->name,
		 d->cfg->uid_first + slot, t->cpu_limit_us == UINT64_MAX ? "none" : "set");
out:
	free_spec_paths(&ps);
	profile_spec_free(&ps);
	jail_filter_free(filter);
	free_strings(argv);
	free_strings(env);
	json_decref(keep_a);
	json_decref(keep_e);
	store_task_clear(&st);
	return r;
}

static void describe_end(struct daemon *d, const struct dtask *t, const struct jail_result *res,
			 enum store_task_state *state, enum store_task_reason *reason, char *msg, size_t size)
{
	char month[8];

	*state = STORE_FAILED;
	switch (t->why) {
	case END_TIMEOUT:
		*reason = STORE_REASON_TIMEOUT;
		snprintf(msg, size, "Timeout: exceeded the %llu s wall-clock limit",
			 (unsigned long long)((t->wall_limit_effective_ms + 999) / 1000));
		return;
	case END_CPU_LIMIT:
		*reason = STORE_REASON_CPU_LIMIT;
		snprintf(msg, size, "CPU limit: used %.1f s of CPU, the limit is %.1f s",
			 res->cpu_usage_us / 1e6, t->cpu_limit_us / 1e6);
		return;
	case END_BUDGET:
		daemon_month(d, daemon_now_us(d), month);
		*reason = STORE_REASON_BUDGET;
		snprintf(msg, size, "Budget: %s's monthly CPU budget for %s ran out (this task used %.1f s)",
			 t->user->name, month, res->cpu_usage_us / 1e6);
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

static void end_task(struct daemon *d, struct dtask *t)
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
	describe_end(d, t, &res, &state, &reason, msg, sizeof(msg));
	if (t->adopted && t->why == END_NONE) {
		char dir[4200], path[4300];
		struct jail_result file;

		/* an adopted jail whose init left no status: it may have died in
		 * setup with the old corrald, before the command ever ran */
		snprintf(path, sizeof(path), "%s/status", run_task_dir(d, t->id, dir, sizeof(dir)));
		if (jail_read_status_file(path, &file) < 0) {
			state = STORE_FAILED;
			reason = STORE_REASON_SUPERVISOR_LOST;
			snprintf(msg, sizeof(msg), "Supervisor lost: the adopted jail ended without a status "
				 "(its setup may have died with the previous corrald)");
		}
	}
	release(d, t);
	u = end_record(d, t->id, state, reason, msg, &res);
	e = u ? calloc(1, sizeof(*e)) : NULL;
	recorded = e && daemon_batch(d) && record_end_quiet(d, t->id, &u->sr);
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
	free(t->cancelled_by);
	free(t);
}

/* The jail's start report arrived: the command runs, or setup failed. */
static void start_reported(struct daemon *d, struct dtask *t)
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
		end_task(d, t);
		return;
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "Setup failed at step '%s': %s", err.step, err.message);
		log_task(LOG_LEVEL_WARNING, t->id, "%s", msg);
		release(d, t);
		jail_free(t->jail);
		t->jail = NULL;
		if (fail_start(d, t, msg))
			ops_wake_waiters(d, t->id, true);
		free(t->cancelled_by);
		free(t);
		return;
	}
	t->pidfd = jail_pidfd(t->jail);
	daemon_epoll_add(d, t->pidfd, EPOLLIN, t);
	/* a cancel or a deadline that came while it was starting */
	if (t->why != END_NONE)
		jail_kill(t->jail, t->why == END_TIMEOUT ? JAIL_TIMEOUT : JAIL_KILLED);
}

void run_pidfd_ready(struct daemon *d, struct dtask *t)
{
	if (t->starting)
		start_reported(d, t);
	else
		end_task(d, t);
}

/* Charge what the cgroup measured beyond the cursor, in one transaction. */
static void charge(struct daemon *d, struct dtask *t, uint64_t usage_us)
{
	struct store_error err;
	char month[8];
	uint64_t now = daemon_now_us(d);

	if (usage_us <= t->charged_us)
		return;
	daemon_month(d, now, month);
	if (store_charge(d->store, t->id, (int64_t)t->charged_us, (int64_t)usage_us, month, (int64_t)now, &err) < 0) {
		log_task(LOG_LEVEL_ERR, t->id, "charge CPU: %s", err.message);
		return;
	}
	if (strcmp(month, t->user->month) == 0)
		t->user->used_us += usage_us - t->charged_us;
	else
		t->user->month[0] = '\0';
	t->charged_us = usage_us;
}

void run_poll(struct daemon *d)
{
	uint64_t mono = daemon_mono_us(), poll_us = d->cfg->poll_interval_ms * 1000u;
	bool full = mono >= d->next_poll_mono_us;

	if (full && d->unfinished)
		run_retry_unfinished(d);
	for (struct dtask *t = d->running; t; t = t->next) {
		struct jail_cpu cpu;
		uint64_t rate, wait;

		if (!full && mono < t->next_check_mono_us)
			continue;
		if (t->starting || jail_cpu_usage(t->jail, &cpu) < 0)
			continue;
		charge(d, t, cpu.usage_us);
		t->next_check_mono_us = mono + poll_us;
		if (t->cpu_limit_us == UINT64_MAX || t->why != END_NONE)
			continue;
		if (cpu.usage_us >= t->cpu_limit_us) {
			t->why = t->budget_capped ? END_BUDGET : END_CPU_LIMIT;
			log_task(LOG_LEVEL_INFO, t->id, "%s reached; killing it",
				 t->budget_capped ? "budget" : "CPU limit");
			jail_kill(t->jail, JAIL_CPU_LIMIT);
			continue;
		}
		/* the soonest the limit can be reached, at every CPU of the host */
		rate = (uint64_t)(sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1);
		wait = (t->cpu_limit_us - cpu.usage_us) / rate;
		if (wait < CPU_CHECK_MIN_US)
			wait = CPU_CHECK_MIN_US;
		if (wait < poll_us)
			t->next_check_mono_us = mono + wait;
	}
	if (full)
		d->next_poll_mono_us = mono + poll_us;
}

void run_check_deadlines(struct daemon *d)
{
	uint64_t mono = daemon_mono_us();

	for (struct dtask *t = d->running; t; t = t->next) {
		if (t->deadline_mono_us && mono >= t->deadline_mono_us) {
			t->deadline_mono_us = 0;
			if (t->why == END_NONE)
				t->why = END_TIMEOUT;
			log_task(LOG_LEVEL_INFO, t->id, "wall-clock limit reached; SIGTERM, then kill after %llu ms",
				 (unsigned long long)d->cfg->kill_grace_ms);
			if (t->starting)
				continue;  /* killed once its start is reported */
			if (d->cfg->kill_grace_ms == 0 || jail_signal(t->jail, SIGTERM) < 0)
				jail_kill(t->jail, JAIL_TIMEOUT);
			else
				t->kill_at_mono_us = mono + d->cfg->kill_grace_ms * 1000u;
		}
		if (t->kill_at_mono_us && mono >= t->kill_at_mono_us) {
			t->kill_at_mono_us = 0;
			jail_kill(t->jail, JAIL_TIMEOUT);
		}
	}
}

uint64_t run_next_event_mono_us(struct daemon *d)
{
	uint64_t next = d->running || d->waiters || d->unfinished ? d->next_poll_mono_us : 0;

	for (struct dtask *t = d->running; t; t = t->next) {
		uint64_t at[3] = { t->deadline_mono_us, t->kill_at_mono_us,
				   t->cpu_limit_us != UINT64_MAX ? t->next_check_mono_us : 0 };

		for (int i = 0; i < 3; i++)
			if (at[i] && (next == 0 || at[i] < next))
				next = at[i];
	}
	return next;
}

void run_cancel(struct daemon *d, struct dtask *t, const char *by)
{
	(void)d;
	if (t->why == END_NONE || t->why == END_TIMEOUT) {
		t->why = END_CANCEL;
		free(t->cancelled_by);
		t->cancelled_by = strdup(by);
	}
	jail_kill(t->jail, JAIL_KILLED);
}

void run_shutdown_all(struct daemon *d)
{
	run_retry_unfinished(d);
	while (d->unfinished) {
		/* still unrecorded: a restart sees them as running and settles them */
		struct unfinished *u = d->unfinished;

		d->unfinished = u->next;
		log_task(LOG_LEVEL_ERR, u->id, "its end could not be recorded before exit");
		free(u->message);
		free(u);
	}
	for (struct dtask *t = d->running; t; t = t->next) {
		if (t->why == END_NONE)
			t->why = END_SHUTDOWN;
		jail_kill(t->jail, JAIL_KILLED);
	}
	while (d->running)
		end_task(d, d->running);
	daemon_commit_batch(d);
}

/* The end of a jail nobody watched, from its status file (no cgroup is
 * left to read CPU from: nothing beyond the cursor is charged). */
static void settle_from_status_file(struct daemon *d, const struct store_task *st)
{
	if (st->stdin_path)
		unlink(st->stdin_path);
	char dir[4200], path[4300], msg[512];
	struct jail_result res;
	enum store_task_state state = STORE_FAILED;
	enum store_task_reason reason = STORE_REASON_SUPERVISOR_LOST;
	int r;

	snprintf(path, sizeof(path), "%s/status", run_task_dir(d, st->id, dir, sizeof(dir)));
	memset(&res, 0, sizeof(res));
	r = jail_read_status_file(path, &res);
	res.cpu_usage_us = (uint64_t)st->cpu_charged_us;
	if (r < 0) {
		res.exit_code = -1;
		snprintf(msg, sizeof(msg), "Supervisor lost: the jail ended while corrald was down and left no status");
	} else if (res.status == JAIL_OK || res.status == JAIL_EXIT_NONZERO) {
		state = res.exit_code == 0 ? STORE_SUCCEEDED : STORE_FAILED;
		reason = STORE_REASON_EXIT_CODE;
		snprintf(msg, sizeof(msg), "Exited with code %d (while corrald was down)", res.exit_code);
	} else if (res.status == JAIL_OUTPUT_LIMIT) {
		reason = STORE_REASON_OUTPUT_LIMIT;
		snprintf(msg, sizeof(msg), "Output limit: the task wrote more than its output limit (while corrald was down)");
	} else {
		reason = STORE_REASON_SIGNAL;
		snprintf(msg, sizeof(msg), "Killed by signal %d (while corrald was down)", res.signal);
	}
	finish_in_store(d, st->id, state, reason, msg, &res);
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
		jail_kill(jail, JAIL_KILLED);
		struct jail_result res;
		struct jail_error err;

		jail_finish(jail, &res, &err);
		jail_free(jail);
		finish_in_store(d, st->id, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST,
				"Supervisor lost: the restarted corrald could not adopt the jail", &res);
		return;
	}
	t->ep_kind = EP_TASK;
	t->id = st->id;
	t->user = u;
	t->jail = jail;
	t->adopted = true;
	t->uid_slot = slot;
	d->uid_slots[slot] = 1;
	t->started_us = (uint64_t)st->started_at_us;
	t->charged_us = (uint64_t)st->cpu_charged_us;
	t->cpu_limit_us = st->cpu_reserved_us > 0 ? (uint64_t)st->cpu_reserved_us : UINT64_MAX;
	if (queue_limits(d, u, &lim) == 0) {
		t->budget_capped = lim.max_cpu_seconds == 0 || t->cpu_limit_us < lim.max_cpu_seconds * 1000000u;
		t->memory_reserved = st->memory_limit_bytes > 0 ? (uint64_t)st->memory_limit_bytes : lim.memory_bytes;
	}
	if (st->deadline_us > 0) {
		t->wall_limit_effective_ms = (uint64_t)(st->deadline_us - st->started_at_us) / 1000u;
		t->deadline_mono_us = (uint64_t)st->deadline_us > now ? mono + ((uint64_t)st->deadline_us - now) : mono;
	}
	t->pidfd = jail_pidfd(jail);
	t->next_check_mono_us = mono;
	daemon_epoll_add(d, t->pidfd, EPOLLIN, t);
	t->next = d->running;
	d->running = t;
	u->running++;
	if (t->cpu_limit_us != UINT64_MAX)
		u->reserved_us += t->cpu_limit_us;
	d->running_count++;
	d->memory_reserved += t->memory_reserved;
	if (st->cancel_requested)
		run_cancel(d, t, "a cancel before the restart");
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

		if (sscanf(names[i], TASK_CGROUP_PREFIX "%lld%c", &id, &tail) == 1 && !run_find(d, id) &&
		    jail_reap_cgroup(d->cfg->cgroup_parent, names[i], &err) == 0)
			log_task(LOG_LEVEL_NOTICE, id, "removed its cgroup left by a previous corrald");
		free(names[i]);
	}
	free(names);
}

void run_recover(struct daemon *d)
{
	struct store_task_list list;
	struct store_error serr;
	bool kill_them = d->cfg->on_restart == POLICY_RESTART_KILL;

	if (store_load_running(d->store, &list, &serr) < 0) {
		log_error("load running tasks: %s", serr.message);
		return;
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct store_task *st = &list.tasks[i];
		char dir[4200], status[4300];
		struct jail_error err;
		struct jail *jail = NULL;
		int r = -ENOENT;

		snprintf(status, sizeof(status), "%s/status", run_task_dir(d, st->id, dir, sizeof(dir)));
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
			struct jail_result res, file;

			/* the jail ended while nobody watched: without a status its
			 * command may never have run (corrald died during setup) */
			if (jail_read_status_file(status, &file) < 0) {
				memset(&res, 0, sizeof(res));
				jail_finish(jail, &res, &err);
				jail_free(jail);
				res.exit_code = -1;
				res.signal = 0;
				finish_in_store(d, st->id, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST,
						"Supervisor lost: the jail ended while corrald was down and left no status "
						"(its setup may have died with corrald)", &res);
				continue;
			}
		}
		if (kill_them) {
			struct jail_result res;

			jail_kill(jail, JAIL_KILLED);
			memset(&res, 0, sizeof(res));
			jail_finish(jail, &res, &err);
			jail_free(jail);
			finish_in_store(d, st->id, STORE_FAILED, STORE_REASON_SUPERVISOR_LOST,
					"Supervisor lost: corrald restarted and killed the running jail (on_restart = kill)",
					&res);
			continue;
		}
		adopt(d, st, jail);
	}
	store_task_list_free(&list);
	reap_stale_cgroups(d);
}
