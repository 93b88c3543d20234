//! Visual evidence on real video: the LivePortrait driving clips of `video_motion/` (head turns,
//! blinks, mouth openings, a nearly still face), decoded with ffmpeg and analysed frame by frame
//! with the real models. Frame `k` is stamped `k / fps`.
//!
//! The expected events were established by looking at the clips frame by frame (eye crops
//! around every candidate); frame numbers are 0-based. A still image repeated for 5 s must give
//! no event at all.

mod common;

use common::{analyzer, eval_data, media};
use lifecert_core::liveness::visual_evidence::{
    ContinuityStats, TurnDirection, VisualEvent, VisualEvidenceConfig, VisualSample, VisualTracker,
};
use std::path::PathBuf;
use std::time::Duration;

/// Everything the tracker reported on one clip.
struct ClipRun {
    fps: f64,
    frames: usize,
    events: Vec<VisualEvent>,
    samples: Vec<(f64, Option<VisualSample>)>,
    stats: ContinuityStats,
}

impl ClipRun {
    fn blinks(&self) -> Vec<(f64, f64, f32)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                VisualEvent::Blink(b) => {
                    Some((b.start.as_secs_f64(), b.end.as_secs_f64(), b.min_ratio))
                }
                _ => None,
            })
            .collect()
    }

    fn turns(&self) -> Vec<(TurnDirection, f64, f64, f32)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                VisualEvent::Turn(t) => Some((
                    t.direction,
                    t.excursion.start.as_secs_f64(),
                    t.excursion.end.as_secs_f64(),
                    t.excursion.peak_delta_deg,
                )),
                _ => None,
            })
            .collect()
    }

    fn count(&self, kind: &str) -> usize {
        self.events
            .iter()
            .filter(|e| {
                matches!(
                    (kind, e),
                    ("nod", VisualEvent::Nod(_)) | ("mouth", VisualEvent::MouthOpen(_))
                )
            })
            .count()
    }

    fn range(&self, f: impl Fn(&VisualSample) -> f32) -> (f32, f32) {
        self.samples
            .iter()
            .filter_map(|(_, s)| s.as_ref().map(&f))
            .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }

    /// Whether a blink overlaps the frames `first..=last`.
    fn has_blink_at(&self, first: usize, last: usize) -> bool {
        let (a, b) = (first as f64 / self.fps, last as f64 / self.fps);
        self.blinks()
            .iter()
            .any(|&(s, e, _)| s <= b + 0.05 && e >= a - 0.05)
    }

    fn report(&self, name: &str) {
        let (ear_lo, ear_hi) = self.range(|s| s.ear());
        let (yaw_lo, yaw_hi) = self.range(|s| s.yaw);
        let (pitch_lo, pitch_hi) = self.range(|s| s.pitch);
        let (m_lo, m_hi) = self.range(|s| s.mouth_aperture);
        eprintln!(
            "{name}: {} frames at {} fps; EAR {ear_lo:.3}..{ear_hi:.3}, yaw {yaw_lo:.1}..{yaw_hi:.1}°, \
             pitch {pitch_lo:.1}..{pitch_hi:.1}°, mouth {m_lo:.3}..{m_hi:.3}; continuity {:?}",
            self.frames, self.fps, self.stats
        );
        for e in &self.events {
            eprintln!("  {}", serde_json::to_string(e).unwrap());
        }
    }
}

fn clip(name: &str, test: &str) -> Option<PathBuf> {
    let data = eval_data(test)?;
    if !media::media_tools(test) {
        return None;
    }
    let path = data.join("video_motion").join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    Some(path)
}

