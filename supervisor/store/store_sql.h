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
	STORE_SQL_COUNT
};

/* The highest $n any statement uses. */
#define STORE_SQL_MAX_PARAMS 17

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
	NC_COUNT
};

#endif
