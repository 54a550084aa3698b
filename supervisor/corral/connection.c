/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/connection.c — the client's socket I/O: connect to corrald's Unix
 * socket, write a request line, read the response line (buffered: bytes
 * past the newline are kept for the next call), decode it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "supervisor/corral/connection.h"

const char *connection_socket_path(const char *option)
{
	const char *env = getenv(CLIENT_SOCKET_ENV);

	if (option && option[0])
		return option;
	if (env && env[0])
		return env;
	return CLIENT_DEFAULT_SOCKET;
}

static void set_name(struct connection *c, const char *name)
{
	snprintf(c->path, sizeof(c->path), "%s", name ? name : "corrald");
}

void connection_attach(struct connection *c, int fd, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	set_name(c, name);
}

int connection_connect(struct connection *c, const char *path, struct error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	const char *hint = "";
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	set_name(c, path);
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_set(err, ENAMETOOLONG, "connect", "cannot connect to %s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "socket", "cannot create a Unix socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ECONNREFUSED)
			hint = " \u2014 is corrald running?";
		else if (r == -EACCES || r == -EPERM)
			hint = " \u2014 ask an operator for access to the socket";
		return error_set_message(err, r, "connect", "cannot connect to %s: %s%s", path, strerror(-r),
					 hint);
	}
	c->fd = TAKE_FD(fd);
	return 0;
}

void connection_close(struct connection *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int send_all(struct connection *c, const char *data, size_t len, struct error *err)
{
	while (len) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, errno, "send", "cannot send to corrald (%s)", c->path);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the buffer holds a newline; its index in *eol. */
static int read_line(struct connection *c, size_t *eol, struct error *err)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
		ssize_t n;

		if (nl) {
			*eol = (size_t)(nl - c->buf);
			return 0;
		}
		scanned = c->len;
		if (c->len >= CLIENT_MAX_RESPONSE)
			return error_set_message(err, EMSGSIZE, "receive",
						 "corrald (%s) sent a "
						 "response longer than %u bytes",
						 c->path, CLIENT_MAX_RESPONSE);
		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *p = realloc(c->buf, cap);

			if (!p)
				return error_set_message(err, ENOMEM, "receive",
							 "out of memory reading a response");
			c->buf = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, errno, "receive", "lost the connection to corrald (%s)",
					 c->path);
		if (n == 0)
			return error_set_message(err, ECONNRESET, "receive",
						 "corrald (%s) closed the connection%s", c->path,
						 c->len ? " in the middle of a response"
							: " without a response");
		c->len += (size_t)n;
	}
}

int connection_send(struct connection *c, const char *request_line, struct error *err)
{
	int r = send_all(c, request_line, strlen(request_line), err);

	return r == 0 ? send_all(c, "\n", 1, err) : r;
}

/* Wait up to timeout_ms (< 0: forever) until a line is buffered or the
 * socket is readable. */
static int wait_readable(struct connection *c, int timeout_ms, struct error *err)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int n;

	if (timeout_ms < 0 || (c->len && memchr(c->buf, '\n', c->len)))
		return 0;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_set(err, errno, "receive", "cannot wait for corrald (%s)", c->path);
	if (n == 0)
		return error_set_message(err, ETIMEDOUT, "receive", "no answer from corrald (%s) in %d ms",
					 c->path, timeout_ms);
	return 0;
}

int connection_receive(struct connection *c, int timeout_ms, json_t **response, struct error *err)
{
	json_error_t jerr;
	size_t eol = 0;
	json_t *obj;
	int r;

	*response = NULL;
	r = wait_readable(c, timeout_ms, err);
	if (r == 0)
		r = read_line(c, &eol, err);
	if (r < 0)
		return r;
	obj = json_loadb(c->buf, eol, JSON_ALLOW_NUL, &jerr);
	c->len -= eol + 1;
	memmove(c->buf, c->buf + eol + 1, c->len);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return error_set_message(err, EPROTO, "decode response",
					 "corrald (%s) sent a "
					 "malformed response: %s",
					 c->path, obj ? "not a JSON object" : jerr.text);
	}
	*response = obj;
	return 0;
}

int connection_call(struct connection *c, const char *request_line, json_t **response, struct error *err)
{
	int r = connection_send(c, request_line, err);

	*response = NULL;
	return r < 0 ? r : connection_receive(c, -1, response, err);
}

bool connection_response_error(json_t *response, const char **code, const char **message)
{
	json_t *error;

	if (json_is_true(json_object_get(response, "ok")))
		return false;
	error = json_object_get(response, "error");
	*code = json_string_value(json_object_get(error, "code"));
	*message = json_string_value(json_object_get(error, "message"));
	if (!*code)
		*code = "internal";
	if (!*message)
		*message = "corrald reported an error without a message";
	return true;
}

int connection_run_op(const char *socket_option, int op, json_t *fields, const char *prog, json_t **response)
{
	struct connection conn;
	struct error err = { 0 };
	_cleanup_free_ char *fields_text = json_dumps(fields, JSON_COMPACT);
	_cleanup_free_ char *line = NULL;
	const char *code, *message;
	json_t *resp = NULL;
	int r;

	*response = NULL;
	json_decref(fields);
	line = fields_text ? api_request_build((enum api_op)op, fields_text) : NULL;
	if (!line) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (connection_connect(&conn, connection_socket_path(socket_option), &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.message);
		return 1;
	}
	r = connection_call(&conn, line, &resp, &err);
	connection_close(&conn);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.message);
		return 1;
	}
	if (connection_response_error(resp, &code, &message)) {
		fprintf(stderr, "%s: %s (%s)\n", prog, message, code);
		json_decref(resp);
		return 1;
	}
	*response = resp;
	return 0;
}
