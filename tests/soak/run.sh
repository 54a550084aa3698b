#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/soak/run.sh — build the soak driver (no make needed) and run it
# against $BUILD/corrald (default build/), as root:
#
#   SOAK_SECONDS=30 sh tests/soak/run.sh      # the short CI run
#   sh tests/soak/run.sh                      # 600 s
#
# SOAK_SEED=N repeats a workload.  Exits non-zero on any violation; the last
# line of the output is "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
CC=${CC:-cc}
if [ ! -x "$BUILD/corrald" ]; then
	echo "soak: $BUILD/corrald is missing: build it first (make)"
	echo "0 passed, 1 failed"
	exit 2
fi
mkdir -p "$BUILD/soak" || exit 2
# shellcheck disable=SC2046
if ! $CC -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -I. \
	$(pkg-config --cflags jansson sqlite3 cmocka) \
	-o "$BUILD/soak/soak" tests/soak/soak.c tests/lib/test.c tests/lib/cgroup_procs.c \
	tests/lib/corrald.c tests/lib/corrald_socket.c tests/lib/corrald_inspect.c \
	supervisor/corral/connection.c supervisor/api/*.c supervisor/store/task_state.c \
	supervisor/common/error.c \
	$(pkg-config --libs jansson sqlite3 cmocka); then
	echo "soak: cannot build the soak driver"
	echo "0 passed, 1 failed"
	exit 2
fi
CORRAL_BUILD="$BUILD" exec "$BUILD/soak/soak"
