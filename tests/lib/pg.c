/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/pg.c — a real PostgreSQL per test run (see pg.h): find the
 * binaries, initdb and pg_ctl as an unprivileged user in a temp dir, a
 * watchdog process that stops the server if the test program dies, one
 * database per test over the Unix socket (libpq), stop and remove.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tests/lib/pg.h"
#include "tests/lib/test.h"

int pg_find_bindir(char *bindir, size_t size)
{
	glob_t g;
	int r = -ENOENT;

	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		return -ENOENT;
	/* Sorted: the last is the newest version (same digit count). */
	for (size_t i = g.gl_pathc; i-- > 0;) {
		char ctl[512];

		snprintf(ctl, sizeof(ctl), "%.*s/pg_ctl", (int)(strlen(g.gl_pathv[i]) - strlen("/initdb")),
			 g.gl_pathv[i]);
		if (access(g.gl_pathv[i], X_OK) == 0 && access(ctl, X_OK) == 0) {
			snprintf(bindir, size, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/initdb")),
				 g.gl_pathv[i]);
			r = 0;
			break;
		}
	}
	globfree(&g);
	return r;
}

/* Run bindir/argv[0] as the server's user, output appended to dir/server.log;
 * its exit status, or -errno.  The log is opened as that user. */
static int run_as_server(struct pg_server *s, char *const argv[])
{
	char path[512], log[128];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/%s", s->bindir, argv[0]);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;

		if (getuid() == 0 && s->uid != 0 &&
		    (setgroups(0, NULL) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0))
			_exit(126);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void log_tail(struct pg_server *s, char *why, size_t size, const char *step, const char *file)
{
	char path[128], text[4096];
	size_t n;
	const char *tail;

	snprintf(path, sizeof(path), "%s/%s", s->dir, file);
	test_read_text(path, text, sizeof(text));
	n = strlen(text);
	tail = n > 600 ? text + n - 600 : text;
	snprintf(why, size, "PostgreSQL %s failed (in %s): %s", step, s->dir, tail);
}

static int pg_ctl_stop(struct pg_server *s, const char *mode)
{
	char data[96];
	char *argv[] = { "pg_ctl", "-D", data, "-m", (char *)mode, "-w", "-s", "stop", NULL };

	snprintf(data, sizeof(data), "%s/data", s->dir);
	return run_as_server(s, argv);
}

/* The watchdog: blocks on the pipe; at EOF (the test program exited or
 * died) stops a server still running and removes the dir. */
static void watchdog_run(struct pg_server *s, int fd)
{
	char data[96], c;
	struct stat st;

	for (int i = 3; i < 1024; i++)
		if (i != fd)
			close(i);
	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	snprintf(data, sizeof(data), "%s/data", s->dir);
	if (stat(data, &st) == 0) {
		pg_ctl_stop(s, "immediate");
		test_remove_tree(s->dir);
	}
	_exit(0);
}

static int start_watchdog(struct pg_server *s)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fds[1]);
		signal(SIGINT, SIG_IGN); /* a ^C to the test: stop the server anyway */
		watchdog_run(s, fds[0]);
	}
	close(fds[0]);
	s->watchdog = pid;
	s->watchdog_fd = fds[1];
	return 0;
}

int pg_server_start(struct pg_server *s, bool durable, char *why, size_t size)
{
	char data[96], opts[512];
	int r;

	memset(s, 0, sizeof(*s));
	s->watchdog_fd = -1;
	if (pg_find_bindir(s->bindir, sizeof(s->bindir)) < 0) {
		snprintf(why, size,
			 "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); "
			 "install Debian's postgresql package (make deps)");
		return -ENOENT;
	}
	s->uid = getuid();
	s->gid = getgid();
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");

		if (!pw) {
			snprintf(why, size,
				 "running as root, and there is no user nobody to run PostgreSQL as");
			return -ESRCH;
		}
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/corral-pg-XXXXXX");
	if (!mkdtemp(s->dir)) {
		snprintf(why, size, "mkdtemp /tmp/corral-pg-XXXXXX: %s", strerror(errno));
		return -errno;
	}
	if (chown(s->dir, s->uid, s->gid) < 0 || chmod(s->dir, 0755) < 0) {
		r = -errno;
		snprintf(why, size, "chown %s: %s", s->dir, strerror(errno));
		test_remove_tree(s->dir);
		return r;
	}
	snprintf(data, sizeof(data), "%s/data", s->dir);
	{
		char *argv[] = { "initdb",
				 "-D",
				 data,
				 "-U",
				 "corral",
				 "--auth=trust",
				 "-E",
				 "UTF8",
				 "--locale=C",
				 "--no-sync",
				 "--no-instructions",
				 NULL };

		r = run_as_server(s, argv);
	}
	if (r != 0) {
		log_tail(s, why, size, "initdb", "server.log");
		test_remove_tree(s->dir);
		return -EIO;
	}
	snprintf(opts, sizeof(opts),
		 "-k %s -c listen_addresses='' -c max_connections=100 -c fsync=%s "
		 "-c full_page_writes=%s -c shared_buffers=32MB",
		 s->dir, durable ? "on" : "off", durable ? "on" : "off");
	{
		char log[128];
		char *argv[] = { "pg_ctl", "-D", data, "-l", log,     "-w", "-s",
				 "-t",     "60", "-o", opts, "start", NULL };

		snprintf(log, sizeof(log), "%s/postgres.log", s->dir);
		r = run_as_server(s, argv);
	}
	if (r != 0) {
		log_tail(s, why, size, "pg_ctl start", "postgres.log");
		pg_ctl_stop(s, "immediate");
		test_remove_tree(s->dir);
		return -EIO;
	}
	s->running = true;
	r = start_watchdog(s);
	if (r < 0) {
		snprintf(why, size, "start the watchdog: %s", strerror(-r));
		pg_server_stop(s);
		return r;
	}
	return 0;
}

