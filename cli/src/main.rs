//! `lifecert`: the command line of the lifecert engine.

mod commands;

use clap::{Parser, Subcommand};
use commands::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_cli::annotate;
use lifecert_core::capture::guidance::{GuidanceEngine, Instruction};
use lifecert_core::capture::quality::{self, MotionTracker, QualityMeasurements};
use lifecert_core::text::messages::{Language, Messages};
use lifecert_core::text::result_texts::RetireeCategory;
use lifecert_core::{Analyzer, Config, FaceObservation, ModelInfo, ModelSource};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lifecert",
    version,
    about = "On-device proof-of-life engine for pension certification"
)]
struct Cli {
    /// Load models from this directory instead of the embedded copies.
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect faces, landmarks and head pose in still images; print JSON.
    Analyze {
        /// Image files (JPEG or PNG).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Write an annotated copy: a file for one image, a directory for several.
        #[arg(long, value_name = "OUT")]
        annotate: Option<PathBuf>,
        /// Include all 468 landmarks in the JSON output.
        #[arg(long)]
        landmarks: bool,
        /// Language of the instruction text: zh-Hans, zh-Hant or en.
        #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
        lang: Language,
        /// Also search an N×N grid of tiles for small faces (group photos); 1 = whole image only.
        #[arg(long, default_value_t = 1, value_name = "N")]
        tiles: u32,
    },
    /// Compare the largest face of a probe photo with the largest face of each reference
    /// photo at the calibrated threshold; print JSON. Exit 0 when every photo could be
    /// compared, 2 for bad input (unreadable file, no face), 3 for an internal failure.
    Match {
        /// The photo to check (JPEG, PNG or WebP; EXIF orientation honoured).
        probe: PathBuf,
        /// Photos to compare it with.
        #[arg(required = true)]
        references: Vec<PathBuf>,
    },
    /// Enrol a person from photos or a recorded clip through the enrolment session, and
    /// write the template issued with the local authority key, sealed for this device.
    /// Exit 0 enrolled, 1 not enrolled, 2 bad input, 3 internal failure, 5 enrolled and the
    /// template written but the report could not be.
    Enroll {
        /// Photos of the face (files, or folders of JPEG/PNG/WebP).
        #[arg(long, num_args = 1.., value_name = "PATH", conflicts_with = "video")]
        photos: Vec<PathBuf>,
        /// A recorded clip of the face (mp4, webm, mpg, …).
        #[arg(long, value_name = "FILE")]
        video: Option<PathBuf>,
        /// Photo of the ID card's portrait side (JPEG or PNG, at most 1 MB).
        #[arg(long, value_name = "F")]
        id_front: Option<PathBuf>,
        /// Photo of the ID card's other side.
        #[arg(long, value_name = "F")]
        id_back: Option<PathBuf>,
        /// The person's name.
        #[arg(long)]
        name: String,
        /// The person's resident ID number.
        #[arg(long)]
        id: String,
        /// Where the sealed template goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Language of the instructions: zh-Hans, zh-Hant or en.
        #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
        lang: Language,
        /// Write a report: HTML, or PNG when the name ends in .png.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// The key file (created on first use). Default ~/.config/lifecert/keys.json.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Recordings of the person speaking (any words, any length; audio or video files):
        /// their voice is enrolled, and certification compares the answer's voice with it.
        #[arg(long, num_args = 1.., value_name = "AUDIO")]
        voice: Vec<PathBuf>,
        /// A recording of the person reading the digits 0 to 9 with a pause after each: also
        /// enrols the digits, so certification verifies the spoken digits.
        #[arg(long, value_name = "AUDIO")]
        voice_digits: Option<PathBuf>,
        /// Where the sealed voice profile goes. Default: the --out file with `.voice` added.
        #[arg(long, value_name = "FILE")]
        voice_out: Option<PathBuf>,
    },
    /// Certify from a recorded clip with its sound, printing what the phone would say, and
    /// write the signed attestation. Without --challenge the digits are drawn now, which a
    /// recording cannot answer. Exit 0 certified, 1 not certified, 2 bad input, 3 internal,
    /// 5 certified and the attestation written but the report could not be.
    Certify {
        /// The recording (video with sound).
        #[arg(long, value_name = "FILE", conflicts_with = "still")]
        video: Option<PathBuf>,
        /// A still photo shown to the camera instead of a video.
        #[arg(long, value_name = "IMAGE")]
        still: Option<PathBuf>,
        /// How long the still photo is shown, seconds.
        #[arg(long, default_value_t = 6.0)]
        seconds: f64,
        /// A sound track to use instead of the video's (any format ffmpeg reads).
        #[arg(long, value_name = "FILE")]
        audio: Option<PathBuf>,
        /// The sealed template written by `enroll`.
        #[arg(long, value_name = "FILE")]
        template: PathBuf,
        /// The sealed voice profile written by `enroll --voice`: the answer's voice is
        /// compared with it (and with `--voice-digits` at enrolment, the digits verified).
        #[arg(long, value_name = "FILE")]
        voice_templates: Option<PathBuf>,
        /// Where the retiree lives: `provincial` or `non-provincial` (the success text and
        /// the SMS differ).
        #[arg(long, default_value = "provincial", value_parser = parse_category)]
        category: RetireeCategory,
        /// The retiree's name.
        #[arg(long)]
        name: String,
        /// The retiree's resident ID number.
        #[arg(long)]
        id: String,
        /// A relative or carer certifies on the retiree's behalf: their relation (spouse,
        /// child, child_in_law, grandchild, sibling, other_relative, guardian, caregiver,
        /// community_worker, or free text).
        #[arg(long, value_name = "RELATION")]
        proxy: Option<String>,
        /// Language of what is said: zh-Hans, zh-Hant or en.
        #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
        lang: Language,
        /// Replay against these digits (those the recording says); the result records that
        /// the challenge was supplied.
        #[arg(long, value_name = "DIGITS")]
        challenge: Option<String>,
        /// With --challenge: when the prompt ended in the recording, seconds.
        #[arg(long, value_name = "SECONDS")]
        prompt_end: Option<f64>,
        /// Certification year (default: this year).
        #[arg(long)]
        year: Option<u16>,
        /// The server nonce issued for the session (32 hex digits; default random).
        #[arg(long, value_name = "HEX")]
        nonce: Option<String>,
        /// Failed certification sessions earlier today (after 3 the office is suggested).
        #[arg(long, default_value_t = 0)]
        previous_failures: u32,
        /// Where the signed attestation goes (when certified).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write a report: HTML, or PNG when the name ends in .png.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// The key file written by `enroll` (never created here). Default
        /// ~/.config/lifecert/keys.json.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Folder with the MiniFASNet anti-spoofing models (not shipped).
        #[arg(long, value_name = "DIR")]
        pad_models: Option<PathBuf>,
    },
    /// Verify a signed certification result as the authority's backend does; print JSON.
    /// Freshness is an explicit choice: `--nonce HEX` (the server nonce issued for the
    /// session) or `--no-freshness-check` (reported as `"freshness": "unchecked"`).
    /// Exit 0 valid, 4 refused (bad signature, changed bytes, wrong key or nonce), 2 bad input.
    Verify {
        /// The signed result (the JSON envelope the device sends).
        result: PathBuf,
        /// The device's registered public key: 64 hex digits, or a file holding them.
        #[arg(long, value_name = "PUB")]
        key: String,
        /// The server nonce issued for this session (32 hex digits): the result must answer
        /// it, which proves it fresh.
        #[arg(
            long,
            value_name = "HEX",
            required_unless_present = "no_freshness_check"
        )]
        nonce: Option<String>,
        /// Do not check the server nonce: the signature and content are still verified, the
        /// output says `"freshness": "unchecked"` (the result may be an old one replayed).
        #[arg(long, conflicts_with = "nonce")]
        no_freshness_check: bool,
        /// Accept results whose digit challenge was supplied from outside the device (a
        /// processed recording); refused by default.
        #[arg(long)]
        accept_supplied_challenge: bool,
        /// Accept results made with the recording-replay configuration (`certify
        /// --challenge`); refused by default.
        #[arg(long)]
        accept_recording_replay: bool,
        /// Accept results whose spoken digits were only counted, not verified (no voice
        /// templates); refused by default.
        #[arg(long)]
        accept_count_only: bool,
    },
}

