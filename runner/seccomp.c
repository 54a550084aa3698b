/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp.c — the seccomp module's public functions: profile names,
 * jail_filter_compile/free, and installing the BPF in a jail child with the
 * raw seccomp(2) syscall.  Elsewhere: runner/seccomp_profiles.c (the
 * syscall lists), seccomp_query.c (what a profile decides;
 * seccomp_profile_denies*), seccomp_rules.c (building the libseccomp filter
 * and exporting it as BPF), seccomp_builtin.c (the built-in profiles'
 * filters, compiled at build time by runner/gen/seccomp_gen.c).
 *
 * Every filter:
 *  - allows only the native architecture: a foreign-arch syscall (i386 via
 *    int 0x80) kills the process, and libseccomp's x86_64 filter sends x32
 *    syscalls (nr | 0x40000000) to the same bad-arch action;
 *  - denies the deny-list (EPERM; clone3 and openat2 ENOSYS; sync and
 *    syncfs return 0 without reaching the kernel) and checks
 *    these calls' arguments, EPERM when:
 *      clone with any CLONE_NEW* flag; ioctl TIOCSTI/TIOCLINUX; personality
 *      other than PER_LINUX or the 0xffffffff query;
 *      chmod/fchmod/fchmodat/fchmodat2 and the create modes of open, openat,
 *      creat, mkdir, mkdirat, mknod, mknodat with S_ISUID or S_ISGID (a
 *      file in a writable bind would be setuid to the jail's pooled host
 *      uid, which the next tenant's jail reuses); mknod/mknodat of S_IFCHR
 *      or S_IFBLK nodes;
 *      socket with a family other than AF_UNIX, AF_INET, AF_INET6,
 *      AF_NETLINK (AF_VSOCK is not network-namespaced; AF_ALG, AF_PACKET,
 *      ... are attack surface); socketpair other than AF_UNIX.
 *
 * default allows the rest; strict allows its allow-list and returns ENOSYS
 * for the rest (see seccomp_profiles.c for why ENOSYS there).
 *
 * Extra rules (policy files): extra_deny makes a syscall return EPERM in any
 * profile and wins over everything else.  extra_allow lifts a whole-syscall
 * denial of the profile (strict: adds to the allow-list; default: removes a
 * deny-list entry, e.g. ptrace for a debugger).  It never lifts the argument
 * checks above: those calls stay allowed with the checks, so "ioctl" in an
 * allow-list cannot silently re-enable TIOCSTI, nor "chmod" setuid bits, nor
 * "socket" AF_VSOCK; and allowing clone3 or openat2 is an error (their flags
 * and mode are in memory out of the filter's reach).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "runner/seccomp_internal.h"

/* ---- public functions -------------------------------------------------- */

int jail_seccomp_profile_parse(const char *name, enum jail_seccomp_profile *out)
{
	static const enum jail_seccomp_profile all[] = {
		JAIL_SECCOMP_DEFAULT,
		JAIL_SECCOMP_STRICT,
		JAIL_SECCOMP_NONE,
	};

	for (size_t i = 0; name && i < ARRAY_SIZE(all); i++) {
		if (strcmp(name, jail_seccomp_profile_name(all[i])) == 0) {
			if (out)
				*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

const char *jail_seccomp_profile_name(enum jail_seccomp_profile profile)
{
	switch (profile) {
	case JAIL_SECCOMP_DEFAULT:
		return "default";
	case JAIL_SECCOMP_STRICT:
		return "strict";
	case JAIL_SECCOMP_NONE:
		return "none";
	}
	return "unknown";
}

int jail_filter_compile(enum jail_seccomp_profile profile, const char *const *extra_allow,
			const char *const *extra_deny, struct jail_filter **out, struct jail_error *err)
{
	struct jail_filter *filter;
	int r;

	if (out)
		*out = NULL;
	if (!out)
		return jail_error_set(err, EINVAL, "seccomp_compile", "no place for the filter");
	if (!profile_valid(profile))
		return jail_error_set(err, EINVAL, "seccomp_compile", "unknown seccomp profile %d",
				      (int)profile);
	for (size_t i = 0; extra_allow && extra_allow[i]; i++) {
		r = syscall_resolve(extra_allow[i], err);
		if (r < 0)
			return r;
		for (size_t j = 0; j < ARRAY_SIZE(never_allowed); j++)
			if (strcmp(extra_allow[i], never_allowed[j].name) == 0)
				return jail_error_set(err, EINVAL, "seccomp_compile",
						      "syscall '%s' cannot be allowed: %s",
						      never_allowed[j].name, never_allowed[j].why);
	}
	for (size_t i = 0; extra_deny && extra_deny[i]; i++) {
		r = syscall_resolve(extra_deny[i], err);
		if (r < 0)
			return r;
	}
	/* "none" means no filter at all; a denial there would be silently
	 * meaningless, so say so instead. */
	if (profile == JAIL_SECCOMP_NONE && extra_deny && extra_deny[0])
		return jail_error_set(err, EINVAL, "seccomp_compile",
				      "seccomp profile 'none' cannot deny syscalls ('%s'); "
				      "use 'default' or 'strict'",
				      extra_deny[0]);

	filter = calloc(1, sizeof(*filter));
	if (!filter)
		return jail_error_set(err, ENOMEM, "seccomp_compile", "allocate filter");
	r = filter_build(profile, extra_allow, extra_deny, filter, err);
	if (r < 0) {
		jail_filter_free(filter);
		return r;
	}
	*out = filter;
	return 0;
}

void jail_filter_free(struct jail_filter *filter)
{
	if (!filter)
		return;
	free(filter->prog.filter);
	free(filter);
}

int seccomp_install(const struct jail_filter *filter)
{
	if (!filter || filter->prog.len == 0)
		return 0;
	/* The raw syscall: no allocation, safe between clone and execve. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter->prog) != 0)
		return -errno;
	return 0;
}
