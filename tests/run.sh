#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/run.sh — run the test binaries under $BUILD/tests and add up their
# cmocka results.  Usage: tests/run.sh [unit|integration]...
# CORRAL_TESTS="test_jail test_cgroup ..." runs only the binaries named
# (make check-v2 picks the cgroup and corrald tests this way).
# Ends with one line "total: N passed, N failed, N skipped"; exits 1 if any
# test failed or a test binary crashed.
BUILD=${BUILD:-build}
kinds=${*:-unit integration}
passed=0 failed=0 skipped=0 crashed=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for kind in $kinds; do
	for t in "$BUILD"/tests/"$kind"/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o|*.d) continue ;; esac
		if [ -n "${CORRAL_TESTS:-}" ]; then
			case " $CORRAL_TESTS " in *" $(basename "$t") "*) ;; *) continue ;; esac
		fi
		echo "== $kind: $(basename "$t")"
		CORRAL_BUILD="$BUILD" "$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		# a test's own stderr may share a line with cmocka's mark: not
		# anchored; cmocka repeats failed/skipped names in its summary:
		# count each once
		p=$(grep -o '\[       OK \] [A-Za-z_][A-Za-z_0-9]*' "$log" | wc -l)
		f=$(grep -o '\[  FAILED  \] [A-Za-z_][A-Za-z_0-9]*' "$log" | sort -u | wc -l)
		s=$(grep -o '\[  SKIPPED \] [A-Za-z_][A-Za-z_0-9]*' "$log" | sort -u | wc -l)
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			crashed="$crashed $(basename "$t")(exit $rc)"
			failed=$((failed + 1))
		fi
	done
done
[ -n "$crashed" ] && echo "crashed or failed outside a test:$crashed"
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
