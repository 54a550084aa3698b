/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store.h — corrald's durable store: tasks, monthly CPU usage and
 * an event log, behind a small interface over an opaque struct store.
 *
 * A struct store is a generic handle over a backend chosen at open from the
 * store URI (store_backend.h: a vtable, crun's cgroup-manager pattern;
 * store.c dispatches and checks arguments): a path or sqlite:PATH is
 * SQLite (sqlite/: WAL, synchronous=FULL, so a task is acknowledged only
 * after its row is on disk); postgresql:// or postgres:// is PostgreSQL
 * (postgres/, libpq: the same tables in the schema "corral", a commit
 * acknowledged by the server; the cluster's nodes and leases come later).
 * Callers never see which backend they have.  Task states
 * and the moves between them are in task_state.h (included here); the data
 * statements, in portable SQL, in store_sql.c.
 *
 * Rules every function follows, whatever the backend:
 *  - returns 0 on success and -errno on failure, filling the caller's
 *    struct error (may be NULL) with the step, the object and the cause;
 *  - every state change is ONE transaction, and the event it records is
 *    appended in that same transaction;
 *  - a refused transition (a move task_state_can_move() refuses, the task
 *    not in the state the call requires, a stale charging cursor, a second
 *    finish) returns -ESTALE and changes nothing; an unknown task id
 *    returns -ENOENT;
 *  - a full disk returns -ENOSPC, an I/O error -EIO; what was committed
 *    before stays intact; PostgreSQL: a lost connection is -EIO (the next
 *    call outside a batch reconnects), a transaction that kept losing
 *    serialization races or deadlocks -EAGAIN;
 *  - times are microseconds since the Unix epoch (durations microseconds
 *    too, but wall_limit_ms), passed in by the caller (the store reads no
 *    clock but to stamp a migration, so tests can use a fake one).
 *
 * A struct store is one connection: use it from one thread at a time.  Not
 * here: scheduling decisions (supervisor/sched/), policy, the runner; the
 * store includes nothing from runner/ or from the programs.
 */
#ifndef CORRAL_SUPERVISOR_STORE_H
#define CORRAL_SUPERVISOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"
#include "supervisor/store/task_state.h"

struct store;

/* A task's cpu_millis at most: 1024 cores (the runner's most). */
#define STORE_MAX_CPU_MILLIS 1024000

/* What a task's command did and used, measured at its end: the same
 * fields in a task row (store_task.usage) and in an end (store_result.usage).
 * Units: microseconds for times, bytes for sizes.  "None" is -1 for
 * exit_code (killed, or never started) and for signal (exited by itself);
 * the counters are 0 until the task ends (a task that never ran used
 * nothing). */
struct task_usage {
	int exit_code; /* -1 = none */
	int signal;    /* -1 = none */
	int64_t cpu_user_us;
	int64_t cpu_system_us;
	int64_t memory_peak_bytes;
	int64_t stdout_bytes;
	int64_t stderr_bytes;
	bool stdout_truncated;
	bool stderr_truncated;
	int64_t oom_kills; /* processes the OOM killer killed in the task's cgroup */
};

/* One task row.  Strings loaded by the store are owned by the struct and
 * freed by store_task_clear().  "None" is NULL for strings, -1 for
 * host_uid, 0 for times (and see struct task_usage). */
struct store_task {
	int64_t id;               /* monotonic, never reused */
	char *user;               /* tenant name */
	int64_t submitted_by_uid; /* from SO_PEERCRED, never from the request */
	char *profile;
	char *argv_json;       /* JSON array of strings */
	char *env_json;        /* JSON object of strings; NULL = "{}" */
	char *cwd;             /* may be NULL */
	char *stdin_path;      /* may be NULL */
	int64_t wall_limit_ms; /* limits requested; 0 = the profile's */
	int64_t cpu_limit_us;
	int64_t memory_limit_bytes;

	enum store_task_state state;
	enum store_task_reason reason;
	char *message; /* human message for the end, may be NULL */
	struct task_usage usage;

	int64_t submitted_at_us;
	int64_t started_at_us;
	int64_t ended_at_us;
	int64_t deadline_us; /* absolute, so an adopted task keeps it */

	int64_t cpu_reserved_us; /* budget reserved at start */
	int64_t cpu_charged_us;  /* charging cursor: CPU already charged */
	int64_t charged_at_us;   /* when the cursor last moved */

	int attempts; /* starts so far (store_mark_running counts them) */
	int64_t host_uid;
	char *cgroup; /* cgroup name under tasks/, may be NULL */
	bool cancel_requested;

	/* retries (store_requeue) */
	int64_t cpu_prior_us;     /* CPU charged by the earlier attempts: the current
				     * attempt's cgroup counts from 0, its cursor from here */
	char *last_attempt_error; /* why the last requeued attempt ended; NULL = none */
	int64_t not_before_us;    /* the backoff: not started before; 0 = none */

	/* storage (the tenant's quota and retention) */
	int64_t stored_bytes; /* what the store holds for the task: argv_json and env_json
			       * as stored, its stdin and, once ended, its outputs */
	int64_t stdin_bytes;  /* store_submit reads it: the size of the stdin file */

	/* what the task needs of a node (placement) */
	int64_t gpus;             /* 0 = none */
	int64_t gpu_memory_bytes; /* per GPU; 0 = any */
	char *labels;             /* "gpu,ssd": labels the node must offer; NULL or "" = none */
	int64_t cpu_millis;       /* cores asked for, in thousandths (500 = half a core): reserved
				   * on its node and its CPU quota; 0 = none asked (the plan's
				   * quota, nothing reserved) */

	/* the cluster (store_cluster.h; NULL / 0 on one host) */
	char *node_name;               /* the node it was assigned to, runs or ran on */
	char *lease_owner;             /* the node incarnation holding its lease; NULL = none */
	bool assigned_capped;          /* the scheduler cut its CPU limit by the budget */
	int64_t assigned_memory_bytes; /* the memory the scheduler reserved on the node */
};

struct store_task_list {
	struct store_task *tasks;
	size_t count;
};

/* Free the strings of one task / every task of a list and zero it. */
void store_task_clear(struct store_task *task);
void store_task_list_free(struct store_task_list *list);

struct store_options {
	int busy_timeout_ms;    /* 0 = 5000 */
	int idle_tx_timeout_ms; /* PostgreSQL: a session idle in a transaction this long is
				 * ended by the server (a frozen node's row locks go); 0 = 30000 */
	bool unsafe_no_sync;    /* synchronous=OFF: only for tests and benches that say so */
	int64_t max_size_bytes; /* 0 = no cap; a hard cap on the database size */
	bool exclusive;         /* this store's only writer (a corrald, corral store migrate):
				 * PostgreSQL holds a session lock, SQLite flocks <path>.lock,
				 * so a second one on the same database is refused (-EBUSY)
				 * whatever its state dir, until the cluster mode */
};

/* Which backend a store URI names, and what it passes that backend:
 *   /var/lib/corral/corrald.db, ./x.db, x.db   -> "sqlite", the path as is
 *   sqlite:PATH, sqlite:///ABSOLUTE/PATH        -> "sqlite", PATH
 *   postgresql://... or postgres://...          -> "postgresql", the whole URI
 * -EINVAL for an empty URI or sqlite: without a path (or with a host);
 * -EPROTONOSUPPORT for any other scheme (a relative path with a colon in
 * its first part reads as a scheme: write ./a:b.db).  backend and location
 * point at static text or into uri.  Messages never echo a whole URI (it
 * may carry a password). */
int store_uri_parse(const char *uri, const char **backend, const char **location, struct error *err);

/* Open the store at uri (see store_uri_parse).  SQLite: open (creating it
 * 0600 if missing) and migrate the database file.  PostgreSQL: connect
 * (-ECONNREFUSED with the server's or libpq's message when it cannot) and
 * migrate the schema "corral" (busy_timeout_ms is the lock_timeout,
 * unsafe_no_sync synchronous_commit=off, max_size_bytes unused).  opts may
 * be NULL.  Refused: a schema newer than this code (-EPROTONOSUPPORT), an
 * SQLite file or a PostgreSQL schema corral without our schema_version
 * table (-ENOTSUP), a file that is not SQLite (-EUCLEAN).  Messages never
 * carry a password from the URI. */
int store_open(const char *uri, const struct store_options *opts, struct store **out, struct error *err);
/* Close; NULL is fine.  An open batch is rolled back. */
void store_close(struct store *store);
/* Schema version of the open database. */
int store_schema_version(struct store *store);

/* Group commit: between begin and commit, every operation joins one
 * transaction (one fsync).  Nothing in a batch is durable, and nothing may
 * be acknowledged, before store_batch_commit() returns 0.  An operation
 * that fails inside a batch is undone alone; if the database had to drop the
 * whole transaction (disk full, I/O error) store_batch_commit() returns that
 * error and none of the batch is stored.  Reads on this connection while a
 * batch is open see its uncommitted changes. */
int store_batch_begin(struct store *store, struct error *err);
int store_batch_commit(struct store *store, struct error *err);
void store_batch_abort(struct store *store);

/* Store a new queued task (user, submitted_by_uid, profile, argv_json,
 * env_json, cwd, stdin_path, stdin_bytes, the three limits, submitted_at_us
 * are read; the rest is ignored) and return its id.  Committed before return unless a
 * batch is open. */
int store_submit(struct store *store, const struct store_task *task, int64_t *id, struct error *err);
/* What a task stores when submitted (its stored_bytes until it ends): the
 * bytes of argv_json and env_json ("{}" when NULL) plus stdin_bytes.
 * store_submit counts the same, so a quota check before it is exact. */
int64_t store_input_bytes(const struct store_task *task);

/* All queued tasks in submit order (for the scheduler at start-up). */
int store_load_queued(struct store *store, struct store_task_list *out, struct error *err);
/* All running tasks (to adopt after a restart). */
int store_load_running(struct store *store, struct store_task_list *out, struct error *err);

struct store_start {
	int64_t started_at_us;
	int64_t deadline_us;
	int64_t cpu_reserved_us;
	int64_t host_uid;
	const char *cgroup;
	int attempts;
};

/* queued -> running; -ESTALE if the task is not queued.  attempts is
 * stored as given: the caller passes the task's attempts + 1. */
int store_mark_running(struct store *store, int64_t id, const struct store_start *start, struct error *err);

/* An attempt that ended before the task's command started (a host fault,
 * a crash of the supervisor during setup), or one whose end was lost when
 * the plan retries those. */
struct store_requeue {
	const char *reason;    /* why it ended: last_attempt_error and the event */
	int64_t at_us;         /* now */
	int64_t not_before_us; /* backoff: the next start not before (0 = none) */
	int64_t cpu_total_us;  /* CPU total of the task so far: the prior attempts'
					 * plus this attempt's cgroup (charged like a finish) */
	const char *month;     /* where the remainder is charged */
	bool not_an_attempt;   /* the start the store failed under, before its command:
				* attempts goes back by one */
};

/* running -> queued (task_state_can_move() allows it), in one transaction
 * with a "requeued" event: the start is undone (started_at, deadline,
 * reservation, host uid, cgroup), the id and so the submit order are kept,
 * attempts stays (the next start counts; one less with not_an_attempt), cpu_total_us minus the cursor is
 * charged to month and becomes cpu_prior_us.  -ESTALE if the task is not
 * running (or its cursor moved meanwhile), -ENOENT for an unknown id. */
int store_requeue(struct store *store, int64_t id, const struct store_requeue *requeue, struct error *err);

/* Charge CPU measured so far: compare-and-set the task's cursor from
 * expected_cursor_us to new_cursor_us and add the difference to the user's
 * usage for month ("YYYY-MM", the month the delta was measured in), in one
 * transaction.  -ESTALE if the cursor is not expected_cursor_us (already
 * charged) or the task is not running; -EINVAL if new < expected.  now_us
 * is kept as the task's charged_at_us (no event: charges are frequent). */
int store_charge(struct store *store, int64_t id, int64_t expected_cursor_us, int64_t new_cursor_us,
		 const char *month, int64_t now_us, struct error *err);

/* How a task ended. */
struct store_result {
	enum store_task_state state; /* succeeded, failed or cancelled */
	enum store_task_reason reason;
	const char *message; /* may be NULL */
	struct task_usage usage;
	int64_t ended_at_us;
	int64_t cpu_total_us; /* final CPU total of the task */
	const char *month;    /* where the remainder is charged */
	int64_t output_bytes; /* what its output files hold: added to its stored_bytes */
};

/* The end of a task: a move to a terminal state that task_state_can_move()
 * allows (running -> any end; queued -> cancelled or failed), in one
 * transaction that also charges cpu_total_us minus the cursor to
 * result->month.  A second finish, or a move the table refuses, is -ESTALE,
 * so nothing is charged twice. */
int store_finish(struct store *store, int64_t id, const struct store_result *result, struct error *err);

/* queued -> cancelled (reason cancelled) in one step; -ESTALE if not queued. */
int store_cancel_queued(struct store *store, int64_t id, int64_t now_us, struct error *err);
/* Set cancel_requested on a running task (the supervisor then kills it and
 * finishes it as cancelled); -ESTALE if not running.  Idempotent. */
int store_request_cancel(struct store *store, int64_t id, int64_t now_us, struct error *err);

/* One task; -ENOENT if there is none with that id. */
int store_get_task(struct store *store, int64_t id, struct store_task *out, struct error *err);

struct store_filter {
	const char *user;  /* NULL = every user */
	int state;         /* an enum store_task_state, or -1 = any */
	size_t limit;      /* 0 = no limit */
	int64_t before_id; /* a page: only ids below this; 0 = from the newest */
	int64_t since_us;  /* only tasks submitted at or after this; 0 = any */
	int64_t until_us;  /* ... and before this; 0 = any */
};
/* A list's rows are summaries: argv_json is cut to its first
 * STORE_LIST_ARGV_CHARS characters (then maybe not valid JSON; an old row
 * may hold megabytes) and env_json is NULL.  store_get_task has it all. */
#define STORE_LIST_ARGV_CHARS 1024
/* Tasks matching filter, newest first. */
int store_list_tasks(struct store *store, const struct store_filter *filter, struct store_task_list *out,
		     struct error *err);

/* CPU charged to user in month ("YYYY-MM"); 0 when nothing was. */
int store_usage_get(struct store *store, const char *user, const char *month, int64_t *cpu_us,
		    struct error *err);

struct store_usage {
	char *user;
	int64_t cpu_us;
};
struct store_usage_list {
	struct store_usage *items;
	size_t count;
};
/* Usage of every user with a charge in month, ordered by user. */
int store_usage_month(struct store *store, const char *month, struct store_usage_list *out,
		      struct error *err);
void store_usage_list_free(struct store_usage_list *list);

/* An operator's adjustment of a tenant's CPU budget for one month: a row
 * of its own, never a rewrite of the charged usage.  The budget the
 * scheduler uses is the plan's plus the sum of the month's adjustments.
 * Strings loaded by the store are owned by the struct. */
struct store_adjustment {
	int64_t id;       /* monotonic, never reused */
	char *user;       /* tenant name */
	char *month;      /* "YYYY-MM" */
	int64_t delta_us; /* signed: > 0 grants, < 0 takes back; never 0 */
	char *by;         /* who: the caller's user name */
	int64_t by_uid;   /* the caller's uid (SO_PEERCRED) */
	int64_t at_us;
	char *reason; /* 1..STORE_ADJUST_MAX_REASON bytes */
};
struct store_adjustment_list {
	struct store_adjustment *items;
	size_t count;
};

#define STORE_ADJUST_MAX_REASON 256
#define STORE_ADJUST_MAX_US (1000000ll * 3600 * 1000000) /* |delta| <= 10^6 hours */

/* Append an adjustment (user, month, delta_us, by, by_uid, at_us, reason
 * are read) in one transaction; its id through *id (may be NULL).
 * -EINVAL: empty user or by, bad month, delta 0 or |delta| over
 * STORE_ADJUST_MAX_US, reason empty or longer than STORE_ADJUST_MAX_REASON. */
int store_usage_adjust(struct store *store, const struct store_adjustment *adj, int64_t *id,
		       struct error *err);
/* Sum of user's adjustments in month (0 when none). */
int store_usage_adjust_sum(struct store *store, const char *user, const char *month, int64_t *sum_us,
			   struct error *err);
/* The adjustments of month, of user (NULL = every user), ordered by user
 * then id (oldest first). */
int store_usage_adjustments(struct store *store, const char *user, const char *month,
			    struct store_adjustment_list *out, struct error *err);
void store_adjustment_list_free(struct store_adjustment_list *list);

/* ---- storage: quota and retention ---- */

struct store_storage {
	char *user;
	int64_t bytes; /* sum of the stored_bytes of the user's tasks */
};
struct store_storage_list {
	struct store_storage *items;
	size_t count;
};
/* What the store holds per tenant (every tenant with a task), ordered by
 * user: corrald's per-tenant counters start from it. */
int store_storage_by_user(struct store *store, struct store_storage_list *out, struct error *err);
void store_storage_list_free(struct store_storage_list *list);

struct store_purged {
	int64_t id;
	int64_t stored_bytes;
	char *stdin_path; /* NULL = none */
};
struct store_purged_list {
	struct store_purged *items;
	size_t count;
};
/* Retention: remove at most limit (>= 1) of user's ended tasks that ended
 * before ended_before_us, oldest end first, with their events, in one
 * transaction; what was removed goes to out (the caller removes the files:
 * outputs, a stdin left behind).  Queued and running tasks are never
 * removed.  An empty list when there is nothing to remove. */
int store_purge_ended(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
		      struct store_purged_list *out, struct error *err);
void store_purged_list_free(struct store_purged_list *list);

/* Number of queued tasks of user. */
int store_count_queued(struct store *store, const char *user, int64_t *count, struct error *err);

struct store_event {
	int64_t id;
	int64_t task_id;
	int64_t at_us;
	char *kind;   /* "submitted", "running", "finished", "cancel_requested", ... */
	char *detail; /* may be NULL */
};
struct store_event_list {
	struct store_event *items;
	size_t count;
};
/* Append to a task's event log (own transaction, or the open batch). */
int store_event_append(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
		       const char *detail, struct error *err);
/* A task's events, oldest first. */
int store_list_events(struct store *store, int64_t task_id, struct store_event_list *out, struct error *err);
void store_event_list_free(struct store_event_list *list);

#endif
