//! Face tracking on real streams ([`Analyzer::analyze_tracked`], the path camera sessions
//! take) against per-frame detection ([`Analyzer::analyze`], every frame through the
//! detector) on the same frames:
//! * every talking clip (`video_talking/`: the seven GRID clips, 360×288 at 25 fps, and the
//!   LivePortrait talking heads, 512×512 at 30 fps) and the LivePortrait head-motion clips
//!   (`video_motion/`: turns and nods), at most the first 150 frames of each, timestamps
//!   `k / fps`: box IoU and landmark error (mean over the 468 points, as a fraction of the
//!   inter-ocular distance of the per-frame landmarks) on the frames the tracker did not run
//!   the detector on, face-count disagreements, and the fraction of frames that ran the
//!   detector;
//! * the guidance through a real enrollment session (default configuration) on a stream built
//!   from real frames: one GRID face, then a second real face (`faces_identity/`) beside it,
//!   then the face cut out of the picture: `multiple_faces` and `no_face` must be shown, no
//!   later than with per-frame detection plus the tracker's re-detection interval.

mod common;

use common::{analyzer, eval_data, media, par_map};
use image::{Rgb, RgbImage};
use lifecert_core::api::enrollment::{EnrollmentKeys, EnrollmentRequest, EnrollmentSession};
use lifecert_core::api::session::Phase;
use lifecert_core::crypto::sealing::SealingKey;
use lifecert_core::identity::person::SubjectKey;
use lifecert_core::text::messages::Language;
use lifecert_core::{Config, Engine, FaceObservation, FaceTrack, Frame, TrackerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Frames analysed per clip (the LivePortrait clips run up to 15 s).
const MAX_FRAMES: usize = 150;

fn data(test: &str) -> Option<PathBuf> {
    let d = eval_data(test)?;
    media::media_tools(test).then_some(d)
}

/// The clips compared: every video of `video_talking/` (not its `grid_s1/` folder) and of
/// `video_motion/`.
fn clips(data: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["video_talking", "video_motion"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(data.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("mpg" | "mp4")))
            .collect();
        found.sort();
        assert!(!found.is_empty(), "no clips in {dir}");
        out.extend(found);
    }
    out
}

/// Distance between the eye centres (mean of each eye's corners), pixels.
fn interocular(face: &FaceObservation) -> f32 {
    let mid = |a: usize, b: usize| {
        let (p, q) = (face.landmarks.point(a), face.landmarks.point(b));
        lifecert_core::Point::new((p.x + q.x) / 2.0, (p.y + q.y) / 2.0)
    };
    mid(33, 133).distance(mid(362, 263))
}

/// Mean 2-D landmark distance between two observations of one face, over the inter-ocular
/// distance of `reference`.
fn landmark_error(tracked: &FaceObservation, reference: &FaceObservation) -> f32 {
    let sum: f32 = (0..tracked.landmarks.points.len())
        .map(|i| {
            tracked
                .landmarks
                .point(i)
                .distance(reference.landmarks.point(i))
        })
        .sum();
    sum / tracked.landmarks.points.len() as f32 / interocular(reference)
}

