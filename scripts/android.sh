#!/usr/bin/env bash
# The Android shell (android/): its tests on the JVM and under Robolectric against the host build of the native
# library, and its debug APK.
#
#   scripts/android.sh test          build the FFI library and generate the Kotlin bindings (the same commands as
#                                    scripts/bindings.sh: nothing is rebuilt after it), run `mvn test` in android/
#                                    (controllers certifying a shared GRID clip end to end, Camera2 plane handling
#                                    against the core's frame conversion, key wrapping, the Activity under
#                                    Robolectric), then build the debug APK and verify it (android/apk.sh)
#   scripts/android.sh apk [--native]  only the APK (see android/apk.sh)
#
# Needs: cargo, Java 17 and Maven (the first run downloads Kotlin, JNA, Robolectric and its Android 15 jars from
# Maven Central, about 700 MB), ffmpeg and the shared data (LIFECERT_EVAL_DATA, default ../shared/data) for the
# clip tests, and the Debian packages aapt apksigner zipalign android-framework-res for the APK (CI installs them;
# elsewhere the APK step is skipped, loudly, when they are missing).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-test}"
target_dir="${CARGO_TARGET_DIR:-target}"
target_dir="$(mkdir -p "$target_dir" && cd "$target_dir" && pwd)"
lib="$target_dir/debug/liblifecert_ffi.so"
generated=bindings/generated/kotlin

prepare() {
  echo "== cargo build --workspace (host library, as scripts/bindings.sh)"
  cargo build -q --workspace
  echo "== uniffi-bindgen generate (kotlin) -> $generated/"
  rm -rf "$generated"
  "$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language kotlin --no-format --out-dir "$generated" >/dev/null
}

apk() {
  local missing=()
  for tool in aapt aapt2 apksigner zipalign; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ -f /usr/share/android-framework-res/framework-res.apk ] || missing+=(android-framework-res)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "the APK tools are required in CI: ${missing[*]}" >&2
      exit 1
    fi
    echo ""
    echo "!!!!! SKIPPED: the debug APK (missing ${missing[*]}; apt-get install aapt apksigner zipalign android-framework-res) !!!!!"
    echo ""
    return 0
  fi
  echo "== android/apk.sh $*"
  LIFECERT_GENERATED="$(pwd)/$generated" android/apk.sh "$@"
}

case "$mode" in
  test)
    prepare
    echo "== mvn test (android/: controllers, frames, keys on the JVM; the Activity under Robolectric)"
    mvn -B -ntp -f android/pom.xml test \
      -Dlifecert.libdir="$(dirname "$lib")" \
      -Dlifecert.generated="$(pwd)/$generated"
    apk
    ;;
  apk)
    shift
    prepare
    apk "$@"
    ;;
  *)
    echo "usage: $0 [test|apk [--native]]" >&2
    exit 2
    ;;
esac
