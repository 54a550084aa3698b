/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_cluster.c — several real corralds (root) sharing one
 * real PostgreSQL (tests/lib/pg.h) as the nodes of a cluster, each with its
 * own node name, state dir, socket, cgroup subtree, uid range and label:
 * tasks submitted on any node spread over the nodes; a tenant's
 * max_concurrent holds cluster-wide at every moment; waits and cancels work
 * from a node other than the one running the task; kill -9 of the
 * scheduler: another node schedules within the scheduler's lease; kill -9
 * of a node and a restart: its running jail is adopted and ends with the
 * right result; a node killed for good: its task ends as lost after the
 * lease and adopt_grace; a write about a task whose lease another node
 * holds commits nothing.  The leash: a node frozen (SIGSTOP) past its
 * lease, or killed for good, has its jail killed by the jail itself within
 * the lease, before the reaper requeues the task (retry_lost = yes) to the
 * other node, so the task runs to its end exactly once; the frozen node,
 * once it goes on, commits nothing about it.  A file staged through one
 * node is taken by a submit on another.  A task's files: input taken
 * by one node, run on another, its artifact fetched through the first.  No PostgreSQL: skips loudly
 * (fails under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/api/api.h"
#include "supervisor/store/store.h"
#include "supervisor/store/store_cluster.h"
#include "supervisor/store/store_leader.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

#define NODES 3
/* short leases so the failure cases take seconds */
#define CLUSTER_KEYS                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\n"           \
	"heartbeat_interval = 300ms\nnode_offline_after = 2s\nleader_lease = 2s\n" \
	"cluster_poll = 100ms\nadopt_grace = 1s\n"
#define POLICY                                                                                          \
	"[access]\noperators = root\n[plan p]\nmax_concurrent = 3\nmonthly_cpu_hours = 10\n[default]\n" \
	"plan = p\n"

static struct corrald nodes[NODES];
static char uri[192];
static const char *lease = "3s"; /* short: the failure cases take seconds */
static const char *slots = "2";  /* max_running of each node */
/* [supervisor] keys of one node only (a GPU node), or "" */
static const char *node_keys[NODES] = { "", "", "" };
/* the nodes' policy: POLICY, or a test's own (the leash tests': a shared dir, retries) */
static const char *policy = POLICY;
static char leash_policy[512], shared_dir[64];

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++) {
		if (nodes[i].pid > 0)
			kill(nodes[i].pid, SIGCONT); /* a node a test froze */
		corrald_cleanup(&nodes[i]);
	}
	lease = "3s";
	slots = "2";
	for (int i = 0; i < NODES; i++)
		node_keys[i] = "";
	if (shared_dir[0])
		test_remove_tree(shared_dir);
	shared_dir[0] = '\0';
	policy = POLICY;
	return 0;
}

static const char *node_name(int i)
{
	static const char *const names[NODES] = { "it-c1", "it-c2", "it-c3" };

	return names[i];
}

/* Node i of a cluster on database uri, label l<i+1>. */
static void start_node(int i)
{
	char keys[1024];
	int rc;

	snprintf(keys, sizeof(keys),
		 CLUSTER_KEYS "store = %s\nnode_name = %s\nlabels = l%d\nuid_range = %u-%u\nlease = %s\n%s",
		 uri, node_name(i), i + 1, 4203000u + 64u * (unsigned)i, 4203000u + 64u * (unsigned)i + 63u,
		 lease, node_keys[i]);
	rc = corrald_prepare(&nodes[i], keys, policy);
	if (rc < 0)
		fail_msg("prepare node %d: %s", i, strerror(-rc));
	/* each node its own cgroup subtree */
	snprintf(nodes[i].cgroup_parent, sizeof(nodes[i].cgroup_parent), "corral-it-%d-n%d", (int)getpid(),
		 i);
	corrald_write_policy(&nodes[i], keys, policy);
	rc = corrald_spawn(&nodes[i], 0);
	if (rc < 0)
		fail_msg("node %s did not start: %s\n%s", node_name(i), strerror(-rc),
			 corrald_log_tail(&nodes[i]));
}

/* A new database for the cluster at uri. */
static void create_db(void)
{
	struct pg_server *pg;
	char why[512], db[32];

	require_root();
	pg = pg_shared_server(why, sizeof(why));
	if (!pg)
		test_skip_loudly("no PostgreSQL for the cluster: %s", why);
	if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
		fail_msg("create database: %s", why);
}

