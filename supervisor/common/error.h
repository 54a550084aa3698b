/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/error.h — the supervisor's one error type: what failed
 * (the step), on what, and why, carried up from the store, the operations
 * and the clients to whoever shows it to a person.
 *
 * Functions return 0 (or a positive count) on success and -errno on failure,
 * filling the caller's struct error (which may be NULL).  The runner keeps
 * its own struct jail_error with the same three fields and wording rules:
 * it is a library of its own, below the supervisor, and includes nothing
 * above it; jailspec_error_from_jail() (jailspec/) is the one bridge.
 */
#ifndef CORRAL_SUPERVISOR_COMMON_ERROR_H
#define CORRAL_SUPERVISOR_COMMON_ERROR_H

#include <stdarg.h>

struct error {
	int err;           /* positive errno; 0 when no errno applies */
	char step[64];     /* short step name: "open store", "connect" */
	char message[512]; /* the whole human message (unknown_op lists every op) */
};

/* Fill err (may be NULL) with "<what>: strerror(errnum)" (just "<what>"
 * when errnum is 0) and return -errnum (-EINVAL when errnum is 0).  A
 * negative errnum is taken as -errno. */
int error_set(struct error *err, int errnum, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int error_setv(struct error *err, int errnum, const char *step, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* The same, but the message is just "<what>" whatever errnum is: for a
 * message that gives the cause in its own words ("corrald closed the
 * connection") while err->err and the return value keep the errno. */
int error_set_message(struct error *err, int errnum, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A bad command line: step "parse command line", no errno, the message as
 * the user sees it; returns -EINVAL. */
int error_usage(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put "<context>: " in front of err's message, keeping err and step. */
void error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
