//! A phone shell simulated over recorded footage, for whole-session tests: the camera delivers
//! frames at the footage's rate (analysed once, pushed with `push_analysis`), the microphone
//! 20 ms pieces of 16 kHz audio (`push_audio`), the text-to-speech speaks what the session
//! asks for one utterance after the other and reports its prompts (`prompt_started` /
//! `prompt_finished`, with a duration that grows with the text), a timer `tick`s — and a
//! [`Player`], the person (or the attacker) in front of the phone, reacts to the digits the
//! session shows after the prompt has ended and a reaction time has passed.
//!
//! What the camera and microphone see is a [`Scene`] (looped: a resting face and room tone, a
//! talking video, a photo) with [`Piece`]s over it: frames that replace the scene's while they
//! last and sound that replaces its sound. A notice of the session (a failed attempt, "let's
//! try again") stops what the player is doing, as a person stops talking when told to.
//!
//! Everything happens on one simulated clock from 0; nothing depends on the wall clock, so a
//! run is deterministic given the session's random source.

use super::grid::FrameRef;
use lifecert_core::api::session::{SessionUpdate, Utterance, UtteranceKind};
use lifecert_core::face::analyzer::FrameAnalysis;
use lifecert_core::Session;
use std::collections::VecDeque;
use std::time::Duration;

/// Audio rate (Hz).
pub const SR: usize = 16_000;
/// Microphone chunk: 20 ms.
const CHUNK: usize = SR / 50;
/// The timer ticks every 200 ms.
const TICK_EVERY: usize = 10;

/// Where the pictures come from: the frame a reference names, as the camera delivers it.
pub trait Camera {
    /// The analysed frame `r`.
    fn frame(&self, r: &FrameRef) -> FrameAnalysis;
}

impl Camera for super::framing::FramedFootage {
    fn frame(&self, r: &FrameRef) -> FrameAnalysis {
        super::framing::FramedFootage::frame(self, r)
    }
}

/// What the camera and microphone see when nothing else happens, looped: frame `k` at
/// `k / fps`, and the sound under it (`audio.len()` = frames × samples per frame).
#[derive(Debug, Clone)]
pub struct Scene {
    /// One cycle of frames.
    pub frames: Vec<FrameRef>,
    /// One cycle of sound, as long as the frames.
    pub audio: Vec<f32>,
}

/// Something the person does: `frames` replace the scene's while they last (none: a voice
/// over the scene), `audio` replaces its sound.
#[derive(Debug, Clone, Default)]
pub struct Piece {
    /// Frames from the piece's start (at the footage's rate).
    pub frames: Vec<FrameRef>,
    /// Sound from the piece's start (16 kHz).
    pub audio: Vec<f32>,
}

/// The person in front of the phone (or the attacker's set-up).
pub trait Player {
    /// The phone showed `digits` and its prompt has just ended: what happens after the
    /// reaction time.
    fn answer(&mut self, digits: &[u8]) -> Piece;

    /// How long after the prompt's end the answer starts (s).
    fn reaction_s(&mut self) -> f64;
}

/// How long the shell's text-to-speech takes to say `text` (s): Mandarin at ≈ 4.5 syllables
/// per second (one per CJK character), each digit read as its own word with a short pause,
/// other characters (Latin letters of an English prompt) at ≈ 14 per second.
pub fn tts_seconds(text: &str) -> f64 {
    let mut s = 0.3;
    for c in text.chars() {
        s += if c.is_ascii_digit() {
            0.45
        } else if c.is_whitespace() || c.is_ascii_punctuation() {
            0.0
        } else if c.is_ascii() {
            0.07
        } else if matches!(c, '：' | '，' | '。') {
            0.15
        } else {
            0.22
        };
    }
    s
}

/// One prompt the shell spoke.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompted {
    /// When the text-to-speech began it (s).
    pub start_s: f64,
    /// When it ended (s).
    pub end_s: f64,
    /// What was said.
    pub text: String,
    /// The digits shown with it.
    pub digits: Vec<u8>,
}

/// What a run of the shell saw.
#[derive(Debug, Clone)]
pub struct Run<O> {
    /// The outcome (`None`: the time limit came first).
    pub outcome: Option<O>,
    /// When the outcome came (s from the first frame), or the limit.
    pub duration_s: f64,
    /// The prompts spoken, in order.
    pub prompts: Vec<Prompted>,
    /// Everything else the session asked to say or show (instructions, notices, results).
    pub said: Vec<Utterance>,
    /// When the first prompt began (s), if any.
    pub first_prompt_s: Option<f64>,
}

/// A piece scheduled at a sample index.
struct Scheduled {
    start: usize,
    /// Samples per frame.
    spf: usize,
    piece: Piece,
}

impl Scheduled {
    fn frame(&self, k: usize) -> Option<&FrameRef> {
        (k * self.spf)
            .checked_sub(self.start)
            .and_then(|d| self.piece.frames.get(d / self.spf))
    }
    fn sample(&self, n: usize) -> Option<f32> {
        n.checked_sub(self.start)
            .and_then(|d| self.piece.audio.get(d).copied())
    }
    fn over(&self, n: usize) -> bool {
        let frames_end = self.start + self.piece.frames.len() * self.spf;
        n >= self.start + self.piece.audio.len() && n >= frames_end
    }
}

/// An utterance waiting for the text-to-speech.
struct Queued {
    utterance: Utterance,
    digits: Option<Vec<u8>>,
}

