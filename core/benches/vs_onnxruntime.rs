//! The tract half of `scripts/bench-vs-onnxruntime.sh`: each model on exactly the input
//! onnxruntime gets (written by `models/bench_vs_onnxruntime.py prepare` into the directory
//! named by `LIFECERT_BENCH_INPUTS`), and the whole per-frame analysis
//! ([`Analyzer::analyze_image`]) of the frames of a real talking clip, per frame and tracked
//! ([`Analyzer::analyze_image_tracked`], steady state).
//!
//! The models are loaded exactly as the engine loads them (`lifecert_core::model::engine_plan`:
//! the graph rewrites, the engine's own operators, tract's optimiser), single-threaded. Without `LIFECERT_BENCH_INPUTS` the
//! bench says so and measures nothing (run it through the script).

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use image::RgbImage;
use lifecert_core::{Analyzer, Config, FaceTrack};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tract_onnx::prelude::*;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

struct Input {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn input(dir: &Path, name: &str) -> Input {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("inputs.json")).unwrap()).unwrap();
    let spec = &spec[name];
    let shape = spec["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let bytes = std::fs::read(dir.join(spec["file"].as_str().unwrap())).unwrap();
    Input { shape, bytes }
}

impl Input {
    fn tensor(&self) -> Tensor {
        let values: Vec<f32> = self
            .bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Tensor::from_shape(&self.shape, &values).unwrap()
    }
}

/// Exactly the plan the engine runs ([`lifecert_core::model::engine_plan`]: rewrites, the
/// engine's own operators, tract's optimiser).
fn plan(file: &'static str, shapes: &[&[usize]]) -> Arc<TypedRunnableModel> {
    let bytes = std::fs::read(models_dir().join(file)).unwrap();
    lifecert_core::model::engine_plan(file, &bytes, shapes).unwrap()
}

fn bench_model(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    file: &'static str,
    inputs: &[&Input],
) {
    let shapes: Vec<&[usize]> = inputs.iter().map(|i| i.shape.as_slice()).collect();
    let plan = plan(file, &shapes);
    let tensors: Vec<Tensor> = inputs.iter().map(|i| i.tensor()).collect();
    g.bench_function(id, |b| {
        b.iter(|| {
            let feed: TVec<TValue> = tensors.iter().map(|t| t.clone().into()).collect();
            black_box(plan.run(feed).unwrap())
        })
    });
}

fn benches(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("LIFECERT_BENCH_INPUTS").map(PathBuf::from) else {
        eprintln!(
            "vs_onnxruntime: LIFECERT_BENCH_INPUTS is not set; run scripts/bench-vs-onnxruntime.sh"
        );
        return;
    };
    let (det, lm, desc) = (
        input(&dir, "detector"),
        input(&dir, "landmarks"),
        input(&dir, "descriptor"),
    );
    let (vad, vad_state, speaker) = (
        input(&dir, "vad"),
        input(&dir, "vad_state"),
        input(&dir, "speaker"),
    );
    // Criterion writes target/criterion/vs_onnxruntime/<id>/new/estimates.json (read by the
    // report).
    let mut g = c.benchmark_group("vs_onnxruntime");
    g.sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    bench_model(
        &mut g,
        "model_detector",
        "face_detection_short_range.onnx",
        &[&det],
    );
    bench_model(&mut g, "model_landmarks", "face_landmark.onnx", &[&lm]);
    bench_model(
        &mut g,
        "model_descriptor",
        "dlib_face_descriptor.onnx",
        &[&desc],
    );
    bench_model(
        &mut g,
        "model_vad_chunk",
        "silero_vad_16k.onnx",
        &[&vad, &vad_state],
    );
    bench_model(
        &mut g,
        "model_speaker_window",
        "ge2e_speaker_encoder.onnx",
        &[&speaker],
    );

    let clip = input(&dir, "clip");
    let [n, h, w, 3] = clip.shape[..] else {
        panic!("clip shape {:?}", clip.shape)
    };
    let frames: Vec<RgbImage> = clip
        .bytes
        .chunks_exact(h * w * 3)
        .map(|f| RgbImage::from_raw(w as u32, h as u32, f.to_vec()).unwrap())
        .collect();
    assert_eq!(frames.len(), n);
    let analyzer = Analyzer::new(Config::default()).unwrap();
    let faces: Vec<usize> = frames
        .iter()
        .map(|f| analyzer.analyze_image(f).unwrap().len())
        .collect();
    eprintln!("vs_onnxruntime: faces per frame of the clip (tract): {faces:?}");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    // One pass over the whole clip per iteration (the report divides by the frame count).
    g.bench_function("pipeline_frame_640x480", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(analyzer.analyze_image(black_box(f)).unwrap());
            }
        })
    });
    // The same frames as a stream, tracked: one track for the whole run and timestamps that
    // run on across passes (frame k at k / 25 s, the clip's rate), so every pass is steady
    // state (the detector every 300 ms, i.e. every 8th frame). One pass per iteration.
    let mut track = FaceTrack::new();
    let mut frame_no = 0u64;
    let mut next_t = || {
        frame_no += 1;
        Duration::from_millis((frame_no - 1) * 40)
    };
    for f in &frames {
        analyzer
            .analyze_image_tracked(f, next_t(), &mut track)
            .unwrap();
    }
    g.bench_function("pipeline_frame_640x480_tracked", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(
                    analyzer
                        .analyze_image_tracked(black_box(f), next_t(), &mut track)
                        .unwrap(),
                );
            }
        })
    });
    let stats = track.stats();
    eprintln!(
        "vs_onnxruntime: tracked: detector on {} of {} frames ({:.1} %)",
        stats.detector_runs,
        stats.frames,
        100.0 * stats.detector_fraction()
    );
    g.finish();
}

criterion_group!(vs_onnxruntime, benches);
criterion_main!(vs_onnxruntime);
