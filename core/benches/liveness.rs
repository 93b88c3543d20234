//! Criterion benchmarks of the liveness hot path: the VAD on one 512-sample chunk, what a
//! [`LivenessSession`] costs per 20 ms of audio and per analysed frame (the analyzer excluded)
//! while it listens to an answer, and the decision at the end with voice templates (MFCC +
//! DTW digit search, then the audio/mouth synchrony), and the per-digit synchrony of a 3-digit
//! answer ([`score_answer`]).
//!
//! The session benchmarks replay a scripted session: the real face of `samples/astronaut.png`
//! at 25 fps (its inner lips opened with the voice), a synthetic voice saying "2 5 8" (0.35 s
//! per digit, 0.8 s apart) and VAD probabilities that follow it; the prompt is spoken for
//! 0.5 s once the face has settled. Only the calls named by a benchmark are timed.

use criterion::{criterion_group, criterion_main, Criterion};
use lifecert_core::audio::mfcc::{Mfcc, MfccConfig};
use lifecert_core::audio::vad::{VadFrame, VoiceActivityDetector, CHUNK_S};
use lifecert_core::liveness::av_sync::{score_answer, AvSyncConfig, MouthSample};
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce};
use lifecert_core::liveness::digit_verify::{
    find_digit_sequence, DigitVerifier, SegmentFeatures, SequenceConfig, TemplateDigitVerifier,
    VerifyConfig, VoiceTemplates,
};
use lifecert_core::liveness::sequencer::{LivenessConfig, LivenessEvent, LivenessSession, Verdict};
use lifecert_core::{Analyzer, Config, FaceObservation, ModelSource};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SR: f64 = 16_000.0;
/// Audio per push: 20 ms.
const PIECE: usize = 320;
const FPS: f64 = 25.0;
/// The digits said, their onsets (s) and length.
const SAID: [u8; 3] = [2, 5, 8];
const FIRST_ONSET_S: f64 = 1.2;
const DIGIT_GAP_S: f64 = 0.8;
const DIGIT_S: f64 = 0.35;
/// Length of the prompt (s).
const PROMPT_S: f64 = 0.5;
/// Length of the scripted recording (s): the answer completes after 1.2 s of silence.
const TOTAL_S: f64 = 5.0;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Loudness 0..1 of the voice at `t` and the digit being said.
fn speaking(t: f64) -> (f32, Option<u8>) {
    for (j, d) in SAID.iter().enumerate() {
        let x = (t - FIRST_ONSET_S - DIGIT_GAP_S * j as f64) / DIGIT_S;
        if (0.0..=1.0).contains(&x) {
            return ((std::f64::consts::PI * x).sin() as f32, Some(*d));
        }
    }
    (0.0, None)
}

/// A synthetic voice: harmonics of 120 Hz shaped by two formants that depend on the digit.
fn voice(digit: u8, t: f64) -> f32 {
    let tau = 2.0 * std::f64::consts::PI;
    let (f1, f2) = (
        300.0 + 55.0 * f64::from(digit),
        2200.0 - 140.0 * f64::from(digit),
    );
    let peak = |f: f64, c: f64| (-((f - c) / 120.0).powi(2)).exp();
    let x: f64 = (1..=30)
        .map(|h| {
            let f = 120.0 * f64::from(h);
            (peak(f, f1) + 0.7 * peak(f, f2) + 0.02) * (tau * f * t).sin()
        })
        .sum();
    (0.5 * x) as f32
}

/// Faint room tone, so that silence is not digital zero.
fn room(t: f64) -> f32 {
    0.002 * (2.0 * std::f64::consts::PI * 220.0 * t).sin() as f32
}

