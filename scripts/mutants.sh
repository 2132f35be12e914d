#!/usr/bin/env bash
# Mutation check of the loom models: plants each concurrency bug listed in
# loom-tests/mutants.txt (see the format at its top), one at a time, runs
# the loom models on it, restores the source, and prints a table. Fails if
# any planted bug survives the models, or if an entry no longer applies.
#
#   scripts/mutants.sh [--cargo-test] [NAME...]
#
# --cargo-test also runs the crate's unit and integration tests on each
# mutant (the "caught by cargo test" column; doc tests are skipped). NAME
# picks entries by name. Not part of CI: each mutant rebuilds evloop for
# the models (incrementally, in loom-tests/target) and runs them until the
# first failure; a surviving mutant runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo_test=false
names=()
for arg in "$@"; do
    case "$arg" in
        --cargo-test) cargo_test=true ;;
        -*) echo "unknown option: $arg" >&2; exit 2 ;;
        *) names+=("$arg") ;;
    esac
done

list=loom-tests/mutants.txt
work=$(mktemp -d)
trap 'scripts/mutants.py restore "$work" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

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
    log="$work/$name.log"
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
    caught_by=$(grep -m1 -oE "^---- [a-z0-9_]+ stdout ----" "$log" | sed 's/---- \(.*\) stdout ----/\1/' || true)
    cargo=-
    if $cargo_test; then
        cargo=no
        if ! cargo test -q --lib --tests >"$work/$name.cargo.log" 2>&1; then
            cargo=yes
        fi
    fi
    scripts/mutants.py restore "$work"
    [ "$loom" = yes ] || survived=$((survived + 1))
    results+=("$(printf '%-36s %-5s %-6s %5ss  %s' "$name" "$loom" "$cargo" "$loom_secs" "${caught_by:-}")")
done

printf '\n%-36s %-5s %-6s %6s  %s\n' "mutant" "loom" "cargo" "time" "first failing model"
printf '%s\n' "${results[@]}"
if [ "$survived" -gt 0 ]; then
    echo "$survived mutant(s) survived the loom models" >&2
    exit 1
fi
