/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/spec.c — the jail spec's defaults and validation, status names and
 * the result's JSON form (the documented contract), small shared helpers.
 * Nothing here touches namespaces or cgroups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runner/cgroup.h"
#include "runner/internal.h"

void jail_spec_init(struct jail_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->cwd = JAIL_DEFAULT_CWD;
	spec->hostname = JAIL_DEFAULT_HOSTNAME;
	spec->tmp_bytes = JAIL_DEFAULT_TMP_BYTES;
	spec->work_bytes = JAIL_DEFAULT_TMP_BYTES;
	spec->uid = JAIL_DEFAULT_UID;
	spec->gid = JAIL_DEFAULT_UID;
	spec->seccomp = JAIL_SECCOMP_DEFAULT;
	spec->rlimit_nofile = JAIL_DEFAULT_NOFILE;
	spec->rlimit_fsize = JAIL_DEFAULT_FSIZE;
	spec->rlimit_stack = JAIL_DEFAULT_STACK;
	spec->cgroup_parent = JAIL_DEFAULT_CGROUP;
	/* safe defaults: a jail without explicit limits must not take the host */
	spec->memory_bytes = JAIL_DEFAULT_MEMORY;
	spec->pids_max = JAIL_DEFAULT_PIDS;
	spec->netns_fd = -1; /* a new network namespace */
}

/* Limits beyond these are typos, not wishes. */
#define MAX_MEMORY_BYTES (1ull << 50) /* 1 PiB */
#define MAX_CPU_MILLIS (1024u * 1000u)
#define MAX_TIME_MS (366ull * 24 * 3600 * 1000)
#define MAX_PIDS (1ull << 22)

static bool path_is_clean_absolute(const char *p)
{
	if (!p || p[0] != '/')
		return false;
	/* no ".." components: targets are created inside the new root */
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool starts = s == p || s[-1] == '/';
		bool ends = s[2] == '\0' || s[2] == '/';
		if (starts && ends)
			return false;
	}
	return true;
}

static bool name_is_clean(const char *name)
{
	if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	return strchr(name, '/') == NULL && strlen(name) < 200;
}

int jail_spec_validate(const struct jail_spec *spec, struct jail_error *err)
{
	struct stat st;

	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return jail_error_set(err, 0, "spec", "no command given");
	if (spec->host_uid == 0 || spec->host_gid == 0 || spec->host_uid == (uid_t)-1 ||
	    spec->host_gid == (gid_t)-1)
		return jail_error_set(err, 0, "spec",
				      "host uid/gid must be an unprivileged id (not 0 or -1), got %u:%u",
				      (unsigned)spec->host_uid, (unsigned)spec->host_gid);
	if (spec->uid == (uid_t)-1 || spec->gid == (gid_t)-1)
		return jail_error_set(err, 0, "spec", "uid/gid inside the jail must not be -1");
	if (spec->memory_bytes && (spec->memory_bytes < (1u << 20) || spec->memory_bytes > MAX_MEMORY_BYTES))
		return jail_error_set(err, 0, "spec", "memory limit %llu bytes is outside 1M..1P",
				      (unsigned long long)spec->memory_bytes);
	if (spec->pids_max > MAX_PIDS)
		return jail_error_set(err, 0, "spec", "pids limit %llu is above %llu",
				      (unsigned long long)spec->pids_max, (unsigned long long)MAX_PIDS);
	if (spec->cpu_millis > MAX_CPU_MILLIS)
		return jail_error_set(err, 0, "spec", "cpu quota %.3f CPUs is above %u",
				      spec->cpu_millis / 1000.0, MAX_CPU_MILLIS / 1000);
	if (spec->wall_time_ms > MAX_TIME_MS || spec->cpu_time_ms > MAX_TIME_MS ||
	    spec->kill_grace_ms > MAX_TIME_MS)
		return jail_error_set(err, 0, "spec", "time limit above one year");
	if (spec->tmp_bytes < 4096 || spec->work_bytes < 4096)
		return jail_error_set(err, 0, "spec", "/tmp and /work sizes must be at least 4K");
	if (!path_is_clean_absolute(spec->cwd))
		return jail_error_set(err, 0, "spec",
				      "working directory '%s' must be an absolute path without '..'",
				      spec->cwd ? spec->cwd : "(null)");
	if (!spec->hostname || !*spec->hostname || strlen(spec->hostname) > 64)
		return jail_error_set(err, 0, "spec", "hostname must be 1..64 characters");
	if (spec->seccomp > JAIL_SECCOMP_NONE)
		return jail_error_set(err, 0, "spec", "unknown seccomp profile %d", (int)spec->seccomp);
	if (spec->rlimit_nofile < 8 || spec->rlimit_nofile > (1u << 20))
		return jail_error_set(err, 0, "spec", "open-files limit %llu is outside 8..1048576",
				      (unsigned long long)spec->rlimit_nofile);
	if (spec->rlimit_stack < (64u << 10))
		return jail_error_set(err, 0, "spec", "stack limit must be at least 64K");
	if (spec->work_dir) {
		if (spec->work_dir[0] != '/')
			return jail_error_set(err, 0, "spec", "work dir '%s' must be an absolute path",
					      spec->work_dir);
		if (stat(spec->work_dir, &st) < 0)
			return jail_error_set(err, errno, "spec", "work dir '%s'", spec->work_dir);
		if (!S_ISDIR(st.st_mode))
			return jail_error_set(err, ENOTDIR, "spec", "work dir '%s'", spec->work_dir);
	}
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct jail_mount *m = &spec->mounts[i];

		if (!path_is_clean_absolute(m->target) || strcmp(m->target, "/") == 0)
			return jail_error_set(
				err, 0, "spec",
				"mount target '%s' must be an absolute path below / without '..'",
				m->target ? m->target : "(null)");
		if (m->kind == JAIL_MOUNT_TMPFS)
			continue;
		if (m->kind != JAIL_MOUNT_BIND_RO && m->kind != JAIL_MOUNT_BIND_RW)
			return jail_error_set(err, 0, "spec", "mount %s: unknown kind", m->target);
		if (!m->source || m->source[0] != '/')
			return jail_error_set(err, 0, "spec", "bind source '%s' must be an absolute path",
					      m->source ? m->source : "(null)");
		if (stat(m->source, &st) < 0)
			return jail_error_set(err, errno, "spec", "bind source '%s'", m->source);
	}
	if (spec->cgroup_parent && !*spec->cgroup_parent)
		return jail_error_set(err, 0, "spec", "cgroup parent must not be empty");
	if (spec->cgroup_name && !name_is_clean(spec->cgroup_name))
		return jail_error_set(err, 0, "spec", "cgroup name '%s' must be one path component",
				      spec->cgroup_name);
	return 0;
}

