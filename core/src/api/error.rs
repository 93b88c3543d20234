//! The detailed error type of the core. Bindings map it to a small public enum in one place.

use crate::api::attestation::AttestationError;
use crate::api::session::SessionError;
use crate::crypto::sealing::SealError;
use crate::face::error::FaceError;
use crate::identity::id_document::IdDocumentError;
use crate::matching::templates::TemplateError;
use thiserror::Error;

/// Everything that can go wrong in `lifecert-core`.
#[derive(Debug, Error)]
pub enum Error {
    /// The camera frame was malformed (size, stride, format, rotation).
    #[error("invalid frame: {0}")]
    Frame(#[from] crate::image::frame::FrameError),

    /// An encoded image (JPEG/PNG upload or file) could not be decoded.
    #[error("could not decode image: {0}")]
    ImageDecode(String),

    /// An encoded image (or its file) is larger than the decoder's budget: refused before
    /// its pixels are decoded (see [`crate::image::decode`]).
    #[error("image too large: {0}")]
    ImageTooLarge(#[from] crate::image::decode::ImageLimitError),

    /// An uploaded ID-document picture was refused (format, size, faces).
    #[error("ID document refused: {0}")]
    IdDocument(#[from] crate::identity::id_document::IdDocumentError),

    /// A model could not be loaded or prepared (missing file, corrupt ONNX, wrong contract).
    #[error("model {model} could not be loaded: {reason}")]
    ModelLoad {
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

    /// A face cannot be used for matching (degenerate landmarks, or it failed the quality
    /// gate: blurred, dark or turned away).
    #[error("face not usable: {0}")]
    UnusableFace(String),

    /// The configuration holds a value outside its documented range.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Audio given to the voice-activity detector was unusable (or the stream was finished).
    #[error("voice activity: {0}")]
    Vad(#[from] crate::audio::vad::VadError),

    /// Speech could not be turned into a speaker embedding (too little, silent, bad samples).
    #[error("speaker: {0}")]
    Speaker(#[from] crate::audio::speaker::SpeakerError),

    /// A voice could not be enrolled or its profile is unusable.
    #[error("voice profile: {0}")]
    Voice(#[from] crate::matching::voice_profile::VoiceProfileError),

    /// A face template could not be built, matched, refreshed, sealed or opened.
    #[error("face template: {0}")]
    Template(#[from] crate::matching::templates::TemplateError),

    /// A certification attestation could not be made or was refused.
    #[error("attestation: {0}")]
    Attestation(#[from] crate::api::attestation::AttestationError),

    /// A session call was refused (wrong phase, bad audio chunk, bad subject data).
    #[error("session: {0}")]
    Session(#[from] crate::api::session::SessionError),

    /// Reading a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::model::error::ModelError> for Error {
    fn from(e: crate::model::error::ModelError) -> Self {
        use crate::model::error::ModelError;
        match e {
            ModelError::Load { model, reason } => Self::ModelLoad { model, reason },
            ModelError::Inference { model, reason } => Self::Inference { model, reason },
            ModelError::Io { path, source } => Self::Io { path, source },
        }
    }
}

impl From<crate::face::error::FaceError> for Error {
    fn from(e: crate::face::error::FaceError) -> Self {
        use crate::face::error::FaceError;
        match e {
            FaceError::Model(m) => m.into(),
            FaceError::Unusable(reason) => Self::UnusableFace(reason),
            FaceError::Config(reason) => Self::Config(reason),
        }
    }
}

impl From<crate::image::decode::DecodeError> for Error {
    fn from(e: crate::image::decode::DecodeError) -> Self {
        use crate::image::decode::DecodeError;
        match e {
            DecodeError::Decode(reason) => Self::ImageDecode(reason),
            DecodeError::TooLarge(limit) => Self::ImageTooLarge(limit),
            DecodeError::Io { path, source } => Self::Io { path, source },
        }
    }
}

impl From<crate::matching::templates::MatchingError> for Error {
    fn from(e: crate::matching::templates::MatchingError) -> Self {
        use crate::matching::templates::MatchingError;
        match e {
            MatchingError::Template(t) => Self::Template(t),
            MatchingError::Face(f) => f.into(),
        }
    }
}

impl From<crate::audio::stream::MicrophoneError> for Error {
    fn from(e: crate::audio::stream::MicrophoneError) -> Self {
        use crate::audio::stream::MicrophoneError;
        match e {
            MicrophoneError::Chunk { samples, max } => {
                SessionError::AudioChunk { samples, max }.into()
            }
            MicrophoneError::Vad(v) => v.into(),
        }
    }
}

impl From<crate::audio::vad::VadRunError> for Error {
    fn from(e: crate::audio::vad::VadRunError) -> Self {
        use crate::audio::vad::VadRunError;
        match e {
            VadRunError::Audio(v) => Self::Vad(v),
            VadRunError::Model(m) => m.into(),
        }
    }
}

impl From<crate::audio::speaker::SpeakerLoadError> for Error {
    fn from(e: crate::audio::speaker::SpeakerLoadError) -> Self {
        use crate::audio::speaker::SpeakerLoadError;
        match e {
            SpeakerLoadError::Config(s) => Self::Speaker(s),
            SpeakerLoadError::Model(m) => m.into(),
        }
    }
}

impl From<crate::capture::guidance::GuidanceConfigError> for Error {
    fn from(e: crate::capture::guidance::GuidanceConfigError) -> Self {
        Self::Config(e.to_string())
    }
}

impl From<crate::liveness::sequencer::LivenessConfigError> for Error {
    fn from(e: crate::liveness::sequencer::LivenessConfigError) -> Self {
        Self::Config(e.0)
    }
}

/// What a caller can do about an error, in the terms a shell acts on: the one public
/// classification of every core error, made here exhaustively (a new variant anywhere does
/// not compile until it is classified). The bindings map it one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller gave something malformed or made a call the session does not take now.
    BadInput,
    /// The face cannot be used: ask the person to present it again.
    FaceNotUsable,
    /// Sealed or signed data failed its check (altered, damaged, another key or person).
    TamperedOrWrongKey,
    /// A fault inside the engine (a model failed to load or run, a bug).
    Internal,
}

impl Error {
    /// What a caller can do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Frame(_) | Self::ImageDecode(_) | Self::ImageTooLarge(_) | Self::Vad(_) => {
                ErrorKind::BadInput
            }
            Self::IdDocument(d) => id_document_kind(d),
            Self::UnusableFace(_) => ErrorKind::FaceNotUsable,
            Self::Template(t) => template_kind(t),
            Self::Attestation(a) => attestation_kind(a),
            Self::Session(s) => session_kind(s),
            Self::ModelLoad { .. }
            | Self::Inference { .. }
            | Self::Config(_)
            | Self::Io { .. }
            | Self::Speaker(_)
            | Self::Voice(_) => ErrorKind::Internal,
        }
    }
}

fn id_document_kind(e: &IdDocumentError) -> ErrorKind {
    match e {
        IdDocumentError::NoFaceOnFront
        | IdDocumentError::SeveralFacesOnFront { .. }
        | IdDocumentError::FaceOnBack { .. }
        | IdDocumentError::Face(FaceError::Unusable(_)) => ErrorKind::FaceNotUsable,
        IdDocumentError::Encode(_)
        | IdDocumentError::Face(FaceError::Model(_) | FaceError::Config(_))
        | IdDocumentError::Decode(_)
        | IdDocumentError::Config(_) => ErrorKind::Internal,
        IdDocumentError::Empty
        | IdDocumentError::NotAnImage
        | IdDocumentError::UnsupportedFormat { .. }
        | IdDocumentError::Corrupt(_)
        | IdDocumentError::InputTooLarge { .. }
        | IdDocumentError::TooManyPixels { .. }
        | IdDocumentError::ImageTooLarge(_)
        | IdDocumentError::TooLargeToFit { .. } => ErrorKind::BadInput,
    }
}

fn template_kind(e: &TemplateError) -> ErrorKind {
    match e {
        TemplateError::FrameRejected(_)
        | TemplateError::NotEnoughFrames { .. }
        | TemplateError::InconsistentFrames { .. } => ErrorKind::FaceNotUsable,
        TemplateError::Sealing(s) | TemplateError::Signature(s) => seal_kind(s),
        TemplateError::SubjectMismatch | TemplateError::Malformed(_) => {
            ErrorKind::TamperedOrWrongKey
        }
        TemplateError::TooManyFrames { .. } | TemplateError::InvalidDescriptor => {
            ErrorKind::BadInput
        }
        TemplateError::IdPortraitMismatch { .. }
        | TemplateError::ModelMismatch { .. }
        | TemplateError::NoDescriptorModel
        | TemplateError::RefreshRefused(_)
        | TemplateError::InvalidConfig(_) => ErrorKind::Internal,
    }
}

fn attestation_kind(e: &AttestationError) -> ErrorKind {
    match e {
        AttestationError::Signature(s) => seal_kind(s),
        AttestationError::NonCanonical
        | AttestationError::UnsupportedVersion(_)
        | AttestationError::Invalid(_)
        | AttestationError::NonceMismatch
        | AttestationError::NonceReused
        | AttestationError::SuppliedChallengeRefused
        | AttestationError::SeededChallengeRefused
        | AttestationError::ProfileRefused(_)
        | AttestationError::CountOnlyRefused => ErrorKind::TamperedOrWrongKey,
        AttestationError::TooLarge { .. } => ErrorKind::BadInput,
        AttestationError::Ledger(_) => ErrorKind::Internal,
    }
}

fn session_kind(e: &SessionError) -> ErrorKind {
    match e {
        SessionError::WrongPhase { .. }
        | SessionError::Finished
        | SessionError::AudioChunk { .. }
        | SessionError::Subject(_)
        | SessionError::Challenge(_) => ErrorKind::BadInput,
        SessionError::Sealing(s) => seal_kind(s),
    }
}

/// What a caller can do about a sealing or signing error.
pub fn seal_kind(e: &SealError) -> ErrorKind {
    match e {
        SealError::WrongKey
        | SealError::Tampered
        | SealError::BadMagic
        | SealError::Truncated
        | SealError::UnsupportedVersion { .. }
        | SealError::BadSignature
        | SealError::Malformed(_) => ErrorKind::TamperedOrWrongKey,
        SealError::InvalidKeyLength { .. }
        | SealError::InvalidPkcs8
        | SealError::InvalidPurpose
        | SealError::TooLarge { .. }
        | SealError::Unencodable(_) => ErrorKind::BadInput,
        SealError::Random | SealError::Crypto => ErrorKind::Internal,
    }
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
