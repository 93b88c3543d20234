//! Getting a usable picture: per-face quality measurements, the guidance engine (one
//! instruction at a time) and the one path from a frame to both (`guide`). Imports
//! `identity` and below.

pub mod guidance;
pub mod guide;
pub mod quality;
