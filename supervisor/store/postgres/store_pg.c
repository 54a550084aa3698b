/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg.c — the PostgreSQL backend of the store
 * (libpq): connecting from a postgresql:// URI (never printing its
 * password), the session settings, statements, transactions and group-commit batches, reconnecting after a
 * lost connection.  Error mapping (SQLSTATE -> -errno) is in store_pg_error.c, state changes in store_pg_write.c, reads in
 * store_pg_read.c, the schema in store_pg_schema.c, the statement texts in
 * store_sql.c (shared with SQLite); store_pg_backend at the end of this file
 * is the table store.c calls.
 *
 * Every state change is one transaction that also appends the event it
 * records: BEGIN ... COMMIT on its own, or SAVEPOINT ... RELEASE inside a
 * caller's batch, so one failing operation is undone alone.  READ
 * COMMITTED: the guarded UPDATEs (state and cursor compare-and-set) and
 * the row lock of store_pg_write.c keep that correct with many writers; a
 * serialization failure or deadlock runs the transaction again (outside a
 * batch) and is -EAGAIN when it keeps failing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* How many times a transaction that lost a serialization race or was a
 * deadlock victim is run in all. */
#define TX_ATTEMPTS 4

static int configure_session(struct store_pg *store, struct error *err);

/* ---- parameters and statements ------------------------------------------ */

void store_pg_params_init(struct store_pg_params *p)
{
	memset(p->value, 0, sizeof(p->value));
}

void store_pg_param_i64(struct store_pg_params *p, int n, int64_t value)
{
	if (n < 1 || n > STORE_SQL_MAX_PARAMS)
		return;
	snprintf(p->buf[n - 1], sizeof(p->buf[n - 1]), "%" PRId64, value);
	p->value[n - 1] = p->buf[n - 1];
}

void store_pg_param_opt_i64(struct store_pg_params *p, int n, int64_t value, int64_t none)
{
	if (value == none) {
		if (n >= 1 && n <= STORE_SQL_MAX_PARAMS)
			p->value[n - 1] = NULL;
		return;
	}
	store_pg_param_i64(p, n, value);
}

void store_pg_param_text(struct store_pg_params *p, int n, const char *value)
{
	if (n >= 1 && n <= STORE_SQL_MAX_PARAMS)
		p->value[n - 1] = value;
}

/* The statement as this backend runs it: the row read before a finish is
 * locked (SQLite's BEGIN IMMEDIATE already holds the only write lock). */
static void statement_text(enum store_sql which, char *out, size_t size)
{
	snprintf(out, size, "%s%s", store_sql_text[which],
		 which == STORE_SQL_TASK_CURSOR ? " FOR UPDATE" : "");
}

/* Prepare which; a $n the text never names (STORE_SQL_LIST_STATE has $1 and
 * $3) is declared text, so PostgreSQL need not infer its type. */
static PGresult *prepare(struct store_pg *store, enum store_sql which)
{
	char name[16], text[2048];
	bool used[STORE_SQL_MAX_PARAMS + 1] = { false };
	Oid types[STORE_SQL_MAX_PARAMS] = { 0 };
	int highest = 0;
	PGresult *res;

	statement_text(which, text, sizeof(text));
	for (const char *s = strchr(text, '$'); s; s = strchr(s + 1, '$')) {
		int n = atoi(s + 1);

		if (n >= 1 && n <= STORE_SQL_MAX_PARAMS) {
			used[n] = true;
			highest = n > highest ? n : highest;
		}
	}
	for (int n = 1; n <= highest; n++)
		types[n - 1] = used[n] ? 0 : 25 /* TEXTOID */;
	snprintf(name, sizeof(name), "s%d", (int)which);
	res = PQprepare(store->conn, name, text, highest, types);
	if (store_pg_ok(res)) {
		store->prepared[which] = true;
		store->nparams[which] = highest;
	}
	return res;
}

