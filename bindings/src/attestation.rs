//! Verifying a signed certification result, for the authority's backend and for tests:
//! [`verify_attestation`] over [`lifecert_core::api::attestation::verify_attestation_with`],
//! and the verified content as an [`AttestationSummary`].

use crate::error::LifecertError;
use crate::keys::public_key;
use lifecert_core::api::attestation::{
    verify_attestation_with, Attestation, InMemoryNonceLedger, PerformedBy, ProxyRelation,
    VerifyPolicy,
};
use lifecert_core::liveness::challenge::Nonce;
use lifecert_core::liveness::sequencer::VoiceMatch;

/// A model file involved in a result.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelRef {
    /// File name.
    pub file: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
}

/// The content of a verified attestation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AttestationSummary {
    /// Format version.
    pub version: u32,
    /// The subject reference (64 hex digits) the result is for.
    pub subject_hex: String,
    /// `None`: the retiree in person. Otherwise the proxy's relation: one of `spouse`,
    /// `child`, `child_in_law`, `grandchild`, `sibling`, `other_relative`, `guardian`,
    /// `caregiver`, `community_worker`, or the text as typed.
    pub proxy_relation: Option<String>,
    /// The certification year.
    pub certification_year: u16,
    /// When the certification happened, unix seconds (the device clock).
    pub time_unix: u64,
    /// The server nonce the result is bound to (16 bytes).
    pub server_nonce: Vec<u8>,
    /// The digits read aloud, one per byte.
    pub challenge_digits: Vec<u8>,
    /// Where the challenge came from: `drawn` (on the device, for this session), `seeded`
    /// (a test seed) or `supplied` (a recording replayed against its known digits).
    pub challenge_origin: String,
    /// The configuration the device ran: `production`, `recording_replay` or `custom`.
    pub profile: String,
    /// Audio-visual synchrony, −1 to 1.
    pub av_sync: f32,
    /// How the digits were checked: `voice_templates`, `speaker_independent_model` or
    /// `count_only` (only the number of words and their timing).
    pub digit_check: String,
    /// Digits of the challenge heard in their place.
    pub digits_heard: u32,
    /// Digits of the challenge verified, in order (0 with `count_only`).
    pub digits_matched: u32,
    /// Whether the voice was compared with the enrolled voice.
    pub voice_checked: bool,
    /// Its similarity to the enrolled voice (−1 to 1), when checked.
    pub voice_similarity: Option<f32>,
    /// How the digits were prompted: `all_at_once` or `one_at_a_time`.
    pub prompt_mode: String,
    /// Speech onset after the end of the prompt, milliseconds.
    pub speech_onset_ms: i32,
    /// Fraction of the reading's frames in which the same face was tracked, 0 to 1.
    pub face_continuity: f32,
    /// Passive anti-spoofing score (1 = live), when the models ran.
    pub pad_score: Option<f32>,
    /// Distance of the live face to the template.
    pub face_distance: f32,
    /// The match threshold.
    pub face_threshold: f32,
    /// Whether the face was accepted (`face_distance <= face_threshold`).
    pub face_accepted: bool,
    /// Every model involved.
    pub models: Vec<ModelRef>,
}

/// What the verifier accepts beyond authenticity; every field `false` is the authority's
/// default (production results with a challenge drawn on the device and verified digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Record)]
pub struct VerifyOptions {
    /// Accept a challenge supplied from outside the device (a replayed recording).
    #[uniffi(default = false)]
    pub accept_supplied_challenge: bool,
    /// Accept a challenge drawn from a test seed.
    #[uniffi(default = false)]
    pub accept_seeded_challenge: bool,
    /// Accept the recording-replay configuration.
    #[uniffi(default = false)]
    pub accept_recording_replay: bool,
    /// Accept settings changed from the production defaults.
    #[uniffi(default = false)]
    pub accept_custom_profile: bool,
    /// Accept digits that were only counted, not verified.
    #[uniffi(default = false)]
    pub accept_count_only: bool,
}

impl From<VerifyOptions> for VerifyPolicy {
    fn from(o: VerifyOptions) -> Self {
        VerifyPolicy {
            accept_supplied_challenge: o.accept_supplied_challenge,
            accept_seeded_challenge: o.accept_seeded_challenge,
            accept_recording_replay: o.accept_recording_replay,
            accept_custom_profile: o.accept_custom_profile,
            accept_count_only: o.accept_count_only,
        }
    }
}

