/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_files_http_attack.c — task files over
 * HTTP attacked (root; issue 15) by a tenant holding a valid token and by
 * a local user: many large uploads at once against a small state disk
 * (the store must keep room to commit), the disk filled mid-upload (503,
 * nothing acknowledged, the spool gone), a slow upload and a client that
 * never reads artifacts.tar (no one else waits; both closed at the
 * timeout), a task's artifacts removed by retention while their tar is
 * streamed, Content-Length lies and chunked bodies, multipart tricks (a
 * NUL, quotes and ';' in filenames, LF-only lines, enormous headers),
 * tar tricks (setuid and world-writable modes, prefix+name making '..',
 * base-256 sizes, a pax path with a NUL, a file under a file), and
 * oversized or unauthenticated submits.  Raw sockets where curl would be
 * too polite.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/tar_build.h"
#include "tests/lib/test.h"

/* Its own host uids, apart from the other corrald tests'. */
#define SUPERVISOR_KEYS CORRALD_FILES_KEYS("4202800-4202863")
#define POLICY CORRALD_FILES_POLICY

static struct corrald daemon_;
static char scratch[128], token[256], url[128], tmpfs_dir[128];
static int port;
static struct corrald_files_fixture fixture = { &daemon_, scratch, sizeof(scratch),
						"corral-files-http-attack" };

/* corrald_files_teardown after every task ended and the state's tmpfs went. */
static int teardown(void **state)
{
	/* every task ended first: a task's /work tmpfs outlives corrald */
	if (daemon_.pid > 0) {
		json_t *r = corrald_call(&daemon_, "{\"op\":\"list\"}"), *t;
		size_t i;

		json_array_foreach (json_object_get(r, "tasks"), i, t)
			json_decref(
				corrald_wait(&daemon_, json_integer_value(json_object_get(t, "id")), 30000));
		json_decref(r);
		corrald_stop(&daemon_);
	}
	if (tmpfs_dir[0]) {
		if (umount2(tmpfs_dir, MNT_DETACH) < 0)
			fprintf(stderr, "teardown: umount %s: %s\n", tmpfs_dir, strerror(errno));
		tmpfs_dir[0] = '\0';
	}
	return corrald_files_teardown(state);
}

/* corrald with an HTTP listener ([http] keys added), the plan's keys, and
 * its state dir on a tmpfs of tmpfs_size ("" = the temp dir). */
static void start(const char *plan_keys, const char *http_keys, const char *tmpfs_size)
{
	char policy[1024];
	int r;

	test_require_root();
	port = http_free_port();
	snprintf(policy, sizeof(policy),
		 POLICY("%s") "[http]\nlisten = 127.0.0.1:%d\nmax_body = 64K\nmax_connections_per_ip = 64\n%s",
		 plan_keys, port, http_keys);
	assert_int_equal(corrald_prepare(&daemon_, SUPERVISOR_KEYS, policy), 0);
	if (tmpfs_size[0]) {
		r = corrald_state_on_tmpfs(&daemon_, tmpfs_size);
		if (r < 0) {
			test_skip_loudly("cannot mount a tmpfs for the state dir: %s", strerror(-r));
			return;
		}
		snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%s", daemon_.state_dir);
	}
	r = corrald_spawn(&daemon_, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&daemon_));
	corrald_files_bearer(&daemon_, "root", false, token, sizeof(token));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/tasks", port);
}

/* How many tasks corrald holds (all tenants). */
static size_t task_count(void)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"list\"}");
	size_t n = json_array_size(json_object_get(r, "tasks"));

	json_decref(r);
	return n;
}

static uint64_t used_bytes(const char *dir)
{
	struct statvfs s;

	assert_int_equal(statvfs(dir, &s), 0);
	return (uint64_t)(s.f_blocks - s.f_bfree) * s.f_frsize;
}

/* ---- raw HTTP ----------------------------------------------------------- */

