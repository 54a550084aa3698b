#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh — every benchmark, each printing medians and ratios
# against a baseline measured in the same run.  `make bench` builds and calls
# this.  Usage: BUILD=build sh tests/bench/run.sh [spawn|bwrap|sched|store|http|clustersim]...
# (bwrap: root, corral-run against bubblewrap, round-robin, BWRAP_ROUNDS
# rounds x 3 repeats; http: root, a real corrald: HTTP submits against the
# socket's; clustersim: the cluster scheduler's rounds on PostgreSQL and
# SQLite, no jails, a few minutes: not in the default set)
BUILD=${BUILD:-build}
dir=$(dirname "$0")
which=${*:-spawn bwrap sched store}
for b in $which; do
	echo "== bench: $b"
	case $b in
	spawn) CORRAL_BUILD=$BUILD "$BUILD/tests/bench/bench_spawn" "${SPAWN_RUNS:-300}" ;;
	bwrap) CORRAL_BUILD=$BUILD "$BUILD/tests/bench/bench_bwrap" "${BWRAP_ROUNDS:-100}" 3 ;;
	sched) BUILD=$BUILD sh "$dir/run_sched.sh" ;;
	store) BUILD=$BUILD sh "$dir/run_store.sh" ;;
	http) CORRAL_BUILD=$BUILD "$BUILD/tests/bench/bench_http" ;;
	clustersim) "$BUILD/tests/bench/bench_cluster_sim" ;;
	*) echo "run.sh: unknown benchmark '$b'" >&2; exit 2 ;;
	esac || exit 1
done
