//! Image-quality measurements on the face in one frame: size and the distance it implies,
//! centring in the guide oval, head pose, light (brightness, clipping, backlight, side light),
//! sharpness, eye and mouth occlusion, number of faces, and motion between frames.
//!
//! Every measurement is a plain number with a documented unit and range; *deciding* what is
//! good enough is the job of [`crate::capture::guidance`]. The only exception is [`DistanceBand`], the
//! raw (no hysteresis) reading of the distance against the 40–60 cm band.
//!
//! # How the face region is read
//! All photometric measurements work on a small *face chip*: the face resampled (bilinear)
//! into the face's own upright frame, whose origin is the midpoint between the eye centres,
//! whose x axis runs along the eye line and whose unit is the inter-ocular distance (IOD,
//! eye centre to eye centre). The chip has a fixed resolution per IOD
//! ([`QualityConfig::chip_pixels_per_iod`]), so every number is independent of how large the
//! face is in the frame and of in-plane head tilt, and the cost is bounded (≈ 90×120 samples
//! at the default) whatever the camera resolution. Regions (face, halves, eyes, mouth) are
//! placed on the chip from the FaceMesh landmarks.
//!
//! # Distance model
//! A pinhole camera whose field of view across the frame's longer side is
//! [`QualityConfig::camera_fov_long_side_deg`] (72°), and an adult interpupillary distance of
//! 6.3 cm. In a 480×640 frame the focal length is then ≈ 440 px, and a face at 40 cm has an
//! inter-ocular distance of ≈ 69 px, at 60 cm ≈ 46 px. FaceMesh faces measure ≈ 2.65 IODs
//! from forehead top (landmark 10) to chin (152) over the calibration photos (range
//! 2.3–3.0), so **at 40–60 cm a face fills ≈ 29–19 % of a portrait frame's height**
//! (38–25 % of the shorter side). The estimate is only as good as the assumed FOV and IPD
//! (±20 %); it is meant to tell "far too far" from "far too close", not to measure.
//!
//! # Calibration
//! Thresholds quoted in the docs were checked against ≈ 280 real photos with MediaPipe
//! FaceMesh landmarks (portraits, expressions, head poses, masks, sunglasses, Yale
//! side-lit and studio portraits); the numbers given as "calibration" come from there.
//!
//! Luma is BT.601 full range, `Y = 0.299 R + 0.587 G + 0.114 B` (0–255), chroma `Cb`, `Cr`
//! likewise (neutral grey = 128).
//!
//! # Robustness
//! [`measure`] never panics: landmarks missing, short or non-finite fall back to the
//! detector box and keypoints ([`GeometrySource::DetectionBox`]); a face with no finite
//! geometry at all is not counted; regions falling outside the image yield `None` for the
//! measurements that need them; an empty image yields no primary face.

use crate::face::observation::{Detection, FaceObservation, HeadPose, Keypoint, LANDMARK_COUNT};
use crate::image::geometry::Point;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// FaceMesh landmark indices read by this module.
mod mesh {
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// Lowest point of the chin.
    pub const CHIN: usize = 152;
    /// Top of the forehead (upper end of the face oval).
    pub const FOREHEAD: usize = 10;
    /// Subject's right eye in eye-aspect-ratio order: outer corner, upper lid (outer, inner),
    /// inner corner, lower lid (inner, outer).
    pub const RIGHT_EYE: [usize; 6] = [33, 160, 158, 133, 153, 144];
    /// Subject's left eye in the same order: inner corner, upper lid (inner, outer), outer
    /// corner, lower lid (outer, inner).
    pub const LEFT_EYE: [usize; 6] = [362, 385, 387, 263, 373, 380];
    /// Inner upper lip.
    pub const UPPER_LIP: usize = 13;
    /// Inner lower lip.
    pub const LOWER_LIP: usize = 14;
    /// Mouth corner on the subject's right.
    pub const MOUTH_RIGHT: usize = 61;
    /// Mouth corner on the subject's left.
    pub const MOUTH_LEFT: usize = 291;
    /// The face oval (silhouette), clockwise from the forehead in a non-mirrored image.
    pub use crate::face::landmarks::contours::FACE_OVAL;
}

/// Minimum number of chip samples a region needs before its statistics are reported.
const MIN_REGION_SAMPLES: u32 = 12;
/// Minimum number of background grid samples for a background luma.
const MIN_BACKGROUND_SAMPLES: u32 = 16;
/// Largest chip side, samples (bounds the cost for implausible geometry).
const MAX_CHIP_SIDE: f32 = 256.0;
/// Upper bound on the motion history length (frames), whatever the frame rate.
const MAX_MOTION_HISTORY: usize = 64;

/// The oval the shell draws over the camera preview, and which the face should fill.
///
/// The centre is a fraction of the upright frame's width (`center_x`) and height
/// (`center_y`); both radii are fractions of the frame's **shorter side**, so the oval keeps
/// its shape in portrait and landscape frames. Shells draw it with [`GuideOval::in_pixels`]
/// scaled to their preview (the preview must show the whole analysed frame, or the shell
/// must apply the same crop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuideOval {
    /// Centre, fraction of the frame width from the left. Default 0.5 (centred).
    pub center_x: f32,
    /// Centre, fraction of the frame height from the top. Default 0.45: slightly above the
    /// middle, where a face sits when the phone is held at eye level and the shoulders show.
    pub center_y: f32,
    /// Horizontal semi-axis, fraction of the shorter frame side. Default 0.2.
    pub radius_x: f32,
    /// Vertical semi-axis, fraction of the shorter frame side. Default 0.25.
    ///
    /// Sizing: with the default camera model ([`QualityConfig`]) the face outline
    /// (forehead top to chin ≈ 2.65 inter-ocular distances, measured with FaceMesh on real
    /// photos; cheek to cheek ≈ 2.1) spans ≈ 0.38 × 0.30 of the shorter frame side at 40 cm
    /// (the near end of the band) and ≈ 0.25 × 0.20 at 60 cm. The oval (0.50 × 0.40)
    /// holds the whole face over the band with a margin for small offsets; a face that
    /// nearly fills it is too close.
    pub radius_y: f32,
}

impl Default for GuideOval {
    fn default() -> Self {
        Self {
            center_x: 0.5,
            center_y: 0.45,
            radius_x: 0.2,
            radius_y: 0.25,
        }
    }
}

impl GuideOval {
    /// The oval in pixels of a `width`×`height` upright frame: centre, horizontal semi-axis,
    /// vertical semi-axis.
    pub fn in_pixels(&self, width: u32, height: u32) -> (Point, f32, f32) {
        let short = width.min(height) as f32;
        (
            Point::new(self.center_x * width as f32, self.center_y * height as f32),
            self.radius_x * short,
            self.radius_y * short,
        )
    }

    /// Offset of `p` from the oval centre in units of the semi-axes: `(dx, dy)` with
    /// `dx² + dy² ≤ 1` exactly when `p` is inside the oval. `dx > 0` is to the image's right,
    /// `dy > 0` downwards. NaN for an empty frame.
    pub fn normalized_offset(&self, p: Point, width: u32, height: u32) -> (f32, f32) {
        let (c, rx, ry) = self.in_pixels(width, height);
        ((p.x - c.x) / rx, (p.y - c.y) / ry)
    }

