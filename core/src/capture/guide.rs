//! The one guidance path: frame → faces → quality (with motion history) → guidance.
//!
//! A [`Guide`] owns what a stream of frames needs remembered — the [`MotionTracker`] and the
//! [`GuidanceEngine`] — and turns each frame (or an analysis already computed) at time `t`
//! into a [`GuidedFrame`]: the faces, their quality measurements, the smoothed
//! [`GuidanceUpdate`] and, inside it, the frame's own instruction
//! ([`GuidanceUpdate::frame_instruction`]). The sessions, the bindings' guidance session and
//! the command line all go through it; nothing else calls [`quality::measure`] or
//! [`GuidanceEngine::update`].
//!
//! A single still picture is guided by [`guide_still`]: what the engine would say on the first
//! frame of a stream that starts with it.

use crate::capture::guidance::{
    GuidanceConfig, GuidanceConfigError, GuidanceEngine, GuidanceUpdate, Instruction,
};
use crate::capture::quality::{self, MotionTracker, QualityMeasurements};
use crate::face::analyzer::{Analyzer, FrameAnalysis};
use crate::face::error::FaceError;
use crate::face::observation::FaceObservation;
use crate::face::tracker::FaceTrack;
use crate::image::frame::Frame;
use std::time::Duration;

/// One frame after the guidance path: what was seen, how usable it is, what to say.
#[derive(Debug, Clone)]
pub struct GuidedFrame {
    /// The upright image and its faces.
    pub analysis: FrameAnalysis,
    /// The quality measurements of the faces (motion measured against the earlier frames).
    pub quality: QualityMeasurements,
    /// What the guidance says after this frame: the smoothed instruction, whether to speak
    /// it, the hint, and the frame's own verdict ([`GuidanceUpdate::frame_instruction`],
    /// [`GuidanceUpdate::ready`]).
    pub guidance: GuidanceUpdate,
}

impl GuidedFrame {
    /// The primary (largest) face's index in `analysis.faces`.
    pub fn primary(&self) -> Option<usize> {
        self.quality.primary.as_ref().map(|p| p.index)
    }

    /// The primary face, if any.
    pub fn primary_face(&self) -> Option<&FaceObservation> {
        self.primary().map(|i| &self.analysis.faces[i])
    }
}

/// Positioning guidance over a stream of frames: the motion history and the guidance
/// engine of one capture session. Feed it every frame in order with its timestamp (one
/// clock, any epoch; a timestamp earlier than the previous one counts as equal to it).
#[derive(Debug, Clone)]
pub struct Guide {
    /// The face tracked from frame to frame ([`Analyzer::analyze_tracked`]).
    track: FaceTrack,
    motion: MotionTracker,
    engine: GuidanceEngine,
    instruction: Option<Instruction>,
}

impl Guide {
    /// A guide with `config` (checked first).
    pub fn new(config: GuidanceConfig) -> Result<Self, GuidanceConfigError> {
        Ok(Self {
            track: FaceTrack::new(),
            motion: MotionTracker::new(),
            engine: GuidanceEngine::new(config)?,
            instruction: None,
        })
    }

    /// The configuration (its `quality` part holds the guide oval a shell draws).
    pub fn config(&self) -> &GuidanceConfig {
        self.engine.config()
    }

    /// Analyses `frame` with `analyzer` and guides on it. This is the one place a stream's
    /// frames are analysed: the face is tracked from the previous frame's landmarks, the
    /// detector runs when [`crate::face::tracker`] says so.
    pub fn push_frame(
        &mut self,
        analyzer: &Analyzer,
        frame: &Frame<'_>,
        t: Duration,
    ) -> Result<GuidedFrame, FaceError> {
        let _span = tracing::debug_span!("guide_frame", t_ms = t.as_millis() as u64).entered();
        let analysis = analyzer.analyze_tracked(frame, t, &mut self.track)?;
        Ok(self.push_analysis(analysis, t))
    }

    /// Guides on a frame already analysed (by [`Analyzer::analyze`], or an upright image
    /// and its faces from [`Analyzer::analyze_image`]).
    pub fn push_analysis(&mut self, analysis: FrameAnalysis, t: Duration) -> GuidedFrame {
        let quality = quality::measure(
            &analysis.image,
            &analysis.faces,
            &mut self.motion,
            t,
            &self.engine.config().quality,
        );
        let guidance = self.engine.update(&quality, t);
        self.instruction = Some(guidance.instruction);
        GuidedFrame {
            analysis,
            quality,
            guidance,
        }
    }

    /// The smoothed instruction after the last frame (`None` before the first).
    pub fn instruction(&self) -> Option<Instruction> {
        self.instruction
    }

    /// Starts over, as for a new attempt: no motion history, no instruction, no timing.
    pub fn reset(&mut self) {
        self.track.reset();
        self.motion.reset();
        self.engine.reset();
        self.instruction = None;
    }
}

/// Guidance for a single still picture (an analysed frame or photo): what a [`Guide`] says
/// on the first frame of a stream that starts with it. Its
/// [`GuidanceUpdate::frame_instruction`] is the picture's own instruction and
/// [`GuidanceUpdate::ready`] whether it is usable as it is.
pub fn guide_still(
    config: &GuidanceConfig,
    analysis: FrameAnalysis,
) -> Result<GuidedFrame, GuidanceConfigError> {
    Ok(Guide::new(config.clone())?.push_analysis(analysis, Duration::ZERO))
}
