/*
 * supervisor/units.c — the command-line tools' value parsers: thin wrappers
 * over the one grammar of policy/ (policy_parse_size, _duration_us, _cpus
 * in policy/policy.h), so `corral submit --timeout 1h30m` and a policy
 * file's `max_task_seconds = 1.5s`-style values read the same.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "policy/policy.h"
#include "supervisor/units.h"

int units_parse_size(const char *text, uint64_t *bytes)
{
	return policy_parse_size(text, bytes);
}

int units_parse_duration_ms(const char *text, uint64_t *ms)
{
	uint64_t us;
	int r = policy_parse_duration_us(text, 1000000u, &us);

	if (r < 0)
		return r;
	*ms = us / 1000u + (us % 1000u >= 500u);
	return 0;
}

int units_parse_cpus(const char *text, uint32_t *millis)
{
	uint64_t v;
	int r = policy_parse_cpus(text, &v);

	if (r < 0)
		return r;
	if (v < 1 || v > 4000000000u)
		return -ERANGE;
	*millis = (uint32_t)v;
	return 0;
}

int units_parse_uint(const char *text, uint64_t max, uint64_t *value)
{
	char *end;
	unsigned long long v;

	if (!text || !isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (v > max)
		return -ERANGE;
	*value = v;
	return 0;
}
