//! Liveness end to end on real recordings: the real [`LivenessSession`] driven like a shell
//! would drive it — every decoded frame analysed and pushed at `k / fps`, the 16 kHz audio
//! pushed in 20 ms pieces through a Silero VAD stream, interleaved in time with the frames, the
//! prompt "spoken" when the session asks for it — on
//! * the seven GRID clips (`video_talking/grid_*.mpg`, one spoken digit per sentence) as
//!   digit sessions: each clip with its own audio (genuine), with another speaker's audio
//!   (a replayed video with dubbed audio), its first frame held still with its own audio (a
//!   photo with a recording), and the three `pad/` photos held still with each GRID audio;
//! * the LivePortrait motion clips (`video_motion/`) as action sessions whose challenge matches
//!   what happens in the clip, one whose order contradicts it, and still images (first frames,
//!   `pad/` photos) that must never perform an action.
//!
//! The sessions use [`LivenessConfig::for_recordings`] (face settled after 200 ms, one attempt,
//! a sentence allowed around the digit; no voice templates exist for the GRID speakers, so the
//! digit check is count-and-timing only and the expected digit cannot be verified). Each test
//! prints every case with its verdict and reason and a table of APCER (attacks accepted /
//! attacks, per attack type) and BPCER (genuine sessions rejected / genuine sessions), with and
//! without the optional MiniFASNet score (`/work/shared/models/minifasnet`, never shipped).

mod common;

use common::{analyzer, eval_data, media};
use image::RgbImage;
use lifecert_core::audio::vad::VoiceActivityDetector;
use lifecert_core::face::anti_spoofing::{PadScore, PassiveAntiSpoof};
use lifecert_core::liveness::challenge::{Action, ActionChallenge, DigitChallenge, Nonce};
use lifecert_core::liveness::sequencer::{
    FailReason, LivenessConfig, LivenessEvent, LivenessSession, Verdict,
};
use lifecert_core::liveness::visual_evidence::{TurnDirection, VisualEvent};
use lifecert_core::{FaceObservation, ModelSource};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The GRID clips and the digit each sentence contains (MANIFEST notes).
const GRID: [(&str, u8); 7] = [
    ("grid_bbaf2n", 2),
    ("grid_id2_vcd_swwp2s", 2),
    ("grid_pwij3p", 3),
    ("grid_lbbc2a", 2),
    ("grid_lrwp9a", 9),
    ("grid_sbia1a", 1),
    ("grid_sbwe5n", 5),
];

/// The motion clips used for action sessions (events established in `visual_evidence.rs`).
const MOTION: [&str; 3] = [
    "liveportrait_d0.mp4",
    "liveportrait_d3.mp4",
    "liveportrait_d18.mp4",
];

/// The `pad/` photos: (file, label).
const PAD_PHOTOS: [(&str, &str); 3] = [
    ("silentface_image_F1_print.jpg", "print"),
    ("silentface_image_F2_replay.jpg", "replay"),
    ("silentface_image_T1_live.jpg", "live photo"),
];

const SR: f64 = 16_000.0;
/// Audio pushed per call: 20 ms, as a microphone callback delivers it.
const AUDIO_PIECE: usize = 320;
/// When the digit prompt ends on the session clock (s): GRID speech starts at ≈ 0.49 s
/// (`grid_swwp2s.align`: "set" from 12250/25000 s), so the prompt is taken to end just before.
const DIGIT_PROMPT_END_S: f64 = 0.35;
/// How long the shell takes to speak an action prompt (s).
const ACTION_PROMPT_S: f64 = 1.0;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn vad() -> &'static VoiceActivityDetector {
    static VAD: OnceLock<VoiceActivityDetector> = OnceLock::new();
    VAD.get_or_init(|| VoiceActivityDetector::with_models(&ModelSource::Embedded).unwrap())
}

/// The shared data directory and ffmpeg, or `None` after saying why the test is skipped.
fn media_data(test: &str) -> Option<PathBuf> {
    let data = eval_data(test)?;
    media::media_tools(test).then_some(data)
}

