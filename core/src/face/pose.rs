//! Head pose from the 468 landmarks, by weighted orthogonal Procrustes against MediaPipe's
//! canonical 3-D face.
//!
//! Method: the landmarks are taken as a scaled-orthographic view of the head (FaceMesh's z
//! is a relative depth in the same pixel scale as x). We convert them to a right-handed,
//! camera-aligned frame (x right, y up, z towards the camera) and find the rotation `R`,
//! scale `s` and translation `t` minimising `Σ wᵢ‖s·R·mᵢ + t − pᵢ‖²` over the canonical
//! vertices `mᵢ` (Umeyama's closed form via a 3×3 SVD). The weights are MediaPipe's own
//! Procrustes landmark basis (33 stable points around eyes, nose and face outline), shipped
//! in `models/canonical_face.json`. We chose Procrustes over PnP because FaceMesh already
//! predicts depth, so no camera intrinsics (unknown on an arbitrary phone) are needed.
//!
//! Angles are read from `R` (see [`HeadPose`] for the signs): the face's forward axis is
//! `f = R·ẑ`, its left-to-right axis `r = R·x̂`:
//! `yaw = atan2(f.x, f.z)`, `pitch = atan2(f.y, √(f.x² + f.z²))`, `roll = atan2(−r.y, r.x)`.

use crate::face::observation::{HeadPose, Landmarks, LANDMARK_COUNT};
use crate::model::error::ModelError;
use nalgebra::{Matrix3, Vector3};
use serde::Deserialize;

/// The canonical face as stored in `models/canonical_face.json`.
#[derive(Debug, Deserialize)]
struct CanonicalFaceFile {
    vertices: Vec<[f32; 3]>,
    procrustes_landmark_basis: Vec<(usize, f32)>,
}

/// MediaPipe's canonical 3-D face (centimetres, x right, y up, z towards the viewer) with
/// the weights used for fitting.
#[derive(Debug, Clone)]
pub struct CanonicalFace {
    vertices: Vec<Vector3<f64>>,
    weights: Vec<(usize, f64)>,
}

impl CanonicalFace {
    /// Parses the JSON data file; every basis index must name a vertex.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let file: CanonicalFaceFile = serde_json::from_str(json).map_err(|e| ModelError::Load {
            model: "canonical_face.json",
            reason: e.to_string(),
        })?;
        if file.vertices.len() != LANDMARK_COUNT {
            return Err(ModelError::Load {
                model: "canonical_face.json",
                reason: format!(
                    "{} vertices, expected {LANDMARK_COUNT}",
                    file.vertices.len()
                ),
            });
        }
        if file.procrustes_landmark_basis.is_empty()
            || file
                .procrustes_landmark_basis
                .iter()
                .any(|&(i, w)| i >= LANDMARK_COUNT || w.is_nan() || w <= 0.0)
        {
            return Err(ModelError::Load {
                model: "canonical_face.json",
                reason: "invalid Procrustes landmark basis".into(),
            });
        }
        Ok(Self {
            vertices: file
                .vertices
                .iter()
                .map(|v| Vector3::new(v[0] as f64, v[1] as f64, v[2] as f64))
                .collect(),
            weights: file
                .procrustes_landmark_basis
                .iter()
                .map(|&(i, w)| (i, w as f64))
                .collect(),
        })
    }

    /// Vertex `i` (centimetres).
    pub fn vertex(&self, i: usize) -> Option<[f32; 3]> {
        self.vertices
            .get(i)
            .map(|v| [v.x as f32, v.y as f32, v.z as f32])
    }

    /// Fits the canonical face to `landmarks` and returns the head pose.
    pub fn head_pose(&self, landmarks: &Landmarks) -> Result<HeadPose, ModelError> {
        let _span = tracing::trace_span!("head_pose").entered();
        if landmarks.points.len() != LANDMARK_COUNT {
            return Err(ModelError::Inference {
                model: "canonical_face.json",
                reason: format!(
                    "{} landmarks, expected {LANDMARK_COUNT}",
                    landmarks.points.len()
                ),
            });
        }
        let observed = |i: usize| {
            let p = landmarks.points[i];
            // Image (x right, y down, z away) → camera-aligned right-handed (x right, y up, z towards camera).
            Vector3::new(p[0] as f64, -(p[1] as f64), -(p[2] as f64))
        };
        let total: f64 = self.weights.iter().map(|&(_, w)| w).sum();
        let mut mean_m = Vector3::zeros();
        let mut mean_p = Vector3::zeros();
        for &(i, w) in &self.weights {
            mean_m += self.vertices[i] * (w / total);
            mean_p += observed(i) * (w / total);
        }
        // Cross-covariance Σ wᵢ (pᵢ − p̄)(mᵢ − m̄)ᵀ.
        let mut cov = Matrix3::zeros();
        for &(i, w) in &self.weights {
            cov += (observed(i) - mean_p) * (self.vertices[i] - mean_m).transpose() * (w / total);
        }
        if !cov.iter().all(|v| v.is_finite()) {
            return Err(ModelError::Inference {
                model: "canonical_face.json",
                reason: "non-finite landmarks".into(),
            });
        }
        let svd = cov.svd(true, true);
        let (u, v_t) = match (svd.u, svd.v_t) {
            (Some(u), Some(v_t)) => (u, v_t),
            _ => {
                return Err(ModelError::Inference {
                    model: "canonical_face.json",
                    reason: "pose fit did not converge".into(),
                })
            }
        };
        // Umeyama: R = U·diag(1, 1, sign(det(U·Vᵀ)))·Vᵀ keeps R a proper rotation.
        let d = (u * v_t).determinant().signum();
        let r = u * Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, d)) * v_t;
        Ok(angles_from_rotation(&r))
    }
}