static void start_cluster(int n)
{
	create_db();
	for (int i = 0; i < n; i++)
		start_node(i);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The node that holds the scheduler's lease now (-1: none), read from the
 * database as an operator would. */
static int scheduler_node(void)
{
	struct store *store = NULL;
	struct store_leader l;
	struct error err;
	int found = -1;

	if (store_open(uri, NULL, &store, &err) < 0)
		fail_msg("open the database: %s", err.message);
	memset(&l, 0, sizeof(l));
	if (store_leader_get(store, &l, &err) == 0 && l.expires_in_us > 0)
		for (int i = 0; i < NODES; i++)
			if (strcmp(l.node, node_name(i)) == 0)
				found = i;
	store_close(store);
	return found;
}

static int wait_scheduler(unsigned timeout_ms)
{
	for (uint64_t end = now_ms() + timeout_ms; now_ms() < end; test_sleep_ms(50)) {
		int s = scheduler_node();

		if (s >= 0 && nodes[s].pid > 0)
			return s;
	}
	return -1;
}

/* Tasks in state running, cluster-wide, as node i's list shows them. */
static int count_running(int i)
{
	json_t *r = corrald_call(&nodes[i], "{\"op\":\"list\",\"state\":\"running\",\"limit\":100}");
	int n = r ? (int)json_array_size(json_object_get(r, "tasks")) : -1;

	json_decref(r);
	return n;
}

static void test_tasks_spread_and_max_concurrent_holds_cluster_wide(void **state)
{
	int64_t ids[9];
	int most = 0, on[NODES] = { 0 };

	(void)state;
	start_cluster(NODES);
	assert_true(wait_scheduler(10000) >= 0);
	/* nine tasks submitted through all three nodes; the plan allows 3 at once */
	for (int i = 0; i < 9; i++) {
		ids[i] = corrald_submit(&nodes[i % NODES], "\"argv\":[\"sleep\",\"0.7\"]");
		assert_true(ids[i] > 0);
	}
	/* every moment (every 30 ms), not only the end */
	for (uint64_t end = now_ms() + 30000; now_ms() < end; test_sleep_ms(30)) {
		int running = count_running(0), done = 0;

		assert_true(running >= 0);
		if (running > most)
			most = running;
		assert_true(running <= 3);
		for (int i = 0; i < 9; i++) {
			json_t *t = corrald_status(&nodes[2], ids[i]);

			if (t && strcmp(task_str(t, "state"), "succeeded") == 0)
				done++;
			json_decref(t);
		}
		if (done == 9)
			break;
	}
	assert_int_equal(most, 3);
	/* a wait through another node than the one that took the submit */
	for (int i = 0; i < 9; i++) {
		json_t *t = corrald_must_wait(&nodes[(i + 1) % NODES], ids[i], 20000);
		const char *node = task_str(t, "node");

		assert_string_equal(task_str(t, "state"), "succeeded");
		assert_int_equal(task_int(t, "attempts"), 1);
		assert_non_null(node);
		for (int n = 0; n < NODES; n++)
			if (strcmp(node, node_name(n)) == 0)
				on[n]++;
		json_decref(t);
	}
	for (int n = 0; n < NODES; n++)
		assert_true(on[n] >= 1); /* spread: every node ran some */
}

/* The founding documents' fairness case across nodes: two tenants with
 * equal plans, one slot on each of two nodes, six tasks each submitted
 * alice first: the starts interleave (no tenant ever two starts ahead). */
static void test_two_tenants_interleave_across_nodes(void **state)
{
	int64_t ids[12];
	int order[12], ahead = 0;
	long long started[12];

	(void)state;
	slots = "1";
	start_cluster(2);
	assert_true(wait_scheduler(10000) >= 0);
	/* every task queued before any starts: both nodes drained meanwhile */
	for (int n = 0; n < 2; n++)
		json_decref(corrald_call(&nodes[0], "{\"op\":\"node_drain\",\"node\":\"%s\"}", node_name(n)));
	for (int i = 0; i < 12; i++) {
		ids[i] = corrald_submit(&nodes[i % 2],
					i < 6 ? "\"argv\":[\"sleep\",\"0.3\"],\"user\":\"alice\""
					      : "\"argv\":[\"sleep\",\"0.3\"],\"user\":\"bob\"");
		assert_true(ids[i] > 0);
	}
	for (int n = 0; n < 2; n++)
		json_decref(
			corrald_call(&nodes[0], "{\"op\":\"node_undrain\",\"node\":\"%s\"}", node_name(n)));
	for (int i = 0; i < 12; i++) {
		json_t *t = corrald_must_wait(&nodes[0], ids[i], 30000);

		assert_string_equal(task_str(t, "state"), "succeeded");
		started[i] = task_int(t, "started_at_us");
		order[i] = i;
		json_decref(t);
	}
	for (int i = 0; i < 12; i++)
		for (int j = i + 1; j < 12; j++)
			if (started[order[j]] < started[order[i]]) {
				int x = order[i];

				order[i] = order[j];
				order[j] = x;
			}
	fprintf(stderr, "start order:");
	for (int i = 0; i < 12; i++) {
		ahead += order[i] < 6 ? 1 : -1;
		fprintf(stderr, " %s", order[i] < 6 ? "alice" : "bob");
		assert_true(ahead <= 2 && ahead >= -2);
	}
	fprintf(stderr, "\n");
}

/* A budget of 3.6 s of CPU a month, busy tasks on both nodes at once: the
 * charged CPU never passes the budget by more than the documented bound
 * (a poll interval at every CPU), and the rest waits for next month. */
static void test_budget_across_nodes_never_overruns(void **state)
{
	char month[8];
	time_t now = time(NULL);
	struct tm tm;
	int64_t ids[6];
	long long used;
	int budget_ended = 0;

	(void)state;
	policy = "[access]\noperators = root\n[plan tiny]\nmax_concurrent = 4\nmonthly_cpu_hours = 0.001\n"
		 "[default]\nplan = tiny\n";
	start_cluster(2);
	assert_true(wait_scheduler(10000) >= 0);
	for (int i = 0; i < 6; i++) {
		ids[i] = corrald_submit(&nodes[i % 2],
					"\"argv\":[\"sh\",\"-c\",\"while :; do :; done\"],"
					"\"timeout_ms\":20000");
		assert_true(ids[i] > 0);
	}
	/* the budget lets some run, cut, and the rest waits for next month:
	 * until nothing runs any more (however loaded the machine is) */
	test_sleep_ms(1000);
	for (uint64_t end = now_ms() + 60000; now_ms() < end && count_running(0) > 0; test_sleep_ms(200)) {
	}
	assert_int_equal(count_running(0), 0);
	for (int i = 0; i < 6; i++) {
		json_t *t = corrald_status(&nodes[1], ids[i]);
		const char *reason = task_str(t, "reason");

		if (reason && strcmp(reason, "budget") == 0)
			budget_ended++;
		json_decref(t);
	}
	gmtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	used = corrald_usage_used(&nodes[0], "root", month);
	print_message("budget 3.6 s across 2 nodes: %.3f s charged, %d tasks ended by the budget\n",
		      used / 1e6, budget_ended);
	assert_true(budget_ended >= 1);
	/* poll_interval 100 ms at each of this host's CPUs */
	assert_true(used <= 3600000 + 100000 * sysconf(_SC_NPROCESSORS_ONLN));
}

/* max_queued counts the cluster's queue, whichever node takes the submit */
static void test_max_queued_holds_across_nodes(void **state)
{
	json_t *r;

	(void)state;
	policy = "[access]\noperators = root\n[plan q]\nmax_concurrent = 1\nmax_queued = 3\n[default]\n"
		 "plan = q\n";
	start_cluster(2);
	for (int n = 0; n < 2; n++)
		json_decref(corrald_call(&nodes[0], "{\"op\":\"node_drain\",\"node\":\"%s\"}", node_name(n)));
	for (int i = 0; i < 3; i++)
		assert_true(corrald_submit(&nodes[i % 2], "\"argv\":[\"true\"]") > 0);
	for (int n = 0; n < 2; n++) {
		r = corrald_call(&nodes[n], "{\"op\":\"submit\",\"argv\":[\"true\"]}");
		assert_string_equal(corrald_error_code(r), "queue_full");
		json_decref(r);
	}
}

/* A task pinned to node n by its label. */
static int64_t submit_on(int through, int n, const char *command)
{
	char fields[512];

	snprintf(fields, sizeof(fields), "\"argv\":[\"sh\",\"-c\",\"%s\"],\"labels\":[\"l%d\"]", command,
		 n + 1);
	return corrald_submit(&nodes[through], fields);
}

static void test_cancel_and_wait_through_another_node(void **state)
{
	int64_t id;
	json_t *t, *r;

	(void)state;
	start_cluster(2);
	id = submit_on(0, 1, "sleep 30");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&nodes[0], id, "running", 10000));
	r = corrald_call(&nodes[0], "{\"op\":\"cancel\",\"id\":%lld}", (long long)id);
	assert_null(corrald_error_code(r));
	json_decref(r);
	t = corrald_must_wait(&nodes[0], id, 10000);
	assert_string_equal(task_str(t, "state"), "cancelled");
	assert_string_equal(task_str(t, "node"), node_name(1));
	json_decref(t);
}

