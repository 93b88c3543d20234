//! Test-only helpers shared by every test suite of the workspace (core, CLI, bindings): where
//! the evaluation data is, and what happens when it, or a tool a test needs, is missing.
//!
//! * In CI (the environment variable `CI` set to anything but empty, `0` or `false`) a
//!   missing data set, model folder or tool **fails** the test: CI must run everything.
//! * Locally the test says so on stderr and returns early, and the skip is appended as one
//!   line to the skip log ([`skip_log`]), which `scripts/test.sh` counts and reports in one
//!   visible summary line at the end (`cargo test` hides a passing test's stderr).
//!
//! The Python and Kotlin binding tests follow the same rules and write to the same log.
#![deny(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (this crate lives in `test-support/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// Whether the tests run in CI: `CI` is set and is not empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    })
}

/// Where the evaluation data should be: `LIFECERT_EVAL_DATA`, else `../shared/data` next to
/// the repository. Whether it exists is not checked.
pub fn eval_data_dir() -> PathBuf {
    std::env::var_os("LIFECERT_EVAL_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"))
}

/// The skip log: `LIFECERT_SKIP_LOG`, else `target/lifecert-skipped-tests.log` in the
/// repository. One line per skipped test (or part of a test): `test<TAB>reason`.
pub fn skip_log() -> PathBuf {
    std::env::var_os("LIFECERT_SKIP_LOG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/lifecert-skipped-tests.log"))
}

/// Records that `test` cannot run because of `reason`: panics in CI; otherwise prints a
/// loud line on stderr and appends it to the [`skip_log`]. The caller then returns.
pub fn skip(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: {reason} — CI must run every test (CI is set)");
    }
    eprintln!("\n!!!!! SKIPPED {test}: {reason} !!!!!\n");
    let line = format!(
        "{}\t{}\n",
        test.replace(['\t', '\n'], " "),
        reason.replace(['\t', '\n'], " ")
    );
    let log = skip_log();
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One write of a short line in append mode: lines of parallel tests do not interleave.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The evaluation data directory when it exists; otherwise [`skip`]s `test` (a failure in
/// CI) and returns `None`.
pub fn eval_data(test: &str) -> Option<PathBuf> {
    let dir = eval_data_dir();
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(
            test,
            &format!(
                "evaluation data not found at {} (set LIFECERT_EVAL_DATA)",
                dir.display()
            ),
        );
        None
    }
}

/// `dir` when it is a directory; otherwise [`skip`]s `test` saying `what` is missing.
pub fn require_dir(test: &str, dir: PathBuf, what: &str) -> Option<PathBuf> {
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(test, &format!("{what} not found at {}", dir.display()));
        None
    }
}

