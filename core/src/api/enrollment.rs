//! The enrollment ("face modelling", the Qinghai flow) as one session: consent → ID-card
//! photos → positioning → action liveness → good frames → the digits 0–9 for the voice
//! templates → a sealed face template, sealed voice templates and a package for staff
//! review.
//!
//! ```text
//! new(engine, request, keys)
//!   Consent ────── give_consent(true | false)
//!   IdDocuments ── add_id_document(Front | Back, bytes)…, then continue_without_more_documents()
//!   Positioning ── guidance until "hold still" (SessionConfig::positioning_gate)
//!   Liveness ───── the actions in random order (crate::liveness::sequencer); good frames are kept
//!   Capture ────── more good frames if needed (SessionConfig::enrollment_frames)
//!   VoiceDigits ── "please read 0 1 2 … 9", ten segments → voice templates
//!   Finished ───── EnrollmentOutcome::Enrolled { sealed_template, … } | NotEnrolled { … }
//! ```
//!
//! Every kept frame passes the enrollment quality gate
//! ([`crate::matching::templates::check_enrollment_quality`]) and comes from the face tracked through
//! the liveness step. With no actions requested (enrollment from still photos by staff, or
//! from a recording), the liveness step is skipped and the package says so.

use crate::api::engine::Engine;
use crate::api::error::Result;
use crate::api::session::{
    ms, present_liveness_event, utter, PadScores, Phase, SessionError, SessionUpdate, Utterance,
    UtteranceKind, ENROL_CONSENT, ENROL_DONE, ENROL_ID_BACK, ENROL_ID_FRONT, ENROL_NOT_FINISHED,
    ENROL_READ_ALL_DIGITS, ENROL_VOICE_RETRY, SESSION_NOT_LIVE, SESSION_POSITIONING_TIMEOUT,
};
use crate::api::voice_enrollment::{digit_templates_from, speaker_reference_from};
use crate::audio::buffer::AudioBuffer;
use crate::audio::segments::speech_spans;
use crate::audio::segments::SpeechSegment;
use crate::audio::stream::{MicrophoneStream, VoiceActivity};
use crate::audio::vad::SAMPLE_RATE_HZ;
use crate::audio::wav::pcm16_wav;
use crate::capture::guide::{Guide, GuidedFrame};
use crate::crypto::sealing::SealingKey;
use crate::identity::id_document::DocumentSide;
use crate::identity::person::{Subject, SubjectKey, SubjectReference};
use crate::image::frame::Frame;
use crate::liveness::challenge::{Action, ActionChallenge, RandomSource};
use crate::liveness::sequencer::{FailReason, LivenessEvent, LivenessSession, Verdict};
use crate::matching::sealed_template::seal_template;
use crate::matching::sealed_voice::seal_voice_profile;
use crate::matching::templates::{SampleQuality, TemplateBuilder, TemplateError};
use crate::matching::voice_profile::VoiceProfile;
use crate::text::messages::Language;
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Everything an enrollment needs besides the keys.
pub struct EnrollmentRequest {
    /// The person's name (checked).
    pub name: String,
    /// The person's resident ID number (checked: GB 11643).
    pub id_number: String,
    /// Unix seconds at the session's start (template creation time).
    pub now_unix: u64,
    /// The language of instructions and prompts.
    pub language: Language,
    /// The actions of the liveness step, performed in a random order. Empty: no liveness
    /// step (staff enrolling from photos, or a recording); the package says so.
    pub actions: Vec<Action>,
    /// Record the digits 0–9 for voice templates.
    pub voice_digits: bool,
    /// The random source of the action order (`None`: the operating system's).
    pub rng: Option<Box<dyn RandomSource + Send + Sync>>,
}

impl std::fmt::Debug for EnrollmentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentRequest")
            .field("language", &self.language)
            .field("actions", &self.actions)
            .field("voice_digits", &self.voice_digits)
            .finish_non_exhaustive()
    }
}

/// The keys of an enrollment: from the platform keystore.
pub struct EnrollmentKeys {
    /// HMAC key of subject references.
    pub subject: SubjectKey,
    /// AES-256-GCM key the templates are sealed with.
    pub sealing: SealingKey,
}

impl std::fmt::Debug for EnrollmentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentKeys")
            .field("sealing", &self.sealing)
            .finish_non_exhaustive()
    }
}

