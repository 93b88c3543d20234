#!/usr/bin/env bash
# Builds liblifecert_ffi.so for arm64-v8a WITHOUT the Android NDK, with zig (PyPI `ziglang`) as C compiler and
# linker: how the arm64 library was built on the development machine, which has no NDK. An experiment, not the
# supported route (that is `cargo ndk`, see README.md): the result has never run on a phone.
#
# C and assembly (ring, tract-linalg) are compiled against zig's musl headers for aarch64; the library is linked
# with zig's compiler-rt and libunwind (plus a two-line shim: musl's errno accessor on top of bionic's), and against
# empty stand-ins for bionic's libm.so, libdl.so and liblog.so (libc.so is zig's musl stub of the same name), which
# only record those names as needed libraries: about a hundred symbols stay undefined, for the phone's dynamic
# linker to find in bionic (counted at the end; getrandom needs API 28). SONAME set, 64 KiB segment alignment, no
# text relocations, emulated TLS (Rust's Android target). rustc's release link strips it already.
# Output: target/aarch64-linux-android/release/liblifecert_ffi.so
#
# Needs: rustup target add aarch64-linux-android; python3 -m pip install ziglang.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(pwd)/android/target/zig"
mkdir -p "$work/stubs"
zig=(python3 -m ziglang)

# cc-rs adds --target=aarch64-linux-android for clang-like compilers: zig takes its own -target.
cat >"$work/cc" <<'SCRIPT'
#!/usr/bin/env bash
args=()
for a in "$@"; do
  case "$a" in --target=*|-target|aarch64-linux-android*) ;; *) args+=("$a") ;; esac
done
exec python3 -m ziglang cc -target aarch64-linux-musl "${args[@]}"
SCRIPT
cat >"$work/ar" <<'SCRIPT'
#!/usr/bin/env bash
exec python3 -m ziglang ar "$@"
SCRIPT
# The stand-ins define no symbols, so --as-needed would drop them: every one is kept as a needed library.
cat >"$work/ld" <<SCRIPT
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  case "\$a" in
    --target=*|-target|aarch64-linux-android*|-lgcc|-lgcc_s) ;;
    -Wl,--as-needed) args+=(-Wl,--no-as-needed) ;;
    *) args+=("\$a") ;;
  esac
done
exec python3 -m ziglang cc -target aarch64-linux-musl -nostdlib -L"$work/stubs" "\${args[@]}" -lunwind "$work/shim.o" \\
  -Wl,--no-as-needed "$work/stubs/libm.so" "$work/stubs/libdl.so" -Wl,--allow-shlib-undefined \\
  -Wl,-soname,liblifecert_ffi.so
SCRIPT
chmod +x "$work/cc" "$work/ar" "$work/ld"

# zig's libunwind is built against musl, which names errno's accessor __errno_location; bionic's is __errno.
cat >"$work/shim.c" <<'SCRIPT'
extern int *__errno(void);
int *__errno_location(void) { return __errno(); }
SCRIPT
"${zig[@]}" cc -target aarch64-linux-musl -O2 -fPIC -c "$work/shim.c" -o "$work/shim.o"
echo "" >"$work/empty.c"
for l in c m dl log; do
  "${zig[@]}" cc -target aarch64-linux-musl -shared -nostdlib -o "$work/stubs/lib$l.so" "$work/empty.c" -Wl,-soname,"lib$l.so"
done

export CC_aarch64_linux_android="$work/cc" AR_aarch64_linux_android="$work/ar"
export CARGO_TARGET_AARCH64_LINUX_ANDROID_LINKER="$work/ld"
cargo build --release -p lifecert-ffi --target aarch64-linux-android

lib=target/aarch64-linux-android/release/liblifecert_ffi.so
echo "built: $lib ($(stat -c %s "$lib") bytes, stripped)"
readelf -d "$lib" | grep -E "NEEDED|SONAME"
echo "symbols left to bionic: $(readelf --dyn-syms -W "$lib" | awk '$7 == "UND" && $8 != "" {print $8}' | sort -u | wc -l)"
