//! Whole certification sessions with the production configuration (`Config::default()`, issue
//! 12 item 2), driven like a phone shell ([`common::shell`]) over the GRID clips of a subject
//! whose digit words cover 0–9, framed so the face sits in the guide oval
//! ([`common::framing`]) and enrolled by a production enrollment session
//! ([`common::subject`]): the positioning gate and its timeout, three certification sessions
//! with a fresh challenge and nonce each and the office text after the last, a retiree
//! certifying themself with voice and digit templates whose attestation verifies under the
//! default [`VerifyPolicy`] (challenges drawn by the operating system's generator), the
//! result and SMS texts of both retiree categories, and the passive anti-spoofing models
//! loaded at run time (`../shared/models/minifasnet`, `LIFECERT_PAD_MODELS` overrides).
//!
//! Nothing is hard-coded: subjects, clips and words are discovered; a sealed data set laid out
//! like `../shared/data` runs through the same code.

mod common;

use common::framing::FramedFootage;
use common::grid::{self, AnalysedClip, FrameRef, SpliceConfig, Word};
use common::shell::{self, Camera, Piece, Player, Scene};
use common::subject::{self, rest_scene, Enrolled, Subject};
use common::{analyzer, eval_data, media};
use lifecert_core::api::attestation::{
    verify_attestation, ChallengeOrigin, ConfigProfile, InMemoryNonceLedger, PerformedBy,
    ProxyRelation,
};
use lifecert_core::api::certification::{
    CertificationFailure, CertificationOutcome, CertificationRequest, CertificationSession,
    TemplateInput,
};
use lifecert_core::api::session::UtteranceKind;
use lifecert_core::face::analyzer::FrameAnalysis;
use lifecert_core::liveness::challenge::Nonce;
use lifecert_core::liveness::sequencer::{ChallengeEvidence, DigitCheck, FailReason, VoiceMatch};
use lifecert_core::text::result_texts::{
    RetireeCategory, RESULT_FAILURE_OFFICE, RESULT_FAILURE_RETRY,
};
use lifecert_core::{Config, Engine};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Longest simulated session (s).
const LIMIT_S: f64 = 240.0;
/// Prefix of the frame references the [`OffCentre`] camera shows out of the guide oval.
const OFF: &str = "off-centre:";

/// The subject, his footage and his enrollment, once per test binary.
struct Fixture {
    footage: FramedFootage,
    subject: Subject,
    enrolled: Enrolled,
}

fn fixture(test: &str) -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    let dir = eval_data(test)?;
    if !media::media_tools(test) {
        return None;
    }
    FIXTURE
        .get_or_init(|| {
            let (footage, located) = subject::framed_footage(&dir);
            let mut subjects = subject::subjects(&footage, &located);
            assert!(
                !subjects.is_empty(),
                "no speaker with every digit 0-9 among the GRID clips"
            );
            let subject = subjects.remove(0);
            let enrolled = subject::enroll(common::production_engine(), &footage, &subject, 0);
            Some(Fixture {
                footage,
                subject,
                enrolled,
            })
        })
        .as_ref()
}

/// The framed footage, except that references to a clip named `off-centre:<clip>` show that
/// clip's frame shifted sideways by a third of the canvas: the face half out of the guide
/// oval, as a person holding the phone off to one side (analysed once per frame).
struct OffCentre<'a> {
    footage: &'a FramedFootage,
    cache: RefCell<HashMap<FrameRef, FrameAnalysis>>,
}

impl Camera for OffCentre<'_> {
    fn frame(&self, r: &FrameRef) -> FrameAnalysis {
        let Some(clip) = r.clip.strip_prefix(OFF) else {
            return self.footage.frame(r);
        };
        if let Some(a) = self.cache.borrow().get(r) {
            return a.clone();
        }
        let c = self.footage.clip(clip);
        let mut placement = c.placement;
        placement.dx += i64::from(self.footage.framing.width) / 3;
        let image = self.footage.framing.compose(&c.frames[r.index], &placement);
        let faces = analyzer().analyze_image(&image).unwrap();
        let a = FrameAnalysis { image, faces };
        self.cache.borrow_mut().insert(r.clone(), a.clone());
        a
    }
}

/// The subject answering with his own digit words (video and audio spliced together), or
/// saying nothing.
struct Person<'a> {
    f: &'a Fixture,
    silent: bool,
    answers: usize,
}