/* A connection to corrald's listener (rcvbuf: its receive buffer, 0 = the default). */
static int raw_connect(int rcvbuf)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	if (rcvbuf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

/* Send all of p (false when the peer closed). */
static bool raw_send(int fd, const void *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* A POST /v1/tasks's request line and headers (extra: more header lines,
 * each ending in CRLF). */
static int raw_post_headers(const char *type, const char *extra, const char *length)
{
	char h[70000];
	int fd = raw_connect(0);

	snprintf(h, sizeof(h),
		 "POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: %s\r\n%s%s%s%s\r\n",
		 token, type, length ? "Content-Length: " : "", length ? length : "", length ? "\r\n" : "",
		 extra ? extra : "");
	assert_true(raw_send(fd, h, strlen(h)));
	return fd;
}

/* Whether buf holds one whole answer (headers and Content-Length bytes). */
static bool whole_answer(const char *buf, size_t n)
{
	const char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "\r\nContent-Length: ");

	return end && cl && cl < end && n - (size_t)(end + 4 - buf) >= (size_t)atoll(cl + 18);
}

/* What arrives within timeout_ms (until one whole answer came, the peer
 * closes or is quiet for it): its length; *status from the first status
 * line (0: none). */
static size_t raw_read(int fd, unsigned timeout_ms, char *buf, size_t size, int *status)
{
	size_t n = 0;

	for (buf[0] = '\0'; !whole_answer(buf, n);) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&p, 1, (int)timeout_ms) <= 0)
			break;
		got = recv(fd, buf + n, size - n - 1, 0);
		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = '\0';
		if (n + 1 >= size)
			break;
	}
	buf[n] = '\0';
	if (status)
		*status = strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
	return n;
}

/* ---- the state disk ------------------------------------------------------ */

/* Eight uploads of 15 MiB at once against a 64 MiB state disk: the ones
 * there is no room for are refused at once (503 storage_full,
 * Retry-After), so while every other one holds its bytes the store still
 * commits a submit; the refused and the abandoned leave no task and no
 * spool. */
static void test_concurrent_large_uploads_leave_the_store_room(void **state)
{
	const size_t n = 8, len = 15u << 20;
	_cleanup_free_ char *body = malloc(len);
	int fds[8], refused = 0, taken = 0, status;
	char buf[4096], length[32];
	uint64_t base;
	int64_t id;

	(void)state;
	start("max_input = 16M\n", "", "64m");
	assert_non_null(body);
	memset(body, 'x', len);
	base = used_bytes(tmpfs_dir);
	snprintf(length, sizeof(length), "%zu", len);
	for (size_t i = 0; i < n; i++) {
		fds[i] = raw_post_headers("application/x-tar",
					  "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n", length);
		if (raw_read(fds[i], 500, buf, sizeof(buf), &status) > 0) {
			if (status != 503 || !strstr(buf, "storage_full") || !strstr(buf, "Retry-After"))
				fail_msg("upload %zu: %s", i, buf);
			close(fds[i]);
			fds[i] = -1;
			refused++;
			continue;
		}
		/* all but its last byte: the spool holds it, the request is open */
		assert_true(raw_send(fds[i], body, len - 1));
		taken++;
	}
	fprintf(stderr, "# %d of %zu uploads of 15 MiB spooled at once on a 64 MiB state disk, %d refused\n",
		taken, n, refused);
	test_sleep_ms(300);
	id = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	if (id <= 0)
		fail_msg("a submit while the uploads hold their spools: %lld\n%s", (long long)id,
			 corrald_log_tail(&daemon_));
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	assert_true(refused > 0 && taken > 0);
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		assert_true(raw_send(fds[i], "x", 1));
		raw_read(fds[i], 5000, buf, sizeof(buf), &status);
		if (status != 400 || !strstr(buf, "bad_input"))
			fail_msg("a finished garbage upload: %s", buf);
		close(fds[i]);
	}
	assert_int_equal(task_count(), 1);
	test_sleep_ms(300);
	if (used_bytes(tmpfs_dir) > base + (2u << 20))
		fail_msg("the spools stayed: %llu bytes used, %llu before",
			 (unsigned long long)used_bytes(tmpfs_dir), (unsigned long long)base);
}

/* The disk filled by someone else mid-upload: the upload is answered 503
 * storage_full, nothing is acknowledged, its spool is gone; then a submit
 * is taken again. */