fn run_clip(name: &str, test: &str) -> Option<ClipRun> {
    let path = clip(name, test)?;
    let mut tracker = VisualTracker::new(&VisualEvidenceConfig::default(), false);
    let mut events = Vec::new();
    let mut samples = Vec::new();
    let fps = media::video_info(&path).fps;
    let (frames, _) = media::for_each_frame(&path, |k, img| {
        let faces = analyzer().analyze_image(&img).unwrap();
        let t = k as f64 / fps;
        let out = tracker.push(Duration::from_secs_f64(t), faces.first());
        samples.push((t, out.sample));
        events.extend(out.events);
    });
    let run = ClipRun {
        fps,
        frames,
        events,
        samples,
        stats: tracker.continuity.stats(),
    };
    run.report(name);
    Some(run)
}

/// Every frame has its one face, tracked without a break.
fn assert_continuous(run: &ClipRun, name: &str) {
    assert_eq!(run.stats.frames_without_face, 0, "{name}: {:?}", run.stats);
    assert_eq!(run.stats.breaks, 0, "{name}: {:?}", run.stats);
    assert_eq!(run.stats.gaps, 0, "{name}: {:?}", run.stats);
    assert_eq!(run.stats.pairs as usize, run.frames - 1, "{name}");
}

#[test]
fn d0_one_blink_and_a_smile_that_is_not_a_mouth_opening() {
    let Some(run) = run_clip("liveportrait_d0.mp4", "d0 (blink)") else {
        return;
    };
    // Frames 64-68 (2.56-2.72 s): the only blink; gaze shifts and a broad smile otherwise.
    let blinks = run.blinks();
    assert_eq!(blinks.len(), 1, "{blinks:?}");
    assert!(run.has_blink_at(64, 68), "{blinks:?}");
    assert!(run.turns().is_empty());
    assert_eq!(run.count("nod"), 0);
    assert_eq!(
        run.count("mouth"),
        0,
        "a smile with teeth is not an opened mouth"
    );
    assert_continuous(&run, "d0");
}

#[test]
fn d3_turns_both_ways_blinks_nods_and_opens_the_mouth() {
    let Some(run) = run_clip("liveportrait_d3.mp4", "d3 (turns)") else {
        return;
    };
    // Yaw from +0.6° to −17° (frames 5-25) and back: nose towards the image's left, i.e. the
    // woman turns to her right; later +24° (frames 245-290): to her left.
    let turns = run.turns();
    assert_eq!(turns.len(), 2, "{turns:?}");
    assert_eq!(turns[0].0, TurnDirection::Right, "{turns:?}");
    assert!(turns[0].1 < 0.3 && turns[0].2 < 1.2, "{turns:?}");
    assert_eq!(turns[1].0, TurnDirection::Left, "{turns:?}");
    assert!(turns[1].1 > 7.0 && turns[1].2 < 10.5, "{turns:?}");
    // Both eyes closed at frames 48-51 after a wink.
    assert!(run.has_blink_at(48, 51), "{:?}", run.blinks());
    // The mouth opens wide from frame ≈ 300 to the end.
    assert_eq!(run.count("mouth"), 1);
    // The head goes down twice (pitch −12° and −14° from −1°) and comes back up.
    assert_eq!(run.count("nod"), 2);
    assert_continuous(&run, "d3");
}

#[test]
fn d9_blinks_behind_glasses() {
    let Some(run) = run_clip("liveportrait_d9.mp4", "d9 (blinks with glasses)") else {
        return;
    };
    // Eyes visibly closed (eye crops) at these frames; the clip also has long closures
    // (frames 292-311, 521-535, 553-575) and head tilts.
    let closed = [
        (10, 17),
        (36, 44),
        (140, 143),
        (193, 195),
        (363, 369),
        (380, 390),
        (420, 430),
        (447, 452),
        (484, 491),
    ];
    for (a, b) in closed {
        assert!(
            run.has_blink_at(a, b),
            "no blink at frames {a}-{b}: {:?}",
            run.blinks()
        );
    }
    // Head tilts reach 14.9° of yaw at most: not a 15° turn.
    assert!(run.turns().is_empty(), "{:?}", run.turns());
    assert_eq!(
        run.count("mouth"),
        0,
        "cheek puffing is not an opened mouth"
    );
    assert_continuous(&run, "d9");
}

