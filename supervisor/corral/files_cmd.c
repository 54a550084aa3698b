/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/files_cmd.c — a task's files on the client's side:
 * `submit --file LOCAL[:DEST]` and `--dir LOCAL[:DEST]` read here, as the
 * user (so only what the user can read is sent), into submit's files
 * (inline while they fit the request line, the others sent before the
 * submit as staged uploads, chunk by chunk);
 * `corral artifacts ID` printed; `corral fetch ID [NAME...] [-o DIR]`
 * writes the artifacts below DIR, as the user, chunk by chunk, refusing a
 * name that would leave DIR, and checks each one's SHA-256.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "supervisor/common/escape.h"
#include "supervisor/common/macros.h"
#include "supervisor/corral/commands.h"

/* What one request line may carry of files (base64), leaving room for the
 * rest of the submit. */
#define FILES_CMD_MAX_B64 (API_MAX_LINE - (256u << 10))

static size_t b64_total(json_t *files)
{
	size_t total = 0, i;
	json_t *e;

	json_array_foreach (files, i, e)
		total += json_string_length(json_object_get(e, "data_base64"));
	return total;
}

/* A file whose base64 would not fit in the request line's room left: sent
 * before the submit as a staged upload (files_cmd_upload), named here by
 * its local path, which the submit line never carries. */
static int add_staged(json_t *files, const char *path, const char *dest, const struct stat *st)
{
	json_array_append_new(files,
			      json_pack("{s:s, s:I, s:s, s:I}", "name", dest, "mode",
					(json_int_t)(st->st_mode & 0777), "local_path", path, "size",
					(json_int_t)st->st_size));
	return 0;
}