/// Voice templates of the synthetic voice: three takes of every digit, each from a recording
/// of three digits with session CMN, as an enrollment would make them.
fn templates(mfcc: &Mfcc) -> TemplateDigitVerifier {
    let mut templates = VoiceTemplates::new(mfcc.dims());
    for r in 0..10u8 {
        let said = [r, (r + 3) % 10, (r + 6) % 10];
        let stretch = 0.99 + 0.002 * f64::from(r);
        let audio: Vec<f32> = (0..(2.8 * SR) as usize)
            .map(|i| {
                let t = i as f64 / SR;
                let j = ((t - 0.2) / 0.8).floor().clamp(0.0, 2.0) as usize;
                let x = (t - 0.2 - 0.8 * j as f64) / DIGIT_S;
                let a = if (0.0..=1.0).contains(&x) {
                    0.3 * (std::f64::consts::PI * x).sin() as f32
                } else {
                    0.0
                };
                room(t) + a * voice(said[j], t * stretch)
            })
            .collect();
        let spans: Vec<(f32, f32)> = (0..3)
            .map(|j| (0.17 + 0.8 * j as f32, 0.58 + 0.8 * j as f32))
            .collect();
        for (d, f) in said
            .iter()
            .zip(mfcc.compute_segments(&audio, &spans).unwrap())
        {
            templates.add_take(*d, &f).unwrap();
        }
    }
    TemplateDigitVerifier::new(&templates, VerifyConfig::default()).unwrap()
}

/// The scripted inputs.
struct Script {
    audio: Vec<f32>,
    vad: Vec<VadFrame>,
    /// The face with closed and with opened lips.
    closed: FaceObservation,
    open: FaceObservation,
}

impl Script {
    fn new(face: FaceObservation) -> Self {
        let n = (TOTAL_S * SR) as usize;
        let audio: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / SR;
                let (level, digit) = speaking(t);
                room(t) + digit.map_or(0.0, |d| 0.3 * level * voice(d, t))
            })
            .collect();
        let chunks = (TOTAL_S / CHUNK_S) as usize;
        let vad = (0..chunks)
            .map(|i| {
                let start_s = i as f64 * CHUNK_S;
                let (level, _) = speaking(start_s + CHUNK_S / 2.0);
                VadFrame {
                    index: i,
                    start_s,
                    end_s: start_s + CHUNK_S,
                    samples: 512,
                    probability: if level > 0.2 { 0.95 } else { 0.03 },
                }
            })
            .collect();
        // Inner lips 13 (upper) and 14 (lower) apart by 0.15 eye distances.
        let mut open = face.clone();
        let eye = {
            let (a, b) = (face.landmarks.points[33], face.landmarks.points[263]);
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
        };
        open.landmarks.points[14][1] = open.landmarks.points[13][1] + 0.15 * eye;
        Self {
            audio,
            vad,
            closed: face,
            open,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Input {
    PromptFinished,
    Audio,
    Frame,
}

/// Replays the script into a session like a shell: frames at 25 fps, 20 ms of audio with the
/// VAD chunks completed by it, the prompt played when asked for.
struct Player<'a> {
    script: &'a Script,
    session: LivenessSession,
    frame: usize,
    piece: usize,
    chunk: usize,
    finish_at: Option<f64>,
    answering: bool,
    done: bool,
    verdict: Option<Verdict>,
}

impl<'a> Player<'a> {
    fn new(script: &'a Script, session: LivenessSession) -> Self {
        Self {
            script,
            session,
            frame: 0,
            piece: 0,
            chunk: 0,
            finish_at: None,
            answering: false,
            done: false,
            verdict: None,
        }
    }

