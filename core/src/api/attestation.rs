//! The signed certification result: what the device tells the pension authority.
//!
//! An [`Attestation`] states who was certified (subject reference; in person or by a
//! proxy), for which year, when, under which server nonce, with which digit challenge, what
//! the liveness evidence and the face match said, and with which models. The device signs
//! its canonical JSON ([`crate::crypto::sealing::sign_canonical`], purpose [`ATTESTATION_PURPOSE`])
//! with its Ed25519 key ([`sign_attestation`]); the authority's backend checks it with
//! [`verify_attestation`] against the device's registered public key, the nonce it handed
//! out for this session and a [`NonceLedger`] of nonces already used.
//!
//! # What verification guarantees
//! [`verify_attestation_with`] refuses, in this order:
//! 1. an envelope that is not exactly the canonical JSON [`sign_attestation`] writes (any
//!    change of spacing, key order or hex case included: the bytes are the evidence), or a
//!    signature by another key, or any change to the signed payload
//!    ([`AttestationError::Signature`], [`AttestationError::NonCanonical`]);
//! 2. a payload that is inconsistent (unknown version, impossible values:
//!    [`AttestationError::Invalid`]);
//! 3. a server nonce other than the expected one ([`AttestationError::NonceMismatch`]);
//! 4. what the [`VerifyPolicy`] does not accept — by default: a challenge that was not drawn
//!    on the device from its secure random generator (supplied with a recording, or drawn from
//!    a test seed), a configuration other than the production one (a recording replay, or
//!    settings changed from [`crate::Config::default`]), and spoken digits that were only
//!    counted, not verified ([`crate::liveness::sequencer::DigitCheck::CountOnly`]);
//! 5. a server nonce already recorded in the ledger ([`AttestationError::NonceReused`]).
//!
//! The ledger is consulted last, so a forged or broken attestation never burns a nonce.
//! Whether the certification *passes* (face accepted, liveness scores good enough) is the
//! authority's decision on the verified content, not part of verification.

use crate::crypto::sealing::{self, PublicKey, SealError, Signed, SigningKeyPair};
use crate::identity::person::SubjectReference;
use crate::liveness::challenge::{
    is_valid_sequence, DigitChallenge, Nonce, MAX_DIGITS, MIN_DIGITS,
};
use crate::liveness::sequencer::{DigitCheck, PromptMode, VoiceMatch};
use crate::matching::templates::MatchResult;
use crate::model::assets::ModelInfo;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use thiserror::Error;

/// Purpose label of the device's signature over an attestation.
pub const ATTESTATION_PURPOSE: &str = "attestation";
/// The attestation format written by this code (2: the digit check, the voice match, the
/// prompt mode, the challenge's origin and the configuration profile are recorded).
pub const ATTESTATION_VERSION: u32 = 2;
/// Longest free-text proxy relation, characters.
pub const MAX_RELATION_CHARS: usize = 32;
/// Largest signed envelope [`verify_attestation_with`] reads, bytes: a real one is a few
/// kilobytes; anything larger is refused before it is parsed.
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;
/// Certification years an attestation may state (认证年度), inclusive.
pub const CERTIFICATION_YEARS: std::ops::RangeInclusive<u16> = 2000..=2100;

