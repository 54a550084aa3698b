/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp_builtin.c — the built-in profiles' filters, compiled at
 * build time: runner/gen/seccomp_gen.c runs the same libseccomp compiler a
 * profile with extra rules uses at run time (runner/seccomp_rules.c) and
 * writes the BPF to $(BUILD)/runner/seccomp_gen_bpf.h, included here.  A jail
 * with a built-in profile then costs no libseccomp call at all (it cost
 * ~0.8 ms of every corral-run).  tests/unit/test_seccomp.c checks that
 * these programs equal what libseccomp compiles now for the same rules.
 */
#include <errno.h>
#include <linux/filter.h>

#include "runner/seccomp_internal.h"
#include "runner/seccomp_gen_bpf.h" /* generated: $(BUILD)/runner/ */

/* sock_fprog's filter is not const; the kernel only reads it */
static const struct jail_filter builtin[] = {
	[JAIL_SECCOMP_DEFAULT] = { .profile = JAIL_SECCOMP_DEFAULT,
				   .prog = { .len = ARRAY_SIZE(seccomp_gen_default),
					     .filter = (struct sock_filter *)seccomp_gen_default } },
	[JAIL_SECCOMP_STRICT] = { .profile = JAIL_SECCOMP_STRICT,
				  .prog = { .len = ARRAY_SIZE(seccomp_gen_strict),
					    .filter = (struct sock_filter *)seccomp_gen_strict } },
	[JAIL_SECCOMP_NONE] = { .profile = JAIL_SECCOMP_NONE },
};

const struct jail_filter *seccomp_builtin(enum jail_seccomp_profile profile, struct jail_error *err)
{
	if (!profile_valid(profile) || (size_t)profile >= ARRAY_SIZE(builtin)) {
		jail_error_set(err, EINVAL, "seccomp_compile", "unknown seccomp profile %d", (int)profile);
		return NULL;
	}
	return &builtin[profile];
}
