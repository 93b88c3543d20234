//! Speech segments from per-chunk voice probabilities, and the audio energy envelope.
//!
//! [`speech_segments`] turns the VAD's output (Silero VAD: one speech probability per 512-sample
//! chunk = 32 ms at 16 kHz) into speech segments in seconds, with the hysteresis of Silero's own
//! `get_speech_timestamps`:
//! * speech starts at the first chunk with `p ≥ threshold` (0.5);
//! * once in speech, the first chunk with `p < neg_threshold` (0.35) marks a tentative end; a
//!   chunk with `p ≥ threshold` cancels it; when the tentative end is `min_silence_s` (100 ms)
//!   old the segment ends there (chunks between the two thresholds neither cancel nor extend);
//! * segments shorter than `min_speech_s` (90 ms) are dropped;
//! * each segment is padded by `pad_s` (30 ms) on both sides, clamped to the audio; where two
//!   padded segments would overlap the gap is split in the middle (they touch but stay
//!   separate), and with `merge_gap_s > 0` segments whose gap is at most `merge_gap_s` are
//!   merged (default 0: off — `min_silence_s` already bridges short pauses, and merging two
//!   digits would hurt digit matching).
//!
//! [`rms_envelope`] gives the RMS energy per frame (e.g. 10 ms, or one video frame) for
//! audio/mouth synchronisation; [`band_db_envelope`] the energy of the speech band only (e.g.
//! 300–3000 Hz: the formants the lips shape, without rumble and hiss), in dB and floored a
//! fixed range below the loudest frame, so that soft and loud syllables count alike and
//! background noise does not.

use crate::audio::stream::VoiceActivity;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use thiserror::Error;

/// Errors of segmentation and envelopes.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SegmentError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A probability was NaN or outside 0..=1.
    #[error("probability {index} is not in 0..=1")]
    InvalidProbability {
        /// Index of the bad chunk.
        index: usize,
    },
    /// An audio sample was NaN or infinite.
    #[error("audio sample {index} is not finite")]
    NonFinite {
        /// Index of the bad sample.
        index: usize,
    },
}

/// Options of [`speech_segments`]. Defaults follow Silero VAD at 16 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SegmentConfig {
    /// Duration of one probability chunk (s). Default 0.032 (512 samples at 16 kHz).
    pub chunk_s: f32,
    /// Speech starts at `p ≥ threshold`. Default 0.5.
    pub threshold: f32,
    /// Speech may end at `p < neg_threshold` (≤ `threshold`). Default 0.35.
    pub neg_threshold: f32,
    /// Silence needed to end a segment (s). Default 0.1.
    pub min_silence_s: f32,
    /// Shorter segments are dropped (s). Default 0.09.
    pub min_speech_s: f32,
    /// Padding added on each side (s). Default 0.03.
    pub pad_s: f32,
    /// Segments separated by at most this gap after padding are merged (s). Default 0.
    pub merge_gap_s: f32,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        Self {
            chunk_s: 0.032,
            threshold: 0.5,
            neg_threshold: 0.35,
            min_silence_s: 0.1,
            min_speech_s: 0.09,
            pad_s: 0.03,
            merge_gap_s: 0.0,
        }
    }
}

impl SegmentConfig {
    fn validate(&self) -> Result<(), SegmentError> {
        let finite_nonneg = |v: f32| v.is_finite() && v >= 0.0;
        if !(self.chunk_s.is_finite() && self.chunk_s > 0.0) {
            return Err(SegmentError::InvalidConfig("chunk_s must be > 0"));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(SegmentError::InvalidConfig("threshold must be in (0, 1]"));
        }
        if !(self.neg_threshold >= 0.0 && self.neg_threshold <= self.threshold) {
            return Err(SegmentError::InvalidConfig(
                "neg_threshold must be in [0, threshold]",
            ));
        }
        if ![
            self.min_silence_s,
            self.min_speech_s,
            self.pad_s,
            self.merge_gap_s,
        ]
        .into_iter()
        .all(finite_nonneg)
        {
            return Err(SegmentError::InvalidConfig(
                "durations must be finite and >= 0",
            ));
        }
        Ok(())
    }
}

