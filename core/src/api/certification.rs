//! The annual certification (the Guangdong flow) as one session: subject → positioning →
//! spoken-digit challenge → face match → signed attestation, or a failure with its reason and
//! whether another try is allowed.
//!
//! ```text
//! new(engine, request, keys) ─ opens the template (authority signature, subject binding)
//!   Positioning ── guidance until "hold still" (SessionConfig::positioning_gate)
//!   Liveness ───── "please read aloud 2 5 8" (crate::liveness::sequencer), passive anti-spoofing
//!   Matching ───── the best frame of the answer against the template
//!   Finished ───── CertificationOutcome::Certified { attestation, … } | NotCertified { … }
//! ```
//!
//! The challenge is drawn on the device from the operating system's secure random
//! generator ([`ChallengeSource::Drawn`]). Tests use a seeded source
//! ([`ChallengeSource::Seeded`]); a recording can only be replayed against the digits it
//! contains ([`ChallengeSource::Supplied`]), and the signed result then says
//! `challenge_origin: "supplied"`, which the authority's verifier refuses by default
//! ([`crate::api::attestation::VerifyPolicy`]).

use crate::api::attestation::{
    sign_attestation, Attestation, ChallengeOrigin, LivenessSummary, PerformedBy,
};
use crate::api::engine::Engine;
use crate::api::error::Result;
use crate::api::session::{
    ms, present_liveness_event, utter, PadScores, Phase, SessionError, SessionUpdate, Utterance,
    UtteranceKind, SESSION_FACE_NOT_CONFIRMED, SESSION_NOT_LIVE, SESSION_POSITIONING_TIMEOUT,
};
use crate::audio::mfcc::MfccConfig;
use crate::audio::stream::MicrophoneStream;
use crate::capture::guide::{Guide, GuidedFrame};
use crate::crypto::sealing::{PublicKey, SealingKey, SigningKeyPair};
use crate::face::observation::FaceObservation;
use crate::identity::person::{PersonName, Subject, SubjectKey, SubjectReference};
use crate::image::frame::Frame;
use crate::liveness::challenge::{DigitChallenge, DigitChallengeConfig, Nonce, RandomSource};
use crate::liveness::digit_verify::TemplateDigitVerifier;
use crate::liveness::sequencer::{
    ChallengeEvidence, DigitCheck, FailReason, LivenessEvent, LivenessSession, PromptMode, Verdict,
    VoiceMatch,
};
use crate::matching::sealed_template::{open_template, open_verified_issued};
use crate::matching::sealed_voice::{open_voice_profile, seal_voice_profile};
use crate::matching::templates::{
    check_enrollment_quality, descriptor_model, FaceTemplate, MatchResult, SampleQuality,
};
use crate::matching::voice_profile::VoiceProfile;
use crate::text::messages::{Language, LIVENESS_RETRY};
use crate::text::result_texts::{result_text, success_sms, ResultText, RetireeCategory};
use image::RgbImage;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Where the digit challenge comes from.
pub enum ChallengeSource {
    /// Drawn on the device from the operating system's secure random generator (production).
    Drawn,
    /// Drawn from the given source (deterministic tests). Retries draw from it too. The
    /// signed result says `challenge_origin: "seeded"`, which the authority refuses by
    /// default: a known seed gives known digits.
    Seeded(Box<dyn RandomSource + Send + Sync>),
    /// Supplied from outside, **for replaying recorded sessions** whose digits are known
    /// (tools and tests). The signed result records that the challenge was supplied.
    Supplied(DigitChallenge),
}

impl std::fmt::Debug for ChallengeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Drawn => f.write_str("Drawn"),
            Self::Seeded(_) => f.write_str("Seeded"),
            Self::Supplied(c) => f.debug_tuple("Supplied").field(&c.digits).finish(),
        }
    }
}

/// The face template the live face is matched against.
#[derive(Debug)]
pub enum TemplateInput {
    /// A template issued and signed by the pension authority, sealed for this device
    /// ([`crate::matching::sealed_template::seal_issued`]); trusted only under the pinned authority key.
    Issued {
        /// The sealed bytes.
        sealed: Vec<u8>,
        /// The authority's public key, pinned in the app.
        authority: PublicKey,
    },
    /// A template enrolled on this device and sealed with its key
    /// ([`crate::matching::sealed_template::seal_template`]).
    Device {
        /// The sealed bytes.
        sealed: Vec<u8>,
    },
}

