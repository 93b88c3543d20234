//! The [`Engine`] object (models loaded once: a shared [`lifecert_core::Engine`]) and the
//! [`GuidanceSession`] that turns a stream of camera frames into positioning instructions.
//! Wrappers only: every decision is the core's (the one guidance path
//! [`lifecert_core::capture::guide::Guide`] and [`lifecert_core::capture::guide::guide_still`],
//! the texts of [`lifecert_core::text::messages::Messages`]). The enrollment and certification sessions opened
//! on the engine live in `enrollment.rs` and `certification.rs`.

use crate::error::LifecertError;
use crate::frame::FrameInput;
use lifecert_core::capture::guidance::{Hint, Instruction};
use lifecert_core::capture::guide::{Guide, GuidedFrame};
use lifecert_core::face::observation::{FaceObservation, Keypoint};
use lifecert_core::text::messages::{Language, Messages};
use lifecert_core::Config;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A point in pixels of the upright frame (after rotation and mirroring).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Point {
    /// Pixels from the left edge.
    pub x: f32,
    /// Pixels from the top edge.
    pub y: f32,
}

impl From<lifecert_core::Point> for Point {
    fn from(p: lifecert_core::Point) -> Self {
        Point { x: p.x, y: p.y }
    }
}

/// An axis-aligned box in pixels of the upright frame.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FaceBox {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// The six detector keypoints. "Right" and "left" are the person's own sides.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FaceKeypoints {
    /// Centre of the person's right eye.
    pub right_eye: Point,
    /// Centre of the person's left eye.
    pub left_eye: Point,
    /// Nose tip.
    pub nose_tip: Point,
    /// Centre of the mouth.
    pub mouth_center: Point,
    /// The person's right ear (tragion).
    pub right_ear: Point,
    /// The person's left ear (tragion).
    pub left_ear: Point,
}

/// Head orientation in degrees, in the upright frame: `yaw` > 0 nose towards the image's
/// right, `pitch` > 0 chin raised, `roll` > 0 face rotated clockwise.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct HeadPose {
    /// Left/right turn.
    pub yaw: f32,
    /// Up/down nod.
    pub pitch: f32,
    /// In-plane tilt.
    pub roll: f32,
}

/// One face found in a frame.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceReport {
    /// The detector's box.
    pub bounds: FaceBox,
    /// The detector's six keypoints.
    pub keypoints: FaceKeypoints,
    /// Head pose fitted from the 468 landmarks.
    pub pose: HeadPose,
    /// Detector confidence, 0–1.
    pub detection_score: f32,
    /// Face-presence probability from the landmark model, 0–1.
    pub presence_score: f32,
}

impl From<&FaceObservation> for FaceReport {
    fn from(face: &FaceObservation) -> Self {
        let d = &face.detection;
        let k = |kp: Keypoint| Point::from(d.keypoint(kp));
        FaceReport {
            bounds: FaceBox {
                x: d.bbox.x,
                y: d.bbox.y,
                width: d.bbox.width,
                height: d.bbox.height,
            },
            keypoints: FaceKeypoints {
                right_eye: k(Keypoint::RightEye),
                left_eye: k(Keypoint::LeftEye),
                nose_tip: k(Keypoint::NoseTip),
                mouth_center: k(Keypoint::MouthCenter),
                right_ear: k(Keypoint::RightEarTragion),
                left_ear: k(Keypoint::LeftEarTragion),
            },
            pose: HeadPose {
                yaw: face.pose.yaw,
                pitch: face.pose.pitch,
                roll: face.pose.roll,
            },
            detection_score: d.score,
            presence_score: face.landmarks.presence,
        }
    }
}

/// A message for the person: its stable id (to attach audio or icons) and its text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Prompt {
    /// Stable snake_case id, e.g. `come_closer`, `hold_still`, `hint_step_out`.
    pub id: String,
    /// The text in the session's language.
    pub text: String,
}

/// What was seen in one frame, and that frame's own guidance verdict.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FrameReport {
    /// Width of the upright frame (after rotation), pixels; every coordinate refers to it.
    pub width: u32,
    /// Height of the upright frame, pixels.
    pub height: u32,
    /// The faces, by decreasing detector score.
    pub faces: Vec<FaceReport>,
    /// This frame's own instruction (no smoothing over time): `hold_still` when the face is
    /// usable as it is.
    pub instruction: Prompt,
    /// True when this frame alone passes every guidance check.
    pub ready: bool,
}

