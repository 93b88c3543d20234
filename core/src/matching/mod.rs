//! Who the person is: face templates (enrollment gate, calibrated match, bounded refresh),
//! the enrolled voice profile, and both sealed at rest (`sealed_template`, `sealed_voice`).
//! Imports `liveness` and below.

pub mod sealed_template;
pub mod sealed_voice;
pub mod templates;
pub mod voice_profile;
