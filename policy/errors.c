/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/errors.c — the list of problems a load found, formatting them as
 * "FILE:LINE: key 'x': message", and the "did you mean" suggestions.
 * Errors own their strings (plain malloc, in blocks of their list): they
 * outlive the failed load.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* The strings of the errors (file, key, message) are copied into blocks of
 * ERROR_TEXT_BLOCK bytes, and an error of the same file as the one before
 * shares its file name: one malloc per few dozen errors instead of three
 * per error.  A fuzzed file has dozens of errors, and under ASan each small
 * malloc was most of the cost of reporting one. */
#define ERROR_TEXT_BLOCK 4096

struct policy_error_text {
	struct policy_error_text *next;
	size_t used, size;
	char data[];
};

/* A copy of s (n bytes) in errors' text blocks, or NULL. */
static char *text_copy(struct policy_errors *errors, const char *s, size_t n)
{
	struct policy_error_text *t = errors->text;
	char *d;

	if (!t || t->size - t->used < n + 1) {
		size_t size = n + 1 > ERROR_TEXT_BLOCK ? n + 1 : ERROR_TEXT_BLOCK;

		t = malloc(sizeof(*t) + size);
		if (!t)
			return NULL;
		t->used = 0;
		t->size = size;
		t->next = errors->text;
		errors->text = t;
	}
	d = t->data + t->used;
	memcpy(d, s, n);
	d[n] = 0;
	t->used += n + 1;
	return d;
}

void errors_add(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		const char *fmt, ...)
{
	struct policy_error *e;
	char message[512];
	va_list ap;
	int n;

	if (errors->count >= POLICY_MAX_ERRORS) {
		errors->omitted++;
		return;
	}
	if (errors->count == errors->capacity) {
		size_t ncap = errors->capacity ? errors->capacity * 2 : 16;
		struct policy_error *items = realloc(errors->items, ncap * sizeof(*items));

		if (!items) {
			errors->omitted++;
			return;
		}
		errors->items = items;
		errors->capacity = ncap;
	}
	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(message))
		n = sizeof(message) - 1;

	if (!file)
		file = "";
	e = &errors->items[errors->count];
	if (errors->count && strcmp(e[-1].file, file) == 0)
		e->file = e[-1].file;
	else
		e->file = text_copy(errors, file, strlen(file));
	e->line = line;
	e->key = key ? text_copy(errors, key, strlen(key)) : NULL;
	e->message = text_copy(errors, message, (size_t)n);
	if (!e->file || !e->message || (key && !e->key)) {
		errors->omitted++;
		return;
	}
	errors->count++;
}

int policy_error_format(const struct policy_error *error, char *buf, size_t size)
{
	char where[64] = "";
	char key[160] = "";

	if (error->line)
		snprintf(where, sizeof(where), ":%u", error->line);
	if (error->key)
		snprintf(key, sizeof(key), " key '%.140s':", error->key);
	return snprintf(buf, size, "%s%s:%s %s", error->file, where, key, error->message);
}

void policy_errors_free(struct policy_errors *errors)
{
	if (!errors)
		return;
	while (errors->text) {
		struct policy_error_text *next = errors->text->next;

		free(errors->text);
		errors->text = next;
	}
	free(errors->items);
	errors->items = NULL;
	errors->count = errors->capacity = errors->omitted = 0;
}

