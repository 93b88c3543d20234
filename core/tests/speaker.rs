//! Speaker verification on real speech: calibration of [`SpeakerConfig::min_similarity`] and
//! the error rates at it, per data set (`LIFECERT_EVAL_DATA`, default `../shared/data`).
//!
//! Every embedding goes through the product's path: the recording → Silero VAD → speech
//! segments ([`SegmentConfig::default`]) → [`SpeakerEncoder::embed_segments`] (segments plus at
//! most 0.15 s of each pause). Enrollment is one reading of 0–9 (or the mean of three); an
//! answer is three digits with pauses, as a certification answer is.
//!
//! * FSDD (`audio/fsdd/{digit}_{speaker}_{take}.wav`, 8 kHz, resampled to 16 kHz): every
//!   speaker found, enrolled from single readings and from three, tested with 3-digit answers
//!   made of other takes. **The threshold is fitted here** (equal-error point).
//! * GRID (`video_talking/**.mpg`, speaker = `identity` of `manifest.tsv`, audio by ffmpeg):
//!   disjoint speakers, a different channel; **the rates at the default are asserted here**.
//!   Sentences, and the digit word alone where a `.align` file gives its timing.
//! * Control: the GRID speakers' own audio low-passed to 4 kHz (16 → 8 → 16 kHz) against
//!   their full-band enrollment: how much of a mismatch is the channel, not the speaker.
//! * TTS: espeak-ng voices (`audio/synth` and generated at test time) against every real
//!   enrollment: a synthetic voice must be refused.
//!
//! Nothing depends on file names or counts beyond the layout: speakers, takes and clips are
//! discovered, so a sealed data set laid out the same way runs through the same tests.

mod common;

use common::{eval_data, media};
use lifecert_core::audio::resample::resample_linear_or_better;
use lifecert_core::audio::segments::{speech_segments, SegmentConfig};
use lifecert_core::audio::speaker::{
    SpeakerConfig, SpeakerEmbedding, SpeakerEncoder, SpeakerError,
};
use lifecert_core::audio::vad::VoiceActivityDetector;
use lifecert_core::ModelSource;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const SR: u32 = 16_000;
/// Silence before, between and after the digits of a constructed reading or answer (s).
const PAUSE_S: f64 = 0.4;
/// 3-digit answers per FSDD speaker.
const ANSWERS_PER_SPEAKER: usize = 48;

fn encoder() -> &'static SpeakerEncoder {
    static E: OnceLock<SpeakerEncoder> = OnceLock::new();
    E.get_or_init(|| SpeakerEncoder::with_models(&ModelSource::Embedded).unwrap())
}

/// An encoder that accepts short speech (0.2 s), for the digit-word measurements only.
fn short_encoder() -> &'static SpeakerEncoder {
    static E: OnceLock<SpeakerEncoder> = OnceLock::new();
    E.get_or_init(|| {
        let config = SpeakerConfig {
            min_speech: Duration::from_millis(200),
            ..SpeakerConfig::default()
        };
        SpeakerEncoder::with_config(&ModelSource::Embedded, config).unwrap()
    })
}

fn vad() -> &'static VoiceActivityDetector {
    static V: OnceLock<VoiceActivityDetector> = OnceLock::new();
    V.get_or_init(|| VoiceActivityDetector::with_models(&ModelSource::Embedded).unwrap())
}

fn threshold() -> f32 {
    SpeakerConfig::default().min_similarity
}

/// The product's path: VAD → segments → speech (segments + short pauses) → embedding.
fn embed_recording(
    encoder: &SpeakerEncoder,
    audio: &[f32],
) -> Result<SpeakerEmbedding, SpeakerError> {
    let probs = vad().probabilities(audio).unwrap();
    let segments = speech_segments(&probs, &SegmentConfig::default()).unwrap();
    encoder.embed_segments(audio, &segments)
}

fn to_16k(samples: Vec<f32>, rate: u32) -> Vec<f32> {
    if rate == SR {
        samples
    } else {
        resample_linear_or_better(&samples, rate, SR).unwrap()
    }
}

fn read_wav_16k(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(spec.channels, 1, "{}", path.display());
    assert_eq!(spec.bits_per_sample, 16, "{}", path.display());
    let x = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    to_16k(x, spec.sample_rate)
}

