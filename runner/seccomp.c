/*
 * runner/seccomp.c — compiling seccomp profiles to classic BPF with
 * libseccomp (once per profile), installing the BPF in a jail child with the
 * raw seccomp(2) syscall, and answering "does this profile deny X?".
 * The syscall lists themselves live in runner/seccomp_profiles.c.
 *
 * Every filter:
 *  - allows only the native architecture: a foreign-arch syscall (i386 via
 *    int 0x80) kills the process, and libseccomp's x86_64 filter sends x32
 *    syscalls (nr | 0x40000000) to the same bad-arch action;
 *  - denies the deny-list (EPERM; clone3 and openat2 ENOSYS) and checks
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
 *
 * libseccomp 2.5.4 has no "not equal under a mask", allows one comparison
 * per argument per rule, and an unconditional ALLOW on a syscall silently
 * drops its EPERM argument rules.  So in strict (default action ENOSYS) the
 * allowed remainder of an argument-checked call is written as a union of
 * single masked comparisons disjoint from the EPERM rules.
 */
#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "runner/seccomp.h"

#if defined(__s390__) || defined(__s390x__) || defined(__CRIS__)
#error "clone's flags are not its first argument on this architecture: fix CLONE_FLAGS_ARG"
#endif
#define CLONE_FLAGS_ARG 0

/* Every namespace flag clone(2) accepts.  CLONE_NEWTIME (0x80) is not here:
 * clone(2) treats the low byte as the exit signal and strips it from the
 * flags, so a time namespace can only come from clone3 or unshare, both
 * denied whole. */
static const uint32_t clone_namespace_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};
#define CLONE_NAMESPACE_MASK (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* TIOCSTI pushes input into a terminal the task shares with someone else;
 * TIOCLINUX can do the same on a virtual console (selection paste). */
static const uint32_t denied_ioctls[] = { TIOCSTI, TIOCLINUX };

#define PERSONALITY_QUERY 0xffffffffUL
#define LOW32 0xffffffffULL

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One masked comparison on an argument: (arg & mask) == value. */
struct arg_cube {
	uint32_t mask, value;
};

/* Modes that may not be set or created: the setuid and setgid bits (one
 * rule per bit: no "any of these bits" test), and for mknod device nodes. */
static const struct arg_cube denied_mode_bits[] = {
	{ S_ISUID, S_ISUID }, { S_ISGID, S_ISGID },
	{ S_IFMT, S_IFCHR }, { S_IFMT, S_IFBLK },
};
#define MODE_CUBES_SETID 2   /* the first two: every mode-checked call */
#define MODE_CUBES_MKNOD 4   /* all four: mknod, mknodat */

/* Where the mode is.  The kernel takes it as umode_t (16 bits); single-bit
 * and S_IFMT tests are not fooled by garbage above that.  open ignores the
 * mode without O_CREAT/O_TMPFILE, but glibc and musl pass 0 then, so any
 * open whose mode has the bits is denied. */
