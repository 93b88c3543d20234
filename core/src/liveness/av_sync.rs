//! Audio-visual synchrony: does the mouth move with the voice — and with *this* voice?
//!
//! Two entry points share one correlation:
//! * [`score_answer`] scores a spoken answer digit by digit from the raw audio: the speech
//!   envelope ([`speech_envelope`]: by default the 100–4000 Hz band in dB, floored 30 dB below
//!   its peak, [`crate::audio::segments::band_db_envelope`]) against the mouth aperture in a
//!   window around each digit's span, every digit at its own best lag near the answer's
//!   common lag, all digits pooled at one lag ([`AnswerSync::whole`]: a speaker's mouth leads
//!   his voice by the same delay in every digit, a dubbed voice fits each digit at another),
//!   and the mouth at rest in the pauses ([`MouthRest`]). [`AvSyncConfig::judge`] decides and
//!   names the rule that failed ([`SyncFailure`]).
//! * [`av_sync_score`] scores one whole window against a given envelope (kept for the
//!   whole-answer check; [`AvSyncConfig::in_sync`]).
//!
//! The correlation:
//! 1. both signals are resampled by linear interpolation onto a common grid (default 100 Hz);
//!    the envelope is first smoothed with a moving average of about one video frame (default
//!    40 ms) so both carry the same bandwidth;
//! 2. optionally both are differentiated ([`SyncSignal::Derivative`]: onsets and closures
//!    instead of levels, which ignores slow drifts such as the head moving closer);
//! 3. for every lag in `min_lag_ms..=max_lag_ms` (grid steps; default −60…+140 ms, audio
//!    lagging) the Pearson correlation of the overlapping parts is computed; the best lag wins.
//!
//! A signal without variation (a still photo has a constant aperture, digital silence a zero
//! envelope) has no correlation with anything: the score is 0, never NaN. Only positive
//! correlation counts as synchrony (a negative maximum is reported as is).
//!
//! Correlation ignores amplitude: the landmark jitter of a photo held in a moving hand (an
//! aperture wobbling by a thousandth of the eye distance) correlates with a voice by chance
//! about as well as a talking mouth does over a few seconds. [`AvSyncScore::aperture_spread`]
//! measures how much the mouth really moves, and both [`AvSyncConfig::in_sync`] and
//! [`AvSyncConfig::judge`] require it.
//!
//! `lag_ms > 0` means the audio lags the video: aperture at `t` matches the envelope at
//! `t + lag`. Natural speech usually shows the mouth opening slightly before the sound.
//!
//! What the numbers mean against the fraud (measured on GRID, see
//! [`DEFAULT_MIN_ANSWER_CORRELATION`]): a relative's voice dubbed over the retiree's talking
//! video with *perfect* timing passes the sync check alone in about a third of 3-digit
//! answers (against two thirds of whole sentences with the old whole-window score); a still
//! or hand-held photo never passes, nor did a talking video with digits read over it.

use crate::audio::segments::{band_db_envelope, rms_envelope, Envelope, SegmentError};
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
    /// An audio sample is not finite.
    #[error("audio sample {index} is not finite")]
    InvalidAudio {
        /// Index of the bad sample.
        index: usize,
    },
    /// [`score_answer`] was given no digit span.
    #[error("no digit spans to score")]
    NoDigitSpans,
    /// A digit span is not finite, ends before it starts, or starts before the previous one.
    #[error("digit span {index} is invalid")]
    InvalidSpan {
        /// Index of the bad span.
        index: usize,
    },
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

/// Frame step of the envelopes [`speech_envelope`] computes (s).
pub const ENVELOPE_STEP_S: f64 = 0.01;

/// One mouth-aperture measurement (e.g. inner-lip distance over mouth width) on a video frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MouthSample {
    /// Frame time (s), on the same clock as the audio envelope.
    pub t_s: f64,
    /// Mouth aperture: [`crate::face::mouth::mouth_aperture`] (the correlation accepts any unit;
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

/// Which speech envelope [`speech_envelope`] (and so [`score_answer`]) computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvelopeKind {
    /// Linear RMS of the whole signal ([`rms_envelope`]).
    Rms,
    /// Energy in the band [`AvSyncConfig::band_low_hz`]–[`AvSyncConfig::band_high_hz`] in dB,
    /// floored [`AvSyncConfig::band_floor_db`] below the loudest frame ([`band_db_envelope`]).
    BandDb,
}

/// Default [`AvSyncConfig::min_correlation`] of the whole-window check [`av_sync_score`] /
/// [`AvSyncConfig::in_sync`]: 0.2 (with [`SyncSignal::Derivative`], an RMS envelope and the
/// default lags −60…+140 ms).
///
/// Measured on the real talking clips of the evaluation data (`core/tests/voice.rs`, test
/// `av_sync_on_real_clips`): the seven GRID clips (3 s, 25 fps, six speakers), mouth aperture
/// from [`crate::face::mouth::mouth_aperture`] on every frame, 10 ms RMS envelope of the clip's
/// audio at 16 kHz, all other options at their defaults. Correlation:
///
/// | video + audio | `Derivative` −60…+140 ms | `Derivative` ±200 ms (before) | `Level` −60…+140 ms |
/// | --- | --- | --- | --- |
/// | own audio (7) | 0.254 – 0.477, mean 0.385 | 0.305 – 0.477, mean 0.39 | 0.228 – 0.604, mean 0.47 |
/// | another GRID clip's audio (42) | 0.024 – 0.624, mean 0.253 | 0.131 – 0.624, mean 0.29 | 0.090 – 0.547, mean 0.39 |
/// | first frame repeated + own audio (10 clips) | 0 | 0 | 0 |
/// | own > other (pairwise, AUC) | 0.83 | 0.82 | 0.72 |
///
/// A whole 3-s sentence does not separate own from other-speaker audio: 0.2 keeps a margin of
/// 0.05 below the lowest own-audio score and accepts 27 of the 42 other-speaker pairs — the
/// same share as before. Use [`score_answer`] and [`AvSyncConfig::judge`] for answers: they
/// score each digit and pool the digits at one lag. A photo moved by a hand can reach 0.35 by
/// chance; [`DEFAULT_MIN_APERTURE_SPREAD`] rejects it.
pub const DEFAULT_MIN_CORRELATION: f32 = 0.2;

