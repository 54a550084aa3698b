/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/profiles.c — [profile NAME]: the jail a plan's tasks run in.
 * Binds, tmpfs mounts, environment, working directory, hostname, network,
 * seccomp (syscall names checked against libseccomp's tables), uid inside
 * the jail, rlimits.  Every field gets its effective value here, so callers
 * never need to know the defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "policy/internal.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

enum profile_key {
	FK_BIND_RO,
	FK_BIND_RW,
	FK_TMPFS,
	FK_TMP_SIZE,
	FK_WORK_SIZE,
	FK_ENV,
	FK_CWD,
	FK_HOSTNAME,
	FK_NETWORK,
	FK_SECCOMP,
	FK_SECCOMP_ALLOW,
	FK_SECCOMP_DENY,
	FK_UID,
	FK_GID,
	FK_RLIMIT_NOFILE,
	FK_RLIMIT_FSIZE,
	FK_RLIMIT_STACK,
	FK_ARTIFACTS,
	FK_COUNT,
};

static const char *const profile_keys[FK_COUNT + 1] = {
	"bind_ro",       "bind_rw",      "tmpfs",        "tmp_size",      "work_size",    "env", "cwd",
	"hostname",      "network",      "seccomp",      "seccomp_allow", "seccomp_deny", "uid", "gid",
	"rlimit_nofile", "rlimit_fsize", "rlimit_stack", "artifacts",     NULL,
};

static const struct key_def profile_numbers[FK_COUNT] = {
	[FK_TMP_SIZE] = { "tmp_size", VALUE_SIZE, 1 * MiB, 64 * GiB, 0 },
	[FK_WORK_SIZE] = { "work_size", VALUE_SIZE, 1 * MiB, 64 * GiB, 0 },
	[FK_UID] = { "uid", VALUE_COUNT, 1, 65534, 0 },
	[FK_GID] = { "gid", VALUE_COUNT, 1, 65534, 0 },
	[FK_RLIMIT_NOFILE] = { "rlimit_nofile", VALUE_COUNT, 16, 1048576, 0 },
	[FK_RLIMIT_FSIZE] = { "rlimit_fsize", VALUE_SIZE, 4 * KiB, 1 * TiB, 0 },
	[FK_RLIMIT_STACK] = { "rlimit_stack", VALUE_SIZE, 128 * KiB, 4 * GiB, 0 },
};
static const struct key_def tmpfs_size = { "tmpfs", VALUE_SIZE, 1 * MiB, 64 * GiB, 0 };

#define DEFAULT_TMPFS_BYTES (64 * MiB)

const char *policy_seccomp_name(enum policy_seccomp seccomp)
{
	switch (seccomp) {
	case POLICY_SECCOMP_DEFAULT:
		return "default";
	case POLICY_SECCOMP_STRICT:
		return "strict";
	case POLICY_SECCOMP_NONE:
		return "none";
	}
	return "?";
}

static void profile_defaults(struct policy_profile *pf)
{
	pf->cwd = "/work";
	pf->hostname = "corral";
	pf->network = POLICY_NETWORK_NONE;
	pf->seccomp = POLICY_SECCOMP_DEFAULT;
	pf->tmp_bytes = DEFAULT_TMPFS_BYTES;
	pf->work_bytes = DEFAULT_TMPFS_BYTES;
	pf->uid = 1000;
	pf->gid = 1000;
	pf->rlimit_nofile = 256;
	pf->rlimit_fsize = 1 * GiB;
	pf->rlimit_stack = 8 * MiB;
}

/* Growing arrays of one profile while its section is read. */
struct profile_build {
	struct policy_bind *binds;
	size_t cap_binds;
	struct policy_tmpfs *tmpfs;
	size_t cap_tmpfs;
	const char **env, **allow, **deny, **artifacts;
	size_t n_env, cap_env, n_allow, cap_allow, n_deny, cap_deny, n_artifacts, cap_artifacts;
	struct nameset targets; /* every mount target, with its line */
	struct nameset env_names;
};

static bool reserved_target(const char *t)
{
	static const char *const exact[] = { "/", "/proc", "/dev", "/tmp", "/work", NULL };

	for (size_t i = 0; exact[i]; i++)
		if (strcmp(t, exact[i]) == 0)
			return true;
	return strncmp(t, "/proc/", 6) == 0 || strncmp(t, "/dev/", 5) == 0;
}

/* Record a mount target; false (reported) if reserved or used twice. */
static bool add_target(struct loader *ld, struct profile_build *b, const struct raw_entry *e,
		       const char *target)
{
	const struct nameset_entry *first;
	bool added;

	if (reserved_target(target)) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "target '%s' belongs to the jail itself; not allowed: /, /proc, /dev, "
			   "/tmp, /work (use tmp_size and work_size for the last two)",
			   target);
		return false;
	}
	first = nameset_add(ld->arena, &b->targets, target, strlen(target), e->line, &added);
	if (first && !added)
		errors_add(ld->errors, e->file, e->line, e->key, "target '%s' is already mounted by line %u",
			   target, (unsigned)first->value);
	if (!added)
		return false;
	return true;
}