/// Errors of making or verifying an attestation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The signature does not verify: signed by another key (`WrongKey`), changed content
    /// (`BadSignature`), or not a signed envelope (`Malformed`).
    #[error("signature: {0}")]
    Signature(SealError),
    /// The envelope is not in the exact canonical form (changed bytes that do not alter the
    /// signed content, e.g. whitespace or hex case).
    #[error("attestation envelope is not in canonical form")]
    NonCanonical,
    /// An attestation format this code does not know.
    #[error("unsupported attestation version {0}")]
    UnsupportedVersion(u32),
    /// A value is out of range or inconsistent; the text says which.
    #[error("invalid attestation: {0}")]
    Invalid(&'static str),
    /// The server nonce is not the one expected for this session.
    #[error("server nonce does not match")]
    NonceMismatch,
    /// The server nonce was already used by another attestation.
    #[error("server nonce already used")]
    NonceReused,
    /// The challenge was supplied from outside the device and the policy refuses that.
    #[error("challenge was supplied externally (replayed recording)")]
    SuppliedChallengeRefused,
    /// The challenge was drawn from a test seed, not the device's secure random generator.
    #[error("challenge was drawn from a test seed")]
    SeededChallengeRefused,
    /// The device ran a configuration profile the policy refuses (a recording replay, or
    /// settings changed from the production defaults).
    #[error("configuration profile {0:?} is not accepted")]
    ProfileRefused(ConfigProfile),
    /// The spoken digits were only counted, not verified, and the policy refuses that.
    #[error("the spoken digits were only counted, not verified (count_only)")]
    CountOnlyRefused,
    /// The nonce ledger failed (storage unavailable, full).
    #[error("nonce ledger: {0}")]
    Ledger(String),
    /// The envelope is larger than [`MAX_ENVELOPE_BYTES`]; refused before parsing.
    #[error("attestation envelope of {bytes} bytes is larger than the {max} accepted")]
    TooLarge {
        /// Size of the envelope given.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

/// The relation of a proxy to the retiree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProxyRelation {
    /// Husband or wife.
    Spouse,
    /// Son or daughter.
    Child,
    /// Son- or daughter-in-law.
    ChildInLaw,
    /// Grandchild.
    Grandchild,
    /// Brother or sister.
    Sibling,
    /// Another relative.
    OtherRelative,
    /// Legal guardian.
    Guardian,
    /// Paid or volunteer carer, care-home staff.
    Caregiver,
    /// Community (社区) or social-security office worker.
    CommunityWorker,
    /// Anything else, as typed (1–[`MAX_RELATION_CHARS`] characters, no control characters).
    Other(String),
}

impl ProxyRelation {
    /// A relation as a person or an operator typed it: one of the words below (case, spaces
    /// and hyphens ignored: "Child-in-law" is `child_in_law`), else [`ProxyRelation::Other`]
    /// with the trimmed text, refused ([`AttestationError::Invalid`]) when it is empty,
    /// longer than [`MAX_RELATION_CHARS`] characters or holds a control character (the
    /// signed result would refuse it at the very end of the session).
    ///
    /// Words: `spouse` 配偶; `child` `son` `daughter` 子女; `child_in_law` 儿媳 女婿;
    /// `grandchild` 孙子女; `sibling` 兄弟姐妹; `other_relative` 亲属; `guardian` 监护人;
    /// `caregiver` 护工; `community_worker` 社区工作人员.
    pub fn parse(text: &str) -> Result<Self, AttestationError> {
        let text = text.trim();
        let word = text.to_lowercase().replace([' ', '-'], "_");
        let relation = match word.as_str() {
            "spouse" | "配偶" => Self::Spouse,
            "child" | "son" | "daughter" | "子女" => Self::Child,
            "child_in_law" | "儿媳" | "女婿" => Self::ChildInLaw,
            "grandchild" | "孙子女" => Self::Grandchild,
            "sibling" | "兄弟姐妹" => Self::Sibling,
            "other_relative" | "亲属" => Self::OtherRelative,
            "guardian" | "监护人" => Self::Guardian,
            "caregiver" | "护工" => Self::Caregiver,
            "community_worker" | "社区工作人员" => Self::CommunityWorker,
            _ => {
                check_relation_text(text)?;
                Self::Other(text.to_owned())
            }
        };
        Ok(relation)
    }
}

fn check_relation_text(text: &str) -> Result<(), AttestationError> {
    let n = text.chars().count();
    if n == 0 || n > MAX_RELATION_CHARS || text.chars().any(char::is_control) {
        return Err(AttestationError::Invalid("proxy relation text"));
    }
    Ok(())
}

/// Who performed the certification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PerformedBy {
    /// The retiree, on their own phone or a borrowed one (JSON `"self"`).
    #[serde(rename = "self")]
    Subject,
    /// Somebody operating the phone for the retiree (the retiree's face is still the one
    /// certified).
    Proxy {
        /// The proxy's relation to the retiree.
        relation: ProxyRelation,
    },
}

