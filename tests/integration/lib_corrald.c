/*
 * tests/integration/lib_corrald.c — a real corrald child process for the
 * integration tests (see lib_corrald.h).  No daemon code is linked in:
 * the tests speak the wire protocol through the client library.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/lib_common.h"
#include "tests/integration/lib_corrald.h"

#define START_TIMEOUT_MS 10000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int write_policy(struct corrald *d, const char *supervisor_keys, const char *body)
{
	FILE *f = fopen(d->policy, "w");

	if (!f)
		return -errno;
	fprintf(f, "[supervisor]\ncgroup_parent = %s\n%s\n%s\n", d->cgroup_parent,
		supervisor_keys ? supervisor_keys : "", body ? body : "");
	return fclose(f) == 0 ? 0 : -errno;
}

static int spawn(struct corrald *d, double clock_offset_s)
{
	char offset[64];
	pid_t pid;

	snprintf(offset, sizeof(offset), "%.6f", clock_offset_s);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		setenv("CORRALD_CLOCK_OFFSET", offset, 1);
		execl(test_build_path("corrald"), "corrald", "--policy", d->policy, "--state-dir", d->dir,
		      "--socket", d->socket, (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
		char err[256];
		json_t *r;
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "corrald exited at start; log:\n%s\n", corrald_log_tail(d));
			return -ECHILD;
		}
		if (client_connect(&d->conn, d->socket, err, sizeof(err)) == 0) {
			d->connected = true;
			r = corrald_call(d, "{\"op\":\"ping\"}");
			if (r && !corrald_error_code(r)) {
				json_decref(r);
				return 0;
			}
			json_decref(r);
			client_close(&d->conn);
			d->connected = false;
		}
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

int corrald_start(struct corrald *d, const char *supervisor_keys, const char *policy_body,
		  double clock_offset_s)
{
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/corrald-it-XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	if (chmod(d->dir, 0755) < 0)
		return -errno;
	snprintf(d->socket, sizeof(d->socket), "%s/corrald.sock", d->dir);
	snprintf(d->policy, sizeof(d->policy), "%s/policy.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/corrald.log", d->dir);
	snprintf(d->cgroup_parent, sizeof(d->cgroup_parent), "/corral-it-%d", (int)getpid());
	r = write_policy(d, supervisor_keys, policy_body);
	if (r < 0)
		return r;
	return spawn(d, clock_offset_s);
}

int corrald_restart(struct corrald *d, double clock_offset_s)
{
	int r = corrald_stop(d);

	if (r != 0)
		return r < 0 ? r : -EIO;
	return spawn(d, clock_offset_s);
}

int corrald_stop(struct corrald *d)
{
	int status;

	if (d->connected) {
		client_close(&d->conn);
		d->connected = false;
	}
	if (d->pid <= 0)
		return 0;
	kill(d->pid, SIGTERM);
	for (unsigned waited = 0;; waited += 10) {
		pid_t p = waitpid(d->pid, &status, WNOHANG);

		if (p == d->pid)
			break;
		if (p < 0)
			return -errno;
		if (waited > 15000) {
			fprintf(stderr, "corrald %d did not stop in 15 s after SIGTERM; killing it\n", (int)d->pid);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	d->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rmdir (never write) the test's cgroup parent in every hierarchy,
 * deepest first: only empty cgroups go away. */
static void remove_cgroup_parent(const char *parent)
{
	const char *roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };

	for (size_t i = 0; i < 2; i++) {
		DIR *dir = opendir(roots[i]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char path[1024];
			DIR *sub;
			struct dirent *s;

			if (e->d_name[0] == '.')
				continue;
			if (i == 0)
				snprintf(path, sizeof(path), "%s/%s%s", roots[i], e->d_name, parent);
			else if (strcmp(e->d_name, "cgroup.procs") == 0)
				snprintf(path, sizeof(path), "%s%s", roots[i], parent);
			else
				continue;
			sub = opendir(path);
			if (!sub)
				continue;
			while ((s = readdir(sub)) != NULL) {
				char child[1400];

				if (s->d_type == DT_DIR && s->d_name[0] != '.') {
					snprintf(child, sizeof(child), "%s/%s", path, s->d_name);
					if (rmdir(child) < 0)
						fprintf(stderr, "cleanup: cgroup %s left behind: %s\n", child,
							strerror(errno));
				}
			}
			closedir(sub);
			rmdir(path);
		}
		closedir(dir);
	}
}