/// Yaw, pitch and roll (degrees) of a model-to-camera rotation, with [`HeadPose`]'s signs.
fn angles_from_rotation(r: &Matrix3<f64>) -> HeadPose {
    let forward = r.column(2);
    let across = r.column(0);
    let yaw = forward.x.atan2(forward.z);
    let pitch = forward
        .y
        .atan2((forward.x.powi(2) + forward.z.powi(2)).sqrt());
    let roll = (-across.y).atan2(across.x);
    HeadPose {
        yaw: yaw.to_degrees() as f32,
        pitch: pitch.to_degrees() as f32,
        roll: roll.to_degrees() as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    /// A canonical face made of a few non-coplanar points, for exercising the fit.
    fn toy_face() -> CanonicalFace {
        let mut vertices = vec![Vector3::zeros(); LANDMARK_COUNT];
        let pts = [
            (1, [0.0, -1.1, 7.5]),
            (33, [-4.4, 2.7, 3.2]),
            (263, [4.4, 2.7, 3.2]),
            (152, [0.0, -8.0, 4.0]),
            (10, [0.0, 7.0, 4.5]),
            (234, [-7.0, 0.0, 0.0]),
            (454, [7.0, 0.0, 0.0]),
        ];
        for (i, p) in pts {
            vertices[i] = Vector3::new(p[0], p[1], p[2]);
        }
        CanonicalFace {
            vertices,
            weights: pts.iter().map(|&(i, _)| (i, 1.0)).collect(),
        }
    }

    /// Projects the toy face rotated by `rot` into image coordinates (y down, z away).
    fn project(face: &CanonicalFace, rot: &Rotation3<f64>) -> Landmarks {
        let points = face
            .vertices
            .iter()
            .map(|v| {
                let c = rot * v * 10.0;
                [(c.x + 300.0) as f32, (-c.y + 200.0) as f32, (-c.z) as f32]
            })
            .collect();
        Landmarks {
            points,
            presence: 1.0,
        }
    }

    #[test]
    fn frontal_face_has_zero_pose() {
        let face = toy_face();
        let pose = face
            .head_pose(&project(&face, &Rotation3::identity()))
            .unwrap();
        assert!(pose.yaw.abs() < 1e-3 && pose.pitch.abs() < 1e-3 && pose.roll.abs() < 1e-3);
    }

    #[test]
    fn signs_follow_the_documented_convention() {
        let face = toy_face();
        // Nose turned towards the image's right: rotation about the up axis by +20°.
        let yaw = face
            .head_pose(&project(
                &face,
                &Rotation3::from_axis_angle(&Vector3::y_axis(), 0.35),
            ))
            .unwrap();
        assert!((yaw.yaw - 20.05).abs() < 0.1, "{yaw:?}");
        // Chin raised: nose goes up (+y), i.e. rotation about x by −15°.
        let pitch = face
            .head_pose(&project(
                &face,
                &Rotation3::from_axis_angle(&Vector3::x_axis(), -0.2618),
            ))
            .unwrap();
        assert!((pitch.pitch - 15.0).abs() < 0.1, "{pitch:?}");
        // Clockwise in the image (y down) is a negative rotation about the camera's z axis.
        let roll = face
            .head_pose(&project(
                &face,
                &Rotation3::from_axis_angle(&Vector3::z_axis(), -0.1745),
            ))
            .unwrap();
        assert!((roll.roll - 10.0).abs() < 0.1, "{roll:?}");
    }

    #[test]
    fn wrong_landmark_count_is_an_error() {
        let face = toy_face();
        let lm = Landmarks {
            points: vec![[0.0; 3]; 10],
            presence: 1.0,
        };
        assert!(face.head_pose(&lm).is_err());
    }
}
