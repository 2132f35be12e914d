#!/usr/bin/env bash
# Runs evloop's test suite under valgrind's memcheck: the library's unit tests
# and every integration-test binary, built in debug. Fails (exit 1) when any
# binary reports a memory error or a definite leak, or when a test fails.
#
#   scripts/valgrind.sh [TEST-BINARY-NAME...]
#
# With names (e.g. `faults timers evloop`), only those binaries run; `evloop`
# is the library's unit tests. Logs go to $CARGO_TARGET_DIR/valgrind/ (or
# target/valgrind/). Each binary runs with the test harness's default
# parallelism (valgrind serialises the threads anyway); set
# VALGRIND_TEST_THREADS=1 to run the tests of a binary one at a time.
#
# Not run under valgrind:
# - compile_fail: it runs the compiler on purpose-built bad programs; there
#   is no evloop code at run time to check.
# - fd_exhaustion: it lowers RLIMIT_NOFILE, which valgrind emulates: an
#   accept() past the emulated limit succeeds in the kernel and valgrind
#   then closes the new descriptor and reports EMFILE, so the pending
#   connection is lost and the test (rightly) fails. Without valgrind the
#   kernel refuses before taking the connection from the backlog.
# - doc tests: each is its own tiny program compiled by rustdoc; the same
#   code paths run in the unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind.sh: valgrind is not installed" >&2
    exit 2
fi

target_dir="${CARGO_TARGET_DIR:-target}"
log_dir="$target_dir/valgrind"
mkdir -p "$log_dir"

# Build every test binary once and collect the paths cargo reports.
mapfile -t binaries < <(
    cargo test --lib --tests --no-run --message-format=json 2>/dev/null |
        grep '"test":true' |
        grep -o '"executable":"[^"]*"' |
        sed 's/"executable":"\(.*\)"/\1/'
)
if [ "${#binaries[@]}" -eq 0 ]; then
    echo "valgrind.sh: cargo built no test binary (run 'cargo test --no-run' to see why)" >&2
    exit 2
fi

skip=(compile_fail fd_exhaustion)
wanted=("$@")
harness_args=()
if [ -n "${VALGRIND_TEST_THREADS:-}" ]; then
    harness_args+=("--test-threads=$VALGRIND_TEST_THREADS")
fi

failed=()
passed=()
for binary in "${binaries[@]}"; do
    name="$(basename "$binary")"
    name="${name%-*}" # strip cargo's hash suffix
    if [[ " ${skip[*]} " == *" $name "* ]]; then
        echo "== $name: skipped"
        continue
    fi
    if [ "${#wanted[@]}" -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then
        continue
    fi
    log="$log_dir/$name.log"
    echo "== $name (log: $log)"
    start=$SECONDS
    if valgrind --tool=memcheck --error-exitcode=1 \
        --leak-check=full --errors-for-leak-kinds=definite \
        --log-file="$log" \
        "$binary" "${harness_args[@]}" >"$log_dir/$name.out" 2>&1; then
        passed+=("$name")
        echo "   ok in $((SECONDS - start)) s"
    else
        failed+=("$name")
        echo "   FAILED in $((SECONDS - start)) s; valgrind says:"
        grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" "$log" | head -20 | sed 's/^/   /'
        echo "   test output: $log_dir/$name.out"
        grep -E "^test .*FAILED|panicked at" "$log_dir/$name.out" | head -10 | sed 's/^/   /' || true
    fi
done

echo
echo "valgrind: ${#passed[@]} binaries clean, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ "${#failed[@]}" -eq 0 ]