static void test_disk_full_mid_upload_is_503_and_leaves_nothing(void **state)
{
	const size_t len = 8u << 20;
	_cleanup_free_ char *body = malloc(len);
	char buf[4096], length[32], filler[300];
	uint64_t base;
	int fd, ff, status;
	int64_t id;

	(void)state;
	start("max_input = 16M\n", "", "64m");
	assert_non_null(body);
	memset(body, 'x', len);
	snprintf(length, sizeof(length), "%zu", len);
	fd = raw_post_headers("application/x-tar", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n", length);
	assert_true(raw_send(fd, body, len / 4));
	test_sleep_ms(200);
	base = used_bytes(tmpfs_dir);
	/* fill the disk */
	snprintf(filler, sizeof(filler), "%s/filler", tmpfs_dir);
	ff = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(ff >= 0);
	while (write(ff, body, 1u << 20) > 0)
		;
	while (write(ff, body, 4096) > 0)
		;
	close(ff);
	raw_send(fd, body + len / 4, len - len / 4);
	raw_read(fd, 5000, buf, sizeof(buf), &status);
	if (status != 503 || !strstr(buf, "storage_full"))
		fail_msg("an upload on a full disk: %s", buf);
	close(fd);
	assert_int_equal(unlink(filler), 0);
	test_sleep_ms(300);
	if (used_bytes(tmpfs_dir) > base + (1u << 20))
		fail_msg("the spool stayed: %llu bytes used, %llu before",
			 (unsigned long long)used_bytes(tmpfs_dir), (unsigned long long)base);
	assert_int_equal(task_count(), 0);
	id = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	assert_true(id > 0);
	json_decref(corrald_must_wait(&daemon_, id, 30000));
}

/* ---- slow clients --------------------------------------------------------- */

/* A task that wrote a 6 MiB artifact, ended. */
static int64_t big_artifact_task(void)
{
	int64_t id = corrald_submit(&daemon_,
				    "\"argv\":[\"/bin/sh\",\"-c\",\"head -c 6291456 /dev/urandom > big\"],"
				    "\"artifacts\":[\"big\"]");

	assert_true(id > 0);
	json_decref(corrald_must_wait(&daemon_, id, 30000));
	return id;
}

/* GET artifacts.tar of task id on a connection with a small receive
 * buffer (corrald cannot push it all into the socket): the connection;
 * *length its Content-Length, *total the tar's bytes read with the headers. */
static int open_artifacts_tar(int64_t id, long long *length, size_t *total)
{
	char req[512], buf[8192];
	int fd = raw_connect(4096), status;
	size_t got;

	snprintf(req, sizeof(req), "GET /v1/tasks/%lld/artifacts.tar HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n",
		 (long long)id, token);
	assert_true(raw_send(fd, req, strlen(req)));
	got = raw_read(fd, 200, buf, sizeof(buf), &status);
	assert_int_equal(status, 200);
	assert_non_null(strcasestr(buf, "Content-Length: "));
	*length = atoll(strcasestr(buf, "Content-Length: ") + 16);
	*total = got - (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf);
	return fd;
}

/* Read fd until corrald closes it (fails after timeout_ms of silence);
 * the bytes read are added to *total. */
static void read_until_closed(int fd, unsigned timeout_ms, size_t *total, const char *what)
{
	char buf[8192];

	for (bool closed = false; !closed;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)timeout_ms) <= 0)
			fail_msg("%s: not closed (%zu bytes read)", what, *total);
		n = recv(fd, buf, sizeof(buf), 0);
		closed = n <= 0;
		*total += n > 0 ? (size_t)n : 0;
	}
	close(fd);
}

/* A slow upload (headers and a few bytes, then nothing) and a client that
 * never reads artifacts.tar of a 6 MiB artifact: another tenant's requests
 * are answered at once meanwhile; at the connection timeout corrald closes
 * both (the tar short of its Content-Length), and the upload left no task. */