/// What to show and say after one frame of a [`GuidanceSession`].
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GuidanceUpdate {
    /// The frame itself: faces and its own verdict.
    pub frame: FrameReport,
    /// The instruction to show, smoothed over time (it does not flicker).
    pub instruction: Prompt,
    /// True when `instruction` differs from the previous update's (and on the first one).
    pub changed: bool,
    /// True when the shell should speak `instruction` now.
    pub speak: bool,
    /// A gentle extra hint when progress stalls, shown for as long as it is present.
    pub hint: Option<Prompt>,
    /// True when the shell should speak `hint` now (never together with `speak`).
    pub speak_hint: bool,
}

/// The guide oval a shell draws over the preview, as fractions: the centre of the frame's
/// width and height, both semi-axes of its **shorter** side.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GuideOval {
    /// Centre, fraction of the upright frame's width from the left.
    pub center_x: f32,
    /// Centre, fraction of the upright frame's height from the top.
    pub center_y: f32,
    /// Horizontal semi-axis, fraction of the shorter side.
    pub radius_x: f32,
    /// Vertical semi-axis, fraction of the shorter side.
    pub radius_y: f32,
}

/// How to build an [`Engine`] ([`Engine::with_options`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct EngineOptions {
    /// **For replaying recordings only** (tools and tests, never a live certification):
    /// the configuration [`lifecert_core::Config::for_recordings`], which drops the
    /// positioning gate (a clip starts at once), keeps enrollment frames 40 ms apart, takes
    /// the liveness step without retries and accepts the one spoken digit of a recorded
    /// sentence. `false` (the default configuration) in an app.
    #[uniffi(default = false)]
    pub for_recordings: bool,
    /// A directory holding the optional MiniFASNet passive anti-spoofing models
    /// (`lifecert_core::face::anti_spoofing`; not shipped with the library). When given, sessions score
    /// the live face and refuse a photo or a screen. `None`: no passive anti-spoofing.
    #[uniffi(default = None)]
    pub anti_spoof_model_dir: Option<String>,
}

/// The engine: models loaded once (face analysis, voice activity, the optional
/// anti-spoofing models, the message texts), shared by every call, every session and every
/// thread. Create one per app (loading takes a moment) and keep it.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    core: Arc<lifecert_core::Engine>,
}

pub(crate) fn language(tag: &str) -> Result<Language, LifecertError> {
    Language::from_tag(tag).ok_or_else(|| {
        LifecertError::bad_input(format!(
            "unsupported language tag {tag:?}: use zh-Hans, zh-Hant or en"
        ))
    })
}

fn prompt(messages: &Messages, instruction: Instruction, lang: Language) -> Prompt {
    Prompt {
        id: instruction.id().to_owned(),
        text: messages.instruction(instruction, lang).to_owned(),
    }
}

fn hint_prompt(messages: &Messages, hint: Hint, lang: Language) -> Prompt {
    Prompt {
        id: hint.id().to_owned(),
        text: messages.hint(hint, lang).to_owned(),
    }
}

/// The frame part of a report: the upright frame's size, its faces and its own verdict.
fn frame_report(seen: &GuidedFrame, messages: &Messages, lang: Language) -> FrameReport {
    let (width, height) = seen.analysis.image.dimensions();
    FrameReport {
        width,
        height,
        faces: seen.analysis.faces.iter().map(FaceReport::from).collect(),
        instruction: prompt(messages, seen.guidance.frame_instruction, lang),
        ready: seen.guidance.ready,
    }
}

impl Engine {
    /// The core engine, shared with the sessions opened on it.
    pub(crate) fn core(&self) -> &Arc<lifecert_core::Engine> {
        &self.core
    }

    fn messages(&self) -> &Messages {
        self.core.messages()
    }
}

#[uniffi::export]
impl Engine {
    /// Loads the models embedded in the library with the default configuration (what an
    /// app uses).
    #[uniffi::constructor]
    pub fn new() -> Result<Arc<Self>, LifecertError> {
        Self::with_options(EngineOptions::default())
    }

