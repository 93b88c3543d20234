//! The capture-guidance engine: from the quality measurements of each frame, exactly one
//! instruction at a time for the person in front of the camera.
//!
//! # Decision per frame
//! Conditions are checked in a fixed priority order and the first one that fails names the
//! frame's instruction ([`GuidanceUpdate::frame_instruction`]):
//! no face → several faces → distance → centring → pose → light → occlusion → blur /
//! motion → [`Instruction::HoldStill`] (all good). Within the light group the most specific
//! cause comes first: too bright (harsh sun, even from one side: "move out of the direct
//! light" is the advice that helps), side light (it also darkens the face mean and can look
//! like backlight), backlight (which also makes the face dark, but "find a brighter place"
//! would be the wrong advice there), and only then plain darkness.
//!
//! Every threshold has hysteresis: a condition becomes active when its value crosses the
//! threshold and stays active until the value is back past the threshold by a margin, so
//! a value hovering around a threshold does not flip the verdict.
//!
//! # Smoothing over time
//! The instruction shown ([`GuidanceUpdate::instruction`]) follows the frame verdict with
//! three rules, all in wall-clock time from the frame timestamps (never frame counts):
//! - an instruction stays at least [`GuidanceConfig::min_dwell`] before any switch;
//! - a new verdict must hold for [`GuidanceConfig::switch_confirm`] before it is adopted, and
//!   "all good" must hold for [`GuidanceConfig::ok_dwell`];
//! - an instruction is spoken when it is adopted unless it was spoken less than
//!   [`GuidanceConfig::repeat_interval`] ago, and re-spoken as a reminder every
//!   [`GuidanceConfig::reminder_interval`] while it stays (never "hold still").
//!
//! Hints ([`Hint`]) come on top: after [`GuidanceConfig::not_recognised_hint_after`]
//! without a usable frame, a gentle "try a brighter place, about an arm away"; after
//! [`GuidanceConfig::step_out_hint_after`] stuck with a face in view, "move out of the frame
//! and come back" (what the manuals advise when recognition is slow).

use crate::capture::quality::{FaceQuality, LightQuality, QualityConfig, QualityMeasurements};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use thiserror::Error;

/// One instruction to the person. Each has a stable snake_case id ([`Instruction::id`]) that
/// names its message and lets shells attach their own audio or icons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instruction {
    /// No face found: "please bring your face into the oval". Id `no_face`.
    NoFace,
    /// More than one sizeable face: "only one person in the picture". Id `multiple_faces`.
    MultipleFaces,
    /// Face too small (phone too far): "bring the phone a little closer". Id `come_closer`.
    ComeCloser,
    /// Face too large (phone too close): "hold the phone a little further away".
    /// Id `move_back`.
    MoveBack,
    /// Face not inside the guide oval: "move your face into the oval". Id `center_face`.
    CenterFace,
    /// Head turned left or right: "please face the phone". Id `face_camera`.
    FaceCamera,
    /// Chin lowered (nose pointing down): "lift your chin a little". Id `raise_chin`.
    RaiseChin,
    /// Chin raised (nose pointing up): "lower your chin a little". Id `lower_chin`.
    LowerChin,
    /// Head tilted sideways: "hold your head upright". Id `straighten_head`.
    StraightenHead,
    /// Background much brighter than the face: "turn to face the light". Id `backlight`.
    Backlight,
    /// Face too dark: "move to a brighter place". Id `too_dark`.
    TooDark,
    /// Face too bright or washed out: "move out of the glare". Id `too_bright`.
    TooBright,
    /// One half of the face much darker: "face the light". Id `side_light`.
    SideLight,
    /// Eyes covered (sunglasses, hair, hat-brim shadow). Id `uncover_eyes`.
    UncoverEyes,
    /// Mouth covered (mask). Id `uncover_mouth`.
    UncoverMouth,
    /// Image blurred or face moving: "hold the phone steady". Id `hold_steady`.
    HoldSteady,
    /// Everything is good: "very good, please stay still". Id `hold_still`.
    HoldStill,
}

impl Instruction {
    /// Every instruction, in priority order (most urgent first).
    pub const ALL: [Instruction; 17] = [
        Self::NoFace,
        Self::MultipleFaces,
        Self::ComeCloser,
        Self::MoveBack,
        Self::CenterFace,
        Self::FaceCamera,
        Self::RaiseChin,
        Self::LowerChin,
        Self::StraightenHead,
        Self::Backlight,
        Self::TooDark,
        Self::TooBright,
        Self::SideLight,
        Self::UncoverEyes,
        Self::UncoverMouth,
        Self::HoldSteady,
        Self::HoldStill,
    ];

