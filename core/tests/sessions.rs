//! Whole enrollment and certification sessions on real recordings: enroll speaker B from one
//! GRID clip, certify with another clip of the same speaker (replayed against the digit it
//! contains), and the attacks a recording can mount — a drawn challenge it cannot answer, a
//! still photo with a real voice, another person's clip — plus the session API's errors.

mod common;

use common::subject::{ID, NAME, NOW};
use common::{eval_data, media};
use image::RgbImage;
use lifecert_core::api::attestation::{
    verify_attestation, verify_attestation_with, AttestationError, ChallengeOrigin, ConfigProfile,
    InMemoryNonceLedger, PerformedBy, ProxyRelation, VerifyPolicy,
};
use lifecert_core::api::certification::{
    CertificationFailure, CertificationKeys, CertificationOutcome, CertificationRequest,
    CertificationSession, ChallengeSource, TemplateInput,
};
use lifecert_core::api::enrollment::{
    EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest, EnrollmentSession,
};
use lifecert_core::api::session::{Phase, SessionError, UtteranceKind};
use lifecert_core::audio::resample::resample_linear_or_better;
use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
use lifecert_core::identity::person::{IdNumber, SubjectKey, SubjectReference};
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce, SeededRandom};
use lifecert_core::liveness::digit_verify::{TemplateDigitVerifier, VerifyConfig};
use lifecert_core::liveness::sequencer::{DigitCheck, FailReason};
use lifecert_core::matching::sealed_template::{open_template, seal_issued, IssuedTemplate};
use lifecert_core::matching::templates::descriptor_model;
use lifecert_core::text::messages::Language;
use lifecert_core::{Config, Engine, Error, Frame};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const FPS: f64 = 25.0;

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::new(Config::for_recordings()).unwrap()))
        .clone()
}

struct Clip {
    frames: Vec<RgbImage>,
    audio: Vec<i16>,
}

fn clip(data: &Path, name: &str) -> &'static Clip {
    static CLIPS: OnceLock<std::sync::Mutex<Vec<(String, &'static Clip)>>> = OnceLock::new();
    let cache = CLIPS.get_or_init(Default::default);
    if let Some((_, c)) = cache.lock().unwrap().iter().find(|(n, _)| n == name) {
        return c;
    }
    let path = data.join("video_talking").join(name);
    let mut frames = Vec::new();
    media::for_each_frame(&path, |_, img| frames.push(img));
    let audio = media::audio_16k(&path)
        .iter()
        .map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    let c: &'static Clip = Box::leak(Box::new(Clip { frames, audio }));
    cache.lock().unwrap().push((name.to_owned(), c));
    c
}

fn data(test: &str) -> Option<PathBuf> {
    let d = eval_data(test)?;
    media::media_tools(test).then_some(d)
}

/// Keys that stay the same for every session of a test (the platform keystore).
struct Keystore {
    subject: [u8; 32],
    sealing: [u8; 32],
    device: Vec<u8>,
}

impl Keystore {
    fn new() -> Self {
        Self {
            subject: [7; 32],
            sealing: [9; 32],
            device: SigningKeyPair::generate_pkcs8().unwrap().to_vec(),
        }
    }
    fn enrollment(&self) -> EnrollmentKeys {
        EnrollmentKeys {
            subject: SubjectKey::new(&self.subject).unwrap(),
            sealing: SealingKey::new(&self.sealing).unwrap(),
        }
    }
    fn certification(&self) -> CertificationKeys {
        CertificationKeys {
            subject: SubjectKey::new(&self.subject).unwrap(),
            sealing: SealingKey::new(&self.sealing).unwrap(),
            device: SigningKeyPair::from_pkcs8(&self.device).unwrap(),
        }
    }
    fn device_public(&self) -> lifecert_core::crypto::sealing::PublicKey {
        SigningKeyPair::from_pkcs8(&self.device)
            .unwrap()
            .public_key()
    }
}