/* Output a node other than the one running the task shows: followed while
 * it runs, whole once it ended, and still there once that node is gone. */
static void test_logs_through_another_node_and_after_it_is_gone(void **state)
{
	uint64_t begun;
	int64_t id;
	json_t *r;
	char *out, *err;
	size_t len;

	(void)state;
	start_cluster(2);
	id = submit_on(0, 1, "echo hello; sleep 2; echo world; echo oops >&2");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&nodes[0], id, "running", 10000));
	begun = now_ms();
	r = corrald_call(&nodes[0], "{\"op\":\"logs\",\"id\":%lld,\"stream\":\"stdout\",\"follow\":true}",
			 (long long)id);
	assert_null(corrald_error_code(r));
	/* "hello" while the task still sleeps */
	assert_string_equal(task_str(r, "data_base64"), "aGVsbG8K");
	assert_true(now_ms() - begun < 1800);
	json_decref(r);
	json_decref(corrald_must_wait(&nodes[0], id, 10000));
	out = corrald_logs(&nodes[0], id, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "hello\nworld\n");
	free(out);
	corrald_kill9(&nodes[1]);
	out = corrald_logs(&nodes[0], id, "stdout", &len);
	err = corrald_logs(&nodes[0], id, "stderr", &len);
	assert_non_null(out);
	assert_non_null(err);
	assert_string_equal(out, "hello\nworld\n");
	assert_string_equal(err, "oops\n");
	free(out);
	free(err);
}

