//! Capture guidance on real photos, transformed so that the right instruction is known.
//!
//! Every case runs the whole chain — `Analyzer::analyze_image` → `quality::measure` →
//! `GuidanceEngine::update` — on a real image and checks two things: the single still's own
//! verdict (`frame_instruction` of the first update) and the instruction the engine shows after
//! the same frame has been fed for longer than `min_dwell + ok_dwell` (the stable
//! `instruction`). Each test prints a table (expected, frame and stable instruction, and the
//! measured numbers) to stderr; run with `--nocapture` to see it.
//!
//! # Base photos
//! Seven frontal single-face photos from `faces_identity/` (listed in [`BASES`]; every one gives
//! `hold_still` today) plus the bundled astronaut (so something runs without the evaluation
//! data). Each is *framed* the way a selfie camera held at 50 cm sees a face: a 480×640
//! portrait frame, eye line level, face-oval centre on the guide centre, inter-ocular distance
//! 55 px (the distance model then reads ≈ 50 cm). Conditions are made from these frames:
//!
//! | condition | transform | expected |
//! |---|---|---|
//! | dark | every pixel × 0.25 | `too_dark` |
//! | white backdrop | background (outside the feathered face oval ×1.1) pushed to ≈ 240, face pixels kept | `hold_still` (a well-exposed face before a white wall is fine by design: `backlight_max_face_luma`) |
//! | backlight | same bright background, face × 0.4 (the exposure a phone picks for a bright window) | `backlight` |
//! | side light | luminance ramp from 100 % to 15 % across the middle half of the face width, both directions | `side_light` |
//! | blur | Gaussian σ = 4 px per 200 px of face height | `hold_steady` |
//! | far | re-framed at 75 cm (face shrunk into the frame, padded with the photo's border colour) | `come_closer` |
//! | close | re-framed at 28 cm (tight crop around the face) | `move_back` |
//! | off centre | face moved 150 px right / 170 px up | `center_face` |
//! | tilt | rotated ±20° about the face centre | `straighten_head` |
//! | second person | the next base photo's face, same size, beside the first | `multiple_faces` |
//! | mask | light-blue surgical-mask colour over the face below the middle of the nose | `uncover_mouth` |
//! | band edges | re-framed at 37, 43, 57 and 63 cm (the band is 40–60 cm; measured within 1.5 cm of the placement) | `move_back`, `hold_still`, `hold_still`, `come_closer` |
//! | tilt at the limit | rotated ±8° and ±12° about the face centre (the limit is 10°; measured roll within 1.1°) | `hold_still` at 8°, `straighten_head` at 12° |
//! | sunglasses | dark lenses (12 % transmission, 0.85 × 0.6 IOD) drawn over the landmark eye centres, with a bridge and frame | `uncover_eyes` |
//!
//! The astronaut looks slightly down: pitch ≈ −9° against the 10° limit, and landmark noise on
//! the transformed copies moves it to −10…−12°, which rightly says `raise_chin` first. For her
//! alone the pitch limit is widened to 15° so that the other conditions can be checked; every
//! other photo uses the default configuration.
//!
//! The `hard_cases/` photos are re-framed the same way (keeping their own in-plane tilt, and
//! with the target inter-ocular distance × cos yaw so a turned head is not read as too close),
//! except where the raw framing is the point (low resolution, face cut by the border).
//!
//! # Cases we cannot yet get right, and why
//! Numbers as measured today (see the printed tables). None of these outcomes is asserted as
//! if it were right; where a weaker property holds it is asserted instead (as said below).
//! - **Ghost second face at 80–90 cm** (`george_clooney/deepface_img41.jpg` framed at 80, 85 and
//!   90 cm): the detector returns a second box offset to the right of the face (box 74–82 px
//!   beside an 88–92 px face, score 0.52–0.59, IoU with the real face 0.14–0.24, under the 0.3
//!   NMS threshold; landmark presence 0.985), so the engine says `multiple_faces` instead of
//!   `come_closer`. At 75 and 95 cm there is one face. Far cases are therefore asserted at 75 cm.
//! - **Far beyond the band the face is not found at all**: framed at 130 cm no base photo has a
//!   detection (at 100 cm 6 of 8 still do, at 110 cm 3 of 8), so the engine says `no_face`
//!   (and, after 5 s, the "arm's length" hint) instead of `come_closer`. The single-tile
//!   detector sees a 128×128 shrink of the frame, where a face at 100–130 cm is ≈ 9–12 px wide.
//! - **White/pink mask in a bright selfie** (`occlusion/insightface_mask2.jpg`): mouth region
//!   luma ratio 1.54 against the 1.55 threshold and redness −10.9 against −20, so the mask is
//!   not seen; lowering either threshold would flag uncovered mouths of the calibration set
//!   (documented ranges: luma ratio up to 1.54, redness down to −7). The other two mask photos
//!   read 1.93 and 1.99 and are seen. All three heads are also turned (yaw −28°, −25°, +10.8°;
//!   roll 17–23°), so the engine rightly says `face_camera` first; the mask check is asserted
//!   with the pose set to frontal ("pose→0" rows).
//! - **Wry neck photos never get `straighten_head`**: the labelled tilt is measured (roll −54°
//!   and +40°), but the yaw and pitch read with it (`left_wryneck` pitch −20.5°,
//!   `right_wryneck` yaw −15.5°) rank first in the priority order, so they get `raise_chin` /
//!   `face_camera`; only "some pose instruction" is asserted for them.
//! - **Yale side light below the threshold**: `subject06.leftlight` (imbalance 0.31),
//!   `subject08.leftlight` (0.35, not above 0.35) and `subject02.rightlight` (−0.26, which then
//!   reads as `backlight`: face 77, background 167) give no `side_light`. Lowering `max_side_imbalance`
//!   (0.35) to 0.25 would catch them but also flag ambient-lit portraits, which read up to 0.3
//!   (0.39 for a few) in the calibration set and 0.29 here (`sundar_pichai/deepface_img24.jpg`).
//!   Two more (`subject05.leftlight` pitch +12.2°, `subject08.rightlight` pitch −11.7°) ask for
//!   the chin first, as the priority order says. The sign of the imbalance is right for all 20
//!   side-lit photos (|imbalance| ≥ 0.26) and every `centerlight` photo reads |imbalance| ≤ 0.14.
//! - **Low resolution is not a guidance criterion**: `low_resolution/fr_obama-240p.jpg`, whose
//!   face has an inter-ocular distance of 23 px, upscaled 2.4× into a 480×640 frame still reads
//!   sharpness 0.38 (> 0.2) and gets `hold_still`. Real frames are at least 480×640, where a
//!   face inside the distance band has ≥ 46 px between the eyes, so this only arises from
//!   digital zoom. The raw 240p frame is asserted (`come_closer`).
//! - **Backlit scene** (`lighting/zerodce_DICM_10_backlit.jpg`): the face is small (box ≈ 42 px
//!   in a 640×480 frame, ≈ 8 px at the detector's input) and the default detector finds no face,
//!   so the engine says `no_face` (asserted, with 0 faces). With `detector.tiles = 3` the face is
//!   found (score 0.58, face luma 31, background 170, distance ≈ 2 m): the engine would say
//!   `come_closer` first, and `backlight` would follow once near (difference 139 > 70, face
//!   31 < 80).
//! - **Closed eyes are not a guidance condition**: FaceMesh reads eye openness 0.19–0.20 on
//!   `eyes/insightface_close_eyes.jpeg` (documented "< 0.15 closed"), against 0.34–0.43 open;
//!   the eye-luma check rightly does not call closed lids "covered".