    /// The next input and its time, or `None` at the end of the script.
    fn next(&self) -> Option<(Input, f64)> {
        let pieces = self.script.audio.len() / PIECE;
        let tf = (self.frame as f64 / FPS < TOTAL_S).then(|| self.frame as f64 / FPS);
        let ta = (self.piece < pieces).then(|| ((self.piece + 1) * PIECE) as f64 / SR);
        [
            (Input::PromptFinished, self.finish_at),
            (Input::Audio, ta),
            (Input::Frame, tf),
        ]
        .into_iter()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Applies `input` at `t`; only the session call(s) of the input itself are inside.
    fn apply(&mut self, input: Input, t: f64) -> Vec<LivenessEvent> {
        match input {
            Input::PromptFinished => {
                self.finish_at = None;
                self.session.prompt_finished(secs(t))
            }
            Input::Audio => {
                let range = self.piece * PIECE..(self.piece + 1) * PIECE;
                let start = secs(range.start as f64 / SR);
                let mut out = self.session.push_audio(&self.script.audio[range], start);
                let first = self.chunk;
                while self
                    .script
                    .vad
                    .get(self.chunk)
                    .is_some_and(|v| v.end_s <= t + 1e-9)
                {
                    self.chunk += 1;
                }
                out.extend(
                    self.session
                        .push_vad_frames(&self.script.vad[first..self.chunk], Duration::ZERO),
                );
                self.piece += 1;
                out
            }
            Input::Frame => {
                let face = if speaking(t + 0.04).0 > 0.3 {
                    &self.script.open
                } else {
                    &self.script.closed
                };
                self.frame += 1;
                self.session.push_faces(std::slice::from_ref(face), secs(t))
            }
        }
    }

    /// Acts on the session's events (outside any timing).
    fn absorb(&mut self, input: Input, out: Vec<LivenessEvent>, t: f64) {
        if input == Input::PromptFinished {
            self.answering = true;
        }
        for e in out {
            match e {
                LivenessEvent::SpeakPrompt { .. } => {
                    let more = self.session.prompt_started(secs(t));
                    assert!(more.is_empty());
                    self.finish_at = Some(t + PROMPT_S);
                }
                LivenessEvent::Done(v) => {
                    self.verdict = Some(*v);
                    self.done = true;
                }
                LivenessEvent::Restart { .. } => self.done = true,
                _ => {}
            }
        }
    }

    /// Plays every input before `until` (s).
    fn play_until(&mut self, until: f64) {
        while let Some((input, t)) = self.next().filter(|(_, t)| *t < until) {
            let out = self.apply(input, t);
            self.absorb(input, out, t);
            assert!(!self.done, "decided at {t:.2} s");
        }
    }
}

fn digit_session(verifier: Option<Arc<dyn DigitVerifier>>) -> LivenessSession {
    let s = LivenessSession::new_digits(
        DigitChallenge {
            nonce: Nonce([0; 16]),
            digits: SAID.to_vec(),
        },
        LivenessConfig {
            max_retries: 0,
            ..LivenessConfig::default()
        },
    )
    .unwrap();
    match verifier {
        Some(v) => s.with_digit_verifier(v, MfccConfig::default()).unwrap(),
        None => s,
    }
}

/// Mean time of the `measured` inputs while the session listens to the answer (the input
/// that decides excluded), over as many sessions as `iters` needs.
fn answer_phase(script: &Script, measured: Input, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut n = 0u64;
    while n < iters {
        let mut p = Player::new(script, digit_session(None));
        while let Some((input, t)) = p.next() {
            let timed = input == measured && p.answering;
            let start = Instant::now();
            let out = black_box(p.apply(input, t));
            let dt = start.elapsed();
            let decided = out.iter().any(|e| matches!(e, LivenessEvent::Done(_)));
            p.absorb(input, out, t);
            if timed && !decided {
                total += dt;
                n += 1;
                if n == iters {
                    break;
                }
            }
            if p.done {
                break;
            }
        }
        assert!(p.answering, "the script never reached the answer");
    }
    total
}

fn benches(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let photo =
        lifecert_core::image::decode::load_image(&root.join("samples/astronaut.png")).unwrap();
    let faces = Analyzer::new(Config::default())
        .unwrap()
        .analyze_image(&photo)
        .unwrap();
    assert_eq!(faces.len(), 1);
    let script = Script::new(faces[0].clone());

    // The VAD on one chunk (a stream in its steady state).
    let vad = VoiceActivityDetector::with_models(&ModelSource::Embedded).unwrap();
    let chunk: Vec<f32> = script.audio[(1.3 * SR) as usize..][..512].to_vec();
    c.bench_function("vad_push_512_samples", |b| {
        let mut stream = vad.stream();
        b.iter(|| black_box(stream.push(black_box(&chunk)).unwrap()))
    });

    // The script passes without templates (count and timing, lips with voice), decided by
    // the silence after the answer.
    let mut check = Player::new(&script, digit_session(None));
    while let Some((input, t)) = check.next().filter(|_| !check.done) {
        let out = check.apply(input, t);
        check.absorb(input, out, t);
    }
    let verdict = check.verdict.expect("decided within the script");
    assert!(verdict.passed, "{verdict:#?}");
    c.bench_function("liveness_push_audio_20ms_and_vad_while_answering", |b| {
        b.iter_custom(|iters| answer_phase(&script, Input::Audio, iters))
    });
    c.bench_function("liveness_push_faces_one_face_while_answering", |b| {
        b.iter_custom(|iters| answer_phase(&script, Input::Frame, iters))
    });

    // The decision with voice templates: MFCC of the recording, DTW of every segment against
    // 3 takes of each digit, the in-order search, then the synchrony.
    let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
    let verifier: Arc<dyn DigitVerifier> = Arc::new(templates(&mfcc));
    let last_end = FIRST_ONSET_S + DIGIT_GAP_S * (SAID.len() - 1) as f64 + DIGIT_S;
    let decide_at = last_end + 0.5;
    let decide = || {
        let mut p = Player::new(&script, digit_session(Some(verifier.clone())));
        p.play_until(decide_at);
        let start = Instant::now();
        let out = black_box(p.session.end_of_input(secs(decide_at)));
        (start.elapsed(), out)
    };
    let (_, out) = decide();
    let verdict = out
        .iter()
        .find_map(|e| match e {
            LivenessEvent::Done(v) => Some(v),
            _ => None,
        })
        .expect("a verdict");
    assert!(verdict.passed, "{verdict:#?}");
    c.bench_function("liveness_decide_3_digits_with_templates", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| decide().0).sum())
    });

    // The digit search alone on the segments of that recording (features precomputed once
    // per iteration from the whole recording, as the session does).
    let spans: Vec<(f32, f32)> = (0..SAID.len())
        .map(|j| {
            let a = FIRST_ONSET_S + DIGIT_GAP_S * j as f64;
            ((a - 0.03) as f32, (a + DIGIT_S + 0.03) as f32)
        })
        .collect();
    let recording = &script.audio[..(decide_at * SR) as usize];
    c.bench_function("mfcc_and_dtw_find_3_digits", |b| {
        b.iter(|| {
            let features = mfcc.compute_segments(black_box(recording), &spans).unwrap();
            let segments: Vec<SegmentFeatures> = spans
                .iter()
                .zip(features)
                .map(|(&(start_s, end_s), features)| SegmentFeatures {
                    start_s,
                    end_s,
                    features,
                })
                .collect();
            let m = find_digit_sequence(
                &segments,
                &SAID,
                verifier.as_ref(),
                &SequenceConfig::default(),
            )
            .unwrap();
            assert!(m.passed);
            black_box(m)
        })
    });

    // Audio/mouth synchrony of a 3-digit answer, digit by digit (band dB envelope, per-digit
    // and pooled lags, mouth at rest): what the decision adds once the digits are found.
    let spans: Vec<(f64, f64)> = (0..SAID.len())
        .map(|j| {
            let s = FIRST_ONSET_S + DIGIT_GAP_S * j as f64;
            (s, s + DIGIT_S)
        })
        .collect();
    let mouth: Vec<MouthSample> = (0..(TOTAL_S * FPS) as usize)
        .map(|k| {
            let t = k as f64 / FPS;
            MouthSample {
                t_s: t,
                aperture: 0.02 + 0.2 * speaking(t + 0.04).0,
            }
        })
        .collect();
    let sync_cfg = AvSyncConfig::default();
    c.bench_function("av_sync_score_answer_3_digits", |b| {
        b.iter(|| {
            let s = score_answer(
                black_box(&mouth),
                black_box(&script.audio),
                0.0,
                SR as u32,
                &spans,
                &sync_cfg,
            )
            .unwrap();
            assert_eq!(sync_cfg.judge(&s), Ok(()));
            black_box(s)
        })
    });
}

criterion_group! {
    name = liveness;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(liveness);