static int add_file(json_t *files, const char *path, const char *dest, const struct stat *st,
		    struct error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ unsigned char *data = NULL;
	_cleanup_free_ char *b64 = NULL;
	size_t len = 0;
	struct stat now;

	if (fd < 0 || fstat(fd, &now) < 0)
		return error_usage(err, "--file %s: %s", path, strerror(errno));
	if (!S_ISREG(now.st_mode))
		return error_usage(err, "%s: not a regular file (only files and directories are sent)", path);
	if ((uint64_t)now.st_size / 3 * 4 + 4 + b64_total(files) > FILES_CMD_MAX_B64)
		return add_staged(files, path, dest, &now);
	data = malloc((size_t)now.st_size + 1);
	if (!data)
		return error_usage(err, "%s: out of memory", path);
	while (len < (size_t)now.st_size) {
		ssize_t n = read(fd, data + len, (size_t)now.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_usage(err, "read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	b64 = api_base64_encode(data, len);
	if (!b64)
		return error_usage(err, "%s: out of memory", path);
	json_array_append_new(files,
			      json_pack("{s:s, s:I, s:s}", "name", dest, "mode",
					(json_int_t)(st->st_mode & 0777), "data_base64", b64));
	return 0;
}

static int add_tree(json_t *files, const char *path, const char *dest, int depth, struct error *err)
{
	DIR *dir;
	struct dirent *de;
	int r = 0;

	if (depth > 64)
		return error_usage(err, "--dir %s: deeper than 64 levels", path);
	json_array_append_new(files,
			      json_pack("{s:s, s:I, s:b}", "name", dest, "mode", (json_int_t)0755, "dir", 1));
	dir = opendir(path);
	if (!dir)
		return error_usage(err, "--dir %s: %s", path, strerror(errno));
	while (r == 0 && (de = readdir(dir))) {
		_cleanup_free_ char *sub = NULL, *subdest = NULL;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&sub, "%s/%s", path, de->d_name) < 0 ||
		    asprintf(&subdest, "%s/%s", dest, de->d_name) < 0) {
			sub = subdest = NULL;
			r = error_usage(err, "out of memory");
			break;
		}
		if (lstat(sub, &st) < 0)
			r = error_usage(err, "%s: %s", sub, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			r = add_tree(files, sub, subdest, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			r = add_file(files, sub, subdest, &st, err);
		else
			r = error_usage(err,
					"%s: not a regular file or directory (symlinks and special files "
					"are not sent)",
					sub);
		if (r == 0 && json_array_size(files) > API_MAX_FILES)
			r = error_usage(err, "--dir %s: more than %u files and directories", path,
					API_MAX_FILES);
	}
	closedir(dir);
	return r;
}

int files_cmd_add(json_t *files, const char *spec, bool is_dir, struct error *err)
{
	_cleanup_free_ char *local = strdup(spec);
	const char *dest;
	char *colon, why[400];
	struct stat st;

	if (!local)
		return error_usage(err, "out of memory");
	colon = strrchr(local, ':');
	if (colon) {
		*colon = '\0';
		dest = colon + 1;
	} else {
		char *end = local + strlen(local);

		while (end > local + 1 && end[-1] == '/')
			*--end = '\0';
		dest = strrchr(local, '/') ? strrchr(local, '/') + 1 : local;
	}
	if (api_files_check_name(dest, why, sizeof(why)) < 0)
		return error_usage(err, "--%s %s: the name in /work: %s", is_dir ? "dir" : "file", spec, why);
	if (stat(local, &st) < 0)
		return error_usage(err, "--%s %s: %s", is_dir ? "dir" : "file", local, strerror(errno));
	if (is_dir != S_ISDIR(st.st_mode))
		return error_usage(err, "--%s %s: %s", is_dir ? "dir" : "file", local,
				   is_dir ? "not a directory" : "a directory (use --dir)");
	return is_dir ? add_tree(files, local, dest, 0, err) : add_file(files, local, dest, &st, err);
}

void files_cmd_print_artifacts(FILE *out, json_t *list)
{
	size_t i;
	json_t *a;

	fprintf(out, "%-12s %-9s %-64s %s\n", "SIZE", "TRUNCATED", "SHA256", "NAME");
	json_array_foreach (list, i, a) {
		_cleanup_free_ char *name = escape_control_dup(json_string_value(json_object_get(a, "name")));

		fprintf(out, "%-12" PRId64 " %-9s %-64s %s\n",
			(int64_t)json_integer_value(json_object_get(a, "size")),
			json_is_true(json_object_get(a, "truncated")) ? "yes" : "no",
			json_string_value(json_object_get(a, "sha256")), name ? name : "?");
	}
}

/* One request; 0 and *resp, or the exit code after saying why. */
static int call(struct connection *c, enum api_op op, json_t *fields, json_t **resp, FILE *err)
{
	_cleanup_free_ char *text = json_dumps(fields, JSON_COMPACT);
	_cleanup_free_ char *line = text ? api_request_build(op, text) : NULL;
	const char *code, *message;
	struct error e;

	*resp = NULL;
	if (!line || connection_call(c, line, resp, &e) < 0) {
		fprintf(err, "corral: %s\n", line ? e.message : "out of memory");
		return line ? CLI_EXIT_UNREACHABLE : CLI_EXIT_ERROR;
	}
	if (connection_response_error(*resp, &code, &message)) {
		_cleanup_free_ char *safe = escape_control_dup(message ? message : "");
		int r = format_error_exit_code(code);

		fprintf(err, "corral: %s: %s\n", code, safe ? safe : "?");
		json_decref(*resp);
		*resp = NULL;
		return r;
	}
	return 0;
}

/* Send one staged file: upload_begin, then its chunks (up to
 * API_MAX_UPLOAD_CHUNK bytes a request, read as we go: memory stays
 * bounded), then its entry names the upload instead of the local path. */
static int upload_one(struct connection *c, json_t *entry, json_t *user, uint64_t task_bytes, FILE *err)
{
	const char *path = json_string_value(json_object_get(entry, "local_path"));
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = malloc(API_MAX_UPLOAD_CHUNK);
	json_t *fields, *resp = NULL;
	struct stat st;
	int64_t id, offset = 0;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !buf) {
		fprintf(err, "corral: %s: %s\n", path, fd < 0 ? strerror(errno) : "not a regular file");
		return CLI_EXIT_ERROR;
	}
	if (st.st_size == 0) { /* nothing to stage */
		json_object_set_new(entry, "data_base64", json_string(""));
		goto named;
	}
	fields = json_pack("{s:I, s:I}", "size", (json_int_t)st.st_size, "task_bytes",
			   (json_int_t)task_bytes);
	if (user) /* an operator's submit for a tenant: the tenant's upload */
		json_object_set(fields, "user", user);
	r = call(c, API_OP_UPLOAD_BEGIN, fields, &resp, err);
	json_decref(fields);
	if (r)
		return r;
	id = json_integer_value(json_object_get(resp, "upload"));
	json_decref(resp);
	while (offset < st.st_size) {
		size_t want = st.st_size - offset < API_MAX_UPLOAD_CHUNK ? (size_t)(st.st_size - offset)
									 : API_MAX_UPLOAD_CHUNK,
		       got = 0;
		_cleanup_free_ char *b64 = NULL;

		while (got < want) {
			ssize_t n = read(fd, buf + got, want - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(err, "corral: read %s: %s\n", path,
					n ? strerror(errno) : "it shrank");
				return CLI_EXIT_ERROR;
			}
			got += (size_t)n;
		}
		b64 = api_base64_encode(buf, got);
		fields = b64 ? json_pack("{s:I, s:I, s:s}", "upload", (json_int_t)id, "offset",
					 (json_int_t)offset, "data_base64", b64)
			     : NULL;
		if (!fields) {
			fprintf(err, "corral: out of memory\n");
			return CLI_EXIT_ERROR;
		}
		r = call(c, API_OP_UPLOAD_CHUNK, fields, &resp, err);
		json_decref(fields);
		if (r)
			return r;
		json_decref(resp);
		offset += (int64_t)got;
	}
	json_object_set_new(entry, "upload", json_integer(id));
named:
	json_object_del(entry, "local_path");
	json_object_del(entry, "size");
	return 0;
}

/* An upload this submit made that it no longer needs: abandoned at once
 * (it would expire anyway). */
static void abort_uploads(struct connection *c, json_t *files, FILE *err)
{
	size_t i;
	json_t *e;

	json_array_foreach (files, i, e) {
		json_t *up = json_object_get(e, "upload"), *fields, *resp = NULL;

		if (!up)
			continue;
		fields = json_pack("{s:O}", "upload", up);
		if (fields && call(c, API_OP_UPLOAD_ABORT, fields, &resp, err) == 0)
			json_decref(resp);
		json_decref(fields);
	}
}

/* The bytes of every input file of the submit: the staged ones' sizes and
 * the inline ones' decoded base64 (its length less the padding). */
static uint64_t task_bytes_of(json_t *files)
{
	uint64_t total = 0;
	size_t i;
	json_t *e;

	json_array_foreach (files, i, e) {
		const char *b64 = json_string_value(json_object_get(e, "data_base64"));

		if (json_object_get(e, "local_path"))
			total += (uint64_t)json_integer_value(json_object_get(e, "size"));
		else if (b64)
			total += api_base64_decoded_len(b64, strlen(b64));
	}
	return total;
}

int files_cmd_upload(struct connection *c, json_t *files, json_t *user, FILE *err)
{
	uint64_t task_bytes = task_bytes_of(files);
	size_t i;
	json_t *e;
	int r = 0;

	json_array_foreach (files, i, e) {
		if (r == 0 && json_object_get(e, "local_path"))
			r = upload_one(c, e, user, task_bytes, err);
	}
	if (r)
		abort_uploads(c, files, err);
	return r;
}

void files_cmd_upload_abandon(struct connection *c, json_t *files, FILE *err)
{
	abort_uploads(c, files, err);
}

/* mkdir -p of name's parents below dirfd; the directory fd of the last. */
static int parents_below(int dirfd, char *name, char **base)
{
	int cur = dup(dirfd);
	char *c = name, *slash;

	while (cur >= 0 && (slash = strchr(c, '/'))) {
		int next;

		*slash = '\0';
		if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
			close(cur);
			return -1;
		}
		next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
		*slash = '/';
		c = slash + 1;
	}
	*base = c;
	return cur;
}

static int fetch_one(struct connection *c, int64_t id, const char *name, int dirfd, FILE *err)
{
	_cleanup_free_ char *copy = strdup(name);
	_cleanup_close_ int dir = -1, fd = -1;
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1], why[400], *base;
	const char *want = "";
	bool truncated = false, eof = false;
	int64_t offset = 0;
	struct stat st = { 0 };

	if (!copy || api_files_check_name(name, why, sizeof(why)) < 0) {
		fprintf(err, "corral fetch: refusing the name %s\n", copy ? why : "?");
		return CLI_EXIT_ERROR;
	}
	dir = parents_below(dirfd, copy, &base);
	/* O_NONBLOCK: a FIFO planted there does not hang us; only a regular
	 * file is written */
	if (dir < 0 ||
	    (fd = openat(dir, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			 0644)) < 0 ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(err, "corral fetch: cannot write %s: %s\n", name,
			fd >= 0 && !S_ISREG(st.st_mode) ? "not a regular file" : strerror(errno));
		return CLI_EXIT_ERROR;
	}
	sha256_init(&ctx);
	while (!eof) {
		json_t *fields = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)id, "name", name, "offset",
					   (json_int_t)offset),
		       *resp;
		const char *b64;
		_cleanup_free_ unsigned char *data = NULL;
		size_t len = 0;
		int r = call(c, API_OP_FETCH, fields, &resp, err);

		json_decref(fields);
		if (r)
			return r;
		b64 = json_string_value(json_object_get(resp, "data_base64"));
		if (!b64 || api_base64_decode(b64, strlen(b64), &data, &len) < 0 ||
		    (len && write(fd, data, len) != (ssize_t)len)) {
			fprintf(err, "corral fetch: %s: %s\n", name,
				b64 ? strerror(errno ? errno : EIO) : "bad answer");
			json_decref(resp);
			return CLI_EXIT_ERROR;
		}
		sha256_update(&ctx, len, data ? data : (const uint8_t *)"");
		offset = json_integer_value(json_object_get(resp, "offset"));
		eof = json_is_true(json_object_get(resp, "eof")) || len == 0;
		truncated = json_is_true(json_object_get(resp, "truncated"));
		want = json_string_value(json_object_get(resp, "sha256"));
		snprintf(why, sizeof(why), "%s", want ? want : "");
		json_decref(resp);
	}
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (why[0] && strcmp(why, hex) != 0) {
		fprintf(err, "corral fetch: %s: SHA-256 %s, corrald says %s\n", name, hex, why);
		return CLI_EXIT_ERROR;
	}
	if (truncated)
		fprintf(err, "corral fetch: %s was cut by the plan's max_artifact: only its head was kept\n",
			name);
	return 0;
}