    /// Whether `p` lies inside the oval (false for an empty frame).
    pub fn contains(&self, p: Point, width: u32, height: u32) -> bool {
        let (dx, dy) = self.normalized_offset(p, width, height);
        dx * dx + dy * dy <= 1.0
    }
}

/// Settings of the measurement side (how numbers are computed, not what is good enough).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QualityConfig {
    /// Field of view of the camera across the upright frame's **longer** side, degrees.
    /// Default 72°: phone front cameras have ≈ 75–85° diagonal FOV; for a 4:3 sensor, 80°
    /// diagonal is ≈ 68° across the long side, and the 16:9 / wide selfie cameras reach
    /// ≈ 75°. Used only to turn face size into a distance estimate.
    pub camera_fov_long_side_deg: f32,
    /// Adult interpupillary distance, cm. Default 6.3 (adult mean ≈ 6.2 for women and 6.4
    /// for men, sd ≈ 0.35). The eye centres used here are the midpoints of the eye
    /// corners, which lie within a few millimetres of the pupils when looking ahead.
    pub interpupillary_distance_cm: f32,
    /// Near end of the distance band, cm: closer is [`DistanceBand::TooClose`]. Default 40,
    /// from the provincial manuals ("hold the phone 40–60 cm away").
    pub near_limit_cm: f32,
    /// Far end of the distance band, cm: further is [`DistanceBand::TooFar`]. Default 60
    /// (manuals).
    pub far_limit_cm: f32,
    /// The oval drawn by the shell.
    pub guide: GuideOval,
    /// Resolution of the face chip, samples per inter-ocular distance. Default 40: about
    /// 90×120 samples for a whole face (≈ 0.1 ms), enough to see the eyelids, the lip line
    /// and focus at a scale where a face 200 px tall is reduced ≈ 1.7×.
    pub chip_pixels_per_iod: f32,
    /// The face-oval polygon is shrunk towards its centre by this factor before it is used as
    /// the face region. Default 0.9: keeps hair, ears and background out when the landmarks
    /// are a few pixels off.
    pub face_mask_shrink: f32,
    /// Luma at or below which a face pixel counts as clipped dark. Default 16 (the floor of
    /// video-range luma; a phone ISP crushes shadows to about there).
    pub dark_clip_luma: f32,
    /// Luma at or above which a face pixel counts as clipped bright. Default 245.
    pub bright_clip_luma: f32,
    /// Background samples are taken outside an ellipse around the face this many times the
    /// face oval's extent (and not below the chin, where the body is). Default 1.3: leaves
    /// the hair and ears out.
    pub background_exclusion_scale: f32,
    /// A second face counts as significant when its size (square root of the oval area) is
    /// at least this fraction of the primary face's. Default 0.5: a helper next to the
    /// retiree counts; a photo on the wall behind, or a passer-by far away, does not.
    pub secondary_face_min_relative_size: f32,
    /// Motion is measured between the current frame and the latest frame at least this old.
    /// Default 0.3 s: long enough that landmark jitter of a pixel or two between frames does
    /// not read as motion, short enough to react within a breath.
    pub motion_window: Duration,
    /// A gap longer than this between two frames with a face restarts the motion history
    /// (the face was probably lost). Default 0.5 s.
    pub motion_max_gap: Duration,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            camera_fov_long_side_deg: 72.0,
            interpupillary_distance_cm: 6.3,
            near_limit_cm: 40.0,
            far_limit_cm: 60.0,
            guide: GuideOval::default(),
            chip_pixels_per_iod: 40.0,
            face_mask_shrink: 0.9,
            dark_clip_luma: 16.0,
            bright_clip_luma: 245.0,
            background_exclusion_scale: 1.3,
            secondary_face_min_relative_size: 0.5,
            motion_window: Duration::from_millis(300),
            motion_max_gap: Duration::from_millis(500),
        }
    }
}

/// Where the face geometry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometrySource {
    /// The 468 FaceMesh landmarks (normal case).
    Landmarks,
    /// The detector box and six keypoints, because the landmarks were missing or not finite;
    /// the face oval is then the ellipse inscribed in the box, and eye openness is unknown.
    DetectionBox,
}

/// The distance band implied by the face size (no hysteresis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceBand {
    /// Estimated distance above [`QualityConfig::far_limit_cm`].
    TooFar,
    /// Within the band.
    Ok,
    /// Estimated distance below [`QualityConfig::near_limit_cm`].
    TooClose,
}

/// Face size and the camera distance it implies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceSize {
    /// Inter-ocular distance (eye centre to eye centre), pixels.
    pub interocular_px: f32,
    /// Inter-ocular distance / frame width (0–1). With the default camera model and a
    /// 480×640 portrait frame: ≈ 0.145 at 40 cm, 0.096 at 60 cm.
    pub interocular_fraction: f32,
    /// Face height (forehead top, landmark 10, to chin, 152), pixels.
    pub face_height_px: f32,
    /// Face height / frame height (0–1+). With the default camera model, in a 3:4 portrait
    /// frame the face fills ≈ 29 % of the frame height at 40 cm and ≈ 19 % at 60 cm (38 % and
    /// 25 % in landscape).
    pub face_height_fraction: f32,
    /// Estimated camera-to-face distance, cm, from a pinhole model: focal length in pixels
    /// `f = (long side / 2) / tan(FOV / 2)`, distance `= f · IPD / (IOD px / cos yaw)`
    /// (the yaw correction undoes the foreshortening of a turned head, up to 60°).
    /// Accuracy is ±20 % at best: the FOV of the phone and the person's IPD are assumed.
    pub distance_cm: f32,
    /// The band this distance falls in.
    pub band: DistanceBand,
}

/// Where the face sits relative to the guide oval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Centring {
    /// Face centre (mean of the face-oval points), pixels.
    pub face_center: Point,
    /// Horizontal offset of the face centre from the guide centre, in guide semi-axes
    /// (> 0: to the image's right).
    pub offset_x: f32,
    /// Vertical offset, in guide semi-axes (> 0: downwards).
    pub offset_y: f32,
    /// `√(offset_x² + offset_y²)`: ≤ 1 when the face centre is inside the guide.
    pub offset: f32,
    /// Fraction (0–1) of the 36 face-oval points inside the guide oval: 1 when the whole
    /// face outline is inside.
    pub inside_guide_fraction: f32,
    /// Fraction (0–1) of the face-oval points inside the frame: < 1 when the face is cut by
    /// the frame edge.
    pub in_frame_fraction: f32,
}

