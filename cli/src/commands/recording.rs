//! What `enroll` and `certify` share: loading the engine and keys, turning the command's
//! inputs (a video, a still photo, photos, a separate audio track) into frames and audio,
//! printing what the phone would say, and writing the report.

use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_cli::keys::{default_path, Keys};
use lifecert_cli::media::{self, MediaError, VideoFrame};
use lifecert_cli::replay::{ReplayError, ReplayEvent, Timeline};
use lifecert_cli::report::{Report, Verdict};
use lifecert_core::api::session::UtteranceKind;
use lifecert_core::audio::segments::rms_envelope;
use lifecert_core::text::messages::Language;
use lifecert_core::{Config, Engine, ModelSource};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Exit code of `enroll` and `certify` when the session did not pass (not enrolled, not
/// certified).
pub const EXIT_NOT_PASSED: u8 = 1;

/// Frame rate at which still photos are shown to a session.
pub const STILL_FPS: f64 = 25.0;

/// The engine for replaying recordings (no positioning gate; see
/// `lifecert_core::Config::for_recordings`).
pub fn engine(
    source: &ModelSource,
    pad_models: Option<&Path>,
) -> Result<Arc<Engine>, CommandError> {
    let engine = Engine::with_models(Config::for_recordings(), source)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot load models: {e}")))?;
    let engine = match pad_models {
        Some(dir) => engine.with_passive_anti_spoof(dir).map_err(|e| {
            (
                EXIT_BAD_INPUT,
                format!("anti-spoofing models in {}: {e}", dir.display()),
            )
        })?,
        None => engine,
    };
    Ok(Arc::new(engine))
}

fn key_path(path: Option<&Path>) -> Result<PathBuf, CommandError> {
    match path {
        Some(p) => Ok(p.to_path_buf()),
        None => default_path().map_err(|e| (EXIT_BAD_INPUT, e.to_string())),
    }
}

/// For `enroll`, the only command that may create keys: opens the key file (`--keys`, else
/// the default path), creating it on first use with a notice on stderr.
pub fn keys_for_enrollment(path: Option<&Path>) -> Result<Keys, CommandError> {
    let path = key_path(path)?;
    let opened = Keys::open_or_create(&path).map_err(|e| (EXIT_BAD_INPUT, e.to_string()))?;
    if opened.created {
        eprintln!("lifecert: {}", opened.keys.creation_notice());
    }
    Ok(opened.keys)
}

/// For every command but `enroll`: opens the existing key file (`--keys`, else the default
/// path). A missing file is bad input (exit 2), never a reason to make new keys: a mistyped
/// `--keys` path would otherwise certify with keys no template was sealed for.
pub fn existing_keys(path: Option<&Path>) -> Result<Keys, CommandError> {
    let path = key_path(path)?;
    if !path.exists() {
        return Err((
            EXIT_BAD_INPUT,
            format!(
                "no key file at {}: keys are created by `lifecert enroll`; check --keys",
                path.display()
            ),
        ));
    }
    Keys::open(&path).map_err(|e| (EXIT_BAD_INPUT, e.to_string()))
}

/// Frames from a recording or a still photo, with the recording's length.
pub struct Input {
    /// The frames.
    pub frames: Box<dyn Iterator<Item = Result<VideoFrame, MediaError>>>,
    /// 16 kHz mono audio starting with the first frame (empty without sound).
    pub audio: Vec<i16>,
    /// Length, when known.
    pub total: Option<Duration>,
}

fn media_error(e: MediaError) -> CommandError {
    let code = match e {
        MediaError::ToolMissing { .. } | MediaError::Decode { .. } => EXIT_INTERNAL,
        _ => EXIT_BAD_INPUT,
    };
    (code, e.to_string())
}

/// The frames and sound of `video`, or of `still` shown for `seconds`; `audio` replaces
/// (or, for a still photo, provides) the sound.
pub fn input(
    video: Option<&Path>,
    still: Option<&Path>,
    seconds: f64,
    audio: Option<&Path>,
) -> Result<Input, CommandError> {
    media::tools_available().map_err(media_error)?;
    let (frames, own_audio, total): (Box<dyn Iterator<Item = _>>, _, _) = match (video, still) {
        (Some(v), None) => {
            let frames = media::frames(v).map_err(media_error)?;
            let info = *frames.info();
            let sound = if info.has_audio && audio.is_none() {
                media::audio_16k_mono(v).map_err(media_error)?
            } else {
                Vec::new()
            };
            (
                Box::new(frames),
                sound,
                // Never negative here (media refuses that), but a container may state
                // anything: one too long for a `Duration` is unknown, not a panic.
                info.duration_s
                    .and_then(|d| Duration::try_from_secs_f64(d).ok()),
            )
        }
        (None, Some(s)) => {
            let image = lifecert_core::image::decode::load_image(s)
                .map_err(|e| (EXIT_BAD_INPUT, format!("{}: {e}", s.display())))?;
            let clip = media::still_clip(&image, seconds, STILL_FPS).map_err(media_error)?;
            (
                Box::new(clip.map(Ok)),
                Vec::new(),
                Duration::try_from_secs_f64(seconds).ok(),
            )
        }
        _ => {
            return Err((
                EXIT_BAD_INPUT,
                "give exactly one of --video FILE or --still IMAGE".into(),
            ))
        }
    };
    let audio = match audio {
        Some(a) => media::audio_16k_mono(a).map_err(media_error)?,
        None => own_audio,
    };
    Ok(Input {
        frames,
        audio,
        total,
    })
}

/// Prints what the phone would say and show, and progress on long inputs (stderr).
pub fn printer() -> impl FnMut(ReplayEvent) {
    move |event| match event {
        ReplayEvent::Said { t, utterance } => {
            let mark = match utterance.kind {
                UtteranceKind::Prompt => "says (prompt)",
                UtteranceKind::Result => "says (result)",
                UtteranceKind::Hint => "says (hint)",
                _ => "says",
            };
            println!("[{:6.2} s] {mark}: {}", t.as_secs_f64(), utterance.text);
        }
        ReplayEvent::ShowDigits { t, digits } => {
            let d: Vec<String> = digits.iter().map(u8::to_string).collect();
            println!("[{:6.2} s] shows digits: {}", t.as_secs_f64(), d.join(" "));
        }
        ReplayEvent::Progress { t, total } => match total {
            Some(total) if total > Duration::from_secs(10) => eprintln!(
                "lifecert: {:.0} s of {:.0} s processed",
                t.as_secs_f64(),
                total.as_secs_f64()
            ),
            _ => {}
        },
    }
}

/// Maps a replay failure to an exit code.
pub fn replay_error(e: ReplayError) -> CommandError {
    match e {
        ReplayError::Media(m) => media_error(m),
        ReplayError::Engine(lifecert_core::Error::Frame(f)) => (EXIT_BAD_INPUT, f.to_string()),
        other => (EXIT_INTERNAL, other.to_string()),
    }
}

/// What a command knows about its outcome, for the report.
pub struct Summary {
    /// Heading.
    pub title: String,
    /// Language of the texts.
    pub language: Language,
    /// The outcome.
    pub verdict: Verdict,
    /// Evidence lines.
    pub evidence: Vec<(String, String)>,
    /// Where each challenge digit was heard.
    pub digit_windows: Vec<(f32, f32, String)>,
}

/// Exit code when the outcome passed and its output (attestation, template) was written,
/// but the report could not be: a warning, the output is kept.
pub const EXIT_REPORT_NOT_WRITTEN: u8 = 5;

/// Writes the report after the outcome's own output is safe on disk; a failure is a warning
/// on stderr and [`EXIT_REPORT_NOT_WRITTEN`] (when `passed`), never a lost result.
pub fn write_report_after(
    path: &Path,
    summary: Summary,
    timeline: Timeline,
    audio: &[i16],
) -> Result<(), CommandError> {
    let passed = summary.verdict.passed;
    write_report(path, summary, timeline, audio).map_err(|(_, message)| {
        eprintln!("lifecert: warning: the report was not written: {message}");
        let code = if passed {
            EXIT_REPORT_NOT_WRITTEN
        } else {
            EXIT_NOT_PASSED
        };
        (code, format!("report not written: {message}"))
    })
}

/// Assembles and writes the report (HTML, or PNG when the name ends in `.png`).
pub fn write_report(
    path: &Path,
    summary: Summary,
    timeline: Timeline,
    audio: &[i16],
) -> Result<(), CommandError> {
    let samples: Vec<f32> = audio.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let speech_envelope = rms_envelope(&samples, 16_000, 0.02)
        .map(|e| {
            e.values
                .iter()
                .enumerate()
                .map(|(i, &v)| ((e.start_s + i as f64 * e.step_s) as f32, v))
                .collect()
        })
        .unwrap_or_default();
    let report = Report {
        title: summary.title,
        language: summary.language,
        verdict: summary.verdict,
        evidence: summary.evidence,
        frames: timeline.frames,
        instructions: timeline.instructions,
        mouth_aperture: timeline.mouth_aperture,
        speech_envelope,
        digit_windows: summary.digit_windows,
        prompt_window: timeline.prompt_window,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            (
                EXIT_BAD_INPUT,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let written = if png {
        report.write_png(path)
    } else {
        report.write_html(path)
    };
    written.map_err(|e| (EXIT_BAD_INPUT, format!("report {}: {e}", path.display())))?;
    eprintln!("lifecert: report written to {}", path.display());
    Ok(())
}

/// Writes `bytes` to `path`, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            (
                EXIT_BAD_INPUT,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    std::fs::write(path, bytes).map_err(|e| {
        (
            EXIT_BAD_INPUT,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
