//! The liveness sequencer: a state machine over timestamps that runs a spoken-digit challenge
//! ("please read aloud 2 5 8", Guangdong) or an action challenge (blink, open the mouth, turn
//! the head, nod; Qinghai enrollment) and decides pass or fail with a reason the person can act
//! on, plus an evidence summary for the signed result.
//!
//! lifecert decides everything; the shell only plays prompts and passes frames and audio in.
//!
//! # Inputs (all on one clock the shell chooses: `Duration` since any epoch)
//! * [`LivenessSession::push_face`] / [`LivenessSession::push_faces`]: every analysed camera
//!   frame, with or without a face.
//! * [`LivenessSession::push_voice_activity`]: one speech probability per VAD chunk with its
//!   time span — exactly what [`crate::audio::vad::VadStream`] yields ([`LivenessSession::push_vad_frames`]
//!   maps its [`crate::audio::vad::VadFrame`]s, whose times count from the stream start).
//! * [`LivenessSession::push_audio`]: the same microphone audio as 16 kHz mono PCM (for the
//!   mouth/voice synchrony and, with voice templates, digit verification).
//! * [`LivenessSession::prompt_started`] / [`LivenessSession::prompt_finished`]: when the
//!   shell's text-to-speech began and finished speaking the last [`LivenessEvent::SpeakPrompt`].
//! * [`LivenessSession::tick`]: the current time, when nothing else arrives (timeouts).
//!
//! Every input returns the [`LivenessEvent`]s the shell acts on: speak a prompt, show the
//! digits or the action, show progress, announce a restart, or the final [`Verdict`].
//!
//! # The digit challenge
//! 1. **Wait for the face**: a face must be seen continuously for
//!    [`LivenessConfig::face_settle`] (0.5 s); after [`LivenessConfig::stage_timeout`] (7 s)
//!    without one the attempt fails with [`FailReason::NoFace`].
//! 2. **Prompt**: [`LivenessEvent::SpeakPrompt`] (`prompt_read_digits`, digits separated by
//!    spaces) and [`LivenessEvent::ShowDigits`]. Speech that *begins* between the start of the
//!    prompt (as reported by [`LivenessSession::prompt_started`]; without that report only
//!    speech still running at the prompt's end counts) and its end (plus
//!    [`LivenessConfig::speech_grace`], default 0) fails the attempt
//!    with [`FailReason::SpokeTooEarly`], at once: a replay cannot know the digits in advance,
//!    so an answer that starts before the digits were heard is not evidence of a live person.
//!    Speech that ended before the prompt began (a conversation in the room) is ignored.
//!    **The shell must record with acoustic echo cancellation** (Android
//!    `VOICE_COMMUNICATION` / `AcousticEchoCanceler`, iOS `.voiceChat`), or the phone's own
//!    prompt would be heard as speech.
//! 3. **Answer**: speech must start within [`LivenessConfig::response_window`] (7 s) after the
//!    prompt ended; the answer is complete after [`LivenessConfig::end_silence`] (1.2 s) of
//!    silence, or when the window ends.
//! 4. **Decision**, in this order: no speech after the prompt → [`FailReason::NoSpeech`]; no
//!    audio samples → [`FailReason::NoAudio`]; with voice templates
//!    ([`LivenessSession::with_digit_verifier`]) the expected digits are searched in order
//!    among the speech segments ([`crate::liveness::digit_verify::find_digit_sequence`]) →
//!    [`FailReason::WrongNumberOfDigits`] / [`FailReason::DigitMismatch`]; without templates the
//!    number of segments must be the number of digits (up to
//!    [`LivenessConfig::extra_segments_without_templates`] more, for an "嗯"), each
//!    [`LivenessConfig::min_digit_duration`]–[`LivenessConfig::max_digit_duration`] long (a
//!    longer one with too few segments is [`FailReason::DigitsRunTogether`]) — the evidence
//!    then says `digit_check: "count_only"`; finally the mouth must move with the
//!    voice over the answer (±0.3 s, at least 1.2 s): [`crate::liveness::av_sync::av_sync_score`] and
//!    [`crate::liveness::av_sync::AvSyncConfig::in_sync`] (correlation and aperture spread, both
//!    calibrated on the GRID clips) → otherwise [`FailReason::LipsNotMovingWithVoice`].
//!
//! # The action challenge
//! After the face settles, each action in turn: [`LivenessEvent::SpeakPrompt`] (e.g.
//! `action_turn_left`) and [`LivenessEvent::ShowAction`]. The action counts when the detector
//! of [`crate::liveness::visual_evidence`] reports it *starting after the prompt began*; the head-turn
//! and nod detectors take the pose at the prompt as their start pose. An action that belongs
//! to a **later** step of the challenge (not a blink, which also happens on its own) fails the
//! attempt with [`FailReason::WrongAction`] ([`LivenessConfig::fail_on_wrong_action`]): a
//! looped video showing every action cannot pass a random order. Nothing seen within
//! [`LivenessConfig::stage_timeout`] after the prompt ended → [`FailReason::ActionNotSeen`].
//!
//! # Throughout a prompted attempt
//! The face may not be missing for more than [`LivenessConfig::face_lost_after`] (1 s →
//! [`FailReason::FaceLost`]); the face box may not move faster than
//! [`LivenessConfig::max_face_speed`] nor jump between frames ([`FailReason::FaceMoved`]).
//! A failed attempt is retried — [`LivenessEvent::Restart`] with the reason, then the flow
//! starts over with a fresh challenge ([`LivenessConfig::new_challenge_on_retry`]) — at most
//! [`LivenessConfig::max_retries`] times (3); then [`LivenessEvent::Done`] with the failing
//! verdict. All timing uses the timestamps given (irregular frame intervals give the same
//! result; nothing counts frames).

use crate::audio::buffer::AudioBuffer;
use crate::audio::mfcc::{Mfcc, MfccConfig};
use crate::audio::segments::{speech_spans, SegmentConfig, SpeechSegment, SpeechSpan};
use crate::audio::speaker::{SpeakerEmbedding, SpeakerEncoder, SpeakerError};
use crate::audio::stream::{Heard, VoiceActivity};
use crate::audio::vad::VadFrame;
use crate::face::observation::FaceObservation;
use crate::image::geometry::{Point, Rect};
use crate::liveness::av_sync::{
    score_answer, AnswerSync, AvSyncConfig, AvSyncScore, MouthSample, SyncFailure,
};
use crate::liveness::challenge::{
    Action, ActionChallenge, DigitChallenge, DigitChallengeConfig, Nonce, RandomSource,
};
pub use crate::liveness::digit_verify::DigitCheck;
use crate::liveness::digit_verify::{
    find_digit_sequence, DigitVerifier, SegmentFeatures, SequenceConfig, VerifyConfig,
};
use crate::liveness::visual_evidence::{
    ContinuityStats, ContinuityStep, TurnDirection, VisualEvent, VisualEvidenceConfig,
    VisualTracker,
};
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A liveness setting (or a challenge given to a session) is outside its documented range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct LivenessConfigError(pub String);

pub use crate::text::ids::{
    ACTION_BLINK, ACTION_NOD, ACTION_OPEN_MOUTH, ACTION_TURN_LEFT, ACTION_TURN_RIGHT,
};

/// Message id of the prompt for `action`.
pub fn action_message_id(action: Action) -> &'static str {
    match action {
        Action::Blink => ACTION_BLINK,
        Action::OpenMouth => ACTION_OPEN_MOUTH,
        Action::TurnLeft => ACTION_TURN_LEFT,
        Action::TurnRight => ACTION_TURN_RIGHT,
        Action::Nod => ACTION_NOD,
    }
}