static void test_slow_upload_and_unread_artifacts_tar_stall_no_one(void **state)
{
	char theirs[256], buf[8192], u[256];
	struct http_answer a;
	double t0, worst = 0;
	size_t got, total = 0;
	int up, down, status;
	long long length = 0;
	int64_t id;

	(void)state;
	start("max_input = 16M\n", "connection_timeout = 2s\n", "");
	id = big_artifact_task();
	up = raw_post_headers("application/x-tar", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n",
			      "1048576");
	assert_true(raw_send(up, "abc", 3));
	down = open_artifacts_tar(id, &length, &total);
	corrald_files_bearer(&daemon_, CORRALD_TEST_OTHER_TENANT, false, theirs, sizeof(theirs));
	for (int i = 0; i < 5; i++) {
		t0 = test_mono_s();
		http_curl(&a, "-H", theirs, url, NULL);
		assert_int_equal(a.status, 200);
		http_answer_free(&a);
		worst = test_mono_s() - t0 > worst ? test_mono_s() - t0 : worst;
		test_sleep_ms(100);
	}
	fprintf(stderr,
		"# another tenant's GET /v1/tasks took at most %.3f s beside a stalled upload and "
		"an unread artifacts.tar\n",
		worst);
	assert_true(worst < 1.5); /* a stall would last the 2 s timeout */
	/* past the timeout: both closed by corrald */
	test_sleep_ms(3500);
	got = raw_read(up, 2000, buf, sizeof(buf), &status);
	assert_true(got == 0 || status == 408 || status == 0);
	close(up);
	read_until_closed(down, 3000, &total, "an unread artifacts.tar at the timeout");
	fprintf(stderr,
		"# an unread artifacts.tar of %lld bytes: %zu were sent before the timeout closed it\n",
		length, total);
	assert_true(length > 6291456 && total < (size_t)length);
	assert_int_equal(task_count(), 1);
	/* corrald still answers */
	snprintf(u, sizeof(u), "%s/%lld", url, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 200);
	http_answer_free(&a);
}

/* artifacts.tar of a task whose artifacts retention removes while the
 * client has read only its start (artifact_retention = 60 s, the least):
 * the stream ends short of its Content-Length and the connection closes;
 * never other bytes, never a hang. */
static void test_artifacts_purged_while_tar_is_streamed_cut_the_stream(void **state)
{
	size_t total;
	long long length;
	json_t *list;
	int64_t id;
	int down;

	(void)state;
	start("max_input = 1M\nartifact_retention = 60s\n", "connection_timeout = 300s\n", "");
	id = big_artifact_task();
	down = open_artifacts_tar(id, &length, &total);
	/* until retention removed them */
	for (int i = 0;; i++) {
		list = corrald_files_list(&daemon_, id);
		if (json_array_size(list) == 0) {
			json_decref(list);
			break;
		}
		json_decref(list);
		if (i > 1500) /* idle retention ticks are 60 s apart: up to 120 s */
			fail_msg("artifact retention did not remove task %lld's artifacts", (long long)id);
		test_sleep_ms(100);
	}
	read_until_closed(down, 5000, &total, "artifacts.tar after its artifacts were purged");
	fprintf(stderr,
		"# artifacts.tar of %lld bytes, artifacts purged mid-stream: %zu bytes, then closed\n",
		length, total);
	assert_true(total < (size_t)length);
}

/* ---- lies about the body --------------------------------------------------- */

/* Content-Length shorter than what is sent: the rest is a next request
 * (refused), one task; longer: no answer, closed at the timeout, no task;
 * chunked: taken, and over the cap refused 413 with no task. */
static void test_content_length_lies_and_chunked_bodies(void **state)
{
	struct tar_build t = { 0 };
	char length[32], buf[8192], path[300], body[320];
	struct http_answer a;
	int fd, status;

	(void)state;
	start("max_input = 1M\n", "connection_timeout = 1s\n", "");
	tar_build_file(&t, "ok.txt", "fine", false);
	tar_build_end(&t);
	/* shorter: the tar, then a smuggled submit that is not one */
	snprintf(length, sizeof(length), "%zu", t.len);
	fd = raw_post_headers("application/x-tar", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n", length);
	assert_true(raw_send(fd, t.p, t.len));
	raw_send(fd, "GARBAGE / HTTP/1.1\r\n\r\n", 22);
	raw_read(fd, 3000, buf, sizeof(buf), &status);
	assert_int_equal(status, 201);
	close(fd);
	assert_int_equal(task_count(), 1);
	/* longer: half of it, then silence */
	snprintf(length, sizeof(length), "%zu", t.len * 2);
	fd = raw_post_headers("application/x-tar", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n", length);
	assert_true(raw_send(fd, t.p, t.len));
	raw_read(fd, 3000, buf, sizeof(buf), &status);
	assert_true(status == 0 || status == 408);
	close(fd);
	assert_int_equal(task_count(), 1);
	/* chunked */
	snprintf(path, sizeof(path), "%s/in.tar", scratch);
	corrald_files_write(path, t.p, t.len, 0644);
	snprintf(body, sizeof(body), "@%s", path);
	http_curl(&a, "-H", token, "-H", "Content-Type: application/x-tar", "-H",
		  "Transfer-Encoding: chunked", "-H", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}",
		  "--data-binary", body, url, NULL);
	assert_int_equal(a.status, 201);
	http_answer_free(&a);
	free(t.p);
	{
		_cleanup_free_ char *big = calloc(1, 3u << 20);

		corrald_files_write(path, big, 3u << 20, 0644);
	}
	http_curl(&a, "-H", token, "-H", "Content-Type: application/x-tar", "-H",
		  "Transfer-Encoding: chunked", "-H", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}",
		  "--data-binary", body, url, NULL);
	if (a.status != 413)
		fail_msg("a chunked body over the cap: %d %s", a.status, a.body ? a.body : "");
	http_answer_free(&a);
	assert_int_equal(task_count(), 2);
}

