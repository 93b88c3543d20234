//! Unit tests of the speaker module against `golden.json` (written by
//! `models/speaker_reference.py --golden`: NumPy reference of Resemblyzer 0.1.4, network in
//! onnxruntime).

use super::frontend::{self, MelFrontEnd};
use super::*;
use std::sync::OnceLock;

#[derive(Deserialize)]
struct Golden {
    signal: GoldenSignal,
    mel: GoldenMel,
    partial_slices: std::collections::BTreeMap<String, Vec<usize>>,
    embeddings: Vec<GoldenEmbedding>,
}

#[derive(Deserialize)]
struct GoldenSignal {
    samples: usize,
    sha256_s16le: String,
}

#[derive(Deserialize)]
struct GoldenMel {
    samples: usize,
    gain: f64,
    frames: usize,
    values: Vec<f32>,
}

#[derive(Deserialize)]
struct GoldenEmbedding {
    samples: usize,
    scale: f32,
    gain: f64,
    windows: usize,
    window_starts: Vec<usize>,
    embedding: Vec<f32>,
}

fn golden() -> &'static Golden {
    static G: OnceLock<Golden> = OnceLock::new();
    G.get_or_init(|| serde_json::from_str(include_str!("golden.json")).expect("golden.json"))
}

fn encoder() -> &'static SpeakerEncoder {
    static E: OnceLock<SpeakerEncoder> = OnceLock::new();
    E.get_or_init(|| SpeakerEncoder::with_models(&ModelSource::Embedded).expect("model loads"))
}

/// `speaker_reference.golden_signal(n)`: same formula, same order of operations, in f64.
fn golden_pcm(n: usize) -> Vec<i16> {
    use std::f64::consts::PI;
    let mut lcg: u32 = 12345;
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            let phase = 2.0 * PI * 130.0 * t - (35.0 / 0.9) * (2.0 * PI * 0.9 * t).cos();
            let f0 = 130.0 + 35.0 * (2.0 * PI * 0.9 * t).sin();
            let f1 = 600.0 + 250.0 * (2.0 * PI * 1.7 * t).sin();
            let f2 = 1700.0 + 500.0 * (2.0 * PI * 1.1 * t + 1.0).sin();
            let mut x = 0.0;
            for k in 1..31 {
                let fk = f64::from(k) * f0;
                let amp = (1.0 / f64::from(k))
                    * (1.0 / (1.0 + ((fk - f1) / 150.0).powi(2))
                        + 0.6 / (1.0 + ((fk - f2) / 250.0).powi(2))
                        + 0.05);
                let amp = if fk < 8_000.0 { amp } else { 0.0 };
                x += amp * (f64::from(k) * phase).sin();
            }
            let env = 0.55 + 0.45 * (2.0 * PI * 3.3 * t).sin();
            lcg = lcg.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = f64::from(lcg) / 2f64.powi(31) - 1.0;
            let y = 0.12 * env * x + 0.004 * noise;
            (y.clamp(-1.0, 1.0) * 32767.0).round_ties_even() as i16
        })
        .collect()
}

fn golden_signal() -> Vec<f32> {
    let g = golden();
    let pcm = golden_pcm(g.signal.samples);
    let bytes: Vec<u8> = pcm.iter().flat_map(|x| x.to_le_bytes()).collect();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex, g.signal.sha256_s16le,
        "the regenerated test signal differs from the Python one"
    );
    pcm.iter().map(|&x| f32::from(x) / 32768.0).collect()
}

