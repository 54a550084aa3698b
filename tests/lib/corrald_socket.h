/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_socket.h — talking to a test's corrald (tests/lib/
 * corrald.h) over its socket: one request on root's connection, submit,
 * status, wait, list, usage, logs; requests as another Unix uid; raw
 * connections for the attack tests.
 */
#ifndef CORRAL_TESTS_LIB_CORRALD_SOCKET_H
#define CORRAL_TESTS_LIB_CORRALD_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/lib/corrald.h"

/* One request line (printf format) on root's connection; the response
 * (caller json_decref's), or NULL if the daemon did not answer. */
json_t *corrald_call(struct corrald *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The error code of a response ("forbidden"), or NULL for ok. */
const char *corrald_error_code(json_t *response);
const char *corrald_error_message(json_t *response);

/* Submit fields_json (an object's members without braces, e.g.
 * "\"argv\":[\"/bin/true\"]"); the task id, or -1 (the error goes to stderr). */
int64_t corrald_submit(struct corrald *d, const char *fields);
/* Submit /bin/sh -c script (any text: JSON-escaped here); the task id, or -1. */
int64_t corrald_submit_sh(struct corrald *d, const char *script);
/* The TASK object of status/wait (a new reference), or NULL. */
json_t *corrald_status(struct corrald *d, int64_t id);
json_t *corrald_wait(struct corrald *d, int64_t id, unsigned timeout_ms);
/* corrald_wait, failing the test (with corrald's log tail) when the task
 * did not end within timeout_ms. */
json_t *corrald_must_wait(struct corrald *d, int64_t id, unsigned timeout_ms);
/* corrald_must_wait, failing the test (with the task's stderr) unless it
 * succeeded; its stdout (caller frees). */
char *corrald_must_succeed(struct corrald *d, int64_t id, unsigned timeout_ms);
/* Poll status every 10 ms until the task's state is state (or timeout);
 * the TASK, or NULL. */
json_t *corrald_wait_state(struct corrald *d, int64_t id, const char *state, unsigned timeout_ms);
/* Integer / string member of a TASK ("" / -1 when absent or null). */
long long task_int(json_t *task, const char *key);
const char *task_str(json_t *task, const char *key);

/* Every task (list op, every page) of user (NULL = all), newest first: the
 * "tasks" array (a new reference), or NULL. */
json_t *corrald_list(struct corrald *d, const char *user);
/* usage op: the user's cpu_used_us in month ("YYYY-MM"), or -1. */
long long corrald_usage_used(struct corrald *d, const char *user, const char *month);
/* A task's whole stdout or stderr (logs op, decoded; malloc'd, NUL-ended,
 * *len without the NUL), or NULL. */
char *corrald_logs(struct corrald *d, int64_t id, const char *stream, size_t *len);
/* The first chunk of artifact name of task id (fetch): its bytes
 * (malloc'd, *len), *eof when that was all; NULL on an error answer. */
unsigned char *corrald_fetch_chunk(struct corrald *d, int64_t id, const char *name, size_t *len, bool *eof);
/* An API token made through d (token_create as root; op: an operator's)
 * as the HTTP header "Authorization: Bearer ..." into out; false (and the
 * error on stderr) when none was made. */
bool corrald_token_header(struct corrald *d, const char *tenant, bool op, char *out, size_t size);
/* As Unix uid/gid: connect, send each line, collect each response.  The
 * responses go to out[0..n) (NULL where none came).  0 or -errno. */
int corrald_calls_as(struct corrald *d, uid_t uid, gid_t gid, const char *const *lines, size_t n,
		     json_t **out);

/* ---- raw connections (attack tests) ------------------------------------ */
/* A connection to corrald made by a child running as uid/gid (so
 * SO_PEERCRED names that uid), handed back to the caller over SCM_RIGHTS:
 * the fd (blocking), or -errno.  The caller closes it. */
int corrald_connect_as(const struct corrald *d, uid_t uid, gid_t gid);
/* n connections as uid/gid in one child, all handed back into fds[];
 * the number obtained (stops at the first failure), or -errno. */
int corrald_connect_many_as(const struct corrald *d, uid_t uid, gid_t gid, int *fds, size_t n);
/* Write all of buf (blocking); 0 or -errno. */
int corrald_raw_send(int fd, const void *buf, size_t len);
/* Read one response line within timeout_ms and parse it: a new reference,
 * or NULL (timeout, EOF, bad JSON).  Reads byte by byte: small answers. */
json_t *corrald_raw_recv(int fd, unsigned timeout_ms);

#endif
