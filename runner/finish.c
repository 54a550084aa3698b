/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/finish.c — the end of a jail: jail_wait() (enforce wall and CPU
 * limits while waiting) and jail_finish() (reap init, read its last report,
 * read CPU and memory from the cgroup, remove the cgroup, decide the status).
 * An adopted jail's end (no waitid, the status file) is runner/adopt.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/cgroup.h"
#include "runner/internal.h"

#define CPU_CHECK_MIN_US 5000u
#define CPU_CHECK_MAX_US 1000000u

/* How long until the CPU limit could be reached at the fastest rate the jail
 * can burn CPU (its quota, or every CPU of the host). */
static uint64_t next_cpu_check_us(const struct jail *j, uint64_t used_us)
{
	uint64_t millis = j->cpu_millis;
	uint64_t wait;

	if (!millis) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		millis = (uint64_t)(n > 0 ? n : 1) * 1000;
	}
	wait = used_us >= j->cpu_limit_us ? 0 : (j->cpu_limit_us - used_us) * 1000 / millis;
	if (wait < CPU_CHECK_MIN_US)
		wait = CPU_CHECK_MIN_US;
	if (wait > CPU_CHECK_MAX_US)
		wait = CPU_CHECK_MAX_US;
	return wait;
}

int jail_wait(struct jail *j, struct jail_result *result, struct jail_error *err)
{
	bool killed = false;

	for (;;) {
		uint64_t now = monotonic_us();
		uint64_t sleep_us = UINT64_MAX;
		struct pollfd pfd = { .fd = j->pidfd, .events = POLLIN };
		int timeout_ms, r;

		if (!killed && j->wall_limit_us) {
			uint64_t deadline = j->start_us + j->wall_limit_us;

			if (now >= deadline) {
				jail_kill(j, JAIL_TIMEOUT);
				killed = true;
			} else {
				sleep_us = deadline - now;
			}
		}
		if (!killed && j->cpu_limit_us) {
			struct jail_cpu cpu;

			if (jail_cpu_usage(j, &cpu) == 0 && cpu.usage_us >= j->cpu_limit_us) {
				jail_kill(j, JAIL_CPU_LIMIT);
				killed = true;
			} else {
				uint64_t next = next_cpu_check_us(j, cpu.usage_us);

				if (next < sleep_us)
					sleep_us = next;
			}
		}
		timeout_ms = sleep_us == UINT64_MAX || killed ? -1 : (int)((sleep_us + 999) / 1000);
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return jail_error_set(err, errno, "wait", "poll the jail's pidfd");
		if (r > 0)
			break;
	}
	return jail_finish(j, result, err);
}

static void read_final_report(struct jail *j, struct report *rec)
{
	ssize_t n;

	memset(rec, 0, sizeof(*rec));
	if (fcntl(j->report_fd, F_SETFL, O_NONBLOCK) < 0)
		return;
	n = read(j->report_fd, rec, sizeof(*rec));
	if (n != (ssize_t)sizeof(*rec) || rec->kind != REPORT_DONE)
		rec->kind = 0;
}

