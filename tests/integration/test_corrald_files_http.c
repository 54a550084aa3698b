/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_files_http.c — a task's files over real
 * HTTP on 127.0.0.1 (root; issue 15): inputs as multipart/form-data
 * (binary, a subdirectory) and as a tar body (GNU tar's archives, modes),
 * the tar of all artifacts streamed and extracted by GNU tar, compared
 * byte for byte, a truncated artifact in it with its head and its mark,
 * the SHA-256 headers of one artifact; and the refusals, each leaving no
 * task: hostile tar members and structures, hostile multipart bodies,
 * over-cap inputs (too_large, storage_quota), another tenant's tar (403);
 * 48 MiB in and out, timed, corrald's memory sampled while it streams.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_files.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/tar_build.h"
#include "tests/lib/test.h"

/* Its own host uids, apart from the other corrald tests'. */
#define SUPERVISOR_KEYS CORRALD_FILES_KEYS("4202700-4202763")
#define POLICY CORRALD_FILES_POLICY

static struct corrald daemon_;
static char scratch[128], token[256], url[128];
static int port;
static struct corrald_files_fixture fixture = { &daemon_, scratch, sizeof(scratch), "corral-files-http" };

/* corrald with an HTTP listener and the policy's extra plan keys; token:
 * root's (not an operator: the tenant's own cap applies). */
static void start(const char *plan_keys)
{
	char policy[1024];

	test_require_root();
	port = http_free_port();
	snprintf(policy, sizeof(policy), POLICY("%s") "[http]\nlisten = 127.0.0.1:%d\nmax_body = 64K\n",
		 plan_keys, port);
	corrald_files_start(&daemon_, SUPERVISOR_KEYS, policy);
	corrald_files_bearer(&daemon_, "root", false, token, sizeof(token));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/tasks", port);
}

#define write_bytes corrald_files_write
#define sh test_sh

/* Deterministic binary content: every byte value, in a varying order. */
static unsigned char *binary(size_t len)
{
	unsigned char *p = malloc(len);
	uint32_t x = 2463534242u;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = (unsigned char)(i < 256 ? i : x);
	}
	return p;
}

static int64_t task_id_of(struct http_answer *a)
{
	return json_integer_value(json_object_get(json_object_get(a->json, "task"), "id"));
}

#define must_succeed(id) corrald_files_must_succeed(&daemon_, id, 30000, "the task")

/* The task a POST created (201), once it succeeded. */
static int64_t created_and_succeeded(struct http_answer *a, const char *what)
{
	int64_t id;

	if (a->status != 201)
		fail_msg("POST %s: %d %s", what, a->status, a->body ? a->body : "");
	id = task_id_of(a);
	http_answer_free(a);
	must_succeed(id);
	return id;
}

/* How many tasks corrald holds (all tenants). */
static size_t task_count(void)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"list\"}");
	size_t n = json_array_size(json_object_get(r, "tasks"));

	json_decref(r);
	return n;
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* multipart: the task, a 300 KiB binary file into a subdirectory (more
 * than one store chunk), a text file; the task checks and copies them;
 * one artifact fetched has the bytes and its SHA-256 in the headers. */