/// Why an enrollment did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnrollmentFailure {
    /// The person declined.
    ConsentDeclined,
    /// The action liveness check failed after its retries.
    Liveness {
        /// The reason of the last attempt.
        reason: FailReason,
    },
    /// The passive anti-spoofing score was too low.
    NotLive {
        /// Mean "real" score.
        pad_score: f32,
    },
    /// Too few frames passed the quality gate in time.
    NotEnoughGoodFrames {
        /// Frames kept.
        good: usize,
        /// Frames needed.
        required: usize,
    },
    /// The enrolled face is too far from the ID-card portrait (to staff review).
    IdPortraitMismatch {
        /// Distance of the enrollment to the portrait.
        distance: f32,
    },
    /// The face could not be positioned in time.
    PositioningTimeout,
    /// A fault inside the engine (sealing the template or the voice profile failed): not
    /// the person's doing; staff can help.
    Internal,
}

impl EnrollmentFailure {
    /// Stable snake_case id.
    pub fn id(&self) -> String {
        match self {
            Self::ConsentDeclined => "consent_declined".into(),
            Self::Liveness { reason } => format!("liveness:{}", reason.id()),
            Self::NotLive { .. } => "not_live".into(),
            Self::NotEnoughGoodFrames { .. } => "not_enough_good_frames".into(),
            Self::IdPortraitMismatch { .. } => "id_portrait_mismatch".into(),
            Self::PositioningTimeout => "positioning_timeout".into(),
            Self::Internal => "internal".into(),
        }
    }

    fn message_id(&self) -> &'static str {
        match self {
            Self::Liveness { reason } => reason.message_id(),
            Self::NotLive { .. } => SESSION_NOT_LIVE,
            Self::PositioningTimeout => SESSION_POSITIONING_TIMEOUT,
            _ => ENROL_NOT_FINISHED,
        }
    }
}

/// One frame kept for the template, as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewFrame {
    /// Session time (ms).
    pub t_ms: u64,
    /// The frame, downscaled, as JPEG.
    pub jpeg: Vec<u8>,
    /// Its quality figures.
    pub quality: SampleQuality,
}

/// An accepted ID-document photo, re-encoded without metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDocument {
    /// Which side.
    pub side: DocumentSide,
    /// The re-encoded JPEG (EXIF stripped, within the upload limit).
    pub jpeg: Vec<u8>,
}

/// What staff review before they approve an enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentPackage {
    /// The frames the template was made from.
    pub frames: Vec<ReviewFrame>,
    /// The ID-card photos.
    pub documents: Vec<ReviewDocument>,
    /// Distance of the enrollment to the ID-card portrait, and whether it is within the
    /// portrait threshold.
    pub id_front_match: Option<(f32, bool)>,
    /// The action liveness verdict (`None`: no liveness step was requested).
    pub liveness: Option<Verdict>,
    /// Passive anti-spoofing mean score, when the models are loaded.
    pub pad_score: Option<f32>,
    /// What was enrolled of the voice.
    pub voice: VoiceEnrollment,
    /// The reading of "0 1 2 … 9" as recorded (16 kHz mono PCM16 WAV), for staff to review
    /// with the face; `None` when no voice was recorded.
    pub voice_recording_wav: Option<Vec<u8>>,
    /// Frames refused by the quality gate.
    pub rejected_frames: usize,
    /// When the package was submitted for review (unix s: the session's start time).
    pub submitted_unix: u64,
    /// Staff must decide by then (unix s): [`REVIEW_PERIOD_SECS`] after submission.
    pub review_deadline_unix: u64,
}

/// How long staff have to review an enrollment package: 7 days (the Qinghai rule).
pub const REVIEW_PERIOD_SECS: u64 = 7 * 24 * 3600;

/// What an enrollment made of the voice. Certification then compares the answer's voice with
/// the enrolled one (`speaker`) and verifies the spoken digits (`digit_templates`); without
/// them the evidence says the voice was not checked and the digits were only counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VoiceEnrollment {
    /// A voice print (speaker reference) was made.
    pub speaker: bool,
    /// Digit templates were made from the reading of 0–9.
    pub digit_templates: bool,
    /// Speech heard in the reading (ms).
    pub speech_ms: u64,
}

/// A finished enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The sealed face template ([`crate::matching::sealed_template::seal_template`]).
    pub sealed_template: Vec<u8>,
    /// The sealed voice profile ([`crate::matching::sealed_voice`]), when a voice was enrolled.
    pub sealed_voice_profile: Option<Vec<u8>>,
    /// The subject reference (hex) the seals are bound to.
    pub subject: String,
    /// The package for staff review.
    pub package: EnrollmentPackage,
    /// The result text.
    pub result_text: Utterance,
}