/// Default [`AvSyncConfig::min_aperture_spread`]: 0.03 (5th-to-95th-percentile range of
/// [`crate::face::mouth::mouth_aperture`], i.e. of the inner-lip gap over the eye distance).
///
/// Measured on the same clips: talking mouths 0.048 – 0.167 on GRID (the lowest a speaker who
/// barely opens his mouth) and 0.23 – 0.31 on LivePortrait; the first frame moved as by a hand
/// (±2 px shift, ±2 % zoom, ±1° tilt, every frame analysed) 0.002 – 0.019 (the highest for a
/// photo with the lips slightly apart). 0.03 lies between the two groups.
pub const DEFAULT_MIN_APERTURE_SPREAD: f32 = 0.03;

/// Options of [`av_sync_score`] and [`score_answer`], and the thresholds of
/// [`AvSyncConfig::in_sync`] and [`AvSyncConfig::judge`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AvSyncConfig {
    /// Common grid rate (Hz), 10..=1000. Default 100.
    pub grid_hz: f64,
    /// Smallest lag tried (ms; negative: the audio before the video), −2000..=`max_lag_ms`.
    /// Default [`DEFAULT_MIN_LAG_MS`].
    pub min_lag_ms: f64,
    /// Largest lag tried (ms; positive: the audio after the video), `min_lag_ms`..=2000.
    /// Default [`DEFAULT_MAX_LAG_MS`].
    pub max_lag_ms: f64,
    /// Level or derivative correlation. Default [`SyncSignal::Derivative`] (separates own from
    /// other speakers' audio better on real clips, see [`DEFAULT_MIN_CORRELATION`]).
    pub signal: SyncSignal,
    /// Moving-average width applied to the envelope (s), 0..=1, 0 = off. Default 0.04.
    pub smooth_audio_s: f64,
    /// Least time both signals must cover for [`av_sync_score`] (s). Default 1.0.
    pub min_overlap_s: f64,
    /// Least [`AvSyncScore::correlation`] that counts as "mouth and voice in sync"
    /// ([`AvSyncConfig::in_sync`]), −1..=1. Default [`DEFAULT_MIN_CORRELATION`] (0.2),
    /// chosen from the measurements documented there; it belongs to the default `signal`.
    pub min_correlation: f32,
    /// Least [`AvSyncScore::aperture_spread`] that counts as a moving mouth
    /// ([`AvSyncConfig::in_sync`] and [`AvSyncConfig::judge`]), ≥ 0, in the unit of
    /// [`crate::face::mouth::mouth_aperture`] (set 0 for apertures in another unit). Default
    /// [`DEFAULT_MIN_APERTURE_SPREAD`] (0.03).
    pub min_aperture_spread: f32,
    /// The envelope [`score_answer`] computes from the audio. Default
    /// [`EnvelopeKind::BandDb`].
    pub envelope: EnvelopeKind,
    /// Lower edge of the speech band (Hz), ≥ 0 (0: open). Default [`DEFAULT_BAND_LOW_HZ`].
    pub band_low_hz: f32,
    /// Upper edge of the speech band (Hz), > `band_low_hz`. Default [`DEFAULT_BAND_HIGH_HZ`].
    pub band_high_hz: f32,
    /// Range of the dB envelope below its loudest frame (dB), 1..=120. Default
    /// [`DEFAULT_BAND_FLOOR_DB`].
    pub band_floor_db: f32,
    /// Context added before and after each digit span in [`score_answer`] (s), 0..=1.
    /// Default [`DEFAULT_DIGIT_MARGIN_S`].
    pub digit_margin_s: f64,
    /// Least pooled correlation of the digit windows ([`AnswerSync::whole`],
    /// [`AvSyncConfig::judge`]), −1..=1. Default [`DEFAULT_MIN_ANSWER_CORRELATION`].
    pub min_answer_correlation: f32,
    /// Least correlation of one digit window ([`AvSyncConfig::judge`]), −1..=1. Default
    /// [`DEFAULT_MIN_DIGIT_CORRELATION`].
    pub min_digit_correlation: f32,
    /// Each digit's lag is searched within the answer's pooled lag ± this (ms), ≥ 0: a
    /// speaker's mouth leads the voice by the same delay in every digit, a dubbed voice's
    /// digits each fit best at another lag. Default [`DEFAULT_DIGIT_LAG_TOLERANCE_MS`].
    pub digit_lag_tolerance_ms: f64,
    /// Digits allowed below `min_digit_correlation`. Default
    /// [`DEFAULT_MAX_DIGITS_OUT_OF_SYNC`].
    pub max_digits_out_of_sync: usize,
    /// Time left out at both ends of a pause before measuring the mouth at rest (s), 0..=1:
    /// the mouth closes after the sound ends and opens before it starts. Default 0.15.
    pub rest_margin_s: f64,
    /// Shortest pause (after the margins) measured (s), 0..=5. Default 0.1.
    pub min_rest_gap_s: f64,
    /// Largest [`MouthRest::movement_ratio`] ([`AvSyncConfig::judge`]), ≥ 0. Default
    /// [`DEFAULT_MAX_REST_MOVEMENT_RATIO`].
    pub max_rest_movement_ratio: f32,
}

