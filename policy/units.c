/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/units.c — the one grammar for durations, sizes and CPU counts,
 * shared by the policy files and the command-line tools (corral submit
 * --timeout, corral-run --wall-time, --memory, --cpus ...), so a user meets
 * one syntax everywhere (corral.conf(5), "VALUES").
 *
 *   duration  one or more NUMBER UNIT parts, UNIT one of ms, s, sec, m, min,
 *             h, d: "1.5s", "1h30m", "500ms", "0.5h"; a lone NUMBER without a
 *             unit is in the caller's bare unit (seconds, or hours for
 *             monthly_cpu_hours).
 *   size      NUMBER with an optional K, M, G, T or P (powers of 1024, any
 *             case) and an optional B or iB: "512", "64K", "1.5G", "512MiB",
 *             "2GB"; a fraction only with a unit (fractions of a byte are
 *             cut off).
 *   cpus      NUMBER with at most three decimals: "1", "0.5", "2.25".
 *   NUMBER    digits, optionally '.' and more digits (at most 9 decimals);
 *             no sign, no exponent.
 *
 * Integer arithmetic only (budgets are accounted in integers): a decimal
 * is split into its whole part and its fraction and each is scaled
 * exactly; durations round to the nearest microsecond.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "policy/policy.h"

#define MAX_DECIMALS 9

/* A NUMBER at *p: whole part, fraction digits as an integer and their
 * count.  -EINVAL if there is none, -ERANGE if the whole part overflows. */
static int parse_number(const char **p, uint64_t *whole, uint64_t *frac, unsigned *decimals)
{
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	*whole = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*whole = *whole * 10 + d;
	}
	*frac = 0;
	*decimals = 0;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (++*decimals > MAX_DECIMALS)
				return -EINVAL;
			*frac = *frac * 10 + (uint64_t)(*s - '0');
		}
	}
	*p = s;
	return 0;
}

static uint64_t pow10_u64(unsigned n)
{
	uint64_t v = 1;

	while (n--)
		v *= 10;
	return v;
}

/* (whole + frac / 10^decimals) * unit, rounded (round_half_up) or cut. */
static int scale(uint64_t whole, uint64_t frac, unsigned decimals, uint64_t unit, bool round_half_up,
		 uint64_t *out)
{
	uint64_t base = pow10_u64(decimals), part;
	unsigned __int128 f = (unsigned __int128)frac * unit;

	if (__builtin_mul_overflow(whole, unit, out))
		return -ERANGE;
	if (round_half_up)
		f += base / 2;
	part = (uint64_t)(f / base);
	if (__builtin_add_overflow(*out, part, out))
		return -ERANGE;
	return 0;
}

int policy_parse_duration_us(const char *text, uint64_t bare_unit_us, uint64_t *us)
{
	static const struct {
		const char *name;
		uint64_t us;
	} units[] = {
		{ "ms", 1000ULL },    { "sec", 1000000ULL },  { "s", 1000000ULL },     { "min", 60000000ULL },
		{ "m", 60000000ULL }, { "h", 3600000000ULL }, { "d", 86400000000ULL },
	};
	const char *p = text;
	uint64_t total = 0;
	bool first = true;

	if (!text || !*text)
		return -EINVAL;
	while (*p) {
		uint64_t whole, frac, unit = 0, part;
		unsigned decimals;
		int r = parse_number(&p, &whole, &frac, &decimals);

		if (r < 0)
			return r;
		if (!*p && first) {
			unit = bare_unit_us; /* the whole text is one bare NUMBER */
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].name);

				if (strncmp(p, units[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
					unit = units[i].us;
					p += n;
					break;
				}
			}
			if (!unit)
				return -EINVAL;
		}
		r = scale(whole, frac, decimals, unit, true, &part);
		if (r < 0 || __builtin_add_overflow(total, part, &total))
			return -ERANGE;
		first = false;
	}
	*us = total;
	return 0;
}

int policy_parse_size(const char *text, uint64_t *bytes)
{
	static const char units[] = "KMGTP";
	const char *p = text;
	uint64_t whole, frac, unit = 1;
	unsigned decimals;
	int r;

	if (!text)
		return -EINVAL;
	r = parse_number(&p, &whole, &frac, &decimals);
	if (r < 0)
		return r;
	if (*p && strchr(units, toupper((unsigned char)*p))) {
		for (const char *u = units; *u != toupper((unsigned char)*p); u++)
			unit *= 1024;
		unit *= 1024;
		p++;
		if (*p == 'i' && (p[1] == 'B' || p[1] == 'b'))
			p += 2;
		else if (*p == 'B' || *p == 'b')
			p++;
	} else if (*p == 'B' || *p == 'b') {
		p++;
	}
	if (*p || (unit == 1 && decimals))
		return -EINVAL; /* junk, or a fraction of a byte */
	return scale(whole, frac, decimals, unit, false, bytes);
}

int policy_parse_cpus(const char *text, uint64_t *millis)
{
	const char *p = text;
	uint64_t whole, frac;
	unsigned decimals;
	int r;

	if (!text)
		return -EINVAL;
	r = parse_number(&p, &whole, &frac, &decimals);
	if (r < 0)
		return r;
	if (*p || decimals > 3)
		return -EINVAL;
	return scale(whole, frac, decimals, 1000, false, millis);
}

/* ---- the command-line forms ----------------------------------------------- */

int policy_parse_duration_ms(const char *text, uint64_t *ms)
{
	uint64_t us;
	int r = policy_parse_duration_us(text, 1000000u, &us);

	if (r < 0)
		return r;
	*ms = us / 1000u + (us % 1000u >= 500u);
	return 0;
}

int policy_parse_cpu_millis(const char *text, uint32_t *millis)
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

int policy_parse_uint(const char *text, uint64_t max, uint64_t *value)
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
