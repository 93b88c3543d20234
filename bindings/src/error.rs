//! The one public error of the bindings, and the one place where every detailed error of
//! the core is mapped to it.
//!
//! The core's [`lifecert_core::Error`] says precisely what went wrong; a shell only needs to
//! know what to *do*: fix its input, ask the person to present their face again, start
//! over because stored data is damaged or belongs to someone else, or report a bug. Each
//! variant carries a human-readable `reason` (English, safe to log: the core never puts
//! what a person typed into its error texts).
//!
//! The field is called `reason`, not `message`: a Kotlin exception already has a
//! `message` property, and a generated field of that name would not compile.

use lifecert_core::api::attestation::AttestationError;
use lifecert_core::api::error::{seal_kind, ErrorKind};
use lifecert_core::crypto::sealing::SealError;
use lifecert_core::face::error::FaceError;
use lifecert_core::identity::person::IdentityError;
use lifecert_core::image::frame::FrameError;
use lifecert_core::Error as CoreError;

/// What went wrong, in the terms a shell acts on. Thrown as `LifecertException` in
/// Kotlin, `LifecertError` in Swift and Python.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum LifecertError {
    /// The caller gave something malformed (a frame buffer too short for its size, a
    /// rotation that is not a multiple of 90°, an ID number or name that does not check
    /// out, an unsupported language tag, an empty audio chunk, a key of the wrong length),
    /// or made a call the session does not take now (a frame before consent, any call after
    /// the session finished). Fix the input or the call; retrying the same call fails again.
    #[error("bad input: {reason}")]
    BadInput {
        /// What was wrong, for logs and developers.
        reason: String,
    },
    /// The face cannot be used (blurred, dark, turned away, not one person). Ask the
    /// person to present their face again, following the guidance.
    #[error("face not usable: {reason}")]
    FaceNotUsable {
        /// What was wrong, for logs and developers.
        reason: String,
    },
    /// Sealed or signed data failed its check: it was altered, is damaged, or was made
    /// with another key or for another person. Do not retry with the same data.
    #[error("tampered or wrong key: {reason}")]
    TamperedOrWrongKey {
        /// What was wrong, for logs and developers.
        reason: String,
    },
    /// A fault inside the engine (a model failed to load or run, a bug). Report it.
    #[error("internal error: {reason}")]
    Internal {
        /// What went wrong, for logs and developers.
        reason: String,
    },
}

/// The one place where a core error becomes a [`LifecertError`]: the core classifies
/// every error exhaustively ([`lifecert_core::Error::kind`]); each kind is one variant here.
fn with_kind(kind: ErrorKind, reason: String) -> LifecertError {
    match kind {
        ErrorKind::BadInput => LifecertError::BadInput { reason },
        ErrorKind::FaceNotUsable => LifecertError::FaceNotUsable { reason },
        ErrorKind::TamperedOrWrongKey => LifecertError::TamperedOrWrongKey { reason },
        ErrorKind::Internal => LifecertError::Internal { reason },
    }
}

impl LifecertError {
    /// The same error with `told` (the sentence for the person) before its reason: `told —
    /// reason`.
    pub(crate) fn with_reason_prefix(self, told: &str) -> Self {
        let join = |reason: String| format!("{told} — {reason}");
        match self {
            Self::BadInput { reason } => Self::BadInput {
                reason: join(reason),
            },
            Self::FaceNotUsable { reason } => Self::FaceNotUsable {
                reason: join(reason),
            },
            Self::TamperedOrWrongKey { reason } => Self::TamperedOrWrongKey {
                reason: join(reason),
            },
            Self::Internal { reason } => Self::Internal {
                reason: join(reason),
            },
        }
    }
}

impl From<CoreError> for LifecertError {
    fn from(e: CoreError) -> Self {
        with_kind(e.kind(), e.to_string())
    }
}

impl From<FaceError> for LifecertError {
    fn from(e: FaceError) -> Self {
        CoreError::from(e).into()
    }
}

impl From<FrameError> for LifecertError {
    fn from(e: FrameError) -> Self {
        CoreError::Frame(e).into()
    }
}

impl From<SealError> for LifecertError {
    fn from(e: SealError) -> Self {
        with_kind(seal_kind(&e), e.to_string())
    }
}

impl From<AttestationError> for LifecertError {
    fn from(e: AttestationError) -> Self {
        CoreError::Attestation(e).into()
    }
}

impl From<IdentityError> for LifecertError {
    fn from(e: IdentityError) -> Self {
        with_kind(ErrorKind::BadInput, format!("invalid ID number: {e}"))
    }
}

/// A foreign callback (the host's [`crate::LogSink`]) threw: uniffi hands the exception
/// over as this, which must convert into the callback's error type.
impl From<uniffi::UnexpectedUniFFICallbackError> for LifecertError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        LifecertError::internal(format!("host callback failed: {}", e.reason))
    }
}

impl LifecertError {
    /// A [`LifecertError::BadInput`] with this reason (for checks done in the facade itself,
    /// such as an unsupported language tag).
    pub(crate) fn bad_input(reason: impl Into<String>) -> Self {
        LifecertError::BadInput {
            reason: reason.into(),
        }
    }

    /// A subject key the core refused (too short): [`LifecertError::BadInput`].
    pub(crate) fn subject_key(e: IdentityError) -> Self {
        with_kind(ErrorKind::BadInput, format!("subject key: {e}"))
    }