/// Pieces of speech joined by [`PAUSE_S`] of silence, with the same silence around them.
fn with_pauses(pieces: &[&[f32]]) -> Vec<f32> {
    let pause = vec![0f32; (PAUSE_S * f64::from(SR)) as usize];
    let mut out = pause.clone();
    for p in pieces {
        out.extend_from_slice(p);
        out.extend_from_slice(&pause);
    }
    out
}

/// Deterministic pseudo-random numbers (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }

    /// `k` distinct items of `items`.
    fn pick<T: Copy>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut pool = items.to_vec();
        (0..k.min(pool.len()))
            .map(|_| pool.swap_remove(self.below(pool.len())))
            .collect()
    }
}

// ------------------------------------------------------------------ statistics

#[derive(Default)]
struct Scores {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
}

fn accept_rate(scores: &[f32], t: f32) -> f64 {
    scores.iter().filter(|&&s| s >= t).count() as f64 / scores.len().max(1) as f64
}

impl Scores {
    /// Equal error rate and the threshold where it is reached (scanned in steps of 0.001).
    fn eer(&self) -> (f64, f32) {
        (0..=1000)
            .map(|k| {
                let t = k as f32 / 1000.0;
                let far = accept_rate(&self.impostor, t);
                let frr = 1.0 - accept_rate(&self.genuine, t);
                ((far - frr).abs(), (far + frr) / 2.0, t)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, eer, t)| (eer, t))
            .unwrap()
    }
}