/* stdin taken by one node, the task run by another: from the store */
static void test_stdin_reaches_the_node_that_runs_the_task(void **state)
{
	int64_t id;
	char *out;
	size_t len;

	(void)state;
	start_cluster(2);
	id = corrald_submit(&nodes[0],
			    "\"argv\":[\"sh\",\"-c\",\"tr a-z A-Z\"],\"labels\":[\"l2\"],"
			    "\"stdin\":\"hello cluster\\n\"");
	assert_true(id > 0);
	json_decref(corrald_must_wait(&nodes[0], id, 10000));
	out = corrald_logs(&nodes[0], id, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "HELLO CLUSTER\n");
	free(out);
}

/* Task id (asked through the first node) succeeded on the second. */
static void succeeded_on_the_second_node(int64_t id)
{
	json_t *r = corrald_must_wait(&nodes[0], id, 10000);

	if (strcmp(task_str(r, "state"), "succeeded") != 0)
		fail_msg("task: %s\n%s", task_str(r, "message"), corrald_log_tail(&nodes[1]));
	assert_string_equal(task_str(r, "node"), node_name(1));
	json_decref(r);
}

/* A task's input file taken by one node, the task run by another, its
 * artifact fetched through the first (after the runner is gone): all
 * through the database. */
static void test_files_in_on_one_node_artifact_fetched_through_another(void **state)
{
	int64_t id;
	unsigned char *data = NULL;
	bool eof = false;
	size_t len = 0;

	(void)state;
	start_cluster(2);
	/* "AAEC/w==" = 00 01 02 ff */
	id = corrald_submit(&nodes[0],
			    "\"argv\":[\"sh\",\"-c\",\"cp in.bin out.bin\"],\"labels\":[\"l2\"],"
			    "\"files\":[{\"name\":\"in.bin\",\"data_base64\":\"AAEC/w==\"}],"
			    "\"artifacts\":[\"out.bin\"]");
	assert_true(id > 0);
	succeeded_on_the_second_node(id);
	corrald_kill9(&nodes[1]);
	data = corrald_fetch_chunk(&nodes[0], id, "out.bin", &len, &eof);
	assert_non_null(data);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "\x00\x01\x02\xff", 4);
	assert_true(eof);
	free(data);
}

/* A file staged through one node (upload_begin, a chunk), finished
 * through another, named by a submit there and run on the first (label
 * l2): the staged chunks and the task's input live in the database. */
static void test_upload_staged_on_one_node_taken_by_a_submit_on_another(void **state)
{
	static unsigned char zeros[400000];
	char *b64a = api_base64_encode(zeros, 2 * 196608),
	     *b64b = api_base64_encode(zeros, 400000 - 2 * 196608);
	char *fields = NULL, *out;
	int64_t up, id;
	size_t len;
	json_t *r;

	(void)state;
	assert_non_null(b64a);
	assert_non_null(b64b);
	start_cluster(2);
	r = corrald_call(&nodes[1], "{\"op\":\"upload_begin\",\"size\":400000}");
	up = json_integer_value(json_object_get(r, "upload"));
	if (up <= 0)
		fail_msg("upload_begin: %s", corrald_error_message(r));
	json_decref(r);
	r = corrald_call(&nodes[1],
			 "{\"op\":\"upload_chunk\",\"upload\":%lld,\"offset\":0,\"data_base64\":\"%s\"}",
			 (long long)up, b64a);
	assert_null(corrald_error_code(r));
	json_decref(r);
	r = corrald_call(&nodes[0],
			 "{\"op\":\"upload_chunk\",\"upload\":%lld,\"offset\":%d,\"data_base64\":\"%s\"}",
			 (long long)up, 2 * 196608, b64b);
	assert_null(corrald_error_code(r));
	assert_true(json_is_true(json_object_get(r, "complete")));
	json_decref(r);
	free(b64a);
	free(b64b);
	assert_true(
		asprintf(&fields,
			 "\"argv\":[\"sh\",\"-c\",\"wc -c < in.bin && head -c 400000 /dev/zero | cmp - in.bin && "
			 "echo same\"],\"labels\":[\"l2\"],\"files\":[{\"name\":\"in.bin\",\"upload\":%lld}]",
			 (long long)up) > 0);
	id = corrald_submit(&nodes[0], fields);
	free(fields);
	assert_true(id > 0);
	succeeded_on_the_second_node(id);
	out = corrald_logs(&nodes[0], id, "stdout", &len);
	assert_non_null(out);
	assert_string_equal(out, "400000\nsame\n");
	free(out);
}

/* PostgreSQL crashes and recovers (pg_ctl restart -m immediate) while
 * tasks run and wait: nothing is lost, nothing is ended as lost, nothing
 * runs twice. */