mod common;

use common::{analyzer, astronaut, eval_data, images_in};
use image::{Rgb, RgbImage};
use lifecert_core::capture::guidance::{
    GuidanceConfig, GuidanceEngine, GuidanceUpdate, Instruction,
};
use lifecert_core::capture::quality::{measure, MotionTracker, QualityMeasurements};
use lifecert_core::image::decode::load_image;
use lifecert_core::{Config, FaceObservation, HeadPose, Point};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

// The 36 FaceMesh face-oval landmarks (the outline `quality` uses).
use lifecert_core::face::landmarks::contours::FACE_OVAL;
/// FaceMesh: forehead top, chin, middle of the nose ridge.
const FOREHEAD: usize = 10;
const CHIN: usize = 152;
const MID_NOSE: usize = 195;

/// The framed selfie: portrait 480×640.
const FRAME_W: u32 = 480;
const FRAME_H: u32 = 640;
/// Inter-ocular distance of a framed face: 55 px reads ≈ 50 cm in a 480×640 frame.
const GOOD_IOD: f32 = 55.0;
/// The distance the distance model gives for [`GOOD_IOD`] (pinhole, 72° across 640 px).
const GOOD_CM: f32 = 50.4;

/// Good frontal single-face photos under `faces_identity/` (each gives `hold_still` framed).
const BASES: [&str; 7] = [
    "alex_lacamoire/fr_alex_lacamoire1.jpg",
    "barack_obama/fr_obama.jpg",
    "george_clooney/deepface_img41.jpg",
    "jennifer_aniston/deepface_img53.jpg",
    "katy_perry/deepface_img42.jpg",
    "leonardo_dicaprio/deepface_img35.jpg",
    "scarlett_johansson/deepface_img51.jpg",
];

// ---------------------------------------------------------------------------------------
// Geometry of a face and re-framing
// ---------------------------------------------------------------------------------------

/// What the framing needs to know about a face.
#[derive(Debug, Clone, Copy)]
struct FaceGeom {
    /// Mean of the face-oval points (what `quality` centres in the guide).
    center: Point,
    /// Eye centre to eye centre, pixels.
    iod: f32,
    /// Angle of the eye line (subject's right eye → left eye), radians, clockwise.
    angle: f32,
    /// Forehead top to chin, pixels.
    height: f32,
    /// Yaw from the analyzer, degrees.
    yaw: f32,
}

fn geom(obs: &FaceObservation) -> FaceGeom {
    let l = &obs.landmarks;
    let mid = |a: usize, b: usize| {
        let (p, q) = (l.point(a), l.point(b));
        Point::new(0.5 * (p.x + q.x), 0.5 * (p.y + q.y))
    };
    let right = mid(33, 133);
    let left = mid(362, 263);
    FaceGeom {
        center: centroid(&oval(obs)),
        iod: right.distance(left),
        angle: (left.y - right.y).atan2(left.x - right.x),
        height: l.point(FOREHEAD).distance(l.point(CHIN)),
        yaw: obs.pose.yaw,
    }
}

fn oval(obs: &FaceObservation) -> Vec<Point> {
    FACE_OVAL.iter().map(|&i| obs.landmarks.point(i)).collect()
}

fn centroid(points: &[Point]) -> Point {
    let n = points.len() as f32;
    points.iter().fold(Point::new(0.0, 0.0), |a, p| {
        Point::new(a.x + p.x / n, a.y + p.y / n)
    })
}

/// Where a face goes in an output frame.
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// Output position of the face-oval centre, pixels.
    center: (f32, f32),
    /// Output inter-ocular distance, pixels.
    iod: f32,
    /// Output eye-line angle, degrees (clockwise); `None` keeps the photo's own tilt.
    roll_deg: Option<f32>,
}

impl Placement {
    /// A level face in the guide centre at ≈ 50 cm.
    fn good() -> Self {
        Self {
            center: (0.5 * FRAME_W as f32, 0.45 * FRAME_H as f32),
            iod: GOOD_IOD,
            roll_deg: Some(0.0),
        }
    }

    /// The same face at `cm` from the camera (distance is inverse to the face size).
    fn at_cm(cm: f32) -> Self {
        Self {
            iod: GOOD_IOD * GOOD_CM / cm,
            ..Self::good()
        }
    }
}

/// Mean colour of the image border (the padding colour when a photo is shrunk into a frame).
fn border_mean(img: &RgbImage) -> [f32; 3] {
    let (w, h) = img.dimensions();
    let mut acc = [0.0f64; 3];
    let mut n = 0.0;
    for (x, y, p) in img.enumerate_pixels() {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            for (a, c) in acc.iter_mut().zip(p.0) {
                *a += f64::from(c);
            }
            n += 1.0;
        }
    }
    acc.map(|a| (a / n) as f32)
}

/// Bilinear sample at pixel-centre coordinates; `fill` outside the image.
fn sample(img: &RgbImage, x: f32, y: f32, fill: [f32; 3]) -> [f32; 3] {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let px = |xx: i64, yy: i64| -> [f32; 3] {
        if xx < 0 || yy < 0 || xx >= w || yy >= h {
            fill
        } else {
            img.get_pixel(xx as u32, yy as u32).0.map(f32::from)
        }
    };
    let (a, b, c, d) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    [0, 1, 2].map(|k| {
        let top = a[k] + tx * (b[k] - a[k]);
        let bottom = c[k] + tx * (d[k] - c[k]);
        top + ty * (bottom - top)
    })
}

