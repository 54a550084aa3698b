/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_corrald_netns_pool.c — corrald's pool of network
 * namespaces made ahead (supervisor/corrald/netns_pool.c) against a real
 * corrald (root): a task in a pooled namespace sees only lo, up, with
 * 127.0.0.1, and can change nothing in it (the namespace belongs to the
 * host's user namespace: NS_GET_USERNS is refused inside); no two tasks
 * ever share one, one after the other or at once, more at once than the
 * pool holds (the rest get theirs from the clone); corrald's fds stay
 * where they were after many tasks; netns_pool = 0 gives every jail a new
 * namespace of its own user namespace, as before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

/* Its own host uids, so other corrald tests running at the same time on
 * this machine never hand out the same ones. */
#define SUPERVISOR_KEYS                                                                               \
	"kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\nuid_range = 4201800-4201863\n" \
	"max_running = 8\n"
#define POLICY "[plan free]\nmax_concurrent = 8\n[default]\nplan = free\n"

/* What a task reports about its network namespace, one "key=value" a line. */
static const char probe_script[] =
	"echo \"ns=$(readlink /proc/self/ns/net)\"\n"
	"/usr/sbin/ip -o link | sed 's/\\\\.*//' | awk '{print \"link=\" $2 $3}'\n"
	"/usr/sbin/ip -o -4 addr | awk '{print \"addr=\" $2 \",\" $4}'\n"
	"if /usr/sbin/ip link set lo down 2>/dev/null; then echo lo_down=ALLOWED; else echo lo_down=denied; fi\n"
	"if /usr/sbin/ip addr add 10.9.8.7/8 dev lo 2>/dev/null; then echo addr_add=ALLOWED; else echo "
	"addr_add=denied; fi\n"
	"/usr/bin/python3 -c '\n"
	"import fcntl, os, socket\n"
	"try:\n"
	"    fcntl.ioctl(os.open(\"/proc/self/ns/net\", os.O_RDONLY), 0xb701)\n" /* NS_GET_USERNS */
	"    print(\"owner=jail\")\n"
	"except PermissionError:\n"
	"    print(\"owner=host\")\n"
	"try:\n"
	"    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
	"    print(\"raw=ALLOWED\")\n"
	"except PermissionError:\n"
	"    print(\"raw=denied\")\n"
	"s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
	"s.bind((\"127.0.0.1\", 0))\n"
	"s.sendto(b\"x\", s.getsockname())\n"
	"print(\"loopback=\" + s.recv(1).decode())\n"
	"'\n";

static struct corrald daemon_;

static int teardown(void **state)
{
	(void)state;
	corrald_cleanup(&daemon_);
	return 0;
}

static void start(const char *extra_keys)
{
	char keys[512];

	test_require_root();
	snprintf(keys, sizeof(keys), "%s%s", SUPERVISOR_KEYS, extra_keys);
	if (corrald_start(&daemon_, keys, POLICY, 0) < 0)
		fail_msg("corrald did not start: %s", corrald_log_tail(&daemon_));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Submit sh -c script (its text after "sleep_s" seconds of sleep, when
 * not 0); the task id. */
static int64_t submit_script(const char *script, const char *sleep_s)
{
	char full[4096], *argv, fields[8192];
	json_t *a;
	int64_t id;

	snprintf(full, sizeof(full), "%s%s%s", sleep_s ? "sleep " : "", sleep_s ? sleep_s : "",
		 sleep_s ? "\n" : "");
	snprintf(full + strlen(full), sizeof(full) - strlen(full), "%s", script);
	a = json_pack("[sss]", "/bin/sh", "-c", full);
	argv = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	snprintf(fields, sizeof(fields), "\"argv\":%s", argv);
	free(argv);
	id = corrald_submit(&daemon_, fields);
	assert_true(id > 0);
	return id;
}

/* The value of "key=" in out (static buffer), or "". */
static const char *value_of(const char *out, const char *key)
{
	static char v[256];
	size_t klen = strlen(key);

	v[0] = '\0';
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(v, sizeof(v), "%.*s", (int)strcspn(p + klen + 1, "\n"), p + klen + 1);
			break;
		}
	}
	return v;
}

