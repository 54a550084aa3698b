/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/postgres/store_pg_error.c — the PostgreSQL backend's
 * errors: a failed result as a struct error and -errno (SQLSTATE -> errno;
 * a lost connection is -EIO), the server's message scrubbed of the
 * connection's password.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/store/postgres/store_pg.h"

/* ---- errors ---------------------------------------------------------- */

static int errno_from_sqlstate(const char *state)
{
	if (!state || strlen(state) != 5)
		return EIO;
	if (strcmp(state, "53100") == 0)
		return ENOSPC; /* disk_full */
	if (strcmp(state, "53200") == 0)
		return ENOMEM; /* out_of_memory */
	if (strcmp(state, "53300") == 0)
		return EUSERS; /* too_many_connections */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return EAGAIN; /* serialization_failure, deadlock_detected */
	if (strcmp(state, "55P03") == 0)
		return EBUSY; /* lock_not_available (lock_timeout) */
	if (strcmp(state, "57P03") == 0)
		return ECONNREFUSED; /* cannot_connect_now (starting up) */
	if (strcmp(state, "57014") == 0)
		return ETIMEDOUT; /* query_canceled (statement_timeout) */
	if (strcmp(state, "25006") == 0)
		return EROFS; /* read_only_sql_transaction (a standby) */
	if (strcmp(state, "3D000") == 0)
		return ENOENT; /* invalid_catalog_name: no such database */
	if (strncmp(state, "28", 2) == 0 || strcmp(state, "42501") == 0)
		return EACCES; /* authorization, insufficient_privilege */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return EIO; /* connection exception, admin shutdown */
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return EINVAL; /* integrity constraint, data exception */
	if (strncmp(state, "58", 2) == 0 || strncmp(state, "XX", 2) == 0)
		return EIO; /* system error, internal error */
	return EIO;
}

/* Copy msg into out without its trailing newline and with the URI's
 * password (if any) replaced by "***". */
void store_pg_error_scrub(const struct store_pg *store, const char *msg, char *out, size_t size)
{
	const char *pw = store ? store->password : NULL;
	size_t n = 0, pwlen = pw ? strlen(pw) : 0;

	while (*msg && n + 1 < size) {
		if (pwlen && strncmp(msg, pw, pwlen) == 0) {
			for (const char *s = "***"; *s && n + 1 < size; s++)
				out[n++] = *s;
			msg += pwlen;
			continue;
		}
		out[n++] = *msg == '\n' ? ' ' : *msg;
		msg++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

int store_pg_error_fail(struct store_pg *store, PGresult *res, struct error *err, const char *step,
			const char *fmt, ...)
{
	bool lost = !store->conn || PQstatus(store->conn) == CONNECTION_BAD;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int errnum;

	if (!msg || !msg[0])
		msg = store->conn ? PQerrorMessage(store->conn) : "no connection";
	errnum = lost ? EIO : errno_from_sqlstate(state);
	if (err) {
		char what[200], server[300];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		store_pg_error_scrub(store, msg, server, sizeof(server));
		/* A long message is cut; what was attempted comes first. */
		if (lost)
			error_set(err, errnum, step, "%s: connection to PostgreSQL %s lost: %s", what,
				  store->where, server);
		else
			error_set(err, errnum, step, "%s on %s: %s (SQLSTATE %s)", what, store->where, server,
				  state ? state : "none");
	}
	PQclear(res);
	return -errnum;
}
