//! Criterion benchmarks of speaker embedding: model load, the mel front end alone, and
//! [`SpeakerEncoder::embed`] on one certification answer (2 s of speech: 2 windows of the
//! network) and on longer speech (an enrollment reading of 0–9 is 5–10 s), from which the cost
//! per second of speech follows.
//!
//! The speech is a deterministic synthetic voice (harmonics of a wandering pitch through two
//! moving formants, with syllable-rate modulation): the cost of the front end and of the LSTM
//! does not depend on what is said.

use criterion::{criterion_group, criterion_main, Criterion};
use lifecert_core::audio::speaker::frontend::MelFrontEnd;
use lifecert_core::audio::speaker::SpeakerEncoder;
use lifecert_core::ModelSource;
use std::hint::black_box;

fn voice(seconds: f64) -> Vec<f32> {
    let n = (seconds * 16_000.0) as usize;
    let tau = std::f64::consts::TAU;
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            let phase = tau * 120.0 * t - 30.0 * (tau * 0.8 * t).cos();
            let f0 = 120.0 + 24.0 * (tau * 0.8 * t).sin();
            let (f1, f2) = (
                550.0 + 200.0 * (tau * 1.3 * t).sin(),
                1800.0 + 400.0 * (tau * 0.9 * t).sin(),
            );
            let mut x = 0.0;
            for k in 1..40 {
                let fk = f64::from(k) * f0;
                if fk >= 8_000.0 {
                    break;
                }
                let amp = (1.0 / (1.0 + ((fk - f1) / 150.0).powi(2))
                    + 0.5 / (1.0 + ((fk - f2) / 250.0).powi(2)))
                    / f64::from(k);
                x += amp * (f64::from(k) * phase).sin();
            }
            (0.1 * (0.6 + 0.4 * (tau * 3.5 * t).sin()) * x) as f32
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let encoder = SpeakerEncoder::with_models(&ModelSource::Embedded).expect("model loads");
    let mut g = c.benchmark_group("speaker");
    g.sample_size(20);

    g.bench_function("load_model", |b| {
        b.iter(|| SpeakerEncoder::with_models(black_box(&ModelSource::Embedded)).unwrap())
    });

    let mel = MelFrontEnd::new();
    let one_second = voice(1.0);
    g.bench_function("mel_1s", |b| b.iter(|| mel.frames(black_box(&one_second))));

    for seconds in [2.0, 5.0, 10.0] {
        let speech = voice(seconds);
        g.bench_function(format!("embed_{seconds}s"), |b| {
            b.iter(|| encoder.embed(black_box(&speech)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