static int count_lines(const char *out, const char *prefix)
{
	int n = 0;

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* Until corrald filled its pool (it does while idle): it has made them
 * when its fd count stops growing. */
static long settle_fds(void)
{
	long now = corrald_fd_count(&daemon_);
	int same = 0;

	for (int i = 0; i < 100 && same < 3; i++) {
		long last = now;

		sleep_ms(30);
		now = corrald_fd_count(&daemon_);
		same = now == last ? same + 1 : 0;
	}
	return now;
}

/* corrald started with extra_keys runs the probe: owner says whose user
 * namespace owns the task's network namespace. */
static void expect_probe_with(const char *extra_keys, const char *owner)
{
	char *out;

	start(extra_keys);
	settle_fds();
	out = corrald_must_succeed(&daemon_, submit_script(probe_script, NULL), 30000);
	assert_string_equal(value_of(out, "owner"), owner);
	assert_int_equal(count_lines(out, "link="), 1);
	assert_string_equal(value_of(out, "link"), "lo:<LOOPBACK,UP,LOWER_UP>");
	assert_int_equal(count_lines(out, "addr="), 1);
	assert_string_equal(value_of(out, "addr"), "lo,127.0.0.1/8");
	assert_string_equal(value_of(out, "lo_down"), "denied");
	assert_string_equal(value_of(out, "addr_add"), "denied");
	assert_string_equal(value_of(out, "raw"), "denied");
	assert_string_equal(value_of(out, "loopback"), "x");
	free(out);
}

static void test_pooled_namespace_has_only_lo_up_and_the_task_cannot_change_it(void **state)
{
	(void)state;
	/* made ahead by corrald: the host's user namespace owns it */
	expect_probe_with("", "host");
}

static void test_without_a_pool_each_jail_makes_its_own_namespace(void **state)
{
	(void)state;
	expect_probe_with("netns_pool = 0\n", "jail");
}

/* ns=cookie:N of each task: all different, none the host's (corrald's:
 * it never leaves its own but for its clones). */
static void expect_distinct(char **ns, size_t n)
{
	char own[64];
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, 71, &cookie, &len), 0);
	close(fd);
	snprintf(own, sizeof(own), "cookie:%llu", (unsigned long long)cookie);
	for (size_t i = 0; i < n; i++) {
		assert_true(strncmp(ns[i], "cookie:", 7) == 0);
		assert_string_not_equal(ns[i], own);
		for (size_t k = 0; k < i; k++)
			if (strcmp(ns[i], ns[k]) == 0)
				fail_msg("tasks %zu and %zu share the network namespace %s", k, i, ns[i]);
	}
}

/* A namespace's inode number is reused once it is gone; its cookie
 * (SO_NETNS_COOKIE, 71) never is. */
static void test_no_two_tasks_share_a_namespace(void **state)
{
	enum { SEQUENTIAL = 6, AT_ONCE = 8 }; /* more at once than the pool's 4 */
	static const char script[] =
		"/usr/bin/python3 -c 'import socket\n"
		"s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		"print(\"ns=cookie:%d\" % int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), \"little\"))'\n";
	char *ns[SEQUENTIAL + AT_ONCE];
	int64_t ids[AT_ONCE];

	(void)state;
	start("");
	settle_fds();
	for (size_t i = 0; i < SEQUENTIAL; i++) {
		char *out = corrald_must_succeed(&daemon_, submit_script(script, NULL), 30000);

		ns[i] = strdup(value_of(out, "ns"));
		free(out);
	}
	settle_fds();
	for (size_t i = 0; i < AT_ONCE; i++)
		ids[i] = submit_script(script, "0.3");
	for (size_t i = 0; i < AT_ONCE; i++) {
		char *out = corrald_must_succeed(&daemon_, ids[i], 30000);

		ns[SEQUENTIAL + i] = strdup(value_of(out, "ns"));
		free(out);
	}
	expect_distinct(ns, SEQUENTIAL + AT_ONCE);
	for (size_t i = 0; i < SEQUENTIAL + AT_ONCE; i++)
		free(ns[i]);
}

static void test_the_pool_leaves_no_fd_behind(void **state)
{
	enum { TASKS = 40 };
	long before, after;
	int64_t ids[4];

	(void)state;
	start("");
	/* a first task from the full pool: whatever corrald opens once (its
	 * own namespace's fd, at the first spawn in a pooled one) */
	settle_fds();
	free(corrald_must_succeed(&daemon_, submit_script("true", NULL), 30000));
	before = settle_fds();
	for (size_t i = 0; i < TASKS; i++) {
		if (i % 10 == 0) { /* some at once too */
			for (size_t k = 0; k < 4; k++)
				ids[k] = submit_script("true", "0.1");
			for (size_t k = 0; k < 4; k++)
				free(corrald_must_succeed(&daemon_, ids[k], 30000));
		}
		free(corrald_must_succeed(&daemon_, submit_script("true", NULL), 30000));
	}
	after = settle_fds();
	printf("  corrald's fds: %ld before, %ld after %d tasks (pool refilled)\n", before, after,
	       TASKS + 16);
	assert_int_equal(after, before);
	/* and corrald is still in its own network namespace */
	{
		char path[64], theirs[64], ours[64];
		ssize_t a, b;

		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)daemon_.pid);
		a = readlink(path, theirs, sizeof(theirs) - 1);
		b = readlink("/proc/self/ns/net", ours, sizeof(ours) - 1);
		assert_true(a > 0 && b > 0);
		theirs[a] = ours[b] = '\0';
		assert_string_equal(theirs, ours);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pooled_namespace_has_only_lo_up_and_the_task_cannot_change_it,
					  teardown),
		cmocka_unit_test_teardown(test_without_a_pool_each_jail_makes_its_own_namespace, teardown),
		cmocka_unit_test_teardown(test_no_two_tasks_share_a_namespace, teardown),
		cmocka_unit_test_teardown(test_the_pool_leaves_no_fd_behind, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
