#!/usr/bin/env bash
# Builds liblifecert_ffi.so for arm64-v8a WITHOUT the Android NDK, with zig (PyPI `ziglang`) as C compiler and
# linker: how the arm64 library was built on the development machine, which has no NDK. An experiment, not the
# supported route (that is `cargo ndk`, see README.md): the result has never run on a phone.
#
# C and assembly (ring, tract-linalg) are compiled against zig's musl headers for aarch64; the library is linked
# with zig's compiler-rt and libunwind, and against empty stand-ins for bionic's libc.so, libm.so, libdl.so and
# liblog.so, which only record those names as needed libraries: their symbols stay undefined, for the phone's
# dynamic linker to find in bionic (listed at the end). Output:
# target/aarch64-linux-android/release/liblifecert_ffi.so (and a stripped copy next to it).
#
# Needs: rustup target aarch64-linux-android, python3 -m pip install ziglang.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(pwd)/android/target/zig"
mkdir -p "$work/stubs"
zig=(python3 -m ziglang)

# cc-rs adds --target=aarch64-linux-android for clang-like compilers: zig takes its own -target.
cat >"$work/cc" <<'EOF'
#!/usr/bin/env bash
args=()
for a in "$@"; do
  case "$a" in --target=*|-target|aarch64-linux-android*) ;; *) args+=("$a") ;; esac
done
exec python3 -m ziglang cc -target aarch64-linux-musl "${args[@]}"
EOF
cat >"$work/ar" <<'EOF'
#!/usr/bin/env bash
exec python3 -m ziglang ar "$@"
EOF
cat >"$work/ld" <<EOF
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  case "\$a" in --target=*|-target|aarch64-linux-android*|-lgcc|-lgcc_s) ;; *) args+=("\$a") ;; esac
done
exec python3 -m ziglang cc -target aarch64-linux-musl -nostdlib -L"$work/stubs" "\${args[@]}" -lunwind -Wl,--allow-shlib-undefined
EOF
chmod +x "$work/cc" "$work/ar" "$work/ld"
echo "" >"$work/empty.c"
for l in c m dl log; do
  "${zig[@]}" cc -target aarch64-linux-musl -shared -nostdlib -o "$work/stubs/lib$l.so" "$work/empty.c" -Wl,-soname,"lib$l.so"
done

export CC_aarch64_linux_android="$work/cc" AR_aarch64_linux_android="$work/ar"
export CARGO_TARGET_AARCH64_LINUX_ANDROID_LINKER="$work/ld"
cargo build --release -p lifecert-ffi --target aarch64-linux-android

lib=target/aarch64-linux-android/release/liblifecert_ffi.so
"${zig[@]}" objcopy --strip-all "$lib" "${lib%.so}.stripped.so"
echo "built: $lib ($(stat -c %s "$lib") bytes), stripped ${lib%.so}.stripped.so ($(stat -c %s "${lib%.so}.stripped.so") bytes)"
echo "needed libraries and symbols left to the phone:"
readelf -d "$lib" | grep NEEDED || true
readelf --dyn-syms -W "$lib" | awk '$7 == "UND" && $8 != "" {print $8}' | sort -u | wc -l