#[derive(Serialize)]
struct FaceReport<'a> {
    score: f32,
    bbox: [f32; 4],
    keypoints: Vec<[f32; 2]>,
    presence: f32,
    pose: &'a lifecert_core::HeadPose,
    #[serde(skip_serializing_if = "Option::is_none")]
    landmarks: Option<&'a [[f32; 3]]>,
}

#[derive(Serialize)]
struct ImageReport<'a> {
    image: String,
    width: u32,
    height: u32,
    faces: Vec<FaceReport<'a>>,
    quality: &'a QualityMeasurements,
    instruction: InstructionReport,
}

/// The one instruction a phone would give for this picture.
#[derive(Serialize)]
struct InstructionReport {
    id: &'static str,
    text: String,
    ready: bool,
}

/// Everything computed for one still image.
struct Analysed {
    name: String,
    size: (u32, u32),
    faces: Vec<FaceObservation>,
    quality: QualityMeasurements,
    instruction: Instruction,
    ready: bool,
}

#[derive(Serialize)]
struct AnalyzeReport<'a> {
    models: &'a [ModelInfo],
    images: Vec<ImageReport<'a>>,
}

fn face_report(face: &FaceObservation, with_landmarks: bool) -> FaceReport<'_> {
    let b = face.detection.bbox;
    FaceReport {
        score: face.detection.score,
        bbox: [b.x, b.y, b.right(), b.bottom()],
        keypoints: face
            .detection
            .keypoints
            .iter()
            .map(|p| [p.x, p.y])
            .collect(),
        presence: face.landmarks.presence,
        pose: &face.pose,
        landmarks: with_landmarks.then_some(face.landmarks.points.as_slice()),
    }
}

