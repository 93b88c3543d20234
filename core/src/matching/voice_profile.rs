//! A person's enrolled voice: what certification compares the spoken answer with.
//!
//! * The **speaker reference** ([`SpeakerReference`]): a text-independent voice print
//!   ([`crate::audio::speaker::SpeakerEmbedding`]) of the enrollment's speech, with the model that made
//!   it. Certification asks "is this the enrolled person's voice?" — a relative reading the
//!   digits beside the retiree's video is refused here.
//! * The **digit templates** ([`VoiceTemplates`]), when the enrollment read the digits 0–9:
//!   "are these the digits asked for?" — a recording of the retiree saying other words is
//!   refused there.
//!
//! Either may be missing (an enrollment from recordings of free speech has no digit templates;
//! an enrollment without a usable voice has neither); the signed result says what was checked.
//! The profile is sealed at rest by [`crate::matching::sealed_voice`], bound to the subject.
//!
//! # Voices age
//! After a successful certification the app may refresh the reference with the answer's voice
//! ([`SpeakerReference::refresh`]), bounded like the face template's refresh
//! ([`crate::matching::templates`]): only a voice the check accepted with a margin
//! ([`VoiceRefreshConfig::min_live_similarity`]) moves it, by a fraction of the way
//! ([`VoiceRefreshConfig::rate`]), at most once per [`VoiceRefreshConfig::min_interval_secs`],
//! and never out of a cone around the enrolled voice
//! ([`VoiceRefreshConfig::min_similarity_to_enrolled`]) — so a sequence of impostor answers
//! that each just pass cannot walk the reference to another person.

use crate::audio::speaker::{SpeakerEmbedding, SpeakerError};
use crate::liveness::digit_verify::VoiceTemplates;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Format of [`VoiceProfile`] written by this code.
pub const VOICE_PROFILE_FORMAT: u32 = 2;

/// Errors of the voice profile.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum VoiceProfileError {
    /// A configuration value is out of range.
    #[error("invalid voice profile configuration: {0}")]
    InvalidConfig(&'static str),
    /// The profile holds neither a speaker reference nor digit templates.
    #[error("the voice profile is empty")]
    Empty,
    /// A profile format this code does not read.
    #[error("unsupported voice profile format {0}")]
    UnsupportedFormat(u32),
    /// The speaker reference was made by another speaker model than the one loaded
    /// (re-enroll the voice).
    #[error("the voice was enrolled with speaker model {enrolled}, this engine runs {loaded}")]
    ModelMismatch {
        /// SHA-256 of the model the reference was made with.
        enrolled: String,
        /// SHA-256 of the loaded model.
        loaded: String,
    },
    /// The speaker embedding could not be made or combined.
    #[error("speaker: {0}")]
    Speaker(#[from] SpeakerError),
    /// No recording, or more than a profile is made from.
    #[error("a voice profile is made from 1..={max} recordings, got {given}")]
    RecordingCount {
        /// Recordings given.
        given: usize,
        /// The most accepted.
        max: usize,
    },
    /// A recording is longer than accepted.
    #[error("a recording of {seconds:.1} s is longer than {max_seconds} s")]
    RecordingTooLong {
        /// Its length (s).
        seconds: f64,
        /// The longest accepted (s).
        max_seconds: f64,
    },
    /// A reading of the digits 0–9 did not split into ten spoken digits.
    #[error(
        "the reading of 0-9 has {segments} speech segments, not 10 (read each digit with a pause)"
    )]
    DigitReading {
        /// Speech segments found.
        segments: usize,
    },
}

/// Bounds of the refresh of a speaker reference (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceRefreshConfig {
    /// Fraction of the way from the reference to the live voice a refresh moves. Default 0.2.
    pub rate: f32,
    /// Only a live voice at least this similar to the reference refreshes it. Default 0.80
    /// (the acceptance threshold [`crate::audio::speaker::SpeakerConfig::min_similarity`], 0.72, plus
    /// a margin: a voice that barely passed does not move the reference).
    pub min_live_similarity: f32,
    /// The refreshed reference must stay at least this similar to the enrolled voice.
    /// Default 0.85.
    pub min_similarity_to_enrolled: f32,
    /// Least time between two refreshes (s). Default 180 days (certification is yearly).
    pub min_interval_secs: u64,
}