static void test_multipart_round_trip_with_binary_and_subdirectory(void **state)
{
	const size_t len = 300u << 10;
	_cleanup_free_ unsigned char *data = binary(len);
	char bin[200], f1[300], f2[300], u[256], hex[65];
	struct http_answer a;
	int64_t id;

	(void)state;
	start("max_input = 4M\n");
	snprintf(bin, sizeof(bin), "%s/bin", scratch);
	write_bytes(bin, data, len, 0600);
	snprintf(f1, sizeof(f1), "f=@%s;filename=sub/dir/data.bin", bin);
	snprintf(f2, sizeof(f2), "g=@%s;filename=t.txt;type=text/plain", bin);
	http_curl(&a, "-H", token, "--form-string",
		  "task={\"command\":\"test -d sub/dir && mkdir o && cp sub/dir/data.bin o/ && cmp t.txt "
		  "o/data.bin\",\"artifacts\":[\"o/*\"]}",
		  "-F", f1, "-F", f2, url, NULL);
	id = created_and_succeeded(&a, "multipart");
	snprintf(u, sizeof(u), "%s/%lld/artifacts/o/data.bin", url, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.len, len);
	assert_memory_equal(a.body, data, len);
	sha256_hex(data, len, hex);
	assert_string_equal(http_header(&a, "X-Corral-Sha256"), hex);
	assert_non_null(http_header(&a, "Repr-Digest"));
	assert_true(strncmp(http_header(&a, "Repr-Digest"), "sha-256=:", 9) == 0);
	assert_string_equal(http_header(&a, "X-Corral-Truncated"), "false");
	http_answer_free(&a);
}

/* A tar body made by GNU tar (gnu and pax formats: "./" members, an
 * executable, a subdirectory, binary data): the task sees the tree and
 * the modes; artifacts.tar, extracted by GNU tar, equals what went in. */
static void test_tar_round_trip_and_artifacts_tar_extracted(void **state)
{
	static const char *const formats[] = { "gnu", "pax" };
	_cleanup_free_ unsigned char *data = binary(500000);
	char path[300], body[320], u[256];
	struct http_answer a;

	(void)state;
	start("max_input = 4M\n");
	snprintf(path, sizeof(path), "%s/src/deep/er", scratch);
	sh("mkdir -p %s", path);
	snprintf(path, sizeof(path), "%s/src/deep/er/blob.bin", scratch);
	write_bytes(path, data, 500000, 0644);
	snprintf(path, sizeof(path), "%s/src/run.sh", scratch);
	write_bytes(path, "#!/bin/sh\necho ran\n", 19, 0755);
	snprintf(path, sizeof(path), "%s/src/empty", scratch);
	write_bytes(path, "", 0, 0644);
	for (size_t i = 0; i < 2; i++) {
		int64_t id;

		sh("tar --format=%s -cf %s/in.tar -C %s/src .", formats[i], scratch, scratch);
		snprintf(body, sizeof(body), "@%s/in.tar", scratch);
		http_curl(&a, "-H", token, "-H", "Content-Type: application/x-tar", "-H",
			  "X-Corral-Task: {\"command\":\"test -x run.sh && ./run.sh > out.txt && mkdir o && cp -p "
			  "-r deep run.sh empty o/\",\"artifacts\":[\"o/*\",\"out.txt\"]}",
			  "--data-binary", body, url, NULL);
		id = created_and_succeeded(&a, formats[i]);
		snprintf(u, sizeof(u), "%s/%lld/artifacts.tar", url, (long long)id);
		snprintf(path, sizeof(path), "%s/got-%zu.tar", scratch, i);
		http_curl(&a, "-H", token, u, NULL);
		assert_int_equal(a.status, 200);
		write_bytes(path, a.body, a.len, 0644);
		assert_string_equal(http_header(&a, "Content-Type"), "application/x-tar");
		assert_string_equal(http_header(&a, "X-Corral-Truncated"), "0");
		assert_string_equal(http_header(&a, "X-Corral-Artifacts"), "4");
		http_answer_free(&a);
		sh("mkdir %s/x%zu && tar -xf %s/got-%zu.tar -C %s/x%zu", scratch, i, scratch, i, scratch, i);
		sh("cmp %s/src/deep/er/blob.bin %s/x%zu/o/deep/er/blob.bin", scratch, scratch, i);
		sh("cmp %s/src/run.sh %s/x%zu/o/run.sh && test -x %s/x%zu/o/run.sh", scratch, scratch, i,
		   scratch, i);
		sh("test -f %s/x%zu/o/empty && ! test -s %s/x%zu/o/empty", scratch, i, scratch, i);
		sh("echo ran | cmp - %s/x%zu/out.txt", scratch, i);
	}
}

