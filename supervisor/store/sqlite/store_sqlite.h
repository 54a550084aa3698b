/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite.h — internal to the SQLite backend of the store:
 * the connection struct, the helpers its files share, and the operations
 * its vtable (store_sqlite_backend, in store_sqlite.c) points at.  Every
 * exported name carries its file's name: store_sqlite_* in store_sqlite.c,
 * store_sqlite_read_* in store_sqlite_read.c, and so on.  Callers include
 * supervisor/store/store.h, never this.
 */
#ifndef CORRAL_SUPERVISOR_STORE_SQLITE_H
#define CORRAL_SUPERVISOR_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_sql.h"

/* The newest schema this code knows (see store_sqlite_schema.c). */
#define STORE_SCHEMA_VERSION 17

struct store_sqlite {
	struct store base; /* first: the generic handle callers hold */
	sqlite3 *db;
	char *path;
	int schema_version;
	sqlite3_stmt *stmt[STORE_SQL_COUNT];
	/* param_index[s][n] = SQLite's index of "$n" in statement s (0 = absent) */
	unsigned char param_index[STORE_SQL_COUNT][STORE_SQL_MAX_PARAMS + 1];
	char *node;  /* the node joined (store_node_join): its statistics count here */
	int lock_fd; /* exclusive: <path>.lock, flocked while open; -1 = none */
	bool in_batch;
	int batch_error; /* -errno that dropped the batch, 0 = none */
	struct error batch_cause;
};

static inline struct store_sqlite *store_sqlite_of(struct store *store)
{
	return (struct store_sqlite *)store;
}

/* Map a failed SQLite call (rc) to -errno and fill err with
 * "<what>: <sqlite message>".  SQLITE_FULL -> -ENOSPC, SQLITE_IOERR -> -EIO. */
