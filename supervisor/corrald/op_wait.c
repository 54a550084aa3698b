/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_wait.c — wait and logs: answered at once when they can
 * be, else parked: a waiter holds a reference to the reply sink (not a
 * connection) and is answered when the task ends or writes, or when its
 * timeout expires (at most MAX_WAITERS_PER_SINK per sink).  When a sink's
 * peer goes, the transport drops its waiters (op_wait_drop_sink).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

/* ---- wait and logs ------------------------------------------------------ */

#define MAX_WAITERS_PER_SINK 256

static void add_waiter(struct daemon *d, struct reply_sink *sink, const struct api_request *req, bool logs)
{
	struct waiter *w;
	size_t n = 0;

	for (w = d->waiters; w; w = w->next)
		n += w->sink == sink;
	if (n >= MAX_WAITERS_PER_SINK) {
		ops_reply_error(sink, req->tag_json, API_ERR_TOO_LARGE,
				"more than %d waits on one connection", MAX_WAITERS_PER_SINK);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	w->sink = ops_sink_ref(sink);
	w->tag_json = req->tag_json ? strdup(req->tag_json) : NULL;
	w->task_id = req->id;
	w->logs = logs;
	w->stderr_stream = req->stream && strcmp(req->stream, "stderr") == 0;
	w->offset = req->offset;
	w->max = req->max ? req->max : API_MAX_LOG_CHUNK;
	if (req->has_timeout && req->timeout_ms)
		w->expires_mono_us = daemon_mono_us() + req->timeout_ms * 1000u;
	w->next = d->waiters;
	d->waiters = w;
}

void op_wait(struct daemon *d, const struct caller *c, const struct api_request *req, struct reply_sink *sink)
{
	struct store_task st;

	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	if (ops_is_terminal(st.state))
		ops_reply_task(d, sink, req->tag_json, &st);
	else if (req->has_timeout && req->timeout_ms == 0)
		ops_reply_error(sink, req->tag_json, API_ERR_WAIT_TIMEOUT, "task %lld is still %s",
				(long long)st.id, task_state_name(st.state));
	else
		add_waiter(d, sink, req, false);
	store_task_clear(&st);
}

/* Answer a logs request if there is something to say: data past offset, or
 * the end.  Returns false when a follow request must keep waiting. */
static bool answer_logs(struct daemon *d, struct reply_sink *sink, const char *tag, int64_t id,
			bool err_stream, uint64_t offset, uint64_t max, bool follow, bool ended)
{
	char path[4300], dir[4200];
	_cleanup_free_ unsigned char *buf = NULL;
	_cleanup_free_ char *b64 = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n = 0;
	struct stat sb;
	uint64_t size = 0;
	json_t *body;

	if (max > API_MAX_LOG_CHUNK)
		max = API_MAX_LOG_CHUNK;
	snprintf(path, sizeof(path), "%s/%s", task_start_dir(d, id, dir, sizeof(dir)),
		 err_stream ? "stderr" : "stdout");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		size = (uint64_t)sb.st_size;
	if (fd < 0 && d->cluster) {
		/* it runs or ran on another node: its output is in the store */
		size_t got = 0;

		if (cluster_output_read(d, id, err_stream, offset, max, &buf, &got, &size) < 0)
			size = 0;
		n = (ssize_t)got;
		if (follow && !ended && size <= offset)
			return false;
	} else if (follow && !ended && size <= offset) {
		return false;
	}
	if (fd >= 0 && size > offset) {
		size_t want = size - offset < max ? (size_t)(size - offset) : (size_t)max;

		buf = malloc(want ? want : 1);
		n = buf ? pread(fd, buf, want, (off_t)offset) : -1;
		if (n < 0)
			n = 0;
	}
	b64 = api_base64_encode(buf ? buf : (const unsigned char *)"", (size_t)n);
	body = json_object();
	json_object_set_new(body, "data_base64", json_string(b64 ? b64 : ""));
	json_object_set_new(body, "offset", json_integer((json_int_t)(offset + (uint64_t)n)));
	json_object_set_new(body, "eof", json_boolean(ended && offset + (uint64_t)n >= size));
	ops_reply_ok_json(sink, tag, body);
	return true;
}

void op_wait_logs(struct daemon *d, const struct caller *c, const struct api_request *req,
		  struct reply_sink *sink)
{
	struct store_task st;
	bool err_stream = req->stream && strcmp(req->stream, "stderr") == 0;

	if (req->stream && strcmp(req->stream, "stdout") != 0 && !err_stream) {
		ops_reply_error(sink, req->tag_json, API_ERR_BAD_REQUEST, "stream must be stdout or stderr");
		return;
	}
	if (!ops_load_visible_task(d, c, req, sink, &st))
		return;
	if (!answer_logs(d, sink, req->tag_json, st.id, err_stream, req->offset,
			 req->max ? req->max : API_MAX_LOG_CHUNK, req->follow, ops_is_terminal(st.state)))
		add_waiter(d, sink, req, true);
	store_task_clear(&st);
}

static void free_waiter(struct waiter *w)
{
	ops_sink_unref(w->sink);
	free(w->tag_json);
	free(w);
}

/* Answering a waiter may kill its connection (a client that does not read
 * is dropped past the transport's output cap), and that drops every waiter
 * of the sink (op_wait_drop_sink) — the one being answered, the ones before
 * it that the walk links through.  So the walk takes the list off d->waiters
 * first: drop_sink then sees only waiters parked meanwhile, and the walk
 * frees those of its own whose sink went.  answer returns true when the
 * waiter is done. */
typedef bool waiter_answer(struct daemon *d, struct waiter *w, uint64_t now, bool ended);

static void answer_waiters(struct daemon *d, bool every_task, int64_t task_id, uint64_t now, bool ended,
			   waiter_answer *answer)
{
	struct waiter *list = d->waiters, *keep = NULL, **tail = &keep;

	d->waiters = NULL;
	while (list) {
		struct waiter *w = list;
		bool done;

		list = w->next;
		w->next = NULL;
		done = w->sink->gone || ((every_task || w->task_id == task_id) && answer(d, w, now, ended));
		if (done || w->sink->gone) {
			free_waiter(w);
		} else {
			*tail = w;
			tail = &w->next;
		}
	}
	*tail = d->waiters;
	d->waiters = keep;
}

static bool wake_one(struct daemon *d, struct waiter *w, uint64_t now, bool ended)
{
	if (w->logs)
		return answer_logs(d, w->sink, w->tag_json, w->task_id, w->stderr_stream, w->offset, w->max,
				   true, ended);
	if (ended) {
		struct store_task st;
		struct error err;

		if (store_get_task(d->store, w->task_id, &st, &err) == 0) {
			ops_reply_task(d, w->sink, w->tag_json, &st);
			store_task_clear(&st);
		}
		return true;
	}
	return false;
}

void op_wait_wake(struct daemon *d, int64_t task_id, bool ended)
{
	answer_waiters(d, false, task_id, 0, ended, wake_one);
}

static bool check_one(struct daemon *d, struct waiter *w, uint64_t now, bool ended)
{
	bool done = false;

	if (w->logs)
		done = answer_logs(d, w->sink, w->tag_json, w->task_id, w->stderr_stream, w->offset, w->max,
				   true, false);
	if (!done && w->expires_mono_us && now >= w->expires_mono_us && !w->sink->gone) {
		if (w->logs)
			answer_logs(d, w->sink, w->tag_json, w->task_id, w->stderr_stream, w->offset, w->max,
				    false, false);
		else
			ops_reply_error(w->sink, w->tag_json, API_ERR_WAIT_TIMEOUT,
					"task %lld has not ended yet", (long long)w->task_id);
		done = true;
	}
	return done;
}

void op_wait_check(struct daemon *d)
{
	answer_waiters(d, true, 0, daemon_mono_us(), false, check_one);
}

void op_wait_drop_sink(struct daemon *d, struct reply_sink *sink)
{
	struct waiter **pp = &d->waiters;

	while (*pp) {
		struct waiter *w = *pp;

		if (w->sink == sink) {
			*pp = w->next;
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}
