//! Recorded clips framed as a phone's front camera sees a person ready to certify: the face in
//! the guide oval, at a plausible distance — so whole sessions with the production
//! configuration (positioning gate on) can run on them without relaxing the gate.
//!
//! GRID clips are 360×288 landscape frames with the face low and large: the production
//! guidance reads them as "too close" (≈ 34 cm) and "move into the oval". A [`Framing`] is a
//! portrait 3:4 canvas whose size makes the camera model of
//! [`lifecert_core::capture::quality::QualityConfig`] read a face of a chosen inter-ocular distance at a
//! chosen distance (50 cm, the middle of the manuals' 40–60 cm); each clip gets one
//! [`Placement`] (a scale, only when its face size is far from the target, and a shift that
//! puts its face centre on the guide's centre), measured once on one of its frames. The
//! canvas around the shifted clip repeats the clip's edge pixels (background above and to the
//! sides, clothes below). Every frame of a clip gets the same placement, so the face moves as
//! it moved in the recording, and clips of one person line up with each other.
//!
//! The frames are analysed once ([`analyse_framed`]) and kept at the clip's size; the canvas is
//! composed when a session asks for the frame ([`FramedFootage::frame`]), so memory holds the
//! recordings, not the canvases.

use super::grid::{self, AnalysedClip, FrameRef, GridClip};
use super::media;
use image::RgbImage;
use lifecert_core::capture::quality::{measure, MotionTracker, QualityConfig};
use lifecert_core::face::analyzer::FrameAnalysis;
use lifecert_core::{Analyzer, FaceObservation};
use std::collections::HashMap;
use std::time::Duration;

/// The camera canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framing {
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Inter-ocular distance the faces are brought to (pixels).
    pub target_iod_px: f32,
}

/// How one clip is put on the canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Scale applied to the clip's frames (1 when its face is near the target size).
    pub scale: f32,
    /// Column of the canvas where the scaled clip's column 0 goes.
    pub dx: i64,
    /// Row of the canvas where the scaled clip's row 0 goes.
    pub dy: i64,
}

/// A clip's faces are rescaled only when their size differs from the target by more than this
/// fraction (small differences are left alone: the mouth measurements were calibrated on the
/// clips as recorded).
const RESCALE_BEYOND: f32 = 0.08;

impl Framing {
    /// A portrait 3:4 canvas on which a face `iod_px` apart at the eyes reads `distance_cm`
    /// from the camera under `q`'s camera model (focal length from the field of view across
    /// the long side, the adult inter-pupillary distance).
    pub fn portrait_for(iod_px: f32, distance_cm: f32, q: &QualityConfig) -> Self {
        let half_fov = (q.camera_fov_long_side_deg / 2.0).to_radians();
        // distance = f · IPD / IOD with f = (long / 2) / tan(fov / 2).
        let long = 2.0 * half_fov.tan() * iod_px * distance_cm / q.interpupillary_distance_cm;
        let height = (long / 4.0).round() as u32 * 4;
        Self {
            width: height * 3 / 4,
            height,
            target_iod_px: iod_px,
        }
    }

    /// The placement of a clip, measured on one analysed frame of it (`None` without a face):
    /// its scale, and the shift that puts the face centre (the mean of the face-outline
    /// points) on the guide oval's centre.
    pub fn place(
        &self,
        image: &RgbImage,
        faces: &[FaceObservation],
        q: &QualityConfig,
    ) -> Option<Placement> {
        let m = measure(image, faces, &mut MotionTracker::new(), Duration::ZERO, q);
        let p = m.primary?;
        let ratio = self.target_iod_px / p.size.interocular_px;
        let scale = if (ratio - 1.0).abs() > RESCALE_BEYOND {
            ratio
        } else {
            1.0
        };
        let (centre, _, _) = q.guide.in_pixels(self.width, self.height);
        let c = p.centring.face_center;
        Some(Placement {
            scale,
            dx: (centre.x - c.x * scale).round() as i64,
            dy: (centre.y - c.y * scale).round() as i64,
        })
    }

    /// `src` (already scaled) shifted onto the canvas, its edge pixels repeated outwards.
    pub fn compose(&self, src: &RgbImage, p: &Placement) -> RgbImage {
        let (sw, sh) = (src.width() as i64, src.height() as i64);
        let (w, h) = (self.width as usize, self.height as usize);
        let raw = src.as_raw();
        let mut out = vec![0u8; w * h * 3];
        // Source column of each canvas column.
        let cols: Vec<usize> = (0..w as i64)
            .map(|x| (x - p.dx).clamp(0, sw - 1) as usize)
            .collect();
        for y in 0..h {
            let sy = (y as i64 - p.dy).clamp(0, sh - 1) as usize;
            let row = &raw[sy * sw as usize * 3..(sy + 1) * sw as usize * 3];
            let dst = &mut out[y * w * 3..(y + 1) * w * 3];
            for (x, &sx) in cols.iter().enumerate() {
                dst[x * 3..x * 3 + 3].copy_from_slice(&row[sx * 3..sx * 3 + 3]);
            }
        }
        RgbImage::from_raw(self.width, self.height, out).expect("canvas size")
    }
}

