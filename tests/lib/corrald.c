/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald.c — a real corrald as a child process of the test (see
 * corrald.h): its temp state dir and policy, start (waiting until ping
 * answers), restart with a shifted clock, stop, kill -9, a second daemon,
 * and cleanup.  No daemon code is linked in: the tests speak the wire
 * protocol through the client library (corrald_socket.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

#define START_TIMEOUT_MS 10000

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
			execl(test_build_path("tests/helpers/corrald-clock"), "corrald-clock", offset,
			      "--policy", d->policy, "--state-dir", state_dir, "--socket", d->socket,
			      (char *)NULL);
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
				fprintf(stderr, "corrald was killed by signal %d at start; log:\n%s\n",
					WTERMSIG(status), corrald_log_tail(d));
			else
				fprintf(stderr, "corrald exited with %d at start; log:\n%s\n",
					WEXITSTATUS(status), corrald_log_tail(d));
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
		test_sleep_ms(10);
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
	snprintf(d->cgroup_parent, sizeof(d->cgroup_parent), "corral-it-%d", (int)getpid());
	return write_policy(d, supervisor_keys, policy_body);
}

int corrald_state_on_tmpfs(struct corrald *d, const char *size)
{
	char dir[sizeof(d->state_dir)], opts[64];

	snprintf(dir, sizeof(dir), "%s/state", d->dir);
	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	if (mkdir(dir, 0755) < 0 || mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	memcpy(d->state_dir, dir, sizeof(dir));
	return 0;
}

int corrald_start(struct corrald *d, const char *supervisor_keys, const char *policy_body,
		  double clock_offset_s)
{
	int r = corrald_prepare(d, supervisor_keys, policy_body);

	return r < 0 ? r : corrald_spawn(d, clock_offset_s);
}

int corrald_start_below(struct corrald *d, const char *supervisor_keys, const char *policy_body,
			const char *cgroup_parent)
{
	int r = corrald_prepare(d, supervisor_keys, policy_body);

	if (r < 0)
		return r;
	snprintf(d->cgroup_parent, sizeof(d->cgroup_parent), "%s", cgroup_parent);
	r = write_policy(d, supervisor_keys, policy_body); /* names the cgroup parent */
	return r < 0 ? r : corrald_spawn(d, 0);
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
		test_sleep_ms(5);
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
			fprintf(stderr, "corrald %d did not stop in 15 s after SIGTERM; killing it\n",
				(int)d->pid);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		test_sleep_ms(10);
	}
	d->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A sanitizer's report in corrald's log (a `make asan` build: leaks are
 * reported at exit, UBSan aborts): from its first line, at most size
 * bytes into report; false when there is none. */
static bool sanitizer_report(const char *log, char *report, size_t size)
{
	FILE *f = fopen(log, "re");
	char line[1024];
	size_t used = 0;

	report[0] = '\0';
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (used || strstr(line, "Sanitizer") || strstr(line, "runtime error:"))
			used += (size_t)snprintf(report + used, size - used, "%s", line),
				used = used < size ? used : size - 1;
	fclose(f);
	return used > 0;
}

/* Detach every mount below dir (a task's /work tmpfs outlives a corrald
 * stopped while the task ran: by design, for its adoption), the deepest
 * first; the test's own directory only. */
static void unmount_below(const char *dir)
{
	char line[4096], points[64][512];
	size_t n = 0, len = strlen(dir);
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return;
	while (n < 64 && fgets(line, sizeof(line), f)) {
		char point[512];

		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %511s", point) == 1 && strncmp(point, dir, len) == 0 &&
		    point[len] == '/')
			snprintf(points[n++], sizeof(points[0]), "%s", point);
	}
	fclose(f);
	while (n-- > 0)
		if (umount2(points[n], MNT_DETACH) < 0)
			fprintf(stderr, "cleanup: umount %s: %s\n", points[n], strerror(errno));
}

void corrald_cleanup(struct corrald *d)
{
	static char report[8192];
	bool reported = false;

	if (d->pid > 0) {
		int r = corrald_stop(d);

		if (r != 0)
			fprintf(stderr, "cleanup: corrald exited with %d; log:\n%s\n", r,
				corrald_log_tail(d));
	}
	if (d->dir[0] && d->pid <= 0)
		reported = sanitizer_report(d->log, report, sizeof(report));
	if (d->dir[0]) {
		if (d->cgroup_parent[0])
			corrald_kill_leftover_jails(d);
		unmount_below(d->dir);
		if (getenv("CORRALD_TEST_KEEP"))
			fprintf(stderr, "keeping %s\n", d->dir);
		else
			test_remove_tree(d->dir);
		corrald_remove_cgroup_parent(d);
		d->dir[0] = '\0';
	}
	if (reported)
		fail_msg("corrald's log has a sanitizer's report:\n%s", report);
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

int corrald_log_count(struct corrald *d, const char *needle)
{
	char line[4096];
	FILE *f = fopen(d->log, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}
