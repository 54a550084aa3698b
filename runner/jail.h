/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/jail.h — the one header callers of the runner include.
 *
 * The runner puts ONE command in a jail: user, pid, mount, net, ipc, uts and
 * cgroup namespaces, a fresh tmpfs root with read-only binds, a cgroup with
 * limits, a seccomp filter, no capabilities, an unprivileged uid.  It knows
 * nothing of users, budgets or databases: callers (corral-run, corrald)
 * translate their configuration into a struct jail_spec.
 *
 * Life of a jail:  jail_spawn() -> (poll jail_pidfd() / jail_events_fd(),
 * jail_cpu_usage(), jail_kill()) -> jail_finish() -> jail_free().
 * jail_wait() does the whole middle part for simple callers.
 *
 * Functions return 0 (or a positive value) on success and -errno on failure,
 * filling the caller's struct jail_error with the step that failed.
 */
#ifndef CORRAL_RUNNER_JAIL_H
#define CORRAL_RUNNER_JAIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What failed, on what, and why.  message is ready for a human:
 * "mount proc on /proc: Operation not permitted". */
struct jail_error {
	int err;           /* positive errno, 0 when no errno applies */
	char step[64];     /* short step name, e.g. "pivot_root" */
	char message[320]; /* full human message */
};

/* Fill err (may be NULL) and return -errnum (or -EINVAL when errnum is 0). */
int jail_error_set(struct jail_error *err, int errnum, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int jail_error_setv(struct jail_error *err, int errnum, const char *step, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

enum jail_mount_kind {
	JAIL_MOUNT_BIND_RO, /* read-only bind of a host path */
	JAIL_MOUNT_BIND_RW, /* writable bind of a host path */
	JAIL_MOUNT_TMPFS,   /* fresh tmpfs of size_bytes */
};

struct jail_mount {
	enum jail_mount_kind kind;
	const char *source;  /* host path (absolute); NULL for tmpfs */
	const char *target;  /* path inside the jail (absolute) */
	uint64_t size_bytes; /* tmpfs only; 0 = the runner's default (64 MiB) */
};

enum jail_seccomp_profile {
	JAIL_SECCOMP_DEFAULT = 0, /* deny-list of dangerous syscalls */
	JAIL_SECCOMP_STRICT,      /* allow-list of ordinary syscalls */
	JAIL_SECCOMP_NONE,        /* no filter (debugging only) */
};

/* A compiled seccomp filter: built once, installed in many jails. */
struct jail_filter;

/* Compile profile plus extra allowed/denied syscall names (NULL-terminated
 * lists, may be NULL).  Unknown names are an error naming the syscall. */
int jail_filter_compile(enum jail_seccomp_profile profile, const char *const *extra_allow,
			const char *const *extra_deny, struct jail_filter **out, struct jail_error *err);
void jail_filter_free(struct jail_filter *filter);
/* Parse "default" / "strict" / "none"; -EINVAL for anything else. */
int jail_seccomp_profile_parse(const char *name, enum jail_seccomp_profile *out);
const char *jail_seccomp_profile_name(enum jail_seccomp_profile profile);

/* How much later than the wall-clock limit the jail's own init acts on it
 * (see struct jail_spec): the caller, when on time, is the one that does. */
#define JAIL_BACKSTOP_MARGIN_MS 250u

/* Everything about one run.  Zero means "no limit" / "default" unless noted;
 * jail_spec_init() fills the defaults. */
struct jail_spec {
	char *const *argv;    /* NULL-terminated; argv[0] without '/' is looked up in PATH */
	char *const *env;     /* NULL-terminated; NULL = PATH, HOME, LANG=C.UTF-8 (jail_default_env) */
	const char *cwd;      /* inside the jail; default /work */
	const char *hostname; /* default "corral" */

	const struct jail_mount *mounts; /* extra mounts, applied after the defaults */
	size_t n_mounts;
	uint64_t tmp_bytes;   /* size of /tmp (and /dev/shm); default 64 MiB */
	const char *work_dir; /* host dir bound read-write at /work; NULL = tmpfs */
	uint64_t work_bytes;  /* size of the /work tmpfs when work_dir is NULL; default 64 MiB */

	uint64_t memory_bytes; /* memory limit, no swap; default 1 GiB, 0 = none */
	uint64_t pids_max;     /* max tasks (processes + threads); default 1024, 0 = none */
	uint32_t cpu_millis;   /* cpu quota in thousandths of a CPU (500 = half a core) */
	/* Limits enforced by jail_wait() (a supervisor enforces its own) and,
	 * as a backstop that holds when the caller is late (stalled, stopped),
	 * by the jail itself: its init sends SIGTERM to every process of the
	 * jail JAIL_BACKSTOP_MARGIN_MS after the wall-clock limit, SIGKILL
	 * kill_grace_ms later (at once without a grace), and SIGKILL when the
	 * cgroup's CPU usage reaches cpu_time_ms; the result then says
	 * JAIL_TIMEOUT / JAIL_CPU_LIMIT whoever enforced it. */
	uint64_t wall_time_ms;  /* wall-clock limit, from the spawn */
	uint64_t kill_grace_ms; /* the jail's own timeout: SIGTERM, this long, SIGKILL */
	uint64_t cpu_time_ms;   /* CPU-time limit (user+system, the whole cgroup) */

	uid_t host_uid; /* unprivileged host uid the jail runs as (required, != 0) */
	gid_t host_gid; /* its gid (required, != 0) */
	uid_t uid;      /* uid inside the jail; default 1000 */
	gid_t gid;      /* gid inside the jail; default 1000 */

	enum jail_seccomp_profile seccomp; /* used when filter is NULL */
	const struct jail_filter *filter;  /* precompiled filter; overrides seccomp */

	/* host paths are opened without following symlinks in any component */
	const char *stdin_path;  /* host file read as stdin; NULL = /dev/null */
	const char *stdout_path; /* host file (created/truncated); NULL = caller's fd 1 */
	const char *stderr_path; /* host file; NULL = caller's fd 2 */
	uint64_t output_limit;   /* byte cap per stream; over it the task is killed (output_limit).
				     * An output that is a regular file is always copied by the
				     * jail's init (the task never holds the host file), capped
				     * at rlimit_fsize when there is no output_limit. */

	uint64_t rlimit_nofile; /* default 256 */
	uint64_t rlimit_fsize;  /* largest file the task may write; default 1 GiB */
	uint64_t rlimit_stack;  /* default 8 MiB */

	const char *cgroup_parent; /* relative: below the caller's own cgroup in every hierarchy
				     * (default "corral"); absolute: that path as-is */
	const char *cgroup_name;   /* leaf name; default "jail-<pid>-<seq>" */
	const char *status_path;   /* host file the jail's init writes the final status to; NULL = none */
	bool die_with_parent;      /* kill the jail when the calling process dies (corral-run) */
	/* The leash (a supervisor that shares tasks with others, corrald in a
	 * cluster): a host file of 8 bytes, a CLOCK_BOOTTIME deadline in
	 * microseconds (it goes on while the host is suspended; host byte order; 0 = none) that the supervisor moves
	 * on while it may run the task.  Opened read-only on the host at the
	 * spawn; the jail's init reads it every INIT_LEASH_LOOK_MS (250 ms) and
	 * once the deadline passed kills every process of the jail (SIGKILL):
	 * JAIL_LEASE_LOST.  A short or failed read changes nothing.  NULL =
	 * no leash. */
	const char *leash_path;
	/* The jail's network namespace: -1 (jail_spec_init's default) = a new
	 * one, made by the clone.  Else an fd of a namespace the caller made
	 * for this jail alone (a supervisor's pool: /proc/<pid>/ns/net of a
	 * helper that brought lo up), owned by the host's user namespace, so
	 * nothing in the jail ever holds a capability over it.  corral-init
	 * does not touch lo there (the caller brought it up).  The spawn
	 * enters it (setns) just for the clone and returns to its own at once
	 * (a failure to return aborts the process: it must never go on in a
	 * jail's namespace).  Never reuse one for a second jail; the caller
	 * closes its fd after jail_spawn_start() (the jail holds the
	 * namespace while it lives). */
	int netns_fd;
	/* netns_fd -1: corral-init makes the jail's namespace itself, first
	 * thing (its CPU and memory then the jail's, in the jail's cgroups,
	 * made while the caller writes the maps: for a supervisor whose one
	 * thread starts every jail), instead of the clone (the caller's CPU,
	 * a little sooner: for a one-jail caller, corral-run).  Default false. */
	bool netns_in_init;
};

/* The jail's pid 1 is the program corral-init, exec'd inside the jail from
 * an fd the runner opens once per process, before the first spawn, on the
 * host.  Without this call it is looked for next to the running program
 * (the build tree), then in $(PREFIX)/libexec/corral/ (make install).  Every
 * component of its path must belong to root (or to the running program's
 * owner) and be writable by nobody else; the file must be executable by
 * others.  Call before spawning (not concurrently with it): 0, or -errno
 * with err's step "corral-init". */
int jail_set_init_path(const char *path, struct jail_error *err);

/* Every jail's /etc holds, besides the generated passwd, group, hosts and
 * hostname, the host's /etc paths that runtimes under /usr read (the rule
 * is in the README, "The jail's /etc"): computed once per process, at the
 * first spawn, or again by this call (corrald calls it at start and on a
 * policy reload, so packages installed meanwhile are seen).  Reads /etc's
 * top level and what it gives (~10 ms).  0 or -errno. */
int jail_host_etc_refresh(struct jail_error *err);
/* The same, for a program that starts one jail per process (corral-run):
 * the set is kept in the file cache_path (its directory root's alone) and
 * taken from it while it is fresh: younger than a minute, with /etc and the
 * directories the set gives unchanged (inode and ctime); else /etc is
 * scanned and the file replaced (a failure to write it is ignored).  See
 * runner/host_etc_cache.c.  0 or -errno. */
int jail_host_etc_refresh_cached(const char *cache_path, struct jail_error *err);
/* For a program that starts jails back to back (corrald): a prepared /etc
 * set found for the same root, ids, hostname and umask is taken again for
 * us microseconds without stamping the host /etc again (~65 system calls a
 * spawn), so a host file changed reaches the jails started from then on.
 * 0 (the default): every spawn stamps. */
void jail_host_etc_restamp_after(uint64_t us);
/* For a single-threaded program (corral-run, corrald: it reads the umask
 * at each spawn): each jail's /etc is a read-only bind of a set prepared once
 * in base (made if missing, the euid's, mode 0711) instead of being built
 * in the jail (runner/host_etc_dir.c says what a set holds and when it is
 * made again).  NULL turns it off.  0 or -errno. */
int jail_host_etc_prepare_in(const char *base, struct jail_error *err);

/* Defaults for every field; the caller then sets argv, host_uid/gid, limits. */
void jail_spec_init(struct jail_spec *spec);
/* Check a spec before anything is created: impossible values, relative paths,
 * missing bind sources.  Returns 0 or -EINVAL with err naming the field. */
int jail_spec_validate(const struct jail_spec *spec, struct jail_error *err);

enum jail_status {
	JAIL_OK = 0,       /* exited with code 0 */
	JAIL_EXIT_NONZERO, /* exited with a code != 0 */
	JAIL_SIGNALED,     /* killed by a signal it did not get from the runner */
	JAIL_TIMEOUT,      /* wall-clock limit reached, cgroup killed */
	JAIL_CPU_LIMIT,    /* CPU-time limit reached, cgroup killed */
	JAIL_OOM,          /* the memory limit's OOM killer ended it */
	JAIL_OUTPUT_LIMIT, /* wrote more than output_limit to stdout or stderr (without
				 * an output_limit: more than rlimit_fsize to a regular file) */
	JAIL_KILLED,       /* killed on the caller's request (jail_kill) */
	JAIL_SPAWN_ERROR,  /* setup failed before the command ran; see error */
	JAIL_LEASE_LOST,   /* the leash's deadline passed (spec.leash_path): the jail's init killed it */
};

/* The documented result contract (README, corral-run(1)).  Never rename. */
struct jail_result {
	enum jail_status status;
	int exit_code;        /* valid when the command exited (-1 otherwise) */
	int signal;           /* terminating signal, 0 if none */
	uint64_t wall_us;     /* spawn to the command's end (as the jail's init saw it) */
	uint64_t cpu_user_us; /* from the cgroup */
	uint64_t cpu_system_us;
	uint64_t cpu_usage_us;      /* user + system as the cgroup counts it */
	uint64_t memory_peak_bytes; /* 0 when the kernel does not report it */
	bool oom_killed;            /* the OOM killer fired in the jail's cgroup (even when it
				     * killed a child and the command itself exited 0) */
	uint64_t oom_kills;         /* processes it killed there (0 when not counted) */
	uint64_t stdout_bytes;      /* bytes the task wrote (including any cut off) */
	uint64_t stderr_bytes;
	bool stdout_truncated;
	bool stderr_truncated;
	struct jail_error error; /* for JAIL_SPAWN_ERROR: the step and cause */
	/* The command may have run: it was exec'd (jail_spawn_finish() read the
	 * start report), or, for an adopted jail and jail_read_status_file(),
	 * the status file says corral-init was about to start it.  false means
	 * provably never started: the jail died in its setup, so the task can
	 * run again without repeating anything.  (Not in the JSON result.) */
	bool command_started;
};

const char *jail_status_name(enum jail_status status);

/* The environment a command starts with when spec.env is NULL (besides the
 * limit hints): PATH, HOME, LANG; NULL-terminated, static. */
const char *const *jail_default_env(void);

/* A running jail. */
struct jail;

/* Create the cgroup, clone the jail into it, wait until the command is
 * exec'd (or setup failed: then -errno and err says which step). */
int jail_spawn(const struct jail_spec *spec, struct jail **out, struct jail_error *err);

/* The same in two halves, for event loops: jail_spawn_start() returns once
 * the jail is cloned and told to set itself up (cgroup, namespaces, maps
 * done); its setup then runs in parallel.  jail_spawn_fd() becomes readable
 * when the jail reports; jail_spawn_finish() reads that report (blocking if
 * called early): 0 when the command runs, or the failed step's -errno (then
 * jail_free() the handle).  Nothing else may be called in between but
 * jail_kill()/jail_free(). */
int jail_spawn_start(const struct jail_spec *spec, struct jail **out, struct jail_error *err);
int jail_spawn_fd(const struct jail *jail);
int jail_spawn_finish(struct jail *jail, struct jail_error *err);
/* A caller that only waits for the end (corral-run) may also call
 * jail_wait()/jail_finish() right after jail_spawn_start(): the start
 * report is then read after the end (one wakeup less per jail), and a
 * failed setup returns its -errno with err as jail_spawn_finish() would,
 * result.command_started false (then jail_free() the handle). */

/* pidfd of the jail's init (pid 1 inside): readable when the jail ended. */
int jail_pidfd(const struct jail *jail);
/* host pid of the jail's init */
pid_t jail_pid(const struct jail *jail);
/* fd of the unified cgroup's cgroup.events (poll for POLLPRI), or -1. */
int jail_events_fd(const struct jail *jail);
/* Host path of the jail's unified-tree cgroup directory. */
const char *jail_cgroup_path(const struct jail *jail);

struct jail_cpu {
	uint64_t usage_us, user_us, system_us;
};
/* CPU time used so far by everything in the jail's cgroup. */
int jail_cpu_usage(const struct jail *jail, struct jail_cpu *cpu);

/* Ask the command to stop: SIGTERM (or sig) to every process of the jail. */
int jail_signal(struct jail *jail, int sig);
/* Kill everything in the jail's cgroup now (cgroup.kill) and remember why:
 * status is reported as JAIL_TIMEOUT, JAIL_CPU_LIMIT or JAIL_KILLED. */
int jail_kill(struct jail *jail, enum jail_status why);

/* Wait for the jail's end, enforcing wall_time_ms and cpu_time_ms, then
 * jail_finish().  Blocks. */
int jail_wait(struct jail *jail, struct jail_result *result, struct jail_error *err);

/* After init exited (pidfd readable): kill any leftovers, collect the result
 * (status, CPU, memory, output), remove the cgroup. */
int jail_finish(struct jail *jail, struct jail_result *result, struct jail_error *err);

/* jail_finish() without removing the cgroup: it stays (empty) until
 * jail_free(), so a supervisor can record the result durably first — a
 * crash in between then still finds the cgroup and its CPU totals. */
int jail_collect(struct jail *jail, struct jail_result *result, struct jail_error *err);

/* After jail_finish()/jail_collect(): CLOCK_MONOTONIC µs of the command's
 * end as the jail's init saw it (else when jail_finish() saw it), so a
 * caller that was late can date the end right. */
uint64_t jail_end_mono_us(const struct jail *jail);

/* Kill and remove a jail cgroup left by a process that is gone (a crashed
 * supervisor).  -ENOENT when there is no such cgroup. */
int jail_reap_cgroup(const char *cgroup_parent, const char *cgroup_name, struct jail_error *err);

/* Remove the jails' parent cgroup (spec.cgroup_parent) if no jail uses it
 * any more; best effort, for tools and supervisors that are done. */
void jail_cleanup_cgroup_parent(const char *cgroup_parent);

/* For a supervisor, before its first jail.  On pure cgroup v2 hosts get a
 * cgroup subtree of its own where memory, pids and cpu can be enabled for
 * the jails (cgroup v2 lets only a cgroup without processes hand them to
 * children): its own cgroup when it is alone there (systemd Delegate=yes),
 * else, when started in the root cgroup, <root>/<subtree_name> (relative
 * cgroup parents then resolve below it).  The caller moves into the leaf
 * <subtree>/<leaf>; the controllers are enabled down to cgroup_parent.
 * 1 with *subtree (its cgroup path, static storage), 0 on hybrid hosts
 * (nothing to do), -errno with err saying why and what to do. */
int jail_supervisor_enter(const char *leaf, const char *subtree_name, const char *cgroup_parent,
			  const char **subtree, struct jail_error *err);
/* At the supervisor's end, after jail_cleanup_cgroup_parent(): undo
 * jail_supervisor_enter() when no jail cgroup is left (back to the original
 * cgroup, the leaf and a subtree it made removed).  1 undone, 0 nothing to
 * do (also when it was started in its leaf: a supervisor that executed
 * itself again stays there), -EBUSY jails are left (everything stays),
 * -errno.  jail_supervisor_enter() started in "<cgroup>/<leaf>" below a
 * cgroup that is not the root takes <cgroup> as its subtree. */
int jail_supervisor_leave(struct jail_error *err);
/* Adopt a jail that outlived the process that spawned it (a restarted
 * supervisor): reopen cgroup <cgroup_parent>/<cgroup_name> (parent NULL =
 * "corral"), find the jail's init among its processes (the one that is pid 1
 * in its own pid namespace) and open a pidfd on it.  init is NOT our child:
 * jail_finish() learns the end from status_path (the spec's status file; may
 * be NULL) and the cgroup, not from waitid.
 *   - init found: a live handle; jail_pidfd() becomes readable when it exits,
 *     jail_pid() is its host pid.
 *   - the cgroup exists but holds no init (the jail ended while nobody
 *     watched): an "ended" handle; jail_pidfd() is an always-readable eventfd
 *     (never read or waitid it), jail_pid() is -1, jail_signal() is -ESRCH.
 *   - no such cgroup: -ENOENT (the jail was cleaned up or never existed: read
 *     the status file with jail_read_status_file(), or mark the task lost).
 * The handle knows no limits: jail_wait() only waits; the caller enforces its
 * deadlines with jail_kill() (the jail's init still enforces the spawn's
 * own backstop, see struct jail_spec).  jail_kill, jail_signal, jail_cpu_usage,
 * jail_events_fd, jail_cgroup_path, jail_finish and jail_free work as for a
 * spawned jail.  jail_finish() on an adopted jail:
 *   - waits at most ~2 s for init's end (-EBUSY, nothing touched, if it still
 *     runs: call it once jail_pidfd() is readable or after jail_kill());
 *   - exit_code, signal, output_limit, stdout/stderr bytes and truncation come
 *     from the status file (init counts what it copies: every capped stream
 *     and every output that is a regular file; 0 for the others);
 *   - with no status file content (init was killed, e.g. by jail_kill()'s
 *     cgroup.kill) the status is jail_kill()'s reason if it was called on
 *     this handle, else JAIL_OOM if the cgroup saw an OOM kill, else
 *     JAIL_SIGNALED with signal 9 and exit_code -1;
 *   - CPU and memory come from the cgroup, which is then killed and removed;
 *   - wall_us runs from init's start (/proc/PID/stat starttime, 10 ms
 *     resolution) to when jail_finish() saw the end; 0 for an "ended"
 *     handle (its start is unknown). */
int jail_adopt(const char *cgroup_parent, const char *cgroup_name, const char *status_path, struct jail **out,
	       struct jail_error *err);

/* Read a status file written by a jail's init into out: status (ok,
 * exit_nonzero, signaled, output_limit, or timeout / cpu_limit when init
 * enforced the limit itself), exit_code, signal, stdout/stderr
 * bytes and truncation, command_started; every other field 0.  -ENOENT when
 * the file is missing, -ENODATA when it holds no end (the jail has not
 * ended, or its init was killed before writing; out->command_started then
 * still tells whether the command may have run), -EPROTO when it is
 * malformed, other -errno on failure to read.  Symlinks in path are not
 * followed. */
int jail_read_status_file(const char *path, struct jail_result *out);

/* Names of the jail cgroups below cgroup_parent (malloc'd array of malloc'd
 * strings; free each and the array).  0, or -errno. */
int jail_list_cgroups(const char *cgroup_parent, char ***names, size_t *n);

/* Release the handle; kills and removes the jail first if still there. */
void jail_free(struct jail *jail);

/* Release the handle but leave the jail running and its cgroup in place: a
 * supervisor handing its jails to its successor, which jail_adopt()s them
 * (its init is no longer waited for: the status file tells its end). */
void jail_release(struct jail *jail);

/* Memory of everything in the jail's cgroup now: the current charge and the
 * peak so far (0 when the kernel does not report it). */
struct jail_memory {
	uint64_t current_bytes, peak_bytes;
};
int jail_memory_usage(const struct jail *jail, struct jail_memory *mem);

/* The result as a JSON object text (malloc'd; caller frees). Field names are
 * the documented contract. */
char *jail_result_to_json(const struct jail_result *result);

#endif
