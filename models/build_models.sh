#!/usr/bin/env bash
# Reproduce the committed model files in models/ from pinned registry packages.
#
#   models/build_models.sh            # build, write models/*.onnx + canonical_face.json + LICENSE.*
#   models/build_models.sh --check    # build into models/.cache only; compare with the committed files
#
# Packages fetched (sha256-pinned in build_models.py): PyPI mediapipe==0.10.21, silero-vad==6.2.3 and
# resemblyzer==0.1.4, npm @mediapipe/face_mesh@0.4.1657299874 and @vladmandic/face-api@1.7.15.
# Needs Python 3.11 (TensorFlow 2.15), pip (PyPI) and npm (npm registry). CI never runs this:
# the converted files are committed. See models/MODELS.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"

# Converter toolchain, pinned. tf2onnx needs TensorFlow even for --tflite input.
PINS=(
  "tensorflow-cpu==2.15.1"
  "tf2onnx==1.17.0"
  "numpy==1.26.4"      # <2 for TF 2.15
  "onnx==1.17.0"
  "protobuf==3.20.3"   # <4 for tf2onnx 1.17 / TF 2.15; also parses MediaPipe's generated _pb2 files
  "onnxruntime==1.26.0"
  "pillow==13.0.0"     # check_models.py / bench_onnxruntime.py read images (the descriptor is built with numpy + onnx)
  "librosa==0.10.1"    # speaker_reference.py checks its NumPy mel front end against librosa (not used to build)
)

pick_python() {
  local c
  for c in "${PYTHON:-}" python3.11 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
      echo "$c"; return 0
    fi
  done
  echo "build_models.sh: need Python 3.11 (TensorFlow 2.15.1); set PYTHON=/path/to/python3.11" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  echo "creating venv $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || {
  echo "build_models.sh: $VENV is not Python 3.11; delete it and rerun" >&2; exit 1; }

command -v npm >/dev/null 2>&1 || { echo "build_models.sh: npm is required (npm pack)" >&2; exit 1; }

# No-op (no network) when the exact pins are already installed.
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "${PINS[@]}"

exec "$VENV/bin/python" "$HERE/build_models.py" "$@"