static void read_bind(struct loader *ld, struct policy_profile *pf, struct profile_build *b,
		      const struct raw_entry *e, bool writable)
{
	const char *colon = strchr(e->value, ':');
	char *source = colon ? arena_strndup(ld->arena, e->value, (size_t)(colon - e->value))
			     : arena_strdup(ld->arena, e->value);
	const char *target = colon ? colon + 1 : source;

	if (!source)
		return;
	if (!value_is_clean_path(source)) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "source '%s' is not an absolute path; write SOURCE or SOURCE:TARGET "
			   "with absolute paths, e.g. /opt/python or /srv/data:/data",
			   source);
		return;
	}
	if (!value_is_clean_path(target)) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "target '%s' is not an absolute path; write SOURCE or SOURCE:TARGET "
			   "with absolute paths, e.g. /srv/data:/data",
			   target);
		return;
	}
	if (!add_target(ld, b, e, target))
		return;
	if (!arena_grow(ld->arena, (void **)&b->binds, &b->cap_binds, pf->n_binds, sizeof(*b->binds)))
		return;
	b->binds[pf->n_binds].source = source;
	b->binds[pf->n_binds].target = target;
	b->binds[pf->n_binds].writable = writable;
	pf->n_binds++;
}

static void read_tmpfs(struct loader *ld, struct policy_profile *pf, struct profile_build *b,
		       const struct raw_entry *e)
{
	const char *colon = strchr(e->value, ':');
	char *target = colon ? arena_strndup(ld->arena, e->value, (size_t)(colon - e->value))
			     : arena_strdup(ld->arena, e->value);
	uint64_t size = DEFAULT_TMPFS_BYTES;

	if (!target)
		return;
	if (!value_is_clean_path(target)) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not an absolute path; write PATH or PATH:SIZE, e.g. "
			   "/var/cache:16M",
			   target);
		return;
	}
	if (colon && !value_parse_key(&tmpfs_size, colon + 1, &size, ld->errors, e->file, e->line))
		return;
	if (!add_target(ld, b, e, target))
		return;
	if (!arena_grow(ld->arena, (void **)&b->tmpfs, &b->cap_tmpfs, pf->n_tmpfs, sizeof(*b->tmpfs)))
		return;
	b->tmpfs[pf->n_tmpfs].target = target;
	b->tmpfs[pf->n_tmpfs].size_bytes = size;
	pf->n_tmpfs++;
}

static void read_env(struct loader *ld, struct profile_build *b, const struct raw_entry *e)
{
	const char *eq = strchr(e->value, '=');
	size_t name_len = eq ? (size_t)(eq - e->value) : 0;
	bool ok = name_len > 0 && !isdigit((unsigned char)e->value[0]);
	bool added;

	for (size_t i = 0; ok && i < name_len; i++)
		ok = isalnum((unsigned char)e->value[i]) || e->value[i] == '_';
	if (!ok) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not NAME=VALUE; NAME is letters, digits and _, not starting "
			   "with a digit, e.g. LANG=C.UTF-8",
			   e->value);
		return;
	}
	if (!nameset_add(ld->arena, &b->env_names, e->value, name_len, 0, &added))
		return;
	if (!added) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "variable '%.*s' is set twice in this profile", (int)name_len, e->value);
		return;
	}
	/* +1 keeps room for the NULL terminator. */
	if (!arena_grow(ld->arena, (void **)&b->env, &b->cap_env, b->n_env + 1, sizeof(*b->env)))
		return;
	b->env[b->n_env++] = arena_strdup(ld->arena, e->value);
}

/* The native architecture's syscall names, read from libseccomp once per
 * process: resolving a number walks libseccomp's whole table and strdup()s
 * the name, so asking it for all 1024 numbers on every unknown name cost
 * ~0.3 ms a guess (and made the policy fuzzer crawl).  Kept sorted by
 * (length, number), so a guess looks only at names of a near length. */
#define SYSCALL_NR_LIMIT 1024
#define SYSCALL_NAME_MAX 64