#[test]
fn d18_yawns_and_blinks() {
    let Some(run) = run_clip("liveportrait_d18.mp4", "d18 (mouth)") else {
        return;
    };
    // Two wide openings (frames ≈ 64-100 and ≈ 118-155), two blinks (frames 94-97, 185-187).
    assert_eq!(run.count("mouth"), 2);
    let blinks = run.blinks();
    assert!(run.has_blink_at(94, 97), "{blinks:?}");
    assert!(run.has_blink_at(185, 187), "{blinks:?}");
    assert_eq!(blinks.len(), 2, "{blinks:?}");
    assert!(run.turns().is_empty());
    assert_eq!(run.count("nod"), 0);
    assert_continuous(&run, "d18");
}

#[test]
fn d19_nearly_still_face_gives_nothing() {
    let Some(run) = run_clip("liveportrait_d19.mp4", "d19 (low motion)") else {
        return;
    };
    assert!(run.events.is_empty(), "{:?}", run.events);
    assert_continuous(&run, "d19");
}

#[test]
fn a_still_image_never_blinks_turns_nods_or_opens_its_mouth() {
    for name in ["liveportrait_d0.mp4", "liveportrait_d19.mp4"] {
        let Some(path) = clip(name, "still image") else {
            return;
        };
        let mut first = None;
        media::for_each_frame(&path, |k, img| {
            if k == 0 {
                first = Some(img);
            }
        });
        let img = first.expect("a first frame");
        // The analysis is deterministic: one analysis stands for every repeat of the frame.
        let faces = analyzer().analyze_image(&img).unwrap();
        assert_eq!(faces.len(), 1);
        let mut tracker = VisualTracker::new(&VisualEvidenceConfig::default(), false);
        let mut events = Vec::new();
        for k in 0..150 {
            // 30 fps with a little jitter, over 5 s.
            let t = Duration::from_millis(k * 33 + (k * 7) % 5);
            events.extend(tracker.push(t, faces.first()).events);
        }
        assert!(events.is_empty(), "{name}: {events:?}");
        let stats = tracker.continuity.stats();
        assert_eq!((stats.frames, stats.breaks, stats.min_iou), (150, 0, 1.0));
    }
}

/// The MiniFASNet models' directory: `LIFECERT_PAD_MODELS`, default `models/minifasnet` beside
/// the evaluation data; `None` (said loudly) when absent. Never copied into the repository.
fn pad_models(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("LIFECERT_PAD_MODELS") {
        Some(d) => PathBuf::from(d),
        None => eval_data(test)?.join("../models/minifasnet"),
    };
    if dir
        .join(lifecert_core::face::anti_spoofing::MINIFASNET_V2_FILE)
        .is_file()
    {
        Some(dir)
    } else {
        lifecert_test_support::skip(
            test,
            &format!(
                "MiniFASNet models not found at {} (set LIFECERT_PAD_MODELS)",
                dir.display()
            ),
        );
        None
    }
}

#[test]
fn passive_anti_spoofing_flags_the_print_and_the_replay() {
    let test = "passive anti-spoofing";
    let (Some(models), Some(data)) = (pad_models(test), eval_data(test)) else {
        return;
    };
    let pad = lifecert_core::face::anti_spoofing::PassiveAntiSpoof::from_dir(&models).unwrap();
    for (file, live) in [
        ("silentface_image_T1_live.jpg", true),
        ("silentface_image_F1_print.jpg", false),
        ("silentface_image_F2_replay.jpg", false),
    ] {
        let img = lifecert_core::image::decode::load_image(&data.join("pad").join(file)).unwrap();
        let faces = analyzer().analyze_image(&img).unwrap();
        let face = faces.first().expect("a face");
        let score = pad.score(&img, &face.detection.bbox).unwrap();
        eprintln!("{file}: {score:?}");
        assert_eq!(score.is_real, live, "{file}: {score:?}");
    }
}