// ---------------------------------------------------------------------------------------------
// Inputs, analysed once per test binary

/// One decoded and analysed clip.
struct Recording {
    name: String,
    /// The spoken digit (GRID clips).
    digit: Option<u8>,
    /// 16 kHz mono audio (GRID clips; empty for the motion clips).
    audio: Vec<f32>,
    /// Every face of every frame, frame `k` at `k / fps`.
    faces: Vec<Vec<FaceObservation>>,
    fps: f64,
    /// Frame 0 (for the still attack and the PAD score).
    first: RgbImage,
}

fn analyse(path: &Path, digit: Option<u8>, with_audio: bool) -> Recording {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let audio = if with_audio {
        media::audio_16k(path)
    } else {
        Vec::new()
    };
    let mut faces = Vec::new();
    let mut first = None;
    let (_, info) = media::for_each_frame(path, |k, image| {
        faces.push(analyzer().analyze_image(&image).unwrap());
        if k == 0 {
            first = Some(image);
        }
    });
    let first = first.unwrap_or_else(|| panic!("{name}: no frames"));
    assert!(!faces[0].is_empty(), "{name}: no face on frame 0");
    Recording {
        name,
        digit,
        audio,
        faces,
        fps: info.fps,
        first,
    }
}

/// Analyses the jobs on two workers (the analyzer is `Sync`), in the given order.
fn analyse_all(jobs: Vec<(PathBuf, Option<u8>, bool)>) -> Vec<Recording> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((p, d, a)) = jobs.get(i) else {
                break done;
            };
            assert!(p.is_file(), "{} is missing", p.display());
            done.push((i, analyse(p, *d, *a)));
        }
    };
    let mut all = std::thread::scope(|s| {
        let other = s.spawn(work);
        let mut all = work();
        all.extend(other.join().unwrap());
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

fn grid_clips(data: &Path) -> &'static [Recording] {
    static CLIPS: OnceLock<Vec<Recording>> = OnceLock::new();
    CLIPS.get_or_init(|| {
        let dir = data.join("video_talking");
        analyse_all(
            GRID.iter()
                .map(|(n, d)| (dir.join(format!("{n}.mpg")), Some(*d), true))
                .collect(),
        )
    })
}

fn motion_clips(data: &Path) -> &'static [Recording] {
    static CLIPS: OnceLock<Vec<Recording>> = OnceLock::new();
    CLIPS.get_or_init(|| {
        let dir = data.join("video_motion");
        analyse_all(MOTION.iter().map(|n| (dir.join(n), None, false)).collect())
    })
}

/// A `pad/` photo, upright (EXIF orientation honoured by `image_io`), with its faces.
struct Photo {
    label: &'static str,
    image: RgbImage,
    faces: Vec<FaceObservation>,
}

fn pad_photos(data: &Path) -> &'static [Photo] {
    static PHOTOS: OnceLock<Vec<Photo>> = OnceLock::new();
    PHOTOS.get_or_init(|| {
        PAD_PHOTOS
            .iter()
            .map(|(file, label)| {
                let image =
                    lifecert_core::image::decode::load_image(&data.join("pad").join(file)).unwrap();
                let faces = analyzer().analyze_image(&image).unwrap();
                assert_eq!(faces.len(), 1, "{file}: one face");
                Photo {
                    label,
                    image,
                    faces,
                }
            })
            .collect()
    })
}

/// The MiniFASNet models (`LIFECERT_PAD_MODELS`, default `models/minifasnet` beside the
/// evaluation data), or `None` (said loudly): the PAD columns are then left out.
fn pad_model(data: &Path, test: &str) -> Option<&'static PassiveAntiSpoof> {
    static PAD: OnceLock<Option<PassiveAntiSpoof>> = OnceLock::new();
    PAD.get_or_init(|| {
        let dir = match std::env::var_os("LIFECERT_PAD_MODELS") {
            Some(d) => PathBuf::from(d),
            None => data.join("../models/minifasnet"),
        };
        if dir
            .join(lifecert_core::face::anti_spoofing::MINIFASNET_V2_FILE)
            .is_file()
        {
            Some(PassiveAntiSpoof::from_dir(&dir).unwrap())
        } else {
            lifecert_test_support::skip(
                &format!("the PAD columns of {test}"),
                &format!(
                    "MiniFASNet models not found at {} (set LIFECERT_PAD_MODELS)",
                    dir.display()
                ),
            );
            None
        }
    })
    .as_ref()
}

