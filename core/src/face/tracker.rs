//! Face tracking on a camera stream, as MediaPipe's face landmarker does it: the landmark
//! model's region of interest for a frame comes from the previous frame's landmarks
//! ([`FaceRoi::from_landmarks`]: rotation-aligned, the same scale rule as the detector-based
//! [`FaceRoi::from_detection`]), and the face detector runs only when it is needed.
//!
//! # When the detector runs ([`DetectReason`])
//! - on the first frame, and on every frame while no face is tracked;
//! - when a tracked face's landmark presence drops below [`TrackerConfig::min_presence`]
//!   (the face was lost, covered or left): the frame is analysed again with the detector, so
//!   a lost face is never reported from a stale region;
//! - when a tracked face moved or changed size too much between two frames
//!   ([`TrackerConfig::max_shift`], [`TrackerConfig::max_scale_change`]): the region it was
//!   looked for in may have cut it, so the frame is analysed again with the detector;
//! - when the region for the next frame leaves the image ([`TrackerConfig::min_roi_inside`]):
//!   the next frame;
//! - every [`TrackerConfig::redetect_interval`] of stream time as a safety net, and because the
//!   face **count** matters: tracking follows the faces it has, and only the detector sees a
//!   face that newly enters the picture (the "only one person" warning). The default, 300 ms,
//!   is the capture guidance's own debounce (`GuidanceConfig::switch_confirm`: a new verdict
//!   must hold that long before it is shown), so a second face is noticed no later than the
//!   guidance would have confirmed it anyway: at 25–30 fps that is every 8–9 frames, at 15 fps
//!   every 5. The product configuration refuses an interval longer than that debounce.
//!
//! On a detector frame the result is exactly [`Analyzer::analyze_image`]'s; on a tracked frame
//! each tracked face is reported with its landmarks, head pose and presence, and a box and
//! keypoints derived from the landmarks (see [`TrackedFace`]).
//!
//! [`Analyzer::analyze_image`]: crate::face::analyzer::Analyzer::analyze_image

use crate::face::error::FaceError;
use crate::face::landmarks::FaceRoi;
use crate::face::observation::{Detection, FaceObservation, Landmarks};
use crate::image::geometry::{Point, Rect};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Tracking settings (see the module documentation for what each rule is for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackerConfig {
    /// Track faces between detector runs on a stream. Default `true`. `false` runs the
    /// detector on every frame (as [`crate::face::analyzer::Analyzer::analyze`] does).
    pub enabled: bool,
    /// The detector runs again at least this often (stream time). Default 300 ms: the
    /// capture guidance's switch confirmation, so a second face entering the picture is seen
    /// within the time the guidance waits before announcing it (8–9 frames at 25–30 fps).
    /// Range 0–5 s (0 = every frame).
    pub redetect_interval: Duration,
    /// A tracked face whose landmark presence falls below this is lost: the frame is
    /// analysed again with the detector. Default 0.5, MediaPipe's `min_tracking_confidence`;
    /// never below `landmarks.min_presence` (checked by
    /// [`crate::face::analyzer::FaceConfig::validate`]).
    pub min_presence: f32,
    /// Between two frames the tracked region's centre may move at most this fraction of its
    /// side; beyond it the frame is analysed again with the detector. Default 0.15 (with the
    /// region 1.5 face widths wide, ≈ 0.22 face widths in one frame, i.e. ≈ 6 face widths
    /// per second at 30 fps: far beyond the motion guidance tolerates, a jump rather than a
    /// movement). Range (0, 1].
    pub max_shift: f32,
    /// Between two frames the tracked region's side may change by at most this factor
    /// (either way); beyond it the frame is analysed again with the detector. Default 1.2.
    /// Range (1, 4].
    pub max_scale_change: f32,
    /// The next frame runs the detector when less than this fraction of a tracked face's
    /// next region lies inside the image (the face is leaving the picture). Default 0.5.
    /// Range [0, 1].
    pub min_roi_inside: f32,
    /// Two tracked regions overlapping by more than this (intersection over union) are one
    /// face; the second is dropped. Default 0.5 (MediaPipe's association threshold).
    /// Range (0, 1].
    pub max_overlap: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            redetect_interval: Duration::from_millis(300),
            min_presence: 0.5,
            max_shift: 0.15,
            max_scale_change: 1.2,
            min_roi_inside: 0.5,
            max_overlap: 0.5,
        }
    }
}

