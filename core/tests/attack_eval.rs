//! The attack evaluation anyone can rerun (issue 11, item 7): whole certification sessions,
//! driven as a phone shell drives them, against the fraud the product exists to stop — and a
//! genuine retiree who must still pass.
//!
//! **Subjects.** Every speaker of the GRID clips whose digit words (aligned by `.align` files,
//! or located by dynamic time warping against the aligned clips) cover 0–9 (on the shared
//! data: speaker A). The subject enrolls with an [`EnrollmentSession`] of the production
//! configuration: his resting face from some of his clips, then "read 0 1 2 … 9" answered
//! with his own digit words and pauses (one take per digit: the aligned one). Clips, speakers,
//! transcripts and digits are discovered ([`common::discovery`]); a sealed data set laid out
//! like `../shared/data` runs through the same code.
//!
//! **The shell** ([`common::shell`]): frames at 25 fps pushed pre-analysed (each source
//! frame analysed once per test binary, [`common::framing`]: the clips are framed on a
//! portrait canvas so the face sits in the guide oval at ≈ 50 cm and the production
//! positioning gate passes as it would for a person holding the phone well), audio in 20 ms
//! pieces, prompts spoken by a text-to-speech whose duration grows with the text, a timer.
//! The person (or the attacker's set-up) is a [`Player`] that reacts to the digits shown,
//! after the prompt has ended and a reaction time of 0.5–0.9 s; before, between and after
//! answers the camera sees a resting face (or the attack's photo or video loop).
//!
//! **Rows** (see [`rows`]; the doc `docs/ATTACK_EVAL.md` says what each is built from):
//! genuine (the subject's own digit words, video and audio spliced together, timed after the
//! prompt); (a) dubbed: the subject's spliced video with another person reading the same
//! digits at his word onsets (FSDD speakers, other GRID speakers); (b) a talking video looped
//! with another voice timed to the prompts; (c) the subject's own recording of other words
//! timed to the prompts, with and without digit templates; (d) a still photo with his own
//! digit audio or another voice; (e) espeak-ng voices dubbed over his spliced video; (f)
//! another live face lip-syncing to the subject's recorded digit words.
//!
//! **Configurations.** Production (`Config::default()`: positioning gate, liveness retries
//! inside a session, three certification sessions per attack — an attack that passes in any
//! of them is accepted — each with a fresh challenge and nonce drawn by the session and
//! `previous_failures` counting up), in both prompt modes; and the replay configuration
//! (`Config::for_recordings()`, challenges supplied). Challenges come from a seeded source so
//! every run draws the same ones (the drawing code is the production one); attestations are
//! verified with the default policy plus exactly what the configuration needs (a seeded or
//! supplied challenge, the replay or custom profile).
//!
//! **Asserted** (issue 11, in every configuration run): dubbed attacks with the right digits
//! ((a) and (e)) accepted at most 1 in 20; the subject's own recording of other words (c)
//! accepted 0 times, or — without digit templates — certified only with `count_only`
//! evidence that `verify` refuses; genuine sessions refused at most 5 %; another face (f)
//! never certified, the face match refusing it whenever the liveness step let it through;
//! every attestation says honestly what was checked.
//!
//! `LIFECERT_ATTACK_EVAL_FULL=1` runs more trials per row and the one-at-a-time prompt mode;
//! `LIFECERT_WRITE_DOCS=1` (with the full run) writes `docs/ATTACK_EVAL.md`.

mod common;

use common::framing::FramedFootage;
use common::grid::{self, AnalysedClip, FrameRef, SpliceConfig, Spliced, VoiceDigit, Word};
use common::shell::{self, Piece, Player, Scene};
use common::subject::{
    self, rest_scene, room_tone, word_audio, Enrolled, Subject, Take, ID, NAME, NOW,
};
use common::{eval_data, media, par_map, repo_root};
use lifecert_core::api::attestation::{
    verify_attestation_with, Attestation, AttestationError, ChallengeOrigin, ConfigProfile,
    InMemoryNonceLedger, PerformedBy, ProxyRelation, VerifyPolicy,
};
use lifecert_core::api::certification::{
    CertificationFailure, CertificationOutcome, CertificationRequest, CertificationSession,
    ChallengeSource, TemplateInput,
};
use lifecert_core::liveness::challenge::{
    DigitChallenge, DigitChallengeConfig, Nonce, SeededRandom,
};
use lifecert_core::liveness::sequencer::{DigitCheck, FailReason, PromptMode, VoiceMatch};
use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;
use lifecert_core::{Config, Engine};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
/// Certification sessions an attack gets (the default `max_certification_attempts`).
const SESSIONS: u32 = 3;
/// Longest simulated session (s).
const SESSION_LIMIT_S: f64 = 240.0;

/// `LIFECERT_ATTACK_EVAL_FULL=1`: the one-at-a-time prompt mode too.
fn full() -> bool {
    std::env::var("LIFECERT_ATTACK_EVAL_FULL").is_ok_and(|v| v == "1")
}

