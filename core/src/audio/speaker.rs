//! Speaker embeddings: speech → a 256-value voice print, compared by cosine similarity.
//!
//! The model is Resemblyzer's GE2E speaker encoder (`ge2e_speaker_encoder.onnx`, see
//! `models/MODELS.md`): text-independent, trained on English speech (LibriSpeech, VoxCeleb 1
//! and 2). [`SpeakerEncoder::embed`] runs Resemblyzer's `embed_utterance` exactly:
//! 1. volume normalisation to −30 dBFS, increase only ([`frontend::normalize_volume`]);
//! 2. windows of 160 mel frames (1.6 s) every 77 frames (1.3 per second); the last one is kept
//!    when it is at least 75 % signal ([`frontend::partial_window_starts`]); the signal is
//!    zero-padded to the end of the last window;
//! 3. the 40-band power mel spectrogram of librosa ([`frontend::MelFrontEnd`]);
//! 4. each window through the network (3 LSTM layers, linear, ReLU, L2 normalisation);
//! 5. the mean of the windows' embeddings, L2-normalised: a [`SpeakerEmbedding`].
//!
//! **Speech only.** Resemblyzer first cuts long silences with webrtcvad
//! (`trim_long_silences`: pauses longer than ≈ 0.2 s are shortened, leading and trailing
//! silence removed). Here the caller does that with the core's Silero VAD: pass the
//! concatenated speech to [`SpeakerEncoder::embed`], or the recording and its
//! [`SpeechSegment`]s to [`SpeakerEncoder::embed_segments`], which keeps the segments and at
//! most [`SpeakerConfig::max_pause`] of each pause between them ([`gather_speech`]). Enrollment
//! and certification must prepare speech the same way: the similarity depends on it (speech
//! with no pause at all scores markedly lower against itself).
//!
//! [`SpeakerConfig::min_similarity`] is the calibrated acceptance threshold (see its
//! documentation and `core/tests/speaker.rs` for the measurements behind it).

pub mod frontend;

use crate::audio::segments::SpeechSegment;
use crate::model::assets::{ModelInfo, ModelSource, SPEAKER_FILE};
use crate::model::error::ModelError;
use frontend::{MelFrontEnd, N_MELS, SAMPLE_RATE_HZ, WINDOW_FRAMES};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tract_onnx::prelude::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Values in a [`SpeakerEmbedding`].
pub const EMBEDDING_DIM: usize = 256;
/// Largest accepted |sample| (as [`crate::audio::vad::MAX_ABS_SAMPLE`]): larger values mean unscaled
/// integer PCM passed as f32.
pub const MAX_ABS_SAMPLE: f32 = 2.0;
/// Longest speech [`SpeakerEncoder::embed`] accepts (s): a bound on the work per call (an
/// enrollment reading of 0–9 is 5–10 s).
pub const MAX_SPEECH_S: f64 = 60.0;
/// How far a deserialised or averaged embedding's norm may be from 1.
const NORM_TOLERANCE: f32 = 1e-3;