/// Whether `tool -version` (or `--version`) runs successfully.
pub fn tool_works(tool: &str) -> bool {
    ["-version", "--version"].iter().any(|flag| {
        Command::new(tool)
            .arg(flag)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Whether ffmpeg and ffprobe run; otherwise [`skip`]s `test` and returns `false`.
pub fn media_tools(test: &str) -> bool {
    let missing: Vec<&str> = ["ffmpeg", "ffprobe"]
        .into_iter()
        .filter(|t| !tool_works(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip(
        test,
        &format!(
            "{} not found (apt-get install -y ffmpeg)",
            missing.join(" and ")
        ),
    );
    false
}

/// Whether `tool` runs; otherwise [`skip`]s `test` and returns `false`.
pub fn require_tool(test: &str, tool: &str) -> bool {
    if tool_works(tool) {
        return true;
    }
    skip(test, &format!("{tool} not found"));
    false
}

/// A binary of this workspace (e.g. `"lifecert"`) as cargo builds it in the target directory
/// and profile of the running test: the test executable is `<target>/<profile>/deps/NAME-HASH`,
/// the binary `<target>/<profile>/<name>`. Whether it exists is not checked
/// ([`binary_out_of_date`] does).
///
/// Tests of another package than the one owning the binary have no
/// `CARGO_BIN_EXE_<name>`, hence this.
pub fn target_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running test");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps");
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Why the binary at `path` must not be tested, or `None` when it is current: it is missing,
/// or one of the files it was built from is newer than it. The files are those cargo lists
/// in the binary's dependency file (`<path>.d`, without the executable suffix: every source
/// file of the workspace crates it links, and the files they include, such as the embedded
/// models), the same modification times cargo compares to decide a rebuild; so whenever this
/// says "out of date", `cargo build` rebuilds it.
pub fn binary_out_of_date(path: &Path) -> Option<String> {
    let built = match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(t) => t,
        Err(e) => return Some(format!("{} is not built ({e})", path.display())),
    };
    let dep_info = path.with_extension("d");
    let text = match std::fs::read_to_string(&dep_info) {
        Ok(text) => text,
        Err(e) => {
            return Some(format!(
                "{} has no dependency file {} to tell whether it is current ({e})",
                path.display(),
                dep_info.display()
            ))
        }
    };
    // Makefile syntax: `target: source source ...`, spaces inside paths escaped as `\ `.
    let sources = text
        .lines()
        .find_map(|l| l.split_once(": "))
        .map(|(_, sources)| sources.replace("\\ ", "\0"))
        .unwrap_or_default();
    for source in sources.split_whitespace() {
        let source = PathBuf::from(source.replace('\0', " "));
        match std::fs::metadata(&source).and_then(|m| m.modified()) {
            Ok(t) if t <= built => {}
            Ok(_) => {
                return Some(format!(
                    "{} is out of date: {} is newer",
                    path.display(),
                    source.display()
                ))
            }
            Err(e) => {
                return Some(format!(
                    "{} is out of date: its source {} is gone ({e})",
                    path.display(),
                    source.display()
                ))
            }
        }
    }
    None
}

/// Appends one PNG chunk (length, type, data, CRC-32) to `out`: the hostile-input tests build
/// PNG files whose headers lie about their size.
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &out[start..] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_be_bytes());
}

/// A 16 kHz "recording" of several utterances with 0.3 s of faint white noise (±1e-4, an
/// xorshift stream from `seed`) before, between and after them, and each utterance's
/// (start, end) time in seconds: the digit tests speak answers through it.
pub fn utterances_in_noise(parts: &[Vec<f32>], seed: u64) -> (Vec<f32>, Vec<(f32, f32)>) {
    let mut seed = seed.max(1);
    let mut gap = |out: &mut Vec<f32>| {
        for _ in 0..4_800 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            out.push(((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2e-4);
        }
    };
    let mut out = Vec::new();
    let mut times = Vec::new();
    gap(&mut out);
    for p in parts {
        let s = out.len() as f32 / 16_000.0;
        out.extend_from_slice(p);
        times.push((s, out.len() as f32 / 16_000.0));
        gap(&mut out);
    }
    (out, times)
}

/// One FSDD recording (`audio/fsdd/{digit}_{speaker}_{take}.wav` under the evaluation data):
/// its samples in [-1, 1) and its sample rate (8 kHz in FSDD; callers resample).
pub fn fsdd_take(data: &Path, digit: u8, speaker: &str, take: usize) -> (Vec<f32>, u32) {
    let path = data.join(format!("audio/fsdd/{digit}_{speaker}_{take}.wav"));
    let mut r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = r.spec().sample_rate;
    let samples = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap_or_else(|e| panic!("{}: {e}", path.display()))) / 32768.0)
        .collect();
    (samples, rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_root_holds_the_workspace_manifest() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("test-support").is_dir());
    }

    #[test]
    fn a_binary_older_than_a_source_listed_in_its_dependency_file_is_out_of_date() {
        use std::time::{Duration, SystemTime};
        let dir = std::env::temp_dir().join(format!("lifecert-bin-check-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a dir")).unwrap();
        let bin = dir.join("tool");
        let source = dir.join("a dir/main.rs");
        let touch = |path: &Path, t: SystemTime| {
            std::fs::File::create(path)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        let then = SystemTime::now() - Duration::from_secs(3600);
        assert!(binary_out_of_date(&bin).unwrap().contains("is not built"));
        touch(&bin, then);
        assert!(binary_out_of_date(&bin)
            .unwrap()
            .contains("no dependency file"));
        let escaped = source.display().to_string().replace(' ', "\\ ");
        std::fs::write(
            dir.join("tool.d"),
            format!("{}: {escaped}\n\n", bin.display()),
        )
        .unwrap();
        touch(&source, then - Duration::from_secs(60));
        assert_eq!(binary_out_of_date(&bin), None);
        touch(&source, then + Duration::from_secs(60));
        let why = binary_out_of_date(&bin).unwrap();
        assert!(why.contains("a dir/main.rs is newer"), "{why}");
        std::fs::remove_file(&source).unwrap();
        assert!(binary_out_of_date(&bin).unwrap().contains("is gone"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
