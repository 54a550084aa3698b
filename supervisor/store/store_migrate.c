/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_migrate.c — growing out of one machine: copy a
 * single-host SQLite store into an empty PostgreSQL store, ids kept
 * (store_migrate.h).
 *
 * Both stores are opened exclusive (so a corrald using either refuses to
 * start, and one that runs makes the copy refuse: -EBUSY) and migrated to
 * the same schema version, the SQLite one read in one read transaction, the
 * PostgreSQL one written in one transaction: tasks, usage, the usage
 * adjustments, the events, the API tokens (their hashes), idempotency
 * keys, tenant records and their audit, result webhooks' state and task files, each table streamed with COPY in the column
 * order SQLite reports, then the identity sequences moved past the copied
 * ids.  Before the commit the counts and the charged CPU are compared on
 * both sides; any difference rolls everything back.  Nodes and the leader
 * lease are not copied: they belong to the running corralds.  Nor is the
 * cluster's policy (policy_generations, policy_nodes) or the cluster
 * scheduler's fairness (sched_fair): a single host has none (its file is
 * its policy: `policy push` answers not_clustered there, and only a
 * cluster's scheduler saves passes), and the first node to start on the
 * database pushes its own file's cluster-wide sections as generation 1:
 * start the old host's corrald (its file) first, and its tenants keep
 * their plans.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/store/postgres/store_pg.h"
#include "supervisor/store/sqlite/store_sqlite.h"
#include "supervisor/store/store_migrate.h"

/* In this order: events refer to tasks. */
static const char *const tables[] = { "tasks",      "usage",           "usage_adjustments",
				      "events",     "api_tokens",      "idempotency_keys",
				      "tenants",    "tenant_audit",    "callbacks",
				      "task_files", "task_file_chunks" };
/* Tables with an identity id whose sequence must move past the copy. */
static const char *const with_ids[] = { "tasks", "usage_adjustments", "events", "api_tokens",
					"tenant_audit" };

#define COPY_CHUNK (256u << 10)

struct buf {
	char *data;
	size_t len, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *data;

		while (cap < b->len + n + 1)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

/* A value in COPY's text format: \N for NULL, \\ \n \r \t escaped. */
static int put_value(struct buf *b, sqlite3_stmt *stmt, int col)
{
	const unsigned char *text;
	int n, r = 0;

	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return buf_put(b, "\\N", 2);
	text = sqlite3_column_text(stmt, col);
	n = sqlite3_column_bytes(stmt, col);
	for (int i = 0; i < n && r == 0; i++) {
		switch (text[i]) {
		case '\\':
			r = buf_put(b, "\\\\", 2);
			break;
		case '\n':
			r = buf_put(b, "\\n", 2);
			break;
		case '\r':
			r = buf_put(b, "\\r", 2);
			break;
		case '\t':
			r = buf_put(b, "\\t", 2);
			break;
		default:
			r = buf_put(b, (const char *)text + i, 1);
		}
	}
	return r;
}

/* The columns of table in SQLite, "a, b, c" (malloc'd); NULL on failure. */
static char *columns_of(sqlite3 *db, const char *table)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	struct buf b = { 0 };

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 1);

		if ((b.len && buf_put(&b, ", ", 2) < 0) || buf_put(&b, name, strlen(name)) < 0) {
			free(b.data);
			sqlite3_finalize(stmt);
			return NULL;
		}
	}
	sqlite3_finalize(stmt);
	if (!b.data)
		return NULL;
	b.data[b.len] = '\0';
	return b.data;
}

static int pg_exec(PGconn *conn, const char *sql, struct error *err, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		error_set(err, EIO, "migrate", "%s: %s", what, PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -EIO;
}

/* One number from PostgreSQL. */
static int pg_int(PGconn *conn, const char *sql, int64_t *out, struct error *err)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		error_set(err, EIO, "migrate", "%s: %s", sql, PQerrorMessage(conn));
		PQclear(res);
		return -EIO;
	}
	*out = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static int sqlite_int(sqlite3 *db, const char *sql, int64_t *out, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return error_set(err, EIO, "migrate", "%s: %s", sql, sqlite3_errmsg(db));
	return 0;
}

