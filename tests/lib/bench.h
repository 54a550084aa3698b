/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/bench.h — what the benchmarks in tests/bench/ share: a
 * monotonic clock in microseconds, medians and percentiles of samples
 * (each sorts its array in place).
 */
#ifndef CORRAL_TESTS_LIB_BENCH_H
#define CORRAL_TESTS_LIB_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
uint64_t bench_now_us(void);
/* The middle of n samples, the mean of the two middles when n is even
 * (0 when n is 0). */
uint64_t bench_median_u64(uint64_t *v, size_t n);
double bench_median_double(double *v, size_t n);
/* The p-th percentile (p in 0..1) of n samples, 0 when n is 0: the
 * sample of rank p * (n - 1), rounded down for the u64 samples (times of
 * bench_spawn and bench_cluster), to the nearest for the double ones
 * (bench_cluster_sim, bench_corrald): each bench's figures as it always
 * reported them. */
uint64_t bench_percentile_u64(uint64_t *v, size_t n, double p);
double bench_percentile_double(double *v, size_t n, double p);

#endif
