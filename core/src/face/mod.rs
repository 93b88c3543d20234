//! Frame → faces: detector, landmarks, pose, alignment, descriptor, the [`analyzer::Analyzer`]
//! that runs them (per frame, or following the faces along a stream: [`tracker`]), mouth
//! aperture and the optional passive anti-spoofing score. Imports `audio` and below.

pub mod alignment;
pub mod analyzer;
pub mod anti_spoofing;
pub mod descriptor;
pub mod detector;
pub mod error;
pub mod landmarks;
mod lazy_descriptor;
pub mod mouth;
pub mod observation;
pub mod pose;
pub mod tracker;