/// The error of loading the speaker encoder: its settings are out of range, or the model
/// could not be loaded.
#[derive(Debug, Error)]
pub enum SpeakerLoadError {
    /// A setting is out of range.
    #[error(transparent)]
    Config(#[from] SpeakerError),
    /// The model could not be loaded (or failed its probe run).
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Errors of speaker embedding.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpeakerError {
    /// Less speech than [`SpeakerConfig::min_speech`]: too little to judge a voice.
    #[error("{seconds:.2} s of speech; at least {min_seconds:.2} s are needed")]
    TooLittleSpeech {
        /// Speech given (s).
        seconds: f32,
        /// The minimum (s).
        min_seconds: f32,
    },
    /// More speech than [`MAX_SPEECH_S`] in one call.
    #[error("{seconds:.1} s of speech; at most {MAX_SPEECH_S} s per embedding")]
    TooMuchSpeech {
        /// Speech given (s).
        seconds: f32,
    },
    /// A sample was NaN or infinite.
    #[error("audio sample {index} is not finite")]
    NonFinite {
        /// Index of the first bad sample.
        index: usize,
    },
    /// A sample's magnitude exceeds [`MAX_ABS_SAMPLE`]: the audio is not scaled to [-1, 1].
    #[error("audio sample {index} is {value}, outside ±{MAX_ABS_SAMPLE} (unscaled PCM?)")]
    NotNormalised {
        /// Index of the first bad sample.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// The speech is digital silence (below −90 dBFS): there is no voice to embed.
    #[error("the speech is silent (below {} dBFS)", frontend::MIN_RMS_DBFS)]
    Silent,
    /// A speech segment was not finite, ended before it started, or overlapped the previous one.
    #[error("speech segment {index} is invalid (not finite, reversed or out of order)")]
    InvalidSegment {
        /// Index of the bad segment.
        index: usize,
    },
    /// [`SpeakerEmbedding::mean_of`] was given no embeddings.
    #[error("no embeddings to average")]
    NoEmbeddings,
    /// An embedding was not 256 finite values of unit norm (or averaged to nothing).
    #[error("invalid speaker embedding: {0}")]
    InvalidEmbedding(String),
    /// A [`SpeakerConfig`] value is out of range.
    #[error("invalid speaker configuration: {0}")]
    InvalidConfig(&'static str),
    /// The model failed on an input (or returned something other than a unit vector).
    #[error("speaker model failed: {0}")]
    Model(String),
}

/// Settings of speaker verification. Defaults are calibrated (`core/tests/speaker.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpeakerConfig {
    /// Cosine similarity at or above which a voice is accepted as the enrolled speaker.
    ///
    /// Default 0.72, fitted on FSDD (4 speakers, enrollment = one reading of 0–9, answers = 3
    /// digits with pauses; equal-error rate 2.1 % at 0.726) and rounded down so that genuine
    /// answers keep the benefit: there FRR 1.6 % / FAR 3.3 % (mean of 3 readings: 0 % / 6.1 %).
    /// On disjoint speakers (GRID, 6 speakers, sentences) FRR 0 / 9, FAR 0 / 45; espeak-ng
    /// voices against real enrollments: 2 of 3168 pairs accepted. A narrow-band (4 kHz) channel
    /// costs the genuine speaker ≈ 0.05 of similarity. Measurements: `core/tests/speaker.rs`.
    pub min_similarity: f32,
    /// Least speech [`SpeakerEncoder::embed`] accepts (default 0.5 s, range 0.2–30 s). A
    /// 3-digit answer has ≈ 1–1.5 s; one digit (≈ 0.4 s) is too little to judge a voice.
    pub min_speech: Duration,
    /// Longest pause kept between two speech segments by [`gather_speech`] (default 0.15 s,
    /// range 0–2 s): longer pauses are shortened to their first and last halves of this,
    /// as Resemblyzer's silence trimming does (it keeps ≈ 0.18 s).
    pub max_pause: Duration,
}

impl Default for SpeakerConfig {
    fn default() -> Self {
        Self {
            min_similarity: 0.72,
            min_speech: Duration::from_millis(500),
            max_pause: Duration::from_millis(150),
        }
    }
}

impl SpeakerConfig {
    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<(), SpeakerError> {
        if !(self.min_similarity.is_finite() && (0.0..=1.0).contains(&self.min_similarity)) {
            return Err(SpeakerError::InvalidConfig(
                "min_similarity must be in [0, 1]",
            ));
        }
        if !(Duration::from_millis(200)..=Duration::from_secs(30)).contains(&self.min_speech) {
            return Err(SpeakerError::InvalidConfig(
                "min_speech must be in 0.2..=30 s",
            ));
        }
        if self.max_pause > Duration::from_secs(2) {
            return Err(SpeakerError::InvalidConfig("max_pause must be at most 2 s"));
        }
        Ok(())
    }

    /// Whether `similarity` (from [`SpeakerEmbedding::similarity`]) accepts the speaker.
    pub fn accepts(&self, similarity: f32) -> bool {
        similarity >= self.min_similarity
    }
}

/// A speaker embedding: 256 values of unit L2 norm. Compare two with
/// [`SpeakerEmbedding::similarity`]. Biometric data: zeroed when dropped, never printed
/// (`Debug` shows no values); seal it before it leaves the core. Serialises as a plain array
/// of 256 numbers; deserialising checks length, finiteness and norm.
#[derive(Clone, PartialEq, Zeroize, ZeroizeOnDrop, Deserialize)]
#[serde(try_from = "Vec<f32>")]
pub struct SpeakerEmbedding {
    values: Vec<f32>,
}

impl std::fmt::Debug for SpeakerEmbedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpeakerEmbedding({} values)", self.values.len())
    }
}

impl Serialize for SpeakerEmbedding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.values.serialize(s)
    }
}