/// A speech segment on the session clock, from [`speech_spans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechSpan {
    /// Start, padding included.
    pub start: Duration,
    /// End, padding included.
    pub end: Duration,
    /// Start of the first chunk at or over the speech threshold (the voice's onset).
    pub onset: Duration,
    /// True when the speech runs to the last chunk heard (the speaker may not be done).
    pub open: bool,
}

/// The speech segments of a run of VAD chunks on the session clock (as
/// [`crate::audio::stream::MicrophoneStream`] gives them): chunks are placed by their start
/// time from the first one (a missing chunk counts as silence), segmented with
/// [`speech_segments`], and the segments put back on the session clock.
pub fn speech_spans(
    activity: &[VoiceActivity],
    config: &SegmentConfig,
) -> Result<Vec<SpeechSpan>, SegmentError> {
    let Some(first) = activity.first() else {
        return Ok(Vec::new());
    };
    let chunk = f64::from(config.chunk_s);
    let origin = first.start;
    let index = |t: Duration| (t.saturating_sub(origin).as_secs_f64() / chunk).round() as usize;
    let last = activity.last().map_or(0, |v| index(v.start));
    let mut probs = vec![0f32; last + 1];
    for v in activity {
        if let Some(p) = probs.get_mut(index(v.start)) {
            *p = if v.probability.is_finite() {
                v.probability.clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
    }
    let segments = speech_segments(&probs, config)?;
    let total = probs.len() as f64 * chunk;
    let at = |s: f64| origin + Duration::from_secs_f64(s.max(0.0));
    Ok(segments
        .iter()
        .map(|s| {
            let (a, b) = (f64::from(s.start_s), f64::from(s.end_s));
            let i0 = (a / chunk).floor() as usize;
            let i1 = ((b / chunk).ceil() as usize).min(probs.len());
            let onset = (i0..i1)
                .find(|&i| probs[i] >= config.threshold)
                .unwrap_or(i0);
            // Still speaking when the last chunks are not below the end threshold.
            let open =
                (total - b) < 1e-6 && probs.last().is_some_and(|&p| p >= config.neg_threshold);
            SpeechSpan {
                start: at(a),
                end: at(b),
                onset: at(onset as f64 * chunk),
                open,
            }
        })
        .collect())
}

/// One speech segment (seconds from the start of the audio).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeechSegment {
    /// Start (s), padding included.
    pub start_s: f32,
    /// End (s), padding included.
    pub end_s: f32,
}

impl SpeechSegment {
    /// Duration (s).
    pub fn duration_s(&self) -> f32 {
        self.end_s - self.start_s
    }
}

/// Speech segments from per-chunk speech probabilities (see the module documentation).
/// Chunk `i` covers `i·chunk_s .. (i+1)·chunk_s`; the audio ends at `len · chunk_s`.
pub fn speech_segments(
    probs: &[f32],
    config: &SegmentConfig,
) -> Result<Vec<SpeechSegment>, SegmentError> {
    config.validate()?;
    if let Some(index) = probs
        .iter()
        .position(|p| !(p.is_finite() && (0.0..=1.0).contains(p)))
    {
        return Err(SegmentError::InvalidProbability { index });
    }
    let _span = tracing::trace_span!("speech_segments", chunks = probs.len()).entered();
    let chunk = f64::from(config.chunk_s);
    let min_silence = f64::from(config.min_silence_s);
    // Raw segments in chunk indices [start, end).
    let mut raw: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    let mut temp_end: Option<usize> = None;
    for (i, &p) in probs.iter().enumerate() {
        match start {
            None => {
                if p >= config.threshold {
                    start = Some(i);
                    temp_end = None;
                }
            }
            Some(s) => {
                if p >= config.threshold {
                    temp_end = None;
                } else if p < config.neg_threshold {
                    let te = *temp_end.get_or_insert(i);
                    // Silence of chunks te..=i lasts (i + 1 − te) chunks.
                    if (i + 1 - te) as f64 * chunk >= min_silence - 1e-9 {
                        raw.push((s, te));
                        start = None;
                        temp_end = None;
                    }
                }
            }
        }
    }
    if let Some(s) = start {
        raw.push((s, temp_end.unwrap_or(probs.len())));
    }
    let total = probs.len() as f64 * chunk;
    let mut segs: Vec<(f64, f64)> = raw
        .into_iter()
        .map(|(s, e)| (s as f64 * chunk, e as f64 * chunk))
        .filter(|(s, e)| e - s >= f64::from(config.min_speech_s) - 1e-9)
        .collect();
    // Padding: split overlapping pads in the middle of the gap.
    let pad = f64::from(config.pad_s);
    let n = segs.len();
    let unpadded = segs.clone();
    for k in 0..n {
        let lo = if k == 0 { 0.0 } else { unpadded[k - 1].1 };
        let hi = if k + 1 == n { total } else { unpadded[k + 1].0 };
        let (s, e) = unpadded[k];
        let new_s = (s - pad).max(if k == 0 { 0.0 } else { (lo + s) / 2.0 });
        let new_e = (e + pad).min(if k + 1 == n { hi } else { (e + hi) / 2.0 });
        segs[k] = (new_s.min(s), new_e.max(e));
    }
    // Merge small gaps.
    let mut out: Vec<SpeechSegment> = Vec::with_capacity(segs.len());
    for (s, e) in segs {
        match out.last_mut() {
            Some(last)
                if config.merge_gap_s > 0.0
                    && s - f64::from(last.end_s) <= f64::from(config.merge_gap_s) + 1e-9 =>
            {
                last.end_s = e as f32;
            }
            _ => out.push(SpeechSegment {
                start_s: s as f32,
                end_s: e as f32,
            }),
        }
    }
    Ok(out)
}

/// A regularly sampled envelope: `values[i]` belongs to time `start_s + i · step_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Time of the first value (s).
    pub start_s: f64,
    /// Time between values (s).
    pub step_s: f64,
    /// The values.
    pub values: Vec<f32>,
}

