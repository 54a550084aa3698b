/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_callback.c — result webhooks' delivery state
 * (store_callback.h): argument checks and dispatch to the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_callback.h"

int store_callback_add(struct store *store, int64_t task_id, const char *url, struct error *err)
{
	struct store_callback io = { .task_id = task_id, .url = (char *)url };

	if (!url || !url[0] || strlen(url) > STORE_CALLBACK_URL_MAX)
		return error_set(err, EINVAL, "callback", "a callback URL is 1-%d bytes",
				 STORE_CALLBACK_URL_MAX);
	return store->backend->callback_run(store, STORE_SQL_CALLBACK_ADD, &io, 0, 0, NULL, err);
}

int store_callback_due(struct store *store, int64_t now_us, size_t limit, struct store_callback_list *out,
		       struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->callback_run(store, STORE_SQL_CALLBACK_DUE, NULL, now_us, (int64_t)limit, out,
					    err);
}

int store_callback_claim(struct store *store, int64_t task_id, int64_t now_us, int64_t lease_until_us,
			 struct error *err)
{
	struct store_callback io = { .task_id = task_id, .next_at_us = lease_until_us };

	return store->backend->callback_run(store, STORE_SQL_CALLBACK_CLAIM, &io, now_us, 0, NULL, err);
}

/* A message that fits the column. */
static char *cut(const char *why, char *buf, size_t size)
{
	snprintf(buf, size, "%s", why ? why : "");
	return buf;
}

int store_callback_retry(struct store *store, int64_t task_id, int64_t next_at_us, const char *why,
			 struct error *err)
{
	char text[STORE_CALLBACK_ERROR_MAX + 1];
	struct store_callback io = { .task_id = task_id,
				     .next_at_us = next_at_us,
				     .last_error = cut(why, text, sizeof(text)) };

	return store->backend->callback_run(store, STORE_SQL_CALLBACK_RETRY, &io, 0, 0, NULL, err);
}

int store_callback_settle(struct store *store, int64_t task_id, bool delivered, int64_t at_us,
			  const char *why, struct error *err)
{
	char text[STORE_CALLBACK_ERROR_MAX + 1];
	struct store_callback io = { .task_id = task_id,
				     .state = delivered ? "delivered" : "failed",
				     .last_error = cut(why, text, sizeof(text)),
				     .delivered_at_us = delivered ? at_us : 0 };

	return store->backend->callback_run(store, STORE_SQL_CALLBACK_SETTLE, &io, 0, 0, NULL, err);
}

int store_callback_get(struct store *store, int64_t task_id, struct store_callback *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	out->task_id = task_id;
	return store->backend->callback_run(store, STORE_SQL_CALLBACK_GET, out, 0, 0, NULL, err);
}

void store_callback_clear(struct store_callback *c)
{
	free(c->url);
	free(c->state);
	free(c->last_error);
	c->url = c->state = c->last_error = NULL;
}

void store_callback_list_free(struct store_callback_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		store_callback_clear(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
