//! The facade called from Rust exactly as the generated bindings call it: a real frame
//! through `Engine` and `GuidanceSession`, and the error mapping on bad input.

use lifecert_ffi::{
    validate_id_number, Engine, FrameInput, GuidanceSession, IdKind, LifecertError, PixelFormat,
};
use std::path::PathBuf;
use std::sync::Arc;

fn astronaut() -> FrameInput {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/astronaut.png");
    let image = lifecert_core::image::decode::load_image(&path).unwrap();
    let (width, height) = image.dimensions();
    FrameInput {
        data: image.into_raw(),
        width,
        height,
        format: PixelFormat::Rgb8,
        row_strides: vec![],
        rotation_degrees: 0,
        mirrored: false,
    }
}

fn engine() -> Arc<Engine> {
    Engine::new().expect("the embedded models load")
}

#[test]
fn a_real_frame_gives_one_face_and_an_instruction() {
    let engine = engine();
    let frame = astronaut();
    let report = engine.analyze_frame(frame.clone(), "en".into()).unwrap();
    assert_eq!((report.width, report.height), (512, 512));
    assert_eq!(report.faces.len(), 1);
    let face = &report.faces[0];
    assert!(face.detection_score > 0.5 && face.presence_score > 0.5);
    let b = face.bounds;
    assert!(b.width > 60.0 && b.x > 0.0 && b.x + b.width < 512.0);
    let nose = face.keypoints.nose_tip;
    assert!(nose.x > b.x && nose.x < b.x + b.width && nose.y > b.y && nose.y < b.y + b.height);
    assert!(face.pose.yaw.abs() < 30.0 && face.pose.roll.abs() < 30.0);
    assert!(!report.instruction.id.is_empty() && !report.instruction.text.is_empty());

    // The same frame mirrored: the face moves to the other side, the verdict is the same.
    let mirrored = FrameInput {
        mirrored: true,
        ..frame
    };
    let m = engine.analyze_frame(mirrored, "zh-CN".into()).unwrap();
    let mb = m.faces[0].bounds;
    assert!(
        (mb.x - (512.0 - b.x - b.width)).abs() < 3.0,
        "{mb:?} vs {b:?}"
    );
    assert_eq!(m.instruction.id, report.instruction.id);
    assert_ne!(m.instruction.text, report.instruction.text, "zh-Hans text");
}

#[test]
fn a_guidance_session_follows_the_frames() {
    let engine = engine();
    let session: Arc<GuidanceSession> = engine.clone().guidance_session("en-GB".into()).unwrap();
    assert_eq!(session.language(), "en");
    let frame = astronaut();
    let first = session.push_frame(frame.clone(), 0).unwrap();
    assert!(first.changed && first.speak);
    assert_eq!(first.frame.faces.len(), 1);
    assert_eq!(first.instruction, first.frame.instruction);
    let mut last = first.clone();
    for i in 1..=5u64 {
        last = session.push_frame(frame.clone(), i * 100).unwrap();
        assert_eq!(
            last.frame.instruction, first.frame.instruction,
            "same frame, same verdict"
        );
    }
    assert_eq!(last.instruction, first.instruction);
    assert!(!last.changed);
    session.reset();
    let again = session.push_frame(frame, 10).unwrap();
    assert!(again.changed && again.speak, "a reset session starts over");
    let oval = engine.guide_oval();
    assert!(oval.radius_x > 0.0 && oval.radius_y > oval.radius_x);
}

fn bad_input(result: Result<impl std::fmt::Debug, LifecertError>) -> String {
    match result {
        Err(LifecertError::BadInput { reason }) => reason,
        other => panic!("expected BadInput, got {other:?}"),
    }
}

#[test]
fn bad_input_is_reported_as_bad_input() {
    let engine = engine();
    let frame = astronaut();
    let short = FrameInput {
        data: frame.data[..1000].to_vec(),
        ..frame.clone()
    };
    assert!(bad_input(engine.analyze_frame(short, "en".into())).contains("too short"));
    let rotated = FrameInput {
        rotation_degrees: 45,
        ..frame.clone()
    };
    assert!(bad_input(engine.analyze_frame(rotated, "en".into())).contains("rotation"));
    let session = engine.clone().guidance_session("en".into()).unwrap();
    let strides = FrameInput {
        row_strides: vec![1536, 1536],
        ..frame.clone()
    };
    assert!(bad_input(session.push_frame(strides, 0)).contains("plane"));
    assert!(bad_input(engine.analyze_frame(frame, "fr".into())).contains("language"));
    assert!(bad_input(engine.clone().guidance_session("xx".into())).contains("language"));
    assert!(bad_input(validate_id_number("110105194912310021".into())).contains("check"));
    let ok = validate_id_number(" 110105491231002 ".into()).unwrap();
    assert_eq!(ok.kind, IdKind::MainlandResidentLegacy15);
}

#[test]
fn engine_and_session_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<GuidanceSession>();
    let engine = engine();
    let frame = astronaut();
    let session = engine.clone().guidance_session("en".into()).unwrap();
    let handles: Vec<_> = (0..2u64)
        .map(|t| {
            let (engine, session, frame) = (engine.clone(), session.clone(), frame.clone());
            std::thread::spawn(move || {
                let report = engine.analyze_frame(frame.clone(), "en".into()).unwrap();
                let update = session.push_frame(frame, t * 40).unwrap();
                (report.faces.len(), update.frame.faces.len())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), (1, 1));
    }
}
