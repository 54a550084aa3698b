/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp.h — internal to runner/: seccomp filters.  The built-in
 * profiles are compiled with libseccomp at build time, a profile with extra
 * rules once at run time, both exported as classic BPF; a jail installs the
 * BPF with the raw seccomp(2) syscall (cheap, no allocation, safe in the
 * cloned child).
 */
#ifndef CORRAL_RUNNER_SECCOMP_H
#define CORRAL_RUNNER_SECCOMP_H

#include <linux/filter.h>

#include "runner/jail.h"

struct jail_filter {
	enum jail_seccomp_profile profile;
	struct sock_fprog prog; /* len 0 / filter NULL for JAIL_SECCOMP_NONE */
};

/* The built-in profile's filter, compiled at build time (static: never free
 * it).  NULL (err filled) for an unknown profile. */
const struct jail_filter *seccomp_builtin(enum jail_seccomp_profile profile, struct jail_error *err);

/* Install filter in the calling process (no_new_privs must already be set).
 * Async-signal-safe: no allocation.  NULL or a NONE filter: nothing, 0. */
int seccomp_install(const struct jail_filter *filter);

/* For tests and `corral policy check`: 1 if the profile (with no extra rules)
 * denies syscall name outright, 0 if it allows it (or only some arguments
 * are denied: check with seccomp_profile_denies_ioctl etc.), -errno. */
int seccomp_profile_denies(enum jail_seccomp_profile profile, const char *name);

/* Like seccomp_profile_denies for the argument-checked calls: 1 if the
 * profile denies ioctl(fd, request, ...) (TIOCSTI, TIOCLINUX; only the low
 * 32 bits of request count, as in the kernel), 0 if not, -EINVAL. */
int seccomp_profile_denies_ioctl(enum jail_seccomp_profile profile, unsigned long request);
/* 1 if the profile denies clone(flags, ...) (any CLONE_NEW* flag), 0, -EINVAL. */
int seccomp_profile_denies_clone(enum jail_seccomp_profile profile, unsigned long flags);
/* 1 if the profile denies the mode argument of name (chmod, fchmod,
 * fchmodat, fchmodat2, open, openat, creat, mkdir, mkdirat: S_ISUID or
 * S_ISGID; mknod, mknodat: those or an S_IFCHR/S_IFBLK node), 0 if not,
 * -EINVAL for another name. */
int seccomp_profile_denies_mode(enum jail_seccomp_profile profile, const char *name, unsigned long mode);
/* 1 if the profile denies name ("socket": any family but AF_UNIX, AF_INET,
 * AF_INET6, AF_NETLINK; "socketpair": any but AF_UNIX) for domain, compared
 * as the full 64-bit register (garbage above the int is denied), 0 if not,
 * -EINVAL for another name. */
int seccomp_profile_denies_family(enum jail_seccomp_profile profile, const char *name, unsigned long domain);

/* The built-in lists (runner/seccomp_profiles.c). */
struct seccomp_denial {
	const char *name; /* syscall name as libseccomp spells it */
	int errnum;       /* what the denied call returns (EPERM or ENOSYS; 0: it
			     * returns 0 without reaching the kernel) */
};
extern const struct seccomp_denial seccomp_deny_list[]; /* both profiles; ends {NULL, 0} */
extern const char *const seccomp_strict_allow_list[];   /* strict only; NULL-terminated */

#endif