static const struct mode_check {
	const char *name;
	unsigned int arg;
	size_t n_cubes;
} mode_checked[] = {
	{ "chmod", 1, MODE_CUBES_SETID }, { "fchmod", 1, MODE_CUBES_SETID },
	{ "fchmodat", 2, MODE_CUBES_SETID }, { "fchmodat2", 2, MODE_CUBES_SETID },
	{ "open", 2, MODE_CUBES_SETID }, { "openat", 3, MODE_CUBES_SETID },
	{ "creat", 1, MODE_CUBES_SETID }, { "mkdir", 1, MODE_CUBES_SETID },
	{ "mkdirat", 2, MODE_CUBES_SETID }, { "mknod", 1, MODE_CUBES_MKNOD },
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
struct family_rule {
	const char *name;
	const uint32_t *allowed;
	size_t n_allowed;
	const struct arg_cube *below_max;  /* EPERM cubes for 0..max not allowed */
	size_t n_below_max;
};
static const uint32_t socket_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const struct arg_cube socket_denied_below_max[] = {
	{ 0x1f, 0 },   /* 0 (and values > 16) */
	{ 0x04, 0x04 },  /* 4-7, 12-15 */
	{ 0x03, 0x03 },  /* 3, 7, 11, 15 */
	{ 0x0e, 0x08 },  /* 8, 9 */
};
static const uint32_t socketpair_families[] = { AF_UNIX };
static const struct arg_cube socketpair_denied_below_max[] = { { 0x1, 0 } };  /* 0 */
static const struct family_rule family_rules[] = {
	{ "socket", socket_families, ARRAY_SIZE(socket_families),
	  socket_denied_below_max, ARRAY_SIZE(socket_denied_below_max) },
	{ "socketpair", socketpair_families, ARRAY_SIZE(socketpair_families),
	  socketpair_denied_below_max, ARRAY_SIZE(socketpair_denied_below_max) },
};

/* Calls whose arguments the filter checks; never lifted by extra_allow. */
static const char *const argument_checked[] = {
	"clone", "ioctl", "personality", "socket", "socketpair",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "open", "openat", "creat",
	"mkdir", "mkdirat", "mknod", "mknodat", NULL,
};

/* Whole-syscall denials extra_allow may not lift: their arguments live in
 * memory the filter cannot read, so allowing them would bypass the checks
 * on clone (clone3's flags) and on create modes (openat2's struct
 * open_how).  The default profile must be able to deny them, so a
 * libseccomp that does not know their names is an error, not a skip. */
static const struct {
	const char *name;
	const char *why;
} never_allowed[] = {
	{ "clone3", "the filter cannot check its namespace flags (allow 'unshare' if the task "
		    "may create namespaces)" },
	{ "openat2", "the filter cannot check the mode in its struct open_how (programs fall "
		     "back to openat)" },
};

static const struct mode_check *mode_check_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(mode_checked); i++)
		if (strcmp(mode_checked[i].name, name) == 0)
			return &mode_checked[i];
	return NULL;
}

static const struct family_rule *family_rule_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(family_rules); i++)
		if (strcmp(family_rules[i].name, name) == 0)
			return &family_rules[i];
	return NULL;
}

static bool cube_matches(const struct arg_cube *c, uint64_t v)
{
	return (v & c->mask) == c->value;
}

/* ---- the profile as a decision per syscall name ---------------------- */

enum verdict_kind {
	VERDICT_ALLOW,       /* allowed whole */
	VERDICT_CHECK_ARGS,  /* allowed except some arguments (argument_checked) */
	VERDICT_DENY,        /* returns errnum */
};

struct verdict {
	enum verdict_kind kind;
	int errnum;
};

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

static bool profile_valid(enum jail_seccomp_profile profile)
{
	return profile == JAIL_SECCOMP_DEFAULT || profile == JAIL_SECCOMP_STRICT ||
	       profile == JAIL_SECCOMP_NONE;
}

/* The one place that decides what a profile does with a syscall; the filter
 * compiler and seccomp_profile_denies() both ask it. */
static struct verdict profile_verdict(enum jail_seccomp_profile profile, const char *name,
				      const char *const *extra_allow,
				      const char *const *extra_deny)
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
	case SCMP_ARCH_X86_64: return "x86_64";
	case SCMP_ARCH_X86: return "x86";
	case SCMP_ARCH_X32: return "x32";
	case SCMP_ARCH_AARCH64: return "aarch64";
	case SCMP_ARCH_ARM: return "arm";
	case SCMP_ARCH_RISCV64: return "riscv64";
	case SCMP_ARCH_PPC64LE: return "ppc64le";
	default: return "this architecture";
	}
}

/* The syscall number on the native architecture, or -EINVAL with the
 * message policy files show for a misspelt name. */
static int syscall_resolve(const char *name, struct jail_error *err)
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

/* ---- building the libseccomp filter ----------------------------------- */

#define SYSCALL_BITMAP_BITS 8192

struct filter_build {
	scmp_filter_ctx ctx;
	enum jail_seccomp_profile profile;
	uint32_t default_action;
	const char *const *extra_allow;
	const char *const *extra_deny;
	uint64_t added[SYSCALL_BITMAP_BITS / 64];  /* syscalls already given their rules */
	struct jail_error *err;
};

