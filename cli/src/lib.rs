//! Building blocks of the `lifecert` command line, kept apart from the command layer
//! (`main.rs` and `commands/`, one file per command, which alone print):
//!
//! * [`media`] — decoding recordings with the system's ffmpeg/ffprobe;
//! * [`keys`] — the local key file standing in for the phone's keystore and the
//!   authority's key;
//! * [`replay`] — feeding a recording into an enrollment or certification session;
//! * [`report`] — a session timeline as a self-contained HTML page or one PNG picture;
//! * [`annotate`] and [`draw`] — drawing analysis results and text on pictures.
#![deny(missing_docs)]

pub mod annotate;
pub mod draw;
pub mod keys;
pub mod media;
pub mod replay;
pub mod report;
