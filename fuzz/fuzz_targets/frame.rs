//! Fuzz target `frame`: see `lifecert_fuzz::frame` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::frame(data));
