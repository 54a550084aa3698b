/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/build.c — from raw sections to a struct policy: section
 * dispatch, duplicate sections, the shared key helpers ("unknown key, did
 * you mean", "set twice"), and policy_load*() which tie reading and
 * building together and make a load all-or-nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* Copy what fits of s to buf (size >= 1 bytes, left unterminated); how
 * many bytes were copied. */
static size_t copy_cut(char *buf, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(buf, s, n);
	return n;
}

char *section_label(const struct raw_section *s, char *buf, size_t size)
{
	/* What snprintf("[%s %s]") writes, by plain copies: the label is made
	 * for every unknown key of a section. */
	const char *parts[] = { "[", section_type_name(s->type), s->name ? " " : "", s->name ? s->name : "",
				"]" };
	size_t off = 0;

	if (!size)
		return buf;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		off += copy_cut(buf + off, size - off, parts[i]);
	buf[off] = 0;
	return buf;
}

/* "a, b, c" of names, cut to fit size: plain copies (a snprintf per key
 * was most of the cost of a file full of unknown keys). */
static void join_names(const char *const *names, char *list, size_t size)
{
	size_t off = 0;

	for (size_t i = 0; names[i] && off < size - 1; i++) {
		if (i)
			off += copy_cut(list + off, size - off, ", ");
		off += copy_cut(list + off, size - off, names[i]);
	}
	list[off] = 0;
}

#define KEY_LIST_TEXT 768

/* What "unknown key" messages need of a list of allowed keys.  The lists
 * are the callers' static arrays, so this is made once per process, at
 * the list's first use (it was made again by every load with an unknown key),
 * and kept for the process's life. */
struct key_list {
	const char *const *names;
	size_t n;
	size_t *lens;
	uint64_t *masks;  /* errors_letters_mask() of each */
	const char *text; /* "a, b, c", cut to fit a message */
};

#define KEY_LISTS 8
static struct key_list key_lists[KEY_LISTS];
static size_t n_key_lists;
static pthread_mutex_t key_lists_lock = PTHREAD_MUTEX_INITIALIZER;

/* Make l for names; false when memory ran out (then l holds nothing). */
static bool key_list_make(struct key_list *l, const char *const *names)
{
	char text[KEY_LIST_TEXT];
	size_t n = 0;

	while (names[n])
		n++;
	join_names(names, text, sizeof(text));
	l->lens = malloc((n ? n : 1) * sizeof(*l->lens));
	l->masks = malloc((n ? n : 1) * sizeof(*l->masks));
	l->text = strdup(text);
	if (!l->lens || !l->masks || !l->text) {
		free(l->lens);
		free(l->masks);
		free((char *)l->text);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		l->lens[i] = strlen(names[i]);
		l->masks[i] = errors_letters_mask(names[i]);
	}
	l->names = names;
	l->n = n;
	return true;
}

/* The key_list of names, or NULL when the table is full or memory ran
 * out (the caller then works from names alone).  A made list never
 * changes, so it is read after the lock is let go. */
static const struct key_list *key_list_of(const char *const *names)
{
	const struct key_list *found = NULL;

	pthread_mutex_lock(&key_lists_lock);
	for (size_t i = 0; i < n_key_lists && !found; i++)
		if (key_lists[i].names == names)
			found = &key_lists[i];
	if (!found && n_key_lists < KEY_LISTS && key_list_make(&key_lists[n_key_lists], names))
		found = &key_lists[n_key_lists++];
	pthread_mutex_unlock(&key_lists_lock);
	return found;
}

void build_unknown_key(struct loader *ld, const struct raw_section *s, const struct raw_entry *e,
		       const char *const *allowed)
{
	/* A fuzzed file has dozens of unknown keys: what the search and the
	 * message need of the list is made once per load. */
	const struct key_list *l = key_list_of(allowed);
	const char *guess = l ? errors_did_you_mean_known(e->key, l->names, l->lens, l->masks, l->n)
			      : errors_did_you_mean(e->key, allowed);
	char label[128], list[KEY_LIST_TEXT];

	section_label(s, label, sizeof(label));
	if (guess) {
		errors_add(ld->errors, e->file, e->line, e->key, "unknown key in %s; did you mean '%s'?",
			   label, guess);
		return;
	}
	if (!l)
		join_names(allowed, list, sizeof(list));
	errors_add(ld->errors, e->file, e->line, e->key, "unknown key in %s; allowed: %s", label,
		   l ? l->text : list);
}

size_t build_key_index(const char *const *names, size_t n, const char *key)
{
	/* The first byte before strcmp(): under the fuzzer every strcmp()
	 * goes through the sanitizers' interceptor and libFuzzer's hook. */
	for (size_t k = 0; k < n; k++)
		if (names[k][0] == key[0] && strcmp(names[k], key) == 0)
			return k;
	return n;
}

bool build_key_once(struct loader *ld, unsigned *first_line, const struct raw_entry *e)
{
	if (*first_line) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "is set twice in this section (first at line %u); it may appear once",
			   *first_line);
		return false;
	}
	*first_line = e->line;
	return true;
}

