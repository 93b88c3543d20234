//! Finding GRID talking clips in a data folder: the clips and their speakers from the folders
//! and `data/manifest.tsv`, transcripts from the manifest notes, word timings from `.align`
//! files. No media decoding and no test-only crates, so the end-to-end tests of the CLI
//! (`tests/`) include this file too.
//!
//! Nothing here depends on exact file names or counts: a sealed data set laid out the same way
//! (clips under `video_talking/`, one manifest row per file with the speaker in `identity` and
//! the transcript in the notes as `says: '…'`, optional `.align` files beside the clips) goes
//! through the same code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// English digit words as GRID (and FSDD, espeak `en`) say them.
pub const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// The digit a word names ("zero" … "nine"), if any.
pub fn digit_of(word: &str) -> Option<u8> {
    DIGIT_WORDS
        .iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .map(|d| d as u8)
}

// ---------------------------------------------------------------------------------------------
// Manifest and discovery

/// One row of `manifest.tsv` (the columns the evaluations use).
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRow {
    /// Path relative to the data directory.
    pub path: String,
    /// Person (or source) label.
    pub identity: String,
    /// Free-text notes.
    pub notes: String,
}

/// The rows of `data/manifest.tsv`, keyed by path (empty when the file is missing).
pub fn manifest(data: &Path) -> BTreeMap<String, ManifestRow> {
    let Ok(text) = std::fs::read_to_string(data.join("manifest.tsv")) else {
        eprintln!("{}: no manifest.tsv", data.display());
        return BTreeMap::new();
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(p), Some(i), Some(n)) = (col("file"), col("identity"), col("notes")) else {
        panic!("manifest.tsv lacks a file, identity or notes column: {header:?}");
    };
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |k: usize| f.get(k).copied().unwrap_or("").trim().to_owned();
            ManifestRow {
                path: get(p),
                identity: get(i),
                notes: get(n),
            }
        })
        .map(|r| (r.path.clone(), r))
        .collect()
}

/// The words of the transcript in manifest notes (`says: 'bin blue at f two now'`).
pub fn transcript_in(notes: &str) -> Option<Vec<String>> {
    let rest = &notes[notes.find("says:")? + "says:".len()..];
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    let words: Vec<String> = body[..end]
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    (!words.is_empty()).then_some(words)
}

/// One word of a `.align` file (times in seconds from the clip start).
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// The word (`sil` for silence, `sp` for a short pause).
    pub word: String,
}

impl Word {
    /// Whether this is a silence or pause marker.
    pub fn is_silence(&self) -> bool {
        matches!(self.word.as_str(), "sil" | "sp")
    }

    /// Duration (s).
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// Word timings of a GRID `.align` file ("start end word" per line, units of 1/25000 s).
pub fn read_align(path: &Path) -> Vec<Word> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "{}: bad line {l:?}", path.display());
            let t = |s: &str| {
                s.parse::<f64>()
                    .unwrap_or_else(|e| panic!("{}: {l:?}: {e}", path.display()))
                    / 25_000.0
            };
            Word {
                start_s: t(f[0]),
                end_s: t(f[1]),
                word: f[2].to_ascii_lowercase(),
            }
        })
        .collect()
}

/// One GRID clip found in the data (not decoded yet).
#[derive(Debug, Clone, PartialEq)]
pub struct GridClip {
    /// The video file.
    pub path: PathBuf,
    /// File stem.
    pub name: String,
    /// The speaker (manifest `identity`).
    pub speaker: String,
    /// The transcript (manifest notes, else the alignment's words).
    pub words: Vec<String>,
    /// Word timings, when an `.align` file agreeing with the transcript was found.
    pub align: Option<Vec<Word>>,
}

impl GridClip {
    /// The digits said, in order.
    pub fn digits(&self) -> Vec<u8> {
        self.words.iter().filter_map(|w| digit_of(w)).collect()
    }