#[test]
fn mel_spectrogram_matches_the_python_reference() {
    let g = golden();
    let signal = golden_signal();
    let (wav, gain) = frontend::normalize_volume(&signal[..g.mel.samples]).unwrap();
    assert!(
        (gain / g.mel.gain - 1.0).abs() < 1e-9,
        "gain {gain} vs {}",
        g.mel.gain
    );
    let frames = MelFrontEnd::new().frames(&wav);
    assert_eq!(frames.len(), g.mel.frames);
    let max_ref = g.mel.values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut max_abs = 0f32;
    let mut max_rel = 0f32;
    for (got, want) in frames.iter().flatten().zip(&g.mel.values) {
        let d = (got - want).abs();
        max_abs = max_abs.max(d);
        if want.abs() > 1e-3 * max_ref {
            max_rel = max_rel.max(d / want.abs());
        }
    }
    eprintln!(
        "mel vs reference: max|diff| {max_abs:e} (max value {max_ref}), max relative {max_rel:e}"
    );
    assert!(max_abs <= 1e-4 * max_ref.max(1.0), "max|diff| {max_abs}");
    assert!(max_rel <= 1e-4, "max relative diff {max_rel}");
}

#[test]
fn partial_windows_match_the_python_rule() {
    for (n, want) in &golden().partial_slices {
        let n: usize = n.parse().unwrap();
        assert_eq!(frontend::partial_window_starts(n), *want, "n = {n}");
    }
    for case in &golden().embeddings {
        assert_eq!(
            frontend::partial_window_starts(case.samples),
            case.window_starts
        );
        assert_eq!(case.windows, case.window_starts.len());
    }
}

#[test]
fn embeddings_match_the_python_reference() {
    let signal = golden_signal();
    let enc = encoder();
    let mut worst = 0f32;
    for case in &golden().embeddings {
        let speech: Vec<f32> = signal[..case.samples]
            .iter()
            .map(|x| (x * case.scale).clamp(-1.0, 1.0))
            .collect();
        let gain = frontend::volume_gain(&speech).unwrap();
        assert!(
            (gain / case.gain - 1.0).abs() < 1e-6,
            "gain {gain} vs {}",
            case.gain
        );
        let e = enc.embed(&speech).unwrap();
        let d = e
            .values()
            .iter()
            .zip(&case.embedding)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!(
            "embedding of {} samples ×{}: {} windows, max|diff| {d:e}",
            case.samples, case.scale, case.windows
        );
        worst = worst.max(d);
    }
    assert!(worst <= 1e-4, "max|diff| {worst}");
}

#[test]
fn bad_speech_is_a_typed_error() {
    let enc = encoder();
    let mut speech = golden_signal()[..16_000].to_vec();
    speech[100] = f32::NAN;
    assert_eq!(
        enc.embed(&speech),
        Err(SpeakerError::NonFinite { index: 100 })
    );
    speech[100] = 7_000.0;
    assert!(matches!(
        enc.embed(&speech),
        Err(SpeakerError::NotNormalised { index: 100, .. })
    ));
    speech[100] = 0.0;
    assert!(matches!(
        enc.embed(&speech[..4_000]),
        Err(SpeakerError::TooLittleSpeech { .. })
    ));
    assert!(matches!(
        enc.embed(&[]),
        Err(SpeakerError::TooLittleSpeech { .. })
    ));
    assert_eq!(enc.embed(&[0.0; 16_000]), Err(SpeakerError::Silent));
    assert!(matches!(
        enc.embed(&vec![0.01; 61 * 16_000]),
        Err(SpeakerError::TooMuchSpeech { .. })
    ));
}

