//! Per-frame visual evidence from the FaceMesh landmarks, and detectors of face actions over
//! time: blinks, head turns, nods and mouth openings, plus the continuity of the tracked face.
//!
//! # Per frame ([`VisualSample`])
//! * **Eye aspect ratio** (EAR) of each eye, the 6-point measure of Soukupová & Čech with the
//!   middle lid pair added: `(|p2−p6| + |pm−pm'| + |p3−p5|) / (3 · |p1−p4|)`, FaceMesh points
//!   33 (outer corner) / 160–144, 159–145, 158–153 (lid pairs) / 133 (inner corner) for the
//!   subject's right eye and 263 / 387–373, 386–374, 385–380 / 362 for the left eye. The
//!   distances are taken in 3-D (x, y and the landmark model's relative depth z, all in pixels):
//!   on the LivePortrait clips this removed the apparent "closure" of downcast eyes in a turned
//!   head while keeping every real blink (2-D EAR grows as the eye's width foreshortens).
//!   Open eyes read ≈ 0.25–0.37, closed eyes only ≈ 0.15–0.23: FaceMesh never closes the lids
//!   completely, so a blink is a dip of 25–55 % **relative to the person's own open-eye level**,
//!   never an absolute threshold (glasses, small or elderly eyes all have their own level).
//! * **Mouth aperture**: [`crate::face::mouth::mouth_aperture`] (inner-lip gap 13–14 over the outer
//!   eye-corner distance 33–263, in 3-D). Closed ≈ 0–0.02, speech mostly 0.05–0.2, a broad
//!   smile with teeth ≈ 0.18, a mouth opened on purpose 0.23–0.43 on the clips.
//! * **Head pose** (yaw, pitch, roll) from [`FaceObservation::pose`], the detector **box** and
//!   its **centre**.
//!
//! # Over time
//! Every detector is fed `(timestamp, Option<&VisualSample>)` per frame and works on the
//! timestamps only (wall-clock [`Duration`]s; frame counts are never used), so the same motion
//! filmed at 15 or 30 fps, or with irregular frame intervals, gives the same events. A frame
//! without a face, a timestamp gap longer than the detector's `max_gap`, or a timestamp that
//! does not increase abandons any event in progress.
//! * [`BlinkDetector`]: the open-eye baseline is a high quantile (0.8) of the mean EAR over the
//!   last 4 s (frames inside a dip excluded). A dip starts when the EAR falls below 0.85 of the
//!   baseline; it is a blink when its lowest EAR is below 0.78 of the baseline and the time
//!   the EAR stays below the midpoint between its minimum and the baseline (linearly
//!   interpolated crossings) lasts 50–500 ms. Measuring at the half-depth matters: the
//!   FaceMesh lids reopen slowly (the EAR creeps back over ≈ 300 ms after the eye is visibly
//!   open), so "back above 85 %" would stretch a 300 ms blink to 900 ms. After a blink the EAR
//!   must come back above 0.85 of the baseline before another dip can start.
//! * [`TurnDetector`]: the yaw moves at least 15° away from the start pose (the first frame
//!   after [`TurnDetector::reset`]) and comes back within 7° of it, within 5 s.
//! * [`NodDetector`]: the pitch goes at least 10° down (chin towards the chest) from the start
//!   pose and comes back within 5° of it, within 4 s.
//! * [`MouthOpenDetector`]: the aperture rises at least 0.2 above the closed-mouth baseline (a
//!   low quantile, 0.2, over the last 4 s) and stays there for 150 ms. On the clips a broad
//!   smile with teeth showing rose 0.16 above the baseline, the mouth opened on purpose
//!   0.23–0.36; GRID speech stays below 0.17, but very expressive talking (the LivePortrait
//!   talking clips) can pass 0.2, so a mouth opening is only asked for when no speech is.
//! * [`IdentityContinuity`]: consecutive face boxes must overlap (IoU ≥ 0.5) and the centre may
//!   move at most 0.25 box widths between frames; descriptor distances reported through
//!   [`IdentityContinuity::descriptor_agreement`] must stay at most 0.6.
//!
//! # Left and right
//! "Left" and "right" in events always mean the **subject's own** sides. The pose convention of
//! [`crate::face::observation::HeadPose`] is in the analysed (upright) image: yaw > 0 means the nose points
//! towards the image's right edge. In a non-mirrored image (the camera's view) the image's
//! right is the subject's left, so yaw > 0 is a turn to the subject's **left**; when the shell
//! mirrored the frame ([`crate::Frame::mirrored`], the selfie preview) the image's right is the
//! subject's right and yaw > 0 is a turn to the subject's **right**. Pass the same `mirrored`
//! flag the frames carry to [`TurnDetector::new`] / [`VisualTracker::new`]. The FaceMesh eye
//! indices likewise name the subject's sides in a non-mirrored image;
//! [`VisualSample::from_face`] swaps them for mirrored frames so that `ear_right` is always the
//! subject's right eye.
//!
//! # Calibration (LivePortrait driving clips, see `core/tests/visual_evidence.rs`)
//! Confirmed blinks dipped to 0.50–0.74 of the baseline (the shallowest, 0.73–0.74, in a clip
//! whose eyes close fully on the video); a smile-narrowing of a face with glasses reached 0.79,
//! downcast eyes in a turned head 0.74 with 2-D EAR but 0.8 or more with the 3-D EAR used here.
//! The margins are thin: a blink is weak liveness evidence on its own (every replayed video has
//! blinks); turns, nods and mouth openings in a random order are the stronger actions.