static uint64_t file_size(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

void finish_decide_status(enum jail_status kill_reason, int init_wait_status, const struct report *rec,
			  struct jail_result *res)
{
	res->exit_code = -1;
	res->signal = 0;
	if (rec->kind == REPORT_DONE) {
		if (WIFEXITED(rec->wstatus))
			res->exit_code = WEXITSTATUS(rec->wstatus);
		else if (WIFSIGNALED(rec->wstatus))
			res->signal = WTERMSIG(rec->wstatus);
	} else if (WIFSIGNALED(init_wait_status)) {
		/* init itself was killed (by us, or the OOM killer) */
		res->signal = WTERMSIG(init_wait_status);
	}

	/* the caller's kill first, then a limit the jail's init enforced
	 * itself (the caller was late): its first cause, before any output
	 * cap the dying task hit during the grace */
	if (kill_reason != JAIL_OK)
		res->status = kill_reason;
	else if (rec->kind == REPORT_DONE && rec->limit_hit == INIT_LIMIT_TIMEOUT)
		res->status = JAIL_TIMEOUT;
	else if (rec->kind == REPORT_DONE && rec->limit_hit == INIT_LIMIT_CPU)
		res->status = JAIL_CPU_LIMIT;
	else if (rec->kind == REPORT_DONE && rec->limit_hit == INIT_LIMIT_LEASH)
		res->status = JAIL_LEASE_LOST;
	else if (rec->kind == REPORT_DONE && rec->output_limit_hit)
		res->status = JAIL_OUTPUT_LIMIT;
	else if (res->oom_killed && (res->signal == SIGKILL || rec->kind != REPORT_DONE))
		res->status = JAIL_OOM;
	else if (res->exit_code == 0)
		res->status = JAIL_OK;
	else if (res->exit_code > 0)
		res->status = JAIL_EXIT_NONZERO;
	else
		res->status = JAIL_SIGNALED;
}

static int finish_jail(struct jail *j, struct jail_result *res, struct jail_error *err, bool destroy);

int jail_finish(struct jail *j, struct jail_result *res, struct jail_error *err)
{
	return finish_jail(j, res, err, true);
}

int jail_collect(struct jail *j, struct jail_result *res, struct jail_error *err)
{
	return finish_jail(j, res, err, false);
}

static int finish_jail(struct jail *j, struct jail_result *res, struct jail_error *err, bool destroy)
{
	struct report rec;
	struct jail_cpu cpu = { 0, 0, 0 };
	int r = 0;

	memset(res, 0, sizeof(*res));
	if (j->adopted) {
		/* not our child: no waitid, no report pipe; the status file */
		r = adopt_wait_end(j, &rec, err);
		if (r < 0)
			return r;
	} else if (!j->reaped) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		while (waitid(P_PIDFD, (id_t)j->pidfd, &si, WEXITED) < 0) {
			if (errno != EINTR)
				return jail_error_set(err, errno, "wait", "reap the jail's init (pid %d)",
						      (int)j->pid);
		}
		j->reaped = true;
		j->wait_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
	}
	/* a caller that did not wait for the start (jail.h): the start
	 * report first; init is gone, so this read does not block */
	if (j->starting) {
		r = jail_spawn_finish(j, err);
		if (r < 0)
			return r;
	}
	j->end_us = monotonic_us();
	j->t_reaped = j->end_us;
	if (!j->adopted)
		read_final_report(j, &rec);
	/* the command's end as init saw it, not when we looked (a caller
	 * that was late must not stretch the task's wall time) */
	if (rec.kind == REPORT_DONE && rec.end_mono_us >= j->start_us && rec.end_mono_us <= j->end_us)
		j->end_us = rec.end_mono_us;

	/* init's exit killed the pid namespace; anything still in the cgroup
	 * (there should be nothing) goes now, before we read the totals */
	cgroup_kill(j->cgroup);
	if (cgroup_read_cpu(j->cgroup, &cpu) == 0) {
		res->cpu_usage_us = cpu.usage_us;
		res->cpu_user_us = cpu.user_us;
		res->cpu_system_us = cpu.system_us;
	}
	cgroup_read_memory(j->cgroup, &res->memory_peak_bytes, &res->oom_kills);
	res->oom_killed = res->oom_kills > 0;
	if (destroy) {
		r = cgroup_destroy(j->cgroup, err);
		j->cgroup = NULL;
	}

	/* an adopted jail's start is known only if its init was still there */
	res->wall_us = j->adopted && !j->start_known ? 0 : j->end_us - j->start_us;
	/* init counts what it copies: capped streams and every output but a
	 * terminal (a terminal's counts are 0) */
	if (rec.kind == REPORT_DONE) {
		res->stdout_bytes = rec.stdout_bytes;
		res->stderr_bytes = rec.stderr_bytes;
		res->stdout_truncated = rec.stdout_truncated;
		res->stderr_truncated = rec.stderr_truncated;
	} else {
		res->stdout_bytes = file_size(j->stdout_fd);
		res->stderr_bytes = file_size(j->stderr_fd);
	}
	finish_decide_status(j->kill_reason, j->wait_status, &rec, res);
	res->command_started = j->command_started;
	j->finished = true;
	return r;
}

uint64_t jail_end_mono_us(const struct jail *j)
{
	return j->end_us;
}

int jail_reap_cgroup(const char *cgroup_parent, const char *cgroup_name, struct jail_error *err)
{
	struct jail_cgroup *cg = NULL;
	int r = cgroup_open(cgroup_parent ? cgroup_parent : JAIL_DEFAULT_CGROUP, cgroup_name, &cg, err);

	if (r < 0)
		return r;
	cgroup_kill(cg);
	return cgroup_destroy(cg, err);
}
