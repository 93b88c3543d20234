//! What the enrollment and certification sessions share across the boundary: the phase,
//! the texts to show and speak, the action icons, the liveness report, and the lock every
//! session sits behind ([`SessionCell`]). Wrappers only: the sessions themselves are the
//! core's ([`lifecert_core::api::session`]).

use crate::engine::FaceBox;
use crate::error::LifecertError;
use lifecert_core::api::session as core_session;
use lifecert_core::api::session::SessionUpdate;
pub use lifecert_core::api::session::{Phase, UtteranceKind};
pub use lifecert_core::liveness::challenge::Action;
use lifecert_core::liveness::sequencer::{ChallengeEvidence, Verdict, VoiceMatch};
use lifecert_core::Session;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Where a session is.
#[uniffi::remote(Enum)]
#[uniffi(name = "SessionPhase")]
pub enum Phase {
    /// Enrollment: waiting for the person's consent (`give_consent`).
    Consent,
    /// Enrollment: waiting for the ID-card photos (`add_id_document`) or their skipping
    /// (`continue_without_more_documents`).
    IdDocuments,
    /// Bringing the face into the oval, in good light (follow `instruction`).
    Positioning,
    /// The liveness challenge: spoken digits (certification) or actions (enrollment).
    Liveness,
    /// Enrollment: collecting good frames of the face.
    Capture,
    /// Enrollment: reading the digits 0–9 for the voice templates.
    VoiceDigits,
    /// Certification: matching the live face against the template.
    Matching,
    /// Over: the update carries the outcome; every later call is refused.
    Finished,
}

/// What kind of text an [`Utterance`] is.
#[uniffi::remote(Enum)]
pub enum UtteranceKind {
    /// A positioning instruction.
    Instruction,
    /// A hint after a long wait.
    Hint,
    /// A challenge prompt. The shell reports when its text-to-speech starts and finishes
    /// speaking it (`prompt_started`, `prompt_finished`): the answer is timed from its end.
    Prompt,
    /// A note about an attempt (a retry, a reason).
    Notice,
    /// The final result.
    Result,
    /// The confirmation SMS that will follow (the authority sends it).
    Sms,
}

/// A text to show or speak, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Utterance {
    /// Stable snake_case message id (to attach recorded audio or icons), e.g.
    /// `come_closer`, `prompt_read_digits`, `certification_success`.
    pub message_id: String,
    /// The rendered text.
    pub text: String,
    /// What it is.
    pub kind: UtteranceKind,
}

impl From<core_session::Utterance> for Utterance {
    fn from(u: core_session::Utterance) -> Self {
        Utterance {
            message_id: u.message_id,
            text: u.text,
            kind: u.kind,
        }
    }
}

/// A face action the person is asked to perform (enrollment's liveness step).
#[uniffi::remote(Enum)]
pub enum Action {
    /// Close and reopen both eyes.
    Blink,
    /// Open the mouth wide.
    OpenMouth,
    /// Turn the head to the person's left.
    TurnLeft,
    /// Turn the head to the person's right.
    TurnRight,
    /// Nod (pitch down and back up).
    Nod,
}

/// The action to show (icon or animation) during an action challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ActionPrompt {
    /// The action.
    pub action: Action,
    /// Its 0-based position in the challenge.
    pub index: u32,
    /// Number of actions in the challenge.
    pub total: u32,
}

impl From<core_session::ActionPrompt> for ActionPrompt {
    fn from(p: core_session::ActionPrompt) -> Self {
        ActionPrompt {
            action: p.action,
            index: u32::try_from(p.index).unwrap_or(u32::MAX),
            total: u32::try_from(p.total).unwrap_or(u32::MAX),
        }
    }
}