/* A file cut by max_artifact is in the tar with the head that was kept,
 * marked (a pax record, X-Corral-Truncated); another tenant gets 403, an
 * unknown task 404. */
static void test_artifacts_tar_marks_truncated_and_keeps_visibility(void **state)
{
	char u[256], theirs[256], path[300];
	struct http_answer a;
	json_t *list;
	int64_t id;

	(void)state;
	start("max_artifact = 64K\n");
	id = corrald_submit(&daemon_,
			    "\"argv\":[\"/bin/sh\",\"-c\",\"echo small > a.txt; head -c 655360 "
			    "/dev/urandom > z.big\"],\"artifacts\":[\"*\"]");
	assert_true(id > 0);
	must_succeed(id);
	list = corrald_files_list(&daemon_, id);
	assert_true(json_is_true(json_object_get(corrald_files_named(list, "z.big"), "truncated")));
	snprintf(u, sizeof(u), "%s/%lld/artifacts.tar", url, (long long)id);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(http_header(&a, "X-Corral-Truncated"), "1");
	assert_non_null(memmem(a.body, a.len, "CORRAL.truncated=1\n", 19));
	snprintf(path, sizeof(path), "%s/t.tar", scratch);
	write_bytes(path, a.body, a.len, 0644);
	http_answer_free(&a);
	sh("mkdir %s/x && tar -xf %s/t.tar -C %s/x 2>/dev/null", scratch, scratch, scratch);
	sh("echo small | cmp - %s/x/a.txt", scratch);
	sh("test $(stat -c %%s %s/x/z.big) -eq %lld", scratch,
	   (long long)json_integer_value(json_object_get(corrald_files_named(list, "z.big"), "size")));
	json_decref(list);
	corrald_files_bearer(&daemon_, CORRALD_TEST_OTHER_TENANT, false, theirs, sizeof(theirs));
	http_curl(&a, "-H", theirs, u, NULL);
	if (a.status != 403 || memmem(a.body, a.len, "small", 5))
		fail_msg("artifacts.tar as another tenant: %d", a.status);
	http_answer_free(&a);
	snprintf(u, sizeof(u), "%s/%lld/artifacts.tar", url, (long long)id + 1000);
	http_curl(&a, "-H", token, u, NULL);
	assert_int_equal(a.status, 404);
	http_answer_free(&a);
}

/* POST len bytes with this Content-Type header (and another header, or
 * NULL); its status and error code. */
static int post_body(const void *data, size_t len, const char *type, const char *header, char *code,
		     size_t size)
{
	char path[300], body[320];
	struct http_answer a;
	const char *c;
	int status;

	snprintf(path, sizeof(path), "%s/body", scratch);
	write_bytes(path, data, len, 0644);
	snprintf(body, sizeof(body), "@%s", path);
	http_curl(&a, "-H", token, "-H", type, "--data-binary", body, url, header ? "-H" : NULL, header,
		  NULL);
	status = a.status;
	c = json_string_value(json_object_get(json_object_get(a.json, "error"), "code"));
	snprintf(code, size, "%s", c ? c : "");
	http_answer_free(&a);
	return status;
}

static int post_tar(const struct tar_build *t, char *code, size_t size)
{
	return post_body(t->p, t->len, "Content-Type: application/x-tar",
			 "X-Corral-Task: {\"argv\":[\"/bin/true\"]}", code, size);
}