/// Everything a certification needs besides the keys.
#[derive(Debug)]
pub struct CertificationRequest {
    /// The retiree's name as typed (checked: CJK, the minority-name middle dot, or Latin).
    pub name: String,
    /// The retiree's resident ID number as typed (checked: GB 11643).
    pub id_number: String,
    /// The retiree in person, or a relative or carer (the retiree's face is still the one
    /// certified).
    pub performed_by: PerformedBy,
    /// The enrolled face template.
    pub template: TemplateInput,
    /// The person's sealed voice profile ([`crate::matching::sealed_voice`]), when a voice was enrolled:
    /// the answer's voice is compared with the enrolled voice, and with digit templates the
    /// spoken digits are verified one by one. Without it the evidence says the voice was not
    /// checked and the digits were only counted.
    /// spoken digits are then verified one by one.
    pub voice_templates: Option<Vec<u8>>,
    /// The nonce the authority's server issued for this session.
    pub server_nonce: Nonce,
    /// The certification year.
    pub certification_year: u16,
    /// Where the retiree lives relative to the paying province: the success text and SMS
    /// differ.
    pub retiree_category: RetireeCategory,
    /// Unix seconds at the session's first input (the attestation's time counts on from it
    /// with the session clock).
    pub now_unix: u64,
    /// Certification sessions of this person that already failed today (from the app's
    /// records), for [`CertificationOutcome::NotCertified`]'s `retry_allowed`.
    pub previous_failures: u32,
    /// The language of instructions and prompts.
    pub language: Language,
    /// The digit challenge's source.
    pub challenge: ChallengeSource,
}

/// The keys of a certification: from the platform keystore.
pub struct CertificationKeys {
    /// HMAC key of subject references.
    pub subject: SubjectKey,
    /// AES-256-GCM key the templates are sealed with.
    pub sealing: SealingKey,
    /// The device's Ed25519 key that signs the attestation.
    pub device: SigningKeyPair,
}

impl std::fmt::Debug for CertificationKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificationKeys")
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// Why a certification did not go through.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertificationFailure {
    /// The liveness check failed after its retries.
    Liveness {
        /// The reason of the last attempt.
        reason: FailReason,
    },
    /// The passive anti-spoofing score was too low (a photo or a screen).
    NotLive {
        /// The mean "real" score.
        pad_score: f32,
    },
    /// The live face did not match the template.
    FaceNotConfirmed,
    /// No usable face for the match was seen during the answer.
    NoUsableFace,
    /// The face could not be positioned in time.
    PositioningTimeout,
    /// The result could not be signed (a device-key failure; try again).
    NotSigned,
}

impl CertificationFailure {
    /// Stable snake_case id (`liveness:spoke_too_early`, `not_live`, …).
    pub fn id(&self) -> String {
        match self {
            Self::Liveness { reason } => format!("liveness:{}", reason.id()),
            Self::NotLive { .. } => "not_live".into(),
            Self::FaceNotConfirmed => "face_not_confirmed".into(),
            Self::NoUsableFace => "no_usable_face".into(),
            Self::PositioningTimeout => "positioning_timeout".into(),
            Self::NotSigned => "not_signed".into(),
        }
    }

    /// The message that tells the person what to do.
    pub fn message_id(&self) -> &'static str {
        match self {
            Self::Liveness { reason } => reason.message_id(),
            Self::NotLive { .. } => SESSION_NOT_LIVE,
            Self::FaceNotConfirmed | Self::NoUsableFace => SESSION_FACE_NOT_CONFIRMED,
            Self::PositioningTimeout => SESSION_POSITIONING_TIMEOUT,
            Self::NotSigned => LIVENESS_RETRY,
        }
    }
}

/// A successful certification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certified {
    /// The signed attestation (canonical JSON envelope) to send to the authority.
    pub attestation: String,
    /// The face match.
    pub face_match: MatchResult,
    /// The liveness verdict with its evidence.
    pub liveness: Verdict,
    /// The result-screen text (for the retiree's category, with the year).
    pub result_text: Utterance,
    /// The confirmation SMS the authority will send (for the retiree's category, with the
    /// year and the masked name), to show on the result screen.
    pub sms_text: Utterance,
    /// The voice profile with its reference refreshed by this answer's voice (bounded, see
    /// [`crate::matching::voice_profile`]), sealed: store it in place of the old one. `None`: keep the
    /// old one (no voice enrolled, or the refresh's bounds refused it).
    pub refreshed_voice_profile: Option<Vec<u8>>,
}