/// Re-frames `src` into a 480×640 frame: the face of geometry `g` is scaled, rotated about its
/// centre and moved as `p` says. Shrinking averages up to 4×4 samples per pixel (no aliasing);
/// outside the photo the frame is filled with the photo's border colour.
fn place(src: &RgbImage, g: &FaceGeom, p: &Placement) -> RgbImage {
    let fill = border_mean(src);
    let k = g.iod / p.iod;
    let phi = p.roll_deg.map_or(0.0, |r| g.angle - r.to_radians());
    let (s, c) = phi.sin_cos();
    let n = k.ceil().clamp(1.0, 4.0) as u32;
    let step = 1.0 / n as f32;
    RgbImage::from_fn(FRAME_W, FRAME_H, |x, y| {
        let mut acc = [0.0f32; 3];
        for sy in 0..n {
            for sx in 0..n {
                let dx = (x as f32 + (sx as f32 + 0.5) * step - p.center.0) * k;
                let dy = (y as f32 + (sy as f32 + 0.5) * step - p.center.1) * k;
                let v = sample(
                    src,
                    g.center.x + c * dx - s * dy,
                    g.center.y + s * dx + c * dy,
                    fill,
                );
                for (a, v) in acc.iter_mut().zip(v) {
                    *a += v;
                }
            }
        }
        let nn = (n * n) as f32;
        Rgb(acc.map(|a| (a / nn).round().clamp(0.0, 255.0) as u8))
    })
}

/// Re-frames a hard-case photo: centred, at ≈ 50 cm once the turn of the head is allowed for,
/// keeping the photo's own in-plane tilt.
fn reframe(src: &RgbImage, g: &FaceGeom) -> RgbImage {
    let yaw = g.yaw.to_radians();
    let foreshortening = if yaw.abs() < 60f32.to_radians() {
        yaw.cos()
    } else {
        1.0
    };
    let p = Placement {
        iod: GOOD_IOD * foreshortening,
        roll_deg: None,
        ..Placement::good()
    };
    place(src, g, &p)
}

// ---------------------------------------------------------------------------------------
// Photometric transforms
// ---------------------------------------------------------------------------------------

fn map_pixels(img: &RgbImage, f: impl Fn(u32, u32, [f32; 3]) -> [f32; 3]) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let v = f(x, y, img.get_pixel(x, y).0.map(f32::from));
        Rgb(v.map(|c| c.round().clamp(0.0, 255.0) as u8))
    })
}

fn luma(v: [f32; 3]) -> f32 {
    0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]
}

/// Distance from `p` to the segment `ab`.
fn segment_distance(p: Point, a: Point, b: Point) -> f32 {
    let (abx, aby) = (b.x - a.x, b.y - a.y);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * abx + (p.y - a.y) * aby) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    Point::new(a.x + t * abx, a.y + t * aby).distance(p)
}

fn inside_polygon(p: Point, poly: &[Point]) -> bool {
    let mut inside = false;
    for k in 0..poly.len() {
        let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x) {
            inside = !inside;
        }
    }
    inside
}

/// Feathered face mask (row-major, `w`×`h`): 1 inside the face oval enlarged `scale` times about
/// its centre, 0 outside, a linear ramp `feather` px wide across the outline.
fn face_mask(obs: &FaceObservation, w: u32, h: u32, scale: f32, feather: f32) -> Vec<f32> {
    let pts = oval(obs);
    let c = centroid(&pts);
    let poly: Vec<Point> = pts
        .iter()
        .map(|p| Point::new(c.x + scale * (p.x - c.x), c.y + scale * (p.y - c.y)))
        .collect();
    let x0 = poly.iter().map(|p| p.x).fold(f32::MAX, f32::min) - feather;
    let x1 = poly.iter().map(|p| p.x).fold(f32::MIN, f32::max) + feather;
    let y0 = poly.iter().map(|p| p.y).fold(f32::MAX, f32::min) - feather;
    let y1 = poly.iter().map(|p| p.y).fold(f32::MIN, f32::max) + feather;
    let mut out = vec![0.0; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            let p = Point::new(x as f32 + 0.5, y as f32 + 0.5);
            if p.x < x0 || p.x > x1 || p.y < y0 || p.y > y1 {
                continue;
            }
            let d = (0..poly.len())
                .map(|k| segment_distance(p, poly[k], poly[(k + 1) % poly.len()]))
                .fold(f32::MAX, f32::min);
            let signed = if inside_polygon(p, &poly) { -d } else { d };
            out[(y * w + x) as usize] = (0.5 - signed / feather).clamp(0.0, 1.0);
        }
    }
    out
}

/// Under-exposure: every pixel × `gain`.
fn darken(img: &RgbImage, gain: f32) -> RgbImage {
    map_pixels(img, |_, _, v| v.map(|c| c * gain))
}

/// Background (outside the feathered face oval ×1.1) pushed towards white, keeping 12 % of its
/// distance from white (so its structure stays); face pixels × `face_gain`.
fn bright_background(b: &Base, face_gain: f32) -> RgbImage {
    let (w, h) = b.good.dimensions();
    let mask = face_mask(b.face(), w, h, 1.1, 12.0);
    map_pixels(&b.good, |x, y, v| {
        let m = mask[(y * w + x) as usize];
        v.map(|c| m * c * face_gain + (1.0 - m) * (255.0 - 0.12 * (255.0 - c)))
    })
}

/// Light from one side: a luminance ramp from 100 % to 15 % across the middle half of the face
/// width (full light before it, 15 % after it, over the whole frame). `dark_right`: the
/// image's right side is in shadow.
fn side_light(b: &Base, dark_right: bool) -> RgbImage {
    let pts = oval(b.face());
    let x0 = pts.iter().map(|p| p.x).fold(f32::MAX, f32::min);
    let x1 = pts.iter().map(|p| p.x).fold(f32::MIN, f32::max);
    let width = x1 - x0;
    map_pixels(&b.good, |x, _, v| {
        let t = ((x as f32 + 0.5 - x0 - 0.25 * width) / (0.5 * width)).clamp(0.0, 1.0);
        let t = if dark_right { t } else { 1.0 - t };
        let gain = 1.0 - 0.85 * t;
        v.map(|c| c * gain)
    })
}

/// Gaussian blur of `sigma_per_200` px per 200 px of face height.
fn blurred(b: &Base, sigma_per_200: f32) -> RgbImage {
    let sigma = sigma_per_200 * geom(b.face()).height / 200.0;
    image::imageops::blur(&b.good, sigma)
}

/// A light-blue surgical mask (shaded by the skin under it) over the face oval (×1.08) below
/// the middle of the nose ridge.
fn blue_mask(b: &Base) -> RgbImage {
    const MASK: [f32; 3] = [150.0, 190.0, 225.0];
    let (w, h) = b.good.dimensions();
    let mask = face_mask(b.face(), w, h, 1.08, 6.0);
    let top = b.face().landmarks.point(MID_NOSE).y;
    map_pixels(&b.good, |x, y, v| {
        let m = mask[(y * w + x) as usize] * ((y as f32 + 0.5 - top) / 4.0).clamp(0.0, 1.0);
        let shade = (0.85 + 0.3 * (luma(v) / 128.0 - 1.0)).clamp(0.6, 1.1);
        [0, 1, 2].map(|k| (1.0 - m) * v[k] + m * MASK[k] * shade)
    })
}