/// Light on the face and around it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LightQuality {
    /// Mean luma of the face region (the shrunk face-oval polygon), 0–255. Well exposed
    /// faces read ≈ 90–180.
    pub face_luma: f32,
    /// Fraction (0–1) of face pixels at or below [`QualityConfig::dark_clip_luma`].
    pub dark_clipped_fraction: f32,
    /// Fraction (0–1) of face pixels at or above [`QualityConfig::bright_clip_luma`].
    pub bright_clipped_fraction: f32,
    /// Mean luma of the background (the frame outside the face and its hair, not below the
    /// chin), 0–255; `None` when the face fills the frame.
    pub background_luma: Option<f32>,
    /// `background_luma − face_luma`, luma levels (−255–255): large and positive under
    /// backlight.
    pub backlight_difference: Option<f32>,
    /// `(background_luma + 1) / (face_luma + 1)` (> 0): ≈ 1–1.6 for a face before an evenly
    /// lit white wall (skin reflects ≈ 35 %, white paint ≈ 80 %), ≥ 2 with a window or sky
    /// behind the head.
    pub backlight_ratio: Option<f32>,
    /// Signed luma imbalance between the two face halves split along the nose line
    /// (forehead–nose tip–chin, in the face's own frame): `(L − R) / (L + R)` with L and R
    /// the mean luma of the half on the image's left and right, −1–1. 0 is even light;
    /// ±0.35 means one half is about half as bright as the other (side light).
    pub half_imbalance: f32,
}

/// What the image says about one eye.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EyeRegion {
    /// Eye aspect ratio from the landmarks, `(|p2−p6| + |p3−p5|) / (2 |p1−p4|)` (lid
    /// distances over eye width): ≈ 0.25–0.35 open, < 0.15 closed, ≈ 0.2 for narrow elderly
    /// eyes. `None` without landmarks. FaceMesh keeps predicting plausible lids behind
    /// sunglasses, so this is **not** an occlusion cue; it is reported for blink checks.
    pub openness: Option<f32>,
    /// Mean luma of the eye region (a box of ±0.3 × ±0.15 IOD around the eye centre) over
    /// the mean luma of the same face half (> 0). Uncovered eyes read median ≈ 0.7 and
    /// never below 0.33 over the ≈ 280 calibration photos (the socket is shaded, iris and
    /// lashes are dark; deep-set eyes and clear glasses are the low end); dark sunglasses
    /// read ≈ 0.2. A hat-brim shadow or dark hair over the eye lowers it too, by how much
    /// depends on the shadow (not calibrated). The same-half reference cancels side light.
    pub luma_ratio: f32,
    /// Standard deviation of luma in the eye region over the mean luma of the same face half
    /// (≥ 0): the eye's own structure (white sclera, dark iris, lid crease) gives ≈ 0.1–0.45
    /// on real photos; a uniform dark lens gives less (≈ 0.07–0.1), but so do blur and
    /// small faces, so it is reported, not used for guidance.
    pub contrast: f32,
}

/// Eye visibility cues for both eyes ("right"/"left" are the subject's own sides).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EyeQuality {
    /// The subject's right eye (FaceMesh 33/133).
    pub right: EyeRegion,
    /// The subject's left eye (FaceMesh 263/362).
    pub left: EyeRegion,
}

impl EyeQuality {
    /// The lower of the two eyes' luma ratios (the more covered eye).
    pub fn min_luma_ratio(&self) -> f32 {
        self.right.luma_ratio.min(self.left.luma_ratio)
    }
}

/// Mouth visibility cues (mask).
///
/// Heuristic: the mouth region (lips ± 0.12 IOD, corners ± 0.1 IOD) is compared with the
/// skin in a band at eye level (±0.2 IOD around the eye line, eyes excluded), which a mask
/// does not reach. A mask changes the colour (white, blue, black fabric is far from skin
/// chroma) or the brightness of the mouth region. A beige mask is not seen; a full grey or
/// white beard can look like a white mask, and a dark beard like a dark one: that is why
/// the thresholds in [`crate::capture::guidance`] are lenient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MouthQuality {
    /// Distance in the (Cb, Cr) plane between the mean chroma of the mouth region and of the
    /// eye-level skin, chroma levels (0–≈180). Calibration: uncovered mouths 2–37 (lipstick
    /// at the top), white masks ≈ 12–14, so this alone does not separate them; reported
    /// for completeness.
    pub chroma_distance: f32,
    /// Mean `Cr` (redness) of the mouth region minus that of the eye-level skin, chroma
    /// levels. Lips are redder than skin: uncovered mouths read −7 to +37 over the
    /// calibration photos (dark lips at the bottom, lipstick at the top); fabric is less red
    /// than skin: white masks ≈ −8 to −12, a blue surgical mask ≈ −40 (synthetic), a black
    /// one ≈ −20. Grayscale images read 0.
    pub redness_difference: f32,
    /// Mean luma of the mouth region over the eye-level skin's (> 0). Calibration:
    /// uncovered 0.35–1.54 (a dark moustache at the bottom), white masks 1.57–2.2.
    pub luma_ratio: f32,
}

/// Face motion between frames, normalised by face size and per second of wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Motion {
    /// Speed of the face centre, face heights per second (≥ 0). Hand tremor reads < 0.1;
    /// at 0.5 a 30 fps frame smears by ≈ 1.7 % of the face.
    pub translation_per_s: f32,
    /// Rate of change of face size, `|ln(size now / size before)|` per second (≥ 0):
    /// ≈ 0.3 when the phone moves 10 cm in a second at 35 cm.
    pub scale_change_per_s: f32,
    /// Time span the estimate covers.
    pub span: Duration,
}

/// All measurements of the primary face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceQuality {
    /// Index of this face in the `faces` slice given to [`measure`].
    pub index: usize,
    /// Where the geometry came from.
    pub geometry: GeometrySource,
    /// Size and distance.
    pub size: FaceSize,
    /// Position relative to the guide oval.
    pub centring: Centring,
    /// Head pose, copied from the analyzer (degrees; NaN stays NaN).
    pub pose: HeadPose,
    /// Light measurements; `None` when too little of the face is inside the image.
    pub light: Option<LightQuality>,
    /// Focus: normalised Laplacian energy of the face chip (≥ 0, higher is sharper);
    /// `None` when too little of the face is inside the image.
    ///
    /// Defined as `std(∇²Y) / std(Y)` over the inner face region of the chip (fixed
    /// 40 samples per IOD), with `∇²` the 4-neighbour Laplacian. Both numerator and
    /// denominator scale with exposure gain and ignore offsets, so the value describes how
    /// much of the face's contrast sits at fine scale, whatever the brightness and the face
    /// size in pixels. Calibration on ≈ 280 real photos (FaceMesh landmarks): sharp photos
    /// read median ≈ 0.7, 5th percentile ≈ 0.33 (old scanned 320×243 portraits 0.2–0.3);
    /// the same photos blurred with a Gaussian of σ = 3 px per 200 px of face height
    /// (σ ≈ 1.6 chip samples) read median ≈ 0.12, 95th percentile ≈ 0.17, max ≈ 0.23.
    pub sharpness: Option<f32>,
    /// Eye visibility; `None` when an eye region is outside the image.
    pub eyes: Option<EyeQuality>,
    /// Mouth visibility; `None` when the region is outside the image.
    pub mouth: Option<MouthQuality>,
    /// Motion since an earlier frame; `None` on the first frame with this face, after a
    /// gap, or when no [`MotionTracker`] history exists.
    pub motion: Option<Motion>,
}