PGresult *store_pg_query(struct store_pg *store, enum store_sql which, const struct store_pg_params *p)
{
	char name[16];

	/* A read outside any transaction after the connection was lost. */
	if (!store->in_tx && !store->in_batch && PQstatus(store->conn) != CONNECTION_OK) {
		PQreset(store->conn);
		if (PQstatus(store->conn) == CONNECTION_OK)
			configure_session(store, NULL);
	}
	if (!store->prepared[which]) {
		PGresult *res = prepare(store, which);

		if (!store_pg_ok(res))
			return res;
		PQclear(res);
	}
	snprintf(name, sizeof(name), "s%d", (int)which);
	return PQexecPrepared(store->conn, name, store->nparams[which], p ? p->value : NULL, NULL, NULL, 0);
}

bool store_pg_ok(const PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int store_pg_changes(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n && n[0] ? atoi(n) : 0;
}

int64_t store_pg_i64(const PGresult *res, int row, int col, int64_t none)
{
	if (PQgetisnull(res, row, col))
		return none;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

char *store_pg_dup(const PGresult *res, int row, int col, bool *oom)
{
	char *copy;

	if (PQgetisnull(res, row, col))
		return NULL;
	copy = strdup(PQgetvalue(res, row, col));
	if (!copy)
		*oom = true;
	return copy;
}

int store_pg_exec(struct store_pg *store, const char *sql, struct error *err, const char *step)
{
	PGresult *res = PQexec(store->conn, sql);

	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, step, "%s", sql);
	PQclear(res);
	return 0;
}

/* ---- connection ------------------------------------------------------------ */

/* libpq prints NOTICEs to stderr by default: the store keeps quiet. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* One corrald per database until the cluster mode: a session advisory lock
 * that lives as long as the connection (taken again after a reconnect; a
 * corrald that lost it to another one stops writing: every call fails). */
#define STORE_PG_EXCLUSIVE_LOCK "7242130002"

static int lock_exclusive(struct store_pg *store, struct error *err)
{
	PGresult *res = PQexec(store->conn, "SELECT pg_try_advisory_lock(" STORE_PG_EXCLUSIVE_LOCK ")");
	bool got;

	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "lock", "lock the database for this corrald");
	got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!got)
		return error_set(err, EBUSY, "lock",
				 "another corrald already uses the database %s (one corrald per database: "
				 "many nodes on one database come with the cluster mode)",
				 store->where);
	return 0;
}

static int configure_session(struct store_pg *store, struct error *err)
{
	char sql[256];
	int r;

	PQsetNoticeProcessor(store->conn, ignore_notice, NULL);
	store->conn_gen++;
	snprintf(sql, sizeof(sql),
		 "SET search_path = corral; SET client_min_messages = warning; "
		 "SET lock_timeout = %d; SET synchronous_commit = %s; "
		 /* a frozen node (SIGSTOP) in a transaction holds row locks:
		  * the server ends its session, the others go on */
		 "SET idle_in_transaction_session_timeout = %d",
		 store->opts.busy_timeout_ms > 0 ? store->opts.busy_timeout_ms : 5000,
		 store->opts.unsafe_no_sync ? "off" : "on",
		 store->opts.idle_tx_timeout_ms > 0 ? store->opts.idle_tx_timeout_ms : 30000);
	memset(store->prepared, 0, sizeof(store->prepared));
	r = store_pg_exec(store, sql, err, "configure");
	if (r < 0)
		return r;
	if (r == 0 && store->listening)
		r = store_pg_exec(store, "LISTEN corral", err, "listen");
	if (r < 0)
		return r;
	return store->opts.exclusive ? lock_exclusive(store, err) : 0;
}

/* The URI's user, host, port and database for messages, and its password
 * (kept only to scrub it from server messages).  -EINVAL if libpq cannot
 * parse the URI; its message is not echoed (it may quote the password). */