impl TrackerConfig {
    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<(), FaceError> {
        let bad = |name: &str, v: f32, range: &str| {
            Err(FaceError::Config(format!(
                "tracker.{name} = {v} is outside {range}"
            )))
        };
        if self.redetect_interval > Duration::from_secs(5) {
            return Err(FaceError::Config(format!(
                "tracker.redetect_interval = {:?} is longer than 5 s",
                self.redetect_interval
            )));
        }
        if !(0.0..=1.0).contains(&self.min_presence) {
            return bad("min_presence", self.min_presence, "[0, 1]");
        }
        if !(self.max_shift > 0.0 && self.max_shift <= 1.0) {
            return bad("max_shift", self.max_shift, "(0, 1]");
        }
        if !(self.max_scale_change > 1.0 && self.max_scale_change <= 4.0) {
            return bad("max_scale_change", self.max_scale_change, "(1, 4]");
        }
        if !(0.0..=1.0).contains(&self.min_roi_inside) {
            return bad("min_roi_inside", self.min_roi_inside, "[0, 1]");
        }
        if !(self.max_overlap > 0.0 && self.max_overlap <= 1.0) {
            return bad("max_overlap", self.max_overlap, "(0, 1]");
        }
        Ok(())
    }
}

/// Why the detector ran on a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectReason {
    /// The first frame of the stream (or after [`FaceTrack::reset`]).
    FirstFrame,
    /// No face was tracked (none was found on the previous frame).
    NoFace,
    /// [`TrackerConfig::redetect_interval`] has passed since the last detector run.
    Interval,
    /// A tracked face's landmark presence fell below [`TrackerConfig::min_presence`].
    LowPresence,
    /// A tracked face moved or changed size too much between two frames.
    Moved,
    /// A tracked face's region for this frame was leaving the image.
    LeftImage,
    /// The landmarks of a face could not give a region for the next frame.
    Untrackable,
    /// The image size changed (the camera or its rotation changed).
    ImageSize,
    /// The frame's timestamp is earlier than the previous frame's.
    ClockBack,
    /// Tracking is turned off ([`TrackerConfig::enabled`]).
    Disabled,
}

/// How many frames a track has seen and how many of them ran the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrackStats {
    /// Frames analysed.
    pub frames: u64,
    /// Frames on which the detector ran (a tracked frame re-analysed with the detector
    /// counts once).
    pub detector_runs: u64,
}

impl TrackStats {
    /// `detector_runs / frames` (0 before the first frame).
    pub fn detector_fraction(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            self.detector_runs as f64 / self.frames as f64
        }
    }
}

/// How the detector's box relates to the landmarks' bounding box of the same face, measured
/// on the last detector frame: centre offset in units of the landmark box's size, and size
/// ratios. Tracked frames apply it to the current landmarks, so their boxes keep the
/// detector's convention (what the rest of the engine and its thresholds were built on).
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoxFit {
    dx: f32,
    dy: f32,
    sw: f32,
    sh: f32,
}

impl BoxFit {
    fn between(landmark_box: &Rect, detector_box: &Rect) -> Self {
        let (lc, dc) = (landmark_box.center(), detector_box.center());
        let fit = Self {
            dx: (dc.x - lc.x) / landmark_box.width,
            dy: (dc.y - lc.y) / landmark_box.height,
            sw: detector_box.width / landmark_box.width,
            sh: detector_box.height / landmark_box.height,
        };
        if [fit.dx, fit.dy, fit.sw, fit.sh]
            .iter()
            .all(|v| v.is_finite())
        {
            fit
        } else {
            Self::IDENTITY
        }
    }

    const IDENTITY: Self = Self {
        dx: 0.0,
        dy: 0.0,
        sw: 1.0,
        sh: 1.0,
    };

    fn apply(&self, landmark_box: &Rect) -> Rect {
        let c = landmark_box.center();
        let (w, h) = (landmark_box.width * self.sw, landmark_box.height * self.sh);
        Rect::new(
            c.x + self.dx * landmark_box.width - w / 2.0,
            c.y + self.dy * landmark_box.height - h / 2.0,
            w,
            h,
        )
    }
}

/// The axis-aligned box around the landmarks' image positions.
fn landmark_box(landmarks: &Landmarks) -> Rect {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in &landmarks.points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    Rect::from_corners(x0, y0, x1, y1)
}

/// FaceMesh indices of the six detector keypoints' counterparts (pairs are averaged): eye
/// centres from the eye corners, the nose tip, the inner-lip midpoints, the tragions.
const KEYPOINT_LANDMARKS: [(usize, usize); 6] = [
    (33, 133),
    (362, 263),
    (1, 1),
    (13, 14),
    (234, 234),
    (454, 454),
];

