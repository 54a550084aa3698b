/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/storage.c — what the store holds per tenant: the
 * counters (loaded from the store at start, so exact across restarts; kept
 * by submit, the end of a task and retention), the plan's max_stored quota
 * a submit is checked against, and retention: ended tasks older than the
 * plan's `retention` removed in small batches on the poll tick, with their
 * files (outputs, status, a stdin left behind); and artifact retention:
 * the artifacts of tasks ended longer than the plan's artifact_retention
 * ago (the tasks stay).
 *
 * Not here: what a task stores (store_input_bytes, the output sizes in
 * task_end.c) and the SQL (store/).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/store/store_files.h"

int storage_load(struct daemon *d)
{
	struct store_storage_list list;
	struct error err;
	int r = store_storage_by_user(d->store, &list, &err);

	if (r < 0) {
		log_error("read what the store holds per tenant: %s", err.message);
		return r;
	}
	for (size_t i = 0; i < list.count; i++) {
		struct duser *u = queue_user(d, list.items[i].user);

		if (!u) {
			store_storage_list_free(&list);
			return -ENOMEM;
		}
		u->stored_bytes = list.items[i].bytes > 0 ? (uint64_t)list.items[i].bytes : 0;
	}
	store_storage_list_free(&list);
	op_upload_expire(d, true); /* what expired while corrald was away */
	return 0;
}

enum api_error_code storage_check_quota(const struct duser *u, const struct policy_limits *lim, uint64_t need,
					char *msg, size_t size)
{
	if (!lim->max_stored_bytes || u->stored_bytes + need <= lim->max_stored_bytes)
		return API_ERR_NONE;
	snprintf(msg, size,
		 "%s: this task needs %" PRIu64
		 " bytes of storage but the tenant's tasks already hold %" PRIu64 " of the %" PRIu64
		 " bytes plan %s allows (max_stored); ended tasks are removed after "
		 "the plan's retention",
		 u->name, need, u->stored_bytes, lim->max_stored_bytes, lim->plan);
	return API_ERR_STORAGE_QUOTA;
}

/* The files of a removed task: its directory (stdout, stderr, status) and
 * a stdin file that was never consumed. */
static void remove_task_files(struct daemon *d, const struct store_purged *p)
{
	char path[4200];
	DIR *dir;
	struct dirent *de;

	if (p->stdin_path && unlink(p->stdin_path) < 0 && errno != ENOENT)
		log_task(LOG_LEVEL_WARNING, p->id, "remove %s: %s", p->stdin_path, strerror(errno));
	task_workdir_drop(d, p->id); /* a /work tmpfs left by an attempt */
	task_start_dir(d, p->id, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return; /* never started: no directory */
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT)
			log_task(LOG_LEVEL_WARNING, p->id, "remove %s/%s: %s", path, de->d_name,
				 strerror(errno));
	}
	closedir(dir);
	if (rmdir(path) < 0 && errno != ENOENT)
		log_task(LOG_LEVEL_WARNING, p->id, "remove %s: %s", path, strerror(errno));
}

/* Remove up to limit of u's expired tasks; how many were removed, or -errno. */
static int purge_user(struct daemon *d, struct duser *u, uint64_t now_us, size_t limit)
{
	struct policy_limits lim;
	struct store_purged_list list;
	struct error err;
	int64_t before;
	int r;

	if (!u->stored_bytes || tenants_limits_for(d, u->name, &lim) < 0 || !lim.retention_seconds)
		return 0;
	if (lim.retention_seconds * 1000000u > now_us)
		return 0;
	before = (int64_t)(now_us - lim.retention_seconds * 1000000u);
	r = store_purge_ended(d->store, u->name, before, limit, &list, &err);
	if (r < 0) {
		log_warning("retention of %s: %s", u->name, err.message);
		return r;
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct store_purged *p = &list.items[i];
		uint64_t bytes = p->stored_bytes > 0 ? (uint64_t)p->stored_bytes : 0;

		remove_task_files(d, p);
		u->stored_bytes = u->stored_bytes > bytes ? u->stored_bytes - bytes : 0;
		log_task(LOG_LEVEL_DEBUG, p->id,
			 "removed: ended over %" PRIu64 " s ago (retention of plan %s)",
			 lim.retention_seconds, lim.plan);
	}
	r = (int)list.count;
	if (list.count)
		log_info("retention: removed %d ended tasks of %s", r, u->name);
	store_purged_list_free(&list);
	return r;
}

/* Artifact retention: the artifacts of up to limit of u's tasks that ended
 * more than the plan's artifact_retention ago go (the tasks stay); how
 * many tasks lost them, or -errno. */
static int expire_artifacts(struct daemon *d, struct duser *u, uint64_t now_us, size_t limit)
{
	struct policy_limits lim;
	struct error err;
	int64_t bytes = 0;
	size_t tasks = 0;
	int r;

	if (!u->stored_bytes || tenants_limits_for(d, u->name, &lim) < 0 || !lim.artifact_retention_seconds ||
	    lim.artifact_retention_seconds * 1000000u > now_us)
		return 0;
	r = store_files_expire_artifacts(d->store, u->name,
					 (int64_t)(now_us - lim.artifact_retention_seconds * 1000000u), limit,
					 &bytes, &tasks, &err);
	if (r < 0) {
		log_warning("artifact retention of %s: %s", u->name, err.message);
		return r;
	}
	u->stored_bytes = u->stored_bytes > (uint64_t)bytes ? u->stored_bytes - (uint64_t)bytes : 0;
	if (tasks)
		log_info("artifact retention: removed the artifacts of %zu ended tasks of %s (%" PRId64
			 " bytes)",
			 tasks, u->name, bytes);
	return (int)tasks;
}

size_t storage_retention_tick(struct daemon *d)
{
	uint64_t now = daemon_now_us(d);
	size_t rows = STORAGE_RETENTION_BATCH, queries = STORAGE_RETENTION_TENANTS, buckets = d->user_buckets;
	size_t removed = 0;

	/* outside the loop's batch: files go only after their rows did */
	if (d->batch_open)
		return 0;
	removed = op_upload_expire(d, false);
	if (!buckets)
		return removed;
	/* from the bucket where the last tick stopped, so one tenant with a
	 * long backlog cannot keep the others waiting */
	for (size_t n = 0; n < buckets && rows && queries; n++) {
		size_t b = (d->retention_cursor + n) % buckets;

		for (struct duser *u = d->user_table[b]; u && rows && queries; u = u->hash_next) {
			int r;

			if (!u->stored_bytes)
				continue;
			queries--;
			r = purge_user(d, u, now, rows);
			if (r >= 0 && (size_t)r < rows) {
				int e = expire_artifacts(d, u, now, rows - (size_t)r);

				r = e < 0 ? e : r + e;
			}
			if (r < 0)
				return removed; /* the store is unwell: try at the next tick */
			rows -= (size_t)r;
			removed += (size_t)r;
		}
		if (!rows || !queries) {
			d->retention_cursor = b; /* this bucket again first, next tick */
			break;
		}
	}
	return removed;
}
