//! End to end: `lifecert match` on real photos of the shared evaluation set — genuine photos
//! accepted, an impostor refused, per-file errors and exit codes. The people are discovered
//! from the folders of `faces_identity/` (no file name is assumed), so the tests run on any
//! data set laid out the same way.

mod common;

use common::{eval_data, identities, lifecert, repo, temp_dir};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn run_match(args: &[&Path]) -> (Output, Value) {
    let output = lifecert().arg("match").args(args).output().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, json)
}

/// A picture without a face: a smooth colour gradient.
fn no_face(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("gradient.png");
    image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(&path)
    .unwrap();
    path
}

#[test]
fn a_genuine_pair_is_accepted_and_an_impostor_refused() {
    let Some(data) = eval_data("a_genuine_pair_is_accepted_and_an_impostor_refused") else {
        return;
    };
    // Whoever the data set holds: the first person's first photo against their other
    // photos and against the second person's first photo (no file name is assumed).
    let people = identities(&data, 2);
    assert!(
        people.len() >= 2,
        "faces_identity/ needs two people with two photos"
    );
    let (a, b) = (&people[0].1, &people[1].1);
    let probe = &a[0];
    let genuine: Vec<&Path> = a[1..].iter().map(|p| p.as_path()).collect();
    let impostor = b[0].as_path();
    let mut args: Vec<&Path> = vec![probe.as_path()];
    args.extend(&genuine);
    args.push(impostor);
    let (output, json) = run_match(&args);
    let refs = json["references"].as_array().unwrap();
    assert_eq!(refs.len(), genuine.len() + 1);
    let threshold = json["threshold"].as_f64().unwrap();
    assert!((threshold - 0.55).abs() < 1e-6, "{threshold}");
    assert_eq!(json["probe"]["faces"], 1);
    assert_eq!(json["probe"]["face_box"].as_array().unwrap().len(), 4);
    let mut compared = 0;
    for (r, path) in refs.iter().zip(genuine.iter().chain([&impostor])) {
        assert_eq!(r["path"], path.display().to_string());
        let Some(d) = r["distance"].as_f64() else {
            // A photo of the set without a detectable face: reported per file (exit 2).
            assert_eq!(r["error"], "no face found", "{r}");
            continue;
        };
        compared += 1;
        let accepted = d <= threshold;
        assert_eq!(r["accepted"], accepted, "{r}");
        let decision = if accepted {
            "same_person"
        } else {
            "different_person"
        };
        assert_eq!(r["decision"], decision, "{r}");
    }
    assert_eq!(
        output.status.code(),
        Some(if compared == refs.len() { 0 } else { 2 }),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The impostor is refused; most genuine photos are accepted (FNMR is a few per cent).
    let last = refs.last().unwrap();
    assert_eq!(last["accepted"], false, "impostor {last}");
    let accepted = refs[..genuine.len()]
        .iter()
        .filter(|r| r["accepted"] == true)
        .count();
    assert!(
        2 * accepted >= genuine.len(),
        "{accepted} of {} genuine photos accepted",
        genuine.len()
    );
}

#[test]
fn a_reference_that_is_not_an_image_gets_an_error_entry_and_exit_2() {
    let Some(data) = eval_data("a_reference_that_is_not_an_image_gets_an_error_entry_and_exit_2")
    else {
        return;
    };
    let people = identities(&data, 2);
    let (probe, genuine) = (&people[0].1[0], &people[0].1[1]);
    let not_an_image = repo().join("Cargo.toml");
    let (output, json) = run_match(&[probe, &not_an_image, genuine]);
    assert_eq!(output.status.code(), Some(2));
    let refs = json["references"].as_array().unwrap();
    assert_eq!(refs.len(), 2);
    assert!(
        refs[0]["error"].as_str().unwrap().contains("decode"),
        "{}",
        refs[0]
    );
    assert!(refs[0].get("distance").is_none());
    // The other reference is still compared.
    assert!(refs[1]["distance"].as_f64().is_some(), "{}", refs[1]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not be compared"));
}

#[test]
fn a_probe_without_a_face_or_unreadable_is_bad_input() {
    let dir = temp_dir();
    let reference = repo().join("samples/astronaut.png");
    let blank = no_face(dir.path());
    let (output, json) = run_match(&[&blank, &reference]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json["probe"]["error"], "no face found");
    assert_eq!(json["references"].as_array().unwrap().len(), 0);

    let missing = Path::new("/nonexistent/probe.jpg");
    let (output, json) = run_match(&[missing, &reference]);
    assert_eq!(output.status.code(), Some(2));
    assert!(json["probe"]["error"]
        .as_str()
        .unwrap()
        .contains("i/o error"));
}

#[test]
fn a_reference_without_a_face_is_reported_per_file() {
    let dir = temp_dir();
    let probe = repo().join("samples/astronaut.png");
    let blank = no_face(dir.path());
    let (output, json) = run_match(&[&probe, &probe, &blank]);
    assert_eq!(output.status.code(), Some(2));
    let refs = json["references"].as_array().unwrap();
    // The same photo matches itself exactly.
    assert!(refs[0]["distance"].as_f64().unwrap() < 1e-4, "{}", refs[0]);
    assert_eq!(refs[1]["error"], "no face found");
}
