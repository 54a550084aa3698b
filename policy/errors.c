/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/errors.c — the list of problems a load found, formatting them as
 * "FILE:LINE: key 'x': message", and the "did you mean" suggestions.
 * Errors own their strings (in an arena of their list): they outlive the
 * failed load.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* The items and their strings (file, key, message) live in an arena of
 * the list (policy/arena.c), and an error of the same file as the one
 * before shares its file name: no malloc per error, and a load after a
 * load reuses the blocks of the list freed before.  A fuzzed file has
 * dozens of errors, and under ASan each small malloc was most of the cost
 * of reporting one.  The arena's struct lives in its own first block. */
struct policy_error_text {
	struct arena arena;
};

/* The list's arena, made at the first error; NULL when memory ran out. */
static struct arena *text_arena(struct policy_errors *errors)
{
	struct arena arena = { 0 };
	struct policy_error_text *t;

	if (errors->text)
		return &errors->text->arena;
	t = arena_alloc(&arena, sizeof(*t));
	if (!t) {
		arena_free(&arena);
		return NULL;
	}
	t->arena = arena;
	errors->text = t;
	return &t->arena;
}

/* A copy of s (n bytes) in errors' arena, or NULL. */
static char *text_copy(struct policy_errors *errors, const char *s, size_t n)
{
	struct arena *arena = text_arena(errors);

	return arena ? arena_strndup(arena, s, n) : NULL;
}

/* Append one error whose message is message[0..n). */
static void add_error(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		      const char *message, size_t n)
{
	struct policy_error *e;

	if (errors->count >= POLICY_MAX_ERRORS) {
		errors->omitted++;
		return;
	}
	if (errors->count == errors->capacity) {
		/* A fuzzed or broken file has dozens: start with room for them.
		 * The old array stays in the arena until the list is freed. */
		struct arena *arena = text_arena(errors);
		size_t cap = errors->capacity;

		if (!arena ||
		    !arena_reserve_items(arena, (void **)&errors->items, &cap, cap ? cap * 2 : 64,
					 sizeof(*e))) {
			errors->omitted++;
			return;
		}
		errors->capacity = cap;
	}
	if (!file)
		file = "";
	e = &errors->items[errors->count];
	if (errors->count && strcmp(e[-1].file, file) == 0)
		e->file = e[-1].file;
	else
		e->file = text_copy(errors, file, strlen(file));
	e->line = line;
	e->key = key ? text_copy(errors, key, strlen(key)) : NULL;
	e->message = text_copy(errors, message, n);
	if (!e->file || !e->message || (key && !e->key)) {
		errors->omitted++;
		return;
	}
	errors->count++;
}

/* Messages are cut to this many bytes. */
#define MESSAGE_MAX 511

void errors_add(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		const char *fmt, ...)
{
	char message[MESSAGE_MAX + 1];
	va_list ap;
	int n;

	if (errors->count >= POLICY_MAX_ERRORS) {
		errors->omitted++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(message))
		n = sizeof(message) - 1;
	add_error(errors, file, line, key, message, (size_t)n);
}

void errors_add_text(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		     const char *message)
{
	add_error(errors, file, line, key, message, strnlen(message, MESSAGE_MAX));
}

int policy_error_format(const struct policy_error *error, char *buf, size_t size)
{
	/* One snprintf() per shape rather than one per part. */
	if (error->line && error->key)
		return snprintf(buf, size, "%s:%u: key '%.140s': %s", error->file, error->line, error->key,
				error->message);
	if (error->line)
		return snprintf(buf, size, "%s:%u: %s", error->file, error->line, error->message);
	if (error->key)
		return snprintf(buf, size, "%s: key '%.140s': %s", error->file, error->key, error->message);
	return snprintf(buf, size, "%s: %s", error->file, error->message);
}

void policy_errors_free(struct policy_errors *errors)
{
	if (!errors)
		return;
	if (errors->text) {
		struct arena arena = errors->text->arena; /* text is in one of its blocks */

		arena_free(&arena);
	}
	errors->text = NULL;
	errors->items = NULL;
	errors->count = errors->capacity = errors->omitted = 0;
}

/* Hyyro's bit-vector algorithm for the optimal string alignment distance
 * (insert, delete, substitute, swap two neighbours): a column of the
 * dynamic-programming table is kept as bit vectors of its vertical steps,
 * and one character of the text updates it in a dozen word operations.
 * (The table it replaced cost a few compares per cell, each traced by the
 * fuzzer's instrumentation: "did you mean" was a third of a fuzzed load.)
 * H. Hyyro, "A bit-vector algorithm for computing Levenshtein and
 * Damerau edit distances", Nordic Journal of Computing 10 (2003). */
bool errors_pattern_init(struct errors_pattern *p, const char *word)
{
	size_t n = strlen(word);

	memset(p->peq, 0, sizeof(p->peq));
	p->len = n;
	if (n > ERRORS_PATTERN_MAX)
		return false;
	/* Both cases of a letter match it, so a text needs no tolower(). */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)word[i];

		p->peq[(unsigned char)tolower(c)] |= 1ULL << i;
		p->peq[(unsigned char)toupper(c)] |= 1ULL << i;
	}
	return true;
}