int files_cmd_fetch(struct cli_command *cmd, struct connection *c, FILE *out, FILE *err)
{
	int64_t id = json_integer_value(json_object_get(cmd->fields, "id"));
	_cleanup_close_ int dirfd = -1;
	json_t *names = cmd->names, *list = NULL, *resp = NULL;
	size_t i;
	json_t *n;
	int r = 0;

	(void)out;
	if (!json_array_size(names)) {
		json_t *fields = json_pack("{s:I}", "id", (json_int_t)id);

		r = call(c, API_OP_ARTIFACTS, fields, &resp, err);
		json_decref(fields);
		if (r)
			return r;
		list = json_array();
		json_array_foreach (json_object_get(resp, "artifacts"), i, n)
			json_array_append(list, json_object_get(n, "name"));
		names = list;
	}
	if (mkdir(cmd->output_dir ? cmd->output_dir : ".", 0755) < 0 && errno != EEXIST)
		r = CLI_EXIT_ERROR;
	dirfd = open(cmd->output_dir ? cmd->output_dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(err, "corral fetch: %s: %s\n", cmd->output_dir ? cmd->output_dir : ".",
			strerror(errno));
		r = CLI_EXIT_ERROR;
	}
	json_array_foreach (names, i, n) {
		if (r)
			break;
		r = fetch_one(c, id, json_string_value(n), dirfd, err);
	}
	json_decref(list);
	json_decref(resp);
	return r;
}
