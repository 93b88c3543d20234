//! Criterion benchmarks of face matching on a 640×480 frame: the aligned chip, the
//! descriptor, a whole enrollment frame (quality gate + descriptor), template matching,
//! refresh, and sealing / opening a template.

mod common;
use common::frame_640x480;

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use lifecert_core::crypto::sealing::SealingKey;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::matching::sealed_template::{open_template, seal_template};
use lifecert_core::matching::templates::{descriptor_model, SampleQuality, TemplateBuilder};
use lifecert_core::{Analyzer, Config};
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let image = frame_640x480();
    // The sample looks down ≈ 10°, at the default pitch limit of the enrollment gate.
    let mut config = Config::default();
    config.guidance.max_pitch_deg = 12.0;
    let analyzer = Analyzer::new(&config).unwrap();
    let faces = analyzer.analyze_image(&image).unwrap();
    assert_eq!(faces.len(), 1);
    let face = &faces[0];
    let model = descriptor_model(&analyzer).unwrap();

    c.bench_function("align_chip_one_face", |b| {
        b.iter(|| black_box(analyzer.chip(black_box(&image), face).unwrap()))
    });
    let chip = analyzer.chip(&image, face).unwrap();
    c.bench_function("describe_chip", |b| {
        b.iter(|| {
            black_box(
                analyzer
                    .descriptor_model()
                    .unwrap()
                    .describe(black_box(&chip))
                    .unwrap(),
            )
        })
    });
    c.bench_function("align_and_describe_one_face", |b| {
        b.iter(|| black_box(analyzer.describe(black_box(&image), face).unwrap()))
    });
    c.bench_function("enroll_frame_gate_and_describe", |b| {
        b.iter(|| {
            let mut builder = TemplateBuilder::new(&analyzer, &config).unwrap();
            black_box(
                builder
                    .add_frame(&analyzer, black_box(&image), &faces)
                    .unwrap(),
            )
        })
    });

    let mut builder = TemplateBuilder::new(&analyzer, &config).unwrap();
    for _ in 0..3 {
        builder.add_frame(&analyzer, &image, &faces).unwrap();
    }
    let template = builder.build(1_700_000_000).unwrap();
    let live = analyzer.describe(&image, face).unwrap();
    c.bench_function("match_descriptor", |b| {
        b.iter(|| {
            black_box(
                template
                    .match_descriptor(black_box(&live), &model, &config.matching)
                    .unwrap(),
            )
        })
    });
    c.bench_function("build_template_from_3_descriptors", |b| {
        let quality = builder_quality(&analyzer, &config, &image, &faces);
        b.iter(|| {
            let mut builder = TemplateBuilder::for_model(model.clone(), config.clone()).unwrap();
            for _ in 0..3 {
                builder.add_sample(live.clone(), quality).unwrap();
            }
            black_box(builder.build(0).unwrap())
        })
    });
    c.bench_function("refresh_template", |b| {
        b.iter(|| {
            let mut t = template.clone();
            black_box(
                t.refresh(&live, &model, 1_800_000_000, &config.matching)
                    .unwrap(),
            )
        })
    });

    let key = SealingKey::generate().unwrap();
    let subject = SubjectReference::from_bytes([7; 32]);
    c.bench_function("seal_template", |b| {
        b.iter(|| black_box(seal_template(black_box(&template), &key, &subject).unwrap()))
    });
    let sealed = seal_template(&template, &key, &subject).unwrap();
    c.bench_function("open_template", |b| {
        b.iter(|| black_box(open_template(black_box(&sealed), &key, &subject, &model).unwrap()))
    });
}

/// The quality figures of the sample's face, as an enrollment frame would record them.
fn builder_quality(
    analyzer: &Analyzer,
    config: &Config,
    image: &RgbImage,
    faces: &[lifecert_core::FaceObservation],
) -> SampleQuality {
    let mut builder = TemplateBuilder::new(analyzer, config).unwrap();
    builder.add_frame(analyzer, image, faces).unwrap()
}

criterion_group! {
    name = matching;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(matching);