/// The PAD score of the largest face of `image`.
fn pad_score(
    pad: Option<&PassiveAntiSpoof>,
    image: &RgbImage,
    faces: &[FaceObservation],
) -> Option<PadScore> {
    let face = faces
        .iter()
        .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()))?;
    Some(pad?.score(image, &face.detection.bbox).unwrap())
}

// ---------------------------------------------------------------------------------------------
// The shell

/// What the camera shows, frame by frame.
#[derive(Clone, Copy)]
enum Video<'a> {
    /// A clip's analysed frames.
    Clip(&'a [Vec<FaceObservation>]),
    /// One image's faces repeated for this many frames (the analysis is deterministic: one
    /// analysis stands for every repeat).
    Still(&'a [FaceObservation], usize),
}

impl Video<'_> {
    fn len(&self) -> usize {
        match self {
            Video::Clip(f) => f.len(),
            Video::Still(_, n) => *n,
        }
    }

    fn faces(&self, k: usize) -> &[FaceObservation] {
        match self {
            Video::Clip(f) => &f[k],
            Video::Still(f, _) => f,
        }
    }
}

/// When the shell's text-to-speech finishes a prompt.
#[derive(Clone, Copy)]
enum PromptEnd {
    /// At this time on the session clock (or at once when requested later).
    At(f64),
    /// This long after it was requested.
    After(f64),
}

/// Plays the session's prompts and collects its verdict.
struct Shell {
    session: LivenessSession,
    prompt_end: PromptEnd,
    /// When the prompt being spoken ends.
    finish_at: Option<f64>,
    verdict: Option<Verdict>,
    /// (time, message id) of every prompt.
    prompts: Vec<(f64, String)>,
}

impl Shell {
    fn absorb(&mut self, out: Vec<LivenessEvent>, t: f64) {
        let mut work: VecDeque<LivenessEvent> = out.into();
        while let Some(e) = work.pop_front() {
            match e {
                LivenessEvent::SpeakPrompt { message_id, .. } => {
                    self.prompts.push((t, message_id));
                    // The prompt starts playing at once.
                    work.extend(self.session.prompt_started(secs(t)));
                    let end = match self.prompt_end {
                        PromptEnd::At(e) => e.max(t),
                        PromptEnd::After(d) => t + d,
                    };
                    if end <= t {
                        self.finish_at = None;
                        work.extend(self.session.prompt_finished(secs(end)));
                    } else {
                        self.finish_at = Some(end);
                    }
                }
                LivenessEvent::Done(v) => {
                    assert!(self.verdict.is_none(), "two verdicts");
                    self.verdict = Some(*v);
                }
                LivenessEvent::Restart { reason, .. } => {
                    panic!("a recording session restarted ({reason:?})")
                }
                _ => {}
            }
        }
    }
}