impl Player for Person<'_> {
    fn reaction_s(&mut self) -> f64 {
        0.6
    }
    fn answer(&mut self, digits: &[u8]) -> Piece {
        self.answers += 1;
        if self.silent {
            return Piece::default();
        }
        let parts: Vec<(&AnalysedClip, &Word)> = digits
            .iter()
            .map(|d| {
                let t = self.f.subject.answer_take(*d);
                (&self.f.footage.clip(&t.clip).analysed, &t.word)
            })
            .collect();
        let a = grid::splice(
            &parts,
            &SpliceConfig {
                lead_in_s: 0.0,
                tail_s: 0.0,
                pauses_s: vec![0.4, 0.35, 0.45],
                ..SpliceConfig::default()
            },
        );
        Piece {
            frames: a.frames,
            audio: a.audio,
        }
    }
}

fn nonce(i: u8) -> Nonce {
    Nonce([0x40 + i; 16])
}

fn request(
    f: &Fixture,
    performed_by: PerformedBy,
    category: RetireeCategory,
    previous_failures: u32,
    server_nonce: Nonce,
) -> CertificationRequest {
    CertificationRequest {
        performed_by,
        voice_templates: Some(f.enrolled.voice.clone()),
        server_nonce,
        retiree_category: category,
        previous_failures,
        ..subject::certification_request(TemplateInput::Device {
            sealed: f.enrolled.template.clone(),
        })
    }
}

/// Runs one production session of `f`'s subject in front of `scene`.
fn run(
    f: &Fixture,
    engine: Arc<Engine>,
    req: CertificationRequest,
    scene: &Scene,
    silent: bool,
) -> shell::Run<CertificationOutcome> {
    let mut session =
        CertificationSession::new(engine, req, f.enrolled.keys.certification()).unwrap();
    let camera = OffCentre {
        footage: &f.footage,
        cache: RefCell::new(HashMap::new()),
    };
    shell::run(
        &mut session,
        &camera,
        scene,
        subject::fps(&f.footage),
        &mut Person {
            f,
            silent,
            answers: 0,
        },
        LIMIT_S,
    )
}

fn resting(f: &Fixture) -> Scene {
    rest_scene(&f.footage, &f.subject.rest_clip)
}

/// `seconds` of the resting face off-centre, then the resting face in the oval for a minute.
fn off_then_on(f: &Fixture, seconds: f64) -> Scene {
    let rest = resting(f);
    let fps = subject::fps(&f.footage);
    let spf = (shell::SR as f64 / fps).round() as usize;
    let n_off = (seconds * fps).round() as usize;
    let mut frames: Vec<FrameRef> = (0..n_off)
        .map(|k| {
            let r = &rest.frames[k % rest.frames.len()];
            FrameRef {
                clip: format!("{OFF}{}", r.clip),
                index: r.index,
            }
        })
        .collect();
    let n_on = (60.0 * fps) as usize;
    frames.extend((0..n_on).map(|k| rest.frames[k % rest.frames.len()].clone()));
    let audio = (0..frames.len() * spf)
        .map(|i| rest.audio[i % rest.audio.len()])
        .collect();
    Scene { frames, audio }
}

fn certified(
    run: &shell::Run<CertificationOutcome>,
) -> &lifecert_core::api::certification::Certified {
    match run.outcome.as_ref() {
        Some(CertificationOutcome::Certified(c)) => c,
        other => panic!("not certified: {other:?}"),
    }
}

#[test]
fn retiree_certifies_themself_and_the_authority_accepts_it_for_both_categories() {
    let Some(f) =
        fixture("retiree_certifies_themself_and_the_authority_accepts_it_for_both_categories")
    else {
        return;
    };
    let mut texts = Vec::new();
    for (i, category) in RetireeCategory::ALL.into_iter().enumerate() {
        let server_nonce = nonce(i as u8);
        let req = request(f, PerformedBy::Subject, category, 0, server_nonce);
        let r = run(f, common::production_engine(), req, &resting(f), false);
        let c = certified(&r);
        // The authority's default policy: drawn challenge, production profile, templates.
        let a = verify_attestation(
            &c.attestation,
            &f.enrolled.keys.device_public(),
            &server_nonce,
            &mut InMemoryNonceLedger::new(),
        )
        .unwrap_or_else(|e| panic!("{category:?}: the default policy refused: {e}"));
        assert_eq!(a.performed_by, PerformedBy::Subject);
        assert_eq!(a.profile, ConfigProfile::Production);
        assert_eq!(a.challenge_origin, ChallengeOrigin::Drawn);
        assert_eq!(a.liveness.digit_check, DigitCheck::VoiceTemplates);
        assert_eq!(a.liveness.digits_matched, a.challenge.digits.len() as u32);
        assert!(
            matches!(a.liveness.voice, VoiceMatch::Checked { similarity, threshold } if similarity >= threshold),
            "{:?}",
            a.liveness.voice
        );
        assert!(a.face_match.accepted);
        // The digits the phone showed are the ones signed.
        assert_eq!(r.prompts.last().unwrap().digits, a.challenge.digits);
        // The result screen and the SMS carry the year; the SMS is sent by the shell's
        // authority, the result is also said.
        assert!(
            c.result_text.text.contains("2026"),
            "{}",
            c.result_text.text
        );
        assert!(c.sms_text.text.contains("2026"), "{}", c.sms_text.text);
        assert!(r
            .said
            .iter()
            .any(|u| u.kind == UtteranceKind::Result && u.text == c.result_text.text));
        texts.push((c.result_text.clone(), c.sms_text.clone()));
    }
    let (p, n) = (&texts[0], &texts[1]);
    assert_ne!(p.0.message_id, n.0.message_id, "result text by category");
    assert_ne!(p.1.message_id, n.1.message_id, "SMS by category");
    assert_ne!(p.1.text, n.1.text);
}