impl PerformedBy {
    /// Checks a proxy's relation typed as free text: 1–[`MAX_RELATION_CHARS`] characters,
    /// no control characters.
    pub fn validate(&self) -> Result<(), AttestationError> {
        if let PerformedBy::Proxy {
            relation: ProxyRelation::Other(text),
        } = self
        {
            check_relation_text(text)?;
        }
        Ok(())
    }
}

/// Where the digit challenge came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeOrigin {
    /// Drawn on the device for this session from the operating system's secure random
    /// generator (production).
    Drawn,
    /// Drawn from a deterministic test seed ([`crate::liveness::challenge::SeededRandom`]): tests only.
    Seeded,
    /// Supplied from outside the device, e.g. the digits a replayed recording contains.
    Supplied,
}

impl ChallengeOrigin {
    /// The stable id (`drawn`, `seeded`, `supplied`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Drawn => "drawn",
            Self::Seeded => "seeded",
            Self::Supplied => "supplied",
        }
    }
}

/// Which configuration the device ran ([`crate::Config::profile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigProfile {
    /// Exactly [`crate::Config::default`], what a phone ships with.
    Production,
    /// Exactly [`crate::Config::for_recordings`]: replaying a recording (no positioning gate,
    /// one attempt, sentence-length answers). Proves nothing about a living person now.
    RecordingReplay,
    /// Any other settings: changed thresholds or timings the authority has not vetted.
    Custom,
}

impl ConfigProfile {
    /// The stable id (`production`, `recording_replay`, `custom`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::RecordingReplay => "recording_replay",
            Self::Custom => "custom",
        }
    }
}

/// The liveness evidence in brief: numbers the authority can audit, not raw media.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessSummary {
    /// Audio-visual synchrony ([`crate::liveness::av_sync::av_sync_score`]: best-lag correlation of
    /// the speech envelope with the mouth aperture), in [−1, 1].
    pub av_sync: f32,
    /// How the spoken digits were checked. With [`DigitCheck::CountOnly`] nothing verified
    /// which words were said, and `digits_matched` is 0.
    pub digit_check: DigitCheck,
    /// How many of the challenge's digits were heard as speech segments in their place.
    pub digits_heard: u32,
    /// How many of the challenge's digits were *verified* (by the voice templates or a
    /// speaker-independent model), in order. Never counts digits that were only heard.
    pub digits_matched: u32,
    /// Whether the voice was compared with the person's enrolled voice, and how it scored.
    pub voice: VoiceMatch,
    /// How the digits were prompted (all at once, or one at a time after random pauses).
    pub prompt_mode: PromptMode,
    /// Speech onset after the end of the spoken prompt, milliseconds (negative: speech
    /// started before the prompt ended, which a live reader cannot do).
    pub speech_onset_ms: i32,
    /// Fraction of the reading's frames in which the same face was tracked, in [0, 1].
    pub face_continuity: f32,
    /// Presentation-attack detection score in [0, 1] (1 = live), when a PAD model ran.
    pub pad_score: Option<f32>,
}

/// A certification result, signed by the device. See the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// Format version, [`ATTESTATION_VERSION`].
    pub version: u32,
    /// Whom the certification is for.
    pub subject: SubjectReference,
    /// The retiree in person, or a proxy.
    pub performed_by: PerformedBy,
    /// The certification year (认证年度) this result counts for.
    pub certification_year: u16,
    /// When the certification happened, unix seconds (the device clock; the backend
    /// compares with its own).
    pub time: u64,
    /// The nonce the authority's server issued for this session.
    pub server_nonce: Nonce,
    /// The digit challenge read aloud, with its own nonce.
    pub challenge: DigitChallenge,
    /// Where the challenge came from: drawn on the device for this session, or not.
    pub challenge_origin: ChallengeOrigin,
    /// The configuration the device ran: production, a recording replay, or custom.
    pub profile: ConfigProfile,
    /// The liveness evidence.
    pub liveness: LivenessSummary,
    /// The face match: distance to the template, threshold, verdict.
    pub face_match: MatchResult,
    /// Every model involved (file name and SHA-256).
    pub models: Vec<ModelInfo>,
}

fn unit(v: f32) -> bool {
    (0.0..=1.0).contains(&v)
}