impl TryFrom<Vec<f32>> for SpeakerEmbedding {
    type Error = SpeakerError;

    /// Accepts 256 finite values whose norm is within 1e-3 of 1 (they are renormalised).
    fn try_from(mut values: Vec<f32>) -> Result<Self, SpeakerError> {
        let bad = |reason: String, values: &mut Vec<f32>| {
            values.zeroize();
            Err(SpeakerError::InvalidEmbedding(reason))
        };
        if values.len() != EMBEDDING_DIM {
            let n = values.len();
            return bad(format!("{n} values, expected {EMBEDDING_DIM}"), &mut values);
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return bad(format!("value {i} is not finite"), &mut values);
        }
        let norm = l2(&values);
        if (norm as f32 - 1.0).abs() > NORM_TOLERANCE {
            return bad(format!("norm {norm} is not 1"), &mut values);
        }
        values
            .iter_mut()
            .for_each(|v| *v = (f64::from(*v) / norm) as f32);
        Ok(Self { values })
    }
}

fn l2(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt()
}

impl SpeakerEmbedding {
    /// The 256 values (unit norm).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Cosine similarity in [-1, 1] (in practice 0..1: the values are non-negative). The same
    /// speaker scores high; see [`SpeakerConfig::min_similarity`].
    pub fn similarity(&self, other: &Self) -> f32 {
        let dot: f64 = self
            .values
            .iter()
            .zip(&other.values)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        (dot / (l2(&self.values) * l2(&other.values))).clamp(-1.0, 1.0) as f32
    }

    /// The L2-normalised mean of several embeddings of one speaker (e.g. several enrollment
    /// readings), as Resemblyzer's `embed_speaker`.
    pub fn mean_of(embeddings: &[Self]) -> Result<Self, SpeakerError> {
        let weighted: Vec<(&Self, f32)> = embeddings.iter().map(|e| (e, 1.0)).collect();
        Self::weighted_mean(&weighted)
    }

    /// The L2-normalised weighted mean of embeddings (e.g. a reference moved a fraction of the
    /// way towards a live voice, [`crate::matching::voice_profile::SpeakerReference::refresh`]). Weights
    /// must be finite and ≥ 0.
    pub fn weighted_mean(embeddings: &[(&Self, f32)]) -> Result<Self, SpeakerError> {
        if embeddings.is_empty() {
            return Err(SpeakerError::NoEmbeddings);
        }
        if embeddings
            .iter()
            .any(|(_, w)| !(w.is_finite() && *w >= 0.0))
        {
            return Err(SpeakerError::InvalidEmbedding(
                "weights must be finite and >= 0".into(),
            ));
        }
        let mut sum = vec![0f64; EMBEDDING_DIM];
        for (e, w) in embeddings {
            for (s, v) in sum.iter_mut().zip(&e.values) {
                *s += f64::from(*w) * f64::from(*v);
            }
        }
        let out = Self::normalised(&sum);
        sum.zeroize();
        out
    }

    fn normalised(sum: &[f64]) -> Result<Self, SpeakerError> {
        let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 1e-12) {
            return Err(SpeakerError::InvalidEmbedding(format!(
                "mean has norm {norm}"
            )));
        }
        Ok(Self {
            values: sum.iter().map(|v| (v / norm) as f32).collect(),
        })
    }
}