size_t errors_pattern_distance(const struct errors_pattern *p, const char *text, size_t text_len)
{
	uint64_t vp, vn = 0, d0 = 0, prev = 0;
	size_t m = p->len, score = m;

	if (m > ERRORS_PATTERN_MAX || text_len > ERRORS_PATTERN_MAX)
		return SIZE_MAX;
	if (m == 0)
		return text_len;
	/* Bit i of vp / vn: the cell in row i + 1 is one more / one less than
	 * the one above it; score is the bottom cell (the distance so far). */
	vp = ~0ULL >> (64 - m);
	for (size_t j = 0; j < text_len; j++) {
		uint64_t eq = p->peq[(unsigned char)text[j]];
		uint64_t swap = ((~d0 & eq) << 1) & prev;
		uint64_t hp, hn;

		d0 = (((eq & vp) + vp) ^ vp) | eq | vn | swap;
		hp = vn | ~(d0 | vp);
		hn = d0 & vp;
		/* +1, -1 or 0 by the bottom row's bits, without a compare */
		score = score + ((hp >> (m - 1)) & 1) - ((hn >> (m - 1)) & 1);
		hp = (hp << 1) | 1;
		hn <<= 1;
		vp = hn | ~(d0 | hp);
		vn = hp & d0;
		prev = eq;
	}
	return score;
}

uint64_t errors_letters_mask(const char *s)
{
	uint64_t mask = 0;

	for (; *s; s++)
		mask |= 1ULL << (tolower((unsigned char)*s) % 64);
	return mask;
}

static int cmp_error(const void *x, const void *y)
{
	const struct policy_error *a = x, *b = y;
	/* Errors of one file mostly share its name (see errors_add). */
	int c = a->file == b->file ? 0 : strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	/* Same line: keep the order they were found in (the items are moved
	 * as a whole, so compare their original positions, kept in order by
	 * the stable insertion sort below). */
	return 0;
}

/* Stable insertion sort of items [from, to): for short runs, and when
 * there is no memory for the merge. */
static void insertion_sort(struct policy_error *items, size_t from, size_t to)
{
	for (size_t i = from + 1; i < to; i++) {
		struct policy_error e = items[i];
		size_t j = i;

		while (j > from && cmp_error(&items[j - 1], &e) > 0) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = e;
	}
}

void errors_sort(struct policy_errors *errors, size_t from)
{
	/* Stable merge sort: the errors of the reading pass come in line
	 * order, those of the building pass after them in section order, so
	 * an insertion sort moved hundreds of them past each other (most of
	 * the cost of a broken file). */
	enum { RUN = 16, ON_STACK = 64 };
	struct policy_error *items = errors->items, *tmp, stack[ON_STACK];
	size_t n = errors->count;

	if (n <= from + 1)
		return;
	/* A typical list needs no malloc for the merge. */
	tmp = n - from <= RUN ? NULL : n - from <= ON_STACK ? stack : malloc((n - from) * sizeof(*tmp));
	if (!tmp) {
		insertion_sort(items, from, n);
		return;
	}
	for (size_t lo = from; lo < n; lo += RUN)
		insertion_sort(items, lo, lo + RUN < n ? lo + RUN : n);
	for (size_t width = RUN; width < n - from; width *= 2) {
		for (size_t lo = from; lo + width < n; lo += 2 * width) {
			size_t mid = lo + width, hi = mid + width < n ? mid + width : n;
			size_t i = lo, j = mid, k = 0;

			if (cmp_error(&items[mid - 1], &items[mid]) <= 0)
				continue; /* already in order */
			while (i < mid && j < hi)
				tmp[k++] = cmp_error(&items[j], &items[i]) < 0 ? items[j++] : items[i++];
			while (i < mid)
				tmp[k++] = items[i++];
			memcpy(&items[lo], tmp, (j - lo) * sizeof(*tmp));
		}
	}
	if (tmp != stack)
		free(tmp);
}

/* One "did you mean" search: the word, its limit and the best so far. */
struct guess {
	struct errors_pattern pattern;
	bool prepared;
	const char *word, *best;
	size_t len, limit, best_d;
};

/* False for a word too long to be a near miss of our short names. */
static bool guess_start(struct guess *g, const char *word)
{
	g->prepared = false;
	g->word = word;
	g->best = NULL;
	g->best_d = SIZE_MAX;
	g->len = strlen(word);
	/* Allow one edit for short words, two for longer, three for long. */
	g->limit = g->len <= 4 ? 1 : g->len <= 9 ? 2 : 3;
	return g->len <= ERRORS_PATTERN_MAX;
}

static void guess_try(struct guess *g, const char *name, size_t name_len)
{
	size_t d;

	/* The word is prepared for the first candidate only: most garbage
	 * words have none of a near length. */
	if (!g->prepared)
		g->prepared = errors_pattern_init(&g->pattern, g->word);
	d = errors_pattern_distance(&g->pattern, name, name_len);
	/* the first of equals is kept */
	if (d <= g->limit && d < g->best_d) {
		g->best_d = d;
		g->best = name;
	}
}

const char *errors_did_you_mean_known(const char *word, const char *const *names, const size_t *lens,
				      const uint64_t *masks, size_t n)
{
	struct guess g;
	uint64_t letters;

	if (!guess_start(&g, word))
		return NULL;
	letters = errors_letters_mask(word);
	for (size_t i = 0; i < n; i++) {
		size_t apart = lens[i] > g.len ? lens[i] - g.len : g.len - lens[i];
		size_t missing = errors_letters_mask_bound(letters, masks[i]);

		/* Lower bounds of the distance: past the limit, or not under
		 * the best so far, rule it out. */
		if (apart <= g.limit && missing <= g.limit && apart < g.best_d && missing < g.best_d)
			guess_try(&g, names[i], lens[i]);
	}
	return g.best;
}

const char *errors_did_you_mean(const char *word, const char *const *candidates)
{
	struct guess g;

	if (!guess_start(&g, word))
		return NULL;
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t clen = strlen(candidates[i]);

		/* The distance is at least the difference in length. */
		if ((clen > g.len ? clen - g.len : g.len - clen) <= g.limit)
			guess_try(&g, candidates[i], clen);
	}
	return g.best;
}
