#!/usr/bin/env bash
# Runs every check and test of the repository. This is the README's test command and what CI calls.
# Evaluation tests read ../shared/data (or $LIFECERT_EVAL_DATA). Without it (or without ffmpeg, espeak-ng,
# the MiniFASNet models) they fail when CI is set; locally they skip, each skip is appended to the skip log
# ($LIFECERT_SKIP_LOG, default target/lifecert-skipped-tests.log) and the end of this script says how many.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
export LIFECERT_SKIP_LOG="${LIFECERT_SKIP_LOG:-$(cd "$target_dir" && pwd)/lifecert-skipped-tests.log}"
: >"$LIFECERT_SKIP_LOG"
report_skips() {
  local n
  n=$(grep -c . "$LIFECERT_SKIP_LOG" 2>/dev/null || true)
  if [ "${n:-0}" -gt 0 ]; then
    echo
    echo "!!!!! ${n} test(s) or test parts SKIPPED for missing evaluation data or tools (listed in $LIFECERT_SKIP_LOG) !!!!!"
  fi
}
trap report_skips EXIT

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (warnings are errors; also type-checks the benchmarks)"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo build (the lifecert binary the end-to-end tests in tests/ run; same features as the tests)"
cargo build --workspace

echo "== cargo test"
cargo test --workspace

echo "== bindings: Python, Kotlin (JVM) and Swift (generated) against the host library"
./scripts/bindings.sh test

echo "== android shell: controllers, frames and the Activity (Robolectric) against the host library; debug APK"
./scripts/android.sh test
