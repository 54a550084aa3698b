/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_socket.c — talking to a test's corrald over its socket
 * (see corrald_socket.h): calls on root's connection, submit/status/wait,
 * list, usage, logs; calls as another uid; raw connections for the attack
 * tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

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
		fprintf(stderr, "submit {%s}: %s: %s\n", fields, corrald_error_code(r),
			corrald_error_message(r));
	json_decref(r);
	return id;
}

int64_t corrald_submit_sh(struct corrald *d, const char *script)
{
	json_t *argv = json_pack("{s[sss]}", "argv", "/bin/sh", "-c", script);
	char *object = argv ? json_dumps(argv, JSON_COMPACT) : NULL;
	int64_t id = -1;

	json_decref(argv);
	if (object && strlen(object) >= 2) {
		object[strlen(object) - 1] = '\0'; /* the members, without braces */
		id = corrald_submit(d, object + 1);
	}
	free(object);
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
	return task_of(corrald_call(d, "{\"op\":\"wait\",\"id\":%lld,\"timeout_ms\":%u}", (long long)id,
				    timeout_ms),
		       "wait", id);
}

json_t *corrald_must_wait(struct corrald *d, int64_t id, unsigned timeout_ms)
{
	json_t *t = corrald_wait(d, id, timeout_ms);

	if (!t)
		fail_msg("task %lld did not end within %u ms\n%s", (long long)id, timeout_ms,
			 corrald_log_tail(d));
	return t;
}

char *corrald_must_succeed(struct corrald *d, int64_t id, unsigned timeout_ms)
{
	json_t *t = corrald_must_wait(d, id, timeout_ms);
	char *out;

	if (strcmp(task_str(t, "state"), "succeeded") != 0)
		fail_msg("task %lld: %s (%s)\n%s", (long long)id, task_str(t, "state"),
			 task_str(t, "message"), corrald_logs(d, id, "stderr", NULL));
	json_decref(t);
	out = corrald_logs(d, id, "stdout", NULL);
	assert_non_null(out);
	return out;
}

json_t *corrald_wait_state(struct corrald *d, int64_t id, const char *state, unsigned timeout_ms)
{
	for (unsigned waited = 0; waited <= timeout_ms; waited += 10) {
		json_t *t = corrald_status(d, id);

		if (t && strcmp(task_str(t, "state"), state) == 0)
			return t;
		json_decref(t);
		test_sleep_ms(10);
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

json_t *corrald_list(struct corrald *d, const char *user)
{
	json_t *tasks = json_array();
	long long after = 0;

	/* every page: a list answers at most API_MAX_LIST_LIMIT tasks */
	do {
		char cursor[48] = "";
		json_t *r, *next;

		if (after)
			snprintf(cursor, sizeof(cursor), ",\"after\":%lld", after);
		if (user)
			r = corrald_call(d, "{\"op\":\"list\",\"user\":\"%s\",\"limit\":%u%s}", user,
					 API_MAX_LIST_LIMIT, cursor);
		else
			r = corrald_call(d, "{\"op\":\"list\",\"limit\":%u%s}", API_MAX_LIST_LIMIT, cursor);
		if (!r || corrald_error_code(r)) {
			fprintf(stderr, "list %s: %s: %s\n", user ? user : "(all)", corrald_error_code(r),
				corrald_error_message(r));
			json_decref(r);
			json_decref(tasks);
			return NULL;
		}
		json_array_extend(tasks, json_object_get(r, "tasks"));
		next = json_object_get(r, "next_after");
		after = json_is_integer(next) ? (long long)json_integer_value(next) : 0;
		json_decref(r);
	} while (after);
	return tasks;
}

long long corrald_usage_used(struct corrald *d, const char *user, const char *month)
{
	json_t *r = corrald_call(d, "{\"op\":\"usage\",\"user\":\"%s\",\"month\":\"%s\"}", user, month);
	long long used = -1;

	if (r && !corrald_error_code(r))
		used = task_int(json_array_get(json_object_get(r, "usage"), 0), "cpu_used_us");
	else
		fprintf(stderr, "usage %s %s: %s: %s\n", user, month, corrald_error_code(r),
			corrald_error_message(r));
	json_decref(r);
	return used;
}

unsigned char *corrald_fetch_chunk(struct corrald *d, int64_t id, const char *name, size_t *len, bool *eof)
{
	json_t *r = corrald_call(d, "{\"op\":\"fetch\",\"id\":%lld,\"name\":\"%s\"}", (long long)id, name);
	const char *text = json_string_value(json_object_get(r, "data_base64"));
	unsigned char *data = NULL;

	*len = 0;
	*eof = json_is_true(json_object_get(r, "eof"));
	if (!r || corrald_error_code(r) || !text || api_base64_decode(text, strlen(text), &data, len) < 0)
		fprintf(stderr, "fetch %lld %s: %s: %s\n", (long long)id, name, corrald_error_code(r),
			corrald_error_message(r));
	json_decref(r);
	return data;
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
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
	};
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

int corrald_raw_send(int fd, const void *buf, size_t len)
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

json_t *corrald_raw_recv(int fd, unsigned timeout_ms)
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
		left = (long)timeout_ms -
			((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
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

bool corrald_token_header(struct corrald *d, const char *tenant, bool op, char *out, size_t size)
{
	json_t *r = corrald_call(d, "{\"op\":\"token_create\",\"user\":\"%s\",\"name\":\"it\"%s}", tenant,
				 op ? ",\"operator\":true" : "");
	const char *secret = json_string_value(json_object_get(r, "secret"));

	if (secret)
		snprintf(out, size, "Authorization: Bearer %s", secret);
	else
		fprintf(stderr, "token_create: %s\n", r ? corrald_error_message(r) : "no answer");
	json_decref(r);
	return secret != NULL;
}