    /// The stable id (also the message id).
    pub fn id(self) -> &'static str {
        match self {
            Self::NoFace => "no_face",
            Self::MultipleFaces => "multiple_faces",
            Self::ComeCloser => "come_closer",
            Self::MoveBack => "move_back",
            Self::CenterFace => "center_face",
            Self::FaceCamera => "face_camera",
            Self::RaiseChin => "raise_chin",
            Self::LowerChin => "lower_chin",
            Self::StraightenHead => "straighten_head",
            Self::Backlight => "backlight",
            Self::TooDark => "too_dark",
            Self::TooBright => "too_bright",
            Self::SideLight => "side_light",
            Self::UncoverEyes => "uncover_eyes",
            Self::UncoverMouth => "uncover_mouth",
            Self::HoldSteady => "hold_steady",
            Self::HoldStill => "hold_still",
        }
    }

    /// The instruction with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.id() == id)
    }

    /// Whether this is the "all good" instruction.
    pub fn is_ok(self) -> bool {
        self == Self::HoldStill
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An extra, gentle hint given when progress stalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Hint {
    /// No usable face for a while: "try a brighter place, and hold the phone about an arm
    /// away". Id `hint_not_recognised`.
    #[serde(rename = "hint_not_recognised")]
    NotRecognisedYet,
    /// Stuck with a face in view: "move your face out of the picture for a second or two,
    /// then come back". Id `hint_step_out`.
    #[serde(rename = "hint_step_out")]
    StepOutAndBack,
}

impl Hint {
    /// Every hint.
    pub const ALL: [Hint; 2] = [Self::NotRecognisedYet, Self::StepOutAndBack];

    /// The stable id (also the message id).
    pub fn id(self) -> &'static str {
        match self {
            Self::NotRecognisedYet => "hint_not_recognised",
            Self::StepOutAndBack => "hint_step_out",
        }
    }

    /// The hint with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.id() == id)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every threshold and timing of capture guidance, with the measurement settings.
///
/// Thresholds apply to [`crate::capture::quality`] numbers; each `*_margin` is the hysteresis: a
/// condition is entered at its threshold and left only once the value is back past the
/// threshold by the margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuidanceConfig {
    /// How measurements are taken (camera model, distance band, guide oval, …).
    pub quality: QualityConfig,
    /// Hysteresis on the distance band ([`QualityConfig::near_limit_cm`],
    /// [`QualityConfig::far_limit_cm`]), cm. Default 4: the distance estimate jitters by
    /// ≈ 1 cm frame to frame and people sway a few cm.
    pub distance_margin_cm: f32,
    /// The face is off-centre when fewer than this fraction of its outline points are inside
    /// the guide oval. Default 0.85 (up to 5 of 36 points, e.g. the chin tip, may stick
    /// out).
    pub min_inside_guide: f32,
    /// Hysteresis on [`GuidanceConfig::min_inside_guide`]. Default 0.1 (leave at 0.95).
    pub inside_guide_margin: f32,
    /// Largest acceptable |yaw|, degrees. Default 10 (manuals: "turn under 10°").
    pub max_yaw_deg: f32,
    /// Largest acceptable |pitch|, degrees. Default 10 (manuals: "nod under 10°").
    pub max_pitch_deg: f32,
    /// Largest acceptable |roll|, degrees. Default 10 (manuals: "tilt under 10°").
    pub max_roll_deg: f32,
    /// Hysteresis on the pose limits, degrees. Default 3: above the ≈ 1–2° frame-to-frame
    /// noise of a landmark-fitted pose.
    pub pose_margin_deg: f32,
    /// Face luma below this is too dark. Default 60: below it the face texture drowns in
    /// sensor noise on cheap phones and matchers lose accuracy; well-exposed faces read
    /// ≈ 100–190 (median ≈ 150 over the calibration photos).
    pub min_face_luma: f32,
    /// Face luma above this is too bright. Default 210: beyond it skin detail is washed
    /// out (the calibration photos never exceed ≈ 195).
    pub max_face_luma: f32,
    /// Hysteresis on the face-luma limits, luma levels. Default 10.
    pub luma_margin: f32,
    /// Too bright also when more than this fraction of face pixels is clipped white (harsh
    /// sun on the forehead and cheeks while the mean still looks fine). Default 0.25.
    pub max_bright_clipped: f32,
    /// Hysteresis on [`GuidanceConfig::max_bright_clipped`]. Default 0.05.
    pub clipped_margin: f32,
    /// Backlight when the background is at least this much brighter than the face, luma
    /// levels (and the face is darker than [`GuidanceConfig::backlight_max_face_luma`]).
    /// Default 70: an evenly lit white wall reads up to ≈ 60 above a face (luma ratio
    /// ≤ ≈ 1.6), a window or the sky behind the head 100+.
    pub backlight_min_difference: f32,
    /// Backlight only matters when it darkens the face: above this face luma the face is
    /// exposed well enough whatever the background. Default 80: studio portraits against
    /// a white backdrop (faces 80–105, backdrop 210–245) are still good for matching, and
    /// a gate of 100 flagged two thirds of them; real backlight drives phone faces to
    /// ≈ 30–80. With a face below 80 a difference of 70 implies a luma ratio ≥ 1.85, so no
    /// separate ratio threshold is needed (a ratio alone would flag dim rooms, where "too
    /// dark" is the better advice).
    pub backlight_max_face_luma: f32,
    /// Hysteresis on both backlight thresholds, luma levels. Default 10.
    pub backlight_margin: f32,
    /// Side light when the two face halves' luma imbalance `|L − R| / (L + R)` exceeds
    /// this. Default 0.35 (one half ≈ half as bright as the other). Calibration: frontal
    /// and ambient-lit photos read ≤ 0.3 (a few mildly side-lit ones 0.3–0.39); the Yale
    /// side-lit portraits read 0.27–0.49.
    pub max_side_imbalance: f32,
    /// Hysteresis on [`GuidanceConfig::max_side_imbalance`]. Default 0.05.
    pub side_imbalance_margin: f32,
    /// An eye counts as covered when its region's luma over its face half's falls below
    /// this ([`crate::capture::quality::EyeRegion::luma_ratio`]). Default 0.3: uncovered eyes read
    /// ≥ 0.33 over the calibration photos (deep-set eyes, glasses included; median ≈ 0.7),
    /// dark sunglasses ≈ 0.2.
    pub min_eye_luma_ratio: f32,
    /// Hysteresis on [`GuidanceConfig::min_eye_luma_ratio`]. Default 0.05.
    pub eye_luma_margin: f32,
    /// The mouth counts as covered when its region is this many times brighter than the
    /// eye-level skin (a white or light mask). Default 1.55: uncovered mouths read ≤ 1.54
    /// over the calibration photos, white masks 1.57–2.2.
    pub max_mouth_luma_ratio: f32,
    /// Hysteresis on [`GuidanceConfig::max_mouth_luma_ratio`]. Default 0.1.
    pub mouth_luma_margin: f32,
    /// The mouth counts as covered when its redness (`Cr`) is this much below the skin's
    /// (blue, black, grey masks), chroma levels. Default −20: lips are redder than skin
    /// (uncovered mouths read ≥ −7 in the calibration photos), a blue surgical mask reads
    /// ≈ −40, a black one ≈ −20. A dark beard can read −10 to −17, hence the lenient value.
    pub min_mouth_redness: f32,
    /// Hysteresis on [`GuidanceConfig::min_mouth_redness`], chroma levels. Default 4.
    pub mouth_redness_margin: f32,
    /// Blurred below this sharpness ([`FaceQuality::sharpness`]). Default 0.2: over the
    /// calibration photos sharp faces read median 0.7 and 5th percentile 0.33, while the
    /// same faces blurred with σ = 3 px per 200 px of face height read median 0.12 and 95th
    /// percentile 0.17.
    pub min_sharpness: f32,
    /// Hysteresis on [`GuidanceConfig::min_sharpness`]. Default 0.04.
    pub sharpness_margin: f32,
    /// Moving when the face centre travels faster than this, face heights per second.
    /// Default 0.5: at 30 fps that is ≈ 1.7 % of the face per frame, the start of visible
    /// motion blur; hand tremor stays below ≈ 0.1.
    pub max_translation_per_s: f32,
    /// Moving when the face size changes faster than this, `|ln ratio|` per second.
    /// Default 0.4 (≈ 13 cm/s towards or away at 40 cm).
    pub max_scale_change_per_s: f32,
    /// Hysteresis on both motion limits (same units). Default 0.1.
    pub motion_margin: f32,
    /// An instruction stays at least this long before the engine switches to another.
    /// Default 1.2 s: long enough to hear and act on one short sentence.
    pub min_dwell: Duration,
    /// A new verdict must hold this long before it is adopted (filters single-frame
    /// glitches of the detector or a measurement). Default 0.3 s.
    pub switch_confirm: Duration,
    /// "All good" must hold this long before the engine says so. Default 1.0 s, so the
    /// person is not praised for a face that passes by.
    pub ok_dwell: Duration,
    /// An instruction adopted again is spoken again only if it was last spoken at least this
    /// long ago. Default 4 s: two alternating problems do not make the phone chatter.
    pub repeat_interval: Duration,
    /// While an instruction stays (other than "hold still"), it is spoken again this often.
    /// Default 8 s: a reminder for someone who did not hear it, not a nag.
    pub reminder_interval: Duration,
    /// Without a usable frame for this long, [`Hint::NotRecognisedYet`]. Default 5 s
    /// (manuals: "if nothing is recognised for about 5 s, adjust").
    pub not_recognised_hint_after: Duration,
    /// Not usable for this long with a face in view (since the face last came into view),
    /// [`Hint::StepOutAndBack`]. Default 10 s (manuals: "if it is slow, move the face out of
    /// the frame for 1–2 s and come back").
    pub step_out_hint_after: Duration,
    /// A hint still in force is spoken again this often. Default 15 s.
    pub hint_repeat_interval: Duration,
}