fn enrollment_request(voice: bool) -> EnrollmentRequest {
    EnrollmentRequest {
        name: NAME.into(),
        id_number: ID.into(),
        now_unix: NOW,
        language: Language::ZhHans,
        actions: Vec::new(),
        voice_digits: voice,
        rng: None,
    }
}

/// Enrolls from the frames of `clip` (t = i / 25 s) and returns the sealed template.
fn enroll(keys: &Keystore, clip: &Clip) -> Vec<u8> {
    let mut s =
        EnrollmentSession::new(engine(), enrollment_request(false), keys.enrollment()).unwrap();
    assert_eq!(s.phase(), Phase::Consent);
    s.give_consent(true).unwrap();
    s.continue_without_more_documents().unwrap();
    for (i, img) in clip.frames.iter().enumerate() {
        let t = Duration::from_secs_f64(i as f64 / FPS);
        let u = s
            .push_frame(&Frame::from_rgb_image(img).unwrap(), t)
            .unwrap();
        if u.outcome.is_some() {
            break;
        }
    }
    if s.outcome().is_none() {
        s.end_of_input(Duration::from_secs(3)).unwrap();
    }
    match s.outcome().unwrap() {
        EnrollmentOutcome::Enrolled(e) => {
            assert_eq!(e.package.frames.len(), 5, "five good frames kept");
            assert!(e.package.frames.iter().all(|f| !f.jpeg.is_empty()));
            assert!(e.package.liveness.is_none(), "no action step was asked for");
            assert!(e.result_text.text.contains("登记完成"));
            e.sealed_template.clone()
        }
        EnrollmentOutcome::NotEnrolled(n) => panic!("not enrolled: {n:?}"),
    }
}

fn request(template: TemplateInput, challenge: ChallengeSource) -> CertificationRequest {
    CertificationRequest {
        performed_by: PerformedBy::Proxy {
            relation: ProxyRelation::Child,
        },
        language: Language::En,
        challenge,
        ..common::subject::certification_request(template)
    }
}

/// How the replaying shell reports its text-to-speech.
#[derive(Clone, Copy)]
enum Tts {
    /// The prompt ends at this session time (a replay with a known prompt end).
    EndsAt(f64),
    /// The prompt takes this long from when it is asked for (a live prompt).
    Takes(f64),
}

/// Replays `frames` and `audio` into a certification session as a shell would: frames at
/// 25 fps, audio in 40 ms chunks interleaved in time, prompts reported per `tts`; then
/// `end_of_input`. Returns the outcome and the prompts spoken.
fn certify(
    session: &mut CertificationSession,
    frames: &[&RgbImage],
    audio: &[i16],
    tts: Tts,
) -> (CertificationOutcome, Vec<String>) {
    let chunk = 640;
    let mut next_audio = 0usize;
    let mut prompts = Vec::new();
    let mut pending_end: Option<Duration> = None;
    let end = Duration::from_secs_f64(frames.len() as f64 / FPS);
    for (i, img) in frames.iter().enumerate() {
        let t = Duration::from_secs_f64(i as f64 / FPS);
        while next_audio < audio.len() && (next_audio as f64 / 16_000.0) <= t.as_secs_f64() {
            let at = Duration::from_secs_f64(next_audio as f64 / 16_000.0);
            let stop = (next_audio + chunk).min(audio.len());
            let u = session.push_audio(&audio[next_audio..stop], at).unwrap();
            assert!(u.outcome.is_none() || session.outcome().is_some());
            next_audio = stop;
            if session.outcome().is_some() {
                return (session.outcome().unwrap().clone(), prompts);
            }
        }
        if let Some(e) = pending_end {
            if t >= e {
                session.prompt_finished(e).unwrap();
                pending_end = None;
            }
        }
        let u = session
            .push_frame(&Frame::from_rgb_image(img).unwrap(), t)
            .unwrap();
        for s in u.speak.iter().filter(|s| s.kind == UtteranceKind::Prompt) {
            prompts.push(s.text.clone());
            session.prompt_started(t).unwrap();
            let e = match tts {
                Tts::EndsAt(s) => Duration::from_secs_f64(s).max(t),
                Tts::Takes(s) => t + Duration::from_secs_f64(s),
            };
            pending_end = Some(e);
        }
        if session.outcome().is_some() {
            return (session.outcome().unwrap().clone(), prompts);
        }
    }
    while next_audio < audio.len() && session.outcome().is_none() {
        let at = Duration::from_secs_f64(next_audio as f64 / 16_000.0);
        let stop = (next_audio + chunk).min(audio.len());
        session.push_audio(&audio[next_audio..stop], at).unwrap();
        next_audio = stop;
    }
    if session.outcome().is_none() {
        if let Some(e) = pending_end {
            session.prompt_finished(e.min(end)).unwrap();
        }
    }
    if session.outcome().is_none() {
        session.end_of_input(end).unwrap();
    }
    (session.outcome().unwrap().clone(), prompts)
}