use crate::face::observation::{FaceObservation, Landmarks, LANDMARK_COUNT};
use crate::image::geometry::{Point, Rect};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// FaceMesh indices of the eye contours used for the eye aspect ratio.
pub mod mesh {
    /// Subject's right eye: outer corner, inner corner, then the (upper, lower) lid pairs from
    /// outer to inner.
    pub const RIGHT_EYE: EyeIndices = EyeIndices {
        outer: 33,
        inner: 133,
        lids: [(160, 144), (159, 145), (158, 153)],
    };
    /// Subject's left eye in the same order.
    pub const LEFT_EYE: EyeIndices = EyeIndices {
        outer: 263,
        inner: 362,
        lids: [(387, 373), (386, 374), (385, 380)],
    };

    /// The landmarks of one eye.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct EyeIndices {
        /// Outer corner.
        pub outer: usize,
        /// Inner corner.
        pub inner: usize,
        /// (upper lid, lower lid) pairs.
        pub lids: [(usize, usize); 3],
    }
}

/// Milliseconds as integers in serialized evidence (stable, human-readable numbers).
mod serde_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// 3-D distance between two landmarks.
fn dist3(p: &[[f32; 3]], a: usize, b: usize) -> f32 {
    let (a, b) = (p[a], p[b]);
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Eye aspect ratio of one eye (see the module documentation); `None` for landmarks that are
/// not the 468 FaceMesh points, not finite, or a degenerate eye.
pub fn eye_aspect_ratio(landmarks: &Landmarks, eye: &mesh::EyeIndices) -> Option<f32> {
    let p = &landmarks.points;
    if p.len() != LANDMARK_COUNT {
        return None;
    }
    let width = dist3(p, eye.outer, eye.inner);
    let height: f32 = eye.lids.iter().map(|&(u, l)| dist3(p, u, l)).sum::<f32>() / 3.0;
    let ear = height / width;
    (width.is_finite() && width > 1e-3 && ear.is_finite()).then_some(ear)
}

/// What one frame shows of the face, for the detectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VisualSample {
    /// Eye aspect ratio of the subject's right eye.
    pub ear_right: f32,
    /// Eye aspect ratio of the subject's left eye.
    pub ear_left: f32,
    /// Mouth aperture ([`crate::face::mouth::mouth_aperture`]).
    pub mouth_aperture: f32,
    /// Yaw, degrees ([`crate::face::observation::HeadPose`] convention, in the analysed image).
    pub yaw: f32,
    /// Pitch, degrees (> 0: nose up).
    pub pitch: f32,
    /// Roll, degrees.
    pub roll: f32,
    /// The detector's face box (upright-frame pixels).
    pub face_box: Rect,
    /// Centre of the face box.
    pub center: Point,
}

impl VisualSample {
    /// Measures one face. `mirrored` is the flag of the frame the face was found in (it only
    /// decides which eye is the subject's right). `None` when the landmarks are unusable.
    pub fn from_face(face: &FaceObservation, mirrored: bool) -> Option<Self> {
        let _span = tracing::trace_span!("visual_sample").entered();
        let lm = &face.landmarks;
        let right = eye_aspect_ratio(lm, &mesh::RIGHT_EYE)?;
        let left = eye_aspect_ratio(lm, &mesh::LEFT_EYE)?;
        let (ear_right, ear_left) = if mirrored {
            (left, right)
        } else {
            (right, left)
        };
        let mouth_aperture = crate::face::mouth::mouth_aperture(lm).ok()?;
        let b = face.detection.bbox;
        let pose = face.pose;
        let finite = [pose.yaw, pose.pitch, pose.roll, b.x, b.y, b.width, b.height]
            .iter()
            .all(|v| v.is_finite());
        if !finite || b.width <= 0.0 || b.height <= 0.0 {
            return None;
        }
        Some(Self {
            ear_right,
            ear_left,
            mouth_aperture,
            yaw: pose.yaw,
            pitch: pose.pitch,
            roll: pose.roll,
            face_box: b,
            center: b.center(),
        })
    }

    /// Mean eye aspect ratio of both eyes.
    pub fn ear(&self) -> f32 {
        0.5 * (self.ear_right + self.ear_left)
    }
}

/// The `q` quantile (0..=1, nearest rank) of `values`; `None` when empty.
fn quantile(values: impl Iterator<Item = f32>, q: f32) -> Option<f32> {
    let mut v: Vec<f32> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let idx = (q.clamp(0.0, 1.0) * (v.len() - 1) as f32).round() as usize;
    Some(v[idx.min(v.len() - 1)])
}

/// Time at which the segment from `(t0, v0)` to `(t1, v1)` crosses `level` (linear).
fn crossing(t0: Duration, v0: f32, t1: Duration, v1: f32, level: f32) -> Duration {
    if (v1 - v0).abs() < f32::EPSILON || t1 <= t0 {
        return t1;
    }
    let f = ((level - v0) / (v1 - v0)).clamp(0.0, 1.0);
    t0 + (t1 - t0).mul_f32(f)
}

/// Keeps the time series' ordering rules shared by the detectors: returns `true` when the
/// sample may be used, `false` (after abandoning state through `reset`) when the timestamp
/// goes back or jumps by more than `max_gap`.
fn accept_time(last: &mut Option<Duration>, t: Duration, max_gap: Duration) -> TimeStep {
    let step = match *last {
        None => TimeStep::First,
        Some(prev) if t <= prev => return TimeStep::Backwards,
        Some(prev) if t - prev > max_gap => TimeStep::Gap,
        Some(_) => TimeStep::Next,
    };
    *last = Some(t);
    step
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeStep {
    First,
    Next,
    Gap,
    Backwards,
}

// ---------------------------------------------------------------------------------------------
// Blinks

/// Settings of [`BlinkDetector`] (defaults in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlinkConfig {
    /// Window of the open-eye baseline. Default 4 s.
    pub baseline_window: Duration,
    /// Quantile of the EAR taken as the open-eye level. Default 0.8.
    pub baseline_quantile: f32,
    /// Baseline history needed before a dip can start. Default 250 ms.
    pub min_baseline_time: Duration,
    /// A dip starts (and the detector re-arms) at this fraction of the baseline. Default 0.85.
    pub enter_ratio: f32,
    /// The dip's lowest EAR must be below this fraction of the baseline. Default 0.78.
    pub close_ratio: f32,
    /// Shortest blink (half-depth width). Default 50 ms: a one-frame glitch at 30 fps is
    /// shorter.
    pub min_duration: Duration,
    /// Longest blink (half-depth width). Default 500 ms: longer is a deliberate eye closure
    /// or looking down.
    pub max_duration: Duration,
    /// Largest gap between frames inside a dip. Default 250 ms.
    pub max_gap: Duration,
}

