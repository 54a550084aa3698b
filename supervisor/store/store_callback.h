/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_callback.h — result webhooks: the URL a task's
 * end is POSTed to and the delivery's state, kept in the store so a
 * restart loses none (delivered at least once).  A callback is due once
 * its task is terminal and next_at_us has passed; a delivery first claims
 * it (attempts + 1, next_at_us moved to the claim's lease end), then
 * settles it (delivered, failed for good) or sets the next retry.
 */
#ifndef CORRAL_SUPERVISOR_STORE_CALLBACK_H
#define CORRAL_SUPERVISOR_STORE_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_CALLBACK_URL_MAX 2048
#define STORE_CALLBACK_ERROR_MAX 256

/* One callback.  Strings are owned (store_callback_clear). */
struct store_callback {
	int64_t task_id;
	char *url;
	char *state; /* "pending", "delivered", "failed" */
	uint32_t attempts;
	int64_t next_at_us;
	char *last_error; /* "" = none */
	int64_t delivered_at_us;
};

struct store_callback_list {
	struct store_callback *items;
	size_t count;
};

/* Remember task_id's URL (in the open batch, beside its submit). */
int store_callback_add(struct store *store, int64_t task_id, const char *url, struct error *err);
/* Up to limit pending callbacks whose task ended and whose next_at_us <= now_us. */
int store_callback_due(struct store *store, int64_t now_us, size_t limit, struct store_callback_list *out,
		       struct error *err);
/* Claim a due callback for one attempt until lease_until_us: 0, or -ESTALE
 * when it is not due (delivered, claimed by another node). */
int store_callback_claim(struct store *store, int64_t task_id, int64_t now_us, int64_t lease_until_us,
			 struct error *err);
/* The attempt failed: try again at next_at_us. */
int store_callback_retry(struct store *store, int64_t task_id, int64_t next_at_us, const char *why,
			 struct error *err);
/* The end: delivered (at at_us), or failed for good with why. */
int store_callback_settle(struct store *store, int64_t task_id, bool delivered, int64_t at_us,
			  const char *why, struct error *err);
/* task_id's callback: 0, or -ENOENT. */
int store_callback_get(struct store *store, int64_t task_id, struct store_callback *out, struct error *err);
void store_callback_clear(struct store_callback *c);
void store_callback_list_free(struct store_callback_list *list);

#endif
