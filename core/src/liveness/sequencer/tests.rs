use super::*;
use crate::face::observation::{Detection, HeadPose, Landmarks, LANDMARK_COUNT};
use std::sync::atomic::{AtomicU64, Ordering};

/// Deterministic random bytes for retries (xorshift; test use only).
struct TestRandom(AtomicU64);
impl RandomSource for TestRandom {
    fn fill(
        &self,
        dest: &mut [u8],
    ) -> std::result::Result<(), crate::liveness::challenge::ChallengeError> {
        for b in dest {
            let mut x = self.0.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0.store(x, Ordering::Relaxed);
            *b = (x >> 24) as u8;
        }
        Ok(())
    }
}

/// What the simulated person does at one instant.
#[derive(Clone, Copy)]
struct Person {
    face: bool,
    /// Horizontal offset of the face box (px).
    dx: f32,
    /// Speech loudness 0..1.
    speech: f32,
    /// Mouth aperture.
    mouth: f32,
    yaw: f32,
    pitch: f32,
    /// Eye aspect ratio.
    ear: f32,
    /// The digit being said (its synthetic voice), if any.
    voice: Option<u8>,
}

impl Default for Person {
    fn default() -> Self {
        Self {
            face: true,
            dx: 0.0,
            speech: 0.0,
            mouth: 0.02,
            yaw: 0.0,
            pitch: 0.0,
            ear: 0.3,
            voice: None,
        }
    }
}

/// What the person knows: when the last prompt started and finished, and which it was.
#[derive(Clone, Default)]
struct Heard {
    started: Option<f64>,
    finished: Option<f64>,
    message: Option<String>,
}

/// A synthetic FaceMesh face: eyes with the given EAR, inner lips apart by `mouth` × the
/// eye-corner distance (100 px), box 200 px.
fn face(p: &Person) -> FaceObservation {
    let mut points = vec![[0.0f32; 3]; LANDMARK_COUNT];
    let x0 = 100.0 + p.dx;
    // Eyes 30 px wide; the outer corners (33, 263) 100 px apart.
    let half = 15.0 * p.ear;
    let eyes = [
        (
            33usize,
            133usize,
            [(160usize, 144usize), (159, 145), (158, 153)],
            x0,
            1.0,
        ),
        (
            263,
            362,
            [(387, 373), (386, 374), (385, 380)],
            x0 + 100.0,
            -1.0,
        ),
    ];
    for (outer, inner, lids, outer_x, dir) in eyes {
        points[outer] = [outer_x, 100.0, 0.0];
        points[inner] = [outer_x + dir * 30.0, 100.0, 0.0];
        for (k, (u, l)) in lids.iter().enumerate() {
            let x = outer_x + dir * 7.5 * (k + 1) as f32;
            points[*u] = [x, 100.0 - half, 0.0];
            points[*l] = [x, 100.0 + half, 0.0];
        }
    }
    points[13] = [x0 + 50.0, 200.0, 0.0];
    points[14] = [x0 + 50.0, 200.0 + 100.0 * p.mouth, 0.0];
    FaceObservation {
        detection: Detection {
            score: 0.9,
            bbox: Rect::new(x0 - 50.0, 50.0, 200.0, 200.0),
            keypoints: [Point::new(x0, 100.0); 6],
        },
        landmarks: Landmarks {
            points,
            presence: 1.0,
        },
        pose: HeadPose {
            yaw: p.yaw,
            pitch: p.pitch,
            roll: 0.0,
        },
    }
}

/// A smooth burst 0..1..0 over `start..start+len` (s).
fn bump(t: f64, start: f64, len: f64) -> f32 {
    let x = (t - start) / len;
    if (0.0..=1.0).contains(&x) {
        (std::f64::consts::PI * x).sin() as f32
    } else {
        0.0
    }
}

/// Reads `n` digits starting `onset` s after the prompt finished (0.35 s each, 0.45 s
/// apart), the mouth moving with the voice.
fn reader(n: usize, onset: f64) -> impl Fn(f64, &Heard) -> Person {
    move |t, h| {
        let Some(end) = h.finished else {
            return Person::default();
        };
        let level = |t: f64| {
            (0..n)
                .map(|j| bump(t, end + onset + 0.8 * j as f64, 0.35))
                .fold(0.0, f32::max)
        };
        Person {
            speech: level(t),
            // The mouth opens a little before the sound.
            mouth: 0.02 + 0.15 * level(t + 0.04),
            ..Person::default()
        }
    }
}

