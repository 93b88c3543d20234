//! What the enrollment and certification sessions share: their configuration, the updates
//! they return to the shell, their errors. Camera frames go through
//! [`crate::capture::guide::Guide`] (analysis, quality, positioning guidance), made by
//! [`Engine::guide`]; microphone audio through [`crate::audio::stream`].
//!
//! A session is driven by `push_frame(frame, timestamp)` and `push_audio(pcm, timestamp)`
//! (plus `prompt_started` / `prompt_finished` when the shell's text-to-speech speaks a
//! prompt, and `tick` when nothing else arrives) and answers each call with a
//! [`SessionUpdate`]: the phase, the instruction on screen, what to say now, digits or an
//! action to show, progress, and at the end the outcome. All timing uses the timestamps
//! given (one clock, any epoch); nothing blocks on I/O and nothing reads the wall clock, so
//! a session is deterministic given its inputs and its random source. Sessions are `Send`;
//! share one between threads behind a `Mutex` (the bindings do).

use crate::api::engine::Engine;
use crate::api::error::{Error, Result};
use crate::capture::guide::GuidedFrame;
use crate::image::geometry::Rect;
use crate::liveness::challenge::Action;
use crate::liveness::sequencer::LivenessEvent;
use crate::text::messages::Language;
use crate::text::messages::LIVENESS_RETRY;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use crate::text::ids::{
    ENROL_CONSENT, ENROL_DONE, ENROL_ID_BACK, ENROL_ID_FRONT, ENROL_NOT_FINISHED,
    ENROL_READ_ALL_DIGITS, ENROL_VOICE_RETRY, SESSION_FACE_NOT_CONFIRMED, SESSION_NOT_LIVE,
    SESSION_POSITIONING_TIMEOUT,
};

/// Settings of the enrollment and certification sessions (the liveness step has its own,
/// [`crate::liveness::sequencer::LivenessConfig`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// The liveness step starts only once the positioning guidance says "hold still"
    /// (a usable face for [`crate::capture::guidance::GuidanceConfig::ok_dwell`]). Default `true`;
    /// recordings turn it off (a clip starts at once).
    pub positioning_gate: bool,
    /// Longest positioning before the session gives up. Default 60 s (the guidance's own
    /// hints come at 5 s and 10 s).
    pub positioning_timeout: Duration,
    /// With the passive anti-spoofing models loaded, a mean "real" score below this fails
    /// the session as not live. Default 0.5 (MiniFASNet's decision point; the Silent-Face
    /// samples score live 0.986, print 0.041, tablet replay 0.40).
    pub min_pad_score: f32,
    /// Frames scored by the anti-spoofing models per session. Default 5.
    pub pad_frames: usize,
    /// Shortest time between two scored frames. Default 300 ms.
    pub pad_interval: Duration,
    /// Failed certification sessions after which the person is sent to an office instead
    /// of being offered another try (the count of earlier failures comes with the
    /// request). Default 3.
    pub max_certification_attempts: u32,
    /// Good frames an enrollment keeps (each passes the enrollment quality gate). Default 5;
    /// at least [`crate::matching::templates::MatchingConfig::min_enrollment_frames`].
    #[serde(alias = "enrolment_frames")]
    pub enrollment_frames: usize,
    /// Shortest time between two kept enrollment frames. Default 200 ms (frames a moment
    /// apart average out noise better than consecutive ones).
    #[serde(alias = "enrolment_frame_interval")]
    pub enrollment_frame_interval: Duration,
    /// Longest time the enrollment waits for its good frames after the actions. Default 20 s.
    pub capture_timeout: Duration,
    /// Longest reading of "0 to 9" after the prompt ended. Default 15 s.
    pub voice_answer_window: Duration,
    /// Silence that ends the reading of "0 to 9". Default 1.5 s.
    pub voice_end_silence: Duration,
    /// Readings of "0 to 9" offered before the enrollment goes on without voice templates.
    /// Default 2.
    pub voice_attempts: u32,
    /// Longer side of the frames kept for staff review, pixels. Default 480.
    pub review_frame_side: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            positioning_gate: true,
            positioning_timeout: Duration::from_secs(60),
            min_pad_score: 0.5,
            pad_frames: 5,
            pad_interval: Duration::from_millis(300),
            max_certification_attempts: 3,
            enrollment_frames: 5,
            enrollment_frame_interval: Duration::from_millis(200),
            capture_timeout: Duration::from_secs(20),
            voice_answer_window: Duration::from_secs(15),
            voice_end_silence: Duration::from_millis(1500),
            voice_attempts: 2,
            review_frame_side: 480,
        }
    }
}

