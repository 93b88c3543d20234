//! Fuzz target `attestation`: see `lifecert_fuzz::attestation` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::attestation(data));