/// At time `t`, a person reading three digits from `start` s (0.35 s each, 0.8 s apart),
/// the mouth moving with the voice.
fn reading_from(t: f64, start: f64) -> Person {
    let level = (0..3)
        .map(|j| bump(t, start + 0.8 * j as f64, 0.35))
        .fold(0.0, f32::max);
    Person {
        speech: level,
        mouth: 0.02 + 0.15 * level,
        ..Person::default()
    }
}

struct Run {
    events: Vec<(f64, LivenessEvent)>,
}

impl Run {
    fn verdict(&self) -> &Verdict {
        self.events
            .iter()
            .find_map(|(_, e)| match e {
                LivenessEvent::Done(v) => Some(v.as_ref()),
                _ => None,
            })
            .expect("a verdict")
    }

    fn done_at(&self) -> f64 {
        self.events
            .iter()
            .find(|(_, e)| matches!(e, LivenessEvent::Done(_)))
            .map(|(t, _)| *t)
            .expect("a verdict")
    }

    fn restarts(&self) -> Vec<(f64, FailReason)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                LivenessEvent::Restart { reason, .. } => Some((*t, *reason)),
                _ => None,
            })
            .collect()
    }
}

/// A synthetic voice: harmonics of 120 Hz shaped by two formants that depend on the digit
/// (a neutral 220 Hz tone without one).
fn voice(digit: Option<u8>, t: f64) -> f32 {
    let tau = 2.0 * std::f64::consts::PI;
    let Some(d) = digit else {
        return (tau * 220.0 * t).sin() as f32;
    };
    let (f1, f2) = (300.0 + 55.0 * f64::from(d), 2200.0 - 140.0 * f64::from(d));
    let peak = |f: f64, c: f64| (-((f - c) / 120.0).powi(2)).exp();
    let mut x = 0.0;
    for h in 1..=30 {
        let f = 120.0 * h as f64;
        x += (peak(f, f1) + 0.7 * peak(f, f2) + 0.02) * (tau * f * t).sin();
    }
    (0.5 * x) as f32
}

/// Reads `said` (0.35 s per digit, 0.8 s apart) `onset` s after the prompt ended, with the
/// digits' synthetic voices.
fn reader_saying(said: Vec<u8>, onset: f64) -> impl Fn(f64, &Heard) -> Person {
    move |t, h| {
        let mut p = reader(said.len(), onset)(t, h);
        if let Some(end) = h.finished {
            let j = ((t - end - onset) / 0.8).floor();
            if j >= 0.0 && (j as usize) < said.len() {
                p.voice = Some(said[j as usize]);
            }
        }
        p
    }
}

