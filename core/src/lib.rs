//! lifecert-core: the on-device engine of lifecert, a "proof of life" library for pension
//! certification. Data flows one way: frame → face → evidence → decision.
//!
//! Start with [`Analyzer`]: it loads the models once and turns a [`Frame`] into
//! [`FaceObservation`]s (box, keypoints, 468 landmarks, head pose).
//!
//! The folders are the architecture, top layer first; a file imports only from its own
//! folder or from folders below it (`core/tests/layers.rs` checks it):
//! [`api`] → [`matching`] → [`liveness`] → [`text`] → [`capture`] → [`identity`] →
//! [`face`] → [`audio`] → [`image`] → [`model`] → [`crypto`].
#![deny(missing_docs)]

pub mod api;
pub mod audio;
pub mod capture;
pub mod crypto;
pub mod face;
pub mod identity;
pub mod image;
pub mod liveness;
pub mod matching;
pub mod model;
pub mod text;

pub use api::certification::{CertificationOutcome, CertificationSession};
pub use api::config::Config;
pub use api::drive::Session;
pub use api::engine::Engine;
pub use api::enrollment::{EnrollmentOutcome, EnrollmentSession};
pub use api::error::{Error, Result};
pub use face::analyzer::{Analyzer, FrameAnalysis};
pub use face::observation::{Detection, FaceObservation, HeadPose, Keypoint, Landmarks};
pub use face::tracker::{FaceTrack, TrackerConfig};
pub use image::frame::{Frame, FrameError, PixelFormat, Rotation};
pub use image::geometry::{Point, Rect};
pub use model::assets::{ModelInfo, ModelSource};