/// RMS energy of `samples` in consecutive frames of `frame_s` seconds (e.g. 0.01, or one video
/// frame 0.04), each value stamped with its frame's centre time. A last partial frame counts if
/// it holds at least half a frame.
pub fn rms_envelope(
    samples: &[f32],
    sample_rate: u32,
    frame_s: f64,
) -> Result<Envelope, SegmentError> {
    if sample_rate == 0 {
        return Err(SegmentError::InvalidConfig("sample_rate must be > 0"));
    }
    let frame_len = frame_s * f64::from(sample_rate);
    if !(frame_len.is_finite() && frame_len >= 1.0) || frame_len > 1e9 {
        return Err(SegmentError::InvalidConfig(
            "frame_s must cover at least one sample",
        ));
    }
    if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
        return Err(SegmentError::NonFinite { index });
    }
    let _span = tracing::trace_span!("rms_envelope", n = samples.len()).entered();
    let mut values = Vec::new();
    let mut k = 0usize;
    loop {
        // Fractional frame boundaries keep the frame clock exact (e.g. 25 fps at 44.1 kHz).
        let a = (k as f64 * frame_len).round() as usize;
        let b = (((k + 1) as f64) * frame_len).round() as usize;
        if a >= samples.len() || (samples.len() - a) as f64 * 2.0 < frame_len {
            break;
        }
        let part = &samples[a..b.min(samples.len())];
        let e: f64 = part.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / part.len() as f64;
        values.push(e.sqrt().min(f64::from(f32::MAX)) as f32);
        k += 1;
    }
    Ok(Envelope {
        start_s: frame_s / 2.0,
        step_s: frame_s,
        values,
    })
}

/// Largest [`band_db_envelope`] floor range (dB).
pub const MAX_FLOOR_DB: f32 = 120.0;