/// Voice templates of the synthetic voices, enrolled like a session: ten recordings of
/// three digits each (`r, r+3, r+6`), features with the CMN over the three, so every digit
/// has three takes.
fn synthetic_templates() -> crate::liveness::digit_verify::TemplateDigitVerifier {
    use crate::liveness::digit_verify::{TemplateDigitVerifier, VerifyConfig, VoiceTemplates};
    let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
    let mut templates = VoiceTemplates::new(mfcc.dims());
    for r in 0..10u8 {
        let said = [r, (r + 3) % 10, (r + 6) % 10];
        let stretch = 0.99 + 0.002 * f64::from(r);
        let audio: Vec<f32> = (0..(2.8 * SR) as usize)
            .map(|i| {
                let t = i as f64 / SR;
                let j = ((t - 0.2) / 0.8).floor().clamp(0.0, 2.0) as usize;
                let a = 0.3 * bump(t, 0.2 + 0.8 * j as f64, 0.35);
                0.002 * voice(None, t) + a * voice(Some(said[j]), t * stretch)
            })
            .collect();
        let spans: Vec<(f32, f32)> = (0..3)
            .map(|j| (0.2 + 0.8 * j as f32 - 0.03, 0.55 + 0.8 * j as f32 + 0.03))
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

#[test]
fn voice_templates_verify_each_digit() {
    let verifier: Arc<dyn DigitVerifier> = Arc::new(synthetic_templates());
    let with_templates = |d: &[u8]| {
        session(d, one_attempt())
            .with_digit_verifier(verifier.clone(), MfccConfig::default())
            .unwrap()
    };
    let run = simulate(
        with_templates(&[2, 5, 8]),
        &frames(30.0, 15.0),
        2.4,
        &reader_saying(vec![2, 5, 8], 0.5),
    );
    let v = run.verdict();
    assert!(v.passed, "{v:#?}");
    assert_eq!(v.evidence.digit_check, Some(DigitCheck::VoiceTemplates));
    assert!(
        v.evidence
            .digits
            .iter()
            .all(|d| d.accepted == Some(true) && d.ratio.is_some_and(|r| r < 1.0)),
        "{:?}",
        v.evidence.digits
    );
    let json = serde_json::to_string(&v.evidence).unwrap();
    assert!(json.contains("\"digit_check\":\"voice_templates\""));
    // Three digits, but not the ones asked for.
    let run = simulate(
        with_templates(&[2, 5, 8]),
        &frames(30.0, 15.0),
        2.4,
        &reader_saying(vec![2, 5, 9], 0.5),
    );
    let v = run.verdict();
    assert_eq!(
        v.reason,
        Some(FailReason::DigitMismatch),
        "{:?}",
        v.evidence.digits
    );
    assert_eq!(
        v.evidence
            .digits
            .iter()
            .map(|d| d.accepted)
            .collect::<Vec<_>>(),
        vec![Some(true), Some(true), Some(false)]
    );
}

const CHUNK: f64 = 0.032;
const SR: f64 = 16_000.0;

/// Drives a session like a shell: frames at `frame_times`, audio and VAD every 32 ms, the
/// prompt spoken 0.1 s after it is requested and lasting `prompt_len` s; the person
/// behaves as `person` says.
fn simulate(
    mut session: LivenessSession,
    frame_times: &[f64],
    prompt_len: f64,
    person: &dyn Fn(f64, &Heard) -> Person,
) -> Run {
    let end = frame_times.last().copied().unwrap_or(0.0);
    let mut heard = Heard::default();
    let mut pending_start: Option<f64> = None;
    let mut events: Vec<(f64, LivenessEvent)> = Vec::new();
    let mut next_frame = 0usize;
    let mut next_chunk = 1usize;
    let step = 0.001;
    let mut t = 0.0;
    let d = |s: f64| Duration::from_secs_f64(s);
    while t <= end && !session.is_done() {
        let mut out = Vec::new();
        if let Some(s) = pending_start {
            if t >= s {
                out.extend(session.prompt_started(d(s)));
                heard.started = Some(s);
                heard.finished = None;
                pending_start = None;
            }
        }
        if let Some(s) = heard.started {
            if heard.finished.is_none() && t >= s + prompt_len {
                out.extend(session.prompt_finished(d(s + prompt_len)));
                heard.finished = Some(s + prompt_len);
            }
        }
        while next_frame < frame_times.len() && frame_times[next_frame] <= t {
            let ft = frame_times[next_frame];
            let p = person(ft, &heard);
            let f = p.face.then(|| face(&p));
            out.extend(session.push_face(f.as_ref(), d(ft)));
            next_frame += 1;
        }
        let chunk_end = next_chunk as f64 * CHUNK;
        if t >= chunk_end {
            let start = chunk_end - CHUNK;
            let n = (CHUNK * SR) as usize;
            let samples: Vec<f32> = (0..n)
                .map(|i| {
                    let ts = start + i as f64 / SR;
                    let p = person(ts, &heard);
                    0.002 * voice(None, ts) + 0.3 * p.speech * voice(p.voice, ts)
                })
                .collect();
            out.extend(session.push_audio(&samples, d(start)));
            let level = person(start + CHUNK / 2.0, &heard).speech;
            let prob = if level > 0.2 { 0.95 } else { 0.02 };
            out.extend(session.push_voice_activity(prob, d(start), d(chunk_end)));
            next_chunk += 1;
        }
        for e in out {
            match &e {
                LivenessEvent::SpeakPrompt { message_id, .. } => {
                    // Not heard until the prompt plays.
                    pending_start = Some(t + 0.1);
                    heard.message = Some(message_id.clone());
                    heard.started = None;
                    heard.finished = None;
                }
                LivenessEvent::Restart { .. } => {
                    heard = Heard::default();
                    pending_start = None;
                }
                _ => {}
            }
            events.push((t, e));
        }
        t += step;
    }
    Run { events }
}

fn frames(fps: f64, secs: f64) -> Vec<f64> {
    (0..(secs * fps) as usize).map(|i| i as f64 / fps).collect()
}

/// Frame times with irregular intervals (20–75 ms).
fn irregular_frames(secs: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let (mut t, mut x) = (0.0, 12345u64);
    while t < secs {
        out.push(t);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t += 0.020 + (x % 56) as f64 / 1000.0;
    }
    out
}

fn digits(d: &[u8]) -> DigitChallenge {
    DigitChallenge {
        nonce: Nonce([7; 16]),
        digits: d.to_vec(),
    }
}

fn session(d: &[u8], config: LivenessConfig) -> LivenessSession {
    LivenessSession::new_digits(digits(d), config)
        .unwrap()
        .with_random_source(Box::new(TestRandom(AtomicU64::new(99))))
}

#[test]
fn reading_the_digits_after_the_prompt_passes() {
    let run = simulate(
        session(&[2, 5, 8], LivenessConfig::default()),
        &frames(30.0, 15.0),
        2.4,
        &reader(3, 0.5),
    );
    let prompt = run
        .events
        .iter()
        .find_map(|(t, e)| match e {
            LivenessEvent::SpeakPrompt { message_id, params } => {
                Some((*t, message_id.clone(), params.clone()))
            }
            _ => None,
        })
        .unwrap();
    // The prompt comes once the face has been there for 0.5 s.
    assert!((prompt.0 - 0.5).abs() < 0.04, "{prompt:?}");
    assert_eq!(prompt.1, "prompt_read_digits");
    assert_eq!(prompt.2, vec![("digits".to_string(), "2 5 8".to_string())]);
    let v = run.verdict();
    assert!(v.passed, "{v:#?}");
    assert_eq!(v.attempts, 1);
    let ev = &v.evidence;
    assert_eq!(ev.digit_check, Some(DigitCheck::CountOnly));
    assert_eq!(ev.speech_segments.len(), 3, "{ev:#?}");
    let onset = ev.speech_onset_after_prompt_ms.unwrap();
    assert!((400..=600).contains(&onset), "onset {onset}");
    let sync = ev.av_sync.unwrap();
    assert!(sync.correlation > 0.8, "{sync:?}");
    assert!(sync.aperture_spread > 0.1, "{sync:?}");
    assert!(ev
        .digits
        .iter()
        .all(|d| d.start_ms.is_some() && d.accepted.is_none()));
    // Decided after 1.2 s of silence following the last digit (≈ 3.0 + 0.5 + 1.6 + 0.35).
    let last_end = 0.6 + 2.4 + 0.5 + 1.6 + 0.35;
    let at = run.done_at();
    assert!(
        at > last_end + 1.1 && at < last_end + 1.5,
        "decided at {at}"
    );
    // The evidence serialises with its stable names.
    let json = serde_json::to_string(&ev).unwrap();
    assert!(json.contains("\"digit_check\":\"count_only\""), "{json}");
}

fn one_attempt() -> LivenessConfig {
    LivenessConfig {
        max_retries: 0,
        ..LivenessConfig::default()
    }
}

#[test]
fn speech_before_the_prompt_ends_fails_at_once() {
    // Starts reading 1 s after the prompt *started* (the prompt lasts 2.4 s).
    let early = |t: f64, h: &Heard| {
        let Some(s) = h.started else {
            return Person::default();
        };
        reading_from(t, s + 1.0)
    };
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &early,
    );
    let v = run.verdict();
    assert!(!v.passed);
    assert_eq!(v.reason, Some(FailReason::SpokeTooEarly));
    assert_eq!(FailReason::SpokeTooEarly.id(), "spoke_too_early");
    // Decided while the prompt was still playing (it ends at 0.6 + 2.4 = 3.0 s).
    assert!(run.done_at() < 3.0, "{}", run.done_at());
    // Speech that *ends* before the prompt begins (chatter) is ignored.
    let chatter = |t: f64, h: &Heard| {
        let mut p = reader(3, 0.5)(t, h);
        if t < 0.45 {
            p.speech = bump(t, 0.05, 0.35);
        }
        p
    };
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &chatter,
    );
    assert!(run.verdict().passed, "{:#?}", run.verdict());
    // Speech during the prompt but starting just after its end + grace passes.
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &reader(3, 0.25),
    );
    assert!(run.verdict().passed);
}

