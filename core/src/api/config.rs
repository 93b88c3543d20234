//! The one typed configuration of the engine, with documented defaults.
//!
//! Every threshold the engine uses lives here (grouped by stage), so integrators tune one
//! struct and reviewers read one file.

use crate::api::attestation::ConfigProfile;
use crate::api::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Face detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// Minimum detector score for a face. Default 0.5, MediaPipe's own value for the
    /// short-range model.
    pub min_score: f32,
    /// IoU above which overlapping detections are merged by weighted NMS. Default 0.3
    /// (MediaPipe).
    pub nms_iou: f32,
    /// At most this many faces are reported per frame (largest scores first). Default 8:
    /// enough to tell "several people in the picture" apart from "one".
    pub max_faces: usize,
    /// Also search an `n`×`n` grid of overlapping tiles (each half again as large as a
    /// cell) for faces too small to be seen when the whole frame is shrunk to the
    /// detector's 128×128 input. `1` (the default) searches the whole frame only, which
    /// suits a selfie camera held at arm's length; still photos of groups want 3.
    pub tiles: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_score: 0.5,
            nms_iou: 0.3,
            max_faces: 8,
            tiles: 1,
        }
    }
}

/// Landmark model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LandmarkConfig {
    /// The ROI side is the detector box's long side times this. Default 1.5 (MediaPipe).
    pub roi_scale: f32,
    /// Faces whose landmark presence score is below this are dropped as false detections.
    /// Default 0.5.
    pub min_presence: f32,
}

impl Default for LandmarkConfig {
    fn default() -> Self {
        Self {
            roi_scale: 1.5,
            min_presence: 0.5,
        }
    }
}

/// The engine's whole configuration. `Config::default()` is what production uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Face detection.
    pub detector: DetectorConfig,
    /// Face landmarks.
    pub landmarks: LandmarkConfig,
    /// Capture guidance: quality thresholds (inside), hysteresis, timing.
    pub guidance: crate::capture::guidance::GuidanceConfig,
    /// Liveness flow: digit and action challenges, timeouts, retries, evidence thresholds.
    pub liveness: crate::liveness::sequencer::LivenessConfig,
    /// ID-document uploads: size limit, re-encoding, portrait search.
    pub id_document: crate::identity::id_document::IdDocumentConfig,
    /// Face templates: enrolment gate, match threshold, bounded refresh.
    pub matching: crate::matching::templates::MatchingConfig,
    /// Enrolment and certification sessions: positioning gate, presentation-attack limit,
    /// attempts, frames kept.
    pub session: crate::api::session::SessionConfig,
    /// Speaker verification against the enrolled voice: the calibrated threshold, least
    /// speech.
    pub speaker: crate::audio::speaker::SpeakerConfig,
    /// Bounded refresh of the enrolled voice after successful certifications.
    pub voice_refresh: crate::matching::voice_profile::VoiceRefreshConfig,
}

impl Config {
    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::Config(format!("{name} = {v} is outside [0, 1]")))
            }
        };
        unit("detector.min_score", self.detector.min_score)?;
        unit("detector.nms_iou", self.detector.nms_iou)?;
        unit("landmarks.min_presence", self.landmarks.min_presence)?;
        if self.detector.max_faces == 0 {
            return Err(Error::Config(
                "detector.max_faces must be at least 1".into(),
            ));
        }
        if !(1..=4).contains(&self.detector.tiles) {
            return Err(Error::Config(format!(
                "detector.tiles = {} is outside [1, 4]",
                self.detector.tiles
            )));
        }
        if !(1.0..=4.0).contains(&self.landmarks.roi_scale) {
            return Err(Error::Config(format!(
                "landmarks.roi_scale = {} is outside [1, 4]",
                self.landmarks.roi_scale
            )));
        }
        self.guidance
            .validate()
            .map_err(|e| Error::Config(e.to_string()))?;
        self.liveness.validate()?;
        self.id_document.validate()?;
        self.matching
            .validate()
            .map_err(|e| Error::Config(e.to_string()))?;
        self.session.validate()?;
        self.speaker
            .validate()
            .map_err(|e| Error::Config(e.to_string()))?;
        self.voice_refresh
            .validate()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(())
    }

    /// Which profile this configuration is, as a signed result records it: exactly
    /// [`Config::default`] is [`ConfigProfile::Production`], exactly [`Config::for_recordings`]
    /// is [`ConfigProfile::RecordingReplay`], anything else [`ConfigProfile::Custom`] (the
    /// authority's default policy accepts only production results).
    pub fn profile(&self) -> ConfigProfile {
        if *self == Self::default() {
            ConfigProfile::Production
        } else if *self == Self::for_recordings() {
            ConfigProfile::RecordingReplay
        } else {
            ConfigProfile::Custom
        }
    }

    /// The configuration for replaying **recorded** sessions against a known challenge
    /// (tools and tests, never a live certification): [`crate::api::session::SessionConfig::for_recordings`]
    /// and [`crate::liveness::sequencer::LivenessConfig::for_recordings`], the rest as default.
    pub fn for_recordings() -> Self {
        Self {
            session: crate::api::session::SessionConfig::for_recordings(),
            liveness: crate::liveness::sequencer::LivenessConfig::for_recordings(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        Config::default().validate().unwrap();
        let mut c = Config::default();
        c.detector.min_score = 1.5;
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        let mut c = Config::default();
        c.detector.max_faces = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn profiles_tell_production_from_replay_and_custom_settings() {
        assert_eq!(Config::default().profile(), ConfigProfile::Production);
        assert_eq!(
            Config::for_recordings().profile(),
            ConfigProfile::RecordingReplay
        );
        let mut c = Config::default();
        c.liveness.av_sync.min_correlation -= 0.01;
        assert_eq!(c.profile(), ConfigProfile::Custom);
        let mut c = Config::for_recordings();
        c.session.positioning_gate = true;
        assert_eq!(c.profile(), ConfigProfile::Custom);
    }
}