/// Cuts the speech out of `audio` (16 kHz mono): every segment (seconds from the start of
/// `audio`, clamped to it), and between two segments their pause if it is at most
/// `max_pause`, else only its first and last `max_pause / 2` (Resemblyzer's silence trimming
/// keeps ≈ 90 ms of each side of a long pause). Leading and trailing silence is dropped.
/// Segments must be finite, in order and not overlapping (as
/// [`crate::audio::segments::speech_segments`] returns them).
pub fn gather_speech(
    audio: &[f32],
    segments: &[SpeechSegment],
    max_pause: Duration,
) -> Result<Vec<f32>, SpeakerError> {
    let rate = f64::from(SAMPLE_RATE_HZ);
    let at = |s: f32| ((f64::from(s) * rate).round().max(0.0) as usize).min(audio.len());
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(segments.len());
    let mut prev_end = 0f32;
    for (index, s) in segments.iter().enumerate() {
        if !(s.start_s.is_finite() && s.end_s.is_finite())
            || s.end_s < s.start_s
            || (index > 0 && s.start_s < prev_end)
        {
            return Err(SpeakerError::InvalidSegment { index });
        }
        prev_end = s.end_s;
        let (a, b) = (at(s.start_s), at(s.end_s));
        if b > a {
            ranges.push((a, b));
        }
    }
    let keep = (max_pause.as_secs_f64() * rate).round() as usize;
    let mut out = Vec::new();
    for (k, &(a, b)) in ranges.iter().enumerate() {
        if k > 0 {
            let gap_start = ranges[k - 1].1;
            if a - gap_start <= keep {
                out.extend_from_slice(&audio[gap_start..a]);
            } else {
                out.extend_from_slice(&audio[gap_start..gap_start + keep / 2]);
                out.extend_from_slice(&audio[a - (keep - keep / 2)..a]);
            }
        }
        out.extend_from_slice(&audio[a..b]);
    }
    Ok(out)
}

/// The GE2E speaker encoder with its front end, loaded once. `Send + Sync`, cheap to clone:
/// share one between sessions and threads.
#[derive(Clone)]
pub struct SpeakerEncoder {
    plan: Arc<TypedRunnableModel>,
    mel: MelFrontEnd,
    info: ModelInfo,
    config: SpeakerConfig,
}

impl std::fmt::Debug for SpeakerEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerEncoder")
            .field("model", &self.info)
            .field("config", &self.config)
            .finish()
    }
}

impl SpeakerEncoder {
    /// Loads `ge2e_speaker_encoder.onnx` from `source` (the embedded copy by default), with
    /// the default [`SpeakerConfig`].
    pub fn with_models(source: &ModelSource) -> Result<Self, SpeakerLoadError> {
        Self::with_config(source, SpeakerConfig::default())
    }

    /// Loads the model from `source` with `config` (validated first).
    pub fn with_config(
        source: &ModelSource,
        config: SpeakerConfig,
    ) -> Result<Self, SpeakerLoadError> {
        config.validate()?;
        let (bytes, info) = source.read(SPEAKER_FILE)?;
        Self::from_onnx(&bytes, info, config)
    }

    /// Loads the model from the bytes of `ge2e_speaker_encoder.onnx`.
    pub fn new(onnx: &[u8], config: SpeakerConfig) -> Result<Self, SpeakerLoadError> {
        config.validate()?;
        let digest = ring::digest::digest(&ring::digest::SHA256, onnx);
        let info = ModelInfo {
            file: SPEAKER_FILE.to_owned(),
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        };
        Self::from_onnx(onnx, info, config)
    }

    fn from_onnx(
        bytes: &[u8],
        info: ModelInfo,
        config: SpeakerConfig,
    ) -> Result<Self, SpeakerLoadError> {
        let _span = tracing::info_span!("load_speaker_encoder").entered();
        let fail = |e: TractError| ModelError::Load {
            model: SPEAKER_FILE,
            reason: format!("{e:#}"),
        };
        let mut reader = bytes;
        // The file declares the input as [N, 160, 40]; tract's ONNX LSTM needs a concrete batch
        // (with a symbolic one it panics while lowering the LSTM), so the plan runs one window
        // at a time.
        let plan = tract_onnx::onnx()
            .model_for_read(&mut reader)
            .map_err(fail)?
            .with_input_fact(0, f32::fact([1, WINDOW_FRAMES, N_MELS]).into())
            .map_err(fail)?
            .into_optimized()
            .map_err(fail)?
            .into_runnable()
            .map_err(fail)?;
        let encoder = Self {
            plan,
            mel: MelFrontEnd::new(),
            info,
            config,
        };
        // Check the contract once (a unit vector of 256 per window), so that a wrong file fails
        // here and not on the first recording.
        let probe: Vec<f32> = (0..WINDOW_FRAMES * N_MELS)
            .map(|i| (i % 97) as f32 / 97.0)
            .collect();
        encoder.run_window(&probe).map_err(|e| ModelError::Load {
            model: SPEAKER_FILE,
            reason: e.to_string(),
        })?;
        Ok(encoder)
    }

