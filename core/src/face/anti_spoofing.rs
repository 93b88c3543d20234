//! Optional passive presentation-attack detection (PAD) with MiniFASNet (Silent-Face
//! anti-spoofing, Apache-2.0): a single-frame "is this a live face or a print / screen?"
//! score that can be added to the liveness evidence
//! ([`crate::liveness::sequencer::LivenessSession::set_pad_score`]).
//!
//! The two ONNX models are **not** shipped with lifecert (no package registry carries them):
//! the integrator passes their directory at run time ([`PassiveAntiSpoof::from_dir`]), e.g.
//! `../shared/models/minifasnet/` in tests.
//!
//! # Contract (as upstream)
//! * `2.7_80x80_MiniFASNetV2.onnx` sees the detector box scaled 2.7× about its centre,
//!   `4_0_0_80x80_MiniFASNetV1SE.onnx` the box scaled 4.0×; each crop is shrunk to fit the
//!   image if needed (the scale becomes `min(2.7, (W−1)/w, (H−1)/h)`), shifted inside the image,
//!   and resized bilinearly to 80×80.
//! * Input `[1, 3, 80, 80]`, **BGR**, raw 0..255 (no normalisation); output 3 logits. Softmax;
//!   class 1 is "real". The two models' probability vectors are averaged; the face is judged
//!   real when class 1 has the largest average probability.
//!
//! The upstream crops were made around the boxes of another detector (an SSD); BlazeFace boxes
//! are similar in size. This is a weak, single-frame signal (the upstream samples are its only
//! check here): it is recorded as evidence, never a decision on its own.

use crate::face::error::FaceError;
use crate::image::geometry::Rect;
use crate::model::error::ModelError;
use crate::model::onnx::OnnxModel;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tract_onnx::prelude::Tensor;

/// File name of the model that sees the box scaled 2.7×.
pub const MINIFASNET_V2_FILE: &str = "2.7_80x80_MiniFASNetV2.onnx";
/// File name of the model that sees the box scaled 4.0×.
pub const MINIFASNET_V1SE_FILE: &str = "4_0_0_80x80_MiniFASNetV1SE.onnx";
/// Side of the models' input.
pub const INPUT_SIDE: usize = 80;

/// The PAD score of one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PadScore {
    /// Average probability of "real" over the two models, 0..=1.
    pub real: f32,
    /// Probability of "real" from each model (2.7× crop, 4.0× crop).
    pub per_model: [f32; 2],
    /// Whether "real" is the most probable class of the averaged probabilities.
    pub is_real: bool,
}

/// The two MiniFASNet models, loaded once (see the module documentation). `Send + Sync`.
#[derive(Debug, Clone)]
pub struct PassiveAntiSpoof {
    models: [(OnnxModel, f32); 2],
}

impl PassiveAntiSpoof {
    /// Loads both models from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, FaceError> {
        let read = |name: &'static str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| ModelError::Io {
                path: path.display().to_string(),
                source,
            })
        };
        Self::from_bytes(&read(MINIFASNET_V2_FILE)?, &read(MINIFASNET_V1SE_FILE)?)
    }

    /// Loads both models from their bytes (2.7× model first).
    pub fn from_bytes(v2: &[u8], v1se: &[u8]) -> Result<Self, FaceError> {
        let _span = tracing::info_span!("load_pad_models").entered();
        let shape = [1, 3, INPUT_SIDE, INPUT_SIDE];
        Ok(Self {
            models: [
                (OnnxModel::load(MINIFASNET_V2_FILE, v2, &shape)?, 2.7),
                (OnnxModel::load(MINIFASNET_V1SE_FILE, v1se, &shape)?, 4.0),
            ],
        })
    }

    /// Scores the face whose detector box is `face_box` in `image` (the upright image it was
    /// found in).
    pub fn score(&self, image: &RgbImage, face_box: &Rect) -> Result<PadScore, FaceError> {
        let _span = tracing::debug_span!("pad_score").entered();
        let mut avg = [0f32; 3];
        let mut per_model = [0f32; 2];
        for (k, (model, scale)) in self.models.iter().enumerate() {
            let input = crop_bgr(image, face_box, *scale)
                .ok_or_else(|| FaceError::Unusable("face box outside the image".into()))?;
            let tensor =
                Tensor::from_shape(&[1, 3, INPUT_SIDE, INPUT_SIDE], &input).map_err(|e| {
                    ModelError::Inference {
                        model: model.name(),
                        reason: format!("{e:#}"),
                    }
                })?;
            let outputs = model.run(tensor)?;
            let logits = model.output_f32(&outputs, 0)?;
            let p = softmax3(&logits).ok_or_else(|| ModelError::Inference {
                model: model.name(),
                reason: format!("expected 3 finite logits, got {logits:?}"),
            })?;
            per_model[k] = p[1];
            for (a, v) in avg.iter_mut().zip(p) {
                *a += v / 2.0;
            }
        }
        let is_real = avg[1] >= avg[0] && avg[1] >= avg[2];
        Ok(PadScore {
            real: avg[1],
            per_model,
            is_real,
        })
    }
}

fn softmax3(logits: &[f32]) -> Option<[f32; 3]> {
    if logits.len() != 3 || logits.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = logits.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = logits.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    Some([e[0] / s, e[1] / s, e[2] / s])
}