/// Default [`AvSyncConfig::min_lag_ms`]: −60 ms (audio up to 60 ms before the video).
///
/// People notice audio more than ≈ 45 ms early or ≈ 125 ms late, so a recording that looks
/// natural lies within −45…+125 ms; the window adds 15 ms on each side for the phone's
/// camera/microphone timestamp offset. Measured best lags of the speakers' own audio
/// (`core/tests/voice.rs`, band dB envelope): −40…+100 ms over the 17 GRID sentences, +10…+30 ms
/// over the spliced multi-digit answers (`core/tests/av_sync_eval.rs`). With the audio shifted
/// against the video by −60…+60 ms the genuine answers still pass (39 of 40); at +80 ms their
/// lag reaches the window's edge and 8 of 40 fail. A shell that knows its device's offset
/// should remove it from the audio timestamps. A wider window accepts more dubs (offline
/// sweep: −60…+160 ms instead of −40…+120 ms raised the dubs accepted at 5 % genuine
/// rejections from 8.8 % to 9.8 %).
pub const DEFAULT_MIN_LAG_MS: f64 = -60.0;
/// Default [`AvSyncConfig::max_lag_ms`]: +140 ms (audio up to 140 ms after the video); see
/// [`DEFAULT_MIN_LAG_MS`].
pub const DEFAULT_MAX_LAG_MS: f64 = 140.0;
/// Default [`AvSyncConfig::band_low_hz`]: 100 Hz.
///
/// Offline sweep (40 spliced 3-digit answers of GRID speaker A and their dubs by 4 FSDD
/// speakers and 3 espeak voices, lags −40…+120 ms, 0.1 s digit margins, derivative signal):
/// AUC of the pooled correlation, own vs dubbed answers:
///
/// | band (Hz) | floor 15 dB | 20 dB | 25 dB | 30 dB | 40 dB | 60 dB |
/// | --- | --- | --- | --- | --- | --- | --- |
/// | 100–4000 | 0.953 | 0.969 | 0.978 | 0.980 | 0.959 | — |
/// | 200–3500 | 0.948 | 0.962 | 0.971 | 0.971 | — | — |
/// | 300–3000 | 0.929 | 0.959 | 0.967 | 0.968 | 0.944 | 0.931 |
/// | 500–2500 | — | — | — | — | 0.921 | — |
/// | RMS (no band, linear) | | | | | 0.901 | |
///
/// On whole 3-s GRID sentences (own vs another speaker's audio, 17 clips, 221 pairs) the
/// band dB envelopes reach AUC 0.90–0.93 against 0.88 for the RMS envelope.
pub const DEFAULT_BAND_LOW_HZ: f32 = 100.0;
/// Default [`AvSyncConfig::band_high_hz`]: 4000 Hz (see [`DEFAULT_BAND_LOW_HZ`]).
pub const DEFAULT_BAND_HIGH_HZ: f32 = 4000.0;
/// Default [`AvSyncConfig::band_floor_db`]: 30 dB (see [`DEFAULT_BAND_LOW_HZ`]).
pub const DEFAULT_BAND_FLOOR_DB: f32 = 30.0;
/// Default [`AvSyncConfig::digit_margin_s`]: 0.1 s (offline sweep as for
/// [`DEFAULT_BAND_LOW_HZ`], 300–3000 Hz, 40 dB: AUC of the pooled correlation 0.905 with
/// 0.05 s, 0.944 with 0.1 s, 0.947 with 0.2 s, 0.936 with 0.3 s; the mouth opens before the
/// sound and closes after it).
pub const DEFAULT_DIGIT_MARGIN_S: f64 = 0.1;
/// Default [`AvSyncConfig::min_answer_correlation`]: 0.35.
///
/// Measured by `core/tests/av_sync_eval.rs` with every default: 80 spliced 3-digit answers
/// of GRID speaker A (his own digit words, frames and audio together, pauses of his resting
/// mouth), and the same videos dubbed — another voice reading the same digits, each placed
/// exactly where his word starts and levelled to it — by 4 FSDD speakers, 3 espeak-ng voices
/// and other GRID speakers (587 dubs). Calibration / evaluation halves:
///
/// | answers | calibration | evaluation |
/// | --- | --- | --- |
/// | own: pooled correlation | min 0.282, p5 0.430, median 0.605 | min 0.240, p5 0.385, median 0.597 |
/// | own accepted | 39 / 40 | 39 / 40 |
/// | dubbed accepted | 99 / 320 (31 %) | 91 / 267 (34 %) |
/// | AUC own > dubbed (pooled correlation) | 0.962 | 0.937 |
///
/// Rejected own answers, e.g. "3 1 0" (pooled 0.24): this speaker's "zero" and "one" barely
/// move his mouth (their windows correlate at 0.00 and 0.22). The threshold keeps the
/// genuine rejections at 1 in 40 with the 5th percentile 0.035 above it; no threshold on
/// these data rejects 19 of 20 dubs while keeping 95 % of the genuine answers (the best,
/// without margin, is about 9 % of dubs accepted at 5 % of own answers rejected). Dubs are
/// accepted far less than whole sentences (27 of 42 = 64 % with [`av_sync_score`]), but the
/// sync check alone is not proof against a dub with perfect timing: the face match, the
/// digit check and the prompt timing are the other locks.
pub const DEFAULT_MIN_ANSWER_CORRELATION: f32 = 0.35;
/// Default [`AvSyncConfig::min_digit_correlation`]: 0.15.
///
/// Per digit window (span ± 0.1 s, lag within ±20 ms of the answer's) on the answers of
/// [`DEFAULT_MIN_ANSWER_CORRELATION`]: own digit words median 0.62 (p5 0.34), but this
/// speaker's "zero", "one" and "two" fall to 0.00–0.15 in some contexts; dubbed digits median
/// 0.33, p95 0.76 (per-digit AUC 0.80: one word is too short to tell voices apart). Hence one
/// digit may fall below ([`DEFAULT_MAX_DIGITS_OUT_OF_SYNC`]); two weak digits fail.
pub const DEFAULT_MIN_DIGIT_CORRELATION: f32 = 0.15;
/// Default [`AvSyncConfig::digit_lag_tolerance_ms`]: 20 ms (own answers' digit lags lie
/// within 20 ms of each other, except in words that barely move the mouth).
pub const DEFAULT_DIGIT_LAG_TOLERANCE_MS: f64 = 20.0;
/// Default [`AvSyncConfig::max_digits_out_of_sync`]: 1 (see
/// [`DEFAULT_MIN_DIGIT_CORRELATION`]).
pub const DEFAULT_MAX_DIGITS_OUT_OF_SYNC: usize = 1;
/// Default [`AvSyncConfig::max_rest_movement_ratio`]: 0.8.
///
/// Own spliced answers (pauses of the speaker's resting mouth, 80 answers): ratio 0.005 –
/// 0.51, median 0.10 (0.5 when the resting lips are parted and the landmarks jitter). A whole
/// talking GRID sentence with another voice reading three digits over it (6 clips): 0.03 –
/// 0.70, median 0.50 — the sentence's own pauses often fall where the reader pauses, so this
/// rule only catches a mouth that clearly keeps talking; those videos fail the correlation
/// (pooled 0.09 – 0.24). Real pauses of elderly readers were not available to measure: the
/// threshold is lenient on purpose.
pub const DEFAULT_MAX_REST_MOVEMENT_RATIO: f32 = 0.8;

