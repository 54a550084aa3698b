/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_cluster_limits.c — what a submit and `queue`
 * answer for the whole cluster, with two real corralds (root) on one real
 * PostgreSQL (tests/lib/pg.h): the plan's max_stored counts the tenant's
 * tasks taken by every node (two nodes that together pass the quota: the
 * second refused storage_quota; two submits racing through two nodes: one
 * accepted; `usage` through either node counts both); `--no-queue` counts the tenant's tasks running on another
 * node and the cluster's free slots; `queue` gives the same order through
 * every node, the scheduler's (its fairness state included).  No
 * PostgreSQL: skips loudly (fails under CORRAL_MUST_WORK=1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/pg.h"
#include "tests/lib/test.h"

#define NODES 2
#define KEYS                                                                                         \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nheartbeat_interval = 300ms\n" \
	"node_offline_after = 2s\nleader_lease = 2s\ncluster_poll = 100ms\nadopt_grace = 1s\n"       \
	"lease = 3s\n"

static struct corrald nodes[NODES];
static char uri[192];
static char *big; /* a stdin of 600 KiB */

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++)
		corrald_cleanup(&nodes[i]);
	free(big);
	big = NULL;
	return 0;
}

static const char *node_name(int i)
{
	return i == 0 ? "it-l1" : "it-l2";
}

static void start_node(int i, unsigned slots, const char *policy)
{
	char keys[1024], cgroup[64];
	int rc;

	snprintf(keys, sizeof(keys), KEYS "store = %s\nnode_name = %s\nuid_range = %u-%u\nmax_running = %u\n",
		 uri, node_name(i), 4205400u + 64u * (unsigned)i, 4205400u + 64u * (unsigned)i + 63u, slots);
	snprintf(cgroup, sizeof(cgroup), "corral-it-%d-l%d", (int)getpid(), i);
	rc = corrald_start_below(&nodes[i], keys, policy, cgroup);
	if (rc < 0)
		fail_msg("node %s did not start: %s\n%s", node_name(i), strerror(-rc),
			 corrald_log_tail(&nodes[i]));
}

static void start_cluster(unsigned slots, const char *policy)
{
	require_root();
	pg_shared_db("the cluster", uri, sizeof(uri));
	start_node(0, slots, policy);
	start_node(1, slots, policy);
}

/* Both nodes drained (nothing starts: submits stay queued), or undrained. */
static void drain_all(bool drain)
{
	for (int n = 0; n < NODES; n++)
		json_decref(corrald_call(&nodes[0], "{\"op\":\"%s\",\"node\":\"%s\"}",
					 drain ? "node_drain" : "node_undrain", node_name(n)));
}

/* A submit of tenant with a 600 KiB stdin through node: the response. */
static json_t *submit_big(int node, const char *tenant)
{
	if (!big) {
		big = malloc(600 * 1024 + 1);
		assert_non_null(big);
		memset(big, 'x', 600 * 1024);
		big[600 * 1024] = '\0';
	}
	return corrald_call(&nodes[node],
			    "{\"op\":\"submit\",\"argv\":[\"true\"],\"user\":\"%s\",\"stdin\":\"%s\"}",
			    tenant, big);
}

/* max_stored = 1M: 600 KiB through node A, then 600 KiB through node B is
 * refused (node B alone holds nothing of the tenant's); 300 KiB fits. */
