//! Helpers shared by the end-to-end tests: the binary, the repository, the evaluation data,
//! the media tools.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `lifecert` binary under test.
pub fn lifecert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifecert"))
}

/// The shared evaluation data directory (`LIFECERT_EVAL_DATA`, default `../shared/data`
/// relative to the repository root), or `None` after saying loudly that the test is skipped.
pub fn eval_data(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LIFECERT_EVAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n!!!!! SKIPPED {test}: evaluation data not found at {} (set LIFECERT_EVAL_DATA) !!!!!\n",
            dir.display()
        );
        None
    }
}

/// Whether ffmpeg and ffprobe can be run. When they cannot, says so loudly and returns
/// `false` (the caller skips), except in CI (`CI=true`), where it panics: CI must run these.
pub fn media_tools(test: &str) -> bool {
    match lifecert_cli::media::tools_available() {
        Ok(()) => true,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: ffmpeg/ffprobe are required in CI: {e}")
        }
        Err(e) => {
            eprintln!("\n!!!!! SKIPPED {test}: {e} !!!!!\n");
            false
        }
    }
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("lifecert-e2e-")
        .tempdir()
        .expect("temporary directory")
}