impl Default for GuidanceConfig {
    fn default() -> Self {
        Self {
            quality: QualityConfig::default(),
            distance_margin_cm: 4.0,
            min_inside_guide: 0.85,
            inside_guide_margin: 0.1,
            max_yaw_deg: 10.0,
            max_pitch_deg: 10.0,
            max_roll_deg: 10.0,
            pose_margin_deg: 3.0,
            min_face_luma: 60.0,
            max_face_luma: 210.0,
            luma_margin: 10.0,
            max_bright_clipped: 0.25,
            clipped_margin: 0.05,
            backlight_min_difference: 70.0,
            backlight_max_face_luma: 80.0,
            backlight_margin: 10.0,
            max_side_imbalance: 0.35,
            side_imbalance_margin: 0.05,
            min_eye_luma_ratio: 0.3,
            eye_luma_margin: 0.05,
            max_mouth_luma_ratio: 1.55,
            mouth_luma_margin: 0.1,
            min_mouth_redness: -20.0,
            mouth_redness_margin: 4.0,
            min_sharpness: 0.2,
            sharpness_margin: 0.04,
            max_translation_per_s: 0.5,
            max_scale_change_per_s: 0.4,
            motion_margin: 0.1,
            min_dwell: Duration::from_millis(1200),
            switch_confirm: Duration::from_millis(300),
            ok_dwell: Duration::from_millis(1000),
            repeat_interval: Duration::from_secs(4),
            reminder_interval: Duration::from_secs(8),
            not_recognised_hint_after: Duration::from_secs(5),
            step_out_hint_after: Duration::from_secs(10),
            hint_repeat_interval: Duration::from_secs(15),
        }
    }
}

/// A [`GuidanceConfig`] value outside its meaningful range.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("invalid guidance setting {field}: {reason}")]
pub struct GuidanceConfigError {
    /// The offending field.
    pub field: &'static str,
    /// Why it is rejected.
    pub reason: String,
}

impl GuidanceConfig {
    /// Checks that every value is finite and in its meaningful range.
    pub fn validate(&self) -> Result<(), GuidanceConfigError> {
        let q = &self.quality;
        let bad = |field: &'static str, reason: &str| {
            Err(GuidanceConfigError {
                field,
                reason: reason.to_string(),
            })
        };
        let finite_non_negative: [(&'static str, f32); 17] = [
            ("distance_margin_cm", self.distance_margin_cm),
            ("inside_guide_margin", self.inside_guide_margin),
            ("max_yaw_deg", self.max_yaw_deg),
            ("max_pitch_deg", self.max_pitch_deg),
            ("max_roll_deg", self.max_roll_deg),
            ("pose_margin_deg", self.pose_margin_deg),
            ("luma_margin", self.luma_margin),
            ("clipped_margin", self.clipped_margin),
            ("backlight_margin", self.backlight_margin),
            ("side_imbalance_margin", self.side_imbalance_margin),
            ("eye_luma_margin", self.eye_luma_margin),
            ("mouth_luma_margin", self.mouth_luma_margin),
            ("mouth_redness_margin", self.mouth_redness_margin),
            ("sharpness_margin", self.sharpness_margin),
            ("max_translation_per_s", self.max_translation_per_s),
            ("max_scale_change_per_s", self.max_scale_change_per_s),
            ("motion_margin", self.motion_margin),
        ];
        for (field, v) in finite_non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, "must be finite and ≥ 0");
            }
        }
        let all_finite = [
            self.min_inside_guide,
            self.min_face_luma,
            self.max_face_luma,
            self.max_bright_clipped,
            self.backlight_min_difference,
            self.backlight_max_face_luma,
            self.max_side_imbalance,
            self.min_eye_luma_ratio,
            self.max_mouth_luma_ratio,
            self.min_mouth_redness,
            self.min_sharpness,
            q.camera_fov_long_side_deg,
            q.interpupillary_distance_cm,
            q.chip_pixels_per_iod,
            q.face_mask_shrink,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !all_finite {
            return bad("thresholds", "must be finite");
        }
        if !(q.near_limit_cm > 0.0 && q.near_limit_cm < q.far_limit_cm) {
            return bad("quality.near_limit_cm", "must be > 0 and < far_limit_cm");
        }
        if self.min_face_luma >= self.max_face_luma {
            return bad("min_face_luma", "must be < max_face_luma");
        }
        if !(0.0..=1.0).contains(&self.min_inside_guide) {
            return bad("min_inside_guide", "must be within [0, 1]");
        }
        if !(10.0..=170.0).contains(&q.camera_fov_long_side_deg) {
            return bad(
                "quality.camera_fov_long_side_deg",
                "must be within [10, 170]",
            );
        }
        if !(q.interpupillary_distance_cm > 0.0 && q.chip_pixels_per_iod >= 8.0) {
            return bad(
                "quality",
                "interpupillary_distance_cm must be > 0, chip_pixels_per_iod ≥ 8",
            );
        }
        if self.min_dwell < self.switch_confirm {
            return bad("min_dwell", "must be ≥ switch_confirm");
        }
        Ok(())
    }
}

/// What the engine says after one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceUpdate {
    /// The instruction to show (smoothed over time).
    pub instruction: Instruction,
    /// True when `instruction` differs from the previous update's (and on the first one).
    pub changed: bool,
    /// True when the shell should speak `instruction` now.
    pub speak: bool,
    /// The hint in force, if any (shown for as long as it is `Some`).
    pub hint: Option<Hint>,
    /// True when the shell should speak `hint` now (never on the same update as `speak`).
    pub speak_hint: bool,
    /// True when this frame alone passes every check (the face is usable now). This is the
    /// raw per-frame verdict; `instruction` turns to [`Instruction::HoldStill`] only after
    /// [`GuidanceConfig::ok_dwell`].
    pub ready: bool,
    /// This frame's own verdict, before smoothing over time (for logs and tests).
    pub frame_instruction: Instruction,
}

/// Which conditions are active, with hysteresis memory.
#[derive(Debug, Clone, Copy, Default)]
struct ActiveConditions {
    too_far: bool,
    too_close: bool,
    off_centre: bool,
    yaw: bool,
    chin_up: bool,
    chin_down: bool,
    roll: bool,
    backlight: bool,
    dark: bool,
    bright: bool,
    clipped: bool,
    side_light: bool,
    eyes_covered: bool,
    mouth_bright: bool,
    mouth_colour: bool,
    blurred: bool,
    moving: bool,
}

/// "Value above limit is bad": entered above `limit`, left below `limit − margin`. NaN is bad.
fn above(active: bool, value: f32, limit: f32, margin: f32) -> bool {
    if value.is_nan() {
        return true;
    }
    if active {
        value > limit - margin
    } else {
        value > limit
    }
}

/// "Value below limit is bad": entered below `limit`, left above `limit + margin`. NaN is bad.
fn below(active: bool, value: f32, limit: f32, margin: f32) -> bool {
    if value.is_nan() {
        return true;
    }
    if active {
        value < limit + margin
    } else {
        value < limit
    }
}

impl ActiveConditions {
    /// Updates every condition of a present face (so hysteresis memory stays current) and
    /// returns the highest-priority instruction, or `HoldStill`.
    fn evaluate(&mut self, face: &FaceQuality, cfg: &GuidanceConfig) -> Instruction {
        let geometry = self.update_geometry(face, cfg);
        let pose = self.update_pose(face, cfg);
        let light = match &face.light {
            Some(l) => self.update_light(l, cfg),
            // Too little of the face is inside the image to judge light.
            None => Some(Instruction::CenterFace),
        };
        let occlusion = self.update_occlusion(face, cfg);
        let steadiness = self.update_steadiness(face, cfg);
        geometry
            .or(pose)
            .or(light)
            .or(occlusion)
            .or(steadiness)
            .unwrap_or(Instruction::HoldStill)
    }

    fn update_geometry(&mut self, f: &FaceQuality, cfg: &GuidanceConfig) -> Option<Instruction> {
        let q = &cfg.quality;
        let d = f.size.distance_cm;
        self.too_far = above(self.too_far, d, q.far_limit_cm, cfg.distance_margin_cm);
        self.too_close = below(self.too_close, d, q.near_limit_cm, cfg.distance_margin_cm);
        self.off_centre = below(
            self.off_centre,
            f.centring.inside_guide_fraction,
            cfg.min_inside_guide,
            cfg.inside_guide_margin,
        );
        if self.too_far {
            Some(Instruction::ComeCloser)
        } else if self.too_close {
            Some(Instruction::MoveBack)
        } else if self.off_centre {
            Some(Instruction::CenterFace)
        } else {
            None
        }
    }

