//! The commands, one file each with its arguments (`<Command>Args`, a `clap::Args` struct)
//! and its `run`, and the exit codes all commands share.
//!
//! * [`analyze`] — faces, pose, quality and the instruction for still images;
//! * [`match_faces`] — the `match` command: a probe photo against reference photos;
//! * [`enroll`] and [`certify`] — the two sessions, run on photos or recordings;
//! * [`verify`] — an attestation checked as the authority's backend does.
//!
//! Shared helpers: [`flags`] (value parsers of common flags), [`analyzer`] (the models of
//! the still-image commands) and [`recording`] (what `enroll` and `certify` share: the
//! engine, the key file, the input, the printed timeline and the report).

pub mod analyze;
pub mod analyzer;
pub mod certify;
pub mod enroll;
pub mod flags;
pub mod match_faces;
pub mod recording;
pub mod verify;

/// Exit code for bad input (unreadable file, bad arguments, no face in a photo).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for an internal failure (models could not load or failed).
pub const EXIT_INTERNAL: u8 = 3;
/// Exit code of `verify` for an attestation that is refused (invalid signature, changed
/// bytes, wrong key, wrong nonce, supplied challenge).
pub const EXIT_INVALID: u8 = 4;

/// A command's failure: the exit code and the message printed on stderr.
pub type CommandError = (u8, String);
