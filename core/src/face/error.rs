//! The error of the face layer: a model failed, a face cannot be used, or a face setting is
//! out of range.

use crate::model::error::ModelError;
use thiserror::Error;

/// What can go wrong between a frame and its faces.
#[derive(Debug, Error)]
pub enum FaceError {
    /// A face model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// A face cannot be used (degenerate landmarks, a box outside the image).
    #[error("face not usable: {0}")]
    Unusable(String),

    /// A face setting (detector, landmarks) holds a value outside its documented range.
    #[error("invalid configuration: {0}")]
    Config(String),
}
