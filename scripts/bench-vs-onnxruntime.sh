#!/usr/bin/env bash
# tract (this library) against onnxruntime, single-threaded, on the same inputs:
# the detector, the landmarks, the descriptor, the VAD and the GE2E speaker model (model only),
# and the whole per-frame face analysis of a real talking clip (../shared/data/video_talking,
# 25 frames on a 640x480 canvas) against the same pipeline in onnxruntime + NumPy.
#
#   scripts/bench-vs-onnxruntime.sh            # prints the table, writes target/bench/vs-onnxruntime.json
#
# Needs python3 (3.10+, with venv), ffmpeg, the shared data (LIFECERT_EVAL_DATA is not used: the
# Python side reads ../shared next to the repository, as models/common.py does) and PyPI for the
# first run, which creates target/ort-venv (onnxruntime, Pillow). The release benches are built
# once (a cold build compiles tract in release mode: ~12 min on 2 cores).
# Run it on a quiet machine; the report records the load average.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/target/ort-venv"
OUT="$ROOT/target/bench"
PINS=("onnxruntime==1.31.1" "pillow==13.0.0")
RUNS="${BENCH_RUNS:-200}"

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import onnxruntime, PIL" 2>/dev/null; then
  echo "== creating $VENV (${PINS[*]})"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${PINS[@]}"
fi
PY="$VENV/bin/python"
mkdir -p "$OUT"

echo "== inputs (both sides read the same files)"
"$PY" models/bench_vs_onnxruntime.py prepare "$OUT/inputs"

echo "== building the release benches"
cargo bench --workspace --bench vs_onnxruntime --no-run

echo "== tract (criterion, 1 thread)"
# Criterion's own output goes to target/bench/tract.log; the medians are read from its
# estimates.json files. A run with a stale estimate would be misreported: clear them first.
rm -rf "$ROOT/target/criterion/vs_onnxruntime"
LIFECERT_BENCH_INPUTS="$OUT/inputs" cargo bench --workspace --bench vs_onnxruntime \
  -- --noplot 2>&1 | tee "$OUT/tract.log" | grep -E "^vs_onnxruntime/|time:|faces per frame|tracked:" || true

echo "== onnxruntime (1 thread)"
"$PY" models/bench_vs_onnxruntime.py ort "$OUT/inputs" "$OUT/onnxruntime.json" --runs "$RUNS" --threads 1

"$PY" models/bench_vs_onnxruntime.py report "$OUT/onnxruntime.json" "$ROOT/target/criterion/vs_onnxruntime" \
  "$OUT/vs-onnxruntime.json"
