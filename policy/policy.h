/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/policy.h — the one header callers of policy/ include.
 *
 * Policy files (INI, see corral.conf(5)) -> one validated, immutable
 * struct policy, and the lookups the supervisor, the client and corral-run
 * need: supervisor settings, who is an operator, which tenant a Unix user is,
 * a tenant's effective limits, a sandbox profile.
 *
 * Pure code: nothing here needs root or makes a syscall beyond reading the
 * policy files (open/read/fstat/glob).
 *
 * Loading is all-or-nothing: policy_load() either returns a complete policy
 * or NULL plus the list of EVERY error it found.  A daemon keeps its current
 * policy until a new load succeeds, then swaps the pointer, so a bad file is
 * never half-applied.  A loaded policy is never modified: share it read-only
 * between threads; every pointer a lookup returns lives as long as it.
 */
#ifndef CORRAL_POLICY_POLICY_H
#define CORRAL_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_DEFAULT_PATH "/etc/corral/policy.conf"

/* ---- errors ------------------------------------------------------------ */

/* One problem in the files.  line is 0 when the whole file is concerned
 * (unreadable), key is NULL for section-level and syntax problems. */
struct policy_error {
	char *file;
	unsigned line;
	char *key;
	char *message;
};

struct policy_error_text;
/* Start it zeroed ({ 0 }).  The items' strings live in blocks the list owns
 * (policy_errors_free frees them): read them, never free one. */
struct policy_errors {
	struct policy_error *items;
	size_t count;
	size_t capacity;                /* internal */
	size_t omitted;                 /* errors past the first POLICY_MAX_ERRORS, not stored */
	struct policy_error_text *text; /* internal: the blocks of the items' strings */
};

#define POLICY_MAX_ERRORS 1000

/* "FILE:LINE: key 'x': message" (parts without a value are left out), like
 * snprintf: returns the length it needed. */
int policy_error_format(const struct policy_error *error, char *buf, size_t size);
/* Free the items; the struct may be reused afterwards. */
void policy_errors_free(struct policy_errors *errors);

/* ---- loading ----------------------------------------------------------- */

struct policy;

/* Load path and its includes.  0 and *out set, or -EINVAL with every error
 * appended to errors (may be NULL), or -ENOMEM; *out is NULL on failure. */
int policy_load(const char *path, struct policy **out, struct policy_errors *errors);

enum {
	POLICY_LOAD_NO_INCLUDE = 1 << 0, /* `include` is an error (fuzzing, untrusted text) */
};
/* The same from a buffer (need not be NUL-terminated).  name is used in
 * error messages; relative includes are resolved against its directory. */
int policy_load_buffer(const char *name, const char *data, size_t len, unsigned flags, struct policy **out,
		       struct policy_errors *errors);
void policy_free(struct policy *policy);

/* ---- a node of a cluster (policy/cluster.c) ------------------------------ */
/* In a cluster, [supervisor] and [http] are per host (each node's own file)
 * and [access], [default], [plan], [user], [profile] are the cluster's: one
 * text in the database (`corral policy push`), the same on every node. */

/* The policy of a node: the per-host sections of the file at path (and its
 * includes) with the sections of cluster_text (len bytes, called
 * cluster_name in errors, no includes).  The file's cluster-wide sections
 * are left out; a [supervisor] or [http] in cluster_text is an error at
 * its file:line.  Like policy_load otherwise (all or nothing). */
int policy_load_node(const char *path, const char *cluster_name, const char *cluster_text, size_t len,
		     struct policy **out, struct policy_errors *errors);
/* The cluster-wide sections of the file at path and its includes as one
 * text (malloc'd; comments and includes resolved away, each section headed
 * by a comment saying where it came from), for the first node of a cluster
 * to push.  0, -EINVAL with the file's errors, or -ENOMEM. */
int policy_cluster_text(const char *path, char **text, struct policy_errors *errors);

/* The main file's path (or buffer name) the policy was loaded from. */
const char *policy_path(const struct policy *policy);

/* ---- [supervisor] ------------------------------------------------------ */

enum policy_on_restart {
	POLICY_RESTART_ADOPT = 0, /* keep jails that outlived a supervisor restart */
	POLICY_RESTART_KILL,      /* kill them and fail their tasks (supervisor_lost) */
};

