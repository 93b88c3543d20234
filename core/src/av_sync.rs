//! Audio-visual synchrony: does the mouth move with the voice?
//!
//! [`av_sync_score`] correlates the speech energy envelope (from
//! [`crate::speech_segments::rms_envelope`]) with the mouth aperture measured on the video
//! frames (any rate, irregular timestamps allowed) over a small range of lags:
//! 1. both signals are resampled by linear interpolation onto a common grid (default 100 Hz)
//!    over the time both cover; the envelope is first smoothed with a moving average of about
//!    one video frame (default 40 ms) so both carry the same bandwidth;
//! 2. optionally both are differentiated ([`SyncSignal::Derivative`]: onsets and closures
//!    instead of levels, which ignores slow drifts such as the head moving closer);
//! 3. for every lag in `−max_lag_ms..=max_lag_ms` (grid steps) the Pearson correlation of the
//!    overlapping parts is computed (each z-normalised on its own part); the best lag wins.
//!
//! A signal without variation (a still photo has a constant aperture, digital silence a zero
//! envelope) has no correlation with anything: the score is 0, never NaN. Only positive
//! correlation counts as synchrony (a negative maximum is reported as is).
//!
//! Correlation ignores amplitude: the landmark jitter of a photo held in a moving hand (an
//! aperture wobbling by a thousandth of the eye distance) correlates with a voice by chance
//! about as well as a talking mouth does over a few seconds. [`AvSyncScore::aperture_spread`]
//! measures how much the mouth really moves, and [`AvSyncConfig::in_sync`] requires both.
//!
//! `lag_ms > 0` means the audio lags the video: aperture at `t` matches the envelope at
//! `t + lag`. Natural speech usually shows the mouth opening slightly before the sound.

use crate::speech_segments::Envelope;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors of the synchrony score.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AvSyncError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A mouth sample's time or aperture is not finite, or times do not increase.
    #[error("mouth sample {index} is invalid (non-finite or not after the previous one)")]
    InvalidMouthSample {
        /// Index of the bad sample.
        index: usize,
    },
    /// The envelope's timing or values are not finite, or its step is not positive.
    #[error("invalid audio envelope")]
    InvalidEnvelope,
    /// The common time span is longer than [`MAX_OVERLAP_S`].
    #[error("audio and video overlap for {0:.0} s, more than {MAX_OVERLAP_S} s")]
    TooLong(f64),
    /// The two signals overlap too little in time (or one is too short).
    #[error("audio and video overlap for {overlap_s:.3} s, need {needed_s:.3} s")]
    InsufficientOverlap {
        /// Overlap found (s).
        overlap_s: f64,
        /// Overlap required (s).
        needed_s: f64,
    },
}

/// Longest common time span analysed (s); a certification clip lasts well under a minute.
pub const MAX_OVERLAP_S: f64 = 600.0;

/// One mouth-aperture measurement (e.g. inner-lip distance over mouth width) on a video frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MouthSample {
    /// Frame time (s), on the same clock as the audio envelope.
    pub t_s: f64,
    /// Mouth aperture: [`crate::mouth::mouth_aperture`] (the correlation accepts any unit;
    /// [`AvSyncConfig::min_aperture_spread`] assumes this one).
    pub aperture: f32,
}

/// Which form of the signals is correlated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncSignal {
    /// The aperture and the envelope themselves.
    Level,
    /// Their time derivatives (frame-to-frame changes on the grid).
    Derivative,
}

