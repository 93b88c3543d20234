//! Whole enrollment and certification sessions through the FFI facade, called from Rust
//! exactly as the generated bindings call them: speaker B of the GRID corpus enrolls from one
//! clip and is certified from another (replayed against the digit it contains); a still
//! photo with the real voice is not certified; and the error mapping on bad input. The
//! Python and Kotlin tests run the same flow through the native library.

mod common;

use common::*;
use lifecert_ffi::{
    verify_attestation, CertificationOutcome, ChallengeSource, DocumentSide, EnrollmentOutcome,
    FrameLayout, LifecertError, PixelFormat, SessionPhase, UtteranceKind, VerifyOptions,
};

/// What a replayed recording needs the verifier to accept: its supplied challenge, the
/// recording-replay configuration, and digits only counted (no voice templates).
const REPLAY: VerifyOptions = VerifyOptions {
    accept_supplied_challenge: true,
    accept_seeded_challenge: false,
    accept_recording_replay: true,
    accept_custom_profile: false,
    accept_count_only: true,
};

const GENUINE_ENROLL: &str = "video_talking/grid_pwij3p.mpg";
const GENUINE_CERTIFY: &str = "video_talking/grid_id2_vcd_swwp2s.mpg";

fn supplied_two() -> ChallengeSource {
    ChallengeSource::Supplied { digits: vec![2] }
}

