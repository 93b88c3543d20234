//! [`MicrophoneStream`]: the session's microphone, chunk by chunk, on the session clock.
//!
//! The shell pushes 16 kHz mono PCM chunks of any size, each with the session time of its
//! first sample. The stream keeps the audio clock (a short gap in the timestamps is silence,
//! a long one — the app was in the background — starts the clock and the VAD over), runs the
//! voice activity detector over the audio, and hands each chunk on as [`Heard`]: the samples
//! (gap filled) with their start time, and the VAD chunks completed, as [`VoiceActivity`] on
//! the session clock. The consumers — the liveness sequencer during the spoken answer, the
//! enrollment's reading of 0–9 — keep the samples in an [`crate::audio::buffer::AudioBuffer`].

use std::time::Duration;

use thiserror::Error;

use crate::audio::buffer::samples_to_duration;
use crate::audio::vad::{VadFrame, VadRunError, VadStream, SAMPLE_RATE_HZ};

/// Largest chunk [`MicrophoneStream::push`] accepts: 10 s.
pub const MAX_AUDIO_CHUNK: usize = 10 * SAMPLE_RATE_HZ as usize;
/// Longest gap in the timestamps filled with silence; a longer one restarts the stream.
pub const MAX_AUDIO_GAP: Duration = Duration::from_secs(2);
/// A chunk starting this much later than the previous one ended counts as a gap.
pub const AUDIO_GAP_TOLERANCE: Duration = Duration::from_millis(100);

/// A microphone chunk was refused, or the VAD failed on it.
#[derive(Debug, Error)]
pub enum MicrophoneError {
    /// An empty chunk, or one longer than [`MAX_AUDIO_CHUNK`].
    #[error("audio chunk of {samples} samples (1..={max} accepted)")]
    Chunk {
        /// Samples in the refused chunk.
        samples: usize,
        /// The largest accepted.
        max: usize,
    },
    /// The voice activity detector failed.
    #[error(transparent)]
    Vad(#[from] VadRunError),
}

/// One VAD chunk on the session clock: the speech probability of `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoiceActivity {
    /// Session time of the chunk's first sample.
    pub start: Duration,
    /// Session time just after its last sample.
    pub end: Duration,
    /// Speech probability in `[0, 1]`.
    pub probability: f32,
}

impl VoiceActivity {
    /// A [`VadFrame`] of a stream whose first sample was captured at `stream_start`.
    pub fn from_frame(frame: &VadFrame, stream_start: Duration) -> Self {
        let chunk = samples_to_duration(crate::audio::vad::CHUNK_SAMPLES, SAMPLE_RATE_HZ);
        let start = stream_start + chunk * frame.index as u32;
        Self {
            start,
            end: start + chunk,
            probability: frame.probability,
        }
    }
}

/// What one pushed chunk gave.
#[derive(Debug, Clone)]
pub struct Heard {
    /// The chunk's samples in `[-1, 1]`, with the silence of a short gap in front.
    pub samples: Vec<f32>,
    /// Session time of `samples[0]`.
    pub start: Duration,
    /// The VAD chunks these samples completed, in order.
    pub activity: Vec<VoiceActivity>,
}

impl Heard {
    /// Session time just after the last sample.
    pub fn end(&self) -> Duration {
        self.start + samples_to_duration(self.samples.len(), SAMPLE_RATE_HZ)
    }
}

/// The microphone of one session (see the module docs).
#[derive(Debug)]
pub struct MicrophoneStream {
    vad: VadStream,
    /// Session time of the stream's first sample.
    origin: Option<Duration>,
    /// Samples given to the VAD since `origin` (gaps included).
    samples: u64,
}

impl MicrophoneStream {
    /// A stream running `vad` (a fresh [`VadStream`]).
    pub fn new(vad: VadStream) -> Self {
        Self {
            vad,
            origin: None,
            samples: 0,
        }
    }

    /// Session time just after the last sample pushed; `None` before the first push.
    pub fn end(&self) -> Option<Duration> {
        self.origin
            .map(|o| o + samples_to_duration(self.samples as usize, SAMPLE_RATE_HZ))
    }

