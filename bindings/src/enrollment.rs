//! The enrollment across the boundary: [`EnrollmentRequest`] in, [`EnrollmentSession`]
//! driven by consent, ID-card photos, frames and audio, and [`EnrollmentUpdate`]s out
//! until the [`EnrollmentOutcome`] (a sealed face template and a package for staff
//! review). Wrappers only: the session is
//! [`lifecert_core::api::enrollment::EnrollmentSession`].

use crate::engine::{language, Engine, FaceBox};
use crate::error::LifecertError;
use crate::keys::EnrollmentKeys;
use crate::session::{
    export_session_calls, face_box, Action, ActionPrompt, LivenessReport, Phase, SessionCell,
    Utterance,
};
use lifecert_core::api::enrollment::{self as core, EnrollmentUpdate as CoreUpdate};
pub use lifecert_core::identity::id_document::DocumentSide;
use lifecert_core::liveness::challenge::SeededRandom;
use lifecert_core::text::messages::Language;
use std::sync::Arc;

/// Everything an enrollment needs besides the keys.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentRequest {
    /// The person's name as typed (checked).
    pub name: String,
    /// The person's resident ID number as typed (checked: GB 11643).
    pub id_number: String,
    /// Unix seconds at the session's start (the template's creation time).
    pub now_unix: u64,
    /// The language of instructions and prompts (BCP-47: `zh-Hans`, `zh-Hant`, `en`, …).
    pub language: String,
    /// The actions of the liveness step, asked for in a random order (no duplicates).
    /// Empty: no liveness step (staff enrolling from photos, or a recording, which cannot
    /// follow random actions); the package then says so.
    pub actions: Vec<Action>,
    /// Ask the person to read the digits 0–9 for voice templates (checked at each
    /// certification).
    pub voice_digits: bool,
    /// `Some`: draw the order of the actions from a deterministic generator with this
    /// seed: **tests only**. `None` (an app): the system's secure random generator.
    #[uniffi(default = None)]
    pub seed: Option<u64>,
}

/// Which side of the ID card a photo shows.
#[uniffi::remote(Enum)]
pub enum DocumentSide {
    /// The portrait side (人像面): must show exactly one portrait.
    Front,
    /// The national-emblem side (国徽面): must show no face.
    Back,
}

/// One frame the template was made from, as staff see it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReviewFrame {
    /// Session time of the frame, milliseconds.
    pub timestamp_ms: u64,
    /// The frame, downscaled, as JPEG.
    pub jpeg: Vec<u8>,
    /// Distance between the eyes, pixels.
    pub interocular_px: f32,
    /// Head yaw, degrees.
    pub yaw: f32,
    /// Head pitch, degrees.
    pub pitch: f32,
}

/// An accepted ID-card photo, re-encoded without metadata.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewDocument {
    /// Which side.
    pub side: DocumentSide,
    /// The re-encoded JPEG (EXIF stripped, within the upload limit).
    pub jpeg: Vec<u8>,
}

/// What staff review before they approve an enrollment.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EnrollmentPackage {
    /// Number of frames the template was made from.
    pub frame_count: u32,
    /// Those frames.
    pub frames: Vec<ReviewFrame>,
    /// The ID-card photos.
    pub documents: Vec<ReviewDocument>,
    /// Distance of the enrolled face to the ID-card portrait, when a front photo was given.
    pub id_front_distance: Option<f32>,
    /// Whether that distance is within the portrait threshold.
    pub id_front_matched: Option<bool>,
    /// Whether the action liveness step passed; `None` when no actions were asked for.
    pub liveness_passed: Option<bool>,
    /// The action liveness verdict and its figures; `None` when no actions were asked for.
    pub liveness: Option<LivenessReport>,
    /// The mean passive anti-spoofing score, when the models are loaded.
    pub pad_score: Option<f32>,
    /// Whether a voice print was made (certification then compares the answer's voice).
    pub voice_speaker: bool,
    /// Whether digit templates were made from the reading of 0–9 (certification then
    /// verifies the spoken digits).
    pub voice_digit_templates: bool,
    /// Speech heard in the reading, milliseconds.
    pub voice_speech_ms: u64,
    /// The reading of 0–9 as recorded (16 kHz mono WAV), for staff to review with the face.
    pub voice_recording_wav: Option<Vec<u8>>,
    /// Frames refused by the quality gate.
    pub rejected_frames: u32,
    /// When the package was submitted for review (unix seconds).
    pub submitted_unix: u64,
    /// Staff must approve or refuse it by then (unix seconds; 7 days after submission).
    pub review_deadline_unix: u64,
}

