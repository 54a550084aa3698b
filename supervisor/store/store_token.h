/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_token.h — API tokens for the HTTP transport and
 * idempotency keys of HTTP submits.  The store keeps a token's SHA-256
 * (hex), never the token; a token acts for one tenant, or for every tenant
 * when it is an operator's.  An idempotency key maps (tenant, key) to the
 * task its first submit created, so a retried submit never queues twice.
 */
#ifndef CORRAL_SUPERVISOR_STORE_TOKEN_H
#define CORRAL_SUPERVISOR_STORE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_TOKEN_HASH_HEX 64 /* SHA-256 as lowercase hex */
#define STORE_TOKEN_NAME_MAX 64
#define STORE_IDEMPOTENCY_KEY_MAX 255

/* One token row.  Strings are owned (store_token_clear). */
struct store_token {
	int64_t id;
	char *name;   /* "ci"; "" when none */
	char *tenant; /* the tenant it acts for */
	bool operator_;
	char hash[STORE_TOKEN_HASH_HEX + 1];
	int64_t created_at_us;
	int64_t last_used_at_us; /* 0 = never */
	int64_t expires_at_us;   /* 0 = never */
	int64_t revoked_at_us;   /* 0 = not revoked */
};

struct store_token_list {
	struct store_token *items;
	size_t count;
};

/* Store a new token (hash, name, tenant, operator_, created_at_us,
 * expires_at_us are read): 0 with its id, -EEXIST for a hash already
 * stored, -EINVAL for bad fields. */
int store_token_create(struct store *store, const struct store_token *t, int64_t *id, struct error *err);
/* How stale a token's recorded last use may get: a request writes it only
 * when it is older (most requests only read). */
#define STORE_TOKEN_TOUCH_US (60ll * 1000000)
/* The live token with this hash (not revoked, not expired at now_us): 0,
 * its last use set to now_us when the recorded one is older than
 * STORE_TOKEN_TOUCH_US; or -ENOENT. */
int store_token_use(struct store *store, const char *hash, int64_t now_us, struct store_token *out,
		    struct error *err);
/* Every token, revoked and expired ones included, by id. */
int store_token_list(struct store *store, struct store_token_list *out, struct error *err);
/* Revoke token id at now_us: 0, or -ENOENT (no such live token). */
int store_token_revoke(struct store *store, int64_t id, int64_t now_us, struct error *err);
void store_token_clear(struct store_token *t);
void store_token_list_free(struct store_token_list *list);

/* The task a submit with (tenant, key) created: 0 with *task_id, or -ENOENT. */
int store_token_idempotency_get(struct store *store, const char *tenant, const char *key, int64_t *task_id,
				struct error *err);
/* Remember (tenant, key) -> task_id (in the open batch, beside the submit);
 * a key already there is kept (-EEXIST). */
int store_token_idempotency_put(struct store *store, const char *tenant, const char *key, int64_t task_id,
				int64_t now_us, struct error *err);

#endif
