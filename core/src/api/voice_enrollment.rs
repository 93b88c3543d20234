//! Enrolling a voice: speech → a [`VoiceProfile`] (the speaker reference, and the digit
//! templates when the speech is a reading of the digits 0–9).
//!
//! Used by the enrollment session's "read 0 1 2 … 9" step ([`crate::api::enrollment`]) and by staff
//! or tools enrolling from recordings of the person ([`profile_from_recordings`], the CLI's
//! `enroll --voice`). Speech is found with the engine's voice-activity detector; the speaker
//! embedding is made from the speech only ([`crate::audio::speaker::SpeakerEncoder::embed_segments`]),
//! one embedding per recording, averaged over the recordings.

use crate::api::engine::Engine;
use crate::api::error::{Error, Result};
use crate::audio::mfcc::{Mfcc, MfccConfig};
use crate::audio::segments::{speech_segments, SpeechSegment};
use crate::audio::speaker::{SpeakerEmbedding, SpeakerError};
use crate::audio::vad::SAMPLE_RATE_HZ;
use crate::liveness::digit_verify::VoiceTemplates;
use crate::matching::voice_profile::{SpeakerReference, VoiceProfile, VoiceProfileError};

/// Longest recording accepted (s): a bound on the work per call.
pub const MAX_RECORDING_S: f64 = 120.0;
/// Most recordings one profile is made from.
pub const MAX_RECORDINGS: usize = 20;

/// The speech segments (seconds from the start) of a 16 kHz mono recording, by the engine's
/// voice-activity detector and [`crate::liveness::sequencer::LivenessConfig::segments`].
pub fn speech_of(engine: &Engine, audio: &[f32]) -> Result<Vec<SpeechSegment>> {
    let _span = tracing::debug_span!("speech_of", samples = audio.len()).entered();
    let seconds = audio.len() as f64 / f64::from(SAMPLE_RATE_HZ);
    if seconds > MAX_RECORDING_S {
        return Err(VoiceProfileError::RecordingTooLong {
            seconds,
            max_seconds: MAX_RECORDING_S,
        }
        .into());
    }
    let probs = engine.vad().probabilities(audio)?;
    speech_segments(&probs, &engine.config().liveness.segments)
        .map_err(|e| Error::Config(format!("speech segments: {e}")))
}

/// Digit templates from a reading of 0–9: exactly ten speech segments, in order. `None` when
/// the reading does not split into ten (a retry is due).
pub fn digit_templates_from(audio: &[f32], segments: &[SpeechSegment]) -> Option<VoiceTemplates> {
    if segments.len() != 10 {
        return None;
    }
    let mfcc = Mfcc::new(MfccConfig::default()).ok()?;
    let spans: Vec<(f32, f32)> = segments.iter().map(|s| (s.start_s, s.end_s)).collect();
    let features = mfcc.compute_segments(audio, &spans).ok()?;
    let mut templates = VoiceTemplates::new(mfcc.dims());
    for (digit, f) in (0u8..).zip(&features) {
        templates.add_take(digit, f).ok()?;
    }
    Some(templates)
}

/// Total duration of `segments` (ms).
fn speech_ms(segments: &[SpeechSegment]) -> u64 {
    let s: f32 = segments.iter().map(|s| s.duration_s().max(0.0)).sum();
    (f64::from(s) * 1000.0).round() as u64
}

/// The speaker reference of recordings (16 kHz mono) with their speech segments: one
/// embedding per recording, averaged. Recordings with too little speech are skipped; an error
/// when none has enough.
pub fn speaker_reference_from(
    engine: &Engine,
    recordings: &[(&[f32], &[SpeechSegment])],
) -> Result<SpeakerReference> {
    let encoder = engine.speaker()?;
    let mut embeddings: Vec<SpeakerEmbedding> = Vec::new();
    let mut total_ms = 0;
    let mut last_error = None;
    for (audio, segments) in recordings {
        match encoder.embed_segments(audio, segments) {
            Ok(e) => {
                embeddings.push(e);
                total_ms += speech_ms(segments);
            }
            Err(e @ (SpeakerError::TooLittleSpeech { .. } | SpeakerError::Silent)) => {
                last_error = Some(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if embeddings.is_empty() {
        return Err(last_error.unwrap_or(SpeakerError::NoEmbeddings).into());
    }
    let embedding = SpeakerEmbedding::mean_of(&embeddings)?;
    Ok(SpeakerReference::new(
        embedding,
        &encoder.model_info().sha256,
        total_ms,
    ))
}

/// A voice profile from recordings of the person speaking (any words, any length up to
/// [`MAX_RECORDING_S`] each) and, optionally, a recording of the person reading the digits
/// 0–9 with a pause after each (its speech also counts for the voice print). Errors: no
/// recording, too many, a recording too long, too little speech in all of them
/// ([`SpeakerError::TooLittleSpeech`]), a reading of 0–9 that does not split into ten digits.
pub fn profile_from_recordings(
    engine: &Engine,
    recordings: &[&[f32]],
    digit_reading: Option<&[f32]>,
) -> Result<VoiceProfile> {
    let _span =
        tracing::info_span!("voice_profile_from_recordings", n = recordings.len()).entered();
    let n = recordings.len() + usize::from(digit_reading.is_some());
    if n == 0 || n > MAX_RECORDINGS {
        return Err(VoiceProfileError::RecordingCount {
            given: n,
            max: MAX_RECORDINGS,
        }
        .into());
    }
    let mut segmented: Vec<(&[f32], Vec<SpeechSegment>)> = Vec::with_capacity(n);
    for audio in recordings.iter().copied().chain(digit_reading) {
        segmented.push((audio, speech_of(engine, audio)?));
    }
    let digits = match digit_reading {
        Some(audio) => {
            let segments = &segmented[segmented.len() - 1].1;
            Some(
                digit_templates_from(audio, segments).ok_or(VoiceProfileError::DigitReading {
                    segments: segments.len(),
                })?,
            )
        }
        None => None,
    };
    let refs: Vec<(&[f32], &[SpeechSegment])> =
        segmented.iter().map(|(a, s)| (*a, s.as_slice())).collect();
    let speaker = speaker_reference_from(engine, &refs)?;
    Ok(VoiceProfile::new(Some(speaker), digits)?)
}
