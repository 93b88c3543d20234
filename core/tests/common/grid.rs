//! GRID talking clips for evaluations: discovering clips and speakers from the data folders and
//! `data/manifest.tsv`, word timings from `.align` files ([`super::discovery`], re-exported
//! here), decoding and analysing clips, splicing
//! multi-digit answers from a speaker's own digit words (video frames and audio together) and
//! dubbing them with another voice placed at given onsets.
//!
//! Nothing here depends on exact file names or counts: a sealed data set laid out the same way
//! (clips under `video_talking/`, one manifest row per file with the speaker in `identity` and
//! the transcript in the notes as `says: '…'`, optional `.align` files beside the clips) goes
//! through the same code.
//!
//! Time conventions: a clip's frame `k` is shown at `k / fps` and covers the audio
//! `k / fps .. (k + 1) / fps`; spliced answers keep that relation exactly (pieces are cut at
//! frame boundaries, video and audio together).

pub use super::discovery::*;
use super::media;
use lifecert_core::audio::mfcc::{Mfcc, MfccConfig};
use lifecert_core::face::mouth::mouth_aperture;
use lifecert_core::liveness::av_sync::MouthSample;
use lifecert_core::FaceObservation;
use std::path::Path;

/// Audio rate of everything here (Hz).
pub const SR: u32 = 16_000;

// ---------------------------------------------------------------------------------------------
// Decoding and analysis

/// A decoded and analysed clip.
#[derive(Debug, Clone)]
pub struct AnalysedClip {
    /// What was found in the data.
    pub clip: GridClip,
    /// 16 kHz mono audio.
    pub audio: Vec<f32>,
    /// Every face of every frame (frame `k` at `k / fps`).
    pub faces: Vec<Vec<FaceObservation>>,
    /// Frame rate.
    pub fps: f64,
    /// The first frame (for still-photo and hand-held-photo cases).
    pub first: image::RgbImage,
}

/// Mouth aperture of the first face of each frame with a usable face, frame `k` at
/// `offset_s + k / fps`.
pub fn mouth_samples(faces: &[Vec<FaceObservation>], fps: f64, offset_s: f64) -> Vec<MouthSample> {
    faces
        .iter()
        .enumerate()
        .filter_map(|(k, f)| {
            let a = mouth_aperture(&f.first()?.landmarks).ok()?;
            Some(MouthSample {
                t_s: offset_s + k as f64 / fps,
                aperture: a,
            })
        })
        .collect()
}

impl AnalysedClip {
    /// The mouth aperture track (frame `k` at `k / fps`).
    pub fn mouth(&self) -> Vec<MouthSample> {
        mouth_samples(&self.faces, self.fps, 0.0)
    }

    /// Audio samples per video frame.
    pub fn samples_per_frame(&self) -> f64 {
        f64::from(SR) / self.fps
    }
}

/// Decodes `clip` (16 kHz mono audio, every frame analysed by `analyzer`). `None` when the
/// clip has no audio track (said loudly).
pub fn analyse(clip: &GridClip, analyzer: &lifecert_core::Analyzer) -> Option<AnalysedClip> {
    if !media::has_audio(&clip.path) {
        eprintln!("{}: no audio track, not used", clip.path.display());
        return None;
    }
    let audio = media::audio_16k(&clip.path);
    let mut faces = Vec::new();
    let mut first = None;
    let (_, info) = media::for_each_frame(&clip.path, |k, image| {
        faces.push(analyzer.analyze_image(&image).unwrap());
        if k == 0 {
            first = Some(image);
        }
    });
    Some(AnalysedClip {
        clip: clip.clone(),
        audio,
        faces,
        fps: info.fps,
        first: first.unwrap_or_else(|| panic!("{}: no frames", clip.path.display())),
    })
}

/// Analyses `clips` on two workers (the analyzer is `Sync`), keeping their order.
pub fn analyse_all(clips: &[GridClip], analyzer: &lifecert_core::Analyzer) -> Vec<AnalysedClip> {
    super::par_map(clips, |c| analyse(c, analyzer))
        .into_iter()
        .flatten()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Splicing answers from word timings

/// How spliced answers are laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct SpliceConfig {
    /// Rest before the first digit (s).
    pub lead_in_s: f64,
    /// Rest after the last digit (s).
    pub tail_s: f64,
    /// Pauses between digits (s), used in turn (e.g. `[0.3, 0.45, 0.35]`).
    pub pauses_s: Vec<f64>,
    /// Context kept around each word (s): GRID words run into their neighbours, a little
    /// context keeps the mouth's approach and release.
    pub word_margin_s: f64,
    /// Rest is taken from the source clip's leading silence, ending this long before its first
    /// word (s), so the mouth is closed and still.
    pub rest_guard_s: f64,
}

