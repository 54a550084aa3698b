/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init_protocol.h — what the runner and the jail's pid 1, the
 * separate program corral-init (runner/init/), say to each other:
 *
 *   in:  the init record, serialized by the parent into a sealed memfd that
 *        the jail child hands to corral-init across execve: how to build the
 *        jail (hostname, uid/gid, mounts, sizes, the host /etc paths or
 *        a prepared /etc), the command's argv/env/cwd, rlimits, output cap,
 *        the fds it inherits, the seccomp BPF to install on the command.  corral-init's argv is
 *        { "corral-init", record fd, report fd } (decimal numbers): the
 *        report fd is outside the record so that even a record corral-init
 *        cannot read (another version's) is reported to the parent;
 *   out: fixed-size struct report records on the report pipe (setup errors
 *        with the failing step, "started", "done").
 *
 * Shared by librunner (encode, read reports) and corral-init (decode, write
 * reports).  corral-init is a static program: nothing here may need more
 * than libc.
 */
#ifndef CORRAL_RUNNER_INIT_PROTOCOL_H
#define CORRAL_RUNNER_INIT_PROTOCOL_H

#include <linux/filter.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command's environment when the caller gives none (the runner adds
 * its limit hints, runner/task_env.c). */
#define INIT_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define INIT_DEFAULT_ENV "PATH=" INIT_DEFAULT_PATH, "HOME=/work", "LANG=C.UTF-8"

/* One record on the report pipe, jail -> parent.  Fixed size, smaller than
 * PIPE_BUF, so every write is atomic. */
enum report_kind {
	REPORT_ERROR = 1,   /* setup failed: step, err, message */
	REPORT_STARTED = 2, /* the command was exec'd */
	REPORT_DONE = 3,    /* the command ended: wstatus and output counts */
};

/* Which of its own limits corral-init enforced (REPORT_DONE, status file). */
enum init_limit {
	INIT_LIMIT_NONE = 0,
	INIT_LIMIT_TIMEOUT = 1, /* the wall-clock deadline passed: SIGTERM, grace, SIGKILL */
	INIT_LIMIT_CPU = 2,     /* the jail's cgroup used its CPU-time limit: SIGKILL */
	INIT_LIMIT_LEASH = 3,   /* the leash's deadline passed (its node stopped renewing): SIGKILL */
};

struct report {
	uint32_t kind;
	int32_t err;
	int32_t wstatus; /* REPORT_DONE: wait status of the command */
	uint32_t output_limit_hit;
	uint64_t stdout_bytes, stderr_bytes;
	uint32_t stdout_truncated, stderr_truncated;
	uint32_t limit_hit; /* REPORT_DONE: enum init_limit */
	uint32_t reserved;
	uint64_t end_mono_us; /* REPORT_DONE: CLOCK_MONOTONIC when init reaped the command */
	char step[64];
	char message[320];
};

/* Write a REPORT_ERROR record ("what: strerror(errnum)") to fd; best effort.
 * errnum is a positive errno or 0. */
