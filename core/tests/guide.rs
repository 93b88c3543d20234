//! The one guidance path ([`lifecert_core::capture::guide`]) on real input.
//!
//! - A stream built from a GRID clip (the shared data) — no face, then the clip as recorded
//!   (too close, off the oval), then framed in the guide oval but dark, then framed and well
//!   lit — goes through the chain as the sessions composed it before there was one path
//!   (`quality::measure` with a motion history, then `GuidanceEngine::update`), through a
//!   [`Guide`] (what the bindings' guidance session and the sessions now use), and through a
//!   production enrolment and certification session. The guide gives the same updates as the
//!   old chain, frame for frame; both sessions show its instruction on every frame and speak
//!   it (and, at certification, its hints) exactly when it says so.
//! - A still picture's instruction ([`guide_still`], [`Engine::guide_still`], what
//!   `analyze_frame` and `lifecert analyze` report) is the first-frame instruction of a stream
//!   that starts with it, on the shared face photos and darkened and empty copies of them.

mod common;

use common::framing::{analyse_framed, Framing};
use common::{eval_data, images_in, media};
use image::RgbImage;
use lifecert_core::api::certification::{
    CertificationKeys, CertificationRequest, CertificationSession, ChallengeSource, TemplateInput,
};
use lifecert_core::api::enrollment::{
    EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest, EnrollmentSession,
};
use lifecert_core::api::session::{Phase, SessionUpdate, UtteranceKind};
use lifecert_core::capture::guidance::{GuidanceEngine, GuidanceUpdate, Instruction};
use lifecert_core::capture::guide::{guide_still, Guide};
use lifecert_core::capture::quality::{measure, MotionTracker};
use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
use lifecert_core::identity::person::SubjectKey;
use lifecert_core::liveness::challenge::Nonce;
use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;
use lifecert_core::{Config, Engine, Frame, FrameAnalysis};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const NAME: &str = "张三";
const ID: &str = "11010519491231002X";
/// 2026-12-02 12:00 Beijing time.
const NOW: u64 = 1_796_184_000;
/// Frames of the stream are 40 ms apart.
const FPS: f64 = 25.0;

/// The production engine (positioning gate on).
fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::new(Config::default()).unwrap()))
        .clone()
}

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
    let faces = engine().analyzer().analyze_image(&image).unwrap();
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
        .find_map(|c| analyse_framed(c, engine().analyzer(), &framing, &q))
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

/// Drives `push` over the frames until the session ends; returns, per frame, whether the
/// session was positioning before it and what it showed.
fn drive<O>(
    frames: &[FrameAnalysis],
    mut phase: impl FnMut() -> Phase,
    mut push: impl FnMut(FrameAnalysis, Duration) -> SessionUpdate<O>,
) -> Vec<(bool, Shown)> {
    let mut out = Vec::new();
    for (k, f) in frames.iter().enumerate() {
        let positioning = phase() == Phase::Positioning;
        let u = push(f.clone(), at(k));
        out.push((positioning, shown(&u)));
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
    let mut guide = engine().guide().unwrap();
    for (k, f) in frames.iter().enumerate() {
        let frame = Frame::from_rgb_image(&f.image).unwrap();
        let seen = guide
            .push_frame(engine().analyzer(), &frame, at(k))
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

    // The production enrolment shows the guide's instruction on every frame and speaks it
    // when the guide says so while positioning; it ends with a template.
    let keys = || EnrollmentKeys {
        subject: SubjectKey::new(&[7; 32]).unwrap(),
        sealing: SealingKey::new(&[9; 32]).unwrap(),
    };
    let request = EnrollmentRequest {
        name: NAME.into(),
        id_number: ID.into(),
        now_unix: NOW,
        language: Language::ZhHans,
        actions: Vec::new(),
        voice_digits: false,
        rng: None,
    };
    let session =
        std::cell::RefCell::new(EnrollmentSession::new(engine(), request, keys()).unwrap());
    session.borrow_mut().give_consent(true).unwrap();
    session
        .borrow_mut()
        .continue_without_more_documents()
        .unwrap();
    let enrolment = drive(
        &frames,
        || session.borrow().phase(),
        |f, t| session.borrow_mut().push_analysis(f, t).unwrap(),
    );
    for (k, (positioning, got)) in enrolment.iter().enumerate() {
        assert_eq!(
            *got,
            expected(&reference[k], *positioning, false),
            "enrolment frame {k}"
        );
    }
    let sealed = match session.borrow().outcome() {
        Some(EnrollmentOutcome::Enrolled(e)) => e.sealed_template.clone(),
        other => panic!("the framed clip enrols: {other:?}"),
    };
    assert!(
        enrolment.iter().any(|(p, _)| !p),
        "the enrolment got past positioning"
    );

    // The production certification: the same, with the hints.
    let request = CertificationRequest {
        name: NAME.into(),
        id_number: ID.into(),
        performed_by: lifecert_core::api::attestation::PerformedBy::Subject,
        template: TemplateInput::Device { sealed },
        voice_templates: None,
        server_nonce: Nonce([5; 16]),
        certification_year: 2026,
        retiree_category: RetireeCategory::Provincial,
        now_unix: NOW,
        previous_failures: 0,
        language: Language::ZhHans,
        challenge: ChallengeSource::Drawn,
    };
    let keys = CertificationKeys {
        subject: SubjectKey::new(&[7; 32]).unwrap(),
        sealing: SealingKey::new(&[9; 32]).unwrap(),
        device: SigningKeyPair::from_pkcs8(&SigningKeyPair::generate_pkcs8().unwrap()).unwrap(),
    };
    let session =
        std::cell::RefCell::new(CertificationSession::new(engine(), request, keys).unwrap());
    let certification = drive(
        &frames,
        || session.borrow().phase(),
        |f, t| session.borrow_mut().push_analysis(f, t).unwrap(),
    );
    for (k, (positioning, got)) in certification.iter().enumerate() {
        assert_eq!(
            *got,
            expected(&reference[k], *positioning, true),
            "certification frame {k}"
        );
    }
    assert!(
        certification.iter().any(|(_, s)| s.spoke_hint.is_some()),
        "the certification spoke the hint"
    );
    assert!(
        certification.iter().any(|(p, _)| !p),
        "the certification got past positioning"
    );
    eprintln!(
        "compared {} frames: guide {}, enrolment {}, certification {}",
        frames.len(),
        frames.len(),
        enrolment.len(),
        certification.len()
    );
}

#[test]
fn a_still_picture_gets_the_first_frame_instruction_of_a_stream() {
    let Some(data) = eval_data("guide") else {
        return;
    };
    let dir = data.join("faces_identity");
    let mut people: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
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
        let from_frame = engine()
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
