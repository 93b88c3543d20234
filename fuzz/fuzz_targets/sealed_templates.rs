//! Fuzz target `sealed_templates`: see `lifecert_fuzz::sealed_templates` (the body, also replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecert_fuzz::sealed_templates(data));