fn annotate_path(out: &Path, image: &Path, several: bool) -> PathBuf {
    if several {
        let stem = image.file_stem().unwrap_or_default().to_string_lossy();
        out.join(format!("{stem}.annotated.png"))
    } else {
        out.to_path_buf()
    }
}

/// Guidance for a single still picture: what the engine would say on its first frame.
fn still_guidance(
    config: &Config,
    quality: &QualityMeasurements,
) -> Result<(Instruction, bool), (u8, String)> {
    let mut engine = GuidanceEngine::new(config.guidance.clone())
        .map_err(|e| (EXIT_INTERNAL, format!("guidance configuration: {e}")))?;
    let update = engine.update(quality, std::time::Duration::ZERO);
    Ok((update.frame_instruction, update.ready))
}

fn analyze(
    analyzer: &Analyzer,
    images: &[PathBuf],
    annotate: Option<&Path>,
    with_landmarks: bool,
    lang: Language,
) -> Result<(), (u8, String)> {
    let several = images.len() > 1;
    if let (Some(dir), true) = (annotate, several) {
        std::fs::create_dir_all(dir).map_err(|e| {
            (
                EXIT_BAD_INPUT,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    // The guidance settings are the defaults: the command sets only the detector's tiles.
    let config = &Config::default();
    let messages = Messages::builtin();
    let mut results = Vec::new();
    for path in images {
        let image = lifecert_core::image::decode::load_image(path)
            .map_err(|e| (EXIT_BAD_INPUT, format!("{}: {e}", path.display())))?;
        let faces = analyzer
            .analyze_image(&image)
            .map_err(|e| (EXIT_INTERNAL, format!("{}: {e}", path.display())))?;
        let quality = quality::measure(
            &image,
            &faces,
            &mut MotionTracker::new(),
            std::time::Duration::ZERO,
            &config.guidance.quality,
        );
        let (instruction, ready) = still_guidance(config, &quality)?;
        if let Some(out) = annotate {
            let mut canvas = image.clone();
            annotate::draw_guide_oval(&mut canvas, &config.guidance.quality.guide);
            annotate::draw_faces(&mut canvas, &faces);
            annotate::draw_instruction(&mut canvas, instruction, ready);
            let target = annotate_path(out, path, several);
            canvas.save(&target).map_err(|e| {
                (
                    EXIT_BAD_INPUT,
                    format!("cannot write {}: {e}", target.display()),
                )
            })?;
            eprintln!("annotated {} -> {}", path.display(), target.display());
        }
        results.push(Analysed {
            name: path.display().to_string(),
            size: image.dimensions(),
            faces,
            quality,
            instruction,
            ready,
        });
    }
    let report = AnalyzeReport {
        models: analyzer.models(),
        images: results
            .iter()
            .map(|a| ImageReport {
                image: a.name.clone(),
                width: a.size.0,
                height: a.size.1,
                faces: a
                    .faces
                    .iter()
                    .map(|f| face_report(f, with_landmarks))
                    .collect(),
                quality: &a.quality,
                instruction: InstructionReport {
                    id: a.instruction.id(),
                    text: messages.instruction(a.instruction, lang).to_owned(),
                    ready: a.ready,
                },
            })
            .collect(),
    };
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot serialise report: {e}")))?;
    println!("{json}");
    Ok(())
}

fn parse_language(tag: &str) -> Result<Language, String> {
    Language::from_tag(tag)
        .ok_or_else(|| format!("unknown language {tag:?}: use zh-Hans, zh-Hant or en"))
}

fn parse_category(id: &str) -> Result<RetireeCategory, String> {
    RetireeCategory::from_id(id)
        .ok_or_else(|| format!("unknown category {id:?}: use provincial or non-provincial"))
}

fn load_analyzer(source: &ModelSource, config: Config) -> Result<Analyzer, (u8, String)> {
    config
        .validate()
        .map_err(|e| (EXIT_BAD_INPUT, format!("{e}")))?;
    Analyzer::with_models(config, source)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot load models: {e}")))
}

fn run(cli: Cli) -> Result<(), (u8, String)> {
    let source = cli
        .models
        .map(ModelSource::Directory)
        .unwrap_or(ModelSource::Embedded);
    match &cli.command {
        Command::Analyze {
            images,
            annotate,
            landmarks,
            lang,
            tiles,
        } => {
            let mut config = Config::default();
            config.detector.tiles = *tiles;
            let analyzer = load_analyzer(&source, config)?;
            analyze(&analyzer, images, annotate.as_deref(), *landmarks, *lang)
        }
        Command::Match { probe, references } => {
            let analyzer = load_analyzer(&source, Config::default())?;
            commands::match_faces::run(&analyzer, probe, references)
        }
        Command::Enroll {
            photos,
            video,
            id_front,
            id_back,
            name,
            id,
            out,
            lang,
            report,
            keys,
            voice,
            voice_digits,
            voice_out,
        } => commands::enroll::run(
            &source,
            &commands::enroll::EnrollArgs {
                photos: photos.clone(),
                video: video.clone(),
                id_front: id_front.clone(),
                id_back: id_back.clone(),
                name: name.clone(),
                id: id.clone(),
                lang: *lang,
                out: out.clone(),
                report: report.clone(),
                keys: keys.clone(),
                voice: voice.clone(),
                voice_digits: voice_digits.clone(),
                voice_out: voice_out.clone(),
            },
        ),
        Command::Certify {
            video,
            still,
            seconds,
            audio,
            template,
            voice_templates,
            category,
            name,
            id,
            proxy,
            lang,
            challenge,
            prompt_end,
            year,
            nonce,
            previous_failures,
            out,
            report,
            keys,
            pad_models,
        } => commands::certify::run(
            &source,
            &commands::certify::CertifyArgs {
                video: video.clone(),
                still: still.clone(),
                seconds: *seconds,
                audio: audio.clone(),
                template: template.clone(),
                voice_templates: voice_templates.clone(),
                category: *category,
                name: name.clone(),
                id: id.clone(),
                proxy: proxy.clone(),
                lang: *lang,
                challenge: challenge.clone(),
                prompt_end: *prompt_end,
                year: *year,
                nonce: nonce.clone(),
                previous_failures: *previous_failures,
                out: out.clone(),
                report: report.clone(),
                keys: keys.clone(),
                pad_models: pad_models.clone(),
            },
        ),
        Command::Verify {
            result,
            key,
            nonce,
            no_freshness_check,
            accept_supplied_challenge,
            accept_recording_replay,
            accept_count_only,
        } => {
            let freshness = match (nonce.as_deref(), no_freshness_check) {
                (Some(n), false) => commands::verify::Freshness::Nonce(n),
                (None, true) => commands::verify::Freshness::Unchecked,
                _ => {
                    return Err((
                        commands::EXIT_BAD_INPUT,
                        "give exactly one of --nonce HEX or --no-freshness-check".into(),
                    ))
                }
            };
            commands::verify::run(
                result,
                key,
                freshness,
                &lifecert_core::api::attestation::VerifyPolicy {
                    accept_supplied_challenge: *accept_supplied_challenge,
                    accept_recording_replay: *accept_recording_replay,
                    accept_count_only: *accept_count_only,
                    ..Default::default()
                },
            )
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("lifecert: {message}");
            ExitCode::from(code)
        }
    }
}
