//! `lifecert match PROBE REFERENCE...`: the face-match distance of a probe photo to each
//! reference photo, and the decision at the calibrated threshold, as JSON.

use super::analyzer::load_analyzer;
use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_core::face::descriptor::Descriptor;
use lifecert_core::face::error::FaceError;
use lifecert_core::{Analyzer, Config, FaceObservation, ModelSource};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Compare the largest face of a probe photo with the largest face of each reference
/// photo at the calibrated threshold; print JSON. Exit 0 when every photo could be
/// compared, 2 for bad input (unreadable file, no face), 3 for an internal failure.
#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// The photo to check (JPEG, PNG or WebP; EXIF orientation honoured).
    pub probe: PathBuf,
    /// Photos to compare it with.
    #[arg(required = true)]
    pub references: Vec<PathBuf>,
}

/// One photo's outcome in the JSON output.
#[derive(Serialize, Default)]
struct PhotoReport {
    path: String,
    /// Faces found in the photo (the largest is used).
    #[serde(skip_serializing_if = "Option::is_none")]
    faces: Option<usize>,
    /// The face used: `[x0, y0, x1, y1]` in upright image pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    face_box: Option<[f32; 4]>,
    /// Descriptor distance to the probe (references only).
    #[serde(skip_serializing_if = "Option::is_none")]
    distance: Option<f32>,
    /// `distance <= threshold` (references only).
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted: Option<bool>,
    /// `"same_person"` or `"different_person"` (references only).
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'static str>,
    /// Why this photo could not be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct MatchReport {
    /// The threshold applied (`Config::matching.threshold`).
    threshold: f32,
    probe: PhotoReport,
    references: Vec<PhotoReport>,
}

/// A photo that could not be described, with the exit code it calls for.
struct PhotoError {
    code: u8,
    message: String,
}

/// The largest face of the photo at `path`, its descriptor and the number of faces.
fn describe_largest(
    analyzer: &Analyzer,
    path: &Path,
) -> Result<(Descriptor, usize, [f32; 4]), PhotoError> {
    let bad = |message: String| PhotoError {
        code: EXIT_BAD_INPUT,
        message,
    };
    let image = lifecert_core::image::decode::load_image(path).map_err(|e| bad(e.to_string()))?;
    let faces = analyzer.analyze_image(&image).map_err(|e| PhotoError {
        code: EXIT_INTERNAL,
        message: e.to_string(),
    })?;
    let largest: &FaceObservation = faces
        .iter()
        .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()))
        .ok_or_else(|| bad("no face found".into()))?;
    let descriptor = analyzer.describe(&image, largest).map_err(|e| match e {
        FaceError::Unusable(_) => bad(e.to_string()),
        _ => PhotoError {
            code: EXIT_INTERNAL,
            message: e.to_string(),
        },
    })?;
    let b = largest.detection.bbox;
    Ok((descriptor, faces.len(), [b.x, b.y, b.right(), b.bottom()]))
}

/// Runs `match` with the default configuration (its calibrated threshold).
pub fn run(source: &ModelSource, args: &MatchArgs) -> Result<(), CommandError> {
    let analyzer = load_analyzer(source, Config::default())?;
    compare(&analyzer, &args.probe, &args.references)
}

/// Compares the photos: prints the JSON report (also when some photo failed), then fails
/// with [`EXIT_BAD_INPUT`] when the probe or any reference could not be used (unreadable, no
/// face), or [`EXIT_INTERNAL`] when a model failed.
fn compare(analyzer: &Analyzer, probe: &Path, references: &[PathBuf]) -> Result<(), CommandError> {
    // The analyzer of this command is made with the default configuration.
    let threshold = Config::default().matching.threshold;
    let name = |p: &Path| p.display().to_string();
    let print = |report: &MatchReport| -> Result<(), CommandError> {
        let json = serde_json::to_string_pretty(report)
            .map_err(|e| (EXIT_INTERNAL, format!("cannot serialise report: {e}")))?;
        println!("{json}");
        Ok(())
    };
    let probe_descriptor = match describe_largest(analyzer, probe) {
        Ok((descriptor, faces, face_box)) => {
            let report = PhotoReport {
                path: name(probe),
                faces: Some(faces),
                face_box: Some(face_box),
                ..PhotoReport::default()
            };
            (descriptor, report)
        }
        Err(e) => {
            print(&MatchReport {
                threshold,
                probe: PhotoReport {
                    path: name(probe),
                    error: Some(e.message.clone()),
                    ..PhotoReport::default()
                },
                references: Vec::new(),
            })?;
            return Err((e.code, format!("probe {}: {}", probe.display(), e.message)));
        }
    };
    let (probe_descriptor, probe_report) = probe_descriptor;
    let mut worst: Option<u8> = None;
    let mut failed = 0usize;
    let mut results = Vec::with_capacity(references.len());
    for reference in references {
        let result = match describe_largest(analyzer, reference) {
            Ok((descriptor, faces, face_box)) => {
                let distance = probe_descriptor.distance(&descriptor);
                let accepted = distance <= threshold;
                PhotoReport {
                    path: name(reference),
                    faces: Some(faces),
                    face_box: Some(face_box),
                    distance: Some(distance),
                    accepted: Some(accepted),
                    decision: Some(if accepted {
                        "same_person"
                    } else {
                        "different_person"
                    }),
                    error: None,
                }
            }
            Err(e) => {
                failed += 1;
                worst = Some(worst.map_or(e.code, |w| w.max(e.code)));
                PhotoReport {
                    path: name(reference),
                    error: Some(e.message),
                    ..PhotoReport::default()
                }
            }
        };
        results.push(result);
    }
    print(&MatchReport {
        threshold,
        probe: probe_report,
        references: results,
    })?;
    match worst {
        None => Ok(()),
        Some(code) => Err((
            code,
            format!(
                "{failed} of {} reference photo(s) could not be compared (see \"error\" in the output)",
                references.len()
            ),
        )),
    }
}