/// Everything measured in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityMeasurements {
    /// Faces with usable geometry (finite landmarks or box).
    pub face_count: usize,
    /// Faces at least [`QualityConfig::secondary_face_min_relative_size`] the primary's
    /// size, the primary included (0 when there is no face).
    pub significant_face_count: usize,
    /// The largest face (by face-oval area), measured.
    pub primary: Option<FaceQuality>,
}

/// Keeps the recent positions of the primary face to measure its motion.
///
/// Hold one per capture session; [`measure`] updates it. Timing uses the frame timestamps
/// only, so irregular frame rates give the same speeds.
#[derive(Debug, Clone, Default)]
pub struct MotionTracker {
    history: VecDeque<MotionSample>,
}

#[derive(Debug, Clone, Copy)]
struct MotionSample {
    at: Duration,
    center: Point,
    size: f32,
}

impl MotionTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the history (the next frame has no motion estimate).
    pub fn reset(&mut self) {
        self.history.clear();
    }

    /// Records the face at `at` and returns its motion over about the configured window.
    fn observe(
        &mut self,
        at: Duration,
        center: Point,
        size: f32,
        cfg: &QualityConfig,
    ) -> Option<Motion> {
        if let Some(last) = self.history.back() {
            if at < last.at || at.saturating_sub(last.at) > cfg.motion_max_gap {
                self.history.clear();
            }
        }
        if !(size > 0.0 && center.x.is_finite() && center.y.is_finite()) {
            self.history.clear();
            return None;
        }
        self.history.push_back(MotionSample { at, center, size });
        self.drop_old_samples(at, cfg.motion_window);
        let first = *self.history.front()?;
        let span = at.saturating_sub(first.at);
        let seconds = span.as_secs_f32();
        if seconds <= 0.0 {
            return None;
        }
        let mean_size = 0.5 * (first.size + size);
        Some(Motion {
            translation_per_s: center.distance(first.center) / mean_size / seconds,
            scale_change_per_s: (size / first.size).ln().abs() / seconds,
            span,
        })
    }

    /// Keeps the newest sample at least `window` old (the reference) and everything after it.
    fn drop_old_samples(&mut self, now: Duration, window: Duration) {
        while self.history.len() > MAX_MOTION_HISTORY
            || (self.history.len() > 1
                && now
                    .checked_sub(window)
                    .is_some_and(|cutoff| self.history[1].at <= cutoff))
        {
            self.history.pop_front();
        }
    }
}

/// Measures the faces in one upright frame.
///
/// `faces` is what the analyzer found; the primary face is the largest one (face-oval area).
/// `motion` keeps the history used for [`FaceQuality::motion`] (it is reset when there is no
/// face); `timestamp` is the frame's wall-clock time since the session started.
pub fn measure(
    image: &RgbImage,
    faces: &[FaceObservation],
    motion: &mut MotionTracker,
    timestamp: Duration,
    cfg: &QualityConfig,
) -> QualityMeasurements {
    let _span = tracing::trace_span!("quality_measure", faces = faces.len()).entered();
    let geometries: Vec<(usize, FaceGeometry)> = faces
        .iter()
        .enumerate()
        .filter_map(|(i, f)| FaceGeometry::from_observation(f).map(|g| (i, g)))
        .collect();
    let primary = geometries
        .iter()
        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()));
    let significant_face_count = primary.map_or(0, |(_, p)| {
        let min_size = cfg.secondary_face_min_relative_size * p.area().sqrt();
        geometries
            .iter()
            .filter(|(_, g)| g.area().sqrt() >= min_size)
            .count()
    });
    let primary = match primary {
        Some((index, geometry)) if image.width() > 0 && image.height() > 0 => {
            measure_face(image, *index, geometry, &faces[*index], cfg)
        }
        _ => None,
    };
    let primary = primary.map(|mut q| {
        let size = face_motion_size(&q);
        q.motion = motion.observe(timestamp, q.centring.face_center, size, cfg);
        q
    });
    if primary.is_none() {
        motion.reset();
    }
    QualityMeasurements {
        face_count: geometries.len(),
        significant_face_count,
        primary,
    }
}

/// Face height in pixels, the unit of [`Motion::translation_per_s`].
fn face_motion_size(q: &FaceQuality) -> f32 {
    q.size.face_height_px
}

/// Measures one face whose geometry is known.
fn measure_face(
    image: &RgbImage,
    index: usize,
    g: &FaceGeometry,
    obs: &FaceObservation,
    cfg: &QualityConfig,
) -> Option<FaceQuality> {
    let frame = FaceFrame::new(g)?;
    let size = face_size(image, g, &obs.pose, cfg);
    let centring = centring(image, g, &cfg.guide);
    let chip = FaceSamples::sample(image, g, &frame, cfg);
    let light = chip
        .as_ref()
        .and_then(|c| light_quality(c, image, &frame, cfg));
    let sharpness = chip.as_ref().and_then(sharpness);
    let eyes = chip.as_ref().and_then(|c| eye_quality(c, g, &frame));
    let mouth = chip.as_ref().and_then(|c| mouth_quality(c, g, &frame));
    Some(FaceQuality {
        index,
        geometry: g.source,
        size,
        centring,
        pose: obs.pose,
        light,
        sharpness,
        eyes,
        mouth,
        motion: None,
    })
}

/// Size, distance estimate and band.
fn face_size(image: &RgbImage, g: &FaceGeometry, pose: &HeadPose, cfg: &QualityConfig) -> FaceSize {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let iod = g.interocular();
    let yaw = pose.yaw.to_radians();
    let frontal_iod = if yaw.is_finite() && yaw.abs() < 60f32.to_radians() {
        iod / yaw.cos()
    } else {
        iod
    };
    let half_fov = (cfg.camera_fov_long_side_deg.clamp(10.0, 170.0) / 2.0).to_radians();
    let focal_px = (w.max(h) / 2.0) / half_fov.tan();
    let distance_cm = focal_px * cfg.interpupillary_distance_cm / frontal_iod;
    let band = if distance_cm < cfg.near_limit_cm {
        DistanceBand::TooClose
    } else if distance_cm > cfg.far_limit_cm {
        DistanceBand::TooFar
    } else {
        DistanceBand::Ok
    };
    FaceSize {
        interocular_px: iod,
        interocular_fraction: iod / w,
        face_height_px: g.forehead.distance(g.chin),
        face_height_fraction: g.forehead.distance(g.chin) / h,
        distance_cm,
        band,
    }
}