static void test_hostile_tar_bodies_are_refused_without_a_task(void **state)
{
	static const struct {
		const char *what, *name;
		char type;
	} members[] = { { "parent", "../x", '0' },
			{ "absolute", "/etc/x", '0' },
			{ "inner parent", "a/../../x", '0' },
			{ "symlink", "l", '2' },
			{ "hard link", "h", '1' },
			{ "char device", "c", '3' },
			{ "block device", "b", '4' },
			{ "FIFO", "p", '6' },
			{ "GNU long name", "././@LongLink", 'L' } };
	char code[64], name[32];
	unsigned char h[512];
	int status;

	(void)state;
	start("max_input = 4M\n");
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		struct tar_build t = { 0 };

		tar_build_file(&t, "ok.txt", "fine", false);
		tar_build_raw(&t, members[i].name, members[i].type, "");
		tar_build_end(&t);
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		if (status != 400 || strcmp(code, "bad_input") != 0)
			fail_msg("%s: %d %s", members[i].what, status, code);
	}
	{ /* a bad checksum */
		struct tar_build t = { 0 };

		tar_build_file(&t, "ok.txt", "fine", false);
		tar_build_end(&t);
		t.p[0] = 'x';
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 400);
		assert_string_equal(code, "bad_input");
	}
	{ /* truncated: a member's data cut */
		struct tar_build t = { 0 };
		char big[5000];

		memset(big, 'b', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		tar_build_file(&t, "big", big, false);
		t.len = 2048;
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 400);
		assert_string_equal(code, "bad_input");
	}
	{ /* a size of 10^15 (pax) and of 8 GiB - 1 (octal) */
		struct tar_build t = { 0 };

		tar_build_raw(&t, "PaxHeaders/huge", 'x', "25 size=1000000000000000\n");
		tar_build_raw(&t, "huge", '0', "");
		tar_build_end(&t);
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 400);
		assert_string_equal(code, "bad_input");
		memset(&t, 0, sizeof(t));
		tar_build_raw_header(h, "huge", '0', "77777777777");
		tar_build_append(&t, h, 512);
		tar_build_end(&t);
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 400);
		assert_string_equal(code, "bad_input");
	}
	{ /* 1001 entries */
		struct tar_build t = { 0 };

		for (unsigned i = 0; i <= API_MAX_FILES; i++) {
			snprintf(name, sizeof(name), "f%u", i);
			tar_build_raw(&t, name, '0', "");
		}
		tar_build_end(&t);
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 413);
		assert_string_equal(code, "too_large");
	}
	{ /* the same name twice: the submit's own check */
		struct tar_build t = { 0 };

		tar_build_file(&t, "same", "1", false);
		tar_build_file(&t, "same", "2", false);
		tar_build_end(&t);
		status = post_tar(&t, code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 400);
		assert_string_equal(code, "bad_input");
	}
	{ /* a good archive for another tenant: only operators may */
		struct tar_build t = { 0 };

		tar_build_file(&t, "ok.txt", "fine", false);
		tar_build_end(&t);
		status = post_body(
			t.p, t.len, "Content-Type: application/x-tar",
			"X-Corral-Task: {\"argv\":[\"/bin/true\"],\"tenant\":\"" CORRALD_TEST_OTHER_TENANT
			"\"}",
			code, sizeof(code));
		free(t.p);
		assert_int_equal(status, 403);
		assert_string_equal(code, "forbidden");
	}
	assert_int_equal(task_count(), 0);
	/* and a good one is taken */
	{
		struct tar_build t = { 0 };

		tar_build_file(&t, "ok.txt", "fine", false);
		tar_build_end(&t);
		assert_int_equal(post_tar(&t, code, sizeof(code)), 201);
		free(t.p);
		assert_int_equal(task_count(), 1);
	}
}

/* POST a raw multipart body with this Content-Type; status and code. */
static int post_multipart(const char *type, const char *body, char *code, size_t size)
{
	char header[256];

	snprintf(header, sizeof(header), "Content-Type: %s", type);
	return post_body(body, strlen(body), header, NULL, code, size);
}

#define TASK_PART "--B\r\nContent-Disposition: form-data; name=\"task\"\r\n\r\n{\"argv\":[\"/bin/true\"]}\r\n"
#define FILE_PART(name) \
	"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" name "\"\r\n\r\nx\r\n"