static int describe(struct store_pg *store, struct error *err)
{
	const char *user = "", *host = "", *port = "", *db = "";
	PQconninfoOption *opts = PQconninfoParse(store->uri, NULL);

	if (!opts)
		return error_set(err, EINVAL, "open",
				 "open store postgresql://...: not a valid PostgreSQL connection URI");
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
		else if (strcmp(o->keyword, "password") == 0 && o->val[0])
			store->password = strdup(o->val);
	}
	snprintf(store->where, sizeof(store->where), "postgresql://%s%s%s%s%s/%s", user, user[0] ? "@" : "",
		 host, port[0] ? ":" : "", port, db);
	PQconninfoFree(opts);
	return 0;
}

/* A database that stops answering must not hang corrald's loop for ever:
 * unless the URI says otherwise (its values win), connecting gives up
 * after 5 s, and on TCP a silent peer is found dead within ~15-30 s (TCP
 * keepalives; unacknowledged data for 15 s).  Unix sockets ignore these. */
static const char *const connect_keys[] = { "connect_timeout",  "keepalives",
					    "keepalives_idle",  "keepalives_interval",
					    "keepalives_count", "tcp_user_timeout",
					    "dbname",           NULL };

static int connect_pg(struct store_pg *store, struct error *err)
{
	const char *values[] = { "5", "1", "10", "5", "3", "15000", store->uri, NULL };

	/* expand_dbname: the URI in dbname overrides the defaults before it */
	store->conn = PQconnectdbParams(connect_keys, values, 1);
	if (!store->conn)
		return error_set(err, ENOMEM, "connect", "connect to PostgreSQL %s", store->where);
	if (PQstatus(store->conn) != CONNECTION_OK) {
		char server[300];

		store_pg_error_scrub(store, PQerrorMessage(store->conn), server, sizeof(server));
		return error_set(err, ECONNREFUSED, "connect", "connect to PostgreSQL %s: %s", store->where,
				 server);
	}
	return configure_session(store, err);
}

/* Outside a transaction, a connection found lost (the server restarted) is
 * opened again before the next statement; inside one, the loss is the
 * transaction's error. */
static int reconnect_if_lost(struct store_pg *store, struct error *err)
{
	if (PQstatus(store->conn) == CONNECTION_OK)
		return 0;
	PQreset(store->conn);
	if (PQstatus(store->conn) != CONNECTION_OK) {
		char server[300];

		store_pg_error_scrub(store, PQerrorMessage(store->conn), server, sizeof(server));
		return error_set(err, ECONNREFUSED, "connect", "reconnect to PostgreSQL %s: %s", store->where,
				 server);
	}
	return configure_session(store, err);
}

/* ---- transactions -------------------------------------------------------- */

static void rollback_quietly(struct store_pg *store, const char *sql)
{
	PQclear(PQexec(store->conn, sql));
}

/* A transaction of its own (outside a batch): the connection opened again
 * if it was lost, then begin (BEGIN and the transaction's settings in one
 * round trip); what a failed begin left open is rolled back. */
static int tx_open(struct store_pg *store, const char *begin, struct error *err)
{
	int r = reconnect_if_lost(store, err);

	if (r == 0)
		r = store_pg_exec(store, begin, err, "transaction");
	if (r < 0 && PQstatus(store->conn) == CONNECTION_OK &&
	    PQtransactionStatus(store->conn) != PQTRANS_IDLE)
		rollback_quietly(store, "ROLLBACK");
	store->in_tx = r == 0;
	return r;
}

int store_pg_tx_begin(struct store_pg *store, struct error *err)
{
	if (!store->in_batch)
		return tx_open(store, "BEGIN", err);
	if (store->batch_error) {
		if (err)
			*err = store->batch_cause;
		return store->batch_error;
	}
	return store_pg_exec(store, "SAVEPOINT store_op", err, "transaction");
}

