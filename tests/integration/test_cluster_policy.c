/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_cluster_policy.c — the cluster's policy (`corral
 * policy push`), with two real corralds (root) on one real PostgreSQL
 * (tests/lib/pg.h): the first node pushes its file's cluster-wide sections,
 * the second runs them instead of its own; a push through node A that lowers
 * a plan's max_concurrent is applied by node B within seconds and holds at
 * every moment; a generation node B cannot load over its own file (a plan's
 * memory above its memory_reserve) leaves B on the one it runs, with the
 * errors shown through both nodes, until a push it can load; policy_reload
 * keeps the cluster's plans; a push with a bad line, or a [supervisor] section, is refused
 * with its file:line and changes nothing; a push by a non-operator is
 * refused; `nodes` shows each node's generation and the one that did not
 * load there; GET and PUT /v1/policy over real HTTP (operators only, the
 * same checks); on one host (SQLite) a push answers not_clustered.  No
 * PostgreSQL: the cluster tests skip loudly (fail under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/http.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

#define NODES 2
#define KEYS                                                                                         \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nheartbeat_interval = 300ms\n" \
	"node_offline_after = 2s\nleader_lease = 2s\ncluster_poll = 100ms\nadopt_grace = 1s\n"       \
	"lease = 3s\nmax_running = 2\n"
/* node A's cluster-wide sections become generation 1; node B's own differ */
#define POLICY_A "[access]\noperators = root\n[plan p]\nmax_concurrent = 3\n[default]\nplan = p\n"
#define POLICY_B "[access]\noperators = root\n[plan local]\nmax_concurrent = 9\n[default]\nplan = local\n"

static struct corrald nodes[NODES];
static char uri[192], pushed_dir[64];
static const char *node_b_keys = ""; /* more [supervisor] keys of node B */

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++)
		corrald_cleanup(&nodes[i]);
	node_b_keys = "";
	if (pushed_dir[0])
		test_remove_tree(pushed_dir);
	pushed_dir[0] = '\0';
	return 0;
}

static void start_node(int i, const char *body)
{
	char keys[1024];
	int rc;

	snprintf(keys, sizeof(keys), KEYS "store = %s\nnode_name = it-p%d\nuid_range = %u-%u\n%s", uri, i + 1,
		 4205000u + 64u * (unsigned)i, 4205000u + 64u * (unsigned)i + 63u, i == 1 ? node_b_keys : "");
	rc = corrald_prepare(&nodes[i], keys, body);
	if (rc < 0)
		fail_msg("prepare node %d: %s", i, strerror(-rc));
	snprintf(nodes[i].cgroup_parent, sizeof(nodes[i].cgroup_parent), "corral-it-%d-p%d", (int)getpid(),
		 i);
	corrald_write_policy(&nodes[i], keys, body);
	rc = corrald_spawn(&nodes[i], 0);
	if (rc < 0)
		fail_msg("node %d did not start: %s\n%s", i, strerror(-rc), corrald_log_tail(&nodes[i]));
}

/* A fresh database; node A (its file first), then node B. */
static void start_cluster(void)
{
	require_root();
	pg_shared_db("the cluster", uri, sizeof(uri));
	start_node(0, POLICY_A);
	start_node(1, POLICY_B);
}

/* policy_current through node i: {"generation", "applied", ...}. */
static json_t *current(int i)
{
	json_t *r = corrald_call(&nodes[i], "{\"op\":\"policy_current\"}");

	if (!r || corrald_error_code(r))
		fail_msg("policy_current on node %d: %s", i, r ? corrald_error_message(r) : "no answer");
	return r;
}

static long long current_int(int i, const char *key)
{
	json_t *r = current(i);
	long long v = (long long)json_integer_value(json_object_get(r, key));

	json_decref(r);
	return v;
}

/* `corral --socket S policy push FILE` with FILE holding text: its exit
 * status, stdout into out, stderr into err. */
static int corral_push(int node, const char *text, char *path, size_t path_size, char *out, size_t out_size,
		       char *err, size_t err_size)
{
	char *argv[] = { (char *)test_build_path("corral"),
			 "--socket",
			 nodes[node].socket,
			 "policy",
			 "push",
			 path,
			 NULL };
	FILE *f;

	if (!pushed_dir[0]) {
		snprintf(pushed_dir, sizeof(pushed_dir), "/tmp/corral-push-XXXXXX");
		assert_non_null(mkdtemp(pushed_dir));
	}
	snprintf(path, path_size, "%s/cluster.conf", pushed_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return test_run_capture(argv, out, out_size, err, err_size, NULL, 0);
}

static void test_first_node_pushes_its_file_and_the_second_runs_it(void **state)
{
	json_t *r;

	(void)state;
	start_cluster();
	r = current(1);
	assert_true(json_is_true(json_object_get(r, "clustered")));
	assert_int_equal(json_integer_value(json_object_get(r, "generation")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "pushed_by")), "it-p1"));
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "[plan p]"));
	assert_null(strstr(json_string_value(json_object_get(r, "text")), "[supervisor]"));
	json_decref(r);
	/* `corral policy current`: the text and every node's generation */
	{
		char *argv[] = { (char *)test_build_path("corral"),
				 "--socket",
				 nodes[0].socket,
				 "policy",
				 "current",
				 NULL };
		char out[8192], err[4096];

		assert_int_equal(test_run_capture(argv, out, sizeof(out), err, sizeof(err), NULL, 0), 0);
		if (!strstr(out, "# policy generation 1,") || !strstr(out, "node it-p1 runs generation 1") ||
		    !strstr(out, "node it-p2 runs generation 1") || !strstr(out, "[plan p]"))
			fail_msg("corral policy current:\n%s%s", out, err);
	}
	/* node B runs A's plans: its own [plan local] is not there */
	r = corrald_call(&nodes[1], "{\"op\":\"tenant_set\",\"user\":\"t1\",\"plan\":\"local\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	json_decref(r);
}

/* SIGHUP / policy_reload on a node of a cluster: its file's [supervisor]
 * again, the cluster's plans still (its file's own plans stay ignored). */
static void test_reload_keeps_the_cluster_policy(void **state)
{
	char keys[1024];
	json_t *r;

	(void)state;
	start_cluster();
	snprintf(keys, sizeof(keys), KEYS "store = %s\nnode_name = it-p2\nuid_range = %u-%u\n", uri, 4205064u,
		 4205127u);
	assert_int_equal(corrald_write_policy(&nodes[1], keys, "[plan other]\nmax_concurrent = 2\n"), 0);
	r = corrald_call(&nodes[1], "{\"op\":\"policy_reload\"}");
	assert_null(corrald_error_code(r));
	json_decref(r);
	assert_int_equal(current_int(1, "applied"), 1);
	r = corrald_call(&nodes[1], "{\"op\":\"tenant_set\",\"user\":\"t1\",\"plan\":\"other\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	json_decref(r);
	r = corrald_call(&nodes[1], "{\"op\":\"tenant_set\",\"user\":\"t1\",\"plan\":\"p\"}");
	assert_null(corrald_error_code(r));
	json_decref(r);
}

/* Tasks running cluster-wide, as node i lists them. */
static int count_running(int i)
{
	json_t *r = corrald_call(&nodes[i], "{\"op\":\"list\",\"state\":\"running\",\"limit\":100}");
	int n = r ? (int)json_array_size(json_object_get(r, "tasks")) : -1;

	json_decref(r);
	return n;
}

static void test_push_on_one_node_is_enforced_by_the_other(void **state)
{
	char path[128], out[4096], err[4096];
	int64_t ids[3];
	uint64_t pushed, applied = 0;
	int most = 0, done = 0;

	(void)state;
	start_cluster();
	/* plan p: 3 at once -> 1 at once, pushed through node A */
	assert_int_equal(
		corral_push(0,
			    "[access]\noperators = root\n[plan p]\nmax_concurrent = 1\n[default]\nplan = p\n",
			    path, sizeof(path), out, sizeof(out), err, sizeof(err)),
		0);
	pushed = test_mono_ms();
	assert_non_null(strstr(out, "policy generation 2 pushed"));
	assert_int_equal(current_int(0, "applied"), 2);
	for (uint64_t end = pushed + 5000; test_mono_ms() < end; test_sleep_ms(20))
		if (current_int(1, "applied") == 2) {
			applied = test_mono_ms();
			break;
		}
	if (!applied)
		fail_msg("node B did not apply generation 2 within 5 s\n%s", corrald_log_tail(&nodes[1]));
	print_message("node B applied the push %llu ms after it was stored\n",
		      (unsigned long long)(applied - pushed));
	/* node A sees which generation node B runs */
	{
		json_t *r = current(0), *list = json_object_get(r, "nodes");

		assert_int_equal(json_array_size(list), 2);
		assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "node")),
				    "it-p2");
		assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "applied")), 2);
		json_decref(r);
	}
	/* three tasks through node B, four slots in the cluster: one at a time */
	for (int i = 0; i < 3; i++) {
		ids[i] = corrald_submit(&nodes[1], "\"argv\":[\"sleep\",\"0.4\"]");
		assert_true(ids[i] > 0);
	}
	for (uint64_t end = test_mono_ms() + 20000; test_mono_ms() < end && done < 3; test_sleep_ms(30)) {
		int running = count_running(1);

		assert_true(running >= 0 && running <= 1);
		if (running > most)
			most = running;
		done = 0;
		for (int i = 0; i < 3; i++) {
			json_t *t = corrald_status(&nodes[0], ids[i]);

			done += t && strcmp(task_str(t, "state"), "succeeded") == 0;
			json_decref(t);
		}
	}
	assert_int_equal(done, 3);
	assert_int_equal(most, 1);
}

/* `nodes` through node i: node's policy {applied, latest, failed, error}. */
static void expect_nodes_policy(int i, const char *node, long long applied, long long failed, bool error)
{
	json_t *r = corrald_call(&nodes[i], "{\"op\":\"nodes\"}"), *n, *p = NULL;
	size_t k;

	assert_non_null(r);
	json_array_foreach (json_object_get(r, "nodes"), k, n)
		if (strcmp(json_string_value(json_object_get(n, "name")), node) == 0)
			p = json_object_get(n, "policy");
	if (!json_is_object(p))
		fail_msg("nodes through node %d: no policy of %s", i, node);
	assert_int_equal(json_integer_value(json_object_get(p, "applied")), applied);
	assert_int_equal(json_integer_value(json_object_get(p, "latest")), 2);
	assert_int_equal(json_integer_value(json_object_get(p, "failed")), failed);
	if (error)
		assert_non_null(strstr(json_string_value(json_object_get(p, "error")), "memory_reserve"));
	else
		assert_true(json_is_null(json_object_get(p, "error")));
	json_decref(r);
}

/* `corral --socket S nodes` through node i: its stdout. */
static void corral_nodes(int i, char *out, size_t size)
{
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s --socket %s nodes", test_build_path("corral"), nodes[i].socket);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

/* A generation that loads over node A's file but not over node B's (a plan's
 * memory above B's memory_reserve): B says why and keeps what it runs. */
static void test_a_node_that_cannot_load_a_generation_keeps_its_policy(void **state)
{
	json_t *r, *b;

	(void)state;
	node_b_keys = "memory_reserve = 256M\n";
	start_cluster();
	r = corrald_call(&nodes[0],
			 "{\"op\":\"policy_push\",\"text\":\"[access]\\noperators = root\\n"
			 "[plan p]\\nmemory = 1G\\n[default]\\nplan = p\\n\"}");
	assert_null(corrald_error_code(r));
	assert_int_equal(json_integer_value(json_object_get(r, "generation")), 2);
	json_decref(r);
	for (uint64_t end = test_mono_ms() + 5000; test_mono_ms() < end && current_int(1, "failed") != 2;)
		test_sleep_ms(20);
	r = current(1);
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "failed")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "memory_reserve"));
	json_decref(r);
	/* node A shows it too */
	r = current(0);
	b = json_array_get(json_object_get(r, "nodes"), 1);
	assert_int_equal(json_integer_value(json_object_get(b, "applied")), 1);
	assert_int_equal(json_integer_value(json_object_get(b, "failed")), 2);
	json_decref(r);
	/* and `nodes` (corral nodes) through node A: each node's generation */
	expect_nodes_policy(0, "it-p1", 2, 0, false);
	expect_nodes_policy(0, "it-p2", 1, 2, true);
	{
		char out[8192];

		corral_nodes(0, out, sizeof(out));
		if (!strstr(out, "POLICY") || !strstr(out, "1 (latest 2), 2 failed"))
			fail_msg("corral nodes does not show node B's policy:\n%s", out);
	}
	/* B still runs generation 1: a task runs there under plan p */
	{
		int64_t id = corrald_submit(&nodes[1], "\"argv\":[\"true\"]");
		json_t *t;

		assert_true(id > 0);
		t = corrald_must_wait(&nodes[1], id, 20000);
		assert_string_equal(task_str(t, "state"), "succeeded");
		json_decref(t);
	}
	/* a push both can load: B runs it */
	r = corrald_call(&nodes[0],
			 "{\"op\":\"policy_push\",\"text\":\"[access]\\noperators = root\\n"
			 "[plan p]\\nmemory = 128M\\n[default]\\nplan = p\\n\"}");
	assert_null(corrald_error_code(r));
	json_decref(r);
	for (uint64_t end = test_mono_ms() + 5000; test_mono_ms() < end && current_int(1, "applied") != 3;)
		test_sleep_ms(20);
	r = current(1);
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "failed")), 0);
	assert_true(json_is_null(json_object_get(r, "error")));
	json_decref(r);
}

static void test_push_with_a_bad_line_is_refused_and_changes_nothing(void **state)
{
	char path[128], out[4096], err[4096], where[160];
	json_t *r;

	(void)state;
	start_cluster();
	/* the client checks the file: its file:line */
	assert_int_equal(corral_push(0, "[plan p]\nmax_concurrent = 1\nmax_concurent = 2\n", path,
				     sizeof(path), out, sizeof(out), err, sizeof(err)),
			 1);
	snprintf(where, sizeof(where), "%s:3:", path);
	if (!strstr(err, where) || !strstr(err, "max_concurent"))
		fail_msg("no error at %s in:\n%s", where, err);
	/* a node's per-host sections alone would leave the cluster without plans */
	assert_int_equal(corral_push(0, "[supervisor]\nmax_running = 2\n", path, sizeof(path), out,
				     sizeof(out), err, sizeof(err)),
			 1);
	assert_non_null(strstr(err, "nothing sent"));
	/* corrald checks it again (a client that did not): file:line too */
	r = corrald_call(&nodes[1],
			 "{\"op\":\"policy_push\",\"file\":\"bad.conf\",\"text\":\"[plan p]\\n"
			 "max_concurrent = 1\\nmax_concurent = 2\\n\"}");
	assert_string_equal(corrald_error_code(r), "policy_invalid");
	assert_non_null(strstr(corrald_error_message(r), "bad.conf:3:"));
	json_decref(r);
	/* a per-host section in pushed text */
	r = corrald_call(&nodes[0],
			 "{\"op\":\"policy_push\",\"file\":\"host.conf\",\"text\":\"[plan p]\\n"
			 "max_concurrent = 1\\n[supervisor]\\nmax_running = 64\\n\"}");
	assert_string_equal(corrald_error_code(r), "policy_invalid");
	assert_non_null(strstr(corrald_error_message(r), "host.conf:3:"));
	assert_non_null(strstr(corrald_error_message(r), "per host"));
	json_decref(r);
	assert_int_equal(current_int(0, "generation"), 1);
	assert_int_equal(current_int(0, "applied"), 1);
	assert_int_equal(current_int(1, "applied"), 1);
}

static void test_push_by_a_non_operator_is_refused(void **state)
{
	const char *lines[] = { "{\"op\":\"policy_push\",\"text\":\"[plan p]\\nmax_concurrent = 100\\n\"}" };
	json_t *r = NULL;

	(void)state;
	start_cluster();
	assert_int_equal(corrald_calls_as(&nodes[1], CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 1,
					  &r),
			 0);
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r), "forbidden");
	json_decref(r);
	assert_int_equal(current_int(1, "generation"), 1);
}

/* An HTTP token's "Authorization: Bearer ..." header for tenant. */
static void make_token(const char *tenant, bool op, char *out, size_t size)
{
	if (!corrald_token_header(&nodes[0], tenant, op, out, size))
		fail_msg("no token for %s", tenant);
}

/* PUT url with body (the policy's text) as token: the answer. */
static void http_put(struct http_answer *a, const char *token, const char *url, const char *body)
{
	http_curl(a, "-X", "PUT", "-H", token, "-H", "Content-Type: text/plain", "--data-binary", body, url,
		  NULL);
}

static const char *http_error_code(const struct http_answer *a)
{
	return json_string_value(json_object_get(json_object_get(a->json, "error"), "code"));
}

/* GET and PUT /v1/policy on node A (its own [http] listener): operators
 * only, the text checked as the socket's push is (file:line), a good push
 * stored as the next generation and run by node B. */
static void test_policy_over_http(void **state)
{
	char body[512], url[128], op[192], alice[192];
	struct http_answer a;
	int port = http_free_port();

	(void)state;
	require_root();
	snprintf(body, sizeof(body), POLICY_A "[http]\nlisten = 127.0.0.1:%d\n", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/policy", port);
	pg_shared_db("the cluster", uri, sizeof(uri));
	start_node(0, body);
	start_node(1, POLICY_B);
	make_token("root", true, op, sizeof(op));
	make_token("alice", false, alice, sizeof(alice));

	http_curl(&a, "-H", op, url, NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(json_integer_value(json_object_get(a.json, "generation")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(a.json, "text")), "max_concurrent = 3"));
	assert_null(strstr(json_string_value(json_object_get(a.json, "text")), "[http]"));
	http_answer_free(&a);
	http_curl(&a, "-H", alice, url, NULL);
	assert_int_equal(a.status, 403);
	http_answer_free(&a);
	http_put(&a, alice, url,
		 "[access]\noperators = root\n[plan p]\nmax_concurrent = 9\n[default]\nplan = p\n");
	assert_int_equal(a.status, 403);
	http_answer_free(&a);

	/* a bad line: its file:line, nothing stored */
	{
		char bad[160];

		snprintf(bad, sizeof(bad), "%s?file=bad.conf", url);
		http_put(&a, op, bad, "[plan p]\nmax_concurrent = 1\nmax_concurent = 2\n");
	}
	assert_int_equal(a.status, 400);
	assert_string_equal(http_error_code(&a), "policy_invalid");
	assert_non_null(strstr(a.body, "bad.conf:3:"));
	http_answer_free(&a);
	assert_int_equal(current_int(0, "generation"), 1);

	http_put(&a, op, url,
		 "[access]\noperators = root\n[plan p]\nmax_concurrent = 1\n[default]\nplan = p\n");
	if (a.status != 200)
		fail_msg("PUT /v1/policy: %d %s", a.status, a.body ? a.body : "");
	assert_int_equal(json_integer_value(json_object_get(a.json, "generation")), 2);
	http_answer_free(&a);
	for (uint64_t end = test_mono_ms() + 5000; test_mono_ms() < end && current_int(1, "applied") != 2;)
		test_sleep_ms(20);
	assert_int_equal(current_int(1, "applied"), 2);
	http_curl(&a, "-H", op, url, NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(json_integer_value(json_object_get(a.json, "generation")), 2);
	assert_int_equal(json_integer_value(json_object_get(a.json, "applied")), 2);
	http_answer_free(&a);
}

static void test_one_host_refuses_a_push(void **state)
{
	char path[128], out[4096], err[4096];
	json_t *r;
	int rc;

	(void)state;
	require_root();
	rc = corrald_start(&nodes[0], "max_running = 1\n", POLICY_A, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s", strerror(-rc));
	r = corrald_call(&nodes[0], "{\"op\":\"policy_push\",\"text\":\"[plan p]\\nmax_concurrent = 1\\n\"}");
	assert_string_equal(corrald_error_code(r), "not_clustered");
	json_decref(r);
	assert_int_equal(corral_push(0, "[plan p]\nmax_concurrent = 1\n", path, sizeof(path), out,
				     sizeof(out), err, sizeof(err)),
			 1);
	assert_non_null(strstr(err, "not_clustered"));
	r = current(0);
	assert_false(json_is_true(json_object_get(r, "clustered")));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_first_node_pushes_its_file_and_the_second_runs_it, teardown),
		cmocka_unit_test_teardown(test_reload_keeps_the_cluster_policy, teardown),
		cmocka_unit_test_teardown(test_push_on_one_node_is_enforced_by_the_other, teardown),
		cmocka_unit_test_teardown(test_a_node_that_cannot_load_a_generation_keeps_its_policy,
					  teardown),
		cmocka_unit_test_teardown(test_push_with_a_bad_line_is_refused_and_changes_nothing, teardown),
		cmocka_unit_test_teardown(test_push_by_a_non_operator_is_refused, teardown),
		cmocka_unit_test_teardown(test_policy_over_http, teardown),
		cmocka_unit_test_teardown(test_one_host_refuses_a_push, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