impl Default for VoiceRefreshConfig {
    fn default() -> Self {
        Self {
            rate: 0.2,
            min_live_similarity: 0.80,
            min_similarity_to_enrolled: 0.85,
            min_interval_secs: 180 * 24 * 3600,
        }
    }
}

impl VoiceRefreshConfig {
    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<(), VoiceProfileError> {
        let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        if !(unit(self.rate) && self.rate > 0.0) {
            return Err(VoiceProfileError::InvalidConfig("rate must be in (0, 1]"));
        }
        if !(unit(self.min_live_similarity) && unit(self.min_similarity_to_enrolled)) {
            return Err(VoiceProfileError::InvalidConfig(
                "min_live_similarity and min_similarity_to_enrolled must be in [0, 1]",
            ));
        }
        Ok(())
    }
}

/// The enrolled voice print and how it was made.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerReference {
    /// The reference certification compares with (the enrolled voice, refreshed).
    pub reference: SpeakerEmbedding,
    /// The voice as enrolled (bounds every refresh).
    pub enrolled: SpeakerEmbedding,
    /// SHA-256 of the speaker model that made both.
    pub model_sha256: String,
    /// Speech the enrollment embedding was made from (ms).
    pub enrolled_speech_ms: u64,
    /// Refreshes applied so far.
    pub refreshes: u32,
    /// When the last refresh was applied (unix s).
    pub refreshed_unix: Option<u64>,
}

impl std::fmt::Debug for SpeakerReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerReference")
            .field("model_sha256", &self.model_sha256)
            .field("enrolled_speech_ms", &self.enrolled_speech_ms)
            .field("refreshes", &self.refreshes)
            .finish_non_exhaustive()
    }
}

impl SpeakerReference {
    /// A reference from the enrollment's embedding.
    pub fn new(embedding: SpeakerEmbedding, model_sha256: &str, speech_ms: u64) -> Self {
        Self {
            reference: embedding.clone(),
            enrolled: embedding,
            model_sha256: model_sha256.to_owned(),
            enrolled_speech_ms: speech_ms,
            refreshes: 0,
            refreshed_unix: None,
        }
    }

    /// Checks that this reference was made by the loaded speaker model.
    pub fn check_model(&self, loaded_sha256: &str) -> Result<(), VoiceProfileError> {
        if self.model_sha256 == loaded_sha256 {
            Ok(())
        } else {
            Err(VoiceProfileError::ModelMismatch {
                enrolled: self.model_sha256.clone(),
                loaded: loaded_sha256.to_owned(),
            })
        }
    }

    /// Moves the reference towards `live` (an answer's voice accepted by the certification)
    /// within the bounds of `config`; `Ok(true)` when it moved, `Ok(false)` when a bound
    /// refused it (too soon, too dissimilar, or it would leave the cone around the enrolled
    /// voice).
    pub fn refresh(
        &mut self,
        live: &SpeakerEmbedding,
        now_unix: u64,
        config: &VoiceRefreshConfig,
    ) -> Result<bool, VoiceProfileError> {
        config.validate()?;
        if self
            .refreshed_unix
            .is_some_and(|t| now_unix.saturating_sub(t) < config.min_interval_secs)
        {
            return Ok(false);
        }
        if self.reference.similarity(live) < config.min_live_similarity {
            return Ok(false);
        }
        let moved = SpeakerEmbedding::weighted_mean(&[
            (&self.reference, 1.0 - config.rate),
            (live, config.rate),
        ])?;
        if moved.similarity(&self.enrolled) < config.min_similarity_to_enrolled {
            return Ok(false);
        }
        self.reference = moved;
        self.refreshes = self.refreshes.saturating_add(1);
        self.refreshed_unix = Some(now_unix);
        Ok(true)
    }
}

