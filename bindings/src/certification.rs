//! The annual certification across the boundary: [`CertificationRequest`] in,
//! [`CertificationSession`] driven by frames, audio and the prompt's timing, and
//! [`CertificationUpdate`]s out until the [`CertificationOutcome`]. Wrappers only: the
//! session is [`lifecert_core::api::certification::CertificationSession`].

use crate::engine::{language, Engine, FaceBox};
use crate::error::LifecertError;
use crate::keys::{public_key, CertificationKeys};
use crate::session::{
    export_session_calls, face_box, ActionPrompt, LivenessReport, Phase, SessionCell, Utterance,
};
use lifecert_core::api::attestation::{PerformedBy, ProxyRelation, MAX_RELATION_CHARS};
use lifecert_core::api::certification::{
    self as core, CertificationUpdate as CoreUpdate, ChallengeSource as CoreChallengeSource,
    TemplateInput,
};
use lifecert_core::crypto::sealing::random_bytes;
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce, SeededRandom};
use lifecert_core::text::messages::Language;
pub use lifecert_core::text::result_texts::RetireeCategory;
use std::sync::Arc;

/// Where the retiree lives relative to the province that pays the pension.
#[uniffi::remote(Enum)]
pub enum RetireeCategory {
    /// Lives in the province (省内).
    Provincial,
    /// Lives outside the province (省外 / 异地居住): the texts say the result is recorded
    /// where they are insured.
    NonProvincial,
}

/// Where the digit challenge comes from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeSource {
    /// Drawn on the device from the system's secure random generator. What an app uses.
    Drawn,
    /// Drawn from a deterministic generator seeded with `seed`: **tests only** (anyone who
    /// knows the seed knows the challenge).
    Seeded {
        /// The seed.
        seed: u64,
    },
    /// These digits (1 to 6, 0–9, none repeated in a row), with a freshly drawn nonce: **for
    /// replaying recordings** whose spoken digits are known. The signed attestation says
    /// `challenge_supplied`, which the authority refuses unless told otherwise.
    Supplied {
        /// The digits, one per byte (values 0–9).
        digits: Vec<u8>,
    },
}

/// Everything a certification needs besides the keys.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CertificationRequest {
    /// The retiree's name as typed (checked: Chinese characters with the minority-name
    /// middle dot, or Latin letters).
    pub name: String,
    /// The retiree's resident ID number as typed (checked: GB 11643).
    pub id_number: String,
    /// `None` when the retiree operates the phone in person. Otherwise who does, for them:
    /// one of `spouse`, `child`, `child_in_law`, `grandchild`, `sibling`, `other_relative`,
    /// `guardian`, `caregiver`, `community_worker` (case, spaces and hyphens do not
    /// matter), or any other 1–32 characters as typed (recorded as such). The retiree's
    /// face is still the one certified.
    #[uniffi(default = None)]
    pub proxy_relation: Option<String>,
    /// The sealed face template: from an enrollment on this device
    /// (`EnrollmentOutcome::Enrolled`) or issued by the authority.
    pub sealed_template: Vec<u8>,
    /// `Some`: the template was issued and signed by the authority, and this is its
    /// pinned 32-byte Ed25519 public key. `None`: the template was enrolled and sealed on
    /// this device.
    #[uniffi(default = None)]
    pub authority_public_key: Option<Vec<u8>>,
    /// The person's sealed voice profile, when a voice was enrolled
    /// (`EnrollmentOutcome::Enrolled.sealed_voice_profile`): the answer's voice is then
    /// compared with the enrolled voice, and with digit templates the spoken digits are
    /// verified one by one.
    #[uniffi(default = None)]
    pub sealed_voice_profile: Option<Vec<u8>>,
    /// The 16-byte nonce the authority's server issued for this session.
    pub server_nonce: Vec<u8>,
    /// The certification year (认证年度).
    pub certification_year: u16,
    /// Where the retiree lives relative to the paying province: the success text and the
    /// SMS differ.
    pub retiree_category: RetireeCategory,
    /// Unix seconds at the session's start (the device clock; the attestation's time
    /// counts on from it with the session's timestamps).
    pub now_unix: u64,
    /// Certification sessions of this person that already failed today (from the app's
    /// records): decides whether a failure offers another try or sends to the office.
    #[uniffi(default = 0)]
    pub previous_failures: u32,
    /// The language of instructions and prompts (BCP-47: `zh-Hans`, `zh-CN`, `zh-Hant`,
    /// `zh-HK`, `en`, …).
    pub language: String,
    /// Where the digit challenge comes from ([`ChallengeSource::Drawn`] in an app).
    pub challenge: ChallengeSource,
}