    /// A key the core refused, named (`what`: "sealing key", "device key", …): a wrong
    /// length or an invalid PKCS#8 document is [`LifecertError::BadInput`].
    pub(crate) fn key(what: &str, e: SealError) -> Self {
        with_kind(seal_kind(&e), format!("{what}: {e}"))
    }

    /// A [`LifecertError::Internal`] with this reason.
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        LifecertError::Internal {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecert_core::api::session::SessionError;
    use lifecert_core::identity::id_document::IdDocumentError;
    use lifecert_core::matching::templates::TemplateError;

    fn kind_of(e: LifecertError) -> &'static str {
        match e {
            LifecertError::BadInput { .. } => "bad_input",
            LifecertError::FaceNotUsable { .. } => "face_not_usable",
            LifecertError::TamperedOrWrongKey { .. } => "tampered",
            LifecertError::Internal { .. } => "internal",
        }
    }

    #[test]
    fn frame_and_identity_errors_are_bad_input() {
        let e: LifecertError = FrameError::BadRotation(45).into();
        assert_eq!(
            e,
            LifecertError::BadInput {
                reason: "invalid frame: rotation must be a multiple of 90 degrees between -360 \
                         and 360, got 45"
                    .into()
            }
        );
        let e: LifecertError = IdentityError::BadCheckCharacter.into();
        assert_eq!(kind_of(e.clone()), "bad_input");
        assert_eq!(
            e.to_string(),
            "bad input: invalid ID number: check character does not match"
        );
    }

    #[test]
    fn key_challenge_and_attestation_errors_map_too() {
        assert_eq!(kind_of(SealError::InvalidPkcs8.into()), "bad_input");
        assert_eq!(kind_of(SealError::Tampered.into()), "tampered");
        assert_eq!(kind_of(SealError::Random.into()), "internal");
        let e = LifecertError::from(AttestationError::NonceMismatch);
        assert_eq!(
            e.to_string(),
            "tampered or wrong key: attestation: server nonce does not match"
        );
        let e = LifecertError::subject_key(IdentityError::KeyTooShort { len: 3, min: 32 });
        assert_eq!(kind_of(e.clone()), "bad_input");
        assert!(e.to_string().contains("subject key"), "{e}");
        let e = LifecertError::key("device key", SealError::InvalidPkcs8);
        assert_eq!(
            e.to_string(),
            "bad input: device key: invalid Ed25519 PKCS#8 key"
        );
    }

    #[test]
    fn core_errors_map_to_what_a_shell_can_do() {
        let cases: Vec<(CoreError, &str)> = vec![
            (CoreError::ImageDecode("truncated".into()), "bad_input"),
            (CoreError::UnusableFace("blurred".into()), "face_not_usable"),
            (
                CoreError::ModelLoad {
                    model: "detector.onnx",
                    reason: "corrupt".into(),
                },
                "internal",
            ),
            (
                CoreError::Inference {
                    model: "detector.onnx",
                    reason: "shape".into(),
                },
                "internal",
            ),
            (CoreError::Config("x".into()), "internal"),
            (IdDocumentError::NotAnImage.into(), "bad_input"),
            (IdDocumentError::NoFaceOnFront.into(), "face_not_usable"),
            (
                IdDocumentError::Face(FaceError::Unusable("x".into())).into(),
                "face_not_usable",
            ),
            (
                TemplateError::NotEnoughFrames {
                    good: 1,
                    required: 3,
                }
                .into(),
                "face_not_usable",
            ),
            (
                TemplateError::Sealing(SealError::WrongKey).into(),
                "tampered",
            ),
            (
                TemplateError::Sealing(SealError::Tampered).into(),
                "tampered",
            ),
            (
                TemplateError::Signature(SealError::BadSignature).into(),
                "tampered",
            ),
            (TemplateError::SubjectMismatch.into(), "tampered"),
            (TemplateError::Sealing(SealError::Random).into(), "internal"),
            (
                TemplateError::Sealing(SealError::InvalidKeyLength {
                    expected: 32,
                    actual: 3,
                })
                .into(),
                "bad_input",
            ),
            (AttestationError::NonceReused.into(), "tampered"),
            (
                AttestationError::Signature(SealError::BadSignature).into(),
                "tampered",
            ),
            (
                AttestationError::Ledger("disk full".into()).into(),
                "internal",
            ),
            (
                AttestationError::SuppliedChallengeRefused.into(),
                "tampered",
            ),
            (
                SessionError::WrongPhase {
                    call: "push_frame",
                    phase: lifecert_core::api::session::Phase::Consent,
                }
                .into(),
                "bad_input",
            ),
            (SessionError::Finished.into(), "bad_input"),
            (
                SessionError::AudioChunk {
                    samples: 0,
                    max: 160_000,
                }
                .into(),
                "bad_input",
            ),
            (
                SessionError::Subject(IdentityError::BadCheckCharacter).into(),
                "bad_input",
            ),
            (SessionError::Challenge("[]".into()).into(), "bad_input"),
            (
                SessionError::Sealing(SealError::Tampered).into(),
                "tampered",
            ),
            (
                SessionError::Sealing(SealError::WrongKey).into(),
                "tampered",
            ),
            (SessionError::Sealing(SealError::Random).into(), "internal"),
        ];
        for (core, expected) in cases {
            let text = core.to_string();
            let mapped = LifecertError::from(core);
            assert!(mapped.to_string().ends_with(&text), "{mapped} keeps {text}");
            assert_eq!(kind_of(mapped), expected, "{text}");
        }
    }
}