impl Default for AvSyncConfig {
    fn default() -> Self {
        Self {
            grid_hz: 100.0,
            min_lag_ms: DEFAULT_MIN_LAG_MS,
            max_lag_ms: DEFAULT_MAX_LAG_MS,
            signal: SyncSignal::Derivative,
            smooth_audio_s: 0.04,
            min_overlap_s: 1.0,
            min_correlation: DEFAULT_MIN_CORRELATION,
            min_aperture_spread: DEFAULT_MIN_APERTURE_SPREAD,
            envelope: EnvelopeKind::BandDb,
            band_low_hz: DEFAULT_BAND_LOW_HZ,
            band_high_hz: DEFAULT_BAND_HIGH_HZ,
            band_floor_db: DEFAULT_BAND_FLOOR_DB,
            digit_margin_s: DEFAULT_DIGIT_MARGIN_S,
            min_answer_correlation: DEFAULT_MIN_ANSWER_CORRELATION,
            min_digit_correlation: DEFAULT_MIN_DIGIT_CORRELATION,
            digit_lag_tolerance_ms: DEFAULT_DIGIT_LAG_TOLERANCE_MS,
            max_digits_out_of_sync: DEFAULT_MAX_DIGITS_OUT_OF_SYNC,
            rest_margin_s: 0.15,
            min_rest_gap_s: 0.1,
            max_rest_movement_ratio: DEFAULT_MAX_REST_MOVEMENT_RATIO,
        }
    }
}

impl AvSyncConfig {
    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<(), AvSyncError> {
        validate(self)
    }

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
    check_mouth(mouth)?;
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
    let min_lag = (config.min_lag_ms / 1000.0 * config.grid_hz).round() as i64;
    let max_lag = (config.max_lag_ms / 1000.0 * config.grid_hz).round() as i64;
    let min_len = (a.len() / 2).max(2);
    let mut best = (f64::NEG_INFINITY, 0i64);
    for lag in min_lag..=max_lag {
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

/// The speech envelope [`score_answer`] uses: `audio` (any rate) in 10 ms frames, by
/// [`AvSyncConfig::envelope`].
pub fn speech_envelope(
    audio: &[f32],
    sample_rate: u32,
    config: &AvSyncConfig,
) -> Result<Envelope, AvSyncError> {
    let env = match config.envelope {
        EnvelopeKind::Rms => rms_envelope(audio, sample_rate, ENVELOPE_STEP_S),
        EnvelopeKind::BandDb => band_db_envelope(
            audio,
            sample_rate,
            ENVELOPE_STEP_S,
            config.band_low_hz,
            config.band_high_hz,
            config.band_floor_db,
        ),
    };
    env.map_err(|e| match e {
        SegmentError::NonFinite { index } => AvSyncError::InvalidAudio { index },
        _ => AvSyncError::InvalidConfig("envelope band, floor or sample rate out of range"),
    })
}

/// Synchrony of a spoken answer, digit by digit (see [`score_answer`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerSync {
    /// All digit windows pooled at one common lag (a genuine speaker's mouth leads the voice
    /// by the same delay in every digit); `aperture_spread` and `frames_used` cover the whole
    /// answer from the first window's start to the last one's end.
    pub whole: AvSyncScore,
    /// Each digit's window (its span ± [`AvSyncConfig::digit_margin_s`]) on its own, at its
    /// best lag within [`AvSyncConfig::digit_lag_tolerance_ms`] of the pooled lag.
    pub digits: Vec<AvSyncScore>,
    /// Largest minus smallest best lag of the digits (ms; at most twice
    /// [`AvSyncConfig::digit_lag_tolerance_ms`]).
    pub lag_spread_ms: f32,
    /// The mouth in the pauses between digits.
    pub rest: MouthRest,
}

/// How much the mouth moves in the pauses between digits, compared with while speaking.
///
/// Movement is the 5th-to-95th-percentile range of the aperture: within each pause (then
/// averaged over the pauses, weighted by their frames) and over all frames inside the digit
/// spans. A range, unlike frame-to-frame change, is not inflated by landmark jitter. A live
/// reader's mouth closes or stays still when the voice pauses; a replayed video of someone
/// talking keeps moving.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MouthRest {
    /// Pauses measured (those at least [`AvSyncConfig::min_rest_gap_s`] long once
    /// [`AvSyncConfig::rest_margin_s`] is taken off both ends).
    pub gaps: usize,
    /// Total time measured in the pauses (s).
    pub gap_s: f32,
    /// Aperture movement in the pauses (aperture units).
    pub gap_movement: f32,
    /// Aperture movement inside the digit spans (aperture units).
    pub speech_movement: f32,
    /// `gap_movement / speech_movement`; `None` when no pause was measured or the mouth does
    /// not move while speaking.
    pub movement_ratio: Option<f32>,
    /// Median aperture in the pauses (0 when none was measured).
    pub gap_aperture: f32,
    /// Median aperture inside the digit spans.
    pub speech_aperture: f32,
}

/// Which rule of [`AvSyncConfig::judge`] an answer failed, with the measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Error)]
#[non_exhaustive]
pub enum SyncFailure {
    /// The mouth barely moves over the answer (a photo).
    #[error("mouth aperture spread {spread:.3} < {min:.3}")]
    MouthStill {
        /// Measured [`AvSyncScore::aperture_spread`] of the whole answer.
        spread: f32,
        /// [`AvSyncConfig::min_aperture_spread`].
        min: f32,
    },
    /// The pooled correlation of the digits is too low.
    #[error("answer correlation {correlation:.3} < {min:.3}")]
    AnswerOutOfSync {
        /// Measured pooled correlation.
        correlation: f32,
        /// [`AvSyncConfig::min_answer_correlation`].
        min: f32,
    },
    /// Too many digits are out of sync on their own.
    #[error("{count} digit(s) below {min:.3} (worst: digit {worst_index} at {worst:.3})")]
    DigitsOutOfSync {
        /// Digits below the threshold.
        count: usize,
        /// Index (0-based) of the worst digit.
        worst_index: usize,
        /// Its correlation.
        worst: f32,
        /// [`AvSyncConfig::min_digit_correlation`].
        min: f32,
    },
    /// The mouth keeps moving while the voice pauses between digits.
    #[error("mouth movement in the pauses is {ratio:.2} of that while speaking (> {max:.2})")]
    MouthMovesInPauses {
        /// Measured [`MouthRest::movement_ratio`].
        ratio: f32,
        /// [`AvSyncConfig::max_rest_movement_ratio`].
        max: f32,
    },
}

