/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/op_status.c — what a TASK object adds for people who
 * watch a task: "limits", the effective wall, CPU, memory and output limits
 * and where each comes from (the task's own request, the tenant's [user]
 * section, its plan, or its month's budget); and, while it runs, "live",
 * the figures so far read from its jail's cgroup and its output files
 * (elapsed wall time, CPU, current and peak memory, bytes written).  The
 * stored figures are written at the end only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "supervisor/corrald/corrald.h"

/* null = unlimited: never 0 */
static json_t *limit_value(uint64_t v)
{
	return v == 0 || v == LIMIT_NONE ? json_null() : json_integer((json_int_t)v);
}

/* Where a limit the task did not ask for comes from: the tenant's [user]
 * section when it differs from the plan's, else the plan. */
static const char *policy_source(bool user_differs)
{
	return user_differs ? "user" : "plan";
}

static void set_limit(json_t *o, const char *key, const char *from_key, uint64_t value, const char *from)
{
	json_object_set_new(o, key, limit_value(value));
	json_object_set_new(o, from_key,
			    value == 0 || value == LIMIT_NONE ? json_string("none") : json_string(from));
}

json_t *op_status_limits(struct daemon *d, const struct store_task *st, const struct dtask *t)
{
	struct policy_limits lim, plan;
	bool known = policy_limits_for(d->policy, st->user, &lim) == 0;
	bool has_plan = known && lim.plan && policy_plan_limits(d->policy, lim.plan, &plan) == 0;
	json_t *o = json_object();
	uint64_t wall, cpu, memory;
	const char *wall_from, *cpu_from, *memory_from;

	if (!known)
		memset(&lim, 0, sizeof(lim));
	if (!has_plan)
		plan = lim;
	json_object_set_new(o, "plan", known && lim.plan ? json_string(lim.plan) : json_null());
	/* wall: what the running task got, else the request over the policy */
	if (t && t->wall_limit_effective_us) {
		wall = t->wall_limit_effective_us;
		wall_from = t->wall_limit_us ? "task"
					     : policy_source(lim.max_task_seconds != plan.max_task_seconds);
	} else if (st->wall_limit_ms > 0) {
		wall = (uint64_t)st->wall_limit_ms * 1000u;
		wall_from = "task";
	} else {
		wall = lim.max_task_seconds * 1000000u;
		wall_from = policy_source(lim.max_task_seconds != plan.max_task_seconds);
	}
	set_limit(o, "wall_us", "wall_from", wall, wall_from);
	if (t && !t->starting && st->state == STORE_RUNNING) {
		cpu = t->cpu_limit_us;
		cpu_from = t->budget_capped    ? "budget"
			: st->cpu_limit_us > 0 ? "task"
					       : policy_source(lim.max_cpu_seconds != plan.max_cpu_seconds);
	} else if (st->cpu_limit_us > 0) {
		cpu = (uint64_t)st->cpu_limit_us;
		cpu_from = "task";
	} else {
		cpu = lim.max_cpu_seconds * 1000000u;
		cpu_from = policy_source(lim.max_cpu_seconds != plan.max_cpu_seconds);
	}
	set_limit(o, "cpu_us", "cpu_from", cpu, cpu_from);
	if (st->memory_limit_bytes > 0) {
		memory = (uint64_t)st->memory_limit_bytes;
		memory_from = "task";
	} else {
		memory = lim.memory_bytes;
		memory_from = policy_source(lim.memory_bytes != plan.memory_bytes);
	}
	set_limit(o, "memory_bytes", "memory_from", memory, memory_from);
	set_limit(o, "output_bytes", "output_from", lim.output_limit_bytes,
		  policy_source(lim.output_limit_bytes != plan.output_limit_bytes));
	return o;
}

/* Size of the task's output file so far (0 when not there yet). */
static uint64_t output_size(struct daemon *d, int64_t id, const char *stream)
{
	char dir[4200], path[4300];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", task_start_dir(d, id, dir, sizeof(dir)), stream);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
}

json_t *op_status_live(struct daemon *d, const struct dtask *t)
{
	struct jail_cpu cpu = { 0 };
	struct jail_memory mem = { 0 };
	uint64_t now = daemon_now_us(d);
	json_t *o = json_object();

	if (t->jail) {
		if (jail_cpu_usage(t->jail, &cpu) < 0)
			memset(&cpu, 0, sizeof(cpu));
		if (jail_memory_usage(t->jail, &mem) < 0)
			memset(&mem, 0, sizeof(mem));
	}
	json_object_set_new(o, "elapsed_us",
			    json_integer(t->started_us && now > t->started_us
						 ? (json_int_t)(now - t->started_us)
						 : 0));
	/* every attempt's, as charged; never below what is charged already */
	json_object_set_new(o, "cpu_us",
			    json_integer((json_int_t)(cpu.usage_us + t->cpu_prior_us > t->charged_us
							      ? cpu.usage_us + t->cpu_prior_us
							      : t->charged_us)));
	json_object_set_new(o, "cpu_user_us", json_integer((json_int_t)cpu.user_us));
	json_object_set_new(o, "cpu_system_us", json_integer((json_int_t)cpu.system_us));
	json_object_set_new(o, "memory_bytes", json_integer((json_int_t)mem.current_bytes));
	json_object_set_new(o, "memory_peak_bytes", json_integer((json_int_t)mem.peak_bytes));
	json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)output_size(d, t->id, "stdout")));
	json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)output_size(d, t->id, "stderr")));
	return o;
}

char *op_status_task_json(struct daemon *d, const struct store_task *st, char *task_json)
{
	json_t *obj = task_json ? json_loads(task_json, 0, NULL) : NULL;
	struct dtask *t = st->state == STORE_RUNNING ? running_find(d, st->id) : NULL;
	char *text;

	if (!json_is_object(obj)) {
		json_decref(obj);
		return task_json;
	}
	json_object_set_new(obj, "limits", op_status_limits(d, st, t));
	if (t)
		json_object_set_new(obj, "live", op_status_live(d, t));
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text)
		return task_json;
	free(task_json);
	return text;
}