static void test_storage_quota_counts_the_tasks_of_every_node(void **state)
{
	json_t *r;

	(void)state;
	start_cluster(2,
		      "[access]\noperators = root\n[plan q]\nmax_concurrent = 4\nmax_stored = 1M\n"
		      "monthly_cpu_hours = 10\n[default]\nplan = q\n");
	drain_all(true); /* the tasks stay queued: their stdin stays stored */
	r = submit_big(0, "alice");
	assert_null(corrald_error_code(r));
	json_decref(r);
	r = submit_big(1, "alice");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r), "storage_quota");
	print_message("node B: %s\n", corrald_error_message(r));
	assert_non_null(strstr(corrald_error_message(r), "max_stored"));
	json_decref(r);
	r = corrald_call(&nodes[1],
			 "{\"op\":\"submit\",\"argv\":[\"true\"],\"user\":\"alice\",\"stdin\":\"%.*s\"}",
			 300 * 1024, big);
	assert_null(corrald_error_code(r));
	json_decref(r);
	/* usage through node A counts what node B took too */
	r = corrald_call(&nodes[0], "{\"op\":\"usage\",\"user\":\"alice\"}");
	assert_non_null(r);
	{
		json_t *u = json_array_get(json_object_get(r, "usage"), 0);

		assert_true(json_integer_value(json_object_get(u, "stored_bytes")) >= 900 * 1024);
		assert_int_equal(json_integer_value(json_object_get(u, "queued")), 2);
	}
	json_decref(r);
	/* another tenant has its own quota */
	r = submit_big(1, "bob");
	assert_null(corrald_error_code(r));
	json_decref(r);
}

/* Two submits of 600 KiB against 1M, through two nodes at the same moment
 * (a child submits through node B while this process submits through node
 * A), five tenants in turn: one of each pair is accepted, never both. */
static void test_storage_quota_holds_when_two_nodes_race(void **state)
{
	(void)state;
	start_cluster(2,
		      "[access]\noperators = root\n[plan q]\nmax_concurrent = 4\nmax_stored = 1M\n"
		      "monthly_cpu_hours = 10\n[default]\nplan = q\n");
	drain_all(true);
	json_decref(submit_big(0, "warmup")); /* builds big */
	for (int round = 0; round < 5; round++) {
		char tenant[32];
		int accepted = 0, status;
		json_t *r;
		pid_t child;

		snprintf(tenant, sizeof(tenant), "racer%d", round);
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			r = submit_big(1, tenant);
			_exit(!r                                                            ? 3
				      : !corrald_error_code(r)                              ? 0
				      : strcmp(corrald_error_code(r), "storage_quota") == 0 ? 2
											    : 4);
		}
		r = submit_big(0, tenant);
		assert_non_null(r);
		if (!corrald_error_code(r))
			accepted++;
		else
			assert_string_equal(corrald_error_code(r), "storage_quota");
		json_decref(r);
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2);
		accepted += WEXITSTATUS(status) == 0;
		assert_int_equal(accepted, 1);
	}
}

/* Whether task id runs (within timeout_ms). */
static void must_run(int node, int64_t id)
{
	json_t *t = corrald_wait_state(&nodes[node], id, "running", 15000);

	if (!t)
		fail_msg("task %lld did not start\n%s", (long long)id, corrald_log_tail(&nodes[node]));
	json_decref(t);
}

/* max_concurrent = 1: alice runs a task taken through node A; --no-queue
 * through node B is refused concurrency_limit; bob's is accepted; with
 * every slot of the cluster held, --no-queue is refused host_capacity;
 * once alice's task ended, her --no-queue through node B is accepted. */
static void test_no_queue_counts_the_whole_cluster(void **state)
{
	int64_t a, others[3];
	json_t *r;

	(void)state;
	start_cluster(2,
		      "[access]\noperators = root\n[plan one]\nmax_concurrent = 1\n"
		      "monthly_cpu_hours = 10\n[default]\nplan = one\n");
	a = corrald_submit(&nodes[0], "\"argv\":[\"sleep\",\"30\"],\"user\":\"alice\"");
	assert_true(a > 0);
	must_run(0, a);
	r = corrald_call(&nodes[1],
			 "{\"op\":\"submit\",\"argv\":[\"true\"],\"user\":\"alice\",\"no_queue\":true}");
	assert_non_null(r);
	assert_string_equal(corrald_error_code(r), "concurrency_limit");
	print_message("node B: %s\n", corrald_error_message(r));
	assert_non_null(strstr(corrald_error_message(r), "1/1 tasks running in the cluster"));
	json_decref(r);
	/* three more tenants fill the cluster's four slots */
	for (int i = 0; i < 3; i++) {
		char fields[128];

		snprintf(fields, sizeof(fields),
			 "\"argv\":[\"sleep\",\"30\"],\"user\":\"t%d\",\"no_queue\":true", i);
		others[i] = corrald_submit(&nodes[1], fields);
		assert_true(others[i] > 0);
	}
	r = corrald_call(&nodes[0],
			 "{\"op\":\"submit\",\"argv\":[\"true\"],\"user\":\"bob\",\"no_queue\":true}");
	assert_string_equal(corrald_error_code(r), "host_capacity");
	print_message("node A: %s\n", corrald_error_message(r));
	assert_non_null(strstr(corrald_error_message(r), "the cluster is at capacity"));
	json_decref(r);
	/* alice's task and one other end: both slots free again */
	json_decref(corrald_call(&nodes[1], "{\"op\":\"cancel\",\"id\":%lld}", (long long)a));
	json_decref(corrald_call(&nodes[1], "{\"op\":\"cancel\",\"id\":%lld}", (long long)others[0]));
	json_decref(corrald_must_wait(&nodes[1], a, 15000));
	json_decref(corrald_must_wait(&nodes[1], others[0], 15000));
	r = corrald_call(&nodes[1],
			 "{\"op\":\"submit\",\"argv\":[\"true\"],\"user\":\"alice\",\"no_queue\":true}");
	assert_null(corrald_error_code(r));
	json_decref(r);
}

