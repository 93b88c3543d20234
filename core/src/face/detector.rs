//! Face detection with MediaPipe BlazeFace (short range): letterbox, SSD anchors, weighted NMS.
//!
//! Input contract (see `models/MODELS.md`): `[1,128,128,3]` NHWC f32 in `[-1, 1]`
//! (`v/127.5 − 1`), the image letterboxed to keep its aspect ratio. Outputs: regressors
//! `[1,896,16]` (box centre/size and six keypoints, in input pixels relative to the anchor)
//! and classificators `[1,896,1]` (logits).

use crate::face::error::FaceError;
use crate::face::observation::Detection;
use crate::image::geometry::{Point, Rect};
use crate::image::warp::{letterbox_region_into, Letterbox};
use crate::model::error::ModelError;
use crate::model::onnx::OnnxModel;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::Tensor;

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

impl DetectorConfig {
    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<(), FaceError> {
        unit("detector.min_score", self.min_score)?;
        unit("detector.nms_iou", self.nms_iou)?;
        if self.max_faces == 0 {
            return Err(FaceError::Config(
                "detector.max_faces must be at least 1".into(),
            ));
        }
        if !(1..=4).contains(&self.tiles) {
            return Err(FaceError::Config(format!(
                "detector.tiles = {} is outside [1, 4]",
                self.tiles
            )));
        }
        Ok(())
    }
}

fn unit(name: &str, v: f32) -> Result<(), FaceError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(FaceError::Config(format!("{name} = {v} is outside [0, 1]")))
    }
}

/// Side of the square model input, pixels.
pub const INPUT_SIZE: u32 = 128;
/// Number of SSD anchors of the short-range model.
pub const ANCHOR_COUNT: usize = 896;
const REGRESSOR_WIDTH: usize = 16;

/// One SSD anchor centre in normalised input coordinates (all anchors have size 1).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Anchor {
    x: f32,
    y: f32,
}

/// MediaPipe's SSD anchors for the short-range detector: strides 8, 16, 16, 16 and two
/// anchors per cell per layer; layers with the same stride share one grid, so the 8-stride
/// grid (16×16) has 2 anchors per cell and the 16-stride grid (8×8) has 6: 512 + 384 = 896.
fn anchors() -> Vec<Anchor> {
    const STRIDES: [u32; 4] = [8, 16, 16, 16];
    let mut out = Vec::with_capacity(ANCHOR_COUNT);
    let mut layer = 0;
    while layer < STRIDES.len() {
        let stride = STRIDES[layer];
        let mut per_cell = 0;
        while layer < STRIDES.len() && STRIDES[layer] == stride {
            per_cell += 2;
            layer += 1;
        }
        let cells = INPUT_SIZE / stride;
        for y in 0..cells {
            for x in 0..cells {
                for _ in 0..per_cell {
                    out.push(Anchor {
                        x: (x as f32 + 0.5) / cells as f32,
                        y: (y as f32 + 0.5) / cells as f32,
                    });
                }
            }
        }
    }
    out
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A raw detection in model-input pixels, before mapping back to the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    score: f32,
    /// x0, y0, x1, y1 in input pixels.
    rect: [f32; 4],
    keypoints: [[f32; 2]; 6],
}

impl Candidate {
    fn as_rect(&self) -> Rect {
        Rect::from_corners(self.rect[0], self.rect[1], self.rect[2], self.rect[3])
    }
}

/// The BlazeFace short-range detector.
#[derive(Debug, Clone)]
pub struct FaceDetector {
    model: OnnxModel,
    anchors: Vec<Anchor>,
    config: DetectorConfig,
}

impl FaceDetector {
    /// Loads the detector from ONNX bytes.
    pub fn new(onnx: &[u8], config: DetectorConfig) -> Result<Self, ModelError> {
        let shape = [1, INPUT_SIZE as usize, INPUT_SIZE as usize, 3];
        Ok(Self {
            model: OnnxModel::load("face_detection_short_range.onnx", onnx, &shape)?,
            anchors: anchors(),
            config,
        })
    }

