/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_sql.h — internal to the store backends: every data
 * statement the store runs, in one place, in portable SQL.
 *
 * Portable means: parameters are $1..$n (SQLite reads them as named
 * parameters, PostgreSQL natively), INSERT ... RETURNING, INSERT ... ON
 * CONFLICT ... DO UPDATE, no SQLite-only functions, times are BIGINT epoch
 * microseconds, flags are INTEGER 0/1, no column is named with a reserved
 * word (user -> user_name), the database's clock is corral_now_us() (a
 * function each backend defines: store_node.h).  Transaction control and DDL differ by backend
 * and live with the backend (store_sqlite.c, store_sqlite_schema.c).
 */
#ifndef CORRAL_SUPERVISOR_STORE_SQL_H
#define CORRAL_SUPERVISOR_STORE_SQL_H

enum store_sql {
	STORE_SQL_SUBMIT,
	STORE_SQL_EVENT_APPEND,
	STORE_SQL_GET_TASK,
	STORE_SQL_LOAD_STATE,
	STORE_SQL_TASK_CURSOR,
	STORE_SQL_MARK_RUNNING,
	STORE_SQL_REQUEUE,
	STORE_SQL_CHARGE_CURSOR,
	STORE_SQL_USAGE_ADD,
	STORE_SQL_FINISH,
	STORE_SQL_CANCEL_QUEUED,
	STORE_SQL_REQUEST_CANCEL,
	STORE_SQL_LIST_ALL,
	STORE_SQL_LIST_USER,
	STORE_SQL_LIST_STATE,
	STORE_SQL_LIST_USER_STATE,
	STORE_SQL_USAGE_GET,
	STORE_SQL_USAGE_MONTH,
	STORE_SQL_COUNT_QUEUED,
	STORE_SQL_EVENTS,
	STORE_SQL_ADJUST_INSERT,
	STORE_SQL_ADJUST_SUM,
	STORE_SQL_ADJUST_LIST_USER,
	STORE_SQL_ADJUST_LIST_MONTH,
	STORE_SQL_NODE_JOIN,
	STORE_SQL_NODE_HEARTBEAT,
	STORE_SQL_NODE_LEAVE,
	STORE_SQL_NODE_LIST,
	STORE_SQL_NODE_DRAIN,
	STORE_SQL_NODE_COUNT,
	STORE_SQL_LEADER_ACQUIRE,
	STORE_SQL_LEADER_GET,
	STORE_SQL_LEADER_RESIGN,
	STORE_SQL_STORED_BY_USER,
	STORE_SQL_PURGE_SELECT,
	STORE_SQL_PURGE_EVENTS,
	STORE_SQL_PURGE_TASK,
	STORE_SQL_TOKEN_INSERT,
	STORE_SQL_TOKEN_USE,
	STORE_SQL_TOKEN_TOUCH,
	STORE_SQL_TOKEN_LIST,
	STORE_SQL_TOKEN_REVOKE,
	STORE_SQL_IDEMPOTENCY_GET,
	STORE_SQL_IDEMPOTENCY_PUT,
	/* the cluster (store_cluster.h; PostgreSQL only) */
	STORE_SQL_CLUSTER_ASSIGN,
	STORE_SQL_CLUSTER_RENEW,
	STORE_SQL_CLUSTER_ADOPT,
	STORE_SQL_CLUSTER_LIVE_USERS,
	STORE_SQL_CLUSTER_LIVE_NODES,
	STORE_SQL_CLUSTER_FOLD_USERS,
	STORE_SQL_CLUSTER_FOLD_NODES,
	STORE_SQL_CLUSTER_FOLD_CLEAR,
	STORE_SQL_CLUSTER_FOLD_PRUNE_USERS,
	STORE_SQL_CLUSTER_FOLD_PRUNE_NODES,
	STORE_SQL_CLUSTER_QUEUE,
	STORE_SQL_CLUSTER_EXPIRED,
	STORE_SQL_CLUSTER_STALE,
	STORE_SQL_CLUSTER_UNASSIGN,
	STORE_SQL_CLUSTER_LOAD_RUNNING,
	STORE_SQL_CLUSTER_RELEASE,
	STORE_SQL_CLUSTER_QUEUE_AFTER,
	STORE_SQL_CLUSTER_QUEUE_ROW,
	STORE_SQL_CLUSTER_QUEUE_COUNT,
	STORE_SQL_CLUSTER_QUEUE_IDS,
	STORE_SQL_CLUSTER_LEADER_HOLDS,
	STORE_SQL_OUTPUT_APPEND,
	STORE_SQL_OUTPUT_READ,
	STORE_SQL_OUTPUT_SIZE,
	STORE_SQL_PURGE_OUTPUT,
	STORE_SQL_OUTPUT_RESET,
	STORE_SQL_TENANT_PUT,
	STORE_SQL_TENANT_DELETE,
	STORE_SQL_TENANT_LIST,
	STORE_SQL_TENANT_AUDIT_INSERT,
	STORE_SQL_TENANT_AUDIT_LIST,
	STORE_SQL_CALLBACK_ADD,
	STORE_SQL_CALLBACK_DUE,
	STORE_SQL_CALLBACK_CLAIM,
	STORE_SQL_CALLBACK_RETRY,
	STORE_SQL_CALLBACK_SETTLE,
	STORE_SQL_CALLBACK_GET,
	STORE_SQL_CALLBACK_PURGE,
	/* the cluster's policy generations (store_policy.h) */
	STORE_SQL_POLICY_PUSH,
	STORE_SQL_POLICY_GENERATION,
	STORE_SQL_POLICY_LATEST,
	STORE_SQL_POLICY_NODE_SET,
	STORE_SQL_POLICY_NODES,
	STORE_SQL_FILES_PUT,
	STORE_SQL_FILES_CHUNK_PUT,
	STORE_SQL_FILES_COUNT,
	STORE_SQL_FILES_LIST,
	STORE_SQL_FILES_CHUNK_GET,
	STORE_SQL_FILES_PURGE,
	STORE_SQL_FILES_PURGE_CHUNKS,
	STORE_SQL_FILES_EXPIRED,
	STORE_SQL_FILES_DROP_ARTIFACTS,
	STORE_SQL_FILES_DROP_ARTIFACT_CHUNKS,
	STORE_SQL_FILES_KIND_BYTES,
	STORE_SQL_FILES_DROP_KIND,
	STORE_SQL_FILES_DROP_KIND_CHUNKS,
	/* staged uploads (store_upload.h) */
	STORE_SQL_UPLOAD_BEGIN,
	STORE_SQL_UPLOAD_GET,
	STORE_SQL_UPLOAD_ADVANCE,
	STORE_SQL_UPLOAD_CHUNK_PUT,
	STORE_SQL_UPLOAD_CHUNK_GET,
	STORE_SQL_UPLOAD_SEAL,
	STORE_SQL_UPLOAD_STAGED,
	STORE_SQL_UPLOAD_TAKE_CHUNKS,
	STORE_SQL_UPLOAD_DROP_CHUNKS,
	STORE_SQL_UPLOAD_DROP,
	STORE_SQL_UPLOAD_EXPIRED,
	STORE_SQL_COUNT
};