/// Default [`AvSyncConfig::min_correlation`]: 0.25 (with [`SyncSignal::Derivative`]).
///
/// Measured on the real talking clips of the evaluation data (`core/tests/voice.rs`, test
/// `av_sync_on_real_clips`): the seven GRID clips (3 s, 25 fps, six speakers), mouth aperture
/// from [`crate::mouth::mouth_aperture`] on every frame, 10 ms RMS envelope of the clip's
/// audio at 16 kHz, all other options at their defaults. Correlation:
///
/// | video + audio | `Derivative` | `Level` |
/// | --- | --- | --- |
/// | own audio (7) | 0.305 – 0.477, mean 0.39 | 0.351 – 0.604, mean 0.49 |
/// | another GRID clip's audio (42) | 0.131 – 0.624, mean 0.29 | 0.090 – 0.571, mean 0.42 |
/// | first frame repeated + own audio (10 clips) | 0 | 0 |
/// | first frame moved by a hand + own audio (10) | 0.142 – 0.345, mean 0.21 | −0.03 – 0.35, mean 0.18 |
/// | own > other (pairwise, AUC) | 0.82 | 0.71 |
///
/// No threshold separates own from other-speaker audio on clips this short (about ten
/// syllables each, and GRID's fixed sentence grammar makes other speakers' sentences move
/// alike); `Derivative` separates better, so it is the default. 0.25 keeps a margin of 0.05
/// below the lowest own-audio score, rejects a still photo (score 0) and accepts 25 of the 42
/// other-speaker pairs: synchrony shows that *a* mouth moves with *a* voice; it is not, on its
/// own, proof against a replayed video of someone talking. A photo moved by a hand can reach
/// 0.35 by chance; [`DEFAULT_MIN_APERTURE_SPREAD`] rejects it.
pub const DEFAULT_MIN_CORRELATION: f32 = 0.25;

/// Default [`AvSyncConfig::min_aperture_spread`]: 0.03 (5th-to-95th-percentile range of
/// [`crate::mouth::mouth_aperture`], i.e. of the inner-lip gap over the eye distance).
///
/// Measured on the same clips: talking mouths 0.048 – 0.167 on GRID (the lowest a speaker who
/// barely opens his mouth) and 0.23 – 0.31 on LivePortrait; the first frame moved as by a hand
/// (±2 px shift, ±2 % zoom, ±1° tilt, every frame analysed) 0.002 – 0.019 (the highest for a
/// photo with the lips slightly apart). 0.03 lies between the two groups.
pub const DEFAULT_MIN_APERTURE_SPREAD: f32 = 0.03;

/// Options of [`av_sync_score`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AvSyncConfig {
    /// Common grid rate (Hz), 10..=1000. Default 100.
    pub grid_hz: f64,
    /// Largest lag tried either way (ms), 0..=2000. Default 200.
    pub max_lag_ms: f64,
    /// Level or derivative correlation. Default [`SyncSignal::Derivative`] (separates own from
    /// other speakers' audio better on real clips, see [`DEFAULT_MIN_CORRELATION`]).
    pub signal: SyncSignal,
    /// Moving-average width applied to the envelope (s), 0 = off. Default 0.04.
    pub smooth_audio_s: f64,
    /// Least time both signals must cover (s). Default 1.0.
    pub min_overlap_s: f64,
    /// Least [`AvSyncScore::correlation`] that counts as "mouth and voice in sync"
    /// ([`AvSyncConfig::in_sync`]), −1..=1. Default [`DEFAULT_MIN_CORRELATION`] (0.25),
    /// chosen from the measurements documented there; it belongs to the default `signal`.
    pub min_correlation: f32,
    /// Least [`AvSyncScore::aperture_spread`] that counts as a moving mouth
    /// ([`AvSyncConfig::in_sync`]), ≥ 0, in the unit of [`crate::mouth::mouth_aperture`]
    /// (set 0 for apertures in another unit). Default [`DEFAULT_MIN_APERTURE_SPREAD`] (0.03).
    pub min_aperture_spread: f32,
}

impl Default for AvSyncConfig {
    fn default() -> Self {
        Self {
            grid_hz: 100.0,
            max_lag_ms: 200.0,
            signal: SyncSignal::Derivative,
            smooth_audio_s: 0.04,
            min_overlap_s: 1.0,
            min_correlation: DEFAULT_MIN_CORRELATION,
            min_aperture_spread: DEFAULT_MIN_APERTURE_SPREAD,
        }
    }
}