#[test]
fn loading_checks_the_model_and_the_config() {
    assert!(matches!(
        SpeakerEncoder::new(b"not onnx", SpeakerConfig::default()),
        Err(SpeakerLoadError::Model(ModelError::Load { .. }))
    ));
    let bad = SpeakerConfig {
        min_similarity: 1.5,
        ..SpeakerConfig::default()
    };
    assert!(matches!(
        SpeakerEncoder::with_config(&ModelSource::Embedded, bad),
        Err(SpeakerLoadError::Config(SpeakerError::InvalidConfig(_)))
    ));
    for bad in [
        SpeakerConfig {
            min_similarity: f32::NAN,
            ..SpeakerConfig::default()
        },
        SpeakerConfig {
            min_speech: Duration::from_millis(100),
            ..SpeakerConfig::default()
        },
        SpeakerConfig {
            max_pause: Duration::from_secs(3),
            ..SpeakerConfig::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    SpeakerConfig::default().validate().unwrap();
    let cfg: SpeakerConfig = serde_json::from_str(r#"{"min_similarity": 0.8}"#).unwrap();
    assert_eq!(cfg.min_similarity, 0.8);
    assert_eq!(cfg.min_speech, SpeakerConfig::default().min_speech);
    let info = encoder().model_info();
    assert_eq!(info.file, SPEAKER_FILE);
    assert_eq!(info.sha256.len(), 64);
}

#[test]
fn embeddings_compare_average_and_serialise() {
    let signal = golden_signal();
    let enc = encoder();
    let a = enc.embed(&signal[..32_000]).unwrap();
    let b = enc.embed(&signal[20_000..52_000]).unwrap();
    assert!((a.similarity(&a) - 1.0).abs() < 1e-6);
    assert_eq!(a.similarity(&b), b.similarity(&a));
    let m = SpeakerEmbedding::mean_of(&[a.clone(), b.clone()]).unwrap();
    assert!(m.similarity(&a) > a.similarity(&b) - 1e-6);
    assert!((l2(m.values()) - 1.0).abs() < 1e-6);
    assert_eq!(
        SpeakerEmbedding::mean_of(&[]),
        Err(SpeakerError::NoEmbeddings)
    );

    let json = serde_json::to_string(&a).unwrap();
    assert!(json.starts_with('['));
    let back: SpeakerEmbedding = serde_json::from_str(&json).unwrap();
    assert!((back.similarity(&a) - 1.0).abs() < 1e-6);
    assert_eq!(format!("{a:?}"), "SpeakerEmbedding(256 values)");
    // Wrong length, non-unit norm, non-finite: refused.
    assert!(serde_json::from_str::<SpeakerEmbedding>("[1.0, 0.0]").is_err());
    let mut v = a.values().to_vec();
    v[0] += 0.5;
    assert!(matches!(
        SpeakerEmbedding::try_from(v.clone()),
        Err(SpeakerError::InvalidEmbedding(_))
    ));
    v[0] = f32::INFINITY;
    assert!(SpeakerEmbedding::try_from(v).is_err());
}

#[test]
fn gather_speech_keeps_segments_and_short_pauses() {
    let audio: Vec<f32> = (0..16_000).map(|i| i as f32 / 16_000.0).collect();
    let seg = |a: f32, b: f32| SpeechSegment {
        start_s: a,
        end_s: b,
    };
    let at = |s: f32| audio[(s * 16_000.0) as usize];
    // Two segments 0.1 s apart (pause kept whole), then one 0.5 s later (pause cut to 0.15 s).
    let segs = [seg(0.1, 0.2), seg(0.3, 0.4), seg(0.9, 1.0)];
    let out = gather_speech(&audio, &segs, Duration::from_millis(150)).unwrap();
    assert_eq!(out.len(), 1_600 + 1_600 + 1_600 + 1_600 + 2_400);
    assert_eq!(out[0], at(0.1));
    assert_eq!(out[4_799], audio[6_399]);
    // After the second segment: the first 75 ms of the pause, then its last 75 ms.
    assert_eq!(out[4_800], audio[6_400]);
    assert_eq!(out[4_800 + 1_200], audio[14_400 - 1_200]);
    assert_eq!(out[out.len() - 1], audio[15_999]);
    // Segments past the end are clamped; empty segments vanish.
    let out = gather_speech(&audio, &[seg(0.95, 2.0), seg(3.0, 3.0)], Duration::ZERO).unwrap();
    assert_eq!(out.len(), 800);
    // Bad segments.
    for (segs, index) in [
        (vec![seg(0.2, 0.1)], 0),
        (vec![seg(0.1, 0.3), seg(0.2, 0.4)], 1),
        (vec![seg(f32::NAN, 0.1)], 0),
    ] {
        assert_eq!(
            gather_speech(&audio, &segs, Duration::ZERO),
            Err(SpeakerError::InvalidSegment { index })
        );
    }
}

#[test]
fn encoder_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<SpeakerEncoder>();
    check::<SpeakerEmbedding>();
}
