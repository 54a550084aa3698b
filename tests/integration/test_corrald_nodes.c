/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_nodes.c — a real corrald (root) as a node
 * of its store: `nodes` shows it online with the capacity it declared
 * (slots, GPUs, labels) and counts what it ran; an operator drains it
 * (queued tasks wait with reason node_draining, a restart keeps it
 * drained), undrains it (they run); a clean stop leaves it offline at
 * once; another corrald taking over its node name stops it; GPUs not
 * declared come from nvidia-smi (a fake one on PATH here); on SQLite and
 * on PostgreSQL (tests/lib/pg.h: skips loudly without PostgreSQL, fails
 * under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/common/macros.h"
#include "supervisor/store/store.h"
#include "supervisor/store/store_node.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

/* Its own host uids, so other integration tests running at the same time
 * never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                                 \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200864-4200895\n"   \
	"max_running = 3\nnode_name = it-node-a\nheartbeat_interval = 200ms\nnode_offline_after = 2s\n" \
	"gpus = 2\ngpu_memory = 16G\nlabels = gpu, ssd\n"
#define POLICY "[access]\noperators = root\n[plan p]\nmax_concurrent = 3\n[default]\nplan = p\n"

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

/* postgres: the URI of a fresh database in uri, else "" (SQLite). */
static void start(bool postgres, char *uri, size_t size)
{
	char keys[1024], why[512], db[32];
	int rc;

	uri[0] = '\0';
	if (postgres) {
		struct pg_server *pg = pg_shared_server(why, sizeof(why));

		if (!pg)
			test_skip_loudly("no PostgreSQL for the store: %s", why);
		if (pg_server_create_db(pg, db, sizeof(db), uri, size, why, sizeof(why)) < 0)
			fail_msg("create database: %s", why);
	}
	snprintf(keys, sizeof(keys), SUPERVISOR_KEYS "%s%s%s", uri[0] ? "store = " : "", uri,
		 uri[0] ? "\n" : "");
	rc = corrald_start(&daemon_, keys, POLICY, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
}

/* The node named name from `nodes` (a new reference; the response is freed). */
static json_t *node_of(const char *name)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"nodes\"}"), *n, *found = NULL;
	size_t i;

	assert_non_null(r);
	if (!json_is_true(json_object_get(r, "ok")))
		fail_msg("nodes: %s", corrald_error_message(r));
	json_array_foreach (json_object_get(r, "nodes"), i, n)
		if (strcmp(task_str(n, "name"), name) == 0)
			found = json_incref(n);
	json_decref(r);
	if (!found)
		fail_msg("no node %s in the answer of nodes", name);
	return found;
}

static long long sub(json_t *n, const char *obj, const char *key)
{
	return task_int(json_object_get(n, obj), key);
}

static void check_nodes_and_statistics(bool postgres)
{
	char uri[192];
	int64_t ok, bad;
	json_t *n, *t;
	uint64_t until;

	start(postgres, uri, sizeof(uri));
	n = node_of("it-node-a");
	assert_string_equal(task_str(n, "state"), "online");
	assert_true(json_is_true(json_object_get(n, "self")));
	assert_true(task_int(n, "heartbeat_age_ms") < 2000);
	assert_int_equal(task_int(n, "offline_after_ms"), 2000);
	assert_int_equal(sub(n, "capacity", "slots"), 3);
	assert_int_equal(sub(n, "capacity", "gpus"), 2);
	assert_int_equal(sub(n, "capacity", "gpu_memory_bytes"), 16LL << 30);
	assert_true(sub(n, "capacity", "cores") >= 1);
	assert_true(sub(n, "capacity", "memory_bytes") > 0);
	assert_int_equal(json_array_size(json_object_get(n, "labels")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(n, "labels"), 0)), "gpu");
	json_decref(n);

	ok = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	bad = corrald_submit(&daemon_, "\"argv\":[\"/bin/sh\",\"-c\",\"exit 3\"]");
	t = corrald_must_wait(&daemon_, ok, 20000);
	json_decref(t);
	t = corrald_must_wait(&daemon_, bad, 20000);
	json_decref(t);
	/* counted in the same transactions as the ends */
	n = node_of("it-node-a");
	assert_int_equal(sub(n, "stats", "started"), 2);
	assert_int_equal(sub(n, "stats", "succeeded"), 1);
	assert_int_equal(sub(n, "stats", "failed"), 1);
	json_decref(n);

	/* a long task: the next heartbeats say a slot is taken */
	ok = corrald_submit(&daemon_, "\"argv\":[\"sleep\",\"30\"]");
	json_decref(corrald_wait_state(&daemon_, ok, "running", 20000));
	until = test_mono_ms() + 5000;
	for (;;) {
		n = node_of("it-node-a");
		if (task_int(n, "running") == 1 && sub(n, "free", "slots") == 2)
			break;
		json_decref(n);
		if (test_mono_ms() > until)
			fail_msg("the heartbeat never said one task runs");
		test_sleep_ms(100);
	}
	json_decref(n);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)ok));
	json_decref(corrald_must_wait(&daemon_, ok, 20000));
}