/* ---- duplicate sections: a small open-addressing set of (type, name) -- */

static size_t section_hash(const struct raw_section *s)
{
	size_t h = 1469598103934665603ULL ^ (size_t)s->type;

	for (const char *c = s->name ? s->name : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return h;
}

static bool same_section(const struct raw_section *a, const struct raw_section *b)
{
	if (a->type != b->type)
		return false;
	if (!a->name || !b->name)
		return a->name == b->name;
	return strcmp(a->name, b->name) == 0;
}

/* The first section equal to s, or s itself (then it is recorded). */
static const struct raw_section *first_of(const struct raw_section **table, size_t size,
					  const struct raw_section *s)
{
	size_t i = section_hash(s) & (size - 1);

	while (table[i]) {
		if (same_section(table[i], s))
			return table[i];
		i = (i + 1) & (size - 1);
	}
	table[i] = s;
	return s;
}

void build_policy(struct loader *ld, struct policy *p)
{
	const struct raw_section **seen;
	const struct raw_section *supervisor = NULL;
	size_t size = 16;
	char label[128];

	size_t n_plans = 0, n_users = 0, n_profiles = 1; /* and the built-in "default" */

	settings_defaults(p);
	http_defaults(p);
	while (size < ld->n_sections * 2)
		size *= 2;
	seen = arena_alloc(ld->arena, size * sizeof(*seen));
	if (!seen)
		return;
	/* The arrays at their final size at once: grown by doubling, the
	 * copies left behind were most of a small policy's memory. */
	for (size_t i = 0; i < ld->n_sections; i++) {
		n_plans += ld->sections[i].type == SECTION_PLAN;
		n_users += ld->sections[i].type == SECTION_USER;
		n_profiles += ld->sections[i].type == SECTION_PROFILE;
	}
	if (!arena_reserve_items(ld->arena, (void **)&p->plans, &p->cap_plans, n_plans, sizeof(*p->plans)) ||
	    !arena_reserve_items(ld->arena, (void **)&p->users, &p->cap_users, n_users, sizeof(*p->users)) ||
	    !arena_reserve_items(ld->arena, (void **)&p->profiles, &p->cap_profiles, n_profiles,
				 sizeof(*p->profiles)))
		return;

	for (size_t i = 0; i < ld->n_sections; i++) {
		const struct raw_section *s = &ld->sections[i];
		const struct raw_section *first;

		if (s->type == SECTION_INVALID)
			continue;
		first = first_of(seen, size, s);
		if (first != s) {
			errors_add(ld->errors, s->file, s->line, NULL,
				   "duplicate section %s; it is already defined at %s:%u",
				   section_label(s, label, sizeof(label)), first->file, first->line);
			continue;
		}
		switch (s->type) {
		case SECTION_SUPERVISOR:
			supervisor = s;
			settings_supervisor(ld, p, s);
			break;
		case SECTION_ACCESS:
			settings_access(ld, p, s);
			break;
		case SECTION_HTTP:
			http_section(ld, p, s);
			break;
		case SECTION_DEFAULT:
		case SECTION_PLAN:
		case SECTION_USER:
			plans_section(ld, p, s);
			break;
		case SECTION_PROFILE:
			profiles_section(ld, p, s);
			break;
		case SECTION_INVALID:
			break;
		}
	}
	if (ld->arena->failed)
		return;
	profiles_add_builtin(p);
	lookup_sort(p);
	plans_resolve(ld, p);
	settings_check(ld, p, supervisor);
}

/* A cluster's text over a node's file (policy_load_node). */
struct cluster_text {
	const char *name, *data;
	size_t len;
};

static int load(const char *name, const char *data, size_t len, unsigned flags,
		const struct cluster_text *cluster, struct policy **out, struct policy_errors *errors)
{
	struct policy_errors local = { 0 };
	struct loader ld = { .flags = flags };
	struct arena arena = { 0 };
	struct policy *p;
	size_t before;
	int r = 0;

	*out = NULL;
	if (!errors)
		errors = &local;
	/* Errors already in the caller's list do not fail this load. */
	before = errors->count + errors->omitted;
	/* The policy lives in its own arena, in the first block, which is
	 * made big enough for a buffer's whole load (a file's is made when
	 * its size is known): one malloc, where a fuzzed load made a dozen. */
	arena_reserve(&arena, sizeof(*p) + (data ? load_estimate(data, len) : 0));
	p = arena_alloc(&arena, sizeof(*p));
	if (!p) {
		arena_free(&arena);
		return -ENOMEM;
	}
	p->arena = arena;
	ld.arena = &p->arena;
	ld.errors = errors;

	p->path = arena_strdup(&p->arena, name);
	if (data)
		load_buffer(&ld, name, data, len, 0);
	else
		load_file(&ld, name, 0, NULL, 0);
	if (cluster && !ld.arena->failed) {
		size_t own = ld.n_sections;

		ld.flags |= POLICY_LOAD_NO_INCLUDE; /* the text is read on another host */
		load_buffer(&ld, cluster->name, cluster->data, cluster->len, 0);
		cluster_split(&ld, own);
	}
	/* Build even after syntax errors: every error of the files is wanted. */
	if (!ld.arena->failed)
		build_policy(&ld, p);

	errors_sort(errors, before < errors->count ? before : errors->count);
	if (ld.arena->failed)
		r = -ENOMEM;
	else if (errors->count + errors->omitted != before)
		r = -EINVAL;
	if (r < 0)
		policy_free(p);
	else
		*out = p;
	policy_errors_free(&local);
	return r;
}

int policy_load(const char *path, struct policy **out, struct policy_errors *errors)
{
	return load(path, NULL, 0, 0, NULL, out, errors);
}

int policy_load_node(const char *path, const char *cluster_name, const char *cluster_text, size_t len,
		     struct policy **out, struct policy_errors *errors)
{
	struct cluster_text c = { cluster_name ? cluster_name : "<cluster>", cluster_text ? cluster_text : "",
				  cluster_text ? len : 0 };

	return load(path, NULL, 0, 0, &c, out, errors);
}

int policy_load_buffer(const char *name, const char *data, size_t len, unsigned flags, struct policy **out,
		       struct policy_errors *errors)
{
	if (!data)
		len = 0;
	return load(name ? name : "<buffer>", data ? data : "", len, flags, NULL, out, errors);
}

void policy_free(struct policy *policy)
{
	struct arena arena;

	if (!policy)
		return;
	arena = policy->arena; /* policy is in one of its blocks */
	arena_free(&arena);
}

const char *policy_path(const struct policy *policy)
{
	return policy->path;
}