static int rule_add(struct filter_build *b, uint32_t action, int nr, const char *name,
		    unsigned int n_cmp, const struct scmp_arg_cmp *cmp)
{
	int r = seccomp_rule_add_exact_array(b->ctx, action, nr, n_cmp, cmp);

	if (r < 0)
		return jail_error_set(b->err, r, "seccomp_rule_add",
				      "add seccomp rule for '%s'", name);
	return 0;
}

/* clone with any namespace flag -> EPERM (one rule per flag: libseccomp
 * has no "any of these bits" test); strict allows clone without them. */
static int rules_add_clone(struct filter_build *b, int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(clone_namespace_flags); i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ,
						   clone_namespace_flags[i],
						   clone_namespace_flags[i]);
		int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "clone", 1, &cmp);

		if (r < 0)
			return r;
	}
	if (b->profile == JAIL_SECCOMP_STRICT) {
		struct scmp_arg_cmp cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ,
						   CLONE_NAMESPACE_MASK, 0);

		return rule_add(b, SCMP_ACT_ALLOW, nr, "clone", 1, &cmp);
	}
	return 0;
}

/*
 * strict: ALLOW ioctl when the low 32 bits of the request are none of
 * denied_ioctls.  libseccomp 2.5 cannot say "!=" under a mask, cannot test
 * one argument twice in a rule, and an unconditional ALLOW would swallow the
 * EPERM rules, so the complement is written as a union of masked-equal
 * rules.  A request r is not in the set exactly when
 *   (a) r differs from all of them at some bit where they all agree: one
 *       rule per such bit, "that bit is the opposite value", or
 *   (b) r agrees with them on all those bits, and its pattern on the bits
 *       where they disagree (mask D) is none of theirs: one rule per other
 *       pattern of D.
 * For TIOCSTI/TIOCLINUX that is 29 + 6 rules.
 */
static int rules_add_ioctl_allowed(struct filter_build *b, int nr)
{
	uint32_t same = 0xffffffffu, differ = 0;
	size_t n_differ = 0;
	int r;

	for (size_t i = 1; i < ARRAY_SIZE(denied_ioctls); i++)
		differ |= denied_ioctls[0] ^ denied_ioctls[i];
	same &= ~differ;
	for (int bit = 0; bit < 32; bit++) {
		uint32_t m = 1u << bit;
		struct scmp_arg_cmp cmp;

		if (!(same & m))
			continue;
		cmp = SCMP_CMP(1, SCMP_CMP_MASKED_EQ, m, ~denied_ioctls[0] & m);
		r = rule_add(b, SCMP_ACT_ALLOW, nr, "ioctl", 1, &cmp);
		if (r < 0)
			return r;
	}
	n_differ = (size_t)__builtin_popcount(differ);
	if (n_differ > 8)
		return jail_error_set(b->err, E2BIG, "seccomp_rule_add",
				      "denied ioctls differ in too many bits");
	/* Walk every pattern of the bits in D (the subsets of D). */
	for (uint32_t pattern = 0;; pattern = (pattern - differ) & differ) {
		bool denied = false;

		for (size_t i = 0; i < ARRAY_SIZE(denied_ioctls); i++)
			denied |= (denied_ioctls[i] & differ) == pattern;
		if (!denied) {
			struct scmp_arg_cmp cmp = SCMP_CMP(1, SCMP_CMP_MASKED_EQ, differ, pattern);

			r = rule_add(b, SCMP_ACT_ALLOW, nr, "ioctl", 1, &cmp);
			if (r < 0)
				return r;
		}
		if (pattern == differ)
			break;
	}
	return 0;
}

/* ioctl TIOCSTI / TIOCLINUX -> EPERM.  The kernel takes the request as an
 * unsigned int, so only the low 32 bits are compared: garbage in the upper
 * half must not slip a TIOCSTI past the filter. */