/// The liveness verdict and the figures it rests on, as reported by the core (no
/// judgement of its own).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LivenessReport {
    /// Whether the liveness check passed.
    pub passed: bool,
    /// Why not: the stable id of the reason (`lips_not_moving_with_voice`,
    /// `spoke_too_early`, …); `None` when passed.
    pub failure_id: Option<String>,
    /// Attempts made (a retry after a failed attempt counts).
    pub attempts: u32,
    /// The digits of the deciding attempt's challenge (empty for an action challenge).
    pub digits: Vec<u8>,
    /// The actions of the deciding attempt's challenge, in order (empty for digits).
    pub actions: Vec<Action>,
    /// Expected digits for which a speech segment was found.
    pub digits_heard: u32,
    /// Digits the person's voice templates accepted; `None` without voice templates (then
    /// only the count and timing of the speech were checked).
    pub digits_verified: Option<u32>,
    /// How the digits were checked: `voice_templates`, `speaker_independent_model` or
    /// `count_only`; `None` for an action challenge.
    pub digit_check: Option<String>,
    /// Whether the answer's voice was compared with the enrolled voice.
    pub voice_checked: bool,
    /// Its similarity to the enrolled voice (−1 to 1), when compared.
    pub voice_similarity: Option<f32>,
    /// The synchrony rule the answer failed, with its number (e.g. `answer correlation 0.12
    /// < 0.35`), if any.
    pub sync_failure: Option<String>,
    /// Start of the answer relative to the end of the prompt, milliseconds (negative: the
    /// person spoke before the prompt ended).
    pub speech_onset_ms: Option<i64>,
    /// Audio-visual synchrony (best-lag correlation of speech envelope and mouth
    /// aperture), −1 to 1, when measured.
    pub av_sync: Option<f32>,
    /// Frames seen during the deciding attempt.
    pub frames: u32,
    /// Of those, frames without a face.
    pub frames_without_face: u32,
    /// The mean passive anti-spoofing score (1 = live), when the models are loaded.
    pub pad_score: Option<f32>,
}

impl From<&Verdict> for LivenessReport {
    fn from(v: &Verdict) -> Self {
        let ev = &v.evidence;
        let (digits, actions) = match &ev.challenge {
            ChallengeEvidence::Digits { digits, .. } => (digits.clone(), Vec::new()),
            ChallengeEvidence::Actions { actions, .. } => (Vec::new(), actions.clone()),
        };
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        LivenessReport {
            passed: v.passed,
            failure_id: v.reason.map(|r| r.id().to_owned()),
            attempts: v.attempts,
            digits,
            actions,
            digits_heard: count(ev.digits.iter().filter(|d| d.start_ms.is_some()).count()),
            digits_verified: (ev.digit_check.is_some_and(|c| c.verifies_content())).then(|| {
                count(
                    ev.digits
                        .iter()
                        .filter(|d| d.accepted == Some(true))
                        .count(),
                )
            }),
            digit_check: ev.digit_check.map(|c| c.id().to_owned()),
            voice_checked: matches!(ev.voice, VoiceMatch::Checked { .. }),
            voice_similarity: match ev.voice {
                VoiceMatch::Checked { similarity, .. } => Some(similarity),
                _ => None,
            },
            sync_failure: ev.sync_failure.as_ref().map(ToString::to_string),
            speech_onset_ms: ev.speech_onset_after_prompt_ms,
            av_sync: ev.av_sync.map(|s| s.correlation),
            frames: ev.continuity.frames,
            frames_without_face: ev.continuity.frames_without_face,
            pad_score: ev.pad_score,
        }
    }
}

