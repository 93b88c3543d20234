//! The product API a shell drives (top layer): the [`engine::Engine`] that loads every model
//! once, the enrollment and certification sessions, the signed attestation, and the two
//! composing types: [`config::Config`] (every module's config, validated by its owner) and
//! [`error::Error`] (every module's error). Imports any layer below.

pub mod attestation;
pub mod certification;
pub mod config;
pub mod drive;
pub mod engine;
pub mod enrollment;
pub mod error;
pub mod session;
pub mod voice_enrollment;
