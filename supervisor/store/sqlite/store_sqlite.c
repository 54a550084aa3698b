/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/sqlite/store_sqlite.c — the SQLite backend of the store: opening the
 * connection (WAL, synchronous=FULL, foreign keys, busy timeout), error
 * mapping, statement binding, transactions and group-commit batches.
 * State changes are in store_sqlite_write.c, reads in store_sqlite_read.c,
 * the schema in store_sqlite_schema.c, the statement texts in store_sql.c;
 * store_sqlite_backend at the end of this file is the table store.c calls.
 *
 * Every state change is one transaction that also appends the event it
 * records: BEGIN IMMEDIATE ... COMMIT on its own, or SAVEPOINT ... RELEASE
 * inside a caller's batch, so one failing operation is undone alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/store/sqlite/store_sqlite.h"

/* ---- errors ---------------------------------------------------------- */

static int errno_from_sqlite(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_IOERR:
		return sys == ENOSPC || sys == EDQUOT ? sys : EIO;
	case SQLITE_CANTOPEN:
		return sys ? sys : ENOENT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_READONLY:
		return EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_TOOBIG:
		return E2BIG;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EUCLEAN;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return EINVAL;
	default:
		return EIO;
	}
}

int store_sqlite_fail(struct store_sqlite *store, int rc, struct error *err, const char *step,
		      const char *fmt, ...)
{
	sqlite3 *db = store ? store->db : NULL;
	int errnum = errno_from_sqlite(db, rc);

	if (err) {
		char what[200];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		err->err = errnum;
		snprintf(err->step, sizeof(err->step), "%s", step);
		snprintf(err->message, sizeof(err->message), "%s: %s (%s)", what,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), strerror(errnum));
	}
	return -errnum;
}

/* ---- statements -------------------------------------------------------- */

void store_sqlite_stmt_start(struct store_sqlite *store, enum store_sql which, struct store_sqlite_binder *b)
{
	b->store = store;
	b->which = which;
	b->stmt = store->stmt[which];
	b->rc = SQLITE_OK;
}

static int param(struct store_sqlite_binder *b, int n)
{
	int index = n > 0 && n <= STORE_SQL_MAX_PARAMS ? b->store->param_index[b->which][n] : 0;

	if (b->rc == SQLITE_OK && index == 0)
		b->rc = SQLITE_RANGE;
	return b->rc == SQLITE_OK ? index : 0;
}

void store_sqlite_bind_i64(struct store_sqlite_binder *b, int n, int64_t value)
{
	int index = param(b, n);

	if (index)
		b->rc = sqlite3_bind_int64(b->stmt, index, value);
}

void store_sqlite_bind_opt_i64(struct store_sqlite_binder *b, int n, int64_t value, int64_t none)
{
	int index = param(b, n);

	if (index)
		b->rc = value == none ? sqlite3_bind_null(b->stmt, index)
				      : sqlite3_bind_int64(b->stmt, index, value);
}

/* SQLITE_STATIC: store_sqlite_stmt_done() clears the bindings before the
 * caller's strings can go away. */
void store_sqlite_bind_text(struct store_sqlite_binder *b, int n, const char *value)
{
	int index = param(b, n);

	if (index)
		b->rc = value ? sqlite3_bind_text(b->stmt, index, value, -1, SQLITE_STATIC)
			      : sqlite3_bind_null(b->stmt, index);
}

int store_sqlite_stmt_step(struct store_sqlite_binder *b)
{
	if (b->rc != SQLITE_OK)
		return b->rc;
	return sqlite3_step(b->stmt);
}

void store_sqlite_stmt_done(struct store_sqlite_binder *b)
{
	sqlite3_reset(b->stmt);
	sqlite3_clear_bindings(b->stmt);
}

int store_sqlite_stmt_exec(struct store_sqlite_binder *b, int *changes)
{
	int rc = store_sqlite_stmt_step(b);

	if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
		if (changes)
			*changes = sqlite3_changes(b->store->db);
	}
	store_sqlite_stmt_done(b);
	return rc;
}