impl Default for SpliceConfig {
    fn default() -> Self {
        Self {
            lead_in_s: 0.6,
            tail_s: 0.8,
            pauses_s: vec![0.32, 0.44, 0.28, 0.38],
            word_margin_s: 0.04,
            rest_guard_s: 0.12,
        }
    }
}

/// One source frame: frame `index` of the clip named `clip` (its file stem).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameRef {
    /// The clip's name ([`GridClip::name`]).
    pub clip: String,
    /// The frame's index in the clip.
    pub index: usize,
}

/// A spliced answer: frames and audio on one clock from 0, and where each digit is.
#[derive(Debug, Clone)]
pub struct Spliced {
    /// Faces per frame (frame `k` at `k / fps`).
    pub faces: Vec<Vec<FaceObservation>>,
    /// Where each frame came from (for callers that need the pictures, not only the faces).
    pub frames: Vec<FrameRef>,
    /// The speaker's own audio (16 kHz), aligned with the frames.
    pub audio: Vec<f32>,
    /// Room tone only: the audio of the rest frames everywhere (the background a dub is
    /// placed over), same length as `audio`.
    pub room: Vec<f32>,
    /// Frame rate.
    pub fps: f64,
    /// The digits said.
    pub digits: Vec<u8>,
    /// Each digit word's speech (start, end) in seconds on the answer's clock (the alignment's
    /// word boundaries, without the context margin).
    pub spans: Vec<(f64, f64)>,
    /// RMS of each digit word's own audio over its span (for level-matching a dub).
    pub word_rms: Vec<f32>,
    /// Where each digit came from (clip name).
    pub sources: Vec<String>,
}

impl Spliced {
    /// The mouth aperture track.
    pub fn mouth(&self) -> Vec<MouthSample> {
        mouth_samples(&self.faces, self.fps, 0.0)
    }

    /// Duration (s).
    pub fn duration_s(&self) -> f64 {
        self.faces.len() as f64 / self.fps
    }
}

/// Root-mean-square of `x` (0 for an empty slice).
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt() as f32
}

/// The frames of `clip`'s leading silence usable as rest (mouth closed, before speech).
pub fn rest_frames(clip: &AnalysedClip, cfg: &SpliceConfig) -> std::ops::Range<usize> {
    let speech = clip.clip.speech_span().map_or(0.5, |s| s.0);
    let end = ((speech - cfg.rest_guard_s) * clip.fps).floor().max(1.0) as usize;
    // Skip the first 2 frames (encoder start-up) when there are enough.
    let start = if end > 6 { 2 } else { 0 };
    start..end.min(clip.faces.len())
}

/// The audio under frames `frames` of `clip` (zeros past its end).
pub fn audio_of_frames(clip: &AnalysedClip, frames: std::ops::Range<usize>) -> Vec<f32> {
    let spf = clip.samples_per_frame();
    let a = (frames.start as f64 * spf).round() as usize;
    let b = (frames.end as f64 * spf).round() as usize;
    let mut out: Vec<f32> = clip.audio[a.min(clip.audio.len())..b.min(clip.audio.len())].to_vec();
    out.resize(b - a, 0.0);
    out
}

/// Frame `i` of `range` played forwards and backwards as often as needed (a resting face
/// that never jumps).
pub fn ping_pong(range: std::ops::Range<usize>, i: usize) -> usize {
    let len = range.len().max(1);
    let (cycle, j) = (i / len, i % len);
    range.start
        + if cycle.is_multiple_of(2) {
            j
        } else {
            len - 1 - j
        }
}

/// Appends `n` rest frames of `clip` (played forwards and backwards as often as needed) to
/// `faces` and `refs`, with their audio.
fn push_rest(
    clip: &AnalysedClip,
    range: std::ops::Range<usize>,
    n: usize,
    faces: &mut Vec<Vec<FaceObservation>>,
    refs: &mut Vec<FrameRef>,
    audio: &mut Vec<f32>,
) {
    for i in 0..n {
        let k = ping_pong(range.clone(), i);
        faces.push(clip.faces[k].clone());
        refs.push(FrameRef {
            clip: clip.clip.name.clone(),
            index: k,
        });
        audio.extend(audio_of_frames(clip, k..k + 1));
    }
}