impl Default for BlinkConfig {
    fn default() -> Self {
        Self {
            baseline_window: Duration::from_secs(4),
            baseline_quantile: 0.8,
            min_baseline_time: Duration::from_millis(250),
            enter_ratio: 0.85,
            close_ratio: 0.78,
            min_duration: Duration::from_millis(50),
            max_duration: Duration::from_millis(500),
            max_gap: Duration::from_millis(250),
        }
    }
}

/// One blink.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlinkEvent {
    /// When the EAR fell through the half-depth level (ms in serialized form).
    #[serde(with = "serde_ms", rename = "start_ms")]
    pub start: Duration,
    /// When it came back through it.
    #[serde(with = "serde_ms", rename = "end_ms")]
    pub end: Duration,
    /// Open-eye baseline (mean EAR) at the start of the dip.
    pub baseline: f32,
    /// Lowest mean EAR over the baseline.
    pub min_ratio: f32,
    /// Lowest EAR of the subject's right eye over the baseline.
    pub min_ratio_right: f32,
    /// Lowest EAR of the subject's left eye over the baseline.
    pub min_ratio_left: f32,
}

impl BlinkEvent {
    /// Half-depth duration.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

#[derive(Debug, Clone)]
struct Dip {
    baseline: f32,
    /// (time, mean, right, left), starting with the last sample before the dip.
    samples: Vec<(Duration, f32, f32, f32)>,
}

/// Detects blinks from the mean eye aspect ratio (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct BlinkDetector {
    config: BlinkConfig,
    history: VecDeque<(Duration, f32)>,
    last_t: Option<Duration>,
    prev: Option<(Duration, f32, f32, f32)>,
    dip: Option<Dip>,
    armed: bool,
}

impl BlinkDetector {
    /// A detector with `config`.
    pub fn new(config: BlinkConfig) -> Self {
        Self {
            config,
            armed: true,
            ..Self::default()
        }
    }

    /// Forgets everything (baseline included).
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// The current open-eye baseline, if enough history exists.
    pub fn baseline(&self) -> Option<f32> {
        let (first, last) = (self.history.front()?, self.history.back()?);
        if last.0.saturating_sub(first.0) < self.config.min_baseline_time {
            return None;
        }
        quantile(
            self.history.iter().map(|h| h.1),
            self.config.baseline_quantile,
        )
    }

    /// Feeds one frame; returns the blink that ended with it, if any.
    pub fn push(&mut self, t: Duration, sample: Option<&VisualSample>) -> Option<BlinkEvent> {
        let Some(s) = sample else {
            self.dip = None;
            self.prev = None;
            return None;
        };
        match accept_time(&mut self.last_t, t, self.config.max_gap) {
            TimeStep::Backwards => return None,
            TimeStep::Gap => {
                self.dip = None;
                self.prev = None;
            }
            TimeStep::First | TimeStep::Next => {}
        }
        let e = s.ear();
        if !e.is_finite() {
            return None;
        }
        let current = (t, e, s.ear_right, s.ear_left);
        let event = match self.dip.take() {
            Some(dip) => self.continue_dip(dip, current),
            None => {
                self.push_history(t, e);
                if let (Some(b), Some(prev)) = (self.baseline(), self.prev) {
                    if e >= self.config.enter_ratio * b {
                        self.armed = true;
                    } else if self.armed {
                        self.dip = Some(Dip {
                            baseline: b,
                            samples: vec![prev, current],
                        });
                    }
                }
                None
            }
        };
        self.prev = Some(current);
        event
    }

    fn push_history(&mut self, t: Duration, e: f32) {
        self.history.push_back((t, e));
        while let Some(front) = self.history.front() {
            if t.saturating_sub(front.0) > self.config.baseline_window {
                self.history.pop_front();
            } else {
                break;
            }
        }
    }

