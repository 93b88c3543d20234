//! Pixels: camera frames in every format, image decoding with limits, geometry and warps
//! into model inputs. Imports `model` and below.

pub mod decode;
pub mod frame;
pub mod geometry;
pub mod warp;