size_t errors_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Three rows of the table (i - 2, i - 1, i) are all a step needs. */
	size_t rows[3][66];
	unsigned char ca[64], cb[64];
	size_t cap;

	/* Names longer than this are never near misses of our short keys. */
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	/* Values are kept at most cap: a cell of the true table at or above
	 * cap is cap here, and the recurrence keeps that true.  So only the
	 * band |i - j| <= max needs computing (outside it a cell is at least
	 * |i - j| > max): la x (2 max + 1) cells instead of la x lb. */
	cap = max < 64 ? max + 1 : 65;
	if ((la > lb ? la - lb : lb - la) >= cap)
		return cap;
	for (size_t i = 0; i < la; i++)
		ca[i] = (unsigned char)tolower((unsigned char)a[i]);
	for (size_t j = 0; j < lb; j++)
		cb[j] = (unsigned char)tolower((unsigned char)b[j]);
	/* Optimal string alignment: insert, delete, substitute, swap two.
	 * Row 0, like every row, is its band and one cap cell after it. */
	for (size_t j = 0; j <= lb && j <= cap; j++)
		rows[0][j] = j < cap ? j : cap;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3];
		const size_t *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
		size_t lo = i > max ? i - max : 1, hi = i + max < lb ? i + max : lb;

		cur[0] = i < cap ? i : cap;
		if (lo > 1)
			cur[lo - 1] = cap;
		for (size_t j = lo; j <= hi; j++) {
			size_t best = prev[j - 1] + (ca[i - 1] != cb[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca[i - 1] == cb[j - 2] && ca[i - 2] == cb[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best < cap ? best : cap;
		}
		if (hi < lb)
			cur[hi + 1] = cap;
	}
	return rows[la % 3][lb];
}

/* Characters folded onto 64 counters (case-insensitive): the bounds below
 * hold for any grouping of characters, and a 256-int table to clear per
 * candidate was most of the cost of a "did you mean" search. */
#define LETTER_BUCKETS 64
#define letter_bucket(c) ((unsigned)tolower((unsigned char)(c)) % LETTER_BUCKETS)

uint64_t errors_letters_mask(const char *s)
{
	uint64_t mask = 0;

	for (; *s; s++)
		mask |= 1ULL << letter_bucket(*s);
	return mask;
}

size_t errors_letters_mask_bound(uint64_t a, uint64_t b)
{
	size_t only_a = (size_t)__builtin_popcountll(a & ~b);
	size_t only_b = (size_t)__builtin_popcountll(b & ~a);

	return only_a > only_b ? only_a : only_b;
}

size_t errors_letters_bound(const char *a, const char *b)
{
	/* Every edit changes the count of at most two letters by one (a swap
	 * none), so the letters one word has more of than the other need at
	 * least that many edits.  Words here are at most a line long. */
	int diff[LETTER_BUCKETS] = { 0 };
	size_t more = 0, fewer = 0;

	for (const char *c = a; *c; c++)
		diff[letter_bucket(*c)]++;
	for (const char *c = b; *c; c++)
		diff[letter_bucket(*c)]--;
	/* Sum each letter's surplus once (then zero it): linear in the words,
	 * not in the alphabet. */
	for (const char *c = a; *c; c++) {
		int *d = &diff[letter_bucket(*c)];

		if (*d > 0)
			more += (size_t)*d;
		*d = 0;
	}
	for (const char *c = b; *c; c++) {
		int *d = &diff[letter_bucket(*c)];

		if (*d < 0)
			fewer += (size_t) - *d;
		*d = 0;
	}
	return more > fewer ? more : fewer;
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
	enum { RUN = 16 };
	struct policy_error *items = errors->items, *tmp;
	size_t n = errors->count;

	if (n <= from + 1)
		return;
	tmp = n - from > RUN ? malloc((n - from) * sizeof(*tmp)) : NULL;
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
	free(tmp);
}

const char *errors_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t len = strlen(word);
	/* Allow one edit for short words, two for longer, three for long. */
	size_t limit = len <= 4 ? 1 : len <= 9 ? 2 : 3;
	uint64_t letters = errors_letters_mask(word);

	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t clen = strlen(candidates[i]);
		size_t bound, d;

		/* The distance is at least the difference in length, and at
		 * least the letters one word has and the other lacks. */
		if ((clen > len ? clen - len : len - clen) > limit ||
		    errors_letters_mask_bound(letters, errors_letters_mask(candidates[i])) > limit)
			continue;
		/* Neither can one that needs more letters changed than allowed,
		 * or than the best so far (the first of equals is kept). */
		bound = errors_letters_bound(word, candidates[i]);
		if (bound > limit || bound >= best_d)
			continue;
		d = errors_distance(word, candidates[i], best_d - 1 < limit ? best_d - 1 : limit);
		if (d <= limit && d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