/// Position of the face relative to the guide oval.
fn centring(image: &RgbImage, g: &FaceGeometry, guide: &GuideOval) -> Centring {
    let (w, h) = (image.width(), image.height());
    let center = g.oval_center();
    let (offset_x, offset_y) = guide.normalized_offset(center, w, h);
    let n = g.oval.len().max(1) as f32;
    let inside = g.oval.iter().filter(|p| guide.contains(**p, w, h)).count() as f32;
    let in_frame = g
        .oval
        .iter()
        .filter(|p| p.x >= 0.0 && p.y >= 0.0 && p.x <= w as f32 && p.y <= h as f32)
        .count() as f32;
    Centring {
        face_center: center,
        offset_x,
        offset_y,
        offset: (offset_x * offset_x + offset_y * offset_y).sqrt(),
        inside_guide_fraction: inside / n,
        in_frame_fraction: in_frame / n,
    }
}

// ---------------------------------------------------------------------------------------
// Face geometry
// ---------------------------------------------------------------------------------------

/// The points of one face this module needs, all finite.
#[derive(Debug, Clone)]
struct FaceGeometry {
    source: GeometrySource,
    oval: Vec<Point>,
    right_eye: Point,
    left_eye: Point,
    right_eye_contour: Option<[Point; 6]>,
    left_eye_contour: Option<[Point; 6]>,
    nose_tip: Point,
    forehead: Point,
    chin: Point,
    mouth_right: Point,
    mouth_left: Point,
    upper_lip: Point,
    lower_lip: Point,
}

impl FaceGeometry {
    /// Landmarks when usable, else the detector box and keypoints.
    fn from_observation(obs: &FaceObservation) -> Option<Self> {
        Self::from_landmarks(&obs.landmarks.points)
            .or_else(|| Self::from_detection(&obs.detection))
            .filter(|g| g.interocular() >= 2.0 && g.area() > 0.0)
    }

    fn from_landmarks(points: &[[f32; 3]]) -> Option<Self> {
        if points.len() < LANDMARK_COUNT {
            return None;
        }
        let at = |i: usize| -> Option<Point> {
            let p = points.get(i)?;
            (p[0].is_finite() && p[1].is_finite()).then(|| Point::new(p[0], p[1]))
        };
        let contour = |idx: [usize; 6]| -> Option<[Point; 6]> {
            let mut out = [Point::default(); 6];
            for (o, i) in out.iter_mut().zip(idx) {
                *o = at(i)?;
            }
            Some(out)
        };
        let right = contour(mesh::RIGHT_EYE)?;
        let left = contour(mesh::LEFT_EYE)?;
        Some(Self {
            source: GeometrySource::Landmarks,
            oval: mesh::FACE_OVAL
                .iter()
                .map(|&i| at(i))
                .collect::<Option<Vec<_>>>()?,
            right_eye: midpoint(right[0], right[3]),
            left_eye: midpoint(left[0], left[3]),
            right_eye_contour: Some(right),
            left_eye_contour: Some(left),
            nose_tip: at(mesh::NOSE_TIP)?,
            forehead: at(mesh::FOREHEAD)?,
            chin: at(mesh::CHIN)?,
            mouth_right: at(mesh::MOUTH_RIGHT)?,
            mouth_left: at(mesh::MOUTH_LEFT)?,
            upper_lip: at(mesh::UPPER_LIP)?,
            lower_lip: at(mesh::LOWER_LIP)?,
        })
    }

    /// Geometry from the detector: the oval is the ellipse inscribed in the box, the mouth
    /// corners and lips are placed around the mouth keypoint with adult proportions.
    fn from_detection(d: &Detection) -> Option<Self> {
        let b = d.bbox;
        let finite = [b.x, b.y, b.width, b.height].iter().all(|v| v.is_finite())
            && d.keypoints
                .iter()
                .all(|p| p.x.is_finite() && p.y.is_finite());
        if !finite || b.width <= 1.0 || b.height <= 1.0 {
            return None;
        }
        let right_eye = d.keypoint(Keypoint::RightEye);
        let left_eye = d.keypoint(Keypoint::LeftEye);
        let mouth = d.keypoint(Keypoint::MouthCenter);
        let iod = right_eye.distance(left_eye);
        if iod < 1.0 {
            return None;
        }
        let ex = (
            (left_eye.x - right_eye.x) / iod,
            (left_eye.y - right_eye.y) / iod,
        );
        let ey = (-ex.1, ex.0);
        let along = |p: Point, a: f32, b: f32| {
            Point::new(
                p.x + iod * (a * ex.0 + b * ey.0),
                p.y + iod * (a * ex.1 + b * ey.1),
            )
        };
        let c = b.center();
        let oval: Vec<Point> = (0..36)
            .map(|k| {
                let t = k as f32 / 36.0 * std::f32::consts::TAU;
                Point::new(
                    c.x + 0.5 * b.width * t.sin(),
                    c.y - 0.5 * b.height * t.cos(),
                )
            })
            .collect();
        Some(Self {
            source: GeometrySource::DetectionBox,
            oval,
            right_eye,
            left_eye,
            right_eye_contour: None,
            left_eye_contour: None,
            nose_tip: d.keypoint(Keypoint::NoseTip),
            forehead: Point::new(c.x, b.y),
            chin: Point::new(c.x, b.bottom()),
            mouth_right: along(mouth, -0.4, 0.0),
            mouth_left: along(mouth, 0.4, 0.0),
            upper_lip: along(mouth, 0.0, -0.06),
            lower_lip: along(mouth, 0.0, 0.06),
        })
    }

    /// Distance between the eye centres, pixels.
    fn interocular(&self) -> f32 {
        self.right_eye.distance(self.left_eye)
    }

    /// Area of the face-oval polygon, square pixels (0 for a degenerate polygon).
    fn area(&self) -> f32 {
        let a = polygon_area(&self.oval);
        if a.is_finite() {
            a
        } else {
            0.0
        }
    }

    /// Mean of the face-oval points.
    fn oval_center(&self) -> Point {
        let n = self.oval.len().max(1) as f32;
        let (sx, sy) = self
            .oval
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p.x, sy + p.y));
        Point::new(sx / n, sy / n)
    }
}

fn midpoint(a: Point, b: Point) -> Point {
    Point::new(0.5 * (a.x + b.x), 0.5 * (a.y + b.y))
}