/// `LIFECERT_ATTACK_EVAL_SCALE=k`: `k` times the CI's trials per row (default 1).
fn scale() -> usize {
    std::env::var("LIFECERT_ATTACK_EVAL_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|k| *k >= 1)
        .unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// Data

/// Everything loaded once per test binary.
struct Data {
    footage: FramedFootage,
    /// FSDD digits (all takes), by voice.
    fsdd: BTreeMap<String, Vec<VoiceDigit>>,
    /// espeak-ng digits, by voice.
    espeak: BTreeMap<String, Vec<VoiceDigit>>,
    subjects: Vec<Subject>,
    fps: f64,
}

impl Data {
    fn clip(&self, name: &str) -> &AnalysedClip {
        &self.footage.clip(name).analysed
    }
}

fn load(test: &str) -> Option<&'static Data> {
    static DATA: OnceLock<Data> = OnceLock::new();
    let dir = eval_data(test)?;
    if !media::media_tools(test) {
        return None;
    }
    Some(DATA.get_or_init(|| {
        let (footage, located) = subject::framed_footage(&dir);
        let framing = footage.framing;
        let fps = subject::fps(&footage);
        let subjects = subject::subjects(&footage, &located);
        let mut fsdd: BTreeMap<String, Vec<VoiceDigit>> = BTreeMap::new();
        for v in grid::fsdd_digits(&dir, 0..100) {
            fsdd.entry(v.voice.clone()).or_default().push(v);
        }
        let mut espeak: BTreeMap<String, Vec<VoiceDigit>> = BTreeMap::new();
        for v in grid::espeak_digits(&dir) {
            espeak.entry(v.voice.clone()).or_default().push(v);
        }
        eprintln!(
            "footage: {} clips framed on {}×{}; {} subject(s): {:?}; FSDD voices {:?}; espeak voices {:?}",
            footage.clips.len(),
            framing.width,
            framing.height,
            subjects.len(),
            subjects.iter().map(|s| &s.speaker).collect::<Vec<_>>(),
            fsdd.keys().collect::<Vec<_>>(),
            espeak.keys().collect::<Vec<_>>()
        );
        Data {
            footage,
            fsdd,
            espeak,
            subjects,
            fps,
        }
    }))
}

/// The other GRID speakers' digit words (aligned or located), pooled as one voice.
fn grid_voices(d: &Data, s: &Subject) -> Vec<VoiceDigit> {
    d.footage
        .clips
        .iter()
        .map(|c| &c.analysed)
        .filter(|c| c.clip.speaker != s.speaker)
        .flat_map(|c| {
            c.clip
                .digit_words()
                .into_iter()
                .map(|(digit, w)| VoiceDigit {
                    voice: "grid:other speakers".into(),
                    digit,
                    audio: word_audio(c, &w).to_vec(),
                    source: c.clip.name.clone(),
                })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scenes and pieces

/// Voices one after the other from 0 with `gap_s` between, each levelled to `level`, over room
/// tone.
fn voice_over(room: &[f32], voices: &[&[f32]], gap_s: f64, level: f32) -> Vec<f32> {
    let sr = f64::from(grid::SR);
    let total: f64 = voices.iter().map(|v| v.len() as f64 / sr + gap_s).sum();
    let base = room_tone(room, (total * sr) as usize + 1);
    let mut at = 0.0;
    let mut placed = Vec::new();
    for v in voices {
        let a = grid::active_rms(v);
        placed.push((at, *v, if a > 0.0 { level / a } else { 1.0 }));
        at += v.len() as f64 / sr + gap_s;
    }
    grid::place_voices(&base, &placed)
}

fn splice_cfg(trial: usize) -> SpliceConfig {
    let pauses = [
        vec![0.34, 0.46, 0.3],
        vec![0.42, 0.3, 0.5],
        vec![0.3, 0.38, 0.44],
        vec![0.5, 0.36, 0.4],
    ];
    SpliceConfig {
        lead_in_s: 0.0,
        tail_s: 0.0,
        pauses_s: pauses[trial % pauses.len()].clone(),
        ..SpliceConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// Another voice.
#[derive(Debug, Clone, PartialEq)]
enum Voice {
    /// One FSDD speaker.
    Fsdd(String),
    /// The FSDD speakers in turn (one per trial).
    FsddAll,
    /// The other GRID speakers' digit words, pooled.
    GridOthers,
    /// One espeak-ng voice.
    Espeak(String),
}

/// What the camera and microphone are given.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Genuine,
    /// The subject says nothing to the first prompt of his first session (he missed it), then
    /// answers as [`Kind::Genuine`]: the session's own retry (production) or his next session
    /// (replay: one attempt per session) must let him pass.
    GenuineRetry,
    /// The subject reads wrong digits to the first prompt of his first session (his own words
    /// for the next digits), then answers as [`Kind::Genuine`].
    GenuineAfterMistake,
    /// The subject's spliced digit video with another voice at his word onsets.
    Dub(Voice),
    /// The subject's talking clips looped, muted, with another voice timed to the prompts.
    Loop(Voice),
    /// The subject's own other words (video and audio) timed to the prompts.
    OtherWords,
    /// A still photo of the subject; his own digit audio (`None`) or another voice.
    Photo(Option<Voice>),
    /// Another speaker's face saying words in time with the subject's recorded digit words.
    OtherFace,
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    class: &'static str,
    label: String,
    kind: Kind,
    /// The enrolled voice profile has digit templates.
    templates: bool,
    trials: usize,
}

fn rows(d: &Data) -> Vec<Row> {
    let scale = scale();
    let only = std::env::var("LIFECERT_ATTACK_EVAL_ONLY").ok();
    let mut rows = vec![Row {
        id: "genuine".into(),
        class: "genuine",
        label: "genuine: own digit words spliced, after the prompt".into(),
        kind: Kind::Genuine,
        templates: true,
        trials: 20 * scale,
    }];
    rows.push(Row {
        id: "genuine:retry".into(),
        class: "genuine",
        label: "genuine, silent to the first prompt, then answering".into(),
        kind: Kind::GenuineRetry,
        templates: true,
        trials: 2 * scale,
    });
    rows.push(Row {
        id: "genuine:mistake".into(),
        class: "genuine",
        label: "genuine, wrong digits to the first prompt, then right".into(),
        kind: Kind::GenuineAfterMistake,
        templates: true,
        trials: 2 * scale,
    });
    for v in d.fsdd.keys() {
        rows.push(Row {
            id: format!("a:{v}"),
            class: "a",
            label: format!("(a) dubbed: {v} reads the digits"),
            kind: Kind::Dub(Voice::Fsdd(v.clone())),
            templates: true,
            trials: 3 * scale,
        });
    }
    rows.push(Row {
        id: "a:grid".into(),
        class: "a",
        label: "(a) dubbed: other GRID speakers' digit words".into(),
        kind: Kind::Dub(Voice::GridOthers),
        templates: true,
        trials: 2 * scale,
    });
    rows.push(Row {
        id: "b".into(),
        class: "b",
        label: "(b) talking video looped, FSDD voice after each prompt".into(),
        kind: Kind::Loop(Voice::FsddAll),
        templates: true,
        trials: 2 * scale,
    });
    rows.push(Row {
        id: "c:templates".into(),
        class: "c",
        label: "(c) own recording of other words, digit templates enrolled".into(),
        kind: Kind::OtherWords,
        templates: true,
        trials: 3 * scale,
    });
    rows.push(Row {
        id: "c:count_only".into(),
        class: "c",
        label: "(c) own recording of other words, no digit templates".into(),
        kind: Kind::OtherWords,
        templates: false,
        trials: 3 * scale,
    });
    rows.push(Row {
        id: "d:own".into(),
        class: "d",
        label: "(d) still photo + own digit audio".into(),
        kind: Kind::Photo(None),
        templates: true,
        trials: 2 * scale,
    });
    rows.push(Row {
        id: "d:other".into(),
        class: "d",
        label: "(d) still photo + FSDD voice".into(),
        kind: Kind::Photo(Some(Voice::FsddAll)),
        templates: true,
        trials: 2 * scale,
    });
    for v in d.espeak.keys() {
        rows.push(Row {
            id: format!("e:{v}"),
            class: "e",
            label: format!("(e) {v} dubbed over the spliced video"),
            kind: Kind::Dub(Voice::Espeak(v.clone())),
            templates: true,
            trials: 2 * scale,
        });
    }
    rows.push(Row {
        id: "f".into(),
        class: "f",
        label: "(f) another face lip-syncing to the subject's digit words".into(),
        kind: Kind::OtherFace,
        templates: true,
        trials: 3 * scale,
    });
    // Development: `LIFECERT_ATTACK_EVAL_ONLY=genuine,a:` keeps the rows whose id starts so.
    if let Some(only) = only {
        rows.retain(|r| only.split(',').any(|o| r.id.starts_with(o)));
    }
    rows
}

/// The person or the attack in front of the phone for one trial.
struct Actor<'a> {
    d: &'a Data,
    s: &'a Subject,
    kind: &'a Kind,
    trial: usize,
    /// The certification session (0 to 2).
    session: u32,
    /// Answers given so far in this session (varies takes and pauses).
    answers: usize,
    grid_pool: &'a [VoiceDigit],
    room: &'a [f32],
    /// Another speaker's clip (OtherFace).
    other: Option<&'a AnalysedClip>,
}

impl Actor<'_> {
    fn voice_pool(&self, v: &Voice) -> Vec<&VoiceDigit> {
        match v {
            Voice::Fsdd(name) => self.d.fsdd[name].iter().collect(),
            Voice::FsddAll => {
                let names: Vec<&String> = self.d.fsdd.keys().collect();
                self.d.fsdd[names[self.trial % names.len()]]
                    .iter()
                    .collect()
            }
            Voice::GridOthers => self.grid_pool.iter().collect(),
            Voice::Espeak(name) => self.d.espeak[name].iter().collect(),
        }
    }

    /// `v`'s takes of `digits` (`None` when it has no take of one).
    fn voices(&self, v: &Voice, digits: &[u8]) -> Option<Vec<&[f32]>> {
        let pool = self.voice_pool(v);
        digits
            .iter()
            .enumerate()
            .map(|(j, d)| {
                let of: Vec<&&VoiceDigit> = pool.iter().filter(|x| x.digit == *d).collect();
                (!of.is_empty()).then(|| {
                    of[(self.trial * 7 + self.answers * 3 + j) % of.len()]
                        .audio
                        .as_slice()
                })
            })
            .collect()
    }

    fn splice(&self, takes: &[&Take]) -> Spliced {
        let parts: Vec<(&AnalysedClip, &Word)> = takes
            .iter()
            .map(|t| (self.d.clip(&t.clip), &t.word))
            .collect();
        grid::splice(&parts, &splice_cfg(self.trial + self.answers))
    }

    fn own_digits(&self, digits: &[u8]) -> Spliced {
        let takes: Vec<&Take> = digits.iter().map(|d| self.s.answer_take(*d)).collect();
        self.splice(&takes)
    }
}

impl Player for Actor<'_> {
    fn reaction_s(&mut self) -> f64 {
        [0.5, 0.7, 0.9, 0.6, 0.8][(self.trial + self.answers) % 5]
    }

    fn answer(&mut self, digits: &[u8]) -> Piece {
        let piece = match self.kind {
            Kind::GenuineRetry if self.session == 0 && self.answers == 0 => Piece::default(),
            Kind::GenuineAfterMistake if self.session == 0 && self.answers == 0 => {
                let wrong: Vec<u8> = digits.iter().map(|d| (d + 1) % 10).collect();
                let a = self.own_digits(&wrong);
                Piece {
                    frames: a.frames,
                    audio: a.audio,
                }
            }
            Kind::Genuine | Kind::GenuineRetry | Kind::GenuineAfterMistake => {
                let a = self.own_digits(digits);
                Piece {
                    frames: a.frames,
                    audio: a.audio,
                }
            }
            Kind::Dub(v) => match self.voices(v, digits) {
                Some(voices) => {
                    let a = self.own_digits(digits);
                    Piece {
                        audio: grid::dub(&a, &voices),
                        frames: a.frames,
                    }
                }
                // The voice cannot say one of the digits: the attacker lets the try pass.
                None => Piece::default(),
            },
            Kind::Loop(v) | Kind::Photo(Some(v)) => match self.voices(v, digits) {
                Some(voices) => Piece {
                    frames: Vec::new(),
                    audio: voice_over(self.room, &voices, 0.35, self.s.level),
                },
                None => Piece::default(),
            },
            Kind::Photo(None) => Piece {
                frames: Vec::new(),
                audio: self.own_digits(digits).audio,
            },
            Kind::OtherWords => {
                let n = self.s.words.len();
                let takes: Vec<&Take> = (0..digits.len())
                    .map(|j| &self.s.words[(self.trial * 5 + self.answers * 3 + j * 7) % n])
                    .collect();
                let a = self.splice(&takes);
                Piece {
                    frames: a.frames,
                    audio: a.audio,
                }
            }
            Kind::OtherFace => {
                let other = self.other.expect("another face");
                let words: Vec<Word> = other
                    .clip
                    .spoken()
                    .into_iter()
                    .filter(|w| w.duration_s() >= 0.15)
                    .collect();
                let parts: Vec<(&AnalysedClip, &Word)> = (0..digits.len())
                    .map(|j| (other, &words[(self.trial + self.answers + j) % words.len()]))
                    .collect();
                let a = grid::splice(&parts, &splice_cfg(self.trial + self.answers));
                // The subject's own digit words, at the other face's word onsets.
                let own: Vec<&[f32]> = digits
                    .iter()
                    .map(|d| {
                        let t = self.s.answer_take(*d);
                        word_audio(self.d.clip(&t.clip), &t.word)
                    })
                    .collect();
                Piece {
                    audio: grid::dub(&a, &own),
                    frames: a.frames,
                }
            }
        };
        if std::env::var("LIFECERT_ATTACK_EVAL_DEBUG").is_ok_and(|v| v == "1") {
            eprintln!(
                "    answer {} to {digits:?}: {} frames, {:.2} s audio, active rms {:.4}",
                self.answers,
                piece.frames.len(),
                piece.audio.len() as f64 / f64::from(grid::SR),
                grid::active_rms(&piece.audio)
            );
        }
        self.answers += 1;
        piece
    }
}

/// The digits a row's attacker can say (for supplied challenges).
fn sayable(actor: &Actor<'_>) -> BTreeSet<u8> {
    match actor.kind {
        Kind::Dub(v) | Kind::Loop(v) | Kind::Photo(Some(v)) => (0..10)
            .filter(|d| actor.voices(v, &[*d]).is_some())
            .collect(),
        _ => (0..10).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Keys, enrollment

fn engine(profile: &str) -> Arc<Engine> {
    static PROD: OnceLock<Arc<Engine>> = OnceLock::new();
    static ONE: OnceLock<Arc<Engine>> = OnceLock::new();
    static REPLAY: OnceLock<Arc<Engine>> = OnceLock::new();
    let (cell, config) = match profile {
        "production" => (&PROD, Config::default()),
        "one_at_a_time" => {
            let mut c = Config::default();
            c.liveness.prompt_mode = PromptMode::OneAtATime;
            (&ONE, c)
        }
        _ => (&REPLAY, Config::for_recordings()),
    };
    cell.get_or_init(|| Arc::new(Engine::new(config).unwrap()))
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A configuration run: its engine and how its challenges come.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Setup {
    /// `production`, `one_at_a_time` or `replay`.
    profile: &'static str,
    title: &'static str,
}

impl Setup {
    fn replay(&self) -> bool {
        self.profile == "replay"
    }
    fn mode(&self) -> PromptMode {
        if self.profile == "one_at_a_time" {
            PromptMode::OneAtATime
        } else {
            PromptMode::AllAtOnce
        }
    }
    fn config_profile(&self) -> ConfigProfile {
        match self.profile {
            "production" => ConfigProfile::Production,
            "one_at_a_time" => ConfigProfile::Custom,
            _ => ConfigProfile::RecordingReplay,
        }
    }
    /// The default policy plus exactly what this configuration's results need.
    fn policy(&self) -> VerifyPolicy {
        VerifyPolicy {
            accept_seeded_challenge: !self.replay(),
            accept_supplied_challenge: self.replay(),
            accept_recording_replay: self.replay(),
            accept_custom_profile: self.config_profile() == ConfigProfile::Custom,
            ..VerifyPolicy::default()
        }
    }
}

/// One certification session of a trial.
#[derive(Debug, Clone)]
struct SessionResult {
    certified: bool,
    /// The authority's verdict on a certified session: `Ok`, or why `verify` refused it.
    verified: Option<Result<(), String>>,
    /// The failure id (`liveness:…`, `face_not_confirmed`, …) when not certified.
    failure: Option<String>,
    /// Every liveness attempt's failure reason, in order.
    reasons: Vec<FailReason>,
    attempts: u32,
    duration_s: f64,
    face_match: Option<(f32, bool)>,
    /// Liveness passed (the face match was reached).
    liveness_passed: bool,
}

/// One attack (or genuine person): up to three sessions.
#[derive(Debug, Clone)]
struct Trial {
    sessions: Vec<SessionResult>,
    /// Attestation honesty problems found.
    dishonest: Vec<String>,
}

impl Trial {
    fn certified(&self) -> bool {
        self.sessions.iter().any(|s| s.certified)
    }
    fn verified(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| matches!(s.verified, Some(Ok(()))))
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn seed_of(parts: &[&str], numbers: &[usize]) -> u64 {
    let mut h = 0x1234_5678u64;
    for p in parts {
        for b in p.bytes() {
            h = mix(h ^ u64::from(b));
        }
    }
    for n in numbers {
        h = mix(h ^ *n as u64);
    }
    h
}

/// A challenge of the default length the actor can say, drawn from `seed` (replays).
fn supplied(seed: u64, can: &BTreeSet<u8>) -> DigitChallenge {
    for k in 0..10_000u64 {
        let c = DigitChallenge::generate_with(
            &DigitChallengeConfig::default(),
            &SeededRandom::new(seed.wrapping_add(k)),
        )
        .unwrap();
        if c.digits.iter().all(|d| can.contains(d)) {
            return c;
        }
    }
    panic!("no challenge of the digits {can:?}");
}

/// Checks that a certified session's attestation says what was checked; returns the problems.
#[allow(clippy::too_many_arguments)]
fn honesty(
    a: &Attestation,
    setup: &Setup,
    row: &Row,
    nonce: Nonce,
    asked: &[u8],
    performed_by: &PerformedBy,
) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    let k = a.challenge.digits.len() as u32;
    let l = &a.liveness;
    let expected_check = if row.templates {
        DigitCheck::VoiceTemplates
    } else {
        DigitCheck::CountOnly
    };
    check(
        l.digit_check == expected_check,
        format!("digit_check {:?}", l.digit_check),
    );
    check(
        l.digits_heard == k,
        format!("digits_heard {}", l.digits_heard),
    );
    let matched = if row.templates { k } else { 0 };
    check(
        l.digits_matched == matched,
        format!("digits_matched {} (expected {matched})", l.digits_matched),
    );
    check(
        matches!(l.voice, VoiceMatch::Checked { similarity, threshold } if similarity >= threshold),
        format!("voice {:?}", l.voice),
    );
    check(
        l.prompt_mode == setup.mode(),
        format!("prompt_mode {:?}", l.prompt_mode),
    );
    check(
        a.profile == setup.config_profile(),
        format!("profile {:?}", a.profile),
    );
    let origin = if setup.replay() {
        ChallengeOrigin::Supplied
    } else {
        ChallengeOrigin::Seeded
    };
    check(
        a.challenge_origin == origin,
        format!("challenge_origin {:?}", a.challenge_origin),
    );
    check(a.server_nonce == nonce, "server nonce".into());
    check(
        a.challenge.digits == asked,
        format!("challenge {:?}, shown {asked:?}", a.challenge.digits),
    );
    check(a.face_match.accepted, "face match not accepted".into());
    check(a.performed_by == *performed_by, "performed_by".into());
    bad
}

struct Context<'a> {
    d: &'a Data,
    s: &'a Subject,
    e: &'a Enrolled,
    grid_pool: Vec<VoiceDigit>,
    /// Another speakers' clips with located words (OtherFace).
    others: Vec<&'a AnalysedClip>,
    rest: Scene,
}

fn run_trial(ctx: &Context<'_>, setup: &Setup, row: &Row, trial: usize) -> Trial {
    let d = ctx.d;
    let other = (!ctx.others.is_empty()).then(|| ctx.others[trial % ctx.others.len()]);
    let scene = match &row.kind {
        Kind::Loop(_) => {
            let mut frames = Vec::new();
            for c in &ctx.s.clips {
                let n = d.clip(c).faces.len();
                frames.extend((0..n).map(|index| FrameRef {
                    clip: c.clone(),
                    index,
                }));
            }
            let n = frames.len() * (shell::SR as f64 / d.fps).round() as usize;
            Scene {
                frames,
                audio: room_tone(&ctx.rest.audio, n),
            }
        }
        Kind::Photo(_) => {
            let r = &ctx.rest.frames[ctx.rest.frames.len() / 4];
            let n = (shell::SR as f64 / d.fps).round() as usize;
            Scene {
                frames: vec![r.clone()],
                audio: ctx.rest.audio[..n].to_vec(),
            }
        }
        Kind::OtherFace => rest_scene(&d.footage, &other.expect("another speaker").clip.name),
        _ => ctx.rest.clone(),
    };
    let performed_by = match row.kind {
        Kind::Genuine | Kind::GenuineRetry | Kind::GenuineAfterMistake => PerformedBy::Subject,
        _ => PerformedBy::Proxy {
            relation: ProxyRelation::Child,
        },
    };
    let mut out = Trial {
        sessions: Vec::new(),
        dishonest: Vec::new(),
    };
    for i in 0..SESSIONS {
        let seed = seed_of(
            &[setup.profile, &row.id, &ctx.s.speaker],
            &[trial, i as usize],
        );
        let server_nonce = Nonce(
            mix(seed ^ 0x5eed)
                .to_le_bytes()
                .repeat(2)
                .try_into()
                .unwrap(),
        );
        let mut actor = Actor {
            d,
            s: ctx.s,
            kind: &row.kind,
            trial,
            session: i,
            answers: 0,
            grid_pool: &ctx.grid_pool,
            room: &ctx.rest.audio,
            other,
        };
        let challenge = if setup.replay() {
            ChallengeSource::Supplied(supplied(seed, &sayable(&actor)))
        } else {
            ChallengeSource::Seeded(Box::new(SeededRandom::new(seed)))
        };
        let request = CertificationRequest {
            name: NAME.into(),
            id_number: ID.into(),
            performed_by: performed_by.clone(),
            template: TemplateInput::Device {
                sealed: ctx.e.template.clone(),
            },
            voice_templates: Some(if row.templates {
                ctx.e.voice.clone()
            } else {
                ctx.e.voice_print_only.clone()
            }),
            server_nonce,
            certification_year: 2026,
            retiree_category: RetireeCategory::Provincial,
            now_unix: NOW,
            previous_failures: i,
            language: Language::ZhHans,
            challenge,
        };
        let mut session =
            CertificationSession::new(engine(setup.profile), request, ctx.e.keys.certification())
                .unwrap();
        let run = shell::run(
            &mut session,
            &d.footage,
            &scene,
            d.fps,
            &mut actor,
            SESSION_LIMIT_S,
        );
        let outcome = run.outcome.unwrap_or_else(|| {
            panic!(
                "{} {} trial {trial}: no outcome in {SESSION_LIMIT_S} s",
                setup.profile, row.id
            )
        });
        let verdict = match &outcome {
            CertificationOutcome::Certified(c) => Some(&c.liveness),
            CertificationOutcome::NotCertified(n) => n.liveness.as_ref(),
        };
        if std::env::var("LIFECERT_ATTACK_EVAL_DEBUG").is_ok_and(|v| v == "1") {
            eprintln!(
                "DEBUG {} {} trial {trial} session {i}: {:.1} s, prompts {:?}",
                setup.profile,
                row.id,
                run.duration_s,
                run.prompts
                    .iter()
                    .map(|p| (p.start_s, p.end_s, p.digits.clone()))
                    .collect::<Vec<_>>()
            );
            for u in &run.said {
                eprintln!("    said {:?}: {}", u.kind, u.text);
            }
            if let Some(v) = verdict {
                for a in &v.evidence.previous_attempts {
                    eprintln!("    attempt: {a:?}");
                }
                eprintln!(
                    "    last: prompt {:?}..{:?} onset {:?}",
                    v.evidence.prompt_started_ms,
                    v.evidence.prompt_finished_ms,
                    v.evidence.speech_onset_after_prompt_ms
                );
                eprintln!(
                    "    last: passed {} reason {:?} segments {:?} digits {:?} voice {:?}",
                    v.passed,
                    v.reason,
                    v.evidence.speech_segments,
                    v.evidence.digits,
                    v.evidence.voice
                );
            }
        }
        let mut reasons: Vec<FailReason> = verdict
            .map(|v| {
                v.evidence
                    .previous_attempts
                    .iter()
                    .map(|a| a.reason)
                    .collect()
            })
            .unwrap_or_default();
        reasons.extend(verdict.and_then(|v| v.reason));
        let mut result = SessionResult {
            certified: false,
            verified: None,
            failure: None,
            reasons,
            attempts: verdict.map_or(0, |v| v.attempts),
            duration_s: run.duration_s,
            face_match: None,
            liveness_passed: verdict.is_some_and(|v| v.passed),
        };
        match &outcome {
            CertificationOutcome::Certified(c) => {
                result.certified = true;
                result.face_match = Some((c.face_match.distance, c.face_match.accepted));
                let mut ledger = InMemoryNonceLedger::new();
                let verified = verify_attestation_with(
                    &c.attestation,
                    &ctx.e.keys.device_public(),
                    &server_nonce,
                    &mut ledger,
                    &setup.policy(),
                );
                let asked: Vec<u8> = match setup.mode() {
                    PromptMode::AllAtOnce => run.prompts.last().map(|p| p.digits.clone()),
                    PromptMode::OneAtATime => {
                        let k = c.liveness.evidence.digits.len();
                        let p = &run.prompts;
                        Some(
                            p[p.len().saturating_sub(k)..]
                                .iter()
                                .flat_map(|p| p.digits.clone())
                                .collect(),
                        )
                    }
                }
                .unwrap_or_default();
                match &verified {
                    Ok(a) => {
                        for problem in honesty(a, setup, row, server_nonce, &asked, &performed_by) {
                            out.dishonest.push(format!(
                                "{} {} trial {trial}: {problem}",
                                setup.profile, row.id
                            ));
                        }
                    }
                    Err(AttestationError::CountOnlyRefused) if !row.templates => {}
                    Err(e) => out.dishonest.push(format!(
                        "{} {} trial {trial}: verify refused unexpectedly: {e}",
                        setup.profile, row.id
                    )),
                }
                result.verified = Some(verified.map(|_| ()).map_err(|e| e.to_string()));
            }
            CertificationOutcome::NotCertified(n) => {
                result.failure = Some(n.failure.id());
                result.face_match = n.face_match.map(|m| (m.distance, m.accepted));
                let last = i + 1 == SESSIONS;
                if n.retry_allowed == last {
                    out.dishonest.push(format!(
                        "{} {} trial {trial}: retry_allowed {} after {} failures",
                        setup.profile,
                        row.id,
                        n.retry_allowed,
                        i + 1
                    ));
                }
                if n.failure == CertificationFailure::FaceNotConfirmed
                    && n.face_match.is_none_or(|m| m.accepted)
                {
                    out.dishonest
                        .push("face_not_confirmed without a refused match".into());
                }
            }
        }
        let done = result.certified;
        out.sessions.push(result);
        if done {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tables

/// Everything measured for one configuration.
struct Measured {
    setup: Setup,
    rows: Vec<(Row, Vec<Trial>)>,
}

fn median(x: &mut [f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.sort_by(f64::total_cmp);
    x[x.len() / 2]
}

fn pct(a: usize, n: usize) -> String {
    if n == 0 {
        return "–".into();
    }
    format!("{:.1} %", 100.0 * a as f64 / n as f64)
}

/// The most frequent failure reasons over every session of `trials`.
fn reasons(trials: &[Trial]) -> String {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for s in trials.iter().flat_map(|t| &t.sessions) {
        for r in &s.reasons {
            *count.entry(r.id().to_owned()).or_default() += 1;
        }
        if let Some(f) = &s.failure {
            if !f.starts_with("liveness:") {
                *count.entry(f.clone()).or_default() += 1;
            }
        }
    }
    let mut v: Vec<(String, usize)> = count.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.iter()
        .take(4)
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Rates {
    trials: usize,
    certified: usize,
    verified: usize,
    first: usize,
}

fn rates(trials: &[Trial]) -> Rates {
    Rates {
        trials: trials.len(),
        certified: trials.iter().filter(|t| t.certified()).count(),
        verified: trials.iter().filter(|t| t.verified()).count(),
        first: trials
            .iter()
            .filter(|t| t.sessions.first().is_some_and(|s| s.certified))
            .count(),
    }
}

fn table(m: &Measured) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n#### {}\n", m.setup.title);
    let _ = writeln!(
        s,
        "| row | trials | certified (any of {SESSIONS} sessions) | accepted by `verify` | 1st session | median session (s) | failures (every attempt of every session) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|");
    for (row, trials) in &m.rows {
        let r = rates(trials);
        let mut durations: Vec<f64> = trials
            .iter()
            .flat_map(|t| t.sessions.iter().map(|s| s.duration_s))
            .collect();
        let (certified, verified) = if row.class == "genuine" {
            (
                format!(
                    "{}/{} (BPCER {})",
                    r.certified,
                    r.trials,
                    pct(r.trials - r.certified, r.trials)
                ),
                format!("{}/{}", r.verified, r.trials),
            )
        } else {
            (
                format!(
                    "{}/{} (APCER {})",
                    r.certified,
                    r.trials,
                    pct(r.certified, r.trials)
                ),
                format!("{}/{}", r.verified, r.trials),
            )
        };
        let _ = writeln!(
            s,
            "| {} | {} | {certified} | {verified} | {}/{} | {:.1} | {} |",
            row.label,
            r.trials,
            r.first,
            r.trials,
            median(&mut durations),
            reasons(trials)
        );
    }
    // Per class.
    let _ = writeln!(
        s,
        "\n| class | attacks | certified | APCER (phone) | APCER (authority, after `verify`) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    let mut classes: BTreeMap<&str, Vec<&Trial>> = BTreeMap::new();
    for (row, trials) in &m.rows {
        classes.entry(row.class).or_default().extend(trials.iter());
    }
    for (class, trials) in &classes {
        let n = trials.len();
        let c = trials.iter().filter(|t| t.certified()).count();
        let v = trials.iter().filter(|t| t.verified()).count();
        let (a, b) = if *class == "genuine" {
            (format!("BPCER {}", pct(n - c, n)), pct(n - v, n))
        } else {
            (pct(c, n), pct(v, n))
        };
        let _ = writeln!(s, "| {class} | {n} | {c} | {a} | {b} |");
    }
    s
}

/// Genuine sessions: how long they take and how many liveness attempts they need.
fn genuine_summary(m: &Measured) -> String {
    let Some((_, trials)) = m.rows.iter().find(|(r, _)| r.kind == Kind::Genuine) else {
        return String::new();
    };
    let first: Vec<&SessionResult> = trials.iter().filter_map(|t| t.sessions.first()).collect();
    let mut passed: Vec<f64> = first
        .iter()
        .filter(|s| s.certified)
        .map(|s| s.duration_s)
        .collect();
    let one_attempt = first
        .iter()
        .filter(|s| s.certified && s.attempts == 1)
        .count();
    let person_refused = trials.iter().filter(|t| !t.certified()).count();
    format!(
        "{}: genuine first sessions certified {}/{} ({} on the first liveness attempt), median duration {:.1} s; persons refused after {SESSIONS} sessions {}/{}",
        m.setup.title,
        first.iter().filter(|s| s.certified).count(),
        first.len(),
        one_attempt,
        median(&mut passed),
        person_refused,
        trials.len()
    )
}

// ---------------------------------------------------------------------------------------------
// The test

#[test]
fn attacks_and_genuine_sessions_in_production_and_replay() {
    let test = "attacks_and_genuine_sessions_in_production_and_replay";
    let Some(d) = load(test) else {
        return;
    };
    assert!(
        !d.subjects.is_empty(),
        "no speaker with every digit 0-9 among the GRID clips"
    );
    let mut setups = vec![Setup {
        profile: "production",
        title: "Production (`Config::default()`), digits all at once (the default)",
    }];
    if full() {
        setups.push(Setup {
            profile: "one_at_a_time",
            title: "Production, digits one at a time (`prompt_mode = one_at_a_time`; results read profile `custom`)",
        });
    }
    setups.push(Setup {
        profile: "replay",
        title: "Replay (`Config::for_recordings()`, challenges supplied)",
    });
    let mut report = String::new();
    let mut problems = Vec::new();
    let mut requirements = Vec::new();
    for (i, s) in d.subjects.iter().enumerate() {
        let e = subject::enroll(engine("production"), &d.footage, s, i as u8);
        let ctx = Context {
            d,
            s,
            e: &e,
            grid_pool: grid_voices(d, s),
            others: d
                .footage
                .clips
                .iter()
                .map(|c| &c.analysed)
                .filter(|c| c.clip.speaker != s.speaker && c.clip.align.is_some())
                .collect(),
            rest: rest_scene(&d.footage, &s.rest_clip),
        };
        let _ = writeln!(
            report,
            "\n### Subject {} ({} clips; enrollment: voice print and digit templates from {} ms of speech)\n",
            s.speaker,
            s.clips.len(),
            e.speech_ms
        );
        let held_out: Vec<u8> = s
            .takes
            .iter()
            .filter(|(_, t)| t.len() > 1)
            .map(|(d, _)| *d)
            .collect();
        let _ = writeln!(
            report,
            "Genuine answers use a second take of the digits {held_out:?}; every other digit is the take the digit templates were made from (optimistic)."
        );
        for setup in &setups {
            let rows = rows(d);
            let jobs: Vec<(usize, usize)> = rows
                .iter()
                .enumerate()
                .flat_map(|(r, row)| (0..row.trials).map(move |t| (r, t)))
                .collect();
            let t0 = std::time::Instant::now();
            let results = par_map(&jobs, |&(r, t)| run_trial(&ctx, setup, &rows[r], t));
            eprintln!(
                "{} / {}: {} trials in {:.0} s",
                s.speaker,
                setup.profile,
                jobs.len(),
                t0.elapsed().as_secs_f64()
            );
            let mut per_row: Vec<(Row, Vec<Trial>)> =
                rows.iter().map(|r| (r.clone(), Vec::new())).collect();
            for ((r, _), trial) in jobs.iter().zip(results) {
                problems.extend(trial.dishonest.iter().cloned());
                per_row[*r].1.push(trial);
            }
            let m = Measured {
                setup: *setup,
                rows: per_row,
            };
            let t = table(&m);
            eprintln!("{t}");
            let g = genuine_summary(&m);
            eprintln!("{g}");
            let _ = writeln!(report, "{t}\n{g}\n");
            requirements.extend(check_requirements(&m));
        }
    }
    let req = requirements_table(&requirements);
    eprintln!("{req}");
    for r in requirements.iter().filter(|r| !r.met) {
        if known_gap(r) {
            eprintln!(
                "NOT MET (known gap, see KNOWN_GAPS): {}: {}: {}",
                r.config, r.what, r.measured
            );
        } else {
            problems.push(format!("{}: {}: {}", r.config, r.what, r.measured));
        }
    }
    if std::env::var("LIFECERT_WRITE_DOCS").is_ok_and(|v| v == "1") {
        write_doc(&report, &req, full());
    }
    assert!(
        problems.is_empty(),
        "requirements not met:\n{}",
        problems.join("\n")
    );
}

/// One of issue 11's requirements, measured on one configuration.
#[derive(Debug, Clone)]
struct Requirement {
    /// Stable id (see [`KNOWN_GAPS`]).
    id: &'static str,
    config: &'static str,
    what: &'static str,
    measured: String,
    met: bool,
}

/// Requirements the engine does not meet today, as (configuration or `*`, requirement id):
/// reported in the doc and on stderr (not asserted) until the engine changes — each was told
/// to the lead with its numbers:
///
/// * `genuine` in the one-at-a-time prompt mode (measured for the choice of the default, not
///   the default): single-digit answers fail `lips_not_moving_with_voice` often enough that
///   first sessions are refused more than 5 % (see the doc's table).
const KNOWN_GAPS: &[(&str, &str)] = &[("one_at_a_time", "genuine")];

fn known_gap(r: &Requirement) -> bool {
    KNOWN_GAPS
        .iter()
        .any(|(c, id)| *id == r.id && (*c == "*" || *c == r.config))
}

/// Issue 11's requirements on one configuration's measurements.
fn check_requirements(m: &Measured) -> Vec<Requirement> {
    let config = m.setup.profile;
    let class = |c: &str| -> Vec<&Trial> {
        m.rows
            .iter()
            .filter(|(r, _)| r.class == c)
            .flat_map(|(_, t)| t.iter())
            .collect()
    };
    let mut out = Vec::new();
    let dubs: Vec<&Trial> = class("a").into_iter().chain(class("e")).collect();
    let accepted = dubs.iter().filter(|t| t.certified()).count();
    out.push(Requirement {
        id: "dubbed",
        config,
        what: "dubbed attacks with the right digits ((a) and (e)) certified at most 1 in 20 (of at least 20)",
        measured: format!("{accepted}/{}", dubs.len()),
        met: accepted * 20 <= dubs.len() && dubs.len() >= 20,
    });
    for (row, trials) in m.rows.iter().filter(|(r, _)| r.class == "c") {
        let certified = trials.iter().filter(|t| t.certified()).count();
        let verified = trials.iter().filter(|t| t.verified()).count();
        if row.templates {
            out.push(Requirement {
                id: "own_other_words_with_templates",
                config,
                what: "own recording of other words, digit templates enrolled: certified 0 times",
                measured: format!(
                    "{certified}/{} certified, {verified} accepted by `verify`",
                    trials.len()
                ),
                met: certified == 0 && verified == 0,
            });
        } else {
            out.push(Requirement {
                id: "own_other_words_count_only",
                config,
                what: "own recording of other words, no digit templates: never accepted by `verify` (`count_only` refused)",
                measured: format!("{certified}/{} certified, {verified} accepted by `verify`", trials.len()),
                met: verified == 0,
            });
        }
    }
    for (_, trials) in m.rows.iter().filter(|(r, _)| r.kind == Kind::OtherFace) {
        let sessions: Vec<&SessionResult> = trials.iter().flat_map(|t| &t.sessions).collect();
        let bad = sessions
            .iter()
            .filter(|s| {
                s.certified
                    || (s.liveness_passed && s.failure.as_deref() != Some("face_not_confirmed"))
            })
            .count();
        let reached = sessions.iter().filter(|s| s.liveness_passed).count();
        out.push(Requirement {
            id: "other_face",
            config,
            what: "another face never certified; the face match refuses every session whose liveness passed",
            measured: format!("{bad} bad of {} sessions ({reached} reached the face match)", sessions.len()),
            met: bad == 0,
        });
    }
    // The plain genuine row: its first session must certify; the rows that miss or misread
    // the first prompt: the person must be certified within the sessions he gets.
    let mut refused = 0;
    let mut n = 0;
    for (row, trials) in m.rows.iter().filter(|(r, _)| r.class == "genuine") {
        n += trials.len();
        refused += trials
            .iter()
            .filter(|t| {
                if row.kind == Kind::Genuine {
                    !t.sessions.first().is_some_and(|s| s.certified)
                } else {
                    !t.certified()
                }
            })
            .count();
    }
    out.push(Requirement {
        id: "genuine",
        config,
        what: "genuine persons refused at most 5 % (plain answers: in the first session; after a missed or misread first prompt: in any of the sessions)",
        measured: format!("{refused}/{n}"),
        met: refused * 20 <= n && n > 0,
    });
    out
}

fn requirements_table(reqs: &[Requirement]) -> String {
    let mut s = String::from(
        "\n| configuration | requirement (issue 11) | measured | met |\n|---|---|---|---|\n",
    );
    for r in reqs {
        let met = if r.met {
            "yes"
        } else if known_gap(r) {
            "**NO** (known gap, reported)"
        } else {
            "**NO**"
        };
        let _ = writeln!(s, "| {} | {} | {} | {met} |", r.config, r.what, r.measured);
    }
    s
}

fn write_doc(report: &str, requirements: &str, full: bool) {
    let mut doc = String::new();
    doc.push_str(INTRO);
    doc.push_str("\n## Requirements\n");
    doc.push_str(requirements);
    if !full {
        doc.push_str("\n> Written from a run without `LIFECERT_ATTACK_EVAL_FULL=1`: the one-at-a-time prompt mode is not measured.\n");
    }
    if scale() > 1 {
        let _ = writeln!(
            doc,
            "\n> Written from a run with `LIFECERT_ATTACK_EVAL_SCALE={}`: {} times the trials of a plain `cargo test`.",
            scale(),
            scale()
        );
    }
    doc.push_str("\n## Results\n");
    doc.push_str(report);
    let path = repo_root().join("docs/ATTACK_EVAL.md");
    std::fs::write(&path, doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("wrote {}", path.display());
}

/// The doc's fixed part: what each row is built from, what is optimistic, what still passes.
const INTRO: &str = r#"# Attack evaluation

Generated by `core/tests/attack_eval.rs` (`LIFECERT_WRITE_DOCS=1 cargo test --workspace --test
attack_eval`; `LIFECERT_ATTACK_EVAL_FULL=1` adds the one-at-a-time prompt mode,
`LIFECERT_ATTACK_EVAL_SCALE=k` runs k times the trials). Do not edit by hand.

The fraud this measures (issue 11): the retiree has died and a relative plays the retiree's
videos and recordings to the phone, or reads the digits aloud over them, with three tries.

## How a trial runs

Whole `CertificationSession`s driven like a phone shell (`core/tests/common/shell.rs`): frames
at 25 fps pushed pre-analysed (each source frame analysed once per test binary), audio in
20 ms pieces, every prompt spoken by a simulated text-to-speech whose duration grows with the
text (`prompt_started` / `prompt_finished`), a 200 ms timer. The GRID frames (360×288) are
placed on a portrait canvas so the face sits in the guide oval at ≈ 50 cm
(`core/tests/common/framing.rs`): the production positioning gate is passed, never relaxed.
The person (or the attacker's set-up) reacts to the digits shown 0.5–0.9 s after the prompt
ends; before, between and after answers the camera sees the scene (the subject's resting face
played back and forth, the attack's photo or looped video), the microphone its room tone.

* **Production**: `Config::default()` (positioning gate, liveness retries inside a session,
  passive anti-spoofing models not loaded). An attack gets **3 certification sessions**, each
  with a fresh challenge and nonce drawn by the session (a seeded source, so runs repeat;
  the drawing code is the production one) and `previous_failures` counting up: it is
  accepted if any session certifies.
* **Replay**: `Config::for_recordings()`, the challenge supplied (one the attack's voice can
  say), 3 sessions too.
* Attestations are verified with the default `VerifyPolicy` plus exactly what the
  configuration needs (seeded or supplied challenge, replay or custom profile); every
  certified session's attestation is checked to say honestly what was checked
  (`digit_check`, `digits_matched`, `voice`, `prompt_mode`, `profile`, `challenge_origin`,
  nonce, the digits shown, `performed_by`) — the test fails otherwise.

## Rows

* **genuine**: the subject enrolled with a production `EnrollmentSession` (resting face from
  three of his clips, then "read 0 1 2 … 9" answered with his own digit words and pauses:
  voice print and digit templates). Answers are his own digit words spliced from his clips,
  video and audio together, timed after the prompt, `performed_by: subject`. **Optimistic**:
  GRID has one take of most digits for speaker A, so most genuine answers use the very take
  the templates were made from (the table says which digits have a second take); the voice
  and the face are the same recording sessions as enrollment. A real retiree on a cheap phone
  in a noisy room will do worse.
* **genuine, silent to the first prompt** / **wrong digits first**: the same, but the first
  prompt of his first session goes unanswered, or is answered with the wrong digits (his own
  words for the next digits): the session's own retry (production), or his next session
  (replay: one attempt per session), must let him through.
* **(a) dubbed**: his spliced digit video with another person reading the same digits placed
  at his word onsets, levelled to his voice: each FSDD speaker, and the other GRID speakers'
  digit words (aligned or located by DTW).
* **(b) looped video**: his GRID sentence clips played in a loop (muted) with an FSDD voice
  reading the digits after each prompt.
* **(c) own recording of other words**: his own words ("set", "white", "soon", … with their
  video) spliced and timed to the prompts, once with his digit templates enrolled and once
  with a voice profile without digit templates (the evidence must say `count_only` and
  `verify` must refuse it).
* **(d) still photo**: a frame of his resting face held still, with his own digit audio or an
  FSDD voice.
* **(e) espeak-ng**: espeak-ng's `cmn`, `yue`, `en` voices reading the digits, dubbed over his
  spliced video.
* **(f) another face**: another GRID speaker's face saying words with the subject's own digit
  words at their onsets (another person lip-syncing to his recording); the face match must
  refuse every session whose liveness passed.

## Prompt mode: which should be the default

Both modes are measured below with the same rows (`LIFECERT_ATTACK_EVAL_FULL=1`). On these
clips one at a time does not refuse more attacks than all at once (no dubbed attack passes in
either), costs the genuine person a longer session, and refuses more genuine first sessions:
single-digit answers fail `lips_not_moving_with_voice` (the synchrony of one short word is
weaker evidence than three). **Recommendation: keep all at once as the default**; revisit one
at a time once the per-digit synchrony is calibrated on single-word answers. The
one-at-a-time results read profile `custom` (a non-default prompt mode), which the authority
accepts only with `accept_custom_profile`.

## What still passes (not measured here, or measured and not stopped)

* The retiree's own recorded digit words played in time over his own matching video (a
  spliced "genuine" answer is exactly that): the engine cannot tell it from a live genuine
  answer; only the random challenge (the attacker needs a take of every digit, with video)
  and the authority's review stand in the way.
* Lip-synced deepfakes (a generated face driven by a recording or a cloned voice): not
  built here.
* The person's own recording of other words, chosen word by word, when digit templates are
  enrolled: the template check compares MFCC sequences with one enrollment take per digit. Its
  open-set bounds (`VerifyConfig::max_relative_cost`, the length ratios) refuse most other
  words, not all: 6.6 % of GRID speaker A's word/digit pairs still pass
  (`core/tests/digit_open_set.rs`), spread over a few digits. An attacker with many recorded
  words of the retiree, picked to fit each digit shown, could pass; a trained digit model
  (or several enrollment takes per digit) would stop more of them.
* Dubbed voices (FSDD, other GRID speakers, espeak-ng) are often not heard as speech on the
  second and later liveness attempts of a production session (`no_speech` in the tables),
  while always heard on the first attempt of every session: those attacks are refused on
  their content in each session's first attempt, but get fewer effective tries than three
  sessions × three attempts. The cause is not established (the subject's own voice is heard
  on later attempts: see the genuine retry rows).
"#;