impl AvSyncConfig {
    /// Whether an answer's mouth and voice belong together, rule by rule in this order: the
    /// mouth moves ([`AvSyncConfig::min_aperture_spread`] on the whole answer), the pooled
    /// correlation ([`AvSyncConfig::min_answer_correlation`]), the digits on their own (at most
    /// [`AvSyncConfig::max_digits_out_of_sync`] below
    /// [`AvSyncConfig::min_digit_correlation`]), and the mouth at rest in the pauses
    /// ([`AvSyncConfig::max_rest_movement_ratio`], when a pause was measured).
    pub fn judge(&self, s: &AnswerSync) -> Result<(), SyncFailure> {
        if s.whole.aperture_spread < self.min_aperture_spread {
            return Err(SyncFailure::MouthStill {
                spread: s.whole.aperture_spread,
                min: self.min_aperture_spread,
            });
        }
        if s.whole.correlation < self.min_answer_correlation {
            return Err(SyncFailure::AnswerOutOfSync {
                correlation: s.whole.correlation,
                min: self.min_answer_correlation,
            });
        }
        let below: Vec<(usize, f32)> = s
            .digits
            .iter()
            .map(|d| d.correlation)
            .enumerate()
            .filter(|(_, r)| *r < self.min_digit_correlation)
            .collect();
        if below.len() > self.max_digits_out_of_sync {
            let (worst_index, worst) = below
                .iter()
                .copied()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            return Err(SyncFailure::DigitsOutOfSync {
                count: below.len(),
                worst_index,
                worst,
                min: self.min_digit_correlation,
            });
        }
        if let Some(ratio) = s.rest.movement_ratio {
            if ratio > self.max_rest_movement_ratio {
                return Err(SyncFailure::MouthMovesInPauses {
                    ratio,
                    max: self.max_rest_movement_ratio,
                });
            }
        }
        Ok(())
    }
}

/// Scores a spoken answer digit by digit.
///
/// * `mouth`: aperture samples on the session clock (any frame rate, increasing times);
/// * `audio`: mono samples at `sample_rate`, the first one at `audio_start_s` on the same
///   clock (it must cover the answer; audio outside the digit windows and the lag range is
///   ignored);
/// * `digit_spans`: each digit's speech (start, end) in seconds on the session clock, in
///   order (e.g. the speech segments matched to the digits).
///
/// The envelope ([`speech_envelope`]) and the aperture are resampled onto one grid; each digit
/// window (span ± [`AvSyncConfig::digit_margin_s`]) is correlated with the envelope shifted by
/// every lag in `min_lag_ms..=max_lag_ms` ([`AnswerSync::digits`]), all windows together at
/// one common lag ([`AnswerSync::whole`]), and the pauses between digits are measured
/// ([`AnswerSync::rest`]). Decide with [`AvSyncConfig::judge`].
pub fn score_answer(
    mouth: &[MouthSample],
    audio: &[f32],
    audio_start_s: f64,
    sample_rate: u32,
    digit_spans: &[(f64, f64)],
    config: &AvSyncConfig,
) -> Result<AnswerSync, AvSyncError> {
    validate(config)?;
    check_mouth(mouth)?;
    if !audio_start_s.is_finite() || sample_rate == 0 {
        return Err(AvSyncError::InvalidConfig(
            "audio_start_s must be finite and sample_rate > 0",
        ));
    }
    if digit_spans.is_empty() {
        return Err(AvSyncError::NoDigitSpans);
    }
    for (i, &(s, e)) in digit_spans.iter().enumerate() {
        let bad = !(s.is_finite() && e.is_finite() && e > s) || (i > 0 && s < digit_spans[i - 1].0);
        if bad {
            return Err(AvSyncError::InvalidSpan { index: i });
        }
    }
    let margin = config.digit_margin_s;
    let windows: Vec<(f64, f64)> = digit_spans
        .iter()
        .map(|&(s, e)| (s - margin, e + margin))
        .collect();
    let (t0, t1) = (windows[0].0, windows[windows.len() - 1].1);
    if t1 - t0 > MAX_OVERLAP_S {
        return Err(AvSyncError::TooLong(t1 - t0));
    }
    // Every window needs video frames and audio.
    let (Some(first), Some(last)) = (mouth.first(), mouth.last()) else {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s: 0.0,
            needed_s: t1 - t0,
        });
    };
    let sr = f64::from(sample_rate);
    let audio_end = audio_start_s + audio.len() as f64 / sr;
    let covered_from = first.t_s.max(audio_start_s);
    let covered_to = last.t_s.min(audio_end);
    let needed = (digit_spans[0].0, digit_spans[digit_spans.len() - 1].1);
    if covered_from > needed.0 + 1e-6 || covered_to < needed.1 - 1e-6 {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s: (covered_to.min(needed.1) - covered_from.max(needed.0)).max(0.0),
            needed_s: needed.1 - needed.0,
        });
    }
    let _span = tracing::trace_span!("av_sync_answer", digits = digit_spans.len()).entered();

    // The grid reaches the lag range beyond the windows on both sides.
    let hz = config.grid_hz;
    let lo = (config.min_lag_ms / 1000.0 * hz).round() as i64;
    let hi = (config.max_lag_ms / 1000.0 * hz).round() as i64;
    let reach = lo.unsigned_abs().max(hi.unsigned_abs()) as f64 / hz + 2.0 / hz;
    let g0 = t0 - reach;
    let n = ((t1 + reach - g0) * hz).ceil() as usize + 1;
    let grid_t = |k: usize| g0 + k as f64 / hz;

    // Envelope of the audio over the grid's span (plus the smoothing).
    let pad = config.smooth_audio_s + ENVELOPE_STEP_S;
    let i0 = (((g0 - pad - audio_start_s) * sr).floor().max(0.0) as usize).min(audio.len());
    let i1 =
        (((grid_t(n - 1) + pad - audio_start_s) * sr).ceil().max(0.0) as usize).min(audio.len());
    let mut env = speech_envelope(&audio[i0..i1], sample_rate, config).map_err(|e| match e {
        AvSyncError::InvalidAudio { index } => AvSyncError::InvalidAudio { index: index + i0 },
        e => e,
    })?;
    env.start_s += audio_start_s + i0 as f64 / sr;
    if env.values.is_empty() {
        return Err(AvSyncError::InsufficientOverlap {
            overlap_s: 0.0,
            needed_s: needed.1 - needed.0,
        });
    }
    let half = ((config.smooth_audio_s / env.step_s) / 2.0).floor() as usize;
    let smoothed = moving_average(&env.values, half.min(env.values.len()));
    let (mut a, mut e) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut seg = 0usize;
    for k in 0..n {
        let t = grid_t(k);
        while seg + 2 < mouth.len() && mouth[seg + 1].t_s < t {
            seg += 1;
        }
        a.push(interp_pair(mouth, seg, t));
        e.push(interp_env(&smoothed, env.start_s, env.step_s, t));
    }
    if config.signal == SyncSignal::Derivative {
        a = diff(&a);
        e = diff(&e);
    }
    let index = |t: f64| (((t - g0) * hz).round().max(0.0) as usize).min(a.len());
    let ranges: Vec<(usize, usize)> = windows
        .iter()
        .map(|&(s, t)| (index(s), index(t).max(index(s) + 2).min(a.len())))
        .collect();
    let lags: Vec<i64> = (lo..=hi).collect();
    let score_at = |parts: &[(usize, usize)], lag: i64| -> f64 {
        let (mut xa, mut xe) = (Vec::new(), Vec::new());
        for &(k0, k1) in parts {
            // The windows belong to the audio (the spans come from it); the mouth is taken
            // `lag` earlier: aperture at t − lag with the envelope at t.
            for (k, &ev) in e.iter().enumerate().take(k1).skip(k0) {
                let j = k as i64 - lag;
                if j >= 0 && (j as usize) < a.len() {
                    xa.push(a[j as usize]);
                    xe.push(ev);
                }
            }
        }
        pearson(&xa, &xe)
    };
    let best_of = |parts: &[(usize, usize)], lags: &[i64]| -> (f64, i64) {
        let mut best = (f64::NEG_INFINITY, 0i64);
        for &lag in lags {
            let r = score_at(parts, lag);
            if r > best.0 + 1e-12 || ((r - best.0).abs() <= 1e-12 && lag.abs() < best.1.abs()) {
                best = (r, lag);
            }
        }
        if best.0.is_finite() {
            best
        } else {
            (0.0, 0)
        }
    };
    let frames_in = |s: f64, t: f64| -> Vec<f32> {
        mouth
            .iter()
            .filter(|m| m.t_s >= s && m.t_s <= t)
            .map(|m| m.aperture)
            .collect()
    };
    let to_score = |(r, lag): (f64, i64), s: f64, t: f64| {
        let mut used = frames_in(s, t);
        AvSyncScore {
            correlation: r as f32,
            lag_ms: (lag as f64 * 1000.0 / hz) as f32,
            frames_used: used.len(),
            aperture_spread: spread_5_95(&mut used),
        }
    };
    let pooled = best_of(&ranges, &lags);
    let tol = (config.digit_lag_tolerance_ms / 1000.0 * hz).round() as i64;
    let near: Vec<i64> = lags
        .iter()
        .copied()
        .filter(|l| (l - pooled.1).abs() <= tol)
        .collect();
    let digits: Vec<AvSyncScore> = ranges
        .iter()
        .zip(&windows)
        .map(|(r, w)| to_score(best_of(std::slice::from_ref(r), &near), w.0, w.1))
        .collect();
    let whole = to_score(pooled, t0, t1);
    let (lag_min, lag_max) = digits.iter().fold((f32::MAX, f32::MIN), |(l, h), d| {
        (l.min(d.lag_ms), h.max(d.lag_ms))
    });
    Ok(AnswerSync {
        whole,
        digits,
        lag_spread_ms: lag_max - lag_min,
        rest: mouth_rest(mouth, digit_spans, config),
    })
}