static void test_postgresql_restart_loses_nothing(void **state)
{
	struct pg_server *pg;
	char why[256];
	int64_t ids[4];
	json_t *t;

	(void)state;
	/* a crash recovery of a loaded machine's PostgreSQL may take seconds:
	 * a lease that outlasts it, as in production (30 s by default) */
	lease = "15s";
	start_cluster(2);
	pg = pg_shared_server(why, sizeof(why));
	assert_non_null(pg);
	for (int i = 0; i < 4; i++) {
		ids[i] = submit_on(i % 2, i % 2, "sleep 2");
		assert_true(ids[i] > 0);
	}
	json_decref(corrald_wait_state(&nodes[0], ids[0], "running", 10000));
	assert_int_equal(pg_server_restart_immediate(pg), 0);
	ids[3] = 0;
	for (int i = 0; i < 3; i++) {
		t = corrald_must_wait(&nodes[(i + 1) % 2], ids[i], 30000);
		if (strcmp(task_str(t, "state"), "succeeded") != 0)
			fail_msg("task %d: %s (%s)\n%s", i, task_str(t, "state"), task_str(t, "message"),
				 corrald_log_tail(&nodes[i % 2]));
		assert_int_equal(task_int(t, "attempts"), 1);
		json_decref(t);
	}
	/* and new work goes on */
	ids[3] = corrald_submit(&nodes[1], "\"argv\":[\"true\"]");
	assert_true(ids[3] > 0);
	t = corrald_must_wait(&nodes[0], ids[3], 30000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	json_decref(t);
}

static void test_scheduler_killed_another_node_schedules(void **state)
{
	int s, other;
	uint64_t killed;
	int64_t id;
	json_t *t;

	(void)state;
	start_cluster(2);
	s = wait_scheduler(10000);
	assert_true(s >= 0);
	other = 1 - s;
	corrald_kill9(&nodes[s]);
	killed = now_ms();
	/* no label: only the survivor can run it */
	id = corrald_submit(&nodes[other], "\"argv\":[\"true\"]");
	assert_true(id > 0);
	t = corrald_must_wait(&nodes[other], id, 20000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_string_equal(task_str(t, "node"), node_name(other));
	json_decref(t);
	print_message("scheduler failover: the task ran %llu ms after the scheduler was killed\n",
		      (unsigned long long)(now_ms() - killed));
	/* the scheduler's lease is 2 s: a new one within it and a poll */
	assert_true(now_ms() - killed < 10000);
	assert_int_equal(scheduler_node(), other);
}

static void test_killed_node_restarts_and_adopts_its_jail(void **state)
{
	int64_t id;
	json_t *t;
	int rc;

	(void)state;
	start_cluster(2);
	id = submit_on(0, 1, "echo up; sleep 2; exit 7");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&nodes[0], id, "running", 10000));
	/* its command runs (killed in its setup it would go back to the queue) */
	json_decref(corrald_call(&nodes[0], "{\"op\":\"logs\",\"id\":%lld,\"follow\":true}", (long long)id));
	corrald_kill9(&nodes[1]);
	rc = corrald_spawn(&nodes[1], 0);
	assert_int_equal(rc, 0);
	t = corrald_must_wait(&nodes[0], id, 20000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_int_equal(task_int(t, "exit_code"), 7);
	assert_int_equal(task_int(t, "attempts"), 1);
	assert_string_equal(task_str(t, "node"), node_name(1));
	json_decref(t);
	assert_non_null(strstr(corrald_log_tail(&nodes[1]), "adopted its running jail"));
}

static void test_node_killed_for_good_its_task_is_lost(void **state)
{
	uint64_t killed;
	int64_t id;
	json_t *t;

	(void)state;
	start_cluster(2);
	id = submit_on(0, 1, "sleep 1");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&nodes[0], id, "running", 10000));
	corrald_kill9(&nodes[1]);
	killed = now_ms();
	t = corrald_must_wait(&nodes[0], id, 30000);
	assert_string_equal(task_str(t, "state"), "failed");
	assert_string_equal(task_str(t, "reason"), "supervisor_lost");
	assert_non_null(strstr(task_str(t, "message"), "Node lost"));
	json_decref(t);
	/* lease 3 s + adopt_grace 1 s + a poll, not before the lease ends */
	assert_true(now_ms() - killed >= 3000);
	print_message("a dead node's task ended as lost %llu ms after the kill\n",
		      (unsigned long long)(now_ms() - killed));
}

/* ---- the leash ---------------------------------------------------------------- */

/* Every attempt appends "start <token>", and "end <token>" 5 s later, to
 * the shared file (made 0666: the two nodes' jails run as other host
 * uids): a token of its own per attempt. */
#define TOKEN_TASK                                                                                    \
	"umask 0; t=$(od -An -N8 -tx8 /dev/urandom); echo start $t >> /shared/tokens; sleep 5; echo " \
	"end $t >> /shared/tokens"

/* The shared dir (bound at /shared in every jail), the plan that requeues a
 * lost task once, and a task started on node 1 while it is the only node
 * (no label: once it is requeued, node 0 can run it); then node 0 starts.
 * The task's id. */