/// An enrollment that did not finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotEnrolled {
    /// Why.
    pub failure: EnrollmentFailure,
    /// What to tell the person.
    pub message: Utterance,
    /// The liveness verdict, when the step ended.
    pub liveness: Option<Verdict>,
}

/// How an enrollment ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EnrollmentOutcome {
    /// Enrolled.
    Enrolled(Box<Enrolled>),
    /// Not enrolled.
    NotEnrolled(Box<NotEnrolled>),
}

/// One answer of an [`EnrollmentSession`].
pub type EnrollmentUpdate = SessionUpdate<EnrollmentOutcome>;

/// Longest reading of "0 to 9" kept (the oldest audio goes first).
const MAX_READING: Duration = Duration::from_secs(60);

/// The reading of "0 to 9".
#[derive(Debug)]
struct VoiceReading {
    attempt: u32,
    prompt_end: Option<Duration>,
    /// The reading's audio and voice activity, from the first chunk after the prompt, on the
    /// session clock.
    audio: AudioBuffer,
    vad: Vec<VoiceActivity>,
}

impl Default for VoiceReading {
    fn default() -> Self {
        Self {
            attempt: 0,
            prompt_end: None,
            audio: AudioBuffer::new(SAMPLE_RATE_HZ, MAX_READING),
            vad: Vec::new(),
        }
    }
}

/// A running enrollment (see the module documentation). `Send`.
pub struct EnrollmentSession {
    engine: Arc<Engine>,
    language: Language,
    subject: SubjectReference,
    keys: EnrollmentKeys,
    now_unix: u64,
    voice_wanted: bool,
    frames: Guide,
    audio: MicrophoneStream,
    liveness: Option<LivenessSession>,
    verdict: Option<Verdict>,
    builder: TemplateBuilder,
    review: Vec<ReviewFrame>,
    documents: Vec<ReviewDocument>,
    has_portrait: bool,
    last_kept: Option<Duration>,
    phase: Phase,
    phase_since: Option<Duration>,
    pad: PadScores,
    voice: VoiceReading,
    voice_profile: Option<VoiceProfile>,
    voice_enrollment: VoiceEnrollment,
    outcome: Option<EnrollmentOutcome>,
}

impl std::fmt::Debug for EnrollmentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentSession")
            .field("phase", &self.phase)
            .field("good_frames", &self.builder.good_frames())
            .finish_non_exhaustive()
    }
}

const DIGITS_0_TO_9: &str = "0 1 2 3 4 5 6 7 8 9";

impl EnrollmentSession {
    /// Checks the subject and prepares the session. Errors: a refused name or ID number, an
    /// invalid action set (duplicates).
    pub fn new(
        engine: Arc<Engine>,
        request: EnrollmentRequest,
        keys: EnrollmentKeys,
    ) -> Result<Self> {
        let _span = tracing::info_span!("enrollment_session").entered();
        let subject = Subject::identify(
            &keys.subject,
            &request.name,
            &request.id_number,
            request.now_unix,
        )
        .map_err(SessionError::from)?
        .reference;
        // Every accepted frame is described: start loading the descriptor now.
        engine.analyzer().prefetch_descriptor();
        let liveness = if request.actions.is_empty() {
            None
        } else {
            let rng: Box<dyn RandomSource + Send + Sync> =
                request.rng.unwrap_or_else(|| Box::new(SystemRandom::new()));
            let challenge = ActionChallenge::generate_with(&request.actions, rng.as_ref())
                .map_err(|e| SessionError::Challenge(e.to_string()))?;
            Some(
                LivenessSession::new_actions(challenge, engine.config().liveness.clone())?
                    .with_random_source(rng),
            )
        };
        Ok(Self {
            frames: engine.guide()?,
            audio: MicrophoneStream::new(engine.vad().stream()),
            builder: TemplateBuilder::new(engine.analyzer(), engine.config())?,
            engine,
            language: request.language,
            subject,
            keys,
            now_unix: request.now_unix,
            voice_wanted: request.voice_digits,
            liveness,
            verdict: None,
            review: Vec::new(),
            documents: Vec::new(),
            has_portrait: false,
            last_kept: None,
            phase: Phase::Consent,
            phase_since: None,
            pad: PadScores::default(),
            voice: VoiceReading::default(),
            voice_profile: None,
            voice_enrollment: VoiceEnrollment::default(),
            outcome: None,
        })
    }

