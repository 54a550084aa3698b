/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/nameset.c — a set of names with a number each (open addressing,
 * in the load's arena), for the checks "set twice", "already mounted",
 * "already mapped": comparing each entry with all before it was quadratic
 * (20,000 env lines of one profile took 5 s to load).
 */
#include <stdint.h>
#include <string.h>

#include "policy/internal.h"

static size_t name_hash(const char *key, size_t len)
{
	size_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return h;
}

/* The slot of key: where it is, or the empty one where it would go. */
static struct nameset_entry *slot_of(const struct nameset *set, const char *key, size_t len)
{
	size_t i = name_hash(key, len) & (set->size - 1);

	while (set->slots[i].key && (set->slots[i].len != len || memcmp(set->slots[i].key, key, len) != 0))
		i = (i + 1) & (set->size - 1);
	return &set->slots[i];
}

/* Double the table (16 slots at first); false on OOM. */
static bool grow(struct arena *arena, struct nameset *set)
{
	struct nameset old = *set;
	size_t size = old.size ? old.size * 2 : 16;

	if (size > SIZE_MAX / 2 / sizeof(*set->slots)) {
		arena->failed = true;
		return false;
	}
	set->slots = arena_alloc(arena, size * sizeof(*set->slots));
	if (!set->slots) {
		*set = old;
		return false;
	}
	set->size = size;
	for (size_t i = 0; i < old.size; i++)
		if (old.slots[i].key)
			*slot_of(set, old.slots[i].key, old.slots[i].len) = old.slots[i];
	return true;
}

const struct nameset_entry *nameset_find(const struct nameset *set, const char *key, size_t len)
{
	const struct nameset_entry *e;

	if (!set->size)
		return NULL;
	e = slot_of(set, key, len);
	return e->key ? e : NULL;
}

struct nameset_entry *nameset_add(struct arena *arena, struct nameset *set, const char *key, size_t len,
				  size_t value, bool *added)
{
	struct nameset_entry *e;

	*added = false;
	/* at most half full, so a search always meets an empty slot soon */
	if ((set->count + 1) * 2 > set->size && !grow(arena, set))
		return NULL;
	e = slot_of(set, key, len);
	if (e->key)
		return e;
	e->key = key;
	e->len = len;
	e->value = value;
	set->count++;
	*added = true;
	return e;
}
