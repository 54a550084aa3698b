/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_token.c — API tokens: token_create, token_list,
 * token_revoke (operators, over any transport), and how the HTTP transport
 * turns a bearer token into a caller.  A token is "crl_" and 43 characters
 * of URL-safe base64 (32 random bytes); the store keeps only its SHA-256
 * (nettle), found by that hash and compared again in constant time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_token.h"

#define TOKEN_PREFIX "crl_"
#define TOKEN_RANDOM_BYTES 32

void op_token_hash(const char *secret, size_t len, char out[STORE_TOKEN_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)secret);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[STORE_TOKEN_HASH_HEX] = '\0';
}

int op_token_authenticate(struct daemon *d, const char *secret, size_t len, struct caller *out)
{
	char hash[STORE_TOKEN_HASH_HEX + 1], label[96];
	struct store_token t;
	struct error err;
	int r;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(TOKEN_PREFIX) || len > 256 ||
	    strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return -EACCES;
	op_token_hash(secret, len, hash);
	r = store_token_use(d->store, hash, (int64_t)daemon_now_us(d), &t, &err);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0) {
		store_token_clear(&t);
		log_error("look up an API token: %s", err.message);
		return r;
	}
	/* found by its hash; compared again without a data-dependent branch */
	if (!memeql_sec(t.hash, hash, STORE_TOKEN_HASH_HEX)) {
		store_token_clear(&t);
		return -EACCES;
	}
	snprintf(label, sizeof(label), "token %lld%s%s", (long long)t.id, t.name[0] ? " " : "", t.name);
	out->uid = OP_TOKEN_UID;
	out->gid = OP_TOKEN_UID;
	out->user = strdup(label);
	out->tenant = TAKE_PTR(t.tenant);
	out->operator_ = t.operator_;
	out->allowed = true;
	store_token_clear(&t);
	if (!out->user || !out->tenant) {
		caller_clear(out);
		return -ENOMEM;
	}
	return 0;
}

static json_t *token_json(const struct store_token *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", json_string(t->name ? t->name : ""));
	json_object_set_new(o, "tenant", json_string(t->tenant));
	json_object_set_new(o, "operator", json_boolean(t->operator_));
	json_object_set_new(o, "created_at_us", json_integer(t->created_at_us));
	json_object_set_new(o, "last_used_at_us", json_integer(t->last_used_at_us));
	json_object_set_new(o, "expires_at_us", json_integer(t->expires_at_us));
	json_object_set_new(o, "revoked_at_us", json_integer(t->revoked_at_us));
	return o;
}

static void token_create(struct daemon *d, const struct caller *c, const struct api_request *req,
			 struct reply_sink *sink)
{
	uint8_t random[TOKEN_RANDOM_BYTES];
	char secret[sizeof(TOKEN_PREFIX) + 48];
	_cleanup_free_ char *b64 = NULL;
	struct store_token t = { 0 };
	struct error err;
	json_t *body;
	int64_t id;
	int r;

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "getrandom: %m");
		return;
	}
	b64 = api_base64_encode(random, sizeof(random));
	if (!b64) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "out of memory");
		return;
	}
	/* URL-safe and without padding: it goes into headers and shells */
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	b64[strcspn(b64, "=")] = '\0';
	snprintf(secret, sizeof(secret), TOKEN_PREFIX "%s", b64);
	op_token_hash(secret, strlen(secret), t.hash);
	t.name = (char *)(req->token_name ? req->token_name : "");
	t.tenant = (char *)req->user;
	t.operator_ = req->token_operator;
	t.created_at_us = (int64_t)daemon_now_us(d);
	t.expires_at_us = req->expires_ms ? t.created_at_us + (int64_t)req->expires_ms * 1000 : 0;
	r = store_token_create(d->store, &t, &id, &err);
	explicit_bzero(random, sizeof(random));
	if (r < 0) {
		explicit_bzero(secret, sizeof(secret));
		ops_reply_error(sink, req->tag_json, r == -EINVAL ? API_ERR_BAD_REQUEST : API_ERR_INTERNAL,
				"store the token: %s", err.message);
		return;
	}
	t.id = id;
	log_notice("%s created API token %lld (%s) for tenant %s%s", c->user, (long long)id, t.name, t.tenant,
		   t.operator_ ? " with operator rights" : "");
	body = json_object();
	json_object_set_new(body, "token", token_json(&t));
	json_object_set_new(body, "secret", json_string(secret));
	explicit_bzero(secret, sizeof(secret));
	ops_reply_ok_json(sink, req->tag_json, body);
}

static void token_list(struct daemon *d, const struct api_request *req, struct reply_sink *sink,
		       int64_t only_id)
{
	struct store_token_list list;
	struct error err;
	json_t *body, *arr = NULL;

	if (store_token_list(d->store, &list, &err) < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "list tokens: %s", err.message);
		return;
	}
	body = json_object();
	if (!only_id)
		arr = json_array();
	for (size_t i = 0; i < list.count; i++) {
		if (!only_id)
			json_array_append_new(arr, token_json(&list.items[i]));
		else if (list.items[i].id == only_id)
			json_object_set_new(body, "token", token_json(&list.items[i]));
	}
	if (arr)
		json_object_set_new(body, "tokens", arr);
	store_token_list_free(&list);
	ops_reply_ok_json(sink, req->tag_json, body);
}

void op_token(struct daemon *d, const struct caller *c, const struct api_request *req,
	      struct reply_sink *sink)
{
	struct error err;
	int r;

	switch (req->op) {
	case API_OP_TOKEN_CREATE:
		token_create(d, c, req, sink);
		return;
	case API_OP_TOKEN_LIST:
		token_list(d, req, sink, 0);
		return;
	default:
		break;
	}
	r = store_token_revoke(d->store, req->id, (int64_t)daemon_now_us(d), &err);
	if (r == -ENOENT) {
		ops_reply_error(sink, req->tag_json, API_ERR_NOT_FOUND, "no live API token %lld",
				(long long)req->id);
		return;
	}
	if (r < 0) {
		ops_reply_error(sink, req->tag_json, API_ERR_INTERNAL, "revoke token %lld: %s",
				(long long)req->id, err.message);
		return;
	}
	log_notice("%s revoked API token %lld", c->user, (long long)req->id);
	token_list(d, req, sink, req->id);
}
