//! `lifecert analyze IMAGE...`: faces, landmarks, head pose, the quality measurements and
//! the one instruction a phone would give, for still images, as JSON; with `--annotate`, a
//! copy of each picture with the guide oval, the faces and the instruction drawn.

use super::analyzer::load_analyzer;
use super::flags::parse_language;
use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_cli::annotate;
use lifecert_core::capture::guide::{guide_still, GuidedFrame};
use lifecert_core::capture::quality::QualityMeasurements;
use lifecert_core::text::messages::{Language, Messages};
use lifecert_core::{Analyzer, Config, FaceObservation, FrameAnalysis, ModelInfo, ModelSource};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Detect faces, landmarks and head pose in still images; print JSON.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Image files (JPEG or PNG).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Write an annotated copy: a file for one image, a directory for several.
    #[arg(long, value_name = "OUT")]
    pub annotate: Option<PathBuf>,
    /// Include all 468 landmarks in the JSON output.
    #[arg(long)]
    pub landmarks: bool,
    /// Language of the instruction text: zh-Hans, zh-Hant or en.
    #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
    pub lang: Language,
    /// Also search an N×N grid of tiles for small faces (group photos); 1 = whole image only.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub tiles: u32,
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
    seen: GuidedFrame,
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
        let seen = guide_still(&config.guidance, FrameAnalysis { image, faces })
            .map_err(|e| (EXIT_INTERNAL, format!("guidance configuration: {e}")))?;
        let (instruction, ready) = (seen.guidance.frame_instruction, seen.guidance.ready);
        if let Some(out) = annotate {
            let mut canvas = seen.analysis.image.clone();
            annotate::draw_guide_oval(&mut canvas, &config.guidance.quality.guide);
            annotate::draw_faces(&mut canvas, &seen.analysis.faces);
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
            seen,
        });
    }
    let report = AnalyzeReport {
        models: analyzer.models(),
        images: results
            .iter()
            .map(|a| {
                let (width, height) = a.seen.analysis.image.dimensions();
                let guidance = &a.seen.guidance;
                ImageReport {
                    image: a.name.clone(),
                    width,
                    height,
                    faces: a
                        .seen
                        .analysis
                        .faces
                        .iter()
                        .map(|f| face_report(f, with_landmarks))
                        .collect(),
                    quality: &a.seen.quality,
                    instruction: InstructionReport {
                        id: guidance.frame_instruction.id(),
                        text: messages
                            .instruction(guidance.frame_instruction, lang)
                            .to_owned(),
                        ready: guidance.ready,
                    },
                }
            })
            .collect(),
    };
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot serialise report: {e}")))?;
    println!("{json}");
    Ok(())
}

/// Runs `analyze`: loads the models (with the requested tiling) and prints the JSON report.
pub fn run(source: &ModelSource, args: &AnalyzeArgs) -> Result<(), CommandError> {
    let mut config = Config::default();
    config.detector.tiles = args.tiles;
    let analyzer = load_analyzer(source, config)?;
    analyze(
        &analyzer,
        &args.images,
        args.annotate.as_deref(),
        args.landmarks,
        args.lang,
    )
}