/// A certification that did not go through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotCertified {
    /// Why.
    pub failure: CertificationFailure,
    /// What to tell the person about it.
    pub message: Utterance,
    /// Whether another session may be offered now (else: the office).
    pub retry_allowed: bool,
    /// The result-screen text ("try once more" or "the office will help").
    pub result_text: Utterance,
    /// The liveness verdict, when the liveness step ended.
    pub liveness: Option<Verdict>,
    /// The face match, when it was made.
    pub face_match: Option<MatchResult>,
}

/// How a certification ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CertificationOutcome {
    /// Certified: the signed attestation.
    Certified(Box<Certified>),
    /// Not certified: the reason.
    NotCertified(Box<NotCertified>),
}

/// One answer of a [`CertificationSession`].
pub type CertificationUpdate = SessionUpdate<CertificationOutcome>;

/// The frame kept for the match.
struct BestFrame {
    image: RgbImage,
    face: FaceObservation,
    score: f32,
}

/// A running certification (see the module documentation). `Send`.
pub struct CertificationSession {
    engine: Arc<Engine>,
    language: Language,
    subject: SubjectReference,
    performed_by: PerformedBy,
    template: FaceTemplate,
    server_nonce: Nonce,
    year: u16,
    category: RetireeCategory,
    /// The retiree's name, for the SMS (masked there).
    name: PersonName,
    now_unix: u64,
    previous_failures: u32,
    /// Where the first attempt's challenge came from; with `Supplied`, the supplied digits
    /// (a retry's challenge is drawn on the device).
    origin: (ChallengeOrigin, Option<DigitChallenge>),
    keys: CertificationKeys,
    /// The enrolled voice, when given (its reference may be refreshed on success).
    voice: Option<VoiceProfile>,
    frames: Guide,
    audio: MicrophoneStream,
    liveness: LivenessSession,
    phase: Phase,
    first_t: Option<Duration>,
    last_t: Duration,
    liveness_started: bool,
    pad: PadScores,
    best: Option<BestFrame>,
    outcome: Option<CertificationOutcome>,
    progress: f32,
}

impl std::fmt::Debug for CertificationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificationSession")
            .field("phase", &self.phase)
            .field("language", &self.language)
            .field("liveness", &self.liveness)
            .finish_non_exhaustive()
    }
}

