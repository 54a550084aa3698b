/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_token.c — API tokens and idempotency keys
 * (store_token.h): argument checks and dispatch to the backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_token.h"

static bool hash_valid(const char *h)
{
	if (!h || strlen(h) != STORE_TOKEN_HASH_HEX)
		return false;
	for (; *h; h++)
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
			return false;
	return true;
}

static bool text_valid(const char *s, size_t max, bool may_be_empty)
{
	size_t n = s ? strlen(s) : 0;

	if (!s || n > max || (!may_be_empty && n == 0))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int store_token_create(struct store *store, const struct store_token *t, int64_t *id, struct error *err)
{
	struct store_token io = *t;

	if (!hash_valid(t->hash))
		return error_set(err, EINVAL, "token", "store a token: the hash is not SHA-256 hex");
	if (!text_valid(t->tenant, 256, false) ||
	    !text_valid(t->name ? t->name : "", STORE_TOKEN_NAME_MAX, true))
		return error_set(err, EINVAL, "token", "store a token: a bad tenant or name");
	if (!io.name)
		io.name = "";
	*id = 0;
	return store->backend->token_run(store, STORE_SQL_TOKEN_INSERT, &io, id, NULL, err);
}

int store_token_use(struct store *store, const char *hash, int64_t now_us, struct store_token *out,
		    struct error *err)
{
	memset(out, 0, sizeof(*out));
	if (!hash_valid(hash))
		return -ENOENT;
	memcpy(out->hash, hash, sizeof(out->hash));
	out->last_used_at_us = now_us;
	return store->backend->token_run(store, STORE_SQL_TOKEN_USE, out, NULL, NULL, err);
}

int store_token_list(struct store *store, struct store_token_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->token_run(store, STORE_SQL_TOKEN_LIST, NULL, NULL, out, err);
}

int store_token_revoke(struct store *store, int64_t id, int64_t now_us, struct error *err)
{
	struct store_token io = { .id = id, .revoked_at_us = now_us };

	return store->backend->token_run(store, STORE_SQL_TOKEN_REVOKE, &io, NULL, NULL, err);
}

void store_token_clear(struct store_token *t)
{
	free(t->name);
	free(t->tenant);
	t->name = t->tenant = NULL;
}

void store_token_list_free(struct store_token_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		store_token_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int store_token_idempotency_get(struct store *store, const char *tenant, const char *key, int64_t *task_id,
				struct error *err)
{
	struct store_token io = { .tenant = (char *)tenant, .name = (char *)key };

	*task_id = 0;
	if (!text_valid(tenant, 256, false) || !text_valid(key, STORE_IDEMPOTENCY_KEY_MAX, false))
		return error_set(err, EINVAL, "idempotency", "a bad tenant or idempotency key");
	return store->backend->token_run(store, STORE_SQL_IDEMPOTENCY_GET, &io, task_id, NULL, err);
}

int store_token_idempotency_put(struct store *store, const char *tenant, const char *key, int64_t task_id,
				int64_t now_us, struct error *err)
{
	struct store_token io = { .tenant = (char *)tenant, .name = (char *)key, .created_at_us = now_us };

	if (!text_valid(tenant, 256, false) || !text_valid(key, STORE_IDEMPOTENCY_KEY_MAX, false))
		return error_set(err, EINVAL, "idempotency", "a bad tenant or idempotency key");
	return store->backend->token_run(store, STORE_SQL_IDEMPOTENCY_PUT, &io, &task_id, NULL, err);
}
