/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_nodes.c — a real corrald (root) as a node
 * of its store: `nodes` shows it online with the capacity it declared
 * (slots, GPUs, labels) and counts what it ran; an operator drains it
 * (queued tasks wait with reason node_draining, a restart keeps it
 * drained), undrains it (they run); a clean stop leaves it offline at
 * once; another corrald taking over its node name stops it; GPUs not
 * declared come from nvidia-smi (a fake one on PATH here); cores asked with
 * --cpus (cpu_millis) are held and enforced as the jail's CPU quota; on SQLite and
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
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

/* Its own host uids, so other integration tests running at the same time
 * never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                                 \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4200864-4200895\n"   \
	"max_running = 3\nnode_name = it-node-a\nheartbeat_interval = 200ms\nnode_offline_after = 2s\n" \
	"gpus = 2\ngpu_memory = 16G\nlabels = gpu, ssd\ncores = 2\n"
#define POLICY "[access]\noperators = root\n[plan p]\nmax_concurrent = 3\ncpus = 4\n[default]\nplan = p\n"

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

/* Task id once in state (within 20 s, else the test fails). */
static json_t *must_reach(int64_t id, const char *state)
{
	json_t *t = corrald_wait_state(&daemon_, id, state, 20000);

	if (!t)
		fail_msg("task %lld never was %s\n%s", (long long)id, state, corrald_log_tail(&daemon_));
	return t;
}

/* Task id is queued with this pending reason and a message holding text. */
static void expect_queued(int64_t id, const char *reason, const char *text)
{
	json_t *t = corrald_status(&daemon_, id);

	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), reason);
	if (!strstr(task_str(t, "pending_message"), text))
		fail_msg("task %lld: '%s' lacks '%s'", (long long)id, task_str(t, "pending_message"), text);
	json_decref(t);
}

/* A submit with these fields is refused with code and a message holding text. */
static void expect_refused(const char *fields, const char *code, const char *text)
{
	json_t *r = corrald_call(&daemon_, "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],%s}", fields);

	assert_string_equal(corrald_error_code(r), code);
	if (!strstr(corrald_error_message(r), text))
		fail_msg("submit %s: '%s' lacks '%s'", fields, corrald_error_message(r), text);
	json_decref(r);
}

/* The share of its wall time task id burned (it ended by its timeout). */
static double cpu_share(int64_t id)
{
	json_t *t = corrald_must_wait(&daemon_, id, 20000);
	double wall = (double)(task_int(t, "ended_at_us") - task_int(t, "started_at_us"));
	double cpu = (double)task_int(t, "cpu_us");

	assert_string_equal(task_str(t, "reason"), "timeout");
	json_decref(t);
	fprintf(stderr, "# task %lld: %.0f ms CPU in %.0f ms wall (%.2f)\n", (long long)id, cpu / 1000,
		wall / 1000, cpu / wall);
	return cpu / wall;
}

/* --cpus: more cores than the node has waits no_node_fits, more than the
 * plan's cpus is refused; held cores are counted (a task needing cores that
 * are held waits for them, another tenant's without --cpus does not); the
 * jail's CPU quota is the share asked: a busy loop at 0.5 CPU burns about
 * half its wall time, and its cgroup's cpu.max (v2) or cpu.cfs_quota_us
 * (v1) says so. */
static void test_cpus_held_limited_and_no_node_fits(void **state)
{
	char uri[192], name[32], quota[64];
	int64_t too_many, holder, waiter, plain, busy;
	json_t *n;
	uint64_t until;

	(void)state;
	require_root();
	start(false, uri, sizeof(uri));
	too_many = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"cpu_millis\":3000");
	expect_queued(too_many, "no_node_fits", "needs 3 CPUs; node it-node-a has 2");
	expect_refused("\"cpu_millis\":5000", "limit_exceeded", "5 CPUs is above plan p's limit of 4");
	expect_refused("\"cpu_millis\":3000,\"no_queue\":true", "host_capacity", "no node could ever run");

	/* 1.5 of the 2 cores held: a task needing 1 waits; another tenant's
	 * without --cpus runs (a tenant's own tasks start in submit order) */
	holder = corrald_submit(&daemon_, "\"argv\":[\"sleep\",\"30\"],\"cpu_millis\":1500");
	json_decref(corrald_wait_state(&daemon_, holder, "running", 20000));
	waiter = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"cpu_millis\":1000");
	plain = corrald_submit(&daemon_, "\"argv\":[\"/bin/true\"],\"user\":\"nobody\"");
	json_decref(must_reach(plain, "succeeded"));
	expect_queued(waiter, "host_capacity",
		      "waiting for cores on this host (next task needs 1, 0.5 of 2 free)");
	expect_refused("\"cpu_millis\":1000,\"no_queue\":true,\"user\":\"daemon\"", "host_capacity",
		       "1 CPUs needed, 0.5 of 2 free on node it-node-a");
	for (until = test_mono_ms() + 5000;; test_sleep_ms(100)) { /* the next heartbeats say so */
		n = node_of("it-node-a");
		if (sub(n, "free", "cpu_millis") == 500 || test_mono_ms() > until)
			break;
		json_decref(n);
	}
	assert_int_equal(sub(n, "free", "cpu_millis"), 500);
	assert_int_equal(sub(n, "capacity", "cores"), 2);
	json_decref(n);
	json_decref(corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}", (long long)holder));
	json_decref(must_reach(waiter, "succeeded"));

	/* half a core: a busy loop is held to about half its wall time */
	busy = corrald_submit(&daemon_,
			      "\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"],\"cpu_millis\":500,"
			      "\"timeout_ms\":2000");
	json_decref(corrald_wait_state(&daemon_, busy, "running", 20000));
	snprintf(name, sizeof(name), "task-%lld", (long long)busy);
	if (corrald_task_cgroup_read(&daemon_, name, "cpu.max", quota, sizeof(quota)) == 0)
		assert_string_equal(quota, "50000 100000");
	else if (corrald_task_cgroup_read(&daemon_, name, "cpu.cfs_quota_us", quota, sizeof(quota)) == 0)
		assert_string_equal(quota, "50000");
	else
		fail_msg("task %lld's cgroup has neither cpu.max nor cpu.cfs_quota_us", (long long)busy);
	double share = cpu_share(busy);

	assert_true(share > 0.2 && share < 0.65);
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
		cmocka_unit_test_teardown(test_cpus_held_limited_and_no_node_fits, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
