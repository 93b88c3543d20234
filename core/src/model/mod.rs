//! Model files (embedded or a directory, with their SHA-256) and ONNX loading in tract.
//! Imports `crypto` only.

pub mod assets;
pub mod error;
pub(crate) mod onnx;
pub use onnx::engine_plan;
pub mod ops;
pub mod rewrite;