static int rules_add_ioctl(struct filter_build *b, int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(denied_ioctls); i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(1, SCMP_CMP_MASKED_EQ, LOW32, denied_ioctls[i]);
		int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "ioctl", 1, &cmp);

		if (r < 0)
			return r;
	}
	if (b->profile == JAIL_SECCOMP_STRICT)
		return rules_add_ioctl_allowed(b, nr);
	return 0;
}

/*
 * personality: only PER_LINUX (0) and the query 0xffffffff, compared as full
 * 64-bit values (anything with upper bits set is denied too: harmless, and no
 * truncation trick can reach a flag).  Everything else -> EPERM, written as
 * a union of single comparisons (see rules_add_ioctl_allowed for why):
 *   a0 > 0xffffffff, or
 *   bit i set and bit i+1 (mod 32) clear, for each i: a 32-bit value that is
 *   neither all zeros nor all ones has such a 1-then-0 step somewhere in its
 *   cyclic bit string, and 0 and 0xffffffff have none.
 * Flags such as ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC or MMAP_PAGE_ZERO only
 * help exploits.
 */
static int rules_add_personality(struct filter_build *b, int nr)
{
	struct scmp_arg_cmp above = SCMP_CMP(0, SCMP_CMP_GT, LOW32);
	int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "personality", 1, &above);

	for (int bit = 0; r == 0 && bit < 32; bit++) {
		uint64_t one = 1ULL << bit, next = 1ULL << ((bit + 1) % 32);
		struct scmp_arg_cmp step = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, one | next, one);

		r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "personality", 1, &step);
	}
	if (r == 0 && b->profile == JAIL_SECCOMP_STRICT) {
		struct scmp_arg_cmp linux_cmp = SCMP_CMP(0, SCMP_CMP_EQ, 0);
		struct scmp_arg_cmp query = SCMP_CMP(0, SCMP_CMP_EQ, PERSONALITY_QUERY);

		r = rule_add(b, SCMP_ACT_ALLOW, nr, "personality", 1, &linux_cmp);
		if (r == 0)
			r = rule_add(b, SCMP_ACT_ALLOW, nr, "personality", 1, &query);
	}
	return r;
}

/*
 * strict: ALLOW the values of argument arg that match none of the denied
 * cubes, as a union of single masked comparisons (see
 * rules_add_ioctl_allowed for why).  Split the space on one bit at a time:
 * a part no denied cube meets becomes an ALLOW rule, a part inside one is
 * dropped, anything else is split again on a bit of a cube that meets it.
 * Bits tested by fewer cubes, and bits the cubes agree on, are split first:
 * for the setuid/setgid bits that gives one rule ((mode & 06000) == 0), for
 * mknod's four cubes three.
 */
struct remainder {
	struct filter_build *b;
	int nr;
	const char *name;
	unsigned int arg;
	const struct arg_cube *denied;
	size_t n_denied;
	int order[32];     /* the bits of the cubes' masks, split order */
	int n_order;
};

static int remainder_split(struct remainder *rm, uint32_t mask, uint32_t value)
{
	bool meets_any = false;
	uint32_t open_bits = 0;

	for (size_t i = 0; i < rm->n_denied; i++) {
		const struct arg_cube *d = &rm->denied[i];

		if (((d->value ^ value) & d->mask & mask) != 0)
			continue;           /* disjoint */
		if ((d->mask & ~mask) == 0)
			return 0;           /* inside a denied cube */
		meets_any = true;
		open_bits |= d->mask & ~mask;
	}
	if (!meets_any) {
		struct scmp_arg_cmp cmp = SCMP_CMP(rm->arg, SCMP_CMP_MASKED_EQ, mask, value);

		return rule_add(rm->b, SCMP_ACT_ALLOW, rm->nr, rm->name, 1, &cmp);
	}
	for (int i = 0; i < rm->n_order; i++) {
		uint32_t bit = 1u << rm->order[i];
		int r;

		if (!(open_bits & bit))
			continue;
		r = remainder_split(rm, mask | bit, value);
		return r < 0 ? r : remainder_split(rm, mask | bit, value | bit);
	}
	return 0;  /* not reached: a meeting cube always has an open bit */
}