void corrald_cleanup(struct corrald *d)
{
	if (d->pid > 0) {
		int r = corrald_stop(d);

		if (r != 0)
			fprintf(stderr, "cleanup: corrald exited with %d; log:\n%s\n", r, corrald_log_tail(d));
	}
	if (d->dir[0]) {
		if (getenv("CORRALD_TEST_KEEP"))
			fprintf(stderr, "keeping %s\n", d->dir);
		else
			nftw(d->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		remove_cgroup_parent(d->cgroup_parent);
		d->dir[0] = '\0';
	}
}

const char *corrald_log_tail(struct corrald *d)
{
	static char buf[4096];
	int fd = open(d->log, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

json_t *corrald_call(struct corrald *d, const char *fmt, ...)
{
	char *line = NULL, err[512];
	json_t *response = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	if (!d->connected) {
		if (client_connect(&d->conn, d->socket, err, sizeof(err)) < 0) {
			fprintf(stderr, "corrald_call: %s\n", err);
			free(line);
			return NULL;
		}
		d->connected = true;
	}
	if (client_call(&d->conn, line, &response, err, sizeof(err)) < 0) {
		fprintf(stderr, "corrald_call: %s\n", err);
		client_close(&d->conn);
		d->connected = false;
		response = NULL;
	}
	free(line);
	return response;
}

const char *corrald_error_code(json_t *response)
{
	const char *code, *message;

	if (!response)
		return "(no response)";
	return client_response_error(response, &code, &message) ? code : NULL;
}

const char *corrald_error_message(json_t *response)
{
	const char *code, *message;

	if (!response)
		return "(no response)";
	return client_response_error(response, &code, &message) ? message : "";
}

int64_t corrald_submit(struct corrald *d, const char *fields)
{
	json_t *r = corrald_call(d, "{\"op\":\"submit\",%s}", fields);
	int64_t id = -1;

	if (r && !corrald_error_code(r))
		id = (int64_t)json_integer_value(json_object_get(json_object_get(r, "task"), "id"));
	else
		fprintf(stderr, "submit {%s}: %s: %s\n", fields, corrald_error_code(r), corrald_error_message(r));
	json_decref(r);
	return id;
}

static json_t *task_of(json_t *r, const char *what, int64_t id)
{
	json_t *task = NULL;

	if (r && !corrald_error_code(r))
		task = json_incref(json_object_get(r, "task"));
	else if (strcmp(corrald_error_code(r), "wait_timeout") != 0)
		fprintf(stderr, "%s %lld: %s: %s\n", what, (long long)id, corrald_error_code(r),
			corrald_error_message(r));
	json_decref(r);
	return task;
}

json_t *corrald_status(struct corrald *d, int64_t id)
{
	return task_of(corrald_call(d, "{\"op\":\"status\",\"id\":%lld}", (long long)id), "status", id);
}

json_t *corrald_wait(struct corrald *d, int64_t id, unsigned timeout_ms)
{
	return task_of(corrald_call(d, "{\"op\":\"wait\",\"id\":%lld,\"timeout_ms\":%u}", (long long)id, timeout_ms),
		       "wait", id);
}

json_t *corrald_wait_state(struct corrald *d, int64_t id, const char *state, unsigned timeout_ms)
{
	for (unsigned waited = 0; waited <= timeout_ms; waited += 10) {
		json_t *t = corrald_status(d, id);

		if (t && strcmp(task_str(t, "state"), state) == 0)
			return t;
		json_decref(t);
		sleep_ms(10);
	}
	return NULL;
}

long long task_int(json_t *task, const char *key)
{
	json_t *v = json_object_get(task, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

const char *task_str(json_t *task, const char *key)
{
	json_t *v = json_object_get(task, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

int corrald_calls_as(struct corrald *d, uid_t uid, gid_t gid, const char *const *lines, size_t n,
		     json_t **out)
{
	int fds[2];
	pid_t pid;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, i = 0;
	int status;

	for (size_t k = 0; k < n; k++)
		out[k] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct client c;
		char err[256];
		FILE *w = fdopen(fds[1], "w");

		close(fds[0]);
		if (!w || setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (client_connect(&c, d->socket, err, sizeof(err)) < 0)
			_exit(3);
		for (size_t k = 0; k < n; k++) {
			json_t *r = NULL;
			char *text;

			if (client_call(&c, lines[k], &r, err, sizeof(err)) < 0)
				_exit(4);
			text = json_dumps(r, JSON_COMPACT);
			fprintf(w, "%s\n", text ? text : "null");
			free(text);
			json_decref(r);
		}
		fclose(w);
		_exit(0);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	while (f && i < n && getline(&line, &cap, f) > 0) {
		out[i++] = json_loads(line, 0, NULL);
	}
	free(line);
	if (f)
		fclose(f);
	else
		close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static bool found_dir;
static const char *wanted_dir;

static int look_for_dir(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	if (flag == FTW_D && strcmp(path + ftw->base, wanted_dir) == 0) {
		found_dir = true;
		return 1;
	}
	return 0;
}

bool cgroup_dir_exists_anywhere(const char *name)
{
	found_dir = false;
	wanted_dir = name;
	nftw("/sys/fs/cgroup", look_for_dir, 32, FTW_PHYS);
	return found_dir;
}

bool process_with_cmdline_exists(const char *cmdline, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (proc && !found && (e = readdir(proc)) != NULL) {
		char path[300], buf[256];
		ssize_t n;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		found = n == (ssize_t)len && memcmp(buf, cmdline, len) == 0;
	}
	if (proc)
		closedir(proc);
	return found;
}