fn quantile(x: &[f32], q: f64) -> f32 {
    let mut v = x.to_vec();
    v.sort_by(f32::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn mean(x: &[f32]) -> f32 {
    x.iter().sum::<f32>() / x.len().max(1) as f32
}

fn describe(x: &[f32]) -> String {
    if x.is_empty() {
        return "—".into();
    }
    format!(
        "n {:4}  mean {:.3}  min {:.3}  p5 {:.3}  p95 {:.3}  max {:.3}",
        x.len(),
        mean(x),
        quantile(x, 0.0),
        quantile(x, 0.05),
        quantile(x, 0.95),
        quantile(x, 1.0)
    )
}

fn row(label: &str, s: &Scores) {
    let t = threshold();
    let (eer, at) = s.eer();
    eprintln!(
        "| {label:34} | {:5} | {:5} | {:5.1} % @ {at:.3} | {:5.1} % | {:5.1} % |",
        s.genuine.len(),
        s.impostor.len(),
        100.0 * eer,
        100.0 * (1.0 - accept_rate(&s.genuine, t)),
        100.0 * accept_rate(&s.impostor, t),
    );
}

fn table_header(title: &str) {
    eprintln!("\n{title} (threshold {:.2})", threshold());
    eprintln!(
        "| {:34} | genu. | impo. | EER @ threshold   | FRR     | FAR     |",
        "protocol"
    );
    eprintln!(
        "|{:-<36}|-------|-------|-------------------|---------|---------|",
        ""
    );
}

/// FRR / FAR of each score set at thresholds around the default.
fn sweep(title: &str, sets: &[(&str, &Scores)]) {
    let ts: Vec<f32> = (0..9)
        .map(|k| threshold() - 0.08 + 0.02 * k as f32)
        .collect();
    eprintln!("\n{title}: FRR / FAR (%) by threshold");
    eprint!("| {:34} |", "protocol");
    for t in &ts {
        eprint!("    {t:.2}     |");
    }
    eprintln!();
    for (label, s) in sets {
        eprint!("| {label:34} |");
        for &t in &ts {
            let frr = if s.genuine.is_empty() {
                "  — ".to_owned()
            } else {
                format!("{:4.1}", 100.0 * (1.0 - accept_rate(&s.genuine, t)))
            };
            let far = if s.impostor.is_empty() {
                "  — ".to_owned()
            } else {
                format!("{:4.1}", 100.0 * accept_rate(&s.impostor, t))
            };
            eprint!(" {frr} / {far} |");
        }
        eprintln!();
    }
}

// ------------------------------------------------------------------ FSDD

/// speaker → digit → take → 16 kHz samples.
type Fsdd = BTreeMap<String, BTreeMap<u8, BTreeMap<u32, Vec<f32>>>>;

fn fsdd(data: &Path) -> Fsdd {
    let mut out = Fsdd::new();
    let dir = data.join("audio/fsdd");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wav"))
        else {
            continue;
        };
        let parts: Vec<&str> = stem.split('_').collect();
        let [digit, speaker, take] = parts[..] else {
            continue;
        };
        let (Ok(digit), Ok(take)) = (digit.parse::<u8>(), take.parse::<u32>()) else {
            continue;
        };
        out.entry(speaker.to_owned())
            .or_default()
            .entry(digit)
            .or_default()
            .insert(take, read_wav_16k(&path));
    }
    out
}

/// Takes for which the speaker has all ten digits, in order.
fn complete_takes(digits: &BTreeMap<u8, BTreeMap<u32, Vec<f32>>>) -> Vec<u32> {
    let Some(first) = digits.get(&0) else {
        return Vec::new();
    };
    first
        .keys()
        .copied()
        .filter(|t| (0..10).all(|d| digits.get(&d).is_some_and(|m| m.contains_key(t))))
        .collect()
}

fn reading(digits: &BTreeMap<u8, BTreeMap<u32, Vec<f32>>>, take: u32) -> Vec<f32> {
    let pieces: Vec<&[f32]> = (0..10).map(|d| digits[&d][&take].as_slice()).collect();
    with_pauses(&pieces)
}

struct FsddEval {
    /// One reading of 0–9 per enrollment.
    single: Scores,
    /// The mean of three readings.
    triple: Scores,
    /// Per speaker: its single-reading enrollments (for the TTS and channel tests).
    enrollments: BTreeMap<String, Vec<SpeakerEmbedding>>,
}

fn fsdd_eval(data: &Path) -> Option<FsddEval> {
    let corpus = fsdd(data);
    let enc = encoder();
    // Per speaker: four single-reading enrollments from the first four complete takes, one
    // three-reading enrollment from the first three, answers from the other takes.
    let mut single_enroll = BTreeMap::new();
    let mut triple_enroll = BTreeMap::new();
    let mut answers: BTreeMap<String, Vec<SpeakerEmbedding>> = BTreeMap::new();
    let mut rng = Lcg(20_240_611);
    for (speaker, digits) in &corpus {
        let takes = complete_takes(digits);
        if takes.len() < 6 {
            eprintln!(
                "FSDD: {speaker} has {} complete takes: skipped",
                takes.len()
            );
            continue;
        }
        let (enroll_takes, answer_takes) = takes.split_at(4);
        let singles: Vec<SpeakerEmbedding> = enroll_takes
            .iter()
            .map(|&t| embed_recording(enc, &reading(digits, t)).unwrap())
            .collect();
        triple_enroll.insert(
            speaker.clone(),
            SpeakerEmbedding::mean_of(&singles[..3]).unwrap(),
        );
        single_enroll.insert(speaker.clone(), singles);
        let mut mine = Vec::new();
        let all_digits: Vec<u8> = digits.keys().copied().collect();
        while mine.len() < ANSWERS_PER_SPEAKER {
            let said = rng.pick(&all_digits, 3);
            let pieces: Vec<&[f32]> = said
                .iter()
                .map(|d| {
                    let available: Vec<u32> = digits[d]
                        .keys()
                        .copied()
                        .filter(|t| answer_takes.contains(t))
                        .collect();
                    digits[d][&available[rng.below(available.len())]].as_slice()
                })
                .collect();
            match embed_recording(enc, &with_pauses(&pieces)) {
                Ok(e) => mine.push(e),
                Err(SpeakerError::TooLittleSpeech { seconds, .. }) => {
                    eprintln!("FSDD {speaker}: an answer with {seconds:.2} s of speech refused");
                }
                Err(e) => panic!("FSDD {speaker}: {e}"),
            }
        }
        answers.insert(speaker.clone(), mine);
    }
    if answers.len() < 2 {
        eprintln!("FSDD: fewer than two usable speakers: skipped");
        return None;
    }
    let mut single = Scores::default();
    let mut triple = Scores::default();
    for (speaker, mine) in &answers {
        for a in mine {
            for (other, enrollments) in &single_enroll {
                let target = if other == speaker {
                    &mut single.genuine
                } else {
                    &mut single.impostor
                };
                target.extend(enrollments.iter().map(|e| a.similarity(e)));
            }
            for (other, e) in &triple_enroll {
                let s = a.similarity(e);
                if other == speaker {
                    triple.genuine.push(s);
                } else {
                    triple.impostor.push(s);
                }
            }
        }
    }
    Some(FsddEval {
        single,
        triple,
        enrollments: single_enroll,
    })
}

fn fsdd_cached(test: &str) -> Option<&'static FsddEval> {
    static F: OnceLock<Option<FsddEval>> = OnceLock::new();
    let data = eval_data(test)?;
    F.get_or_init(|| fsdd_eval(&data)).as_ref()
}