/// The mouth in the pauses between digit spans (see [`MouthRest`]).
fn mouth_rest(mouth: &[MouthSample], spans: &[(f64, f64)], config: &AvSyncConfig) -> MouthRest {
    let gaps: Vec<(f64, f64)> = spans
        .windows(2)
        .map(|w| (w[0].1 + config.rest_margin_s, w[1].0 - config.rest_margin_s))
        .filter(|(s, e)| e - s >= config.min_rest_gap_s)
        .collect();
    let inside = |s: f64, e: f64| -> Vec<f32> {
        mouth
            .iter()
            .filter(|m| m.t_s >= s && m.t_s <= e)
            .map(|m| m.aperture)
            .collect()
    };
    // Each pause's own range (levels may differ between pauses), weighted by its frames.
    let (mut weighted, mut frames, mut gap_s, mut measured) = (0f64, 0usize, 0f64, 0usize);
    let mut gap_levels = Vec::new();
    for &(s, e) in &gaps {
        let mut a = inside(s, e);
        if a.len() < 2 {
            continue;
        }
        gap_levels.extend_from_slice(&a);
        weighted += f64::from(spread_5_95(&mut a)) * a.len() as f64;
        frames += a.len();
        gap_s += e - s;
        measured += 1;
    }
    let mut speech: Vec<f32> = spans.iter().flat_map(|&(s, e)| inside(s, e)).collect();
    let speech_aperture = median(&mut speech.clone());
    let speech_movement = spread_5_95(&mut speech);
    let gap_movement = if frames > 0 {
        (weighted / frames as f64) as f32
    } else {
        0.0
    };
    MouthRest {
        gaps: measured,
        gap_s: gap_s as f32,
        gap_movement,
        speech_movement,
        movement_ratio: (measured > 0 && speech_movement > 0.0)
            .then(|| gap_movement / speech_movement),
        gap_aperture: median(&mut gap_levels),
        speech_aperture,
    }
}