    /// The phase the session is in.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<&EnrollmentOutcome> {
        self.outcome.as_ref()
    }

    /// The text to show and say for the current phase (consent, ID photos).
    pub fn current_request(&self) -> Option<Utterance> {
        let id = match self.phase {
            Phase::Consent => ENROL_CONSENT,
            Phase::IdDocuments if self.documents.iter().all(|d| d.side != DocumentSide::Front) => {
                ENROL_ID_FRONT
            }
            Phase::IdDocuments => ENROL_ID_BACK,
            _ => return None,
        };
        Some(utter(
            &self.engine,
            self.language,
            id,
            &[],
            UtteranceKind::Instruction,
        ))
    }

    fn update(&self) -> EnrollmentUpdate {
        let mut u = SessionUpdate::new(self.phase, self.progress());
        u.instruction = match self.phase {
            Phase::Consent | Phase::IdDocuments => self.current_request(),
            _ => self.frames.instruction().map(|i| {
                utter(
                    &self.engine,
                    self.language,
                    i.id(),
                    &[],
                    UtteranceKind::Instruction,
                )
            }),
        };
        u
    }

    fn progress(&self) -> f32 {
        match self.phase {
            Phase::Consent => 0.0,
            Phase::IdDocuments => 0.1,
            Phase::Positioning => 0.2,
            Phase::Liveness => 0.3,
            Phase::Capture => 0.6,
            Phase::VoiceDigits => 0.8,
            _ => 1.0,
        }
    }

    fn expect(&self, call: &'static str, phases: &[Phase]) -> Result<()> {
        if self.phase == Phase::Finished {
            return Err(SessionError::Finished.into());
        }
        if !phases.contains(&self.phase) {
            return Err(SessionError::WrongPhase {
                call,
                phase: self.phase,
            }
            .into());
        }
        Ok(())
    }

    fn enter(&mut self, phase: Phase) {
        tracing::debug!(?phase, "enrollment phase");
        self.phase = phase;
        self.phase_since = None;
    }

    /// The person agreed (`true`) or declined (`false`) to enroll.
    pub fn give_consent(&mut self, accepted: bool) -> Result<EnrollmentUpdate> {
        self.expect("give_consent", &[Phase::Consent])?;
        let mut u = self.update();
        if accepted {
            self.enter(Phase::IdDocuments);
            u = self.update();
            u.speak.extend(u.instruction.clone());
        } else {
            self.fail(EnrollmentFailure::ConsentDeclined, &mut u);
        }
        Ok(u)
    }

    /// One ID-card photo as uploaded (JPEG or PNG, at most the upload limit): checked,
    /// EXIF honoured and stripped; the front's portrait is kept to check the enrollment
    /// against. A refused photo is an error the person can act on (take it again).
    pub fn add_id_document(
        &mut self,
        side: DocumentSide,
        bytes: &[u8],
    ) -> Result<EnrollmentUpdate> {
        self.expect("add_id_document", &[Phase::IdDocuments])?;
        let checked = self.engine.id_documents()?.check_upload(bytes, side)?;
        if let Some(p) = &checked.portrait {
            // Only size is gated for a card portrait; the eye distance is estimated from the
            // detector box (BlazeFace boxes span about 2.5 eye distances).
            let q = SampleQuality {
                interocular_px: p.bbox.width * 0.4,
                sharpness: None,
                face_luma: None,
                yaw: 0.0,
                pitch: 0.0,
                roll: 0.0,
                significant_faces: 1,
                eye_luma_ratio: None,
                mouth_luma_ratio: None,
                mouth_redness: None,
            };
            self.builder
                .set_id_portrait_sample(p.descriptor.clone(), q)
                .map_err(crate::Error::from)?;
            self.has_portrait = true;
        }
        self.documents.retain(|d| d.side != side);
        self.documents.push(ReviewDocument {
            side,
            jpeg: checked.jpeg,
        });
        let mut u = self.update();
        if self.documents.len() == 2 {
            self.enter(Phase::Positioning);
            u = self.update();
        } else {
            u.speak.extend(u.instruction.clone());
        }
        Ok(u)
    }

    /// What to tell the person about a refused ID photo ([`Self::add_id_document`]'s error),
    /// in the session's language: JPG or PNG only, at most 1 MB, a clear front, the back
    /// the right way round. `None` for an error no new photo fixes.
    pub fn id_photo_message(&self, error: &crate::Error) -> Option<String> {
        match error {
            crate::Error::IdDocument(d) => self.engine.messages().id_photo(d, self.language),
            _ => None,
        }
    }

    /// Goes on to the face without (more) ID photos.
    pub fn continue_without_more_documents(&mut self) -> Result<EnrollmentUpdate> {
        self.expect("continue_without_more_documents", &[Phase::IdDocuments])?;
        self.enter(Phase::Positioning);
        Ok(self.update())
    }

    /// One camera frame at `t` (session clock).
    pub fn push_frame(&mut self, frame: &Frame<'_>, t: Duration) -> Result<EnrollmentUpdate> {
        self.expect(
            "push_frame",
            &[
                Phase::Positioning,
                Phase::Liveness,
                Phase::Capture,
                Phase::VoiceDigits,
            ],
        )?;
        let seen = self.frames.push_frame(self.engine.analyzer(), frame, t)?;
        Ok(self.on_frame(seen, t))
    }

    /// One frame already analysed by [`crate::Analyzer::analyze`].
    pub fn push_analysis(
        &mut self,
        analysis: crate::face::analyzer::FrameAnalysis,
        t: Duration,
    ) -> Result<EnrollmentUpdate> {
        self.expect(
            "push_analysis",
            &[
                Phase::Positioning,
                Phase::Liveness,
                Phase::Capture,
                Phase::VoiceDigits,
            ],
        )?;
        let seen = self.frames.push_analysis(analysis, t);
        Ok(self.on_frame(seen, t))
    }

    fn on_frame(&mut self, seen: GuidedFrame, t: Duration) -> EnrollmentUpdate {
        let since = *self.phase_since.get_or_insert(t);
        let mut u = self.update();
        u.face = seen
            .primary()
            .map(|i| seen.analysis.faces[i].detection.bbox);
        let cfg = self.engine.config().session.clone();
        match self.phase {
            Phase::Positioning => {
                if seen.guidance.speak {
                    u.speak.extend(u.instruction.clone());
                }
                if seen.guidance.instruction.is_ok() || !cfg.positioning_gate {
                    self.enter(if self.liveness.is_some() {
                        Phase::Liveness
                    } else {
                        Phase::Capture
                    });
                    self.phase_since = Some(t);
                } else if t.saturating_sub(since) >= cfg.positioning_timeout {
                    self.fail(EnrollmentFailure::PositioningTimeout, &mut u);
                    return u;
                }
            }
            Phase::VoiceDigits => {
                self.check_voice(t, &mut u);
                return u;
            }
            _ => {}
        }
        match self.phase {
            Phase::Liveness => {
                self.score_pad(&seen, t);
                self.keep_frame(&seen, t);
                if let Some(l) = self.liveness.as_mut() {
                    let events = l.push_faces(&seen.analysis.faces, t);
                    self.on_liveness(events, &mut u);
                }
            }
            Phase::Capture => {
                self.score_pad(&seen, t);
                self.keep_frame(&seen, t);
                let since = *self.phase_since.get_or_insert(t);
                if self.review.len() >= cfg.enrollment_frames
                    || t.saturating_sub(since) >= cfg.capture_timeout
                {
                    self.after_capture(&mut u);
                }
            }
            _ => {}
        }
        u.phase = self.phase;
        u.progress = self.progress();
        u
    }

    fn score_pad(&mut self, seen: &GuidedFrame, t: Duration) {
        if let (Some(mean), Some(l)) = (
            self.pad.score(&self.engine, seen, t),
            self.liveness.as_mut(),
        ) {
            l.set_pad_score(mean);
        }
    }

    /// Keeps a good frame for the template (quality gate, spacing, at most the number
    /// wanted).
    fn keep_frame(&mut self, seen: &GuidedFrame, t: Duration) {
        let cfg = &self.engine.config().session;
        if self.review.len() >= cfg.enrollment_frames
            || self
                .last_kept
                .is_some_and(|l| t.saturating_sub(l) < cfg.enrollment_frame_interval)
            || seen.primary().is_none()
        {
            return;
        }
        match self.builder.add_frame(
            self.engine.analyzer(),
            &seen.analysis.image,
            &seen.analysis.faces,
        ) {
            Ok(quality) => {
                self.last_kept = Some(t);
                let side = cfg.review_frame_side;
                self.review.push(ReviewFrame {
                    t_ms: ms(t),
                    jpeg: review_jpeg(&seen.analysis.image, side),
                    quality,
                });
            }
            Err(e) => tracing::trace!(error = %e, "frame not kept for the template"),
        }
    }

    fn on_liveness(&mut self, events: Vec<LivenessEvent>, u: &mut EnrollmentUpdate) {
        for event in events {
            present_liveness_event(&self.engine, self.language, &event, u);
            if let LivenessEvent::Done(verdict) = event {
                let passed = verdict.passed;
                let reason = verdict.reason.unwrap_or(FailReason::ActionNotSeen);
                self.verdict = Some(*verdict);
                if passed {
                    self.enter(Phase::Capture);
                    if self.review.len() >= self.engine.config().session.enrollment_frames {
                        self.after_capture(u);
                    }
                } else {
                    self.fail(EnrollmentFailure::Liveness { reason }, u);
                }
            }
        }
        u.phase = self.phase;
        u.progress = self.progress();
    }

    /// After the frames: the anti-spoofing verdict, then the voice or the end.
    fn after_capture(&mut self, u: &mut EnrollmentUpdate) {
        if let Some(pad_score) = self.pad.mean() {
            if pad_score < self.engine.config().session.min_pad_score {
                self.fail(EnrollmentFailure::NotLive { pad_score }, u);
                return;
            }
        }
        let required = self.engine.config().matching.min_enrollment_frames;
        if self.builder.good_frames() < required {
            let good = self.builder.good_frames();
            self.fail(EnrollmentFailure::NotEnoughGoodFrames { good, required }, u);
            return;
        }
        if self.voice_wanted {
            self.enter(Phase::VoiceDigits);
            self.start_voice(u, ENROL_READ_ALL_DIGITS);
        } else {
            self.complete(u);
        }
    }

    fn start_voice(&mut self, u: &mut EnrollmentUpdate, id: &str) {
        self.voice.attempt += 1;
        self.voice.prompt_end = None;
        self.voice.audio.clear();
        self.voice.vad.clear();
        if id != ENROL_READ_ALL_DIGITS {
            u.speak.push(utter(
                &self.engine,
                self.language,
                id,
                &[],
                UtteranceKind::Notice,
            ));
        }
        u.speak.push(utter(
            &self.engine,
            self.language,
            ENROL_READ_ALL_DIGITS,
            &[("digits", DIGITS_0_TO_9)],
            UtteranceKind::Prompt,
        ));
        u.show_digits = Some((0..10).collect());
        u.phase = self.phase;
        u.progress = self.progress();
    }

    /// Microphone audio: 16 kHz mono PCM whose first sample was captured at `t`.
    pub fn push_audio(&mut self, pcm: &[i16], t: Duration) -> Result<EnrollmentUpdate> {
        self.expect(
            "push_audio",
            &[
                Phase::Positioning,
                Phase::Liveness,
                Phase::Capture,
                Phase::VoiceDigits,
            ],
        )?;
        let heard = self.audio.push(pcm, t)?;
        let mut u = self.update();
        if self.phase == Phase::VoiceDigits && self.voice.prompt_end.is_some() {
            self.voice.audio.write(&heard.samples, heard.start);
            self.voice.vad.extend_from_slice(&heard.activity);
            self.check_voice(heard.end(), &mut u);
        }
        Ok(u)
    }

    /// The shell began speaking the last prompt.
    pub fn prompt_started(&mut self, t: Duration) -> Result<EnrollmentUpdate> {
        self.expect("prompt_started", &[Phase::Liveness, Phase::VoiceDigits])?;
        let mut u = self.update();
        if let (Phase::Liveness, Some(l)) = (self.phase, self.liveness.as_mut()) {
            let events = l.prompt_started(t);
            self.on_liveness(events, &mut u);
        }
        Ok(u)
    }

    /// The shell finished speaking the last prompt.
    pub fn prompt_finished(&mut self, t: Duration) -> Result<EnrollmentUpdate> {
        self.expect("prompt_finished", &[Phase::Liveness, Phase::VoiceDigits])?;
        let mut u = self.update();
        match (self.phase, self.liveness.as_mut()) {
            (Phase::Liveness, Some(l)) => {
                let events = l.prompt_finished(t);
                self.on_liveness(events, &mut u);
            }
            (Phase::VoiceDigits, _) => self.voice.prompt_end = Some(t),
            _ => {}
        }
        Ok(u)
    }

    /// The time now, when nothing else arrives (timeouts).
    pub fn tick(&mut self, t: Duration) -> Result<EnrollmentUpdate> {
        self.expect(
            "tick",
            &[
                Phase::Positioning,
                Phase::Liveness,
                Phase::Capture,
                Phase::VoiceDigits,
            ],
        )?;
        let mut u = self.update();
        match (self.phase, self.liveness.as_mut()) {
            (Phase::Liveness, Some(l)) => {
                let events = l.tick(t);
                self.on_liveness(events, &mut u);
            }
            (Phase::VoiceDigits, _) => self.check_voice(t, &mut u),
            (Phase::Capture, _) => {
                let since = *self.phase_since.get_or_insert(t);
                if t.saturating_sub(since) >= self.engine.config().session.capture_timeout {
                    self.after_capture(&mut u);
                }
            }
            _ => {}
        }
        Ok(u)
    }

    /// The input has ended (a recording ran out): decides with what has arrived.
    pub fn end_of_input(&mut self, t: Duration) -> Result<EnrollmentUpdate> {
        self.expect(
            "end_of_input",
            &[
                Phase::Positioning,
                Phase::Liveness,
                Phase::Capture,
                Phase::VoiceDigits,
            ],
        )?;
        let mut u = self.update();
        match self.phase {
            Phase::Positioning => self.fail(EnrollmentFailure::PositioningTimeout, &mut u),
            Phase::Liveness => {
                if let Some(l) = self.liveness.as_mut() {
                    let events = l.end_of_input(t);
                    self.on_liveness(events, &mut u);
                }
                if self.phase == Phase::Capture {
                    self.after_capture(&mut u);
                }
            }
            Phase::Capture => self.after_capture(&mut u),
            Phase::VoiceDigits => {
                self.check_voice(t, &mut u);
                if self.phase == Phase::VoiceDigits {
                    // Nothing more will be read: finish without voice templates.
                    self.complete(&mut u);
                }
            }
            _ => {}
        }
        Ok(u)
    }

    /// Decides the reading of 0–9 when it is complete or its window is over.
    fn check_voice(&mut self, now: Duration, u: &mut EnrollmentUpdate) {
        let Some(prompt_end) = self.voice.prompt_end else {
            return;
        };
        let cfg = self.engine.config();
        let Ok(spans) = speech_spans(&self.voice.vad, &cfg.liveness.segments) else {
            return;
        };
        let heard_until = self.voice.vad.last().map_or(prompt_end, |v| v.end);
        let answer: Vec<(Duration, Duration)> = spans
            .iter()
            .map(|s| (s.start, s.end))
            .filter(|(_, e)| *e > prompt_end)
            .collect();
        let done = answer.len() >= 10
            && answer
                .last()
                .is_some_and(|(_, e)| heard_until >= *e + cfg.session.voice_end_silence);
        let over = now >= prompt_end + cfg.session.voice_answer_window;
        if !(done || over) {
            return;
        }
        let audio = &self.voice.audio;
        let segments: Vec<SpeechSegment> = answer
            .iter()
            .map(|&(s, e)| SpeechSegment {
                start_s: audio.seconds_at(s),
                end_s: audio.seconds_at(e),
            })
            .collect();
        let digits = digit_templates_from(self.voice.audio.samples(), &segments);
        let last_try = self.voice.attempt >= cfg.session.voice_attempts;
        if digits.is_none() && !last_try {
            tracing::info!(segments = answer.len(), "reading of 0-9 not usable");
            self.start_voice(u, ENROL_VOICE_RETRY);
            return;
        }
        // The voice print from the reading's speech (whatever its digits), when there is
        // enough of it; without digit templates certification counts the digits only.
        let speaker = match speaker_reference_from(
            &self.engine,
            &[(self.voice.audio.samples(), &segments)],
        ) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::info!(error = %e, "no voice print from the reading");
                None
            }
        };
        self.voice_enrollment = VoiceEnrollment {
            speaker: speaker.is_some(),
            digit_templates: digits.is_some(),
            speech_ms: segments
                .iter()
                .map(|s| (f64::from(s.duration_s().max(0.0)) * 1000.0).round() as u64)
                .sum(),
        };
        self.voice_profile = VoiceProfile::new(speaker, digits).ok();
        self.complete(u);
    }

    fn complete(&mut self, u: &mut EnrollmentUpdate) {
        let rejected = self.builder.rejected_frames();
        let template = match self.builder.build(self.now_unix) {
            Ok(t) => t,
            Err(TemplateError::IdPortraitMismatch { distance, .. }) => {
                self.fail(EnrollmentFailure::IdPortraitMismatch { distance }, u);
                return;
            }
            Err(e) => {
                let good = self.review.len();
                tracing::warn!(error = %e, "template not built");
                let required = self.engine.config().matching.min_enrollment_frames;
                self.fail(EnrollmentFailure::NotEnoughGoodFrames { good, required }, u);
                return;
            }
        };
        let id_front_match = template
            .id_portrait_distance()
            .map(|d| (d, d <= self.engine.config().matching.id_portrait_threshold));
        let sealed = seal_template(&template, &self.keys.sealing, &self.subject);
        // Submitted for review as the session ends; its start time stands for it (the minutes
        // of a session do not matter against a 7-day deadline).
        let submitted_unix = self.now_unix;
        let voice = self
            .voice_profile
            .as_ref()
            .map(|v| seal_voice_profile(v, &self.keys.sealing, &self.subject))
            .transpose();
        let (sealed_template, sealed_voice_profile) = match sealed_results(sealed, voice) {
            Ok(pair) => pair,
            Err(failure) => {
                self.fail(failure, u);
                return;
            }
        };
        let result_text = utter(
            &self.engine,
            self.language,
            ENROL_DONE,
            &[],
            UtteranceKind::Result,
        );
        u.speak.push(result_text.clone());
        let outcome = EnrollmentOutcome::Enrolled(Box::new(Enrolled {
            sealed_template,
            sealed_voice_profile,
            subject: self.subject.to_hex(),
            package: EnrollmentPackage {
                frames: std::mem::take(&mut self.review),
                documents: std::mem::take(&mut self.documents),
                id_front_match,
                liveness: self.verdict.clone(),
                pad_score: self.pad.mean(),
                voice: self.voice_enrollment,
                voice_recording_wav: (!self.voice.audio.is_empty())
                    .then(|| pcm16_wav(self.voice.audio.samples(), SAMPLE_RATE_HZ)),
                submitted_unix,
                review_deadline_unix: submitted_unix.saturating_add(REVIEW_PERIOD_SECS),
                rejected_frames: rejected,
            },
            result_text,
        }));
        self.finish(outcome, u);
    }

    fn fail(&mut self, failure: EnrollmentFailure, u: &mut EnrollmentUpdate) {
        let message = utter(
            &self.engine,
            self.language,
            failure.message_id(),
            &[],
            UtteranceKind::Notice,
        );
        u.speak.push(message.clone());
        if failure.message_id() != ENROL_NOT_FINISHED {
            u.speak.push(utter(
                &self.engine,
                self.language,
                ENROL_NOT_FINISHED,
                &[],
                UtteranceKind::Result,
            ));
        }
        tracing::info!(failure = %failure.id(), "enrollment not finished");
        let outcome = EnrollmentOutcome::NotEnrolled(Box::new(NotEnrolled {
            failure,
            message,
            liveness: self.verdict.clone(),
        }));
        self.finish(outcome, u);
    }

    fn finish(&mut self, outcome: EnrollmentOutcome, u: &mut EnrollmentUpdate) {
        self.phase = Phase::Finished;
        u.phase = Phase::Finished;
        u.progress = 1.0;
        u.outcome = Some(outcome.clone());
        self.outcome = Some(outcome);
    }
}

