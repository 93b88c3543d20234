//! Mouth aperture from the FaceMesh landmarks: how far the lips are apart, relative to the
//! size of the face, for audio/mouth synchronisation ([`crate::liveness::av_sync`]).
//!
//! Aperture = distance between the inner-lip midpoints (landmarks 13, upper, and 14, lower)
//! divided by the distance between the outer eye corners (33 and 263). Both distances are
//! taken in 3-D (x, y and the landmark model's relative depth z, all in pixels), so the ratio
//! does not change with the distance to the camera and changes little when the head turns.
//! A closed mouth gives ≈ 0–0.02, speech ≈ 0.05–0.3, a wide-open mouth ≈ 0.4 or more.

use crate::face::error::FaceError;
use crate::face::observation::{Landmarks, LANDMARK_COUNT};

/// FaceMesh index of the upper inner lip, midline.
pub const UPPER_INNER_LIP: usize = 13;
/// FaceMesh index of the lower inner lip, midline.
pub const LOWER_INNER_LIP: usize = 14;
/// FaceMesh index of the subject's right eye, outer corner.
pub const RIGHT_EYE_OUTER: usize = 33;
/// FaceMesh index of the subject's left eye, outer corner.
pub const LEFT_EYE_OUTER: usize = 263;

/// Inner-lip gap over inter-ocular distance (see the module documentation).
///
/// Fails with [`FaceError::Unusable`] when the landmarks are not the 468 FaceMesh points,
/// hold non-finite values, or the eye corners coincide.
pub fn mouth_aperture(landmarks: &Landmarks) -> Result<f32, FaceError> {
    let p = &landmarks.points;
    if p.len() != LANDMARK_COUNT {
        return Err(FaceError::Unusable(format!(
            "{} landmarks, expected {LANDMARK_COUNT}",
            p.len()
        )));
    }
    let dist = |a: usize, b: usize| {
        let (a, b) = (p[a], p[b]);
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    };
    let gap = dist(UPPER_INNER_LIP, LOWER_INNER_LIP);
    let eyes = dist(RIGHT_EYE_OUTER, LEFT_EYE_OUTER);
    if !(gap.is_finite() && eyes.is_finite() && eyes > 1e-3) {
        return Err(FaceError::Unusable(
            "degenerate eye or lip landmarks".into(),
        ));
    }
    Ok(gap / eyes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(gap: f32, scale: f32) -> Landmarks {
        let mut points = vec![[0.0f32; 3]; LANDMARK_COUNT];
        points[RIGHT_EYE_OUTER] = [100.0 * scale, 100.0 * scale, 0.0];
        points[LEFT_EYE_OUTER] = [200.0 * scale, 100.0 * scale, 0.0];
        points[UPPER_INNER_LIP] = [150.0 * scale, 200.0 * scale, -5.0];
        points[LOWER_INNER_LIP] = [150.0 * scale, (200.0 + gap) * scale, -5.0];
        Landmarks {
            points,
            presence: 1.0,
        }
    }

    #[test]
    fn aperture_is_scale_free() {
        assert_eq!(mouth_aperture(&face(0.0, 1.0)).unwrap(), 0.0);
        assert!((mouth_aperture(&face(20.0, 1.0)).unwrap() - 0.2).abs() < 1e-6);
        assert!((mouth_aperture(&face(20.0, 2.5)).unwrap() - 0.2).abs() < 1e-6);
    }

    #[test]
    fn degenerate_landmarks_are_errors() {
        let mut f = face(10.0, 1.0);
        f.points.truncate(100);
        assert!(mouth_aperture(&f).is_err());
        let mut f = face(10.0, 1.0);
        f.points[LEFT_EYE_OUTER] = f.points[RIGHT_EYE_OUTER];
        assert!(mouth_aperture(&f).is_err());
        let mut f = face(10.0, 1.0);
        f.points[UPPER_INNER_LIP][1] = f32::NAN;
        assert!(mouth_aperture(&f).is_err());
    }
}