/* An X-Corral-Task header beyond the header memory, an unknown token with
 * a large body: refused, no task, nothing spooled. */
static void test_oversized_task_header_and_unknown_token_are_refused(void **state)
{
	_cleanup_free_ char *hdr = malloc(40000);
	char buf[4096];
	int fd, status;
	size_t n;
	double t0;

	(void)state;
	start("max_input = 16M\n", "", "");
	n = (size_t)snprintf(hdr, 40000, "X-Corral-Task: {\"argv\":[\"/bin/true\"],\"labels\":[\"");
	memset(hdr + n, 'a', 40000 - n - 16);
	snprintf(hdr + 40000 - 16, 16, "\"]}\r\n");
	fd = raw_post_headers("application/x-tar", hdr, "1024");
	raw_read(fd, 3000, buf, sizeof(buf), &status);
	if (status != 431 && status != 413)
		fail_msg("a 40 KB X-Corral-Task: %s", buf);
	close(fd);
	/* an unknown token: 401 before the body is read */
	snprintf(token, sizeof(token), "Authorization: Bearer crl_%s",
		 "0123456789012345678901234567890123456789abc");
	t0 = test_mono_s();
	fd = raw_post_headers("application/x-tar", "X-Corral-Task: {\"argv\":[\"/bin/true\"]}\r\n",
			      "10485760");
	raw_read(fd, 3000, buf, sizeof(buf), &status);
	assert_int_equal(status, 401);
	assert_true(test_mono_s() - t0 < 2.0);
	close(fd);
	assert_int_equal(task_count(), 0);
}

/* ---- multipart and tar tricks --------------------------------------------- */

/* POST len bytes with this Content-Type (and another header line, or
 * NULL) through a raw socket: the status; code gets the error's code. */
static int raw_post(const void *data, size_t len, const char *type, const char *extra, char *out, size_t size)
{
	char length[32];
	int fd, status;

	snprintf(length, sizeof(length), "%zu", len);
	fd = raw_post_headers(type, extra, length);
	raw_send(fd, data, len);
	raw_read(fd, 5000, out, size, &status);
	close(fd);
	return status;
}

/* The task id of a raw 201 answer. */
static int64_t created_id(const char *answer)
{
	const char *body = strstr(answer, "\r\n\r\n");
	json_t *o = body ? json_loads(body + 4, 0, NULL) : NULL;
	int64_t id = json_integer_value(json_object_get(json_object_get(o, "task"), "id"));

	json_decref(o);
	assert_true(id > 0);
	return id;
}

#define must_succeed(id, what) corrald_files_must_succeed(&daemon_, id, 30000, what)

#define MP_TYPE "multipart/form-data; boundary=B"
#define MP_TASK(cmd)                                                                          \
	"--B\r\nContent-Disposition: form-data; name=\"task\"\r\n\r\n{\"argv\":[\"/bin/sh\"," \
	"\"-c\",\"" cmd "\"]}\r\n"

