/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_sql.h — internal to the store backends: every data
 * statement the store runs, in one place, in portable SQL.
 *
 * Portable means: parameters are $1..$n (SQLite reads them as named
 * parameters, PostgreSQL natively), INSERT ... RETURNING, INSERT ... ON
 * CONFLICT ... DO UPDATE, no SQLite-only functions, times are BIGINT epoch
 * microseconds, flags are INTEGER 0/1, no column is named with a reserved
 * word (user -> user_name).  Transaction control and DDL differ by backend
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
	STORE_SQL_STORED_BY_USER,
	STORE_SQL_PURGE_SELECT,
	STORE_SQL_PURGE_EVENTS,
	STORE_SQL_PURGE_TASK,
	STORE_SQL_COUNT
};

/* The highest $n any statement uses. */
#define STORE_SQL_MAX_PARAMS 18

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
	TC_COUNT
};

#endif
