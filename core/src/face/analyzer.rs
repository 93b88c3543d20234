//! The analyzer: loads the models once and turns a camera frame into observed faces
//! (frame → upright image → detections → landmarks → head pose).

use crate::face::alignment::{align, FaceChip};
use crate::face::descriptor::{Descriptor, DescriptorModel};
use crate::face::detector::{DetectorConfig, FaceDetector};
use crate::face::error::FaceError;
use crate::face::landmarks::{FaceLandmarker, LandmarkConfig};
use crate::face::lazy_descriptor::LazyDescriptor;
use crate::face::observation::FaceObservation;
use crate::face::pose::CanonicalFace;
use crate::face::tracker::{FaceTrack, Follow, TrackerConfig};
use crate::image::frame::Frame;
use crate::model::assets::{
    ModelInfo, ModelSource, CANONICAL_FACE_FILE, DESCRIPTOR_FILE, DETECTOR_FILE, LANDMARK_FILE,
};
use crate::model::error::ModelError;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The face layer's settings: the detector, the landmark model and tracking. The product
/// configuration (`crate::api::config::Config`) holds them and converts into this.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaceConfig {
    /// Face detection.
    pub detector: DetectorConfig,
    /// Face landmarks.
    pub landmarks: LandmarkConfig,
    /// Face tracking on a stream ([`Analyzer::analyze_tracked`]).
    pub tracker: TrackerConfig,
}

impl FaceConfig {
    /// Checks that every value lies in its documented range, and that
    /// `tracker.min_presence` is not below `landmarks.min_presence` (a tracked face is never
    /// reported with a presence the detector path would drop).
    pub fn validate(&self) -> Result<(), FaceError> {
        self.detector.validate()?;
        self.landmarks.validate()?;
        self.tracker.validate()?;
        if self.tracker.min_presence < self.landmarks.min_presence {
            return Err(FaceError::Config(format!(
                "tracker.min_presence = {} is below landmarks.min_presence = {}",
                self.tracker.min_presence, self.landmarks.min_presence
            )));
        }
        Ok(())
    }
}

/// What the analyzer saw in one frame.
#[derive(Debug, Clone)]
pub struct FrameAnalysis {
    /// The frame converted to upright RGB (rotation and mirror applied); every coordinate in
    /// `faces` refers to this image.
    pub image: RgbImage,
    /// The faces, by decreasing detector score.
    pub faces: Vec<FaceObservation>,
}

/// Face analysis with the models loaded once. `Send + Sync`: share one instance (e.g. in an
/// `Arc`) between threads; every call is independent.
#[derive(Debug, Clone)]
pub struct Analyzer {
    config: FaceConfig,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    canonical_face: CanonicalFace,
    /// Loaded on first use (embedded copy) or at creation (from a directory): see
    /// `lazy_descriptor`.
    descriptor: LazyDescriptor,
    models: Vec<ModelInfo>,
}

impl Analyzer {
    /// Loads the embedded models.
    pub fn new(config: impl Into<FaceConfig>) -> Result<Self, FaceError> {
        Self::with_models(config, &ModelSource::Embedded)
    }