/// Every threshold and timing of the liveness flow (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LivenessConfig {
    /// A face must be seen continuously this long before the first prompt. Default 500 ms.
    pub face_settle: Duration,
    /// Longest wait for the face, and for an action after its prompt ended. Default 7 s (a
    /// stage "times out after about 7 s of wall-clock time, then offers a retry").
    pub stage_timeout: Duration,
    /// Longest time from a [`LivenessEvent::SpeakPrompt`] to
    /// [`LivenessSession::prompt_finished`]. Default 15 s (six digits spoken slowly take
    /// ≈ 6 s).
    pub prompt_timeout: Duration,
    /// After the prompt ended, speech must start and the answer be complete within this.
    /// Default 7 s.
    pub response_window: Duration,
    /// Silence after the last speech that completes the answer. Default 1.2 s (longer than a
    /// pause between digits, which is 0.2–0.6 s).
    pub end_silence: Duration,
    /// Speech may begin this long before the prompt's end without counting as too early.
    /// Default 0.
    pub speech_grace: Duration,
    /// The attempt restarts when the face is missing for longer than this. Default 1 s.
    pub face_lost_after: Duration,
    /// Largest speed of the face-box centre, box widths per second, measured over ≈ 300 ms.
    /// Default 1.5 (on the LivePortrait clips, with head turns and tilts, the box moved at
    /// most 0.57 widths/s).
    pub max_face_speed: f32,
    /// Retries after a failed attempt. Default 3.
    pub max_retries: u32,
    /// Draw a new challenge for every retry. Default `true`.
    pub new_challenge_on_retry: bool,
    /// An action of a later step seen before the expected one fails the attempt. Default
    /// `true`.
    pub fail_on_wrong_action: bool,
    /// Audio/mouth synchrony of the answer, digit by digit, and what counts as "in sync"
    /// ([`AvSyncConfig::judge`]: the mouth moves (aperture spread ≥ 0.03), the digits pooled at
    /// one lag correlate ≥ 0.35, at most one digit below 0.15, the mouth at rest in the pauses;
    /// calibrated on spliced GRID answers and their dubs, see [`crate::liveness::av_sync`]).
    pub av_sync: AvSyncConfig,
    /// Speech segmentation of the VAD probabilities.
    pub segments: SegmentConfig,
    /// Digit search with voice templates.
    pub sequence: SequenceConfig,
    /// How each digit is verified against the person's own templates (closed-set ratio and
    /// the open-set bounds that refuse other words).
    pub digit_templates: VerifyConfig,
    /// Shortest speech segment taken as one digit. Default 120 ms.
    pub min_digit_duration: Duration,
    /// Longest speech segment taken as one digit. Default 1.2 s.
    pub max_digit_duration: Duration,
    /// Without voice templates, this many segments beyond the number of digits are
    /// tolerated. Default 1.
    pub extra_segments_without_templates: usize,
    /// Sample rate of [`LivenessSession::push_audio`]. Default 16 000 Hz.
    pub sample_rate: u32,
    /// How long decisions that need audio wait for it to catch up with the video. Default
    /// 1 s.
    pub max_audio_lag: Duration,
    /// The action detectors.
    pub visual: VisualEvidenceConfig,
    /// How the digits are prompted. Default [`PromptMode::AllAtOnce`].
    pub prompt_mode: PromptMode,
    /// [`PromptMode::OneAtATime`]: each digit's answer must start within this after its
    /// prompt ended. Default 3 s (an elderly reader's reaction plus a moment's doubt).
    pub digit_response_window: Duration,
    /// [`PromptMode::OneAtATime`]: silence that completes one digit's answer. Default 500 ms.
    pub digit_end_silence: Duration,
    /// [`PromptMode::OneAtATime`]: shortest random pause between an answer and the next
    /// prompt. Default 400 ms.
    pub digit_pause_min: Duration,
    /// [`PromptMode::OneAtATime`]: longest random pause. Default 1.6 s (drawn uniformly from
    /// the device's secure random generator: a recording cannot know when the next digit
    /// comes).
    pub digit_pause_max: Duration,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            face_settle: Duration::from_millis(500),
            stage_timeout: Duration::from_secs(7),
            prompt_timeout: Duration::from_secs(15),
            response_window: Duration::from_secs(7),
            end_silence: Duration::from_millis(1200),
            speech_grace: Duration::ZERO,
            face_lost_after: Duration::from_secs(1),
            max_face_speed: 1.5,
            max_retries: 3,
            new_challenge_on_retry: true,
            fail_on_wrong_action: true,
            av_sync: AvSyncConfig::default(),
            segments: SegmentConfig::default(),
            sequence: SequenceConfig::default(),
            digit_templates: VerifyConfig::default(),
            min_digit_duration: Duration::from_millis(120),
            max_digit_duration: Duration::from_millis(1200),
            extra_segments_without_templates: 1,
            sample_rate: crate::audio::vad::SAMPLE_RATE_HZ,
            max_audio_lag: Duration::from_secs(1),
            visual: VisualEvidenceConfig::default(),
            prompt_mode: PromptMode::AllAtOnce,
            digit_response_window: Duration::from_secs(3),
            digit_end_silence: Duration::from_millis(500),
            digit_pause_min: Duration::from_millis(400),
            digit_pause_max: Duration::from_millis(1600),
        }
    }
}

impl LivenessConfig {
    /// Settings for replaying a **recorded** session against a known challenge (tools and
    /// tests; never for a live certification): the face settles after 200 ms (a clip starts
    /// with the face in view), one attempt (a recording cannot retry), and without voice
    /// templates the answer may be a whole sentence that contains the digits (a GRID
    /// sentence "bin blue at f two now" holds one digit): speech segments up to 3 s and up to
    /// 6 extra segments. What remains checked is what a recording can show — speech that
    /// starts after the prompt, lips moving with the voice, one steady face.
    pub fn for_recordings() -> Self {
        Self {
            face_settle: Duration::from_millis(200),
            max_retries: 0,
            max_digit_duration: Duration::from_secs(3),
            extra_segments_without_templates: 6,
            ..Self::default()
        }
    }

    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<(), LivenessConfigError> {
        let bad = |what: &str| Err(LivenessConfigError(format!("liveness: {what}")));
        if self.stage_timeout.is_zero()
            || self.prompt_timeout.is_zero()
            || self.response_window.is_zero()
        {
            return bad("stage_timeout, prompt_timeout and response_window must be > 0");
        }
        if let Err(e) = self.digit_templates.validate() {
            return bad(&format!("digit_templates: {e}"));
        }
        if self.min_digit_duration > self.max_digit_duration {
            return bad("min_digit_duration must not exceed max_digit_duration");
        }
        if !(self.max_face_speed.is_finite() && self.max_face_speed > 0.0) {
            return bad("max_face_speed must be > 0");
        }
        self.av_sync
            .validate()
            .map_err(|e| LivenessConfigError(format!("liveness: av_sync: {e}")))?;
        if !(8_000..=48_000).contains(&self.sample_rate) {
            return bad("sample_rate must be 8000..=48000");
        }
        if !(self.segments.chunk_s.is_finite() && self.segments.chunk_s > 0.0) {
            return bad("segments.chunk_s must be > 0");
        }
        if self.max_retries > 10 {
            return bad("max_retries must be at most 10");
        }
        if self.digit_response_window.is_zero() || self.digit_pause_min > self.digit_pause_max {
            return bad("digit_response_window must be > 0 and digit_pause_min <= digit_pause_max");
        }
        if self.digit_pause_max > Duration::from_secs(10) {
            return bad("digit_pause_max must be at most 10 s");
        }
        Ok(())
    }
}

/// Why an attempt did not pass. Each has a stable snake_case id ([`FailReason::id`]) and a
/// message the shell can speak ([`FailReason::message_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// No face appeared before the first prompt. Message `no_face`.
    NoFace,
    /// The face was lost for more than a second. Message `liveness_face_lost`.
    FaceLost,
    /// The face moved too fast or jumped (another face?). Message `liveness_face_moved`.
    FaceMoved,
    /// Speech began before the prompt had finished. Message `liveness_spoke_too_early`.
    SpokeTooEarly,
    /// No speech after the prompt. Message `liveness_no_speech`.
    NoSpeech,
    /// Voice activity arrived but no audio samples (a shell integration fault).
    /// Message `liveness_no_audio`.
    NoAudio,
    /// Not as many spoken digits as asked. Message `liveness_wrong_number_of_digits`.
    WrongNumberOfDigits,
    /// The digits were read as one stretch of speech. Message `liveness_digits_run_together`.
    DigitsRunTogether,
    /// The mouth did not move with the voice. Message `liveness_lips_not_moving`.
    LipsNotMovingWithVoice,
    /// The spoken digits did not match the challenge (voice templates). Message
    /// `liveness_digit_mismatch`.
    DigitMismatch,
    /// A prompt or the answer took too long. Message `liveness_timeout`.
    Timeout,
    /// The requested action was not seen in time. Message `liveness_action_not_seen`.
    ActionNotSeen,
    /// Another action of the challenge came before the requested one. Message
    /// `liveness_action_not_seen`.
    WrongAction,
    /// The answer's voice is not the enrolled person's voice (or too little of it to tell).
    /// Message `liveness_voice_not_confirmed`.
    VoiceNotConfirmed,
    /// The mouth moves, but not in time with the voice digit by digit, or keeps moving in the
    /// pauses between digits (a video with another voice over it). Message
    /// `liveness_lips_not_moving`.
    LipsOutOfSync,
}