/// How a certification ended.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CertificationOutcome {
    /// Certified: the signed attestation.
    Certified {
        /// The signed attestation (canonical JSON envelope) to send to the authority as is.
        attestation_json: String,
        /// Distance of the live face to the template.
        face_distance: f32,
        /// The threshold it was compared with (accepted at or below).
        face_threshold: f32,
        /// The liveness verdict and its figures.
        liveness: LivenessReport,
        /// The result-screen text (for the retiree's category, with the year).
        result_text: Utterance,
        /// The confirmation SMS the authority will send, to show on the result screen.
        sms_text: Utterance,
        /// The voice profile refreshed with this answer's voice (sealed): store it in place
        /// of the old one. `None`: keep the old one.
        refreshed_voice_profile: Option<Vec<u8>>,
    },
    /// Not certified: the reason, and whether to offer another try.
    NotCertified {
        /// Stable id of the reason: `liveness:<reason>` (e.g.
        /// `liveness:lips_not_moving_with_voice`), `not_live`, `face_not_confirmed`,
        /// `no_usable_face`, `positioning_timeout`.
        failure_id: String,
        /// What to tell the person about it.
        message: Utterance,
        /// Whether another session may be offered now (else: the office will help).
        retry_allowed: bool,
        /// The result-screen text ("try once more" or "the office will help").
        result_text: Utterance,
        /// The liveness verdict, when the liveness step ended.
        liveness: Option<LivenessReport>,
        /// Distance of the live face to the template, when the match was made.
        face_distance: Option<f32>,
        /// The match threshold, when the match was made.
        face_threshold: Option<f32>,
        /// The mean passive anti-spoofing score, when it failed the session (`not_live`).
        pad_score: Option<f32>,
    },
}

impl From<core::CertificationOutcome> for CertificationOutcome {
    fn from(o: core::CertificationOutcome) -> Self {
        match o {
            core::CertificationOutcome::Certified(c) => CertificationOutcome::Certified {
                attestation_json: c.attestation,
                face_distance: c.face_match.distance,
                face_threshold: c.face_match.threshold,
                liveness: LivenessReport::from(&c.liveness),
                result_text: c.result_text.into(),
                sms_text: c.sms_text.into(),
                refreshed_voice_profile: c.refreshed_voice_profile,
            },
            core::CertificationOutcome::NotCertified(n) => CertificationOutcome::NotCertified {
                failure_id: n.failure.id(),
                message: n.message.into(),
                retry_allowed: n.retry_allowed,
                result_text: n.result_text.into(),
                liveness: n.liveness.as_ref().map(LivenessReport::from),
                face_distance: n.face_match.map(|m| m.distance),
                face_threshold: n.face_match.map(|m| m.threshold),
                pad_score: match n.failure {
                    core::CertificationFailure::NotLive { pad_score } => Some(pad_score),
                    _ => None,
                },
            },
        }
    }
}

/// The answer to every input of a [`CertificationSession`]: what to show and say now.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CertificationUpdate {
    /// The phase after this input.
    pub phase: Phase,
    /// The text on screen now (`None` before the first frame).
    pub instruction: Option<Utterance>,
    /// What to say now, in order (often empty). Report a [`crate::UtteranceKind::Prompt`]'s
    /// start and end with `prompt_started` / `prompt_finished`.
    pub speak: Vec<Utterance>,
    /// Digits to show for reading, one per byte (set when they change).
    pub show_digits: Option<Vec<u8>>,
    /// The action to show (set when it changes; certification asks for digits, so this
    /// stays `None` today).
    pub show_action: Option<ActionPrompt>,
    /// Progress of the whole session, 0 to 1.
    pub progress: f32,
    /// The tracked face in the upright frame (frame updates only).
    pub face: Option<FaceBox>,
    /// The outcome, on the update that finishes the session.
    pub outcome: Option<CertificationOutcome>,
}

impl From<CoreUpdate> for CertificationUpdate {
    fn from(u: CoreUpdate) -> Self {
        CertificationUpdate {
            phase: u.phase,
            instruction: u.instruction.map(Utterance::from),
            speak: u.speak.into_iter().map(Utterance::from).collect(),
            show_digits: u.show_digits,
            show_action: u.show_action.map(ActionPrompt::from),
            progress: u.progress,
            face: u.face.map(face_box),
            outcome: u.outcome.map(CertificationOutcome::from),
        }
    }
}

/// The proxy relation as typed, parsed by the core ([`ProxyRelation::parse`]).
fn performed_by(relation: Option<&str>) -> Result<PerformedBy, LifecertError> {
    let Some(text) = relation else {
        return Ok(PerformedBy::Subject);
    };
    let relation = ProxyRelation::parse(text).map_err(|e| {
        LifecertError::bad_input(format!(
            "proxy relation: {e} (1 to {MAX_RELATION_CHARS} characters without control characters)"
        ))
    })?;
    Ok(PerformedBy::Proxy { relation })
}

