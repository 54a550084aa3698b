/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg.h — internal to the PostgreSQL backend of
 * the store: the connection struct, the helpers its files share, and the
 * operations its vtable (store_pg_backend, in store_pg.c) points at.  Every
 * exported name carries its file's name: store_pg_* in store_pg.c,
 * store_pg_read_* in store_pg_read.c, and so on.  Callers include
 * supervisor/store/store.h, never this.
 *
 * The statements are store_sql.c's, prepared once per connection (lazily,
 * named "s<N>"), parameters and results in text format.  The tables live in
 * the schema "corral" (the session's search_path), so the database may hold
 * other things.
 */
#ifndef CORRAL_SUPERVISOR_STORE_PG_H
#define CORRAL_SUPERVISOR_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_sql.h"

/* The newest schema this code knows (store_pg_schema.c).  The numbers mean
 * the same data model as SQLite's (1: tasks, usage, events; 2: usage
 * adjustments). */
#define STORE_PG_SCHEMA_VERSION 17

struct store_pg {
	struct store base; /* first: the generic handle callers hold */
	PGconn *conn;
	char *uri;       /* kept to reconnect; never printed */
	char *password;  /* from the URI, only to scrub messages */
	char where[160]; /* "postgresql://user@host:port/db", no password */
	struct store_options opts;
	int schema_version;
	bool prepared[STORE_SQL_COUNT];
	int nparams[STORE_SQL_COUNT]; /* the highest $n of each statement */
	char *node;                   /* the node joined: its statistics count here */
	char *fence;                  /* writes hold only for tasks this incarnation leases */
	bool listening;               /* LISTEN corral (again after a reconnect) */
	unsigned conn_gen;            /* +1 at every (re)connect: its socket is a new one */
	bool in_tx;                   /* a state change's own transaction is open */
	bool in_batch;
	unsigned folds;  /* of the live load (store_pg_cluster_live_fold) */
	int batch_error; /* -errno that dropped the batch, 0 = none */
	struct error batch_cause;
};

static inline struct store_pg *store_pg_of(struct store *store)
{
	return (struct store_pg *)store;
}

/* store_pg_error.c: msg into out without its trailing newline, the URI's
 * password (if any) replaced by "***". */
void store_pg_error_scrub(const struct store_pg *store, const char *msg, char *out, size_t size);
/* Map a failed call to -errno and fill err with "<what>: <server message>
 * (SQLSTATE x)".  res (may be NULL: the connection failed) is cleared.
 * 53100 disk full -> -ENOSPC, 40001/40P01 -> -EAGAIN, a lost connection ->
 * -EIO, integrity and data errors -> -EINVAL. */
int store_pg_error_fail(struct store_pg *store, PGresult *res, struct error *err, const char *step,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Text parameters $1..$n of one statement; unset ones are NULL. */
struct store_pg_params {
	const char *value[STORE_SQL_MAX_PARAMS];
	char buf[STORE_SQL_MAX_PARAMS][24];
};
void store_pg_params_init(struct store_pg_params *p);
void store_pg_param_i64(struct store_pg_params *p, int n, int64_t value);
/* NULL when value == none. */
void store_pg_param_opt_i64(struct store_pg_params *p, int n, int64_t value, int64_t none);
/* NULL for a NULL string; the string must outlive the call. */
void store_pg_param_text(struct store_pg_params *p, int n, const char *value);

/* Run statement which (preparing it on first use); the result, never NULL
 * unless out of memory.  Check it with store_pg_ok(). */
PGresult *store_pg_query(struct store_pg *store, enum store_sql which, const struct store_pg_params *p);
/* True for PGRES_COMMAND_OK / PGRES_TUPLES_OK. */
bool store_pg_ok(const PGresult *res);
/* Rows an UPDATE/INSERT changed. */
int store_pg_changes(PGresult *res);
/* A column as int64; none when NULL. */
int64_t store_pg_i64(const PGresult *res, int row, int col, int64_t none);
/* A column as a new string (NULL stays NULL); sets *oom on failure. */
char *store_pg_dup(const PGresult *res, int row, int col, bool *oom);

/* One simple-protocol command without results (BEGIN, SET, DDL). */
int store_pg_exec(struct store_pg *store, const char *sql, struct error *err, const char *step);

/* One transaction per state change: BEGIN, or a SAVEPOINT inside an open
 * batch.  store_pg_tx_end() commits when r >= 0 and rolls back otherwise; it
 * returns r, or the commit's error.  store_pg_tx_again(): whether to run
 * the whole transaction again (r was a serialization failure or deadlock,
 * outside a batch, fewer than a few attempts so far). */
int store_pg_tx_begin(struct store_pg *store, struct error *err);
int store_pg_tx_end(struct store_pg *store, int r, struct error *err);
bool store_pg_tx_again(struct store_pg *store, int r, int attempt);

/* A write that need not wait for its WAL to reach the disk (advisory
 * state, or totals a crash loses whole or not at all): outside a caller's
 * transaction it is its own (as store_pg_tx_begin: the connection opened
 * again if lost; with synchronous_commit off), *own set; inside a state
 * change's or a batch's it commits with that one, *own false.
 * store_pg_async_end() commits (r >= 0) or rolls back what the begin
 * opened, as store_pg_tx_end(); returns r, or the commit's error. */
int store_pg_async_begin(struct store_pg *store, bool *own, struct error *err);
int store_pg_async_end(struct store_pg *store, bool own, int r, struct error *err);

/* One state change as one transaction, run again while store_pg_tx_again()
 * says so: begin, evaluate call (an int, -errno on failure) only when the
 * begin worked, then commit or roll back. */
#define STORE_PG_IN_TX(store, err, call)                                     \
	({                                                                   \
		int tx_r_;                                                   \
		for (int tx_attempt_ = 0;; tx_attempt_++) {                  \
			tx_r_ = store_pg_tx_begin((store), (err));           \
			if (tx_r_ < 0)                                       \
				break;                                       \
			tx_r_ = store_pg_tx_end((store), (call), (err));     \
			if (!store_pg_tx_again((store), tx_r_, tx_attempt_)) \
				break;                                       \
		}                                                            \
		tx_r_;                                                       \
	})

/* Bring the schema up to STORE_PG_SCHEMA_VERSION in one transaction under
 * an advisory lock, or refuse a newer or foreign one.  Sets
 * store->schema_version. */
int store_pg_schema_migrate(struct store_pg *store, struct error *err);

/* The backend's operations (store_backend.h), arguments already checked
 * by store.c.  Reads: */
int store_pg_read_get_task(struct store *store, int64_t id, struct store_task *out, struct error *err);
int store_pg_read_load_queued(struct store *store, struct store_task_list *out, struct error *err);
int store_pg_read_load_running(struct store *store, struct store_task_list *out, struct error *err);
int store_pg_read_list_tasks(struct store *store, const struct store_filter *filter,
			     struct store_task_list *out, struct error *err);
int store_pg_read_count_queued(struct store *store, const char *user, int64_t *count, struct error *err);
int store_pg_read_usage_get(struct store *store, const char *user, const char *month, int64_t *cpu_us,
			    struct error *err);
int store_pg_read_usage_month(struct store *store, const char *month, struct store_usage_list *out,
			      struct error *err);
int store_pg_read_list_events(struct store *store, int64_t task_id, struct store_event_list *out,
			      struct error *err);
int store_pg_read_usage_adjust_sum(struct store *store, const char *user, const char *month, int64_t *sum_us,
				   struct error *err);
int store_pg_read_usage_adjustments(struct store *store, const char *user, const char *month,
				    struct store_adjustment_list *out, struct error *err);
/* Run a task query (TASK_COLUMNS or LIST_COLUMNS rows) and collect its rows into out. */
int store_pg_read_collect(struct store_pg *store, enum store_sql which, const struct store_pg_params *p,
			  struct store_task_list *out, const char *step, struct error *err);
/* The cluster (store_pg_cluster.c; store_cluster.h) */
void store_pg_cluster_fence(struct store *store, const char *incarnation);
int store_pg_cluster_assign(struct store *store, int64_t term, const char *leader_incarnation,
			    const struct store_cluster_assign *a, struct error *err);
int store_pg_cluster_unassign(struct store *store, int64_t term, const char *leader_incarnation, int64_t id,
			      const char *owner, struct error *err);
int store_pg_cluster_renew(struct store *store, const char *incarnation, int64_t lease_us,
			   struct store_lease_list *out, struct error *err);
int store_pg_cluster_adopt(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			   int64_t *count, struct error *err);
int store_pg_cluster_load_running(struct store *store, const char *incarnation, struct store_task_list *out,
				  struct error *err);
int store_pg_cluster_output_append(struct store *store, int64_t id, int stream, int64_t off,
				   const char *data_b64, int64_t len, struct error *err);
int store_pg_cluster_output_read(struct store *store, int64_t id, int stream, int64_t from, size_t limit,
				 struct store_output_chunks *out, struct error *err);
int store_pg_cluster_wake(struct store *store, int which, struct error *err);
int store_pg_cluster_live(struct store *store, struct store_live *out, struct error *err);
int store_pg_cluster_live_fold(struct store *store, struct error *err);
int store_pg_cluster_queue_ids(struct store *store, int64_t up_to, int64_t **ids, size_t *count,
			       struct error *err);
int store_pg_cluster_analyze(struct store *store, struct error *err);
int store_pg_cluster_assign_many(struct store *store, int64_t term, const char *leader_incarnation,
				 const struct store_cluster_assign *a, size_t n, bool *assigned,
				 struct error *err);
int store_pg_cluster_tasks(struct store *store, enum store_sql which, int64_t grace_us,
			   struct store_task_list *out, struct error *err);
/* -ESTALE unless owner is the fenced incarnation (none fenced: 0). */
/* store_pg_sched.c */
int store_pg_sched_tenant_load(struct store *store, const char *user, bool lock,
			       struct store_tenant_load *out, struct error *err);
int store_pg_sched_fair_save(struct store *store, const struct store_fair *items, size_t n,
			     struct error *err);
int store_pg_sched_fair_load(struct store *store, struct store_fair_list *out, struct error *err);
int store_pg_cluster_check_fence(struct store_pg *store, int64_t id, const char *owner, const char *step,
				 struct error *err);
/* State changes (each one transaction, moves checked by task_state_can_move): */
int store_pg_write_submit(struct store *store, const struct store_task *task, int64_t *id, struct error *err);
int store_pg_write_mark_running(struct store *store, int64_t id, const struct store_start *start,
				struct error *err);
int store_pg_write_requeue(struct store *store, int64_t id, const struct store_requeue *requeue,
			   struct error *err);
int store_pg_write_charge(struct store *store, int64_t id, int64_t expected_cursor_us, int64_t new_cursor_us,
			  const char *month, int64_t now_us, struct error *err);
int store_pg_write_finish(struct store *store, int64_t id, const struct store_result *result,
			  struct error *err);
int store_pg_write_cancel_queued(struct store *store, int64_t id, int64_t now_us, struct error *err);
int store_pg_write_request_cancel(struct store *store, int64_t id, int64_t now_us, struct error *err);
int store_pg_write_event_append(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
				const char *detail, struct error *err);
int store_pg_write_usage_adjust(struct store *store, const struct store_adjustment *adj, int64_t *id,
				struct error *err);

/* Nodes (store_pg_node.c): the statistics a state change adds to the
 * joined node (none joined: 0), and the vtable's node operations. */
int store_pg_node_count(struct store_pg *store, const struct store_node_count *c, struct error *err);
int store_pg_node_join(struct store *store, const struct store_node *n, bool *draining, struct error *err);
int store_pg_node_heartbeat(struct store *store, const struct store_node *n, bool *draining,
			    struct error *err);
int store_pg_node_leave(struct store *store, const char *name, const char *incarnation, struct error *err);
int store_pg_node_list(struct store *store, struct store_node_list *out, struct error *err);
int store_pg_node_set_draining(struct store *store, const char *name, bool draining, struct error *err);

int store_pg_node_leader(struct store *store, enum store_sql which, const char *node, const char *incarnation,
			 int64_t lease_us, struct store_leader *out, struct error *err);
/* Storage (store_pg_storage.c): */
int store_pg_storage_by_user(struct store *store, struct store_storage_list *out, struct error *err);
int store_pg_storage_purge_ended(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
				 struct store_purged_list *out, struct error *err);

/* API tokens and idempotency keys (store_pg_token.c) */
int store_pg_token_run(struct store *store, enum store_sql which, struct store_token *io, int64_t *id,
		       struct store_token_list *list, struct error *err);
/* Tenant records (store_pg_tenant.c) and callbacks (store_pg_callback.c) */
int store_pg_tenant_run(struct store *store, enum store_sql which, const struct store_tenant_change *c,
			struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			struct error *err);
int store_pg_callback_run(struct store *store, enum store_sql which, struct store_callback *io,
			  int64_t now_us, int64_t limit, struct store_callback_list *list, struct error *err);
/* The cluster's policy generations (store_pg_policy.c) */
int store_pg_policy_run(struct store *store, enum store_sql which, const char *text, const char *by,
			int64_t expected, struct store_policy *out, struct error *err);
int store_pg_policy_node_run(struct store *store, enum store_sql which, const struct store_policy_node *in,
			     struct store_policy_node_list *list, struct error *err);

/* A task's files (store_pg_files.c; store_files.h) */
int store_pg_files_run(struct store *store, enum store_sql which, int64_t task_id, const char *kind,
		       const struct store_file *f, int64_t chunk, const char *data, int64_t n,
		       struct store_file_list *list, char **out, struct error *err);
int store_pg_files_expire(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
			  int64_t *bytes, size_t *tasks, struct error *err);
int store_pg_files_drop(struct store *store, int64_t task_id, const char *kind, int64_t *bytes,
			struct error *err);
/* Staged uploads (store_pg_upload.c; store_upload.h) */
int store_pg_upload_run(struct store *store, enum store_sql which, struct store_upload_io *io,
			struct error *err);

#endif