/// Fit on FSDD: the default threshold must sit at or below the equal-error point (genuine
/// answers keep a margin) without letting other speakers through wholesale.
#[test]
fn fsdd_calibration_and_rates() {
    let Some(f) = fsdd_cached("fsdd_calibration_and_rates") else {
        return;
    };
    table_header("FSDD: 3-digit answers against enrollments from readings of 0–9");
    row("1 reading of 0–9", &f.single);
    row("mean of 3 readings", &f.triple);
    eprintln!("genuine,  1 reading: {}", describe(&f.single.genuine));
    eprintln!("impostor, 1 reading: {}", describe(&f.single.impostor));
    eprintln!("genuine,  3 readings: {}", describe(&f.triple.genuine));
    eprintln!("impostor, 3 readings: {}", describe(&f.triple.impostor));
    sweep(
        "FSDD",
        &[
            ("1 reading of 0–9", &f.single),
            ("mean of 3 readings", &f.triple),
        ],
    );

    let t = threshold();
    let (eer1, at1) = f.single.eer();
    let (eer3, _) = f.triple.eer();
    // The model separates these speakers: measured EER 2.1 % (one reading), 1.1 % (three).
    assert!(eer1 <= 0.05, "EER with one reading {eer1}");
    assert!(eer3 <= 0.04, "EER with three readings {eer3}");
    // The default is at or below the fitted equal-error threshold: genuine users keep the
    // margin (measured FRR 1.6 %, FAR 3.3 % with one reading; 0 % and 6.1 % with three) ...
    assert!(
        t <= at1 + 0.005,
        "default {t} above the FSDD EER threshold {at1}"
    );
    let frr = 1.0 - accept_rate(&f.single.genuine, t);
    let far = accept_rate(&f.single.impostor, t);
    assert!(frr <= 0.03, "FSDD FRR at the default {frr}");
    assert!(1.0 - accept_rate(&f.triple.genuine, t) <= 0.02);
    // ... without letting other speakers through as a rule.
    assert!(far <= 0.08, "FSDD FAR at the default {far}");
    assert!(accept_rate(&f.triple.impostor, t) <= 0.12);
}

// ------------------------------------------------------------------ GRID

struct Clip {
    path: PathBuf,
    speaker: String,
    audio: Vec<f32>,
    /// (start s, end s) of the digit word, from a `.align` file beside the clip.
    digit: Option<(f64, f64)>,
}

const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// `file` → `identity` of `manifest.tsv`.
fn identities(data: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(data.join("manifest.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, identity) = (col("file"), col("identity"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() > file.max(identity))
        .map(|f| (f[file].to_owned(), f[identity].to_owned()))
        .collect()
}

fn digit_timing(align: &Path) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(align).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() == 3 && DIGIT_WORDS.contains(&f[2])).then(|| {
            (
                f[0].parse::<f64>().unwrap() / 25_000.0,
                f[1].parse::<f64>().unwrap() / 25_000.0,
            )
        })
    })
}

fn mpg_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            mpg_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "mpg") {
            out.push(p);
        }
    }
}

