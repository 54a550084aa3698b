/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/cluster_output.c — in a cluster, a task's stdout and
 * stderr also go to the store (store_cluster.h: chunks any node reads), so
 * `logs` (and `logs --follow`) work through every node, also once the node
 * that ran the task is gone.  The node running a task copies what its
 * output files gained once a cluster_poll, and the rest before its end is
 * recorded (in the same store batch).  The files stay the jail's: init's
 * capped pipe bounds them, so the store holds at most the output limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

#define CHUNK_BYTES (256u * 1024u) /* one row */
#define CHUNKS_PER_TICK 4          /* a busy task does not hold the loop */

static void upload_stream(struct daemon *d, struct dtask *t, int stream, bool final)
{
	char dir[4200], path[4300];
	_cleanup_close_ int fd = -1;
	struct stat sb;
	struct error err;
	unsigned char *buf;
	unsigned chunks = 0;

	snprintf(path, sizeof(path), "%s/%s", task_start_dir(d, t->id, dir, sizeof(dir)),
		 stream == 1 ? "stdout" : "stderr");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) < 0 || (uint64_t)sb.st_size <= t->uploaded[stream - 1])
		return;
	buf = malloc(CHUNK_BYTES);
	while (buf && (uint64_t)sb.st_size > t->uploaded[stream - 1] &&
	       (final || chunks++ < CHUNKS_PER_TICK)) {
		uint64_t off = t->uploaded[stream - 1], left = (uint64_t)sb.st_size - off;
		ssize_t n = pread(fd, buf, left < CHUNK_BYTES ? (size_t)left : CHUNK_BYTES, (off_t)off);
		char *b64;
		int r;

		if (n <= 0)
			break;
		b64 = api_base64_encode(buf, (size_t)n);
		r = b64 ? store_cluster_output_append(d->store, t->id, stream, (int64_t)off, b64, n, &err)
			: -ENOMEM;
		free(b64);
		if (r < 0) {
			log_task(LOG_LEVEL_WARNING, t->id, "copy its %s to the store: %s (again later)",
				 stream == 1 ? "stdout" : "stderr",
				 r == -ENOMEM ? "out of memory" : err.message);
			break;
		}
		t->uploaded[stream - 1] = off + (uint64_t)n;
	}
	free(buf);
}

void cluster_output_upload(struct daemon *d, struct dtask *t, bool final)
{
	if (!d->cluster)
		return;
	if (!t->uploaded_known) {
		/* adopted after a restart: go on where the store is */
		for (int s = 1; s <= 2; s++) {
			struct store_output_chunks c;
			struct error err;

			if (store_cluster_output_read(d->store, t->id, s, 0, 1, &c, &err) < 0)
				return;
			t->uploaded[s - 1] = (uint64_t)c.size;
			store_cluster_output_chunks_free(&c);
		}
		t->uploaded_known = true;
	}
	upload_stream(d, t, 1, final);
	upload_stream(d, t, 2, final);
}

int cluster_output_read(struct daemon *d, int64_t id, bool err_stream, uint64_t offset, uint64_t max,
			unsigned char **data, size_t *n, uint64_t *size)
{
	return cluster_output_read_stream(d, id, err_stream ? 2 : 1, offset, max, data, n, size);
}

int cluster_output_read_stream(struct daemon *d, int64_t id, int stream, uint64_t offset, uint64_t max,
			       unsigned char **data, size_t *n, uint64_t *size)
{
	struct store_output_chunks c;
	struct error err;
	unsigned char *out;
	size_t used = 0;
	int r = store_cluster_output_read(d->store, id, stream, (int64_t)offset, max / CHUNK_BYTES + 2, &c,
					  &err);

	*data = NULL;
	*n = 0;
	*size = 0;
	if (r < 0)
		return r;
	*size = (uint64_t)c.size;
	out = malloc(max ? max : 1);
	for (size_t i = 0; out && i < c.count && used < max; i++) {
		unsigned char *bytes = NULL;
		size_t len = 0, skip;

		/* chunks are contiguous; stop at a gap (a chunk not stored yet) */
		if ((uint64_t)c.items[i].off > offset + used)
			break;
		if (api_base64_decode(c.items[i].data_b64, strlen(c.items[i].data_b64), &bytes, &len) < 0)
			break;
		skip = (size_t)(offset + used - (uint64_t)c.items[i].off);
		if (skip < len) {
			size_t take = len - skip < max - used ? len - skip : max - used;

			memcpy(out + used, bytes + skip, take);
			used += take;
		}
		free(bytes);
	}
	store_cluster_output_chunks_free(&c);
	if (!out)
		return -ENOMEM;
	*data = out;
	*n = used;
	return 0;
}

/* ---- stdin ---------------------------------------------------------------------- */

int cluster_output_store_stdin(struct daemon *d, int64_t id, const char *data, size_t len)
{
	struct error err;

	for (size_t off = 0; off < len; off += CHUNK_BYTES) {
		size_t n = len - off < CHUNK_BYTES ? len - off : CHUNK_BYTES;
		_cleanup_free_ char *b64 = api_base64_encode(data + off, n);
		int r;

		if (!b64)
			return -ENOMEM;
		r = store_cluster_output_append(d->store, id, 0, (int64_t)off, b64, (int64_t)n, &err);
		if (r < 0) {
			log_task(LOG_LEVEL_ERR, id, "store its stdin: %s", err.message);
			return r;
		}
	}
	return 0;
}

int cluster_output_fetch_stdin(struct daemon *d, struct store_task *st)
{
	char dir[4200], path[4300];
	uint64_t off = 0, size = 1;
	_cleanup_close_ int fd = -1;
	int local;

	if (!st->stdin_path)
		return 0;
	/* taken by this node: its file is here (nodes may share a state_dir
	 * path, so the path alone says nothing: its file must exist) */
	local = open(st->stdin_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (local >= 0) {
		close(local);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/stdin", task_start_dir(d, st->id, dir, sizeof(dir)));
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < size) {
		unsigned char *data = NULL;
		size_t n = 0;
		int r = cluster_output_read_stream(d, st->id, 0, off, CHUNK_BYTES * 4, &data, &n, &size);

		if (r < 0 || (n == 0 && off < size)) {
			free(data);
			return r < 0 ? r : -EIO;
		}
		if (n && write(fd, data, n) != (ssize_t)n) {
			free(data);
			return -EIO;
		}
		free(data);
		off += n;
		if (size == 0)
			break;
	}
	if (fsync(fd) < 0)
		return -errno;
	free(st->stdin_path);
	st->stdin_path = strdup(path);
	return st->stdin_path ? 0 : -ENOMEM;
}
