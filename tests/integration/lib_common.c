/*
 * tests/integration/lib_common.c — loud skips and build paths for the
 * integration tests.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/jail.h"
#include "tests/integration/lib_common.h"

void test_skip_loudly(const char *fmt, ...)
{
	char why[512];
	va_list ap;
	const char *must = getenv("CORRAL_MUST_WORK");

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (must && strcmp(must, "1") == 0) {
		fail_msg("CORRAL_MUST_WORK=1 but this test would skip: %s", why);
		return;
	}
	fprintf(stderr, "SKIP: %s\n", why);
	skip();
}

void test_require_root(void)
{
	static bool init_set;
	struct jail_error err;

	if (geteuid() != 0)
		test_skip_loudly("needs root (real namespaces and cgroups); run as root");
	/* the test binaries live below the build dir, not beside corral-init */
	if (!init_set) {
		if (jail_set_init_path(test_build_path("corral-init"), &err) < 0)
			fail_msg("jail_set_init_path(%s): %s", test_build_path("corral-init"), err.message);
		init_set = true;
	}
}

const char *test_build_path(const char *rel)
{
	static char buf[4096];
	const char *build = getenv("CORRAL_BUILD");

	snprintf(buf, sizeof(buf), "%s/%s", build && *build ? build : "build", rel);
	return buf;
}

unsigned test_host_uid(void)
{
	return 7100000u + (unsigned)getpid() % 100000u;
}
