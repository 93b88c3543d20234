//! The one typed configuration of the engine, with documented defaults.
//!
//! Every threshold the engine uses lives here (grouped by stage), so integrators tune one
//! struct and reviewers read one file.

use crate::api::attestation::ConfigProfile;
use crate::api::error::{Error, Result};
pub use crate::face::analyzer::FaceConfig;
pub use crate::face::detector::DetectorConfig;
pub use crate::face::landmarks::LandmarkConfig;
pub use crate::face::tracker::TrackerConfig;
use crate::identity::id_document::IdDocumentError;
use crate::matching::templates::EnrollmentGate;
use serde::{Deserialize, Serialize};

/// The engine's whole configuration. `Config::default()` is what production uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Face detection.
    pub detector: DetectorConfig,
    /// Face landmarks.
    pub landmarks: LandmarkConfig,
    /// Face tracking on camera streams (sessions): when the detector runs.
    pub tracker: TrackerConfig,
    /// Capture guidance: quality thresholds (inside), hysteresis, timing.
    pub guidance: crate::capture::guidance::GuidanceConfig,
    /// Liveness flow: digit and action challenges, timeouts, retries, evidence thresholds.
    pub liveness: crate::liveness::sequencer::LivenessConfig,
    /// ID-document uploads: size limit, re-encoding, portrait search.
    pub id_document: crate::identity::id_document::IdDocumentConfig,
    /// Face templates: enrollment gate, match threshold, bounded refresh.
    pub matching: crate::matching::templates::MatchingConfig,
    /// Enrollment and certification sessions: positioning gate, presentation-attack limit,
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
        self.face().validate()?;
        self.guidance.validate()?;
        // A face entering the picture is seen only when the detector runs: it must run at
        // least as often as the guidance confirms a new verdict, so the "only one person"
        // warning is not later than the guidance's own debounce makes it.
        if self.tracker.enabled && self.tracker.redetect_interval > self.guidance.switch_confirm {
            return Err(Error::Config(format!(
                "tracker.redetect_interval = {:?} is longer than guidance.switch_confirm = {:?}",
                self.tracker.redetect_interval, self.guidance.switch_confirm
            )));
        }
        self.liveness.validate()?;
        self.id_document.validate().map_err(|e| match e {
            IdDocumentError::Config(reason) => Error::Config(reason),
            other => other.into(),
        })?;
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

    /// The face layer's part: detector, landmarks, tracking.
    pub fn face(&self) -> FaceConfig {
        FaceConfig {
            detector: self.detector.clone(),
            landmarks: self.landmarks.clone(),
            tracker: self.tracker.clone(),
        }
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

impl From<&Config> for EnrollmentGate {
    fn from(config: &Config) -> Self {
        EnrollmentGate {
            guidance: config.guidance.clone(),
            matching: config.matching.clone(),
        }
    }
}

impl From<Config> for EnrollmentGate {
    fn from(config: Config) -> Self {
        (&config).into()
    }
}

impl From<Config> for FaceConfig {
    fn from(config: Config) -> Self {
        config.face()
    }
}

impl From<&Config> for FaceConfig {
    fn from(config: &Config) -> Self {
        config.face()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        Config::default().validate().unwrap();
        let mut c = Config::default();
        c.detector.min_score = 1.5;
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        // Tracking: re-detection no rarer than the guidance's debounce, and never reporting a
        // presence the detector path would drop.
        let mut c = Config::default();
        c.tracker.redetect_interval = c.guidance.switch_confirm + Duration::from_millis(1);
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        c.tracker.enabled = false;
        c.validate().unwrap();
        let mut c = Config::default();
        c.tracker.min_presence = c.landmarks.min_presence - 0.1;
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        let mut c = Config::default();
        c.detector.max_faces = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn a_configuration_written_with_the_old_spelling_still_reads() {
        let old = r#"{
            "matching": {"min_enrolment_frames": 4, "max_enrolment_frames": 9},
            "session": {"enrolment_frames": 6, "enrolment_frame_interval": {"secs": 0, "nanos": 250000000}}
        }"#;
        let c: Config = serde_json::from_str(old).unwrap();
        assert_eq!(
            (
                c.matching.min_enrollment_frames,
                c.matching.max_enrollment_frames
            ),
            (4, 9)
        );
        assert_eq!(c.session.enrollment_frames, 6);
        assert_eq!(
            c.session.enrollment_frame_interval,
            Duration::from_millis(250)
        );
        c.validate().unwrap();
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