int store_pg_tx_end(struct store_pg *store, int r, struct error *err)
{
	store->in_tx = false;
	if (r >= 0) {
		r = store_pg_exec(store, store->in_batch ? "RELEASE store_op" : "COMMIT", err, "transaction");
		if (r >= 0)
			return 0;
	}
	if (!store->in_batch) {
		if (PQtransactionStatus(store->conn) != PQTRANS_IDLE)
			rollback_quietly(store, "ROLLBACK");
		return r;
	}
	if (PQstatus(store->conn) == CONNECTION_OK) {
		rollback_quietly(store, "ROLLBACK TO SAVEPOINT store_op");
		rollback_quietly(store, "RELEASE store_op");
	}
	if (PQstatus(store->conn) != CONNECTION_OK || PQtransactionStatus(store->conn) != PQTRANS_INTRANS) {
		/* The batch's transaction is gone (connection lost): its commit
		 * must say so. */
		store->batch_error = r;
		if (err)
			store->batch_cause = *err;
		else
			error_set(&store->batch_cause, r, "batch", "batch on %s was rolled back",
				  store->where);
	}
	return r;
}

bool store_pg_tx_again(struct store_pg *store, int r, int attempt)
{
	return r == -EAGAIN && !store->in_batch && attempt + 1 < TX_ATTEMPTS;
}

int store_pg_async_begin(struct store_pg *store, bool *own, struct error *err)
{
	*own = !store->in_tx && !store->in_batch;
	return *own ? tx_open(store, "BEGIN; SET LOCAL synchronous_commit = off", err) : 0;
}

int store_pg_async_end(struct store_pg *store, bool own, int r, struct error *err)
{
	return own ? store_pg_tx_end(store, r, err) : r;
}

static int batch_begin(struct store *base, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	int r;

	if (store->in_batch)
		return error_set(err, EALREADY, "batch", "a batch is already open on %s", store->where);
	r = reconnect_if_lost(store, err);
	if (r < 0)
		return r;
	r = store_pg_exec(store, "BEGIN", err, "batch");
	if (r < 0)
		return r;
	store->in_batch = true;
	store->batch_error = 0;
	return 0;
}

static int batch_commit(struct store *base, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	int r;

	if (!store->in_batch)
		return error_set(err, EINVAL, "batch", "no batch is open on %s", store->where);
	store->in_batch = false;
	if (store->batch_error) {
		if (err)
			*err = store->batch_cause;
		if (PQtransactionStatus(store->conn) != PQTRANS_IDLE)
			rollback_quietly(store, "ROLLBACK");
		return store->batch_error;
	}
	/* a statement of the batch failed outside a savepoint: PostgreSQL
	 * aborted the transaction, and would answer COMMIT with ROLLBACK */
	if (PQtransactionStatus(store->conn) == PQTRANS_INERROR) {
		rollback_quietly(store, "ROLLBACK");
		return error_set(
			err, EIO, "batch",
			"commit on %s: a statement of the batch failed, the whole batch was rolled back",
			store->where);
	}
	r = store_pg_exec(store, "COMMIT", err, "batch");
	if (r < 0 && PQtransactionStatus(store->conn) != PQTRANS_IDLE)
		rollback_quietly(store, "ROLLBACK");
	return r;
}

static void batch_abort_pg(struct store_pg *store)
{
	if (!store->in_batch)
		return;
	store->in_batch = false;
	if (PQtransactionStatus(store->conn) != PQTRANS_IDLE)
		rollback_quietly(store, "ROLLBACK");
}

static void batch_abort(struct store *base)
{
	batch_abort_pg(store_pg_of(base));
}

/* ---- open / close ------------------------------------------------------- */

static void close_pg(struct store_pg *store);

/* uri: the whole postgresql:// or postgres:// URI (store.c); opts not NULL.
 * max_size_bytes has no meaning here (the server's disk is the limit). */
static int open_pg(const char *uri, const struct store_options *opts, struct store **out, struct error *err)
{
	struct store_pg *store = calloc(1, sizeof(*store));
	int r;

	*out = NULL;
	if (!store || !(store->uri = strdup(uri))) {
		free(store);
		return error_set(err, ENOMEM, "open", "open store postgresql://...");
	}
	store->base.backend = &store_pg_backend;
	store->opts = *opts;
	r = describe(store, err);
	if (r < 0)
		goto fail;
	r = connect_pg(store, err);
	if (r < 0)
		goto fail;
	r = store_pg_schema_migrate(store, err);
	if (r < 0)
		goto fail;
	*out = &store->base;
	return 0;
fail:
	close_pg(store);
	return r;
}

