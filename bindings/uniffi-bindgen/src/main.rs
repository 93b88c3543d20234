//! The uniffi bindgen, pinned: built from the same `uniffi` version as `lifecert-ffi` (one
//! entry in `Cargo.lock`), so the generated Kotlin, Swift and Python always match the
//! scaffolding compiled into the native library. Run it through `scripts/bindings.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
