//! The one guidance path ([`lifecert_core::capture::guide`]) on real input.
//!
//! - A stream built from a GRID clip (the shared data) — no face, then the clip as recorded
//!   (too close, off the oval), then framed in the guide oval but dark, then framed and well
//!   lit — goes through the chain as the sessions composed it before there was one path
//!   (`quality::measure` with a motion history, then `GuidanceEngine::update`), through a
//!   [`Guide`] (what the bindings' guidance session and the sessions now use), and through a
//!   production enrollment and certification session. The guide gives the same updates as the
//!   old chain, frame for frame; both sessions show its instruction on every frame and speak
//!   it (and, at certification, its hints) exactly when it says so.
//! - A still picture's instruction ([`guide_still`], [`Engine::guide_still`], what
//!   `analyze_frame` and `lifecert analyze` report) is the first-frame instruction of a stream
//!   that starts with it, on the shared face photos and darkened and empty copies of them.

mod common;

use common::framing::{analyse_framed, Framing};
use common::subject::{certification_request, Keystore, ID, NAME, NOW};
use common::{eval_data, images_in, media};
use image::RgbImage;
use lifecert_core::api::certification::{CertificationSession, TemplateInput};
use lifecert_core::api::enrollment::{EnrollmentOutcome, EnrollmentRequest, EnrollmentSession};
use lifecert_core::api::session::{Phase, SessionUpdate, UtteranceKind};
use lifecert_core::capture::guidance::{GuidanceEngine, GuidanceUpdate, Instruction};
use lifecert_core::capture::guide::{guide_still, Guide};
use lifecert_core::capture::quality::{measure, MotionTracker};
use lifecert_core::text::messages::Language;
use lifecert_core::{Config, Frame, FrameAnalysis, Session};
use std::collections::BTreeSet;
use std::time::Duration;

/// Frames of the stream are 40 ms apart.
const FPS: f64 = 25.0;

fn at(k: usize) -> Duration {
    Duration::from_secs_f64(k as f64 / FPS)
}

fn darken(img: &RgbImage, gain: f32) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for c in &mut p.0 {
            *c = (f32::from(*c) * gain).round() as u8;
        }
    }
    out
}

fn analysed(image: RgbImage) -> FrameAnalysis {
    let faces = common::production_engine()
        .analyzer()
        .analyze_image(&image)
        .unwrap();
    FrameAnalysis { image, faces }
}

/// The stream, frame `k` at `k / 25` s: 2.4 s of an empty (black) frame, 1.6 s of the first
/// clip as recorded, 1.2 s of it framed in the guide oval at ×0.25 light, then 3 s framed.
fn stream() -> Option<Vec<FrameAnalysis>> {
    let data = eval_data("guide")?;
    if !media::media_tools("guide") {
        return None;
    }
    let q = Config::default().guidance.quality;
    let framing = Framing::portrait_for(46.0, 50.0, &q);
    let clip = common::grid::discover(&data)
        .iter()
        .find_map(|c| analyse_framed(c, common::production_engine().analyzer(), &framing, &q))
        .expect("a GRID clip with a face");
    eprintln!("clip {}", clip.analysed.clip.name);
    let framed = |i: usize| framing.compose(&clip.frames[i % clip.frames.len()], &clip.placement);
    let black = RgbImage::new(framing.width, framing.height);
    let mut frames = Vec::new();
    frames.extend((0..60).map(|_| analysed(black.clone())));
    frames.extend((0..40).map(|i| analysed(clip.frames[i % clip.frames.len()].clone())));
    frames.extend((0..30).map(|i| analysed(darken(&framed(i), 0.25))));
    frames.extend((0..75).map(|i| analysed(framed(i))));
    Some(frames)
}

/// The chain as the sessions, the bindings and the command line each wrote it before there
/// was one path: measure with a motion history, then update the guidance engine.
fn old_chain(frames: &[FrameAnalysis]) -> Vec<GuidanceUpdate> {
    let cfg = Config::default().guidance;
    let mut motion = MotionTracker::new();
    let mut engine = GuidanceEngine::new(cfg.clone()).unwrap();
    frames
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let m = measure(&f.image, &f.faces, &mut motion, at(k), &cfg.quality);
            engine.update(&m, at(k))
        })
        .collect()
}