struct policy_supervisor {
	const char *state_dir;             /* default /var/lib/corral */
	const char *store;                 /* store URI; NULL (default) = <state_dir>/corral.db */
	const char *socket;                /* default /run/corral/corrald.sock */
	const char *cgroup_parent;         /* default "corral" (relative to corrald's cgroup) */
	uint32_t max_running;              /* tasks running at once on this host; default 4 */
	uint32_t netns_pool;               /* network namespaces made ahead for jails (at most max_running are
			      * kept); 0 = none, each jail's is made by its clone; default 4 */
	uint64_t memory_reserve_bytes;     /* sum of running tasks' memory limits; 0 = unlimited (default) */
	uint64_t poll_interval_ms;         /* cpu.stat sampling period; default 1000 */
	uint64_t drain_timeout_ms;         /* on shutdown, wait this long for tasks; default 30000 */
	uint64_t kill_grace_ms;            /* SIGTERM -> cgroup.kill delay; default 2000 */
	enum policy_on_restart on_restart; /* default adopt */
	uint32_t uid_first, uid_last;      /* host uids for jails; default 700000000-700065535 */
	/* this host as a node (store_node.h) */
	const char *node_name;          /* NULL (default) = the host name */
	uint64_t heartbeat_interval_ms; /* default 10000 */
	uint64_t node_offline_after_ms; /* silent this long: offline; default 90000 */
	/* the cluster (a PostgreSQL store shared by several corralds) */
	uint64_t lease_ms;         /* a node's lease on its tasks; default 30000 */
	uint64_t leader_lease_ms;  /* the scheduler's lease; default 5000 */
	uint64_t cluster_poll_ms;  /* renew, look for assignments, schedule; default 200 */
	uint64_t adopt_grace_ms;   /* an expired lease waits this long for its node; default 30000 */
	uint32_t gpus;             /* declared GPUs; default 0 */
	uint32_t cores;            /* declared cores tasks may hold (--cpus); 0 (default) = the
				    * CPUs corrald may run on */
	uint64_t gpu_memory_bytes; /* declared memory per GPU; default 0 */
	bool gpus_declared;        /* the file says gpus: nvidia-smi is not asked */
	bool gpu_memory_declared;  /* the file says gpu_memory */
	const char *labels;        /* "gpu,ssd" (comma-joined), default "" */
};

/* Always non-NULL: the file's values over the defaults. */
const struct policy_supervisor *policy_supervisor(const struct policy *policy);

/* ---- [http] ------------------------------------------------------------ */

#define POLICY_HTTP_MAX_LISTEN 16

/* One `listen =`: an IP literal and port ("127.0.0.1:8080", "[::1]:8080"),
 * or an absolute Unix socket path (then host is NULL). */
struct policy_http_listen {
	const char *text; /* as written */
	const char *host; /* "127.0.0.1", "::1"; NULL for a path */
	uint16_t port;
	const char *path; /* NULL for host:port */
};

/* HTTP API (corrald/transport_http.c); off while n_listen is 0. */
struct policy_http {
	struct policy_http_listen listen[POLICY_HTTP_MAX_LISTEN];
	size_t n_listen;
	const char *tls_cert, *tls_key;    /* PEM files; both or neither */
	const char *metrics_token;         /* NULL (default): /metrics needs no token */
	uint64_t max_body_bytes;           /* default 4 MiB */
	uint32_t max_connections;          /* default 256 */
	uint32_t max_connections_per_ip;   /* default 32 */
	uint64_t connection_timeout_ms;    /* idle or slow client: closed; default 30 s */
	uint32_t auth_failures_per_minute; /* per client address; default 10 */
	/* result webhooks (a task's callback_url): the hosts corrald may POST
	 * to, "host" (ports 80 and 443) or "host:port", lowercase; none by
	 * default (callback_url refused) */
	const char *const *callback_hosts;
	size_t n_callback_hosts;
	const char *callback_secret;  /* HMAC-SHA256 key of X-Corral-Signature; required with hosts */
	uint64_t callback_backoff_ms; /* the first retry's delay, doubled each time; default 20 s */
};

/* Always non-NULL: the file's values over the defaults. */
const struct policy_http *policy_http(const struct policy *policy);

/* ---- [access] ---------------------------------------------------------- */

enum policy_tenant_from {
	POLICY_TENANT_USER = 0, /* tenant = the Unix user name (default) */
	POLICY_TENANT_GROUP,    /* tenant = the user's primary group name */
};

/* groups: the user's group names, NULL-terminated (may be NULL).
 * True if the user or one of the groups is listed in `operators`. */
