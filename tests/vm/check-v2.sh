#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/vm/check-v2.sh — inside the pure cgroup v2 VM (make check-v2 runs it
# through tests/vm/run.sh): the integration tests that touch cgroups and
# corrald, from the root cgroup, with CORRAL_MUST_WORK=1 (no skips).
#
# The build's programs and tests are copied to a local directory first: the
# checkout is a 9p share, which cannot hold FIFOs or devices (test_init_attack
# makes them), and its path must be trusted for corral-init (root-owned,
# writable by nobody else: not below /tmp).  Ends with tests/run.sh's line
# "total: N passed, N failed, N skipped" and its exit code.
#
#   tests/vm/check-v2.sh BUILD TEST...
set -u
build=$1
shift
local_build=/var/lib/corral-v2/build

[ -f /sys/fs/cgroup/cgroup.controllers ] && ! [ -e /sys/fs/cgroup/unified ] \
	|| { echo "check-v2: not a pure cgroup v2 system"; exit 1; }
mkdir -p "$local_build/tests"
cp -a "$build/corrald" "$build/corral" "$build/corral-run" "$build/corral-init" "$local_build/" || exit 1
for d in integration probes helpers; do
	[ -d "$build/tests/$d" ] || continue
	mkdir -p "$local_build/tests/$d"
	for f in "$build/tests/$d"/*; do
		case "$f" in *.o|*.d) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] && cp -a "$f" "$local_build/tests/$d/"
	done
done

echo "check-v2: $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
CORRAL_MUST_WORK=1 CORRAL_TESTS="$*" BUILD="$local_build" sh tests/run.sh integration
rc=$?
left=$(find /sys/fs/cgroup -mindepth 1 -type d | head -5)
if [ -n "$left" ]; then
	echo "check-v2: cgroups left behind after the tests:"
	echo "$left"
	[ "$rc" -ne 0 ] || rc=1
fi
exit $rc