#[test]
fn the_challenge_waits_for_the_face_in_the_oval() {
    let Some(f) = fixture("the_challenge_waits_for_the_face_in_the_oval") else {
        return;
    };
    // Off-centre for 4 s (shorter than the positioning timeout), then in the oval.
    let off_s = 4.0;
    assert!(
        Config::default().session.positioning_timeout.as_secs_f64() > off_s + 2.0,
        "the positioning timeout leaves room for this test"
    );
    let req = request(
        f,
        PerformedBy::Proxy {
            relation: ProxyRelation::Child,
        },
        RetireeCategory::Provincial,
        0,
        nonce(10),
    );
    let r = run(
        f,
        common::production_engine(),
        req,
        &off_then_on(f, off_s),
        false,
    );
    let first = r
        .first_prompt_s
        .expect("a prompt once the face is in the oval");
    assert!(
        first >= off_s,
        "the challenge started at {first:.2} s, while the face was out of the oval (until {off_s} s)"
    );
    // The person was told how to move while out of the oval.
    assert!(
        r.said.iter().any(|u| u.kind == UtteranceKind::Instruction),
        "no positioning instruction: {:?}",
        r.said
    );
    certified(&r);
}

#[test]
fn a_face_never_in_the_oval_times_out_without_a_challenge() {
    let Some(f) = fixture("a_face_never_in_the_oval_times_out_without_a_challenge") else {
        return;
    };
    let timeout = Config::default().session.positioning_timeout.as_secs_f64();
    let scene = off_then_on(f, timeout + 30.0);
    let req = request(
        f,
        PerformedBy::Proxy {
            relation: ProxyRelation::Spouse,
        },
        RetireeCategory::Provincial,
        0,
        nonce(11),
    );
    let r = run(f, common::production_engine(), req, &scene, false);
    assert!(r.prompts.is_empty(), "prompted {:?}", r.prompts);
    match r.outcome {
        Some(CertificationOutcome::NotCertified(n)) => {
            assert_eq!(n.failure, CertificationFailure::PositioningTimeout);
            assert!(n.liveness.is_none() && n.face_match.is_none());
            assert!(n.retry_allowed);
            assert!(
                (timeout..timeout + 2.0).contains(&r.duration_s),
                "ended at {:.1} s (timeout {timeout} s)",
                r.duration_s
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn three_sessions_each_with_fresh_challenges_then_the_office() {
    let Some(f) = fixture("three_sessions_each_with_fresh_challenges_then_the_office") else {
        return;
    };
    let max = Config::default().session.max_certification_attempts;
    let mut challenges: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut nonces = BTreeSet::new();
    let mut prompts = 0;
    for i in 0..max {
        let req = request(
            f,
            PerformedBy::Subject,
            RetireeCategory::NonProvincial,
            i,
            nonce(20 + i as u8),
        );
        // Nothing is answered: every liveness attempt of every session fails.
        let r = run(f, common::production_engine(), req, &resting(f), true);
        let Some(CertificationOutcome::NotCertified(n)) = r.outcome else {
            panic!("session {i}: {:?}", r.outcome);
        };
        assert_eq!(
            n.failure,
            CertificationFailure::Liveness {
                reason: FailReason::NoSpeech
            }
        );
        let last = i + 1 == max;
        assert_eq!(n.retry_allowed, !last, "session {i}");
        let expected = if last {
            RESULT_FAILURE_OFFICE
        } else {
            RESULT_FAILURE_RETRY
        };
        assert_eq!(n.result_text.message_id, expected, "session {i}");
        assert!(n.result_text.text.contains("2026"));
        // Every liveness attempt had its own challenge and nonce, shown as prompted.
        let v = n.liveness.expect("the liveness verdict");
        let mut attempts: Vec<ChallengeEvidence> = v
            .evidence
            .previous_attempts
            .iter()
            .map(|a| a.challenge.clone())
            .collect();
        attempts.push(v.evidence.challenge.clone());
        assert_eq!(attempts.len(), r.prompts.len());
        for (a, p) in attempts.iter().zip(&r.prompts) {
            let ChallengeEvidence::Digits { nonce, digits } = a else {
                panic!("{a:?}");
            };
            assert_eq!(digits, &p.digits);
            assert!(nonces.insert(nonce.0), "a nonce came twice");
            challenges.insert(digits.clone());
            prompts += 1;
        }
    }
    // Digits may repeat by chance (3 of 10 digits), but not every time.
    assert!(
        challenges.len() * 2 > prompts,
        "{} distinct challenges in {prompts} prompts",
        challenges.len()
    );
    assert!(
        max >= 3,
        "the production configuration gives three sessions"
    );
}

/// The passive anti-spoofing models: `LIFECERT_PAD_MODELS`, else `models/minifasnet` beside
/// the evaluation data (`../shared/models/minifasnet`); loaded at run time, never committed.
fn pad_models(data: &std::path::Path) -> Option<PathBuf> {
    let dir = std::env::var_os("LIFECERT_PAD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| data.join("../models/minifasnet"));
    if dir
        .join(lifecert_core::face::anti_spoofing::MINIFASNET_V2_FILE)
        .is_file()
    {
        Some(dir)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{}: the anti-spoofing models are missing", dir.display());
    } else {
        eprintln!(
            "\n!!!!! SKIPPED: no anti-spoofing models at {} (set LIFECERT_PAD_MODELS) !!!!!\n",
            dir.display()
        );
        None
    }
}

/// With the MiniFASNet models loaded into the production engine, the genuine session is scored
/// and certified, and the same engine's models score the data's attack photos (manifest notes
/// "ATTACK", under `pad/`) below the session's minimum — the score that refuses a session as
/// `not_live`. (A whole session that passes the liveness step with a printed or replayed face
/// cannot be built from the shared data: a print does not answer digits.)
#[test]
fn anti_spoofing_models_loaded_at_run_time_pass_the_genuine_session_and_refuse_attack_photos() {
    let test =
        "anti_spoofing_models_loaded_at_run_time_pass_the_genuine_session_and_refuse_attack_photos";
    let Some(f) = fixture(test) else {
        return;
    };
    let data = eval_data(test).unwrap();
    let Some(dir) = pad_models(&data) else {
        return;
    };
    let engine = Arc::new(
        Engine::new(Config::default())
            .unwrap()
            .with_passive_anti_spoof(&dir)
            .unwrap(),
    );
    let min = engine.config().session.min_pad_score;
    let req = request(
        f,
        PerformedBy::Subject,
        RetireeCategory::Provincial,
        0,
        nonce(30),
    );
    let r = run(f, engine.clone(), req, &resting(f), false);
    let c = certified(&r);
    let pad = c
        .liveness
        .evidence
        .pad_score
        .expect("the session scored the face");
    eprintln!("genuine framed GRID session with the PAD models: score {pad:.3} (min {min})");
    assert!(pad >= min);
    let rows = common::grid::manifest(&data);
    let attacks: Vec<&String> = rows
        .iter()
        .filter(|(path, row)| path.starts_with("pad/") && row.notes.contains("ATTACK"))
        .map(|(path, _)| path)
        .collect();
    assert!(
        !attacks.is_empty(),
        "no attack photo under pad/ in the manifest"
    );
    let model = engine.passive_anti_spoof().unwrap();
    for path in attacks {
        let image = lifecert_core::image::decode::load_image(&data.join(path)).unwrap();
        let faces = analyzer().analyze_image(&image).unwrap();
        let face = faces
            .iter()
            .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()))
            .unwrap_or_else(|| panic!("{path}: no face"));
        let score = model.score(&image, &face.detection.bbox).unwrap();
        eprintln!("{path}: real {:.3}", score.real);
        assert!(score.real < min, "{path}: scored {} ≥ {min}", score.real);
    }
}
