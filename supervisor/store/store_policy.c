/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_policy.c — the cluster's policy generations
 * (store_policy.h): argument checks, the SHA-256 of a text, and dispatch to
 * the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_policy.h"

/* A concurrent push took the number this one read: read it again. */
#define PUSH_TRIES 8

void store_policy_sha256(const char *text, size_t len, char hex[65])
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)text);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static bool by_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > STORE_POLICY_BY_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int store_policy_push(struct store *store, const char *text, const char *by, int64_t expected,
		      struct store_policy *out, struct error *err)
{
	size_t len = text ? strlen(text) : 0;
	int r = -ESTALE;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > STORE_POLICY_TEXT_MAX)
		return error_set(err, EINVAL, "policy push", "a policy text is 1-%u bytes",
				 STORE_POLICY_TEXT_MAX);
	if (!by_valid(by))
		return error_set(err, EINVAL, "policy push",
				 "a push needs who made it (1-%d printable bytes)", STORE_POLICY_BY_MAX);
	store_policy_sha256(text, len, out->sha256);
	for (int i = 0; i < PUSH_TRIES && r == -ESTALE; i++) {
		r = store->backend->policy_run(store, STORE_SQL_POLICY_PUSH, text, by, expected, out, err);
		if (expected >= 0)
			break;
	}
	if (r == -ESTALE && expected >= 0)
		return error_set(err, ESTALE, "policy push",
				 "the latest policy generation is no longer %lld (another push came first)",
				 (long long)expected);
	if (r == -ESTALE)
		return error_set(err, ESTALE, "policy push", "other pushes kept taking the next generation");
	return r;
}

int store_policy_generation(struct store *store, int64_t *generation, struct error *err)
{
	struct store_policy p = { 0 };
	int r = store->backend->policy_run(store, STORE_SQL_POLICY_GENERATION, NULL, NULL, -1, &p, err);

	*generation = r < 0 ? 0 : p.generation;
	return r;
}

int store_policy_latest(struct store *store, struct store_policy *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->policy_run(store, STORE_SQL_POLICY_LATEST, NULL, NULL, -1, out, err);
}

void store_policy_clear(struct store_policy *policy)
{
	free(policy->text);
	free(policy->pushed_by);
	memset(policy, 0, sizeof(*policy));
}

int store_policy_node_set(struct store *store, const char *node, int64_t applied, int64_t failed,
			  const char *error, struct error *err)
{
	struct store_policy_node in = { .node = (char *)node, .applied = applied, .failed = failed };
	char cut[STORE_POLICY_ERROR_MAX + 1];

	if (!node || !node[0] || strlen(node) > 63 || applied < 0 || failed < 0)
		return error_set(err, EINVAL, "policy node",
				 "a node name of 1-63 bytes and generations >= 0");
	if (error) {
		size_t n = strlen(error);

		if (n > STORE_POLICY_ERROR_MAX) {
			n = STORE_POLICY_ERROR_MAX;
			while (n && ((unsigned char)error[n] & 0xc0) == 0x80)
				n--; /* never half a UTF-8 character */
		}
		memcpy(cut, error, n);
		cut[n] = '\0';
		in.error = cut;
	}
	return store->backend->policy_node_run(store, STORE_SQL_POLICY_NODE_SET, &in, NULL, err);
}

int store_policy_nodes(struct store *store, struct store_policy_node_list *list, struct error *err)
{
	memset(list, 0, sizeof(*list));
	return store->backend->policy_node_run(store, STORE_SQL_POLICY_NODES, NULL, list, err);
}

void store_policy_node_list_free(struct store_policy_node_list *list)
{
	for (size_t i = 0; list && i < list->count; i++) {
		free(list->items[i].node);
		free(list->items[i].error);
	}
	if (list) {
		free(list->items);
		memset(list, 0, sizeof(*list));
	}
}
