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

size_t errors_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	/* Names longer than this are never near misses of our short keys. */
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	/* Optimal string alignment: insert, delete, substitute, swap two. */
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
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
		size_t d;

		/* The distance is at least the difference in length. */
		if ((clen > len ? clen - len : len - clen) > limit)
			continue;
		d = errors_distance(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
