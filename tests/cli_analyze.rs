//! End to end: the `lifecert` binary as a newcomer runs it (README's first command).

mod common;

use common::{lifecert, repo};

#[test]
fn analyze_prints_one_face_with_pose_and_guidance_and_draws_it() {
    let out_dir = std::env::temp_dir().join(format!("lifecert-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let annotated = out_dir.join("astronaut.png");
    let output = lifecert()
        .args(["analyze", "--lang", "en", "--annotate"])
        .arg(&annotated)
        .arg(repo().join("samples/astronaut.png"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!(image["width"], 512);
    let faces = image["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0]["keypoints"].as_array().unwrap().len(), 6);
    assert!(faces[0]["pose"]["yaw"].as_f64().unwrap().abs() < 10.0);
    assert_eq!(image["quality"]["face_count"], 1);
    assert!(image["instruction"]["id"].as_str().is_some());
    assert!(!image["instruction"]["text"].as_str().unwrap().is_empty());
    let models = report["models"].as_array().unwrap();
    assert!(models
        .iter()
        .all(|m| m["sha256"].as_str().unwrap().len() == 64));
    // The annotated picture is written, same size, and differs from the input.
    let drawn = image::open(&annotated).unwrap().to_rgb8();
    let original = image::open(repo().join("samples/astronaut.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(drawn.dimensions(), original.dimensions());
    assert_ne!(drawn.as_raw(), original.as_raw());
    std::fs::remove_dir_all(&out_dir).ok();
}

#[test]
fn unreadable_input_exits_with_the_bad_input_code() {
    let output = lifecert()
        .args(["analyze"])
        .arg(repo().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let missing = lifecert()
        .args(["analyze", "/nonexistent/photo.jpg"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
