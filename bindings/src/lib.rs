//! lifecert-ffi: the one FFI facade of lifecert (uniffi, proc-macros), compiled as
//! `cdylib` (Android), `staticlib` (iOS) and `lib` (Rust-side FFI tests).
//!
//! The bindings issue turns this into the session API; until then it only re-exports the
//! core's version so that the crate builds in the workspace.
#![deny(missing_docs)]

/// Version of the lifecert engine behind these bindings.
pub fn engine_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