fn median(x: &mut [f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    x.sort_by(f32::total_cmp);
    x[x.len() / 2]
}

/// The smoothed envelope at `t` (linear interpolation, held constant beyond its ends).
fn interp_env(env: &[f64], start_s: f64, step_s: f64, t: f64) -> f64 {
    let pos = ((t - start_s) / step_s).max(0.0);
    let i = (pos.floor() as usize).min(env.len() - 1);
    let j = (i + 1).min(env.len() - 1);
    let f = (pos - i as f64).clamp(0.0, 1.0);
    env[i] * (1.0 - f) + env[j] * f
}

fn check_mouth(mouth: &[MouthSample]) -> Result<(), AvSyncError> {
    for (i, m) in mouth.iter().enumerate() {
        let bad =
            !m.t_s.is_finite() || !m.aperture.is_finite() || (i > 0 && m.t_s <= mouth[i - 1].t_s);
        if bad {
            return Err(AvSyncError::InvalidMouthSample { index: i });
        }
    }
    Ok(())
}

fn validate(c: &AvSyncConfig) -> Result<(), AvSyncError> {
    if !(10.0..=1000.0).contains(&c.grid_hz) {
        return Err(AvSyncError::InvalidConfig("grid_hz must be 10..=1000"));
    }
    if !((-2000.0..=2000.0).contains(&c.min_lag_ms)
        && (-2000.0..=2000.0).contains(&c.max_lag_ms)
        && c.min_lag_ms <= c.max_lag_ms)
    {
        return Err(AvSyncError::InvalidConfig(
            "lags must satisfy -2000 <= min_lag_ms <= max_lag_ms <= 2000",
        ));
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
    if !(c.band_low_hz.is_finite()
        && c.band_low_hz >= 0.0
        && c.band_high_hz.is_finite()
        && c.band_high_hz > c.band_low_hz)
    {
        return Err(AvSyncError::InvalidConfig(
            "band must satisfy 0 <= band_low_hz < band_high_hz",
        ));
    }
    if !(1.0..=120.0).contains(&c.band_floor_db) {
        return Err(AvSyncError::InvalidConfig("band_floor_db must be 1..=120"));
    }
    if !(0.0..=1.0).contains(&c.digit_margin_s) || !(0.0..=1.0).contains(&c.rest_margin_s) {
        return Err(AvSyncError::InvalidConfig(
            "digit_margin_s and rest_margin_s must be 0..=1",
        ));
    }
    if !(0.0..=5.0).contains(&c.min_rest_gap_s) {
        return Err(AvSyncError::InvalidConfig("min_rest_gap_s must be 0..=5"));
    }
    if !(-1.0..=1.0).contains(&c.min_answer_correlation)
        || !(-1.0..=1.0).contains(&c.min_digit_correlation)
    {
        return Err(AvSyncError::InvalidConfig(
            "min_answer_correlation and min_digit_correlation must be -1..=1",
        ));
    }
    if !(0.0..=4000.0).contains(&c.digit_lag_tolerance_ms) {
        return Err(AvSyncError::InvalidConfig(
            "digit_lag_tolerance_ms must be 0..=4000",
        ));
    }
    if !(c.max_rest_movement_ratio.is_finite() && c.max_rest_movement_ratio >= 0.0) {
        return Err(AvSyncError::InvalidConfig(
            "max_rest_movement_ratio must be finite and >= 0",
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

    /// A 3-digit answer on the session clock: digits of `len` s at `onsets`, a voice (noise
    /// bursts shaped like the activity) at 16 kHz starting at `audio_start`, and the mouth
    /// following the activity `delay` s earlier, at rest in between (plus `pause_motion` of
    /// talking-like motion in the pauses).
    fn answer(
        seed: u64,
        onsets: &[f64],
        len: f64,
        delay: f64,
        pause_motion: f64,
    ) -> (Vec<MouthSample>, Vec<f32>, Vec<(f64, f64)>) {
        let mut n = Noise::new(seed);
        let secs = onsets[onsets.len() - 1] + len + 1.0;
        // Each digit: two syllable-like humps of random shape.
        let shapes: Vec<(f64, f64, f64)> = onsets
            .iter()
            .map(|_| {
                (
                    0.3 + 0.4 * (n.next() + 0.5),
                    0.5 + (n.next() + 0.5),
                    0.5 + (n.next() + 0.5),
                )
            })
            .collect();
        let act = |t: f64| -> f64 {
            onsets
                .iter()
                .zip(&shapes)
                .map(|(o, (split, a1, a2))| {
                    let x = (t - o) / len;
                    if !(0.0..1.0).contains(&x) {
                        0.0
                    } else if x < *split {
                        a1 * (std::f64::consts::PI * x / split).sin()
                    } else {
                        a2 * (std::f64::consts::PI * (x - split) / (1.0 - split)).sin()
                    }
                })
                .sum()
        };
        let sr = 16_000.0;
        let audio: Vec<f32> = (0..(secs * sr) as usize)
            .map(|i| {
                let t = i as f64 / sr;
                let carrier = (2.0 * std::f64::consts::PI * 700.0 * t).sin() + n.next();
                (0.3 * act(t) * carrier + 0.001 * n.next()) as f32
            })
            .collect();
        let mouth = (0..(secs * 25.0) as usize)
            .map(|k| {
                let t = k as f64 / 25.0;
                let talking =
                    pause_motion * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 4.0 * t).sin());
                MouthSample {
                    t_s: t,
                    aperture: (0.02 + 0.2 * act(t + delay) + talking + 0.004 * n.next()) as f32,
                }
            })
            .collect();
        let spans = onsets.iter().map(|o| (*o, o + len)).collect();
        (mouth, audio, spans)
    }

    #[test]
    fn answer_in_sync_passes_and_names_each_digit() {
        let cfg = AvSyncConfig::default();
        let onsets = [0.8, 1.6, 2.5];
        // The mouth leads the voice by 40 ms.
        let (mouth, audio, spans) = answer(1, &onsets, 0.4, 0.04, 0.0);
        let s = score_answer(&mouth, &audio, 0.0, 16_000, &spans, &cfg).unwrap();
        eprintln!("{s:?}");
        assert_eq!(s.digits.len(), 3);
        assert!(s.whole.correlation > 0.8, "{s:?}");
        assert!((s.whole.lag_ms - 40.0).abs() <= 20.0, "{s:?}");
        assert!(s
            .digits
            .iter()
            .all(|d| d.correlation > 0.6 && d.frames_used >= 12));
        assert!(s.lag_spread_ms <= 2.0 * cfg.digit_lag_tolerance_ms as f32);
        assert_eq!(s.rest.gaps, 2);
        assert!(s.rest.movement_ratio.unwrap() < 0.2, "{:?}", s.rest);
        assert_eq!(cfg.judge(&s), Ok(()));
        // The same with the audio clock starting elsewhere (spans move with it).
        let shifted: Vec<(f64, f64)> = spans.iter().map(|(a, b)| (a + 10.0, b + 10.0)).collect();
        let mouth10: Vec<MouthSample> = mouth
            .iter()
            .map(|m| MouthSample {
                t_s: m.t_s + 10.0,
                ..*m
            })
            .collect();
        let t = score_answer(&mouth10, &audio, 10.0, 16_000, &shifted, &cfg).unwrap();
        assert!((t.whole.correlation - s.whole.correlation).abs() < 1e-3);
        // Serialises (it goes into the evidence).
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<AnswerSync>(&json).unwrap(), s);
    }

    #[test]
    fn another_voice_a_still_mouth_and_a_talking_mouth_fail() {
        let cfg = AvSyncConfig::default();
        let onsets = [0.8, 1.6, 2.5];
        let (mouth, _, spans) = answer(2, &onsets, 0.4, 0.04, 0.0);
        // Another voice with the same onsets and lengths, other syllable shapes: lower
        // correlation on average over several voices.
        let own = score_answer(
            &mouth,
            &answer(2, &onsets, 0.4, 0.04, 0.0).1,
            0.0,
            16_000,
            &spans,
            &cfg,
        )
        .unwrap();
        let mut others = Vec::new();
        for seed in 10..20 {
            let (_, voice, _) = answer(seed, &onsets, 0.4, 0.04, 0.0);
            others.push(score_answer(&mouth, &voice, 0.0, 16_000, &spans, &cfg).unwrap());
        }
        let mean = others.iter().map(|o| o.whole.correlation).sum::<f32>() / others.len() as f32;
        eprintln!("own {} other mean {mean}", own.whole.correlation);
        assert!(mean + 0.1 < own.whole.correlation);
        // A still photo: MouthStill.
        let (_, audio, _) = answer(2, &onsets, 0.4, 0.04, 0.0);
        let still: Vec<MouthSample> = mouth
            .iter()
            .map(|m| MouthSample {
                aperture: 0.05,
                ..*m
            })
            .collect();
        let s = score_answer(&still, &audio, 0.0, 16_000, &spans, &cfg).unwrap();
        assert_eq!(s.whole.correlation, 0.0);
        assert!(matches!(cfg.judge(&s), Err(SyncFailure::MouthStill { .. })));
        // A mouth that keeps talking in the pauses.
        let (talking, audio, spans) = answer(3, &onsets, 0.4, 0.04, 0.25);
        let s = score_answer(&talking, &audio, 0.0, 16_000, &spans, &cfg).unwrap();
        let relaxed = AvSyncConfig {
            min_answer_correlation: -1.0,
            min_digit_correlation: -1.0,
            max_rest_movement_ratio: 0.3,
            ..cfg
        };
        assert!(
            matches!(relaxed.judge(&s), Err(SyncFailure::MouthMovesInPauses { ratio, .. }) if ratio > 0.4),
            "{:?}",
            s.rest
        );
        // Judge order and numbers.
        let mut weak = own.clone();
        weak.digits[1].correlation = -0.2;
        weak.digits[2].correlation = 0.1;
        assert_eq!(
            cfg.judge(&weak),
            Err(SyncFailure::DigitsOutOfSync {
                count: 2,
                worst_index: 1,
                worst: -0.2,
                min: cfg.min_digit_correlation
            })
        );
        weak.whole.correlation = 0.1;
        assert!(matches!(
            cfg.judge(&weak),
            Err(SyncFailure::AnswerOutOfSync { .. })
        ));
    }

    #[test]
    fn answer_inputs_are_checked() {
        let cfg = AvSyncConfig::default();
        let (mouth, audio, spans) = answer(4, &[0.8, 1.6], 0.4, 0.0, 0.0);
        assert!(score_answer(&mouth, &audio, 0.0, 16_000, &spans, &cfg).is_ok());
        assert_eq!(
            score_answer(&mouth, &audio, 0.0, 16_000, &[], &cfg),
            Err(AvSyncError::NoDigitSpans)
        );
        assert_eq!(
            score_answer(&mouth, &audio, 0.0, 16_000, &[(1.0, 0.5)], &cfg),
            Err(AvSyncError::InvalidSpan { index: 0 })
        );
        assert_eq!(
            score_answer(&mouth, &audio, 0.0, 16_000, &[(1.0, 1.2), (0.5, 0.7)], &cfg),
            Err(AvSyncError::InvalidSpan { index: 1 })
        );
        assert!(matches!(
            score_answer(&mouth, &audio, 0.0, 16_000, &[(0.5, f64::NAN)], &cfg),
            Err(AvSyncError::InvalidSpan { index: 0 })
        ));
        // Spans beyond the audio or the video.
        assert!(matches!(
            score_answer(&mouth, &audio, 0.0, 16_000, &[(50.0, 50.4)], &cfg),
            Err(AvSyncError::InsufficientOverlap { .. })
        ));
        assert!(matches!(
            score_answer(&mouth, &audio[..8000], 0.0, 16_000, &spans, &cfg),
            Err(AvSyncError::InsufficientOverlap { .. })
        ));
        let mut bad = audio.clone();
        bad[15_000] = f32::INFINITY;
        assert_eq!(
            score_answer(&mouth, &bad, 0.0, 16_000, &spans, &cfg),
            Err(AvSyncError::InvalidAudio { index: 15_000 })
        );
        // Audio far outside the answer is not looked at.
        bad[15_000] = 0.0;
        bad[100] = f32::NAN;
        assert!(score_answer(&mouth, &bad, 0.0, 16_000, &spans, &cfg).is_ok());
        assert!(score_answer(&mouth, &audio, f64::NAN, 16_000, &spans, &cfg).is_err());
        assert!(score_answer(&mouth, &audio, 0.0, 0, &spans, &cfg).is_err());
        let mut back = mouth.clone();
        back[5].t_s = back[4].t_s;
        assert_eq!(
            score_answer(&back, &audio, 0.0, 16_000, &spans, &cfg),
            Err(AvSyncError::InvalidMouthSample { index: 5 })
        );
        for bad in [
            AvSyncConfig {
                min_lag_ms: 100.0,
                max_lag_ms: 50.0,
                ..cfg
            },
            AvSyncConfig {
                band_low_hz: 4000.0,
                band_high_hz: 300.0,
                ..cfg
            },
            AvSyncConfig {
                band_floor_db: 0.0,
                ..cfg
            },
            AvSyncConfig {
                digit_margin_s: -0.1,
                ..cfg
            },
            AvSyncConfig {
                min_answer_correlation: 2.0,
                ..cfg
            },
            AvSyncConfig {
                max_rest_movement_ratio: f32::NAN,
                ..cfg
            },
            AvSyncConfig {
                digit_lag_tolerance_ms: -1.0,
                ..cfg
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
            assert!(matches!(
                score_answer(&mouth, &audio, 0.0, 16_000, &spans, &bad),
                Err(AvSyncError::InvalidConfig(_))
            ));
        }
        // Older configurations (fields missing) take the defaults.
        let old: AvSyncConfig =
            serde_json::from_str(r#"{"grid_hz": 100.0, "max_lag_ms": 200.0}"#).unwrap();
        assert_eq!(old.min_lag_ms, DEFAULT_MIN_LAG_MS);
        assert_eq!(old.envelope, EnvelopeKind::BandDb);
        // The RMS envelope is an option.
        let rms = AvSyncConfig {
            envelope: EnvelopeKind::Rms,
            ..cfg
        };
        assert!(
            score_answer(&mouth, &audio, 0.0, 16_000, &spans, &rms)
                .unwrap()
                .whole
                .correlation
                > 0.5
        );
    }
}
