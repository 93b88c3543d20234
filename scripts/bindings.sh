#!/usr/bin/env bash
# Builds the FFI library (crate lifecert-ffi), generates its Kotlin, Swift and Python bindings with the pinned
# bindgen (crate uniffi-bindgen, same uniffi as Cargo.lock) and tests them on the desktop against the host build.
#
#   scripts/bindings.sh            same as `generate`
#   scripts/bindings.sh generate   build; write bindings/generated/{python,kotlin,swift} (Swift is committed)
#   scripts/bindings.sh check      build; fail if the committed Swift in bindings/generated/swift is stale
#   scripts/bindings.sh test       generate Python + Kotlin, run pytest and `mvn test`, then `check`
#   scripts/bindings.sh bench      per-frame cost of push_frame (GuidanceSession; CertificationSession copied and
#                                  borrowed) from Python, Kotlin and Rust (prints medians; the Rust criterion bench
#                                  runs in the dev profile, the build the bindings load)
#
# Python and Kotlin bindings are generated on every run and not committed (bindings/generated/.gitignore); the
# Python directory gets a link to the native library, which is where the generated module loads it from. Kotlin
# finds it through -Djna.library.path. Needs: cargo, python3 with pytest, ffmpeg/ffprobe (to decode the sample
# photo and the clips of the session tests, read from LIFECERT_EVAL_DATA, default ../shared/data), Java 17 and Maven
# (the first run downloads the Kotlin compiler, JNA and JUnit from Maven Central).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-generate}"
target_dir="${CARGO_TARGET_DIR:-target}"
target_dir="$(mkdir -p "$target_dir" && cd "$target_dir" && pwd)"
case "$(uname -s)" in
  Darwin) lib="$target_dir/debug/liblifecert_ffi.dylib" ;;
  *) lib="$target_dir/debug/liblifecert_ffi.so" ;;
esac
generated=bindings/generated

build() {
  echo "== cargo build --workspace (the library and uniffi-bindgen with the features cargo test used: tract compiled once)"
  cargo build -q --workspace
}

# generate LANGUAGE OUT_DIR: the bindings of the built library, unformatted (so the output does not depend on
# whether ktlint/swiftformat happen to be installed).
generate() {
  rm -rf "$2"
  "$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language "$1" --no-format --out-dir "$2" >/dev/null
}

generate_all() {
  echo "== uniffi-bindgen generate (python, kotlin, swift) -> $generated/"
  generate python "$generated/python"
  ln -sf "$lib" "$generated/python/$(basename "$lib")"
  generate kotlin "$generated/kotlin"
  generate swift "$generated/swift"
}

check_swift() {
  echo "== Swift bindings up to date (bindings/generated/swift)"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  generate swift "$tmp/swift"
  if ! diff -ru "$generated/swift" "$tmp/swift"; then
    echo "the committed Swift bindings are stale: run scripts/bindings.sh generate and commit bindings/generated/swift" >&2
    return 1
  fi
  echo "Swift bindings are current"
}

python_tests() {
  echo "== pytest bindings/tests/python"
  python3 -m pytest -q -rs -p no:cacheprovider bindings/tests/python
}

maven() {
  mvn -B -ntp -f bindings/tests/kotlin/pom.xml \
    -Dlifecert.libdir="$(dirname "$lib")" \
    -Dlifecert.generated="$(pwd)/$generated/kotlin" "$@"
}

kotlin_tests() {
  echo "== mvn test (bindings/tests/kotlin, JVM + JNA)"
  maven test
}

case "$mode" in
  generate)
    build
    generate_all
    ;;
  check)
    build
    check_swift
    ;;
  test)
    build
    generate python "$generated/python"
    ln -sf "$lib" "$generated/python/$(basename "$lib")"
    generate kotlin "$generated/kotlin"
    python_tests
    kotlin_tests
    check_swift
    ;;
  bench)
    build
    generate python "$generated/python"
    ln -sf "$lib" "$generated/python/$(basename "$lib")"
    generate kotlin "$generated/kotlin"
    echo "== Python"
    python3 bindings/tests/python/bench_push_frame.py "${ITERATIONS:-50}"
    echo "== Kotlin"
    maven -q test -Dtest=PushFrameTimingTest -Dlifecert.bench.iterations="${ITERATIONS:-50}"
    echo "== Rust (criterion)"
    cargo bench -q --profile dev --workspace --bench push_frame
    ;;
  *)
    echo "usage: $0 [generate|check|test|bench]" >&2
    exit 2
    ;;
esac