    fn update_pose(&mut self, f: &FaceQuality, cfg: &GuidanceConfig) -> Option<Instruction> {
        let p = f.pose;
        let m = cfg.pose_margin_deg;
        self.yaw = above(self.yaw, p.yaw.abs(), cfg.max_yaw_deg, m);
        // Pitch > 0 is chin up (nose pointing up).
        self.chin_up = above(self.chin_up, p.pitch, cfg.max_pitch_deg, m);
        self.chin_down = below(self.chin_down, p.pitch, -cfg.max_pitch_deg, m);
        self.roll = above(self.roll, p.roll.abs(), cfg.max_roll_deg, m);
        let pose_unknown = !(p.yaw.is_finite() && p.pitch.is_finite() && p.roll.is_finite());
        if pose_unknown || self.yaw {
            Some(Instruction::FaceCamera)
        } else if self.chin_up {
            Some(Instruction::LowerChin)
        } else if self.chin_down {
            Some(Instruction::RaiseChin)
        } else if self.roll {
            Some(Instruction::StraightenHead)
        } else {
            None
        }
    }

    fn update_light(&mut self, l: &LightQuality, cfg: &GuidanceConfig) -> Option<Instruction> {
        let y = l.face_luma;
        let bm = cfg.backlight_margin;
        self.backlight = match l.backlight_difference {
            Some(diff) => {
                above(self.backlight, diff, cfg.backlight_min_difference, bm)
                    && below(self.backlight, y, cfg.backlight_max_face_luma, bm)
            }
            None => false,
        };
        self.dark = below(self.dark, y, cfg.min_face_luma, cfg.luma_margin);
        self.bright = above(self.bright, y, cfg.max_face_luma, cfg.luma_margin);
        self.clipped = above(
            self.clipped,
            l.bright_clipped_fraction,
            cfg.max_bright_clipped,
            cfg.clipped_margin,
        );
        self.side_light = above(
            self.side_light,
            l.half_imbalance.abs(),
            cfg.max_side_imbalance,
            cfg.side_imbalance_margin,
        );
        if self.bright || self.clipped {
            Some(Instruction::TooBright)
        } else if self.side_light {
            Some(Instruction::SideLight)
        } else if self.backlight {
            Some(Instruction::Backlight)
        } else if self.dark {
            Some(Instruction::TooDark)
        } else {
            None
        }
    }

    /// Missing eye or mouth measurements (region outside the image) do not block: the
    /// centring check already covers a face that leaves the frame.
    fn update_occlusion(&mut self, f: &FaceQuality, cfg: &GuidanceConfig) -> Option<Instruction> {
        self.eyes_covered = f.eyes.is_some_and(|e| {
            below(
                self.eyes_covered,
                e.min_luma_ratio(),
                cfg.min_eye_luma_ratio,
                cfg.eye_luma_margin,
            )
        });
        self.mouth_bright = f.mouth.is_some_and(|m| {
            above(
                self.mouth_bright,
                m.luma_ratio,
                cfg.max_mouth_luma_ratio,
                cfg.mouth_luma_margin,
            )
        });
        self.mouth_colour = f.mouth.is_some_and(|m| {
            below(
                self.mouth_colour,
                m.redness_difference,
                cfg.min_mouth_redness,
                cfg.mouth_redness_margin,
            )
        });
        if self.eyes_covered {
            Some(Instruction::UncoverEyes)
        } else if self.mouth_bright || self.mouth_colour {
            Some(Instruction::UncoverMouth)
        } else {
            None
        }
    }

    fn update_steadiness(&mut self, f: &FaceQuality, cfg: &GuidanceConfig) -> Option<Instruction> {
        self.blurred = f
            .sharpness
            .is_some_and(|s| below(self.blurred, s, cfg.min_sharpness, cfg.sharpness_margin));
        self.moving = f.motion.is_some_and(|m| {
            let mm = cfg.motion_margin;
            let fast = above(
                self.moving,
                m.translation_per_s,
                cfg.max_translation_per_s,
                mm,
            );
            let zoom = above(
                self.moving,
                m.scale_change_per_s,
                cfg.max_scale_change_per_s,
                mm,
            );
            fast || zoom
        });
        (self.blurred || self.moving).then_some(Instruction::HoldSteady)
    }
}

/// The verdict of one frame from its measurements.
fn frame_verdict(
    m: &QualityMeasurements,
    active: &mut ActiveConditions,
    cfg: &GuidanceConfig,
) -> Instruction {
    match &m.primary {
        None => Instruction::NoFace,
        Some(face) => {
            // Evaluate everything even when a higher-priority condition wins, so the
            // hysteresis memory of each condition stays current.
            let verdict = active.evaluate(face, cfg);
            if m.significant_face_count > 1 {
                Instruction::MultipleFaces
            } else {
                verdict
            }
        }
    }
}

/// Timing state of the engine.
#[derive(Debug, Clone)]
struct Timeline {
    /// Timestamp of the latest update (timestamps are clamped to be non-decreasing).
    now: Duration,
    shown: Instruction,
    shown_since: Duration,
    pending: Instruction,
    pending_since: Duration,
    last_spoken: [Option<Duration>; Instruction::ALL.len()],
    last_ready: Duration,
    face_in_view: bool,
    face_entered: Duration,
    hint_spoken: [Option<Duration>; Hint::ALL.len()],
}

/// The guidance engine for one capture session. Feed it every analysed frame in order with
/// its timestamp (wall-clock time since the session started).
#[derive(Debug, Clone)]
pub struct GuidanceEngine {
    config: GuidanceConfig,
    active: ActiveConditions,
    timeline: Option<Timeline>,
}

impl GuidanceEngine {
    /// A new engine; the configuration is checked first.
    pub fn new(config: GuidanceConfig) -> Result<Self, GuidanceConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            active: ActiveConditions::default(),
            timeline: None,
        })
    }

    /// The configuration (its `quality` part is what [`crate::capture::quality::measure`] needs).
    pub fn config(&self) -> &GuidanceConfig {
        &self.config
    }

    /// Starts over, as for a new session ("try again" must really reset).
    pub fn reset(&mut self) {
        self.active = ActiveConditions::default();
        self.timeline = None;
    }

    /// Takes one frame's measurements and returns what to show and say.
    ///
    /// `timestamp` is wall-clock time since the session started; a timestamp earlier than
    /// the previous one is treated as equal to it.
    pub fn update(&mut self, m: &QualityMeasurements, timestamp: Duration) -> GuidanceUpdate {
        let _span = tracing::trace_span!("guidance_update").entered();
        let verdict = frame_verdict(m, &mut self.active, &self.config);
        let ready = verdict.is_ok();
        let face_present = m.primary.is_some();
        let cfg = &self.config;
        let Some(t) = self.timeline.as_mut() else {
            let mut t = Timeline::start(verdict, timestamp, face_present);
            t.last_spoken[verdict.index()] = Some(timestamp);
            self.timeline = Some(t);
            return GuidanceUpdate {
                instruction: verdict,
                changed: true,
                speak: true,
                hint: None,
                speak_hint: false,
                ready,
                frame_instruction: verdict,
            };
        };
        t.advance(timestamp, face_present, ready);
        let changed = t.follow(verdict, cfg);
        let speak = t.should_speak(changed, cfg);
        let hint = t.hint(ready, face_present, cfg);
        let speak_hint = !speak && hint.is_some_and(|h| t.should_speak_hint(h, cfg));
        if speak {
            tracing::debug!(instruction = t.shown.id(), "guidance speaks");
        }
        GuidanceUpdate {
            instruction: t.shown,
            changed,
            speak,
            hint,
            speak_hint,
            ready,
            frame_instruction: verdict,
        }
    }
}