static int rules_add_remainder(struct filter_build *b, int nr, const char *name,
			       unsigned int arg, const struct arg_cube *denied, size_t n_denied)
{
	struct remainder rm = {
		.b = b, .nr = nr, .name = name, .arg = arg,
		.denied = denied, .n_denied = n_denied,
	};
	unsigned int key[32];

	for (int bit = 0; bit < 32; bit++) {
		unsigned int users = 0, ones = 0;

		for (size_t i = 0; i < n_denied; i++) {
			if (!(denied[i].mask & (1u << bit)))
				continue;
			users++;
			ones += (denied[i].value >> bit) & 1;
		}
		if (users == 0)
			continue;
		/* fewer users first, then bits the users agree on, then low */
		key[rm.n_order] = users * 128 + (ones != 0 && ones != users) * 64 + (unsigned int)bit;
		rm.order[rm.n_order++] = bit;
	}
	for (int i = 1; i < rm.n_order; i++)   /* insertion sort by key */
		for (int j = i; j > 0 && key[j - 1] > key[j]; j--) {
			unsigned int k = key[j];
			int o = rm.order[j];

			key[j] = key[j - 1];
			rm.order[j] = rm.order[j - 1];
			key[j - 1] = k;
			rm.order[j - 1] = o;
		}
	return remainder_split(&rm, 0, 0);
}

/* Setuid/setgid modes (and for mknod device nodes) -> EPERM. */
static int rules_add_mode(struct filter_build *b, int nr, const struct mode_check *mc)
{
	for (size_t i = 0; i < mc->n_cubes; i++) {
		const struct arg_cube *c = &denied_mode_bits[i];
		struct scmp_arg_cmp cmp = SCMP_CMP(mc->arg, SCMP_CMP_MASKED_EQ, c->mask, c->value);
		int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, mc->name, 1, &cmp);

		if (r < 0)
			return r;
	}
	if (b->profile == JAIL_SECCOMP_STRICT)
		return rules_add_remainder(b, nr, mc->name, mc->arg, denied_mode_bits, mc->n_cubes);
	return 0;
}

static uint32_t family_max(const struct family_rule *fr)
{
	uint32_t max = 0;

	for (size_t i = 0; i < fr->n_allowed; i++)
		if (fr->allowed[i] > max)
			max = fr->allowed[i];
	return max;
}

/* The hand-written cubes must deny exactly 0..max minus the list: a wrong
 * edit of either would open a family or break an allowed one. */
static int family_rules_check(const struct family_rule *fr, struct jail_error *err)
{
	uint32_t max = family_max(fr);

	for (uint32_t v = 0; v <= max; v++) {
		bool allowed = false, denied = false;

		for (size_t i = 0; i < fr->n_allowed; i++)
			allowed |= fr->allowed[i] == v;
		for (size_t i = 0; i < fr->n_below_max; i++)
			denied |= cube_matches(&fr->below_max[i], v);
		if (allowed == denied)
			return jail_error_set(err, EINVAL, "seccomp_compile",
					      "%s: family %u is %s by the filter's rules", fr->name,
					      v, allowed ? "allowed and denied" : "neither allowed nor denied");
	}
	return 0;
}

/* socket/socketpair families outside the list -> EPERM; strict allows the
 * listed ones with one equality each (disjoint from the EPERM rules). */
static int rules_add_family(struct filter_build *b, int nr, const struct family_rule *fr)
{
	struct scmp_arg_cmp above = SCMP_CMP(0, SCMP_CMP_GT, family_max(fr));
	int r = family_rules_check(fr, b->err);

	if (r == 0)
		r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, fr->name, 1, &above);
	for (size_t i = 0; r == 0 && i < fr->n_below_max; i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, fr->below_max[i].mask,
						   fr->below_max[i].value);

		r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, fr->name, 1, &cmp);
	}
	for (size_t i = 0; r == 0 && b->profile == JAIL_SECCOMP_STRICT && i < fr->n_allowed; i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_EQ, fr->allowed[i]);

		r = rule_add(b, SCMP_ACT_ALLOW, nr, fr->name, 1, &cmp);
	}
	return r;
}

