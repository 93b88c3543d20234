//! Replaying a recording into an enrollment or certification session, as a phone's shell
//! would feed it live: every video frame at its timestamp, the audio in 40 ms chunks
//! interleaved by time, the spoken prompts reported started and finished, and at the end
//! `end_of_input`. Along the way it keeps what a [`crate::report::Report`] shows: a few
//! frames with the face box and lips, the instructions as they changed, the mouth aperture,
//! and when the prompt played.
//!
//! Each frame is analysed once here and handed to the session with `push_analysis`, so the
//! report sees the same faces the session judged.
//!
//! A recording cannot hear the prompt. How its end is reported is the caller's choice
//! ([`PromptTiming`]): a known end for replaying a recording against the challenge it
//! contains, or the time a phone's text-to-speech would need to say it — which a
//! recording that is already talking cannot wait for.

use crate::media::{MediaError, VideoFrame};
use crate::report::{ReportFrame, THUMBNAIL_SIDE};
use lifecert_core::api::session::{SessionUpdate, Utterance, UtteranceKind};
use lifecert_core::face::analyzer::FrameAnalysis;
use lifecert_core::face::landmarks::contours::LIPS_OUTER;
use lifecert_core::{Analyzer, Frame, Session};
use std::time::Duration;
use thiserror::Error;

/// Samples per audio chunk (40 ms at 16 kHz).
const AUDIO_CHUNK: usize = 640;
/// Time between frames kept for the report.
const REPORT_FRAME_EVERY: Duration = Duration::from_millis(500);
/// What can go wrong while replaying.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The recording could not be decoded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The engine refused an input or failed.
    #[error(transparent)]
    Engine(#[from] lifecert_core::Error),
    /// The recording ended and the session still had no outcome (a bug: `end_of_input`
    /// always decides).
    #[error("the session gave no outcome")]
    NoOutcome,
}

/// How the end of each spoken prompt is reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PromptTiming {
    /// The prompt ended at this time of the recording (replays against a known challenge).
    EndsAt(Duration),
    /// The prompt takes as long as a phone would need to say it: 1.5 s plus 0.6 s per
    /// digit shown.
    Spoken,
}

impl PromptTiming {
    fn end(&self, asked: Duration, digits: usize) -> Duration {
        match *self {
            Self::EndsAt(e) => e.max(asked),
            Self::Spoken => asked + Duration::from_millis(1500 + 600 * digits as u64),
        }
    }
}

/// Something that happened during the replay, for the command to print.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayEvent {
    /// The session says this (the phone would speak it).
    Said {
        /// Time in the recording.
        t: Duration,
        /// The text.
        utterance: Utterance,
    },
    /// Digits are shown for reading.
    ShowDigits {
        /// Time in the recording.
        t: Duration,
        /// The digits.
        digits: Vec<u8>,
    },
    /// Progress through the recording.
    Progress {
        /// Time reached.
        t: Duration,
        /// Length of the recording, when known.
        total: Option<Duration>,
    },
}

/// What the report needs from the replay.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Frames kept (every 0.5 s), downscaled, with box and lips.
    pub frames: Vec<ReportFrame>,
    /// Each instruction with the time it appeared.
    pub instructions: Vec<(f32, String)>,
    /// Mouth aperture per frame with a face.
    pub mouth_aperture: Vec<(f32, f32)>,
    /// When the (last) prompt played.
    pub prompt_window: Option<(f32, f32)>,
    /// Frames pushed.
    pub frames_pushed: usize,
}

/// The replay state between inputs.
struct Replay<'a, S: Session> {
    session: &'a mut S,
    timing: PromptTiming,
    on_event: &'a mut dyn FnMut(ReplayEvent),
    timeline: Timeline,
    prompt_end: Option<Duration>,
    last_instruction: Option<String>,
    last_report_frame: Option<Duration>,
    shown_digits: usize,
}

fn secs(t: Duration) -> f32 {
    t.as_secs_f32()
}

