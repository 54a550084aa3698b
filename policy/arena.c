/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/arena.c — the allocation arena of one policy load.  Every string
 * and array of a struct policy lives in its arena, so policy_free() is one
 * walk over a block list and a failed load cannot leak half a struct.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* Blocks start small (most policies are a few KiB) and double up to this. */
#define ARENA_FIRST_BLOCK (2 * 1024)
#define ARENA_BLOCK_SIZE (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

static size_t align_up(size_t n)
{
	size_t a = alignof(max_align_t);

	return (n + a - 1) & ~(a - 1);
}

/* A new block of at least size bytes: the next of the doubling sizes, or
 * exactly size when that is larger.  Allocations continue in it, except
 * in a big one-off block made for one allocation (unless as_head): that
 * goes behind the current block, whose free space is still used. */
static struct arena_block *new_block(struct arena *arena, size_t size, bool as_head)
{
	struct arena_block *b = arena->head;
	size_t usual = b ? (b->size < ARENA_BLOCK_SIZE ? b->size * 2 : ARENA_BLOCK_SIZE) : ARENA_FIRST_BLOCK;
	size_t cap = size > usual ? size : usual;

	b = malloc(sizeof(*b) + cap);
	if (!b) {
		arena->failed = true;
		return NULL;
	}
	b->used = 0;
	b->size = cap;
	if (arena->head && cap > usual && !as_head) {
		b->next = arena->head->next;
		arena->head->next = b;
	} else {
		b->next = arena->head;
		arena->head = b;
	}
	return b;
}

/* size bytes, aligned for any type when aligned, else anywhere (strings);
 * not zeroed. */
static void *take(struct arena *arena, size_t size, bool aligned)
{
	struct arena_block *b = arena->head;
	size_t at;
	void *p;

	if (size > SIZE_MAX / 2) {
		arena->failed = true;
		return NULL;
	}
	if (!size)
		size = 1;
	at = b ? (aligned ? align_up(b->used) : b->used) : 0;
	if (!b || at > b->size || b->size - at < size) {
		b = new_block(arena, size, false);
		if (!b)
			return NULL;
		at = 0;
	}
	p = b->data + at;
	b->used = at + size;
	return p;
}

void *arena_alloc(struct arena *arena, size_t size)
{
	void *p = take(arena, size, true);

	if (p)
		memset(p, 0, size);
	return p;
}

void arena_reserve(struct arena *arena, size_t size)
{
	const struct arena_block *b = arena->head;

	if (size <= SIZE_MAX / 2 && (!b || b->used > b->size || b->size - b->used < size))
		(void)new_block(arena, size, true);
}

char *arena_strndup(struct arena *arena, const char *s, size_t n)
{
	char *d = take(arena, n + 1, false);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

char *arena_strdup(struct arena *arena, const char *s)
{
	return s ? arena_strndup(arena, s, strlen(s)) : NULL;
}

bool arena_reserve_items(struct arena *arena, void **items, size_t *cap, size_t count, size_t elem)
{
	void *n;

	if (count <= *cap)
		return true;
	if (count > SIZE_MAX / 2 / elem) {
		arena->failed = true;
		return false;
	}
	n = take(arena, count * elem, true);
	if (!n)
		return false;
	/* The new slots are zeroed (callers rely on NULL terminators). */
	if (*cap)
		memcpy(n, *items, *cap * elem);
	memset((unsigned char *)n + *cap * elem, 0, (count - *cap) * elem);
	*items = n;
	*cap = count;
	return true;
}

bool arena_grow(struct arena *arena, void **items, size_t *cap, size_t count, size_t elem)
{
	/* count may exceed the old capacity by one when a caller keeps room
	 * for a NULL terminator. */
	if (count < *cap)
		return true;
	if (*cap > SIZE_MAX / 4) {
		arena->failed = true;
		return false;
	}
	return arena_reserve_items(arena, items, cap, *cap ? *cap * 2 : 8, elem);
}

void arena_free(struct arena *arena)
{
	struct arena_block *b = arena->head;

	while (b) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
	arena->head = NULL;
}
