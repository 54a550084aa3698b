/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_jail_sockmem.c — socket buffers count against the
 * jail's memory limit (issue 16): a --memory 64M jail pinned 256 MiB of TCP
 * buffers on a hybrid host, because v1 charges sockets only to a memory
 * cgroup whose memory.kmem.tcp.limit_in_bytes was written.  The probe is
 * tests/integration/probes/sockmem.c, copied to /t/sockmem; it pins
 * buffers over the jail's own loopback (its own network namespace).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

#define MiB (1024ULL * 1024)

static void install_probe(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/sockmem' && chmod 0755 '%s/sockmem'",
		 test_build_path("tests/probes/sockmem"), test_jail_dir(), test_jail_dir());
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* The number after "pinned: " in out, or -1 when the probe did not get there. */
static long long pinned_of(const char *out)
{
	const char *p = strstr(out, "pinned: ");

	return p ? strtoll(p + 8, NULL, 10) : -1;
}

/* Run the probe (tcp or udp) in a 64 MiB jail and check that what it
 * pinned stayed within the limit, or that the OOM killer ended it. */
static void expect_bounded(const char *kind)
{
	char *const argv[] = { "/t/sockmem", (char *)kind, "192", NULL };
	struct jail_spec spec;
	struct test_run run;
	long long pinned;

	test_require_root();
	install_probe();
	test_spec(&spec, argv);
	spec.memory_bytes = 64 * MiB;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	pinned = pinned_of(run.out);
	print_message("%s: status %d, pinned %lld MiB, memory_peak %llu MiB\n", kind, run.result.status,
		      pinned < 0 ? pinned : pinned / (long long)MiB,
		      (unsigned long long)(run.result.memory_peak_bytes / MiB));
	if (run.result.status == JAIL_OOM)
		return; /* charged: the limit's OOM killer ended it */
	if (run.result.status != JAIL_OK)
		fail_msg("the probe failed (status %d): %s%s", run.result.status, run.out, run.err);
	assert_true(pinned >= 0);
	/* the limit, plus what the kernel forces past it (a FIN, a retransmit) */
	if (pinned > (long long)(72 * MiB))
		fail_msg("a 64 MiB jail holds %lld MiB of %s buffers:\n%s", pinned / (long long)MiB, kind,
			 run.out);
	/* and the result says so: the buffers were charged to the jail */
	assert_true(run.result.memory_peak_bytes >= (uint64_t)pinned);
}

/* Writers over loopback whose readers never read: on old hybrid hosts the
 * jail queued 184 of the 192 MiB it asked for with a 64 MiB limit.  Now the
 * kernel refuses buffers past the limit (v1: memory.kmem.tcp, v2:
 * memory.max), or the memory limit's OOM killer ends the task. */
static void test_tcp_buffers_are_bounded_by_the_memory_limit(void **state)
{
	(void)state;
	expect_bounded("tcp");
}

/* The same with datagrams queued at receivers that never read. */
static void test_udp_buffers_are_bounded_by_the_memory_limit(void **state)
{
	(void)state;
	expect_bounded("udp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tcp_buffers_are_bounded_by_the_memory_limit,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_udp_buffers_are_bounded_by_the_memory_limit,
					  test_jail_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, test_jail_group_teardown);
}
