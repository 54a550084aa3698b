/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/values.c — value syntax of the policy keys: whole numbers, sizes
 * (512M), durations (90s, 1h30m, 0.5h), CPU counts (0.5), yes/no, names and paths;
 * parsing into canonical integer units (bytes, seconds, milliseconds,
 * thousandths of a CPU) with the one grammar of policy/units.c, range checks,
 * and formatting back.  No floating point: budgets are accounted in integers.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"

/* Digits at *p -> *out; false on no digits or overflow (sets *overflow). */
static bool parse_digits(const char **p, uint64_t *out, bool *overflow)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10) {
			*overflow = true;
			return false;
		}
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

int value_parse(enum value_kind kind, const char *text, uint64_t *out, char *why, size_t why_size)
{
	bool overflow = false;
	int r = -EINVAL;
	const char *expected = "";

	if (!*text) {
		snprintf(why, why_size, "the value is empty");
		return -EINVAL;
	}
	if (text[0] == '-') {
		snprintf(why, why_size, "'%s' is negative", text);
		return -EINVAL;
	}
	switch (kind) {
	case VALUE_COUNT:
		r = parse_digits(&text, out, &overflow) && !*text ? 0 : -EINVAL;
		expected = "is not a whole number";
		break;
	case VALUE_SIZE:
		r = policy_parse_size(text, out);
		expected = "is not a size; write a number with an optional K, M, G, T or P "
			   "suffix (powers of 1024), e.g. 512M, 1.5G or 512MiB";
		break;
	case VALUE_SECONDS:
	case VALUE_MILLIS:
	case VALUE_HOURS: {
		static const struct {
			uint64_t bare_us, unit_us;
			const char *unit;
		} k[] = {
			[VALUE_SECONDS] = { 1000000, 1000000, "seconds" },
			[VALUE_MILLIS] = { 1000000, 1000, "milliseconds" },
			[VALUE_HOURS] = { 3600000000ULL, 1000, "milliseconds" },
		};
		uint64_t us = 0;

		r = policy_parse_duration_us(text, k[kind].bare_us, &us);
		expected = kind == VALUE_HOURS
			? "is not a duration; write e.g. 100 or 0.05 (hours), 90m, 2h or 1d"
			: "is not a duration; write e.g. 30s, 1.5s, 10m, 2h, 1h30m or 500ms "
			  "(a bare number means seconds)";
		if (r == 0 && us % k[kind].unit_us) {
			snprintf(why, why_size, "'%s' is not a whole number of %s", text, k[kind].unit);
			return -EINVAL;
		}
		*out = us / k[kind].unit_us;
		break;
	}
	case VALUE_CPUS:
		r = policy_parse_cpus(text, out);
		expected = "is not a CPU count; write e.g. 1, 2 or 0.5 (at most 3 decimals)";
		break;
	case VALUE_BOOL: {
		static const char *const yes[] = { "yes", "true", "on", "1" },
					 *const no[] = { "no", "false", "off", "0" };

		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]) && r < 0; i++) {
			if (strcasecmp(text, yes[i]) == 0)
				*out = 1, r = 0;
			else if (strcasecmp(text, no[i]) == 0)
				*out = 0, r = 0;
		}
		expected = "is not yes or no";
		break;
	}
	}
	overflow = overflow || r == -ERANGE;
	if (overflow) {
		snprintf(why, why_size, "'%s' is too large", text);
		return -ERANGE;
	}
	if (r < 0)
		snprintf(why, why_size, "'%s' %s", text, expected);
	return r;
}

char *policy_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	int u = -1;
	uint64_t v = bytes;

	while (v && v % 1024 == 0 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRIu64, bytes);
	else
		snprintf(buf, size, "%" PRIu64 "%c", v, units[u]);
	return buf;
}