static void test_hostile_multipart_bodies_are_refused_without_a_task(void **state)
{
	static const struct {
		const char *what, *type, *body, *code;
	} cases[] = {
		{ "no boundary", "multipart/form-data", TASK_PART "--B--\r\n", "bad_input" },
		{ "unterminated part", "multipart/form-data; boundary=B", TASK_PART FILE_PART("a") "--B",
		  "bad_input" },
		{ "no close delimiter", "multipart/form-data; boundary=B",
		  TASK_PART "--B\r\nContent-Disposition: "
			    "form-data; name=\"f\"; "
			    "filename=\"a\"\r\n\r\nxx",
		  "bad_input" },
		{ "duplicate name", "multipart/form-data; boundary=B",
		  TASK_PART FILE_PART("d/a") FILE_PART("d/a") "--B--\r\n", "bad_input" },
		{ "dot-dot name", "multipart/form-data; boundary=B",
		  TASK_PART FILE_PART("a/../../x") "--B--\r\n", "bad_input" },
		{ "absolute name", "multipart/form-data; boundary=B",
		  TASK_PART FILE_PART("/etc/x") "--B--\r\n", "bad_input" },
		{ "two task parts", "multipart/form-data; boundary=B", TASK_PART TASK_PART "--B--\r\n",
		  "bad_input" },
		{ "no task part", "multipart/form-data; boundary=B", FILE_PART("a") "--B--\r\n",
		  "bad_request" },
		{ "a part with no filename", "multipart/form-data; boundary=B",
		  TASK_PART "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--B--\r\n",
		  "bad_input" },
		{ "a bad tar part", "multipart/form-data; boundary=B",
		  TASK_PART "--B\r\nContent-Disposition: form-data; name=\"t\"; filename=\"a.tar\"\r\n"
			    "Content-Type: application/x-tar\r\n\r\nnot a tar\r\n--B--\r\n",
		  "bad_input" },
	};
	char code[64];

	(void)state;
	start("max_input = 4M\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = post_multipart(cases[i].type, cases[i].body, code, sizeof(code));

		if (status != 400 || strcmp(code, cases[i].code) != 0)
			fail_msg("%s: %d %s", cases[i].what, status, code);
	}
	assert_int_equal(task_count(), 0);
	assert_int_equal(post_multipart("multipart/form-data; boundary=B",
					TASK_PART FILE_PART("d/a") "--B--\r\n", code, sizeof(code)),
			 201);
	assert_int_equal(task_count(), 1);
}

/* Over the plan's max_input: too_large (the submit's check, and the
 * body's cap before the transport reads it all); over max_stored:
 * storage_quota; no task either way. */
static void test_over_cap_uploads_are_refused_without_a_task(void **state)
{
	_cleanup_free_ unsigned char *data = binary(3u << 20);
	char path[300], f[340];
	struct http_answer a;

	(void)state;
	start("max_input = 1M\nmax_stored = 1536K\n");
	snprintf(path, sizeof(path), "%s/big", scratch);
	write_bytes(path, data, 1200u << 10, 0644);
	snprintf(f, sizeof(f), "f=@%s;filename=big", path);
	/* 1.2 MiB: under max_body + max_input (the body is read), over max_input */
	http_curl(&a, "-H", token, "--form-string", "task={\"argv\":[\"/bin/true\"]}", "-F", f, url, NULL);
	if (a.status != 413 || !strstr(a.body, "too_large") || !strstr(a.body, "max_input"))
		fail_msg("1.2 MiB: %d %s", a.status, a.body);
	http_answer_free(&a);
	/* 3 MiB: over the body's cap */
	write_bytes(path, data, 3u << 20, 0644);
	http_curl(&a, "-H", token, "--form-string", "task={\"argv\":[\"/bin/true\"]}", "-F", f, url, NULL);
	if (a.status != 413 || !strstr(a.body, "too_large"))
		fail_msg("3 MiB: %d %s", a.status, a.body);
	http_answer_free(&a);
	assert_int_equal(task_count(), 0);
	/* two of 900 KiB fit max_input each, the second is over max_stored */
	write_bytes(path, data, 900u << 10, 0644);
	http_curl(&a, "-H", token, "--form-string",
		  "task={\"argv\":[\"/bin/sh\",\"-c\",\"sleep 5\"],\"timeout_ms\":20000}", "-F", f, url,
		  NULL);
	assert_int_equal(a.status, 201);
	http_answer_free(&a);
	http_curl(&a, "-H", token, "--form-string", "task={\"argv\":[\"/bin/true\"]}", "-F", f, url, NULL);
	if (a.status != 429 || !strstr(a.body, "storage_quota"))
		fail_msg("over max_stored: %d %s", a.status, a.body);
	http_answer_free(&a);
	assert_int_equal(task_count(), 1);
}

