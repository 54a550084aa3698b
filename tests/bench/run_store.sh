#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run_store.sh — durable submits/s of the store; see
# tests/bench/bench_store.c (SQLite and PostgreSQL in one run).  Usage: BUILD=build sh tests/bench/run_store.sh [-b sqlite|postgresql|both] [-d DIR] [-n N] [-r RUNS]
set -e
BUILD=${BUILD:-build}
bench="$BUILD/tests/bench/bench_store"
[ -x "$bench" ] || { echo "run_store.sh: $bench not built (make $bench)" >&2; exit 1; }
exec "$bench" "$@"