/// A clip decoded, framed and analysed: the faces are those of the framed frames (canvas
/// coordinates), the frames are kept at the clip's (scaled) size.
#[derive(Debug, Clone)]
pub struct FramedClip {
    /// The analysis (faces in canvas coordinates; `first` is the first framed frame).
    pub analysed: AnalysedClip,
    /// The clip's frames, scaled by the placement.
    pub frames: Vec<RgbImage>,
    /// Where the clip sits on the canvas.
    pub placement: Placement,
}

/// Decodes `clip`, places it on `framing`'s canvas (measured on its middle frame) and analyses
/// every framed frame once. `None` when the clip has no audio or no face to place (said
/// loudly).
pub fn analyse_framed(
    clip: &GridClip,
    analyzer: &Analyzer,
    framing: &Framing,
    q: &QualityConfig,
) -> Option<FramedClip> {
    if !media::has_audio(&clip.path) {
        eprintln!("{}: no audio track, not used", clip.path.display());
        return None;
    }
    let audio = media::audio_16k(&clip.path);
    let mut frames = Vec::new();
    let (_, info) = media::for_each_frame(&clip.path, |_, image| frames.push(image));
    let probe = &frames[frames.len() / 2];
    let faces = analyzer.analyze_image(probe).unwrap();
    let Some(placement) = framing.place(probe, &faces, q) else {
        eprintln!(
            "{}: no face to place on the canvas, not used",
            clip.path.display()
        );
        return None;
    };
    if placement.scale != 1.0 {
        let (w, h) = frames[0].dimensions();
        let (nw, nh) = (
            (w as f32 * placement.scale).round() as u32,
            (h as f32 * placement.scale).round() as u32,
        );
        for f in &mut frames {
            *f = image::imageops::resize(f, nw, nh, image::imageops::FilterType::Triangle);
        }
    }
    let mut faces = Vec::with_capacity(frames.len());
    let mut first = None;
    for f in &frames {
        let canvas = framing.compose(f, &placement);
        faces.push(analyzer.analyze_image(&canvas).unwrap());
        first.get_or_insert(canvas);
    }
    Some(FramedClip {
        analysed: AnalysedClip {
            clip: clip.clone(),
            audio,
            faces,
            fps: info.fps,
            first: first?,
        },
        frames,
        placement,
    })
}

/// Every clip of `clips` framed and analysed ([`analyse_framed`]) on two workers, in order;
/// clips that cannot be used are left out.
pub fn analyse_all_framed(
    clips: &[GridClip],
    analyzer: &Analyzer,
    framing: &Framing,
    q: &QualityConfig,
) -> Vec<FramedClip> {
    super::par_map(clips, |c| analyse_framed(c, analyzer, framing, q))
        .into_iter()
        .flatten()
        .collect()
}

/// Framed clips, found by name: what the simulated camera delivers.
#[derive(Debug)]
pub struct FramedFootage {
    /// The canvas.
    pub framing: Framing,
    /// The clips.
    pub clips: Vec<FramedClip>,
    by_name: HashMap<String, usize>,
}

impl FramedFootage {
    /// Footage of `clips` on `framing`'s canvas.
    pub fn new(framing: Framing, clips: Vec<FramedClip>) -> Self {
        let by_name = clips
            .iter()
            .enumerate()
            .map(|(i, c)| (c.analysed.clip.name.clone(), i))
            .collect();
        Self {
            framing,
            clips,
            by_name,
        }
    }

    /// The clip named `name`.
    pub fn clip(&self, name: &str) -> &FramedClip {
        &self.clips[self.by_name[name]]
    }

    /// The analysed clips (for [`grid`]'s splicing).
    pub fn analysed(&self) -> Vec<&AnalysedClip> {
        self.clips.iter().map(|c| &c.analysed).collect()
    }

    /// The frame `r` as the camera delivers it: the canvas and its (cached) analysis.
    pub fn frame(&self, r: &FrameRef) -> FrameAnalysis {
        let c = self.clip(&r.clip);
        FrameAnalysis {
            image: self.framing.compose(&c.frames[r.index], &c.placement),
            faces: c.analysed.faces[r.index].clone(),
        }
    }

    /// The resting face of `clip` before it speaks ([`grid::rest_frames`]).
    pub fn rest(&self, clip: &str) -> Vec<FrameRef> {
        let c = &self.clip(clip).analysed;
        grid::rest_frames(c, &grid::SpliceConfig::default())
            .map(|index| FrameRef {
                clip: clip.to_owned(),
                index,
            })
            .collect()
    }
}
