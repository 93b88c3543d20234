//! The committed models: checksums as pinned in models/MODELS.md, and numerical agreement
//! with the shared reference conversions on the same real input.

mod common;

use common::{astronaut, repo_root};
use lifecert_core::face::error::FaceError;
use lifecert_core::image::warp::{letterbox_into, warp_into, Affine};
use lifecert_core::model::error::ModelError;
use std::path::Path;
use tract_onnx::prelude::*;

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Rows `| file | sha256 |` of the `## Checksums` table in models/MODELS.md.
fn pinned_checksums() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("models/MODELS.md")).unwrap();
    let section = text
        .split("## Checksums")
        .nth(1)
        .expect("MODELS.md has a '## Checksums' section");
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() >= 4
                && cells[2].len() == 64
                && cells[2].chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| {
                (
                    cells[1].trim_matches('`').to_owned(),
                    cells[2].to_ascii_lowercase(),
                )
            })
        })
        .collect()
}

#[test]
fn committed_models_match_their_pinned_checksums() {
    let pinned = pinned_checksums();
    let dir = repo_root().join("models");
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".onnx") || n == "canonical_face.json")
        .collect();
    committed.sort();
    assert!(committed.len() >= 3, "models missing: {committed:?}");
    for name in &committed {
        let (_, want) = pinned
            .iter()
            .find(|(f, _)| f == name)
            .unwrap_or_else(|| panic!("{name} is not listed under '## Checksums' in MODELS.md"));
        let got = sha256_hex(&std::fs::read(dir.join(name)).unwrap());
        assert_eq!(&got, want, "{name}: sha256 differs from MODELS.md");
    }
}

fn run(model: &Path, shape: &[usize], input: &[f32]) -> Vec<Vec<f32>> {
    run_proto(
        &tract_onnx::onnx().proto_model_for_path(model).unwrap(),
        shape,
        input,
    )
}

fn run_proto(model: &tract_onnx::pb::ModelProto, shape: &[usize], input: &[f32]) -> Vec<Vec<f32>> {
    let typed = tract_onnx::onnx()
        .model_for_proto_model(model)
        .unwrap()
        .with_input_fact(0, f32::fact(shape).into())
        .unwrap()
        .into_typed()
        .unwrap();
    run_typed(typed, shape, input)
}

/// Every output value of `b` has the bits of `a`'s.
fn assert_same_bits(file: &str, a: &[Vec<f32>], b: &[Vec<f32>]) {
    assert_eq!(a.len(), b.len(), "{file}: output count");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let differ = x
            .iter()
            .zip(y)
            .filter(|(p, q)| p.to_bits() != q.to_bits())
            .count();
        assert_eq!(
            differ,
            0,
            "{file} output {i}: {differ} of {} values differ",
            x.len()
        );
    }
}

fn run_typed(model: TypedModel, shape: &[usize], input: &[f32]) -> Vec<Vec<f32>> {
    let plan = model.into_optimized().unwrap().into_runnable().unwrap();
    let outputs = plan
        .run(tvec!(Tensor::from_shape(shape, input).unwrap().into()))
        .unwrap();
    outputs
        .iter()
        .map(|o| {
            o.to_plain_array_view::<f32>()
                .unwrap()
                .iter()
                .copied()
                .collect()
        })
        .collect()
}

fn assert_agree(file: &str, shape: &[usize], input: &[f32]) {
    let Some(data) = common::eval_data(&format!("reference agreement of {file}")) else {
        return;
    };
    let reference = std::env::var_os("LIFECERT_REFERENCE_MODELS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data.join("../models/reference"));
    let ours = run(&repo_root().join("models").join(file), shape, input);
    let theirs = run(&reference.join(file), shape, input);
    assert_eq!(ours.len(), theirs.len(), "{file}: output count");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.len(), b.len(), "{file}: output {i} size");
        let max = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        eprintln!("{file} output {i}: max |diff| = {max:e}");
        assert!(max <= 1e-3, "{file} output {i}: max |diff| {max} > 1e-3");
    }
}

#[test]
fn detector_agrees_with_the_reference_conversion() {
    let mut input = vec![0.0f32; 128 * 128 * 3];
    letterbox_into(&astronaut(), 128, 1.0 / 127.5, -1.0, 0.0, &mut input);
    assert_agree("face_detection_short_range.onnx", &[1, 128, 128, 3], &input);
}

#[test]
fn landmarks_agree_with_the_reference_conversion() {
    // The astronaut's face region (MODELS.md box ≈ [177,81,272,175]) scaled 1.5×.
    let map = Affine::square_crop(224.5, 128.0, 142.0, 0.0, 192);
    let mut input = vec![0.0f32; 192 * 192 * 3];
    warp_into(&astronaut(), &map, 192, 1.0 / 255.0, 0.0, &mut input);
    assert_agree("face_landmark.onnx", &[1, 192, 192, 3], &input);
}