    /// Loads the models from `source`. The face descriptor is loaded here only when `source`
    /// is a directory; the embedded copy loads on first use (see
    /// [`Analyzer::prefetch_descriptor`]), so that the first frame does not wait for it.
    pub fn with_models(
        config: impl Into<FaceConfig>,
        source: &ModelSource,
    ) -> Result<Self, FaceError> {
        let _span = tracing::info_span!("load_models").entered();
        let config = config.into();
        config.validate()?;
        let (detector_bytes, detector_info) = source.read(DETECTOR_FILE)?;
        let (landmark_bytes, landmark_info) = source.read(LANDMARK_FILE)?;
        let (face_bytes, face_info) = source.read(CANONICAL_FACE_FILE)?;
        let (descriptor_bytes, descriptor_info) = source.read(DESCRIPTOR_FILE)?;
        let face_json = std::str::from_utf8(&face_bytes).map_err(|e| ModelError::Load {
            model: CANONICAL_FACE_FILE,
            reason: e.to_string(),
        })?;
        Ok(Self {
            detector: FaceDetector::new(&detector_bytes, config.detector.clone())?,
            landmarker: FaceLandmarker::new(&landmark_bytes, config.landmarks.clone())?,
            canonical_face: CanonicalFace::from_json(face_json)?,
            descriptor: LazyDescriptor::new(source, &descriptor_bytes)?,
            models: vec![detector_info, landmark_info, face_info, descriptor_info],
            config,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// Name and SHA-256 of every model file loaded.
    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// The detector alone (for benchmarks and tools).
    pub fn detector(&self) -> &FaceDetector {
        &self.detector
    }

    /// The landmark model alone (for benchmarks and tools).
    pub fn landmarker(&self) -> &FaceLandmarker {
        &self.landmarker
    }

    /// The canonical 3-D face used for head pose.
    pub fn canonical_face(&self) -> &CanonicalFace {
        &self.canonical_face
    }

    /// Cuts the aligned 150×150 chip of `face` out of `image` (the image it was found in).
    pub fn chip(&self, image: &RgbImage, face: &FaceObservation) -> Result<FaceChip, FaceError> {
        align(image, &face.landmarks)
            .ok_or_else(|| FaceError::Unusable("degenerate landmarks".into()))
    }

    /// The 128-d descriptor of `face` in `image`.
    pub fn describe(
        &self,
        image: &RgbImage,
        face: &FaceObservation,
    ) -> Result<Descriptor, FaceError> {
        Ok(self.descriptor.get()?.describe(&self.chip(image, face)?)?)
    }

    /// The descriptor model alone (for benchmarks and tools), loaded if it is not yet.
    pub fn descriptor_model(&self) -> Result<&DescriptorModel, ModelError> {
        self.descriptor.get()
    }

    /// Starts loading the face descriptor on a background thread if it is not loaded yet
    /// (sessions that will match or enroll a face call it when they start). A caller that
    /// needs the descriptor before the load ends waits for it; a failed load is retried, and
    /// its error returned, by the next [`Analyzer::describe`].
    pub fn prefetch_descriptor(&self) {
        self.descriptor.prefetch();
    }

    /// Whether the face descriptor is loaded (shared by every clone of this analyzer).
    pub fn descriptor_loaded(&self) -> bool {
        self.descriptor.is_loaded()
    }

    /// Analyses one camera frame.
    pub fn analyze(&self, frame: &Frame<'_>) -> Result<FrameAnalysis, FaceError> {
        let _span = tracing::debug_span!("analyze_frame").entered();
        let image = frame.to_rgb();
        let faces = self.analyze_image(&image)?;
        Ok(FrameAnalysis { image, faces })
    }

    /// Analyses an upright RGB image.
    pub fn analyze_image(&self, image: &RgbImage) -> Result<Vec<FaceObservation>, FaceError> {
        let _span = tracing::debug_span!("analyze_image").entered();
        let mut faces = Vec::new();
        for detection in self.detector.detect(image)? {
            let roi = self.landmarker.roi_for(&detection);
            let landmarks = self.landmarker.landmarks(image, &roi)?;
            if landmarks.presence < self.config.landmarks.min_presence {
                tracing::debug!(
                    presence = landmarks.presence,
                    "face dropped by landmark presence"
                );
                continue;
            }
            let pose = self.canonical_face.head_pose(&landmarks)?;
            faces.push(FaceObservation {
                detection,
                landmarks,
                pose,
            });
        }
        Ok(faces)
    }

    /// Analyses one frame of a camera stream at stream time `t`, following the faces of the
    /// previous frames in `track` (one [`FaceTrack`] per stream, frames in order): the
    /// landmark model looks where the previous frame's landmarks were, and the detector runs
    /// only when the tracker's rules ask for it (see [`crate::face::tracker`]). Returns what
    /// [`Analyzer::analyze`] returns; stills and single photos use that instead.
    pub fn analyze_tracked(
        &self,
        frame: &Frame<'_>,
        t: Duration,
        track: &mut FaceTrack,
    ) -> Result<FrameAnalysis, FaceError> {
        let _span = tracing::debug_span!("analyze_frame_tracked").entered();
        let image = frame.to_rgb();
        let faces = self.analyze_image_tracked(&image, t, track)?;
        Ok(FrameAnalysis { image, faces })
    }

    /// [`Analyzer::analyze_tracked`] on an upright RGB image.
    pub fn analyze_image_tracked(
        &self,
        image: &RgbImage,
        t: Duration,
        track: &mut FaceTrack,
    ) -> Result<Vec<FaceObservation>, FaceError> {
        let _span = tracing::debug_span!("analyze_image_tracked").entered();
        let cfg = &self.config.tracker;
        if let Some(reason) = track.begin(t, image.dimensions(), cfg) {
            tracing::trace!(?reason, "detector runs");
            return self.detect_into(image, t, track);
        }
        let tracked = track.faces().to_vec();
        let mut faces = Vec::with_capacity(tracked.len());
        let mut next = Vec::with_capacity(tracked.len());
        for face in &tracked {
            let landmarks = self.landmarker.landmarks(image, &face.roi)?;
            match FaceTrack::follow(face, landmarks, self.config.landmarks.roi_scale, cfg) {
                Follow::Kept(mut observation, state) => {
                    observation.pose = self.canonical_face.head_pose(&observation.landmarks)?;
                    faces.push(*observation);
                    next.push(state);
                }
                Follow::Lost(reason) => {
                    tracing::debug!(?reason, "tracking lost; detector runs");
                    track.redetect(reason);
                    return self.detect_into(image, t, track);
                }
            }
        }
        track.tracked(next, cfg);
        Ok(faces)
    }

    /// The detector path ([`Analyzer::analyze_image`]); its faces start the next tracking.
    fn detect_into(
        &self,
        image: &RgbImage,
        t: Duration,
        track: &mut FaceTrack,
    ) -> Result<Vec<FaceObservation>, FaceError> {
        let faces = self.analyze_image(image)?;
        track.detected(
            t,
            &faces,
            self.config.landmarks.roi_scale,
            &self.config.tracker,
        );
        Ok(faces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Analyzer>();
    }

    #[test]
    fn embedded_descriptor_loads_on_first_use_once_for_every_clone() {
        let analyzer = Analyzer::new(FaceConfig::default()).unwrap();
        assert!(!analyzer.descriptor_loaded());
        // Its identity is known before it is loaded (templates name it).
        assert!(analyzer.models().iter().any(|m| m.file == DESCRIPTOR_FILE));
        let clone = analyzer.clone();
        clone.prefetch_descriptor();
        let model = clone.descriptor_model().unwrap() as *const DescriptorModel;
        assert!(analyzer.descriptor_loaded());
        assert_eq!(analyzer.descriptor_model().unwrap() as *const _, model);
    }

    #[test]
    fn descriptor_from_a_directory_loads_at_creation() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
        let analyzer =
            Analyzer::with_models(FaceConfig::default(), &ModelSource::Directory(dir)).unwrap();
        assert!(analyzer.descriptor_loaded());
    }
}
