/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/errors.c — the list of problems a load found, formatting them as
 * "FILE:LINE: key 'x': message", and the "did you mean" suggestions.
 * Errors own their strings (plain malloc): they outlive the failed load.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

void errors_add(struct policy_errors *errors, const char *file, unsigned line, const char *key,
		const char *fmt, ...)
{
	struct policy_error *e;
	char message[512];
	va_list ap;

	if (errors->count >= POLICY_MAX_ERRORS) {
		errors->omitted++;
		return;
	}
	if (errors->count == errors->capacity) {
		size_t ncap = errors->capacity ? errors->capacity * 2 : 16;
		struct policy_error *n = realloc(errors->items, ncap * sizeof(*n));

		if (!n) {
			errors->omitted++;
			return;
		}
		errors->items = n;
		errors->capacity = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	e = &errors->items[errors->count];
	e->file = strdup(file ? file : "");
	e->line = line;
	e->key = key ? strdup(key) : NULL;
	e->message = strdup(message);
	if (!e->file || !e->message || (key && !e->key)) {
		free(e->file);
		free(e->key);
		free(e->message);
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
	for (size_t i = 0; i < errors->count; i++) {
		free(errors->items[i].file);
		free(errors->items[i].key);
		free(errors->items[i].message);
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

size_t errors_letters_bound(const char *a, const char *b)
{
	/* Every edit changes the count of at most two letters by one (a swap
	 * none), so the letters one word has more of than the other need at
	 * least that many edits.  Words here are at most a line long. */
	int diff[256] = { 0 };
	size_t more = 0, fewer = 0;

	for (const char *c = a; *c; c++)
		diff[tolower((unsigned char)*c)]++;
	for (const char *c = b; *c; c++)
		diff[tolower((unsigned char)*c)]--;
	/* Sum each letter's surplus once (then zero it): linear in the words,
	 * not in the alphabet. */
	for (const char *c = a; *c; c++) {
		int *d = &diff[tolower((unsigned char)*c)];

		if (*d > 0)
			more += (size_t)*d;
		*d = 0;
	}
	for (const char *c = b; *c; c++) {
		int *d = &diff[tolower((unsigned char)*c)];

		if (*d < 0)
			fewer += (size_t) - *d;
		*d = 0;
	}
	return more > fewer ? more : fewer;
}

static int cmp_error(const void *x, const void *y)
{
	const struct policy_error *a = x, *b = y;
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	/* Same line: keep the order they were found in (the items are moved
	 * as a whole, so compare their original positions, kept in order by
	 * the stable insertion sort below). */
	return 0;
}

void errors_sort(struct policy_errors *errors, size_t from)
{
	/* Insertion sort: stable, and error lists are short. */
	for (size_t i = from + 1; i < errors->count; i++) {
		struct policy_error e = errors->items[i];
		size_t j = i;

		while (j > from && cmp_error(&errors->items[j - 1], &e) > 0) {
			errors->items[j] = errors->items[j - 1];
			j--;
		}
		errors->items[j] = e;
	}
}

const char *errors_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t len = strlen(word);
	/* Allow one edit for short words, two for longer, three for long. */
	size_t limit = len <= 4 ? 1 : len <= 9 ? 2 : 3;

	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t clen = strlen(candidates[i]);
		size_t bound, d;

		/* The distance is at least the difference in length. */
		if ((clen > len ? clen - len : len - clen) > limit)
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
