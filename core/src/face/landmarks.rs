//! Face landmarks with MediaPipe FaceMesh (468 points) on the rotation-aligned region of
//! interest, mapped back to frame coordinates.
//!
//! Input contract (see `models/MODELS.md`): `[1,192,192,3]` NHWC f32 in `[0, 1]`. Outputs:
//! `[1,1,1,1404]` = 468 × (x, y, z) in crop pixels, and `[1,1,1,1]` face-presence logit.

use crate::face::error::FaceError;
use crate::face::observation::{Detection, Keypoint, Landmarks, LANDMARK_COUNT};
use crate::image::geometry::Point;
use crate::image::warp::{warp_into, Affine};
use crate::model::error::ModelError;
use crate::model::onnx::OnnxModel;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::Tensor;

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

impl LandmarkConfig {
    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<(), FaceError> {
        if !(0.0..=1.0).contains(&self.min_presence) {
            return Err(FaceError::Config(format!(
                "landmarks.min_presence = {} is outside [0, 1]",
                self.min_presence
            )));
        }
        if !(1.0..=4.0).contains(&self.roi_scale) {
            return Err(FaceError::Config(format!(
                "landmarks.roi_scale = {} is outside [1, 4]",
                self.roi_scale
            )));
        }
        Ok(())
    }
}

/// Side of the square model input, pixels.
pub const INPUT_SIZE: u32 = 192;

/// Contours of the 468-point FaceMesh topology, as landmark indices in drawing order (the
/// one copy the quality measurements, the annotated pictures and the reports read).
pub mod contours {
    /// The face oval (silhouette), clockwise from the forehead in a non-mirrored image.
    pub const FACE_OVAL: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
    /// The person's right eye, around the lids.
    pub const RIGHT_EYE: [usize; 16] = [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ];
    /// The person's left eye, around the lids.
    pub const LEFT_EYE: [usize; 16] = [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ];
    /// The outer lips.
    pub const LIPS_OUTER: [usize; 20] = [
        61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
    ];
}

/// The rotated square of the frame the landmark model looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceRoi {
    /// Centre, frame pixels.
    pub center: Point,
    /// Side of the square, frame pixels.
    pub side: f32,
    /// Clockwise rotation (radians, y-down image coordinates) that makes the face upright.
    pub angle: f32,
}

impl FaceRoi {
    /// MediaPipe's detection-to-ROI rule: rotate so that the right-eye → left-eye keypoint
    /// vector is horizontal, square the box on its long side and scale it by `scale`.
    pub fn from_detection(d: &Detection, scale: f32) -> Self {
        let right = d.keypoint(Keypoint::RightEye);
        let left = d.keypoint(Keypoint::LeftEye);
        let angle = (left.y - right.y).atan2(left.x - right.x);
        Self {
            center: d.bbox.center(),
            side: d.bbox.width.max(d.bbox.height) * scale,
            angle,
        }
    }

    /// The map from crop pixels to frame pixels.
    pub fn affine(&self) -> Affine {
        Affine::square_crop(
            self.center.x,
            self.center.y,
            self.side,
            self.angle,
            INPUT_SIZE,
        )
    }
}

/// The FaceMesh landmark model.
#[derive(Debug, Clone)]
pub struct FaceLandmarker {
    model: OnnxModel,
    config: LandmarkConfig,
}

impl FaceLandmarker {
    /// Loads the landmark model from ONNX bytes.
    pub fn new(onnx: &[u8], config: LandmarkConfig) -> Result<Self, ModelError> {
        let shape = [1, INPUT_SIZE as usize, INPUT_SIZE as usize, 3];
        Ok(Self {
            model: OnnxModel::load("face_landmark.onnx", onnx, &shape)?,
            config,
        })
    }

    /// The region of interest the landmark model will use for a detection.
    pub fn roi_for(&self, detection: &Detection) -> FaceRoi {
        FaceRoi::from_detection(detection, self.config.roi_scale)
    }

    /// Runs the model on `roi` of `image` and returns the 468 landmarks in frame pixels.
    pub fn landmarks(&self, image: &RgbImage, roi: &FaceRoi) -> Result<Landmarks, ModelError> {
        let _span = tracing::trace_span!("landmarks").entered();
        let side = INPUT_SIZE as usize;
        let map = roi.affine();
        let mut input = vec![0.0f32; side * side * 3];
        warp_into(image, &map, INPUT_SIZE, 1.0 / 255.0, 0.0, &mut input);
        let tensor =
            Tensor::from_shape(&[1, side, side, 3], &input).map_err(|e| ModelError::Inference {
                model: self.model.name(),
                reason: format!("{e:#}"),
            })?;
        let outputs = self.model.run(tensor)?;
        let raw = self.model.output_f32(&outputs, 0)?;
        let presence_logit = self.model.output_f32(&outputs, 1)?;
        if raw.len() != LANDMARK_COUNT * 3 || presence_logit.len() != 1 {
            return Err(ModelError::Inference {
                model: self.model.name(),
                reason: format!(
                    "unexpected output sizes {} and {}",
                    raw.len(),
                    presence_logit.len()
                ),
            });
        }
        let z_scale = map.scale();
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let (x, y) = map.apply(p[0], p[1]);
                [x, y, p[2] * z_scale]
            })
            .collect();
        Ok(Landmarks {
            points,
            presence: 1.0 / (1.0 + (-presence_logit[0].clamp(-100.0, 100.0)).exp()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::geometry::Rect;

    #[test]
    fn roi_is_square_scaled_and_follows_eye_line() {
        let mut kp = [Point::default(); 6];
        kp[Keypoint::RightEye as usize] = Point::new(40.0, 50.0);
        kp[Keypoint::LeftEye as usize] = Point::new(60.0, 70.0);
        let d = Detection {
            score: 0.9,
            bbox: Rect::new(20.0, 30.0, 60.0, 40.0),
            keypoints: kp,
        };
        let roi = FaceRoi::from_detection(&d, 1.5);
        assert_eq!(roi.side, 90.0);
        assert_eq!(roi.center, Point::new(50.0, 50.0));
        assert!((roi.angle.to_degrees() - 45.0).abs() < 1e-4);
    }
}
