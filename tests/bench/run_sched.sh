#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run_sched.sh — run the scheduler benchmark (issue 5: one
# decision over 100,000 queued tasks from 10,000 users, p99 < 1 ms).
# Builds nothing: run `make bench` or `make tests` first.
# Usage: BUILD=build sh tests/bench/run_sched.sh [iterations]   (default 1000)
BUILD=${BUILD:-build}
bin="$BUILD/tests/bench/bench_sched"
if [ ! -x "$bin" ]; then
	echo "run_sched.sh: $bin not built (run make tests)" >&2
	exit 1
fi
exec "$bin" "$@"
