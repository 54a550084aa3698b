/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp_query.c — what a seccomp profile decides, as data and as
 * answers: the argument-check tables (clone's namespace flags, the denied
 * ioctls, setuid/setgid and device modes, socket families, the calls
 * extra_allow never lifts), the verdict per syscall name that the filter
 * compiler (seccomp_rules.c) follows, syscall name resolution, and the
 * seccomp_profile_denies* queries used by tests and `corral policy check`.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sched.h>

#include "runner/seccomp_internal.h"

/* Every namespace flag clone(2) accepts.  CLONE_NEWTIME (0x80) is not here:
 * clone(2) treats the low byte as the exit signal and strips it from the
 * flags, so a time namespace can only come from clone3 or unshare, both
 * denied whole. */
const uint32_t clone_namespace_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* TIOCSTI pushes input into a terminal the task shares with someone else;
 * TIOCLINUX can do the same on a virtual console (selection paste). */
const uint32_t denied_ioctls[] = { TIOCSTI, TIOCLINUX };

/* Modes that may not be set or created: the setuid and setgid bits (one
 * rule per bit: no "any of these bits" test), and for mknod device nodes. */
const struct arg_cube denied_mode_bits[] = {
	{ S_ISUID, S_ISUID },
	{ S_ISGID, S_ISGID },
	{ S_IFMT, S_IFCHR },
	{ S_IFMT, S_IFBLK },
};
#define MODE_CUBES_SETID 2 /* the first two: every mode-checked call */
#define MODE_CUBES_MKNOD 4 /* all four: mknod, mknodat */

/* Where the mode is.  The kernel takes it as umode_t (16 bits); single-bit
 * and S_IFMT tests are not fooled by garbage above that.  open ignores the
 * mode without O_CREAT/O_TMPFILE, but glibc and musl pass 0 then, so any
 * open whose mode has the bits is denied. */
static const struct mode_check mode_checked[] = {
	{ "chmod", 1, MODE_CUBES_SETID },    { "fchmod", 1, MODE_CUBES_SETID },
	{ "fchmodat", 2, MODE_CUBES_SETID }, { "fchmodat2", 2, MODE_CUBES_SETID },
	{ "open", 2, MODE_CUBES_SETID },     { "openat", 3, MODE_CUBES_SETID },
	{ "creat", 1, MODE_CUBES_SETID },    { "mkdir", 1, MODE_CUBES_SETID },
	{ "mkdirat", 2, MODE_CUBES_SETID },  { "mknod", 1, MODE_CUBES_MKNOD },
	{ "mknodat", 2, MODE_CUBES_MKNOD },
};

/*
 * socket(domain, ...): only these families.  AF_VSOCK is not
 * network-namespaced (a jail could listen in the host's vsock port space);
 * AF_ALG, AF_PACKET, AF_KEY, AF_TIPC, AF_RDS, AF_XDP, ... are kernel attack
 * surface no task here needs.  socketpair: only AF_UNIX means anything.
 *
 * The kernel takes domain as an int.  The filter denies every value outside
 * the list compared as a full 64-bit value, so garbage in the upper half
 * cannot smuggle a family past it (such calls are denied; no libc makes
 * them).  The other values are denied as a union of single comparisons:
 *   domain > max(list), or one of the cubes below, which together cover
 *   exactly the values 0..max(list) that are not in the list (checked when
 *   the filter is built, see family_rules_check).
 */
static const uint32_t socket_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const struct arg_cube socket_denied_below_max[] = {
	{ 0x1f, 0 },    /* 0 (and values > 16) */
	{ 0x04, 0x04 }, /* 4-7, 12-15 */
	{ 0x03, 0x03 }, /* 3, 7, 11, 15 */
	{ 0x0e, 0x08 }, /* 8, 9 */
};
static const uint32_t socketpair_families[] = { AF_UNIX };
static const struct arg_cube socketpair_denied_below_max[] = { { 0x1, 0 } }; /* 0 */
static const struct family_rule family_rules[] = {
	{ "socket", socket_families, ARRAY_SIZE(socket_families), socket_denied_below_max,
	  ARRAY_SIZE(socket_denied_below_max) },
	{ "socketpair", socketpair_families, ARRAY_SIZE(socketpair_families), socketpair_denied_below_max,
	  ARRAY_SIZE(socketpair_denied_below_max) },
};

/* fallocate modes that reserve disk without growing the file
 * (FALLOC_FL_KEEP_SIZE, alone or with ZERO_RANGE): RLIMIT_FSIZE does not
 * bound them, so a task could reserve all of a writable bind's host
 * filesystem.  KEEP_SIZE with PUNCH_HOLE frees space and stays allowed, as
 * do mode 0 and the others, which grow the file within RLIMIT_FSIZE. */
const struct arg_cube fallocate_reserving_modes[1] = {
	{ FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE },
};

/* Calls whose arguments the filter checks; never lifted by extra_allow. */
const char *const argument_checked[] = {
	"clone",    "ioctl",     "personality", "socket",    "socketpair", "chmod", "fchmod",
	"fchmodat", "fchmodat2", "open",        "openat",    "creat",      "mkdir", "mkdirat",
	"mknod",    "mknodat",   "prlimit64",   "fallocate", NULL,
};

/* Whole-syscall denials extra_allow may not lift: their arguments live in
 * memory the filter cannot read, so allowing them would bypass the checks
 * on clone (clone3's flags) and on create modes (openat2's struct
 * open_how).  The default profile must be able to deny them, so a
 * libseccomp that does not know their names is an error, not a skip. */
