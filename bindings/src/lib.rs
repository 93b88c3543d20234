//! lifecert-ffi: the one FFI facade of lifecert, for the Android (Kotlin), iOS (Swift) and
//! desktop-test (Python) shells. Built with uniffi proc-macros as `cdylib` (Android, tests),
//! `staticlib` (iOS) and `lib` (Rust-side tests of the FFI behaviour).
//!
//! Wrappers only: every decision is made in `lifecert-core`. What is exported:
//! - [`Engine`] — models loaded once ([`Engine::new`], or [`Engine::with_options`] with
//!   [`EngineOptions`]); [`Engine::analyze_frame`] for one frame and
//!   [`Engine::guidance_session`] for a live camera ([`GuidanceSession::push_frame`]);
//! - [`Engine::enrollment_session`] → [`EnrollmentSession`] (consent, ID photos, face,
//!   actions, voice → a sealed template) and [`Engine::certification_session`] →
//!   [`CertificationSession`] (face, spoken digits, match → a signed attestation), with
//!   their keys ([`EnrollmentKeys`], [`CertificationKeys`], [`generate_sealing_key`], …);
//! - [`verify_attestation`] — the authority's check of a signed result;
//! - [`validate_id_number`] — the ID-number check of the input form;
//! - [`set_log_sink`] / [`clear_log_sink`] — the engine's logs into the host's logger;
//! - [`LifecertError`] — the one error every call may return, mapped from the core's
//!   detailed errors in one place (`error.rs`).
//!
//! Nothing panics across the boundary: the facade does not unwrap, and uniffi turns any
//! panic into an error on the foreign side. `src/README.md` says what each file is for.
#![deny(missing_docs)]

mod attestation;
mod certification;
mod engine;
mod enrollment;
mod error;
mod frame;
mod identity;
mod keys;
mod logging;
mod review;
mod session;

pub use attestation::{verify_attestation, AttestationSummary, ModelRef, VerifyOptions};
pub use certification::{
    CertificationOutcome, CertificationRequest, CertificationSession, CertificationUpdate,
    ChallengeSource, RetireeCategory,
};
pub use engine::{
    Engine, EngineOptions, FaceBox, FaceKeypoints, FaceReport, FrameReport, GuidanceSession,
    GuidanceUpdate, GuideOval, HeadPose, Point, Prompt,
};
pub use enrollment::{
    DocumentSide, EnrollmentOutcome, EnrollmentPackage, EnrollmentRequest, EnrollmentSession,
    EnrollmentUpdate, ReviewDocument, ReviewFrame,
};
pub use error::LifecertError;
pub use frame::{FrameInput, FrameLayout, PixelFormat};
pub use identity::{validate_id_number, IdCheck, IdKind};
pub use keys::{
    device_public_key, generate_device_key, generate_sealing_key, generate_subject_key,
    CertificationKeys, EnrollmentKeys,
};
pub use logging::{clear_log_sink, set_log_sink, LogLevel, LogSink};
pub use review::review_text;
pub use session::{
    Action, ActionPrompt, LivenessReport, Phase as SessionPhase, Utterance, UtteranceKind,
    MAX_TIMESTAMP_MS,
};

uniffi::setup_scaffolding!();

/// Version of the lifecert engine behind these bindings.
#[uniffi::export]
pub fn engine_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
