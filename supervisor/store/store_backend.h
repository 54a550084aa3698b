/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_backend.h — internal to the store: the backend
 * interface (crun's cgroup-manager pattern).  A struct store is the
 * generic handle callers hold: a pointer to its backend's vtable, placed
 * first in the backend's own struct (struct store_sqlite embeds it).
 * store.c picks the backend from the store URI at open, checks the
 * arguments every backend would check alike, and calls through the table.
 *
 * A backend's operations get arguments store.c has already validated, keep
 * every rule of store.h (one transaction per state change, -ESTALE for a
 * refused move, checked against task_state_can_move()), and fill err.
 * Callers include supervisor/store/store.h, never this.
 */
#ifndef CORRAL_SUPERVISOR_STORE_BACKEND_H
#define CORRAL_SUPERVISOR_STORE_BACKEND_H

#include "supervisor/store/store.h"
#include "supervisor/store/store_cluster.h"
#include "supervisor/store/store_callback.h"
#include "supervisor/store/store_files.h"
#include "supervisor/store/store_leader.h"
#include "supervisor/store/store_node.h"
#include "supervisor/store/store_policy.h"
#include "supervisor/store/store_sql.h"
#include "supervisor/store/store_tenant.h"
#include "supervisor/store/store_token.h"
#include "supervisor/store/store_upload.h"

/* A staged upload's statement (store_upload.h): what goes in, what comes
 * out. */
struct store_upload_io {
	struct store_upload *u; /* BEGIN: the row; GET: filled */
	int64_t id, offset, index, raw_len, expires_at_us, task_id, now_us, limit;
	const char *text;     /* CHUNK_PUT: base64; SEAL: SHA-256; TAKE_CHUNKS: the file's name */
	const char *user;     /* STAGED, TAKE_CHUNKS: the tenant */
	uint32_t mode;        /* TAKE_CHUNKS */
	char **out;           /* CHUNK_GET */
	int64_t count, bytes; /* STAGED: out; TAKE_CHUNKS: bytes out; EXPIRED: count out */
};

struct store_backend {
	const char *name; /* the URI scheme: "sqlite", "postgresql" */
	/* location: what follows the scheme (SQLite: a path; PostgreSQL:
	 * the whole URI, libpq parses it).  Sets
	 * (*out)->backend. */
	int (*open)(const char *location, const struct store_options *opts, struct store **out,
		    struct error *err);
	void (*close)(struct store *store);
	int (*schema_version)(struct store *store);

	int (*batch_begin)(struct store *store, struct error *err);
	int (*batch_commit)(struct store *store, struct error *err);
	void (*batch_abort)(struct store *store);

	int (*submit)(struct store *store, const struct store_task *task, int64_t *id, struct error *err);
	int (*mark_running)(struct store *store, int64_t id, const struct store_start *start,
			    struct error *err);
	int (*requeue)(struct store *store, int64_t id, const struct store_requeue *requeue,
		       struct error *err);
	int (*charge)(struct store *store, int64_t id, int64_t expected_cursor_us, int64_t new_cursor_us,
		      const char *month, int64_t now_us, struct error *err);
	int (*finish)(struct store *store, int64_t id, const struct store_result *result, struct error *err);
	int (*cancel_queued)(struct store *store, int64_t id, int64_t now_us, struct error *err);
	int (*request_cancel)(struct store *store, int64_t id, int64_t now_us, struct error *err);
	int (*event_append)(struct store *store, int64_t task_id, int64_t at_us, const char *kind,
			    const char *detail, struct error *err);

	int (*get_task)(struct store *store, int64_t id, struct store_task *out, struct error *err);
	int (*load_queued)(struct store *store, struct store_task_list *out, struct error *err);
	int (*load_running)(struct store *store, struct store_task_list *out, struct error *err);
	int (*list_tasks)(struct store *store, const struct store_filter *filter, struct store_task_list *out,
			  struct error *err);
	int (*count_queued)(struct store *store, const char *user, int64_t *count, struct error *err);
	int (*usage_get)(struct store *store, const char *user, const char *month, int64_t *cpu_us,
			 struct error *err);
	int (*usage_month)(struct store *store, const char *month, struct store_usage_list *out,
			   struct error *err);
	int (*usage_adjust)(struct store *store, const struct store_adjustment *adj, int64_t *id,
			    struct error *err);
	int (*usage_adjust_sum)(struct store *store, const char *user, const char *month, int64_t *sum_us,
				struct error *err);
	int (*usage_adjustments)(struct store *store, const char *user, const char *month,
				 struct store_adjustment_list *out, struct error *err);
	int (*list_events)(struct store *store, int64_t task_id, struct store_event_list *out,
			   struct error *err);

	/* nodes (store_node.h) */
	int (*node_join)(struct store *store, const struct store_node *n, bool *draining, struct error *err);
	int (*node_heartbeat)(struct store *store, const struct store_node *n, bool *draining,
			      struct error *err);
	int (*node_leave)(struct store *store, const char *name, const char *incarnation, struct error *err);
	int (*node_list)(struct store *store, struct store_node_list *out, struct error *err);
	int (*node_set_draining)(struct store *store, const char *name, bool draining, struct error *err);
	/* The leader row: ACQUIRE then GET in one transaction (acquire), or
	 * RESIGN, or GET alone. */
	int (*leader_run)(struct store *store, enum store_sql which, const char *node,
			  const char *incarnation, int64_t lease_us, struct store_leader *out,
			  struct error *err);
	int (*storage_by_user)(struct store *store, struct store_storage_list *out, struct error *err);
	int (*purge_ended)(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
			   struct store_purged_list *out, struct error *err);
	/* API tokens and idempotency keys (store_token.h): TOKEN_INSERT (io in,
	 * *id out), TOKEN_USE (io->hash and last_used_at_us in, io filled;
	 * -ENOENT), TOKEN_LIST (list), TOKEN_REVOKE (io->id, revoked_at_us;
	 * -ENOENT), IDEMPOTENCY_GET (io->tenant, io->name = key; *id out;
	 * -ENOENT), IDEMPOTENCY_PUT (the same and *id; -EEXIST). */
	int (*token_run)(struct store *store, enum store_sql which, struct store_token *io, int64_t *id,
			 struct store_token_list *list, struct error *err);
	/* the cluster (store_cluster.h); NULL: not supported (SQLite has only
	 * cluster_tasks, cluster_live, cluster_live_fold, cluster_queue_ids,
	 * cluster_assign_many) */
	void (*cluster_fence)(struct store *store, const char *incarnation);
	int (*cluster_assign)(struct store *store, int64_t term, const char *leader_incarnation,
			      const struct store_cluster_assign *a, struct error *err);
	int (*cluster_unassign)(struct store *store, int64_t term, const char *leader_incarnation, int64_t id,
				const char *owner, struct error *err);
	int (*cluster_renew)(struct store *store, const char *incarnation, int64_t lease_us,
			     struct store_lease_list *out, struct error *err);
	int (*cluster_adopt)(struct store *store, const char *node, const char *incarnation, int64_t lease_us,
			     int64_t *count, struct error *err);
	int (*cluster_load_running)(struct store *store, const char *incarnation, struct store_task_list *out,
				    struct error *err);
	int (*cluster_live)(struct store *store, struct store_live *out, struct error *err);
	int (*cluster_live_fold)(struct store *store, struct error *err);
	int (*cluster_output_append)(struct store *store, int64_t id, int stream, int64_t off,
				     const char *data_b64, int64_t len, struct error *err);
	int (*cluster_output_read)(struct store *store, int64_t id, int stream, int64_t from, size_t limit,
				   struct store_output_chunks *out, struct error *err);
	/* LISTEN (which 0), NOTIFY (1), the socket (2), the wake-ups read (3),
	 * the connection's generation (4) */
	int (*cluster_wake)(struct store *store, int which, struct error *err);
	/* STORE_SQL_CLUSTER_QUEUE, or another CLUSTER_ read of task rows with
	 * one integer parameter (grace_us: a grace, an id) */
	int (*cluster_tasks)(struct store *store, enum store_sql which, int64_t grace_us,
			     struct store_task_list *out, struct error *err);
	/* the unassigned queue up to id up_to: its ids (ids != NULL) or how
	 * many (*count) */
	int (*cluster_queue_ids)(struct store *store, int64_t up_to, int64_t **ids, size_t *count,
				 struct error *err);
	/* ANALYZE the tasks table (the planner's statistics); NULL: nothing to do */
	int (*cluster_analyze)(struct store *store, struct error *err);
	int (*cluster_assign_many)(struct store *store, int64_t term, const char *leader_incarnation,
				   const struct store_cluster_assign *a, size_t n, bool *assigned,
				   struct error *err);
	/* one tenant's load (under its quota lock), the scheduler's fairness */
	int (*cluster_tenant_load)(struct store *store, const char *user, bool lock,
				   struct store_tenant_load *out, struct error *err);
	int (*cluster_fair_save)(struct store *store, const struct store_fair *items, size_t n,
				 struct error *err);
	int (*cluster_fair_load)(struct store *store, struct store_fair_list *out, struct error *err);
	/* Tenant records (store_tenant.h): TENANT_PUT and TENANT_DELETE
	 * (change in; its audit row appended in the same transaction; DELETE
	 * of no record: -ENOENT, nothing audited), TENANT_LIST (list),
	 * TENANT_AUDIT_LIST (change->name; audit). */
	int (*tenant_run)(struct store *store, enum store_sql which, const struct store_tenant_change *change,
			  struct store_tenant_list *list, struct store_tenant_audit_list *audit,
			  struct error *err);
	/* Callbacks (store_callback.h): CALLBACK_ADD (io->task_id, url),
	 * CALLBACK_DUE (now_us, limit; list), CALLBACK_CLAIM (io->task_id,
	 * now_us, io->next_at_us the lease end; -ESTALE), CALLBACK_RETRY
	 * (task_id, next_at_us, last_error), CALLBACK_SETTLE (task_id, state,
	 * last_error, delivered_at_us), CALLBACK_GET (task_id; io filled, or
	 * -ENOENT). */
	int (*callback_run)(struct store *store, enum store_sql which, struct store_callback *io,
			    int64_t now_us, int64_t limit, struct store_callback_list *list,
			    struct error *err);
	/* The cluster's policy (store_policy.h): POLICY_PUSH (text, by,
	 * expected, out->sha256 in; out->generation and pushed_at_us out, or
	 * -ESTALE when no row was inserted), POLICY_GENERATION
	 * (out->generation, 0 = none), POLICY_LATEST (out filled; -ENOENT). */
	int (*policy_run)(struct store *store, enum store_sql which, const char *text, const char *by,
			  int64_t expected, struct store_policy *out, struct error *err);
	/* POLICY_NODE_SET (in: one node's row), POLICY_NODES (list filled). */
	int (*policy_node_run)(struct store *store, enum store_sql which, const struct store_policy_node *in,
			       struct store_policy_node_list *list, struct error *err);
	/* A task's files (store_files.h): FILES_PUT (f), FILES_CHUNK_PUT
	 * (f->name, chunk, data = base64 text, n = its raw bytes, counted in
	 * the task's stored_bytes), FILES_LIST (list), FILES_CHUNK_GET
	 * (f->name, chunk; *out, or -ENOENT).  kind: "input", ... */
	int (*files_run)(struct store *store, enum store_sql which, int64_t task_id, const char *kind,
			 const struct store_file *f, int64_t chunk, const char *data, int64_t n,
			 struct store_file_list *list, char **out, struct error *err);
	/* Artifact retention (store_files_expire_artifacts), one transaction. */
	int (*files_expire)(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
			    int64_t *bytes, size_t *tasks, struct error *err);
	/* The files of one kind of a task removed (store_files_drop), one
	 * transaction; *bytes = what they held. */
	int (*files_drop)(struct store *store, int64_t task_id, const char *kind, int64_t *bytes,
			  struct error *err);
	/* Staged uploads (store_upload.h), each write one transaction:
	 * UPLOAD_BEGIN, UPLOAD_GET (-ENOENT), UPLOAD_CHUNK_PUT (advance, then
	 * the chunk; -ESTALE), UPLOAD_CHUNK_GET (-ENOENT), UPLOAD_SEAL,
	 * UPLOAD_STAGED, UPLOAD_TAKE_CHUNKS (the whole take: -ENOENT, -EBUSY),
	 * UPLOAD_DROP (chunks and row), UPLOAD_EXPIRED (the whole expiry). */
	int (*upload_run)(struct store *store, enum store_sql which, struct store_upload_io *io,
			  struct error *err);
};

struct store {
	const struct store_backend *backend;
};

/* A node row (columns in enum store_node_column, store_sql.h) into n,
 * through the backend's column readers; -ENOMEM when a string could not be
 * copied (n is cleared then).  store_node.c. */
struct store_node_row_reader {
	int64_t (*i64)(void *row, int col);
	char *(*dup)(void *row, int col, bool *oom);
	void *row;
};
int store_node_from_row(struct store_node *n, const struct store_node_row_reader *rd);
/* What one statement adds to a node's statistics (STORE_SQL_NODE_COUNT). */
struct store_node_count {
	int64_t started, succeeded, failed, cancelled, lost, cpu_us;
};
/* The count a task's end adds (from a running task only: a queued task
 * that is cancelled ran nowhere; an end whose jail corrald lost, reason
 * supervisor_lost, counts as lost, not failed). */
void store_node_count_end(struct store_node_count *c, enum store_task_state from,
			  const struct store_result *res, int64_t cpu_us);

/* The backends built in (sqlite/store_sqlite.c, postgres/store_pg.c). */
extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

#endif