/// The sealed template and voice profile, or the failure to report: a sealing error is an
/// internal fault ([`EnrollmentFailure::Internal`]), never the person's frames.
fn sealed_results<E: std::fmt::Display, F: std::fmt::Display>(
    template: Result<Vec<u8>, E>,
    voice: Result<Option<Vec<u8>>, F>,
) -> Result<(Vec<u8>, Option<Vec<u8>>), EnrollmentFailure> {
    match (template, voice) {
        (Ok(t), Ok(v)) => Ok((t, v)),
        (Err(e), _) => {
            tracing::error!(error = %e, "sealing the template failed");
            Err(EnrollmentFailure::Internal)
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "sealing the voice profile failed");
            Err(EnrollmentFailure::Internal)
        }
    }
}

/// The frame downscaled to `side` pixels on its longer side, as JPEG (quality 85).
fn review_jpeg(image: &RgbImage, side: u32) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let scale = (side as f32 / w.max(h) as f32).min(1.0);
    let small = if scale < 1.0 {
        image::imageops::resize(
            image,
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        image.clone()
    };
    let mut out = Vec::new();
    if let Err(e) = JpegEncoder::new_with_quality(&mut out, 85).encode_image(&small) {
        tracing::warn!(error = %e, "review frame not encoded");
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sealing::SealError;

    #[test]
    fn a_sealing_failure_is_an_internal_fault_not_too_few_frames() {
        let ok = |b: u8| Ok::<_, SealError>(vec![b]);
        assert_eq!(
            sealed_results(
                Err::<Vec<u8>, _>(SealError::Random),
                Ok::<_, SealError>(None)
            ),
            Err(EnrollmentFailure::Internal)
        );
        assert_eq!(
            sealed_results(ok(1), Err::<Option<Vec<u8>>, _>(SealError::Crypto)),
            Err(EnrollmentFailure::Internal)
        );
        assert_eq!(
            sealed_results(ok(1), Ok::<_, SealError>(Some(vec![2]))),
            Ok((vec![1], Some(vec![2])))
        );
        assert_eq!(EnrollmentFailure::Internal.id(), "internal");
        assert_eq!(EnrollmentFailure::Internal.message_id(), ENROL_NOT_FINISHED);
    }
}
