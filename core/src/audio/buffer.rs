//! [`AudioBuffer`]: microphone samples kept on the session clock.
//!
//! The one place where a sample's index and its time convert into each other: the liveness
//! answer, the enrollment reading of 0–9 and the review recording all keep their audio here
//! and ask it for the samples of a span of session time. Times are [`Duration`]s on the
//! session clock from end to end; seconds relative to the buffer appear only at the edge, for
//! the feature extractors that take a slice and offsets into it.

use std::time::Duration;

/// Samples of one microphone on the session clock (mono, one sample rate).
///
/// Writes may leave gaps (filled with silence) or overlap (the later write wins). The buffer
/// keeps at most `max_kept` of audio: when it grows past that, the oldest samples are dropped
/// and [`AudioBuffer::origin`] moves forward.
#[derive(Debug, Clone)]
pub struct AudioBuffer {
    sample_rate: u32,
    max_len: usize,
    origin: Option<Duration>,
    samples: Vec<f32>,
}

impl AudioBuffer {
    /// An empty buffer for `sample_rate` Hz audio keeping at most `max_kept` of it
    /// (at least one second).
    pub fn new(sample_rate: u32, max_kept: Duration) -> Self {
        let sample_rate = sample_rate.max(1);
        let max_len = (max_kept.as_secs_f64() * f64::from(sample_rate)).round() as usize;
        Self {
            sample_rate,
            max_len: max_len.max(sample_rate as usize),
            origin: None,
            samples: Vec::new(),
        }
    }

    /// The sample rate (Hz).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Session time of the first kept sample; `None` while nothing was written.
    pub fn origin(&self) -> Option<Duration> {
        self.origin
    }

    /// The kept samples, the first at [`AudioBuffer::origin`].
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Session time just after the last kept sample; `None` while nothing was written.
    pub fn end(&self) -> Option<Duration> {
        self.origin
            .map(|o| o + self.duration_of(self.samples.len()))
    }

    /// How long `samples` samples last at this sample rate.
    pub fn duration_of(&self, samples: usize) -> Duration {
        samples_to_duration(samples, self.sample_rate)
    }

    /// Index of the sample at session time `t` (0 before the origin; may be past the end).
    pub fn index_at(&self, t: Duration) -> usize {
        let origin = self.origin.unwrap_or(t);
        (t.saturating_sub(origin).as_secs_f64() * f64::from(self.sample_rate)).round() as usize
    }

    /// Seconds from the origin to session time `t` (0 before it): the offsets the feature
    /// extractors take into [`AudioBuffer::samples`].
    pub fn seconds_at(&self, t: Duration) -> f32 {
        let origin = self.origin.unwrap_or(t);
        t.saturating_sub(origin).as_secs_f32()
    }

    /// The kept samples from session time `start` on.
    pub fn since(&self, start: Duration) -> &[f32] {
        let i = self.index_at(start).min(self.samples.len());
        &self.samples[i..]
    }

