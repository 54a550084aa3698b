/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/http_upload.c — `POST /v1/tasks` with its input
 * files in the body: multipart/form-data (a part named "task" holds the
 * JSON of a JSON submit; a part with a filename is a file whose path
 * under /work is that filename; a part of type application/x-tar is an
 * archive of files and directories) or a whole application/x-tar body
 * (the JSON in the X-Corral-Task header).
 *
 * The body is spooled to an unlinked file below the state directory as it
 * comes (never held in memory), up to [http] max_body plus the plan's
 * max_input (the token's tenant; an operator's token: the largest of the
 * policy's plans and [user] sections); then mapped, split into the task's
 * JSON and its files (http_multipart.c, api/api_tar.c), and the submit
 * runs with them as req->inputs: the same checks as the files array
 * (names, API_MAX_FILES, max_input, max_stored) and the same batch (an
 * acknowledged task has its inputs in the store).
 *
 * The spool shares its disk with the store: an upload is refused (503
 * storage_full, Retry-After) before its first byte unless the state
 * directory's filesystem keeps SPOOL_HEADROOM free once every upload in
 * flight has written all it may (its Content-Length; without one,
 * chunked: its cap).  Many large uploads at once thus never fill the disk
 * the store commits to; a disk filled by something else mid-upload is a
 * 503 too, nothing acknowledged, the spool gone with its connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/http_multipart.h"
#include "supervisor/corrald/transport_http.h"

/* Free space the spool leaves to the store: 1/16 of the filesystem, at
 * most this. */
#define SPOOL_HEADROOM_MAX (256ull << 20)

/* Bytes the uploads in flight may still write to their spools (corrald
 * has one loop thread): the sum of their reservations less what they
 * wrote. */
static uint64_t spool_pending;

struct http_upload {
	int fd; /* the spooled body */
	uint64_t len, max;
	uint64_t reserved; /* of the spool's disk: Content-Length, else max */
	bool too_large;
	int write_error; /* an errno of the spool, 0 = none */
	bool tar;        /* a whole tar body, else multipart */
	char boundary[HTTP_MULTIPART_BOUNDARY_MAX + 1];
	void *map;
	struct api_files_inputs inputs;
	const unsigned char *task; /* the task's JSON (in the map, or the header) */
	size_t task_len;
	uint64_t max_task; /* [http] max_body */
};

static bool is_tar_type(const char *type)
{
	size_t n = type ? strcspn(type, "; \t") : 0;

	return (n == 17 && strncasecmp(type, "application/x-tar", 17) == 0) ||
		(n == 15 && strncasecmp(type, "application/tar", 15) == 0);
}

bool http_upload_wanted(struct http_conn *c, const char *url, const char *method)
{
	const char *type = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (strcmp(url, "/v1/tasks") != 0 || strcmp(method, "POST") != 0 || !type)
		return false;
	return is_tar_type(type) || strncasecmp(type, "multipart/form-data", 19) == 0;
}

/* The most one body may hold: max_body, and the plan's max_input. */
static uint64_t upload_cap(struct daemon *d, const struct caller *caller)
{
	struct policy_limits lim;
	uint64_t input = 0;

	if (caller->operator_) {
		for (size_t i = 0; i < policy_count(d->policy, POLICY_PLANS); i++)
			if (policy_plan_limits(d->policy, policy_name_at(d->policy, POLICY_PLANS, i), &lim) ==
				    0 &&
			    lim.max_input_bytes > input)
				input = lim.max_input_bytes;
		for (size_t i = 0; i < policy_count(d->policy, POLICY_USERS); i++)
			if (tenants_limits_for(d, policy_name_at(d->policy, POLICY_USERS, i), &lim) == 0 &&
			    lim.max_input_bytes > input)
				input = lim.max_input_bytes;
	}
	if (caller->tenant && tenants_limits_for(d, caller->tenant, &lim) == 0 && lim.max_input_bytes > input)
		input = lim.max_input_bytes;
	return policy_http(d->policy)->max_body_bytes + input;
}

/* Reserve need bytes of the state directory's disk for one spool:
 * -ENOSPC when the disk would keep less than its headroom free after
 * every upload in flight wrote what it may. */
static int spool_reserve(struct daemon *d, uint64_t need)
{
	struct statvfs s;
	uint64_t avail, headroom;

	if (statvfs(d->tasks_dir, &s) < 0)
		return -errno;
	avail = (uint64_t)s.f_bavail * s.f_frsize;
	headroom = (uint64_t)s.f_blocks * s.f_frsize / 16;
	if (headroom > SPOOL_HEADROOM_MAX)
		headroom = SPOOL_HEADROOM_MAX;
	if (avail < headroom || avail - headroom < spool_pending || avail - headroom - spool_pending < need)
		return -ENOSPC;
	spool_pending += need;
	return 0;
}

static int spool_open(struct daemon *d)
{
	char path[4200];
	int fd = open(d->tasks_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : -errno;
	snprintf(path, sizeof(path), "%s/upload-XXXXXX", d->tasks_dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

enum MHD_Result http_upload_begin(struct http_conn *c)
{
	const char *length = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *type = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct http_upload *u = calloc(1, sizeof(*u));
	uint64_t need;
	int fd;

	if (!u)
		return MHD_NO;
	u->fd = -1;
	c->upload = u;
	u->max = upload_cap(c->d, &c->caller);
	u->max_task = policy_http(c->d->policy)->max_body_bytes;
	u->tar = is_tar_type(type);
	need = length ? strtoull(length, NULL, 10) : u->max;
	if (need > u->max)
		return transport_http_reply_error(c, 413, "too_large", 0,
						  "the body is larger than %llu bytes ([http] max_body and the "
						  "plan's max_input)",
						  (unsigned long long)u->max);
	fd = spool_reserve(c->d, need);
	if (fd < 0) {
		log_warning("HTTP: refused an upload of %llu bytes from %s: %s has no room for it now",
			    (unsigned long long)need, c->addr, c->d->tasks_dir);
		return transport_http_reply_error(
			c, 503, "storage_full", 30,
			"no room to spool an upload of %llu bytes now; try again later",
			(unsigned long long)need);
	}
	u->reserved = need;
	fd = spool_open(c->d);
	if (fd < 0) {
		log_warning("HTTP: spool an upload below %s: %s", c->d->tasks_dir, strerror(-fd));
		return transport_http_reply_error(c, 503, "storage_full", 30, "cannot spool the upload: %s",
						  strerror(-fd));
	}
	u->fd = fd;
	return MHD_YES;
}

bool http_upload_take(struct http_conn *c, const char *data, size_t len)
{
	struct http_upload *u = c->upload;

	if (u->too_large || u->write_error)
		return true;
	if (u->len + len > u->max || u->len + len > u->reserved) {
		u->too_large = true;
		return true;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(u->fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			u->write_error = n < 0 ? errno : EIO;
			return true;
		}
		off += (size_t)n;
	}
	u->len += len;
	spool_pending -= len;
	return true;
}

/* One part of a multipart body: the task, a file, or an archive. */
static int on_part(void *ctx, const struct http_multipart_part *p, char *why, size_t size)
{
	struct http_upload *u = ctx;
	int r;

	if (strcmp(p->name, "task") == 0 && !p->has_filename) {
		if (u->task) {
			snprintf(why, size, "two parts named 'task'");
			return -EINVAL;
		}
		if (p->len > u->max_task) {
			snprintf(why, size, "the task part is larger than %llu bytes ([http] max_body)",
				 (unsigned long long)u->max_task);
			return -E2BIG;
		}
		u->task = p->data;
		u->task_len = p->len;
		return 0;
	}
	if (is_tar_type(p->type))
		return api_tar_parse(p->data, p->len, &u->inputs, why, size);
	if (!p->has_filename || !p->filename[0]) {
		snprintf(why, size,
			 "part '%.64s' is not the task, a file (a filename: its path under /work) or an "
			 "application/x-tar archive",
			 p->name);
		return -EINVAL;
	}
	r = api_files_inputs_add(&u->inputs, p->filename, strlen(p->filename), 0644, false, p->data, p->len);
	if (r == -E2BIG)
		snprintf(why, size, "more than %u files", API_MAX_FILES);
	else if (r < 0)
		snprintf(why, size, "out of memory");
	return r;
}

enum MHD_Result http_upload_prepare(struct http_conn *c, struct http_route_request *in, bool *ready)
{
	struct http_upload *u = c->upload;
	char why[512] = "";
	int r;

	*ready = false;
	if (u->too_large)
		return transport_http_reply_error(c, 413, "too_large", 0,
						  "the body is larger than %llu bytes ([http] max_body and the "
						  "plan's max_input)",
						  (unsigned long long)u->max);
	if (u->write_error)
		return transport_http_reply_error(c, 503, "storage_full", 30, "cannot spool the upload: %s",
						  strerror(u->write_error));
	if (u->len) {
		u->map = mmap(NULL, u->len, PROT_READ, MAP_PRIVATE, u->fd, 0);
		if (u->map == MAP_FAILED) {
			u->map = NULL;
			return transport_http_reply_error(c, 500, "internal", 0, "map the upload: %s",
							  strerror(errno));
		}
	}
	if (u->tar) {
		const char *task = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "X-Corral-Task");

		if (!task)
			return transport_http_reply_error(
				c, 400, "bad_request", 0,
				"a tar body takes the task's JSON in the X-Corral-Task header");
		u->task = (const unsigned char *)task;
		u->task_len = strlen(task);
		r = api_tar_parse(u->map, u->len, &u->inputs, why, sizeof(why));
	} else {
		const char *type = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_TYPE);

		r = http_multipart_boundary(type, u->boundary, why, sizeof(why));
		if (r == 0)
			r = http_multipart_parse(u->map, u->len, u->boundary, on_part, u, why, sizeof(why));
		if (r == 0 && !u->task)
			return transport_http_reply_error(
				c, 400, "bad_request", 0,
				"a multipart submit needs a part named 'task' (its JSON)");
	}
	if (r == -E2BIG)
		return transport_http_reply_error(c, 413, "too_large", 0, "%s", why);
	if (r < 0)
		return transport_http_reply_error(c, r == -ENOMEM ? 500 : 400,
						  r == -ENOMEM ? "internal" : "bad_input", 0, "%s", why);
	in->body = (const char *)u->task;
	in->body_len = u->task_len;
	*ready = true;
	return MHD_YES;
}

const struct api_files_inputs *http_upload_inputs(const struct http_conn *c)
{
	return c->upload ? &c->upload->inputs : NULL;
}

void http_upload_free(struct http_conn *c)
{
	struct http_upload *u = c->upload;

	if (!u)
		return;
	spool_pending -= u->reserved - u->len;
	if (u->map)
		munmap(u->map, u->len);
	if (u->fd >= 0)
		close(u->fd);
	api_files_inputs_free(&u->inputs);
	free(u);
	c->upload = NULL;
}
