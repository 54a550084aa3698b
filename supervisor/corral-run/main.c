/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral-run/main.c — corral-run: run ONE command in a jail built
 * from flags (or a policy profile), print the result, exit with the command's
 * code.  No daemon.  Like nsjail/bwrap, for debugging profiles and limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner/jail.h"
#include "supervisor/common/version.h"
#include "supervisor/corral-run/run_args.h"
#include "supervisor/corral-run/run_policy.h"

#define UID_LOCK_DIR "/run/corral-run"
/* the host /etc set kept between runs (runner/host_etc_cache.c) */
#define HOST_ETC_CACHE UID_LOCK_DIR "/host-etc.cache"
/* the jails' /etc prepared once (runner/host_etc_dir.c): not below /run,
 * which Debian mounts noexec (a bind keeps its source's flags) */
#define ETC_SETS_PARENT "/var/cache/corral-run"
#define ETC_SETS ETC_SETS_PARENT "/etc"

static volatile sig_atomic_t interrupted;
static volatile int jail_pidfd_for_signal = -1;

static void on_signal(int sig)
{
	interrupted = sig;
	if (jail_pidfd_for_signal >= 0)
		syscall(SYS_pidfd_send_signal, jail_pidfd_for_signal, SIGKILL, NULL, 0);
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* A host uid no other corral-run uses right now: the first of the range
 * whose lock file we can flock.  The lock lives as long as this process. */
static int lock_host_uid(const struct run_options *opts, uid_t *uid)
{
	char path[128];

	if (mkdir(UID_LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (uint32_t i = 0; i < opts->uid_range_count; i++) {
		uint32_t candidate = opts->uid_range_first + i;
		int fd;

		snprintf(path, sizeof(path), UID_LOCK_DIR "/uid-%u.lock", candidate);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*uid = candidate;
			return fd; /* kept open on purpose */
		}
		close(fd);
	}
	return -EAGAIN;
}

static void format_bytes(char *buf, size_t size, uint64_t bytes)
{
	if (bytes >= (1u << 30))
		snprintf(buf, size, "%.1fG", bytes / 1073741824.0);
	else if (bytes >= (1u << 20))
		snprintf(buf, size, "%.1fM", bytes / 1048576.0);
	else if (bytes >= 1024)
		snprintf(buf, size, "%.1fK", bytes / 1024.0);
	else
		snprintf(buf, size, "%lluB", (unsigned long long)bytes);
}

static void print_summary(const struct jail_result *r)
{
	char mem[32];

	if (r->status == JAIL_SPAWN_ERROR) {
		fprintf(stderr, "corral-run: jail setup failed at step '%s': %s\n", r->error.step,
			r->error.message);
		return;
	}
	format_bytes(mem, sizeof(mem), r->memory_peak_bytes);
	fprintf(stderr, "corral-run: %s", jail_status_name(r->status));
	if (r->exit_code >= 0)
		fprintf(stderr, " exit=%d", r->exit_code);
	if (r->signal)
		fprintf(stderr, " signal=%d (%s)", r->signal, strsignal(r->signal));
	fprintf(stderr, " wall=%.3fs cpu=%.3fs (user %.3fs, sys %.3fs) mem=%s", r->wall_us / 1e6,
		r->cpu_usage_us / 1e6, r->cpu_user_us / 1e6, r->cpu_system_us / 1e6, mem);
	if (r->oom_killed)
		fprintf(stderr, " oom-killed=%llu", (unsigned long long)r->oom_kills);
	fprintf(stderr, "%s%s\n", r->stdout_truncated ? " stdout-truncated" : "",
		r->stderr_truncated ? " stderr-truncated" : "");
}

/* The JSON result never shares stdout with the command: --json writes it
 * to stderr (instead of the summary), --json-fd to that descriptor. */
static void write_json(const struct run_options *opts, const struct jail_result *result)
{
	char *json = jail_result_to_json(result);
	int fd = opts->json_fd >= 0 ? opts->json_fd : STDERR_FILENO;

	if (json && dprintf(fd, "%s\n", json) < 0)
		fprintf(stderr, "corral-run: cannot write the JSON result to fd %d: %s\n", fd,
			strerror(errno));
	free(json);
}

static int report(const struct run_options *opts, struct jail_result *result)
{
	if (interrupted && result->status != JAIL_SPAWN_ERROR) {
		result->status = JAIL_KILLED;
		result->signal = (int)interrupted;
	}
	if (opts->json || opts->json_fd >= 0)
		write_json(opts, result);
	if (!opts->quiet && !(opts->json && opts->json_fd < 0))
		print_summary(result);
	return run_args_exit_code(result);
}

int main(int argc, char **argv)
{
	struct run_options opts;
	struct run_policy policy;
	struct jail_result result;
	struct jail *jail = NULL;
	struct error err;
	int lock_fd = -1, r, code;

	run_args_init(&opts);
	run_policy_init(&policy);
	if (run_args_scan_policy(argc, argv, &opts, &err) < 0 || run_policy_apply(&policy, &opts, &err) < 0 ||
	    run_args_parse(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "corral-run: %s\n", err.message);
		code = RUN_EXIT_USAGE;
		goto out;
	}
	if (opts.help) {
		fputs(run_args_usage, stdout);
		code = 0;
		goto out;
	}
	if (opts.version) {
		printf("corral-run %s\n", version_string());
		code = 0;
		goto out;
	}
	memset(&result, 0, sizeof(result));
	result.status = JAIL_SPAWN_ERROR;
	result.exit_code = -1;
	if (geteuid() != 0) {
		jail_error_set(&result.error, EPERM, "privileges",
			       "corral-run must run as root (it creates namespaces and cgroups)");
		code = report(&opts, &result);
		goto out;
	}
	if (!opts.host_uid_given) {
		uid_t uid = 0;

		lock_fd = lock_host_uid(&opts, &uid);
		if (lock_fd < 0) {
			jail_error_set(&result.error, -lock_fd, "host uid",
				       "no free host uid in %u-%u (locks in " UID_LOCK_DIR ")",
				       opts.uid_range_first, opts.uid_range_first + opts.uid_range_count - 1);
			code = report(&opts, &result);
			goto out;
		}
		opts.spec.host_uid = uid;
		opts.spec.host_gid = uid;
	}
	catch_signals();
	/* one jail per process: the host /etc scan is kept in a file (in the
	 * directory lock_host_uid makes, root's alone) instead of redone */
	if (mkdir(UID_LOCK_DIR, 0700) < 0 && errno != EEXIST) {
		jail_error_set(&result.error, errno, "host /etc", "create " UID_LOCK_DIR);
		code = report(&opts, &result);
		goto out;
	}
	r = jail_host_etc_refresh_cached(HOST_ETC_CACHE, &result.error);
	/* best effort: without the directory, the jail builds its /etc */
	/* made 0755 whatever our umask: the jails' uids pass through it */
	if (r == 0 &&
	    ((mkdir(ETC_SETS_PARENT, 0755) == 0 && chmod(ETC_SETS_PARENT, 0755) == 0) || errno == EEXIST))
		r = jail_host_etc_prepare_in(ETC_SETS, &result.error);
	/* not jail_spawn(): nothing here waits for the command's start, and
	 * the start report is read with the end (jail.h), one wakeup less */
	if (r == 0)
		r = jail_spawn_start(&opts.spec, &jail, &result.error);
	if (r < 0) {
		code = report(&opts, &result);
		goto out;
	}
	jail_pidfd_for_signal = jail_pidfd(jail);
	if (interrupted)
		jail_kill(jail, JAIL_KILLED);
	r = jail_wait(jail, &result, &result.error);
	jail_pidfd_for_signal = -1;
	if (r < 0 && !result.command_started) {
		/* the setup failed (or a signal killed it: report() says so) */
		result.status = interrupted ? JAIL_KILLED : JAIL_SPAWN_ERROR;
		result.exit_code = -1;
	} else if (r < 0 && result.status == JAIL_OK) {
		fprintf(stderr, "corral-run: warning: %s\n", result.error.message);
	}
	code = report(&opts, &result);
out:
	if (jail) {
		jail_free(jail);
		jail_cleanup_cgroup_parent(opts.spec.cgroup_parent);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	run_policy_free(&policy);
	run_args_free(&opts);
	return code;
}