impl Attestation {
    /// A complete, valid attestation with plausible figures: the subject certified in person
    /// in 2026 with the drawn challenge 2-5-8, voice templates and an enrolled voice, and the
    /// face matched. For documentation, tests and fuzz seeds (change the fields you need);
    /// never signed by the engine.
    pub fn example() -> Self {
        Self {
            version: ATTESTATION_VERSION,
            subject: SubjectReference::from_bytes([9; 32]),
            performed_by: PerformedBy::Subject,
            certification_year: 2026,
            time: 1_796_184_000,
            server_nonce: Nonce([1; 16]),
            challenge: DigitChallenge {
                nonce: Nonce([2; 16]),
                digits: vec![2, 5, 8],
            },
            challenge_origin: ChallengeOrigin::Drawn,
            profile: ConfigProfile::Production,
            liveness: LivenessSummary {
                av_sync: 0.58,
                digit_check: DigitCheck::VoiceTemplates,
                digits_heard: 3,
                digits_matched: 3,
                voice: VoiceMatch::Checked {
                    similarity: 0.81,
                    threshold: 0.72,
                },
                prompt_mode: PromptMode::AllAtOnce,
                speech_onset_ms: 380,
                face_continuity: 1.0,
                pad_score: None,
            },
            face_match: MatchResult {
                distance: 0.41,
                threshold: 0.55,
                accepted: true,
            },
            models: vec![ModelInfo {
                file: "dlib_face_descriptor.onnx".into(),
                sha256: "cd".repeat(32),
            }],
        }
    }

    /// Checks version and value ranges: challenge digits (3–6 valid digits; 1–6 when supplied), liveness
    /// numbers in range and consistent with the challenge, finite match figures whose
    /// verdict agrees with them, a sensible proxy relation, at least one model.
    pub fn validate(&self) -> Result<(), AttestationError> {
        let invalid = |what| Err(AttestationError::Invalid(what));
        if self.version != ATTESTATION_VERSION {
            return Err(AttestationError::UnsupportedVersion(self.version));
        }
        if !CERTIFICATION_YEARS.contains(&self.certification_year) {
            return invalid("certification_year outside 2000–2100");
        }
        let digits = &self.challenge.digits;
        // A supplied challenge (a recording replayed against the digits it contains) may be
        // shorter than a drawn one: a GRID sentence holds one digit.
        let min = if self.challenge_origin == ChallengeOrigin::Supplied {
            1
        } else {
            MIN_DIGITS
        };
        if !(min..=MAX_DIGITS).contains(&digits.len()) || !is_valid_sequence(digits, false) {
            return invalid("challenge digits");
        }
        let l = &self.liveness;
        if !(-1.0..=1.0).contains(&l.av_sync) {
            return invalid("liveness.av_sync outside [-1, 1]");
        }
        if !unit(l.face_continuity) || !l.pad_score.is_none_or(unit) {
            return invalid("liveness.face_continuity or pad_score outside [0, 1]");
        }
        if l.digits_matched as usize > digits.len() || l.digits_heard as usize > digits.len() {
            return invalid("liveness.digits_matched or digits_heard exceeds the challenge");
        }
        if l.digit_check == DigitCheck::CountOnly && l.digits_matched != 0 {
            return invalid("liveness.digits_matched must be 0 when the digits were only counted");
        }
        match l.voice {
            VoiceMatch::NotChecked => {}
            VoiceMatch::Checked {
                similarity,
                threshold,
            } => {
                if !((-1.0..=1.0).contains(&similarity) && (-1.0..=1.0).contains(&threshold)) {
                    return invalid("liveness.voice similarity or threshold outside [-1, 1]");
                }
                if similarity < threshold {
                    return invalid("liveness.voice similarity below its threshold");
                }
            }
            VoiceMatch::Unusable { .. } => {
                return invalid("liveness.voice enrolled but not confirmed");
            }
        }
        let m = &self.face_match;
        if !(m.distance.is_finite() && m.distance >= 0.0 && m.threshold.is_finite()) {
            return invalid("face_match figures");
        }
        if m.accepted != (m.distance <= m.threshold) {
            return invalid("face_match verdict disagrees with distance and threshold");
        }
        self.performed_by.validate()?;
        if self.models.is_empty() {
            return invalid("no models listed");
        }
        Ok(())
    }
}