static int prepare_all(struct store_sqlite *store, struct error *err)
{
	for (int s = 0; s < STORE_SQL_COUNT; s++) {
		int rc = sqlite3_prepare_v3(store->db, store_sql_text[s], -1, SQLITE_PREPARE_PERSISTENT,
					    &store->stmt[s], NULL);
		int count;

		if (rc != SQLITE_OK)
			return store_sqlite_fail(store, rc, err, "prepare", "prepare statement %d", s);
		count = sqlite3_bind_parameter_count(store->stmt[s]);
		for (int i = 1; i <= count; i++) {
			const char *name = sqlite3_bind_parameter_name(store->stmt[s], i);
			int n = name && name[0] == '$' ? atoi(name + 1) : 0;

			if (n < 1 || n > STORE_SQL_MAX_PARAMS)
				return error_set(err, EINVAL, "prepare",
						 "statement %d: parameter %s is not $1..$%d", s,
						 name ? name : "?", STORE_SQL_MAX_PARAMS);
			store->param_index[s][n] = (unsigned char)i;
		}
	}
	return 0;
}

/* ---- transactions -------------------------------------------------------- */

static int exec_sql(struct store_sqlite *store, const char *sql, struct error *err)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(store, rc, err, "transaction", "%s on %s", sql, store->path);
	return 0;
}

int store_sqlite_tx_begin(struct store_sqlite *store, struct error *err)
{
	if (!store->in_batch)
		return exec_sql(store, "BEGIN IMMEDIATE", err);
	if (store->batch_error) {
		if (err)
			*err = store->batch_cause;
		return store->batch_error;
	}
	return exec_sql(store, "SAVEPOINT store_op", err);
}

int store_sqlite_tx_end(struct store_sqlite *store, int r, struct error *err)
{
	bool open = !sqlite3_get_autocommit(store->db);

	if (r >= 0) {
		r = exec_sql(store, store->in_batch ? "RELEASE store_op" : "COMMIT", err);
		if (r >= 0)
			return 0;
		open = !sqlite3_get_autocommit(store->db);
	}
	if (!store->in_batch) {
		if (open)
			sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	} else if (open) {
		sqlite3_exec(store->db, "ROLLBACK TO store_op", NULL, NULL, NULL);
		sqlite3_exec(store->db, "RELEASE store_op", NULL, NULL, NULL);
	} else {
		/* SQLite dropped the whole transaction (disk full, I/O error):
		 * the batch is lost and its commit must say so. */
		store->batch_error = r;
		if (err)
			store->batch_cause = *err;
		else
			error_set(&store->batch_cause, r, "batch", "batch on %s was rolled back",
				  store->path);
	}
	return r;
}

