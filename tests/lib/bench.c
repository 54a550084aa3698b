/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/bench.c — the benchmarks' clock and statistics: see bench.h.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "tests/lib/bench.h"

uint64_t bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The index of the p-th percentile's sample among n > 0: p * (n - 1)
 * rounded down, or to the nearest. */
static size_t rank(size_t n, double p, bool nearest)
{
	size_t i = (size_t)((double)(n - 1) * p + (nearest ? 0.5 : 0));

	return i < n ? i : n - 1;
}

uint64_t bench_median_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_median_double(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_percentile_u64(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_u64);
	return v[rank(n, p, false)];
}

double bench_percentile_double(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return v[rank(n, p, true)];
}