struct syscall_name {
	char *name;
	size_t len;
	int nr;
	uint64_t letters; /* errors_letters_mask(name) */
};

static struct {
	struct syscall_name names[SYSCALL_NR_LIMIT];
	size_t count;
	size_t by_len[SYSCALL_NAME_MAX + 2]; /* first index of each length; [max + 1] = count */
} syscall_table;
static pthread_once_t syscall_table_once = PTHREAD_ONCE_INIT;

static void syscall_table_read(void)
{
	struct syscall_name read[SYSCALL_NR_LIMIT];
	size_t n_read = 0, n = 0;

	for (int nr = 0; nr < SYSCALL_NR_LIMIT; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name && strlen(name) <= SYSCALL_NAME_MAX)
			read[n_read++] = (struct syscall_name){ name, strlen(name), nr,
								errors_letters_mask(name) };
		else
			free(name); /* longer than any name we look up */
	}
	/* Counting sort by length, numbers ascending within a length. */
	for (size_t len = 0; len <= SYSCALL_NAME_MAX; len++) {
		syscall_table.by_len[len] = n;
		for (size_t i = 0; i < n_read; i++)
			if (read[i].len == len)
				syscall_table.names[n++] = read[i];
	}
	syscall_table.by_len[SYSCALL_NAME_MAX + 1] = n;
	syscall_table.count = n;
}

/* The closest of the native architecture's syscall names to name (of len
 * bytes, at most SYSCALL_NAME_MAX) within two edits, the lowest numbered
 * of equals; NULL if none is. */
static const char *closest_syscall(const char *name, size_t len)
{
	const struct syscall_name *best = NULL;
	struct errors_pattern pattern;
	bool prepared = false;
	size_t best_d = 3;
	uint64_t letters = errors_letters_mask(name);
	size_t from, to;

	pthread_once(&syscall_table_once, syscall_table_read);
	/* The distance is at least the difference in length. */
	from = syscall_table.by_len[len >= 2 ? len - 2 : 0];
	to = syscall_table.by_len[len + 3 <= SYSCALL_NAME_MAX + 1 ? len + 3 : SYSCALL_NAME_MAX + 1];
	for (size_t i = from; i < to; i++) {
		const struct syscall_name *c = &syscall_table.names[i];
		/* What c must reach to be taken: under 3 edits while there is
		 * no best, then the best's distance (a tie goes to the lower
		 * number).  Bounds above it rule c out. */
		size_t need = best ? best_d : best_d - 1;
		size_t d;

		if (best && c->nr > best->nr && need > 0)
			need--;
		if (errors_letters_mask_bound(letters, c->letters) > need)
			continue;
		/* only for a name with a candidate past the letters */
		if (!prepared)
			prepared = errors_pattern_init(&pattern, name);
		d = errors_pattern_distance(&pattern, c->name, c->len);
		if (d < best_d || (d == best_d && best && c->nr < best->nr)) {
			best = c;
			best_d = d;
		}
	}
	return best ? best->name : NULL;
}

/* Near misses among the native architecture's syscall names, for the
 * first LOADER_SYSCALL_GUESSES unknown names of a load. */
static void unknown_syscall(struct loader *ld, const struct raw_entry *e, const char *name)
{
	const char *guess = NULL;
	size_t len = strlen(name);
	/* Bounded for garbage: enough for any real file. */
	bool search = ld->syscall_guesses++ < LOADER_SYSCALL_GUESSES && len <= SYSCALL_NAME_MAX;

	if (search) {
		size_t i;

		for (i = 0; i < ld->n_syscall_memo && strcmp(ld->syscall_memo[i].name, name) != 0; i++)
			;
		if (i < ld->n_syscall_memo) {
			guess = ld->syscall_memo[i].guess;
		} else {
			guess = closest_syscall(name, len);
			if (ld->n_syscall_memo < LOADER_SYSCALL_GUESSES)
				ld->syscall_memo[ld->n_syscall_memo++] = (struct syscall_guess){ name,
												 guess };
		}
	}
	if (guess)
		errors_add(ld->errors, e->file, e->line, e->key,
			   "unknown syscall '%s' (libseccomp does not know it); did you mean '%s'?", name,
			   guess);
	else
		errors_add(ld->errors, e->file, e->line, e->key,
			   "unknown syscall '%s' (libseccomp does not know it); write syscall "
			   "names such as ptrace or io_uring_setup",
			   name);
}

