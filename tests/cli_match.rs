//! End to end: `lifecert match` on real photos of the shared evaluation set — a genuine pair
//! accepted, an impostor refused, per-file errors and exit codes.

mod common;

use common::{eval_data, lifecert, repo};
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

#[test]
fn a_genuine_pair_is_accepted_and_an_impostor_refused() {
    let Some(data) = eval_data("a_genuine_pair_is_accepted_and_an_impostor_refused") else {
        return;
    };
    let faces = data.join("faces_identity");
    let probe = faces.join("barack_obama/fr_obama.jpg");
    let genuine = faces.join("barack_obama/fr_obama2.jpg");
    let impostor = faces.join("joe_biden/fr_biden.jpg");
    let (output, json) = run_match(&[&probe, &genuine, &impostor]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let threshold = json["threshold"].as_f64().unwrap();
    assert!((threshold - 0.55).abs() < 1e-6, "{threshold}");
    assert_eq!(json["probe"]["faces"], 1);
    assert_eq!(json["probe"]["face_box"].as_array().unwrap().len(), 4);
    let refs = json["references"].as_array().unwrap();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0]["path"], genuine.display().to_string());
    let d_genuine = refs[0]["distance"].as_f64().unwrap();
    assert!(d_genuine < threshold, "genuine distance {d_genuine}");
    assert_eq!(refs[0]["accepted"], true);
    assert_eq!(refs[0]["decision"], "same_person");
    let d_impostor = refs[1]["distance"].as_f64().unwrap();
    assert!(d_impostor > threshold, "impostor distance {d_impostor}");
    assert_eq!(refs[1]["accepted"], false);
    assert_eq!(refs[1]["decision"], "different_person");
    assert!(refs.iter().all(|r| r.get("error").is_none()));
}

#[test]
fn a_reference_that_is_not_an_image_gets_an_error_entry_and_exit_2() {
    let Some(data) = eval_data("a_reference_that_is_not_an_image_gets_an_error_entry_and_exit_2")
    else {
        return;
    };
    let faces = data.join("faces_identity");
    let probe = faces.join("angelina_jolie/deepface_img1.jpg");
    let genuine = faces.join("angelina_jolie/deepface_img2.jpg");
    let not_an_image = repo().join("Cargo.toml");
    let (output, json) = run_match(&[&probe, &not_an_image, &genuine]);
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
    let Some(data) = eval_data("a_probe_without_a_face_or_unreadable_is_bad_input") else {
        return;
    };
    let reference = repo().join("samples/astronaut.png");
    let dogs = data.join("hard_cases/no_face/dlib_dogs.jpg");
    let (output, json) = run_match(&[&dogs, &reference]);
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
    let Some(data) = eval_data("a_reference_without_a_face_is_reported_per_file") else {
        return;
    };
    let probe = repo().join("samples/astronaut.png");
    let dogs = data.join("hard_cases/no_face/dlib_dogs.jpg");
    let (output, json) = run_match(&[&probe, &probe, &dogs]);
    assert_eq!(output.status.code(), Some(2));
    let refs = json["references"].as_array().unwrap();
    // The same photo matches itself exactly.
    assert!(refs[0]["distance"].as_f64().unwrap() < 1e-4, "{}", refs[0]);
    assert_eq!(refs[1]["error"], "no face found");
}
