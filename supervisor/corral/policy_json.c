/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/policy_json.c — `corral policy check|show --json`: a
 * loaded policy (or its errors) as JSON objects for scripts.  The keys are
 * those of the policy files; sizes in bytes, durations in milliseconds (or
 * seconds where the file's key is in seconds), and unlimited is null,
 * never 0.
 */
#include "policy/policy.h"
#include "supervisor/corral/policy_cmd.h"

static json_t *names(const struct policy *p, enum policy_kind kind)
{
	json_t *a = json_array();

	for (size_t i = 0; i < policy_count(p, kind); i++)
		json_array_append_new(a, json_string(policy_name_at(p, kind, i)));
	return a;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* 0 means unlimited for these keys */
static json_t *count_or_null(uint64_t v)
{
	return v ? json_integer((json_int_t)v) : json_null();
}

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *policy_json_summary(const struct policy *p, const char *path)
{
	return json_pack("{s:b, s:s, s:o, s:o, s:o, s:o}", "ok", 1, "path", path, "plans",
			 names(p, POLICY_PLANS), "users", names(p, POLICY_USERS), "profiles",
			 names(p, POLICY_PROFILES), "default_plan", string_or_null(policy_default_plan(p)));
}

json_t *policy_json_errors(const struct policy_errors *errors, const char *path)
{
	json_t *list = json_array();

	for (size_t i = 0; i < errors->count; i++) {
		const struct policy_error *e = &errors->items[i];

		json_array_append_new(list,
				      json_pack("{s:o, s:I, s:o, s:s}", "file", string_or_null(e->file),
						"line", (json_int_t)e->line, "key", string_or_null(e->key),
						"message", e->message ? e->message : ""));
	}
	return json_pack("{s:b, s:s, s:o, s:I}", "ok", 0, "path", path, "errors", list, "omitted",
			 (json_int_t)errors->omitted);
}

json_t *policy_json_limits(const struct policy_limits *l)
{
	json_t *profiles = json_array();

	for (size_t i = 0; i < l->n_profiles; i++)
		json_array_append_new(profiles, json_string(l->profiles[i]));
	return json_pack(
		"{s:s, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I}",
		"plan", l->plan, "profile", l->profile, "profiles", profiles, "max_concurrent",
		(json_int_t)l->max_concurrent, "max_queued", (json_int_t)l->max_queued, "weight",
		(json_int_t)l->weight, "monthly_cpu_ms",
		l->monthly_cpu_ms == POLICY_UNLIMITED ? json_null()
						      : json_integer((json_int_t)l->monthly_cpu_ms),
		"max_task_seconds", count_or_null(l->max_task_seconds), "max_cpu_seconds",
		count_or_null(l->max_cpu_seconds), "memory_bytes", (json_int_t)l->memory_bytes, "pids",
		(json_int_t)l->pids, "cpu_millis", (json_int_t)l->cpu_millis, "output_limit_bytes",
		(json_int_t)l->output_limit_bytes, "max_stored_bytes", count_or_null(l->max_stored_bytes),
		"retention_seconds", count_or_null(l->retention_seconds), "max_input_bytes",
		(json_int_t)l->max_input_bytes, "max_artifact_bytes", (json_int_t)l->max_artifact_bytes);
}

json_t *policy_json_profile(const struct policy_profile *pf)
{
	json_t *binds = json_array(), *tmpfs = json_array();

	for (size_t i = 0; i < pf->n_binds; i++)
		json_array_append_new(binds,
				      json_pack("{s:s, s:s, s:b}", "source", pf->binds[i].source, "target",
						pf->binds[i].target, "writable", pf->binds[i].writable));
	for (size_t i = 0; i < pf->n_tmpfs; i++)
		json_array_append_new(tmpfs,
				      json_pack("{s:s, s:I}", "target", pf->tmpfs[i].target, "size_bytes",
						(json_int_t)pf->tmpfs[i].size_bytes));
	return json_pack(
		"{s:s, s:o, s:I, s:o, s:o, s:I, s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, "
		"s:I, s:o}",
		"name", pf->name, "file", string_or_null(pf->file), "line", (json_int_t)pf->line, "binds",
		binds, "tmpfs", tmpfs, "tmp_bytes", (json_int_t)pf->tmp_bytes, "work_bytes",
		(json_int_t)pf->work_bytes, "env", pf->env ? strings(pf->env) : json_null(), "cwd", pf->cwd,
		"hostname", pf->hostname, "seccomp", policy_seccomp_name(pf->seccomp), "seccomp_allow",
		strings(pf->seccomp_allow), "seccomp_deny", strings(pf->seccomp_deny), "uid",
		(json_int_t)pf->uid, "gid", (json_int_t)pf->gid, "rlimit_nofile",
		(json_int_t)pf->rlimit_nofile, "rlimit_fsize", (json_int_t)pf->rlimit_fsize, "rlimit_stack",
		(json_int_t)pf->rlimit_stack, "artifacts", strings(pf->artifacts));
}

json_t *policy_json_supervisor(const struct policy_supervisor *sv)
{
	return json_pack(
		"{s:s, s:o, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, "
		"s:s, s:o}",
		"state_dir", sv->state_dir, "store", string_or_null(sv->store), "socket", sv->socket,
		"cgroup_parent", sv->cgroup_parent, "max_running", (json_int_t)sv->max_running,
		"memory_reserve_bytes", count_or_null(sv->memory_reserve_bytes), "poll_interval_ms",
		(json_int_t)sv->poll_interval_ms, "drain_timeout_ms", (json_int_t)sv->drain_timeout_ms,
		"kill_grace_ms", (json_int_t)sv->kill_grace_ms, "on_restart",
		sv->on_restart == POLICY_RESTART_KILL ? "kill" : "adopt", "uid_first",
		(json_int_t)sv->uid_first, "uid_last", (json_int_t)sv->uid_last, "node_name",
		string_or_null(sv->node_name), "heartbeat_interval_ms", (json_int_t)sv->heartbeat_interval_ms,
		"node_offline_after_ms", (json_int_t)sv->node_offline_after_ms, "gpus", (json_int_t)sv->gpus,
		"gpu_memory_bytes", (json_int_t)sv->gpu_memory_bytes, "labels", sv->labels ? sv->labels : "",
		"cores", count_or_null(sv->cores));
}

void policy_json_print(FILE *out, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	fprintf(out, "%s\n", text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	json_decref(obj);
}