/// Two people side by side: `a` on the left and `b` on the right (same size, ≈ 55 cm), joined
/// with a 16 px feathered seam down the middle of the frame.
fn two_people(a: &Base, b: &Base) -> RgbImage {
    let at = |x: f32| Placement {
        center: (x, 0.45 * FRAME_H as f32),
        iod: 50.0,
        roll_deg: Some(0.0),
    };
    let left = place(&a.src, &a.src_geom, &at(130.0));
    let right = place(&b.src, &b.src_geom, &at(350.0));
    let seam = FRAME_W as f32 / 2.0;
    map_pixels(&left, |x, y, v| {
        let t = ((x as f32 + 0.5 - seam + 8.0) / 16.0).clamp(0.0, 1.0);
        let r = right.get_pixel(x, y).0.map(f32::from);
        [0, 1, 2].map(|k| (1.0 - t) * v[k] + t * r[k])
    })
}

// ---------------------------------------------------------------------------------------
// Base photos, analysed once
// ---------------------------------------------------------------------------------------

struct Base {
    /// Short name for the tables.
    name: String,
    /// The photo as loaded.
    src: RgbImage,
    src_geom: FaceGeom,
    /// The framed 480×640 selfie and what the analyzer found in it.
    good: RgbImage,
    good_faces: Vec<FaceObservation>,
    /// The guidance settings for this photo (the default except for the astronaut's pitch).
    config: GuidanceConfig,
}

impl Base {
    fn new(name: &str, src: RgbImage, config: GuidanceConfig) -> Self {
        let faces = analyzer().analyze_image(&src).unwrap();
        assert_eq!(faces.len(), 1, "{name}: {} faces in the photo", faces.len());
        let src_geom = geom(&faces[0]);
        let good = place(&src, &src_geom, &Placement::good());
        let good_faces = analyzer().analyze_image(&good).unwrap();
        assert_eq!(
            good_faces.len(),
            1,
            "{name}: {} faces framed",
            good_faces.len()
        );
        let short = name.rsplit('/').next().unwrap_or(name);
        Self {
            name: short.trim_end_matches(".jpg").to_string(),
            src,
            src_geom,
            good,
            good_faces,
            config,
        }
    }

    fn face(&self) -> &FaceObservation {
        &self.good_faces[0]
    }

    /// The same face re-framed from the original photo.
    fn placed(&self, p: &Placement) -> RgbImage {
        place(&self.src, &self.src_geom, p)
    }

    fn judge(&self, img: &RgbImage) -> Outcome {
        judge_image(img, &self.config)
    }
}

/// The astronaut and, with the evaluation data, the [`BASES`] photos.
fn bases() -> &'static [Base] {
    static BASES_CACHE: OnceLock<Vec<Base>> = OnceLock::new();
    BASES_CACHE.get_or_init(|| {
        // See the module docs: the astronaut's pitch (≈ −9°) sits at the 10° limit.
        let mut relaxed = default_config();
        relaxed.max_pitch_deg = 15.0;
        let mut out = vec![Base::new("astronaut", astronaut(), relaxed)];
        if let Some(data) = eval_data("guidance_photos: base photos (only the astronaut runs)") {
            for name in BASES {
                let img = load_image(&data.join("faces_identity").join(name)).unwrap();
                out.push(Base::new(name, img, default_config()));
            }
        }
        out
    })
}

// ---------------------------------------------------------------------------------------
// Running the engine and reporting
// ---------------------------------------------------------------------------------------

fn default_config() -> GuidanceConfig {
    Config::default().guidance
}

/// Frame period of the simulated camera.
const FRAME_STEP: Duration = Duration::from_millis(33);

/// What the engine made of one still.
struct Outcome {
    faces: usize,
    /// The first update's own verdict.
    frame: Instruction,
    /// The shown instruction after `min_dwell + ok_dwell + 0.5 s` of the same frame.
    stable: Instruction,
    /// `ready` on every update.
    ready: bool,
    /// The measurements of the still (second frame, with motion).
    m: QualityMeasurements,
}

fn judge_image(img: &RgbImage, cfg: &GuidanceConfig) -> Outcome {
    let faces = analyzer().analyze_image(img).unwrap();
    judge_faces(img, &faces, cfg, |m| m)
}

/// Feeds the same still to a fresh engine for longer than `min_dwell + ok_dwell`.
///
/// The still is measured at t = 0 and again one frame later (the second measurement has a
/// motion estimate — zero, the frame does not move); later frames would measure exactly the
/// same, so the second measurement is reused. `adjust` may edit the measurements first.
fn judge_faces(
    img: &RgbImage,
    faces: &[FaceObservation],
    cfg: &GuidanceConfig,
    adjust: impl Fn(QualityMeasurements) -> QualityMeasurements,
) -> Outcome {
    let mut engine = GuidanceEngine::new(cfg.clone()).unwrap();
    let mut tracker = MotionTracker::new();
    let first = adjust(measure(
        img,
        faces,
        &mut tracker,
        Duration::ZERO,
        &cfg.quality,
    ));
    let still = adjust(measure(img, faces, &mut tracker, FRAME_STEP, &cfg.quality));
    let u = engine.update(&first, Duration::ZERO);
    let frame = u.frame_instruction;
    let mut ready = u.ready;
    let mut stable = u.instruction;
    let end = cfg.min_dwell + cfg.ok_dwell + Duration::from_millis(500);
    let mut t = FRAME_STEP;
    while t <= end {
        let u = engine.update(&still, t);
        ready &= u.ready;
        stable = u.instruction;
        t += FRAME_STEP;
    }
    Outcome {
        faces: faces.len(),
        frame,
        stable,
        ready,
        m: still,
    }
}

/// The measurements with the head pose set to frontal, as if the person now faced the camera:
/// shows what the checks after the pose would say.
fn frontal(mut m: QualityMeasurements) -> QualityMeasurements {
    if let Some(p) = m.primary.as_mut() {
        p.pose = HeadPose::default();
    }
    m
}

/// One row of a table.
struct Case {
    name: String,
    /// `None`: reported, not asserted.
    expected: Option<Instruction>,
    got: Outcome,
}

impl Case {
    fn new(name: impl Into<String>, expected: Option<Instruction>, got: Outcome) -> Self {
        Self {
            name: name.into(),
            expected,
            got,
        }
    }

    fn passed(&self) -> bool {
        match self.expected {
            Some(e) => e == self.got.frame && e == self.got.stable,
            None => true,
        }
    }
}

