//! Voice activity detection with Silero VAD v6 (`silero_vad_16k.onnx`, see `models/MODELS.md`).
//!
//! [`VoiceActivityDetector`] holds the model (loaded and optimised once, shared by every
//! stream and thread); [`VadStream`] runs it over 16 kHz mono PCM as it arrives from the
//! microphone, in pushes of any size:
//! * the audio is cut into chunks of [`CHUNK_SAMPLES`] = 512 new samples (32 ms); each chunk
//!   is fed to the model together with the last [`CONTEXT_SAMPLES`] = 64 samples before it
//!   (zeros at the start of the stream) and the model's recurrent state from the previous
//!   chunk (zeros at the start);
//! * every complete chunk yields one [`VadFrame`]: its index, its time span and the speech
//!   probability of its 512 new samples;
//! * [`VadStream::finish`] zero-pads the last partial chunk and runs it.
//!
//! This is exactly the protocol of the Silero package's own `OnnxWrapper`, so the
//! probabilities do not depend on how the audio was split into pushes, and they reproduce the
//! package's reference output (test `core/tests/voice.rs`: ≤ 1e-4, measured ≈ 1e-6).
//! Turn the probabilities into speech segments with
//! [`crate::audio::segments::speech_segments`].
//!
//! Samples are f32 in `[-1, 1]` (`i16 / 32768`, see [`VadStream::push_i16`]). Other sample
//! rates must be converted first ([`crate::audio::resample::resample_linear_or_better`]).

use crate::model::assets::{ModelInfo, ModelSource, VAD_FILE};
use crate::model::error::ModelError;
use crate::model::onnx::OnnxModel;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tract_onnx::prelude::{tvec, Tensor};

/// The only sample rate the model supports (Hz).
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// New samples per model call (32 ms at 16 kHz).
pub const CHUNK_SAMPLES: usize = 512;
/// Samples of the previous chunk fed again in front of each chunk.
pub const CONTEXT_SAMPLES: usize = 64;
/// Duration of one chunk (s): 0.032, the `chunk_s` of
/// [`crate::audio::segments::SegmentConfig`].
pub const CHUNK_S: f64 = CHUNK_SAMPLES as f64 / SAMPLE_RATE_HZ as f64;
/// Largest accepted |sample|. Samples are expected in `[-1, 1]`; a little overshoot (e.g.
/// after resampling clipped audio) is harmless, but larger values almost always mean
/// unscaled integer PCM passed as f32, which the model would read as loud noise.
pub const MAX_ABS_SAMPLE: f32 = 2.0;

/// Model input width: context followed by the new chunk.
const INPUT_SAMPLES: usize = CONTEXT_SAMPLES + CHUNK_SAMPLES;
/// Recurrent state shape `[2, 1, 128]` (LSTM h and c).
const STATE_SHAPE: [usize; 3] = [2, 1, 128];
const STATE_LEN: usize = 2 * 128;

/// The error of a VAD call: the audio was refused, or the model failed.
#[derive(Debug, Error)]
pub enum VadRunError {
    /// The audio was refused (or the stream was finished).
    #[error(transparent)]
    Audio(#[from] VadError),
    /// The VAD model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Errors of the audio given to a [`VadStream`]. The stream is unchanged when a push is
/// rejected.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum VadError {
    /// A sample was NaN or infinite.
    #[error("audio sample {index} of the push is not finite")]
    NonFinite {
        /// Index of the first bad sample in the push.
        index: usize,
    },
    /// A sample's magnitude exceeds [`MAX_ABS_SAMPLE`]: the audio is not scaled to [-1, 1].
    #[error(
        "audio sample {index} of the push is {value}, outside ±{MAX_ABS_SAMPLE} (unscaled PCM?)"
    )]
    NotNormalised {
        /// Index of the first bad sample in the push.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// Audio was pushed after [`VadStream::finish`]; call [`VadStream::reset`] to start a new
    /// stream.
    #[error("the stream is finished")]
    Finished,
}

