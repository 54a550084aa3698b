/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/pg.h — a real PostgreSQL for one test run (unit tests of the
 * PostgreSQL store, integration tests, benchmarks): initdb + pg_ctl from
 * /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package) in a
 * temp dir, run as an unprivileged user (`nobody` when the test runs as
 * root: initdb refuses root), listening on a Unix socket in that dir only
 * (no TCP port, so parallel runs never clash), superuser "corral" with
 * trust authentication.  A database per test; stopped and removed at the
 * end, and by a watchdog process if the test program dies first, so no
 * server outlives its test.
 */
#ifndef CORRAL_TESTS_LIB_PG_H
#define CORRAL_TESTS_LIB_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pg_server {
	char dir[64];     /* temp dir: data/, the socket, server.log */
	char bindir[256]; /* where initdb and pg_ctl are */
	uid_t uid;        /* who runs the server */
	gid_t gid;
	bool running;
	pid_t watchdog;     /* stops the server if this process dies */
	int watchdog_fd;    /* its pipe's write end (close-on-exec) */
	unsigned databases; /* databases made so far (names t1, t2, ...) */
};

/* The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl
 * into bindir; -ENOENT if there is none. */
int pg_find_bindir(char *bindir, size_t size);

/* Start a server (fsync=off unless durable: benchmarks compare it with
 * SQLite at synchronous=FULL).  0; -ENOENT with why filled when no
 * PostgreSQL binaries are installed (callers skip loudly); another -errno
 * with why (the log's last lines) when a step failed. */
int pg_server_start(struct pg_server *s, bool durable, char *why, size_t size);
/* Stop (pg_ctl stop -m fast, then immediate) and remove the dir. */
void pg_server_stop(struct pg_server *s);
/* pg_ctl restart -m immediate (a crash and a recovery, same data). */
int pg_server_restart_immediate(struct pg_server *s);

/* A new empty database; its name into name, its libpq URI into uri
 * ("postgresql:///tN?host=DIR&user=corral").  0 or -errno with why. */
int pg_server_create_db(struct pg_server *s, char *name, size_t name_size, char *uri, size_t uri_size,
			char *why, size_t why_size);
/* Drop it, with any connections to it still open. */
int pg_server_drop_db(struct pg_server *s, const char *name);
/* Run sql as superuser on database db (its commands' results dropped).
 * 0, or -1 with the server's message in why. */
int pg_server_exec(struct pg_server *s, const char *db, const char *sql, char *why, size_t why_size);

/* One server shared by a test program, started at first call (durable
 * off) and stopped at exit.  NULL with why when it cannot start. */
struct pg_server *pg_shared_server(char *why, size_t size);
/* A new database on the shared server, its URI into uri (the test skips
 * loudly without PostgreSQL, fails when the database cannot be made). */
void pg_shared_db(const char *purpose, char *uri, size_t uri_size);
/* The shared server; without one the test skips loudly (fails under
 * CORRAL_MUST_WORK=1). */
struct pg_server *pg_shared_server_or_skip(void);
/* sql must run without error on database db (a DO block asserts). */
void pg_expect_sql(struct pg_server *pg, const char *db, const char *sql);

#endif