/// How an enrollment ended.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum EnrollmentOutcome {
    /// Enrolled: the sealed template to store, and the package for staff review.
    Enrolled {
        /// The sealed face template: store it and give it to
        /// `CertificationRequest.sealed_template`.
        sealed_template: Vec<u8>,
        /// The sealed voice profile (voice print, digit templates), when a voice was
        /// enrolled: store it and give it to `CertificationRequest.sealed_voice_profile`.
        sealed_voice_profile: Option<Vec<u8>>,
        /// The subject reference (64 hex digits) the seals are bound to.
        subject_hex: String,
        /// The package for staff review.
        package: EnrollmentPackage,
        /// The result text.
        result_text: Utterance,
    },
    /// Not enrolled: the reason.
    NotEnrolled {
        /// Stable id of the reason: `consent_declined`, `liveness:<reason>`, `not_live`,
        /// `not_enough_good_frames`, `id_portrait_mismatch`, `positioning_timeout`.
        failure_id: String,
        /// What to tell the person.
        message: Utterance,
        /// The action liveness verdict, when that step ended.
        liveness: Option<LivenessReport>,
    },
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<core::EnrollmentOutcome> for EnrollmentOutcome {
    fn from(o: core::EnrollmentOutcome) -> Self {
        match o {
            core::EnrollmentOutcome::Enrolled(e) => {
                let e = *e;
                let p = e.package;
                EnrollmentOutcome::Enrolled {
                    sealed_template: e.sealed_template,
                    sealed_voice_profile: e.sealed_voice_profile,
                    subject_hex: e.subject,
                    package: EnrollmentPackage {
                        frame_count: count(p.frames.len()),
                        frames: p
                            .frames
                            .into_iter()
                            .map(|f| ReviewFrame {
                                timestamp_ms: f.t_ms,
                                jpeg: f.jpeg,
                                interocular_px: f.quality.interocular_px,
                                yaw: f.quality.yaw,
                                pitch: f.quality.pitch,
                            })
                            .collect(),
                        documents: p
                            .documents
                            .into_iter()
                            .map(|d| ReviewDocument {
                                side: d.side,
                                jpeg: d.jpeg,
                            })
                            .collect(),
                        id_front_distance: p.id_front_match.map(|(d, _)| d),
                        id_front_matched: p.id_front_match.map(|(_, ok)| ok),
                        liveness_passed: p.liveness.as_ref().map(|v| v.passed),
                        liveness: p.liveness.as_ref().map(LivenessReport::from),
                        pad_score: p.pad_score,
                        voice_speaker: p.voice.speaker,
                        voice_digit_templates: p.voice.digit_templates,
                        voice_speech_ms: p.voice.speech_ms,
                        voice_recording_wav: p.voice_recording_wav,
                        rejected_frames: count(p.rejected_frames),
                        submitted_unix: p.submitted_unix,
                        review_deadline_unix: p.review_deadline_unix,
                    },
                    result_text: e.result_text.into(),
                }
            }
            core::EnrollmentOutcome::NotEnrolled(n) => EnrollmentOutcome::NotEnrolled {
                failure_id: n.failure.id(),
                message: n.message.into(),
                liveness: n.liveness.as_ref().map(LivenessReport::from),
            },
        }
    }
}

/// The answer to every input of an [`EnrollmentSession`]: what to show and say now.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EnrollmentUpdate {
    /// The phase after this input.
    pub phase: Phase,
    /// The text on screen now (the consent or ID-photo request, then the positioning
    /// instruction; `None` before the first frame).
    pub instruction: Option<Utterance>,
    /// What to say now, in order (often empty). Report a [`crate::UtteranceKind::Prompt`]'s
    /// start and end with `prompt_started` / `prompt_finished`.
    pub speak: Vec<Utterance>,
    /// Digits to show for reading, one per byte (set when they change).
    pub show_digits: Option<Vec<u8>>,
    /// The action to show (set when it changes).
    pub show_action: Option<ActionPrompt>,
    /// Progress of the whole session, 0 to 1.
    pub progress: f32,
    /// The tracked face in the upright frame (frame updates only).
    pub face: Option<FaceBox>,
    /// The outcome, on the update that finishes the session.
    pub outcome: Option<EnrollmentOutcome>,
}