impl CertificationSession {
    /// Checks the subject, opens and verifies the template and the voice templates, and
    /// prepares the challenge. Errors: a refused name or ID number
    /// ([`SessionError::Subject`]), a template that is tampered, sealed under another key,
    /// for another subject or model, or not signed by the pinned authority
    /// ([`crate::Error::Template`]), a supplied challenge that is not 1–6 valid digits.
    pub fn new(
        engine: Arc<Engine>,
        request: CertificationRequest,
        keys: CertificationKeys,
    ) -> Result<Self> {
        let _span = tracing::info_span!("certification_session").entered();
        request.performed_by.validate()?;
        let Subject {
            name,
            reference: subject,
        } = Subject::identify(
            &keys.subject,
            &request.name,
            &request.id_number,
            request.now_unix,
        )
        .map_err(SessionError::from)?;
        let model = descriptor_model(engine.analyzer())?;
        let template = match &request.template {
            TemplateInput::Issued { sealed, authority } => {
                open_verified_issued(sealed, &keys.sealing, &subject, &model, authority)?
            }
            TemplateInput::Device { sealed } => {
                open_template(sealed, &keys.sealing, &subject, &model)?
            }
        };
        // The live face is matched after the challenge: load the descriptor meanwhile.
        engine.analyzer().prefetch_descriptor();
        let config = engine.config().liveness.clone();
        let (challenge, rng, origin): (DigitChallenge, Box<dyn RandomSource + Send + Sync>, _) =
            match request.challenge {
                ChallengeSource::Drawn => {
                    let rng = SystemRandom::new();
                    let c = DigitChallenge::generate_with(&DigitChallengeConfig::default(), &rng)
                        .map_err(|e| SessionError::Challenge(e.to_string()))?;
                    (c, Box::new(rng), (ChallengeOrigin::Drawn, None))
                }
                ChallengeSource::Seeded(rng) => {
                    let c = DigitChallenge::generate_with(
                        &DigitChallengeConfig::default(),
                        rng.as_ref(),
                    )
                    .map_err(|e| SessionError::Challenge(e.to_string()))?;
                    (c, rng, (ChallengeOrigin::Seeded, None))
                }
                ChallengeSource::Supplied(c) => {
                    if c.digits.is_empty()
                        || c.digits.len() > crate::liveness::challenge::MAX_DIGITS
                        || !crate::liveness::challenge::is_valid_sequence(&c.digits, false)
                    {
                        return Err(SessionError::Challenge(format!(
                            "{:?}: 1 to 6 digits 0-9, none repeated in a row",
                            c.digits
                        ))
                        .into());
                    }
                    (
                        c.clone(),
                        Box::new(SystemRandom::new()),
                        (ChallengeOrigin::Supplied, Some(c)),
                    )
                }
            };
        let digit_rule = config.digit_templates;
        let mut liveness = LivenessSession::new_digits(challenge, config)?.with_random_source(rng);
        let voice = match &request.voice_templates {
            Some(sealed) => Some(
                open_voice_profile(sealed, &keys.sealing, &subject).map_err(SessionError::from)?,
            ),
            None => None,
        };
        if let Some(digits) = voice.as_ref().and_then(|v| v.digits.as_ref()) {
            let verifier = TemplateDigitVerifier::new(digits, digit_rule)
                .map_err(|e| SessionError::Challenge(format!("voice templates: {e}")))?;
            liveness = liveness.with_digit_verifier(Arc::new(verifier), MfccConfig::default())?;
        }
        if let Some(speaker) = voice.as_ref().and_then(|v| v.speaker.as_ref()) {
            let encoder = engine.speaker()?;
            speaker.check_model(&encoder.model_info().sha256)?;
            liveness = liveness.with_speaker_check(encoder.clone(), speaker.reference.clone());
        }
        let gate = engine.config().session.positioning_gate;
        Ok(Self {
            frames: engine.guide()?,
            audio: MicrophoneStream::new(engine.vad().stream()),
            engine,
            language: request.language,
            subject,
            performed_by: request.performed_by,
            template,
            server_nonce: request.server_nonce,
            year: request.certification_year,
            category: request.retiree_category,
            name,
            now_unix: request.now_unix,
            previous_failures: request.previous_failures,
            origin,
            keys,
            voice,
            liveness,
            phase: if gate {
                Phase::Positioning
            } else {
                Phase::Liveness
            },
            first_t: None,
            last_t: Duration::ZERO,
            liveness_started: !gate,
            pad: PadScores::default(),
            best: None,
            outcome: None,
            progress: 0.0,
        })
    }