/// Short linear cross-fade at a cut (`at` = sample index in `audio` where the new piece
/// starts): fades the last `n` samples out and the next `n` in, against each other.
fn soften_cut(audio: &mut [f32], at: usize, n: usize) {
    for i in 0..n {
        let g = (i as f32 + 0.5) / n as f32;
        if at >= n && at - n + i < audio.len() {
            audio[at - n + i] *= 1.0 - g * 0.5;
        }
        if at + i < audio.len() {
            audio[at + i] *= 0.5 + 0.5 * g;
        }
    }
}

/// Splices an answer from digit words: `words[i]` = (clip, aligned word) says digit `i`.
/// Lead-in rest, then each word (with `word_margin_s` of context, cut at frame boundaries,
/// frames and audio together), pauses of rest between, tail rest. Rest frames and room tone
/// come from the first word's clip.
pub fn splice(words: &[(&AnalysedClip, &Word)], cfg: &SpliceConfig) -> Spliced {
    assert!(!words.is_empty(), "nothing to splice");
    let rest_clip = words[0].0;
    let fps = rest_clip.fps;
    let rest = rest_frames(rest_clip, cfg);
    assert!(!rest.is_empty(), "{}: no rest frames", rest_clip.clip.name);
    let frames_of = |s: f64| (s * fps).round() as usize;
    let (mut faces, mut refs, mut audio, mut room) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut spans = Vec::new();
    let mut word_rms = Vec::new();
    let mut digits = Vec::new();
    let mut sources = Vec::new();
    let push_rest_both = |n: usize,
                          faces: &mut Vec<Vec<FaceObservation>>,
                          refs: &mut Vec<FrameRef>,
                          audio: &mut Vec<f32>,
                          room: &mut Vec<f32>| {
        let before = audio.len();
        push_rest(rest_clip, rest.clone(), n, faces, refs, audio);
        room.extend_from_slice(&audio[before..]);
    };
    let mut cuts = Vec::new();
    push_rest_both(
        frames_of(cfg.lead_in_s),
        &mut faces,
        &mut refs,
        &mut audio,
        &mut room,
    );
    for (i, (clip, w)) in words.iter().enumerate() {
        assert!(
            (clip.fps - fps).abs() < 1e-6,
            "{}: frame rate {} vs {fps}",
            clip.clip.name,
            clip.fps
        );
        if i > 0 {
            let p = cfg.pauses_s[(i - 1) % cfg.pauses_s.len().max(1)];
            cuts.push(audio.len());
            push_rest_both(frames_of(p), &mut faces, &mut refs, &mut audio, &mut room);
        }
        let f0 = ((w.start_s - cfg.word_margin_s) * fps).floor().max(0.0) as usize;
        let f1 = (((w.end_s + cfg.word_margin_s) * fps).ceil() as usize).min(clip.faces.len());
        let out_t0 = faces.len() as f64 / fps;
        cuts.push(audio.len());
        faces.extend(clip.faces[f0..f1].iter().cloned());
        refs.extend((f0..f1).map(|index| FrameRef {
            clip: clip.clip.name.clone(),
            index,
        }));
        audio.extend(audio_of_frames(clip, f0..f1));
        // Room tone under the word: rest audio, as long as the word piece.
        let mut tone = Vec::new();
        let (mut scratch, mut scratch_refs) = (Vec::new(), Vec::new());
        push_rest(
            rest_clip,
            rest.clone(),
            f1 - f0,
            &mut scratch,
            &mut scratch_refs,
            &mut tone,
        );
        room.extend(tone);
        let shift = out_t0 - f0 as f64 / fps;
        spans.push((w.start_s + shift, w.end_s + shift));
        let sr = f64::from(SR);
        word_rms.push(rms(
            &clip.audio[((w.start_s * sr) as usize).min(clip.audio.len())
                ..((w.end_s * sr) as usize).min(clip.audio.len())],
        ));
        digits.push(digit_of(&w.word).unwrap_or(u8::MAX));
        sources.push(clip.clip.name.clone());
    }
    cuts.push(audio.len());
    push_rest_both(
        frames_of(cfg.tail_s),
        &mut faces,
        &mut refs,
        &mut audio,
        &mut room,
    );
    // 5 ms cross-fades where pieces meet (no clicks).
    for at in cuts {
        soften_cut(&mut audio, at, 80);
    }
    Spliced {
        faces,
        frames: refs,
        audio,
        room,
        fps,
        digits,
        spans,
        word_rms,
        sources,
    }
}