impl Timeline {
    fn start(verdict: Instruction, at: Duration, face_present: bool) -> Self {
        Self {
            now: at,
            shown: verdict,
            shown_since: at,
            pending: verdict,
            pending_since: at,
            last_spoken: [None; Instruction::ALL.len()],
            last_ready: at,
            face_in_view: face_present,
            face_entered: at,
            hint_spoken: [None; Hint::ALL.len()],
        }
    }

    /// Moves the clock and the face / readiness bookkeeping.
    fn advance(&mut self, timestamp: Duration, face_present: bool, ready: bool) {
        self.now = self.now.max(timestamp);
        if face_present && !self.face_in_view {
            self.face_entered = self.now;
        }
        self.face_in_view = face_present;
        if ready {
            self.last_ready = self.now;
        }
    }

    fn since(&self, t: Duration) -> Duration {
        self.now.saturating_sub(t)
    }

    /// Applies dwell and confirmation; returns whether the shown instruction changed.
    fn follow(&mut self, verdict: Instruction, cfg: &GuidanceConfig) -> bool {
        if verdict != self.pending {
            self.pending = verdict;
            self.pending_since = self.now;
        }
        if self.pending == self.shown {
            return false;
        }
        let confirm = if self.pending.is_ok() {
            cfg.ok_dwell
        } else {
            cfg.switch_confirm
        };
        if self.since(self.shown_since) < cfg.min_dwell || self.since(self.pending_since) < confirm
        {
            return false;
        }
        self.shown = self.pending;
        self.shown_since = self.now;
        true
    }

    /// Speak on a change unless said recently; remind while a problem persists.
    fn should_speak(&mut self, changed: bool, cfg: &GuidanceConfig) -> bool {
        let last = self.last_spoken[self.shown.index()];
        let speak = match last {
            None => true,
            Some(at) if changed => self.since(at) >= cfg.repeat_interval,
            Some(at) => {
                !self.shown.is_ok()
                    && self.since(at) >= cfg.reminder_interval
                    && self.since(self.shown_since) >= cfg.reminder_interval
            }
        };
        if speak {
            self.last_spoken[self.shown.index()] = Some(self.now);
        }
        speak
    }

    fn hint(&self, ready: bool, face_present: bool, cfg: &GuidanceConfig) -> Option<Hint> {
        if ready {
            return None;
        }
        let stuck_since = self.last_ready.max(self.face_entered);
        if face_present && self.since(stuck_since) >= cfg.step_out_hint_after {
            Some(Hint::StepOutAndBack)
        } else if self.since(self.last_ready) >= cfg.not_recognised_hint_after {
            Some(Hint::NotRecognisedYet)
        } else {
            None
        }
    }