impl SessionConfig {
    /// Settings for replaying recordings (tools and tests): no positioning gate, frames
    /// 40 ms apart are enough for an enrollment (a 3-s clip at 25 fps).
    pub fn for_recordings() -> Self {
        Self {
            positioning_gate: false,
            enrollment_frame_interval: Duration::from_millis(40),
            ..Self::default()
        }
    }

    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("session: {what}")));
        if !(0.0..=1.0).contains(&self.min_pad_score) {
            return bad("min_pad_score must be in [0, 1]");
        }
        if self.positioning_timeout.is_zero()
            || self.capture_timeout.is_zero()
            || self.voice_answer_window.is_zero()
        {
            return bad("timeouts must be > 0");
        }
        if self.enrollment_frames == 0 || self.enrollment_frames > 10 {
            return bad("enrollment_frames must be 1..=10");
        }
        if !(64..=4096).contains(&self.review_frame_side) {
            return bad("review_frame_side must be 64..=4096");
        }
        Ok(())
    }
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Enrollment: waiting for the person's consent.
    Consent,
    /// Enrollment: waiting for the ID-card photos (or their skipping).
    IdDocuments,
    /// Bringing the face into the oval, in good light.
    Positioning,
    /// The liveness challenge (spoken digits, or actions at enrollment).
    Liveness,
    /// Enrollment: collecting good frames of the face.
    Capture,
    /// Enrollment: reading the digits 0–9 for the voice templates.
    VoiceDigits,
    /// Certification: matching the live face against the template.
    Matching,
    /// Over: the update carries the outcome.
    Finished,
}

/// What kind of text an [`Utterance`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtteranceKind {
    /// A positioning instruction.
    Instruction,
    /// A hint after a long wait.
    Hint,
    /// A challenge prompt: the shell must report `prompt_started` and `prompt_finished`
    /// for it (the answer is timed from its end).
    Prompt,
    /// A note about an attempt (a retry, a reason).
    Notice,
    /// The final result.
    Result,
    /// The confirmation SMS that will follow (shown on the result screen; the authority
    /// sends it).
    Sms,
}

/// A text to show or speak, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utterance {
    /// Stable message id ([`crate::text::messages`]).
    pub message_id: String,
    /// The rendered text.
    pub text: String,
    /// What it is.
    pub kind: UtteranceKind,
}

/// An action to show (icon or animation) during an action challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPrompt {
    /// The action.
    pub action: Action,
    /// Its 0-based position.
    pub index: usize,
    /// Number of actions.
    pub total: usize,
}

/// The answer to every input of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdate<O> {
    /// The phase after this input.
    pub phase: Phase,
    /// The text on screen now (`None` before the first frame).
    pub instruction: Option<Utterance>,
    /// What to say now, in order (often empty).
    pub speak: Vec<Utterance>,
    /// Digits to show for reading (set when they change).
    pub show_digits: Option<Vec<u8>>,
    /// The action to show (set when it changes).
    pub show_action: Option<ActionPrompt>,
    /// Progress of the whole session, 0..=1.
    pub progress: f32,
    /// The tracked face in the upright frame (frame updates only).
    pub face: Option<Rect>,
    /// The outcome, on the update that finishes the session.
    pub outcome: Option<O>,
}

impl<O> SessionUpdate<O> {
    pub(crate) fn new(phase: Phase, progress: f32) -> Self {
        Self {
            phase,
            instruction: None,
            speak: Vec::new(),
            show_digits: None,
            show_action: None,
            progress,
            face: None,
            outcome: None,
        }
    }
}

