/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_schema.c — the PostgreSQL schema of the
 * store and its numbered migrations, applied in one transaction under an
 * advisory lock when the store opens (two corralds starting on one
 * database migrate one after the other).
 *
 * Everything lives in the schema "corral".  The tables and columns are
 * SQLite's (so store_sql.c's statements serve both backends) and a schema
 * version means the same data model in both; what differs is PostgreSQL's:
 * BIGINT GENERATED ALWAYS AS IDENTITY ids (monotonic, never reused),
 * CHECK constraints on months and flags, fillfactor for the rows that are
 * updated in place.  Times stay BIGINT epoch microseconds: the interface
 * passes them in from the caller's clock (store.h).  The cluster's own
 * tables (nodes, attempts with leases on DB time, the leader row) come as
 * later migrations beside these.
 *
 * Add a migration: append to migrations[] with the next number and bump
 * STORE_PG_SCHEMA_VERSION.  Never edit a migration that has shipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "supervisor/store/postgres/store_pg.h"

struct migration {
	int version;
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1,
	  "CREATE TABLE schema_version ("
	  "  version INTEGER PRIMARY KEY,"
	  "  applied_at_us BIGINT NOT NULL"
	  ");"
	  /* tasks: updated in place a few times each (start, charges, end) */
	  "CREATE TABLE tasks ("
	  "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	  "  user_name TEXT NOT NULL,"
	  "  submitted_by_uid BIGINT NOT NULL,"
	  "  profile TEXT NOT NULL,"
	  "  argv_json TEXT NOT NULL,"
	  "  env_json TEXT NOT NULL DEFAULT '{}',"
	  "  cwd TEXT,"
	  "  stdin_path TEXT,"
	  "  wall_limit_ms BIGINT NOT NULL DEFAULT 0,"
	  "  cpu_limit_us BIGINT NOT NULL DEFAULT 0,"
	  "  memory_limit_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
	  "    ('queued', 'running', 'succeeded', 'failed', 'cancelled')),"
	  "  reason TEXT CHECK (reason IS NULL OR reason IN"
	  "    ('exit_code', 'signal', 'timeout', 'oom', 'cpu_limit', 'budget', 'output_limit',"
	  "     'cancelled', 'spawn_error', 'supervisor_lost', 'shutdown')),"
	  "  message TEXT,"
	  "  exit_code INTEGER,"
	  "  signal INTEGER,"
	  "  submitted_at_us BIGINT NOT NULL,"
	  "  started_at_us BIGINT,"
	  "  ended_at_us BIGINT,"
	  "  deadline_us BIGINT,"
	  "  cpu_reserved_us BIGINT NOT NULL DEFAULT 0,"
	  "  cpu_charged_us BIGINT NOT NULL DEFAULT 0 CHECK (cpu_charged_us >= 0),"
	  "  charged_at_us BIGINT,"
	  "  cpu_user_us BIGINT NOT NULL DEFAULT 0,"
	  "  cpu_system_us BIGINT NOT NULL DEFAULT 0,"
	  "  memory_peak_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  stdout_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  stderr_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  stdout_truncated INTEGER NOT NULL DEFAULT 0 CHECK (stdout_truncated IN (0, 1)),"
	  "  stderr_truncated INTEGER NOT NULL DEFAULT 0 CHECK (stderr_truncated IN (0, 1)),"
	  "  attempts INTEGER NOT NULL DEFAULT 0,"
	  "  host_uid BIGINT,"
	  "  cgroup TEXT,"
	  "  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1))"
	  ") WITH (fillfactor = 80);"
	  "CREATE INDEX tasks_state_id ON tasks (state, id);"
	  "CREATE INDEX tasks_user_state_id ON tasks (user_name, state, id);"
	  /* one row per tenant and month, rewritten by every charge */
	  "CREATE TABLE usage ("
	  "  user_name TEXT NOT NULL,"
	  "  month TEXT NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),"
	  "  cpu_us BIGINT NOT NULL DEFAULT 0 CHECK (cpu_us >= 0),"
	  "  PRIMARY KEY (user_name, month)"
	  ") WITH (fillfactor = 50);"
	  "CREATE INDEX usage_month ON usage (month, user_name);"
	  "CREATE TABLE events ("
	  "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	  "  task_id BIGINT NOT NULL REFERENCES tasks (id),"
	  "  at_us BIGINT NOT NULL,"
	  "  kind TEXT NOT NULL,"
	  "  detail TEXT"
	  ");"
	  "CREATE INDEX events_task_id ON events (task_id, id);" },
	/* Operators' adjustments of a tenant's month (store_usage_adjust): rows
	 * of their own, so usage.cpu_us stays exactly what was charged. */
	{ 2,
	  "CREATE TABLE usage_adjustments ("
	  "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	  "  user_name TEXT NOT NULL,"
	  "  month TEXT NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),"
	  "  delta_us BIGINT NOT NULL CHECK (delta_us <> 0),"
	  "  by_name TEXT NOT NULL,"
	  "  by_uid BIGINT NOT NULL,"
	  "  at_us BIGINT NOT NULL,"
	  "  reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 256)"
	  ");"
	  "CREATE INDEX usage_adjustments_month_user ON usage_adjustments (month, user_name, id);" },
	/* retries: a task whose command never started goes back to the queue;
	 * what the earlier attempts charged, why the last one ended, and the
	 * backoff before the next (the same as SQLite's migration 3) */
	{ 3,
	  "ALTER TABLE tasks ADD COLUMN cpu_prior_us BIGINT NOT NULL DEFAULT 0;"
	  "ALTER TABLE tasks ADD COLUMN last_attempt_error TEXT;"
	  "ALTER TABLE tasks ADD COLUMN not_before_us BIGINT NOT NULL DEFAULT 0;" },
	/* nodes (issue 13): every corrald is a node that heartbeats its
	 * capacity, what is free and its statistics; the scheduler's lease
	 * (one row, a term that grows with every new holder); times on the
	 * database's clock (corral_now_us()) */
	{ 4,
	  "CREATE TABLE nodes ("
	  "  name TEXT PRIMARY KEY,"
	  "  incarnation TEXT NOT NULL,"
	  "  version TEXT NOT NULL,"
	  "  labels TEXT NOT NULL DEFAULT '',"
	  "  started_at_us BIGINT NOT NULL,"
	  "  heartbeat_at_us BIGINT NOT NULL,"
	  "  offline_after_us BIGINT NOT NULL,"
	  "  left_at_us BIGINT,"
	  "  draining INTEGER NOT NULL DEFAULT 0,"
	  "  cores INTEGER NOT NULL,"
	  "  memory_bytes BIGINT NOT NULL,"
	  "  slots INTEGER NOT NULL,"
	  "  gpus INTEGER NOT NULL DEFAULT 0,"
	  "  gpu_memory_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  running INTEGER NOT NULL DEFAULT 0,"
	  "  free_slots INTEGER NOT NULL DEFAULT 0,"
	  "  free_memory_bytes BIGINT NOT NULL DEFAULT 0,"
	  "  free_gpus INTEGER NOT NULL DEFAULT 0,"
	  "  load_milli BIGINT NOT NULL DEFAULT 0,"
	  "  tasks_started BIGINT NOT NULL DEFAULT 0,"
	  "  tasks_succeeded BIGINT NOT NULL DEFAULT 0,"
	  "  tasks_failed BIGINT NOT NULL DEFAULT 0,"
	  "  tasks_cancelled BIGINT NOT NULL DEFAULT 0,"
	  "  tasks_lost BIGINT NOT NULL DEFAULT 0,"
	  "  cpu_charged_us BIGINT NOT NULL DEFAULT 0"
	  ");"
	  "CREATE TABLE leader ("
	  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
	  "  node TEXT NOT NULL,"
	  "  incarnation TEXT NOT NULL,"
	  "  term BIGINT NOT NULL,"
	  "  elected_at_us BIGINT NOT NULL,"
	  "  expires_at_us BIGINT NOT NULL"
	  ");"
	  "CREATE FUNCTION corral_now_us() RETURNS BIGINT LANGUAGE sql VOLATILE AS"
	  "  'SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint';" },
	/* storage quota and retention: the bytes each task holds (the same as
	 * SQLite's migration 5) */
	{ 5,
	  "ALTER TABLE tasks ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;"
	  "UPDATE tasks SET stored_bytes = octet_length(argv_json) + octet_length(env_json) + "
	  "  stdout_bytes + stderr_bytes;"
	  "CREATE INDEX tasks_user_ended ON tasks (user_name, ended_at_us);" },
	/* what a task needs of a node (issue 13, placement): GPUs, the memory
	 * of each, labels the node must offer */
	{ 6,
	  "ALTER TABLE tasks ADD COLUMN gpus INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE tasks ADD COLUMN gpu_memory_bytes BIGINT NOT NULL DEFAULT 0;"
	  "ALTER TABLE tasks ADD COLUMN labels TEXT NOT NULL DEFAULT '';" },
	/* API tokens and idempotency keys (issue 14): a token's SHA-256, never
	 * the token; (tenant, key) -> the task an HTTP submit created */
	{ 7,
	  "CREATE TABLE api_tokens ("
	  "  id BIGSERIAL PRIMARY KEY,"
	  "  token_hash TEXT NOT NULL UNIQUE,"
	  "  name TEXT NOT NULL DEFAULT '',"
	  "  tenant TEXT NOT NULL,"
	  "  is_operator INTEGER NOT NULL DEFAULT 0,"
	  "  created_at_us BIGINT NOT NULL,"
	  "  last_used_at_us BIGINT,"
	  "  expires_at_us BIGINT,"
	  "  revoked_at_us BIGINT"
	  ");"
	  "CREATE TABLE idempotency_keys ("
	  "  tenant TEXT NOT NULL,"
	  "  idem_key TEXT NOT NULL,"
	  "  task_id BIGINT NOT NULL,"
	  "  created_at_us BIGINT NOT NULL,"
	  "  PRIMARY KEY (tenant, idem_key)"
	  ");" },
	/* the cluster (issue 13): where a task runs, the lease its node holds
	 * on it (the owner is a node incarnation, the end on the database's
	 * clock), and what the scheduler reserved when it assigned it */
	{ 8,
	  "ALTER TABLE tasks ADD COLUMN node_name TEXT;"
	  "ALTER TABLE tasks ADD COLUMN lease_owner TEXT;"
	  "ALTER TABLE tasks ADD COLUMN lease_until_us BIGINT;"
	  "ALTER TABLE tasks ADD COLUMN assigned_capped INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE tasks ADD COLUMN assigned_memory_bytes BIGINT NOT NULL DEFAULT 0;"
	  "CREATE INDEX tasks_lease ON tasks (lease_owner) WHERE lease_owner IS NOT NULL;"
	  "CREATE INDEX tasks_queued ON tasks (id) WHERE state = 'queued' AND lease_owner IS NULL;"
	  /* stdin (stream 0) and outputs (1, 2) that any node can read, also
	   * once the node that took the submit or ran the task is gone: chunks
	   * in base64, bounded by the API's stdin cap and the output limit */
	  "CREATE TABLE task_output ("
	  "  task_id BIGINT NOT NULL,"
	  "  stream SMALLINT NOT NULL CHECK (stream IN (0, 1, 2)),"
	  "  off BIGINT NOT NULL CHECK (off >= 0),"
	  "  len BIGINT NOT NULL CHECK (len > 0),"
	  "  data_b64 TEXT NOT NULL,"
	  "  PRIMARY KEY (task_id, stream, off)"
	  ");" },
	/* tenant records and result webhooks (issue 14): a tenant's plan set
	 * by operators over the API (over [default], under [user]), every
	 * change audited; a task's callback URL and its delivery state */
	{ 9,
	  "CREATE TABLE tenants ("
	  "  name TEXT PRIMARY KEY,"
	  "  plan TEXT NOT NULL,"
	  "  max_concurrent INTEGER,"
	  "  updated_at_us BIGINT NOT NULL,"
	  "  updated_by TEXT NOT NULL"
	  ");"
	  "CREATE TABLE tenant_audit ("
	  "  id BIGSERIAL PRIMARY KEY,"
	  "  tenant TEXT NOT NULL,"
	  "  action TEXT NOT NULL CHECK (action IN ('set', 'delete')),"
	  "  plan TEXT,"
	  "  max_concurrent INTEGER,"
	  "  by_name TEXT NOT NULL,"
	  "  by_uid BIGINT NOT NULL,"
	  "  at_us BIGINT NOT NULL"
	  ");"
	  "CREATE INDEX tenant_audit_tenant ON tenant_audit (tenant, id);"
	  "CREATE TABLE callbacks ("
	  "  task_id BIGINT PRIMARY KEY,"
	  "  url TEXT NOT NULL,"
	  "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),"
	  "  attempts INTEGER NOT NULL DEFAULT 0,"
	  "  next_at_us BIGINT NOT NULL DEFAULT 0,"
	  "  last_error TEXT,"
	  "  delivered_at_us BIGINT"
	  ");"
	  "CREATE INDEX callbacks_due ON callbacks (state, next_at_us);" },
	/* how many processes the OOM killer killed in a task's cgroup, also
	 * when its main process survived (issue 17) */
	{ 10, "ALTER TABLE tasks ADD COLUMN oom_kills BIGINT NOT NULL DEFAULT 0;" },
	/* the cluster's policy (issue 13): every `corral policy push` is a
	 * generation, never changed once written; nodes apply the latest
	 * and say which one they run (policy_nodes) */
	{ 11,
	  "CREATE TABLE policy_generations ("
	  "  generation BIGINT PRIMARY KEY CHECK (generation > 0),"
	  "  policy_text TEXT NOT NULL,"
	  "  sha256 TEXT NOT NULL,"
	  "  pushed_by TEXT NOT NULL,"
	  "  pushed_at_us BIGINT NOT NULL"
	  ");"
	  "CREATE TABLE policy_nodes ("
	  "  node TEXT PRIMARY KEY,"
	  "  applied BIGINT NOT NULL,"
	  "  failed BIGINT NOT NULL,"
	  "  error TEXT,"
	  "  at_us BIGINT NOT NULL"
	  ");" },
	/* a task's files (issue 15): inputs, artifact patterns and artifacts,
	 * content in base64 chunks (store_files.h) */
	{ 12,
	  "CREATE TABLE task_files ("
	  "  task_id BIGINT NOT NULL,"
	  "  kind TEXT NOT NULL CHECK (kind IN ('input', 'artifact', 'pattern')),"
	  "  name TEXT NOT NULL,"
	  "  mode INTEGER NOT NULL DEFAULT 420,"
	  "  size BIGINT NOT NULL DEFAULT 0,"
	  "  sha256 TEXT NOT NULL DEFAULT '',"
	  "  truncated INTEGER NOT NULL DEFAULT 0,"
	  "  is_dir INTEGER NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (task_id, kind, name)"
	  ");"
	  "CREATE TABLE task_file_chunks ("
	  "  task_id BIGINT NOT NULL,"
	  "  kind TEXT NOT NULL,"
	  "  name TEXT NOT NULL,"
	  "  chunk INTEGER NOT NULL CHECK (chunk >= 0),"
	  "  data_b64 TEXT NOT NULL,"
	  "  PRIMARY KEY (task_id, kind, name, chunk)"
	  ");" },
	/* a task's CPUs (issue 13, `corral submit --cpus`): the cores it asked
	 * for in thousandths, its quota and what it holds of its node's cores;
	 * the cores a node has free, as it last said */
	{ 13,
	  "ALTER TABLE tasks ADD COLUMN cpu_millis INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE nodes ADD COLUMN free_cpu_millis BIGINT NOT NULL DEFAULT 0;" },
	/* staged uploads (issue 15): a file too large for one request line,
	 * sent in chunks before the submit that names it (store_upload.h);
	 * expired ones are removed by corrald */
	{ 14,
	  "CREATE TABLE uploads ("
	  "  id BIGINT PRIMARY KEY,"
	  "  user_name TEXT NOT NULL,"
	  "  size BIGINT NOT NULL CHECK (size >= 0),"
	  "  received BIGINT NOT NULL DEFAULT 0,"
	  "  sha256 TEXT NOT NULL DEFAULT '',"
	  "  created_at_us BIGINT NOT NULL,"
	  "  expires_at_us BIGINT NOT NULL"
	  ");"
	  "CREATE INDEX uploads_by_user ON uploads (user_name);"
	  "CREATE INDEX uploads_by_expiry ON uploads (expires_at_us);"
	  "CREATE TABLE upload_chunks ("
	  "  upload_id BIGINT NOT NULL,"
	  "  chunk INTEGER NOT NULL CHECK (chunk >= 0),"
	  "  data_b64 TEXT NOT NULL,"
	  "  PRIMARY KEY (upload_id, chunk)"
	  ");" },
	/* the cluster's scheduler's fairness state (a tenant's pass; the
	 * virtual time as tenant ''), so every node gives the queue's order
	 * and a new scheduler goes on from it (store_cluster_fair_save) */
	{ 15,
	  "CREATE TABLE sched_fair ("
	  "  user_name TEXT PRIMARY KEY,"
	  "  pass BIGINT NOT NULL"
	  ");" },
	/* the live load without a scan of the running tasks (store_cluster.h;
	 * the same as SQLite's migration 16): every change of what a task
	 * holds appends a delta row in the same transaction, by trigger (no
	 * path can miss it), an insert that locks no row another transaction
	 * could hold (no hot counter rows: the scheduler's assignments and
	 * the nodes' ends never wait for each other); the scheduler folds
	 * the deltas into one row per tenant and per node in one statement
	 * (store_cluster_live_fold); the live load is those rows plus the
	 * deltas not folded yet, read in one snapshot */
	{ 16,
	  STORE_SQL_LIVE_TABLES
	  "ALTER TABLE live_users SET (fillfactor = 50);"
	  "ALTER TABLE live_nodes SET (fillfactor = 50);"
	  "CREATE FUNCTION corral_live_delta() RETURNS trigger LANGUAGE plpgsql "
	  "  SET search_path FROM CURRENT AS $$"
	  "BEGIN"
	  "  IF TG_OP <> 'INSERT' AND OLD.lease_owner IS NOT NULL THEN"
	  "    INSERT INTO live_delta VALUES (OLD.user_name, COALESCE(OLD.node_name, ''), -1,"
	  "      -OLD.cpu_reserved_us, -OLD.assigned_memory_bytes, -OLD.gpus, -OLD.cpu_millis);"
	  "  END IF;"
	  "  IF TG_OP <> 'DELETE' AND NEW.lease_owner IS NOT NULL THEN"
	  "    INSERT INTO live_delta VALUES (NEW.user_name, COALESCE(NEW.node_name, ''), 1,"
	  "      NEW.cpu_reserved_us, NEW.assigned_memory_bytes, NEW.gpus, NEW.cpu_millis);"
	  "  END IF;"
	  "  RETURN NULL;"
	  "END $$;"
	  "CREATE TRIGGER tasks_live_insert AFTER INSERT ON tasks FOR EACH ROW"
	  "  WHEN (NEW.lease_owner IS NOT NULL) EXECUTE FUNCTION corral_live_delta();"
	  "CREATE TRIGGER tasks_live_update AFTER UPDATE OF lease_owner, user_name, node_name, "
	  "  cpu_reserved_us, assigned_memory_bytes, gpus, cpu_millis ON tasks FOR EACH ROW"
	  "  WHEN ((OLD.lease_owner IS NOT NULL OR NEW.lease_owner IS NOT NULL) AND"
	  "  ((OLD.lease_owner IS NULL) <> (NEW.lease_owner IS NULL)"
	  "   OR OLD.user_name IS DISTINCT FROM NEW.user_name OR OLD.node_name IS DISTINCT FROM NEW.node_name"
	  "   OR OLD.cpu_reserved_us IS DISTINCT FROM NEW.cpu_reserved_us"
	  "   OR OLD.assigned_memory_bytes IS DISTINCT FROM NEW.assigned_memory_bytes"
	  "   OR OLD.gpus IS DISTINCT FROM NEW.gpus OR OLD.cpu_millis IS DISTINCT FROM NEW.cpu_millis))"
	  "  EXECUTE FUNCTION corral_live_delta();"
	  "CREATE TRIGGER tasks_live_delete AFTER DELETE ON tasks FOR EACH ROW"
	  "  WHEN (OLD.lease_owner IS NOT NULL) EXECUTE FUNCTION corral_live_delta();" },
	/* the live load counted again, the tasks locked against writes: 16
	 * filled its rows before its triggers were there, and a node of the
	 * old version writing meanwhile left them wrong for good
	 * (STORE_SQL_LIVE_RECOUNT; the same as SQLite's migration 17) */
	{ 17, "LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;" STORE_SQL_LIVE_RECOUNT },
};

