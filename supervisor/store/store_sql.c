/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_sql.c — the text of every data statement of the store
 * (see store_sql.h for what "portable" means here).  Binding, stepping and
 * transactions are the backend's business, not this file's; the stored
 * names of states and reasons are in task_state.c.
 */
#include "supervisor/store/store.h"
#include "supervisor/store/store_sql.h"

/* Must match enum store_task_column: the columns after argv and env. */
#define TASK_COLUMNS_REST                                                               \
	"cwd, stdin_path, "                                                             \
	"wall_limit_ms, cpu_limit_us, memory_limit_bytes, state, reason, message, "     \
	"exit_code, signal, submitted_at_us, started_at_us, ended_at_us, deadline_us, " \
	"cpu_reserved_us, cpu_charged_us, charged_at_us, cpu_user_us, cpu_system_us, "  \
	"memory_peak_bytes, stdout_bytes, stderr_bytes, stdout_truncated, "             \
	"stderr_truncated, attempts, host_uid, cgroup, cancel_requested, "              \
	"cpu_prior_us, last_attempt_error, not_before_us, stored_bytes, gpus, "         \
	"gpu_memory_bytes, labels, node_name, lease_owner, assigned_capped, "           \
	"assigned_memory_bytes, oom_kills, cpu_millis"
#define TASK_COLUMNS "id, user_name, submitted_by_uid, profile, argv_json, env_json, " TASK_COLUMNS_REST

/* The same for lists: the argv cut to its first STORE_LIST_ARGV_CHARS
 * characters (an old row may hold megabytes), no env. */
#define LIST_COLUMNS \
	"id, user_name, submitted_by_uid, profile, substr(argv_json, 1, 1024), NULL, " TASK_COLUMNS_REST
_Static_assert(STORE_LIST_ARGV_CHARS == 1024, "LIST_COLUMNS cuts argv_json at 1024 characters");

#define TERMINAL "('succeeded', 'failed', 'cancelled')"

/* Must match the order store_sqlite_read.c reads them in. */
#define ADJUST_COLUMNS "id, user_name, month, delta_us, by_name, by_uid, at_us, reason"

/* Must match enum store_node_column. */
#define NODE_COLUMNS                                                                             \
	"name, incarnation, version, labels, started_at_us, corral_now_us() - heartbeat_at_us, " \
	"offline_after_us, CASE WHEN left_at_us IS NULL THEN 0 ELSE 1 END, draining, cores, "    \
	"memory_bytes, slots, gpus, gpu_memory_bytes, running, free_slots, free_memory_bytes, "  \
	"free_gpus, load_milli, tasks_started, tasks_succeeded, tasks_failed, tasks_cancelled, " \
	"tasks_lost, cpu_charged_us, free_cpu_millis"

#define TOKEN_COLUMNS                                                                              \
	"id, name, tenant, is_operator, token_hash, created_at_us, COALESCE(last_used_at_us, 0), " \
	"COALESCE(expires_at_us, 0), COALESCE(revoked_at_us, 0)"

/* Must match enum store_tenant_column, store_tenant_audit_column and
 * store_callback_column. */
#define TENANT_COLUMNS "name, plan, COALESCE(max_concurrent, 0), updated_at_us, updated_by"
#define TENANT_AUDIT_COLUMNS \
	"id, tenant, action, COALESCE(plan, ''), COALESCE(max_concurrent, 0), by_name, by_uid, at_us"
#define CALLBACK_COLUMNS                                                                    \
	"c.task_id, c.url, c.state, c.attempts, c.next_at_us, COALESCE(c.last_error, ''), " \
	"COALESCE(c.delivered_at_us, 0)"