impl AvSyncConfig {
    /// Whether `score` shows mouth and voice in sync: the correlation reaches
    /// [`AvSyncConfig::min_correlation`] *and* the mouth really moves
    /// ([`AvSyncConfig::min_aperture_spread`]).
    pub fn in_sync(&self, score: &AvSyncScore) -> bool {
        score.correlation >= self.min_correlation
            && score.aperture_spread >= self.min_aperture_spread
    }
}

/// Result of [`av_sync_score`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AvSyncScore {
    /// Best Pearson correlation over the lags, −1..=1 (0 when a signal does not vary).
    pub correlation: f32,
    /// Lag of the best correlation (ms); positive: audio after video.
    pub lag_ms: f32,
    /// Video frames inside the common time span.
    pub frames_used: usize,
    /// How much the mouth moves: the 5th-to-95th-percentile range of the aperture over the
    /// frames inside the common time span (in the aperture's unit).
    pub aperture_spread: f32,
}

/// Correlation of mouth aperture and speech envelope, maximised over lags (see the module
/// documentation).
pub fn av_sync_score(
    mouth: &[MouthSample],
    envelope: &Envelope,
    config: &AvSyncConfig,
) -> Result<AvSyncScore, AvSyncError> {
    validate(config)?;
    for (i, m) in mouth.iter().enumerate() {
        let bad =
            !m.t_s.is_finite() || !m.aperture.is_finite() || (i > 0 && m.t_s <= mouth[i - 1].t_s);
        if bad {
            return Err(AvSyncError::InvalidMouthSample { index: i });
        }
    }
    if !(envelope.start_s.is_finite() && envelope.step_s.is_finite() && envelope.step_s > 0.0)
        || envelope.values.iter().any(|v| !v.is_finite())
    {
        return Err(AvSyncError::InvalidEnvelope);
    }
    let needed_s = config.min_overlap_s;
    let (Some(first), Some(last)) = (mouth.first(), mouth.last()) else {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s: 0.0,
            needed_s,
        });
    };
    if envelope.values.is_empty() {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s: 0.0,
            needed_s,
        });
    }
    let env_end = envelope.start_s + (envelope.values.len() - 1) as f64 * envelope.step_s;
    let t0 = first.t_s.max(envelope.start_s);
    let t1 = last.t_s.min(env_end);
    let overlap_s = (t1 - t0).max(0.0);
    if overlap_s < needed_s || overlap_s <= 0.0 {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s,
            needed_s,
        });
    }
    if overlap_s > MAX_OVERLAP_S {
        return Err(AvSyncError::TooLong(overlap_s));
    }
    let _span = tracing::trace_span!("av_sync", frames = mouth.len()).entered();
    let mut used: Vec<f32> = mouth
        .iter()
        .filter(|m| m.t_s >= t0 && m.t_s <= t1)
        .map(|m| m.aperture)
        .collect();
    let frames_used = used.len();
    let aperture_spread = spread_5_95(&mut used);

    // Smooth the envelope (centred moving average over about `smooth_audio_s`).
    let half = ((config.smooth_audio_s / envelope.step_s) / 2.0).floor() as usize;
    let env = moving_average(&envelope.values, half.min(envelope.values.len()));

    // Resample both onto the grid.
    let n = (overlap_s * config.grid_hz).floor() as usize + 1;
    let grid = |k: usize| t0 + k as f64 / config.grid_hz;
    let mut a = Vec::with_capacity(n);
    let mut e = Vec::with_capacity(n);
    let mut seg = 0usize;
    for k in 0..n {
        let t = grid(k);
        while seg + 2 < mouth.len() && mouth[seg + 1].t_s < t {
            seg += 1;
        }
        a.push(interp_pair(mouth, seg, t));
        let pos = ((t - envelope.start_s) / envelope.step_s).max(0.0);
        let i = (pos.floor() as usize).min(env.len() - 1);
        let j = (i + 1).min(env.len() - 1);
        let f = pos - i as f64;
        e.push(env[i] * (1.0 - f) + env[j] * f);
    }
    if config.signal == SyncSignal::Derivative {
        a = diff(&a);
        e = diff(&e);
    }

    // Best lag. Each lag needs at least half the grid in common.
    let max_lag = (config.max_lag_ms / 1000.0 * config.grid_hz).round() as i64;
    let min_len = (a.len() / 2).max(2);
    let mut best = (f64::NEG_INFINITY, 0i64);
    for lag in -max_lag..=max_lag {
        // a[k] with e[k + lag].
        let (a_part, e_part) = if lag >= 0 {
            let l = lag as usize;
            if l >= e.len() {
                continue;
            }
            (&a[..a.len() - l], &e[l..])
        } else {
            let l = (-lag) as usize;
            if l >= a.len() {
                continue;
            }
            (&a[l..], &e[..e.len() - l])
        };
        if a_part.len() < min_len {
            continue;
        }
        let r = pearson(a_part, e_part);
        // Prefer the smaller |lag| on ties (e.g. all zero for a constant signal).
        if r > best.0 + 1e-12 || ((r - best.0).abs() <= 1e-12 && lag.abs() < best.1.abs()) {
            best = (r, lag);
        }
    }
    let (r, lag) = if best.0.is_finite() { best } else { (0.0, 0) };
    Ok(AvSyncScore {
        correlation: r as f32,
        lag_ms: (lag as f64 * 1000.0 / config.grid_hz) as f32,
        frames_used,
        aperture_spread,
    })
}