#[test]
fn losing_the_face_restarts_and_retries_are_bounded() {
    // The face leaves 1 s after every prompt ends.
    let leaves = |t: f64, h: &Heard| Person {
        face: h.finished.is_none_or(|f| t < f + 1.0),
        ..Person::default()
    };
    let config = LivenessConfig {
        max_retries: 2,
        ..LivenessConfig::default()
    };
    let run = simulate(
        session(&[2, 5, 8], config),
        &frames(30.0, 40.0),
        2.4,
        &leaves,
    );
    let restarts = run.restarts();
    assert_eq!(
        restarts.iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![FailReason::FaceLost, FailReason::FaceLost]
    );
    let v = run.verdict();
    assert!(!v.passed);
    assert_eq!(v.reason, Some(FailReason::FaceLost));
    assert_eq!(v.attempts, 3);
    assert_eq!(v.evidence.previous_attempts.len(), 2);
    // Each retry had a fresh challenge.
    let mut nonces: Vec<Nonce> = v
        .evidence
        .previous_attempts
        .iter()
        .map(|a| match &a.challenge {
            ChallengeEvidence::Digits { nonce, .. } => *nonce,
            ChallengeEvidence::Actions { nonce, .. } => *nonce,
        })
        .collect();
    if let ChallengeEvidence::Digits { nonce, digits } = &v.evidence.challenge {
        assert_eq!(digits.len(), 3);
        nonces.push(*nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3);
    // The face is declared lost 1 s after it left (1 s after the first prompt ended).
    let first = restarts[0].0;
    assert!((first - (3.0 + 2.0)).abs() < 0.05, "restart at {first}");
}

#[test]
fn timeouts_follow_the_clock_not_the_frames() {
    // Nobody speaks: the answer window closes 7 s after the prompt, whatever the frames.
    let silent = |_: f64, _: &Heard| Person::default();
    let mut times = Vec::new();
    for f in [
        frames(30.0, 20.0),
        frames(12.0, 20.0),
        irregular_frames(20.0),
    ] {
        let run = simulate(session(&[2, 5, 8], one_attempt()), &f, 2.4, &silent);
        let v = run.verdict();
        assert_eq!(v.reason, Some(FailReason::NoSpeech), "{v:#?}");
        times.push(run.done_at());
    }
    for t in &times {
        // Prompt requested when the face settled (0.5 s + one frame), spoken 0.1 s
        // later for 2.4 s, then 7 s.
        assert!((t - (0.5 + 0.1 + 2.4 + 7.0)).abs() < 0.12, "{times:?}");
    }
    // No face at all: 7 s after the start, at any frame rate.
    let absent = |_: f64, _: &Heard| Person {
        face: false,
        ..Person::default()
    };
    for f in [frames(30.0, 10.0), irregular_frames(10.0)] {
        let run = simulate(session(&[2, 5, 8], one_attempt()), &f, 2.4, &absent);
        assert_eq!(run.verdict().reason, Some(FailReason::NoFace));
        assert!((run.done_at() - 7.0).abs() < 0.08, "{}", run.done_at());
    }
}

#[test]
fn the_answer_must_have_the_right_count_and_moving_lips() {
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &reader(2, 0.5),
    );
    assert_eq!(run.verdict().reason, Some(FailReason::WrongNumberOfDigits));
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &reader(6, 0.5),
    );
    assert_eq!(run.verdict().reason, Some(FailReason::WrongNumberOfDigits));
    // A still face (a photo) with a live voice.
    let photo = |t: f64, h: &Heard| Person {
        mouth: 0.02,
        ..reader(3, 0.5)(t, h)
    };
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &photo,
    );
    let v = run.verdict();
    assert_eq!(v.reason, Some(FailReason::LipsNotMovingWithVoice));
    assert_eq!(v.evidence.av_sync.map(|s| s.correlation), Some(0.0));
    // The digits run together into one 2 s stretch.
    let run_on = |t: f64, h: &Heard| {
        let Some(end) = h.finished else {
            return Person::default();
        };
        let level = bump(t, end + 0.5, 2.0);
        Person {
            speech: level,
            mouth: 0.02 + 0.15 * level,
            ..Person::default()
        }
    };
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &run_on,
    );
    assert_eq!(run.verdict().reason, Some(FailReason::DigitsRunTogether));
}

