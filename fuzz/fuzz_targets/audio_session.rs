//! Fuzz target `audio_session`: see `lifecert_fuzz::audio_session` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::audio_session(data));