static void read_syscalls(struct loader *ld, const struct raw_entry *e, const char ***list, size_t *n,
			  size_t *cap)
{
	char *copy = arena_strdup(ld->arena, e->value);
	char *save = NULL;
	bool any = false;

	if (!copy)
		return;
	for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		any = true;
		if (seccomp_syscall_resolve_name(w) == __NR_SCMP_ERROR) {
			unknown_syscall(ld, e, w);
			continue;
		}
		if (!arena_grow(ld->arena, (void **)list, cap, *n + 1, sizeof(**list)))
			return;
		(*list)[(*n)++] = w;
	}
	if (!any)
		errors_add(ld->errors, e->file, e->line, e->key,
			   "the value is empty; write syscall names separated by spaces");
}

/* artifacts = GLOB ...: relative to /work, as a submit's --artifact (the
 * same bounds as the API's: 1-4096 bytes each, at most 64 in all). */
#define PROFILE_ARTIFACT_GLOB_MAX 4096
#define PROFILE_ARTIFACT_GLOBS_MAX 64

static void read_artifacts(struct loader *ld, struct profile_build *b, const struct raw_entry *e)
{
	char *copy = arena_strdup(ld->arena, e->value);
	char *save = NULL;
	bool any = false;

	if (!copy)
		return;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		any = true;
		if (w[0] == '/' || strlen(w) > PROFILE_ARTIFACT_GLOB_MAX) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "'%.64s' is not a glob relative to /work (1-%d bytes, e.g. out/*.log)", w,
				   PROFILE_ARTIFACT_GLOB_MAX);
			continue;
		}
		if (b->n_artifacts == PROFILE_ARTIFACT_GLOBS_MAX) {
			errors_add(ld->errors, e->file, e->line, e->key, "more than %d globs",
				   PROFILE_ARTIFACT_GLOBS_MAX);
			return;
		}
		if (!arena_grow(ld->arena, (void **)&b->artifacts, &b->cap_artifacts, b->n_artifacts + 1,
				sizeof(*b->artifacts)))
			return;
		b->artifacts[b->n_artifacts++] = w;
	}
	if (!any)
		errors_add(ld->errors, e->file, e->line, e->key,
			   "the value is empty; write globs relative to /work separated by spaces");
}

static void read_hostname(struct loader *ld, struct policy_profile *pf, const struct raw_entry *e)
{
	size_t n = strlen(e->value);
	bool ok = n > 0 && n <= 64 && e->value[0] != '-' && e->value[0] != '.';

	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)e->value[i]) || e->value[i] == '-' || e->value[i] == '.';
	if (!ok) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a hostname; allowed: 1 to 64 letters, digits, '-' and '.'", e->value);
		return;
	}
	pf->hostname = arena_strdup(ld->arena, e->value);
}

static void read_number(struct loader *ld, struct policy_profile *pf, const struct raw_entry *e,
			enum profile_key k, bool *gid_set)
{
	uint64_t v;

	if (!value_parse_key(&profile_numbers[k], e->value, &v, ld->errors, e->file, e->line))
		return;
	switch (k) {
	case FK_TMP_SIZE:
		pf->tmp_bytes = v;
		break;
	case FK_WORK_SIZE:
		pf->work_bytes = v;
		break;
	case FK_UID:
		pf->uid = (uint32_t)v;
		if (!*gid_set)
			pf->gid = (uint32_t)v;
		break;
	case FK_GID:
		pf->gid = (uint32_t)v;
		*gid_set = true;
		break;
	case FK_RLIMIT_NOFILE:
		pf->rlimit_nofile = v;
		break;
	case FK_RLIMIT_FSIZE:
		pf->rlimit_fsize = v;
		break;
	case FK_RLIMIT_STACK:
		pf->rlimit_stack = v;
		break;
	default:
		break;
	}
}

/* A syscall both allowed and denied: reported once per pair of entries
 * (allow in order, then the deny entries of that name). */
static void check_allowed_and_denied(struct loader *ld, const struct raw_section *s,
				     const struct profile_build *b)
{
	struct nameset denied = { 0 };
	bool added;

	if (!b->n_allow || !b->n_deny)
		return;
	for (size_t j = 0; j < b->n_deny; j++) {
		struct nameset_entry *d = nameset_add(ld->arena, &denied, b->deny[j], strlen(b->deny[j]), 1,
						      &added);

		if (!d)
			return;
		if (!added)
			d->value++;
	}
	for (size_t i = 0; i < b->n_allow; i++) {
		const struct nameset_entry *d = nameset_find(&denied, b->allow[i], strlen(b->allow[i]));

		for (size_t k = 0; d && k < d->value; k++)
			errors_add(ld->errors, s->file, s->line, "seccomp_deny",
				   "syscall '%s' is both allowed and denied in [profile %s]", b->allow[i],
				   s->name);
	}
}