impl From<CoreUpdate> for EnrollmentUpdate {
    fn from(u: CoreUpdate) -> Self {
        EnrollmentUpdate {
            phase: u.phase,
            instruction: u.instruction.map(Utterance::from),
            speak: u.speak.into_iter().map(Utterance::from).collect(),
            show_digits: u.show_digits,
            show_action: u.show_action.map(ActionPrompt::from),
            progress: u.progress,
            face: u.face.map(face_box),
            outcome: u.outcome.map(EnrollmentOutcome::from),
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Starts an enrollment of the person in `request`, with the keys from the platform
    /// keystore. The session begins by asking for consent.
    ///
    /// Errors: [`LifecertError::BadInput`] for a refused name, ID number, language tag,
    /// key, or a duplicated action.
    pub fn enrollment_session(
        &self,
        request: EnrollmentRequest,
        keys: EnrollmentKeys,
    ) -> Result<Arc<EnrollmentSession>, LifecertError> {
        let _span = tracing::debug_span!("ffi_enrollment_session").entered();
        let keys = keys.into_core()?;
        let lang = language(&request.language)?;
        let request = core::EnrollmentRequest {
            name: request.name,
            id_number: request.id_number,
            now_unix: request.now_unix,
            language: lang,
            actions: request.actions,
            voice_digits: request.voice_digits,
            rng: request.seed.map(|seed| {
                Box::new(SeededRandom::new(seed))
                    as Box<dyn lifecert_core::liveness::challenge::RandomSource + Send + Sync>
            }),
        };
        let session = core::EnrollmentSession::new(self.core().clone(), request, keys)?;
        Ok(Arc::new(EnrollmentSession {
            language: lang,
            session: SessionCell::new("enrollment session", session),
        }))
    }
}

/// A running enrollment: consent, ID-card photos, positioning, the action liveness step,
/// good frames of the face, the digits 0–9 for voice templates, then the sealed template.
///
/// Answer the request on screen (`give_consent`, `add_id_document` /
/// `continue_without_more_documents`), then push every camera frame and microphone chunk
/// with their timestamps on one clock (milliseconds), report the text-to-speech of each
/// prompt, call `tick` when nothing else arrives, and show and say what each update says.
/// Thread-safe: calls from several threads are taken one after the other. A call that does
/// not belong to the current phase, and every call after the outcome, fails with
/// [`LifecertError::BadInput`].
#[derive(uniffi::Object)]
pub struct EnrollmentSession {
    language: Language,
    session: SessionCell<core::EnrollmentSession>,
}

impl std::fmt::Debug for EnrollmentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentSession")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl EnrollmentSession {
    /// The person agreed (`true`) or declined (`false`, which ends the session) to enroll.
    ///
    /// Errors: [`LifecertError::BadInput`] outside the consent phase.
    pub fn give_consent(&self, accepted: bool) -> Result<EnrollmentUpdate, LifecertError> {
        self.session.with(|s| Ok(s.give_consent(accepted)?.into()))
    }

    /// One ID-card photo as taken or uploaded (JPEG or PNG): checked, EXIF orientation
    /// honoured and all metadata dropped; the front's portrait is kept to check the
    /// enrolled face against. After both sides the session moves on to the face.
    ///
    /// Errors: [`LifecertError::BadInput`] for a file that is not a usable photo (format,
    /// size) or outside the ID-photo phase — its reason starts with the sentence to show
    /// and say, in the session's language (e.g. "please use a JPG or PNG photo"); [`LifecertError::FaceNotUsable`] for a front
    /// without exactly one portrait or a back with a face (take the photo again).
    pub fn add_id_document(
        &self,
        side: DocumentSide,
        bytes: Vec<u8>,
    ) -> Result<EnrollmentUpdate, LifecertError> {
        let _span = tracing::debug_span!("ffi_enrollment_id_document").entered();
        self.session
            .with(|s| match s.add_id_document(side, &bytes) {
                Ok(update) => Ok(update.into()),
                // The person is told what to do in their language; the technical cause follows.
                Err(e) => Err(match s.id_photo_message(&e) {
                    Some(told) => LifecertError::from(e).with_reason_prefix(&told),
                    None => e.into(),
                }),
            })
    }

    /// Goes on to the face without (more) ID-card photos.
    ///
    /// Errors: [`LifecertError::BadInput`] outside the ID-photo phase.
    pub fn continue_without_more_documents(&self) -> Result<EnrollmentUpdate, LifecertError> {
        self.session
            .with(|s| Ok(s.continue_without_more_documents()?.into()))
    }

    /// The text to show and say for the current phase (the consent or ID-photo request;
    /// `None` in the face phases).
    pub fn current_request(&self) -> Option<Utterance> {
        self.session.peek().current_request().map(Into::into)
    }
}

export_session_calls!(
    EnrollmentSession,
    EnrollmentUpdate,
    EnrollmentOutcome,
    "enrollment"
);
