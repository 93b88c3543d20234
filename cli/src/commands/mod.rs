//! The subcommands beyond `analyze`, and the exit codes all commands share.

pub mod certify;
pub mod enroll;
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