#[test]
fn enroll_from_one_clip_and_certify_from_another_of_the_same_speaker() {
    let Some(data) = eval_data("enroll_from_one_clip_and_certify_from_another_of_the_same_speaker")
    else {
        return;
    };
    let keys = Keystore::new();
    let enroll_clip = decode(&data.join(GENUINE_ENROLL));
    assert_eq!((enroll_clip.width, enroll_clip.height), (360, 288));

    // Enrollment, step by step.
    let s = engine()
        .enrollment_session(enrollment_request(), keys.enrollment())
        .unwrap();
    assert_eq!(s.phase(), SessionPhase::Consent);
    assert_eq!(s.language(), "zh-Hans");
    assert!(s.current_request().is_some_and(|u| !u.text.is_empty()));
    let u = s.give_consent(true).unwrap();
    assert_eq!(u.phase, SessionPhase::IdDocuments);
    assert_eq!(
        u.speak.first().map(|u| u.message_id.as_str()),
        Some("enrol_id_front")
    );
    assert_eq!(
        s.continue_without_more_documents().unwrap().phase,
        SessionPhase::Positioning
    );
    let mut outcome = None;
    let mut faces = 0;
    for (i, frame) in enroll_clip.frame_inputs().into_iter().enumerate() {
        let u = s.push_frame(frame, i as u64 * 40).unwrap();
        faces += usize::from(u.face.is_some());
        if u.outcome.is_some() {
            assert_eq!(u.phase, SessionPhase::Finished);
            assert_eq!(u.progress, 1.0);
            outcome = u.outcome;
            break;
        }
    }
    let outcome = match outcome {
        Some(o) => o,
        None => s.end_of_input(3000).unwrap().outcome.unwrap(),
    };
    assert_eq!(s.outcome(), Some(outcome.clone()));
    let EnrollmentOutcome::Enrolled {
        sealed_template,
        sealed_voice_profile,
        subject_hex,
        package,
        result_text,
    } = outcome
    else {
        panic!("not enrolled: {outcome:#?}");
    };
    eprintln!(
        "enrolled from {faces} frames with a face: {} B sealed template, {} review frames",
        sealed_template.len(),
        package.frame_count
    );
    assert!(sealed_template.len() > 100);
    assert!(sealed_voice_profile.is_none());
    assert_eq!(subject_hex.len(), 64);
    assert_eq!(package.frame_count, 5);
    assert_eq!(package.frames.len(), 5);
    assert!(package
        .frames
        .iter()
        .all(|f| f.jpeg.starts_with(&[0xFF, 0xD8]) && f.interocular_px > 10.0));
    assert!(package.documents.is_empty());
    assert_eq!(package.id_front_distance, None);
    assert_eq!(
        package.liveness_passed, None,
        "no action step was asked for"
    );
    assert_eq!(package.pad_score, None, "no anti-spoofing models loaded");
    assert_eq!(result_text.kind, UtteranceKind::Result);
    assert!(matches!(
        s.tick(4000),
        Err(LifecertError::BadInput { reason }) if reason.contains("finished")
    ));

    // Certification with the device-sealed template, the clip replayed against its digit.
    let clip = decode(&data.join(GENUINE_CERTIFY));
    let session = engine()
        .certification_session(
            certification_request(sealed_template.clone(), supplied_two()),
            keys.certification(),
        )
        .unwrap();
    assert_eq!(
        session.phase(),
        SessionPhase::Liveness,
        "recordings skip positioning"
    );
    let (outcome, prompts) = replay(&session, &clip.frame_inputs(), &clip.audio, 350, 3000);
    assert_eq!(
        prompts,
        vec!["Please read these numbers aloud: 2".to_string()]
    );
    let CertificationOutcome::Certified {
        attestation_json,
        face_distance,
        face_threshold,
        liveness,
        result_text,
        sms_text,
        refreshed_voice_profile,
    } = outcome
    else {
        panic!("the genuine replay was not certified: {outcome:#?}");
    };
    // The SMS the authority will send: this year, the name masked (张*), provincial wording.
    assert_eq!(sms_text.kind, UtteranceKind::Sms);
    assert_eq!(sms_text.message_id, "sms_success_provincial");
    assert!(
        sms_text.text.contains("2026") && sms_text.text.contains("张*"),
        "{}",
        sms_text.text
    );
    assert!(refreshed_voice_profile.is_none(), "no voice enrolled");
    assert_eq!(liveness.digit_check.as_deref(), Some("count_only"));
    assert!(!liveness.voice_checked);
    eprintln!("certified: distance {face_distance:.3} (threshold {face_threshold}), {liveness:?}");
    assert!(face_distance <= face_threshold);
    assert!(liveness.passed && liveness.failure_id.is_none());
    assert_eq!(liveness.digits, vec![2]);
    assert!(liveness.speech_onset_ms.is_some_and(|ms| ms > 0));
    assert!(liveness.av_sync.is_some());
    assert_eq!(liveness.digits_verified, None, "no voice templates");
    assert_eq!(result_text.message_id, "certification_success");
    assert!(result_text.text.contains("2026"));

    // The authority's check: accepted only when replays are allowed.
    let summary = verify_attestation(
        attestation_json.clone(),
        keys.device_public(),
        SERVER_NONCE.to_vec(),
        REPLAY,
    )
    .unwrap();
    assert_eq!(summary.challenge_origin, "supplied");
    assert_eq!(summary.profile, "recording_replay");
    assert_eq!(summary.digit_check, "count_only");
    assert_eq!((summary.digits_heard, summary.digits_matched), (1, 0));
    assert!(!summary.voice_checked);
    assert_eq!(summary.challenge_digits, vec![2]);
    assert_eq!(summary.certification_year, 2026);
    assert_eq!(summary.subject_hex, subject_hex);
    assert_eq!(summary.proxy_relation.as_deref(), Some("child"));
    assert_eq!(summary.server_nonce, SERVER_NONCE.to_vec());
    assert!(summary.face_accepted && (summary.face_distance - face_distance).abs() < 1e-6);
    assert!(summary.face_continuity > 0.9);
    assert!(summary.time_unix >= NOW && summary.time_unix <= NOW + 3);
    assert!(summary.models.len() >= 3);
    match verify_attestation(
        attestation_json.clone(),
        keys.device_public(),
        SERVER_NONCE.to_vec(),
        VerifyOptions::default(),
    ) {
        Err(LifecertError::TamperedOrWrongKey { reason }) => {
            assert!(reason.contains("supplied"), "{reason}")
        }
        other => panic!("a supplied challenge must be refused by default: {other:?}"),
    }
    for (json, key, nonce) in [
        (attestation_json.clone(), keys.device_public(), vec![6; 16]),
        (
            attestation_json.clone(),
            Keystore::new().device_public(),
            SERVER_NONCE.to_vec(),
        ),
        (
            attestation_json.replacen(":", ": ", 1),
            keys.device_public(),
            SERVER_NONCE.to_vec(),
        ),
    ] {
        assert!(matches!(
            verify_attestation(json, key, nonce, REPLAY),
            Err(LifecertError::TamperedOrWrongKey { .. })
        ));
    }
    // After the end, the session refuses every call.
    assert!(matches!(
        session.push_audio(vec![0; 320], 3100),
        Err(LifecertError::BadInput { .. })
    ));
    assert!(session.outcome().is_some());

    // The same voice over a still photo of the first frame: not certified.
    let still = vec![clip.frame_inputs()[0].clone(); clip.frames.len()];
    let session = engine()
        .certification_session(
            certification_request(sealed_template.clone(), supplied_two()),
            keys.certification(),
        )
        .unwrap();
    let (outcome, _) = replay(&session, &still, &clip.audio, 350, 3000);
    let CertificationOutcome::NotCertified {
        failure_id,
        message,
        retry_allowed,
        result_text,
        liveness,
        face_distance,
        ..
    } = outcome
    else {
        panic!("a still photo was certified: {outcome:#?}");
    };
    eprintln!("still photo: {failure_id}, {liveness:?}");
    assert_eq!(failure_id, "liveness:lips_not_moving_with_voice");
    assert_eq!(message.message_id, "liveness_lips_not_moving");
    assert!(
        retry_allowed,
        "the first failure of the day offers another try"
    );
    assert_eq!(result_text.message_id, "result_failure_retry");
    assert!(liveness.is_some_and(|l| !l.passed));
    assert_eq!(face_distance, None, "no match without liveness");

    // Two failures already today: the third sends the person to the office.
    let mut request = certification_request(sealed_template, supplied_two());
    request.previous_failures = 2;
    let session = engine()
        .certification_session(request, keys.certification())
        .unwrap();
    let (outcome, _) = replay(&session, &still, &clip.audio, 350, 3000);
    assert!(matches!(
        outcome,
        CertificationOutcome::NotCertified { retry_allowed: false, ref result_text, .. }
            if result_text.message_id == "result_failure_office"
    ));
}

