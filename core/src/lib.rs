//! lifecert-core: the on-device engine of lifecert, a "proof of life" library for pension
//! certification. Data flows one way: frame → face → evidence → decision.
//!
//! Start with [`Analyzer`]: it loads the models once and turns a [`Frame`] into
//! [`FaceObservation`]s (box, keypoints, 468 landmarks, head pose).
#![deny(missing_docs)]

#[path = "face/alignment.rs"]
pub mod alignment;
#[path = "face/analyzer.rs"]
pub mod analyzer;
#[path = "api/attestation.rs"]
pub mod attestation;
#[path = "audio/mfcc.rs"]
pub mod audio_features;
#[path = "liveness/av_sync.rs"]
pub mod av_sync;
#[path = "api/certification.rs"]
pub mod certification;
#[path = "liveness/challenge.rs"]
pub mod challenge;
#[path = "api/config.rs"]
pub mod config;
#[path = "face/descriptor.rs"]
pub mod descriptor;
#[path = "face/detector.rs"]
pub mod detector;
#[path = "liveness/digit_verify.rs"]
pub mod digit_verify;
#[path = "api/engine.rs"]
pub mod engine;
#[path = "api/enrollment.rs"]
pub mod enrollment;
#[path = "api/error.rs"]
pub mod error;
#[path = "face/observation.rs"]
pub mod face;
#[path = "image/frame.rs"]
pub mod frame;
#[path = "image/geometry.rs"]
pub mod geometry;
#[path = "capture/guidance.rs"]
pub mod guidance;
#[path = "identity/id_document.rs"]
pub mod id_document;
#[path = "identity/person.rs"]
pub mod identity;
#[path = "image/decode.rs"]
pub mod image_io;
#[path = "face/landmarks.rs"]
pub mod landmarks;
#[path = "face/lazy_descriptor.rs"]
mod lazy_descriptor;
#[path = "liveness/sequencer.rs"]
pub mod liveness;
#[path = "text/messages.rs"]
pub mod messages;
#[path = "model/assets.rs"]
pub mod models;
#[path = "face/mouth.rs"]
pub mod mouth;
#[path = "model/onnx.rs"]
mod onnx_model;
#[path = "face/anti_spoofing.rs"]
pub mod pad;
#[path = "face/pose.rs"]
pub mod pose;
#[path = "capture/quality.rs"]
pub mod quality;
#[path = "audio/resample.rs"]
pub mod resample;
#[path = "text/result_texts.rs"]
pub mod result_texts;
#[path = "text/review.rs"]
pub mod review;
#[path = "crypto/sealing.rs"]
pub mod sealing;
#[path = "api/session.rs"]
pub mod session;
#[path = "audio/speaker.rs"]
pub mod speaker;
#[path = "audio/segments.rs"]
pub mod speech_segments;
#[path = "matching/sealed_template.rs"]
pub mod template_store;
#[path = "matching/templates.rs"]
pub mod templates;
#[path = "audio/vad.rs"]
pub mod vad;
#[path = "liveness/visual_evidence.rs"]
pub mod visual_evidence;
#[path = "api/voice_enrollment.rs"]
pub mod voice_enrollment;
#[path = "matching/voice_profile.rs"]
pub mod voice_profile;
#[path = "matching/sealed_voice.rs"]
pub mod voice_store;
#[path = "image/warp.rs"]
pub mod warp;
#[path = "audio/wav.rs"]
pub mod wav;

pub use analyzer::{Analyzer, FrameAnalysis};
pub use certification::{CertificationOutcome, CertificationSession};
pub use config::Config;
pub use engine::Engine;
pub use enrollment::{EnrollmentOutcome, EnrollmentSession};
pub use error::{Error, Result};
pub use face::{Detection, FaceObservation, HeadPose, Keypoint, Landmarks};
pub use frame::{Frame, FrameError, PixelFormat, Rotation};
pub use geometry::{Point, Rect};
pub use models::{ModelInfo, ModelSource};
