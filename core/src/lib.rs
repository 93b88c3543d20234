//! lifecert-core: the on-device engine of lifecert, a "proof of life" library for pension
//! certification. Data flows one way: frame → face → evidence → decision.
//!
//! Start with [`Analyzer`]: it loads the models once and turns a [`Frame`] into
//! [`FaceObservation`]s (box, keypoints, 468 landmarks, head pose).
#![deny(missing_docs)]

pub mod alignment;
pub mod analyzer;
pub mod attestation;
pub mod audio_features;
pub mod av_sync;
pub mod certification;
pub mod challenge;
pub mod config;
pub mod descriptor;
pub mod detector;
pub mod digit_verify;
pub mod engine;
pub mod enrollment;
pub mod error;
pub mod face;
pub mod frame;
pub mod geometry;
pub mod guidance;
pub mod id_document;
pub mod identity;
pub mod image_io;
pub mod landmarks;
mod lazy_descriptor;
pub mod liveness;
pub mod messages;
pub mod models;
pub mod mouth;
mod onnx_model;
pub mod pad;
pub mod pose;
pub mod quality;
pub mod resample;
pub mod result_texts;
pub mod review;
pub mod sealing;
pub mod session;
pub mod speaker;
pub mod speech_segments;
pub mod template_store;
pub mod templates;
pub mod vad;
pub mod visual_evidence;
pub mod voice_enrollment;
pub mod voice_profile;
pub mod voice_store;
pub mod warp;
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