/// The speech probability of one 512-sample chunk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VadFrame {
    /// Chunk index from the start of the stream (0-based).
    pub index: usize,
    /// Start of the chunk (s from the start of the stream): `index · 0.032`.
    pub start_s: f64,
    /// End of the chunk (s): `start_s + 0.032`, also for a zero-padded last chunk.
    pub end_s: f64,
    /// Real (not padding) samples in the chunk: 512, fewer only for the chunk of
    /// [`VadStream::finish`].
    pub samples: usize,
    /// Speech probability in `[0, 1]`.
    pub probability: f32,
}

/// Silero VAD v6 with the model loaded once. Cheap to clone and `Send + Sync`: share it and
/// open one [`VadStream`] per recording.
#[derive(Debug, Clone)]
pub struct VoiceActivityDetector {
    model: OnnxModel,
    info: ModelInfo,
}

impl VoiceActivityDetector {
    /// Loads the model from the bytes of `silero_vad_16k.onnx`.
    pub fn new(onnx: &[u8]) -> Result<Self, ModelError> {
        let _span = tracing::info_span!("load_vad").entered();
        let model =
            OnnxModel::load_with_inputs(VAD_FILE, onnx, &[&[1, INPUT_SAMPLES], &STATE_SHAPE])?;
        let digest = ring::digest::digest(&ring::digest::SHA256, onnx);
        let info = ModelInfo {
            file: VAD_FILE.to_owned(),
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        };
        let vad = Self { model, info };
        // Check the contract once (two outputs, a probability and a state of the right size),
        // so that a wrong file fails here and not on the first chunk of a recording.
        vad.stream().run_chunk()?;
        Ok(vad)
    }

    /// Loads the model from `source` (the embedded copy by default).
    pub fn with_models(source: &ModelSource) -> Result<Self, ModelError> {
        let (bytes, _) = source.read(VAD_FILE)?;
        Self::new(&bytes)
    }

    /// Name and SHA-256 of the model file.
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    /// A new stream: zero state, zero context, chunk 0 at time 0.
    pub fn stream(&self) -> VadStream {
        VadStream {
            model: self.model.clone(),
            state: zero_state(),
            buf: [0.0; INPUT_SAMPLES],
            filled: 0,
            chunks: 0,
            finished: false,
        }
    }

    /// The speech probability of every chunk of a whole recording (the last partial chunk
    /// zero-padded): one stream, pushed at once and finished.
    pub fn probabilities(&self, samples: &[f32]) -> Result<Vec<f32>, VadRunError> {
        let mut stream = self.stream();
        let mut frames = stream.push(samples)?;
        frames.extend(stream.finish()?);
        Ok(frames.into_iter().map(|f| f.probability).collect())
    }
}

fn zero_state() -> Tensor {
    Tensor::zero::<f32>(&STATE_SHAPE).expect("static state shape")
}

/// One recording's pass of the VAD: carries the 64-sample context, the model's recurrent
/// state and the samples of an incomplete chunk between pushes. `Send`: a stream may move to
/// another thread (e.g. the audio thread hands it to a worker).
///
/// If a push fails because the *model* fails ([`ModelError::Inference`]), the stream is left in an
/// unspecified state: [`VadStream::reset`] it.
#[derive(Debug, Clone)]
pub struct VadStream {
    model: OnnxModel,
    state: Tensor,
    /// `buf[..CONTEXT_SAMPLES]` is the context, `buf[CONTEXT_SAMPLES..][..filled]` the new
    /// samples of the chunk being collected.
    buf: [f32; INPUT_SAMPLES],
    filled: usize,
    chunks: usize,
    finished: bool,
}