    /// Writes `samples` (in `[-1, 1]`; others are clamped, non-finite ones become 0) whose
    /// first sample was captured at `start`. A gap after the kept audio is filled with
    /// silence, an overlap overwrites, audio before the origin is dropped. A gap longer than
    /// the buffer holds starts the buffer over at `start`.
    pub fn write(&mut self, samples: &[f32], start: Duration) {
        if samples.is_empty() {
            return;
        }
        let origin = *self.origin.get_or_insert(start);
        let (samples, start) = if start < origin {
            // The part before the origin is gone (dropped or never kept).
            let skip = (origin.saturating_sub(start).as_secs_f64() * f64::from(self.sample_rate))
                .round() as usize;
            if skip >= samples.len() {
                return;
            }
            (&samples[skip..], origin)
        } else {
            (samples, start)
        };
        let offset = self.index_at(start);
        if offset > self.max_len {
            tracing::debug!(
                gap_ms = start
                    .saturating_sub(self.end().unwrap_or(origin))
                    .as_millis() as u64,
                "audio buffer starts over after a long gap"
            );
            self.samples.clear();
            self.origin = Some(start);
            return self.write(samples, start);
        }
        self.samples.resize(offset, 0.0);
        self.samples.extend(samples.iter().map(|&x| {
            if x.is_finite() {
                x.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        }));
        self.trim();
    }

    /// Forgets every sample; the next write sets a new origin.
    pub fn clear(&mut self) {
        self.samples.clear();
        self.origin = None;
    }

    /// Drops the oldest samples beyond `max_len`, in steps of at least a tenth of the buffer
    /// so that a long session does not move the whole buffer on every write.
    fn trim(&mut self) {
        if self.samples.len() <= self.max_len {
            return;
        }
        let drop = (self.samples.len() - self.max_len).max(self.max_len / 10);
        let drop = drop.min(self.samples.len());
        self.samples.drain(..drop);
        self.origin = self.origin.map(|o| o + self.duration_of(drop));
    }
}

/// How long `samples` samples last at `sample_rate` Hz (exact to the nanosecond).
pub fn samples_to_duration(samples: usize, sample_rate: u32) -> Duration {
    let rate = u64::from(sample_rate.max(1));
    let n = samples as u64;
    Duration::from_secs(n / rate) + Duration::from_nanos((n % rate) * 1_000_000_000 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn gaps_are_silence_and_overlaps_overwrite() {
        let mut b = AudioBuffer::new(RATE, Duration::from_secs(10));
        b.write(&[0.5; 160], ms(1000));
        assert_eq!(b.origin(), Some(ms(1000)));
        assert_eq!(b.end(), Some(ms(1010)));
        // 10 ms of silence, then 10 ms of audio.
        b.write(&[0.25; 160], ms(1020));
        assert_eq!(b.samples().len(), 480);
        assert!(b.samples()[160..320].iter().all(|&x| x == 0.0));
        // Overwrite the last 5 ms.
        b.write(&[-0.5; 80], ms(1025));
        assert_eq!(b.samples().len(), 480);
        assert_eq!(b.samples()[400], -0.5);
        assert_eq!(b.since(ms(1020)).len(), 160);
        assert_eq!(b.index_at(ms(1020)), 320);
        assert!((b.seconds_at(ms(1020)) - 0.020).abs() < 1e-6);
    }

    #[test]
    fn bad_samples_are_clamped_or_silenced() {
        let mut b = AudioBuffer::new(RATE, Duration::from_secs(10));
        b.write(&[f32::NAN, 3.0, -7.0, f32::INFINITY], Duration::ZERO);
        assert_eq!(b.samples(), &[0.0, 1.0, -1.0, 0.0]);
    }

    #[test]
    fn audio_before_the_origin_is_dropped() {
        let mut b = AudioBuffer::new(RATE, Duration::from_secs(10));
        b.write(&[0.5; 160], ms(1000));
        b.write(&[0.1; 320], ms(995));
        assert_eq!(b.origin(), Some(ms(1000)));
        assert_eq!(b.samples().len(), 240);
        assert!(b.samples().iter().all(|&x| x == 0.1));
    }

    #[test]
    fn the_oldest_audio_goes_first_and_the_clock_follows() {
        let mut b = AudioBuffer::new(RATE, Duration::from_secs(1));
        for i in 0..30u64 {
            b.write(&[i as f32 / 100.0; 1600], ms(100 * i));
        }
        assert!(b.samples().len() <= RATE as usize);
        let origin = b.origin().unwrap();
        assert_eq!(b.end(), Some(ms(3000)));
        // The first kept sample is the one written at the origin.
        let i = (origin.as_millis() / 100) as usize;
        assert_eq!(b.samples()[0], i as f32 / 100.0);
    }

    #[test]
    fn a_gap_longer_than_the_buffer_starts_over() {
        let mut b = AudioBuffer::new(RATE, Duration::from_secs(1));
        b.write(&[0.5; 160], Duration::ZERO);
        b.write(&[0.25; 160], Duration::from_secs(60));
        assert_eq!(b.origin(), Some(Duration::from_secs(60)));
        assert_eq!(b.samples().len(), 160);
    }

    #[test]
    fn sample_counts_convert_to_exact_durations() {
        assert_eq!(samples_to_duration(16_000, RATE), Duration::from_secs(1));
        assert_eq!(samples_to_duration(512, RATE), ms(32));
        assert_eq!(samples_to_duration(1, RATE), Duration::from_nanos(62_500));
    }
}
