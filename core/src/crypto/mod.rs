//! Sealing (AES-256-GCM), signing (Ed25519) and canonical JSON, all with ring. The bottom
//! layer: imports nothing from the crate.

pub mod sealing;
