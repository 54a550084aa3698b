/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/seccomp_rules.c — building a profile's libseccomp filter: the
 * whole-syscall rules from the verdicts (seccomp_query.c), the argument
 * checks on clone, ioctl, personality, modes, socket families, prlimit64 and
 * fallocate, strict's
 * allowed remainders of those calls as unions of masked comparisons, the
 * export of the result as classic BPF, and the raw prefix that makes every
 * syscall newer than the profiles ENOSYS.
 *
 * libseccomp 2.5.4 has no "not equal under a mask", allows one comparison
 * per argument per rule, and an unconditional ALLOW on a syscall silently
 * drops its EPERM argument rules.  So in strict (default action ENOSYS) the
 * allowed remainder of an argument-checked call is written as a union of
 * single masked comparisons disjoint from the EPERM rules.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/seccomp_internal.h"

#if defined(__s390__) || defined(__s390x__) || defined(__CRIS__)
#error "clone's flags are not its first argument on this architecture: fix CLONE_FLAGS_ARG"
#endif
#define CLONE_FLAGS_ARG 0

#define PERSONALITY_QUERY 0xffffffffUL
#define LOW32 0xffffffffULL

/* ---- building the libseccomp filter ----------------------------------- */

#define SYSCALL_BITMAP_BITS 8192

struct filter_build {
	scmp_filter_ctx ctx;
	enum jail_seccomp_profile profile;
	uint32_t default_action;
	const char *const *extra_allow;
	const char *const *extra_deny;
	uint64_t added[SYSCALL_BITMAP_BITS / 64]; /* syscalls already given their rules */
	struct jail_error *err;
};

static int rule_add(struct filter_build *b, uint32_t action, int nr, const char *name, unsigned int n_cmp,
		    const struct scmp_arg_cmp *cmp)
{
	int r = seccomp_rule_add_exact_array(b->ctx, action, nr, n_cmp, cmp);

	if (r < 0)
		return jail_error_set(b->err, r, "seccomp_rule_add", "add seccomp rule for '%s'", name);
	return 0;
}

/* clone with any namespace flag -> EPERM (one rule per flag: libseccomp
 * has no "any of these bits" test); strict allows clone without them. */
static int rules_add_clone(struct filter_build *b, int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(clone_namespace_flags); i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ,
						   clone_namespace_flags[i], clone_namespace_flags[i]);
		int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "clone", 1, &cmp);

		if (r < 0)
			return r;
	}
	if (b->profile == JAIL_SECCOMP_STRICT) {
		struct scmp_arg_cmp cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, CLONE_NAMESPACE_MASK,
						   0);

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
	int order[32]; /* the bits of the cubes' masks, split order */
	int n_order;
};