/* Schema 16's tables of the live load and their first rows, the same on
 * both backends (each adds its triggers; store_cluster_live_fold):
 * live_delta, one row per change of what a task with a lease holds;
 * live_users and live_nodes, the deltas folded per tenant and per node.
 * Part of migration 16 of both: never edit. */
#define STORE_SQL_LIVE_TABLES                                                                 \
	"CREATE TABLE live_delta ("                                                           \
	"  user_name TEXT NOT NULL,"                                                          \
	"  node_name TEXT NOT NULL,"                                                          \
	"  n INTEGER NOT NULL,"                                                               \
	"  cpu_reserved_us BIGINT NOT NULL,"                                                  \
	"  memory_bytes BIGINT NOT NULL,"                                                     \
	"  gpus INTEGER NOT NULL,"                                                            \
	"  cpu_millis BIGINT NOT NULL"                                                        \
	");"                                                                                  \
	"CREATE TABLE live_users ("                                                           \
	"  user_name TEXT PRIMARY KEY,"                                                       \
	"  n INTEGER NOT NULL,"                                                               \
	"  cpu_reserved_us BIGINT NOT NULL"                                                   \
	");"                                                                                  \
	"CREATE TABLE live_nodes ("                                                           \
	"  node_name TEXT PRIMARY KEY,"                                                       \
	"  n INTEGER NOT NULL,"                                                               \
	"  memory_bytes BIGINT NOT NULL,"                                                     \
	"  gpus INTEGER NOT NULL,"                                                            \
	"  cpu_millis BIGINT NOT NULL"                                                        \
	");"                                                                                  \
	"INSERT INTO live_users SELECT user_name, COUNT(*), SUM(cpu_reserved_us) FROM tasks " \
	"  WHERE lease_owner IS NOT NULL GROUP BY user_name;"                                 \
	"INSERT INTO live_nodes SELECT COALESCE(node_name, ''), COUNT(*), "                   \
	"  SUM(assigned_memory_bytes), SUM(gpus), SUM(cpu_millis) FROM tasks "                \
	"  WHERE lease_owner IS NOT NULL GROUP BY COALESCE(node_name, '');"