fn bad_input<T: std::fmt::Debug>(what: &str, result: Result<T, LifecertError>) -> String {
    match result {
        Err(LifecertError::BadInput { reason }) => reason,
        other => panic!("{what}: expected BadInput, got {other:?}"),
    }
}

fn tampered<T: std::fmt::Debug>(what: &str, result: Result<T, LifecertError>) -> String {
    match result {
        Err(LifecertError::TamperedOrWrongKey { reason }) => reason,
        other => panic!("{what}: expected TamperedOrWrongKey, got {other:?}"),
    }
}

#[test]
fn bad_input_is_mapped_to_what_the_shell_can_do() {
    let keys = Keystore::new();
    let photo = astronaut();
    // A still photo enrolls without an action step (no eval data needed).
    let sealed = sealed_template(enroll(&keys, &vec![photo.clone(); 8]));
    let engine = engine();
    let certify = |request| engine.certification_session(request, keys.certification());

    // Requests.
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.id_number = "110105194912310021".into();
    assert!(bad_input("ID check character", certify(r)).contains("check character"));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.name = "张三 Zhang".into();
    bad_input("mixed-script name", certify(r));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.server_nonce = vec![5; 15];
    assert!(bad_input("short nonce", certify(r)).contains("16 bytes"));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.language = "fr".into();
    assert!(bad_input("language", certify(r)).contains("language"));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.proxy_relation = Some(" ".into());
    assert!(bad_input("empty relation", certify(r)).contains("proxy relation"));
    let r = certification_request(
        sealed.clone(),
        ChallengeSource::Supplied { digits: vec![2, 2] },
    );
    assert!(bad_input("repeated digit", certify(r)).contains("challenge"));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.authority_public_key = Some(vec![1; 31]);
    assert!(bad_input("short authority key", certify(r)).contains("authority public key"));
    let mut short_key = keys.certification();
    short_key.sealing_key.truncate(16);
    bad_input(
        "short sealing key",
        engine.certification_session(
            certification_request(sealed.clone(), supplied_two()),
            short_key,
        ),
    );
    let mut r = enrollment_request();
    r.actions = vec![lifecert_ffi::Action::Blink, lifecert_ffi::Action::Blink];
    bad_input(
        "duplicate action",
        engine.enrollment_session(r, keys.enrollment()),
    );
    let mut r = enrollment_request();
    r.id_number = "1101051949".into();
    bad_input("short ID", engine.enrollment_session(r, keys.enrollment()));

    // Templates: altered, another key, another person, an issued one under another key.
    let mut altered = sealed.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    tampered(
        "altered template",
        certify(certification_request(altered, supplied_two())),
    );
    let other_keys = Keystore::new();
    tampered(
        "another sealing key",
        engine.certification_session(
            certification_request(sealed.clone(), supplied_two()),
            other_keys.certification(),
        ),
    );
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.id_number = "110105194912310038".into();
    tampered("another person's template", certify(r));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.authority_public_key = Some(other_keys.device_public());
    tampered("not an issued template", certify(r));
    let mut r = certification_request(sealed.clone(), supplied_two());
    r.sealed_voice_profile = Some(vec![0; 80]);
    tampered("damaged voice templates", certify(r));

    // Inputs of a running certification.
    let session = certify(certification_request(sealed.clone(), supplied_two())).unwrap();
    let short = lifecert_ffi::FrameInput {
        data: photo.data[..1000].to_vec(),
        ..photo.clone()
    };
    assert!(bad_input("short frame", session.push_frame(short, 0)).contains("too short"));
    let layout = FrameLayout {
        width: 512,
        height: 512,
        format: PixelFormat::Rgb8,
        row_strides: vec![],
        rotation_degrees: 0,
        mirrored: false,
    };
    assert!(bad_input(
        "short borrowed frame",
        session.push_frame_bytes(&photo.data[..1000], layout.clone(), 0)
    )
    .contains("too short"));
    let u = session
        .push_frame_bytes(&photo.data, layout.clone(), 0)
        .unwrap();
    assert!(
        u.face.is_some(),
        "the borrowed frame is read like a copied one"
    );
    assert!(bad_input("empty audio", session.push_audio(vec![], 10)).contains("audio chunk"));
    assert!(
        bad_input("11 s of audio", session.push_audio(vec![0; 176_000], 10))
            .contains("audio chunk")
    );
    let end = session.end_of_input(100).unwrap();
    assert_eq!(end.phase, SessionPhase::Finished);
    assert!(matches!(
        end.outcome,
        Some(CertificationOutcome::NotCertified { .. })
    ));
    for (what, result) in [
        ("tick", session.tick(200).map(drop)),
        ("frame", session.push_frame(photo.clone(), 200).map(drop)),
        (
            "borrowed frame",
            session.push_frame_bytes(&photo.data, layout, 200).map(drop),
        ),
        ("prompt", session.prompt_started(200).map(drop)),
    ] {
        assert!(bad_input(what, result).contains("finished"));
    }

    // Calls out of phase in an enrollment.
    let s = engine
        .enrollment_session(enrollment_request(), keys.enrollment())
        .unwrap();
    assert!(bad_input("frame before consent", s.push_frame(photo.clone(), 0)).contains("phase"));
    bad_input("skip before consent", s.continue_without_more_documents());
    s.give_consent(true).unwrap();
    bad_input(
        "not a photo",
        s.add_id_document(DocumentSide::Front, b"not a photo".to_vec()),
    );
    let declined = engine
        .enrollment_session(enrollment_request(), keys.enrollment())
        .unwrap();
    let u = declined.give_consent(false).unwrap();
    assert!(matches!(
        u.outcome,
        Some(EnrollmentOutcome::NotEnrolled { ref failure_id, .. }) if failure_id == "consent_declined"
    ));
    assert!(bad_input("after decline", declined.give_consent(true)).contains("finished"));

    // Verification input.
    bad_input(
        "short device key",
        verify_attestation("{}".into(), vec![1; 31], SERVER_NONCE.to_vec(), REPLAY),
    );
    tampered(
        "not an attestation",
        verify_attestation(
            "{}".into(),
            keys.device_public(),
            SERVER_NONCE.to_vec(),
            REPLAY,
        ),
    );
}

