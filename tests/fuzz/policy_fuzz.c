/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/policy_fuzz.c — libFuzzer target: any bytes as a policy file.
 * Loads from a buffer (includes refused: no filesystem access), then, when
 * the policy is valid, runs every lookup.  Must never crash or leak.
 *
 * Seeds (tests/fuzz/corpus/policy_fuzz): one small file per section type
 * and per kind of error, and the example policy without its comments.
 * Small seeds keep the fuzzer's inputs short (libFuzzer grows the length
 * limit from the largest seed): the commented 7.5 KB example made every
 * input several KiB, about half the executions per second, and reached
 * fewer branches (covered: ~900 -> ~1,070 in 20 s).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where lengths go, so reading the strings is not optimised away. */
static volatile size_t sink;

static void exercise(const struct policy *p)
{
	const char *const groups[] = { "wheel", "staff", NULL };
	struct policy_limits limits;
	char line[64];

	(void)policy_supervisor(p);
	(void)policy_is_operator(p, "root", groups);
	(void)policy_may_use(p, "alice", groups);
	(void)policy_tenant_of(p, "alice", "staff");
	(void)policy_default_plan(p);
	for (int kind = POLICY_PLANS; kind <= POLICY_PROFILES; kind++) {
		size_t n = policy_count(p, (enum policy_kind)kind);

		for (size_t i = 0; i < n; i++) {
			const char *name = policy_name_at(p, (enum policy_kind)kind, i);

			if (kind == POLICY_PLANS && policy_plan_limits(p, name, &limits) == 0)
				(void)policy_profile(p, limits.profile);
			if (kind == POLICY_USERS && policy_limits_for(p, name, &limits) == 0)
				(void)policy_format_cpus(limits.cpu_millis, line, sizeof(line));
			if (kind == POLICY_PROFILES)
				(void)policy_profile(p, name);
		}
	}
	(void)policy_limits_for(p, "nobody-in-particular", &limits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	char line[1024];

	if (policy_load_buffer("fuzz.conf", (const char *)data, size, POLICY_LOAD_NO_INCLUDE, &p, &errors) ==
	    0)
		exercise(p);
	/* Every error's strings are read (ASan checks them); a few are also
	 * formatted, which is enough for the formatter: a snprintf() of each
	 * of dozens of errors was a fifth of the cost of an input. */
	for (size_t i = 0; i < errors.count; i++) {
		const struct policy_error *e = &errors.items[i];
		size_t n = strlen(e->file) + strlen(e->message) + (e->key ? strlen(e->key) : 0);

		if (i < 4 || i + 1 == errors.count)
			n += (size_t)policy_error_format(e, line, sizeof(line));
		sink += n;
	}
	policy_free(p);
	policy_errors_free(&errors);
	return 0;
}