static const char *const status_names[] = {
	[JAIL_OK] = "ok",
	[JAIL_EXIT_NONZERO] = "exit_nonzero",
	[JAIL_SIGNALED] = "signaled",
	[JAIL_TIMEOUT] = "timeout",
	[JAIL_CPU_LIMIT] = "cpu_limit",
	[JAIL_OOM] = "oom",
	[JAIL_OUTPUT_LIMIT] = "output_limit",
	[JAIL_KILLED] = "killed",
	[JAIL_SPAWN_ERROR] = "spawn_error",
	[JAIL_LEASE_LOST] = "lease_lost",
};

const char *jail_status_name(enum jail_status status)
{
	if ((unsigned)status < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[status];
	return "unknown";
}

char *jail_result_to_json(const struct jail_result *r)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:b, s:b}",
			      "status", jail_status_name(r->status), "exit_code", r->exit_code, "signal",
			      r->signal, "wall_us", (json_int_t)r->wall_us, "cpu_user_us",
			      (json_int_t)r->cpu_user_us, "cpu_system_us", (json_int_t)r->cpu_system_us,
			      "cpu_usage_us", (json_int_t)r->cpu_usage_us, "memory_peak_bytes",
			      (json_int_t)r->memory_peak_bytes, "oom_killed", r->oom_killed, "oom_kills",
			      (json_int_t)r->oom_kills, "stdout_bytes", (json_int_t)r->stdout_bytes,
			      "stderr_bytes", (json_int_t)r->stderr_bytes, "stdout_truncated",
			      r->stdout_truncated, "stderr_truncated", r->stderr_truncated);
	char *text;

	if (!o)
		return NULL;
	if (r->status == JAIL_SPAWN_ERROR) {
		json_object_set_new(o, "error_step", json_string(r->error.step));
		json_object_set_new(o, "error", json_string(r->error.message));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int jail_supervisor_enter(const char *leaf, const char *subtree_name, const char *cgroup_parent,
			  const char **subtree, struct jail_error *err)
{
	return cgroup_supervisor_enter(leaf, subtree_name,
				       cgroup_parent ? cgroup_parent : JAIL_DEFAULT_CGROUP, subtree, err);
}

int jail_supervisor_leave(struct jail_error *err)
{
	return cgroup_supervisor_leave(err);
}

void jail_cleanup_cgroup_parent(const char *cgroup_parent)
{
	cgroup_remove_parent(cgroup_parent ? cgroup_parent : JAIL_DEFAULT_CGROUP);
}

int jail_list_cgroups(const char *cgroup_parent, char ***names, size_t *n)
{
	return cgroup_list_children(cgroup_parent ? cgroup_parent : JAIL_DEFAULT_CGROUP, names, n);
}