const char *const store_sql_text[STORE_SQL_COUNT] = {
	[STORE_SQL_SUBMIT] = "INSERT INTO tasks (user_name, submitted_by_uid, profile, argv_json, env_json, "
			     "cwd, stdin_path, wall_limit_ms, cpu_limit_us, memory_limit_bytes, state, "
			     "submitted_at_us, stored_bytes, gpus, gpu_memory_bytes, labels, cpu_millis) "
			     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14, "
			     "$15, $16) "
			     "RETURNING id",
	[STORE_SQL_EVENT_APPEND] = "INSERT INTO events (task_id, at_us, kind, detail) VALUES ($1, $2, $3, $4)",
	[STORE_SQL_GET_TASK] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = $1",
	[STORE_SQL_LOAD_STATE] = "SELECT " TASK_COLUMNS " FROM tasks WHERE state = $1 ORDER BY id",
	/* Read under the transaction's write lock; PostgreSQL: add FOR UPDATE. */
	[STORE_SQL_TASK_CURSOR] =
		"SELECT user_name, state, cpu_charged_us, lease_owner FROM tasks WHERE id = $1",
	[STORE_SQL_MARK_RUNNING] = "UPDATE tasks SET state = 'running', started_at_us = $2, deadline_us = $3, "
				   "cpu_reserved_us = $4, host_uid = $5, cgroup = $6, attempts = $7 "
				   "WHERE id = $1 AND state = 'queued'",
	/* running -> queued, compare-and-set on the cursor just read: the
	 * attempt's CPU becomes the prior attempts' total, the start is undone */
	[STORE_SQL_REQUEUE] =
		"UPDATE tasks SET state = 'queued', started_at_us = NULL, deadline_us = NULL, "
		"cpu_reserved_us = 0, host_uid = NULL, cgroup = NULL, cpu_charged_us = $2, "
		"cpu_prior_us = $2, charged_at_us = $3, last_attempt_error = $4, not_before_us = $5, "
		"lease_owner = NULL, lease_until_us = NULL, assigned_capped = 0, assigned_memory_bytes = 0, "
		"attempts = attempts - $7 "
		"WHERE id = $1 AND state = 'running' AND cpu_charged_us = $6",
	/* Compare-and-set of the charging cursor: a repeated charge matches no row. */
	[STORE_SQL_CHARGE_CURSOR] =
		"UPDATE tasks SET cpu_charged_us = $3, charged_at_us = $4 "
		"WHERE id = $1 AND cpu_charged_us = $2 AND state = 'running' RETURNING user_name",
	[STORE_SQL_USAGE_ADD] =
		"INSERT INTO usage (user_name, month, cpu_us) VALUES ($1, $2, $3) "
		"ON CONFLICT (user_name, month) DO UPDATE SET cpu_us = usage.cpu_us + excluded.cpu_us",
	/* Compare-and-set on the state and the cursor just read (the move itself
	 * was checked against task_state_can_move()). */
	[STORE_SQL_FINISH] = "UPDATE tasks SET state = $2, reason = $3, message = $4, exit_code = $5, "
			     "signal = $6, ended_at_us = $7, cpu_charged_us = $8, charged_at_us = $7, "
			     "cpu_user_us = $9, cpu_system_us = $10, memory_peak_bytes = $11, "
			     "stdout_bytes = $12, stderr_bytes = $13, stdout_truncated = $14, "
			     "stderr_truncated = $15, stored_bytes = stored_bytes + $18, oom_kills = $19, "
			     "lease_owner = NULL, lease_until_us = NULL "
			     "WHERE id = $1 AND state = $17 AND cpu_charged_us = $16",
	[STORE_SQL_CANCEL_QUEUED] =
		"UPDATE tasks SET state = 'cancelled', reason = 'cancelled', "
		"message = 'cancelled before it started', ended_at_us = $2, lease_owner = NULL, "
		"lease_until_us = NULL "
		"WHERE id = $1 AND state = 'queued'",
	[STORE_SQL_REQUEST_CANCEL] =
		"UPDATE tasks SET cancel_requested = 1 WHERE id = $1 AND state = 'running'",
	/* pages: newest first, below the cursor $4 (the last id of the page before) */
	[STORE_SQL_LIST_ALL] =
		"SELECT " LIST_COLUMNS
		" FROM tasks WHERE id < $4 AND submitted_at_us >= $5 AND submitted_at_us < $6 ORDER BY id DESC LIMIT $1",
	[STORE_SQL_LIST_USER] =
		"SELECT " LIST_COLUMNS
		" FROM tasks WHERE user_name = $2 AND id < $4 AND submitted_at_us >= $5 AND submitted_at_us < $6 ORDER BY id DESC LIMIT $1",
	[STORE_SQL_LIST_STATE] =
		"SELECT " LIST_COLUMNS
		" FROM tasks WHERE state = $3 AND id < $4 AND submitted_at_us >= $5 AND submitted_at_us < $6 ORDER BY id DESC LIMIT $1",
	[STORE_SQL_LIST_USER_STATE] =
		"SELECT " LIST_COLUMNS
		" FROM tasks WHERE user_name = $2 AND state = $3 AND id < $4 AND submitted_at_us >= $5 AND submitted_at_us < $6 "
		"ORDER BY id DESC LIMIT $1",
	[STORE_SQL_USAGE_GET] = "SELECT cpu_us FROM usage WHERE user_name = $1 AND month = $2",
	[STORE_SQL_USAGE_MONTH] = "SELECT user_name, cpu_us FROM usage WHERE month = $1 ORDER BY user_name",
	[STORE_SQL_COUNT_QUEUED] = "SELECT COUNT(*) FROM tasks WHERE user_name = $1 AND state = 'queued'",
	[STORE_SQL_EVENTS] =
		"SELECT id, task_id, at_us, kind, detail FROM events WHERE task_id = $1 ORDER BY id",
	/* Adjustments are appended, never updated: the month's budget is the
	 * plan's plus their sum. */
	[STORE_SQL_ADJUST_INSERT] =
		"INSERT INTO usage_adjustments (user_name, month, delta_us, by_name, by_uid, at_us, "
		"reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	[STORE_SQL_ADJUST_SUM] = "SELECT COALESCE(SUM(delta_us), 0) FROM usage_adjustments "
				 "WHERE user_name = $1 AND month = $2",
	[STORE_SQL_ADJUST_LIST_USER] = "SELECT " ADJUST_COLUMNS
				       " FROM usage_adjustments WHERE month = $1 AND user_name = $2 "
				       "ORDER BY id",
	[STORE_SQL_ADJUST_LIST_MONTH] = "SELECT " ADJUST_COLUMNS " FROM usage_adjustments WHERE month = $1 "
					"ORDER BY user_name, id",
	/* A node joins (or takes its name over: a new incarnation); its drain
	 * flag and statistics stay. */
	[STORE_SQL_NODE_JOIN] =
		"INSERT INTO nodes (name, incarnation, version, labels, offline_after_us, cores, "
		"memory_bytes, slots, gpus, gpu_memory_bytes, running, free_slots, free_memory_bytes, "
		"free_gpus, load_milli, free_cpu_millis, started_at_us, heartbeat_at_us) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
		"corral_now_us(), corral_now_us()) "
		"ON CONFLICT (name) DO UPDATE SET incarnation = excluded.incarnation, "
		"version = excluded.version, labels = excluded.labels, "
		"offline_after_us = excluded.offline_after_us, cores = excluded.cores, "
		"memory_bytes = excluded.memory_bytes, slots = excluded.slots, gpus = excluded.gpus, "
		"gpu_memory_bytes = excluded.gpu_memory_bytes, running = excluded.running, "
		"free_slots = excluded.free_slots, free_memory_bytes = excluded.free_memory_bytes, "
		"free_gpus = excluded.free_gpus, load_milli = excluded.load_milli, "
		"free_cpu_millis = excluded.free_cpu_millis, "
		"started_at_us = excluded.started_at_us, heartbeat_at_us = excluded.heartbeat_at_us, "
		"left_at_us = NULL "
		"RETURNING draining",
	/* Only the incarnation that joined: a replaced one matches no row.  What
	 * a reload may change (capacity, offline_after, labels) goes along. */
	[STORE_SQL_NODE_HEARTBEAT] =
		"UPDATE nodes SET heartbeat_at_us = corral_now_us(), running = $3, free_slots = $4, "
		"free_memory_bytes = $5, free_gpus = $6, load_milli = $7, offline_after_us = $8, "
		"slots = $9, memory_bytes = $10, gpus = $11, gpu_memory_bytes = $12, labels = $13, "
		"free_cpu_millis = $14, cores = $15 "
		"WHERE name = $1 AND incarnation = $2 RETURNING draining",
	[STORE_SQL_NODE_LEAVE] = "UPDATE nodes SET left_at_us = corral_now_us(), running = 0 "
				 "WHERE name = $1 AND incarnation = $2",
	[STORE_SQL_NODE_LIST] = "SELECT " NODE_COLUMNS " FROM nodes ORDER BY name",
	[STORE_SQL_NODE_DRAIN] = "UPDATE nodes SET draining = $2 WHERE name = $1",
	/* In the transaction that starts, charges or ends a task on the node. */
	[STORE_SQL_NODE_COUNT] =
		"UPDATE nodes SET tasks_started = tasks_started + $2, "
		"tasks_succeeded = tasks_succeeded + $3, tasks_failed = tasks_failed + $4, "
		"tasks_cancelled = tasks_cancelled + $5, cpu_charged_us = cpu_charged_us + $6, "
		"tasks_lost = tasks_lost + $7 "
		"WHERE name = $1",
	/* Take the lease when it is free, expired or ours: a new holder gets
	 * the next term, a renewal keeps it.  No row: someone else holds it. */
	[STORE_SQL_LEADER_ACQUIRE] =
		"INSERT INTO leader (id, node, incarnation, term, elected_at_us, expires_at_us) "
		"VALUES (1, $1, $2, 1, corral_now_us(), corral_now_us() + $3) "
		"ON CONFLICT (id) DO UPDATE SET "
		"term = CASE WHEN leader.incarnation = excluded.incarnation THEN leader.term "
		"ELSE leader.term + 1 END, "
		"elected_at_us = CASE WHEN leader.incarnation = excluded.incarnation "
		"THEN leader.elected_at_us ELSE excluded.elected_at_us END, "
		"node = excluded.node, incarnation = excluded.incarnation, "
		"expires_at_us = excluded.expires_at_us "
		"WHERE leader.incarnation = excluded.incarnation OR leader.expires_at_us < corral_now_us() "
		"RETURNING term",
	[STORE_SQL_LEADER_GET] = "SELECT node, incarnation, term, elected_at_us, "
				 "expires_at_us - corral_now_us() FROM leader WHERE id = 1",
	[STORE_SQL_LEADER_RESIGN] = "UPDATE leader SET expires_at_us = 0 WHERE id = 1 AND incarnation = $1",
	[STORE_SQL_STORED_BY_USER] = "SELECT user_name, SUM(stored_bytes) FROM tasks GROUP BY user_name "
				     "ORDER BY user_name",
	/* retention: the oldest ended tasks of a tenant (queued and running
	 * tasks have no ended_at_us, so never match) */
	[STORE_SQL_PURGE_SELECT] = "SELECT id, stored_bytes, stdin_path FROM tasks WHERE user_name = $1 "
				   "AND ended_at_us < $2 AND state IN " TERMINAL " "
				   "ORDER BY ended_at_us, id LIMIT $3",
	[STORE_SQL_PURGE_EVENTS] = "DELETE FROM events WHERE task_id = $1",
	[STORE_SQL_PURGE_TASK] = "DELETE FROM tasks WHERE id = $1 AND state IN " TERMINAL,
	/* API tokens (store_token.h): only the SHA-256 of a token is kept */
	[STORE_SQL_TOKEN_INSERT] =
		"INSERT INTO api_tokens (token_hash, name, tenant, is_operator, created_at_us, "
		"expires_at_us) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	/* a live token by its hash; its last use is written at most once a
	 * minute ($3: the oldest last use kept), so a request is no write */
	[STORE_SQL_TOKEN_USE] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1 "
				"AND revoked_at_us IS NULL AND (expires_at_us IS NULL OR expires_at_us > $2)",
	[STORE_SQL_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at_us = $2 WHERE id = $1 "
				  "AND (last_used_at_us IS NULL OR last_used_at_us < $3)",
	[STORE_SQL_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM api_tokens ORDER BY id",
	[STORE_SQL_TOKEN_REVOKE] =
		"UPDATE api_tokens SET revoked_at_us = $2 WHERE id = $1 AND revoked_at_us IS NULL",
	[STORE_SQL_IDEMPOTENCY_GET] =
		"SELECT task_id FROM idempotency_keys WHERE tenant = $1 AND idem_key = $2",
	[STORE_SQL_IDEMPOTENCY_PUT] =
		"INSERT INTO idempotency_keys (tenant, idem_key, task_id, created_at_us) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, idem_key) DO NOTHING",
	/* The cluster.  The scheduler's writes hold only while its lease row
	 * says it is the scheduler ($term, $incarnation, not expired on the
	 * database's clock): a deposed scheduler writes nothing. */
	[STORE_SQL_CLUSTER_ASSIGN] =
		"UPDATE tasks SET lease_owner = $3, node_name = $2, lease_until_us = corral_now_us() + $7, "
		"cpu_reserved_us = $4, assigned_capped = $5, assigned_memory_bytes = $6 "
		"WHERE id = $1 AND state = 'queued' AND lease_owner IS NULL "
		"AND EXISTS (SELECT 1 FROM leader WHERE id = 1 AND term = $8 AND incarnation = $9 "
		"AND expires_at_us > corral_now_us())",
	/* one statement per tick renews every lease a node incarnation holds
	 * and tells it which it still holds */
	[STORE_SQL_CLUSTER_RENEW] =
		"UPDATE tasks SET lease_until_us = corral_now_us() + $2 WHERE lease_owner = $1 "
		"RETURNING id, state, cancel_requested",
	/* a restarted node (a new incarnation, the same name) takes its tasks
	 * back; running rows from before the cluster columns have no node */
	[STORE_SQL_CLUSTER_ADOPT] =
		"UPDATE tasks SET lease_owner = $2, lease_until_us = corral_now_us() + $3, "
		"node_name = $1 "
		"WHERE (state = 'running' AND (node_name = $1 OR node_name IS NULL)) "
		"OR (state = 'queued' AND lease_owner IS NOT NULL AND node_name = $1)",
	/* the live load: what each tenant and each node holds (tasks with a
	 * lease), as the folded rows plus the deltas not folded yet, in one
	 * statement (one snapshot: a fold moves rows from one to the other
	 * atomically); its cost grows with the tenants and nodes that hold
	 * something and the changes since the last fold, not with the tasks
	 * (schema 16; store_cluster_live_fold) */
	[STORE_SQL_CLUSTER_LIVE_USERS] = "SELECT user_name, SUM(n), SUM(cpu_reserved_us) FROM "
					 "(SELECT user_name, n, cpu_reserved_us FROM live_users UNION ALL "
					 "SELECT user_name, n, cpu_reserved_us FROM live_delta) AS l "
					 "GROUP BY user_name HAVING SUM(n) <> 0 OR SUM(cpu_reserved_us) <> 0",
	[STORE_SQL_CLUSTER_LIVE_NODES] =
		"SELECT node_name, SUM(n), SUM(memory_bytes), SUM(gpus), SUM(cpu_millis) FROM "
		"(SELECT node_name, n, memory_bytes, gpus, cpu_millis FROM live_nodes UNION ALL "
		"SELECT node_name, n, memory_bytes, gpus, cpu_millis FROM live_delta) AS l "
		"GROUP BY node_name HAVING SUM(n) <> 0 OR SUM(memory_bytes) <> 0 OR SUM(gpus) <> 0 "
		"OR SUM(cpu_millis) <> 0",
	/* the fold on SQLite (one writer at a time; in one transaction);
	 * PostgreSQL folds in one statement with the same upserts
	 * (store_pg_cluster.c) */
	[STORE_SQL_CLUSTER_FOLD_USERS] = STORE_SQL_FOLD_USERS("live_delta"),
	[STORE_SQL_CLUSTER_FOLD_NODES] = STORE_SQL_FOLD_NODES("live_delta"),
	[STORE_SQL_CLUSTER_FOLD_CLEAR] = "DELETE FROM live_delta",
	/* tenants and nodes that hold nothing any more */
	[STORE_SQL_CLUSTER_FOLD_PRUNE_USERS] = "DELETE FROM live_users WHERE n = 0 AND cpu_reserved_us = 0",
	[STORE_SQL_CLUSTER_FOLD_PRUNE_NODES] =
		"DELETE FROM live_nodes WHERE n = 0 AND memory_bytes = 0 AND gpus = 0 AND cpu_millis = 0",
	[STORE_SQL_CLUSTER_QUEUE] = "SELECT " LIST_COLUMNS " FROM tasks WHERE state = 'queued' "
				    "AND lease_owner IS NULL ORDER BY id",
	/* leases that ended more than $1 us ago (the adopt grace) */
	[STORE_SQL_CLUSTER_EXPIRED] = "SELECT " LIST_COLUMNS " FROM tasks WHERE lease_owner IS NOT NULL "
				      "AND lease_until_us < corral_now_us() - $1 ORDER BY id",
	/* assignments whose lease was not renewed for a while ($1 = what is
	 * left of a lease renewed that long ago): their node is not taking work */
	[STORE_SQL_CLUSTER_STALE] = "SELECT " LIST_COLUMNS " FROM tasks WHERE state = 'queued' "
				    "AND lease_owner IS NOT NULL AND lease_until_us < corral_now_us() + $1 "
				    "ORDER BY id",
	/* an assignment whose node never started it goes back to the queue
	 * (compare-and-set on its owner: two schedulers cannot both do it) */
	[STORE_SQL_CLUSTER_UNASSIGN] =
		"UPDATE tasks SET lease_owner = NULL, lease_until_us = NULL, cpu_reserved_us = 0, "
		"assigned_capped = 0, assigned_memory_bytes = 0 "
		"WHERE id = $1 AND state = 'queued' AND lease_owner = $2 "
		"AND EXISTS (SELECT 1 FROM leader WHERE id = 1 AND term = $3 AND incarnation = $4 "
		"AND expires_at_us > corral_now_us())",
	/* a node's running tasks (recovery after a restart) */
	[STORE_SQL_CLUSTER_LOAD_RUNNING] = "SELECT " TASK_COLUMNS " FROM tasks WHERE state = 'running' "
					   "AND lease_owner = $1 ORDER BY id",
	/* outputs in the database (store_cluster.h); a chunk already there
	 * (a retry after a lost answer) is kept as it was */
	/* outputs only from the node that holds the task's lease ($6; stdin,
	 * stream 0, at submit, before anyone does) */
	[STORE_SQL_OUTPUT_APPEND] =
		"INSERT INTO task_output (task_id, stream, off, len, data_b64) "
		"SELECT CAST($1 AS BIGINT), CAST($2 AS SMALLINT), CAST($3 AS BIGINT), CAST($4 AS BIGINT), "
		"CAST($5 AS TEXT) WHERE CAST($2 AS SMALLINT) = 0 OR EXISTS "
		"(SELECT 1 FROM tasks WHERE id = CAST($1 AS BIGINT) AND lease_owner = CAST($6 AS TEXT)) "
		"ON CONFLICT DO NOTHING",
	[STORE_SQL_OUTPUT_READ] =
		"SELECT off, len, data_b64 FROM task_output WHERE task_id = $1 AND stream = $2 "
		"AND off + len > $3 ORDER BY off LIMIT $4",
	[STORE_SQL_OUTPUT_SIZE] =
		"SELECT COALESCE(MAX(off + len), 0) FROM task_output WHERE task_id = $1 AND stream = $2",
	[STORE_SQL_PURGE_OUTPUT] = "DELETE FROM task_output WHERE task_id = $1",
	/* a requeued task's next attempt writes its outputs afresh */
	[STORE_SQL_OUTPUT_RESET] = "DELETE FROM task_output WHERE task_id = $1 AND stream > 0",
	/* a node that stops gives back what it was assigned and never started */
	[STORE_SQL_CLUSTER_RELEASE] =
		"UPDATE tasks SET lease_owner = NULL, lease_until_us = NULL, cpu_reserved_us = 0, "
		"assigned_capped = 0, assigned_memory_bytes = 0 WHERE lease_owner = $1 AND state = 'queued'",
	/* the scheduler's queue in memory, kept in step (store_cluster.h):
	 * what was submitted after the last id it saw, one task again (a
	 * requeue, an assignment given back), and how many and which ids the
	 * queue holds up to that id (all through the partial index tasks_queued) */
	[STORE_SQL_CLUSTER_QUEUE_AFTER] = "SELECT " LIST_COLUMNS " FROM tasks WHERE state = 'queued' "
					  "AND lease_owner IS NULL AND id > $1 ORDER BY id",
	[STORE_SQL_CLUSTER_QUEUE_ROW] = "SELECT " LIST_COLUMNS
					" FROM tasks WHERE id = $1 AND state = 'queued' "
					"AND lease_owner IS NULL",
	[STORE_SQL_CLUSTER_QUEUE_COUNT] =
		"SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND lease_owner IS NULL AND id <= $1",
	[STORE_SQL_CLUSTER_QUEUE_IDS] =
		"SELECT id FROM tasks WHERE state = 'queued' AND lease_owner IS NULL AND id <= $1 ORDER BY id",
	/* whether ($1 term, $2 incarnation) holds the scheduler's lease now
	 * (a round's assignments on SQLite: checked once, in their transaction) */
	[STORE_SQL_CLUSTER_LEADER_HOLDS] =
		"SELECT 1 FROM leader WHERE id = 1 AND term = $1 AND incarnation = $2 "
		"AND expires_at_us > corral_now_us()",
	/* tenant records (store_tenant.h): a plan over [default], audited */
	[STORE_SQL_TENANT_PUT] =
		"INSERT INTO tenants (name, plan, max_concurrent, updated_at_us, updated_by) "
		"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET plan = excluded.plan, "
		"max_concurrent = excluded.max_concurrent, updated_at_us = excluded.updated_at_us, "
		"updated_by = excluded.updated_by",
	[STORE_SQL_TENANT_DELETE] = "DELETE FROM tenants WHERE name = $1",
	[STORE_SQL_TENANT_LIST] = "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY name",
	[STORE_SQL_TENANT_AUDIT_INSERT] =
		"INSERT INTO tenant_audit (tenant, action, plan, max_concurrent, by_name, by_uid, at_us) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[STORE_SQL_TENANT_AUDIT_LIST] = "SELECT " TENANT_AUDIT_COLUMNS " FROM tenant_audit "
					"WHERE tenant = $1 ORDER BY id",
	/* result webhooks (store_callback.h): due once the task ended */
	[STORE_SQL_CALLBACK_ADD] = "INSERT INTO callbacks (task_id, url) VALUES ($1, $2)",
	[STORE_SQL_CALLBACK_DUE] = "SELECT " CALLBACK_COLUMNS
				   " FROM callbacks c JOIN tasks t ON t.id = c.task_id "
				   "WHERE c.state = 'pending' AND c.next_at_us <= $1 AND t.state IN " TERMINAL
				   " ORDER BY c.next_at_us, c.task_id LIMIT $2",
	/* one delivery at a time: the claim moves next_at_us to the lease's end,
	 * so a corrald that dies mid-delivery leaves it due again later */
	[STORE_SQL_CALLBACK_CLAIM] = "UPDATE callbacks SET attempts = attempts + 1, next_at_us = $3 "
				     "WHERE task_id = $1 AND state = 'pending' AND next_at_us <= $2",
	[STORE_SQL_CALLBACK_RETRY] = "UPDATE callbacks SET next_at_us = $2, last_error = $3 "
				     "WHERE task_id = $1 AND state = 'pending'",
	[STORE_SQL_CALLBACK_SETTLE] = "UPDATE callbacks SET state = $2, last_error = $3, delivered_at_us = $4 "
				      "WHERE task_id = $1 AND state = 'pending'",
	[STORE_SQL_CALLBACK_GET] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c WHERE c.task_id = $1",
	/* retention removes a task: its callback goes with it */
	[STORE_SQL_CALLBACK_PURGE] = "DELETE FROM callbacks WHERE task_id = $1",
	/* the cluster's policy (store_policy.h): the next generation, only
	 * while the latest is $4 ($4 < 0: any); a push that lost the race for
	 * the number inserts nothing and returns no row */
	[STORE_SQL_POLICY_PUSH] =
		"INSERT INTO policy_generations (generation, policy_text, sha256, pushed_by, pushed_at_us) "
		"SELECT latest.g + 1, CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), corral_now_us() "
		"FROM (SELECT COALESCE(MAX(generation), 0) AS g FROM policy_generations) AS latest "
		"WHERE CAST($4 AS BIGINT) < 0 OR latest.g = CAST($4 AS BIGINT) "
		"ON CONFLICT (generation) DO NOTHING RETURNING generation, pushed_at_us",
	[STORE_SQL_POLICY_GENERATION] = "SELECT COALESCE(MAX(generation), 0) FROM policy_generations",
	/* must match enum store_policy_column */
	[STORE_SQL_POLICY_LATEST] = "SELECT generation, policy_text, sha256, pushed_by, pushed_at_us "
				    "FROM policy_generations ORDER BY generation DESC LIMIT 1",
	/* which generation a node runs, and the latest that did not load there */
	[STORE_SQL_POLICY_NODE_SET] =
		"INSERT INTO policy_nodes (node, applied, failed, error, at_us) "
		"VALUES (CAST($1 AS TEXT), CAST($2 AS BIGINT), CAST($3 AS BIGINT), CAST($4 AS TEXT), corral_now_us()) "
		"ON CONFLICT (node) DO UPDATE SET applied = excluded.applied, failed = excluded.failed, "
		"error = excluded.error, at_us = excluded.at_us",
	/* must match enum store_policy_node_column */
	[STORE_SQL_POLICY_NODES] =
		"SELECT node, applied, failed, error, at_us FROM policy_nodes ORDER BY node",
	/* a task's files (store_files.h): metadata, then content in chunks,
	 * each chunk counted in the task's stored_bytes */
	[STORE_SQL_FILES_PUT] =
		"INSERT INTO task_files (task_id, kind, name, mode, size, sha256, truncated, is_dir) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[STORE_SQL_FILES_CHUNK_PUT] = "INSERT INTO task_file_chunks (task_id, kind, name, chunk, data_b64) "
				      "VALUES ($1, $2, $3, $4, $5)",
	[STORE_SQL_FILES_COUNT] = "UPDATE tasks SET stored_bytes = stored_bytes + $2 WHERE id = $1",
	/* must match enum store_files_column */
	[STORE_SQL_FILES_LIST] = "SELECT name, mode, size, sha256, truncated, is_dir FROM task_files "
				 "WHERE task_id = $1 AND kind = $2 ORDER BY name",
	[STORE_SQL_FILES_CHUNK_GET] = "SELECT data_b64 FROM task_file_chunks WHERE task_id = $1 AND kind = $2 "
				      "AND name = $3 AND chunk = $4",
	/* retention removes a task: its files go with it */
	[STORE_SQL_FILES_PURGE] = "DELETE FROM task_files WHERE task_id = $1",
	[STORE_SQL_FILES_PURGE_CHUNKS] = "DELETE FROM task_file_chunks WHERE task_id = $1",
	/* artifact retention: a tenant's ended tasks whose artifacts expired,
	 * with the bytes they hold */
	[STORE_SQL_FILES_EXPIRED] =
		"SELECT f.task_id, SUM(f.size) FROM task_files f JOIN tasks t ON t.id = f.task_id "
		"WHERE t.user_name = $1 AND t.state IN " TERMINAL " AND t.ended_at_us < $2 "
		"AND f.kind = 'artifact' GROUP BY f.task_id ORDER BY f.task_id LIMIT $3",
	[STORE_SQL_FILES_DROP_ARTIFACTS] = "DELETE FROM task_files WHERE task_id = $1 AND kind = 'artifact'",
	[STORE_SQL_FILES_DROP_ARTIFACT_CHUNKS] =
		"DELETE FROM task_file_chunks WHERE task_id = $1 AND kind = 'artifact'",
	/* the files of one kind of a task removed (its inputs at its end),
	 * with the bytes they hold */
	[STORE_SQL_FILES_KIND_BYTES] =
		"SELECT COALESCE(SUM(size), 0) FROM task_files WHERE task_id = $1 AND kind = $2",
	[STORE_SQL_FILES_DROP_KIND] = "DELETE FROM task_files WHERE task_id = $1 AND kind = $2",
	[STORE_SQL_FILES_DROP_KIND_CHUNKS] = "DELETE FROM task_file_chunks WHERE task_id = $1 AND kind = $2",
	/* staged uploads (store_upload.h): a row per upload, its content in
	 * chunks like a task file's until a submit takes them */
	[STORE_SQL_UPLOAD_BEGIN] =
		"INSERT INTO uploads (id, user_name, size, received, sha256, created_at_us, "
		"expires_at_us) VALUES ($1, $2, $3, 0, '', $4, $5)",
	/* must match enum store_upload_column */
	[STORE_SQL_UPLOAD_GET] = "SELECT id, user_name, size, received, sha256, created_at_us, expires_at_us "
				 "FROM uploads WHERE id = $1",
	/* the next chunk only where the last one ended (one writer wins) */
	[STORE_SQL_UPLOAD_ADVANCE] = "UPDATE uploads SET received = received + $3, expires_at_us = $4 "
				     "WHERE id = $1 AND received = $2 AND received + $3 <= size",
	[STORE_SQL_UPLOAD_CHUNK_PUT] =
		"INSERT INTO upload_chunks (upload_id, chunk, data_b64) VALUES ($1, $2, $3)",
	[STORE_SQL_UPLOAD_CHUNK_GET] =
		"SELECT data_b64 FROM upload_chunks WHERE upload_id = $1 AND chunk = $2",
	[STORE_SQL_UPLOAD_SEAL] = "UPDATE uploads SET sha256 = $2 WHERE id = $1 AND received = size",
	[STORE_SQL_UPLOAD_STAGED] =
		"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads WHERE user_name = $1",
	/* a submit takes an upload: its chunks become the task's input */
	[STORE_SQL_UPLOAD_TAKE_CHUNKS] =
		"INSERT INTO task_file_chunks (task_id, kind, name, chunk, data_b64) "
		"SELECT CAST($1 AS BIGINT), 'input', CAST($2 AS TEXT), chunk, data_b64 "
		"FROM upload_chunks WHERE upload_id = $3",
	[STORE_SQL_UPLOAD_DROP_CHUNKS] = "DELETE FROM upload_chunks WHERE upload_id = $1",
	[STORE_SQL_UPLOAD_DROP] = "DELETE FROM uploads WHERE id = $1",
	[STORE_SQL_UPLOAD_EXPIRED] = "SELECT id FROM uploads WHERE expires_at_us < $1 ORDER BY id LIMIT $2",
};
