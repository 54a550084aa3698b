#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/check_layering.sh — the include rules of supervisor/README.md and
# DESIGN.md, and "a file's exported functions carry its name", checked.
# Usage: BUILD=build sh tests/check_layering.sh   (after `make`: the names
# are read from the objects with nm).  Ends with "N passed, N failed".
BUILD=${BUILD:-build}
fails=0 checks=0
bad() { echo "layering: $*"; fails=$((fails + 1)); }

# includes FILE: the project headers FILE includes ("dir/.../x.h")
includes() { sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }

# rule DIR ALLOWED-PREFIXES...: every project include of a file under DIR
# starts with one of the prefixes.
rule() {
	dir=$1; shift
	checks=$((checks + 1))
	for f in $(find "$dir" -name '*.[ch]' | sort); do
		for inc in $(includes "$f"); do
			ok=0
			for p in "$@"; do
				case "$inc" in "$p"*) ok=1 ;; esac
			done
			# a folder's own files may include each other
			case "$inc" in "${f%/*}/"*) ok=1 ;; esac
			[ $ok -eq 1 ] || bad "$f includes $inc (allowed here: $*)"
		done
	done
}

rule runner runner/
rule policy policy/
rule supervisor/common supervisor/common/
rule supervisor/sched supervisor/common/ supervisor/sched/
rule supervisor/store supervisor/common/ supervisor/store/
rule supervisor/api supervisor/common/ supervisor/api/ supervisor/store/
rule supervisor/jailspec supervisor/common/ supervisor/jailspec/ policy/ runner/
# doctor/ reads the host's files and tries one jail through the runner
rule supervisor/doctor supervisor/common/ supervisor/doctor/ runner/jail.h
rule supervisor/corrald supervisor/corrald/ supervisor/common/ supervisor/api/ supervisor/store/ \
	supervisor/sched/ supervisor/jailspec/ supervisor/doctor/doctor.h policy/ runner/
# the client knows task states by name (store/task_state.h), nothing else of the
# store but `corral store migrate` (an offline copy on the host, corrald
# stopped: store/store_migrate.h); `corral doctor` uses doctor/'s public header
rule supervisor/corral supervisor/corral/ supervisor/common/ supervisor/api/ supervisor/store/task_state.h \
	supervisor/store/store_migrate.h supervisor/doctor/doctor.h policy/
rule supervisor/corral-run supervisor/corral-run/ supervisor/common/ supervisor/jailspec/ policy/ runner/

# Exported names: every global symbol an object defines starts with its
# file's name (main.o excepted).
checks=$((checks + 1))
if ! command -v nm >/dev/null; then
	bad "nm is missing: cannot check exported names"
elif [ ! -d "$BUILD/supervisor" ]; then
	bad "$BUILD/supervisor has no objects: run make first"
else
	for o in $(find "$BUILD/supervisor" -name '*.o' ! -name main.o | sort); do
		src=supervisor/${o#"$BUILD"/supervisor/}; src=${src%.o}.c
		[ -f "$src" ] || continue    # an object of a file that is gone
		base=$(basename "$o" .o)
		for s in $(nm --defined-only -g "$o" | awk '$2 ~ /^[TDBR]$/ {print $3}'); do
			case "$s" in "$base"*) ;; *) bad "$src exports $s (names here start with $base)" ;; esac
		done
	done
fi

echo "check-layering: $checks rules checked, $fails violations"
echo "$((fails == 0 ? checks : 0)) passed, $fails failed"
[ $fails -eq 0 ]