/// Drives `session` over `video` (frame `k` at `k / fps`) and `audio` (16 kHz; VAD and
/// samples pushed every 20 ms, each piece when its last sample has been captured), in time
/// order (prompt events, then audio, then frames at equal times); then the VAD's last partial
/// chunk and [`LivenessSession::end_of_input`] at the end of the longer input.
fn drive(
    session: LivenessSession,
    video: Video<'_>,
    fps: f64,
    audio: &[f32],
    prompt_end: PromptEnd,
) -> Verdict {
    let mut shell = Shell {
        session,
        prompt_end,
        finish_at: None,
        verdict: None,
        prompts: Vec::new(),
    };
    let mut stream = vad().stream();
    let pieces = audio.len().div_ceil(AUDIO_PIECE);
    let end_s = (video.len() as f64 / fps).max(audio.len() as f64 / SR);
    let (mut k, mut j) = (0usize, 0usize);
    while shell.verdict.is_none() {
        let tf = (k < video.len()).then(|| k as f64 / fps);
        let ta = (j < pieces).then(|| ((j + 1) * AUDIO_PIECE).min(audio.len()) as f64 / SR);
        let tp = shell.finish_at.filter(|&t| t <= end_s);
        let earliest = [tp, ta, tf]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        if !earliest.is_finite() {
            break;
        }
        if tp == Some(earliest) {
            shell.finish_at = None;
            let out = shell.session.prompt_finished(secs(earliest));
            shell.absorb(out, earliest);
        } else if ta == Some(earliest) {
            let piece = &audio[j * AUDIO_PIECE..((j + 1) * AUDIO_PIECE).min(audio.len())];
            let start = secs((j * AUDIO_PIECE) as f64 / SR);
            let mut out = shell.session.push_audio(piece, start);
            let frames = stream.push(piece).unwrap();
            out.extend(shell.session.push_vad_frames(&frames, Duration::ZERO));
            shell.absorb(out, earliest);
            j += 1;
        } else {
            let out = shell.session.push_faces(video.faces(k), secs(earliest));
            shell.absorb(out, earliest);
            k += 1;
        }
    }
    if shell.verdict.is_none() {
        if let Some(last) = stream.finish().unwrap() {
            let out = shell.session.push_vad_frames(&[last], Duration::ZERO);
            shell.absorb(out, end_s);
        }
    }
    if shell.verdict.is_none() {
        let out = shell.session.end_of_input(secs(end_s));
        shell.absorb(out, end_s);
    }
    assert!(shell.session.is_done());
    shell.verdict.expect("a verdict after the end of input")
}

fn digit_session(digit: u8, pad: Option<&PadScore>) -> LivenessSession {
    let mut s = LivenessSession::new_digits(
        DigitChallenge {
            nonce: Nonce([0; 16]),
            digits: vec![digit],
        },
        LivenessConfig::for_recordings(),
    )
    .unwrap();
    if let Some(p) = pad {
        s.set_pad_score(p.real);
    }
    s
}

