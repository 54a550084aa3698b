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

void *arena_alloc(struct arena *arena, size_t size)
{
	struct arena_block *b = arena->head;
	void *p;

	if (size > SIZE_MAX / 2) {
		arena->failed = true;
		return NULL;
	}
	size = align_up(size ? size : 1);
	if (!b || b->size - b->used < size) {
		size_t usual = b ? (b->size < ARENA_BLOCK_SIZE ? b->size * 2 : ARENA_BLOCK_SIZE)
				 : ARENA_FIRST_BLOCK;
		size_t cap = size > usual ? size : usual;

		b = malloc(sizeof(*b) + cap);
		if (!b) {
			arena->failed = true;
			return NULL;
		}
		b->used = 0;
		b->size = cap;
		/* A big one-off block goes behind the current one so the
		 * current block's free space is still used. */
		if (arena->head && cap > usual) {
			b->next = arena->head->next;
			arena->head->next = b;
		} else {
			b->next = arena->head;
			arena->head = b;
		}
	}
	p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *arena, const char *s, size_t n)
{
	char *d = arena_alloc(arena, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

char *arena_strdup(struct arena *arena, const char *s)
{
	return s ? arena_strndup(arena, s, strlen(s)) : NULL;
}

bool arena_grow(struct arena *arena, void **items, size_t *cap, size_t count, size_t elem)
{
	size_t ncap;
	void *n;

	if (count < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / 2 / elem) {
		arena->failed = true;
		return false;
	}
	n = arena_alloc(arena, ncap * elem);
	if (!n)
		return false;
	/* count may exceed the old capacity by one when a caller keeps room
	 * for a NULL terminator: copy only what exists. */
	if (*cap)
		memcpy(n, *items, (count < *cap ? count : *cap) * elem);
	*items = n;
	*cap = ncap;
	return true;
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
