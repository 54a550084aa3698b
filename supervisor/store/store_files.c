/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_files.c — a task's files (store_files.h): argument
 * checks and dispatch to the backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/store/store_backend.h"
#include "supervisor/store/store_files.h"

const char *store_files_kind_name(enum store_file_kind kind)
{
	switch (kind) {
	case STORE_FILE_INPUT:
		return "input";
	case STORE_FILE_ARTIFACT:
		return "artifact";
	case STORE_FILE_PATTERN:
		return "pattern";
	}
	return "?";
}

static int check_name(const char *name, struct error *err)
{
	if (!name || !name[0] || strlen(name) > STORE_FILES_NAME_MAX)
		return error_set(err, EINVAL, "files", "a file name is 1-%d bytes", STORE_FILES_NAME_MAX);
	return 0;
}

int store_files_put(struct store *store, int64_t task_id, enum store_file_kind kind,
		    const struct store_file *f, struct error *err)
{
	int r = check_name(f->name, err);

	if (r < 0)
		return r;
	if (f->size < 0)
		return error_set(err, EINVAL, "files", "file %s: negative size", f->name);
	return store->backend->files_run(store, STORE_SQL_FILES_PUT, task_id, store_files_kind_name(kind), f,
					 0, NULL, 0, NULL, NULL, err);
}

int store_files_put_chunk(struct store *store, int64_t task_id, enum store_file_kind kind, const char *name,
			  int64_t index, const char *data_b64, int64_t raw_len, struct error *err)
{
	struct store_file f = { .name = (char *)name };
	int r = check_name(name, err);

	if (r < 0)
		return r;
	if (index < 0 || raw_len < 0 || raw_len > (int64_t)STORE_FILES_CHUNK || !data_b64)
		return error_set(err, EINVAL, "files", "file %s: a chunk is 0-%u bytes", name,
				 STORE_FILES_CHUNK);
	return store->backend->files_run(store, STORE_SQL_FILES_CHUNK_PUT, task_id,
					 store_files_kind_name(kind), &f, index, data_b64, raw_len, NULL,
					 NULL, err);
}

int store_files_list(struct store *store, int64_t task_id, enum store_file_kind kind,
		     struct store_file_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	return store->backend->files_run(store, STORE_SQL_FILES_LIST, task_id, store_files_kind_name(kind),
					 NULL, 0, NULL, 0, out, NULL, err);
}

int store_files_get_chunk(struct store *store, int64_t task_id, enum store_file_kind kind, const char *name,
			  int64_t index, char **data_b64, struct error *err)
{
	struct store_file f = { .name = (char *)name };
	int r = check_name(name, err);

	*data_b64 = NULL;
	if (r < 0)
		return r;
	return store->backend->files_run(store, STORE_SQL_FILES_CHUNK_GET, task_id,
					 store_files_kind_name(kind), &f, index, NULL, 0, NULL, data_b64,
					 err);
}

int store_files_expire_artifacts(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
				 int64_t *bytes, size_t *tasks, struct error *err)
{
	*bytes = 0;
	*tasks = 0;
	if (!user || !limit)
		return error_set(err, EINVAL, "files", "expire artifacts: a tenant and a limit, please");
	return store->backend->files_expire(store, user, ended_before_us, limit, bytes, tasks, err);
}

int store_files_drop(struct store *store, int64_t task_id, enum store_file_kind kind, int64_t *bytes,
		     struct error *err)
{
	*bytes = 0;
	return store->backend->files_drop(store, task_id, store_files_kind_name(kind), bytes, err);
}

void store_files_clear(struct store_file *f)
{
	free(f->name);
	free(f->sha256);
	f->name = f->sha256 = NULL;
}

void store_files_list_free(struct store_file_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		store_files_clear(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