/// Energy of `samples` in the band `low_hz..high_hz`, in dB, per frame of `frame_s` seconds
/// (stamped with the frame's centre time, like [`rms_envelope`]), floored `floor_db` below the
/// loudest frame.
///
/// The band is cut by two cascaded second-order Butterworth high-pass sections at `low_hz`
/// and two low-pass sections at `high_hz` (24 dB/octave each side; `low_hz = 0` leaves the
/// low side open, `high_hz` at or above the Nyquist frequency the high side). A frame's value is
/// `10·log10(mean square + 1e-12)`; values below `max − floor_db` are raised to it. The
/// envelope of digital silence is flat (all values equal).
pub fn band_db_envelope(
    samples: &[f32],
    sample_rate: u32,
    frame_s: f64,
    low_hz: f32,
    high_hz: f32,
    floor_db: f32,
) -> Result<Envelope, SegmentError> {
    if sample_rate == 0 {
        return Err(SegmentError::InvalidConfig("sample_rate must be > 0"));
    }
    let nyquist = sample_rate as f32 / 2.0;
    if !(low_hz.is_finite() && low_hz >= 0.0 && high_hz.is_finite() && high_hz > low_hz) {
        return Err(SegmentError::InvalidConfig(
            "band must satisfy 0 <= low_hz < high_hz",
        ));
    }
    if low_hz >= nyquist * 0.95 {
        return Err(SegmentError::InvalidConfig(
            "low_hz must lie below the Nyquist frequency",
        ));
    }
    if !(floor_db.is_finite() && floor_db > 0.0 && floor_db <= MAX_FLOOR_DB) {
        return Err(SegmentError::InvalidConfig("floor_db must be in (0, 120]"));
    }
    if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
        return Err(SegmentError::NonFinite { index });
    }
    let _span = tracing::trace_span!("band_db_envelope", n = samples.len()).entered();
    let mut sections = Vec::with_capacity(4);
    if low_hz > 0.0 {
        let hp = Biquad::high_pass(low_hz, sample_rate);
        sections.extend([hp, hp]);
    }
    if high_hz < nyquist * 0.95 {
        let lp = Biquad::low_pass(high_hz, sample_rate);
        sections.extend([lp, lp]);
    }
    let filtered: Vec<f32> = samples
        .iter()
        .scan(sections, |secs, &x| {
            let mut v = f64::from(x);
            for s in secs.iter_mut() {
                v = s.step(v);
            }
            Some(v as f32)
        })
        .collect();
    let mut env = rms_envelope(&filtered, sample_rate, frame_s)?;
    for v in &mut env.values {
        *v = 10.0 * (f64::from(*v).powi(2) + 1e-12).log10() as f32;
    }
    let peak = env.values.iter().copied().fold(f32::MIN, f32::max);
    let floor = peak - floor_db;
    for v in &mut env.values {
        *v = v.max(floor);
    }
    Ok(env)
}