/// Absolute shoelace area.
fn polygon_area(points: &[Point]) -> f32 {
    let n = points.len();
    let twice: f32 = (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum();
    0.5 * twice.abs()
}

/// The face's own upright frame: origin between the eyes, `ex` along the eye line (image
/// right for an upright face), `ey` towards the chin; unit = inter-ocular distance.
#[derive(Debug, Clone, Copy)]
struct FaceFrame {
    origin: Point,
    ex: (f32, f32),
    ey: (f32, f32),
    unit: f32,
}

impl FaceFrame {
    fn new(g: &FaceGeometry) -> Option<Self> {
        let unit = g.interocular();
        if !(unit.is_finite() && unit > 0.0) {
            return None;
        }
        let origin = midpoint(g.right_eye, g.left_eye);
        let mut ex = (
            (g.left_eye.x - g.right_eye.x) / unit,
            (g.left_eye.y - g.right_eye.y) / unit,
        );
        let down = (g.chin.x - origin.x, g.chin.y - origin.y);
        // ey = ex rotated +90° (clockwise on screen); flip both if that points away from the
        // chin, so the frame is never mirrored with respect to the image.
        if -ex.1 * down.0 + ex.0 * down.1 < 0.0 {
            ex = (-ex.0, -ex.1);
        }
        Some(Self {
            origin,
            ex,
            ey: (-ex.1, ex.0),
            unit,
        })
    }

    /// Image point → face coordinates (IOD units).
    fn to_face(self, p: Point) -> (f32, f32) {
        let (dx, dy) = (p.x - self.origin.x, p.y - self.origin.y);
        (
            (dx * self.ex.0 + dy * self.ex.1) / self.unit,
            (dx * self.ey.0 + dy * self.ey.1) / self.unit,
        )
    }

    /// Face coordinates → image point.
    fn to_image(self, u: f32, v: f32) -> Point {
        Point::new(
            self.origin.x + self.unit * (u * self.ex.0 + v * self.ey.0),
            self.origin.y + self.unit * (u * self.ex.1 + v * self.ey.1),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Face chip
// ---------------------------------------------------------------------------------------

/// A rectangle in face coordinates (IOD units).
#[derive(Debug, Clone, Copy)]
struct FaceRect {
    u0: f32,
    v0: f32,
    u1: f32,
    v1: f32,
}

impl FaceRect {
    fn around(u: f32, v: f32, half_u: f32, half_v: f32) -> Self {
        Self {
            u0: u - half_u,
            v0: v - half_v,
            u1: u + half_u,
            v1: v + half_v,
        }
    }
}

/// The face resampled into its own frame: luma and chroma per sample (NaN outside the
/// image), and the face-region mask.
#[derive(Debug)]
struct FaceSamples {
    width: usize,
    height: usize,
    /// Face coordinates of the chip's top-left corner.
    u0: f32,
    v0: f32,
    /// Samples per IOD.
    scale: f32,
    luma: Vec<f32>,
    cb: Vec<f32>,
    cr: Vec<f32>,
    /// Inside the shrunk face oval.
    mask: Vec<bool>,
    /// Per row: chip x of the nose line (forehead – nose tip – chin).
    midline: Vec<f32>,
    /// Extent of the face oval in face coordinates.
    oval_extent: FaceRect,
}

impl FaceSamples {
    fn sample(
        image: &RgbImage,
        g: &FaceGeometry,
        frame: &FaceFrame,
        cfg: &QualityConfig,
    ) -> Option<Self> {
        let oval: Vec<(f32, f32)> = g.oval.iter().map(|p| frame.to_face(*p)).collect();
        let extent = extent_of(&oval)?;
        let (span_u, span_v) = (extent.u1 - extent.u0, extent.v1 - extent.v0);
        let scale = cfg
            .chip_pixels_per_iod
            .min(MAX_CHIP_SIDE / span_u)
            .min(MAX_CHIP_SIDE / span_v);
        if !(scale.is_finite() && scale >= 4.0) {
            return None;
        }
        let width = (span_u * scale).ceil() as usize;
        let height = (span_v * scale).ceil() as usize;
        let mut chip = Self {
            width,
            height,
            u0: extent.u0,
            v0: extent.v0,
            scale,
            luma: vec![f32::NAN; width * height],
            cb: vec![f32::NAN; width * height],
            cr: vec![f32::NAN; width * height],
            mask: vec![false; width * height],
            midline: vec![0.0; height],
            oval_extent: extent,
        };
        chip.resample(image, frame);
        chip.fill_mask(&oval, cfg.face_mask_shrink.clamp(0.1, 1.0));
        chip.fill_midline(&[
            frame.to_face(g.forehead),
            frame.to_face(g.nose_tip),
            frame.to_face(g.chin),
        ]);
        Some(chip)
    }

    /// Chip coordinates (samples) of a face point.
    fn to_chip(&self, u: f32, v: f32) -> (f32, f32) {
        ((u - self.u0) * self.scale, (v - self.v0) * self.scale)
    }

    /// Bilinear resampling of the image into the chip.
    fn resample(&mut self, image: &RgbImage, frame: &FaceFrame) {
        let step = 1.0 / self.scale;
        for j in 0..self.height {
            let v = self.v0 + (j as f32 + 0.5) * step;
            for i in 0..self.width {
                let u = self.u0 + (i as f32 + 0.5) * step;
                let p = frame.to_image(u, v);
                if let Some([r, g, b]) = bilinear_rgb(image, p) {
                    let k = j * self.width + i;
                    self.luma[k] = 0.299 * r + 0.587 * g + 0.114 * b;
                    self.cb[k] = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
                    self.cr[k] = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
                }
            }
        }
    }

    /// Scan-line fill of the oval polygon, shrunk towards its centre.
    fn fill_mask(&mut self, oval: &[(f32, f32)], shrink: f32) {
        let n = oval.len() as f32;
        let (cu, cv) = oval
            .iter()
            .fold((0.0, 0.0), |(a, b), (u, v)| (a + u / n, b + v / n));
        let poly: Vec<(f32, f32)> = oval
            .iter()
            .map(|&(u, v)| self.to_chip(cu + shrink * (u - cu), cv + shrink * (v - cv)))
            .collect();
        let mut crossings = Vec::with_capacity(8);
        for j in 0..self.height {
            let y = j as f32 + 0.5;
            crossings.clear();
            for k in 0..poly.len() {
                let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
                if (a.1 <= y) != (b.1 <= y) {
                    crossings.push(a.0 + (y - a.1) / (b.1 - a.1) * (b.0 - a.0));
                }
            }
            crossings.sort_by(f32::total_cmp);
            for pair in crossings.chunks_exact(2) {
                let i0 = (pair[0] - 0.5).ceil().max(0.0) as usize;
                let i1 = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, self.width as f32) as usize;
                for i in i0..i1 {
                    self.mask[j * self.width + i] = true;
                }
            }
        }
    }

    /// Piecewise-linear nose line through the given face points (sorted by v).
    fn fill_midline(&mut self, points: &[(f32, f32)]) {
        let mut pts: Vec<(f32, f32)> = points.iter().map(|&(u, v)| self.to_chip(u, v)).collect();
        pts.sort_by(|a, b| a.1.total_cmp(&b.1));
        for j in 0..self.height {
            let y = j as f32 + 0.5;
            self.midline[j] = interpolate_x(&pts, y);
        }
    }

    /// Chip index ranges covered by a face rectangle (clipped to the chip).
    fn index_ranges(&self, r: FaceRect) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (x0, y0) = self.to_chip(r.u0, r.v0);
        let (x1, y1) = self.to_chip(r.u1, r.v1);
        let clip = |a: f32, max: usize| a.round().clamp(0.0, max as f32) as usize;
        (
            clip(x0, self.width)..clip(x1, self.width),
            clip(y0, self.height)..clip(y1, self.height),
        )
    }

    /// Luma statistics over a rectangle (image samples only).
    fn rect_stats(&self, r: FaceRect) -> Stats {
        let (xs, ys) = self.index_ranges(r);
        let mut s = Stats::default();
        for j in ys {
            for i in xs.clone() {
                s.add(self.luma[j * self.width + i]);
            }
        }
        s
    }
}

/// Bounding rectangle of face points (None when empty or not finite).
fn extent_of(points: &[(f32, f32)]) -> Option<FaceRect> {
    let mut r = FaceRect {
        u0: f32::INFINITY,
        v0: f32::INFINITY,
        u1: f32::NEG_INFINITY,
        v1: f32::NEG_INFINITY,
    };
    for &(u, v) in points {
        r.u0 = r.u0.min(u);
        r.v0 = r.v0.min(v);
        r.u1 = r.u1.max(u);
        r.v1 = r.v1.max(v);
    }
    let ok = [r.u0, r.v0, r.u1, r.v1].iter().all(|x| x.is_finite())
        && r.u1 - r.u0 > 0.0
        && r.v1 - r.v0 > 0.0;
    ok.then_some(r)
}

/// x on the polyline `pts` (sorted by y) at height `y`, clamped at the ends.
fn interpolate_x(pts: &[(f32, f32)], y: f32) -> f32 {
    match pts {
        [] => 0.0,
        [only] => only.0,
        _ => {
            let (first, last) = (pts[0], pts[pts.len() - 1]);
            if y <= first.1 {
                return first.0;
            }
            if y >= last.1 {
                return last.0;
            }
            for w in pts.windows(2) {
                let (a, b) = (w[0], w[1]);
                if y <= b.1 {
                    let t = if b.1 > a.1 {
                        (y - a.1) / (b.1 - a.1)
                    } else {
                        0.0
                    };
                    return a.0 + t * (b.0 - a.0);
                }
            }
            last.0
        }
    }
}

/// RGB at a sub-pixel position (pixel centres at +0.5), or None outside the image.
fn bilinear_rgb(image: &RgbImage, p: Point) -> Option<[f32; 3]> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (fx, fy) = (p.x - 0.5, p.y - 0.5);
    if !(fx >= -0.5 && fy >= -0.5 && fx <= w as f32 - 0.5 && fy <= h as f32 - 0.5) {
        return None;
    }
    // Non-negative after the clamp, so truncation is floor (and avoids a libm call).
    let fx = fx.clamp(0.0, (w - 1) as f32);
    let fy = fy.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (fx as usize, fy as usize);
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let dx = if x0 + 1 < w { 3 } else { 0 };
    let dy = if y0 + 1 < h { 3 * w } else { 0 };
    let raw: &[u8] = image.as_raw();
    let i = 3 * (y0 * w + x0);
    let px = |k: usize| -> [f32; 3] {
        match raw.get(k..k + 3) {
            Some(s) => [s[0] as f32, s[1] as f32, s[2] as f32],
            None => [0.0; 3],
        }
    };
    let (a, b, c, d) = (px(i), px(i + dx), px(i + dy), px(i + dy + dx));
    let mut out = [0.0; 3];
    for (ch, o) in out.iter_mut().enumerate() {
        let top = a[ch] + tx * (b[ch] - a[ch]);
        let bottom = c[ch] + tx * (d[ch] - c[ch]);
        *o = top + ty * (bottom - top);
    }
    Some(out)
}

/// Running mean and variance.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    n: u32,
    sum: f64,
    sum_sq: f64,
}

