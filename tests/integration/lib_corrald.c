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
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
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

int corrald_write_policy(struct corrald *d, const char *supervisor_keys, const char *policy_body)
{
	return write_policy(d, supervisor_keys, policy_body);
}

int corrald_spawn(struct corrald *d, double clock_offset_s)
{
	const char *state_dir = d->state_dir[0] ? d->state_dir : d->dir;
	char offset[64];
	pid_t pid;

	d->clock_offset_s = clock_offset_s;
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
		/* a shifted clock: the test build of corrald that injects one */
		if (clock_offset_s != 0)
			execl(test_build_path("tests/helpers/corrald-clock"), "corrald-clock", offset, "--policy",
			      d->policy, "--state-dir", state_dir, "--socket", d->socket, (char *)NULL);
		else
			execl(test_build_path("corrald"), "corrald", "--policy", d->policy, "--state-dir",
			      state_dir, "--socket", d->socket, (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
		struct error err;
		json_t *r;
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			if (WIFSIGNALED(status))
				fprintf(stderr, "corrald was killed by signal %d at start; log:\n%s\n", WTERMSIG(status),
					corrald_log_tail(d));
			else
				fprintf(stderr, "corrald exited with %d at start; log:\n%s\n", WEXITSTATUS(status),
					corrald_log_tail(d));
			return -ECHILD;
		}
		if (connection_connect(&d->conn, d->socket, &err) == 0) {
			d->connected = true;
			r = corrald_call(d, "{\"op\":\"ping\"}");
			if (r && !corrald_error_code(r)) {
				json_decref(r);
				return 0;
			}
			json_decref(r);
			connection_close(&d->conn);
			d->connected = false;
		}
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

int corrald_prepare(struct corrald *d, const char *supervisor_keys, const char *policy_body)
{
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
	return write_policy(d, supervisor_keys, policy_body);
}

int corrald_start(struct corrald *d, const char *supervisor_keys, const char *policy_body,
		  double clock_offset_s)
{
	int r = corrald_prepare(d, supervisor_keys, policy_body);

	return r < 0 ? r : corrald_spawn(d, clock_offset_s);
}

int corrald_restart(struct corrald *d, double clock_offset_s)
{
	int r = corrald_stop(d);

	if (r != 0)
		return r < 0 ? r : -EIO;
	return corrald_spawn(d, clock_offset_s);
}

void corrald_kill9(struct corrald *d)
{
	if (d->connected) {
		connection_close(&d->conn);
		d->connected = false;
	}
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

int corrald_crash_restart(struct corrald *d)
{
	corrald_kill9(d);
	return corrald_spawn(d, d->clock_offset_s);
}

int corrald_signal(struct corrald *d, int sig)
{
	if (d->pid <= 0)
		return -ESRCH;
	return kill(d->pid, sig) < 0 ? -errno : 0;
}

static int wait_child(pid_t pid, unsigned timeout_ms)
{
	int status;

	for (unsigned waited = 0;; waited += 5) {
		pid_t p = waitpid(pid, &status, WNOHANG);

		if (p == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (p < 0)
			return -errno;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}

int corrald_wait_exit(struct corrald *d, unsigned timeout_ms)
{
	int r;

	if (d->pid <= 0)
		return -ECHILD;
	r = wait_child(d->pid, timeout_ms);
	if (r == -ETIMEDOUT)
		return r;
	d->pid = 0;
	if (d->connected) {
		connection_close(&d->conn);
		d->connected = false;
	}
	return r;
}

int corrald_run_other(const char *policy, const char *state_dir, const char *socket, const char *log,
		      unsigned timeout_ms)
{
	pid_t pid = fork();
	int r;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(test_build_path("corrald"), "corrald", "--policy", policy, "--state-dir", state_dir,
		      "--socket", socket, (char *)NULL);
		_exit(127);
	}
	r = wait_child(pid, timeout_ms);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return r;
}

int corrald_stop(struct corrald *d)
{
	int status;

	if (d->connected) {
		connection_close(&d->conn);
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

/* Jails a killed corrald left running (a test that failed mid-way): kill
 * them through cgroup.kill of their unified cgroups, so their cgroups can
 * be removed. */
static void kill_leftover_jails(const char *parent)
{
	const char *roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

	for (size_t i = 0; i < 2; i++) {
		char path[512];
		DIR *dir;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s%s", roots[i], parent);
		dir = opendir(path);
		while (dir && (e = readdir(dir)) != NULL) {
			char file[1024];
			int fd;

			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s/cgroup.kill", path, e->d_name);
			fd = open(file, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (write(fd, "1", 1) == 1)
				fprintf(stderr, "cleanup: killed a jail left in %s/%s\n", path, e->d_name);
			close(fd);
		}
		if (dir)
			closedir(dir);
	}
	sleep_ms(100);
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
		if (d->cgroup_parent[0])
			kill_leftover_jails(d->cgroup_parent);
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
	char *line = NULL;
	struct error err;
	json_t *response = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	if (!d->connected) {
		if (connection_connect(&d->conn, d->socket, &err) < 0) {
			fprintf(stderr, "corrald_call: %s\n", err.message);
			free(line);
			return NULL;
		}
		d->connected = true;
	}
	if (connection_call(&d->conn, line, &response, &err) < 0) {
		fprintf(stderr, "corrald_call: %s\n", err.message);
		connection_close(&d->conn);
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
	return connection_response_error(response, &code, &message) ? code : NULL;
}

const char *corrald_error_message(json_t *response)
{
	const char *code, *message;

	if (!response)
		return "(no response)";
	return connection_response_error(response, &code, &message) ? message : "";
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
		struct connection c;
		struct error err;
		FILE *w = fdopen(fds[1], "w");

		close(fds[0]);
		if (!w || setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (connection_connect(&c, d->socket, &err) < 0)
			_exit(3);
		for (size_t k = 0; k < n; k++) {
			json_t *r = NULL;
			char *text;

			if (connection_call(&c, lines[k], &r, &err) < 0)
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

json_t *corrald_list(struct corrald *d, const char *user)
{
	json_t *r, *tasks = NULL;

	if (user)
		r = corrald_call(d, "{\"op\":\"list\",\"user\":\"%s\",\"limit\":%u}", user, API_MAX_LIST_LIMIT);
	else
		r = corrald_call(d, "{\"op\":\"list\",\"limit\":%u}", API_MAX_LIST_LIMIT);
	if (r && !corrald_error_code(r))
		tasks = json_incref(json_object_get(r, "tasks"));
	else
		fprintf(stderr, "list %s: %s: %s\n", user ? user : "(all)", corrald_error_code(r),
			corrald_error_message(r));
	json_decref(r);
	return tasks;
}

long long corrald_usage_used(struct corrald *d, const char *user, const char *month)
{
	json_t *r = corrald_call(d, "{\"op\":\"usage\",\"user\":\"%s\",\"month\":\"%s\"}", user, month);
	long long used = -1;

	if (r && !corrald_error_code(r))
		used = task_int(json_array_get(json_object_get(r, "usage"), 0), "cpu_used_us");
	else
		fprintf(stderr, "usage %s %s: %s: %s\n", user, month, corrald_error_code(r), corrald_error_message(r));
	json_decref(r);
	return used;
}

char *corrald_logs(struct corrald *d, int64_t id, const char *stream, size_t *len)
{
	char *all = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&all, &size);
	unsigned long long offset = 0;

	if (!out)
		return NULL;
	for (;;) {
		json_t *r = corrald_call(d, "{\"op\":\"logs\",\"id\":%lld,\"stream\":\"%s\",\"offset\":%llu}",
					 (long long)id, stream, offset);
		const char *text = json_string_value(json_object_get(r, "data_base64"));
		unsigned char *data = NULL;
		size_t n = 0;

		if (!r || corrald_error_code(r) || !text ||
		    api_base64_decode(text, strlen(text), &data, &n) < 0) {
			fprintf(stderr, "logs %lld: %s: %s\n", (long long)id, corrald_error_code(r),
				corrald_error_message(r));
			json_decref(r);
			fclose(out);
			free(all);
			return NULL;
		}
		fwrite(data, 1, n, out);
		free(data);
		offset = (unsigned long long)task_int(r, "offset");
		json_decref(r);
		if (n == 0)
			break;
	}
	fclose(out);
	if (len)
		*len = size;
	return all;
}

long corrald_rss_kb(const struct corrald *d)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long corrald_fd_count(const struct corrald *d)
{
	char path[64];
	DIR *dir;
	struct dirent *e;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Calls fn on <hierarchy><cgroup_parent> for the unified root and every
 * v1 controller mount that has the test's cgroup parent; the sum of its
 * results. */
static int for_each_parent(const struct corrald *d, int (*fn)(const char *path, const char *arg), const char *arg)
{
	char path[1024];
	DIR *dir = opendir("/sys/fs/cgroup");
	struct dirent *e;
	struct stat st;
	int sum = 0;

	snprintf(path, sizeof(path), "/sys/fs/cgroup%s", d->cgroup_parent);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		sum += fn(path, arg);
	while (dir && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s", e->d_name, d->cgroup_parent);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			sum += fn(path, arg);
	}
	if (dir)
		closedir(dir);
	return sum;
}

static int count_subdirs(const char *path, const char *arg)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int n = 0;

	(void)arg;
	while (dir && (e = readdir(dir)) != NULL)
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			n++;
	if (dir)
		closedir(dir);
	return n;
}

static int remove_subdir(const char *path, const char *name)
{
	char child[1400];

	snprintf(child, sizeof(child), "%s/%s", path, name);
	return rmdir(child) == 0 ? 1 : 0;
}

int corrald_count_task_cgroups(const struct corrald *d)
{
	return for_each_parent(d, count_subdirs, NULL);
}

int corrald_remove_task_cgroup(const struct corrald *d, const char *name)
{
	return for_each_parent(d, remove_subdir, name);
}

int corrald_count_mounts(const struct corrald *d)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char point[4096];

		/* 36 35 98:0 /root /mnt/point ...: the fifth field */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		if ((d->dir[0] && strncmp(point, d->dir, strlen(d->dir)) == 0) || strstr(point, d->cgroup_parent + 1))
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

/* ---- raw connections (attack tests) ------------------------------------ */

static int send_fds(int sock, const int *fds, size_t n)
{
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 200)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf };
	struct cmsghdr *cm;

	if (n > 200)
		return -EINVAL;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	memset(u.buf, 0, sizeof(u.buf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static ssize_t recv_fds(int sock, int *fds, size_t max)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 200)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	size_t n;

	if (r <= 0)
		return r < 0 ? -errno : 0;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return 0;
	n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (n > max)
		n = max;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return (ssize_t)n;
}

int corrald_connect_many_as(const struct corrald *d, uid_t uid, gid_t gid, int *fds, size_t n)
{
	int sp[2], status;
	size_t got = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int batch[200];
		size_t k = 0;

		close(sp[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (strlen(d->socket) >= sizeof(addr.sun_path))
			_exit(4);
		memcpy(addr.sun_path, d->socket, strlen(d->socket) + 1);
		for (size_t i = 0; i < n; i++) {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
				break;
			batch[k++] = fd;
			if (k == 200 || i + 1 == n) {
				if (send_fds(sp[1], batch, k) < 0)
					_exit(3);
				for (size_t j = 0; j < k; j++)
					close(batch[j]);
				k = 0;
			}
		}
		if (k && send_fds(sp[1], batch, k) < 0)
			_exit(3);
		_exit(0);
	}
	close(sp[1]);
	for (;;) {
		ssize_t r = recv_fds(sp[0], fds + got, n - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == n)
			break;
	}
	close(sp[0]);
	waitpid(pid, &status, 0);
	return (int)got;
}

int corrald_connect_as(const struct corrald *d, uid_t uid, gid_t gid)
{
	int fd = -1;
	int r = corrald_connect_many_as(d, uid, gid, &fd, 1);

	return r == 1 ? fd : r < 0 ? r : -ECONNREFUSED;
}

int raw_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

json_t *raw_recv(int fd, unsigned timeout_ms)
{
	struct timespec start, now;
	char *line = NULL;
	size_t len = 0, cap = 0;
	json_t *out = NULL;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left;
		char c;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = read(fd, &c, 1);
		if (n <= 0)
			break;
		if (c == '\n') {
			out = json_loadb(line ? line : "", len, 0, NULL);
			break;
		}
		if (len + 1 >= cap) {
			char *p = realloc(line, cap ? cap * 2 : 4096);

			if (!p)
				break;
			line = p;
			cap = cap ? cap * 2 : 4096;
		}
		line[len++] = c;
	}
	free(line);
	return out;
}
