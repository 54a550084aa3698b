/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/arena.c — the allocation arena of one policy load.  Every string
 * and array of a struct policy lives in its arena, so policy_free() is one
 * walk over a block list and a failed load cannot leak half a struct.
 *
 * A freed arena's biggest block is kept as a spare for the next load (the process loads
 * policies one after another: corrald's reloads, `corral policy check`,
 * the fuzzer's millions): under ASan a fresh malloc of a load's block was
 * filled with garbage and faulted in new pages, a sixth of a fuzzed load.
 * While spare, the block is poisoned, so ASan still reports a use of a
 * freed policy until the next load takes it.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(ARENA_ASAN)
#define ARENA_ASAN 1
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define arena_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define arena_poison(p, n) ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* Blocks start small (most policies are a few KiB) and double up to this. */
#define ARENA_FIRST_BLOCK (2 * 1024)
#define ARENA_BLOCK_SIZE (64 * 1024)
/* The largest block kept as the spare (a bigger one is freed). */
#define ARENA_SPARE_MAX (256 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

/* The spare blocks (NULL: an empty slot): one for a policy, one for the
 * error list that outlives it, and room for loads in other threads. */
#define ARENA_SPARES 4
static struct arena_block *arena_spares[ARENA_SPARES];
static pthread_mutex_t arena_spares_lock = PTHREAD_MUTEX_INITIALIZER;

/* A spare block that holds at least size bytes (the smallest such), or NULL. */
static struct arena_block *spare_take(size_t size)
{
	struct arena_block *b = NULL;
	size_t best = ARENA_SPARES;

	pthread_mutex_lock(&arena_spares_lock);
	for (size_t i = 0; i < ARENA_SPARES; i++)
		if (arena_spares[i] && arena_spares[i]->size >= size &&
		    (best == ARENA_SPARES || arena_spares[i]->size < arena_spares[best]->size))
			best = i;
	if (best < ARENA_SPARES) {
		b = arena_spares[best];
		arena_spares[best] = NULL;
	}
	pthread_mutex_unlock(&arena_spares_lock);
	if (b)
		arena_unpoison(b->data, b->size);
	return b;
}

/* Keep b in an empty slot, or in place of a smaller spare; free the one
 * that is not kept. */
static void spare_put(struct arena_block *b)
{
	size_t smallest = 0;

	if (b->size <= ARENA_SPARE_MAX) {
		arena_poison(b->data, b->size);
		pthread_mutex_lock(&arena_spares_lock);
		for (size_t i = 0; i < ARENA_SPARES && arena_spares[smallest]; i++)
			if (!arena_spares[i] || arena_spares[i]->size < arena_spares[smallest]->size)
				smallest = i;
		if (!arena_spares[smallest] || arena_spares[smallest]->size < b->size) {
			struct arena_block *old = arena_spares[smallest];

			arena_spares[smallest] = b;
			b = old;
		}
		pthread_mutex_unlock(&arena_spares_lock);
		if (!b)
			return;
		arena_unpoison(b->data, b->size);
	}
	free(b);
}

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
	bool one_off = arena->head && cap > usual && !as_head;

	b = spare_take(cap);
	if (!b) {
		b = malloc(sizeof(*b) + cap);
		if (!b) {
			arena->failed = true;
			return NULL;
		}
		b->size = cap;
	}
	b->used = 0;
	if (one_off) {
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
	struct arena_block *b = arena->head, *biggest = NULL;

	while (b) {
		struct arena_block *next = b->next;

		if (!biggest || b->size > biggest->size) {
			free(biggest);
			biggest = b;
		} else {
			free(b);
		}
		b = next;
	}
	if (biggest)
		spare_put(biggest);
	arena->head = NULL;
}