    fn should_speak_hint(&mut self, hint: Hint, cfg: &GuidanceConfig) -> bool {
        let due = match self.hint_spoken[hint.index()] {
            None => true,
            Some(at) => self.since(at) >= cfg.hint_repeat_interval,
        };
        if due {
            self.hint_spoken[hint.index()] = Some(self.now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::quality::{
        Centring, DistanceBand, EyeQuality, EyeRegion, FaceSize, GeometrySource, Motion,
        MouthQuality,
    };
    use crate::face::observation::HeadPose;
    use crate::image::geometry::Point;

    fn good_face() -> FaceQuality {
        let eye = EyeRegion {
            openness: Some(0.28),
            luma_ratio: 0.7,
            contrast: 0.25,
        };
        FaceQuality {
            index: 0,
            geometry: GeometrySource::Landmarks,
            size: FaceSize {
                interocular_px: 55.0,
                interocular_fraction: 0.115,
                face_height_px: 146.0,
                face_height_fraction: 0.23,
                distance_cm: 50.0,
                band: DistanceBand::Ok,
            },
            centring: Centring {
                face_center: Point::new(240.0, 288.0),
                offset_x: 0.0,
                offset_y: 0.0,
                offset: 0.0,
                inside_guide_fraction: 1.0,
                in_frame_fraction: 1.0,
            },
            pose: HeadPose::default(),
            light: Some(LightQuality {
                face_luma: 140.0,
                dark_clipped_fraction: 0.0,
                bright_clipped_fraction: 0.0,
                background_luma: Some(120.0),
                backlight_difference: Some(-20.0),
                backlight_ratio: Some(0.86),
                half_imbalance: 0.05,
            }),
            sharpness: Some(0.8),
            eyes: Some(EyeQuality {
                right: eye,
                left: eye,
            }),
            mouth: Some(MouthQuality {
                chroma_distance: 6.0,
                redness_difference: 3.0,
                luma_ratio: 0.95,
            }),
            motion: Some(Motion {
                translation_per_s: 0.05,
                scale_change_per_s: 0.02,
                span: Duration::from_millis(300),
            }),
        }
    }

    fn frame(face: Option<FaceQuality>) -> QualityMeasurements {
        let n = usize::from(face.is_some());
        QualityMeasurements {
            face_count: n,
            significant_face_count: n,
            primary: face,
        }
    }

    fn with(change: impl Fn(&mut FaceQuality)) -> QualityMeasurements {
        let mut f = good_face();
        change(&mut f);
        frame(Some(f))
    }

    fn light(f: &mut FaceQuality) -> &mut LightQuality {
        f.light.as_mut().unwrap()
    }

    fn set_light(f: &mut FaceQuality, face: f32, background: f32) {
        let l = light(f);
        l.face_luma = face;
        l.background_luma = Some(background);
        l.backlight_difference = Some(background - face);
        l.backlight_ratio = Some((background + 1.0) / (face + 1.0));
    }

    fn engine() -> GuidanceEngine {
        GuidanceEngine::new(GuidanceConfig::default()).unwrap()
    }

    fn verdict(m: &QualityMeasurements) -> Instruction {
        engine().update(m, Duration::ZERO).frame_instruction
    }

    fn ms(t: u64) -> Duration {
        Duration::from_millis(t)
    }

    type Fix = fn(&mut FaceQuality);
    type Problem = (&'static str, Fix, Instruction);

    fn problems() -> Vec<Problem> {
        vec![
            (
                "far",
                |f| f.size.distance_cm = 80.0,
                Instruction::ComeCloser,
            ),
            (
                "close",
                |f| f.size.distance_cm = 30.0,
                Instruction::MoveBack,
            ),
            (
                "off centre",
                |f| f.centring.inside_guide_fraction = 0.5,
                Instruction::CenterFace,
            ),
            ("turned", |f| f.pose.yaw = -18.0, Instruction::FaceCamera),
            ("chin up", |f| f.pose.pitch = 15.0, Instruction::LowerChin),
            (
                "chin down",
                |f| f.pose.pitch = -15.0,
                Instruction::RaiseChin,
            ),
            (
                "tilted",
                |f| f.pose.roll = 14.0,
                Instruction::StraightenHead,
            ),
            (
                "nan pose",
                |f| f.pose.pitch = f32::NAN,
                Instruction::FaceCamera,
            ),
            (
                "window behind",
                |f| set_light(f, 70.0, 200.0),
                Instruction::Backlight,
            ),
            (
                "white backdrop",
                |f| set_light(f, 90.0, 220.0),
                Instruction::HoldStill,
            ),
            (
                "dark and backlit",
                |f| set_light(f, 40.0, 200.0),
                Instruction::Backlight,
            ),
            (
                "dark room",
                |f| set_light(f, 45.0, 50.0),
                Instruction::TooDark,
            ),
            (
                "glare",
                |f| set_light(f, 225.0, 200.0),
                Instruction::TooBright,
            ),
            (
                "clipped",
                |f| light(f).bright_clipped_fraction = 0.4,
                Instruction::TooBright,
            ),
            (
                "side light",
                |f| light(f).half_imbalance = -0.45,
                Instruction::SideLight,
            ),
            (
                "no light reading",
                |f| f.light = None,
                Instruction::CenterFace,
            ),
            (
                "sunglasses",
                |f| f.eyes.as_mut().unwrap().left.luma_ratio = 0.2,
                Instruction::UncoverEyes,
            ),
            (
                "white mask",
                |f| f.mouth.as_mut().unwrap().luma_ratio = 1.9,
                Instruction::UncoverMouth,
            ),
            (
                "blue mask",
                |f| f.mouth.as_mut().unwrap().redness_difference = -40.0,
                Instruction::UncoverMouth,
            ),
            (
                "blurred",
                |f| f.sharpness = Some(0.1),
                Instruction::HoldSteady,
            ),
            (
                "moving",
                |f| f.motion.as_mut().unwrap().translation_per_s = 0.9,
                Instruction::HoldSteady,
            ),
            (
                "zooming",
                |f| f.motion.as_mut().unwrap().scale_change_per_s = 0.8,
                Instruction::HoldSteady,
            ),
            // Not problems: an evenly lit white wall behind a well-exposed face, a beard-dark
            // mouth, unknown eyes/mouth/motion.
            (
                "white wall",
                |f| set_light(f, 150.0, 225.0),
                Instruction::HoldStill,
            ),
            (
                "dark beard",
                |f| {
                    let m = f.mouth.as_mut().unwrap();
                    m.luma_ratio = 0.4;
                    m.redness_difference = -12.0;
                },
                Instruction::HoldStill,
            ),
            (
                "unknowns",
                |f| {
                    f.eyes = None;
                    f.mouth = None;
                    f.motion = None;
                    f.sharpness = None;
                },
                Instruction::HoldStill,
            ),
        ]
    }

    #[test]
    fn each_problem_maps_to_its_instruction() {
        assert_eq!(verdict(&frame(Some(good_face()))), Instruction::HoldStill);
        for (name, problem, expected) in problems() {
            assert_eq!(verdict(&with(problem)), expected, "{name}");
        }
    }

    #[test]
    fn the_most_urgent_problem_wins() {
        // Problems in priority order; with problems k.. applied, problem k must win.
        let ordered: [(Fix, Instruction); 8] = [
            (|f| f.size.distance_cm = 80.0, Instruction::ComeCloser),
            (
                |f| f.centring.inside_guide_fraction = 0.5,
                Instruction::CenterFace,
            ),
            (|f| f.pose.yaw = 25.0, Instruction::FaceCamera),
            (|f| f.pose.roll = -25.0, Instruction::StraightenHead),
            (|f| set_light(f, 70.0, 220.0), Instruction::Backlight),
            (
                |f| f.eyes.as_mut().unwrap().right.luma_ratio = 0.1,
                Instruction::UncoverEyes,
            ),
            (
                |f| f.mouth.as_mut().unwrap().luma_ratio = 2.0,
                Instruction::UncoverMouth,
            ),
            (|f| f.sharpness = Some(0.05), Instruction::HoldSteady),
        ];
        for k in 0..ordered.len() {
            let m = with(|f| ordered[k..].iter().for_each(|(p, _)| p(f)));
            assert_eq!(verdict(&m), ordered[k].1, "from problem {k}");
        }
        let mut crowded = with(|f| ordered.iter().for_each(|(p, _)| p(f)));
        crowded.significant_face_count = 2;
        crowded.face_count = 3;
        assert_eq!(verdict(&crowded), Instruction::MultipleFaces);
        assert_eq!(verdict(&frame(None)), Instruction::NoFace);
        // Within light: the most specific cause first.
        let side_and_dark = with(|f| {
            set_light(f, 40.0, 45.0);
            light(f).half_imbalance = 0.5;
        });
        assert_eq!(verdict(&side_and_dark), Instruction::SideLight);
        let side_and_bright_background = with(|f| {
            set_light(f, 70.0, 200.0);
            light(f).half_imbalance = 0.5;
        });
        assert_eq!(verdict(&side_and_bright_background), Instruction::SideLight);
        let backlit_and_dark = with(|f| set_light(f, 30.0, 200.0));
        assert_eq!(verdict(&backlit_and_dark), Instruction::Backlight);
        let sun_from_the_side = with(|f| {
            light(f).bright_clipped_fraction = 0.3;
            light(f).half_imbalance = 0.5;
        });
        assert_eq!(verdict(&sun_from_the_side), Instruction::TooBright);
    }

    #[test]
    fn values_hovering_at_a_threshold_do_not_flip_the_verdict() {
        let mut e = engine();
        let mut t = 0;
        let mut step = |e: &mut GuidanceEngine, m: QualityMeasurements| {
            t += 33;
            e.update(&m, ms(t)).frame_instruction
        };
        let at = |d: f32| with(move |f| f.size.distance_cm = d);
        assert_eq!(step(&mut e, at(59.5)), Instruction::HoldStill);
        assert_eq!(step(&mut e, at(60.5)), Instruction::ComeCloser);
        for d in [59.0, 60.8, 57.0, 61.0, 56.5, 59.9] {
            assert_eq!(step(&mut e, at(d)), Instruction::ComeCloser, "at {d} cm");
        }
        assert_eq!(step(&mut e, at(55.0)), Instruction::HoldStill);
        assert_eq!(step(&mut e, at(59.9)), Instruction::HoldStill);

        let luma = |y: f32| with(move |f| set_light(f, y, y));
        assert_eq!(step(&mut e, luma(62.0)), Instruction::HoldStill);
        assert_eq!(step(&mut e, luma(58.0)), Instruction::TooDark);
        for y in [61.0, 65.0, 59.0, 69.0] {
            assert_eq!(step(&mut e, luma(y)), Instruction::TooDark, "at luma {y}");
        }
        assert_eq!(step(&mut e, luma(71.0)), Instruction::HoldStill);

        let yaw = |a: f32| with(move |f| f.pose.yaw = a);
        assert_eq!(step(&mut e, yaw(10.5)), Instruction::FaceCamera);
        assert_eq!(step(&mut e, yaw(-9.0)), Instruction::FaceCamera);
        assert_eq!(step(&mut e, yaw(6.5)), Instruction::HoldStill);
    }

    /// Runs frames every `period_ms` until `end_ms`, with measurements from `at(t_ms)`.
    fn run(
        e: &mut GuidanceEngine,
        times: impl IntoIterator<Item = u64>,
        at: impl Fn(u64) -> QualityMeasurements,
    ) -> Vec<(u64, GuidanceUpdate)> {
        times
            .into_iter()
            .map(|t| (t, e.update(&at(t), ms(t))))
            .collect()
    }

    fn every(period_ms: u64, end_ms: u64) -> impl Iterator<Item = u64> {
        (0..=end_ms / period_ms).map(move |k| k * period_ms)
    }

    fn backlit_when(on: bool) -> QualityMeasurements {
        with(move |f| {
            if on {
                set_light(f, 70.0, 220.0)
            }
        })
    }

    #[test]
    fn a_condition_flickering_every_200ms_does_not_change_the_instruction() {
        let mut e = engine();
        let updates = run(&mut e, every(33, 20_000), |t| {
            backlit_when((t / 200) % 2 == 1)
        });
        let changes = updates.iter().filter(|(_, u)| u.changed).count();
        let speaks = updates.iter().filter(|(_, u)| u.speak).count();
        assert_eq!(changes, 1, "only the first instruction");
        assert_eq!(speaks, 1);
    }

    #[test]
    fn slower_flicker_changes_at_most_once_per_dwell_and_speaks_sparingly() {
        let cfg = GuidanceConfig::default();
        for period in [400, 700, 1100, 1500] {
            let mut e = engine();
            let updates = run(&mut e, every(33, 30_000), |t| {
                backlit_when((t / period) % 2 == 1)
            });
            let change_times: Vec<u64> = updates
                .iter()
                .filter(|(_, u)| u.changed)
                .map(|(t, _)| *t)
                .collect();
            for w in change_times.windows(2) {
                assert!(
                    ms(w[1] - w[0]) >= cfg.min_dwell,
                    "period {period}: changes at {w:?}"
                );
            }
            let mut last_spoken: HashMap<Instruction, u64> = HashMap::new();
            for (t, u) in updates.iter().filter(|(_, u)| u.speak) {
                if let Some(prev) = last_spoken.insert(u.instruction, *t) {
                    assert!(
                        ms(t - prev) >= cfg.repeat_interval,
                        "period {period}: {:?} spoken at {prev} and {t}",
                        u.instruction
                    );
                }
            }
        }
    }

    use std::collections::HashMap;

    #[test]
    fn all_good_is_announced_only_after_ok_dwell() {
        let cfg = GuidanceConfig::default();
        let mut e = engine();
        let updates = run(&mut e, every(33, 5000), |t| {
            with(move |f| {
                if t < 2000 {
                    f.size.distance_cm = 80.0
                }
            })
        });
        let first_ready = updates.iter().find(|(_, u)| u.ready).unwrap().0;
        let ok_at = updates
            .iter()
            .find(|(_, u)| u.instruction == Instruction::HoldStill)
            .unwrap();
        assert!((2000..2040).contains(&first_ready));
        assert!(ms(ok_at.0 - first_ready) >= cfg.ok_dwell);
        assert!(ms(ok_at.0 - first_ready) < cfg.ok_dwell + ms(40));
        assert!(ok_at.1.changed && ok_at.1.speak);
    }

    #[test]
    fn a_new_instruction_waits_for_min_dwell() {
        let mut e = engine();
        let updates = run(&mut e, every(20, 3000), |t| {
            with(move |f| {
                if t < 500 {
                    f.size.distance_cm = 80.0
                } else {
                    f.centring.inside_guide_fraction = 0.3
                }
            })
        });
        assert_eq!(updates[0].1.instruction, Instruction::ComeCloser);
        let switch = updates
            .iter()
            .find(|(_, u)| u.instruction == Instruction::CenterFace)
            .unwrap()
            .0;
        assert_eq!(switch, 1200);
    }

    #[test]
    fn a_single_glitch_frame_is_ignored() {
        let mut e = engine();
        let updates = run(&mut e, every(33, 6000), |t| {
            if (3000..3033).contains(&t) {
                frame(None)
            } else {
                frame(Some(good_face()))
            }
        });
        assert!(updates.iter().skip(1).all(|(_, u)| !u.changed));
    }

    #[test]
    fn hint_after_five_seconds_without_a_usable_face() {
        let cfg = GuidanceConfig::default();
        let mut e = engine();
        let updates = run(&mut e, every(33, 12_000), |t| {
            if t < 8000 {
                frame(None)
            } else {
                frame(Some(good_face()))
            }
        });
        for (t, u) in &updates {
            let expect = *t >= 5000 && *t < 8000;
            assert_eq!(u.hint.is_some(), expect, "at {t} ms");
            if expect {
                assert_eq!(u.hint, Some(Hint::NotRecognisedYet));
            }
        }
        let spoken: Vec<u64> = updates
            .iter()
            .filter(|(_, u)| u.speak_hint)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(spoken.len(), 1, "{spoken:?}");
        assert!(ms(spoken[0]) >= cfg.not_recognised_hint_after);
        assert!(updates.iter().all(|(_, u)| !(u.speak && u.speak_hint)));
    }

    #[test]
    fn step_out_hint_when_stuck_with_a_face_and_it_restarts_on_re_entry() {
        let far = || with(|f| f.size.distance_cm = 90.0);
        let mut e = engine();
        let updates = run(&mut e, every(33, 16_000), |t| {
            if (12_000..13_500).contains(&t) {
                frame(None)
            } else {
                far()
            }
        });
        let hint_at = |t: u64| updates.iter().find(|(u, _)| *u >= t).unwrap().1.hint;
        assert_eq!(hint_at(4000), None);
        assert_eq!(hint_at(6000), Some(Hint::NotRecognisedYet));
        assert_eq!(hint_at(10_100), Some(Hint::StepOutAndBack));
        assert_eq!(hint_at(12_500), Some(Hint::NotRecognisedYet), "face away");
        assert_eq!(hint_at(14_000), Some(Hint::NotRecognisedYet), "back again");
        let step_out_spoken = updates
            .iter()
            .filter(|(_, u)| u.speak_hint && u.hint == Some(Hint::StepOutAndBack))
            .count();
        assert_eq!(step_out_spoken, 1);
    }

    #[test]
    fn a_persisting_problem_is_reminded_not_nagged() {
        let mut e = engine();
        let updates = run(&mut e, every(33, 20_000), |_| {
            with(|f| f.size.distance_cm = 90.0)
        });
        let spoken: Vec<u64> = updates
            .iter()
            .filter(|(_, u)| u.speak)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(spoken.len(), 3, "{spoken:?}");
        assert_eq!(spoken[0], 0);
        assert!((8000..8100).contains(&spoken[1]) && (16_000..16_100).contains(&spoken[2]));
    }

    /// A scripted session: far for 3 s, good for 3 s, no face for 7 s, off-centre after.
    fn script(t: u64) -> QualityMeasurements {
        match t {
            0..=2999 => with(|f| f.size.distance_cm = 75.0),
            3000..=5999 => frame(Some(good_face())),
            6000..=12_999 => frame(None),
            _ => with(|f| f.centring.inside_guide_fraction = 0.2),
        }
    }

    /// Times at which the shown instruction or the hint changes.
    fn events(updates: &[(u64, GuidanceUpdate)]) -> Vec<(u64, Instruction, Option<Hint>)> {
        let mut out = Vec::new();
        let mut prev: Option<(Instruction, Option<Hint>)> = None;
        for (t, u) in updates {
            let now = (u.instruction, u.hint);
            if prev != Some(now) {
                out.push((*t, u.instruction, u.hint));
                prev = Some(now);
            }
        }
        out
    }

    #[test]
    fn irregular_frame_rates_give_the_same_timing() {
        let regular = events(&run(&mut engine(), every(33, 18_000), script));
        let slow = events(&run(&mut engine(), every(100, 18_000), script));
        let mut seed = 12_345u64;
        let mut t = 0;
        let mut jittery_times = Vec::new();
        while t <= 18_000 {
            jittery_times.push(t);
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            t += 5 + (seed >> 33) % 146; // 5–150 ms, like a struggling phone
        }
        let jittery = events(&run(&mut engine(), jittery_times, script));
        for other in [&slow, &jittery] {
            assert_eq!(regular.len(), other.len(), "{regular:?}\n{other:?}");
            for (a, b) in regular.iter().zip(other.iter()) {
                assert_eq!((a.1, a.2), (b.1, b.2));
                assert!(a.0.abs_diff(b.0) <= 300, "{a:?} vs {b:?}");
            }
        }
        let kinds: Vec<(Instruction, Option<Hint>)> = regular.iter().map(|e| (e.1, e.2)).collect();
        assert_eq!(
            kinds,
            vec![
                (Instruction::ComeCloser, None),
                (Instruction::HoldStill, None),
                (Instruction::NoFace, None),
                (Instruction::NoFace, Some(Hint::NotRecognisedYet)),
                (Instruction::CenterFace, Some(Hint::NotRecognisedYet)),
            ]
        );
    }

    #[test]
    fn timestamps_going_backwards_do_not_break_timing() {
        let mut e = engine();
        let far = with(|f| f.size.distance_cm = 90.0);
        e.update(&far, ms(5000));
        let u = e.update(&frame(Some(good_face())), ms(1000));
        assert_eq!(u.instruction, Instruction::ComeCloser, "no time passed");
        let u = e.update(&frame(Some(good_face())), ms(5500));
        assert_eq!(u.instruction, Instruction::ComeCloser, "needs ok_dwell");
        let u = e.update(&frame(Some(good_face())), Duration::MAX);
        assert_eq!(u.instruction, Instruction::HoldStill);
        assert!(u.ready);
    }

    #[test]
    fn reset_starts_a_new_session() {
        let mut e = engine();
        run(&mut e, every(33, 7000), |_| frame(None));
        e.reset();
        let u = e.update(&frame(Some(good_face())), ms(7100));
        assert!(u.changed && u.speak && u.hint.is_none());
        assert_eq!(u.instruction, Instruction::HoldStill);
    }

    #[test]
    fn config_is_validated() {
        assert!(GuidanceConfig::default().validate().is_ok());
        let mut c = GuidanceConfig::default();
        c.quality.near_limit_cm = 70.0;
        assert_eq!(
            c.validate().unwrap_err().field,
            "quality.near_limit_cm",
            "near must be below far"
        );
        let c = GuidanceConfig {
            pose_margin_deg: f32::NAN,
            ..GuidanceConfig::default()
        };
        assert!(GuidanceEngine::new(c).is_err());
        let c = GuidanceConfig {
            min_dwell: ms(100),
            ..GuidanceConfig::default()
        };
        assert!(c.validate().is_err());
        let json = serde_json::to_string(&GuidanceConfig::default()).unwrap();
        let back: GuidanceConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, GuidanceConfig::default());
        let partial: GuidanceConfig = serde_json::from_str(r#"{"max_yaw_deg": 15.0}"#).unwrap();
        assert_eq!(partial.max_yaw_deg, 15.0);
        assert_eq!(partial.max_pitch_deg, 10.0);
    }

    #[test]
    fn all_lists_every_variant() {
        // Adding a variant breaks these exhaustive matches until ALL and the tests follow.
        let position = |i: Instruction| match i {
            Instruction::NoFace => 0,
            Instruction::MultipleFaces => 1,
            Instruction::ComeCloser => 2,
            Instruction::MoveBack => 3,
            Instruction::CenterFace => 4,
            Instruction::FaceCamera => 5,
            Instruction::RaiseChin => 6,
            Instruction::LowerChin => 7,
            Instruction::StraightenHead => 8,
            Instruction::Backlight => 9,
            Instruction::TooDark => 10,
            Instruction::TooBright => 11,
            Instruction::SideLight => 12,
            Instruction::UncoverEyes => 13,
            Instruction::UncoverMouth => 14,
            Instruction::HoldSteady => 15,
            Instruction::HoldStill => 16,
        };
        for (k, i) in Instruction::ALL.into_iter().enumerate() {
            assert_eq!(position(i), k);
        }
        let hint_position = |h: Hint| match h {
            Hint::NotRecognisedYet => 0,
            Hint::StepOutAndBack => 1,
        };
        for (k, h) in Hint::ALL.into_iter().enumerate() {
            assert_eq!(hint_position(h), k);
        }
    }

    #[test]
    fn ids_are_stable_unique_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for i in Instruction::ALL {
            assert!(seen.insert(i.id()));
            assert_eq!(Instruction::from_id(i.id()), Some(i));
            assert_eq!(
                serde_json::to_string(&i).unwrap(),
                format!("\"{}\"", i.id())
            );
            assert_eq!(Instruction::ALL[i.index()], i);
        }
        for h in Hint::ALL {
            assert!(seen.insert(h.id()));
            assert_eq!(Hint::from_id(h.id()), Some(h));
            assert_eq!(
                serde_json::to_string(&h).unwrap(),
                format!("\"{}\"", h.id())
            );
            assert_eq!(Hint::ALL[h.index()], h);
        }
        assert_eq!(Instruction::ComeCloser.id(), "come_closer");
    }

    mod with_images {
        use super::*;
        use crate::capture::quality::synthetic::{observation, render, FaceSpec, Scene};
        use crate::capture::quality::{measure, MotionTracker};

        fn verdict_for(scene: Scene, spec: FaceSpec) -> Instruction {
            let cfg = GuidanceConfig::default();
            let img = render(&scene, &[spec]);
            let m = measure(
                &img,
                &[observation(&spec)],
                &mut MotionTracker::new(),
                Duration::ZERO,
                &cfg.quality,
            );
            GuidanceEngine::new(cfg)
                .unwrap()
                .update(&m, Duration::ZERO)
                .frame_instruction
        }

        fn centred(iod: f32) -> FaceSpec {
            FaceSpec::new(240.0, 288.0 - 0.45 * iod, iod)
        }

        #[test]
        fn synthetic_frames_get_the_right_instruction() {
            let s = Scene::default;
            let face = centred(60.0);
            let cases: Vec<(&str, Scene, FaceSpec, Instruction)> = vec![
                ("good", s(), face, Instruction::HoldStill),
                ("far", s(), centred(30.0), Instruction::ComeCloser),
                ("close", s(), centred(95.0), Instruction::MoveBack),
                (
                    "off centre",
                    s(),
                    FaceSpec::new(380.0, 200.0, 60.0),
                    Instruction::CenterFace,
                ),
                (
                    "tilted",
                    s(),
                    face.pose(0.0, 0.0, 20.0),
                    Instruction::StraightenHead,
                ),
                (
                    "dark",
                    Scene {
                        face_gain: 0.3,
                        background_gain: 0.3,
                        ..s()
                    },
                    face,
                    Instruction::TooDark,
                ),
                (
                    "backlit",
                    Scene {
                        face_gain: 0.45,
                        background: [250, 250, 250],
                        ..s()
                    },
                    face,
                    Instruction::Backlight,
                ),
                (
                    "side light",
                    Scene {
                        side_gradient: -1.0,
                        ..s()
                    },
                    face,
                    Instruction::SideLight,
                ),
                (
                    "sunglasses",
                    Scene {
                        sunglasses: true,
                        ..s()
                    },
                    face,
                    Instruction::UncoverEyes,
                ),
                (
                    "blue mask",
                    Scene {
                        mask: Some([150, 190, 225]),
                        ..s()
                    },
                    face,
                    Instruction::UncoverMouth,
                ),
                (
                    "sharp 200 px face",
                    Scene {
                        width: 720,
                        height: 960,
                        ..s()
                    },
                    FaceSpec::new(360.0, 0.45 * 960.0 - 0.45 * 75.0, 75.0),
                    Instruction::HoldStill,
                ),
                (
                    // A face 200 px tall at ≈ 55 cm in a 720×960 frame, blurred σ = 3 px.
                    "blurred",
                    Scene {
                        width: 720,
                        height: 960,
                        blur_sigma: 3.0,
                        ..s()
                    },
                    FaceSpec::new(360.0, 0.45 * 960.0 - 0.45 * 75.0, 75.0),
                    Instruction::HoldSteady,
                ),
            ];
            for (name, scene, spec, expected) in cases {
                assert_eq!(verdict_for(scene, spec), expected, "{name}");
            }
        }
    }
}