static int64_t start_leash_cluster(void)
{
	char tokens[128];
	bool started = false;
	int64_t id;

	create_db();
	snprintf(shared_dir, sizeof(shared_dir), "/tmp/corral-it-leash-XXXXXX");
	if (!mkdtemp(shared_dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	assert_int_equal(chmod(shared_dir, 0777), 0);
	snprintf(tokens, sizeof(tokens), "%s/tokens", shared_dir);
	snprintf(leash_policy, sizeof(leash_policy),
		 "[access]\noperators = root\n[profile shared]\nbind_rw = %s:/shared\n[plan p]\n"
		 "max_concurrent = 3\nmonthly_cpu_hours = 10\nprofile = shared\nretry_lost = yes\n"
		 "max_attempts = 2\n[default]\nplan = p\n",
		 shared_dir);
	policy = leash_policy;
	start_node(1);
	id = corrald_submit(&nodes[1], "\"argv\":[\"sh\",\"-c\",\"" TOKEN_TASK "\"]");
	assert_true(id > 0);
	json_decref(corrald_wait_state(&nodes[1], id, "running", 10000));
	start_node(0);
	/* the command has begun: its start line is there */
	for (uint64_t end = now_ms() + 5000; now_ms() < end; test_sleep_ms(20)) {
		struct stat st;

		if (stat(tokens, &st) == 0 && st.st_size > 0) {
			started = true;
			break;
		}
	}
	assert_true(started);
	return id;
}

/* How long (ms) node's jails still had a process, up to limit_ms. */
static uint64_t ms_until_no_jail_process(const struct corrald *node, unsigned limit_ms)
{
	uint64_t from = now_ms();

	while (corrald_count_processes(node) > 0 && now_ms() - from < limit_ms)
		test_sleep_ms(20);
	return now_ms() - from;
}

/* The shared file: the first attempt started and was killed (no end), the
 * second started after it and ran to its end; nothing else. */
static void assert_ran_to_its_end_once(void)
{
	char path[128], text[512], a[64], b[64], c[64];
	char word[3][16];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tokens", shared_dir);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	print_message("the attempts wrote:\n%s", text);
	assert_int_equal(sscanf(text, "%15s %63s %15s %63s %15s %63s", word[0], a, word[1], b, word[2], c),
			 6);
	assert_string_equal(word[0], "start");
	assert_string_equal(word[1], "start");
	assert_string_equal(word[2], "end");
	assert_string_not_equal(a, b);
	assert_string_equal(b, c);
	/* three lines, no fourth */
	assert_int_equal(strchr(strchr(strchr(text, '\n') + 1, '\n') + 1, '\n')[1], '\0');
}

/* The requeued attempt on node 0: succeeded, the second attempt. */
static json_t *wait_second_attempt(int64_t id)
{
	json_t *t = corrald_must_wait(&nodes[0], id, 40000);

	if (strcmp(task_str(t, "state"), "succeeded") != 0) {
		char *dump = json_dumps(t, 0);

		print_message("the task: %s\n", dump);
		free(dump);
		print_message("node %s:\n%s\n", node_name(0), corrald_log_tail(&nodes[0]));
	}

	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_string_equal(task_str(t, "node"), node_name(0));
	assert_int_equal(task_int(t, "attempts"), 2);
	return t;
}

static void test_frozen_node_its_jail_dies_within_the_lease_and_runs_once(void **state)
{
	uint64_t frozen, dead_ms;
	json_t *t, *again;
	int64_t id;

	(void)state;
	id = start_leash_cluster();
	assert_int_equal(corrald_count_processes(&nodes[1]) > 0, 1);
	assert_int_equal(kill(nodes[1].pid, SIGSTOP), 0);
	frozen = now_ms();
	dead_ms = ms_until_no_jail_process(&nodes[1], 10000);
	print_message("node frozen: its jail was dead %llu ms later (lease 3 s, 3/4 of it 2.25 s)\n",
		      (unsigned long long)dead_ms);
	assert_true(dead_ms < 3000);
	t = wait_second_attempt(id);
	print_message("the task ran again on the other node and ended %llu ms after the freeze\n",
		      (unsigned long long)(now_ms() - frozen));
	assert_ran_to_its_end_once();
	/* the frozen node goes on: it commits nothing about the task */
	assert_int_equal(kill(nodes[1].pid, SIGCONT), 0);
	test_sleep_ms(2000);
	again = corrald_status(&nodes[0], id);
	assert_non_null(again);
	assert_string_equal(task_str(again, "state"), "succeeded");
	assert_string_equal(task_str(again, "node"), node_name(0));
	assert_int_equal(task_int(again, "attempts"), 2);
	assert_string_equal(task_str(again, "message"), task_str(t, "message"));
	assert_int_equal(task_int(again, "ended_at_us"), task_int(t, "ended_at_us"));
	json_decref(again);
	json_decref(t);
	assert_ran_to_its_end_once();
	assert_int_equal(corrald_count_processes(&nodes[1]), 0);
	print_message("the frozen node, going on:\n%s", corrald_log_tail(&nodes[1]));
}

static void test_node_killed_for_good_its_jail_dies_and_the_task_runs_once(void **state)
{
	uint64_t killed, dead_ms;
	int64_t id;
	json_t *t;

	(void)state;
	id = start_leash_cluster();
	assert_int_equal(corrald_count_processes(&nodes[1]) > 0, 1);
	corrald_kill9(&nodes[1]);
	killed = now_ms();
	dead_ms = ms_until_no_jail_process(&nodes[1], 10000);
	print_message("node killed: its jail was dead %llu ms later\n", (unsigned long long)dead_ms);
	assert_true(dead_ms < 3000);
	t = wait_second_attempt(id);
	print_message("the task ran again on the other node and ended %llu ms after the kill\n",
		      (unsigned long long)(now_ms() - killed));
	json_decref(t);
	assert_ran_to_its_end_once();
}

/* The fence itself: a connection fenced by one incarnation cannot start,
 * charge or end a task another incarnation holds. */
static void test_a_write_without_the_lease_commits_nothing(void **state)
{
	struct store *store = NULL, *leader = NULL;
	struct store_task task = { .user = "alice", .profile = "default", .argv_json = "[\"true\"]" };
	struct store_leader l;
	struct store_start start = { .started_at_us = 1, .host_uid = 1, .cgroup = "task-x", .attempts = 1 };
	struct error err;
	int64_t id;
	struct store_cluster_assign a = { .node = "n-a", .incarnation = "inc-a", .lease_us = 60000000 };

	(void)state;
	require_root();
	{
		struct pg_server *pg;
		char why[512], db[32];

		pg = pg_shared_server(why, sizeof(why));
		if (!pg)
			test_skip_loudly("no PostgreSQL for the cluster: %s", why);
		if (pg_server_create_db(pg, db, sizeof(db), uri, sizeof(uri), why, sizeof(why)) < 0)
			fail_msg("create database: %s", why);
	}
	assert_int_equal(store_open(uri, NULL, &store, &err), 0);
	assert_int_equal(store_open(uri, NULL, &leader, &err), 0);
	assert_int_equal(store_submit(store, &task, &id, &err), 0);
	a.id = id;
	/* not the scheduler: refused */
	assert_int_equal(store_cluster_assign(leader, 1, "sched", &a, &err), -ESTALE);
	assert_int_equal(store_leader_acquire(leader, "n-s", "sched", 60000000, &l, &err), 0);
	assert_true(l.held);
	/* a stale term: refused; the current one: assigned */
	assert_int_equal(store_cluster_assign(leader, l.term + 1, "sched", &a, &err), -ESTALE);
	assert_int_equal(store_cluster_assign(leader, l.term, "sched", &a, &err), 0);
	/* another incarnation cannot start it */
	store_cluster_fence(store, "inc-b");
	assert_int_equal(store_mark_running(store, id, &start, &err), -ESTALE);
	store_cluster_fence(store, "inc-a");
	assert_int_equal(store_mark_running(store, id, &start, &err), 0);
	assert_int_equal(store_charge(store, id, 0, 10, "2026-12", 2, &err), 0);
	/* the node restarted (a new incarnation adopted it): the old one is fenced */
	assert_int_equal(store_cluster_adopt(leader, "n-a", "inc-a2", 60000000, NULL, &err), 0);
	assert_int_equal(store_charge(store, id, 10, 20, "2026-12", 3, &err), -ESTALE);
	{
		struct store_result r = { .state = STORE_SUCCEEDED,
					  .reason = STORE_REASON_EXIT_CODE,
					  .usage = { .exit_code = 0, .signal = -1 },
					  .ended_at_us = 4,
					  .cpu_total_us = 30,
					  .month = "2026-12" };

		assert_int_equal(store_finish(store, id, &r, &err), -ESTALE);
		store_cluster_fence(store, "inc-a2");
		assert_int_equal(store_finish(store, id, &r, &err), 0);
	}
	store_close(store);
	store_close(leader);
}

/* A node's state as node i's `nodes` answer shows it ("online", ...). */
static bool node_state_is(int through, const char *name, const char *want)
{
	json_t *r = corrald_call(&nodes[through], "{\"op\":\"nodes\"}"), *n;
	size_t k;
	bool is = false;

	json_array_foreach (json_object_get(r, "nodes"), k, n)
		if (strcmp(task_str(n, "name"), name) == 0)
			is = strcmp(task_str(n, "state"), want) == 0;
	json_decref(r);
	return is;
}

/* Capacity-aware placement across nodes: a task needing 2 GPUs runs only on
 * the one node that has them, a task needing a label only on its node, one
 * no node could ever run waits as no_node_fits; a node silent past
 * node_offline_after is offline (nothing placed on it) and comes back. */
static void test_placement_by_capacity_and_offline_across_nodes(void **state)
{
	int64_t gpu[3], labelled, never, late;
	json_t *t;

	(void)state;
	node_keys[1] = "gpus = 2\ngpu_memory = 16G\n";
	start_cluster(NODES);
	assert_true(wait_scheduler(10000) >= 0);
	for (int i = 0; i < 3; i++)
		gpu[i] = corrald_submit(&nodes[i], "\"argv\":[\"sleep\",\"0.2\"],\"gpus\":2");
	labelled = corrald_submit(&nodes[0], "\"argv\":[\"/bin/true\"],\"labels\":[\"l3\"]");
	never = corrald_submit(&nodes[0], "\"argv\":[\"/bin/true\"],\"gpus\":3");
	for (int i = 0; i < 3; i++) {
		t = corrald_must_wait(&nodes[(i + 2) % NODES], gpu[i], 20000);
		assert_string_equal(task_str(t, "state"), "succeeded");
		assert_string_equal(task_str(t, "node"), node_name(1));
		json_decref(t);
	}
	t = corrald_must_wait(&nodes[1], labelled, 20000);
	assert_string_equal(task_str(t, "node"), node_name(2));
	json_decref(t);
	t = corrald_status(&nodes[2], never);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "no_node_fits");
	json_decref(t);

	/* it-c3 silent (stopped) past node_offline_after (2 s): offline, as
	 * it-c1 (never stopped) sees it */
	const int through = 0;

	assert_int_equal(kill(nodes[2].pid, SIGSTOP), 0);
	for (uint64_t end = now_ms() + 10000;
	     now_ms() < end && !node_state_is(through, node_name(2), "offline");)
		test_sleep_ms(100);
	assert_true(node_state_is(through, node_name(2), "offline"));
	/* only it-c3 has label l3: the task waits while it is offline */
	late = corrald_submit(&nodes[through], "\"argv\":[\"/bin/true\"],\"labels\":[\"l3\"]");
	assert_true(late > 0);
	test_sleep_ms(1000);
	t = corrald_status(&nodes[through], late);
	assert_string_equal(task_str(t, "state"), "queued");
	json_decref(t);
	/* back: online again, and the task runs there */
	assert_int_equal(kill(nodes[2].pid, SIGCONT), 0);
	for (uint64_t end = now_ms() + 10000;
	     now_ms() < end && !node_state_is(through, node_name(2), "online");)
		test_sleep_ms(100);
	assert_true(node_state_is(through, node_name(2), "online"));
	t = corrald_must_wait(&nodes[through], late, 20000);
	assert_string_equal(task_str(t, "state"), "succeeded");
	assert_string_equal(task_str(t, "node"), node_name(2));
	json_decref(t);
}

/* Cores across nodes (--cpus): a task asking more cores than the small node
 * has runs on the big node, whichever node it was submitted through; one
 * asking more than any node has waits as no_node_fits. */
static void test_placement_by_cores_across_nodes(void **state)
{
	int64_t wide[2], never;
	json_t *t;

	(void)state;
	policy = "[access]\noperators = root\n[plan p]\nmax_concurrent = 3\ncpus = 8\n[default]\nplan = p\n";
	node_keys[0] = "cores = 1\n";
	node_keys[1] = "cores = 4\n";
	start_cluster(2);
	assert_true(wait_scheduler(10000) >= 0);
	for (int i = 0; i < 2; i++)
		wide[i] = corrald_submit(&nodes[0], "\"argv\":[\"sleep\",\"0.2\"],\"cpu_millis\":2000");
	never = corrald_submit(&nodes[0], "\"argv\":[\"/bin/true\"],\"cpu_millis\":6000");
	for (int i = 0; i < 2; i++) {
		t = corrald_must_wait(&nodes[i], wide[i], 20000);
		assert_string_equal(task_str(t, "state"), "succeeded");
		assert_string_equal(task_str(t, "node"), node_name(1));
		assert_int_equal(task_int(t, "cpu_millis"), 2000);
		json_decref(t);
	}
	t = corrald_status(&nodes[1], never);
	assert_string_equal(task_str(t, "state"), "queued");
	assert_string_equal(task_str(t, "pending_reason"), "no_node_fits");
	assert_non_null(strstr(task_str(t, "pending_message"), "needs 6 CPUs"));
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_write_without_the_lease_commits_nothing, teardown),
		cmocka_unit_test_teardown(test_tasks_spread_and_max_concurrent_holds_cluster_wide, teardown),
		cmocka_unit_test_teardown(test_placement_by_capacity_and_offline_across_nodes, teardown),
		cmocka_unit_test_teardown(test_placement_by_cores_across_nodes, teardown),
		cmocka_unit_test_teardown(test_cancel_and_wait_through_another_node, teardown),
		cmocka_unit_test_teardown(test_two_tenants_interleave_across_nodes, teardown),
		cmocka_unit_test_teardown(test_budget_across_nodes_never_overruns, teardown),
		cmocka_unit_test_teardown(test_max_queued_holds_across_nodes, teardown),
		cmocka_unit_test_teardown(test_logs_through_another_node_and_after_it_is_gone, teardown),
		cmocka_unit_test_teardown(test_stdin_reaches_the_node_that_runs_the_task, teardown),
		cmocka_unit_test_teardown(test_files_in_on_one_node_artifact_fetched_through_another,
					  teardown),
		cmocka_unit_test_teardown(test_upload_staged_on_one_node_taken_by_a_submit_on_another,
					  teardown),
		cmocka_unit_test_teardown(test_postgresql_restart_loses_nothing, teardown),
		cmocka_unit_test_teardown(test_scheduler_killed_another_node_schedules, teardown),
		cmocka_unit_test_teardown(test_killed_node_restarts_and_adopts_its_jail, teardown),
		cmocka_unit_test_teardown(test_node_killed_for_good_its_task_is_lost, teardown),
		cmocka_unit_test_teardown(test_frozen_node_its_jail_dies_within_the_lease_and_runs_once,
					  teardown),
		cmocka_unit_test_teardown(test_node_killed_for_good_its_jail_dies_and_the_task_runs_once,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
