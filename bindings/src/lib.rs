//! lifecert-ffi: the one FFI facade of lifecert, for the Android (Kotlin), iOS (Swift) and
//! desktop-test (Python) shells. Built with uniffi proc-macros as `cdylib` (Android, tests),
//! `staticlib` (iOS) and `lib` (Rust-side tests of the FFI behaviour).
//!
//! Wrappers only: every decision is made in `lifecert-core`. What is exported:
//! - [`Engine`] — models loaded once; [`Engine::analyze_frame`] for one frame and
//!   [`Engine::guidance_session`] for a live camera ([`GuidanceSession::push_frame`]);
//! - [`validate_id_number`] — the ID-number check of the input form;
//! - [`set_log_sink`] / [`clear_log_sink`] — the engine's logs into the host's logger;
//! - [`LifecertError`] — the one error every call may return, mapped from the core's
//!   detailed errors in one place (`error.rs`).
//!
//! Nothing panics across the boundary: the facade does not unwrap, and uniffi turns any
//! panic into an error on the foreign side. `src/README.md` says what each file is for.
#![deny(missing_docs)]

mod engine;
mod error;
mod frame;
mod identity;
mod logging;

pub use engine::{
    Engine, FaceBox, FaceKeypoints, FaceReport, FrameReport, GuidanceSession, GuidanceUpdate,
    GuideOval, HeadPose, Point, Prompt,
};
pub use error::LifecertError;
pub use frame::{FrameInput, PixelFormat};
pub use identity::{validate_id_number, IdCheck, IdKind};
pub use logging::{clear_log_sink, set_log_sink, LogLevel, LogSink};

uniffi::setup_scaffolding!();

/// Version of the lifecert engine behind these bindings.
#[uniffi::export]
pub fn engine_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