impl FailReason {
    /// The stable id (`face_lost`, `spoke_too_early`, …).
    pub fn id(self) -> &'static str {
        match self {
            Self::NoFace => "no_face",
            Self::FaceLost => "face_lost",
            Self::FaceMoved => "face_moved",
            Self::SpokeTooEarly => "spoke_too_early",
            Self::NoSpeech => "no_speech",
            Self::NoAudio => "no_audio",
            Self::WrongNumberOfDigits => "wrong_number_of_digits",
            Self::DigitsRunTogether => "digits_run_together",
            Self::LipsNotMovingWithVoice => "lips_not_moving_with_voice",
            Self::DigitMismatch => "digit_mismatch",
            Self::Timeout => "timeout",
            Self::ActionNotSeen => "action_not_seen",
            Self::WrongAction => "wrong_action",
            Self::VoiceNotConfirmed => "voice_not_confirmed",
            Self::LipsOutOfSync => "lips_out_of_sync",
        }
    }

    /// The id of the message telling the person what to do next.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::NoFace => crate::capture::guidance::Instruction::NoFace.id(),
            Self::FaceLost => "liveness_face_lost",
            Self::FaceMoved => "liveness_face_moved",
            Self::SpokeTooEarly => "liveness_spoke_too_early",
            Self::NoSpeech => "liveness_no_speech",
            Self::NoAudio => "liveness_no_audio",
            Self::WrongNumberOfDigits => "liveness_wrong_number_of_digits",
            Self::DigitsRunTogether => "liveness_digits_run_together",
            Self::LipsNotMovingWithVoice | Self::LipsOutOfSync => "liveness_lips_not_moving",
            Self::DigitMismatch => "liveness_digit_mismatch",
            Self::Timeout => "liveness_timeout",
            Self::ActionNotSeen | Self::WrongAction => "liveness_action_not_seen",
            Self::VoiceNotConfirmed => "liveness_voice_not_confirmed",
        }
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LivenessEvent {
    /// Speak (and show) this message, then report [`LivenessSession::prompt_started`] and
    /// [`LivenessSession::prompt_finished`].
    SpeakPrompt {
        /// Message id ([`crate::text::messages::Messages::render`]).
        message_id: String,
        /// Placeholder values (`("digits", "2 5 8")`).
        params: Vec<(String, String)>,
    },
    /// Show the digits to read (for people who hear poorly).
    ShowDigits {
        /// The digits, in reading order.
        digits: Vec<u8>,
    },
    /// Show the action to perform (icon or animation).
    ShowAction {
        /// The action.
        action: Action,
        /// Its 0-based position in the challenge.
        index: usize,
        /// Number of actions.
        total: usize,
    },
    /// Progress of the current attempt, 0..=1.
    Progress {
        /// Fraction done.
        fraction: f32,
    },
    /// The attempt failed and a new one starts (speak `reason.message_id()` and
    /// [`crate::text::messages::LIVENESS_RETRY`]).
    Restart {
        /// Why.
        reason: FailReason,
        /// 1-based number of the attempt that starts now.
        attempt: u32,
    },
    /// The session is over (boxed: a verdict carries the whole evidence).
    Done(Box<Verdict>),
}

/// How the digits of a challenge are prompted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptMode {
    /// One prompt for all digits ("please read aloud 2 5 8"), shown together (the Guangdong
    /// app's way).
    #[default]
    AllAtOnce,
    /// One prompt per digit ("repeat after me: 2" … a random pause … "5" …); each answer must
    /// start inside its own window after its prompt, which a pre-recorded video cannot follow.
    OneAtATime,
}

impl PromptMode {
    /// The stable id (`all_at_once`, `one_at_a_time`).
    pub fn id(self) -> &'static str {
        match self {
            Self::AllAtOnce => "all_at_once",
            Self::OneAtATime => "one_at_a_time",
        }
    }
}

/// Whether the answer's voice was compared with the person's enrolled voice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VoiceMatch {
    /// No enrolled voice: the voice was not checked.
    NotChecked,
    /// Compared with the enrolled voice ([`crate::audio::speaker`]).
    Checked {
        /// Cosine similarity of the answer's voice to the enrolled voice, in [−1, 1].
        similarity: f32,
        /// The least similarity accepted.
        threshold: f32,
    },
    /// A voice is enrolled but the answer held too little usable speech to compare it with
    /// (the check fails: [`FailReason::VoiceNotConfirmed`]).
    Unusable {
        /// Speech in the answer (ms).
        speech_ms: u64,
    },
}

/// The challenge of an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChallengeEvidence {
    /// Digits to read.
    Digits {
        /// The challenge's nonce.
        nonce: Nonce,
        /// The digits.
        digits: Vec<u8>,
    },
    /// Actions to perform.
    Actions {
        /// The challenge's nonce.
        nonce: Nonce,
        /// The actions in order.
        actions: Vec<Action>,
    },
}

/// One speech segment on the session clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SegmentEvidence {
    /// Start (ms), padding included.
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
}

/// How one expected digit was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitEvidence {
    /// The expected digit.
    pub digit: u8,
    /// Start of the segment taken for it (ms), if any.
    pub start_ms: Option<u64>,
    /// End of that segment (ms).
    pub end_ms: Option<u64>,
    /// Start of the speech relative to the end of the prompt it answers (ms): the one prompt
    /// of [`PromptMode::AllAtOnce`], the digit's own prompt of [`PromptMode::OneAtATime`].
    pub onset_after_prompt_ms: Option<i64>,
    /// With templates: whether the verifier accepted it; without: `None`.
    pub accepted: Option<bool>,
    /// With templates: expected cost over the best other digit's.
    pub ratio: Option<f32>,
    /// With templates: expected cost over the person's distance between different digits
    /// ([`crate::digit_verify::VerifyConfig::max_relative_cost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_cost: Option<f32>,
    /// With templates: the segment's length over the digit's enrollment length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_ratio: Option<f32>,
}

/// One performed action of an action challenge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActionEvidence {
    /// The requested action.
    pub action: Action,
    /// The event that satisfied it.
    pub event: VisualEvent,
}

/// A failed earlier attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptSummary {
    /// 1-based attempt number.
    pub attempt: u32,
    /// Why it failed.
    pub reason: FailReason,
    /// Its challenge.
    pub challenge: ChallengeEvidence,
}

/// What the decision rests on; carried by a signed result. Times are milliseconds on the
/// shell's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessEvidence {
    /// The challenge of the deciding attempt.
    pub challenge: ChallengeEvidence,
    /// 1-based number of the deciding attempt.
    pub attempt: u32,
    /// The earlier, failed attempts.
    pub previous_attempts: Vec<AttemptSummary>,
    /// When the (last) prompt began, as reported by the shell.
    pub prompt_started_ms: Option<u64>,
    /// When the (last) prompt ended.
    pub prompt_finished_ms: Option<u64>,
    /// Start of the first speech after the prompt began, relative to the prompt's end (ms;
    /// negative: spoke before the end).
    pub speech_onset_after_prompt_ms: Option<i64>,
    /// Speech segments of the answer.
    pub speech_segments: Vec<SegmentEvidence>,
    /// Which digit check was made (digit challenges only).
    pub digit_check: Option<DigitCheck>,
    /// How the digits were prompted (digit challenges only).
    pub prompt_mode: Option<PromptMode>,
    /// Whether the answer's voice was compared with the enrolled voice, and how it scored.
    pub voice: VoiceMatch,
    /// Per expected digit (digit challenges only).
    pub digits: Vec<DigitEvidence>,
    /// Audio/mouth synchrony over the answer: the digits pooled at one lag (correlation,
    /// lag, aperture spread).
    pub av_sync: Option<AvSyncScore>,
    /// The synchrony digit by digit and the mouth at rest between digits
    /// ([`crate::liveness::av_sync::score_answer`]).
    pub answer_sync: Option<AnswerSync>,
    /// The synchrony rule the answer failed, with its number, if any.
    pub sync_failure: Option<SyncFailure>,
    /// The performed actions (action challenges).
    pub actions: Vec<ActionEvidence>,
    /// Every blink, turn, nod and mouth opening seen during the attempt.
    pub visual_events: Vec<VisualEvent>,
    /// Face continuity over the attempt.
    pub continuity: ContinuityStats,
    /// Passive presentation-attack score, when the integrator ran one
    /// ([`LivenessSession::set_pad_score`]).
    pub pad_score: Option<f32>,
}

