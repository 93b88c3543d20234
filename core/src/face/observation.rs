//! What the analyzer reports about one face in a frame.

use crate::image::geometry::{Point, Rect};
use serde::{Deserialize, Serialize};

/// Number of FaceMesh landmarks.
pub const LANDMARK_COUNT: usize = 468;

/// The six BlazeFace keypoints, in the detector's output order. "Right"/"left" are the
/// subject's own sides (the subject's right eye appears on the image's left in a
/// non-mirrored photo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keypoint {
    /// Centre of the subject's right eye.
    RightEye = 0,
    /// Centre of the subject's left eye.
    LeftEye = 1,
    /// Nose tip.
    NoseTip = 2,
    /// Centre of the mouth.
    MouthCenter = 3,
    /// The subject's right tragion (ear).
    RightEarTragion = 4,
    /// The subject's left tragion (ear).
    LeftEarTragion = 5,
}

/// One face found by the detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Detector confidence in [0, 1].
    pub score: f32,
    /// Face box in upright-frame pixels.
    pub bbox: Rect,
    /// The six keypoints (index with [`Keypoint`] `as usize`), upright-frame pixels.
    pub keypoints: [Point; 6],
}

impl Detection {
    /// The keypoint `k`.
    pub fn keypoint(&self, k: Keypoint) -> Point {
        self.keypoints[k as usize]
    }
}

/// The 468 FaceMesh landmarks of one face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landmarks {
    /// Landmark positions: x and y in upright-frame pixels; z is relative depth in the same
    /// pixel scale as x (smaller = closer to the camera), centred on the face.
    pub points: Vec<[f32; 3]>,
    /// Face-presence probability in [0, 1] from the landmark model.
    pub presence: f32,
}

impl Landmarks {
    /// Landmark `i` projected onto the image plane.
    ///
    /// # Panics
    /// Never for `i < LANDMARK_COUNT`, which is what the analyzer always returns; callers
    /// index with the documented FaceMesh indices.
    pub fn point(&self, i: usize) -> Point {
        let p = self.points[i];
        Point::new(p[0], p[1])
    }
}

/// Head orientation relative to the camera, in degrees.
///
/// Sign conventions (in the upright frame, i.e. after rotation *and* mirroring):
/// - `yaw` > 0: the nose points towards the image's right edge (the subject turns to
///   their own left in a non-mirrored image).
/// - `pitch` > 0: the nose points up (chin raised).
/// - `roll` > 0: the face is rotated clockwise in the image (the eye line slopes down
///   towards the image's right edge).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HeadPose {
    /// Left/right turn, degrees.
    pub yaw: f32,
    /// Up/down nod, degrees.
    pub pitch: f32,
    /// In-plane tilt, degrees.
    pub roll: f32,
}

/// Everything the analyzer observed about one face in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceObservation {
    /// The detector's view of the face.
    pub detection: Detection,
    /// The 468 landmarks and face-presence score.
    pub landmarks: Landmarks,
    /// Head pose fitted from the landmarks.
    pub pose: HeadPose,
}