fn one_at_a_time() -> LivenessConfig {
    LivenessConfig {
        prompt_mode: PromptMode::OneAtATime,
        ..one_attempt()
    }
}

#[test]
fn one_digit_at_a_time_follows_each_prompt() {
    // A live reader repeats each digit 0.5 s after its prompt ends (`reader` speaks after
    // the latest prompt it heard).
    let run = simulate(
        session(&[2, 5, 8], one_at_a_time()),
        &frames(30.0, 20.0),
        1.0,
        &reader(1, 0.5),
    );
    let v = run.verdict();
    assert!(v.passed, "{v:#?}");
    let prompts: Vec<(f64, Vec<(String, String)>)> = run
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            LivenessEvent::SpeakPrompt { message_id, params } => {
                assert_eq!(message_id, crate::text::messages::PROMPT_REPEAT_DIGIT);
                Some((*t, params.clone()))
            }
            _ => None,
        })
        .collect();
    let said: Vec<&str> = prompts.iter().map(|(_, p)| p[0].1.as_str()).collect();
    assert_eq!(said, ["2", "5", "8"]);
    let shown: Vec<Vec<u8>> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            LivenessEvent::ShowDigits { digits } => Some(digits.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(shown, [vec![2], vec![5], vec![8]]);
    assert_eq!(v.evidence.prompt_mode, Some(PromptMode::OneAtATime));
    for d in &v.evidence.digits {
        let onset = d
            .onset_after_prompt_ms
            .expect("each digit timed from its prompt");
        assert!((400..=700).contains(&onset), "{d:?}");
    }
    // The pauses between an answer and the next prompt are drawn, not fixed: the gaps
    // between prompts differ.
    let gaps: Vec<f64> = prompts.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!((gaps[0] - gaps[1]).abs() > 0.01, "{gaps:?}");
}