fn validate(c: &AvSyncConfig) -> Result<(), AvSyncError> {
    if !(10.0..=1000.0).contains(&c.grid_hz) {
        return Err(AvSyncError::InvalidConfig("grid_hz must be 10..=1000"));
    }
    if !(0.0..=2000.0).contains(&c.max_lag_ms) {
        return Err(AvSyncError::InvalidConfig("max_lag_ms must be 0..=2000"));
    }
    if !(0.0..=1.0).contains(&c.smooth_audio_s) {
        return Err(AvSyncError::InvalidConfig("smooth_audio_s must be 0..=1"));
    }
    if !(0.0..=3600.0).contains(&c.min_overlap_s) {
        return Err(AvSyncError::InvalidConfig("min_overlap_s must be 0..=3600"));
    }
    if !(-1.0..=1.0).contains(&c.min_correlation) {
        return Err(AvSyncError::InvalidConfig("min_correlation must be -1..=1"));
    }
    if !(c.min_aperture_spread.is_finite() && c.min_aperture_spread >= 0.0) {
        return Err(AvSyncError::InvalidConfig(
            "min_aperture_spread must be finite and >= 0",
        ));
    }
    Ok(())
}

/// The 5th-to-95th-percentile range of `x` (nearest rank; 0 for fewer than two values).
fn spread_5_95(x: &mut [f32]) -> f32 {
    if x.len() < 2 {
        return 0.0;
    }
    x.sort_by(f32::total_cmp);
    let at = |q: f64| x[((x.len() - 1) as f64 * q).round() as usize];
    at(0.95) - at(0.05)
}

/// Linear interpolation of the aperture at `t` between samples `seg` and `seg + 1` (held
/// constant outside the samples).
fn interp_pair(m: &[MouthSample], seg: usize, t: f64) -> f64 {
    let p = m[seg];
    let Some(q) = m.get(seg + 1) else {
        return f64::from(p.aperture);
    };
    let f = ((t - p.t_s) / (q.t_s - p.t_s)).clamp(0.0, 1.0);
    f64::from(p.aperture) * (1.0 - f) + f64::from(q.aperture) * f
}