/// A person's enrolled voice (see the module documentation).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceProfile {
    /// [`VOICE_PROFILE_FORMAT`].
    pub format: u32,
    /// The voice print, when the enrollment had enough speech.
    pub speaker: Option<SpeakerReference>,
    /// The digit templates, when the enrollment read the digits 0–9.
    pub digits: Option<VoiceTemplates>,
}

impl std::fmt::Debug for VoiceProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceProfile")
            .field("format", &self.format)
            .field("speaker", &self.speaker)
            .field("digits", &self.digits.is_some())
            .finish()
    }
}

impl VoiceProfile {
    /// A profile of what the enrollment gave; refuses an empty one.
    pub fn new(
        speaker: Option<SpeakerReference>,
        digits: Option<VoiceTemplates>,
    ) -> Result<Self, VoiceProfileError> {
        let p = Self {
            format: VOICE_PROFILE_FORMAT,
            speaker,
            digits,
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the format and that something is enrolled.
    pub fn validate(&self) -> Result<(), VoiceProfileError> {
        if self.format != VOICE_PROFILE_FORMAT {
            return Err(VoiceProfileError::UnsupportedFormat(self.format));
        }
        if self.speaker.is_none() && self.digits.is_none() {
            return Err(VoiceProfileError::Empty);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit embedding pointing mostly along axis `a`, a little along `b`.
    fn emb(a: usize, b: usize, w: f32) -> SpeakerEmbedding {
        let mut v = vec![0f32; crate::audio::speaker::EMBEDDING_DIM];
        v[a] = 1.0;
        v[b] += w;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        SpeakerEmbedding::try_from(v.into_iter().map(|x| x / n).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_refresh_is_bounded_and_impostors_cannot_walk_the_reference() {
        let cfg = VoiceRefreshConfig::default();
        let mut r = SpeakerReference::new(emb(0, 1, 0.0), "ab", 8000);
        // The same voice, a little changed: moves the reference a fifth of the way.
        let live = emb(0, 1, 0.5);
        assert!(r.refresh(&live, 1_000, &cfg).unwrap());
        assert_eq!(r.refreshes, 1);
        let s = r.reference.similarity(&r.enrolled);
        assert!(s < 1.0 && s > 0.99, "{s}");
        // Too soon for another.
        assert!(!r.refresh(&live, 1_000 + 3600, &cfg).unwrap());
        // Another person's voice (orthogonal) never moves it.
        assert!(!r
            .refresh(&emb(5, 6, 0.2), 1_000 + cfg.min_interval_secs, &cfg)
            .unwrap());
        // An impostor just similar enough to pass, answering year after year: the reference
        // stays within the cone around the enrolled voice.
        let mut t = 1_000;
        for year in 0..50 {
            t += cfg.min_interval_secs;
            // Each time a voice at the live-similarity bound from the current reference,
            // pulled towards axis 7.
            let pulled =
                SpeakerEmbedding::weighted_mean(&[(&r.reference, 0.6), (&emb(7, 7, 0.0), 0.4)])
                    .unwrap();
            if r.reference.similarity(&pulled) >= cfg.min_live_similarity {
                r.refresh(&pulled, t, &cfg).unwrap();
            }
            assert!(
                r.reference.similarity(&r.enrolled) >= cfg.min_similarity_to_enrolled - 1e-5,
                "year {year}"
            );
        }
    }

    #[test]
    fn profiles_need_content_and_a_known_format() {
        assert_eq!(VoiceProfile::new(None, None), Err(VoiceProfileError::Empty));
        let r = SpeakerReference::new(emb(0, 1, 0.0), "ab", 8000);
        let mut p = VoiceProfile::new(Some(r.clone()), None).unwrap();
        p.format = 1;
        assert_eq!(p.validate(), Err(VoiceProfileError::UnsupportedFormat(1)));
        assert!(matches!(
            r.check_model("cd"),
            Err(VoiceProfileError::ModelMismatch { .. })
        ));
        r.check_model("ab").unwrap();
        let bad = VoiceRefreshConfig {
            rate: 0.0,
            ..VoiceRefreshConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