/// The outcome of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the person passed.
    pub passed: bool,
    /// Why not (`None` when passed).
    pub reason: Option<FailReason>,
    /// Number of attempts made.
    pub attempts: u32,
    /// The evidence of the deciding attempt.
    pub evidence: LivenessEvidence,
}

/// Voice templates and the features they were made with.
#[derive(Clone)]
struct VoiceCheck {
    verifier: Arc<dyn DigitVerifier>,
    mfcc: Mfcc,
}

/// The enrolled voice and the encoder that compares the answer's voice with it.
#[derive(Clone)]
struct SpeakerCheck {
    encoder: SpeakerEncoder,
    reference: SpeakerEmbedding,
}

impl std::fmt::Debug for VoiceCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceCheck").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum Challenge {
    Digits(DigitChallenge),
    Actions(ActionChallenge),
}

impl Challenge {
    fn evidence(&self) -> ChallengeEvidence {
        match self {
            Self::Digits(c) => ChallengeEvidence::Digits {
                nonce: c.nonce,
                digits: c.digits.clone(),
            },
            Self::Actions(c) => ChallengeEvidence::Actions {
                nonce: c.nonce,
                actions: c.actions.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Waiting for a settled face.
    AwaitFace,
    /// Digits: prompt requested at the given time, not finished yet.
    Prompt { requested: Duration },
    /// Digits: the prompt ended at the given time; listening.
    Answer { prompt_end: Duration },
    /// Digits, one at a time: a digit was answered; the next prompt comes at `until` (a
    /// random pause).
    Pause { until: Duration },
    /// Actions: step `index`, prompt requested at the given time.
    Act { index: usize, requested: Duration },
    /// Over.
    Finished,
}

/// A speech segment with its onset (first chunk over the threshold), on the session clock.
type Speech = SpeechSpan;

/// One digit answered in [`PromptMode::OneAtATime`]: its prompt and the speech that answered it.
#[derive(Debug, Clone, Copy)]
struct DigitAnswer {
    prompt_end: Duration,
    speech: Speech,
}

/// Largest audio kept per attempt (the oldest goes first).
const MAX_AUDIO: Duration = Duration::from_secs(120);
/// Window of the face-speed estimate.
const SPEED_WINDOW: Duration = Duration::from_millis(300);

/// A running liveness check (see the module documentation).
pub struct LivenessSession {
    config: LivenessConfig,
    challenge: Challenge,
    voice: Option<VoiceCheck>,
    speaker: Option<SpeakerCheck>,
    /// The deciding answer's voice print, when it was compared (private: biometric).
    answer_voice: Option<SpeakerEmbedding>,
    rng: Box<dyn RandomSource + Send + Sync>,
    mirrored: bool,
    stage: Stage,
    /// 0-based attempt number.
    attempt: u32,
    previous: Vec<AttemptSummary>,
    pad_score: Option<f32>,
    now: Option<Duration>,
    // Per attempt.
    attempt_start: Option<Duration>,
    face_since: Option<Duration>,
    last_face: Option<Duration>,
    prompt_started: Option<Duration>,
    prompt_finished: Option<Duration>,
    tracker: VisualTracker,
    visual_events: Vec<VisualEvent>,
    actions_done: Vec<ActionEvidence>,
    motion: VecDeque<(Duration, Point, f32)>,
    last_box: Option<Rect>,
    mouth: Vec<MouthSample>,
    vad: Vec<VoiceActivity>,
    /// The attempt's microphone audio on the session clock.
    audio: AudioBuffer,
    last_progress: f32,
    /// [`PromptMode::OneAtATime`]: the digit being prompted, and the digits answered so far.
    step: usize,
    answered: Vec<DigitAnswer>,
}

impl std::fmt::Debug for LivenessSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivenessSession")
            .field("challenge", &self.challenge)
            .field("stage", &self.stage)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl LivenessSession {
    /// A spoken-digit session for `challenge`.
    pub fn new_digits(
        challenge: DigitChallenge,
        config: LivenessConfig,
    ) -> Result<Self, LivenessConfigError> {
        if challenge.digits.is_empty() || challenge.digits.iter().any(|&d| d > 9) {
            return Err(LivenessConfigError(
                "liveness: a digit challenge needs digits 0..=9".into(),
            ));
        }
        Self::new(Challenge::Digits(challenge), config)
    }

    /// An action session for `challenge`.
    pub fn new_actions(
        challenge: ActionChallenge,
        config: LivenessConfig,
    ) -> Result<Self, LivenessConfigError> {
        if challenge.actions.is_empty() {
            return Err(LivenessConfigError(
                "liveness: an action challenge needs actions".into(),
            ));
        }
        Self::new(Challenge::Actions(challenge), config)
    }

    fn new(challenge: Challenge, config: LivenessConfig) -> Result<Self, LivenessConfigError> {
        config.validate()?;
        Ok(Self {
            tracker: VisualTracker::new(&config.visual, false),
            audio: AudioBuffer::new(config.sample_rate, MAX_AUDIO),
            config,
            challenge,
            voice: None,
            speaker: None,
            answer_voice: None,
            rng: Box::new(SystemRandom::new()),
            mirrored: false,
            stage: Stage::AwaitFace,
            attempt: 0,
            previous: Vec::new(),
            pad_score: None,
            now: None,
            attempt_start: None,
            face_since: None,
            last_face: None,
            prompt_started: None,
            prompt_finished: None,
            visual_events: Vec::new(),
            actions_done: Vec::new(),
            motion: VecDeque::new(),
            last_box: None,
            mouth: Vec::new(),
            vad: Vec::new(),
            last_progress: -1.0,
            step: 0,
            answered: Vec::new(),
        })
    }

    /// Verifies the spoken digits with the person's voice templates: `verifier` compares
    /// features made with `mfcc` (the settings the templates were enrolled with).
    pub fn with_digit_verifier(
        mut self,
        verifier: Arc<dyn DigitVerifier>,
        mfcc: MfccConfig,
    ) -> Result<Self, LivenessConfigError> {
        let mfcc = Mfcc::new(mfcc).map_err(|e| LivenessConfigError(format!("liveness: {e}")))?;
        self.voice = Some(VoiceCheck { verifier, mfcc });
        Ok(self)
    }

    /// Compares the answer's voice with the enrolled voice `reference` (made by the same
    /// `encoder` model): an answer whose voice is not similar enough
    /// ([`crate::audio::speaker::SpeakerConfig::min_similarity`], the encoder's configuration) fails
    /// with [`FailReason::VoiceNotConfirmed`]. Without it the evidence says
    /// [`VoiceMatch::NotChecked`].
    pub fn with_speaker_check(
        mut self,
        encoder: SpeakerEncoder,
        reference: SpeakerEmbedding,
    ) -> Self {
        self.speaker = Some(SpeakerCheck { encoder, reference });
        self
    }

    /// The voice print of the deciding answer, when it was compared with the enrolled voice
    /// (for the bounded refresh of a passed certification; never leaves the core unsealed).
    pub(crate) fn answer_voice(&self) -> Option<&SpeakerEmbedding> {
        self.answer_voice.as_ref()
    }

    /// Declares that the frames are mirrored (selfie preview): head-turn directions are then
    /// read accordingly (see [`crate::liveness::visual_evidence`]).
    pub fn mirrored(mut self, mirrored: bool) -> Self {
        self.mirrored = mirrored;
        self.tracker = VisualTracker::new(&self.config.visual, mirrored);
        self
    }

    /// Replaces the random source used for retry challenges (tests; production keeps the
    /// operating system's).
    pub fn with_random_source(mut self, rng: Box<dyn RandomSource + Send + Sync>) -> Self {
        self.rng = rng;
        self
    }

    /// Records the score of a passive presentation-attack check for the evidence.
    pub fn set_pad_score(&mut self, score: f32) {
        self.pad_score = score.is_finite().then_some(score);
    }

    /// Whether the session is over.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Finished
    }

    /// The current attempt's challenge.
    pub fn challenge(&self) -> ChallengeEvidence {
        self.challenge.evidence()
    }

    // -----------------------------------------------------------------------------------------
    // Inputs

    /// One analysed frame: the tracked face, or `None` when the frame has no face.
    pub fn push_face(&mut self, face: Option<&FaceObservation>, t: Duration) -> Vec<LivenessEvent> {
        let _span = tracing::debug_span!("liveness_frame", t_ms = t.as_millis() as u64).entered();
        let mut out = Vec::new();
        if !self.advance(t) {
            return out;
        }
        let frame = self.tracker.push(t, face);
        if let Some(f) = face {
            self.last_face = Some(t);
            self.face_since.get_or_insert(t);
            let b = f.detection.bbox;
            self.motion.push_back((t, b.center(), b.width.max(1.0)));
            while self
                .motion
                .front()
                .is_some_and(|m| t.saturating_sub(m.0) > SPEED_WINDOW)
                && self.motion.len() > 2
            {
                self.motion.pop_front();
            }
            self.last_box = Some(b);
        } else {
            self.face_since = None;
            self.motion.clear();
        }
        if let Some(s) = frame.sample {
            let t_s = t.as_secs_f64();
            if self.mouth.last().is_none_or(|m| m.t_s < t_s) {
                self.mouth.push(MouthSample {
                    t_s,
                    aperture: s.mouth_aperture,
                });
            }
        }
        self.visual_events.extend(frame.events.iter().copied());
        if self.prompted() {
            if frame.continuity == ContinuityStep::Break {
                self.fail(FailReason::FaceMoved, &mut out);
                return out;
            }
            if self
                .face_speed()
                .is_some_and(|v| v > self.config.max_face_speed)
            {
                self.fail(FailReason::FaceMoved, &mut out);
                return out;
            }
        }
        match self.stage {
            Stage::AwaitFace
                if self
                    .face_since
                    .is_some_and(|s| t.saturating_sub(s) >= self.config.face_settle) =>
            {
                self.start_prompt(t, &mut out);
            }
            Stage::Act { index, requested } => {
                self.check_actions(index, requested, &frame.events, t, &mut out);
            }
            _ => {}
        }
        self.update(&mut out);
        out
    }

    /// One analysed frame with every face found: the face continuing the tracked one (largest
    /// box overlap), else the largest, is used.
    pub fn push_faces(&mut self, faces: &[FaceObservation], t: Duration) -> Vec<LivenessEvent> {
        let pick = match self.last_box {
            Some(last) => faces
                .iter()
                .max_by(|a, b| {
                    last.iou(&a.detection.bbox)
                        .total_cmp(&last.iou(&b.detection.bbox))
                })
                .filter(|f| last.iou(&f.detection.bbox) > 0.0),
            None => None,
        }
        .or_else(|| {
            faces
                .iter()
                .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()))
        });
        self.push_face(pick, t)
    }