/* Schema 17, both backends: the live load counted again from the tasks,
 * as correction deltas (what the tasks hold minus what the view says; only
 * inserts, so a fold at the same time loses nothing).  Migration 16 filled
 * its rows before its triggers existed: a task changed in between by a
 * node of the old version (in flight at the fill, or committed after its
 * snapshot) was counted wrong for good.  PostgreSQL runs this with the
 * tasks locked against writes (no change between the count and the
 * commit).  The tenants' corrections go on node ''; the nodes' are counted
 * after them (node '' made right too), on tenant '' where they sum to
 * nothing.  Part of migration 17 of both: never edit. */
#define STORE_SQL_LIVE_RECOUNT                                                                        \
	"INSERT INTO live_delta SELECT user_name, '', SUM(n), SUM(cpu_reserved_us), 0, 0, 0 FROM "    \
	"  (SELECT user_name, COUNT(*) AS n, SUM(cpu_reserved_us) AS cpu_reserved_us FROM tasks "     \
	"   WHERE lease_owner IS NOT NULL GROUP BY user_name "                                        \
	"   UNION ALL SELECT user_name, -n, -cpu_reserved_us FROM live_users "                        \
	"   UNION ALL SELECT user_name, -n, -cpu_reserved_us FROM live_delta) AS c "                  \
	"  GROUP BY user_name HAVING SUM(n) <> 0 OR SUM(cpu_reserved_us) <> 0;"                       \
	"INSERT INTO live_delta SELECT '', node_name, SUM(n), 0, SUM(memory_bytes), SUM(gpus), "      \
	"  SUM(cpu_millis) FROM "                                                                     \
	"  (SELECT COALESCE(node_name, '') AS node_name, COUNT(*) AS n, "                             \
	"   SUM(assigned_memory_bytes) AS memory_bytes, SUM(gpus) AS gpus, "                          \
	"   SUM(cpu_millis) AS cpu_millis FROM tasks WHERE lease_owner IS NOT NULL "                  \
	"   GROUP BY COALESCE(node_name, '') "                                                        \
	"   UNION ALL SELECT node_name, -n, -memory_bytes, -gpus, -cpu_millis FROM live_nodes "       \
	"   UNION ALL SELECT node_name, -n, -memory_bytes, -gpus, -cpu_millis FROM live_delta) AS c " \
	"  GROUP BY node_name HAVING SUM(n) <> 0 OR SUM(memory_bytes) <> 0 OR SUM(gpus) <> 0 "        \
	"  OR SUM(cpu_millis) <> 0;"

/* The live load's deltas folded into its rows (store_cluster_live_fold):
 * the rows of `deltas` summed per tenant and per node, added to the row
 * there is (an upsert), in name order (PostgreSQL locks the rows in that
 * order: two folds wait for each other instead of deadlocking).  Both
 * backends (SQLite wants a WHERE before an upsert's GROUP BY). */
#define STORE_SQL_FOLD_USERS(deltas)                                                  \
	"INSERT INTO live_users (user_name, n, cpu_reserved_us) "                     \
	"SELECT user_name, SUM(n), SUM(cpu_reserved_us) FROM " deltas " WHERE 1 = 1 " \
	"GROUP BY user_name ORDER BY user_name "                                      \
	"ON CONFLICT (user_name) DO UPDATE SET n = live_users.n + excluded.n, "       \
	"cpu_reserved_us = live_users.cpu_reserved_us + excluded.cpu_reserved_us"
#define STORE_SQL_FOLD_NODES(deltas)                                                           \
	"INSERT INTO live_nodes (node_name, n, memory_bytes, gpus, cpu_millis) "               \
	"SELECT node_name, SUM(n), SUM(memory_bytes), SUM(gpus), SUM(cpu_millis) FROM " deltas \
	" WHERE 1 = 1 GROUP BY node_name ORDER BY node_name "                                  \
	"ON CONFLICT (node_name) DO UPDATE SET n = live_nodes.n + excluded.n, "                \
	"memory_bytes = live_nodes.memory_bytes + excluded.memory_bytes, "                     \
	"gpus = live_nodes.gpus + excluded.gpus, cpu_millis = live_nodes.cpu_millis + excluded.cpu_millis"

/* The highest $n any statement uses. */
#define STORE_SQL_MAX_PARAMS 19

extern const char *const store_sql_text[STORE_SQL_COUNT];

