//! Criterion benchmarks of face analysis on a 640×480 frame: detection, landmarks, a whole
//! `analyze`, and the cold start: loading every face model, creating an [`Engine`] and
//! creating one then analysing its first frame (what a user waits for when the camera opens).

mod common;
use common::frame_640x480;

use criterion::{criterion_group, criterion_main, Criterion};
use lifecert_core::capture::guidance::GuidanceEngine;
use lifecert_core::capture::quality::{self, MotionTracker};
use lifecert_core::{Analyzer, Config, Engine, Frame, PixelFormat, Rotation};
use std::hint::black_box;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let image = frame_640x480();
    c.bench_function("load_all_models_cold", |b| {
        b.iter(|| black_box(Analyzer::new(Config::default()).unwrap()))
    });
    let analyzer = Analyzer::new(Config::default()).unwrap();
    let detections = analyzer.detector().detect(&image).unwrap();
    assert_eq!(detections.len(), 1);
    let roi = analyzer.landmarker().roi_for(&detections[0]);
    // Preprocessing alone (letterbox to 128² and the rotated 192² landmark crop).
    c.bench_function("detector_input_640x480", |b| {
        let mut buf = vec![0.0f32; 128 * 128 * 3];
        b.iter(|| {
            black_box(lifecert_core::image::warp::letterbox_into(
                &image,
                128,
                1.0 / 127.5,
                -1.0,
                0.0,
                &mut buf,
            ))
        })
    });
    c.bench_function("landmark_input_one_face", |b| {
        let mut buf = vec![0.0f32; 192 * 192 * 3];
        b.iter(|| {
            lifecert_core::image::warp::warp_into(
                &image,
                &roi.affine(),
                192,
                1.0 / 255.0,
                0.0,
                black_box(&mut buf),
            )
        })
    });
    c.bench_function("detect_640x480", |b| {
        b.iter(|| black_box(analyzer.detector().detect(black_box(&image)).unwrap()))
    });
    c.bench_function("landmarks_one_face", |b| {
        b.iter(|| {
            black_box(
                analyzer
                    .landmarker()
                    .landmarks(black_box(&image), &roi)
                    .unwrap(),
            )
        })
    });
    let frame = Frame::from_rgb_image(&image).unwrap();
    c.bench_function("analyze_640x480", |b| {
        b.iter(|| black_box(analyzer.analyze(black_box(&frame)).unwrap()))
    });

    // Quality measurements + guidance on the same frame: must cost far less than the models.
    let faces = analyzer.analyze_image(&image).unwrap();
    let config = Config::default();
    c.bench_function("quality_and_guidance_640x480", |b| {
        let mut tracker = MotionTracker::new();
        let mut engine = GuidanceEngine::new(config.guidance.clone()).unwrap();
        let mut t = Duration::ZERO;
        b.iter(|| {
            t += Duration::from_millis(33);
            let m = quality::measure(&image, &faces, &mut tracker, t, &config.guidance.quality);
            black_box(engine.update(&m, t))
        })
    });

    // Camera frame conversion: NV21 640×480 rotated 270° and mirrored (a front camera).
    let nv21 = vec![128u8; 640 * 480 * 3 / 2];
    let frame = Frame::packed(&nv21, 640, 480, PixelFormat::Nv21, Rotation::Deg270, true).unwrap();
    c.bench_function("nv21_to_rgb_640x480", |b| {
        b.iter(|| black_box(frame.to_rgb()))
    });
}

fn cold_start(c: &mut Criterion) {
    let image = frame_640x480();
    let frame = Frame::from_rgb_image(&image).unwrap();
    let mut g = c.benchmark_group("cold_start");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("engine_new", |b| {
        b.iter(|| black_box(Engine::new(Config::default()).unwrap()))
    });
    g.bench_function("engine_new_to_first_frame", |b| {
        b.iter(|| {
            let engine = Engine::new(Config::default()).unwrap();
            let analysis = engine.analyzer().analyze(black_box(&frame)).unwrap();
            assert_eq!(analysis.faces.len(), 1);
            black_box(analysis)
        })
    });
    g.finish();
}

criterion_group! {
    name = analysis;
    config = Criterion::default().sample_size(30);
    targets = benches, cold_start
}
criterion_main!(analysis);