static void test_multipart_tricks(void **state)
{
	static const char nul[] = MP_TASK("true") "--B\r\nContent-Disposition: form-data; name=\"f\"; "
						  "filename=\"a\0/../../x\"\r\n\r\nx\r\n--B--\r\n";
	static const char lf_only[] = "--B\nContent-Disposition: form-data; name=\"task\"\n\n{\"argv\":"
				      "[\"/bin/true\"]}\n--B--\n";
	static const char quoted[] = MP_TASK(
		"grep -qx data 'q\\\"uo;te' && grep -q -- '--B no CRLF before' n.txt") "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"q\\\"uo;te\"\r\n\r\ndata\r\n"
										       "--B\r\nContent-Disposition: form-data; name=\"n\"; filename=\"n.txt\"\r\n"
										       "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B no CRLF before\r\n--B--\r\n";
	static const char latin1[] = MP_TASK(
		"test -f \\\"$(printf '\\\\377\\\\376.bin')\\\"") "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\xff\xfe.bin\"\r\n\r\nx\r\n--B--\r\n";
	_cleanup_free_ char *huge = malloc(20000);
	char out[8192];
	int status;
	size_t n;

	(void)state;
	start("max_input = 1M\n", "", "");
	status = raw_post(nul, sizeof(nul) - 1, MP_TYPE, NULL, out, sizeof(out));
	if (status != 400 || !strstr(out, "NUL"))
		fail_msg("a NUL in a filename: %s", out);
	status = raw_post(lf_only, sizeof(lf_only) - 1, MP_TYPE, NULL, out, sizeof(out));
	assert_int_equal(status, 400);
	n = (size_t)snprintf(huge, 20000,
			     "%s--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"h\"\r\nX-Pad: ",
			     MP_TASK("true"));
	memset(huge + n, 'p', 12000);
	n += 12000;
	n += (size_t)snprintf(huge + n, 20000 - n, "\r\n\r\nx\r\n--B--\r\n");
	status = raw_post(huge, n, MP_TYPE, NULL, out, sizeof(out));
	assert_int_equal(status, 400);
	assert_int_equal(task_count(), 0);
	/* quotes, ';' and a nested multipart are names and bytes like any
	 * other; a name that is not UTF-8 is its bytes in /work */
	status = raw_post(quoted, sizeof(quoted) - 1, MP_TYPE, NULL, out, sizeof(out));
	if (status != 201)
		fail_msg("quoted filename: %s", out);
	must_succeed(created_id(out), "quoted names");
	status = raw_post(latin1, sizeof(latin1) - 1, MP_TYPE, NULL, out, sizeof(out));
	if (status != 201)
		fail_msg("a filename not UTF-8: %s", out);
	must_succeed(created_id(out), "a name not UTF-8");
}

/* A header's field set to text (NUL-padded), then its checksum again. */
static void set_field(unsigned char *h, size_t off, size_t len, const char *text)
{
	memset(h + off, 0, len);
	memcpy(h + off, text, strlen(text) < len ? strlen(text) : len);
	tar_build_checksum(h);
}

static int post_tar(struct tar_build *t, const char *task, char *out, size_t size)
{
	char extra[512];

	tar_build_end(t);
	snprintf(extra, sizeof(extra), "X-Corral-Task: %s\r\n", task);
	return raw_post(t->p, t->len, "application/x-tar", extra, out, size);
}

/* A tar of one header (no data) is refused with 400. */
static void header_refused(const unsigned char *h, const char *what)
{
	struct tar_build t = { 0 };
	char out[8192];
	int status;

	tar_build_append(&t, h, 512);
	status = post_tar(&t, "{\"argv\":[\"/bin/true\"]}", out, sizeof(out));
	free(t.p);
	if (status != 400)
		fail_msg("%s: %s", what, out);
}

/* A tar of two members (tar_build_raw's) is refused with 400. */
static void pair_refused(const char *name1, char type1, const char *data1, const char *name2, char type2,
			 const char *data2, const char *what)
{
	struct tar_build t = { 0 };
	char out[8192];
	int status;

	tar_build_raw(&t, name1, type1, data1);
	tar_build_raw(&t, name2, type2, data2);
	status = post_tar(&t, "{\"argv\":[\"/bin/true\"]}", out, sizeof(out));
	free(t.p);
	if (status != 400)
		fail_msg("%s: %s", what, out);
}

