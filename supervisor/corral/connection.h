/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/connection.h — the corral client's connection to corrald: find the
 * socket, connect, send one request line, read one response line.  No
 * command-line parsing or printing here (that is cli_tasks.c).
 */
#ifndef CORRAL_SUPERVISOR_CLIENT_H
#define CORRAL_SUPERVISOR_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "supervisor/common/error.h"

#define CLIENT_DEFAULT_SOCKET "/run/corral/corrald.sock"
#define CLIENT_SOCKET_ENV "CORRAL_SOCKET"
/* Longest response line accepted (a list of 10000 tasks fits). */
#define CLIENT_MAX_RESPONSE (64u << 20)

struct connection {
	int fd;
	char path[128]; /* for messages */
	char *buf;      /* bytes read past the last response line */
	size_t len, cap;
};

/* The socket to use: option (from --socket) if set, else $CORRAL_SOCKET if
 * set and non-empty, else CLIENT_DEFAULT_SOCKET. */
const char *connection_socket_path(const char *option);

/* Connect to the Unix socket at path.  0, or -errno with err's message for
 * the user ("cannot connect to P: No such file or directory — is corrald
 * running?"). */
int connection_connect(struct connection *c, const char *path, struct error *err);
/* Use an already connected fd (tests: a socketpair); c owns it afterwards. */
void connection_attach(struct connection *c, int fd, const char *name);
void connection_close(struct connection *c);

/* Send request_line (without newline; one is added) and read one response
 * line into *response (a JSON object).  0, or -errno with err filled:
 * -EPIPE/-ECONNRESET the daemon went away, -EPROTO a line that is not a
 * JSON object, -EMSGSIZE a line longer than CLIENT_MAX_RESPONSE. */
int connection_call(struct connection *c, const char *request_line, json_t **response, struct error *err);

/* The two halves of connection_call, for requests in flight together
 * (tagged; corrald answers each when it can): send one line; read the next
 * response line, waiting at most timeout_ms (< 0: forever; -ETIMEDOUT when
 * nothing came). */
int connection_send(struct connection *c, const char *request_line, struct error *err);
int connection_receive(struct connection *c, int timeout_ms, json_t **response, struct error *err);

/* If response is an error response, its code and message (never NULL) and
 * true; false for {"ok": true, ...}. */
bool connection_response_error(json_t *response, const char **code, const char **message);

/* One operation from a subcommand: op with fields (its reference is taken)
 * over the socket (option as connection_socket_path's); the OK response
 * in *response (json_decref it), or 1 after printing "PROG: why" on stderr.
 * op is an enum api_op (api/api.h). */
int connection_run_op(const char *socket_option, int op, json_t *fields, const char *prog, json_t **response);

#endif