/// One face followed from frame to frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFace {
    /// The region the landmark model looks at on the next frame (from this frame's
    /// landmarks).
    pub roi: FaceRoi,
    /// The detector score of the face's last detector frame (tracked frames report it as
    /// their [`Detection::score`]).
    pub score: f32,
    fit: BoxFit,
}

impl TrackedFace {
    /// The [`Detection`] reported for this face on a tracked frame: the box is the landmark
    /// bounding box mapped with the box-to-landmark relation of the last detector frame; the
    /// keypoints are the landmark counterparts of the detector's six (eye centres from the
    /// eye corners, nose tip, inner-lip midpoint, tragions); the score is the last
    /// detector score.
    fn detection(&self, landmarks: &Landmarks) -> Detection {
        let at = |(a, b): (usize, usize)| {
            let (p, q) = (landmarks.points[a], landmarks.points[b]);
            Point::new((p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0)
        };
        Detection {
            score: self.score,
            bbox: self.fit.apply(&landmark_box(landmarks)),
            keypoints: KEYPOINT_LANDMARKS.map(at),
        }
    }
}

/// The tracking state of one stream: the faces followed, when the detector last ran, what
/// has been counted. Create one per camera stream (session) with `FaceTrack::default()` and
/// pass it to every [`crate::face::analyzer::Analyzer::analyze_tracked`] call of that
/// stream, in frame order.
#[derive(Debug, Clone, Default)]
pub struct FaceTrack {
    faces: Vec<TrackedFace>,
    image_size: Option<(u32, u32)>,
    last_detection: Option<Duration>,
    last_time: Option<Duration>,
    /// A reason found on the previous frame to run the detector on this one.
    pending: Option<DetectReason>,
    last_reason: Option<DetectReason>,
    stats: TrackStats,
}

/// What a tracked face's new landmarks say.
pub(crate) enum Follow {
    /// The face is still there: its observation and its state for the next frame.
    Kept(Box<FaceObservation>, TrackedFace),
    /// The frame must be analysed with the detector.
    Lost(DetectReason),
}

impl FaceTrack {
    /// A new track (the first frame runs the detector).
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the faces: the next frame runs the detector. The counts are kept.
    pub fn reset(&mut self) {
        *self = Self {
            stats: self.stats,
            ..Self::default()
        };
    }

    /// The faces followed into the next frame.
    pub fn faces(&self) -> &[TrackedFace] {
        &self.faces
    }

    /// Frames seen and detector runs.
    pub fn stats(&self) -> TrackStats {
        self.stats
    }

    /// Why the detector ran on the last frame (`None`: the last frame was tracked).
    pub fn last_reason(&self) -> Option<DetectReason> {
        self.last_reason
    }

    /// Whether the frame of size `size` at stream time `t` must run the detector, and why.
    /// Counts the frame.
    pub(crate) fn begin(
        &mut self,
        t: Duration,
        size: (u32, u32),
        cfg: &TrackerConfig,
    ) -> Option<DetectReason> {
        self.stats.frames += 1;
        let reason = if !cfg.enabled {
            Some(DetectReason::Disabled)
        } else if self.last_time.is_none() {
            Some(DetectReason::FirstFrame)
        } else if self.last_time.is_some_and(|last| t < last) {
            Some(DetectReason::ClockBack)
        } else if self.image_size != Some(size) {
            Some(DetectReason::ImageSize)
        } else if let Some(pending) = self.pending {
            Some(pending)
        } else if self.faces.is_empty() {
            Some(DetectReason::NoFace)
        } else if self
            .last_detection
            .is_none_or(|at| t.saturating_sub(at) >= cfg.redetect_interval)
        {
            Some(DetectReason::Interval)
        } else {
            None
        };
        self.last_time = Some(t);
        self.image_size = Some(size);
        self.pending = None;
        self.last_reason = reason;
        reason
    }