    /// Finds faces in an upright RGB image; boxes and keypoints in its pixel coordinates,
    /// sorted by decreasing score.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, ModelError> {
        let _span = tracing::trace_span!("detect", w = image.width(), h = image.height()).entered();
        let mut candidates = self.detect_region(
            image,
            Rect::new(0.0, 0.0, image.width() as f32, image.height() as f32),
        )?;
        for tile in tiles(image.width(), image.height(), self.config.tiles) {
            candidates.extend(self.detect_region(image, tile)?);
        }
        let merged = weighted_nms(candidates, self.config.nms_iou);
        Ok(drop_nested(merged)
            .into_iter()
            .take(self.config.max_faces)
            .map(|c| Detection {
                score: c.score,
                bbox: c.as_rect(),
                keypoints: c.keypoints.map(|k| Point::new(k[0], k[1])),
            })
            .collect())
    }

    /// Runs the model on `region` of `image`; candidates in image pixels.
    fn detect_region(&self, image: &RgbImage, region: Rect) -> Result<Vec<Candidate>, ModelError> {
        let side = INPUT_SIZE as usize;
        let mut input = vec![0.0f32; side * side * 3];
        let letterbox = letterbox_region_into(
            image,
            region,
            INPUT_SIZE,
            1.0 / 127.5,
            -1.0,
            0.0,
            &mut input,
        );
        let tensor =
            Tensor::from_shape(&[1, side, side, 3], &input).map_err(|e| ModelError::Inference {
                model: self.model.name(),
                reason: format!("{e:#}"),
            })?;
        let outputs = self.model.run(tensor)?;
        let regressors = self.model.output_f32(&outputs, 0)?;
        let logits = self.model.output_f32(&outputs, 1)?;
        let mut candidates = self.decode(&regressors, &logits)?;
        for c in &mut candidates {
            to_source(c, &letterbox, region);
        }
        Ok(candidates)
    }

    fn decode(&self, regressors: &[f32], logits: &[f32]) -> Result<Vec<Candidate>, ModelError> {
        if regressors.len() != ANCHOR_COUNT * REGRESSOR_WIDTH || logits.len() != ANCHOR_COUNT {
            return Err(ModelError::Inference {
                model: self.model.name(),
                reason: format!(
                    "unexpected output sizes {} and {}",
                    regressors.len(),
                    logits.len()
                ),
            });
        }
        let size = INPUT_SIZE as f32;
        let mut out = Vec::new();
        for (i, anchor) in self.anchors.iter().enumerate() {
            let score = sigmoid(logits[i].clamp(-100.0, 100.0));
            if score < self.config.min_score {
                continue;
            }
            let r = &regressors[i * REGRESSOR_WIDTH..(i + 1) * REGRESSOR_WIDTH];
            let cx = r[0] + anchor.x * size;
            let cy = r[1] + anchor.y * size;
            let (w, h) = (r[2], r[3]);
            let mut keypoints = [[0.0f32; 2]; 6];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = [
                    r[4 + 2 * k] + anchor.x * size,
                    r[5 + 2 * k] + anchor.y * size,
                ];
            }
            out.push(Candidate {
                score,
                rect: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                keypoints,
            });
        }
        Ok(out)
    }
}

/// MediaPipe's weighted non-maximum suppression: each cluster of candidates overlapping the
/// best remaining one by more than `iou` is replaced by their score-weighted average
/// (box and keypoints), keeping the best score.
fn weighted_nms(mut candidates: Vec<Candidate>, iou: f32) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = candidates.first().copied() {
        let best_rect = best.as_rect();
        let (cluster, rest): (Vec<Candidate>, Vec<Candidate>) = candidates
            .into_iter()
            .partition(|c| c.as_rect().iou(&best_rect) > iou);
        candidates = rest;
        let total: f32 = cluster.iter().map(|c| c.score).sum();
        let mut merged = Candidate {
            score: best.score,
            rect: [0.0; 4],
            keypoints: [[0.0; 2]; 6],
        };
        for c in &cluster {
            let w = c.score / total;
            for (m, v) in merged.rect.iter_mut().zip(c.rect) {
                *m += v * w;
            }
            for (m, v) in merged.keypoints.iter_mut().zip(c.keypoints) {
                m[0] += v[0] * w;
                m[1] += v[1] * w;
            }
        }
        // The best candidate always overlaps itself, so the cluster is never empty; guard
        // anyway against a zero-area box whose IoU with itself is 0.
        if cluster.is_empty() {
            candidates.retain(|c| c != &best);
            out.push(best);
        } else {
            out.push(merged);
        }
    }
    out
}