impl Stats {
    /// Adds a sample; NaN (outside the image) is skipped.
    fn add(&mut self, x: f32) {
        if x.is_finite() {
            self.n += 1;
            self.sum += x as f64;
            self.sum_sq += (x as f64) * (x as f64);
        }
    }

    fn enough(&self) -> bool {
        self.n >= MIN_REGION_SAMPLES
    }

    fn mean(&self) -> f32 {
        if self.n == 0 {
            f32::NAN
        } else {
            (self.sum / self.n as f64) as f32
        }
    }

    fn std(&self) -> f32 {
        if self.n == 0 {
            return f32::NAN;
        }
        let m = self.sum / self.n as f64;
        ((self.sum_sq / self.n as f64 - m * m).max(0.0)).sqrt() as f32
    }
}

// ---------------------------------------------------------------------------------------
// Light
// ---------------------------------------------------------------------------------------

/// Face brightness, clipping, halves and background.
fn light_quality(
    chip: &FaceSamples,
    image: &RgbImage,
    frame: &FaceFrame,
    cfg: &QualityConfig,
) -> Option<LightQuality> {
    let mut face = Stats::default();
    let (mut left, mut right) = (Stats::default(), Stats::default());
    let (mut dark, mut bright) = (0u32, 0u32);
    for j in 0..chip.height {
        let mid = chip.midline[j];
        for i in 0..chip.width {
            let k = j * chip.width + i;
            let y = chip.luma[k];
            if !chip.mask[k] || !y.is_finite() {
                continue;
            }
            face.add(y);
            dark += u32::from(y <= cfg.dark_clip_luma);
            bright += u32::from(y >= cfg.bright_clip_luma);
            if (i as f32 + 0.5) < mid {
                left.add(y);
            } else {
                right.add(y);
            }
        }
    }
    if !face.enough() {
        return None;
    }
    let face_luma = face.mean();
    let n = face.n as f32;
    let half_imbalance = if left.enough() && right.enough() {
        let (l, r) = (left.mean(), right.mean());
        (l - r) / (l + r).max(1.0)
    } else {
        0.0
    };
    let background_luma = background_luma(image, frame, chip.oval_extent, cfg);
    Some(LightQuality {
        face_luma,
        dark_clipped_fraction: dark as f32 / n,
        bright_clipped_fraction: bright as f32 / n,
        background_luma,
        backlight_difference: background_luma.map(|b| b - face_luma),
        backlight_ratio: background_luma.map(|b| (b + 1.0) / (face_luma + 1.0)),
        half_imbalance,
    })
}

/// Mean luma of a coarse grid over the frame, outside the face (scaled ellipse around the
/// oval) and not below the chin.
fn background_luma(
    image: &RgbImage,
    frame: &FaceFrame,
    oval: FaceRect,
    cfg: &QualityConfig,
) -> Option<f32> {
    let (w, h) = (image.width(), image.height());
    let step = (w.max(h) / 48).max(1);
    let (cu, cv) = (0.5 * (oval.u0 + oval.u1), 0.5 * (oval.v0 + oval.v1));
    let scale = cfg.background_exclusion_scale.max(1.0);
    let (au, av) = (
        0.5 * (oval.u1 - oval.u0) * scale,
        0.5 * (oval.v1 - oval.v0) * scale,
    );
    let mut s = Stats::default();
    for y in (step / 2..h).step_by(step as usize) {
        for x in (step / 2..w).step_by(step as usize) {
            let (u, v) = frame.to_face(Point::new(x as f32 + 0.5, y as f32 + 0.5));
            let inside = ((u - cu) / au).powi(2) + ((v - cv) / av).powi(2) <= 1.0;
            if inside || v > oval.v1 {
                continue;
            }
            let [r, g, b] = image.get_pixel(x, y).0;
            s.add(0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32);
        }
    }
    (s.n >= MIN_BACKGROUND_SAMPLES).then(|| s.mean())
}