#[test]
fn a_recording_cannot_follow_prompts_one_at_a_time() {
    // The three digits read at fixed times after the first prompt (a pre-recorded video
    // of someone reading "2 … 5 … 8"): the second digit comes before or during its
    // prompt.
    let first_end = std::cell::Cell::new(None::<f64>);
    let recording = |t: f64, h: &Heard| {
        if first_end.get().is_none() {
            first_end.set(h.finished);
        }
        let Some(end) = first_end.get() else {
            return Person::default();
        };
        reading_from(t, end + 0.5)
    };
    let run = simulate(
        session(&[2, 5, 8], one_at_a_time()),
        &frames(30.0, 20.0),
        1.0,
        &recording,
    );
    let v = run.verdict();
    assert!(!v.passed);
    // Depending on the drawn pause, the next digit comes while its prompt plays or
    // before it (then the prompt gets no answer).
    assert!(
        matches!(
            v.reason,
            Some(FailReason::SpokeTooEarly | FailReason::NoSpeech)
        ),
        "{v:#?}"
    );
    // Talking on through the pause (a looped talking video): refused as well.
    let talker = |t: f64, h: &Heard| {
        let Some(end) = h.finished else {
            return Person::default();
        };
        let level = if t > end + 0.4 { 1.0 } else { 0.0 };
        Person {
            speech: level,
            mouth: 0.02 + 0.1 * (t * 7.0).sin().abs() as f32 * level,
            ..Person::default()
        }
    };
    let run = simulate(
        session(&[2, 5, 8], one_at_a_time()),
        &frames(30.0, 20.0),
        1.0,
        &talker,
    );
    assert_eq!(run.verdict().reason, Some(FailReason::DigitsRunTogether));
    // Nobody answers the second digit.
    let once = std::cell::Cell::new(0u32);
    let last = std::cell::Cell::new(None::<f64>);
    let one_answer = |t: f64, h: &Heard| {
        if h.finished != last.get() && h.finished.is_some() {
            last.set(h.finished);
            once.set(once.get() + 1);
        }
        if once.get() >= 2 {
            return Person::default();
        }
        reader(1, 0.5)(t, h)
    };
    let run = simulate(
        session(&[2, 5, 8], one_at_a_time()),
        &frames(30.0, 20.0),
        1.0,
        &one_answer,
    );
    assert_eq!(
        run.verdict().reason,
        Some(FailReason::NoSpeech),
        "{:#?}",
        run.verdict()
    );
}