/// One second-order IIR section (RBJ cookbook, Butterworth Q = 1/√2), direct form I.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a0: f64, a: [f64; 2]) -> Self {
        Self {
            b: b.map(|v| v / a0),
            a: a.map(|v| v / a0),
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn parts(f: f32, sample_rate: u32) -> (f64, f64) {
        let w = 2.0 * std::f64::consts::PI * f64::from(f) / f64::from(sample_rate);
        (w.cos(), w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2))
    }

    fn high_pass(f: f32, sample_rate: u32) -> Self {
        let (c, al) = Self::parts(f, sample_rate);
        Self::new(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            1.0 + al,
            [-2.0 * c, 1.0 - al],
        )
    }

    fn low_pass(f: f32, sample_rate: u32) -> Self {
        let (c, al) = Self::parts(f, sample_rate);
        Self::new(
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0],
            1.0 + al,
            [-2.0 * c, 1.0 - al],
        )
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn eval_data(test: &str) -> Option<PathBuf> {
        let dir = lifecert_test_support::eval_data(test)?;
        lifecert_test_support::require_dir(test, dir.join("audio/vad"), "audio/vad")?;
        Some(dir)
    }

    fn golden(dir: &std::path::Path, name: &str) -> Vec<f32> {
        std::fs::read_to_string(dir.join("audio/vad").join(name))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().parse().unwrap())
            .collect()
    }

    #[test]
    fn silero_golden_probabilities_give_the_three_digits() {
        let Some(dir) = eval_data("silero_golden_probabilities_give_the_three_digits") else {
            return;
        };
        let c = 0.032f32;
        // Speech chunks 19–25, 36–47, 58–69 (1-based) = [18, 25), [35, 47), [57, 69) 0-based.
        let want = [
            (18.0 * c, 25.0 * c),
            (35.0 * c, 47.0 * c),
            (57.0 * c, 69.0 * c),
        ];
        let probs = golden(&dir, "seq_258_theo_16k.silero_ort_probs.txt");
        assert_eq!(probs.len(), 83);
        for pad in [0.0, 0.03] {
            let cfg = SegmentConfig {
                pad_s: pad,
                ..Default::default()
            };
            let segs = speech_segments(&probs, &cfg).unwrap();
            eprintln!("clean, pad {pad}: {segs:?}");
            assert_eq!(segs.len(), 3, "{segs:?}");
            for (s, (a, b)) in segs.iter().zip(want) {
                assert!((s.start_s - a).abs() <= c + 1e-4, "{s:?} vs {a}..{b}");
                assert!((s.end_s - b).abs() <= c + 1e-4, "{s:?} vs {a}..{b}");
            }
        }
        // Noisy version: still three segments near the same places.
        let probs = golden(&dir, "seq_258_theo_16k_noisy.silero_ort_probs.txt");
        let segs = speech_segments(&probs, &SegmentConfig::default()).unwrap();
        eprintln!("noisy: {segs:?}");
        assert_eq!(segs.len(), 3, "{segs:?}");
        for (s, (a, _)) in segs.iter().zip(want) {
            assert!((s.start_s - a).abs() <= 2.0 * c, "{s:?}");
        }
        // A single FSDD digit: one segment.
        let probs = golden(&dir, "fsdd_7_jackson_3_16k.silero_ort_probs.txt");
        assert_eq!(
            speech_segments(&probs, &SegmentConfig::default())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn hysteresis_rules() {
        let cfg = SegmentConfig {
            pad_s: 0.0,
            ..Default::default()
        };
        let seg = |p: &[f32]| speech_segments(p, &cfg).unwrap();
        // A dip to 0.4 (between the thresholds) does not end speech.
        assert_eq!(
            seg(&[0.0, 0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0]).len(),
            1
        );
        // A two-chunk (64 ms) silence is shorter than 100 ms: one segment.
        assert_eq!(seg(&[0.9, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9]).len(), 1);
        // Four chunks (128 ms) of silence split it.
        let s = seg(&[0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9]);
        assert_eq!(s.len(), 2);
        assert!((s[0].end_s - 0.096).abs() < 1e-6 && (s[1].start_s - 0.224).abs() < 1e-6);
        // Too short (2 chunks = 64 ms < 90 ms) is dropped; 3 chunks (96 ms) kept.
        assert!(seg(&[0.0, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0]).is_empty());
        assert_eq!(seg(&[0.0, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0]).len(), 1);
        // Speech running to the end closes at the end.
        let s = seg(&[0.0, 0.9, 0.9, 0.9, 0.9]);
        assert!((s[0].end_s - 0.16).abs() < 1e-6);
        // Padding is clamped to the audio and split between close segments.
        let padded = SegmentConfig {
            pad_s: 0.2,
            ..Default::default()
        };
        let s =
            speech_segments(&[0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9], &padded).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].start_s, 0.0);
        assert!((s[0].end_s - s[1].start_s).abs() < 1e-6);
        assert!((s[1].end_s - 0.32).abs() < 1e-6);
        // merge_gap merges them.
        let merged = SegmentConfig {
            merge_gap_s: 0.2,
            ..padded
        };
        let s =
            speech_segments(&[0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9], &merged).unwrap();
        assert_eq!(s.len(), 1);
        assert!(s[0].duration_s() > 0.3);
        // Edge cases.
        assert!(seg(&[]).is_empty());
        assert!(seg(&[0.2; 50]).is_empty());
        assert_eq!(
            speech_segments(&[0.1, f32::NAN], &cfg),
            Err(SegmentError::InvalidProbability { index: 1 })
        );
        assert!(speech_segments(&[1.5], &cfg).is_err());
        for bad in [
            SegmentConfig {
                chunk_s: 0.0,
                ..cfg
            },
            SegmentConfig {
                threshold: f32::NAN,
                ..cfg
            },
            SegmentConfig {
                neg_threshold: 0.6,
                ..cfg
            },
            SegmentConfig { pad_s: -1.0, ..cfg },
            SegmentConfig {
                min_silence_s: f32::INFINITY,
                ..cfg
            },
        ] {
            assert!(speech_segments(&[0.9], &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn envelope() {
        // 0.1 s silence, 0.1 s of a 0.5-amplitude sine, at 16 kHz, 10 ms frames.
        let mut x = vec![0f32; 1600];
        x.extend((0..1600).map(|i| 0.5 * (i as f32 * 0.3).sin()));
        let e = rms_envelope(&x, 16_000, 0.01).unwrap();
        assert_eq!(e.values.len(), 20);
        assert!((e.start_s - 0.005).abs() < 1e-9 && (e.step_s - 0.01).abs() < 1e-9);
        assert!(e.values[..10].iter().all(|v| *v == 0.0));
        assert!(e.values[10..]
            .iter()
            .all(|v| (v - 0.5 / 2f32.sqrt()).abs() < 0.02));
        // Video-rate frames at 44.1 kHz: 1764 samples each.
        let e = rms_envelope(&vec![0.1; 44_100], 44_100, 0.04).unwrap();
        assert_eq!(e.values.len(), 25);
        assert!(rms_envelope(&[], 16_000, 0.01).unwrap().values.is_empty());
        assert!(rms_envelope(&[0.0; 10], 0, 0.01).is_err());
        assert!(rms_envelope(&[0.0; 10], 16_000, 0.0).is_err());
        assert!(rms_envelope(&[0.0; 10], 16_000, f64::NAN).is_err());
        assert_eq!(
            rms_envelope(&[0.0, f32::NAN], 16_000, 0.01),
            Err(SegmentError::NonFinite { index: 1 })
        );
        let big = rms_envelope(&[f32::MAX; 320], 16_000, 0.01).unwrap();
        assert!(big.values.iter().all(|v| v.is_finite()));
    }

    fn tone(hz: f32, amp: f32, secs: f32) -> Vec<f32> {
        let n = (secs * 16_000.0) as usize;
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn band_envelope_passes_the_speech_band_in_db() {
        let env = |x: &[f32]| band_db_envelope(x, 16_000, 0.01, 300.0, 3000.0, 60.0).unwrap();
        // A 1 kHz tone of amplitude 0.5: mean square 0.125 → −9.03 dB, in the band.
        let e = env(&tone(1000.0, 0.5, 0.5));
        assert_eq!(e.values.len(), 50);
        assert!((e.start_s - 0.005).abs() < 1e-9 && (e.step_s - 0.01).abs() < 1e-9);
        for v in &e.values[5..] {
            assert!((v + 9.03).abs() < 0.3, "{v}");
        }
        // 50 Hz hum and 7 kHz hiss of the same amplitude are cut by more than 24 dB.
        for hz in [50.0, 7000.0] {
            let out = env(&tone(hz, 0.5, 0.5));
            let v = out.values[25];
            assert!(v < -9.03 - 24.0, "{hz} Hz: {v} dB");
        }
        // Quiet then loud: values in dB, floored 60 dB below the loudest frame.
        let mut x = vec![0.0f32; 1600];
        x.extend(tone(1000.0, 0.5, 0.2));
        let e = env(&x);
        let peak = e.values.iter().copied().fold(f32::MIN, f32::max);
        assert!(e.values[..5]
            .iter()
            .all(|v| (v - (peak - 60.0)).abs() < 1e-4));
        // Scaling the input shifts the envelope, it does not change its shape.
        let loud: Vec<f32> = x.iter().map(|v| v * 0.1).collect();
        let l = env(&loud);
        for (a, b) in l.values.iter().zip(&e.values) {
            assert!((a - (b - 20.0)).abs() < 0.05, "{a} vs {b}");
        }
        // Silence: flat. Bad inputs: errors.
        assert!(env(&[0.0; 800]).values.windows(2).all(|w| w[0] == w[1]));
        assert!(band_db_envelope(&[0.0; 10], 0, 0.01, 300.0, 3000.0, 60.0).is_err());
        assert!(band_db_envelope(&[0.0; 10], 16_000, 0.01, 3000.0, 300.0, 60.0).is_err());
        assert!(band_db_envelope(&[0.0; 10], 16_000, 0.01, 9000.0, 9500.0, 60.0).is_err());
        assert!(band_db_envelope(&[0.0; 10], 16_000, 0.01, 300.0, 3000.0, 0.0).is_err());
        assert!(band_db_envelope(&[0.0; 10], 16_000, 0.01, f32::NAN, 3000.0, 40.0).is_err());
        assert_eq!(
            band_db_envelope(&[0.0, f32::NAN], 16_000, 0.01, 300.0, 3000.0, 40.0),
            Err(SegmentError::NonFinite { index: 1 })
        );
        // An open high side (above Nyquist) is allowed.
        assert!(
            band_db_envelope(&tone(1000.0, 0.5, 0.1), 16_000, 0.01, 100.0, 9000.0, 40.0).is_ok()
        );
    }
}