    /// Checks one tracked face's landmarks on this frame (found in `face.roi`).
    pub(crate) fn follow(
        face: &TrackedFace,
        landmarks: Landmarks,
        roi_scale: f32,
        cfg: &TrackerConfig,
    ) -> Follow {
        // NaN presence counts as lost.
        if landmarks.presence.is_nan() || landmarks.presence < cfg.min_presence {
            return Follow::Lost(DetectReason::LowPresence);
        }
        let Some(next) = FaceRoi::from_landmarks(&landmarks, roi_scale) else {
            return Follow::Lost(DetectReason::Untrackable);
        };
        let used = face.roi;
        let shift = next.center.distance(used.center) / used.side;
        let scale = (next.side / used.side).ln().abs();
        if !(shift <= cfg.max_shift && scale <= cfg.max_scale_change.ln()) {
            return Follow::Lost(DetectReason::Moved);
        }
        let detection = face.detection(&landmarks);
        let observation = FaceObservation {
            detection,
            landmarks,
            // Filled in by the analyzer.
            pose: Default::default(),
        };
        Follow::Kept(
            Box::new(observation),
            TrackedFace {
                roi: next,
                score: face.score,
                fit: face.fit,
            },
        )
    }

    /// Records the faces of a tracked frame (their regions for the next frame).
    pub(crate) fn tracked(&mut self, next: Vec<TrackedFace>, cfg: &TrackerConfig) {
        self.faces = next;
        self.settle(cfg);
    }

    /// Records the faces of a detector frame at `t`.
    pub(crate) fn detected(
        &mut self,
        t: Duration,
        faces: &[FaceObservation],
        roi_scale: f32,
        cfg: &TrackerConfig,
    ) {
        self.stats.detector_runs += 1;
        self.last_detection = Some(t);
        self.faces.clear();
        for f in faces {
            match FaceRoi::from_landmarks(&f.landmarks, roi_scale) {
                Some(roi) => self.faces.push(TrackedFace {
                    roi,
                    score: f.detection.score,
                    fit: BoxFit::between(&landmark_box(&f.landmarks), &f.detection.bbox),
                }),
                None => self.pending = Some(DetectReason::Untrackable),
            }
        }
        self.settle(cfg);
    }

    /// Merges overlapping tracks and flags regions that leave the image.
    fn settle(&mut self, cfg: &TrackerConfig) {
        let mut kept: Vec<TrackedFace> = Vec::with_capacity(self.faces.len());
        for f in self.faces.drain(..) {
            let sq = f.roi.square();
            if kept
                .iter()
                .all(|k| k.roi.square().iou(&sq) <= cfg.max_overlap)
            {
                kept.push(f);
            }
        }
        self.faces = kept;
        if let Some((w, h)) = self.image_size {
            if self
                .faces
                .iter()
                .any(|f| f.roi.inside_fraction(w, h) < cfg.min_roi_inside)
            {
                self.pending.get_or_insert(DetectReason::LeftImage);
            }
        }
    }