    /// One VAD chunk: its speech probability over `start..end`.
    pub fn push_voice_activity(
        &mut self,
        probability: f32,
        start: Duration,
        end: Duration,
    ) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        if !self.advance(end) {
            return out;
        }
        let prob = if probability.is_finite() {
            probability.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if end > start
            && self
                .vad
                .last()
                .is_none_or(|c| start >= c.start + Duration::from_micros(1))
        {
            self.vad.push(VoiceActivity {
                start,
                end,
                probability: prob,
            });
        }
        self.update(&mut out);
        out
    }

    /// The frames of a [`crate::audio::vad::VadStream`] whose audio started at `stream_start` on the
    /// session clock.
    pub fn push_vad_frames(
        &mut self,
        frames: &[VadFrame],
        stream_start: Duration,
    ) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        for f in frames {
            let v = VoiceActivity::from_frame(f, stream_start);
            out.extend(self.push_voice_activity(v.probability, v.start, v.end));
        }
        out
    }

    /// One chunk of the session's microphone ([`crate::audio::stream::MicrophoneStream`]):
    /// its samples, then the VAD chunks they completed.
    pub fn push_heard(&mut self, heard: &Heard) -> Vec<LivenessEvent> {
        let mut out = self.push_audio(&heard.samples, heard.start);
        for v in &heard.activity {
            out.extend(self.push_voice_activity(v.probability, v.start, v.end));
        }
        out
    }

    /// Microphone audio (mono, [`LivenessConfig::sample_rate`], samples in [-1, 1]) whose first
    /// sample was captured at `start`. Gaps are filled with silence; overlaps overwrite.
    pub fn push_audio(&mut self, samples: &[f32], start: Duration) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        let end = start + self.audio.duration_of(samples.len());
        if !self.advance(end) {
            return out;
        }
        self.audio.write(samples, start);
        self.update(&mut out);
        out
    }

    /// The shell's text-to-speech began speaking the last prompt.
    pub fn prompt_started(&mut self, t: Duration) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        if !self.advance(t) {
            return out;
        }
        if matches!(self.stage, Stage::Prompt { .. } | Stage::Act { .. }) {
            self.prompt_started = Some(t);
            self.prompt_finished = None;
        }
        self.update(&mut out);
        out
    }

    /// The shell's text-to-speech finished speaking the last prompt.
    pub fn prompt_finished(&mut self, t: Duration) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        if !self.advance(t) {
            return out;
        }
        match self.stage {
            Stage::Prompt { .. } => {
                self.prompt_finished = Some(t);
                self.stage = Stage::Answer { prompt_end: t };
                self.progress(0.1, &mut out);
            }
            Stage::Act { .. } => self.prompt_finished = Some(t),
            _ => {}
        }
        self.update(&mut out);
        out
    }

    /// The time now, for timeouts when no other input arrives.
    pub fn tick(&mut self, t: Duration) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        if self.advance(t) {
            self.update(&mut out);
        }
        out
    }

    /// The input has ended (a recording ran out, or the shell is closing): decides at once
    /// with what has arrived, without retries. An answer in progress is judged as it stands;
    /// an attempt that never reached its answer fails with the reason of its stage
    /// ([`FailReason::NoFace`] before the prompt, [`FailReason::Timeout`] during it,
    /// [`FailReason::ActionNotSeen`] during an action).
    pub fn end_of_input(&mut self, t: Duration) -> Vec<LivenessEvent> {
        let mut out = Vec::new();
        if !self.advance(t) {
            return out;
        }
        // Nothing more will arrive, so no attempt can follow this one.
        self.config.max_retries = self.attempt;
        self.update(&mut out);
        match self.stage {
            Stage::Finished => {}
            Stage::Answer { prompt_end } => self.decide_digits(prompt_end, &mut out),
            Stage::Pause { .. } => {
                let end = self.answered.last().map_or(t, |a| a.prompt_end);
                self.decide_digits(end, &mut out);
            }
            Stage::AwaitFace => self.fail(FailReason::NoFace, &mut out),
            Stage::Prompt { .. } => self.fail(FailReason::Timeout, &mut out),
            Stage::Act { .. } => self.fail(FailReason::ActionNotSeen, &mut out),
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // State machine

    /// Moves the clock; `false` when the session is over.
    fn advance(&mut self, t: Duration) -> bool {
        if self.stage == Stage::Finished {
            return false;
        }
        self.now = Some(self.now.map_or(t, |n| n.max(t)));
        self.attempt_start.get_or_insert(t);
        true
    }

    fn now(&self) -> Duration {
        self.now.unwrap_or_default()
    }

    fn prompted(&self) -> bool {
        matches!(
            self.stage,
            Stage::Prompt { .. } | Stage::Answer { .. } | Stage::Pause { .. } | Stage::Act { .. }
        )
    }

    fn face_speed(&self) -> Option<f32> {
        let (first, last) = (self.motion.front()?, self.motion.back()?);
        let dt = last.0.saturating_sub(first.0).as_secs_f32();
        if dt < 0.1 {
            return None;
        }
        let width = 0.5 * (first.2 + last.2);
        Some(first.1.distance(last.1) / width / dt)
    }

    /// Timeouts and audio-driven decisions, after any input.
    fn update(&mut self, out: &mut Vec<LivenessEvent>) {
        let now = self.now();
        let c = &self.config;
        if self.prompted()
            && self
                .last_face
                .is_none_or(|f| now.saturating_sub(f) > c.face_lost_after)
        {
            self.fail(FailReason::FaceLost, out);
            return;
        }
        match self.stage {
            Stage::AwaitFace => {
                let start = self.attempt_start.unwrap_or(now);
                if now.saturating_sub(start) >= c.stage_timeout {
                    self.fail(FailReason::NoFace, out);
                }
            }
            Stage::Prompt { requested } => {
                // Speech that began after the prompt began and before it ended: too early.
                // (Until the shell reports the start, what it is still saying, e.g. the retry
                // message, may be answered freely.)
                let early = self.prompt_started.is_some_and(|from| {
                    self.speech()
                        .iter()
                        .any(|s| s.onset >= from || s.end > from)
                });
                if early {
                    self.fail(FailReason::SpokeTooEarly, out);
                } else if now.saturating_sub(requested) >= c.prompt_timeout {
                    self.fail(FailReason::Timeout, out);
                }
            }
            Stage::Answer { prompt_end } => match c.prompt_mode {
                PromptMode::AllAtOnce => self.update_answer(prompt_end, out),
                PromptMode::OneAtATime => self.update_digit_answer(prompt_end, out),
            },
            Stage::Pause { until } => {
                if now >= until {
                    self.step += 1;
                    self.prompt_digit(now, out);
                }
            }
            Stage::Act { requested, .. } => {
                let deadline = match self.prompt_finished {
                    Some(f) => f + c.stage_timeout,
                    None => requested + c.prompt_timeout,
                };
                if now >= deadline {
                    self.fail(FailReason::ActionNotSeen, out);
                }
            }
            Stage::Finished => {}
        }
    }

    fn update_answer(&mut self, prompt_end: Duration, out: &mut Vec<LivenessEvent>) {
        let c = &self.config;
        let now = self.now();
        let from = self.prompt_started.unwrap_or(prompt_end);
        let speech = self.speech();
        let early_limit = prompt_end + c.speech_grace;
        if speech
            .iter()
            .any(|s| s.onset < early_limit && (s.onset >= from || s.end > from))
        {
            self.fail(FailReason::SpokeTooEarly, out);
            return;
        }
        let answer: Vec<&Speech> = speech.iter().filter(|s| s.onset >= early_limit).collect();
        let audio_time = self.vad.last().map_or(Duration::ZERO, |v| v.end);
        let window_end = prompt_end + c.response_window;
        let complete = answer
            .last()
            .is_some_and(|last| !last.open && audio_time >= last.end + c.end_silence);
        let window_over =
            (audio_time >= window_end && now >= window_end) || now >= window_end + c.max_audio_lag;
        if let Challenge::Digits(ch) = &self.challenge {
            let k = ch.digits.len().max(1) as f32;
            let fraction = 0.1 + 0.8 * (answer.len() as f32 / k).min(1.0);
            self.progress(fraction, out);
        }
        if complete || window_over {
            self.decide_digits(prompt_end, out);
        }
    }

    /// Speech segments after the attempt started, with onsets, on the session clock.
    fn speech(&self) -> Vec<Speech> {
        speech_spans(&self.vad, &self.config.segments).unwrap_or_default()
    }

    fn start_prompt(&mut self, t: Duration, out: &mut Vec<LivenessEvent>) {
        match &self.challenge {
            Challenge::Digits(_) if self.config.prompt_mode == PromptMode::OneAtATime => {
                self.step = 0;
                self.answered.clear();
                self.prompt_digit(t, out);
            }
            Challenge::Digits(ch) => {
                let text = ch
                    .digits
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(LivenessEvent::SpeakPrompt {
                    message_id: crate::text::messages::PROMPT_READ_DIGITS.to_string(),
                    params: vec![("digits".to_string(), text)],
                });
                out.push(LivenessEvent::ShowDigits {
                    digits: ch.digits.clone(),
                });
                self.stage = Stage::Prompt { requested: t };
                self.progress(0.0, out);
            }
            Challenge::Actions(_) => self.start_action(0, t, out),
        }
    }

    /// [`PromptMode::OneAtATime`]: prompts digit `self.step`.
    fn prompt_digit(&mut self, t: Duration, out: &mut Vec<LivenessEvent>) {
        let Challenge::Digits(ch) = &self.challenge else {
            return;
        };
        let Some(&digit) = ch.digits.get(self.step) else {
            return;
        };
        let k = ch.digits.len().max(1);
        out.push(LivenessEvent::SpeakPrompt {
            message_id: crate::text::messages::PROMPT_REPEAT_DIGIT.to_string(),
            params: vec![("digit".to_string(), digit.to_string())],
        });
        out.push(LivenessEvent::ShowDigits {
            digits: vec![digit],
        });
        self.prompt_started = None;
        self.prompt_finished = None;
        self.stage = Stage::Prompt { requested: t };
        self.progress(0.9 * self.step as f32 / k as f32, out);
    }

    /// [`PromptMode::OneAtATime`]: listens for the answer to digit `self.step`, whose prompt
    /// ended at `prompt_end`. It must start inside [`LivenessConfig::digit_response_window`]
    /// and end with [`LivenessConfig::digit_end_silence`]; then a random pause, then the next
    /// digit — or the decision after the last.
    fn update_digit_answer(&mut self, prompt_end: Duration, out: &mut Vec<LivenessEvent>) {
        let c = &self.config;
        let now = self.now();
        let from = self.prompt_started.unwrap_or(prompt_end);
        let speech = self.speech();
        let early_limit = prompt_end + c.speech_grace;
        if speech
            .iter()
            .any(|s| s.onset < early_limit && (s.onset >= from || s.end > from))
        {
            self.fail(FailReason::SpokeTooEarly, out);
            return;
        }
        let audio_time = self.vad.last().map_or(Duration::ZERO, |v| v.end);
        let window_end = prompt_end + c.digit_response_window;
        let answer = speech
            .iter()
            .find(|s| s.onset >= early_limit && s.onset <= window_end)
            .copied();
        let Some(answer) = answer else {
            let over = (audio_time >= window_end && now >= window_end)
                || now >= window_end + c.max_audio_lag;
            if over {
                self.fail(FailReason::NoSpeech, out);
            }
            return;
        };
        if answer.end.saturating_sub(answer.start) > c.max_digit_duration {
            // Talking on and on: not one digit after its prompt.
            self.fail(FailReason::DigitsRunTogether, out);
            return;
        }
        if answer.open || audio_time < answer.end + c.digit_end_silence {
            return;
        }
        self.answered.push(DigitAnswer {
            prompt_end,
            speech: answer,
        });
        let k = match &self.challenge {
            Challenge::Digits(ch) => ch.digits.len(),
            Challenge::Actions(_) => 0,
        };
        if self.answered.len() < k {
            let until = now + self.random_pause();
            self.stage = Stage::Pause { until };
            self.progress(0.9 * self.answered.len() as f32 / k.max(1) as f32, out);
        } else {
            self.decide_digits(prompt_end, out);
        }
    }

    /// A pause drawn uniformly from [`LivenessConfig::digit_pause_min`]..=
    /// [`LivenessConfig::digit_pause_max`] with the session's random source (the maximum if
    /// the source fails).
    fn random_pause(&self) -> Duration {
        let (lo, hi) = (self.config.digit_pause_min, self.config.digit_pause_max);
        let span = hi.saturating_sub(lo).as_micros() as u64;
        let mut bytes = [0u8; 8];
        if span == 0 {
            return lo;
        }
        match self.rng.fill(&mut bytes) {
            // A 64-bit draw scaled to the span: the bias is below 2^-40 for spans of seconds.
            Ok(()) => {
                let x = u64::from_le_bytes(bytes);
                let off = ((u128::from(x) * u128::from(span + 1)) >> 64) as u64;
                lo + Duration::from_micros(off)
            }
            Err(e) => {
                tracing::warn!(error = %e, "liveness: random pause not drawn");
                hi
            }
        }
    }

    fn start_action(&mut self, index: usize, t: Duration, out: &mut Vec<LivenessEvent>) {
        let Challenge::Actions(ch) = &self.challenge else {
            return;
        };
        let total = ch.actions.len();
        let action = ch.actions[index];
        out.push(LivenessEvent::SpeakPrompt {
            message_id: action_message_id(action).to_string(),
            params: Vec::new(),
        });
        out.push(LivenessEvent::ShowAction {
            action,
            index,
            total,
        });
        // The pose at the prompt is the start pose of turns and nods.
        self.tracker.turn.reset();
        self.tracker.nod.reset();
        self.prompt_started = None;
        self.prompt_finished = None;
        self.stage = Stage::Act {
            index,
            requested: t,
        };
        self.progress(index as f32 / total as f32, out);
    }

    fn check_actions(
        &mut self,
        index: usize,
        requested: Duration,
        events: &[VisualEvent],
        t: Duration,
        out: &mut Vec<LivenessEvent>,
    ) {
        let Challenge::Actions(ch) = &self.challenge else {
            return;
        };
        let actions = ch.actions.clone();
        let from = requested;
        for e in events {
            if e.start() < from {
                continue;
            }
            let Some(action) = action_of(e) else {
                continue;
            };
            if action == actions[index] {
                self.actions_done.push(ActionEvidence { action, event: *e });
                if index + 1 == actions.len() {
                    self.pass(out);
                } else {
                    self.start_action(index + 1, t, out);
                }
                return;
            }
            if self.config.fail_on_wrong_action
                && action != Action::Blink
                && actions[index + 1..].contains(&action)
            {
                self.fail(FailReason::WrongAction, out);
                return;
            }
        }
    }

    fn progress(&mut self, fraction: f32, out: &mut Vec<LivenessEvent>) {
        let f = fraction.clamp(0.0, 1.0);
        if (f - self.last_progress).abs() > 1e-4 {
            self.last_progress = f;
            out.push(LivenessEvent::Progress { fraction: f });
        }
    }

    // -----------------------------------------------------------------------------------------
    // Decisions

    fn decide_digits(&mut self, prompt_end: Duration, out: &mut Vec<LivenessEvent>) {
        let _span = tracing::debug_span!("liveness_decide_digits").entered();
        let mut ev = self.evidence();
        let mut voice = None;
        let reason = self.judge_digits(prompt_end, &mut ev, &mut voice);
        self.answer_voice = voice;
        match reason {
            None => self.pass_with(ev, out),
            Some(reason) => self.fail_with(reason, ev, out),
        }
    }

    /// Fills the digit evidence and returns the failure reason, if any; puts the answer's
    /// voice print into `voice` when it was compared with the enrolled voice.
    fn judge_digits(
        &self,
        prompt_end: Duration,
        ev: &mut LivenessEvidence,
        voice: &mut Option<SpeakerEmbedding>,
    ) -> Option<FailReason> {
        let c = &self.config;
        let Challenge::Digits(ch) = &self.challenge else {
            return None;
        };
        let early_limit = prompt_end + c.speech_grace;
        let window_end = prompt_end + c.response_window;
        // Each answer segment with the end of the prompt it answers.
        let answered: Vec<(Speech, Duration)> = match c.prompt_mode {
            PromptMode::AllAtOnce => self
                .speech()
                .into_iter()
                .filter(|s| s.onset >= early_limit && s.onset <= window_end)
                .map(|s| (s, prompt_end))
                .collect(),
            PromptMode::OneAtATime => self
                .answered
                .iter()
                .map(|a| (a.speech, a.prompt_end))
                .collect(),
        };
        let answer: Vec<Speech> = answered.iter().map(|(s, _)| *s).collect();
        let onset_ms = |i: usize| {
            answered
                .get(i)
                .map(|(s, p)| s.onset.as_millis() as i64 - p.as_millis() as i64)
        };
        ev.speech_segments = answer
            .iter()
            .map(|s| SegmentEvidence {
                start_ms: ms(s.start),
                end_ms: ms(s.end),
            })
            .collect();
        ev.digit_check = Some(self.digit_check());
        ev.digits = ch
            .digits
            .iter()
            .map(|&d| DigitEvidence {
                digit: d,
                start_ms: None,
                end_ms: None,
                onset_after_prompt_ms: None,
                accepted: None,
                ratio: None,
                relative_cost: None,
                length_ratio: None,
            })
            .collect();
        if answer.is_empty() {
            return Some(FailReason::NoSpeech);
        }
        let (Some(audio_start), false) = (self.audio.origin(), self.audio.is_empty()) else {
            return Some(FailReason::NoAudio);
        };
        let k = ch.digits.len();
        let mut content_failed = false;
        // Each digit's speech on the session clock (s), for the synchrony digit by digit.
        let mut digit_spans: Vec<(f64, f64)> = Vec::new();
        let long = |s: &Speech| s.end.saturating_sub(s.start) > c.max_digit_duration;
        let short = |s: &Speech| s.end.saturating_sub(s.start) < c.min_digit_duration;
        if let Some(voice) = &self.voice {
            let rel = |d: Duration| self.audio.seconds_at(d);
            let spans: Vec<(f32, f32)> =
                answer.iter().map(|s| (rel(s.start), rel(s.end))).collect();
            let Ok(features) = voice.mfcc.compute_segments(self.audio.samples(), &spans) else {
                return Some(FailReason::NoAudio);
            };
            let segments: Vec<SegmentFeatures> = answer
                .iter()
                .zip(features)
                .map(|(s, f)| SegmentFeatures {
                    start_s: s.start.as_secs_f32(),
                    end_s: s.end.as_secs_f32(),
                    features: f,
                })
                .collect();
            let Ok(m) =
                find_digit_sequence(&segments, &ch.digits, voice.verifier.as_ref(), &c.sequence)
            else {
                return Some(FailReason::DigitMismatch);
            };
            for (e, d) in ev.digits.iter_mut().zip(&m.digits) {
                e.start_ms = d.start_s.map(|s| ms(Duration::from_secs_f32(s.max(0.0))));
                e.end_ms = d.end_s.map(|s| ms(Duration::from_secs_f32(s.max(0.0))));
                e.onset_after_prompt_ms = d.segment.and_then(onset_ms);
                e.accepted = Some(d.accepted);
                e.ratio = d.score.as_ref().and_then(|s| s.ratio);
                e.relative_cost = d.score.as_ref().and_then(|s| s.relative_cost);
                e.length_ratio = d.score.as_ref().and_then(|s| s.length_ratio);
            }
            if answer.len() < k && answer.iter().any(long) && !c.sequence.split_segments {
                return Some(FailReason::DigitsRunTogether);
            }
            if m.digits.iter().any(|d| d.segment.is_none())
                || m.extra_segments > c.sequence.max_extra_segments
            {
                return Some(FailReason::WrongNumberOfDigits);
            }
            if !m.passed {
                content_failed = true;
            }
            digit_spans = m
                .digits
                .iter()
                .filter_map(|d| Some((f64::from(d.start_s?), f64::from(d.end_s?))))
                .collect();
        } else {
            for (i, (e, s)) in ev.digits.iter_mut().zip(&answer).enumerate() {
                e.start_ms = Some(ms(s.start));
                e.end_ms = Some(ms(s.end));
                e.onset_after_prompt_ms = onset_ms(i);
            }
            if answer.len() < k {
                return Some(if answer.iter().any(long) {
                    FailReason::DigitsRunTogether
                } else {
                    FailReason::WrongNumberOfDigits
                });
            }
            if answer.len() > k + c.extra_segments_without_templates
                || answer.iter().filter(|s| !short(s) && !long(s)).count() < k
            {
                return Some(FailReason::WrongNumberOfDigits);
            }
        }
        // Every check of the answer is measured (its number goes into the evidence), then the
        // first failure in this order decides: the digits said, the lips moving at all (a
        // photo), the voice (the enrolled person's?), the lips in time with the voice digit by
        // digit and at rest between digits (a dubbed video).
        let voice_ok = self.check_voice(&answer, ev, voice);
        if digit_spans.is_empty() {
            digit_spans = answer
                .iter()
                .map(|s| (s.start.as_secs_f64(), s.end.as_secs_f64()))
                .collect();
        }
        let sync = score_answer(
            &self.mouth,
            self.audio.samples(),
            audio_start.as_secs_f64(),
            c.sample_rate,
            &digit_spans,
            &c.av_sync,
        );
        let sync_failure = match &sync {
            Ok(s) => c.av_sync.judge(s).err(),
            Err(e) => {
                tracing::debug!(error = %e, "liveness: answer synchrony not measured");
                None
            }
        };
        ev.av_sync = sync.as_ref().ok().map(|s| s.whole);
        ev.answer_sync = sync.ok();
        ev.sync_failure = sync_failure.clone();
        if content_failed {
            return Some(FailReason::DigitMismatch);
        }
        if ev.answer_sync.is_none() || matches!(sync_failure, Some(SyncFailure::MouthStill { .. }))
        {
            return Some(FailReason::LipsNotMovingWithVoice);
        }
        if !voice_ok {
            return Some(FailReason::VoiceNotConfirmed);
        }
        if sync_failure.is_some() {
            return Some(FailReason::LipsOutOfSync);
        }
        None
    }

    /// Compares the answer's speech with the enrolled voice, when there is one; records the
    /// result in `ev.voice` and the answer's voice print in `voice`. `false` when the voice is
    /// not confirmed.
    fn check_voice(
        &self,
        answer: &[Speech],
        ev: &mut LivenessEvidence,
        voice: &mut Option<SpeakerEmbedding>,
    ) -> bool {
        let Some(check) = &self.speaker else {
            ev.voice = VoiceMatch::NotChecked;
            return true;
        };
        let _span = tracing::debug_span!("liveness_voice").entered();
        let rel = |d: Duration| self.audio.seconds_at(d);
        let segments: Vec<SpeechSegment> = answer
            .iter()
            .map(|s| SpeechSegment {
                start_s: rel(s.start),
                end_s: rel(s.end).max(rel(s.start)),
            })
            .collect();
        let speech_ms = answer
            .iter()
            .map(|s| ms(s.end.saturating_sub(s.start)))
            .sum();
        match check
            .encoder
            .embed_segments(self.audio.samples(), &segments)
        {
            Ok(e) => {
                let similarity = e.similarity(&check.reference);
                let config = check.encoder.config();
                ev.voice = VoiceMatch::Checked {
                    similarity,
                    threshold: config.min_similarity,
                };
                let accepted = config.accepts(similarity);
                *voice = Some(e);
                accepted
            }
            Err(e) => {
                if !matches!(
                    e,
                    SpeakerError::TooLittleSpeech { .. } | SpeakerError::Silent
                ) {
                    tracing::warn!(error = %e, "liveness: the answer's voice could not be embedded");
                }
                ev.voice = VoiceMatch::Unusable { speech_ms };
                false
            }
        }
    }

    /// How this session checks the spoken digits.
    fn digit_check(&self) -> DigitCheck {
        self.voice
            .as_ref()
            .map_or(DigitCheck::CountOnly, |v| v.verifier.check())
    }

    fn evidence(&self) -> LivenessEvidence {
        let onset = self.prompt_finished.and_then(|end| {
            let from = self.prompt_started.unwrap_or(end);
            self.speech()
                .iter()
                .find(|s| s.onset >= from || s.end > from)
                .map(|s| s.onset.as_millis() as i64 - end.as_millis() as i64)
        });
        LivenessEvidence {
            challenge: self.challenge.evidence(),
            attempt: self.attempt + 1,
            previous_attempts: self.previous.clone(),
            prompt_started_ms: self.prompt_started.map(ms),
            prompt_finished_ms: self.prompt_finished.map(ms),
            speech_onset_after_prompt_ms: onset,
            speech_segments: Vec::new(),
            digit_check: None,
            prompt_mode: matches!(self.challenge, Challenge::Digits(_))
                .then_some(self.config.prompt_mode),
            voice: VoiceMatch::NotChecked,
            digits: Vec::new(),
            av_sync: None,
            answer_sync: None,
            sync_failure: None,
            actions: self.actions_done.clone(),
            visual_events: self.visual_events.clone(),
            continuity: self.tracker.continuity.stats(),
            pad_score: self.pad_score,
        }
    }

    fn pass(&mut self, out: &mut Vec<LivenessEvent>) {
        let ev = self.evidence();
        self.pass_with(ev, out);
    }

    fn pass_with(&mut self, evidence: LivenessEvidence, out: &mut Vec<LivenessEvent>) {
        self.progress(1.0, out);
        self.stage = Stage::Finished;
        tracing::info!(attempt = self.attempt + 1, "liveness passed");
        out.push(LivenessEvent::Done(Box::new(Verdict {
            passed: true,
            reason: None,
            attempts: self.attempt + 1,
            evidence,
        })));
    }

    fn fail(&mut self, reason: FailReason, out: &mut Vec<LivenessEvent>) {
        let mut ev = self.evidence();
        if matches!(self.challenge, Challenge::Digits(_)) {
            ev.digit_check = Some(self.digit_check());
        }
        self.fail_with(reason, ev, out);
    }

    fn fail_with(
        &mut self,
        reason: FailReason,
        evidence: LivenessEvidence,
        out: &mut Vec<LivenessEvent>,
    ) {
        tracing::info!(
            attempt = self.attempt + 1,
            reason = reason.id(),
            "liveness attempt failed"
        );
        if self.attempt >= self.config.max_retries {
            self.stage = Stage::Finished;
            out.push(LivenessEvent::Done(Box::new(Verdict {
                passed: false,
                reason: Some(reason),
                attempts: self.attempt + 1,
                evidence,
            })));
            return;
        }
        self.previous.push(AttemptSummary {
            attempt: self.attempt + 1,
            reason,
            challenge: self.challenge.evidence(),
        });
        self.attempt += 1;
        if self.config.new_challenge_on_retry {
            self.redraw_challenge();
        }
        self.reset_attempt();
        out.push(LivenessEvent::Restart {
            reason,
            attempt: self.attempt + 1,
        });
    }

    fn redraw_challenge(&mut self) {
        let fresh = match &self.challenge {
            Challenge::Digits(c) => DigitChallenge::generate_with(
                &DigitChallengeConfig {
                    length: c.digits.len(),
                    ..DigitChallengeConfig::default()
                },
                self.rng.as_ref(),
            )
            .map(Challenge::Digits),
            Challenge::Actions(c) => ActionChallenge::generate_with(&c.actions, self.rng.as_ref())
                .map(Challenge::Actions),
        };
        match fresh {
            Ok(c) => self.challenge = c,
            // A length outside the generator's range, or a failing random source: keep the
            // challenge (a new nonce is not possible without randomness either).
            Err(e) => tracing::warn!(error = %e, "liveness: retry keeps the same challenge"),
        }
    }

    fn reset_attempt(&mut self) {
        self.stage = Stage::AwaitFace;
        self.attempt_start = Some(self.now());
        self.face_since = None;
        self.prompt_started = None;
        self.prompt_finished = None;
        self.tracker = VisualTracker::new(&self.config.visual, self.mirrored);
        self.visual_events.clear();
        self.actions_done.clear();
        self.motion.clear();
        self.mouth.clear();
        self.vad.clear();
        self.audio.clear();
        self.last_progress = -1.0;
        self.step = 0;
        self.answered.clear();
    }
}

/// The action a visual event performs.
fn action_of(e: &VisualEvent) -> Option<Action> {
    Some(match e {
        VisualEvent::Blink(_) => Action::Blink,
        VisualEvent::MouthOpen(_) => Action::OpenMouth,
        VisualEvent::Nod(_) => Action::Nod,
        VisualEvent::Turn(t) => match t.direction {
            TurnDirection::Left => Action::TurnLeft,
            TurnDirection::Right => Action::TurnRight,
        },
    })
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
