//! Face landmarks with MediaPipe FaceMesh (468 points) on the rotation-aligned region of
//! interest, mapped back to frame coordinates.
//!
//! Input contract (see `models/MODELS.md`): `[1,192,192,3]` NHWC f32 in `[0, 1]`. Outputs:
//! `[1,1,1,1404]` = 468 × (x, y, z) in crop pixels, and `[1,1,1,1]` face-presence logit.

use crate::face::error::FaceError;
use crate::face::mouth::{LEFT_EYE_OUTER, RIGHT_EYE_OUTER};
use crate::face::observation::{Detection, Keypoint, Landmarks, LANDMARK_COUNT};
use crate::image::geometry::{Point, Rect};
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

    /// The same rule applied to the previous frame's landmarks (what MediaPipe's face
    /// landmarker does on a stream): rotate so that the outer eye corners (FaceMesh 33 → 263,
    /// the subject's right → left) are horizontal, take the box that encloses all landmarks
    /// in that rotated frame, square it on its long side and scale it by `scale`. `None`
    /// when the landmarks are not the 468 FaceMesh points, hold non-finite values or are
    /// degenerate (eye corners coincide, zero extent).
    pub fn from_landmarks(landmarks: &Landmarks, scale: f32) -> Option<Self> {
        let p = &landmarks.points;
        if p.len() != LANDMARK_COUNT {
            return None;
        }
        let (right, left) = (p[RIGHT_EYE_OUTER], p[LEFT_EYE_OUTER]);
        let (ex, ey) = (left[0] - right[0], left[1] - right[1]);
        let eye_distance = ex.hypot(ey);
        if !eye_distance.is_finite() || eye_distance < 1e-3 {
            return None;
        }
        let angle = ey.atan2(ex);
        let (c, s) = (ex / eye_distance, ey / eye_distance);
        // Coordinates along the eye line (u) and across it (v).
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for q in p {
            let u = q[0] * c + q[1] * s;
            let v = -q[0] * s + q[1] * c;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let (width, height) = (u1 - u0, v1 - v0);
        if !(width.is_finite() && height.is_finite()) || width <= 0.0 || height <= 0.0 {
            return None;
        }
        let (uc, vc) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
        Some(Self {
            center: Point::new(uc * c - vc * s, uc * s + vc * c),
            side: width.max(height) * scale,
            angle,
        })
    }

    /// The fraction of this square (ignoring its rotation) that lies inside a
    /// `width`×`height` image, in [0, 1].
    pub fn inside_fraction(&self, width: u32, height: u32) -> f32 {
        if self.side.is_nan() || self.side <= 0.0 {
            return 0.0;
        }
        let square = self.square();
        (square.clamp_to(width, height).area() / square.area()).clamp(0.0, 1.0)
    }

    /// The axis-aligned square of side [`FaceRoi::side`] around the centre (rotation
    /// ignored), for overlap tests.
    pub fn square(&self) -> Rect {
        let half = self.side / 2.0;
        Rect::new(
            self.center.x - half,
            self.center.y - half,
            self.side,
            self.side,
        )
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

    #[test]
    fn roi_from_landmarks_is_the_rotated_box_of_the_landmarks() {
        // A 100 (along the eyes) × 120 face centred on (200, 150), rolled by 30°.
        let (angle, center) = (30f32.to_radians(), Point::new(200.0, 150.0));
        let at = |u: f32, v: f32| {
            let (c, s) = (angle.cos(), angle.sin());
            [center.x + u * c - v * s, center.y + u * s + v * c, 0.0]
        };
        let mut points: Vec<[f32; 3]> = (0..LANDMARK_COUNT)
            .map(|i| {
                let k = i as f32 / (LANDMARK_COUNT - 1) as f32;
                match i % 4 {
                    0 => at(-50.0 + 100.0 * k, -60.0),
                    1 => at(-50.0 + 100.0 * k, 60.0),
                    2 => at(-50.0, -60.0 + 120.0 * k),
                    _ => at(50.0, -60.0 + 120.0 * k),
                }
            })
            .collect();
        points[RIGHT_EYE_OUTER] = at(-30.0, -10.0);
        points[LEFT_EYE_OUTER] = at(30.0, -10.0);
        let lm = Landmarks {
            points,
            presence: 1.0,
        };
        let roi = FaceRoi::from_landmarks(&lm, 1.5).unwrap();
        assert!(
            (roi.angle - angle).abs() < 1e-4,
            "{}",
            roi.angle.to_degrees()
        );
        assert!((roi.side - 180.0).abs() < 1e-2, "{}", roi.side);
        assert!(roi.center.distance(center) < 1e-2, "{:?}", roi.center);
        // Degenerate input gives no region.
        let mut flat = lm.clone();
        flat.points[LEFT_EYE_OUTER] = flat.points[RIGHT_EYE_OUTER];
        assert!(FaceRoi::from_landmarks(&flat, 1.5).is_none());
        assert!(FaceRoi::from_landmarks(
            &Landmarks {
                points: vec![],
                presence: 1.0
            },
            1.5
        )
        .is_none());
        // Half of a square centred on the right edge lies inside.
        let edge = FaceRoi {
            center: Point::new(640.0, 240.0),
            side: 100.0,
            angle: 0.0,
        };
        assert!((edge.inside_fraction(640, 480) - 0.5).abs() < 1e-6);
    }
}