/// Validates `attestation` and signs it with the device key; returns the JSON envelope
/// (`{"payload":…,"signature":…,"public_key":…}`) to send to the authority.
pub fn sign_attestation(
    attestation: &Attestation,
    device_key: &SigningKeyPair,
) -> Result<String, AttestationError> {
    let _span = tracing::debug_span!("sign_attestation").entered();
    attestation.validate()?;
    sealing::sign_canonical(device_key, ATTESTATION_PURPOSE, attestation)
        .and_then(|signed| signed.to_json())
        .map_err(AttestationError::Signature)
}

/// Server nonces already used, for the authority's backend.
///
/// Implementations must record atomically: two concurrent `consume` calls with the same
/// nonce must not both succeed (a database unique key does this).
pub trait NonceLedger {
    /// Records `nonce` as used. `Err(NonceReused)` if it was recorded before; any other
    /// failure (`Ledger`) must also refuse the attestation (fail closed).
    fn consume(&mut self, nonce: &Nonce) -> Result<(), AttestationError>;
}

/// A [`NonceLedger`] in memory (tests, a single-process backend). Optionally bounded:
/// when full it refuses new nonces rather than forgetting old ones, since a forgotten nonce
/// could be replayed.
#[derive(Debug, Clone, Default)]
pub struct InMemoryNonceLedger {
    seen: HashSet<Nonce>,
    limit: Option<usize>,
}

impl InMemoryNonceLedger {
    /// An empty, unbounded ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty ledger that holds at most `limit` nonces.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            seen: HashSet::new(),
            limit: Some(limit),
        }
    }

    /// Nonces recorded.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is recorded.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl NonceLedger for InMemoryNonceLedger {
    fn consume(&mut self, nonce: &Nonce) -> Result<(), AttestationError> {
        if self.seen.contains(nonce) {
            return Err(AttestationError::NonceReused);
        }
        if self.limit.is_some_and(|limit| self.seen.len() >= limit) {
            return Err(AttestationError::Ledger("ledger is full".into()));
        }
        self.seen.insert(*nonce);
        Ok(())
    }
}

/// What the verifier accepts beyond authenticity. Every field defaults to `false`: the
/// default policy accepts only results of a phone's production configuration, with a
/// challenge drawn on the device and digits verified (not only counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifyPolicy {
    /// Accept attestations whose challenge was supplied from outside the device. Default
    /// `false`: a supplied challenge means a recording was processed, which proves nothing
    /// about a living person now.
    pub accept_supplied_challenge: bool,
    /// Accept challenges drawn from a test seed. Default `false` (tests only).
    pub accept_seeded_challenge: bool,
    /// Accept [`ConfigProfile::RecordingReplay`]. Default `false`.
    pub accept_recording_replay: bool,
    /// Accept [`ConfigProfile::Custom`] (settings changed from the production defaults).
    /// Default `false`.
    pub accept_custom_profile: bool,
    /// Accept [`DigitCheck::CountOnly`]: the number of spoken words and their timing were
    /// checked, not which words. Default `false`: a recording of any words said in time
    /// would pass; enroll the person's voice ("read 0–9") so the digits are verified.
    pub accept_count_only: bool,
}

impl VerifyPolicy {
    /// Refuses what this policy does not accept (step 4 of the module documentation).
    fn check(&self, a: &Attestation) -> Result<(), AttestationError> {
        match a.challenge_origin {
            ChallengeOrigin::Drawn => {}
            ChallengeOrigin::Supplied if self.accept_supplied_challenge => {}
            ChallengeOrigin::Supplied => return Err(AttestationError::SuppliedChallengeRefused),
            ChallengeOrigin::Seeded if self.accept_seeded_challenge => {}
            ChallengeOrigin::Seeded => return Err(AttestationError::SeededChallengeRefused),
        }
        let profile_ok = match a.profile {
            ConfigProfile::Production => true,
            ConfigProfile::RecordingReplay => self.accept_recording_replay,
            ConfigProfile::Custom => self.accept_custom_profile,
        };
        if !profile_ok {
            return Err(AttestationError::ProfileRefused(a.profile));
        }
        if a.liveness.digit_check == DigitCheck::CountOnly && !self.accept_count_only {
            return Err(AttestationError::CountOnlyRefused);
        }
        Ok(())
    }
}

