/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/http.h — HTTP requests to a test's corrald with curl's command
 * line (a real client): status, headers and body of one request.
 */
#ifndef CORRAL_TESTS_LIB_HTTP_H
#define CORRAL_TESTS_LIB_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct http_answer {
	int status; /* 0: curl failed */
	char *body; /* NUL-terminated (may hold NULs before: see len) */
	size_t len;
	char *headers; /* the response's header lines */
	json_t *json;  /* the body parsed, or NULL */
};

/* A free TCP port on 127.0.0.1 (bound and released). */
int http_free_port(void);
/* curl with extra arguments (NULL-terminated; the URL among them), e.g.
 * http_curl(&a, "-X", "POST", "-d", body, url, NULL).  0, or -1 when curl
 * could not run. */
int http_curl(struct http_answer *a, ...) __attribute__((sentinel));
void http_answer_free(struct http_answer *a);
/* The value of header name (case-insensitive) in a->headers, static buffer. */
const char *http_header(const struct http_answer *a, const char *name);

#endif
