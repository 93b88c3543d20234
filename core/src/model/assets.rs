//! Where the models come from: embedded in the binary (default) or read from a directory.
//!
//! The files and their contracts are described in `models/MODELS.md`; their SHA-256 digests
//! are computed at load so that results can name exactly which models produced them.

use crate::model::error::ModelError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// File name of the face detector.
pub const DETECTOR_FILE: &str = "face_detection_short_range.onnx";
/// File name of the landmark model.
pub const LANDMARK_FILE: &str = "face_landmark.onnx";
/// File name of the face descriptor model.
pub const DESCRIPTOR_FILE: &str = "dlib_face_descriptor.onnx";
/// File name of the voice-activity model.
pub const VAD_FILE: &str = "silero_vad_16k.onnx";
/// File name of the speaker encoder (GE2E, Resemblyzer).
pub const SPEAKER_FILE: &str = "ge2e_speaker_encoder.onnx";
/// File name of the canonical 3-D face.
pub const CANONICAL_FACE_FILE: &str = "canonical_face.json";

/// Where to load the models from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelSource {
    /// The copies compiled into the library (the default; nothing to ship separately).
    #[default]
    Embedded,
    /// A directory holding files with the names above (e.g. downloaded after install).
    Directory(PathBuf),
}

/// Name and SHA-256 of one loaded model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// File name.
    pub file: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl ModelInfo {
    fn of(file: &str, bytes: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        Self {
            file: file.to_owned(),
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

fn embedded(file: &str) -> Option<&'static [u8]> {
    match file {
        DETECTOR_FILE => Some(include_bytes!(
            "../../../models/face_detection_short_range.onnx"
        )),
        LANDMARK_FILE => Some(include_bytes!("../../../models/face_landmark.onnx")),
        CANONICAL_FACE_FILE => Some(include_bytes!("../../../models/canonical_face.json")),
        DESCRIPTOR_FILE => Some(include_bytes!("../../../models/dlib_face_descriptor.onnx")),
        VAD_FILE => Some(include_bytes!("../../../models/silero_vad_16k.onnx")),
        SPEAKER_FILE => Some(include_bytes!("../../../models/ge2e_speaker_encoder.onnx")),
        _ => None,
    }
}

impl ModelSource {
    /// Reads one model file's bytes and describes it.
    pub(crate) fn read(
        &self,
        file: &'static str,
    ) -> Result<(Cow<'static, [u8]>, ModelInfo), ModelError> {
        let bytes: Cow<'static, [u8]> = match self {
            ModelSource::Embedded => Cow::Borrowed(embedded(file).ok_or(ModelError::Load {
                model: file,
                reason: "not embedded".into(),
            })?),
            ModelSource::Directory(dir) => Cow::Owned(read_file(&dir.join(file))?),
        };
        let info = ModelInfo::of(file, &bytes);
        Ok((bytes, info))
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.display().to_string(),
        source,
    })
}