// ---------------------------------------------------------------------------------------------
// Other voices

/// Places voices over `base` (16 kHz): each `(onset_s, voice, gain)` adds `gain · voice`
/// starting at `onset_s` (cut at the end of `base`).
pub fn place_voices(base: &[f32], voices: &[(f64, &[f32], f32)]) -> Vec<f32> {
    let mut out = base.to_vec();
    for (onset, v, g) in voices {
        let start = (onset.max(0.0) * f64::from(SR)).round() as usize;
        for (i, x) in v.iter().enumerate() {
            if let Some(o) = out.get_mut(start + i) {
                *o += g * x;
            }
        }
    }
    out
}

/// A dubbed answer: `answer`'s frames with `voices[i]` (16 kHz, trimmed to the word) placed
/// where digit `i` starts, over the answer's room tone, each scaled to the RMS of the word it
/// replaces.
pub fn dub(answer: &Spliced, voices: &[&[f32]]) -> Vec<f32> {
    assert_eq!(voices.len(), answer.spans.len(), "one voice per digit");
    let placed: Vec<(f64, &[f32], f32)> = answer
        .spans
        .iter()
        .zip(voices)
        .zip(&answer.word_rms)
        .map(|((span, v), target)| {
            let level = active_rms(v);
            let gain = if level > 0.0 { target / level } else { 1.0 };
            (span.0, *v, gain)
        })
        .collect();
    place_voices(&answer.room, &placed)
}

/// RMS over the 10 ms frames of `x` within 30 dB of its loudest one (the voiced part).
pub fn active_rms(x: &[f32]) -> f32 {
    let frames: Vec<f32> = x.chunks(160).map(rms).collect();
    let peak = frames.iter().copied().fold(0.0f32, f32::max);
    if peak <= 0.0 {
        return 0.0;
    }
    let keep: Vec<f32> = frames
        .into_iter()
        .filter(|r| *r >= peak * 10f32.powf(-30.0 / 20.0))
        .collect();
    (keep.iter().map(|r| r * r).sum::<f32>() / keep.len() as f32).sqrt()
}

/// `x` without leading and trailing 10 ms frames quieter than `below_db` under its loudest
/// frame (e.g. 35).
pub fn trim_silence(x: &[f32], below_db: f32) -> Vec<f32> {
    let frames: Vec<f32> = x.chunks(160).map(rms).collect();
    let peak = frames.iter().copied().fold(0.0f32, f32::max);
    let floor = peak * 10f32.powf(-below_db / 20.0);
    let (Some(a), Some(b)) = (
        frames.iter().position(|r| *r > floor),
        frames.iter().rposition(|r| *r > floor),
    ) else {
        return Vec::new();
    };
    x[a * 160..((b + 1) * 160).min(x.len())].to_vec()
}

/// 16-bit mono WAV as f32 at 16 kHz (resampled when needed).
pub fn read_wav_16k(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(spec.channels, 1, "{}", path.display());
    assert_eq!(spec.bits_per_sample, 16, "{}", path.display());
    let x: Vec<f32> = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    lifecert_core::audio::resample::resample_linear_or_better(&x, spec.sample_rate, SR).unwrap()
}

/// One recorded digit of another voice.
#[derive(Debug, Clone)]
pub struct VoiceDigit {
    /// Who speaks (e.g. `fsdd:theo`, `espeak:cmn`, `grid:grid_spk_C`).
    pub voice: String,
    /// The digit.
    pub digit: u8,
    /// 16 kHz samples, trimmed to the word.
    pub audio: Vec<f32>,
    /// Where it came from.
    pub source: String,
}