const struct never_allowed_syscall never_allowed[] = {
	{ "clone3",
	  "the filter cannot check its namespace flags (allow 'unshare' if the task "
	  "may create namespaces)" },
	{ "openat2",
	  "the filter cannot check the mode in its struct open_how (programs fall "
	  "back to openat)" },
};

const struct mode_check *mode_check_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(mode_checked); i++)
		if (strcmp(mode_checked[i].name, name) == 0)
			return &mode_checked[i];
	return NULL;
}

const struct family_rule *family_rule_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(family_rules); i++)
		if (strcmp(family_rules[i].name, name) == 0)
			return &family_rules[i];
	return NULL;
}

bool cube_matches(const struct arg_cube *c, uint64_t v)
{
	return (v & c->mask) == c->value;
}

/* ---- the profile as a decision per syscall name ---------------------- */

static bool name_listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static const struct seccomp_denial *deny_list_find(const char *name)
{
	for (const struct seccomp_denial *d = seccomp_deny_list; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

bool profile_valid(enum jail_seccomp_profile profile)
{
	return profile == JAIL_SECCOMP_DEFAULT || profile == JAIL_SECCOMP_STRICT ||
		profile == JAIL_SECCOMP_NONE;
}

/* The one place that decides what a profile does with a syscall; the filter
 * compiler and seccomp_profile_denies() both ask it. */
struct verdict profile_verdict(enum jail_seccomp_profile profile, const char *name,
			       const char *const *extra_allow, const char *const *extra_deny)
{
	const struct seccomp_denial *denial;
	bool lifted = name_listed(extra_allow, name);

	if (profile == JAIL_SECCOMP_NONE)
		return (struct verdict){ VERDICT_ALLOW, 0 };
	if (name_listed(extra_deny, name))
		return (struct verdict){ VERDICT_DENY, EPERM };
	if (name_listed(argument_checked, name))
		return (struct verdict){ VERDICT_CHECK_ARGS, 0 };
	denial = deny_list_find(name);
	if (denial && !lifted)
		return (struct verdict){ VERDICT_DENY, denial->errnum };
	if (profile == JAIL_SECCOMP_DEFAULT || denial || lifted ||
	    name_listed(seccomp_strict_allow_list, name))
		return (struct verdict){ VERDICT_ALLOW, 0 };
	return (struct verdict){ VERDICT_DENY, ENOSYS };
}

static const char *native_arch_name(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "x86_64";
	case SCMP_ARCH_X86:
		return "x86";
	case SCMP_ARCH_X32:
		return "x32";
	case SCMP_ARCH_AARCH64:
		return "aarch64";
	case SCMP_ARCH_ARM:
		return "arm";
	case SCMP_ARCH_RISCV64:
		return "riscv64";
	case SCMP_ARCH_PPC64LE:
		return "ppc64le";
	default:
		return "this architecture";
	}
}

/* The syscall number on the native architecture, or -EINVAL with the
 * message policy files show for a misspelt name. */
int syscall_resolve(const char *name, struct jail_error *err)
{
	int nr = name && *name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;

	/* Negative numbers other than the error are libseccomp's pseudo
	 * syscalls: known on some architecture, but not this one. */
	if (nr < 0) {
		jail_error_set(err, 0, "seccomp_resolve",
			       "unknown syscall '%s' (not in libseccomp's table for %s)",
			       name ? name : "(null)", native_arch_name());
		if (err)
			err->err = EINVAL;
		return -EINVAL;
	}
	return nr;
}

/* ---- queries for tests and tooling ------------------------------------ */

int seccomp_profile_denies(enum jail_seccomp_profile profile, const char *name)
{
	int nr;

	if (!profile_valid(profile))
		return -EINVAL;
	nr = syscall_resolve(name, NULL);
	if (nr < 0)
		return nr;
	return profile_verdict(profile, name, NULL, NULL).kind == VERDICT_DENY;
}

int seccomp_profile_denies_ioctl(enum jail_seccomp_profile profile, unsigned long request)
{
	if (!profile_valid(profile))
		return -EINVAL;
	if (profile == JAIL_SECCOMP_NONE)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(denied_ioctls); i++)
		if ((uint32_t)request == denied_ioctls[i])
			return 1;
	return 0;
}

int seccomp_profile_denies_clone(enum jail_seccomp_profile profile, unsigned long flags)
{
	if (!profile_valid(profile))
		return -EINVAL;
	if (profile == JAIL_SECCOMP_NONE)
		return 0;
	return (flags & CLONE_NAMESPACE_MASK) != 0;
}

int seccomp_profile_denies_mode(enum jail_seccomp_profile profile, const char *name, unsigned long mode)
{
	const struct mode_check *mc = mode_check_find(name);

	if (!profile_valid(profile) || !mc)
		return -EINVAL;
	if (profile == JAIL_SECCOMP_NONE)
		return 0;
	for (size_t i = 0; i < mc->n_cubes; i++)
		if (cube_matches(&denied_mode_bits[i], mode))
			return 1;
	return 0;
}

int seccomp_profile_denies_family(enum jail_seccomp_profile profile, const char *name, unsigned long domain)
{
	const struct family_rule *fr = family_rule_find(name);

	if (!profile_valid(profile) || !fr)
		return -EINVAL;
	if (profile == JAIL_SECCOMP_NONE)
		return 0;
	for (size_t i = 0; i < fr->n_allowed; i++)
		if (domain == fr->allowed[i])
			return 0;
	return 1;
}
