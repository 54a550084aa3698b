/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_policy.h — the cluster's policy in the store: each
 * `corral policy push` is a new generation (numbered 1, 2, ...; never
 * changed once written) holding the text of the cluster-wide part of the
 * policy ([access], [default], [plan], [user], [profile]), its SHA-256, who
 * pushed it and when (the database's clock).  The nodes apply the latest
 * generation over their own file's per-host sections.  The store does not
 * read the text: validating it is corrald's business (policy/).
 */
#ifndef CORRAL_SUPERVISOR_STORE_POLICY_H
#define CORRAL_SUPERVISOR_STORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_POLICY_TEXT_MAX (1u << 20) /* bytes of a pushed policy text */
#define STORE_POLICY_BY_MAX 256          /* bytes of who pushed it */

/* One generation.  text and pushed_by are owned (store_policy_clear). */
struct store_policy {
	int64_t generation; /* >= 1 */
	char *text;
	char sha256[65]; /* lowercase hex of the text's SHA-256 */
	char *pushed_by;
	int64_t pushed_at_us; /* the database's clock */
};

/* Store text (1..STORE_POLICY_TEXT_MAX bytes, no NUL) as the next
 * generation (the latest + 1) in one transaction, pushed by by (1..256
 * printable bytes).  expected < 0: whatever the latest is; expected >= 0:
 * only while the latest is expected (0 = there is none yet), else -ESTALE
 * and nothing is stored (the first node of a cluster pushes its file so:
 * of two starting together, one wins).  0 with *out filled (its text
 * left NULL), or -EINVAL for bad arguments. */
int store_policy_push(struct store *store, const char *text, const char *by, int64_t expected,
		      struct store_policy *out, struct error *err);
/* The latest generation's number, 0 when there is none (one cheap read,
 * for every poll). */
int store_policy_generation(struct store *store, int64_t *generation, struct error *err);
/* The latest generation with its text: 0, or -ENOENT when there is none. */
int store_policy_latest(struct store *store, struct store_policy *out, struct error *err);
/* Which generation a node runs (0: its file's own policy), the latest
 * that did not load there (0: none) and why (NULL: none; cut to
 * STORE_POLICY_ERROR_MAX bytes); at_us: the database's clock. */
struct store_policy_node {
	char *node;
	int64_t applied, failed;
	char *error;
	int64_t at_us;
};
struct store_policy_node_list {
	struct store_policy_node *items;
	size_t count;
};
#define STORE_POLICY_ERROR_MAX 4096
/* Record node's (1..63 bytes) state, replacing its previous one. */
int store_policy_node_set(struct store *store, const char *node, int64_t applied, int64_t failed,
			  const char *error, struct error *err);
/* Every node's, by name. */
int store_policy_nodes(struct store *store, struct store_policy_node_list *list, struct error *err);
void store_policy_node_list_free(struct store_policy_node_list *list);
/* lowercase hex SHA-256 of len bytes of text into hex (65 bytes). */
void store_policy_sha256(const char *text, size_t len, char hex[65]);
void store_policy_clear(struct store_policy *policy);

#endif
