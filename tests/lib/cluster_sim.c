/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/cluster_sim.c — the cluster scheduler's round without jails
 * (cluster_sim.h): a reduced corrald, simulated nodes and runner.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "supervisor/common/log.h"
#include "supervisor/store/store.h"
#include "supervisor/store/store_leader.h"
#include "tests/lib/cluster_sim.h"

static int fail(char *why, size_t size, int r, const char *what, const char *message)
{
	snprintf(why, size, "%s: %s", what, message);
	return r;
}

static int open_raw(struct cluster_sim *s, const char *uri, char *why, size_t size)
{
	const char *backend = NULL, *location = NULL;
	struct error err;

	if (store_uri_parse(uri, &backend, &location, &err) < 0)
		return fail(why, size, -EINVAL, uri, err.message);
	s->pg = strcmp(backend, "postgresql") == 0;
	if (s->pg) {
		PGconn *conn = PQconnectdb(uri);

		s->raw = conn;
		if (PQstatus(conn) != CONNECTION_OK)
			return fail(why, size, -EIO, "connect", PQerrorMessage(conn));
		return cluster_sim_sql(s, "SET search_path TO corral", NULL, why, size) < 0 ? -EIO : 0;
	}
	if (sqlite3_open_v2(location, (sqlite3 **)&s->raw, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return fail(why, size, -EIO, location, sqlite3_errmsg(s->raw));
	sqlite3_busy_timeout(s->raw, 60000);
	return 0;
}

int cluster_sim_open(struct cluster_sim *s, const char *uri, const char *policy_text, const char *name,
		     char *why, size_t why_size)
{
	struct daemon *d = &s->d;
	struct store_options opts = { .busy_timeout_ms = 60000 };
	struct error err;
	int r;

	memset(s, 0, sizeof(*s));
	log_set_level(LOG_LEVEL_WARNING); /* a line per assignment otherwise */
	d->epfd = d->signal_fd = d->listen_fd = d->timer_fd = d->lock_fd = d->wake_fd = -1;
	if (policy_load_buffer("cluster-sim.policy", policy_text, strlen(policy_text), POLICY_LOAD_NO_INCLUDE,
			       &d->policy, NULL) < 0)
		return fail(why, why_size, -EINVAL, "policy", "the simulation's policy does not load");
	d->cfg = policy_supervisor(d->policy);
	if ((r = store_open(uri, &opts, &d->store, &err)) < 0)
		return fail(why, why_size, r, "open the store", err.message);
	d->user_buckets = 1024;
	d->user_table = calloc(d->user_buckets, sizeof(*d->user_table));
	if (!d->user_table)
		return -ENOMEM;
	if ((r = tenants_load(d)) < 0)
		return fail(why, why_size, r, "tenants", strerror(-r));
	snprintf(d->node_name, sizeof(d->node_name), "%s", name);
	snprintf(d->node_incarnation, sizeof(d->node_incarnation), "%.26s-sched", name);
	d->cluster = true;
	return open_raw(s, uri, why, why_size);
}

void cluster_sim_close(struct cluster_sim *s)
{
	struct daemon *d = &s->d;

	cluster_sched_forget(d);
	if (d->store && d->cluster_leader)
		store_leader_resign(d->store, d->node_incarnation, NULL);
	tenants_free(d);
	queue_free_all(d); /* the users and tasks the rounds loaded */
	free(d->user_table);
	store_close(d->store);
	policy_free(d->policy);
	if (s->pg)
		PQfinish(s->raw);
	else if (s->raw)
		sqlite3_close(s->raw);
	memset(s, 0, sizeof(*s));
}

int cluster_sim_add_nodes(struct cluster_sim *s, const char *prefix, unsigned n, int64_t slots,
			  int64_t memory_bytes, int64_t gpus, char *why, size_t why_size)
{
	for (unsigned i = 0; i < n; i++) {
		char name[48], incarnation[64];
		struct store_node node = {
			.name = name,
			.incarnation = incarnation,
			.version = "sim",
			.labels = "",
			.offline_after_us = 3600ll * 1000000,
			.cores = slots,
			.memory_bytes = memory_bytes,
			.slots = slots,
			.gpus = gpus,
			.gpu_memory_bytes = gpus ? 16ll << 30 : 0,
			.free_slots = slots,
			.free_memory_bytes = memory_bytes,
			.free_gpus = gpus,
		};
		struct error err;
		bool draining;
		int r;

		snprintf(name, sizeof(name), "%s-%u", prefix, i);
		snprintf(incarnation, sizeof(incarnation), "%.20s-%u-inc", prefix, i);
		if ((r = store_node_join(s->d.store, &node, &draining, &err)) < 0)
			return fail(why, why_size, r, "join a simulated node", err.message);
	}
	return 0;
}

int cluster_sim_submit(struct cluster_sim *s, const char *prefix, unsigned tenants, unsigned per_tenant,
		       int64_t memory_bytes, int64_t gpus, char *why, size_t why_size)
{
	char user[48];
	struct store_task t = {
		.user = user,
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = "[\"/bin/true\"]",
		.wall_limit_ms = 60000,
		.cpu_limit_us = 10000000,
		.memory_limit_bytes = memory_bytes,
		.gpus = gpus,
	};
	struct error err;
	int64_t id;
	int r;

	if ((r = store_batch_begin(s->d.store, &err)) < 0)
		return fail(why, why_size, r, "submit", err.message);
	for (unsigned k = 0; k < per_tenant; k++)
		for (unsigned i = 0; i < tenants; i++) {
			snprintf(user, sizeof(user), "%s%u", prefix, i);
			if ((r = store_submit(s->d.store, &t, &id, &err)) < 0) {
				store_batch_abort(s->d.store);
				return fail(why, why_size, r, "submit", err.message);
			}
		}
	if ((r = store_batch_commit(s->d.store, &err)) < 0)
		return fail(why, why_size, r, "submit", err.message);
	return 0;
}

int cluster_sim_lead(struct cluster_sim *s, int64_t lease_us)
{
	struct store_leader l;
	struct error err;
	int r = store_leader_acquire(s->d.store, s->d.node_name, s->d.node_incarnation, lease_us, &l, &err);

	if (r < 0)
		return r;
	s->d.cluster_leader = l.held;
	if (l.held)
		s->d.leader_term = l.term;
	return l.held ? 1 : 0;
}

void cluster_sim_round(struct cluster_sim *s)
{
	cluster_schedule(&s->d);
}

int cluster_sim_sql(struct cluster_sim *s, const char *sql, int64_t *value, char *why, size_t why_size)
{
	if (value)
		*value = 0;
	if (s->pg) {
		PGresult *res = PQexec(s->raw, sql);
		int st = PQresultStatus(res);

		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			snprintf(why, why_size, "%s: %s", sql, PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		if (value && st == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			*value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		return 0;
	}
	sqlite3_stmt *stmt;
	const char *tail = sql;
	int rc = SQLITE_OK;

	while (rc == SQLITE_OK && tail && *tail) {
		rc = sqlite3_prepare_v2(s->raw, tail, -1, &stmt, &tail);
		if (rc != SQLITE_OK || !stmt)
			break;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			if (value)
				*value = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc != SQLITE_OK) {
		snprintf(why, why_size, "%s: %s", sql, sqlite3_errmsg(s->raw));
		return -1;
	}
	return 0;
}

int cluster_sim_end_assigned(struct cluster_sim *s, int64_t *ended, char *why, size_t why_size)
{
	int r = cluster_sim_sql(s, "SELECT COUNT(*) FROM tasks WHERE lease_owner IS NOT NULL", ended, why,
				why_size);

	if (r == 0 && *ended)
		r = cluster_sim_sql(
			s,
			"UPDATE tasks SET state = 'succeeded', reason = 'exit_code', exit_code = 0, "
			"lease_owner = NULL, lease_until_us = NULL, cpu_reserved_us = 0 "
			"WHERE lease_owner IS NOT NULL",
			NULL, why, why_size);
	return r;
}

int cluster_sim_live_maxima(struct cluster_sim *s, int64_t *per_tenant, int64_t *per_node,
			    int64_t *nodes_over_memory, char *why, size_t why_size)
{
	int r = cluster_sim_sql(s,
				"SELECT COALESCE(MAX(c), 0) FROM (SELECT COUNT(*) AS c FROM tasks "
				"WHERE lease_owner IS NOT NULL GROUP BY user_name) x",
				per_tenant, why, why_size);

	if (r == 0)
		r = cluster_sim_sql(s,
				    "SELECT COALESCE(MAX(c), 0) FROM (SELECT COUNT(*) AS c FROM tasks "
				    "WHERE lease_owner IS NOT NULL GROUP BY node_name) x",
				    per_node, why, why_size);
	if (r == 0)
		r = cluster_sim_sql(
			s,
			"SELECT COUNT(*) FROM (SELECT t.node_name FROM tasks t JOIN nodes n "
			"ON n.name = t.node_name WHERE t.lease_owner IS NOT NULL AND n.memory_bytes > 0 "
			"GROUP BY t.node_name, n.memory_bytes "
			"HAVING SUM(t.assigned_memory_bytes) > n.memory_bytes) x",
			nodes_over_memory, why, why_size);
	return r;
}

int cluster_sim_live_mismatches(struct cluster_sim *s, int64_t *mismatches, char *why, size_t why_size)
{
	int64_t users = 0, nodes = 0;
	int r = cluster_sim_sql(
		s,
		"SELECT COUNT(*) FROM (SELECT user_name FROM (SELECT user_name, n, cpu_reserved_us AS c "
		"FROM live_users UNION ALL SELECT user_name, n, cpu_reserved_us FROM live_delta UNION ALL "
		"SELECT user_name, -COUNT(*), -SUM(cpu_reserved_us) FROM tasks WHERE lease_owner IS NOT NULL "
		"GROUP BY user_name) AS x GROUP BY user_name HAVING SUM(n) <> 0 OR SUM(c) <> 0) AS y",
		&users, why, why_size);

	if (r == 0)
		r = cluster_sim_sql(
			s,
			"SELECT COUNT(*) FROM (SELECT node_name FROM (SELECT node_name, n, memory_bytes AS m, "
			"gpus AS g, cpu_millis AS c FROM live_nodes UNION ALL SELECT node_name, n, memory_bytes, "
			"gpus, cpu_millis FROM live_delta UNION ALL SELECT COALESCE(node_name, ''), -COUNT(*), "
			"-SUM(assigned_memory_bytes), -SUM(gpus), -SUM(cpu_millis) FROM tasks "
			"WHERE lease_owner IS NOT NULL GROUP BY COALESCE(node_name, '')) AS x GROUP BY node_name "
			"HAVING SUM(n) <> 0 OR SUM(m) <> 0 OR SUM(g) <> 0 OR SUM(c) <> 0) AS y",
			&nodes, why, why_size);
	*mismatches = users + nodes;
	return r;
}
