/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/human.c — durations and sizes for people (see human.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/common/human.h"

/* "%.Nf" with trailing zeros (and a trailing '.') dropped. */
static void trimmed(double v, int decimals, const char *unit, char *buf, size_t size)
{
	char num[64];
	size_t n;

	snprintf(num, sizeof(num), "%.*f", decimals, v);
	n = strlen(num);
	if (strchr(num, '.')) {
		while (n > 0 && num[n - 1] == '0')
			num[--n] = '\0';
		if (n > 0 && num[n - 1] == '.')
			num[--n] = '\0';
	}
	snprintf(buf, size, "%s %s", num, unit);
}

char *human_duration(uint64_t us, char *buf, size_t size)
{
	static const struct {
		const char *big, *small;
		uint64_t big_s, small_s;
	} units[] = {
		{ "d", "h", 86400, 3600 },
		{ "h", "min", 3600, 60 },
		{ "min", "s", 60, 1 },
	};
	uint64_t s;

	if (us < 60000000u) {
		/* milliseconds are what limits are given in */
		trimmed((double)((us + 500) / 1000) / 1000.0, 3, "s", buf, size);
		return buf;
	}
	s = (us + 500000) / 1000000;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t big, small;

		if (s < units[i].big_s)
			continue;
		big = s / units[i].big_s;
		small = s % units[i].big_s / units[i].small_s;
		if (small)
			snprintf(buf, size, "%" PRIu64 " %s %" PRIu64 " %s", big, units[i].big, small,
				 units[i].small);
		else
			snprintf(buf, size, "%" PRIu64 " %s", big, units[i].big);
		return buf;
	}
	snprintf(buf, size, "%" PRIu64 " s", s);
	return buf;
}

char *human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " bytes", bytes);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	trimmed(v, 2, units[u], buf, size);
	return buf;
}