    /// Loads the models embedded in the library with `options`: the configuration for
    /// replaying recordings (tests and tools only) and the optional anti-spoofing models.
    ///
    /// Errors: [`LifecertError::Internal`] when a model cannot be loaded (an
    /// `anti_spoof_model_dir` without both MiniFASNet files included).
    #[uniffi::constructor]
    pub fn with_options(options: EngineOptions) -> Result<Arc<Self>, LifecertError> {
        let config = if options.for_recordings {
            Config::for_recordings()
        } else {
            Config::default()
        };
        let mut core = lifecert_core::Engine::new(config)?;
        if let Some(dir) = &options.anti_spoof_model_dir {
            core = core.with_passive_anti_spoof(Path::new(dir))?;
        }
        let models: Vec<String> = core.models().into_iter().map(|m| m.file).collect();
        tracing::info!(
            models = ?models,
            for_recordings = options.for_recordings,
            anti_spoof = core.passive_anti_spoof().is_some(),
            "engine ready"
        );
        Ok(Arc::new(Engine {
            core: Arc::new(core),
        }))
    }

    /// Analyses one frame on its own: the faces, and the instruction this frame alone
    /// calls for, in `language` (a BCP-47 tag: `zh-Hans`, `zh-CN`, `zh-Hant`, `zh-HK`,
    /// `en`, …). For a live camera use a [`GuidanceSession`], which smooths the
    /// instruction over time.
    pub fn analyze_frame(
        &self,
        frame: FrameInput,
        language: String,
    ) -> Result<FrameReport, LifecertError> {
        let _span = tracing::debug_span!("ffi_analyze_frame").entered();
        let lang = self::language(&language)?;
        let seen = self.core.guide_still(&frame.to_core()?)?;
        Ok(frame_report(&seen, self.messages(), lang))
    }

    /// Starts a positioning-guidance session whose texts are in `language` (a BCP-47 tag,
    /// see [`Engine::analyze_frame`]).
    pub fn guidance_session(
        self: Arc<Self>,
        language: String,
    ) -> Result<Arc<GuidanceSession>, LifecertError> {
        let lang = self::language(&language)?;
        let guide = self.core.guide()?;
        Ok(Arc::new(GuidanceSession {
            engine: self,
            language: lang,
            state: Mutex::new(guide),
        }))
    }

    /// The guide oval to draw over the camera preview.
    pub fn guide_oval(&self) -> GuideOval {
        let g = &self.core.config().guidance.quality.guide;
        GuideOval {
            center_x: g.center_x,
            center_y: g.center_y,
            radius_x: g.radius_x,
            radius_y: g.radius_y,
        }
    }
}

/// Positioning guidance over a stream of frames: push every analysed camera frame with its
/// timestamp and show (and speak) what the update says. Thread-safe; frames pushed from
/// several threads at once are taken one after the other.
#[derive(uniffi::Object)]
pub struct GuidanceSession {
    engine: Arc<Engine>,
    language: Language,
    state: Mutex<Guide>,
}

impl std::fmt::Debug for GuidanceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuidanceSession")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl GuidanceSession {
    /// The session state; a panic during an earlier update (which uniffi turned into an
    /// error) leaves it poisoned, and the session then starts over rather than failing
    /// forever.
    fn state(&self) -> MutexGuard<'_, Guide> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned: PoisonError<_>| {
                let mut state = poisoned.into_inner();
                state.reset();
                state
            })
    }
}

#[uniffi::export]
impl GuidanceSession {
    /// Analyses one camera frame and updates the guidance. `timestamp_ms` is wall-clock
    /// time since the session started (a timestamp earlier than the previous one counts as
    /// equal to it).
    pub fn push_frame(
        &self,
        frame: FrameInput,
        timestamp_ms: u64,
    ) -> Result<GuidanceUpdate, LifecertError> {
        let _span = tracing::debug_span!("ffi_push_frame", timestamp_ms).entered();
        let at = crate::session::at(timestamp_ms)?;
        let frame = frame.to_core()?;
        let seen = self
            .state()
            .push_frame(self.engine.core().analyzer(), &frame, at)?;
        let update = seen.guidance;
        tracing::debug!(
            instruction = update.instruction.id(),
            frame_instruction = update.frame_instruction.id(),
            faces = seen.analysis.faces.len(),
            "guidance update"
        );
        let messages = self.engine.messages();
        Ok(GuidanceUpdate {
            frame: frame_report(&seen, messages, self.language),
            instruction: prompt(messages, update.instruction, self.language),
            changed: update.changed,
            speak: update.speak,
            hint: update.hint.map(|h| hint_prompt(messages, h, self.language)),
            speak_hint: update.speak_hint,
        })
    }

    /// Starts over, as for a new attempt ("try again" really resets).
    pub fn reset(&self) {
        self.state().reset();
    }

    /// The BCP-47 tag of the session's language (`zh-Hans`, `zh-Hant` or `en`).
    pub fn language(&self) -> String {
        self.language.tag().to_owned()
    }
}
