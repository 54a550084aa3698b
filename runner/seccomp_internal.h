/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp_internal.h — what runner/seccomp.c, seccomp_query.c and
 * seccomp_rules.c share: the argument-check tables, the verdict a profile
 * gives a syscall, name resolution, and the filter compiler.  Not for other
 * files (they use runner/seccomp.h).
 */
#ifndef CORRAL_RUNNER_SECCOMP_INTERNAL_H
#define CORRAL_RUNNER_SECCOMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/sched.h>

#include "runner/seccomp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CLONE_NAMESPACE_MASK                                                                          \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
	 CLONE_NEWNET)

/* One masked comparison on an argument: (arg & mask) == value. */
struct arg_cube {
	uint32_t mask, value;
};

/* A mode-checked call: the mode is argument arg, denied when it matches one
 * of the first n_cubes of denied_mode_bits. */
struct mode_check {
	const char *name;
	unsigned int arg;
	size_t n_cubes;
};

/* socket/socketpair: the allowed families and the cubes that deny the rest
 * of 0..max(allowed) (see seccomp_query.c). */
struct family_rule {
	const char *name;
	const uint32_t *allowed;
	size_t n_allowed;
	const struct arg_cube *below_max; /* EPERM cubes for 0..max not allowed */
	size_t n_below_max;
};

/* A whole-syscall denial extra_allow may not lift, and why. */
struct never_allowed_syscall {
	const char *name;
	const char *why;
};

enum verdict_kind {
	VERDICT_ALLOW,      /* allowed whole */
	VERDICT_CHECK_ARGS, /* allowed except some arguments (argument_checked) */
	VERDICT_DENY,       /* returns errnum */
};

struct verdict {
	enum verdict_kind kind;
	int errnum;
};

/* ---- seccomp_query.c ----------------------------------------------------
 * The sizes are spelt out so ARRAY_SIZE works in every file; a table that
 * grows without its declaration here is a compile error. */
extern const uint32_t clone_namespace_flags[7];
extern const uint32_t denied_ioctls[2];
extern const struct arg_cube denied_mode_bits[4];
extern const struct arg_cube fallocate_reserving_modes[1];
extern const char *const argument_checked[]; /* NULL-terminated */
extern const struct never_allowed_syscall never_allowed[2];

const struct mode_check *mode_check_find(const char *name);
const struct family_rule *family_rule_find(const char *name);
bool cube_matches(const struct arg_cube *c, uint64_t v);
bool profile_valid(enum jail_seccomp_profile profile);
/* The one place that decides what a profile does with a syscall. */
struct verdict profile_verdict(enum jail_seccomp_profile profile, const char *name,
			       const char *const *extra_allow, const char *const *extra_deny);
/* The syscall number on the native architecture, or -EINVAL (message in err). */
int syscall_resolve(const char *name, struct jail_error *err);

/* ---- seccomp_rules.c ---------------------------------------------------- */

/* Compile profile + extras into out->prog (malloc'd filter; none for NONE). */
int filter_build(enum jail_seccomp_profile profile, const char *const *extra_allow,
		 const char *const *extra_deny, struct jail_filter *out, struct jail_error *err);

#endif
