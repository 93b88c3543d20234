//! Fuzz target `image_upload`: see `lifecert_fuzz::image_upload` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::image_upload(data));