#define MIGRATION_COUNT (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_PG_SCHEMA_VERSION,
	       "one migration per schema version");

/* One integer from a query without parameters; *out = -1 when NULL. */
static int query_int(struct store_pg *store, const char *sql, int64_t *out, struct error *err)
{
	PGresult *res = PQexec(store->conn, sql);

	if (!store_pg_ok(res) || PQntuples(res) != 1)
		return store_pg_error_fail(store, res, err, "read schema version", "read schema version");
	*out = store_pg_i64(res, 0, 0, -1);
	PQclear(res);
	return 0;
}

static int migrate_locked(struct store_pg *store, struct error *err)
{
	int64_t has_schema, has_version_table, tables, version = 0;
	int r;

	/* Serializes every corrald migrating this database; freed at COMMIT. */
	r = store_pg_exec(store, "SELECT pg_advisory_xact_lock(7242130001)", err, "migrate");
	if (r < 0)
		return r;
	r = query_int(store, "SELECT COUNT(*) FROM pg_namespace WHERE nspname = 'corral'", &has_schema, err);
	if (r < 0)
		return r;
	if (!has_schema) {
		r = store_pg_exec(store, "CREATE SCHEMA corral", err, "migrate");
		if (r < 0)
			return r;
	}
	r = query_int(store,
		      "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'corral' "
		      "AND tablename = 'schema_version'",
		      &has_version_table, err);
	if (r < 0)
		return r;
	if (has_version_table) {
		r = query_int(store, "SELECT MAX(version) FROM corral.schema_version", &version, err);
		if (r < 0)
			return r;
		if (version < 0)
			version = 0;
	} else {
		r = query_int(store, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'corral'", &tables,
			      err);
		if (r < 0)
			return r;
		if (tables > 0)
			return error_set(
				err, ENOTSUP, "check schema",
				"%s: schema corral holds tables but no schema_version: not a corrald database, refusing to use it",
				store->where);
	}
	if (version > STORE_PG_SCHEMA_VERSION)
		return error_set(err, EPROTONOSUPPORT, "check schema",
				 "%s has schema version %lld but this corrald knows only up to %d: "
				 "refusing to open it (run a newer corrald)",
				 store->where, (long long)version, STORE_PG_SCHEMA_VERSION);

	for (size_t i = 0; i < MIGRATION_COUNT; i++) {
		const struct migration *m = &migrations[i];
		char stamp[200];
		PGresult *res;

		if (m->version <= version)
			continue;
		res = PQexec(store->conn, m->sql);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "migrate", "apply migration %d",
						   m->version);
		PQclear(res);
		/* Stamped on the database's clock: hosts' clocks never compare. */
		snprintf(stamp, sizeof(stamp),
			 "INSERT INTO corral.schema_version (version, applied_at_us) VALUES "
			 "(%d, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
			 m->version);
		r = store_pg_exec(store, stamp, err, "migrate");
		if (r < 0)
			return r;
		version = m->version;
	}
	store->schema_version = (int)version;
	return 0;
}

int store_pg_schema_migrate(struct store_pg *store, struct error *err)
{
	int r = store_pg_exec(store, "BEGIN", err, "migrate");

	if (r < 0)
		return r;
	r = migrate_locked(store, err);
	if (r < 0) {
		PQclear(PQexec(store->conn, "ROLLBACK"));
		return r;
	}
	r = store_pg_exec(store, "COMMIT", err, "migrate");
	if (r < 0)
		PQclear(PQexec(store->conn, "ROLLBACK"));
	return r;
}