fn grid_clips(test: &str) -> Option<&'static [Clip]> {
    static C: OnceLock<Option<Vec<Clip>>> = OnceLock::new();
    let data = eval_data(test)?;
    if !media::media_tools(test) {
        return None;
    }
    C.get_or_init(|| {
        let ids = identities(&data);
        let mut files = Vec::new();
        mpg_files(&data.join("video_talking"), &mut files);
        files.sort();
        let clips: Vec<Clip> = files
            .into_iter()
            .filter_map(|path| {
                let rel = path
                    .strip_prefix(&data)
                    .ok()?
                    .to_string_lossy()
                    .into_owned();
                let speaker = ids.get(&rel)?.clone();
                if !media::has_audio(&path) {
                    return None;
                }
                let audio = media::audio_16k(&path);
                let digit = digit_timing(&path.with_extension("align"));
                Some(Clip {
                    path,
                    speaker,
                    audio,
                    digit,
                })
            })
            .collect();
        (clips.len() >= 2).then_some(clips)
    })
    .as_deref()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The 4 kHz-band version of 16 kHz audio (16 → 8 → 16 kHz, as a narrow-band phone call).
fn narrow_band(audio: &[f32]) -> Vec<f32> {
    let low = resample_linear_or_better(audio, SR, 8_000).unwrap();
    let mut back = resample_linear_or_better(&low, 8_000, SR).unwrap();
    back.truncate(audio.len());
    back
}

/// Enroll the speakers with several clips from their first three (sorted by path), test
/// everything else against every enrollment: sentences, the digit word alone, narrow-band
/// copies of the enrolled speakers' own test clips, and FSDD voices.
#[test]
fn grid_speakers_at_the_default_threshold() {
    let test = "grid_speakers_at_the_default_threshold";
    let Some(clips) = grid_clips(test) else {
        return;
    };
    let enc = encoder();
    let mut by_speaker: BTreeMap<&str, Vec<&Clip>> = BTreeMap::new();
    for c in clips {
        by_speaker.entry(&c.speaker).or_default().push(c);
    }
    // Enroll from up to 3 clips of speakers with at least 4 (so that some remain to test);
    // every other speaker is enrolled from their first clip (impostor targets, and genuine
    // pairs where they have two).
    let mut enrolled: BTreeMap<&str, (SpeakerEmbedding, Vec<&Path>)> = BTreeMap::new();
    for (speaker, cs) in &by_speaker {
        let k = if cs.len() >= 4 { 3 } else { 1 };
        let embs: Vec<SpeakerEmbedding> = cs[..k]
            .iter()
            .map(|c| embed_recording(enc, &c.audio).unwrap())
            .collect();
        let paths = cs[..k].iter().map(|c| c.path.as_path()).collect();
        enrolled.insert(speaker, (SpeakerEmbedding::mean_of(&embs).unwrap(), paths));
    }
    let mut sentence = Scores::default();
    let mut word = Scores::default();
    let mut narrow = Scores::default();
    let mut lines = Vec::new();
    for c in clips {
        let own = &enrolled[c.speaker.as_str()];
        if own.1.contains(&c.path.as_path()) {
            continue; // used for enrollment
        }
        let e = embed_recording(enc, &c.audio).unwrap();
        let w = c.digit.and_then(|(a, b)| {
            let (a, b) = (
                (a * 16_000.0) as usize,
                ((b * 16_000.0) as usize).min(c.audio.len()),
            );
            short_encoder().embed(&c.audio[a..b]).ok()
        });
        let nb = embed_recording(enc, &narrow_band(&c.audio)).unwrap();
        for (speaker, (enrollment, _)) in &enrolled {
            let genuine = *speaker == c.speaker;
            let s = e.similarity(enrollment);
            let push = |scores: &mut Scores, s: f32| {
                if genuine {
                    scores.genuine.push(s)
                } else {
                    scores.impostor.push(s)
                }
            };
            push(&mut sentence, s);
            if let Some(w) = &w {
                push(&mut word, w.similarity(enrollment));
            }
            push(&mut narrow, nb.similarity(enrollment));
            if genuine {
                lines.push(format!(
                    "  {:28} {}: sentence {s:.3}, narrow-band {:.3}{}",
                    name(&c.path),
                    c.speaker,
                    nb.similarity(enrollment),
                    w.as_ref()
                        .map(|w| format!(", digit word {:.3}", w.similarity(enrollment)))
                        .unwrap_or_default()
                ));
            }
        }
    }
    // FSDD readings of 0–9 (8 kHz recordings) against the GRID enrollments: all impostors.
    let mut fsdd_vs_grid = Scores::default();
    if let Some(f) = fsdd_cached(test) {
        for readings in f.enrollments.values() {
            for r in readings {
                for (enrollment, _) in enrolled.values() {
                    fsdd_vs_grid.impostor.push(r.similarity(enrollment));
                }
            }
        }
    }

    eprintln!("\nGRID genuine trials (enrolled from {:?}):", {
        enrolled
            .iter()
            .map(|(s, (_, p))| format!("{s}: {}", p.len()))
            .collect::<Vec<_>>()
    });
    for l in &lines {
        eprintln!("{l}");
    }
    table_header("GRID: clips against enrollments of other clips (threshold fitted on FSDD)");
    row("sentence", &sentence);
    row("digit word alone (0.2 s minimum)", &word);
    row("sentence, narrow-band (control)", &narrow);
    row("FSDD readings vs GRID enrollments", &fsdd_vs_grid);
    eprintln!("genuine sentence:     {}", describe(&sentence.genuine));
    eprintln!("impostor sentence:    {}", describe(&sentence.impostor));
    eprintln!("genuine narrow-band:  {}", describe(&narrow.genuine));
    eprintln!("impostor narrow-band: {}", describe(&narrow.impostor));
    eprintln!("genuine digit word:   {}", describe(&word.genuine));
    eprintln!("impostor digit word:  {}", describe(&word.impostor));
    eprintln!("FSDD vs GRID:         {}", describe(&fsdd_vs_grid.impostor));
    sweep(
        "GRID",
        &[
            ("sentence", &sentence),
            ("digit word alone", &word),
            ("sentence, narrow-band (control)", &narrow),
            ("FSDD readings vs GRID enrollments", &fsdd_vs_grid),
        ],
    );

    // Measured: FRR 0 / 9, FAR 0 / 45 (genuine ≥ 0.77, impostors ≤ 0.68).
    let t = threshold();
    assert!(!sentence.genuine.is_empty() && !sentence.impostor.is_empty());
    let frr = 1.0 - accept_rate(&sentence.genuine, t);
    let far = accept_rate(&sentence.impostor, t);
    assert!(frr <= 0.15, "GRID FRR at the default threshold {frr}");
    assert!(far <= 0.05, "GRID FAR at the default threshold {far}");
    assert!(mean(&sentence.genuine) > mean(&sentence.impostor) + 0.15);
    // The channel control: a 4 kHz band costs the genuine speaker little (measured −0.05 on
    // average), far less than the gap to other speakers; so FSDD voices (8 kHz) scoring low
    // against GRID enrollments (measured ≤ 0.60) is about the speakers, not the channel.
    let channel_cost = mean(&sentence.genuine) - mean(&narrow.genuine);
    assert!(channel_cost < 0.1, "narrow band costs {channel_cost}");
    assert!(mean(&narrow.genuine) > mean(&narrow.impostor) + 0.15);
    assert!(accept_rate(&fsdd_vs_grid.impostor, t) <= 0.05);
    // One digit word is too little speech (the default min_speech refuses it): even genuine
    // words score below the threshold (measured 0.68–0.71).
    if !word.genuine.is_empty() {
        assert!(mean(&word.genuine) < mean(&sentence.genuine));
    }
}

