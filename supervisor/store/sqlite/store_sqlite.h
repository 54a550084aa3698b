/*
 * supervisor/store/sqlite/store_sqlite.h — internal to the SQLite backend of the store:
 * the connection struct and the helpers its files share.  Callers include
 * supervisor/store/store.h, never this.
 */
#ifndef CORRAL_SUPERVISOR_STORE_SQLITE_H
#define CORRAL_SUPERVISOR_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/store/store.h"
#include "supervisor/store/store_sql.h"

/* The newest schema this code knows (see store_sqlite_schema.c). */
#define STORE_SCHEMA_VERSION 1

struct store {
	sqlite3 *db;
	char *path;
	int schema_version;
	sqlite3_stmt *stmt[STORE_SQL_COUNT];
	/* param_index[s][n] = SQLite's index of "$n" in statement s (0 = absent) */
	unsigned char param_index[STORE_SQL_COUNT][STORE_SQL_MAX_PARAMS + 1];
	bool in_batch;
	int batch_error;                /* -errno that dropped the batch, 0 = none */
	struct error batch_cause;
};

/* Map a failed SQLite call (rc) to -errno and fill err with
 * "<what>: <sqlite message>".  SQLITE_FULL -> -ENOSPC, SQLITE_IOERR -> -EIO. */
int store_sqlite_fail(struct store *store, int rc, struct error *err, const char *step,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Binding and running one prepared statement:
 *   store_stmt_start(store, STORE_SQL_X, &b); store_bind_*(&b, n, ...);
 *   rc = store_stmt_step(&b) (repeat while SQLITE_ROW); store_stmt_done(&b);
 * A failed bind is kept in b.rc and returned by store_stmt_step(). */
struct store_binder {
	struct store *store;
	enum store_sql which;
	sqlite3_stmt *stmt;
	int rc;
};
void store_stmt_start(struct store *store, enum store_sql which, struct store_binder *b);
void store_bind_i64(struct store_binder *b, int n, int64_t value);
/* Binds NULL when value == none. */
void store_bind_opt_i64(struct store_binder *b, int n, int64_t value, int64_t none);
/* Binds NULL for a NULL string. */
void store_bind_text(struct store_binder *b, int n, const char *value);
int store_stmt_step(struct store_binder *b);
void store_stmt_done(struct store_binder *b);
/* Step a statement that returns no rows to the end, then done; *changes
 * (may be NULL) = rows it changed.  Returns SQLITE_OK or the error. */
int store_stmt_exec(struct store_binder *b, int *changes);

/* One transaction per state change: BEGIN IMMEDIATE, or a SAVEPOINT inside
 * an open batch.  store_tx_end() commits when r >= 0 and rolls back
 * otherwise; it returns r, or the commit's error. */
int store_tx_begin(struct store *store, struct error *err);
int store_tx_end(struct store *store, int r, struct error *err);

/* Bring the schema up to STORE_SCHEMA_VERSION in one transaction, or refuse
 * a newer or foreign database.  Sets store->schema_version. */
int store_sqlite_migrate(struct store *store, struct error *err);

#endif
