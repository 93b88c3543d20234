//! Helpers shared by the end-to-end tests: the binary, the repository, the evaluation data,
//! the media tools.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root (this package is its `tests/` folder).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `lifecert` binary under test: the one cargo built in this test's target directory and
/// profile (this package does not own the binary, so cargo gives no `CARGO_BIN_EXE_lifecert`).
/// Every test fails when it is missing or older than its sources: a stale binary is never
/// tested. `cargo test --workspace` builds it (the CLI's own tests need it); a narrower run
/// (`--test cli_certify`) needs `cargo build --workspace` first after a change.
pub fn lifecert_path() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = lifecert_test_support::target_binary("lifecert");
        if let Some(why) = lifecert_test_support::binary_out_of_date(&bin) {
            panic!(
                "{why}.\nThe end-to-end tests run the built `lifecert` binary: build it with \
                 `cargo build --workspace` (`cargo test --workspace` and ./scripts/test.sh build \
                 it too), then run the tests again."
            );
        }
        bin
    })
}

/// A command running the [`lifecert_path`] binary.
pub fn lifecert() -> Command {
    Command::new(lifecert_path())
}

/// The shared evaluation data directory (`LIFECERT_EVAL_DATA`, default `../shared/data`
/// relative to the repository root), or `None` after recording the skip: it panics when
/// `CI` is set (a missing data set fails CI); locally the skip is counted by `scripts/test.sh`.
#[allow(unused_imports)] // not every test binary reads the data
pub use lifecert_test_support::eval_data;

/// Whether ffmpeg and ffprobe can be run. When they cannot, records the skip (a failure
/// when `CI` is set) and returns `false`: the caller skips.
pub fn media_tools(test: &str) -> bool {
    lifecert_test_support::media_tools(test)
}

/// The people of `faces_identity/` (one folder each, whatever its name) with their photos
/// (jpg/jpeg/png), sorted by folder name; people with fewer than `min_photos` are left out.
pub fn identities(data: &std::path::Path, min_photos: usize) -> Vec<(String, Vec<PathBuf>)> {
    let root = data.join("faces_identity");
    let mut people: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    people
        .into_iter()
        .filter_map(|dir| {
            let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                    })
                })
                .collect();
            photos.sort();
            let name = dir.file_name()?.to_string_lossy().into_owned();
            (photos.len() >= min_photos).then_some((name, photos))
        })
        .collect()
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("lifecert-e2e-")
        .tempdir()
        .expect("temporary directory")
}

/// Runs `cmd`, echoing the command line, its exit code and its output (shown when a test
/// fails), and returns the output.
pub fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let cmd = cmd.borrow_mut();
    let out = cmd.output().expect("lifecert runs");
    eprintln!(
        "$ {cmd:?}\n--- exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The last JSON line on stdout (the command's summary).
pub fn summary(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("a JSON summary line");
    serde_json::from_str(line).unwrap()
}