impl VadStream {
    /// Adds 16 kHz mono samples in `[-1, 1]` (any number, including none) and returns one
    /// [`VadFrame`] per chunk completed by them, in order. The whole push is checked first:
    /// a rejected push changes nothing.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<VadFrame>, VadRunError> {
        if self.finished {
            return Err(VadError::Finished.into());
        }
        if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
            return Err(VadError::NonFinite { index }.into());
        }
        if let Some(index) = samples.iter().position(|x| x.abs() > MAX_ABS_SAMPLE) {
            return Err(VadError::NotNormalised {
                index,
                value: samples[index],
            }
            .into());
        }
        self.feed(samples.iter().copied())
    }

    /// Adds 16 kHz mono signed 16-bit samples (converted as `x / 32768`); otherwise as
    /// [`VadStream::push`].
    pub fn push_i16(&mut self, samples: &[i16]) -> Result<Vec<VadFrame>, VadRunError> {
        if self.finished {
            return Err(VadError::Finished.into());
        }
        self.feed(samples.iter().map(|&x| f32::from(x) / 32768.0))
    }

    /// Ends the stream: a last partial chunk, if any, is zero-padded to 512 samples and run.
    /// Further pushes fail with [`VadError::Finished`]; finishing again returns `None`.
    pub fn finish(&mut self) -> Result<Option<VadFrame>, VadRunError> {
        if self.finished || self.filled == 0 {
            self.finished = true;
            return Ok(None);
        }
        let real = self.filled;
        self.buf[CONTEXT_SAMPLES + real..].fill(0.0);
        self.filled = CHUNK_SAMPLES;
        let frame = self.complete_chunk(real)?;
        self.finished = true;
        Ok(Some(frame))
    }

    /// Starts over: zero state and context, chunk 0 at time 0, not finished.
    pub fn reset(&mut self) {
        self.state = zero_state();
        self.buf = [0.0; INPUT_SAMPLES];
        self.filled = 0;
        self.chunks = 0;
        self.finished = false;
    }

    /// Chunks run so far.
    pub fn chunks(&self) -> usize {
        self.chunks
    }

    /// Samples waiting for their chunk to complete (0..512).
    pub fn pending_samples(&self) -> usize {
        self.filled
    }

    /// Whether [`VadStream::finish`] was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn feed(&mut self, samples: impl Iterator<Item = f32>) -> Result<Vec<VadFrame>, VadRunError> {
        let mut frames = Vec::new();
        for x in samples {
            self.buf[CONTEXT_SAMPLES + self.filled] = x;
            self.filled += 1;
            if self.filled == CHUNK_SAMPLES {
                frames.push(self.complete_chunk(CHUNK_SAMPLES)?);
            }
        }
        Ok(frames)
    }

    /// Runs the full buffer, advances state and context, and describes the chunk.
    fn complete_chunk(&mut self, real: usize) -> Result<VadFrame, VadRunError> {
        let index = self.chunks;
        let _span = tracing::trace_span!("vad_chunk", index).entered();
        let probability = self.run_chunk()?;
        self.buf.copy_within(CHUNK_SAMPLES.., 0);
        self.filled = 0;
        self.chunks += 1;
        let start_s = index as f64 * CHUNK_S;
        Ok(VadFrame {
            index,
            start_s,
            end_s: start_s + CHUNK_S,
            samples: real,
            probability,
        })
    }

    /// One model call on `buf` with `state`; on success replaces `state` and returns the
    /// probability (context and chunk bookkeeping are the caller's).
    fn run_chunk(&mut self) -> Result<f32, ModelError> {
        let name = self.model.name();
        let bad = |reason: String| ModelError::Inference {
            model: name,
            reason,
        };
        let input = Tensor::from_shape(&[1, INPUT_SAMPLES], &self.buf)
            .map_err(|e| bad(format!("{e:#}")))?;
        let outputs = self
            .model
            .run_many(tvec!(input.into(), self.state.clone().into()))?;
        let p = self.model.output_f32(&outputs, 0)?;
        let probability = match p.as_slice() {
            [p] if p.is_finite() => p.clamp(0.0, 1.0),
            _ => return Err(bad(format!("expected one finite probability, got {p:?}"))),
        };
        let state = self.model.output_f32(&outputs, 1)?;
        if state.len() != STATE_LEN || state.iter().any(|v| !v.is_finite()) {
            return Err(bad(format!(
                "expected a finite state of {STATE_LEN} values, got {}",
                state.len()
            )));
        }
        self.state = Tensor::from_shape(&STATE_SHAPE, &state).map_err(|e| bad(format!("{e:#}")))?;
        Ok(probability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vad() -> VoiceActivityDetector {
        VoiceActivityDetector::with_models(&ModelSource::Embedded).unwrap()
    }

    /// A deterministic test signal: a 220 Hz tone with harmonics, gated on and off.
    fn signal(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let gate = if ((t * 2.0) as usize).is_multiple_of(2) {
                    0.3
                } else {
                    0.0
                };
                gate * ((t * 220.0 * std::f32::consts::TAU).sin()
                    + 0.5 * (t * 440.0 * std::f32::consts::TAU).sin())
            })
            .collect()
    }

    #[test]
    fn detector_and_stream_are_send() {
        fn assert_send<T: Send>() {}
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send::<VadStream>();
        assert_send_sync::<VoiceActivityDetector>();
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        let vad = vad();
        let audio = signal(16_000 + 300);
        let whole = vad.probabilities(&audio).unwrap();
        assert_eq!(whole.len(), (audio.len()).div_ceil(CHUNK_SAMPLES));
        let mut stream = vad.stream();
        let mut frames = Vec::new();
        let mut rest = &audio[..];
        for size in [1usize, 511, 0, 513, 3000, 7].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (a, b) = rest.split_at((*size).min(rest.len()));
            frames.extend(stream.push(a).unwrap());
            rest = b;
        }
        assert_eq!(stream.pending_samples(), audio.len() % CHUNK_SAMPLES);
        let last = stream.finish().unwrap().unwrap();
        assert_eq!(last.samples, audio.len() % CHUNK_SAMPLES);
        frames.push(last);
        assert_eq!(frames.len(), whole.len());
        for (k, (f, p)) in frames.iter().zip(&whole).enumerate() {
            assert_eq!(f.index, k);
            assert!((f.start_s - k as f64 * 0.032).abs() < 1e-12);
            assert!((f.end_s - f.start_s - 0.032).abs() < 1e-12);
            assert_eq!(f.probability, *p);
        }
        // i16 input gives the same as the equivalent f32 input.
        let pcm: Vec<i16> = audio.iter().map(|x| (x * 32767.0) as i16).collect();
        let as_f32: Vec<f32> = pcm.iter().map(|&x| f32::from(x) / 32768.0).collect();
        let mut s = vad.stream();
        let a: Vec<f32> = s
            .push_i16(&pcm)
            .unwrap()
            .iter()
            .map(|f| f.probability)
            .collect();
        assert_eq!(a[..], vad.probabilities(&as_f32).unwrap()[..a.len()]);
        // reset starts over.
        s.reset();
        let b: Vec<f32> = s
            .push_i16(&pcm)
            .unwrap()
            .iter()
            .map(|f| f.probability)
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_audio_is_rejected_without_changing_the_stream() {
        let vad = vad();
        let mut stream = vad.stream();
        assert!(stream.push(&[0.1; 100]).unwrap().is_empty());
        let mut bad = vec![0.0f32; 600];
        bad[450] = f32::NAN;
        assert!(matches!(
            stream.push(&bad),
            Err(VadRunError::Audio(VadError::NonFinite { index: 450 }))
        ));
        bad[450] = 12_000.0;
        assert!(matches!(
            stream.push(&bad),
            Err(VadRunError::Audio(VadError::NotNormalised {
                index: 450,
                ..
            }))
        ));
        assert_eq!(stream.pending_samples(), 100);
        assert_eq!(stream.chunks(), 0);
        assert!(stream.push(&[]).unwrap().is_empty());
        assert_eq!(stream.push(&[0.0; 412]).unwrap().len(), 1);
        assert_eq!(stream.finish().unwrap(), None);
        assert!(stream.is_finished());
        assert!(matches!(
            stream.push(&[0.0]),
            Err(VadRunError::Audio(VadError::Finished))
        ));
        assert!(matches!(
            stream.push_i16(&[0]),
            Err(VadRunError::Audio(VadError::Finished))
        ));
        assert_eq!(stream.finish().unwrap(), None);
        // Empty audio: no chunks at all.
        assert!(vad.probabilities(&[]).unwrap().is_empty());
        // Silence is not speech.
        assert!(vad
            .probabilities(&[0.0; 16_000])
            .unwrap()
            .iter()
            .all(|p| *p < 0.1));
    }

    #[test]
    fn wrong_model_bytes_are_a_load_error() {
        assert!(matches!(
            VoiceActivityDetector::new(b"not onnx"),
            Err(ModelError::Load { .. })
        ));
        let info = vad().model_info().clone();
        assert_eq!(info.file, VAD_FILE);
        assert_eq!(
            info.sha256,
            "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87"
        );
    }
}
