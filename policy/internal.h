/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/internal.h — internal to policy/: the arena every loaded string
 * lives in, the raw sections the reader produces, value parsers, the error
 * list helpers and the struct policy layout.  Callers include policy.h.
 *
 * Pipeline: load.c (files, includes, libinih) -> raw sections and entries
 * -> build.c (sections dispatched) -> settings.c / plans.c / profiles.c
 * (keys parsed and validated) -> struct policy, read by lookup.c.
 */
#ifndef CORRAL_POLICY_INTERNAL_H
#define CORRAL_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* ---- arena.c: everything of one load is freed at once ---------------- */

struct arena_block;
struct arena {
	struct arena_block *head;
	bool failed; /* an allocation failed: the load reports -ENOMEM */
};

void *arena_alloc(struct arena *arena, size_t size); /* zeroed */
char *arena_strdup(struct arena *arena, const char *s);
char *arena_strndup(struct arena *arena, const char *s, size_t n);
/* Grow *items (of elem bytes, *cap slots) so slot [count] exists; false on
 * OOM.  Old arrays stay in the arena until it is freed. */
bool arena_grow(struct arena *arena, void **items, size_t *cap, size_t count, size_t elem);
/* Make room for size bytes of allocations in one block ahead of them
 * (one malloc for a whole load when its size is known). */
void arena_reserve(struct arena *arena, size_t size);
/* Make *items (of elem bytes, *cap slots) hold at least count slots; new
 * slots are zeroed.  False on OOM. */
bool arena_reserve_items(struct arena *arena, void **items, size_t *cap, size_t count, size_t elem);
void arena_free(struct arena *arena);

/* ---- nameset.c: names (key[0..len), kept by the caller) with a number -- */

struct nameset_entry {
	const char *key;
	size_t len;
	size_t value;
};
struct nameset {
	struct nameset_entry *slots; /* in the arena */
	size_t size, count;
};

/* Start a set zeroed ({ 0 }).  The entry of key, or NULL. */
const struct nameset_entry *nameset_find(const struct nameset *set, const char *key, size_t len);
/* Add key with value unless it is there: its entry (*added tells which),
 * or NULL when memory ran out. */
struct nameset_entry *nameset_add(struct arena *arena, struct nameset *set, const char *key, size_t len,
				  size_t value, bool *added);

/* ---- errors.c ----------------------------------------------------------- */