fn action_session(actions: &[Action], pad: Option<&PadScore>) -> LivenessSession {
    let mut s = LivenessSession::new_actions(
        ActionChallenge {
            nonce: Nonce([0; 16]),
            actions: actions.to_vec(),
        },
        LivenessConfig::for_recordings(),
    )
    .unwrap();
    if let Some(p) = pad {
        s.set_pad_score(p.real);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Reporting

/// One session and how it ended.
struct Case {
    /// Attack type or "genuine …" (one table row each).
    group: &'static str,
    attack: bool,
    label: String,
    verdict: Verdict,
    pad: Option<PadScore>,
}

impl Case {
    fn accepted(&self) -> bool {
        self.verdict.passed
    }

    /// Accepted by the session *and* judged real by the PAD model (when it ran).
    fn accepted_with_pad(&self) -> bool {
        self.verdict.passed && self.pad.is_none_or(|p| p.is_real)
    }

    fn reason(&self) -> &'static str {
        self.verdict.reason.map_or("-", FailReason::id)
    }
}

fn short_event(e: &VisualEvent) -> String {
    let excursion = |what: &str, x: &lifecert_core::liveness::visual_evidence::Excursion| {
        format!(
            "{what}@{:.2}..{:.2}({:+.1}°{:+.1}°)",
            x.start.as_secs_f64(),
            x.end.as_secs_f64(),
            x.reference_deg,
            x.peak_delta_deg
        )
    };
    match e {
        VisualEvent::Blink(b) => format!("blink@{:.2}", b.start.as_secs_f64()),
        VisualEvent::Turn(t) => excursion(
            match t.direction {
                TurnDirection::Left => "turn-left",
                TurnDirection::Right => "turn-right",
            },
            &t.excursion,
        ),
        VisualEvent::Nod(n) => excursion("nod", &n.excursion),
        VisualEvent::MouthOpen(m) => format!("mouth@{:.2}", m.start.as_secs_f64()),
    }
}

fn print_cases(cases: &[Case]) {
    eprintln!(
        "\n{:<22} {:<44} {:<6} {:<27} {:>7} {:>4} {:>6} {:>6} {:>6}  details",
        "group", "case", "result", "reason", "onset", "segs", "corr", "spread", "pad"
    );
    for c in cases {
        let ev = &c.verdict.evidence;
        let onset = ev
            .speech_onset_after_prompt_ms
            .map_or("-".into(), |o| format!("{o:+}"));
        let (corr, spread) = ev.av_sync.map_or(("-".into(), "-".into()), |s| {
            (
                format!("{:.3}", s.correlation),
                format!("{:.3}", s.aperture_spread),
            )
        });
        let pad = c.pad.map_or("-".into(), |p| {
            format!("{:.2}{}", p.real, if p.is_real { "" } else { "✗" })
        });
        let mut details: Vec<String> = ev
            .speech_segments
            .iter()
            .map(|s| {
                format!(
                    "{:.2}–{:.2}s",
                    s.start_ms as f64 / 1e3,
                    s.end_ms as f64 / 1e3
                )
            })
            .collect();
        details.extend(ev.visual_events.iter().map(short_event));
        if !ev.actions.is_empty() {
            details.push(format!(
                "done: {:?}",
                ev.actions.iter().map(|a| a.action).collect::<Vec<_>>()
            ));
        }
        eprintln!(
            "{:<22} {:<44} {:<6} {:<27} {:>7} {:>4} {:>6} {:>6} {:>6}  {}",
            c.group,
            c.label,
            if c.accepted() { "PASS" } else { "fail" },
            c.reason(),
            onset,
            ev.speech_segments.len(),
            corr,
            spread,
            pad,
            details.join(" ")
        );
    }
}

/// Prints APCER / BPCER per group, with and without PAD; returns (group, errors, total).
fn print_rates(cases: &[Case], with_pad: bool) -> Vec<(&'static str, usize, usize)> {
    let mut groups: Vec<&'static str> = Vec::new();
    for c in cases {
        if !groups.contains(&c.group) {
            groups.push(c.group);
        }
    }
    eprintln!(
        "\n{:<22} {:>6} {:>11} {:>8}{}  fail reasons",
        "group",
        "metric",
        "errors",
        "rate",
        if with_pad {
            format!(" {:>11} {:>8}", "+PAD errors", "rate")
        } else {
            String::new()
        }
    );
    let mut out = Vec::new();
    for g in groups {
        let of: Vec<&Case> = cases.iter().filter(|c| c.group == g).collect();
        let attack = of[0].attack;
        let error = |c: &&Case, pad: bool| {
            let accepted = if pad {
                c.accepted_with_pad()
            } else {
                c.accepted()
            };
            accepted == attack
        };
        let n = of.len();
        let e = of.iter().filter(|c| error(c, false)).count();
        let ep = of.iter().filter(|c| error(c, true)).count();
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for c in &of {
            if !c.accepted() {
                match reasons.iter_mut().find(|(r, _)| *r == c.reason()) {
                    Some((_, k)) => *k += 1,
                    None => reasons.push((c.reason(), 1)),
                }
            }
        }
        let pct = |e: usize| 100.0 * e as f64 / n as f64;
        eprintln!(
            "{:<22} {:>6} {:>5} / {:<3} {:>7.1}%{}  {}",
            g,
            if attack { "APCER" } else { "BPCER" },
            e,
            n,
            pct(e),
            if with_pad {
                format!(" {:>5} / {:<3} {:>7.1}%", ep, n, pct(ep))
            } else {
                String::new()
            },
            reasons
                .iter()
                .map(|(r, k)| format!("{r} ×{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push((g, e, n));
    }
    out
}

fn errors_of(rates: &[(&'static str, usize, usize)], group: &str) -> (usize, usize) {
    rates
        .iter()
        .find(|(g, _, _)| *g == group)
        .map(|&(_, e, n)| (e, n))
        .unwrap_or_else(|| panic!("no group {group}"))
}

// ---------------------------------------------------------------------------------------------
// Digit sessions on GRID

const GENUINE_DIGITS: &str = "genuine (own audio)";
const CROSS_AUDIO: &str = "a: other audio";
const STILL_FRAME: &str = "b: still frame";
const PAD_PRINT: &str = "c: print photo";
const PAD_REPLAY: &str = "c: replay photo";
const PAD_LIVE_PHOTO: &str = "c: live photo still";

#[test]
fn digit_sessions_on_grid_clips() {
    let test = "digit_sessions_on_grid_clips";
    let Some(data) = media_data(test) else {
        return;
    };
    let clips = grid_clips(&data);
    let photos = pad_photos(&data);
    let pad = pad_model(&data, test);
    let clip_pad: Vec<Option<PadScore>> = clips
        .iter()
        .map(|c| pad_score(pad, &c.first, &c.faces[0]))
        .collect();
    let run = |digit: u8, video: Video<'_>, fps: f64, audio: &[f32], pad: Option<&PadScore>| {
        drive(
            digit_session(digit, pad),
            video,
            fps,
            audio,
            PromptEnd::At(DIGIT_PROMPT_END_S),
        )
    };
    let mut cases = Vec::new();
    for (c, p) in clips.iter().zip(&clip_pad) {
        let audio_s = c.audio.len() as f64 / SR;
        assert!(
            (audio_s - 3.0).abs() < 0.1,
            "{}: {audio_s} s of audio",
            c.name
        );
        assert_eq!(c.faces.len(), 75, "{}", c.name);
        cases.push(Case {
            group: GENUINE_DIGITS,
            attack: false,
            label: format!("{} says {}", c.name, c.digit.unwrap()),
            verdict: run(
                c.digit.unwrap(),
                Video::Clip(&c.faces),
                c.fps,
                &c.audio,
                p.as_ref(),
            ),
            pad: *p,
        });
    }
    // (a) Every clip's video with every other clip's audio; the challenge is the audio's digit.
    for (v, p) in clips.iter().zip(&clip_pad) {
        for a in clips.iter().filter(|a| a.name != v.name) {
            cases.push(Case {
                group: CROSS_AUDIO,
                attack: true,
                label: format!("{} + audio {}", v.name, a.name.trim_start_matches("grid_")),
                verdict: run(
                    a.digit.unwrap(),
                    Video::Clip(&v.faces),
                    v.fps,
                    &a.audio,
                    p.as_ref(),
                ),
                pad: *p,
            });
        }
    }
    // (b) Frame 0 held still, with the clip's own audio.
    for (c, p) in clips.iter().zip(&clip_pad) {
        cases.push(Case {
            group: STILL_FRAME,
            attack: true,
            label: format!("{} frame 0", c.name),
            verdict: run(
                c.digit.unwrap(),
                Video::Still(&c.faces[0], c.faces.len()),
                c.fps,
                &c.audio,
                p.as_ref(),
            ),
            pad: *p,
        });
    }
    // (c) The PAD photos held still for 3 s at 25 fps, with each GRID audio.
    for photo in photos {
        let p = pad_score(pad, &photo.image, &photo.faces);
        let group = match photo.label {
            "print" => PAD_PRINT,
            "replay" => PAD_REPLAY,
            _ => PAD_LIVE_PHOTO,
        };
        for a in clips {
            cases.push(Case {
                group,
                attack: true,
                label: format!(
                    "{} + audio {}",
                    photo.label,
                    a.name.trim_start_matches("grid_")
                ),
                verdict: run(
                    a.digit.unwrap(),
                    Video::Still(&photo.faces, 75),
                    25.0,
                    &a.audio,
                    p.as_ref(),
                ),
                pad: p,
            });
        }
    }
    print_cases(&cases);
    let rates = print_rates(&cases, pad.is_some());

    // Every still image fails, whatever the audio, and for the reason a still has: its lips
    // do not move (the speech itself is accepted).
    for c in cases
        .iter()
        .filter(|c| c.group.starts_with("b:") || c.group.starts_with("c:"))
    {
        assert!(!c.accepted(), "{}: a still image passed", c.label);
        assert_eq!(
            c.verdict.reason,
            Some(FailReason::LipsNotMovingWithVoice),
            "{}",
            c.label
        );
        let sync = c.verdict.evidence.av_sync.expect("av sync measured");
        assert!(sync.aperture_spread < 0.005, "{}: {sync:?}", c.label);
    }
    // Genuine sessions on whole GRID sentences ("bin blue at f two now": six words, one of
    // them the digit) with the production synchrony check: 5 of 7 pass. The two others
    // (grid_bbaf2n 0.303, grid_lbbc2a 0.292) fall under the answer-correlation threshold
    // (0.35), which is calibrated on what the product asks for — the digits alone, where own
    // answers pass 39 of 40 (`core/tests/av_sync_eval.rs`) — while a sentence pools words
    // that barely move this speaker's mouth. Nothing else refuses them.
    let (rejected, n) = errors_of(&rates, GENUINE_DIGITS);
    assert_eq!(n, 7);
    assert!(
        rejected <= 2,
        "{rejected}/{n} genuine sentence sessions rejected"
    );
    for c in cases
        .iter()
        .filter(|c| c.group == GENUINE_DIGITS && !c.accepted())
    {
        assert_eq!(
            c.verdict.reason,
            Some(FailReason::LipsOutOfSync),
            "{}: a genuine sentence refused for another reason",
            c.label
        );
    }
    // Another speaker's audio over a talking face, synchrony alone (no voice templates
    // here): 27 of 42 accepted before the per-answer synchrony check, 9 of 42 (21 %) with it.
    // The voice check against enrollment refuses the rest (`core/tests/attack_eval.rs`).
    let (accepted, n) = errors_of(&rates, CROSS_AUDIO);
    assert_eq!(n, 42);
    assert!(
        accepted * 100 <= n * 25,
        "{accepted}/{n} dubbed videos accepted"
    );
}

// ---------------------------------------------------------------------------------------------
// Action sessions on the motion clips

const GENUINE_ACTIONS: &str = "genuine (actions)";
const WRONG_ORDER: &str = "e: order not followed";
const ACTION_STILL: &str = "e: still frame";
const ACTION_PAD: &str = "e: pad photo still";

#[test]
fn action_sessions_on_motion_clips() {
    let test = "action_sessions_on_motion_clips";
    let Some(data) = media_data(test) else {
        return;
    };
    let clips = motion_clips(&data);
    let photos = pad_photos(&data);
    let pad = pad_model(&data, test);
    let clip = |name: &str| {
        clips
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let run = |video: Video<'_>, fps: f64, actions: &[Action], pad: Option<&PadScore>| {
        drive(
            action_session(actions, pad),
            video,
            fps,
            &[],
            PromptEnd::After(ACTION_PROMPT_S),
        )
    };
    use Action::*;
    // What the clips show (core/tests/visual_evidence.rs and the sessions' own events): d0 one
    // blink at 2.55 s; d3 a wink at 0.23–0.6 s (counted as a blink: the detector uses the
    // mean of both eyes), a turn to her right from 0.17 s (yaw +0.6° → −15.6° at 0.67 s, back
    // at 1 s), a blink at 1.4 s, the head down to pitch −12° at 4.4 s and turned to yaw +14°
    // at 5.5 s, down again (−14°) at 7.6–9.5 s while turning to her left (+24° at 9 s), the
    // mouth opened wide from 10 s; d18 the mouth opened wide at 2.1–3.3 s and 3.9–5.2 s,
    // blinks at 3.1 s and 6.2 s. The first prompt comes 0.2 s into each clip; turns and nods
    // are measured from the pose at the prompt of their step (`liveness.rs`, `start_action`).
    // Each genuine case with the outcome measured (`None`: passes).
    let genuine: [(&str, &[Action], Option<FailReason>); 6] = [
        ("liveportrait_d0", &[Blink], None),
        ("liveportrait_d18", &[OpenMouth], None),
        ("liveportrait_d18", &[OpenMouth, Blink], None),
        ("liveportrait_d3", &[Blink, Nod], None),
        // The prompt comes mid-turn (pitch −3.4°): the first nod reaches −12.1°, 8.7° down
        // (10° needed); the second ends at 9.5 s, after the 8.2 s deadline (prompt ended at
        // 1.2 s + 7 s). With [Blink, Nod] the nod step starts at the end of the wink, pitch
        // −2.2°, and the same first nod counts (10.4° down).
        ("liveportrait_d3", &[Nod], Some(FailReason::ActionNotSeen)),
        // The turn step starts when the nod ends (5.6 s), with the head turned to yaw +14.7°:
        // the real turn to +24° is only 9° from that start pose, and coming back to the
        // front counts as a turn to the right (−26.7°, not asked for).
        (
            "liveportrait_d3",
            &[Blink, Nod, TurnLeft],
            Some(FailReason::ActionNotSeen),
        ),
    ];
    // A recorded clip whose actions come in another order than asked: from the pose at the
    // prompt (yaw −7.6°, mid-turn) the head "turns left" by 22.6° (to +15°) at 4.4–6.5 s
    // before any nod of 10°, so a challenge asking for the nod first fails at once.
    let wrong_order: [(&str, &[Action]); 1] = [("liveportrait_d3", &[Nod, TurnLeft])];
    let mut cases = Vec::new();
    for (name, actions, _) in genuine {
        let c = clip(name);
        let p = pad_score(pad, &c.first, &c.faces[0]);
        cases.push(Case {
            group: GENUINE_ACTIONS,
            attack: false,
            label: format!("{name} {actions:?}"),
            verdict: run(Video::Clip(&c.faces), c.fps, actions, p.as_ref()),
            pad: p,
        });
    }
    for (name, actions) in wrong_order {
        let c = clip(name);
        let p = pad_score(pad, &c.first, &c.faces[0]);
        cases.push(Case {
            group: WRONG_ORDER,
            attack: true,
            label: format!("{name} {actions:?}"),
            verdict: run(Video::Clip(&c.faces), c.fps, actions, p.as_ref()),
            pad: p,
        });
    }
    // Still images for 9 s at 30 fps (past the 7 s action timeout after the prompt).
    let still_challenges: [&[Action]; 5] =
        [&[Blink], &[OpenMouth], &[TurnLeft], &[TurnRight], &[Nod]];
    for c in clips {
        let p = pad_score(pad, &c.first, &c.faces[0]);
        for actions in still_challenges {
            cases.push(Case {
                group: ACTION_STILL,
                attack: true,
                label: format!("{} frame 0 {actions:?}", c.name),
                verdict: run(Video::Still(&c.faces[0], 270), 30.0, actions, p.as_ref()),
                pad: p,
            });
        }
    }
    for photo in photos {
        let p = pad_score(pad, &photo.image, &photo.faces);
        for actions in still_challenges {
            cases.push(Case {
                group: ACTION_PAD,
                attack: true,
                label: format!("{} {actions:?}", photo.label),
                verdict: run(Video::Still(&photo.faces, 270), 30.0, actions, p.as_ref()),
                pad: p,
            });
        }
    }
    print_cases(&cases);
    let rates = print_rates(&cases, pad.is_some());
    for c in cases.iter().filter(|c| c.attack) {
        assert!(!c.accepted(), "{}: accepted", c.label);
    }
    for c in cases
        .iter()
        .filter(|c| c.group == ACTION_STILL || c.group == ACTION_PAD)
    {
        assert_eq!(
            c.verdict.reason,
            Some(FailReason::ActionNotSeen),
            "{}",
            c.label
        );
        assert!(c.verdict.evidence.visual_events.is_empty(), "{}", c.label);
    }
    let genuine_cases = cases.iter().filter(|c| c.group == GENUINE_ACTIONS);
    for (c, (_, _, expected)) in genuine_cases.zip(&genuine) {
        assert_eq!(c.verdict.reason, *expected, "{}", c.label);
    }
    let (rejected, n) = errors_of(&rates, GENUINE_ACTIONS);
    assert_eq!((rejected, n), (2, genuine.len()));
}
