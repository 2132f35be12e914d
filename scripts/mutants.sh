#!/usr/bin/env bash
# Mutation check of the loom models: plants each concurrency bug listed in
# loom-tests/mutants.txt (see the format at its top), one at a time, runs
# the loom models on it, restores the source, and prints a table. Fails if
# any planted bug survives the models, or if an entry no longer applies.
#
#   scripts/mutants.sh [--cargo-test] [--no-loom] [--logs DIR] [NAME...]
#
# --cargo-test also runs the crate's unit and integration tests on each
# mutant (the "caught by cargo test" column, "hang" when they time out;
# doc tests are skipped), and
# --no-loom skips the models (for that column alone). --logs keeps each
# run's output in DIR. NAME picks entries by name. Not part of CI: each
# mutant rebuilds evloop for the models (incrementally, in
# loom-tests/target) and runs them until the first failure; a surviving
# mutant runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo_test=false
run_loom=true
logs=
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cargo-test) cargo_test=true ;;
        --no-loom) run_loom=false ;;
        --logs) logs=$2; shift ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) names+=("$1") ;;
    esac
    shift
done

list=loom-tests/mutants.txt
work=$(mktemp -d)
trap 'scripts/mutants.py restore "$work" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
logs=${logs:-$work}
mkdir -p "$logs"

# Every entry must apply to the current source before anything runs.
scripts/mutants.py check "$list"

mapfile -t all < <(scripts/mutants.py names "$list")
if [ ${#names[@]} -eq 0 ]; then
    names=("${all[@]}")
fi

results=()
survived=0
for name in "${names[@]}"; do
    echo "== $name" >&2
    scripts/mutants.py apply "$list" "$name" "$work"
    log="$logs/$name.log"
    loom=-
    loom_secs=-
    caught_by=
    if $run_loom; then
        loom=no
        if ! RUSTFLAGS="--cfg loom --cfg oneshot_loom" \
            cargo test --release --manifest-path loom-tests/Cargo.toml --no-run >"$log" 2>&1; then
            scripts/mutants.py restore "$work"
            echo "$name: the mutant does not build:" >&2
            tail -20 "$log" >&2
            exit 1
        fi
        start=$SECONDS
        if ! RUSTFLAGS="--cfg loom --cfg oneshot_loom" \
            cargo test --release --manifest-path loom-tests/Cargo.toml >>"$log" 2>&1; then
            loom=yes
        fi
        loom_secs=$((SECONDS - start))
        # The first model that panicked (a deadlock aborts its binary, so
        # the panic line is the one that names it).
        caught_by=$(grep -m1 -oE "^thread '[a-z0-9_]+' \([0-9]+\) panicked" "$log" |
            sed -E "s/^thread '([a-z0-9_]+)'.*/\1/" || true)
    fi
    cargo=-
    if $cargo_test; then
        # A planted bug may hang a test: give up after five minutes.
        cargo=no
        status=0
        timeout 300 cargo test -q --lib --tests >"$logs/$name.cargo.log" 2>&1 || status=$?
        if [ "$status" -eq 124 ]; then
            cargo=hang
        elif [ "$status" -ne 0 ]; then
            cargo=yes
        fi
    fi
    scripts/mutants.py restore "$work"
    if [ "$loom" = no ]; then survived=$((survived + 1)); fi
    results+=("$(printf '%-36s %-5s %-6s %5ss  %s' "$name" "$loom" "$cargo" "$loom_secs" "${caught_by:-}")")
done

printf '\n%-36s %-5s %-6s %6s  %s\n' "mutant" "loom" "cargo" "time" "first failing model"
printf '%s\n' "${results[@]}"
if [ "$survived" -gt 0 ]; then
    echo "$survived mutant(s) survived the loom models" >&2
    exit 1
fi