    /// Name and SHA-256 of the model file.
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    /// The configuration in use.
    pub fn config(&self) -> &SpeakerConfig {
        &self.config
    }

    /// The embedding of `speech`: 16 kHz mono samples in [-1, 1], silences already removed by
    /// the caller (see the module documentation), at least [`SpeakerConfig::min_speech`] and
    /// at most [`MAX_SPEECH_S`] long.
    pub fn embed(&self, speech: &[f32]) -> Result<SpeakerEmbedding, SpeakerError> {
        let _span = tracing::debug_span!("speaker_embed", samples = speech.len()).entered();
        if let Some(index) = speech.iter().position(|x| !x.is_finite()) {
            return Err(SpeakerError::NonFinite { index });
        }
        if let Some(index) = speech.iter().position(|x| x.abs() > MAX_ABS_SAMPLE) {
            return Err(SpeakerError::NotNormalised {
                index,
                value: speech[index],
            });
        }
        let seconds = speech.len() as f64 / f64::from(SAMPLE_RATE_HZ);
        if seconds < self.config.min_speech.as_secs_f64() {
            return Err(SpeakerError::TooLittleSpeech {
                seconds: seconds as f32,
                min_seconds: self.config.min_speech.as_secs_f32(),
            });
        }
        if seconds > MAX_SPEECH_S {
            return Err(SpeakerError::TooMuchSpeech {
                seconds: seconds as f32,
            });
        }
        let (mut wav, _gain) = frontend::normalize_volume(speech).ok_or(SpeakerError::Silent)?;
        let starts = frontend::partial_window_starts(wav.len());
        let n_frames = starts[starts.len() - 1] + WINDOW_FRAMES;
        let mut mel = vec![0f32; n_frames * N_MELS];
        self.mel.frames_into(&wav, n_frames, &mut mel);

        let mut sum = vec![0f64; EMBEDDING_DIM];
        for &s in &starts {
            let out = self.run_window(&mel[s * N_MELS..(s + WINDOW_FRAMES) * N_MELS])?;
            for (acc, v) in sum.iter_mut().zip(&out) {
                *acc += f64::from(*v);
            }
        }
        mel.zeroize();
        wav.zeroize();
        let out = SpeakerEmbedding::normalised(&sum)
            .map_err(|e| SpeakerError::Model(format!("window embeddings average to nothing: {e}")));
        sum.zeroize();
        out
    }

    /// [`gather_speech`] with [`SpeakerConfig::max_pause`], then [`SpeakerEncoder::embed`]:
    /// the embedding of a recording (`audio`, 16 kHz mono) given its speech segments (seconds
    /// from the start of `audio`, e.g. from [`crate::audio::segments::speech_segments`]).
    pub fn embed_segments(
        &self,
        audio: &[f32],
        segments: &[SpeechSegment],
    ) -> Result<SpeakerEmbedding, SpeakerError> {
        let mut speech = gather_speech(audio, segments, self.config.max_pause)?;
        let out = self.embed(&speech);
        speech.zeroize();
        out
    }

    /// Runs one window (`160 · 40` mel values) through the network; checks that the output is
    /// a finite unit vector of 256.
    fn run_window(&self, window: &[f32]) -> Result<Vec<f32>, SpeakerError> {
        let _span = tracing::trace_span!("speaker_window").entered();
        let bad = |e: TractError| SpeakerError::Model(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, WINDOW_FRAMES, N_MELS], window).map_err(bad)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(bad)?;
        let out = outputs
            .first()
            .ok_or_else(|| SpeakerError::Model("no output".into()))?;
        if out.shape() != [1, EMBEDDING_DIM] {
            return Err(SpeakerError::Model(format!(
                "output shape {:?}, expected [1, {EMBEDDING_DIM}]",
                out.shape()
            )));
        }
        let values: Vec<f32> = out
            .to_plain_array_view::<f32>()
            .map_err(bad)?
            .iter()
            .copied()
            .collect();
        let norm = l2(&values);
        if !(norm.is_finite() && (norm as f32 - 1.0).abs() <= NORM_TOLERANCE) {
            return Err(SpeakerError::Model(format!("embedding norm {norm}")));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests;