/// [`verify_attestation_with`] with the default [`VerifyPolicy`] (production results with a
/// drawn challenge and verified digits only).
pub fn verify_attestation(
    json: &str,
    trusted_device_key: &PublicKey,
    expected_server_nonce: &Nonce,
    ledger: &mut dyn NonceLedger,
) -> Result<Attestation, AttestationError> {
    verify_attestation_with(
        json,
        trusted_device_key,
        expected_server_nonce,
        ledger,
        &VerifyPolicy::default(),
    )
}

/// Verifies a signed attestation for the authority's backend (checks in the order of the
/// module docs) and records its server nonce in `ledger`.
pub fn verify_attestation_with(
    json: &str,
    trusted_device_key: &PublicKey,
    expected_server_nonce: &Nonce,
    ledger: &mut dyn NonceLedger,
    policy: &VerifyPolicy,
) -> Result<Attestation, AttestationError> {
    if json.len() > MAX_ENVELOPE_BYTES {
        return Err(AttestationError::TooLarge {
            bytes: json.len(),
            max: MAX_ENVELOPE_BYTES,
        });
    }
    let _span = tracing::debug_span!("verify_attestation", len = json.len()).entered();
    let signed = Signed::<Attestation>::from_json(json).map_err(AttestationError::Signature)?;
    let canonical = signed.to_json().map_err(AttestationError::Signature)?;
    if canonical != json {
        return Err(AttestationError::NonCanonical);
    }
    let attestation: Attestation =
        sealing::verify_canonical(&signed, trusted_device_key, ATTESTATION_PURPOSE)
            .map_err(AttestationError::Signature)?;
    attestation.validate()?;
    if attestation.server_nonce != *expected_server_nonce {
        return Err(AttestationError::NonceMismatch);
    }
    policy.check(&attestation)?;
    ledger.consume(&attestation.server_nonce)?;
    Ok(attestation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::challenge::DigitChallengeConfig;

    fn sample(server_nonce: Nonce) -> Attestation {
        Attestation {
            performed_by: PerformedBy::Proxy {
                relation: ProxyRelation::Other("邻居 neighbour".into()),
            },
            server_nonce,
            challenge: DigitChallenge::generate(&DigitChallengeConfig::default()).unwrap(),
            ..Attestation::example()
        }
    }

    fn nonce(n: u8) -> Nonce {
        Nonce([n; 16])
    }

    #[test]
    fn a_signed_attestation_verifies_once() {
        let (device, _) = SigningKeyPair::generate().unwrap();
        let a = sample(nonce(1));
        let json = sign_attestation(&a, &device).unwrap();
        let mut ledger = InMemoryNonceLedger::new();
        let back = verify_attestation(&json, &device.public_key(), &nonce(1), &mut ledger).unwrap();
        assert_eq!(back, a);
        assert!(json.contains(r#"\"performed_by\":{\"proxy\":{\"relation\":{\"other\":"#));
        // Replaying the same attestation: the nonce is spent.
        assert_eq!(
            verify_attestation(&json, &device.public_key(), &nonce(1), &mut ledger),
            Err(AttestationError::NonceReused)
        );
        // A second, different attestation under the same server nonce is refused as well.
        let mut again = sample(nonce(1));
        again.time += 60;
        let json2 = sign_attestation(&again, &device).unwrap();
        assert_eq!(
            verify_attestation(&json2, &device.public_key(), &nonce(1), &mut ledger),
            Err(AttestationError::NonceReused)
        );
    }

    #[test]
    fn wrong_key_nonce_and_supplied_challenges_are_refused_without_burning_the_nonce() {
        let (device, _) = SigningKeyPair::generate().unwrap();
        let (other, _) = SigningKeyPair::generate().unwrap();
        let json = sign_attestation(&sample(nonce(2)), &device).unwrap();
        let mut ledger = InMemoryNonceLedger::new();
        assert_eq!(
            verify_attestation(&json, &other.public_key(), &nonce(2), &mut ledger),
            Err(AttestationError::Signature(SealError::WrongKey))
        );
        // Re-signed by another key that then claims to be the device.
        let forged = sign_attestation(&sample(nonce(2)), &other).unwrap();
        let forged = forged.replace(&other.public_key().to_hex(), &device.public_key().to_hex());
        assert_eq!(
            verify_attestation(&forged, &device.public_key(), &nonce(2), &mut ledger),
            Err(AttestationError::Signature(SealError::BadSignature))
        );
        assert_eq!(
            verify_attestation(&json, &device.public_key(), &nonce(3), &mut ledger),
            Err(AttestationError::NonceMismatch)
        );
        let mut supplied = sample(nonce(2));
        supplied.challenge_origin = ChallengeOrigin::Supplied;
        let supplied = sign_attestation(&supplied, &device).unwrap();
        assert_eq!(
            verify_attestation(&supplied, &device.public_key(), &nonce(2), &mut ledger),
            Err(AttestationError::SuppliedChallengeRefused)
        );
        assert!(
            ledger.is_empty(),
            "failed verifications must not burn the nonce"
        );
        let lenient = VerifyPolicy {
            accept_supplied_challenge: true,
            ..VerifyPolicy::default()
        };
        let ok = verify_attestation_with(
            &supplied,
            &device.public_key(),
            &nonce(2),
            &mut ledger,
            &lenient,
        )
        .unwrap();
        assert_eq!(ok.challenge_origin, ChallengeOrigin::Supplied);
        assert_eq!(ledger.len(), 1);
    }

    #[test]
    fn the_default_policy_accepts_only_production_results_with_verified_digits() {
        let (device, _) = SigningKeyPair::generate().unwrap();
        let key = device.public_key();
        // (what changes, the refusal of the default policy, the policy that accepts it)
        type Change = fn(&mut Attestation);
        let cases: [(Change, AttestationError, VerifyPolicy); 4] = [
            (
                |a| a.challenge_origin = ChallengeOrigin::Seeded,
                AttestationError::SeededChallengeRefused,
                VerifyPolicy {
                    accept_seeded_challenge: true,
                    ..VerifyPolicy::default()
                },
            ),
            (
                |a| a.profile = ConfigProfile::RecordingReplay,
                AttestationError::ProfileRefused(ConfigProfile::RecordingReplay),
                VerifyPolicy {
                    accept_recording_replay: true,
                    ..VerifyPolicy::default()
                },
            ),
            (
                |a| a.profile = ConfigProfile::Custom,
                AttestationError::ProfileRefused(ConfigProfile::Custom),
                VerifyPolicy {
                    accept_custom_profile: true,
                    ..VerifyPolicy::default()
                },
            ),
            (
                |a| {
                    a.liveness.digit_check = DigitCheck::CountOnly;
                    a.liveness.digits_matched = 0;
                    a.liveness.voice = VoiceMatch::NotChecked;
                },
                AttestationError::CountOnlyRefused,
                VerifyPolicy {
                    accept_count_only: true,
                    ..VerifyPolicy::default()
                },
            ),
        ];
        for (i, (change, refusal, policy)) in cases.into_iter().enumerate() {
            let n = nonce(20 + i as u8);
            let mut a = sample(n);
            change(&mut a);
            let json = sign_attestation(&a, &device).unwrap();
            let mut ledger = InMemoryNonceLedger::new();
            assert_eq!(
                verify_attestation(&json, &key, &n, &mut ledger),
                Err(refusal),
                "case {i}"
            );
            assert!(ledger.is_empty(), "case {i}: a refusal burned the nonce");
            assert_eq!(
                verify_attestation_with(&json, &key, &n, &mut ledger, &policy).unwrap(),
                a
            );
        }
    }

    #[test]
    fn every_flipped_bit_of_the_signed_json_is_refused() {
        let (device, _) = SigningKeyPair::generate().unwrap();
        let json = sign_attestation(&sample(nonce(4)), &device).unwrap();
        let mut ledger = InMemoryNonceLedger::new();
        let mut tried = 0;
        for i in 0..json.len() {
            for bit in 0..8 {
                let mut bytes = json.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                // A flip that breaks UTF-8 cannot even be handed over as text.
                let Ok(text) = String::from_utf8(bytes) else {
                    continue;
                };
                tried += 1;
                let r = verify_attestation(&text, &device.public_key(), &nonce(4), &mut ledger);
                assert!(r.is_err(), "byte {i} bit {bit} verified: {text}");
            }
        }
        assert!(tried > json.len() * 6, "{tried}");
        // Re-spaced and upper-cased variants carry the same signed content but are refused.
        let spaced = json.replacen("\",\"signature\"", "\", \"signature\"", 1);
        assert_eq!(
            verify_attestation(&spaced, &device.public_key(), &nonce(4), &mut ledger),
            Err(AttestationError::NonCanonical)
        );
        let sig_start = json.find("\"signature\":\"").unwrap() + 13;
        let mut upper = json.clone();
        upper.replace_range(
            sig_start..sig_start + 128,
            &json[sig_start..sig_start + 128].to_uppercase(),
        );
        if upper != json {
            assert_eq!(
                verify_attestation(&upper, &device.public_key(), &nonce(4), &mut ledger),
                Err(AttestationError::NonCanonical)
            );
        }
        assert!(ledger.is_empty());
        verify_attestation(&json, &device.public_key(), &nonce(4), &mut ledger).unwrap();
    }

    #[test]
    fn inconsistent_attestations_are_not_signed() {
        let (device, _) = SigningKeyPair::generate().unwrap();
        let mut a = sample(nonce(5));
        a.face_match.accepted = false;
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        let mut a = sample(nonce(5));
        a.liveness.digits_matched = 4;
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        // Digits that were only counted cannot be reported as matched.
        let mut a = sample(nonce(5));
        a.liveness.digit_check = DigitCheck::CountOnly;
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        // A voice below its own threshold cannot be signed as checked.
        let mut a = sample(nonce(5));
        a.liveness.voice = VoiceMatch::Checked {
            similarity: 0.5,
            threshold: 0.7,
        };
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        let mut a = sample(nonce(5));
        a.liveness.av_sync = f32::NAN;
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        let mut a = sample(nonce(5));
        a.challenge.digits = vec![1, 2];
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        let mut a = sample(nonce(5));
        a.performed_by = PerformedBy::Proxy {
            relation: ProxyRelation::Other("x\n".into()),
        };
        assert!(matches!(
            sign_attestation(&a, &device),
            Err(AttestationError::Invalid(_))
        ));
        let mut a = sample(nonce(5));
        a.version = 1;
        assert_eq!(
            sign_attestation(&a, &device),
            Err(AttestationError::UnsupportedVersion(1))
        );
        let mut a = sample(nonce(5));
        a.performed_by = PerformedBy::Subject;
        let json = sign_attestation(&a, &device).unwrap();
        assert!(json.contains(r#"\"performed_by\":\"self\""#), "{json}");
    }

    #[test]
    fn a_bounded_ledger_fails_closed() {
        let mut ledger = InMemoryNonceLedger::with_limit(1);
        ledger.consume(&nonce(1)).unwrap();
        assert!(matches!(
            ledger.consume(&nonce(2)),
            Err(AttestationError::Ledger(_))
        ));
        assert_eq!(
            ledger.consume(&nonce(1)),
            Err(AttestationError::NonceReused)
        );
    }

    #[test]
    fn proxy_relations_typed_in_english_or_chinese_map_to_one_word() {
        for (typed, expected) in [
            ("spouse", ProxyRelation::Spouse),
            ("配偶", ProxyRelation::Spouse),
            (" Child ", ProxyRelation::Child),
            ("daughter", ProxyRelation::Child),
            ("child-in-law", ProxyRelation::ChildInLaw),
            ("女婿", ProxyRelation::ChildInLaw),
            ("Community Worker", ProxyRelation::CommunityWorker),
            ("社区工作人员", ProxyRelation::CommunityWorker),
            ("other relative", ProxyRelation::OtherRelative),
            ("邻居", ProxyRelation::Other("邻居".into())),
        ] {
            assert_eq!(ProxyRelation::parse(typed).unwrap(), expected, "{typed}");
        }
        for bad in ["", "  ", &"x".repeat(MAX_RELATION_CHARS + 1), "a\u{7}b"] {
            assert!(ProxyRelation::parse(bad).is_err(), "{bad:?}");
        }
    }
}