/// Maps a candidate from model-input pixels of a letterboxed `region` to image pixels.
fn to_source(c: &mut Candidate, letterbox: &Letterbox, region: Rect) {
    let map = |x: f32, y: f32| {
        let (u, v) = letterbox.to_source(x, y);
        [u + region.x, v + region.y]
    };
    let [x0, y0] = map(c.rect[0], c.rect[1]);
    let [x1, y1] = map(c.rect[2], c.rect[3]);
    c.rect = [x0, y0, x1, y1];
    for k in c.keypoints.iter_mut() {
        *k = map(k[0], k[1]);
    }
}

/// The `n`×`n` grid of overlapping tiles (each 1.5 cells wide, clamped to the image);
/// empty for `n ≤ 1`.
fn tiles(width: u32, height: u32, n: u32) -> Vec<Rect> {
    if n <= 1 {
        return Vec::new();
    }
    let (w, h) = (width as f32, height as f32);
    let (cell_w, cell_h) = (w / n as f32, h / n as f32);
    let mut out = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let cx = (i as f32 + 0.5) * cell_w;
            let cy = (j as f32 + 0.5) * cell_h;
            let r = Rect::new(
                cx - 0.75 * cell_w,
                cy - 0.75 * cell_h,
                1.5 * cell_w,
                1.5 * cell_h,
            );
            out.push(r.clamp_to(width, height));
        }
    }
    out
}

/// Drops detections lying mostly (over half their area) inside a better-scored one: a face
/// cut by a tile border is found again as a fragment that plain IoU does not merge.
fn drop_nested(sorted: Vec<Candidate>) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::new();
    for c in sorted {
        let r = c.as_rect();
        let nested = kept.iter().any(|k| {
            let kr = k.as_rect();
            let ix = (r.right().min(kr.right()) - r.x.max(kr.x)).max(0.0);
            let iy = (r.bottom().min(kr.bottom()) - r.y.max(kr.y)).max(0.0);
            ix * iy > 0.5 * r.area().min(kr.area())
        });
        if !nested {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_layout_matches_mediapipe() {
        let a = anchors();
        assert_eq!(a.len(), ANCHOR_COUNT);
        assert_eq!(
            a[0],
            Anchor {
                x: 0.5 / 16.0,
                y: 0.5 / 16.0
            }
        );
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2].x, 1.5 / 16.0);
        assert_eq!(
            a[512],
            Anchor {
                x: 0.5 / 8.0,
                y: 0.5 / 8.0
            }
        );
        assert_eq!(a[517], a[512]);
        assert_eq!(a[518].x, 1.5 / 8.0);
        assert_eq!(
            a[895],
            Anchor {
                x: 7.5 / 8.0,
                y: 7.5 / 8.0
            }
        );
    }

    fn cand(score: f32, x: f32) -> Candidate {
        Candidate {
            score,
            rect: [x, 0.0, x + 10.0, 10.0],
            keypoints: [[x, 0.0]; 6],
        }
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![cand(0.6, 2.0), cand(0.9, 0.0), cand(0.8, 50.0)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let expected_x = (0.9 * 0.0 + 0.6 * 2.0) / 1.5;
        assert!((out[0].rect[0] - expected_x).abs() < 1e-5);
        assert_eq!(out[1].rect[0], 50.0);
    }
}