    /// Takes `pcm` (16 kHz mono) whose first sample was captured at `t`.
    pub fn push(&mut self, pcm: &[i16], t: Duration) -> Result<Heard, MicrophoneError> {
        if pcm.is_empty() || pcm.len() > MAX_AUDIO_CHUNK {
            return Err(MicrophoneError::Chunk {
                samples: pcm.len(),
                max: MAX_AUDIO_CHUNK,
            });
        }
        let _span = tracing::trace_span!("microphone_push", samples = pcm.len()).entered();
        let mut samples = Vec::with_capacity(pcm.len());
        if let Some(expected) = self.end() {
            if t > expected + AUDIO_GAP_TOLERANCE {
                let gap = t - expected;
                if gap > MAX_AUDIO_GAP {
                    // A long pause in the microphone (the app was in the background): a new
                    // stream from here.
                    tracing::debug!(gap_ms = gap.as_millis() as u64, "audio restarts");
                    self.vad.reset();
                    self.origin = None;
                    self.samples = 0;
                } else {
                    let fill = (gap.as_secs_f64() * f64::from(SAMPLE_RATE_HZ)).round() as usize;
                    samples.resize(fill, 0.0);
                }
            }
        }
        let origin = *self.origin.get_or_insert(t);
        let start = origin + samples_to_duration(self.samples as usize, SAMPLE_RATE_HZ);
        samples.extend(pcm.iter().map(|&s| f32::from(s) / 32768.0));
        let frames = self.vad.push(&samples)?;
        self.samples += samples.len() as u64;
        Ok(Heard {
            activity: frames
                .iter()
                .map(|f| VoiceActivity::from_frame(f, origin))
                .collect(),
            samples,
            start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::vad::VoiceActivityDetector;
    use crate::model::assets::ModelSource;

    fn stream() -> MicrophoneStream {
        let vad = VoiceActivityDetector::with_models(&ModelSource::Embedded).expect("embedded VAD");
        MicrophoneStream::new(vad.stream())
    }

    #[test]
    fn chunks_on_the_session_clock_with_short_gaps_filled() {
        let mut m = stream();
        let t0 = Duration::from_millis(500);
        let a = m.push(&[0; 1600], t0).unwrap();
        assert_eq!(a.start, t0);
        assert_eq!(a.end(), t0 + Duration::from_millis(100));
        // 3 whole VAD chunks of 32 ms, the first at the stream's start.
        assert_eq!(a.activity.len(), 3);
        assert_eq!(a.activity[0].start, t0);
        assert_eq!(a.activity[2].end, t0 + Duration::from_millis(96));
        // A 50 ms late chunk is on time within the tolerance; a 500 ms late one gets silence.
        let b = m.push(&[0; 160], t0 + Duration::from_millis(150)).unwrap();
        assert_eq!(b.start, t0 + Duration::from_millis(100));
        let c = m.push(&[0; 160], t0 + Duration::from_millis(610)).unwrap();
        assert_eq!(c.start, t0 + Duration::from_millis(110));
        assert_eq!(c.end(), t0 + Duration::from_millis(620));
        assert!(c.activity.iter().all(|v| v.end <= c.end()));
    }

    #[test]
    fn a_long_gap_restarts_the_stream() {
        let mut m = stream();
        m.push(&[0; 1600], Duration::ZERO).unwrap();
        let later = Duration::from_secs(30);
        let h = m.push(&[0; 1024], later).unwrap();
        assert_eq!(h.start, later);
        assert_eq!(h.samples.len(), 1024);
        assert_eq!(h.activity.first().map(|v| v.start), Some(later));
    }

    #[test]
    fn empty_and_oversized_chunks_are_refused() {
        let mut m = stream();
        assert!(matches!(
            m.push(&[], Duration::ZERO),
            Err(MicrophoneError::Chunk { samples: 0, .. })
        ));
        let big = vec![0i16; MAX_AUDIO_CHUNK + 1];
        assert!(matches!(
            m.push(&big, Duration::ZERO),
            Err(MicrophoneError::Chunk { .. })
        ));
        assert_eq!(m.end(), None);
    }
}
