/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/internal.h — what the runner's own files share: the jail handle, the
 * steps of the cloned child, finding and feeding corral-init.  (The records
 * exchanged with corral-init are runner/init_protocol.h.)
 * Not for callers outside runner/.
 */
#ifndef CORRAL_RUNNER_INTERNAL_H
#define CORRAL_RUNNER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/cgroup.h"
#include "runner/init_protocol.h"
#include "runner/jail.h"

#define JAIL_DEFAULT_NOFILE 256ull
#define JAIL_DEFAULT_FSIZE (1ull << 30)
#define JAIL_DEFAULT_STACK (8ull << 20)
#define JAIL_DEFAULT_UID 1000
#define JAIL_DEFAULT_HOSTNAME "corral"
#define JAIL_DEFAULT_CWD "/work"
#define JAIL_DEFAULT_CGROUP "corral"
#define JAIL_DEFAULT_MEMORY (1ull << 30)
#define JAIL_DEFAULT_PIDS 1024ull

struct host_etc;

/* What the cloned child needs; prepared by the parent before clone3 (the
 * child runs in the parent's memory until its exec, runner/child.c). */
struct child_ctx {
	const struct jail_spec *spec;
	const struct jail_filter *filter;
	int sync_fd;   /* read end: parent says "maps written, unified cgroup joined" */
	int report_fd; /* write end of the report pipe */
	int stdin_fd;  /* opened by the parent */
	int stdout_fd; /* file or the caller's fd 1 */
	int stderr_fd;
	int status_fd;   /* status file for the init, or -1 */
	int init_fd;     /* O_PATH of corral-init, opened on the host (cached) */
	int record_fd;   /* sealed memfd holding the init record */
	int cpu_stat_fd; /* the jail cgroup's cpu.stat, read by init for its CPU limit; or -1 */
	int leash_fd;    /* spec->leash_path, read-only, read by init; or -1 */
	int v1_tasks_fd[CGROUP_V1_TASKS_MAX]; /* the v1 leaves' "tasks": init joins them; or -1 */
	size_t n_v1_tasks;
	uint64_t start_us;               /* monotonic; the jail's limits count from here */
	const struct host_etc *host_etc; /* the host /etc paths to mirror (runner/host_etc.c) */
	bool die_with_parent;
	/* corral-init's argv: { "corral-init", record fd, report fd, NULL } */
	char *init_argv[4];
	char record_arg[16], report_arg[16];
	/* written by the child when it could not exec corral-init (shared memory) */
	int child_errno;
	const char *child_step;
};

/* The cloned child (runner/child.c): raise the ambient capabilities, exec
 * corral-init.  Returns (127) only when that failed, ctx->child_errno and
 * ctx->child_step saying why. */
int child_exec_init(void *ctx);

/* corral-init (runner/init_exec.c).  The fd of the binary, opened once per
 * process from a trusted path on the host (cached; see jail_set_init_path()
 * in jail.h for where it is looked for).  The fd, or -errno with err's step
 * "corral-init". */
int init_exec_fd(struct jail_error *err);
/* Serialize what corral-init needs (ctx's fds, spec, filter) into a sealed
 * memfd (*out, close-on-exec).  0 or -errno. */
int init_record_memfd(const struct child_ctx *ctx, int *out, struct jail_error *err);

/* The command's environment: spec->env (NULL: PATH, HOME, LANG) plus the
 * limit hints for runtimes (JAVA_TOOL_OPTIONS, GOMEMLIMIT, GOMAXPROCS,
 * NODE_OPTIONS, ...) that it does not set itself (runner/task_env.c).
 * NULL-terminated, malloc'd; free with task_env_free().  0 or -ENOMEM. */
int task_env_build(const struct jail_spec *spec, char ***out);
void task_env_free(char **env);

/* Open a host file without following symlinks (runner/spawn.c): stdin
 * (regular file, character device or pipe) or an output (regular file with
 * one link, truncated; or a character device). */
int open_host_file(const char *path, bool for_output, int *out, const char *what, struct jail_error *err);

/* The jail's clone in a network namespace made beforehand (spec->netns_fd;
 * runner/spawn_netns.c): enter it on this thread (0 or -errno, nothing
 * changed on failure), and return to the process's own right after the
 * clone (aborts the process if that fails). */
int spawn_netns_enter(int netns_fd);
void spawn_netns_leave(void);

/* Clone the jail's first process (runner/spawn_clone.c): into cgroup_fd's
 * cgroup when >= 0 (*into_cgroup says whether the clone could; else the
 * caller attaches it), in network namespace netns_fd when >= 0 (else a new
 * one, by the clone or, netns_in_init, by corral-init; *netns_failed:
 * entering it failed), owned by host uid owner.  The
 * pid (its pidfd in *pidfd) once it exec'd corral-init or exited, or -1
 * with errno. */
pid_t spawn_clone_jail(int cgroup_fd, int netns_fd, bool netns_in_init, uid_t owner, struct child_ctx *ctx,
		       int *pidfd, bool *into_cgroup, bool *netns_failed);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t monotonic_us(void);

struct jail_cgroup;

struct jail {
	pid_t pid;
	int pidfd;
	int report_fd;            /* read end of the report pipe */
	int stdout_fd, stderr_fd; /* the parent's copies (for byte counts), or -1 */
	struct jail_cgroup *cgroup;
	uint64_t start_us; /* monotonic */
	uint64_t end_us;
	enum jail_status kill_reason; /* JAIL_OK when nobody killed it */
	bool reaped;
	bool starting;   /* spawned, the start report not read yet */
	int wait_status; /* of init */
	bool finished;
	uint64_t wall_limit_us, cpu_limit_us;
	uint32_t cpu_millis;
	uint64_t output_limit;
	/* monotonic µs at the end of each spawn phase, for tests/bench */
	uint64_t t_cgroup, t_clone, t_maps, t_started, t_reaped;
	/* jail_adopt() (runner/adopt.c): init is not our child.  reaped then
	 * means "init is known to have ended"; start_known that start_us came
	 * from init's start time. */
	bool adopted;
	bool start_known;
	/* the command was exec'd (REPORT_STARTED), or an adopted jail's status
	 * file says it may have been */
	bool command_started;
	/* adopted: the status file, allocated with the handle ("" = none) so
	 * jail_free()'s single free() releases it */
	char status_path[];
};

/* Adopted jail, in jail_finish(): wait (bounded) for init's end, then fill
 * rec from the status file (rec->kind REPORT_DONE) or leave rec->kind 0 and
 * set the handle's wait_status to "killed by SIGKILL" (runner/adopt.c). */
int adopt_wait_end(struct jail *j, struct report *rec, struct jail_error *err);

/* The status from init's last report (rec->kind REPORT_DONE) or, without
 * one, init's own wait status; kill_reason (JAIL_OK = none) and
 * res->oom_killed take precedence as documented in jail.h (runner/finish.c). */
void finish_decide_status(enum jail_status kill_reason, int init_wait_status, const struct report *rec,
			  struct jail_result *res);

#endif
