//! [`Session`]: the one set of calls a shell (or a recording replay, or a test) drives every
//! session through. Enrollment and certification implement it with their own methods, so
//! generic drivers (the CLI's replay, the bindings, the test shell) are written once.

use crate::api::certification::{CertificationOutcome, CertificationSession};
use crate::api::enrollment::{EnrollmentOutcome, EnrollmentSession};
use crate::api::error::Result;
use crate::api::session::SessionUpdate;
use crate::face::analyzer::FrameAnalysis;
use crate::image::frame::Frame;
use std::time::Duration;

/// The inputs of a session and its outcome. Times are on the shell's clock (any origin,
/// monotonic); see the sessions' own methods for what each call does.
pub trait Session {
    /// How the session ends.
    type Outcome: Clone;
    /// One camera frame.
    fn push_frame(
        &mut self,
        frame: &Frame<'_>,
        t: Duration,
    ) -> Result<SessionUpdate<Self::Outcome>>;
    /// One camera frame the caller already analysed (replays and tests analyse once).
    fn push_analysis(
        &mut self,
        analysis: FrameAnalysis,
        t: Duration,
    ) -> Result<SessionUpdate<Self::Outcome>>;
    /// Microphone audio (16 kHz mono PCM) whose first sample was captured at `t`.
    fn push_audio(&mut self, pcm: &[i16], t: Duration) -> Result<SessionUpdate<Self::Outcome>>;
    /// The text-to-speech began the last prompt.
    fn prompt_started(&mut self, t: Duration) -> Result<SessionUpdate<Self::Outcome>>;
    /// The text-to-speech finished the last prompt.
    fn prompt_finished(&mut self, t: Duration) -> Result<SessionUpdate<Self::Outcome>>;
    /// The time now, when no other input arrives.
    fn tick(&mut self, t: Duration) -> Result<SessionUpdate<Self::Outcome>>;
    /// No more input will come (a recording ended).
    fn end_of_input(&mut self, t: Duration) -> Result<SessionUpdate<Self::Outcome>>;
    /// The outcome, once the session has ended.
    fn outcome(&self) -> Option<&Self::Outcome>;
}

/// Implements [`Session`] with the type's own methods of the same names.
macro_rules! session_by_own_methods {
    ($session:ty, $outcome:ty) => {
        impl Session for $session {
            type Outcome = $outcome;
            fn push_frame(
                &mut self,
                frame: &Frame<'_>,
                t: Duration,
            ) -> Result<SessionUpdate<$outcome>> {
                <$session>::push_frame(self, frame, t)
            }
            fn push_analysis(
                &mut self,
                analysis: FrameAnalysis,
                t: Duration,
            ) -> Result<SessionUpdate<$outcome>> {
                <$session>::push_analysis(self, analysis, t)
            }
            fn push_audio(&mut self, pcm: &[i16], t: Duration) -> Result<SessionUpdate<$outcome>> {
                <$session>::push_audio(self, pcm, t)
            }
            fn prompt_started(&mut self, t: Duration) -> Result<SessionUpdate<$outcome>> {
                <$session>::prompt_started(self, t)
            }
            fn prompt_finished(&mut self, t: Duration) -> Result<SessionUpdate<$outcome>> {
                <$session>::prompt_finished(self, t)
            }
            fn tick(&mut self, t: Duration) -> Result<SessionUpdate<$outcome>> {
                <$session>::tick(self, t)
            }
            fn end_of_input(&mut self, t: Duration) -> Result<SessionUpdate<$outcome>> {
                <$session>::end_of_input(self, t)
            }
            fn outcome(&self) -> Option<&$outcome> {
                <$session>::outcome(self)
            }
        }
    };
}

session_by_own_methods!(CertificationSession, CertificationOutcome);
session_by_own_methods!(EnrollmentSession, EnrollmentOutcome);
