#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run_corrald.sh — issue 5's benchmarks against a real corrald
# (root): admissions/s, end-to-end throughput, submit-to-exec latency,
# timeout precision, RSS with 100,000 queued tasks.  Each scenario starts
# and removes its own daemon; about 3-4 minutes in all.
# Builds nothing: run `make -j2 tests` first.
# Usage: BUILD=build sh tests/bench/run_corrald.sh [admissions|latency|throughput|timeouts|rss]...
BUILD=${BUILD:-build}
bin="$BUILD/tests/bench/bench_corrald"
if [ ! -x "$bin" ]; then
	echo "run_corrald.sh: $bin not built (run make tests)" >&2
	exit 1
fi
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
for s in ${*:-admissions latency throughput timeouts rss}; do
	CORRAL_BUILD="$BUILD" timeout 600 "$bin" "$s" || exit 1
done