static int remainder_split(struct remainder *rm, uint32_t mask, uint32_t value)
{
	bool meets_any = false;
	uint32_t open_bits = 0;

	for (size_t i = 0; i < rm->n_denied; i++) {
		const struct arg_cube *d = &rm->denied[i];

		if (((d->value ^ value) & d->mask & mask) != 0)
			continue; /* disjoint */
		if ((d->mask & ~mask) == 0)
			return 0; /* inside a denied cube */
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
	return 0; /* not reached: a meeting cube always has an open bit */
}

static int rules_add_remainder(struct filter_build *b, int nr, const char *name, unsigned int arg,
			       const struct arg_cube *denied, size_t n_denied)
{
	struct remainder rm = {
		.b = b,
		.nr = nr,
		.name = name,
		.arg = arg,
		.denied = denied,
		.n_denied = n_denied,
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
	for (int i = 1; i < rm.n_order; i++) /* insertion sort by key */
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
					      "%s: family %u is %s by the filter's rules", fr->name, v,
					      allowed ? "allowed and denied" : "neither allowed nor denied");
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

/*
 * prlimit64 on another process (pid != 0) -> EPERM: the jail's init runs as
 * the task's uid, and prlimit64 asks nothing more than a uid/gid match, so a
 * task could lower corral-init's RLIMIT_FSIZE (init then writes neither the
 * capped output nor the status file) or RLIMIT_CPU (the kernel kills init).
 * getrlimit/setrlimit/prlimit on oneself pass pid 0.  The pid is compared as
 * a full 64-bit value: upper bits set are denied too.
 */
static int rules_add_prlimit(struct filter_build *b, int nr)
{
	struct scmp_arg_cmp other = SCMP_CMP(0, SCMP_CMP_NE, 0);
	int r = rule_add(b, SCMP_ACT_ERRNO(EPERM), nr, "prlimit64", 1, &other);

	if (r == 0 && b->profile == JAIL_SECCOMP_STRICT) {
		struct scmp_arg_cmp self = SCMP_CMP(0, SCMP_CMP_EQ, 0);

		r = rule_add(b, SCMP_ACT_ALLOW, nr, "prlimit64", 1, &self);
	}
	return r;
}

/* fallocate reserving disk past the file's size (fallocate_reserving_modes)
 * -> EOPNOTSUPP, what a filesystem answers for a mode it lacks: callers
 * (posix_fallocate users, rsync --preallocate, databases) go on without. */
static int rules_add_fallocate(struct filter_build *b, int nr)
{
	const struct arg_cube *c = &fallocate_reserving_modes[0];
	struct scmp_arg_cmp cmp = SCMP_CMP(1, SCMP_CMP_MASKED_EQ, c->mask, c->value);
	int r = rule_add(b, SCMP_ACT_ERRNO(EOPNOTSUPP), nr, "fallocate", 1, &cmp);

	if (r == 0 && b->profile == JAIL_SECCOMP_STRICT)
		r = rules_add_remainder(b, nr, "fallocate", 1, fallocate_reserving_modes,
					ARRAY_SIZE(fallocate_reserving_modes));
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
	if (strcmp(name, "prlimit64") == 0)
		return rules_add_prlimit(b, nr);
	if (strcmp(name, "fallocate") == 0)
		return rules_add_fallocate(b, nr);
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

/*
 * Syscalls newer than the profiles.  The deny-list can only name what the
 * installed libseccomp knows, and a syscall added to the kernel later is
 * allowed by the default profile without anyone having looked at it
 * (statmount, listmount, the *xattrat calls, open_tree_attr, file_setattr,
 * mseal, ...).  So every native syscall number above the last one the
 * profiles were written for returns ENOSYS, as if the kernel were older:
 * callers fall back to the old calls.  Written in raw BPF ahead of
 * libseccomp's program (which reloads arch and nr itself; classic BPF jumps
 * are relative and forward only, so a prefix leaves it intact):
 *
 *   0  A = arch
 *   1  if A != native arch goto 6
 *   2  A = nr
 *   3  if A >= 0x40000000 goto 7       (x32: libseccomp kills it)
 *   4  if A <= LAST_KNOWN goto 7
 *   5  return ERRNO(ENOSYS)
 *   6  return KILL_PROCESS             (foreign ABIs, as libseccomp does)
 *   7  libseccomp's program
 *
 * Since Linux 5.1 every architecture numbers new syscalls alike (424 up);
 * 456 (futex_requeue, Linux 6.7) is the last one our lists consider, on all
 * the architectures below.  Other architectures (arm's private calls live
 * at 0x0f0000) get no cap.
 */
#define SECCOMP_LAST_KNOWN_NR 456u
#define SECCOMP_X32_BIT 0x40000000u

#if defined(__x86_64__) && !defined(__ILP32__)
#define SECCOMP_CAP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_CAP_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define SECCOMP_CAP_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_CAP_ARCH AUDIT_ARCH_PPC64LE
#endif

static int filter_cap_new_syscalls(struct sock_fprog *prog, struct jail_error *err)
{
#ifdef SECCOMP_CAP_ARCH
	const struct sock_filter prefix[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_CAP_ARCH, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SECCOMP_X32_BIT, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, SECCOMP_LAST_KNOWN_NR, 0, 2),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	size_t n = ARRAY_SIZE(prefix);
	struct sock_filter *insns;

	if (prog->len + n > BPF_MAXINSNS)
		return jail_error_set(err, E2BIG, "seccomp_compile",
				      "the filter has too many instructions (%u)", prog->len);
	insns = malloc((prog->len + n) * sizeof(*insns));
	if (!insns)
		return jail_error_set(err, ENOMEM, "seccomp_compile", "allocate the filter");
	memcpy(insns, prefix, sizeof(prefix));
	memcpy(insns + n, prog->filter, prog->len * sizeof(*insns));
	free(prog->filter);
	prog->filter = insns;
	prog->len = (unsigned short)(prog->len + n);
#else
	(void)prog;
	(void)err;
#endif
	return 0;
}

/* Compile profile + extras into out->prog.  Extra names must already be
 * validated by the caller (they are re-resolved here anyway). */
int filter_build(enum jail_seccomp_profile profile, const char *const *extra_allow,
		 const char *const *extra_deny, struct jail_filter *out, struct jail_error *err)
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
	b->default_action = profile == JAIL_SECCOMP_DEFAULT ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(ENOSYS);
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
					   "it (upgrade libseccomp)",
					   never_allowed[i].name);
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
	if (r == 0)
		r = filter_cap_new_syscalls(&out->prog, err);
out:
	if (b->ctx)
		seccomp_release(b->ctx);
	free(b);
	return r;
}