fn fmt_row(c: &Case) -> String {
    let o = &c.got;
    let mark = match (c.expected, c.passed()) {
        (None, _) => "  -  ",
        (Some(_), true) => " ok  ",
        (Some(_), false) => "FAIL ",
    };
    let mut s = format!(
        "{mark}{:<40} {:<15} {:<15} {:<15} {}/{}",
        c.name,
        c.expected.map_or("(report)", Instruction::id),
        o.frame.id(),
        o.stable.id(),
        o.faces,
        o.m.significant_face_count,
    );
    let Some(p) = &o.m.primary else {
        return s;
    };
    s += &format!(
        " {:5.1} {:4.2} {:5.1} {:5.1} {:5.1}",
        p.size.distance_cm, p.centring.inside_guide_fraction, p.pose.yaw, p.pose.pitch, p.pose.roll
    );
    let opt = |v: Option<f32>, w: usize, d: usize| match v {
        Some(v) => format!(" {v:w$.d$}"),
        None => format!(" {:>w$}", "-"),
    };
    let l = p.light;
    s += &opt(l.map(|l| l.face_luma), 5, 1);
    s += &opt(l.and_then(|l| l.background_luma), 5, 1);
    s += &opt(l.map(|l| l.half_imbalance), 5, 2);
    s += &opt(p.sharpness, 4, 2);
    s += &opt(p.eyes.map(|e| e.min_luma_ratio()), 4, 2);
    s += &opt(p.eyes.and_then(|e| e.right.openness), 4, 2);
    s += &opt(p.eyes.and_then(|e| e.left.openness), 4, 2);
    s += &opt(p.mouth.map(|m| m.luma_ratio), 4, 2);
    s += &opt(p.mouth.map(|m| m.redness_difference), 5, 1);
    s
}