char *policy_format_duration_ms(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
		{ "d", 86400000 },
		{ "h", 3600000 },
		{ "m", 60000 },
		{ "s", 1000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", ms / units[i].ms, units[i].name);
			return buf;
		}
	}
	snprintf(buf, size, ms ? "%" PRIu64 "ms" : "%" PRIu64 "s", ms);
	return buf;
}

char *policy_format_cpus(uint32_t millis, char *buf, size_t size)
{
	unsigned frac = millis % 1000;

	if (!frac)
		snprintf(buf, size, "%u", millis / 1000);
	else if (frac % 100 == 0)
		snprintf(buf, size, "%u.%u", millis / 1000, frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf, size, "%u.%02u", millis / 1000, frac / 10);
	else
		snprintf(buf, size, "%u.%03u", millis / 1000, frac);
	return buf;
}

char *value_format(enum value_kind kind, uint64_t value, char *buf, size_t size)
{
	switch (kind) {
	case VALUE_SIZE:
		return policy_format_size(value, buf, size);
	case VALUE_HOURS:
		if (value == 0)
			break;
		if (value % 3600000 == 0) {
			snprintf(buf, size, "%" PRIu64 "h", value / 3600000);
			return buf;
		}
		return policy_format_duration_ms(value, buf, size);
	case VALUE_MILLIS:
		return policy_format_duration_ms(value, buf, size);
	case VALUE_SECONDS:
		if (value > UINT64_MAX / 1000)
			break;
		return policy_format_duration_ms(value * 1000, buf, size);
	case VALUE_BOOL:
		snprintf(buf, size, "%s", value ? "yes" : "no");
		return buf;
	case VALUE_CPUS:
		if (value <= UINT32_MAX)
			return policy_format_cpus((uint32_t)value, buf, size);
		break;
	case VALUE_COUNT:
		break;
	}
	snprintf(buf, size, "%" PRIu64, value);
	return buf;
}

bool value_parse_key(const struct key_def *def, const char *text, uint64_t *out, struct policy_errors *errors,
		     const char *file, unsigned line)
{
	char why[256], lo[32], hi[32];
	const char *unlimited = def->flags & KEY_UNLIMITED ? ", or unlimited" : "";
	uint64_t v;

	if ((def->flags & KEY_UNLIMITED) && strcmp(text, "unlimited") == 0) {
		*out = def->min == 0 ? POLICY_UNLIMITED : 0;
		return true;
	}
	/* The bounds are formatted only for a message: two snprintf()s per
	 * key were a good part of loading a valid file. */
	if (value_parse(def->kind, text, &v, why, sizeof(why)) < 0) {
		value_format(def->kind, def->min, lo, sizeof(lo));
		value_format(def->kind, def->max, hi, sizeof(hi));
		errors_add(errors, file, line, def->name, "%s; allowed: %s to %s%s", why, lo, hi, unlimited);
		return false;
	}
	if (v < def->min || v > def->max) {
		value_format(def->kind, def->min, lo, sizeof(lo));
		value_format(def->kind, def->max, hi, sizeof(hi));
		errors_add(errors, file, line, def->name, "'%s' is %s; allowed: %s to %s%s", text,
			   v == 0 ? "zero, which is meaningless here" : "out of range", lo, hi, unlimited);
		return false;
	}
	*out = v;
	return true;
}

bool value_is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	return true;
}

bool value_is_clean_path(const char *s)
{
	if (s[0] != '/' || strlen(s) > 4095)
		return false;
	for (const char *c = s; *c; c++)
		if (isspace((unsigned char)*c) || *c == ':' || !isprint((unsigned char)*c))
			return false;
	/* Every component after a '/' must be non-empty and not . or .. */
	for (const char *c = s; *c;) {
		const char *next;
		size_t len;

		c++; /* past '/' */
		next = strchr(c, '/');
		len = next ? (size_t)(next - c) : strlen(c);
		if ((len == 0 && (next || c != s + 1)) || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!next)
			break;
		c = next;
	}
	return true;
}