// ---------------------------------------------------------------------------------------
// Sharpness
// ---------------------------------------------------------------------------------------

/// `std(Laplacian) / std(luma)` over chip samples whose 4 neighbours are all in the face
/// region.
fn sharpness(chip: &FaceSamples) -> Option<f32> {
    let (w, h) = (chip.width, chip.height);
    if w < 3 || h < 3 {
        return None;
    }
    let inside = |k: usize| chip.mask[k] && chip.luma[k].is_finite();
    let mut lap = Stats::default();
    let mut luma = Stats::default();
    for j in 1..h - 1 {
        for i in 1..w - 1 {
            let k = j * w + i;
            let ks = [k, k - 1, k + 1, k - w, k + w];
            if !ks.iter().all(|&q| inside(q)) {
                continue;
            }
            let c = chip.luma[k];
            lap.add(
                4.0 * c - chip.luma[k - 1] - chip.luma[k + 1] - chip.luma[k - w] - chip.luma[k + w],
            );
            luma.add(c);
        }
    }
    if !lap.enough() {
        return None;
    }
    Some(lap.std() / luma.std().max(1.0))
}

// ---------------------------------------------------------------------------------------
// Occlusion
// ---------------------------------------------------------------------------------------

/// Eye region half-size, IOD units.
const EYE_HALF_WIDTH: f32 = 0.3;
const EYE_HALF_HEIGHT: f32 = 0.15;

fn eye_quality(chip: &FaceSamples, g: &FaceGeometry, frame: &FaceFrame) -> Option<EyeQuality> {
    let (left_half, right_half) = half_means(chip)?;
    let eye = |center: Point, contour: Option<[Point; 6]>| -> Option<EyeRegion> {
        let (u, v) = frame.to_face(center);
        let stats = chip.rect_stats(FaceRect::around(u, v, EYE_HALF_WIDTH, EYE_HALF_HEIGHT));
        if !stats.enough() {
            return None;
        }
        let (cx, cy) = chip.to_chip(u, v);
        let row = (cy.max(0.0) as usize).min(chip.height - 1);
        let reference = if cx < chip.midline[row] {
            left_half
        } else {
            right_half
        }
        .max(1.0);
        Some(EyeRegion {
            openness: contour.and_then(eye_aspect_ratio),
            luma_ratio: stats.mean() / reference,
            contrast: stats.std() / reference,
        })
    };
    Some(EyeQuality {
        right: eye(g.right_eye, g.right_eye_contour)?,
        left: eye(g.left_eye, g.left_eye_contour)?,
    })
}

/// Mean luma of the face halves on the chip's (= image's) left and right.
fn half_means(chip: &FaceSamples) -> Option<(f32, f32)> {
    let (mut left, mut right) = (Stats::default(), Stats::default());
    for j in 0..chip.height {
        for i in 0..chip.width {
            let k = j * chip.width + i;
            if !chip.mask[k] {
                continue;
            }
            if (i as f32 + 0.5) < chip.midline[j] {
                left.add(chip.luma[k]);
            } else {
                right.add(chip.luma[k]);
            }
        }
    }
    (left.enough() && right.enough()).then(|| (left.mean(), right.mean()))
}

/// `(|p2−p6| + |p3−p5|) / (2 |p1−p4|)`.
fn eye_aspect_ratio(p: [Point; 6]) -> Option<f32> {
    let width = p[0].distance(p[3]);
    let ear = (p[1].distance(p[5]) + p[2].distance(p[4])) / (2.0 * width);
    (width > 0.0 && ear.is_finite()).then_some(ear)
}

/// Mouth region versus eye-level skin.
fn mouth_quality(chip: &FaceSamples, g: &FaceGeometry, frame: &FaceFrame) -> Option<MouthQuality> {
    let pts = [g.mouth_right, g.mouth_left, g.upper_lip, g.lower_lip].map(|p| frame.to_face(p));
    let r = extent_of(&pts).or_else(|| {
        // Closed lips can make the extent flat: use the corners' line with no height.
        let (u0, u1) = (pts[0].0.min(pts[1].0), pts[0].0.max(pts[1].0));
        let v = 0.5 * (pts[2].1 + pts[3].1);
        (u1 > u0).then_some(FaceRect {
            u0,
            v0: v,
            u1,
            v1: v,
        })
    })?;
    let mouth = FaceRect {
        u0: r.u0 - 0.1,
        v0: r.v0 - 0.12,
        u1: r.u1 + 0.1,
        v1: r.v1 + 0.12,
    };
    let mouth_stats = ColourStats::over_rect(chip, mouth, |_, _| true);
    let eyes = [g.right_eye, g.left_eye].map(|p| frame.to_face(p));
    let eye_rects = eyes.map(|(u, v)| FaceRect::around(u, v, EYE_HALF_WIDTH, EYE_HALF_HEIGHT));
    let band = FaceRect {
        u0: chip.oval_extent.u0,
        v0: -0.2,
        u1: chip.oval_extent.u1,
        v1: 0.2,
    };
    let skin_stats = ColourStats::over_rect(chip, band, |u, v| {
        !eye_rects
            .iter()
            .any(|e| u >= e.u0 && u <= e.u1 && v >= e.v0 && v <= e.v1)
    });
    if !(mouth_stats.luma.enough() && skin_stats.luma.enough()) {
        return None;
    }
    let d_cb = mouth_stats.cb.mean() - skin_stats.cb.mean();
    let d_cr = mouth_stats.cr.mean() - skin_stats.cr.mean();
    Some(MouthQuality {
        chroma_distance: (d_cb * d_cb + d_cr * d_cr).sqrt(),
        redness_difference: d_cr,
        luma_ratio: mouth_stats.luma.mean() / skin_stats.luma.mean().max(1.0),
    })
}

/// Luma and chroma statistics of a chip region.
#[derive(Debug, Default)]
struct ColourStats {
    luma: Stats,
    cb: Stats,
    cr: Stats,
}

impl ColourStats {
    /// Over the masked samples of a rectangle that also pass `keep(u, v)`.
    fn over_rect(chip: &FaceSamples, r: FaceRect, keep: impl Fn(f32, f32) -> bool) -> Self {
        let (xs, ys) = chip.index_ranges(r);
        let mut s = Self::default();
        for j in ys {
            let v = chip.v0 + (j as f32 + 0.5) / chip.scale;
            for i in xs.clone() {
                let k = j * chip.width + i;
                let u = chip.u0 + (i as f32 + 0.5) / chip.scale;
                if chip.mask[k] && keep(u, v) {
                    s.luma.add(chip.luma[k]);
                    s.cb.add(chip.cb[k]);
                    s.cr.add(chip.cr[k]);
                }
            }
        }
        s
    }
}

/// Synthetic faces for tests: landmarks from a small parametric 3-D face and a rendered
/// frame, so each measurement can be moved by one physical change at a time.
#[cfg(test)]
pub(crate) mod synthetic;

#[cfg(test)]
mod tests;
