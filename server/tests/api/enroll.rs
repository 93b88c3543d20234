//! The staff review queue with a real enrollment: the core's enrollment session run on the
//! repository's sample photo (as `lifecert enroll --photos` does), its template sealed
//! under the service's transport key, submitted with its review package; staff approve
//! (the issued template verifies under the authority's public key for the subject and the
//! descriptor model), refuse with a reason the retiree reads, or miss the deadline.

use crate::support::{self, device, Options, TestServer};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lifecert_cli::media::VideoFrame;
use lifecert_cli::replay::{replay, PromptTiming};
use lifecert_core::api::enrollment::{
    Enrolled, EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest, EnrollmentSession,
};
use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
use lifecert_core::identity::person::{SubjectKey, SubjectReference};
use lifecert_core::matching::sealed_template::open_verified_issued;
use lifecert_core::model::assets::{ModelInfo, DESCRIPTOR_FILE};
use lifecert_core::text::messages::Language;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One enrollment for all the tests here, with the key folder of their services.
struct Fixture {
    keys_dir: PathBuf,
    transport: Vec<u8>,
    subject: SubjectReference,
    enrolled: Box<Enrolled>,
    _dir: tempfile::TempDir,
}

fn transport_key(keys_dir: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(keys_dir.join(lifecert_authority::keys::TRANSPORT_KEY_FILE))
        .unwrap();
    hex::decode(text.trim()).unwrap()
}

fn enroll(sealing: SealingKey, subject_key: SubjectKey) -> Box<Enrolled> {
    let engine = Arc::new(
        lifecert_core::Engine::with_models(
            lifecert_core::Config::for_recordings(),
            &lifecert_core::ModelSource::Embedded,
        )
        .unwrap(),
    );
    let mut session = EnrollmentSession::new(
        engine.clone(),
        EnrollmentRequest {
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
            now_unix: 1_770_000_000,
            language: Language::ZhHans,
            actions: Vec::new(),
            voice_digits: false,
            rng: None,
        },
        EnrollmentKeys {
            subject: subject_key,
            sealing,
        },
    )
    .unwrap();
    session.give_consent(true).unwrap();
    session.continue_without_more_documents().unwrap();
    let image =
        lifecert_core::image::decode::load_image(&support::repo().join("samples/astronaut.png"))
            .unwrap();
    let frames: Vec<_> = (0..5)
        .map(|index| {
            Ok(VideoFrame {
                index,
                timestamp: Duration::from_millis(40 * index as u64),
                image: image.clone(),
            })
        })
        .collect();
    let (outcome, _) = replay(
        &mut session,
        engine.analyzer(),
        frames.into_iter(),
        &[],
        PromptTiming::Spoken,
        None,
        &mut |_| {},
    )
    .unwrap();
    match outcome {
        EnrollmentOutcome::Enrolled(e) => e,
        EnrollmentOutcome::NotEnrolled(n) => panic!("the sample photo did not enroll: {n:?}"),
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        lifecert_authority::keys::generate(&keys_dir).unwrap();
        let transport = transport_key(&keys_dir);
        let subject_bytes = lifecert_core::crypto::sealing::random_bytes::<32>().unwrap();
        let enrolled = enroll(
            SealingKey::new(&transport).unwrap(),
            SubjectKey::new(&subject_bytes).unwrap(),
        );
        let subject = SubjectReference::from_hex(&enrolled.subject).unwrap();
        Fixture {
            keys_dir,
            transport,
            subject,
            enrolled,
            _dir: dir,
        }
    })
}

async fn setup() -> (&'static Fixture, TestServer, SigningKeyPair) {
    let f = tokio::task::spawn_blocking(fixture).await.unwrap();
    let s = support::start(Options {
        keys_dir: Some(f.keys_dir.clone()),
        ..Options::default()
    })
    .await;
    let device = device();
    s.register(&f.subject, &device).await;
    (f, s, device)
}

