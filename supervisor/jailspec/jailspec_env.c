/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/jailspec/jailspec_env.c — the environment a task starts with:
 * `--env NAME=VALUE` (corral submit, corral-run) adds to the default
 * environment (the profile's env, else the runner's PATH, HOME, LANG)
 * instead of replacing it; `--clear-env` keeps the old meaning (the given
 * variables alone).  Pure: strings in, strings out.
 */
#include <stdlib.h>
#include <string.h>

#include "supervisor/jailspec/jailspec.h"

static size_t name_length(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* The index in env[0..n) of the entry named like entry, or n. */
static size_t find_name(char **env, size_t n, const char *entry)
{
	size_t len = name_length(entry);

	for (size_t i = 0; i < n; i++)
		if (name_length(env[i]) == len && strncmp(env[i], entry, len) == 0)
			return i;
	return n;
}

char **jailspec_env_merge(const char *const *base, char *const *add, size_t n_add)
{
	size_t n_base = 0, n = 0;
	char **env;

	if (!base)
		base = jail_default_env();
	while (base[n_base])
		n_base++;
	env = calloc(n_base + n_add + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n_base + n_add; i++) {
		const char *entry = i < n_base ? base[i] : add[i - n_base];
		size_t at = find_name(env, n, entry);
		char *copy = strdup(entry);

		if (!copy) {
			jailspec_env_free(env);
			return NULL;
		}
		if (at < n)
			free(env[at]);
		else
			n++;
		env[at] = copy;
	}
	return env;
}

void jailspec_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