/* Stream table from SQLite into PostgreSQL with COPY; *rows = rows sent. */
static int copy_table(sqlite3 *db, PGconn *conn, const char *table, int64_t *rows, struct error *err)
{
	char *cols = columns_of(db, table), *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	struct buf b = { 0 };
	PGresult *res;
	int rc, r = 0, ncols;

	*rows = 0;
	if (!cols)
		return error_set(err, EIO, "migrate", "read the columns of %s: %s", table,
				 sqlite3_errmsg(db));
	if (asprintf(&sql, "SELECT %s FROM %s ORDER BY rowid", cols, table) < 0) {
		free(cols);
		return error_set(err, ENOMEM, "migrate", "copy %s", table);
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	free(sql);
	sql = NULL;
	if (rc != SQLITE_OK) {
		free(cols);
		return error_set(err, EIO, "migrate", "read %s: %s", table, sqlite3_errmsg(db));
	}
	if (asprintf(&sql, "COPY %s (%s) FROM STDIN", table, cols) < 0)
		sql = NULL;
	free(cols);
	res = sql ? PQexec(conn, sql) : NULL;
	free(sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		PQclear(res);
		sqlite3_finalize(stmt);
		return error_set(err, EIO, "migrate", "COPY into %s: %s", table, PQerrorMessage(conn));
	}
	PQclear(res);
	ncols = sqlite3_column_count(stmt);
	while (r == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int c = 0; c < ncols && r == 0; c++) {
			if (c)
				r = buf_put(&b, "\t", 1);
			if (r == 0)
				r = put_value(&b, stmt, c);
		}
		if (r == 0)
			r = buf_put(&b, "\n", 1);
		(*rows)++;
		if (r == 0 && b.len >= COPY_CHUNK) {
			if (PQputCopyData(conn, b.data, (int)b.len) != 1)
				r = -EIO;
			b.len = 0;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = error_set(err, EIO, "migrate", "read %s: %s", table, sqlite3_errmsg(db));
	else if (r == -ENOMEM)
		error_set(err, ENOMEM, "migrate", "copy %s", table);
	if (r == 0 && b.len && PQputCopyData(conn, b.data, (int)b.len) != 1)
		r = -EIO;
	sqlite3_finalize(stmt);
	free(b.data);
	if (PQputCopyEnd(conn, r == 0 ? NULL : "migration failed") != 1 && r == 0)
		r = -EIO;
	while ((res = PQgetResult(conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0)
			r = error_set(err, EIO, "migrate", "COPY into %s: %s", table, PQerrorMessage(conn));
		PQclear(res);
	}
	if (r == -EIO && !err->message[0])
		error_set(err, EIO, "migrate", "COPY into %s: %s", table, PQerrorMessage(conn));
	return r;
}

/* Counts and charged CPU on both sides must match. */
static int verify(sqlite3 *db, PGconn *conn, struct store_migrate_counts *out, struct error *err)
{
	static const char *const checks[][2] = {
		{ "tasks", "SELECT COUNT(*) FROM tasks" },
		{ "usage rows", "SELECT COUNT(*) FROM usage" },
		{ "adjustments", "SELECT COUNT(*) FROM usage_adjustments" },
		{ "events", "SELECT COUNT(*) FROM events" },
		{ "charged CPU", "SELECT COALESCE(SUM(cpu_us), 0) FROM usage" },
		{ "task CPU", "SELECT COALESCE(SUM(cpu_charged_us), 0) FROM tasks" },
		{ "API tokens", "SELECT COUNT(*) FROM api_tokens" },
		{ "idempotency keys", "SELECT COUNT(*) FROM idempotency_keys" },
		{ "tenant records", "SELECT COUNT(*) FROM tenants" },
		{ "tenant audit rows", "SELECT COUNT(*) FROM tenant_audit" },
		{ "callbacks", "SELECT COUNT(*) FROM callbacks" },
		{ "task files", "SELECT COUNT(*) FROM task_files" },
		{ "task file chunks", "SELECT COUNT(*) FROM task_file_chunks" },
	};
	int64_t *fields[] = { &out->tasks,  &out->usage,  &out->adjustments,
			      &out->events, &out->cpu_us, NULL,
			      NULL,         NULL,         NULL,
			      NULL,         NULL,         NULL,
			      NULL };

	_Static_assert(sizeof(fields) / sizeof(fields[0]) == sizeof(checks) / sizeof(checks[0]),
		       "one field per check");

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int64_t a = 0, b = 0;
		int r = sqlite_int(db, checks[i][1], &a, err);

		if (r == 0)
			r = pg_int(conn, checks[i][1], &b, err);
		if (r < 0)
			return r;
		if (a != b)
			return error_set(err, EIO, "migrate",
					 "%s differ after the copy: %" PRId64 " in SQLite, %" PRId64
					 " in PostgreSQL; nothing was committed",
					 checks[i][0], a, b);
		if (fields[i])
			*fields[i] = a;
	}
	return 0;
}

static int copy_all(sqlite3 *db, PGconn *conn, struct store_migrate_counts *out, struct error *err)
{
	int64_t rows, present;
	int r;

	r = pg_int(conn,
		   "SELECT (SELECT COUNT(*) FROM tasks) + (SELECT COUNT(*) FROM usage) + "
		   "(SELECT COUNT(*) FROM usage_adjustments) + (SELECT COUNT(*) FROM events) + "
		   "(SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM tenants) + "
		   "(SELECT COUNT(*) FROM tenant_audit)",
		   &present, err);
	if (r < 0)
		return r;
	if (present)
		return error_set(err, ENOTEMPTY, "migrate",
				 "the PostgreSQL store already holds %" PRId64
				 " rows of tasks, usage or events: migrate into an empty database",
				 present);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		r = copy_table(db, conn, tables[i], &rows, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(with_ids) / sizeof(with_ids[0]); i++) {
		char sql[320];

		snprintf(sql, sizeof(sql),
			 "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
			 "COALESCE((SELECT MAX(id) FROM %s), 1), (SELECT MAX(id) FROM %s) IS NOT NULL)",
			 with_ids[i], with_ids[i], with_ids[i]);
		r = pg_exec(conn, sql, err, "move the id sequence past the copied ids");
		if (r < 0)
			return r;
	}
	return verify(db, conn, out, err);
}

int store_migrate(const char *from_uri, const char *to_uri, struct store_migrate_counts *out,
		  struct error *err)
{
	struct store *from = NULL, *to = NULL;
	const struct store_options exclusive = { .exclusive = true };
	const char *backend, *location;
	sqlite3 *db;
	PGconn *conn;
	int r;

	memset(out, 0, sizeof(*out));
	/* opening would create a missing SQLite file: refuse one instead */
	r = store_uri_parse(from_uri, &backend, &location, err);
	if (r < 0)
		return r;
	if (strcmp(backend, "sqlite") != 0)
		return error_set(err, EINVAL, "migrate",
				 "--from must be a SQLite store (a path or sqlite:PATH)");
	if (access(location, R_OK) < 0)
		return error_set(err, errno, "migrate", "read %s", location);
	/* and the target before anything is opened: a wrong --to must not
	 * leave a stray database behind */
	r = store_uri_parse(to_uri, &backend, &location, err);
	if (r < 0)
		return r;
	if (strcmp(backend, "postgresql") != 0)
		return error_set(err, EINVAL, "migrate",
				 "--to must be a PostgreSQL store (postgresql://...)");
	/* both exclusive: refused while a corrald (or another migrate) uses
	 * either, and none can start until the copy is over */
	r = store_open(from_uri, &exclusive, &from, err);
	if (r < 0)
		goto done;
	if (strcmp(from->backend->name, "sqlite") != 0) {
		r = error_set(err, EINVAL, "migrate",
			      "--from must be a SQLite store (a path or sqlite:PATH)");
		goto done;
	}
	r = store_open(to_uri, &exclusive, &to, err);
	if (r < 0)
		goto done;
	if (strcmp(to->backend->name, "postgresql") != 0) {
		r = error_set(err, EINVAL, "migrate", "--to must be a PostgreSQL store (postgresql://...)");
		goto done;
	}
	db = store_sqlite_of(from)->db;
	conn = store_pg_of(to)->conn;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		r = error_set(err, EIO, "migrate", "begin reading %s: %s", from_uri, sqlite3_errmsg(db));
		goto done;
	}
	r = pg_exec(conn, "BEGIN", err, "begin the copy");
	if (r == 0) {
		r = copy_all(db, conn, out, err);
		if (r == 0)
			r = pg_exec(conn, "COMMIT", err, "commit the copy");
		else
			pg_exec(conn, "ROLLBACK", &(struct error){ 0 }, "roll back");
	}
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
	store_close(to);
	store_close(from);
	return r;
}
