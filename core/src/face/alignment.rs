//! Face chips for the descriptor: a 150×150 crop cut by a similarity transform that puts the
//! face's landmarks where dlib's face recognition model expects them.
//!
//! dlib aligns with its 68-point mean face shape, padded by 0.25 on every side
//! (`get_face_chip_details(shape, 150, 0.25)`): a mean-shape point `(x, y)` in `[0, 1]` lands
//! at `((x + 0.25) / 1.5 · 150, (y + 0.25) / 1.5 · 150)` in the chip. We fit the similarity
//! (rotation, uniform scale, translation) that best maps ten FaceMesh landmarks onto the
//! chip positions of their dlib counterparts (eye corners, nose, mouth corners and lip
//! centres), by least squares.

use crate::face::observation::Landmarks;
use crate::image::warp::{warp_into, Affine};
use image::RgbImage;

/// Side of a face chip, pixels.
pub const CHIP_SIZE: u32 = 150;
/// dlib's padding around the mean face shape.
const PADDING: f32 = 0.25;

/// (FaceMesh index, dlib 68-point mean-shape position in `[0, 1]`) pairs used for alignment.
/// The positions are dlib's `mean_face_shape_x/y` for points 36, 39, 42, 45 (eye corners),
/// 30 (nose tip), 33 (nose bottom), 48, 54 (mouth corners), 51 and 57 (lip centres).
const CORRESPONDENCES: [(usize, [f32; 2]); 10] = [
    (33, [0.121_737, 0.216_423]),
    (133, [0.334_606, 0.231_733]),
    (362, [0.645_647, 0.231_733]),
    (263, [0.858_516, 0.216_423]),
    (1, [0.490_127, 0.515_625]),
    (2, [0.490_127, 0.628_106]),
    (61, [0.254_149, 0.780_233]),
    (291, [0.726_104, 0.780_233]),
    (0, [0.490_127, 0.742_578]),
    (17, [0.490_127, 0.909_281]),
];

/// A 150×150 aligned face chip.
#[derive(Debug, Clone)]
pub struct FaceChip {
    /// The chip's pixels.
    pub image: RgbImage,
    /// Chip pixel → frame pixel.
    pub to_frame: Affine,
}

/// Where dlib puts mean-shape point `p` in a chip.
fn chip_position(p: [f32; 2]) -> [f32; 2] {
    let scale = CHIP_SIZE as f32 / (1.0 + 2.0 * PADDING);
    [(p[0] + PADDING) * scale, (p[1] + PADDING) * scale]
}

/// Least-squares similarity mapping `from` onto `to` (2-D Umeyama without reflection):
/// returns `(a, b, tx, ty)` for `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`.
fn fit_similarity(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<(f32, f32, f32, f32)> {
    let n = from.len() as f32;
    let mean = |pts: &[[f32; 2]]| {
        let s = pts
            .iter()
            .fold([0.0f32; 2], |acc, p| [acc[0] + p[0], acc[1] + p[1]]);
        [s[0] / n, s[1] / n]
    };
    let (mf, mt) = (mean(from), mean(to));
    let (mut sxx, mut sxy, mut var) = (0.0f32, 0.0f32, 0.0f32);
    for (f, t) in from.iter().zip(to) {
        let (fx, fy) = (f[0] - mf[0], f[1] - mf[1]);
        let (tx, ty) = (t[0] - mt[0], t[1] - mt[1]);
        sxx += fx * tx + fy * ty;
        sxy += fx * ty - fy * tx;
        var += fx * fx + fy * fy;
    }
    if var.is_nan() || var <= 1e-6 || !sxx.is_finite() || !sxy.is_finite() {
        return None;
    }
    let (a, b) = (sxx / var, sxy / var);
    Some((
        a,
        b,
        mt[0] - a * mf[0] + b * mf[1],
        mt[1] - b * mf[0] - a * mf[1],
    ))
}

/// Cuts the aligned chip of the face with `landmarks` out of `image`; `None` when the
/// landmarks are degenerate (all in one point, or not finite).
pub fn align(image: &RgbImage, landmarks: &Landmarks) -> Option<FaceChip> {
    let _span = tracing::trace_span!("align_face").entered();
    let mut from = Vec::with_capacity(CORRESPONDENCES.len());
    let mut to = Vec::with_capacity(CORRESPONDENCES.len());
    for (index, mean_shape) in CORRESPONDENCES {
        let p = landmarks.points.get(index)?;
        from.push([p[0], p[1]]);
        to.push(chip_position(mean_shape));
    }
    // Frame → chip similarity, then inverted to sample the chip from the frame.
    let (a, b, tx, ty) = fit_similarity(&from, &to)?;
    let det = a * a + b * b;
    let (ia, ib) = (a / det, -b / det);
    let to_frame = Affine {
        a: ia,
        b: -ib,
        c: ib,
        d: ia,
        tx: -(ia * tx - ib * ty),
        ty: -(ib * tx + ia * ty),
    };
    let mut buf = vec![0.0f32; (CHIP_SIZE * CHIP_SIZE * 3) as usize];
    warp_into(image, &to_frame, CHIP_SIZE, 1.0, 0.0, &mut buf);
    let chip = RgbImage::from_fn(CHIP_SIZE, CHIP_SIZE, |x, y| {
        let i = ((y * CHIP_SIZE + x) * 3) as usize;
        let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        image::Rgb([q(buf[i]), q(buf[i + 1]), q(buf[i + 2])])
    });
    Some(FaceChip {
        image: chip,
        to_frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_fit_recovers_a_known_transform() {
        let from = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [7.0, 3.0]];
        let (s, th, t) = (1.7f32, 0.4f32, [5.0f32, -3.0f32]);
        let to: Vec<[f32; 2]> = from
            .iter()
            .map(|p| {
                let (a, b) = (s * th.cos(), s * th.sin());
                [a * p[0] - b * p[1] + t[0], b * p[0] + a * p[1] + t[1]]
            })
            .collect();
        let (a, b, tx, ty) = fit_similarity(&from, &to).unwrap();
        assert!((a - s * th.cos()).abs() < 1e-4 && (b - s * th.sin()).abs() < 1e-4);
        assert!((tx - 5.0).abs() < 1e-3 && (ty + 3.0).abs() < 1e-3);
        assert!(fit_similarity(&[[1.0, 1.0]; 4], &to).is_none());
    }

    #[test]
    fn chip_positions_follow_dlib_padding() {
        let p = chip_position([0.0, 1.0]);
        assert!((p[0] - 25.0).abs() < 1e-4 && (p[1] - 125.0).abs() < 1e-4);
    }
}
