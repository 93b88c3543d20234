#!/usr/bin/env bash
# Runs every check and test of the repository. This is the README's test command and what CI calls.
# Evaluation tests read ../shared/data (or $LIFECERT_EVAL_DATA); without it they say so loudly and skip.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (warnings are errors; also type-checks the benchmarks)"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== bindings: Python, Kotlin (JVM) and Swift (generated) against the host library"
./scripts/bindings.sh test

echo "== android shell: controllers, frames and the Activity (Robolectric) against the host library; debug APK"
./scripts/android.sh test