    fn continue_dip(
        &mut self,
        mut dip: Dip,
        current: (Duration, f32, f32, f32),
    ) -> Option<BlinkEvent> {
        let c = &self.config;
        let b = dip.baseline;
        dip.samples.push(current);
        let (t, e) = (current.0, current.1);
        let min = dip.samples[1..]
            .iter()
            .map(|s| s.1)
            .fold(f32::INFINITY, f32::min);
        let deep = min < c.close_ratio * b;
        if !deep {
            if e >= c.enter_ratio * b {
                // A shallow dip (squint, smile): forget it.
                self.push_history(t, e);
                return None;
            }
            if t.saturating_sub(dip.samples[0].0) > c.max_duration * 2 {
                // Eyes narrowed for a long time: not a blink; wait for them to reopen.
                self.armed = false;
                return None;
            }
            self.dip = Some(dip);
            return None;
        }
        let mid = 0.5 * (min + b);
        if e < mid {
            if t.saturating_sub(dip.samples[0].0) > c.max_duration * 4 {
                self.armed = false;
                return None;
            }
            self.dip = Some(dip);
            return None;
        }
        // Back above the half-depth level: the dip is over.
        self.armed = false;
        let s = &dip.samples;
        let k = s
            .iter()
            .enumerate()
            .skip(1)
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map_or(1, |(i, _)| i);
        let mut j = k;
        while j > 1 && s[j - 1].1 < mid {
            j -= 1;
        }
        let start = crossing(s[j - 1].0, s[j - 1].1, s[j].0, s[j].1, mid);
        let n = s.len();
        let end = crossing(s[n - 2].0, s[n - 2].1, s[n - 1].0, s[n - 1].1, mid);
        let width = end.saturating_sub(start);
        let min_of = |f: fn(&(Duration, f32, f32, f32)) -> f32| {
            s[1..].iter().map(f).fold(f32::INFINITY, f32::min) / b
        };
        let event = BlinkEvent {
            start,
            end,
            baseline: b,
            min_ratio: min / b,
            min_ratio_right: min_of(|x| x.2),
            min_ratio_left: min_of(|x| x.3),
        };
        if width >= c.min_duration && width <= c.max_duration {
            tracing::debug!(?event, "blink");
            Some(event)
        } else {
            tracing::debug!(?event, "eye closure rejected by its duration");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Turns and nods

/// Settings of an excursion detector ([`TurnDetector`], [`NodDetector`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExcursionConfig {
    /// Least angle away from the start pose, degrees.
    pub min_angle_deg: f32,
    /// The head is back when within this many degrees of the start pose.
    pub return_deg: f32,
    /// Longest time from leaving the start pose (by more than `return_deg`) to coming back.
    pub max_duration: Duration,
    /// Largest gap between frames during an excursion. Default 500 ms.
    pub max_gap: Duration,
}

impl ExcursionConfig {
    /// Defaults of [`TurnDetector`]: 15°, back within 7°, 5 s.
    pub fn turn() -> Self {
        Self {
            min_angle_deg: 15.0,
            return_deg: 7.0,
            max_duration: Duration::from_secs(5),
            max_gap: Duration::from_millis(500),
        }
    }

    /// Defaults of [`NodDetector`]: 10° down, back within 5°, 4 s.
    pub fn nod() -> Self {
        Self {
            min_angle_deg: 10.0,
            return_deg: 5.0,
            max_duration: Duration::from_secs(4),
            max_gap: Duration::from_millis(500),
        }
    }
}

impl Default for ExcursionConfig {
    fn default() -> Self {
        Self::turn()
    }
}

/// Which way the head turned, in the subject's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnDirection {
    /// To the subject's left.
    Left,
    /// To the subject's right.
    Right,
}

/// A head movement away from the start pose and back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Excursion {
    /// Last frame within `return_deg` of the start pose before the movement.
    #[serde(with = "serde_ms", rename = "start_ms")]
    pub start: Duration,
    /// Frame of the largest angle.
    #[serde(with = "serde_ms", rename = "peak_ms")]
    pub peak: Duration,
    /// First frame back within `return_deg`.
    #[serde(with = "serde_ms", rename = "end_ms")]
    pub end: Duration,
    /// The start pose's angle, degrees.
    pub reference_deg: f32,
    /// Largest signed difference from the start pose, degrees.
    pub peak_delta_deg: f32,
}

/// A completed head turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TurnEvent {
    /// The subject's side the head turned to.
    pub direction: TurnDirection,
    /// The yaw movement.
    #[serde(flatten)]
    pub excursion: Excursion,
}

/// Tracks one angle's excursions from the start pose and back.
#[derive(Debug, Clone, Default)]
struct ExcursionTracker {
    config: ExcursionConfig,
    last_t: Option<Duration>,
    reference: Option<f32>,
    /// Last time the angle was within `return_deg` of the reference.
    at_rest: Option<Duration>,
    /// Largest |delta| since leaving rest, with its time and sign.
    peak: Option<(Duration, f32)>,
}

impl ExcursionTracker {
    fn new(config: ExcursionConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// Feeds one angle; `sign_filter` keeps only excursions of that sign (None: both).
    fn push(
        &mut self,
        t: Duration,
        angle: Option<f32>,
        sign_filter: Option<f32>,
    ) -> Option<Excursion> {
        let Some(a) = angle.filter(|a| a.is_finite()) else {
            self.at_rest = None;
            self.peak = None;
            return None;
        };
        match accept_time(&mut self.last_t, t, self.config.max_gap) {
            TimeStep::Backwards => return None,
            TimeStep::Gap => {
                self.at_rest = None;
                self.peak = None;
            }
            TimeStep::First | TimeStep::Next => {}
        }
        let reference = *self.reference.get_or_insert(a);
        let delta = a - reference;
        let c = &self.config;
        if delta.abs() <= c.return_deg {
            let done = match (self.peak.take(), self.at_rest) {
                (Some((peak_t, peak_delta)), Some(start))
                    if peak_delta.abs() >= c.min_angle_deg
                        && t.saturating_sub(start) <= c.max_duration
                        && sign_filter.is_none_or(|s| s * peak_delta > 0.0) =>
                {
                    Some(Excursion {
                        start,
                        peak: peak_t,
                        end: t,
                        reference_deg: reference,
                        peak_delta_deg: peak_delta,
                    })
                }
                _ => None,
            };
            self.at_rest = Some(t);
            return done;
        }
        if self.at_rest.is_some() {
            match self.peak {
                Some((_, p)) if p.abs() >= delta.abs() && p * delta > 0.0 => {}
                // A larger angle, or the head swung through to the other side: the largest
                // angle on the current side is what counts.
                Some((_, p)) if p * delta < 0.0 && p.abs() > delta.abs() => {}
                _ => self.peak = Some((t, delta)),
            }
        }
        None
    }
}

/// Detects head turns (yaw away from the start pose and back) and names their direction in
/// the subject's terms (see the module documentation on mirroring).
#[derive(Debug, Clone)]
pub struct TurnDetector {
    tracker: ExcursionTracker,
    mirrored: bool,
}

impl TurnDetector {
    /// A detector; `mirrored` is the frames' mirror flag.
    pub fn new(config: ExcursionConfig, mirrored: bool) -> Self {
        Self {
            tracker: ExcursionTracker::new(config),
            mirrored,
        }
    }

    /// Takes the next frame's pose as the new start pose.
    pub fn reset(&mut self) {
        self.tracker.reset();
    }

