#!/usr/bin/env bash
# Runs every test of evloop: unit, integration and doc tests of the crate,
# then the loom models of the cross-thread handoffs (loom-tests/, built with
# --cfg loom in its own target directory so the normal build stays cached).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit, integration and doc tests"
cargo test

echo "== loom models"
RUSTFLAGS="--cfg loom --cfg oneshot_loom" \
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}" \
    cargo test --release --manifest-path loom-tests/Cargo.toml
