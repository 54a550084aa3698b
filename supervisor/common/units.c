/*
 * supervisor/common/units.c — sizes, durations and CPU counts from text.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor/common/units.h"

/* A non-negative decimal number (digits with at most one '.'), no sign, no
 * exponent, no hex: strtod alone accepts too much. */
static int parse_number(const char *text, double *value, const char **rest)
{
	const char *p = text;
	bool digits = false, dot = false;
	char *end;

	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			break;
	}
	if (!digits)
		return -EINVAL;
	errno = 0;
	*value = strtod(text, &end);
	if (errno || end != p || !isfinite(*value))
		return -EINVAL;
	*rest = p;
	return 0;
}

int units_parse_size(const char *text, uint64_t *bytes)
{
	static const char units[] = "KMGTP";
	const char *rest;
	double v, mult = 1;
	int r;

	if (!text)
		return -EINVAL;
	r = parse_number(text, &v, &rest);
	if (r < 0)
		return r;
	if (*rest) {
		const char *u = strchr(units, toupper((unsigned char)*rest));

		if (!u || !*u)
			return -EINVAL;
		mult = ldexp(1.0, 10 * (int)(u - units + 1));
		rest++;
		if (strcasecmp(rest, "") != 0 && strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0)
			return -EINVAL;
	} else if (strchr(text, '.')) {
		return -EINVAL; /* fractional bytes */
	}
	v *= mult;
	if (v >= 18446744073709551615.0)
		return -ERANGE;
	*bytes = (uint64_t)v;
	return 0;
}

int units_parse_duration_ms(const char *text, uint64_t *ms)
{
	static const struct { const char *suffix; double ms; } units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "min", 60000 }, { "h", 3600000 },
	};
	const char *rest;
	double v;
	int r;

	if (!text)
		return -EINVAL;
	r = parse_number(text, &v, &rest);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].suffix) == 0) {
			v *= units[i].ms;
			if (v >= 9.2e18)
				return -ERANGE;
			*ms = (uint64_t)llround(v);
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_cpus(const char *text, uint32_t *millis)
{
	const char *rest;
	double v;
	int r;

	if (!text)
		return -EINVAL;
	r = parse_number(text, &v, &rest);
	if (r < 0 || *rest)
		return -EINVAL;
	v = round(v * 1000);
	if (v < 1 || v > 4.0e9)
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