impl<S: Session> Replay<'_, S> {
    /// Acts on an update: prints what is said, reports prompts.
    fn take(&mut self, u: SessionUpdate<S::Outcome>, t: Duration) -> lifecert_core::Result<()> {
        if let Some(i) = &u.instruction {
            if self.last_instruction.as_deref() != Some(i.text.as_str()) {
                self.timeline.instructions.push((secs(t), i.text.clone()));
                self.last_instruction = Some(i.text.clone());
            }
        }
        if let Some(d) = &u.show_digits {
            self.shown_digits = d.len();
            (self.on_event)(ReplayEvent::ShowDigits {
                t,
                digits: d.clone(),
            });
        }
        let mut prompted = false;
        for s in &u.speak {
            (self.on_event)(ReplayEvent::Said {
                t,
                utterance: s.clone(),
            });
            prompted |= s.kind == UtteranceKind::Prompt;
        }
        if prompted && self.session.outcome().is_none() {
            let end = self.timing.end(t, self.shown_digits);
            self.timeline.prompt_window = Some((secs(t), secs(end)));
            self.prompt_end = Some(end);
            let u = self.session.prompt_started(t)?;
            self.take(u, t)?;
        }
        Ok(())
    }

    /// Reports the prompt's end once the recording reaches it.
    fn prompt_due(&mut self, t: Duration) -> lifecert_core::Result<()> {
        if let Some(e) = self.prompt_end {
            if t >= e && self.session.outcome().is_none() {
                self.prompt_end = None;
                let u = self.session.prompt_finished(e)?;
                self.take(u, e)?;
            }
        }
        Ok(())
    }

    fn keep_for_report(&mut self, a: &FrameAnalysis, t: Duration) {
        let face = a
            .faces
            .iter()
            .max_by(|x, y| x.detection.bbox.area().total_cmp(&y.detection.bbox.area()));
        if let Some(f) = face {
            if let Ok(m) = lifecert_core::face::mouth::mouth_aperture(&f.landmarks) {
                self.timeline.mouth_aperture.push((secs(t), m));
            }
        }
        if self
            .last_report_frame
            .is_some_and(|l| t.saturating_sub(l) < REPORT_FRAME_EVERY)
        {
            return;
        }
        self.last_report_frame = Some(t);
        let lips: Vec<(f32, f32)> = face
            .map(|f| {
                LIPS_OUTER
                    .iter()
                    .filter_map(|&i| f.landmarks.points.get(i))
                    .map(|p| (p[0], p[1]))
                    .collect()
            })
            .unwrap_or_default();
        self.timeline.frames.push(ReportFrame::from_image(
            &a.image,
            THUMBNAIL_SIDE,
            secs(t),
            face.map(|f| f.detection.bbox),
            &lips,
            self.last_instruction.clone().unwrap_or_default(),
        ));
    }
}

/// Replays `frames` (decoded video or a still clip) and `audio` (16 kHz mono, starting with
/// the first frame) into `session`; `total` is the recording's length for progress.
pub fn replay<S: Session>(
    session: &mut S,
    analyzer: &Analyzer,
    frames: impl Iterator<Item = Result<VideoFrame, MediaError>>,
    audio: &[i16],
    timing: PromptTiming,
    total: Option<Duration>,
    on_event: &mut dyn FnMut(ReplayEvent),
) -> Result<(S::Outcome, Timeline), ReplayError> {
    let _span = tracing::info_span!("replay", audio_samples = audio.len()).entered();
    let mut r = Replay {
        session,
        timing,
        on_event,
        timeline: Timeline::default(),
        prompt_end: None,
        last_instruction: None,
        last_report_frame: None,
        shown_digits: 0,
    };
    let mut next_audio = 0usize;
    let mut last_t = Duration::ZERO;
    let mut last_progress: Option<Duration> = None;
    let at = |n: usize| Duration::from_secs_f64(n as f64 / 16_000.0);
    for frame in frames {
        let frame = frame?;
        let t = frame.timestamp;
        last_t = t;
        // Audio up to this frame's time.
        while next_audio < audio.len() && at(next_audio) <= t && r.session.outcome().is_none() {
            let stop = (next_audio + AUDIO_CHUNK).min(audio.len());
            let chunk_t = at(next_audio);
            r.prompt_due(chunk_t)?;
            let u = r.session.push_audio(&audio[next_audio..stop], chunk_t)?;
            r.take(u, chunk_t)?;
            next_audio = stop;
        }
        r.prompt_due(t)?;
        if r.session.outcome().is_some() {
            break;
        }
        let analysis = analyzer
            .analyze(&Frame::from_rgb_image(&frame.image).map_err(lifecert_core::Error::from)?)
            .map_err(lifecert_core::Error::from)?;
        r.keep_for_report(&analysis, t);
        r.timeline.frames_pushed += 1;
        let u = r.session.push_analysis(analysis, t)?;
        r.take(u, t)?;
        if r.session.outcome().is_some() {
            break;
        }
        if last_progress.is_none_or(|p| t.saturating_sub(p) >= Duration::from_secs(1)) {
            last_progress = Some(t);
            (r.on_event)(ReplayEvent::Progress { t, total });
        }
    }
    // The rest of the audio (a recording whose sound outlasts its picture).
    while next_audio < audio.len() && r.session.outcome().is_none() {
        let stop = (next_audio + AUDIO_CHUNK).min(audio.len());
        let chunk_t = at(next_audio);
        r.prompt_due(chunk_t)?;
        let u = r.session.push_audio(&audio[next_audio..stop], chunk_t)?;
        r.take(u, chunk_t)?;
        next_audio = stop;
        last_t = last_t.max(at(stop));
    }
    if r.session.outcome().is_none() {
        let end = last_t + Duration::from_millis(40);
        if let Some(e) = r.prompt_end.take() {
            let u = r.session.prompt_finished(e.min(end))?;
            r.take(u, e.min(end))?;
        }
        if r.session.outcome().is_none() {
            let u = r.session.end_of_input(end)?;
            r.take(u, end)?;
        }
    }
    let outcome = r.session.outcome().cloned().ok_or(ReplayError::NoOutcome)?;
    Ok((outcome, r.timeline))
}