static void close_pg(struct store_pg *store)
{
	if (!store)
		return;
	if (store->conn) {
		batch_abort_pg(store);
		PQfinish(store->conn);
	}
	if (store->password) {
		explicit_bzero(store->password, strlen(store->password));
		free(store->password);
	}
	if (store->uri) {
		explicit_bzero(store->uri, strlen(store->uri));
		free(store->uri);
	}
	free(store->node);
	free(store->fence);
	free(store);
}

static void close_store(struct store *base)
{
	close_pg(store_pg_of(base));
}

static int schema_version(struct store *base)
{
	return store_pg_of(base)->schema_version;
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.open = open_pg,
	.close = close_store,
	.schema_version = schema_version,
	.batch_begin = batch_begin,
	.batch_commit = batch_commit,
	.batch_abort = batch_abort,
	.submit = store_pg_write_submit,
	.requeue = store_pg_write_requeue,
	.mark_running = store_pg_write_mark_running,
	.charge = store_pg_write_charge,
	.finish = store_pg_write_finish,
	.cancel_queued = store_pg_write_cancel_queued,
	.request_cancel = store_pg_write_request_cancel,
	.event_append = store_pg_write_event_append,
	.get_task = store_pg_read_get_task,
	.load_queued = store_pg_read_load_queued,
	.load_running = store_pg_read_load_running,
	.list_tasks = store_pg_read_list_tasks,
	.storage_by_user = store_pg_storage_by_user,
	.purge_ended = store_pg_storage_purge_ended,
	.count_queued = store_pg_read_count_queued,
	.usage_get = store_pg_read_usage_get,
	.usage_month = store_pg_read_usage_month,
	.list_events = store_pg_read_list_events,
	.usage_adjust = store_pg_write_usage_adjust,
	.usage_adjust_sum = store_pg_read_usage_adjust_sum,
	.usage_adjustments = store_pg_read_usage_adjustments,
	.node_join = store_pg_node_join,
	.node_heartbeat = store_pg_node_heartbeat,
	.node_leave = store_pg_node_leave,
	.node_list = store_pg_node_list,
	.node_set_draining = store_pg_node_set_draining,
	.leader_run = store_pg_node_leader,
	.token_run = store_pg_token_run,
	.cluster_fence = store_pg_cluster_fence,
	.cluster_assign = store_pg_cluster_assign,
	.cluster_unassign = store_pg_cluster_unassign,
	.cluster_renew = store_pg_cluster_renew,
	.cluster_adopt = store_pg_cluster_adopt,
	.cluster_load_running = store_pg_cluster_load_running,
	.cluster_live = store_pg_cluster_live,
	.cluster_live_fold = store_pg_cluster_live_fold,
	.cluster_tasks = store_pg_cluster_tasks,
	.cluster_queue_ids = store_pg_cluster_queue_ids,
	.cluster_assign_many = store_pg_cluster_assign_many,
	.cluster_analyze = store_pg_cluster_analyze,
	.cluster_output_append = store_pg_cluster_output_append,
	.cluster_output_read = store_pg_cluster_output_read,
	.cluster_wake = store_pg_cluster_wake,
	.cluster_tenant_load = store_pg_sched_tenant_load,
	.cluster_fair_save = store_pg_sched_fair_save,
	.cluster_fair_load = store_pg_sched_fair_load,
	.tenant_run = store_pg_tenant_run,
	.callback_run = store_pg_callback_run,
	.policy_run = store_pg_policy_run,
	.policy_node_run = store_pg_policy_node_run,
	.files_run = store_pg_files_run,
	.files_expire = store_pg_files_expire,
	.files_drop = store_pg_files_drop,
	.upload_run = store_pg_upload_run,
};