#[test]
fn moving_the_face_too_fast_restarts() {
    let swipe = |t: f64, h: &Heard| Person {
        dx: h.finished.map_or(0.0, |f| {
            if t > f + 0.2 {
                ((t - f - 0.2) * 600.0) as f32
            } else {
                0.0
            }
        }),
        ..Person::default()
    };
    let run = simulate(
        session(&[2, 5, 8], one_attempt()),
        &frames(30.0, 15.0),
        2.4,
        &swipe,
    );
    assert_eq!(run.verdict().reason, Some(FailReason::FaceMoved));
}

/// Performs `plan` (action, seconds after its prompt was requested) as the prompts come.
fn actor(plan: Vec<(Action, f64)>) -> impl Fn(f64, &Heard) -> Person {
    move |t, h| {
        let mut p = Person::default();
        let Some(started) = h.started else {
            return p;
        };
        let Some(msg) = &h.message else {
            return p;
        };
        for (action, delay) in &plan {
            if action_message_id(*action) != msg {
                continue;
            }
            let s = started + delay;
            match action {
                Action::Blink => p.ear = 0.3 - 0.15 * bump(t, s, 0.25),
                Action::OpenMouth => p.mouth = 0.02 + 0.4 * bump(t, s, 1.0),
                Action::TurnLeft => p.yaw = 25.0 * bump(t, s, 1.5),
                Action::TurnRight => p.yaw = -25.0 * bump(t, s, 1.5),
                Action::Nod => p.pitch = -15.0 * bump(t, s, 1.2),
            }
        }
        p
    }
}

fn action_session(actions: &[Action], config: LivenessConfig) -> LivenessSession {
    LivenessSession::new_actions(
        ActionChallenge {
            nonce: Nonce([3; 16]),
            actions: actions.to_vec(),
        },
        config,
    )
    .unwrap()
    .with_random_source(Box::new(TestRandom(AtomicU64::new(5))))
}

#[test]
fn actions_in_order_pass() {
    let order = [
        Action::TurnLeft,
        Action::Blink,
        Action::OpenMouth,
        Action::Nod,
        Action::TurnRight,
    ];
    let plan: Vec<(Action, f64)> = order.iter().map(|a| (*a, 1.0)).collect();
    for f in [frames(30.0, 40.0), irregular_frames(40.0)] {
        let run = simulate(
            action_session(&order, one_attempt()),
            &f,
            1.5,
            &actor(plan.clone()),
        );
        let v = run.verdict();
        assert!(v.passed, "{v:#?}");
        let done: Vec<Action> = v.evidence.actions.iter().map(|a| a.action).collect();
        assert_eq!(done, order);
    }
    // Mirrored frames: the same head movement in the image is the other side.
    let run = simulate(
        action_session(&[Action::TurnRight], one_attempt()).mirrored(true),
        &frames(30.0, 15.0),
        1.5,
        &|t, h: &Heard| {
            let mut p = actor(vec![(Action::TurnRight, 1.0)])(t, h);
            p.yaw = -p.yaw;
            p
        },
    );
    assert!(run.verdict().passed, "{:#?}", run.verdict());
}