/// Prints the table and fails on any row whose expectation is not met.
fn check(title: &str, cases: &[Case]) {
    let mut table = format!(
        "\n=== {title} ===\n     {:<40} {:<15} {:<15} {:<15} faces dist  in   yaw   pitch roll  \
         faceY bgY   imbal sharp eyeY earR earL mthY mthCr\n",
        "case", "expected", "frame", "stable"
    );
    for c in cases {
        table += &fmt_row(c);
        table.push('\n');
    }
    eprint!("{table}");
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "{title}: wrong instruction for {failed:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Tests: transformed base photos
// ---------------------------------------------------------------------------------------

#[test]
fn good_photos_give_hold_still() {
    let cases: Vec<Case> = bases()
        .iter()
        .map(|b| {
            let o = judge_faces(&b.good, &b.good_faces, &b.config, |m| m);
            Case::new(format!("{} good", b.name), Some(Instruction::HoldStill), o)
        })
        .collect();
    check("good photos", &cases);
    for c in &cases {
        assert!(c.got.ready, "{}: not ready on every frame", c.name);
    }
}

#[test]
fn light_conditions_give_the_light_instruction() {
    let mut cases = Vec::new();
    for b in bases() {
        let list = [
            ("dark x0.25", Instruction::TooDark, darken(&b.good, 0.25)),
            (
                "white backdrop",
                Instruction::HoldStill,
                bright_background(b, 1.0),
            ),
            (
                "backlight",
                Instruction::Backlight,
                bright_background(b, 0.4),
            ),
            ("side light R", Instruction::SideLight, side_light(b, true)),
            ("side light L", Instruction::SideLight, side_light(b, false)),
        ];
        for (what, expected, img) in list {
            cases.push(Case::new(
                format!("{} {what}", b.name),
                Some(expected),
                b.judge(&img),
            ));
        }
    }
    check("light", &cases);
    // The light transforms move the light numbers the way they should.
    for c in &cases {
        let l = c.got.m.primary.as_ref().and_then(|p| p.light).unwrap();
        if c.name.ends_with("side light R") {
            assert!(l.half_imbalance > 0.35, "{}: {l:?}", c.name);
        } else if c.name.ends_with("side light L") {
            assert!(l.half_imbalance < -0.35, "{}: {l:?}", c.name);
        } else if c.name.ends_with("backlight") {
            assert!(l.backlight_difference.unwrap() > 100.0, "{}: {l:?}", c.name);
        }
    }
}

#[test]
fn blur_sized_to_the_face_asks_to_hold_steady() {
    let cases: Vec<Case> = bases()
        .iter()
        .map(|b| {
            let o = b.judge(&blurred(b, 4.0));
            Case::new(
                format!("{} blur 4px/200px", b.name),
                Some(Instruction::HoldSteady),
                o,
            )
        })
        .collect();
    check("blur", &cases);
}

#[test]
fn distance_and_position_give_the_framing_instruction() {
    let mut cases = Vec::new();
    for b in bases() {
        let good = Placement::good();
        let list = [
            (
                "75 cm",
                Some(Instruction::ComeCloser),
                Placement::at_cm(75.0),
            ),
            ("28 cm", Some(Instruction::MoveBack), Placement::at_cm(28.0)),
            (
                "moved right",
                Some(Instruction::CenterFace),
                Placement {
                    center: (good.center.0 + 150.0, good.center.1),
                    ..good
                },
            ),
            (
                "moved up",
                Some(Instruction::CenterFace),
                Placement {
                    center: (good.center.0, good.center.1 - 170.0),
                    ..good
                },
            ),
            // Reported only: see the module docs (ghost face; no detection far away).
            ("90 cm", None, Placement::at_cm(90.0)),
            ("130 cm", None, Placement::at_cm(130.0)),
        ];
        for (what, expected, p) in list {
            cases.push(Case::new(
                format!("{} {what}", b.name),
                expected,
                b.judge(&b.placed(&p)),
            ));
        }
    }
    check("distance and position", &cases);
}

#[test]
fn tilt_past_ten_degrees_asks_to_straighten_head() {
    let mut cases = Vec::new();
    for b in bases() {
        for deg in [20.0f32, -20.0] {
            let p = Placement {
                roll_deg: Some(deg),
                ..Placement::good()
            };
            let o = b.judge(&b.placed(&p));
            let roll = o.m.primary.as_ref().map_or(f32::NAN, |p| p.pose.roll);
            assert!(
                (roll - deg).abs() < 3.0,
                "{}: roll {roll} for {deg}°",
                b.name
            );
            cases.push(Case::new(
                format!("{} roll {deg:+}", b.name),
                Some(Instruction::StraightenHead),
                o,
            ));
        }
    }
    check("tilt", &cases);
}

#[test]
fn a_second_person_gives_multiple_faces() {
    let bs = bases();
    let mut cases = Vec::new();
    for (i, b) in bs.iter().enumerate() {
        // Without the evaluation data the astronaut sits beside herself.
        let other = &bs[(i + 1) % bs.len()];
        let o = b.judge(&two_people(b, other));
        assert_eq!(o.faces, 2, "{} + {}", b.name, other.name);
        cases.push(Case::new(
            format!("{} + {}", b.name, other.name),
            Some(Instruction::MultipleFaces),
            o,
        ));
    }
    check("second person", &cases);
}

#[test]
fn a_mask_over_the_mouth_asks_to_uncover_it() {
    let cases: Vec<Case> = bases()
        .iter()
        .map(|b| {
            Case::new(
                format!("{} blue mask", b.name),
                Some(Instruction::UncoverMouth),
                b.judge(&blue_mask(b)),
            )
        })
        .collect();
    check("mask", &cases);
}

// ---------------------------------------------------------------------------------------
// Tests: hard-case photos
// ---------------------------------------------------------------------------------------

/// Loads a photo and analyses it; re-frames it when it has exactly one face.
fn hard_case(dir: &Path, name: &str) -> (RgbImage, Vec<FaceObservation>, Option<RgbImage>) {
    let img = load_image(&dir.join(name)).unwrap();
    let faces = analyzer().analyze_image(&img).unwrap();
    let framed = (faces.len() == 1).then(|| reframe(&img, &geom(&faces[0])));
    (img, faces, framed)
}

#[test]
fn hard_case_photos_get_the_instruction_their_condition_calls_for() {
    let Some(data) = eval_data("hard_case_photos_get_the_instruction_their_condition_calls_for")
    else {
        return;
    };
    let hc = data.join("hard_cases");
    let cfg = default_config();
    let mut cases = Vec::new();
    let mut frontal_cases = Vec::new();
    use Instruction::*;

    // Re-framed: the head pose decides first (the photos are labelled by it, or turned anyway).
    // `None`: some pose instruction, which one depends on a reading near a limit (mask2: yaw
    // 10.8°) or on yaw and pitch read under a 40–55° tilt (the wry necks).
    let framed: [(&str, Option<Instruction>); 14] = [
        ("occlusion/insightface_mask.png", Some(FaceCamera)),
        ("occlusion/insightface_crop_mask.png", Some(FaceCamera)),
        ("occlusion/insightface_mask2.jpg", None),
        ("eyes/insightface_open_eyes.png", Some(FaceCamera)),
        ("eyes/insightface_close_eyes.jpeg", Some(RaiseChin)),
        ("eyes/insightface_close_open_eyes.jpeg", Some(FaceCamera)),
        ("head_pose/insightface_left_face.jpeg", Some(FaceCamera)),
        ("head_pose/insightface_right_face.png", Some(FaceCamera)),
        ("head_pose/insightface_rise_face.jpeg", Some(LowerChin)),
        ("head_pose/insightface_lower_face.jpeg", Some(FaceCamera)),
        ("head_pose/insightface_left_wryneck.png", None),
        ("head_pose/insightface_right_wryneck.png", None),
        // Its yaw reads ≈ 10° (on the limit), so the framed verdict may be a pose instruction;
        // the blur is asserted on the frontal ("pose→0") measurements below.
        ("blur/insightface_blur.jpg", None),
        ("low_resolution/fr_obama_small.jpg", Some(HoldStill)),
    ];
    let pose_instructions = [FaceCamera, RaiseChin, LowerChin, StraightenHead];
    for (name, expected) in framed {
        let (_, _, framed) = hard_case(&hc, name);
        let framed = framed.unwrap_or_else(|| panic!("{name}: not exactly one face"));
        let faces = analyzer().analyze_image(&framed).unwrap();
        let o = judge_faces(&framed, &faces, &cfg, |m| m);
        if expected.is_none() && !name.starts_with("blur/") {
            assert!(
                pose_instructions.contains(&o.frame) && pose_instructions.contains(&o.stable),
                "{name}: {} / {}",
                o.frame.id(),
                o.stable.id()
            );
        }
        cases.push(Case::new(format!("{name} framed"), expected, o));
        // What the checks after the pose say once the person faces the camera.
        let expected_frontal = match name {
            "occlusion/insightface_mask.png" | "occlusion/insightface_crop_mask.png" => {
                Some(UncoverMouth)
            }
            n if n.starts_with("eyes/") => Some(HoldStill),
            n if n.starts_with("blur/") => Some(HoldSteady),
            _ => None,
        };
        if name.starts_with("occlusion/") || name.starts_with("eyes/") || name.starts_with("blur/")
        {
            frontal_cases.push(Case::new(
                format!("{name} pose→0"),
                expected_frontal,
                judge_faces(&framed, &faces, &cfg, frontal),
            ));
        }
    }
    // The pose numbers behind those verdicts, with margin past the 10° limits.
    let pose_of = |suffix: &str| {
        let c = cases.iter().find(|c| c.name.contains(suffix)).unwrap();
        c.got.m.primary.as_ref().unwrap().pose
    };
    assert!(pose_of("left_face").yaw < -30.0);
    assert!(pose_of("right_face").yaw > 30.0);
    assert!(pose_of("rise_face").pitch > 15.0);
    assert!(pose_of("close_eyes.jpeg").pitch < -15.0);
    assert!(pose_of("left_wryneck").roll < -30.0);
    assert!(pose_of("right_wryneck").roll > 30.0);

    // Raw frames, where the framing itself is the condition.
    let raw: [(&str, Option<Instruction>); 5] = [
        // The face is cut by the photo's edge.
        ("occlusion/fr_obama_partial_face.jpg", Some(CenterFace)),
        ("occlusion/fr_obama_partial_face2.jpg", Some(CenterFace)),
        // A small face in a 427×240 frame (≈ 80 cm).
        ("low_resolution/fr_obama-240p.jpg", Some(ComeCloser)),
        // The face fills a 320×240 frame (≈ 30 cm).
        ("low_resolution/fr_obama_small.jpg", Some(MoveBack)),
        // No detectable face (see the module docs).
        ("lighting/zerodce_DICM_10_backlit.jpg", Some(NoFace)),
    ];
    for (name, expected) in raw {
        let (img, faces, _) = hard_case(&hc, name);
        cases.push(Case::new(
            format!("{name} raw"),
            expected,
            judge_faces(&img, &faces, &cfg, |m| m),
        ));
    }
    // Reported: a 240p face upscaled 2.4× (see the module docs).
    let (_, _, framed) = hard_case(&hc, "low_resolution/fr_obama-240p.jpg");
    let framed = framed.unwrap();
    cases.push(Case::new(
        "low_resolution/fr_obama-240p.jpg framed",
        None,
        judge_image(&framed, &cfg),
    ));
    check("hard cases", &cases);
    check("hard cases, pose set to frontal", &frontal_cases);

    // Closed lids read narrower than open eyes.
    let openness = |suffix: &str| {
        let c = cases.iter().find(|c| c.name.contains(suffix)).unwrap();
        let e = c.got.m.primary.as_ref().unwrap().eyes.unwrap();
        e.right.openness.unwrap().max(e.left.openness.unwrap())
    };
    assert!(openness("close_eyes.jpeg") < openness("open_eyes.png") - 0.1);
}

#[test]
fn yale_side_light_photos_ask_to_face_the_light() {
    let Some(data) = eval_data("yale_side_light_photos_ask_to_face_the_light") else {
        return;
    };
    let dir = data.join("hard_cases/yale_lighting_glasses");
    let cfg = default_config();
    // Side-lit photos the measurements support (|imbalance| past the threshold and the head
    // within the pose limits); the other five are in the module docs.
    let supported = [
        "01.leftlight",
        "01.rightlight",
        "02.leftlight",
        "03.leftlight",
        "03.rightlight",
        "04.leftlight",
        "04.rightlight",
        "05.rightlight",
        "06.rightlight",
        "07.leftlight",
        "07.rightlight",
        "09.leftlight",
        "09.rightlight",
        "10.leftlight",
        "10.rightlight",
    ];
    let mut cases = Vec::new();
    let mut imbalances = Vec::new();
    for path in images_in(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let key = file
            .trim_start_matches("yale_subject")
            .trim_end_matches(".jpeg");
        let light = ["leftlight", "rightlight", "centerlight"]
            .into_iter()
            .find(|l| key.ends_with(l));
        let Some(light) = light else {
            continue;
        };
        let (_, _, framed) = hard_case(&dir, &file);
        let framed = framed.unwrap_or_else(|| panic!("{file}: not exactly one face"));
        let o = judge_image(&framed, &cfg);
        let imbalance = o.m.primary.as_ref().unwrap().light.unwrap().half_imbalance;
        imbalances.push((key.to_string(), light, imbalance, o.frame));
        let expected = supported.contains(&key).then_some(Instruction::SideLight);
        cases.push(Case::new(key, expected, o));
    }
    check("Yale lighting", &cases);
    assert_eq!(imbalances.len(), 30, "10 subjects × 3 lights");
    for (key, light, imbalance, frame) in imbalances {
        match light {
            // "leftlight" lights the image's left half (the subject's right).
            "leftlight" => assert!(imbalance > 0.2, "{key}: {imbalance}"),
            "rightlight" => assert!(imbalance < -0.2, "{key}: {imbalance}"),
            _ => {
                assert!(imbalance.abs() < 0.2, "{key}: {imbalance}");
                assert_ne!(frame, Instruction::SideLight, "{key}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tests: a condition that comes and goes
// ---------------------------------------------------------------------------------------

/// Feeds `frames[k]` (image and its faces) for `[start, start + period)` in turn, at 30 fps,
/// for `total`.
fn alternate(
    frames: &[(&RgbImage, &[FaceObservation]); 2],
    period: Duration,
    total: Duration,
    cfg: &GuidanceConfig,
) -> Vec<(Duration, GuidanceUpdate)> {
    let mut engine = GuidanceEngine::new(cfg.clone()).unwrap();
    let mut tracker = MotionTracker::new();
    let mut out = Vec::new();
    let mut t = Duration::ZERO;
    while t < total {
        let k = (t.as_millis() / period.as_millis()) as usize % 2;
        let (img, faces) = frames[k];
        let m = measure(img, faces, &mut tracker, t, &cfg.quality);
        out.push((t, engine.update(&m, t)));
        t += FRAME_STEP;
    }
    out
}

/// Checks the dwell and repeat rules on a run; returns (changes after the first update, speaks).
fn assert_calm(
    what: &str,
    run: &[(Duration, GuidanceUpdate)],
    total: Duration,
    cfg: &GuidanceConfig,
) -> (usize, usize) {
    let changes: Vec<Duration> = run
        .iter()
        .skip(1)
        .filter(|(_, u)| u.changed)
        .map(|(t, _)| *t)
        .collect();
    let speaks: Vec<(Duration, Instruction)> = run
        .iter()
        .filter(|(_, u)| u.speak)
        .map(|(t, u)| (*t, u.instruction))
        .collect();
    let verdicts: Vec<&str> = run.iter().map(|(_, u)| u.frame_instruction.id()).collect();
    let shown: Vec<String> = run
        .iter()
        .filter(|(_, u)| u.changed)
        .map(|(t, u)| format!("{}@{}ms", u.instruction.id(), t.as_millis()))
        .collect();
    eprintln!(
        "\n=== flicker: {what} ===\n{} frames, {} frame verdict switches; shown: {}; changes {}, \
         speaks {:?}",
        run.len(),
        verdicts.windows(2).filter(|w| w[0] != w[1]).count(),
        shown.join(", "),
        changes.len(),
        speaks
            .iter()
            .map(|(t, i)| format!("{}@{}ms", i.id(), t.as_millis()))
            .collect::<Vec<_>>(),
    );
    // Every shown instruction stays at least min_dwell.
    let mut since = Duration::ZERO;
    for &t in &changes {
        assert!(
            t - since >= cfg.min_dwell,
            "{what}: switched after {:?}",
            t - since
        );
        since = t;
    }
    let bound = (total.as_millis() / cfg.min_dwell.as_millis()) as usize;
    assert!(
        changes.len() <= bound,
        "{what}: {} changes > {bound}",
        changes.len()
    );
    // The same instruction is not spoken again within repeat_interval (the run is shorter
    // than reminder_interval, so no reminder is due).
    assert!(total < cfg.reminder_interval);
    for (i, &(t, instruction)) in speaks.iter().enumerate() {
        if let Some(&(t0, _)) = speaks[..i].iter().rev().find(|(_, j)| *j == instruction) {
            assert!(
                t - t0 >= cfg.repeat_interval,
                "{what}: {} spoken again after {:?}",
                instruction.id(),
                t - t0
            );
        }
    }
    // At most one first utterance per instruction shown, plus one more per repeat_interval.
    let mut distinct: Vec<Instruction> = run.iter().map(|(_, u)| u.instruction).collect();
    distinct.sort_by_key(|i| i.id());
    distinct.dedup();
    let per_instruction = 1 + (total.as_millis() / cfg.repeat_interval.as_millis()) as usize;
    assert!(
        speaks.len() <= distinct.len() * per_instruction,
        "{what}: {} speaks",
        speaks.len()
    );
    (changes.len(), speaks.len())
}

#[test]
fn a_flickering_condition_does_not_make_the_phone_chatter() {
    let bs = bases();
    // The first photo of the evaluation set (the astronaut without it).
    let b = &bs[1.min(bs.len() - 1)];
    let cfg = &b.config;
    let dark = darken(&b.good, 0.25);
    let dark_faces = analyzer().analyze_image(&dark).unwrap();
    let blur = blurred(b, 4.0);
    let blur_faces = analyzer().analyze_image(&blur).unwrap();

    // Dark and normal alternate every 150 ms for 3 s: shorter than switch_confirm, so the
    // shown instruction never changes and is spoken once.
    let period = Duration::from_millis(150);
    let total = Duration::from_secs(3);
    assert!(period < cfg.switch_confirm);
    let frames = [
        (&dark, dark_faces.as_slice()),
        (&b.good, b.good_faces.as_slice()),
    ];
    let run = alternate(&frames, period, total, cfg);
    let verdicts = |i: Instruction| run.iter().filter(|(_, u)| u.frame_instruction == i).count();
    assert!(
        verdicts(Instruction::TooDark) > 30,
        "the dark frames are seen as dark"
    );
    assert!(
        verdicts(Instruction::HoldStill) > 30,
        "the normal frames are seen as good"
    );
    let (changes, speaks) =
        assert_calm(&format!("{} dark/normal 150 ms", b.name), &run, total, cfg);
    assert_eq!((changes, speaks), (0, 1));
    assert_eq!(run.last().unwrap().1.instruction, Instruction::TooDark);

    // Two problems (dark, blurred) alternate every 700 ms for 7 s: longer than switch_confirm,
    // so the engine follows — but no faster than min_dwell, and without repeating itself
    // within repeat_interval.
    let period = Duration::from_millis(700);
    let total = Duration::from_secs(7);
    let frames = [
        (&dark, dark_faces.as_slice()),
        (&blur, blur_faces.as_slice()),
    ];
    let run = alternate(&frames, period, total, cfg);
    let verdicts = |i: Instruction| run.iter().filter(|(_, u)| u.frame_instruction == i).count();
    assert!(verdicts(Instruction::TooDark) > 30 && verdicts(Instruction::HoldSteady) > 30);
    let (changes, _) = assert_calm(&format!("{} dark/blurred 700 ms", b.name), &run, total, cfg);
    assert!(
        changes >= 2,
        "the engine follows a lasting change ({changes} changes)"
    );
}

// ---------------------------------------------------------------------------------------
// Tests: the capture rules at their limits (40–60 cm, 10° tilt, sunglasses)
// ---------------------------------------------------------------------------------------

/// The distance band is 40–60 cm (`quality.near_limit_cm`, `far_limit_cm`): a face placed just
/// inside either edge is accepted, just outside it gets the instruction back into the band.
/// "Just": 3 cm, which is above the distance estimate's error on these frames (the measured
/// distance is asserted within 2 cm of the placement).
#[test]
fn the_edges_of_the_distance_band_give_the_right_instruction() {
    let config = Config::default();
    let q = &config.guidance.quality;
    assert_eq!((q.near_limit_cm, q.far_limit_cm), (40.0, 60.0));
    let mut cases = Vec::new();
    for b in bases() {
        for (cm, expected) in [
            (37.0, Instruction::MoveBack),
            (43.0, Instruction::HoldStill),
            (57.0, Instruction::HoldStill),
            (63.0, Instruction::ComeCloser),
        ] {
            let o = b.judge(&b.placed(&Placement::at_cm(cm)));
            let measured =
                o.m.primary
                    .as_ref()
                    .map_or(f32::NAN, |p| p.size.distance_cm);
            assert!(
                (measured - cm).abs() < 2.0,
                "{}: placed at {cm} cm, measured {measured:.1} cm",
                b.name
            );
            cases.push(Case::new(format!("{} {cm} cm", b.name), Some(expected), o));
        }
    }
    check("distance band edges", &cases);
}

/// The tilt limit is 10° (`max_roll_deg`): 8° either way is accepted, 12° is not.
#[test]
fn a_tilt_of_eight_degrees_passes_and_twelve_asks_to_straighten_head() {
    assert_eq!(Config::default().guidance.max_roll_deg, 10.0);
    let mut cases = Vec::new();
    for b in bases() {
        for (deg, expected) in [
            (8.0f32, Instruction::HoldStill),
            (-8.0, Instruction::HoldStill),
            (12.0, Instruction::StraightenHead),
            (-12.0, Instruction::StraightenHead),
        ] {
            let p = Placement {
                roll_deg: Some(deg),
                ..Placement::good()
            };
            let o = b.judge(&b.placed(&p));
            cases.push(Case::new(
                format!("{} roll {deg:+}", b.name),
                Some(expected),
                o,
            ));
        }
    }
    check("tilt at the limit", &cases);
}

/// Dark sunglasses drawn over the eyes found by the landmarks: a lens of 0.85 × 0.6
/// inter-ocular distances around each eye centre (a 50 mm lens on a 63 mm IOD face)
/// transmitting 12 % of the light, a bridge and a thin frame.
fn sunglasses(b: &Base) -> RgbImage {
    let l = &b.face().landmarks;
    let eye = |idx: [usize; 6]| centroid(&idx.map(|i| l.point(i)));
    // FaceMesh eye contours (corners and lids), as `quality` reads them.
    let right = eye([33, 160, 158, 133, 153, 144]);
    let left = eye([362, 385, 387, 263, 373, 380]);
    let iod = right.distance(left);
    let angle = (left.y - right.y).atan2(left.x - right.x);
    let (s, c) = angle.sin_cos();
    let (ax, ay) = (0.425 * iod, 0.3 * iod);
    // Ellipse "radius" of a point in the eye's frame: < 1 inside the lens.
    let lens = |p: Point, e: Point| {
        let (dx, dy) = (p.x - e.x, p.y - e.y);
        let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
        ((u / ax).powi(2) + (v / ay).powi(2)).sqrt()
    };
    map_pixels(&b.good, |x, y, v| {
        let p = Point::new(x as f32 + 0.5, y as f32 + 0.5);
        let r = lens(p, right).min(lens(p, left));
        let on_bridge = segment_distance(p, right, left) < 0.04 * iod
            && lens(p, right) > 1.0
            && lens(p, left) > 1.0
            && p.distance(Point::new(
                0.5 * (right.x + left.x),
                0.5 * (right.y + left.y),
            )) < 0.2 * iod;
        if r < 0.93 {
            v.map(|c| 0.12 * c + 6.0)
        } else if r < 1.05 || on_bridge {
            [28.0, 26.0, 24.0]
        } else {
            v
        }
    })
}

#[test]
fn dark_sunglasses_ask_to_uncover_the_eyes() {
    let cases: Vec<Case> = bases()
        .iter()
        .map(|b| {
            Case::new(
                format!("{} sunglasses", b.name),
                Some(Instruction::UncoverEyes),
                b.judge(&sunglasses(b)),
            )
        })
        .collect();
    check("sunglasses", &cases);
}