    /// Marks the frame as re-analysed with the detector for `reason`.
    pub(crate) fn redetect(&mut self, reason: DetectReason) {
        self.last_reason = Some(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::observation::LANDMARK_COUNT;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// A flat synthetic face: 468 points on an ellipse grid around `center`, eye corners set.
    fn face_at(center: Point, size: f32, presence: f32) -> Landmarks {
        let mut points: Vec<[f32; 3]> = (0..LANDMARK_COUNT)
            .map(|i| {
                let a = i as f32 / LANDMARK_COUNT as f32 * std::f32::consts::TAU;
                let r = (i % 7) as f32 / 6.0;
                [
                    center.x + 0.4 * size * r * a.cos(),
                    center.y + 0.5 * size * r * a.sin(),
                    0.0,
                ]
            })
            .collect();
        points[33] = [center.x - 0.3 * size, center.y - 0.1 * size, 0.0];
        points[263] = [center.x + 0.3 * size, center.y - 0.1 * size, 0.0];
        Landmarks { points, presence }
    }

    fn observation(lm: Landmarks) -> FaceObservation {
        let b = landmark_box(&lm);
        FaceObservation {
            detection: Detection {
                score: 0.9,
                bbox: Rect::new(b.x + 5.0, b.y + 10.0, b.width * 0.9, b.height * 0.8),
                keypoints: [Point::default(); 6],
            },
            landmarks: lm,
            pose: Default::default(),
        }
    }

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        TrackerConfig::default().validate().unwrap();
        for bad in [
            TrackerConfig {
                min_presence: 1.5,
                ..Default::default()
            },
            TrackerConfig {
                max_shift: 0.0,
                ..Default::default()
            },
            TrackerConfig {
                max_scale_change: 1.0,
                ..Default::default()
            },
            TrackerConfig {
                min_roi_inside: -0.1,
                ..Default::default()
            },
            TrackerConfig {
                max_overlap: 0.0,
                ..Default::default()
            },
            TrackerConfig {
                redetect_interval: Duration::from_secs(6),
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn detector_runs_first_on_interval_without_faces_and_when_disabled() {
        let cfg = TrackerConfig::default();
        let mut track = FaceTrack::new();
        let size = (640, 480);
        assert_eq!(
            track.begin(ms(0), size, &cfg),
            Some(DetectReason::FirstFrame)
        );
        track.detected(ms(0), &[], 1.5, &cfg);
        assert_eq!(track.begin(ms(33), size, &cfg), Some(DetectReason::NoFace));
        let face = observation(face_at(Point::new(320.0, 240.0), 200.0, 0.99));
        track.detected(ms(33), std::slice::from_ref(&face), 1.5, &cfg);
        assert_eq!(track.faces().len(), 1);
        assert_eq!(track.begin(ms(66), size, &cfg), None);
        assert_eq!(track.begin(ms(300), size, &cfg), None);
        assert_eq!(
            track.begin(ms(333), size, &cfg),
            Some(DetectReason::Interval)
        );
        track.detected(ms(333), std::slice::from_ref(&face), 1.5, &cfg);
        assert_eq!(
            track.begin(ms(300), size, &cfg),
            Some(DetectReason::ClockBack)
        );
        track.detected(ms(300), std::slice::from_ref(&face), 1.5, &cfg);
        assert_eq!(
            track.begin(ms(310), (480, 640), &cfg),
            Some(DetectReason::ImageSize)
        );
        let off = TrackerConfig {
            enabled: false,
            ..cfg
        };
        assert_eq!(
            track.begin(ms(320), (480, 640), &off),
            Some(DetectReason::Disabled)
        );
        assert_eq!(
            track.stats(),
            TrackStats {
                frames: 8,
                detector_runs: 4
            }
        );
    }

    #[test]
    fn a_lost_moved_or_leaving_face_calls_the_detector() {
        let cfg = TrackerConfig::default();
        let mut track = FaceTrack::new();
        track.begin(ms(0), (640, 480), &cfg);
        let lm = face_at(Point::new(320.0, 240.0), 200.0, 0.99);
        track.detected(ms(0), &[observation(lm.clone())], 1.5, &cfg);
        let tracked = track.faces()[0].clone();
        // Same place: kept, with the detector's box convention carried over.
        match FaceTrack::follow(&tracked, lm.clone(), 1.5, &cfg) {
            Follow::Kept(o, next) => {
                let expected = observation(lm.clone()).detection.bbox;
                assert!(o.detection.bbox.iou(&expected) > 0.999);
                assert_eq!(next.roi, tracked.roi);
            }
            Follow::Lost(r) => panic!("lost: {r:?}"),
        }
        let faint = Landmarks {
            presence: 0.3,
            ..lm.clone()
        };
        assert!(matches!(
            FaceTrack::follow(&tracked, faint, 1.5, &cfg),
            Follow::Lost(DetectReason::LowPresence)
        ));
        let jumped = face_at(Point::new(400.0, 240.0), 200.0, 0.99);
        assert!(matches!(
            FaceTrack::follow(&tracked, jumped, 1.5, &cfg),
            Follow::Lost(DetectReason::Moved)
        ));
        let grown = face_at(Point::new(320.0, 240.0), 260.0, 0.99);
        assert!(matches!(
            FaceTrack::follow(&tracked, grown, 1.5, &cfg),
            Follow::Lost(DetectReason::Moved)
        ));
        // A face at the border: the next frame detects.
        let edge = face_at(Point::new(680.0, 240.0), 200.0, 0.99);
        track.begin(ms(33), (640, 480), &cfg);
        track.detected(ms(33), &[observation(edge)], 1.5, &cfg);
        assert_eq!(
            track.begin(ms(66), (640, 480), &cfg),
            Some(DetectReason::LeftImage)
        );
    }

    #[test]
    fn overlapping_tracks_are_one_face_and_distinct_faces_stay_two() {
        let cfg = TrackerConfig::default();
        let mut track = FaceTrack::new();
        track.begin(ms(0), (640, 480), &cfg);
        let a = observation(face_at(Point::new(200.0, 240.0), 150.0, 0.99));
        let a2 = observation(face_at(Point::new(210.0, 245.0), 150.0, 0.99));
        let b = observation(face_at(Point::new(450.0, 240.0), 150.0, 0.99));
        track.detected(ms(0), &[a.clone(), a2, b], 1.5, &cfg);
        assert_eq!(track.faces().len(), 2);
        assert!(track.faces()[1].roi.center.x > 400.0);
    }
}