fn supplied(digits: &[u8]) -> ChallengeSource {
    ChallengeSource::Supplied(DigitChallenge {
        nonce: Nonce([1; 16]),
        digits: digits.to_vec(),
    })
}

#[test]
fn enroll_from_one_clip_and_certify_with_another_clip_of_the_same_speaker() {
    let Some(data) = data("enroll_from_one_clip_and_certify_with_another_clip_of_the_same_speaker")
    else {
        return;
    };
    let keys = Keystore::new();
    let sealed = enroll(&keys, clip(&data, "grid_pwij3p.mpg"));
    // "set white with p two soon": the speech starts at 0.49 s; the prompt "ended" at 0.35 s.
    let genuine = clip(&data, "grid_id2_vcd_swwp2s.mpg");
    let mut s = CertificationSession::new(
        engine(),
        request(TemplateInput::Device { sealed }, supplied(&[2])),
        keys.certification(),
    )
    .unwrap();
    assert_eq!(
        s.phase(),
        Phase::Liveness,
        "recordings skip the positioning gate"
    );
    let frames: Vec<&RgbImage> = genuine.frames.iter().collect();
    let (outcome, prompts) = certify(&mut s, &frames, &genuine.audio, Tts::EndsAt(0.35));
    assert_eq!(
        prompts,
        vec!["Please read these numbers aloud: 2".to_string()]
    );
    let CertificationOutcome::Certified(c) = outcome else {
        panic!("genuine replay not certified: {outcome:#?}");
    };
    eprintln!(
        "genuine: distance {:.3} (threshold {}), av sync {:?}, onset {:?} ms",
        c.face_match.distance,
        c.face_match.threshold,
        c.liveness.evidence.av_sync,
        c.liveness.evidence.speech_onset_after_prompt_ms
    );
    assert!(c.face_match.accepted);
    assert!(c.result_text.text.contains("2026"));
    // The authority's backend: refused by default (the challenge was supplied), accepted
    // when replays are explicitly allowed, and only once per server nonce.
    let mut ledger = InMemoryNonceLedger::new();
    let key = keys.device_public();
    assert!(matches!(
        verify_attestation(&c.attestation, &key, &Nonce([5; 16]), &mut ledger),
        Err(AttestationError::SuppliedChallengeRefused)
    ));
    // A replay: its supplied challenge, its configuration and its digits only counted (no
    // voice templates) must each be accepted explicitly.
    let policy = VerifyPolicy {
        accept_supplied_challenge: true,
        accept_recording_replay: true,
        ..VerifyPolicy::default()
    };
    assert!(matches!(
        verify_attestation_with(&c.attestation, &key, &Nonce([5; 16]), &mut ledger, &policy),
        Err(AttestationError::CountOnlyRefused)
    ));
    let policy = VerifyPolicy {
        accept_count_only: true,
        ..policy
    };
    let a = verify_attestation_with(&c.attestation, &key, &Nonce([5; 16]), &mut ledger, &policy)
        .unwrap();
    assert_eq!(a.challenge_origin, ChallengeOrigin::Supplied);
    assert_eq!(a.profile, ConfigProfile::RecordingReplay);
    assert_eq!(a.liveness.digit_check, DigitCheck::CountOnly);
    assert_eq!((a.liveness.digits_heard, a.liveness.digits_matched), (1, 0));
    assert_eq!(a.challenge.digits, vec![2]);
    assert_eq!(a.certification_year, 2026);
    assert!(matches!(a.performed_by, PerformedBy::Proxy { .. }));
    let subject = SubjectReference::derive(
        &SubjectKey::new(&keys.subject).unwrap(),
        &IdNumber::parse(
            ID,
            lifecert_core::identity::person::Date::new(2026, 12, 2).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(a.subject, subject);
    assert!(a.liveness.face_continuity > 0.9);
    assert!(
        verify_attestation_with(&c.attestation, &key, &Nonce([5; 16]), &mut ledger, &policy)
            .is_err(),
        "a second use of the server nonce is refused"
    );
    // After the end, the session refuses input.
    assert!(matches!(
        s.tick(Duration::from_secs(4)),
        Err(Error::Session(SessionError::Finished))
    ));
}

#[test]
fn a_recording_cannot_answer_a_drawn_challenge() {
    let Some(data) = data("a_recording_cannot_answer_a_drawn_challenge") else {
        return;
    };
    let keys = Keystore::new();
    let sealed = enroll(&keys, clip(&data, "grid_pwij3p.mpg"));
    let genuine = clip(&data, "grid_id2_vcd_swwp2s.mpg");
    let frames: Vec<&RgbImage> = genuine.frames.iter().collect();
    for seed in [1, 2, 3] {
        let mut s = CertificationSession::new(
            engine(),
            request(
                TemplateInput::Device {
                    sealed: sealed.clone(),
                },
                ChallengeSource::Seeded(Box::new(SeededRandom::new(seed))),
            ),
            keys.certification(),
        )
        .unwrap();
        // A live prompt of three digits takes about 2.5 s to speak; the recording's speech
        // has begun by then.
        let (outcome, prompts) = certify(&mut s, &frames, &genuine.audio, Tts::Takes(2.5));
        eprintln!("seed {seed}: {prompts:?}");
        let CertificationOutcome::NotCertified(n) = outcome else {
            panic!("a recording answered a drawn challenge: {outcome:#?}");
        };
        assert_eq!(
            n.failure,
            CertificationFailure::Liveness {
                reason: FailReason::SpokeTooEarly
            }
        );
        assert!(n.retry_allowed);
    }
    // The same seed draws the same challenge (deterministic sessions in tests).
    let draw = |seed| {
        CertificationSession::new(
            engine(),
            request(
                TemplateInput::Device {
                    sealed: sealed.clone(),
                },
                ChallengeSource::Seeded(Box::new(SeededRandom::new(seed))),
            ),
            keys.certification(),
        )
        .unwrap()
        .challenge()
    };
    assert_eq!(draw(11), draw(11));
    assert_ne!(draw(11), draw(12));
}

#[test]
fn a_still_photo_with_a_real_voice_is_not_certified() {
    let Some(data) = data("a_still_photo_with_a_real_voice_is_not_certified") else {
        return;
    };
    let keys = Keystore::new();
    let sealed = enroll(&keys, clip(&data, "grid_pwij3p.mpg"));
    let genuine = clip(&data, "grid_id2_vcd_swwp2s.mpg");
    let still: Vec<&RgbImage> = vec![&genuine.frames[0]; genuine.frames.len()];
    let mut r = request(TemplateInput::Device { sealed }, supplied(&[2]));
    r.previous_failures = 2;
    let mut s = CertificationSession::new(engine(), r, keys.certification()).unwrap();
    let (outcome, _) = certify(&mut s, &still, &genuine.audio, Tts::EndsAt(0.35));
    let CertificationOutcome::NotCertified(n) = outcome else {
        panic!("a still photo was certified: {outcome:#?}");
    };
    assert_eq!(
        n.failure,
        CertificationFailure::Liveness {
            reason: FailReason::LipsNotMovingWithVoice
        }
    );
    // The third failure of the day sends the person to the office, kindly.
    assert!(!n.retry_allowed);
    assert_eq!(n.result_text.message_id, "result_failure_office");
}

#[test]
fn another_persons_clip_is_not_certified_against_the_template() {
    let Some(data) = data("another_persons_clip_is_not_certified_against_the_template") else {
        return;
    };
    let keys = Keystore::new();
    let sealed = enroll(&keys, clip(&data, "grid_pwij3p.mpg"));
    // Speakers A and C also say "two".
    for name in ["grid_bbaf2n.mpg", "grid_lbbc2a.mpg"] {
        let other = clip(&data, name);
        let frames: Vec<&RgbImage> = other.frames.iter().collect();
        let mut s = CertificationSession::new(
            engine(),
            request(
                TemplateInput::Device {
                    sealed: sealed.clone(),
                },
                supplied(&[2]),
            ),
            keys.certification(),
        )
        .unwrap();
        let (outcome, _) = certify(&mut s, &frames, &other.audio, Tts::EndsAt(0.35));
        let CertificationOutcome::NotCertified(n) = &outcome else {
            panic!("{name} certified against speaker B's template: {outcome:#?}");
        };
        eprintln!("{name}: {:?}, match {:?}", n.failure, n.face_match);
        if n.liveness.as_ref().is_some_and(|v| v.passed) {
            assert_eq!(n.failure, CertificationFailure::FaceNotConfirmed);
            assert!(n.face_match.is_some_and(|m| m.distance > m.threshold));
        }
    }
}

#[test]
fn an_issued_template_is_trusted_only_under_the_authority_key() {
    let Some(data) = data("an_issued_template_is_trusted_only_under_the_authority_key") else {
        return;
    };
    let keys = Keystore::new();
    let sealed = enroll(&keys, clip(&data, "grid_pwij3p.mpg"));
    // The authority opens the enrollment, signs it for the subject, and seals it for the
    // device.
    let subject = SubjectReference::derive(
        &SubjectKey::new(&keys.subject).unwrap(),
        &IdNumber::parse(
            ID,
            lifecert_core::identity::person::Date::new(2026, 12, 2).unwrap(),
        )
        .unwrap(),
    );
    let model = descriptor_model(engine().analyzer()).unwrap();
    let sealing = SealingKey::new(&keys.sealing).unwrap();
    let template = open_template(&sealed, &sealing, &subject, &model).unwrap();
    let (authority, _) = SigningKeyPair::generate().unwrap();
    let (impostor, _) = SigningKeyPair::generate().unwrap();
    let issued = IssuedTemplate::issue(&authority, &subject, &template, NOW).unwrap();
    let issued = seal_issued(&issued, &sealing).unwrap();
    let open = |authority_key| {
        CertificationSession::new(
            engine(),
            request(
                TemplateInput::Issued {
                    sealed: issued.clone(),
                    authority: authority_key,
                },
                supplied(&[2]),
            ),
            keys.certification(),
        )
    };
    open(authority.public_key()).unwrap();
    assert!(matches!(
        open(impostor.public_key()),
        Err(Error::Template(_))
    ));
    // Another subject (typed ID number) cannot open it either.
    let mut r = request(
        TemplateInput::Issued {
            sealed: issued.clone(),
            authority: authority.public_key(),
        },
        supplied(&[2]),
    );
    r.id_number = "110105194912310038".into();
    assert!(matches!(
        CertificationSession::new(engine(), r, keys.certification()),
        Err(Error::Template(_))
    ));
}

#[test]
fn voice_digits_read_at_enrollment_become_templates() {
    let Some(data) = eval_data("voice_digits_read_at_enrollment_become_templates") else {
        return;
    };
    let dir = data.join("audio/fsdd");
    let load = |d: u8, take: u32| -> Vec<f32> {
        let mut r = hound::WavReader::open(dir.join(format!("{d}_jackson_{take}.wav"))).unwrap();
        let rate = r.spec().sample_rate;
        let pcm: Vec<f32> = r
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32768.0)
            .collect();
        resample_linear_or_better(&pcm, rate, 16_000).unwrap()
    };
    let keys = Keystore::new();
    let mut s =
        EnrollmentSession::new(engine(), enrollment_request(true), keys.enrollment()).unwrap();
    s.give_consent(true).unwrap();
    s.continue_without_more_documents().unwrap();
    let photo = common::astronaut();
    let mut t = Duration::ZERO;
    let mut prompt = None;
    for _ in 0..40 {
        let u = s
            .push_frame(&Frame::from_rgb_image(&photo).unwrap(), t)
            .unwrap();
        if let Some(p) = u.speak.iter().find(|s| s.kind == UtteranceKind::Prompt) {
            prompt = Some(p.text.clone());
            break;
        }
        t += Duration::from_millis(40);
    }
    assert_eq!(s.phase(), Phase::VoiceDigits);
    assert_eq!(
        prompt.as_deref(),
        Some("请一个一个慢慢读出：0 1 2 3 4 5 6 7 8 9")
    );
    s.prompt_started(t).unwrap();
    t += Duration::from_secs(3);
    s.prompt_finished(t).unwrap();
    // Jackson reads 0–9 with 0.4 s pauses.
    let mut audio = vec![0f32; 8000];
    for d in 0..10 {
        audio.extend(load(d, 0));
        audio.extend(vec![0f32; 6400]);
    }
    audio.extend(vec![0f32; 32_000]);
    let pcm: Vec<i16> = audio.iter().map(|&x| (x * 32767.0) as i16).collect();
    for (k, c) in pcm.chunks(512).enumerate() {
        s.push_audio(c, t + Duration::from_millis(32 * k as u64))
            .unwrap();
        if s.outcome().is_some() {
            break;
        }
    }
    let Some(EnrollmentOutcome::Enrolled(e)) = s.outcome() else {
        panic!("voice enrollment did not finish: {:?}", s.outcome());
    };
    let v = e.package.voice;
    assert!(v.speaker && v.digit_templates, "{v:?}");
    assert!(v.speech_ms > 2000, "{v:?}");
    // Staff hear the reading with the face: a WAV of the whole reading (≥ 10 digits' time).
    let wav = e.package.voice_recording_wav.as_ref().unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert!(wav.len() > 44 + 2 * 16_000 * 5, "{} bytes", wav.len());
    assert_eq!(
        e.package.review_deadline_unix - e.package.submitted_unix,
        7 * 24 * 3600
    );
    let sealed = e.sealed_voice_profile.as_ref().unwrap();
    let subject = SubjectReference::from_hex(&e.subject).unwrap();
    let profile = lifecert_core::matching::sealed_voice::open_voice_profile(
        sealed,
        &SealingKey::new(&keys.sealing).unwrap(),
        &subject,
    )
    .unwrap();
    let voice = profile.digits.expect("digit templates");
    assert!(voice.is_complete());
    // The voice print recognises the same speaker's other takes (a 3-digit answer), not
    // another FSDD speaker's.
    let reference = &profile.speaker.expect("a voice print").reference;
    let answer = |speaker: &str| -> Vec<f32> {
        let mut a = vec![0f32; 4800];
        for d in [2u8, 5, 8] {
            let mut r = hound::WavReader::open(dir.join(format!("{d}_{speaker}_7.wav"))).unwrap();
            let rate = r.spec().sample_rate;
            let pcm: Vec<f32> = r
                .samples::<i16>()
                .map(|s| f32::from(s.unwrap()) / 32768.0)
                .collect();
            a.extend(resample_linear_or_better(&pcm, rate, 16_000).unwrap());
            a.extend(vec![0f32; 4800]);
        }
        a
    };
    let engine = engine();
    let encoder = engine.speaker().unwrap();
    let sim = |a: &[f32]| {
        let segments = lifecert_core::api::voice_enrollment::speech_of(&engine, a).unwrap();
        encoder
            .embed_segments(a, &segments)
            .unwrap()
            .similarity(reference)
    };
    let (own, other) = (sim(&answer("jackson")), sim(&answer("theo")));
    eprintln!("voice print: own answer {own:.3}, another speaker {other:.3}");
    assert!(encoder.config().accepts(own) && !encoder.config().accepts(other));
    // The templates recognise the same speaker's other takes of each digit.
    let verifier = TemplateDigitVerifier::new(&voice, VerifyConfig::default()).unwrap();
    let mfcc = lifecert_core::audio::mfcc::Mfcc::new(Default::default()).unwrap();
    let mut right = 0;
    for d in 0..10u8 {
        let mut a = vec![0f32; 4800];
        a.extend(load(d, 5));
        a.extend(vec![0f32; 4800]);
        let f = mfcc
            .compute_segments(&a, &[(0.25, a.len() as f32 / 16_000.0 - 0.25)])
            .unwrap();
        let costs = verifier.digit_costs(&f[0]).unwrap();
        let best = (0..10)
            .min_by(|&a, &b| costs[a].total_cmp(&costs[b]))
            .unwrap();
        right += usize::from(best == usize::from(d));
    }
    eprintln!("voice templates from one reading: {right}/10 other takes closest to their digit");
    assert!(right >= 8, "{right}/10");
}

#[test]
fn the_session_api_refuses_bad_calls_and_inputs() {
    let keys = Keystore::new();
    // A mistyped ID number is refused before anything starts.
    let mut r = enrollment_request(false);
    r.id_number = "110105194912310021".into();
    assert!(matches!(
        EnrollmentSession::new(engine(), r, keys.enrollment()),
        Err(Error::Session(SessionError::Subject(_)))
    ));
    let mut s =
        EnrollmentSession::new(engine(), enrollment_request(false), keys.enrollment()).unwrap();
    let photo = common::astronaut();
    // Frames before consent, consent twice.
    assert!(matches!(
        s.push_frame(&Frame::from_rgb_image(&photo).unwrap(), Duration::ZERO),
        Err(Error::Session(SessionError::WrongPhase { .. }))
    ));
    s.give_consent(true).unwrap();
    assert!(matches!(
        s.give_consent(true),
        Err(Error::Session(SessionError::WrongPhase { .. }))
    ));
    // An ID photo that is not an image.
    assert!(matches!(
        s.add_id_document(
            lifecert_core::identity::id_document::DocumentSide::Front,
            b"not a photo"
        ),
        Err(Error::IdDocument(_))
    ));
    s.continue_without_more_documents().unwrap();
    // Empty and oversized audio chunks.
    assert!(matches!(
        s.push_audio(&[], Duration::ZERO),
        Err(Error::Session(SessionError::AudioChunk { .. }))
    ));
    assert!(matches!(
        s.push_audio(&vec![0; 170_000], Duration::ZERO),
        Err(Error::Session(SessionError::AudioChunk { .. }))
    ));
    // Declining ends the enrollment politely.
    let mut d =
        EnrollmentSession::new(engine(), enrollment_request(false), keys.enrollment()).unwrap();
    let u = d.give_consent(false).unwrap();
    assert!(matches!(
        u.outcome,
        Some(EnrollmentOutcome::NotEnrolled(ref n)) if n.failure.id() == "consent_declined"
    ));
    // A proxy relation typed as control characters is refused before anything starts.
    let mut r = request(
        TemplateInput::Device {
            sealed: vec![0u8; 64],
        },
        supplied(&[2]),
    );
    r.performed_by = PerformedBy::Proxy {
        relation: ProxyRelation::Other("\u{7}".into()),
    };
    assert!(matches!(
        CertificationSession::new(engine(), r, keys.certification()),
        Err(Error::Attestation(_))
    ));
    // A tampered or foreign template.
    let mut sealed = vec![0u8; 64];
    sealed[..4].copy_from_slice(b"LFT1");
    assert!(matches!(
        CertificationSession::new(
            engine(),
            request(TemplateInput::Device { sealed }, supplied(&[2])),
            keys.certification()
        ),
        Err(Error::Template(_))
    ));
}