/// What a session showed and said for one frame.
#[derive(Debug, PartialEq)]
struct Shown {
    instruction: Option<String>,
    spoke_instruction: bool,
    spoke_hint: Option<String>,
}

fn shown<O>(u: &SessionUpdate<O>) -> Shown {
    Shown {
        instruction: u.instruction.as_ref().map(|i| i.message_id.clone()),
        spoke_instruction: u.speak.iter().any(|s| s.kind == UtteranceKind::Instruction),
        spoke_hint: u
            .speak
            .iter()
            .find(|s| s.kind == UtteranceKind::Hint)
            .map(|s| s.message_id.clone()),
    }
}

/// What the guidance update says a positioning session shows and says (it speaks only while
/// positioning; hints are spoken by the certification only).
fn expected(g: &GuidanceUpdate, positioning: bool, hints: bool) -> Shown {
    Shown {
        instruction: Some(g.instruction.id().to_owned()),
        spoke_instruction: positioning && g.speak,
        spoke_hint: g
            .hint
            .filter(|_| positioning && hints && g.speak_hint)
            .map(|h| h.id().to_owned()),
    }
}

/// Drives `push` over the frames until the session ends, checking that every frame shows
/// and says what the guidance update `reference[k]` calls for (`hints`: the session speaks
/// hints); returns, per frame, whether the session was positioning before it and what it
/// showed.
fn drive<S: Session>(
    name: &str,
    session: &mut S,
    frames: &[FrameAnalysis],
    reference: &[GuidanceUpdate],
    hints: bool,
) -> Vec<(bool, Shown)> {
    // Both sessions start positioning (the gate is on); each update says the phase after it.
    let mut phase = Phase::Positioning;
    let mut out = Vec::new();
    for (k, f) in frames.iter().enumerate() {
        let positioning = phase == Phase::Positioning;
        let u = session.push_analysis(f.clone(), at(k)).unwrap();
        let got = shown(&u);
        assert_eq!(
            got,
            expected(&reference[k], positioning, hints),
            "{name} frame {k}"
        );
        out.push((positioning, got));
        phase = u.phase;
        if u.outcome.is_some() {
            break;
        }
    }
    out
}

