/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/task_env.c — the environment the command starts with: the
 * caller's (or the default PATH, HOME, LANG) plus hints that tell language
 * runtimes the jail's limits.  A jail has no /sys, so runtimes that size
 * themselves from cgroup files (the JVM, Go, Node) would see the host's RAM
 * and CPUs: the JVM sizes its heap from host RAM and is OOM-killed instead
 * of throwing OutOfMemoryError.  Each hint is added only when the caller's
 * environment does not set that variable (set it, even empty, to replace
 * or drop it).  Documented in the README ("What every jail gets").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/init_protocol.h"
#include "runner/internal.h"

#define MiB (1ull << 20)

static char *const default_env[] = { INIT_DEFAULT_ENV, NULL };

const char *const *jail_default_env(void)
{
	return (const char *const *)default_env;
}

static bool env_has(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return true;
	return false;
}

/* The hints for spec's limits, as "NAME=VALUE" strings in hints[] (at most
 * max); returns how many. */
static size_t limit_hints(const struct jail_spec *spec, char hints[][96], size_t max)
{
	uint64_t mem = spec->memory_bytes;
	unsigned cpus = spec->cpu_millis ? (spec->cpu_millis + 999) / 1000 : 0;
	size_t n = 0;

	if (mem && cpus && n < max)
		snprintf(hints[n++], 96, "JAVA_TOOL_OPTIONS=-XX:MaxRAM=%llu -XX:ActiveProcessorCount=%u",
			 (unsigned long long)mem, cpus);
	else if (mem && n < max)
		snprintf(hints[n++], 96, "JAVA_TOOL_OPTIONS=-XX:MaxRAM=%llu", (unsigned long long)mem);
	else if (cpus && n < max)
		snprintf(hints[n++], 96, "JAVA_TOOL_OPTIONS=-XX:ActiveProcessorCount=%u", cpus);
	if (mem && n < max) /* a soft limit: leave room for what is not Go's heap */
		snprintf(hints[n++], 96, "GOMEMLIMIT=%lluMiB",
			 (unsigned long long)(mem / 10 * 9 / MiB ? mem / 10 * 9 / MiB : 1));
	if (mem && n < max) /* V8's old space: half, the rest is code, young space, buffers */
		snprintf(hints[n++], 96, "NODE_OPTIONS=--max-old-space-size=%llu",
			 (unsigned long long)(mem / 2 / MiB > 16 ? mem / 2 / MiB : 16));
	if (cpus && n < max)
		snprintf(hints[n++], 96, "GOMAXPROCS=%u", cpus);
	if (cpus && n < max)
		snprintf(hints[n++], 96, "OMP_NUM_THREADS=%u", cpus);
	if (cpus && n < max) /* Python >= 3.13: os.cpu_count() */
		snprintf(hints[n++], 96, "PYTHON_CPU_COUNT=%u", cpus);
	return n;
}

int task_env_build(const struct jail_spec *spec, char ***out)
{
	char *const *base = spec->env ? spec->env : default_env;
	char hints[8][96];
	size_t n_base = 0, n_hints = limit_hints(spec, hints, 8), n = 0;
	char **env;

	while (base[n_base])
		n_base++;
	env = calloc(n_base + n_hints + 1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < n_base; i++)
		if (!(env[n++] = strdup(base[i])))
			goto oom;
	for (size_t i = 0; i < n_hints; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(hints[i], "="), hints[i]);
		if (env_has(base, name))
			continue;
		if (!(env[n++] = strdup(hints[i])))
			goto oom;
	}
	*out = env;
	return 0;
oom:
	task_env_free(env);
	return -ENOMEM;
}

void task_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