fn submission(f: &Fixture, device: &SigningKeyPair, sealed: &[u8]) -> Value {
    json!({
        "subject_ref": f.subject.to_hex(),
        "device_key": device.public_key().to_hex(),
        "sealed_template": BASE64.encode(sealed),
        "package": f.enrolled.package,
    })
}

fn descriptor(s: &TestServer) -> ModelInfo {
    s.authority.state.policy.allowed_versions(DESCRIPTOR_FILE)[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_enrollment_issues_a_template_signed_by_the_authority() {
    let (f, s, device) = setup().await;
    let submitted = s
        .post(
            "/v1/enrollments",
            &submission(f, &device, &f.enrolled.sealed_template),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{submitted:?}");
    let id = submitted.body["enrollment_id"].as_i64().unwrap();
    // A second package while one waits: refused.
    let twice = s
        .post(
            "/v1/enrollments",
            &submission(f, &device, &f.enrolled.sealed_template),
        )
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "review_pending")
    );
    // The deadline: 7 days after submission.
    let (days,): (f64,) = sqlx::query_as(
        "SELECT (extract(epoch FROM deadline - submitted_at) / 86400)::float8 FROM enrollments WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert_eq!(days, 7.0);
    // Nothing biometric in clear: the package is sealed, the template is the phone's seal.
    let (package_sealed,): (Vec<u8>,) =
        sqlx::query_as("SELECT package_sealed FROM enrollments WHERE id = $1")
            .bind(id)
            .fetch_one(&s.pool)
            .await
            .unwrap();
    let jpeg = &f.enrolled.package.frames[0].jpeg;
    assert!(!package_sealed.windows(64).any(|w| w == &jpeg[..64]));
    // The queue.
    let queue = s.get_staff("/v1/reviews?status=pending").await;
    assert_eq!(queue.status, StatusCode::OK);
    let items = queue.body["reviews"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["enrollment_id"], id);
    assert_eq!(
        items[0]["summary"]["frames"],
        f.enrolled.package.frames.len()
    );
    assert!(items[0]["summary"]["liveness_step"].is_null());
    // The package in full for the reviewer.
    let detail = s.get_staff(&format!("/v1/reviews/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    let package: lifecert_core::api::enrollment::EnrollmentPackage =
        serde_json::from_value(detail.body["package"].clone()).unwrap();
    assert!(
        package == f.enrolled.package,
        "the reviewer sees the package the phone sent"
    );
    // Approved.
    let decided = s
        .post_staff(
            &format!("/v1/reviews/{id}"),
            &json!({"decision": "approve", "reviewer": "staff-0042"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{decided:?}");
    assert_eq!(decided.body["status"], "approved");
    let again = s
        .post_staff(
            &format!("/v1/reviews/{id}"),
            &json!({"decision": "refuse", "reviewer": "staff-0043", "reason": "face_not_clear"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_decided")
    );
    // The phone fetches the issued template: it verifies under the authority's public key,
    // for this subject and the descriptor model, and for nobody else.
    let status = s.get(&format!("/v1/enrollments/{id}")).await;
    assert_eq!(status.body["status"], "approved");
    let issued = BASE64
        .decode(status.body["issued_template"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        status.body["issued_template"],
        decided.body["issued_template"]
    );
    let transport = SealingKey::new(&f.transport).unwrap();
    let authority = s.authority.state.keys.authority_public_key();
    let model = descriptor(&s);
    let template = open_verified_issued(&issued, &transport, &f.subject, &model, &authority)
        .expect("the issued template verifies");
    assert_eq!(template.model(), &model);
    let impostor = SigningKeyPair::generate().unwrap().0.public_key();
    assert!(open_verified_issued(&issued, &transport, &f.subject, &model, &impostor).is_err());
    let other = support::subject();
    assert!(open_verified_issued(&issued, &transport, &other, &model, &authority).is_err());
    assert!(s.get_staff("/v1/reviews").await.body["reviews"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_tells_the_retiree_why_and_a_late_review_expires() {
    let (f, s, device) = setup().await;
    let body = submission(f, &device, &f.enrolled.sealed_template);
    let id = s.post("/v1/enrollments", &body).await.body["enrollment_id"]
        .as_i64()
        .unwrap();
    let bad = s
        .post_staff(
            &format!("/v1/reviews/{id}"),
            &json!({"decision": "refuse", "reviewer": "staff-7", "reason": "other"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_decision")
    );
    let refused = s
        .post_staff(
            &format!("/v1/reviews/{id}"),
            &json!({
                "decision": "refuse",
                "reviewer": "staff-7",
                "reason": "face_not_clear",
                "message": "照片太暗，请在光线充足处重新采集",
            }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    let told = s.get(&format!("/v1/enrollments/{id}")).await;
    assert_eq!(told.body["status"], "refused");
    assert_eq!(told.body["refusal"]["reason"], "face_not_clear");
    assert_eq!(
        told.body["refusal"]["message"],
        "照片太暗，请在光线充足处重新采集"
    );
    // And the core's own sentence for the reason, in every language, saying what to do next.
    let text = &told.body["refusal"]["retiree_text"];
    assert!(text["zh-Hans"].as_str().unwrap().contains("光线"), "{text}");
    assert!(
        text["en"].as_str().unwrap().contains("enrol again"),
        "{text}"
    );
    assert!(
        text["zh-Hant"].as_str().is_some_and(|t| !t.is_empty()),
        "{text}"
    );
    assert!(told.body["issued_template"].is_null());

    // A new submission, left pending past its deadline.
    let id = s.post("/v1/enrollments", &body).await.body["enrollment_id"]
        .as_i64()
        .unwrap();
    sqlx::query(
        "UPDATE enrollments SET submitted_at = now() - interval '8 days', \
                deadline = now() - interval '1 day' WHERE id = $1",
    )
    .bind(id)
    .execute(&s.pool)
    .await
    .unwrap();
    assert!(s.get_staff("/v1/reviews").await.body["reviews"]
        .as_array()
        .unwrap()
        .is_empty());
    let expired = s.get_staff("/v1/reviews?status=expired").await;
    assert_eq!(expired.body["reviews"][0]["enrollment_id"], id);
    let late = s
        .post_staff(
            &format!("/v1/reviews/{id}"),
            &json!({"decision": "approve", "reviewer": "staff-7"}),
        )
        .await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "review_deadline_passed")
    );
    let status = s.get(&format!("/v1/enrollments/{id}")).await;
    assert_eq!(status.body["status"], "expired");
    assert!(status.body["issued_template"].is_null());
    let (stored,): (String,) = sqlx::query_as("SELECT status FROM enrollments WHERE id = $1")
        .bind(id)
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(stored, "expired");
    // The retiree can enroll again.
    let again = s.post("/v1/enrollments", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_does_not_open_is_refused_and_nothing_written() {
    let (f, s, device) = setup().await;
    let before = s.counts().await;
    let mut flipped = f.enrolled.sealed_template.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let other_key = SealingKey::generate().unwrap();
    let other_subject = support::subject();
    let cases = [
        ("changed byte", submission(f, &device, &flipped)),
        ("not base64", {
            let mut b = submission(f, &device, &f.enrolled.sealed_template);
            b["sealed_template"] = json!("%%%");
            b
        }),
        ("another person's", {
            let mut b = submission(f, &device, &f.enrolled.sealed_template);
            b["subject_ref"] = json!(other_subject.to_hex());
            b
        }),
    ];
    for (what, body) in cases {
        let r = s.post("/v1/enrollments", &body).await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::NOT_FOUND,
            "{what}: {r:?}"
        );
    }
    // Sealed under a key other than the transport key.
    let template = lifecert_core::matching::sealed_template::open_template(
        &f.enrolled.sealed_template,
        &SealingKey::new(&f.transport).unwrap(),
        &f.subject,
        &descriptor(&s),
    )
    .unwrap();
    let resealed =
        lifecert_core::matching::sealed_template::seal_template(&template, &other_key, &f.subject)
            .unwrap();
    let r = s
        .post("/v1/enrollments", &submission(f, &device, &resealed))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "template_unreadable")
    );
    assert_eq!(s.counts().await, before);
}