fn relation_text(r: &ProxyRelation) -> String {
    match r {
        ProxyRelation::Spouse => "spouse".into(),
        ProxyRelation::Child => "child".into(),
        ProxyRelation::ChildInLaw => "child_in_law".into(),
        ProxyRelation::Grandchild => "grandchild".into(),
        ProxyRelation::Sibling => "sibling".into(),
        ProxyRelation::OtherRelative => "other_relative".into(),
        ProxyRelation::Guardian => "guardian".into(),
        ProxyRelation::Caregiver => "caregiver".into(),
        ProxyRelation::CommunityWorker => "community_worker".into(),
        ProxyRelation::Other(text) => text.clone(),
    }
}

impl From<Attestation> for AttestationSummary {
    fn from(a: Attestation) -> Self {
        AttestationSummary {
            version: a.version,
            subject_hex: a.subject.to_hex(),
            proxy_relation: match &a.performed_by {
                PerformedBy::Subject => None,
                PerformedBy::Proxy { relation } => Some(relation_text(relation)),
            },
            certification_year: a.certification_year,
            time_unix: a.time,
            server_nonce: a.server_nonce.0.to_vec(),
            challenge_digits: a.challenge.digits,
            challenge_origin: a.challenge_origin.id().to_owned(),
            profile: a.profile.id().to_owned(),
            av_sync: a.liveness.av_sync,
            digit_check: a.liveness.digit_check.id().to_owned(),
            digits_heard: a.liveness.digits_heard,
            digits_matched: a.liveness.digits_matched,
            voice_checked: matches!(a.liveness.voice, VoiceMatch::Checked { .. }),
            voice_similarity: match a.liveness.voice {
                VoiceMatch::Checked { similarity, .. } => Some(similarity),
                VoiceMatch::NotChecked | VoiceMatch::Unusable { .. } => None,
            },
            prompt_mode: a.liveness.prompt_mode.id().to_owned(),
            speech_onset_ms: a.liveness.speech_onset_ms,
            face_continuity: a.liveness.face_continuity,
            pad_score: a.liveness.pad_score,
            face_distance: a.face_match.distance,
            face_threshold: a.face_match.threshold,
            face_accepted: a.face_match.accepted,
            models: a
                .models
                .into_iter()
                .map(|m| ModelRef {
                    file: m.file,
                    sha256: m.sha256,
                })
                .collect(),
        }
    }
}

/// Verifies a signed attestation (the `attestation_json` of a certified session) the way
/// the authority's backend does: the exact canonical envelope, the signature by
/// `device_public_key` (32 bytes, the device's registered key), consistent content, the
/// `expected_server_nonce` (16 bytes) the server issued for the session, and what `options`
/// do not accept (by default: a challenge not drawn on the device, a configuration other
/// than production, digits only counted). Returns the verified content.
///
/// Each call checks one attestation on its own: it does **not** remember server nonces
/// between calls. A backend records the nonce of every accepted attestation in its own
/// store (a unique key) and refuses a second use.
///
/// Errors: [`LifecertError::TamperedOrWrongKey`] for anything refused (altered or
/// re-encoded envelope, another key, another nonce, what `options` refuse);
/// [`LifecertError::BadInput`] for a key or nonce of the wrong length.
#[uniffi::export]
pub fn verify_attestation(
    json: String,
    device_public_key: Vec<u8>,
    expected_server_nonce: Vec<u8>,
    options: VerifyOptions,
) -> Result<AttestationSummary, LifecertError> {
    let key = public_key("device public key", &device_public_key)?;
    let nonce = Nonce(expected_server_nonce.as_slice().try_into().map_err(|_| {
        LifecertError::bad_input(format!(
            "server nonce must be 16 bytes, got {}",
            expected_server_nonce.len()
        ))
    })?);
    let policy = VerifyPolicy::from(options);
    let mut ledger = InMemoryNonceLedger::new();
    let attestation = verify_attestation_with(&json, &key, &nonce, &mut ledger, &policy)?;
    Ok(attestation.into())
}
