//! Getting a usable picture: per-face quality measurements and the guidance engine (one
//! instruction at a time). Imports `identity` and below.

pub mod guidance;
pub mod quality;