void errors_add(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with a message that needs no formatting (cheaper). */
void errors_add_text(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		     const char *message);
/* Closest of candidates (NULL-terminated) to word if near enough, or NULL. */
const char *errors_did_you_mean(const char *word, const char *const *candidates);
/* The same among n names whose lengths and errors_letters_mask() are known
 * (most are ruled out without reading them). */
const char *errors_did_you_mean_known(const char *word, const char *const *names, const size_t *lens,
				      const uint64_t *masks, size_t n);
/* Sort errors [from, count) by file and line, stably. */
void errors_sort(struct policy_errors *errors, size_t from);
/* Edit distance (optimal string alignment: insert, delete, substitute,
 * swap two neighbours), case-insensitive, of words of at most
 * ERRORS_PATTERN_MAX bytes: a word prepared once for distances to many
 * texts.  Exact; SIZE_MAX when either is longer. */
#define ERRORS_PATTERN_MAX 64
struct errors_pattern {
	uint64_t peq[256]; /* bit i of [c]: the word's byte i is c in either case */
	size_t len;
};
/* False when word is longer than ERRORS_PATTERN_MAX. */
bool errors_pattern_init(struct errors_pattern *p, const char *word);
size_t errors_pattern_distance(const struct errors_pattern *p, const char *text, size_t text_len);
/* Which letters a word has (case-insensitive, folded onto 64 bits), and the
 * cheapest lower bound of the distance: letters one word has, the other not. */
uint64_t errors_letters_mask(const char *s);
/* Inline: it is the first test of every candidate of a search. */
static inline size_t errors_letters_mask_bound(uint64_t a, uint64_t b)
{
	size_t only_a = (size_t)__builtin_popcountll(a & ~b);
	size_t only_b = (size_t)__builtin_popcountll(b & ~a);

	return only_a > only_b ? only_a : only_b;
}

/* ---- values.c: one value string -> a number in canonical units -------- */

enum value_kind {
	VALUE_COUNT,   /* plain integer */
	VALUE_SIZE,    /* bytes: 512M, 1G (powers of 1024) */
	VALUE_SECONDS, /* duration, whole seconds; bare number = seconds */
	VALUE_MILLIS,  /* duration in ms; bare number = seconds */
	VALUE_HOURS,   /* duration -> milliseconds; bare number = hours (0.05 = 3 min) */
	VALUE_CPUS,    /* 0.5, 2 -> millis */
	VALUE_BOOL,    /* yes/no, true/false, on/off, 1/0 -> 1/0 */
};

enum {
	KEY_UNLIMITED = 1 << 0, /* accepts "unlimited", stored as 0 (as POLICY_UNLIMITED
				  * when min is 0: then 0 is a real value) */
	KEY_REPEAT = 1 << 1,    /* may appear several times in a section */
};

/* A numeric key: its kind and allowed range in canonical units. */
struct key_def {
	const char *name;
	enum value_kind kind;
	uint64_t min, max;
	unsigned flags;
};

/* Parse text as kind.  0, or -EINVAL with why filled ("'x' is not a size;
 * ..."), or -ERANGE on overflow. */
int value_parse(enum value_kind kind, const char *text, uint64_t *out, char *why, size_t why_size);
/* A canonical value formatted the way the file would write it. */
char *value_format(enum value_kind kind, uint64_t value, char *buf, size_t size);
/* Parse and range-check a key's value; reports the error and returns false. */
bool value_parse_key(const struct key_def *def, const char *text, uint64_t *out, struct policy_errors *errors,
		     const char *file, unsigned line);
/* Names of plans, profiles, users: [A-Za-z0-9_.@-], 1..64, not starting with '-'. */
bool value_is_name(const char *s);
/* Absolute, no "." or ".." components, no "//" and no ':' or whitespace. */
bool value_is_clean_path(const char *s);

/* ---- load.c: files -> raw sections ------------------------------------- */

enum section_type {
	SECTION_INVALID = 0, /* header was wrong: its keys are skipped */
	SECTION_SUPERVISOR,
	SECTION_ACCESS,
	SECTION_DEFAULT,
	SECTION_PLAN,
	SECTION_USER,
	SECTION_PROFILE,
	SECTION_HTTP,
};

struct raw_entry {
	const char *file;
	unsigned line;
	const char *key;
	const char *value;
};

struct raw_section {
	enum section_type type;
	const char *name; /* NULL for [supervisor], [access], [default] */
	const char *file;
	unsigned line;
	size_t first, count; /* its entries in loader.entries */
};

#define LOADER_SYSCALL_GUESSES 32

struct loader {
	struct arena *arena;
	struct policy_errors *errors;
	unsigned flags;
	struct raw_section *sections;
	size_t n_sections, cap_sections;
	struct raw_entry *entries;
	size_t n_entries, cap_entries;
	struct loaded_file *files; /* every file read, for include loops */
	size_t n_files, cap_files;
	unsigned syscall_guesses; /* "did you mean" searches of the syscall table so far */
	/* Their answers (guess NULL: none), as a name often comes back. */
	struct syscall_guess {
		const char *name, *guess;
	} syscall_memo[LOADER_SYSCALL_GUESSES];
	size_t n_syscall_memo;
};

/* Read path (and what it includes) into ld.  Problems are reported. */
void load_file(struct loader *ld, const char *path, unsigned depth, const char *site_file,
	       unsigned site_line);
void load_buffer(struct loader *ld, const char *name, const char *data, size_t len, unsigned depth);
const char *section_type_name(enum section_type type);
/* Arena bytes a load of the buffer data will likely take (a hint). */
size_t load_estimate(const char *data, size_t len);

/* ---- cluster.c: a node's own sections and the cluster's ------------------ */

/* [supervisor] and [http]: each node's own, never the cluster's. */
bool cluster_section_per_host(enum section_type type);
/* Sections [0, local) were read from a node's own file, the rest from the
 * cluster's text: the file's cluster-wide sections are left out, a
 * per-host section of the cluster's text is reported (and left out). */
void cluster_split(struct loader *ld, size_t local);

/* ---- the loaded policy --------------------------------------------------- */

enum plan_key {
	PK_MAX_CONCURRENT,
	PK_MONTHLY_CPU_HOURS,
	PK_MAX_TASK_SECONDS,
	PK_MAX_CPU_SECONDS,
	PK_MEMORY,
	PK_PIDS,
	PK_CPUS,
	PK_OUTPUT_LIMIT,
	PK_WEIGHT,
	PK_MAX_QUEUED,
	PK_MAX_ATTEMPTS,
	PK_RETRY_LOST,
	PK_MAX_STORED,
	PK_RETENTION,
	PK_MAX_INPUT,
	PK_MAX_ARTIFACT,
	PK_ARTIFACT_RETENTION,
	PK_PROFILE, /* string: layer.profile */
	PK_COUNT,
};

/* The plan keys one section sets (a plan, a user's overrides, [default]). */
struct plan_layer {
	uint32_t set; /* bit per enum plan_key */
	uint64_t num[PK_COUNT];
	unsigned line[PK_COUNT];
	const char *profile;         /* the default profile: profile, or the first of profiles */
	const char *const *profiles; /* the profiles a task may ask for (profile first) */
	size_t n_profiles;
	bool profiles_key; /* set by `profiles =` (else `profile =`), for messages */
	const char *file;  /* the section's file, for errors */
};

struct plan {
	const char *name, *file;
	unsigned line;
	const char *inherit; /* parent plan or NULL */
	unsigned inherit_line;
	struct plan_layer layer;
	struct policy_limits limits; /* resolved */
	bool broken;                 /* loop or missing parent: no limits */
};

struct user {
	const char *name, *file; /* name NULL for [default] */
	unsigned line;
	const char *plan;
	unsigned plan_line;
	struct plan_layer layer;
	struct policy_limits limits; /* resolved */
};

struct access_entry {
	const char *name; /* user name, or group name when group */
	bool group;
};

struct tenant_map {
	const char *unix_name, *tenant;
};

struct policy {
	struct arena arena; /* the policy itself lives in its first block */
	const char *path;
	struct policy_supervisor supervisor;
	struct policy_http http;

	struct access_entry *operators;
	size_t n_operators;
	struct access_entry *users_allowed; /* NULL with allow_all */
	size_t n_users_allowed;
	bool allow_all;
	enum policy_tenant_from tenant_from;
	struct tenant_map *tenant_maps;
	size_t n_tenant_maps;

	struct plan *plans;
	size_t n_plans, cap_plans;
	struct user *users;
	size_t n_users, cap_users;
	struct user *default_user; /* NULL without [default] */
	struct policy_profile *profiles;
	size_t n_profiles, cap_profiles;
};

/* build.c: raw sections -> p (defaults filled first).  Errors reported. */
void build_policy(struct loader *ld, struct policy *p);
/* settings.c */
void settings_defaults(struct policy *p);
void settings_supervisor(struct loader *ld, struct policy *p, const struct raw_section *s);
void settings_access(struct loader *ld, struct policy *p, const struct raw_section *s);
void settings_check(struct loader *ld, struct policy *p, const struct raw_section *supervisor);
/* http.c: the [http] section */
void http_defaults(struct policy *p);
void http_section(struct loader *ld, struct policy *p, const struct raw_section *s);
/* plans.c */
extern const char *const plan_key_names[PK_COUNT + 1];
void plans_section(struct loader *ld, struct policy *p, const struct raw_section *s);
void plans_resolve(struct loader *ld, struct policy *p);
/* profiles.c */
void profiles_section(struct loader *ld, struct policy *p, const struct raw_section *s);
void profiles_add_builtin(struct policy *p);
/* lookup.c */
const struct plan *lookup_plan(const struct policy *p, const char *name);
const struct user *lookup_user(const struct policy *p, const char *name);
/* Sort plans, users, profiles by name so lookups can bsearch. */
void lookup_sort(struct policy *p);

/* Report "unknown key" for e in section (with "did you mean" among allowed). */
void build_unknown_key(struct loader *ld, const struct raw_section *s, const struct raw_entry *e,
		       const char *const *allowed);
/* The index of key in names[0..n), or n when it is none of them. */
size_t build_key_index(const char *const *names, size_t n, const char *key);
/* A key that may appear once: first use records e's line in *first_line;
 * a second use is reported and returns false. */
bool build_key_once(struct loader *ld, unsigned *first_line, const struct raw_entry *e);
/* "[plan free]" for messages, written to the caller's buf. */
char *section_label(const struct raw_section *s, char *buf, size_t size);

#endif