    /// The start pose's yaw, once a frame was seen.
    pub fn reference(&self) -> Option<f32> {
        self.tracker.reference
    }

    /// Feeds one frame; returns the turn completed by it, if any.
    pub fn push(&mut self, t: Duration, sample: Option<&VisualSample>) -> Option<TurnEvent> {
        let e = self.tracker.push(t, sample.map(|s| s.yaw), None)?;
        // yaw > 0: nose towards the image's right = the subject's left unless mirrored.
        let image_right = e.peak_delta_deg > 0.0;
        let direction = if image_right != self.mirrored {
            TurnDirection::Left
        } else {
            TurnDirection::Right
        };
        let event = TurnEvent {
            direction,
            excursion: e,
        };
        tracing::debug!(?event, "head turn");
        Some(event)
    }
}

/// A completed nod (pitch down and back up).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodEvent {
    /// The pitch movement (`peak_delta_deg` < 0: chin down).
    #[serde(flatten)]
    pub excursion: Excursion,
}

/// Detects nods: the pitch goes down from the start pose and comes back.
#[derive(Debug, Clone)]
pub struct NodDetector {
    tracker: ExcursionTracker,
}

impl NodDetector {
    /// A detector.
    pub fn new(config: ExcursionConfig) -> Self {
        Self {
            tracker: ExcursionTracker::new(config),
        }
    }

    /// Takes the next frame's pose as the new start pose.
    pub fn reset(&mut self) {
        self.tracker.reset();
    }

    /// Feeds one frame; returns the nod completed by it, if any.
    pub fn push(&mut self, t: Duration, sample: Option<&VisualSample>) -> Option<NodEvent> {
        let e = self.tracker.push(t, sample.map(|s| s.pitch), Some(-1.0))?;
        tracing::debug!(?e, "nod");
        Some(NodEvent { excursion: e })
    }
}

// ---------------------------------------------------------------------------------------------
// Mouth

/// Settings of [`MouthOpenDetector`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MouthOpenConfig {
    /// Window of the closed-mouth baseline. Default 4 s.
    pub baseline_window: Duration,
    /// Quantile of the aperture taken as the closed level. Default 0.2.
    pub baseline_quantile: f32,
    /// Least aperture above the baseline. Default 0.2.
    pub min_opening: f32,
    /// How long the mouth must stay open. Default 150 ms.
    pub min_hold: Duration,
    /// Largest gap between frames. Default 300 ms.
    pub max_gap: Duration,
}

impl Default for MouthOpenConfig {
    fn default() -> Self {
        Self {
            baseline_window: Duration::from_secs(4),
            baseline_quantile: 0.2,
            min_opening: 0.2,
            min_hold: Duration::from_millis(150),
            max_gap: Duration::from_millis(300),
        }
    }
}

/// A wide mouth opening.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MouthOpenEvent {
    /// First frame open by at least `min_opening`.
    #[serde(with = "serde_ms", rename = "start_ms")]
    pub start: Duration,
    /// Frame at which it had been open for `min_hold` (when the event is reported).
    #[serde(with = "serde_ms", rename = "confirmed_ms")]
    pub confirmed: Duration,
    /// Closed-mouth baseline.
    pub baseline: f32,
    /// Largest aperture above the baseline up to `confirmed`.
    pub peak_opening: f32,
}

/// Detects a deliberate wide opening of the mouth (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct MouthOpenDetector {
    config: MouthOpenConfig,
    history: VecDeque<(Duration, f32)>,
    last_t: Option<Duration>,
    /// (start, baseline, peak opening) of the current opening.
    open: Option<(Duration, f32, f32)>,
    reported: bool,
}