// ------------------------------------------------------------------ TTS

fn espeak_available(test: &str) -> bool {
    let ok = Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: espeak-ng is required in CI (apt-get install -y espeak-ng)");
        }
        eprintln!("\n!!!!! {test}: espeak-ng not found: generated voices skipped !!!!!\n");
    }
    ok
}

/// espeak-ng saying `text` with `voice`, speed and pitch, as 16 kHz samples.
fn espeak(voice: &str, speed: u32, pitch: u32, text: &str) -> Vec<f32> {
    let path = std::env::temp_dir().join(format!(
        "lifecert-speaker-{}-{voice}-{speed}-{pitch}.wav",
        std::process::id()
    ));
    let status = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
            "-w",
        ])
        .arg(&path)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success(), "espeak-ng -v {voice} failed");
    let out = read_wav_16k(&path);
    std::fs::remove_file(&path).ok();
    out
}

#[test]
fn tts_voices_are_refused() {
    let test = "tts_voices_are_refused";
    let Some(data) = eval_data(test) else {
        return;
    };
    let enc = encoder();
    // TTS recordings: the shared synth sequences, the shared single digits joined into
    // answers, and voices generated now.
    let mut tts: Vec<(String, Vec<f32>)> = Vec::new();
    let synth = data.join("audio/synth");
    let mut digits: BTreeMap<String, Vec<Vec<f32>>> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(&synth) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        {
            let n = name(&p);
            let audio = read_wav_16k(&p);
            match n.split_once("_digit_") {
                Some((lang, _)) => digits.entry(lang.to_owned()).or_default().push(audio),
                None => tts.push((n, audio)),
            }
        }
    }
    for (lang, ds) in &digits {
        for k in 0..ds.len().saturating_sub(2) {
            let pieces: Vec<&[f32]> = ds[k..k + 3].iter().map(Vec::as_slice).collect();
            tts.push((
                format!("{lang} digits {k}..{}", k + 2),
                with_pauses(&pieces),
            ));
        }
    }
    if espeak_available(test) {
        for voice in [
            "cmn", "yue", "en-us", "cmn+f2", "yue+m3", "en-us+f4", "cmn+m7",
        ] {
            for (speed, pitch) in [(140, 50), (110, 30), (175, 70)] {
                for text in ["2, 5, 8", "7, 1, 4", "9, 0, 3"] {
                    tts.push((
                        format!("espeak {voice} s{speed} p{pitch} \"{text}\""),
                        espeak(voice, speed, pitch, text),
                    ));
                }
            }
        }
    }
    assert!(!tts.is_empty(), "no TTS audio");
    // Real enrollments: FSDD single readings and GRID clips (where available).
    let mut enrollments: Vec<(String, SpeakerEmbedding)> = Vec::new();
    if let Some(f) = fsdd_cached(test) {
        for (speaker, es) in &f.enrollments {
            enrollments.extend(es.iter().map(|e| (format!("FSDD {speaker}"), e.clone())));
        }
    }
    if let Some(clips) = grid_clips(test) {
        for c in clips {
            enrollments.push((
                format!("GRID {} {}", c.speaker, name(&c.path)),
                embed_recording(enc, &c.audio).unwrap(),
            ));
        }
    }
    assert!(!enrollments.is_empty(), "no real enrollments");
    let t = threshold();
    let mut all = Vec::new();
    let mut vs_fsdd = Scores::default();
    let mut vs_grid = Scores::default();
    let mut accepted = Vec::new();
    let mut refused_short = 0;
    for (label, audio) in &tts {
        let e = match embed_recording(enc, audio) {
            Ok(e) => e,
            Err(SpeakerError::TooLittleSpeech { .. }) => {
                refused_short += 1;
                continue;
            }
            Err(e) => panic!("{label}: {e}"),
        };
        let (best, who) = enrollments
            .iter()
            .map(|(w, en)| (e.similarity(en), w))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        for (who, en) in &enrollments {
            let s = e.similarity(en);
            all.push(s);
            if who.starts_with("FSDD") {
                vs_fsdd.impostor.push(s);
            } else {
                vs_grid.impostor.push(s);
            }
        }
        if best >= t {
            accepted.push(format!("{label}: {best:.3} vs {who}"));
        }
    }
    eprintln!(
        "\nTTS: {} recordings ({refused_short} refused as too short) × {} real enrollments; \
         threshold {t:.2}",
        tts.len(),
        enrollments.len()
    );
    eprintln!("TTS vs real: {}", describe(&all));
    sweep(
        "TTS (pairs of a TTS answer and a real enrollment)",
        &[
            ("TTS vs FSDD enrollments (8 kHz)", &vs_fsdd),
            ("TTS vs GRID enrollments (16 kHz)", &vs_grid),
        ],
    );
    eprintln!("accepted by at least one enrollment: {accepted:#?}");
    // Measured at 0.72: no TTS answer accepted against a 16 kHz enrollment; 2 of 3168 pairs
    // overall (a Cantonese digit concatenation against one FSDD speaker's 8 kHz enrollment).
    let far_grid = accept_rate(&vs_grid.impostor, t);
    let far_all = accept_rate(&all, t);
    assert!(
        far_grid <= 0.002,
        "TTS accepted against full-band enrollments: {far_grid}"
    );
    assert!(
        far_all <= 0.005,
        "TTS accepted against real enrollments: {far_all}"
    );
    assert!(mean(&all) < t - 0.1);
}