fn moving_average(x: &[f32], half: usize) -> Vec<f64> {
    let n = x.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0f64);
    for v in x {
        let last = prefix[prefix.len() - 1];
        prefix.push(last + f64::from(*v));
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(n);
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

fn diff(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Pearson correlation; 0 when either side has (numerically) no variance.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    // Relative variance floor: constant signals (up to rounding) count as flat.
    let flat = |s: f64, m: f64| s <= 1e-12 * n as f64 * (m * m).max(1e-12);
    if flat(saa, ma) || flat(sbb, mb) {
        return 0.0;
    }
    let r = sab / (saa.sqrt() * sbb.sqrt());
    if r.is_finite() {
        r.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift noise in −0.5..0.5 (deterministic test data).
    struct Noise(u64);
    impl Noise {
        /// Seeds through SplitMix64 so that small, close seeds give unrelated streams.
        fn new(seed: u64) -> Self {
            let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Noise((z ^ (z >> 31)) | 1)
        }

        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// A syllable-like activity curve: random bursts of 120–300 ms with pauses, `secs` long,
    /// as a function of time.
    fn syllables(seed: u64, secs: f64) -> impl Fn(f64) -> f64 {
        let mut n = Noise::new(seed);
        let mut bursts = Vec::new();
        let mut t = 0.2;
        while t < secs {
            let len = 0.12 + 0.18 * (n.next() + 0.5);
            let amp = 0.5 + (n.next() + 0.5);
            bursts.push((t, len, amp));
            t += len + 0.08 + 0.3 * (n.next() + 0.5);
        }
        move |t: f64| {
            bursts
                .iter()
                .map(|&(s, l, a)| {
                    if t > s && t < s + l {
                        a * (std::f64::consts::PI * (t - s) / l).sin()
                    } else {
                        0.0
                    }
                })
                .sum()
        }
    }

    fn envelope_of(f: &dyn Fn(f64) -> f64, secs: f64, noise: &mut Noise) -> Envelope {
        let n = (secs * 100.0) as usize;
        Envelope {
            start_s: 0.005,
            step_s: 0.01,
            values: (0..n)
                .map(|i| (f(0.005 + i as f64 * 0.01) * 0.1 + 0.002 * (noise.next() + 0.5)) as f32)
                .collect(),
        }
    }

    /// Video frames at ~25 fps with ±5 ms jitter; aperture = activity at `t − delay` + noise.
    fn mouth_of(
        f: &dyn Fn(f64) -> f64,
        secs: f64,
        delay: f64,
        noise: &mut Noise,
    ) -> Vec<MouthSample> {
        let mut out = Vec::new();
        let mut k = 0;
        loop {
            let t = 0.02 + k as f64 * 0.04 + 0.01 * noise.next();
            if t > secs {
                break;
            }
            let aperture = 0.05 + 0.3 * f(t + delay) + 0.05 * noise.next();
            out.push(MouthSample {
                t_s: t,
                aperture: aperture as f32,
            });
            k += 1;
        }
        out
    }

    #[test]
    fn delayed_noisy_copy_scores_high_at_the_right_lag() {
        let mut noise = Noise::new(0x9e37_79b9_7f4a_7c15);
        let speech = syllables(1, 4.0);
        let env = envelope_of(&speech, 4.0, &mut noise);
        // The mouth leads the sound by 80 ms: the audio lags the video by +80 ms.
        let mouth = mouth_of(&speech, 4.0, 0.08, &mut noise);
        for signal in [SyncSignal::Level, SyncSignal::Derivative] {
            let cfg = AvSyncConfig {
                signal,
                ..Default::default()
            };
            let s = av_sync_score(&mouth, &env, &cfg).unwrap();
            eprintln!("{signal:?}: {s:?}");
            assert!(s.correlation > 0.7, "{s:?}");
            assert!((s.lag_ms - 80.0).abs() <= 30.0, "{s:?}");
            assert!(s.frames_used >= 95 && s.frames_used <= 100, "{s:?}");
        }
    }

    #[test]
    fn constant_aperture_scores_zero() {
        let mut noise = Noise::new(7);
        let speech = syllables(2, 3.0);
        let env = envelope_of(&speech, 3.0, &mut noise);
        let still: Vec<MouthSample> = (0..75)
            .map(|k| MouthSample {
                t_s: 0.02 + k as f64 * 0.04,
                aperture: 0.123,
            })
            .collect();
        for signal in [SyncSignal::Level, SyncSignal::Derivative] {
            let s = av_sync_score(
                &still,
                &env,
                &AvSyncConfig {
                    signal,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(s.correlation, 0.0, "{s:?}");
            assert_eq!(s.lag_ms, 0.0);
        }
        // Silent audio against a moving mouth: also 0.
        let silent = Envelope {
            start_s: 0.005,
            step_s: 0.01,
            values: vec![0.0; 300],
        };
        let mouth = mouth_of(&speech, 3.0, 0.0, &mut noise);
        let s = av_sync_score(&mouth, &silent, &AvSyncConfig::default()).unwrap();
        assert_eq!(s.correlation, 0.0);
    }

    #[test]
    fn unrelated_and_shuffled_envelopes_score_low() {
        // Two independent syllable trains of 4 s (about ten bursts) still correlate by chance
        // (few independent events), so the test bounds the mean and the worst case over 20
        // pairs, well below the matched pairs' ≥ 0.9.
        let mut noise = Noise::new(99);
        for signal in [SyncSignal::Level, SyncSignal::Derivative] {
            let cfg = AvSyncConfig {
                signal,
                ..Default::default()
            };
            let (mut sum, mut worst, mut shuffled_worst) = (0f32, f32::MIN, f32::MIN);
            let mut matched_worst = f32::MAX;
            for seed in 0..20u64 {
                let speech = syllables(100 + seed, 4.0);
                let env = envelope_of(&speech, 4.0, &mut noise);
                let mouth = mouth_of(&syllables(200 + seed, 4.0), 4.0, 0.0, &mut noise);
                let s = av_sync_score(&mouth, &env, &cfg).unwrap();
                sum += s.correlation;
                worst = worst.max(s.correlation);
                // The right mouth, but the envelope cut into 250 ms blocks in reversed order.
                let own = mouth_of(&speech, 4.0, 0.05, &mut noise);
                matched_worst =
                    matched_worst.min(av_sync_score(&own, &env, &cfg).unwrap().correlation);
                let blocks: Vec<&[f32]> = env.values.chunks(25).rev().collect();
                let shuffled = Envelope {
                    values: blocks.concat(),
                    ..env.clone()
                };
                let s = av_sync_score(&own, &shuffled, &cfg).unwrap();
                shuffled_worst = shuffled_worst.max(s.correlation);
            }
            let mean = sum / 20.0;
            eprintln!(
                "{signal:?}: unrelated mean {mean:.3} max {worst:.3}; shuffled max {shuffled_worst:.3}; matched min {matched_worst:.3}"
            );
            assert!(mean < 0.4, "{signal:?}: unrelated mean {mean}");
            assert!(worst < 0.7, "{signal:?}: unrelated max {worst}");
            assert!(
                shuffled_worst < 0.7,
                "{signal:?}: shuffled max {shuffled_worst}"
            );
            assert!(
                matched_worst > 0.85,
                "{signal:?}: matched min {matched_worst}"
            );
        }
    }

    #[test]
    fn a_barely_moving_mouth_is_not_in_sync() {
        let mut noise = Noise::new(5);
        let speech = syllables(3, 3.0);
        let env = envelope_of(&speech, 3.0, &mut noise);
        let cfg = AvSyncConfig::default();
        // A talking mouth: aperture 0.05 + 0.3 · activity.
        let talking = mouth_of(&speech, 3.0, 0.0, &mut noise);
        let s = av_sync_score(&talking, &env, &cfg).unwrap();
        assert!(s.aperture_spread > 0.1 && cfg.in_sync(&s), "{s:?}");
        // The same motion a hundred times smaller: same correlation, not a moving mouth.
        let tiny: Vec<MouthSample> = talking
            .iter()
            .map(|m| MouthSample {
                aperture: 0.05 + (m.aperture - 0.05) / 100.0,
                ..*m
            })
            .collect();
        let t = av_sync_score(&tiny, &env, &cfg).unwrap();
        assert!(
            (t.correlation - s.correlation).abs() < 1e-3,
            "{t:?} vs {s:?}"
        );
        assert!(t.aperture_spread < 0.01 && !cfg.in_sync(&t), "{t:?}");
        // With the gate off, correlation alone decides.
        let no_gate = AvSyncConfig {
            min_aperture_spread: 0.0,
            ..cfg
        };
        assert!(no_gate.in_sync(&t));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let env = Envelope {
            start_s: 0.0,
            step_s: 0.01,
            values: vec![0.1; 300],
        };
        let ok: Vec<MouthSample> = (0..75)
            .map(|k| MouthSample {
                t_s: k as f64 * 0.04,
                aperture: (k % 3) as f32,
            })
            .collect();
        let cfg = AvSyncConfig::default();
        assert!(av_sync_score(&ok, &env, &cfg).is_ok());
        assert!(matches!(
            av_sync_score(&[], &env, &cfg),
            Err(AvSyncError::InsufficientOverlap { .. })
        ));
        let mut back = ok.clone();
        back[10].t_s = back[9].t_s;
        assert_eq!(
            av_sync_score(&back, &env, &cfg),
            Err(AvSyncError::InvalidMouthSample { index: 10 })
        );
        let mut nan = ok.clone();
        nan[3].aperture = f32::NAN;
        assert!(av_sync_score(&nan, &env, &cfg).is_err());
        let bad_env = Envelope {
            step_s: 0.0,
            ..env.clone()
        };
        assert_eq!(
            av_sync_score(&ok, &bad_env, &cfg),
            Err(AvSyncError::InvalidEnvelope)
        );
        let empty_env = Envelope {
            values: vec![],
            ..env.clone()
        };
        assert!(av_sync_score(&ok, &empty_env, &cfg).is_err());
        // No overlap in time.
        let late: Vec<MouthSample> = ok
            .iter()
            .map(|m| MouthSample {
                t_s: m.t_s + 100.0,
                ..*m
            })
            .collect();
        assert!(matches!(
            av_sync_score(&late, &env, &cfg),
            Err(AvSyncError::InsufficientOverlap { .. })
        ));
        // A single frame with no overlap requirement still gives no panic.
        let relaxed = AvSyncConfig {
            min_overlap_s: 0.0,
            ..cfg
        };
        assert!(av_sync_score(&ok[..1], &env, &relaxed).is_err());
        assert!(av_sync_score(&ok[..2], &env, &relaxed).is_ok());
        for bad in [
            AvSyncConfig {
                grid_hz: 0.0,
                ..cfg
            },
            AvSyncConfig {
                max_lag_ms: f64::NAN,
                ..cfg
            },
            AvSyncConfig {
                smooth_audio_s: -1.0,
                ..cfg
            },
            AvSyncConfig {
                min_overlap_s: f64::INFINITY,
                ..cfg
            },
            AvSyncConfig {
                min_correlation: f32::NAN,
                ..cfg
            },
            AvSyncConfig {
                min_correlation: 1.5,
                ..cfg
            },
            AvSyncConfig {
                min_aperture_spread: -0.1,
                ..cfg
            },
        ] {
            assert!(matches!(
                av_sync_score(&ok, &env, &bad),
                Err(AvSyncError::InvalidConfig(_))
            ));
        }
    }
}