#[test]
fn an_issued_template_opens_only_under_the_authority_key() {
    use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
    use lifecert_core::identity::person::{Date, IdNumber, SubjectKey, SubjectReference};
    use lifecert_core::matching::sealed_template::{open_template, seal_issued, IssuedTemplate};
    use lifecert_core::matching::templates::descriptor_model;

    let keys = Keystore::new();
    let sealed = sealed_template(enroll(&keys, &vec![astronaut(); 8]));
    // The authority's side, in the core: open the enrollment, sign it, seal it for the device.
    let subject = SubjectReference::derive(
        &SubjectKey::new(&keys.subject).unwrap(),
        &IdNumber::parse(ID, Date::new(2026, 12, 2).unwrap()).unwrap(),
    );
    let analyzer = lifecert_core::Analyzer::new(lifecert_core::Config::default()).unwrap();
    let model = descriptor_model(&analyzer).unwrap();
    let sealing = SealingKey::new(&keys.sealing).unwrap();
    let template = open_template(&sealed, &sealing, &subject, &model).unwrap();
    let (authority, _) = SigningKeyPair::generate().unwrap();
    let issued = IssuedTemplate::issue(&authority, &subject, &template, NOW).unwrap();
    let issued = seal_issued(&issued, &sealing).unwrap();

    let open = |key: Vec<u8>| {
        let mut r = certification_request(issued.clone(), ChallengeSource::Seeded { seed: 7 });
        r.authority_public_key = Some(key);
        r.proxy_relation = None;
        engine().certification_session(r, keys.certification())
    };
    let session = open(authority.public_key().as_bytes().to_vec()).unwrap();
    assert_eq!(session.language(), "en");
    tampered("another authority", open(keys.device_public()));
    tampered(
        "an issued template taken as a device one",
        engine().certification_session(
            certification_request(issued.clone(), supplied_two()),
            keys.certification(),
        ),
    );
}

#[test]
fn sessions_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<lifecert_ffi::CertificationSession>();
    assert_send_sync::<lifecert_ffi::EnrollmentSession>();
    let keys = Keystore::new();
    let s = engine()
        .enrollment_session(enrollment_request(), keys.enrollment())
        .unwrap();
    s.give_consent(true).unwrap();
    s.continue_without_more_documents().unwrap();
    let photo = astronaut();
    let handles: Vec<_> = (0..2u64)
        .map(|t| {
            let (s, photo) = (s.clone(), photo.clone());
            std::thread::spawn(move || {
                // Four frames in all: fewer than an enrollment keeps, so it does not finish.
                (0..2u64)
                    .map(|i| {
                        s.push_frame(photo.clone(), t * 20 + i * 40)
                            .map(|u| u.phase)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for phase in h.join().unwrap() {
            assert!(phase.is_ok(), "{phase:?}");
        }
    }
}