    /// The phase the session is in.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<&CertificationOutcome> {
        self.outcome.as_ref()
    }

    /// The current digit challenge (`None` before the prompt is due is not hidden: the
    /// digits are only shown by the update that prompts them).
    pub fn challenge(&self) -> ChallengeEvidence {
        self.liveness.challenge()
    }

    fn update(&self) -> CertificationUpdate {
        let mut u = SessionUpdate::new(self.phase, self.progress);
        u.instruction = self.frames.instruction().map(|i| {
            utter(
                &self.engine,
                self.language,
                i.id(),
                &[],
                UtteranceKind::Instruction,
            )
        });
        u
    }

    /// Refuses input after the end; moves the session clock.
    fn begin(&mut self, t: Duration) -> Result<()> {
        if self.phase == Phase::Finished {
            return Err(SessionError::Finished.into());
        }
        self.last_t = self.last_t.max(t);
        Ok(())
    }

    /// One camera frame at `t` (session clock).
    pub fn push_frame(&mut self, frame: &Frame<'_>, t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let seen = self.frames.push_frame(self.engine.analyzer(), frame, t)?;
        Ok(self.on_frame(seen, t))
    }

    /// One frame already analysed by [`crate::Analyzer::analyze`] (tools that analyse
    /// frames once for several purposes).
    pub fn push_analysis(
        &mut self,
        analysis: crate::face::analyzer::FrameAnalysis,
        t: Duration,
    ) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let seen = self.frames.push_analysis(analysis, t);
        Ok(self.on_frame(seen, t))
    }

    fn on_frame(&mut self, seen: GuidedFrame, t: Duration) -> CertificationUpdate {
        let first = *self.first_t.get_or_insert(t);
        let mut u = self.update();
        u.face = seen
            .primary()
            .map(|i| seen.analysis.faces[i].detection.bbox);
        let cfg = &self.engine.config().session;
        match self.phase {
            Phase::Positioning => {
                if seen.guidance.speak {
                    if let Some(i) = &u.instruction {
                        u.speak.push(i.clone());
                    }
                }
                if seen.guidance.speak_hint {
                    if let Some(h) = seen.guidance.hint {
                        u.speak.push(utter(
                            &self.engine,
                            self.language,
                            h.id(),
                            &[],
                            UtteranceKind::Hint,
                        ));
                    }
                }
                if seen.guidance.instruction.is_ok() {
                    self.phase = Phase::Liveness;
                    self.liveness_started = true;
                    self.progress = 0.2;
                } else if t.saturating_sub(first) >= cfg.positioning_timeout {
                    self.fail(CertificationFailure::PositioningTimeout, None, None, &mut u);
                    return u;
                } else {
                    self.progress = 0.2 * (t.saturating_sub(first).as_secs_f32() / 10.0).min(0.9);
                }
            }
            Phase::Liveness => {}
            _ => return u,
        }
        if self.phase == Phase::Liveness {
            self.score_pad(&seen, t);
            self.keep_best(&seen);
            let events = self.liveness.push_faces(&seen.analysis.faces, t);
            self.on_liveness(events, &mut u);
        }
        u.phase = self.phase;
        u.progress = self.progress;
        u
    }

    /// Microphone audio: 16 kHz mono PCM whose first sample was captured at `t`.
    pub fn push_audio(&mut self, pcm: &[i16], t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let heard = self.audio.push(pcm, t)?;
        let mut u = self.update();
        if self.liveness_started && self.phase == Phase::Liveness {
            let events = self.liveness.push_heard(&heard);
            self.on_liveness(events, &mut u);
        }
        u.phase = self.phase;
        u.progress = self.progress;
        Ok(u)
    }

    /// The shell's text-to-speech began speaking the last prompt.
    pub fn prompt_started(&mut self, t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let mut u = self.update();
        let events = self.liveness.prompt_started(t);
        self.on_liveness(events, &mut u);
        Ok(u)
    }

    /// The shell's text-to-speech finished speaking the last prompt.
    pub fn prompt_finished(&mut self, t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let mut u = self.update();
        let events = self.liveness.prompt_finished(t);
        self.on_liveness(events, &mut u);
        Ok(u)
    }

    /// The time now, when no other input arrives (timeouts).
    pub fn tick(&mut self, t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let mut u = self.update();
        if self.phase == Phase::Positioning {
            let first = *self.first_t.get_or_insert(t);
            if t.saturating_sub(first) >= self.engine.config().session.positioning_timeout {
                self.fail(CertificationFailure::PositioningTimeout, None, None, &mut u);
            }
            return Ok(u);
        }
        let events = self.liveness.tick(t);
        self.on_liveness(events, &mut u);
        Ok(u)
    }

    /// The input has ended (a recording ran out): decides with what has arrived.
    pub fn end_of_input(&mut self, t: Duration) -> Result<CertificationUpdate> {
        self.begin(t)?;
        let mut u = self.update();
        if self.phase == Phase::Positioning {
            self.fail(CertificationFailure::PositioningTimeout, None, None, &mut u);
            return Ok(u);
        }
        let events = self.liveness.end_of_input(t);
        self.on_liveness(events, &mut u);
        Ok(u)
    }

    fn score_pad(&mut self, seen: &GuidedFrame, t: Duration) {
        if let Some(mean) = self.pad.score(&self.engine, seen, t) {
            self.liveness.set_pad_score(mean);
        }
    }

    /// Keeps the frame best suited to the match: one that passes the enrollment quality gate
    /// if any, then the largest, most frontal face.
    fn keep_best(&mut self, seen: &GuidedFrame) {
        let (Some(i), Some(q)) = (
            seen.primary(),
            SampleQuality::from_measurements(&seen.quality),
        ) else {
            return;
        };
        let passes = check_enrollment_quality(&q, &self.engine.config().into()).is_ok();
        let score = if passes { 1000.0 } else { 0.0 } + q.interocular_px.min(200.0)
            - 2.0 * (q.yaw.abs() + q.pitch.abs());
        if !score.is_finite() || self.best.as_ref().is_some_and(|b| b.score >= score) {
            return;
        }
        self.best = Some(BestFrame {
            image: seen.analysis.image.clone(),
            face: seen.analysis.faces[i].clone(),
            score,
        });
    }

    fn on_liveness(&mut self, events: Vec<LivenessEvent>, u: &mut CertificationUpdate) {
        for event in events {
            present_liveness_event(&self.engine, self.language, &event, u);
            match event {
                LivenessEvent::Progress { fraction } => {
                    self.progress = 0.2 + 0.7 * fraction.clamp(0.0, 1.0);
                }
                LivenessEvent::Restart { .. } => self.best = None,
                LivenessEvent::Done(verdict) => self.on_verdict(*verdict, u),
                _ => {}
            }
        }
        u.phase = self.phase;
        u.progress = self.progress;
    }

    fn on_verdict(&mut self, verdict: Verdict, u: &mut CertificationUpdate) {
        if !verdict.passed {
            let reason = verdict.reason.unwrap_or(FailReason::Timeout);
            self.fail(
                CertificationFailure::Liveness { reason },
                Some(verdict),
                None,
                u,
            );
            return;
        }
        if let Some(pad_score) = self.pad.mean() {
            if pad_score < self.engine.config().session.min_pad_score {
                self.fail(
                    CertificationFailure::NotLive { pad_score },
                    Some(verdict),
                    None,
                    u,
                );
                return;
            }
        }
        self.phase = Phase::Matching;
        let Some(best) = self.best.take() else {
            self.fail(CertificationFailure::NoUsableFace, Some(verdict), None, u);
            return;
        };
        let face_match = match self.template.match_face(
            self.engine.analyzer(),
            &best.image,
            &best.face,
            &self.engine.config().matching,
        ) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "the live face could not be described");
                self.fail(CertificationFailure::NoUsableFace, Some(verdict), None, u);
                return;
            }
        };
        if !face_match.accepted {
            self.fail(
                CertificationFailure::FaceNotConfirmed,
                Some(verdict),
                Some(face_match),
                u,
            );
            return;
        }
        match self.attest(&verdict, face_match) {
            Ok(attestation) => {
                let which = ResultText::success(self.category);
                let result_text = Utterance {
                    message_id: which.id().to_owned(),
                    text: result_text(self.engine.messages(), self.language, which, self.year),
                    kind: UtteranceKind::Result,
                };
                let sms_text = Utterance {
                    message_id: self.category.sms_id().to_owned(),
                    text: success_sms(
                        self.engine.messages(),
                        self.language,
                        self.category,
                        self.year,
                        Some(&self.name),
                    ),
                    kind: UtteranceKind::Sms,
                };
                u.speak.push(result_text.clone());
                let refreshed_voice_profile = self.refreshed_voice_profile();
                self.finish(
                    CertificationOutcome::Certified(Box::new(Certified {
                        attestation,
                        face_match,
                        liveness: verdict,
                        result_text,
                        sms_text,
                        refreshed_voice_profile,
                    })),
                    u,
                );
            }
            Err(e) => {
                // Unreachable with valid inputs: the attestation is built from checked values.
                tracing::error!(error = %e, "attestation could not be signed");
                self.fail(
                    CertificationFailure::NotSigned,
                    Some(verdict),
                    Some(face_match),
                    u,
                );
            }
        }
    }

    /// The enrolled voice refreshed with the certified answer's voice, sealed; `None` when
    /// there is no voice, no answer voice, or the refresh's bounds refused it.
    fn refreshed_voice_profile(&self) -> Option<Vec<u8>> {
        let mut profile = self.voice.clone()?;
        let live = self.liveness.answer_voice()?;
        let speaker = profile.speaker.as_mut()?;
        let now = self.now_unix.saturating_add(self.elapsed_secs());
        match speaker.refresh(live, now, &self.engine.config().voice_refresh) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "voice reference not refreshed");
                return None;
            }
        }
        match seal_voice_profile(&profile, &self.keys.sealing, &self.subject) {
            Ok(sealed) => Some(sealed),
            Err(e) => {
                tracing::warn!(error = %e, "refreshed voice profile not sealed");
                None
            }
        }
    }

    /// Whole seconds from the session's first input to its last.
    fn elapsed_secs(&self) -> u64 {
        self.first_t
            .map_or(0, |f| ms(self.last_t.saturating_sub(f)) / 1000)
    }

    fn attest(&self, verdict: &Verdict, face_match: MatchResult) -> Result<String> {
        let ev = &verdict.evidence;
        let ChallengeEvidence::Digits { nonce, digits } = &ev.challenge else {
            return Err(SessionError::Challenge("not a digit challenge".into()).into());
        };
        let challenge = DigitChallenge {
            nonce: *nonce,
            digits: digits.clone(),
        };
        let digit_check = ev.digit_check.unwrap_or(DigitCheck::CountOnly);
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let digits_heard = count(ev.digits.iter().filter(|d| d.start_ms.is_some()).count());
        // Only digits a model or the person's templates accepted count as matched.
        let digits_matched = if digit_check.verifies_content() {
            count(
                ev.digits
                    .iter()
                    .filter(|d| d.accepted == Some(true))
                    .count(),
            )
        } else {
            0
        };
        let challenge_origin = match &self.origin {
            (ChallengeOrigin::Supplied, Some(s)) if *s != challenge => ChallengeOrigin::Drawn,
            (origin, _) => *origin,
        };
        let c = &ev.continuity;
        let face_continuity = if c.frames == 0 {
            0.0
        } else {
            1.0 - c.frames_without_face as f32 / c.frames as f32
        };
        // Every model involved: the face and voice-activity models, and the speaker model
        // when the voice was compared.
        let mut models = self.engine.models();
        if matches!(ev.voice, VoiceMatch::Checked { .. }) {
            models.push(self.engine.speaker()?.model_info().clone());
        }
        let attestation = Attestation {
            version: crate::api::attestation::ATTESTATION_VERSION,
            subject: self.subject,
            performed_by: self.performed_by.clone(),
            certification_year: self.year,
            time: self.now_unix.saturating_add(self.elapsed_secs()),
            server_nonce: self.server_nonce,
            challenge_origin,
            profile: self.engine.config().profile(),
            challenge,
            liveness: LivenessSummary {
                av_sync: ev.av_sync.map_or(0.0, |s| s.correlation.clamp(-1.0, 1.0)),
                digit_check,
                digits_heard,
                digits_matched,
                voice: ev.voice,
                prompt_mode: ev.prompt_mode.unwrap_or(PromptMode::AllAtOnce),
                speech_onset_ms: ev.speech_onset_after_prompt_ms.map_or(0, |v| {
                    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
                }),
                face_continuity: face_continuity.clamp(0.0, 1.0),
                pad_score: ev.pad_score.map(|s| s.clamp(0.0, 1.0)),
            },
            face_match,
            models,
        };
        Ok(sign_attestation(&attestation, &self.keys.device)?)
    }

    fn fail(
        &mut self,
        failure: CertificationFailure,
        liveness: Option<Verdict>,
        face_match: Option<MatchResult>,
        u: &mut CertificationUpdate,
    ) {
        let cfg = &self.engine.config().session;
        let retry_allowed = self.previous_failures + 1 < cfg.max_certification_attempts;
        let message = utter(
            &self.engine,
            self.language,
            failure.message_id(),
            &[],
            UtteranceKind::Notice,
        );
        let which = if retry_allowed {
            ResultText::Retry
        } else {
            ResultText::VisitOffice
        };
        let result_text = Utterance {
            message_id: which.id().to_owned(),
            text: result_text(self.engine.messages(), self.language, which, self.year),
            kind: UtteranceKind::Result,
        };
        u.speak.push(message.clone());
        u.speak.push(result_text.clone());
        tracing::info!(failure = %failure.id(), retry_allowed, "certification not completed");
        self.finish(
            CertificationOutcome::NotCertified(Box::new(NotCertified {
                failure,
                message,
                retry_allowed,
                result_text,
                liveness,
                face_match,
            })),
            u,
        );
    }

    fn finish(&mut self, outcome: CertificationOutcome, u: &mut CertificationUpdate) {
        self.phase = Phase::Finished;
        self.progress = 1.0;
        u.phase = Phase::Finished;
        u.progress = 1.0;
        u.outcome = Some(outcome.clone());
        self.outcome = Some(outcome);
    }
}