/* queue (all tenants) through node i: "id:position" of each entry, joined. */
static void queue_text(int i, char *out, size_t size)
{
	json_t *r = corrald_call(&nodes[i], "{\"op\":\"queue\"}"), *e;
	size_t k, off = 0;

	if (!r || corrald_error_code(r))
		fail_msg("queue through node %d: %s", i, r ? corrald_error_message(r) : "no answer");
	out[0] = '\0';
	json_array_foreach (json_object_get(r, "queue"), k, e)
		off += (size_t)snprintf(out + off, size - off, "%s%lld:%lld", k ? " " : "",
					(long long)task_int(e, "id"), (long long)task_int(e, "position"));
	json_decref(r);
}

/* One slot on each node, both held by alice (her fair share spent: two
 * starts); then alice and bob queue three tasks each, alternating, through
 * both nodes: `queue` through either node gives the same order, the
 * scheduler's, bob's first task first (alice already had her starts). */
static void test_queue_gives_one_order_through_every_node(void **state)
{
	int64_t run[2], alice[3], bob[3];
	char a[512], b[512], first[32];

	(void)state;
	start_cluster(1,
		      "[access]\noperators = root\n[plan p]\nmax_concurrent = 2\n"
		      "monthly_cpu_hours = 10\n[default]\nplan = p\n");
	for (int i = 0; i < 2; i++) {
		run[i] = corrald_submit(&nodes[i], "\"argv\":[\"sleep\",\"30\"],\"user\":\"alice\"");
		assert_true(run[i] > 0);
	}
	must_run(0, run[0]);
	must_run(0, run[1]);
	for (int i = 0; i < 3; i++) {
		alice[i] = corrald_submit(&nodes[i % 2], "\"argv\":[\"true\"],\"user\":\"alice\"");
		bob[i] = corrald_submit(&nodes[(i + 1) % 2], "\"argv\":[\"true\"],\"user\":\"bob\"");
		assert_true(alice[i] > 0 && bob[i] > 0);
	}
	/* the scheduler saves its passes after a round: let one pass */
	test_sleep_ms(500);
	queue_text(0, a, sizeof(a));
	queue_text(1, b, sizeof(b));
	print_message("queue through node A: %s\nqueue through node B: %s\n", a, b);
	assert_string_equal(a, b);
	snprintf(first, sizeof(first), "%lld:1 ", (long long)bob[0]);
	if (strncmp(a, first, strlen(first)) != 0)
		fail_msg("bob's first task (%lld) is not first: %s", (long long)bob[0], a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_storage_quota_counts_the_tasks_of_every_node, teardown),
		cmocka_unit_test_teardown(test_storage_quota_holds_when_two_nodes_race, teardown),
		cmocka_unit_test_teardown(test_no_queue_counts_the_whole_cluster, teardown),
		cmocka_unit_test_teardown(test_queue_gives_one_order_through_every_node, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
