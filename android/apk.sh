#!/usr/bin/env bash
# Builds a signed debug APK of the shell without Gradle or the Android SDK, from Debian's and Maven Central's tools:
# the shell, the generated bindings and the demonstration app (apk/kotlin) compiled by Maven against android-all,
# dexed by d8 (com.android.tools:r8 from Maven Central) with the Kotlin standard library and JNA (its .aar: classes
# and libjnidispatch.so for arm64-v8a, armeabi-v7a and x86_64), the manifest linked by Debian's aapt2 against
# Debian's framework-res.apk, aligned by zipalign and signed by apksigner with a debug key made by keytool.
#
#   android/apk.sh                 the APK without the Rust library (installs, but cannot run a session)
#   android/apk.sh --native        with target/aarch64-linux-android/release/liblifecert_ffi.so as
#                                  lib/arm64-v8a (build it first: see android/README.md)
#   android/apk.sh --verify        check an existing android/target/lifecert-debug.apk (apksigner verify,
#                                  aapt dump badging, the expected entries)
#
# Needs: Java 17, Maven, and the Debian packages aapt apksigner zipalign android-framework-res. The Kotlin bindings
# must have been generated (scripts/android.sh does it). Output: android/target/lifecert-debug.apk
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"
repo="$(cd .. && pwd)"
out="$here/target/apk"
apk="$here/target/lifecert-debug.apk"
native_lib="${LIFECERT_ANDROID_LIB:-$repo/target/aarch64-linux-android/release/liblifecert_ffi.so}"
framework_res=/usr/share/android-framework-res/framework-res.apk
r8_version=9.5.29
jna_version=5.19.1
kotlin_version=2.4.21
android_all=15-robolectric-13954326
min_sdk=28
target_sdk=35

native=false
verify_only=false
for arg in "$@"; do
  case "$arg" in
    --native) native=true ;;
    --verify) verify_only=true ;;
    *) echo "usage: $0 [--native] [--verify]" >&2; exit 2 ;;
  esac
done

verify() {
  echo "== apksigner verify"
  apksigner verify --verbose --min-sdk-version "$min_sdk" "$apk" | grep -E "^Verifies|Verified using v[0-9].*true"
  echo "== aapt dump badging"
  local badging
  badging="$(aapt dump badging "$apk")"
  echo "$badging" | grep -E "^package:|^sdkVersion|^targetSdkVersion|^uses-permission|^launchable-activity|^native-code"
  grep -q "name='lifecert.android.demo'" <<<"$badging"
  grep -q "uses-permission: name='android.permission.CAMERA'" <<<"$badging"
  grep -q "uses-permission: name='android.permission.RECORD_AUDIO'" <<<"$badging"
  grep -q "launchable-activity: name='lifecert.android.demo.DemoActivity'" <<<"$badging"
  local entries
  entries="$(unzip -Z1 "$apk")"
  for entry in classes.dex lib/arm64-v8a/libjnidispatch.so lib/armeabi-v7a/libjnidispatch.so lib/x86_64/libjnidispatch.so; do
    grep -qx "$entry" <<<"$entries" || { echo "missing $entry" >&2; return 1; }
  done
  if grep -qx lib/arm64-v8a/liblifecert_ffi.so <<<"$entries"; then
    echo "native: lib/arm64-v8a/liblifecert_ffi.so"
  else
    echo "native: none (built without --native: the APK cannot run a session)"
  fi
  echo "APK verified: $apk ($(stat -c %s "$apk") bytes)"
}

if $verify_only; then
  verify
  exit 0
fi

for tool in aapt aapt2 apksigner zipalign keytool java mvn; do
  command -v "$tool" >/dev/null || { echo "$tool is required (Debian: aapt apksigner zipalign android-framework-res)" >&2; exit 1; }
done
[ -f "$framework_res" ] || { echo "$framework_res missing (Debian package android-framework-res)" >&2; exit 1; }
if $native && [ ! -f "$native_lib" ]; then
  echo "--native: $native_lib not found (see android/README.md: building the native library)" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/tools" "$out/dex" "$out/lib"

echo "== compile the shell, the bindings and the demonstration app (mvn -Papk compile)"
mvn -B -ntp -q -Dstyle.color=never -Papk -f pom.xml compile "-Dlifecert.generated=${LIFECERT_GENERATED:-$repo/bindings/generated/kotlin}"

echo "== fetch d8, the Kotlin standard library and JNA's .aar from Maven Central"
fetch() {
  mvn -B -ntp -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dartifact="$1" -DoutputDirectory="$out/tools" -Dmdep.stripVersion=true
}
fetch "com.android.tools:r8:$r8_version"
fetch "org.jetbrains.kotlin:kotlin-stdlib:$kotlin_version"
fetch "net.java.dev.jna:jna:$jna_version:aar"
fetch "org.robolectric:android-all:$android_all"
(cd "$out/tools" && unzip -q -o jna.aar classes.jar 'jni/*' && mv classes.jar jna-classes.jar)

echo "== d8 (min API $min_sdk)"
(cd "$here/target/classes" && jar cf "$out/tools/shell.jar" .)
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
java -cp "$out/tools/r8.jar" com.android.tools.r8.D8 --debug --min-api "$min_sdk" \
  --lib "$out/tools/android-all.jar" --lib "$java_home" --output "$out/dex" \
  "$out/tools/shell.jar" "$out/tools/kotlin-stdlib.jar" "$out/tools/jna-classes.jar"

echo "== aapt2 link (manifest; no resources: the screens are built in code)"
aapt2 link -o "$out/unsigned.apk" --manifest "$here/apk/AndroidManifest.xml" -I "$framework_res" \
  --min-sdk-version "$min_sdk" --target-sdk-version "$target_sdk" --version-code 1 --version-name 0.1.0

echo "== add the dex and the native libraries"
for abi in arm64-v8a armeabi-v7a x86_64; do
  mkdir -p "$out/lib/lib/$abi"
  cp "$out/tools/jni/$abi/libjnidispatch.so" "$out/lib/lib/$abi/"
done
if $native; then
  cp "$native_lib" "$out/lib/lib/arm64-v8a/liblifecert_ffi.so"
fi
(cd "$out/dex" && zip -q -j "$out/unsigned.apk" classes*.dex)
(cd "$out/lib" && zip -q -0 -r "$out/unsigned.apk" lib)

echo "== zipalign and sign (debug key)"
zipalign -p -f 4 "$out/unsigned.apk" "$out/aligned.apk"
keystore="$here/target/debug.keystore"
if [ ! -f "$keystore" ]; then
  keytool -genkeypair -keystore "$keystore" -storepass android -keypass android -alias androiddebugkey \
    -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=Android Debug,O=Android,C=US" >/dev/null 2>&1
fi
apksigner sign --ks "$keystore" --ks-pass pass:android --key-pass pass:android --ks-key-alias androiddebugkey \
  --min-sdk-version "$min_sdk" --out "$apk" "$out/aligned.apk"

verify
