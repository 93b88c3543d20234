//! The error of loading and running a model: every file that runs a model returns it.

use thiserror::Error;

/// A model could not be loaded, read or run.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A model could not be loaded or prepared (missing file, corrupt ONNX, wrong contract).
    #[error("model {model} could not be loaded: {reason}")]
    Load {
        /// Which model (file name).
        model: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// A model failed while running on an input.
    #[error("model {model} failed: {reason}")]
    Inference {
        /// Which model (file name).
        model: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// Reading a model file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