#[test]
fn the_guide_gives_what_the_sessions_show_and_the_old_chain_gave() {
    let Some(frames) = stream() else { return };
    let reference = old_chain(&frames);

    // The guide, analysing the frames itself: the same updates, frame for frame.
    let mut guide = common::production_engine().guide().unwrap();
    for (k, f) in frames.iter().enumerate() {
        let frame = Frame::from_rgb_image(&f.image).unwrap();
        let seen = guide
            .push_frame(common::production_engine().analyzer(), &frame, at(k))
            .unwrap();
        assert_eq!(seen.analysis.faces.len(), f.faces.len(), "frame {k}");
        assert_eq!(seen.guidance, reference[k], "frame {k}");
        assert_eq!(guide.instruction(), Some(reference[k].instruction));
    }

    // The stream is worth comparing: several instructions, a spoken hint, and "hold still".
    let said: BTreeSet<&str> = reference.iter().map(|g| g.instruction.id()).collect();
    eprintln!("instructions shown: {said:?}");
    for k in [0, 59, 99, 129, 204] {
        eprintln!("frame {k}: {:?}", reference[k]);
    }
    assert!(said.len() >= 4, "{said:?}");
    assert!(said.contains(Instruction::NoFace.id()), "{said:?}");
    assert!(said.contains(Instruction::HoldStill.id()), "{said:?}");
    assert!(reference.iter().any(|g| g.speak_hint), "a hint is spoken");

    // The production enrollment shows the guide's instruction on every frame and speaks it
    // when the guide says so while positioning; it ends with a template.
    let keystore = Keystore::new(0);
    let request = EnrollmentRequest {
        name: NAME.into(),
        id_number: ID.into(),
        now_unix: NOW,
        language: Language::ZhHans,
        actions: Vec::new(),
        voice_digits: false,
        rng: None,
    };
    let mut session =
        EnrollmentSession::new(common::production_engine(), request, keystore.enrollment())
            .unwrap();
    session.give_consent(true).unwrap();
    session.continue_without_more_documents().unwrap();
    assert_eq!(session.phase(), Phase::Positioning);
    let enrollment = drive("enrollment", &mut session, &frames, &reference, false);
    let sealed = match session.outcome() {
        Some(EnrollmentOutcome::Enrolled(e)) => e.sealed_template.clone(),
        other => panic!("the framed clip enrolls: {other:?}"),
    };
    assert!(
        enrollment.iter().any(|(p, _)| !p),
        "the enrollment got past positioning"
    );

    // The production certification: the same, with the hints.
    let request = certification_request(TemplateInput::Device { sealed });
    let mut session = CertificationSession::new(
        common::production_engine(),
        request,
        keystore.certification(),
    )
    .unwrap();
    assert_eq!(session.phase(), Phase::Positioning);
    let certification = drive("certification", &mut session, &frames, &reference, true);
    assert!(
        certification.iter().any(|(_, s)| s.spoke_hint.is_some()),
        "the certification spoke the hint"
    );
    assert!(
        certification.iter().any(|(p, _)| !p),
        "the certification got past positioning"
    );
    eprintln!(
        "compared {} frames: guide {}, enrollment {}, certification {}",
        frames.len(),
        frames.len(),
        enrollment.len(),
        certification.len()
    );
}

#[test]
fn a_still_picture_gets_the_first_frame_instruction_of_a_stream() {
    let Some(data) = eval_data("guide") else {
        return;
    };
    let people = common::entries(&data.join("faces_identity"));
    let mut pictures = vec![common::astronaut()];
    for person in people.iter().take(6) {
        if let Some(p) = images_in(person).first() {
            pictures.push(lifecert_core::image::decode::load_image(p).unwrap());
        }
    }
    let dark: Vec<RgbImage> = pictures.iter().map(|p| darken(p, 0.25)).collect();
    pictures.extend(dark);
    pictures.push(RgbImage::new(480, 640));

    let cfg = Config::default().guidance;
    let mut said = BTreeSet::new();
    for (i, picture) in pictures.iter().enumerate() {
        let analysis = analysed(picture.clone());
        let still = guide_still(&cfg, analysis.clone()).unwrap().guidance;
        // The first frame of a stream that starts with the picture (and goes on with others).
        let mut guide = Guide::new(cfg.clone()).unwrap();
        let first = guide
            .push_analysis(analysis.clone(), Duration::ZERO)
            .guidance;
        guide.push_analysis(analysed(pictures[(i + 1) % pictures.len()].clone()), at(1));
        assert_eq!(still, first, "picture {i}");
        assert_eq!(still.frame_instruction, first.instruction, "picture {i}");
        // The old chain's first update.
        let m = measure(
            &analysis.image,
            &analysis.faces,
            &mut MotionTracker::new(),
            Duration::ZERO,
            &cfg.quality,
        );
        assert_eq!(
            still,
            GuidanceEngine::new(cfg.clone())
                .unwrap()
                .update(&m, Duration::ZERO)
        );
        // The engine's still (what `analyze_frame` reports), from the frame itself.
        let from_frame = common::production_engine()
            .guide_still(&Frame::from_rgb_image(picture).unwrap())
            .unwrap();
        assert_eq!(from_frame.guidance, still, "picture {i}");
        assert_eq!(from_frame.analysis.faces.len(), analysis.faces.len());
        said.insert(still.frame_instruction.id());
    }
    eprintln!("still instructions: {said:?}");
    assert!(said.contains(Instruction::NoFace.id()), "{said:?}");
    assert!(said.len() >= 3, "{said:?}");
}