/// The upstream crop box `(x0, y0, x1, y1)` (inclusive pixel bounds) of `b` scaled by `scale`.
fn crop_box(w: u32, h: u32, b: &Rect, scale: f32) -> Option<(f32, f32, f32, f32)> {
    let (sw, sh) = (w as f32, h as f32);
    if !(b.width > 0.0 && b.height > 0.0 && sw > 1.0 && sh > 1.0) {
        return None;
    }
    let scale = scale.min((sh - 1.0) / b.height).min((sw - 1.0) / b.width);
    let (nw, nh) = (b.width * scale, b.height * scale);
    let (cx, cy) = (b.x + b.width / 2.0, b.y + b.height / 2.0);
    let (mut x0, mut y0, mut x1, mut y1) =
        (cx - nw / 2.0, cy - nh / 2.0, cx + nw / 2.0, cy + nh / 2.0);
    if x0 < 0.0 {
        x1 -= x0;
        x0 = 0.0;
    }
    if y0 < 0.0 {
        y1 -= y0;
        y0 = 0.0;
    }
    if x1 > sw - 1.0 {
        x0 -= x1 - sw + 1.0;
        x1 = sw - 1.0;
    }
    if y1 > sh - 1.0 {
        y0 -= y1 - sh + 1.0;
        y1 = sh - 1.0;
    }
    let r = (
        x0.floor().max(0.0),
        y0.floor().max(0.0),
        x1.floor(),
        y1.floor(),
    );
    (r.2 > r.0 && r.3 > r.1 && [r.0, r.1, r.2, r.3].iter().all(|v| v.is_finite())).then_some(r)
}

/// The crop resized bilinearly (pixel centres aligned, as OpenCV's `INTER_LINEAR`) to 80×80,
/// as planar BGR 0..255.
fn crop_bgr(image: &RgbImage, b: &Rect, scale: f32) -> Option<Vec<f32>> {
    let (x0, y0, x1, y1) = crop_box(image.width(), image.height(), b, scale)?;
    let (cw, ch) = (x1 - x0 + 1.0, y1 - y0 + 1.0);
    let n = INPUT_SIDE;
    let mut out = vec![0f32; 3 * n * n];
    let (fx, fy) = (cw / n as f32, ch / n as f32);
    let max_x = image.width() as f32 - 1.0;
    let max_y = image.height() as f32 - 1.0;
    for v in 0..n {
        let sy = (y0 + (v as f32 + 0.5) * fy - 0.5).clamp(y0, y1.min(max_y));
        let (ya, ty) = (sy.floor(), sy - sy.floor());
        let yb = (ya + 1.0).min(max_y);
        for u in 0..n {
            let sx = (x0 + (u as f32 + 0.5) * fx - 0.5).clamp(x0, x1.min(max_x));
            let (xa, tx) = (sx.floor(), sx - sx.floor());
            let xb = (xa + 1.0).min(max_x);
            let px = |x: f32, y: f32| image.get_pixel(x as u32, y as u32).0;
            let (a, bb, c, d) = (px(xa, ya), px(xb, ya), px(xa, yb), px(xb, yb));
            for ch_rgb in 0..3 {
                let top = f32::from(a[ch_rgb]) * (1.0 - tx) + f32::from(bb[ch_rgb]) * tx;
                let bottom = f32::from(c[ch_rgb]) * (1.0 - tx) + f32::from(d[ch_rgb]) * tx;
                // BGR planes: B = plane 0.
                out[(2 - ch_rgb) * n * n + v * n + u] = top * (1.0 - ty) + bottom * ty;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_box_follows_upstream() {
        // A 100 px box in the middle of 640×480: 2.7× = 270 px about the centre.
        let b = Rect::new(270.0, 190.0, 100.0, 100.0);
        assert_eq!(
            crop_box(640, 480, &b, 2.7),
            Some((185.0, 105.0, 455.0, 375.0))
        );
        // 4.0× of a 150 px box does not fit 480 px: scale (479/150), shifted inside.
        let b = Rect::new(10.0, 10.0, 150.0, 150.0);
        let (x0, y0, x1, y1) = crop_box(640, 480, &b, 4.0).unwrap();
        assert_eq!((x0, y0), (0.0, 0.0));
        assert!(
            (y1 - 479.0).abs() < 1.0 && (x1 - 479.0).abs() < 1.0,
            "{x1} {y1}"
        );
        assert_eq!(
            crop_box(640, 480, &Rect::new(0.0, 0.0, 0.0, 10.0), 2.7),
            None
        );
    }

    #[test]
    fn crop_is_bgr_and_softmax_is_a_distribution() {
        let img = RgbImage::from_pixel(200, 200, image::Rgb([10, 20, 30]));
        let c = crop_bgr(&img, &Rect::new(80.0, 80.0, 40.0, 40.0), 2.7).unwrap();
        let n = INPUT_SIDE * INPUT_SIDE;
        assert_eq!((c[0], c[n], c[2 * n]), (30.0, 20.0, 10.0));
        let p = softmax3(&[1.0, 3.0, -2.0]).unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[1] > p[0] && p[0] > p[2]);
        assert!(softmax3(&[1.0, f32::NAN, 0.0]).is_none());
        assert!(softmax3(&[1.0]).is_none());
    }
}