/// The engine rewrites FaceMesh's 23 PReLUs before tract optimises the graph
/// (`model::rewrite`): on a real face the outputs keep every bit.
#[test]
fn the_prelu_rewrite_keeps_the_landmarks_bit_for_bit() {
    let map = Affine::square_crop(224.5, 128.0, 142.0, 0.0, 192);
    let mut input = vec![0.0f32; 192 * 192 * 3];
    warp_into(&astronaut(), &map, 192, 1.0 / 255.0, 0.0, &mut input);
    let path = repo_root().join("models/face_landmark.onnx");
    let original = tract_onnx::onnx().proto_model_for_path(&path).unwrap();
    let mut rewritten = original.clone();
    assert_eq!(
        lifecert_core::model::rewrite::prelu_as_relu_sum(&mut rewritten),
        23
    );
    let shape = [1, 192, 192, 3];
    let (a, b) = (
        run_proto(&original, &shape, &input),
        run_proto(&rewritten, &shape, &input),
    );
    assert_same_bits("face_landmark.onnx", &a, &b);
}

/// The engine runs FaceMesh's PReLUs and 2×2 max pools, and BlazeFace's max pools, with its own
/// operators (`model::ops`): on a real face every output keeps every bit of tract's.
#[test]
fn the_engines_operators_keep_both_face_models_bit_for_bit() {
    use lifecert_core::model::ops::{run_ours, Replaced};
    let mut detector_input = vec![0.0f32; 128 * 128 * 3];
    letterbox_into(
        &astronaut(),
        128,
        1.0 / 127.5,
        -1.0,
        0.0,
        &mut detector_input,
    );
    let map = Affine::square_crop(224.5, 128.0, 142.0, 0.0, 192);
    let mut landmark_input = vec![0.0f32; 192 * 192 * 3];
    warp_into(
        &astronaut(),
        &map,
        192,
        1.0 / 255.0,
        0.0,
        &mut landmark_input,
    );
    for (file, shape, input, expected) in [
        (
            "face_detection_short_range.onnx",
            [1, 128, 128, 3],
            &detector_input,
            Replaced {
                prelu: 0,
                maxpool: 3,
            },
        ),
        (
            "face_landmark.onnx",
            [1, 192, 192, 3],
            &landmark_input,
            Replaced {
                prelu: 23,
                maxpool: 5,
            },
        ),
    ] {
        let mut proto = tract_onnx::onnx()
            .proto_model_for_path(repo_root().join("models").join(file))
            .unwrap();
        lifecert_core::model::rewrite::prelu_as_relu_sum(&mut proto);
        let typed = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .unwrap()
            .with_input_fact(0, f32::fact(shape).into())
            .unwrap()
            .into_typed()
            .unwrap()
            .into_decluttered()
            .unwrap();
        let mut ours = typed.clone();
        assert_eq!(run_ours(&mut ours).unwrap(), expected, "{file}");
        let (a, b) = (
            run_typed(typed, &shape, input),
            run_typed(ours, &shape, input),
        );
        assert_same_bits(file, &a, &b);
    }
}

#[test]
fn models_load_from_a_directory_and_bad_files_are_typed_errors() {
    use lifecert_core::{Analyzer, Config, ModelSource};
    let dir = repo_root().join("models");
    let from_dir =
        Analyzer::with_models(Config::default(), &ModelSource::Directory(dir.clone())).unwrap();
    let embedded = common::analyzer();
    assert_eq!(
        from_dir.models(),
        embedded.models(),
        "embedded copies differ from models/"
    );
    let faces = from_dir.analyze_image(&astronaut()).unwrap();
    assert_eq!(faces.len(), 1);

    let missing = Analyzer::with_models(
        Config::default(),
        &ModelSource::Directory("/nonexistent".into()),
    );
    assert!(
        matches!(missing, Err(FaceError::Model(ModelError::Io { .. }))),
        "{missing:?}"
    );

    // A directory whose detector is truncated: a typed model-load error, not a panic.
    let broken =
        std::env::temp_dir().join(format!("lifecert-broken-models-{}", std::process::id()));
    std::fs::create_dir_all(&broken).unwrap();
    for f in [
        "face_detection_short_range.onnx",
        "face_landmark.onnx",
        "canonical_face.json",
        "dlib_face_descriptor.onnx",
    ] {
        std::fs::copy(dir.join(f), broken.join(f)).unwrap();
    }
    let bytes = std::fs::read(dir.join("face_detection_short_range.onnx")).unwrap();
    std::fs::write(
        broken.join("face_detection_short_range.onnx"),
        &bytes[..bytes.len() / 3],
    )
    .unwrap();
    let result = Analyzer::with_models(Config::default(), &ModelSource::Directory(broken.clone()));
    assert!(
        matches!(result, Err(FaceError::Model(ModelError::Load { .. }))),
        "{result:?}"
    );
    std::fs::write(broken.join("canonical_face.json"), b"{\"vertices\": []}").unwrap();
    std::fs::copy(
        dir.join("face_detection_short_range.onnx"),
        broken.join("face_detection_short_range.onnx"),
    )
    .unwrap();
    let result = Analyzer::with_models(Config::default(), &ModelSource::Directory(broken.clone()));
    assert!(
        matches!(result, Err(FaceError::Model(ModelError::Load { .. }))),
        "{result:?}"
    );
    std::fs::remove_dir_all(&broken).ok();
}