impl MouthOpenDetector {
    /// A detector with `config`.
    pub fn new(config: MouthOpenConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn baseline(&self) -> Option<f32> {
        quantile(
            self.history.iter().map(|h| h.1),
            self.config.baseline_quantile,
        )
    }

    /// Feeds one frame; returns the opening confirmed by it, if any.
    pub fn push(&mut self, t: Duration, sample: Option<&VisualSample>) -> Option<MouthOpenEvent> {
        let Some(a) = sample.map(|s| s.mouth_aperture).filter(|a| a.is_finite()) else {
            self.open = None;
            self.reported = false;
            return None;
        };
        match accept_time(&mut self.last_t, t, self.config.max_gap) {
            TimeStep::Backwards => return None,
            TimeStep::Gap => {
                self.open = None;
                self.reported = false;
            }
            TimeStep::First | TimeStep::Next => {}
        }
        let c = self.config;
        let baseline = match self.open {
            Some((_, b, _)) => b,
            None => self.baseline().unwrap_or(a),
        };
        let opening = a - baseline;
        if opening >= c.min_opening {
            let (start, b, peak) = *self.open.get_or_insert((t, baseline, opening));
            let peak = peak.max(opening);
            self.open = Some((start, b, peak));
            if !self.reported && t.saturating_sub(start) >= c.min_hold {
                self.reported = true;
                let event = MouthOpenEvent {
                    start,
                    confirmed: t,
                    baseline: b,
                    peak_opening: peak,
                };
                tracing::debug!(?event, "mouth opened");
                return Some(event);
            }
            return None;
        }
        if opening < 0.5 * c.min_opening {
            self.open = None;
            self.reported = false;
        }
        if self.open.is_none() {
            self.history.push_back((t, a));
            while let Some(front) = self.history.front() {
                if t.saturating_sub(front.0) > c.baseline_window {
                    self.history.pop_front();
                } else {
                    break;
                }
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Continuity

/// Settings of [`IdentityContinuity`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContinuityConfig {
    /// Least IoU of consecutive face boxes. Default 0.5 (a head turn at normal speed keeps
    /// ≥ 0.9 between frames at 30 fps).
    pub min_iou: f32,
    /// Largest centre movement between consecutive frames, in face-box widths. Default 0.25.
    pub max_center_jump: f32,
    /// Frames further apart than this are not compared (the face was lost in between).
    /// Default 300 ms.
    pub max_gap: Duration,
    /// Largest descriptor distance accepted by [`IdentityContinuity::descriptor_agreement`].
    /// Default 0.6 (the dlib descriptor's same-person threshold).
    pub max_descriptor_distance: f32,
}

impl Default for ContinuityConfig {
    fn default() -> Self {
        Self {
            min_iou: 0.5,
            max_center_jump: 0.25,
            max_gap: Duration::from_millis(300),
            max_descriptor_distance: 0.6,
        }
    }
}

/// How one frame relates to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContinuityStep {
    /// The first face seen (or the first after a reset).
    First,
    /// The same face, moved plausibly.
    Continuous,
    /// The box jumped: possibly another face.
    Break,
    /// The previous face is too long ago (or the time went backwards) to compare.
    Gap,
    /// No face in this frame.
    NoFace,
}

/// Counters of [`IdentityContinuity`], carried in the liveness evidence.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ContinuityStats {
    /// Frames pushed.
    pub frames: u32,
    /// Frames without a face.
    pub frames_without_face: u32,
    /// Consecutive pairs compared.
    pub pairs: u32,
    /// Smallest IoU of a compared pair (1 when none).
    pub min_iou: f32,
    /// Largest centre jump of a compared pair, in box widths.
    pub max_center_jump: f32,
    /// Pairs that broke continuity.
    pub breaks: u32,
    /// Times the face was lost or the frames were too far apart to compare.
    pub gaps: u32,
    /// Descriptor comparisons reported.
    pub descriptor_checks: u32,
    /// Largest descriptor distance reported.
    pub max_descriptor_distance: Option<f32>,
    /// Descriptor comparisons above the limit.
    pub descriptor_breaks: u32,
}

/// Tracks whether the face stays the same one: box overlap and centre jumps between
/// consecutive frames, and descriptor distances reported by the caller.
#[derive(Debug, Clone)]
pub struct IdentityContinuity {
    config: ContinuityConfig,
    last: Option<(Duration, Rect)>,
    stats: ContinuityStats,
}

impl IdentityContinuity {
    /// A tracker with `config`.
    pub fn new(config: ContinuityConfig) -> Self {
        Self {
            config,
            last: None,
            stats: ContinuityStats {
                min_iou: 1.0,
                ..ContinuityStats::default()
            },
        }
    }

    /// Forgets the history and the counters.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// The counters so far.
    pub fn stats(&self) -> ContinuityStats {
        self.stats
    }

    /// Feeds one frame's face box (`None`: no face).
    pub fn push(&mut self, t: Duration, face_box: Option<&Rect>) -> ContinuityStep {
        let _span = tracing::trace_span!("identity_continuity").entered();
        self.stats.frames += 1;
        let Some(b) = face_box.filter(|b| b.width > 0.0 && b.height > 0.0) else {
            self.stats.frames_without_face += 1;
            if self.last.take().is_some() {
                self.stats.gaps += 1;
            }
            return ContinuityStep::NoFace;
        };
        let step = match self.last {
            None => ContinuityStep::First,
            Some((prev_t, _)) if t <= prev_t || t - prev_t > self.config.max_gap => {
                self.stats.gaps += 1;
                ContinuityStep::Gap
            }
            Some((_, prev)) => {
                let iou = prev.iou(b);
                let (pc, bc) = (prev.center(), b.center());
                let jump = pc.distance(bc) / (0.5 * (prev.width + b.width));
                self.stats.pairs += 1;
                self.stats.min_iou = self.stats.min_iou.min(iou);
                self.stats.max_center_jump = self.stats.max_center_jump.max(jump);
                if iou < self.config.min_iou || jump > self.config.max_center_jump {
                    self.stats.breaks += 1;
                    tracing::debug!(iou, jump, "face continuity broken");
                    ContinuityStep::Break
                } else {
                    ContinuityStep::Continuous
                }
            }
        };
        self.last = Some((t, *b));
        step
    }

    /// Records a descriptor distance between this session's face and a reference (an earlier
    /// frame of the session or the enrolled template); returns whether it agrees.
    pub fn descriptor_agreement(&mut self, distance: f32) -> bool {
        self.stats.descriptor_checks += 1;
        let d = if distance.is_finite() {
            distance
        } else {
            f32::INFINITY
        };
        self.stats.max_descriptor_distance =
            Some(self.stats.max_descriptor_distance.map_or(d, |m| m.max(d)));
        let ok = d <= self.config.max_descriptor_distance;
        if !ok {
            self.stats.descriptor_breaks += 1;
        }
        ok
    }
}

// ---------------------------------------------------------------------------------------------
// All together

/// Settings of every detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisualEvidenceConfig {
    /// Blinks.
    pub blink: BlinkConfig,
    /// Head turns.
    pub turn: ExcursionConfig,
    /// Nods.
    pub nod: ExcursionConfig,
    /// Mouth openings.
    pub mouth_open: MouthOpenConfig,
    /// Face continuity.
    pub continuity: ContinuityConfig,
}

impl Default for VisualEvidenceConfig {
    fn default() -> Self {
        Self {
            blink: BlinkConfig::default(),
            turn: ExcursionConfig::turn(),
            nod: ExcursionConfig::nod(),
            mouth_open: MouthOpenConfig::default(),
            continuity: ContinuityConfig::default(),
        }
    }
}

/// One detected action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VisualEvent {
    /// A blink.
    Blink(BlinkEvent),
    /// A head turn.
    Turn(TurnEvent),
    /// A nod.
    Nod(NodEvent),
    /// A wide mouth opening.
    MouthOpen(MouthOpenEvent),
}

impl VisualEvent {
    /// When the action began.
    pub fn start(&self) -> Duration {
        match self {
            Self::Blink(e) => e.start,
            Self::Turn(e) => e.excursion.start,
            Self::Nod(e) => e.excursion.start,
            Self::MouthOpen(e) => e.start,
        }
    }
}