/* corrald's anonymous memory (kB), from /proc/PID/status. */
static long rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* 48 MiB in a tar body and out again in artifacts.tar: both timed, the
 * download read slowly while corrald's anonymous memory is sampled (it
 * streams chunk by chunk: it grows by far less than the file). */
static void test_large_tar_upload_and_streamed_artifacts_tar(void **state)
{
	const size_t len = 48u << 20;
	_cleanup_free_ unsigned char *data = binary(len);
	char path[300], body[320], u[256], out[300], rate[32];
	struct http_answer a;
	long base, peak = 0;
	double t0, up_s, down_s;
	int64_t id;
	pid_t pid;
	int st;

	(void)state;
	start("max_input = 64M\nmax_artifact = 64M\nprofile = big\n[profile big]\nwork_size = 256M\n");
	snprintf(path, sizeof(path), "%s/src", scratch);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/src/big.bin", scratch);
	write_bytes(path, data, len, 0644);
	sh("tar -cf %s/in.tar -C %s/src big.bin", scratch, scratch);
	snprintf(body, sizeof(body), "@%s/in.tar", scratch);
	t0 = test_mono_s();
	http_curl(&a, "-H", token, "-H", "Content-Type: application/x-tar", "-H",
		  "X-Corral-Task: {\"command\":\"mkdir o && cp big.bin o/\",\"artifacts\":[\"o/*\"]}",
		  "--data-binary", body, url, NULL);
	up_s = test_mono_s() - t0;
	id = created_and_succeeded(&a, "48 MiB tar");
	snprintf(u, sizeof(u), "%s/%lld/artifacts.tar", url, (long long)id);
	snprintf(out, sizeof(out), "%s/out.tar", scratch);
	snprintf(rate, sizeof(rate), "%u", 24u << 20);
	base = rss_anon_kb(daemon_.pid);
	t0 = test_mono_s();
	pid = fork();
	if (pid == 0) {
		execlp("curl", "curl", "-sS", "--fail", "--limit-rate", rate, "-H", token, "-o", out, u,
		       (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		long kb = rss_anon_kb(daemon_.pid);

		peak = kb > peak ? kb : peak;
		test_sleep_ms(20);
	}
	down_s = test_mono_s() - t0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	sh("mkdir %s/x && tar -xf %s -C %s/x && cmp %s/src/big.bin %s/x/o/big.bin", scratch, out, scratch,
	   scratch, scratch);
	fprintf(stderr,
		"# 48 MiB: tar upload answered in %.2f s; artifacts.tar read (at most 24 MiB/s) in %.2f s, "
		"corrald RssAnon %ld kB before, %ld kB at most while streaming\n",
		up_s, down_s, base, peak);
	assert_true(peak - base < 16 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) \
	cmocka_unit_test_prestate_setup_teardown(t, corrald_files_setup, corrald_files_teardown, &fixture)
		T(test_multipart_round_trip_with_binary_and_subdirectory),
		T(test_tar_round_trip_and_artifacts_tar_extracted),
		T(test_artifacts_tar_marks_truncated_and_keeps_visibility),
		T(test_hostile_tar_bodies_are_refused_without_a_task),
		T(test_hostile_multipart_bodies_are_refused_without_a_task),
		T(test_over_cap_uploads_are_refused_without_a_task),
		T(test_large_tar_upload_and_streamed_artifacts_tar),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
