//! The fuzz targets' bodies (`fuzz/src/lib.rs`) replayed, as ordinary tests, on every file of
//! the committed corpus (`fuzz/corpus/<target>/`: seeds and the inputs that found new code)
//! and of the crash reproducers (`fuzz/regressions/<target>/`: one file per crash found, kept
//! after the fix). This is how CI runs the fuzz targets: no nightly toolchain, no second,
//! sanitizer build of the engine. Fuzzing itself is local (`fuzz/README.md`).

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_bodies;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Files directly in `dir`, sorted (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs target `name` on its corpus and regressions; returns how many inputs ran. A panic
/// names the file.
fn replay(name: &str) -> usize {
    let (_, body) = fuzz_bodies::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        for file in files(&fuzz_dir().join(kind).join(name)) {
            let bytes = std::fs::read(&file).unwrap();
            let run = std::panic::catch_unwind(|| body(&bytes));
            assert!(
                run.is_ok(),
                "fuzz target {name} fails on {}",
                file.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn every_target_has_a_corpus_and_is_tested_here() {
    let tested = [
        "frame",
        "image_upload",
        "sealed_templates",
        "attestation",
        "identity",
        "audio_session",
    ];
    let names: Vec<&str> = fuzz_bodies::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, tested);
    for name in names {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} has no seeds");
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs is missing"
        );
    }
}

#[test]
fn frame_corpus() {
    assert!(replay("frame") > 0);
}

#[test]
fn image_upload_corpus() {
    assert!(replay("image_upload") > 0);
}

#[test]
fn sealed_templates_corpus() {
    assert!(replay("sealed_templates") > 0);
}

#[test]
fn attestation_corpus() {
    assert!(replay("attestation") > 0);
}

#[test]
fn identity_corpus() {
    assert!(replay("identity") > 0);
}

#[test]
fn audio_session_corpus() {
    assert!(replay("audio_session") > 0);
}

/// Writes the seeds of every target to `fuzz/corpus/<target>/seed_<name>` (run by hand after
/// changing a body or an input format: `cargo test -p lifecert-core --test fuzz_corpus --
/// --ignored write_fuzz_seeds`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    for (target, name, bytes) in fuzz_bodies::seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed_{name}")), bytes).unwrap();
    }
}