static int rules_add_arguments(struct filter_build *b, int nr, const char *name)
{
	const struct mode_check *mc = mode_check_find(name);
	const struct family_rule *fr = family_rule_find(name);

	if (mc)
		return rules_add_mode(b, nr, mc);
	if (fr)
		return rules_add_family(b, nr, fr);
	if (strcmp(name, "clone") == 0)
		return rules_add_clone(b, nr);
	if (strcmp(name, "ioctl") == 0)
		return rules_add_ioctl(b, nr);
	return rules_add_personality(b, nr);
}

/* Give syscall name its rules (once).  Unknown names are an error when
 * they come from the caller, skipped quietly from the built-in lists. */
static int filter_add_syscall(struct filter_build *b, const char *name, bool from_caller)
{
	int nr = syscall_resolve(name, from_caller ? b->err : NULL);
	struct verdict v;
	uint32_t action;

	if (nr < 0)
		return from_caller ? nr : 0;
	if ((size_t)nr < SYSCALL_BITMAP_BITS) {
		if (b->added[nr / 64] & (1ULL << (nr % 64)))
			return 0;
		b->added[nr / 64] |= 1ULL << (nr % 64);
	}
	v = profile_verdict(b->profile, name, b->extra_allow, b->extra_deny);
	if (v.kind == VERDICT_CHECK_ARGS)
		return rules_add_arguments(b, nr, name);
	action = v.kind == VERDICT_ALLOW ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO((uint32_t)v.errnum);
	if (action == b->default_action)
		return 0;
	return rule_add(b, action, nr, name, 0, NULL);
}