/// Errors of the session API (bad calls and bad inputs; a failed liveness check or a
/// face that does not match is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The call does not belong to the current phase (e.g. an ID photo after the
    /// positioning started).
    #[error("{call} is not possible in phase {phase:?}")]
    WrongPhase {
        /// The call.
        call: &'static str,
        /// The phase the session is in.
        phase: Phase,
    },
    /// The session is over.
    #[error("the session is finished")]
    Finished,
    /// An audio chunk was empty or too long.
    #[error("audio chunk of {samples} samples: expected 1..={max} samples of 16 kHz mono PCM")]
    AudioChunk {
        /// Samples given.
        samples: usize,
        /// Largest chunk accepted.
        max: usize,
    },
    /// The subject's name, ID number or the proxy relation was refused.
    #[error("subject: {0}")]
    Subject(#[from] crate::identity::person::IdentityError),
    /// A challenge supplied for a replay was not a valid digit sequence.
    #[error("supplied challenge: {0}")]
    Challenge(String),
    /// Sealing or signing failed (keys, tampered voice templates).
    #[error("sealing: {0}")]
    Sealing(#[from] crate::crypto::sealing::SealError),
}

/// Largest audio chunk accepted by `push_audio`: 10 s.
pub use crate::audio::stream::MAX_AUDIO_CHUNK;

/// Renders message `id` in `lang` (the built-in set is checked to hold every id; a custom
/// set missing one gives the id itself, never a panic).
pub(crate) fn utter(
    engine: &Engine,
    lang: Language,
    id: &str,
    params: &[(&str, &str)],
    kind: UtteranceKind,
) -> Utterance {
    let text = engine
        .messages()
        .render(id, lang, params)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "message could not be rendered");
            id.to_owned()
        });
    Utterance {
        message_id: id.to_owned(),
        text,
        kind,
    }
}

/// The passive anti-spoofing scores of a session: at most
/// [`SessionConfig::pad_frames`] frames, [`SessionConfig::pad_interval`] apart.
#[derive(Debug, Default)]
pub(crate) struct PadScores {
    scores: Vec<f32>,
    last: Option<Duration>,
}

impl PadScores {
    /// Scores the primary face of `seen` when the models are loaded and one is due; returns
    /// the new mean when a score was added.
    pub(crate) fn score(
        &mut self,
        engine: &Engine,
        seen: &GuidedFrame,
        t: Duration,
    ) -> Option<f32> {
        let pad = engine.passive_anti_spoof()?;
        let cfg = &engine.config().session;
        if self.scores.len() >= cfg.pad_frames
            || self
                .last
                .is_some_and(|l| t.saturating_sub(l) < cfg.pad_interval)
        {
            return None;
        }
        let i = seen.primary()?;
        match pad.score(&seen.analysis.image, &seen.analysis.faces[i].detection.bbox) {
            Ok(s) => {
                self.scores.push(s.real);
                self.last = Some(t);
                self.mean()
            }
            Err(e) => {
                tracing::warn!(error = %e, "anti-spoofing score failed on a frame");
                None
            }
        }
    }

    /// The mean score, once there is one.
    pub(crate) fn mean(&self) -> Option<f32> {
        (!self.scores.is_empty())
            .then(|| self.scores.iter().sum::<f32>() / self.scores.len() as f32)
    }
}

/// Puts what the shell must say or show for a liveness event into `u` (prompts, digits,
/// actions, the reason and "let's try again" of a restart). Progress and the verdict are
/// the session's to handle.
pub(crate) fn present_liveness_event<O>(
    engine: &Engine,
    lang: Language,
    event: &LivenessEvent,
    u: &mut SessionUpdate<O>,
) {
    match event {
        LivenessEvent::SpeakPrompt { message_id, params } => {
            let params: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            u.speak.push(utter(
                engine,
                lang,
                message_id,
                &params,
                UtteranceKind::Prompt,
            ));
        }
        LivenessEvent::ShowDigits { digits } => u.show_digits = Some(digits.clone()),
        LivenessEvent::ShowAction {
            action,
            index,
            total,
        } => {
            u.show_action = Some(ActionPrompt {
                action: *action,
                index: *index,
                total: *total,
            });
        }
        LivenessEvent::Restart { reason, .. } => {
            for id in [reason.message_id(), LIVENESS_RETRY] {
                u.speak
                    .push(utter(engine, lang, id, &[], UtteranceKind::Notice));
            }
        }
        LivenessEvent::Progress { .. } | LivenessEvent::Done(_) => {}
    }
}

/// Milliseconds of a session timestamp.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_recording_settings_are_valid() {
        SessionConfig::default().validate().unwrap();
        SessionConfig::for_recordings().validate().unwrap();
        let bad = SessionConfig {
            min_pad_score: 1.5,
            ..SessionConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