void profiles_section(struct loader *ld, struct policy *p, const struct raw_section *s)
{
	struct policy_profile pf = { 0 };
	struct profile_build b = { 0 };
	unsigned first[FK_COUNT] = { 0 };
	bool gid_set = false;

	profile_defaults(&pf);
	pf.name = s->name;
	pf.file = s->file;
	pf.line = s->line;

	for (size_t i = s->first; i < s->first + s->count; i++) {
		const struct raw_entry *e = &ld->entries[i];
		int k;

		k = (int)build_key_index(profile_keys, FK_COUNT, e->key);
		if (k == FK_COUNT) {
			build_unknown_key(ld, s, e, profile_keys);
			continue;
		}
		switch ((enum profile_key)k) {
		case FK_BIND_RO:
		case FK_BIND_RW:
			read_bind(ld, &pf, &b, e, k == FK_BIND_RW);
			continue;
		case FK_TMPFS:
			read_tmpfs(ld, &pf, &b, e);
			continue;
		case FK_ENV:
			read_env(ld, &b, e);
			continue;
		case FK_SECCOMP_ALLOW:
			read_syscalls(ld, e, &b.allow, &b.n_allow, &b.cap_allow);
			continue;
		case FK_SECCOMP_DENY:
			read_syscalls(ld, e, &b.deny, &b.n_deny, &b.cap_deny);
			continue;
		case FK_ARTIFACTS:
			read_artifacts(ld, &b, e);
			continue;
		default:
			break;
		}
		/* The rest may appear once. */
		if (!build_key_once(ld, &first[k], e))
			continue;
		switch ((enum profile_key)k) {
		case FK_CWD:
			if (!value_is_clean_path(e->value))
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not a clean absolute path inside the jail, e.g. "
					   "/work",
					   e->value);
			else
				pf.cwd = arena_strdup(ld->arena, e->value);
			break;
		case FK_HOSTNAME:
			read_hostname(ld, &pf, e);
			break;
		case FK_NETWORK:
			if (strcmp(e->value, "none") != 0)
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not allowed; allowed: none (loopback only)", e->value);
			break;
		case FK_SECCOMP:
			if (strcmp(e->value, "default") == 0)
				pf.seccomp = POLICY_SECCOMP_DEFAULT;
			else if (strcmp(e->value, "strict") == 0)
				pf.seccomp = POLICY_SECCOMP_STRICT;
			else if (strcmp(e->value, "none") == 0)
				pf.seccomp = POLICY_SECCOMP_NONE;
			else
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not allowed; allowed: default, strict, none", e->value);
			break;
		default:
			read_number(ld, &pf, e, (enum profile_key)k, &gid_set);
			break;
		}
	}

	/* Cross-key checks. */
	if (pf.seccomp == POLICY_SECCOMP_NONE && (b.n_allow || b.n_deny))
		errors_add(ld->errors, s->file, first[FK_SECCOMP], "seccomp",
			   "is none, so seccomp_allow and seccomp_deny would have no effect; remove "
			   "them or choose default or strict");
	check_allowed_and_denied(ld, s, &b);

	pf.binds = b.binds;
	pf.tmpfs = b.tmpfs;
	if (b.n_env) {
		b.env[b.n_env] = NULL;
		pf.env = b.env;
	}
	if (b.n_allow) {
		b.allow[b.n_allow] = NULL;
		pf.seccomp_allow = b.allow;
	}
	if (b.n_deny) {
		b.deny[b.n_deny] = NULL;
		pf.seccomp_deny = b.deny;
	}
	if (b.n_artifacts) {
		b.artifacts[b.n_artifacts] = NULL;
		pf.artifacts = b.artifacts;
	}
	if (!arena_grow(ld->arena, (void **)&p->profiles, &p->cap_profiles, p->n_profiles,
			sizeof(*p->profiles)))
		return;
	p->profiles[p->n_profiles++] = pf;
}

void profiles_add_builtin(struct policy *p)
{
	struct policy_profile pf = { 0 };

	for (size_t i = 0; i < p->n_profiles; i++)
		if (strcmp(p->profiles[i].name, "default") == 0)
			return;
	profile_defaults(&pf);
	pf.name = "default";
	if (!arena_grow(&p->arena, (void **)&p->profiles, &p->cap_profiles, p->n_profiles,
			sizeof(*p->profiles)))
		return;
	p->profiles[p->n_profiles++] = pf;
}