#[derive(Debug, Default)]
struct Comparison {
    name: String,
    frames: usize,
    detector_runs: u64,
    /// Frames on which the two paths found a different number of faces.
    count_mismatches: usize,
    /// Per matched face on tracked (non-detector) frames.
    ious: Vec<f32>,
    errors: Vec<f32>,
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

fn compare(path: &Path) -> Comparison {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let fps = media::video_info(path).fps;
    let mut track = FaceTrack::new();
    let mut out = Comparison {
        name,
        ..Default::default()
    };
    media::for_each_frame(path, |k, img| {
        if k >= MAX_FRAMES {
            return;
        }
        let t = Duration::from_secs_f64(k as f64 / fps);
        let reference = analyzer().analyze_image(&img).unwrap();
        let tracked = analyzer()
            .analyze_image_tracked(&img, t, &mut track)
            .unwrap();
        out.frames += 1;
        if tracked.len() != reference.len() {
            out.count_mismatches += 1;
        }
        if track.last_reason().is_some() {
            // A detector frame is the per-frame analysis itself.
            assert_eq!(tracked, reference, "{} frame {k}", out.name);
            return;
        }
        for r in &reference {
            let Some(best) = tracked.iter().max_by(|a, b| {
                a.detection
                    .bbox
                    .iou(&r.detection.bbox)
                    .total_cmp(&b.detection.bbox.iou(&r.detection.bbox))
            }) else {
                continue;
            };
            out.ious.push(best.detection.bbox.iou(&r.detection.bbox));
            out.errors.push(landmark_error(best, r));
        }
    });
    out.detector_runs = track.stats().detector_runs;
    out
}

#[test]
fn tracking_matches_per_frame_detection_on_real_clips() {
    let Some(data) = data("tracking_matches_per_frame_detection_on_real_clips") else {
        return;
    };
    let results = par_map(&clips(&data), |p| compare(p));
    println!(
        "{:28} {:>6} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9}",
        "clip", "frames", "det.frac", "count≠", "mean IoU", "min IoU", "lm err %", "max err %"
    );
    let (mut all_iou, mut all_err) = (Vec::new(), Vec::new());
    let (mut frames, mut runs, mut mismatches) = (0usize, 0u64, 0usize);
    for c in &results {
        println!(
            "{:28} {:>6} {:>8.3} {:>9} {:>8.3} {:>8.3} {:>9.2} {:>9.2}",
            c.name,
            c.frames,
            c.detector_runs as f64 / c.frames as f64,
            c.count_mismatches,
            mean(&c.ious),
            c.ious.iter().copied().fold(f32::INFINITY, f32::min),
            100.0 * mean(&c.errors),
            100.0 * c.errors.iter().copied().fold(0.0, f32::max),
        );
        all_iou.extend_from_slice(&c.ious);
        all_err.extend_from_slice(&c.errors);
        frames += c.frames;
        runs += c.detector_runs;
        mismatches += c.count_mismatches;
    }
    let max_err = all_err.iter().copied().fold(0.0f32, f32::max);
    let min_iou = all_iou.iter().copied().fold(f32::INFINITY, f32::min);
    println!(
        "all: {frames} frames, detector on {runs} ({:.1} %), {} tracked faces compared, \
         face count differs on {mismatches}; box IoU mean {:.3} min {min_iou:.3}; \
         landmark error mean {:.2} % max {:.2} % of the inter-ocular distance",
        100.0 * runs as f64 / frames as f64,
        all_iou.len(),
        mean(&all_iou),
        100.0 * mean(&all_err),
        100.0 * max_err,
    );
    assert!(
        all_iou.len() > frames / 2,
        "most frames must be tracked frames with a face"
    );
    assert!(mean(&all_iou) >= 0.9, "mean box IoU {}", mean(&all_iou));
    assert!(min_iou >= 0.7, "worst box IoU {min_iou}");
    assert!(
        mean(&all_err) <= 0.03,
        "mean landmark error {} of the inter-ocular distance",
        mean(&all_err)
    );
    assert!(max_err <= 0.12, "worst landmark error {max_err}");
    assert!(
        mismatches * 100 <= frames,
        "face count differs on {mismatches} of {frames} frames"
    );
    // The detector runs on a small share of the frames: the redetect interval and the rules
    // for lost and jumping faces, not on every frame.
    let fraction = runs as f64 / frames as f64;
    let interval = TrackerConfig::default().redetect_interval.as_secs_f64();
    assert!(
        fraction <= 2.0 / (interval * 25.0),
        "detector on {:.1} % of the frames",
        100.0 * fraction
    );
}

// ---------------------------------------------------------------------------------------
// Guidance on a tracked stream: a second person, then the face gone
// ---------------------------------------------------------------------------------------

const W: u32 = 640;
const H: u32 = 480;
const FPS: f64 = 25.0;
const GREY: Rgb<u8> = Rgb([90, 90, 90]);

fn paste(canvas: &mut RgbImage, img: &RgbImage, x0: i64, y0: i64) {
    image::imageops::replace(canvas, img, x0, y0);
}

/// A second real face, scaled so that its detector box is `box_w` wide, cut to at most
/// `max_w`×`H`.
fn second_face(data: &Path, box_w: f32, max_w: u32) -> RgbImage {
    let path = data.join("faces_identity/bbt_amy/faceapi_amy1.png");
    let img = lifecert_core::image::decode::load_image(&path).unwrap();
    let faces = analyzer().analyze_image(&img).unwrap();
    assert_eq!(faces.len(), 1, "{}", path.display());
    let b = faces[0].detection.bbox;
    let s = box_w / b.width;
    let scaled = image::imageops::resize(
        &img,
        (img.width() as f32 * s).round() as u32,
        (img.height() as f32 * s).round() as u32,
        image::imageops::FilterType::Triangle,
    );
    // Centre the face in the cut.
    let (cx, cy) = ((b.center().x * s) as i64, (b.center().y * s) as i64);
    let (cw, ch) = (max_w.min(scaled.width()), H.min(scaled.height()));
    let x = (cx - cw as i64 / 2).clamp(0, (scaled.width() - cw) as i64) as u32;
    let y = (cy - ch as i64 / 2).clamp(0, (scaled.height() - ch) as i64) as u32;
    image::imageops::crop_imm(&scaled, x, y, cw, ch).to_image()
}

/// Stream frame `k`: the GRID clip's frame on the left of a grey 640×480 canvas (1 s), then
/// with a second real face on the right (2 s), then the GRID face cut out, the second face
/// gone too (2 s: an empty room).
struct Stream {
    frames: Vec<RgbImage>,
    second_from: usize,
    empty_from: usize,
}

fn stream(data: &Path) -> Stream {
    let mut grid = Vec::new();
    media::for_each_frame(&data.join("video_talking/grid_bbaf2n.mpg"), |_, f| {
        grid.push(f)
    });
    let face_w = analyzer().analyze_image(&grid[0]).unwrap()[0]
        .detection
        .bbox
        .width;
    let other = second_face(data, face_w, W - 380);
    let (second_from, empty_from, end) = (25, 75, 125);
    let frames = (0..end)
        .map(|k| {
            let mut canvas = RgbImage::from_pixel(W, H, GREY);
            if k < empty_from {
                paste(&mut canvas, &grid[k % grid.len()], 10, 96);
            }
            if (second_from..empty_from).contains(&k) {
                paste(
                    &mut canvas,
                    &other,
                    380 + (W as i64 - 380 - other.width() as i64) / 2,
                    (H as i64 - other.height() as i64) / 2,
                );
            }
            canvas
        })
        .collect();
    Stream {
        frames,
        second_from,
        empty_from,
    }
}

fn enrollment(engine: &Arc<Engine>) -> EnrollmentSession {
    let keys = EnrollmentKeys {
        subject: SubjectKey::new(&[7; 32]).unwrap(),
        sealing: SealingKey::new(&[9; 32]).unwrap(),
    };
    let request = EnrollmentRequest {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
        now_unix: 1_796_184_000,
        language: Language::ZhHans,
        actions: Vec::new(),
        voice_digits: false,
        rng: None,
    };
    let mut s = EnrollmentSession::new(engine.clone(), request, keys).unwrap();
    s.give_consent(true).unwrap();
    s.continue_without_more_documents().unwrap();
    assert_eq!(s.phase(), Phase::Positioning);
    s
}

/// The instruction shown after each frame (message id).
fn shown(
    engine: &Engine,
    s: &mut EnrollmentSession,
    stream: &Stream,
    tracked: bool,
) -> Vec<String> {
    stream
        .frames
        .iter()
        .enumerate()
        .map(|(k, img)| {
            let t = Duration::from_secs_f64(k as f64 / FPS);
            let u = if tracked {
                s.push_frame(&Frame::from_rgb_image(img).unwrap(), t)
                    .unwrap()
            } else {
                let frame = Frame::from_rgb_image(img).unwrap();
                let analysis = engine.analyzer().analyze(&frame).unwrap();
                s.push_analysis(analysis, t).unwrap()
            };
            assert_eq!(u.phase, Phase::Positioning, "frame {k}");
            u.instruction.map(|i| i.message_id).unwrap_or_default()
        })
        .collect()
}

/// First frame at or after `from` showing `id`.
fn first(shown: &[String], id: &str, from: usize) -> Option<usize> {
    (from..shown.len()).find(|&k| shown[k] == id)
}

#[test]
fn multiple_faces_and_no_face_are_shown_on_a_tracked_stream() {
    let Some(data) = data("multiple_faces_and_no_face_are_shown_on_a_tracked_stream") else {
        return;
    };
    let stream = stream(&data);
    // The composite really holds two faces, and the empty room none.
    assert_eq!(
        analyzer()
            .analyze_image(&stream.frames[stream.second_from])
            .unwrap()
            .len(),
        2
    );
    assert!(analyzer()
        .analyze_image(&stream.frames[stream.empty_from])
        .unwrap()
        .is_empty());
    let engine = Arc::new(Engine::new(Config::default()).unwrap());
    let tracked = shown(&engine, &mut enrollment(&engine), &stream, true);
    let per_frame = shown(&engine, &mut enrollment(&engine), &stream, false);
    println!("tracked:   {tracked:?}\nper frame: {per_frame:?}");
    assert!(
        first(&tracked, "multiple_faces", 0).is_some_and(|k| k >= stream.second_from),
        "multiple_faces before the second face came"
    );
    let interval_frames =
        (TrackerConfig::default().redetect_interval.as_secs_f64() * FPS).ceil() as usize;
    for (id, from) in [
        ("multiple_faces", stream.second_from),
        ("no_face", stream.empty_from),
    ] {
        let t =
            first(&tracked, id, from).unwrap_or_else(|| panic!("tracked stream never shows {id}"));
        let p = first(&per_frame, id, from)
            .unwrap_or_else(|| panic!("per-frame stream never shows {id}"));
        println!(
            "{id}: shown {:.2} s after the change (tracked), {:.2} s (per frame)",
            (t - from) as f64 / FPS,
            (p - from) as f64 / FPS
        );
        assert!(
            t <= p + interval_frames,
            "{id}: tracked frame {t}, per-frame {p}"
        );
    }
}