impl CertificationRequest {
    fn into_core(self) -> Result<(core::CertificationRequest, Language), LifecertError> {
        let lang = language(&self.language)?;
        let server_nonce = Nonce(self.server_nonce.as_slice().try_into().map_err(|_| {
            LifecertError::bad_input(format!(
                "server nonce must be 16 bytes, got {}",
                self.server_nonce.len()
            ))
        })?);
        let template = match &self.authority_public_key {
            Some(key) => TemplateInput::Issued {
                sealed: self.sealed_template,
                authority: public_key("authority public key", key)?,
            },
            None => TemplateInput::Device {
                sealed: self.sealed_template,
            },
        };
        let challenge = match self.challenge {
            ChallengeSource::Drawn => CoreChallengeSource::Drawn,
            ChallengeSource::Seeded { seed } => {
                CoreChallengeSource::Seeded(Box::new(SeededRandom::new(seed)))
            }
            ChallengeSource::Supplied { digits } => CoreChallengeSource::Supplied(DigitChallenge {
                nonce: Nonce(random_bytes::<16>()?),
                digits,
            }),
        };
        let request = core::CertificationRequest {
            performed_by: performed_by(self.proxy_relation.as_deref())?,
            name: self.name,
            id_number: self.id_number,
            template,
            voice_templates: self.sealed_voice_profile,
            retiree_category: self.retiree_category,
            server_nonce,
            certification_year: self.certification_year,
            now_unix: self.now_unix,
            previous_failures: self.previous_failures,
            language: lang,
            challenge,
        };
        Ok((request, lang))
    }
}

#[uniffi::export]
impl Engine {
    /// Starts a certification of the person in `request`, with the keys from the
    /// platform keystore.
    ///
    /// Errors: [`LifecertError::BadInput`] for a refused name, ID number, proxy relation,
    /// language tag, key, server nonce (not 16 bytes) or supplied challenge;
    /// [`LifecertError::TamperedOrWrongKey`] for a template (or voice templates) that was
    /// altered, sealed under another key, made for another person, or not signed by the
    /// given authority key.
    pub fn certification_session(
        &self,
        request: CertificationRequest,
        keys: CertificationKeys,
    ) -> Result<Arc<CertificationSession>, LifecertError> {
        let _span = tracing::debug_span!("ffi_certification_session").entered();
        let keys = keys.into_core()?;
        let (request, lang) = request.into_core()?;
        let session = core::CertificationSession::new(self.core().clone(), request, keys)?;
        Ok(Arc::new(CertificationSession {
            language: lang,
            session: SessionCell::new("certification session", session),
        }))
    }
}

/// A running certification: the face is positioned, the person reads the digits shown
/// aloud, the live face is matched against the template, and the result is signed.
///
/// Push every camera frame (`push_frame`, or `push_frame_bytes` without copying the
/// pixels) and every microphone chunk (`push_audio`) with their timestamps on one clock
/// (milliseconds, any epoch), report the text-to-speech of each prompt
/// (`prompt_started`, `prompt_finished`), call `tick` when nothing else arrives, and show
/// and say what each update says. Thread-safe: calls from several threads are taken one
/// after the other. After the outcome, every call fails with
/// [`LifecertError::BadInput`].
#[derive(uniffi::Object)]
pub struct CertificationSession {
    language: Language,
    session: SessionCell<core::CertificationSession>,
}

impl std::fmt::Debug for CertificationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificationSession")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

export_session_calls!(
    CertificationSession,
    CertificationUpdate,
    CertificationOutcome,
    "certification"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_relations_map_to_the_core_words_or_stay_as_typed() {
        assert_eq!(performed_by(None).unwrap(), PerformedBy::Subject);
        for (typed, expected) in [
            ("spouse", ProxyRelation::Spouse),
            (" Child ", ProxyRelation::Child),
            ("child-in-law", ProxyRelation::ChildInLaw),
            ("Community Worker", ProxyRelation::CommunityWorker),
            ("邻居", ProxyRelation::Other("邻居".into())),
        ] {
            assert_eq!(
                performed_by(Some(typed)).unwrap(),
                PerformedBy::Proxy { relation: expected },
                "{typed}"
            );
        }
        for bad in ["", "  ", &"x".repeat(33), "a\u{7}b"] {
            assert!(
                matches!(performed_by(Some(bad)), Err(LifecertError::BadInput { .. })),
                "{bad:?}"
            );
        }
    }
}