int store_sqlite_fail(struct store_sqlite *store, int rc, struct error *err, const char *step,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Binding and running one prepared statement:
 *   store_sqlite_stmt_start(store, STORE_SQL_X, &b);
 *   store_sqlite_bind_*(&b, n, ...);
 *   rc = store_sqlite_stmt_step(&b) (repeat while SQLITE_ROW);
 *   store_sqlite_stmt_done(&b);
 * A failed bind is kept in b.rc and returned by store_sqlite_stmt_step(). */
struct store_sqlite_binder {
	struct store_sqlite *store;
	enum store_sql which;
	sqlite3_stmt *stmt;
	int rc;
};
void store_sqlite_stmt_start(struct store_sqlite *store, enum store_sql which, struct store_sqlite_binder *b);
void store_sqlite_bind_i64(struct store_sqlite_binder *b, int n, int64_t value);
/* Binds NULL when value == none. */
void store_sqlite_bind_opt_i64(struct store_sqlite_binder *b, int n, int64_t value, int64_t none);
/* Binds NULL for a NULL string. */
void store_sqlite_bind_text(struct store_sqlite_binder *b, int n, const char *value);
int store_sqlite_stmt_step(struct store_sqlite_binder *b);
void store_sqlite_stmt_done(struct store_sqlite_binder *b);
/* Step a statement that returns no rows to the end, then done; *changes
 * (may be NULL) = rows it changed.  Returns SQLITE_OK or the error. */
int store_sqlite_stmt_exec(struct store_sqlite_binder *b, int *changes);

/* One transaction per state change: BEGIN IMMEDIATE, or a SAVEPOINT inside
 * an open batch.  store_sqlite_tx_end() commits when r >= 0 and rolls back
 * otherwise; it returns r, or the commit's error. */
int store_sqlite_tx_begin(struct store_sqlite *store, struct error *err);
int store_sqlite_tx_end(struct store_sqlite *store, int r, struct error *err);
/* One state change as one transaction: begin, evaluate call (an int, -errno
 * on failure) only when the begin worked, then commit or roll back. */
#define STORE_SQLITE_IN_TX(store, err, call)                                     \
	({                                                                       \
		int tx_r_ = store_sqlite_tx_begin((store), (err));               \
		tx_r_ < 0 ? tx_r_ : store_sqlite_tx_end((store), (call), (err)); \
	})

/* Bring the schema up to STORE_SCHEMA_VERSION in one transaction, or refuse
 * a newer or foreign database.  Sets store->schema_version. */
int store_sqlite_schema_migrate(struct store_sqlite *store, struct error *err);

/* Helpers of the reads (store_sqlite_read.c): strdup of a TEXT column
 * (NULL stays NULL; sets *oom on failure); room for one more item in
 * *items, doubling (-ENOMEM). */
char *store_sqlite_read_column_dup(sqlite3_stmt *stmt, int col, bool *oom);
int store_sqlite_read_grow(void **items, size_t *capacity, size_t count, size_t elem);
/* Step a bound query of task rows (TASK_COLUMNS or LIST_COLUMNS) to the
 * end, collecting them into out (freed on failure). */
int store_sqlite_read_collect(struct store_sqlite_binder *b, struct store_task_list *out, const char *step,
			      struct error *err);

/* The backend's operations (store_backend.h), arguments already checked
 * by store.c.  Reads: */
int store_sqlite_read_get_task(struct store *store, int64_t id, struct store_task *out, struct error *err);
int store_sqlite_read_load_queued(struct store *store, struct store_task_list *out, struct error *err);
int store_sqlite_read_load_running(struct store *store, struct store_task_list *out, struct error *err);
int store_sqlite_read_list_tasks(struct store *store, const struct store_filter *filter,
				 struct store_task_list *out, struct error *err);
int store_sqlite_read_count_queued(struct store *store, const char *user, int64_t *count, struct error *err);
int store_sqlite_read_usage_get(struct store *store, const char *user, const char *month, int64_t *cpu_us,
				struct error *err);
int store_sqlite_read_usage_month(struct store *store, const char *month, struct store_usage_list *out,
				  struct error *err);
int store_sqlite_read_list_events(struct store *store, int64_t task_id, struct store_event_list *out,
				  struct error *err);
int store_sqlite_read_usage_adjust_sum(struct store *store, const char *user, const char *month,
				       int64_t *sum_us, struct error *err);
int store_sqlite_read_usage_adjustments(struct store *store, const char *user, const char *month,
					struct store_adjustment_list *out, struct error *err);
/* State changes (each one transaction, moves checked by task_state_can_move): */
int store_sqlite_write_submit(struct store *store, const struct store_task *task, int64_t *id,
			      struct error *err);
int store_sqlite_write_mark_running(struct store *store, int64_t id, const struct store_start *start,
				    struct error *err);
int store_sqlite_write_requeue(struct store *store, int64_t id, const struct store_requeue *requeue,
			       struct error *err);
int store_sqlite_write_charge(struct store *store, int64_t id, int64_t expected_cursor_us,
			      int64_t new_cursor_us, const char *month, int64_t now_us, struct error *err);
int store_sqlite_write_finish(struct store *store, int64_t id, const struct store_result *result,
			      struct error *err);
int store_sqlite_write_cancel_queued(struct store *store, int64_t id, int64_t now_us, struct error *err);
int store_sqlite_write_request_cancel(struct store *store, int64_t id, int64_t now_us, struct error *err);
int store_sqlite_write_event_append(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
				    const char *detail, struct error *err);
int store_sqlite_write_usage_adjust(struct store *store, const struct store_adjustment *adj, int64_t *id,
				    struct error *err);
/* The scheduler's round on one host (store_sqlite_cluster.c; the rest of
 * the cluster calls need PostgreSQL): */
int store_sqlite_cluster_tasks(struct store *store, enum store_sql which, int64_t arg,
			       struct store_task_list *out, struct error *err);
int store_sqlite_cluster_live(struct store *store, struct store_live *out, struct error *err);
int store_sqlite_cluster_live_fold(struct store *store, struct error *err);
int store_sqlite_cluster_queue_ids(struct store *store, int64_t up_to, int64_t **ids, size_t *count,
				   struct error *err);
int store_sqlite_cluster_assign_many(struct store *store, int64_t term, const char *leader_incarnation,
				     const struct store_cluster_assign *a, size_t n, bool *assigned,
				     struct error *err);
/* Storage (store_sqlite_storage.c): */
int store_sqlite_storage_by_user(struct store *store, struct store_storage_list *out, struct error *err);
int store_sqlite_storage_purge_ended(struct store *store, const char *user, int64_t ended_before_us,
				     size_t limit, struct store_purged_list *out, struct error *err);

/* Nodes (store_sqlite_node.c): corral_now_us() on this connection, the
 * statistics a state change adds to the joined node (none joined: 0), and
 * the vtable's node operations. */
int store_sqlite_node_register_clock(struct store_sqlite *store, struct error *err);
int store_sqlite_node_count(struct store_sqlite *store, const struct store_node_count *c, struct error *err);
int store_sqlite_node_join(struct store *store, const struct store_node *n, bool *draining,
			   struct error *err);
int store_sqlite_node_heartbeat(struct store *store, const struct store_node *n, bool *draining,
				struct error *err);
int store_sqlite_node_leave(struct store *store, const char *name, const char *incarnation,
			    struct error *err);
int store_sqlite_node_list(struct store *store, struct store_node_list *out, struct error *err);
int store_sqlite_node_set_draining(struct store *store, const char *name, bool draining, struct error *err);

int store_sqlite_node_leader(struct store *store, enum store_sql which, const char *node,
			     const char *incarnation, int64_t lease_us, struct store_leader *out,
			     struct error *err);

/* API tokens and idempotency keys (store_sqlite_token.c) */
int store_sqlite_token_run(struct store *store, enum store_sql which, struct store_token *io, int64_t *id,
			   struct store_token_list *list, struct error *err);
/* Tenant records (store_sqlite_tenant.c) and callbacks (store_sqlite_callback.c) */
int store_sqlite_tenant_run(struct store *store, enum store_sql which, const struct store_tenant_change *c,
			    struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			    struct error *err);
int store_sqlite_callback_run(struct store *store, enum store_sql which, struct store_callback *io,
			      int64_t now_us, int64_t limit, struct store_callback_list *list,
			      struct error *err);
/* The cluster's policy generations (store_sqlite_policy.c) */
int store_sqlite_policy_run(struct store *store, enum store_sql which, const char *text, const char *by,
			    int64_t expected, struct store_policy *out, struct error *err);
int store_sqlite_policy_node_run(struct store *store, enum store_sql which,
				 const struct store_policy_node *in, struct store_policy_node_list *list,
				 struct error *err);

/* A task's files (store_sqlite_files.c; store_files.h) */
int store_sqlite_files_run(struct store *store, enum store_sql which, int64_t task_id, const char *kind,
			   const struct store_file *f, int64_t chunk, const char *data, int64_t n,
			   struct store_file_list *list, char **out, struct error *err);
int store_sqlite_files_expire(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
			      int64_t *bytes, size_t *tasks, struct error *err);
int store_sqlite_files_drop(struct store *store, int64_t task_id, const char *kind, int64_t *bytes,
			    struct error *err);
/* Staged uploads (store_sqlite_upload.c; store_upload.h) */
int store_sqlite_upload_run(struct store *store, enum store_sql which, struct store_upload_io *io,
			    struct error *err);

#endif