/* Columns of a task row, in the order the TASK_COLUMNS list selects them. */
enum store_task_column {
	TC_ID,
	TC_USER,
	TC_SUBMITTED_BY_UID,
	TC_PROFILE,
	TC_ARGV,
	TC_ENV,
	TC_CWD,
	TC_STDIN,
	TC_WALL_LIMIT,
	TC_CPU_LIMIT,
	TC_MEMORY_LIMIT,
	TC_STATE,
	TC_REASON,
	TC_MESSAGE,
	TC_EXIT_CODE,
	TC_SIGNAL,
	TC_SUBMITTED_AT,
	TC_STARTED_AT,
	TC_ENDED_AT,
	TC_DEADLINE,
	TC_CPU_RESERVED,
	TC_CPU_CHARGED,
	TC_CHARGED_AT,
	TC_CPU_USER,
	TC_CPU_SYSTEM,
	TC_MEMORY_PEAK,
	TC_STDOUT_BYTES,
	TC_STDERR_BYTES,
	TC_STDOUT_TRUNCATED,
	TC_STDERR_TRUNCATED,
	TC_ATTEMPTS,
	TC_HOST_UID,
	TC_CGROUP,
	TC_CANCEL_REQUESTED,
	TC_CPU_PRIOR,
	TC_LAST_ATTEMPT_ERROR,
	TC_NOT_BEFORE,
	TC_STORED_BYTES,
	TC_GPUS,
	TC_GPU_MEMORY,
	TC_LABELS,
	TC_NODE_NAME,
	TC_LEASE_OWNER,
	TC_ASSIGNED_CAPPED,
	TC_ASSIGNED_MEMORY,
	TC_OOM_KILLS,
	TC_CPU_MILLIS,
	TC_COUNT
};

/* Columns of a node row, in the order NODE_COLUMNS selects them. */
enum store_node_column {
	NC_NAME,
	NC_INCARNATION,
	NC_VERSION,
	NC_LABELS,
	NC_STARTED_AT,
	NC_HEARTBEAT_AGE,
	NC_OFFLINE_AFTER,
	NC_LEFT,
	NC_DRAINING,
	NC_CORES,
	NC_MEMORY,
	NC_SLOTS,
	NC_GPUS,
	NC_GPU_MEMORY,
	NC_RUNNING,
	NC_FREE_SLOTS,
	NC_FREE_MEMORY,
	NC_FREE_GPUS,
	NC_LOAD,
	NC_STARTED,
	NC_SUCCEEDED,
	NC_FAILED,
	NC_CANCELLED,
	NC_LOST,
	NC_CPU_CHARGED,
	NC_FREE_CPU_MILLIS,
	NC_COUNT
};

/* Columns of a token row (TOKEN_USE, TOKEN_LIST). */
enum store_token_column {
	TKC_ID,
	TKC_NAME,
	TKC_TENANT,
	TKC_OPERATOR,
	TKC_HASH,
	TKC_CREATED_AT,
	TKC_LAST_USED_AT,
	TKC_EXPIRES_AT,
	TKC_REVOKED_AT,
	TKC_COUNT
};

/* Columns of a tenant row (TENANT_LIST) and of an audit row (TENANT_AUDIT_LIST). */
enum store_tenant_column {
	TNC_NAME,
	TNC_PLAN,
	TNC_MAX_CONCURRENT,
	TNC_UPDATED_AT,
	TNC_UPDATED_BY,
	TNC_COUNT
};
enum store_tenant_audit_column {
	TAC_ID,
	TAC_TENANT,
	TAC_ACTION,
	TAC_PLAN,
	TAC_MAX_CONCURRENT,
	TAC_BY,
	TAC_BY_UID,
	TAC_AT,
	TAC_COUNT
};

/* Columns of a callback row (CALLBACK_DUE, CALLBACK_GET). */
enum store_callback_column {
	CBC_TASK_ID,
	CBC_URL,
	CBC_STATE,
	CBC_ATTEMPTS,
	CBC_NEXT_AT,
	CBC_LAST_ERROR,
	CBC_DELIVERED_AT,
	CBC_COUNT
};

/* Columns of a policy generation (POLICY_LATEST). */
enum store_policy_column { PGC_GENERATION, PGC_TEXT, PGC_SHA256, PGC_PUSHED_BY, PGC_PUSHED_AT, PGC_COUNT };
/* Columns of a node's policy (POLICY_NODES). */
enum store_policy_node_column { PNC_NODE, PNC_APPLIED, PNC_FAILED, PNC_ERROR, PNC_AT, PNC_COUNT };
/* Columns of a task file row (FILES_LIST). */
enum store_files_column { FLC_NAME, FLC_MODE, FLC_SIZE, FLC_SHA256, FLC_TRUNCATED, FLC_IS_DIR, FLC_COUNT };
/* Columns of an upload row (UPLOAD_GET). */
enum store_upload_column {
	UPC_ID,
	UPC_USER,
	UPC_SIZE,
	UPC_RECEIVED,
	UPC_SHA256,
	UPC_CREATED,
	UPC_EXPIRES,
	UPC_COUNT
};

#endif