/// What [`VisualTracker::push`] saw in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct VisualFrame {
    /// The measurements (`None`: no usable face).
    pub sample: Option<VisualSample>,
    /// How the face box relates to the previous frame's.
    pub continuity: ContinuityStep,
    /// Actions completed in this frame.
    pub events: Vec<VisualEvent>,
}

/// Every detector of this module fed from the same frames.
#[derive(Debug, Clone)]
pub struct VisualTracker {
    mirrored: bool,
    /// Blinks.
    pub blink: BlinkDetector,
    /// Head turns.
    pub turn: TurnDetector,
    /// Nods.
    pub nod: NodDetector,
    /// Mouth openings.
    pub mouth: MouthOpenDetector,
    /// Face continuity.
    pub continuity: IdentityContinuity,
}

impl VisualTracker {
    /// Detectors for frames with the given mirror flag.
    pub fn new(config: &VisualEvidenceConfig, mirrored: bool) -> Self {
        Self {
            mirrored,
            blink: BlinkDetector::new(config.blink),
            turn: TurnDetector::new(config.turn, mirrored),
            nod: NodDetector::new(config.nod),
            mouth: MouthOpenDetector::new(config.mouth_open),
            continuity: IdentityContinuity::new(config.continuity),
        }
    }

    /// Feeds one frame: the face being tracked (`None` when there is none) at time `t`.
    pub fn push(&mut self, t: Duration, face: Option<&FaceObservation>) -> VisualFrame {
        let _span = tracing::trace_span!("visual_tracker", t_ms = t.as_millis() as u64).entered();
        let sample = face.and_then(|f| VisualSample::from_face(f, self.mirrored));
        let continuity = self.continuity.push(t, face.map(|f| &f.detection.bbox));
        let s = sample.as_ref();
        let mut events = Vec::new();
        if let Some(e) = self.blink.push(t, s) {
            events.push(VisualEvent::Blink(e));
        }
        if let Some(e) = self.turn.push(t, s) {
            events.push(VisualEvent::Turn(e));
        }
        if let Some(e) = self.nod.push(t, s) {
            events.push(VisualEvent::Nod(e));
        }
        if let Some(e) = self.mouth.push(t, s) {
            events.push(VisualEvent::MouthOpen(e));
        }
        VisualFrame {
            sample,
            continuity,
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ear: f32, yaw: f32, pitch: f32, mouth: f32) -> VisualSample {
        VisualSample {
            ear_right: ear,
            ear_left: ear,
            mouth_aperture: mouth,
            yaw,
            pitch,
            roll: 0.0,
            face_box: Rect {
                x: 100.0,
                y: 100.0,
                width: 200.0,
                height: 200.0,
            },
            center: Point::new(200.0, 200.0),
        }
    }

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1000.0)
    }

    /// Runs a detector over `f(t_ms)` sampled at the given frame times.
    fn blinks_of(times: &[f64], ear: impl Fn(f64) -> f32) -> Vec<BlinkEvent> {
        let mut d = BlinkDetector::new(BlinkConfig::default());
        times
            .iter()
            .filter_map(|&t| d.push(ms(t), Some(&sample(ear(t), 0.0, 0.0, 0.0))))
            .collect()
    }

    /// A blink: EAR 0.3 dipping to 0.15 over `len` ms (triangle) starting at 2 s.
    fn blink_shape(len: f64) -> impl Fn(f64) -> f32 {
        move |t| {
            let x = (t - 2000.0) / len;
            if (0.0..=1.0).contains(&x) {
                (0.3 - 0.15 * (1.0 - (2.0 * x - 1.0).abs())) as f32
            } else {
                0.3
            }
        }
    }

    fn frames(fps: f64, secs: f64) -> Vec<f64> {
        (0..(secs * fps) as usize)
            .map(|i| i as f64 * 1000.0 / fps)
            .collect()
    }

    #[test]
    fn blink_timing_does_not_depend_on_the_frame_rate() {
        for fps in [15.0, 24.0, 30.0, 60.0] {
            let b = blinks_of(&frames(fps, 4.0), blink_shape(300.0));
            assert_eq!(b.len(), 1, "{fps} fps: {b:?}");
            let d = b[0].duration().as_secs_f64() * 1000.0;
            // Half-depth width of a 300 ms triangle is 150 ms.
            assert!((d - 150.0).abs() < 35.0, "{fps} fps: {d} ms");
            assert!((b[0].min_ratio - 0.5).abs() < 0.1, "{fps} fps: {b:?}");
        }
        // Irregular frame intervals (jitter ±12 ms around 30 fps).
        let jittered: Vec<f64> = frames(30.0, 4.0)
            .iter()
            .enumerate()
            .map(|(i, t)| t + [0.0, 11.0, -7.0, 4.0, -12.0][i % 5])
            .collect();
        let b = blinks_of(&jittered, blink_shape(300.0));
        assert_eq!(b.len(), 1, "{b:?}");
    }

    #[test]
    fn long_closures_slow_narrowing_and_glitches_are_not_blinks() {
        let t = frames(30.0, 6.0);
        // Eyes closed for 1.5 s.
        assert!(blinks_of(&t, blink_shape(3000.0)).is_empty());
        // A one-frame glitch at 30 fps.
        assert!(blinks_of(&t, |x| if (2000.0..2030.0).contains(&x) {
            0.1
        } else {
            0.3
        })
        .is_empty());
        // A smile narrowing the eyes to 82 % of their open level.
        assert!(blinks_of(&t, |x| if x > 2000.0 { 0.246 } else { 0.3 }).is_empty());
        // Two blinks 600 ms apart are two.
        let two = |x: f64| blink_shape(250.0)(x).min(blink_shape(250.0)(x - 600.0));
        assert_eq!(blinks_of(&t, two).len(), 2);
    }

    #[test]
    fn a_blink_is_relative_to_the_persons_own_open_level() {
        // Small eyes (open 0.18, closed 0.09) blink just like large ones.
        let t = frames(30.0, 4.0);
        let small = |x: f64| blink_shape(300.0)(x) * 0.6;
        assert_eq!(blinks_of(&t, small).len(), 1);
        // A gap in the frames during the dip abandons it.
        let gappy: Vec<f64> = t
            .iter()
            .copied()
            .filter(|&x| !(2050.0..2400.0).contains(&x))
            .collect();
        assert!(blinks_of(&gappy, blink_shape(300.0)).is_empty());
    }

    fn turns_of(times: &[f64], yaw: impl Fn(f64) -> f32, mirrored: bool) -> Vec<TurnEvent> {
        let mut d = TurnDetector::new(ExcursionConfig::turn(), mirrored);
        times
            .iter()
            .filter_map(|&t| d.push(ms(t), Some(&sample(0.3, yaw(t), 0.0, 0.0))))
            .collect()
    }

    /// Yaw: 2° at rest, out to `peak` and back between 1 s and 1 s + `len`.
    fn swing(peak: f32, len: f64) -> impl Fn(f64) -> f32 {
        move |t| {
            let x = (t - 1000.0) / len;
            2.0 + if (0.0..=1.0).contains(&x) {
                peak * (std::f64::consts::PI * x).sin() as f32
            } else {
                0.0
            }
        }
    }

    #[test]
    fn turns_are_named_in_the_subjects_terms() {
        let t = frames(30.0, 4.0);
        let right_in_image = turns_of(&t, swing(25.0, 1500.0), false);
        assert_eq!(right_in_image.len(), 1);
        assert_eq!(right_in_image[0].direction, TurnDirection::Left);
        assert!((right_in_image[0].excursion.peak_delta_deg - 25.0).abs() < 0.5);
        assert_eq!(
            turns_of(&t, swing(25.0, 1500.0), true)[0].direction,
            TurnDirection::Right
        );
        assert_eq!(
            turns_of(&t, swing(-25.0, 1500.0), false)[0].direction,
            TurnDirection::Right
        );
        // Too small, too slow, or never coming back: no turn.
        assert!(turns_of(&t, swing(12.0, 1500.0), false).is_empty());
        assert!(turns_of(&frames(30.0, 9.0), swing(25.0, 7000.0), false).is_empty());
        assert!(turns_of(&t, |x| if x > 1000.0 { 30.0 } else { 0.0 }, false).is_empty());
        // The same at 12 fps.
        assert_eq!(
            turns_of(&frames(12.0, 4.0), swing(25.0, 1500.0), false).len(),
            1
        );
    }

    #[test]
    fn nods_go_down_and_back() {
        let run = |pitch: &dyn Fn(f64) -> f32| {
            let mut d = NodDetector::new(ExcursionConfig::nod());
            frames(30.0, 4.0)
                .iter()
                .filter_map(|&t| d.push(ms(t), Some(&sample(0.3, 0.0, pitch(t), 0.0))))
                .count()
        };
        assert_eq!(run(&swing(-15.0, 1200.0)), 1);
        assert_eq!(run(&swing(15.0, 1200.0)), 0, "chin up is not a nod");
        assert_eq!(run(&swing(-7.0, 1200.0)), 0);
    }

    #[test]
    fn mouth_opening_needs_width_and_hold() {
        let run = |f: &dyn Fn(f64) -> f32| {
            let mut d = MouthOpenDetector::new(MouthOpenConfig::default());
            frames(30.0, 5.0)
                .iter()
                .filter_map(|&t| d.push(ms(t), Some(&sample(0.3, 0.0, 0.0, f(t)))))
                .collect::<Vec<_>>()
        };
        let wide = |t: f64| {
            if (2000.0..3000.0).contains(&t) {
                0.35
            } else {
                0.02
            }
        };
        let ev = run(&wide);
        assert_eq!(ev.len(), 1);
        assert!(
            (ev[0].confirmed.as_secs_f64() - 2.15).abs() < 0.04,
            "{ev:?}"
        );
        // Speech-like openings of 0.12, or a 100 ms flash of a wide one: none.
        assert!(run(&|t| if ((t / 150.0) as u64).is_multiple_of(2) {
            0.12
        } else {
            0.02
        })
        .is_empty());
        assert!(run(&|t| if (2000.0..2100.0).contains(&t) {
            0.4
        } else {
            0.02
        })
        .is_empty());
    }

    #[test]
    fn continuity_flags_jumps_and_gaps() {
        let mut c = IdentityContinuity::new(ContinuityConfig::default());
        let r = |x: f32| Rect {
            x,
            y: 100.0,
            width: 200.0,
            height: 200.0,
        };
        assert_eq!(c.push(ms(0.0), Some(&r(100.0))), ContinuityStep::First);
        assert_eq!(
            c.push(ms(33.0), Some(&r(110.0))),
            ContinuityStep::Continuous
        );
        assert_eq!(c.push(ms(66.0), Some(&r(300.0))), ContinuityStep::Break);
        assert_eq!(c.push(ms(100.0), None), ContinuityStep::NoFace);
        assert_eq!(c.push(ms(133.0), Some(&r(300.0))), ContinuityStep::First);
        assert_eq!(c.push(ms(900.0), Some(&r(300.0))), ContinuityStep::Gap);
        assert!(c.descriptor_agreement(0.4));
        assert!(!c.descriptor_agreement(0.7));
        assert!(!c.descriptor_agreement(f32::NAN));
        let s = c.stats();
        assert_eq!((s.frames, s.breaks, s.gaps, s.pairs), (6, 1, 2, 2));
        assert_eq!((s.descriptor_checks, s.descriptor_breaks), (3, 2));
        assert!(s.min_iou < 0.5 && s.max_center_jump > 0.9);
    }
}