/// The tracked face's box in the upright frame.
pub(crate) fn face_box(r: lifecert_core::Rect) -> FaceBox {
    FaceBox {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

/// The largest timestamp a session takes, milliseconds: 2⁵³ − 1, the largest integer a
/// double holds exactly (shells that keep time as a `Double` or convert from JavaScript lose
/// nothing below it), about 285 000 years — and far enough from `u64::MAX` that the engine's
/// time arithmetic (windows, deadlines, sample positions) cannot overflow.
pub const MAX_TIMESTAMP_MS: u64 = (1 << 53) - 1;

/// A session timestamp given by the shell (milliseconds of its clock, see
/// [`MAX_TIMESTAMP_MS`]); larger ones are [`LifecertError::BadInput`]. A timestamp earlier
/// than the previous one is not an error: the sessions treat it as equal to the latest.
pub(crate) fn at(timestamp_ms: u64) -> Result<Duration, LifecertError> {
    if timestamp_ms > MAX_TIMESTAMP_MS {
        return Err(LifecertError::bad_input(format!(
            "timestamp {timestamp_ms} ms is beyond the largest accepted ({MAX_TIMESTAMP_MS} ms)"
        )));
    }
    Ok(Duration::from_millis(timestamp_ms))
}

/// A core session behind a lock, so that the foreign side may call it from any thread
/// (calls are taken one after the other).
///
/// A panic inside the core during a call (which uniffi turns into an error for the caller)
/// poisons the lock. Unlike a [`crate::GuidanceSession`], which simply starts over, an
/// enrollment or certification cannot: its state may be half-updated, and a session that
/// signs results must not go on from such a state. Every later call that would change it
/// therefore fails with [`LifecertError::Internal`] ("start a new session") instead of
/// panicking again or deadlocking; read-only calls (`phase`, `outcome`) keep working.
pub(crate) struct SessionCell<S> {
    what: &'static str,
    inner: Mutex<S>,
}

impl<S> SessionCell<S> {
    pub(crate) fn new(what: &'static str, session: S) -> Self {
        SessionCell {
            what,
            inner: Mutex::new(session),
        }
    }

    /// Runs `f` on the session, unless an earlier call broke it.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut S) -> Result<T, LifecertError>,
    ) -> Result<T, LifecertError> {
        let mut session = self.inner.lock().map_err(|_| {
            LifecertError::internal(format!(
                "this {} was interrupted by an internal fault in an earlier call and cannot go \
                 on: start a new session",
                self.what
            ))
        })?;
        f(&mut session)
    }

    /// The session for reading, broken or not.
    pub(crate) fn peek(&self) -> MutexGuard<'_, S> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Session> SessionCell<S> {
    /// One timed input of the session (a frame, audio, a prompt's timing, a tick, the end of
    /// the input) at `timestamp_ms`, through [`Session`]: the update in its FFI form.
    pub(crate) fn input<U>(
        &self,
        timestamp_ms: u64,
        call: impl FnOnce(&mut S, Duration) -> lifecert_core::Result<SessionUpdate<S::Outcome>>,
    ) -> Result<U, LifecertError>
    where
        U: From<SessionUpdate<S::Outcome>>,
    {
        self.with(|s| Ok(call(s, at(timestamp_ms)?)?.into()))
    }

    /// The outcome in its FFI form, once the session is finished (readable even after an
    /// internal fault).
    pub(crate) fn outcome<O: From<S::Outcome>>(&self) -> Option<O> {
        Session::outcome(&*self.peek()).cloned().map(O::from)
    }
}

/// The calls every session takes, exported once for both (`$session` has the fields
/// `session: SessionCell<core session>` and `language: Language`; `$update` and `$outcome`
/// are its FFI update and outcome, `$name` names its tracing spans). uniffi needs a
/// concrete `#[uniffi::export] impl` block per object, so this macro writes them; the calls
/// themselves go through [`Session`] and [`SessionCell::input`], so the enrollment and the
/// certification cannot drift apart.
macro_rules! export_session_calls {
    ($session:ident, $update:ident, $outcome:ident, $name:literal) => {
        #[uniffi::export]
        impl $session {
            /// One camera frame captured at `timestamp_ms`. The frame's bytes are copied
            /// across the boundary; `push_frame_bytes` borrows them instead.
            ///
            /// Errors: [`LifecertError::BadInput`] for a malformed frame, in a phase that
            /// takes no frames (an enrollment's consent and ID-photo phases) or after the end.
            pub fn push_frame(
                &self,
                frame: $crate::frame::FrameInput,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                let _span =
                    tracing::debug_span!(concat!("ffi_", $name, "_frame"), timestamp_ms).entered();
                let frame = frame.to_core()?;
                self.session.input(timestamp_ms, |s, t| {
                    lifecert_core::Session::push_frame(s, &frame, t)
                })
            }

            /// One camera frame captured at `timestamp_ms`, its pixels in `data` as
            /// described by `layout`. The bytes are read in place, not copied (Kotlin: a
            /// *direct* `java.nio.ByteBuffer`, e.g. CameraX's plane buffer; Swift: `Data`;
            /// Python: `bytes`); they must not change during the call.
            ///
            /// Errors: as `push_frame`.
            pub fn push_frame_bytes(
                &self,
                data: &[u8],
                layout: $crate::frame::FrameLayout,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                let _span =
                    tracing::debug_span!(concat!("ffi_", $name, "_frame"), timestamp_ms).entered();
                let frame = layout.frame(data)?;
                self.session.input(timestamp_ms, |s, t| {
                    lifecert_core::Session::push_frame(s, &frame, t)
                })
            }

            /// Microphone audio: 16 kHz mono 16-bit PCM whose first sample was captured at
            /// `timestamp_ms`, in chunks of any size (20–40 ms is typical; at most 10 s).
            ///
            /// Errors: [`LifecertError::BadInput`] for an empty or too long chunk, in a phase
            /// that takes no audio (an enrollment's consent and ID-photo phases) or after the
            /// end.
            pub fn push_audio(
                &self,
                pcm: Vec<i16>,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                let _span =
                    tracing::trace_span!(concat!("ffi_", $name, "_audio"), timestamp_ms).entered();
                self.session.input(timestamp_ms, |s, t| {
                    lifecert_core::Session::push_audio(s, &pcm, t)
                })
            }

            /// The shell's text-to-speech began speaking the last prompt, at `timestamp_ms`.
            ///
            /// Errors: [`LifecertError::BadInput`] after the end (an enrollment: outside its
            /// liveness and voice phases).
            pub fn prompt_started(
                &self,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                self.session
                    .input(timestamp_ms, lifecert_core::Session::prompt_started)
            }

            /// The shell's text-to-speech finished speaking the last prompt, at
            /// `timestamp_ms`: the answer is timed from here.
            ///
            /// Errors: [`LifecertError::BadInput`] after the end (an enrollment: outside its
            /// liveness and voice phases).
            pub fn prompt_finished(
                &self,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                self.session
                    .input(timestamp_ms, lifecert_core::Session::prompt_finished)
            }

            /// The time now, when no frame or audio arrives (lets timeouts fire).
            ///
            /// Errors: [`LifecertError::BadInput`] after the end (an enrollment: also before
            /// its face phases).
            pub fn tick(&self, timestamp_ms: u64) -> Result<$update, $crate::error::LifecertError> {
                self.session
                    .input(timestamp_ms, lifecert_core::Session::tick)
            }

            /// The input has ended (a recording ran out, the camera closed): decides with
            /// what has arrived.
            ///
            /// Errors: [`LifecertError::BadInput`] after the end (an enrollment: also before
            /// its face phases).
            pub fn end_of_input(
                &self,
                timestamp_ms: u64,
            ) -> Result<$update, $crate::error::LifecertError> {
                self.session
                    .input(timestamp_ms, lifecert_core::Session::end_of_input)
            }

            /// The phase the session is in.
            pub fn phase(&self) -> $crate::session::Phase {
                self.session.peek().phase()
            }

            /// The outcome, once the session is finished.
            pub fn outcome(&self) -> Option<$outcome> {
                self.session.outcome()
            }

            /// The BCP-47 tag of the session's language (`zh-Hans`, `zh-Hant` or `en`).
            pub fn language(&self) -> String {
                self.language.tag().to_owned()
            }
        }
    };
}
pub(crate) use export_session_calls;

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn a_session_broken_by_a_panic_refuses_further_changes_but_can_be_read() {
        let cell = SessionCell::new("test session", 1u32);
        assert_eq!(
            cell.with(|n| {
                *n += 1;
                Ok(*n)
            }),
            Ok(2)
        );
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            cell.with(|n| -> Result<(), LifecertError> {
                *n = 99;
                panic!("a fault inside the core")
            })
        }));
        assert!(panicked.is_err());
        match cell.with(|n| Ok(*n)) {
            Err(LifecertError::Internal { reason }) => {
                assert!(reason.contains("start a new session"), "{reason}")
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        assert_eq!(*cell.peek(), 99, "still readable");
    }
}