static int filter_add_list(struct filter_build *b, const char *const *names, bool from_caller)
{
	for (size_t i = 0; names && names[i]; i++) {
		int r = filter_add_syscall(b, names[i], from_caller);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Export ctx as classic BPF into prog (malloc'd filter).  libseccomp 2.5.4
 * only exports to an fd, so it goes through a memfd. */
static int filter_export(scmp_filter_ctx ctx, struct sock_fprog *prog, struct jail_error *err)
{
	struct sock_filter *insns = NULL;
	struct stat st;
	size_t size, done = 0;
	int r, fd;

	fd = memfd_create("corral-seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return jail_error_set(err, errno, "seccomp_export", "create memfd for the BPF");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0) {
		r = jail_error_set(err, r, "seccomp_export", "export seccomp filter as BPF");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = jail_error_set(err, errno, "seccomp_export", "stat the exported BPF");
		goto out;
	}
	size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = jail_error_set(err, EINVAL, "seccomp_export",
				   "exported BPF has an impossible size (%zu bytes)", size);
		goto out;
	}
	insns = malloc(size);
	if (!insns) {
		r = jail_error_set(err, ENOMEM, "seccomp_export", "allocate %zu bytes of BPF", size);
		goto out;
	}
	while (done < size) {
		ssize_t n = pread(fd, (char *)insns + done, size - done, (off_t)done);

		if (n <= 0) {
			r = jail_error_set(err, n < 0 ? errno : EIO, "seccomp_export",
					   "read back the exported BPF");
			goto out;
		}
		done += (size_t)n;
	}
	prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	prog->filter = insns;
	insns = NULL;
	r = 0;
out:
	free(insns);
	close(fd);
	return r;
}

/* Compile profile + extras into out->prog.  Extra names must already be
 * validated by the caller (they are re-resolved here anyway). */
static int filter_build(enum jail_seccomp_profile profile, const char *const *extra_allow,
			const char *const *extra_deny, struct jail_filter *out,
			struct jail_error *err)
{
	struct filter_build *b;
	int r;

	out->profile = profile;
	out->prog.len = 0;
	out->prog.filter = NULL;
	if (profile == JAIL_SECCOMP_NONE)
		return 0;

	/* The bitmap makes this ~1 KiB: keep it off the child-sized stacks. */
	b = calloc(1, sizeof(*b));
	if (!b)
		return jail_error_set(err, ENOMEM, "seccomp_compile", "allocate filter state");
	b->profile = profile;
	b->default_action = profile == JAIL_SECCOMP_DEFAULT ? SCMP_ACT_ALLOW
							    : SCMP_ACT_ERRNO(ENOSYS);
	b->extra_allow = extra_allow;
	b->extra_deny = extra_deny;
	b->err = err;
	b->ctx = seccomp_init(b->default_action);
	if (!b->ctx) {
		r = jail_error_set(err, ENOMEM, "seccomp_compile", "initialise libseccomp filter");
		goto out;
	}
	r = seccomp_attr_set(b->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		r = jail_error_set(err, r, "seccomp_compile", "set the foreign-architecture action");
		goto out;
	}
	/* Binary search over syscall numbers: strict has ~200 rules. */
	r = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0) {
		r = jail_error_set(err, r, "seccomp_compile", "enable the filter's binary tree");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(never_allowed); i++) {
		if (seccomp_syscall_resolve_name(never_allowed[i].name) < 0) {
			r = jail_error_set(err, ENOSYS, "seccomp_compile",
					   "libseccomp does not know '%s': the filter could not deny "
					   "it (upgrade libseccomp)", never_allowed[i].name);
			goto out;
		}
	}
	for (const struct seccomp_denial *d = seccomp_deny_list; d->name; d++) {
		r = filter_add_syscall(b, d->name, false);
		if (r < 0)
			goto out;
	}
	r = filter_add_list(b, argument_checked, false);
	if (r == 0 && profile == JAIL_SECCOMP_STRICT)
		r = filter_add_list(b, seccomp_strict_allow_list, false);
	if (r == 0)
		r = filter_add_list(b, extra_deny, true);
	if (r == 0)
		r = filter_add_list(b, extra_allow, true);
	if (r == 0)
		r = filter_export(b->ctx, &out->prog, err);
out:
	if (b->ctx)
		seccomp_release(b->ctx);
	free(b);
	return r;
}

/* ---- public functions -------------------------------------------------- */

int jail_seccomp_profile_parse(const char *name, enum jail_seccomp_profile *out)
{
	static const enum jail_seccomp_profile all[] = {
		JAIL_SECCOMP_DEFAULT, JAIL_SECCOMP_STRICT, JAIL_SECCOMP_NONE,
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
	case JAIL_SECCOMP_DEFAULT: return "default";
	case JAIL_SECCOMP_STRICT: return "strict";
	case JAIL_SECCOMP_NONE: return "none";
	}
	return "unknown";
}

int jail_filter_compile(enum jail_seccomp_profile profile, const char *const *extra_allow,
			const char *const *extra_deny, struct jail_filter **out,
			struct jail_error *err)
{
	struct jail_filter *filter;
	int r;

	if (out)
		*out = NULL;
	if (!out)
		return jail_error_set(err, EINVAL, "seccomp_compile", "no place for the filter");
	if (!profile_valid(profile))
		return jail_error_set(err, EINVAL, "seccomp_compile",
				      "unknown seccomp profile %d", (int)profile);
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
				      "use 'default' or 'strict'", extra_deny[0]);

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

const struct jail_filter *seccomp_builtin(enum jail_seccomp_profile profile, struct jail_error *err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct jail_filter cache[3];
	static bool compiled[3];
	const struct jail_filter *filter = NULL;
	int r;

	if (!profile_valid(profile)) {
		jail_error_set(err, EINVAL, "seccomp_compile", "unknown seccomp profile %d",
			       (int)profile);
		return NULL;
	}
	r = pthread_mutex_lock(&lock);
	if (r != 0) {
		jail_error_set(err, r, "seccomp_compile", "lock the filter cache");
		return NULL;
	}
	if (!compiled[profile]) {
		r = filter_build(profile, NULL, NULL, &cache[profile], err);
		compiled[profile] = r == 0;
	}
	if (compiled[profile])
		filter = &cache[profile];
	pthread_mutex_unlock(&lock);
	return filter;
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

int seccomp_profile_denies_mode(enum jail_seccomp_profile profile, const char *name,
				unsigned long mode)
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

int seccomp_profile_denies_family(enum jail_seccomp_profile profile, const char *name,
				  unsigned long domain)
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
