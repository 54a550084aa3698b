/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_files.c — a task's files in corrald's tests: see
 * corrald_files.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

int corrald_files_setup(void **state)
{
	struct corrald_files_fixture *f = *state;

	snprintf(f->scratch, f->scratch_size, "/tmp/%s-XXXXXX", f->prefix);
	assert_non_null(mkdtemp(f->scratch));
	return 0;
}

int corrald_files_teardown(void **state)
{
	struct corrald_files_fixture *f = *state;

	corrald_cleanup(f->daemon);
	if (f->scratch[0])
		test_remove_tree(f->scratch);
	f->scratch[0] = '\0';
	return 0;
}

void corrald_files_start(struct corrald *d, const char *keys, const char *policy_body)
{
	int r = corrald_start(d, keys, policy_body, 0);

	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(d));
}

int64_t corrald_files_submit(struct corrald *d, const char *fields)
{
	int64_t id = corrald_submit(d, fields);

	if (id <= 0)
		fail_msg("submit refused: %s\n%s", fields, corrald_log_tail(d));
	return id;
}

void corrald_files_must_succeed(struct corrald *d, int64_t id, unsigned timeout_ms, const char *what)
{
	json_t *task = corrald_must_wait(d, id, timeout_ms);

	if (strcmp(json_string_value(json_object_get(task, "state")), "succeeded") != 0)
		fail_msg("%s (task %lld): %s\n%s", what, (long long)id,
			 json_string_value(json_object_get(task, "message")), corrald_log_tail(d));
	json_decref(task);
}

int corrald_files_cli(struct corrald *d, const char *fmt, ...)
{
	char args[2048], cmd[2600];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 60 %s --socket %s %s", test_build_path("corral"), d->socket,
		 args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void corrald_files_bearer(struct corrald *d, const char *user, bool operator, char * header, size_t size)
{
	json_t *r = corrald_call(d, "{\"op\":\"token_create\",\"user\":\"%s\",\"operator\":%s}",
				 user, operator? "true" : "false");

	if (!json_string_value(json_object_get(r, "secret")))
		fail_msg("token_create: %s", corrald_error_message(r));
	snprintf(header, size, "Authorization: Bearer %s", json_string_value(json_object_get(r, "secret")));
	json_decref(r);
}

json_t *corrald_files_list(struct corrald *d, int64_t id)
{
	json_t *r = corrald_call(d, "{\"op\":\"artifacts\",\"id\":%lld}", (long long)id), *a;

	if (!r || corrald_error_code(r))
		fail_msg("artifacts %lld: %s: %s", (long long)id, corrald_error_code(r),
			 corrald_error_message(r));
	a = json_incref(json_object_get(r, "artifacts"));
	json_decref(r);
	return a;
}

json_t *corrald_files_named(json_t *list, const char *name)
{
	size_t i;
	json_t *a;

	json_array_foreach (list, i, a)
		if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
			return a;
	return NULL;
}

void corrald_files_write(const char *path, const void *data, size_t len, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}