bool policy_is_operator(const struct policy *policy, const char *user, const char *const *groups);
/* True if the user may use corral at all (`users`, default everyone);
 * operators always may. */
bool policy_may_use(const struct policy *policy, const char *user, const char *const *groups);
/* The tenant a Unix user acts as: a `tenant_map` entry, else the user or
 * primary group name (tenant_from).  Never NULL unless both inputs are. */
const char *policy_tenant_of(const struct policy *policy, const char *user, const char *primary_group);

/* ---- plans, users, limits ---------------------------------------------- */

/* "unlimited" where a limit may be unlimited and 0 is a real value. */
#define POLICY_UNLIMITED UINT64_MAX

/* A tenant's effective limits.  0 means "unlimited" where noted. */
struct policy_limits {
	const char *plan;            /* the plan resolved to */
	const char *profile;         /* default sandbox profile name (always defined) */
	const char *const *profiles; /* the profiles its tasks may ask for (`profiles =`),
					* profile first; n_profiles >= 1 */
	size_t n_profiles;
	uint32_t max_concurrent;             /* running tasks at once */
	uint32_t max_queued;                 /* queued tasks at once */
	uint32_t weight;                     /* fair-share weight (100 = normal) */
	uint32_t cpu_millis;                 /* CPU quota, 1000 = one core */
	uint64_t monthly_cpu_ms;             /* CPU budget per calendar month (ms); POLICY_UNLIMITED =
					* unlimited (default); 0 = suspended: nothing starts */
	uint64_t max_task_seconds;           /* wall-clock limit per task; 0 = unlimited */
	uint64_t max_cpu_seconds;            /* CPU-time limit per task; 0 = unlimited */
	uint64_t memory_bytes;               /* memory limit per task, no swap */
	uint64_t pids;                       /* processes + threads per task */
	uint64_t output_limit_bytes;         /* stdout/stderr cap per stream */
	uint32_t max_attempts;               /* starts of a task whose command never ran (>= 1) */
	bool retry_lost;                     /* rerun a task whose command started but whose end
					* was lost with corrald (its side effects may repeat) */
	uint64_t max_stored_bytes;           /* bytes the store may hold for the tenant's tasks
					* (argv, env, stdin, outputs); 0 = unlimited */
	uint64_t retention_seconds;          /* ended tasks older than this are removed; 0 = kept */
	uint64_t max_input_bytes;            /* a task's input files together (submit --file/--dir) */
	uint64_t max_artifact_bytes;         /* a task's artifacts together (submit --artifact) */
	uint64_t artifact_retention_seconds; /* an ended task's artifacts are removed after this; 0 = kept */
};

/* Limits of tenant: its [user] section over its plan (and the plans that
 * plan inherits), or, with no [user] section, [default].  0, or -ENOENT
 * when the tenant has no section and there is no [default]. */
int policy_limits_for(const struct policy *policy, const char *tenant, struct policy_limits *out);
/* A tenant record kept outside the policy (corrald's store): a plan and
 * maybe a concurrency limit (0 = the plan's). */
struct policy_tenant_record {
	const char *plan;
	uint32_t max_concurrent;
};
/* Where a tenant's limits came from. */
enum policy_limits_source {
	POLICY_LIMITS_USER = 0, /* its [user] section */
	POLICY_LIMITS_RECORD,   /* the tenant record's plan */
	POLICY_LIMITS_DEFAULT,  /* [default] (also when the record's plan is gone) */
};
/* The order of precedence: the tenant's [user] section, else record (NULL:
 * none) when its plan exists, else [default].  0 with *source set (may be
 * NULL), or -ENOENT when none applies. */
int policy_limits_resolve(const struct policy *policy, const char *tenant,
			  const struct policy_tenant_record *record, struct policy_limits *out,
			  enum policy_limits_source *source);
/* Limits of a plan by name, with inheritance.  0 or -ENOENT. */
int policy_plan_limits(const struct policy *policy, const char *plan, struct policy_limits *out);
/* May a task of these limits run in profile name (one of limits->profiles)? */
bool policy_limits_allow_profile(const struct policy_limits *limits, const char *name);
/* True if tenant has its own [user] section (else [default] applies). */
bool policy_has_user(const struct policy *policy, const char *tenant);

/* ---- [profile NAME] ---------------------------------------------------- */