/// FSDD recordings (`audio/fsdd/{digit}_{speaker}_{take}.wav`, any speakers), takes
/// `takes`, trimmed to the word and at 16 kHz.
pub fn fsdd_digits(data: &Path, takes: std::ops::Range<u32>) -> Vec<VoiceDigit> {
    let mut files = Vec::new();
    files_under(&data.join("audio/fsdd"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| ext_of(p) == "wav")
        .filter_map(|p| {
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            let mut f = stem.splitn(3, '_');
            let d: u8 = f.next()?.parse().ok().filter(|d| *d < 10)?;
            let spk = f.next()?.to_owned();
            let take: u32 = f.next()?.parse().ok()?;
            takes.contains(&take).then(|| VoiceDigit {
                voice: format!("fsdd:{spk}"),
                digit: d,
                audio: trim_silence(&read_wav_16k(&p), 35.0),
                source: stem,
            })
        })
        .collect()
}

/// The espeak-ng single digits (`audio/synth/{lang}_digit_{d}.wav`), trimmed.
pub fn espeak_digits(data: &Path) -> Vec<VoiceDigit> {
    let mut files = Vec::new();
    files_under(&data.join("audio/synth"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| ext_of(p) == "wav")
        .filter_map(|p| {
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            let (lang, d) = stem.split_once("_digit_")?;
            let d: u8 = d.parse().ok().filter(|d| *d < 10)?;
            Some(VoiceDigit {
                voice: format!("espeak:{lang}"),
                digit: d,
                audio: trim_silence(&read_wav_16k(&p), 35.0),
                source: stem,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Locating a word in an unaligned clip

/// MFCC frames (10 ms) of `audio`, cepstral-mean normalised.
fn mfcc_frames(audio: &[f32]) -> Vec<Vec<f32>> {
    let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
    let mut m = mfcc.compute(audio).unwrap();
    lifecert_core::audio::mfcc::cepstral_mean_normalise(&mut m);
    m.rows().map(|r| r.to_vec()).collect()
}

/// How the 10 ms MFCC frames of a reference sentence map onto another clip's: for each
/// reference frame, the first and last target frames the dynamic-time-warping path pairs it
/// with.
struct Warp {
    first: Vec<usize>,
    last: Vec<usize>,
}

impl Warp {
    /// Dynamic time warping of the two whole sentences' MFCCs (steps (1,0), (0,1), (1,1)).
    fn between(target: &AnalysedClip, reference: &AnalysedClip) -> Self {
        let a = mfcc_frames(&reference.audio);
        let b = mfcc_frames(&target.audio);
        let (n, m) = (a.len(), b.len());
        assert!(n > 0 && m > 0, "empty audio");
        let dist = |i: usize, j: usize| -> f32 {
            a[i].iter()
                .zip(&b[j])
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt()
        };
        let mut cost = vec![f32::INFINITY; n * m];
        for i in 0..n {
            for j in 0..m {
                let d = dist(i, j);
                let best = if i == 0 && j == 0 {
                    0.0
                } else {
                    let mut b = f32::INFINITY;
                    if i > 0 {
                        b = b.min(cost[(i - 1) * m + j]);
                    }
                    if j > 0 {
                        b = b.min(cost[i * m + j - 1]);
                    }
                    if i > 0 && j > 0 {
                        b = b.min(cost[(i - 1) * m + j - 1]);
                    }
                    b
                };
                cost[i * m + j] = d + best;
            }
        }
        // Backtrack: for each reference frame, the target frames matched.
        let mut first = vec![usize::MAX; n];
        let mut last = vec![0usize; n];
        let (mut i, mut j) = (n - 1, m - 1);
        loop {
            first[i] = first[i].min(j);
            last[i] = last[i].max(j);
            if i == 0 && j == 0 {
                break;
            }
            let candidates = [
                (i > 0 && j > 0).then(|| (cost[(i - 1) * m + j - 1], i - 1, j - 1)),
                (i > 0).then(|| (cost[(i - 1) * m + j], i - 1, j)),
                (j > 0).then(|| (cost[i * m + j - 1], i, j - 1)),
            ];
            let (_, ni, nj) = candidates
                .into_iter()
                .flatten()
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap();
            i = ni;
            j = nj;
        }
        Self { first, last }
    }

    /// The reference's `word` mapped onto the target (the reference's label kept).
    fn map(&self, word: &Word) -> Word {
        let hop = 0.01;
        let n = self.first.len();
        let fi = |t: f64| ((t / hop).round() as usize).min(n - 1);
        let start = self.first[fi(word.start_s)] as f64 * hop;
        Word {
            start_s: start,
            end_s: (self.last[fi(word.end_s)] as f64 * hop).max(start + hop),
            word: word.word.clone(),
        }
    }
}

/// Where `reference`'s aligned word `word` falls in `target` (same sentence grammar, another
/// clip, possibly another speaker): dynamic time warping of the two whole sentences' MFCCs,
/// the word's boundaries mapped through the warping path. The returned word has the
/// reference's label.
pub fn locate_word(target: &AnalysedClip, reference: &AnalysedClip, word: &Word) -> Word {
    Warp::between(target, reference).map(word)
}

/// Each word of `target`'s transcript located from the aligned `references` (see
/// [`locate_words`]); `None` for a word no reference places.
fn locate_slots(target: &AnalysedClip, references: &[&AnalysedClip]) -> Vec<Option<Word>> {
    let k = target.clip.words.len();
    let mut starts = vec![Vec::new(); k];
    let mut ends = vec![Vec::new(); k];
    for r in references {
        let spoken = r.clip.spoken();
        if r.clip.name == target.clip.name || spoken.len() != k {
            continue;
        }
        let warp = Warp::between(target, r);
        for (slot, w) in spoken.iter().enumerate() {
            let w = warp.map(w);
            starts[slot].push(w.start_s);
            ends[slot].push(w.end_s);
        }
    }
    let median = |x: &mut Vec<f64>| {
        x.sort_by(f64::total_cmp);
        x.get(x.len() / 2).copied()
    };
    target
        .clip
        .words
        .iter()
        .enumerate()
        .map(|(slot, label)| {
            let (s, e) = (median(&mut starts[slot])?, median(&mut ends[slot])?);
            (e > s).then(|| Word {
                start_s: s,
                end_s: e,
                word: label.clone(),
            })
        })
        .collect()
}

/// The spoken words of `target` with their timings: its own alignment when it has one, else
/// for each word of its transcript the median over every aligned reference clip with the same
/// number of spoken words (GRID's fixed grammar) of the reference's word in the same position
/// mapped by [`locate_word`]. `None` when a word cannot be placed.
pub fn locate_words(target: &AnalysedClip, references: &[&AnalysedClip]) -> Option<Vec<Word>> {
    if target.clip.align.is_some() {
        return Some(target.clip.spoken());
    }
    locate_slots(target, references).into_iter().collect()
}

/// Where the target clip's digit is said: its own alignment when it has one, else the digit's
/// slot located as in [`locate_words`]. `None` when the target says no digit or no reference
/// fits.
pub fn locate_digit(target: &AnalysedClip, references: &[&AnalysedClip]) -> Option<(u8, Word)> {
    if let Some(w) = target.clip.digit_words().into_iter().next() {
        return Some(w);
    }
    let slot = target
        .clip
        .words
        .iter()
        .position(|w| digit_of(w).is_some())?;
    let digit = digit_of(&target.clip.words[slot])?;
    let w = locate_slots(target, references).into_iter().nth(slot)??;
    Some((digit, w))
}

/// `img` zoomed by `scale` and turned by `angle` (radians) about its centre, then shifted by
/// (`dx`, `dy`) pixels; bilinear, edges repeated.
pub fn moved(img: &image::RgbImage, dx: f32, dy: f32, scale: f32, angle: f32) -> image::RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = angle.sin_cos();
    let px = |x: i64, y: i64| {
        img.get_pixel(
            x.clamp(0, w as i64 - 1) as u32,
            y.clamp(0, h as i64 - 1) as u32,
        )
    };
    image::RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 - cx - dx, y as f32 - cy - dy);
        let sx = (cos * u + sin * v) / scale + cx;
        let sy = (-sin * u + cos * v) / scale + cy;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut out = [0u8; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let v = f32::from(px(x0, y0)[c]) * (1.0 - fx) * (1.0 - fy)
                + f32::from(px(x0 + 1, y0)[c]) * fx * (1.0 - fy)
                + f32::from(px(x0, y0 + 1)[c]) * (1.0 - fx) * fy
                + f32::from(px(x0 + 1, y0 + 1)[c]) * fx * fy;
            *o = v.round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(out)
    })
}

/// A photo held in a hand: `img` moved slightly for frame `k` (shift ±2 px, zoom ±2 %,
/// tilt ±1°, on incommensurate periods).
pub fn hand_held(img: &image::RgbImage, k: usize) -> image::RgbImage {
    let f = k as f32;
    moved(
        img,
        2.0 * (0.7 * f).sin(),
        1.5 * (0.45 * f + 1.0).cos(),
        1.0 + 0.02 * (0.3 * f).sin(),
        1.0f32.to_radians() * (0.21 * f).sin(),
    )
}