/// Runs `session` until it finishes or `limit_s` of simulated time pass: frames of `scene`
/// (at `fps`) and of the pieces `player` plays, their sound, the prompts spoken and reported.
pub fn run<S: Session>(
    session: &mut S,
    camera: &dyn Camera,
    scene: &Scene,
    fps: f64,
    player: &mut dyn Player,
    limit_s: f64,
) -> Run<S::Outcome> {
    assert!(
        !scene.frames.is_empty() && !scene.audio.is_empty(),
        "empty scene"
    );
    let spf = (SR as f64 / fps).round() as usize;
    assert_eq!(spf * 2 % CHUNK, 0, "frames fall on 20 ms steps");
    let mut queue: VecDeque<Queued> = VecDeque::new();
    // The utterance being spoken: (end sample, queued item).
    let mut speaking: Option<(usize, Queued)> = None;
    let mut pieces: Vec<Scheduled> = Vec::new();
    let mut out = Run {
        outcome: None,
        duration_s: limit_s,
        prompts: Vec::new(),
        said: Vec::new(),
        first_prompt_s: None,
    };
    let secs = |n: usize| Duration::from_secs_f64(n as f64 / SR as f64);
    let limit = (limit_s * SR as f64) as usize;
    let mut step = 0usize;
    let mut pcm = vec![0i16; CHUNK];

    // Takes what an update asks for: utterances into the text-to-speech queue; a notice stops
    // what the player is doing.
    let absorb = |u: SessionUpdate<S::Outcome>,
                  queue: &mut VecDeque<Queued>,
                  pieces: &mut Vec<Scheduled>,
                  out: &mut Run<S::Outcome>| {
        for s in u.speak {
            match s.kind {
                UtteranceKind::Prompt => queue.push_back(Queued {
                    utterance: s,
                    digits: u.show_digits.clone(),
                }),
                UtteranceKind::Notice => {
                    pieces.clear();
                    out.said.push(s.clone());
                    queue.push_back(Queued {
                        utterance: s,
                        digits: None,
                    });
                }
                UtteranceKind::Instruction | UtteranceKind::Hint => {
                    out.said.push(s.clone());
                    queue.push_back(Queued {
                        utterance: s,
                        digits: None,
                    });
                }
                UtteranceKind::Result | UtteranceKind::Sms => out.said.push(s),
            }
        }
    };

    loop {
        let n = step * CHUNK;
        let t = secs(n);
        if n > limit {
            break;
        }
        // The text-to-speech: finish the current utterance, start the next.
        if speaking.as_ref().is_some_and(|(end, _)| *end <= n) {
            let (end, item) = speaking.take().unwrap();
            if item.utterance.kind == UtteranceKind::Prompt {
                let u = session.prompt_finished(secs(end)).unwrap();
                absorb(u, &mut queue, &mut pieces, &mut out);
                let digits = item.digits.clone().unwrap_or_default();
                let reaction = player.reaction_s().max(0.0);
                // Answers start on a frame boundary (frames and sound stay together).
                let start =
                    ((end as f64 + reaction * SR as f64) / spf as f64).ceil() as usize * spf;
                let piece = player.answer(&digits);
                pieces.retain(|p| !p.over(start));
                pieces.push(Scheduled { start, spf, piece });
                if let Some(p) = out.prompts.last_mut() {
                    p.end_s = end as f64 / SR as f64;
                }
            }
        }
        if speaking.is_none() {
            if let Some(item) = queue.pop_front() {
                let dur = (tts_seconds(&item.utterance.text) * SR as f64) as usize;
                if item.utterance.kind == UtteranceKind::Prompt {
                    let u = session.prompt_started(t).unwrap();
                    out.first_prompt_s.get_or_insert(t.as_secs_f64());
                    out.prompts.push(Prompted {
                        start_s: t.as_secs_f64(),
                        end_s: f64::NAN,
                        text: item.utterance.text.clone(),
                        digits: item.digits.clone().unwrap_or_default(),
                    });
                    absorb(u, &mut queue, &mut pieces, &mut out);
                }
                speaking = Some((n + dur.max(1), item));
            }
        }
        if session.outcome().is_some() {
            break;
        }
        // The microphone: the 20 ms that just ended.
        if n >= CHUNK {
            let n0 = n - CHUNK;
            for (i, s) in pcm.iter_mut().enumerate() {
                let m = n0 + i;
                let x = pieces
                    .iter()
                    .rev()
                    .find_map(|p| p.sample(m))
                    .unwrap_or(scene.audio[m % scene.audio.len()]);
                *s = (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            }
            let u = session.push_audio(&pcm, secs(n0)).unwrap();
            absorb(u, &mut queue, &mut pieces, &mut out);
            if session.outcome().is_some() {
                break;
            }
        }
        // The camera.
        if n.is_multiple_of(spf) {
            let k = n / spf;
            let r = pieces
                .iter()
                .rev()
                .find_map(|p| p.frame(k))
                .unwrap_or(&scene.frames[k % scene.frames.len()]);
            let u = session.push_analysis(camera.frame(r), t).unwrap();
            absorb(u, &mut queue, &mut pieces, &mut out);
            if session.outcome().is_some() {
                break;
            }
        }
        if step % TICK_EVERY == TICK_EVERY - 1 {
            let u = session.tick(t).unwrap();
            absorb(u, &mut queue, &mut pieces, &mut out);
        }
        pieces.retain(|p| !p.over(n));
        step += 1;
    }
    out.outcome = session.outcome().cloned();
    if out.outcome.is_some() {
        out.duration_s = (step * CHUNK) as f64 / SR as f64;
    }
    out
}
