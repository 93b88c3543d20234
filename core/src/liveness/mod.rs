//! Whether the person is present and alive: random digit and action challenges, the
//! sequencer that turns timed evidence into a verdict, digit verification, audio-visual
//! sync and the per-frame visual evidence. Imports `text` and below.

pub mod av_sync;
pub mod challenge;
pub mod digit_verify;
pub mod sequencer;
pub mod visual_evidence;