void report_error(int fd, int errnum, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void report_errorv(int fd, int errnum, const char *step, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Write all of buf (retrying short writes and EINTR).  0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Who made the jail's network namespace: the clone (corral-init brings lo
 * up), its caller ahead (a pool's, lo up: leave it), or nobody yet: the
 * jail is born in its caller's and corral-init makes its own first. */
enum init_netns { INIT_NETNS_CLONED = 0, INIT_NETNS_MADE = 1, INIT_NETNS_MAKE = 2 };

#define INIT_RECORD_MAGIC UINT64_C(0x3154494e4c524f43) /* "CORLNIT1" */
#define INIT_RECORD_VERSION 6u
#define INIT_RECORD_MAX (64u << 20) /* argv + env are at most a few MiB */
#define INIT_LEASH_LOOK_MS 250u     /* how often corral-init reads the leash */

/* An extra tmpfs mount's size when its spec gives none. */
#define JAIL_DEFAULT_TMP_BYTES (64ull << 20)

/* One extra mount of the jail (enum jail_mount_kind's values, runner/jail.h). */
struct init_mount {
	uint32_t kind;
	uint64_t size_bytes; /* tmpfs: 0 = the runner's default */
	const char *source;  /* host path; NULL for a tmpfs */
	const char *target;
};

/* What corral-init builds before it runs the command (runner/init/init_setup.c):
 * it arrives with the capabilities of the jail's new user namespace, waits
 * for the parent's "go" on sync_fd (the uid/gid maps written, the jail's
 * cgroups joined), takes the jail's uid/gid, builds the root, drops every
 * capability. */
struct init_setup {
	const char *hostname;
	const char *work_dir; /* host dir bound at /work; NULL = a tmpfs of work_bytes */
	uint64_t tmp_bytes, work_bytes;
	uint32_t uid, gid; /* inside the jail */
	bool die_with_parent;
	/* the jail's network namespace (enum init_netns) */
	uint32_t netns;
	int32_t sync_fd;
	struct init_mount *mounts; /* decoded: malloc'd (init_config_free) */
	uint32_t n_mounts;
	char **etc_paths; /* the host /etc paths to mirror (relative); decoded: NULL-terminated */
	uint32_t n_etc;
	/* a prepared /etc on the host (runner/host_etc_dir.c) bound at /etc,
	 * the directories and large files of etc_paths bound into it; NULL =
	 * build /etc */
	const char *etc_dir;
};

/* The decoded record: what corral-init needs to build the jail and run the command. */
struct init_config {
	char **argv; /* NULL-terminated, argc >= 1 */
	char **env;  /* NULL-terminated; NULL = init's default environment */
	const char *cwd;
	const char *seccomp_name; /* the profile's name, for error messages */
	struct sock_fprog filter; /* len 0 = no filter */
	uint64_t rlimit_nofile, rlimit_fsize, rlimit_stack;
	uint64_t output_limit; /* per stream; 0 = none (output is not copied) */
	/* the jail's own limits, a backstop for a late caller (see jail.h):
	 * at wall_deadline_us (CLOCK_MONOTONIC, absolute; 0 = none) SIGTERM to
	 * every process but init, kill_grace_us later SIGKILL; when the
	 * cgroup's cpu.stat (cpu_stat_fd) reaches cpu_limit_us (0 = none),
	 * SIGKILL.  cpu_rate_millis: the fastest the jail can burn CPU
	 * (1000 = one CPU), for when to look again.  leash_fd: a host file of
	 * 8 bytes, a CLOCK_BOOTTIME deadline in microseconds its supervisor
	 * moves on while it holds the task's lease (0 = none); once it passed,
	 * SIGKILL (looked at every INIT_LEASH_LOOK_MS). */
	uint64_t wall_deadline_us, kill_grace_us, cpu_limit_us;
	uint32_t cpu_rate_millis;
	/* fds corral-init inherits (numbers in its own table); status_fd,
	 * cpu_stat_fd and leash_fd -1 = none */
	int32_t stdin_fd, stdout_fd, stderr_fd, status_fd, cpu_stat_fd, leash_fd;
	int32_t report_fd; /* not in the record: corral-init's argv[2] */
	struct init_setup setup;
};

/* Serialize cfg into a malloc'd buffer (*out, *len).  0 or -errno. */
int init_record_encode(const struct init_config *cfg, void **out, size_t *len);

/* Parse buf (len bytes, 8-byte aligned, kept alive by the caller: strings
 * and the filter point into it) into cfg, whose argv/env arrays are
 * malloc'd (init_config_free).  0, or -EPROTO (malformed) / -ENOMEM, with
 * a short reason in *why. */
int init_record_decode(void *buf, size_t len, struct init_config *cfg, const char **why);
void init_config_free(struct init_config *cfg);

#endif
