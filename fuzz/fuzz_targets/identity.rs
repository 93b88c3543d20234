//! Fuzz target `identity`: see `lifecert_fuzz::identity` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::identity(data));