static int batch_begin(struct store *base, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r;

	if (store->in_batch)
		return error_set(err, EALREADY, "batch", "a batch is already open on %s", store->path);
	r = exec_sql(store, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	store->in_batch = true;
	store->batch_error = 0;
	return 0;
}

static int batch_commit(struct store *base, struct error *err)
{
	struct store_sqlite *store = store_sqlite_of(base);
	int r;

	if (!store->in_batch)
		return error_set(err, EINVAL, "batch", "no batch is open on %s", store->path);
	store->in_batch = false;
	if (store->batch_error) {
		if (err)
			*err = store->batch_cause;
		if (!sqlite3_get_autocommit(store->db))
			sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
		return store->batch_error;
	}
	r = exec_sql(store, "COMMIT", err);
	if (r < 0 && !sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static void batch_abort_sqlite(struct store_sqlite *store)
{
	if (!store->in_batch)
		return;
	store->in_batch = false;
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

static void batch_abort(struct store *base)
{
	batch_abort_sqlite(store_sqlite_of(base));
}

/* ---- open / close ------------------------------------------------------- */

static int pragma(struct store_sqlite *store, const char *sql, char *result, size_t size, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL);

	if (result && size)
		result[0] = '\0';
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW && result && size && sqlite3_column_text(stmt, 0))
			snprintf(result, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(store, rc, err, "configure", "%s on %s", sql, store->path);
	return 0;
}

static int configure(struct store_sqlite *store, const struct store_options *opts, struct error *err)
{
	char value[64];
	int r;

	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000);
	r = pragma(store, "PRAGMA journal_mode = WAL", value, sizeof(value), err);
	if (r < 0)
		return r;
	if (strcmp(value, "wal") != 0)
		return error_set(err, ENOTSUP, "configure",
				 "%s: cannot switch to WAL journal mode (still '%s')", store->path, value);
	r = pragma(store, opts->unsafe_no_sync ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = FULL",
		   NULL, 0, err);
	if (r < 0)
		return r;
	r = pragma(store, "PRAGMA foreign_keys = ON", NULL, 0, err);
	if (r < 0)
		return r;
	if (opts->max_size_bytes > 0) {
		char sql[80];

		r = pragma(store, "PRAGMA page_size", value, sizeof(value), err);
		if (r < 0)
			return r;
		snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
			 (long long)(opts->max_size_bytes / (atoll(value) > 0 ? atoll(value) : 4096)));
		r = pragma(store, sql, NULL, 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int sync_parent_dir(const char *path, struct error *err)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return error_set(err, ENOMEM, "open", "open database %s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = error_set(err, errno, "open", "sync directory of new database %s", path);
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

static void close_sqlite(struct store_sqlite *store);

/* exclusive: one writer at a time (corrald, corral store migrate), whatever
 * state dir it runs on: <path>.lock next to the database, flocked until
 * close.  A corrald killed a moment ago may hold it for a few ms more (its
 * children before they exec): try for a second. */
static int lock_database(struct store_sqlite *store, const char *path, struct error *err)
{
	char lock[4200];

	snprintf(lock, sizeof(lock), "%.4090s.lock", path);
	store->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (store->lock_fd < 0)
		return error_set(err, errno, "open", "open the database's lock %s", lock);
	for (int tries = 0; flock(store->lock_fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries >= 20)
			return error_set(err, EBUSY, "open",
					 "database %s is in use by another corrald or corral store migrate "
					 "(%s is locked): one writer at a time",
					 path, lock);
		usleep(50000);
	}
	return 0;
}

/* The database holds every tenant's argv, env and usage: it must be a
 * regular file (never a symbolic link someone planted), owned by whoever
 * runs the store (corrald: root), read and written by it alone. */
static int check_file(const char *path, struct error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return errno == ELOOP
			? error_set(err, ELOOP, "open",
				    "database %s is a symbolic link: remove it (corrald creates the "
				    "database itself) or point [supervisor] store at the real file",
				    path)
			: error_set(err, errno, "open", "open database file %s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return error_set(err, e, "open", "stat database file %s", path);
	}
	close(fd);
	if (!S_ISREG(st.st_mode))
		return error_set(err, EPERM, "open", "database %s is not a regular file", path);
	if (st.st_uid != geteuid())
		return error_set(err, EPERM, "open",
				 "database %s belongs to uid %u, not uid %u: someone else could read "
				 "or rewrite it; if it is yours, chown %u %s",
				 path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
	if (st.st_mode & 077)
		return error_set(err, EPERM, "open",
				 "database %s has mode %04o: others could read tenants' env or rewrite "
				 "usage; chmod 600 %s",
				 path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

/* path: a plain path, or what followed sqlite: (store.c); opts not NULL. */
static int open_sqlite(const char *path, const struct store_options *opts, struct store **out,
		       struct error *err)
{
	struct store_sqlite *store = NULL;
	int fd, rc, r;

	*out = NULL;
	if (!path || !path[0])
		return error_set(err, EINVAL, "open", "open store: empty database path");
	/* Create it ourselves, 0600: it holds every user's argv and env, and
	 * SQLite gives its -wal and -shm files the same mode.  A new file's
	 * directory entry is synced too, or power loss could lose the file. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		r = sync_parent_dir(path, err);
		if (r < 0)
			return r;
	} else if (errno != EEXIST) {
		return error_set(err, errno, "open", "create database file %s", path);
	}
	r = check_file(path, err);
	if (r < 0)
		return r;

	store = calloc(1, sizeof(*store));
	if (!store || !(store->path = strdup(path))) {
		free(store);
		return error_set(err, ENOMEM, "open", "open store %s", path);
	}
	store->base.backend = &store_sqlite_backend;
	store->lock_fd = -1;
	if (opts->exclusive) {
		r = lock_database(store, path, err);
		if (r < 0)
			goto fail;
	}
	rc = sqlite3_open_v2(path, &store->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		r = store_sqlite_fail(store, rc, err, "open", "open database %s", path);
		goto fail;
	}
	r = configure(store, opts, err);
	if (r < 0)
		goto fail;
	r = store_sqlite_node_register_clock(store, err);
	if (r < 0)
		goto fail;
	r = store_sqlite_schema_migrate(store, err);
	if (r < 0)
		goto fail;
	r = prepare_all(store, err);
	if (r < 0)
		goto fail;
	*out = &store->base;
	return 0;
fail:
	close_sqlite(store);
	return r;
}

static void close_sqlite(struct store_sqlite *store)
{
	if (!store)
		return;
	batch_abort_sqlite(store);
	for (int s = 0; s < STORE_SQL_COUNT; s++)
		sqlite3_finalize(store->stmt[s]);
	sqlite3_close(store->db);
	if (store->lock_fd >= 0)
		close(store->lock_fd);
	free(store->node);
	free(store->path);
	free(store);
}

static void close_store(struct store *base)
{
	close_sqlite(store_sqlite_of(base));
}

static int schema_version(struct store *base)
{
	return store_sqlite_of(base)->schema_version;
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = open_sqlite,
	.close = close_store,
	.schema_version = schema_version,
	.batch_begin = batch_begin,
	.batch_commit = batch_commit,
	.batch_abort = batch_abort,
	.submit = store_sqlite_write_submit,
	.mark_running = store_sqlite_write_mark_running,
	.requeue = store_sqlite_write_requeue,
	.charge = store_sqlite_write_charge,
	.finish = store_sqlite_write_finish,
	.cancel_queued = store_sqlite_write_cancel_queued,
	.request_cancel = store_sqlite_write_request_cancel,
	.event_append = store_sqlite_write_event_append,
	.get_task = store_sqlite_read_get_task,
	.load_queued = store_sqlite_read_load_queued,
	.load_running = store_sqlite_read_load_running,
	.list_tasks = store_sqlite_read_list_tasks,
	.storage_by_user = store_sqlite_storage_by_user,
	.purge_ended = store_sqlite_storage_purge_ended,
	.count_queued = store_sqlite_read_count_queued,
	.usage_get = store_sqlite_read_usage_get,
	.usage_month = store_sqlite_read_usage_month,
	.list_events = store_sqlite_read_list_events,
	.usage_adjust = store_sqlite_write_usage_adjust,
	.usage_adjust_sum = store_sqlite_read_usage_adjust_sum,
	.usage_adjustments = store_sqlite_read_usage_adjustments,
	.node_join = store_sqlite_node_join,
	.node_heartbeat = store_sqlite_node_heartbeat,
	.node_leave = store_sqlite_node_leave,
	.node_list = store_sqlite_node_list,
	.node_set_draining = store_sqlite_node_set_draining,
	.leader_run = store_sqlite_node_leader,
	.cluster_tasks = store_sqlite_cluster_tasks,
	.cluster_live = store_sqlite_cluster_live,
	.cluster_live_fold = store_sqlite_cluster_live_fold,
	.cluster_queue_ids = store_sqlite_cluster_queue_ids,
	.cluster_assign_many = store_sqlite_cluster_assign_many,
	.token_run = store_sqlite_token_run,
	.tenant_run = store_sqlite_tenant_run,
	.callback_run = store_sqlite_callback_run,
	.policy_run = store_sqlite_policy_run,
	.policy_node_run = store_sqlite_policy_node_run,
	.files_run = store_sqlite_files_run,
	.files_expire = store_sqlite_files_expire,
	.files_drop = store_sqlite_files_drop,
	.upload_run = store_sqlite_upload_run,
};