int pg_server_restart_immediate(struct pg_server *s)
{
	char data[96], log[128];
	char *argv[] = { "pg_ctl", "-D", data, "-l", log,       "-m", "immediate",
			 "-w",     "-s", "-t", "60", "restart", NULL };

	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/postgres.log", s->dir);
	return run_as_server(s, argv) == 0 ? 0 : -EIO;
}

void pg_server_stop(struct pg_server *s)
{
	if (s->running) {
		if (pg_ctl_stop(s, "fast") != 0)
			pg_ctl_stop(s, "immediate");
		s->running = false;
		test_remove_tree(s->dir);
	}
	if (s->watchdog_fd >= 0) {
		close(s->watchdog_fd);
		s->watchdog_fd = -1;
	}
	if (s->watchdog > 0) {
		waitpid(s->watchdog, NULL, 0);
		s->watchdog = 0;
	}
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pg_server_exec(struct pg_server *s, const char *db, const char *sql, char *why, size_t why_size)
{
	char conninfo[256];
	PGconn *conn;
	PGresult *res;
	int r = 0;

	snprintf(conninfo, sizeof(conninfo), "host=%s user=corral dbname=%s", s->dir, db);
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(why, why_size, "connect to %s: %s", db, PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, quiet, NULL);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(why, why_size, "%s: %s", sql, PQresultErrorMessage(res));
		r = -1;
	}
	PQclear(res);
	PQfinish(conn);
	return r;
}

int pg_server_create_db(struct pg_server *s, char *name, size_t name_size, char *uri, size_t uri_size,
			char *why, size_t why_size)
{
	char sql[96];

	snprintf(name, name_size, "t%u", ++s->databases);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (pg_server_exec(s, "postgres", sql, why, why_size) < 0)
		return -EIO;
	snprintf(uri, uri_size, "postgresql:///%s?host=%s&user=corral", name, s->dir);
	return 0;
}

int pg_server_drop_db(struct pg_server *s, const char *name)
{
	char sql[96], why[256];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	return pg_server_exec(s, "postgres", sql, why, sizeof(why)) < 0 ? -EIO : 0;
}

static struct pg_server shared;
static bool shared_started;

static void shared_stop(void)
{
	if (shared_started)
		pg_server_stop(&shared);
	shared_started = false;
}

struct pg_server *pg_shared_server(char *why, size_t size)
{
	static int result = 1;

	if (result == 1) {
		result = pg_server_start(&shared, false, why, size);
		if (result == 0) {
			shared_started = true;
			atexit(shared_stop);
		}
	}
	if (result != 0 && why[0] == '\0')
		snprintf(why, size, "the test's PostgreSQL server did not start (see above)");
	return result == 0 ? &shared : NULL;
}

void pg_shared_db(const char *purpose, char *uri, size_t uri_size)
{
	struct pg_server *pg;
	char why[512] = "", db[32];

	pg = pg_shared_server(why, sizeof(why));
	if (!pg)
		test_skip_loudly("no PostgreSQL for %s: %s", purpose, why);
	if (pg_server_create_db(pg, db, sizeof(db), uri, uri_size, why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
}

struct pg_server *pg_shared_server_or_skip(void)
{
	char why[512] = "";
	struct pg_server *pg = pg_shared_server(why, sizeof(why));

	if (!pg)
		test_skip_loudly("no PostgreSQL for the store: %s", why);
	return pg;
}

void pg_expect_sql(struct pg_server *pg, const char *db, const char *sql)
{
	char why[512];

	if (pg_server_exec(pg, db, sql, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}
