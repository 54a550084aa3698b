/*
 * policy/values.c — value syntax: whole numbers, sizes (512M), durations
 * (90s, 1h30m), CPU counts (0.5), names and paths; parsing into canonical
 * integer units (bytes, seconds, milliseconds, thousandths of a CPU) and
 * formatting back.  No floating point: budgets are accounted in integers.
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

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static int parse_size(const char *text, uint64_t *out, bool *overflow)
{
	static const char units[] = "KMGT";
	const char *p = text;
	uint64_t v, mult = 1;

	if (!parse_digits(&p, &v, overflow))
		return -EINVAL;
	if (*p) {
		const char *u = strchr(units, toupper((unsigned char)*p));

		if (u) {
			for (const char *q = units; q <= u; q++)
				mult *= 1024;
			p++;
			if (*p == 'i' && p[1] == 'B')
				p += 2;
			else if (*p == 'B' || *p == 'b')
				p++;
		} else if (*p == 'B' || *p == 'b') {
			p++;
		}
	}
	if (*p)
		return -EINVAL;
	if (!mul_ok(v, mult, out)) {
		*overflow = true;
		return -EINVAL;
	}
	return 0;
}

/* "1h30m", "500ms", bare "90" (default_ms per unit) -> milliseconds. */
static int parse_duration(const char *text, uint64_t default_ms, uint64_t *out, bool *overflow)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "sec", 1000 }, { "s", 1000 }, { "min", 60000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *p = text;
	uint64_t total = 0;
	bool first = true;

	while (*p) {
		uint64_t v, ms = 0, part;
		size_t i;

		if (!parse_digits(&p, &v, overflow))
			return -EINVAL;
		if (!*p && first) {
			ms = default_ms;
		} else {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].name);

				if (strncmp(p, units[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
					ms = units[i].ms;
					p += n;
					break;
				}
			}
			if (!ms)
				return -EINVAL;
		}
		if (!mul_ok(v, ms, &part) || __builtin_add_overflow(total, part, &total)) {
			*overflow = true;
			return -EINVAL;
		}
		first = false;
	}
	if (first)
		return -EINVAL;
	*out = total;
	return 0;
}

static int parse_cpus(const char *text, uint64_t *out, bool *overflow)
{
	const char *p = text;
	uint64_t whole, frac = 0;
	int decimals = 0;

	if (!parse_digits(&p, &whole, overflow))
		return -EINVAL;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p) && decimals < 3) {
			frac = frac * 10 + (uint64_t)(*p - '0');
			decimals++;
			p++;
		}
		if (!decimals)
			return -EINVAL;
		for (int i = decimals; i < 3; i++)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	if (!mul_ok(whole, 1000, out) || __builtin_add_overflow(*out, frac, out)) {
		*overflow = true;
		return -EINVAL;
	}
	return 0;
}

int value_parse(enum value_kind kind, const char *text, uint64_t *out, char *why, size_t why_size)
{
	bool overflow = false;
	uint64_t ms = 0;
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
		r = parse_size(text, out, &overflow);
		expected = "is not a size; write a whole number with an optional K, M, G or T "
			   "suffix (powers of 1024), e.g. 512M";
		break;
	case VALUE_SECONDS:
	case VALUE_MILLIS:
	case VALUE_HOURS:
		r = parse_duration(text, kind == VALUE_HOURS ? 3600000 : 1000, &ms, &overflow);
		expected = kind == VALUE_HOURS
				   ? "is not a duration; write e.g. 100 (hours), 90m, 2h or 1d"
				   : "is not a duration; write e.g. 30s, 10m, 2h, 1h30m or 500ms "
				     "(a bare number means seconds)";
		if (r == 0 && kind != VALUE_MILLIS) {
			if (ms % 1000) {
				snprintf(why, why_size, "'%s' is not a whole number of seconds", text);
				return -EINVAL;
			}
			ms /= 1000;
		}
		*out = ms;
		break;
	case VALUE_CPUS:
		r = parse_cpus(text, out, &overflow);
		expected = "is not a CPU count; write e.g. 1, 2 or 0.5 (at most 3 decimals)";
		break;
	}
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
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
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
	case VALUE_MILLIS:
		return policy_format_duration_ms(value, buf, size);
	case VALUE_SECONDS:
	case VALUE_HOURS:
		if (kind == VALUE_HOURS && value % 3600 == 0) {
			snprintf(buf, size, "%" PRIu64 "h", value / 3600);
			return buf;
		}
		if (value > UINT64_MAX / 1000)
			break;
		return policy_format_duration_ms(value * 1000, buf, size);
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

bool value_parse_key(const struct key_def *def, const char *text, uint64_t *out,
		     struct policy_errors *errors, const char *file, unsigned line)
{
	char why[256], lo[32], hi[32];
	const char *unlimited = def->flags & KEY_UNLIMITED ? ", or unlimited" : "";
	uint64_t v;

	if ((def->flags & KEY_UNLIMITED) && strcmp(text, "unlimited") == 0) {
		*out = 0;
		return true;
	}
	value_format(def->kind, def->min, lo, sizeof(lo));
	value_format(def->kind, def->max, hi, sizeof(hi));
	if (value_parse(def->kind, text, &v, why, sizeof(why)) < 0) {
		errors_add(errors, file, line, def->name, "%s; allowed: %s to %s%s", why, lo, hi,
			   unlimited);
		return false;
	}
	if (v < def->min || v > def->max) {
		errors_add(errors, file, line, def->name, "'%s' is %s; allowed: %s to %s%s", text,
			   v == 0 ? "zero, which is meaningless here" : "out of range", lo, hi,
			   unlimited);
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
	for (const char *c = s; *c; ) {
		const char *next;
		size_t len;

		c++;  /* past '/' */
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