    /// The aligned digit words: (digit, timing).
    pub fn digit_words(&self) -> Vec<(u8, Word)> {
        self.align
            .iter()
            .flatten()
            .filter_map(|w| digit_of(&w.word).map(|d| (d, w.clone())))
            .collect()
    }

    /// The spoken words of the alignment (silences left out).
    pub fn spoken(&self) -> Vec<Word> {
        self.align
            .iter()
            .flatten()
            .filter(|w| !w.is_silence())
            .cloned()
            .collect()
    }

    /// When speech starts and ends (s), from the alignment.
    pub fn speech_span(&self) -> Option<(f64, f64)> {
        let s = self.spoken();
        Some((s.first()?.start_s, s.last()?.end_s))
    }
}

/// Every file under `dir` (any depth), unsorted.
pub fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The lower-case extension of `p` (empty when none).
pub fn ext_of(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `p` relative to `data`, with forward slashes.
pub fn rel(data: &Path, p: &Path) -> String {
    p.strip_prefix(data)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The GRID clips under `data/video_talking` (any depth): video files whose manifest identity
/// or file name says GRID, with their speaker, transcript and (where an `.align` file beside
/// them or anywhere in the folder agrees with the transcript) word timings. Sorted by path.
/// Clips without a speaker or transcript are left out, loudly.
pub fn discover(data: &Path) -> Vec<GridClip> {
    let rows = manifest(data);
    let mut files = Vec::new();
    files_under(&data.join("video_talking"), &mut files);
    files.sort();
    let aligns: Vec<(PathBuf, Vec<Word>)> = files
        .iter()
        .filter(|p| ext_of(p) == "align")
        .map(|p| (p.clone(), read_align(p)))
        .collect();
    let mut out = Vec::new();
    for p in files
        .iter()
        .filter(|p| matches!(ext_of(p).as_str(), "mpg" | "mpeg" | "mp4" | "avi" | "mov"))
    {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let row = rows.get(&rel(data, p));
        let grid = row.is_some_and(|r| r.identity.to_ascii_lowercase().starts_with("grid"))
            || name.to_ascii_lowercase().starts_with("grid");
        if !grid {
            continue;
        }
        let Some(row) = row.filter(|r| !r.identity.is_empty()) else {
            eprintln!("{}: no manifest identity, not used", p.display());
            continue;
        };
        let file_name = p.file_name().unwrap().to_string_lossy().into_owned();
        // Candidate alignments: same stem, a stem (minus "grid_") the clip's name ends with,
        // or an alignment whose manifest notes name the clip.
        let candidates = aligns.iter().filter(|(a, _)| {
            let stem = a.file_stem().unwrap().to_string_lossy();
            let short = stem.strip_prefix("grid_").unwrap_or(&stem);
            stem == name
                || (short.len() >= 4 && name.ends_with(short))
                || rows
                    .get(&rel(data, a))
                    .is_some_and(|r| r.notes.contains(&file_name))
        });
        let transcript = transcript_in(&row.notes);
        let mut align = None;
        for (a, words) in candidates {
            let said: Vec<String> = words
                .iter()
                .filter(|w| !w.is_silence())
                .map(|w| w.word.clone())
                .collect();
            if transcript.as_ref().is_none_or(|t| *t == said) {
                align = Some(words.clone());
                break;
            }
            eprintln!(
                "{}: alignment {} says {said:?}, transcript {transcript:?}: not used",
                p.display(),
                a.display()
            );
        }
        let words = match (transcript, &align) {
            (Some(t), _) => t,
            (None, Some(a)) => a
                .iter()
                .filter(|w| !w.is_silence())
                .map(|w| w.word.clone())
                .collect(),
            (None, None) => {
                eprintln!("{}: no transcript, not used", p.display());
                continue;
            }
        };
        out.push(GridClip {
            path: p.clone(),
            name,
            speaker: row.identity.clone(),
            words,
            align,
        });
    }
    out
}
