/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_files.h — a task's files in the store: its inputs
 * (stored with its submit, in the same batch), the artifact patterns it
 * asked for, and the artifacts collected from its /work after its end.
 * A file is one row of metadata (task_files) and its content in chunks of
 * at most STORE_FILES_CHUNK bytes, base64 text (task_file_chunks), so both
 * backends read and write it alike and no row grows past ~256 KiB.  Every
 * chunk written adds its bytes to the task's stored_bytes (the tenant's
 * storage quota) in the same transaction; the inputs are removed when the
 * task ends (store_files_drop: a retried attempt still has them), the
 * artifacts by artifact retention, the rest with the task by retention
 * (store_purge_ended).
 */
#ifndef CORRAL_SUPERVISOR_STORE_FILES_H
#define CORRAL_SUPERVISOR_STORE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_FILES_CHUNK (192u << 10) /* raw bytes per chunk row */
#define STORE_FILES_NAME_MAX 4096      /* a file's path relative to /work, bytes */

enum store_file_kind {
	STORE_FILE_INPUT,    /* written into /work before the command starts */
	STORE_FILE_ARTIFACT, /* collected from /work after the end */
	STORE_FILE_PATTERN,  /* an artifact glob of the submit (name = the glob) */
};

/* One file.  Strings are owned (store_files_clear). */
struct store_file {
	char *name;     /* relative to /work: "src/main.c" */
	uint32_t mode;  /* permission bits (0755, 0644) */
	int64_t size;   /* bytes stored */
	char *sha256;   /* hex of what is stored; "" for a directory or a cut file with no data */
	bool truncated; /* cut by a cap: the head is stored (or nothing) */
	bool is_dir;    /* an input directory (no content) */
};

struct store_file_list {
	struct store_file *items;
	size_t count;
};

/* "input", "artifact", "pattern". */
const char *store_files_kind_name(enum store_file_kind kind);
/* The metadata row of one file (in the open batch, beside its chunks). */
int store_files_put(struct store *store, int64_t task_id, enum store_file_kind kind,
		    const struct store_file *f, struct error *err);
/* Chunk number index (0, 1, ...) of a file: data_b64 is the base64 of its
 * raw_len bytes; raw_len joins the task's stored_bytes. */
int store_files_put_chunk(struct store *store, int64_t task_id, enum store_file_kind kind, const char *name,
			  int64_t index, const char *data_b64, int64_t raw_len, struct error *err);
/* The files of one kind of a task, by name. */
int store_files_list(struct store *store, int64_t task_id, enum store_file_kind kind,
		     struct store_file_list *out, struct error *err);
/* Chunk index of a file as base64 text (malloc'd): 0, or -ENOENT past its end. */
int store_files_get_chunk(struct store *store, int64_t task_id, enum store_file_kind kind, const char *name,
			  int64_t index, char **data_b64, struct error *err);
/* Artifact retention: remove the artifacts of up to limit of user's tasks
 * that ended before ended_before_us, their bytes taken off the tasks'
 * stored_bytes; *bytes = what was freed, *tasks = how many tasks. */
int store_files_expire_artifacts(struct store *store, const char *user, int64_t ended_before_us, size_t limit,
				 int64_t *bytes, size_t *tasks, struct error *err);
/* Remove the files of one kind of a task (its inputs at its end), their
 * bytes taken off its stored_bytes in the same transaction; *bytes = what
 * was freed (0 when it had none). */
int store_files_drop(struct store *store, int64_t task_id, enum store_file_kind kind, int64_t *bytes,
		     struct error *err);
void store_files_clear(struct store_file *f);
void store_files_list_free(struct store_file_list *list);

#endif
