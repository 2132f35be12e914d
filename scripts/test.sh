#!/usr/bin/env bash
# Runs every test of evloop: unit, integration and doc tests of the crate,
# then the loom models of the cross-thread handoffs (loom-tests/, built with
# --cfg loom in its own target directory so the normal build stays cached).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit, integration and doc tests (every feature on, so hyper's too)"
cargo test --all-features

echo "== loom models"
# Each model sets its own preemption bound (see loom-tests/src/lib.rs);
# LOOM_MAX_PREEMPTIONS overrides them all.
RUSTFLAGS="--cfg loom --cfg oneshot_loom" \
    cargo test --release --manifest-path loom-tests/Cargo.toml