static void test_nodes_on_sqlite(void **state)
{
	(void)state;
	require_root();
	check_nodes_and_statistics(false);
}

static void test_nodes_on_postgresql(void **state)
{
	(void)state;
	require_root();
	check_nodes_and_statistics(true);
}

static void test_drain_holds_queued_tasks_across_a_restart(void **state)
{
	const char *as_nobody[] = { "{\"op\":\"node_drain\",\"node\":\"it-node-a\"}", "{\"op\":\"nodes\"}" };
	char uri[192];
	json_t *r, *n, *t, *out[2] = { NULL, NULL };
	int64_t id;

	(void)state;
	require_root();
	start(false, uri, sizeof(uri));
	/* only operators drain */
	assert_int_equal(corrald_calls_as(&daemon_, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, as_nobody,
					  2, out),
			 0);
	assert_non_null(out[0]);
	assert_string_equal(corrald_error_code(out[0]), "forbidden");
	/* any user sees the nodes, but not their statistics (they add up
	 * other tenants' work) */
	assert_non_null(out[1]);
	n = json_array_get(json_object_get(out[1], "nodes"), 0);
	assert_string_equal(task_str(n, "name"), "it-node-a");
	assert_null(json_object_get(n, "stats"));
	json_decref(out[0]);
	json_decref(out[1]);
	r = corrald_call(&daemon_, "{\"op\":\"node_drain\",\"node\":\"no-such-node\"}");
	assert_string_equal(corrald_error_code(r), "not_found");
	json_decref(r);
	r = corrald_call(&daemon_, "{\"op\":\"node_drain\",\"node\":\"bad name!\"}");
	assert_string_equal(corrald_error_code(r), "bad_request");
	json_decref(r);

	r = corrald_call(&daemon_, "{\"op\":\"node_drain\",\"node\":\"it-node-a\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(task_str(json_object_get(r, "node"), "state"), "draining");
	json_decref(r);
	id = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"]");
	test_sleep_ms(500);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "node_draining");
	json_decref(t);
	/* submit --no-queue is refused at once */
	r = corrald_call(&daemon_, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"no_queue\":true}");
	assert_string_equal(corrald_error_code(r), "host_capacity");
	assert_non_null(strstr(corrald_error_message(r), "drained"));
	json_decref(r);

	/* a restart keeps it drained */
	assert_int_equal(corrald_restart(&daemon_, 0), 0);
	test_sleep_ms(500);
	t = corrald_status(&daemon_, id);
	assert_string_equal(task_str(t, "state"), "queued");
	json_decref(t);
	n = node_of("it-node-a");
	assert_string_equal(task_str(n, "state"), "draining");
	json_decref(n);

	r = corrald_call(&daemon_, "{\"op\":\"node_undrain\",\"node\":\"it-node-a\"}");
	assert_string_equal(task_str(json_object_get(r, "node"), "state"), "online");
	json_decref(r);
	t = corrald_must_wait(&daemon_, id, 20000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

static void test_clean_stop_leaves_the_node_offline(void **state)
{
	struct store_node_list list;
	struct store *store = NULL;
	struct error err;
	char uri[192], path[256];

	(void)state;
	require_root();
	start(false, uri, sizeof(uri));
	assert_int_equal(corrald_stop(&daemon_), 0);
	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	if (store_open(path, NULL, &store, &err) < 0)
		fail_msg("open %s: %s", path, err.message);
	assert_int_equal(store_node_list(store, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.items[0].name, "it-node-a");
	assert_int_equal(list.items[0].state, STORE_NODE_OFFLINE);
	assert_true(list.items[0].left);
	store_node_list_free(&list);
	store_close(store);
}

/* Another corrald joins with this node name (here: the test, through the
 * store): the first one's next heartbeat fails and it stops by itself. */
static void test_a_node_taken_over_stops(void **state)
{
	struct store_node other = {
		.name = "it-node-a",
		.incarnation = "the-other-one",
		.version = "test",
		.offline_after_us = 90000000,
		.slots = 1,
	};
	struct store *store = NULL;
	struct error err;
	char uri[192];
	int rc;

	(void)state;
	require_root();
	start(true, uri, sizeof(uri));
	if (store_open(uri, NULL, &store, &err) < 0)
		fail_msg("open the database: %s", err.message);
	assert_int_equal(store_node_join(store, &other, NULL, &err), 0);
	rc = corrald_wait_exit(&daemon_, 10000);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(corrald_log_tail(&daemon_), "another corrald took over node it-node-a"));
	store_close(store);
}

/* GPUs not declared are nvidia-smi's (a fake one first on corrald's PATH):
 * its count and its smallest GPU's memory; a declaration wins; an
 * nvidia-smi that hangs costs at most 5 s of start and offers no GPU. */
#define NO_GPU_KEYS                                                                                   \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200864-4200895\n" \
	"max_running = 3\nnode_name = it-node-a\nheartbeat_interval = 200ms\n"

static void write_fake_nvidia_smi(const char *dir, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nvidia-smi", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

static void restart_with(const char *keys)
{
	int rc;

	if (daemon_.pid)
		assert_int_equal(corrald_stop(&daemon_), 0);
	assert_int_equal(corrald_write_policy(&daemon_, keys, POLICY), 0);
	rc = corrald_restart(&daemon_, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
}

static void test_gpus_from_nvidia_smi_unless_declared(void **state)
{
	char dir[] = "/tmp/corral-it-smi-XXXXXX", path[4096];
	const char *old = getenv("PATH");
	_cleanup_free_ char *saved = strdup(old ? old : "/usr/bin:/bin");
	struct timespec t0, t1;
	json_t *n;
	int rc;

	(void)state;
	require_root();
	assert_non_null(mkdtemp(dir));
	/* what nvidia-smi prints for --query-gpu=memory.total
	 * --format=csv,noheader,nounits on a host with two GPUs */
	write_fake_nvidia_smi(dir,
			      "[ \"$1 $2\" = '--query-gpu=memory.total --format=csv,noheader,nounits' ] "
			      "|| exit 9\necho 24576\necho 12288");
	snprintf(path, sizeof(path), "%s:%s", dir, saved);
	setenv("PATH", path, 1);
	rc = corrald_start(&daemon_, NO_GPU_KEYS, POLICY, 0);
	if (rc < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-rc), corrald_log_tail(&daemon_));
	n = node_of("it-node-a");
	assert_int_equal(sub(n, "capacity", "gpus"), 2);
	assert_int_equal(sub(n, "capacity", "gpu_memory_bytes"), 12288LL << 20);
	json_decref(n);

	restart_with(NO_GPU_KEYS "gpus = 1\n"); /* declared: 1, its memory still nvidia-smi's */
	n = node_of("it-node-a");
	assert_int_equal(sub(n, "capacity", "gpus"), 1);
	assert_int_equal(sub(n, "capacity", "gpu_memory_bytes"), 12288LL << 20);
	json_decref(n);

	write_fake_nvidia_smi(dir,
			      "echo 'NVIDIA-SMI has failed because it could not communicate with the "
			      "NVIDIA driver.'\nexit 9");
	restart_with(NO_GPU_KEYS);
	n = node_of("it-node-a");
	assert_int_equal(sub(n, "capacity", "gpus"), 0);
	json_decref(n);
	assert_non_null(strstr(corrald_log_tail(&daemon_), "nvidia-smi failed"));

	write_fake_nvidia_smi(dir, "exec sleep 60");
	assert_int_equal(corrald_stop(&daemon_), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	restart_with(NO_GPU_KEYS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 15);
	n = node_of("it-node-a");
	assert_int_equal(sub(n, "capacity", "gpus"), 0);
	json_decref(n);
	assert_non_null(strstr(corrald_log_tail(&daemon_), "nvidia-smi did not answer within 5 s"));

	setenv("PATH", saved, 1);
	snprintf(path, sizeof(path), "%s/nvidia-smi", dir);
	unlink(path);
	rmdir(dir);
}

static void test_corral_nodes_prints_a_table(void **state)
{
	char cmd[512], out[4096], uri[192];
	FILE *p;
	size_t n;

	(void)state;
	require_root();
	start(false, uri, sizeof(uri));
	snprintf(cmd, sizeof(cmd), "%s --socket %s nodes 2>&1 && %s --socket %s node drain it-node-a 2>&1",
		 test_build_path("corral"), daemon_.socket, test_build_path("corral"), daemon_.socket);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	fprintf(stderr, "%s", out);
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "NODE"));
	assert_non_null(strstr(out, "it-node-a *"));
	assert_non_null(strstr(out, "online"));
	assert_non_null(strstr(out, "3/3 free"));
	assert_non_null(strstr(out, "gpu,ssd"));
	assert_non_null(strstr(out, "draining"));
}

/* What a task needs of a node: one no node could ever run waits as
 * no_node_fits (and does not hold its tenant's other tasks); GPUs are
 * counted: a task needing GPUs that are taken waits for them. */
static void test_placement_needs_and_no_node_fits(void **state)
{
	char uri[192];
	int64_t too_many, wrong_label, too_small, after, holder, waiter;
	json_t *t, *r, *n;
	uint64_t until;

	(void)state;
	require_root();
	start(false, uri, sizeof(uri));
	too_many = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"gpus\":3");
	wrong_label = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"labels\":[\"ssd\",\"fpga\"]");
	too_small = corrald_submit(&daemon_,
				   "\"argv\":[\"/bin/true\"],\"gpus\":1,"
				   "\"gpu_memory_bytes\":34359738368");
	after = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"labels\":[\"gpu\"]");
	t = corrald_must_wait(&daemon_, after, 20000); /* not held behind them */
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_string_equal(json_string_value(json_array_get(json_object_get(t, "labels"), 0)), "gpu");
	json_decref(t);
	t = corrald_status(&daemon_, too_many);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "no_node_fits");
	assert_non_null(strstr(task_str(t, "pending_message"), "needs 3 GPUs; node it-node-a has 2"));
	assert_int_equal(task_int(t, "gpus"), 3);
	json_decref(t);
	t = corrald_status(&daemon_, wrong_label);
	assert_string_equal(task_str(t, "pending_reason"), "no_node_fits");
	assert_non_null(strstr(task_str(t, "pending_message"), "needs label fpga"));
	json_decref(t);
	t = corrald_status(&daemon_, too_small);
	assert_string_equal(task_str(t, "pending_reason"), "no_node_fits");
	json_decref(t);
	r = corrald_call(&daemon_,
			 "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"gpus\":3,\"no_queue\":true}");
	assert_string_equal(corrald_error_code(r), "host_capacity");
	assert_non_null(strstr(corrald_error_message(r), "no node could ever run"));
	json_decref(r);

	/* two GPUs held: a task needing one waits for them */
	holder = corrald_submit(&daemon_, "\"argv\":[\"sleep\",\"30\"],\"gpus\":2");
	json_decref(corrald_wait_state(&daemon_, holder, "running", 20000));
	waiter = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"gpus\":1");
	test_sleep_ms(300);
	t = corrald_status(&daemon_, waiter);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "host_capacity");
	assert_non_null(strstr(task_str(t, "pending_message"), "waiting for GPUs"));
	json_decref(t);
	until = test_mono_ms() + 5000;
	for (;;) { /* the next heartbeats say so */
		n = node_of("it-node-a");
		if (sub(n, "free", "gpus") == 0)
			break;
		json_decref(n);
		if (test_mono_ms() > until)
			fail_msg("the heartbeat never said the GPUs are taken");
		test_sleep_ms(100);
	}
	json_decref(n);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)holder));
	t = corrald_must_wait(&daemon_, waiter, 20000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_nodes_on_sqlite, teardown),
		cmocka_unit_test_teardown(test_nodes_on_postgresql, teardown),
		cmocka_unit_test_teardown(test_drain_holds_queued_tasks_across_a_restart, teardown),
		cmocka_unit_test_teardown(test_clean_stop_leaves_the_node_offline, teardown),
		cmocka_unit_test_teardown(test_a_node_taken_over_stops, teardown),
		cmocka_unit_test_teardown(test_corral_nodes_prints_a_table, teardown),
		cmocka_unit_test_teardown(test_gpus_from_nvidia_smi_unless_declared, teardown),
		cmocka_unit_test_teardown(test_placement_needs_and_no_node_fits, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
