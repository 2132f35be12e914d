#!/usr/bin/env bash
# Instructions per poll of evloop's worker, counted by callgrind (steady on
# a busy machine, unlike wall time), with counting off, by default, and with
# Builder::time_polls(true), on the workload of benches/poll_cost.rs.
#
#   scripts/poll_instructions.sh [N]        (default N = 2000 tasks)
#
# Per mode: the worker thread's instructions (the inclusive cost of
# `run_worker`) divided by the polls the default mode counts for the same
# workload. Under valgrind clock_gettime is a system call whose kernel side
# is not counted (natively the vDSO runs some 50 instructions per read).
set -euo pipefail
cd "$(dirname "$0")/.."

tasks="${1:-2000}"
command -v valgrind >/dev/null || { echo "poll_instructions.sh: valgrind is not installed" >&2; exit 2; }
cargo bench --bench poll_cost --no-run 2>/dev/null
binary=$(ls -t target/release/deps/poll_cost-* | grep -v '\.d$' | head -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

polls=$("$binary" "$tasks" default | awk '/^polls/ {print $2}')
echo "workload: $tasks tasks x 10 yields on one worker, $polls polls"
for mode in off default precise; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$mode" "$binary" "$tasks" "$mode" \
        >/dev/null 2>&1
    # The worker thread's call of run_worker, everything under it included.
    worker=$(callgrind_annotate --inclusive=yes "$out/$mode" 2>/dev/null \
        | grep -E '=> .*evloop::scheduler::worker::run_worker \(1x\)' | head -1 \
        | awk '{gsub(",", "", $1); print $1}')
    awk -v m="$mode" -v w="$worker" -v p="$polls" \
        'BEGIN { printf "%-8s %6.1f instructions per poll\n", m, w / p }'
done
