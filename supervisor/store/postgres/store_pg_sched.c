/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_sched.c — what any node of a cluster
 * reads to answer for the whole cluster (store_cluster.h): one tenant's
 * load and stored bytes for a submit's checks, under the tenant's quota
 * lock; and the scheduler's fairness state (each tenant's pass and the
 * virtual time), saved after its rounds and read by the other nodes for
 * queue positions and by a new scheduler.  PostgreSQL only (an advisory
 * lock, arrays), hence here and not in store_sql.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* The tenant's quota lock, held until the transaction ends (the loop's
 * batch): an advisory lock on a hash of the name (the two-key form: a key
 * space apart from the one-key locks of store_pg.c and the migrations). */
static const char tenant_lock_sql[] = "SELECT pg_advisory_xact_lock(72421315, hashtext($1))";

/* A new statement, so a new snapshot: it sees what a submit that held the
 * lock before committed. */
static const char tenant_load_sql[] =
	"SELECT COUNT(*) FILTER (WHERE state = 'queued' AND lease_owner IS NULL), "
	"COUNT(*) FILTER (WHERE lease_owner IS NOT NULL), "
	"COALESCE(SUM(cpu_reserved_us) FILTER (WHERE lease_owner IS NOT NULL), 0), "
	"COALESCE(SUM(stored_bytes), 0) FROM tasks WHERE user_name = $1";

int store_pg_sched_tenant_load(struct store *base, const char *user, bool lock, struct store_tenant_load *out,
			       struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	const char *values[1] = { user };
	PGresult *res;

	memset(out, 0, sizeof(*out));
	if (lock) {
		res = PQexecParams(store->conn, tenant_lock_sql, 1, NULL, values, NULL, NULL, 0);
		if (!store_pg_ok(res))
			return store_pg_error_fail(store, res, err, "quota", "lock the quota of %s", user);
		PQclear(res);
	}
	res = PQexecParams(store->conn, tenant_load_sql, 1, NULL, values, NULL, NULL, 0);
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "tenant", "read the load of %s", user);
	out->queued = store_pg_i64(res, 0, 0, 0);
	out->live = store_pg_i64(res, 0, 1, 0);
	out->reserved_us = store_pg_i64(res, 0, 2, 0);
	out->stored_bytes = store_pg_i64(res, 0, 3, 0);
	PQclear(res);
	return 0;
}

/* ---- the scheduler's fairness state ----------------------------------------- */

static const char fair_save_sql[] = "INSERT INTO sched_fair (user_name, pass) "
				    "SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[])) "
				    "ON CONFLICT (user_name) DO UPDATE SET pass = EXCLUDED.pass";

static const char fair_load_sql[] = "SELECT user_name, pass FROM sched_fair";

/* An array literal's element: text quoted (numbers as they are). */
static bool array_add(char **s, size_t *len, size_t *cap, size_t i, const char *text, int64_t number)
{
	char num[24];
	size_t need = (text ? 2 * strlen(text) + 2 : sizeof(num)) + 3;

	if (*len + need > *cap) {
		size_t more = (*len + need) * 2;
		char *p = realloc(*s, more);

		if (!p)
			return false;
		*s = p;
		*cap = more;
	}
	(*s)[(*len)++] = i ? ',' : '{';
	if (!text) {
		*len += (size_t)snprintf(*s + *len, *cap - *len, "%" PRId64, number);
	} else {
		(*s)[(*len)++] = '"';
		for (const char *c = text; *c; c++) {
			if (*c == '"' || *c == '\\')
				(*s)[(*len)++] = '\\';
			(*s)[(*len)++] = *c;
		}
		(*s)[(*len)++] = '"';
	}
	(*s)[*len] = '\0';
	return true;
}

int store_pg_sched_fair_save(struct store *base, const struct store_fair *items, size_t n, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	char *cols[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, cap[2] = { 0, 0 };
	bool ok = true, own;
	PGresult *res;
	int r = 0;

	for (size_t i = 0; ok && i < n; i++)
		ok = array_add(&cols[0], &len[0], &cap[0], i, items[i].user, 0) &&
			array_add(&cols[1], &len[1], &cap[1], i, NULL, items[i].pass);
	for (int c = 0; ok && c < 2; c++) {
		char *p = realloc(cols[c], len[c] + 2);

		ok = p != NULL;
		if (p) {
			cols[c] = p;
			memcpy(p + len[c], "}", 2);
		}
	}
	if (!ok || !n) {
		if (!ok)
			r = error_set(err, ENOMEM, "fairness",
				      "save the fairness of %zu tenants: out of memory", n);
		goto out;
	}
	/* advisory (a lost save leaves a failover's shares a little off, no
	 * invariant): it need not wait for its WAL to reach the disk */
	if ((r = store_pg_async_begin(store, &own, err)) < 0)
		goto out;
	res = PQexecParams(store->conn, fair_save_sql, 2, NULL, (const char *const *)cols, NULL, NULL, 0);
	if (!store_pg_ok(res))
		r = store_pg_error_fail(store, res, err, "fairness", "save the fairness of %zu tenants", n);
	else
		PQclear(res);
	r = store_pg_async_end(store, own, r, err);
out:
	free(cols[0]);
	free(cols[1]);
	return r;
}

int store_pg_sched_fair_load(struct store *base, struct store_fair_list *out, struct error *err)
{
	struct store_pg *store = store_pg_of(base);
	PGresult *res = PQexec(store->conn, fair_load_sql);
	bool oom = false;
	int rows;

	memset(out, 0, sizeof(*out));
	if (!store_pg_ok(res))
		return store_pg_error_fail(store, res, err, "fairness", "read the scheduler's fairness");
	rows = PQntuples(res);
	out->items = calloc((size_t)rows + 1, sizeof(*out->items));
	for (int i = 0; out->items && i < rows && !oom; i++) {
		struct store_fair *f = &out->items[out->count++];

		f->user = store_pg_dup(res, i, 0, &oom);
		f->pass = store_pg_i64(res, i, 1, 0);
	}
	PQclear(res);
	if (!out->items || oom) {
		store_cluster_fair_list_free(out);
		return error_set(err, ENOMEM, "fairness", "read the scheduler's fairness: out of memory");
	}
	return 0;
}