#[test]
fn actions_out_of_order_or_missing_fail() {
    // Asked to turn left, the person opens the mouth (a later step) first.
    let order = [Action::TurnLeft, Action::OpenMouth];
    let out_of_order = |t: f64, h: &Heard| {
        let mut p = actor(vec![(Action::TurnLeft, 2.5), (Action::OpenMouth, 1.0)])(t, h);
        if h.message.as_deref() == Some(ACTION_TURN_LEFT) {
            p.mouth = 0.02 + 0.4 * bump(t, h.started.unwrap_or(0.0) + 0.5, 1.0);
        }
        p
    };
    let run = simulate(
        action_session(&order, one_attempt()),
        &frames(30.0, 30.0),
        1.5,
        &out_of_order,
    );
    assert_eq!(run.verdict().reason, Some(FailReason::WrongAction));
    // Blinks happen on their own: a blink before the turn does not fail it.
    let blink_first = |t: f64, h: &Heard| {
        let mut p = actor(vec![(Action::TurnLeft, 1.5), (Action::Blink, 1.0)])(t, h);
        if h.message.as_deref() == Some(ACTION_TURN_LEFT) {
            p.ear = 0.3 - 0.15 * bump(t, h.started.unwrap_or(0.0) + 0.3, 0.25);
        }
        p
    };
    let run = simulate(
        action_session(&[Action::TurnLeft, Action::Blink], one_attempt()),
        &frames(30.0, 30.0),
        1.5,
        &blink_first,
    );
    assert!(run.verdict().passed, "{:#?}", run.verdict());
    // The wrong side is not the requested action: nothing is seen in time.
    let run = simulate(
        action_session(&[Action::TurnLeft], one_attempt()),
        &frames(30.0, 30.0),
        1.5,
        &|t, h: &Heard| {
            let mut p = actor(vec![(Action::TurnLeft, 1.0)])(t, h);
            p.yaw = -p.yaw;
            p
        },
    );
    let v = run.verdict();
    assert_eq!(v.reason, Some(FailReason::ActionNotSeen));
    // Timed from the end of the prompt: 0.6 + 1.5 + 7 s.
    assert!((run.done_at() - 9.1).abs() < 0.1, "{}", run.done_at());
    assert_eq!(
        v.evidence.visual_events.len(),
        1,
        "the right turn is in the evidence"
    );
}

#[test]
fn sessions_cross_threads_and_take_vad_frames_as_they_come() {
    fn assert_send<T: Send>() {}
    assert_send::<LivenessSession>();
    // VadStream frames count from the stream start; the session puts them on its clock.
    let mut s = session(&[1, 2, 3], LivenessConfig::default());
    let frames: Vec<VadFrame> = (0..3)
        .map(|i| VadFrame {
            index: i,
            start_s: i as f64 * 0.032,
            end_s: (i + 1) as f64 * 0.032,
            samples: 512,
            probability: 0.9,
        })
        .collect();
    assert!(s
        .push_vad_frames(&frames, Duration::from_secs(2))
        .is_empty());
    assert_eq!(s.vad.len(), 3);
    assert_eq!(s.vad[2].start, Duration::from_millis(2064));
    assert_eq!(s.vad[2].end, Duration::from_millis(2096));
}

#[test]
fn configuration_and_messages() {
    LivenessConfig::default().validate().unwrap();
    let bad = LivenessConfig {
        min_digit_duration: Duration::from_secs(2),
        ..LivenessConfig::default()
    };
    assert!(bad.validate().is_err());
    assert!(LivenessSession::new_digits(digits(&[]), LivenessConfig::default()).is_err());
    let m = crate::text::messages::Messages::builtin();
    for (id, _) in crate::text::ids::LIVENESS_TEXT_IDS {
        for lang in crate::text::messages::Language::ALL {
            assert!(m.get(id, lang).is_some(), "{id} {lang}");
        }
    }
    for a in Action::ALL {
        assert!(m
            .get(action_message_id(a), crate::text::messages::Language::En)
            .is_some());
    }
    let reasons = [
        FailReason::NoFace,
        FailReason::FaceLost,
        FailReason::FaceMoved,
        FailReason::SpokeTooEarly,
        FailReason::NoSpeech,
        FailReason::NoAudio,
        FailReason::WrongNumberOfDigits,
        FailReason::DigitsRunTogether,
        FailReason::LipsNotMovingWithVoice,
        FailReason::DigitMismatch,
        FailReason::Timeout,
        FailReason::ActionNotSeen,
        FailReason::WrongAction,
    ];
    for r in reasons {
        assert!(
            m.get(r.message_id(), crate::text::messages::Language::ZhHant)
                .is_some(),
            "{r:?}"
        );
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.id())
        );
    }
}