enum policy_seccomp { POLICY_SECCOMP_DEFAULT = 0, POLICY_SECCOMP_STRICT, POLICY_SECCOMP_NONE };
enum policy_network { POLICY_NETWORK_NONE = 0 };

struct policy_bind {
	const char *source; /* absolute host path */
	const char *target; /* absolute path in the jail */
	bool writable;
};

struct policy_tmpfs {
	const char *target;
	uint64_t size_bytes;
};

/* A sandbox profile.  Every field holds its effective value (defaults
 * filled in).  A profile named "default" always exists (built in, or the
 * file's [profile default]). */
struct policy_profile {
	const char *name;
	const char *file; /* where defined; NULL when built in */
	unsigned line;
	const struct policy_bind *binds; /* bind_ro / bind_rw, in file order */
	size_t n_binds;
	const struct policy_tmpfs *tmpfs; /* extra tmpfs mounts */
	size_t n_tmpfs;
	const char *const *env;           /* "NAME=VALUE", NULL-terminated; NULL = the runner's default */
	const char *cwd;                  /* default /work */
	const char *hostname;             /* default corral */
	enum policy_network network;      /* only none for now */
	enum policy_seccomp seccomp;      /* default default */
	const char *const *seccomp_allow; /* extra syscall names, NULL-terminated; NULL = none */
	const char *const *seccomp_deny;
	uint64_t tmp_bytes;     /* /tmp tmpfs; default 64 MiB */
	uint64_t work_bytes;    /* /work tmpfs; default 64 MiB */
	uint32_t uid, gid;      /* inside the jail; default 1000, gid defaults to uid */
	uint64_t rlimit_nofile; /* default 256 */
	uint64_t rlimit_fsize;  /* default 1 GiB */
	uint64_t rlimit_stack;  /* default 8 MiB */
	const char *const
		*artifacts; /* artifact globs when a submit names none, NULL-terminated; NULL = none */
};

/* The profile called name, or NULL. */
const struct policy_profile *policy_profile(const struct policy *policy, const char *name);

/* ---- listing (for `corral policy check/show`) -------------------------- */

enum policy_kind { POLICY_PLANS, POLICY_USERS, POLICY_PROFILES };
/* Number of defined plans / [user] sections / profiles (built-in default
 * profile included), and the i-th name in sorted order. */
size_t policy_count(const struct policy *policy, enum policy_kind kind);
const char *policy_name_at(const struct policy *policy, enum policy_kind kind, size_t i);
/* The [default] plan name, or NULL when there is no [default]. */
const char *policy_default_plan(const struct policy *policy);

/* ---- the one grammar for durations, sizes and CPU counts ---------------- */
/* Policy files and the command-line tools parse values with these (see
 * policy/units.c and corral.conf(5) "VALUES").  Each returns 0, -EINVAL on
 * text that is not in the grammar, -ERANGE when the value overflows. */

/* "1.5s", "1h30m", "500ms", "0.5h", "2d" -> µs (rounded to the nearest);
 * a lone number without unit ("90", "0.05") is in bare_unit_us. */
int policy_parse_duration_us(const char *text, uint64_t bare_unit_us, uint64_t *us);
/* "512", "64K", "1.5G", "512MiB", "2GB" (powers of 1024) -> bytes. */
int policy_parse_size(const char *text, uint64_t *bytes);
/* "1", "0.5", "2.25" (at most 3 decimals) -> thousandths of a CPU. */
int policy_parse_cpus(const char *text, uint64_t *millis);
/* The command-line forms: a duration with bare seconds -> milliseconds
 * (rounded); CPUs that fit 32 bits, 0 refused (-ERANGE); a plain
 * non-negative integer no larger than max. */
int policy_parse_duration_ms(const char *text, uint64_t *ms);
int policy_parse_cpu_millis(const char *text, uint32_t *millis);
int policy_parse_uint(const char *text, uint64_t max, uint64_t *value);

/* ---- formatting values the way the files write them --------------------- */

/* "512M", "1G", "1536" (bytes).  Returns buf. */
char *policy_format_size(uint64_t bytes, char *buf, size_t size);
/* "90s", "10m", "2h", "1500ms".  Returns buf. */
char *policy_format_duration_ms(uint64_t ms, char *buf, size_t size);
/* "1", "0.5", "2.25" CPUs.  Returns buf. */
char *policy_format_cpus(uint32_t millis, char *buf, size_t size);
const char *policy_seccomp_name(enum policy_seccomp seccomp);

#endif