static void test_tar_tricks_are_refused(void **state)
{
	const char *task = "{\"argv\":[\"/bin/true\"]}";
	unsigned char h[512];
	char out[8192];
	int status;

	(void)state;
	start("max_input = 1M\n", "", "");
	/* ustar prefix ".." and name "x"; prefix "a/.." and name ".."; a base-256 size of -1 */
	tar_build_raw_header(h, "x", '0', "00000000000");
	set_field(h, 345, 155, "..");
	header_refused(h, "prefix '..'");
	tar_build_raw_header(h, "..", '5', "00000000000");
	set_field(h, 345, 155, "a/..");
	header_refused(h, "prefix 'a/..' name '..'");
	tar_build_raw_header(h, "neg", '0', "00000000000");
	memset(h + 124, 0xff, 12);
	tar_build_checksum(h);
	header_refused(h, "base-256 -1");
	{ /* a pax path with a NUL, and a pax path "../x" */
		static const char nul_path[] = "13 path=a\0/x\n";
		struct tar_build t = { 0 };
		char size[16];

		snprintf(size, sizeof(size), "%011zo", sizeof(nul_path) - 1);
		tar_build_raw_header(h, "PaxHeaders/a", 'x', size);
		tar_build_append(&t, h, 512);
		tar_build_append(&t, nul_path, sizeof(nul_path) - 1);
		tar_build_pad(&t);
		tar_build_raw(&t, "a", '0', "x");
		status = post_tar(&t, task, out, sizeof(out));
		free(t.p);
		if (status != 400)
			fail_msg("pax path with NUL: %s", out);
	}
	/* a pax path "../x"; a directory then a file of the same name; a file then one below it */
	pair_refused("PaxHeaders/b", 'x', "13 path=../x\n", "b", '0', "x", "pax path ../x");
	pair_refused("d/", '5', "", "d", '0', "x", "dir then file");
	pair_refused("f", '0', "x", "f/g", '0', "y", "file under a file");
	assert_int_equal(task_count(), 0);
}

/* setuid, setgid, sticky, world-writable modes in a tar: /work gets
 * 0755 or 0644, owned by the jail's uid, never root's. */
static void test_tar_modes_are_tamed_in_work(void **state)
{
	struct tar_build t = { 0 };
	unsigned char h[512];
	char out[8192];
	json_t *task;
	int64_t id;
	int status;

	(void)state;
	start("max_input = 1M\n", "", "");
	tar_build_raw_header(h, "suid", '0', "00000000002");
	set_field(h, 100, 8, "0006777");
	tar_build_append(&t, h, 512);
	tar_build_append(&t, "x\n", 2);
	tar_build_pad(&t);
	tar_build_raw_header(h, "ww", '0', "00000000002");
	set_field(h, 100, 8, "0000666");
	tar_build_append(&t, h, 512);
	tar_build_append(&t, "y\n", 2);
	tar_build_pad(&t);
	tar_build_raw_header(h, "dir/", '5', "00000000000");
	set_field(h, 100, 8, "0001777");
	tar_build_append(&t, h, 512);
	status = post_tar(&t,
			  "{\"command\":\"stat -c '%n %a %u' suid ww dir > modes.txt\","
			  "\"artifacts\":[\"modes.txt\"]}",
			  out, sizeof(out));
	free(t.p);
	if (status != 201)
		fail_msg("modes: %s", out);
	id = created_id(out);
	task = corrald_must_wait(&daemon_, id, 30000);
	json_decref(task);
	{
		char u[256];
		struct http_answer a;

		snprintf(u, sizeof(u), "%s/%lld/artifacts/modes.txt", url, (long long)id);
		http_curl(&a, "-H", token, u, NULL);
		assert_int_equal(a.status, 200);
		fprintf(stderr, "# modes in /work: %s", a.body);
		if (!strstr(a.body, "suid 755 ") || !strstr(a.body, "ww 644 ") ||
		    !strstr(a.body, "dir 755 ") || strstr(a.body, " 0\n"))
			fail_msg("modes in /work: %s", a.body);
		http_answer_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_prestate_setup_teardown(t, corrald_files_setup, teardown, &fixture)
		T(test_concurrent_large_uploads_leave_the_store_room),
		T(test_disk_full_mid_upload_is_503_and_leaves_nothing),
		T(test_slow_upload_and_unread_artifacts_tar_stall_no_one),
		T(test_artifacts_purged_while_tar_is_streamed_cut_the_stream),
		T(test_content_length_lies_and_chunked_bodies),
		T(test_oversized_task_header_and_unknown_token_are_refused),
		T(test_multipart_tricks),
		T(test_tar_tricks_are_refused),
		T(test_tar_modes_are_tamed_in_work),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
